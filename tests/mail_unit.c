/*
 * mail_unit.c: the emails, composed from fixed inputs and compared with
 * the golden files in tests/golden/mail-KIND.eml, plus checks on the
 * encodings.  Built with ASan+UBSan by `make test`; prints
 * "N passed, M failed".  After a deliberate change of wording, regenerate
 * with `build/mail-unit --update` and read the diff before committing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "i18n.h"
#include "mail.h"
#include "validate.h"

#include "check.h"

static const char *const kinds[MAIL__MAX] = {
	"confirmed", "waitlisted", "promoted", "cancelled",
	"already_registered", "reminder", "event_cancelled", "confirm_address",
	"event_changed",
};

static void
sample(struct mail_msg *m, enum mail_kind kind)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->from = "Learning Services <events@library.example.org>";
	m->to_name = "Zoë O'Brien-Ünal";
	m->to_email = "zoe@example.org";
	m->token = kind == MAIL_CANCELLED || kind == MAIL_EVENT_CANCELLED ? "" :
	    "0b7f3c2e-8f0a-4d5e-9c1b-2a3b4c5d6e7f";
	m->base_url = "https://events.example.org";
	m->registration_status = kind == MAIL_WAITLISTED ? "waitlisted" :
	    "confirmed";
	m->position = kind == MAIL_WAITLISTED ? "3" : "";
	m->event_id = "42";
	m->event_slug = "minimizing-social-media";
	m->event_language = "en";	/* the English event of every golden */
	m->title = "Minimizing Social Media to Maximize Library Values "
	    "(ALA Webinar) — live";
	m->description = "While social media is an unavoidable reality, it "
	    "has conflicts with <privacy> & intellectual freedom.\n\n"
	    "Who Should Attend: public library staff.";
	m->presenter = "Mark Wetherington";
	m->format = "hybrid";
	m->location = "Room 2, 10 Main St.";
	m->online_url = kind == MAIL_CONFIRMED || kind == MAIL_PROMOTED ||
	    kind == MAIL_REMINDER || kind == MAIL_ALREADY_REGISTERED ||
	    kind == MAIL_EVENT_CHANGED ? "https://ala.example.org/join?id=1&k=2" : "";
	m->when = "Wednesday, December 16, 2026, 2:00pm - 3:00pm Eastern Time";
	m->was_when = kind == MAIL_EVENT_CHANGED ? "Wednesday, December 16, "
	    "2026, 1:00pm - 2:00pm Eastern Time" : "";
	m->was_location = kind == MAIL_EVENT_CHANGED ? "Room 1, 10 Main St." : "";
	/* what rules/72_notices.sql keeps since 018, to word was_when anew */
	m->was_start = kind == MAIL_EVENT_CHANGED ? "20261216T130000" : "";
	m->was_end = kind == MAIL_EVENT_CHANGED ? "20261216T140000" : "";
	m->was_tz = "America/New_York";
	m->link_changed = kind == MAIL_EVENT_CHANGED;
	m->tzid = "America/New_York";
	m->vtimezone = "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"
	    "BEGIN:STANDARD\r\nDTSTART:20261101T020000\r\n"
	    "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n"
	    "END:VTIMEZONE\r\n";
	m->ical_start = "20261216T140000";
	m->ical_end = "20261216T150000";
	m->ical_stamp = "20261129T190000Z";
	m->sequence = kind == MAIL_EVENT_CHANGED ? 1 : 0;
	m->calendar_sent = kind == MAIL_CANCELLED || kind == MAIL_EVENT_CANCELLED;
	m->place_taken = kind == MAIL_CANCELLED;
	m->has_waitlist = 1;
	/* an hour after ical_stamp, in tzid */
	m->held_until = kind == MAIL_CONFIRM_ADDRESS ? "20261129T150000" :
	    NULL;
	m->date = 1796000000;
	m->message_id = "<fixed@library.example.org>";
	m->boundary = "eventbox-fixed";
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*p;
	long	 n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		fclose(f);
		return NULL;
	}
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static int
lines_within(const struct buf *b, size_t max)
{
	size_t	 i, col = 0;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\n') {
			if (i == 0 || b->data[i - 1] != '\r')
				return 0;	/* bare LF */
			col = 0;
			continue;
		}
		if (++col > max + 1)	/* + the CR */
			return 0;
	}
	return 1;
}

/*
 * The header of a composed message keeps to RFC 5322 2.1.1 and folds at
 * whitespace where there is any: no line is longer than 998 octets, and a
 * line longer than 78 holds one word (after the space that starts a
 * folded line, or after the field's "Name: ").
 */
static int
header_lines_fold_at_spaces(const struct buf *b)
{
	const char	*p = b->data, *eol, *w;
	size_t		 len;

	for (; (eol = strstr(p, "\r\n")) != NULL && eol != p; p = eol + 2) {
		len = (size_t)(eol - p);
		if (len > 998)
			return 0;
		if (len <= 78)
			continue;
		if (*p == ' ')
			w = p + 1;
		else if ((w = strstr(p, ": ")) != NULL && w < eol)
			w += 2;
		else
			w = p;
		if (memchr(w, ' ', (size_t)(eol - w)) != NULL)
			return 0;
	}
	return 1;
}

/* Appends the octets of the base64 text from p to end (line breaks and
 * padding skipped). */
static void
base64_decode(struct buf *out, const char *p, const char *end)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*t;
	unsigned long		 v = 0;
	int			 bits = 0;

	for (; p < end; p++) {
		if ((t = strchr(tab, *p)) == NULL)
			continue;	/* CRLF, '=' */
		v = v << 6 | (unsigned long)(t - tab);
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf_addc(out, (char)(v >> bits & 0xff));
		}
	}
}

/* The text of the calendar part of a composed message (base64-decoded
 * into ics), with its Content-Type line in type; 0, or -1 when the
 * message has no calendar part. */
