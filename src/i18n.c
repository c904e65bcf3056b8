/*
 * i18n.c: the .mo reader, Plural-Forms, the loaded catalogues and the
 * language in use (see i18n.h).
 *
 * The GNU .mo format: a 28-byte header (magic 0x950412de in the writer's
 * byte order, revision, string count N, offsets of the msgid and msgstr
 * tables, hash table size and offset), then two tables of N (length,
 * offset) pairs, each string NUL-terminated at offset + length.  Every
 * offset and length is checked against the file's size before use; the
 * hash table is not used (the msgids are sorted here and searched).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"
#include "log.h"

#define MO_MAGIC	0x950412deU
#define MO_MAX_SIZE	(16u * 1024 * 1024)

static uint32_t
rd32(const unsigned char *p, int swap)
{
	if (swap)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

/* String i of the table at toff: its start, or NULL when out of bounds. */
static const char *
mo_string(const char *data, size_t size, size_t toff, uint32_t i, int swap,
    size_t *len)
{
	const unsigned char	*e = (const unsigned char *)data + toff +
				    (size_t)i * 8;
	size_t			 l = rd32(e, swap), off = rd32(e + 4, swap);

	if (off >= size || l >= size - off || data[off + l] != '\0')
		return NULL;
	*len = l;
	return data + off;
}

static const struct mo_catalog *sort_cat;

static int
by_msgid(const void *a, const void *b)
{
	unsigned int	 i = *(const unsigned int *)a, j = *(const unsigned int *)b;

	return strcmp(sort_cat->orig[i], sort_cat->orig[j]);
}

/* "nplurals=2; plural=(n != 1);" from the header entry's translation. */
static int
parse_plural_forms(struct mo_catalog *c, const char *hdr, size_t hlen)
{
	const char	*p, *end = hdr + hlen, *q;
	char		*e;
	unsigned long	 np;

	for (p = hdr; p < end; p = q + 1) {
		if ((q = memchr(p, '\n', (size_t)(end - p))) == NULL)
			q = end;
		if ((size_t)(q - p) > 13 && strncmp(p, "Plural-Forms:", 13) == 0)
			break;
	}
	if (p >= end)
		return 0;	/* none: English's rule */
	p += 13;
	if ((p = strstr(p, "nplurals=")) == NULL || p >= q)
		return -1;
	np = strtoul(p + 9, &e, 10);
	if (e == p + 9 || np < 1 || np > 6)
		return -1;
	if ((p = strstr(e, "plural=")) == NULL || p >= q)
		return -1;
	p += 7;
	for (e = (char *)p; e < q && *e != ';'; e++)
		;
	if ((c->plural = strndup(p, (size_t)(e - p))) == NULL)
		abort();
	c->nplurals = np;
	return plural_eval(c->plural, 1) < 0 ? -1 : 0;
}

