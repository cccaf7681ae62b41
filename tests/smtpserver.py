#!/usr/bin/python3
"""smtpserver.py - a scripted SMTP server for spoold's end-to-end tests.

Built on aiosmtpd (Debian 12: 1.4.3); run it with /usr/bin/python3.

    smtpserver.py --port N --ready-file F --mbox DIR
                  [--tls-cert C --tls-key K] [--starttls | --implicit-tls]
                  [--auth USER:PASSWORD [--auth-mechs PLAIN,LOGIN]]
                  [--script FILE] [--host ADDR] [--verbose]

--port 0 picks a free port.  Once listening, "PORT\\n" is written to the
ready file (a temporary file renamed into place), so a test waits for the
file instead of sleeping.  --starttls offers STARTTLS and requires it before
MAIL; --implicit-tls speaks TLS from the first byte; neither: plain SMTP, no
STARTTLS offered.  --auth requires AUTH (PLAIN and LOGIN, or those named by
--auth-mechs; inside TLS only, which --implicit-tls is from the start).

Every accepted message is saved in DIR as NNNNNN.eml, the exact bytes
received (dot-unstuffed, CRLF line ends, without the final ".\\r\\n"), and
one JSON line is appended to DIR/log.jsonl:
    {"n": 1, "file": "000001.eml", "conn": 1, "tls": true, "sni": "localhost",
     "mail_from": "...", "rcpt": ["..."], "message_id": "<...>", "size": 312,
     "time": 1764210000.123}
"conn" numbers the connection the message came on (to check reuse), "tls"
says whether it was encrypted, "sni" is the name the client sent in SNI
(null when none), "size" the byte count, "time" seconds since the epoch.

The script (--script FILE, JSON) is a list of rules, tried in order; the
first that applies is used and counted:
    {"stage": "connect|ehlo|starttls|auth|mail|rcpt|data|data-end",
     "match": "substring of the sender/recipient (optional)",
     "times": N,            (optional: only the first N times; default always)
     "action": "reply", "reply": "550 5.1.1 User unknown"
             | "drop"       (close the connection without replying)
             | "stall"      (never reply; hold the connection until the client goes)
             | "accept_then_blackhole"  (data-end only: reply 250, or "reply",
                                         and keep the message out of the mbox)}
"match" is compared with: the client's address (connect), the EHLO name
(ehlo), the STARTTLS argument (starttls), the AUTH arguments (auth),
the address (mail, rcpt), the sender and recipients (data, data-end).  A
reply may hold several lines separated by "\\n".  At connect a reply is
sent in place of the greeting and the connection closed.  At data-end the
server has the message: a "drop" or "stall" there still saves it, with
"dropped": true or "stalled": true in its log line; a blackholed message
goes to DIR/blackhole.jsonl only.  SIGTERM and SIGINT stop the server
cleanly (exit status 0).
"""

import argparse
import asyncio
import email.parser
import email.policy
import json
import logging
import os
import signal
import ssl
import sys
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

STAGES = ("connect", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "data-end")
ACTIONS = ("reply", "drop", "stall", "accept_then_blackhole")


class Script:
    """The rules of a script file and how often each has been used."""

    def __init__(self, rules):
        if not isinstance(rules, list):
            raise ValueError("the script must be a JSON list of rules")
        for i, r in enumerate(rules):
            if not isinstance(r, dict):
                raise ValueError(f"rule {i}: not an object")
            if r.get("stage") not in STAGES:
                raise ValueError(f"rule {i}: stage must be one of {', '.join(STAGES)}")
            if r.get("action") not in ACTIONS:
                raise ValueError(f"rule {i}: action must be one of {', '.join(ACTIONS)}")
            if r["action"] == "reply" and not isinstance(r.get("reply"), str):
                raise ValueError(f"rule {i}: action reply needs a \"reply\" string")
            if r["action"] == "accept_then_blackhole" and r["stage"] != "data-end":
                raise ValueError(f"rule {i}: accept_then_blackhole is for data-end only")
            times = r.get("times")
            if times is not None and (not isinstance(times, int) or times < 0):
                raise ValueError(f"rule {i}: times must be a count")
        self.rules = [dict(r, left=r.get("times")) for r in rules]

    def match(self, stage, subject):
        """The first rule for stage that matches subject and is not used up, counted."""
        for r in self.rules:
            if r["stage"] != stage or r["left"] == 0:
                continue
            if r.get("match") and r["match"] not in (subject or ""):
                continue
            if r["left"] is not None:
                r["left"] -= 1
            return r
        return None


