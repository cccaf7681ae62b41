#!/usr/bin/python3
"""smtpserver.py - a scripted SMTP server for spoold's end-to-end tests.

Built on aiosmtpd (Debian 12: 1.4.3); run it with /usr/bin/python3.

    smtpserver.py --port N --ready-file F --mbox DIR
                  [--tls-cert C --tls-key K] [--starttls | --implicit-tls]
                  [--auth USER:PASSWORD [--auth-mechs PLAIN,LOGIN]]
                  [--script FILE] [--provider FILE] [--stats FILE]
                  [--dsn] [--host ADDR] [--verbose]

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
     "auth_user": "frontdesk@...", "mail_from": "...", "rcpt": ["..."],
     "message_id": "<...>", "size": 312, "time": 1764210000.123}
"conn" numbers the connection the message came on (to check reuse), "tls"
says whether it was encrypted, "sni" is the name the client sent in SNI
(null when none), "auth_user" the user name the session authenticated as
(null without AUTH), "size" the byte count, "time" seconds since the epoch
(the same instant the provider simulation counts the message at, so a test
can compute when it leaves a sliding window).

--dsn offers DSN (RFC 3461) in the EHLO reply, accepts the RET= and ENVID=
parameters of MAIL and the NOTIFY= and ORCPT= of RCPT (aiosmtpd alone
refuses any with 555), and adds them to the log line as sent (case kept,
xtext not decoded): "mail_params": {"RET": "HDRS", "ENVID": "..."} and
"rcpt_params": [{"NOTIFY": "FAILURE,DELAY"}, ...] (one object per
recipient, {} when it had none).  Without --dsn the log has neither key.

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

Provider simulation (--provider FILE)
-------------------------------------
--provider FILE (JSON, read once at start) makes the server play a mail
provider's account that throttles and suspends, with that provider's real
reply texts (from the corpus of real replies, provider-replies.tsv).  Every
member is optional; unknown members are an error (members starting with "_"
are comments):

  "profile": NAME   whose reply texts and stages to use: gmail, outlook,
                    outlook-hip, yahoo, icloud, zoho, ses, sendgrid,
                    mailgun, smtp2go, generic (the default).  See PROFILES.
  "suspend_after": N
                    accept N messages (all connections together), then
                    suspend the account: every command at the profile's
                    suspension stages gets the suspension reply (gmail: 534
                    5.7.14 "Please log in via your web browser" after the
                    AUTH credentials, and at MAIL for a session that had
                    authenticated before; outlook: 554 5.2.0 ...
                    OutboundSpamException ... Actual verdict is Suspend at
                    the end of DATA).  0: suspended from the start.
  "verified_flag": PATH
                    lifts a suspension: checked on every command; when the
                    file exists while suspended, the server removes it (a
                    person verified once; the next suspension needs a new
                    flag), accepts again and counts suspend_after anew (the
                    per_minute window is emptied too; the daily one is not).
                    Without it a suspension lasts until the server stops.
                    A relative PATH is relative to the provider file.
  "daily_quota": N, "day_seconds": S (default 86400)
                    at most N messages accepted in any sliding S-second
                    window; beyond it the daily-limit reply (gmail: 550
                    5.4.5 Daily user sending limit exceeded, at MAIL).
  "per_minute": N, "minute_seconds": S (default 60), "on_exceed": "refuse"|"suspend"
                    at most N messages accepted in any sliding S-second
                    window.  A message beyond it is a window violation
                    (counted in the stats); "refuse" (default) answers with
                    the rate reply (gmail: 421 4.7.0 Try again later, closing
                    connection; generic: 450 4.7.0 Too many messages, slow
                    down) at the profile's rate stage; "suspend" suspends the
                    account, detected at the suspension stages (not AUTH),
                    and answers with the suspension reply.
  "login_throttle": {"max": N, "window_seconds": S}
                    AUTH refused with 454 4.7.0 Too many login attempts,
                    please try again later (yahoo: 535 ... #AUTH005) when N
                    AUTH commands were let through in the last S seconds
                    (refused ones do not count towards the window).
  "random_4xx": P, "seed": X
                    each RCPT that passes every other check is refused with
                    probability P with 451 4.3.0 Temporary server error.
                    Please try again later: one random.Random(X).random()
                    draw per such RCPT, so a seed makes it reproducible.
  "bad_recipients": ["substr", ...]
                    a RCPT address containing one of them: 550 5.1.1 The
                    email account that you tried to reach does not exist...
  "accept_then_blackhole_after": N
                    the first N accepted messages are stored; every later one
                    is answered 250 and only logged to DIR/blackhole.jsonl.
  "drop_after_dot": ["substr", ...], "stall": {"stage": S, "match": M} or a list
                    shorthands for script rules, appended after the --script
                    rules: {"stage": "data-end", "match": substr, "action":
                    "drop"} and {"stage": S, "match": M, "action": "stall"}.
  "replies": {KIND: "reply"}, "stages": {KIND: STAGE or [STAGE, ...]}
                    override the profile's reply texts and where they are
                    given.  KIND: suspended, daily_quota, per_minute (stages
                    for these three: auth (suspended only), mail, rcpt, data,
                    data-end), login_throttle (AUTH), random_4xx and
                    bad_recipient (RCPT).  A reply is written like a script
                    reply; {retry_seconds} and {retry_date} (RFC 1123, UTC)
                    in it are replaced by when the window admits a message
                    again (mailgun's texts use them).

Whatever the stages, the end of DATA re-checks suspension, daily_quota and
per_minute, so that messages in flight on parallel connections cannot
exceed a limit.  Any provider reply that starts with 421 closes the
connection after it is sent, as real servers do.  What counts as accepted:
every message the server took at the end of DATA (stored, blackholed, or
saved and then dropped or stalled by a script rule).

Combining --script and --provider: both may be given.  At each command the
script is tried first; a rule that applies decides that command alone (its
reply, drop or stall), and the provider is not consulted for it.  Otherwise
the provider checks the command, and if it has nothing to say the command
proceeds normally.  So a script can add what the provider does not model
(a drop after the final dot for one patient, a stall at RCPT, a 552 at
data-end) on top of an account that throttles.

Mailboxes: what the provider does with what it accepted
--------------------------------------------------------
With "mailboxes" the provider files and delivers the messages it accepts
into the Maildirs of a private Dovecot (tests/imapserver.py, written with
its deliver(), so ownership is right when running as root), as a real
provider would: a copy in the account's Sent folder, the message in the
recipients' INBOXes, bounces and notices in the account's INBOX.  Every
delivery for a message is made when it is accepted, before the reply to
the final dot is sent (and the stats file rewritten after them), so once a
client has its 250 the files are in place; Dovecot sees them at the next
SELECT or NOOP.  Members (all need "mailboxes"):

  "mailboxes": {
     "imap_dir": PATH,   tests/imapserver.py's --dir (harness_imap's
                         ImapServer.data); must exist.  A relative PATH is
                         relative to the provider file.
     "account": USER,    the sending account's Dovecot user, whose INBOX
                         receives bounces and notices (default: sent.user)
     "sent": {"user": USER, "folder": "Sent"},
                         file a copy of every accepted message (the bytes
                         as received, flag \\Seen) in USER's FOLDER, as Gmail
                         and Outlook do with SMTP submissions; user defaults
                         to account, folder to "Sent".  Omitted: the provider
                         does not file sent mail.
     "deliver": {ADDRESS: USER or {"user": USER, "imap_dir": PATH}, ...}
                         a recipient ADDRESS (compared case-insensitively)
                         whose mail goes to USER's INBOX (in imap_dir, or
                         another Dovecot's PATH: a mailbox on another
                         provider, e.g. a canary), with Return-Path,
                         Delivered-To and Received prepended; one copy per
                         USER however many of its addresses a message names.
                         Recipients not listed are not delivered anywhere.
  }
  "silent_drop_after": N
                    the first N accepted messages are delivered as above;
                    every later one is answered 250 and stored in the mbox
                    and log.jsonl as usual (its log line has
                    "silently_dropped": true: the provider did accept it),
                    but delivered into no recipient mailbox and bounced to
                    no one.  (accept_then_blackhole_after is the other kind
                    of loss: the message is also kept out of the mbox; a
                    blackholed message, by it or by a script rule, is not
                    delivered either.)  Counted over all accepted messages,
                    like accept_then_blackhole_after.
  "silent_drop_files_sent": true|false
                    whether a silently dropped (or blackholed) message is
                    still filed in Sent (default true: Gmail's Sent shows
                    it).
  "bounce": ["substr", ...]
                    a RCPT address containing one of them is accepted (250
                    at RCPT and at the end of DATA; bad_recipients is checked
                    first), and then, like Gmail for an unknown remote
                    recipient, an RFC 3464 report is delivered into the
                    account's INBOX: one per bounced recipient, From: Mail
                    Delivery Subsystem <mailer-daemon@googlemail.com>, To:
                    the envelope sender, Subject: Delivery Status
                    Notification (Failure), a fresh Message-ID and Date,
                    In-Reply-To/References and X-Failed-Recipients;
                    multipart/report; report-type=delivery-status with a
                    text/plain part (Gmail's "Address not found" text), a
                    message/delivery-status part (Reporting-MTA: dns;
                    googlemail.com, Original-Envelope-Id: the ENVID of MAIL
                    as received (xtext not decoded; needs --dsn), X-Original-
                    Message-ID, Original-Recipient: the ORCPT of RCPT (xtext
                    decoded) when given, Final-Recipient: rfc822; ADDRESS,
                    Action: failed, Status: 5.1.1, Diagnostic-Code: smtp;
                    Gmail's 550-5.1.1 "The email account that you tried to
                    reach does not exist..." in 4 folded lines), and the
                    original's header block as text/rfc822-headers (the
                    whole message as message/rfc822 when MAIL said
                    RET=FULL).  Gmail's wording whatever the profile.  With
                    --dsn, a recipient whose NOTIFY= does not include
                    FAILURE gets no report (counted in bounces_suppressed).
                    A bounced address is never delivered (even if listed in
                    mailboxes.deliver); a silently dropped message bounces
                    nothing.
  "notice": {"after": N, "kind": KIND, "user": USER} or a list of them
                    when the Nth message is accepted (counted over all
                    accepted; 0: at start-up, before the ready file), a
                    provider notice is delivered, once, into USER's INBOX
                    (default: the account), with that provider's sender,
                    subject and text.  It only informs: combine it with
                    suspend_after to block the account too.  KIND, and the
                    notice spoold's dsn_parse (lib/dsn_notice.c) makes of it:
                      zoho            "Email Outgoing Blocked - ACCOUNT" from
                                      noreply@zohomail.com; zoho-outgoing-blocked
                      outlook         "We've temporarily blocked your account"
                                      (we detected unusual activity; blocked
                                      from sending) from no-reply@microsoft.com;
                                      microsoft-account-blocked
                      outlook-verify  "Verify your account" (unusual
                                      activity) from account-security-noreply@
                                      accountprotection.microsoft.com;
                                      microsoft-verify-account
                      google          "Sign-in attempt was blocked" from
                                      no-reply@accounts.google.com;
                                      google-signin-blocked
                      google-critical "Critical security alert";
                                      google-critical-security-alert
                      ses             "Sending paused for your Amazon SES
                                      account in the US East (N. Virginia)
                                      region" from no-reply-aws@amazon.com;
                                      ses-sending-paused
                    (NOTICES in this file; ACCOUNT is the account's user.)

A delivery that fails (an unwritable directory, say) is written to
standard error and counted in mailbox_errors; the reply is still 250.

Examples:
    {"profile": "gmail", "per_minute": 10, "on_exceed": "suspend",
     "verified_flag": "verified"}                  the pacing bench's provider
    {"profile": "outlook", "suspend_after": 20, "verified_flag": "/tmp/t/ok"}
    {"profile": "gmail", "daily_quota": 500, "day_seconds": 86400,
     "login_throttle": {"max": 3, "window_seconds": 60}}
    {"profile": "mailgun", "daily_quota": 5, "day_seconds": 30}
                                   421 ... try again after <date> at RCPT
    {"random_4xx": 0.1, "seed": 1, "bad_recipients": ["nobody@"]}
    {"profile": "gmail", "mailboxes": {"imap_dir": "/tmp/t/imap-1/server",
       "sent": {"user": "office@example.com"},
       "deliver": {"canary@other.example": "canary@other.example"}},
     "silent_drop_after": 3, "bounce": ["nobody@"],
     "notice": {"after": 5, "kind": "google"}}
                          Sent copies, canary deliveries, 250-then-lost from
                          the 4th on, Gmail bounces, a blocked-sign-in alert
tests/e2e/harness.py: SmtpServer(..., provider={...} or PATH, stats=True)
writes DIR/provider.json and keeps DIR/stats.json (attributes provider_file,
stats_file); tests/e2e/harness_imap.py: ImapServer.mailboxes(...) builds the
"mailboxes" member for that server.

Stats (--stats FILE, JSON; with or without --provider) are rewritten
atomically (temporary file, rename) after every change, and once before the
ready file is written.  The state changes before the reply that shows it is
sent, so after any reply the file is current; connection counts change when
the server notices a connection, so wait for them on the file itself:
    {"seq": 12, "time": ..., "profile": "gmail",
     "accepted": 3, "stored": 3, "blackholed": 0, "accepted_since_resume": 1,
     "refused_total": 2, "refused": {"<reply text>": 2, ...},
     "refused_by_kind": {"suspended": 2, ...},     (kinds above, and "script")
     "suspended": false, "suspensions": 1, "resumptions": 1,
     "window_violations": 1,                       (per_minute + daily_quota)
     "window_violations_by_limit": {"per_minute": 1, "daily_quota": 0},
     "violation_log": [{"time": ..., "limit": "per_minute", "in_window": 10,
                        "stage": "mail", "conn": 4}, ...],   (last 1000)
     "auth_attempts": 5, "auth_failures": 0,       (AUTH commands; bad passwords)
     "connections": 4, "concurrent_connections": 0, "max_concurrent_connections": 2,
     "filed_sent": 3, "delivered_mailboxes": 2,    (Sent copies; recipient INBOX copies)
     "silently_dropped": 1,                        (past silent_drop_after)
     "bounces_sent": 1, "bounces_suppressed": 0,   (reports delivered; NOTIFY without FAILURE)
     "notices_sent": 1, "notices": ["google"],     (the kinds, in order)
     "mailbox_errors": 0}                          (the mailbox counts: 0 without "mailboxes")
"refused" counts the provider's and the script's 4xx/5xx replies by their
text (lines joined by "\\n", placeholders filled in); aiosmtpd's own
replies (530, 535, syntax errors) are not counted there.
"""

