"""LibCal's API as its clients use it: OAuth client credentials (created and
revoked by staff, hashed at rest), Bearer tokens on every /1.1 read, the
/api/1.1/ prefix, LibCal's other reads, parameters and fields.
"""
import base64
import json
import uuid

import pytest
import requests

from staffkit import admin, assert_error, connect_as, email, event_id, ops_role, staff_key  # noqa: F401


def new_client(admin, registrations=False):
    name = "c-" + uuid.uuid4().hex[:10]
    r = admin.post("/api-clients", json_body={"name": name,
                                              "registrations": registrations})
    assert r.status == 201 and r.header("Cache-Control") == "no-store", r
    c = r.json
    assert c["name"] == name and c["registrations"] is registrations
    assert c["client_id"].isdigit() and c["client_secret"].startswith("ebs_")
    return c


def token_request(api, body, ctype, path="/1.1/oauth/token"):
    return api.post(path, body=body, headers={"Content-Type": ctype})


def form(c):
    return (f"grant_type=client_credentials&client_id={c['client_id']}"
            f"&client_secret={c['client_secret']}")


def multipart(fields, boundary="----eventbox" + uuid.uuid4().hex):
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"'
                    f"\r\n\r\n{v}\r\n" for k, v in fields.items())
    return parts + f"--{boundary}--\r\n", f"multipart/form-data; boundary={boundary}"


def token(api, c):
    r = token_request(api, form(c), "application/x-www-form-urlencoded")
    assert r.status == 200, r
    return r.json["access_token"]


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}


def test_a_token_for_each_body_encoding(api, admin):
    c = new_client(admin)
    fields = {"client_id": c["client_id"], "client_secret": c["client_secret"],
              "grant_type": "client_credentials"}
    mp_body, mp_type = multipart(fields)
    bodies = [(json.dumps(fields), "application/json"),
              (json.dumps(dict(fields, client_id=int(c["client_id"]))), "application/json"),
              (form(c), "application/x-www-form-urlencoded; charset=UTF-8"),
              (mp_body, mp_type)]
    tokens = set()
    for body, ctype in bodies:
        r = token_request(api, body, ctype)
        assert r.status == 200, (ctype, r)
        assert r.header("Cache-Control") == "no-store", r
        assert r.json["token_type"] == "Bearer" and r.json["expires_in"] == 3600
        assert r.json["access_token"].startswith("ebt_")
        tokens.add(r.json["access_token"])
    assert len(tokens) == len(bodies)
    # The same under LibCal's /api/1.1/ prefix.
    r = token_request(api, form(c), "application/x-www-form-urlencoded",
                      "/api/1.1/oauth/token")
    assert r.status == 200, r


def test_secrets_and_tokens_are_stored_hashed(api, admin, db):
    c = new_client(admin)
    tok = token(api, c)
    dump = json.dumps(db.all("SELECT row_to_json(c)::text FROM eventbox.api_clients c"))
    dump += json.dumps(db.all("SELECT row_to_json(t)::text FROM eventbox.api_tokens t"))
    assert c["client_secret"] not in dump and tok not in dump
    assert c["client_secret"][4:] not in dump and tok[4:] not in dump
    assert db.value("SELECT count(*) FROM eventbox.api_tokens t"
                    " WHERE t.client_id = %s::bigint", c["client_id"]) == 1


@pytest.mark.parametrize("fields,status,code", [
    ({"grant_type": "client_credentials", "client_id": "1"}, 400, "invalid_request"),
    ({"grant_type": "password", "client_id": "1", "client_secret": "x"}, 400,
     "unsupported_grant_type"),
    ({"client_id": "1", "client_secret": "x"}, 400, "invalid_request"),
    ({"grant_type": "client_credentials", "client_id": "abc", "client_secret": "x"}, 401,
     "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "999999999",
      "client_secret": "ebs_x"}, 401, "invalid_client"),
])
def test_a_bad_token_request_gets_oauths_error(api, fields, status, code):
    r = token_request(api, json.dumps(fields), "application/json")
    assert r.status == status, r
    assert r.json["error"] == code and r.json["error_description"], r


