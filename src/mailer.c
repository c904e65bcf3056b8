/*
 * mailer.c: `eventbox mailer`, the process that empties the outbox.
 *
 * Its session is db.c's, opened as a listener (DB_LISTENER: its socket
 * carries notifications, and a lost session is reopened here, half a
 * second later, where it LISTENs again), with timeouts of its own
 * (EVENTBOX_MAIL_LOCK_TIMEOUT_MS, EVENTBOX_MAIL_STATEMENT_TIMEOUT_MS:
 * a claim of a full batch may outlast any statement of a patron's
 * request); its statements are the STMT_MAIL_* calls of the
 * functions in sql/rules/80_mail.sql.  It sleeps in ppoll() on that socket
 * for EVENTBOX_MAIL_POLL_MS at most (default 200), then asks the outbox_due
 * index whether anything is due (mail_next_due(), one index probe).
 * Registrations do not NOTIFY: PostgreSQL serialises the commits of all
 * transactions that notified, cluster-wide, through their WAL flush, which
 * cost registrations on unrelated events two thirds of their rate
 * (docs/PERFORMANCE.md).  A NOTIFY on eventbox_outbox (staff, mail_retry())
 * still wakes it at once.  Reminders are queued once a minute.  Any failed
 * statement closes the session: a transaction half done is never
 * continued.
 *
 * The same loop sends webhook deliveries (webhook.c), which are outbox
 * rows too, taking turns with the messages, a batch of each (the
 * webhooks' turn ends after a second: drain()); their marks are held and
 * tried again as the messages' are (mailer_mark_again(), mailer.h).
 *
 * Messages are claimed EVENTBOX_MAIL_BATCH at a time (FOR UPDATE SKIP
 * LOCKED, so other mailers pass them by) behind one durability barrier,
 * and each is one transaction: compose it, hand it to SMTP (one connection,
 * kept open by libcurl), mark it sent or failed, COMMIT; the batch's later
 * rows are locked again first (send_batch()).  A mark that gives up at the
 * lock or statement timeout, or that the database has no room for (a full
 * disk), is run again from a savepoint taken before it, the row still
 * locked (mailer_mark_again()).  The row lock lasts until the
 * mark is committed, so two mailers never send one message; a mailer that
 * dies between the server's acceptance and its COMMIT leaves that one
 * message to be sent again.  The claim and the relock take the table lock
 * the mark needs too (sql/rules/80_mail.sql), so that a mark never waits
 * for a lock with a message the relay accepted: a lock held against the
 * mailer makes the claim give up at the lock timeout, before anything is
 * sent.
 *
 * Signals are blocked while a message or a delivery is in flight, so that
 * its mark is always committed; they are let in during ppoll() and between
 * two messages (stop_asked()).  SIGTERM and SIGINT let the message in
 * flight finish and its mark commit, then exit, leaving the rest of the
 * batch for the next start; SIGHUP reopens the log file and goes on.  A
 * stop waits at most one claim (the statement timeout: then nothing of
 * the batch is sent), or one message (SMTP_TIMEOUT_S, smtp.h) and its
 * mark: the systemd unit's TimeoutStopSec is above both.  A COMMIT that
 * waits for a synchronous standby, which no timeout bounds, is cancelled a
 * second into a stop (DB_STOP_CANCELS, db.c): committed here, maybe not on
 * the standby, as PostgreSQL's warning in the log says.  A webhook
 * delivery in flight gets 2 s of a stop, not the rest of
 * EVENTBOX_WEBHOOK_TIMEOUT_MS, and is then left for the next start
 * (webhook.c).
 *
 * EVENTBOX_MAIL_RETRY_BASE_MS (default 60000) is the first retry delay,
 * doubled after each failure up to six hours; tests set it low.  A relay
 * that takes no mail (SMTP_RELAY, smtp.h) costs the message no try: the
 * batch ends, and no mail is claimed for a pause that starts there too,
 * doubled up to RELAY_PAUSE_MAX_MS (mail_relay_failed(),
 * sql/rules/80_mail_marks.sql); the log says once that the relay is
 * down, and once that it takes mail again.
 *
 * With EVENTBOX_SMTP_URL empty, messages are kept as files in
 * EVENTBOX_MAIL_DIR instead (development only: `make run` uses an SMTP
 * sink, deploy/mailsink.py, so the SMTP path is the one exercised).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <uuid/uuid.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "escape.h"
#include "i18n.h"
#include "log.h"
#include "mail.h"
#include "mailer.h"
#include "proc.h"
#include "signals.h"
#include "smtp.h"
#include "validate.h"
#include "webhook.h"

#define WAIT_MAX_MS	60000	/* reminder period */
/* The longest pause of a relay that takes no mail (mail_relay_failed()). */
#define RELAY_PAUSE_MAX_MS	300000

