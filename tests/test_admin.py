"""The staff API (/api/v1/admin/...): keys, events, capacity, roster,
registrations, and the audit log behind every change.

Each test makes its own events and addresses; keys come from
`eventbox apikey create` (staffkit.new_key).
"""
import csv
import datetime
import io
import json
import threading
import uuid

import psycopg2
import pytest

from conftest import env, stored_by_an_older_release
from staffkit import (ADMIN, admin, assert_error, audit, email, event_id,  # noqa: F401
                      eventbox, new_key, staff_key, staff_register)


def new_event_body(**over):
    body = {"slug": "a-" + uuid.uuid4().hex[:12], "title": "Staff-made event",
            "starts_at": "2031-03-05T14:00:00", "ends_at": "2031-03-05T15:30:00",
            "timezone": "America/Chicago", "capacity": 10,
            "online_url": "https://meet.example.org/staff-secret",
            "categories": ["Workshop"]}
    body.update(over)
    return body


# --- keys -----------------------------------------------------------------------

UNAUTHORIZED = {"error": {"code": "unauthorized",
                          "message": "a valid staff API key is required"}}


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer ebk_wrong",
    "Bearer ebk_" + "A" * 43, "bearer  ebk_nope", "Bearer a b",
])
def test_a_missing_or_wrong_key_is_401_with_the_same_answer(api, make_event,
                                                             header):
    slug = make_event()
    headers = {} if header is None else {"Authorization": header}
    for method, path in (("GET", f"/events/{slug}"),
                         ("POST", f"/events/{slug}/cancel"),
                         ("GET", f"/events/{slug}/registrations.csv")):
        r = api.request(method, ADMIN + path, headers=headers)
        assert r.status == 401, r
        assert r.json == UNAUTHORIZED
        assert r.header("WWW-Authenticate") == 'Bearer realm="eventbox"'


def test_a_revoked_key_is_refused_with_403(api, make_event, db):
    slug = make_event()
    name, key = new_key()
    auth = {"Authorization": f"Bearer {key}"}
    assert api.get(f"{ADMIN}/events/{slug}", headers=auth).status == 200
    eventbox("apikey", "revoke", name)
    r = api.post(f"{ADMIN}/events/{slug}/cancel", headers=auth)
    assert r.status == 403 and r.json["error"]["code"] == "key_revoked", r
    assert db.value("SELECT status FROM eventbox.events WHERE slug = %s",
                    slug) == "published"
    # Revoking again says so; the audit log has both the creation and the
    # revocation, and never the key itself.
    assert eventbox("apikey", "revoke", name, check=False).returncode == 1
    rows = db.all("SELECT action, details::text FROM eventbox.audit_log"
                  " WHERE details ->> 'key' = %s ORDER BY id", name)
    assert [r[0] for r in rows] == ["api_key_created", "api_key_revoked"]
    # The name may then be given to a new key (a rotation); the old key
    # stays refused, and a second live key of the name is not made.
    _, again = new_key(name)
    assert api.get(f"{ADMIN}/events/{slug}",
                   headers={"Authorization": f"Bearer {again}"}).status == 200
    assert api.get(f"{ADMIN}/events/{slug}", headers=auth).status == 403
    out = eventbox("apikey", "create", name, check=False)
    assert out.returncode == 1 and "a key of that name exists" in out.stderr, out
    assert db.value("SELECT count(*) FROM eventbox.audit_log"
                    " WHERE details::text LIKE %s", "%" + key[4:] + "%") == 0


def test_a_key_that_cannot_be_made_says_why(db):
    """A name taken, a role that may not make keys, no database: three
    different sentences, no key printed, exit 1."""
    name, _ = new_key()
    cases = [({}, "a key of that name exists"),
             ({"dsn": env("EVENTBOX_DSN")}, "keys are made as the database owner"),
             ({"dsn": "host=/nonexistent dbname=eventbox connect_timeout=2"},
              "the database cannot be reached")]
    for kw, why in cases:
        out = eventbox("apikey", "create", name if not kw else "t-" + uuid.uuid4().hex[:10],
                       check=False, **kw)
        assert out.returncode == 1, out
        assert why in out.stderr, out.stderr
        assert "ebk_" not in out.stdout


@pytest.mark.parametrize("args, rc, says", [
    (("migrate", "--help"), 0, "usage: eventbox migrate\n"),
    (("serve", "-h"), 0, "usage: eventbox serve\n"),
    (("apikey", "--help"), 0, "usage: eventbox apikey create NAME | list | revoke NAME"),
    (("migrate", "now"), 2, "eventbox migrate: takes no arguments"),
    (("serve", "--workers=4"), 2, "eventbox serve: takes no arguments"),
    (("mailer", "x"), 2, "eventbox mailer: takes no arguments"),
    (("purge", "30"), 2, "eventbox purge: takes no arguments"),
])
def test_a_commands_help_runs_nothing_and_stray_arguments_are_refused(db, args, rc, says):
    """`eventbox migrate --help` migrated and `eventbox serve --help` started a
    server; now each prints its usage, and a command that takes no arguments
    refuses them (exit 2) before it touches anything."""
    before = db.value("SELECT count(*) FROM eventbox.audit_log")
    out = eventbox(*args, check=False,
                   extra_env={"EVENTBOX_LISTEN": "/nonexistent/eventbox.sock"})
    assert out.returncode == rc, out
    assert says in (out.stdout if rc == 0 else out.stderr), out
    assert "warning" not in out.stderr and "fatal" not in out.stderr, out.stderr
    assert db.value("SELECT count(*) FROM eventbox.audit_log") == before


def test_only_the_hash_of_a_key_is_stored(db):
    name, key = new_key()
    stored = db.one("SELECT key_hash, encode(sha256(convert_to(%s, 'UTF8')), 'hex')"
                    " FROM eventbox.api_keys WHERE name = %s", key, name)
    assert bytes(stored[0]).hex() == stored[1]
    assert db.value("SELECT count(*) FROM eventbox.api_keys"
                    " WHERE position(%s in key_hash::text) > 0", key) == 0


def test_the_key_is_checked_before_the_body_is_looked_at(api):
    r = api.post(f"{ADMIN}/events", body="not json",
                 headers={"Content-Type": "text/plain"})
    assert r.status == 401, r


def test_admin_routes_answer_405_and_404_before_the_key(api):
    r = api.request("PUT", f"{ADMIN}/events")
    assert_error(r, 405, "method_not_allowed")
    assert "POST" in r.header("Allow")
    assert_error(api.get(f"{ADMIN}/nothing-here"), 404, "not_found")


def test_a_non_json_body_is_415_after_the_key(admin):
    r = admin.post("/events", body="slug=x", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "unsupported_media_type")


