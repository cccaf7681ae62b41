"""test_render - `spool render` against golden messages, and its other uses.

Every tests/data/golden/NAME.json is rendered with `spool render FILE --now
2026-11-30T08:00:00-06:00` (with NAME.conf as the configuration when there
is one, else DEFAULT_CONF) using the repository's templates/
(SPOOLD_TEMPLATES), and compared with NAME.eml after normalising what
changes from run to run: the MIME boundaries, the Date header and the
event's DTSTAMP (the calendar part is compared decoded, so a difference is
readable).  The cases cover both kinds, both languages, a half-hour time
zone (Asia/Kolkata), non-ASCII names and subjects, the iCalendar event and
both List-Unsubscribe forms.

Regenerate the goldens after a deliberate change of templates or code, then
read the diff (git diff tests/data/golden) and the messages themselves:

    SPOOLD_GOLDEN_UPDATE=1 SPOOLD_BIN=build/plain /usr/bin/python3 -m unittest tests/e2e/test_render.py

Also here: --text/--html/--ics print exactly the decoded parts, a job by
NAME from the spool, a missing or broken template, `spool render
--template FILE --data JSON` for template authors, and spoold filing a job
whose message cannot be made into failed/ with the reason for staff.

Run: SPOOLD_BIN=build/plain /usr/bin/python3 -m unittest tests/e2e/test_render.py
"""
import base64
import difflib
import email.parser
import email.policy
import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BIN = os.environ.get("SPOOLD_BIN", "build/plain")
SPOOL = os.path.join(_BIN if os.path.isabs(_BIN) else os.path.join(REPO, _BIN), "spool", "spool")
TEMPLATES = os.path.join(REPO, "templates")
GOLDEN = os.path.join(REPO, "tests", "data", "golden")
UPDATE = os.environ.get("SPOOLD_GOLDEN_UPDATE") == "1"
NOW = "2026-11-30T08:00:00-06:00"
EX_USAGE, EX_DATAERR, EX_CONFIG = 64, 65, 78
FOLDERS = ["tmp", "new", "active", "deferred", "hold", "sent", "failed", "corrupt", "ids"]

DEFAULT_CONF = """\
spool_dir = @SPOOL_DIR@
user = @USER@
timezone = America/Chicago

[relay]
host = smtp.example.com
tls = none
from = office@springfield-chiro.example
from_name = Springfield Chiropractic
"""

BOUNDARY = re.compile(rb"=_spoold_[0-9a-f]{32}")


def parse(raw):
    return email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)


def normalise(raw):
    """raw with boundaries numbered, Date and DTSTAMP blanked, and the
    base64 calendar part replaced by its decoded, DTSTAMP-blanked text."""
    seen = {}

    def number(m):
        return seen.setdefault(m.group(0), b"=_spoold_BOUNDARY%d" % (len(seen) + 1))

    out = BOUNDARY.sub(number, raw)
    out = re.sub(rb"(?m)^Date: [^\r\n]*\r\n", b"Date: (normalised)\r\n", out, count=1)
    for part in parse(raw).walk():
        if part.get_content_type() == "text/calendar":
            encoded = part.get_payload().encode("ascii")
            text = part.get_payload(decode=True)
            text = re.sub(rb"(?m)^DTSTAMP:[0-9TZ]+\r$", b"DTSTAMP:(normalised)\r", text)
            out = out.replace(encoded, b"(decoded)\r\n" + text)
    return out


class RenderTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="spool-render-")
        self.spool = os.path.join(self.dir, "spool")
        for f in FOLDERS:
            os.makedirs(os.path.join(self.spool, f))
        self.user = pwd.getpwuid(os.geteuid()).pw_name

    def tearDown(self):
        shutil.rmtree(self.dir)

    def conf(self, text=DEFAULT_CONF, name="spoold.conf"):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("@SPOOL_DIR@", self.spool).replace("@USER@", self.user))
        os.chmod(path, 0o644)
        return path

    def spool_cmd(self, *args, conf=None, stdin=b"", env=None):
        e = dict(os.environ)
        e.pop("SPOOLD_CONF", None)
        e.pop("TZ", None)
        e["SPOOLD_TEMPLATES"] = TEMPLATES
        e.update(env or {})
        argv = [SPOOL, "-c", conf or self.conf()] + list(args)
        return subprocess.run(argv, input=stdin, capture_output=True, env=e, timeout=30)

    def render(self, *args, **kw):
        r = self.spool_cmd("render", *args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.assertEqual(r.stderr, b"")
        return r.stdout


class TestGolden(RenderTestCase):
    def cases(self):
        names = sorted(glob.glob(os.path.join(GOLDEN, "*.json")))
        self.assertGreaterEqual(len(names), 6, "golden cases are missing")
        return names

    def render_case(self, job, *extra):
        """The case's output, or None (after skipping the subtest) when the
        configuration has a key this build does not know yet."""
        conf_file = job[:-5] + ".conf"
        if os.path.exists(conf_file):
            with open(conf_file, encoding="utf-8") as f:
                conf = self.conf(f.read(), os.path.basename(conf_file))
        else:
            conf = self.conf()
        r = self.spool_cmd("render", job, "--now", NOW, *extra, conf=conf)
        if r.returncode == EX_CONFIG and b"unknown key" in r.stderr:
            self.skipTest("configuration not supported by this build: "
                          + r.stderr.decode(errors="replace").strip())
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        return r.stdout

    def test_golden(self):
        for job in self.cases():
            name = os.path.basename(job)[:-5]
            with self.subTest(case=name):
                out = self.render_case(job)
                eml = job[:-5] + ".eml"
                if UPDATE:
                    with open(eml, "wb") as f:
                        f.write(out)
                    continue
                self.assertTrue(os.path.exists(eml),
                                f"{eml} is missing: run with SPOOLD_GOLDEN_UPDATE=1")
                with open(eml, "rb") as f:
                    want = normalise(f.read())
                got = normalise(out)
                if got != want:
                    diff = "".join(difflib.unified_diff(
                        want.decode("utf-8", "replace").splitlines(True),
                        got.decode("utf-8", "replace").splitlines(True),
                        eml, "spool render " + os.path.basename(job)))
                    self.fail("differs from the golden message "
                              "(SPOOLD_GOLDEN_UPDATE=1 to accept):\n" + diff)

    def test_golden_shape(self):
        """Every case parses without defects; headers and parts as expected;
        --text/--html/--ics print exactly the decoded parts."""
        for job in self.cases():
            name = os.path.basename(job)[:-5]
            with self.subTest(case=name):
                with open(job, encoding="utf-8") as f:
                    j = json.load(f)
                out = self.render_case(job)
                msg = parse(out)
                self.assertEqual(msg.defects, [])
                for part in msg.walk():
                    self.assertEqual(part.defects, [], part.get_content_type())
                self.assertTrue(out.endswith(b"\r\n"))
                self.assertNotIn(b"\n", out.replace(b"\r\n", b""))
                head = out.split(b"\r\n\r\n", 1)[0]
                for line in head.split(b"\r\n"):
                    self.assertLessEqual(len(line), 998)
                    self.assertTrue(all(32 <= c < 127 or c == 9 for c in line), line)
                self.assertEqual(msg["To"].addresses[0].addr_spec, j["to"]["email"])
                self.assertEqual(msg["To"].addresses[0].display_name, j["to"]["name"])
                self.assertEqual(msg["X-Spool-Job"], name + ".json")
                self.assertEqual(msg["Message-ID"],
                                 "<spoold.%s.json@%s>" % (name, msg["From"].addresses[0].domain))
                types = [p.get_content_type() for p in msg.walk()]
                ics = "text/calendar" in types
                self.assertIn(types, (
                    ["multipart/alternative", "text/plain", "text/html"],
                    ["multipart/mixed", "multipart/alternative", "text/plain", "text/html",
                     "text/calendar"]))
                if j["kind"] == "recall":
                    self.assertIn("List-Unsubscribe", msg)
                    self.assertTrue(msg["List-Unsubscribe"].startswith("<mailto:"))
                else:
                    self.assertNotIn("List-Unsubscribe", msg)
                for opt, ctype in (("--text", "text/plain"), ("--html", "text/html"),
                                   ("--ics", "text/calendar")):
                    if ctype == "text/calendar" and not ics:
                        continue
                    part = next(p for p in msg.walk() if p.get_content_type() == ctype)
                    want = part.get_payload(decode=True)
                    if ctype != "text/calendar":
                        want = want.replace(b"\r\n", b"\n")
                    self.assertEqual(self.render_case(job, opt), want, opt)

    def test_kolkata_date_header(self):
        job = os.path.join(GOLDEN, "reminder-kolkata.json")
        with open(job[:-5] + ".conf", encoding="utf-8") as f:
            conf = self.conf(f.read())
        out = self.render(job, "--now", NOW, conf=conf)
        msg = parse(out)
        self.assertEqual(msg["Date"], "Mon, 30 Nov 2026 19:30:00 +0530")
        text = self.render(job, "--now", NOW, "--text", conf=conf).decode()
        self.assertIn("9:00 PM", text)  # 09:30 -06:00 is 21:00 in Kolkata


class TestRenderVerb(RenderTestCase):
    JOB = {"version": 1, "id": "appt-1-reminder-24h", "kind": "reminder",
           "to": {"name": "Jane Doe", "email": "jane@example.com"},
           "patient": {"first_name": "Jane"},
           "appointment": {"start": "2026-12-01T09:30:00-06:00", "minutes": 30},
           "practice": {"name": "Springfield Chiropractic"}}

    def put_spool(self, name, job):
        with open(os.path.join(self.spool, "new", name), "w", encoding="utf-8") as f:
            json.dump(job, f)

    def test_by_name(self):
        name = "1764578400.M123456P45Q1.host"
        self.put_spool(name, self.JOB)
        msg = parse(self.render(name, "--now", NOW))
        self.assertEqual(msg["Message-ID"], "<spoold.%s@springfield-chiro.example>" % name)
        self.assertEqual(msg["X-Spool-Job"], name)
        self.assertEqual(msg["Subject"], "Reminder: your appointment tomorrow at 9:30 AM")

    def test_recorded_message_id_wins(self):
        name = "1764578400.M1P1Q1.host"
        job = dict(self.JOB, spool={"version": 1, "message_id": "<earlier@example.com>"})
        self.put_spool(name, job)
        self.assertEqual(parse(self.render(name))["Message-ID"], "<earlier@example.com>")

    def test_no_such_job(self):
        r = self.spool_cmd("render", "1764578400.M9P9Q9.host")
        self.assertEqual(r.returncode, 66, r.stderr)

    def test_missing_template(self):
        path = os.path.join(self.dir, "welcome.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(dict(self.JOB, kind="welcome"), f)
        r = self.spool_cmd("render", path)
        self.assertEqual(r.returncode, EX_DATAERR)
        err = r.stderr.decode()
        self.assertIn("spool render: welcome.json: the message could not be made: "
                      "no template welcome/subject (tried ", err)
        self.assertIn(os.path.join(TEMPLATES, "welcome", "subject"), err)

    def test_part_absent(self):
        path = os.path.join(self.dir, "job.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.JOB, f)
        r = self.spool_cmd("render", path, "--ics")
        self.assertEqual(r.returncode, EX_DATAERR)
        self.assertIn(b"no text/calendar part", r.stderr)

    def test_usage(self):
        for args in (["--text", "--html", "x.json"], [], ["a.json", "b.json"],
                     ["--template", "t"], ["x.json", "--now", "tomorrow"],
                     ["--template", "t", "--data", "d", "--text"]):
            r = self.spool_cmd("render", *args)
            self.assertEqual(r.returncode, EX_USAGE, (args, r.stderr))
        r = self.spool_cmd("render", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"usage: spool render JOB", r.stdout)

    def test_template_verb(self):
        d = self.dir
        with open(os.path.join(d, "t.mustache"), "w") as f:
            f.write("Hi {{name}}!\n{{> sig}}")
        os.mkdir(os.path.join(d, "parts"))
        with open(os.path.join(d, "parts", "sig.mustache"), "w") as f:
            f.write("-- {{practice}}\n")
        with open(os.path.join(d, "data.json"), "w") as f:
            json.dump({"name": "<Ana & Bo>", "practice": "Peña"}, f)
        t, data = os.path.join(d, "t.mustache"), os.path.join(d, "data.json")
        r = self.spool_cmd("render", "--template", t, "--data", data,
                           "--partials", os.path.join(d, "parts"))
        self.assertEqual((r.returncode, r.stdout), (0, "Hi <Ana & Bo>!\n-- Peña\n".encode()))
        r = self.spool_cmd("render", "--template", t, "--data", "-", "--html",
                           stdin=b'{"name": "<b>"}')
        self.assertEqual((r.returncode, r.stdout), (0, b"Hi &lt;b&gt;!\n"))

    def test_template_verb_errors(self):
        t = os.path.join(self.dir, "bad.mustache")
        with open(t, "w") as f:
            f.write("line one\n  {{#items}}never closed\n")
        data = os.path.join(self.dir, "d.json")
        with open(data, "w") as f:
            f.write("{}")
        r = self.spool_cmd("render", "--template", t, "--data", data)
        self.assertEqual(r.returncode, EX_DATAERR)
        line = r.stderr.decode()
        self.assertRegex(line, r"^%s:2:3: .+\n$" % re.escape(t))
        self.assertEqual(r.stdout, b"")
        with open(data, "w") as f:
            f.write("{oops")
        with open(t, "w") as f:
            f.write("ok")
        r = self.spool_cmd("render", "--template", t, "--data", data)
        self.assertEqual(r.returncode, EX_DATAERR)
        self.assertIn(b"not valid JSON", r.stderr)
        r = self.spool_cmd("render", "--template", t + ".none", "--data", data)
        self.assertEqual(r.returncode, 66)


class TestDeliverTemplateError(harness.E2ETestCase):
    def test_broken_template_fails_job(self):
        """spoold: a template error sends the job to failed/ with the reason
        and what to do; nothing reaches the server."""
        tdir = os.path.join(self.tmp, "templates")
        os.makedirs(os.path.join(tdir, "reminder"))
        with open(os.path.join(tdir, "reminder", "subject"), "w") as f:
            f.write("Reminder\n")
        with open(os.path.join(tdir, "reminder", "body.txt"), "w") as f:
            f.write("Hello\n{{#when}}never closed\n")
        srv = self.start_server(tls="none")
        conf = self.write_conf(srv)
        d = harness.Daemon([harness.SPOOLD, "-f", "-c", conf], "spoold",
                           env=dict(os.environ, SPOOLD_TEMPLATES=tdir))
        self.daemons.append(d)
        d.wait_log(r"spool \S+: \d+ jobs waiting", timeout=15)
        name = self.submit(harness.make_job("appt-9-reminder-24h"))
        self.wait_in("failed", name)
        d.wait_log(r"job=%s .*status=failed category=message" % re.escape(name))
        job = self.read_job("failed", name)
        self.assertRegex(job["spool"]["reason"],
                         r"^the message could not be made: template error: "
                         + re.escape(os.path.join(tdir, "reminder", "body.txt")) + r":2:\d+: ")
        reason = self.read_text("failed", name + ".reason.txt")
        self.assertIn("the message could not be made", reason)
        self.assertIn("Ask your IT contact to fix the template; then run spool retry "
                      + name, reason)
        self.assertEqual(srv.count(), 0)


if __name__ == "__main__":
    unittest.main()