import argparse
import asyncio
import collections
import email.parser
import email.policy
import email.utils
import importlib.util
import json
import logging
import math
import os
import random
import re
import signal
import ssl
import sys
import time
import uuid
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, syntax

STAGES = ("connect", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "data-end")
ACTIONS = ("reply", "drop", "stall", "accept_then_blackhole")
DSN_MAIL_PARAMS = ("RET", "ENVID")
DSN_RCPT_PARAMS = ("NOTIFY", "ORCPT")


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


# ---------------------------------------------------------------- provider profiles

def _reply(code, text):
    """A reply with one code: every line of text (split at "\\n") prefixed by it,
    as provider-replies.tsv writes them (code column, text with \\n breaks)."""
    return "\n".join(f"{code} {ln}" for ln in text.split("\n"))


GMAIL_WEB_LOGIN = _reply(534, (
    "5.7.14 <https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbsX>"
    " Please log in via\n"
    "5.7.14 your web browser and then try again.\n"
    "5.7.14  Learn more at\n"
    "5.7.14  https://support.google.com/mail/answer/78754 a1sm2 - gsmtp"))
GMAIL_DAILY = _reply(550, (
    "5.4.5 Daily user sending limit exceeded. For more information on Gmail\n"
    "5.4.5 sending limits go to\n"
    "5.4.5  https://support.google.com/a/answer/166852"))
