"""test_simulator - the provider simulation of tests/smtpserver.py, checked on its own.

These tests drive the scripted server with Python's smtplib (no spoold), so
that tests of spoold can trust what the simulated provider does: suspension
after N messages and recovery when the verified flag appears, the daily quota
and per-minute sliding windows, login throttling, bad recipients, random
4xx, blackholing, combining --script with --provider, and the stats file.

Synchronisation: the server updates its state and the stats file before it
sends the reply that shows the change, so after a reply the files are
current; connection counts are waited for on the stats file (inotify, via
harness.wait_until).  The only sleeps wait for a sliding window to pass:
short windows, and the exact time computed from the server's own timestamps
(log.jsonl "time") or from a client time taken after the server's reply.
"""

import email.utils
import importlib.util
import json
import os
import random
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import (PASSWORD, PYTHON, RELAY_USER, SMTPSERVER, SmtpServer, certs,
                     wait_until)

FROM = "reminders@springfield-chiro.example"
GMAIL_WEB_LOGIN = "Please log in via"


def message(tag):
    """A small message with a Message-ID naming tag."""
    return (f"From: {FROM}\r\nTo: patient@example.com\r\nSubject: {tag}\r\n"
            f"Message-ID: <{tag}@sim.test>\r\n\r\nHello {tag}\r\n").encode()


def sleep_until(t):
    """Wait until the wall clock (time.time(), as the server uses) reaches t."""
    while True:
        left = t - time.time()
        if left <= 0:
            return
        time.sleep(left)


