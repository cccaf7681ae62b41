/*
 * reply_int - what reply.c (the classifier) and reply_when.c (the retry
 * time in a reply's text) share; not an API.
 */
#ifndef SPOOLD_REPLY_INT_H
#define SPOOLD_REPLY_INT_H

#include <time.h>

#define DAY 86400

/* is_digit - ASCII digit (never the locale's) */
static inline int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* is_alnum - ASCII letter or digit: the word boundaries of patterns */
static inline int is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* is_space - white space inside a reply */
static inline int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* lower - ASCII lower case */
static inline int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* reply_retry_time - the first usable retry time in the normalised text t
 * ("after/until <date>", "in/for/wait N units"), within a week; 0 */
time_t reply_retry_time(const char *t, time_t now);

#endif