GMAIL_NO_SUCH_USER = _reply(550, (
    "5.1.1 The email account that you tried to reach does not exist. Please try\n"
    "5.1.1 double-checking the recipient's email address for typos or\n"
    "5.1.1 unnecessary spaces. Learn more at\n"
    "5.1.1  https://support.google.com/mail/?p=NoSuchUser"))
OUTLOOK_SPAM = ("554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to "
                "process message due to a permanent exception with message "
                "[BeginDiagnosticData]WASCL UserAction verdict is not None. Actual verdict "
                "is {verdict}, ShowTierUpgrade.{again}[EndDiagnosticData]")
YAHOO_UNAVAILABLE = "550 Request failed; Mailbox unavailable"

# Each profile: replies by kind and the stages they are given at.  Missing
# entries come from "generic".  Texts are verbatim from provider-replies.tsv,
# except the generic rate reply (no provider in the corpus says it).
PROFILES = {
    "generic": {
        "replies": {
            "suspended": "552 Your account has been suspended. Please contact us to reactivate",
            "daily_quota": "550 5.4.5 Daily user sending quota exceeded.",
            "per_minute": "450 4.7.0 Too many messages, slow down",
            "login_throttle": "454 4.7.0 Too many login attempts, please try again later.",
            "random_4xx": "451 4.3.0 Temporary server error. Please try again later",
            "bad_recipient": GMAIL_NO_SUCH_USER,
        },
        "stages": {"suspended": ["data-end"], "daily_quota": ["mail"], "per_minute": ["mail"]},
    },
    "gmail": {
        "replies": {
            "suspended": GMAIL_WEB_LOGIN,
            "daily_quota": GMAIL_DAILY,
            "per_minute": "421 4.7.0 Try again later, closing connection.",
        },
        "stages": {"suspended": ["auth", "mail"], "daily_quota": ["mail"],
                   "per_minute": ["mail"]},
    },
    "outlook": {
        "replies": {
            "suspended": OUTLOOK_SPAM.format(
                verdict="Suspend", again=" OutboundSpamException: WASCL UserAction verdict "
                "is not None. Actual verdict is Suspend, ShowTierUpgrade."),
            "daily_quota": "554 5.2.0 STOREDRV.Submission.Exception:"
                           "SubmissionQuotaExceededException; Failed to process message due "
                           "to a permanent exception with message [BeginDiagnosticData]"
                           "Message submission quota exceeded.[EndDiagnosticData]",
            "bad_recipient": "550 5.5.0 Requested action not taken: mailbox unavailable",
        },
        "stages": {"suspended": ["data-end"], "daily_quota": ["data-end"]},
    },
    "outlook-hip": {  # Outlook.com asking a person to verify (HipNotify)
        "base": "outlook",
        "replies": {"suspended": OUTLOOK_SPAM.format(verdict="HipNotify", again="")},
    },
    "yahoo": {  # Yahoo/AT&T say the same ambiguous thing for most refusals
        "replies": {
            "suspended": YAHOO_UNAVAILABLE,
            "daily_quota": YAHOO_UNAVAILABLE,
            "login_throttle": "535 5.7.0 (#AUTH005) Too many bad auth attempts.",
        },
        "stages": {"suspended": ["data-end"], "daily_quota": ["data-end"]},
    },
    "icloud": {
        "replies": {"daily_quota": "550 5.7.1 jane@icloud.com: You have exceeded your daily "
                                   "sending limit. Please try again later."},
        "stages": {"daily_quota": ["data-end"]},
    },
    "zoho": {
        "replies": {
            "suspended": "554 5.1.8 Email Outgoing Blocked.",
            "daily_quota": "550 5.4.6 Unusual sending activity detected. "
                           "Please try after sometime.",
            "per_minute": "550 5.4.6 Unusual sending activity detected. "
                          "Please try after sometime.",
        },
        "stages": {"suspended": ["data-end"], "daily_quota": ["data-end"],
                   "per_minute": ["data-end"]},
    },
    "ses": {
        "replies": {
            "suspended": "554 Message rejected: Sending paused for this account. For more "
                         "information, please check the inbox of the email address "
                         "associated with your AWS account.",
            "daily_quota": "454 Throttling failure: Daily message quota exceeded.",
            "per_minute": "454 Throttling failure: Maximum sending rate exceeded.",
        },
        "stages": {"suspended": ["data-end"], "daily_quota": ["data-end"],
                   "per_minute": ["data-end"]},
    },
    "sendgrid": {
        "replies": {"suspended": "451 Authentication failed: Maximum credits exceeded"},
        "stages": {"suspended": ["auth", "mail"]},
    },
    "mailgun": {
        "replies": {
            "suspended": "421 Domain mg.example.com is not allowed to send: Please activate "
                         "your Mailgun account. Check your inbox or log in to your control "
                         "panel to complete account activation.",
            "daily_quota": "421 Domain mg.example.com is not allowed to send: recipient "
                           "limit exceeded, try again after {retry_date}",
            "per_minute": "554 Your account is on probation and domains are limited to 100 "
                          "messages / hour. Account will be enabled in {retry_seconds} seconds",
        },
        "stages": {"suspended": ["mail"], "daily_quota": ["rcpt"], "per_minute": ["data-end"]},
    },
    "smtp2go": {
        "replies": {"suspended": "552 Your account has been suspended. "
                                 "Please contact us to reactivate"},
        "stages": {"suspended": ["data-end"]},
    },
}
KINDS = ("suspended", "daily_quota", "per_minute", "login_throttle", "random_4xx",
         "bad_recipient")
KIND_STAGES = {"suspended": ("auth", "mail", "rcpt", "data", "data-end"),
               "daily_quota": ("mail", "rcpt", "data", "data-end"),
               "per_minute": ("mail", "rcpt", "data", "data-end")}
PROVIDER_KEYS = ("profile", "suspend_after", "verified_flag", "daily_quota", "day_seconds",
                 "per_minute", "minute_seconds", "on_exceed", "login_throttle", "random_4xx",
                 "seed", "bad_recipients", "accept_then_blackhole_after", "drop_after_dot",
                 "stall", "replies", "stages", "mailboxes", "silent_drop_after",
                 "silent_drop_files_sent", "bounce", "notice")
VIOLATION_LOG_MAX = 1000


def profile_table(name):
    """The replies and stages of profile name, completed from its base and generic."""
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(sorted(PROFILES))}")
    chain = []
    while name is not None:
        chain.append(PROFILES[name])
        name = PROFILES[name].get("base", "generic" if name != "generic" else None)
    replies, stages = {}, {}
    for p in reversed(chain):
        replies.update(p.get("replies", {}))
        stages.update(p.get("stages", {}))
    return replies, stages


def _count(conf, key, default=None):
    """conf[key] as a count (an int >= 0), or default when absent."""
    v = conf.get(key, default)
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
        raise ValueError(f"{key} must be a whole number >= 0")
    return v


def _seconds(conf, key, default):
    """conf[key] as a positive number of seconds."""
    v = conf.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise ValueError(f"{key} must be a number of seconds > 0")
    return float(v)


def _check_reply(where, text):
    if not isinstance(text, str) or not text:
        raise ValueError(f"{where}: a reply must be a non-empty string")
    for ln in text.split("\n"):
        if len(ln) < 3 or not ln[:3].isdigit() or ln[0] not in "2345":
            raise ValueError(f"{where}: every reply line must start with a reply code")


def _strings(key, v):
    if not isinstance(v, list) or not all(isinstance(s, str) and s for s in v):
        raise ValueError(f"{key} must be a list of non-empty strings")
    return list(v)


# ---------------------------------------------------------------- mailboxes

HERE = os.path.dirname(os.path.abspath(__file__))
_imapserver = None


def imapserver():
    """tests/imapserver.py, imported by path (its deliver() writes Maildirs)."""
    global _imapserver
    if _imapserver is None:
        spec = importlib.util.spec_from_file_location("imapserver",
                                                      os.path.join(HERE, "imapserver.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _imapserver = mod
    return _imapserver


def xtext_decode(s):
    """RFC 3461 xtext ("+2B" is "+") decoded; a malformed "+" is kept."""
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), s)


def rfc5322_date(t):
    """t (epoch seconds) as an RFC 5322 date, UTC ("+0000")."""
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))


