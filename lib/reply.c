/*
 * reply - what an SMTP outcome means: one category per outcome.
 *
 * The interim plain RFC split, evaluated in this order:
 *   1. a TLS failure (tls_error, or any failure at STARTTLS)  -> tls-failed
 *   2. a step spoold refused itself (smtp_reply.refused): the sender at MAIL
 *      -> sender-rejected, the recipient at RCPT -> recipient-invalid,
 *      anything else (AUTH without TLS, no usable AUTH mechanism, a bad EHLO
 *      name) -> auth-failed, since the account settings must change
 *   3. no reply (code 0): after the final dot -> unknown-outcome (the server
 *      may have accepted the message), elsewhere -> transient
 *   4. 4xx at any stage -> transient
 *   5. 5xx by stage: connect/ehlo -> account-blocked, auth -> auth-failed,
 *      mail -> sender-rejected, rcpt -> recipient-invalid, data/data-end ->
 *      message-rejected
 *   6. anything else (an unexpected 2xx/3xx) -> transient
 * Pure: no state, no allocation.  The provider-aware classifier (provider
 * text first) replaces reply_classify's body without changing the interface.
 */
#include "reply.h"

/* reply_classify - the category of a failed step (never CAT_SENT) */
enum category reply_classify(const struct smtp_reply *r)
{
	if (r->tls_error || r->stage == STAGE_STARTTLS)
		return CAT_TLS_FAILED;
	if (r->refused) {
		if (r->stage == STAGE_MAIL)
			return CAT_SENDER_REJECTED;
		if (r->stage == STAGE_RCPT)
			return CAT_RECIPIENT_INVALID;
		if (r->stage == STAGE_DATA || r->stage == STAGE_DATA_END)
			return CAT_MESSAGE_REJECTED;
		return CAT_AUTH_FAILED;
	}
	if (r->code == 0)
		return r->stage == STAGE_DATA_END ? CAT_UNKNOWN_OUTCOME : CAT_TRANSIENT;
	if (r->code >= 400 && r->code < 500)
		return CAT_TRANSIENT;
	if (r->code >= 500 && r->code < 600) {
		switch (r->stage) {
		case STAGE_CONNECT:
		case STAGE_EHLO:
			return CAT_ACCOUNT_BLOCKED;
		case STAGE_AUTH:
			return CAT_AUTH_FAILED;
		case STAGE_MAIL:
			return CAT_SENDER_REJECTED;
		case STAGE_RCPT:
			return CAT_RECIPIENT_INVALID;
		case STAGE_DATA:
		case STAGE_DATA_END:
			return CAT_MESSAGE_REJECTED;
		case STAGE_STARTTLS:
			return CAT_TLS_FAILED;
		}
	}
	return CAT_TRANSIENT;
}

/* reply_category_name - "sent", "account-blocked", ... */
const char *reply_category_name(enum category c)
{
	switch (c) {
	case CAT_SENT:
		return "sent";
	case CAT_ACCOUNT_BLOCKED:
		return "account-blocked";
	case CAT_RATE_LIMITED:
		return "rate-limited";
	case CAT_AUTH_FAILED:
		return "auth-failed";
	case CAT_SENDER_REJECTED:
		return "sender-rejected";
	case CAT_RECIPIENT_INVALID:
		return "recipient-invalid";
	case CAT_MESSAGE_REJECTED:
		return "message-rejected";
	case CAT_TLS_FAILED:
		return "tls-failed";
	case CAT_TRANSIENT:
		return "transient";
	case CAT_UNKNOWN_OUTCOME:
		return "unknown-outcome";
	}
	return "unknown";
}

/* reply_job_fails - 1 when the category fails this one job */
int reply_job_fails(enum category c)
{
	return c == CAT_RECIPIENT_INVALID || c == CAT_MESSAGE_REJECTED;
}

/* reply_stops_account - 1 when sending must stop for every job */
int reply_stops_account(enum category c)
{
	return c == CAT_ACCOUNT_BLOCKED || c == CAT_AUTH_FAILED || c == CAT_SENDER_REJECTED ||
	       c == CAT_TLS_FAILED || c == CAT_RATE_LIMITED;
}

/* reply_explain - a plain-English sentence for staff */
const char *reply_explain(enum category c)
{
	switch (c) {
	case CAT_SENT:
		return "The e-mail was handed to the mail provider for delivery.";
	case CAT_ACCOUNT_BLOCKED:
		return "The mail provider has blocked or suspended the practice's e-mail account: "
		       "someone must sign in to the account on the provider's website (and may "
		       "have "
		       "to pass a security check), then tell spoold to resume; every e-mail waits "
		       "until then.";
	case CAT_RATE_LIMITED:
		return "The mail provider is limiting how many e-mails the account may send for "
		       "now, "
		       "so sending pauses and resumes by itself later; no e-mail is lost.";
	case CAT_AUTH_FAILED:
		return "The mail provider did not accept the account's user name or password, or "
		       "the "
		       "mail settings do not allow a safe sign-in: check the account settings, "
		       "then "
		       "retry.";
	case CAT_SENDER_REJECTED:
		return "The mail provider will not let this account send from the configured From "
		       "address: check that the address belongs to the account, then retry.";
	case CAT_RECIPIENT_INVALID:
		return "The patient's e-mail address does not exist or no longer accepts mail: "
		       "confirm the address with the patient.";
	case CAT_MESSAGE_REJECTED:
		return "The mail provider refused this particular e-mail, often because it looked "
		       "like spam or broke one of its rules, so it will not be sent as it is.";
	case CAT_TLS_FAILED:
		return "A secure connection to the mail server could not be set up or its identity "
		       "could not be confirmed, so nothing was sent: check the mail server "
		       "settings or ask your IT contact.";
	case CAT_TRANSIENT:
		return "The mail server could not be reached or asked to try again later; the "
		       "e-mail will be retried automatically.";
	case CAT_UNKNOWN_OUTCOME:
		return "The connection broke just as the e-mail was being handed over, so it may "
		       "or may not have arrived; it will be tried again later, so the patient "
		       "may receive it twice.";
	}
	return "The outcome is unknown.";
}
