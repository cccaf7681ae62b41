"""Delivery end to end: TLS and AUTH, retries, failures, timeouts, drops.

Each test runs tests/smtpserver.py (scripted where needed) and spoold -f on
a temporary spool, and checks the folders, the job's history, spoold's log
and what the server received.
"""

import os
import re
import signal
import socket
import threading
import time
import unittest
from email.utils import parseaddr

from harness import E2ETestCase, FROM_ADDR, header, make_job


class PipeServer:
    """A small SMTP server that offers PIPELINING (aiosmtpd does not): it
    refuses RCPT TO for addresses containing refuse with refuse_reply, and
    answers DATA with data_reply when no recipient was accepted.  It keeps
    every chunk it read per connection (chunks) and the message bodies it
    accepted (bodies).  Has what write_conf needs: port, tls, auth."""

    tls = "none"
    auth = False

    def __init__(self, refuse, refuse_reply, data_reply="554 5.5.1 Error: no valid recipients"):
        self.refuse, self.refuse_reply, self.data_reply = refuse, refuse_reply, data_reply
        self.chunks, self.bodies, self.lock = [], [], threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        got = []
        with self.lock:
            self.chunks.append(got)
        buf, rcpts, body = b"", 0, None
        c.sendall(b"220 pipe.test ESMTP\r\n")
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                with self.lock:
                    got.append(data)
                buf += data
                out = []
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.rstrip(b"\r")
                    if body is not None:
                        if line == b".":
                            with self.lock:
                                self.bodies.append(b"\n".join(body))
                            body = None
                            out.append(b"250 2.0.0 Ok: queued")
                        else:
                            body.append(line)
                        continue
                    cmd = line.upper()
                    if cmd.startswith(b"EHLO"):
                        out.append(b"250-pipe.test\r\n250-PIPELINING\r\n250 8BITMIME")
                    elif cmd.startswith(b"MAIL FROM:"):
                        rcpts = 0
                        out.append(b"250 2.1.0 Ok")
                    elif cmd.startswith(b"RCPT TO:"):
                        if self.refuse.encode() in line:
                            out.append(self.refuse_reply.encode())
                        else:
                            rcpts += 1
                            out.append(b"250 2.1.5 Ok")
                    elif cmd == b"DATA":
                        if rcpts:
                            body = []
                            out.append(b"354 End data with <CR><LF>.<CR><LF>")
                        else:
                            out.append(self.data_reply.encode())
                    elif cmd == b"RSET":
                        out.append(b"250 2.0.0 Ok")
                    elif cmd == b"QUIT":
                        c.sendall(b"221 2.0.0 Bye\r\n")
                        return
                    else:
                        out.append(b"502 5.5.2 Error: command not recognized")
                if out:  # the replies to a pipelined group go out together
                    c.sendall(b"\r\n".join(out) + b"\r\n")
        except OSError:
            return
        finally:
            c.close()

    def stop(self):
        self.sock.close()


