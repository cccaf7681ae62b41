/*
 * pace - never a blast: sliding windows per minute, hour and day, messages
 * per connection, a minimum gap with jitter, and quiet hours.
 *
 * struct pace remembers the times of recent sends (enough for the largest
 * limit within a day) and is persisted in state/ so that a restart never
 * resets the day's budget.  Pure apart from pace_save/pace_load: every
 * function takes the time ("now", in milliseconds since the epoch), so the
 * tests drive the clock.  Quiet hours are read in the process's local time
 * (spoold sets TZ to the practice's time zone).
 *
 * For tests only: SPOOLD_TEST_TIME_SCALE=N in the environment divides every
 * window (and every provider-imposed wait, see account.h) by N, so a
 * "day" can pass in seconds.  pace_scale() returns N (1 when unset).
 */
#ifndef SPOOLD_PACE_H
#define SPOOLD_PACE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "spooldir.h"

struct pace {
	struct pacing_conf lim;
	int64_t *t;       /* send times in ms, oldest first */
	size_t n, cap;    /* entries kept: at most the largest limit */
	int64_t last;     /* the last send, ms; 0 none */
	int64_t gap;      /* this gap's length: min_gap_ms plus jitter */
	unsigned on_conn; /* messages on the current connection */
};

/* pace_scale - the test time scale (SPOOLD_TEST_TIME_SCALE), else 1 */
int64_t pace_scale(void);
/* pace_scale_reset - for tests: forget the scale read (it is read once),
 * so that the next pace_scale() reads the environment again */
void pace_scale_reset(void);
/* pace_init - no sends yet */
void pace_init(struct pace *p, const struct pacing_conf *lim);
/* pace_set_limits - new limits (SIGHUP), keeping the history */
void pace_set_limits(struct pace *p, const struct pacing_conf *lim);
void pace_free(struct pace *p);
/* pace_next - the earliest time (ms) the next message may go: now when
 * allowed, later when a window is full, the gap has not passed, or it is
 * quiet hours; *why names the limit ("per_minute", "quiet_hours", ...) */
int64_t pace_next(const struct pace *p, int64_t now, const char **why);
/* pace_sent - a message was accepted (or refused by the server: it counts
 * against the provider's limits all the same) */
void pace_sent(struct pace *p, int64_t now);
/* pace_reconnect_due - per_connection reached: open a new connection */
int pace_reconnect_due(const struct pace *p);
/* pace_connection_opened - a new connection: its count starts at zero */
void pace_connection_opened(struct pace *p);
/* pace_used - sends within the last window_ms (scaled by the caller) */
size_t pace_used(const struct pace *p, int64_t now, int64_t window_ms);
/* pace_window_ms - 60 s, 3600 s or 86400 s divided by pace_scale() */
int64_t pace_window_ms(int seconds);
/* pace_save - state/NAME (text: one time per line); pace_load - the same
 * back, dropping times older than a day */
int pace_save(const struct pace *p, struct spooldir *sd, const char *name);
int pace_load(struct pace *p, struct spooldir *sd, const char *name, int64_t now);
/* pace_now_ms - the wall clock in ms */
int64_t pace_now_ms(void);

#endif
