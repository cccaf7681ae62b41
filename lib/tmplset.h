/*
 * tmplset - which template files make a job's message, and the data they see.
 *
 * Files: KIND/[LOCALE/]{subject,body.txt,body.html} and partials
 * partials/[LOCALE/]NAME.mustache, looked up first in conf.templates_dir,
 * then in the installed defaults: $SPOOLD_TEMPLATES when set, else
 * SHAREDIR/templates.  The job's locale is tried from the most specific
 * ("es-MX", then "es") to none; for each locale every directory is tried
 * before the next locale, so a patient's language wins over a practice's
 * customised default.  subject and body.txt are required, body.html is
 * optional.  Files must be regular, UTF-8, without NUL, at most
 * TMPLSET_FILE_MAX bytes.  They are kept compiled for 2 seconds, then read
 * again (and compiled again when they changed); SIGHUP's
 * tmplset_cache_clear forgets them at once.
 *
 * The data: a deep copy of the job without its "spool" member, plus
 * "when" (datefmt.h) when there is an appointment, "unsubscribe"
 * {"mailto", "url"} for recalls and "ics": true when an iCalendar event is
 * attached; these three replace job members of the same name.
 */
#ifndef SPOOLD_TMPLSET_H
#define SPOOLD_TMPLSET_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "job.h"

#define TMPLSET_FILE_MAX (256 * 1024)
#define TMPLSET_URI_MAX 1024

/* A rendered message: malloc'ed UTF-8 text. */
struct tmplset {
	char *subject; /* one line: white space collapsed, trimmed */
	char *text;    /* body.txt */
	char *html;    /* body.html, or NULL when there is none */
};

/* tmplset_default_dir - $SPOOLD_TEMPLATES, else SHAREDIR "/templates" */
const char *tmplset_default_dir(void);
/* tmplset_unsubscribe - the List-Unsubscribe URIs: "mailto:ADDR?subject=
 * unsubscribe" (ADDR: message.unsubscribe_mailto, else relay.from; "" when
 * neither) and message.unsubscribe_url ("" when unset), percent-encoded
 * where a URI needs it; 0 ok, -1 when one does not fit its buffer */
int tmplset_unsubscribe(const struct conf *c, char *mailto, size_t mlen, char *url, size_t ulen);
/* tmplset_data - the template data (see above); NULL with the reason in err */
json_t *tmplset_data(
        const struct job *j, const struct conf *c, time_t now, int ics, char *err, size_t errlen);
/* tmplset_render - render the job's templates with data; 0 ok, -1 with the
 * reason in err (a missing file names the paths tried; a template error
 * names FILE:LINE:COL) */
int tmplset_render(const struct job *j, const struct conf *c, const json_t *data,
        struct tmplset *out, char *err, size_t errlen);
/* tmplset_cache_clear - forget the cached template files and their compiled
 * forms (a file is also read again when its entry is 2 s old, and compiled
 * again when it changed) */
void tmplset_cache_clear(void);
/* tmplset_cache_stats - how many template files were read and compiled */
void tmplset_cache_stats(unsigned long *reads, unsigned long *compiles);
/* tmplset_cache_clock - the clock the cache's freshness follows (NULL:
 * time()); for tests */
void tmplset_cache_clock(time_t (*now)(void));
/* tmplset_free - release the texts */
void tmplset_free(struct tmplset *t);

/* tmplset_read_file - a template file's text; NULL with *missing = 1 when
 * it does not exist, else NULL with the reason in err */
char *tmplset_read_file(const char *path, int *missing, char *err, size_t errlen);
/* tmplset_partial_name_ok - a partial name usable in a path:
 * [A-Za-z0-9_.-]{1,64}, not starting with '.' */
int tmplset_partial_name_ok(const char *name);
/* tmplset_collapse - white space runs to one space, trimmed, in place */
char *tmplset_collapse(char *s);

#endif