static int
calendar_part(const struct buf *eml, struct buf *type, struct buf *ics)
{
	const char	*p, *q, *end;

	buf_reset(type);
	buf_reset(ics);
	if (eml->data == NULL ||
	    (p = strstr(eml->data, "Content-Type: text/calendar")) == NULL ||
	    (q = strstr(p, "\r\n\r\n")) == NULL ||
	    (end = strstr(q, "\r\n--")) == NULL)
		return -1;
	buf_add(type, p, strcspn(p, "\r"));
	base64_decode(ics, q + 4, end);
	return 0;
}

/* The header "Name: ..." of a composed message, unfolded (each CRLF
 * before a space removed, RFC 5322 2.2.3), into value. */
static void
header_unfolded(const struct buf *eml, const char *name, struct buf *value)
{
	struct buf	 start = BUF_INIT;
	const char	*p;

	buf_reset(value);
	buf_printf(&start, "\r\n%s: ", name);
	p = strstr(eml->data, start.data);
	for (p = p != NULL ? p + start.len : ""; *p != '\0' &&
	    !(p[0] == '\r' && p[1] == '\n' && p[2] != ' '); p++) {
		if (p[0] == '\r' && p[1] == '\n')
			p++;
		else
			buf_addc(value, *p);
	}
	buf_free(&start);
}

/* Whether every line of the header "Name: ..." of a composed message
 * (folded lines included) is within max octets. */
static int
header_within(const struct buf *eml, const char *name, size_t max)
{
	struct buf	 start = BUF_INIT;
	const char	*p, *eol;
	int		 ok;

	buf_printf(&start, "\r\n%s: ", name);
	p = strstr(eml->data, start.data);
	ok = p != NULL;
	for (p = ok ? p + 2 : ""; ok && (eol = strstr(p, "\r\n")) != NULL;
	    p = eol + 2) {
		ok = (size_t)(eol - p) <= max;
		if (eol[2] != ' ')
			break;
	}
	buf_free(&start);
	return ok;
}

/* The text of the "=?UTF-8?B?...?=" words in s, one after the other (the
 * space between two encoded words is no part of the text: RFC 2047 6.2),
 * each followed by after ("|" to tell them apart, or ""). */
static void
encoded_words_decode(struct buf *out, const char *s, const char *after)
{
	const char	*p, *end;

	while ((p = strstr(s, "=?UTF-8?B?")) != NULL &&
	    (end = strstr(p + 10, "?=")) != NULL) {
		base64_decode(out, p + 10, end);
		buf_adds(out, after);
		s = end + 2;
	}
}

/* The text/plain part of a composed message, quoted-printable decoded
 * into text ("\n" line ends). */
static void
plain_part(const struct buf *eml, struct buf *text)
{
	const char	*p, *end;
	unsigned int	 c;

	buf_reset(text);
	p = strstr(eml->data, "Content-Type: text/plain");
	if (p == NULL || (p = strstr(p, "\r\n\r\n")) == NULL ||
	    (end = strstr(p, "\r\n--")) == NULL)
		return;
	for (p += 4; p < end; p++) {
		if (strncmp(p, "=\r\n", 3) == 0)
			p += 2;
		else if (*p == '=' && sscanf(p + 1, "%2x", &c) == 1) {
			buf_addc(text, (char)c);
			p += 2;
		} else if (*p != '\r')
			buf_addc(text, *p);
	}
}

/* The golden file of one kind in the language in use (i18n_use()). */
static void
golden_one(struct buf *out, enum mail_kind k, const char *suffix, int update)
{
	struct mail_msg	 m;
	char		 path[256], *want;
	size_t		 len;

	sample(&m, k);
	buf_reset(out);
	CHECK(kinds[k], mail_compose(out, &m) == 0);
	CHECK("lines of at most 78 octets, CRLF", lines_within(out, 78));
	snprintf(path, sizeof(path), "tests/golden/mail-%s%s.eml", kinds[k],
	    suffix);
	if (update) {
		FILE	*f = fopen(path, "wb");

		CHECK(path, f != NULL &&
		    fwrite(out->data, 1, out->len, f) == out->len);
		if (f != NULL)
			fclose(f);
		return;
	}
	want = slurp(path, &len);
	CHECK(path, want != NULL && len == out->len &&
	    memcmp(want, out->data, len) == 0);
	free(want);
}

/* Every kind in English; in Spanish (po/es.po, compiled by make locale)
 * the confirmation and the change notice, which say the most, and the
 * request to confirm, which words the hold's end. */
static void
test_golden(int update)
{
	struct buf	 out = BUF_INIT;
	int		 k;

	i18n_use("en");
	for (k = 0; k < MAIL__MAX; k++)
		golden_one(&out, (enum mail_kind)k, "", update);
	CHECK("the Spanish catalogue loads (make locale)",
	    i18n_load("build/locale") >= 1);
	i18n_use("es");
	golden_one(&out, MAIL_CONFIRMED, ".es", update);
	golden_one(&out, MAIL_EVENT_CHANGED, ".es", update);
	golden_one(&out, MAIL_CONFIRM_ADDRESS, ".es", update);
	i18n_use("en");
	buf_free(&out);
}

static void
test_refusals(void)
{
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT;

	sample(&m, MAIL_CONFIRMED);
	m.to_name = "Eve\r\nBcc: evil@example.net";
	CHECK("CRLF in a name", mail_compose(&out, &m) == -1);
	m.to_name = "Eve\nBcc: evil@example.net";
	CHECK("LF in a name", mail_compose(&out, &m) == -1);
	sample(&m, MAIL_CONFIRMED);
	m.to_email = "a@b.org\r\nBcc: evil@example.net";
	CHECK("CRLF in an address", mail_compose(&out, &m) == -1);
	m.to_email = "a@b.org> , <evil@example.net";
	CHECK("brackets in an address", mail_compose(&out, &m) == -1);
	sample(&m, MAIL_CONFIRMED);
	m.title = "Webinar\r\nBcc: evil@example.net";
	CHECK("CRLF in a title (the subject)", mail_compose(&out, &m) == -1);
	sample(&m, MAIL_CONFIRMED);
	m.from = "no address here";
	CHECK("a From without an address", mail_compose(&out, &m) == -1);
	CHECK("nothing written on refusal", out.len == 0);
	buf_free(&out);
}

