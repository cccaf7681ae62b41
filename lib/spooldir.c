/*
 * spooldir - folders, names, reads, durable syncs and renames.
 *
 * See spooldir.h for the rules.  Everything is relative to directory
 * descriptors opened once by spooldir_open; a job name is checked by
 * spooldir_name_valid before it is used.  The syncs of a change are done
 * here, at once or collected for spooldir_flush (sd_sync_file and
 * sd_sync_dir, shared through spooldir_int.h).  Writes and rewrites (the
 * spare inode) live in spooldir_write.c; claims, recovery, pruning and the
 * idempotency markers in spooldir_recover.c and spooldir_ids.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include "pid.h"
#include "spooldir.h"
#include "spooldir_int.h"

static const char *const folder_names[F_COUNT] = {
        "tmp",
        "new",
        "active",
        "deferred",
        "hold",
        "sent",
        "failed",
        "corrupt",
};

/* spooldir_folder_name - the folder's directory name */
const char *spooldir_folder_name(enum folder f)
{
	return (unsigned)f < F_COUNT ? folder_names[f] : "?";
}

/* spooldir_folder_parse - folder by directory name, or -1 */
int spooldir_folder_parse(const char *name)
{
	for (int f = 0; f < F_COUNT; f++)
		if (!strcmp(name, folder_names[f]))
			return f;
	return -1;
}

/* spooldir_open - open (and with create, make) the spool */
int spooldir_open(struct spooldir *sd, const char *path, int create, char *err, size_t errlen)
{
	memset(sd, 0, sizeof *sd);
	sd->root = -1;
	for (int f = 0; f <= F_STATE; f++)
		sd->fd[f] = -1;
	if (create && mkdir(path, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create spool %s: %s", path, strerror(errno));
		return -1;
	}
	sd->root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sd->root < 0) {
		snprintf(err, errlen, "cannot open spool %s: %s", path, strerror(errno));
		return -1;
	}
	sd->path = strdup(path);
	for (int f = 0; f <= F_STATE; f++) {
		const char *name = f == F_IDS ? "ids" : f == F_STATE ? "state" : folder_names[f];
		int *fdp = &sd->fd[f];
		if (create && mkdirat(sd->root, name, f == F_TMP || f == F_NEW ? 0770 : 0750) < 0 &&
		        errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s/%s: %s", path, name,
			        strerror(errno));
			goto fail;
		}
		*fdp = openat(sd->root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (*fdp < 0 && f >= F_IDS && errno == ENOENT)
			continue; /* made by spoold at its first start; readers do without */
		if (*fdp < 0) {
			snprintf(err, errlen, "cannot open %s/%s: %s%s", path, name,
			        strerror(errno),
			        errno == ENOENT ? " (is this a spool? spoold creates it)" : "");
			goto fail;
		}
	}
	return 0;
fail:
	spooldir_close(sd);
	return -1;
}

/* spooldir_close - flush pending syncs and close every descriptor */
void spooldir_close(struct spooldir *sd)
{
	if (sd->root >= 0)
		spooldir_flush(sd);
	if (sd->spare && sd->fd[F_ACTIVE] >= 0) {
		char spare[64];
		unlinkat(sd->fd[F_ACTIVE], sd_spare_name(spare, sizeof spare), 0);
	}
	for (int f = 0; f <= F_STATE; f++)
		if (sd->fd[f] >= 0)
			close(sd->fd[f]);
	if (sd->root >= 0)
		close(sd->root);
	free(sd->pending);
	free(sd->path);
	memset(sd, 0, sizeof *sd);
	sd->root = -1;
	for (int f = 0; f <= F_STATE; f++)
		sd->fd[f] = -1;
}

/* has_suffix - 1 when s ends in suf */
static int has_suffix(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);
	return len >= n && !memcmp(s + len - n, suf, n);
}

/* spooldir_name_valid - a safe job name */
int spooldir_name_valid(const char *name)
{
	size_t len = 0;

	if (!name || !*name || *name == '.')
		return 0;
	for (const char *p = name; *p; p++, len++) {
		unsigned char c = (unsigned char)*p;
		if (len >= SPOOLDIR_NAME_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		            strchr("._:,=+-", c)))
			return 0;
	}
	return !has_suffix(name, len, SPOOLDIR_REASON_SUFFIX) &&
	       !has_suffix(name, len, SPOOLDIR_EML_SUFFIX);
}

