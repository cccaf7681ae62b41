/*
 * spoold - the spool daemon: watches new/, sends, files every job.
 *
 * Usage: spoold [-c FILE] [-f] [-d] [-q]
 *   -c FILE  configuration (else $SPOOLD_CONF, else /etc/spoold.conf)
 *   -f       stay in the foreground and log to stderr (else syslog LOG_MAIL)
 *   -d       debug logging
 *   -q       quit when idle: once nothing is due, flush and exit 0
 *
 * The loop: inotify on new/ wakes it for new work (a full rescan only at
 * start-up and on IN_Q_OVERFLOW); a timer wakes it for the earliest
 * deferred job; signals arrive through a signalfd and are looked at
 * between jobs, so SIGTERM finishes the message in flight, then exits 0,
 * and SIGHUP re-reads the configuration (a job prepared ahead, see
 * deliver.c, is put back first, uncharged).  Started as root it becomes
 * the configured user before it touches the spool.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "reason.h"
#include "spoold.h"
#include "tmplset.h"

/* While draining, the moves are made durable (one syncfs) every FLUSH_EVERY
 * jobs, or FLUSH_MS after the first unsynced one, whichever comes first;
 * their log lines wait for it.  A sync costs milliseconds whatever it
 * covers: every 64 jobs it was a third of a drain's time on this project's
 * test machine, every 256 it is a tenth. */
#define FLUSH_EVERY 256
#define FLUSH_MS 1000

static int sigfd = -1, infd = -1, state_wd = -1;
static int want_stop, want_reload, quit_when_idle;
static const char *conf_file;

/* usage - the synopsis, then exit */
static void usage(int code)
{
	fprintf(code ? stderr : stdout,
	        "usage: spoold [-c FILE] [-f] [-d] [-q]\n"
	        "  -c FILE  configuration file (default: $SPOOLD_CONF, else /etc/spoold.conf)\n"
	        "  -f       foreground, log to stderr\n"
	        "  -d       debug logging\n"
	        "  -q       exit once nothing is due (for demos and batch runs)\n");
	exit(code);
}

/* drop_privileges - become conf.user when started as root */
static void drop_privileges(const struct conf *c)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	pw = c->user ? getpwnam(c->user) : NULL;
	if (!pw) {
		log_warnx("user \"%s\" does not exist: create it (useradd --system %s) or set "
		          "user = in %s",
		        c->user ? c->user : "", c->user ? c->user : "spoold", c->path);
		exit(EX_NOUSER);
	}
	if (pw->pw_uid == 0) {
		log_warnx("running as root (user = %s); a dedicated user is safer", c->user);
		return;
	}
	if (setgroups(0, NULL) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	        setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_warn("cannot become user %s", pw->pw_name);
		exit(EX_OSERR);
	}
	if (setuid(0) == 0) {
		log_warnx("still able to regain root; refusing to run");
		exit(EX_OSERR);
	}
}

/* check_relay - what delivery needs, named precisely */
static int check_relay(const struct conf *c)
{
	if (!c->relay.host) {
		log_warnx("%s: [relay] host is not set; spoold cannot send", c->path);
		return -1;
	}
	if (!c->relay.from) {
		log_warnx("%s: [relay] from is not set; spoold cannot send", c->path);
		return -1;
	}
	return 0;
}

static void apply_timezone(const struct conf *c);

/* reload - SIGHUP: read the configuration again; keep the old one on error */
static void reload(struct daemon *d)
{
	struct conf c;
	char err[1024];

	if (conf_load(&c, d->conf.path, err, sizeof err) < 0) {
		log_warnx("reload: %s; keeping the configuration in use", err);
		return;
	}
	if (check_relay(&c) < 0) {
		conf_free(&c);
		return;
	}
	if (strcmp(c.spool_dir, d->conf.spool_dir))
		log_warnx("reload: spool_dir changes only at restart; still using %s",
		        d->conf.spool_dir);
	struct conf old = d->conf;
	d->conf = c;
	relay_reload(d, &old);
	conf_free(&old);
	apply_timezone(&d->conf);
	tmplset_cache_clear();
	log_info("configuration reloaded from %s", d->conf.path);
}

/* scan_one - spooldir_each callback: index one job */
static int scan_one(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	struct daemon *d = arg;

	(void)sd;
	deliver_consider(d, f, name, st, time(NULL));
	return 0;
}

/* rescan - forget the index and read new/ and deferred/ again */
static void rescan(struct daemon *d)
{
	queue_free(&d->q);
	spooldir_each(&d->sd, F_NEW, 1, scan_one, d);
	spooldir_each(&d->sd, F_DEFERRED, 1, scan_one, d);
	log_info("spool %s: %zu jobs waiting", d->sd.path, queue_size(&d->q));
}