def test_a_wrong_secret_a_revoked_client_and_malformed_bodies(api, admin, db):
    c = new_client(admin)
    secret = c["client_secret"]
    # Another last character, always (a secret ending in "0" made this
    # "wrong" secret the right one: one CI run in 16 failed).
    wrong = dict(c, client_secret=secret[:-1] + ("1" if secret.endswith("0") else "0"))
    r = token_request(api, form(wrong), "application/x-www-form-urlencoded")
    assert r.status == 401 and r.json["error"] == "invalid_client", r
    tok = token(api, c)
    ident = c["client_id"]
    r = admin.delete(f"/api-clients/{ident}")
    assert r.status == 200 and r.json == {"revoked": True}, r
    assert_error(admin.delete(f"/api-clients/{ident}"), 404, "client_not_found")
    # A path that is no text names no client either: not PostgreSQL's
    # refusal of the bytes as a 422 invalid_value ("a value is out of
    # range or malformed"), with a warning in the service's log.
    for path in ("%FF", "%C0%80", "a%ED%A0%80"):
        assert_error(admin.delete(f"/api-clients/{path}"), 404, "client_not_found")
    r = token_request(api, form(c), "application/x-www-form-urlencoded")
    assert r.status == 401 and r.json["error"] == "invalid_client", r
    assert db.value("SELECT count(*) FROM eventbox.api_tokens"
                    " WHERE client_id = %s::bigint", ident) == 0
    assert tok
    for body, ctype in [("{", "application/json"), ("[]", "application/json"),
                        ("a=%zz", "application/x-www-form-urlencoded"),
                        # RFC 6749 3.2: a parameter at most once
                        (form(c) + "&client_id=1",
                         "application/x-www-form-urlencoded"),
                        ("--x\r\nno end", "multipart/form-data; boundary=x"),
                        ("x", "multipart/form-data")]:
        r = token_request(api, body, ctype)
        assert r.status == 400 and r.json["error"] == "invalid_request", (body, r)
    assert_error(token_request(api, "x", "text/plain"), 415, "unsupported_media_type")
    assert api.get("/1.1/oauth/token").status == 405


def oauth_invalid_request(r, what):
    """RFC 6749 5.2's shape, which OAuth clients parse: a 400 whose error is
    a string, never eventbox's own {"error": {"code": ...}}."""
    assert r.status == 400, (what, r)
    assert r.header("Content-Type").startswith("application/json"), (what, r)
    assert r.json["error"] == "invalid_request", (what, r)
    assert isinstance(r.json["error_description"], str), (what, r)


NOT_TEXT = {"not UTF-8": b"\xff", "a bad continuation": b"ebs_\xc3\x28",
            "a surrogate": b"\xed\xa0\x80", "a control character": b"a\x01b"}


@pytest.mark.parametrize("field", ["client_id", "client_secret", "grant_type"])
@pytest.mark.parametrize("raw", NOT_TEXT.values(), ids=NOT_TEXT.keys())
def test_a_credential_that_is_not_text_is_invalid_request_in_every_encoding(
        api, field, raw):
    """What the form refused already (query_parse), JSON and multipart refuse
    too, before the database sees bytes it would refuse as an error."""
    fields = {"grant_type": b"client_credentials", "client_id": b"2",
              "client_secret": b"ebs_x"}
    fields[field] = raw
    body = b"{" + b", ".join(b'"%s": "%s"' % (k.encode(), v)
                              for k, v in fields.items()) + b"}"
    oauth_invalid_request(token_request(api, body, "application/json"), "json")
    boundary = "----eventbox" + uuid.uuid4().hex
    body = b"".join(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n'
                    b"%s\r\n" % (boundary.encode(), k.encode(), v)
                    for k, v in fields.items()) + b"--%s--\r\n" % boundary.encode()
    oauth_invalid_request(token_request(
        api, body, f"multipart/form-data; boundary={boundary}"), "multipart")
    body = b"&".join(b"%s=%s" % (k.encode(), b"".join(b"%%%02X" % b for b in v))
                     for k, v in fields.items())
    oauth_invalid_request(token_request(
        api, body, "application/x-www-form-urlencoded"), "form")


