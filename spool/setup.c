/*
 * setup - spool setup: make the spool, with the owners and modes it needs.
 *
 * Usage: spool setup [--user USER] [--group GROUP] [--create-group] [--json]
 *
 * Run once by root when installing (INSTALL), and again whenever in doubt:
 * it is idempotent.  It creates spool_dir and its folders when missing
 * and sets the owner, group and mode of each directory:
 *
 *	spool_dir                  USER:GROUP 2751
 *	tmp/ new/                  USER:GROUP 2770   GROUP may write jobs
 *	active/ deferred/ hold/    USER:GROUP 2750   GROUP may read
 *	sent/ failed/ corrupt/ ids/ state/
 *
 * so that the daemon user owns the spool, members of GROUP (staff and the
 * scheduler) may write jobs into tmp/ and new/ only and may read the rest
 * (spool list, show, status), and others may read nothing.  The setgid bit
 * keeps every file made in a folder in GROUP, whoever makes it.  Files
 * already in the spool are never changed, moved or removed; nothing is
 * ever deleted.  Directories are opened with O_NOFOLLOW and changed
 * through their descriptors, so a symbolic link is refused, never
 * followed.
 *
 * It needs root (chown), never drops privileges, and does not go through
 * cli_open.  A missing daemon user or group is not created behind the
 * caller's back: the exact command is printed and the exit status is
 * EX_NOUSER, unless --create-group asks for groupadd --system GROUP, run
 * through posix_spawn (no shell) and announced on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

int cmd_setup(struct cli *c, int argc, char **argv);
extern const char help_setup[];

#define SETUP_GROUP "spool" /* the group that may submit jobs and read the spool */
#define SETUP_MAX_DIRS 16
#define SETUP_MAX_WARN 4

const char help_setup[] =
        "usage: spool setup [--user USER] [--group GROUP] [--create-group] [--json]\n"
        "\n"
        "Create the spool (spool_dir of the configuration) and give each directory\n"
        "the owner and mode it needs; run it as root when installing, and again at\n"
        "any time: it is idempotent and only fixes what is wrong.\n"
        "\n"
        "  spool_dir                           USER:GROUP  2751\n"
        "  tmp/ new/                           USER:GROUP  2770  GROUP may write jobs\n"
        "  active/ deferred/ hold/ sent/       USER:GROUP  2750  GROUP may read\n"
        "  failed/ corrupt/ ids/ state/\n"
        "\n"
        "USER is the daemon user (user = in the configuration, default spoold) and\n"
        "GROUP is spool: put the scheduler's account and staff who use spool list,\n"
        "show and status into it, and the daemon user too.  Only directories are\n"
        "changed: files already in the spool are left as they are, and nothing is\n"
        "ever removed.  Without a configuration file, the defaults are used\n"
        "(/var/spool/spoold, user spoold).\n"
        "\n"
        "A missing user or group is not created silently: the command that creates\n"
        "it is printed (exit status 67).\n"
        "\n"
        "Options:\n"
        "  --user USER     the daemon user (default: user = of the configuration)\n"
        "  --group GROUP   the group that may submit jobs (default: spool)\n"
        "  --create-group  create a missing GROUP: runs groupadd --system GROUP\n"
        "  --json          {\"spool\", \"user\", \"group\", \"group_created\",\n"
        "                   \"directories\": [{\"path\", \"owner\", \"group\", \"mode\",\n"
        "                   \"action\" (created, changed, unchanged), \"was\"}],\n"
        "                   \"files_left_alone\", \"warnings\": [...]}\n"
        "\n"
        "Exit status: 0 done; 64 usage; 67 the user or group does not exist;\n"
        "  71 groupadd failed; 73 a directory could not be created or changed;\n"
        "  77 not run as root; 78 configuration.\n"
        "\n"
        "Example:\n"
        "  sudo spool setup\n"
        "  sudo spool setup --create-group --json\n";

/* One directory of the spool: its name under spool_dir ("" for the root), its mode. */
struct spec {
	const char *name;
	mode_t mode;
};

