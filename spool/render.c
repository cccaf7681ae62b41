/*
 * render - spool render: the message exactly as spoold would send it.
 *
 * spool render JOB [--text | --html | --ics]: JOB is a job NAME in the
 * spool, or a JSON file (an argument holding '/' or ending in .json, whose
 * base name stands for the job's name).  The message is built as
 * spoold's delivery builds it, with the Message-ID spoold uses for that
 * name and the time of now (or --now TIME: the Date, the lead time such as
 * "tomorrow", and the event's DTSTAMP as they would be then); an option
 * prints one part decoded instead, read back from the message with
 * libetpan's MIME parser.
 *
 * spool render --template FILE --data JSON [--partials DIR] [--html]
 * renders one bare Mustache file (partials from DIR/NAME.mustache) with
 * the JSON data (a file, or - for standard input), for template authors;
 * an invalid template prints "FILE:LINE:COL: message" and exits 65.
 */
#include <errno.h>
#include <getopt.h>
#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "msg.h"
#include "timefmt.h"
#include "tmpl.h"
#include "tmplset.h"

int cmd_render(struct cli *c, int argc, char **argv);
extern const char help_render[];

const char help_render[] =
        "usage: spool render JOB [--text | --html | --ics] [--now TIME]\n"
        "       spool render --template FILE --data JSON [--partials DIR] [--html]\n"
        "\n"
        "Print the message for a job exactly as spoold would send it now: headers,\n"
        "MIME parts, the same Message-ID.  JOB is a job NAME in the spool, or a job\n"
        "file (a path: it holds '/' or ends in .json; its file name stands for the\n"
        "job's name).  Templates are looked up as spoold looks them up:\n"
        "templates_dir, then $SPOOLD_TEMPLATES or the installed templates.\n"
        "\n"
        "Options:\n"
        "  --text      only the text/plain part, decoded\n"
        "  --html      only the text/html part, decoded\n"
        "  --ics       only the calendar event (message.ics = yes, reminders)\n"
        "  --now TIME  as if sent at TIME (RFC 3339, e.g. 2026-11-30T08:00:00-06:00)\n"
        "\n"
        "With --template, render one Mustache file (for template authors):\n"
        "  --template FILE   the template\n"
        "  --data JSON       its data: a JSON file, or - for standard input\n"
        "  --partials DIR    where {{> NAME}} finds DIR/NAME.mustache\n"
        "  --html            escape {{x}} for HTML (default: no escaping)\n"
        "An invalid template prints FILE:LINE:COL: what is wrong, and exits 65.\n"
        "\n"
        "Examples:\n"
        "  spool render 1764578400.M123456P45Q1.host\n"
        "  spool render ./job.json --html > preview.html\n"
        "  spool render --template templates/reminder/body.txt --data job.json \\\n"
        "      --partials templates/partials\n";

enum part { P_ALL, P_TEXT, P_HTML, P_ICS };

/* is_path - a file argument rather than a job name */
static int is_path(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') || (n >= 5 && !strcmp(s + n - 5, ".json"));
}

/* put_text - write text; CRLF as LF unless raw */
static void put_text(const char *s, size_t n, int raw)
{
	for (size_t i = 0; i < n; i++)
		if (raw || s[i] != '\r' || i + 1 >= n || s[i + 1] != '\n')
			putchar(s[i]);
}

/* find_part - the first single part of type/subtype in the tree */
static struct mailmime *find_part(struct mailmime *m, const char *type, const char *subtype)
{
	struct mailmime_content *ct = m->mm_content_type;
	clistiter *it;

	switch (m->mm_type) {
	case MAILMIME_SINGLE:
		if (ct && ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
		        ct->ct_type->tp_data.tp_discrete_type->dt_type ==
		                MAILMIME_DISCRETE_TYPE_TEXT &&
		        !strcmp(type, "text") && !strcasecmp(ct->ct_subtype, subtype))
			return m;
		return NULL;
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it;
		        it = clist_next(it)) {
			struct mailmime *r = find_part(clist_content(it), type, subtype);
			if (r)
				return r;
		}
		return NULL;
	case MAILMIME_MESSAGE:
		return m->mm_data.mm_message.mm_msg_mime
		               ? find_part(m->mm_data.mm_message.mm_msg_mime, type, subtype)
		               : NULL;
	}
	return NULL;
}

