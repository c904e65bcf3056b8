"""Hostile and malformed input: every one gets a precise 4xx, never a 5xx,
and none leaves a half-written row behind.

Each test makes its own event (with one good registration already in it, so
"nothing changed" is checked against a non-empty event), sends one bad
request and checks the exact status and error code, then that the event
still holds exactly the one good registration and one outbox row for it.
When the module is done, the service must still be healthy and every event
used here must still be clean.
"""
import gzip
import http.client
import json
import time
import uuid

import pytest

from conftest import Response

API = "/api/v1"
BODY_LIMIT = 16384
NGINX_ERROR_CODES = {"bad_request", "not_found", "body_too_large"}

USED_EVENTS = []


# --- helpers ----------------------------------------------------------------

def email(tag="bad"):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.org"


def refused(r, status, code, field=None):
    """Exactly this status and this JSON error code."""
    assert r.status < 500, r
    assert r.status == status, r
    assert (r.header("Content-Type") or "").startswith("application/json"), r
    err = r.json["error"]
    assert err["code"] == code, r
    assert isinstance(err["message"], str) and err["message"], r
    if field is not None:
        assert err.get("field") == field, r
    else:
        assert "field" not in err, r


def refused_somehow(r, statuses, codes):
    """For paths nginx may answer itself: one of these statuses, never a 5xx,
    and when the answer is JSON, one of these codes (or nginx's own)."""
    assert r.status < 500, r
    assert r.status in statuses, r
    if (r.header("Content-Type") or "").startswith("application/json"):
        assert r.json["error"]["code"] in set(codes) | NGINX_ERROR_CODES, r


def post_raw(api, slug, body, content_type="application/json", headers=None):
    h = {"Content-Type": content_type} if content_type else {}
    h.update(headers or {})
    return api.post(f"{API}/events/{slug}/registrations", body=body, headers=h)


def dumps(obj):
    return json.dumps(obj).encode()


def assert_untouched(db, slug):
    """Only the one good registration: no half-written rows, no stray mail,
    no idempotency record, counters that agree with the rows."""
    regs = db.all("SELECT r.name, r.status FROM eventbox.registrations r"
                  " JOIN eventbox.events e ON e.id = r.event_id"
                  " WHERE e.slug = %s", slug)
    assert regs == [("Good Patron", "confirmed")], regs
    outbox = db.value("SELECT count(*) FROM eventbox.outbox o"
                      " JOIN eventbox.events e ON e.id = o.event_id"
                      " WHERE e.slug = %s AND o.kind <> 'already_registered'",
                      slug)
    assert outbox == len(regs)
    assert db.value("SELECT count(*) FROM eventbox.idempotency_keys k"
                    " JOIN eventbox.events e ON e.id = k.event_id"
                    " WHERE e.slug = %s", slug) == 0
    s = db.summary(slug)
    assert (s["confirmed"], s["waitlisted"], s["cancelled"]) == (1, 0, 0), s


@pytest.fixture
def slug(api, db, make_event):
    """A published event with room, holding one good registration."""
    s = make_event(capacity=10)
    r = api.register(s, "Good Patron", email("good"))
    assert r.status == 201, r
    USED_EVENTS.append(s)
    return s


@pytest.fixture(scope="module", autouse=True)
def still_healthy_and_clean_afterwards(api, db):
    yield
    r = api.get("/healthz")
    assert r.status == 200, r
    assert r.json["status"] == "ok"
    for s in USED_EVENTS:
        assert_untouched(db, s)


# --- bodies that are not a registration -------------------------------------

@pytest.mark.parametrize("body, status, code, field", [
    pytest.param(b"", 400, "empty_body", None, id="missing-body"),
    pytest.param(b'{"name": "Ann", "email": ', 400, "invalid_json", None,
                 id="truncated-json"),
    pytest.param(b"{'name': 'Ann', 'email': 'ann@example.org'}", 400,
                 "invalid_json", None, id="single-quoted-json"),
    pytest.param(b'{"name": "Ann", "email": "ann@example.org"} trailing', 400,
                 "invalid_json", None, id="trailing-garbage"),
    pytest.param(b'{"name": "Ann", "email": "ann@example.org",}', 400,
                 "invalid_json", None, id="trailing-comma"),
    pytest.param(b"name=Ann&email=ann@example.org", 400, "invalid_json", None,
                 id="form-data-labelled-json"),
    pytest.param(b'[{"name": "Ann", "email": "ann@example.org"}]', 422,
                 "invalid_body", None, id="json-array"),
    pytest.param(b'"Ann <ann@example.org>"', 422, "invalid_body", None,
                 id="json-string"),
    pytest.param(b"42", 422, "invalid_body", None, id="json-number"),
    pytest.param(b"null", 422, "invalid_body", None, id="json-null"),
    pytest.param(b"true", 422, "invalid_body", None, id="json-true"),
    pytest.param(b"{}", 422, "invalid_field", "name", id="empty-object"),
])
def test_a_body_that_is_not_a_registration_object_is_refused_and_reaches_no_row(
        api, db, slug, body, status, code, field):
    refused(post_raw(api, slug, body), status, code, field)
    assert_untouched(db, slug)


