/*
 * pid - this process's id, asked of the kernel once.
 *
 * Temporary names, log lines and Message-IDs carry the pid; glibc no
 * longer caches it, and a drain asked for it several times per job.
 * pid_self() asks once and again only in a child after fork() (an
 * atfork handler forgets the cached value).  No ownership: a value.
 */
#ifndef SPOOLD_PID_H
#define SPOOLD_PID_H

#include <sys/types.h>

/* pid_self - getpid(), remembered */
pid_t pid_self(void);

#endif
