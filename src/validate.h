/*
 * validate.h: every check on untrusted bytes, in one place.  Handlers only
 * ever see values that passed one of these.  All functions are pure (no
 * allocation that outlives a call, no globals) so the fuzzers can call them directly.
 *
 * Lengths are explicit: inputs may contain NUL bytes.
 */
#ifndef EVENTBOX_VALIDATE_H
#define EVENTBOX_VALIDATE_H

#include <stddef.h>

#define NAME_MAX_CHARS		200
#define EMAIL_MAX_BYTES		254
/* An address as typed, before its domain is written in ASCII: as many
 * characters, four bytes each at most. */
#define EMAIL_TYPED_MAX		(EMAIL_MAX_BYTES * 4)
#define ORG_MAX_CHARS		200
#define TOKEN_LEN		36
#define IDEMPOTENCY_MAX		200
#define SLUG_MAX		100
#define QUERY_TEXT_MAX		100
/* The largest id a path may name: 18 digits, inside a bigint. */
#define ID_MAX			999999999999999999LL

int	 parse_int(const char *, size_t, long long min, long long max,
	    long long *out);
/* An id as the service writes it: 1 to ID_MAX in decimal digits, no sign,
 * no leading zero.  0, or -1 for any other spelling ("01", "+1", " 1"):
 * one thing has one address, and the others name nothing. */
int	 id_parse(const char *, size_t, long long *out);
int	 utf8_valid(const char *, size_t);
size_t	 utf8_chars(const char *, size_t);
int	 text_valid(const char *, size_t, size_t max_chars);
/* A name, not a message: no web or email address in it (the name is the
 * greeting of the email the service sends to whatever address was typed). */
int	 name_plain(const char *, size_t);
/* The stored name a page or an email may show: the name itself when it
 * is name_plain(), else "" (show none).  Borrowed from the argument. */
const char *name_shown(const char *);
int	 email_valid(const char *, size_t);
/* email_canonical(): what a patron typed as an address, and what is
 * wrong with it. */
enum email_check {
	EMAIL_OK,
	EMAIL_INVALID,		/* not local@domain as email_valid() has it */
	EMAIL_LOCAL_NOT_ASCII,	/* é, ñ, ... before the @: no relay of ours
				 * is known to take it (SMTPUTF8) */
	EMAIL_DOMAIN_NOT_IDNA,	/* not a domain name IDNA2008 can write in
				 * ASCII: a disallowed code point, a label
				 * over 63 octets once converted, a bad
				 * xn-- label */
	EMAIL_TOO_LONG		/* over 254 bytes (once converted) */
};
/* The address as stored and mailed: the domain's U-labels turned into
 * A-labels (xn--...), in out (outsz bytes, NUL-terminated) on EMAIL_OK.
 * Allocates inside (libidn2) and frees before it returns. */
enum email_check email_canonical(const char *, size_t, char *out,
	    size_t outsz);
int	 sender_valid(const char *, size_t);
int	 token_valid(const char *, size_t);
int	 idempotency_key_valid(const char *, size_t);
int	 slug_valid(const char *, size_t);
/* An event's id (id_parse()) or its slug. */
int	 event_ref_valid(const char *, size_t);
int	 date_valid(const char *, size_t);
int	 header_safe(const char *, size_t);
/* 1 when the Content-Type ctype (NULL: none) is the media type want, in
 * any case, with or without parameters: RFC 9110 8.3.1, spaces or tabs
 * (OWS) before its ';'. */
int	 media_type_is(const char *ctype, const char *want);
/* 1 when JSON text holds a \u0000 escape of its own (not an escaped
 * backslash followed by "u0000"), 0 otherwise. */
int	 json_nul_escape(const char *, size_t);
/* 1 when JSON text has what cJSON reads and RFC 8259 does not: a raw
 * control character in a string, white space but space, tab, LF and CR,
 * a number such as 05, 5. or 1.e1. */
int	 json_lenient(const char *, size_t);
int	 pct_decode(char *dst, size_t dstsz, const char *src, size_t len,
	    int plus_is_space, size_t *outlen);
#define QUERY_REPEATED	2	/* query_get(): the key is there twice */
/* query_get(): a field's name is not text: a '%' without two hex digits,
 * not UTF-8 once decoded, or a control character (as text_valid()). */
#define QUERY_NAME_ESCAPE	3
#define QUERY_NAME_UTF8		4
#define QUERY_NAME_CONTROL	5
int	 query_get(const char *query, const char *key, char *dst,
	    size_t dstsz, size_t *outlen);
/* query_get(), but a field's name that is not text is passed over as
 * another key's (never a QUERY_NAME_ fault): for ?lang=, which chooses the
 * language a refusal of such a query is worded in. */
int	 query_get_readable(const char *query, const char *key, char *dst,
	    size_t dstsz, size_t *outlen);
/* 1 when a field's name as sent (src, len bytes: %XX escapes, '+' a
 * space) decodes to key (klen bytes), 0 when to another name, a
 * QUERY_NAME_ fault when it is not text.  query_get()'s and form.c's. */
int	 field_name_is(const char *src, size_t len, const char *key,
	    size_t klen);

#endif
