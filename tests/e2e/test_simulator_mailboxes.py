"""test_simulator_mailboxes - the provider simulator's mailboxes, checked on their own.

tests/smtpserver.py --provider with "mailboxes" files and delivers what it
accepts into a private Dovecot's Maildirs (tests/imapserver.py), as a real
provider would; spoold's IMAP checks (Sent copies, bounces, notices,
canaries) are tested against that.  These tests drive the simulator with
Python's smtplib (no spoold) and read the Maildirs with
ImapServer.messages(), proving each member: the Sent copy (and that Dovecot
itself serves it over IMAP), delivery to a recipient's INBOX (also on a
second Dovecot, "another provider"), silent_drop_after and
silent_drop_files_sent, bounce (Gmail's RFC 3464 report: Original-Envelope-Id,
Final-Recipient, the original's Message-ID; NOTIFY, ORCPT, RET=FULL), and
notice; the new stats; mistakes in the provider file.  One test compiles a
small C program against SPOOLD_BIN/libspoold.a to check that spoold's own
parser (lib/dsn.c, dsn_parse) reads every generated bounce and notice as
intended (skipped without cc or the library).

Synchronisation: the simulator delivers before it sends the reply to the
final dot, and rewrites its stats file before that reply too, so after
smtplib returns the files are in place; nothing waits, nothing sleeps.

Run: SPOOLD_BIN=build/plain SPOOLD_TEMPLATES=$PWD/templates /usr/bin/python3 \\
     -m unittest discover -s tests/e2e -p 'test_simulator_mailboxes.py' -v
"""

import email
import email.policy
import email.utils
import imaplib
import importlib.util
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, PYTHON, REPO, SMTPSERVER, SmtpServer, certs  # noqa: E402
from harness_imap import ImapServer, have_dovecot  # noqa: E402
from test_simulator import FROM, SimulatorTest, message  # noqa: E402

OFFICE = "office@example.com"
CANARY = "canary@other.example"
USERS = {OFFICE: "secret", CANARY: "secret2"}


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.compat32)


def header_of(data, name):
    """The first header name of a message's bytes (unfolded, stripped), or None."""
    v = parse(data).get(name)
    return " ".join(v.split()) if v is not None else None


class MailboxTest(SimulatorTest):
    """SimulatorTest with private Dovecots."""

    def imap(self, users=None):
        s = ImapServer(self.tmp, users=users or USERS)
        self.addCleanup(s.stop)
        return s

    def start(self, provider=None, tls=None, auth=False, script=None, dsn=False):
        s = SmtpServer(self.tmp, tls=tls, auth=auth, script=script, provider=provider,
                       stats=True, dsn=dsn)
        self.servers.append(s)
        return s

    @staticmethod
    def mids(imap, user, folder):
        return [m["message_id"] for m in imap.messages(user, folder)]

    def only(self, imap, user, folder):
        """The one message in user's folder: (listing entry, bytes)."""
        msgs = imap.messages(user, folder)
        self.assertEqual(len(msgs), 1, msgs)
        return msgs[0], imap.read(user, folder, msgs[0])


