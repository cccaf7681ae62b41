"""test_cli - the spool program on a temporary spool, without a daemon.

Every verb: submit (file, stdin, options; bad jobs refused with the exact
reason and nothing written), list (default folders, combined folders,
--json), show (text, --json, --message), hold/release/retry/delete moves,
status --json, help, and the exit codes from sysexits.h.

Run: SPOOLD_BIN=build/plain /usr/bin/python3 -m unittest tests/e2e/test_cli.py
"""
import fcntl
import gzip
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import unittest

BIN = os.path.abspath(os.path.join(os.environ.get("SPOOLD_BIN", "build/plain"), "spool", "spool"))
FOLDERS = ["tmp", "new", "active", "deferred", "hold", "sent", "failed", "corrupt"]
EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_IOERR, EX_TEMPFAIL, EX_CONFIG = 64, 65, 66, 74, 75, 78
NAME_RE = re.compile(r"^[0-9]+\.M[0-9]{6}P[0-9]+Q[0-9]+\.[A-Za-z0-9.-]+$")


def job(**over):
    """A valid reminder job, with members replaced by over."""
    j = {
        "version": 1,
        "id": "appt-88213-reminder-24h",
        "kind": "reminder",
        "to": {"name": "Jane Doe", "email": "jane@example.com"},
        "patient": {"first_name": "Jane", "last_name": "Doe"},
        "appointment": {"start": "2030-12-03T09:30:00-06:00", "minutes": 30},
        "practice": {"name": "Springfield Chiropractic"},
    }
    j.update(over)
    return j