static int			 retry_base_ms = 60000;
static char			 from_addr[256];
static sigset_t			 waitmask;	/* signals_catch()'s */

/* Between two messages: the signals that came meanwhile are taken, a
 * SIGHUP reopens the log; 1 when SIGTERM or SIGINT asked to stop. */
static int
stop_asked(void)
{
	signals_take(&waitmask);
	if (sig_reopen_log) {
		sig_reopen_log = 0;
		log_reopen();
	}
	return sig_stopping;
}

/*
 * The message's Message-ID, the same for every attempt of one outbox row:
 * a copy sent again (a mark lost with the database, a relay that took the
 * message and then timed out) is the same message to the mail systems
 * that drop duplicates by it.  A digest of the row's id, kind and address,
 * so that it names no count of messages and no token, and of when the row
 * was queued: a database set up again, or another eventbox sending from
 * the same domain, has rows of the same ids, kinds and addresses, and
 * those systems dropped their messages as copies of this one's.
 */
static void
message_id(const PGresult *res, int row, const char *domain, char *out,
    size_t outsz)
{
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	char			 in[512], h[33];
	int			 n;

	n = snprintf(in, sizeof(in), "eventbox-message%c%s%c%s%c%s%c%s", 0,
	    db_value(res, row, "id"), 0, db_value(res, row, "kind"), 0,
	    db_value(res, row, "email"), 0, db_value(res, row, "queued_at"));
	if (n < 0 || (size_t)n >= sizeof(in) ||
	    EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 16)
		fatalx("message id");
	hex_encode(h, md, 16);
	snprintf(out, outsz, "<%s@%s>", h, domain);
}

static void
fill_message(struct mail_msg *m, const PGresult *res, int row,
    const char *token, char *msgid, size_t msgidsz, char *boundary,
    size_t boundarysz)
{
	char		 u[TOKEN_LEN + 1];
	uuid_t		 id;
	const char	*domain = strchr(from_addr, '@') + 1;

	memset(m, 0, sizeof(*m));
	if (mail_kind_parse(db_value(res, row, "kind"), &m->kind) == -1)
		abort();	/* the table's CHECK allows no other kind */
#define COL(c) (db_value(res, row, (c)))
	m->from = cfg.mail_from;
	m->to_name = COL("name");
	m->to_email = COL("email");
	m->token = token;
	m->base_url = cfg.base_url;
	m->registration_status = COL("registration_status");
	m->position = COL("position");
	m->event_id = COL("event_id");
	m->event_slug = COL("event_slug");
	m->title = COL("title");
	m->event_language = COL("event_language");
	m->description = COL("description");
	m->presenter = COL("presenter");
	m->format = COL("format");
	m->location = COL("location");
	m->online_url = COL("online_url");
	m->when = COL("human_when");
	m->was_when = COL("was_when");
	m->was_location = COL("was_location");
	m->was_format = COL("was_format");
	m->link_changed = strcmp(COL("link_changed"), "t") == 0;
	m->was_start = COL("was_start");
	m->was_end = COL("was_end");
	m->was_tz = COL("was_tz");
	/* Everything the message says, in the registrant's language. */
	i18n_use(COL("language"));
	m->tzid = COL("timezone");
	m->vtimezone = COL("vtimezone");
	m->ical_start = COL("ical_start");
	m->ical_end = COL("ical_end");
	m->ical_start_repeated = COL("ical_start_repeated");
	m->ical_end_repeated = COL("ical_end_repeated");
	m->ical_stamp = COL("ical_stamp");
	m->sequence = strtol(COL("sequence"), NULL, 10);
	m->calendar_sent = strcmp(COL("calendar_sent"), "t") == 0;
	m->by_staff = strcmp(COL("by_staff"), "t") == 0;
	m->place_taken = strcmp(COL("place_taken"), "t") == 0;
	m->left_waitlist = strcmp(COL("left_waitlist"), "t") == 0;
	m->has_waitlist = strcmp(COL("has_waitlist"), "t") == 0;
	m->held_until = COL("held_until_local");
	m->moved_up = strcmp(COL("moved_up"), "t") == 0;
#undef COL
	m->date = time(NULL);
	uuid_generate_random(id);
	uuid_unparse_lower(id, u);
	message_id(res, row, domain, msgid, msgidsz);
	snprintf(boundary, boundarysz, "eventbox-%s", u);
	m->message_id = msgid;
	m->boundary = boundary;
}

