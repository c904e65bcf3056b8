/*
 * registration.h: one registration attempt, shared by the JSON API
 * (api_registrations.c, and staff in api_admin.c) and the HTML form
 * (page_register.c).  registration_from_json() takes the fields out of a
 * JSON body and checks them (fields.h); registration_submit() makes the
 * token, calls eventbox.register() in one round trip and maps its outcome
 * to an HTTP status, an error code and a message a patron can read.
 * Nothing here answers: the handlers do, each in its own format.
 *
 * The input strings must already be checked; the result's strings are
 * static.
 */
#ifndef EVENTBOX_REGISTRATION_H
#define EVENTBOX_REGISTRATION_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "fields.h"
#include "validate.h"

#define ANSWERS_SZ	8192	/* most answers fit; longer ones are allocated */

struct registration_input {
	const char	*event;		/* id or slug, not yet checked */
	size_t		 event_len;
	const char	*name;
	const char	*email;
	const char	*organization;	/* NULL when none */
	const char	*source;	/* "api" or "web" */
	const char	*idempotency_key;	/* NULL when none */
	const char	*remote_addr;	/* REMOTE_ADDR, NULL when unknown */
	const char	*answers;	/* JSON object text, NULL when none */
	const char	*language;	/* the code the request asked for
					   (lang_asked), NULL: 'en' for a new
					   registration, a repeat keeps its
					   own */
};

struct registration_result {
	int		 http_status;	/* 201, 202, 403, 404, 409, 422 */
	const char	*code;		/* error code, NULL on 201 and 202 */
	const char	*message;
	const char	*status;	/* confirmed | waitlisted on 201,
					   pending on 202 */
	long		 position;	/* > 0 when waitlisted */
	char		 event_slug[SLUG_MAX + 1];
	int		 busy;		/* on -1: 1 = lock timeout, 0 = no db */
	/* invalid_answer: which answer ("answers." and up to 40 characters
	 * of a key that is no question's id, 4 bytes each at most) */
	char		 field[176];
	char		 detail[96];
};

/* A registration's fields, checked; trimmed copies. */
struct registration_fields {
	char		 name[FIELD_NAME_SZ];
	char		 email[FIELD_EMAIL_SZ];
	char		 org[FIELD_ORG_SZ];
	int		 has_org;
	/* "answers" as JSON text for eventbox.answers_error() to check:
	 * answers_buf, or allocated when it is longer (20 texts of 2,000
	 * characters are 40 KB and more); registration_fields_free() */
	char		 answers_buf[ANSWERS_SZ];
	char		*answers;
	int		 has_answers;
};

/* The first field that failed its check, and how. */
struct field_problem {
	enum field_id	 field;
	enum field_error error;
};

/* 0, or -1 with the first bad field in *problem (body: a JSON object). */
int	 registration_from_json(const cJSON *body,
	    struct registration_fields *, struct field_problem *problem);
/* A correction's fields (a PATCH: only those the body names, each
 * checked as registration_from_json() checks it, and set in *present as
 * 1u << FIELD_x; organization null or blank clears it: present, has_org
 * 0).  0, or -1 with the first bad field in *problem. */
int	 registration_patch_from_json(const cJSON *body,
	    struct registration_fields *, unsigned *present,
	    struct field_problem *problem);
/* Counts a registration its field's check refused in the worker. */
void	 registration_refused(enum field_id);
/* Frees what registration_from_json() allocated, if anything. */
void	 registration_fields_free(struct registration_fields *);
/* 0 with *out filled, or -1 when the database failed (out->busy). */
int	 registration_submit(const struct registration_input *,
	    struct registration_result *out);
/* Fills status, code and message for an outcome of eventbox.register();
 * no_waitlist: a "full" event takes no waiting list at all. */
void	 registration_outcome(const char *outcome, int no_waitlist,
	    struct registration_result *);

#endif
