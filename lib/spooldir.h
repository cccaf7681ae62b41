/*
 * spooldir - the spool on disk: folders, claims, durable state changes.
 *
 * A folder is a state and a rename is a state change (DESIGN.md, "The
 * spool").  struct spooldir holds a descriptor for the root and for each
 * folder; every operation is relative to them (openat/renameat), never to
 * a path built from a job name, and a name must pass spooldir_name_valid
 * first.  Files that are not regular files are never opened for reading
 * (O_NOFOLLOW, then fstat).
 *
 * Ownership: a job in active/ is flock'ed by the process working on it;
 * every inode that appears under its name in active/ is locked first.
 *
 * Durability: a changed job is written to a hidden temporary file in the
 * folder it leaves, renamed over the job, then renamed into its new
 * folder; the job is therefore always in exactly one folder under its
 * name.  File data and both directories are fsync'ed.  With
 * spooldir_batch(sd, 1) the syncs are collected and done together by
 * spooldir_flush; callers must flush before reporting the new state.
 *
 * Inodes are recycled: a job rewritten in active/ leaves its old inode
 * behind as the process's hidden spare (".spare.PID.tmp"), which the next
 * rewrite overwrites and cuts to length instead of creating a file, so a
 * drain neither creates nor deletes an inode for the rewrite (on ext4
 * without a journal every creation scans past the inodes deleted in the
 * last minute), nor frees a block (with -o discard, a synchronous discard).
 * spooldir_close removes the spare; recovery removes a dead process's.
 *
 * Besides the folders the root holds ids/ (idempotency markers, one per
 * job id, see spooldir_dedupe) and state/ (the account's state and the
 * pacing windows: small files written with spooldir_write(F_STATE, ...)).
 */
#ifndef SPOOLD_SPOOLDIR_H
#define SPOOLD_SPOOLDIR_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

enum folder { F_TMP, F_NEW, F_ACTIVE, F_DEFERRED, F_HOLD, F_SENT, F_FAILED, F_CORRUPT, F_COUNT };
#define F_IDS F_COUNT         /* ids/: not a job folder, but read and written like one */
#define F_STATE (F_COUNT + 1) /* state/: account state, pacing windows, incidents */

#define SPOOLDIR_NAME_MAX 200
#define SPOOLDIR_REASON_SUFFIX ".reason.txt"
#define SPOOLDIR_EML_SUFFIX ".eml.gz"

struct spooldir {
	char *path;
	int root;
	int fd[F_COUNT + 2];    /* fd[F_IDS] is ids/, fd[F_STATE] state/ */
	int batch;              /* collect syncs until spooldir_flush */
	int dirty[F_COUNT + 2]; /* folders whose directory needs an fsync */
	int *pending;           /* file descriptors waiting for fdatasync */
	size_t npending, cpending;
	int spare; /* active/ holds this process's spare inode (sd_spare_name) */
};

/* spooldir_folder_name - "new", "deferred", ... */
const char *spooldir_folder_name(enum folder f);
/* spooldir_folder_parse - folder by name; -1 when unknown */
int spooldir_folder_parse(const char *name);

/* spooldir_open - open (with create: make) the spool at path; 0 or -1 + err */
int spooldir_open(struct spooldir *sd, const char *path, int create, char *err, size_t errlen);
/* spooldir_close - flush and close every descriptor */
void spooldir_close(struct spooldir *sd);

/* spooldir_name_valid - a job name: [A-Za-z0-9._:,=+-], not starting with
 * '.', at most SPOOLDIR_NAME_MAX, not ending in a reserved suffix */
int spooldir_name_valid(const char *name);
/* spooldir_newname - a fresh unique Maildir-style name into buf */
char *spooldir_newname(char *buf, size_t len);

/* spooldir_read - read folder/name (regular files only, at most max bytes);
 * 0 ok (*buf NUL-terminated, free() it), -1 with errno and the reason */
int spooldir_read(struct spooldir *sd, enum folder f, const char *name, size_t max, char **buf,
        size_t *len, struct stat *st, char *err, size_t errlen);
/* spooldir_write - write data as folder/name atomically (hidden temp +
 * rename); mtime 0 leaves the time alone.  Durable (or batched).  ids/ and
 * state/ are made on the first write when missing.  Not for
 * a job in active/: the new inode would be unlocked (use spooldir_move). */
int spooldir_write(struct spooldir *sd, enum folder f, const char *name, const char *data,
        size_t len, time_t mtime);
/* spooldir_write_gz - the same, gzip-compressed with zlib */
int spooldir_write_gz(
        struct spooldir *sd, enum folder f, const char *name, const char *data, size_t len);
/* A file written ahead under a hidden, locked name and put in place later:
 * spooldir_stage_gz writes it (gzip-compressed), spooldir_stage_commit
 * renames it to its name (durable, or batched), spooldir_stage_drop
 * removes it.  spoold stages the message as sent while the server takes
 * it, and puts it beside the job only once the job is in sent/, so the
 * 250 is followed by renames alone.  Killed between the two, start-up
 * recovery finishes the rename (the lock tells a dead writer's file). */