/* The file transport: MAIL_DIR/<outbox id>-<message uuid>.eml, whole. */
static enum smtp_result
keep_file(const char *id, const char *uuid, const struct buf *msg, char *err,
    size_t errsz)
{
	char	 tmp[1024], path[1024];
	int	 fd, ok;

	snprintf(tmp, sizeof(tmp), "%s/.%s-%s.eml", cfg.mail_dir, id, uuid);
	snprintf(path, sizeof(path), "%s/%s-%s.eml", cfg.mail_dir, id, uuid);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640))
	    == -1) {
		snprintf(err, errsz, "mail dir: %s", strerror(errno));
		return SMTP_TEMPORARY;
	}
	ok = write(fd, msg->data, msg->len) == (ssize_t)msg->len &&
	    fsync(fd) == 0;
	ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
	if (!ok) {
		snprintf(err, errsz, "mail dir: %s", strerror(errno));
		unlink(tmp);
		return SMTP_TEMPORARY;
	}
	return SMTP_SENT;
}

/* How a message went: the mark to record (mail_sent() or mail_failed())
 * with its parameters, run in the round trip that commits it. */
struct mark {
	enum stmt	 stmt;
	int		 nparams;
	const char	*params[4];
	enum smtp_result r;
	char		 err[128], tries[16], base[16];
};

/* Composes row `row` of a claim with its link `token` ("": none) and hands
 * it to SMTP; *mk says how it went. */
static void
send_row(struct buf *msg, const PGresult *res, int row, const char *token,
    struct mark *mk)
{
	struct mail_msg		 m;
	char			 msgid[128], boundary[64];
	const char		*id;

	id = db_value(res, row, "id");
	fill_message(&m, res, row, token, msgid, sizeof(msgid), boundary,
	    sizeof(boundary));
	buf_reset(msg);
	if (mail_compose(msg, &m) == -1) {
		/* Never sent: a value that could break a header. */
		snprintf(mk->err, sizeof(mk->err), "unsafe header value");
		mk->r = SMTP_PERMANENT;
		snprintf(mk->tries, sizeof(mk->tries), "1");
	} else {
		if (*cfg.smtp_url == '\0')
			mk->r = keep_file(id, boundary + strlen("eventbox-"),
			    msg, mk->err, sizeof(mk->err));
		else
			mk->r = smtp_send(from_addr, m.to_email, msg->data,
			    msg->len, mk->err, sizeof(mk->err));
		snprintf(mk->tries, sizeof(mk->tries), "%d",
		    cfg.mail_max_tries);
	}
	snprintf(mk->base, sizeof(mk->base), "%d", retry_base_ms);
	mk->params[0] = id;
	mk->params[1] = mk->err;
	mk->params[2] = mk->tries;
	mk->params[3] = mk->base;
	mk->stmt = mk->r == SMTP_SENT ? STMT_MAIL_SENT : STMT_MAIL_FAILED;
	mk->nparams = mk->r == SMTP_SENT ? 1 : 4;
	if (mk->r == SMTP_RELAY) {
		/* No try of the message's: the relay's pause instead. */
		snprintf(mk->tries, sizeof(mk->tries), "%d", RELAY_PAUSE_MAX_MS);
		mk->params[2] = mk->base;
		mk->params[3] = mk->tries;
		mk->stmt = STMT_MAIL_RELAY_FAILED;
	}
}

/* The mark of row `row`, recorded (st: its result), told in the log. */
static void
log_mark(const PGresult *res, int row, const struct mark *mk,
    const PGresult *st)
{
	const char	*id = db_value(res, row, "id");

	if (mk->r == SMTP_SENT) {
		if (strcmp(db_value(st, 0, "relay_back"), "t") == 0)
			log_info("the SMTP relay takes mail again: sending "
			    "what was queued meanwhile, in order");
		log_info("outbox %s: %s message sent", id,
		    db_value(res, row, "kind"));
		return;
	}
	if (mk->r == SMTP_RELAY) {
		/* Said once, when the relay goes down, not per message. */
		if (strcmp(db_value(st, 0, "relay_down"), "t") == 0)
			log_warnx("the SMTP relay takes no mail (%s): sending "
			    "none until it does, trying again after a pause "
			    "(%d ms, doubled each time, %d s at most); no "
			    "message uses up a try meanwhile", mk->err,
			    retry_base_ms, RELAY_PAUSE_MAX_MS / 1000);
		return;
	}
	log_warnx("outbox %s: %s message not sent (%s, %s): %s", id,
	    db_value(res, row, "kind"),
	    mk->r == SMTP_PERMANENT ? "refused" : "temporary", mk->err,
	    strcmp(db_value(st, 0, "status"), "failed") == 0 ?
	    "gave up, left for staff" : "will retry");
}