def test_patch_says_which_bodies_it_takes_and_takes_a_merge_patch(admin, api):
    """RFC 5789: a PATCH body of a type not taken is a 415 with
    Accept-Patch, and OPTIONS advertises it; the body, the fields to
    change, is a JSON Merge Patch (RFC 7396), so it is taken as one."""
    body = new_event_body()
    assert admin.post("/events", json_body=body).status == 201
    path = f"/events/{body['slug']}"
    r = admin.patch(path, body='{"capacity": 5}',
                    headers={"Content-Type": "application/json-patch+json"})
    assert_error(r, 415, "unsupported_media_type")
    want = "application/json, application/merge-patch+json"
    assert r.header("Accept-Patch") == want, r
    r = api.request("OPTIONS", f"{ADMIN}{path}")
    assert r.status == 204 and r.header("Accept-Patch") == want, r
    r = admin.patch(path, body='{"capacity": 7, "waitlist_capacity": null}',
                    headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200 and r.json["capacity"] == 7, r
    r = admin.post("/events", body=json.dumps(new_event_body()),
                   headers={"Content-Type": "application/merge-patch+json"})
    assert_error(r, 415, "unsupported_media_type")
    assert r.header("Accept-Patch") is None


# --- events ---------------------------------------------------------------------

def test_creating_an_event_answers_201_with_the_staff_view_and_is_audited(
        admin, api, db):
    body = new_event_body()
    r = admin.post("/events", json_body=body)
    assert r.status == 201, r
    ev = r.json
    assert r.header("Location") == f"{ADMIN}/events/{ev['id']}"
    assert ev["slug"] == body["slug"] and ev["status"] == "draft"
    # Wall-clock time without an offset is the event's zone (CST, -06:00).
    assert ev["starts_local"] == "2031-03-05T14:00:00-06:00"
    assert ev["starts_at"] == "2031-03-05T20:00:00Z"
    assert ev["online_url"] == body["online_url"]
    assert ev["categories"] == ["Workshop"] and ev["format"] == "online"
    assert ev["waitlist_enabled"] is True and ev["waitlist_capacity"] is None
    assert (ev["capacity"], ev["confirmed"], ev["seats_available"]) == (10, 0, 10)
    # A draft is invisible to the public until published.
    assert api.get(f"/api/v1/events/{body['slug']}").status == 404
    rows = audit(db, event_id(db, body["slug"]))
    assert [(a["actor"], a["via"], a["action"]) for a in rows] == [
        (admin.name, "api", "event_created")]
    assert rows[0]["details"]["title"] == "Staff-made event"
    assert "online_url" not in rows[0]["details"]



@pytest.mark.parametrize("zone, typed, local, utc", [
    # The hour the clocks go back passes twice: the first, as a calendar
    # reads DTSTART;TZID= (RFC 5545 3.3.5), not PostgreSQL's second.
    ("America/Chicago", "2031-11-02T01:30:00", "2031-11-02T01:30:00-05:00",
     "2031-11-02T06:30:00Z"),
    ("Australia/Lord_Howe", "2031-04-06T01:45:00", "2031-04-06T01:45:00+11:00",
     "2031-04-05T14:45:00Z"),
    # The hour they skip: the offset before the gap, as both read it.
    ("America/Chicago", "2031-03-09T02:30:00", "2031-03-09T03:30:00-05:00",
     "2031-03-09T08:30:00Z"),
    # Either side of the change, one reading.
    ("America/Chicago", "2031-11-02T00:30:00", "2031-11-02T00:30:00-05:00",
     "2031-11-02T05:30:00Z"),
    ("America/Chicago", "2031-11-02T02:30:00", "2031-11-02T02:30:00-06:00",
     "2031-11-02T08:30:00Z"),
])
def test_a_wall_clock_time_the_clocks_pass_twice_is_the_first(admin, api, zone, typed,
                                                                local, utc):
    """The event's .ics says DTSTART;TZID=zone:local, which calendar apps
    read as the first of the two; the stored time was the second, an hour
    (or half an hour) from what the patron's calendar showed."""
    h = int(typed[11:13])
    body = new_event_body(timezone=zone, starts_at=typed,
                          ends_at=typed[:11] + f"{h + 2:02d}" + typed[13:])
    r = admin.post("/events", json_body=body)
    assert r.status == 201, r
    assert (r.json["starts_local"], r.json["starts_at"]) == (local, utc)

@pytest.mark.parametrize("over,field", [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "EST5EDT; DROP"}, "timezone"),
    ({"ends_at": "2031-03-05T13:00:00"}, "ends_at"),
    ({"ends_at": "2031-03-05T14:00:00"}, "ends_at"),
    ({"starts_at": "2031-02-30T10:00:00"}, "starts_at"),
    ({"starts_at": "next tuesday"}, "starts_at"),
    ({"starts_at": "2031-03-05T14:00:00+25:00"}, "starts_at"),
    ({"starts_at": "0001-01-01T00:00:00Z"}, "starts_at"),
    ({"starts_at": "1969-12-31T09:00:00", "ends_at": "1969-12-31T10:00:00"}, "starts_at"),
    ({"ends_at": "9999-12-31T20:00:00"}, "ends_at"),
    ({"registration_opens_at": "0100-03-01T09:00:00"}, "registration_opens_at"),
    ({"registration_closes_at": "9999-06-01T09:00:00"}, "registration_closes_at"),
    ({"capacity": -1}, "capacity"),
    ({"capacity": 2.5}, "capacity"),
    ({"capacity": "10"}, "capacity"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": "12345"}, "slug"),
    ({"title": ""}, "title"),
    ({"format": "telepathy"}, "format"),
    ({"online_url": "javascript:alert(1)"}, "online_url"),
    ({"registration_opens_at": "2031-03-01T09:00:00",
      "registration_closes_at": "2031-02-01T09:00:00"}, "registration_closes_at"),
    ({"registration_opens_at": "2031-03-05T14:00:00"}, "registration_opens_at"),
    ({"registration_opens_at": "2031-03-06T09:00:00"}, "registration_opens_at"),
    ({"status": "published"}, "status"),
    ({"confirmed_count": 5}, "confirmed_count"),
    ({"categories": [1, 2]}, "categories"),
    ({"categories": ["Talk\nATTENDEE:mailto:x@example.org"]}, "categories"),
    ({"description": "ring \x07 ring"}, "description"),
    ({"organizer": "Learning\nServices"}, "organizer"),
    ({"accessibility_contact": "a\tb"}, "accessibility_contact"),
])
def test_an_invalid_event_is_422_naming_the_field(admin, db, over, field):
    body = new_event_body(**over)
    r = admin.post("/events", json_body=body)
    assert_error(r, 422, "invalid_field", field)
    assert db.value("SELECT count(*) FROM eventbox.events WHERE slug = %s",
                    body["slug"]) == 0


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Factory",
                                  "posix/America/New_York", "right/America/New_York",
                                  "right/UTC", "america/new_york", "Mars/Olympus_Mons"])
def test_a_time_zone_that_is_not_a_places_is_422_through_the_api_and_refused_at_psql(
        admin, api, db, make_event, zone):
    """pg_timezone_names lists the files of the installed time zone
    database, not only zones: "localtime" follows the server's clock
    setting (the event moved when it changed), "Factory" is the zone of an
    unset clock ("Local time zone must be set"), posixrules and posix/...
    are copies calendar programs know no TZID of.  They were taken."""
    body = new_event_body(timezone=zone)
    r = admin.post("/events", json_body=body)
    assert_error(r, 422, "invalid_field", "timezone")
    assert r.json["error"]["message"] == \
        "timezone: must be the IANA time zone of a place, like America/New_York", r
    slug = make_event()
    assert_error(admin.patch(f"/events/{slug}", json_body={"timezone": zone}),
                 422, "invalid_field", "timezone")
    for sql, args in (("UPDATE eventbox.events SET timezone = %s WHERE slug = %s", (zone, slug)),
                      ("INSERT INTO eventbox.events (slug, title, capacity, starts_at, ends_at,"
                       " timezone) VALUES (%s || '-x', 't', 1, now() + interval '1 day',"
                       " now() + interval '25 hours', %s)", (slug, zone))):
        with pytest.raises(psycopg2.errors.CheckViolation) as e:
            db.all(sql, *args)
        assert e.value.diag.constraint_name == "events_timezone_check"
    assert api.get(f"/api/v1/events/{slug}").json["timezone"] == "America/New_York"


@pytest.mark.parametrize("zone", ["UTC", "US/Eastern", "Etc/GMT+5", "EST5EDT",
                                  "America/Argentina/Buenos_Aires", "Asia/Kolkata"])
def test_every_iana_zone_and_alias_is_still_taken(admin, zone):
    r = admin.post("/events", json_body=new_event_body(timezone=zone))
    assert r.status == 201 and r.json["timezone"] == zone, r


def test_an_event_stored_with_localtime_keeps_its_page_and_calendar(
        admin, api, make_event):
    """Left by sql/029_event_time_zones.sql, which has no place's zone to
    give it: its pages, .ics and registrations go on; a change names it."""
    slug = make_event()
    stored_by_an_older_release(slug, "timezone", "localtime")
    assert api.get(f"/events/{slug}").status == 200
    assert api.get(f"/events/{slug}.ics").status == 200
    assert api.register(slug, "Ann", email("tz")).status == 201
    r = admin.patch(f"/events/{slug}", json_body={"title": "Renamed"})
    assert_error(r, 422, "invalid_field", "timezone")
    assert r.json["error"]["message"] == \
        "timezone: must be the IANA time zone of a place, like America/New_York", r
    r = admin.patch(f"/events/{slug}", json_body={"title": "Renamed",
                                                   "timezone": "America/Chicago"})
    assert r.status == 200 and r.json["timezone"] == "America/Chicago", r


@pytest.mark.parametrize("missing", ["slug", "title", "starts_at", "ends_at",
                                     "capacity"])
def test_creating_needs_the_essential_fields(admin, missing):
    body = new_event_body()
    del body[missing]
    assert_error(admin.post("/events", json_body=body), 422, "invalid_field",
                 missing)


def test_a_taken_slug_is_409_naming_the_slug_field(admin, make_event):
    slug, other = make_event(), make_event()
    assert_error(admin.post("/events", json_body=new_event_body(slug=slug)),
                 409, "slug_taken", "slug")
    assert_error(admin.patch(f"/events/{other}", json_body={"slug": slug}),
                 409, "slug_taken", "slug")


@pytest.mark.parametrize("method,path,body", [
    ("PATCH", "", {"no_such_field": 1}),
    ("PATCH", "", {"status": "published"}),
    ("PATCH", "", {"capacity": "ten"}),
    ("PATCH", "", [1]),
    ("PATCH", "", "{"),
    ("PUT", "/capacity", {"capacity": -1}),
    ("PUT", "/capacity", {"seats": 3}),
    ("PUT", "/questions", {"questions": 5}),
    ("POST", "/registrations", {"name": ""}),
])
def test_a_write_to_an_unknown_event_is_404_whatever_its_body(admin, method,
                                                               path, body):
    kw = ({"body": body, "headers": {"Content-Type": "application/json"}}
          if isinstance(body, str) else {"json_body": body})
    assert_error(admin.request(method, "/events/no-such-event-here" + path,
                               **kw), 404, "event_not_found")


def test_the_location_of_a_new_event_stays_its_address_after_a_new_slug(
        admin, db):
    r = admin.post("/events", json_body=new_event_body())
    assert r.status == 201, r
    location = r.header("Location")
    assert location == f"{ADMIN}/events/{r.json['id']}", r
    new_slug = "b-" + uuid.uuid4().hex[:12]
    assert admin.patch(f"/events/{r.json['slug']}",
                       json_body={"slug": new_slug}).status == 200
    again = admin.get(location[len(ADMIN):])
    assert again.status == 200 and again.json["slug"] == new_slug, again


