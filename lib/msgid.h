/*
 * msgid - a job's Message-ID ("<spoold.NAME@domain>") and RFC 3461 ENVID
 * ("spoold.NAME" with bytes outside [A-Za-z0-9.-] written "_XX"), and the
 * job's name back from either.  Pure functions writing into the caller's
 * buffer; no allocation.
 */
#ifndef SPOOLD_MSGID_H
#define SPOOLD_MSGID_H

#include <stddef.h>

#define MSG_ID_MAX 320

/* msg_message_id - "<spoold.NAME@domain>", stable for a job name and unique
 * across names (the name is encoded injectively into dot-atom text) */
char *msg_message_id(const char *name, const char *from, char *buf, size_t len);
/* msg_message_id_name - the job name back from such a Message-ID (any
 * domain); NULL when it is not one of ours or does not fit */
char *msg_message_id_name(const char *msgid, char *buf, size_t len);
/* msg_envid - the RFC 3461 ENVID for a job: "spoold." and the name with
 * every byte outside [A-Za-z0-9.-] written "_XX" (so xtext never needs
 * escaping and MTAs that decode it and those that do not agree) */
char *msg_envid(const char *name, char *buf, size_t len);
/* msg_envid_name - the job name back from an envid; NULL when not ours */
char *msg_envid_name(const char *envid, char *buf, size_t len);

#endif
