/*
 * api_admin_webhooks.c: the webhooks staff register (JSON).  Offers the
 * handlers of
 *
 *   GET    /api/v1/admin/webhooks        every webhook, never a secret
 *   POST   /api/v1/admin/webhooks        a new one; its secret, this once
 *   DELETE /api/v1/admin/webhooks/{id}   disables it
 *
 * The functions behind them (sql/rules/82_webhooks.sql) check the staff
 * key again, validate the URL and the event types, and write the audit
 * log; deliveries are the mailer's (webhook.c).
 */
#include <string.h>

#include "answer.h"
#include "buf.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "json.h"
#include "validate.h"

#define EVENT_TYPES_MAX	5	/* registration.created ... event.changed */
#define EVENT_TYPE_MAX	40

/* Translated where it is answered (answer_field_error()). */
static const char *const events_message =
    N_("a list of registration.created, registration.promoted, "
    "registration.cancelled, registration.updated, event.changed");

/* A JSON array of event type names as a text[] literal ("{a,b}") in out;
 * -1 for anything but 1..5 names of [a-z._].  The database checks each
 * name; this keeps the literal well-formed. */
static int
events_literal(const cJSON *arr, struct buf *out)
{
	const cJSON	*it;
	const char	*p;
	int		 n = 0;

	if (!cJSON_IsArray(arr))
		return -1;
	buf_addc(out, '{');
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || ++n > EVENT_TYPES_MAX ||
		    strlen(it->valuestring) == 0 ||
		    strlen(it->valuestring) > EVENT_TYPE_MAX)
			return -1;
		for (p = it->valuestring; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || *p == '.' || *p == '_'))
				return -1;
		if (n > 1)
			buf_addc(out, ',');
		buf_adds(out, it->valuestring);
	}
	buf_addc(out, '}');
	return n == 0 ? -1 : 0;
}

/* The JSON array the database gave (array_to_json), or [] if it cannot. */
static void
add_events(cJSON *o, const char *json)
{
	cJSON	*arr;

	if ((arr = cJSON_Parse(json)) == NULL || !cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		arr = cJSON_CreateArray();
	}
	cJSON_AddItemToObject(o, "events", arr);
}

/*
 * GET /api/v1/admin/webhooks: every webhook with its delivery figures.
 * 200 {webhooks: [{id, url, events, created_at, disabled_at, pending,
 * failed, last_error}]}; 401; 503.
 */
void
h_admin_webhooks(struct request *req, struct response *resp)
{
	PGresult	*res;
	cJSON		*root, *arr, *o;
	int		 i;

	if ((res = db_fetch(req, resp, STMT_WEBHOOK_LIST, 1, &req->api_key,
	    MISSING_OK)) == NULL)
		return;
	root = json_new_object();
	arr = json_add_array(root, "webhooks");
	for (i = 0; i < PQntuples(res); i++) {
		o = json_new_object();
		json_add_number(o, "id", db_number(res, i, "webhook_id"));
		json_add_string(o, "url", db_value(res, i, "url"));
		add_events(o, db_value(res, i, "events"));
		json_add_string(o, "created_at", db_value(res, i, "created_at"));
		json_add_string_or_null(o, "disabled_at",
		    db_isnull(res, i, "disabled_at") ? NULL :
		    db_value(res, i, "disabled_at"));
		json_add_number(o, "pending", db_number(res, i, "pending"));
		json_add_number(o, "failed", db_number(res, i, "failed"));
		json_add_string_or_null(o, "last_error",
		    db_isnull(res, i, "last_error") ? NULL :
		    db_value(res, i, "last_error"));
		cJSON_AddItemToArray(arr, o);
	}
	PQclear(res);
	json_answer(resp, 200, root);
}

/*
 * POST /api/v1/admin/webhooks {url, events}: a new webhook; the signing
 * secret is in this answer only.  201 {id, url, events (as stored: each
 * once, sorted), secret}; 400
 * malformed body; 422 invalid_field (url: not https://, http:// refused;
 * events: unknown or none); 401; 503.
 */
void
h_admin_webhook_create(struct request *req, struct response *resp)
{
	static const char *const only[] = { "url", "events", NULL };
	cJSON		*body, *url, *events, *o;
	struct buf	 lit = BUF_INIT;
	const char	*vals[3], *outcome;
	PGresult	*res;

	if ((body = json_body(req, resp)) == NULL)
		return;
	if (json_only_members(resp, body, only, N_("is not a field of this "
	    "call: send only url and events")) == -1)
		goto done;
	url = cJSON_GetObjectItemCaseSensitive(body, "url");
	events = cJSON_GetObjectItemCaseSensitive(body, "events");
	if (!cJSON_IsString(url)) {
		answer_field_error(resp, "url", "required, an https:// URL");
		goto done;
	}
	if (events_literal(events, &lit) == -1) {
		answer_field_error(resp, "events", events_message);
		goto done;
	}
	vals[0] = url->valuestring;
	vals[1] = buf_str(&lit);
	vals[2] = req->api_key;
	if ((res = db_fetch(req, resp, STMT_WEBHOOK_CREATE, 3, vals,
	    MISSING_OK)) == NULL)
		goto done;
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "insecure_url") == 0)
		answer_field_error(resp, "url", "must be https://: deliveries "
		    "carry names and addresses");
	else if (strcmp(outcome, "invalid_url") == 0)
		answer_field_error(resp, "url", "an https:// URL without user "
		    "or password, at most 2000 characters");
	else if (strcmp(outcome, "invalid_events") == 0)
		answer_field_error(resp, "events", events_message);
	else {
		o = json_new_object();
		json_add_number(o, "id", db_number(res, 0, "webhook_id"));
		json_add_string(o, "url", vals[0]);
		add_events(o, db_value(res, 0, "events"));
		json_add_string(o, "secret", db_value(res, 0, "secret"));
		json_answer(resp, 201, o);
	}
	PQclear(res);
done:
	buf_free(&lit);
	cJSON_Delete(body);
}

/*
 * DELETE /api/v1/admin/webhooks/{id}: disables the webhook; its pending
 * deliveries are dropped.  200 {"disabled": true}; 404 webhook_not_found
 * (no live webhook has that id); 401; 503.
 */
void
h_admin_webhook_disable(struct request *req, struct response *resp)
{
	const char	*vals[2] = { req->args[0], req->api_key };
	long long	 id;
	PGresult	*res;
	int		 disabled;
	cJSON		*o;

	if (id_parse(req->args[0], req->args_len[0], &id) == -1) {
		answer_error(req, resp, 404, "webhook_not_found",
		    "no live webhook has that id");
		return;
	}
	if ((res = db_fetch(req, resp, STMT_WEBHOOK_DISABLE, 2, vals,
	    MISSING_OK)) == NULL)
		return;
	disabled = db_bool(res, 0, "disabled");
	PQclear(res);
	if (!disabled) {
		answer_error(req, resp, 404, "webhook_not_found",
		    "no live webhook has that id");
		return;
	}
	o = json_new_object();
	json_add_bool(o, "disabled", 1);
	json_answer(resp, 200, o);
}