/* The relay took row `row`, but its mark did not commit: the database
 * went away (a restart, a failover) before it did, or it kept giving up
 * at a timeout (mailer_mark_again()): the row is still due, so the
 * message goes out again.  Said here, with the row, for the patron who
 * asks about a message that came twice. */
static void
log_lost_mark(const PGresult *res, int row)
{
	log_warnx("outbox %s: %s message accepted by the relay but not "
	    "recorded (its mark did not commit); it will be sent again",
	    db_value(res, row, "id"), db_value(res, row, "kind"));
}

/*
 * A mark that gave up at the lock or the statement timeout on a sound
 * session is rolled back to its savepoint, the row still locked (no other
 * mailer can take it meanwhile), and run again: a slow mark is no reason to
 * send a message the relay took a second time, nor a delivery a receiver
 * answered (webhook.c marks its deliveries so too).  MARK_TRIES in all, the
 * pause between two doubled from MARK_PAUSE_MS; a stop asked meanwhile
 * ends the tries (the unit's TimeoutStopSec allows one mark).  A mark the
 * database had no room for (no_room: a full disk, 53100) is tried again
 * for as long as it takes, the pause doubled up to MARK_PAUSE_MAX_MS:
 * given up, it would send the message again at every claim, twice a
 * second, until the disk has room (and nothing else could be recorded
 * meanwhile, so nothing else is sent).  1: mark it again; 0: give up, the
 * message or delivery is sent again.
 */
#define MARK_TRIES		6
#define MARK_PAUSE_MS		250
#define MARK_PAUSE_MAX_MS	8000

int
mailer_mark_again(const char *id, const char *what, int tries, int no_room)
{
	struct timespec	 ts;
	long		 ms = MARK_PAUSE_MS;
	int		 i;

	if ((!no_room && tries >= MARK_TRIES) || stop_asked())
		return 0;
	for (i = 1; i < tries && ms < MARK_PAUSE_MAX_MS; i++)
		ms *= 2;
	if (!no_room)
		log_warnx("outbox %s: the mark of its %s gave up at a timeout, "
		    "the row still locked: marking it again in %ld ms (try %d "
		    "of %d)", id, what, ms, tries + 1, MARK_TRIES);
	else if (tries == 1)
		log_warnx("outbox %s: the database has no room to record how "
		    "its %s went (disk full?): the row still locked, marking "
		    "it again every %d s at most until it has; nothing else "
		    "is sent meanwhile", id, what, MARK_PAUSE_MAX_MS / 1000);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	ppoll(NULL, 0, &ts, &waitmask);		/* a stop wakes it */
	return !stop_asked();
}

/*
 * Sends the next due messages, EVENTBOX_MAIL_BATCH at most: one claim and
 * one durability barrier for them all, then one transaction per message,
 * so that a mailer that dies leaves only the message in flight to be sent
 * again.  The first message's transaction is the claim's; each later row
 * is locked again in its own (mail_relock(): another mailer may have taken
 * it once the first committed).  A message's savepoint and mark, its
 * COMMIT and the next row's BEGIN and relock go in one round trip
 * (db_run_steps()), run by the server in that order as if they had come
 * one by one; a mark that gave up at a timeout, or that the database had
 * no room for, is run again from the savepoint (mailer_mark_again()).  A
 * later message's link is the relock's: it renews one revoked since, in
 * the transaction that sends it (sql/rules/80_mail.sql).  How many were
 * claimed (0: none is due), or -1: the database went away.
 */
