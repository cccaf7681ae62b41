/*
 * verify_state - the delivery checks' memory in state/verify; see
 * verify_state.h.  The file:
 *   {"version": 1, "last_check": "...", "last_send": "...",
 *    "last_ok": "...",
 *    "error": {"text": "[verify] cannot sign in ...", "since": "..."},
 *    "inbox": {"uidvalidity": 1, "uid": 42},
 *    "canary": {"id": "<...>", "sent": "...", "missing_id": "",
 *               "missing_sent": null, "since": 12, "last": "..."},
 *    "pending": [{"job": "...", "message_id": "<...>", "sent": "..."}]}
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "timefmt.h"
#include "verify_state.h"

#define VERIFY_FILE_MAX (64 * 1024 * 1024)

/* get_time - an RFC 3339 member, or 0 */
static time_t get_time(json_t *o, const char *key)
{
	time_t t = 0;
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || rfc3339_parse(s, &t, NULL) < 0)
		return 0;
	return t;
}

/* put_time - an RFC 3339 member, or null */
static void put_time(json_t *o, const char *key, time_t t)
{
	char buf[TIMEFMT_MAX];

	json_object_set_new(
	        o, key, t ? json_string(rfc3339_format(t, buf, sizeof buf)) : json_null());
}

/* get_str - a string member into buf ("" when absent) */
static void get_str(json_t *o, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(buf, len, "%s", s ? s : "");
}

/* verify_state_load - read state/verify */
int verify_state_load(struct spooldir *sd, struct verify_state *vs)
{
	json_t *o, *x, *arr;
	int r;

	memset(vs, 0, sizeof *vs);
	if ((r = state_read(sd, VERIFY_STATE_FILE, VERIFY_FILE_MAX, &o)) <= 0)
		return r;
	vs->last_check = get_time(o, "last_check");
	vs->last_send = get_time(o, "last_send");
	vs->last_ok = get_time(o, "last_ok");
	x = json_object_get(o, "error");
	get_str(x, "text", vs->error, sizeof vs->error);
	vs->error_since = get_time(x, "since");
	x = json_object_get(o, "inbox");
	vs->inbox_validity = (uint32_t)json_integer_value(json_object_get(x, "uidvalidity"));
	vs->inbox_uid = (uint32_t)json_integer_value(json_object_get(x, "uid"));
	x = json_object_get(o, "canary");
	get_str(x, "id", vs->canary_id, sizeof vs->canary_id);
	vs->canary_sent = get_time(x, "sent");
	get_str(x, "missing_id", vs->missing_id, sizeof vs->missing_id);
	vs->missing_sent = get_time(x, "missing_sent");
	vs->since_canary = (unsigned)json_integer_value(json_object_get(x, "since"));
	vs->last_canary = get_time(x, "last");
	arr = json_object_get(o, "pending");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *p = json_array_get(arr, i);
		const char *name = json_string_value(json_object_get(p, "job"));
		const char *mid = json_string_value(json_object_get(p, "message_id"));
		if (name && mid && spooldir_name_valid(name) &&
		        verify_state_add(vs, name, mid, get_time(p, "sent")) < 0)
			break;
	}
	json_decref(o);
	return 0;
}

/* verify_state_save - write state/verify at once, durably */
int verify_state_save(struct spooldir *sd, const struct verify_state *vs)
{
	json_t *o = json_object(), *x, *arr = json_array();
	int rc;

	json_object_set_new(o, "version", json_integer(VERIFY_STATE_VERSION));
	put_time(o, "last_check", vs->last_check);
	put_time(o, "last_send", vs->last_send);
	put_time(o, "last_ok", vs->last_ok);
	x = json_object();
	json_object_set_new(x, "text", json_string(vs->error));
	put_time(x, "since", vs->error_since);
	json_object_set_new(o, "error", x);
	x = json_object();
	json_object_set_new(x, "uidvalidity", json_integer(vs->inbox_validity));
	json_object_set_new(x, "uid", json_integer(vs->inbox_uid));
	json_object_set_new(o, "inbox", x);
	x = json_object();
	json_object_set_new(x, "id", json_string(vs->canary_id));
	put_time(x, "sent", vs->canary_sent);
	json_object_set_new(x, "missing_id", json_string(vs->missing_id));
	put_time(x, "missing_sent", vs->missing_sent);
	json_object_set_new(x, "since", json_integer(vs->since_canary));
	put_time(x, "last", vs->last_canary);
	json_object_set_new(o, "canary", x);
	for (size_t i = 0; i < vs->npending; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "job", json_string(vs->pending[i].name));
		json_object_set_new(p, "message_id", json_string(vs->pending[i].msgid));
		put_time(p, "sent", vs->pending[i].sent);
		json_array_append_new(arr, p);
	}
	json_object_set_new(o, "pending", arr);
	rc = state_write(sd, VERIFY_STATE_FILE, o);
	json_decref(o);
	return rc;
}

/* verify_state_add - remember a sent job to confirm */
int verify_state_add(struct verify_state *vs, const char *name, const char *msgid, time_t sent)
{
	if (vs->npending == vs->cpending) {
		size_t n = vs->cpending ? vs->cpending * 2 : 16;
		struct verify_pending *v = realloc(vs->pending, n * sizeof *v);
		if (!v)
			return -1;
		vs->pending = v;
		vs->cpending = n;
	}
	struct verify_pending *p = &vs->pending[vs->npending];
	p->name = strdup(name);
	p->msgid = strdup(msgid);
	p->sent = sent;
	if (!p->name || !p->msgid) {
		free(p->name);
		free(p->msgid);
		return -1;
	}
	vs->npending++;
	return 0;
}

/* verify_state_drop - forget entry i, keeping the order (oldest first) */
void verify_state_drop(struct verify_state *vs, size_t i)
{
	if (i >= vs->npending)
		return;
	free(vs->pending[i].name);
	free(vs->pending[i].msgid);
	memmove(&vs->pending[i], &vs->pending[i + 1],
	        (vs->npending - i - 1) * sizeof vs->pending[0]);
	vs->npending--;
}

/* verify_state_forget - drop job name's entry */
void verify_state_forget(struct verify_state *vs, const char *name)
{
	for (size_t i = 0; i < vs->npending; i++)
		if (!strcmp(vs->pending[i].name, name)) {
			verify_state_drop(vs, i);
			return;
		}
}

/* verify_state_free - release the pending list */
void verify_state_free(struct verify_state *vs)
{
	for (size_t i = 0; i < vs->npending; i++) {
		free(vs->pending[i].name);
		free(vs->pending[i].msgid);
	}
	free(vs->pending);
	memset(vs, 0, sizeof *vs);
}