@pytest.mark.parametrize("fields, field", [
    pytest.param({"name": 42, "email": "ann@example.org"}, "name",
                 id="name-as-number"),
    pytest.param({"name": True, "email": "ann@example.org"}, "name",
                 id="name-as-boolean"),
    pytest.param({"name": ["Ann"], "email": "ann@example.org"}, "name",
                 id="name-as-list"),
    pytest.param({"name": None, "email": "ann@example.org"}, "name",
                 id="name-as-null"),
    pytest.param({"email": "ann@example.org"}, "name", id="name-missing"),
    pytest.param({"name": " \t ", "email": "ann@example.org"}, "name",
                 id="name-blank"),
    pytest.param({"name": "Ann", "email": ["ann@example.org"]}, "email",
                 id="email-as-list"),
    pytest.param({"name": "Ann", "email": 42}, "email", id="email-as-number"),
    pytest.param({"name": "Ann", "email": {"address": "ann@example.org"}},
                 "email", id="email-as-object"),
    pytest.param({"name": "Ann"}, "email", id="email-missing"),
    pytest.param({"name": "Ann", "email": "ann@example.org",
                  "organization": {}}, "organization",
                 id="organization-as-object"),
    pytest.param({"name": "Ann", "email": "ann@example.org",
                  "organization": 7}, "organization",
                 id="organization-as-number"),
])
def test_a_field_of_the_wrong_type_is_refused_with_its_field_name(
        api, db, slug, fields, field):
    refused(post_raw(api, slug, dumps(fields)), 422, "invalid_field", field)
    assert_untouched(db, slug)


def test_a_huge_number_as_name_is_refused_with_field_name(api, db, slug):
    body = b'{"name": 1e999, "email": "ann@example.org"}'
    refused(post_raw(api, slug, body), 422, "invalid_field", "name")
    assert_untouched(db, slug)


@pytest.mark.parametrize("body, field", [
    pytest.param(b'{"name": "Ann", "email": "ann@example.org", "answers": {"12": 1e999}}',
                 "12", id="an-answer"),
    pytest.param(b'{"name": "Ann", "email": "ann@example.org", "answers": {"12": [-1E+400]}}',
                 "12", id="in-a-list"),
    pytest.param(b'{"name": "Ann", "email": "ann@example.org", "x": {"y": 2e308}}',
                 "y", id="anywhere"),
])
def test_a_number_too_large_for_a_double_is_named_not_read_as_null(
        api, db, slug, body, field):
    """cJSON reads 1e999 as infinity and writes it back as null: the answer
    was "missing", the message "is required"."""
    r = post_raw(api, slug, body)
    refused(r, 422, "invalid_field", field)
    assert r.json["error"]["message"] == f"{field}: is a number too large"
    assert_untouched(db, slug)


@pytest.mark.parametrize("body, field", [
    pytest.param(b'{"name": "Ann", "email": "ann@example.org", "name": "Bob"}',
                 "name", id="name-twice"),
    pytest.param(b'{"email": "bob@example.org", "name": "Ann",'
                 b' "email": "ann@example.org"}', "email", id="email-twice"),
    pytest.param(b'{"name": "Ann", "email": "ann@example.org",'
                 b' "answers": {"1": true, "1": false}}', "1", id="an-answer-twice"),
])
def test_a_name_given_twice_in_one_object_is_refused_with_that_name(
        api, db, slug, body, field):
    """cJSON reads the first of the two, PostgreSQL's jsonb keeps the last:
    such a body means two things, and neither is taken."""
    refused(post_raw(api, slug, body), 422, "invalid_field", field)
    assert_untouched(db, slug)


def test_a_name_given_twice_among_1500_is_found_at_once(api, db, slug):
    """The names are sorted to be compared, not compared pairwise: the
    repeat at the end of 1,500 answers inside the usual time."""
    names = b",".join(b'"k%d":0' % i for i in range(1500))
    body = (b'{"name": "Ann", "email": "ann@example.org", "answers": {'
            + names + b',"k7":1}}')
    assert len(body) <= BODY_LIMIT
    started = time.monotonic()
    r = post_raw(api, slug, body)
    assert time.monotonic() - started < 2.0
    refused(r, 422, "invalid_field", "k7")
    assert_untouched(db, slug)


# --- nesting ------------------------------------------------------------------

def _deep(n, open_=b"[", close=b"]"):
    return open_ * n + close * n


@pytest.mark.parametrize("body", [
    pytest.param(b'{"name": ' + _deep(5000) + b', "email": "ann@example.org"}',
                 id="5000-nested-arrays-as-name"),
    pytest.param(b'{"name": ' + _deep(1500, b'{"a":', b"}")
                 + b', "email": "ann@example.org"}',
                 id="1500-nested-objects-as-name"),
    pytest.param(_deep(8000), id="8000-deep-top-level-array"),
])
def test_deeply_nested_json_within_the_size_limit_is_refused_quickly(
        api, db, slug, body):
    assert len(body) <= BODY_LIMIT
    started = time.monotonic()
    r = post_raw(api, slug, body)
    assert time.monotonic() - started < 2.0
    refused(r, 400, "invalid_json")
    assert_untouched(db, slug)


def test_a_100000_deep_top_level_array_is_refused_as_too_large_quickly(
        api, db, slug):
    body = _deep(100000)
    started = time.monotonic()
    r = post_raw(api, slug, body)
    assert time.monotonic() - started < 2.0
    refused_somehow(r, {413}, {"body_too_large"})
    assert_untouched(db, slug)


# --- bytes that are not UTF-8, and NUL ------------------------------------------

@pytest.mark.parametrize("raw_name", [
    pytest.param(b"Ann \xff\xfe", id="invalid-bytes-ff-fe"),
    pytest.param(b"Ann \x80", id="lone-continuation-byte"),
    pytest.param(b"Ann \xe2\x82", id="truncated-sequence"),
    pytest.param(b"Ann \xc0\xaf", id="overlong-slash"),
    pytest.param(b"Ann \xc1\xbf", id="overlong-two-byte"),
    pytest.param(b"Ann \xe0\x80\xaf", id="overlong-three-byte"),
    pytest.param(b"Ann \xf0\x80\x80\xaf", id="overlong-four-byte"),
    pytest.param(b"Ann \xc0\x80", id="overlong-nul"),
    pytest.param(b"Ann \xed\xa0\x80", id="encoded-surrogate"),
    pytest.param(b"Ann \xf4\x90\x80\x80", id="above-U+10FFFF"),
    pytest.param(b"Ann \xf8\x88\x80\x80\x80", id="five-byte-form"),
])
def test_invalid_or_overlong_utf8_is_refused_as_invalid_utf8(api, db, slug,
                                                             raw_name):
    body = b'{"name": "' + raw_name + b'", "email": "ann@example.org"}'
    refused(post_raw(api, slug, body), 400, "invalid_utf8")
    assert_untouched(db, slug)