static void
test_encodings(void)
{
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, hdr = BUF_INIT, words = BUF_INIT;
	struct buf	 want = BUF_INIT;
	char		 addr[64];

	/* A long word of two-byte characters: in the subject, several
	 * encoded words, none longer than 75 octets, folded; in a name, one
	 * encoded word, longer, on a line within 998 (Python's email shows
	 * the cut between two of a name as a space in the word). */
	sample(&m, MAIL_CANCELLED);
	m.to_name = "ÄÖÜäöüÄÖÜäöüÄÖÜäöüÄÖÜäöüÄÖÜäöüÄÖÜäöüÄÖÜäöü";
	m.title = m.to_name;
	CHECK("compose", mail_compose(&out, &m) == 0);
	header_unfolded(&out, "Subject", &hdr);
	CHECK("folded encoded words", strstr(buf_str(&hdr),
	    "?= =?UTF-8?B?") != NULL && header_within(&out, "Subject", 78));
	header_unfolded(&out, "To", &hdr);
	encoded_words_decode(&words, buf_str(&hdr), "|");
	buf_printf(&want, "%s|", m.to_name);
	CHECK("a long word of a name: one encoded word",
	    strcmp(buf_str(&words), want.data) == 0);
	CHECK("a long word of a name: the address on a line of its own",
	    strstr(out.data, "?=\r\n <zoe@example.org>\r\n") != NULL);
	CHECK("lines within 998", lines_within(&out, 998));
	buf_reset(&out);

	/* ASCII with quotes stays one quoted string. */
	sample(&m, MAIL_CANCELLED);
	m.to_name = "Mal \"x\" <evil>";
	CHECK("compose", mail_compose(&out, &m) == 0);
	CHECK("quoted display name", strstr(out.data,
	    "To: \"Mal \\\"x\\\" <evil>\" <zoe@example.org>\r\n") != NULL);
	buf_free(&hdr);
	buf_free(&words);
	buf_free(&want);
	buf_free(&out);

	CHECK("address of Name <a@b>", mail_address("Name <a@b.org>", addr,
	    sizeof(addr)) != NULL && strcmp(addr, "a@b.org") == 0);
	CHECK("bare address", mail_address("a@b.org", addr, sizeof(addr))
	    != NULL && strcmp(addr, "a@b.org") == 0);
	CHECK("no address", mail_address("Name <>", addr, sizeof(addr))
	    == NULL);
	CHECK("a host without a dot", mail_address("eventbox <eventbox@"
	    "localhost>", addr, sizeof(addr)) != NULL &&
	    strcmp(addr, "eventbox@localhost") == 0);
	CHECK("the brackets forgotten", mail_address("Events events@b.org",
	    addr, sizeof(addr)) == NULL);
	CHECK("text after the address", mail_address("Events <events@b.org>"
	    " (Library)", addr, sizeof(addr)) == NULL);
	CHECK("blanks after the address", mail_address("Events <events@b.org>"
	    " \t", addr, sizeof(addr)) != NULL);
	CHECK("no local part", mail_address("Events <@b.org>", addr,
	    sizeof(addr)) == NULL);
	CHECK("no domain", mail_address("Events <events@>", addr,
	    sizeof(addr)) == NULL);
}

/* What the attached event.ics says of the place: the room of a hybrid
 * event, as its public .ics file does, with the link to join for the seat
 * holder; the link itself is the place of an online event. */
static void
test_calendar_place(void)
{
	static const struct {
		const char	*what, *format, *location, *online_url;
		const char	*want;
	} cases[] = {
		{ "hybrid: the room", "hybrid", "Room 2, 10 Main St.",
		    "https://ala.example.org/j",
		    "\r\nLOCATION:Room 2\\, 10 Main St.\r\n"
		    "URL:https://events.example.org/events/" },
		{ "online: the link", "online", "", "https://ala.example.org/j",
		    "\r\nLOCATION:https://ala.example.org/j\r\n" },
		{ "in person: the room", "in_person", "Room 2, 10 Main St.", "",
		    "\r\nLOCATION:Room 2\\, 10 Main St.\r\n" },
	};
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, type = BUF_INIT, ics = BUF_INIT;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sample(&m, MAIL_CONFIRMED);
		m.format = cases[i].format;
		m.location = cases[i].location;
		m.online_url = cases[i].online_url;
		buf_reset(&out);
		CHECK(cases[i].format, mail_compose(&out, &m) == 0 &&
		    calendar_part(&out, &type, &ics) == 0);
		CHECK(cases[i].what, strstr(buf_str(&ics), cases[i].want)
		    != NULL);
		CHECK("the link to join in the DESCRIPTION",
		    *m.online_url == '\0' || strstr(buf_str(&ics),
		    "\r\nDESCRIPTION:https://ala.example.org/j\r\n") != NULL);
	}
	buf_free(&out);
	buf_free(&type);
	buf_free(&ics);
}

/* The reminder asks those who cannot come to cancel in the words of the
 * event's format: only an online event is a "live webinar". */
