"""The public JSON API, its positive paths and its seat rules.

Every test makes its own events with make_event (unique slugs, unique
categories, unique email addresses) so the tests are independent of each
other, of their order and of whatever else is in the database.
"""
import datetime
import json
import os
import re
import subprocess
import urllib.parse
import uuid

import pytest

from conftest import ROOT, env
from staffkit import admin, staff_key  # noqa: F401

API = "/api/v1"
REGISTRATION_KEYS = {"status", "position", "event", "message"}


# --- helpers ----------------------------------------------------------------

def email(tag="p"):
    """A fresh address nobody else uses."""
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.org"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def assert_error(r, status, code, field=None):
    assert r.status == status, r
    assert r.header("Content-Type").startswith("application/json"), r
    err = r.json["error"]
    assert err["code"] == code, r
    assert isinstance(err["message"], str) and err["message"], r
    if field is not None:
        assert err["field"] == field, r


def assert_registered(r, slug, status, position=None):
    assert r.status == 201, r
    body = r.json
    assert set(body) == REGISTRATION_KEYS, body
    assert body["status"] == status, body
    assert body["position"] == position, body
    assert body["event"] == slug, body
    assert isinstance(body["message"], str) and body["message"], body
    return body


def assert_no_token(db, r, *emails):
    """No token ever queued for these addresses is in the answer."""
    tokens = [t for e in emails for t in db.tokens(e)]
    assert tokens, f"no tokens queued for {emails}: nothing to check"
    text = r.body.decode("utf-8", "replace").lower()
    heads = " ".join(f"{k}: {v}" for k, v in r.headers).lower()
    for t in tokens:
        assert t.lower() not in text, r
        assert t.lower() not in heads, r.headers
        assert t.replace("-", "").lower() not in text.replace("-", ""), r


def roster(db, slug):
    return db.all("SELECT name, status, position FROM eventbox.roster"
                  " WHERE slug = %s ORDER BY registration_id", slug)


def event_id(db, slug):
    return db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)


def outbox_kinds(db, slug, addr):
    return [r[0] for r in db.all(
        "SELECT o.kind FROM eventbox.outbox o JOIN eventbox.events e"
        " ON e.id = o.event_id WHERE e.slug = %s AND lower(o.email) = lower(%s)"
        " ORDER BY o.id", slug, addr)]


def live_rows(db, slug, addr):
    return db.value(
        "SELECT count(*) FROM eventbox.registrations r JOIN eventbox.events e"
        " ON e.id = r.event_id WHERE e.slug = %s AND lower(r.email) = lower(%s)"
        " AND r.status <> 'cancelled'", slug, addr)


def secret_url(slug):
    return "https://meet.example.org/secret-" + slug


def token_of(db, addr, kind=None):
    tokens = db.tokens(addr, kind)
    assert tokens, f"no {kind or 'any'} token queued for {addr}"
    return tokens[-1]


# --- health -------------------------------------------------------------------

def test_healthz_answers_ok(api):
    r = api.get("/healthz")
    assert r.status == 200, r
    assert r.json["status"] == "ok"
    assert r.header("Content-Type").startswith("application/json")


# --- listing events -----------------------------------------------------------

def test_the_list_filters_by_category_and_pages_soonest_first(api, make_event):
    cat = "cat-" + uuid.uuid4().hex[:10]
    slugs = [make_event(categories=[cat, "general"], starts_in=f"{d} days")
             for d in (9, 7, 8)]
    soonest_first = [slugs[1], slugs[2], slugs[0]]

    r = api.get(f"{API}/events?category={cat}&per_page=2")
    assert r.status == 200, r
    body = r.json
    assert (body["page"], body["per_page"], body["total"]) == (1, 2, 3)
    assert [e["slug"] for e in body["events"]] == soonest_first[:2]
    assert all(cat in e["categories"] for e in body["events"])

    r = api.get(f"{API}/events?category={cat}&per_page=2&page=2")
    assert r.status == 200, r
    body = r.json
    assert (body["page"], body["per_page"], body["total"]) == (2, 2, 3)
    assert [e["slug"] for e in body["events"]] == soonest_first[2:]

    r = api.get(f"{API}/events?category={cat}&per_page=2&page=3")
    assert r.status == 200, r
    assert r.json["events"] == []


def test_the_times_are_what_iso_utc_and_iso_local_write_in_every_zone(api, db):
    """The worker writes an event's times from seconds the database hands it
    (json_iso_time()); they must be the very texts the SQL functions staff
    and the pages use would write: every zone an event may have, next year's
    instants around changes of clocks, fractions of a second, no opening time."""
    cat = "tz-" + uuid.uuid4().hex[:10]
    db.all(
        "INSERT INTO eventbox.events (slug, title, capacity, waitlist_enabled, status,"
        " timezone, categories, starts_at, ends_at, registration_opens_at,"
        " registration_closes_at)"
        " SELECT %s || '-' || row_number() OVER (), 'Zone ' || z.name, 10, false,"
        " 'published', z.name, ARRAY[%s], t.s, t.s + interval '90 minutes 0.5 seconds',"
        " CASE WHEN t.n = 1 THEN NULL ELSE timestamptz '2026-01-01 00:00:00.25Z' END,"
        " CASE WHEN t.n = 2 THEN t.s - interval '1 day' END"
        " FROM (SELECT DISTINCT name FROM pg_timezone_names"
        "       WHERE eventbox.is_valid_timezone(name)) z,"
        " (SELECT n, make_timestamptz(extract(year FROM now())::integer + 1, m, d, h, mi,"
        "   sec, 'UTC') FROM (VALUES (1, 3, 14, 6, 30, 0), (2, 10, 31, 0, 30, 0.999999),"
        "   (3, 6, 1, 12, 34, 56.789)) v(n, m, d, h, mi, sec)) t(n, s)", cat, cat)
    try:
        want = {row[0]: row[1:] for row in db.all(
            "SELECT slug, eventbox.iso_utc(starts_at), eventbox.iso_utc(ends_at),"
            " eventbox.iso_local(starts_at, timezone), eventbox.iso_local(ends_at, timezone),"
            " eventbox.iso_utc(registration_opens_at), eventbox.iso_utc(registration_closes_at)"
            " FROM eventbox.public_events WHERE %s = ANY (categories)", cat)}
        assert len(want) > 3 * 500, len(want)
        got, page = {}, 1
        while True:
            r = api.get(f"{API}/events?category={cat}&per_page=100&page={page}")
            assert r.status == 200, r
            for e in r.json["events"]:
                got[e["slug"]] = (e["starts_at"], e["ends_at"], e["starts_local"],
                                  e["ends_local"], e["registration_opens_at"],
                                  e["registration_closes_at"])
            if not r.json["events"]:
                break
            page += 1
        differ = [(slug, want[slug], got.get(slug)) for slug in want
                  if got.get(slug) != want[slug]]
        assert differ == [], differ[:5]
        one = next(iter(want))
        r = api.get(f"{API}/events/{one}")
        assert r.status == 200, r
        assert (r.json["starts_at"], r.json["starts_local"]) == (want[one][0], want[one][2])
    finally:
        db.all("DELETE FROM eventbox.events WHERE %s = ANY (categories)", cat)


