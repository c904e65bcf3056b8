/*
 * mailer.h: what the mailer's loop (mailer.c) lends the deliveries it
 * runs besides its messages (webhook.c).
 */
#ifndef EVENTBOX_MAILER_H
#define EVENTBOX_MAILER_H

/*
 * A mark (how a message or a delivery went, after the relay or the
 * receiver had it) that gave up at the lock or statement timeout, or that
 * the database had no room for (no_room: db_run_steps() returned -3), its
 * outbox row (id) still locked in the open transaction: 1, after a pause
 * taken here, when it is to be rolled back to the savepoint taken before
 * it and run again; 0 when it is given up (the caller closes the session,
 * and the message or delivery is sent again).  tries: this one's number,
 * from 1; what: what it marks, for the log ("confirmed message").
 */
int	 mailer_mark_again(const char *id, const char *what, int tries,
	    int no_room);

#endif