static void
test_reminder_by_format(void)
{
	static const struct {
		const char	*format, *plea;
	} cases[] = {
		{ "online", "If you are unable to attend the live webinar, "
		    "please cancel your registration:\n" },
		{ "in_person", "If you are unable to come to the event, please "
		    "cancel your registration:\n" },
		{ "hybrid", "If you are unable to attend, in person or online, "
		    "please cancel your registration:\n" },
	};
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, text = BUF_INIT;
	size_t		 i;

	i18n_use("en");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sample(&m, MAIL_REMINDER);
		m.format = cases[i].format;
		buf_reset(&out);
		CHECK("compose a reminder", mail_compose(&out, &m) == 0);
		plain_part(&out, &text);
		CHECK(cases[i].format, strstr(buf_str(&text), cases[i].plea)
		    != NULL);
		CHECK("a webinar only online", (strstr(buf_str(&text),
		    "webinar") != NULL) == (strcmp(m.format, "online") == 0));
	}
	buf_free(&out);
	buf_free(&text);
}

/* In b (emptied first): before, n times word, after; b's text. */
static const char *
repeated(struct buf *b, const char *before, const char *word, int n,
    const char *after)
{
	buf_reset(b);
	buf_adds(b, before);
	while (n-- > 0)
		buf_adds(b, word);
	buf_adds(b, after);
	return b->data;
}

/*
 * A plain-ASCII display name is never sent as encoded words while a line
 * can hold it (base64 of plain ASCII is what spam filters score, and what
 * readers cut apart): a name of atoms folds at its spaces, a long word on
 * a line of its own; another name is one quoted string, never folded
 * inside (Python's compat32 parseaddr() loses the address when it is), on
 * a line of up to 998 octets.  Only a word no line can hold goes as
 * encoded words.  The address stays whole.
 */
static void
test_long_ascii_names(void)
{
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, name = BUF_INIT, want = BUF_INIT;
	struct buf	 to = BUF_INIT, text = BUF_INIT, from = BUF_INIT;

	/* 200 characters and more, in words: atoms, folded. */
	sample(&m, MAIL_CONFIRMED);
	m.to_name = repeated(&name, "Bartholomew", " Bartholomew", 19, "");
	CHECK("compose a long name", mail_compose(&out, &m) == 0);
	CHECK("a long name: lines within 78", lines_within(&out, 78));
	header_unfolded(&out, "To", &to);
	buf_printf(&want, "%s <zoe@example.org>", name.data);
	CHECK("a long name: atoms, unfolded", strcmp(buf_str(&to),
	    want.data) == 0);
	CHECK("a long name: the address whole",
	    strstr(out.data, "\r\n <zoe@example.org>\r\n") != NULL ||
	    strstr(out.data, "Bartholomew <zoe@example.org>\r\n") != NULL);

	/* Atoms with a word longer than a line, in To and in From. */
	buf_reset(&out);
	m.to_name = repeated(&name, "Dr ", "Bartholomew", 8, " Smith");
	m.from = "Consortium PneumonoultramicroscopicsilicovolcanoconiosisPneu"
	    "monoultramicroscopicsilicovolcanoconiosis Learning Services "
	    "<events@library.example.org>";
	CHECK("compose a long word", mail_compose(&out, &m) == 0);
	CHECK("a long word: folded at the spaces, lines within 998",
	    header_lines_fold_at_spaces(&out));
	CHECK("a long word: a line of its own", strstr(out.data,
	    "To: Dr\r\n BartholomewBartholomew") != NULL);
	header_unfolded(&out, "To", &to);
	buf_reset(&want);
	buf_printf(&want, "%s <zoe@example.org>", name.data);
	CHECK("a long word: atoms, not encoded words", strcmp(buf_str(&to),
	    want.data) == 0);
	header_unfolded(&out, "From", &from);
	CHECK("a long word in From: atoms",
	    strcmp(buf_str(&from), m.from) == 0);
	m.from = "Learning Services <events@library.example.org>";

	/* A long word with a quote in it: one quoted string, unfolded. */
	buf_reset(&out);
	m.to_name = repeated(&name, "\"", "Bartholomew", 10, "");
	CHECK("compose a quoted long word", mail_compose(&out, &m) == 0);
	CHECK("a quoted long word: lines within 998",
	    header_lines_fold_at_spaces(&out));
	buf_reset(&want);
	buf_printf(&want, "\r\nTo: \"\\%s\"\r\n <zoe@example.org>\r\n",
	    name.data);
	CHECK("a quoted long word: one quoted string, the address whole",
	    strstr(out.data, want.data) != NULL);

	/* Words that need quotes, longer than a line: not folded inside. */
	buf_reset(&out);
	m.to_name = repeated(&name, "Smith,", " Bartholomew", 16, "");
	CHECK("compose a long quoted name", mail_compose(&out, &m) == 0);
	buf_reset(&want);
	buf_printf(&want, "\r\nTo: \"%s\"\r\n <zoe@example.org>\r\n",
	    name.data);
	CHECK("a long quoted name: one line, the address after",
	    strstr(out.data, want.data) != NULL);

	/* A word no line can hold: encoded words, folded. */
	buf_reset(&out);
	m.to_name = repeated(&name, "", "Bartholomew", 100, "");
	CHECK("compose a word of 1100", mail_compose(&out, &m) == 0);
	CHECK("a word of 1100: lines within 78", lines_within(&out, 78));
	header_unfolded(&out, "To", &to);
	buf_reset(&text);
	encoded_words_decode(&text, buf_str(&to), "");
	CHECK("a word of 1100: encoded words that say the name",
	    strncmp(buf_str(&to), "=?UTF-8?B?", 10) == 0 &&
	    strcmp(buf_str(&text), name.data) == 0);
	CHECK("a word of 1100: the address whole", strstr(out.data,
	    "?=\r\n <zoe@example.org>\r\n") != NULL);
	buf_free(&out);
	buf_free(&name);
	buf_free(&want);
	buf_free(&to);
	buf_free(&text);
	buf_free(&from);
}

/*
 * An ASCII subject folds at its spaces; a word longer than a line (a long
 * word, a link in a title) stays whole on a line of its own rather than
 * go as encoded words, and only one no line can hold goes as encoded words.
 */
