/*
 * tmplset_cache - tmplset's template files, read and compiled once: an
 * entry per DIR/SUB/[LOC/]FILE holds the file's compiled form, or its
 * template error, or that it does not exist; see tmplset_int.h.
 *
 * An entry is trusted for CACHE_SECONDS, then the file is read again: an
 * edited template is used within that time, without a restart, and an
 * unchanged one is not compiled again.  A read error (other than a
 * missing file) is not cached: it is reported every time.  At most
 * CACHE_MAX entries, found by their parts in an open-addressing hash
 * table; past that, files are read and compiled for each rendering.
 * tmplset_cache_clear forgets everything.
 *
 * A file is compiled under one name for all its uses: its path for the
 * templates of a kind, the partial's name for partials/[LOC/]NAME.mustache
 * (a partial's file name ends in ".mustache", a kind's never does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tmpl.h"
#include "tmplset.h"
#include "tmplset_int.h"

#define CACHE_SECONDS 2
#define CACHE_MAX 256
#define SLOTS 512 /* a power of two, more than CACHE_MAX */

struct entry {
	unsigned hash;         /* of the parts */
	const char *key;       /* DIR NUL SUB NUL LOC NUL FILE NUL, in buf */
	const char *path;      /* DIR/SUB/[LOC/]FILE, in buf */
	time_t read_at;        /* when the file was last read */
	int exists;            /* the file exists: */
	struct tmpl *t;        /* compiled, or NULL when it has an error: */
	char *text;            /* the text with the error */
	struct tmpl_error err; /* and the error */
	char buf[];
};

static struct entry *entries[CACHE_MAX];
static size_t nentries;
static short slots[SLOTS]; /* an index in entries plus one; 0: free */
static unsigned long nreads, ncompiles;
static time_t (*clock_now)(void);

/* hash - FNV-1a of the parts, each with its NUL */
static unsigned hash(const char *const part[4])
{
	unsigned h = 2166136261u;

	for (int i = 0; i < 4; i++) {
		const unsigned char *p = (const unsigned char *)part[i];
		do
			h = (h ^ *p) * 16777619u;
		while (*p++);
	}
	return h;
}

/* same_key - e is the entry of the parts */
static int same_key(const struct entry *e, const char *const part[4])
{
	const char *k = e->key;

	for (int i = 0; i < 4; i++) {
		const char *p = part[i];
		while (*k && *k == *p)
			k++, p++;
		if (*k++ != *p)
			return 0;
	}
	return 1;
}

/* slot - the slot of the parts' entry, or the free slot where it would go */
static size_t slot(unsigned h, const char *const part[4])
{
	size_t s = h & (SLOTS - 1);

	while (slots[s] &&
	        !(entries[slots[s] - 1]->hash == h && same_key(entries[slots[s] - 1], part)))
		s = (s + 1) & (SLOTS - 1);
	return s;
}

/* make_entry - a new entry (not in the cache yet) for the parts */
static struct entry *make_entry(const char *const part[4], unsigned h)
{
	size_t n[4], klen = 0;
	struct entry *e;
	char *p;

	for (int i = 0; i < 4; i++)
		klen += (n[i] = strlen(part[i])) + 1;
	if (!(e = calloc(1, sizeof *e + 2 * klen))) /* the path is never longer */
		return NULL;
	e->hash = h;
	e->key = p = e->buf;
	for (int i = 0; i < 4; i++) {
		memcpy(p, part[i], n[i] + 1);
		p += n[i] + 1;
	}
	e->path = p;
	for (int i = 0; i < 4; i++) {
		if (i == 2 && n[i] == 0)
			continue; /* no locale */
		memcpy(p, part[i], n[i]);
		p += n[i];
		*p++ = i < 3 ? '/' : '\0';
	}
	return e;
}

/* free_entry - release e and what it owns */
static void free_entry(struct entry *e)
{
	tmpl_free(e->t);
	free(e->text);
	free(e);
}

/* trash_add - t for the rendering to free when it ends; -1 when out of memory */
static int trash_add(struct tmplset_trash *trash, struct tmpl *t)
{
	if (trash->n == trash->cap) {
		size_t cap = trash->cap ? trash->cap * 2 : 8;
		struct tmpl **v = realloc(trash->v, cap * sizeof *v);
		if (!v)
			return -1;
		trash->v = v;
		trash->cap = cap;
	}
	trash->v[trash->n++] = t;
	return 0;
}

