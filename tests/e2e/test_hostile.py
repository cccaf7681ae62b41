"""test_hostile - hostile text in every string member of a job, through `spool render`.

Each hostile string (CR/LF header injection, quotes, angle brackets,
backslashes, bidirectional overrides, a 1000-character word, encoded-word
lookalikes, MIME boundary lookalikes, "." alone on a line, a 2000-character
practice name, emoji, combining marks, C0/C1 controls, ...) is put into
every string member at once: to.name, patient.first_name/last_name,
practice.name/phone/address, appointment.provider/location and data.note.
Every message is read with Python's email package (policy.default) and
must have: no defects in any part; exactly the expected header fields and
MIME parts; a decoded Subject and To name equal to the cleaned input (C0
controls and DEL as one space, bidirectional controls removed, spaces
collapsed, trimmed: rfc2047_clean); only printable ASCII, CRLF line ends
and lines of at most 998 characters in the header section; and the job text
unchanged inside the text part (line ends made CRLF, no white space before
a line end).

Two sets of templates: probe templates written here that print every
member in the subject and both bodies (SPOOLD_TEMPLATES), and the
repository's own templates/.  Jobs the parser must refuse (raw CR or LF in
a string, \\u0000, Latin-1 bytes, an overlong or surrogate sequence, a byte
order mark) are refused with the exact reason, byte offset included.

Run: SPOOLD_BIN=build/plain /usr/bin/python3 -m unittest tests/e2e/test_hostile.py
"""
import email.parser
import email.policy
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BIN = os.environ.get("SPOOLD_BIN", "build/plain")
SPOOL = os.path.join(_BIN if os.path.isabs(_BIN) else os.path.join(REPO, _BIN), "spool", "spool")
EX_DATAERR, EX_CONFIG = 65, 78

HOSTILE = [
    ("crlf-bcc", "Jane\r\nBcc: victim@example.com"),
    ("lf-bcc", "Jane\nBcc: victim@example.com"),
    ("cr-bcc", "Jane\rBcc: victim@example.com"),
    ("crlf-crlf-body", "x\r\n\r\nInjected body"),
    ("angle-quote", 'Dr. <evil@example.com>, "Quoted" \\ Name'),
    ("specials", '">< ,;: @ \\\\ \\" ()[]'),
    ("backslash-end", "trailing backslash \\"),
    ("q-lookalike", "=?utf-8?q?=41=42?= lookalike"),
    ("b-lookalike", "=?UTF-8?B?SGk=?="),
    ("broken-ew", "=?utf-8?q?unterminated"),
    ("ew-start", "=?"),
    ("bidi-rlo", "Tom \u202eevil\u202c txt.exe"),
    ("bidi-isolates", "\u2066iso\u2069 \u2067rtl\u2069 \u2068fs\u2069 \u202aLRE\u202b"),
    ("long-word", "W" * 1000),
    ("long-practice", ("Springfield Family Chiropractic and Wellness " * 45).strip()),
    ("latin-name", "José Álvarez Núñez"),
    ("emoji", "\U0001f600 \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1fa\U0001f1f8"),
    ("combining", "e\u0301\u0301\u0301 Zalgo a\u030a\u030a n\u0303"),
    ("dot-line", "line one\n.\nline three"),
    ("dot-alone", "."),
    ("boundary-lookalike", "\r\n\r\n--=_spoold_00\r\nContent-Type: text/html\r\n\r\n<script>x</script>"),
    ("dash-lines", "--\n--=_spoold_\n--boundary--\n--"),
    ("from-lines", "From here\nFrom there\n>From quoted"),
    ("c0-controls", "tab\there\fform\vvt\x7fdel\x1bescape\x08bs"),
    ("c1-and-separators", "C1 \x85 nel \x9b csi \u2028 ls \u2029 ps"),
    ("nbsp-bom", "nbsp\u00a0space \ufeff bom \u200b zwsp"),
    ("spaces", "   leading and trailing   "),
    ("empty", ""),
    ("cjk-arabic", "中文名字 العربية עברית"),
    ("ics-specials", "a;b,c:d\\e\nf"),
    ("html", "100% <b>bold</b> & 'single' \"double\""),
    ("address-like", "x@y.z"),
    ("fake-headers", "Subject: fake\r\nX-Evil: 1\r\nContent-Type: text/html"),
    ("escaped-literal", "\\r\\n literally"),
    ("long-nonascii", "Ñandú " * 120),
    ("percent-url", "%0d%0aBcc:%20x@y https://evil.example/?a=<b>"),
]

