/*
 * reply_rules - the provider phrase table: what a reply says, what it
 * means, and what front-desk staff should do about it.
 *
 * Owns every word of the verdicts: one struct reply_rule per rule (see
 * reply_rules.h for the pattern syntax and when a rule holds) and one
 * sentence per category for reply_explain.  The rules are in order of
 * precedence, first match wins, following the providers' notes
 * (shared/notes/providers.md):
 *   1. account-blocked    a person must act (web login, CAPTCHA, suspension)
 *   2. rate-limited       daily quotas first, then short back-offs
 *   3. auth-failed        by text (a 5xx at AUTH is a stage rule, below)
 *   4. sender-rejected    by text (a 5xx at MAIL is a stage rule, below)
 *   5. tls-failed         by text
 *   6. stage rules        connect/ehlo, starttls, auth, mail, rcpt, data
 *   7. transient          any other 4xx
 * Rules marked RF_LOCAL are not matched against replies: reply.c picks
 * them by id for outcomes without a reply (TLS failures, timeouts, drops,
 * steps spoold refused itself, success).
 *
 * Writing rules: explanations and actions are for a receptionist, so no
 * protocol words (SMTP, TLS, AUTH, relay, 5xx...); an action says who does
 * what and ends with "then run: spool resume" when sending stays stopped
 * until someone says so.  Add a phrase to an existing rule rather than a
 * rule, and add a test case to tests/unit/test_reply.c for it.
 */
#include "reply_rules.h"

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CODES(...) ((const int[]){__VA_ARGS__, 0})

#define RESUME ", then run: spool resume"
#define WAIT_DONE                                                                                  \
	"Nothing to do now: sending resumes by itself at the time shown and no e-mail is lost."
#define RETRY_DONE "Nothing to do: spoold tries again by itself."

