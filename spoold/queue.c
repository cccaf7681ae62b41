/*
 * queue - two binary heaps of waiting jobs; see queue.h.
 */
#include <stdlib.h>
#include <string.h>

#include "queue.h"

/* before - heap order: by due (later) or by expiry then due (ready) */
static int before(const struct heap *h, const struct qjob *a, const struct qjob *b)
{
	if (!h->by_due && a->expires != b->expires) {
		if (!a->expires || !b->expires)
			return !a->expires;
		return a->expires < b->expires;
	}
	if (a->due != b->due)
		return a->due < b->due;
	return strcmp(a->name, b->name) < 0; /* Maildir names: arrival order */
}

/* heap_push - insert; -1 when out of memory */
static int heap_push(struct heap *h, struct qjob *j)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct qjob **v = realloc(h->v, cap * sizeof *v);
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	for (i = h->n++; i > 0 && before(h, j, h->v[(i - 1) / 2]); i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i] = j;
	return 0;
}

/* heap_pop - remove the first entry */
static struct qjob *heap_pop(struct heap *h)
{
	struct qjob *top, *last;
	size_t i = 0;

	if (!h->n)
		return NULL;
	top = h->v[0];
	last = h->v[--h->n];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(h, h->v[c + 1], h->v[c]))
			c++;
		if (!before(h, h->v[c], last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	/* Give memory back after a large drain. */
	if (h->cap > 1024 && h->n < h->cap / 8) {
		struct qjob **v = realloc(h->v, h->cap / 2 * sizeof *v);
		if (v) {
			h->v = v;
			h->cap /= 2;
		}
	}
	return top;
}

/* queue_init - two empty heaps */
void queue_init(struct queue *q)
{
	memset(q, 0, sizeof *q);
	q->later.by_due = 1;
}

/* queue_free - drop every entry */
void queue_free(struct queue *q)
{
	struct qjob *j;

	while ((j = heap_pop(&q->ready)) != NULL)
		free(j);
	while ((j = heap_pop(&q->later)) != NULL)
		free(j);
	free(q->ready.v);
	free(q->later.v);
	queue_init(q);
}

/* queue_add - index one job */
int queue_add(struct queue *q, const char *name, enum folder from, time_t due, time_t expires,
        time_t since, time_t now)
{
	size_t n = strlen(name);
	struct qjob *j = malloc(sizeof *j + n + 1);

	if (!j)
		return -1;
	j->due = due;
	j->expires = expires;
	j->since = since;
	j->from = (unsigned char)from;
	memcpy(j->name, name, n + 1);
	if (heap_push(due <= now ? &q->ready : &q->later, j) < 0) {
		free(j);
		return -1;
	}
	return 0;
}

/* queue_oldest - the earliest "since" of both heaps (a pass over them: the
 * status page asks at most once a second) */
time_t queue_oldest(const struct queue *q)
{
	const struct heap *h[2] = {&q->ready, &q->later};
	time_t oldest = 0;

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < h[k]->n; i++)
			if (!oldest || h[k]->v[i]->since < oldest)
				oldest = h[k]->v[i]->since;
	return oldest;
}

/* queue_promote - later jobs that are due become ready */
void queue_promote(struct queue *q, time_t now)
{
	while (q->later.n && q->later.v[0]->due <= now) {
		struct qjob *j = heap_pop(&q->later);
		if (heap_push(&q->ready, j) < 0) {
			heap_push(&q->later, j); /* try again next time */
			break;
		}
	}
}

/* queue_pop - the most urgent ready job */
struct qjob *queue_pop(struct queue *q)
{
	return heap_pop(&q->ready);
}

/* queue_peek - the most urgent ready job, left in place */
struct qjob *queue_peek(const struct queue *q)
{
	return q->ready.n ? q->ready.v[0] : NULL;
}

/* queue_next_due - when the next later job becomes due */
time_t queue_next_due(const struct queue *q)
{
	return q->later.n ? q->later.v[0]->due : 0;
}

/* queue_size - all entries */
size_t queue_size(const struct queue *q)
{
	return q->ready.n + q->later.n;
}