static const struct spec specs[] = {
        {"", 02751},
        {"tmp", 02770},
        {"new", 02770},
        {"active", 02750},
        {"deferred", 02750},
        {"hold", 02750},
        {"sent", 02750},
        {"failed", 02750},
        {"corrupt", 02750},
        {"ids", 02750},
        {"state", 02750},
};
#define NSPECS (sizeof specs / sizeof specs[0])
_Static_assert(NSPECS <= SETUP_MAX_DIRS, "struct setup holds every directory");

/* What was found and done for one directory. */
struct done {
	char path[4200];
	const char *action; /* "created", "changed", "unchanged" */
	uid_t was_uid;
	gid_t was_gid;
	mode_t was_mode;
	long entries; /* files and directories in it (the root: not counted) */
};

/* What setup works with. */
struct setup {
	struct cli *c;
	const char *spool, *user, *group;
	uid_t uid;
	gid_t gid;
	int group_created;
	struct done done[SETUP_MAX_DIRS];
	char warn[SETUP_MAX_WARN][512];
	size_t nwarn;
};

/* name_ok - a user or group name groupadd and useradd accept as a name,
 * never as an option: [a-z_][a-z0-9_-]{0,31} */
static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* shell_word - s quoted for a shell when it needs it (for commands we print) */
static const char *shell_word(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	                    "_./:@+=,-") == strlen(s))
		return s;
	buf[o++] = '\'';
	for (; *s && o + 6 < len; s++) {
		if (*s == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else
			buf[o++] = *s;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

/* owner_name - a user's name, else its number */
static const char *owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%lu", (unsigned long)uid);
	return buf;
}

/* group_name - a group's name, else its number */
static const char *group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%lu", (unsigned long)gid);
	return buf;
}

/* warn - note a warning for stderr and --json */
static void warn(struct setup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct setup *s, const char *fmt, ...)
{
	va_list ap;

	if (s->nwarn >= SETUP_MAX_WARN)
		return;
	va_start(ap, fmt);
	vsnprintf(s->warn[s->nwarn++], sizeof s->warn[0], fmt, ap);
	va_end(ap);
}

/* run_groupadd - groupadd --system GROUP, without a shell; EX_OK or EX_OSERR */
static int run_groupadd(struct setup *s)
{
	static const char *const progs[] = {"/usr/sbin/groupadd", "/sbin/groupadd"};
	char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	char *av[] = {"groupadd", "--system", (char *)s->group, NULL};
	const char *prog = NULL;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, st;

	for (size_t i = 0; i < sizeof progs / sizeof progs[0] && !prog; i++)
		if (access(progs[i], X_OK) == 0)
			prog = progs[i];
	if (!prog) {
		cli_err(s->c, "groupadd is not in /usr/sbin or /sbin: create group \"%s\" yourself",
		        s->group);
		return EX_OSERR;
	}
	fprintf(stderr, "spool setup: running: groupadd --system %s\n", s->group);
	/* Its messages go to stderr: standard output may be --json. */
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		cli_err(s->c, "cannot run %s: %s", prog, strerror(rc));
		return EX_OSERR;
	}
	if ((rc = posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO)) == 0)
		rc = posix_spawn(&pid, prog, &fa, NULL, av, env);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		cli_err(s->c, "cannot run %s: %s", prog, strerror(rc));
		return EX_OSERR;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			cli_err(s->c, "waiting for groupadd: %s", strerror(errno));
			return EX_OSERR;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		cli_err(s->c, "groupadd --system %s failed (%s %d)", s->group,
		        WIFEXITED(st) ? "exit status" : "signal",
		        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return EX_OSERR;
	}
	s->group_created = 1;
	return EX_OK;
}