def test_a_form_token_request_reads_percent_encoded_names(api, admin):
    """A client that percent-encodes every byte of the form (client%5Fid=)
    was told invalid_request: its names were compared as sent, undecoded."""
    c = new_client(admin)

    def enc(s):
        return "".join(f"%{b:02X}" for b in s.encode())
    body = "&".join(f"{enc(k)}={enc(v)}" for k, v in (
        ("grant_type", "client_credentials"), ("client_id", c["client_id"]),
        ("client_secret", c["client_secret"])))
    r = token_request(api, body, "application/x-www-form-urlencoded")
    assert r.status == 200 and r.json["token_type"] == "Bearer", r
    # Encoded once and plain once, a name is given twice (RFC 6749 3.2); a
    # name that is not text is no name.
    for extra in ("&client%5Fid=1", "&%FF=1", "&a%0Ab=1"):
        oauth_invalid_request(token_request(
            api, form(c) + extra, "application/x-www-form-urlencoded"), extra)


def test_a_json_token_request_is_the_object_alone(api, admin):
    """Only white space may follow the object, and a string ends where its
    closing quote is, not at an escaped NUL: "SECRET\\u0000junk" was read
    as SECRET and given a token."""
    c = new_client(admin)
    good = json.dumps({"grant_type": "client_credentials",
                       "client_id": c["client_id"],
                       "client_secret": c["client_secret"]})
    for body in (good + " trailing-garbage", good + "{}", good + "\x00junk",
                 good.replace(c["client_secret"], c["client_secret"] + "\\u0000junk"),
                 # numbers and strings JSON does not have, which cJSON reads
                 good.replace(f'"{c["client_id"]}"', f'0{c["client_id"]}'),
                 good.replace(f'"{c["client_id"]}"', f'{c["client_id"]}.'),
                 good.replace('"client_credentials"', '"client_credentials\t"'),
                 good.replace(", ", ",\x0b")):
        oauth_invalid_request(token_request(api, body, "application/json"), body)
    r = token_request(api, " " + good + "\r\n\t ", "application/json")
    assert r.status == 200 and r.json["token_type"] == "Bearer", r


@pytest.mark.parametrize("name", ["client_secret", "client_id", "grant_type"])
def test_a_credential_given_twice_is_invalid_request_in_json_and_multipart(
        api, admin, db, name):
    """RFC 6749 3.2, as the form already kept it: JSON took the first of
    two values (cJSON) and multipart the last, so the right secret next to
    a wrong one got a token, whichever came first in the encoding used."""
    c = new_client(admin)
    good = {"grant_type": "client_credentials", "client_id": c["client_id"],
            "client_secret": c["client_secret"]}
    other = {"grant_type": "password", "client_id": "1",
             "client_secret": "ebs_wrong"}[name]
    for first, second in ((good[name], other), (other, good[name])):
        pairs = [(k, v) for k, v in good.items() if k != name]
        pairs += [(name, first), (name, second)]
        body = "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}"
                               for k, v in pairs) + "}"
        oauth_invalid_request(token_request(api, body, "application/json"),
                              ("json", first, second))
        boundary = "----eventbox" + uuid.uuid4().hex
        body = "".join(f'--{boundary}\r\nContent-Disposition: form-data;'
                       f' name="{k}"\r\n\r\n{v}\r\n' for k, v in pairs)
        body += f"--{boundary}--\r\n"
        oauth_invalid_request(token_request(
            api, body, f"multipart/form-data; boundary={boundary}"),
            ("multipart", first, second))
    assert db.value("SELECT count(*) FROM eventbox.api_tokens"
                    " WHERE client_id = %s::bigint", c["client_id"]) == 0


