/*
 * spooldir_int - helpers shared by the spooldir_*.c files; not an API.
 */
#ifndef SPOOLD_SPOOLDIR_INT_H
#define SPOOLD_SPOOLDIR_INT_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "spooldir.h"

/* in spooldir.c: */
int sd_sync_file(struct spooldir *sd, int fd);
int sd_sync_dir(struct spooldir *sd, enum folder f);
int sd_rename_noreplace(int fromfd, const char *from, int tofd, const char *to);
int sd_open_regular(struct spooldir *sd, int dirfd, const char *name, struct stat *st, char *err,
        size_t errlen);
int sd_read_fd(int fd, const struct stat *st, size_t max, char **buf, size_t *len, char *err,
        size_t errlen);

/* in spooldir_write.c: */
const char *sd_spare_name(char *buf, size_t len);
int sd_write_temp(struct spooldir *sd, int dirfd, const char *name, const char *data, size_t len,
        time_t mtime, int lock, char *tmpname, size_t tmplen);

int spooldir_ids_prune(struct spooldir *sd, time_t now, int days);

#endif
