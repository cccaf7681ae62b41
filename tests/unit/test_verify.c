/*
 * test_verify - the pure parts of the delivery checks: the job name back
 * from our Message-ID and ENVID; [verify] and [canary] in the
 * configuration (defaults from the profiles, every refusal); state/verify
 * written and read back; the account's suspect state.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "account.h"
#include "conf.h"
#include "msg.h"
#include "spooldir_fixture.h"
#include "verify_state.h"

/* roundtrip - name -> Message-ID and ENVID -> name */
static void roundtrip(const char *name)
{
	char id[MSG_ID_MAX], env[700], back[SPOOLDIR_NAME_MAX + 1];

	msg_message_id(name, "office@clinic.example", id, sizeof id);
	assert_non_null(msg_message_id_name(id, back, sizeof back));
	assert_string_equal(back, name);
	msg_envid(name, env, sizeof env);
	for (const char *p = env; *p; p++)
		assert_true((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		            (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_');
	assert_non_null(msg_envid_name(env, back, sizeof back));
	assert_string_equal(back, name);
}

static void test_ids_roundtrip(void **state)
{
	(void)state;
	roundtrip("1764578400.M123456P45Q1.host");
	roundtrip("1764578400.M1P2.host:2,S");
	roundtrip("a=b+c,d:e_f-g.h");
	roundtrip("x..y");
	roundtrip("trailing.");
	roundtrip("j");
}

static void test_ids_refused(void **state)
{
	char back[SPOOLDIR_NAME_MAX + 1];

	(void)state;
	assert_null(msg_message_id_name("<CAB123@mail.gmail.com>", back, sizeof back));
	assert_null(msg_message_id_name("<spoold.abc=4@x>", back, sizeof back)); /* short escape */
	assert_null(msg_message_id_name("<spoold.abc=ZZ@x>", back, sizeof back));
	assert_null(msg_message_id_name("<spoold.a=00b@x>", back, sizeof back)); /* NUL */
	assert_null(msg_message_id_name("<spoold.a=2Fb@x>", back, sizeof back)); /* '/' */
	assert_null(msg_message_id_name("<spoold.@x>", back, sizeof back));
	assert_null(msg_message_id_name("<spoold.abc", back, sizeof back));
	assert_null(msg_message_id_name(NULL, back, sizeof back));
	assert_null(msg_envid_name("other.abc", back, sizeof back));
	assert_null(msg_envid_name("spoold.a_2", back, sizeof back));
	assert_null(msg_envid_name("spoold..hidden", back, sizeof back)); /* starts with '.' */
	assert_null(msg_envid_name("spoold.", back, sizeof back));
	assert_non_null(msg_envid_name("spoold.abc", back, sizeof back));
}

static char cdir[64];

/* conf_file - write a configuration (and the password files) */
static const char *conf_file(const char *text)
{
	static char path[128];
	char pw[128];
	FILE *fp;

	if (!*cdir) {
		snprintf(cdir, sizeof cdir, "/tmp/test_verify-XXXXXX");
		assert_non_null(mkdtemp(cdir));
	}
	snprintf(pw, sizeof pw, "%s/pw", cdir);
	fp = fopen(pw, "w");
	fputs("secret\n", fp);
	fclose(fp);
	chmod(pw, 0600);
	snprintf(path, sizeof path, "%s/spoold.conf", cdir);
	fp = fopen(path, "w");
	fprintf(fp,
	        "spool_dir = /tmp/x\n[relay]\nprofile = gmail\nuser = office@gmail.com\n"
	        "password_file = %s\nfrom = office@gmail.com\n%s",
	        pw, text);
	fclose(fp);
	chmod(path, 0644);
	return path;
}

/* load - conf_load on text; the error or "" */
static const char *load(struct conf *c, const char *text)
{
	static char err[600];

	*err = '\0';
	const char *p;

	if (conf_load(c, conf_file(text), err, sizeof err) == 0)
		return "";
	if (!(p = strstr(err, "spoold.conf")))
		return err;
	for (p += strlen("spoold.conf"); *p == ':' || *p == ' ' || (*p >= '0' && *p <= '9'); p++)
		;
	return p;
}

static void test_conf_defaults(void **state)
{
	struct conf c;

	(void)state;
	assert_string_equal(load(&c, ""), "");
	assert_false(c.verify.imap.configured);
	conf_free(&c);

	assert_string_equal(load(&c, "[verify]\n"), "");
	assert_true(c.verify.imap.configured);
	assert_string_equal(c.verify.imap.host, "imap.gmail.com");
	assert_int_equal(c.verify.imap.port, 993);
	assert_int_equal(c.verify.imap.tls, TLS_IMPLICIT);
	assert_string_equal(c.verify.imap.user, "office@gmail.com");
	assert_string_equal(c.verify.imap.password, "secret");
	assert_string_equal(c.verify.sent_folder, "[Gmail]/Sent Mail");
	assert_string_equal(c.verify.imap.folder, "INBOX");
	assert_int_equal(c.verify.confirm_sent, 1);
	assert_int_equal(c.verify.confirm_minutes, 10);
	assert_int_equal(c.verify.check_minutes, 5);
	assert_int_equal(c.verify.on_suspect, SUSPECT_SLOW);
	assert_null(c.verify.canary_to);
	conf_free(&c);

	assert_string_equal(load(&c, "[verify]\nprofile = icloud\nconfirm_minutes = 3\n"
	                             "on_suspect = stop\ntls = starttls\n"),
	        "");
	assert_string_equal(c.verify.imap.host, "imap.mail.me.com");
	assert_int_equal(c.verify.imap.port, 143);
	assert_string_equal(c.verify.sent_folder, "Sent Messages");
	assert_int_equal(c.verify.confirm_sent, 0);
	assert_int_equal(c.verify.confirm_minutes, 3);
	assert_int_equal(c.verify.on_suspect, SUSPECT_STOP);
	conf_free(&c);

	assert_string_equal(load(&c, "[verify]\ncanary_to = canary@yahoo.com\ncanary_every = 20\n"
	                             "[canary]\nprofile = yahoo\nuser = canary@yahoo.com\n"
	                             "password_file = /tmp/x/none\n"),
	        "canary.password_file /tmp/x/none: No such file or directory");
	conf_free(&c);
}

static void test_conf_canary(void **state)
{
	struct conf c;
	char text[400];

	(void)state;
	snprintf(text, sizeof text,
	        "[verify]\ncanary_to = canary@yahoo.com\ncanary_every = 20\n[canary]\n"
	        "profile = yahoo\nuser = canary@yahoo.com\npassword_file = %s/pw\n",
	        cdir);
	assert_string_equal(load(&c, text), "");
	assert_string_equal(c.verify.canary_to, "canary@yahoo.com");
	assert_int_equal(c.verify.canary_every, 20);
	assert_string_equal(c.verify.canary.host, "imap.mail.yahoo.com");
	assert_string_equal(c.verify.canary.folder, "INBOX");
	assert_string_equal(c.verify.canary.password, "secret");
	conf_free(&c);
}

static void test_conf_refused(void **state)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
	        {"[verify]\nconfirm_minutes = 0\n",
	                "verify.confirm_minutes: \"0\" is not a whole number from 1 to 10080"},
	        {"[verify]\non_suspect = maybe\n",
	                "verify.on_suspect: \"maybe\" must be slow or stop"},
	        {"[verify]\ntls = sometimes\n",
	                "verify.tls: \"sometimes\" must be implicit, starttls or none"},
	        {"[verify]\nconfirm_sent = perhaps\n",
	                "verify.confirm_sent: \"perhaps\" must be yes or no"},
	        {"[verify]\nwhat = 1\n", "unknown key \"what\" in [verify]"},
	        {"[verify]\nprofile = ses\n",
	                "[verify] needs a host (or a profile with an IMAP server)"},
	        {"[verify]\nprofile = nope\n", "verify.profile: \"nope\" is not one of gmail, "
	                                       "workspace, outlook, office365, yahoo, att, icloud, "
	                                       "zoho, ses, custom"},
	        {"[verify]\nhost = imap.example.com\ntls = none\n",
	                "verify: LOGIN over an unencrypted connection is refused: set tls = "
	                "implicit or starttls"},
	        {"[verify]\ncanary_to = canary@yahoo.com\n",
	                "verify.canary_to needs a [canary] section: the IMAP login of "
	                "canary@yahoo.com, so spoold can see the canary arrive"},
	        {"[verify]\ncanary_to = not an address\n", NULL},
	        {"[canary]\nhost = x\n", "[canary] needs a [verify] section with canary_to"},
	        {"[verify]\n[canary]\nhost = imap.x\nuser = u\n",
	                "[canary] is set but verify.canary_to is not"},
	};
	struct conf c;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *err = load(&c, bad[i].text);
		if (bad[i].err)
			assert_string_equal(err, bad[i].err);
		else
			assert_true(strstr(err, "is not a valid address") != NULL);
	}
}

