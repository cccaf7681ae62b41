/*
 * ics - the appointment as an iCalendar event, made with libical (loaded on
 * first use); see ics.h.
 *
 * libical's built-in zones carry their whole history since the 1880s and a
 * TZID of "/freeassociation.sourceforge.net/Area/City"; the VTIMEZONE we
 * attach is a copy cut to a year either side of the appointment
 * (icaltimezone_truncate_vtimezone in its Microsoft-compatible form: one
 * STANDARD and one DAYLIGHT rule with RRULEs, where the other form writes
 * RDATEs in UTC, which RFC 5545 does not allow in a VTIMEZONE) with TZID
 * set to the IANA name, which is what calendar programs show and look up.
 */
#include <dlfcn.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datefmt.h"
#include "ics.h"
#include "rfc2047.h"

/*
 * libical is loaded when the first calendar event is made, not linked:
 * it brings ICU and the C++ runtime, several megabytes of memory that a
 * daemon without .ics attachments (the default) should not carry.
 */
#define ICAL_FUNCTIONS                                                                             \
	X(icalcomponent_add_component)                                                             \
	X(icalcomponent_add_property)                                                              \
	X(icalcomponent_as_ical_string_r)                                                          \
	X(icalcomponent_free)                                                                      \
	X(icalcomponent_get_first_property)                                                        \
	X(icalcomponent_new)                                                                       \
	X(icalcomponent_new_clone)                                                                 \
	X(icalparameter_new_cn)                                                                    \
	X(icalparameter_new_tzid)                                                                  \
	X(icalproperty_add_parameter)                                                              \
	X(icalproperty_new_calscale)                                                               \
	X(icalproperty_new_dtend)                                                                  \
	X(icalproperty_new_dtstamp)                                                                \
	X(icalproperty_new_dtstart)                                                                \
	X(icalproperty_new_location)                                                               \
	X(icalproperty_new_method)                                                                 \
	X(icalproperty_new_organizer)                                                              \
	X(icalproperty_new_prodid)                                                                 \
	X(icalproperty_new_status)                                                                 \
	X(icalproperty_new_summary)                                                                \
	X(icalproperty_new_uid)                                                                    \
	X(icalproperty_new_version)                                                                \
	X(icalproperty_set_tzid)                                                                   \
	X(icaltime_from_timet_with_zone)                                                           \
	X(icaltimezone_get_builtin_timezone)                                                       \
	X(icaltimezone_get_component)                                                              \
	X(icaltimezone_get_utc_timezone)                                                           \
	X(icaltimezone_truncate_vtimezone)

#define X(f) __typeof__(f) *f;
static struct {
	ICAL_FUNCTIONS
} ical;
#undef X
static int ical_loaded;

/* ical_load - dlopen libical once; 0 ok, -1 with the reason */
static int ical_load(char *err, size_t errlen)
{
	void *h;

	if (ical_loaded)
		return 0;
	h = dlopen("libical.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load libical for the calendar event: %s", dlerror());
		return -1;
	}
