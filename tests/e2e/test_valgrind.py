"""spoold under valgrind: no memory errors and no leaks on the paths that matter.

STARTTLS with AUTH, a sent job, a recipient refused (failed/ with a reason),
a corrupt file, and an exit once the spool is quiet (-q).  Skipped in the
sanitizer build (ASan and valgrind do not mix) and when valgrind is absent.
"""

import os
import shutil
import unittest

from harness import BIN, SPOOLD, Daemon, E2ETestCase, make_job

VALGRIND = shutil.which("valgrind")


@unittest.skipIf(not VALGRIND, "valgrind is not installed")
@unittest.skipIf("san" in os.path.basename(BIN.rstrip("/")), "ASan build: valgrind cannot run it")
class TestValgrind(E2ETestCase):

    def test_no_errors_no_leaks(self):
        script = [{"stage": "rcpt", "match": "nobody@", "action": "reply",
                   "reply": "550 5.1.1 User unknown"}]
        srv = self.start_server(tls="starttls", auth=True, script=script)
        conf = self.write_conf(srv)
        self.make_spool()
        good = [self.submit(make_job(f"vg-{i}", email=f"p{i}@example.com")) for i in range(3)]
        bad = self.submit(make_job("vg-x", email="nobody@example.com"))
        junk = self.submit(b'{"version": 1, "oops"')
        log = os.path.join(self.tmp, "valgrind.log")
        d = Daemon([VALGRIND, "--leak-check=full", "--show-leak-kinds=definite,indirect",
                    "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                    f"--log-file={log}", SPOOLD, "-f", "-q", "-c", conf], "valgrind-spoold")
        self.daemons.append(d)
        rc = d.wait_exit(timeout=120)
        with open(log, encoding="utf-8", errors="replace") as f:
            report = f.read()
        self.assertEqual(rc, 0, f"valgrind reported problems:\n{report[-4000:]}")
        self.assertIn("ERROR SUMMARY: 0 errors", report)
        for name in good:
            self.assertEqual(self.where(name), ["sent"], self.context())
        self.assertEqual(self.where(bad), ["failed"], self.context())
        self.assertTrue(os.path.exists(self.path("failed", bad + ".reason.txt")))
        self.assertEqual(self.where(junk), ["corrupt"], self.context())


if __name__ == "__main__":
    unittest.main()
