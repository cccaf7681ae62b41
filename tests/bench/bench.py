#!/usr/bin/python3
"""bench.py - spoold's benchmark, with Postfix, msmtp and smtp-source as anchors.

    SPOOLD_BIN=build/bench /usr/bin/python3 tests/bench/bench.py     (what `make bench` runs)

(a) drain: BENCH_JOBS jobs (default 10,000) are placed in new/ while spoold is
    not running; spoold -q is started under /usr/bin/time -v and timed until it
    exits, delivering to Postfix's smtp-sink.  Its peak RSS is time's "Maximum
    resident set size".  The same number of messages of the same size (one of
    spoold's sent messages) then goes
      - through a private Postfix instance: accepted by its smtpd on a private
        loopback port and kept on hold, then released (postsuper -H ALL;
        postqueue -f) and timed until the sink has them all and the queue is
        empty;
      - through msmtp, one process per message (BENCH_MSMTP_JOBS, default
        200, a sample: the rate is extrapolated);
      - through smtp-source on one connection: the ceiling of the sink.
(b) latency: BENCH_LATENCY_JOBS (100) single jobs dropped one at a time into an
    idle spoold (written in tmp/, renamed into new/); from the rename to the
    moment a recording SMTP server (in this process) has sent its 250.  The
    next job is dropped once spoold has logged the previous one as filed (its
    log lines follow the fsyncs).  The same for Postfix's sendmail, from
    sendmail's exit (the message is queued) to the 250.
(c) memory: spoold's RSS idle with an empty spool, and with BENCH_WAIT_JOBS
    (100,000) jobs in deferred/ due in a day: read from /proc/PID/status once
    spoold has logged "spool ...: N jobs waiting".  That spool lives on tmpfs
    (/dev/shm) when there is one, so as not to delete 100,000 files on the
    disk (see below); BENCH_WAIT_DIR chooses another place.

(d) pacing: BENCH_PACING_JOBS (1,000; 0 skips the phase) jobs against the
    provider simulator (tests/smtpserver.py --provider) playing an account
    that allows 600 messages in any sliding 60 s window (10/s on average) and
    suspends itself (on_exceed "suspend") at the first message beyond it;
    spoold -q is configured with [pacing] per_minute = 600 and nothing else.
    It must finish with zero suspensions (the simulator's stats) while using
    at least 90% of the allowed rate.  The fraction is
        (ideal minimum time) / (actual time)
    where the ideal is the least time from the first to the last of N
    messages that the window allows, floor((N - 1) / 600) x 60 s (600 go at
    once, the next 600 once the first has left the window, ...), and the
    actual time is from the first to the last message the simulator accepted
    (its own clock, log.jsonl "time").  BENCH_PACING_SCALE=S (default 1)
    shortens the window: spoold gets SPOOLD_TEST_TIME_SCALE=S (its window is
    60000 / S ms, integer division) and the simulator minute_seconds of the
    same length; the table says so.  N <= 600 needs no wait: no fraction.
    The first 600 go as fast as the simulator (Python) takes them and the
    last N - 600 follow them a window later, so the fraction is at most
    W / (W + time to send N - 600 at full speed): a loaded machine, or a
    scaled (shorter) window, lowers it without spoold pacing any worse.

BENCH_ROUNDS (default 3) repeats the drains of (a) (spoold, Postfix,
smtp-source) and keeps each one's best round: other load on the machine only
ever slows a round down.  On a two-CPU virtual machine single rounds of the
same build were seen to differ by a factor of two (a neighbour's load, and on
ext4 without a journal the inodes other programs deleted in the last
minutes, which every file creation scans past), so one round says little.

Everything runs on 127.0.0.1 under a fresh directory of build/bench-run/
(BENCH_DIR chooses another), removed at the end unless BENCH_KEEP=1.  Every
process started is stopped at the end, also on an error, SIGINT or SIGTERM
(a private Postfix with `postfix stop`, then `abort`).  Every wait has a
deadline.  The table goes to stdout and to build/bench-results.txt
(BENCH_RESULTS); progress goes to stderr.  Exit status: 0 when every figure
was measured, 1 when one could not be (its cell says why), 2 on a usage
error; with BENCH_STRICT=1 also 1 when a target is missed.

spoold renders with the templates of this tree (SPOOLD_TEMPLATES, unless set).

A file system note: on ext4 without a journal, creating a file skips every
free inode of its group that was deleted in the last 60 s (360 s while its
inode table block is dirty): the kernel's recently_deleted().  spoold creates
two files per job (the message in sent/, the idempotency marker) and deletes
none (a rewritten job's old inode is reused for the next rewrite), but a run
started soon after a large deletion (the previous run's clean-up) is slower.  The
table's header names the file system of the work directory; BENCH_DIR can
put the run elsewhere.
"""

import atexit
import ctypes
import gzip
import json
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FROM = "office@example.com"
MB = 1000 * 1000  # the targets are in decimal megabytes: 6 MB + 128 B x 100,000 = 18.8 MB
BASE_BYTES = 6 * MB
BYTES_PER_JOB = 128


def env_int(name, default, minimum=1):
    v = os.environ.get(name, "")
    if not v:
        return default
    try:
        n = int(v.replace(",", "").replace("_", ""))
    except ValueError:
        sys.exit("bench: %s=%r is not a number" % (name, v))
    if n < minimum:
        sys.exit("bench: %s must be at least %d" % (name, minimum))
    return n


N_DRAIN = env_int("BENCH_JOBS", 10000)
N_MSMTP = env_int("BENCH_MSMTP_JOBS", min(N_DRAIN, 200))
N_LAT = env_int("BENCH_LATENCY_JOBS", 100)
N_WAIT = env_int("BENCH_WAIT_JOBS", 100000)
N_PACE = env_int("BENCH_PACING_JOBS", 1000, minimum=0)
PACE_SCALE = env_int("BENCH_PACING_SCALE", 1)
PACE_LIMIT = 600  # per sliding minute: the simulator's and spoold's
ROUNDS = env_int("BENCH_ROUNDS", 3)  # drains are repeated; the best round of each counts
KEEP = os.environ.get("BENCH_KEEP") == "1"
STRICT = os.environ.get("BENCH_STRICT") == "1"
RESULTS = os.environ.get("BENCH_RESULTS") or os.path.join(ROOT, "build", "bench-results.txt")
SPOOLD = os.path.join(os.environ.get("SPOOLD_BIN") or os.path.join(ROOT, "build", "plain"),
                      "spoold", "spoold")
