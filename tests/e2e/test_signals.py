"""Signals and configuration: SIGTERM finishes the job in flight, SIGHUP
re-reads the configuration, an unsafe password file is refused."""

import os
import re
import signal
import unittest
from email.utils import parseaddr

from harness import EX_CONFIG, Daemon, E2ETestCase, SPOOLD, header, make_job


class TestSignals(E2ETestCase):

    def test_sigterm_finishes_message_in_flight(self):
        """11a. SIGTERM while a message is in flight: it is sent, then exit 0."""
        srv = self.start_server()
        d = self.start_spoold(self.write_conf(srv, timeout=15))
        # Freeze the server: spoold's connect succeeds (the kernel accepts),
        # then it waits for the greeting, holding the claimed job in active/.
        srv.pause()
        first = self.submit(make_job("term-1"), tag="term1")
        self.wait_in("active", first)
        second = self.submit(make_job("term-2"), tag="term2")
        d.signal(signal.SIGTERM)
        srv.resume()
        self.assertEqual(d.wait_exit(15), 0, d.tail())
        self.assertEqual(self.where(first), ["sent"], self.context())
        self.assertIsNotNone(d.find(rf"job={re.escape(first)} .*category=sent"), d.tail())
        mid = self.read_job("sent", first)["spool"]["message_id"]
        self.assertEqual(len(srv.by_msgid(mid)), 1)
        # Signals are looked at between jobs: the next one was not started.
        self.assertEqual(self.where(second), ["new"], self.context())
        self.assertEqual(srv.count(), 1)
        self.assertEqual(self.jobs_in("active"), [])

    def test_sighup_reloads_configuration(self):
        """11b. SIGHUP re-reads the configuration; the next message uses it."""
        srv = self.start_server(tls="starttls", auth=True)
        conf = self.write_conf(srv, from_name="Old Name Clinic")
        d = self.start_spoold(conf)
        a = self.submit(make_job("hup-1"), tag="hup1")
        self.wait_sent(d, a)
        self.assertEqual(parseaddr(header(self.read_eml(a), "From"))[0], "Old Name Clinic")

        self.write_conf(srv, from_name="New Name Clinic")
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log(r"configuration reloaded", since=mark)
        self.assertTrue(d.alive())
        b = self.submit(make_job("hup-2"), tag="hup2")
        self.wait_sent(d, b, since=mark)
        msg = srv.message(srv.by_msgid(self.read_job("sent", b)["spool"]["message_id"])[0])
        self.assertEqual(parseaddr(header(msg, "From"))[0], "New Name Clinic")

    def test_sighup_keeps_config_on_error(self):
        """A broken configuration at SIGHUP is reported and the old one kept."""
        srv = self.start_server()
        conf = self.write_conf(srv)
        d = self.start_spoold(conf)
        with open(conf, "a", encoding="utf-8") as f:
            f.write("no_such_key = 1\n")
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log(r"reload: .*no_such_key.*keeping the configuration", since=mark)
        self.assertTrue(d.alive())
        name = self.submit(make_job("hup-bad"))
        self.wait_sent(d, name)

    def test_password_file_readable_by_others_refused(self):
        """11c. password_file mode 0644: refused, clearly, exit 78 (EX_CONFIG)."""
        srv = self.start_server(tls="starttls", auth=True)
        conf = self.write_conf(srv, password_mode=0o644)
        pw = os.path.join(self.tmp, "password")
        self.assertEqual(os.stat(pw).st_mode & 0o777, 0o644)
        d = Daemon([SPOOLD, "-f", "-c", conf], "spoold")
        self.daemons.append(d)
        self.assertEqual(d.wait_exit(10), EX_CONFIG, d.tail())
        out = d.text()
        self.assertIn(pw, out)
        self.assertRegex(out, r"readable by group or others")
        self.assertRegex(out, r"chmod 600")
        self.assertNotIn("s3cret", out)
        self.assertFalse(os.path.exists(self.folder("new")), "spoold went on to the spool")


if __name__ == "__main__":
    unittest.main()
