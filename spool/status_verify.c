/*
 * status_verify - the delivery checks' part of spool status: whether
 * spoold can read the practice's mailbox ([verify]), what it is still
 * waiting to find in Sent, and where the canary is.  Read from
 * state/verify, which spoold writes after every check; nothing here talks
 * to a server.  Shown only when [verify] is configured.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "verify_state.h"

/* load - state/verify; 0, or -1 when unreadable (said once) */
static int load(struct cli *c, struct verify_state *vs)
{
	if (verify_state_load(&c->sd, vs) == 0)
		return 0;
	printf("  cannot read %s/state/verify\n", c->sd.path);
	return -1;
}

/* status_verify_text - the "Delivery checks" lines */
void status_verify_text(struct cli *c)
{
	const struct verify_conf *vc = &c->conf.verify;
	struct verify_state vs;
	char rel[CLI_TIME_MAX], rel2[CLI_TIME_MAX];

	if (!vc->imap.configured)
		return;
	printf("Delivery checks: %s on %s\n", vc->imap.user ? vc->imap.user : "?", vc->imap.host);
	if (load(c, &vs) < 0)
		return;
	if (*vs.error)
		printf("  PROBLEM since %s: %s\n  What to do: check [verify]%s in %s (host, user, "
		       "password_file, folder names).\n",
		        cli_reltime(vs.error_since, c->now, rel, sizeof rel), vs.error,
		        vc->canary_to ? " and [canary]" : "", c->conf.path);
	if (vs.last_ok)
		printf("  Last good check: %s\n", cli_reltime(vs.last_ok, c->now, rel, sizeof rel));
	else if (!*vs.error)
		printf("  No check yet\n");
	if (vc->confirm_sent && vs.npending)
		printf("  Waiting to be found in Sent: %zu sent message%s (the oldest sent %s; "
		       "allowed %d min)\n",
		        vs.npending, vs.npending == 1 ? "" : "s",
		        cli_reltime(vs.pending[0].sent, c->now, rel, sizeof rel),
		        vc->confirm_minutes);
	if (vc->canary_to) {
		if (*vs.canary_id)
			printf("  Canary to %s: sent %s, not arrived yet (allowed %d min)\n",
			        vc->canary_to, cli_reltime(vs.canary_sent, c->now, rel, sizeof rel),
			        vc->canary_wait);
		else if (vs.last_canary)
			printf("  Canary to %s: the last one, sent %s, arrived\n", vc->canary_to,
			        cli_reltime(vs.last_canary, c->now, rel, sizeof rel));
		else
			printf("  Canary to %s: none sent yet\n", vc->canary_to);
		if (*vs.missing_id)
			printf("  A canary sent %s never arrived (still looked for; %s)\n",
			        cli_reltime(vs.missing_sent, c->now, rel2, sizeof rel2),
			        vs.missing_id);
	}
	verify_state_free(&vs);
}

/* status_verify_json - the same as an object, or null without [verify] */
json_t *status_verify_json(struct cli *c)
{
	const struct verify_conf *vc = &c->conf.verify;
	struct verify_state vs;
	json_t *o, *k;

	if (!vc->imap.configured)
		return json_null();
	o = json_object();
	json_object_set_new(o, "user", json_string(vc->imap.user ? vc->imap.user : ""));
	json_object_set_new(o, "host", json_string(vc->imap.host));
	if (verify_state_load(&c->sd, &vs) < 0) {
		json_object_set_new(o, "error", json_string("cannot read state/verify"));
		return o;
	}
	json_object_set_new(o, "last_ok", cli_json_time(vs.last_ok));
	json_object_set_new(o, "error", *vs.error ? json_string(vs.error) : json_null());
	json_object_set_new(o, "error_since", cli_json_time(*vs.error ? vs.error_since : 0));
	json_object_set_new(o, "awaiting_sent", json_integer((json_int_t)vs.npending));
	k = json_object();
	json_object_set_new(k, "to", vc->canary_to ? json_string(vc->canary_to) : json_null());
	json_object_set_new(
	        k, "in_flight_since", cli_json_time(*vs.canary_id ? vs.canary_sent : 0));
	json_object_set_new(k, "last_sent", cli_json_time(vs.last_canary));
	json_object_set_new(
	        k, "missing_since", cli_json_time(*vs.missing_id ? vs.missing_sent : 0));
	json_object_set_new(o, "canary", k);
	verify_state_free(&vs);
	return o;
}
