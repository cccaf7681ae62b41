"""test_provider - provider-aware delivery end to end, against the provider simulator.

spoold (spoold/main.c, relay.c, deliver.c) runs against tests/smtpserver.py
playing a mail provider (--provider: suspension, daily quota, bad recipients,
drops; --stats: what the provider saw).  Each scenario fails if the feature it
is about were missing:

  (a) Gmail suspends after 40 of 300: exactly 40 accepted, sending stops at the
      first refusal (the provider saw exactly one refused command, and no more
      while blocked), 260 wait, one alert by command and one by e-mail (through a
      second, plain server), spool status exits 69 and says what to do; after the
      verified flag and spool resume spoold notices (inotify on state/) and all
      300 Message-IDs arrive exactly once.
  (b) a daily quota of 100 the provider enforces (a 4 s "day", spoold scaled so
      that its 24 h wait is the same 4 s): 100 sent, the rest wait rate-limited
      (never failed, never charged) and go when the window allows.
  (c) bad recipients fail alone with their reason; one coalesced alert.
  (d) a drop after the final dot: hold/ with unknown-outcome, never resent.
  (e) a restart keeps the day's budget (state/pace-relay): [pacing] per_day = 30,
      20 sent, SIGTERM, restart, 20 more: only 10 go before the day slides.
  (f) the fallback relay carries the queue while Outlook has the primary blocked.
  Also quiet hours in the practice's time zone, per_connection and min_gap_ms.

Synchronisation: spoold's log lines, spool folders and the simulator's stats
file and log (inotify through harness.wait_until); never a sleep.  Sliding
windows are made short with SPOOLD_TEST_TIME_SCALE (spoold) and day_seconds
(the simulator), and every wait has a deadline.

Run: SPOOLD_BIN=build/plain SPOOLD_TEMPLATES=$PWD/templates \\
     /usr/bin/python3 -m unittest tests/e2e/test_provider.py -v
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, IN_DELETE, IN_MOVED_FROM, SPOOLD, Daemon, E2ETestCase,  # noqa: E402
                     Inotify, make_job, wait_until)

SPOOL = os.path.join(BIN, "spool", "spool")
EX_UNAVAILABLE = 69
ALERT_TO = "it@springfield-chiro.example"
NO_LIMITS = {"per_minute": 0, "per_hour": 0, "per_day": 0, "min_gap_ms": 0}


def rfc3339_epoch(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def write_flag(path):
    with open(path + ".tmp", "w", encoding="ascii") as f:
        f.write("verified\n")
    os.rename(path + ".tmp", path)


class FlagKeeper(threading.Thread):
    """Keeps the simulator's verified flag in place: the account stays verified.

    The simulator removes the flag when it lifts a suspension and then counts
    suspend_after anew, so without a flag it would suspend again after another
    suspend_after messages.  With the flag present, a new suspension is lifted
    at the very next command, before any reply could show it: the provider
    never refuses again.  Woken by inotify when the flag goes."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.done = threading.Event()
        self.ino = Inotify([os.path.dirname(path)], IN_DELETE | IN_MOVED_FROM)

    def run(self):
        try:
            while not self.done.is_set():
                if not os.path.exists(self.path):
                    write_flag(self.path)
                self.ino.wait(0.5)  # bounded so that stop() is noticed
        finally:
            self.ino.close()

    def stop(self):
        self.done.set()
        self.join(timeout=5)


