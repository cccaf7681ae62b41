/*
 * test_spooldir_recover - start-up recovery (lib/spooldir_recover.c) from
 * every intermediate state a crash can leave, the idempotency markers
 * (lib/spooldir_ids.c) and pruning of sent/ and ids/.
 *
 * Each test gets a fresh spool in a mkdtemp directory (spooldir_fixture.h);
 * "another process" holding a lock is another open file description.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
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
#include <cmocka.h>
#include <gnutls/crypto.h>

#include "spooldir.h"
#include "spooldir_fixture.h"

/* test_recover_active - unlocked back to new/, locked stays, temporaries */
static void test_recover_active(void **state)
{
	struct t *t = *state;
	struct spooldir_recovery rec;
	int held, tmp;

	put(t, F_ACTIVE, "dead", job(1));
	put(t, F_ACTIVE, "live", job(1));
	put(t, F_ACTIVE, ".dead.1.1.tmp", "partial");
	put(t, F_ACTIVE, ".live.1.2.tmp", "partial");
	assert_int_equal(symlinkat("/etc/passwd", t->sd.fd[F_ACTIVE], "link"), 0);
	held = other_lock(t, F_ACTIVE, "live");
	tmp = other_lock(t, F_ACTIVE, ".live.1.2.tmp");
	/* A fresh temporary may not be locked yet: it is left alone. */
	assert_int_equal(spooldir_recover(&t->sd, time(NULL), &rec), 0);
	assert_true(has(t, F_ACTIVE, ".dead.1.1.tmp"));
	assert_int_equal(rec.temps_removed, 0);
	assert_int_equal(rec.active_returned, 1); /* dead */
	assert_int_equal(rec.corrupt, 1);         /* link */
	/* A minute later an unlocked temporary is a dead writer's. */
	assert_int_equal(spooldir_recover(&t->sd, time(NULL) + 120, &rec), 0);
	assert_true(has(t, F_NEW, "dead") && !has(t, F_ACTIVE, "dead"));
	assert_string_equal(content(t, F_NEW, "dead"), job(1));
	assert_true(has(t, F_ACTIVE, "live") && !has(t, F_NEW, "live"));
	assert_false(has(t, F_ACTIVE, ".dead.1.1.tmp"));
	assert_true(has(t, F_ACTIVE, ".live.1.2.tmp"));
	/* The symlink goes to corrupt/ under a fresh name, with a reason. */
	assert_false(has(t, F_ACTIVE, "link"));
	assert_int_equal(entries(t, F_CORRUPT), 2);
	assert_int_equal(rec.temps_removed, 1);
	assert_int_equal(rec.duplicates, 0);
	assert_int_equal(rec.active_returned, 0);
	close(held);
	close(tmp);
	assert_int_equal(spooldir_recover(&t->sd, time(NULL) + 120, &rec), 0);
	assert_true(has(t, F_NEW, "live"));
	assert_int_equal(rec.active_returned, 1);
	assert_int_equal(rec.temps_removed, 1);
	assert_int_equal(entries(t, F_ACTIVE), 0);
	assert_int_equal(spooldir_recover(&t->sd, time(NULL), &rec), 0);
	assert_int_equal(rec.active_returned + rec.temps_removed + rec.tmp_removed, 0);
}

/* test_recover_tmp - tmp/ files older than a day go; fresh ones and fresh
 * hidden temporaries elsewhere stay; old temporaries (by ctime) go */
static void test_recover_tmp(void **state)
{
	struct t *t = *state;
	struct spooldir_recovery rec;

	put(t, F_TMP, "stale", "x");
	put(t, F_TMP, "fresh", "x");
	put(t, F_TMP, ".stale.1.1.tmp", "x");
	age(t, F_TMP, "stale", 2 * 86400);
	age(t, F_TMP, ".stale.1.1.tmp", 2 * 86400);
	age(t, F_TMP, "fresh", 3600);
	put(t, F_DEFERRED, ".j.1.1.tmp", "x");
	put(t, F_DEFERRED, "j", job(0));
	assert_int_equal(spooldir_recover(&t->sd, time(NULL), &rec), 0);
	assert_false(has(t, F_TMP, "stale") || has(t, F_TMP, ".stale.1.1.tmp"));
	assert_true(has(t, F_TMP, "fresh"));
	assert_int_equal(rec.tmp_removed, 2);
	assert_true(has(t, F_DEFERRED, ".j.1.1.tmp"));
	/* Eleven minutes later the temporary is an orphan (ctime, not mtime). */
	assert_int_equal(spooldir_recover(&t->sd, time(NULL) + 660, &rec), 0);
	assert_false(has(t, F_DEFERRED, ".j.1.1.tmp"));
	assert_true(has(t, F_DEFERRED, "j"));
	assert_int_equal(rec.temps_removed, 1);
}

