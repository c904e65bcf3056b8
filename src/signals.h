/*
 * signals.h: the one way processes here take signals.  The listed signals
 * get `handler` (which should only set a flag) and are blocked; the caller
 * unblocks them only where it waits (sigsuspend, ppoll) with the mask
 * returned in *wait, so a flag is never missed between a check and a wait.
 * SIGPIPE is ignored: a vanished peer is an error return, not a death.
 */
#ifndef EVENTBOX_SIGNALS_H
#define EVENTBOX_SIGNALS_H

#include <signal.h>

void	 signals_catch(void (*handler)(int), const int *sigs, int nsigs,
	    sigset_t *wait);
/* Unblocks the signals for a moment (`wait` as signals_catch() returned
 * it): the handlers of those pending run now.  For a loop that checks its
 * flags between two steps of work, not only where it waits. */
void	 signals_take(const sigset_t *wait);

/*
 * The handler of the long-running children (workers, the mailer): SIGHUP
 * sets sig_reopen_log, anything else sig_stopping.  The loop that waits
 * clears sig_reopen_log after reopening the log.
 */
extern volatile sig_atomic_t	 sig_stopping, sig_reopen_log;
void	 signals_flag(int);
/* 1 when a stop was asked: sig_stopping, or SIGTERM or SIGINT waiting,
 * blocked, for the loop to take it (a callback deep in a transfer asks). */
int	 signals_stop_pending(void);

#endif
