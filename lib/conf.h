/*
 * conf - /etc/spoold.conf, an INI file read with libinih.
 *
 * conf_load fills a struct conf with defaults, then the file's values; an
 * unknown section or key, a bad value, or a secret file readable by group
 * or others is an error naming the file and line.  The struct owns every
 * string in it; conf_free releases them.  Defaults are documented in
 * spoold.conf.example and README.md.
 */
#ifndef SPOOLD_CONF_H
#define SPOOLD_CONF_H

#include <stddef.h>

#define CONF_DEFAULT_PATH "/etc/spoold.conf"
#define CONF_DEFAULT_SPOOL "/var/spool/spoold"

enum tls_mode { TLS_STARTTLS, TLS_IMPLICIT, TLS_NONE };

/* How much about patients the status page (status.html, status.json) shows:
 * full (name, e-mail, appointment), initials ("J. D." and the appointment
 * time; the default: a front-desk screen may be seen by patients) or none. */
enum status_detail { STATUS_DETAIL_INITIALS, STATUS_DETAIL_FULL, STATUS_DETAIL_NONE };

/* Pacing limits; 0 = no limit, -1 = not set (the profile's value, else 0). */
struct pacing_conf {
	int per_minute, per_hour, per_day; /* messages in any sliding window */
	int connections;                   /* at most this many at once (spoold uses one) */
	int per_connection;                /* messages before a new connection */
	int min_gap_ms;                    /* between two messages, plus up to 25% jitter */
	int quiet_start, quiet_end;        /* minutes after midnight; -1: no quiet hours */
};

struct relay_conf {
	const char *section;       /* "relay", "fallback" or "alert_relay" (static) */
	int configured;            /* the section appears in the file */
	char *profile;             /* gmail, workspace, outlook, office365, yahoo, att, icloud,
	                              zoho, ses, custom; fills host, port, tls and limits */
	char *host;                /* required for delivery */
	int port;                  /* default 587 (STARTTLS), 465 (implicit), 25 (none) */
	enum tls_mode tls;         /* "starttls" (default), "implicit", "none" */
	int tls_set;               /* tls was given in the file */
	char *ca_file;             /* NULL: the system trust store */
	char *user;                /* NULL: no AUTH */
	char *password_file;       /* mode 0600 or 0400, read by conf_load */
	char *password;            /* loaded from password_file; never logged */
	char *from;                /* envelope and header sender (required for [relay]) */
	char *from_name;           /* display name for From:, may be NULL */
	char *helo;                /* EHLO name; NULL: the host name */
	int timeout;               /* seconds per step (connect, each command, DATA); default 30 */
	int idle;                  /* seconds an idle connection is kept open; default 30 */
	struct pacing_conf pacing; /* [pacing] for [relay]; inline keys for [fallback] */
};

struct alerts_conf {
	char *command;       /* run with SPOOL_EVENT etc. in its environment */
	int command_timeout; /* seconds; default 30 */
	char *alert_to;      /* e-mail through [alert_relay], never the blocked account */
};

struct message_conf {
	int ics;                  /* attach an iCalendar event to reminders; default 0 */
	char *unsubscribe_mailto; /* recalls' List-Unsubscribe mailto:; default relay.from */
	char *unsubscribe_url;    /* https: one-click URL (RFC 8058); NULL: none */
	char *organizer;          /* the .ics ORGANIZER address; default relay.from */
};

/* An IMAP account for the delivery checks: [verify] (usually the sending
 * account) or [canary] (a mailbox the practice controls elsewhere). */
struct imap_account_conf {
	const char *section; /* "verify" or "canary" (static) */
	int configured;      /* the section appears in the file */
	char *profile;       /* fills host, port, tls and the folder names */
	char *host;
	int port;          /* default 993 (implicit), 143 (starttls or none) */
	enum tls_mode tls; /* default implicit */
	int tls_set;
	char *ca_file;       /* NULL: the system trust store */
	char *user;          /* [verify]: default relay.user */
	char *password_file; /* [verify]: default relay.password_file; mode 0600 */
	char *password;      /* loaded from password_file; never logged */
	int timeout;         /* seconds per step; default 30 */
	char *folder;        /* [verify]: INBOX (default "INBOX"); [canary]: where it arrives */
};

/* On suspicion (a canary or a Sent copy missing): slow to a trickle or stop. */
enum suspect_mode { SUSPECT_SLOW, SUSPECT_STOP };

/* [verify]: what spoold checks after the provider said 250 (conf_verify.c). */
struct verify_conf {
	struct imap_account_conf imap;   /* [verify] */
	struct imap_account_conf canary; /* [canary]: canary_to's own mailbox */
	char *sent_folder;            /* the profile's ("[Gmail]/Sent Mail", "Sent Items", ...) */
	int sent_folder_auto;         /* not set: the folder marked \Sent, else sent_folder */
	int confirm_sent;             /* look each sent message up in Sent; profile default */
	int confirm_minutes;          /* it must be there within this; default 10 */
	int check_minutes;            /* a check at least this often; default 5 */
	int burst_seconds;            /* and once sending has been quiet this long; default 60 */
	char *canary_to;              /* NULL: no canary */
	int canary_every;             /* a canary every N messages; default 100 */
	int canary_minutes;           /* or every N minutes while sending; default 60 */
	int canary_wait;              /* minutes it may take to arrive; default 30 */
	enum suspect_mode on_suspect; /* default slow */
	int trickle_minutes;          /* suspect and slow: one message per N minutes; default 10 */
};

struct conf {
	char *path;            /* the file read */
	char *spool_dir;       /* default CONF_DEFAULT_SPOOL */
	char *user;            /* daemon user; default "spoold" */
	char *timezone;        /* practice time zone, IANA name; NULL: the system's */
	char *templates_dir;   /* the practice's templates, looked up before SHAREDIR's */
	int dedupe_days;       /* default 7 */
	int sent_days;         /* default 30 */
	int recall_days;       /* default expiry of jobs without an appointment: 30 */
	int retry_max_minutes; /* cap of the transient backoff: 60 */
	char *probe_to;        /* the practice's own address for the probe after resume */
	enum status_detail status_detail; /* default STATUS_DETAIL_INITIALS */
	struct relay_conf relay;          /* the practice's account */
	struct relay_conf fallback;       /* used while relay is blocked or rate-limited */
	struct relay_conf alert_relay;    /* carries alert e-mail */
	struct message_conf message;
	struct alerts_conf alerts;
	struct verify_conf verify; /* [verify] and [canary] */
};

/* conf_path - the configuration file: opt, else $SPOOLD_CONF, else the default */
const char *conf_path(const char *opt);
/* conf_load - defaults, then PATH; 0 ok, -1 with the reason in err */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);
/* conf_load_nosecret - the same, without reading relay.password_file (for
 * staff who may read the configuration but not the secret) */
int conf_load_nosecret(struct conf *c, const char *path, char *err, size_t errlen);
/* conf_free - release every string */
void conf_free(struct conf *c);
/* conf_tls_name - "starttls", "implicit" or "none" */
const char *conf_tls_name(enum tls_mode m);
/* conf_status_detail_name - "full", "initials" or "none" */
const char *conf_status_detail_name(enum status_detail d);

#endif