static void test_state_roundtrip(void **state)
{
	struct t *t = *state;
	struct verify_state vs = {0}, back;

	vs.inbox_validity = 7;
	vs.inbox_uid = 42;
	snprintf(vs.canary_id, sizeof vs.canary_id, "<spoold-canary.1@x>");
	vs.canary_sent = 1764578400;
	snprintf(vs.missing_id, sizeof vs.missing_id, "<spoold-canary.0@x>");
	vs.missing_sent = 1764570000;
	vs.since_canary = 12;
	vs.last_canary = 1764578400;
	vs.last_check = 1764578460;
	vs.last_send = 1764578450;
	assert_int_equal(verify_state_add(&vs, "a", "<spoold.a@x>", 1764578401), 0);
	assert_int_equal(verify_state_add(&vs, "b", "<spoold.b@x>", 1764578402), 0);
	assert_int_equal(verify_state_add(&vs, "c", "<spoold.c@x>", 1764578403), 0);
	verify_state_forget(&vs, "b");
	assert_int_equal(vs.npending, 2);
	assert_string_equal(vs.pending[1].name, "c"); /* the order is kept */
	assert_int_equal(verify_state_save(&t->sd, &vs), 0);
	assert_int_equal(verify_state_load(&t->sd, &back), 0);
	assert_int_equal(back.inbox_validity, 7);
	assert_int_equal(back.inbox_uid, 42);
	assert_string_equal(back.canary_id, vs.canary_id);
	assert_int_equal(back.canary_sent, vs.canary_sent);
	assert_string_equal(back.missing_id, vs.missing_id);
	assert_int_equal(back.missing_sent, vs.missing_sent);
	assert_int_equal(back.since_canary, 12);
	assert_int_equal(back.last_canary, vs.last_canary);
	assert_int_equal(back.last_check, vs.last_check);
	assert_int_equal(back.last_send, vs.last_send);
	assert_int_equal(back.npending, 2);
	assert_string_equal(back.pending[0].name, "a");
	assert_string_equal(back.pending[0].msgid, "<spoold.a@x>");
	assert_int_equal(back.pending[1].sent, 1764578403);
	verify_state_free(&vs);
	verify_state_free(&back);

	/* A damaged file: an empty state and -1, never a crash. */
	assert_int_equal(
	        spooldir_write(&t->sd, F_STATE, VERIFY_STATE_FILE, "{\"pending\": [1, {", 17, 0),
	        0);
	assert_int_equal(verify_state_load(&t->sd, &back), -1);
	assert_int_equal(back.npending, 0);
	verify_state_free(&back);
}

