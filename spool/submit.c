/*
 * submit - spool submit: put one job into the spool.
 *
 * The job comes from a file, standard input, or options (built here as a
 * version 1 job).  It is validated with job_parse exactly as spoold will
 * validate it, and refused with the reason when bad: nothing is written.
 * Then the Maildir protocol: the job is written into tmp/ under a fresh
 * name (spooldir_write: synced), renamed into new/ without ever replacing
 * a file (spooldir_rename), new/ synced, and its name printed.  A job from
 * a file is written byte for byte as given.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

const char help_submit[] =
        "usage: spool submit [--json] [FILE|-]\n"
        "       spool submit --to ADDR --kind KIND [--name NAME] [--id ID]\n"
        "                    [--appointment TIME] [--not-before TIME] [--expires TIME]\n"
        "                    [--field KEY=VALUE]... [--field KEY:=JSON]... [--json]\n"
        "\n"
        "Put one job into the spool.  It is checked exactly as spoold checks it and\n"
        "refused with the reason when it is not valid (nothing is written); else it is\n"
        "written into tmp/, synced, and renamed into new/.  Prints the job's name.\n"
        "\n"
        "Options:\n"
        "  FILE, -             the job as JSON, at most 65536 bytes (none or -: stdin)\n"
        "  --to ADDR           the recipient's address (to.email)\n"
        "  --name NAME         the recipient's name (to.name)\n"
        "  --kind KIND         the template: reminder, recall, ...\n"
        "  --id ID             the idempotency key (default: cli-<job name>)\n"
        "  --appointment TIME  appointment.start, RFC 3339 (required for a reminder)\n"
        "  --not-before TIME   not_before: do not send earlier, RFC 3339\n"
        "  --expires TIME      expires: do not send later, RFC 3339\n"
        "  --field KEY=VALUE   any member as a string; dots make nested objects\n"
        "                      (patient.first_name=Jane); KEY:=JSON sets a JSON value\n"
        "                      (appointment.minutes:=30)\n"
        "  --json              print {\"name\": NAME, \"id\": ID}\n"
        "\n"
        "Examples:\n"
        "  spool submit reminder.json\n"
        "  spool submit --to jane@example.com --name 'Jane Doe' --kind reminder \\\n"
        "      --appointment 2026-12-01T09:30:00-06:00 --field patient.first_name=Jane \\\n"
        "      --field practice.name='Springfield Chiropractic'\n";

struct submit_opts {
	const char *to, *name, *kind, *id, *appt, *not_before, *expires;
	const char **fields;
	size_t nfields;
	int json, build;
};

/* read_input - the whole job from a file or stdin, at most JOB_MAX_SIZE */
static int read_input(struct cli *c, const char *path, char **out, size_t *outlen)
{
	int stdin_in = !path || !strcmp(path, "-");
	const char *label = stdin_in ? "standard input" : path;
	size_t len = 0, cap = JOB_MAX_SIZE + 1;
	struct stat st;
	char *buf;
	int fd;

	if (stdin_in && isatty(STDIN_FILENO))
		return cli_usage(c, "no job given: name a FILE, - for standard input, or use "
		                    "--to and --kind");
	fd = stdin_in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_err(c, "%s: %s", label, strerror(errno));
		return errno == EACCES ? EX_NOPERM : EX_NOINPUT;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > JOB_MAX_SIZE) {
		cli_err(c, "%s: file is %lld bytes; the limit is %d", label, (long long)st.st_size,
		        JOB_MAX_SIZE);
		if (!stdin_in)
			close(fd);
		return EX_DATAERR;
	}
	if (!(buf = malloc(cap + 1))) {
		cli_err(c, "out of memory");
		return EX_OSERR;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_err(c, "%s: %s", label, strerror(errno));
			free(buf);
			if (!stdin_in)
				close(fd);
			return EX_IOERR;
		}
		if (n == 0 || (len += (size_t)n) == cap)
			break;
	}
	if (!stdin_in)
		close(fd);
	if (len > JOB_MAX_SIZE) {
		cli_err(c, "%s: more than %d bytes; the limit is %d", label, JOB_MAX_SIZE,
		        JOB_MAX_SIZE);
		free(buf);
		return EX_DATAERR;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return EX_OK;
}

/* set_dotted - root.a.b.c = v, making objects on the way; steals v */
static int set_dotted(struct cli *c, json_t *root, const char *key, size_t klen, json_t *v)
{
	json_t *obj = root;
	const char *seg = key, *end = key + klen;

	for (;;) {
		const char *dot = memchr(seg, '.', (size_t)(end - seg));
		size_t n = dot ? (size_t)(dot - seg) : (size_t)(end - seg);
		json_t *next;

		if (n == 0) {
			cli_usage(c, "--field %.*s: an empty member name", (int)klen, key);
			json_decref(v);
			return -1;
		}
		if (!dot)
			return json_object_setn_new(obj, seg, n, v) == 0 ? 0 : -1;
		next = json_object_getn(obj, seg, n);
		if (!next) {
			next = json_object();
			json_object_setn_new(obj, seg, n, next);
		} else if (!json_is_object(next)) {
			cli_usage(c, "--field %.*s: %.*s is already set and is not an object",
			        (int)klen, key, (int)(dot - key), key);
			json_decref(v);
			return -1;
		}
		obj = next;
		seg = dot + 1;
	}
}