/* who - the daemon user and the group, created or explained; EX_OK or an exit status */
static int who(struct setup *s, int create_group)
{
	char w1[256], w2[256];
	struct passwd *pw = getpwnam(s->user);
	struct group *gr;
	int missing = 0;

	if (pw) {
		s->uid = pw->pw_uid;
	} else {
		cli_err(s->c,
		        "user \"%s\" does not exist; create it with: "
		        "useradd --system --home-dir %s --shell /usr/sbin/nologin %s",
		        s->user, shell_word(s->spool, w1, sizeof w1),
		        shell_word(s->user, w2, sizeof w2));
		missing = 1;
	}
	gr = getgrnam(s->group);
	if (!gr && (missing || !create_group)) {
		cli_err(s->c,
		        "group \"%s\" does not exist; create it with: groupadd --system %s "
		        "(or run: spool setup --create-group)",
		        s->group, shell_word(s->group, w1, sizeof w1));
		missing = 1;
	}
	if (missing)
		return EX_NOUSER;
	if (!gr) {
		int rc = run_groupadd(s);
		if (rc != EX_OK)
			return rc;
		if (!(gr = getgrnam(s->group))) {
			cli_err(s->c, "groupadd succeeded but group \"%s\" is still unknown",
			        s->group);
			return EX_NOUSER;
		}
	}
	s->gid = gr->gr_gid;
	/* The daemon must read the jobs staff and the scheduler write (group GROUP, 0640). */
	int member = (pw = getpwnam(s->user)) && pw->pw_gid == s->gid;
	if (!member && (gr = getgrgid(s->gid)))
		for (char **m = gr->gr_mem; *m && !member; m++)
			member = !strcmp(*m, s->user);
	if (!member)
		warn(s,
		        "user %s is not in group %s, so spoold may not be able to read jobs that "
		        "others write; run: usermod -a -G %s %s",
		        s->user, s->group, s->group, s->user);
	return EX_OK;
}

/* count_entries - names in the directory fd other than . and .. (-1: unknown) */
static long count_entries(int fd)
{
	struct dirent *e;
	long n = 0;
	int dfd = dup(fd);
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	rewinddir(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* fix_dir - create (when missing) and adjust one directory, relative to
 * dirfd (AT_FDCWD for the root); its descriptor in *out; EX_OK or an exit status */
static int fix_dir(
        struct setup *s, int dirfd, const char *name, mode_t mode, struct done *d, int *out)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	int fd, created = 0;

	if (mkdirat(dirfd, name, 0700) == 0)
		created = 1;
	else if (errno != EEXIST) {
		int e = errno;
		cli_err(s->c, "cannot create %s: %s%s", d->path, strerror(e),
		        e == ENOENT && dirfd == AT_FDCWD ? " (its parent directory is missing)"
		                                         : "");
		return EX_CANTCREAT;
	}
	if ((fd = openat(dirfd, name, flags)) < 0) {
		int e = errno;
		const char *why = strerror(e);
		if (e == ELOOP || e == ENOTDIR)
			why = dirfd == AT_FDCWD
			              ? "a symbolic link or not a directory (set spool_dir "
			                "to the real directory)"
			              : "not a directory (a file or a symbolic link is in "
			                "the way: move it aside, then run spool setup again)";
		cli_err(s->c, "%s: %s", d->path, why);
		return EX_CANTCREAT;
	}
	if (fstat(fd, &st) < 0) {
		cli_err(s->c, "%s: %s", d->path, strerror(errno));
		close(fd);
		return EX_CANTCREAT;
	}
	/* Never take over a spool someone else made: its owner could swap its insides. */
	if (dirfd == AT_FDCWD && !created && st.st_uid != 0 && st.st_uid != s->uid) {
		char o[64];
		cli_err(s->c,
		        "%s belongs to %s, neither root nor %s: refusing to take it over (check "
		        "who made it; chown it to root to let spool setup fix it)",
		        d->path, owner_name(st.st_uid, o, sizeof o), s->user);
		close(fd);
		return EX_CANTCREAT;
	}
	d->was_uid = st.st_uid;
	d->was_gid = st.st_gid;
	d->was_mode = st.st_mode & 07777;
	/* Owner first: chown may clear the set-group-ID bit that chmod then sets. */
	if ((st.st_uid != s->uid || st.st_gid != s->gid) && fchown(fd, s->uid, s->gid) < 0) {
		cli_err(s->c, "cannot change the owner of %s: %s", d->path, strerror(errno));
		close(fd);
		return EX_CANTCREAT;
	}
	if (fstat(fd, &st) < 0 || ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)) {
		cli_err(s->c, "cannot change the mode of %s: %s", d->path, strerror(errno));
		close(fd);
		return EX_CANTCREAT;
	}
	d->action = created ? "created"
	            : d->was_uid != s->uid || d->was_gid != s->gid || d->was_mode != mode
	                    ? "changed"
	                    : "unchanged";
	d->entries = dirfd == AT_FDCWD || created ? 0 : count_entries(fd);
	*out = fd;
	return EX_OK;
}