class Mbox:
    """The directory of received messages and its log."""

    def __init__(self, path):
        self.path = path
        os.makedirs(path, exist_ok=True)
        self.n = sum(1 for f in os.listdir(path) if f.endswith(".eml"))

    def _append(self, name, record):
        with open(os.path.join(self.path, name), "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()

    @staticmethod
    def _record(envelope, smtp):
        content = envelope.original_content or b""
        hdr = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
        mid = hdr.get("Message-ID")
        return {
            "conn": smtp.conn,
            "tls": smtp.tls_object() is not None,
            "sni": getattr(smtp.tls_object(), "sni", None),
            "mail_from": envelope.mail_from,
            "rcpt": list(envelope.rcpt_tos),
            "message_id": mid.strip() if mid else None,
            "size": len(content),
            "time": time.time(),
        }

    def save(self, envelope, smtp, **extra):
        """Save the message and log it; returns its number."""
        self.n += 1
        name = f"{self.n:06d}.eml"
        tmp = os.path.join(self.path, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or b"")
        os.rename(tmp, os.path.join(self.path, name))
        record = {"n": self.n, "file": name}
        record.update(self._record(envelope, smtp))
        record.update(extra)
        self._append("log.jsonl", record)
        return self.n

    def blackhole(self, envelope, smtp):
        """Log a message that was accepted and thrown away."""
        self._append("blackhole.jsonl", self._record(envelope, smtp))


def reply_lines(text):
    """The lines of a (possibly multi-line) reply, with '-' continuations."""
    lines = text.split("\n")
    return [ln[:3] + "-" + ln[4:] if i < len(lines) - 1 and len(ln) >= 3 else ln
            for i, ln in enumerate(lines)]


def address_of(arg):
    """The address inside <...> of a MAIL/RCPT argument, else the argument."""
    if arg and "<" in arg and ">" in arg:
        return arg[arg.index("<") + 1:arg.index(">")]
    return arg or ""


class ScriptedSMTP(SMTP):
    """aiosmtpd's SMTP with the script applied before each command."""

    connections = 0

    def __init__(self, handler, script, **kw):
        super().__init__(handler, **kw)
        self.script = script
        ScriptedSMTP.connections += 1
        self.conn = ScriptedSMTP.connections

    async def forever(self):
        """Wait until the connection is lost (which cancels the handler task)."""
        await asyncio.get_running_loop().create_future()

    def tls_object(self):
        """The ssl.SSLObject of this connection, None when it is not in TLS."""
        if self.transport is None:
            return None
        return self.transport.get_extra_info("ssl_object")

    def drop(self):
        """Close the connection at once, sending nothing more."""
        if self.transport is not None:
            self.transport.abort()

    async def act(self, rule):
        """Carry out rule; returns True when the command has been answered."""
        if rule is None:
            return False
        if rule["action"] == "reply":
            for line in reply_lines(rule["reply"]):
                await self.push(line)
            return True
        if rule["action"] == "drop":
            self.drop()
        await self.forever()
        return True

    async def _handle_client(self):
        rule = self.script.match("connect", str(self.session.peer[0]))
        if rule is not None and rule["action"] == "reply":
            for line in reply_lines(rule["reply"]):
                await self.push(line)
            self.transport.close()
            return
        if rule is not None:
            await self.act(rule)
            return
        await super()._handle_client()

    async def smtp_EHLO(self, hostname):
        if not await self.act(self.script.match("ehlo", hostname)):
            await super().smtp_EHLO(hostname)

    async def smtp_HELO(self, hostname):
        if not await self.act(self.script.match("ehlo", hostname)):
            await super().smtp_HELO(hostname)

    async def smtp_STARTTLS(self, arg):
        if not await self.act(self.script.match("starttls", arg)):
            await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg):
        if not await self.act(self.script.match("auth", arg)):
            await super().smtp_AUTH(arg)

    async def smtp_MAIL(self, arg):
        if not await self.act(self.script.match("mail", address_of(arg))):
            await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        if not await self.act(self.script.match("rcpt", address_of(arg))):
            await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg):
        who = " ".join([self.envelope.mail_from or ""] + list(self.envelope.rcpt_tos))
        if not await self.act(self.script.match("data", who)):
            await super().smtp_DATA(arg)