static void
test_long_words_in_the_subject(void)
{
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, title = BUF_INIT, subject = BUF_INIT;
	struct buf	 text = BUF_INIT, want = BUF_INIT;

	i18n_use("en");
	sample(&m, MAIL_CONFIRMED);
	m.title = repeated(&title, "The ", "Bartholomew", 8,
	    " workshop, for everyone who likes long words a lot");
	CHECK("compose a long word", mail_compose(&out, &m) == 0);
	CHECK("a long word: folded at the spaces, lines within 998",
	    header_lines_fold_at_spaces(&out));
	header_unfolded(&out, "Subject", &subject);
	buf_printf(&want, "Registration confirmed: %s", title.data);
	CHECK("a long word: plain text, whole", strcmp(buf_str(&subject),
	    want.data) == 0);

	buf_reset(&out);
	m.title = repeated(&title, "", "Bartholomew", 100, "");
	CHECK("compose a word of 1100", mail_compose(&out, &m) == 0);
	CHECK("a word of 1100: lines within 78", lines_within(&out, 78));
	header_unfolded(&out, "Subject", &subject);
	encoded_words_decode(&text, buf_str(&subject), "");
	buf_reset(&want);
	buf_printf(&want, "Registration confirmed: %s", title.data);
	CHECK("a word of 1100: encoded words that say it",
	    strcmp(buf_str(&text), want.data) == 0);
	buf_free(&out);
	buf_free(&title);
	buf_free(&subject);
	buf_free(&text);
	buf_free(&want);
}

/* Whether the encoded words of a header (decoded, each followed by '|')
 * say the text, each cut after a space or, with no space in it and when
 * inside, inside a word too long for one, and none inside a UTF-8
 * character. */
static int
cut_at_spaces(const char *words, const char *text, int inside)
{
	struct buf	 all = BUF_INIT;
	const char	*p, *bar;
	int		 ok = 1;

	for (p = words; (bar = strchr(p, '|')) != NULL; p = bar + 1) {
		if (!utf8_valid(p, (size_t)(bar - p)) || (bar[1] != '\0' &&
		    bar[-1] != ' ' && (!inside ||
		    memchr(p, ' ', (size_t)(bar - p)) != NULL)))
			ok = 0;
		buf_add(&all, p, (size_t)(bar - p));
	}
	ok = ok && strcmp(buf_str(&all), text) == 0;
	buf_free(&all);
	return ok;
}

/*
 * Encoded words are cut at the text's own spaces, the space inside the
 * encoded text: the whitespace between two of them is no part of the text
 * (RFC 2047 6.2), but Python's email (policy.default) shows it in a name,
 * and a cut inside a word then shows the word in two.  A word too long for
 * one encoded word is cut inside, between two characters, in the subject
 * (which Python reads whole); in a name it is one longer encoded word.
 */
static void
test_encoded_words_cut_at_spaces(void)
{
	static const char *const names[] = {
		"Bérénice-Amélie Rosemonde Dûbois-Bénard Éloïse-Françoise "
		    "Ångström Müller-Lüdenscheid",
		"Zoë üüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüü"
		    "üü—€ Ünal",
		"日本語のイベントに参加する人の名前はとても長いかもしれません"
		    "日本語のイベント",
	};
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, hdr = BUF_INIT, words = BUF_INIT;
	struct buf	 want = BUF_INIT;
	size_t		 i;

	i18n_use("en");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		sample(&m, MAIL_CONFIRMED);
		m.to_name = names[i];
		m.title = names[i];
		buf_reset(&out);
		CHECK("compose", mail_compose(&out, &m) == 0);
		CHECK("lines within 998", lines_within(&out, 998));
		CHECK("the subject's lines within 78", header_within(&out,
		    "Subject", 78));
		CHECK("the name's lines within 78 but for a word too long",
		    i != 0 || header_within(&out, "To", 78));
		header_unfolded(&out, "To", &hdr);
		buf_reset(&words);
		encoded_words_decode(&words, buf_str(&hdr), "|");
		CHECK(names[i], cut_at_spaces(buf_str(&words), names[i], 0));
		CHECK("a cut at a space", i != 0 ||
		    strstr(buf_str(&words), " |") != NULL);
		header_unfolded(&out, "Subject", &hdr);
		buf_reset(&words);
		encoded_words_decode(&words, buf_str(&hdr), "|");
		buf_reset(&want);
		buf_printf(&want, "Registration confirmed: %s", names[i]);
		CHECK("the subject", cut_at_spaces(buf_str(&words), want.data,
		    1));
	}
	buf_free(&out);
	buf_free(&hdr);
	buf_free(&words);
	buf_free(&want);
}

/*
 * Text that looks like an encoded word ("=?utf-8?q?x?=", in a title or a
 * name) goes as encoded words itself (RFC 2047 5): as it was, readers
 * decoded it into text it never had ("Intro to x"), even inside a quoted
 * string or a word.
 */
