/*
 * signals.c: signal set-up shared by the processes (see signals.h).
 */
#include <string.h>

#include "signals.h"

volatile sig_atomic_t	 sig_stopping, sig_reopen_log;

void
signals_flag(int sig)
{
	if (sig == SIGHUP)
		sig_reopen_log = 1;
	else
		sig_stopping = 1;
}

void
signals_catch(void (*handler)(int), const int *sigs, int nsigs, sigset_t *wait)
{
	struct sigaction	 sa;
	sigset_t		 block;
	int			 i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = handler;
	sigemptyset(&block);
	for (i = 0; i < nsigs; i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, wait);
	for (i = 0; i < nsigs; i++)
		sigdelset(wait, sigs[i]);
}

void
signals_take(const sigset_t *wait)
{
	sigset_t	 blocked;

	sigprocmask(SIG_SETMASK, wait, &blocked);
	sigprocmask(SIG_SETMASK, &blocked, NULL);
}

int
signals_stop_pending(void)
{
	sigset_t	 pending;

	if (sig_stopping)
		return 1;
	if (sigpending(&pending) == -1)
		return 0;
	return sigismember(&pending, SIGTERM) == 1 ||
	    sigismember(&pending, SIGINT) == 1;
}