/* read_signals - note what arrived; never blocks */
static void read_signals(void)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP)
			want_reload = 1;
		else
			want_stop = 1;
	}
}

/* read_inotify - index what arrived in new/; 1 when a rescan is needed */
static int read_inotify(struct daemon *d)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	int overflow = 0;
	ssize_t n;

	while ((n = read(infd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			struct stat st;
			if (ev->mask & IN_Q_OVERFLOW)
				overflow = 1;
			else if (ev->wd == state_wd) {
				if (ev->len && !strncmp(ev->name, "account-", 8))
					relay_state_changed(d);
			} else if (ev->len && ev->name[0] != '.' &&
			           fstatat(d->sd.fd[F_NEW], ev->name, &st, AT_SYMLINK_NOFOLLOW) ==
			                   0)
				deliver_consider(d, F_NEW, ev->name, &st, time(NULL));
			p += sizeof *ev + ev->len;
		}
	}
	return overflow;
}

/* housekeeping - prune sent/ and stale markers, at most hourly */
static void housekeeping(struct daemon *d, time_t now, time_t *next)
{
	if (now < *next)
		return;
	int n = spooldir_prune(&d->sd, now, d->conf.sent_days, d->conf.dedupe_days);
	if (n > 0)
		log_info("pruned %d sent jobs and markers older than their window", n);
	*next = now + 3600;
}

/* wait_ms - how long the loop may sleep, given when it must wake (ms) */
static int wait_ms(int64_t now_ms, int64_t wake_ms)
{
	if (wake_ms <= now_ms)
		return 0;
	return wake_ms - now_ms > 3600000 ? 3600000 : (int)(wake_ms - now_ms);
}

