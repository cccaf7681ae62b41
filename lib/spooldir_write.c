/*
 * spooldir_write - durable writes and rewrites of files in the spool.
 *
 * spooldir_write replaces folder/name atomically: the data goes to a
 * hidden temporary in the folder (sd_write_temp, locked first in active/),
 * which is renamed over the name and synced.  spooldir_write_gz does the
 * same with the data gzip-compressed by one deflate state kept for the
 * process (spooldir_gz_release frees it).  spooldir_move rewrites a job and
 * renames it into another folder; in active/ the rewrite fills this
 * process's spare inode (sd_spare_name) instead of creating a file, and
 * the job's old inode, exchanged out, becomes the next spare (spooldir.h,
 * "Inodes are recycled").  Syncs go through sd_sync_file and sd_sync_dir
 * of spooldir.c, so spooldir_batch collects them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "pid.h"
#include "spooldir.h"
#include "spooldir_int.h"

/* sd_spare_name - the name of this process's spare inode in active/ */
const char *sd_spare_name(char *buf, size_t len)
{
	snprintf(buf, len, ".spare.%ld.tmp", (long)pid_self());
	return buf;
}

/* sd_mtime - set fd's mtime (0: leave it) */
static int sd_mtime(int fd, time_t mtime)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = mtime}};

	return mtime ? futimens(fd, ts) : 0;
}

/* sd_fill - write all of data to fd, then set its mtime (0: leave it) */
static int sd_fill(int fd, const char *data, size_t len, time_t mtime)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return sd_mtime(fd, mtime);
}

/* sd_write_temp - write data to a hidden temporary in dirfd; returns its fd */
int sd_write_temp(struct spooldir *sd, int dirfd, const char *name, const char *data, size_t len,
        time_t mtime, int lock, char *tmpname, size_t tmplen)
{
	static unsigned seq;
	int fd;

	(void)sd;
	snprintf(tmpname, tmplen, ".%s.%ld.%u.tmp", name, (long)pid_self(), ++seq);
	fd = openat(dirfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (lock && flock(fd, LOCK_EX | LOCK_NB) < 0)
		goto fail;
	if (sd_fill(fd, data, len, mtime) < 0)
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	unlinkat(dirfd, tmpname, 0);
	errno = e;
	return -1;
}

/* sd_stage - data into a hidden temporary in folder f, to be named name */
static int sd_stage(struct spooldir *sd, enum folder f, const char *name, const char *data,
        size_t len, time_t mtime, int lock, struct spooldir_staged *st)
{
	st->f = f;
	snprintf(st->name, sizeof st->name, "%s", name);
	st->fd =
	        sd_write_temp(sd, sd->fd[f], name, data, len, mtime, lock, st->tmp, sizeof st->tmp);
	return st->fd < 0 ? -1 : 0;
}

/* spooldir_stage_commit - the staged file takes its name, durably */
int spooldir_stage_commit(struct spooldir *sd, struct spooldir_staged *st)
{
	int fd = st->fd;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (renameat(sd->fd[st->f], st->tmp, sd->fd[st->f], st->name) < 0) {
		spooldir_stage_drop(sd, st);
		return -1;
	}
	st->fd = -1;
	if (sd_sync_file(sd, fd) < 0)
		return -1;
	return sd_sync_dir(sd, st->f);
}

/* spooldir_stage_drop - remove the staged file, if any */
void spooldir_stage_drop(struct spooldir *sd, struct spooldir_staged *st)
{
	int e = errno;

	if (st->fd < 0)
		return;
	unlinkat(sd->fd[st->f], st->tmp, 0);
	close(st->fd);
	st->fd = -1;
	errno = e;
}

/* spooldir_write - atomic, durable replacement of folder/name */
int spooldir_write(struct spooldir *sd, enum folder f, const char *name, const char *data,
        size_t len, time_t mtime)
{
	struct spooldir_staged st;

	/* ids/ and state/ may not exist yet in a spool spoold never opened. */
	if (sd->fd[f] < 0 && (int)f >= F_IDS) {
		const char *dir = (int)f == F_IDS ? "ids" : "state";
		if (mkdirat(sd->root, dir, 0750) < 0 && errno != EEXIST)
			return -1;
		sd->fd[f] = openat(sd->root, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sd->fd[f] < 0)
			return -1;
	}
	/* Locked in active/ (see spooldir.h) and in sent/, where recovery
	 * completes an unlocked staged copy (spooldir_recover.c). */
	if (sd_stage(sd, f, name, data, len, mtime, f == F_ACTIVE || f == F_SENT, &st) < 0)
		return -1;
	return spooldir_stage_commit(sd, &st);
}

/* One deflate state for the process: set up once (about 150 KB), reset per
 * message, so a drain does not allocate and return it for every job.  Level
 * 1: a few kilobytes of message fit one block at any level, and it takes a
 * quarter less time than the default 6.  memLevel 6, not 8: each reset
 * clears the hash table, 16 KB instead of 64 KB, and a message of a few
 * kilobytes compresses the same. */
static z_stream deflater;
static int gz_ready;

/* gz_compress - data gzip-compressed into a new buffer (*out, free() it) */
static int gz_compress(const char *data, size_t len, unsigned char **out, size_t *outlen)
{
	uLong cap = compressBound((uLong)len) + 64;

	*out = malloc(cap);
	if (!*out)
		return -1;
	if (!gz_ready) {
		if (deflateInit2(&deflater, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 6,
		            Z_DEFAULT_STRATEGY) != Z_OK) {
			free(*out);
			errno = ENOMEM;
			return -1;
		}
		gz_ready = 1;
	} else if (deflateReset(&deflater) != Z_OK) {
		free(*out);
		errno = EIO;
		return -1;
	}
	deflater.next_in = (unsigned char *)(uintptr_t)data;
	deflater.avail_in = (uInt)len;
	deflater.next_out = *out;
	deflater.avail_out = (uInt)cap;
	if (deflate(&deflater, Z_FINISH) != Z_STREAM_END) {
		free(*out);
		errno = EIO;
		return -1;
	}
	*outlen = deflater.total_out;
	return 0;
}

/* spooldir_write_gz - write gzip-compressed data as folder/name */
int spooldir_write_gz(
        struct spooldir *sd, enum folder f, const char *name, const char *data, size_t len)
{
	unsigned char *out;
	size_t n;

	if (gz_compress(data, len, &out, &n) < 0)
		return -1;
	int rc = spooldir_write(sd, f, name, (char *)out, n, 0);
	free(out);
	return rc;
}

/* spooldir_stage_gz - write gzip-compressed data, locked, to be folder/name */
int spooldir_stage_gz(struct spooldir *sd, enum folder f, const char *name, const char *data,
        size_t len, struct spooldir_staged *st)
{
	unsigned char *out;
	size_t n;

	st->fd = -1;
	if (gz_compress(data, len, &out, &n) < 0)
		return -1;
	int rc = sd_stage(sd, f, name, (char *)out, n, 0, 1, st);
	free(out);
	return rc;
}

/* spooldir_gz_release - free the deflate state (at exit, for leak checkers) */
void spooldir_gz_release(void)
{
	if (gz_ready)
		deflateEnd(&deflater);
	gz_ready = 0;
}

/* sd_replace - put tmp in the place of name, only while name exists (a job
 * someone else moved or deleted meanwhile must not be brought back); 1 when
 * exchanged (tmp now names the old inode), 0 when replaced, -1 */
static int sd_replace(int dirfd, const char *tmp, const char *name)
{
	struct stat st;

	if (renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE) == 0)
		return 1;
	if (errno != EINVAL && errno != ENOSYS)
		return -1; /* ENOENT: the job is gone */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return renameat(dirfd, tmp, dirfd, name);
}