def test_invalid_utf8_in_the_email_is_refused_as_invalid_utf8(api, db, slug):
    body = b'{"name": "Ann", "email": "ann\xc0\xae@example.org"}'
    refused(post_raw(api, slug, body), 400, "invalid_utf8")
    assert_untouched(db, slug)


@pytest.mark.parametrize("body", [
    pytest.param(b'{"name": "Ann\\u0000Bcc", "email": "ann@example.org"}',
                 id="escaped-nul-in-name"),
    pytest.param(b'{"name": "Ann", "email": "ann@example.org\\u0000.evil.org"}',
                 id="escaped-nul-in-email"),
    pytest.param(b'{"name": "Ann", "email": "ann@example.org",'
                 b' "organization": "Lib\\u0000"}', id="escaped-nul-in-org"),
    pytest.param(b'{"name": "Ann\x00Bcc", "email": "ann@example.org"}',
                 id="raw-nul-byte-in-name"),
    pytest.param(b'{"name": "Ann"}\x00{"email": "ann@example.org"}',
                 id="raw-nul-between-objects"),
    pytest.param(b'{"name": "Ann\\\\\\u0000", "email": "ann@example.org"}',
                 id="escaped-backslash-then-escaped-nul"),
    pytest.param(b'{"name\\u0000": "Ann", "name": "Bob", "email": "ann@example.org"}',
                 id="escaped-nul-in-a-key"),
])
def test_a_nul_character_is_refused_and_reaches_no_row(api, db, slug, body):
    refused(post_raw(api, slug, body), 400, "invalid_json")
    assert_untouched(db, slug)


@pytest.mark.parametrize("name", ["C:\\u0000dir", "\\u0000", "Ann \\\\u0000 Lee"],
                         ids=["path", "alone", "two-backslashes"])
def test_a_backslash_before_the_letters_u0000_is_text_not_a_nul(api, db, make_event,
                                                                name):
    """The JSON text "C:\\\\u0000dir" is an escaped backslash, then the letters
    u0000: a name, not a NUL (it was refused as one on every JSON endpoint)."""
    slug = make_event()
    addr = email("backslash")
    r = api.register(slug, name, addr)
    assert r.status == 201, r
    assert db.value("SELECT name FROM eventbox.registrations WHERE email = %s", addr) == name


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc00", "\\ud800\\u0041"],
                         ids=["lone-high-surrogate", "lone-low-surrogate",
                              "high-surrogate-then-letter"])
def test_an_escaped_lone_surrogate_is_refused_as_invalid_json(api, db, slug,
                                                              escape):
    body = ('{"name": "Ann ' + escape + '", "email": "ann@example.org"}').encode()
    refused(post_raw(api, slug, body), 400, "invalid_json")
    assert_untouched(db, slug)


# --- header injection and control characters -----------------------------------

@pytest.mark.parametrize("address", [
    "a@b.org\r\nBcc: x@y.org",
    "a@b.org\nBcc: x@y.org",
    "a@b.org\rBcc: x@y.org",
    "a@b.org\r\n",
    "\r\na@b.org",
], ids=["crlf-bcc", "lf-bcc", "cr-bcc", "trailing-crlf", "leading-crlf"])
def test_an_email_with_crlf_is_refused_and_reaches_no_row(api, db, slug,
                                                          address):
    r = post_raw(api, slug, dumps({"name": "Ann", "email": address}))
    refused(r, 422, "invalid_field", "email")
    assert "Bcc" not in r.text
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email LIKE %s",
                    "%x@y.org%") == 0
    assert_untouched(db, slug)


@pytest.mark.parametrize("name", [
    "Ann\r\nBcc: x@y.org",
    "Ann\nLee",
    "Ann\tLee",
    "Ann\x1b[31mLee",
    "Ann\x7fLee",
    "Ann\u0085Lee",
    "Ann\u2028Lee",
    "Ann\u2029Lee",
    "Ann \u202egpj.exe",
    "\u2067Ann\u2069",
    "\u200b",
    " \u00a0\u200c\ufeff\u3000 ",
    "Ann\ufffeLee",
    "Ann\uffff",
    "\ufdd0Ann",
    "Ann\U0010ffff",
], ids=["crlf", "lf", "inner-tab", "escape-sequence", "del", "c1-next-line",
        "line-separator", "paragraph-separator", "right-to-left-override",
        "right-to-left-isolate", "zero-width-space-only", "invisible-only",
        "noncharacter-fffe", "noncharacter-ffff", "noncharacter-fdd0",
        "noncharacter-10ffff"])
def test_a_name_with_crlf_or_control_characters_is_refused(api, db, slug, name):
    r = post_raw(api, slug, dumps({"name": name, "email": email()}))
    refused(r, 422, "invalid_field", "name")
    assert_untouched(db, slug)


@pytest.mark.parametrize("field", ["name", "organization"])
def test_a_noncharacter_sent_as_utf8_is_refused(api, db, slug, field):
    """U+FFFE is valid UTF-8 but no text: a feed or page that carries it
    is no longer well-formed XML (a reader refuses all of it), and HTML
    calls it a parse error.  Sent raw, not as a \\u escape."""
    fields = {"name": "Ann Lee", "email": email(), field: "Ann\ufffeLee"}
    r = post_raw(api, slug, json.dumps(fields, ensure_ascii=False).encode())
    refused(r, 422, "invalid_field", field)
    assert_untouched(db, slug)


