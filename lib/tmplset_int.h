/*
 * tmplset_int - the cache of compiled template files (tmplset_cache.c),
 * used by tmplset.c; not an API.
 *
 * A file is named by its parts DIR/SUB/[LOC/]FILE and looked up by them,
 * so a lookup builds no path.  What the cache hands out stays valid until
 * the end of the rendering: a compiled form that a fresher file replaces,
 * or that does not fit in the cache, goes to the rendering's trash, which
 * the rendering empties when it ends.
 */
#ifndef SPOOLD_TMPLSET_INT_H
#define SPOOLD_TMPLSET_INT_H

#include <stddef.h>
#include <time.h>

#include "tmpl.h"

/* Compiled templates a rendering frees when it ends. */
struct tmplset_trash {
	struct tmpl **v;
	size_t n, cap;
};

/* A template file found: compiled, or its template error. */
struct tmplset_hit {
	const struct tmpl *t;  /* NULL when the file has a template error: */
	struct tmpl_error err; /* that error */
};

/* tmplset_cache_get - the file DIR/SUB/[LOC/]FILE through the cache, compiled under
 * name (NULL: its path) for errors; 1 with *hit set, 0 when it does not
 * exist, -1 with the reason in err when it cannot be read */
int tmplset_cache_get(const char *dir, const char *sub, const char *loc, const char *file,
        const char *name, time_t now, struct tmplset_trash *trash, struct tmplset_hit *hit,
        char *err, size_t errlen);
/* tmplset_cache_now - the clock of the cache's freshness */
time_t tmplset_cache_now(void);
/* tmplset_trash_free - free the trash's templates and the trash */
void tmplset_trash_free(struct tmplset_trash *trash);

#endif