def crlf(text):
    """text (with \n line ends) as CRLF bytes."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def header_block(content):
    """The header block of a message's bytes (without the blank line), CRLF."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = content.find(sep)
        if i >= 0:
            return content[:i].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return content.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# Gmail's report for an unknown remote recipient (tests/data/bounces/gmail-bounce.eml).
GMAIL_DSN_DIAGNOSTIC = (
    "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
    " 550-5.1.1 double-checking the recipient's email address for typos or\n"
    " 550-5.1.1 unnecessary spaces. For more information, go to\n"
    " 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser {id} - gsmtp")
GMAIL_DSN_TEXT = (  # Gmail's lines, as long as Gmail writes them
    "\n** Address not found **\n\n"
    "Your message wasn't delivered to {rcpt} because the address couldn't be found, "
    "or is unable to receive mail.\n\n"
    "Learn more here: https://support.google.com/mail/?p=NoSuchUser\n\n"
    "The response was:\n\n"
    "The email account that you tried to reach does not exist. Please try "
    "double-checking the recipient's email address for typos or unnecessary spaces. "
    "For more information, go to https://support.google.com/mail/?p=NoSuchUser\n")

# Provider notices: sender, subject (RFC 2047 as the provider sends it),
# content type and text; {account} is filled in.  "notice" is
# what spoold's dsn_parse calls it (lib/dsn_notice.c), checked by the tests.
NOTICES = {
    "zoho": {
        "notice": "zoho-outgoing-blocked",
        "from": "Zoho Mail <noreply@zohomail.com>",
        "domain": "zohomail.com",
        "subject": "Email Outgoing Blocked - {account}",
        "type": "text/html; charset=UTF-8",
        "body": """<html><body>
<p>Dear User,</p>
<p>We have detected unusual outgoing activity from your account
<b>{account}</b>. To protect your account and our servers, outgoing email
from your account has been blocked temporarily.</p>
<p>If the emails were sent by you, you can unblock your account by clicking
the link below and completing the verification.</p>
<p><a href="https://mail.zoho.com/UnblockMe">Unblock Email Sending</a></p>
<p>Regards,<br>Zoho Mail Team</p>
</body></html>
"""},
    "outlook": {
        "notice": "microsoft-account-blocked",
        "from": "Outlook.com <no-reply@microsoft.com>",
        "domain": "microsoft.com",
        "subject": "=?utf-8?Q?We=E2=80=99ve_temporarily_blocked_your_account?=",
        "type": "text/plain; charset=utf-8",
        "body": """We've temporarily blocked your account

We've detected unusual activity in your Outlook.com account {account}.
To help keep you safe, your account has been blocked from sending email.

To unblock your account, sign in and we'll send a security code to a phone
number or email address you choose.

Unblock account: https://account.live.com/Abuse

Thanks,
The Outlook.com team
"""},
    "outlook-verify": {
        "notice": "microsoft-verify-account",
        "from": "Microsoft account team "
                "<account-security-noreply@accountprotection.microsoft.com>",
        "domain": "accountprotection.microsoft.com",
        "subject": "Verify your account",
        "type": "text/plain; charset=utf-8",
        "body": """Microsoft account

Verify your account

We've detected unusual activity on the Microsoft account {account}.
Until you verify your account, you won't be able to send email from it.

To verify your account, sign in and we'll send a security code to a phone
number or email address you choose.

Verify: https://account.live.com/proofs/Verify

Thanks,
The Microsoft account team
"""},
    "google": {
        "notice": "google-signin-blocked",
        "from": "Google <no-reply@accounts.google.com>",
        "domain": "accounts.google.com",
        "subject": "Sign-in attempt was blocked",
        "type": "text/plain; charset=UTF-8; format=flowed; delsp=yes",
        "body": """[image: Google]
Sign-in attempt was blocked


{account}
Someone just used your password to try to sign in to your account from a
non-Google app. Google blocked them, but you should check what happened.
Review your account activity to make sure no one else has access.

Check activity
<https://myaccount.google.com/notifications>

You received this email to let you know about important changes to your
Google Account and services.
(c) 2025 Google LLC, 1600 Amphitheatre Parkway, Mountain View, CA 94043, USA
"""},
    "google-critical": {
        "notice": "google-critical-security-alert",
        "from": "Google <no-reply@accounts.google.com>",
        "domain": "accounts.google.com",
        "subject": "Critical security alert",
        "type": "text/plain; charset=UTF-8",
        "body": """Critical security alert

Suspicious activity detected on {account}.
Someone might be trying to access your Google Account. To protect your
account, Google has taken some actions. Check the activity now.

Check activity: https://myaccount.google.com/notifications
"""},
    "ses": {
        "notice": "ses-sending-paused",
        "from": "Amazon Web Services <no-reply-aws@amazon.com>",
        "domain": "us-east-1.amazonses.com",
        "subject": "Sending paused for your Amazon SES account in the US East "
                   "(N. Virginia) region",
        "type": "text/plain; charset=UTF-8",
        "body": """Hello,

We have paused the ability of your Amazon SES account ({account}) to send
email in the US East (N. Virginia) region because the bounce rate of your
account exceeds the maximum we allow.

To request that we review this decision, open the Amazon SES account
dashboard in the AWS console and respond to this case.

Sincerely,
Amazon Web Services
"""},
}


def notice_message(kind, account, to, now):
    """The bytes of provider notice kind for account (a Dovecot user), To: to."""
    n = NOTICES[kind]
    text = f"""Return-Path: <{email.utils.parseaddr(n["from"])[1]}>
Delivered-To: {account}
Date: {rfc5322_date(now)}
From: {n["from"]}
To: {to}
Message-ID: {email.utils.make_msgid(uuid.uuid4().hex[:16], domain=n["domain"])}
Subject: {n["subject"].format(account=account)}
MIME-Version: 1.0
Content-Type: {n["type"]}
Content-Transfer-Encoding: 8bit

{n["body"].format(account=account)}"""
    return crlf(text)


class Mailboxes:
    """The "mailboxes" member: where accepted messages, bounces and notices go."""

    KEYS = ("imap_dir", "account", "sent", "deliver")

    def __init__(self, conf, base_dir):
        if not isinstance(conf, dict):
            raise ValueError("mailboxes must be an object")
        unknown = [k for k in conf if k not in self.KEYS and not k.startswith("_")]
        if unknown:
            raise ValueError(f"mailboxes: unknown member(s) {', '.join(unknown)}; known: "
                             f"{', '.join(self.KEYS)}")
        self.imap_dir = self._dir(conf.get("imap_dir"), base_dir, "mailboxes.imap_dir")
        account = conf.get("account")
        if account is not None and (not isinstance(account, str) or not account):
            raise ValueError("mailboxes.account must be a user name")
        sent = conf.get("sent")
        self.sent = None
        if sent is not None:
            if not isinstance(sent, dict) or set(sent) - {"user", "folder"}:
                raise ValueError("mailboxes.sent must be {\"user\": U, \"folder\": F}")
            user, folder = sent.get("user", account), sent.get("folder", "Sent")
            if not isinstance(user, str) or not user:
                raise ValueError("mailboxes.sent.user (or mailboxes.account) must be a user")
            if not isinstance(folder, str) or not folder:
                raise ValueError("mailboxes.sent.folder must be a folder name")
            self.sent = (user, folder)
        self.account = account or (self.sent[0] if self.sent else None)
        deliver = conf.get("deliver", {})
        if not isinstance(deliver, dict):
            raise ValueError("mailboxes.deliver must be {address: user, ...}")
        self.deliver = {}
        for addr, to in deliver.items():
            where = f"mailboxes.deliver.{addr}"
            if isinstance(to, dict):
                if set(to) - {"user", "imap_dir"} or not isinstance(to.get("user"), str):
                    raise ValueError(f"{where} must be a user or {{\"user\": U, \"imap_dir\": P}}")
                root = (self._dir(to["imap_dir"], base_dir, f"{where}.imap_dir")
                        if "imap_dir" in to else self.imap_dir)
                to = (root, to["user"])
            elif isinstance(to, str) and to:
                to = (self.imap_dir, to)
            else:
                raise ValueError(f"{where} must be a user or {{\"user\": U, \"imap_dir\": P}}")
            self.deliver[addr.lower()] = to

    @staticmethod
    def _dir(path, base_dir, where):
        if not isinstance(path, str) or not path:
            raise ValueError(f"{where} must be a path (tests/imapserver.py's --dir)")
        path = os.path.join(base_dir, path)
        if not os.path.isdir(path):
            raise ValueError(f"{where}: {path} is not a directory")
        return path