def test_the_total_stays_the_same_on_a_page_past_the_end(api, make_event):
    cat = "cat-" + uuid.uuid4().hex[:10]
    for d in (7, 8, 9):
        make_event(categories=[cat], starts_in=f"{d} days")
    r = api.get(f"{API}/events?category={cat}&per_page=2&page=3")
    assert r.status == 200, r
    assert r.json["events"] == []
    assert (r.json["page"], r.json["per_page"], r.json["total"]) == (3, 2, 3)


def test_the_list_filters_by_date_range_inclusive(api, make_event, db):
    cat = "cat-" + uuid.uuid4().hex[:10]
    early = make_event(categories=[cat], starts_in="10 days")
    middle = make_event(categories=[cat], starts_in="20 days")
    late = make_event(categories=[cat], starts_in="30 days")
    day_of_middle = db.value(
        "SELECT (starts_at AT TIME ZONE 'UTC')::date::text FROM eventbox.events"
        " WHERE slug = %s", middle)
    frm = db.value("SELECT ((now() AT TIME ZONE 'UTC') + interval '15 days')::date::text")

    r = api.get(f"{API}/events?category={cat}&from={frm}&to={day_of_middle}")
    assert r.status == 200, r
    assert [e["slug"] for e in r.json["events"]] == [middle]
    assert r.json["total"] == 1

    r = api.get(f"{API}/events?category={cat}&from={frm}")
    assert [e["slug"] for e in r.json["events"]] == [middle, late]

    r = api.get(f"{API}/events?category={cat}&to={day_of_middle}")
    assert [e["slug"] for e in r.json["events"]] == [early, middle]

    r = api.get(f"{API}/events?category={cat}&from={day_of_middle}&to={day_of_middle}")
    assert [e["slug"] for e in r.json["events"]] == [middle]


def test_a_range_that_ends_before_it_starts_is_a_400_not_an_empty_list(api):
    r = api.get(f"{API}/events?from=2027-03-02&to=2027-03-01")
    assert_error(r, 400, "invalid_query")
    assert "from is after to" in r.json["error"]["message"]
    r = api.get(f"{API}/events?from=2027-03-02&to=2027-03-01",
                headers={"Accept-Language": "es"})
    assert_error(r, 400, "invalid_query")
    assert r.json["error"]["message"].startswith("from es posterior a to")
    r = api.get(f"{API}/events?to=2026-1-1", headers={"Accept-Language": "es"})
    assert r.json["error"]["message"] == "from y to son fechas: YYYY-MM-DD"


def test_the_list_searches_text_case_insensitively(api, make_event):
    word = "zebra" + uuid.uuid4().hex[:8]
    hit = make_event(description=f"All about {word} husbandry")
    make_event(description="Nothing to see")
    r = api.get(f"{API}/events?q={word.upper()}")
    assert r.status == 200, r
    assert [e["slug"] for e in r.json["events"]] == [hit]
    assert r.json["total"] == 1
    # As a search box sends it: the spaces around a word are no part of
    # it, and spaces alone are no search.
    r = api.get(f"{API}/events?q=+{word}++")
    assert r.status == 200 and [e["slug"] for e in r.json["events"]] == [hit], r
    r = api.get(f"{API}/events?q=%20%20")
    assert r.status == 200 and r.json["total"] == api.get(f"{API}/events").json["total"], r


def test_the_list_shows_only_upcoming_published_events(api, make_event, db):
    cat = "cat-" + uuid.uuid4().hex[:10]
    published = make_event(categories=[cat])
    make_event(categories=[cat], status="draft")
    make_event(categories=[cat], status="cancelled")
    make_event(categories=[cat], starts_in="-3 hours")   # ended 2 hours ago
    r = api.get(f"{API}/events?category={cat}")
    assert r.status == 200, r
    assert [e["slug"] for e in r.json["events"]] == [published]
    assert r.json["total"] == 1


def test_the_list_defaults_to_twenty_per_page(api):
    r = api.get(f"{API}/events")
    assert r.status == 200, r
    assert r.json["page"] == 1 and r.json["per_page"] == 20
    assert len(r.json["events"]) <= 20
    assert r.json["total"] >= len(r.json["events"])


@pytest.mark.parametrize("query", [
    "from=2026-02-30", "from=2026-13-01", "to=26-01-01", "from=tomorrow",
    "to=2026-1-1", "page=0", "page=-1", "page=abc", "page=1.5",
    "per_page=0", "per_page=101", "per_page=ten",
], ids=lambda q: q)
def test_a_malformed_list_filter_is_a_400_invalid_query(api, query):
    r = api.get(f"{API}/events?{query}")
    assert_error(r, 400, "invalid_query")


@pytest.mark.parametrize("query, key", [
    ("per_page=5&per_page=500", "per_page"),
    ("category=Privacy&q=a&category=Privacy", "category"),
    ("from=&from=2026-01-01", "from"),
], ids=lambda q: q)
def test_a_filter_given_twice_is_a_400_that_names_it(api, query, key):
    """?per_page=5&per_page=500 answered five events: the first value won,
    silently, where PHP's parser (LibCal's clients were written against it)
    takes the last."""
    r = api.get(f"{API}/events?{query}")
    assert_error(r, 400, "invalid_query")
    assert r.json["error"]["message"] == f"{key}: given more than once", r
    r = api.get(f"{API}/events?{query}", headers={"Accept-Language": "es"})
    assert r.json["error"]["message"] == f"{key}: indicado más de una vez", r
    # A parameter nobody reads may come as often as it likes.
    assert api.get(f"{API}/events?utm=a&utm=b&per_page=1").status == 200


