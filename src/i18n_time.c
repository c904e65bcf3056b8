/*
 * i18n_time.c: dates and times in the language in use (see i18n.h).
 *
 * The formats, the names of days and months and the zones' names all come
 * from the catalogue, so a language's dates are its translators' to get
 * right; English, the source strings, reads as eventbox.human_when() and
 * the pages always did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

static const char *const weekdays[7] = {
	N_("Sunday"), N_("Monday"), N_("Tuesday"), N_("Wednesday"),
	N_("Thursday"), N_("Friday"), N_("Saturday"),
};

/* In context "month": "May" is also a word. */
static const char *const months[12] = {
	NC_("month", "January"), NC_("month", "February"),
	NC_("month", "March"), NC_("month", "April"), NC_("month", "May"),
	NC_("month", "June"), NC_("month", "July"), NC_("month", "August"),
	NC_("month", "September"), NC_("month", "October"),
	NC_("month", "November"), NC_("month", "December"),
};

static int
digits(const char *s, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static long
days_from_civil(int y, int m, int d)
{
	long	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
local_time_parse(const char *s, struct local_time *t)
{
	long	 days;
	int	 basic;

	if (s == NULL)
		return -1;
	basic = strlen(s) >= 13 && s[8] == 'T';
	if (basic) {	/* 20261216T140000 */
		if (digits(s, 4, &t->year) || digits(s + 4, 2, &t->month) ||
		    digits(s + 6, 2, &t->day) || digits(s + 9, 2, &t->hour) ||
		    digits(s + 11, 2, &t->minute))
			return -1;
	} else {	/* 2026-12-16T14:00... */
		if (strlen(s) < 16 || s[4] != '-' || s[7] != '-' ||
		    (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
		    digits(s, 4, &t->year) || digits(s + 5, 2, &t->month) ||
		    digits(s + 8, 2, &t->day) || digits(s + 11, 2, &t->hour) ||
		    digits(s + 14, 2, &t->minute))
			return -1;
	}
	if (t->month < 1 || t->month > 12 || t->day < 1 || t->day > 31 ||
	    t->hour > 23 || t->minute > 59)
		return -1;
	days = days_from_civil(t->year, t->month, t->day);
	t->weekday = (int)((days % 7 + 11) % 7);	/* 1970-01-01: Thursday */
	return 0;
}

/* A small strftime over the catalogue's names: %A %B %e %Y %H %M %l %P. */
static void
format(struct buf *b, const char *fmt, const struct local_time *t)
{
	const char	*p;

	for (p = fmt; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			buf_addc(b, *p);
			continue;
		}
		switch (*++p) {
		case 'A':
			buf_adds(b, _(weekdays[t->weekday]));
			break;
		case 'B':
			buf_adds(b, C_("month", months[t->month - 1]));
			break;
		case 'e':
			buf_printf(b, "%d", t->day);
			break;
		case 'd':
			buf_printf(b, "%02d", t->day);
			break;
		case 'Y':
			buf_printf(b, "%d", t->year);
			break;
		case 'H':
			buf_printf(b, "%02d", t->hour);
			break;
		case 'M':
			buf_printf(b, "%02d", t->minute);
			break;
		case 'l':
			buf_printf(b, "%d", t->hour % 12 == 0 ? 12 :
			    t->hour % 12);
			break;
		case 'P':
			buf_adds(b, t->hour < 12 ? "am" : "pm");
			break;
		default:
			buf_addc(b, *p);
		}
	}
}

void
i18n_date(struct buf *b, const struct local_time *t)
{
	/* TRANSLATORS: a date, as strftime: %A weekday, %B month, %e day of
	 * the month, %Y year ("Wednesday, December 16, 2026"). */
	format(b, C_("date format", "%A, %B %e, %Y"), t);
}

void
i18n_time(struct buf *b, const struct local_time *t)
{
	/* TRANSLATORS: a time of day: %l hour 1-12, %H hour 00-23, %M
	 * minutes, %P am or pm ("2:00pm"; "14:00"). */
	format(b, C_("time format", "%l:%M%P"), t);
}

void
i18n_fill(struct buf *b, const char *tpl, const char *const *kv, size_t n)
{
	const char	*p, *close;
	size_t		 i, len;

	for (p = tpl; *p != '\0'; p++) {
		if (*p == '{' && (close = strchr(p, '}')) != NULL) {
			len = (size_t)(close - p - 1);
			for (i = 0; i < n; i += 2)
				if (strlen(kv[i]) == len &&
				    strncmp(p + 1, kv[i], len) == 0)
					break;
			if (i < n) {
				buf_adds(b, kv[i + 1]);
				p = close;
				continue;
			}
		}
		buf_addc(b, *p);
	}
}

void
i18n_fill_date_time(struct buf *b, const char *tpl,
    const struct local_time *t, const char *zone)
{
	struct buf	 d = BUF_INIT, tm = BUF_INIT;
	const char	*kv[6];

	i18n_date(&d, t);
	i18n_time(&tm, t);
	kv[0] = "date";
	kv[1] = buf_str(&d);
	kv[2] = "time";
	kv[3] = buf_str(&tm);
	kv[4] = "zone";
	kv[5] = zone;
	i18n_fill(b, tpl, kv, 6);
	buf_free(&d);
	buf_free(&tm);
}

static const struct {
	const char	*iana;
	const char	*name;
} zones[] = {
	{ "America/New_York", N_("Eastern Time") },
	{ "America/Detroit", N_("Eastern Time") },
	{ "America/Chicago", N_("Central Time") },
	{ "America/Denver", N_("Mountain Time") },
	{ "America/Phoenix", N_("Mountain Time (Arizona)") },
	{ "America/Los_Angeles", N_("Pacific Time") },
	{ "America/Anchorage", N_("Alaska Time") },
	{ "Pacific/Honolulu", N_("Hawaii Time") },
};

void
i18n_zone(struct buf *b, const char *tz)
{
	struct buf	 place = BUF_INIT;
	const char	*kv[2];
	size_t		 i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcmp(zones[i].iana, tz) == 0) {
			buf_adds(b, _(zones[i].name));
			return;
		}
	for (i = 0; tz[i] != '\0'; i++)
		buf_addc(&place, tz[i] == '_' ? ' ' : tz[i]);
	kv[0] = "zone";
	kv[1] = buf_str(&place);
	/* TRANSLATORS: {zone} is an IANA zone name ("Europe/Paris"). */
	i18n_fill(b, _("{zone} time"), kv, 2);
	buf_free(&place);
}

const char *
i18n_format(const char *format)
{
	if (strcmp(format, "in_person") == 0)
		return _("In person");
	if (strcmp(format, "hybrid") == 0)
		return _("Hybrid: in person and online");
	if (strcmp(format, "online") == 0)
		return _("Online");
	abort();	/* the CHECK on events.format and this disagree */
}

int
i18n_when(struct buf *b, const char *start, const char *end, const char *tz)
{
	struct local_time	 s, e;
	struct buf		 d1 = BUF_INIT, t1 = BUF_INIT, d2 = BUF_INIT,
				 t2 = BUF_INIT, z = BUF_INIT;
	const char		*kv[12];

	if (local_time_parse(start, &s) == -1 ||
	    local_time_parse(end, &e) == -1)
		return -1;
	i18n_date(&d1, &s);
	i18n_time(&t1, &s);
	i18n_date(&d2, &e);
	i18n_time(&t2, &e);
	i18n_zone(&z, tz);
	kv[0] = "date";
	kv[1] = buf_str(&d1);
	kv[2] = "start";
	kv[3] = buf_str(&t1);
	kv[4] = "end_date";
	kv[5] = buf_str(&d2);
	kv[6] = "end";
	kv[7] = buf_str(&t2);
	kv[8] = "zone";
	kv[9] = buf_str(&z);
	/* The pages' word between two times (page_when()): " - " is read
	 * out as nothing, or as "dash". */
	kv[10] = "to";
	kv[11] = C_("time range", "to");
	if (s.year == e.year && s.month == e.month && s.day == e.day)
		/* TRANSLATORS: an event's time in an email; keep the names
		 * in braces ({to} is msgctxt "time range" "to"). */
		i18n_fill(b, _("{date}, {start} {to} {end} {zone}"), kv, 12);
	else
		i18n_fill(b, _("{date}, {start} {to} {end_date}, {end} {zone}"),
		    kv, 12);
	buf_free(&d1);
	buf_free(&t1);
	buf_free(&d2);
	buf_free(&t2);
	buf_free(&z);
	return 0;
}
