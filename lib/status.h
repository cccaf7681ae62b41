/*
 * status - what staff and monitoring see without running a command:
 * status.html (a self-refreshing page for the front desk), status.json
 * (the same facts, stable keys) and spoold.prom (a Prometheus textfile for
 * node_exporter), all in the spool's root, each rewritten atomically.
 *
 * spoold owns a struct status_counters (per-hour counts of sent, deferred
 * and failed for the last 48 hours, and counters per category and relay),
 * feeds it with status_note, persists it in state/status-counters, and
 * calls status_write at most once a second when something changed.
 * status_write reads everything else (folder counts, the failed, corrupt
 * and held jobs with their reasons, the account states, today's budget)
 * from the spool itself.
 */
#ifndef SPOOLD_STATUS_H
#define SPOOLD_STATUS_H

#include <time.h>

#include "account.h"
#include "conf.h"
#include "spooldir.h"

#define STATUS_HOURS 48
#define STATUS_MAX_KEYS 64

struct status_counters {
	time_t hour0;                /* the start of the newest hour bucket */
	unsigned sent[STATUS_HOURS]; /* [0] = the current hour, [1] the one before, ... */
	unsigned deferred[STATUS_HOURS];
	unsigned failed[STATUS_HOURS];
	/* Monotonic counters for Prometheus: "category relay" -> count. */
	char key[STATUS_MAX_KEYS][48];
	unsigned long long count[STATUS_MAX_KEYS];
	int nkeys;
};

enum status_event { STATUS_SENT, STATUS_DEFERRED, STATUS_FAILED };

/* status_load - the counters from state/, zero when absent */
void status_load(struct status_counters *sc, struct spooldir *sd, time_t now);
/* status_save - to state/status-counters */
int status_save(const struct status_counters *sc, struct spooldir *sd);
/* status_note - one attempt's outcome: ev for the chart, category and relay
 * ("relay", "fallback") for the Prometheus counters */
void status_note(struct status_counters *sc, enum status_event ev, const char *category,
        const char *relay, time_t now);
/* status_shift - move the hour buckets on to now's hour: when now is in a
 * later hour than hour0 the arrays shift by the hours passed, the skipped
 * hours are zero, and after more than STATUS_HOURS all are; a clock set
 * back by less than that leaves them alone (counts go to [0]), by more
 * starts afresh.  status_load and status_note call it. */
void status_shift(struct status_counters *sc, time_t now);
/* status_write - rewrite status.html, status.json and spoold.prom;
 * accounts: the relays' states (n of them, names "relay"/"fallback"),
 * per_day and used_24h: today's budget (per_day 0: no daily limit, the
 * page then counts the last 24 hourly buckets; used_24h < 0: not known).
 * Patient data on the page and in the JSON as c->status_detail allows.
 * status.json: {version 1, generated, status_detail, account {RELAY:
 * {state, since, until, category, reason, action}}, folders {NAME: N},
 * oldest_waiting_seconds, budget {per_day, used_24h}, hourly {start (the
 * oldest hour), hour_seconds, sent[48], deferred[48], failed[48], oldest
 * first}, problems [{name, folder, category, reason, action, since,
 * appointment (not with none), patient ({name, email} with full,
 * {initials} with initials)}] (the 50 most recent), problems_total}.
 * Each file is replaced atomically (mode 0644, not synced); 0, or -1 with
 * errno when one could not be written or a folder not read.
 * queued: since when the oldest job of new/ and deferred/ waits, from the
 * caller's index (spoold's; 0: none waits), so those folders are only
 * counted, not read file by file; -1: not known, read them (spool status). */
int status_write(struct spooldir *sd, const struct conf *c, const struct status_counters *sc,
        const struct account *accounts, int n, int per_day, int used_24h, time_t queued,
        time_t now);

#endif
