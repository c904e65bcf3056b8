/*
 * api_oauth.c: OAuth 2.0 client credentials for the LibCal-compatible API
 * (RFC 6749 section 4.4, as LibCal's clients use it), and the staff API
 * that creates and revokes the clients.  Offers the handlers of
 *
 *   POST   /1.1/oauth/token                 (and /api/1.1/oauth/token)
 *   GET    /api/v1/admin/api-clients        staff key
 *   POST   /api/v1/admin/api-clients        staff key
 *   DELETE /api/v1/admin/api-clients/{id}   staff key
 *
 * The body of a token request and its Basic credentials are parsed by
 * libcal.c (pure, fuzzed); the secrets are checked and the tokens made by
 * the database (sql/rules/45_api_clients.sql), which keeps only their
 * hashes.
 */
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "json.h"
#include "libcal.h"
#include "validate.h"

/* OAuth's own error shape (RFC 6749 5.2), which OAuth clients parse. */
static void
oauth_error(struct response *resp, int status, const char *code,
    const char *description)
{
	cJSON	*o = json_new_object();

	json_add_string(o, "error", code);
	json_add_string(o, "error_description", description);
	if (status == 401)
		resp_header(resp, "WWW-Authenticate", "%s",
		    "Basic realm=\"eventbox\"");
	json_answer(resp, status, o);
}

/*
 * The client's credentials from an Authorization: Basic header into c,
 * which holds the body's: RFC 6749 2.3.1 has servers take them so, and
 * clients use one way only (a client_id in the body that names the same
 * client is no second way).  Returns 0 (c as the client sent it), or -1
 * after answering 401 for a malformed header, 400 for both ways at once.
 */
static int
basic_credentials(struct request *req, struct response *resp,
    struct libcal_credentials *c)
{
	struct libcal_credentials	 basic;
	int				 rc = -1;

	switch (libcal_basic(req->authorization, &basic)) {
	case 1:
		return 0;
	case -1:
		oauth_error(resp, 401, "invalid_client",
		    "malformed basic credentials");
		goto done;
	}
	if (c->client_secret[0] != '\0' || (c->client_id[0] != '\0' &&
	    strcmp(c->client_id, basic.client_id) != 0)) {
		oauth_error(resp, 400, "invalid_request",
		    "send the client's credentials in the body or as basic "
		    "authentication, not both");
		goto done;
	}
	memcpy(c->client_id, basic.client_id, sizeof(c->client_id));
	memcpy(c->client_secret, basic.client_secret,
	    sizeof(c->client_secret));
	rc = 0;
done:
	explicit_bzero(&basic, sizeof(basic));
	return rc;
}

/*
 * POST /1.1/oauth/token: grant_type=client_credentials as JSON, a form or
 * multipart, with client_id and client_secret in the body or in an
 * Authorization: Basic header.  200 {access_token, token_type,
 * expires_in}; 400 invalid_request (also for credentials sent both ways),
 * unsupported_grant_type; 401 invalid_client (unknown, wrong secret or
 * revoked, alike; a malformed Basic header); 415; 503.
 */
void
h_oauth_token(struct request *req, struct response *resp)
{
	struct libcal_credentials	 c;
	char				 ttl[16];
	const char			*vals[3];
	PGresult			*res;
	cJSON				*o;

	if (libcal_credentials(req->content_type, req->body.data != NULL ?
	    req->body.data : "", req->body.len, &c) == -1) {
		oauth_error(resp, 400, "invalid_request", c.why[0] != '\0' ?
		    c.why : "the body is not a well-formed token request");
		goto done;
	}
	if (basic_credentials(req, resp, &c) == -1)
		goto done;
	if (strcmp(c.grant_type, "client_credentials") != 0) {
		oauth_error(resp, 400, c.grant_type[0] == '\0' ?
		    "invalid_request" : "unsupported_grant_type",
		    "grant_type must be client_credentials");
		goto done;
	}
	if (c.client_id[0] == '\0' || c.client_secret[0] == '\0') {
		oauth_error(resp, 400, "invalid_request",
		    "client_id and client_secret are required");
		goto done;
	}
	snprintf(ttl, sizeof(ttl), "%d", cfg.token_seconds);
	vals[0] = c.client_id;
	vals[1] = c.client_secret;
	vals[2] = ttl;
	if ((res = db_fetch(req, resp, STMT_OAUTH_TOKEN, 3, vals,
	    MISSING_OK)) == NULL)
		goto done;
	if (db_isnull(res, 0, "access_token")) {
		PQclear(res);
		oauth_error(resp, 401, "invalid_client",
		    "unknown client or wrong secret");
		goto done;
	}
	o = json_new_object();
	json_add_string(o, "access_token", db_value(res, 0, "access_token"));
	json_add_string(o, "token_type", "Bearer");
	json_add_number(o, "expires_in", db_number(res, 0, "expires_in"));
	json_add_string(o, "scope", "");
	PQclear(res);
	resp_header(resp, "Pragma", "%s", "no-cache");
	json_answer(resp, 200, o);
done:
	explicit_bzero(&c, sizeof(c));
}