IS_ROOT = os.geteuid() == 0
ME = pwd.getpwuid(os.geteuid()).pw_name


def which(name, *dirs):
    for d in dirs + ("/usr/sbin", "/usr/bin", "/usr/lib/postfix/sbin", "/sbin", "/bin"):
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return shutil.which(name)


SMTP_SINK = which("smtp-sink")
SMTP_SOURCE = which("smtp-source")
POSTFIX = which("postfix")
POSTSUPER = which("postsuper")
POSTQUEUE = which("postqueue")
SENDMAIL = which("sendmail")
MSMTP = which("msmtp")
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
SIMULATOR = os.path.join(ROOT, "tests", "smtpserver.py")
SIM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def say(fmt, *args):
    sys.stderr.write("bench: " + (fmt % args if args else fmt) + "\n")
    sys.stderr.flush()


class Failed(Exception):
    """A measurement that could not be made; the message says why."""


def deadline_loop(seconds, step=0.01):
    """Yield until seconds have passed, sleeping step between tries."""
    end = time.monotonic() + seconds
    while True:
        yield
        if time.monotonic() >= end:
            return
        time.sleep(step)


# ---------------------------------------------------------------- processes

_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork


def _die_with_parent():
    # If this script is killed outright, children that kept our credentials
    # get SIGTERM (spoold, smtp-source, msmtp).  smtp-sink drops to nobody,
    # which clears the setting; the normal clean-up covers it.
    _prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM


class Procs:
    """Everything started, stopped in reverse order by stop_all()."""

    def __init__(self):
        self.procs = []
        self.postfixes = []
        self.lock = threading.Lock()

    def start(self, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kw)
        with self.lock:
            self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=10):
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
            except ProcessLookupError:
                pass
        with self.lock:
            if p in self.procs:
                self.procs.remove(p)

    def stop_all(self):
        for pf in reversed(self.postfixes[:]):
            pf.stop()
        for p in reversed(self.procs[:]):
            try:
                self.stop(p, wait=5)
            except Exception as e:  # keep going: stop the rest
                say("could not stop pid %d: %s", p.pid, e)


PROCS = Procs()


def _on_signal(signo, frame):
    raise SystemExit(128 + signo)


# ---------------------------------------------------------------- SMTP servers

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_greeting(port, token, seconds=15):
    """Wait until 127.0.0.1:port greets with a line containing token."""
    last = "no answer"
    for _ in deadline_loop(seconds, 0.02):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(5)
                line = s.makefile("rb").readline().decode("ascii", "replace").strip()
                if line.startswith("220") and token in line:
                    try:
                        s.sendall(b"QUIT\r\n")
                    except OSError:
                        pass
                    return
                last = "greeting %r (not ours: is the port taken?)" % line
        except OSError as e:
            last = str(e)
    raise Failed("127.0.0.1:%d did not greet as %s: %s" % (port, token, last))


