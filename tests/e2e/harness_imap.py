"""harness_imap - a private Dovecot (tests/imapserver.py) for end-to-end tests.

    from harness_imap import ImapServer, have_dovecot, start_imap

    @unittest.skipUnless(have_dovecot(), "dovecot-imapd is not installed")
    class T(E2ETestCase):
        def test_x(self):
            imap = start_imap(self, users={"office@example.com": "secret"})
            imap.deliver("office@example.com", "INBOX", b"Message-ID: <1@x>\\r\\n\\r\\nhi\\r\\n")
            ... spoold with imap.settings("office@example.com") ...
            msgs = imap.messages("office@example.com", "INBOX")
            self.assertIn("$SpooldProcessed", msgs[0]["keywords"])

ImapServer follows SmtpServer's conventions (harness.py): its own directory
ROOT/imap-N, the certificates of harness.certs() (the same test CA as the
SMTP server; cert="wrong" serves the wrong.example certificate), a ready
file waited for with inotify (no sleeps), stop() with SIGTERM then SIGKILL
that never raises.  Dovecot listens on 127.0.0.1: port_starttls (IMAP with
STARTTLS) and port_implicit (IMAPS).  Every user has INBOX and Sent.

deliver(user, folder, data, flags="") writes a message into a mailbox the
way a delivery agent does (Maildir tmp/ then new/, or cur/ with flags such
as "S" for \\Seen); Dovecot sees it at the client's next SELECT or NOOP.
messages(user, folder) lists what is there: uid (once Dovecot saw it),
flags (\\Seen, ...), keywords ($SpooldProcessed, ...), message_id.  Both
work on the files, so they need no IMAP session and can be used while
spoold holds one.  read(user, folder, msg) is a listed message's bytes;
wait_messages(user, folder, n) waits (inotify) until n are there.

The provider simulator (tests/smtpserver.py --provider) delivers the same
way, into this server's files: mailboxes(sent=..., deliver=..., account=...)
is its "mailboxes" member for this server, e.g.

    imap = start_imap(self, users={"office@example.com": "secret",
                                   "canary@other.example": "secret"})
    srv = self.start_server(provider={
        "profile": "gmail", "silent_drop_after": 3, "bounce": ["nobody@"],
        "mailboxes": imap.mailboxes(sent="office@example.com",
                                    deliver=["canary@other.example"])}, stats=True)

A canary mailbox on another provider is another ImapServer:
deliver={"canary@other.example": other.mailbox("canary@other.example")}.
"""

import importlib.util
import itertools
import json
import os
import signal
import subprocess

from harness import PYTHON, REPO, certs, start_until_ready, wait_until

IMAPSERVER = os.path.join(REPO, "tests", "imapserver.py")
DOVECOT = "/usr/sbin/dovecot"

_spec = importlib.util.spec_from_file_location("imapserver", IMAPSERVER)
imapserver = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(imapserver)

_counter = itertools.count(1)


def have_dovecot():
    """True when Dovecot can be started (Debian's dovecot-imapd)."""
    return os.access(DOVECOT, os.X_OK)