@unittest.skipUnless(have_dovecot(), "dovecot-imapd is not installed")
class TestSentAndDelivery(MailboxTest):

    def test_sent_copy_and_recipient_inbox(self):
        """Every accepted message is filed, \\Seen, in the account's Sent (the
        exact bytes); a recipient listed in deliver (any case) gets one copy
        in its INBOX with trace headers; other recipients none; Dovecot
        serves the files over IMAP (ownership right also as root).  The
        provider file is given by path, imap_dir relative to it."""
        imap = self.imap()
        path = os.path.join(self.tmp, "provider.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"profile": "gmail", "mailboxes": {
                "imap_dir": os.path.relpath(imap.data, self.tmp),
                "sent": {"user": OFFICE},
                "deliver": {"Canary@Other.EXAMPLE": CANARY, "alias@other.example": CANARY}}},
                f)
        srv = self.start(path)
        st = self.stats(srv)
        self.assertEqual((st["filed_sent"], st["delivered_mailboxes"]), (0, 0))
        c = self.client(srv)
        self.assertEqual(self.send(c, "s1", ["CANARY@other.example", "jane@example.com"]), {})
        self.assertEqual(self.send(c, "s2", "jane@example.com"), {})
        self.assertEqual(self.send(c, "s3", [CANARY, "alias@other.example"]), {})

        sent = imap.messages(OFFICE, "Sent")
        self.assertEqual([m["message_id"] for m in sent],
                         ["<s1@sim.test>", "<s2@sim.test>", "<s3@sim.test>"])
        self.assertTrue(all(m["flags"] == ["\\Seen"] for m in sent), sent)
        self.assertEqual(imap.read(OFFICE, "Sent", sent[0]), message("s1"))
        self.assertEqual(self.mids(imap, CANARY, "INBOX"), ["<s1@sim.test>", "<s3@sim.test>"])
        got = imap.read(CANARY, "INBOX", imap.messages(CANARY, "INBOX")[0])
        self.assertTrue(got.endswith(message("s1")), got)
        self.assertEqual(header_of(got, "Delivered-To"), "CANARY@other.example")
        self.assertEqual(header_of(got, "Return-Path"), f"<{FROM}>")
        self.assertIn("by smtpserver.test", header_of(got, "Received"))
        self.assertEqual(imap.messages(OFFICE, "INBOX"), [])
        self.assertEqual(imap.messages(CANARY, "Sent"), [])
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["filed_sent"], st["delivered_mailboxes"],
                          st["silently_dropped"], st["bounces_sent"], st["mailbox_errors"]),
                         (3, 3, 2, 0, 0, 0))

        # Dovecot itself sees them: what spoold's IMAP check will do.
        ctx = ssl.create_default_context(cafile=os.path.join(certs(), "ca.crt"))
        with imaplib.IMAP4_SSL("127.0.0.1", imap.port_implicit, ssl_context=ctx,
                               timeout=10) as m:
            m.login(OFFICE, USERS[OFFICE])
            typ, data = m.select("Sent", readonly=True)
            self.assertEqual((typ, data), ("OK", [b"3"]))
            typ, data = m.search(None, "HEADER", "Message-ID", "<s2@sim.test>")
            self.assertEqual((typ, data[0].split()), ("OK", [b"2"]))
            m.logout()

    def test_canary_on_another_provider(self):
        """deliver may name a mailbox of another Dovecot (another provider):
        the canary arrives there, the account's server only has Sent."""
        imap, other = self.imap({OFFICE: "secret"}), self.imap({CANARY: "secret2"})
        srv = self.start({"profile": "outlook",
                          "mailboxes": imap.mailboxes(
                              sent=OFFICE, deliver={CANARY: other.mailbox(CANARY)})})
        c = self.client(srv)
        self.assertEqual(self.send(c, "k1", CANARY), {})
        self.assertEqual(self.mids(other, CANARY, "INBOX"), ["<k1@sim.test>"])
        self.assertEqual(self.mids(imap, OFFICE, "Sent"), ["<k1@sim.test>"])
        self.assertFalse(os.path.exists(os.path.join(imap.data, "mail", CANARY)))
        self.assertEqual(self.stats(srv)["delivered_mailboxes"], 1)

    def test_no_sent_folder(self):
        """Without "sent" nothing is filed (a provider that keeps no copy)."""
        imap = self.imap()
        srv = self.start({"mailboxes": imap.mailboxes(deliver=[CANARY])})
        c = self.client(srv)
        self.assertEqual(self.send(c, "n1", CANARY), {})
        self.assertEqual(imap.messages(OFFICE, "Sent"), [])
        self.assertEqual(self.mids(imap, CANARY, "INBOX"), ["<n1@sim.test>"])
        self.assertEqual(self.stats(srv)["filed_sent"], 0)