class Sink:
    """Postfix's smtp-sink on a free port; counts messages from its -c output."""

    def __init__(self, tag):
        if not SMTP_SINK:
            raise Failed("smtp-sink not found (package postfix)")
        self.port = free_port()
        self.name = "bench-sink-%d-%s" % (os.getpid(), tag)
        argv = [SMTP_SINK, "-c", "-h", self.name]
        if IS_ROOT:
            argv += ["-u", "nobody"]
        argv += ["127.0.0.1:%d" % self.port, "1000"]
        self.count = 0
        self.times = {}  # count -> monotonic time it was first seen
        self.cond = threading.Condition()
        self.proc = PROCS.start(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        wait_greeting(self.port, self.name)

    def _read(self):
        fd = self.proc.stdout.fileno()
        tail = b""
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            now = time.monotonic()
            tail = (tail + data)[-256:]
            m = re.findall(rb"mesg=(\d+)\r", tail)
            if m:
                n = int(m[-1])
                with self.cond:
                    if n > self.count:
                        self.count = n
                        self.times[n] = now
                        self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_count(self, n, seconds):
        """The monotonic time the sink counted n messages, or Failed."""
        with self.cond:
            self.cond.wait_for(lambda: self.count >= n or self.proc.poll() is not None, seconds)
            if self.count >= n:
                return min(t for c, t in self.times.items() if c >= n)
            raise Failed("smtp-sink counted %d of %d messages within %d s"
                         % (self.count, n, seconds))

    def stop(self):
        PROCS.stop(self.proc)


class Recorder:
    """A small threaded SMTP server that notes when it sent 250 for each
    message, keyed by its X-Spool-Job or X-Bench-Id header."""

    NAME = "bench-recorder"

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.times = {}
        self.cond = threading.Condition()
        self.stopping = False
        self.conns = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conns.add(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(120)
            f = c.makefile("rb")
            c.sendall(b"220 %s ESMTP\r\n" % self.NAME.encode())
            while True:
                line = f.readline(4096)
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"EHLO":
                    c.sendall(b"250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10240000\r\n"
                              % self.NAME.encode())
                elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    c.sendall(b"250 2.0.0 Ok\r\n")
                elif verb == b"DATA":
                    c.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    key, in_headers = None, True
                    while True:
                        l = f.readline(65536)
                        if not l:
                            return
                        if l in (b".\r\n", b".\n"):
                            break
                        if in_headers:
                            if l in (b"\r\n", b"\n"):
                                in_headers = False
                            else:
                                k, sep, v = l.partition(b":")
                                if sep and k.strip().lower() in (b"x-spool-job", b"x-bench-id"):
                                    key = v.strip().decode("ascii", "replace")
                    c.sendall(b"250 2.0.0 Ok: queued\r\n")
                    t = time.monotonic()
                    if key:
                        with self.cond:
                            self.times.setdefault(key, t)
                            self.cond.notify_all()
                elif verb == b"QUIT":
                    c.sendall(b"221 2.0.0 Bye\r\n")
                    return
                else:
                    c.sendall(b"502 5.5.2 Error: command not recognized\r\n")
        except OSError:
            return
        finally:
            self.conns.discard(c)
            c.close()

    def wait(self, key, seconds):
        with self.cond:
            if not self.cond.wait_for(lambda: key in self.times, seconds):
                raise Failed("message %s did not arrive within %d s" % (key, seconds))
            return self.times[key]

    def stop(self):
        self.stopping = True
        self.sock.close()
        for c in list(self.conns):
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# ---------------------------------------------------------------- spoold

FOLDERS = ("tmp", "new", "active", "deferred", "hold", "sent", "failed", "corrupt", "ids")


def job_json(i, prefix):
    return json.dumps({"version": 1, "id": "%s-%d" % (prefix, i), "kind": "recall",
                       "to": {"email": "p%d@example.com" % i},
                       "practice": {"name": "Bench Dental"}}).encode()


def make_spool(path):
    os.makedirs(path, mode=0o755)
    for f in FOLDERS:
        os.mkdir(os.path.join(path, f), 0o750)
    return path


def write_conf(path, spool, port):
    with open(path, "w") as f:
        f.write("spool_dir = %s\nuser = %s\n\n[relay]\nhost = 127.0.0.1\nport = %d\n"
                "tls = none\nfrom = %s\ntimeout = 10\n" % (spool, ME, port, FROM))
    os.chmod(path, 0o600)
    return path


def place_jobs(spool, folder, n, prefix, mtime=None):
    """Writers' protocol: write in tmp/, rename into folder."""
    tmp, dst = os.path.join(spool, "tmp"), os.path.join(spool, folder)
    for i in range(1, n + 1):
        name = "%s-%06d" % (prefix, i)
        t = os.path.join(tmp, name)
        fd = os.open(t, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        os.write(fd, job_json(i, prefix))
        if mtime:
            os.utime(fd, (mtime, mtime))
        os.close(fd)
        os.rename(t, os.path.join(dst, name))


class Spoold:
    """spoold -f in the background; its stderr lines are kept and watched."""

    def __init__(self, conf, logpath, quit_when_idle=False):
        argv = [SPOOLD, "-c", conf, "-f"] + (["-q"] if quit_when_idle else [])
        self.lines = []
        self.cond = threading.Condition()
        self.log = open(logpath, "w")
        self.proc = PROCS.start(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            self.log.write(line)
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, pattern, seconds, start=0):
        """Index of the first line from start matching pattern, or Failed."""
        rx = re.compile(pattern)
        pos = [start]

        def found():
            while pos[0] < len(self.lines):
                if rx.search(self.lines[pos[0]]):
                    return True
                pos[0] += 1
            return self.proc.poll() is not None

        with self.cond:
            self.cond.wait_for(found, seconds)
            if pos[0] < len(self.lines):
                return pos[0]
        tail = "".join(self.lines[-3:]).strip()
        if self.proc.poll() is not None:
            raise Failed("spoold exited (status %d) before logging /%s/: %s"
                         % (self.proc.returncode, pattern, tail))
        raise Failed("spoold did not log /%s/ within %d s" % (pattern, seconds))

    def status(self):
        """VmRSS and VmHWM in bytes, from /proc/PID/status."""
        out = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) * 1024
        return out

    def stop(self):
        PROCS.stop(self.proc, wait=30)
        self.log.close()


# ---------------------------------------------------------------- Postfix

POSTFIX_MASTER_CF = """\
# a private bench instance: no chroot, no local delivery, nothing on a public port
{submit} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

POSTFIX_MAIN_CF = """\
# a private bench instance; everything else is Postfix's default
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
command_directory = {cmd}
daemon_directory = {daemon}
meta_directory = {meta}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = {name}.invalid
mydomain = invalid
myorigin = $myhostname
mydestination =
local_recipient_maps =
local_transport = error:local delivery is disabled in the bench
alias_maps =
alias_database =
relayhost = [127.0.0.1]:{relay}
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_peername_lookup = no
smtpd_client_restrictions = check_client_access static:HOLD
maillog_file_prefixes = {dir}
maillog_file = {dir}/maillog
syslog_name = {name}
biff = no
"""


def postfix_usable():
    if not (POSTFIX and POSTSUPER and POSTQUEUE and SENDMAIL):
        return "Postfix commands not found (package postfix)"
    if not IS_ROOT:
        return "a private Postfix needs root"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "no user postfix"
    return None


class Postfix:
    """A private Postfix instance under dir: its own config and queue."""

    def __init__(self, dir, relay_port):
        self.dir = dir
        self.etc = os.path.join(dir, "etc")
        self.queue = os.path.join(dir, "queue")
        self.submit = free_port()
        self.name = "bench-postfix-%d" % os.getpid()
        self.started = False
        os.makedirs(self.etc, 0o755)
        os.makedirs(self.queue, 0o755)
        os.makedirs(os.path.join(dir, "data"), 0o755)
        pw = pwd.getpwnam("postfix")
        os.chown(os.path.join(dir, "data"), pw.pw_uid, pw.pw_gid)
        meta = "/etc/postfix" if os.path.exists("/etc/postfix/postfix-files") else self.etc
        daemon = "/usr/lib/postfix/sbin" if os.path.isdir("/usr/lib/postfix/sbin") \
            else "/usr/libexec/postfix"
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN_CF.format(dir=dir, cmd=os.path.dirname(POSTFIX), daemon=daemon,
                                           meta=meta, name=self.name, relay=relay_port))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER_CF.format(submit="127.0.0.1:%d" % self.submit))
        if os.path.exists("/etc/postfix/dynamicmaps.cf"):
            shutil.copy("/etc/postfix/dynamicmaps.cf", self.etc)
        self.run(POSTFIX, "-c", self.etc, "check")

    def run(self, *argv, input=None, timeout=60, check=True):
        try:
            r = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=timeout,
                               preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired:
            raise Failed("%s timed out after %d s" % (" ".join(argv[:3]), timeout))
        if check and r.returncode != 0:
            raise Failed("%s failed (%d): %s; see %s/maillog" % (
                " ".join(argv[:4]), r.returncode, r.stdout.decode(errors="replace").strip()[-300:],
                self.dir))
        return r.stdout.decode(errors="replace")

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError, IndexError):
            return None

    def start(self):
        PROCS.postfixes.append(self)
        self.started = True
        self.run(POSTFIX, "-c", self.etc, "start")
        wait_greeting(self.submit, self.name)

    def reload(self):
        self.run(POSTFIX, "-c", self.etc, "reload")

    def set(self, **kv):
        self.run("/usr/sbin/postconf" if os.path.exists("/usr/sbin/postconf") else "postconf",
                 "-c", self.etc, "-e", *["%s=%s" % kv_ for kv_ in kv.items()])

    def count(self, *queues):
        n = 0
        for q in queues:
            for _, _, files in os.walk(os.path.join(self.queue, q)):
                n += len(files)
        return n

    def stop(self):
        if not self.started:
            return
        self.started = False
        if self in PROCS.postfixes:
            PROCS.postfixes.remove(self)
        pid = self.master_pid()
        if pid is None:
            return
        for cmd in ("stop", "abort"):
            try:
                self.run(POSTFIX, "-c", self.etc, cmd, timeout=30, check=False)
            except Failed as e:
                say("postfix %s: %s", cmd, e)
            for _ in deadline_loop(10, 0.05):
                if self.master_pid() is None:
                    return
        say("Postfix master %d did not stop; killing it", pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# ---------------------------------------------------------------- measurements

def gnu_time_field(path, field):
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().rpartition(": ")
            if k == field:
                return v
    return None


def better(results, key, rate, **extra):
    """Keep the best round of a drain (the least disturbed by other load)."""
    results.setdefault(key + "_all", []).append(rate)
    if rate > results.get(key, 0):
        results[key] = rate
        results.update(extra)


def drain_spoold(work, rnd, results):
    say("(a) round %d: placing %d jobs in new/", rnd, N_DRAIN)
    spool = make_spool(os.path.join(work, "drain-spool-%d" % rnd))
    place_jobs(spool, "new", N_DRAIN, "drain")
    os.sync()
    sink = Sink("spoold")
    try:
        conf = write_conf(os.path.join(work, "drain-%d.conf" % rnd), spool, sink.port)
        timefile = os.path.join(work, "drain-%d.time" % rnd)
        logfile = os.path.join(work, "drain-%d.log" % rnd)
        argv = [SPOOLD, "-c", conf, "-f", "-q"]
        if GNU_TIME:
            argv = [GNU_TIME, "-v", "-o", timefile] + argv
        say("(a) round %d: spoold -q draining %d jobs into smtp-sink", rnd, N_DRAIN)
        limit = max(120, N_DRAIN // 20)
        with open(logfile, "w") as log:
            hwm = 0
            t0 = time.monotonic()
            p = PROCS.start(argv, stdout=subprocess.DEVNULL, stderr=log)
            if not GNU_TIME:  # sample VmHWM of the child instead
                while p.poll() is None and time.monotonic() - t0 < limit:
                    try:
                        with open("/proc/%d/status" % p.pid) as f:
                            for line in f:
                                if line.startswith("VmHWM:"):
                                    hwm = max(hwm, int(line.split()[1]) * 1024)
                    except OSError:
                        pass
                    time.sleep(0.01)
            try:
                rc = p.wait(max(1, limit - (time.monotonic() - t0)))
            except subprocess.TimeoutExpired:
                raise Failed("spoold did not finish %d jobs within %d s" % (N_DRAIN, limit))
            t1 = time.monotonic()
            PROCS.stop(p)
        if rc != 0:
            raise Failed("spoold exited with status %d; see %s" % (rc, logfile))
        sent = [n for n in os.listdir(os.path.join(spool, "sent")) if not n.endswith(".eml.gz")]
        if len(sent) != N_DRAIN:
            raise Failed("spoold left %d of %d jobs in sent/; see %s"
                         % (len(sent), N_DRAIN, logfile))
        sink.wait_count(N_DRAIN, 10)
        secs = t1 - t0
        cpu = None
        if GNU_TIME:
            kb = gnu_time_field(timefile, "Maximum resident set size (kbytes)")
            hwm = int(kb) * 1024 if kb else None
            u = float(gnu_time_field(timefile, "User time (seconds)") or 0)
            s = float(gnu_time_field(timefile, "System time (seconds)") or 0)
            cpu = (u + s) * 1000 / N_DRAIN
        results["spoold_drain_hwm"] = max(results.get("spoold_drain_hwm") or 0, hwm or 0) or None
        better(results, "spoold_rate", N_DRAIN / secs, spoold_cpu_ms=cpu)
        say("(a) round %d: spoold: %d jobs in %.2f s = %.0f jobs/s", rnd, N_DRAIN, secs,
            N_DRAIN / secs)
        with gzip.open(os.path.join(spool, "sent", sorted(sent)[0] + ".eml.gz")) as f:
            msg = f.read()
        return msg.replace(b"\r\n", b"\n")
    finally:
        sink.stop()


class PostfixDrain:
    """A private Postfix relaying to its own smtp-sink, for several rounds."""

    def __init__(self, work):
        why = postfix_usable()
        if why:
            raise Failed(why)
        if not SMTP_SOURCE:
            raise Failed("smtp-source not found (package postfix)")
        self.sink = Sink("postfix")
        self.delivered = 0
        try:
            self.pf = Postfix(os.path.join(work, "postfix"), self.sink.port)
            self.pf.start()
        except BaseException:
            self.sink.stop()
            raise

    def round(self, msgfile, rnd, results):
        pf, sink = self.pf, self.sink
        say("(a) round %d: Postfix: submitting %d messages, kept on hold", rnd, N_DRAIN)
        r = subprocess.run([SMTP_SOURCE, "-s", "4", "-d", "-m", str(N_DRAIN), "-F", msgfile,
                            "-f", FROM, "-t", "p1@example.com", "127.0.0.1:%d" % pf.submit],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=max(300, N_DRAIN // 10), preexec_fn=_die_with_parent)
        if r.returncode != 0:
            raise Failed("smtp-source into Postfix failed: %s" % r.stdout.decode()[-300:])
        held = 0
        for _ in deadline_loop(max(60, N_DRAIN // 100), 0.1):
            held = pf.count("hold")
            if held >= N_DRAIN and pf.count("incoming", "active", "maildrop") == 0:
                break
        if held != N_DRAIN:
            raise Failed("Postfix holds %d of %d messages" % (held, N_DRAIN))
        os.sync()
        say("(a) round %d: Postfix: releasing %d messages to smtp-sink", rnd, N_DRAIN)
        limit = max(120, N_DRAIN // 20)
        t0 = time.monotonic()
        pf.run(POSTSUPER, "-c", pf.etc, "-H", "ALL")
        pf.run(POSTQUEUE, "-c", pf.etc, "-f")
        t_sink = sink.wait_count(self.delivered + N_DRAIN, limit)
        t_empty = None
        for _ in deadline_loop(30, 0.005):
            if pf.count("active", "deferred", "incoming", "hold") == 0:
                t_empty = time.monotonic()
                break
        if t_empty is None:
            raise Failed("Postfix's queue did not empty")
        self.delivered += N_DRAIN
        secs = max(t_sink, t_empty) - t0
        better(results, "postfix_rate", N_DRAIN / secs)
        say("(a) round %d: Postfix: %d messages in %.2f s = %.0f/s", rnd, N_DRAIN, secs,
            N_DRAIN / secs)

    def done(self):
        """Stop the sink; the instance stays for the latency test."""
        self.sink.stop()
        return self.pf


def drain_msmtp(work, msgfile, results):
    if not MSMTP:
        raise Failed("msmtp not found (package msmtp)")
    sink = Sink("msmtp")
    try:
        say("(a) msmtp: %d messages, one process each", N_MSMTP)
        t0 = time.monotonic()
        for i in range(1, N_MSMTP + 1):
            with open(msgfile, "rb") as f:
                r = subprocess.run([MSMTP, "--file=/dev/null", "--host=127.0.0.1",
                                    "--port=%d" % sink.port, "--tls=off", "--auth=off",
                                    "--from=" + FROM, "p%d@example.com" % i],
                                   stdin=f, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=30, preexec_fn=_die_with_parent)
            if r.returncode != 0:
                raise Failed("msmtp failed (%d): %s" % (r.returncode, r.stdout.decode()[-200:]))
        t1 = sink.wait_count(N_MSMTP, 10)
        results["msmtp_rate"] = N_MSMTP / (t1 - t0)
        say("(a) msmtp: %d messages in %.2f s = %.1f/s", N_MSMTP, t1 - t0, results["msmtp_rate"])
    finally:
        sink.stop()


def drain_ceiling(work, msgfile, rnd, results):
    if not SMTP_SOURCE:
        raise Failed("smtp-source not found (package postfix)")
    sink = Sink("ceiling")
    try:
        say("(a) round %d: smtp-source: %d messages on one connection", rnd, N_DRAIN)
        t0 = time.monotonic()
        r = subprocess.run([SMTP_SOURCE, "-s", "1", "-d", "-m", str(N_DRAIN), "-F", msgfile,
                            "-f", FROM, "-t", "p1@example.com", "127.0.0.1:%d" % sink.port],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=max(120, N_DRAIN // 20), preexec_fn=_die_with_parent)
        t1 = time.monotonic()
        if r.returncode != 0:
            raise Failed("smtp-source failed: %s" % r.stdout.decode()[-300:])
        sink.wait_count(N_DRAIN, 10)
        better(results, "ceiling_rate", N_DRAIN / (t1 - t0))
        say("(a) round %d: smtp-source: %.0f/s", rnd, N_DRAIN / (t1 - t0))
    finally:
        sink.stop()


def percentile(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    k = max(1, -(-len(v) * p // 100))  # ceil
    return v[int(k) - 1]


def latency_spoold(work, rec, results):
    spool = make_spool(os.path.join(work, "latency-spool"))
    conf = write_conf(os.path.join(work, "latency.conf"), spool, rec.port)
    d = Spoold(conf, os.path.join(work, "latency.log"))
    try:
        d.wait_line(r"jobs waiting", 30)
        say("(b) spoold: %d single jobs", N_LAT)
        lat, filed = [], []
        tmp, new = os.path.join(spool, "tmp"), os.path.join(spool, "new")
        for i in range(1, N_LAT + 1):
            name = "lat-%06d" % i
            fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            os.write(fd, job_json(i, "lat"))
            os.fsync(fd)
            os.close(fd)
            mark = len(d.lines)
            t0 = time.monotonic()
            os.rename(os.path.join(tmp, name), os.path.join(new, name))
            t250 = rec.wait(name, 10)
            d.wait_line(r"job=%s " % re.escape(name), 10, start=mark)  # filed: idle again
            lat.append(t250 - t0)
            filed.append(time.monotonic() - t0)
        results["spoold_lat"] = lat
        results["spoold_filed"] = filed
        say("(b) spoold: median %.2f ms, p99 %.2f ms", statistics.median(lat) * 1e3,
            percentile(lat, 99) * 1e3)
    finally:
        d.stop()


def latency_postfix(pf, msg, rec, results):
    if pf is None:
        raise Failed(postfix_usable() or "the Postfix instance did not start")
    pf.set(relayhost="[127.0.0.1]:%d" % rec.port)
    pf.reload()
    say("(b) Postfix: %d single messages through sendmail", N_LAT)
    lat, lat_inv = [], []
    head, _, body = msg.partition(b"\n\n")
    for i in range(1, N_LAT + 1):
        key = "pf-lat-%06d" % i
        m = head + b"\nX-Bench-Id: " + key.encode() + b"\n\n" + body
        t0 = time.monotonic()
        r = subprocess.run([SENDMAIL, "-C", pf.etc, "-f", FROM, "p%d@example.com" % i], input=m,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                           preexec_fn=_die_with_parent)
        t1 = time.monotonic()
        if r.returncode != 0:
            raise Failed("sendmail failed: %s" % r.stdout.decode()[-200:])
        t250 = rec.wait(key, 120)
        lat.append(t250 - t1)
        lat_inv.append(t250 - t0)
    results["postfix_lat"] = lat
    results["postfix_lat_inv"] = lat_inv
    say("(b) Postfix: median %.1f ms, p99 %.1f ms, min %.1f ms (from sendmail's exit); "
        "sendmail itself took %.1f ms (median)", statistics.median(lat) * 1e3,
        percentile(lat, 99) * 1e3, min(lat) * 1e3,
        statistics.median(a - b for a, b in zip(lat_inv, lat)) * 1e3)


def memory_idle(work, rec, results):
    spool = make_spool(os.path.join(work, "idle-spool"))
    conf = write_conf(os.path.join(work, "idle.conf"), spool, rec.port)
    d = Spoold(conf, os.path.join(work, "idle.log"))
    try:
        d.wait_line(r"spool .*: 0 jobs waiting", 30)
        st = d.status()
        results["idle_rss"] = st["VmRSS"]
        results["idle_hwm"] = st["VmHWM"]
        say("(c) spoold idle: VmRSS %.2f MB", st["VmRSS"] / MB)
    finally:
        d.stop()


def memory_waiting(wait_base, rec, results):
    work = tempfile.mkdtemp(prefix="spoold-bench-wait-", dir=wait_base)
    try:
        with open(os.path.join(work, ".spoold-bench"), "w"):
            pass
        os.chmod(work, 0o755)
        spool = make_spool(os.path.join(work, "spool"))
        say("(c) placing %d jobs in deferred/ (due in a day) under %s", N_WAIT, work)
        place_jobs(spool, "deferred", N_WAIT, "wait", mtime=time.time() + 86400)
        conf = write_conf(os.path.join(work, "wait.conf"), spool, rec.port)
        t0 = time.monotonic()
        d = Spoold(conf, os.path.join(work, "wait.log"))
        try:
            i = d.wait_line(r"spool .*: \d+ jobs waiting", max(120, N_WAIT // 500))
            t1 = time.monotonic()
            st = d.status()
            m = re.search(r": (\d+) jobs waiting", d.lines[i])
            n = int(m.group(1))
            if n != N_WAIT:
                raise Failed("spoold indexed %d jobs, not %d" % (n, N_WAIT))
            results["wait_rss"] = st["VmRSS"]
            results["wait_hwm"] = st["VmHWM"]
            results["wait_index_secs"] = t1 - t0
            say("(c) spoold with %d waiting: VmRSS %.2f MB, VmHWM %.2f MB, indexed in %.2f s",
                N_WAIT, st["VmRSS"] / MB, st["VmHWM"] / MB, t1 - t0)
        finally:
            d.stop()
    finally:
        if not KEEP:
            shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- (d) pacing

def pacing(work, results):
    """spoold -q with [pacing] per_minute = 600 against the simulator allowing 600
    per sliding window and suspending beyond it; see the module's docstring."""
    n, limit = N_PACE, PACE_LIMIT
    window_ms = 60000 // PACE_SCALE  # as spoold's pace_window_ms(60)
    window = window_ms / 1000.0
    results["pace_window"] = window
    d = os.path.join(work, "pacing")
    os.makedirs(d)
    spool = make_spool(os.path.join(d, "spool"))
    say("(d) placing %d jobs; the simulator allows %d per %g s and suspends beyond",
        n, limit, window)
    place_jobs(spool, "new", n, "pace")
    provider = os.path.join(d, "provider.json")
    with open(provider, "w") as f:
        json.dump({"profile": "gmail", "per_minute": limit, "minute_seconds": window,
                   "on_exceed": "suspend"}, f)
    ready, mbox, stats = (os.path.join(d, x) for x in ("ready", "mbox", "stats.json"))
    with open(os.path.join(d, "simulator.log"), "w") as err:
        sim = PROCS.start([SIM_PYTHON, SIMULATOR, "--port", "0", "--ready-file", ready,
                           "--mbox", mbox, "--provider", provider, "--stats", stats],
                          stdout=subprocess.DEVNULL, stderr=err)
    try:
        for _ in deadline_loop(15, 0.02):
            if os.path.exists(ready) or sim.poll() is not None:
                break
        if not os.path.exists(ready):
            raise Failed("the provider simulator did not start; see %s/simulator.log" % d)
        with open(ready) as f:
            port = int(f.read())
        conf = write_conf(os.path.join(d, "spoold.conf"), spool, port)
        with open(conf, "a") as f:
            f.write("\n[pacing]\nper_minute = %d\n" % limit)
        env = dict(os.environ)
        env.pop("SPOOLD_TEST_TIME_SCALE", None)
        if PACE_SCALE > 1:
            env["SPOOLD_TEST_TIME_SCALE"] = str(PACE_SCALE)
        ideal = (n - 1) // limit * window
        deadline = 2 * ideal + 120
        logfile = os.path.join(d, "spoold.log")
        say("(d) spoold -q sending %d jobs at [pacing] per_minute = %d (ideal %.1f s)",
            n, limit, ideal)
        with open(logfile, "w") as log:
            t0 = time.monotonic()
            p = PROCS.start([SPOOLD, "-c", conf, "-f", "-q"], stdout=subprocess.DEVNULL,
                            stderr=log, env=env)
            try:
                rc = p.wait(deadline)
            except subprocess.TimeoutExpired:
                raise Failed("spoold did not finish %d jobs within %.0f s" % (n, deadline))
            wall = time.monotonic() - t0
            PROCS.stop(p)
        with open(stats) as f:
            st = json.load(f)
        results["pace_suspensions"] = st["suspensions"]
        results["pace_violations"] = st["window_violations"]
        with open(os.path.join(mbox, "log.jsonl")) as f:
            times = sorted(json.loads(ln)["time"] for ln in f if ln.strip())
        sent = [x for x in os.listdir(os.path.join(spool, "sent")) if not x.endswith(".eml.gz")]
        results["pace_sent"] = len(sent)
        if rc != 0:
            raise Failed("spoold exited with status %d; see %s" % (rc, logfile))
        if len(sent) != n or len(times) != n:
            raise Failed("%d of %d jobs sent (%d at the simulator), %d suspension(s); see %s"
                         % (len(sent), n, len(times), st["suspensions"], logfile))
        actual = times[-1] - times[0]
        results["pace_ideal"] = ideal
        results["pace_actual"] = actual
        results["pace_wall"] = wall
        # the most messages the simulator accepted in any window (two pointers)
        most, j = 0, 0
        for i, t in enumerate(times):
            while t - times[j] >= window:
                j += 1
            most = max(most, i - j + 1)
        results["pace_most"] = most
        say("(d) %d sent in %.2f s first to last (ideal %.1f s, %.1f%%), %d suspension(s), "
            "at most %d in any %g s", n, actual, ideal,
            100 * ideal / actual if ideal and actual else 0, st["suspensions"], most, window)
    finally:
        PROCS.stop(sim)


# ---------------------------------------------------------------- the table

def fmt_rate(r):
    return "%s/s" % ("{:,.0f}".format(r) if r >= 100 else "%.1f" % r)


def fmt_mb(b):
    return "%.2f MB" % (b / MB)


def fmt_ms(s):
    return "%.2f ms" % (s * 1e3) if s < 0.1 else "%.0f ms" % (s * 1e3)


def fs_of(path):
    """'ext4 (no journal)' and the like, for the header."""
    path = os.path.realpath(path)
    best, fstype, dev = "", "?", ""
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                mnt = parts[1].replace("\\040", " ")
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                    best, fstype, dev = mnt, parts[2], parts[0]
    except OSError:
        pass
    if fstype == "ext4":
        try:
            with open("/sys/fs/ext4/%s/journal_task" % os.path.basename(dev)) as f:
                if f.read().strip() == "<none>":
                    return "ext4 (no journal)"
        except OSError:
            pass
    return fstype


def build_table(R, errors, info):
    rows = []  # (metric, spoold, anchor, ratio, met)
    met_flags = []

    def err(key):
        return "n/a: " + errors[key] if key in errors else "n/a"

    def target(ok, text):
        met_flags.append(ok)
        return ("yes" if ok else "NO") + " (" + text + ")"

    n = "{:,}".format(N_DRAIN)
    sr = R.get("spoold_rate")
    s_cell = fmt_rate(sr) if sr else err("spoold")
    # (a) Postfix
    pr = R.get("postfix_rate")
    if sr and pr:
        rows.append(("(a) drain %s jobs%s" % (n, ", best of %d" % ROUNDS if ROUNDS > 1 else ""),
                     s_cell, "Postfix %s (hold, then release)" % fmt_rate(pr),
                     "%.2fx" % (sr / pr), target(sr / pr >= 2.0, "spoold >= 2.0x Postfix")))
    else:
        rows.append(("(a) drain %s jobs" % n, s_cell, "Postfix " + (fmt_rate(pr) if pr else
                     err("postfix")), "-", "? (spoold >= 2.0x Postfix)"))
    mr = R.get("msmtp_rate")
    rows.append(("(a) drain, vs msmtp", s_cell,
                 ("msmtp %s (1 process/msg; %s sent, extrapolated)"
                  % (fmt_rate(mr), "{:,}".format(N_MSMTP))) if mr else "msmtp " + err("msmtp"),
                 "%.1fx" % (sr / mr) if sr and mr else "-", "-"))
    cr = R.get("ceiling_rate")
    if sr and cr:
        rows.append(("(a) drain, vs the ceiling", s_cell,
                     "smtp-source %s (1 connection)" % fmt_rate(cr), "%.0f%%" % (100 * sr / cr),
                     target(sr / cr >= 0.60, ">= 60% of the ceiling")))
    else:
        rows.append(("(a) drain, vs the ceiling", s_cell, "smtp-source " +
                     (fmt_rate(cr) if cr else err("ceiling")), "-", "? (>= 60% of the ceiling)"))
    h = R.get("spoold_drain_hwm")
    rows.append(("(a) drain: peak RSS", fmt_mb(h) if h else err("spoold"), "-", "-", "-"))
    c = R.get("spoold_cpu_ms")
    if c:
        rows.append(("(a) drain: CPU per job (user + sys)", "%.0f us" % (c * 1000), "-", "-", "-"))
    # (b)
    sl, pl, pi = R.get("spoold_lat"), R.get("postfix_lat"), R.get("postfix_lat_inv")
    for label, fn in (("median", statistics.median), ("p99", lambda v: percentile(v, 99))):
        s = fn(sl) if sl else None
        p = fn(pl) if pl else None
        rows.append(("(b) latency rename -> 250, %s" % label,
                     fmt_ms(s) if s is not None else err("spoold_lat"),
                     "Postfix sendmail " + ("%s (from its exit; %s from its start)"
                                            % (fmt_ms(p), fmt_ms(fn(pi)))
                                            if p is not None else err("postfix_lat")),
                     "%.3fx" % (s / p) if s is not None and p else "-",
                     (target(s <= 0.003, "<= 3 ms") if s is not None else "? (<= 3 ms)")
                     if label == "median" else "-"))
    sf = R.get("spoold_filed")
    rows.append(("(b) latency rename -> filed in sent/ (log)",
                 "median %s, p99 %s" % (fmt_ms(statistics.median(sf)), fmt_ms(percentile(sf, 99)))
                 if sf else err("spoold_lat"), "-", "-", "-"))
    # (c)
    ir = R.get("idle_rss")
    rows.append(("(c) RSS idle, empty spool", fmt_mb(ir) if ir else err("idle"),
                 "base %s" % fmt_mb(BASE_BYTES), "%.2fx" % (ir / BASE_BYTES) if ir else "-",
                 target(ir <= BASE_BYTES, "<= 6 MB") if ir else "? (<= 6 MB)"))
    wr = R.get("wait_rss")
    tgt = BASE_BYTES + BYTES_PER_JOB * N_WAIT
    nw = "{:,}".format(N_WAIT)
    rows.append(("(c) RSS, %s jobs waiting" % nw, fmt_mb(wr) if wr else err("wait"),
                 "%s = 6 MB + 128 B/job" % fmt_mb(tgt), "%.2fx" % (wr / tgt) if wr else "-",
                 target(wr <= tgt, "<= %s" % fmt_mb(tgt)) if wr else "? (<= %s)" % fmt_mb(tgt)))
    if wr:
        per = (wr - BASE_BYTES) / N_WAIT
        per_idle = (wr - ir) / N_WAIT if ir else None
        rows.append(("(c) bytes per waiting job beyond 6 MB", "%.0f B" % per, "128 B",
                     "%.2fx" % (per / BYTES_PER_JOB), "(the row above, per job)"))
        if per_idle is not None:
            rows.append(("(c) bytes per waiting job beyond idle RSS", "%.0f B" % per_idle, "-",
                         "-", "-"))
        rows.append(("(c) VmHWM while indexing %s jobs" % nw, fmt_mb(R["wait_hwm"]),
                     "-", "-", "indexed in %.1f s" % R["wait_index_secs"]))

    # (d)
    if N_PACE:
        w = R.get("pace_window") or 60000 // PACE_SCALE / 1000.0
        scaled = (" (window scaled: 60 s / %d = %g s; spoold SPOOLD_TEST_TIME_SCALE=%d, "
                  "simulator minute_seconds=%g)" % (PACE_SCALE, w, PACE_SCALE, w)
                  if PACE_SCALE > 1 else "")
        label = "(d) pacing %s jobs at %d per %g s%s" % ("{:,}".format(N_PACE), PACE_LIMIT, w,
                                                         scaled)
        ideal, actual = R.get("pace_ideal"), R.get("pace_actual")
        susp = R.get("pace_suspensions")
        if ideal and actual:
            frac = ideal / actual
            rows.append((label, "%.1f%% of the allowed rate" % (100 * frac),
                         "ideal %.1f s / actual %.1f s (first to last accepted)"
                         % (ideal, actual), "%.3f" % frac,
                         target(frac >= 0.90 and susp == 0, ">= 90%, no suspension")))
        elif actual is not None:
            rows.append((label, "sent in %.1f s" % actual, "N <= %d: no wait, no fraction"
                         % PACE_LIMIT, "-", "-"))
        else:
            rows.append((label, err("pacing"), "target >= 90% of the allowed rate", "-",
                         "? (>= 90%, no suspension)"))
        rows.append(("(d) pacing: simulator suspensions",
                     "%s (window violations %s)" % (susp, R.get("pace_violations"))
                     if susp is not None else err("pacing"),
                     "0", "-", target(susp == 0, "0") if susp is not None else "? (0)"))
        if R.get("pace_most") is not None:
            rows.append(("(d) pacing: most accepted in any window", "%d" % R["pace_most"],
                         "limit %d" % PACE_LIMIT, "-", "-"))

    head = ("metric", "spoold", "anchor (Postfix / msmtp / ceiling / target)", "ratio",
            "target met?")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(5)]
    line = lambda r: " | ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    out = [info, "", line(head), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append("")
    if ROUNDS > 1:
        out.append("drain rounds (best counts): " + "; ".join(
            "%s %s" % (who, ", ".join("%.0f" % r for r in R[key + "_all"]))
            for who, key in (("spoold", "spoold_rate"), ("Postfix", "postfix_rate"),
                             ("smtp-source", "ceiling_rate")) if R.get(key + "_all")))
    out.append("targets met: %d of %d" % (sum(met_flags), len(met_flags)))
    return "\n".join(out) + "\n", all(met_flags)


def main():
    if not os.access(SPOOLD, os.X_OK):
        say("%s not found; build it first (make bench, or SPOOLD_BIN=DIR)", SPOOLD)
        return 2
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    # the templates of this tree, not the installed ones
    if not os.environ.get("SPOOLD_TEMPLATES") and os.path.isdir(os.path.join(ROOT, "templates")):
        os.environ["SPOOLD_TEMPLATES"] = os.path.join(ROOT, "templates")
    atexit.register(PROCS.stop_all)
    base = os.environ.get("BENCH_DIR") or os.path.join(ROOT, "build", "bench-run")
    os.makedirs(base, exist_ok=True)
    wait_base = os.environ.get("BENCH_WAIT_DIR")
    if not wait_base:
        wait_base = "/dev/shm" if fs_of("/dev/shm") == "tmpfs" and os.access("/dev/shm", os.W_OK) \
            else base
    work = tempfile.mkdtemp(prefix="run-", dir=base)
    os.chmod(work, 0o755)  # Postfix's daemons run as postfix and need to reach the queue
    with open(os.path.join(work, ".spoold-bench"), "w"):
        pass
    started = time.monotonic()
    la = os.getloadavg()
    info = ("spoold benchmark, %s; %d CPUs, load %.2f %.2f %.2f at start\n"
            "work directory %s on %s; %s-job spool on %s; message %%s\n"
            "spoold %s" % (time.strftime("%Y-%m-%d %H:%M:%S %Z"), os.cpu_count(), *la,
                           os.path.relpath(work, ROOT) if work.startswith(ROOT) else work,
                           fs_of(work), "{:,}".format(N_WAIT), fs_of(wait_base), SPOOLD))
    R, errors = {}, {}
    msg = None
    pf = None
    rec = None

    def attempt(key, fn, *args):
        try:
            return fn(*args)
        except Failed as e:
            errors[key] = str(e)
            say("%s: %s", key, e)
        return None

    try:
        msgfile = os.path.join(work, "message.eml")
        pfd = None
        for rnd in range(1, ROUNDS + 1):
            m = attempt("spoold", drain_spoold, work, rnd, R)
            if msg is None:
                msg = m
            if msg is None:  # the anchors still need a message of about that size
                msg = (b"From: <office@example.com>\nTo: <p1@example.com>\nSubject: bench\n"
                       b"X-Bench: synthetic\n\n" + b"x" * 300 + b"\n")
            if rnd == 1:
                with open(msgfile, "wb") as f:
                    f.write(msg)
                info = info % ("%d bytes (one of spoold's sent messages)" % len(msg)
                               if "spoold" not in errors else "%d bytes (synthetic)" % len(msg))
                pfd = attempt("postfix", PostfixDrain, work)
            if pfd:
                if attempt("postfix", pfd.round, msgfile, rnd, R) is None and "postfix" in errors:
                    pfd.done().stop()
                    pfd = None
            attempt("ceiling", drain_ceiling, work, msgfile, rnd, R)
        if pfd:
            pf = pfd.done()
        attempt("msmtp", drain_msmtp, work, msgfile, R)
        rec = Recorder()
        attempt("spoold_lat", latency_spoold, work, rec, R)
        attempt("postfix_lat", latency_postfix, pf, msg, rec, R)
        if pf:
            pf.stop()
        attempt("idle", memory_idle, work, rec, R)
        attempt("wait", memory_waiting, wait_base, rec, R)
        if N_PACE:
            attempt("pacing", pacing, work, R)
    finally:
        if rec:
            rec.stop()
        PROCS.stop_all()
        if not KEEP:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say("kept %s", work)
    if "%s" in info:
        info = info % "?"
    table, all_met = build_table(R, errors, info)
    table += "bench time: %.0f s; load %.2f %.2f %.2f at the end\n" % (
        (time.monotonic() - started,) + os.getloadavg())
    sys.stdout.write("\n" + table)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(table)
    say("table written to %s", os.path.relpath(RESULTS, ROOT) if RESULTS.startswith(ROOT)
        else RESULTS)
    if errors:
        return 1
    return 1 if STRICT and not all_met else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted; everything started was stopped")
        sys.exit(130)
    except SystemExit as e:
        if isinstance(e.code, int) and e.code > 128:
            say("stopped by signal %d; everything started was stopped", e.code - 128)
        raise
