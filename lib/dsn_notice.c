/*
 * dsn_notice - provider notices that mean a person must act on the
 * practice's mail account: Google's security alerts and blocked sign-ins,
 * Microsoft's "verify your account" and temporary blocks, Zoho's
 * "Email Outgoing Blocked", Amazon SES's paused sending.
 *
 * A notice needs both its provider's sender and one of its subject
 * phrases; the body is never enough, so a patient who writes "I will
 * verify my account info at the visit" is not one, and neither is a reply
 * or a forward (a subject starting "Re:", "Fwd:", ...).  Senders are
 * "@domain" (that domain or a subdomain of it) or one exact address; the
 * consumer domains patients write from (outlook.com, gmail.com) appear
 * only as exact no-reply addresses.  Zoho writes from several addresses
 * of its own domains, so those are matched whole, with phrases about
 * outgoing mail being blocked that a patient would not put in a subject.  Subject phrases are
 * matched case-insensitively on the decoded subject with white space runs as one space.  The table
 * is in order: the first entry that matches wins.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsn_int.h"

#define MAXS 12

struct notice {
	const char *id;
	const char *senders[MAXS];
	const char *subjects[MAXS];
	const char *reason;
	const char *action;
};

#define GOOGLE                                                                                     \
	{                                                                                          \
		"@accounts.google.com", "no-reply@google.com", "noreply@google.com",               \
		        "mail-noreply@google.com"                                                  \
	}
#define MICROSOFT                                                                                  \
	{                                                                                          \
		"@microsoft.com", "@microsoftonline.com", "@outlook.microsoft.com",                \
		        "no-reply@outlook.com", "noreply@outlook.com"                              \
	}

static const struct notice notices[] = {
        {"google-signin-blocked", GOOGLE,
                {"sign-in attempt was blocked", "sign-in attempt blocked",
                        "review blocked sign-in attempt", "blocked sign-in attempt",
                        "suspicious sign-in prevented", "someone has your password"},
                "Google blocked a sign-in to the practice's Gmail account (most likely "
                "spoold's), so reminders cannot be sent until someone confirms it.",
                "Sign in to the practice's Gmail account in a web browser, open the security "
                "alert and confirm the blocked sign-in was yours (or allow it); then run: "
                "spool resume"},
        {"google-critical-security-alert", GOOGLE, {"critical security alert"},
                "Google sent a critical security alert for the practice's Gmail account; "
                "Google may have blocked the sign-in spoold uses or locked the account.",
                "Sign in to the practice's Gmail account in a web browser and review the "
                "security alert (change the password if the activity was not yours); then "
                "run: spool resume"},
        {"google-security-alert", GOOGLE, {"security alert"},
                "Google sent a security alert for the practice's Gmail account; it may have "
                "blocked the sign-in spoold uses.",
                "Sign in to the practice's Gmail account in a web browser and review the "
                "security alert; then run: spool resume"},
        {"microsoft-account-blocked", MICROSOFT,
                {"temporarily blocked", "account has been blocked", "blocked your account",
                        "account has been locked", "account is locked",
                        "account has been suspended", "temporarily suspended", "account is blocked",
                        "sending has been blocked"},
                "Microsoft has temporarily blocked the practice's Outlook/Microsoft account, "
                "so reminders cannot be sent.",
                "Sign in to the practice's Outlook account in a web browser and follow the "
                "steps to unblock it (Microsoft sends a security code to the phone or e-mail "
                "on file); then run: spool resume"},
        {"microsoft-verify-account", MICROSOFT,
                {"verify your account", "unusual activity", "unusual sign-in activity",
                        "help us protect your account", "verify your identity", "verify it's you",
                        "verify that it's you"},
                "Microsoft wants a person to verify the practice's Outlook/Microsoft account "
                "after unusual activity; until then it will not send e-mail.",
                "Sign in to the practice's Outlook account in a web browser and complete the "
                "verification (a code by text message or e-mail); then run: spool resume"},
        {"zoho-outgoing-blocked",
                {"@zohocorp.com", "@zohoaccounts.com", "@zohomail.com", "@zoho.com", "@zoho.eu",
                        "@zoho.in", "@zoho.com.au", "@zoho.jp", "@zohomail.eu", "@zohomail.in",
                        "@zohomail.com.au"},
                {"outgoing blocked", "outgoing email blocked", "outgoing emails blocked",
                        "outgoing mail blocked", "outgoing has been blocked",
                        "outgoing emails have been blocked", "blocked for outgoing",
                        "unblock outgoing", "outgoing email access", "outgoing email sending"},
                "Zoho Mail has blocked outgoing e-mail from the practice's account (it saw "
                "unusual sending), so reminders cannot be sent.",
                "Sign in to the practice's Zoho Mail account in a web browser and use the "
                "unblock link in Zoho's message (or ask Zoho support to unblock it); then "
                "run: spool resume"},
        {"ses-sending-paused",
                {"no-reply-aws@amazon.com", "aws-trust-and-safety@amazon.com", "@aws.amazon.com",
                        "@amazonaws.com", "@amazonses.com"},
                {"sending paused", "sending has been paused", "sending is paused", "sending pause",
                        "sending has been suspended", "sending suspended"},
                "Amazon SES has paused sending for the practice's account (usually because "
                "of too many bounces or complaints), so reminders cannot be sent.",
                "Ask whoever manages the practice's Amazon Web Services account to read "
                "AWS's message and answer it in the AWS console (SES account dashboard); "
                "then run: spool resume"},
};

/* sender_is - 1 when address a is the sender pattern p */
static int sender_is(const char *a, const char *p)
{
	const char *at = strrchr(a, '@');
	size_t dl, pl;

	if (p[0] != '@')
		return strcasecmp(a, p) == 0;
	if (at == NULL || at == a)
		return 0;
	dl = strlen(at + 1);
	pl = strlen(p + 1);
	return strcasecmp(at + 1, p + 1) == 0 ||
	       (dl > pl && at[dl - pl] == '.' && strcasecmp(at + 1 + dl - pl, p + 1) == 0);
}

/* a_reply - 1 when the (normalised) subject marks a reply or a forward */
static int a_reply(const char *s)
{
	static const char *const pre[] = {"re:", "re :", "fw:", "fwd:", "aw:", "sv:", "tr:"};
	size_t i;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (strncmp(s, pre[i], strlen(pre[i])) == 0)
			return 1;
	return 0;
}

/* dsn_notice - a provider notice */
int dsn_notice(const struct dsn_ctx *c, struct dsn *out)
{
	const struct notice *n;
	size_t i, k;
	int from;

	if (!c->from[0] || !c->lsubject[0] || a_reply(c->lsubject))
		return 0;
	for (i = 0; i < sizeof(notices) / sizeof(notices[0]); i++) {
		n = &notices[i];
		for (from = 0, k = 0; k < MAXS && n->senders[k] && !from; k++)
			from = sender_is(c->from, n->senders[k]);
		for (k = 0; from && k < MAXS && n->subjects[k]; k++)
			if (strstr(c->lsubject, n->subjects[k])) {
				out->kind = DSN_NOTICE;
				snprintf(out->notice, sizeof(out->notice), "%s", n->id);
				snprintf(out->reason, sizeof(out->reason), "%s", n->reason);
				snprintf(out->action, sizeof(out->action), "%s", n->action);
				return 1;
			}
	}
	return 0;
}