@pytest.mark.parametrize("name", [
    "CLAIM YOUR $500 GIFT CARD at https://evil.example/claim",
    "Gift card: WWW.evil.example",
    "Write to claims@evil.example",
    "ftp://evil.example",
], ids=["https-link", "www", "email-address", "other-scheme"])
def test_a_name_that_is_a_message_is_refused(api, db, slug, name):
    """The name is the greeting of the email sent to whatever address was
    typed: a link in it made the service mail anybody's text (a phishing
    lure from the consortium's own domain) to anybody."""
    r = post_raw(api, slug, dumps({"name": name, "email": email()}))
    refused(r, 422, "invalid_field", "name")
    assert "web address" in r.json["error"]["message"]
    assert_untouched(db, slug)


@pytest.mark.parametrize("name", [
    "\u05e9\u05e8\u05d4\u200f (Sara)",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "\u0915\u094d\u200d\u0937",
], ids=["right-to-left-mark", "zero-width-non-joiner", "zero-width-joiner"])
def test_a_name_with_the_marks_and_joiners_its_script_uses_is_registered(
        api, db, make_event, name):
    """What the bidirectional controls' refusal leaves alone: Hebrew with a
    right-to-left mark, Persian and Devanagari with their joiners."""
    slug = make_event()
    addr = email("script")
    r = api.register(slug, name, addr)
    assert r.status == 201, r
    assert db.value("SELECT name FROM eventbox.registrations WHERE email = %s", addr) == name


def test_an_organization_with_crlf_is_refused_with_field_organization(
        api, db, slug):
    r = post_raw(api, slug, dumps({"name": "Ann", "email": email(),
                                   "organization": "Lib\r\nBcc: x@y.org"}))
    refused(r, 422, "invalid_field", "organization")
    assert_untouched(db, slug)


# --- lengths -------------------------------------------------------------------

@pytest.mark.parametrize("length", [201, 10000], ids=["201-chars", "10000-chars"])
def test_a_name_over_200_characters_is_refused_with_field_name(api, db, slug,
                                                              length):
    r = post_raw(api, slug, dumps({"name": "A" * length, "email": email()}))
    refused(r, 422, "invalid_field", "name")
    assert_untouched(db, slug)


def test_a_name_of_201_multibyte_characters_is_refused_with_field_name(
        api, db, slug):
    body = json.dumps({"name": "名" * 201, "email": email()},
                      ensure_ascii=False).encode()
    refused(post_raw(api, slug, body), 422, "invalid_field", "name")
    assert_untouched(db, slug)


def test_an_organization_over_200_characters_is_refused(api, db, slug):
    r = post_raw(api, slug, dumps({"name": "Ann", "email": email(),
                                   "organization": "L" * 201}))
    refused(r, 422, "invalid_field", "organization")
    assert_untouched(db, slug)


# --- email addresses -------------------------------------------------------------

@pytest.mark.parametrize("address", [
    pytest.param("ann.example.org", id="no-at"),
    pytest.param("ann lee@example.org", id="space-in-local-part"),
    pytest.param("ann@exa mple.org", id="space-in-domain"),
    pytest.param("ann@b@example.org", id="two-at-signs"),
    pytest.param("a" * 64 + "@" + ("b" * 60 + ".") * 4 + "org", id="300-chars"),
    pytest.param("a" * 65 + "@example.org", id="65-char-local-part"),
    pytest.param("@example.org", id="empty-local-part"),
    pytest.param("ann@", id="empty-domain"),
    pytest.param("ann@localhost", id="domain-without-dot"),
    pytest.param("ann@192.0.2.1", id="bare-ip-address-domain"),
    pytest.param("ann..lee@example.org", id="double-dot"),
    pytest.param(".ann@example.org", id="leading-dot"),
    pytest.param("ann@example..org", id="empty-label"),
    pytest.param("ann@-example.org", id="label-starting-with-hyphen"),
    pytest.param('"ann lee"@example.org', id="quoted-local-part"),
    # A domain outside ASCII is taken (in its A-labels: test_idn.py), but
    # not one IDNA2008 refuses, nor letters outside ASCII before the @.
    pytest.param("ann@ex\u2603mple.org", id="disallowed-idn-domain"),
    pytest.param("ann@xn--zz.org", id="bad-a-label"),
    pytest.param("änn@example.org", id="non-ascii-local-part"),
    pytest.param("ann@example.org>", id="angle-bracket"),
    pytest.param("Ann <ann@example.org>", id="display-name"),
    pytest.param("ann@example.org,bob@example.org", id="two-addresses"),
    pytest.param("", id="empty"),
])
def test_a_malformed_email_is_refused_with_field_email(api, db, slug, address):
    r = post_raw(api, slug, dumps({"name": "Ann", "email": address}))
    refused(r, 422, "invalid_field", "email")
    assert_untouched(db, slug)


# --- events that do not exist, and odd slugs --------------------------------------

def test_an_unknown_event_slug_is_404_event_not_found(api):
    s = "no-such-event-" + uuid.uuid4().hex[:8]
    refused(api.get(f"{API}/events/{s}"), 404, "event_not_found")
    r = post_raw(api, s, dumps({"name": "Ann", "email": email()}))
    refused(r, 404, "event_not_found")