# --- one event ------------------------------------------------------------------

def test_an_event_is_found_by_slug_and_by_id_with_the_same_public_fields(
        api, make_event, db):
    slug = make_event(capacity=7, presenter="Dr. Who", location="Room 1",
                      categories=["data"], format="hybrid")
    by_slug = api.get(f"{API}/events/{slug}")
    assert by_slug.status == 200, by_slug
    ev = by_slug.json
    assert ev["id"] == event_id(db, slug)
    by_id = api.get(f"{API}/events/{ev['id']}")
    assert by_id.status == 200, by_id
    assert by_id.json == ev
    assert ev["slug"] == slug
    assert ev["title"] == f"Test event {slug}"
    assert ev["presenter"] == "Dr. Who"
    assert ev["location"] == "Room 1"
    assert ev["format"] == "hybrid"
    assert ev["categories"] == ["data"]
    assert ev["capacity"] == 7
    assert ev["seats_available"] == 7
    assert ev["waitlist_available"] is True
    assert ev["registration_state"] == "open"
    assert ev["registration_open"] is True
    assert ev["timezone"] == "America/New_York"
    assert ev["url"].endswith(f"/events/{slug}")
    assert ev["starts_at"].endswith("Z")
    assert ev["starts_local"][-6:] in ("-05:00", "-04:00")
    assert "online_url" not in ev


def test_a_draft_event_is_invisible_by_slug_and_by_id(api, make_event, db):
    slug = make_event(status="draft")
    r = api.get(f"{API}/events/{slug}")
    assert_error(r, 404, "event_not_found")
    r = api.get(f"{API}/events/{event_id(db, slug)}")
    assert_error(r, 404, "event_not_found")
    assert slug not in r.text


# Another spelling of an id than the service's own: a leading zero, a sign
# or a space, percent-encoded as a client would send it.
OTHER_SPELLINGS = ["0{}", "000{}", "%2B{}", "%20{}", "{}%20"]


@pytest.mark.parametrize("spelling", OTHER_SPELLINGS)
def test_an_id_has_one_spelling_and_any_other_names_nothing(api, admin, db,
                                                            make_event, spelling):
    """GET /api/v1/events/00001 answered event 1 (so did every admin and
    LibCal route, and publish, cancel or a registration went to it): an id
    is written one way, and any other is the 404 of an unknown id, on every
    route that takes one.  The pages take slugs only."""
    slug = make_event(capacity=5)
    ident = event_id(db, slug)
    reg = db.value("SELECT registration_id FROM eventbox.staff_register(%s, %s, %s, NULL)",
                   slug, "Ann Lee", f"ann-{uuid.uuid4().hex[:8]}@example.org")
    other = spelling.format(ident)
    assert api.get(f"{API}/events/{ident}").status == 200
    assert_error(api.get(f"{API}/events/{other}"), 404, "event_not_found")
    assert_error(api.register(other, "Bo Park", f"bo-{uuid.uuid4().hex[:8]}@example.org"),
                 404, "event_not_found")
    assert admin.get(f"/events/{ident}").status == 200
    for method, path, body in [
            ("GET", "", None), ("PATCH", "", {"title": "Renamed"}),
            ("GET", "/waitlist", None), ("GET", "/questions", None),
            ("PUT", "/questions", {"questions": []}),
            ("GET", "/registrations", None), ("GET", "/registrations.csv", None),
            ("POST", "/registrations", {"name": "Cy", "email": "cy@example.org"}),
            ("PUT", "/capacity", {"capacity": 9}), ("POST", "/unpublish", None),
            ("POST", "/cancel", None)]:
        r = admin.request(method, f"/events/{other}{path}", json_body=body)
        assert_error(r, 404, "event_not_found")
    # The query's ?event= too (where blanks around a value are trimmed).
    assert_error(admin.get(f"/audit?event=0{ident}"), 404, "event_not_found")
    other_reg = spelling.format(reg)
    for method, path in [("DELETE", ""), ("POST", "/promote"), ("POST", "/check-in"),
                         ("DELETE", "/check-in")]:
        assert_error(admin.request(method, f"/registrations/{other_reg}{path}"),
                     404, "registration_not_found")
    auth = {"Authorization": f"Bearer {admin.key}"}
    for prefix in ("/1.1", "/api/1.1"):
        assert api.get(f"{prefix}/events/{ident}").status == 200
        for path in (f"/events/{other}", f"/event/{other}", f"/events/{ident},{other}"):
            assert_error(api.get(prefix + path), 404, "event_not_found")
        assert_error(api.get(f"{prefix}/events/{other}/registrations", headers=auth),
                     404, "event_not_found")
        assert api.get(f"{prefix}/categories/1").status == 200
        assert_error(api.get(f"{prefix}/categories/{spelling.format(1)}"), 404, "not_found")
    for path in (f"/events/{other}", f"/events/{other}.ics", f"/events/{ident}"):
        r = api.get(path)
        assert r.status == 404 and r.header("Content-Type").startswith("text/html"), r
    # Nothing happened to the event or its registration.
    assert db.one("SELECT title, status, capacity FROM eventbox.events WHERE id = %s",
                  ident) == (f"Test event {slug}", "published", 5)
    assert roster(db, slug) == [("Ann Lee", "confirmed", None)]
    r = admin.post("/webhooks", json_body={"url": "https://hooks.example.org/eb",
                                           "events": ["registration.created"]})
    assert r.status == 201, r
    hook = r.json["id"]
    assert_error(admin.delete(f"/webhooks/{spelling.format(hook)}"), 404,
                 "webhook_not_found")
    assert admin.delete(f"/webhooks/{hook}").status == 200


def test_an_api_client_named_with_digits_is_revoked_by_its_name(api, admin):
    """/api-clients/007 took 007 for client 7: a client named "007" could not
    be revoked by its name, and client 7 could be by another spelling."""
    name = "0" + str(uuid.uuid4().int)[:12]
    r = admin.post("/api-clients", json_body={"name": name})
    assert r.status == 201, r
    cid = r.json["client_id"]
    assert_error(admin.delete(f"/api-clients/0{cid}"), 404, "client_not_found")
    r = admin.delete(f"/api-clients/{name}")
    assert r.status == 200 and r.json == {"revoked": True}, r
    assert_error(admin.delete(f"/api-clients/{cid}"), 404, "client_not_found")