@unittest.skipUnless(have_dovecot(), "dovecot-imapd is not installed")
class TestSilentDrop(MailboxTest):

    def test_silent_drop_after(self):
        """silent_drop_after 2: every message is 250 and in the mbox and Sent,
        but from the 3rd on none reaches the canary's INBOX, and a bounce
        recipient then gets no report either."""
        imap = self.imap()
        srv = self.start({"profile": "gmail", "silent_drop_after": 2, "bounce": ["nobody@"],
                          "mailboxes": imap.mailboxes(sent=OFFICE, deliver=[CANARY])})
        c = self.client(srv)
        for tag in ("d1", "d2", "d3", "d4"):
            self.assertEqual(self.send(c, tag, CANARY), {})   # 250 for every one
        self.assertEqual(self.send(c, "d5", ["nobody@example.net", CANARY]), {})
        self.assertEqual(self.mids(imap, CANARY, "INBOX"), ["<d1@sim.test>", "<d2@sim.test>"])
        self.assertEqual(self.mids(imap, OFFICE, "Sent"),
                         [f"<d{i}@sim.test>" for i in range(1, 6)])
        self.assertEqual(imap.messages(OFFICE, "INBOX"), [])   # no bounce for d5
        recs = srv.records()
        self.assertEqual([r["message_id"] for r in recs],
                         [f"<d{i}@sim.test>" for i in range(1, 6)])
        self.assertEqual([r.get("silently_dropped", False) for r in recs],
                         [False, False, True, True, True])
        st = self.stats(srv)
        self.assertEqual((st["accepted"], st["stored"], st["silently_dropped"],
                          st["delivered_mailboxes"], st["filed_sent"], st["bounces_sent"]),
                         (5, 5, 3, 2, 5, 0))

    def test_silent_drop_not_filed_and_blackhole(self):
        """silent_drop_files_sent false: a dropped message is not in Sent
        either; a blackholed one (accept_then_blackhole_after) is treated
        the same way, and also kept out of the mbox."""
        imap = self.imap()
        srv = self.start({"silent_drop_after": 1, "silent_drop_files_sent": False,
                          "accept_then_blackhole_after": 2,
                          "mailboxes": imap.mailboxes(sent=OFFICE, deliver=[CANARY])})
        c = self.client(srv)
        for tag in ("f1", "f2", "f3"):
            self.assertEqual(self.send(c, tag, CANARY), {})
        self.assertEqual(self.mids(imap, OFFICE, "Sent"), ["<f1@sim.test>"])
        self.assertEqual(self.mids(imap, CANARY, "INBOX"), ["<f1@sim.test>"])
        self.assertEqual([r["message_id"] for r in srv.records()],
                         ["<f1@sim.test>", "<f2@sim.test>"])
        self.assertEqual([r["message_id"] for r in self.blackholed(srv)], ["<f3@sim.test>"])
        st = self.stats(srv)
        self.assertEqual((st["silently_dropped"], st["blackholed"], st["filed_sent"],
                          st["delivered_mailboxes"]), (2, 1, 1, 1))