static void
test_encoded_word_lookalikes(void)
{
	static const char *const texts[] = {
		"Intro to =?utf-8?q?x?=",
		"=?UTF-8?B?QmFk?=",
		"Ann x=?iso-8859-1?q?Bob?=y Lee",
		"What =? is this ?= then",
	};
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, hdr = BUF_INIT, text = BUF_INIT;
	struct buf	 want = BUF_INIT;
	size_t		 i;

	i18n_use("en");
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		sample(&m, MAIL_CONFIRMED);
		m.title = m.to_name = texts[i];
		buf_reset(&out);
		CHECK("compose", mail_compose(&out, &m) == 0);
		CHECK("lines within 78", lines_within(&out, 78));
		header_unfolded(&out, "Subject", &hdr);
		buf_reset(&text);
		encoded_words_decode(&text, buf_str(&hdr), "");
		buf_reset(&want);
		buf_printf(&want, "Registration confirmed: %s", texts[i]);
		CHECK(texts[i], strncmp(buf_str(&hdr), "=?UTF-8?B?", 10) == 0 &&
		    strcmp(buf_str(&text), want.data) == 0);
		header_unfolded(&out, "To", &hdr);
		buf_reset(&text);
		encoded_words_decode(&text, buf_str(&hdr), "");
		CHECK("the name", strncmp(buf_str(&hdr), "=?UTF-8?B?", 10) == 0 &&
		    strcmp(buf_str(&text), texts[i]) == 0);
	}
	/* "=?" alone, or "?=" before it, is no encoded word: plain text. */
	sample(&m, MAIL_CONFIRMED);
	m.title = "Why?= Who=?";
	buf_reset(&out);
	CHECK("compose", mail_compose(&out, &m) == 0);
	CHECK("no encoded word where none is", strstr(out.data,
	    "\r\nSubject: Registration confirmed: Why?= Who=?\r\n") != NULL);
	buf_free(&out);
	buf_free(&hdr);
	buf_free(&text);
	buf_free(&want);
}

/* A cancelled registration that was sent a calendar entry has it removed
 * (iTIP CANCEL, RFC 5546 3.2.5: the same UID, STATUS:CANCELLED, the
 * event's SEQUENCE); one that only waited, and was sent none, gets none. */
static void
test_cancelled_removes_the_entry(void)
{
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, type = BUF_INIT, ics = BUF_INIT;

	sample(&m, MAIL_CANCELLED);
	m.registration_status = "cancelled";
	m.sequence = 3;
	CHECK("compose a receipt", mail_compose(&out, &m) == 0);
	CHECK("a receipt: a calendar part",
	    calendar_part(&out, &type, &ics) == 0);
	CHECK("a receipt: the part says method=CANCEL",
	    strstr(buf_str(&type), "; method=CANCEL;") != NULL);
	CHECK("a receipt: METHOD:CANCEL",
	    strstr(buf_str(&ics), "\r\nMETHOD:CANCEL\r\n") != NULL);
	CHECK("a receipt: the event's UID", strstr(buf_str(&ics),
	    "\r\nUID:event-42@events.example.org\r\n") != NULL);
	CHECK("a receipt: STATUS:CANCELLED",
	    strstr(buf_str(&ics), "\r\nSTATUS:CANCELLED\r\n") != NULL);
	CHECK("a receipt: the event's SEQUENCE",
	    strstr(buf_str(&ics), "\r\nSEQUENCE:3\r\n") != NULL);

	buf_reset(&out);
	m.calendar_sent = 0;
	CHECK("compose a receipt, no entry sent", mail_compose(&out, &m) == 0);
	CHECK("no entry sent: no calendar part",
	    calendar_part(&out, &type, &ics) == -1);
	CHECK("no entry sent: no multipart/mixed",
	    strstr(out.data, "multipart/mixed") == NULL);
	buf_free(&out);
	buf_free(&type);
	buf_free(&ics);
}

/* A receipt of a cancellation staff made says so, and does not thank
 * the patron for letting us know. */
static void
test_cancelled_by_staff(void)
{
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, text = BUF_INIT;

	i18n_use("en");
	sample(&m, MAIL_CANCELLED);
	m.registration_status = "cancelled";
	m.by_staff = 1;
	CHECK("compose a staff cancellation", mail_compose(&out, &m) == 0);
	plain_part(&out, &text);
	CHECK("staff: says staff cancelled", strstr(buf_str(&text),
	    "Library staff have cancelled your registration.") != NULL);
	CHECK("staff: no thanks for letting us know",
	    strstr(buf_str(&text), "letting us know") == NULL);
	buf_reset(&out);
	m.by_staff = 0;
	CHECK("compose a patron's cancellation", mail_compose(&out, &m) == 0);
	plain_part(&out, &text);
	CHECK("patron: thanks", strstr(buf_str(&text),
	    "Thank you for letting us know") != NULL);
	CHECK("patron: the place went on", strstr(buf_str(&text),
	    "your place goes to the next person waiting") != NULL);
	buf_reset(&out);
	m.place_taken = 0;
	CHECK("compose a cancellation nobody moved up for",
	    mail_compose(&out, &m) == 0);
	plain_part(&out, &text);
	CHECK("nobody moved up: no word of a next person", strstr(buf_str(&text),
	    "next person waiting") == NULL);
	buf_free(&out);
	buf_free(&text);
}

/* A place on the waiting list given up is said to be, in the subject and
 * the body, by the patron or by staff: no registration with a seat was
 * cancelled, and no place went to anyone. */
static void
test_left_the_waiting_list(void)
{
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, text = BUF_INIT, subject = BUF_INIT;

	i18n_use("en");
	sample(&m, MAIL_CANCELLED);
	m.registration_status = "cancelled";
	m.left_waitlist = 1;
	m.place_taken = 0;
	m.title = "Story time";	/* ASCII: a subject not encoded */
	m.calendar_sent = 0;
	CHECK("compose leaving the list", mail_compose(&out, &m) == 0);
	plain_part(&out, &text);
	header_unfolded(&out, "Subject", &subject);
	CHECK("left: the subject says so", strcmp(buf_str(&subject),
	    "You have left the waiting list: Story time") == 0);
	CHECK("left: the body says so", strstr(buf_str(&text),
	    "You have left the waiting list. Thank you for letting us "
	    "know.") != NULL);
	CHECK("left: no registration cancelled", strstr(buf_str(&text),
	    "registration has been cancelled") == NULL);
	buf_reset(&out);
	m.by_staff = 1;
	CHECK("compose taken off the list", mail_compose(&out, &m) == 0);
	plain_part(&out, &text);
	CHECK("staff: took the patron off the list", strstr(buf_str(&text),
	    "Library staff have taken you off the waiting list.") != NULL);
	CHECK("staff: no registration cancelled", strstr(buf_str(&text),
	    "cancelled your registration") == NULL);
	buf_reset(&out);
	i18n_use("es");
	CHECK("compose it in Spanish", mail_compose(&out, &m) == 0);
	header_unfolded(&out, "Subject", &subject);
	CHECK("es: the subject is translated", strcmp(buf_str(&subject),
	    "Ha salido de la lista de espera: Story time") == 0);
	i18n_use("en");
	buf_free(&out);
	buf_free(&text);
	buf_free(&subject);
}