/* apply_field - one --field KEY=VALUE or KEY:=JSON */
static int apply_field(struct cli *c, json_t *root, const char *f)
{
	const char *eq = strchr(f, '=');
	size_t klen;
	json_t *v;

	if (!eq || eq == f || (eq == f + 1 && *f == ':'))
		return cli_usage(c, "--field %s: expected KEY=VALUE or KEY:=JSON", f), -1;
	klen = (size_t)(eq - f);
	if (f[klen - 1] == ':') {
		json_error_t e;
		klen--;
		v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
		if (!v)
			return cli_usage(c, "--field %s: not valid JSON: %s", f, e.text), -1;
	} else {
		v = json_string(eq + 1);
		if (!v)
			return cli_usage(c, "--field %s: not valid UTF-8", f), -1;
	}
	return set_dotted(c, root, f, klen, v);
}

/* build_job - a version 1 job from the options, as JSON text */
static int build_job(
        struct cli *c, const struct submit_opts *o, const char *name, char **out, size_t *outlen)
{
	json_t *root = json_object(), *to = json_object();
	char id[SPOOLDIR_NAME_MAX + 8];
	char *s;

	if (!o->to || !o->kind) {
		json_decref(root);
		json_decref(to);
		return cli_usage(c, "--to ADDR and --kind KIND are needed to build a job");
	}
	snprintf(id, sizeof id, "cli-%s", name);
	json_object_set_new(root, "version", json_integer(JOB_VERSION));
	json_object_set_new(root, "id", cli_json_str(o->id ? o->id : id));
	json_object_set_new(root, "kind", cli_json_str(o->kind));
	json_object_set_new(to, "email", cli_json_str(o->to));
	if (o->name)
		json_object_set_new(to, "name", cli_json_str(o->name));
	json_object_set_new(root, "to", to);
	if (o->appt) {
		json_t *a = json_object();
		json_object_set_new(a, "start", cli_json_str(o->appt));
		json_object_set_new(root, "appointment", a);
	}
	if (o->not_before)
		json_object_set_new(root, "not_before", cli_json_str(o->not_before));
	if (o->expires)
		json_object_set_new(root, "expires", cli_json_str(o->expires));
	for (size_t i = 0; i < o->nfields; i++)
		if (apply_field(c, root, o->fields[i]) < 0) {
			json_decref(root);
			return EX_USAGE;
		}
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s || !(*out = realloc(s, strlen(s) + 2))) {
		free(s);
		cli_err(c, "out of memory");
		return EX_OSERR;
	}
	strcat(*out, "\n");
	*outlen = strlen(*out);
	return EX_OK;
}

/* deposit - tmp/NAME, synced, then renamed into new/ */
static int deposit(struct cli *c, const char *name, const char *data, size_t len)
{
	if (spooldir_write(&c->sd, F_TMP, name, data, len, 0) < 0) {
		int e = errno;
		cli_err(c, "cannot write %s/tmp/%s: %s", c->sd.path, name, strerror(e));
		return e == EACCES || e == EPERM ? EX_NOPERM : EX_CANTCREAT;
	}
	if (spooldir_rename(&c->sd, F_TMP, F_NEW, name) < 0) {
		int e = errno;
		cli_err(c, "cannot move tmp/%s into new/: %s", name, strerror(e));
		spooldir_unlink(&c->sd, F_TMP, name);
		return e == EEXIST ? EX_TEMPFAIL : EX_IOERR;
	}
	return EX_OK;
}

/* parse_opts - the options of submit; EX_OK or a usage error */
static int parse_opts(struct cli *c, int argc, char **argv, struct submit_opts *o)
{
	static const struct option lo[] = {{"to", 1, 0, 't'}, {"name", 1, 0, 'n'},
	        {"kind", 1, 0, 'k'}, {"id", 1, 0, 'i'}, {"field", 1, 0, 'f'},
	        {"appointment", 1, 0, 'a'}, {"expires", 1, 0, 'e'}, {"not-before", 1, 0, 'b'},
	        {"json", 0, 0, 'j'}, {0, 0, 0, 0}};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			o->to = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'k':
			o->kind = optarg;
			break;
		case 'i':
			o->id = optarg;
			break;
		case 'a':
			o->appt = optarg;
			break;
		case 'e':
			o->expires = optarg;
			break;
		case 'b':
			o->not_before = optarg;
			break;
		case 'j':
			o->json = 1;
			continue;
		case 'f':
			o->fields[o->nfields++] = optarg;
			break;
		default:
			return cli_badopt(c, ch, argv);
		}
		o->build = 1;
	}
	if (o->build && optind < argc)
		return cli_usage(c, "give a FILE or build the job with options, not both");
	if (argc - optind > 1)
		return cli_usage(c, "one job at a time");
	return EX_OK;
}

/* cmd_submit - spool submit */
int cmd_submit(struct cli *c, int argc, char **argv)
{
	struct submit_opts o = {0};
	char name[SPOOLDIR_NAME_MAX + 1], err[CLI_ERR_MAX], *data = NULL;
	struct job j;
	size_t len = 0;
	int rc;

	if (!(o.fields = calloc((size_t)argc, sizeof *o.fields)))
		return EX_OSERR;
	if ((rc = parse_opts(c, argc, argv, &o)) != EX_OK)
		goto out;
	spooldir_newname(name, sizeof name);
	rc = o.build ? build_job(c, &o, name, &data, &len)
	             : read_input(c, optind < argc ? argv[optind] : NULL, &data, &len);
	if (rc != EX_OK)
		goto out;
	if (job_parse(&j, data, len, err, sizeof err) < 0) {
		cli_err(c, "%s", err);
		rc = EX_DATAERR;
		goto out;
	}
	if ((rc = cli_open(c)) == EX_OK && (rc = deposit(c, name, data, len)) == EX_OK) {
		if (o.json) {
			json_t *r = json_object();
			json_object_set_new(r, "name", json_string(name));
			json_object_set_new(r, "id", json_string(j.id));
			rc = cli_json_print(r);
		} else {
			printf("%s\n", name);
		}
	}
	job_free(&j);
out:
	free(data);
	free(o.fields);
	return rc;
}
