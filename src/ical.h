/*
 * ical.h: iCalendar (RFC 5545) output for one event: the public
 * /events/{slug}.ics file and the attachment of confirmation emails.
 *
 * Times are local wall-clock times with a TZID, and the VTIMEZONE that
 * defines the zone travels in the file (from eventbox.vtimezone(), which
 * reads PostgreSQL's IANA database): calendars then show the right time
 * whatever zone the reader is in.  A local time the clocks pass twice
 * names the first of the two (RFC 5545 3.3.5), so an event at the second
 * is given in UTC.  Text is escaped and lines are folded at
 * 75 octets without splitting a UTF-8 character.
 *
 * One UID per event (ical_uid()) and its SEQUENCE (events.ical_sequence,
 * raised by each change of time, place or link and by cancellation): a
 * calendar app moves or removes the entry it has rather than adding one.
 * Emails say METHOD:REQUEST (or CANCEL) with an ORGANIZER, as iTIP asks.
 *
 * All strings are borrowed; ical_render() appends to out.
 */
#ifndef EVENTBOX_ICAL_H
#define EVENTBOX_ICAL_H

#include "buf.h"

struct ical_event {
	const char	*method;	/* PUBLISH (NULL), REQUEST, CANCEL */
	const char	*organizer;	/* an address, or NULL (PUBLISH) */
	const char	*attendee;	/* an address, or NULL */
	const char	*uid;		/* ical_uid() */
	const char	*dtstamp;	/* eventbox.ical_utc(now()) */
	const char	*tzid;		/* IANA name */
	const char	*vtimezone;	/* eventbox.vtimezone() of its times */
	const char	*start_local;	/* eventbox.ical_local(starts_at, tz) */
	const char	*end_local;
	/* eventbox.ical_repeated(): the UTC time, written instead of the
	 * local one, when that local time is the second of two (the hour
	 * the clocks go back); NULL or empty otherwise */
	const char	*start_repeated;
	const char	*end_repeated;
	const char	*summary;
	const char	*description;
	const char	*location;	/* may be empty */
	/* The language each text above is in where staff wrote it (the
	 * event's, events.language; NULL: the file's own words, a link, or
	 * nothing), and the language of the file's own words (i18n_lang()):
	 * the ones that differ carry LANGUAGE= (lang_mark()). */
	const char	*summary_lang, *description_lang, *location_lang;
	const char	*doc_lang;
	const char	*url;		/* the public event page */
	int		 cancelled;
	long		 sequence;	/* events.ical_sequence */
};

/*
 * The event's UID, the same in the .ics file and in every email:
 * "event-<id>@<host of EVENTBOX_BASE_URL>".  A slug may change; the id
 * never does.
 */
void	 ical_uid(struct buf *out, const char *event_id, const char *base_url);
void	 ical_render(struct buf *out, const struct ical_event *);
/* The parts of ical_render(), for a calendar of several events (a feed):
 * ical_begin(), the VTIMEZONEs, an ical_vevent() each, "END:VCALENDAR". */
void	 ical_begin(struct buf *out);
void	 ical_vevent(struct buf *out, const struct ical_event *);
void	 ical_property(struct buf *out, const char *name, const char *value,
	    int escape);

#endif
