"""test_watch - spool watch, and the rest of the command line for people.

spool watch: events as they happen, with spoold sending (queued, sent,
FAILED with why; a corrupt file), without it (retried, released, held by
staff: a rewrite in place is no event), the account (STOPPED, NOT
DELIVERING, running again; a rewrite with the same state is no event),
--json one object per line, --count N, and exit 0 on SIGTERM and SIGINT.

The people's side of the rest: the reason file spoold writes (what happened
first, the appointment in the practice's zone, the server's words last),
spool list --failed (patient, appointment, address, why, cut to $COLUMNS,
the soonest first, what to do; --names), release removing the reason file,
and colour (only on a terminal, never with NO_COLOR or TERM=dumb; --color).

Every wait is on an event: the watcher's "watching" line on stderr, its
output lines (select with a deadline), process exit (wait with a timeout).
"""

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
import unittest

from harness import BIN, E2ETestCase, make_job

SPOOL = os.path.join(BIN, "spool", "spool")
START = "2030-12-03T09:30:00-06:00"      # 15:30 UTC
IST = "Tue Dec 3 9:00 PM"                # the same instant in Asia/Kolkata
EX_USAGE = 64
ESC = "\x1b["


class Watcher:
    """spool watch ARGS as a process; lines() reads its output."""

    def __init__(self, conf, *args, env=None):
        self.proc = subprocess.Popen([SPOOL, "-c", conf, "watch", *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.buf = b""
        line = self._readline(self.proc.stderr, 10)
        if b"watching" not in line:
            self.stop()
            raise AssertionError(f"spool watch did not start: {line!r}")

    @staticmethod
    def _readline(fp, timeout):
        deadline = time.monotonic() + timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            r, _, _ = select.select([fp], [], [], max(0.0, left))
            if not r:
                break
            c = os.read(fp.fileno(), 1)
            if not c:
                break
            data += c
        return data

    def lines(self, n, timeout=15):
        """n lines of output (fewer if it exits or the time runs out)."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while self.buf.count(b"\n") < n:
            left = deadline - time.monotonic()
            r, _, _ = select.select([fd], [], [], max(0.0, left))
            if not r:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self.buf += chunk
        out = self.buf.decode("utf-8", "replace").split("\n")
        return out[:min(n, len(out) - 1)]

    def wait(self, timeout=10):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


class WatchCase(E2ETestCase):
    """A spool (and its configuration in the practice's zone, Asia/Kolkata)."""

    def setUp(self):
        super().setUp()
        self.make_spool()
        os.makedirs(self.folder("state"), exist_ok=True)

    def conf(self, server=None):
        if server is None:
            server = type("NoServer", (), {"port": 1, "tls": "none", "auth": False})()
        return self.write_conf(server, top={"timezone": "Asia/Kolkata"})

    def watch(self, conf, *args):
        w = Watcher(conf, *args)
        self.addCleanup(w.stop)
        return w

    def cli(self, conf, *args, env=None, **kw):
        return subprocess.run([SPOOL, "-c", conf, *args], capture_output=True, text=True,
                              timeout=30, env=env, **kw)

    def put(self, folder, name, job, reason=None):
        with open(self.path(folder, name), "w", encoding="utf-8") as f:
            json.dump(job, f)
        if reason is not None:
            with open(self.path(folder, name + ".reason.txt"), "w", encoding="utf-8") as f:
                f.write(reason)

    def write_account(self, state, incident, reason="", action=""):
        tmp = self.path("state", ".account-relay.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "state": state, "since": "2030-01-01T00:00:00Z",
                       "category": "account-blocked" if state == "blocked" else "",
                       "reason": reason, "action": action, "incident": incident}, f)
        os.rename(tmp, self.path("state", "account-relay"))


class WatchTest(WatchCase):

    def test_delivery_json(self):
        """queued, sent, failed (with the reason spoold recorded), one JSON object a line."""
        srv = self.start_server(script=[
            {"stage": "rcpt", "match": "nobody@", "action": "reply",
             "reply": "550 5.1.1 <nobody@example.com>: Recipient address rejected: "
                      "User unknown in virtual mailbox table"}])
        conf = self.conf(srv)
        self.start_spoold(conf)
        w = self.watch(conf, "--json", "--count", "4")
        ok = self.submit(make_job("appt-w-ok", start=0) | {"appointment": {
            "start": START, "minutes": 30, "provider": "Dr. Michael Miller",
            "location": "Main St office"}}, tag="ok")
        bad = self.submit(make_job("appt-w-bad", email="nobody@example.com", first="Mary",
                                   last="Fairweather") | {"appointment": {
                                       "start": START, "minutes": 30,
                                       "provider": "Dr. Michael Miller",
                                       "location": "Main St office"}}, tag="bad")
        events = [json.loads(ln) for ln in w.lines(4)]
        self.assertEqual(w.wait(), 0)
        got = sorted((e["event"], e["name"]) for e in events)
        self.assertEqual(got, sorted([("queued", ok), ("queued", bad), ("sent", ok),
                                      ("failed", bad)]), events)
        for e in events:
            self.assertEqual(list(e), ["time", "event", "folder", "name", "patient", "to",
                                       "kind", "appointment", "reason", "next_attempt"])
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        by = {(e["event"], e["name"]): e for e in events}
        sent = by[("sent", ok)]
        self.assertEqual((sent["patient"], sent["to"], sent["kind"], sent["appointment"]),
                         ("Jane Doe", "jane@example.com", "reminder", START))
        failed = by[("failed", bad)]
        self.assertEqual(failed["patient"], "Mary Fairweather")
        recorded = self.read_job("failed", bad)["spool"]["reason"]
        self.assertTrue(failed["reason"] and recorded.startswith(failed["reason"]),
                        (failed["reason"], recorded))

        # The reason file beside it, for the front desk (written just after the move).
        self.wait_in("failed", bad + ".reason.txt")
        text = self.read_text("failed", bad + ".reason.txt")
        order = [text.index(s) for s in (
            "What happened:", "Patient:      Mary Fairweather\n",
            "E-mail:       nobody@example.com\n",
            "Appointment:  Tuesday, December 3, 2030 at 9:00 PM IST\n",
            "Provider:     Dr. Michael Miller\n", "Location:     Main St office\n",
            f"Job:          {bad}\n", "What to do:", "For your IT contact",
            "User unknown in virtual mailbox table")]
        self.assertEqual(order, sorted(order), text)
        self.assertTrue(text.startswith("The reminder for Mary Fairweather was NOT sent.\n"))
        self.assertNotIn("SMTP", text.split("For your IT contact")[0])

    def test_corrupt_json(self):
        srv = self.start_server()
        conf = self.conf(srv)
        self.start_spoold(conf)
        w = self.watch(conf, "--json", "--count", "2")
        name = self.submit(b"{oops", tag="corrupt")
        events = [json.loads(ln) for ln in w.lines(2)]
        self.assertEqual(w.wait(), 0)
        self.assertEqual([(e["event"], e["name"]) for e in events],
                         [("queued", name), ("corrupt", name)], events)
        self.assertIsNone(events[0]["patient"])
        self.assertTrue(events[1]["reason"])

    def test_staff_moves_text(self):
        """Without spoold: retry, release and hold; rewrites are not events; the
        reason file goes with the job."""
        conf = self.conf()
        job = make_job("appt-w-1")
        job["appointment"]["start"] = START
        job["spool"] = {"version": 1, "reason": "The patient's e-mail address was refused; "
                        "it may be mistyped or closed. More words."}
        self.put("failed", "1.failed", job, "What happened:\n  refused\n")
        self.put("hold", "2.hold", make_job("appt-w-2", first="Ann", last="Lee", start=0)
                 | {"appointment": {"start": START}}, "What happened:\n  held\n")
        self.put("new", "3.new", make_job("appt-w-3", first="Bo", last="Ng", start=0)
                 | {"appointment": {"start": START}})
        w = self.watch(conf, "--count", "3")
        for verb, name in (("retry", "1.failed"), ("release", "2.hold"), ("hold", "3.new")):
            r = self.cli(conf, verb, name)
            self.assertEqual(r.returncode, 0, r.stderr)
        lines = w.lines(3)
        self.assertEqual(w.wait(), 0)
        want = [rf"retried  Jane Doe <jane@example\.com>  reminder for {IST}",
                rf"released Ann Lee <jane@example\.com>  reminder for {IST}",
                r"held     Bo Ng <jane@example\.com>  kept back by staff"]
        self.assertEqual(len(lines), 3, lines)
        for line, rx in zip(lines, want):
            self.assertRegex(line, r"^\d\d:\d\d:\d\d  " + rx + "$")
        self.assertFalse(os.path.exists(self.path("failed", "1.failed.reason.txt")))
        self.assertFalse(os.path.exists(self.path("hold", "2.hold.reason.txt")))

    def test_account_text(self):
        conf = self.conf()
        self.write_account("running", 0)
        w = self.watch(conf, "--count", "2", "--color=never")
        self.write_account("blocked", 1, "Gmail has stopped this account from sending.",
                           "Sign in to the account in a web browser.")
        self.write_account("blocked", 1, "Gmail has stopped this account from sending.",
                           "Sign in to the account in a web browser.")  # no change
        self.write_account("running", 1)
        lines = w.lines(2)
        self.assertEqual(w.wait(), 0)
        self.assertRegex(lines[0], r"^\d\d:\d\d:\d\d  account  STOPPED: Gmail has stopped "
                                   r"this account from sending\. — Sign in to the account "
                                   r"in a web browser\.$")
        self.assertRegex(lines[1], r"^\d\d:\d\d:\d\d  account  running again")

    def test_account_suspect(self):
        """The provider accepts but does not deliver: NOT DELIVERING, then running again."""
        conf = self.conf()
        self.write_account("running", 0)
        w = self.watch(conf, "--count", "2", "--color=never")
        self.write_account("suspect", 1, "Your e-mail provider is accepting reminders but not "
                           "delivering them.", "Check the account's inbox for a warning, then "
                           "run: spool resume")
        self.assertEqual(len(w.lines(1)), 1)  # seen before it changes again
        self.write_account("running", 1)
        lines = w.lines(2)
        self.assertEqual(w.wait(), 0)
        self.assertRegex(lines[0], r"^\d\d:\d\d:\d\d  account  NOT DELIVERING: Your e-mail "
                                   r"provider is accepting reminders but not delivering them\. "
                                   r"— Check the account's inbox for a warning, then run: "
                                   r"spool resume$")
        self.assertRegex(lines[1], r"^\d\d:\d\d:\d\d  account  running again")
        w = self.watch(conf, "--count", "1", "--json")
        self.write_account("suspect", 2, "Not delivering.", "")
        ev = json.loads(w.lines(1)[0])
        self.assertEqual(w.wait(), 0)
        self.assertEqual((ev["event"], ev["state"], ev["reason"], ev["action"]),
                         ("account", "suspect", "Not delivering.", None))

    def test_signals_exit_zero(self):
        conf = self.conf()
        for sig in (signal.SIGTERM, signal.SIGINT):
            w = self.watch(conf)
            w.proc.send_signal(sig)
            self.assertEqual(w.wait(), 0, sig)

    def test_usage(self):
        conf = self.conf()
        for args in (["--count", "0"], ["--count", "x"], ["extra"]):
            r = self.cli(conf, "watch", *args)
            self.assertEqual(r.returncode, EX_USAGE, (args, r.stderr))
        r = self.cli(conf, "watch", "--help")
        self.assertTrue(r.stdout.startswith("usage: spool watch"), r.stdout)
        self.assertIn("watch", self.cli(conf, "--help").stdout)


class PeopleCliTest(WatchCase):

    def failed_jobs(self):
        a = make_job("appt-f-1", first="Jane", last="Doe", start=0)
        a["appointment"] = {"start": START}
        a["spool"] = {"version": 1, "reason": "The patient's e-mail address was refused; it "
                      "may be mistyped or closed. Check it in the scheduler."}
        b = make_job("appt-f-2", first="José", last="Núñez\x1b[31m", email="jose@example.com",
                     start=0)
        b["appointment"] = {"start": "2030-12-01T08:00:00-06:00"}
        b["spool"] = {"version": 1, "reason": "The mail provider refused this particular "
                      "e-mail, often because it looked like spam or broke one of its rules."}
        self.put("failed", "1.jane", a)
        self.put("failed", "2.jose", b)

    def test_list_failed(self):
        conf = self.conf()
        self.failed_jobs()
        env = dict(os.environ, COLUMNS="100")
        out = self.cli(conf, "list", "--failed", env=env).stdout
        lines = out.split("\n")
        self.assertEqual(lines[0].split(), ["PATIENT", "APPOINTMENT", "EMAIL", "WHY"])
        self.assertTrue(lines[1].startswith("José Núñez?[31m  Sun Dec 1 7:30 PM  "
                                            "jose@example.com  The mail provider refused"),
                        out)  # soonest first, in the practice's zone, made safe
        self.assertTrue(lines[2].startswith(f"Jane Doe         {IST}  jane@example.com  "
                                            "The patient's e-mail address was refused; "), out)
        self.assertTrue(all(len(ln) <= 100 for ln in lines), out)
        self.assertTrue(lines[2].endswith("..."), out)
        wide = self.cli(conf, "list", "--failed", env=dict(env, COLUMNS="200")).stdout
        self.assertIn("  The patient's e-mail address was refused; it may be mistyped or "
                      "closed.\n", wide)  # the first sentence only
        self.assertIn("spool retry NAME", lines[4])
        self.assertNotIn("\x1b", out)
        narrow = self.cli(conf, "list", "--failed", "--names",
                            env=dict(os.environ, COLUMNS="90")).stdout.split("\n")
        self.assertEqual(narrow[0].split()[:2], ["NAME", "PATIENT"])
        self.assertEqual([ln.split()[0] for ln in narrow[1:3]], ["2.jose", "1.jane"])
        self.assertTrue(all(len(ln) <= 90 for ln in narrow[:3]), narrow)
        self.assertTrue(narrow[1].endswith("..."), narrow)
        self.assertEqual(self.cli(conf, "list", "--names").returncode, EX_USAGE)
        os.unlink(self.path("failed", "1.jane"))
        os.unlink(self.path("failed", "2.jose"))
        self.assertIn("No failed jobs", self.cli(conf, "list", "--failed").stdout)

    def on_pty(self, conf, *args, env):
        """stdout of spool ARGS on a terminal."""
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen([SPOOL, "-c", conf, *args], stdin=subprocess.DEVNULL,
                                 stdout=slave, stderr=subprocess.DEVNULL, env=env)
            os.close(slave)
            slave = -1
            data = b""
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the other side closed
                    break
                if not chunk:
                    break
                data += chunk
            p.wait(timeout=10)
            return data.decode("utf-8", "replace")
        finally:
            os.close(master)
            if slave >= 0:
                os.close(slave)

    def test_colour(self):
        conf = self.conf()
        self.failed_jobs()
        base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
        term = dict(base, TERM="xterm")
        self.assertIn(ESC + "32mrunning", self.on_pty(conf, "status", env=term))
        self.assertIn(ESC + "31mfailed", self.on_pty(conf, "list", "--all", env=term))
        for env in (dict(term, NO_COLOR="1"), dict(base, TERM="dumb"), base):
            self.assertNotIn("\x1b", self.on_pty(conf, "status", env=env), env.get("TERM"))
        self.assertIn("\x1b", self.on_pty(conf, "status", env=dict(term, NO_COLOR="")))
        self.assertNotIn("\x1b", self.on_pty(conf, "--color=never", "status", env=term))
        # Not a terminal: no colour unless asked for.
        self.assertNotIn("\x1b", self.cli(conf, "status", env=term).stdout)
        out = self.cli(conf, "--color=always", "status", env=dict(term, NO_COLOR="1"))
        self.assertIn(ESC + "32mrunning" + ESC + "0m", out.stdout)
        self.assertIn(ESC + "31mfailed",
                      self.cli(conf, "list", "--failed", "--sent", "--color").stdout)
        r = self.cli(conf, "--color=sometimes", "status")
        self.assertEqual(r.returncode, EX_USAGE)
        self.assertIn("auto, always or never", r.stderr)


if __name__ == "__main__":
    unittest.main()