def rfc1123(t):
    """t (epoch seconds) as an RFC 1123 date in UTC, as Mailgun writes it."""
    return time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime(t))


class Provider:
    """The simulated provider account, shared by all connections, and the
    statistics written to --stats.  Everything runs on the event loop's thread,
    so no locking is needed.  Each check*/auth_* method returns the reply to
    send instead of the normal one, or None."""

    def __init__(self, conf, base_dir=".", stats_path=None, clock=time.time):
        if not isinstance(conf, dict):
            raise ValueError("the provider file must be a JSON object")
        unknown = [k for k in conf if k not in PROVIDER_KEYS and not k.startswith("_")]
        if unknown:
            raise ValueError(f"unknown member(s) {', '.join(unknown)}; known: "
                             f"{', '.join(PROVIDER_KEYS)}")
        self.clock = clock
        self.stats_path = stats_path
        self.profile = conf.get("profile", "generic")
        if not isinstance(self.profile, str):
            raise ValueError("profile must be a string")
        self.replies, stages = profile_table(self.profile)
        for kind, text in (conf.get("replies") or {}).items():
            if kind not in KINDS:
                raise ValueError(f"replies: unknown kind {kind!r}; known: {', '.join(KINDS)}")
            _check_reply(f"replies.{kind}", text)
            self.replies[kind] = text
        for kind, st in (conf.get("stages") or {}).items():
            if kind not in KIND_STAGES:
                raise ValueError(f"stages: kind must be one of {', '.join(KIND_STAGES)}")
            st = [st] if isinstance(st, str) else st
            if not isinstance(st, list) or not st or any(s not in KIND_STAGES[kind] for s in st):
                raise ValueError(f"stages.{kind}: one or more of "
                                 f"{', '.join(KIND_STAGES[kind])}")
            stages[kind] = list(st)
        self.stages = stages

        self.suspend_after = _count(conf, "suspend_after")
        flag = conf.get("verified_flag")
        if flag is not None and (not isinstance(flag, str) or not flag):
            raise ValueError("verified_flag must be a path")
        self.verified_flag = os.path.join(base_dir, flag) if flag else None
        self.daily_quota = _count(conf, "daily_quota")
        self.day_seconds = _seconds(conf, "day_seconds", 86400)
        self.per_minute = _count(conf, "per_minute")
        self.minute_seconds = _seconds(conf, "minute_seconds", 60)
        self.on_exceed = conf.get("on_exceed", "refuse")
        if self.on_exceed not in ("refuse", "suspend"):
            raise ValueError("on_exceed must be \"refuse\" or \"suspend\"")
        lt = conf.get("login_throttle")
        self.login_max = self.login_window = None
        if lt is not None:
            if not isinstance(lt, dict) or set(lt) != {"max", "window_seconds"}:
                raise ValueError("login_throttle must be {\"max\": N, \"window_seconds\": S}")
            self.login_max = _count(lt, "max")
            self.login_window = _seconds(lt, "window_seconds", 60)
        p = conf.get("random_4xx", 0)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError("random_4xx must be a probability from 0 to 1")
        self.random_p = float(p)
        seed = conf.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str))):
            raise ValueError("seed must be a number or a string")
        self.rng = random.Random(seed)
        self.bad_recipients = _strings("bad_recipients", conf.get("bad_recipients", []))
        self.blackhole_after = _count(conf, "accept_then_blackhole_after")

        self.extra_rules = [{"stage": "data-end", "match": s, "action": "drop"}
                            for s in _strings("drop_after_dot", conf.get("drop_after_dot", []))]
        stalls = conf.get("stall", [])
        for s in stalls if isinstance(stalls, list) else [stalls]:
            if not isinstance(s, dict) or set(s) - {"stage", "match", "times"}:
                raise ValueError("stall must be {\"stage\": S, \"match\": M} or a list of them")
            self.extra_rules.append(dict(s, action="stall"))

        mb = conf.get("mailboxes")
        self.mailboxes = Mailboxes(mb, base_dir) if mb is not None else None
        self.silent_drop_after = _count(conf, "silent_drop_after")
        self.silent_drop_files_sent = conf.get("silent_drop_files_sent", True)
        if not isinstance(self.silent_drop_files_sent, bool):
            raise ValueError("silent_drop_files_sent must be true or false")
        self.bounce = _strings("bounce", conf.get("bounce", []))
        notices = conf.get("notice", [])
        self.notices = []
        for n in notices if isinstance(notices, list) else [notices]:
            if (not isinstance(n, dict) or set(n) - {"after", "kind", "user"}
                    or "after" not in n or "kind" not in n):
                raise ValueError("notice must be {\"after\": N, \"kind\": K, \"user\": U} "
                                 "or a list of them")
            if n["kind"] not in NOTICES:
                raise ValueError(f"notice.kind must be one of {', '.join(NOTICES)}")
            user = n.get("user")
            if user is not None and (not isinstance(user, str) or not user):
                raise ValueError("notice.user must be a user name")
            self.notices.append({"after": _count(n, "after"), "kind": n["kind"],
                                 "user": user, "sent": False})
        needs = [k for k in ("silent_drop_after", "silent_drop_files_sent", "bounce", "notice")
                 if k in conf]
        if needs and self.mailboxes is None:
            raise ValueError(f"{', '.join(needs)} need(s) \"mailboxes\"")
        if self.mailboxes is not None and self.mailboxes.account is None and (
                self.bounce or any(n["user"] is None for n in self.notices)):
            raise ValueError("bounce and notice need mailboxes.account or mailboxes.sent.user "
                             "(or notice.user)")

        # Where a per_minute violation is detected (the end of DATA always).
        if self.on_exceed == "suspend":
            self.rate_stages = [s for s in self.stages["suspended"] if s != "auth"]
        else:
            self.rate_stages = self.stages["per_minute"]

        # State.
        self.daily_times = collections.deque()
        self.minute_times = collections.deque()
        self.auth_times = collections.deque()
        self.seq = 0
        self.stats = {
            "profile": self.profile,
            "accepted": 0, "stored": 0, "blackholed": 0, "accepted_since_resume": 0,
            "refused_total": 0, "refused": {}, "refused_by_kind": {},
            "suspended": False, "suspensions": 0, "resumptions": 0,
            "window_violations": 0,
            "window_violations_by_limit": {"per_minute": 0, "daily_quota": 0},
            "violation_log": [],
            "auth_attempts": 0, "auth_failures": 0,
            "connections": 0, "concurrent_connections": 0, "max_concurrent_connections": 0,
            "filed_sent": 0, "delivered_mailboxes": 0, "silently_dropped": 0,
            "bounces_sent": 0, "bounces_suppressed": 0, "notices_sent": 0, "notices": [],
            "mailbox_errors": 0,
        }
        if self.suspend_after == 0:
            self._suspend()
        self._send_notices(self.clock())

    # -- statistics

    def write(self):
        """Rewrite the stats file atomically (when there is one)."""
        self.seq += 1
        if not self.stats_path:
            return
        data = dict(self.stats, seq=self.seq, time=self.clock())
        tmp = f"{self.stats_path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, self.stats_path)

    def connection_opened(self):
        s = self.stats
        s["connections"] += 1
        s["concurrent_connections"] += 1
        s["max_concurrent_connections"] = max(s["max_concurrent_connections"],
                                              s["concurrent_connections"])
        self.write()

    def connection_closed(self):
        self.stats["concurrent_connections"] -= 1
        self.write()

    def refused(self, kind, reply):
        """Count a refusal; returns reply."""
        s = self.stats
        s["refused_total"] += 1
        s["refused"][reply] = s["refused"].get(reply, 0) + 1
        s["refused_by_kind"][kind] = s["refused_by_kind"].get(kind, 0) + 1
        self.write()
        return reply

    def script_replied(self, reply):
        """Count a script rule's reply when it refuses (4xx/5xx)."""
        if reply[:1] in ("4", "5"):
            self.refused("script", reply)

    def _refuse(self, kind, retry_at=None):
        """The reply of kind (placeholders filled in), counted."""
        text = self.replies[kind]
        if retry_at is not None:
            wait = max(0, math.ceil(retry_at - self.clock()))
            text = (text.replace("{retry_seconds}", str(wait))
                    .replace("{retry_date}", rfc1123(retry_at)))
        return self.refused(kind, text)

    # -- state

    def _suspend(self):
        self.stats["suspended"] = True
        self.stats["suspensions"] += 1

    def refresh(self):
        """Called on every command: a suspension ends when the verified flag exists."""
        if not (self.stats["suspended"] and self.verified_flag
                and os.path.exists(self.verified_flag)):
            return
        try:
            os.remove(self.verified_flag)
        except FileNotFoundError:
            pass
        s = self.stats
        s["suspended"] = False
        s["resumptions"] += 1
        s["accepted_since_resume"] = 0
        self.minute_times.clear()
        self.write()

    @staticmethod
    def _in_window(times, seconds, now):
        """Drop the times that left the sliding window; the count still in it."""
        while times and now - times[0] >= seconds:
            times.popleft()
        return len(times)

    def _violation(self, limit, stage, conn, in_window, now):
        s = self.stats
        s["window_violations"] += 1
        s["window_violations_by_limit"][limit] += 1
        s["violation_log"].append({"time": now, "limit": limit, "in_window": in_window,
                                   "stage": stage, "conn": conn})
        del s["violation_log"][:-VIOLATION_LOG_MAX]

    def check(self, stage, subject="", conn=None):
        """The provider's reply at stage (mail, rcpt, data, data-end) or None.
        subject: the address at mail/rcpt, sender and recipients at data-end."""
        self.refresh()
        now = self.clock()
        end = stage == "data-end"
        if self.stats["suspended"] and (stage in self.stages["suspended"] or end):
            return self._refuse("suspended")
        if self.daily_quota is not None and (stage in self.stages["daily_quota"] or end):
            n = self._in_window(self.daily_times, self.day_seconds, now)
            if n >= self.daily_quota:
                self._violation("daily_quota", stage, conn, n, now)
                return self._refuse("daily_quota", (self.daily_times[0] if n else now)
                                    + self.day_seconds)
        if self.per_minute is not None and (stage in self.rate_stages or end):
            n = self._in_window(self.minute_times, self.minute_seconds, now)
            if n >= self.per_minute:
                self._violation("per_minute", stage, conn, n, now)
                if self.on_exceed == "suspend":
                    self._suspend()
                    return self._refuse("suspended")
                return self._refuse("per_minute", (self.minute_times[0] if n else now)
                                    + self.minute_seconds)
        if stage == "rcpt":
            if any(s in subject for s in self.bad_recipients):
                return self._refuse("bad_recipient")
            if self.random_p and self.rng.random() < self.random_p:
                return self._refuse("random_4xx")
        return None

    def auth_command(self):
        """An AUTH command arrived: count it; the login-throttle reply or None."""
        self.refresh()
        now = self.clock()
        self.stats["auth_attempts"] += 1
        if self.login_max is not None:
            if self._in_window(self.auth_times, self.login_window, now) >= self.login_max:
                return self._refuse("login_throttle",
                                    (self.auth_times[0] if self.auth_times else now)
                                    + self.login_window)
            self.auth_times.append(now)
        self.write()
        return None

    def auth_result(self, ok):
        """The credentials were checked (ok: right); the suspension reply or None."""
        if not ok:
            self.stats["auth_failures"] += 1
            self.write()
            return None
        if self.stats["suspended"] and "auth" in self.stages["suspended"]:
            return self._refuse("suspended")
        return None

    def accepted(self, now, blackhole=None):
        """A message was taken at the end of DATA at time now.  blackhole: whether
        it was kept out of the mbox; None: decide by accept_then_blackhole_after.
        Returns whether to blackhole it."""
        s = self.stats
        if blackhole is None:
            blackhole = self.blackhole_after is not None and s["accepted"] >= self.blackhole_after
        s["accepted"] += 1
        s["accepted_since_resume"] += 1
        s["blackholed" if blackhole else "stored"] += 1
        if self.daily_quota is not None:
            self.daily_times.append(now)
        if self.per_minute is not None:
            self.minute_times.append(now)
        if (self.suspend_after is not None and not s["suspended"]
                and s["accepted_since_resume"] >= max(self.suspend_after, 1)):
            self._suspend()
        self.write()
        return blackhole

    # -- mailboxes: what happens to an accepted message

    def silent_drop_due(self):
        """Whether the message about to be accepted is silently dropped
        (asked before accepted() counts it)."""
        return (self.mailboxes is not None and self.silent_drop_after is not None
                and self.stats["accepted"] >= self.silent_drop_after)

    def _deliver(self, root, user, folder, data, flags=""):
        """imapserver.deliver; True, or False (said and counted) when it failed."""
        try:
            imapserver().deliver(root, user, folder, data, flags)
            return True
        except OSError as e:
            print(f"smtpserver: delivering to {user}/{folder} in {root}: {e}", file=sys.stderr)
            self.stats["mailbox_errors"] += 1
            return False

    def take(self, envelope, smtp, now, silent=False, blackholed=False):
        """File and deliver an accepted message (after accepted() counted it):
        the Sent copy, the recipients' INBOXes, bounces, then any notice due.
        silent (silent_drop_due() before accepted()) or blackholed: lost, no
        recipient delivery, no bounce."""
        mb = self.mailboxes
        if mb is None:
            return
        s = self.stats
        lost = silent or blackholed
        if silent:
            s["silently_dropped"] += 1
        content = envelope.original_content or b""
        if mb.sent and (not lost or self.silent_drop_files_sent):
            if self._deliver(mb.imap_dir, *mb.sent, content, "S"):
                s["filed_sent"] += 1
        if not lost:
            params = getattr(envelope, "dsn_rcpt", None) or []
            targets = {}
            for i, rcpt in enumerate(envelope.rcpt_tos):
                if any(b in rcpt for b in self.bounce):
                    p = params[i] if i < len(params) else {}
                    notify = p.get("NOTIFY")
                    if notify is not None and "FAILURE" not in notify.upper().split(","):
                        s["bounces_suppressed"] += 1
                    elif self._deliver(mb.imap_dir, mb.account, "INBOX",
                                       self.bounce_report(envelope, smtp, rcpt, p, now)):
                        s["bounces_sent"] += 1
                    continue
                to = mb.deliver.get(rcpt.lower())
                if to is not None and to not in targets:
                    targets[to] = rcpt
            for (root, user), rcpt in targets.items():
                if self._deliver(root, user, "INBOX",
                                 self.received(envelope, smtp, rcpt, now) + content):
                    s["delivered_mailboxes"] += 1
        self._send_notices(now)
        self.write()

    def _send_notices(self, now):
        """Deliver the notices whose "after" the accepted count has reached."""
        for n in self.notices:
            if n["sent"] or self.stats["accepted"] < n["after"]:
                continue
            n["sent"] = True
            user = n["user"] or self.mailboxes.account
            if self._deliver(self.mailboxes.imap_dir, user, "INBOX",
                             notice_message(n["kind"], user, user, now)):
                self.stats["notices_sent"] += 1
                self.stats["notices"].append(n["kind"])

    @staticmethod
    def received(envelope, smtp, rcpt, now):
        """The trace headers a delivery agent prepends, as CRLF bytes."""
        helo = smtp.session.host_name or "unknown"
        peer = smtp.session.peer[0] if smtp.session.peer else "127.0.0.1"
        return crlf(f"Return-Path: <{envelope.mail_from or ''}>\n"
                    f"Delivered-To: {rcpt}\n"
                    f"Received: from {helo} ([{peer}])\n"
                    f"        by smtpserver.test with ESMTP id {uuid.uuid4().hex[:12]}\n"
                    f"        for <{rcpt}>; {rfc5322_date(now)}\n")

    def bounce_report(self, envelope, smtp, rcpt, rcpt_params, now):
        """Gmail's RFC 3464 report on rcpt (an unknown address) for envelope."""
        content = envelope.original_content or b""
        head = header_block(content)
        hdr = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
            head + b"\r\n\r\n")
        mid = (hdr.get("Message-ID") or "").strip()
        mail_params = getattr(envelope, "dsn_mail", None) or {}
        envid = mail_params.get("ENVID")
        full = mail_params.get("RET", "").upper() == "FULL"
        orcpt = rcpt_params.get("ORCPT")
        boundary = "000000000000" + uuid.uuid4().hex[:16]
        date = rfc5322_date(now)
        arrival = rfc5322_date(now)
        sender = envelope.mail_from or ""
        domain = rcpt.rpartition("@")[2] or "example.invalid"
        top = [
            "Return-Path: <>",
            f"Delivered-To: {self.mailboxes.account}",
            f"Content-Type: multipart/report; boundary=\"{boundary}\"; "
            "report-type=delivery-status",
            "MIME-Version: 1.0",
            "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            f"To: {sender}",
            "Auto-Submitted: auto-replied",
            "Subject: Delivery Status Notification (Failure)",
        ]
        if mid:
            top += [f"References: {mid}", f"In-Reply-To: {mid}"]
        top += [f"X-Failed-Recipients: {rcpt}",
                f"Message-ID: {email.utils.make_msgid(uuid.uuid4().hex[:20], 'mx.google.com')}",
                f"Date: {date}", ""]
        report = ["Reporting-MTA: dns; googlemail.com",
                  f"Received-From-MTA: dns; {smtp.session.host_name or sender}",
                  f"Arrival-Date: {arrival}"]
        if envid is not None:
            report.append(f"Original-Envelope-Id: {envid}")
        if mid:
            report.append(f"X-Original-Message-ID: {mid}")
        report.append("")
        if orcpt is not None:
            report.append(f"Original-Recipient: {xtext_decode(orcpt)}")
        report += [f"Final-Recipient: rfc822; {rcpt}",
                   "Action: failed",
                   "Status: 5.1.1",
                   f"Remote-MTA: dns; mx.{domain}. (203.0.113.40, the server for the domain "
                   f"{domain}.)",
                   "Diagnostic-Code: " + GMAIL_DSN_DIAGNOSTIC.format(
                       id=f"a1si{uuid.uuid4().int % 10**7}pfb.{len(content) % 1000}"),
                   f"Last-Attempt-Date: {date}", ""]
        text = "\n".join(top) + "\n"
        text += f"--{boundary}\nContent-Type: text/plain; charset=\"UTF-8\"\n\n"
        text += GMAIL_DSN_TEXT.format(rcpt=rcpt) + "\n"
        text += f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        text += "\n".join(report) + "\n"
        if full:
            text += f"--{boundary}\nContent-Type: message/rfc822\n\n"
            tail = content.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            if not tail.endswith(b"\r\n"):
                tail += b"\r\n"
        else:
            text += f"--{boundary}\nContent-Type: text/rfc822-headers\n\n"
            tail = head + b"\r\n"
        return crlf(text) + tail + crlf(f"\n--{boundary}--\n")