@pytest.mark.parametrize("ref, statuses", [
    pytest.param("a%2Fb", {404}, id="encoded-slash"),
    pytest.param("..%2F..%2Fadmin", {404}, id="encoded-dot-dot-slash"),
    # nginx decodes and merges "/.." before it picks a location: behind the
    # real configuration this one ends at /api/v1/ (GET) or at the
    # /api/v1/registrations/ prefix, which redirects (POST, 301).
    pytest.param("%2e%2e", {301, 404}, id="encoded-dot-dot"),
    pytest.param("a%20b", {404}, id="encoded-space"),
    pytest.param("t-abc%0d%0aX", {404}, id="encoded-crlf"),
    pytest.param("%FF%FE", {404}, id="encoded-invalid-utf8"),
    pytest.param("%C0%AF", {404}, id="encoded-overlong"),
    pytest.param("%27%3B%20DROP%20TABLE%20eventbox.events", {404},
                 id="sql-injection"),
    pytest.param("UPPER-CASE", {404}, id="upper-case"),
    pytest.param("0", {404}, id="id-zero"),
    pytest.param("-1", {404}, id="negative-id"),
    pytest.param("99999999999999999999", {404}, id="id-too-big"),
    pytest.param("a" * 101, {404}, id="slug-101-chars"),
    pytest.param("a" * 5000, {414}, id="slug-5000-chars"),
    pytest.param("%00", {400, 404}, id="encoded-nul"),
    pytest.param("t%00x", {400, 404}, id="encoded-nul-inside"),
    pytest.param("%ZZ", {400, 404}, id="bad-percent-escape"),
    pytest.param("%", {400, 404}, id="lone-percent"),
])
def test_an_odd_event_reference_is_refused_with_a_4xx_never_5xx(api, db, ref, statuses):
    codes = {"event_not_found", "not_found", "uri_too_long"}
    r = api.get(f"{API}/events/{ref}")
    refused_somehow(r, statuses, codes)
    # Under /api/ every refusal is JSON, nginx's own included, also for a
    # path nginx refuses while decoding it (an encoded NUL, a bad escape).
    # (A "/../" nginx merged away may instead be redirected, 301.)
    assert r.status == 301 or r.header("Content-Type").startswith("application/json"), r
    r = api.post(f"{API}/events/{ref}/registrations",
                 json_body={"name": "Ann", "email": email()})
    refused_somehow(r, statuses, codes)
    assert r.status == 301 or r.header("Content-Type").startswith("application/json"), r
    if statuses == {404}:
        refused(r, 404, r.json["error"]["code"])
        assert r.json["error"]["code"] in codes


# --- tokens ---------------------------------------------------------------------

@pytest.mark.parametrize("token", [
    pytest.param("abc", id="short"),
    pytest.param("ABCDEF01-2345-4789-ABCD-EF0123456789", id="upper-case-uuid"),
    pytest.param("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", id="right-shape-garbage"),
    pytest.param("0123456789abcdef0123456789abcdef", id="uuid-without-dashes"),
    pytest.param("%7B01234567-89ab-4def-8123-456789abcdef%7D", id="braced-uuid"),
    pytest.param("01234567-89ab-4def-8123-456789abcdef0", id="37-chars"),
    pytest.param("01234567-89ab-4def-8123-456789abcde", id="35-chars"),
    pytest.param("01234567_89ab_4def_8123_456789abcdef", id="underscores"),
    pytest.param("%27%20OR%20%271%27%3D%271", id="sql-injection"),
    pytest.param("x" * 1000, id="1000-chars"),
])
def test_a_malformed_token_is_400_invalid_token(api, token):
    refused(api.get(f"{API}/registrations/{token}"), 400, "invalid_token")
    refused(api.delete(f"{API}/registrations/{token}"), 400, "invalid_token")


@pytest.mark.parametrize("path", [
    "../../healthz", "../events", "..%2F..%2F..%2Fetc%2Fpasswd", "%00", "a%2",
    "x" * 5000,
], ids=["dot-dot-healthz", "dot-dot-events", "encoded-dot-dot-slash",
        "encoded-nul", "bad-escape", "5000-chars"])
def test_a_token_path_that_escapes_or_breaks_the_route_is_refused_never_5xx(
        api, path):
    codes = {"invalid_token", "not_found", "registration_not_found", "uri_too_long"}
    # nginx merges a decoded "/../" before choosing a location, so the
    # encoded escape may end outside the API, where nginx answers a DELETE
    # with 405 itself.
    statuses = {400, 404, 414} | ({405} if "%2F" in path else set())
    refused_somehow(api.get(f"{API}/registrations/{path}"), statuses, codes)
    refused_somehow(api.delete(f"{API}/registrations/{path}"), statuses, codes)


# --- methods, content types, sizes, keys ----------------------------------------

_EVENT = {"GET", "HEAD", "OPTIONS"}
_REGISTER = {"POST", "OPTIONS"}
_TOKEN = {"GET", "HEAD", "DELETE", "OPTIONS"}


@pytest.mark.parametrize("method, path, allowed", [
    pytest.param(m, p, a, id=f"{m} {p.replace('{', '').replace('}', '')}")
    for m, p, a in [
        ("PUT", "/events/{slug}", _EVENT),
        ("PATCH", "/events/{slug}", _EVENT),
        ("DELETE", "/events/{slug}", _EVENT),
        ("POST", "/events/{slug}", _EVENT),
        ("PUT", "/events", _EVENT),
        ("POST", "/events", _EVENT),
        ("GET", "/events/{slug}/registrations", _REGISTER),
        ("PUT", "/events/{slug}/registrations", _REGISTER),
        ("PATCH", "/registrations/{token}", _TOKEN),
        ("POST", "/registrations/{token}", _TOKEN),
    ]
])
def test_a_wrong_method_is_405_with_an_allow_header(api, db, slug, method, path,
                                                    allowed):
    url = API + path.format(slug=slug, token=uuid.uuid4())
    r = api.request(method, url, json_body={"name": "Ann", "email": email()})
    refused(r, 405, "method_not_allowed")
    assert set((r.header("Allow") or "").replace(" ", "").split(",")) == allowed
    assert_untouched(db, slug)


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECTX"])
@pytest.mark.parametrize("path", ["/healthz", "/api/v1/events", "/1.1/events",
                                  "/api/1.1/events"])
def test_an_unknown_method_on_an_api_route_is_a_json_405(api, method, path):
    """JSON on the API's routes, /healthz among them (its TRACE was an HTML
    page), with Allow (RFC 9110 15.5.6): nginx refuses TRACE itself and
    answered it without one."""
    r = api.request(method, path)
    refused(r, 405, "method_not_allowed")
    assert r.header("Allow") == "GET, HEAD, OPTIONS", r


def test_an_unknown_method_on_a_page_stays_an_html_405(api):
    for method in ("TRACE", "PROPFIND"):
        r = api.request(method, "/events")
        assert r.status == 405, r
        assert r.header("Content-Type").startswith("text/html"), r
        assert r.header("Allow") == "GET, HEAD, OPTIONS", r


