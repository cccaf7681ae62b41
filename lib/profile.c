/*
 * profile - provider profiles; see profile.h.  Limits are deliberately
 * below the published ones: a practice's reminders must never look like a
 * blast.  Sources: notes/providers.md, "Published sending limits".
 */
#include <string.h>

#include "profile.h"

static const struct profile profiles[] = {
        {"gmail", "smtp.gmail.com", 587, TLS_STARTTLS, 20, 150, 400, 1, 100, 1000,
                "consumer Gmail: about 500 a day"},
        {"workspace", "smtp.gmail.com", 587, TLS_STARTTLS, 30, 400, 1800, 1, 100, 500,
                "Google Workspace: 2,000 a day, rolling 24 h (500 on trial)"},
        {"outlook", "smtp-mail.outlook.com", 587, TLS_STARTTLS, 10, 60, 250, 1, 50, 2000,
                "Outlook.com: about 300 a day, less for new accounts"},
        {"office365", "smtp.office365.com", 587, TLS_STARTTLS, 25, 1000, 9000, 1, 100, 500,
                "Microsoft 365: 30 a minute, 10,000 recipients a day, 3 connections"},
        {"yahoo", "smtp.mail.yahoo.com", 465, TLS_IMPLICIT, 10, 100, 400, 1, 15, 2000,
                "Yahoo: drops after 20 messages per connection; about 500 a day"},
        {"att", "smtp.mail.att.net", 465, TLS_IMPLICIT, 10, 100, 400, 1, 15, 2000,
                "AT&T (Yahoo's servers): as Yahoo"},
        {"icloud", "smtp.mail.me.com", 587, TLS_STARTTLS, 20, 200, 900, 1, 100, 1000,
                "iCloud: 1,000 a day"},
        {"zoho", "smtp.zoho.com", 465, TLS_IMPLICIT, 5, 40, 400, 1, 50, 3000,
                "Zoho: 50 to 500 external messages an hour, dynamic"},
        {"ses", "email-smtp.us-east-1.amazonaws.com", 587, TLS_STARTTLS, 50, 2000, 180, 1, 100,
                1100, "Amazon SES sandbox: 200 a day, 1 a second; raise per_day to your quota"},
        {"custom", NULL, 0, TLS_STARTTLS, 0, 0, 0, 1, 0, 0, "no limits unless configured"},
};

/* profile_find - by name */
const struct profile *profile_find(const char *name)
{
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

/* Gmail and Microsoft file a copy of each SMTP submission in Sent; iCloud,
 * Yahoo and Zoho do not (notes/providers.md, "Accepted, then dropped"). */
static const struct profile_imap imaps[] = {
        {"gmail", "imap.gmail.com", "[Gmail]/Sent Mail", 1},
        {"workspace", "imap.gmail.com", "[Gmail]/Sent Mail", 1},
        {"outlook", "outlook.office365.com", "Sent Items", 1},
        {"office365", "outlook.office365.com", "Sent Items", 1},
        {"yahoo", "imap.mail.yahoo.com", "Sent", 0},
        {"att", "imap.mail.att.net", "Sent", 0},
        {"icloud", "imap.mail.me.com", "Sent Messages", 0},
        {"zoho", "imap.zoho.com", "Sent", 0},
};

/* profile_imap_find - by name */
const struct profile_imap *profile_imap_find(const char *name)
{
	for (size_t i = 0; i < sizeof imaps / sizeof imaps[0]; i++)
		if (!strcmp(imaps[i].name, name))
			return &imaps[i];
	return NULL;
}

/* profile_names - every name, for messages */
const char *profile_names(void)
{
	return "gmail, workspace, outlook, office365, yahoo, att, icloud, zoho, ses, custom";
}