# ---------------------------------------------------------------- the mailbox

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
    def _record(envelope, smtp, now=None):
        content = envelope.original_content or b""
        hdr = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
        mid = hdr.get("Message-ID")
        return {
            "conn": smtp.conn,
            "tls": smtp.tls_object() is not None,
            "sni": getattr(smtp.tls_object(), "sni", None),
            "auth_user": smtp.auth_user(),
            "mail_from": envelope.mail_from,
            "rcpt": list(envelope.rcpt_tos),
            "message_id": mid.strip() if mid else None,
            "size": len(content),
            "time": time.time() if now is None else now,
        } | ({"mail_params": getattr(envelope, "dsn_mail", {}),
              "rcpt_params": getattr(envelope, "dsn_rcpt", [])} if smtp.dsn else {})

    def save(self, envelope, smtp, now=None, **extra):
        """Save the message and log it; returns its number."""
        self.n += 1
        name = f"{self.n:06d}.eml"
        tmp = os.path.join(self.path, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or b"")
        os.rename(tmp, os.path.join(self.path, name))
        record = {"n": self.n, "file": name}
        record.update(self._record(envelope, smtp, now))
        record.update(extra)
        self._append("log.jsonl", record)
        return self.n

    def blackhole(self, envelope, smtp, now=None):
        """Log a message that was accepted and thrown away."""
        self._append("blackhole.jsonl", self._record(envelope, smtp, now))