@pytest.mark.parametrize("path", ["/api/v1/events", "/1.1/events"])
def test_an_empty_origin_is_no_origin(api, path):
    """A preflight with "Origin:" and nothing after it is answered as one
    without the header (it was 403 origin_not_allowed): no CORS headers."""
    r = api.request("OPTIONS", path, headers={
        "Origin": "", "Access-Control-Request-Method": "GET"})
    assert r.status == 204, r
    assert r.header("Allow") == "GET, HEAD, OPTIONS", r
    assert r.header("Access-Control-Allow-Origin") is None, r
    r = api.get(path, headers={"Origin": ""})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") is None, r


@pytest.mark.parametrize("content_type", [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/jsonp",
    "text/json",
    "application/json-patch+json",
    "application/json charset=utf-8",
    None,
], ids=["text-plain", "form-urlencoded", "multipart", "jsonp", "text-json",
        "json-patch", "no-semicolon", "no-content-type"])
def test_a_wrong_content_type_is_415(api, db, slug, content_type):
    body = dumps({"name": "Ann", "email": email()})
    if content_type == "application/x-www-form-urlencoded":
        body = b"name=Ann&email=ann%40example.org"
    refused(post_raw(api, slug, body, content_type=content_type), 415,
            "unsupported_media_type")
    assert_untouched(db, slug)


def test_a_tab_before_a_media_types_parameters_is_white_space(api, db, make_event):
    """RFC 9110 8.3.1: OWS, a space or a tab, may come before the ';' of a
    media type's parameters; a tab got 415 "send the body as
    application/json" for application/json, on every route."""
    from test_pages import attempt_of, cookie_of, csrf_of
    slug = make_event()
    r = send_lines(api, "POST", f"{API}/events/{slug}/registrations",
                   [("Content-Type", "application/json\t; charset=utf-8")],
                   dumps({"name": "Ann Tab", "email": email()}))
    assert r.status == 201, r
    page = api.get(f"/events/{slug}")
    form = ("csrf=" + csrf_of(page) + "&attempt=" + attempt_of(page) +
            "&name=Bo+Tab&email=" + email().replace("@", "%40") +
            "&organization=&website=").encode()
    r = send_lines(api, "POST", f"/events/{slug}/register",
                   [("Content-Type", "application/x-www-form-urlencoded\t;charset=UTF-8"),
                    ("Cookie", cookie_of(page))], form)
    assert r.status == 200 and "<h1>You are registered</h1>" in r.text, r
    assert db.value("SELECT count(*) FROM eventbox.roster WHERE slug = %s", slug) == 2


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "GZIP", "identity, gzip"])
def test_a_compressed_body_is_415_naming_uncompressed_bodies(api, db, slug, coding):
    """RFC 7694: a coding the service does not decode is a 415 that says
    which it takes, not a body read as garbage (it was 400 invalid_utf8)."""
    raw = dumps({"name": "Ann", "email": email()})
    body = gzip.compress(raw) if "gzip" in coding.lower() else raw
    r = post_raw(api, slug, body, headers={"Content-Encoding": coding})
    refused(r, 415, "unsupported_content_encoding")
    assert "uncompressed" in r.json["error"]["message"], r
    assert r.header("Accept-Encoding") == "identity", r
    assert_untouched(db, slug)


def test_a_compressed_token_request_is_415_too(api):
    for ctype in ("application/json", "application/x-www-form-urlencoded"):
        r = api.post("/1.1/oauth/token", body=gzip.compress(b"{}"), headers={
            "Content-Type": ctype, "Content-Encoding": "gzip"})
        refused(r, 415, "unsupported_content_encoding")


def test_the_identity_coding_is_no_coding(api, make_event):
    slug = make_event()
    for coding in ("identity", "Identity", ""):
        r = api.register(slug, "Ann", email("identity"),
                         headers={"Content-Encoding": coding})
        assert r.status == 201, (coding, r)


@pytest.mark.parametrize("size", [BODY_LIMIT + 1, 100 * 1024],
                         ids=["16385-bytes", "100-kilobytes"])
def test_a_body_over_the_16_kilobyte_limit_is_413(api, db, slug, size):
    prefix = b'{"name": "Ann", "email": "ann@example.org", "pad": "'
    body = prefix + b"x" * (size - len(prefix) - 2) + b'"}'
    assert len(body) == size
    r = post_raw(api, slug, body)
    assert r.status == 413, r
    # One code whichever of nginx and the service refused it (nginx said
    # payload_too_large, the service body_too_large).
    assert r.json["error"]["code"] == "body_too_large", r
    assert_untouched(db, slug)


def test_a_body_just_under_the_limit_is_still_read(api, db, make_event):
    s = make_event()
    prefix = b'{"name": "Ann", "email": "ann@example.org", "pad": "'
    body = prefix + b"x" * (BODY_LIMIT - len(prefix) - 2) + b'"}'
    assert len(body) == BODY_LIMIT
    r = post_raw(api, s, body)
    assert r.status == 201, r
    assert r.json["status"] == "confirmed"


@pytest.mark.parametrize("key", [
    pytest.param("", id="empty"),
    pytest.param("k" * 201, id="201-chars"),
    pytest.param("two words", id="inner-space"),
    pytest.param("a\x7fb", id="del"),
    pytest.param("a\x01b", id="control-char"),
    pytest.param("\xe9t\xe9".encode("utf-8"), id="non-ascii"),
])
def test_a_malformed_idempotency_key_is_400(api, db, slug, key):
    r = post_raw(api, slug, dumps({"name": "Ann", "email": email()}),
                 headers={"Idempotency-Key": key})
    refused(r, 400, "invalid_idempotency_key")
    assert_untouched(db, slug)