def test_the_online_url_is_never_in_a_public_event_answer(api, make_event, db):
    slug = make_event(capacity=1, description="see you there")
    secret = secret_url(slug)
    assert db.value("SELECT online_url FROM eventbox.events WHERE slug = %s",
                    slug) == secret
    answers = [
        api.get(f"{API}/events/{slug}"),
        api.get(f"{API}/events/{event_id(db, slug)}"),
        api.get(f"{API}/events?q={slug}"),
        api.register(slug, "Ann", email()),   # confirmed
        api.register(slug, "Bob", email()),   # waitlisted
    ]
    assert [a.status for a in answers] == [200, 200, 200, 201, 201]
    assert [e["slug"] for e in answers[2].json["events"]] == [slug]
    for a in answers:
        assert secret not in a.text, a
        assert "meet.example.org" not in a.text, a
        assert "online_url" not in a.text, a


def test_seat_counts_follow_registrations(api, make_event):
    slug = make_event(capacity=1, waitlist=True, waitlist_capacity=1)
    ev = api.get(f"{API}/events/{slug}").json
    assert (ev["seats_available"], ev["waitlist_available"]) == (1, True)
    api.register(slug, "Ann", email())
    ev = api.get(f"{API}/events/{slug}").json
    assert (ev["seats_available"], ev["waitlist_available"]) == (0, True)
    api.register(slug, "Bob", email())
    ev = api.get(f"{API}/events/{slug}").json
    assert (ev["seats_available"], ev["waitlist_available"]) == (0, False)


@pytest.mark.parametrize("state, columns", [
    ("not_open", {"registration_opens_at": "in 1 day"}),
    ("closed", {"registration_closes_at": "1 hour ago"}),
    ("cancelled", {"status": "cancelled"}),
], ids=["not-open", "closed", "cancelled"])
def test_an_event_shows_why_registration_is_not_open(api, make_event, state,
                                                     columns):
    cols = dict(columns)
    if cols.get("registration_opens_at") == "in 1 day":
        cols["registration_opens_at"] = utcnow() + datetime.timedelta(days=1)
    if cols.get("registration_closes_at") == "1 hour ago":
        cols["registration_closes_at"] = utcnow() - datetime.timedelta(hours=1)
    slug = make_event(**cols)
    r = api.get(f"{API}/events/{slug}")
    assert r.status == 200, r
    assert r.json["registration_state"] == state
    assert r.json["registration_open"] is False


def test_an_event_that_has_started_shows_registration_closed(api, make_event):
    slug = make_event(starts_in="-10 minutes")
    r = api.get(f"{API}/events/{slug}")
    assert r.status == 200, r
    assert r.json["registration_state"] == "closed"
    assert r.json["registration_open"] is False


# --- registering ----------------------------------------------------------------

def test_registrations_fill_the_seats_then_the_waiting_list_in_order(
        api, make_event, db):
    slug = make_event(capacity=2)
    people = [("Ann", email("ann")), ("Bob", email("bob")),
              ("Cat", email("cat")), ("Dan", email("dan"))]
    answers = [api.register(slug, n, e) for n, e in people]
    assert_registered(answers[0], slug, "confirmed")
    assert_registered(answers[1], slug, "confirmed")
    assert_registered(answers[2], slug, "waitlisted", 1)
    assert_registered(answers[3], slug, "waitlisted", 2)
    assert roster(db, slug) == [("Ann", "confirmed", None),
                                ("Bob", "confirmed", None),
                                ("Cat", "waitlisted", 1),
                                ("Dan", "waitlisted", 2)]
    summary = db.summary(slug)
    assert (summary["confirmed"], summary["waitlisted"],
            summary["seats_available"]) == (2, 2, 0)
    for (n, e), r in zip(people, answers):
        assert outbox_kinds(db, slug, e) == [r.json["status"]]
        assert_no_token(db, r, e)


def test_registration_keeps_the_organization_and_marks_the_source_api(
        api, make_event, db):
    slug = make_event()
    addr = email()
    r = api.register(slug, "  Ann Lee  ", f"  {addr}  ",
                     extra={"organization": "Springfield Public Library"})
    assert_registered(r, slug, "confirmed")
    row = db.one("SELECT name, email, organization, source FROM eventbox.roster"
                 " WHERE slug = %s", slug)
    assert row == ("Ann Lee", addr, "Springfield Public Library", "api")


def test_registration_by_numeric_event_id_answers_with_the_slug(
        api, make_event, db):
    slug = make_event()
    r = api.register(str(event_id(db, slug)), "Ann", email())
    assert_registered(r, slug, "confirmed")


def test_names_of_two_hundred_characters_any_script_are_accepted(
        api, make_event, db):
    slug = make_event()
    r = api.register(slug, "é" * 200, email())
    assert_registered(r, slug, "confirmed")
    r = api.register(slug, "名" * 200, email())
    assert_registered(r, slug, "confirmed")
    assert sorted(n for n, _, _ in roster(db, slug)) == ["é" * 200, "名" * 200]


def test_a_full_event_without_waitlist_answers_409_event_full(
        api, make_event, db):
    slug = make_event(capacity=1, waitlist=False)
    assert_registered(api.register(slug, "Ann", email()), slug, "confirmed")
    late = email()
    r = api.register(slug, "Bob", late)
    assert_error(r, 409, "event_full")
    assert db.summary(slug)["confirmed"] == 1
    assert live_rows(db, slug, late) == 0
    assert outbox_kinds(db, slug, late) == []


def test_a_full_waiting_list_answers_409_event_full(api, make_event, db):
    slug = make_event(capacity=1, waitlist=True, waitlist_capacity=2)
    assert_registered(api.register(slug, "Ann", email()), slug, "confirmed")
    assert_registered(api.register(slug, "Bob", email()), slug, "waitlisted", 1)
    assert_registered(api.register(slug, "Cat", email()), slug, "waitlisted", 2)
    r = api.register(slug, "Dan", email())
    assert_error(r, 409, "event_full")
    s = db.summary(slug)
    assert (s["confirmed"], s["waitlisted"]) == (1, 2)


def test_a_capacity_of_zero_with_waitlist_puts_everybody_on_it(
        api, make_event):
    slug = make_event(capacity=0)
    assert_registered(api.register(slug, "Ann", email()), slug, "waitlisted", 1)