/*
 * GET /api/v1/admin/api-clients: every client, live and revoked, without
 * secrets.  200 {"clients": [{client_id, name, registrations, created_at,
 * revoked_at}]}; 401; 503.
 */
void
h_admin_clients(struct request *req, struct response *resp)
{
	PGresult	*res;
	cJSON		*root, *arr, *o;
	int		 i;

	if ((res = db_fetch(req, resp, STMT_API_CLIENT_LIST, 1, &req->api_key,
	    MISSING_OK)) == NULL)
		return;
	root = json_new_object();
	arr = json_add_array(root, "clients");
	for (i = 0; i < PQntuples(res); i++) {
		o = json_new_object();
		json_add_string(o, "client_id", db_value(res, i, "client_id"));
		json_add_string(o, "name", db_value(res, i, "name"));
		json_add_bool(o, "registrations",
		    db_bool(res, i, "registrations"));
		json_add_string(o, "created_at", db_value(res, i, "created_at"));
		json_add_string_or_null(o, "revoked_at",
		    db_isnull(res, i, "revoked_at") ? NULL :
		    db_value(res, i, "revoked_at"));
		cJSON_AddItemToArray(arr, o);
	}
	PQclear(res);
	json_answer(resp, 200, root);
}

/*
 * POST /api/v1/admin/api-clients {name, registrations?}: a new client; the
 * secret is in this answer only.  201 {client_id, client_secret, name,
 * registrations}; 400 malformed body; 409 client_exists; 422
 * invalid_field; 401; 503.
 */
void
h_admin_client_create(struct request *req, struct response *resp)
{
	static const char *const only[] = { "name", "registrations", NULL };
	cJSON		*body, *name, *regs, *o;
	const char	*vals[3];
	PGresult	*res;
	const char	*outcome;

	if ((body = json_body(req, resp)) == NULL)
		return;
	if (json_only_members(resp, body, only, N_("is not a field of this "
	    "call: send only name and registrations")) == -1)
		goto done;
	name = cJSON_GetObjectItemCaseSensitive(body, "name");
	regs = cJSON_GetObjectItemCaseSensitive(body, "registrations");
	if (!cJSON_IsString(name)) {
		answer_field_error(resp, "name", "required, a text");
		goto done;
	}
	if (regs != NULL && !cJSON_IsBool(regs)) {
		answer_field_error(resp, "registrations", "true or false");
		goto done;
	}
	vals[0] = name->valuestring;
	vals[1] = cJSON_IsTrue(regs) ? "true" : "false";
	vals[2] = req->api_key;
	if ((res = db_fetch(req, resp, STMT_API_CLIENT_CREATE, 3, vals,
	    MISSING_OK)) == NULL)
		goto done;
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "invalid_name") == 0)
		answer_field_error(resp, "name", "1 to 64 of a-z 0-9 . _ -, "
		    "starting with a letter or digit");
	else if (strcmp(outcome, "exists") == 0)
		answer_error(req, resp, 409, "client_exists",
		    "a client of that name exists");
	else {
		o = json_new_object();
		json_add_string(o, "client_id", db_value(res, 0, "client_id"));
		json_add_string(o, "client_secret",
		    db_value(res, 0, "client_secret"));
		json_add_string(o, "name", vals[0]);
		json_add_bool(o, "registrations", cJSON_IsTrue(regs));
		json_answer(resp, 201, o);
	}
	PQclear(res);
done:
	cJSON_Delete(body);
}

/*
 * DELETE /api/v1/admin/api-clients/{id or name}: revokes the client and
 * ends its tokens.  200 {"revoked": true}; 404 client_not_found (none
 * live); 401; 503.
 */
void
h_admin_client_revoke(struct request *req, struct response *resp)
{
	const char	*vals[2] = { req->args[0], req->api_key };
	PGresult	*res;
	int		 revoked = 0;
	cJSON		*o;

	/* Bytes that are no UTF-8 name no client: PostgreSQL would refuse
	 * them as a value (a 422) rather than find none. */
	if (utf8_valid(req->args[0], req->args_len[0])) {
		if ((res = db_fetch(req, resp, STMT_API_CLIENT_REVOKE, 2,
		    vals, MISSING_OK)) == NULL)
			return;
		revoked = db_bool(res, 0, "revoked");
		PQclear(res);
	}
	if (!revoked) {
		answer_error(req, resp, 404, "client_not_found",
		    "no live client has that id or name");
		return;
	}
	o = json_new_object();
	json_add_bool(o, "revoked", 1);
	json_answer(resp, 200, o);
}