def test_a_change_that_changes_nothing_is_not_audited(admin, db, make_event):
    slug = make_event()
    title = db.value("SELECT title FROM eventbox.events WHERE slug = %s", slug)
    for body in ({}, {"title": title}):
        r = admin.patch(f"/events/{slug}", json_body=body)
        assert r.status == 200 and r.json["slug"] == slug, r
    assert audit(db, event_id(db, slug), action="event_updated") == []
    assert admin.patch(f"/events/{slug}",
                       json_body={"title": title + "!"}).status == 200
    assert len(audit(db, event_id(db, slug), action="event_updated")) == 1


def test_a_malformed_body_is_400_and_a_non_object_422(admin):
    assert_error(admin.post("/events", body="{", headers={
        "Content-Type": "application/json"}), 400, "invalid_json")
    assert_error(admin.post("/events", json_body=[1]), 422, "invalid_body")


BOM = b"\xef\xbb\xbf"     # what PowerShell's and .NET's UTF-8 writers put first


def test_a_body_after_a_byte_order_mark_is_read_as_without_one(admin, api, db):
    """RFC 8259 8.1 lets a parser ignore the mark, and the service did on
    its other JSON routes; creating or changing an event handed the body
    to PostgreSQL as it came, whose jsonb refused the mark: a 422
    invalid_value ("a value is out of range or malformed") for a well-formed
    body, naming nothing to correct."""
    json_type = {"Content-Type": "application/json"}
    body = new_event_body()
    r = admin.post("/events", body=BOM + json.dumps(body).encode(), headers=json_type)
    assert r.status == 201 and r.json["slug"] == body["slug"], r
    r = admin.patch(f"/events/{body['slug']}", body=BOM + b'{"title": "Marked"}',
                    headers=json_type)
    assert r.status == 200 and r.json["title"] == "Marked", r
    r = admin.put(f"/events/{body['slug']}/capacity", body=BOM + b'{"capacity": 12}',
                  headers=json_type)
    assert r.status == 200 and r.json["capacity"] == 12, r
    assert db.one("SELECT title, capacity FROM eventbox.events WHERE slug = %s",
                  body["slug"]) == ("Marked", 12)
    # The mark alone is no body; nor is a mark in the middle of one.
    assert_error(admin.patch(f"/events/{body['slug']}", body=BOM, headers=json_type),
                 400, "empty_body")
    assert_error(admin.patch(f"/events/{body['slug']}", body=b'{"title": "x"}' + BOM,
                             headers=json_type), 400, "invalid_json")
    # Nor a second mark: cJSON passed over the one left after the first,
    # jsonb refused it (422 invalid_value), and a registration took it.
    assert_error(admin.patch(f"/events/{body['slug']}", body=BOM + BOM + b'{"title": "x"}',
                             headers=json_type), 400, "invalid_json")
    assert_error(api.post(f"/api/v1/events/{body['slug']}/registrations",
                          body=BOM + BOM + json.dumps({"name": "Ann Lee", "email":
                                                       "two-marks@example.org"}).encode(),
                          headers=json_type), 400, "invalid_json")
    assert db.value("SELECT title FROM eventbox.events WHERE slug = %s",
                    body["slug"]) == "Marked"


@pytest.mark.parametrize("number", ["05", "5.", "1.e1", "-0"])
def test_a_number_json_does_not_write_is_invalid_json_and_changes_nothing(
        admin, db, make_event, number):
    """strtod, under cJSON, reads 05 as 5 and 5. as 5: PUT capacity set
    them, and PATCH, which PostgreSQL's jsonb reads again, answered 422
    invalid_value, "a value is out of range or malformed", for a body that
    is not JSON at all.  -0 is JSON, and a whole number."""
    slug = make_event(capacity=7)
    json_type = {"Content-Type": "application/json"}
    put = admin.put(f"/events/{slug}/capacity", headers=json_type,
                    body=b'{"capacity": %s}' % number.encode())
    patch = admin.patch(f"/events/{slug}", headers=json_type,
                        body=b'{"capacity": %s}' % number.encode())
    if number == "-0":
        assert put.status == 200 and put.json["capacity"] == 0, put
        assert patch.status == 200 and patch.json["capacity"] == 0, patch
        return
    assert_error(put, 400, "invalid_json")
    assert_error(patch, 400, "invalid_json")
    assert db.value("SELECT capacity FROM eventbox.events WHERE slug = %s", slug) == 7


def test_updating_changes_only_the_fields_sent_and_is_audited(admin, db, make_event):
    slug = make_event(capacity=5)
    old_title, old_tz = db.one("SELECT title, timezone FROM eventbox.events WHERE slug = %s",
                               slug)
    r = admin.patch(f"/events/{slug}", json_body={
        "title": "New title", "timezone": "Europe/Berlin", "members_only": True})
    assert r.status == 200, r
    assert r.json["title"] == "New title" and r.json["members_only"] is True
    assert r.json["description"] == "" and r.json["categories"] == []
    assert r.json["capacity"] == 5 and r.json["timezone"] == "Europe/Berlin"
    row = audit(db, event_id(db, slug), action="event_updated")
    assert len(row) == 1 and row[0]["actor"] == admin.name
    assert row[0]["details"] == {"title": "New title", "timezone": "Europe/Berlin",
                                 "members_only": True,
                                 "was": {"title": old_title, "timezone": old_tz,
                                         "members_only": False}}
    assert_error(admin.patch("/events/no-such-event-here", json_body={"title": "x"}),
                 404, "event_not_found")
    r = admin.patch(f"/events/{slug}", json_body={
        "description": "Bring a laptop.", "categories": ["Tech", "Privacy"],
        "waitlist_capacity": 5, "online_url": None})
    assert (r.json["description"], r.json["categories"], r.json["waitlist_capacity"],
            r.json["online_url"]) == ("Bring a laptop.", ["Tech", "Privacy"], 5, None)


def test_whole_numbers_written_with_a_point_are_whole_numbers(admin, db):
    """50.0 is 50, as PUT .../capacity and 5e1 take it; 50.5 is named."""
    body = new_event_body(capacity=10.0, hold_minutes=30.0)
    r = admin.post("/events", json_body=body)
    assert r.status == 201, r
    assert (r.json["capacity"], r.json["hold_minutes"]) == (10, 30)
    slug = body["slug"]
    r = admin.patch(f"/events/{slug}", json_body={
        "capacity": 50.0, "hold_minutes": 45.0, "registrations_per_minute": 10.0,
        "waitlist_capacity": 5.0})
    assert r.status == 200, r
    assert (r.json["capacity"], r.json["hold_minutes"], r.json["registrations_per_minute"],
            r.json["waitlist_capacity"]) == (50, 45, 10, 5)
    for field in ("capacity", "hold_minutes", "registrations_per_minute",
                  "waitlist_capacity"):
        assert_error(admin.patch(f"/events/{slug}", json_body={field: 50.5}), 422,
                     "invalid_field", field)
    assert_error(admin.post("/events", json_body=new_event_body(capacity=10.5)), 422,
                 "invalid_field", "capacity")
    assert db.one("SELECT capacity, hold_minutes FROM eventbox.events WHERE slug = %s",
                  slug) == (50, 45)


def test_the_audit_log_says_when_an_event_was_before_it_moved(admin, db, make_event):
    """A librarian asks who moved the event from 2 pm: the entry has the
    new start as stored, with its offset, and the old one."""
    slug = make_event()
    start = "SELECT starts_at FROM eventbox.events WHERE slug = %s"
    before = db.value(start, slug)
    r = admin.patch(f"/events/{slug}", json_body={"starts_at": "2031-03-05T16:00:00",
                                                  "ends_at": "2031-03-05T17:00:00"})
    assert r.status == 200, r
    (row,) = audit(db, event_id(db, slug), action="event_updated")
    logged = datetime.datetime.fromisoformat(row["details"]["starts_at"])
    assert logged.utcoffset() is not None and logged == db.value(start, slug)
    assert datetime.datetime.fromisoformat(row["details"]["was"]["starts_at"]) == before


def test_a_waiting_list_limit_below_the_people_waiting_is_refused_in_words(admin, api, db):
    """The row's CHECK answered staff a bare 409 conflict."""
    body = new_event_body(capacity=1, waitlist_enabled=True, waitlist_capacity=5)
    slug = admin.post("/events", json_body=body).json["slug"]
    assert admin.post(f"/events/{slug}/publish").status == 200
    for who in ("a", "b", "c"):
        assert api.register(slug, "P", email(who)).status == 201
    r = admin.patch(f"/events/{slug}", json_body={"waitlist_capacity": 1})
    assert_error(r, 409, "waitlist_capacity_below_waiting")
    assert r.json["error"]["message"].startswith("2 people are on the waiting list")
    assert admin.patch(f"/events/{slug}", json_body={"waitlist_capacity": 2}).status == 200
    assert db.value("SELECT waitlist_capacity FROM eventbox.events WHERE slug = %s", slug) == 2


