/*
 * fuzz_admin: the staff API's bodies, checked as the handlers check them
 * before any query (api_admin.h): json_body() for each, then
 *
 *   E  POST/PATCH .../events: nothing more in C; the text goes whole to
 *      save_event() in the database, which checks each field
 *   C  PUT .../capacity: admin_capacity_body()
 *   Q  PUT .../questions: admin_questions_body()
 *   P  PATCH /api/v1/admin/registrations/{id}: admin_correction_body()
 *   R  POST .../events/{id}/registrations: registration_from_json()
 *
 * Input: the first byte picks the call (any other byte: all five on the
 * same body), the rest is the body.  Properties, besides no crash, no
 * leak, no undefined behaviour: a refused body gets 400 or 422 with a
 * JSON error object; an accepted capacity is the body's number, a whole
 * one from 0 to 1000000; accepted questions are a JSON list; an
 * accepted correction is a JSON object of only name, email and
 * organization whose values pass their checks again and give the same
 * correction (checking it twice changes nothing), and can go into a
 * mail header.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "answer.h"
#include "api_admin.h"
#include "buf.h"
#include "fuzz.h"
#include "handlers.h"
#include "http.h"
#include "registration.h"
#include "validate.h"

static void
check_text(const cJSON *v, size_t max)
{
	size_t	 n;

	FUZZ_CHECK(cJSON_IsString(v));
	n = strlen(v->valuestring);
	FUZZ_CHECK(text_valid(v->valuestring, n, max));
	FUZZ_CHECK(header_safe(v->valuestring, n));
}

/* A correction as admin_correction_body() gave it. */
static void
check_correction(const char *text)
{
	struct response	 again;
	const cJSON	*c;
	cJSON		*o;
	char		*twice;
	size_t		 n;

	o = cJSON_Parse(text);
	FUZZ_CHECK(cJSON_IsObject(o));
	for (c = o->child; c != NULL; c = c->next) {
		if (strcmp(c->string, "name") == 0)
			check_text(c, NAME_MAX_CHARS);
		else if (strcmp(c->string, "email") == 0) {
			FUZZ_CHECK(cJSON_IsString(c));
			n = strlen(c->valuestring);
			FUZZ_CHECK(email_valid(c->valuestring, n));
			FUZZ_CHECK(header_safe(c->valuestring, n));
		} else {
			FUZZ_CHECK(strcmp(c->string, "organization") == 0);
			if (!cJSON_IsNull(c))
				check_text(c, ORG_MAX_CHARS);
		}
	}
	memset(&again, 0, sizeof(again));
	http_response_reset(&again);
	twice = admin_correction_body(&again, o);
	FUZZ_CHECK(twice != NULL && strcmp(twice, text) == 0);
	cJSON_free(twice);
	cJSON_Delete(o);
	buf_free(&again.head);
	buf_free(&again.body);
}

static void
one_call(char call, const char *p, size_t n)
{
	struct request		 req;
	struct response		 resp;
	struct registration_fields f;
	struct field_problem	 problem;
	cJSON			*body;
	char			*text;
	long			 capacity;
	int			 ok = 0;

	fuzz_api_request(&req, &resp, p, n);

	if ((body = json_body(&req, &resp)) != NULL) {
		FUZZ_CHECK(cJSON_IsObject(body));
		switch (call) {
		case 'E':
			/* What save_event() sends: the whole text, no NUL
			 * inside that would cut it short. */
			FUZZ_CHECK(strlen(req.body.data) == req.body.len);
			ok = 1;
			break;
		case 'C':
			capacity = -1;
			if ((ok = admin_capacity_body(&resp, body,
			    &capacity) == 0)) {
				FUZZ_CHECK(capacity >= 0 &&
				    capacity <= 1000000);
				FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(
				    body, "capacity")->valuedouble ==
				    (double)capacity);
			}
			break;
		case 'Q':
			if ((text = admin_questions_body(&resp, body)) != NULL) {
				cJSON	*list = cJSON_Parse(text);

				FUZZ_CHECK(cJSON_IsArray(list));
				cJSON_Delete(list);
				cJSON_free(text);
				ok = 1;
			}
			break;
		case 'P':
			if ((text = admin_correction_body(&resp, body)) != NULL) {
				check_correction(text);
				cJSON_free(text);
				ok = 1;
			}
			break;
		default:
			memset(&f, 0x5a, sizeof(f));
			if (registration_from_json(body, &f, &problem) == 0) {
				registration_fields_free(&f);
				ok = 1;
			} else
				api_field_error(&resp, &problem);
			break;
		}
		cJSON_Delete(body);
	}
	if (ok)
		FUZZ_CHECK(resp.body.len == 0);
	else
		fuzz_check_refusal(&resp);
	fuzz_api_free(&req, &resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char calls[] = "ECQPR";
	const char	*p = (const char *)data;
	size_t		 i;

	if (size == 0)
		return 0;
	if (strchr(calls, p[0]) != NULL && p[0] != '\0')
		one_call(p[0], p + 1, size - 1);
	else
		for (i = 0; calls[i] != '\0'; i++)
			one_call(calls[i], p + 1, size - 1);
	return 0;
}
