/*
 * spooldir_fixture - a fresh spool per test for the spooldir unit tests
 * (test_spooldir.c, test_spooldir_recover.c), and small helpers to put,
 * age, lock and look at files in it.  Header only; every function is
 * static inline so that a test need not use them all.
 */
#ifndef SPOOLD_SPOOLDIR_FIXTURE_H
#define SPOOLD_SPOOLDIR_FIXTURE_H

/* cmocka.h (and what it needs) comes first, in the test file. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spooldir.h"

struct t {
	char dir[256];
	char path[300];
	struct spooldir sd;
};

/* rm_one - nftw callback removing one entry */
static inline int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* setup - a fresh spool */
static inline int setup(void **state)
{
	struct t *t = calloc(1, sizeof *t);
	char err[256];

	snprintf(t->dir, sizeof t->dir, "%s/spooldir-XXXXXX",
	        getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->path, sizeof t->path, "%s/spool", t->dir);
	if (spooldir_open(&t->sd, t->path, 1, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = t;
	return 0;
}

/* teardown - close and remove the spool */
static inline int teardown(void **state)
{
	struct t *t = *state;

	spooldir_close(&t->sd);
	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

/* job - a valid job with n attempts (static buffer) */
static inline const char *job(int n)
{
	static char buf[4096];
	size_t o = (size_t)snprintf(buf, sizeof buf,
	        "{\"version\":1,\"id\":\"x\",\"kind\":\"recall\",\"to\":{\"email\":"
	        "\"a@example.com\"},\"spool\":{\"attempts\":[");

	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o,
		        "%s{\"time\":\"2026-01-01T00:00:00Z\",\"code\":421}", i ? "," : "");
	snprintf(buf + o, sizeof buf - o, "]}}");
	return buf;
}

/* put - write folder/name with data */
static inline void put(struct t *t, enum folder f, const char *name, const char *data)
{
	assert_int_equal(spooldir_write(&t->sd, f, name, data, strlen(data), 0), 0);
}

/* has - 1 when folder/name exists (any type) */
static inline int has(struct t *t, enum folder f, const char *name)
{
	struct stat st;

	return fstatat(t->sd.fd[f], name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* age - set folder/name's mtime to secs ago */
static inline void age(struct t *t, enum folder f, const char *name, time_t secs)
{
	struct timespec ts[2] = {{.tv_sec = time(NULL) - secs}, {.tv_sec = time(NULL) - secs}};

	assert_int_equal(utimensat(t->sd.fd[f], name, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* content - folder/name's content (static buffer), or NULL */
static inline const char *content(struct t *t, enum folder f, const char *name)
{
	static char out[8192];
	char err[256], *buf;
	size_t len;

	if (spooldir_read(&t->sd, f, name, sizeof out - 1, &buf, &len, NULL, err, sizeof err) < 0)
		return NULL;
	memcpy(out, buf, len + 1);
	free(buf);
	return out;
}

/* count_cb - spooldir_each callback counting entries */
static inline int count_cb(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	(void)sd;
	(void)f;
	(void)name;
	(void)st;
	++*(int *)arg;
	return 0;
}

/* entries - entries of a folder (hidden and side files too) */
static inline int entries(struct t *t, enum folder f)
{
	int n = 0;

	spooldir_each(&t->sd, f, 1, count_cb, &n);
	return n;
}

/* other_lock - flock folder/name through another open file description */
static inline int other_lock(struct t *t, enum folder f, const char *name)
{
	int fd = openat(t->sd.fd[f], name, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	return fd;
}

#endif
