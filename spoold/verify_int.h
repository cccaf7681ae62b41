/*
 * verify_int - what verify.c shares with verify_sent.c and
 * verify_inbox.c; not for the rest of spoold (spoold.h has that).
 */
#ifndef SPOOLD_VERIFY_INT_H
#define SPOOLD_VERIFY_INT_H

#include <time.h>

struct daemon;
struct imap;

#define FAIL_ACCOUNT 1 /* d->verify_failing: [verify]'s mailbox, alerted */
#define FAIL_CANARY 2  /* [canary]'s */

/* verify_scaled - seconds of configuration, divided by the test time scale */
time_t verify_scaled(long seconds);
/* verify_trouble - mailbox which (FAIL_*) cannot be read: logged, alerted once */
void verify_trouble(struct daemon *d, int which, const char *what);
/* verify_check_sent - the pending Message-IDs in Sent (selected); -1 when
 * the session broke */
int verify_check_sent(struct daemon *d, struct imap *im, time_t now);
/* verify_settle_held - hold/'s unknown outcomes by the Sent folder; -1
 * when the session broke */
int verify_settle_held(struct daemon *d, struct imap *im, time_t now);

#endif
