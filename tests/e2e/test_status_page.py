"""test_status_page - the status page (status.html, status.json, spoold.prom).

A spool is built here with jobs in several folders (failed, held and corrupt
jobs naming patients, with reason files as spoold writes them), a blocked
account (state/account-relay in account.c's format), hourly counters
(state/status-counters) and today's sends (state/pace-relay); then
`spool status --write-page` writes the page as spoold would.

  1. For each status_detail (full, initials, none): the page is well-formed
     HTML (strict tag balance), self-contained (no script, no src or href,
     no url()), accessible basics (lang, title, the chart's title and table),
     and shows no more about patients than the level allows (the e-mail
     address and the full name are searched in status.html and status.json).
     Other states: rate-limited (PAUSED), running, and suspect (NOT
     DELIVERING: the provider accepts but does not deliver; why, what to do,
     the trickle, in all three files; fits a phone's width in Chromium).
  2. In headless Chromium (/usr/bin/chromium; skipped, saying so, when it is
     absent): screenshots of the BLOCKED page at phone (390x844) and desktop
     (1280x900) widths, kept under tests/out/ and printed; the visible text
     (--dump-dom): the state words, what to do, the counts; and no horizontal
     scrolling at phone width, measured by a script appended to a copy of the
     page (the page itself has none).

Run: SPOOLD_BIN=build/plain /usr/bin/python3 -m unittest tests/e2e/test_status_page.py
"""
import getpass
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, REPO, E2ETestCase, make_job, rfc3339  # noqa: E402

SPOOL = os.path.join(BIN, "spool", "spool")
CHROMIUM = "/usr/bin/chromium"
OUT = os.path.join(REPO, "tests", "out")
PHONE, DESKTOP = (390, 844), (1280, 900)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SVG_LEAVES = {"rect", "line", "path", "circle"}

BLOCKED_REASON = ("Gmail has stopped this account from sending until someone signs in to it "
                  "in a web browser and completes Google's security check.")
BLOCKED_ACTION = ("Sign in to the practice's e-mail account in a web browser and complete the "
                  "check, then run: spool resume")

SUSPECT_REASON = "Your e-mail provider is accepting reminders but not delivering them."
SUSPECT_ACTION = ("Sign in to the practice's e-mail account and look for a warning from the "
                  "provider, then run: spool resume")
SUSPECT_FOUND = ("canary <c1@spoold> sent 10:02, not in canary@other.example INBOX after 30 "
                 "minutes")

# The patients of the problem jobs, and what must never leak below "full".
JANE = ("Jane", "Doe", "jane.doe@example.com")
ROBERT = ("Robert", "Roe", "robert.roe@example.org")
JOSE = ("José", "Núñez", "jose.nunez@example.net")
BAD_ADDR = "maria.garcia@@example"