class ProviderTest(E2ETestCase):
    """Helpers: configuration with extra sections, spoold with a time scale,
    the simulator's stats, the alert command's record, Message-IDs."""

    # -- configuration

    def conf(self, server, top=None, relay=None, sections=None, name="spoold.conf"):
        """write_conf, then extra sections (a dict of section -> {key: value})."""
        path = self.write_conf(server, top=top, relay=relay, name=name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for sec, keys in (sections or {}).items():
            text += f"\n[{sec}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, path)
        return path

    def alert_command(self):
        """[alerts] command: append the SPOOL_* environment, one record per run
        (variables one a line, then "--"), to DIR/alerts.log."""
        self.alert_dir = os.path.join(self.tmp, "alerts")
        os.makedirs(self.alert_dir)
        self.alert_log = os.path.join(self.alert_dir, "alerts.log")
        script = os.path.join(self.tmp, "alert.sh")
        with open(script, "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\n{ env | grep '^SPOOL_' | sort; echo --; } >> %s\n"
                    % self.alert_log)
        return f"/bin/sh {script}"

    def alerts(self):
        """The alert command's runs: a list of {VAR: value} (first lines only)."""
        try:
            with open(self.alert_log, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        runs, cur = [], {}
        for ln in text.split("\n"):
            if ln == "--":
                runs.append(cur)
                cur = {}
            elif ln.startswith("SPOOL_"):
                k, _, v = ln.partition("=")
                cur[k] = v
        return runs

    def wait_alerts(self, n, timeout=20):
        return wait_until(lambda: len(self.alerts()) >= n and self.alerts(), timeout,
                          [self.alert_dir], f"{n} run(s) of the alert command", self.context)

    # -- processes

    def spoold(self, conf, scale=None, wait=True):
        """spoold -f -c conf, with SPOOLD_TEST_TIME_SCALE=scale when given."""
        env = dict(os.environ)
        env.pop("SPOOLD_TEST_TIME_SCALE", None)
        if scale:
            env["SPOOLD_TEST_TIME_SCALE"] = str(scale)
        d = Daemon([SPOOLD, "-f", "-c", conf], f"spoold#{len(self.daemons) + 1}", env=env)
        self.daemons.append(d)
        if wait:
            d.wait_log(r"spool \S+: \d+ jobs waiting", timeout=15)
        return d

    @staticmethod
    def loop_turn(d):
        """Return once spoold's loop has gone round at least once more: a SIGHUP
        is handled at the top of the loop, so between two handled one after the
        other a whole turn (in which it would have sent, if it could) has passed."""
        for _ in range(2):
            mark = d.mark()
            d.signal(signal.SIGHUP)
            d.wait_log(r"configuration reloaded", since=mark)

    def spool_cmd(self, conf, *args, scale=None):
        env = dict(os.environ)
        env.pop("SPOOLD_TEST_TIME_SCALE", None)
        if scale:
            env["SPOOLD_TEST_TIME_SCALE"] = str(scale)
        return subprocess.run([SPOOL, "-c", conf, *args], capture_output=True, text=True,
                              timeout=60, env=env)

    def sim(self, provider, **kw):
        """The provider simulator with --stats."""
        return self.start_server(provider=provider, stats=True, verbose=False, **kw)

    @staticmethod
    def stats(srv):
        with open(srv.stats_file, encoding="utf-8") as f:
            return json.load(f)

    def wait_stats(self, srv, pred, what, timeout=20):
        return wait_until(lambda: (lambda s: s if pred(s) else None)(self.stats(srv)),
                          timeout, [srv.dir], what, lambda: json.dumps(self.stats(srv)))

    # -- jobs

    def place(self, n, tag="job", email=lambda i: f"patient{i}@example.com", start=None):
        """n reminder jobs in new/ (the spool made first); their names, in order."""
        self.make_spool()
        names = []
        for i in range(n):
            names.append(self.submit(make_job(f"appt-{tag}-{i}", email=email(i), start=start),
                                     tag=f"{tag}{i:03d}"))
        return names

    def msgid(self, folder, name):
        return self.read_job(folder, name)["spool"]["message_id"]

    def assert_each_once(self, names, *servers, skip=lambda rec: False):
        """Every job in sent/ and its Message-ID received exactly once in total,
        nothing else received (but records skip() is true for); returns
        {name: server index}."""
        recs = [(i, r) for i, s in enumerate(servers) for r in s.records() if not skip(r)]
        by_id = {}
        for i, r in recs:
            by_id.setdefault(r["message_id"], []).append(i)
        where = {}
        for name in names:
            self.assertEqual(self.where(name), ["sent"], name)
            mid = self.msgid("sent", name)
            self.assertEqual(len(by_id.get(mid, [])), 1, f"{name} {mid}: {by_id.get(mid)}")
            where[name] = by_id[mid][0]
        self.assertEqual(len(recs), len(names), "messages received that are not these jobs")
        return where

    def counts(self):
        return {f: len(self.jobs_in(f)) for f in ("new", "active", "deferred", "hold", "sent",
                                                  "failed", "corrupt")}


class TestAccountBlocked(ProviderTest):

    def test_a_gmail_suspends_after_40_of_300(self):
        flag = os.path.join(self.tmp, "flag", "verified")
        os.makedirs(os.path.dirname(flag))
        srv = self.sim({"profile": "gmail", "suspend_after": 40, "verified_flag": flag},
                       tls="starttls", auth=True)
        alert_srv = self.start_server(verbose=False)  # carries the alert e-mail
        conf = self.conf(srv, relay={"profile": "gmail"}, sections={
            "pacing": NO_LIMITS,
            "alerts": {"command": self.alert_command(), "alert_to": ALERT_TO},
            "alert_relay": {"host": "127.0.0.1", "port": alert_srv.port, "tls": "none",
                            "from": "alerts@springfield-chiro.example"}})
        names = self.place(300, "a")
        d = self.spoold(conf)

        # Sending stops at the first refusal.
        d.wait_log(r"sending stopped: category=account-blocked relay=relay", timeout=90)
        m = d.wait_log(r"job=(\S+) .*stage=mail code=534 category=account-blocked", timeout=10)
        blocked_at = d.mark()
        refused = m.group(1)
        self.wait_alerts(1)
        alert_srv.wait_count(1)
        self.loop_turn(d)  # had spoold gone on sending, it would have by now
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["refused_total"], st["refused_by_kind"]),
                         (40, 1, {"suspended": 1}), st)
        self.assertTrue(st["suspended"])
        c = self.counts()
        self.assertEqual((c["sent"], c["failed"], c["hold"], c["active"], c["corrupt"]),
                         (40, 0, 0, 0, 0), c)
        self.assertEqual(c["new"] + c["deferred"], 260, c)
        # The refused job waits, its attempt recorded but not charged.
        self.assertIn(self.where(refused)[0], ("new", "deferred"))
        job = self.read_job("deferred", refused)
        att = job["spool"]["attempts"]
        self.assertEqual([(a["category"], a.get("charged")) for a in att],
                         [("account-blocked", False)], att)
        # ...and due already (no back-off): the account, not the job, waits.
        self.assertLessEqual(rfc3339_epoch(job["spool"]["next_attempt"]), time.time(),
                             job["spool"])
        # The account state, for staff.
        p = self.spool_cmd(conf, "status")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, p.stdout + p.stderr)
        self.assertIn("STOPPED", p.stdout)
        self.assertIn("web browser", p.stdout)
        self.assertIn("spool resume", p.stdout)
        a = self.alerts()[0]
        self.assertEqual((a["SPOOL_EVENT"], a["SPOOL_CATEGORY"]),
                         ("account-blocked", "account-blocked"), a)
        self.assertIn("spool resume", a["SPOOL_ACTION"])
        mail = alert_srv.message(alert_srv.records()[0]).decode("utf-8", "replace")
        self.assertIn("X-Spool-Event: account-blocked", mail)
        self.assertEqual(alert_srv.records()[0]["rcpt"], [ALERT_TO])

        # A person verifies the account (and it stays verified), then staff
        # run spool resume.
        write_flag(flag)
        keeper = FlagKeeper(flag)
        keeper.start()
        self.addCleanup(keeper.stop)
        p = self.spool_cmd(conf, "resume")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        d.wait_log(r"relay relay: account blocked -> probing \(from state/\)", timeout=10,
                   since=blocked_at)
        d.wait_log(r"relay relay: the probe was accepted; sending resumes", since=blocked_at)
        self.wait_count("sent", 300, timeout=60)

        # Nothing was attempted while blocked: one refusal in all, and spoold's
        # log has no attempt between the block and the resume.
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["refused_total"]), (300, 1), st)
        self.assertGreaterEqual(st["resumptions"], 1, st)
        resumed = next(i for i, ln in enumerate(d.lines)
                       if "account blocked -> probing" in ln)
        between = [ln for ln in d.lines[blocked_at:resumed] if re.search(r"job=\S+ to=", ln)]
        self.assertEqual(between, [], "attempts while the account was blocked")
        self.assert_each_once(names, srv)
        att = self.attempts("sent", refused)
        self.assertEqual([(a["category"], a.get("charged", True)) for a in att],
                         [("account-blocked", False), ("sent", True)], att)
        c = self.counts()
        self.assertEqual((c["sent"], c["failed"], c["new"], c["deferred"], c["hold"]),
                         (300, 0, 0, 0, 0), c)
        self.assertEqual([a["SPOOL_EVENT"] for a in self.alerts()], ["account-blocked"])
        self.assertEqual(alert_srv.count(), 1)
        self.assertEqual(self.spool_cmd(conf, "status").returncode, 0)

    def test_f_fallback_carries_the_queue(self):
        primary = self.sim({"profile": "outlook", "suspend_after": 5})
        fallback = self.sim({})
        conf = self.conf(primary, relay={"profile": "outlook"}, sections={
            "pacing": NO_LIMITS,
            "fallback": {"host": "127.0.0.1", "port": fallback.port, "tls": "none"},
            "alerts": {"command": self.alert_command()}})
        names = self.place(15, "f")
        d = self.spoold(conf)
        self.wait_count("sent", 15, timeout=30)
        d.wait_log(r"sending stopped: category=account-blocked relay=relay")
        where = self.assert_each_once(names, primary, fallback)
        ps, fs = self.stats(primary), self.stats(fallback)
        self.assertEqual((ps["accepted"], ps["refused_total"], ps["suspended"]), (5, 1, True), ps)
        self.assertEqual((fs["accepted"], fs["refused_total"]), (10, 0), fs)
        # Five through the primary; from the block on, everything through the fallback.
        self.assertEqual(sum(1 for n in names if where[n] == 0), 5)
        self.assertLess(max(r["time"] for r in primary.records()),
                        min(r["time"] for r in fallback.records()))
        for n in names:
            job = self.read_job("sent", n)
            self.assertEqual(job["spool"].get("relay"), "fallback" if where[n] else None, n)
        refused = [n for n in names if any(a["category"] == "account-blocked"
                                           for a in self.attempts("sent", n))]
        self.assertEqual(len(refused), 1, refused)
        self.assertEqual(where[refused[0]], 1)
        self.assertEqual([(a["stage"], a["category"], a.get("charged", True))
                          for a in self.attempts("sent", refused[0])],
                         [("data-end", "account-blocked", False), ("data-end", "sent", True)])
        self.assertEqual(self.counts()["failed"], 0)
        self.wait_alerts(1)
        self.assertEqual([a["SPOOL_EVENT"] for a in self.alerts()], ["account-blocked"])
        # The primary stays blocked: status says so.
        self.assertEqual(self.spool_cmd(conf, "status").returncode, EX_UNAVAILABLE)


