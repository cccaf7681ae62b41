"""harness - shared code for spoold's end-to-end tests.

Run with /usr/bin/python3 (aiosmtpd is the Debian package):

    SPOOLD_BIN=build/plain python3 -m unittest discover -s tests/e2e -p 'test_*.py' -v

SPOOLD_BIN is the build directory (relative to the repository or absolute);
spoold is SPOOLD_BIN/spoold/spoold.  SPOOLD_E2E_KEEP=1 keeps the temporary
directories of failed tests and prints where they are.

No test sleeps to synchronise.  Every wait is on an event with a deadline:
  - files and folders: inotify (through ctypes) on the directory, then the
    condition is checked again; wait_until() is the one loop that does it;
  - spoold's log: a reader thread collects stderr lines and wakes waiters
    (Daemon.wait_log);
  - processes: Popen.wait(timeout).
E2ETestCase stops every process it started (SIGTERM, then SIGKILL) in its
cleanups, which run even when a test fails.
"""

import ctypes
import ctypes.util
import getpass
import gzip
import itertools
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from datetime import datetime, timedelta, timezone

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BIN = os.environ.get("SPOOLD_BIN", "build/plain")
BIN = _BIN if os.path.isabs(_BIN) else os.path.join(REPO, _BIN)
SPOOLD = os.path.join(BIN, "spoold", "spoold")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SMTPSERVER = os.path.join(REPO, "tests", "smtpserver.py")
MKCERTS = os.path.join(REPO, "tests", "mkcerts.sh")

FOLDERS = ("tmp", "new", "active", "deferred", "hold", "sent", "failed", "corrupt")
FROM_ADDR = "reminders@springfield-chiro.example"
PASSWORD = "s3cret-Pa55"
RELAY_USER = "frontdesk@springfield-chiro.example"
TZ = timezone(timedelta(hours=-6))

EX_CONFIG = 78

# ---------------------------------------------------------------- inotify

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_ALL_CHANGES = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO
                  | IN_CREATE | IN_DELETE)
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = 0o2000000

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]


class Inotify:
    """An inotify descriptor watching some directories; wait() blocks until
    something changes in one of them (or the timeout passes)."""

    def __init__(self, paths, mask=IN_ALL_CHANGES):
        self.fd = _libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        for p in paths:
            if _libc.inotify_add_watch(self.fd, os.fsencode(p), mask) < 0:
                e = ctypes.get_errno()
                os.close(self.fd)
                raise OSError(e, f"inotify_add_watch {p}")

    def wait(self, timeout):
        """Block until an event arrives or timeout seconds pass; drain events."""
        r, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if r:
            try:
                while os.read(self.fd, 65536):
                    pass
            except BlockingIOError:
                pass
        return bool(r)

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_until(pred, timeout, paths, what, detail=None):
    """Return pred()'s first true value, re-checking it whenever something
    changes in one of the directories paths; AssertionError after timeout
    seconds.  The watch is set up before the first check, so no change can
    slip between check and wait.  detail() adds context to the failure."""
    deadline = time.monotonic() + timeout
    with Inotify(paths) as ino:
        while True:
            v = pred()
            if v:
                return v
            left = deadline - time.monotonic()
            if left <= 0:
                msg = f"timed out after {timeout:.1f} s waiting for {what}"
                if detail is not None:
                    msg += "\n" + detail()
                raise AssertionError(msg)
            ino.wait(left)


# ---------------------------------------------------------------- processes

