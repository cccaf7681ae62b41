#!/usr/bin/python3
"""imapserver.py - a private Dovecot IMAP server for spoold's tests.

Run it with /usr/bin/python3; it needs Debian's dovecot-imapd (dovecot-core)
and, unless --cert-dir is given, the openssl command (tests/mkcerts.sh).

    imapserver.py --dir DIR --ready-file F [--cert-dir C] [--cert NAME]
                  [--user USER:PASSWORD ...] [--verbose]
    imapserver.py --dir DIR --deliver USER FOLDER FILE [--flags FLAGS]
    imapserver.py --dir DIR --list USER FOLDER

Serving: everything lives in DIR (created; keep the path short, Dovecot's
sockets go in DIR/run): the configuration DIR/dovecot.conf, the users
DIR/passwd, the mail DIR/mail/USER (Maildir++: INBOX is the top, the
folder Sent is DIR/mail/USER/.Sent), Dovecot's log DIR/dovecot.log.  The
certificates come from C (default: made into DIR/certs by tests/mkcerts.sh):
C/NAME.crt and C/NAME.key serve (NAME is server, for localhost and
127.0.0.1, or wrong, for wrong.example), C/ca.crt is what a client trusts.
Dovecot listens on 127.0.0.1 only, on two free ports: IMAP with STARTTLS
and IMAPS (implicit TLS).  ssl = required, but Dovecot counts a loopback
connection as secured, so LOGIN works there without TLS too.  Users default
to office@example.com:secret; every user has INBOX and Sent.  Once both
ports answer (an IMAP greeting on the first), "IMAPPORT IMAPSPORT\n" is
written to the ready file (a temporary file renamed into place), so a test
waits for the file, never sleeps.  SIGTERM or SIGINT stops Dovecot and the
script (status 0); Dovecot also gets SIGTERM if the script is killed; if
Dovecot dies the script exits 1 with its log.  Failed logins cost no time:
auth_failure_delay = 0, and the auth penalty (2 s doubling per client IP,
which login_trusted_networks does not lift in 2.3) is off because the auth
process cannot reach anvil's anvil-auth-penalty socket (mode 0).

Dovecot runs in the foreground (dovecot -F), nothing chrooted, every
service as the calling user.  As root (CI, containers) three things differ,
found by trial with Dovecot 2.3.19: imap-login refuses root ("This process
must not be run as root"), so the login processes (and auth) run as nobody;
the mail processes refuse uid 0 ("userdb returned 0 as uid"), so mail runs
as nobody:nogroup, DIR/mail and DIR/home are given to it, and deliver()
chowns what it writes; and nobody must reach DIR: root's group 0 stays in
the mail processes' supplementary groups, so a root:root 0700 directory is
closed to them even with o+x, and DIR and its parents below the temporary
directory get g+x and o+x (never read).  As root DIR must therefore be
under the temporary directory (/tmp).  default_internal_user stays root.

Delivery (--deliver, or deliver(DIR, USER, FOLDER, DATA, FLAGS) when
imported, e.g. by the provider simulator for the messages it accepts): the
bytes of FILE ("-": standard input) are written into USER's FOLDER
("INBOX", "Sent", any other name is Maildir++ ".NAME") the way a local
delivery agent does: tmp/, then renamed into new/ (or into cur/ with the
maildir flags FLAGS, e.g. "S" for \Seen).  Dovecot sees the message at
the client's next SELECT or NOOP.
--list prints, as JSON, USER's messages in FOLDER with their UID (when
Dovecot has assigned one), flags and keywords (e.g. $SpooldProcessed),
read from the file names and Dovecot's dovecot-keywords and dovecot-uidlist.
"""

import argparse
import ctypes
import itertools
import json
import os
import pwd
import grp
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MKCERTS = os.path.join(HERE, "mkcerts.sh")
DOVECOT = "/usr/sbin/dovecot"
DEFAULT_USERS = ["office@example.com:secret"]
STANDARD_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen",
                  "T": "\\Deleted"}

_seq = itertools.count(1)


# ---------------------------------------------------------------- mailboxes

def folder_dir(root, user, folder):
    """The Maildir of user's folder under root (the server's DIR)."""
    base = os.path.join(root, "mail", user)
    if folder.upper() == "INBOX":
        return base
    return os.path.join(base, "." + folder.replace("/", "."))