struct spooldir_staged {
	int fd; /* the staged file, locked; -1 when nothing is staged */
	enum folder f;
	char tmp[SPOOLDIR_NAME_MAX + 96];
	char name[SPOOLDIR_NAME_MAX + 32];
};
/* spooldir_stage_gz - write data, compressed, to be folder/name; 0 or -1 */
int spooldir_stage_gz(struct spooldir *sd, enum folder f, const char *name, const char *data,
        size_t len, struct spooldir_staged *st);
/* spooldir_stage_commit - the staged file takes its name; 0 or -1 */
int spooldir_stage_commit(struct spooldir *sd, struct spooldir_staged *st);
/* spooldir_stage_drop - remove the staged file, if any */
void spooldir_stage_drop(struct spooldir *sd, struct spooldir_staged *st);
/* spooldir_gz_release - free the compressor kept between messages */
void spooldir_gz_release(void);
/* spooldir_read_gz - read and decompress folder/name; free() *buf */
int spooldir_read_gz(struct spooldir *sd, enum folder f, const char *name, char **buf, size_t *len,
        char *err, size_t errlen);
/* spooldir_read_fd - read the open regular file fd (a claimed job through
 * its lock descriptor), at most max bytes; as spooldir_read.  st: fd's
 * status when the caller has it (spooldir_claim's), else NULL. */
int spooldir_read_fd(int fd, const struct stat *st, size_t max, char **buf, size_t *len, char *err,
        size_t errlen);
/* spooldir_rename - move name from one folder to another; -1 ENOENT when
 * someone else moved it first (a lost claim), -1 EEXIST when the target
 * name is taken.  Durable (or batched). */
int spooldir_rename(struct spooldir *sd, enum folder from, enum folder to, const char *name);
/* spooldir_move - rewrite the job with data (and mtime when not 0), then
 * rename it from one folder into another; -1 ENOENT when the job left the
 * folder meanwhile (it is not brought back), EEXIST when the target has
 * the name */
int spooldir_move(struct spooldir *sd, enum folder from, enum folder to, const char *name,
        const char *data, size_t len, time_t mtime);
/* spooldir_unlink - remove folder/name (and, for jobs, its side files) */
int spooldir_unlink(struct spooldir *sd, enum folder f, const char *name);
/* spooldir_claim - lock the job, then rename new/ or deferred/ -> active/;
 * 0 with *lockfd holding the job's flock (close it once the job has left
 * active/), -1 ENOENT or EWOULDBLOCK when another process has it (and
 * *lockfd is -1).  -1 EEXIST when the name is also used in another
 * folder: the job is then in active/, locked by *lockfd, for the caller
 * to file under a fresh name.  A job in active/ whose lock is free
 * belongs to a dead process (recovery).  st (NULL: not wanted) receives
 * the claimed inode's status, for spooldir_read_fd. */
int spooldir_claim(
        struct spooldir *sd, enum folder from, const char *name, int *lockfd, struct stat *st);
/* spooldir_locate - the folder holding the job name, or -1 */
int spooldir_locate(struct spooldir *sd, const char *name);
/* spooldir_locate_other - a folder other than f holding name, or -1 */
int spooldir_locate_other(struct spooldir *sd, enum folder f, const char *name);

/* spooldir_batch - on: collect syncs; off: flush and sync each change */
void spooldir_batch(struct spooldir *sd, int on);
/* spooldir_flush - fdatasync collected files and fsync dirty folders */
int spooldir_flush(struct spooldir *sd);

/* spooldir_each - call fn for every job name in folder f (hidden names,
 * side files and invalid names are skipped unless all is set; all ==
 * SPOOLDIR_EACH_HIDDEN: only hidden names, the temporaries, and nothing
 * else is looked at); stops when fn returns non-zero and returns that value */
#define SPOOLDIR_EACH_HIDDEN 2
typedef int (*spooldir_fn)(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg);
int spooldir_each(struct spooldir *sd, enum folder f, int all, spooldir_fn fn, void *arg);

/* spooldir_count - how many job names folder f holds (no stat: for counts
 * of large folders such as sent/); -1 when it cannot be read */
long spooldir_count(struct spooldir *sd, enum folder f);

/* spooldir_dedupe - claim the idempotency marker for id on behalf of job
 * name.  1: ours (new, or already ours, or stale beyond days); 0: another
 * job holds it (its name in other, when other is not NULL) */
int spooldir_dedupe(struct spooldir *sd, const char *id, const char *name, int days, char *other,
        size_t otherlen);
/* spooldir_dedupe_release - drop the marker for id when job name holds it */
void spooldir_dedupe_release(struct spooldir *sd, const char *id, const char *name);

/* Recovery at start-up.  Counts what was done. */
struct spooldir_recovery {
	int active_returned; /* active/ jobs of dead processes returned to new/ */
	int corrupt;         /* non-regular files or bad names in active/ moved to corrupt/ */
	int duplicates;      /* names found in two folders, one copy removed */
	int tmp_removed;     /* tmp/ files older than a day removed */
	int temps_removed;   /* hidden temporaries of an interrupted write removed */
	int staged_finished; /* messages as sent, staged and not yet named, put in place */
};
/* spooldir_recover - run the start-up recovery (only one process at a time
 * should; it takes the root's flock while it runs) */
int spooldir_recover(struct spooldir *sd, time_t now, struct spooldir_recovery *rec);
/* spooldir_prune - remove sent/ jobs older than days, stale ids/ markers */
int spooldir_prune(struct spooldir *sd, time_t now, int sent_days, int dedupe_days);

#endif