class SimulatorTest(unittest.TestCase):
    """A temporary directory; every server started is stopped in cleanups."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="spoold-sim-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.servers = []
        self.clients = []
        self.addCleanup(self._stop_all)

    def _stop_all(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        for s in self.servers:
            s.stop()

    # -- servers and clients

    def start(self, provider=None, tls=None, auth=False, script=None):
        """smtpserver.py with the provider simulation and --stats."""
        s = SmtpServer(self.tmp, tls=tls, auth=auth, script=script, provider=provider,
                       stats=True)
        self.servers.append(s)
        return s

    def client(self, srv, login=True):
        """An smtplib client that has said EHLO (and STARTTLS, AUTH as the server wants)."""
        c = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        self.clients.append(c)
        c.ehlo("sim.test")
        if srv.tls == "starttls":
            ctx = ssl.create_default_context(cafile=os.path.join(certs(), "ca.crt"))
            c.starttls(context=ctx)
            c.ehlo("sim.test")
        if srv.auth and login:
            self.auth(c)
        return c

    @staticmethod
    def auth(c, password=PASSWORD):
        """Exactly one AUTH PLAIN command (smtplib.login would try LOGIN after a
        failure too); returns (code, text), raises SMTPAuthenticationError."""
        c.user, c.password = RELAY_USER, password
        return c.auth("PLAIN", c.auth_plain)

    def send(self, c, tag, rcpt="jane@example.com"):
        """Send one message; the refused-recipients dict of sendmail."""
        return c.sendmail(FROM, [rcpt] if isinstance(rcpt, str) else rcpt, message(tag))

    def flag(self, name="verified"):
        """Create the verified flag file (a person verified the account)."""
        path = os.path.join(self.tmp, name)
        with open(path + ".tmp", "w", encoding="ascii") as f:
            f.write("verified\n")
        os.rename(path + ".tmp", path)
        return path

    @staticmethod
    def stats(srv):
        with open(srv.stats_file, encoding="utf-8") as f:
            return json.load(f)

    def wait_stats(self, srv, pred, what):
        """The stats once pred(stats) holds (re-checked when the file is replaced)."""
        return wait_until(lambda: (lambda s: s if pred(s) else None)(self.stats(srv)),
                          10, [srv.dir], what, lambda: json.dumps(self.stats(srv)))

    @staticmethod
    def blackholed(srv):
        try:
            with open(os.path.join(srv.mbox, "blackhole.jsonl"), encoding="utf-8") as f:
                return [json.loads(ln) for ln in f if ln.strip()]
        except FileNotFoundError:
            return []


class TestSuspension(SimulatorTest):

    def test_gmail_suspends_after_n_and_recovers_on_flag(self):
        """Gmail: 2 accepted, then 534 5.7.14 at MAIL (authenticated session) and
        at AUTH (new session); the flag lifts it, counting starts anew."""
        flag = os.path.join(self.tmp, "verified")
        srv = self.start({"profile": "gmail", "suspend_after": 2, "verified_flag": flag},
                         tls="starttls", auth=True)
        c1 = self.client(srv)
        self.assertEqual(self.send(c1, "g1"), {})
        st = self.stats(srv)
        self.assertFalse(st["suspended"])
        self.assertEqual(self.send(c1, "g2"), {})
        st = self.stats(srv)
        self.assertTrue(st["suspended"])
        self.assertEqual((st["accepted"], st["suspensions"]), (2, 1))

        # The session that authenticated before: refused at MAIL, multi-line 534.
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            self.send(c1, "g3")
        self.assertEqual(cm.exception.smtp_code, 534)
        text = cm.exception.smtp_error.decode()
        self.assertIn(GMAIL_WEB_LOGIN, text)
        lines = text.split("\n")
        self.assertEqual(len(lines), 4, text)
        self.assertTrue(all(ln.startswith("5.7.14") for ln in lines), text)

        # A new session: the right password gets 534 after the credentials.
        c2 = self.client(srv, login=False)
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            self.auth(c2)
        self.assertEqual(cm.exception.smtp_code, 534)
        self.assertIn(GMAIL_WEB_LOGIN, cm.exception.smtp_error.decode())
        # ...and a wrong one the ordinary 535.
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            self.auth(c2, "wrong")
        self.assertEqual(cm.exception.smtp_code, 535)
        st = self.stats(srv)
        self.assertEqual(st["refused_by_kind"], {"suspended": 2})
        self.assertEqual((st["auth_attempts"], st["auth_failures"]), (3, 1))
        self.assertTrue(os.path.exists(os.path.join(srv.mbox, "log.jsonl")))
        self.assertEqual(srv.count(), 2)

        # Verified: the next command sees the flag, consumes it, accepts again.
        self.flag()
        self.assertEqual(self.send(c1, "g4"), {})
        self.assertFalse(os.path.exists(flag), "the server consumes the flag")
        st = self.stats(srv)
        self.assertEqual((st["suspended"], st["resumptions"], st["accepted_since_resume"]),
                         (False, 1, 1))
        self.assertEqual(self.auth(c2)[0], 235)
        self.assertEqual(self.send(c2, "g5"), {})     # 2 since the resumption
        st = self.stats(srv)
        self.assertEqual((st["suspended"], st["suspensions"], st["accepted"]), (True, 2, 4))
        with self.assertRaises(smtplib.SMTPSenderRefused):
            self.send(c2, "g6")

        recs = srv.records()
        self.assertEqual([r["message_id"] for r in recs],
                         ["<g1@sim.test>", "<g2@sim.test>", "<g4@sim.test>", "<g5@sim.test>"])
        self.assertEqual([r["conn"] for r in recs], [1, 1, 1, 2])
        self.assertEqual({r["auth_user"] for r in recs}, {RELAY_USER})
        st = self.stats(srv)
        self.assertEqual(st["refused_total"], 3)
        [(reply, n)] = st["refused"].items()
        self.assertEqual(n, 3)
        self.assertTrue(reply.startswith("534 5.7.14 <https://accounts.google.com/"), reply)

    def test_outlook_suspends_at_data_end(self):
        """Outlook: MAIL, RCPT and DATA pass; the final dot gets 554 5.2.0
        OutboundSpamException ... Suspend; without a flag it lasts."""
        srv = self.start({"profile": "outlook", "suspend_after": 1,
                          "verified_flag": os.path.join(self.tmp, "never")})
        c = self.client(srv)
        self.assertEqual(self.send(c, "o1"), {})
        for tag in ("o2", "o3"):
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                self.send(c, tag)
            self.assertEqual(cm.exception.smtp_code, 554)
            text = cm.exception.smtp_error.decode()
            self.assertTrue(text.startswith("5.2.0 STOREDRV.Submission.Exception:"
                                            "OutboundSpamException"), text)
            self.assertIn("WASCL UserAction verdict is not None. Actual verdict is Suspend",
                          text)
        c2 = self.client(srv)
        with self.assertRaises(smtplib.SMTPDataError):
            self.send(c2, "o4")
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["suspended"], st["suspensions"]), (1, True, 1))
        self.assertEqual(st["refused_by_kind"], {"suspended": 3})
        self.assertEqual(srv.count(), 1)

    def test_per_minute_suspend(self):
        """The pacing bench's provider: exceeding N per window suspends; one
        violation per suspension; the flag lifts it and empties the window."""
        srv = self.start({"profile": "gmail", "per_minute": 3, "minute_seconds": 60,
                          "on_exceed": "suspend",
                          "verified_flag": os.path.join(self.tmp, "verified")})
        c = self.client(srv)
        for i in range(3):
            self.assertEqual(self.send(c, f"p{i}"), {})
        self.assertFalse(self.stats(srv)["suspended"])
        for tag in ("p3", "p4"):   # the 4th in the window: suspension, then more of it
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                self.send(c, tag)
            self.assertEqual(cm.exception.smtp_code, 534)
            self.assertIn(GMAIL_WEB_LOGIN, cm.exception.smtp_error.decode())
        st = self.stats(srv)
        self.assertEqual((st["suspended"], st["suspensions"], st["window_violations"]),
                         (True, 1, 1))
        self.assertEqual(st["window_violations_by_limit"], {"per_minute": 1, "daily_quota": 0})
        [v] = st["violation_log"]
        self.assertEqual((v["limit"], v["in_window"], v["stage"], v["conn"]),
                         ("per_minute", 3, "mail", 1))

        self.flag()
        for i in range(5, 8):
            self.assertEqual(self.send(c, f"p{i}"), {})
        with self.assertRaises(smtplib.SMTPSenderRefused):
            self.send(c, "p8")
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["suspensions"], st["resumptions"],
                          st["window_violations"]), (6, 2, 1, 2))
        self.assertEqual(srv.count(), 6)


class TestWindows(SimulatorTest):

    def test_daily_quota_sliding_window(self):
        """daily_quota 2 per 3 s: the 3rd is refused at MAIL with Gmail's 550
        5.4.5; when the first leaves the window one more fits, not two."""
        srv = self.start({"profile": "gmail", "daily_quota": 2, "day_seconds": 3})
        c = self.client(srv)
        self.assertEqual(self.send(c, "d1"), {})
        t1 = srv.records()[0]["time"]
        sleep_until(t1 + 1.5)  # space d2 from d1 so d2 stays in the window below
        self.assertEqual(self.send(c, "d2"), {})
        t2 = srv.records()[1]["time"]
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            self.send(c, "d3")
        self.assertEqual(cm.exception.smtp_code, 550)
        text = cm.exception.smtp_error.decode()
        self.assertTrue(text.startswith("5.4.5 Daily user sending limit exceeded."), text)
        self.assertEqual(len(text.split("\n")), 3, text)
        st = self.stats(srv)
        self.assertEqual(st["window_violations_by_limit"], {"per_minute": 0, "daily_quota": 1})
        self.assertEqual(st["violation_log"][-1]["in_window"], 2)

        sleep_until(t1 + 3)   # d1 leaves the window; d2 is in it until t2 + 3
        self.assertEqual(self.send(c, "d4"), {})
        self.assertLess(time.time(), t2 + 3, "too slow to check the sliding window")
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            self.send(c, "d5")   # a fixed 3 s window would have reset: this shows it slides
        self.assertEqual(cm.exception.smtp_code, 550)
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["window_violations"], st["suspended"]),
                         (3, 2, False))
        self.assertEqual(st["refused_by_kind"], {"daily_quota": 2})
        self.assertEqual([r["message_id"] for r in srv.records()],
                         ["<d1@sim.test>", "<d2@sim.test>", "<d4@sim.test>"])

    def test_per_minute_refuse_ses(self):
        """per_minute 2 per 1 s, refuse: SES's 454 Throttling failure at data-end,
        and a message fits again once the oldest left the window."""
        srv = self.start({"profile": "ses", "per_minute": 2, "minute_seconds": 1})
        c = self.client(srv)
        self.assertEqual(self.send(c, "r1"), {})
        self.assertEqual(self.send(c, "r2"), {})
        t1 = srv.records()[0]["time"]
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            self.send(c, "r3")
        self.assertEqual((cm.exception.smtp_code, cm.exception.smtp_error),
                         (454, b"Throttling failure: Maximum sending rate exceeded."))
        sleep_until(t1 + 1)
        self.assertEqual(self.send(c, "r4"), {})
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["window_violations"], st["suspensions"]),
                         (3, 1, 0))
        self.assertEqual(st["refused"],
                         {"454 Throttling failure: Maximum sending rate exceeded.": 1})
        self.assertEqual(st["violation_log"][0]["stage"], "data-end")

    def test_limit_holds_for_parallel_transactions(self):
        """Two transactions past MAIL on two connections with room for one: the
        end of DATA re-checks, so the quota is never exceeded."""
        srv = self.start({"profile": "gmail", "daily_quota": 1, "day_seconds": 3600})
        c1, c2 = self.client(srv), self.client(srv)
        for c in (c1, c2):
            self.assertEqual(c.mail(FROM)[0], 250)
            self.assertEqual(c.rcpt("jane@example.com")[0], 250)
        self.assertEqual(c1.data(message("q1"))[0], 250)
        code, text = c2.data(message("q2"))
        self.assertEqual(code, 550)
        self.assertTrue(text.startswith(b"5.4.5 Daily user sending limit exceeded."), text)
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["max_concurrent_connections"]), (1, 2))
        self.assertEqual(st["violation_log"][-1]["stage"], "data-end")
        self.assertEqual([r["message_id"] for r in srv.records()], ["<q1@sim.test>"])

    def test_421_replies_close_and_retry_date(self):
        """Gmail's rate reply is a 421 that closes the connection; Mailgun's
        daily reply at RCPT says when to try again."""
        srv = self.start({"profile": "gmail", "per_minute": 1})
        c = self.client(srv)
        self.assertEqual(self.send(c, "c1"), {})
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            self.send(c, "c2")
        self.assertEqual((cm.exception.smtp_code, cm.exception.smtp_error),
                         (421, b"4.7.0 Try again later, closing connection."))
        c = self.client(srv)   # smtplib closed its side on 421; the server closed too
        with self.assertRaises(smtplib.SMTPSenderRefused):
            self.send(c, "c3")
        st = self.wait_stats(srv, lambda s: s["concurrent_connections"] == 0,
                             "both connections closed by the server after 421")
        self.assertEqual(st["connections"], 2)

        srv = self.start({"profile": "mailgun", "daily_quota": 1, "day_seconds": 3600})
        c = self.client(srv)
        self.assertEqual(self.send(c, "m1"), {})
        t1 = srv.records()[0]["time"]
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            self.send(c, "m2")
        [(code, text)] = cm.exception.recipients.values()
        self.assertEqual(code, 421)
        prefix = b"Domain mg.example.com is not allowed to send: recipient limit exceeded, " \
                 b"try again after "
        self.assertTrue(text.startswith(prefix), text)
        when = email.utils.parsedate_to_datetime(text[len(prefix):].decode()).timestamp()
        self.assertAlmostEqual(when, t1 + 3600, delta=1)
        self.assertEqual(srv.count(), 1)


class TestLoginAndRecipients(SimulatorTest):

    def test_login_throttle(self):
        """2 AUTH commands per 1 s: the 3rd gets 454 4.7.0 Too many login
        attempts even with the right password; after the window, AUTH works."""
        srv = self.start({"profile": "gmail", "login_throttle": {"max": 2, "window_seconds": 1}},
                         tls="starttls", auth=True)
        c = self.client(srv, login=False)
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            self.auth(c, "wrong")
        first = time.time()   # after the reply: no earlier than the server's time
        self.assertEqual(cm.exception.smtp_code, 535)
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            self.auth(c, "wrong")
        for _ in range(2):   # throttled attempts do not extend the window
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                self.auth(c)
            self.assertEqual((cm.exception.smtp_code, cm.exception.smtp_error),
                             (454, b"4.7.0 Too many login attempts, please try again later."))
        st = self.stats(srv)
        self.assertEqual((st["auth_attempts"], st["auth_failures"]), (4, 2))
        self.assertEqual(st["refused_by_kind"], {"login_throttle": 2})
        sleep_until(first + 1)
        self.assertEqual(self.auth(c)[0], 235)
        self.assertEqual(self.send(c, "l1"), {})
        self.assertEqual(srv.records()[0]["auth_user"], RELAY_USER)
        self.assertEqual(self.stats(srv)["auth_attempts"], 5)

    def test_bad_recipients_and_random_4xx(self):
        """bad_recipients: 550 5.1.1 (Gmail's 4 lines); random_4xx with a seed:
        one draw per RCPT that passes the other checks, reproducibly."""
        p, seed = 0.5, 20251005
        srv = self.start({"bad_recipients": ["nobody@", "gone@"], "random_4xx": p,
                          "seed": seed})
        rcpts = [f"p{i}@example.com" for i in range(12)]
        rcpts[3], rcpts[8] = "nobody@example.com", "gone@example.org"
        rng = random.Random(seed)
        expected = [550 if r in ("nobody@example.com", "gone@example.org")
                    else 451 if rng.random() < p else 250 for r in rcpts]
        self.assertIn(451, expected)
        self.assertIn(250, expected)

        c = self.client(srv)
        self.assertEqual(c.mail(FROM)[0], 250)
        got = []
        for r in rcpts:
            code, text = c.rcpt(r)
            got.append(code)
            if code == 550:
                lines = text.decode().split("\n")
                self.assertEqual(len(lines), 4)
                self.assertTrue(lines[0].startswith(
                    "5.1.1 The email account that you tried to reach does not exist."), text)
            elif code == 451:
                self.assertEqual(text, b"4.3.0 Temporary server error. Please try again later")
        self.assertEqual(got, expected)
        self.assertEqual(c.data(message("b1"))[0], 250)
        [rec] = srv.records()
        self.assertEqual(rec["rcpt"], [r for r, e in zip(rcpts, expected) if e == 250])
        st = self.stats(srv)
        self.assertEqual(st["refused_by_kind"], {"bad_recipient": 2,
                                                 "random_4xx": expected.count(451)})
        self.assertEqual(st["accepted"], 1)


class TestStatsAndCombinations(SimulatorTest):

    def test_connections_counted_once_with_starttls(self):
        """connections, concurrent and max concurrent; STARTTLS re-creates the
        session but is one connection; stats without a provider file."""
        srv = self.start(None, tls="starttls", auth=True)
        st = self.stats(srv)
        self.assertEqual((st["connections"], st["max_concurrent_connections"], st["profile"]),
                         (0, 0, "generic"))
        cs = [self.client(srv) for _ in range(3)]
        st = self.stats(srv)
        self.assertEqual((st["connections"], st["concurrent_connections"],
                          st["max_concurrent_connections"], st["auth_attempts"]), (3, 3, 3, 3))
        self.assertEqual(self.send(cs[1], "s1"), {})
        for c in cs:
            c.quit()
        st = self.wait_stats(srv, lambda s: s["concurrent_connections"] == 0,
                             "all connections closed")
        self.assertEqual((st["connections"], st["max_concurrent_connections"],
                          st["accepted"], st["stored"], st["refused_total"]), (3, 3, 1, 1, 0))
        c = self.client(srv)
        st = self.stats(srv)
        self.assertEqual((st["connections"], st["concurrent_connections"],
                          st["max_concurrent_connections"]), (4, 1, 3))
        self.assertEqual(srv.records()[0]["conn"], 2)
        self.assertGreater(st["seq"], 1)

    def test_accept_then_blackhole_after(self):
        """After N stored messages, 250 and nothing stored: blackhole.jsonl only."""
        srv = self.start({"accept_then_blackhole_after": 1})
        c = self.client(srv)
        self.assertEqual(self.send(c, "h1"), {})
        self.assertEqual(self.send(c, "h2"), {})
        self.assertEqual(self.send(c, "h3"), {})
        self.assertEqual([r["message_id"] for r in srv.records()], ["<h1@sim.test>"])
        bh = self.blackholed(srv)
        self.assertEqual([r["message_id"] for r in bh], ["<h2@sim.test>", "<h3@sim.test>"])
        self.assertEqual({(r["conn"], r["auth_user"]) for r in bh}, {(1, None)})
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["stored"], st["blackholed"]), (3, 1, 2))

    def test_script_and_provider_together(self):
        """Script rules come first; drop_after_dot is a script rule; a dropped
        message counts as accepted by the provider."""
        srv = self.start({"profile": "zoho", "suspend_after": 2, "drop_after_dot": ["drop-me@"]},
                         script=[{"stage": "rcpt", "match": "vip@", "action": "reply",
                                  "reply": "550 5.7.1 script says no"}])
        c = self.client(srv)
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            self.send(c, "x1", "vip@example.com")
        self.assertEqual(cm.exception.recipients,
                         {"vip@example.com": (550, b"5.7.1 script says no")})
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            self.send(c, "x2", "drop-me@example.com")
        [rec] = srv.records()
        self.assertEqual((rec["message_id"], rec.get("dropped")), ("<x2@sim.test>", True))
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["suspended"]), (1, False))
        c = self.client(srv)
        self.assertEqual(self.send(c, "x3"), {})
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            self.send(c, "x4")
        self.assertEqual((cm.exception.smtp_code, cm.exception.smtp_error),
                         (554, b"5.1.8 Email Outgoing Blocked."))
        st = self.stats(srv)
        self.assertEqual(st["refused_by_kind"], {"script": 1, "suspended": 1})
        self.assertEqual((st["accepted"], st["suspensions"]), (2, 1))

    def test_bad_provider_files(self):
        """A mistake in the provider file is a usage error (status 2), said plainly."""
        cases = [({"profile": "hotmial"}, "profile must be one of"),
                 ({"suspend_afer": 3}, "unknown member(s) suspend_afer"),
                 ({"per_minute": 10, "on_exceed": "panic"}, "on_exceed must be"),
                 ({"stages": {"daily_quota": "auth"}}, "stages.daily_quota"),
                 ({"replies": {"suspended": "account gone"}}, "reply code")]
        for conf, msg in cases:
            path = os.path.join(self.tmp, "bad.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(conf, f)
            r = subprocess.run([PYTHON, SMTPSERVER, "--port", "0", "--ready-file",
                                os.path.join(self.tmp, "ready"), "--mbox",
                                os.path.join(self.tmp, "mbox"), "--provider", path],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, (conf, r.stderr))
            self.assertIn(msg, r.stderr, conf)
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "ready")))


class TestProfiles(unittest.TestCase):
    """The profile table itself (no server): complete and well-formed."""

    def test_every_profile_is_complete(self):
        spec = importlib.util.spec_from_file_location("smtpserver", SMTPSERVER)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in mod.PROFILES:
            replies, stages = mod.profile_table(name)
            self.assertEqual(set(replies), set(mod.KINDS), name)
            self.assertEqual(set(stages), set(mod.KIND_STAGES), name)
            for kind, text in replies.items():
                for ln in text.split("\n"):
                    self.assertRegex(ln, r"^[45]\d\d ", (name, kind))
                self.assertNotIn("{", text.replace("{retry_seconds}", "")
                                 .replace("{retry_date}", ""), (name, kind))
        replies, stages = mod.profile_table("gmail")
        self.assertEqual(stages["suspended"], ["auth", "mail"])
        self.assertTrue(replies["suspended"].startswith("534 5.7.14 "))


if __name__ == "__main__":
    unittest.main()
