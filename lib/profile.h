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

/* What a provider's IMAP side looks like, for [verify] and [canary]. */
struct profile_imap {
	const char *name;
	const char *host;        /* implicit TLS on 993 */
	const char *sent_folder; /* where SMTP submissions are filed */
	int files_sent;          /* 1: every SMTP submission appears in sent_folder */
};

/* profile_find - the profile called name, or NULL */
const struct profile *profile_find(const char *name);
/* profile_imap_find - the IMAP side of profile name, or NULL (ses, custom) */
const struct profile_imap *profile_imap_find(const char *name);
/* profile_names - "gmail, workspace, ..." for error messages */
const char *profile_names(void);

#endif
