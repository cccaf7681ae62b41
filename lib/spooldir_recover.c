/*
 * spooldir_recover - claims, duplicate names, start-up recovery, pruning.
 *
 * A claim locks the job's inode (flock) before renaming it into active/,
 * so a job in active/ whose lock is free belongs to a process that died:
 * recovery returns it to new/.  A name found in two folders (a copy made
 * by hand, or a crash of some other tool) is resolved so that the copy
 * with the longer history survives.  Hidden files in active/ (a rewrite's
 * temporary, or a process's spare inode, see spooldir.h) are removed once
 * they are a minute old and unlocked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job.h"
#include "reason.h"
#include "spooldir.h"
#include "spooldir_int.h"

/* attempts_of - the number of attempts recorded in folder/name (-1 unreadable) */
static long attempts_of(struct spooldir *sd, enum folder f, const char *name)
{
	char err[256], *buf;
	struct job j = {0};
	size_t len;
	long n;

	if (spooldir_read(sd, f, name, JOB_FILE_MAX, &buf, &len, NULL, err, sizeof err) < 0)
		return -1;
	n = job_parse(&j, buf, len, err, sizeof err) == 0 ? (long)job_attempts(&j) : -1;
	job_free(&j);
	free(buf);
	return n;
}

/* folder_rank - which copy wins a tie: the more settled state */
static int folder_rank(enum folder f)
{
	static const int rank[F_COUNT] = {
	        [F_SENT] = 7,
	        [F_FAILED] = 6,
	        [F_CORRUPT] = 5,
	        [F_HOLD] = 4,
	        [F_DEFERRED] = 3,
	        [F_NEW] = 2,
	        [F_ACTIVE] = 1,
	};
	return rank[f];
}

/* sd_resolve - name is in folders a and b: keep one, return its folder */
static enum folder sd_resolve(struct spooldir *sd, const char *name, enum folder a, enum folder b)
{
	long na = attempts_of(sd, a, name), nb = attempts_of(sd, b, name);
	enum folder keep, drop;

	if (na != nb)
		keep = na > nb ? a : b;
	else
		keep = folder_rank(a) >= folder_rank(b) ? a : b;
	drop = keep == a ? b : a;
	unlinkat(sd->fd[drop], name, 0);
	fsync(sd->fd[drop]);
	return keep;
}

