/*
 * fields.c: the registration fields and their one check (see fields.h).
 */
#include "fields.h"

const struct field_spec field_specs[FIELD__MAX] = {
	[FIELD_NAME] = { "name", NAME_MAX_CHARS, 1, FIELD_KIND_NAME },
	[FIELD_EMAIL] = { "email", EMAIL_MAX_BYTES, 1, FIELD_KIND_EMAIL },
	[FIELD_ORGANIZATION] = { "organization", ORG_MAX_CHARS, 0,
	    FIELD_KIND_TEXT },
};

enum field_error
field_check(enum field_id id, char *v, size_t len, char **start,
    size_t *outlen, char *email)
{
	const struct field_spec	*f = &field_specs[id];
	static const enum field_error email_error[] = {
		[EMAIL_OK] = FIELD_OK,
		[EMAIL_INVALID] = FIELD_NOT_EMAIL,
		[EMAIL_LOCAL_NOT_ASCII] = FIELD_EMAIL_LOCAL_NOT_ASCII,
		[EMAIL_DOMAIN_NOT_IDNA] = FIELD_EMAIL_DOMAIN_NOT_IDNA,
		[EMAIL_TOO_LONG] = FIELD_TOO_LONG,
	};

	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	v[len] = '\0';
	*start = v;
	*outlen = len;
	if (len == 0)
		return f->required ? FIELD_MISSING : FIELD_ABSENT;
	if (utf8_chars(v, len) > f->max)
		return FIELD_TOO_LONG;
	if (!text_valid(v, len, f->max))
		return FIELD_NOT_TEXT;
	if (f->kind == FIELD_KIND_NAME && !name_plain(v, len))
		return FIELD_NOT_NAME;
	if (f->kind == FIELD_KIND_EMAIL)
		return email_error[email_canonical(v, len, email,
		    FIELD_EMAIL_SZ)];
	return FIELD_OK;
}