def test_publish_unpublish_and_cancel_are_audited(admin, api, db):
    slug = admin.post("/events", json_body=new_event_body()).json["slug"]
    assert admin.post(f"/events/{slug}/publish").json["status"] == "published"
    assert api.get(f"/api/v1/events/{slug}").status == 200
    # Publishing twice is harmless (and not logged twice).
    assert admin.post(f"/events/{slug}/publish").status == 200
    assert admin.post(f"/events/{slug}/unpublish").json["status"] == "draft"
    assert api.get(f"/api/v1/events/{slug}").status == 404
    assert admin.post(f"/events/{slug}/cancel").json["status"] == "cancelled"
    assert_error(admin.post(f"/events/{slug}/publish"), 409, "event_cancelled")
    assert [a["action"] for a in audit(db, event_id(db, slug))] == [
        "event_created", "event_published", "event_unpublished", "event_cancelled"]
    assert_error(admin.post("/events/nothing-like-this/publish"), 404,
                 "event_not_found")


@pytest.mark.parametrize("column, value, field", [
    ("description", "Ding\x07", "description"),
    ("starts_at", "0099-06-01 10:00+00", "starts_at"),
    # The rules event_problem() did not word: these got the bare 409.
    ("categories", ["Talk\r\nATTENDEE:x"], "categories"),
    ("learning_outcomes", ["a", ""], "learning_outcomes"),
    ("hold_minutes", 0, "hold_minutes"),
    ("registrations_per_minute", 0, "registrations_per_minute"),
    ("image_path", "/static/../etc/passwd", "image_path"),
    ("image_alt", "x" * 501, "image_alt"),
    # The server's clock setting, which an older release took as a zone
    # (sql/029_event_time_zones.sql maps the others it took).
    ("timezone", "localtime", "timezone"),
])
def test_an_event_an_older_release_stored_is_not_published_without_naming_what_to_fix(
        admin, db, make_event, column, value, field):
    """A value today's row rules refuse (a control character in the
    description, a start in year 0099), taken before they did: publish and
    unpublish answered 409 conflict, "a limit or a rule of the event",
    naming neither.  They answer as PATCH does, 422 naming the field and
    what it must be, and change nothing; cancel still goes through."""
    draft = make_event(status="draft")
    published = make_event()
    for slug in (draft, published):
        stored_by_an_older_release(slug, column, value)
    patch = admin.patch(f"/events/{draft}", json_body={"title": "Renamed"})
    assert_error(patch, 422, "invalid_field", field)
    for slug, action, status in ((draft, "publish", "draft"),
                                 (published, "unpublish", "published")):
        r = admin.post(f"/events/{slug}/{action}")
        assert_error(r, 422, "invalid_field", field)
        assert r.json["error"]["message"] == patch.json["error"]["message"], r
        assert db.value("SELECT status FROM eventbox.events WHERE slug = %s",
                        slug) == status
    r = admin.post(f"/events/{published}/cancel")
    assert r.status == 200 and r.json["status"] == "cancelled", r


def test_a_cancelled_event_can_no_longer_be_changed(admin, api, db, make_event):
    """Its registrants were told it is off: a new time, place, link, capacity
    or form would change an event nobody can attend, and tell no one."""
    slug = make_event(capacity=5)
    assert admin.post(f"/events/{slug}/cancel").status == 200
    before = db.one("SELECT to_jsonb(e) - 'updated_at' FROM eventbox.events e"
                    " WHERE slug = %s", slug)
    logged = len(audit(db, event_id(db, slug)))
    for body in ({"starts_at": "2031-04-01T10:00:00", "ends_at": "2031-04-01T11:00:00"},
                 {"location": "Room 2", "format": "in_person"},
                 {"online_url": "https://meet.example.org/new"}, {"title": "Back on"},
                 {"capacity": 50}):
        assert_error(admin.patch(f"/events/{slug}", json_body=body), 409,
                     "event_cancelled")
    assert_error(admin.put(f"/events/{slug}/capacity", json_body={"capacity": 50}), 409,
                 "event_cancelled")
    r = admin.put(f"/events/{slug}/questions",
                  json_body={"questions": [{"template": "accommodation"}]})
    assert_error(r, 409, "event_cancelled")
    assert db.one("SELECT to_jsonb(e) - 'updated_at' FROM eventbox.events e"
                  " WHERE slug = %s", slug) == before
    assert len(audit(db, event_id(db, slug))) == logged
    assert_error(admin.patch("/events/no-such-event-here", json_body={"title": "x"}),
                 404, "event_not_found")


def test_cancelling_an_event_cancels_everyone_with_a_notice_each(admin, api, db,
                                                                 make_event):
    slug = make_event(capacity=2)
    people = [email("c") for _ in range(4)]
    for p in people:
        assert api.register(slug, "Patron", p).status == 201
    r = admin.post(f"/events/{slug}/cancel")
    assert r.status == 200 and r.json["registration_state"] == "cancelled", r
    assert db.summary(slug)["confirmed"] == 0
    assert db.summary(slug)["cancelled"] == 4
    notices = db.all("SELECT email FROM eventbox.outbox WHERE event_id = %s"
                     " AND kind = 'event_cancelled' ORDER BY id", event_id(db, slug))
    assert [n[0] for n in notices] == people
    row = audit(db, event_id(db, slug), action="event_cancelled")
    assert row[0]["details"] == {"registrations_affected": 4}
    assert_error(api.register(slug, "Late", email()), 403, "event_cancelled")


def test_the_staff_view_shows_registration_windows(admin, make_event, db):
    slug = make_event()
    db.all("UPDATE eventbox.events SET registration_opens_at = now() + interval '1 day'"
           " WHERE slug = %s", slug)
    assert admin.get(f"/events/{slug}").json["registration_state"] == "not_open"
    db.all("UPDATE eventbox.events SET registration_opens_at = now() - interval '2 days',"
           " registration_closes_at = now() - interval '1 day' WHERE slug = %s", slug)
    ev = admin.get(f"/events/{slug}").json
    assert ev["registration_state"] == "closed"
    assert ev["registration_opens_at"] is not None


# --- capacity -------------------------------------------------------------------

def test_lowering_capacity_below_confirmed_is_409_and_bumps_nobody(admin, api, db,
                                                                   make_event):
    slug = make_event(capacity=3)
    for _ in range(3):
        api.register(slug, "Patron", email())
    r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 2})
    assert_error(r, 409, "capacity_below_confirmed")
    assert "3 seats are taken" in r.json["error"]["message"]
    assert db.summary(slug)["capacity"] == 3 and db.summary(slug)["confirmed"] == 3
    assert audit(db, event_id(db, slug), action="capacity_set") == []
    # The same rule through PATCH.
    assert_error(admin.patch(f"/events/{slug}", json_body={"capacity": 1}), 409,
                 "capacity_below_confirmed")


def test_one_seat_taken_is_said_in_the_singular_in_both_languages(admin, api, db,
                                                                  make_event):
    """The API said "1 seats are taken", and save_event() (PATCH) "1 seats
    are taken" and "1 people are on the waiting list"."""
    slug = make_event(capacity=1)
    api.register(slug, "Patron", email())
    api.register(slug, "Waiting", email())
    r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 0})
    assert r.json["error"]["message"].startswith("1 seat is taken: "), r.json
    r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 0},
                  headers={"Accept-Language": "es"})
    assert r.json["error"]["message"].startswith("1 lugar está ocupado: "), r.json
    r = admin.patch(f"/events/{slug}", json_body={"capacity": 0})
    assert r.json["error"]["message"].startswith("1 seat is taken; "), r.json
    r = admin.patch(f"/events/{slug}", json_body={"waitlist_capacity": 0})
    assert r.json["error"]["message"].startswith("1 person is on the waiting list; "), r.json


@pytest.mark.parametrize("body", [{}, {"capacity": -1}, {"capacity": 1.5},
                                  {"capacity": "5"}, {"capacity": None},
                                  {"capacity": 10 ** 12}])
def test_a_bad_capacity_is_422(admin, make_event, body):
    slug = make_event()
    assert_error(admin.put(f"/events/{slug}/capacity", json_body=body), 422,
                 "invalid_field", "capacity")


@pytest.mark.parametrize("number", ["1e-400", "-1e-400", "1.0000000000000000001",
                                    "0.99999999999999999999", "1000000.0000000000001",
                                    "1e400", "1.5"])
def test_a_capacity_that_is_not_exactly_a_whole_number_is_422_naming_it(
        admin, db, make_event, number):
    """strtod, under cJSON, reads 1e-400 as 0 and 1.0000000000000000001 as
    1: PUT capacity set a capacity of 0 (or 1) for a number that is
    neither.  PATCH, which PostgreSQL reads exactly, refused them."""
    slug = make_event(capacity=7)
    json_type = {"Content-Type": "application/json"}
    body = b'{"capacity": %s}' % number.encode()
    for r in (admin.put(f"/events/{slug}/capacity", headers=json_type, body=body),
              admin.patch(f"/events/{slug}", headers=json_type, body=body)):
        assert_error(r, 422, "invalid_field", "capacity")
        assert r.json["error"]["message"].startswith("capacity: "), r
    assert db.value("SELECT capacity FROM eventbox.events WHERE slug = %s", slug) == 7
    for number in (b"-0.0", b"7.000", b"0.7e1"):      # whole numbers, exactly
        r = admin.put(f"/events/{slug}/capacity", headers=json_type,
                      body=b'{"capacity": %s}' % number)
        assert r.status == 200 and r.json["capacity"] == float(number), r
        admin.put(f"/events/{slug}/capacity", json_body={"capacity": 7})