/* make_spool - every directory in specs[] order; EX_OK or an exit status */
static int make_spool(struct setup *s)
{
	int root = -1, rc = EX_OK;

	for (size_t i = 0; i < NSPECS && rc == EX_OK; i++) {
		struct done *d = &s->done[i];
		int fd;
		snprintf(d->path, sizeof d->path, "%s%s%s", s->spool, *specs[i].name ? "/" : "",
		        specs[i].name);
		if (i == 0)
			rc = fix_dir(s, AT_FDCWD, s->spool, specs[i].mode, d, &root);
		else if ((rc = fix_dir(s, root, specs[i].name, specs[i].mode, d, &fd)) == EX_OK)
			close(fd);
	}
	if (root >= 0 && fsync(root) < 0 && rc == EX_OK) {
		cli_err(s->c, "%s: %s", s->spool, strerror(errno));
		rc = EX_IOERR;
	}
	if (root >= 0)
		close(root);
	return rc;
}

/* mode_str - "2770" */
static const char *mode_str(mode_t m, char *buf, size_t len)
{
	snprintf(buf, len, "%04o", (unsigned)m);
	return buf;
}

/* files_left - files found in the folders (never touched) */
static long files_left(const struct setup *s)
{
	long n = 0;

	for (size_t i = 1; i < NSPECS; i++)
		if (s->done[i].entries > 0)
			n += s->done[i].entries;
	return n;
}

/* report_json - what was done, as one JSON object */
static int report_json(const struct setup *s)
{
	json_t *o = json_object(), *dirs = json_array(), *w = json_array();
	char a[64], b[64], m[16];

	for (size_t i = 0; i < NSPECS; i++) {
		const struct done *d = &s->done[i];
		json_t *e = json_object(), *was = json_null();
		if (strcmp(d->action, "created")) {
			was = json_object();
			json_object_set_new(
			        was, "owner", json_string(owner_name(d->was_uid, a, sizeof a)));
			json_object_set_new(
			        was, "group", json_string(group_name(d->was_gid, b, sizeof b)));
			json_object_set_new(
			        was, "mode", json_string(mode_str(d->was_mode, m, sizeof m)));
		}
		json_object_set_new(e, "path", json_string(d->path));
		json_object_set_new(e, "owner", json_string(s->user));
		json_object_set_new(e, "group", json_string(s->group));
		json_object_set_new(e, "mode", json_string(mode_str(specs[i].mode, m, sizeof m)));
		json_object_set_new(e, "action", json_string(d->action));
		json_object_set_new(e, "was", was);
		json_array_append_new(dirs, e);
	}
	for (size_t i = 0; i < s->nwarn; i++)
		json_array_append_new(w, json_string(s->warn[i]));
	json_object_set_new(o, "spool", json_string(s->spool));
	json_object_set_new(o, "user", json_string(s->user));
	json_object_set_new(o, "group", json_string(s->group));
	json_object_set_new(o, "group_created", json_boolean(s->group_created));
	json_object_set_new(o, "directories", dirs);
	json_object_set_new(o, "files_left_alone", json_integer(files_left(s)));
	json_object_set_new(o, "warnings", w);
	return cli_json_print(o);
}

