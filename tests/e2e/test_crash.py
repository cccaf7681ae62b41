"""Crashes and concurrency: kill -9 while draining, two spoolds on one spool.

DESIGN.md promises that nothing is lost and that a crash sends at most one
message twice (the SMTP unknown-outcome window).  These tests use a plain
(tls = none) unscripted server for speed.
"""

import collections
import os
import random
import signal
import time
import unittest

from harness import E2ETestCase, make_job, wait_until

CRASH_JOBS = 500
MIN_KILLS = 10
TARGET_KILLS = 20
CONCURRENT_JOBS = 300
WAITING = ("new", "active", "deferred", "hold", "failed", "corrupt")


class SpoolLoad(E2ETestCase):

    def place_jobs(self, n, prefix):
        """n jobs written into new/ before any spoold runs (Maildir rule)."""
        self.make_spool()
        names = []
        start = time.time() + 3 * 86400
        for i in range(n):
            # Varied appointments so the queue order is not the name order.
            job = make_job(f"{prefix}-{i:04d}", email=f"patient{i}@example.com",
                           first=f"P{i}", start=start + (i * 7919) % 86400)
            names.append(self.submit(job, name=f"1764000000.{prefix}{i:04d}.e2e"))
        return names

    def sent_count(self):
        return len(self.jobs_in("sent"))

    def check_all_sent(self, names, srv):
        """Every job in sent/ and nowhere else; returns Message-ID -> times received."""
        self.assertEqual(self.jobs_in("sent"), sorted(names), self.context())
        for f in WAITING:
            self.assertEqual(self.jobs_in(f), [], f"{f}/ is not empty\n{self.context()}")
        got = collections.Counter(r["message_id"] for r in srv.records())
        missing = []
        for name in names:
            job = self.read_job("sent", name)
            self.assertEqual(job["spool"]["attempts"][-1]["category"], "sent", name)
            self.assertTrue(os.path.exists(self.path("sent", name + ".eml.gz")), name)
            if got[job["spool"]["message_id"]] < 1:
                missing.append(name)
        self.assertEqual(missing, [], "sent/ holds jobs the server never received")
        return got


class TestCrash(SpoolLoad):

    def test_kill9_while_draining(self):
        """9. SIGKILL at random moments while 500 jobs drain; restart each time."""
        t_start = time.monotonic()
        seed = int(os.environ.get("SPOOLD_E2E_SEED", time.time_ns() % 1000000))
        rng = random.Random(seed)
        srv = self.start_server()
        names = self.place_jobs(CRASH_JOBS, "crash")
        conf = self.write_conf(srv, timeout=5)
        d = self.start_spoold(conf, wait=False)
        kills = 0
        while kills < TARGET_KILLS:
            # Progress, not time: messages the server logged (the kill then
            # lands in the unknown-outcome window) or jobs filed in sent/.
            by_server = rng.random() < 0.6
            step = rng.randint(3, 25)
            done = wait_for_progress(self, srv, by_server, step)
            if done:
                break
            d.kill9()
            kills += 1
            d = self.start_spoold(conf, wait=False)
        # Let the last one drain everything.
        self.wait_count("sent", CRASH_JOBS, timeout=max(5, 110 - (time.monotonic() - t_start)))
        got = self.check_all_sent(names, srv)
        dups = sum(c - 1 for c in got.values() if c > 1)
        print(f"\nkills={kills} duplicates={dups} (seed={seed}, "
              f"{time.monotonic() - t_start:.1f} s)", flush=True)
        self.assertGreaterEqual(kills, MIN_KILLS, "the drain ended before enough kills")
        self.assertLessEqual(dups, kills, f"more duplicates than crashes: {got.most_common(5)}")
        self.assertEqual(len(got), CRASH_JOBS)
        self.assertLess(time.monotonic() - t_start, 120)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0)


def wait_for_progress(tc, srv, by_server, step):
    """Wait until step more messages reached the server (by_server) or step
    more jobs reached sent/; True when the whole spool is already sent."""
    measure = srv.count if by_server else tc.sent_count
    target = measure() + step

    def progress():
        if tc.sent_count() >= CRASH_JOBS:
            return "done"
        return "kill" if measure() >= target else None
    what = f"{target} {'messages at the server' if by_server else 'jobs in sent/'}"
    return wait_until(progress, 30, [srv.mbox, tc.folder("sent")], what, tc.context) == "done"


class TestTwoDaemons(SpoolLoad):

    def test_two_spoolds_send_each_job_once(self):
        """10. Two spoolds started at once on one spool: every job sent once."""
        srv = self.start_server()
        names = self.place_jobs(CONCURRENT_JOBS, "pair")
        conf = self.write_conf(srv, timeout=5)
        a = self.start_spoold(conf, wait=False)
        b = self.start_spoold(conf, wait=False)
        self.wait_count("sent", CONCURRENT_JOBS, timeout=60)
        for d in (a, b):
            d.signal(signal.SIGTERM)
        for d in (a, b):
            self.assertEqual(d.wait_exit(10), 0, d.tail())
        got = self.check_all_sent(names, srv)
        self.assertEqual(len(got), CONCURRENT_JOBS)
        twice = {m: c for m, c in got.items() if c != 1}
        self.assertEqual(twice, {}, "messages received more than once")
        self.assertEqual(srv.count(), CONCURRENT_JOBS)
        share = [len(d.findall(r"category=sent")) for d in (a, b)]
        print(f"\nshare of the two spoolds: {share}", flush=True)
        self.assertEqual(sum(share), CONCURRENT_JOBS)


if __name__ == "__main__":
    unittest.main()