def make_maildir(path):
    """path/cur, new and tmp; as root owned like the server's DIR/mail."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), mode=0o700, exist_ok=True)
    _own(path)
    for sub in ("cur", "new", "tmp"):
        _own(os.path.join(path, sub))


def _own(path):
    """As root: give path to the owner of the DIR/mail above it (the
    unprivileged user Dovecot's mail processes run as)."""
    if os.getuid() != 0:
        return
    top = path
    while os.path.basename(top) != "mail" and os.path.dirname(top) != top:
        top = os.path.dirname(top)
    st = os.stat(top)
    os.lchown(path, st.st_uid, st.st_gid)


def deliver(root, user, folder, data, flags=""):
    """Write data into user's folder as a new message; its file name."""
    d = folder_dir(root, user, folder)
    make_maildir(d)
    now = time.time()
    base = (f"{int(now)}.M{int(now * 1e6) % 1000000}P{os.getpid()}Q{next(_seq)}."
            f"{socket.gethostname().replace('/', '_').replace(':', '_')},S={len(data)}")
    tmp = os.path.join(d, "tmp", base)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    _own(tmp)
    if flags:
        name = base + ":2," + "".join(sorted(flags))
        os.rename(tmp, os.path.join(d, "cur", name))
    else:
        name = base
        os.rename(tmp, os.path.join(d, "new", name))
    return name


def _keywords(d):
    """Dovecot's keyword letters (a, b, ...) of a Maildir: {letter: name}."""
    out = {}
    try:
        with open(os.path.join(d, "dovecot-keywords"), encoding="utf-8") as f:
            for line in f:
                n, _, name = line.strip().partition(" ")
                if n.isdigit() and name:
                    out[chr(ord("a") + int(n))] = name
    except FileNotFoundError:
        pass
    return out


def _uids(d):
    """Dovecot's UIDs of a Maildir: {base name: uid}."""
    out = {}
    try:
        with open(os.path.join(d, "dovecot-uidlist"), encoding="utf-8") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return out
    for line in lines[1:]:
        m = re.match(r"(\d+)\b.*?:(\S+)$", line)
        if m:
            out[m.group(2).split(":2,")[0]] = int(m.group(1))
    return out


def _order(base):
    """A sort key putting Maildir names in delivery order: the seconds, the
    microseconds (M...) and deliver()'s sequence (Q...) as numbers (they are
    not zero-padded, so "M64623" must sort before "M100000"), then the name."""
    m = re.match(r"(\d+)\.(?:[^.]*?M(\d+))?(?:[^.]*?Q(\d+))?", base)
    if not m:
        return (float("inf"), 0, 0, base)
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), base)


def list_folder(root, user, folder):
    """user's messages in folder: dicts with file, uid (None before Dovecot
    saw it), flags (\\Seen, ...), keywords, message_id; in delivery order."""
    d = folder_dir(root, user, folder)
    kw, uids, out = _keywords(d), _uids(d), []
    for sub in ("new", "cur"):
        try:
            names = os.listdir(os.path.join(d, sub))
        except FileNotFoundError:
            continue
        for name in names:
            base, _, info = name.partition(":2,")
            letters = info.split(",")[0] if info else ""
            msgid = None
            try:
                with open(os.path.join(d, sub, name), "rb") as f:
                    head = f.read(65536).split(b"\r\n\r\n")[0].split(b"\n\n")[0]
                m = re.search(rb"(?im)^message-id:[ \t]*(<[^>\r\n]*>)", head)
                msgid = m.group(1).decode("utf-8", "replace") if m else None
            except FileNotFoundError:
                continue
            out.append({"file": f"{sub}/{name}", "uid": uids.get(base),
                        "flags": [STANDARD_FLAGS[c] for c in letters if c in STANDARD_FLAGS],
                        "keywords": [kw.get(c, c) for c in letters if c.islower()],
                        "message_id": msgid, "_key": _order(base)})
    out.sort(key=lambda r: (r["uid"] is None, r["uid"] or 0, r["_key"]))
    for r in out:
        del r["_key"]
    return out


