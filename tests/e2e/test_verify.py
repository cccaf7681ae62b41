"""test_verify - after the 250: spoold's [verify] checks against a real IMAP server.

spoold sends to tests/smtpserver.py playing a provider that files and delivers
what it accepts into a private Dovecot (tests/imapserver.py; TLS with the test
CA, passwd-file users), and reads that Dovecot over IMAPS as a practice's
account would be read.  A second Dovecot is the canary's mailbox "on another
provider".  Each scenario fails if its feature were missing:

  (a) the provider silently drops everything after 25 accepted messages: the
      second canary never arrives; after canary_wait exactly one alert
      (not-delivered) fires, the account is suspect (spool status 69), and
      sending slows to the trickle; the detection time is printed.
  (b) a DSN the provider puts in INBOX (Gmail's wording, ENVID and the
      original's headers) moves exactly that job from sent/ to failed/ with
      "does not exist" and what to do; the report is flagged
      $SpooldProcessed (not \\Seen, not deleted); a forged bounce naming a
      different recipient changes nothing.
  (c) a drop after the final dot (unknown outcome, hold/) is settled by the
      Sent copy: the job goes to sent/, "confirmed" in its history, and is
      not sent again.  Without a Sent copy (a provider that files nothing)
      the held job is sent again and the unconfirmed jobs raise one incident.
  (d) a Zoho "Email Outgoing Blocked" notice in INBOX blocks the account
      although SMTP still answers 250: later jobs wait, spool status 69.
  (e) a clean run of 1,000 messages (10 canaries) raises no incident: every
      job confirmed in Sent, every canary arrived, no alert, status 0.

Time: SPOOLD_TEST_TIME_SCALE=60 makes the configured minutes seconds (and
the seconds a minimum of one); every wait is on a log line, a folder or a
Maildir (inotify), never a sleep.

Run: SPOOLD_BIN=build/plain SPOOLD_TEMPLATES=$PWD/templates \\
     /usr/bin/python3 -m unittest tests/e2e/test_verify.py -v
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, PASSWORD, SPOOLD, Daemon, make_job, wait_until  # noqa: E402
from harness_imap import have_dovecot, start_imap  # noqa: E402
from test_provider import ProviderTest  # noqa: E402

SPOOL = os.path.join(BIN, "spool", "spool")
OFFICE = "office@example.com"
CANARY = "canary@other.example"
SCALE = 60


@unittest.skipUnless(have_dovecot(), "dovecot-imapd is not installed")
class VerifyTest(ProviderTest):

    def setup_imap(self, canary=False):
        self.imap = start_imap(self, users={OFFICE: PASSWORD})
        self.imap2 = start_imap(self, users={CANARY: PASSWORD}) if canary else None

    def mailboxes(self, sent=True):
        deliver = {CANARY: self.imap2.mailbox(CANARY)} if self.imap2 else {}
        return self.imap.mailboxes(sent=OFFICE if sent else None, account=OFFICE,
                                   deliver=deliver)

    def verify_conf(self, srv, canary_every=None, **keys):
        """[verify] on self.imap (IMAPS, the test CA), [canary] on self.imap2."""
        s = self.imap.settings(OFFICE)
        pw = self.write_password(name="imap-password")
        verify = {"host": s["host"], "port": s["port"], "tls": "implicit",
                  "ca_file": s["ca_file"], "user": OFFICE, "password_file": pw,
                  "sent_folder": "Sent", "confirm_sent": "yes", "confirm_minutes": 1,
                  "check_minutes": 1, "burst_seconds": 1, "trickle_minutes": 1}
        sections = {"verify": verify, "alerts": {"command": self.alert_command()}}
        if canary_every:
            c = self.imap2.settings(CANARY)
            verify.update({"canary_to": CANARY, "canary_every": canary_every,
                           "canary_wait": 1})
            sections["canary"] = {"host": c["host"], "port": c["port"], "tls": "implicit",
                                  "ca_file": c["ca_file"], "user": CANARY,
                                  "password_file": pw}
        verify.update(keys)
        return self.conf(srv, sections=sections)

    def status(self, conf):
        return subprocess.run([SPOOL, "-c", conf, "status", "--json"], capture_output=True,
                              text=True, timeout=30)

    def account_state(self):
        if not os.path.exists(os.path.join(self.spool, "state", "account-relay")):
            return {"state": "running"}  # never changed
        with open(os.path.join(self.spool, "state", "account-relay"), encoding="utf-8") as f:
            return json.load(f)

    # ------------------------------------------------------------------ (a)

    def test_a_silent_drop_is_caught_by_the_canary(self):
        self.setup_imap(canary=True)
        srv = self.sim({"profile": "gmail", "mailboxes": self.mailboxes(),
                        "silent_drop_after": 25})
        conf = self.verify_conf(srv, canary_every=10)
        names = self.place(35, "a")
        d = self.spoold(conf, scale=SCALE)
        # One canary in flight at a time: the first (with the first job: none
        # was sent within canary_minutes) arrives; the next goes once it was
        # found and 10 more jobs went (usually after the 25th job: lost).
        self.imap2.wait_messages(CANARY, "INBOX", 1, timeout=30)
        d.wait_log(r"canary msgid=\S+ arrived", timeout=30)
        d.wait_log(r"canary relay=relay to=\S+ .*category=sent msgid=", count=2, timeout=30)
        t_lost = time.monotonic()
        runs = self.wait_alerts(1, timeout=30)
        took = time.monotonic() - t_lost
        self.assertEqual([r["SPOOL_EVENT"] for r in runs], ["not-delivered"], runs)
        self.assertIn("accepts the practice's mail but does not deliver it",
                      runs[0]["SPOOL_REASON"])
        acct = self.account_state()
        self.assertEqual(acct["state"], "suspect", acct)
        self.assertEqual(acct["category"], "not-delivered")
        st = self.status(conf)
        self.assertEqual(st.returncode, 69, st.stdout + st.stderr)
        self.assertIsNotNone(json.loads(st.stdout)["verify"]["canary"]["missing_since"])
        # Sending slows to the trickle (one a scaled minute), and no second alert fires.
        self.wait_count("sent", 35, timeout=30)
        later = [self.submit(make_job(f"appt-a-later{i}", email=f"later{i}@example.com"),
                             tag=f"alater{i}") for i in range(3)]
        mark = d.mark()
        d.wait_log(r"job=\S+ .*category=sent", since=mark, timeout=20)
        waiting = [n for n in later if self.where(n) == ["new"]]
        self.assertEqual(len(waiting), 2, self.context())
        d.wait_log(r"job=\S+ .*category=sent", since=mark, count=2, timeout=20)
        self.assertEqual(len(self.alerts()), 1, self.alerts())
        # Every canary but the last arrived (which ones depends on how far the
        # drain had got when each was sent: one is in flight at a time).
        canaries = len([r for r in srv.records() if CANARY in r["rcpt"]])
        self.assertGreaterEqual(canaries, 2)
        self.assertEqual(len(self.imap2.messages(CANARY, "INBOX")), canaries - 1)
        self.assertLess(took, 8)  # canary_wait (1 s scaled) and one check, with slack
        print(f"\n(a) detection: the lost canary was sent, the alert fired {took:.2f} s later "
              f"(canary_wait = 1 min, scaled to 1 s); {len(names)} jobs, "
              f"{len(self.jobs_in('sent'))} in sent/ so far (trickle)", file=sys.stderr)

    def test_a2_on_suspect_stop_then_resume(self):
        """on_suspect = stop: nothing more goes until spool resume."""
        self.setup_imap(canary=True)
        srv = self.sim({"profile": "gmail", "mailboxes": self.mailboxes(),
                        "silent_drop_after": 0})
        conf = self.verify_conf(srv, canary_every=10, on_suspect="stop")
        self.place(10, "s")
        d = self.spoold(conf, scale=SCALE)
        runs = self.wait_alerts(1, timeout=30)
        self.assertEqual([r["SPOOL_EVENT"] for r in runs], ["not-delivered"], runs)
        later = self.submit(make_job("appt-s-later", email="later@example.com"), tag="slater")
        # Two more checks (at least a scaled minute apart): the trickle (one a
        # scaled minute) would have sent it by then; stop does not.
        state = os.path.join(self.spool, "state")

        def last_check():
            with open(os.path.join(state, "verify"), encoding="utf-8") as f:
                return json.load(f)["last_check"]
        seen = last_check()
        for _ in range(2):
            seen = wait_until(lambda: (lambda v: v if v != seen else None)(last_check()), 20,
                              [state], "another check", self.context)
        self.assertEqual(self.where(later), ["new"])
        st = self.status(conf)
        self.assertEqual(st.returncode, 69, st.stdout + st.stderr)
        r = subprocess.run([SPOOL, "-c", conf, "resume"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.wait_in("sent", later, timeout=20)
        self.assertEqual(len(self.alerts()), 1, self.alerts())

    # ------------------------------------------------------------------ (b)

    def test_b_bounce_fails_the_right_job(self):
        self.setup_imap()
        srv = self.sim({"profile": "gmail", "mailboxes": self.mailboxes(),
                        "bounce": ["nobody@"]}, dsn=True)
        conf = self.verify_conf(srv)
        emails = {1: "nobody@example.com"}
        names = self.place(3, "b", email=lambda i: emails.get(i, f"patient{i}@example.com"))
        d = self.spoold(conf, scale=SCALE)
        bounced = names[1]
        t0 = time.monotonic()
        d.wait_log(rf"job={re.escape(bounced)} .*status=failed stage=bounce", timeout=30)
        took = time.monotonic() - t0
        self.assertEqual(sorted(self.jobs_in("sent")), sorted([names[0], names[2]]))
        rec = srv.by_msgid(self.msgid("failed", bounced))[0]
        self.assertTrue(rec["mail_params"]["ENVID"].startswith("spoold."), rec)
        job = self.read_job("failed", bounced)
        last = job["spool"]["attempts"][-1]
        self.assertEqual((last["stage"], last["category"]), ("bounce", "recipient-invalid"), job)
        self.assertIn("5.1.1", last["text"])
        self.assertFalse(os.path.exists(self.path("sent", bounced + ".eml.gz")))
        shown = subprocess.run([SPOOL, "-c", conf, "show", "--message", bounced],
                               capture_output=True, timeout=30)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn(self.msgid("failed", bounced).encode(), shown.stdout)
        shown = subprocess.run([SPOOL, "-c", conf, "show", bounced], capture_output=True,
                               text=True, timeout=30)
        self.assertIn("recipient-invalid", shown.stdout)
        reason = self.read_text("failed", bounced + ".reason.txt")
        self.assertIn("does not exist", reason)
        self.assertIn("scheduling software", reason)
        msgs = self.imap.wait_messages(OFFICE, "INBOX", 1, timeout=10,
                                       pred=lambda m, _: "$SpooldProcessed" in m["keywords"])
        self.assertNotIn("\\Seen", msgs[0]["flags"])
        self.assertEqual(len(self.imap.messages(OFFICE, "INBOX")), 1)
        # A bounce naming the right job but another recipient: ignored.
        report = self.imap.read(OFFICE, "INBOX", msgs[0])
        other = names[0]
        forged = report.replace(self.msgid("failed", bounced).encode(),
                                self.msgid("sent", other).encode())
        forged = re.sub(rb"Original-Envelope-Id: \S+", b"X-Dropped: 1", forged)
        mark = d.mark()
        self.imap.deliver(OFFICE, "INBOX", forged)
        d.wait_log(r"names job \S+ but recipient nobody@example.com", since=mark, timeout=20)
        self.assertEqual(self.where(other), ["sent"])
        # The front desk phones the patient and sends it again to the right address.
        mark = d.mark()
        r = subprocess.run([SPOOL, "-c", conf, "retry", "--to", "jane.fixed@example.com",
                            bounced], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("failed/ -> new/, to jane.fixed@example.com", r.stdout)
        self.wait_sent(d, bounced, timeout=20, since=mark)
        job = self.read_job("sent", bounced)
        self.assertEqual((job["to"]["email"], job["spool"]["previous_to"]),
                         ("jane.fixed@example.com", "nobody@example.com"))
        recs = srv.by_msgid(job["spool"]["message_id"])
        self.assertEqual([rc["rcpt"] for rc in recs],
                         [["nobody@example.com"], ["jane.fixed@example.com"]])
        print(f"\n(b) detection: bounce in INBOX -> job in failed/ {took:.2f} s after "
              f"spoold started (check_minutes = 1, scaled to 1 s)", file=sys.stderr)

    # ------------------------------------------------------------------ (c)

    def test_c_unknown_outcome_settled_by_sent_copy(self):
        self.setup_imap()
        srv = self.sim({"profile": "gmail", "mailboxes": self.mailboxes(),
                        "drop_after_dot": ["drop@"]})
        conf = self.verify_conf(srv, confirm_minutes=5)
        emails = {1: "drop@example.com"}
        names = self.place(3, "c", email=lambda i: emails.get(i, f"patient{i}@example.com"))
        d = self.spoold(conf, scale=SCALE)
        held = names[1]
        d.wait_log(rf"job={re.escape(held)} .*category=unknown-outcome", timeout=20)
        t0 = time.monotonic()
        d.wait_log(rf"job={re.escape(held)} status=sent settled=sent-folder", timeout=30)
        print(f"\n(c) detection: held (unknown outcome) -> settled as sent by the Sent copy "
              f"{time.monotonic() - t0:.2f} s later (burst_seconds 1 s)", file=sys.stderr)
        self.assertEqual(self.where(held), ["sent"])
        self.assertFalse(os.path.exists(self.path("hold", held + ".reason.txt")))
        att = self.attempts("sent", held)
        self.assertEqual([(a["stage"], a["category"]) for a in att],
                         [("data-end", "unknown-outcome"), ("sent-folder", "confirmed")], att)
        # Every job confirmed, and the held one never sent twice.
        for n in (names[0], names[2]):
            d.wait_log(rf"job={re.escape(n)} status=confirmed", timeout=30)
        self.assertEqual(len(srv.by_msgid(self.msgid("sent", held))), 1)
        self.assertEqual(self.alerts()[1:], [], self.alerts())  # only job-held

    def test_c2_no_sent_copy_means_sent_again(self):
        self.setup_imap()
        srv = self.sim({"profile": "gmail", "mailboxes": self.mailboxes(sent=False),
                        "drop_after_dot": ["drop@"], "_": "files nothing in Sent"})
        conf = self.verify_conf(srv)
        emails = {1: "drop@example.com"}
        names = self.place(3, "c", email=lambda i: emails.get(i, f"patient{i}@example.com"))
        d = self.spoold(conf, scale=SCALE)
        held = names[1]
        d.wait_log(rf"job={re.escape(held)} status=resend settled=sent-folder", timeout=30)
        # Sent again, once (dropped again: held again, for staff now).
        wait_until(lambda: len([r for r in srv.records() if "drop@example.com" in r["rcpt"]])
                   == 2, 30, [srv.mbox], "the held job sent a second time", self.context)
        self.wait_in("hold", held, timeout=20)
        runs = self.wait_alerts(2, timeout=30)
        events = sorted(r["SPOOL_EVENT"] for r in runs)
        self.assertIn("not-in-sent", events, runs)
        self.assertEqual(events.count("not-in-sent"), 1, runs)
        att = self.attempts("sent", names[0])
        self.assertEqual(att[-1]["category"], "not-confirmed", att)
        self.assertEqual(self.account_state()["state"], "suspect")
        # The provider files again: a message sent now and found in Sent ends it.
        later = self.submit(make_job("appt-c2-later", email="later@example.com"), tag="clater")
        d.wait_log(rf"job={re.escape(later)} .*category=sent", timeout=30)
        rec = [r for r in srv.records() if "later@example.com" in r["rcpt"]][0]
        self.imap.deliver(OFFICE, "Sent", srv.message(rec), "S")
        d.wait_log(r"messages appear in Sent again; sending resumes", timeout=30)
        self.assertEqual(self.account_state()["state"], "running")

    # ------------------------------------------------------------------ (d)

    def test_d_provider_notice_blocks_the_account(self):
        self.setup_imap()
        srv = self.sim({"profile": "zoho", "mailboxes": self.mailboxes(),
                        "notice": {"after": 2, "kind": "zoho"}})
        conf = self.verify_conf(srv)
        names = self.place(3, "d")
        d = self.spoold(conf, scale=SCALE)
        d.wait_log(r"category=sent", count=2, timeout=20)  # the notice comes with the 2nd
        t0 = time.monotonic()
        runs = self.wait_alerts(1, timeout=30)
        print(f"\n(d) detection: notice delivered -> account blocked and alerted within "
              f"{time.monotonic() - t0:.2f} s (check_minutes 1, scaled to 1 s)", file=sys.stderr)
        self.assertEqual(runs[0]["SPOOL_EVENT"], "account-blocked", runs)
        self.assertIn("Zoho", runs[0]["SPOOL_REASON"])
        acct = self.account_state()
        self.assertEqual((acct["state"], acct["rule"]), ("blocked", "zoho-outgoing-blocked"))
        # SMTP would still say 250, but nothing more is sent; nothing fails.
        sent = srv.count()
        self.assertGreaterEqual(sent, 2)  # the notice came with the 2nd
        later = self.submit(make_job("appt-d-later", email="later@example.com"), tag="dlater")
        self.loop_turn(d)
        self.assertEqual(self.where(later), ["new"])
        self.assertEqual(srv.count(), sent)
        self.assertEqual(len(self.jobs_in("sent")), sent)
        self.assertEqual(sorted(n for n in names if self.where(n) != ["sent"]),
                         sorted(n for n in names if self.where(n) in (["new"], ["deferred"])))
        st = self.status(conf)
        self.assertEqual(st.returncode, 69, st.stdout + st.stderr)
        msgs = self.imap.messages(OFFICE, "INBOX")
        self.assertEqual([("$SpooldProcessed" in m["keywords"]) for m in msgs], [True], msgs)

    # ------------------------------------------------------------------ failures

    def test_unreadable_mailbox_is_alerted_once(self):
        """A wrong IMAP password: one verify-failed alert, sending goes on; a
        restart keeps what is still to be confirmed (state/verify)."""
        self.setup_imap()
        srv = self.sim({"profile": "gmail", "mailboxes": self.mailboxes()})
        conf = self.verify_conf(srv)
        with open(os.path.join(self.tmp, "imap-password"), "w", encoding="utf-8") as f:
            f.write("wrong\n")
        names = self.place(3, "f")
        d = self.spoold(conf, scale=SCALE)
        self.wait_count("sent", 3, timeout=20)
        runs = self.wait_alerts(1, timeout=30)
        self.assertEqual([r["SPOOL_EVENT"] for r in runs], ["verify-failed"], runs)
        self.assertIn("cannot read the practice's mailbox", runs[0]["SPOOL_REASON"])
        mark = d.mark()
        d.wait_log(r"verify: \[verify\] ", since=mark, timeout=20)  # tried again: no alert
        self.assertEqual(len(self.alerts()), 1)
        self.assertEqual(self.account_state()["state"], "running")
        text = subprocess.run([SPOOL, "-c", conf, "status"], capture_output=True, text=True,
                              timeout=30).stdout
        self.assertRegex(text, r"Delivery checks: office@example.com on 127.0.0.1\n"
                               r"  PROBLEM since .*: \[verify\] cannot sign in .*"
                               r"AUTHENTICATIONFAILED")
        self.assertIn("Waiting to be found in Sent: 3 sent messages", text)
        d.stop()
        with open(os.path.join(self.spool, "state", "verify"), encoding="utf-8") as f:
            pending = [p["job"] for p in json.load(f)["pending"]]
        self.assertEqual(sorted(pending), sorted(names))
        # The right password: the same jobs are confirmed after the restart.
        self.write_password(name="imap-password")
        d = self.spoold(conf, scale=SCALE)
        for n in names:
            d.wait_log(rf"job={re.escape(n)} status=confirmed", timeout=30)
        # spool status says so once the pass has saved state/verify
        v = wait_until(lambda: (lambda v: v if v["error"] is None and v["last_ok"] else None)(
            json.loads(self.status(conf).stdout)["verify"]), 20,
            [os.path.join(self.spool, "state")], "a good check in spool status", self.context)
        self.assertEqual(v["awaiting_sent"], 0, v)

    @unittest.skipIf(not shutil.which("valgrind"), "valgrind is not installed")
    @unittest.skipIf("san" in os.path.basename(BIN.rstrip("/")), "ASan build: no valgrind")
    def test_valgrind_clean(self):
        """The checks under valgrind: IMAPS to both mailboxes, a bounce, Sent
        confirmations, a canary; no memory error, no leak."""
        self.setup_imap(canary=True)
        srv = self.sim({"profile": "gmail", "mailboxes": self.mailboxes(),
                        "bounce": ["nobody@"]}, dsn=True)
        conf = self.verify_conf(srv, canary_every=2)
        emails = {1: "nobody@example.com"}
        names = self.place(3, "v", email=lambda i: emails.get(i, f"patient{i}@example.com"))
        log = os.path.join(self.tmp, "valgrind.log")
        env = dict(os.environ, SPOOLD_TEST_TIME_SCALE=str(SCALE))
        d = Daemon(["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                    "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                    f"--log-file={log}", SPOOLD, "-f", "-c", conf], "valgrind-spoold", env=env)
        self.daemons.append(d)
        d.wait_log(rf"job={re.escape(names[1])} .*status=failed stage=bounce", timeout=120)
        d.wait_log(r"canary msgid=\S+ arrived", timeout=120)
        for n in (names[0], names[2]):
            d.wait_log(rf"job={re.escape(n)} status=confirmed", timeout=120)
        d.signal(signal.SIGTERM)
        rc = d.wait_exit(timeout=120)
        with open(log, encoding="utf-8", errors="replace") as f:
            report = f.read()
        self.assertEqual(rc, 0, f"valgrind reported problems:\n{report[-4000:]}")
        self.assertIn("ERROR SUMMARY: 0 errors", report)

    # ------------------------------------------------------------------ (e)

    def test_e_clean_run_of_1000_raises_nothing(self):
        self.setup_imap(canary=True)
        srv = self.sim({"profile": "gmail", "mailboxes": self.mailboxes()}, dsn=True)
        # No sent_folder: the profile's name ("[Gmail]/Sent Mail") is not on this
        # server, so only the folder LIST marks \Sent (RFC 6154) can be found.
        conf = self.verify_conf(srv, canary_every=100, profile="gmail")
        with open(conf, encoding="utf-8") as f:
            text = f.read()
        with open(conf, "w", encoding="utf-8") as f:
            f.write(text.replace("sent_folder = Sent\n", ""))
        self.make_spool()
        names = self.place(1000, "e")
        t0 = time.monotonic()
        d = self.spoold(conf, scale=SCALE)
        self.wait_count("sent", 1000, timeout=120)
        d.wait_log(r"job=\S+ status=confirmed", count=1000, timeout=120)
        d.wait_log(r"canary msgid=\S+ arrived", count=10, timeout=60)
        took = time.monotonic() - t0
        self.assertEqual(len(self.imap2.messages(CANARY, "INBOX")), 10)
        self.assertEqual(self.alerts(), [])
        self.assertEqual(self.account_state()["state"], "running")
        self.assertEqual(d.findall(r"not-confirmed|not-delivered|not-in-sent"), [])
        st = self.status(conf)
        self.assertEqual(st.returncode, 0, st.stdout + st.stderr)
        self.assertEqual(srv.count(), 1010)
        print(f"\n(e) 1,000 jobs + 10 canaries sent and confirmed in {took:.1f} s, "
              f"no incident", file=sys.stderr)
        del names


if __name__ == "__main__":
    unittest.main()