static void test_account_suspect(void **state)
{
	struct t *t = *state;
	struct account a, back;

	(void)state;
	account_init(&a, "relay");
	assert_int_equal(account_suspect(&a, "not-delivered", "why", "do", "detail", 100), 1);
	assert_int_equal(a.state, ACCT_SUSPECT);
	assert_int_equal(a.incident, 1);
	assert_string_equal(account_state_name(a.state), "suspect");
	assert_int_equal(account_can_send(&a, 101), 1); /* the daemon trickles */
	assert_int_equal(account_suspect(&a, "not-delivered", "why", "do", "again", 102), 0);
	assert_int_equal(a.incident, 1); /* one incident, one alert */
	account_note_sent(&a, 103);      /* a 250 proves nothing */
	assert_int_equal(a.state, ACCT_SUSPECT);
	assert_int_equal(account_save(&t->sd, &a), 0);
	assert_int_equal(account_load(&t->sd, "relay", &back), 0);
	assert_int_equal(back.state, ACCT_SUSPECT);
	assert_string_equal(back.category, "not-delivered");
	assert_string_equal(back.reply, "detail");
	assert_int_equal(account_clear_suspect(&a, 104), 1);
	assert_int_equal(a.state, ACCT_RUNNING);
	assert_int_equal(account_clear_suspect(&a, 105), 0);

	account_suspect(&a, "not-in-sent", "why", "do", "d", 106);
	account_resume(&a, 107);
	assert_int_equal(a.state, ACCT_PROBING);

	/* A notice blocks even a running account, once. */
	account_init(&a, "relay");
	assert_int_equal(account_block(&a, "account-blocked", "r", "a", "zoho-outgoing-blocked",
	                         "zoho-outgoing-blocked", 200),
	        1);
	assert_int_equal(a.state, ACCT_BLOCKED);
	assert_int_equal(account_block(&a, "account-blocked", "r", "a", "n", "n", 201), 0);
	assert_int_equal(account_suspect(&a, "not-delivered", "w", "d", "x", 202), 0);
	assert_int_equal(a.state, ACCT_BLOCKED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ids_roundtrip),
	        cmocka_unit_test(test_ids_refused),
	        cmocka_unit_test(test_conf_defaults),
	        cmocka_unit_test(test_conf_canary),
	        cmocka_unit_test(test_conf_refused),
	        cmocka_unit_test_setup_teardown(test_state_roundtrip, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_account_suspect, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];

	if (*cdir) {
		snprintf(cmd, sizeof cmd, "rm -rf %s", cdir);
		if (system(cmd) != 0)
			return 1;
	}
	return rc;
}