def test_a_key_with_a_space_is_refused_with_a_message_that_says_so(api, db, slug):
    # A space is printable ASCII: "printable ASCII characters" alone left
    # the client guessing what was wrong with "order 1234".
    r = post_raw(api, slug, dumps({"name": "Ann", "email": email()}),
                 headers={"Idempotency-Key": "order 1234"})
    refused(r, 400, "invalid_idempotency_key")
    assert "without spaces" in r.json["error"]["message"], r
    assert_untouched(db, slug)


# --- query parameter names, percent-encoded -----------------------------------

def html_400(r):
    assert r.status == 400, r
    assert (r.header("Content-Type") or "").startswith("text/html"), r
    return r.text


def test_an_encoded_parameter_name_is_read_as_the_name(api, make_event):
    """?per%5Fpage=1 was not per_page (its value alone was decoded): the list
    came with 20 events, and ?%6Cimit=1 with LibCal's 20."""
    cat = "names-" + uuid.uuid4().hex[:8]
    slugs = [make_event(starts_in=f"{400 + i} days", categories=[cat])
             for i in range(2)]
    r = api.get(f"{API}/events?per%5Fpage=1&%63ategory={cat}")
    assert r.status == 200 and r.json["per_page"] == 1, r
    assert [e["slug"] for e in r.json["events"]] == slugs[:1], r
    r = api.get(f"{API}/events?per_page=1&p%61ge=2&category={cat}")
    assert r.status == 200 and r.json["page"] == 2, r
    assert [e["slug"] for e in r.json["events"]] == slugs[1:], r
    r = api.get("/1.1/events?%6Cimit=1&days=500")
    assert r.status == 200 and len(r.json["events"]) == 1, r
    # A value refused under its encoded name is refused as under its own.
    r = api.get("/1.1/events?%64ays=-1")
    refused(r, 400, "invalid_query")
    r = api.get("/1.1/events/1/registrations?w%61itlist=x")
    refused(r, 400, "invalid_query")
    assert "waitlist" in r.json["error"]["message"], r
    # Pages, feeds and the embed read encoded names too.
    assert "page" in html_400(api.get("/events?%70age=abc"))
    r = api.get(f"/events/{slugs[0]}?%74z=Asia%2FTokyo")
    assert r.status == 200 and "Tokyo" in r.text, r
    html_400(api.get("/events.atom?c%61tegory=%0a"))
    html_400(api.get("/embed/events?%6Cimit=0"))


@pytest.mark.parametrize("path, key", [
    (f"{API}/events?per_page=5&per%5Fpage=500", "per_page"),
    (f"{API}/events?%70er_page=5&per_page=500", "per_page"),
    (f"{API}/events?%66rom=&from=2026-01-01", "from"),
    ("/1.1/events?limit=1&%6C%69%6D%69%74=500", "limit"),
    ("/1.1/events/1/registrations?waitlist=1&w%61itlist=0", "waitlist"),
], ids=lambda p: p)
def test_a_name_given_encoded_and_plain_is_given_twice(api, path, key):
    r = api.get(path)
    refused(r, 400, "invalid_query")
    assert r.json["error"]["message"] == f"{key}: given more than once", r


def test_a_page_name_given_encoded_and_plain_is_given_twice(api, make_event):
    slug = make_event()
    for path, key in ((f"/events/{slug}?tz=UTC&%74z=Asia/Tokyo", "tz"),
                      ("/events?category=A&c%61tegory=B", "category"),
                      ("/events.atom?%63ategory=A&category=A", "category"),
                      ("/embed/events?limit=2&%6Cimit=", "limit")):
        assert (f"The address gives {key} more than once."
                in html_400(api.get(path))), path


NOT_UTF8 = "a parameter name in the query is not UTF-8 text"
CONTROL = "a parameter name in the query holds a control character"
ESCAPE = "a parameter name in the query has a % without two hex digits after it"


@pytest.mark.parametrize("name, message", [
    ("%ff", NOT_UTF8), ("caf%C3", NOT_UTF8), ("%C0%AF", NOT_UTF8),
    ("%ED%A0%80", NOT_UTF8), ("a%0Ab", CONTROL), ("%00", CONTROL),
    ("%7F", CONTROL), ("%C2%85", CONTROL), ("%E2%80%AE", CONTROL),
    ("100%", ESCAPE), ("a%2", ESCAPE), ("a%zz", ESCAPE),
], ids=lambda p: p)
def test_a_name_that_is_not_text_is_a_400_that_says_why(api, make_event,
                                                          name, message):
    """No key can be told apart from such a name: it might have been limit."""
    slug = make_event()
    for path in (f"{API}/events?per_page=1&{name}=1", f"/1.1/events?{name}=1",
                 f"/1.1/events/1/registrations?{name}"):
        r = api.get(path)
        refused(r, 400, "invalid_query")
        assert r.json["error"]["message"] == message, (path, r)
    for path in (f"/events?{name}=1", f"/events/{slug}?{name}=x&tz=UTC",
                 f"/events.atom?{name}=1", f"/embed/events?{name}="):
        assert (f"The address is not valid: {message}. Check it and try "
                f"again." in html_400(api.get(path))), path


def test_a_bad_name_is_told_in_the_requests_language(api):
    es = {"Accept-Language": "es"}
    r = api.get(f"{API}/events?%ff=1", headers=es)
    refused(r, 400, "invalid_query")
    assert r.json["error"]["message"] == ("el nombre de un parámetro de la "
                                          "consulta no es texto UTF-8"), r
    assert ("La dirección no es válida: el nombre de un parámetro de la "
            "consulta contiene un carácter de control."
            in html_400(api.get("/events?a%09=1", headers=es)))


# --- a header read as one value, given twice --------------------------------

def send_lines(api, method, path, header_lines, body=b""):
    """A request with these header lines as they are, repeated names too
    (http.client's request() takes a dict: one value per name)."""
    conn = http.client.HTTPConnection(api.host, api.port, timeout=30)
    try:
        conn.putrequest(method, path)
        for name, value in header_lines:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