static int
send_batch(struct buf *msg)
{
	PGresult	*res = NULL, *relocked = NULL, *out[5];
	struct db_step	 steps[5];
	struct mark	 mk;
	const char	*next[1];
	char		 what[48];
	size_t		 answered;
	int		 n, i, j, k, more, marked, locked, tries, ran;
	int		 rc = -1;

	if ((n = db_claim(STMT_MAIL_CLAIM, cfg.mail_batch, NULL, &res)) <= 0)
		return n;
	if (stop_asked()) {
		/* Asked during the claim, which may take the statement
		 * timeout: nothing leaves, the batch is the next start's. */
		rc = db_run_simple(STMT_ROLLBACK, 0, NULL) == -1 ? -1 : 0;
		goto done;
	}
	for (i = 0; i < n; i = j) {
		/* Row i is locked in the open transaction. */
		send_row(msg, res, i, db_value(relocked != NULL ? relocked :
		    res, relocked != NULL ? 0 : i, "token"), &mk);
		PQclear(relocked);
		relocked = NULL;
		snprintf(what, sizeof(what), "%s message",
		    db_value(res, i, "kind"));
		tries = 0;
again:
		/* Steps 0 to 2: the savepoint (or back to it, to mark
		 * again), the mark and its COMMIT. */
		k = 0;
		steps[k++] = (struct db_step){ tries == 0 ?
		    STMT_MAIL_SAVEPOINT : STMT_MAIL_UNDO, 0, NULL };
		steps[k++] = (struct db_step){ mk.stmt, mk.nparams, mk.params };
		steps[k++] = (struct db_step){ STMT_COMMIT, 0, NULL };
		marked = 1;
		for (j = i + 1;; j++) {
			more = j < n && mk.r != SMTP_RELAY && !stop_asked();
			if (more) {
				next[0] = db_value(res, j, "id");
				steps[k++] = (struct db_step){ STMT_BEGIN, 0,
				    NULL };
				steps[k++] = (struct db_step){ STMT_MAIL_RELOCK,
				    1, next };
			}
			ran = db_run_steps(steps, (size_t)k, out, &answered,
			    marked);
			if (ran <= -2 && marked && answered == 1 &&
			    mailer_mark_again(db_value(res, i, "id"), what,
			    ++tries, ran == -3))
				goto again;
			if (ran != 0) {
				db_close();	/* -2, -3: still open */
				if (marked && mk.r == SMTP_SENT &&
				    answered < 3)
					log_lost_mark(res, i);
				goto done;
			}
			if (marked)
				log_mark(res, i, &mk, out[1]);
			locked = more && db_bool(out[k - 1], 0, "locked");
			if (locked) {
				relocked = out[k - 1];	/* row j's link */
				out[k - 1] = NULL;
			}
			while (k > 0)
				PQclear(out[--k]);
			if (!more || locked)
				break;
			/* Another mailer has it: end this transaction. */
			steps[k++] = (struct db_step){ STMT_COMMIT, 0, NULL };
			marked = 0;
		}
		if (!locked)
			break;
	}
	rc = n;
done:
	PQclear(relocked);
	PQclear(res);
	return rc;
}

/* How long the webhooks' turn may go on: a receiver may take up to
 * EVENTBOX_WEBHOOK_TIMEOUT_MS to answer each delivery, and a batch of them
 * in a row held a patron's confirmation up for minutes.  Past this the
 * turn ends after the delivery in flight, and the mail has its turn. */
#define WEBHOOK_TURN_MS	1000

/* A batch of messages and as many webhook deliveries (or a second of
 * them) in turn, until neither is due: a receiver that is down or slow
 * does not hold the mail up, nor the reverse. */
static void
drain(struct buf *msg)
{
	struct timespec	 t0, now;
	int		 m, w;

	while (!stop_asked() && db_connected()) {
		if ((m = send_batch(msg)) == -1 || stop_asked())
			break;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (w = 0; w < cfg.mail_batch && !stop_asked(); ) {
			if (webhook_send_one() != 1)
				break;
			w++;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((now.tv_sec - t0.tv_sec) * 1000 +
			    (now.tv_nsec - t0.tv_nsec) / 1000000 >=
			    WEBHOOK_TURN_MS)
				break;
		}
		if (!db_connected() || (m == 0 && w == 0))
			break;
	}
}

static void
queue_reminders(void)
{
	PGresult	*res;
	char		 hours[16];
	const char	*params[1] = { hours };

	snprintf(hours, sizeof(hours), "%d", cfg.reminder_hours);
	if (db_run(STMT_MAIL_REMINDERS, 1, params, &res) == -1)
		return;
	if (strcmp(db_value(res, 0, "queued"), "0") != 0)
		log_info("queued %s reminders", db_value(res, 0, "queued"));
	if (strcmp(db_value(res, 0, "expired"), "0") != 0)
		log_info("released %s unconfirmed holds",
		    db_value(res, 0, "expired"));
	PQclear(res);
}