def test_capacity_names_its_range_and_takes_no_other_field(admin, api, db, make_event):
    slug = make_event(capacity=10)
    r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 10 ** 7})
    assert_error(r, 422, "invalid_field", "capacity")
    assert r.json["error"]["message"] == "capacity: must be a whole number from 0 to 1000000"
    for n in (-1, 1000001, None):        # at psql, the same range
        assert db.value("SELECT outcome FROM eventbox.set_capacity(%s, %s)", slug, n) \
            == "invalid_capacity", n
    r = admin.patch(f"/events/{slug}", json_body={"capacity": 1000001})
    assert_error(r, 422, "invalid_field", "capacity")
    assert r.json["error"]["message"] == "capacity: must be a whole number from 0 to 1000000"
    r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 2, "x": 1})
    assert_error(r, 422, "invalid_field", "x")
    assert api.get(f"/api/v1/events/{slug}").json["capacity"] == 10
    r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 12})
    assert r.status == 200 and r.json["capacity"] == 12, r


def test_a_capacity_given_twice_is_422_and_changes_nothing(admin, api, make_event):
    """{"capacity": 5, "capacity": 500}: one parser reads 5, another 500."""
    slug = make_event(capacity=10)
    r = admin.put(f"/events/{slug}/capacity", body=b'{"capacity": 5, "capacity": 500}',
                  headers={"Content-Type": "application/json"})
    assert_error(r, 422, "invalid_field", "capacity")
    assert api.get(f"/api/v1/events/{slug}").json["capacity"] == 10


def test_capacity_of_an_unknown_event_is_404(admin):
    assert_error(admin.put("/events/no-such-thing-x/capacity",
                           json_body={"capacity": 3}), 404, "event_not_found")


def test_raising_capacity_100_to_110_with_30_waiting_promotes_the_10_oldest(
        admin, api, db, make_event):
    """In one transaction, while registrations keep arriving."""
    slug = make_event(capacity=100)
    tag = uuid.uuid4().hex[:8]
    db.all("SELECT eventbox.register(%s, 'Patron ' || n, 'w' || n || '-' || %s"
           " || '@example.org', NULL, 'api') FROM generate_series(1, 130) n",
           slug, tag)
    assert db.summary(slug)["waitlisted"] == 30
    waiting = [r[0] for r in db.all(
        "SELECT id FROM eventbox.registrations WHERE event_id = %s"
        " AND status = 'waitlisted' ORDER BY id", event_id(db, slug))]

    stop = threading.Event()
    answers = []

    def keep_registering(i):
        n = 0
        while not stop.is_set() and n < 40:
            r = api.register(slug, "Latecomer", f"late{i}-{n}-{tag}@example.org")
            answers.append(r.status)
            n += 1
    threads = [threading.Thread(target=keep_registering, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 110})
    stop.set()
    for t in threads:
        t.join()

    assert r.status == 200, r
    assert r.json == {"capacity": 110, "confirmed": 110, "promoted": 10}
    assert set(answers) == {201}
    promoted = db.all("SELECT id, promoted_at FROM eventbox.registrations"
                      " WHERE event_id = %s AND promoted_at IS NOT NULL ORDER BY id",
                      event_id(db, slug))
    assert [p[0] for p in promoted] == waiting[:10]
    # now() is the transaction's start: one timestamp, one transaction.
    assert len({p[1] for p in promoted}) == 1
    mails = db.all("SELECT registration_id FROM eventbox.outbox WHERE event_id = %s"
                   " AND kind = 'promoted' ORDER BY registration_id", event_id(db, slug))
    assert [m[0] for m in mails] == waiting[:10]
    s = db.summary(slug)
    assert s["confirmed"] == 110 and s["waitlisted"] == 20 + len(answers)
    # Nobody who arrived during the change jumped the queue.
    assert db.value("SELECT count(*) FROM eventbox.registrations WHERE event_id = %s"
                    " AND status = 'confirmed' AND email LIKE 'late%%'",
                    event_id(db, slug)) == 0
    row = audit(db, event_id(db, slug), action="capacity_set")
    assert row[0]["actor"] == admin.name
    assert row[0]["details"] == {"from": 100, "to": 110, "promoted": 10}


# --- roster ---------------------------------------------------------------------

def test_the_roster_pages_confirmed_then_waiting_in_order(admin, api, make_event):
    slug = make_event(capacity=2)
    people = [email("r") for _ in range(5)]
    for p in people:
        api.register(slug, "Patron", p)
    r = admin.get(f"/events/{slug}/registrations?per_page=2")
    assert r.status == 200 and r.header("Cache-Control") == "no-store", r
    assert r.json["total"] == 5 and len(r.json["registrations"]) == 2
    seen = []
    for page in (1, 2, 3, 4):
        body = admin.get(f"/events/{slug}/registrations?per_page=2&page={page}").json
        assert body["total"] == 5
        seen += body["registrations"]
    assert [s["email"] for s in seen] == people
    assert [s["status"] for s in seen] == ["confirmed"] * 2 + ["waitlisted"] * 3
    assert [s["position"] for s in seen] == [None, None, 1, 2, 3]
    waiting = admin.get(f"/events/{slug}/registrations?status=waitlisted").json
    assert [w["email"] for w in waiting["registrations"]] == people[2:]
    assert_error(admin.get(f"/events/{slug}/registrations?status=gone"), 400,
                 "invalid_query")
    assert_error(admin.get(f"/events/{slug}/registrations?per_page=0"), 400,
                 "invalid_query")
    assert_error(admin.get("/events/not-an-event-x/registrations"), 404,
                 "event_not_found")
    empty = make_event()
    assert admin.get(f"/events/{empty}/registrations").json["total"] == 0


def test_paging_the_roster_while_people_register_skips_and_repeats_nobody(
        admin, api, db, make_event):
    """A script pages through the roster while registrations arrive (and
    one is cancelled): every registration is read once.  Grouped by status,
    a newcomer went in before the cancelled rows already read: the last of
    them came again on the next page and the newcomer never came."""
    slug = make_event(capacity=10)
    addrs = [email("pg") for _ in range(3)]
    for a in addrs:
        assert api.register(slug, "Patron", a).status == 201
    first = db.value("SELECT r.id FROM eventbox.registrations r WHERE r.email = %s",
                     addrs[0])
    assert admin.delete(f"/registrations/{first}").status == 200
    late = email("pg")
    seen = []
    for page in range(1, 10):
        r = admin.get(f"/events/{slug}/registrations?per_page=1&page={page}")
        assert r.status == 200, r
        rows = r.json["registrations"]
        if not rows:
            break
        seen += [x["id"] for x in rows]
        if page == 3:       # all three read: somebody registers now
            assert api.register(slug, "Late", late).status == 201
    everyone = db.all("SELECT r.id FROM eventbox.registrations r JOIN eventbox.events e"
                      " ON e.id = r.event_id WHERE e.slug = %s ORDER BY r.id", slug)
    assert sorted(seen) == [x[0] for x in everyone] and len(everyone) == 4, seen
    # The CSV, paged the same way, is in the same order.
    csv_ids = []
    for page in (1, 2, 3, 4):
        text = admin.get(f"/events/{slug}/registrations.csv?per_page=1&page={page}"
                         ).body.decode("utf-8-sig")
        csv_ids += [int(row[0]) for row in list(csv.reader(io.StringIO(text)))[1:]]
    assert csv_ids == seen


def test_the_csv_roster_opens_in_a_spreadsheet(admin, api, db, make_event):
    slug = make_event(capacity=3)
    nasty = ["=HYPERLINK(\"http://x.example\",\"click\")", "+1+2", "-3+4",
             "@SUM(A1)", "Comma, \"Quote\" Person", "Zoë Ångström"]
    addrs = [email("csv") for _ in nasty]
    for name, addr in zip(nasty, addrs):
        if "://" in name or "@" in name:
            # The service takes no link or address in a name (validate.c's
            # name_plain()); staff at psql can still type one.
            assert db.value("SELECT outcome FROM eventbox.register(%s, %s, %s)",
                            slug, name, addr) in ("confirmed", "waitlisted")
        else:
            assert api.register(slug, name, addr).status == 201
    r = admin.get(f"/events/{slug}/registrations.csv")
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/csv; charset=utf-8"
    assert r.header("Content-Disposition") == (
        f'attachment; filename="{slug}-registrations.csv"')
    assert r.body.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in r.body and b"\n" not in r.body.replace(b"\r\n", b"")
    rows = list(csv.reader(io.StringIO(r.body.decode("utf-8-sig"), newline="")))
    assert rows[0][:7] == ["registration", "name", "email", "member library",
                           "member", "status", "waiting position"]
    assert len(rows) == 1 + len(nasty)
    by_email = {row[2]: row for row in rows[1:]}
    for name, addr in zip(nasty, addrs):
        cell = by_email[addr][1]
        if name[0] in "=+-@":
            assert cell == "'" + name
        else:
            assert cell == name
    # No cell at all starts with a formula character.
    assert not [c for row in rows for c in row if c[:1] in ("=", "+", "-", "@")]
    statuses = [row[5] for row in rows[1:]]
    assert statuses == ["confirmed"] * 3 + ["waitlisted"] * 3
    assert [row[6] for row in rows[1:]] == ["", "", "", "1", "2", "3"]


