"""test_install - make install into a DESTDIR, then the installed programs.

make -C REPO install DESTDIR=<tmp> PREFIX=/usr O=$SPOOLD_BIN once for the
class, then:
  - the layout: programs, man pages in their sections, templates, the
    example configuration, the systemd unit (in share/spoold/ always, and in
    lib/systemd/system/ since DESTDIR stages a package), bash completion only
    when contrib/ has it; the /usr/local paths in the pages and the unit
    rewritten to /usr;
  - end to end with the INSTALLED programs: spool submit, then spoold -f -q
    against tests/smtpserver.py (STARTTLS, AUTH), with SPOOLD_TEMPLATES set
    to the installed templates (the binary's own SHAREDIR is not under
    DESTDIR); the job is in sent/ and the server has the message;
  - the man pages (the installed ones and man/) render with man -l and
    groff -ww without a word on stderr;
  - the unit passes systemd-analyze verify (when installed);
  - spool setup as root (skipped otherwise) in a temporary directory: the
    documented owners and modes, idempotent, directories fixed but files
    left alone, a missing user or group explained with exit 67, not root
    exit 77, a symbolic link refused, --create-group running groupadd.

Run: SPOOLD_BIN=build/plain /usr/bin/python3 -m unittest tests/e2e/test_install.py
"""
import grp
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, Daemon, E2ETestCase, header, make_job  # noqa: E402

O = os.environ.get("SPOOLD_BIN", "build/plain")
PAGES = {"man8/spoold.8", "man1/spool.1", "man5/spoold.conf.5", "man5/spool-job.5"}
EX_NOUSER, EX_CANTCREAT, EX_NOPERM = 67, 73, 77
MODES = {"": 0o2751, "tmp": 0o2770, "new": 0o2770, "active": 0o2750, "deferred": 0o2750,
         "hold": 0o2750, "sent": 0o2750, "failed": 0o2750, "corrupt": 0o2750, "ids": 0o2750,
         "state": 0o2750}


def make_env():
    """The environment for a nested make: no jobserver of a parent make."""
    env = dict(os.environ)
    flags = [w for w in env.get("MAKEFLAGS", "").split() if "jobserver" not in w]
    env["MAKEFLAGS"] = " ".join(flags)
    env.pop("MFLAGS", None)
    return env