/* earliest - the sooner of two wake times (0: none) */
static int64_t earliest(int64_t a, int64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/* apply_timezone - the practice's zone for Date headers and quiet hours */
static void apply_timezone(const struct conf *c)
{
	if (c->timezone && setenv("TZ", c->timezone, 1) == 0)
		tzset();
	reason_set_zone(c->timezone);
}

/* setup_events - signalfd and inotify */
static void setup_events(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	infd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sigfd < 0 || infd < 0) {
		log_warn("signalfd/inotify");
		exit(EX_OSERR);
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/new", d->sd.path);
	if (inotify_add_watch(infd, path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		log_warn("inotify_add_watch %s", path);
		exit(EX_OSERR);
	}
	/* spool resume writes state/account-*: notice it at once. */
	snprintf(path, sizeof path, "%s/state", d->sd.path);
	state_wd = inotify_add_watch(infd, path, IN_MOVED_TO | IN_CLOSE_WRITE);
	if (state_wd < 0)
		log_warn("inotify_add_watch %s (spool resume is noticed at the next start)", path);
}

/* run - the event loop */
static void run(struct daemon *d)
{
	time_t next_house = 0;

	/* Pruning first: it reads sent/ and ids/ whole, cheapest before the
	 * spool's new work joins them (and a drain may end before an hour). */
	housekeeping(d, time(NULL), &next_house);
	for (;;) {
		/* One look at both descriptors; each is read only when it has
		 * something (between jobs of a drain, neither has). */
		struct pollfd ev[2] = {{sigfd, POLLIN, 0}, {infd, POLLIN, 0}};
		int ready = poll(ev, 2, 0);
		if (ready != 0 && (ready < 0 || ev[0].revents))
			read_signals();
		if (want_stop)
			break;
		if (want_reload) {
			want_reload = 0;
			deliver_put_back(d);
			reload(d);
		}
		if (ready != 0 && (ready < 0 || ev[1].revents) && read_inotify(d))
			rescan(d);
		int64_t now_ms = pace_now_ms(), relay_wake = 0;
		time_t now = (time_t)(now_ms / 1000);
		queue_promote(&d->q, now);
		int64_t verify_at = verify_wake(d);
		if (verify_at && verify_at <= now_ms) {
			deliver_put_back(d);
			deliver_flush(d);
			verify_run(d);
			continue;
		}
		int r = relay_pick(d, now_ms, &relay_wake);
		/* A job prepared ahead goes only on the relay it was made for. */
		if (d->ahead && r != d->ahead_relay)
			deliver_put_back(d);
		/* Not while a job is prepared ahead: its MAIL may be on the connection. */
		if (r >= 0 && !d->ahead && (relay_probe(d, r) || verify_canary(d, r)))
			continue;
		struct qjob *top = queue_peek(&d->q);
		/* With no relay able to send, only jobs that expire are taken. */
		if (d->ahead || (top && (r >= 0 || top->expires <= now))) {
			struct qjob *qj = d->ahead ? NULL : queue_pop(&d->q);
			/* Draining: the next job is made while the server takes this one. */
			int ahead = r >= 0 && relay_ahead_ok(d, r, now_ms) &&
			            (!verify_at || verify_at > now_ms + 1000) &&
			            !verify_canary_due(d);
			deliver_run(d, qj, r, ahead);
			free(qj);
			if (d->unflushed >= FLUSH_EVERY ||
			        (d->unflushed && pace_now_ms() - d->unflushed_ms >= FLUSH_MS)) {
				deliver_flush(d);
				daemon_status(d, pace_now_ms(), 0);
			}
			continue;
		}
		deliver_flush(d);
		housekeeping(d, now, &next_house);
		int64_t wake = (int64_t)next_house * 1000;
		wake = earliest(wake, daemon_status(d, now_ms, 0));
		wake = earliest(wake, (int64_t)queue_next_due(&d->q) * 1000);
		wake = earliest(wake, (int64_t)relay_idle(d, now) * 1000);
		wake = earliest(wake, verify_at);
		if (top) {
			wake = earliest(wake, relay_wake);
			wake = earliest(wake, (int64_t)top->expires * 1000);
		}
		/* -q: stop once nothing can be done now and nothing is merely paced. */
		if (quit_when_idle && (!top || !relay_wake) &&
		        (!queue_next_due(&d->q) || queue_next_due(&d->q) > now))
			break;
		struct pollfd pfd[2] = {{sigfd, POLLIN, 0}, {infd, POLLIN, 0}};
		if (poll(pfd, 2, wait_ms(now_ms, wake)) < 0 && errno != EINTR) {
			log_warn("poll");
			break;
		}
	}
	deliver_put_back(d); /* prepared ahead, not started: it waits for the next start */
	deliver_flush(d);
}

int main(int argc, char **argv)
{
	struct daemon d = {0};
	struct spooldir_recovery rec;
	char err[1024];
	int fg = 0, ch;

	while ((ch = getopt(argc, argv, "c:fdqhV")) != -1) {
		switch (ch) {
		case 'c':
			conf_file = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'd':
			log_set_debug(1);
			break;
		case 'q':
			quit_when_idle = 1;
			break;
		case 'V':
			puts("spoold 0.1");
			return 0;
		case 'h':
			usage(0);
			break;
		default:
			usage(EX_USAGE);
		}
	}
	if (optind != argc)
		usage(EX_USAGE);
	log_open("spoold", fg);
	if (conf_load(&d.conf, conf_path(conf_file), err, sizeof err) < 0) {
		log_warnx("%s", err);
		return EX_CONFIG;
	}
	if (check_relay(&d.conf) < 0)
		return EX_CONFIG;
	drop_privileges(&d.conf);
	if (spooldir_open(&d.sd, d.conf.spool_dir, 1, err, sizeof err) < 0) {
		log_warnx("%s", err);
		return EX_CANTCREAT;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	setup_events(&d);
	if (spooldir_recover(&d.sd, time(NULL), &rec) == 0 &&
	        (rec.active_returned || rec.duplicates || rec.tmp_removed || rec.temps_removed ||
	                rec.corrupt || rec.staged_finished))
		log_info("recovery: %d interrupted jobs returned to new/, %d duplicate names "
		         "resolved, %d stale tmp/ files and %d temporaries removed, %d bad files "
		         "moved to corrupt/, %d messages as sent put beside their jobs",
		        rec.active_returned, rec.duplicates, rec.tmp_removed, rec.temps_removed,
		        rec.corrupt, rec.staged_finished);
	spooldir_batch(&d.sd, 1);
	queue_init(&d.q);
	apply_timezone(&d.conf);
	relay_setup(&d);
	verify_setup(&d);
	status_load(&d.sc, &d.sd, time(NULL));
	d.status_dirty = 1;
	log_info("started: spool=%s relay=%s:%d tls=%s", d.conf.spool_dir, d.conf.relay.host,
	        d.conf.relay.port, conf_tls_name(d.conf.relay.tls));
	rescan(&d);
	run(&d);
	daemon_status(&d, pace_now_ms(), 1);
	verify_teardown(&d);
	relay_teardown(&d);
	reason_set_zone(NULL);
	queue_free(&d.q);
	free(d.logs);
	spooldir_gz_release();
	tmplset_cache_clear();
	spooldir_close(&d.sd);
	log_info("stopped");
	conf_free(&d.conf);
	close(sigfd);
	close(infd);
	return 0;
}