@unittest.skipUnless(have_dovecot(), "dovecot-imapd is not installed")
class TestBounce(MailboxTest):

    def report(self, data):
        """(top message, per-message fields, per-recipient fields, third part)."""
        msg = parse(data)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        human, status, original = msg.get_payload()
        self.assertEqual(human.get_content_type(), "text/plain")
        self.assertIn("wasn't delivered to", human.get_payload())
        self.assertEqual(status.get_content_type(), "message/delivery-status")
        blocks = status.get_payload()
        self.assertEqual(len(blocks), 2, blocks)
        return msg, blocks[0], blocks[1], original

    def test_bounce_report(self):
        """A bounce recipient: 250 at RCPT and DATA, then Gmail's RFC 3464
        report in the account's INBOX: Original-Envelope-Id as sent (xtext),
        Original-Recipient from ORCPT, Final-Recipient, Action, Status,
        Diagnostic-Code, and the original's headers with its Message-ID.  The
        other recipient is delivered; the bounced one never is."""
        imap = self.imap()
        srv = self.start({"profile": "gmail", "bounce": ["nobody@", "gone@"],
                          "mailboxes": imap.mailboxes(
                              sent=OFFICE, deliver=[CANARY, "nobody@other.example"])},
                         dsn=True)
        c = self.client(srv)
        self.assertEqual(c.mail(FROM, ["RET=HDRS", "ENVID=20251201-0930-k3+2Bm8"])[0], 250)
        self.assertEqual(c.rcpt("nobody@other.example",
                                ["NOTIFY=FAILURE,DELAY", "ORCPT=rfc822;Nobody+2Bx@other.example"]),
                         (250, b"OK"))
        self.assertEqual(c.rcpt(CANARY)[0], 250)
        code, text = c.data(message("b1"))
        self.assertEqual(code, 250, text)

        self.assertEqual(self.mids(imap, CANARY, "INBOX"), ["<b1@sim.test>"])
        self.assertEqual(imap.messages("nobody@other.example", "INBOX"), [])
        self.assertEqual(self.mids(imap, OFFICE, "Sent"), ["<b1@sim.test>"])
        entry, data = self.only(imap, OFFICE, "INBOX")
        self.assertTrue(data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b""))
        msg, per_msg, per_rcpt, original = self.report(data)
        self.assertEqual(msg["From"], "Mail Delivery Subsystem <mailer-daemon@googlemail.com>")
        self.assertEqual(msg["To"], FROM)
        self.assertEqual(msg["Subject"], "Delivery Status Notification (Failure)")
        self.assertEqual(msg["Return-Path"], "<>")
        self.assertEqual(msg["X-Failed-Recipients"], "nobody@other.example")
        self.assertEqual(msg["In-Reply-To"], "<b1@sim.test>")
        self.assertRegex(msg["Message-ID"], r"^<[^<>@\s]+@mx\.google\.com>$")
        self.assertEqual(entry["message_id"], msg["Message-ID"])
        self.assertIsNotNone(email.utils.parsedate_tz(msg["Date"]))
        self.assertEqual(per_msg["Reporting-MTA"], "dns; googlemail.com")
        self.assertEqual(per_msg["Original-Envelope-Id"], "20251201-0930-k3+2Bm8")
        self.assertEqual(per_rcpt["Original-Recipient"], "rfc822;Nobody+x@other.example")
        self.assertEqual(per_rcpt["Final-Recipient"], "rfc822; nobody@other.example")
        self.assertEqual(per_rcpt["Action"], "failed")
        self.assertEqual(per_rcpt["Status"], "5.1.1")
        diag = " ".join(per_rcpt["Diagnostic-Code"].split())
        self.assertTrue(diag.startswith("smtp; 550-5.1.1 The email account that you tried to "
                                        "reach does not exist."), diag)
        self.assertIn("550 5.1.1 https://support.google.com/mail/?p=NoSuchUser", diag)
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        headers = original.get_payload()
        self.assertIn("Message-ID: <b1@sim.test>", headers)
        self.assertNotIn("Hello b1", headers)
        st = self.stats(srv)
        self.assertEqual((st["bounces_sent"], st["delivered_mailboxes"], st["filed_sent"]),
                         (1, 1, 1))

        # A second bounce has its own Message-ID; RET=FULL attaches the whole message.
        self.assertEqual(c.sendmail(FROM, ["gone@example.org"], message("b2"),
                                    mail_options=["RET=FULL"]), {})
        msgs = imap.messages(OFFICE, "INBOX")
        self.assertEqual(len(msgs), 2)
        msg2, per_msg2, per_rcpt2, original2 = self.report(imap.read(OFFICE, "INBOX", msgs[1]))
        self.assertNotEqual(msg2["Message-ID"], msg["Message-ID"])
        self.assertIsNone(per_msg2["Original-Envelope-Id"])   # no ENVID given
        self.assertIsNone(per_rcpt2["Original-Recipient"])
        self.assertEqual(per_rcpt2["Final-Recipient"], "rfc822; gone@example.org")
        self.assertEqual(original2.get_content_type(), "message/rfc822")
        [inner] = original2.get_payload()
        self.assertEqual(inner["Message-ID"], "<b2@sim.test>")
        self.assertIn("Hello b2", inner.get_payload())

    def test_notify_and_no_dsn(self):
        """NOTIFY=NEVER (or without FAILURE): no report (bounces_suppressed);
        a server without --dsn still bounces, with no Original-Envelope-Id;
        bounce and notices go to mailboxes.account when there is no Sent."""
        imap = self.imap()
        srv = self.start({"bounce": ["nobody@"], "mailboxes": imap.mailboxes(account=OFFICE)},
                         dsn=True)
        c = self.client(srv)
        self.assertEqual(c.mail(FROM, ["ENVID=e1"])[0], 250)
        self.assertEqual(c.rcpt("nobody@a.example", ["NOTIFY=NEVER"])[0], 250)
        self.assertEqual(c.rcpt("nobody@b.example", ["NOTIFY=DELAY"])[0], 250)
        self.assertEqual(c.rcpt("nobody@c.example", ["NOTIFY=SUCCESS,FAILURE"])[0], 250)
        self.assertEqual(c.data(message("n1"))[0], 250)
        _, data = self.only(imap, OFFICE, "INBOX")
        msg, per_msg, per_rcpt, _ = self.report(data)
        self.assertEqual(per_rcpt["Final-Recipient"], "rfc822; nobody@c.example")
        self.assertEqual(per_msg["Original-Envelope-Id"], "e1")
        self.assertEqual(imap.messages(OFFICE, "Sent"), [])
        st = self.stats(srv)
        self.assertEqual((st["bounces_sent"], st["bounces_suppressed"]), (1, 2))

        srv = self.start({"bounce": ["nobody@"], "mailboxes": imap.mailboxes(account=OFFICE)})
        c = self.client(srv)
        self.assertEqual(self.send(c, "n2", "nobody@d.example"), {})
        msgs = imap.messages(OFFICE, "INBOX")
        self.assertEqual(len(msgs), 2)
        _, per_msg, per_rcpt, original = self.report(imap.read(OFFICE, "INBOX", msgs[1]))
        self.assertIsNone(per_msg["Original-Envelope-Id"])
        self.assertEqual(per_rcpt["Final-Recipient"], "rfc822; nobody@d.example")
        self.assertIn("Message-ID: <n2@sim.test>", original.get_payload())