class TestQuota(ProviderTest):

    def test_b_daily_quota_of_100(self):
        """The provider allows 100 a "day" (4 s); spoold does not know the quota
        and learns it from the refusal (a 24 h wait, scaled to 4 s)."""
        day = 4
        srv = self.sim({"profile": "gmail", "daily_quota": 100, "day_seconds": day})
        conf = self.conf(srv, relay={"profile": "gmail"}, sections={"pacing": NO_LIMITS})
        names = self.place(130, "b")
        d = self.spoold(conf, scale=86400 // day)
        d.wait_log(r"relay relay: rate-limited until", timeout=60)
        # The refused job's line is logged once it is back in deferred/.
        d.wait_log(r"job=\S+ .*stage=mail code=550 category=rate-limited")
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["refused_by_kind"]), (100, {"daily_quota": 1}), st)
        c = self.counts()
        self.assertEqual((c["sent"], c["failed"], c["new"] + c["deferred"]), (100, 0, 30), c)
        p = self.spool_cmd(conf, "status", scale=86400 // day)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Sending: paused", p.stdout)

        self.wait_count("sent", 130, timeout=30)
        self.assert_each_once(names, srv)
        st = self.stats(srv)
        # A refusal stops sending until the window allows: never one per job.
        # (A second one is possible: the scaled wait is rounded to whole seconds.)
        self.assertEqual(set(st["refused_by_kind"]), {"daily_quota"}, st)
        self.assertLessEqual(st["refused_total"], 2, st)
        self.assertEqual(st["accepted"], 130)
        self.assertEqual(self.counts()["failed"], 0)
        for n in names:
            att = self.attempts("sent", n)
            self.assertEqual(att[-1]["category"], "sent")
            self.assertTrue(all(a["category"] == "rate-limited" and a["charged"] is False
                                for a in att[:-1]), att)
        recs = sorted(srv.records(), key=lambda r: r["time"])
        self.assertGreaterEqual(recs[100]["time"] - recs[0]["time"], day)

    def test_e_restart_keeps_the_days_budget(self):
        """[pacing] per_day = 30 with a 6 s "day": 20, a restart, 20 more: only 10
        go before the day slides, and the provider (same quota) refuses nothing."""
        day = 6
        scale = 86400 // day
        srv = self.sim({"daily_quota": 30, "day_seconds": day})
        conf = self.conf(srv, sections={"pacing": {"per_day": 30}})
        first = self.place(20, "e1")
        d = self.spoold(conf, scale=scale)
        self.wait_count("sent", 20, timeout=20)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(), 0)
        pace = self.path("state", "pace-relay")
        self.assertTrue(os.path.exists(pace), self.listing())
        with open(pace, encoding="ascii") as f:
            lines = f.read().split()
        self.assertEqual(lines[0:2], ["version", "1"])
        self.assertEqual(len(lines) - 2, 20, lines)

        second = [self.submit(make_job(f"appt-e2-{i}", email=f"later{i}@example.com"),
                              tag=f"e2{i:03d}") for i in range(20)]
        d2 = self.spoold(conf, scale=scale)
        srv.wait_count(30, timeout=10)
        self.wait_count("sent", 40, timeout=day + 20)
        d2.wait_log(r"category=sent", count=20)
        recs = sorted(srv.records(), key=lambda r: r["time"])
        self.assertEqual(len(recs), 40)
        t0 = recs[0]["time"]
        # The 30th went within the day (the restart did not have to wait), the
        # 31st only once the first send left the window.
        self.assertLess(recs[29]["time"] - t0, day,
                        "too slow to tell: 20 sends, a restart and 10 more took a whole day")
        self.assertGreaterEqual(recs[30]["time"] - t0, day)
        for i in range(len(recs)):
            in_day = [r for r in recs if 0 <= recs[i]["time"] - r["time"] < day]
            self.assertLessEqual(len(in_day), 30)
        st = self.stats(srv)
        self.assertEqual((st["refused_total"], st["window_violations"]), (0, 0), st)
        self.assert_each_once(first + second, srv)