int
mo_parse(struct mo_catalog *c, char *data, size_t size)
{
	const unsigned char	*h = (const unsigned char *)data;
	uint32_t		 n, i;
	size_t			 ooff, toff, len, *ord_len = NULL;
	unsigned int		*ord = NULL;
	const char		**o2 = NULL, **t2 = NULL;
	int			 swap;

	memset(c, 0, sizeof(*c));
	c->data = data;
	c->size = size;
	if (size < 28 || size > MO_MAX_SIZE)
		goto fail;
	if (rd32(h, 0) == MO_MAGIC)
		swap = 0;
	else if (rd32(h, 1) == MO_MAGIC)
		swap = 1;
	else
		goto fail;
	if (rd32(h + 4, swap) >> 16 > 1)
		goto fail;	/* a major revision we do not know */
	n = rd32(h + 8, swap);
	ooff = rd32(h + 12, swap);
	toff = rd32(h + 16, swap);
	if (n > size / 16 || ooff > size || toff > size ||
	    (size_t)n * 8 > size - ooff || (size_t)n * 8 > size - toff)
		goto fail;
	c->n = n;
	if ((c->orig = calloc(n + 1, sizeof(*c->orig))) == NULL ||
	    (c->trans = calloc(n + 1, sizeof(*c->trans))) == NULL ||
	    (c->trans_len = calloc(n + 1, sizeof(*c->trans_len))) == NULL ||
	    (ord = calloc(n + 1, sizeof(*ord))) == NULL ||
	    (ord_len = calloc(n + 1, sizeof(*ord_len))) == NULL ||
	    (o2 = calloc(n + 1, sizeof(*o2))) == NULL ||
	    (t2 = calloc(n + 1, sizeof(*t2))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if ((c->orig[i] = mo_string(data, size, ooff, i, swap, &len))
		    == NULL ||
		    (c->trans[i] = mo_string(data, size, toff, i, swap,
		    &c->trans_len[i])) == NULL)
			goto fail;
		if (*c->orig[i] == '\0' && parse_plural_forms(c, c->trans[i],
		    c->trans_len[i]) == -1)
			goto fail;
		ord[i] = i;
	}
	/* msgfmt writes them sorted; a file from elsewhere may not be. */
	sort_cat = c;
	qsort(ord, n, sizeof(*ord), by_msgid);
	for (i = 0; i < n; i++) {
		o2[i] = c->orig[ord[i]];
		t2[i] = c->trans[ord[i]];
		ord_len[i] = c->trans_len[ord[i]];
	}
	free(c->orig);
	free(c->trans);
	free(c->trans_len);
	c->orig = o2;
	c->trans = t2;
	c->trans_len = ord_len;
	free(ord);
	return 0;
fail:
	free(ord);
	free(ord_len);
	free(o2);
	free(t2);
	mo_free(c);
	return -1;
}

void
mo_free(struct mo_catalog *c)
{
	free((char *)c->data);
	free(c->orig);
	free(c->trans);
	free(c->trans_len);
	free((char *)c->plural);
	memset(c, 0, sizeof(*c));
}

const char *
mo_lookup(const struct mo_catalog *c, const char *msgid, size_t *len)
{
	size_t	 lo = 0, hi = c->n, mid;
	int	 d;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		d = strcmp(msgid, c->orig[mid]);
		if (d == 0) {
			/* msgfmt leaves untranslated entries out; an empty
			 * msgstr from elsewhere means the same. */
			if (c->trans_len[mid] == 0)
				return NULL;
			*len = c->trans_len[mid];
			return c->trans[mid];
		}
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The catalogues and the language in use */

static struct lang {
	char			 code[I18N_CODE_MAX];
	struct mo_catalog	 cat;
} langs[I18N_MAX_LANGS];
static size_t			 nlangs;
static const struct mo_catalog	*cur;
static const char		*cur_code = "en";

static int
code_ok(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isalpha((unsigned char)s[i]) && !(i >= 2 &&
		    (s[i] == '_' || s[i] == '-')))
			return 0;
	return i >= 2 && i < I18N_CODE_MAX;
}

static int
load_one(const char *dir, const char *code, struct mo_catalog *c)
{
	char		 path[4096], *data = NULL;
	struct stat	 st;
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s/LC_MESSAGES/eventbox.mo", dir,
	    code);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) == -1 || st.st_size < 0 ||
	    (size_t)st.st_size > MO_MAX_SIZE ||
	    (data = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (got < (size_t)st.st_size) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r <= 0)
			goto fail;
		got += (size_t)r;
	}
	close(fd);
	if (mo_parse(c, data, got) == -1) {
		log_warnx("%s: not a usable .mo file", path);
		return -1;
	}
	return 0;
fail:
	log_warn("%s", path);
	free(data);
	close(fd);
	return -1;
}

static int
by_code(const void *a, const void *b)
{
	return strcmp(((const struct lang *)a)->code,
	    ((const struct lang *)b)->code);
}

int
i18n_load(const char *dir)
{
	DIR		*d;
	struct dirent	*de;

	if ((d = opendir(dir)) == NULL) {
		log_warn("EVENTBOX_LOCALEDIR %s: English only", dir);
		return 0;
	}
	while ((de = readdir(d)) != NULL && nlangs < I18N_MAX_LANGS) {
		if (!code_ok(de->d_name) || strcmp(de->d_name, "en") == 0)
			continue;
		if (load_one(dir, de->d_name, &langs[nlangs].cat) != 0)
			continue;
		memcpy(langs[nlangs].code, de->d_name, strlen(de->d_name) + 1);
		nlangs++;
	}
	closedir(d);
	qsort(langs, nlangs, sizeof(langs[0]), by_code);
	return (int)nlangs;
}

void
i18n_use(const char *code)
{
	size_t	 i;

	cur = NULL;
	cur_code = "en";
	for (i = 0; code != NULL && i < nlangs; i++)
		if (strcmp(langs[i].code, code) == 0) {
			cur = &langs[i].cat;
			cur_code = langs[i].code;
		}
}

const char *
i18n_lang(void)
{
	return cur_code;
}

size_t
i18n_count(void)
{
	return nlangs + 1;
}