def test_the_csv_roster_says_which_places_are_held(admin, api, db, make_event):
    """A place held for its address reads "confirmed" or "waitlisted" in
    status, as in the JSON roster: the hold and held-until columns (after
    the old ones, which keep their positions) say it does not count yet,
    and tell a lapsed hold from a cancellation."""
    slug = make_event(capacity=2, confirmation_required=True)
    held, kept, lapsed, gone = (email("hold") for _ in range(4))
    for a in (held, kept, lapsed, gone):
        assert api.register(slug, "H", a).status == 202
    tok = db.tokens(kept, "confirm_address")[-1]
    assert api.post(f"/api/v1/registrations/{tok}/confirm").status == 200
    db.all("UPDATE eventbox.registrations SET held_until = now() - interval '1 second'"
           " WHERE email = %s", lapsed)
    assert db.value("SELECT eventbox.expire_holds(%s)", slug) == 1
    tok = db.tokens(gone, "confirm_address")[-1]
    assert api.delete(f"/api/v1/registrations/{tok}").status == 200
    desk = email("desk")
    assert admin.post(f"/events/{slug}/registrations",
                      json_body={"name": "Desk", "email": desk}).status == 201
    body = admin.get(f"/events/{slug}/registrations.csv").body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[0] == ["registration", "name", "email", "member library", "member",
                       "status", "waiting position", "registered (UTC)",
                       "confirmed (UTC)", "cancelled (UTC)", "attended",
                       "checked in (UTC)", "answers", "hold", "held until (UTC)"]
    by_email = {row[2]: (row[5], row[13], row[14]) for row in rows[1:]}
    until = by_email[held][2]
    assert by_email == {held: ("confirmed", "held", until),
                        kept: ("confirmed", "confirmed", ""),
                        lapsed: ("cancelled", "expired", ""),
                        gone: ("cancelled", "", ""),
                        desk: ("waitlisted", "", "")}, by_email
    # The same as the JSON roster says.
    js = {r["email"]: (r["status"], r["hold"] or "", r["held_until"] or "")
          for r in admin.get(f"/events/{slug}/registrations").json["registrations"]}
    assert js == by_email and until.endswith("Z"), js


def test_an_email_that_looks_like_a_formula_is_neutralised_too(admin, api,
                                                               make_event):
    slug = make_event()
    addr = "=cmd-" + uuid.uuid4().hex[:6] + "@example.org"
    assert api.register(slug, "Plain Name", addr).status == 201
    body = admin.get(f"/events/{slug}/registrations.csv").body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[1][2] == "'" + addr


def test_no_formula_starts_a_cell_where_the_list_separator_is_a_semicolon(
        admin, api, make_event):
    """Excel where the decimal separator is a comma (Spain, most of Europe
    and Latin America) opens a .csv splitting each line at ';' alone, and
    honours a quote only at the start of such a field: "Ann;=1+1;" was
    written bare and opened as a formula cell =1+1, and so did a long
    answer's line after a line break.  Read as that Excel reads it."""
    slug = make_event(capacity=10)
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": [
        {"kind": "long_text", "label": "Anything else?"}]})
    assert r.status == 200, r
    q = str(r.json["questions"][0]["id"])
    names = {"Ann;=1+1;": "Ann;'=1+1;", "Bob;+1+2;": "Bob;'+1+2;",
             "Cy;-3+4": "Cy;'-3+4", "Ed, Jr.;=2+2;x": "Ed, Jr.;'=2+2;x",
             "Flo; =5": "Flo; =5", "Gil;;": "Gil;;", 'Hal;"=6;': 'Hal;\'"=6;',
             'Ida;"Di"': 'Ida;"Di"'}
    answer = "none\n=3+3;\n+4;\t-5;@SUM(1)"
    addrs = {name: email("semi") for name in names}
    for name, addr in addrs.items():
        r = api.post(f"/api/v1/events/{slug}/registrations", json_body={
            "name": name, "email": addr, "answers": {q: answer}})
        assert r.status == 201, r
    body = admin.get(f"/events/{slug}/registrations.csv").body.decode("utf-8-sig")
    semi = list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))
    assert not [c for row in semi for c in row if c[:1] in ("=", "+", "-", "@")], semi
    # Read with commas, each name and answer is still there to read,
    # marked where a formula was.
    rows = list(csv.reader(io.StringIO(body, newline="")))
    by_email = {row[2]: row for row in rows[1:]}
    for name, addr in addrs.items():
        assert by_email[addr][1] == names[name]
        assert by_email[addr][12] == (
            "Anything else?: none\n'=3+3;\n'+4;\t'-5;'@SUM(1)"), by_email[addr]


# --- registrations by staff -----------------------------------------------------

def test_staff_enter_a_registration_which_is_audited(admin, db, make_event):
    slug = make_event(capacity=1)
    a, b = email("desk"), email("desk")
    r = admin.post(f"/events/{slug}/registrations",
                   json_body={"name": "By Phone", "email": a})
    assert r.status == 201 and r.json["status"] == "confirmed", r
    r2 = admin.post(f"/events/{slug}/registrations",
                    json_body={"name": "Also Phone", "email": b})
    assert r2.json["status"] == "waitlisted" and r2.json["position"] == 1
    assert db.value("SELECT source FROM eventbox.registrations WHERE id = %s",
                    r.json["id"]) == "staff"
    rows = audit(db, event_id(db, slug), action="registration_entered")
    assert [x["registration_id"] for x in rows] == [r.json["id"], r2.json["id"]]
    assert all(x["actor"] == admin.name for x in rows)
    # The audit log refers to the registration; it does not copy the address.
    assert all(a not in str(x["details"]) for x in rows)
    assert_error(admin.post(f"/events/{slug}/registrations",
                            json_body={"name": "", "email": a}),
                 422, "invalid_field", "name")


def test_staff_are_told_a_full_event_without_a_waiting_list_is_just_full(
        admin, make_event):
    none = make_event(capacity=1, waitlist=False)
    closed = make_event(capacity=1, waitlist_capacity=0)
    for slug, message in ((none, "this event is full"),
                          (closed, "this event is full and its waiting list"
                                   " is closed")):
        for who in ("first", "second"):
            r = admin.post(f"/events/{slug}/registrations",
                           json_body={"name": "By Phone", "email": email(who)})
        assert r.status == 409 and r.json["error"] == {
            "code": "event_full", "message": message}, r


def test_members_only_events_refuse_other_domains_but_staff_may_enter_anyone(
        admin, api, db, make_event):
    dom = "lib" + uuid.uuid4().hex[:6] + ".example.org"
    db.all("INSERT INTO eventbox.organizations (name, domains) VALUES (%s, %s)",
           "Library " + dom, [dom])
    slug = make_event(members_only=True)
    r = api.register(slug, "Outsider", email("out", "gmail.example.com"))
    assert_error(r, 403, "not_eligible")
    assert "member libraries" in r.json["error"]["message"]
    assert "library email" in r.json["error"]["message"]
    # Eligible addresses are held until they confirm (tests/test_holds.py).
    assert api.register(slug, "Member", email("m", dom)).status == 202
    assert api.register(slug, "Branch", email("m", "branch." + dom)).status == 202
    staff = admin.post(f"/events/{slug}/registrations", json_body={
        "name": "Guest Speaker", "email": email("guest", "gmail.example.com")})
    assert staff.status == 201, staff
    roster = admin.get(f"/events/{slug}/registrations").json["registrations"]
    assert [(x["library"], x["member"]) for x in roster] == [
        ("Library " + dom, True), ("Library " + dom, True), (None, False)]
    # An open event records the member library too.
    open_slug = make_event()
    api.register(open_slug, "Member", email("m", dom), extra={"organization": "typed"})
    row = admin.get(f"/events/{open_slug}/registrations").json["registrations"][0]
    assert row["library"] == "Library " + dom and row["member"] is True


def test_the_registration_form_says_so_too_on_a_members_only_event(api, db,
                                                                   make_event):
    from test_pages import Patron
    dom = "lib" + uuid.uuid4().hex[:6] + ".example.org"
    db.all("INSERT INTO eventbox.organizations (name, domains) VALUES (%s, %s)",
           "Library " + dom, [dom])
    slug = make_event(members_only=True)
    r = Patron(api).register(slug, email=email("out", "gmail.example.com"))
    assert r.status == 403, r
    assert "Enter the email address your library gave you: this event is for member" \
        " libraries" in r.text
    assert 'aria-invalid="true"' in r.text.split('id="email"')[1].split(">")[0]
    member = email("in", dom)
    assert Patron(api).register(slug, email=member).status == 200
    assert db.value("SELECT status FROM eventbox.registrations WHERE email = %s",
                    member) == "confirmed"


def test_staff_cancel_for_a_patron_frees_the_seat_for_the_next(admin, api, db,
                                                               make_event):
    slug = make_event(capacity=1)
    first, second = email("x"), email("y")
    api.register(slug, "First", first)
    api.register(slug, "Second", second)
    reg = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", first)
    r = admin.delete(f"/registrations/{reg}")
    assert r.status == 200 and r.json == {"id": reg, "outcome": "cancelled",
                                          "promoted": 1}, r
    assert db.value("SELECT status FROM eventbox.registrations WHERE email = %s",
                    second) == "confirmed"
    again = admin.delete(f"/registrations/{reg}")
    assert again.json["outcome"] == "already_cancelled"
    rows = audit(db, registration_id=reg)
    assert [(x["action"], x["actor"]) for x in rows] == [
        ("registration_cancelled", admin.name)]
    assert_error(admin.delete("/registrations/999999999"), 404,
                 "registration_not_found")
    assert_error(admin.delete("/registrations/abc"), 404, "registration_not_found")


