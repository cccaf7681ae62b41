/*
 * spooldir_ids - idempotency markers: one job id, one job, for dedupe_days.
 *
 * ids/HASH (HASH = hex SHA-256 of the job's id) names the job that owns
 * the id: a symbolic link whose target is the job's name, never followed
 * (readlinkat only).  It is created (symlinkat fails on an existing name)
 * when a job is claimed for sending: one system call and, the name being
 * short, no data block (a regular file with the name, as spools before
 * 2026-11 have, is still read).  A second job with the same id is a duplicate while the owner
 * is waiting or being sent, or was sent less than dedupe_days ago (the
 * marker's mtime is the time of the claim).  An owner that failed, was
 * deleted or is older than the window gives the id up.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"
#include "pid.h"
#include "spooldir.h"
#include "spooldir_int.h"

/* id_hash - hex SHA-256 of the id */
static void id_hash(const char *id, char out[65])
{
	unsigned char d[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, id, strlen(id), d);
	hex_lower(out, d, sizeof d);
}

/* id_owner - read the owner's name of marker h; 0 ok */
static int id_owner(struct spooldir *sd, const char *h, char *owner, size_t len, struct stat *st)
{
	char err[128], *buf;
	size_t n;

	if (fstatat(sd->fd[F_IDS], h, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (S_ISLNK(st->st_mode)) {
		ssize_t k = readlinkat(sd->fd[F_IDS], h, owner, len - 1);
		if (k <= 0)
			return -1;
		owner[k] = '\0';
		return 0;
	}
	if (spooldir_read(sd, F_IDS, h, SPOOLDIR_NAME_MAX + 1, &buf, &n, st, err, sizeof err) < 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(owner, len, "%s", buf);
	free(buf);
	return 0;
}

/* id_owner_live - 1 when the owner still stands for the id */
static int id_owner_live(
        struct spooldir *sd, const char *owner, const struct stat *st, time_t now, int days)
{
	int f = spooldir_locate(sd, owner);

	switch (f) {
	case F_NEW:
	case F_ACTIVE:
	case F_DEFERRED:
	case F_HOLD:
		return 1;
	case F_SENT:
		return st->st_mtime >= now - (time_t)days * 86400;
	default:
		return 0; /* failed, corrupt, deleted: the id is free again */
	}
}

/* spooldir_dedupe - claim the id for job name */
int spooldir_dedupe(struct spooldir *sd, const char *id, const char *name, int days, char *other,
        size_t otherlen)
{
	char h[65], owner[SPOOLDIR_NAME_MAX + 2];
	struct stat st;

	if (days <= 0 || sd->fd[F_IDS] < 0)
		return 1;
	id_hash(id, h);
	if (symlinkat(name, sd->fd[F_IDS], h) == 0)
		return 1;
	/* A full disk must not stop sending: no marker then. */
	if (errno != EEXIST || id_owner(sd, h, owner, sizeof owner, &st) < 0)
		return 1;
	if (!strcmp(owner, name))
		return 1;
	if (id_owner_live(sd, owner, &st, time(NULL), days)) {
		if (other)
			snprintf(other, otherlen, "%s", owner);
		return 0;
	}
	/* The old owner gave the id up: take it over (a new link renamed over). */
	char tmp[100];
	snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", h, (long)pid_self());
	unlinkat(sd->fd[F_IDS], tmp, 0);
	if (symlinkat(name, sd->fd[F_IDS], tmp) == 0 &&
	        renameat(sd->fd[F_IDS], tmp, sd->fd[F_IDS], h) < 0)
		unlinkat(sd->fd[F_IDS], tmp, 0);
	return 1;
}

/* spooldir_dedupe_release - give the id up when name owns it */
void spooldir_dedupe_release(struct spooldir *sd, const char *id, const char *name)
{
	char h[65], owner[SPOOLDIR_NAME_MAX + 2];
	struct stat st;

	if (sd->fd[F_IDS] < 0)
		return;
	id_hash(id, h);
	if (id_owner(sd, h, owner, sizeof owner, &st) == 0 && !strcmp(owner, name))
		unlinkat(sd->fd[F_IDS], h, 0);
}

struct ids_ctx {
	time_t now;
	int days;
	int removed;
};

/* ids_prune_one - remove a marker whose owner no longer stands for its id */
static int ids_prune_one(
        struct spooldir *sd, enum folder f, const char *h, const struct stat *st, void *arg)
{
	struct ids_ctx *ctx = arg;
	char owner[SPOOLDIR_NAME_MAX + 2];
	struct stat ost;

	(void)f;
	if (*h == '.' || st->st_mtime >= ctx->now - (time_t)ctx->days * 86400)
		return 0;
	if (id_owner(sd, h, owner, sizeof owner, &ost) == 0 &&
	        id_owner_live(sd, owner, &ost, ctx->now, ctx->days))
		return 0;
	if (unlinkat(sd->fd[F_IDS], h, 0) == 0)
		ctx->removed++;
	return 0;
}

/* spooldir_ids_prune - drop stale markers; returns how many */
int spooldir_ids_prune(struct spooldir *sd, time_t now, int days)
{
	struct ids_ctx ctx = {now, days, 0};

	if (sd->fd[F_IDS] < 0)
		return 0;
	spooldir_each(sd, F_IDS, 1, ids_prune_one, &ctx);
	return ctx.removed;
}