def test_registering_for_a_draft_is_a_404_as_for_no_event(api, make_event, db):
    """A draft is hidden from the public: GET answers 404, and so does a
    registration, or ids counted upwards would find the drafts."""
    slug = make_event(status="draft")
    addr = email()
    r = api.register(slug, "Ann", addr)
    assert_error(r, 404, "event_not_found")
    assert r.json == api.register("no-such-event-at-all", "Ann", addr).json
    assert live_rows(db, slug, addr) == 0


@pytest.mark.parametrize("case", ["cancelled", "not_open", "closes_passed", "started"])
def test_registration_is_refused_with_403_when_not_open(api, make_event, db,
                                                        case):
    expected = {
        "cancelled": ("event_cancelled", dict(status="cancelled")),
        "not_open": ("registration_not_open", dict(
            registration_opens_at=utcnow() + datetime.timedelta(hours=2))),
        "closes_passed": ("registration_closed", dict(
            registration_closes_at=utcnow() - datetime.timedelta(minutes=5))),
        "started": ("registration_closed", dict(starts_in="-5 minutes")),
    }
    code, cols = expected[case]
    slug = make_event(**cols)
    addr = email()
    r = api.register(slug, "Ann", addr)
    assert_error(r, 403, code)
    assert live_rows(db, slug, addr) == 0
    assert outbox_kinds(db, slug, addr) == []


def test_registration_is_closed_once_the_event_has_started_even_if_closes_at_is_later(
        api, make_event, db):
    # Staff left registration_closes_at after the start: a seat (or a place
    # on a waiting list that will never move) after the start is useless.
    slug = make_event(starts_in="-5 minutes",
                      registration_closes_at=utcnow() + datetime.timedelta(minutes=30))
    ev = api.get(f"{API}/events/{slug}")
    assert ev.status == 200, ev
    addr = email()
    r = api.register(slug, "Late", addr)
    assert ev.json["registration_state"] == "closed", ev
    assert_error(r, 403, "registration_closed")
    assert live_rows(db, slug, addr) == 0


def test_registration_opens_when_registration_opens_at_has_passed(
        api, make_event):
    slug = make_event(registration_opens_at=utcnow() - datetime.timedelta(minutes=1),
                      registration_closes_at=utcnow() + datetime.timedelta(days=1))
    assert_registered(api.register(slug, "Ann", email()), slug, "confirmed")


def test_registration_for_an_unknown_event_is_404(api):
    r = api.register("no-such-event-" + uuid.uuid4().hex[:8], "Ann", email())
    assert_error(r, 404, "event_not_found")
    r = api.register("999999999999", "Ann", email())
    assert_error(r, 404, "event_not_found")


# --- a repeated email must not reveal anything ------------------------------

def test_a_repeated_email_while_seats_remain_answers_like_a_new_one(
        api, make_event, db):
    slug = make_event(capacity=5)
    addr = email("ann")
    first = api.register(slug, "Ann", addr)
    assert_registered(first, slug, "confirmed")
    again = api.register(slug, "Ann Again", addr.upper())
    fresh = api.register(slug, "Someone", email("new"))
    assert again.status == fresh.status == 201
    assert again.json == fresh.json
    assert (sorted(k.lower() for k, _ in again.headers if k.lower() != "date")
            == sorted(k.lower() for k, _ in fresh.headers if k.lower() != "date"))
    assert live_rows(db, slug, addr) == 1
    assert outbox_kinds(db, slug, addr) == ["confirmed", "already_registered"]
    assert len(db.tokens(addr, "already_registered")) == 1
    assert db.summary(slug)["confirmed"] == 2   # Ann and Someone, not Ann twice
    assert_no_token(db, again, addr)


def test_a_repeated_email_on_a_full_event_answers_the_next_waiting_place(
        api, make_event, db):
    slug = make_event(capacity=1)
    addr = email("ann")
    assert_registered(api.register(slug, "Ann", addr), slug, "confirmed")
    again = api.register(slug, "Ann", addr.title())   # Ann@Example.Org style
    assert_registered(again, slug, "waitlisted", 1)
    # A fresh address at this moment gets exactly the same answer.
    fresh = api.register(slug, "Bob", email("bob"))
    assert again.json == fresh.json
    assert live_rows(db, slug, addr) == 1
    assert roster(db, slug) == [("Ann", "confirmed", None),
                                ("Bob", "waitlisted", 1)]
    assert outbox_kinds(db, slug, addr) == ["confirmed", "already_registered"]
    assert_no_token(db, again, addr)


def test_a_repeated_email_on_a_closed_waiting_list_answers_409_like_a_new_one(
        api, make_event, db):
    slug = make_event(capacity=1, waitlist=False)
    addr = email("ann")
    assert_registered(api.register(slug, "Ann", addr), slug, "confirmed")
    again = api.register(slug, "Ann", addr)
    fresh = api.register(slug, "Bob", email("bob"))
    assert again.status == fresh.status == 409
    assert again.json == fresh.json
    assert live_rows(db, slug, addr) == 1


def test_a_cancelled_patron_may_register_again(api, make_event, db):
    slug = make_event(capacity=3)
    addr = email()
    assert_registered(api.register(slug, "Ann", addr), slug, "confirmed")
    first_token = token_of(db, addr, "confirmed")
    assert api.delete(f"{API}/registrations/{first_token}").status == 200
    r = api.register(slug, "Ann", addr)
    assert_registered(r, slug, "confirmed")
    assert live_rows(db, slug, addr) == 1
    new_token = token_of(db, addr, "confirmed")
    assert new_token != first_token
    assert api.get(f"{API}/registrations/{first_token}").json["status"] == "cancelled"
    assert api.get(f"{API}/registrations/{new_token}").json["status"] == "confirmed"


# --- Idempotency-Key -------------------------------------------------------------

def test_a_retried_request_with_the_same_idempotency_key_gets_the_first_answer(
        api, make_event, db):
    slug = make_event(capacity=1)
    addr = email()
    key = str(uuid.uuid4())
    first = api.register(slug, "Ann", addr, headers={"Idempotency-Key": key})
    assert_registered(first, slug, "confirmed")
    # The seat is now taken: a fresh registration would be waitlisted, yet
    # the retry answers what the first attempt got.
    retry = api.register(slug, "Ann", addr, headers={"Idempotency-Key": key})
    assert retry.status == 201
    assert retry.json == first.json
    assert live_rows(db, slug, addr) == 1
    assert outbox_kinds(db, slug, addr) == ["confirmed"]
    s = db.summary(slug)
    assert (s["confirmed"], s["waitlisted"]) == (1, 0)