/* load - read e's file again and compile it when it changed; 0, or -1 with
 * the reason in err (e unchanged) */
static int load(struct entry *e, const char *name, time_t now, struct tmplset_trash *trash,
        char *err, size_t errlen)
{
	int missing;
	char *text = tmplset_read_file(e->path, &missing, err, errlen);

	if (!text && !missing)
		return -1;
	if (text)
		nreads++;
	if (text && e->exists && strcmp(text, e->t ? tmpl_source(e->t) : e->text) == 0) {
		free(text);
		e->read_at = now;
		return 0;
	}
	if (e->t && trash_add(trash, e->t) < 0) { /* it may be in use */
		snprintf(err, errlen, "%s: out of memory", e->path);
		free(text);
		return -1;
	}
	free(e->text);
	e->t = NULL;
	e->text = NULL;
	e->exists = text != NULL;
	e->read_at = now;
	if (text) {
		ncompiles++;
		if ((e->t = tmpl_compile(text, name ? name : e->path, &e->err)) != NULL)
			free(text);
		else
			e->text = text;
	}
	return 0;
}

/* give - what e holds into hit; 1, or 0 when its file does not exist */
static int give(const struct entry *e, struct tmplset_hit *hit)
{
	if (!e->exists)
		return 0;
	hit->t = e->t;
	if (!e->t)
		hit->err = e->err;
	return 1;
}

/* tmplset_cache_get - a template file, from the cache when fresh */
int tmplset_cache_get(const char *dir, const char *sub, const char *loc, const char *file,
        const char *name, time_t now, struct tmplset_trash *trash, struct tmplset_hit *hit,
        char *err, size_t errlen)
{
	const char *part[4] = {dir, sub, loc, file};
	unsigned h = hash(part);
	size_t s = slot(h, part);
	struct entry *e = slots[s] ? entries[slots[s] - 1] : NULL;
	int rc;

	if (e && now >= e->read_at && now - e->read_at < CACHE_SECONDS)
		return give(e, hit);
	if (e)
		return load(e, name, now, trash, err, errlen) < 0 ? -1 : give(e, hit);
	if (!(e = make_entry(part, h))) {
		snprintf(err, errlen, "%s/%s: out of memory", dir, sub);
		return -1;
	}
	if (load(e, name, now, trash, err, errlen) < 0) {
		free_entry(e);
		return -1;
	}
	if (nentries < CACHE_MAX) {
		entries[nentries++] = e;
		slots[s] = (short)nentries;
		return give(e, hit);
	}
	/* The cache is full: the rendering owns the compiled form. */
	if (e->t && trash_add(trash, e->t) < 0) {
		snprintf(err, errlen, "%s: out of memory", e->path);
		free_entry(e);
		return -1;
	}
	rc = give(e, hit);
	e->t = NULL;
	free_entry(e);
	return rc;
}

/* tmplset_trash_free - free what the rendering was left */
void tmplset_trash_free(struct tmplset_trash *trash)
{
	for (size_t i = 0; i < trash->n; i++)
		tmpl_free(trash->v[i]);
	free(trash->v);
	memset(trash, 0, sizeof *trash);
}

/* tmplset_cache_clear - forget every cached file and compiled template */
void tmplset_cache_clear(void)
{
	for (size_t i = 0; i < nentries; i++) {
		free_entry(entries[i]);
		entries[i] = NULL;
	}
	nentries = 0;
	memset(slots, 0, sizeof slots);
}

/* tmplset_cache_stats - files read and compiled since the start */
void tmplset_cache_stats(unsigned long *reads, unsigned long *compiles)
{
	*reads = nreads;
	*compiles = ncompiles;
}

/* tmplset_cache_clock - the clock of the freshness rule (NULL: time()) */
void tmplset_cache_clock(time_t (*now)(void))
{
	clock_now = now;
}

/* tmplset_cache_now - what the clock says */
time_t tmplset_cache_now(void)
{
	return clock_now ? clock_now() : time(NULL);
}
