/*
 * mail.c: composing the patrons' emails (see mail.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "i18n.h"
#include "ical.h"
#include "mail.h"
#include "mime.h"
#include "validate.h"

static const char *const kind_names[MAIL__MAX] = {
	[MAIL_CONFIRMED] = "confirmed",
	[MAIL_WAITLISTED] = "waitlisted",
	[MAIL_PROMOTED] = "promoted",
	[MAIL_CANCELLED] = "cancelled",
	[MAIL_ALREADY_REGISTERED] = "already_registered",
	[MAIL_REMINDER] = "reminder",
	[MAIL_EVENT_CANCELLED] = "event_cancelled",
	[MAIL_CONFIRM_ADDRESS] = "confirm_address",
	[MAIL_EVENT_CHANGED] = "event_changed",
};

/* TRANSLATORS: the subjects; the event's title follows each. */
static const char *const subjects[MAIL__MAX] = {
	[MAIL_CONFIRMED] = N_("Registration confirmed: "),
	[MAIL_WAITLISTED] = N_("Waiting list: "),
	[MAIL_PROMOTED] = N_("A seat opened up, you are registered: "),
	[MAIL_CANCELLED] = N_("Registration cancelled: "),
	[MAIL_ALREADY_REGISTERED] = N_("You are already registered: "),
	[MAIL_REMINDER] = N_("Reminder: "),
	[MAIL_EVENT_CANCELLED] = N_("Event cancelled: "),
	[MAIL_CONFIRM_ADDRESS] = N_("Please confirm your registration: "),
	[MAIL_EVENT_CHANGED] = N_("Event changed: "),
};

int
mail_kind_parse(const char *s, enum mail_kind *kind)
{
	int	 i;

	for (i = 0; i < MAIL__MAX; i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*kind = (enum mail_kind)i;
			return 0;
		}
	return -1;
}

/*
 * The addr-spec of "Name <addr>" (or of a bare address), or NULL: nothing
 * but blanks after the '>', no '<' or '>' in the name, and an address
 * (sender_valid()) with no space, comment or list in it, so that "Events
 * events@example.org", the brackets forgotten, or "a@b.org (Library)" is
 * never the envelope sender and the From: header, which no relay takes.
 */
const char *
mail_address(const char *from, char *dst, size_t dstsz)
{
	const char	*lt = strrchr(from, '<'), *gt, *p;
	size_t		 n;

	if (lt == NULL) {
		lt = from - 1;
		gt = from + strlen(from);
	} else if ((gt = strchr(lt, '>')) == NULL ||
	    gt[1 + strspn(gt + 1, " \t")] != '\0')
		return NULL;
	for (p = from; p < lt; p++)
		if (*p == '>')
			return NULL;
	n = (size_t)(gt - lt - 1);
	if (n >= dstsz || !sender_valid(lt + 1, n))
		return NULL;
	for (p = lt + 1; p < gt; p++)
		if (strchr(" \t(),;<>\"\\", *p) != NULL)
			return NULL;
	memcpy(dst, lt + 1, n);
	dst[n] = '\0';
	return dst;
}

/* The display name of EVENTBOX_MAIL_FROM ("Name <addr>"), as readers are
 * to show it: one quoted string is unquoted (its quoted pairs too: RFC
 * 5322 3.2.4), any other name is taken as it is, quotes and all. */