class Handler:
    """aiosmtpd hooks: data-end rules, and saving what is accepted."""

    def __init__(self, mbox, script):
        self.mbox = mbox
        self.script = script

    async def handle_DATA(self, server, session, envelope):
        who = " ".join([envelope.mail_from or ""] + list(envelope.rcpt_tos))
        rule = self.script.match("data-end", who)
        action = rule["action"] if rule else None
        if action is None:
            n = self.mbox.save(envelope, server)
            return f"250 2.0.0 OK queued as {n}"
        if action == "accept_then_blackhole":
            self.mbox.blackhole(envelope, server)
            return rule.get("reply", "250 2.0.0 OK")
        if action == "reply":
            if rule["reply"].startswith("2"):
                self.mbox.save(envelope, server)
            lines = reply_lines(rule["reply"])
            for line in lines[:-1]:
                await server.push(line)
            return lines[-1]
        if action == "drop":
            self.mbox.save(envelope, server, dropped=True)
            server.drop()
        else:
            self.mbox.save(envelope, server, stalled=True)
        await server.forever()
        return None


def make_authenticator(user, password):
    """An aiosmtpd authenticator accepting exactly user/password."""
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user
              and auth_data.password == password)
        return AuthResult(success=ok, handled=False)
    return authenticate


def remember_sni(sslobj, server_name, ctx):
    """Keep the SNI name the client sent on its SSLObject (for the log)."""
    sslobj.sni = server_name


def write_ready(path, port):
    """Write PORT to path atomically."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.rename(tmp, path)


async def serve(args, script):
    """Listen, announce the port, serve until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    ctx = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        ctx.sni_callback = remember_sni
    kw = {"hostname": "smtpserver.test", "timeout": 3600, "loop": loop}
    if args.starttls:
        kw.update(tls_context=ctx, require_starttls=True)
    if args.auth:
        user, _, password = args.auth.partition(":")
        kw.update(authenticator=make_authenticator(user.encode(), password.encode()),
                  auth_required=True, auth_require_tls=not args.implicit_tls,
                  auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN")
                                          if m not in args.auth_mechs.split(",")])
    handler = Handler(Mbox(args.mbox), script)
    server = await loop.create_server(
        lambda: ScriptedSMTP(handler, script, **kw), host=args.host, port=args.port,
        ssl=ctx if args.implicit_tls else None)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    write_ready(args.ready_file, server.sockets[0].getsockname()[1])
    await stop.wait()
    server.close()


def quiet_exceptions(verbose):
    """An asyncio exception handler: one line per error (TLS aborts are expected here)."""
    def handler(loop, context):
        if verbose:
            loop.default_exception_handler(context)
        else:
            exc = context.get("exception")
            print(f"smtpserver: {context.get('message')}: {exc!r}", file=sys.stderr)
    return handler


def main():
    """Parse the command line and run the server."""
    p = argparse.ArgumentParser(description="a scripted SMTP server for tests")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ready-file", required=True)
    p.add_argument("--mbox", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--starttls", action="store_true")
    mode.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth", metavar="USER:PASSWORD")
    p.add_argument("--auth-mechs", default="PLAIN,LOGIN", metavar="PLAIN,LOGIN")
    p.add_argument("--script")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if (args.starttls or args.implicit_tls) and not (args.tls_cert and args.tls_key):
        p.error("--starttls and --implicit-tls need --tls-cert and --tls-key")
    script = Script([])
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            try:
                script = Script(json.load(f))
            except ValueError as e:
                p.error(f"{args.script}: {e}")
    # --implicit-tls --auth: AUTH is inside TLS, aiosmtpd just cannot tell
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.ERROR,
                        format="smtpserver: %(name)s: %(message)s")

    async def run():
        asyncio.get_running_loop().set_exception_handler(quiet_exceptions(args.verbose))
        await serve(args, script)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