class InstallTest(E2ETestCase):

    @classmethod
    def setUpClass(cls):
        cls.destdir = tempfile.mkdtemp(prefix="spoold-install-")
        os.chmod(cls.destdir, 0o755)  # other users run the installed spool too
        # Build first with the build directory's own PREFIX, so that make
        # install PREFIX=/usr finds everything up to date and compiles
        # nothing into O with another SHAREDIR.
        for argv in (["make", "-C", REPO, "all", f"O={O}"],
                     ["make", "-C", REPO, "install", f"DESTDIR={cls.destdir}", "PREFIX=/usr",
                      f"O={O}"]):
            r = subprocess.run(argv, capture_output=True, env=make_env(), timeout=900)
            if r.returncode != 0:
                break
        cls.make_output = (r.stdout + r.stderr).decode("utf-8", "replace")
        if r.returncode != 0:
            shutil.rmtree(cls.destdir, ignore_errors=True)
            raise AssertionError(f"make {argv[3]} failed ({r.returncode}):\n"
                                 f"{cls.make_output[-4000:]}")
        cls.spoold = cls.inst("usr/sbin/spoold")
        cls.spool_bin = cls.inst("usr/bin/spool")
        cls.templates = cls.inst("usr/share/spoold/templates")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.destdir, ignore_errors=True)

    @classmethod
    def inst(cls, rel):
        return os.path.join(cls.destdir, rel)

    def run_spool(self, *args, conf=None, **kw):
        argv = [self.spool_bin] + (["-c", conf] if conf else []) + list(args)
        env = dict(os.environ)
        env.pop("SPOOLD_CONF", None)
        env["SPOOLD_TEMPLATES"] = self.templates
        return subprocess.run(argv, capture_output=True, timeout=60, env=env, **kw)

    # ------------------------------------------------------------ the layout

    def test_layout(self):
        """Every file where the Makefile says, with the paths rewritten."""
        for rel, mode in (("usr/sbin/spoold", 0o755), ("usr/bin/spool", 0o755)):
            st = os.stat(self.inst(rel))
            self.assertEqual(stat.S_IMODE(st.st_mode), mode, rel)
        man = self.inst("usr/share/man")
        found = {os.path.relpath(os.path.join(d, f), man)
                 for d, _, fs in os.walk(man) for f in fs}
        self.assertEqual(found, PAGES)
        for page in PAGES:
            with open(os.path.join(man, page), encoding="ascii") as f:
                text = f.read()
            self.assertNotIn("/usr/local", text, page)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(man, page)).st_mode), 0o644)
        with open(os.path.join(man, "man8/spoold.8"), encoding="ascii") as f:
            self.assertIn("/usr/share/spoold/templates", f.read())
        for kind in ("reminder", "recall"):
            for part in ("subject", "body.txt", "body.html"):
                self.assertTrue(os.path.isfile(os.path.join(self.templates, kind, part)))
        self.assertTrue(os.path.isfile(self.inst("usr/share/spoold/spoold.conf.example")))
        shared = self.inst("usr/share/spoold/spoold.service")
        unit = self.inst("usr/lib/systemd/system/spoold.service")
        with open(shared, encoding="ascii") as f:
            text = f.read()
        with open(unit, encoding="ascii") as f:
            self.assertEqual(f.read(), text, "the two copies of the unit differ")
        self.assertRegex(text, r"(?m)^ExecStart=/usr/sbin/spoold -f$")
        self.assertNotIn("/usr/local", text)
        comp = self.inst("usr/share/bash-completion/completions/spool")
        self.assertEqual(os.path.exists(comp),
                         os.path.exists(os.path.join(REPO, "contrib/spool.bash-completion")))

    def test_unit_hardening(self):
        """The unit: no root, and the sandbox INSTALL and spoold(8) describe."""
        with open(os.path.join(REPO, "contrib/spoold.service"), encoding="ascii") as f:
            text = f.read()
        keys = {}
        for line in text.splitlines():
            if "=" in line and not line.startswith("#"):
                k, _, v = line.partition("=")
                keys[k] = v
        want = {"Type": "simple", "ExecStart": "/usr/local/sbin/spoold -f",
                "ExecReload": "/bin/kill -HUP $MAINPID", "User": "spoold", "Group": "spoold",
                "NoNewPrivileges": "yes", "ProtectSystem": "strict",
                "ReadWritePaths": "/var/spool/spoold", "PrivateTmp": "yes",
                "ProtectHome": "yes", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
                "CapabilityBoundingSet": "", "ProtectKernelTunables": "yes",
                "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
                "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
                "SystemCallArchitectures": "native", "UMask": "0027",
                "Restart": "on-failure"}
        for k, v in want.items():
            self.assertEqual(keys.get(k), v, k)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "no systemd-analyze")
    def test_unit_verifies(self):
        """systemd-analyze verify: the installed unit, its ExecStart pointed at
        the installed spoold, its man: links at the installed pages."""
        d = tempfile.mkdtemp(prefix="spoold-unit-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(self.inst("usr/lib/systemd/system/spoold.service"), encoding="ascii") as f:
            text = f.read().replace("/usr/sbin/spoold", self.spoold)
        path = os.path.join(d, "spoold.service")
        with open(path, "w", encoding="ascii") as f:
            f.write(text)
        env = dict(os.environ, MANPATH=self.inst("usr/share/man"))
        r = subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                           timeout=60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stderr.decode().strip(), "")

    # ------------------------------------------------------------ end to end

    def test_installed_programs_send(self):
        """spool submit, spoold -f -q: the installed programs send a job."""
        srv = self.start_server(tls="starttls", auth=True)
        conf = self.write_conf(srv)
        self.make_spool()
        with open(os.path.join(self.tmp, "job.json"), "w", encoding="utf-8") as f:
            json.dump(make_job("appt-install-1", email="jane@example.com"), f)
        r = self.run_spool("submit", "--json", os.path.join(self.tmp, "job.json"), conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        name = json.loads(r.stdout)["name"]
        self.assertEqual(self.jobs_in("new"), [name])

        env = dict(os.environ)
        env.pop("SPOOLD_CONF", None)
        env["SPOOLD_TEMPLATES"] = self.templates
        d = Daemon([self.spoold, "-f", "-q", "-c", conf], "installed-spoold", env=env)
        self.daemons.append(d)
        self.assertEqual(d.wait_exit(timeout=60), 0, d.tail())
        self.assertEqual(self.where(name), ["sent"], self.context())
        self.assertRegex(d.text(), rf"job={re.escape(name)} .*category=sent\b")
        msgid = self.read_job("sent", name)["spool"]["message_id"]
        recs = srv.by_msgid(msgid)
        self.assertEqual(len(recs), 1, srv.records())
        self.assertEqual(recs[0]["rcpt"], ["jane@example.com"])
        msg = srv.message(recs[0])
        self.assertEqual(header(msg, "X-Spool-Job"), name)

        # The installed spool renders with the installed templates, as sent.
        r = self.run_spool("render", "--text", os.path.join(self.tmp, "job.json"), conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"Jane", r.stdout)
        r = self.run_spool("list", "--sent", "--json", conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual([j["name"] for j in json.loads(r.stdout)], [name])

    # ------------------------------------------------------------ man pages

    @unittest.skipUnless(shutil.which("groff") and shutil.which("man"),
                         "groff or man-db missing (contrib/install-deps installs them)")
    def test_man_pages_render_without_warnings(self):
        """man -l and groff -man -Tutf8 -ww: output, and nothing on stderr."""
        pages = [os.path.join(self.inst("usr/share/man"), p) for p in sorted(PAGES)]
        pages += [os.path.join(REPO, "man", os.path.basename(p)) for p in sorted(PAGES)]
        for page in pages:
            for lang in ("C.UTF-8", "C"):
                env = dict(os.environ, MANWIDTH="80", LANG=lang, LC_ALL=lang,
                           MAN_DISABLE_SECCOMP="1")
                r = subprocess.run(["man", "-l", page], capture_output=True, timeout=60,
                                   env=env)
                self.assertEqual(r.returncode, 0, f"{page} ({lang}): {r.stderr.decode()}")
                self.assertEqual(r.stderr.decode(), "", f"man -l {page} ({lang})")
                self.assertGreater(len(r.stdout), 1000, page)
            r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, page)
            self.assertEqual(r.stderr.decode(), "", f"groff -ww {page}")

    def test_every_verb_is_in_spool_1(self):
        """spool(1) has a section for every verb spool --help lists."""
        r = self.run_spool("--help")
        block = r.stdout.decode().split("Verbs:\n")[1].split("\n\n")[0]
        verbs = re.findall(r"(?m)^  ([a-z]+) ", block)
        self.assertIn("setup", verbs)
        with open(os.path.join(REPO, "man", "spool.1"), encoding="ascii") as f:
            sections = re.findall(r"(?m)^\.SS ([a-z]+) ", f.read())
        self.assertEqual(sorted(sections), sorted(verbs))

    # ------------------------------------------------------------ spool setup

    def setup_conf(self, spool, user):
        path = os.path.join(self.tmp, "setup.conf")
        with open(path, "w", encoding="ascii") as f:
            f.write(f"spool_dir = {spool}\nuser = {user}\n")
        os.chmod(path, 0o644)
        return path

    def daemon_ids(self):
        """A non-root user and its own group for the spool (nobody:nogroup)."""
        try:
            pw = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")
        return pw, grp.getgrgid(pw.pw_gid)

    def check_modes(self, spool, uid, gid):
        for name, mode in MODES.items():
            st = os.lstat(os.path.join(spool, name) if name else spool)
            self.assertTrue(stat.S_ISDIR(st.st_mode), name)
            self.assertEqual(stat.S_IMODE(st.st_mode), mode,
                             f"{name or 'root'}: {oct(stat.S_IMODE(st.st_mode))}")
            self.assertEqual((st.st_uid, st.st_gid), (uid, gid), name or "root")

    @unittest.skipUnless(os.geteuid() == 0, "spool setup needs root")
    def test_setup_modes_and_idempotent(self):
        """The documented modes; a second run changes nothing; a wrong mode
        and owner are fixed, and files in the spool are left alone."""
        pw, gr = self.daemon_ids()
        spool = os.path.join(self.tmp, "spool")
        conf = self.setup_conf(spool, pw.pw_name)
        r = self.run_spool("setup", "--group", gr.gr_name, "--json", conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = json.loads(r.stdout)
        self.assertEqual({d["action"] for d in out["directories"]}, {"created"})
        self.assertEqual(len(out["directories"]), len(MODES))
        self.assertEqual(out["warnings"], [])
        self.check_modes(spool, pw.pw_uid, gr.gr_gid)

        r = self.run_spool("setup", "--group", gr.gr_name, "--json", conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = json.loads(r.stdout)
        self.assertEqual({d["action"] for d in out["directories"]}, {"unchanged"})
        self.assertEqual(out["files_left_alone"], 0)
        self.check_modes(spool, pw.pw_uid, gr.gr_gid)

        job = os.path.join(spool, "new", "1764578400.M1P1Q1.host")
        with open(job, "w", encoding="ascii") as f:
            f.write("{}")
        os.chmod(job, 0o600)
        before = os.stat(job)
        os.chmod(os.path.join(spool, "sent"), 0o755)
        os.chown(os.path.join(spool, "state"), 0, 0)
        r = self.run_spool("setup", "--group", gr.gr_name, conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        text = r.stdout.decode()
        self.assertRegex(text, r"/sent\s+\S+\s+2750\s+changed \(was \S+ 0755\)")
        self.assertRegex(text, r"/state\s+\S+\s+2750\s+changed \(was root:root 2750\)")
        self.assertIn("the 1 file already in the spool was left as it was", text)
        self.check_modes(spool, pw.pw_uid, gr.gr_gid)
        after = os.stat(job)
        self.assertEqual((after.st_ino, after.st_mode, after.st_uid, after.st_gid),
                         (before.st_ino, before.st_mode, before.st_uid, before.st_gid))

    @unittest.skipUnless(os.geteuid() == 0, "spool setup needs root")
    def test_setup_explains_missing_user_and_group(self):
        """A missing user or group: the command to create it, exit 67, nothing made."""
        pw, gr = self.daemon_ids()
        spool = os.path.join(self.tmp, "spool")
        conf = self.setup_conf(spool, "spoold-no-such-user")
        r = self.run_spool("setup", "--group", gr.gr_name, conf=conf)
        self.assertEqual(r.returncode, EX_NOUSER, r.stderr.decode())
        self.assertIn(f"useradd --system --home-dir {spool} --shell /usr/sbin/nologin "
                      "spoold-no-such-user", r.stderr.decode())
        r = self.run_spool("setup", "--user", pw.pw_name, "--group", "spoold-no-such-group",
                           conf=conf)
        self.assertEqual(r.returncode, EX_NOUSER, r.stderr.decode())
        self.assertIn("groupadd --system spoold-no-such-group", r.stderr.decode())
        self.assertIn("--create-group", r.stderr.decode())
        self.assertFalse(os.path.lexists(spool))

    @unittest.skipUnless(os.geteuid() == 0, "spool setup needs root")
    def test_setup_refuses(self):
        """Not root: 77.  A symbolic link as spool_dir or as a folder: 73,
        and what it points to is left alone."""
        pw, gr = self.daemon_ids()
        spool = os.path.join(self.tmp, "spool")
        conf = self.setup_conf(spool, pw.pw_name)
        r = self.run_spool("setup", "--group", gr.gr_name, conf=conf, user=pw.pw_uid,
                           group=pw.pw_gid, extra_groups=[])
        self.assertEqual(r.returncode, EX_NOPERM, r.stderr.decode())
        self.assertIn("must be run as root", r.stderr.decode())
        self.assertFalse(os.path.lexists(spool))

        target = os.path.join(self.tmp, "elsewhere")
        os.mkdir(target, 0o700)
        os.symlink(target, spool)
        r = self.run_spool("setup", "--group", gr.gr_name, conf=conf)
        self.assertEqual(r.returncode, EX_CANTCREAT, r.stderr.decode())
        self.assertEqual(os.stat(target).st_uid, 0)
        self.assertEqual(os.listdir(target), [])

        os.unlink(spool)
        os.mkdir(spool)
        os.symlink(target, os.path.join(spool, "sent"))
        r = self.run_spool("setup", "--group", gr.gr_name, conf=conf)
        self.assertEqual(r.returncode, EX_CANTCREAT, r.stderr.decode())
        self.assertIn("/sent: not a directory", r.stderr.decode())
        st = os.stat(target)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o700))

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run as other users")
    def test_setup_permissions_work(self):
        """After spool setup, with no root anywhere: a scheduler in the group
        submits, spoold (the daemon user, in the group) sends it, staff in
        the group read it; someone outside the group reads nothing."""
        try:
            daemon_pw, sched_pw, staff_pw = (pwd.getpwnam(n) for n in ("nobody", "daemon", "bin"))
            gid = grp.getgrnam("users").gr_gid
        except KeyError as e:
            self.skipTest(f"needs the users nobody, daemon, bin and the group users: {e}")
        os.chmod(self.tmp, 0o755)
        spool = self.spool
        srv = self.start_server()  # no TLS, no AUTH: nothing secret for other users to read
        conf = self.write_conf(srv)
        with open(conf, encoding="utf-8") as f:
            text = f.read().replace(f"user = {pwd.getpwuid(os.geteuid()).pw_name}\n",
                                    f"user = {daemon_pw.pw_name}\n")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(conf, 0o644)
        r = self.run_spool("setup", "--group", "users", conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr.decode())

        def as_user(pw, *args, groups=(gid,)):
            return self.run_spool(*args, conf=conf, user=pw.pw_uid, group=pw.pw_gid,
                                  extra_groups=list(groups))

        job = os.path.join(self.tmp, "job.json")
        with open(job, "w", encoding="utf-8") as f:
            json.dump(make_job("appt-install-perm"), f)
        os.chmod(job, 0o644)
        r = as_user(sched_pw, "submit", "--json", job)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        name = json.loads(r.stdout)["name"]
        st = os.stat(self.path("new", name))
        self.assertEqual((st.st_uid, st.st_gid), (sched_pw.pw_uid, gid))

        env = dict(os.environ, SPOOLD_TEMPLATES=self.templates)
        env.pop("SPOOLD_CONF", None)
        argv = [self.spoold, "-f", "-q", "-c", conf]
        proc = subprocess.run(argv, env=env, capture_output=True, timeout=60,
                              user=daemon_pw.pw_uid, group=daemon_pw.pw_gid, extra_groups=[gid])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode()[-3000:])
        self.assertEqual(self.where(name), ["sent"], proc.stderr.decode()[-3000:])
        self.assertEqual(srv.count(), 1)
        for f in (name, name + ".eml.gz"):
            self.assertEqual(os.stat(self.path("sent", f)).st_gid, gid, f)

        r = as_user(staff_pw, "list", "--sent", "--json")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual([j["name"] for j in json.loads(r.stdout)], [name])
        r = as_user(staff_pw, "show", "--message", name)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"X-Spool-Job: " + name.encode(), r.stdout)
        # Staff may not move jobs: only the daemon user (or root) may.
        r = as_user(staff_pw, "delete", name)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Permission denied", r.stderr.decode())
        self.assertEqual(self.where(name), ["sent"])
        # Outside the group: nothing.
        r = as_user(staff_pw, "list", "--sent", groups=())
        self.assertEqual(r.returncode, EX_NOPERM, r.stderr.decode())
        self.assertEqual(r.stdout, b"")

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("groupadd")
                         and shutil.which("groupdel"), "needs root, groupadd and groupdel")
    def test_setup_create_group(self):
        """--create-group runs groupadd --system GROUP and says so."""
        pw, _ = self.daemon_ids()
        group = f"spoolt{os.getpid() % 100000}"
        try:
            grp.getgrnam(group)
            self.skipTest(f"group {group} exists")
        except KeyError:
            pass
        self.addCleanup(subprocess.run, ["groupdel", group], capture_output=True)
        spool = os.path.join(self.tmp, "spool")
        conf = self.setup_conf(spool, pw.pw_name)
        r = self.run_spool("setup", "--group", group, "--create-group", "--json", conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = json.loads(r.stdout)
        self.assertTrue(out["group_created"])
        self.assertIn(f"running: groupadd --system {group}", r.stderr.decode())
        gid = grp.getgrnam(group).gr_gid
        self.check_modes(spool, pw.pw_uid, gid)
        # nobody is not in the new group: the warning names the fix.
        self.assertEqual(len(out["warnings"]), 1, out)
        self.assertIn(f"usermod -a -G {group} {pw.pw_name}", out["warnings"][0])


if __name__ == "__main__":
    unittest.main()
