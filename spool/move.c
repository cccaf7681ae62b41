/*
 * move - spool retry, hold, release, delete: staff move jobs by hand.
 *
 * Every move is one spooldir rename (never replacing a file), so a job is
 * always in exactly one folder.  A job in new/ or deferred/ is locked
 * first, as spoold locks before it claims, so spoold and a person never
 * both take it; a job in active/ is being sent right now and is left
 * alone (EX_TEMPFAIL).  retry rewrites the job on the way to new/: the
 * history stays, spool.reason becomes spool.previous_reason, the next
 * attempt is dropped and spool.retried is set.  A job leaving failed/ or
 * hold/ takes its reason file with it (removed), and delete removes the
 * side files too.  Each verb reports one line per job ("NAME: failed/ ->
 * new/").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "expiry.h"

const char help_retry[] =
        "usage: spool retry NAME...\n"
        "       spool retry --all\n"
        "       spool retry --to ADDRESS NAME\n"
        "\n"
        "Send failed or held jobs again: move them from failed/ or hold/ back to new/.\n"
        "The history is kept; the reason becomes spool.previous_reason and the reason\n"
        "file is removed.  Run it once the cause is fixed (for example after the mail\n"
        "account was re-verified with the provider).\n"
        "\n"
        "Options:\n"
        "  --all          every job in failed/ and hold/\n"
        "  --to ADDRESS   one job, to a corrected address (the patient gave it on the\n"
        "                 phone); the old one is kept as spool.previous_to.  Correct it\n"
        "                 in the scheduling software too, or the next reminder bounces.\n"
        "\n"
        "Exit status: 0 done; 66 no such job; 65 the job is elsewhere or unreadable,\n"
        "or ADDRESS is not a valid address; 64 usage.\n"
        "\n"
        "Examples:\n"
        "  spool retry --all\n"
        "  spool retry --to jane.doe@example.com 1764578400.M123456P45Q1.host\n";

static const char *retry_to; /* spool retry --to: the corrected address */

const char help_hold[] =
        "usage: spool hold NAME...\n"
        "\n"
        "Keep waiting jobs back: move them from new/ or deferred/ to hold/, where they\n"
        "stay (and never expire by themselves) until spool release or spool retry.\n"
        "\n"
        "Exit status: 0 done; 66 no such job; 65 not waiting; 75 being sent right now.\n"
        "\n"
        "Example:\n"
        "  spool hold 1764578400.M123456P45Q1.host\n";

const char help_release[] =
        "usage: spool release NAME...\n"
        "\n"
        "Let held jobs go: move them from hold/ to new/, to be sent as soon as due.\n"
        "The reason file beside a job (hold/NAME.reason.txt) is removed.\n"
        "\n"
        "Exit status: 0 done; 66 no such job; 65 not on hold.\n"
        "\n"
        "Example:\n"
        "  spool release 1764578400.M123456P45Q1.host\n";

const char help_delete[] =
        "usage: spool delete NAME...\n"
        "\n"
        "Remove jobs, from any folder but active/, with their side files (the reason\n"
        "file, the message as sent).  Prints what was removed.  There is no undo.\n"
        "\n"
        "Exit status: 0 done; 66 no such job; 75 being sent right now.\n"
        "\n"
        "Example:\n"
        "  spool delete 1764578400.M123456P45Q1.host\n";

/* lock_job - flock the job as spoold does before a claim; fd, or -1 with
 * EWOULDBLOCK (spoold is claiming it), ENOENT (moved), EINVAL (not a file) */
static int lock_job(struct cli *c, enum folder f, const char *name)
{
	struct stat st, again;
	int fd = openat(c->sd.fd[f], name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		errno = EWOULDBLOCK;
		return -1;
	}
	if (fstatat(c->sd.fd[f], name, &again, AT_SYMLINK_NOFOLLOW) < 0 ||
	        again.st_ino != st.st_ino || again.st_dev != st.st_dev) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
}