/* print_part - one part of the message, decoded */
static int print_part(struct cli *c, const char *msg, size_t len, enum part which)
{
	static const char *const sub[] = {"", "plain", "html", "calendar"};
	struct mailmime *mime = NULL, *p;
	size_t idx = 0, dlen;
	char *dec;
	int enc, rc = EX_OK;

	if (mailmime_parse(msg, len, &idx, &mime) != MAILIMF_NO_ERROR) {
		cli_err(c, "the message cannot be read back (a bug: please report it)");
		return EX_SOFTWARE;
	}
	if (!(p = find_part(mime, "text", sub[which]))) {
		cli_err(c, "the message has no text/%s part%s", sub[which],
		        which == P_HTML  ? " (the template has no body.html)"
		        : which == P_ICS ? " (only reminders with message.ics = yes have one)"
		                         : "");
		mailmime_free(mime);
		return EX_DATAERR;
	}
	enc = p->mm_mime_fields ? mailmime_transfer_encoding_get(p->mm_mime_fields)
	                        : MAILMIME_MECHANISM_8BIT;
	idx = 0;
	if (mailmime_part_parse(p->mm_data.mm_single->dt_data.dt_text.dt_data,
	            p->mm_data.mm_single->dt_data.dt_text.dt_length, &idx, enc, &dec,
	            &dlen) != MAILIMF_NO_ERROR) {
		cli_err(c, "the part cannot be decoded (a bug: please report it)");
		rc = EX_SOFTWARE;
	} else {
		put_text(dec, dlen, which == P_ICS);
		mailmime_decoded_part_free(dec);
	}
	mailmime_free(mime);
	return rc;
}

/* load_job - a job from the spool or from a file, and its name */
static int load_job(struct cli *c, const char *arg, struct job *j, const char **name)
{
	char err[CLI_ERR_MAX], safe[64];
	enum folder f;
	FILE *fp;
	int rc;

	if (!is_path(arg)) {
		*name = arg;
		if ((rc = cli_open(c)) != EX_OK || (rc = cli_find(c, arg, &f)) != EX_OK)
			return rc;
		if (cli_read_job(c, f, arg, j, NULL, NULL, err, sizeof err) < 0) {
			cli_err(c, "%s: %s", arg, err);
			return errno == ENOENT ? EX_TEMPFAIL : EX_DATAERR;
		}
		return EX_OK;
	}
	*name = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
	if (!spooldir_name_valid(*name)) {
		cli_err(c, "%s: \"%s\" cannot be a job name (letters, digits and ._:,=+- only)",
		        arg, cli_safe(*name, 0, 40, safe, sizeof safe));
		return EX_USAGE;
	}
	if (conf_load_nosecret(&c->conf, conf_path(c->conf_opt), err, sizeof err) < 0) {
		cli_err(c, "%s", err);
		return EX_CONFIG;
	}
	c->conf_loaded = 1;
	c->now = time(NULL);
	if (!(fp = fopen(arg, "re"))) {
		cli_err(c, "%s: %s", arg, strerror(errno));
		return EX_NOINPUT;
	}
	static char buf[JOB_FILE_MAX + 1];
	size_t n = fread(buf, 1, sizeof buf, fp);
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		cli_err(c, "%s: cannot read it", arg);
		return EX_IOERR;
	}
	if (job_parse(j, buf, n, err, sizeof err) < 0) {
		cli_err(c, "%s: %s", arg, err);
		return EX_DATAERR;
	}
	return EX_OK;
}

/* render_job - spool render JOB, sent at now (0: the time of now) */
static int render_job(struct cli *c, const char *arg, enum part which, time_t now)
{
	char mid[MSG_ID_MAX], err[MSG_ERR_MAX];
	const char *name, *id;
	struct job j = {0};
	size_t len;
	char *msg;
	int rc;

	if ((rc = load_job(c, arg, &j, &name)) != EX_OK)
		return rc;
	if (now)
		c->now = now;
	if (!(id = job_spool_str(&j, "message_id")))
		id = msg_message_id(name, c->conf.relay.from, mid, sizeof mid);
	if (!(msg = msg_build(&j, &c->conf, name, id, c->now, &len, err, sizeof err))) {
		cli_err(c, "%s: the message could not be made: %s", name, err);
		job_free(&j);
		return EX_DATAERR;
	}
	if (which == P_ALL)
		fwrite(msg, 1, len, stdout);
	else
		rc = print_part(c, msg, len, which);
	free(msg);
	job_free(&j);
	return rc;
}

