/*
 * term - what the verbs show people on a terminal, beyond cli.h: colour
 * (whether, and how), the width to fit, the practice's clock, and a
 * patient's name.
 *
 * Colour: spool --color=auto|always|never (term_set_color).  auto, the
 * default, colours only when stdout is a terminal, NO_COLOR is unset or
 * empty (no-color.org) and TERM is set and not "dumb"; always and never
 * are what the user asked for (an explicit option overrides NO_COLOR, as
 * no-color.org has it).  Colour marks a word that is already there
 * ("STOPPED", "failed"): nothing is said by colour alone.
 */
#ifndef SPOOL_TERM_H
#define SPOOL_TERM_H

#include <stddef.h>
#include <time.h>

#include "account.h"
#include "job.h"

enum term_hue { TERM_PLAIN, TERM_RED, TERM_GREEN, TERM_YELLOW, TERM_CYAN, TERM_BOLD };

#define TERM_PAINT_MAX 200 /* the longest text term_paint colours */

/* term_set_color - "auto", "always" or "never"; -1 for anything else */
int term_set_color(const char *when);
/* term_color - 1 when output on stdout is to be coloured */
int term_color(void);
/* term_paint - s in colour h when term_color(), else s itself; the result
 * lives until the eighth call after (a ring of buffers); s longer than
 * TERM_PAINT_MAX bytes is returned uncoloured */
const char *term_paint(enum term_hue h, const char *s);
/* term_folder_hue - the colour of a folder's name (failed: red, ...) */
enum term_hue term_folder_hue(const char *folder);

/* term_width - the columns to fit: the terminal's (stdout), else
 * $COLUMNS, else dflt */
int term_width(int dflt);

/* term_appt - "Tue Dec 1 9:30 AM": t in zone (the practice's, an IANA name;
 * NULL: local time); "?" when it cannot be converted */
char *term_appt(time_t t, const char *zone, char *buf, size_t len);
/* term_clock - "09:31:02", t in local time */
char *term_clock(time_t t, char *buf, size_t len);
/* term_patient - "Jane Doe" (patient.first_name and last_name, else
 * to.name) into buf, made safe for a terminal unless raw (for JSON); NULL
 * when the job names nobody */
const char *term_patient(const struct job *j, int raw, char *buf, size_t len);
/* term_account - an account's state in words, for one line: "STOPPED:
 * reason — action", "NOT DELIVERING: reason — action" (suspect), "paused
 * until 14:05 (in 2 h): reason", "resuming: ...", "running again: ..."
 * (prefixed "fallback relay " for the fallback's); *hue is red (stopped,
 * not delivering), yellow or green.  Not made safe: pass it through cli_safe */
const char *term_account(const struct account *a, enum term_hue *hue, char *buf, size_t len);
/* term_sentence - the first sentence of s (up to ". " before a capital
 * letter, or the end of the first line) into buf */
char *term_sentence(const char *s, char *buf, size_t len);

#endif