class TestDelivery(E2ETestCase):

    def check_sent(self, srv, name, job_id):
        """sent/NAME with history, the message as sent equal to what the
        server received, and the Message-ID the job recorded."""
        job = self.read_job("sent", name)
        sp = job["spool"]
        self.assertEqual(job["id"], job_id)
        self.assertEqual(sp["attempts"][-1]["category"], "sent", sp)
        self.assertEqual(sp["attempts"][-1]["stage"], "data-end", sp)
        self.assertIn("message_id", sp)
        recs = srv.by_msgid(sp["message_id"])
        self.assertEqual(len(recs), 1, f"server records for {sp['message_id']}: {recs}")
        received = srv.message(recs[0])
        self.assertEqual(self.read_eml(name), received,
                         "sent/NAME.eml.gz differs from what the server received")
        self.assertEqual(header(received, "Message-ID"), sp["message_id"])
        self.assertEqual(header(received, "X-Spool-Job"), name)
        self.assertEqual(recs[0]["mail_from"], FROM_ADDR)
        if "tls" in recs[0]:  # smtpserver.py records whether the session was encrypted
            self.assertEqual(recs[0]["tls"], srv.tls != "none", recs[0])
        return job, recs[0], received

    def test_starttls_auth_plain_to_sent(self):
        """1. STARTTLS with the test CA and AUTH PLAIN: the job reaches sent/."""
        srv = self.start_server(tls="starttls", auth=True)
        d = self.start_spoold(self.write_conf(srv))
        name = self.submit(make_job("appt-1-starttls", email="jane@example.com"))
        self.wait_sent(d, name)
        job, rec, msg = self.check_sent(srv, name, "appt-1-starttls")
        self.assertEqual(rec["rcpt"], ["jane@example.com"])
        self.assertEqual(len(job["spool"]["attempts"]), 1)
        self.assertEqual(parseaddr(header(msg, "To")), ("Jane Doe", "jane@example.com"))
        # The server requires AUTH inside TLS before MAIL (auth_required), and
        # its --verbose log shows each command: STARTTLS, then AUTH PLAIN.
        log = srv.stderr()
        self.assertRegex(log, r">> b'STARTTLS'", log[-3000:])
        self.assertRegex(log, r">> b'AUTH PLAIN", log[-3000:])
        self.assertLess(log.index("STARTTLS"), log.index("AUTH PLAIN"))
        self.assertRegex(log, r">> b'MAIL FROM:<" + re.escape(FROM_ADDR), log[-3000:])
        self.assertNotIn("s3cret", d.text(), "the password reached spoold's log")

    def test_implicit_tls(self):
        """2. Implicit TLS (port 465 style) with AUTH."""
        srv = self.start_server(tls="implicit", auth=True)
        d = self.start_spoold(self.write_conf(srv))
        self.assertRegex(d.text(), r"tls=implicit")
        name = self.submit(make_job("appt-2-implicit"))
        self.wait_sent(d, name)
        self.check_sent(srv, name, "appt-2-implicit")
        self.assertNotRegex(srv.stderr(), r">> b'STARTTLS'")

    def test_connection_reused(self):
        """One authenticated connection carries many messages (DESIGN, Delivery)."""
        srv = self.start_server(tls="starttls", auth=True)
        d = self.start_spoold(self.write_conf(srv))
        names = [self.submit(make_job(f"appt-reuse-{i}", email=f"p{i}@example.com"))
                 for i in range(5)]
        for name in names:
            self.wait_sent(d, name)
        recs = srv.records()
        self.assertEqual(len(recs), 5)
        self.assertEqual(len({r["conn"] for r in recs}), 1, recs)
        self.assertEqual(srv.stderr().count(">> b'AUTH "), 1)

    def test_deferred_then_sent(self):
        """3. 451 at RCPT once: deferred/ with a future mtime; due again, sent."""
        srv = self.start_server(tls="starttls", auth=True, script=[
            {"stage": "rcpt", "times": 1, "action": "reply",
             "reply": "451 4.3.0 Mail server temporarily busy, try again"}])
        conf = self.write_conf(srv)
        d = self.start_spoold(conf)
        name = self.submit(make_job("appt-3-deferred"))
        d.wait_log(rf"job={re.escape(name)} .*stage=rcpt code=451 category=transient")
        self.assertEqual(self.where(name), ["deferred"], self.context())
        now = time.time()
        st = os.stat(self.path("deferred", name))
        self.assertGreater(st.st_mtime, now + 10, "the next attempt must be in the future")
        self.assertLess(st.st_mtime, now + 2 * 3600)
        job = self.read_job("deferred", name)
        att = job["spool"]["attempts"]
        self.assertEqual(len(att), 1)
        self.assertEqual(att[0]["category"], "transient")
        self.assertEqual(att[0]["stage"], "rcpt")
        self.assertEqual(att[0]["code"], 451)
        self.assertEqual(att[0]["text"], "4.3.0 Mail server temporarily busy, try again")
        self.assertEqual(srv.count(), 0)

        # Make it due and restart: spoold only times what it scheduled itself.
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0)
        os.utime(self.path("deferred", name), (now, now))
        d2 = self.start_spoold(conf)
        self.wait_sent(d2, name)
        job, _, _ = self.check_sent(srv, name, "appt-3-deferred")
        att = job["spool"]["attempts"]
        self.assertEqual([a["category"] for a in att], ["transient", "sent"])

    def test_recipient_unknown_fails_with_reason(self):
        """4. 550 5.1.1 at RCPT: failed/ with a reason naming the patient."""
        srv = self.start_server(tls="starttls", auth=True, script=[
            {"stage": "rcpt", "match": "nobody@", "action": "reply",
             "reply": "550 5.1.1 <nobody@example.com>: Recipient address rejected: "
                      "User unknown in virtual mailbox table"}])
        d = self.start_spoold(self.write_conf(srv))
        name = self.submit(make_job("appt-4-unknown", email="nobody@example.com",
                                    first="Mary", last="Fairweather"))
        d.wait_log(rf"job={re.escape(name)} .*stage=rcpt code=550 category=recipient-invalid")
        self.wait_in("failed", name)
        self.assertEqual(self.where(name), ["failed"], self.context())
        att = self.attempts("failed", name)
        self.assertEqual(att[-1]["category"], "recipient-invalid")
        self.assertIn("5.1.1", att[-1]["text"])
        reason = self.read_text("failed", name + ".reason.txt")
        self.assertIn("Mary", reason)
        self.assertIn("Fairweather", reason)
        self.assertIn("nobody@example.com", reason)
        self.assertIn("User unknown in virtual mailbox table", reason)
        self.assertEqual(srv.count(), 0)
        # Other jobs continue.
        ok = self.submit(make_job("appt-4-other"))
        self.wait_sent(d, ok)

    def test_pipelined_rcpt_refusal(self):
        """4b. PIPELINING offered: MAIL, RCPT and DATA go in one write; a 550
        at RCPT is judged at stage rcpt with its own text (not DATA's 554),
        no message follows it, and the next job goes on the same connection."""
        text = ("550 5.1.1 <nobody@example.com>: Recipient address rejected: "
                "User unknown in virtual mailbox table")
        srv = PipeServer("nobody@", text)
        self.addCleanup(srv.stop)
        d = self.start_spoold(self.write_conf(srv))
        name = self.submit(make_job("appt-4b-unknown", email="nobody@example.com",
                                    first="Mary", last="Fairweather"))
        d.wait_log(rf"job={re.escape(name)} .*stage=rcpt code=550 category=recipient-invalid")
        self.wait_in("failed", name)
        att = self.attempts("failed", name)
        self.assertEqual(att[-1]["stage"], "rcpt", att)
        self.assertEqual(att[-1]["code"], 550, att)
        self.assertEqual(att[-1]["text"], text[4:], att)
        reason = self.read_text("failed", name + ".reason.txt")
        self.assertIn("User unknown in virtual mailbox table", reason)
        ok = self.submit(make_job("appt-4b-other"))
        self.wait_sent(d, ok)
        self.assertEqual(len(srv.bodies), 1, srv.bodies)
        self.assertIn(b"X-Spool-Job: " + ok.encode(), srv.bodies[0])
        with srv.lock:
            self.assertEqual(len(srv.chunks), 1, "one connection for both jobs")
            chunks = list(srv.chunks[0])
        joined = b"".join(chunks)
        # each transaction's three commands arrived in one read
        groups = [c for c in chunks if c.startswith(b"MAIL FROM:")]
        self.assertEqual(len(groups), 2, chunks)
        for g in groups:
            self.assertRegex(g, rb"^MAIL FROM:<[^>]+>\r\nRCPT TO:<[^>]+>\r\nDATA\r\n$")
        # after the refusal: RSET, and no message (nor a lone dot) before it
        first = joined.split(b"RSET\r\n")[0]
        self.assertNotIn(b"\r\n.\r\n", first)
        self.assertIn(b"RSET\r\n", joined)

    def test_wrong_host_certificate_refused(self):
        """5. A certificate for another host: nothing sent after STARTTLS."""
        srv = self.start_server(tls="starttls", cert="wrong", auth=True)
        d = self.start_spoold(self.write_conf(srv))
        name = self.submit(make_job("appt-5-wrongcert"))
        d.wait_log(rf"job={re.escape(name)} .*category=tls-failed")
        self.wait_in("deferred", name)
        self.assertEqual(self.where(name), ["deferred"], self.context())
        att = self.attempts("deferred", name)
        self.assertEqual(len(att), 1)
        self.assertEqual(att[0]["category"], "tls-failed")
        text = att[0]["text"]
        self.assertRegex(text, r"(?i)certificate", text)
        self.assertRegex(text, r"wrong\.example|127\.0\.0\.1", text)
        self.assertEqual(srv.count(), 0)
        self.assertIsNotNone(d.find(r"sending stopped: category=tls-failed"), d.tail())
        log = srv.stderr()
        self.assertRegex(log, r">> b'STARTTLS'", log[-3000:])
        self.assertNotRegex(log, r">> b'(MAIL|AUTH|RCPT|DATA)", log[-3000:])

    def test_stalled_server_does_not_hold_queue(self):
        """6. A stall after the final dot costs one timeout, not the queue."""
        srv = self.start_server(tls="starttls", auth=True, script=[
            {"stage": "data-end", "match": "stall-victim@", "action": "stall"}])
        timeout = 2
        d = self.start_spoold(self.write_conf(srv, timeout=timeout))
        t0 = time.monotonic()
        stall = self.submit(make_job("appt-6-stall", email="stall-victim@example.com",
                                     start=time.time() + 86400))
        others = [self.submit(make_job(f"appt-6-ok{i}", email=f"ok{i}@example.com"))
                  for i in range(3)]
        for name in others:
            self.wait_sent(d, name, timeout=max(0.5, t0 + timeout + 5 - time.monotonic()))
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, timeout + 5)
        m = d.wait_log(rf"job={re.escape(stall)} .*category=unknown-outcome",
                       timeout=timeout + 5)
        # After the final dot the server may have it: held, not resent blindly.
        self.wait_in("hold", stall)
        self.assertEqual(self.where(stall), ["hold"], self.context())
        att = self.attempts("hold", stall)
        self.assertEqual(att[-1]["category"], "unknown-outcome")
        self.assertRegex(att[-1]["text"], r"timed out", m.group(0))
        for name in others:
            self.check_sent(srv, name, self.read_job("sent", name)["id"])

    def test_drop_after_final_dot_is_unknown_outcome(self):
        """7. The connection drops after the final dot: unknown-outcome; the job is
        held with its reason, never resent blindly (the server may have it)."""
        srv = self.start_server(tls="starttls", auth=True, script=[
            {"stage": "data-end", "action": "drop"}])
        d = self.start_spoold(self.write_conf(srv))
        name = self.submit(make_job("appt-7-drop"))
        d.wait_log(rf"job={re.escape(name)} .*stage=data-end .*category=unknown-outcome")
        self.wait_in("hold", name)
        self.assertEqual(self.where(name), ["hold"], self.context())
        job = self.read_job("hold", name)
        att = job["spool"]["attempts"]
        self.assertEqual(len(att), 1)
        self.assertEqual(att[0]["category"], "unknown-outcome")
        self.assertEqual(att[0]["stage"], "data-end")
        reason = self.read_text("hold", name + ".reason.txt")
        self.assertIn("may or may not have been delivered", reason)
        self.assertIn(f"spool release {name}", reason)
        # The server did get it (and logged the drop): a resend would duplicate.
        recs = srv.by_msgid(job["spool"]["message_id"])
        self.assertEqual(len(recs), 1)
        self.assertTrue(recs[0].get("dropped"))


if __name__ == "__main__":
    unittest.main()