/* load_dir_partial - tmpl_loader for --partials DIR */
static char *load_dir_partial(const char *name, void *arg)
{
	char path[4096], err[CLI_ERR_MAX];
	int missing;

	if (!arg || !tmplset_partial_name_ok(name))
		return NULL;
	snprintf(path, sizeof path, "%s/%s.mustache", (const char *)arg, name);
	return tmplset_read_file(path, &missing, err, sizeof err);
}

/* render_template - spool render --template FILE --data JSON */
static int render_template(
        struct cli *c, const char *file, const char *data_arg, const char *partials, int html)
{
	char err[CLI_ERR_MAX], where[700];
	struct tmpl_error te = {0};
	json_error_t je;
	json_t *data;
	char *src, *out;
	int missing;

	if (!(src = tmplset_read_file(file, &missing, err, sizeof err))) {
		if (missing)
			cli_err(c, "%s: no such file", file);
		else
			cli_err(c, "%s", err);
		return missing ? EX_NOINPUT : EX_DATAERR;
	}
	data = strcmp(data_arg, "-") ? json_load_file(data_arg, JSON_DECODE_ANY, &je)
	                             : json_loadf(stdin, JSON_DECODE_ANY, &je);
	if (!data) {
		cli_err(c, "%s: not valid JSON: %s at line %d column %d",
		        strcmp(data_arg, "-") ? data_arg : "standard input", je.text, je.line,
		        je.column);
		free(src);
		return EX_DATAERR;
	}
	out = tmpl_render(src, file, data, load_dir_partial, (void *)partials,
	        html ? TMPL_ESCAPE_HTML : TMPL_ESCAPE_NONE, &te);
	free(src);
	json_decref(data);
	if (!out) {
		fflush(stdout);
		fprintf(stderr, "%s\n", tmpl_error_format(&te, where, sizeof where));
		return EX_DATAERR;
	}
	fputs(out, stdout);
	free(out);
	return EX_OK;
}

/* cmd_render - spool render */
int cmd_render(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {{"text", 0, 0, 't'}, {"html", 0, 0, 'h'},
	        {"ics", 0, 0, 'i'}, {"template", 1, 0, 'T'}, {"data", 1, 0, 'D'},
	        {"partials", 1, 0, 'P'}, {"now", 1, 0, 'N'}, {0, 0, 0, 0}};
	const char *tfile = NULL, *data = NULL, *partials = NULL;
	enum part which = P_ALL;
	time_t now = 0;
	int ch, nparts = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
		case 'h':
		case 'i':
			which = ch == 't' ? P_TEXT : ch == 'h' ? P_HTML : P_ICS;
			nparts++;
			break;
		case 'T':
			tfile = optarg;
			break;
		case 'D':
			data = optarg;
			break;
		case 'P':
			partials = optarg;
			break;
		case 'N':
			if (rfc3339_parse(optarg, &now, NULL) < 0 || now == 0)
				return cli_usage(c,
				        "--now: \"%s\" is not an RFC 3339 time with an "
				        "offset, e.g. 2026-11-30T08:00:00-06:00",
				        optarg);
			break;
		default:
			return cli_badopt(c, ch, argv);
		}
	}
	if (nparts > 1)
		return cli_usage(c, "one of --text, --html, --ics at a time");
	if (tfile || data || partials) {
		if (!tfile || !data)
			return cli_usage(c, "--template FILE and --data JSON go together");
		if (optind != argc || now)
			return cli_usage(c, "no JOB and no --now with --template");
		if (which == P_TEXT || which == P_ICS)
			return cli_usage(c, "--template takes --html only");
		return render_template(c, tfile, data, partials, which == P_HTML);
	}
	if (optind + 1 != argc)
		return cli_usage(c, optind == argc ? "which job? give its NAME or a FILE"
		                                   : "one JOB at a time");
	return render_job(c, argv[optind], which, now);
}