const struct reply_rule reply_rules[] = {
        /*
         * 1. account-blocked: the provider wants a person.
         */
        {
                .id = "gmail-web-login",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("{log in|login|log-in|log on|logon|sign in|signin|sign-in} "
                          "{via|with|through|using|from|in|on} {your |a |the |}{web |}browser",
                        "{log in|login|sign in|signin} to your {google |}account "
                        "{via|with|through|using|from|in|on} {your |a |the |}{web |}browser",
                        "*accounts.google.com/signin/continue*", "*webloginrequired*"),
                .explanation = "Gmail has stopped this account from sending until someone signs "
                               "in to it in a web browser and completes Google's security "
                               "check.",
                .action = "Sign in to the practice's e-mail account in a web browser and "
                          "complete the check" RESUME,
        },
        {
                .id = "web-login",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("5.7.14"),
                .explanation = "The mail provider has stopped this account from sending until "
                               "someone signs in to it in a web browser and completes a "
                               "security check.",
                .action = "Sign in to the practice's e-mail account on the provider's website "
                          "and complete any check it shows" RESUME,
        },
        {
                .id = "outlook-suspended",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("actual verdict is suspend"),
                .explanation = "Outlook.com has suspended this e-mail account because it "
                               "suspects it of sending spam, so nothing can be sent from it.",
                .action = "Sign in to the account at outlook.com in a web browser and follow "
                          "the steps to reactivate it (it may ask for a phone number to send "
                          "a code to)" RESUME,
        },
        {
                .id = "outlook-verify",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("hipnotify", "hipsend"),
                .explanation = "Outlook.com wants a person to prove that the account is not "
                               "being used by a robot before it sends any more e-mail.",
                .action = "Sign in to the account at outlook.com in a web browser and complete "
                          "the verification it asks for (a code by text message or a "
                          "puzzle)" RESUME,
        },
        {
                .id = "outlook-spam-block",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("outboundspamexception", "wascl useraction"),
                .unless = P("refusequota"),
                .explanation = "Microsoft has stopped this account from sending because it "
                               "suspects the account of sending spam.",
                .action = "Sign in to the account at outlook.com in a web browser and clear "
                          "any notice about the account (for Microsoft 365, ask whoever "
                          "manages it)" RESUME,
        },
        {
                .id = "microsoft-restricted",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("5.7.708", "5.7.501", "spam abuse detected", "bad outbound sender",
                        "errormessagesubmissionblocked"),
                .explanation = "Microsoft has blocked this account (or the practice's whole "
                               "Microsoft 365 organisation) from sending, usually because it "
                               "suspects spam.",
                .action = "Ask whoever manages the practice's Microsoft 365 account to have "
                          "the block removed (restricted senders in the admin centre, or "
                          "Microsoft support)" RESUME,
        },
        {
                .id = "zoho-unblock",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("email outgoing blocked", "e-mail outgoing blocked",
                        "outgoing {email|e-mail|mail} {is |has been |}blocked", "unblockme"),
                .explanation = "Zoho Mail has blocked outgoing e-mail from this account until "
                               "someone signs in and proves they are a person.",
                .action = "Sign in to Zoho Mail in a web browser and follow the instructions "
                          "to unblock outgoing e-mail (it shows a puzzle to solve)" RESUME,
        },
        {
                .id = "ses-paused",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("sending {is |}paused for this account"),
                .explanation = "Amazon has paused sending for the practice's Amazon e-mail "
                               "service account, usually after too many bounced or reported "
                               "e-mails.",
                .action = "Ask whoever manages the practice's Amazon Web Services account to "
                          "read Amazon's e-mail about the pause and resolve it" RESUME,
        },
        {
                .id = "credits-exhausted",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("maximum credits exceeded"),
                .explanation = "The practice's plan with the mail service has used up its "
                               "sending credits, so nothing can be sent until it is renewed "
                               "or upgraded.",
                .action = "Ask whoever pays for the mail service (SendGrid or similar) to "
                          "upgrade the plan or wait for it to renew" RESUME,
        },
        {
                .id = "activate-account",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("activate your {mailgun |}account"),
                .explanation = "The mail service will not send anything until the activation "
                               "of the practice's account is completed.",
                .action = "Check the inbox of the address the mail service account was opened "
                          "with (or sign in to its website) and complete the activation" RESUME,
        },
        {
                .id = "verify-account",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("verify your account"),
                .explanation = "The mail provider wants someone to confirm that the account "
                               "belongs to a real person before it sends more e-mail.",
                .action = "Sign in to the account on the provider's website in a web browser "
                          "and complete the verification it asks for" RESUME,
        },
        {
                .id = "sender-mailbox-full",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("quotaexceededexception"),
                .explanation = "The practice's own mailbox is full, and Microsoft will not "
                               "send any more e-mail from it until there is room.",
                .action = "The practice's own mailbox is full: delete or archive old mail "
                          "(Sent Items and Deleted Items too)" RESUME,
        },
        {
                .id = "account-suspended",
                .cat = CAT_ACCOUNT_BLOCKED,
                .text = P("account has been suspended",
                        "your account {has been|is|was} "
                        "{suspended|disabled|deactivated|locked|blocked}"),
                .explanation = "The mail provider has suspended the practice's e-mail account, "
                               "so nothing can be sent from it.",
                .action = "Contact the mail provider (or whoever manages the account) to have "
                          "the account reactivated" RESUME,
        },
        {
                .id = "account-disabled",
                .cat = CAT_ACCOUNT_BLOCKED,
                .codes = CODES(525),
                .text = P("5.7.13", "user account disabled"),
                .explanation = "The mail provider says the practice's e-mail account is "
                               "switched off.",
                .action = "Ask whoever manages the practice's e-mail accounts to switch this "
                          "account on again" RESUME,
        },

        /*
         * 2. rate-limited: wait, then carry on by itself.  Daily quotas
         * first (they win over "throttling" and other short wording).
         */
        {
                .id = "microsoft-recipient-quota",
                .cat = CAT_RATE_LIMITED,
                .text = P("submissionquotaexceededexception", "5.1.90",
                        "message submission quota exceeded"),
                .flags = RF_DAILY,
                .explanation = "Microsoft limits how many people the account may e-mail in 24 "
                               "hours and the practice has reached it; sending resumes by "
                               "itself when the 24 hours have passed.",
                .action = WAIT_DONE " If it happens often, ask your IT contact to lower "
                                    "spoold's daily limit.",
        },
        {
                .id = "outlook-daily-quota",
                .cat = CAT_RATE_LIMITED,
                .text = P("refusequota"),
                .flags = RF_DAILY,
                .explanation = "Outlook.com has stopped this account from sending for now "
                               "because it reached its daily limit; sending resumes by itself "
                               "within 24 hours.",
                .action = WAIT_DONE " If it happens often, ask your IT contact to lower "
                                    "spoold's daily limit.",
        },
        {
                .id = "daily-quota",
                .cat = CAT_RATE_LIMITED,
                .text = P("daily {user |}{sending |message |messages |recipient |recipients "
                          "|email |e-mail |mail |}{limit|limits|quota|quotas}",
                        "daily smtp relay limit", "{24-hour|24 hour|24h} {sending |}limit"),
                .flags = RF_DAILY,
                .explanation = "The e-mail account has sent as many e-mails as its provider "
                               "allows in one day; sending resumes by itself once 24 hours "
                               "have passed.",
                .action = WAIT_DONE " If it happens often, ask your IT contact to lower "
                                    "spoold's daily limit.",
        },
        {
                .id = "thread-limit",
                .cat = CAT_RATE_LIMITED,
                .text = P("sender thread limit", "thread limit exceeded"),
                .flags = RF_ONE_CONN,
                .backoff = 1,
                .explanation = "The mail provider allows only a few e-mails to be sent at the "
                               "same time from this account; spoold now sends them one at a "
                               "time.",
                .action = WAIT_DONE,
        },
        {
                .id = "too-many-connections",
                .cat = CAT_RATE_LIMITED,
                .text = P("too many {concurrent |simultaneous |parallel |open |}{smtp "
                          "|}connections"),
                .flags = RF_ONE_CONN,
                .backoff = 5,
                .explanation = "The mail provider saw too many connections from this account "
                               "at once; spoold waits a little and then uses just one.",
                .action = WAIT_DONE,
        },
        {
                .id = "failed-login-lockout",
                .cat = CAT_RATE_LIMITED,
                .text = P("too many {bad|failed|invalid|unsuccessful|wrong} "
                          "{auth|authentication|login|logon|sign-in|sign in|password} "
                          "attempts"),
                .backoff = 30,
                .explanation = "The mail provider has locked sign-ins for a while after "
                               "several failed attempts, which can mean the saved password is "
                               "wrong.",
                .action = "Ask your IT contact to check the e-mail password saved in spoold's "
                          "settings; sending resumes by itself at the time shown.",
        },
        {
                .id = "login-throttle",
                .cat = CAT_RATE_LIMITED,
                .text = P("too many {auth|authentication|login|logon|sign-in|sign in} "
                          "{attempts|requests}",
                        "too many logins"),
                .backoff = 15,
                .explanation = "The mail provider saw too many sign-ins from this account in a "
                               "short time and asks to wait; sending resumes by itself.",
                .action = WAIT_DONE,
        },
        {
                .id = "per-connection-limit",
                .cat = CAT_RATE_LIMITED,
                .text = P("{max|maximum} {number of |}{message|messages} per "
                          "{connection|session}",
                        "too many messages {in|on|for|per} {this |the |a |one |}"
                        "{connection|session}",
                        "{message|messages} per {connection|session} {limit|exceeded}"),
                .flags = RF_RECONNECT,
                .backoff = 1,
                .explanation = "The mail server takes only a limited number of e-mails on one "
                               "connection; spoold reconnects and carries on.",
                .action = WAIT_DONE,
        },
        {
                .id = "sending-rate",
                .cat = CAT_RATE_LIMITED,
                .text = P("{maximum |max |}{sending|send|message|messaging} rate exceeded",
                        "rate limit exceeded", "{rate limited|rate-limited|ratelimited}",
                        "{exceeded|exceeds|over} {the |your |its |}{sending |message |}rate "
                        "limit",
                        "throttling failure", "throttled", "peak smtp relay limit",
                        "sending too fast"),
                .backoff = 5,
                .explanation = "The mail provider asks the account to send more slowly; "
                               "sending pauses for a few minutes and resumes by itself.",
                .action = WAIT_DONE,
        },
        {
                .id = "unusual-activity",
                .cat = CAT_RATE_LIMITED,
                .text = P("unusual sending activity"),
                .backoff = 30,
                .explanation = "The mail provider noticed unusual sending from this account and "
                               "has paused it for a while; sending resumes by itself later.",
                .action = WAIT_DONE " If it keeps happening, sign in to the account in a web "
                                    "browser and look for a notice from the provider.",
        },
        {
                .id = "hourly-limit",
                .cat = CAT_RATE_LIMITED,
                .text = P("limited to # {messages|message|emails|e-mails|recipients}",
                        "{hourly|per hour|per-hour} {sending |message |}{limit|quota}",
                        "recipient limit exceeded"),
                .backoff = 60,
                .explanation = "The mail service limits how many e-mails the account may send "
                               "in a given time and the practice has reached it; sending "
                               "resumes by itself.",
                .action = WAIT_DONE,
        },
        {
                .id = "too-many-messages",
                .cat = CAT_RATE_LIMITED,
                .text = P("too many {messages|emails|e-mails|mails}",
                        "{sending|message} {limit|quota} {exceeded|reached}", "unexpected volume"),
                .backoff = 5,
                .explanation = "The mail provider says the account is sending too many "
                               "e-mails for now; sending pauses and resumes by itself.",
                .action = WAIT_DONE,
        },

        /*
         * 3. auth-failed, by what the text says (any stage).
         */
        {
                .id = "app-password-required",
                .cat = CAT_AUTH_FAILED,
                .text = P("{application-specific|application specific|app} password "
                          "{is |}required",
                        "*invalidsecondfactor*"),
                .explanation = "The account uses two-step sign-in, so the provider needs a "
                               "special app password for spoold; the normal password does not "
                               "work.",
                .action = "Ask your IT contact to create an app password in the account's "
                          "security settings and save it in spoold's settings, then retry.",
        },
        {
                .id = "mailbox-sending-disabled",
                .cat = CAT_AUTH_FAILED,
                .text = P("smtpclientauthentication is disabled", "*aka.ms/smtp_auth_disabled*"),
                .explanation = "Microsoft 365 does not allow this mailbox to send e-mail from "
                               "programs such as spoold: the setting is switched off for it.",
                .action = "Ask whoever manages the practice's Microsoft 365 account to switch "
                          "on authenticated sending for this mailbox, then retry.",
        },
        {
                .id = "password-sign-in-disabled",
                .cat = CAT_AUTH_FAILED,
                .text = P("basic authentication is disabled", "5.7.30"),
                .explanation = "Microsoft no longer accepts a plain password for this "
                               "account, so spoold cannot sign in with it.",
                .action = "Ask your IT contact to allow password sign-in for sending from "
                          "programs on this account (or to set up another mail service for "
                          "spoold), then retry.",
        },
        {
                .id = "bad-credentials",
                .cat = CAT_AUTH_FAILED,
                .text = P("username and password not accepted", "*badcredentials*",
                        "authentication credentials invalid", "invalid credentials", "5.7.8",
                        "5.7.139", "authentication unsuccessful", "authentication failed",
                        "{incorrect|invalid|wrong} {username|user name|password|login}"),
                .unless = P("temporar*"),
                .explanation = "The mail provider did not accept the user name or password "
                               "saved for the practice's e-mail account.",
                .action = "Ask your IT contact to check the account's user name and password "
                          "in spoold's settings, then retry; spoold does not try the same "
                          "password again by itself.",
        },
        {
                .id = "not-signed-in",
                .cat = CAT_AUTH_FAILED,
                .text = P("5.7.57", "client {was |}not authenticated"),
                .explanation = "The mail provider wants the account to sign in before sending, "
                               "and spoold did not sign in.",
                .action = "Ask your IT contact to put the account's user name and password in "
                          "spoold's settings, then retry.",
        },
        {
                .id = "sign-in-required",
                .cat = CAT_AUTH_FAILED,
                .stages = RS(STAGE_AUTH) | RS(STAGE_MAIL),
                .text = P("authentication required"),
                .explanation = "The mail provider wants the account to sign in before sending, "
                               "and spoold did not sign in.",
                .action = "Ask your IT contact to put the account's user name and password in "
                          "spoold's settings, then retry.",
        },

        /*
         * 4. sender-rejected, by what the text says (any stage).
         */
        {
                .id = "sender-not-allowed",
                .cat = CAT_SENDER_REJECTED,
                .text = P("from address is not one of your addresses", "relaying disallowed as",
                        "sendasdenied*", "not allowed to send as",
                        "does not have permissions to send as", "5.7.60",
                        "not owned by {user|the user}", "sender address rejected"),
                .explanation = "The mail provider will not let this account send with the From "
                               "address in spoold's settings, because that address does not "
                               "belong to the account.",
                .action = "Ask your IT contact to set the From address in spoold's settings "
                          "to the account's own address (or to allow the account to send as "
                          "it), then retry.",
        },
        {
                .id = "sender-unverified",
                .cat = CAT_SENDER_REJECTED,
                .text = P("does not match a verified sender identity",
                        "{email|e-mail} address is not verified",
                        "{identity|identities|domain|sender} {is |are |}not verified"),
                .explanation = "The mail service has not confirmed yet that the practice owns "
                               "the From address, so it will not send from it.",
                .action = "Ask whoever manages the mail service account (SendGrid, Amazon or "
                          "similar) to verify the From address or the practice's domain, then "
                          "retry.",
        },
        {
                .id = "free-plan-test-only",
                .cat = CAT_SENDER_REJECTED,
                .text = P("free accounts are for test purposes only"),
                .explanation = "The mail service's free plan only sends to test addresses, not "
                               "to patients.",
                .action = "Ask whoever manages the mail service account to upgrade the plan, "
                          "then retry.",
        },

        /*
         * 5. tls-failed, by what the text says (any stage).
         */
        {
                .id = "encryption-required",
                .cat = CAT_TLS_FAILED,
                .text = P("must issue a starttls command first",
                        "{starttls|tls|ssl|encryption} {is |}required", "5.7.11"),
                .explanation = "The mail server only accepts a secure, encrypted connection, "
                               "and spoold's mail settings do not use one.",
                .action = "Ask your IT contact to switch spoold's mail settings to a secure "
                          "(encrypted) connection, then retry.",
        },
        {
                .id = "encryption-outdated",
                .cat = CAT_TLS_FAILED,
                .text = P("4.7.66", "{tls|ssl} #.# {and #.# |}{is|are} not supported"),
                .explanation = "The mail server needs a newer kind of secure connection than "
                               "this computer offered.",
                .action = "Ask your IT contact to update the computer's software (spoold and "
                          "its encryption library), then retry.",
        },

        /*
         * 6. stage rules, for what is left.
         */
        {
                .id = "host-blocklisted",
                .cat = CAT_ACCOUNT_BLOCKED,
                .stages = RS(STAGE_CONNECT) | RS(STAGE_EHLO),
                .classes = RC_5XX,
                .text = P("blocked using",
                        "{blocklist|blacklist|blocklisted|blacklisted|block list|black list}",
                        "spamhaus*", "listed {at|on|in|by}"),
                .explanation = "The mail server refuses connections from the office's internet "
                               "address because it is on a list of suspected spam senders.",
                .action = "Ask your IT contact or internet provider to get the office's "
                          "internet address removed from the block list named in the "
                          "reply" RESUME,
        },
        {
                .id = "host-refused",
                .cat = CAT_ACCOUNT_BLOCKED,
                .stages = RS(STAGE_CONNECT) | RS(STAGE_EHLO),
                .classes = RC_5XX,
                .explanation = "The mail server refuses to take e-mail from this computer.",
                .action = "Ask your IT contact to check spoold's mail server settings and "
                          "whether the office's internet address is blocked" RESUME,
        },
        {
                .id = "server-busy",
                .cat = CAT_TRANSIENT,
                .stages = RS(STAGE_CONNECT) | RS(STAGE_EHLO),
                .classes = RC_4XX,
                .explanation = "The mail server is busy or closing for a moment.",
                .action = RETRY_DONE,
        },
        {
                .id = "encryption-refused",
                .cat = CAT_TLS_FAILED,
                .stages = RS(STAGE_STARTTLS),
                .explanation = "The mail server could not start a secure, encrypted "
                               "connection.",
                .action = "Ask your IT contact to check spoold's mail server settings (server "
                          "name, port and secure connection), then retry.",
        },
        {
                .id = "sign-in-unavailable",
                .cat = CAT_TRANSIENT,
                .stages = RS(STAGE_AUTH),
                .classes = RC_4XX,
                .explanation = "The mail provider could not check the account's password just "
                               "now.",
                .action = RETRY_DONE,
        },
        {
                .id = "sign-in-refused",
                .cat = CAT_AUTH_FAILED,
                .stages = RS(STAGE_AUTH),
                .classes = RC_5XX,
                .explanation = "The mail provider refused to let the practice's e-mail account "
                               "sign in.",
                .action = "Ask your IT contact to check the account's user name, password and "
                          "sign-in settings in spoold's settings, then retry.",
        },
        {
                .id = "sender-refused",
                .cat = CAT_SENDER_REJECTED,
                .stages = RS(STAGE_MAIL),
                .classes = RC_5XX,
                .explanation = "The mail provider refused the From address in spoold's "
                               "settings for this account.",
                .action = "Ask your IT contact to check that the From address in spoold's "
                          "settings belongs to the account, then retry.",
        },
        {
                .id = "recipient-mailbox-full",
                .cat = CAT_TRANSIENT,
                .stages = RS(STAGE_RCPT) | RS(STAGE_DATA_END),
                .enh = P("x.2.2"),
                .text = P("mailbox {is |}full", "over quota", "over {its|their|the} quota",
                        "{mailbox|inbox} {quota|storage} exceeded"),
                .explanation = "The patient's mailbox is full and cannot take new e-mail now; "
                               "spoold keeps trying for a few days.",
                .action = "Nothing to do now; if it still fails after a few days, phone the "
                          "patient.",
        },
        {
                .id = "recipient-unknown",
                .cat = CAT_RECIPIENT_INVALID,
                .stages = RS(STAGE_RCPT),
                .classes = RC_5XX,
                .codes = CODES(556),
                .enh = P("x.1.*", "x.2.1", "5.1.10"),
                .text = P("does not exist", "user unknown", "unknown user", "unallocated",
                        "no longer valid", "mailbox is disabled", "mailbox unavailable",
                        "no such {user|mailbox|recipient|address}",
                        "{recipient|address|mailbox|user} not found", "invalid recipient"),
                .explanation = "The patient's e-mail address does not exist or no longer "
                               "takes e-mail.",
                .action = "Check the patient's e-mail address in your scheduling software "
                          "(or phone the patient) and correct it.",
        },
        {
                .id = "recipient-policy",
                .cat = CAT_MESSAGE_REJECTED,
                .stages = RS(STAGE_RCPT),
                .classes = RC_5XX,
                .enh = P("x.7.*"),
                .explanation = "The patient's mail provider refused this e-mail under its own "
                               "rules (often a spam filter); the address itself may be fine.",
                .action = "Phone the patient. If several e-mails fail this way, ask your IT "
                          "contact to look at the account.",
        },
        {
                .id = "recipient-refused",
                .cat = CAT_RECIPIENT_INVALID,
                .stages = RS(STAGE_RCPT),
                .classes = RC_5XX,
                .explanation = "The patient's e-mail address was refused; it may be mistyped "
                               "or closed.",
                .action = "Check the patient's e-mail address in your scheduling software "
                          "(or phone the patient) and correct it.",
        },
        {
                .id = "message-unauthenticated",
                .cat = CAT_MESSAGE_REJECTED,
                .stages = RS(STAGE_DATA) | RS(STAGE_DATA_END),
                .classes = RC_5XX,
                .enh = P("5.7.26", "5.7.27"),
                .text = P("dmarc", "spf", "dkim", "unauthenticated {email|e-mail|mail}"),
                .explanation = "The receiving provider refused this e-mail because the "
                               "practice's domain is not set up to prove that its e-mail "
                               "really comes from the practice.",
                .action = "Ask your IT contact to set up e-mail authentication for the "
                          "practice's domain (SPF, DKIM and DMARC records); until then "
                          "e-mails may keep failing.",
        },
        {
                .id = "message-too-large",
                .cat = CAT_MESSAGE_REJECTED,
                .stages = RS(STAGE_DATA) | RS(STAGE_DATA_END),
                .classes = RC_5XX,
                .enh = P("x.3.4", "x.2.3"),
                .text = P("message size", "too large", "too big", "size limit"),
                .explanation = "This e-mail was too large for the mail provider, usually "
                               "because of a picture or attachment.",
                .action = "Ask your IT contact to make the e-mail smaller (for example a "
                          "smaller picture in the template), then retry it.",
        },
        {
                .id = "message-refused",
                .cat = CAT_MESSAGE_REJECTED,
                .stages = RS(STAGE_DATA) | RS(STAGE_DATA_END),
                .classes = RC_5XX,
                .explanation = "The mail provider refused this particular e-mail, often "
                               "because it looked like spam or broke one of its rules.",
                .action = "Phone the patient. If several e-mails fail this way, ask your IT "
                          "contact to look at the account and the message templates.",
        },

        /*
         * 7. the code class.
         */
        {
                .id = "temporary",
                .cat = CAT_TRANSIENT,
                .classes = RC_4XX,
                .explanation = "The mail server asked to try again later.",
                .action = RETRY_DONE,
        },
        {
                .id = "rejected",
                .cat = CAT_MESSAGE_REJECTED,
                .classes = RC_5XX,
                .explanation = "The mail provider refused this e-mail.",
                .action = "Phone the patient. If several e-mails fail this way, ask your IT "
                          "contact to look at the account.",
        },

        /*
         * Chosen by reply.c by id: outcomes without a provider reply.
         */
        {
                .id = "accepted",
                .cat = CAT_SENT,
                .flags = RF_LOCAL,
                .explanation = "The e-mail was handed to the mail provider for delivery.",
                .action = "Nothing to do: the e-mail is on its way.",
        },
        {
                .id = "unexpected-reply",
                .cat = CAT_TRANSIENT,
                .flags = RF_LOCAL,
                .explanation = "The mail server gave an answer spoold did not expect at this "
                               "point.",
                .action = RETRY_DONE,
        },
        {
                .id = "tls-handshake",
                .cat = CAT_TLS_FAILED,
                .flags = RF_LOCAL,
                .explanation = "A secure connection to the mail server could not be set up, or "
                               "the server's identity could not be confirmed, so nothing was "
                               "sent.",
                .action = "Ask your IT contact to check the mail server name, port and "
                          "security certificate in spoold's settings, then retry.",
        },
        {
                .id = "encryption-no-answer",
                .cat = CAT_TLS_FAILED,
                .flags = RF_LOCAL,
                .explanation = "The mail server stopped answering while a secure connection "
                               "was being set up.",
                .action = "Ask your IT contact to check spoold's mail server settings (server "
                          "name, port and secure connection), then retry.",
        },
        {
                .id = "refused-sender",
                .cat = CAT_SENDER_REJECTED,
                .flags = RF_LOCAL,
                .explanation = "spoold did not send because the From address in its settings "
                               "cannot be used.",
                .action = "Ask your IT contact to correct the From address in spoold's "
                          "settings, then retry.",
        },
        {
                .id = "refused-recipient",
                .cat = CAT_RECIPIENT_INVALID,
                .flags = RF_LOCAL,
                .explanation = "The patient's e-mail address cannot be used (it is empty, too "
                               "long or has characters that are not allowed).",
                .action = "Correct the patient's e-mail address in your scheduling software, "
                          "then retry.",
        },
        {
                .id = "refused-message",
                .cat = CAT_MESSAGE_REJECTED,
                .flags = RF_LOCAL,
                .explanation = "spoold did not send this e-mail because something in it cannot "
                               "be sent.",
                .action = "Ask your IT contact to look at this e-mail and its template, then "
                          "retry.",
        },
        {
                .id = "refused-settings",
                .cat = CAT_AUTH_FAILED,
                .flags = RF_LOCAL,
                .explanation = "spoold did not send because its mail settings are incomplete "
                               "or not safe (for example a password without a secure "
                               "connection).",
                .action = "Ask your IT contact to check spoold's mail settings, then retry.",
        },
        {
                .id = "no-answer-after-message",
                .cat = CAT_UNKNOWN_OUTCOME,
                .flags = RF_LOCAL,
                .explanation = "The connection broke just as the e-mail was being handed over, "
                               "so it may or may not have arrived.",
                .action = "Nothing to do now: spoold tries again later, so the patient might "
                          "receive this e-mail twice.",
        },
        {
                .id = "timeout",
                .cat = CAT_TRANSIENT,
                .flags = RF_LOCAL,
                .explanation = "The mail server did not answer in time.",
                .action = RETRY_DONE " If it lasts for hours, check the office's internet "
                                     "connection or ask your IT contact.",
        },
        {
                .id = "connection-failed",
                .cat = CAT_TRANSIENT,
                .flags = RF_LOCAL,
                .explanation = "The mail server could not be reached, or the connection to it "
                               "broke.",
                .action = RETRY_DONE " If it lasts for hours, check the office's internet "
                                     "connection or ask your IT contact.",
        },
};
const size_t reply_nrules = sizeof reply_rules / sizeof reply_rules[0];