@pytest.mark.parametrize("lines", [
    pytest.param([("Content-Type", "application/json"),
                  ("Content-Type", "text/plain")], id="content-type-json-first"),
    pytest.param([("Content-Type", "text/plain"),
                  ("Content-Type", "application/json")], id="content-type-json-last"),
    pytest.param([("Content-Type", "application/json"),
                  ("Content-Encoding", "identity"), ("Content-Encoding", "gzip")],
                 id="content-encoding"),
    pytest.param([("Content-Type", "application/json"),
                  ("Idempotency-Key", "k-" + uuid.uuid4().hex),
                  ("Idempotency-Key", "k-" + uuid.uuid4().hex)], id="idempotency-key"),
    pytest.param([("Content-Type", "application/json"),
                  ("Idempotency-Key", "same"), ("Idempotency-Key", "same")],
                 id="idempotency-key-same-twice"),
])
def test_a_header_read_as_one_value_given_twice_is_400_and_reaches_no_row(
        api, db, slug, lines):
    """nginx passes both lines on and the service read the first: the
    registration was made with one of two media types, codings or keys,
    where a proxy in front reading the last would have seen another
    request (the body called gzip, a key never stored)."""
    body = dumps({"name": "Ann", "email": email()})
    r = send_lines(api, "POST", f"{API}/events/{slug}/registrations", lines, body)
    refused(r, 400, "duplicate_header")
    name = lines[-1][0]
    assert r.json["error"]["message"].startswith(f"the {name} header is given"
                                                 " more than once"), r
    assert_untouched(db, slug)


LISTED = "https://library.example.org"     # EVENTBOX_CORS_ORIGINS (tests/run.sh)


@pytest.mark.parametrize("origins", [
    pytest.param([LISTED, "https://elsewhere.example.net"], id="listed-first"),
    pytest.param(["https://elsewhere.example.net", LISTED], id="listed-last"),
    pytest.param([LISTED, LISTED], id="same-twice"),
    pytest.param([LISTED, ""], id="one-empty"),
])
def test_two_origins_on_a_request_that_changes_something_are_400(api, db, slug, origins):
    """nginx passes both lines; the service read the first: the
    registration was made and answered with CORS headers for one origin
    of two (a proxy reading the last saw another), or without them."""
    lines = [("Content-Type", "application/json")] + [("Origin", o) for o in origins]
    body = dumps({"name": "Ann", "email": email()})
    r = send_lines(api, "POST", f"{API}/events/{slug}/registrations", lines, body)
    refused(r, 400, "duplicate_header")
    assert r.json["error"]["message"] == \
        "the Origin header is given more than once; send it once", r
    assert r.header("Access-Control-Allow-Origin") is None, r
    assert_untouched(db, slug)
    r = send_lines(api, "DELETE", f"{API}/admin/webhooks/1",
                   [("Authorization", "Bearer ebk_nothing")] + lines[1:])
    refused(r, 401, "unauthorized")     # the key is checked first, as ever
    # A read changes nothing: answered, as to an origin not on the list
    r = send_lines(api, "GET", f"{API}/events/{slug}", lines[1:])
    assert r.status == 200 and r.json["slug"] == slug, r
    assert r.header("Access-Control-Allow-Origin") is None, r
    r = send_lines(api, "GET", f"{API}/events/{slug}", [("Origin", LISTED)])
    assert r.header("Access-Control-Allow-Origin") == LISTED, r


def test_a_form_or_staff_body_with_two_media_types_is_400_too(api, db, slug):
    lines = [("Content-Type", "application/x-www-form-urlencoded"),
             ("Content-Type", "text/plain")]
    r = send_lines(api, "POST", f"/events/{slug}/register", lines, b"name=Ann")
    assert r.status == 400, r
    assert r.header("Content-Type").startswith("text/html"), r
    r = send_lines(api, "PATCH", f"{API}/admin/events/{slug}", lines, b"{}")
    refused(r, 401, "unauthorized")     # the key is checked first, as ever
    assert_untouched(db, slug)


def test_a_repeated_header_a_route_does_not_read_is_ignored(api, db, slug):
    """As a query parameter the route does not read: the event's read and
    a staff route take no Idempotency-Key, a GET no Content-Type."""
    lines = [("Idempotency-Key", "a"), ("Idempotency-Key", "b"),
             ("Content-Type", "application/json"), ("Content-Type", "text/plain")]
    r = send_lines(api, "GET", f"{API}/events/{slug}", lines)
    assert r.status == 200 and r.json["slug"] == slug, r
    assert_untouched(db, slug)


# --- what cJSON reads and JSON is not ----------------------------------------

@pytest.mark.parametrize("body", [
    pytest.param(b'{"name": "Ann", "email": "%s", "organization": "\t"}',
                 id="raw-tab-in-a-string"),
    pytest.param(b'{"name": "Ann", "email": "%s", "organization": "North\nBranch"}',
                 id="raw-line-break-in-a-string"),
    pytest.param(b'{"name": "Ann", "email": "%s", "x": 05}', id="leading-zero"),
    pytest.param(b'{"name": "Ann", "email": "%s", "x": 5.}', id="point-at-the-end"),
    pytest.param(b'{"name": "Ann", "email": "%s", "x": [1.e1]}', id="point-before-e"),
    pytest.param(b'{"name": "Ann",\x0b"email": "%s"}', id="vertical-tab-between"),
    pytest.param(b'{"name": "Ann",\x1f"email": "%s"}', id="unit-separator-between"),
])
def test_what_cjson_reads_but_json_is_not_is_invalid_json(api, db, slug, body):
    """cJSON takes a raw control character in a string, any byte below
    0x21 as white space and numbers such as 05 or 5. (strtod reads them):
    such a body was registered (or, on the staff routes that hand the body
    to PostgreSQL, refused as a value out of range), where RFC 8259 says it
    is no JSON text."""
    refused(post_raw(api, slug, body % email().encode()), 400, "invalid_json")
    assert_untouched(db, slug)
