/*
 * mail.h: the emails patrons receive, as RFC 5322 messages ready for SMTP.
 *
 * One message per outbox row: plain text with an HTML alternative
 * (multipart/alternative), inside multipart/mixed with an iCalendar file
 * when the message carries one.  Bodies are UTF-8 in quoted-printable, so
 * a kept .eml file stays readable; headers with non-ASCII text use RFC 2047
 * encoded words and are folded.  Every header value is checked with
 * header_safe() first: a value with CR, LF or NUL makes mail_compose() fail
 * rather than reach a header.
 *
 * All strings in struct mail_msg are borrowed (they point into a PGresult
 * in the mailer); mail_compose() appends to out, which the caller owns.
 * Pure: time, Message-ID and MIME boundary come in, so the unit tests can
 * compare the output with golden files.  Composed in the language in use
 * (i18n_use(): the mailer sets the registrant's before each message);
 * links to the pages carry ?lang= when it is not English.
 */
#ifndef EVENTBOX_MAIL_H
#define EVENTBOX_MAIL_H

#include <time.h>

#include "buf.h"

enum mail_kind {
	MAIL_CONFIRMED,
	MAIL_WAITLISTED,
	MAIL_PROMOTED,
	MAIL_CANCELLED,
	MAIL_ALREADY_REGISTERED,
	MAIL_REMINDER,
	MAIL_EVENT_CANCELLED,
	MAIL_CONFIRM_ADDRESS,	/* the link that confirms a held registration */
	MAIL_EVENT_CHANGED,
	MAIL__MAX
};

struct mail_msg {
	enum mail_kind	 kind;
	const char	*from;		/* EVENTBOX_MAIL_FROM: "Name <addr>" */
	const char	*to_name;
	const char	*to_email;
	const char	*token;		/* may be empty (cancelled receipts) */
	const char	*base_url;	/* EVENTBOX_BASE_URL */
	const char	*registration_status;	/* confirmed|waitlisted|... */
	const char	*position;	/* waiting-list place, may be empty */
	const char	*event_id;	/* for the calendar UID */
	const char	*event_slug;
	const char	*title;
	const char	*description;
	/* the language staff wrote the title, description and location in
	 * (events.language): marked in the HTML and the calendar entry where
	 * it is not the email's; NULL or empty: unmarked */
	const char	*event_language;
	const char	*presenter;
	const char	*format;	/* online|in_person|hybrid */
	const char	*location;
	const char	*online_url;	/* empty unless the seat is confirmed */
	const char	*when;		/* eventbox.human_when() */
	/* what an event_changed notice reports: the old texts, or empty */
	const char	*was_when;
	const char	*was_location;
	const char	*was_format;	/* online|in_person|hybrid, or empty */
	int		 link_changed;
	const char	*was_start;	/* the old times, "20261216T140000" */
	const char	*was_end;	/* in was_tz; NULL or empty when not */
	const char	*was_tz;	/* known (queued before 018) */
	/* iCalendar attachment */
	const char	*tzid;
	const char	*vtimezone;
	const char	*ical_start;
	const char	*ical_end;
	const char	*ical_start_repeated;	/* ical_event's start_repeated */
	const char	*ical_end_repeated;
	const char	*ical_stamp;
	long		 sequence;
	/* a cancellation (the registration's or the event's): the
	 * registration was sent a calendar entry (METHOD:REQUEST), which
	 * this message removes */
	int		 calendar_sent;
	/* a cancellation made by staff, not asked for by the patron */
	int		 by_staff;
	/* a cancellation whose seat went to the next person waiting */
	int		 place_taken;
	/* a cancellation of a place on the waiting list: no seat was held */
	int		 left_waitlist;
	/* the event takes a waiting list (events.waitlist_enabled) */
	int		 has_waitlist;
	/* a confirm_address's hold end in tzid, "20261216T150000"; NULL or
	 * empty when not known */
	const char	*held_until;
	/* a confirm_address of a registration that moved up from the
	 * waiting list into the seat it holds */
	int		 moved_up;
	/* envelope details, passed in so output is reproducible */
	time_t		 date;
	const char	*message_id;	/* "<...@...>" */
	const char	*boundary;	/* unique, [A-Za-z0-9._-] */
};

int		 mail_kind_parse(const char *, enum mail_kind *);
const char	*mail_address(const char *from, char *dst, size_t dstsz);
int		 mail_compose(struct buf *out, const struct mail_msg *);

#endif
