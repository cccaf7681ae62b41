"""test_account_cli - spool test, spool status (the account's state) and spool resume.

spool test against tests/smtpserver.py (STARTTLS, AUTH): accepted (the
server has the message and it parses), a 535 at AUTH (auth-failed), Gmail's
534-5.7.14 web-login reply (account-blocked: the browser and spool resume),
a certificate for another host (tls-failed), connection refused (try again
later), a password the caller may not read and a relay without a host
(configuration).  spool status with account state files written here, in
account.c's format (blocked: exit 69, the reason and what to do; suspect:
NOT DELIVERING, exit 69, what was found; rate-limited and a fallback; today's
budget from state/pace-relay), --json keys; spool resume moving the accounts
to probing, after which status exits 0.

Run: SPOOLD_BIN=build/plain /usr/bin/python3 -m unittest tests/e2e/test_account_cli.py
"""
import email
import email.policy
import email.utils
import json
import os
import pwd
import re
import socket
import subprocess
import sys
import time
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, FROM_ADDR, E2ETestCase  # noqa: E402

SPOOL = os.path.join(BIN, "spool", "spool")
EX_NOUSER, EX_UNAVAILABLE, EX_TEMPFAIL, EX_CONFIG = 67, 69, 75, 78

GMAIL_WEB_LOGIN = ("534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1&scc=1> "
                   "Please log in via\n"
                   "534-5.7.14 your web browser and then try again.\n"
                   "534 5.7.14 Learn more at https://support.google.com/mail/answer/78754 - gsmtp")
GMAIL_BAD_PASSWORD = ("535-5.7.8 Username and Password not accepted. Learn more at\n"
                      "535 5.7.8 https://support.google.com/mail/?p=BadCredentials - gsmtp")
ACCOUNT_KEYS = {"state", "since", "until", "category", "reason", "action", "reply", "incident"}


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(t)))