class ImapServer:
    """tests/imapserver.py in ROOT/imap-N; users is {address: password}."""

    def __init__(self, root, users=None, cert="server", verbose=False):
        self.dir = os.path.join(root, f"imap-{next(_counter)}")
        os.makedirs(self.dir)
        self.users = dict(users or {"office@example.com": "secret"})
        self.ca_file = os.path.join(certs(), "ca.crt")
        self.ready = os.path.join(self.dir, "ready")
        self.errfile = os.path.join(self.dir, "stderr.log")
        self.data = os.path.join(self.dir, "server")  # imapserver.py's --dir
        argv = [PYTHON, IMAPSERVER, "--dir", self.data, "--ready-file", self.ready,
                "--cert-dir", certs(), "--cert", cert]
        for u, p in self.users.items():
            argv += ["--user", f"{u}:{p}"]
        if verbose:
            argv.append("--verbose")
        ports = start_until_ready(self, argv, "imapserver", 20)
        self.port_starttls, self.port_implicit = map(int, ports.split())

    def settings(self, user, tls="implicit"):
        """What a client needs: host, port, tls, ca_file, user, password."""
        return {"host": "127.0.0.1",
                "port": self.port_implicit if tls == "implicit" else self.port_starttls,
                "tls": tls, "ca_file": self.ca_file, "user": user,
                "password": self.users[user]}

    def deliver(self, user, folder, data, flags=""):
        """Put data (bytes, CRLF line ends) into user's folder; the file name."""
        return imapserver.deliver(self.data, user, folder, data, flags)

    def messages(self, user, folder):
        """user's messages in folder (dicts: file, uid, flags, keywords, message_id)."""
        return imapserver.list_folder(self.data, user, folder)

    def read(self, user, folder, msg):
        """The bytes of msg (an entry of messages(user, folder))."""
        with open(os.path.join(imapserver.folder_dir(self.data, user, folder), msg["file"]),
                  "rb") as f:
            return f.read()

    def wait_messages(self, user, folder, n=1, timeout=10, pred=None):
        """user's messages in folder once at least n of them (those for which
        pred(msg, data) holds, when given) are there; inotify on new/ and cur/.
        With pred, the messages returned are the ones it accepted."""
        d = imapserver.folder_dir(self.data, user, folder)
        imapserver.make_maildir(d)

        def found():
            msgs = self.messages(user, folder)
            if pred is not None:
                try:
                    msgs = [m for m in msgs if pred(m, self.read(user, folder, m))]
                except FileNotFoundError:  # Dovecot moved one from new/ to cur/: the
                    return None            # rename is an event, so this is re-checked
            return msgs if len(msgs) >= n else None
        return wait_until(found, timeout, [os.path.join(d, "new"), os.path.join(d, "cur")],
                          f"{n} message(s) in {user}/{folder}",
                          lambda: json.dumps(self.messages(user, folder), indent=1))

    def mailbox(self, user):
        """A mailboxes.deliver target for user of this server: {"user", "imap_dir"}
        (for a provider whose own imap_dir is another server's)."""
        return {"user": user, "imap_dir": self.data}

    def mailboxes(self, sent=None, deliver=(), account=None, folder="Sent"):
        """The provider simulator's "mailboxes" member for this server:
        sent: the user whose folder gets a copy of every accepted message
        (None: the provider files no sent mail); deliver: recipient addresses
        delivered to the user of the same name, or a dict {address: user or
        mailbox(...)}; account: the user receiving bounces and notices
        (default: sent).  See tests/smtpserver.py."""
        mb = {"imap_dir": self.data}
        if sent is not None:
            mb["sent"] = {"user": sent, "folder": folder}
        if account is not None:
            mb["account"] = account
        if deliver:
            mb["deliver"] = (dict(deliver) if isinstance(deliver, dict)
                             else {a: a for a in deliver})
        return mb

    def flags(self, user, folder):
        """{message_id: flags and keywords} of user's folder."""
        return {m["message_id"]: m["flags"] + m["keywords"]
                for m in self.messages(user, folder)}

    def stderr(self):
        """imapserver.py's standard error and Dovecot's log."""
        out = []
        for p in (self.errfile, os.path.join(self.data, "dovecot.log")):
            try:
                with open(p, encoding="utf-8", errors="replace") as f:
                    out.append(f.read())
            except OSError:
                pass
        return "\n".join(out)

    def stop(self):
        """SIGTERM (imapserver.py stops Dovecot), then SIGKILL; never raises."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        except Exception as e:  # a cleanup must not hide the test's own failure
            print(f"harness_imap: stopping imapserver: {e!r}")
        finally:
            self.err.close()


def start_imap(testcase, **kw):
    """An ImapServer in testcase.tmp, stopped in the test's cleanups."""
    s = ImapServer(testcase.tmp, **kw)
    testcase.addCleanup(s.stop)
    return s