static void
from_display(struct buf *out, const char *from)
{
	const char	*lt = strrchr(from, '<'), *p, *q, *end;

	if (lt == NULL)
		return;
	p = from + strspn(from, " \t");
	for (end = lt; end > p && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	if (end - p >= 2 && *p == '"') {
		for (q = p + 1; q < end && *q != '"'; q++)
			if (*q == '\\')
				q++;
		if (q == end - 1) {
			for (q = p + 1; q < end - 1; q++) {
				if (*q == '\\')
					q++;
				buf_addc(out, *q);
			}
			return;
		}
	}
	buf_add(out, p, (size_t)(end - p));
}

static int
safe(const char *s)
{
	return s != NULL && header_safe(s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* Bodies: the same words as text and as HTML */

struct body {
	struct buf	 text;
	struct buf	 html;
	int		 p_empty;	/* the last <p> has nothing yet */
};

static void
say(struct body *b, const char *s)
{
	buf_adds(&b->text, s);
	html_esc(&b->html, s);
	b->p_empty = 0;
}

/* Text staff wrote in lang (the event's language): in the HTML, in a
 * <span lang> where that is not the email's (lang_mark()). */
static void
say_in(struct body *b, const char *s, const char *lang)
{
	struct buf	 mark = BUF_INIT;

	lang_mark(&mark, LANG_HTML, lang, i18n_lang());
	if (mark.len > 0)
		buf_printf(&b->html, "<span%s>", mark.data);
	say(b, s);
	if (mark.len > 0)
		buf_adds(&b->html, "</span>");
	buf_free(&mark);
}

/* A translated template with one {name} filled in. */
static void
say1(struct body *b, const char *tpl, const char *name, const char *value)
{
	struct buf	 t = BUF_INIT;
	const char	*kv[2] = { name, value };

	i18n_fill(&t, tpl, kv, 2);
	say(b, t.data);
	buf_free(&t);
}

/* Staff's multi-line text in lang: paragraphs and lists, as on the event
 * page, in a <div lang> where lang is not the email's. */
static void
say_paragraphs(struct body *b, const char *s, const char *lang)
{
	struct buf	 mark = BUF_INIT;

	buf_adds(&b->text, s);
	if (b->p_empty && b->html.len >= 3 &&
	    strcmp(b->html.data + b->html.len - 3, "<p>") == 0)
		b->html.data[b->html.len -= 3] = '\0';
	else
		buf_adds(&b->html, "</p>\n");
	lang_mark(&mark, LANG_HTML, lang, i18n_lang());
	if (mark.len > 0)
		buf_printf(&b->html, "<div%s>\n", mark.data);
	html_paragraphs(&b->html, s);
	if (mark.len > 0)
		buf_adds(&b->html, "</div>\n");
	buf_adds(&b->html, "<p>");
	b->p_empty = 1;
	buf_free(&mark);
}

/* Ends a paragraph: one blank line in the text, whatever came before. */
static void
para(struct body *b)
{
	if (b->text.len > 0 && b->text.data[b->text.len - 1] != '\n')
		buf_addc(&b->text, '\n');
	buf_addc(&b->text, '\n');
	if (!b->p_empty)
		buf_adds(&b->html, "</p>\n<p>");
	b->p_empty = 1;
}

static void
add_link(struct body *b, const char *url)
{
	buf_adds(&b->text, url);
	buf_adds(&b->html, "<a href=\"");
	html_esc(&b->html, url);
	buf_adds(&b->html, "\">");
	html_esc(&b->html, url);
	buf_adds(&b->html, "</a>");
	b->p_empty = 0;
}

/* Ends the line of b (text or HTML) at its last word, blanks dropped. */
static void
trim_end(struct buf *b)
{
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->data[--b->len] = '\0';
}

/* A link to one of the pages the patron's token opens, on a line of its
 * own: in the text, the URL, which a plain reader's wrapping then never
 * starts mid-line nor cuts; in the HTML, named as that page names itself
 * (its button, its heading): a screen reader's list of links shows the
 * name alone, and would spell out the URL's token letter by letter. */
static void
named_link(struct body *b, const char *name, const char *url)
{
	trim_end(&b->text);
	buf_addc(&b->text, '\n');
	buf_adds(&b->text, url);
	trim_end(&b->html);
	buf_adds(&b->html, "<br>\n<a href=\"");
	html_esc(&b->html, url);
	buf_adds(&b->html, "\">");
	html_esc(&b->html, name);
	buf_adds(&b->html, "</a>");
	b->p_empty = 0;
}

/* "Label: value"; a value staff wrote is in lang (else NULL).  A link
 * goes on a line of its own, after its label: a reader that wraps lines
 * at its window's width (mutt's pager, w3m's 80 columns for the HTML)
 * cut one that followed a long label ("Página del evento: "), and a
 * terminal then opens the link without its end. */
static void
field(struct body *b, const char *label, const char *value, int is_link,
    const char *lang)
{
	struct buf	 l = BUF_INIT;

	if (value == NULL || *value == '\0')
		return;
	/* TRANSLATORS: a label and its value ("When: ..."); French puts a
	 * space before the colon. */
	buf_printf(&l, _("%s: "), label);
	buf_adds(&b->text, l.data);
	while (l.len > 0 && l.data[l.len - 1] == ' ')
		l.data[--l.len] = '\0';
	buf_adds(&b->html, "<strong>");
	html_esc(&b->html, l.data);
	buf_adds(&b->html, "</strong> ");
	buf_free(&l);
	if (is_link) {
		trim_end(&b->text);
		buf_addc(&b->text, '\n');
		trim_end(&b->html);
		buf_adds(&b->html, "<br>\n");
		add_link(b, value);
	} else
		say_in(b, value, lang);
	buf_adds(&b->text, "\n");
	buf_adds(&b->html, "<br>\n");
}

/* "Wednesday, December 16, 2026, 2:00pm to 3:00pm Eastern Time" in the
 * email's language; what eventbox.human_when() said if the times are
 * missing (a mail_msg built by hand). */
static const char *
mail_when(struct buf *b, const struct mail_msg *m)
{
	if (m->ical_start == NULL || i18n_when(b, m->ical_start, m->ical_end,
	    m->tzid) == -1)
		return m->when;
	return b->data;
}

/*
 * what: "cancel" or "confirm", the pages of page_cancel.c, page_confirm.c.
 * The token's pages speak the registrant's language, the email's, without
 * a ?lang= (page_token_lang()), which took a Spanish link past 80 columns
 * and a mail reader wrapped it.
 */
static void
token_link(struct body *b, const struct mail_msg *m, const char *what)
{
	char	 url[1024];

	snprintf(url, sizeof(url), "%s/%s/%s", m->base_url, what, m->token);
	/* the buttons of page_confirm.c and page_cancel.c */
	if (strcmp(what, "confirm") == 0)
		named_link(b, _("Confirm my registration"), url);
	else if (strcmp(m->registration_status, "waitlisted") == 0)
		named_link(b, _("Leave the waiting list"), url);
	else
		named_link(b, _("Cancel my registration"), url);
}

/* The "my registration" page (page_registration.c), in the email's
 * language as token_link()'s. */
static void
registration_link(struct body *b, const struct mail_msg *m)
{
	char	 url[1024];

	snprintf(url, sizeof(url), "%s/registration/%s", m->base_url,
	    m->token);
	/* the page's heading (page_registration.c) */
	named_link(b, _("Your registration"), url);
}

static void
details(struct body *b, const struct mail_msg *m)
{
	char	 url[1024];

	struct buf	 when = BUF_INIT;

	field(b, _("Event"), m->title, 0, m->event_language);
	field(b, _("When"), mail_when(&when, m), 0, NULL);
	field(b, _("Presenter"), m->presenter, 0, NULL);
	if (strcmp(m->format, "online") != 0)
		field(b, _("Where"), m->location, 0, m->event_language);
	field(b, _("Join online"), m->online_url, 1, NULL);
	snprintf(url, sizeof(url), "%s/events/%s", m->base_url, m->event_slug);
	if (strcmp(i18n_lang(), "en") != 0)
		snprintf(url + strlen(url), sizeof(url) - strlen(url),
		    "?lang=%s", i18n_lang());
	field(b, _("Event page"), url, 1, NULL);
	buf_free(&when);
}

static int
is_confirmed(const struct mail_msg *m)
{
	return strcmp(m->registration_status, "confirmed") == 0;
}

/* An event_changed notice: what changed, then the event as it is now. */
static void
changes(struct body *b, const struct mail_msg *m)
{
	struct buf	 was = BUF_INIT;

	say(b, _("The details of an event you registered for have changed."));
	if (*m->was_when != '\0') {
		para(b);
		say(b, _("The time has changed. Before the change: "));
		if (m->was_start == NULL || *m->was_start == '\0' ||
		    i18n_when(&was, m->was_start, m->was_end, m->was_tz) == -1)
			buf_adds(&was, m->was_when);	/* queued before 018 */
		say(b, was.data);
	}
	if (*m->was_location != '\0') {
		para(b);
		say(b, _("The place has changed. Before the change: "));
		/* rules/72_notices.sql's word for "no place" */
		if (strcmp(m->was_location, "online") == 0)
			say(b, C_("place", "online"));
		else
			say_in(b, m->was_location, m->event_language);
	}
	/* A hybrid event made in-person in the same room: the format
	 * changed, not the place (rules/72_notices.sql, change_news()). */
	if (m->was_format != NULL && *m->was_format != '\0') {
		para(b);
		say(b, _("How you can attend has changed. Before the change: "));
		say(b, i18n_format(m->was_format));
	}
	buf_free(&was);
	if (m->link_changed) {
		para(b);
		say(b, is_confirmed(m) ? _("The link to join online has "
		    "changed: use the one below.") : _("The link to join "
		    "online has changed; you will get it if a seat opens up "
		    "for you."));
	}
	para(b);
	details(b, m);
	if (is_confirmed(m)) {
		para(b);
		say(b, _("The attached calendar file (event.ics) updates the "
		    "entry in your calendar."));
	} else if (*m->position != '\0') {
		para(b);
		say1(b, _("You are still on the waiting list, at place "
		    "{place}."), "place", m->position);
	}
	if (*m->token != '\0') {
		para(b);
		say(b, _("If you can no longer attend, please cancel your "
		    "registration: "));
		token_link(b, m, "cancel");
	}
}

/* The reminder's plea to cancel, in the words of the event's format:
 * only an online event is a webinar, and a hybrid one is attended either
 * way. */
static const char *
reminder_plea(const struct mail_msg *m)
{
	if (strcmp(m->format, "online") == 0)
		return _("If you are unable to attend the live webinar, please "
		    "cancel your registration: ");
	if (strcmp(m->format, "in_person") == 0)
		return _("If you are unable to come to the event, please cancel "
		    "your registration: ");
	if (strcmp(m->format, "hybrid") == 0)
		return _("If you are unable to attend, in person or online, "
		    "please cancel your registration: ");
	abort();	/* the events table's CHECK allows no other format */
}

/* "... Your place is held until Wednesday, December 16, 2026 at 3:00pm
 * (Eastern Time); to keep it, open this link ...": the hold's end, as
 * the confirm page words it, in the zone the email's times are in, and
 * the page's button by its name. */
static void
confirm_plea(struct body *b, const struct mail_msg *m)
{
	struct local_time	 t;
	struct buf		 zone = BUF_INIT, line = BUF_INIT;
	struct buf		 named = BUF_INIT;
	const char		*kv[2] = { "button",
				    _("Confirm my registration") };

	/* TRANSLATORS: {button} (here and below) is the confirm page's
	 * button, "Confirm my registration", as it is translated. */
	if (m->held_until == NULL ||
	    local_time_parse(m->held_until, &t) == -1)
		buf_adds(&line, _("Somebody (probably you) asked to register "
		    "this email address for the event below. Your place is "
		    "held for a short time; to keep it, open this link and "
		    "press \"{button}\": "));
	else {
		i18n_zone(&zone, m->tzid);
		i18n_fill_date_time(&line, _("Somebody (probably you) asked to "
		    "register this email address for the event below. Your "
		    "place is held until {date} at {time} ({zone}); to keep it, "
		    "open this link before then and press \"{button}\": "), &t,
		    buf_str(&zone));
	}
	i18n_fill(&named, buf_str(&line), kv, 2);
	say(b, buf_str(&named));
	buf_free(&zone);
	buf_free(&line);
	buf_free(&named);
}

/* The name the email greets and addresses: none when it is a link or an
 * address (name_shown()). */
static const char *
greeted(const struct mail_msg *m)
{
	return name_shown(m->to_name);
}

/* A promotion's first words, and a held registration's that moved up. */
#define MOVED_UP	N_("Good news: a seat opened up and you have moved up " \
    "from the waiting list. ")

static void
write_body(struct body *b, const struct mail_msg *m)
{
	int	 has_token = *m->token != '\0';

	buf_adds(&b->html, "<p>");
	if (*greeted(m) != '\0')
		say1(b, _("Hello {name},"), "name", greeted(m));
	else
		say(b, _("Hello,"));
	para(b);

	switch (m->kind) {
	case MAIL_PROMOTED:
		say(b, _(MOVED_UP));
		/* FALLTHROUGH */
	case MAIL_CONFIRMED:
		say(b, _("You are registered for this event."));
		para(b);
		details(b, m);
		if (*m->description != '\0') {
			para(b);
			say_paragraphs(b, m->description,
			    m->event_language);
		}
		if (has_token) {
			para(b);
			say(b, m->has_waitlist ? _("If you are unable to "
			    "attend, please cancel your registration so that "
			    "someone on the waiting list can have your seat: ") :
			    _("If you are unable to attend, please cancel your "
			    "registration so that someone else can have your "
			    "seat: "));
			token_link(b, m, "cancel");
		}
		para(b);
		say(b, _("The attached calendar file (event.ics) adds the "
		    "event to your calendar."));
		break;
	case MAIL_WAITLISTED:
		if (*m->position != '\0')
			say1(b, _("The event is full, so you are on its "
			    "waiting list at place {place}."), "place",
			    m->position);
		else
			say(b, _("The event is full, so you are on its "
			    "waiting list."));
		para(b);
		details(b, m);
		para(b);
		say(b, _("When a registered person cancels, the first person "
		    "on the waiting list moves up automatically and gets an "
		    "email with everything needed to attend. There is nothing "
		    "you need to do until then."));
		if (has_token) {
			para(b);
			say(b, _("To leave the waiting list: "));
			token_link(b, m, "cancel");
		}
		break;
	case MAIL_CANCELLED:
		if (m->left_waitlist && m->by_staff)
			say(b, _("Library staff have taken you off the waiting "
			    "list. If you did not expect this, please contact "
			    "the library."));
		else if (m->left_waitlist)
			say(b, _("You have left the waiting list. Thank you for "
			    "letting us know."));
		else if (m->by_staff)
			say(b, _("Library staff have cancelled your "
			    "registration. If you did not expect this, "
			    "please contact the library."));
		else if (m->place_taken)
			say(b, _("Your registration has been cancelled. Thank "
			    "you for letting us know: your place goes to the "
			    "next person waiting."));
		else
			say(b, _("Your registration has been cancelled. Thank "
			    "you for letting us know."));
		para(b);
		details(b, m);
		if (m->calendar_sent) {
			para(b);
			say(b, _("The attached calendar file (event.ics) removes "
			    "the event from your calendar."));
		}
		break;
	case MAIL_ALREADY_REGISTERED:
		say(b, _("Somebody (probably you) asked to register this "
		    "email address again."));
		say(b, " ");
		if (strcmp(m->registration_status, "waitlisted") == 0) {
			if (*m->position != '\0')
				say1(b, _("You were already on the waiting list "
				    "(place {place}), and nothing has changed."),
				    "place", m->position);
			else
				say(b, _("You were already on the waiting list, "
				    "and nothing has changed."));
		} else if (strcmp(m->registration_status, "confirmed") == 0)
			say(b, _("You were already registered, and nothing "
			    "has changed."));
		else
			say(b, _("You were already registered; that "
			    "registration has since ended, and nothing has "
			    "changed."));
		para(b);
		details(b, m);
		if (has_token) {
			para(b);
			say(b, _("To cancel your registration: "));
			token_link(b, m, "cancel");
		}
		break;
	case MAIL_REMINDER:
		say(b, _("This is a reminder: the event you registered for "
		    "starts soon."));
		para(b);
		details(b, m);
		if (has_token) {
			para(b);
			say(b, reminder_plea(m));
			token_link(b, m, "cancel");
		}
		break;
	case MAIL_EVENT_CANCELLED:
		say(b, _("We are sorry: this event has been cancelled. Your "
		    "registration ends with it; there is nothing you need to "
		    "do."));
		para(b);
		details(b, m);
		break;
	case MAIL_CONFIRM_ADDRESS:
		if (m->moved_up)	/* the seat is held: no "registered" */
			say(b, _(MOVED_UP));
		confirm_plea(b, m);
		token_link(b, m, "confirm");
		para(b);
		details(b, m);
		para(b);
		say(b, _("If it was not you, do nothing: the place is released "
		    "and you will get no further email about it."));
		break;
	case MAIL_EVENT_CHANGED:
		changes(b, m);
		break;
	default:
		abort();
	}
	/* Not while the address is unconfirmed: that email has one link. */
	if (*m->token != '\0' && m->kind != MAIL_CONFIRM_ADDRESS) {
		para(b);
		say(b, _("Your registration, with the times in your own time "
		    "zone: "));
		registration_link(b, m);
	}
	para(b);
	say(b, _("This message was sent because this address was used to "
	    "register for the event."));
	buf_adds(&b->text, "\n");
	buf_adds(&b->html, "</p>\n");
}

/* A calendar entry for those who hold a seat, and its removal, when the
 * event or the registration is cancelled, for those who were sent one:
 * somebody who only waited has no entry to remove. */
static int
has_calendar(const struct mail_msg *m)
{
	return m->kind == MAIL_CONFIRMED || m->kind == MAIL_PROMOTED ||
	    m->kind == MAIL_REMINDER ||
	    (m->kind == MAIL_EVENT_CHANGED && is_confirmed(m)) ||
	    ((m->kind == MAIL_CANCELLED || m->kind == MAIL_EVENT_CANCELLED) &&
	    m->calendar_sent);
}

/* iTIP's CANCEL (RFC 5546 3.2.5): the organizer removes the entry of an
 * event cancelled, and of an attendee removed from it. */
static int
is_removal(const struct mail_msg *m)
{
	return m->kind == MAIL_EVENT_CANCELLED || m->kind == MAIL_CANCELLED;
}

static void
attach_calendar(struct buf *out, const struct mail_msg *m)
{
	struct buf		 ics = BUF_INIT, uid = BUF_INIT, url = BUF_INIT;
	struct ical_event	 ev;
	char			 addr[256];

	ical_uid(&uid, m->event_id, m->base_url);
	buf_printf(&url, "%s/events/%s", m->base_url, m->event_slug);
	memset(&ev, 0, sizeof(ev));
	ev.method = is_removal(m) ? "CANCEL" : "REQUEST";
	ev.organizer = mail_address(m->from, addr, sizeof(addr));
	ev.attendee = m->to_email;
	ev.uid = uid.data;
	ev.dtstamp = m->ical_stamp;
	ev.tzid = m->tzid;
	ev.vtimezone = m->vtimezone;
	ev.start_local = m->ical_start;
	ev.end_local = m->ical_end;
	ev.start_repeated = m->ical_start_repeated;
	ev.end_repeated = m->ical_end_repeated;
	ev.summary = m->title;
	ev.summary_lang = m->event_language;
	ev.doc_lang = i18n_lang();
	ev.description = *m->online_url != '\0' ? m->online_url : "";
	/* The link is the place of an online event only: a hybrid one takes
	 * place in its room, as the event's own .ics says it (page_events.c),
	 * and the seat holder finds the link in the DESCRIPTION. */
	if (strcmp(m->format, "online") == 0 && *m->online_url != '\0')
		ev.location = m->online_url;
	else if (*m->location != '\0') {
		ev.location = m->location;
		ev.location_lang = m->event_language;
	} else
		ev.location = strcmp(m->format, "online") == 0 ? _("Online") :
		    "";
	ev.url = url.data;
	ev.cancelled = is_removal(m);
	ev.sequence = m->sequence;
	ical_render(&ics, &ev);

	buf_printf(out, "--%s-mixed\r\n"
	    "Content-Type: text/calendar; charset=UTF-8; method=%s;"
	    " name=\"event.ics\"\r\n"
	    "Content-Disposition: attachment; filename=\"event.ics\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", m->boundary, ev.method);
	mime_base64(out, (const unsigned char *)ics.data, ics.len, 76);
	buf_adds(out, "\r\n");
	buf_free(&ics);
	buf_free(&uid);
	buf_free(&url);
}

/* The HTML part's one heading, the subject: where a screen reader's
 * "next heading" lands on the message, the title in the event's language
 * (lang_mark()). */
static void
heading(struct buf *page, const struct mail_msg *m, const char *subject)
{
	struct buf	 mark = BUF_INIT;
	size_t		 n = strlen(subject) - strlen(m->title);

	lang_mark(&mark, LANG_HTML, m->event_language, i18n_lang());
	buf_adds(page, "<h1>");
	if (mark.len == 0)
		html_esc(page, subject);
	else {
		html_escn(page, subject, n);
		buf_printf(page, "<span%s>", mark.data);
		html_esc(page, m->title);
		buf_adds(page, "</span>");
	}
	buf_adds(page, "</h1>\n");
	buf_free(&mark);
}

int
mail_compose(struct buf *out, const struct mail_msg *m)
{
	struct body	 b = { BUF_INIT, BUF_INIT, 1 };
	struct buf	 subject = BUF_INIT, page = BUF_INIT;
	char		 from_addr[256];
	struct buf	 from_name = BUF_INIT;
	int		 mixed = has_calendar(m), rc = -1;

	if ((unsigned)m->kind >= MAIL__MAX)
		abort();
	if (m->kind == MAIL_CANCELLED && m->left_waitlist)
		/* TRANSLATORS: a subject; the event's title follows. */
		buf_adds(&subject, _("You have left the waiting list: "));
	else
		buf_adds(&subject, _(subjects[m->kind]));
	buf_adds(&subject, m->title);
	if (!safe(m->from) || !safe(m->to_name) || !safe(m->to_email) ||
	    !safe(m->message_id) || !safe(subject.data) ||
	    !safe(m->boundary) || !safe(m->token) ||
	    mail_address(m->from, from_addr, sizeof(from_addr)) == NULL ||
	    strchr(m->to_email, '<') != NULL || strchr(m->to_email, '>') != NULL)
		goto fail;

	from_display(&from_name, m->from);
	mime_date(out, m->date);
	mime_header_address(out, "From", buf_str(&from_name), from_addr);
	mime_header_address(out, "To", greeted(m), m->to_email);
	mime_header_text(out, "Subject", subject.data);
	buf_printf(out, "Message-ID: %s\r\n", m->message_id);
	buf_adds(out, "MIME-Version: 1.0\r\n"
	    "Auto-Submitted: auto-generated\r\n");
	if (mixed)
		buf_printf(out, "Content-Type: multipart/mixed;\r\n"
		    " boundary=\"%s-mixed\"\r\n\r\n"
		    "--%s-mixed\r\n", m->boundary, m->boundary);
	buf_printf(out, "Content-Type: multipart/alternative;\r\n"
	    " boundary=\"%s-alt\"\r\n\r\n", m->boundary);

	write_body(&b, m);
	buf_printf(out, "--%s-alt\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", m->boundary);
	mime_quoted_printable(out, b.text.data);
	buf_printf(out, "\r\n--%s-alt\r\n"
	    "Content-Type: text/html; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", m->boundary);
	buf_printf(&page, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>"
	    "<meta charset=\"utf-8\"><title>", i18n_lang());
	html_esc(&page, subject.data);
	/* Webmail keeps the body alone, inside its own page: the language
	 * comes with it. */
	buf_printf(&page, "</title></head>\n<body>\n<div lang=\"%s\">\n",
	    i18n_lang());
	heading(&page, m, subject.data);
	buf_adds(&page, b.html.data);
	buf_adds(&page, "</div>\n</body>\n</html>\n");
	mime_quoted_printable(out, page.data);
	buf_printf(out, "\r\n--%s-alt--\r\n", m->boundary);
	if (mixed) {
		attach_calendar(out, m);
		buf_printf(out, "--%s-mixed--\r\n", m->boundary);
	}
	rc = 0;
fail:
	buf_free(&b.text);
	buf_free(&b.html);
	buf_free(&subject);
	buf_free(&from_name);
	buf_free(&page);
	return rc;
}