/* moved_err - a rename failed: say why, in the user's terms */
static int moved_err(struct cli *c, const char *name, enum folder from, enum folder to, int e)
{
	int now = spooldir_locate(&c->sd, name);

	if (e == EWOULDBLOCK || now == F_ACTIVE) {
		cli_err(c, "%s: is being sent right now (active/); try again in a moment", name);
		return EX_TEMPFAIL;
	}
	if (e == ENOENT) {
		if (now < 0)
			cli_err(c, "%s: was removed meanwhile", name);
		else
			cli_err(c, "%s: moved to %s/ meanwhile; nothing done", name,
			        spooldir_folder_name((enum folder)now));
		return EX_TEMPFAIL;
	}
	if (e == EEXIST)
		cli_err(c, "%s: %s/ already holds a job of that name; nothing done", name,
		        spooldir_folder_name(to));
	else
		cli_err(c, "%s: cannot move %s/ -> %s/: %s", name, spooldir_folder_name(from),
		        spooldir_folder_name(to), strerror(e));
	return e == EEXIST ? EX_CANTCREAT : EX_IOERR;
}

/* wrong_folder - the job is not where this verb takes jobs from */
static int wrong_folder(struct cli *c, const char *name, enum folder f, const char *want)
{
	if (f == F_ACTIVE)
		return moved_err(c, name, f, f, EWOULDBLOCK);
	cli_err(c, "%s: is in %s/, not %s", name, spooldir_folder_name(f), want);
	return EX_DATAERR;
}

/* drop_reason - the job left failed/, hold/ or corrupt/: its side files go too */
static void drop_reason(struct cli *c, enum folder from, const char *name)
{
	char side[SPOOLDIR_NAME_MAX + 32];

	if (from != F_FAILED && from != F_HOLD && from != F_CORRUPT)
		return;
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_REASON_SUFFIX);
	if (spooldir_unlink(&c->sd, from, side) < 0 && errno != ENOENT)
		cli_err(c, "%s/%s: cannot remove: %s", spooldir_folder_name(from), side,
		        strerror(errno));
	/* A bounced job's message as sent: the next attempt keeps its own. */
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_EML_SUFFIX);
	if (from == F_FAILED && unlinkat(c->sd.fd[from], side, 0) < 0 && errno != ENOENT)
		cli_err(c, "failed/%s: cannot remove: %s", side, strerror(errno));
}

/* rename_locked - lock (new/ and deferred/), rename, report */
static int rename_locked(struct cli *c, const char *name, enum folder from, enum folder to)
{
	int fd = -1, rc = 0;

	if ((from == F_NEW || from == F_DEFERRED) && (fd = lock_job(c, from, name)) < 0)
		rc = -1;
	if (rc == 0)
		rc = spooldir_rename(&c->sd, from, to, name);
	if (rc < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (e == EINVAL) {
			cli_err(c, "%s: not a regular file; only delete can remove it", name);
			return EX_DATAERR;
		}
		return moved_err(c, name, from, to, e);
	}
	if (fd >= 0)
		close(fd);
	drop_reason(c, from, name);
	printf("%s: %s/ -> %s/\n", name, spooldir_folder_name(from), spooldir_folder_name(to));
	return EX_OK;
}

/* retry_one - failed/ or hold/ -> new/, rewritten */
static int retry_one(struct cli *c, const char *name, enum folder f)
{
	char err[CLI_ERR_MAX], rel[CLI_TIME_MAX], *data;
	struct job j;
	time_t exp;

	if (f != F_FAILED && f != F_HOLD)
		return wrong_folder(c, name, f, "failed/ or hold/");
	if (cli_read_job(c, f, name, &j, NULL, NULL, err, sizeof err) < 0) {
		if (errno == ENOENT)
			return moved_err(c, name, f, F_NEW, ENOENT);
		cli_err(c,
		        "%s: cannot retry a job that does not parse (%s); fix it or submit it "
		        "again",
		        name, err);
		return EX_DATAERR;
	}
	if (retry_to) {
		job_spool_set_str(&j, "previous_to", j.to_email);
		json_object_set_new(json_object_get(j.root, "to"), "email", json_string(retry_to));
		j.to_email = NULL; /* freed with the old value */
	}
	if (job_spool_str(&j, "reason"))
		job_spool_set_str(&j, "previous_reason", job_spool_str(&j, "reason"));
	job_spool_set_str(&j, "reason", NULL);
	job_spool_set_str(&j, "category", NULL);
	job_spool_set_time(&j, "next_attempt", 0);
	job_spool_set_time(&j, "retried", c->now);
	exp = job_spool_time(&j, "expires");
	if (!exp && !(exp = j.expires) && !(exp = j.appt_start))
		exp = LONG_MAX; /* a recall's expiry counts from its first try: not yet */
	if (!(data = job_dump(&j))) {
		job_free(&j);
		cli_err(c, "%s: out of memory", name);
		return EX_OSERR;
	}
	job_free(&j);
	if (spooldir_move(&c->sd, f, F_NEW, name, data, strlen(data), 0) < 0) {
		int e = errno;
		free(data);
		return moved_err(c, name, f, F_NEW, e);
	}
	free(data);
	drop_reason(c, f, name);
	if (exp <= c->now)
		printf("%s: %s/ -> new/ (note: it expired %s; spoold will fail it again)\n", name,
		        spooldir_folder_name(f), cli_reltime(exp, c->now, rel, sizeof rel));
	else
		printf("%s: %s/ -> new/%s%s\n", name, spooldir_folder_name(f),
		        retry_to ? ", to " : "", retry_to ? retry_to : "");
	return EX_OK;
}