/* A confirmation's plea to cancel names the waiting list only on an event
 * that takes one: on another, nobody waits for the seat. */
static void
test_plea_without_a_waiting_list(void)
{
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, text = BUF_INIT;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		i18n_use(i == 0 ? "en" : "es");
		sample(&m, MAIL_CONFIRMED);
		m.has_waitlist = 0;
		buf_reset(&out);
		CHECK("compose without a waiting list",
		    mail_compose(&out, &m) == 0);
		plain_part(&out, &text);
		CHECK("no waiting list named", strstr(buf_str(&text),
		    i == 0 ? "waiting list" : "lista de espera") == NULL);
		CHECK("the plea to cancel still made", strstr(buf_str(&text),
		    i == 0 ? "so that someone else can have your seat" :
		    "para que otra persona pueda ocupar su lugar") != NULL);
	}
	i18n_use("en");
	buf_free(&out);
	buf_free(&text);
}

/* In the text part every link stands on a line of its own, the token's,
 * the online URL and the event page's alike: after a sentence or a label
 * ("Página del evento: "), a plain reader that wraps at its window's
 * width, or a reply that quotes and rewraps it, starts it mid-line or
 * cuts it in two, and the patron copies half a link. */
static void
test_token_links_on_their_own_lines(void)
{
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, text = BUF_INIT;
	const char	*p, *start, *end;
	char		 what[64];
	int		 k, lang, seen;

	for (lang = 0; lang < 2; lang++) {
		i18n_use(lang == 0 ? "en" : "es");
		for (k = 0; k < MAIL__MAX; k++) {
			sample(&m, (enum mail_kind)k);
			buf_reset(&out);
			CHECK(kinds[k], mail_compose(&out, &m) == 0);
			plain_part(&out, &text);
			seen = 0;
			for (p = buf_str(&text); (p = strstr(p, m.token)) !=
			    NULL && *m.token != '\0'; p++) {
				for (start = p; start > text.data &&
				    start[-1] != '\n'; start--)
					;
				end = strchr(p, '\n');
				snprintf(what, sizeof(what), "%s (%s): %.30s",
				    kinds[k], lang == 0 ? "en" : "es", start);
				CHECK(what, strncmp(start, m.base_url,
				    strlen(m.base_url)) == 0 && end != NULL &&
				    memchr(start, ' ', (size_t)(end - start)) ==
				    NULL);
				seen++;
			}
			CHECK(kinds[k], seen > 0 || *m.token == '\0');
			for (p = buf_str(&text); (p = strstr(p, "https://")) !=
			    NULL; p++) {
				end = strchr(p, '\n');
				snprintf(what, sizeof(what), "%s (%s): %.40s",
				    kinds[k], lang == 0 ? "en" : "es", p);
				CHECK(what, (p == text.data || p[-1] == '\n') &&
				    end != NULL && memchr(p, ' ',
				    (size_t)(end - p)) == NULL);
			}
		}
	}
	i18n_use("en");
	buf_free(&out);
	buf_free(&text);
}

/*
 * A name that is a link or an address (a registration an older release
 * took, or staff typed at psql) is neither greeted nor the display name:
 * the email would carry the text to whatever address was typed.
 */
static void
test_names_that_are_messages(void)
{
	static const char *const lures[] = {
		"Claim your $500 gift card at https://lure.example/x",
		"Gift card: www.lure.example", "write to prize@lure.example",
	};
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT;
	size_t		 i;

	for (i = 0; i < sizeof(lures) / sizeof(lures[0]); i++) {
		sample(&m, MAIL_REMINDER);
		m.to_name = lures[i];
		CHECK("compose", mail_compose(&out, &m) == 0);
		CHECK("greeted without the name", strstr(out.data,
		    "Hello,\r\n") != NULL);
		CHECK("addressed without the name", strstr(out.data,
		    "\r\nTo: <zoe@example.org>\r\n") != NULL);
		CHECK("the text is nowhere", strstr(out.data, "lure") == NULL);
		buf_reset(&out);
	}
	sample(&m, MAIL_REMINDER);
	CHECK("compose", mail_compose(&out, &m) == 0);
	CHECK("a person's name is greeted", strstr(out.data,
	    "Hello Zo") != NULL);
	buf_free(&out);
}

/* Whether a quoted-printable soft line break of the message falls inside
 * a UTF-8 character: "=\r\n" followed by "=80" to "=BF", a continuation
 * octet, on the next line. */
static int
qp_splits_a_character(const struct buf *eml)
{
	const char	*p;
	unsigned int	 c;

	for (p = eml->data; (p = strstr(p, "=\r\n=")) != NULL; p += 3)
		if (sscanf(p + 4, "%2X", &c) == 1 && c >= 0x80 && c <= 0xbf)
			return 1;
	return 0;
}

/* Whether every line after the message's header is within max octets. */
static int
body_lines_within(const struct buf *eml, size_t max)
{
	const char	*p, *eol;

	if (eml->data == NULL || (p = strstr(eml->data, "\r\n\r\n")) == NULL)
		return 0;
	for (p += 4; (eol = strstr(p, "\r\n")) != NULL; p = eol + 2)
		if ((size_t)(eol - p) > max)
			return 0;
	return 1;
}