def test_taking_someone_off_the_waiting_list(admin, api, db, make_event):
    slug = make_event(capacity=1)
    addrs = [email("w") for _ in range(3)]
    for a in addrs:
        api.register(slug, "Patron", a)
    middle = db.value("SELECT id FROM eventbox.registrations WHERE email = %s",
                      addrs[1])
    assert admin.delete(f"/registrations/{middle}").json["outcome"] == "cancelled"
    waiting = admin.get(f"/events/{slug}/registrations?status=waitlisted").json
    assert [(w["email"], w["position"]) for w in waiting["registrations"]] == [
        (addrs[2], 1)]


def test_promoting_one_person_ahead_of_the_queue_needs_a_free_seat(admin, api, db,
                                                                   make_event):
    slug = make_event(capacity=1)
    a, b, c = email("a"), email("b"), email("c")
    for x in (a, b, c):
        api.register(slug, "Patron", x)
    ids = {x: db.value("SELECT id FROM eventbox.registrations WHERE email = %s", x)
           for x in (a, b, c)}
    assert_error(admin.post(f"/registrations/{ids[c]}/promote"), 409, "no_seat_free")
    assert_error(admin.post(f"/registrations/{ids[a]}/promote"), 409, "not_waitlisted")
    # Unpublished, a freed seat stays free: staff choose who gets it.
    admin.post(f"/events/{slug}/unpublish")
    admin.delete(f"/registrations/{ids[a]}")
    r = admin.post(f"/registrations/{ids[c]}/promote")
    assert r.status == 200 and r.json["outcome"] == "promoted", r
    assert db.value("SELECT status FROM eventbox.registrations WHERE id = %s",
                    ids[c]) == "confirmed"
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE registration_id = %s"
                    " AND kind = 'promoted' AND token IS NOT NULL", ids[c]) == 1
    assert audit(db, registration_id=ids[c])[0]["action"] == "registration_promoted"
    assert_error(admin.post("/registrations/424242424/promote"), 404,
                 "registration_not_found")


def test_check_in_marks_attendance_and_can_be_taken_back(admin, api, db, make_event):
    slug = make_event(capacity=1)
    a, b = email("in"), email("wait")
    api.register(slug, "Attendee", a)
    api.register(slug, "Waiting", b)
    ra = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", a)
    rb = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", b)
    r = admin.post(f"/registrations/{ra}/check-in")
    assert r.status == 200 and r.json == {"id": ra, "outcome": "checked_in",
                                          "attended": True}, r
    assert admin.post(f"/registrations/{ra}/check-in").json["outcome"] == "unchanged"
    assert admin.get(f"/events/{slug}").json["attended"] == 1
    roster = admin.get(f"/events/{slug}/registrations").json["registrations"]
    assert roster[0]["attended"] is True and roster[0]["attended_at"]
    assert_error(admin.post(f"/registrations/{rb}/check-in"), 409, "not_confirmed")
    assert admin.delete(f"/registrations/{ra}/check-in").json["outcome"] == "unchecked"
    assert admin.get(f"/events/{slug}").json["attended"] == 0
    assert [x["action"] for x in audit(db, registration_id=ra)] == [
        "registration_checked_in", "registration_unchecked"]


def test_a_roster_poller_asks_if_none_match_and_gets_304_until_it_changes(
        admin, db, make_event):
    slug = make_event()
    staff_register(db, slug, "Ada", email("ada"))
    tags = {}
    for path in (f"/events/{slug}/registrations", f"/events/{slug}/registrations.csv",
                 f"/events/{slug}"):
        r = admin.get(path)
        tag = tags[path] = r.header("ETag")
        assert r.status == 200 and tag and tag.startswith('"'), r
        assert r.header("Cache-Control") == "no-store", r
        again = admin.get(path, headers={"If-None-Match": tag})
        assert again.status == 304 and again.header("ETag") == tag, again
        assert again.body == b"", again
    staff_register(db, slug, "Grace", email("grace"))
    tag = tags[f"/events/{slug}/registrations"]
    r = admin.get(f"/events/{slug}/registrations", headers={"If-None-Match": tag})
    assert r.status == 200 and len(r.json["registrations"]) == 2, r
    assert r.header("ETag") != tag
    # Errors carry none: a 404 is never "not modified".
    r = admin.get("/events/no-such-event-here", headers={"If-None-Match": tag})
    assert r.status == 404 and r.header("ETag") is None, r


# --- correcting a registration, sending its email again ----------------------------

def outbox_kinds(db, reg):
    return [r[0] for r in db.all("SELECT kind FROM eventbox.outbox"
                                 " WHERE registration_id = %s ORDER BY id", reg)]


def test_a_correction_of_an_unknown_registration_is_404_whatever_the_body(admin):
    for body in ('{"nope": 1}', "[]", "not json"):
        r = admin.patch("/registrations/999999999999", body=body,
                        headers={"Content-Type": "application/json"})
        assert_error(r, 404, "registration_not_found")
    assert_error(admin.post("/registrations/999999999999/resend"), 404,
                 "registration_not_found")


def test_a_correction_takes_only_name_email_and_organization_checked_as_registering(
        admin, db, make_event):
    slug = make_event()
    reg = staff_register(db, slug, "Ann Typo", email())
    for body, field in (({"phone": "555"}, "phone"), ({"email": "ann"}, "email"),
                        ({"email": None}, "email"), ({"name": ""}, "name"),
                        ({"name": 7}, "name"), ({"organization": "a\nb"}, "organization"),
                        ({"email": "jos\u00e9@example.org"}, "email")):
        assert_error(admin.patch(f"/registrations/{reg}", json_body=body), 422,
                     "invalid_field", field)
    assert outbox_kinds(db, reg) == ["confirmed"]
    assert audit(db, registration_id=reg, action="registration_corrected") == []
    # The body as stored: nothing written, logged or sent.
    r = admin.patch(f"/registrations/{reg}", json_body={"name": "Ann Typo"})
    assert (r.status, r.json["outcome"], r.json["mailed"]) == (200, "unchanged", None)
    # A name and a library alone: corrected, sent nothing.
    r = admin.patch(f"/registrations/{reg}", json_body={"name": " Ann Tipo ",
                                                        "organization": "Springfield"})
    assert (r.status, r.json["outcome"], r.json["mailed"]) == (200, "corrected", None)
    assert (r.json["name"], r.json["organization"]) == ("Ann Tipo", "Springfield")
    assert outbox_kinds(db, reg) == ["confirmed"]
    r = admin.patch(f"/registrations/{reg}", json_body={"organization": None},
                    headers={"Content-Type": "application/merge-patch+json"})
    assert (r.status, r.json["organization"]) == (200, None), r
    # An international domain is stored as it is mailed, as a patron's.
    r = admin.patch(f"/registrations/{reg}",
                    json_body={"email": "ann@B\u00fccherei.de"})
    assert (r.status, r.json["email"], r.json["mailed"]) == (
        200, "ann@xn--bcherei-n2a.de", "confirmed"), r
    assert outbox_kinds(db, reg) == ["confirmed", "confirmed"]


def test_a_correction_to_an_address_the_event_has_is_409_and_changes_nothing(
        admin, db, make_event):
    slug = make_event()
    taken = email()
    staff_register(db, slug, "Bea Taken", taken)
    reg = staff_register(db, slug, "Ann Typo", email())
    r = admin.patch(f"/registrations/{reg}", json_body={"email": taken.upper()})
    assert_error(r, 409, "already_registered", "email")
    assert db.value("SELECT email FROM eventbox.registrations WHERE id = %s", reg) != taken
    # The same address in other letters is no new address: nothing is sent.
    mine = db.value("SELECT email FROM eventbox.registrations WHERE id = %s", reg)
    r = admin.patch(f"/registrations/{reg}", json_body={"email": mine.upper()})
    assert (r.status, r.json["outcome"], r.json["mailed"]) == (200, "corrected", None), r
    assert outbox_kinds(db, reg) == ["confirmed"]


def test_a_cancelled_registration_or_an_ended_event_is_not_corrected_nor_resent(
        admin, api, db, make_event):
    slug = make_event()
    reg = staff_register(db, slug, "Ann Gone", email())
    assert admin.delete(f"/registrations/{reg}").status == 200
    assert_error(admin.patch(f"/registrations/{reg}", json_body={"email": email()}),
                 409, "registration_cancelled")
    assert_error(admin.post(f"/registrations/{reg}/resend"), 409,
                 "registration_cancelled")
    # Its event cancelled: "register the patron again" would be no answer.
    gone = make_event()
    reg = staff_register(db, gone, "Ann Called Off", email())
    assert admin.post(f"/events/{gone}/cancel").status == 200
    assert_error(admin.patch(f"/registrations/{reg}", json_body={"name": "Ann"}),
                 409, "event_cancelled")
    assert_error(admin.post(f"/registrations/{reg}/resend"), 409, "event_cancelled")
    past = make_event(starts_in="1 hour")
    reg = staff_register(db, past, "Ann Past", email())
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '2 hours',"
           " ends_at = now() - interval '1 hour' WHERE slug = %s", past)
    assert_error(admin.patch(f"/registrations/{reg}", json_body={"name": "Ann"}),
                 409, "event_ended")
    assert_error(admin.post(f"/registrations/{reg}/resend"), 409, "event_ended")
    assert audit(db, registration_id=reg, action="registration_corrected") == []