def attempt(category, code=550, text="5.1.1 no such user"):
    return {"time": "2026-11-26T10:00:05Z", "relay": "smtp.example.com:587",
            "stage": "rcpt", "code": code, "text": text, "category": category}


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="spool-cli-")
        self.spool = os.path.join(self.dir, "spool")
        for f in FOLDERS + ["ids"]:
            os.makedirs(os.path.join(self.spool, f))
        self.conf = os.path.join(self.dir, "spoold.conf")
        with open(self.conf, "w") as fp:
            fp.write("spool_dir = %s\nuser = %s\n" % (
                self.spool, pwd.getpwuid(os.geteuid()).pw_name))
        os.chmod(self.conf, 0o644)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_spool(self, *args, stdin=None, conf=True, env=None):
        e = dict(os.environ)
        e.pop("SPOOLD_CONF", None)
        e.update(env or {})
        argv = [BIN] + (["-c", self.conf] if conf else []) + list(args)
        if isinstance(stdin, str):
            stdin = stdin.encode()
        return subprocess.run(argv, input=stdin if stdin is not None else b"",
                              capture_output=True, env=e, timeout=30)

    def ok(self, *args, **kw):
        r = self.run_spool(*args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r.stdout.decode()

    def fails(self, code, *args, **kw):
        """Run, expect exit code; stderr must be exactly one line."""
        r = self.run_spool(*args, **kw)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, code, "stdout=%r stderr=%r" % (r.stdout, err))
        self.assertTrue(err.endswith("\n") and err.count("\n") == 1, err)
        return err

    def path(self, folder, name=""):
        return os.path.join(self.spool, folder, name)

    def put(self, folder, name, obj, mtime=None, raw=None):
        p = self.path(folder, name)
        with open(p, "w") as fp:
            fp.write(raw if raw is not None else json.dumps(obj, indent=2))
        if mtime is not None:
            os.utime(p, (mtime, mtime))
        return p

    def files(self, folder):
        return sorted(os.listdir(self.path(folder)))

    def load(self, folder, name):
        with open(self.path(folder, name)) as fp:
            return json.load(fp)

    # --- help and usage -------------------------------------------------

    def test_help(self):
        out = self.ok("--help", conf=False)
        self.assertIn("usage: spool [-c FILE] VERB", out)
        for verb in ["submit", "list", "show", "status", "retry", "hold", "release", "delete"]:
            self.assertIn(verb, out)
            for argv in ([verb, "--help"], ["help", verb]):
                text = self.ok(*argv, conf=False)
                self.assertTrue(text.startswith("usage: spool " + verb), text)
                self.assertIn("Example", text)
        self.assertEqual(self.fails(EX_USAGE, "help", "nope", conf=False),
                         'spool help: unknown verb "nope" (see: spool --help)\n')
        self.fails(EX_USAGE, conf=False)
        self.assertEqual(self.fails(EX_USAGE, "frob"),
                         'spool: unknown verb "frob" (see: spool --help)\n')
        self.assertEqual(self.fails(EX_USAGE, "list", "--frob"),
                         "spool list: unknown option --frob (see: spool list --help)\n")
        self.fails(EX_USAGE, "list", "extra")
        self.fails(EX_USAGE, "show")
        self.fails(EX_USAGE, "retry")
        self.fails(EX_USAGE, "retry", "--all", "x")
        self.fails(EX_USAGE, "submit", "--to")

    # --- submit ------------------------------------------------------------

    def test_submit_file(self):
        src = os.path.join(self.dir, "job.json")
        data = json.dumps(job(), indent=1) + "\n"
        with open(src, "w") as fp:
            fp.write(data)
        name = self.ok("submit", src).strip()
        self.assertRegex(name, NAME_RE)
        self.assertEqual(self.files("new"), [name])
        self.assertEqual(self.files("tmp"), [])
        with open(self.path("new", name)) as fp:
            self.assertEqual(fp.read(), data)  # byte for byte
        out = json.loads(self.ok("submit", "--json", "-", stdin=data))
        self.assertEqual(sorted(out), ["id", "name"])
        self.assertEqual(out["id"], "appt-88213-reminder-24h")
        name3 = self.ok("submit", stdin=data).strip()
        self.assertEqual(len(set([name, out["name"], name3])), 3)
        self.assertEqual(len(self.files("new")), 3)

    def test_submit_bad(self):
        cases = [
            (job(to={"email": "x@"}), 'to.email: "x@" is not a valid address: empty domain'),
            (job(kind="Bad Kind"), 'kind: "Bad Kind" must match [a-z0-9_-]{1,64}'),
            ({k: v for k, v in job().items() if k != "appointment"},
             "appointment.start: required for a reminder"),
            (job(version=2), "version: 2 is not supported (this spoold reads version 1)"),
        ]
        for obj, reason in cases:
            err = self.fails(EX_DATAERR, "submit", "-", stdin=json.dumps(obj))
            self.assertEqual(err, "spool submit: %s\n" % reason)
        err = self.fails(EX_DATAERR, "submit", stdin="{\"version\":1,")
        self.assertTrue(err.startswith("spool submit: not valid JSON: "), err)
        big = os.path.join(self.dir, "big.json")
        with open(big, "w") as fp:
            fp.write(" " * 70000)
        self.assertEqual(self.fails(EX_DATAERR, "submit", big),
                         "spool submit: %s: file is 70000 bytes; the limit is 65536\n" % big)
        self.assertEqual(
            self.fails(EX_DATAERR, "submit", "-", stdin=" " * 70000),
            "spool submit: standard input: more than 65536 bytes; the limit is 65536\n")
        self.fails(EX_NOINPUT, "submit", os.path.join(self.dir, "missing.json"))
        for f in FOLDERS:
            self.assertEqual(self.files(f), [], f)

    def test_submit_options(self):
        out = self.ok("submit", "--json", "--to", "jane@example.com", "--name", "Jane Doe",
                      "--kind", "reminder", "--appointment", "2030-12-01T09:30:00-06:00",
                      "--field", "patient.first_name=Jane", "--field",
                      "practice.name=Springfield Chiropractic", "--field",
                      "appointment.minutes:=30", "--expires", "2030-12-01T08:30:00-06:00")
        name = json.loads(out)["name"]
        j = self.load("new", name)
        self.assertEqual(j["version"], 1)
        self.assertEqual(j["id"], "cli-" + name)
        self.assertEqual(j["to"], {"email": "jane@example.com", "name": "Jane Doe"})
        self.assertEqual(j["appointment"], {"start": "2030-12-01T09:30:00-06:00", "minutes": 30})
        self.assertEqual(j["patient"], {"first_name": "Jane"})
        self.assertEqual(j["practice"], {"name": "Springfield Chiropractic"})
        self.assertEqual(j["expires"], "2030-12-01T08:30:00-06:00")
        name2 = self.ok("submit", "--to", "bob@example.com", "--kind", "recall", "--id",
                        "recall-7").strip()
        self.assertEqual(self.load("new", name2)["id"], "recall-7")
        self.fails(EX_USAGE, "submit", "--to", "a@example.com")  # no --kind
        self.fails(EX_USAGE, "submit", "--kind", "recall", "--to", "a@example.com",
                   "--field", "novalue")
        self.fails(EX_USAGE, "submit", "--kind", "recall", "--to", "a@example.com",
                   "--field", "x:={bad")
        self.fails(EX_USAGE, "submit", "--kind", "recall", "--to", "a@example.com", "job.json")
        self.assertEqual(
            self.fails(EX_DATAERR, "submit", "--to", "x@", "--kind", "recall"),
            'spool submit: to.email: "x@" is not a valid address: empty domain\n')
        self.assertEqual(
            self.fails(EX_DATAERR, "submit", "--to", "a@example.com", "--kind", "reminder"),
            "spool submit: appointment.start: required for a reminder\n")
        self.assertEqual(len(self.files("new")), 2)

    # --- list, show, status ----------------------------------------------------

    def populate(self):
        now = time.time()
        self.put("new", "1.new", job())
        self.put("new", "2.bad", None, raw='{"version": 2}')
        self.put("new", ".hidden", job())
        self.put("deferred", "3.deferred",
                 job(spool={"version": 1, "attempts": [attempt("transient", 421)]}),
                 mtime=now + 12 * 60 + 30)
        self.put("hold", "4.hold", job(id="h"))
        self.put("sent", "5.sent", job(spool={"version": 1, "attempts": [attempt("sent", 250)],
                                              "sent": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                    time.gmtime(now - 3 * 3600)),
                                              "message_id": "<m5@example.com>"}))
        with open(self.path("sent", "5.sent.eml.gz"), "wb") as fp:
            fp.write(gzip.compress(b"Subject: hi\r\n\r\nexactly this\r\n"))
        self.put("failed", "6.failed", job(spool={
            "version": 1, "attempts": [attempt("recipient-invalid")],
            "reason": "The address does not exist.", "next_attempt": "2030-01-01T00:00:00Z"}))
        with open(self.path("failed", "6.failed.reason.txt"), "w") as fp:
            fp.write("This reminder was NOT sent.\n\nWhat happened:\n  The address does "
                     "not exist.\n\nWhat to do:\n  Phone the patient.\n")
        self.put("corrupt", "7.corrupt", None, raw="{oops")
        with open(self.path("corrupt", "7.corrupt.reason.txt"), "w") as fp:
            fp.write("This file is not a valid job.\n\nWhat is wrong:\n  not valid JSON: "
                     "broken\n\nWhat to do:\n  Fix it.\n")

    def test_list(self):
        self.populate()
        out = self.ok("list")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "FOLDER", "TO", "KIND", "APPOINTMENT",
                                            "ATTEMPTS", "NEXT/WHEN"])
        names = [l.split()[0] for l in lines[1:]]
        self.assertEqual(names, ["1.new", "2.bad", "3.deferred", "4.hold"])
        col = lines[0].index("NEXT/WHEN")
        self.assertTrue(all(len(l) >= col for l in lines[1:]))
        row = {l.split()[0]: l for l in lines[1:]}
        self.assertIn("Tue Dec 03 09:30", row["1.new"])  # the job's own offset
        self.assertIn("in 12 min", row["3.deferred"])
        self.assertIn("(unreadable: version: 2 is not supported", row["2.bad"])
        out = self.ok("list", "--sent", "--failed")
        names = [l.split()[0] for l in out.splitlines()[1:]]
        self.assertEqual(names, ["5.sent", "6.failed"])
        self.assertIn("3 h ago", out)
        self.assertIn("The address does not exist.", out)
        out = self.ok("list", "--corrupt")
        self.assertIn("not valid JSON: broken", out)
        out = self.ok("list", "--all")
        self.assertEqual(len(out.splitlines()), 8)
        self.assertNotIn("reason.txt", out)
        self.assertNotIn(".hidden", out)
        self.assertEqual(self.ok("list", "--active"), "")

    def test_list_json(self):
        self.populate()
        rows = json.loads(self.ok("list", "--all", "--json"))
        keys = ["name", "folder", "to", "kind", "id", "appointment", "attempts",
                "next_attempt", "reason", "mtime"]
        self.assertEqual([r["name"] for r in rows], ["1.new", "2.bad", "3.deferred", "4.hold",
                                                     "5.sent", "6.failed", "7.corrupt"])
        for r in rows:
            self.assertEqual(list(r), keys)
            self.assertRegex(r["mtime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        by = {r["name"]: r for r in rows}
        self.assertEqual(by["1.new"]["to"], "jane@example.com")
        self.assertEqual(by["1.new"]["appointment"], "2030-12-03T09:30:00-06:00")
        self.assertEqual(by["1.new"]["attempts"], 0)
        self.assertIsNone(by["1.new"]["next_attempt"])
        self.assertRegex(by["3.deferred"]["next_attempt"], r"Z$")
        self.assertEqual(by["3.deferred"]["attempts"], 1)
        self.assertEqual(by["6.failed"]["reason"], "The address does not exist.")
        self.assertEqual(by["7.corrupt"]["reason"], "not valid JSON: broken")
        self.assertIsNone(by["7.corrupt"]["to"])
        self.assertIsNone(by["2.bad"]["attempts"])
        self.assertEqual(json.loads(self.ok("list", "--json", "--active")), [])

    def test_show(self):
        self.populate()
        out = self.ok("show", "6.failed")
        for want in ["6.failed", "failed/", "Jane Doe <jane@example.com>", "reminder",
                     "appt-88213-reminder-24h", "Tue 2030-12-03 09:30 -06:00",
                     "smtp.example.com:587", "rcpt", "550", "recipient-invalid",
                     "5.1.1 no such user", "The address does not exist.",
                     "What to do:", "Phone the patient."]:
            self.assertIn(want, out)
        out = self.ok("show", "5.sent")
        self.assertIn("<m5@example.com>", out)
        j = json.loads(self.ok("show", "--json", "6.failed"))
        self.assertEqual(j["folder"], "failed")
        self.assertEqual(j["id"], "appt-88213-reminder-24h")
        self.assertEqual(len(j["spool"]["attempts"]), 1)
        r = self.run_spool("show", "--message", "5.sent")
        self.assertEqual((r.returncode, r.stdout), (0, b"Subject: hi\r\n\r\nexactly this\r\n"))
        self.fails(EX_NOINPUT, "show", "--message", "6.failed")
        self.assertIn("not valid JSON: broken", self.ok("show", "7.corrupt"))
        self.assertEqual(json.loads(self.ok("show", "--json", "7.corrupt"))["folder"], "corrupt")
        self.assertIn("(unreadable: version: 2",
                      self.run_spool("show", "2.bad").stdout.decode())
        self.assertEqual(self.fails(EX_NOINPUT, "show", "nope"),
                         "spool show: nope: no such job in the spool %s\n" % self.spool)
        for bad in ["../new/1.new", "/etc/passwd", ".hidden", "6.failed.reason.txt"]:
            err = self.fails(EX_USAGE, "show", bad)
            self.assertIn("is not a job name", err)

    def test_status(self):
        st = json.loads(self.ok("status", "--json"))
        self.assertEqual(st["folders"], {f: 0 for f in FOLDERS})
        self.assertIsNone(st["oldest_waiting"])
        self.assertIsNone(st["next_attempt"])
        self.populate()
        old = time.time() - 5 * 3600
        self.put("hold", "0.old", job(), mtime=old)
        self.put("tmp", "9.tmp", job())
        st = json.loads(self.ok("status", "--json"))
        self.assertEqual(list(st), ["folders", "oldest_waiting", "next_attempt", "account",
                                    "budget", "verify"])  # account, budget: test_account_cli.py
        self.assertIsNone(st["verify"])  # no [verify]: test_verify.py
        self.assertEqual(st["folders"], {"tmp": 1, "new": 2, "active": 0, "deferred": 1,
                                         "hold": 2, "sent": 1, "failed": 1, "corrupt": 1})
        self.assertEqual(st["oldest_waiting"]["name"], "0.old")
        self.assertAlmostEqual(st["oldest_waiting"]["age_seconds"], 5 * 3600, delta=60)
        mt = os.stat(self.path("deferred", "3.deferred")).st_mtime
        self.assertEqual(st["next_attempt"],
                         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(mt))))
        out = self.ok("status")
        self.assertIn("0.old", out)
        self.assertIn("in 12 min", out)

    # --- moves -----------------------------------------------------------------

    def test_hold_release(self):
        self.populate()
        self.assertEqual(self.ok("hold", "1.new"), "1.new: new/ -> hold/\n")
        self.assertEqual(self.ok("hold", "1.new"), "1.new: already in hold/\n")
        mt = os.stat(self.path("deferred", "3.deferred")).st_mtime
        self.assertEqual(self.ok("hold", "3.deferred"), "3.deferred: deferred/ -> hold/\n")
        self.assertEqual(os.stat(self.path("hold", "3.deferred")).st_mtime, mt)
        self.assertEqual(self.fails(EX_DATAERR, "hold", "6.failed"),
                         "spool hold: 6.failed: is in failed/, not new/ or deferred/ "
                         "(only waiting jobs are held)\n")
        self.assertEqual(self.ok("release", "1.new"), "1.new: hold/ -> new/\n")
        self.fails(EX_DATAERR, "release", "1.new")
        self.fails(EX_NOINPUT, "hold", "nope")
        self.assertEqual(self.files("hold"), ["3.deferred", "4.hold"])
        self.assertIn("1.new", self.files("new"))

    def test_active_and_locked(self):
        self.put("active", "8.active", job())
        self.assertEqual(self.fails(EX_TEMPFAIL, "hold", "8.active"),
                         "spool hold: 8.active: is being sent right now (active/); "
                         "try again in a moment\n")
        self.fails(EX_TEMPFAIL, "delete", "8.active")
        self.put("new", "9.new", job())
        with open(self.path("new", "9.new")) as fp:  # as spoold holds it while claiming
            fcntl.flock(fp, fcntl.LOCK_EX)
            self.fails(EX_TEMPFAIL, "hold", "9.new")
            self.fails(EX_TEMPFAIL, "delete", "9.new")
        self.assertEqual(self.files("new"), ["9.new"])
        self.assertEqual(self.files("active"), ["8.active"])

    def test_retry(self):
        self.populate()
        out = self.ok("retry", "6.failed")
        self.assertEqual(out, "6.failed: failed/ -> new/\n")
        self.assertEqual(self.files("failed"), [])
        j = self.load("new", "6.failed")
        self.assertEqual(len(j["spool"]["attempts"]), 1)
        self.assertEqual(j["spool"]["previous_reason"], "The address does not exist.")
        self.assertNotIn("reason", j["spool"])
        self.assertNotIn("next_attempt", j["spool"])
        self.assertRegex(j["spool"]["retried"], r"Z$")
        self.assertEqual(j["id"], "appt-88213-reminder-24h")
        self.assertEqual(self.fails(EX_DATAERR, "retry", "5.sent"),
                         "spool retry: 5.sent: is in sent/, not failed/ or hold/\n")
        self.fails(EX_NOINPUT, "retry", "nope")
        self.put("failed", "10.failed", job())
        out = self.ok("retry", "--all")
        self.assertEqual(out, "4.hold: hold/ -> new/\n10.failed: failed/ -> new/\n")
        self.assertEqual(self.files("hold") + self.files("failed"), [])
        self.assertEqual(self.ok("retry", "--all"),
                         "nothing to retry: failed/ and hold/ are empty\n")

    def test_delete(self):
        self.populate()
        self.assertEqual(self.ok("delete", "6.failed"),
                         "6.failed: removed failed/6.failed, failed/6.failed.reason.txt\n")
        self.assertEqual(self.ok("delete", "5.sent", "1.new"),
                         "5.sent: removed sent/5.sent, sent/5.sent.eml.gz\n"
                         "1.new: removed new/1.new\n")
        self.assertEqual(self.files("failed") + self.files("sent"), [])
        self.fails(EX_NOINPUT, "delete", "6.failed")
        self.fails(EX_USAGE, "delete", "../spool")

    # --- configuration and output errors ------------------------------------

    def test_config(self):
        self.assertEqual(self.ok("status", "--json", conf=False,
                                 env={"SPOOLD_CONF": self.conf})[0], "{")
        missing = os.path.join(self.dir, "none.conf")
        self.assertEqual(self.fails(EX_CONFIG, "-c", missing, "list", conf=False),
                         "spool list: %s: No such file or directory\n" % missing)
        with open(self.conf, "a") as fp:
            fp.write("bogus = 1\n")
        self.assertIn('unknown key "bogus"', self.fails(EX_CONFIG, "list"))
        with open(self.conf, "w") as fp:
            fp.write("spool_dir = %s/nowhere\nuser = %s\n" % (
                self.dir, pwd.getpwuid(os.geteuid()).pw_name))
        self.fails(EX_CONFIG, "status")

    @unittest.skipUnless(os.path.exists("/dev/full"), "no /dev/full")
    def test_stdout_full(self):
        self.populate()
        with open("/dev/full", "w") as full:
            r = subprocess.run([BIN, "-c", self.conf, "list", "--all"], stdout=full,
                               stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, EX_IOERR)
        self.assertIn(b"standard output", r.stderr)


if __name__ == "__main__":
    unittest.main()