def reply_lines(text):
    """The lines of a (possibly multi-line) reply, with '-' continuations."""
    lines = text.split("\n")
    return [ln[:3] + "-" + ln[4:] if i < len(lines) - 1 and len(ln) >= 3 else ln
            for i, ln in enumerate(lines)]


def split_dsn_params(arg, names):
    """arg without the DSN parameters in names, and those parameters as a
    dict (keys upper case, values as sent); None when one is malformed."""
    if not arg or ">" not in arg:
        return arg, {}
    head, _, tail = arg.rpartition(">")
    keep, found = [], {}
    for word in tail.split():
        key, eq, value = word.partition("=")
        if key.upper() in names:
            if not eq or not value or key.upper() in found:
                return None, None
            found[key.upper()] = value
        else:
            keep.append(word)
    return " ".join([head + ">"] + keep), found


def address_of(arg):
    """The address inside <...> of a MAIL/RCPT argument, else the argument."""
    if arg and "<" in arg and ">" in arg:
        return arg[arg.index("<") + 1:arg.index(">")]
    return arg or ""


class ScriptedSMTP(SMTP):
    """aiosmtpd's SMTP with the script, then the provider, applied before each command."""

    connections = 0

    def __init__(self, handler, script, provider, dsn=False, **kw):
        super().__init__(handler, **kw)
        self.dsn = dsn
        self.in_ehlo = False
        self.script = script
        self.provider = provider
        self.auth_required = kw.get("auth_required", False)
        self.opened = self.closed = False
        ScriptedSMTP.connections += 1
        self.conn = ScriptedSMTP.connections

    def connection_made(self, transport):
        # Called again with the TLS transport after STARTTLS: count once.
        if not self.opened:
            self.opened = True
            self.provider.connection_opened()
        super().connection_made(transport)

    def connection_lost(self, error):
        if self.opened and not self.closed:
            self.closed = True
            self.provider.connection_closed()
        super().connection_lost(error)

    async def forever(self):
        """Wait until the connection is lost (which cancels the handler task)."""
        await asyncio.get_running_loop().create_future()

    def tls_object(self):
        """The ssl.SSLObject of this connection, None when it is not in TLS."""
        if self.transport is None:
            return None
        return self.transport.get_extra_info("ssl_object")

    def auth_user(self):
        """The user name this session authenticated as, or None."""
        login = getattr(self.session, "login_data", None)
        if isinstance(login, bytes):
            return login.decode("utf-8", "replace")
        return login

    def drop(self):
        """Close the connection at once, sending nothing more."""
        if self.transport is not None:
            self.transport.abort()

    def close_soon(self):
        """Close the connection once what was written has been sent (after a 421)."""
        transport = self.transport
        if transport is not None:
            self.loop.call_soon(transport.close)

    async def act(self, rule):
        """Carry out rule; returns True when the command has been answered."""
        if rule is None:
            return False
        if rule["action"] == "reply":
            self.provider.script_replied(rule["reply"])
            for line in reply_lines(rule["reply"]):
                await self.push(line)
            return True
        if rule["action"] == "drop":
            self.drop()
        await self.forever()
        return True

    async def answer(self, reply):
        """Send the provider's reply, if any; True when sent.  421 closes."""
        if reply is None:
            return False
        for line in reply_lines(reply):
            await self.push(line)
        if reply.startswith("421"):
            self.close_soon()
        return True

    def tick(self):
        """Every command: let the provider see whether a suspension was lifted."""
        self.provider.refresh()

    async def _handle_client(self):
        rule = self.script.match("connect", str(self.session.peer[0]))
        if rule is not None and rule["action"] == "reply":
            self.provider.script_replied(rule["reply"])
            for line in reply_lines(rule["reply"]):
                await self.push(line)
            self.transport.close()
            return
        if rule is not None:
            await self.act(rule)
            return
        await super()._handle_client()

    async def smtp_EHLO(self, hostname):
        self.tick()
        if not await self.act(self.script.match("ehlo", hostname)):
            self.in_ehlo = True
            try:
                await super().smtp_EHLO(hostname)
            finally:
                self.in_ehlo = False

    async def push(self, status):
        # --dsn: "250-DSN" just before the last line of the EHLO reply
        if self.dsn and self.in_ehlo and status.startswith("250 "):
            await super().push("250-DSN")
        await super().push(status)

    async def dsn_params(self, arg, names):
        """--dsn: arg without the parameters in names, and those parameters;
        (None, None) after a 501 for a malformed one."""
        if not self.dsn:
            return arg, {}
        rest, params = split_dsn_params(arg, names)
        if rest is None:
            await self.push("501 5.5.4 Syntax error in DSN parameters")
            return None, None
        if params.get("RET", "FULL").upper() not in ("FULL", "HDRS"):
            await self.push("501 5.5.4 RET must be FULL or HDRS")
            return None, None
        return rest, params

    async def smtp_HELO(self, hostname):
        self.tick()
        if not await self.act(self.script.match("ehlo", hostname)):
            await super().smtp_HELO(hostname)

    @syntax("NOOP [ignored]")
    async def smtp_NOOP(self, arg):
        self.tick()
        await super().smtp_NOOP(arg)

    @syntax("RSET")
    async def smtp_RSET(self, arg):
        self.tick()
        await super().smtp_RSET(arg)

    async def smtp_STARTTLS(self, arg):
        self.tick()
        if not await self.act(self.script.match("starttls", arg)):
            await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg):
        self.tick()
        if await self.act(self.script.match("auth", arg)):
            return
        if await self.answer(self.provider.auth_command()):
            return
        await super().smtp_AUTH(arg)

    async def smtp_MAIL(self, arg):
        self.tick()
        if await self.act(self.script.match("mail", address_of(arg))):
            return
        # The provider speaks only where aiosmtpd would not refuse first.
        if (self.session.host_name and not self.envelope.mail_from
                and not (self.auth_required and not self.session.authenticated)
                and await self.answer(self.provider.check("mail", address_of(arg),
                                                          self.conn))):
            return
        arg, params = await self.dsn_params(arg, DSN_MAIL_PARAMS)
        if arg is None:
            return
        await super().smtp_MAIL(arg)
        if self.dsn and self.envelope.mail_from and not hasattr(self.envelope, "dsn_mail"):
            self.envelope.dsn_mail = params
            self.envelope.dsn_rcpt = []

    async def smtp_RCPT(self, arg):
        self.tick()
        if await self.act(self.script.match("rcpt", address_of(arg))):
            return
        if self.envelope.mail_from and await self.answer(
                self.provider.check("rcpt", address_of(arg), self.conn)):
            return
        arg, params = await self.dsn_params(arg, DSN_RCPT_PARAMS)
        if arg is None:
            return
        n = len(self.envelope.rcpt_tos)
        await super().smtp_RCPT(arg)
        if self.dsn and len(self.envelope.rcpt_tos) > n:
            self.envelope.dsn_rcpt.append(params)

    async def smtp_DATA(self, arg):
        self.tick()
        who = " ".join([self.envelope.mail_from or ""] + list(self.envelope.rcpt_tos))
        if await self.act(self.script.match("data", who)):
            return
        if self.envelope.rcpt_tos and await self.answer(
                self.provider.check("data", who, self.conn)):
            return
        await super().smtp_DATA(arg)


