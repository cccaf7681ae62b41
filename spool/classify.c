/*
 * classify - spool classify: what a mail provider's reply means.
 *
 * Usage: spool classify [--json] [--now TIME] STAGE CODE [TEXT...]
 *
 * Runs the classifier (lib/reply) on a reply given on the command line and
 * prints its verdict: category, retry time, explanation and action for
 * staff, and the rule that matched.  In TEXT the two characters \n are a
 * line break (several words are joined by spaces).  Reads no
 * configuration and no spool, so it never calls cli_open: it works on any
 * machine, for support staff looking at a reply a practice pasted.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "reply.h"
#include "timefmt.h"

int cmd_classify(struct cli *c, int argc, char **argv);
extern const char help_classify[];

const char help_classify[] =
        "usage: spool classify [--json] [--now TIME] STAGE CODE [TEXT...]\n"
        "\n"
        "What a mail provider's reply means, as spoold would judge it: the category,\n"
        "when sending may resume, a plain-English explanation and what to do.\n"
        "STAGE is where the reply came: connect, ehlo, starttls, auth, mail, rcpt,\n"
        "data or data-end (after the whole message).  CODE is the reply code (550;\n"
        "0 for no reply at all).  TEXT is the reply text; \\n in it is a line break.\n"
        "No configuration or spool is needed.\n"
        "\n"
        "Options:\n"
        "  --json       {\"category\", \"retry_at\", \"explanation\", \"action\", \"rule\"}\n"
        "  --now TIME   judge as if it were TIME (RFC 3339), for retry times\n"
        "\n"
        "Exit status: 0 done; 64 usage (unknown stage, code not a number).\n"
        "\n"
        "Example:\n"
        "  spool classify data-end 550 '5.4.5 Daily user sending limit exceeded.'\n"
        "  spool classify --json auth 534 '5.7.14 Please log in via\\n5.7.14 your web "
        "browser'\n";

/* join_text - argv[from..argc-1] joined by spaces, "\n" made a line break; malloc'd */
static char *join_text(int argc, char **argv, int from)
{
	size_t len = 1, n = 0;
	char *s;

	for (int i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (!(s = malloc(len)))
		return NULL;
	for (int i = from; i < argc; i++) {
		if (i > from)
			s[n++] = ' ';
		for (const char *p = argv[i]; *p; p++) {
			if (p[0] == '\\' && p[1] == 'n') {
				s[n++] = '\n';
				p++;
			} else
				s[n++] = *p;
		}
	}
	s[n] = '\0';
	return s;
}

/* parse_code - a reply code: 0, or three digits 100..599; -1 */
static int parse_code(const char *s)
{
	char *end;
	long v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 3)
		return -1;
	v = strtol(s, &end, 10);
	if (v != 0 && (v < 100 || v > 599))
		return -1;
	return (int)v;
}

/* cmd_classify - spool classify [--json] [--now TIME] STAGE CODE [TEXT...] */
int cmd_classify(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {{"json", 0, 0, 'j'}, {"now", 1, 0, 'n'}, {0, 0, 0, 0}};
	char when[TIMEFMT_MAX], *text;
	time_t now = time(NULL);
	struct verdict v;
	int ch, json = 0, stage, code, off;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (ch == 'n') {
			if (rfc3339_parse(optarg, &now, &off) < 0)
				return cli_usage(
				        c, "--now wants an RFC 3339 time, not \"%s\"", optarg);
		} else
			return cli_badopt(c, ch, argv);
	}
	if (argc - optind < 2)
		return cli_usage(c, "STAGE and CODE are needed");
	if ((stage = reply_stage_parse(argv[optind])) < 0)
		return cli_usage(c,
		        "unknown stage \"%s\" (connect, ehlo, starttls, auth, mail, rcpt, data, "
		        "data-end)",
		        argv[optind]);
	if ((code = parse_code(argv[optind + 1])) < 0)
		return cli_usage(c, "CODE must be a reply code such as 550 (or 0), not \"%s\"",
		        argv[optind + 1]);
	if (!(text = join_text(argc, argv, optind + 2))) {
		cli_err(c, "out of memory");
		return EX_OSERR;
	}
	reply_judge((enum smtp_stage)stage, code, text, now, &v);
	free(text);
	if (json) {
		json_t *o = json_object();
		if (!o)
			return EX_OSERR;
		json_object_set_new(o, "category", json_string(reply_category_name(v.cat)));
		json_object_set_new(o, "retry_at", cli_json_time(v.retry_at));
		json_object_set_new(o, "explanation", json_string(v.explanation));
		json_object_set_new(o, "action", json_string(v.action));
		json_object_set_new(o, "rule", json_string(v.rule));
		return cli_json_print(o);
	}
	printf("category:    %s\n", reply_category_name(v.cat));
	printf("retry:       %s\n",
	        v.retry_at ? rfc3339_format(v.retry_at, when, sizeof when) : "none");
	printf("explanation: %s\n", v.explanation);
	printf("action:      %s\n", v.action);
	printf("rule:        %s\n", v.rule);
	return EX_OK;
}