class TestJobOutcomes(ProviderTest):

    def test_c_bad_recipients_fail_alone(self):
        srv = self.sim({"profile": "gmail", "bad_recipients": ["nobody@", "gone@"]})
        conf = self.conf(srv, sections={"alerts": {"command": self.alert_command()}})
        emails = {3: "nobody@example.com", 7: "gone@example.org"}
        names = self.place(10, "c", email=lambda i: emails.get(i, f"patient{i}@example.com"))
        self.spoold(conf)
        bad = [names[3], names[7]]
        good = [n for n in names if n not in bad]
        self.wait_count("sent", 8)
        self.wait_count("failed", 2)
        self.assertEqual(sorted(self.jobs_in("failed")), sorted(bad))
        for n in bad:
            att = self.attempts("failed", n)
            self.assertEqual([(a["stage"], a["category"]) for a in att],
                             [("rcpt", "recipient-invalid")])
            reason = self.read_text("failed", n + ".reason.txt")
            self.assertIn("does not exist", reason)
            self.assertIn(self.read_job("failed", n)["to"]["email"], reason)
        self.assert_each_once(good, srv)
        runs = self.wait_alerts(1)
        self.assertEqual(len(runs), 1, runs)
        self.assertEqual(runs[0]["SPOOL_EVENT"], "job-failed")
        self.assertEqual(sorted(runs[0]["SPOOL_JOB"].split()), sorted(bad))
        self.assertIn("2 jobs", runs[0]["SPOOL_REASON"])
        st = self.stats(srv)
        self.assertEqual(st["refused_by_kind"], {"bad_recipient": 2}, st)

    def test_d_drop_after_final_dot_is_held(self):
        srv = self.sim({"profile": "gmail", "drop_after_dot": ["drop@"]})
        conf = self.conf(srv, sections={"alerts": {"command": self.alert_command()}})
        emails = {1: "drop@example.com"}
        names = self.place(3, "d", email=lambda i: emails.get(i, f"patient{i}@example.com"))
        d = self.spoold(conf)
        held = names[1]
        self.wait_in("hold", held)
        self.wait_count("sent", 2)
        # A job that arrives later goes out; the held one is not sent again.
        later = self.submit(make_job("appt-d-later", email="later@example.com"), tag="dlater")
        self.wait_sent(d, later)
        self.assertEqual(self.where(held), ["hold"])
        att = self.attempts("hold", held)
        self.assertEqual([(a["stage"], a["category"]) for a in att],
                         [("data-end", "unknown-outcome")], att)
        self.assertIn("may or may not have been delivered",
                      self.read_text("hold", held + ".reason.txt"))
        recs = srv.by_msgid(self.msgid("hold", held))
        self.assertEqual(len(recs), 1, recs)
        self.assertTrue(recs[0].get("dropped"))
        self.assertEqual(srv.count(), 4)
        self.assert_each_once([names[0], names[2], later], srv,
                              skip=lambda r: r.get("dropped"))
        runs = self.wait_alerts(1)
        self.assertEqual([(r["SPOOL_EVENT"], r["SPOOL_JOB"]) for r in runs],
                         [("job-held", held)])