const char *const reply_cat_names[] = {
        [CAT_SENT] = "sent",
        [CAT_ACCOUNT_BLOCKED] = "account-blocked",
        [CAT_RATE_LIMITED] = "rate-limited",
        [CAT_AUTH_FAILED] = "auth-failed",
        [CAT_SENDER_REJECTED] = "sender-rejected",
        [CAT_RECIPIENT_INVALID] = "recipient-invalid",
        [CAT_MESSAGE_REJECTED] = "message-rejected",
        [CAT_TLS_FAILED] = "tls-failed",
        [CAT_TRANSIENT] = "transient",
        [CAT_UNKNOWN_OUTCOME] = "unknown-outcome",
};

const char *const reply_cat_explain[] = {
        [CAT_SENT] = "The e-mail was handed to the mail provider for delivery.",
        [CAT_ACCOUNT_BLOCKED] = "The mail provider has blocked or suspended the practice's "
                                "e-mail account: someone must sign in to the account on the "
                                "provider's website (and may have to pass a security check), "
                                "then tell spoold to resume; every e-mail waits until then.",
        [CAT_RATE_LIMITED] = "The mail provider is limiting how many e-mails the account may "
                             "send for now, so sending pauses and resumes by itself later; no "
                             "e-mail is lost.",
        [CAT_AUTH_FAILED] = "The mail provider did not accept the account's user name or "
                            "password, or the mail settings do not allow a safe sign-in: check "
                            "the account settings, then retry.",
        [CAT_SENDER_REJECTED] = "The mail provider will not let this account send from the "
                                "configured From address: check that the address belongs to "
                                "the account, then retry.",
        [CAT_RECIPIENT_INVALID] = "The patient's e-mail address does not exist or no longer "
                                  "accepts mail: confirm the address with the patient.",
        [CAT_MESSAGE_REJECTED] = "The mail provider refused this particular e-mail, often "
                                 "because it looked like spam or broke one of its rules, so it "
                                 "will not be sent as it is.",
        [CAT_TLS_FAILED] = "A secure connection to the mail server could not be set up or its "
                           "identity could not be confirmed, so nothing was sent: check the "
                           "mail server settings or ask your IT contact.",
        [CAT_TRANSIENT] = "The mail server could not be reached or asked to try again later; "
                          "the e-mail will be retried automatically.",
        [CAT_UNKNOWN_OUTCOME] = "The connection broke just as the e-mail was being handed over, "
                                "so it may or may not have arrived; it will be tried again "
                                "later, so the patient may receive it twice.",
};
const size_t reply_ncat = sizeof reply_cat_names / sizeof reply_cat_names[0];