struct names {
	char **v;
	size_t n, cap;
};

/* collect_name - spooldir_each callback for retry --all: remember a name */
static int collect_name(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	struct names *nm = arg;

	(void)sd;
	(void)f;
	(void)st;
	if (nm->n == nm->cap) {
		size_t n = nm->cap ? nm->cap * 2 : 64;
		char **v = realloc(nm->v, n * sizeof *v);
		if (!v)
			return -1;
		nm->v = v;
		nm->cap = n;
	}
	return (nm->v[nm->n] = strdup(name)) ? (nm->n++, 0) : -1;
}

/* retry_all - every job in hold/ and failed/, listed first, then moved */
static int retry_all(struct cli *c)
{
	static const enum folder from[] = {F_HOLD, F_FAILED};
	int rc = EX_OK, done = 0;

	for (size_t k = 0; k < 2; k++) {
		struct names nm = {0};
		if (spooldir_each(&c->sd, from[k], 0, collect_name, &nm) != 0) {
			cli_err(c, "cannot read %s/%s: %s", c->sd.path,
			        spooldir_folder_name(from[k]), strerror(errno));
			rc = EX_IOERR;
		}
		for (size_t i = 0; i < nm.n; i++) {
			int r = retry_one(c, nm.v[i], from[k]);
			if (rc == EX_OK)
				rc = r;
			done++;
			free(nm.v[i]);
		}
		free(nm.v);
	}
	if (!done && rc == EX_OK)
		printf("nothing to retry: failed/ and hold/ are empty\n");
	return rc;
}

/* names_verb - parse NAME... (and --all for retry), open the spool */
static int names_verb(struct cli *c, int argc, char **argv, int *all)
{
	static const struct option lo[] = {{"all", 0, 0, 'a'}, {0, 0, 0, 0}};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", all ? lo : lo + 1, NULL)) != -1) {
		if (ch != 'a')
			return cli_badopt(c, ch, argv);
		*all = 1;
	}
	if (all && *all && optind < argc)
		return cli_usage(c, "give NAMEs or --all, not both");
	if ((!all || !*all) && optind == argc)
		return cli_usage(c, "which job? give its NAME%s", all ? " or --all" : "");
	for (int i = optind; i < argc; i++) {
		enum folder f;
		if (!spooldir_name_valid(argv[i]))
			return cli_find(c, argv[i], &f); /* says why; no spool needed */
	}
	return cli_open(c);
}

/* each_name - run fn for every NAME argument; the first failure's code */
static int each_name(
        struct cli *c, int argc, char **argv, int (*fn)(struct cli *, const char *, enum folder))
{
	int rc = EX_OK;

	for (int i = optind; i < argc; i++) {
		enum folder f;
		int r = cli_find(c, argv[i], &f);
		if (r == EX_OK)
			r = fn(c, argv[i], f);
		if (rc == EX_OK)
			rc = r;
	}
	return rc;
}