const char *
i18n_code(size_t i)
{
	return i == 0 ? "en" : langs[i - 1].code;
}

/* TRANSLATORS: the name of your language, in your language ("Español"):
 * the language switcher offers it by this name. */
static const char *const self_name = NC_("language name", "English");

const char *
i18n_name(size_t i)
{
	const char	*s;
	size_t		 len;

	if (i == 0)
		return self_name;
	s = mo_lookup(&langs[i - 1].cat, "language name\004English", &len);
	return s != NULL ? s : langs[i - 1].code;
}

/* The known code that the tag (len bytes) names, or its primary part. */
static const char *
match_tag(const char *tag, size_t len)
{
	size_t	 i, k, pass;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {	/* "es-MX": "es" */
			for (k = 0; k < len && tag[k] != '-' && tag[k] != '_';
			    k++)
				;
			len = k;
		}
		for (i = 0; i < i18n_count(); i++) {
			const char	*c = i18n_code(i);

			if (strlen(c) != len)
				continue;
			for (k = 0; k < len; k++)
				if (tolower((unsigned char)c[k]) !=
				    tolower((unsigned char)tag[k]) &&
				    !((c[k] == '_' || c[k] == '-') &&
				    (tag[k] == '_' || tag[k] == '-')))
					break;
			if (k == len)
				return c;
		}
	}
	return NULL;
}

/* q=0.8 as thousandths; -1 when malformed (RFC 9110 qvalue). */
static int
qvalue(const char *p, size_t len)
{
	int	 v = 0, digits = 0;
	size_t	 i;

	if (len < 1 || (p[0] != '0' && p[0] != '1'))
		return -1;
	v = (p[0] - '0') * 1000;
	if (len == 1)
		return v;
	if (p[1] != '.' || len > 5)
		return -1;
	for (i = 2; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v += (p[i] - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
		digits++;
	}
	return v > 1000 ? -1 : v;
}

const char *
i18n_negotiate(const char *query_lang, const char *accept)
{
	const char	*c = i18n_asked(query_lang, accept);

	return c != NULL ? c : "en";
}

const char *
i18n_asked(const char *query_lang, const char *accept)
{
	const char	*best = NULL, *c, *p, *end, *semi, *tagend;
	int		 bestq = 0, q;

	if (query_lang != NULL && *query_lang != '\0' &&
	    (c = match_tag(query_lang, strlen(query_lang))) != NULL)
		return c;
	for (p = accept; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		for (semi = p; semi < end && *semi != ';'; semi++)
			;
		tagend = semi;
		if (semi == end)
			semi = NULL;
		while (tagend > p && (tagend[-1] == ' ' || tagend[-1] == '\t'))
			tagend--;
		q = 1000;
		if (semi != NULL) {
			const char	*v = semi + 1, *ve = end;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (ve - v < 2 || (v[0] != 'q' && v[0] != 'Q') ||
			    v[1] != '=')
				continue;
			if ((q = qvalue(v + 2, (size_t)(ve - v - 2))) < 0)
				continue;
		}
		if (q > bestq && (c = match_tag(p, (size_t)(tagend - p)))
		    != NULL) {
			best = c;
			bestq = q;
		}
	}
	return best;
}

const char *
i18n_gettext(const char *s)
{
	const char	*t;
	size_t		 len;

	if (cur == NULL || *s == '\0' || (t = mo_lookup(cur, s, &len)) == NULL)
		return s;
	return t;
}

const char *
i18n_ngettext(const char *s, const char *p, unsigned long n)
{
	const char	*t, *end;
	size_t		 len;
	long		 k;

	if (cur == NULL || (t = mo_lookup(cur, s, &len)) == NULL)
		return n == 1 ? s : p;
	k = cur->plural != NULL ? plural_eval(cur->plural, n) : n != 1;
	if (k < 0 || (unsigned long)k >= (cur->plural ? cur->nplurals : 2))
		k = 0;
	for (end = t + len; k > 0; k--) {
		t += strlen(t) + 1;
		if (t >= end)
			return n == 1 ? s : p;
	}
	return t;
}

const char *
i18n_pgettext(const char *ctx, const char *s)
{
	char		 key[512];
	const char	*t;
	size_t		 len;
	int		 n;

	if (cur == NULL)
		return s;
	n = snprintf(key, sizeof(key), "%s\004%s", ctx, s);
	if (n < 0 || (size_t)n >= sizeof(key) ||
	    (t = mo_lookup(cur, key, &len)) == NULL)
		return s;
	return t;
}