def test_a_json_token_request_is_read_as_every_json_body_is(api, admin, db):
    """The token endpoint read its JSON with code of its own: a client_id of
    N.0000000000000000001 (a double's N) got N's token, and a name given
    twice outside the three it reads, a number too large or a byte order
    mark went by rules no other route has.  It uses json_read_object() now,
    in OAuth's shape (RFC 6749 5.2), naming the member."""
    c = new_client(admin)
    ident = c["client_id"]
    good = json.dumps({"grant_type": "client_credentials", "client_id": ident,
                       "client_secret": c["client_secret"]})

    def refused(body, says):
        r = token_request(api, body, "application/json")
        oauth_invalid_request(r, body)
        assert says in r.json["error_description"], (body, r)
        assert all(0x20 <= ord(ch) <= 0x7e and ch not in '"\\'
                   for ch in r.json["error_description"]), r
    for number in (f"{ident}.0000000000000000001", f"{ident}.00000000000000000001e0",
                   f"{int(ident) - 1}.99999999999999999999"):
        refused(good.replace(f'"{ident}"', number),
                "client_id is a number that cannot be read exactly")
    refused(good[:-1] + ', "x": 1e999}', "x is a number too large")
    # RFC 6749 3.2: no parameter more than once, read or not (as JSON
    # bodies elsewhere: parsers differ on which counts).
    refused(good[:-1] + ', "scope": "a", "scope": "b"}',
            "scope is given more than once")
    refused(good[:-1] + ', "x": {"a": 1, "a": 2}}', "a is given more than once")
    refused(good[:-1] + ', "sc\\"ope": 1, "sc\\"ope": 2}',
            "a member is given more than once")
    refused("", "send the token request")
    refused("\ufeff", "send the token request")
    refused("[]", "must be a JSON object")
    assert db.value("SELECT count(*) FROM eventbox.api_tokens"
                    " WHERE client_id = %s::bigint", ident) == 0
    # What stays: a byte order mark (RFC 8259 8.1, as on every route), a
    # whole number written 7.0, names the endpoint does not read.
    for body in ("\ufeff" + good, good.replace(f'"{ident}"', f"{ident}.0"),
                 good[:-1] + ', "scope": "", "x": {"a": [1, 1]}}'):
        r = token_request(api, body.encode(), "application/json")
        assert r.status == 200 and r.json["token_type"] == "Bearer", (body, r)
    # A form's name the endpoint does not read is still ignored, repeated
    # or not (RFC 6749 3.2: unrecognized parameters are ignored).
    r = token_request(api, form(c) + "&scope=&scope=x",
                      "application/x-www-form-urlencoded")
    assert r.status == 200 and r.json["token_type"] == "Bearer", r


def test_a_multipart_parts_name_is_read_as_rfc_7578_has_it(api, admin, db):
    """A part's name was the first 'name="' anywhere in its headers: an
    unquoted name=client_secret, NAME=, or a name after a filename was no
    name (400 "required"), and a part named scope whose other header said
    name="client_secret" gave the secret, and a token."""
    c = new_client(admin)
    boundary = "----eventbox" + uuid.uuid4().hex

    def body(secret_headers):
        parts = [('Content-Disposition: form-data; name="grant_type"',
                  "client_credentials"),
                 ('Content-Disposition: form-data; name="client_id"', c["client_id"]),
                 (secret_headers, c["client_secret"])]
        return "".join(f"--{boundary}\r\n{h}\r\n\r\n{v}\r\n" for h, v in parts) \
            + f"--{boundary}--\r\n"
    ctype = f"multipart/form-data; boundary={boundary}"
    for headers in ("Content-Disposition: form-data; name=client_secret",
                    'content-disposition: form-data; NAME="client_secret"',
                    'Content-Disposition: form-data; filename="s.txt"; name="client_secret"',
                    'Content-Disposition: form-data; name="client_secret"\r\n'
                    "Content-Type: text/plain"):
        r = token_request(api, body(headers), ctype)
        assert r.status == 200 and r.json["token_type"] == "Bearer", (headers, r)
    before = db.value("SELECT count(*) FROM eventbox.api_tokens"
                      " WHERE client_id = %s::bigint", c["client_id"])
    r = token_request(api, body('X-Note: name="client_secret"\r\n'
                                'Content-Disposition: form-data; name="scope"'), ctype)
    oauth_invalid_request(r, "a part named scope")
    assert r.json["error_description"] == "client_id and client_secret are required", r
    for headers in ('Content-Disposition: form-data; name="client_secret',
                    'Content-Disposition: attachment; name="client_secret"',
                    'Content-Disposition: form-data; name="x"; name="client_secret"'):
        r = token_request(api, body(headers), ctype)
        oauth_invalid_request(r, headers)
        assert "Content-Disposition" in r.json["error_description"], (headers, r)
    assert db.value("SELECT count(*) FROM eventbox.api_tokens"
                    " WHERE client_id = %s::bigint", c["client_id"]) == before