# ---------------------------------------------------------------- Dovecot

def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (free now; Dovecot may lose a
    race for one, which start() retries)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def mail_owner():
    """The uid and gid the mail processes run as: the caller's, except that
    Dovecot refuses uid 0 for mail ("userdb returned 0 as uid"), so as root
    nobody's."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def chown_tree(path, uid, gid):
    """As root: path and everything under it to uid:gid."""
    if os.getuid() != 0:
        return
    os.chown(path, uid, gid)
    for top, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(top, n), uid, gid)


def open_path(root):
    """As root: make root and its ancestors traversable (g+x and o+x, never
    read) for the unprivileged mail user, but only below the temporary
    directory.  (g+x too: the mail processes keep root's supplementary group
    0, so the group bits of a root:root directory are the ones that count.)"""
    if os.getuid() != 0:
        return
    p = os.path.realpath(root)
    tmps = [t for t in {os.path.realpath(tempfile.gettempdir()), "/tmp"}
            if p.startswith(t + os.sep)]
    if not tmps:
        sys.exit(f"imapserver: as root, --dir must be under /tmp or $TMPDIR (the "
                 f"unprivileged mail user has to reach it)")
    while p != tmps[0]:
        st = os.stat(p)
        want = stat.S_IXGRP | stat.S_IXOTH
        if st.st_mode & want != want:
            os.chmod(p, stat.S_IMODE(st.st_mode) | want)
        p = os.path.dirname(p)


def write_config(root, certdir, cert, users, ports, verbose):
    """DIR/dovecot.conf and DIR/passwd for users on ports (imap, imaps)."""
    uid, gid = os.getuid(), os.getgid()
    me = pwd.getpwuid(uid).pw_name
    group = grp.getgrgid(gid).gr_name
    # imap-login refuses to run as root ("This process must not be run as
    # root"): as root the login processes run as nobody, and so does mail
    login = pwd.getpwnam("nobody").pw_name if uid == 0 else me
    muid, mgid = mail_owner()
    open_path(root)
    os.makedirs(os.path.join(root, "state"), mode=0o700, exist_ok=True)
    os.makedirs(os.path.join(root, "run"), mode=0o755, exist_ok=True)
    os.chmod(os.path.join(root, "run"), 0o755)  # Dovecot wants it world-readable
    pw = os.path.join(root, "passwd")
    with open(pw, "w", encoding="utf-8") as f:
        for u in users:
            name, _, password = u.partition(":")
            f.write(f"{name}:{{PLAIN}}{password}::::::\n")
            make_maildir(folder_dir(root, name, "INBOX"))
            make_maildir(folder_dir(root, name, "Sent"))
            os.makedirs(os.path.join(root, "home", name), mode=0o700, exist_ok=True)
    chown_tree(os.path.join(root, "mail"), muid, mgid)
    chown_tree(os.path.join(root, "home"), muid, mgid)
    crt, key = os.path.join(certdir, f"{cert}.crt"), os.path.join(certdir, f"{cert}.key")
    conf = f"""# generated by tests/imapserver.py
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = spoold-test-{os.getpid()}
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{crt}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = {"yes" if verbose else "no"}
auth_failure_delay = 0
auth_debug = no
mail_debug = no
verbose_proctitle = no
default_login_user = {login}
default_internal_user = {me}
default_internal_group = {group}
first_valid_uid = {muid}
last_valid_uid = {muid}
first_valid_gid = {mgid}
last_valid_gid = {mgid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {pw}
}}
userdb {{
  driver = static
  args = uid={muid} gid={mgid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    auto = create
    special_use = \\Sent
  }}
}}
service imap-login {{
  chroot =
  user = {login}
  inet_listener imap {{
    address = 127.0.0.1
    port = {ports[0]}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ports[1]}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # no auth penalty (2 s, doubling, per IP) after the tests' wrong passwords:
  # the auth process cannot connect here, so Dovecot turns the penalty off
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  user = {login}
}}
service auth-worker {{
  user = {me}
}}
"""
    path = os.path.join(root, "dovecot.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(conf)
    return path


def accepts(port, deadline):
    """True once 127.0.0.1:port accepts a connection; False at deadline."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.02)  # bounded retry of a connect, not a synchronisation
    return False


def plain_greeting(port, deadline):
    """The first line on the STARTTLS port, or None by deadline."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                data = b""
                while b"\n" not in data:
                    chunk = s.recv(512)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"* OK"):
                    return data.split(b"\r\n")[0].decode("ascii", "replace")
        except OSError:
            pass
        time.sleep(0.02)
    return None


def log_text(root):
    """Dovecot's log so far ("" when there is none)."""
    try:
        with open(os.path.join(root, "dovecot.log"), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def die_with_parent():
    """In the child: SIGTERM when imapserver.py dies, even by SIGKILL (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(args):
    root = os.path.abspath(args.dir)
    os.makedirs(root, mode=0o700, exist_ok=True)
    certdir = args.cert_dir
    if not certdir:
        certdir = os.path.join(root, "certs")
        if not os.path.exists(os.path.join(certdir, "ca.crt")):
            subprocess.run(["sh", MKCERTS, certdir], check=True, timeout=60,
                           stdout=subprocess.DEVNULL)
    users = args.user or DEFAULT_USERS
    if not os.access(DOVECOT, os.X_OK):
        print(f"imapserver: {DOVECOT} is missing (install dovecot-imapd)", file=sys.stderr)
        return 2

    proc, ports = None, None
    stop = {"sig": False}

    def on_signal(signum, frame):
        stop["sig"] = True
        if proc is not None and proc.poll() is None:
            proc.terminate()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for attempt in range(5):
        ports = free_ports(2)
        conf = write_config(root, certdir, args.cert, users, ports, args.verbose)
        proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdin=subprocess.DEVNULL,
                                stdout=sys.stderr, stderr=sys.stderr, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 15
        ok = False
        while proc.poll() is None and time.monotonic() < deadline and not stop["sig"]:
            if plain_greeting(ports[0], min(deadline, time.monotonic() + 0.5)):
                ok = accepts(ports[1], deadline)
                break
        if stop["sig"]:
            proc.wait()
            return 0
        if ok and proc.poll() is None:
            break
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        log = log_text(root)
        if "Address already in use" not in log or attempt == 4:
            print(f"imapserver: dovecot did not start (status {proc.returncode}):\n{log}",
                  file=sys.stderr)
            return 1
        os.rename(os.path.join(root, "dovecot.log"),
                  os.path.join(root, f"dovecot.log.{attempt}"))

    tmp = args.ready_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{ports[0]} {ports[1]}\n")
    os.rename(tmp, args.ready_file)
    if args.verbose:
        print(f"imapserver: dovecot on 127.0.0.1:{ports[0]} (STARTTLS) and "
              f":{ports[1]} (implicit TLS), dir {root}", file=sys.stderr)
    rc = proc.wait()
    if stop["sig"]:
        return 0
    print(f"imapserver: dovecot exited (status {rc}):\n{log_text(root)}", file=sys.stderr)
    return 1


def main(argv=None):
    ap = argparse.ArgumentParser(description="a private Dovecot for spoold's tests")
    ap.add_argument("--dir", required=True, help="the server's private directory")
    ap.add_argument("--ready-file", help="written with the ports once ready")
    ap.add_argument("--cert-dir", help="tests/mkcerts.sh's output (default: made in DIR/certs)")
    ap.add_argument("--cert", default="server", help="the certificate to serve: server, wrong")
    ap.add_argument("--user", action="append", help="USER:PASSWORD (repeatable)")
    ap.add_argument("--verbose", action="store_true", help="auth_verbose, and say when ready")
    ap.add_argument("--deliver", nargs=3, metavar=("USER", "FOLDER", "FILE"))
    ap.add_argument("--flags", default="", help="maildir flags for --deliver, e.g. S")
    ap.add_argument("--list", nargs=2, metavar=("USER", "FOLDER"))
    args = ap.parse_args(argv)
    if args.deliver:
        user, folder, path = args.deliver
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
        print(deliver(os.path.abspath(args.dir), user, folder, data, args.flags))
        return 0
    if args.list:
        json.dump(list_folder(os.path.abspath(args.dir), *args.list), sys.stdout, indent=1)
        print()
        return 0
    if not args.ready_file:
        ap.error("--ready-file is required to serve")
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