class Daemon:
    """A process whose stderr is read line by line by a thread."""

    def __init__(self, argv, name, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.pid = self.proc.pid
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def _reader(self):
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def mark(self):
        """The number of lines read so far (a starting point for wait_log)."""
        with self.cond:
            return len(self.lines)

    def find(self, pattern, since=0):
        """The first match of pattern in the lines from index since, or None."""
        rx = re.compile(pattern)
        with self.cond:
            for line in self.lines[since:]:
                m = rx.search(line)
                if m:
                    return m
        return None

    def findall(self, pattern, since=0):
        rx = re.compile(pattern)
        with self.cond:
            return [m for m in (rx.search(ln) for ln in self.lines[since:]) if m]

    def wait_log(self, pattern, timeout=10, since=0, count=1):
        """Wait for count lines matching pattern (from line index since);
        returns the last match.  Fails early when the process has exited."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [m for m in (rx.search(ln) for ln in self.lines[since:]) if m]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    why = (f"{self.name} exited (status {self.proc.poll()})" if self.eof
                           else f"timed out after {timeout} s")
                    raise AssertionError(
                        f"{why} waiting for {count} log line(s) matching {pattern!r} "
                        f"(found {len(found)})\n{self.tail()}")
                self.cond.wait(left)

    def tail(self, n=40):
        with self.cond:
            return "\n".join(f"  {self.name}| {ln}" for ln in self.lines[-n:])

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait_exit(self, timeout=10):
        """The exit status; AssertionError if it does not exit in time."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit within {timeout} s\n{self.tail()}")
        self.thread.join(timeout=5)
        return rc

    def kill9(self):
        """SIGKILL and reap."""
        if self.alive():
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.thread.join(timeout=5)

    def stop(self, timeout=5):
        """SIGTERM, then SIGKILL after timeout; never raises."""
        try:
            if self.alive():
                try:
                    os.kill(self.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.thread.join(timeout=5)
        except Exception as e:  # a cleanup must not hide the test's own failure
            print(f"harness: stopping {self.name}: {e!r}", file=sys.stderr)
        finally:
            if self.proc.stderr:
                self.proc.stderr.close()


def start_until_ready(server, argv, what, timeout):
    """Start argv as server.proc (stderr to server.errfile) and wait, by inotify
    on server.dir, for its ready file server.ready; its text.  A server that
    dies or is not ready in time is stopped (server.stop()) and an
    AssertionError carries its standard error (server.stderr())."""
    with Inotify([server.dir]) as ino:
        server.err = open(server.errfile, "wb")
        server.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=server.err)
        deadline = time.monotonic() + timeout
        while not os.path.exists(server.ready):
            left = deadline - time.monotonic()
            if server.proc.poll() is not None or left <= 0:
                server.stop()
                raise AssertionError(f"{what} did not become ready "
                                     f"(status {server.proc.poll()}):\n{server.stderr()}")
            ino.wait(min(left, 1.0))  # 1 s cap only to notice a dead server
    with open(server.ready, encoding="ascii") as f:
        return f.read()