MEMBERS = [("to", "name"), ("patient", "first_name"), ("patient", "last_name"),
           ("practice", "name"), ("practice", "phone"), ("practice", "address"),
           ("appointment", "provider"), ("appointment", "location"), ("data", "note")]

ALL = ("{{to.name}}|{{patient.first_name}}|{{patient.last_name}}|{{practice.name}}|"
       "{{practice.phone}}|{{practice.address}}|{{appointment.provider}}|"
       "{{appointment.location}}|{{data.note}}")
PROBE = {
    "reminder/subject": "Reminder for {{to.name}} at {{practice.name}}, {{when.date_short}}\n",
    "reminder/body.txt": "Text " + ALL + "\n{{when.time}}\n",
    "reminder/body.html": "<p>HTML " + ALL + "</p>\n",
    "recall/subject": "{{patient.first_name}}: time for a visit\n",
    "recall/body.txt": "{{> hello}}Recall " + ALL + "\n",
    "partials/hello.mustache": "Hello {{patient.first_name}}\n",
}

CONF = """\
spool_dir = {spool}
user = {user}
timezone = Asia/Kolkata
[relay]
host = smtp.example.com
tls = none
from = office@springfield-chiro.example
from_name = {from_name}
"""

BASE_FIELDS = ["From", "To", "Subject", "Date", "Message-ID", "X-Spool-Job", "Auto-Submitted",
               "MIME-Version", "Content-Type"]


def clean(s):
    """rfc2047_clean: C0, DEL and C1 controls as one space, bidirectional
    controls removed, runs of spaces as one, trimmed."""
    out = []
    for ch in s:
        if "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069":
            continue
        if ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f or ch == " ":
            if out and out[-1] != " ":
                out.append(" ")
            continue
        out.append(ch)
    return "".join(out).strip(" ")


def phrase(s):
    """A display name as a reader sees it: words of the cleaned text (a
    phrase is a sequence of words; readers fold any white space)."""
    return " ".join(clean(s).split())


def collapse(s):
    """tmplset_collapse: ASCII white space runs as one space, trimmed."""
    return re.sub(r"[ \t\r\n\v\f]+", " ", s).strip(" ")


def canon(s):
    """mime.c's text: line ends CRLF, no white space before a line end."""
    s = re.sub(r"\r\n|\r|\n", "\n", s)
    s = re.sub(r"[ \t]+\n", "\n", s)
    return s.replace("\n", "\r\n")


def job(kind, s):
    j = {"version": 1, "id": "appt-7-reminder-24h", "kind": kind,
         "to": {"email": "jane@example.com"},
         "patient": {"first_name": s, "last_name": s},
         "practice": {"name": s, "phone": s, "address": s},
         "data": {"note": s}, "locale": "en"}
    if len(s.encode()) <= 200:  # the parser's limit for to.name
        j["to"]["name"] = s
    if kind == "reminder":
        j["appointment"] = {"start": "2026-12-01T09:30:00-06:00", "minutes": 30,
                            "provider": s, "location": s}
    return j


class HostileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="spool-hostile-")
        cls.probe = os.path.join(cls.dir, "probe")
        for rel, text in PROBE.items():
            path = os.path.join(cls.probe, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        cls.user = pwd.getpwuid(os.geteuid()).pw_name

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def write_conf(self, from_name="Springfield Chiropractic", message=""):
        path = os.path.join(self.dir, "spoold.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(CONF.format(spool=os.path.join(self.dir, "spool"), user=self.user,
                                from_name=from_name) + message)
        os.chmod(path, 0o644)
        return path

    def render(self, name, data, templates, conf):
        path = os.path.join(self.dir, name + ".json")
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else json.dumps(data).encode())
        env = dict(os.environ, SPOOLD_TEMPLATES=templates)
        env.pop("SPOOLD_CONF", None)
        return subprocess.run([SPOOL, "-c", conf, "render", path, "--now",
                               "2026-11-30T08:00:00-06:00"],
                              capture_output=True, env=env, timeout=30)

    def check(self, raw, j, fields, parts, subject=None):
        """The checks every message must pass; returns the parsed message."""
        head, sep, _ = raw.partition(b"\r\n\r\n")
        self.assertTrue(sep)
        self.assertTrue(raw.endswith(b"\r\n"))
        for line in head.split(b"\r\n"):
            self.assertLessEqual(len(line), 998)
            self.assertTrue(all(32 <= c < 127 or c == 9 for c in line), line[:100])
        self.assertNotIn(b"\r", head.replace(b"\r\n", b""))
        self.assertNotIn(b"\n", head.replace(b"\r\n", b""))
        msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
        self.assertEqual(msg.defects, [])
        for part in msg.walk():
            self.assertEqual(part.defects, [], part.get_content_type())
        self.assertEqual(sorted(msg.keys()), sorted(fields))
        self.assertEqual([p.get_content_type() for p in msg.walk()], parts)
        to = msg["To"].addresses
        self.assertEqual(len(to), 1)
        self.assertEqual(to[0].addr_spec, j["to"]["email"])
        self.assertEqual(" ".join(to[0].display_name.split()), phrase(j["to"].get("name", "")))
        self.assertEqual(msg["From"].addresses[0].addr_spec, "office@springfield-chiro.example")
        if subject is not None:
            self.assertEqual(str(msg["Subject"]), clean(collapse(subject)))
        return msg

    def text_of(self, msg, ctype):
        part = next(p for p in msg.walk() if p.get_content_type() == ctype)
        return part.get_payload(decode=True).decode("utf-8")

    def test_probe_templates(self):
        conf = self.write_conf()
        for label, s in HOSTILE:
            for kind in ("reminder", "recall"):
                with self.subTest(string=label, kind=kind):
                    j = job(kind, s)
                    r = self.render(label, j, self.probe, conf)
                    self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
                    to_name = j["to"].get("name", "")
                    if kind == "reminder":
                        subject = f"Reminder for {to_name} at {s}, Tue, Dec 1"
                        fields = BASE_FIELDS
                        parts = ["multipart/alternative", "text/plain", "text/html"]
                    else:
                        subject = f"{s}: time for a visit"
                        fields = BASE_FIELDS + ["List-Unsubscribe",
                                                "Content-Transfer-Encoding"]
                        parts = ["text/plain"]
                    msg = self.check(r.stdout, j, fields, parts, subject)
                    text = self.text_of(msg, "text/plain")
                    self.assertIn(canon(s), text)
                    self.assertEqual(text.count("|"), 8 + s.count("|") * 9)
                    if kind == "reminder":
                        html = self.text_of(msg, "text/html")
                        self.assertNotIn("<script>", html)
                        self.assertNotIn("<b>", html)
                        self.assertIn("9:00 PM", text)

    def test_probe_extras(self):
        """The iCalendar event and both unsubscribe URIs with hostile text
        (skipped while the configuration lacks [message])."""
        conf = self.write_conf(message="[message]\nics = yes\nunsubscribe_url = "
                                       "https://example.com/u?p=1&x=%3C\n")
        for label, s in HOSTILE:
            for kind in ("reminder", "recall"):
                with self.subTest(string=label, kind=kind):
                    j = job(kind, s)
                    r = self.render(label, j, self.probe, conf)
                    if r.returncode == EX_CONFIG and b"unknown key" in r.stderr:
                        self.skipTest("no [message] in this build's configuration: "
                                      + r.stderr.decode(errors="replace").strip())
                    self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
                    if kind == "reminder":
                        fields = BASE_FIELDS
                        parts = ["multipart/mixed", "multipart/alternative", "text/plain",
                                 "text/html", "text/calendar"]
                    else:
                        fields = BASE_FIELDS + ["List-Unsubscribe", "List-Unsubscribe-Post",
                                                "Content-Transfer-Encoding"]
                        parts = ["text/plain"]
                    msg = self.check(r.stdout, j, fields, parts)
                    if kind == "recall":
                        self.assertEqual(
                            msg["List-Unsubscribe"],
                            "<mailto:office@springfield-chiro.example?subject=unsubscribe>, "
                            "<https://example.com/u?p=1&x=%3C>")
                        continue
                    cal = self.text_of(msg, "text/calendar")
                    self.assertEqual(cal.count("BEGIN:VEVENT"), 1)
                    self.assertIn("DTSTART;TZID=Asia/Kolkata:20261201T210000\r\n", cal)
                    for line in cal.split("\r\n")[:-1]:
                        self.assertLessEqual(len(line.encode()), 75, line)
                        self.assertFalse(re.search(r"[\x00-\x08\x0a-\x1f\x7f]", line), line)
                    unfolded = cal.replace("\r\n ", "")
                    names = [ln.split(":")[0].split(";")[0] for ln in unfolded.split("\r\n")]
                    self.assertEqual(names.count("SUMMARY"), 1)
                    self.assertEqual(names.count("END"), names.count("BEGIN"))

    def test_repo_templates(self):
        conf = self.write_conf(from_name="Clínica \u202eevil\tBcc: x@y, \"Peña\" <z@w>")
        templates = os.path.join(REPO, "templates")
        for label, s in HOSTILE:
            for kind in ("reminder", "recall"):
                with self.subTest(string=label, kind=kind):
                    j = job(kind, s)
                    r = self.render(label, j, templates, conf)
                    self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
                    fields = BASE_FIELDS + (["List-Unsubscribe"] if kind == "recall" else [])
                    subject = None
                    if kind == "recall":
                        subject = "Time to schedule your next visit" + (f" at {s}" if s else "")
                    msg = self.check(r.stdout, j, fields,
                                     ["multipart/alternative", "text/plain", "text/html"],
                                     subject)
                    self.assertEqual(msg["From"].addresses[0].display_name,
                                     "Clínica evil Bcc: x@y, \"Peña\" <z@w>")
                    if s.strip():
                        self.assertIn(canon(s.strip(" ")).split("\r\n")[0],
                                      self.text_of(msg, "text/plain"))

    def test_refused_by_parser(self):
        conf = self.write_conf()
        head = b'{"version":1,"id":"a","kind":"recall","to":{"email":"a@example.com","name":"'
        cases = [
            ("raw-cr", head + b'Jo\rBcc: x@y"}}', b"\r",
             "control character 0xd near '\"Jo'"),
            ("raw-lf", head + b'Jo\nBcc: x@y"}}', b"\n", "unexpected newline near '\"Jo'"),
            ("latin1", head + b'Jos\xe9"}}', b"\xe9", "unable to decode byte 0xe9 near '\"Jos'"),
            ("overlong", head + b'x\xc0\xaf"}}', b"\xc0", "unable to decode byte 0xc0 near '\"x'"),
            ("lone-continuation", head + b'x\x80y"}}', b"\x80",
             "unable to decode byte 0x80 near '\"x'"),
        ]
        for label, raw, bad, text in cases:
            with self.subTest(case=label):
                r = self.render(label, raw, self.probe, conf)
                pos = raw.index(bad)  # bytes before the bad one
                self.assertEqual(r.returncode, EX_DATAERR)
                self.assertEqual(r.stdout, b"")
                self.assertEqual(r.stderr.decode(), f"spool render: {self.dir}/{label}.json: not valid "
                                 f"JSON: {text} at line 1 column {pos} (byte {pos})\n")
        # Errors reported at the end of the string token.
        for label, raw, text in (
                ("nul-escape", head + b'Jo\\u0000x"}}',
                 "\\u0000 is not allowed without JSON_ALLOW_NUL near '\"Jo\\u0000x\"'"),
                ("surrogate", head + b'x\\ud800"}}', "invalid Unicode '\\uD800' near '\"x\\ud800\"'")):
            with self.subTest(case=label):
                r = self.render(label, raw, self.probe, conf)
                pos = raw.rindex(b'"') + 1  # reported after the string's closing quote
                self.assertEqual(r.returncode, EX_DATAERR)
                self.assertEqual(r.stderr.decode(), f"spool render: {self.dir}/{label}.json: not valid "
                                 f"JSON: {text} at line 1 column {pos} (byte {pos})\n")
        r = self.render("bom", b"\xef\xbb\xbf" + head + b'x"}}', self.probe, conf)
        self.assertEqual((r.returncode, r.stderr.decode()), (EX_DATAERR,
                         f"spool render: {self.dir}/bom.json: not valid JSON: starts with a byte order "
                         "mark (EF BB BF)\n"))
        # The id must not hold a control character even escaped.
        r = self.render("id-ctl", json.loads(json.dumps(dict(job("recall", "x"), id="a\nb"))),
                        self.probe, conf)
        self.assertEqual((r.returncode, r.stderr.decode()), (EX_DATAERR,
                         f"spool render: {self.dir}/id-ctl.json: id: contains a control character "
                         "(U+000A)\n"))

    def test_spool_member(self):
        """A job carrying its own spool.message_id cannot smuggle a header."""
        conf = self.write_conf()
        for mid in ("<a@b>\r\nBcc: x@y", "<a@b> <c@d>", "a@b", "<a@b>>", "<caf\u00e9@b>"):
            with self.subTest(message_id=mid):
                j = dict(job("recall", "x"), spool={"version": 1, "message_id": mid})
                r = self.render("mid", j, self.probe, conf)
                self.assertEqual(r.returncode, EX_DATAERR)
                self.assertEqual(r.stdout, b"")
                self.assertIn(b"the message could not be made: Message-ID: not a message id",
                              r.stderr)
        j = dict(job("recall", "x"), spool={"version": 1, "message_id": "<kept@example.com>"})
        r = self.render("mid", j, self.probe, conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"\r\nMessage-ID: <kept@example.com>\r\n", r.stdout)

    def test_count(self):
        self.assertGreaterEqual(len(HOSTILE), 30)
        self.assertEqual(len(MEMBERS), 9)


if __name__ == "__main__":
    unittest.main()