class TestPacing(ProviderTest):

    def test_quiet_hours_hold_sending(self):
        """Quiet hours around now in the practice's zone (+05:30; not UTC's now):
        nothing sent, the jobs wait, status 0; lifted by SIGHUP, they go."""
        zone = "Asia/Kolkata"
        now = datetime.now(ZoneInfo(zone))
        quiet = "%s-%s" % ((now - timedelta(hours=1)).strftime("%H:%M"),
                           (now + timedelta(hours=1)).strftime("%H:%M"))
        srv = self.sim({})
        conf = self.conf(srv, top={"timezone": zone},
                         sections={"pacing": {"quiet_hours": quiet}})
        names = self.place(3, "q")
        d = self.spoold(conf)
        self.loop_turn(d)
        st = self.stats(srv)
        self.assertEqual((st["connections"], st["accepted"]), (0, 0), st)
        self.assertEqual(sorted(self.jobs_in("new")), sorted(names))
        p = self.spool_cmd(conf, "status")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Sending: running", p.stdout)
        conf = self.conf(srv, top={"timezone": zone})
        d.signal(signal.SIGHUP)
        self.wait_count("sent", 3)
        self.assert_each_once(names, srv)

    def test_per_connection_reconnects(self):
        srv = self.sim({})
        conf = self.conf(srv, sections={"pacing": {"per_connection": 4}})
        names = self.place(10, "pc")
        self.spoold(conf)
        self.wait_count("sent", 10)
        self.assert_each_once(names, srv)
        st = self.wait_stats(srv, lambda s: s["connections"] >= 3, "3 connections")
        self.assertEqual((st["connections"], st["max_concurrent_connections"]), (3, 1), st)
        conns = [r["conn"] for r in sorted(srv.records(), key=lambda r: r["n"])]
        self.assertEqual([conns.count(c) for c in sorted(set(conns))], [4, 4, 2], conns)

    def test_min_gap(self):
        gap = 0.25
        srv = self.sim({})
        conf = self.conf(srv, sections={"pacing": {"min_gap_ms": int(gap * 1000)}})
        names = self.place(5, "g")
        self.spoold(conf)
        self.wait_count("sent", 5)
        self.assert_each_once(names, srv)
        t = sorted(r["time"] for r in srv.records())
        gaps = [b - a for a, b in zip(t, t[1:])]
        self.assertTrue(all(g >= gap for g in gaps), gaps)


if __name__ == "__main__":
    unittest.main()
