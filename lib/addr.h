/*
 * addr - validation of one RFC 5321 mailbox (local-part@domain).
 *
 * Only what is safe to hand to libetpan (which builds SMTP commands with
 * snprintf) and to write into a header: a dot-atom local part of at most 64
 * octets, a domain of LDH labels (or an [IPv4] literal), at most 254 octets
 * in all.  No comments, no display names, no lists, no quoted local parts,
 * no CR, LF, NUL, '<', '>', ',' or spaces.  Pure; no allocation.
 */
#ifndef SPOOLD_ADDR_H
#define SPOOLD_ADDR_H

#include <stddef.h>

/* addr_valid - 1 when s is one valid mailbox; else 0 with the reason in err */
int addr_valid(const char *s, char *err, size_t errlen);
/* addr_domain - pointer to the domain part of a valid address */
const char *addr_domain(const char *s);

#endif