def test_a_retried_waitlisted_request_keeps_its_position(api, make_event, db):
    slug = make_event(capacity=0)
    key = "retry-" + uuid.uuid4().hex
    addr = email()
    first = api.register(slug, "Ann", addr, headers={"Idempotency-Key": key})
    assert_registered(first, slug, "waitlisted", 1)
    api.register(slug, "Bob", email())
    retry = api.register(slug, "Ann", addr, headers={"Idempotency-Key": key})
    assert retry.json == first.json
    assert db.summary(slug)["waitlisted"] == 2


def test_an_idempotency_key_reused_for_another_body_is_422(api, make_event, db):
    slug = make_event()
    key = str(uuid.uuid4())
    a, b = email("a"), email("b")
    assert_registered(api.register(slug, "Ann", a, headers={"Idempotency-Key": key}),
                      slug, "confirmed")
    r = api.register(slug, "Bob", b, headers={"Idempotency-Key": key})
    assert_error(r, 422, "idempotency_key_reused")
    assert live_rows(db, slug, b) == 0
    assert outbox_kinds(db, slug, b) == []


def test_the_same_idempotency_key_on_two_events_is_two_registrations(
        api, make_event, db):
    one, two = make_event(), make_event()
    key = str(uuid.uuid4())
    addr = email()
    assert_registered(api.register(one, "Ann", addr, headers={"Idempotency-Key": key}),
                      one, "confirmed")
    assert_registered(api.register(two, "Ann", addr, headers={"Idempotency-Key": key}),
                      two, "confirmed")
    assert live_rows(db, one, addr) == 1 and live_rows(db, two, addr) == 1


# --- the holder's registration, by token ------------------------------------------

def test_a_confirmed_holder_sees_the_registration_and_the_online_url(
        api, make_event, db):
    slug = make_event(capacity=1)
    addr = email()
    api.register(slug, "Ann Lee", addr, extra={"organization": "Town Library"})
    token = token_of(db, addr, "confirmed")
    r = api.get(f"{API}/registrations/{token}")
    assert r.status == 200, r
    assert r.header("Cache-Control") == "no-store"
    body = r.json
    assert body["status"] == "confirmed"
    assert body["position"] is None
    assert body["name"] == "Ann Lee"
    assert body["email"] == addr
    assert body["organization"] == "Town Library"
    assert body["online_url"] == secret_url(slug)
    assert body["event"]["slug"] == slug
    assert body["event"]["title"] == f"Test event {slug}"
    assert body["event"]["url"].endswith(f"/events/{slug}")


def test_a_waitlisted_holder_sees_the_position_but_no_online_url(
        api, make_event, db):
    slug = make_event(capacity=1)
    api.register(slug, "Ann", email())
    first, second = email("w1"), email("w2")
    api.register(slug, "Bob", first)
    api.register(slug, "Cat", second)
    r = api.get(f"{API}/registrations/{token_of(db, second, 'waitlisted')}")
    assert r.status == 200, r
    assert r.json["status"] == "waitlisted"
    assert r.json["position"] == 2
    assert r.json["online_url"] is None
    assert r.json["organization"] is None
    assert secret_url(slug) not in r.text


def test_an_unknown_well_formed_token_is_404(api):
    token = str(uuid.uuid4())
    assert_error(api.get(f"{API}/registrations/{token}"), 404,
                 "registration_not_found")
    assert_error(api.delete(f"{API}/registrations/{token}"), 404,
                 "registration_not_found")


def test_a_malformed_token_is_400_invalid_token(api):
    assert_error(api.get(f"{API}/registrations/not-a-token"), 400,
                 "invalid_token")
    assert_error(api.delete(f"{API}/registrations/not-a-token"), 400,
                 "invalid_token")


def test_only_the_newest_link_works_for_the_holder(api, make_event, db):
    slug = make_event()
    addr = email()
    api.register(slug, "Ann", addr)
    api.register(slug, "Ann", addr)          # already_registered note
    tokens = db.tokens(addr)
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    # A re-sent link revokes the older one (one working link per
    # registration: sql/rules/10_seats.sql issue_token).
    assert api.get(f"{API}/registrations/{tokens[0]}").status == 404
    r = api.get(f"{API}/registrations/{tokens[1]}")
    assert r.status == 200, r
    assert r.json["email"] == addr
    assert_no_token(db, r, addr)


# --- cancelling -----------------------------------------------------------------

def test_cancelling_is_idempotent(api, make_event, db):
    slug = make_event()
    addr = email()
    api.register(slug, "Ann", addr)
    token = token_of(db, addr)
    r = api.delete(f"{API}/registrations/{token}")
    assert r.status == 200, r
    assert r.header("Cache-Control") == "no-store"
    assert r.json["status"] == "cancelled"
    assert r.json["already_cancelled"] is False
    assert_no_token(db, r, addr)
    again = api.delete(f"{API}/registrations/{token}")
    assert again.status == 200, again
    assert again.json["status"] == "cancelled"
    assert again.json["already_cancelled"] is True
    s = db.summary(slug)
    assert (s["confirmed"], s["cancelled"]) == (0, 1)
    assert outbox_kinds(db, slug, addr) == ["confirmed", "cancelled"]
    got = api.get(f"{API}/registrations/{token}")
    assert got.status == 200
    assert got.json["status"] == "cancelled"
    assert got.json["online_url"] is None


