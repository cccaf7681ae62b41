/*
 * spool - the command line for staff and schedulers: submit, look, move.
 *
 * Usage: spool [-c FILE] [--color=WHEN] VERB [OPTIONS] [ARGS]   (spool --help)
 *
 * This file owns the dispatch: the global options (-c FILE; --color, which
 * may also follow the verb), the list of verbs and their help, and the
 * exit status (sysexits.h).  Each verb lives in a small file of its own
 * (submit.c, list.c, show.c, move.c, status.c for status and resume,
 * test.c, watch.c) and works on the spool directly through lib/spooldir;
 * no daemon is needed (test talks to the mail server and leaves the spool
 * alone).  A verb parses its options first (so --help and usage errors
 * need no configuration), then calls cli_open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "term.h"

/* spool/render.c; declared here because cli.h is shared by every verb file */
int cmd_render(struct cli *c, int argc, char **argv);
extern const char help_render[];
/* spool/watch.c */
int cmd_watch(struct cli *c, int argc, char **argv);
extern const char help_watch[];
/* spool/classify.c; reads no configuration */
int cmd_classify(struct cli *c, int argc, char **argv);
extern const char help_classify[];
/* spool/setup.c; run by root, never drops privileges */
int cmd_setup(struct cli *c, int argc, char **argv);
extern const char help_setup[];

static const struct verb verbs[] = {
        {"submit", cmd_submit, help_submit, "put a job into the spool (JSON file or options)"},
        {"list", cmd_list, help_list, "list jobs, waiting ones by default"},
        {"show", cmd_show, help_show, "everything about one job; --message for what was sent"},
        {"render", cmd_render, help_render, "the message a job makes, exactly as it would be sent"},
        {"watch", cmd_watch, help_watch, "print what happens as it happens: sent, failed, account"},
        {"status", cmd_status, help_status,
                "is mail going out: account state, today's sends, counts per folder"},
        {"resume", cmd_resume, help_resume, "start sending again after the account was stopped"},
        {"test", cmd_test, help_test, "send one test message: does the account work?"},
        {"retry", cmd_retry, help_retry, "send failed or held jobs again"},
        {"hold", cmd_hold, help_hold, "keep a waiting job back"},
        {"release", cmd_release, help_release, "let a held job go"},
        {"delete", cmd_delete, help_delete, "remove a job and its side files"},
        {"classify", cmd_classify, help_classify, "what a mail provider's reply means"},
        {"setup", cmd_setup, help_setup, "create the spool with its owners and modes (root)"},
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

/* global_help - the program's synopsis and its verbs */
static void global_help(FILE *fp)
{
	fprintf(fp,
	        "usage: spool [-c FILE] VERB [OPTIONS] [ARGS]\n"
	        "\n"
	        "Look at and manage the spoold spool directly (no daemon needed).\n"
	        "\n"
	        "Options:\n"
	        "  -c FILE, --config FILE   configuration (default: $SPOOLD_CONF, else "
	        "%s)\n"
	        "  --color=WHEN             colour: auto (a terminal, and NO_COLOR unset), "
	        "always, never\n"
	        "  -h, --help               this help; spool help VERB for a verb\n"
	        "\n"
	        "Verbs:\n",
	        CONF_DEFAULT_PATH);
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(fp, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(fp, "\n"
	            "Exit status: 0 done; 64 usage; 65 bad job; 66 no such job; 67 no such user;\n"
	            "  69 unavailable (status: account blocked or not delivering; test: refused);\n"
	            "  73 cannot create; 74 I/O error; 75 try again later; 77 permission; 78 "
	            "configuration.\n"
	            "\n"
	            "Example:\n"
	            "  spool list --failed\n"
	            "  spool -c /etc/spoold.conf show 1764578400.M123P45Q1.host\n");
}

/* find_verb - the verb named name, or NULL */
static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

/* wants_help - -h or --help among a verb's arguments (before "--") */
static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

/* help_verb - spool help [VERB] */
static int help_verb(struct cli *c, int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2) {
		global_help(stdout);
		return EX_OK;
	}
	if (argc > 2)
		return cli_usage(c, "one verb at a time");
	if (!(v = find_verb(argv[1]))) {
		cli_err(c, "unknown verb \"%s\" (see: spool --help)", argv[1]);
		return EX_USAGE;
	}
	return cli_help(v->help);
}

/* finish - flush stdout (a full disk or closed pipe is an error), clean up */
static int finish(struct cli *c, int rc)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno != EPIPE)
			cli_err(c, "standard output: %s", strerror(errno));
		if (rc == EX_OK)
			rc = EX_IOERR;
	}
	cli_close(c);
	return rc;
}

/* color_opt - --color[=WHEN]: 1 taken, 0 another argument, -1 a bad WHEN */
static int color_opt(const struct cli *c, const char *a)
{
	if (strcmp(a, "--color") && strncmp(a, "--color=", 8))
		return 0;
	if (term_set_color(a[7] ? a + 8 : "always") == 0)
		return 1;
	cli_err(c, "--color takes auto, always or never, not \"%s\" (see: spool --help)", a + 8);
	return -1;
}

/* strip_color - --color may also follow the verb: apply it and take it out
 * of the verb's arguments (up to "--"); the new argc, or -1 */
static int strip_color(const struct cli *c, int argc, char **argv)
{
	int n = 1, r;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--")) {
			while (k < argc)
				argv[n++] = argv[k++];
			break;
		}
		if ((r = color_opt(c, argv[k])) < 0)
			return -1;
		if (r == 0)
			argv[n++] = argv[k];
	}
	argv[n] = NULL;
	return n;
}

/* main - the global options, then the verb; its exit status */
int main(int argc, char **argv)
{
	struct cli c = {0};
	const struct verb *v;
	int i = 1, k;

	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			global_help(stdout);
			return finish(&c, EX_OK);
		}
		if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			if (i + 1 >= argc) {
				cli_err(&c, "option %s needs a FILE (see: spool --help)", a);
				return EX_USAGE;
			}
			c.conf_opt = argv[i + 1];
			i += 2;
		} else if (!strncmp(a, "-c", 2)) {
			c.conf_opt = a + 2;
			i++;
		} else if (!strncmp(a, "--config=", 9)) {
			c.conf_opt = a + 9;
			i++;
		} else if ((k = color_opt(&c, a)) != 0) {
			if (k < 0)
				return EX_USAGE;
			i++;
		} else {
			cli_err(&c, "unknown option %s (see: spool --help)", a);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		cli_err(&c, "no verb given (see: spool --help)");
		return EX_USAGE;
	}
	c.verb = argv[i];
	if (!strcmp(argv[i], "help"))
		return finish(&c, help_verb(&c, argc - i, argv + i));
	if (!(v = find_verb(argv[i]))) {
		c.verb = NULL;
		cli_err(&c, "unknown verb \"%s\" (see: spool --help)", argv[i]);
		return EX_USAGE;
	}
	if (wants_help(argc - i, argv + i))
		return finish(&c, cli_help(v->help));
	if ((k = strip_color(&c, argc - i, argv + i)) < 0)
		return EX_USAGE;
	return finish(&c, v->run(&c, k, argv + i));
}
