"""test_contrib - the examples in contrib/ that people copy: they must be right.

- submit-examples (submit.sh, submit.py, submit.php): each puts a valid job
  into new/ by the Maildir rule: the file is created and written in tmp/
  and appears in new/ only by a rename from tmp/ (the inotify cookies of
  IN_MOVED_FROM tmp/NAME and IN_MOVED_TO new/NAME match; nothing is ever
  created or written in new/), tmp/ is empty afterwards, `spool show NAME`
  reads the job, and a bad call leaves nothing behind.  The PHP test is
  skipped only when /usr/bin/php is absent.
- spool-notify: a reason file in failed/ and an account STOPPED in state/
  raise notifications through a fake notify-send on PATH (which records
  its arguments); without notify-send the text goes to stderr.
- spool.bash-completion: verbs, options, --color values and job names.

Waits are on events: inotify on the folders, the script's own "Watches
established." line, the fake's record (wait_until on its directory).
"""

import ctypes
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import time
import unittest

from harness import (BIN, REPO, E2ETestCase, IN_CLOSE_WRITE, IN_CREATE, IN_MODIFY,
                     IN_MOVED_FROM, IN_MOVED_TO, _libc, make_job, wait_until)

SPOOL = os.path.join(BIN, "spool", "spool")
CONTRIB = os.path.join(REPO, "contrib")
EXAMPLES = os.path.join(CONTRIB, "submit-examples")
PHP = "/usr/bin/php"
NAMES = {IN_CREATE: "create", IN_MODIFY: "modify", IN_CLOSE_WRITE: "close_write",
         IN_MOVED_FROM: "moved_from", IN_MOVED_TO: "moved_to"}


class EventLog:
    """Every inotify event in some directories: (dir, event, name, cookie)."""

    def __init__(self, dirs):
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | 0o2000000)
        self.wd = {}
        mask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO
        for d in dirs:
            wd = _libc.inotify_add_watch(self.fd, os.fsencode(d), mask)
            if wd < 0:
                raise OSError(ctypes.get_errno(), d)
            self.wd[wd] = os.path.basename(d)

    def read(self):
        out = []
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return out
        while data:
            wd, mask, cookie, n = struct.unpack_from("iIII", data)
            name = data[16:16 + n].rstrip(b"\0").decode()
            data = data[16 + n:]
            for bit, what in NAMES.items():
                if mask & bit:
                    out.append((self.wd[wd], what, name, cookie))
        return out + self.read()

    def close(self):
        os.close(self.fd)


