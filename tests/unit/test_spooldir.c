/*
 * test_spooldir - the spool on disk (lib/spooldir.c): opening and
 * creating, job names, reads that refuse anything but a regular file of
 * bounded size, durable writes, gzip, claims (spooldir_recover.c), moves,
 * renames that never replace, unlink, locate, each, batched syncs.
 * Recovery, idempotency markers and pruning: test_spooldir_recover.c.
 *
 * Each test gets a fresh spool in a mkdtemp directory (spooldir_fixture.h).
 * "Another process" holding a lock is another open file description
 * holding a flock, which conflicts the same way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "spooldir.h"
#include "spooldir_fixture.h"

/* test_open - create makes every folder; open of a non-spool says so */
static void test_open(void **state)
{
	struct t *t = *state;
	struct spooldir sd;
	char err[256], p[400];
	struct stat st;

	for (int f = 0; f < F_COUNT; f++) {
		assert_int_equal(fstatat(t->sd.root, spooldir_folder_name(f), &st, 0), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(spooldir_folder_parse(spooldir_folder_name(f)), f);
	}
	assert_int_equal(fstatat(t->sd.root, "ids", &st, 0), 0);
	assert_int_equal(spooldir_folder_parse("ids"), -1);
	assert_int_equal(spooldir_folder_parse("bogus"), -1);
	assert_string_equal(spooldir_folder_name(F_COUNT), "?");
	assert_int_equal(spooldir_open(&sd, t->path, 0, err, sizeof err), 0);
	spooldir_close(&sd);
	snprintf(p, sizeof p, "%s/missing", t->dir);
	assert_int_equal(spooldir_open(&sd, p, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot open spool"));
	snprintf(p, sizeof p, "%s/empty", t->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(spooldir_open(&sd, p, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "is this a spool?"));
}

/* test_names - what a job name may be */
static void test_names(void **state)
{
	static const char *const good[] = {"a", "1764578400.M123456P45Q1.host", "job_1:x,y=z+w-v",
	        "A.b", "x.reason", "x.eml", NULL};
	static const char *const bad[] = {"", ".hidden", ".", "..", "a/b", "../etc/passwd", "a b",
	        "a\nb", "a\tb", "a*b", "caf\xc3\xa9", "x.reason.txt", "x.eml.gz", "a\\b", NULL};
	char name[SPOOLDIR_NAME_MAX + 2], prev[SPOOLDIR_NAME_MAX + 1] = "";

	(void)state;
	for (int i = 0; good[i]; i++)
		assert_true(spooldir_name_valid(good[i]));
	for (int i = 0; bad[i]; i++)
		assert_false(spooldir_name_valid(bad[i]));
	assert_false(spooldir_name_valid(NULL));
	memset(name, 'a', SPOOLDIR_NAME_MAX);
	name[SPOOLDIR_NAME_MAX] = '\0';
	assert_true(spooldir_name_valid(name));
	strcat(name, "a");
	assert_false(spooldir_name_valid(name));
	for (int i = 0; i < 1000; i++) {
		spooldir_newname(name, sizeof name);
		assert_true(spooldir_name_valid(name));
		assert_string_not_equal(name, prev);
		strcpy(prev, name);
	}
}

/* test_write_read - atomic write, read back, mtime, no temporaries left */
static void test_write_read(void **state)
{
	struct t *t = *state;
	char err[256], *buf;
	struct stat st;
	size_t len;

	assert_int_equal(spooldir_write(&t->sd, F_DEFERRED, "j", "hello", 5, 1800000000), 0);
	assert_int_equal(
	        spooldir_read(&t->sd, F_DEFERRED, "j", 5, &buf, &len, &st, err, sizeof err), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(st.st_mtime, 1800000000);
	free(buf);
	put(t, F_DEFERRED, "j", "again");
	assert_string_equal(content(t, F_DEFERRED, "j"), "again");
	assert_int_equal(entries(t, F_DEFERRED), 1);
	assert_int_equal(
	        spooldir_read(&t->sd, F_NEW, "none", 10, &buf, &len, NULL, err, sizeof err), -1);
	assert_int_equal(errno, ENOENT);
}

/* test_read_refuses - symlinks, FIFOs, directories and big files are not read */
static void test_read_refuses(void **state)
{
	struct t *t = *state;
	char err[256], *buf, big[101];
	size_t len;
	int fd;

	assert_int_equal(symlinkat("/etc/passwd", t->sd.fd[F_NEW], "link"), 0);
	assert_int_equal(
	        spooldir_read(&t->sd, F_NEW, "link", 1 << 20, &buf, &len, NULL, err, sizeof err),
	        -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "a symbolic link"));
	assert_int_equal(spooldir_claim(&t->sd, F_NEW, "link", &fd, NULL), -1);
	assert_true(has(t, F_NEW, "link"));

	assert_int_equal(mkfifoat(t->sd.fd[F_NEW], "fifo", 0600), 0);
	alarm(5); /* a blocking open would hang here: SIGALRM ends the test */
	assert_int_equal(
	        spooldir_read(&t->sd, F_NEW, "fifo", 100, &buf, &len, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "a FIFO"));
	assert_int_equal(spooldir_claim(&t->sd, F_NEW, "fifo", &fd, NULL), -1);
	assert_int_equal(errno, EINVAL);
	alarm(0);

	assert_int_equal(mkdirat(t->sd.fd[F_NEW], "dir", 0700), 0);
	assert_int_equal(
	        spooldir_read(&t->sd, F_NEW, "dir", 100, &buf, &len, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "a directory"));

	memset(big, 'x', 100);
	big[100] = '\0';
	put(t, F_NEW, "big", big);
	assert_int_equal(
	        spooldir_read(&t->sd, F_NEW, "big", 99, &buf, &len, NULL, err, sizeof err), -1);
	assert_int_equal(errno, EFBIG);
	assert_string_equal(err, "file is 100 bytes; the limit is 99");
	assert_int_equal(
	        spooldir_read(&t->sd, F_NEW, "big", 100, &buf, &len, NULL, err, sizeof err), 0);
	assert_int_equal(len, 100);
	free(buf);
}

/* test_gz - write_gz/read_gz round trip; damage is reported */
static void test_gz(void **state)
{
	struct t *t = *state;
	size_t n = 300000, len;
	char *data = malloc(n), *buf, err[256];
	unsigned char head[2];
	int fd;

	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i % 7 == 0 ? '\n' : 'a' + (i * 2654435761u >> 13) % 26);
	assert_int_equal(spooldir_write_gz(&t->sd, F_SENT, "m.eml.gz", data, n), 0);
	fd = openat(t->sd.fd[F_SENT], "m.eml.gz", O_RDONLY);
	assert_int_equal(read(fd, head, 2), 2);
	close(fd);
	assert_int_equal(head[0], 0x1f);
	assert_int_equal(head[1], 0x8b);
	assert_int_equal(
	        spooldir_read_gz(&t->sd, F_SENT, "m.eml.gz", &buf, &len, err, sizeof err), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	free(buf);
	assert_int_equal(spooldir_write_gz(&t->sd, F_SENT, "e.eml.gz", "", 0), 0);
	assert_int_equal(
	        spooldir_read_gz(&t->sd, F_SENT, "e.eml.gz", &buf, &len, err, sizeof err), 0);
	assert_int_equal(len, 0);
	free(buf);
	put(t, F_SENT, "bad.eml.gz", "\x1f\x8b not really gzip");
	assert_int_equal(
	        spooldir_read_gz(&t->sd, F_SENT, "bad.eml.gz", &buf, &len, err, sizeof err), -1);
	assert_non_null(strstr(err, "damaged compressed file"));
	free(data);
}

/* test_stage - a staged copy is hidden and locked until committed; a
 * dropped one leaves nothing */
static void test_stage(void **state)
{
	struct t *t = *state;
	struct spooldir_staged st;
	char err[256], *buf;
	size_t len;
	int other;

	assert_int_equal(spooldir_stage_gz(&t->sd, F_SENT, "a.eml.gz", "hello\r\n", 7, &st), 0);
	assert_true(st.fd >= 0);
	assert_false(has(t, F_SENT, "a.eml.gz"));
	assert_int_equal(entries(t, F_SENT), 1);
	other = openat(t->sd.fd[F_SENT], st.tmp, O_RDONLY);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1); /* its writer lives */
	close(other);
	assert_int_equal(spooldir_stage_commit(&t->sd, &st), 0);
	assert_int_equal(st.fd, -1);
	assert_int_equal(
	        spooldir_read_gz(&t->sd, F_SENT, "a.eml.gz", &buf, &len, err, sizeof err), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "hello\r\n", 7);
	free(buf);
	assert_int_equal(entries(t, F_SENT), 1);

	assert_int_equal(spooldir_stage_gz(&t->sd, F_SENT, "b.eml.gz", "x", 1, &st), 0);
	spooldir_stage_drop(&t->sd, &st);
	spooldir_stage_drop(&t->sd, &st); /* twice is harmless */
	assert_int_equal(entries(t, F_SENT), 1);
	assert_int_equal(spooldir_stage_commit(&t->sd, &st), -1);
	assert_int_equal(errno, EBADF);
}

/* test_claim - lock and rename; a second claim fails; locked jobs are skipped */
static void test_claim(void **state)
{
	struct t *t = *state;
	int fd, fd2, other;

	put(t, F_NEW, "a", job(0));
	assert_int_equal(spooldir_claim(&t->sd, F_NEW, "a", &fd, NULL), 0);
	assert_true(fd >= 0);
	assert_true(has(t, F_ACTIVE, "a"));
	assert_false(has(t, F_NEW, "a"));
	other = openat(t->sd.fd[F_ACTIVE], "a", O_RDONLY);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	close(other);
	assert_int_equal(spooldir_claim(&t->sd, F_NEW, "a", &fd2, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fd2, -1);
	close(fd);

	put(t, F_NEW, "b", job(0));
	other = other_lock(t, F_NEW, "b");
	assert_int_equal(spooldir_claim(&t->sd, F_NEW, "b", &fd, NULL), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_true(has(t, F_NEW, "b"));
	close(other);

	put(t, F_DEFERRED, "c", job(1));
	assert_int_equal(spooldir_claim(&t->sd, F_DEFERRED, "c", &fd, NULL), 0);
	assert_true(has(t, F_ACTIVE, "c") && !has(t, F_DEFERRED, "c"));
	close(fd);

	/* active/ already has the name: nothing moves */
	put(t, F_NEW, "a", job(0));
	assert_int_equal(spooldir_claim(&t->sd, F_NEW, "a", &fd, NULL), -1);
	assert_int_equal(errno, EEXIST);
	assert_true(has(t, F_NEW, "a"));
}

/* test_claim_duplicate - a name used elsewhere is claimed but reported */
static void test_claim_duplicate(void **state)
{
	struct t *t = *state;
	int fd;

	put(t, F_NEW, "d", job(0));
	put(t, F_SENT, "d", job(2));
	assert_int_equal(spooldir_claim(&t->sd, F_NEW, "d", &fd, NULL), -1);
	assert_int_equal(errno, EEXIST);
	assert_true(fd >= 0);
	/* Nothing is deleted: both copies are still there for the caller. */
	assert_string_equal(content(t, F_ACTIVE, "d"), job(0));
	assert_string_equal(content(t, F_SENT, "d"), job(2));
	assert_false(has(t, F_NEW, "d"));
	close(fd);
}

/* spare_name - this process's spare inode in active/ */
static const char *spare_name(void)
{
	static char buf[64];

	snprintf(buf, sizeof buf, ".spare.%ld.tmp", (long)getpid());
	return buf;
}

/* test_move_spare - a rewrite in active/ keeps the old inode as the spare and
 * the next rewrite fills it instead of creating a file; close removes it */
static void test_move_spare(void **state)
{
	struct t *t = *state;
	struct stat old, st, moved;
	char err[256];

	put(t, F_ACTIVE, "s1", job(0));
	put(t, F_ACTIVE, "s2", job(0));
	assert_int_equal(fstatat(t->sd.fd[F_ACTIVE], "s1", &old, 0), 0);
	assert_int_equal(
	        spooldir_move(&t->sd, F_ACTIVE, F_SENT, "s1", job(1), strlen(job(1)), 0), 0);
	assert_int_equal(fstatat(t->sd.fd[F_ACTIVE], spare_name(), &st, 0), 0);
	assert_int_equal(st.st_ino, old.st_ino); /* s1's old inode, kept */
	assert_int_equal(
	        spooldir_move(&t->sd, F_ACTIVE, F_SENT, "s2", job(2), strlen(job(2)), 0), 0);
	assert_int_equal(fstatat(t->sd.fd[F_SENT], "s2", &moved, 0), 0);
	assert_int_equal(moved.st_ino, old.st_ino); /* reused for s2's new text */
	assert_string_equal(content(t, F_SENT, "s1"), job(1));
	assert_string_equal(content(t, F_SENT, "s2"), job(2));
	assert_int_equal(entries(t, F_ACTIVE), 1);
	/* a spare that held a longer job (two blocks) is overwritten in
	 * place and cut to the new length, with the mtime asked for */
	char big[6000];
	time_t when = time(NULL) + 7200;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	put(t, F_ACTIVE, "s4", big);
	put(t, F_ACTIVE, "s5", job(0));
	assert_int_equal(
	        spooldir_move(&t->sd, F_ACTIVE, F_SENT, "s4", job(1), strlen(job(1)), 0), 0);
	assert_int_equal(spooldir_move(&t->sd, F_ACTIVE, F_DEFERRED, "s5", "short", 5, when), 0);
	assert_string_equal(content(t, F_DEFERRED, "s5"), "short");
	assert_int_equal(fstatat(t->sd.fd[F_DEFERRED], "s5", &moved, 0), 0);
	assert_int_equal(moved.st_size, 5);
	assert_int_equal(moved.st_mtime, when);
	assert_string_equal(content(t, F_SENT, "s4"), job(1));
	/* a spare someone removed: the next rewrite creates a temporary again */
	assert_int_equal(unlinkat(t->sd.fd[F_ACTIVE], spare_name(), 0), 0);
	put(t, F_ACTIVE, "s3", job(0));
	assert_int_equal(
	        spooldir_move(&t->sd, F_ACTIVE, F_SENT, "s3", job(3), strlen(job(3)), 0), 0);
	assert_string_equal(content(t, F_SENT, "s3"), job(3));
	assert_true(has(t, F_ACTIVE, spare_name()));
	/* a job gone meanwhile is not brought back, the spare or not */
	assert_int_equal(spooldir_move(&t->sd, F_ACTIVE, F_SENT, "gone", "x", 1, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_false(has(t, F_ACTIVE, "gone"));
	assert_false(has(t, F_SENT, "gone"));
	int active = dup(t->sd.fd[F_ACTIVE]);
	spooldir_close(&t->sd);
	assert_int_equal(fstatat(active, spare_name(), &st, 0), -1);
	close(active);
	assert_int_equal(spooldir_open(&t->sd, t->path, 0, err, sizeof err), 0);
}

/* test_move - rewrite with data and mtime, then rename; never replaces */
static void test_move(void **state)
{
	struct t *t = *state;
	time_t when = time(NULL) + 3600;
	struct stat st;

	put(t, F_ACTIVE, "m", job(0));
	assert_int_equal(
	        spooldir_move(&t->sd, F_ACTIVE, F_DEFERRED, "m", job(1), strlen(job(1)), when), 0);
	assert_false(has(t, F_ACTIVE, "m"));
	assert_string_equal(content(t, F_DEFERRED, "m"), job(1));
	assert_int_equal(fstatat(t->sd.fd[F_DEFERRED], "m", &st, 0), 0);
	assert_int_equal(st.st_mtime, when);
	assert_int_equal(entries(t, F_ACTIVE), 1); /* only the hidden spare inode */
	assert_true(has(t, F_ACTIVE, spare_name()));
	assert_int_equal(entries(t, F_DEFERRED), 1);

	assert_int_equal(spooldir_move(&t->sd, F_DEFERRED, F_NEW, "m", "x", 1, 0), 0);
	assert_int_equal(fstatat(t->sd.fd[F_NEW], "m", &st, 0), 0);
	assert_true(st.st_mtime <= time(NULL) && st.st_mtime > time(NULL) - 60);

	put(t, F_HOLD, "m", "held");
	assert_int_equal(spooldir_move(&t->sd, F_NEW, F_HOLD, "m", "y", 1, 0), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(content(t, F_HOLD, "m"), "held");
	assert_true(has(t, F_NEW, "m"));
	assert_int_equal(entries(t, F_NEW), 1);
}

/* test_move_gone - moving a job someone else moved must not recreate it */
static void test_move_gone(void **state)
{
	struct t *t = *state;

	assert_int_equal(spooldir_move(&t->sd, F_FAILED, F_NEW, "ghost", "x", 1, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_false(has(t, F_NEW, "ghost") || has(t, F_FAILED, "ghost"));
}

/* test_rename - never replaces, keeps the mtime, ENOENT when gone */
static void test_rename(void **state)
{
	struct t *t = *state;
	struct stat st;

	assert_int_equal(spooldir_write(&t->sd, F_DEFERRED, "r", "one", 3, 1800000000), 0);
	put(t, F_HOLD, "r", "two");
	assert_int_equal(spooldir_rename(&t->sd, F_DEFERRED, F_HOLD, "r"), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(content(t, F_DEFERRED, "r"), "one");
	assert_string_equal(content(t, F_HOLD, "r"), "two");
	assert_int_equal(spooldir_rename(&t->sd, F_DEFERRED, F_NEW, "r"), 0);
	assert_int_equal(fstatat(t->sd.fd[F_NEW], "r", &st, 0), 0);
	assert_int_equal(st.st_mtime, 1800000000);
	assert_int_equal(spooldir_rename(&t->sd, F_DEFERRED, F_NEW, "r"), -1);
	assert_int_equal(errno, ENOENT);
}

/* test_unlink_locate_each - side files go with the job; what each skips */
static void test_unlink_locate_each(void **state)
{
	struct t *t = *state;
	int n = 0;

	put(t, F_FAILED, "u", job(1));
	put(t, F_FAILED, "u.reason.txt", "why");
	put(t, F_FAILED, "u.eml.gz", "msg");
	put(t, F_FAILED, ".hidden", "tmp");
	assert_int_equal(mkfifoat(t->sd.fd[F_FAILED], "bad name", 0600), 0);
	assert_int_equal(spooldir_locate(&t->sd, "u"), F_FAILED);
	put(t, F_TMP, "t", "x");
	assert_int_equal(spooldir_locate(&t->sd, "t"), -1);
	assert_int_equal(spooldir_each(&t->sd, F_FAILED, 0, count_cb, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(entries(t, F_FAILED), 5);
	assert_int_equal(spooldir_unlink(&t->sd, F_FAILED, "u"), 0);
	assert_int_equal(entries(t, F_FAILED), 2);
	assert_int_equal(spooldir_locate(&t->sd, "u"), -1);
	assert_int_equal(spooldir_unlink(&t->sd, F_FAILED, "u"), -1);
	assert_int_equal(errno, ENOENT);
}

/* stop_cb - stop spooldir_each at the first entry */
static int stop_cb(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	(void)sd;
	(void)f;
	(void)name;
	(void)st;
	(void)arg;
	return 7;
}

/* test_batch - collected syncs, flushed together; each stops on request */
static void test_batch(void **state)
{
	struct t *t = *state;
	char name[16];

	spooldir_batch(&t->sd, 1);
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof name, "b%d", i);
		put(t, F_NEW, name, job(0));
	}
	assert_int_equal(spooldir_rename(&t->sd, F_NEW, F_HOLD, "b0"), 0);
	assert_int_equal(spooldir_flush(&t->sd), 0);
	spooldir_batch(&t->sd, 0);
	assert_int_equal(entries(t, F_NEW), 149);
	assert_int_equal(t->sd.npending, 0);
	assert_int_equal(spooldir_each(&t->sd, F_NEW, 0, stop_cb, NULL), 7);
}

/* main - every test on a fresh spool */
int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_open),
	        T(test_names),
	        T(test_write_read),
	        T(test_read_refuses),
	        T(test_gz),
	        T(test_claim),
	        T(test_claim_duplicate),
	        T(test_move),
	        T(test_stage),
	        T(test_move_spare),
	        T(test_move_gone),
	        T(test_rename),
	        T(test_unlink_locate_each),
	        T(test_batch),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