@unittest.skipUnless(have_dovecot(), "dovecot-imapd is not installed")
class TestNotice(MailboxTest):

    def test_notices_after_n(self):
        """A notice after 0 is there at start-up; one after 2 arrives with
        the 2nd accepted message (before its 250), once; user sends it to
        another mailbox."""
        imap = self.imap({OFFICE: "secret", "it@example.com": "x"})
        srv = self.start({"profile": "zoho",
                          "notice": [{"after": 0, "kind": "google-critical"},
                                     {"after": 2, "kind": "zoho"},
                                     {"after": 2, "kind": "ses", "user": "it@example.com"}],
                          "mailboxes": imap.mailboxes(sent=OFFICE)})
        _, data = self.only(imap, OFFICE, "INBOX")
        self.assertEqual(header_of(data, "Subject"), "Critical security alert")
        self.assertEqual(header_of(data, "From"), "Google <no-reply@accounts.google.com>")
        c = self.client(srv)
        self.assertEqual(self.send(c, "z1"), {})
        self.assertEqual(len(imap.messages(OFFICE, "INBOX")), 1)
        self.assertEqual(imap.messages("it@example.com", "INBOX"), [])
        self.assertEqual(self.send(c, "z2"), {})
        msgs = imap.messages(OFFICE, "INBOX")
        self.assertEqual(len(msgs), 2)
        zoho = parse(imap.read(OFFICE, "INBOX", msgs[1]))
        self.assertEqual(zoho["From"], "Zoho Mail <noreply@zohomail.com>")
        self.assertEqual(zoho["Subject"], f"Email Outgoing Blocked - {OFFICE}")
        self.assertEqual(zoho["To"], OFFICE)
        self.assertIn("Unblock Email Sending", zoho.get_payload())
        self.assertEqual(zoho.get_content_type(), "text/html")
        _, ses = self.only(imap, "it@example.com", "INBOX")
        self.assertIn("Sending paused for your Amazon SES account", header_of(ses, "Subject"))
        self.assertEqual(self.send(c, "z3"), {})
        self.assertEqual(len(imap.messages(OFFICE, "INBOX")), 2)
        st = self.stats(srv)
        self.assertEqual((st["notices_sent"], st["notices"]),
                         (3, ["google-critical", "zoho", "ses"]))


