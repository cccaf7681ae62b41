"""test_classify - spool classify: a provider's reply judged from the command line.

A few rows of tests/data/provider-replies.tsv through the real binary, in
text and --json, with line breaks given as the two characters \\n; the
retry time from a date in the reply and from "in N seconds" (with --now);
the usage errors (exit 64); and that no configuration file is read.

Run: SPOOLD_BIN=build/plain /usr/bin/python3 -m unittest tests/e2e/test_classify.py
"""
import json
import os
import subprocess
import unittest

BIN = os.path.abspath(os.path.join(os.environ.get("SPOOLD_BIN", "build/plain"), "spool", "spool"))
DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                    "provider-replies.tsv")
EX_USAGE = 64
# No configuration anywhere: classify must not look for one.
ENV = dict(os.environ, SPOOLD_CONF="/nonexistent/spoold.conf")


def spool(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=ENV, timeout=30)


def rows():
    """The TSV's rows as (stage, code, text, category, note)."""
    with open(DATA) as fp:
        for line in fp:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                yield tuple(line.split("\t"))


class ClassifyTest(unittest.TestCase):
    def test_rows_text(self):
        """Several rows in text form: category, retry, explanation, action."""
        picked = [r for r in rows() if r[4].split()[0] in ("Gmail", "Outlook.com", "Mailgun:",
                                                           "Zoho:", "Microsoft")]
        self.assertGreaterEqual(len(picked), 8)
        for stage, code, text, category, note in picked:
            with self.subTest(note=note, text=text[:40]):
                p = spool("classify", stage, code, text)
                self.assertEqual(p.returncode, 0, p.stderr)
                lines = p.stdout.splitlines()
                self.assertEqual(lines[0], "category:    " + category)
                self.assertTrue(lines[1].startswith("retry:       "))
                self.assertTrue(lines[2].startswith("explanation: "))
                self.assertTrue(lines[3].startswith("action:      "))
                self.assertEqual(p.stderr, "")

    def test_every_row_json(self):
        """Every row with --json: the five members, the right category."""
        for stage, code, text, category, note in rows():
            with self.subTest(note=note, text=text[:40]):
                p = spool("classify", "--json", stage, code, text)
                self.assertEqual(p.returncode, 0, p.stderr)
                v = json.loads(p.stdout)
                self.assertEqual(set(v), {"category", "retry_at", "explanation", "action",
                                          "rule"})
                self.assertEqual(v["category"], category)
                self.assertTrue(v["explanation"] and v["action"] and v["rule"])
                if category == "rate-limited":
                    self.assertRegex(v["retry_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_gmail_web_login_spans_lines(self):
        p = spool("classify", "--json", "auth", "534",
                  r"5.7.14 <https://accounts.google.com/signin/continue?sarp=1> Please log in"
                  r"\n5.7.14 via your web browser and then try again.")
        v = json.loads(p.stdout)
        self.assertEqual((v["category"], v["rule"], v["retry_at"]),
                         ("account-blocked", "gmail-web-login", None))
        self.assertEqual(v["action"], "Sign in to the practice's e-mail account in a web browser"
                         " and complete the check, then run: spool resume")

    def test_retry_times(self):
        p = spool("classify", "--json", "--now", "2025-10-05T19:00:00Z", "rcpt", "421",
                  "Domain mg.example.com is not allowed to send: recipient limit exceeded, "
                  "try again after Sun, 05 Oct 2025 19:22:44 UTC")
        self.assertEqual(json.loads(p.stdout)["retry_at"], "2025-10-05T19:22:44Z")
        p = spool("classify", "--now", "2025-10-05T19:00:00Z", "data-end", "554",
                  "Your account is on probation and domains are limited to 100 messages / hour."
                  " Account will be enabled in 341 seconds")
        self.assertIn("retry:       2025-10-05T19:05:41Z\n", p.stdout)
        p = spool("classify", "--now", "2025-10-05T19:00:00-06:00", "data-end", "550",
                  "5.4.5 Daily user sending limit exceeded.")
        self.assertIn("retry:       2025-10-07T01:00:00Z\n", p.stdout)
        p = spool("classify", "rcpt", "550", "5.1.1 The email account that you tried to reach",
                  "does not exist.")
        self.assertIn("category:    recipient-invalid\nretry:       none\n", p.stdout)

    def test_no_reply(self):
        p = spool("classify", "--json", "data-end", "0")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["category"], "unknown-outcome")

    def test_usage(self):
        for args in (["classify"], ["classify", "auth"], ["classify", "nowhere", "550", "x"],
                     ["classify", "auth", "55x", "x"], ["classify", "auth", "five", "x"],
                     ["classify", "auth", "5500", "x"], ["classify", "auth", "-550", "x"],
                     ["classify", "--bogus", "auth", "550"],
                     ["classify", "--now", "yesterday", "auth", "550"]):
            with self.subTest(args=args):
                p = spool(*args)
                self.assertEqual(p.returncode, EX_USAGE, p.stdout + p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertIn("spool classify:", p.stderr)

    def test_help(self):
        for args in (["classify", "--help"], ["help", "classify"]):
            p = spool(*args)
            self.assertEqual(p.returncode, 0)
            self.assertTrue(p.stdout.startswith("usage: spool classify"))
        self.assertIn("classify", spool("--help").stdout)

    def test_config_never_read(self):
        """Even an explicit, missing configuration file is not opened."""
        p = spool("-c", "/nonexistent/spoold.conf", "classify", "mail", "530",
                  "5.7.0 Must issue a STARTTLS command first.")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("category:    tls-failed\n", p.stdout)


if __name__ == "__main__":
    unittest.main()