class Handler:
    """aiosmtpd hooks: data-end rules, the provider, and saving what is accepted."""

    def __init__(self, mbox, script, provider):
        self.mbox = mbox
        self.script = script
        self.provider = provider

    async def handle_DATA(self, server, session, envelope):
        server.tick()
        who = " ".join([envelope.mail_from or ""] + list(envelope.rcpt_tos))
        rule = self.script.match("data-end", who)
        action = rule["action"] if rule else None
        now = time.time()
        # decided before accepted() counts this message
        silent = self.provider.silent_drop_due()
        mark = {"silently_dropped": True} if silent else {}
        if action is None:
            reply = self.provider.check("data-end", who, server.conn)
            if reply is not None:
                lines = reply_lines(reply)
                if not reply.startswith("421"):
                    for line in lines[:-1]:
                        await server.push(line)
                    return lines[-1]
                await server.answer(reply)
                await server.forever()
                return None
            if self.provider.accepted(now):
                self.mbox.blackhole(envelope, server, now)
                self.provider.take(envelope, server, now, silent, blackholed=True)
                return "250 2.0.0 OK"
            n = self.mbox.save(envelope, server, now, **mark)
            self.provider.take(envelope, server, now, silent)
            return f"250 2.0.0 OK queued as {n}"
        if action == "accept_then_blackhole":
            self.mbox.blackhole(envelope, server, now)
            self.provider.accepted(now, blackhole=True)
            self.provider.take(envelope, server, now, silent, blackholed=True)
            return rule.get("reply", "250 2.0.0 OK")
        if action == "reply":
            if rule["reply"].startswith("2"):
                self.mbox.save(envelope, server, now, **mark)
                self.provider.accepted(now, blackhole=False)
                self.provider.take(envelope, server, now, silent)
            else:
                self.provider.script_replied(rule["reply"])
            lines = reply_lines(rule["reply"])
            for line in lines[:-1]:
                await server.push(line)
            return lines[-1]
        if action == "drop":
            self.mbox.save(envelope, server, now, dropped=True, **mark)
            self.provider.accepted(now, blackhole=False)
            self.provider.take(envelope, server, now, silent)
            server.drop()
        else:
            self.mbox.save(envelope, server, now, stalled=True, **mark)
            self.provider.accepted(now, blackhole=False)
            self.provider.take(envelope, server, now, silent)
        await server.forever()
        return None


def make_authenticator(user, password):
    """An aiosmtpd authenticator accepting exactly user/password (unless the
    provider's account is suspended at AUTH: then its reply, after the
    credentials, as Gmail does)."""
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user
              and auth_data.password == password)
        reply = server.provider.auth_result(ok)
        if reply is not None:
            if reply.startswith("421"):
                server.close_soon()
            return AuthResult(success=False, handled=False,
                              message="\r\n".join(reply_lines(reply)))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
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


async def serve(args, script, provider):
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
    handler = Handler(Mbox(args.mbox), script, provider)
    server = await loop.create_server(
        lambda: ScriptedSMTP(handler, script, provider, dsn=args.dsn, **kw), host=args.host,
        port=args.port, ssl=ctx if args.implicit_tls else None)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    provider.write()
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


def load_json(p, path, what):
    """The JSON in path; a usage error (exit status 2) when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        p.error(f"{what} {path}: {e}")


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
    p.add_argument("--provider", metavar="FILE", help="provider simulation (JSON)")
    p.add_argument("--stats", metavar="FILE", help="statistics, rewritten after each change")
    p.add_argument("--dsn", action="store_true", help="offer DSN, log RET/ENVID/NOTIFY/ORCPT")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if (args.starttls or args.implicit_tls) and not (args.tls_cert and args.tls_key):
        p.error("--starttls and --implicit-tls need --tls-cert and --tls-key")
    rules = load_json(p, args.script, "script") if args.script else []
    try:
        conf = load_json(p, args.provider, "provider") if args.provider else {}
        base = os.path.dirname(os.path.abspath(args.provider)) if args.provider else "."
        provider = Provider(conf, base_dir=base, stats_path=args.stats)
    except ValueError as e:
        p.error(f"{args.provider}: {e}")
    try:
        script = Script(rules + provider.extra_rules if isinstance(rules, list) else rules)
    except ValueError as e:
        p.error(f"{args.script or args.provider}: {e}")
    # --implicit-tls --auth: AUTH is inside TLS, aiosmtpd just cannot tell
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.ERROR,
                        format="smtpserver: %(name)s: %(message)s")

    async def run():
        asyncio.get_running_loop().set_exception_handler(quiet_exceptions(args.verbose))
        await serve(args, script, provider)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