class SmtpServer:
    """tests/smtpserver.py in its own directory (mbox, ready file, stderr)."""

    def __init__(self, root, tls=None, cert="server", auth=False, script=None, verbose=True,
                 provider=None, stats=False, dsn=False):
        """provider: a provider simulation (a dict, written to DIR/provider.json,
        or a path) for --provider; stats: True to have the server keep
        DIR/stats.json (--stats); dsn: offer DSN (--dsn: ENVID, NOTIFY, ...
        logged, and used in the provider's bounces).  See tests/smtpserver.py.
        A provider that delivers into a private Dovecot (harness_imap):
        provider={"profile": "gmail", "mailboxes": imap.mailboxes(sent=USER)}."""
        self.dir = os.path.join(root, f"smtp-{next(_counter)}")
        self.mbox = os.path.join(self.dir, "mbox")
        os.makedirs(self.mbox)
        self.tls = tls or "none"
        self.auth = auth
        self.ready = os.path.join(self.dir, "ready")
        self.errfile = os.path.join(self.dir, "stderr.log")
        argv = [PYTHON, SMTPSERVER, "--port", "0", "--ready-file", self.ready,
                "--mbox", self.mbox]
        if tls:
            c = certs()
            argv += ["--tls-cert", os.path.join(c, f"{cert}.crt"),
                     "--tls-key", os.path.join(c, f"{cert}.key"),
                     "--starttls" if tls == "starttls" else "--implicit-tls"]
        if auth:
            argv += ["--auth", f"{RELAY_USER}:{PASSWORD}"]
        if script is not None:
            path = os.path.join(self.dir, "script.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(script, f)
            argv += ["--script", path]
        self.provider_file = None
        if provider is not None:
            self.provider_file = provider if isinstance(provider, str) else \
                os.path.join(self.dir, "provider.json")
            if not isinstance(provider, str):
                with open(self.provider_file, "w", encoding="utf-8") as f:
                    json.dump(provider, f)
            argv += ["--provider", self.provider_file]
        self.stats_file = os.path.join(self.dir, "stats.json") if stats else None
        if stats:
            argv += ["--stats", self.stats_file]
        if dsn:
            argv.append("--dsn")
        if verbose:
            argv.append("--verbose")
        self.port = int(start_until_ready(self, argv, "smtpserver", 15).strip())

    def stderr(self):
        try:
            with open(self.errfile, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def records(self):
        """The log.jsonl records, one per accepted message (complete lines only)."""
        try:
            with open(os.path.join(self.mbox, "log.jsonl"), encoding="utf-8") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        return [json.loads(ln) for ln in data.split("\n")[:-1] if ln.strip()]

    def stats(self):
        """The provider's stats file (needs stats=True), as a dict."""
        with open(self.stats_file, encoding="utf-8") as f:
            return json.load(f)

    def wait_stats(self, pred, what, timeout=10):
        """The stats once pred(stats) holds (re-checked when the file is replaced)."""
        return wait_until(lambda: (lambda s: s if pred(s) else None)(self.stats()), timeout,
                          [self.dir], what, lambda: json.dumps(self.stats()))

    def count(self):
        try:
            with open(os.path.join(self.mbox, "log.jsonl"), "rb") as f:
                return f.read().count(b"\n")
        except FileNotFoundError:
            return 0

    def message(self, rec):
        with open(os.path.join(self.mbox, rec["file"]), "rb") as f:
            return f.read()

    def by_msgid(self, msgid):
        return [r for r in self.records() if r.get("message_id") == msgid]

    def wait_count(self, n, timeout=10):
        return wait_until(lambda: self.count() >= n, timeout, [self.mbox],
                          f"{n} message(s) at the SMTP server")

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        try:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGCONT)
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        except Exception as e:
            print(f"harness: stopping smtpserver: {e!r}", file=sys.stderr)
        finally:
            self.err.close()


# ---------------------------------------------------------------- certificates

_counter = itertools.count(1)
_certdir = None


def certs():
    """The directory of tests/mkcerts.sh's certificates, made once per run."""
    global _certdir
    if _certdir is None:
        d = tempfile.mkdtemp(prefix="spoold-e2e-certs-")
        subprocess.run(["sh", MKCERTS, d], check=True, timeout=60,
                       stdout=subprocess.DEVNULL)
        import atexit
        atexit.register(shutil.rmtree, d, True)
        _certdir = d
    return _certdir


# ---------------------------------------------------------------- jobs

def rfc3339(t):
    """An RFC 3339 time with a -06:00 offset for the epoch time t."""
    return datetime.fromtimestamp(int(t), TZ).isoformat(timespec="seconds")


def make_job(job_id, email="jane@example.com", first="Jane", last="Doe", start=None,
             **extra):
    """A valid reminder job; extra members are added (None removes one)."""
    start = start if start is not None else time.time() + 2 * 86400
    job = {
        "version": 1,
        "id": job_id,
        "kind": "reminder",
        "to": {"name": f"{first} {last}", "email": email},
        "patient": {"first_name": first, "last_name": last},
        "appointment": {"start": rfc3339(start), "minutes": 30,
                        "provider": "Dr. Michael Miller", "location": "Main St office"},
        "practice": {"name": "Springfield Chiropractic", "phone": "417-555-0100"},
        "locale": "en",
    }
    for k, v in extra.items():
        if v is None:
            job.pop(k, None)
        else:
            job[k] = v
    return job


def job_names(folder):
    """Job names in a spool folder: no hidden temporaries, no side files."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if not n.startswith(".")
                  and not n.endswith(".reason.txt") and not n.endswith(".eml.gz"))


def header(msg, name):
    """The (unfolded) value of the first header name in a message's bytes."""
    head = msg.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    head = re.sub(r"\r\n[ \t]+", " ", head)
    for line in head.split("\r\n"):
        k, _, v = line.partition(":")
        if k.lower() == name.lower():
            return v.strip()
    return None


# ---------------------------------------------------------------- the test case

class E2ETestCase(unittest.TestCase):
    """A temporary spool and helpers; every process is stopped in cleanups."""

    def setUp(self):
        if not os.access(SPOOLD, os.X_OK):
            self.fail(f"{SPOOLD} is not built (run make; SPOOLD_BIN={_BIN})")
        self.tmp = tempfile.mkdtemp(prefix="spoold-e2e-")
        self.spool = os.path.join(self.tmp, "spool")
        self.daemons = []
        self.servers = []
        self._jobseq = itertools.count(1)
        self.addCleanup(self._remove_tmp)
        self.addCleanup(self._stop_all)

    def _stop_all(self):
        for d in self.daemons:
            d.stop()
        for s in self.servers:
            s.stop()

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return False
        return any(t is self for t, _ in result.failures + result.errors)

    def _remove_tmp(self):
        if os.environ.get("SPOOLD_E2E_KEEP") and self._failed():
            print(f"\nharness: kept {self.tmp}", file=sys.stderr)
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- paths

    def folder(self, name):
        return os.path.join(self.spool, name)

    def path(self, folder, name):
        return os.path.join(self.spool, folder, name)

    def jobs_in(self, folder):
        return job_names(self.folder(folder))

    def where(self, name):
        """The folders (excluding tmp/) holding job name."""
        return [f for f in FOLDERS[1:] if os.path.lexists(self.path(f, name))]

    def read_job(self, folder, name):
        with open(self.path(folder, name), encoding="utf-8") as f:
            return json.load(f)

    def read_text(self, folder, name):
        with open(self.path(folder, name), encoding="utf-8") as f:
            return f.read()

    def read_eml(self, name):
        with gzip.open(self.path("sent", name + ".eml.gz"), "rb") as f:
            return f.read()

    def listing(self):
        out = []
        for f in FOLDERS:
            try:
                out.append(f"  {f}/: {sorted(os.listdir(self.folder(f)))[:20]}")
            except FileNotFoundError:
                out.append(f"  {f}/: (missing)")
        return "\n".join(out)

    def context(self):
        parts = ["spool:", self.listing()]
        for d in self.daemons:
            parts.append(d.tail(25))
        return "\n".join(parts)

    # -- set-up

    def start_server(self, **kw):
        s = SmtpServer(self.tmp, **kw)
        self.servers.append(s)
        return s

    def make_spool(self):
        """Create the spool folders (for jobs placed before spoold starts)."""
        for f in FOLDERS + ("ids",):
            os.makedirs(self.folder(f), exist_ok=True)

    def write_password(self, mode=0o600, name="password"):
        path = os.path.join(self.tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(path, mode)
        return path

    def write_conf(self, server, tls=None, timeout=10, from_name="Springfield Chiropractic",
                   password_mode=0o600, name="spoold.conf", top=None, relay=None):
        """A configuration for server (tls and auth as the server has them)."""
        tls = tls or server.tls
        lines = [f"spool_dir = {self.spool}", f"user = {getpass.getuser()}"]
        lines += [f"{k} = {v}" for k, v in (top or {}).items()]
        lines += ["", "[relay]", "host = 127.0.0.1", f"port = {server.port}", f"tls = {tls}"]
        if tls != "none":
            lines.append(f"ca_file = {os.path.join(certs(), 'ca.crt')}")
        if server.auth:
            lines += [f"user = {RELAY_USER}",
                      f"password_file = {self.write_password(password_mode)}"]
        lines += [f"from = {FROM_ADDR}", f"from_name = {from_name}", "helo = spoold.test",
                  f"timeout = {timeout}"]
        lines += [f"{k} = {v}" for k, v in (relay or {}).items()]
        path = os.path.join(self.tmp, name)
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(tmp, path)
        return path

    def start_spoold(self, conf, *args, wait=True):
        """spoold -f -c conf; waits for its start-up scan unless wait is False."""
        d = Daemon([SPOOLD, "-f", "-c", conf, *args], f"spoold#{len(self.daemons) + 1}")
        self.daemons.append(d)
        if wait:
            d.wait_log(r"spool \S+: \d+ jobs waiting", timeout=15)
        return d

    # -- jobs

    def new_name(self, tag="job"):
        return f"{int(time.time())}.e2e{os.getpid()}Q{next(self._jobseq)}.{tag}"

    def submit(self, job, name=None, tag="job"):
        """Write a job by the Maildir rule: tmp/, fsync, rename into new/."""
        name = name or self.new_name(tag)
        data = job if isinstance(job, bytes) else json.dumps(job, indent=2).encode()
        os.makedirs(self.folder("tmp"), exist_ok=True)
        t = self.path("tmp", name)
        fd = os.open(t, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(t, self.path("new", name))
        return name

    def wait_in(self, folder, name, timeout=10):
        """Wait until job name is in folder."""
        return wait_until(lambda: os.path.lexists(self.path(folder, name)), timeout,
                          [self.folder(folder)], f"{name} in {folder}/", self.context)

    def wait_count(self, folder, n, timeout=10):
        return wait_until(lambda: len(self.jobs_in(folder)) >= n, timeout,
                          [self.folder(folder)], f"{n} jobs in {folder}/", self.context)

    def wait_sent(self, d, name, timeout=10, since=0):
        """Wait for spoold's category=sent line for name; the job must be in sent/."""
        m = d.wait_log(rf"job={re.escape(name)} .*category=sent\b", timeout=timeout,
                       since=since)
        self.assertEqual(self.where(name), ["sent"], self.context())
        return m

    def attempts(self, folder, name):
        return self.read_job(folder, name).get("spool", {}).get("attempts", [])
