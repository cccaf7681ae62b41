/*
 * pid - this process's id, remembered; see pid.h.
 */
#include <pthread.h>
#include <unistd.h>

#include "pid.h"

static pid_t pid;

/* pid_forget - in a new child: the parent's pid is not ours */
static void pid_forget(void)
{
	pid = 0;
}

/* pid_self - getpid(), remembered */
pid_t pid_self(void)
{
	static int registered;

	if (!registered) {
		registered = 1;
		(void)pthread_atfork(NULL, NULL, pid_forget);
	}
	if (pid == 0)
		pid = getpid();
	return pid;
}
