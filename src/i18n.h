/*
 * i18n.h: the patrons' language: GNU gettext catalogues, read by our own
 * bounds-checked reader, and the language of the request or email at hand.
 *
 * Translators work with standard gettext: strings are marked _("..."),
 * N_("...") (marked, translated later), P_(singular, plural, n) and
 * C_(context, "..."); `make pot` runs xgettext over src/, po/LL.po is
 * merged with msgmerge and checked with msgfmt --check, and `make`
 * compiles it to build/locale/LL/LC_MESSAGES/eventbox.mo.  The languages
 * offered are English (the source strings) plus every catalogue found
 * under EVENTBOX_LOCALEDIR at start: a third language is one .po file.
 *
 * Why not glibc's gettext: per-request switching needs uselocale() with
 * the language's locale generated on the machine, and a fresh Debian has
 * none; reading the .mo ourselves needs nothing but the file.
 *
 * A worker (or the mailer) is single-threaded: i18n_use() sets the
 * language for what follows, until the next call.  The catalogues are
 * loaded once (i18n_load(), before the workers fork) and never freed.
 * Strings returned point into the catalogue or are the msgid itself.
 */
#ifndef EVENTBOX_I18N_H
#define EVENTBOX_I18N_H

#include <stddef.h>

#include "buf.h"

#define N_(s)		(s)
#define _(s)		i18n_gettext(s)
#define P_(s, p, n)	i18n_ngettext((s), (p), (unsigned long)(n))
#define C_(c, s)	i18n_pgettext((c), (s))
#define NC_(c, s)	(s)	/* marked with context c; C_(c, s) later */

#define I18N_MAX_LANGS	16
#define I18N_CODE_MAX	16	/* "es", "pt-BR" */

struct mo_catalog {
	const char	 *data;		/* the whole file, owned */
	size_t		  size;
	unsigned int	  n;		/* strings */
	const char	**orig;		/* sorted msgids (context\004msgid) */
	const char	**trans;	/* their translations */
	size_t		 *trans_len;	/* with the plural forms' NULs */
	const char	 *plural;	/* the Plural-Forms expression, or NULL */
	unsigned long	  nplurals;
};

/* Parses a .mo file held in data (size bytes, which the catalogue then
 * owns: it is free()d by mo_free()).  0, or -1 for anything malformed. */
int		 mo_parse(struct mo_catalog *, char *data, size_t size);
void		 mo_free(struct mo_catalog *);
/* The translation of msgid (may be a "ctx\004id" key), or NULL. */
const char	*mo_lookup(const struct mo_catalog *, const char *msgid,
		    size_t *len);
/* Evaluates a Plural-Forms expression for n: the form index, or -1. */
long		 plural_eval(const char *expr, unsigned long n);

/* Loads DIR/LL/LC_MESSAGES/eventbox.mo for every LL; how many. */
int		 i18n_load(const char *dir);
void		 i18n_use(const char *code);	/* unknown: English */
const char	*i18n_lang(void);		/* "en", "es", ... */
size_t		 i18n_count(void);		/* English included */
const char	*i18n_code(size_t i);		/* 0 is "en" */
const char	*i18n_name(size_t i);		/* in its own language */
/* A known language code for query (?lang=, may be NULL or "") or else
 * the Accept-Language header (NULL when absent): "en" when none fits. */
const char	*i18n_negotiate(const char *query_lang, const char *accept);
/* The same, but NULL when none fits: "en" then is a default, not the
 * reader's choice, and a registration keeps the language it has. */
const char	*i18n_asked(const char *query_lang, const char *accept);

const char	*i18n_gettext(const char *);
const char	*i18n_ngettext(const char *, const char *, unsigned long);
const char	*i18n_pgettext(const char *ctx, const char *);

/* Local wall-clock times as "2026-12-16T14:00:00..." or "20261216T140000". */
struct local_time {
	int	 year, month, day, hour, minute, weekday;	/* 0 Sunday */
};
int		 local_time_parse(const char *, struct local_time *);
/* The date ("Wednesday, December 16, 2026") and time ("2:00pm") in the
 * current language, with its catalogue's formats and names. */
void		 i18n_date(struct buf *, const struct local_time *);
void		 i18n_time(struct buf *, const struct local_time *);
/* "Wednesday, December 16, 2026, 2:00pm to 3:00pm Eastern Time": what
 * eventbox.human_when() says in English, in the current language. */
int		 i18n_when(struct buf *, const char *start, const char *end,
		    const char *tz);
/* Fills a translated template's {name} placeholders from n/2 name,
 * value pairs: translators move "{date}" around like any word. */
void		 i18n_fill(struct buf *, const char *tpl,
		    const char *const *kv, size_t n);
/* Fills tpl's {date} and {time} from t and {zone} with zone, a zone's
 * name already worded: "held until {date} at {time} ({zone})". */
void		 i18n_fill_date_time(struct buf *, const char *tpl,
		    const struct local_time *t, const char *zone);
/* The US zones' names ("Eastern Time"), else the IANA name + " time". */
void		 i18n_zone(struct buf *, const char *tz);
/* An event's format (events.format) as its pages and emails name it. */
const char	*i18n_format(const char *format);

#endif