/* spooldir_newname - a unique name: seconds.Mmicros.Ppid.Qcount.host */
char *spooldir_newname(char *buf, size_t len)
{
	static unsigned counter;
	static char host[64]; /* asked once: the name only has to be unique */
	struct timeval tv;

	if (!host[0]) {
		if (gethostname(host, sizeof host) < 0 || !host[0])
			strcpy(host, "localhost");
		host[sizeof host - 1] = '\0';
		for (char *p = host; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
				*p = '-';
	}
	gettimeofday(&tv, NULL);
	snprintf(buf, len, "%lld.M%06ldP%ldQ%u.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
	        (long)pid_self(), ++counter, host);
	return buf;
}

/* sd_sync_file - fdatasync now, or later with the batch; closes fd */
int sd_sync_file(struct spooldir *sd, int fd)
{
	if (sd->batch) {
		if (sd->npending == sd->cpending) {
			size_t n = sd->cpending ? sd->cpending * 2 : 64;
			int *p = realloc(sd->pending, n * sizeof *p);
			if (!p)
				goto now;
			sd->pending = p;
			sd->cpending = n;
		}
		sd->pending[sd->npending++] = fd;
		return 0;
	}
now:
	if (fdatasync(fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* sd_sync_dir - fsync a folder now, or mark it for the batch */
int sd_sync_dir(struct spooldir *sd, enum folder f)
{
	if (sd->batch) {
		sd->dirty[f] = 1;
		return 0;
	}
	return fsync(sd->fd[f]);
}

/* spooldir_batch - collect syncs (on) or flush and stop collecting (off) */
void spooldir_batch(struct spooldir *sd, int on)
{
	if (!on)
		spooldir_flush(sd);
	sd->batch = on;
}

/* spooldir_flush - make every collected change durable
 *
 * Many changes: one syncfs() of the spool's file system costs one journal
 * commit instead of one per file.  A few: fdatasync each file, fsync each
 * touched folder. */
int spooldir_flush(struct spooldir *sd)
{
	int rc = 0, many = sd->npending >= 8;

	if (many && syncfs(sd->root) < 0)
		rc = -1;
	for (size_t i = 0; i < sd->npending; i++) {
		if (!many && fdatasync(sd->pending[i]) < 0)
			rc = -1;
		close(sd->pending[i]);
	}
	sd->npending = 0;
	for (int f = 0; f <= F_STATE; f++)
		if (sd->dirty[f]) {
			if (!many && fsync(sd->fd[f]) < 0)
				rc = -1;
			sd->dirty[f] = 0;
		}
	return rc;
}

/* sd_rename_noreplace - rename that never replaces an existing name */
int sd_rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: check, then rename. */
	struct stat st;
	if (fstatat(tofd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(fromfd, from, tofd, to);
}

/* sd_open_regular - open folder/name for reading only if it is a regular file */
int sd_open_regular(
        struct spooldir *sd, int dirfd, const char *name, struct stat *st, char *err, size_t errlen)
{
	struct stat lst;
	int fd;

	if (fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(lst.st_mode)) {
		snprintf(err, errlen, "not a regular file (%s); never opened",
		        S_ISLNK(lst.st_mode)    ? "a symbolic link"
		        : S_ISFIFO(lst.st_mode) ? "a FIFO"
		        : S_ISDIR(lst.st_mode)  ? "a directory"
		        : S_ISSOCK(lst.st_mode) ? "a socket"
		                                : "a device");
		errno = EINVAL;
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "not a regular file; never read");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	(void)sd;
	return fd;
}

/* sd_read_fd - read a whole open file of known size (at most max) */
int sd_read_fd(int fd, const struct stat *st, size_t max, char **buf, size_t *len, char *err,
        size_t errlen)
{
	size_t size = (size_t)st->st_size, got = 0;
	char *b;

	if (st->st_size < 0 || size > max) {
		snprintf(err, errlen, "file is %lld bytes; the limit is %zu",
		        (long long)st->st_size, max);
		errno = EFBIG;
		return -1;
	}
	b = malloc(size + 1);
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (got < size) {
		ssize_t n = pread(fd, b + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "read: %s", n < 0 ? strerror(errno) : "file shrank");
			free(b);
			return -1;
		}
		got += (size_t)n;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

/* spooldir_read_fd - read a whole open regular file */
int spooldir_read_fd(int fd, const struct stat *st, size_t max, char **buf, size_t *len, char *err,
        size_t errlen)
{
	struct stat own;

	if (!st && fstat(fd, &own) == 0)
		st = &own;
	if (!st || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "not a regular file; never read");
		errno = EINVAL;
		return -1;
	}
	return sd_read_fd(fd, st, max, buf, len, err, errlen);
}

/* spooldir_read - read a regular file of a folder */
int spooldir_read(struct spooldir *sd, enum folder f, const char *name, size_t max, char **buf,
        size_t *len, struct stat *st, char *err, size_t errlen)
{
	struct stat tmp;
	int fd, rc;

	if (!st)
		st = &tmp;
	fd = sd_open_regular(sd, sd->fd[f], name, st, err, errlen);
	if (fd < 0)
		return -1;
	rc = sd_read_fd(fd, st, max, buf, len, err, errlen);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* spooldir_read_gz - read and decompress folder/name */
int spooldir_read_gz(struct spooldir *sd, enum folder f, const char *name, char **buf, size_t *len,
        char *err, size_t errlen)
{
	char *gz;
	size_t gzlen, cap = 65536, used = 0;
	z_stream z = {0};
	char *out;
	int rc;

	if (spooldir_read(sd, f, name, 64 << 20, &gz, &gzlen, NULL, err, errlen) < 0)
		return -1;
	out = malloc(cap);
	if (!out || inflateInit2(&z, 15 + 32) != Z_OK) {
		free(out);
		free(gz);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	z.next_in = (unsigned char *)gz;
	z.avail_in = (uInt)gzlen;
	do {
		if (cap - used < 4096) {
			char *n = realloc(out, cap * 2);
			if (!n) {
				rc = Z_MEM_ERROR;
				break;
			}
			out = n;
			cap *= 2;
		}
		z.next_out = (unsigned char *)out + used;
		z.avail_out = (uInt)(cap - used - 1);
		rc = inflate(&z, Z_NO_FLUSH);
		used = cap - 1 - z.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	free(gz);
	if (rc != Z_STREAM_END) {
		snprintf(err, errlen, "%s: damaged compressed file (zlib error %d)", name, rc);
		free(out);
		return -1;
	}
	out[used] = '\0';
	*buf = out;
	*len = used;
	return 0;
}

/* spooldir_rename - durable move between folders, never replacing */
int spooldir_rename(struct spooldir *sd, enum folder from, enum folder to, const char *name)
{
	if (sd_rename_noreplace(sd->fd[from], name, sd->fd[to], name) < 0)
		return -1;
	if (sd_sync_dir(sd, to) < 0)
		return -1;
	return from == F_ACTIVE || from == F_NEW ? 0 : sd_sync_dir(sd, from);
}

/* spooldir_unlink - remove a job and its side files */
int spooldir_unlink(struct spooldir *sd, enum folder f, const char *name)
{
	char side[SPOOLDIR_NAME_MAX + 32];
	int rc = unlinkat(sd->fd[f], name, 0);

	if (rc < 0 && errno != ENOENT)
		return -1;
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_REASON_SUFFIX);
	unlinkat(sd->fd[f], side, 0);
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_EML_SUFFIX);
	unlinkat(sd->fd[f], side, 0);
	if (sd_sync_dir(sd, f) < 0)
		return -1;
	return rc;
}

/* spooldir_locate - the folder holding name (tmp/ excluded), or -1 */
int spooldir_locate(struct spooldir *sd, const char *name)
{
	struct stat st;

	for (int f = F_NEW; f < F_COUNT; f++)
		if (fstatat(sd->fd[f], name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return f;
	return -1;
}

/* spooldir_each - iterate over a folder's entries */
int spooldir_each(struct spooldir *sd, enum folder f, int all, spooldir_fn fn, void *arg)
{
	int fd = dup(sd->fd[f]);
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!all && !spooldir_name_valid(de->d_name))
			continue;
		if (all == SPOOLDIR_EACH_HIDDEN && de->d_name[0] != '.')
			continue;
		if (fstatat(sd->fd[f], de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		rc = fn(sd, f, de->d_name, &st, arg);
	}
	closedir(d);
	return rc;
}

/* spooldir_count - job names in a folder, from readdir alone */
long spooldir_count(struct spooldir *sd, enum folder f)
{
	int fd = dup(sd->fd[f]);
	struct dirent *de;
	long n = 0;
	DIR *d;

	if (fd < 0)
		return -1;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (spooldir_name_valid(de->d_name))
			n++;
	closedir(d);
	return n;
}