def test_cancelling_a_seat_promotes_the_oldest_waiting_in_order(
        api, make_event, db):
    slug = make_event(capacity=2)
    addrs = {n: email(n.lower()) for n in ("Ann", "Bob", "Cat", "Dan", "Eve")}
    for n, e in addrs.items():
        api.register(slug, n, e)
    assert [s for _, s, _ in roster(db, slug)] == [
        "confirmed", "confirmed", "waitlisted", "waitlisted", "waitlisted"]
    cat_first_token = token_of(db, addrs["Cat"], "waitlisted")
    assert api.get(f"{API}/registrations/{cat_first_token}").json["online_url"] is None

    r = api.delete(f"{API}/registrations/{token_of(db, addrs['Ann'])}")
    assert r.status == 200 and r.json["already_cancelled"] is False
    assert_no_token(db, r, addrs["Ann"], addrs["Cat"])
    assert roster(db, slug) == [("Ann", "cancelled", None),
                                ("Bob", "confirmed", None),
                                ("Cat", "confirmed", None),
                                ("Dan", "waitlisted", 1),
                                ("Eve", "waitlisted", 2)]
    assert outbox_kinds(db, slug, addrs["Cat"]) == ["waitlisted", "promoted"]
    promoted_token = token_of(db, addrs["Cat"], "promoted")
    got = api.get(f"{API}/registrations/{promoted_token}")
    assert got.status == 200
    assert got.json["status"] == "confirmed"
    assert got.json["position"] is None
    assert got.json["online_url"] == secret_url(slug)
    # The waiting-list email's link works on (the promotion added one).
    got = api.get(f"{API}/registrations/{cat_first_token}")
    assert got.status == 200 and got.json["status"] == "confirmed", got

    # Cancelling a waiting place promotes nobody and moves the line up.
    r = api.delete(f"{API}/registrations/{token_of(db, addrs['Dan'])}")
    assert r.status == 200
    assert roster(db, slug)[3:] == [("Dan", "cancelled", None),
                                    ("Eve", "waitlisted", 1)]
    eve = api.get(f"{API}/registrations/{token_of(db, addrs['Eve'])}")
    assert eve.json["position"] == 1

    r = api.delete(f"{API}/registrations/{token_of(db, addrs['Bob'])}")
    assert r.status == 200
    assert roster(db, slug)[4] == ("Eve", "confirmed", None)
    assert outbox_kinds(db, slug, addrs["Eve"]) == ["waitlisted", "promoted"]
    assert outbox_kinds(db, slug, addrs["Dan"]) == ["waitlisted", "cancelled"]
    s = db.summary(slug)
    assert (s["confirmed"], s["waitlisted"], s["cancelled"]) == (2, 0, 3)


def test_nobody_is_promoted_once_the_event_has_started(api, make_event, db):
    slug = make_event(capacity=1)
    ann, bob = email("ann"), email("bob")
    api.register(slug, "Ann", ann)
    api.register(slug, "Bob", bob)
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '1 minute',"
           " ends_at = now() + interval '1 hour' WHERE slug = %s", slug)
    r = api.delete(f"{API}/registrations/{token_of(db, ann)}")
    assert r.status == 200, r
    assert r.json["already_cancelled"] is False
    assert roster(db, slug) == [("Ann", "cancelled", None),
                                ("Bob", "waitlisted", 1)]
    assert outbox_kinds(db, slug, bob) == ["waitlisted"]
    got = api.get(f"{API}/registrations/{token_of(db, bob)}")
    assert got.json["status"] == "waitlisted"
    assert got.json["online_url"] is None


# --- CORS and methods ------------------------------------------------------------