#define X(f)                                                                                       \
	if (!(*(void **)&ical.f = dlsym(h, #f))) {                                                 \
		snprintf(err, errlen, "libical has no %s", #f);                                    \
		return -1;                                                                         \
	}
	ICAL_FUNCTIONS
#undef X
	ical_loaded = 1;
	return 0;
}

#define icalcomponent_add_component ical.icalcomponent_add_component
#define icalcomponent_add_property ical.icalcomponent_add_property
#define icalcomponent_as_ical_string_r ical.icalcomponent_as_ical_string_r
#define icalcomponent_free ical.icalcomponent_free
#define icalcomponent_get_first_property ical.icalcomponent_get_first_property
#define icalcomponent_new ical.icalcomponent_new
#define icalcomponent_new_clone ical.icalcomponent_new_clone
#define icalparameter_new_cn ical.icalparameter_new_cn
#define icalparameter_new_tzid ical.icalparameter_new_tzid
#define icalproperty_add_parameter ical.icalproperty_add_parameter
#define icalproperty_new_calscale ical.icalproperty_new_calscale
#define icalproperty_new_dtstamp ical.icalproperty_new_dtstamp
#define icalproperty_new_dtend ical.icalproperty_new_dtend
#define icalproperty_new_dtstart ical.icalproperty_new_dtstart
#define icalproperty_new_location ical.icalproperty_new_location
#define icalproperty_new_method ical.icalproperty_new_method
#define icalproperty_new_organizer ical.icalproperty_new_organizer
#define icalproperty_new_prodid ical.icalproperty_new_prodid
#define icalproperty_new_status ical.icalproperty_new_status
#define icalproperty_new_summary ical.icalproperty_new_summary
#define icalproperty_new_uid ical.icalproperty_new_uid
#define icalproperty_new_version ical.icalproperty_new_version
#define icalproperty_set_tzid ical.icalproperty_set_tzid
#define icaltime_from_timet_with_zone ical.icaltime_from_timet_with_zone
#define icaltimezone_get_builtin_timezone ical.icaltimezone_get_builtin_timezone
#define icaltimezone_get_component ical.icaltimezone_get_component
#define icaltimezone_get_utc_timezone ical.icaltimezone_get_utc_timezone
#define icaltimezone_truncate_vtimezone ical.icaltimezone_truncate_vtimezone

#define YEAR (366 * 86400)

/* ics_uid - the appointment's identity: the id without "-reminder..." */
char *ics_uid(const struct job *j, const struct conf *c, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *dom = c->relay.from ? strrchr(c->relay.from, '@') : NULL;
	const char *end = j->id + strlen(j->id), *r, *p;
	size_t o = 0;

	/* The last "-reminder" that ends the id or is followed by '-'. */
	for (p = j->id; (r = strstr(p, "-reminder")) != NULL; p = r + 1)
		if (r > j->id && (r[9] == '\0' || r[9] == '-'))
			end = r;
	for (p = j->id; p < end && o + 4 < len; p++) {
		unsigned char ch = (unsigned char)*p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-') {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	snprintf(buf + o, len - o, "@%s", dom ? dom + 1 : "spoold.invalid");
	return buf;
}

/* clean - job text safe for an iCalendar value (libical escapes , ; \ and
 * newlines); without_quotes also drops '"' (not allowed in parameters) */
static char *clean(const char *s, int without_quotes)
{
	char *t = rfc2047_clean(s ? s : "");

	if (t && without_quotes) {
		char *o = t;
		for (const char *p = t; *p; p++)
			if (*p != '"')
				*o++ = *p;
		*o = '\0';
	}
	return t;
}

/* summary - "Appointment with Dr. X" / "Cita con Dr. X" */
static char *summary(const struct job *j)
{
	const char *prov = job_get_str(j, "appointment.provider");
	const char *prac = job_get_str(j, "practice.name");
	int es = datefmt_spanish(j->locale);
	const char *t;
	char *s, *u;
	size_t n;

	if (prov && *prov)
		t = prov;
	else if (prac && *prac)
		t = prac;
	else
		return strdup(es ? "Cita" : "Appointment");
	n = strlen(t) + 32;
	if (!(s = malloc(n)))
		return NULL;
	if (t == prov)
		snprintf(s, n, "%s %s", es ? "Cita con" : "Appointment with", t);
	else
		snprintf(s, n, "%s %s", es ? "Cita en" : "Appointment at", t);
	u = clean(s, 0);
	free(s);
	return u;
}

/* zone_component - the zone's VTIMEZONE cut to the appointment, TZID = name */
static icalcomponent *zone_component(icaltimezone *z, const char *name, time_t start, time_t end)
{
	icalcomponent *vtz = icaltimezone_get_component(z);
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	icalproperty *p;

	if (!vtz || !(vtz = icalcomponent_new_clone(vtz)))
		return NULL;
	icaltimezone_truncate_vtimezone(vtz, icaltime_from_timet_with_zone(start - YEAR, 0, utc),
	        icaltime_from_timet_with_zone(end + YEAR, 0, utc), 1);
	if ((p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY)) != NULL)
		icalproperty_set_tzid(p, name);
	return vtz;
}

/* zoned - a DTSTART/DTEND-style property at t: local time with TZID, or UTC */
static icalproperty *zoned(
        icalproperty *(*make)(struct icaltimetype), time_t t, icaltimezone *z, const char *name)
{
	icalproperty *p;

	if (!z)
		return make(icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone()));
	struct icaltimetype tt = icaltime_from_timet_with_zone(t, 0, z);
	tt.zone = NULL; /* written as local time; the TZID parameter says where */
	p = make(tt);
	icalproperty_add_parameter(p, icalparameter_new_tzid(name));
	return p;
}

/* organizer - ORGANIZER;CN=practice:mailto:address, or NULL */
static icalproperty *organizer(const struct job *j, const struct conf *c)
{
	const char *addr = c->message.organizer ? c->message.organizer : c->relay.from;
	const char *prac = job_get_str(j, "practice.name");
	icalproperty *p;
	char *uri, *cn;
	size_t n;

	if (!addr || !*addr)
		return NULL;
	n = strlen(addr) + 8;
	if (!(uri = malloc(n)))
		return NULL;
	snprintf(uri, n, "mailto:%s", addr);
	p = icalproperty_new_organizer(uri);
	free(uri);
	if (p && prac && (cn = clean(prac, 1)) != NULL) {
		if (*cn)
			icalproperty_add_parameter(p, icalparameter_new_cn(cn));
		free(cn);
	}
	return p;
}

/* ics_event - the VCALENDAR for the job's appointment */
char *ics_event(const struct job *j, const struct conf *c, time_t now, char *err, size_t errlen)
{
	json_t *min = json_object_get(json_object_get(j->root, "appointment"), "minutes");
	const char *loc = job_get_str(j, "appointment.location");
	icaltimezone *z = NULL;
	icalcomponent *cal, *ev, *vtz;
	char zname[256], uid[1024], *text, *s;
	time_t end = j->appt_start;
	icalproperty *org;

	if (ical_load(err, errlen) < 0)
		return NULL;
	if (!j->appt_start) {
		snprintf(err, errlen, "no appointment.start for the calendar event");
		return NULL;
	}
	if (c->timezone && !datefmt_zone_known(c->timezone)) {
		snprintf(err, errlen, "timezone \"%s\" is not a time zone this system knows",
		        c->timezone);
		return NULL;
	}
	if (datefmt_zone_name(c->timezone, zname, sizeof zname) && strcmp(zname, "UTC") &&
	        strcmp(zname, "Etc/UTC"))
		z = icaltimezone_get_builtin_timezone(zname);
	if (json_is_integer(min))
		end += (time_t)json_integer_value(min) * 60;

	cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(cal, icalproperty_new_prodid("-//spoold//spoold//EN"));
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH));
	if (z && (vtz = zone_component(z, zname, j->appt_start, end)) != NULL)
		icalcomponent_add_component(cal, vtz);
	else
		z = NULL;

	ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	icalcomponent_add_property(ev, icalproperty_new_uid(ics_uid(j, c, uid, sizeof uid)));
	icalcomponent_add_property(ev, icalproperty_new_dtstamp(icaltime_from_timet_with_zone(
	                                       now, 0, icaltimezone_get_utc_timezone())));
	icalcomponent_add_property(ev, zoned(icalproperty_new_dtstart, j->appt_start, z, zname));
	if (end != j->appt_start)
		icalcomponent_add_property(ev, zoned(icalproperty_new_dtend, end, z, zname));
	if ((s = summary(j)) != NULL) {
		icalcomponent_add_property(ev, icalproperty_new_summary(s));
		free(s);
	}
	if (!loc || !*loc)
		loc = job_get_str(j, "practice.address");
	if (loc && (s = clean(loc, 0)) != NULL) {
		if (*s)
			icalcomponent_add_property(ev, icalproperty_new_location(s));
		free(s);
	}
	if ((org = organizer(j, c)) != NULL)
		icalcomponent_add_property(ev, org);
	icalcomponent_add_property(ev, icalproperty_new_status(ICAL_STATUS_CONFIRMED));
	icalcomponent_add_component(cal, ev);

	text = icalcomponent_as_ical_string_r(cal);
	icalcomponent_free(cal);
	if (!text)
		snprintf(err, errlen, "the calendar event could not be written");
	return text;
}