class StrictHTML(html.parser.HTMLParser):
    """Tag balance, every tag and attribute, and the text outside style."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.attrs, self.text = [], [], [], [], []
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)
        if tag not in VOID and tag not in SVG_LEAVES:
            self.errors.append(f"<{tag}/> self-closed at {self.getpos()}")

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append(f"</{tag}> for a void element at {self.getpos()}")
        elif not self.stack or self.stack[-1][0] != tag:
            top = self.stack[-1] if self.stack else None
            self.errors.append(f"</{tag}> at {self.getpos()} closes {top}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        if not self.stack or self.stack[-1][0] not in ("style", "script"):
            self.text.append(data)


def parse_html(text):
    p = StrictHTML()
    p.feed(text)
    p.close()
    if p.stack:
        p.errors.append(f"unclosed: {p.stack}")
    return p


def visible_text(dom):
    """The text of a DOM dump, without style, script and title."""
    dom = re.sub(r"(?is)<(style|script|title)\b.*?</\1>", " ", dom)
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    return re.sub(r"\s+", " ", text)


class StatusPageTest(E2ETestCase):
    # -- the spool -----------------------------------------------------------

    def write(self, folder, name, data, mtime=None):
        path = self.path(folder, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(data if isinstance(data, str) else json.dumps(data, indent=2) + "\n")
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def write_state(self, name, text):
        os.makedirs(self.folder("state"), exist_ok=True)
        return self.write("state", name, text)

    def write_account(self, relay="relay", **over):
        now = time.time()
        a = {"version": 1, "state": "blocked", "since": rfc3339(now - 2 * 3600 - 60),
             "until": None, "category": "account-blocked", "reason": BLOCKED_REASON,
             "action": BLOCKED_ACTION,
             "reply": "534-5.7.14 Please log in via your web browser (jane.doe@example.com)",
             "rule": "gmail-web-login", "incident": 3, "alerted": 3, "rejects": 2,
             "reject_rcpt": ["jane.doe@example.com", "robert.roe@example.org"]}
        a.update(over)
        return self.write_state(f"account-{relay}", json.dumps(a, indent=2) + "\n")

    @staticmethod
    def reason_file(patient, job_name, what, action, appt):
        first, last, email = patient
        return (f"The reminder for {first} {last} was NOT sent.\n\n"
                f"What happened:\n  {what}\n\n"
                f"Patient:      {first} {last}\nE-mail:       {email}\n"
                f"Appointment:  {appt}\nJob:          {job_name}\n\n"
                f"What to do:\n  {action}\n"
                f"  - If the appointment is soon, phone the patient.\n"
                f"  - Once the cause is fixed, send it again with:  spool retry {job_name}\n"
                f"\nFor your IT contact - the mail server's own words:\n"
                f"  550 5.1.1 <{email}>: Recipient address rejected: {first} {last} unknown\n")

    def problem_job(self, patient, job_id, category, reason, start):
        first, last, email = patient
        job = make_job(job_id, email=email, first=first, last=last, start=start)
        job["spool"] = {"version": 1, "first_seen": rfc3339(time.time() - 5 * 3600),
                        "attempts": [{"time": rfc3339(time.time() - 3600),
                                      "relay": "smtp.example.com:587", "stage": "rcpt",
                                      "code": 550, "text": f"550 5.1.1 <{email}> unknown",
                                      "category": category}]}
        if reason:
            job["spool"]["reason"] = reason
        return job

    def build_spool(self, detail, state="blocked", nfailed=0):
        """Jobs in several folders, the account, counters, budget; the conf's path."""
        now = time.time()
        self.make_spool()
        appt = now + 2 * 86400
        for i in range(2):
            self.write("new", f"{int(now)}.new{i}.host", make_job(f"new-{i}"))
        d = make_job("deferred-1")
        d["spool"] = {"version": 1, "first_seen": rfc3339(now - 3 * 3600)}
        self.write("deferred", f"{int(now)}.def1.host", d, mtime=now + 600)
        for i in range(3):
            self.write("sent", f"{int(now)}.sent{i}.host", make_job(f"sent-{i}"))

        jane = self.jane = f"{int(now) - 100}.jane.host"
        self.write("failed", jane, self.problem_job(
            JANE, "appt-1-reminder", "recipient-invalid",
            # A reason that (wrongly) names the patient: cut out below full.
            "The patient's e-mail address does not exist at their provider "
            "(jane.doe@example.com, Jane Doe).", appt), mtime=now - 100)
        self.write("failed", jane + ".reason.txt", self.reason_file(
            JANE, jane, "The patient's e-mail address does not exist at their provider.",
            "Check the e-mail address with the patient and correct it in the scheduler.",
            "Tuesday, December 1, 2026 at 9:30 AM CST"))
        robert = f"{int(now) - 200}.robert.host"
        self.write("hold", robert, self.problem_job(
            ROBERT, "appt-2-reminder", "unknown-outcome",
            "The connection broke just as the e-mail was handed over, so it may or may not "
            "have been delivered.", appt + 3600), mtime=now - 200)
        self.write("hold", robert + ".reason.txt", self.reason_file(
            ROBERT, robert, "The connection broke just as the e-mail was handed over.",
            f"If the patient did not get it, send it again with: spool release {robert}",
            "Tuesday, December 1, 2026 at 10:30 AM CST"))
        jose = f"{int(now) - 300}.jose.host"
        self.write("hold", jose, self.problem_job(JOSE, "appt-3-recall", "transient", None,
                                                  appt + 7200), mtime=now - 300)
        corrupt = f"{int(now) - 400}.corrupt.host"
        self.write("corrupt", corrupt, '{"version": 1, "id": "x", "to": {"email": "%s"}}'
                   % BAD_ADDR, mtime=now - 400)
        self.write("corrupt", corrupt + ".reason.txt",
                   "This file is not a valid job, so nothing was sent.\n\n"
                   f"File:          {corrupt}\n\nWhat is wrong:\n"
                   f"  to.email: \"{BAD_ADDR}\" is not a valid address: two @ signs\n\n"
                   "What to do:\n  The program that writes reminders (your scheduler) "
                   "produced this file.\n  Tell whoever maintains it what is wrong (above); "
                   "once fixed, it can submit\n  the reminder again.  If the patient must be "
                   "reached now, phone them.\n")
        for i in range(nfailed):
            n = f"{int(now) - 1000 - i}.bulk{i:03d}.host"
            self.write("failed", n, self.problem_job(
                ("Ann", f"Bulk{i}", f"ann{i}@example.com"), f"bulk-{i}", "recipient-invalid",
                "The patient's e-mail address does not exist.", appt), mtime=now - 1000 - i)

        if state == "blocked":
            self.write_account()
        elif state == "suspect":
            self.write_account(state="suspect", since=rfc3339(now - 40 * 60),
                               category="not-delivered", reason=SUSPECT_REASON,
                               action=SUSPECT_ACTION, reply=SUSPECT_FOUND, rule="not-delivered",
                               rejects=0, reject_rcpt=[])
        elif state == "rate-limited":
            self.write_account(state="rate-limited", until=rfc3339(now + 45 * 60),
                               category="rate-limited",
                               reason="The provider limits how many messages this account "
                                      "may send.", action="Nothing to do: it resumes by itself.")
        hour0 = int(now) - int(now) % 3600
        sent = [(7 * h + 3) % 23 if h % 24 < 12 else 0 for h in range(48)]
        deferred = [2 if h in (3, 4, 30) else 0 for h in range(48)]
        failed = [1 if h in (1, 20) else 0 for h in range(48)]
        self.write_state("status-counters",
                         "spoold-status-counters 1\nhour0 %d\n" % hour0
                         + "sent " + " ".join(map(str, sent)) + "\n"
                         + "deferred " + " ".join(map(str, deferred)) + "\n"
                         + "failed " + " ".join(map(str, failed)) + "\n"
                         + "count 120 sent relay\ncount 2 recipient-invalid relay\n")
        now_ms = int(now * 1000)
        self.write_state("pace-relay", "version 1\n" + "".join(
            "%d\n" % (now_ms - k * 600 * 1000) for k in range(1, 140)))
        conf = os.path.join(self.tmp, f"spoold-{detail}.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(f"spool_dir = {self.spool}\nuser = {getpass.getuser()}\n"
                    f"timezone = America/Chicago\nstatus_detail = {detail}\n\n"
                    "[relay]\nhost = smtp.example.com\nfrom = office@springfield-chiro.example\n"
                    "from_name = Springfield Chiropractic\n\n[pacing]\nper_day = 400\n")
        os.chmod(conf, 0o600)
        return conf

    def write_page(self, conf):
        p = subprocess.run([SPOOL, "-c", conf, "status", "--write-page"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        out = {}
        for name in ("status.html", "status.json", "spoold.prom"):
            path = os.path.join(self.spool, name)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o644, name)
            with open(path, encoding="utf-8") as f:
                out[name] = f.read()
        self.assertEqual([n for n in os.listdir(self.spool) if n.startswith(".")], [])
        return out

    # -- 1. structure and what each level shows --------------------------------

    def check_structure(self, page):
        p = parse_html(page)
        self.assertEqual(p.errors, [], "the page is not well-formed")
        self.assertEqual(p.doctype, "DOCTYPE html")
        self.assertIn(("html", "lang", "en"), p.attrs)
        self.assertIn(("meta", "http-equiv", "refresh"), p.attrs)
        self.assertIn(("meta", "content", "30"), p.attrs)
        self.assertNotIn("script", p.tags)
        for tag in ("iframe", "img", "link", "object", "embed"):
            self.assertNotIn(tag, p.tags)
        self.assertEqual([a for a in p.attrs if a[1] in ("src", "href")], [])
        self.assertNotRegex(page, r"https?://|url\(|@import")
        for tag in ("header", "main", "footer", "section", "h1", "h2", "svg", "table"):
            self.assertIn(tag, p.tags)
        self.assertEqual(p.tags.count("h1"), 1)
        self.assertIn(("svg", "role", "img"), p.attrs)
        self.assertIn("prefers-color-scheme:dark", page)
        self.assertRegex(page, r"<svg[^>]*aria-labelledby=\"chart-t chart-d\"")
        self.assertRegex(page, r"<title id=\"chart-t\">[^<]+</title>")
        return p

    def check_leaks(self, detail, texts):
        jane_full = "Jane Doe"
        for name, text in texts.items():
            if detail == "full":
                self.assertIn(JANE[2], text, name)
                self.assertIn(jane_full, text, name)
                self.assertIn(BAD_ADDR, text, name)
                continue
            for first, last, email in (JANE, ROBERT, JOSE):
                self.assertNotIn(email, text, name)
                self.assertNotIn(f"{first} {last}", text, name)
                self.assertNotRegex(text, rf"\b({first}|{last})\b", name)
            self.assertNotIn(BAD_ADDR, text, name)
            self.assertNotRegex(text, r"[\w.+-]+@[\w-]", name)  # no address at all
            if detail == "initials":
                self.assertIn("J. D.", text, name)
                self.assertIn("J. N.", text, name)
            else:
                self.assertNotIn("J. D.", text, name)
                self.assertNotIn("R. R.", text, name)
                self.assertNotRegex(text, r"Appointment (today|tomorrow|yesterday|[A-Z][a-z]{2} )",
                                    name)
                self.assertNotIn('"appointment"', text, name)

    def test_levels(self):
        for detail in ("full", "initials", "none"):
            with self.subTest(detail=detail):
                shutil.rmtree(self.spool, ignore_errors=True)
                out = self.write_page(self.build_spool(detail))
                page = out["status.html"]
                p = self.check_structure(page)
                text = re.sub(r"\s+", " ", "".join(p.text))
                self.assertIn("STOPPED", text)
                self.assertIn("Account state: blocked", text)
                self.assertIn(BLOCKED_ACTION, text)
                self.assertIn("Reminders that need a person (4)", text)
                self.assertIn("Wrong e-mail address", text)
                self.assertIn("May have been sent", text)
                self.assertIn("Kept back by staff", text)
                self.assertIn("Not a valid reminder file", text)
                self.assertIn("of 400 allowed per day", text)
                # the account's reply and rejected recipients are never shown
                self.assertNotIn("534-5.7.14", page)
                # Job names are shown at every level (and, in commands, never cut):
                # a scheduler must not put patients' names in them.
                self.assertIn("send it again with: spool retry %s" % self.jane, text)
                self.check_leaks(detail, {"status.html": page, "status.json": out["status.json"]})

                st = json.loads(out["status.json"])
                self.assertEqual(list(st)[:3], ["version", "generated", "status_detail"])
                self.assertEqual((st["version"], st["status_detail"]), (1, detail))
                self.assertEqual(set(st["account"]["relay"]),
                                 {"state", "since", "until", "category", "reason", "action"})
                self.assertEqual(st["account"]["relay"]["state"], "blocked")
                self.assertEqual(st["folders"], {"tmp": 0, "new": 2, "active": 0, "deferred": 1,
                                                 "hold": 2, "sent": 3, "failed": 1,
                                                 "corrupt": 1})
                self.assertEqual(st["budget"], {"per_day": 400, "used_24h": 139})
                self.assertEqual(len(st["hourly"]["sent"]), 48)
                self.assertEqual(st["hourly"]["sent"][-1], 3)  # the current hour is last
                self.assertEqual(st["problems_total"], 4)
                names = [(x["folder"], x["category"]) for x in st["problems"]]
                self.assertEqual(names, [("failed", "recipient-invalid"),
                                         ("hold", "unknown-outcome"), ("hold", "held"),
                                         ("corrupt", "corrupt")])
                jane = st["problems"][0]
                if detail == "full":
                    self.assertEqual(jane["patient"], {"name": "Jane Doe", "email": JANE[2]})
                elif detail == "initials":
                    self.assertEqual(jane["patient"], {"initials": "J. D."})
                else:
                    self.assertNotIn("patient", jane)
                    self.assertNotIn("appointment", jane)
                if detail != "none":
                    self.assertRegex(jane["appointment"], r"^\d{4}-\d\d-\d\dT")
                self.assertGreaterEqual(st["oldest_waiting_seconds"], 3 * 3600 - 60)

                prom = out["spoold.prom"]
                self.assertIn('spoold_account_blocked{relay="relay"} 1\n', prom)
                self.assertIn('spoold_account_state{relay="relay",state="blocked"} 1\n', prom)
                self.assertIn('spoold_account_state{relay="relay",state="running"} 0\n', prom)
                self.assertIn('spoold_attempts_total{category="sent",relay="relay"} 120\n', prom)
                self.assertIn('spoold_jobs{folder="failed"} 1\n', prom)
                self.assertIn("spoold_budget_used_24h 139\n", prom)
                self.assertIn("spoold_budget_per_day 400\n", prom)
                self.assertNotIn("@", prom)

    def test_cap_and_other_states(self):
        out = self.write_page(self.build_spool("initials", state="rate-limited", nfailed=52))
        st = json.loads(out["status.json"])
        self.assertEqual((len(st["problems"]), st["problems_total"]), (50, 56))
        text = visible_text(out["status.html"])
        self.assertIn("and 6 more, not listed here", text)
        self.assertIn("PAUSED", text)
        # 45 minutes from now: tomorrow late in the practice's evening.
        self.assertRegex(text, r"Sending starts again by itself (today|tomorrow) at")
        self.assertNotIn("ann1@example.com", out["status.html"])
        self.check_structure(out["status.html"])
        os.unlink(os.path.join(self.folder("state"), "account-relay"))
        text = visible_text(self.write_page(self.build_spool("initials", state="running"))
                            ["status.html"])
        self.assertIn("RUNNING", text)
        self.assertIn("Reminder e-mails are going out.", text)
        self.assertNotIn("What to do: Sign in", text)

    def test_suspect(self):
        """The provider accepts but does not deliver: NOT DELIVERING, why, what to do."""
        out = self.write_page(self.build_spool("initials", state="suspect"))
        page = out["status.html"]
        self.check_structure(page)
        text = visible_text(page)
        self.assertIn("<title>NOT DELIVERING: reminder e-mails", page)
        self.assertIn('<section class="state suspect"', page)
        for words in ("NOT DELIVERING",
                      "Your e-mail provider is accepting reminders but not delivering them.",
                      "only one reminder goes out every 10 minutes",
                      "Why: " + SUSPECT_REASON, "What to do: " + SUSPECT_ACTION,
                      "Waiting reminders are kept and go out once sending resumes.",
                      "Account state: suspect (not-delivered)."):
            self.assertIn(words, text)
        self.assertRegex(text, r"Not delivering since (today|yesterday) at")
        self.assertNotIn("STOPPED", text)
        # what the check found names the practice's canary mailbox: not on the page
        self.assertNotIn("canary@other.example", page)
        self.check_leaks("initials", {"status.html": page, "status.json": out["status.json"]})
        a = json.loads(out["status.json"])["account"]["relay"]
        self.assertEqual((a["state"], a["category"], a["reason"], a["action"]),
                         ("suspect", "not-delivered", SUSPECT_REASON, SUSPECT_ACTION))
        prom = out["spoold.prom"]
        self.assertIn('spoold_account_state{relay="relay",state="suspect"} 1\n', prom)
        self.assertIn('spoold_account_state{relay="relay",state="blocked"} 0\n', prom)
        self.assertIn('spoold_account_suspect{relay="relay"} 1\n', prom)
        self.assertIn('spoold_account_blocked{relay="relay"} 0\n', prom)
        # The words in large type fit a phone's width.
        if os.access(CHROMIUM, os.X_OK):
            self.check_layout(os.path.join(self.spool, "status.html"), "suspect-phone", PHONE,
                              min_big=30)

    def test_bad_detail_refused(self):
        conf = self.build_spool("initials")
        with open(conf, encoding="utf-8") as f:
            text = f.read().replace("status_detail = initials", "status_detail = everything")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(text)
        p = subprocess.run([SPOOL, "-c", conf, "status", "--write-page"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("status_detail: must be full, initials or none", p.stderr)

    # -- 2. in a browser --------------------------------------------------------

    def chromium(self, url, size, *extra):
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.tmp)
        argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}", *extra, url]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        return p.stdout

    def test_browser(self):
        if not os.access(CHROMIUM, os.X_OK):
            self.skipTest(f"{CHROMIUM} is not installed (Debian package chromium; "
                          "contrib/install-deps installs it): no browser check of the page")
        self.write_page(self.build_spool("initials"))
        page = os.path.join(self.spool, "status.html")
        os.makedirs(OUT, exist_ok=True)
        shots = []
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            shot = os.path.join(OUT, f"status-blocked-{label}.png")
            if os.path.exists(shot):
                os.unlink(shot)
            self.chromium("file://" + page, size, f"--screenshot={shot}")
            self.assertGreater(os.path.getsize(shot), 5000, shot)
            shots.append(shot)
            # For review: the whole page, and in dark mode.
            tall = (size[0], 3600 if label == "phone" else 2400)
            self.chromium("file://" + page, tall,
                          f"--screenshot={os.path.join(OUT, f'status-blocked-{label}-full.png')}")
            self.chromium("file://" + page, tall, "--force-dark-mode",
                          f"--screenshot={os.path.join(OUT, f'status-blocked-{label}-dark.png')}")

            text = visible_text(self.chromium("file://" + page, size, "--dump-dom"))
            for words in ("STOPPED", "Reminder e-mails are not going out",
                          "Account state: blocked", "What to do: " + BLOCKED_ACTION,
                          "2 Ready to send", "1 Waiting to retry", "2 On hold",
                          "1 Failed: need a person", "1 Invalid files", "3 Sent",
                          "139 of 400 allowed per day", "Reminders that need a person (4)"):
                self.assertIn(words, text, label)

            self.check_layout(page, label, size)
        print("\nstatus page screenshots (BLOCKED): " + "  ".join(shots), file=sys.stderr)

    def check_layout(self, page, label, size, min_big=36):
        """No horizontal scrolling at size, and the state in large type.

        The layout is measured in a copy with a script (the page has none).
        Chromium's windows are at least 500 pixels wide (a screenshot is cut
        to the size asked for, a script sees 500), so the copy is shown in a
        frame of the exact size and measured in there."""
        probe = os.path.join(self.tmp, f"probe-{label}.html")
        with open(page, encoding="utf-8") as f:
            src = f.read()
        script = (
            "<script>addEventListener('load',function(){var f=document.getElementById('f'),"
            "w=f.contentWindow,d=w.document.documentElement,bad=[];"
            "w.document.querySelectorAll('body *').forEach(function(e){"
            "var r=e.getBoundingClientRect();if(r.width&&r.right>d.clientWidth+1)"
            "bad.push(e.tagName+'.'+e.className+':'+Math.round(r.right));});"
            "var big=w.document.querySelector('.big'),o=document.createElement('pre');"
            "o.id='layout';o.textContent=JSON.stringify({scroll:d.scrollWidth,"
            "client:d.clientWidth,inner:w.innerWidth,bad:bad.slice(0,10),"
            "big:parseFloat(w.getComputedStyle(big).fontSize)});"
            "document.body.appendChild(o);});</script>")
        with open(probe, "w", encoding="utf-8") as f:
            f.write('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>probe'
                    '</title></head><body style="margin:0"><iframe id="f" title="page" '
                    f'style="border:0;display:block;width:{size[0]}px;height:{size[1]}px" '
                    f'srcdoc="{html.escape(src, quote=True)}"></iframe>{script}'
                    '</body></html>')
        dom = self.chromium("file://" + probe, DESKTOP, "--dump-dom")
        m = re.search(r'<pre id="layout">(.*?)</pre>', dom)
        self.assertTrue(m, dom[-2000:])
        lay = json.loads(html.unescape(m.group(1)))
        self.assertEqual(lay["inner"], size[0], lay)
        self.assertLessEqual(lay["scroll"], lay["client"], f"horizontal scroll: {lay}")
        self.assertLessEqual(lay["scroll"], lay["inner"], f"horizontal scroll: {lay}")
        self.assertEqual(lay["bad"], [], f"wider than the window: {lay}")
        self.assertGreaterEqual(lay["big"], min_big, f"the state is not in large type: {lay}")


if __name__ == "__main__":
    unittest.main()
