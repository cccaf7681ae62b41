"""Bad input end to end: every bad file ends in the right folder with a
reason, nothing hangs spoold, and spoold keeps sending afterwards."""

import json
import os
import re
import stat
import time
import unittest

from harness import E2ETestCase, make_job, rfc3339, wait_until


class TestBadInput(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.srv = self.start_server()  # plain SMTP: these tests are about the spool
        self.d = self.start_spoold(self.write_conf(self.srv))

    def corrupt(self, name, why):
        """Wait for name's corrupt line; corrupt/NAME and its reason must exist."""
        m = self.d.wait_log(rf'job={re.escape(name)} status=corrupt reason="([^"]*)"')
        self.assertRegex(m.group(1), why)
        self.assertEqual(self.where(name), ["corrupt"], self.context())
        reason = self.read_text("corrupt", name + ".reason.txt")
        self.assertRegex(reason, why, reason)
        self.assertIn(name, reason)
        return reason

    def still_running(self):
        """spoold is alive and still sends."""
        self.assertTrue(self.d.alive(), self.d.tail())
        name = self.submit(make_job(f"alive-{time.monotonic_ns()}"))
        self.wait_sent(self.d, name)

    def test_malformed_json(self):
        name = self.submit(b'{"version": 1, "id": "x", "kind": "reminder", "to": {', tag="badjson")
        self.corrupt(name, r"not valid JSON")
        self.still_running()

    def test_oversized_file(self):
        job = make_job("big-one", data={"pad": "x" * (70 * 1024)})
        raw = json.dumps(job).encode()
        self.assertGreater(len(raw), 70 * 1024)
        name = self.submit(raw, tag="big")
        self.corrupt(name, r"limit is 65536")
        self.still_running()

    def test_symlink_not_followed(self):
        target = os.path.join(self.tmp, "outside.json")
        body = json.dumps(make_job("via-symlink")).encode()
        with open(target, "wb") as f:
            f.write(body)
        before = os.stat(target)
        name = self.new_name("link")
        os.symlink(target, self.path("tmp", name))
        os.rename(self.path("tmp", name), self.path("new", name))
        self.corrupt(name, r"symbolic link")
        self.assertTrue(os.path.islink(self.path("corrupt", name)))
        after = os.stat(target)
        self.assertEqual((before.st_mtime_ns, before.st_size), (after.st_mtime_ns, after.st_size))
        with open(target, "rb") as f:
            self.assertEqual(f.read(), body)
        self.assertEqual(self.srv.count(), 0, "the symlink's target was sent")
        self.still_running()

    def test_fifo_does_not_hang(self):
        name = self.new_name("fifo")
        os.mkfifo(self.path("tmp", name))
        os.rename(self.path("tmp", name), self.path("new", name))
        self.corrupt(name, r"FIFO")
        self.assertTrue(stat.S_ISFIFO(os.lstat(self.path("corrupt", name)).st_mode))
        self.still_running()

    def test_bad_address(self):
        name = self.submit(make_job("bad-addr", email="x@y>z"), tag="badaddr")
        self.corrupt(name, r"to\.email")
        self.assertEqual(self.srv.count(), 0)
        self.assertNotRegex(self.srv.stderr(), r"RCPT TO:<x@y", "a bad address reached SMTP")
        self.still_running()

    def test_expired_job_fails(self):
        past = time.time() - 3600
        name = self.submit(make_job("expired-one", first="Walter", last="Expiry",
                                    start=past, expires=rfc3339(past)), tag="expired")
        self.d.wait_log(rf"job={re.escape(name)} .*status=failed category=expired")
        self.assertEqual(self.where(name), ["failed"], self.context())
        reason = self.read_text("failed", name + ".reason.txt")
        self.assertRegex(reason, r"(?i)expired")
        self.assertIn("Walter", reason)
        self.assertEqual(self.srv.count(), 0)
        self.still_running()

    def test_not_before_in_future_is_deferred(self):
        nb = int(time.time()) + 3600
        name = self.submit(make_job("later-one", not_before=rfc3339(nb)), tag="later")
        self.wait_in("deferred", name)
        self.assertEqual(self.where(name), ["deferred"], self.context())
        self.assertEqual(int(os.stat(self.path("deferred", name)).st_mtime), nb)
        self.assertEqual(self.srv.count(), 0)
        self.still_running()
        self.assertEqual(self.where(name), ["deferred"])

    def test_duplicate_id_sent_once(self):
        first = self.submit(make_job("appt-dup-1"), tag="dup1")
        self.wait_sent(self.d, first)
        second = self.submit(make_job("appt-dup-1"), tag="dup2")
        self.d.wait_log(rf"job={re.escape(second)} .*status=duplicate")
        self.assertEqual(self.where(second), ["sent"], self.context())
        job = self.read_job("sent", second)
        self.assertEqual(job["spool"].get("duplicate_of"), first)
        self.still_running()
        mid = self.read_job("sent", first)["spool"]["message_id"]
        self.assertEqual(len(self.srv.by_msgid(mid)), 1)
        ids = [self.read_job("sent", n).get("id") for n in self.jobs_in("sent")]
        self.assertEqual(ids.count("appt-dup-1"), 2)
        self.assertEqual(self.srv.count(), 2)  # the first, and still_running's job

    def find_job_with_id(self, job_id):
        """(folder, name) of every job file in the spool whose id is job_id."""
        found = []
        for folder in ("new", "active", "deferred", "hold", "sent", "failed", "corrupt"):
            for n in self.jobs_in(folder):
                try:
                    if not stat.S_ISREG(os.lstat(self.path(folder, n)).st_mode):
                        continue  # never follow a symlink or open a FIFO
                    with open(self.path(folder, n), "rb") as f:
                        data = f.read(1 << 20)
                except OSError:
                    continue
                if f'"{job_id}"'.encode() in data:
                    found.append((folder, n))
        return found

    def test_reused_name_not_lost(self):
        """A file arriving under a name already used in corrupt/ or sent/ is
        not dropped silently (DESIGN: nothing is lost, never silent): it ends
        in some folder with a reason, and spoold says so in its log."""
        first_bad = self.submit(b'{"id": "bad-first", oops', name="reused-corrupt")
        self.corrupt(first_bad, r"not valid JSON")
        self.corrupt(self.submit(b'{"id": "bad-link-first", oops', name="reused-link"),
                     r"not valid JSON")
        sent = self.submit(make_job("reused-sent-A"), name="reused-sent")
        self.wait_sent(self.d, sent)
        mark = self.d.mark()
        self.submit(b'{"id": "bad-second", oops', name="reused-corrupt")
        self.submit(make_job("reused-sent-B", email="other@example.com"), name="reused-sent")
        os.symlink("/etc/hostname", self.path("tmp", "reused-link"))
        os.rename(self.path("tmp", "reused-link"), self.path("new", "reused-link"))
        wait_until(lambda: not any(os.path.lexists(self.path("new", n)) for n in
                                   ("reused-corrupt", "reused-sent", "reused-link")),
                   10, [self.folder("new")], "the reused names to be taken from new/")
        self.still_running()  # flushes spoold's log lines
        problems = []
        with open(self.path("corrupt", "reused-corrupt"), "rb") as f:
            if b"bad-first" not in f.read():
                problems.append("the first corrupt/reused-corrupt was replaced")
        if self.find_job_with_id("bad-link-first") != [("corrupt", "reused-link")]:
            problems.append("the symlink replaced the earlier corrupt/reused-link")
        links = [n for n in self.jobs_in("corrupt") if os.path.islink(self.path("corrupt", n))]
        if len(links) != 1:
            problems.append(f"symlinks in corrupt/: {links}")
        if len(self.find_job_with_id("reused-sent-A")) != 1:
            problems.append("the sent job reused-sent-A is gone")
        for i in ("bad-second", "reused-sent-B"):
            if not self.find_job_with_id(i):
                problems.append(f"the second job ({i}) was deleted without a trace")
        for name in ("reused-corrupt", "reused-sent", "reused-link"):
            if not self.d.find(re.escape(name), since=mark):
                problems.append(f"nothing logged about the second {name}")
        self.assertEqual(problems, [], f"\n{self.context()}")

    def test_all_at_once(self):
        """Every kind of bad input together, then a good job: all settled."""
        bad = {}
        bad[self.submit(b"{not json", tag="a")] = ("corrupt", r"not valid JSON")
        bad[self.submit(json.dumps(make_job("b", data={"p": "y" * 71000})).encode(),
                        tag="b")] = ("corrupt", r"limit")
        n = self.new_name("c")
        os.symlink("/etc/passwd", self.path("tmp", n))
        os.rename(self.path("tmp", n), self.path("new", n))
        bad[n] = ("corrupt", r"symbolic link")
        n = self.new_name("d")
        os.mkfifo(self.path("tmp", n))
        os.rename(self.path("tmp", n), self.path("new", n))
        bad[n] = ("corrupt", r"FIFO")
        bad[self.submit(make_job("e", email="x@y>z"), tag="e")] = ("corrupt", r"to\.email")
        past = time.time() - 7200
        bad[self.submit(make_job("f", start=past, expires=rfc3339(past)), tag="f")] = (
            "failed", r"(?i)expired")
        good = self.submit(make_job("g"), tag="g")
        self.wait_sent(self.d, good)
        for name, (folder, why) in bad.items():
            self.wait_in(folder, name)
            self.assertEqual(self.where(name), [folder], self.context())
            self.assertRegex(self.read_text(folder, name + ".reason.txt"), why)
        self.assertEqual(self.jobs_in("new"), [])
        self.assertEqual(self.jobs_in("active"), [])
        self.assertEqual(self.srv.count(), 1)
        self.assertTrue(self.d.alive())


if __name__ == "__main__":
    unittest.main()
