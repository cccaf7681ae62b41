/*
 * state - small JSON files in state/; see state.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

/* state_read - state/NAME as an object */
int state_read(struct spooldir *sd, const char *name, size_t max, json_t **out)
{
	char err[256], *buf;
	json_error_t je;
	size_t len;

	*out = NULL;
	if (sd->fd[F_STATE] < 0)
		return 0;
	if (spooldir_read(sd, F_STATE, name, max, &buf, &len, NULL, err, sizeof err) < 0)
		return errno == ENOENT ? 0 : -1;
	json_t *o = json_loadb(buf, len, 0, &je);
	free(buf);
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	*out = o;
	return 1;
}

/* state_write - o as state/NAME, durable at once */
int state_write(struct spooldir *sd, const char *name, const json_t *o)
{
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int batch = sd->batch, rc;
	size_t n;

	if (!text)
		return -1;
	n = strlen(text);
	char *t2 = realloc(text, n + 2);
	if (!t2) {
		free(text);
		return -1;
	}
	text = t2;
	text[n++] = '\n';
	text[n] = '\0';
	sd->batch = 0;
	rc = spooldir_write(sd, F_STATE, name, text, n, 0);
	sd->batch = batch;
	free(text);
	return rc;
}