class SubmitExamplesTest(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.make_spool()
        server = type("NoServer", (), {"port": 1, "tls": "none", "auth": False})()
        self.conf = self.write_conf(server)
        self.job = os.path.join(self.tmp, "job.json")
        with open(self.job, "w", encoding="utf-8") as f:
            json.dump(make_job("appt-contrib-1", first="Ana", last="Lima"), f)

    def submit_with(self, argv):
        """Run a submit example; its job's name, after checking the rule."""
        log = EventLog([self.folder("tmp"), self.folder("new")])
        self.addCleanup(log.close)
        r = subprocess.run(argv + [self.spool, self.job], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        name = r.stdout.strip()
        self.assertRegex(name, r"^[A-Za-z0-9._:,=+-]+$")
        events = log.read()
        in_new = [e for e in events if e[0] == "new"]
        self.assertEqual([e[:3] for e in in_new], [("new", "moved_to", name)], events)
        tmp_kinds = [e[1] for e in events if e[0] == "tmp" and e[2] == name]
        for kind in ("create", "close_write", "moved_from"):
            self.assertIn(kind, tmp_kinds, events)
        moved = [e for e in events if e[:3] == ("tmp", "moved_from", name)]
        self.assertEqual(moved[0][3], in_new[0][3], "new/ got it by a rename from tmp/")
        self.assertEqual(os.listdir(self.folder("tmp")), [])
        self.assertEqual(self.jobs_in("new"), [name])
        show = subprocess.run([SPOOL, "-c", self.conf, "show", name], capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(show.returncode, 0, show.stderr)
        self.assertIn("appt-contrib-1", show.stdout)
        with open(self.job, "rb") as a, open(self.path("new", name), "rb") as b:
            self.assertEqual(a.read(), b.read())
        rows = json.loads(subprocess.run([SPOOL, "-c", self.conf, "list", "--json", "--new"],
                                         capture_output=True, text=True, timeout=30).stdout)
        self.assertEqual([(x["name"], x["id"]) for x in rows], [(name, "appt-contrib-1")])
        return name

    def failures(self, argv):
        """A missing job file and a folder that is not a spool: refused, nothing left."""
        r = subprocess.run(argv + [self.spool, os.path.join(self.tmp, "nope.json")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 66, r.stderr)
        r = subprocess.run(argv + [self.tmp, self.job], capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(r.returncode, 0)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 64)
        self.assertEqual(os.listdir(self.folder("tmp")), [])

    def check_example(self, argv):
        first = self.submit_with(argv)
        os.unlink(self.path("new", first))
        second = self.submit_with(argv)
        self.assertNotEqual(first, second)
        self.failures(argv)

    def test_submit_sh(self):
        self.check_example(["/bin/sh", os.path.join(EXAMPLES, "submit.sh")])

    def test_submit_py(self):
        self.check_example(["/usr/bin/python3", os.path.join(EXAMPLES, "submit.py")])
        with open(self.job, "w") as f:
            f.write("[1, 2]")
        r = subprocess.run(["/usr/bin/python3", os.path.join(EXAMPLES, "submit.py"),
                            self.spool, self.job], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 65)

    @unittest.skipUnless(os.path.exists(PHP), "/usr/bin/php is absent: contrib/install-deps "
                         "installs php-cli (the PHP example is not tested)")
    def test_submit_php(self):
        self.check_example([PHP, os.path.join(EXAMPLES, "submit.php")])


class SpoolNotifyTest(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.make_spool()
        os.makedirs(self.folder("state"))
        self.fake = os.path.join(self.tmp, "fakebin")
        self.logdir = os.path.join(self.tmp, "notified")
        os.makedirs(self.fake)
        os.makedirs(self.logdir)
        self.log = os.path.join(self.logdir, "log")

    def start(self, fake=True):
        env = dict(os.environ, NOTIFY_LOG=self.log)
        if fake:
            path = os.path.join(self.fake, "notify-send")
            with open(path, "w") as f:
                f.write('#!/bin/sh\n{ for a in "$@"; do printf "%s\\n" "$a"; done; '
                        'echo --END--; } >>"$NOTIFY_LOG"\n')
            os.chmod(path, 0o755)
            env["PATH"] = self.fake + os.pathsep + env["PATH"]
        p = subprocess.Popen(["timeout", "60", os.path.join(CONTRIB, "spool-notify"),
                              self.spool], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                             start_new_session=True)
        self.addCleanup(self.stop, p)
        self.wait_stderr(p, "Watches established.")
        return p

    def stop(self, p):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        p.stderr.close()

    def wait_stderr(self, p, text, timeout=15):
        """Read p's stderr until a line holds text; all that was read."""
        deadline = time.monotonic() + timeout
        got = b""
        while text.encode() not in got:
            r, _, _ = select.select([p.stderr], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(p.stderr.fileno(), 4096) if r else b""
            if not chunk:
                raise AssertionError(f"no {text!r} on stderr: {got!r}")
            got += chunk
        return got.decode()

    def put(self, folder, name, text):
        """Write as spoold does: a hidden temporary, then a rename."""
        tmp = self.path(folder, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, self.path(folder, name))

    def records(self):
        try:
            with open(self.log, encoding="utf-8") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        return [r.strip("\n").split("\n") for r in data.split("--END--\n")[:-1]]

    def wait_records(self, n):
        return wait_until(lambda: len(self.records()) >= n and self.records(), 15,
                          [self.logdir], f"{n} notification(s)")

    reason = ("The reminder for Jane Doe was NOT sent.\n\nWhat happened:\n"
              "  The patient's e-mail address was refused; it may be mistyped or closed.\n\n"
              "Patient:      Jane Doe\n\nWhat to do:\n  Check the address <x> & phone.\n"
              "  - If the appointment is soon, phone the patient.\n")

    def test_notifications(self):
        self.put("state", "account-relay", json.dumps({"version": 1, "state": "running"},
                                                      indent=2) + "\n")
        p = self.start()
        self.put("failed", "1.job.reason.txt", self.reason)
        rec = self.wait_records(1)[0]
        self.assertIn("--urgency=critical", rec)
        self.assertEqual(rec[-3:], [
            "The reminder for Jane Doe was NOT sent.",
            "The patient's e-mail address was refused; it may be mistyped or closed.",
            "What to do: Check the address &lt;x&gt; &amp; phone."])
        # The account: a rewrite with the same state is no news; STOPPED is.
        self.put("state", "account-relay", json.dumps({"version": 1, "state": "running"},
                                                      indent=2) + "\n")
        self.put("state", "account-relay", json.dumps({
            "version": 1, "state": "blocked", "reason": "Gmail has stopped this account.",
            "action": "Sign in to it in a web browser."}, indent=2) + "\n")
        rec = self.wait_records(2)[1]
        self.assertEqual(rec[-3:], ["Reminders STOPPED: nothing is being sent",
                                    "Gmail has stopped this account.",
                                    "What to do: Sign in to it in a web browser."])
        self.assertEqual(len(self.records()), 2)
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=10)

    @unittest.skipIf(shutil.which("notify-send"), "notify-send is installed here")
    def test_stderr_without_notify_send(self):
        p = self.start(fake=False)
        self.put("failed", "2.job.reason.txt", self.reason)
        err = self.wait_stderr(p, "What to do:")
        self.assertIn("The reminder for Jane Doe was NOT sent.", err)
        self.assertFalse(os.path.exists(self.log))

    def test_not_a_spool(self):
        r = subprocess.run([os.path.join(CONTRIB, "spool-notify"), self.tmp],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 66)
        self.assertIn("no such folder", r.stderr)


class CompletionTest(E2ETestCase):

    def complete(self, *words):
        """COMPREPLY for the words, the last one being completed."""
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _spool; '
                  'printf "%s\\n" "${COMPREPLY[@]}"')
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash",
                            os.path.join(CONTRIB, "spool.bash-completion"), "spool", *words],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stderr, "")
        return sorted(w for w in r.stdout.split("\n") if w)

    def test_verbs_and_options(self):
        self.assertEqual(self.complete("re"), ["release", "render", "resume", "retry"])
        self.assertEqual(self.complete("help", "s"), ["setup", "show", "status", "submit"])
        self.assertEqual(self.complete("list", "--f"), ["--failed"])
        self.assertEqual(self.complete("watch", "--"), ["--color=", "--count", "--help",
                                                        "--json"])
        self.assertEqual(self.complete("--color=a"), ["always", "auto"])
        self.assertEqual(self.complete("-c", "/etc/x.conf", "st"), ["status"])
        out = subprocess.run([SPOOL, "--help"], capture_output=True, text=True).stdout
        verbs = [ln.split()[0] for ln in out.split("Verbs:\n")[1].split("\n\n")[0].split("\n")]
        self.assertEqual(sorted(verbs), [v for v in self.complete("") if v != "help"])

    def test_job_names(self):
        self.make_spool()
        server = type("NoServer", (), {"port": 1, "tls": "none", "auth": False})()
        conf = self.write_conf(server)
        for folder, name in (("failed", "1.failed"), ("hold", "2.hold"), ("new", "3.new"),
                             ("sent", "4.sent"), ("failed", ".hidden")):
            with open(self.path(folder, name), "w") as f:
                f.write("{}")
        for side in ("1.failed.reason.txt", "4.sent.eml.gz"):
            with open(self.path("failed" if "failed" in side else "sent", side), "w") as f:
                f.write("x")
        self.assertEqual(self.complete("-c", conf, "retry", ""), ["1.failed", "2.hold"])
        self.assertEqual(self.complete("--config=" + conf, "release", "2"), ["2.hold"])
        self.assertEqual(self.complete("-c", conf, "show", ""),
                         ["1.failed", "2.hold", "3.new", "4.sent"])
        self.assertEqual(self.complete("-c", conf, "hold", ""), ["3.new"])


if __name__ == "__main__":
    unittest.main()