/* test_recover_staged - sent/: a dead writer's staged copy takes its name
 * when its job is in sent/ and is removed when not; a live writer's (still
 * locked) is left alone */
static void test_recover_staged(void **state)
{
	struct t *t = *state;
	struct spooldir_recovery rec;
	struct stat st;
	int live;

	put(t, F_SENT, "s1", job(1));
	put(t, F_SENT, ".s1.eml.gz.4242.7.tmp", "copy one");
	put(t, F_SENT, ".s2.eml.gz.4242.8.tmp", "job not in sent/");
	put(t, F_SENT, "s3", job(1));
	put(t, F_SENT, "s3.eml.gz", "kept already");
	put(t, F_SENT, ".s3.eml.gz.4242.9.tmp", "a second copy");
	put(t, F_SENT, "s4", job(1));
	put(t, F_SENT, ".s4.eml.gz.77.1.tmp", "still being written");
	live = openat(t->sd.fd[F_SENT], ".s4.eml.gz.77.1.tmp", O_RDONLY);
	assert_int_equal(flock(live, LOCK_EX), 0);
	put(t, F_SENT, ".s5.eml.gz.tmp", "not a staged name");
	assert_int_equal(spooldir_recover(&t->sd, time(NULL), &rec), 0);
	assert_int_equal(rec.staged_finished, 1);
	assert_int_equal(rec.temps_removed, 2);
	assert_string_equal(content(t, F_SENT, "s1.eml.gz"), "copy one");
	assert_false(has(t, F_SENT, ".s1.eml.gz.4242.7.tmp"));
	assert_false(has(t, F_SENT, ".s2.eml.gz.4242.8.tmp") || has(t, F_SENT, "s2.eml.gz"));
	assert_string_equal(content(t, F_SENT, "s3.eml.gz"), "kept already");
	assert_false(has(t, F_SENT, ".s3.eml.gz.4242.9.tmp"));
	assert_true(has(t, F_SENT, ".s4.eml.gz.77.1.tmp"));
	assert_false(has(t, F_SENT, "s4.eml.gz"));
	assert_true(has(t, F_SENT, ".s5.eml.gz.tmp")); /* the ten-minute rule */
	assert_int_equal(fstatat(t->sd.fd[F_SENT], "s1", &st, 0), 0);
	close(live);
}

/* test_recover_duplicates - a name in two folders: the longer history wins,
 * on a tie the more settled folder */
static void test_recover_duplicates(void **state)
{
	struct t *t = *state;
	struct spooldir_recovery rec;

	put(t, F_ACTIVE, "x", job(2));
	put(t, F_NEW, "x", job(0));
	put(t, F_ACTIVE, "y", job(0));
	put(t, F_FAILED, "y", job(1));
	put(t, F_ACTIVE, "z", job(1));
	put(t, F_SENT, "z", job(1));
	assert_int_equal(spooldir_recover(&t->sd, time(NULL), &rec), 0);
	assert_int_equal(rec.duplicates, 3);
	assert_string_equal(content(t, F_NEW, "x"), job(2));
	assert_int_equal(spooldir_locate(&t->sd, "y"), F_FAILED);
	assert_false(has(t, F_NEW, "y"));
	assert_int_equal(spooldir_locate(&t->sd, "z"), F_SENT);
	assert_false(has(t, F_NEW, "z"));
	assert_int_equal(entries(t, F_ACTIVE), 0);
	assert_int_equal(rec.active_returned, 1);
}

/* marker - the file name in ids/ of id: hex SHA-256 (static buffer) */
static const char *marker(const char *id)
{
	static char hex[65];
	unsigned char d[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, id, strlen(id), d);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return hex;
}

