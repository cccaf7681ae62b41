/*
 * profile - what spoold knows about each provider: host, port, TLS mode
 * and sending limits set below the published ones (notes/providers.md).
 * A static table; [relay] profile = NAME selects one, and every value can
 * be overridden in the configuration.
 */
#ifndef SPOOLD_PROFILE_H
#define SPOOLD_PROFILE_H

#include "conf.h"

struct profile {
	const char *name;
	const char *host;
	int port;
	enum tls_mode tls;
	int per_minute, per_hour, per_day, connections, per_connection, min_gap_ms;
	const char *note; /* what the limits are based on */
};

/* profile_find - the profile called name, or NULL */
const struct profile *profile_find(const char *name);
/* profile_names - "gmail, workspace, ..." for error messages */
const char *profile_names(void);

#endif