class TestMailboxConfig(unittest.TestCase):
    """Mistakes in the new members are usage errors (no Dovecot needed)."""

    def test_bad_provider_files(self):
        tmp = tempfile.mkdtemp(prefix="spoold-sim-")
        self.addCleanup(shutil.rmtree, tmp, True)
        good = {"imap_dir": tmp, "sent": {"user": OFFICE}}
        cases = [({"bounce": ["x@"]}, 'need(s) "mailboxes"'),
                 ({"silent_drop_after": 1}, 'need(s) "mailboxes"'),
                 ({"mailboxes": {"imap_dir": os.path.join(tmp, "nope")}}, "is not a directory"),
                 ({"mailboxes": dict(good, inbox="x")}, "mailboxes: unknown member(s) inbox"),
                 ({"mailboxes": {"imap_dir": tmp}, "bounce": ["x@"]}, "need mailboxes.account"),
                 ({"mailboxes": good, "notice": {"after": 1, "kind": "aol"}},
                  "notice.kind must be one of"),
                 ({"mailboxes": good, "notice": {"kind": "zoho"}}, "notice must be"),
                 ({"mailboxes": good, "silent_drop_files_sent": "yes"},
                  "silent_drop_files_sent must be"),
                 ({"mailboxes": dict(good, deliver={"a@b": 3})}, "mailboxes.deliver.a@b")]
        for conf, msg in cases:
            path = os.path.join(tmp, "bad.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(conf, f)
            r = subprocess.run([PYTHON, SMTPSERVER, "--port", "0", "--ready-file",
                                os.path.join(tmp, "ready"), "--mbox",
                                os.path.join(tmp, "mbox"), "--provider", path],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, (conf, r.stderr))
            self.assertIn(msg, r.stderr, conf)
            self.assertFalse(os.path.exists(os.path.join(tmp, "ready")))


CHECKER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "dsn.h"
static char buf[DSN_MAX_INPUT];
int main(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;
		struct dsn d;
		if (!f)
			return 2;
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		if (dsn_parse(buf, n, &d) != 0)
			return 3;
		printf("%d\t%s\t%s\t%s\t%s\t%s\n", (int)d.kind, d.notice, d.message_id, d.envid,
		       d.recipient, d.status);
	}
	return 0;
}
"""
LIBSPOOLD = os.path.join(BIN, "libspoold.a")
CC = shutil.which("cc")


@unittest.skipUnless(CC and os.path.exists(LIBSPOOLD), f"needs cc and {LIBSPOOLD}")
class TestSpooldReadsThem(MailboxTest):
    """spoold's dsn_parse (SPOOLD_BIN/libspoold.a) on what the simulator delivers:
    each notice kind is DSN_NOTICE with its name, a bounce DSN_BOUNCE with the
    envid, recipient, status and Message-ID.  A plain directory stands in for
    Dovecot's (deliveries are files), so this runs without Dovecot."""

    DSN_BOUNCE, DSN_NOTICE = 1, 3

    def checker(self):
        src, exe = os.path.join(self.tmp, "chk.c"), os.path.join(self.tmp, "chk")
        with open(src, "w", encoding="ascii") as f:
            f.write(CHECKER)
        r = subprocess.run([CC, "-std=c11", "-D_GNU_SOURCE", "-I", os.path.join(REPO, "lib"),
                            "-o", exe, src, LIBSPOOLD, "-letpan", "-ljansson", "-linih", "-lz",
                            "-lgnutls", "-ldl"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            self.skipTest(f"cannot link against {LIBSPOOLD}: {r.stderr[-500:]}")
        return exe

    def test_dsn_parse_classifies_bounces_and_notices(self):
        exe = self.checker()
        spec = importlib.util.spec_from_file_location("smtpserver", SMTPSERVER)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        root = os.path.join(self.tmp, "maildirs")
        os.makedirs(os.path.join(root, "mail"))
        srv = self.start({"profile": "gmail", "bounce": ["nobody@"],
                          "notice": [{"after": 0, "kind": k} for k in mod.NOTICES],
                          "mailboxes": {"imap_dir": root, "sent": {"user": OFFICE}}})
        inbox = os.path.join(root, "mail", OFFICE, "new")
        before = set(os.listdir(inbox))
        self.assertEqual(len(before), len(mod.NOTICES))
        c = self.client(srv)
        self.assertEqual(c.sendmail(FROM, ["nobody@example.net"], message("p1")), {})
        [bounce] = set(os.listdir(inbox)) - before

        def rows(names):
            r = subprocess.run([exe] + [os.path.join(inbox, n) for n in names],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return [ln.split("\t") for ln in r.stdout.splitlines()]

        notices = rows(sorted(before))
        self.assertEqual([r[0] for r in notices], [str(self.DSN_NOTICE)] * len(notices))
        self.assertEqual(sorted(r[1] for r in notices),
                         sorted(v["notice"] for v in mod.NOTICES.values()))
        [row] = rows([bounce])
        self.assertEqual(row, [str(self.DSN_BOUNCE), "", "<p1@sim.test>", "",
                               "nobody@example.net", "5.1.1"])

        # with --dsn: the envid spoold gave comes back decoded
        srv = self.start({"bounce": ["nobody@"],
                          "mailboxes": {"imap_dir": root, "account": OFFICE}}, dsn=True)
        c = self.client(srv)
        seen = set(os.listdir(inbox))
        self.assertEqual(c.sendmail(FROM, ["nobody@example.org"], message("p2"),
                                    mail_options=["ENVID=20251201-k3+2Bm8"]), {})
        [bounce2] = set(os.listdir(inbox)) - seen
        [row] = rows([bounce2])
        self.assertEqual(row, [str(self.DSN_BOUNCE), "", "<p2@sim.test>", "20251201-k3+m8",
                               "nobody@example.org", "5.1.1"])


if __name__ == "__main__":
    unittest.main()