/* owner - the job a marker names: the target of its symbolic link (static buffer) */
static const char *owner(struct t *t, const char *m)
{
	static char buf[SPOOLDIR_NAME_MAX + 2];
	struct stat st;
	ssize_t n;

	assert_int_equal(fstatat(t->sd.fd[F_IDS], m, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(st.st_mode)); /* no data block: the name is in the inode */
	n = readlinkat(t->sd.fd[F_IDS], m, buf, sizeof buf - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	return buf;
}

/* test_dedupe - one id, one job, while the owner stands for it */
static void test_dedupe(void **state)
{
	static const enum folder live[] = {F_ACTIVE, F_NEW, F_DEFERRED, F_HOLD, F_SENT};
	struct t *t = *state;
	char other[SPOOLDIR_NAME_MAX + 2];
	const char *m = marker("appt-1");

	assert_int_equal(spooldir_dedupe(&t->sd, "appt-1", "A", 0, NULL, 0), 1);
	assert_int_equal(entries(t, F_IDS), 0);
	put(t, F_ACTIVE, "A", job(0));
	assert_int_equal(spooldir_dedupe(&t->sd, "appt-1", "A", 7, other, sizeof other), 1);
	assert_string_equal(owner(t, m), "A");
	assert_int_equal(spooldir_dedupe(&t->sd, "appt-1", "A", 7, other, sizeof other), 1);
	assert_int_equal(spooldir_dedupe(&t->sd, "appt-2", "B", 7, other, sizeof other), 1);
	assert_int_equal(entries(t, F_IDS), 2);
	for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
		if (i)
			assert_int_equal(spooldir_rename(&t->sd, live[i - 1], live[i], "A"), 0);
		other[0] = '\0';
		assert_int_equal(spooldir_dedupe(&t->sd, "appt-1", "C", 7, other, sizeof other), 0);
		assert_string_equal(other, "A");
	}
	/* A was sent more than dedupe days ago: the id is free. */
	age(t, F_IDS, m, 8 * 86400);
	assert_int_equal(spooldir_dedupe(&t->sd, "appt-1", "C", 7, other, sizeof other), 1);
	assert_string_equal(owner(t, m), "C");
	/* C failed: the id is free again. */
	put(t, F_FAILED, "C", job(1));
	assert_int_equal(spooldir_dedupe(&t->sd, "appt-1", "D", 7, other, sizeof other), 1);
	assert_string_equal(owner(t, m), "D");
	put(t, F_NEW, "D", job(0));
	assert_int_equal(spooldir_dedupe(&t->sd, "appt-1", "E", 7, NULL, 0), 0);
	spooldir_dedupe_release(&t->sd, "appt-1", "E");
	assert_true(has(t, F_IDS, m));
	spooldir_dedupe_release(&t->sd, "appt-1", "D");
	assert_false(has(t, F_IDS, m));
	assert_int_equal(spooldir_dedupe(&t->sd, "appt-1", "E", 7, NULL, 0), 1);
	assert_int_equal(entries(t, F_IDS), 2); /* no temporary left by the takeover */
}

/* test_dedupe_old_marker - a marker written as a regular file (spools
 * before 2026-11) still holds the id, and is taken over as a link */
static void test_dedupe_old_marker(void **state)
{
	struct t *t = *state;
	char other[SPOOLDIR_NAME_MAX + 2];
	const char *m = marker("appt-9");

	put(t, F_IDS, m, "OLD\n");
	put(t, F_DEFERRED, "OLD", job(1));
	assert_int_equal(spooldir_dedupe(&t->sd, "appt-9", "NEW", 7, other, sizeof other), 0);
	assert_string_equal(other, "OLD");
	spooldir_dedupe_release(&t->sd, "appt-9", "NEW");
	assert_true(has(t, F_IDS, m));
	assert_int_equal(spooldir_rename(&t->sd, F_DEFERRED, F_FAILED, "OLD"), 0);
	assert_int_equal(spooldir_dedupe(&t->sd, "appt-9", "NEW", 7, other, sizeof other), 1);
	assert_string_equal(owner(t, m), "NEW");
}

/* test_prune - sent/ after sent_days, with the message; stale markers */
static void test_prune(void **state)
{
	struct t *t = *state;

	put(t, F_SENT, "old", job(1));
	put(t, F_SENT, "old.eml.gz", "msg");
	put(t, F_SENT, "fresh", job(1));
	age(t, F_SENT, "old", 31 * 86400);
	age(t, F_SENT, "fresh", 29 * 86400);
	assert_int_equal(spooldir_prune(&t->sd, time(NULL), 0, 7), 0);
	assert_true(has(t, F_SENT, "old"));

	put(t, F_NEW, "waiting", job(0));
	assert_int_equal(spooldir_dedupe(&t->sd, "w", "waiting", 7, NULL, 0), 1);
	assert_int_equal(spooldir_dedupe(&t->sd, "g", "gone", 7, NULL, 0), 1);
	assert_int_equal(spooldir_dedupe(&t->sd, "h", "gone-too", 7, NULL, 0), 1);
	age(t, F_IDS, marker("w"), 30 * 86400);
	age(t, F_IDS, marker("g"), 30 * 86400);
	assert_int_equal(spooldir_prune(&t->sd, time(NULL), 30, 7), 2);
	assert_false(has(t, F_SENT, "old") || has(t, F_SENT, "old.eml.gz"));
	assert_true(has(t, F_SENT, "fresh"));
	assert_true(has(t, F_IDS, marker("w"))); /* its owner still waits */
	assert_false(has(t, F_IDS, marker("g")));
	assert_true(has(t, F_IDS, marker("h"))); /* within the window */
}

/* main - every test on a fresh spool */
int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_recover_active),
	        T(test_recover_tmp),
	        T(test_recover_staged),
	        T(test_recover_duplicates),
	        T(test_dedupe),
	        T(test_dedupe_old_marker),
	        T(test_prune),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