/* locate_besides - a folder holding name other than f and skip, or -1 */
static int locate_besides(struct spooldir *sd, enum folder f, enum folder skip, const char *name)
{
	struct stat st;

	for (int g = F_NEW; g < F_COUNT; g++)
		if (g != (int)f && g != (int)skip &&
		        fstatat(sd->fd[g], name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return g;
	return -1;
}

/* spooldir_locate_other - another folder holding name besides f, or -1 */
int spooldir_locate_other(struct spooldir *sd, enum folder f, const char *name)
{
	return locate_besides(sd, f, f, name);
}

/* spooldir_claim - lock, rename into active/, and make sure it is the only copy */
int spooldir_claim(
        struct spooldir *sd, enum folder from, const char *name, int *lockfd, struct stat *out)
{
	struct stat st, ast;
	char err[128];
	int fd, other;

	*lockfd = -1;
	fd = sd_open_regular(sd, sd->fd[from], name, &st, err, sizeof err);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		errno = EWOULDBLOCK;
		return -1;
	}
	if (sd_rename_noreplace(sd->fd[from], name, sd->fd[F_ACTIVE], name) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* The inode we locked must be the one now in active/. */
	if (fstatat(sd->fd[F_ACTIVE], name, &ast, AT_SYMLINK_NOFOLLOW) < 0 ||
	        ast.st_ino != st.st_ino || ast.st_dev != st.st_dev) {
		close(fd);
		fd = openat(sd->fd[F_ACTIVE], name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			errno = EWOULDBLOCK;
			return -1;
		}
	}
	if (out)
		*out = st;
	/* A name taken elsewhere is a new job under a used name, not a crash
	 * leftover (claims and moves are renames): the caller files it.  A
	 * copy arriving in from/ after our rename is found by its own claim. */
	*lockfd = fd;
	other = locate_besides(sd, F_ACTIVE, from, name);
	if (other >= 0) {
		errno = EEXIST;
		return -1;
	}
	return 0;
}

struct recover_ctx {
	time_t now;
	struct spooldir_recovery *rec;
};

/* recover_active - return a dead process's job to new/ */
static int recover_active(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	struct recover_ctx *ctx = arg;
	int fd, other;

	if (*name == '.') {
		/* A temporary of an interrupted rewrite, or a spare inode:
		 * locked while in use (and just created or reused, it may not be
		 * locked yet; a live spoold's idle spare goes, it makes another). */
		if (st->st_ctime >= ctx->now - 60)
			return 0;
		fd = openat(sd->fd[f], name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		        unlinkat(sd->fd[f], name, 0) == 0)
			ctx->rec->temps_removed++;
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (!S_ISREG(st->st_mode) || !spooldir_name_valid(name)) {
		char fresh[SPOOLDIR_NAME_MAX + 1], side[SPOOLDIR_NAME_MAX + 32];
		spooldir_newname(fresh, sizeof fresh);
		if (sd_rename_noreplace(sd->fd[f], name, sd->fd[F_CORRUPT], fresh) == 0) {
			char *text = reason_corrupt(fresh, name,
			        S_ISREG(st->st_mode) ? "the file name is not a valid job name"
			                             : "not a regular file; it was not opened");
			snprintf(side, sizeof side, "%s%s", fresh, SPOOLDIR_REASON_SUFFIX);
			if (text)
				spooldir_write(sd, F_CORRUPT, side, text, strlen(text), 0);
			free(text);
			ctx->rec->corrupt++;
		}
		return 0;
	}
	fd = openat(sd->fd[f], name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd); /* a live spoold is working on it */
		return 0;
	}
	other = spooldir_locate_other(sd, F_ACTIVE, name);
	if (other >= 0) {
		ctx->rec->duplicates++;
		if (sd_resolve(sd, name, F_ACTIVE, (enum folder)other) != F_ACTIVE) {
			close(fd);
			return 0;
		}
	}
	if (sd_rename_noreplace(sd->fd[f], name, sd->fd[F_NEW], name) == 0)
		ctx->rec->active_returned++;
	close(fd);
	return 0;
}

/* recover_tmp - remove tmp/ files older than a day */
static int recover_tmp(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	struct recover_ctx *ctx = arg;

	if (st->st_mtime < ctx->now - 86400 && unlinkat(sd->fd[f], name, 0) == 0)
		ctx->rec->tmp_removed++;
	return 0;
}

/* staged_target - the name a staged temporary (".NAME.PID.SEQ.tmp") was
 * to take; 0, or -1 when name is not one */
static int staged_target(const char *name, char *out, size_t len)
{
	size_t n = strlen(name);
	const char *end = name + n - 4;

	if (*name != '.' || n < 9 || strcmp(end, ".tmp"))
		return -1;
	for (int dots = 0; dots < 2; dots++) {
		const char *digit = end;
		while (end > name + 1 && end[-1] >= '0' && end[-1] <= '9')
			end--;
		if (end == digit || end <= name + 1 || end[-1] != '.')
			return -1;
		end--;
	}
	if ((size_t)(end - name - 1) >= len)
		return -1;
	snprintf(out, len, "%.*s", (int)(end - name - 1), name + 1);
	return 0;
}

/* recover_staged - sent/: a copy staged by a writer that died after its
 * job reached sent/ takes its name; one whose job did not is removed.
 * The staged file is locked while its writer lives.  1 when handled. */
static int recover_staged(struct spooldir *sd, const char *name, struct recover_ctx *ctx)
{
	char target[SPOOLDIR_NAME_MAX + 64], job[SPOOLDIR_NAME_MAX + 64];
	size_t tl, sl = strlen(SPOOLDIR_EML_SUFFIX);
	struct stat st;
	int dirfd = sd->fd[F_SENT], fd;

	if (staged_target(name, target, sizeof target) < 0 || (tl = strlen(target)) <= sl ||
	        strcmp(target + tl - sl, SPOOLDIR_EML_SUFFIX))
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd); /* its writer is alive */
		return 1;
	}
	snprintf(job, sizeof job, "%.*s", (int)(tl - sl), target);
	if (spooldir_name_valid(job) && fstatat(dirfd, job, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	        sd_rename_noreplace(dirfd, name, dirfd, target) == 0) {
		fdatasync(fd);
		ctx->rec->staged_finished++;
	} else if (unlinkat(dirfd, name, 0) == 0)
		ctx->rec->temps_removed++;
	close(fd);
	return 1;
}

/* recover_temps - remove hidden temporaries a dead writer left behind */
static int recover_temps(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	struct recover_ctx *ctx = arg;
	size_t n = strlen(name);

	if (f == F_SENT && recover_staged(sd, name, ctx))
		return 0;

	/* ctime, not mtime: a deferred temporary carries a future mtime. */
	if (*name == '.' && n > 4 && !strcmp(name + n - 4, ".tmp") &&
	        st->st_ctime < ctx->now - 600 && unlinkat(sd->fd[f], name, 0) == 0)
		ctx->rec->temps_removed++;
	return 0;
}

/* spooldir_recover - the start-up recovery, one process at a time */
int spooldir_recover(struct spooldir *sd, time_t now, struct spooldir_recovery *rec)
{
	struct recover_ctx ctx = {now, rec};
	int lock;

	memset(rec, 0, sizeof *rec);
	lock = openat(sd->root, ".recover.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		if (lock >= 0)
			close(lock);
		return -1;
	}
	spooldir_each(sd, F_ACTIVE, 1, recover_active, &ctx);
	spooldir_each(sd, F_TMP, 1, recover_tmp, &ctx);
	/* Only hidden names: sent/ and new/ can hold many thousand jobs. */
	for (int f = F_NEW; f < F_COUNT; f++)
		if (f != F_ACTIVE)
			spooldir_each(
			        sd, (enum folder)f, SPOOLDIR_EACH_HIDDEN, recover_temps, &ctx);
	for (int f = F_NEW; f < F_COUNT; f++)
		fsync(sd->fd[f]);
	close(lock);
	return 0;
}

struct prune_ctx {
	time_t now;
	int days;
	int removed;
};

/* prune_sent - remove a sent job (and its message) older than the limit */
static int prune_sent(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	struct prune_ctx *ctx = arg;

	if (st->st_mtime < ctx->now - (time_t)ctx->days * 86400 &&
	        spooldir_unlink(sd, f, name) == 0)
		ctx->removed++;
	return 0;
}

/* spooldir_prune - sent/ after sent_days; stale idempotency markers */
int spooldir_prune(struct spooldir *sd, time_t now, int sent_days, int dedupe_days)
{
	struct prune_ctx ctx = {now, sent_days, 0};
	int batch = sd->batch;

	spooldir_batch(sd, 1);
	if (sent_days > 0)
		spooldir_each(sd, F_SENT, 0, prune_sent, &ctx);
	ctx.removed += spooldir_ids_prune(sd, now, dedupe_days);
	spooldir_batch(sd, batch);
	return ctx.removed;
}
