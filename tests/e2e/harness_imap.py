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
spoold holds one.  The provider simulator can deliver the same way:
imapserver.deliver(dir, user, folder, data).
"""

import importlib.util
import itertools
import os
import signal
import subprocess
import time

from harness import PYTHON, REPO, Inotify, certs

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
        with Inotify([self.dir]) as ino:
            self.err = open(self.errfile, "wb")
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=self.err)
            deadline = time.monotonic() + 20
            while not os.path.exists(self.ready):
                left = deadline - time.monotonic()
                if self.proc.poll() is not None or left <= 0:
                    self.stop()
                    raise AssertionError(f"imapserver did not become ready "
                                         f"(status {self.proc.poll()}):\n{self.stderr()}")
                ino.wait(min(left, 1.0))  # 1 s cap only to notice a dead server
        with open(self.ready, encoding="ascii") as f:
            self.port_starttls, self.port_implicit = map(int, f.read().split())

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
