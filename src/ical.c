/*
 * ical.c: iCalendar rendering (see ical.h).
 */
#include <string.h>

#include "escape.h"
#include "ical.h"

/*
 * Appends "NAME:value" folded at 75 octets (RFC 5545 3.1), escaping
 * backslash, semicolon, comma and newlines when asked (TEXT values).
 */
void
ical_property(struct buf *out, const char *name, const char *value,
    int escape)
{
	struct buf		 line = BUF_INIT;
	const unsigned char	*p;
	size_t			 i, col, n;

	buf_adds(&line, name);
	buf_addc(&line, ':');
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (!escape) {
			if (*p != '\r' && *p != '\n')
				buf_addc(&line, (char)*p);
			continue;
		}
		switch (*p) {
		case '\\':
		case ';':
		case ',':
			buf_addc(&line, '\\');
			buf_addc(&line, (char)*p);
			break;
		case '\r':
			if (p[1] == '\n')
				p++;
			/* FALLTHROUGH */
		case '\n':
			buf_adds(&line, "\\n");
			break;
		default:
			if (*p >= 0x20 || *p == '\t')
				buf_addc(&line, (char)*p);
		}
	}
	col = 0;
	for (i = 0; i < line.len; i += n) {
		/* Length of this UTF-8 sequence, so a fold never splits one. */
		unsigned char	 c = (unsigned char)line.data[i];

		n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (i + n > line.len)
			n = line.len - i;
		if (col + n > 75) {
			buf_adds(out, "\r\n ");
			col = 1;
		}
		buf_add(out, line.data + i, n);
		col += n;
	}
	buf_adds(out, "\r\n");
	buf_free(&line);
}

/* A TEXT property, with ;LANGUAGE= when lang, the language staff wrote
 * value in, is not doc, the file's own (RFC 5545 3.2.10). */
static void
text_property(struct buf *out, const char *name, const char *value,
    const char *lang, const char *doc)
{
	struct buf	 prop = BUF_INIT;

	buf_adds(&prop, name);
	lang_mark(&prop, LANG_ICAL, lang, doc);
	ical_property(out, prop.data, value, 1);
	buf_free(&prop);
}

/* NAME;TZID=tzid:local, or NAME:utc when the local time is the second of
 * two, which a TZID cannot name (ical.h). */
static void
time_property(struct buf *out, const char *name, const char *tzid,
    const char *local, const char *repeated)
{
	struct buf	 prop = BUF_INIT;

	if (repeated != NULL && *repeated != '\0') {
		ical_property(out, name, repeated, 0);
		return;
	}
	buf_printf(&prop, "%s;TZID=%s", name, tzid);
	ical_property(out, prop.data, local, 0);
	buf_free(&prop);
}

void
ical_uid(struct buf *out, const char *event_id, const char *base_url)
{
	const char	*host = strstr(base_url, "://");

	host = host != NULL ? host + 3 : base_url;
	buf_printf(out, "event-%s@%.*s", event_id, (int)strcspn(host, ":/"),
	    host);
}

/* BEGIN:VCALENDAR and its properties; METHOD PUBLISH when method is NULL. */
static void
calendar_begin(struct buf *out, const char *method)
{
	buf_adds(out, "BEGIN:VCALENDAR\r\n"
	    "VERSION:2.0\r\n"
	    "PRODID:-//eventbox//eventbox//EN\r\n"
	    "CALSCALE:GREGORIAN\r\n");
	ical_property(out, "METHOD", method != NULL ? method : "PUBLISH", 0);
}

void
ical_begin(struct buf *out)
{
	calendar_begin(out, NULL);
}

void
ical_vevent(struct buf *out, const struct ical_event *ev)
{
	struct buf	 prop = BUF_INIT;

	buf_adds(out, "BEGIN:VEVENT\r\n");
	ical_property(out, "UID", ev->uid, 0);
	if (ev->organizer != NULL) {
		buf_printf(&prop, "mailto:%s", ev->organizer);
		ical_property(out, "ORGANIZER", prop.data, 0);
		buf_reset(&prop);
	}
	if (ev->attendee != NULL) {
		buf_printf(&prop, "mailto:%s", ev->attendee);
		ical_property(out, "ATTENDEE;RSVP=FALSE", prop.data, 0);
		buf_reset(&prop);
	}
	ical_property(out, "DTSTAMP", ev->dtstamp, 0);
	time_property(out, "DTSTART", ev->tzid, ev->start_local,
	    ev->start_repeated);
	time_property(out, "DTEND", ev->tzid, ev->end_local, ev->end_repeated);
	buf_printf(&prop, "%ld", ev->sequence);
	ical_property(out, "SEQUENCE", prop.data, 0);
	text_property(out, "SUMMARY", ev->summary, ev->summary_lang,
	    ev->doc_lang);
	if (ev->description != NULL && *ev->description != '\0')
		text_property(out, "DESCRIPTION", ev->description,
		    ev->description_lang, ev->doc_lang);
	if (ev->location != NULL && *ev->location != '\0')
		text_property(out, "LOCATION", ev->location, ev->location_lang,
		    ev->doc_lang);
	if (ev->url != NULL && *ev->url != '\0')
		ical_property(out, "URL", ev->url, 0);
	ical_property(out, "STATUS", ev->cancelled ? "CANCELLED" : "CONFIRMED",
	    0);
	buf_adds(out, "TRANSP:OPAQUE\r\nEND:VEVENT\r\n");
	buf_free(&prop);
}

void
ical_render(struct buf *out, const struct ical_event *ev)
{
	calendar_begin(out, ev->method);
	buf_adds(out, ev->vtimezone);
	ical_vevent(out, ev);
	buf_adds(out, "END:VCALENDAR\r\n");
}