/*
 * A soft line break of the quoted-printable bodies never cuts a character
 * in two: RFC 2045 allows it, but a reader that decodes (or converts from
 * UTF-8) one line at a time, as some webmail and mail-to-ticket gateways
 * do, shows both halves as mojibake.  Every golden's title cut its "—"
 * between "=E2" and "=80=94".  Two-, three- and four-octet characters at
 * every offset of a line; the text still decodes to itself.
 */
static void
test_qp_keeps_characters_whole(void)
{
	static const char *const chars[] = { "é", "—", "😀" };
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, desc = BUF_INIT, text = BUF_INIT;
	size_t		 i, lead;

	for (i = 0; i < sizeof(chars) / sizeof(chars[0]); i++)
		for (lead = 0; lead < 12; lead++) {
			buf_reset(&desc);
			buf_printf(&desc, "%.*s", (int)lead, "xxxxxxxxxxxx");
			while (desc.len < 400)
				buf_adds(&desc, chars[i]);
			sample(&m, MAIL_CONFIRMED);
			m.description = desc.data;
			buf_reset(&out);
			CHECK("compose", mail_compose(&out, &m) == 0);
			CHECK("no soft break inside a character",
			    !qp_splits_a_character(&out));
			CHECK("lines of at most 76 octets after the header",
			    body_lines_within(&out, 76));
			plain_part(&out, &text);
			CHECK("the text decodes to itself",
			    strstr(buf_str(&text), desc.data) != NULL);
		}
	buf_free(&out);
	buf_free(&desc);
	buf_free(&text);
}

/*
 * The display name of EVENTBOX_MAIL_FROM reaches readers as the sender
 * wrote it: a quoted string is unquoted once (its quoted pairs too), so a
 * name with quotes in it shows no backslashes and loses no quote; a name
 * that is not one quoted string keeps its quotes.  An address with a
 * comment or a space after it ("events@x.org (Library)") is no address:
 * it went as the From and the envelope sender, and a relay refused every
 * message.
 */
static void
test_sender_names(void)
{
	static const struct {
		const char	*from, *header;
	} cases[] = {
		{ "\"The \\\"Main\\\" Library\" <events@library.example.org>",
		    "From: \"The \\\"Main\\\" Library\" <events@library.example.org>" },
		{ "Library \"Main\" <events@library.example.org>",
		    "From: \"Library \\\"Main\\\"\" <events@library.example.org>" },
		{ "\"Library, Main Branch\" <events@library.example.org>",
		    "From: \"Library, Main Branch\" <events@library.example.org>" },
		{ "\"A\\\\B\" <events@library.example.org>",
		    "From: \"A\\\\B\" <events@library.example.org>" },
		{ "  Learning Services  <events@library.example.org>",
		    "From: Learning Services <events@library.example.org>" },
		{ "<events@library.example.org>",
		    "From: <events@library.example.org>" },
	};
	static const char *const not_addresses[] = {
		"events@library.example.org (Library)",
		"Library <events@library.example.org (x)>",
		"Library <events @library.example.org>",
		"Library <a@b.org>, <c@d.org>",
	};
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, want = BUF_INIT;
	char		 addr[256];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sample(&m, MAIL_CONFIRMED);
		m.from = cases[i].from;
		buf_reset(&out);
		buf_reset(&want);
		buf_printf(&want, "\r\n%s\r\n", cases[i].header);
		CHECK(cases[i].from, mail_compose(&out, &m) == 0 &&
		    strstr(out.data, want.data) != NULL);
	}
	for (i = 0; i < sizeof(not_addresses) / sizeof(not_addresses[0]);
	    i++) {
		sample(&m, MAIL_CONFIRMED);
		m.from = not_addresses[i];
		buf_reset(&out);
		CHECK(not_addresses[i], mail_address(m.from, addr,
		    sizeof(addr)) == NULL && mail_compose(&out, &m) == -1);
	}
	buf_free(&out);
	buf_free(&want);
}

/*
 * No line of a body starts with "From ": a mailbox file (mbox, where
 * local delivery and many readers keep mail) starts each message with such
 * a line, so delivery writes ">From " instead, and readers such as mutt
 * then show the ">" in the text ("From 2pm, bring a laptop." in an event's
 * description).  Quoted-printable writes the F as "=46" (RFC 2049 3), at
 * the start of a line of the text and after a soft line break alike.
 */
static void
test_no_line_starts_with_from(void)
{
	static const char *const descs[] = {
		"From beginner to expert.\n\nFrom 2pm, bring a laptop.",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxFrom here on, a word.",
		"Fromage tasting.\nFrom:",
	};
	struct mail_msg	 m;
	struct buf	 out = BUF_INIT, text = BUF_INIT;
	size_t		 i;

	for (i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		sample(&m, MAIL_CONFIRMED);
		m.description = descs[i];
		buf_reset(&out);
		CHECK("compose", mail_compose(&out, &m) == 0);
		CHECK("no line starts with \"From \"", out.data != NULL &&
		    strncmp(out.data, "From ", 5) != 0 &&
		    strstr(out.data, "\r\nFrom ") == NULL);
		plain_part(&out, &text);
		CHECK("the text decodes to itself",
		    strstr(buf_str(&text), descs[i]) != NULL);
	}
	buf_free(&out);
	buf_free(&text);
}

int
main(int argc, char **argv)
{
	test_golden(argc > 1 && strcmp(argv[1], "--update") == 0);
	test_refusals();
	test_encodings();
	test_calendar_place();
	test_reminder_by_format();
	test_long_ascii_names();
	test_long_words_in_the_subject();
	test_encoded_words_cut_at_spaces();
	test_encoded_word_lookalikes();
	test_cancelled_removes_the_entry();
	test_cancelled_by_staff();
	test_left_the_waiting_list();
	test_plea_without_a_waiting_list();
	test_token_links_on_their_own_lines();
	test_names_that_are_messages();
	test_qp_keeps_characters_whole();
	test_sender_names();
	test_no_line_starts_with_from();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