/* sd_spare_write - data into this process's spare inode in active/ (opened,
 * locked, overwritten, then cut to length): its descriptor and name, or -1
 * when there is no usable spare (the caller then creates a temporary as
 * usual).  Not O_TRUNC: freeing the old block and allocating another costs
 * a synchronous discard on a filesystem mounted with -o discard (about a
 * quarter of a drain's time on such a disk); a job that still fits the
 * old block keeps it. */
static int sd_spare_write(struct spooldir *sd, const char *data, size_t len, time_t mtime,
        char *tmpname, size_t tmplen)
{
	int dirfd = sd->fd[F_ACTIVE], fd;

	if (!sd->spare)
		return -1;
	sd->spare = 0;
	sd_spare_name(tmpname, tmplen);
	fd = openat(dirfd, tmpname, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		goto fail;
	if (sd_fill(fd, data, len, 0) < 0 || ftruncate(fd, (off_t)len) < 0 ||
	        sd_mtime(fd, mtime) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* spooldir_move - rewrite the job, then move it to another folder */
int spooldir_move(struct spooldir *sd, enum folder from, enum folder to, const char *name,
        const char *data, size_t len, time_t mtime)
{
	char tmp[SPOOLDIR_NAME_MAX + 64], spare[64];
	int fd = -1, rc = -1;

	if (from == F_ACTIVE && (fd = sd_spare_write(sd, data, len, mtime, tmp, sizeof tmp)) >= 0 &&
	        (rc = sd_replace(sd->fd[from], tmp, name)) < 0 && errno == ENOENT) {
		close(fd); /* the spare or the job went away: try the usual way */
		unlinkat(sd->fd[from], tmp, 0);
		fd = -1;
	}
	if (fd < 0) {
		fd = sd_write_temp(sd, sd->fd[from], name, data, len, mtime, from == F_ACTIVE, tmp,
		        sizeof tmp);
		if (fd < 0)
			return -1;
		rc = sd_replace(sd->fd[from], tmp, name);
	}
	/* exchanged: tmp names the old inode, kept as the spare in active/ */
	if (rc == 1 && from == F_ACTIVE && !sd->spare &&
	        (!strcmp(tmp, sd_spare_name(spare, sizeof spare)) ||
	                renameat(sd->fd[from], tmp, sd->fd[from], spare) == 0))
		sd->spare = 1;
	else if (rc == 1 && unlinkat(sd->fd[from], tmp, 0) < 0 && errno != ENOENT)
		rc = -1;
	if (rc < 0 || sd_rename_noreplace(sd->fd[from], name, sd->fd[to], name) < 0) {
		int e = errno;
		close(fd);
		if (rc < 0)
			unlinkat(sd->fd[from], tmp, 0);
		errno = e;
		return -1;
	}
	if (sd_sync_file(sd, fd) < 0 || sd_sync_dir(sd, to) < 0)
		return -1;
	return sd_sync_dir(sd, from);
}