/* cmd_retry - spool retry */
int cmd_retry(struct cli *c, int argc, char **argv)
{
	char why[128];
	int all = 0, rc;

	/* --to ADDRESS comes first, for one NAME */
	if (argc >= 2 && (!strcmp(argv[1], "--to") || !strncmp(argv[1], "--to=", 5))) {
		int eq = argv[1][4] == '=';
		if (!eq && argc < 3)
			return cli_usage(c, "--to needs an ADDRESS");
		retry_to = eq ? argv[1] + 5 : argv[2];
		if (!addr_valid(retry_to, why, sizeof why)) {
			cli_err(c, "--to %s: not a valid address: %s", retry_to, why);
			return EX_DATAERR;
		}
		argv += eq ? 1 : 2;
		argc -= eq ? 1 : 2;
		if (argc != 2 || argv[1][0] == '-')
			return cli_usage(c, "--to takes exactly one job NAME");
	}
	if ((rc = names_verb(c, argc, argv, retry_to ? NULL : &all)) != EX_OK)
		return rc;
	return all ? retry_all(c) : each_name(c, argc, argv, retry_one);
}

/* hold_one - new/ or deferred/ -> hold/ */
static int hold_one(struct cli *c, const char *name, enum folder f)
{
	if (f == F_HOLD) {
		printf("%s: already in hold/\n", name);
		return EX_OK;
	}
	if (f != F_NEW && f != F_DEFERRED)
		return wrong_folder(c, name, f, "new/ or deferred/ (only waiting jobs are held)");
	return rename_locked(c, name, f, F_HOLD);
}

/* release_one - hold/ -> new/ */
static int release_one(struct cli *c, const char *name, enum folder f)
{
	if (f != F_HOLD)
		return wrong_folder(c, name, f, "hold/");
	return rename_locked(c, name, F_HOLD, F_NEW);
}

/* delete_one - remove the job and its side files from any folder but active/ */
static int delete_one(struct cli *c, const char *name, enum folder f)
{
	static const char *const sfx[] = {SPOOLDIR_REASON_SUFFIX, SPOOLDIR_EML_SUFFIX};
	char side[SPOOLDIR_NAME_MAX + 32], what[1024];
	const char *fn = spooldir_folder_name(f);
	struct stat st;
	size_t o;
	int fd = -1;

	if (f == F_ACTIVE)
		return moved_err(c, name, f, f, EWOULDBLOCK);
	if ((f == F_NEW || f == F_DEFERRED) && (fd = lock_job(c, f, name)) < 0 && errno != EINVAL)
		return moved_err(c, name, f, f, errno);
	o = (size_t)snprintf(what, sizeof what, "%s/%s", fn, name);
	for (size_t i = 0; i < 2; i++) {
		snprintf(side, sizeof side, "%s%s", name, sfx[i]);
		if (fstatat(c->sd.fd[f], side, &st, AT_SYMLINK_NOFOLLOW) == 0 && o < sizeof what)
			o += (size_t)snprintf(what + o, sizeof what - o, ", %s/%s", fn, side);
	}
	if (spooldir_unlink(&c->sd, f, name) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (e == ENOENT)
			return moved_err(c, name, f, f, ENOENT);
		cli_err(c, "%s: cannot remove %s/%s: %s", name, fn, name, strerror(e));
		return e == EACCES || e == EPERM ? EX_NOPERM : EX_IOERR;
	}
	if (fd >= 0)
		close(fd);
	printf("%s: removed %s\n", name, what);
	return EX_OK;
}

/* cmd_hold - spool hold */
int cmd_hold(struct cli *c, int argc, char **argv)
{
	int rc = names_verb(c, argc, argv, NULL);

	return rc != EX_OK ? rc : each_name(c, argc, argv, hold_one);
}

/* cmd_release - spool release */
int cmd_release(struct cli *c, int argc, char **argv)
{
	int rc = names_verb(c, argc, argv, NULL);

	return rc != EX_OK ? rc : each_name(c, argc, argv, release_one);
}

/* cmd_delete - spool delete */
int cmd_delete(struct cli *c, int argc, char **argv)
{
	int rc = names_verb(c, argc, argv, NULL);

	return rc != EX_OK ? rc : each_name(c, argc, argv, delete_one);
}
