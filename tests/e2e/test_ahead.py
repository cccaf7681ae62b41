"""test_ahead - the job prepared ahead while a message's final reply is awaited.

While draining, spoold claims the next job and makes its message while the
server takes the previous one (spoold/deliver.c, deliver_run).  That job
must never go when the previous reply says it may not, and never be charged
for it:
  - the account stops on the previous reply (Outlook suspends at the end of
    DATA after 5 messages): the job made ahead waits again in deferred/, due
    now, with no attempt recorded; the ones never touched stay in new/;
  - SIGTERM while the previous message's reply is awaited (the server stalls
    it): that message is finished (here: held, its outcome unknown), the job
    made ahead waits in deferred/ with no attempt, and spoold exits 0.

Synchronisation: log lines, the spool folders, the simulator's stats; never
a sleep.
"""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import make_job, wait_until  # noqa: E402
from test_provider import NO_LIMITS, ProviderTest, rfc3339_epoch  # noqa: E402


class TestPreparedAhead(ProviderTest):

    def put_back(self, name):
        """name waits in deferred/, due now, never attempted (not charged)."""
        self.assertEqual(self.where(name), ["deferred"], self.context())
        job = self.read_job("deferred", name)["spool"]
        self.assertEqual(job.get("attempts", []), [], job)
        self.assertLessEqual(rfc3339_epoch(job["next_attempt"]), time.time(), job)

    def test_account_stop_puts_the_prepared_job_back(self):
        srv = self.sim({"profile": "outlook", "suspend_after": 5})
        conf = self.conf(srv, relay={"profile": "outlook"}, sections={"pacing": NO_LIMITS})
        names = self.place(10, "s")
        d = self.spoold(conf)
        d.wait_log(r"sending stopped: category=account-blocked relay=relay", timeout=30)
        self.loop_turn(d)
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["refused_total"]), (5, 1), st)
        c = self.counts()
        self.assertEqual((c["sent"], c["active"], c["failed"], c["hold"], c["deferred"],
                          c["new"]), (5, 0, 0, 0, 2, 3), c)
        refused = [n for n in names if self.where(n) == ["deferred"] and
                   self.read_job("deferred", n)["spool"].get("attempts")]
        self.assertEqual(len(refused), 1, self.context())
        self.assertEqual([(a["stage"], a["category"], a.get("charged"))
                          for a in self.attempts("deferred", refused[0])],
                         [("data-end", "account-blocked", False)])
        ahead = [n for n in self.jobs_in("deferred") if n != refused[0]]
        self.assertEqual(len(ahead), 1, self.context())
        self.put_back(ahead[0])

    def test_sigterm_puts_the_prepared_job_back(self):
        srv = self.start_server(script=[{"stage": "data-end", "action": "stall", "times": 1}])
        self.make_spool()
        names = [self.submit(make_job(f"ahead-{i}"), tag=f"ahead{i}") for i in range(2)]
        d = self.start_spoold(self.write_conf(srv, timeout=3))
        # The first message's final reply never comes; the second job is made meanwhile.
        wait_until(lambda: len(self.jobs_in("active")) == 2, 15, [self.folder("active")],
                   "both jobs in active/", self.context)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(20), 0, d.tail())
        self.assertEqual(self.jobs_in("active"), [], self.context())
        held = [n for n in names if self.where(n) == ["hold"]]
        self.assertEqual(len(held), 1, self.context())
        self.put_back(next(n for n in names if n not in held))
        self.assertEqual(srv.count(), 1)  # the stalled message only


if __name__ == "__main__":
    unittest.main()
