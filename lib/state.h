/*
 * state - spoold's small JSON files in state/ (the account, the delivery
 * checks): read one as a JSON object, write one durably at once.  The
 * caller owns the objects; the files are written atomically (hidden
 * temporary, rename) whatever the spool's batching, because staff act on
 * what they say and it must survive a crash.
 */
#ifndef SPOOLD_STATE_H
#define SPOOLD_STATE_H

#include <jansson.h>
#include <stddef.h>

#include "spooldir.h"

/* state_read - state/NAME as a JSON object into *out (decref it): 1; 0
 * when there is no such file (or no state/), *out NULL; -1 when it cannot
 * be read or is not a JSON object, *out NULL */
int state_read(struct spooldir *sd, const char *name, size_t max, json_t **out);
/* state_write - o as state/NAME (indented, keys in order, a final newline),
 * durable before it returns; 0 or -1 */
int state_write(struct spooldir *sd, const char *name, const json_t *o);

#endif