def test_a_preflight_from_an_unlisted_origin_is_403(api, make_event):
    slug = make_event()
    r = api.request("OPTIONS", f"{API}/events/{slug}/registrations", headers={
        "Origin": "https://evil.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert_error(r, 403, "origin_not_allowed")
    assert r.header("Access-Control-Allow-Origin") is None


def test_a_get_from_an_unlisted_origin_has_no_cors_headers(api, make_event):
    slug = make_event()
    r = api.get(f"{API}/events/{slug}",
                headers={"Origin": "https://evil.example.com"})
    assert r.status == 200, r
    assert r.header("Access-Control-Allow-Origin") is None
    assert "origin" in (r.header("Vary") or "").lower()


@pytest.mark.skipif(not os.environ.get("EVENTBOX_CORS_ORIGINS"),
                    reason="EVENTBOX_CORS_ORIGINS is not set for this stack")
def test_a_preflight_from_a_listed_origin_is_allowed(api, make_event):
    origin = os.environ["EVENTBOX_CORS_ORIGINS"].replace(",", " ").split()[0]
    slug = make_event()
    path = f"{API}/events/{slug}/registrations"
    r = api.request("OPTIONS", path, headers={
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, idempotency-key"})
    assert r.status == 204, r
    assert r.header("Access-Control-Allow-Origin") == origin
    allow_headers = (r.header("Access-Control-Allow-Headers") or "").lower()
    assert "idempotency-key" in allow_headers
    assert "content-type" in allow_headers
    assert "POST" in (r.header("Access-Control-Allow-Methods") or "")
    post = api.register(slug, "Ann", email(), headers={"Origin": origin})
    assert post.status == 201, post
    assert post.header("Access-Control-Allow-Origin") == origin


@pytest.mark.skipif(not os.environ.get("EVENTBOX_CORS_ORIGINS"),
                    reason="EVENTBOX_CORS_ORIGINS is not set for this stack")
@pytest.mark.parametrize("method,path,methods", [
    ("PATCH", "/admin/events/{slug}", "GET, HEAD, PATCH, OPTIONS"),
    ("PUT", "/admin/events/{slug}/capacity", "PUT, OPTIONS"),
    ("PUT", "/admin/events/{slug}/questions", "GET, HEAD, PUT, OPTIONS"),
    ("DELETE", "/admin/registrations/1/check-in", "POST, DELETE, OPTIONS")])
def test_a_preflight_allows_each_method_the_admin_api_has_there(api, make_event,
                                                               method, path, methods):
    """A listed origin's script may PATCH an event and PUT its capacity and
    questions: the preflight once allowed GET, POST and DELETE on every path,
    and the browser refused the rest."""
    origin = os.environ["EVENTBOX_CORS_ORIGINS"].replace(",", " ").split()[0]
    path = API + path.format(slug=make_event())
    r = api.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status == 204, r
    assert r.header("Access-Control-Allow-Origin") == origin
    assert r.header("Access-Control-Allow-Methods") == methods
    assert r.header("Allow") == methods
    allow_headers = (r.header("Access-Control-Allow-Headers") or "").lower()
    assert "authorization" in allow_headers and "content-type" in allow_headers


@pytest.mark.skipif(not os.environ.get("EVENTBOX_CORS_ORIGINS"),
                    reason="EVENTBOX_CORS_ORIGINS is not set for this stack")
def test_a_listed_origin_may_read_location_retry_after_and_the_challenge(api, admin):
    """Without Access-Control-Expose-Headers a browser hides every header
    but the safelisted ones: an admin 201's Location, a 401's challenge and
    a 429's or 503's Retry-After were null to the consortium's scripts."""
    origin = os.environ["EVENTBOX_CORS_ORIGINS"].replace(",", " ").split()[0]
    slug = "cors-" + uuid.uuid4().hex[:8]
    created = admin.post("/events", json_body={
        "slug": slug, "title": "CORS", "starts_at": "2030-01-01T10:00:00",
        "ends_at": "2030-01-01T11:00:00", "capacity": 5}, headers={"Origin": origin})
    refused = api.get(f"{API}/admin/events", headers={"Origin": origin})
    for r, status, header in ((created, 201, "Location"),
                              (refused, 401, "WWW-Authenticate")):
        assert r.status == status and r.header(header), r
        assert r.header("Access-Control-Allow-Origin") == origin, r
        exposed = [h.strip().lower() for h in
                   (r.header("Access-Control-Expose-Headers") or "").split(",")]
        assert {"location", "retry-after", "www-authenticate"} <= set(exposed), r
    # A staff read's ETag, for the If-None-Match a preflight allows.
    read = admin.get(f"/events/{slug}", headers={"Origin": origin})
    assert read.status == 200 and read.header("ETag"), read
    assert "etag" in [h.strip().lower() for h in
                      (read.header("Access-Control-Expose-Headers") or "").split(",")]
    pre = api.request("OPTIONS", f"{API}/admin/events/{slug}", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, if-none-match"})
    assert "If-None-Match" in (pre.header("Access-Control-Allow-Headers") or ""), pre


def test_options_without_origin_lists_the_allowed_methods(api, make_event):
    slug = make_event()
    r = api.request("OPTIONS", f"{API}/events/{slug}/registrations")
    assert r.status == 204, r
    assert r.header("Allow") == "POST, OPTIONS"


# --- API.md's table of error codes, against the code --------------------------

def codes_answered():
    """{code: {status}} of every error the service (src/*.c: answer_error(),
    the outcome and refusal tables, the 404s, OAuth's errors, and the
    invalid_field of answer_field_error()) and nginx (nginx/errors/*.json;
    its 494 goes out as 400) can answer."""
    found = {}

    def add(code, status):
        found.setdefault(code, set()).add(int(status))
    code = r'"([a-z0-9_]+)"'
    for path in sorted(os.listdir(os.path.join(ROOT, "src"))):
        if not path.endswith(".c"):
            continue
        with open(os.path.join(ROOT, "src", path), encoding="utf-8") as f:
            src = f.read()
        for m in re.finditer(r"(?:answer_error(?:_field)?\(\s*\w+,\s*\w+|oauth_error\(\s*\w+),"
                             r"\s*(\d{3}),\s*(?:[^;]*?\?\s*" + code + r"\s*:\s*)?" + code,
                             src):
            for c in m.group(2, 3):
                if c:
                    add(c, m.group(1))
        for m in re.finditer(r'\{\s*"[a-z_]+",\s*(\d{3}),\s*' + code, src):
            add(m.group(2), m.group(1))                 # outcome -> status, code
        for m in re.finditer(r"\[MISSING_\w+\]\s*=\s*\{\s*" + code, src):
            add(m.group(1), 404)
        if re.search(r"\banswer_field_error\(", src):
            add("invalid_field", 422)
        if "busy ? \"busy\" : \"unavailable\"" in src:
            add("busy", 503)
            add("unavailable", 503)
    errors = os.path.join(ROOT, "nginx", "errors")
    for name in os.listdir(errors):
        if name.endswith(".json"):
            with open(os.path.join(errors, name), encoding="utf-8") as f:
                c = json.load(f)["error"]["code"]
            status = int(name[:3])
            add(c, 400 if status == 494 else status)
    return found


def test_every_error_code_is_in_api_md_with_its_status():
    """docs/API.md's "Error codes" table names every code the service and
    nginx answer, with the statuses they answer it with, and nothing else:
    a client matching on codes finds each one there."""
    with open(os.path.join(ROOT, "docs", "API.md"), encoding="utf-8") as f:
        text = f.read()
    assert "\n### Error codes\n" in text, "docs/API.md lost its table of error codes"
    section = text.split("\n### Error codes\n", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if not line.startswith("| `") or len(cells) != 3:
            continue
        for c in re.findall(r"`([a-z0-9_]+)`", cells[0]):
            assert c not in documented, f"{c} twice in the table"
            documented[c] = {int(n) for n in re.findall(r"\d{3}", cells[1])}
    answered = codes_answered()
    assert len(answered) >= 50 and {"event_full", "invalid_field", "busy", "not_found",
                                    "rate_limited", "invalid_client"} <= set(answered)
    oauth = {"invalid_request", "invalid_client", "unsupported_grant_type"}
    assert oauth <= set(answered)
    tokens = text.split("\n### Tokens: OAuth 2.0 client credentials\n", 1)[1]
    assert all(f'"{c}"' in tokens for c in oauth), "OAuth's codes, in their own part"
    answered = {c: s for c, s in answered.items() if c not in oauth}
    assert sorted(set(answered) - set(documented)) == [], "answered, not in the table"
    assert sorted(set(documented) - set(answered)) == [], "in the table, never answered"
    wrong = {c: (documented[c], answered[c]) for c in answered if documented[c] != answered[c]}
    assert wrong == {}, "the table's status (left) is not what is answered (right)"


# --- README.md's "Try it", as written ----------------------------------------

def test_the_readme_try_it_runs_as_written():
    """README.md's curl (at the stack's address instead of `make run`'s
    localhost:8080) registers on the sample event and answers what the
    README shows under it; its `make -s psql` line then shows the event."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        section = f.read().split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    curl, psql = re.findall(r"^```sh\n(.*?)^```", section, re.S | re.M)
    shown = json.loads([line[2:] for line in curl.splitlines() if line.startswith("# {")][0])
    u = urllib.parse.urlsplit(env("EVENTBOX_URL"))
    assert curl.count("localhost:8080/") == 1, curl
    curl = curl.replace("localhost:8080/", f"{u.hostname}:{u.port}/")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", curl], capture_output=True,
                         text=True, timeout=60, check=True)
    got = json.loads(out.stdout)
    assert {k: got[k] for k in ("status", "position", "event")} == {
        k: shown[k] for k in ("status", "position", "event")}, got
    assert got["message"].startswith(shown["message"].rstrip(". ")), got
    # As a user's shell runs it (not a sub-make of `make test`), on the
    # stack's own directory.
    shell = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    shell["EVENTBOX_VAR"] = env("EVENTBOX_VAR")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", psql], cwd=ROOT, env=shell,
                         capture_output=True, text=True, timeout=60, check=True)
    row = [line for line in out.stdout.splitlines() if "minimizing-social-media" in line]
    assert len(row) == 1 and "(1 row)" in out.stdout, out.stdout