def test_a_held_place_whose_hold_lapsed_is_released_not_corrected_nor_resent(
        admin, api, db, make_event):
    """A request to confirm mailed for a place whose hold has ended could
    never be confirmed: the hold is released (the registration cancelled,
    its seat to the next in line) and the correction or resend refused."""
    slug = make_event(confirmation_required=True, hold_minutes=600)
    held = email("lapsed")
    assert api.register(slug, "Hal Lapsed", held).status == 202
    reg = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", held)
    db.all("UPDATE eventbox.registrations SET held_until = now() - interval '1 minute'"
           " WHERE id = %s", reg)
    assert_error(admin.post(f"/registrations/{reg}/resend"), 409, "registration_cancelled")
    assert_error(admin.patch(f"/registrations/{reg}", json_body={"email": email()}),
                 409, "registration_cancelled")
    assert db.one("SELECT status, hold_expired_at IS NOT NULL FROM eventbox.registrations"
                  " WHERE id = %s", reg) == ("cancelled", True)
    assert outbox_kinds(db, reg) == ["confirm_address"]


def test_a_correction_answers_any_body_or_id_with_a_4xx_and_changes_nothing(
        admin, api, db, make_event):
    """The edges of PATCH and .../resend: an id spelled otherwise or too big
    is the 404 of an unknown one; a body that is no object, names a field
    twice, is null for a required field or too long for one is a 4xx that
    says so; {} is unchanged; no key or a LibCal client's token is refused.
    Nothing is written, logged or sent by any of them."""
    slug = make_event()
    addr = email()
    reg = staff_register(db, slug, "Ann Edge", addr)
    for rid in (f"0{reg}", "99999999999999999999", f"{reg}.0", f"+{reg}", "-1"):
        assert_error(admin.patch(f"/registrations/{rid}", json_body={"name": "X"}),
                     404, "registration_not_found")
        assert_error(admin.post(f"/registrations/{rid}/resend"), 404,
                     "registration_not_found")
    json_type = {"Content-Type": "application/json"}
    for body, status, code in (("[]", 422, "invalid_body"), ("5", 422, "invalid_body"),
                               ('"x"', 422, "invalid_body"), ("null", 422, "invalid_body"),
                               ('{"name": "A"', 400, "invalid_json"), ("", 400, "empty_body")):
        assert_error(admin.patch(f"/registrations/{reg}", body=body, headers=json_type),
                     status, code)
    assert_error(admin.patch(f"/registrations/{reg}", body='{"name": "A", "name": "B"}',
                             headers=json_type), 422, "invalid_field", "name")
    for body, field in (({"name": None}, "name"), ({"email": None}, "email"),
                        ({"name": "A" * 201}, "name"), ({"email": "a" * 300 + "@x.org"}, "email"),
                        ({"organization": "L" * 201}, "organization"),
                        ({"email": ["a@example.org"]}, "email"), ({"name": {}}, "name")):
        assert_error(admin.patch(f"/registrations/{reg}", json_body=body), 422,
                     "invalid_field", field)
    r = admin.patch(f"/registrations/{reg}", body="{}", headers=json_type)
    assert (r.status, r.json["outcome"], r.json["email"]) == (200, "unchanged", addr), r
    assert admin.patch(f"/registrations/{reg}", body="x" * 70000,
                       headers=json_type).status == 413
    assert admin.patch(f"/registrations/{reg}", body='{"name": "A"}',
                       headers={"Content-Type": "text/plain"}).status == 415
    for headers in ({}, {"Authorization": "Bearer ebk_" + "0" * 43}):
        r = api.request("PATCH", f"{ADMIN}/registrations/{reg}", json_body={"name": "X"},
                        headers=headers)
        assert r.status == 401, r
    assert db.one("SELECT name, email FROM eventbox.registrations WHERE id = %s",
                  reg) == ("Ann Edge", addr)
    assert outbox_kinds(db, reg) == ["confirmed"]
    assert audit(db, registration_id=reg, action="registration_corrected") == []


def links_of(db, reg):
    return db.value("SELECT count(*) FROM eventbox.tokens WHERE registration_id = %s", reg)


def test_a_drafts_registration_is_corrected_mailing_nothing_and_resent_once_published(
        admin, db, make_event):
    """A draft is not public: nobody registers for it, no reminder goes out
    for it, no email carries its online link, and its page is a 404.  A
    correction of an address while staff had the event back as a draft
    mailed the new address its confirmation all the same (with an event
    page that is a 404), and a resend did too.  Now the correction is made
    and revokes the old address's links, and nothing is queued (mailed
    null); a resend is 409 event_not_published until the event is
    published again, and then sends the email."""
    slug = make_event()
    reg = staff_register(db, slug, "Ann Typo", email())
    assert links_of(db, reg) == 1
    assert admin.post(f"/events/{slug}/unpublish").status == 200
    right = email("right")
    r = admin.patch(f"/registrations/{reg}", json_body={"email": right})
    assert (r.status, r.json["outcome"], r.json["email"], r.json["mailed"]) == (
        200, "corrected", right, None), r
    assert outbox_kinds(db, reg) == ["confirmed"]
    assert links_of(db, reg) == 0       # the mistyped address's link is dead
    (entry,) = audit(db, registration_id=reg, action="registration_corrected")
    assert entry["details"]["mailed"] is None
    assert_error(admin.post(f"/registrations/{reg}/resend"), 409, "event_not_published")
    assert outbox_kinds(db, reg) == ["confirmed"]
    assert audit(db, registration_id=reg, action="confirmation_resent") == []
    assert admin.post(f"/events/{slug}/publish").status == 200
    r = admin.post(f"/registrations/{reg}/resend")
    assert (r.status, r.json["outcome"], r.json["mailed"]) == (200, "queued", "confirmed"), r
    assert outbox_kinds(db, reg) == ["confirmed", "confirmed"]
    assert db.value("SELECT email FROM eventbox.outbox WHERE registration_id = %s"
                    " ORDER BY id DESC LIMIT 1", reg) == right


def test_a_waiting_place_once_the_event_began_is_corrected_but_not_promised_a_seat(
        admin, db, make_event):
    """Nobody moves up from the waiting list once the event has begun.  A
    waiting patron's address corrected after the start was mailed the
    waiting-list email, which says they will be told when a seat opens;
    a resend too.  Now the correction mails nothing (mailed null) and a
    resend is 409 event_started.  A seat's confirmation still goes out
    during the event (it carries the online link)."""
    slug = make_event(capacity=1, starts_in="1 hour")
    seated = staff_register(db, slug, "Sam Seated", email())
    waiting = staff_register(db, slug, "Wes Waiting", email())
    assert db.value("SELECT status FROM eventbox.registrations WHERE id = %s",
                    waiting) == "waitlisted"
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '10 minutes',"
           " ends_at = now() + interval '1 hour' WHERE slug = %s", slug)
    r = admin.patch(f"/registrations/{waiting}", json_body={"email": email("right")})
    assert (r.status, r.json["outcome"], r.json["status"], r.json["mailed"]) == (
        200, "corrected", "waitlisted", None), r
    assert outbox_kinds(db, waiting) == ["waitlisted"]
    assert links_of(db, waiting) == 0
    assert_error(admin.post(f"/registrations/{waiting}/resend"), 409, "event_started")
    assert outbox_kinds(db, waiting) == ["waitlisted"]
    r = admin.patch(f"/registrations/{seated}", json_body={"email": email("right")})
    assert (r.status, r.json["mailed"]) == (200, "confirmed"), r
    r = admin.post(f"/registrations/{seated}/resend")
    assert (r.status, r.json["outcome"]) == (200, "already_queued"), r


def test_a_held_place_on_an_event_back_as_a_draft_is_corrected_and_sent_its_request(
        api, admin, db, make_event):
    """A place held for its address to be confirmed holds only until its
    hold ends.  Staff who had the event back as a draft corrected the
    mistyped address: the old link was revoked and the new address mailed
    nothing (a draft's email is withheld), and a resend was 409
    event_not_published, so nobody could confirm the place, which was
    released when its hold ended.  Its request to confirm goes out now (its
    page, /confirm/, needs no public event page), as it does when the
    request was still queued as the event went back to draft."""
    slug = make_event(confirmation_required=True)
    typo = email("typo")
    assert api.register(slug, "Ann Held", typo).status == 202
    reg = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", typo)
    assert admin.post(f"/events/{slug}/unpublish").status == 200
    right = email("right")
    r = admin.patch(f"/registrations/{reg}", json_body={"email": right})
    assert (r.status, r.json["outcome"], r.json["hold"], r.json["mailed"]) == (
        200, "corrected", "held", "confirm_address"), r
    assert links_of(db, reg) == 1
    (token,) = db.tokens(right, "confirm_address")
    assert api.get(f"/confirm/{token}").status == 200
    r = admin.post(f"/registrations/{reg}/resend")
    assert (r.status, r.json["outcome"], r.json["mailed"]) == (
        200, "already_queued", "confirm_address"), r