/* report_text - a table of the directories, then what it means */
static void report_text(const struct setup *s)
{
	static const char *const head[] = {"DIRECTORY", "OWNER", "MODE", "DONE"};
	char owner[160], m[16], a[64], b[64], what[256];
	struct table t;
	long files = files_left(s);

	table_init(&t, 4, head);
	for (size_t i = 0; i < NSPECS; i++) {
		const struct done *d = &s->done[i];
		snprintf(owner, sizeof owner, "%s:%s", s->user, s->group);
		if (!strcmp(d->action, "changed"))
			snprintf(what, sizeof what, "changed (was %s:%s %04o)",
			        owner_name(d->was_uid, a, sizeof a),
			        group_name(d->was_gid, b, sizeof b), (unsigned)d->was_mode);
		else
			snprintf(what, sizeof what, "%s", d->action);
		const char *cells[] = {d->path, owner, mode_str(specs[i].mode, m, sizeof m), what};
		table_add(&t, cells);
	}
	table_print(&t, stdout, 0);
	table_free(&t);
	printf("\nMembers of group %s may put jobs into tmp/ and new/ and read the other "
	       "folders;\nonly %s (and root) may change them.\n",
	        s->group, s->user);
	if (files > 0)
		printf("Only directories were changed: the %ld file%s already in the spool "
		       "%s left as %s.\n",
		        files, files == 1 ? "" : "s", files == 1 ? "was" : "were",
		        files == 1 ? "it was" : "they were");
}

/* cmd_setup - spool setup */
int cmd_setup(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {{"user", 1, 0, 'u'}, {"group", 1, 0, 'g'},
	        {"create-group", 0, 0, 'C'}, {"json", 0, 0, 'j'}, {0, 0, 0, 0}};
	struct setup s = {.c = c, .group = SETUP_GROUP};
	const char *user = NULL, *path;
	char err[CLI_ERR_MAX];
	int ch, json = 0, create_group = 0, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		switch (ch) {
		case 'u':
			user = optarg;
			break;
		case 'g':
			s.group = optarg;
			break;
		case 'C':
			create_group = 1;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return cli_badopt(c, ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if (user && !name_ok(user))
		return cli_usage(c, "--user \"%s\" is not a user name ([a-z_][a-z0-9_-]*)", user);
	if (!name_ok(s.group))
		return cli_usage(
		        c, "--group \"%s\" is not a group name ([a-z_][a-z0-9_-]*)", s.group);
	if (geteuid() != 0) {
		cli_err(c, "must be run as root: it sets the owners of the spool's directories "
		           "(run: sudo spool setup)");
		return EX_NOPERM;
	}

	/* The configuration, when there is one yet: spool_dir and user. */
	path = conf_path(c->conf_opt);
	if (!c->conf_opt && !strcmp(path, CONF_DEFAULT_PATH) && access(path, F_OK) < 0 &&
	        errno == ENOENT) {
		fprintf(stderr,
		        "spool setup: %s does not exist yet: using spool_dir = %s and user = "
		        "spoold\n",
		        path, CONF_DEFAULT_SPOOL);
		s.spool = CONF_DEFAULT_SPOOL;
		s.user = "spoold";
	} else if (conf_load_nosecret(&c->conf, path, err, sizeof err) < 0) {
		cli_err(c, "%s", err);
		return EX_CONFIG;
	} else {
		c->conf_loaded = 1;
		s.spool = c->conf.spool_dir;
		s.user = c->conf.user ? c->conf.user : "spoold";
	}
	if (user)
		s.user = user;

	if ((rc = who(&s, create_group)) != EX_OK)
		return rc;
	if ((rc = make_spool(&s)) != EX_OK)
		return rc;
	for (size_t i = 0; i < s.nwarn; i++)
		cli_err(c, "warning: %s", s.warn[i]);
	if (json)
		return report_json(&s);
	report_text(&s);
	return EX_OK;
}