def free_port():
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AccountCliTest(E2ETestCase):
    def run_spool(self, conf, *args, **kw):
        return subprocess.run([SPOOL, "-c", conf, *args], capture_output=True, text=True,
                              timeout=90, **kw)

    def no_server(self, tls="starttls", auth=False, port=None):
        """Something write_conf takes for a server that is not there."""
        return types.SimpleNamespace(port=port or free_port(), tls=tls, auth=auth)

    # -- spool test ------------------------------------------------------------

    def test_accepted(self):
        srv = self.start_server(tls="starttls", auth=True)
        conf = self.write_conf(srv)
        p = self.run_spool(conf, "test")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        relay = f"127.0.0.1:{srv.port}"
        self.assertIn(f"The test message was accepted by {relay} for {FROM_ADDR}. (This proves "
                      f"the account can send; check the inbox of {FROM_ADDR} to confirm "
                      f"delivery.)\n", p.stdout)
        self.assertEqual(p.stderr, "")
        srv.wait_count(1)
        rec = srv.records()[0]
        self.assertEqual((rec["mail_from"], rec["rcpt"], rec["tls"]), (FROM_ADDR, [FROM_ADDR], True))
        msg = email.message_from_bytes(srv.message(rec), policy=email.policy.default)
        self.assertEqual(msg["Subject"], "spoold test message")
        self.assertEqual(msg["From"].addresses[0].display_name, "Springfield Chiropractic")
        self.assertEqual(msg["From"].addresses[0].addr_spec, FROM_ADDR)
        self.assertEqual(msg["To"].addresses[0].addr_spec, FROM_ADDR)
        self.assertEqual(msg["Auto-Submitted"], "auto-generated")
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        self.assertRegex(msg["Message-ID"], r"^<spoold\.test\.\d+\.\d+@springfield-chiro\.example>$")
        self.assertEqual(rec["message_id"], msg["Message-ID"])
        self.assertIn(msg["Message-ID"], p.stdout)
        sent = email.utils.parsedate_to_datetime(msg["Date"]).timestamp()
        self.assertAlmostEqual(sent, time.time(), delta=120)
        self.assertIn("This is a test message from spoold", msg.get_content())
        # Nothing in the spool: not created, not counted.
        self.assertFalse(os.path.exists(self.spool))

        p = self.run_spool(conf, "test", "--json", "--to", "jane@example.com")
        self.assertEqual(p.returncode, 0, p.stderr)
        v = json.loads(p.stdout)
        self.assertEqual(list(v), ["accepted", "relay", "to", "stage", "code", "category",
                                   "explanation", "action", "reply"])
        self.assertEqual((v["accepted"], v["relay"], v["to"], v["stage"], v["code"],
                          v["category"]), (True, relay, "jane@example.com", "data-end", 250,
                                           "sent"))
        srv.wait_count(2)
        self.assertEqual(srv.records()[1]["rcpt"], ["jane@example.com"])

        # The account works but spoold still holds back: say so, change nothing.
        self.make_spool()
        state = self.write_account("relay")
        before = os.stat(state)
        p = self.run_spool(conf, "test")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("spoold still has sending through [relay] stopped (since 2 h ago); the "
                      "account works now, so run: spool resume\n", p.stdout)
        self.assertEqual(self.read_account("relay")["state"], "blocked")
        self.assertEqual(os.stat(state).st_mtime_ns, before.st_mtime_ns)
        self.assertEqual(os.listdir(self.folder("new")), [])

    def test_recipient_refused(self):
        srv = self.start_server(tls="starttls", auth=True, script=[
            {"stage": "rcpt", "action": "reply",
             "reply": "550 5.1.1 The email account that you tried to reach does not exist."}])
        conf = self.write_conf(srv)
        p = self.run_spool(conf, "test", "--to", "nobody@example.com")
        self.assertEqual(p.returncode, EX_NOUSER, p.stdout + p.stderr)
        self.assertIn("sending through", p.stdout)
        self.assertIn("the address the test message was sent to does not exist", p.stdout)
        self.assertNotIn("patient", p.stdout)

    def test_auth_failed(self):
        srv = self.start_server(tls="starttls", auth=True, script=[
            {"stage": "auth", "action": "reply", "reply": GMAIL_BAD_PASSWORD}])
        conf = self.write_conf(srv)
        p = self.run_spool(conf, "test")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, p.stdout + p.stderr)
        out = p.stdout
        self.assertIn(f"The test message was NOT sent: signing in to 127.0.0.1:{srv.port} "
                      "failed.\n", out)
        self.assertRegex(out, r"What happened: .*(password|user name|sign)")
        self.assertIn("What to do: ", out)
        # the server's words come last
        self.assertTrue(out.rstrip("\n").endswith("535 5.7.8 https://support.google.com/mail/"
                                                  "?p=BadCredentials - gsmtp"), out)
        v = json.loads(self.run_spool(conf, "test", "--json").stdout)
        self.assertEqual((v["accepted"], v["stage"], v["code"], v["category"]),
                         (False, "auth", 535, "auth-failed"))
        self.assertTrue(v["explanation"] and v["action"])
        self.assertIn("Username and Password not accepted", v["reply"])
        self.assertEqual(srv.count(), 0)

    def test_gmail_web_login(self):
        srv = self.start_server(tls="starttls", auth=True, script=[
            {"stage": "auth", "action": "reply", "reply": GMAIL_WEB_LOGIN}])
        conf = self.write_conf(srv)
        p = self.run_spool(conf, "test")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, p.stdout + p.stderr)
        self.assertIn("signing in to", p.stdout)
        self.assertIn("What happened: Gmail has stopped this account from sending", p.stdout)
        self.assertIn("What to do: Sign in to the practice's e-mail account in a web browser "
                      "and complete the check, then run: spool resume\n", p.stdout)
        lines = p.stdout.rstrip("\n").split("\n")
        self.assertEqual(lines[-4], "The server said:")
        self.assertTrue(lines[-3].startswith("  534 5.7.14 <https://accounts.google.com/"))
        v = json.loads(self.run_spool(conf, "test", "--json").stdout)
        self.assertEqual((v["accepted"], v["category"], v["code"]),
                         (False, "account-blocked", 534))
        self.assertIn("web browser", v["action"])
        self.assertIn("spool resume", v["action"])

    def test_wrong_host_certificate(self):
        srv = self.start_server(tls="starttls", cert="wrong", auth=True)
        conf = self.write_conf(srv)
        p = self.run_spool(conf, "test")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, p.stdout + p.stderr)
        self.assertIn("securing the connection to", p.stdout)
        v = json.loads(self.run_spool(conf, "test", "--json").stdout)
        self.assertEqual((v["accepted"], v["category"]), (False, "tls-failed"))
        self.assertTrue(v["explanation"] and v["action"])
        self.assertEqual(srv.count(), 0)

    def test_connection_refused(self):
        conf = self.write_conf(self.no_server(auth=True))
        p = self.run_spool(conf, "test")
        self.assertEqual(p.returncode, EX_TEMPFAIL, p.stdout + p.stderr)
        self.assertIn("The test message was NOT sent: connecting to 127.0.0.1:", p.stdout)
        self.assertIn("Details: ", p.stdout)
        v = json.loads(self.run_spool(conf, "test", "--json").stdout)
        self.assertEqual((v["accepted"], v["stage"], v["code"], v["category"]),
                         (False, "connect", 0, "transient"))

    def test_configuration_problems(self):
        conf = self.write_conf(self.no_server(auth=True))
        p = self.run_spool(conf, "test", "--fallback")
        self.assertEqual(p.returncode, EX_CONFIG)
        self.assertIn("there is no [fallback] section to test", p.stderr)
        self.assertEqual(self.run_spool(conf, "test", "--to", "not an address").returncode, 64)
        self.assertEqual(self.run_spool(conf, "test", "--relay", "--fallback").returncode, 64)
        nohost = os.path.join(self.tmp, "nohost.conf")
        with open(nohost, "w") as f:
            f.write(f"spool_dir = {self.spool}\nuser = {pwd.getpwuid(os.geteuid()).pw_name}\n"
                    f"[relay]\nfrom = {FROM_ADDR}\n")
        os.chmod(nohost, 0o600)
        p = self.run_spool(nohost, "test")
        self.assertEqual(p.returncode, EX_CONFIG)
        self.assertIn("[relay] has no host", p.stderr)

    def test_password_not_readable(self):
        conf = self.write_conf(self.no_server(auth=True))
        kw = {}
        if os.geteuid() == 0:
            # root reads any file: run as nobody, who may read the
            # configuration but not the root-owned password file
            nobody = pwd.getpwnam("nobody")
            os.chmod(self.tmp, 0o755)
            os.chmod(conf, 0o644)

            def become_nobody():
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            kw["preexec_fn"] = become_nobody
        else:
            os.chmod(os.path.join(self.tmp, "password"), 0)
        p = self.run_spool(conf, "test", **kw)
        self.assertEqual(p.returncode, EX_CONFIG, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertRegex(p.stderr, r"^spool test: spool test needs to read the account's "
                         r"password \(relay\.password_file \S+/password: Permission denied\): "
                         r"run it as root or as the spoold user")

    # -- spool status and spool resume --------------------------------------

    def write_state(self, name, text):
        os.makedirs(self.folder("state"), exist_ok=True)
        path = os.path.join(self.folder("state"), name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def write_account(self, relay, **over):
        now = time.time()
        a = {"version": 1, "state": "blocked", "since": rfc3339(now - 2 * 3600 - 60),
             "until": None, "category": "account-blocked",
             "reason": "Gmail has stopped this account from sending until someone signs in "
                       "to it in a web browser and completes Google's security check.",
             "action": "Sign in to the practice's e-mail account in a web browser and "
                       "complete the check, then run: spool resume",
             "reply": GMAIL_WEB_LOGIN.replace("\n", " "), "rule": "gmail-web-login",
             "incident": 3, "alerted": 3, "rejects": 0, "reject_rcpt": []}
        a.update(over)
        return self.write_state(f"account-{relay}", json.dumps(a, indent=2) + "\n")

    def read_account(self, relay):
        with open(os.path.join(self.folder("state"), f"account-{relay}"), encoding="utf-8") as f:
            return json.load(f)

    def test_status_blocked_then_resume(self):
        self.make_spool()
        conf = self.write_conf(self.no_server())
        self.write_account("relay")
        p = self.run_spool(conf, "status")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, p.stdout + p.stderr)
        out = p.stdout
        self.assertTrue(out.startswith("Sending: STOPPED — Gmail has stopped this account from "
                                       "sending until someone signs in"), out)
        self.assertIn("  Stopped 2 h ago (", out)
        self.assertIn("  What to do: Sign in to the practice's e-mail account in a web browser "
                      "and complete the check, then run: spool resume\n", out)
        self.assertIn("  The server said: 534-5.7.14 <https://accounts.google.com/", out)
        self.assertIn("Today: no daily limit set", out)
        self.assertIn("Folders:", out)
        self.assertIn("Oldest waiting:  none", out)

        p = self.run_spool(conf, "status", "--json")
        self.assertEqual(p.returncode, EX_UNAVAILABLE)
        st = json.loads(p.stdout)
        self.assertEqual(list(st), ["folders", "oldest_waiting", "next_attempt", "account",
                                    "budget", "verify"])
        self.assertEqual(list(st["account"]), ["relay"])
        a = st["account"]["relay"]
        self.assertEqual(set(a), ACCOUNT_KEYS)
        self.assertEqual((a["state"], a["category"], a["until"], a["incident"]),
                         ("blocked", "account-blocked", None, 3))
        self.assertEqual(a["since"], self.read_account("relay")["since"])
        self.assertIn("spool resume", a["action"])
        self.assertEqual(st["budget"], {"per_day": None, "used_24h": None})

        p = self.run_spool(conf, "resume")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Sending was stopped 2 h ago: Gmail has stopped this account", p.stdout)
        self.assertIn("Sending will resume: spoold first sends one test message (the next "
                      "reminder); if the provider still refuses, sending stops again and you "
                      "will be alerted.\n", p.stdout)
        saved = self.read_account("relay")
        self.assertEqual((saved["state"], saved["until"], saved["incident"]),
                         ("probing", None, 3))
        self.assertLessEqual(abs(time.mktime(time.strptime(saved["since"], "%Y-%m-%dT%H:%M:%SZ"))
                                 - time.timezone - time.time()), 60)

        p = self.run_spool(conf, "status")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue(p.stdout.startswith("Sending: resuming: the next message is a test"),
                        p.stdout)
        self.assertEqual(json.loads(self.run_spool(conf, "status", "--json").stdout)
                         ["account"]["relay"]["state"], "probing")
        p = self.run_spool(conf, "resume")
        self.assertEqual((p.returncode, p.stdout),
                         (0, "Nothing to resume: sending is already resuming (the next "
                             "message is a test).\n"))

    def test_status_suspect_then_resume(self):
        """Suspect (the provider says 250 but does not deliver): NOT DELIVERING with what was
        found and what to do, exit 69, "suspect" in --json; resume moves it to probing."""
        self.make_spool()
        conf = self.write_conf(self.no_server())
        self.write_account(
            "relay", state="suspect", since=rfc3339(time.time() - 40 * 60),
            category="not-delivered",
            reason="Your e-mail provider is accepting reminders but not delivering them.",
            action="Sign in to the practice's e-mail account and look for a warning from the "
                   "provider, then run: spool resume",
            reply="canary <c1@spoold> sent 10:02, not in canary@other.example INBOX after "
                  "30 minutes", rule="not-delivered", incident=4, alerted=4)
        p = self.run_spool(conf, "status")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, p.stdout + p.stderr)
        out = p.stdout
        self.assertTrue(out.startswith("Sending: NOT DELIVERING — Your e-mail provider is "
                                       "accepting reminders but not delivering them.\n"), out)
        self.assertIn("  Noticed 40 min ago (", out)
        self.assertIn("While it checks, spoold sends only one message every 10 minutes; once "
                      "a check message arrives again, sending runs as before by itself.", out)
        self.assertIn("  What to do: Sign in to the practice's e-mail account and look for a "
                      "warning from the provider, then run: spool resume\n", out)
        self.assertIn("  What was found: canary <c1@spoold> sent 10:02, not in "
                      "canary@other.example INBOX after 30 minutes\n", out)
        self.assertNotIn("The server said:", out)
        self.assertTrue(self.run_spool(conf, "--color=always", "status").stdout.startswith(
            "Sending: \x1b[31mNOT DELIVERING\x1b[0m — "))

        p = self.run_spool(conf, "status", "--json")
        self.assertEqual(p.returncode, EX_UNAVAILABLE)
        a = json.loads(p.stdout)["account"]["relay"]
        self.assertEqual(set(a), ACCOUNT_KEYS)
        self.assertEqual((a["state"], a["category"], a["until"], a["incident"]),
                         ("suspect", "not-delivered", None, 4))
        self.assertIn("not delivering", a["reason"])
        self.assertIn("spool resume", a["action"])
        self.assertIn("canary <c1@spoold>", a["reply"])

        # on_suspect = stop: no trickle, says sending has stopped.
        with open(conf, "a") as f:
            f.write(f"\n[verify]\nhost = 127.0.0.1\nuser = {FROM_ADDR}\n"
                    f"password_file = {self.write_password(0o600)}\non_suspect = stop\n")
        p = self.run_spool(conf, "status")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, p.stdout + p.stderr)
        self.assertIn("spoold has stopped sending until a check message arrives again or "
                      "you run spool resume; waiting reminders are kept.\n", p.stdout)
        self.assertNotIn("one message every", p.stdout)
        conf = self.write_conf(self.no_server())

        p = self.run_spool(conf, "resume")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Sending was held back (mail was not being delivered) 40 min ago: Your "
                      "e-mail provider is accepting reminders", p.stdout)
        self.assertIn("Sending will resume: spoold first sends one test message", p.stdout)
        self.assertIn("The delivery checks go on: if mail still does not arrive", p.stdout)
        saved = self.read_account("relay")
        self.assertEqual((saved["state"], saved["until"], saved["incident"]),
                         ("probing", None, 4))
        p = self.run_spool(conf, "status")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue(p.stdout.startswith("Sending: resuming: the next message is a test"),
                        p.stdout)

        # The fallback alone suspect is 69 too; resume --json lists it.
        with open(conf, "a") as f:
            f.write("\n[fallback]\nhost = 127.0.0.1\nport = 2\ntls = none\n")
        self.write_account("fallback", state="suspect", category="not-in-sent",
                           reason="Messages the provider accepted are missing from the "
                                  "account's Sent folder.", action="", reply="")
        p = self.run_spool(conf, "status")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, p.stdout + p.stderr)
        self.assertIn("Fallback: NOT DELIVERING — Messages the provider accepted are missing",
                      p.stdout)
        self.assertIn("  What to do: Check with your e-mail provider", p.stdout)
        p = self.run_spool(conf, "resume", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        v = json.loads(p.stdout)
        self.assertEqual(v["resumed"], ["fallback"])
        self.assertEqual(v["account"]["fallback"]["state"], "probing")

    def test_rate_limited_fallback_and_budget(self):
        self.make_spool()
        conf = self.write_conf(self.no_server(), top={"probe_to": "frontdesk@example.com"})
        with open(conf, "a") as f:
            f.write("\n[pacing]\nper_day = 400\n\n[fallback]\nhost = 127.0.0.1\nport = 2\n"
                    "tls = none\n")
        until = time.time() + 12 * 60 + 30
        self.write_account("relay", state="rate-limited", until=rfc3339(until),
                           category="rate-limited",
                           reason="The provider limits how many messages this account may "
                                  "send.", action="Nothing to do now.",
                           reply="421 4.7.0 Try again later")
        self.write_account("fallback")
        now_ms = int(time.time() * 1000)
        self.write_state("pace-relay", "version 1\n%d\n%d\n%d\n%d\n" % (
            now_ms - 25 * 3600 * 1000, now_ms - 3600 * 1000, now_ms - 60000, now_ms - 1000))
        p = self.run_spool(conf, "status")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, p.stdout + p.stderr)  # fallback blocked
        hm = time.strftime("%H:%M", time.localtime(until))
        self.assertIn(f"Sending: paused until {hm} (in 12 min) because the provider asked: "
                      "The provider limits", p.stdout)
        self.assertIn("Fallback: STOPPED — Gmail has stopped", p.stdout)
        self.assertIn("Today: 3 of 400 sent (last 24 h)\n", p.stdout)
        st = json.loads(self.run_spool(conf, "status", "--json").stdout)
        self.assertEqual(list(st["account"]), ["relay", "fallback"])
        self.assertEqual(st["account"]["relay"]["state"], "rate-limited")
        self.assertEqual(st["account"]["relay"]["until"], rfc3339(until))
        self.assertEqual(set(st["account"]["fallback"]), ACCOUNT_KEYS)
        self.assertEqual(st["budget"], {"per_day": 400, "used_24h": 3})

        # Only the fallback blocked: still 69; rate-limited alone is 0.
        self.write_account("fallback", state="running", category="", reason="", action="",
                           reply="")
        self.assertEqual(self.run_spool(conf, "status").returncode, 0)
        self.write_account("fallback")

        p = self.run_spool(conf, "resume", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        v = json.loads(p.stdout)
        self.assertEqual(v["resumed"], ["relay", "fallback"])
        self.assertEqual({k: a["state"] for k, a in v["account"].items()},
                         {"relay": "probing", "fallback": "probing"})
        self.assertEqual(self.read_account("fallback")["state"], "probing")
        self.assertEqual(self.read_account("relay")["until"], None)
        p = self.run_spool(conf, "status")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Sending: resuming: the next message is a test (to frontdesk@example.com)",
                      p.stdout)

    def test_no_state_yet(self):
        """A spool spoold has not started on: running, nothing to resume, nothing written."""
        self.make_spool()
        conf = self.write_conf(self.no_server())
        p = self.run_spool(conf, "status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("Sending: running\n"), p.stdout)
        st = json.loads(self.run_spool(conf, "status", "--json").stdout)
        self.assertEqual(st["account"]["relay"]["state"], "running")
        self.assertEqual(set(st["account"]["relay"]), ACCOUNT_KEYS)
        p = self.run_spool(conf, "resume")
        self.assertEqual((p.returncode, p.stdout), (0, "Nothing to resume: sending is running.\n"))
        self.assertFalse(os.path.exists(self.folder("state")))

    def test_help(self):
        for verb, words in (("status", ["69", "--json", "Example:"]),
                            ("resume", ["probe_to", "Example:", "Exit status:"]),
                            ("test", ["--to ADDR", "--fallback", "--alert-relay", "pacing",
                                      "does not\ntouch the spool", "69", "75", "78",
                                      "Example:"])):
            p = subprocess.run([SPOOL, verb, "--help"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(p.returncode, 0)
            for w in words:
                self.assertIn(w, p.stdout, verb)
        p = subprocess.run([SPOOL, "--help"], capture_output=True, text=True, timeout=30)
        self.assertRegex(p.stdout, re.compile(r"^  resume ", re.M))
        self.assertRegex(p.stdout, re.compile(r"^  test ", re.M))


if __name__ == "__main__":
    unittest.main()