/* How long to sleep: until the next message is due, poll_ms at most. */
static long
wait_ms(void)
{
	PGresult	*res;
	long		 ms = WAIT_MAX_MS;

	if (db_run(STMT_MAIL_NEXT_DUE, 0, NULL, &res) == -1)
		return 1000;
	if (!db_isnull(res, 0, "ms"))
		ms = strtol(db_value(res, 0, "ms"), NULL, 10);
	PQclear(res);
	if (ms > cfg.mail_poll_ms)
		ms = cfg.mail_poll_ms;
	return ms < 10 ? 10 : ms;
}

static long
now_ms(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int
cmd_mailer(int argc, char **argv)
{
	static const int	 caught[] = { SIGTERM, SIGINT, SIGHUP };
	struct buf	 msg = BUF_INIT;
	struct pollfd	 pfd;
	struct timespec	 ts;
	const char	*v, *errstr;
	long long	 n;
	long		 ms, last_reminders = 0, backoff = 500;

	(void)argc;		/* none: main.c refuses any */
	(void)argv;
	config_load();
	log_init("eventbox-mailer", cfg.log_file);
	i18n_load(cfg.locale_dir);
	v = getenv("EVENTBOX_MAIL_RETRY_BASE_MS");
	if (v != NULL && *v != '\0') {
		if (parse_int(v, strlen(v), 1, 86400000, &n) == -1)
			fatalx("EVENTBOX_MAIL_RETRY_BASE_MS: expected a whole "
			    "number from 1 to 86400000");
		retry_base_ms = (int)n;
	}
	if (!header_safe(cfg.mail_from, strlen(cfg.mail_from)) ||
	    mail_address(cfg.mail_from, from_addr, sizeof(from_addr)) == NULL)
		fatalx("EVENTBOX_MAIL_FROM must look like "
		    "\"Name <address@example.org>\"");
	if (*cfg.smtp_url == '\0') {
		if (mkdir(cfg.mail_dir, 0750) == -1 && errno != EEXIST)
			fatal("%s", cfg.mail_dir);
		log_info("EVENTBOX_SMTP_URL is empty: keeping messages in %s",
		    cfg.mail_dir);
	}
	else if ((errstr = config_ca_error("EVENTBOX_SMTP_CA",
	    cfg.smtp_ca)) != NULL)
		fatalx("%s", errstr);
	else if (smtp_open(cfg.smtp_url, cfg.smtp_ca, &errstr) == -1)
		fatalx("EVENTBOX_SMTP_URL: %s", errstr);
	if (webhook_open(&errstr) == -1)
		fatalx("%s", errstr);
	signals_catch(signals_flag, caught, 3, &waitmask);
	db_init("eventbox-mailer", DB_LISTENER | DB_STOP_CANCELS);
	db_timeouts(cfg.mail_lock_timeout_ms, cfg.mail_statement_timeout_ms);
	log_info("started");

	while (!stop_asked()) {
		if (!db_connected()) {
			if (db_open() == -1 ||
			    db_run_simple(STMT_MAIL_LISTEN, 0, NULL) == -1) {
				ms = backoff;
				backoff = backoff * 2 > 10000 ? 10000 :
				    backoff * 2;
				goto sleep;
			}
			backoff = 500;
			last_reminders = 0;
		}
		/* Notifications so far are answered by the drain below. */
		(void)db_notified();
		if (db_connected() && (last_reminders == 0 ||
		    now_ms() - last_reminders >= WAIT_MAX_MS)) {
			queue_reminders();
			last_reminders = now_ms();
		}
		drain(&msg);
		/* A session lost at work (a lock or statement timeout, a
		 * restart) is reopened after a pause, not at once: a lock
		 * held for minutes costs a try per lock timeout and pause. */
		if (!db_connected()) {
			ms = backoff;
			goto sleep;
		}
		ms = wait_ms();
		if (!db_connected() || db_notified())
			continue;
sleep:
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000;
		pfd.fd = db_socket();
		pfd.events = POLLIN;
		pfd.revents = 0;
		ppoll(&pfd, 1, &ts, &waitmask);
	}
	log_info("stopping");
	db_close();
	smtp_close();
	webhook_close();
	buf_free(&msg);
	return 0;
}