def test_a_multipart_boundary_is_the_parameter_named_boundary(api, admin):
    """The boundary was the text after the first "boundary=" anywhere in
    the Content-Type: inside another parameter's quoted value, or at the
    end of another parameter's name (xboundary=)."""
    c = new_client(admin)
    body, ctype = multipart({"grant_type": "client_credentials",
                             "client_id": c["client_id"],
                             "client_secret": c["client_secret"]})
    b = ctype.split("boundary=")[1]
    for taken in (f'multipart/form-data; note="boundary=x"; boundary={b}',
                  f'multipart/form-data;BOUNDARY="{b}"'):
        r = token_request(api, body, taken)
        assert r.status == 200 and r.json["token_type"] == "Bearer", (taken, r)
    for refused in (f"multipart/form-data; xboundary={b}",
                    f"multipart/form-data; boundary={b}; boundary=x"):
        oauth_invalid_request(token_request(api, body, refused), refused)


def basic(user, password):
    """An Authorization: Basic header of these (already encoded) parts."""
    if isinstance(password, str):
        password = password.encode()
    raw = user.encode() + b":" + password
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def pct_all(s):
    """Every character percent-encoded, as form-urlencoding may leave it."""
    return "".join(f"%{b:02X}" for b in s.encode())


def test_a_token_for_http_basic_client_authentication(api, admin, db):
    c = new_client(admin)
    url = f"{api.base}/1.1/oauth/token"
    # As requests-oauthlib and curl -u send it: RFC 6749 2.3.1.
    r = requests.post(url, data={"grant_type": "client_credentials"},
                      auth=(c["client_id"], c["client_secret"]), timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["access_token"].startswith("ebt_") and r.json()["expires_in"] == 3600
    assert r.headers["Cache-Control"] == "no-store"
    # Each part form-urlencoded before base64; any body encoding; a
    # client_id in the body that names the same client is no second way.
    for body, ctype, header in [
            ("grant_type=client_credentials", "application/x-www-form-urlencoded",
             basic(pct_all(c["client_id"]), pct_all(c["client_secret"]))),
            ('{"grant_type": "client_credentials"}', "application/json",
             {"Authorization": "basic " + basic(c["client_id"], c["client_secret"])
              ["Authorization"][len("Basic "):]}),
            (f"grant_type=client_credentials&client_id={c['client_id']}",
             "application/x-www-form-urlencoded",
             basic(c["client_id"], c["client_secret"]))]:
        r = api.post("/api/1.1/oauth/token", body=body,
                     headers=dict(header, **{"Content-Type": ctype}))
        assert r.status == 200, (body, header, r)
    assert db.value("SELECT count(*) FROM eventbox.api_tokens"
                    " WHERE client_id = %s::bigint", c["client_id"]) == 4
    # A wrong secret, or a revoked client: the same 401 as in the body.
    wrong = c["client_secret"][:-1] + ("1" if c["client_secret"].endswith("0") else "0")
    r = requests.post(url, data={"grant_type": "client_credentials"},
                      auth=(c["client_id"], wrong), timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
    assert r.headers["WWW-Authenticate"] == 'Basic realm="eventbox"'
    admin.delete(f"/api-clients/{c['client_id']}")
    r = requests.post(url, data={"grant_type": "client_credentials"},
                      auth=(c["client_id"], c["client_secret"]), timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text


def test_credentials_both_in_the_body_and_as_basic_are_refused(api, admin):
    c, other = new_client(admin), new_client(admin)
    for body in (form(c), form(dict(c, client_id=other["client_id"])),
                 f"grant_type=client_credentials&client_secret={c['client_secret']}",
                 f"grant_type=client_credentials&client_id={other['client_id']}"):
        r = api.post("/1.1/oauth/token", body=body, headers=dict(
            basic(c["client_id"], c["client_secret"]),
            **{"Content-Type": "application/x-www-form-urlencoded"}))
        assert r.status == 400 and r.json["error"] == "invalid_request", (body, r)


MALFORMED_BASIC = {
    "no credentials": "Basic",
    "empty credentials": "Basic ",
    "not base64": "Basic !!!!",
    "wrong padding": "Basic NzplYnNfYQ=",
    "stray bits": "Basic NzplYnNfYR==",
    "no colon": "Basic " + base64.b64encode(b"7ebs_x").decode(),
    "no id": basic("", "ebs_x")["Authorization"],
    "no secret": basic("7", "")["Authorization"],
    "bad escape": basic("7", "a%zz")["Authorization"],
    "encoded NUL": basic("7", "a%00")["Authorization"],
    "not UTF-8": basic("7", b"\xff\xfe")["Authorization"],
    "control character": basic("7", "a\tb")["Authorization"],
    "secret too long": basic("7", "x" * 250)["Authorization"],
    "id too long": basic("1" * 40, "ebs_x")["Authorization"],
    "header too long": "Basic " + "A" * 3000,
}


@pytest.mark.parametrize("header", MALFORMED_BASIC.values(), ids=MALFORMED_BASIC.keys())
def test_malformed_basic_credentials_are_invalid_client(api, header):
    r = api.post("/1.1/oauth/token", body="grant_type=client_credentials",
                 headers={"Authorization": header,
                          "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 401 and r.json["error"] == "invalid_client", (header, r)
    assert r.header("WWW-Authenticate") == 'Basic realm="eventbox"'


def test_staff_manage_clients_through_the_api_and_sql(api, admin, db, ops_role):
    c = new_client(admin)
    listed = admin.get("/api-clients").json["clients"]
    (mine,) = [x for x in listed if x["client_id"] == c["client_id"]]
    assert mine["revoked_at"] is None and "client_secret" not in mine
    assert_error(admin.post("/api-clients", json_body={"name": c["name"]}), 409,
                 "client_exists")
    assert_error(admin.post("/api-clients", json_body={"name": "Bad Name"}), 422,
                 "invalid_field", "name")
    assert_error(admin.post("/api-clients", json_body={"name": "x",
                                                       "registrations": "yes"}),
                 422, "invalid_field", "registrations")
    assert api.post("/api/v1/admin/api-clients", json_body={"name": "x"}).status == 401

    ops = connect_as(ops_role)
    try:
        cur = ops.cursor()
        name = "sql-" + uuid.uuid4().hex[:8]
        cur.execute("SELECT outcome, client_id, client_secret"
                    " FROM eventbox.api_client_create(%s, true)", (name,))
        outcome, cid, secret = cur.fetchone()
        assert outcome == "created"
        assert token(api, {"client_id": cid, "client_secret": secret})
        cur.execute("SELECT eventbox.api_client_revoke(%s)", (name,))
        assert cur.fetchone()[0] is True
        cur.execute("SELECT actor, via, action FROM eventbox.audit_log"
                    " WHERE details->>'client_id' = %s ORDER BY id", (cid,))
        assert cur.fetchall() == [(ops_role, "sql", "api_client_created"),
                                  (ops_role, "sql", "api_client_revoked")]
    finally:
        ops.close()
    r = token_request(api, form({"client_id": cid, "client_secret": secret}),
                      "application/x-www-form-urlencoded")
    assert r.status == 401


def test_registrations_with_a_token_only_when_the_client_may(api, admin, db, make_event):
    slug = make_event(capacity=1)
    a, b = email(), email()
    api.register(slug, "First Person", a)
    api.register(slug, "Second Person", b)
    ident = event_id(db, slug)
    path = f"/api/1.1/events/{ident}/registrations?waitlist=1"

    reader = new_client(admin)
    assert_error(api.get(path, headers=bearer(token(api, reader))), 403,
                 "insufficient_scope")
    stats = new_client(admin, registrations=True)
    tok = token(api, stats)
    r = api.get(path, headers=bearer(tok))
    assert r.status == 200 and r.header("Cache-Control") == "no-store", r
    (ev,) = r.json
    assert ev["event_id"] == ident
    (p,) = ev["registrants"]
    assert set(p) >= {"booking_id", "first_name", "last_name", "email",
                      "registered_date", "attendance"}
    assert (p["email"], p["first_name"], p["last_name"]) == (a, "First Person", "")
    assert [w["email"] for w in ev["waitlist"]] == [b]
    # An expired token, then a revoked client's, are refused like none.
    db.all("UPDATE eventbox.api_tokens SET expires_at = now() - interval '1 second'"
           " WHERE client_id = %s::bigint", stats["client_id"])
    assert_error(api.get(path, headers=bearer(tok)), 401, "unauthorized")
    tok = token(api, stats)
    assert api.get(path, headers=bearer(tok)).status == 200
    admin.delete(f"/api-clients/{stats['name']}")
    assert_error(api.get(path, headers=bearer(tok)), 401, "unauthorized")
    assert_error(api.get(path, headers=bearer("None")), 401, "unauthorized")


def test_registrations_challenge_as_rfc_6750_says(api, admin, db, make_event):
    """No credentials: a challenge without an error code (some clients
    read invalid_token as "refresh and retry"); a bad token: invalid_token;
    a client without the scope: 403 with insufficient_scope, where there
    was no WWW-Authenticate at all."""
    path = f"/1.1/events/{event_id(db, make_event())}/registrations"
    r = api.get(path)
    assert_error(r, 401, "unauthorized")
    assert r.header("WWW-Authenticate") == 'Bearer realm="eventbox"'
    r = api.get(path, headers=bearer("ebt_no-such-token"))
    assert_error(r, 401, "unauthorized")
    assert r.header("WWW-Authenticate") == 'Bearer realm="eventbox", error="invalid_token"'
    r = api.get(path, headers=bearer(token(api, new_client(admin))))
    assert_error(r, 403, "insufficient_scope")
    assert r.header("WWW-Authenticate") == (
        'Bearer realm="eventbox", error="insufficient_scope"')


def test_registrations_leave_out_seats_held_for_an_unconfirmed_address(api, admin, db,
                                                                      make_event):
    slug = make_event(capacity=2, confirmation_required=True)
    ident = event_id(db, slug)
    seated, held, held_waiting, waiting = (email() for _ in range(4))
    for addr in (seated, held, held_waiting, waiting):
        r = api.register(slug, "Person", addr)
        assert r.status == 202 and r.json["status"] == "pending", r
    for addr in (seated, waiting):
        tok = db.tokens(addr, "confirm_address")[-1]
        assert api.post(f"/api/v1/registrations/{tok}/confirm").status == 200
    tok = token(api, new_client(admin, registrations=True))
    r = api.get(f"/1.1/events/{ident}/registrations?waitlist=1", headers=bearer(tok))
    assert r.status == 200, r
    (ev,) = r.json
    assert [p["email"] for p in ev["registrants"]] == [seated]
    # Its place in line counts the held place before it, as its email says.
    assert [(w["email"], w["position"]) for w in ev["waitlist"]] == [(waiting, 2)]
    # The same people as the event's own figures count.
    (e,) = api.get(f"/1.1/events/{ident}").json["events"]
    assert (e["seats_taken"], e["wait_list"]) == (1, 1)


def test_a_bearer_token_is_accepted_on_every_read(api, admin, db, make_event):
    slug = make_event()
    ident = event_id(db, slug)
    tok = token(api, new_client(admin))
    for prefix in ("/1.1", "/api/1.1"):
        for path in (f"/events/{ident}", f"/event/{ident}", "/events?days=400",
                     "/event_search?search=test", "/calendars", "/categories/1"):
            r = api.get(prefix + path, headers=bearer(tok))
            assert r.status == 200, (prefix + path, r)
    assert api.get(f"/api/1.1/event/{ident}").json["events"][0]["id"] == ident


def test_calendar_campus_and_the_fields_clients_index_into(api, db, make_event):
    slug = make_event(image_path="/static/eventbox.css", image_alt="A poster")
    (ev,) = api.get(f"/1.1/events/{event_id(db, slug)}").json["events"]
    assert ev["calendar"]["name"] == "Consortium Events" and ev["calendar"]["id"] == 1
    assert ev["campus"] == {"id": 1, "name": "Main Library"}
    assert ev["future_dates"] == [] and ev["audience"] == []
    assert ev["featured_image"] == f"{api.base}/static/eventbox.css"
    for key in ("more_info", "registration_cost", "color", "presenter", "description"):
        assert isinstance(ev[key], str), key
    (other,) = api.get(f"/1.1/events/{event_id(db, make_event())}").json["events"]
    assert other["featured_image"] == ""
    cals = api.get("/1.1/calendars").json["calendars"]
    assert [(c["calid"], c["name"]) for c in cals] == [(1, "Consortium Events")]


def test_a_calendar_has_its_public_url_under_url_as_in_libcal(api):
    """LibCal's clients read cal["url"]["public"]; it was flat "public"."""
    (cal,) = api.get("/1.1/calendars").json["calendars"]
    assert set(cal) == {"calid", "cal_id", "name", "url", "owner", "visibility"}
    assert cal["url"] == {"public": f"{api.base}/events"}


def test_days_zero_capped_days_paging_and_search(api, db, make_event):
    cat = "Cat " + uuid.uuid4().hex[:6]
    word = uuid.uuid4().hex[:8]
    slugs = [make_event(starts_in=f"{500 + d} days", categories=[cat]) for d in (0, 0, 0, 1)]
    db.all("UPDATE eventbox.events SET description = %s WHERE slug = %s",
           f"about {word}", slugs[1])
    day = db.value("SELECT (starts_at AT TIME ZONE timezone)::date::text"
                   " FROM eventbox.events WHERE slug = %s", slugs[0])
    cid = db.value("SELECT eventbox.category_id(%s)", cat)
    ids = [event_id(db, s) for s in slugs]
    q = f"/1.1/events?cal_id=4321&date={day}&category={cid}"
    assert [e["id"] for e in api.get(q + "&days=0").json["events"]] == ids[:3]
    assert [e["id"] for e in api.get(q + "&days=5000&limit=9000").json["events"]] == ids
    pages = [[e["id"] for e in api.get(f"{q}&days=2&limit=3&page={p}").json["events"]]
             for p in (1, 2, 3)]
    assert pages == [ids[:3], ids[3:], []]
    got = api.get(f"/1.1/event_search?search={word}&date={day}&days=2"
                  "&campus=3&audience=1,2&unknown=x").json["events"]
    assert [e["id"] for e in got] == [ids[1]]
    (entry,) = api.get("/1.1/categories/4321").json
    assert entry["cal_id"] == 4321 and {"id": cid, "name": cat} in entry["categories"]
    assert_error(api.get("/1.1/categories/x"), 404, "not_found")


def test_a_browser_preflight_may_send_authorization(api):
    r = api.request("OPTIONS", "/1.1/events", headers={
        "Origin": "https://library.example.org",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert r.status == 204, r
    assert "Authorization" in r.header("Access-Control-Allow-Headers")
