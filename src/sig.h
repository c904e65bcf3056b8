/*
 * sig.h: the signal discipline the long-running processes share (the
 * workers, the mailer).
 *
 * sig_setup() hands SIGTERM, SIGINT and SIGHUP to fn, ignores SIGPIPE and
 * blocks the three, so they arrive only while the process waits with
 * *waitmask (ppoll, sigsuspend): work in progress is never interrupted,
 * and fn only sets flags the loop reads.  A process that needs more
 * (SIGALRM, SIGCHLD) sets those up itself.
 */
#ifndef EVENTBOX_SIG_H
#define EVENTBOX_SIG_H

#include <signal.h>

void	 sig_setup(void (*fn)(int), sigset_t *waitmask);

#endif
