"""The LibCal-compatible read API (/1.1/...): LibCal's shapes and field
names, the registration windows, and never the online URL in public.
"""
import datetime
import uuid

import pytest

from staffkit import admin, assert_error, email, event_id, staff_key  # noqa: F401

EVENT_KEYS = {"id", "title", "allday", "start", "end", "description", "url",
              "location", "presenter", "registration", "category", "owner",
              "calendar", "seats", "seats_taken", "wait_list",
              "has_registration_opened", "has_registration_closed",
              "online_event", "members_only", "campus", "audience",
              "future_dates", "featured_image", "more_info",
              "registration_cost", "color"}


def far_date(db, slug):
    """The event's local start date."""
    return db.value("SELECT (starts_at AT TIME ZONE timezone)::date::text"
                    " FROM eventbox.events WHERE slug = %s", slug)


def by_id(events, ident):
    return [e for e in events if e["id"] == ident]


def test_who_should_attend_is_libcals_one_audience(api, db, make_event):
    slug = make_event(audience="Library directors")
    (ev,) = api.get(f"/1.1/events/{event_id(db, slug)}").json["events"]
    assert ev["audience"] == [{"id": db.value("SELECT eventbox.category_id(%s)",
                                              "Library directors"),
                               "name": "Library directors"}]
    (ev,) = api.get(f"/1.1/events/{event_id(db, make_event())}").json["events"]
    assert ev["audience"] == []


def test_a_calendar_is_named_by_calid_as_libcal_names_it(api):
    """LibCal's /1.1/calendars names a calendar's id "calid" (its query
    parameter is cal_id): importers read int(cal["calid"]) and
    cal["visibility"], and failed on None when eventbox answered only
    "cal_id"."""
    (cal,) = api.get("/1.1/calendars").json["calendars"]
    assert int(cal["calid"]) == 1 and cal["cal_id"] == cal["calid"]
    assert cal["visibility"] == "Public"
    assert cal["url"]["public"] and cal["owner"]["name"] == cal["name"]


def test_an_event_has_libcals_fields_and_types(api, db, make_event):
    cat = "Cat " + uuid.uuid4().hex[:6]
    slug = make_event(capacity=2, categories=[cat], presenter="Pat Reyes",
                      location="Room 2", format="hybrid")
    for _ in range(3):
        api.register(slug, "Patron", email())
    ident = event_id(db, slug)
    r = api.get(f"/1.1/events/{ident}")
    assert r.status == 200 and r.header("Content-Type") == "application/json", r
    (ev,) = r.json["events"]
    assert set(ev) == EVENT_KEYS
    assert ev["id"] == ident and ev["allday"] is False
    assert ev["url"] == {"public": f"{api.base}/events/{slug}"}
    assert ev["location"]["name"] == "Room 2" and ev["presenter"] == "Pat Reyes"
    assert ev["seats"] == 2 and ev["seats_taken"] == 2 and ev["wait_list"] == 1
    assert ev["has_registration_opened"] is True
    assert ev["has_registration_closed"] is False
    assert ev["online_event"] is True
    (c,) = ev["category"]
    assert c["name"] == cat and isinstance(c["id"], int) and c["id"] > 0
    assert c["id"] == db.value("SELECT eventbox.category_id(%s)", cat)
    # ISO 8601 with the zone's offset, the same instant as the database's.
    start = datetime.datetime.fromisoformat(ev["start"])
    assert start.utcoffset() in (datetime.timedelta(hours=-5), datetime.timedelta(hours=-4))
    assert start == db.value("SELECT date_trunc('second', starts_at)"
                             " FROM eventbox.events WHERE slug = %s", slug)
    assert datetime.datetime.fromisoformat(ev["end"]) - start == datetime.timedelta(hours=1)


def test_the_online_url_never_appears_in_public_calls(api, db, make_event):
    slug = make_event()
    secret = "https://meet.example.org/secret-" + slug
    ident = event_id(db, slug)
    day = far_date(db, slug)
    for path in (f"/1.1/events/{ident}", f"/1.1/events?date={day}&days=1&limit=500",
                 f"/1.1/events/{ident},{ident}"):
        r = api.get(path)
        assert r.status == 200, r
        assert secret not in r.text and "meet.example.org" not in r.text


def test_the_list_takes_date_days_limit_and_category(api, db, make_event):
    cat = "Cat " + uuid.uuid4().hex[:6]
    slugs = [make_event(starts_in=f"{400 + d} days", categories=[cat]) for d in (0, 1, 3)]
    other = make_event(starts_in="401 days")
    draft = make_event(starts_in="401 days", status="draft", categories=[cat])
    ids = [event_id(db, s) for s in slugs]
    day0 = far_date(db, slugs[0])
    cid = db.value("SELECT eventbox.category_id(%s)", cat)

    got = api.get(f"/1.1/events?cal_id=1&date={day0}&days=2&category={cid}").json["events"]
    assert [e["id"] for e in got] == ids[:2]
    got = api.get(f"/1.1/events?date={day0}&days=4&category={cid},7").json["events"]
    assert [e["id"] for e in got] == ids
    got = api.get(f"/1.1/events?date={day0}&days=4&category={cid}&limit=1").json["events"]
    assert [e["id"] for e in got] == ids[:1]
    everything = api.get(f"/1.1/events?date={day0}&days=4&limit=500").json["events"]
    assert by_id(everything, event_id(db, other))
    assert not by_id(everything, event_id(db, draft))


def test_a_category_id_no_category_can_have_matches_nothing(api, db, make_event):
    """Category ids are eventbox.category_id()'s 28 bits; a larger id (up
    to the 18 digits any id list takes) is no match, as an unknown event id
    is, never a database error (2147483648 was a 422 invalid_value)."""
    cat = "Cat " + uuid.uuid4().hex[:6]
    slug = make_event(starts_in="400 days", categories=[cat])
    day0 = far_date(db, slug)
    cid = db.value("SELECT eventbox.category_id(%s)", cat)
    for big in ("2147483648", "9223372036854775807"[:18], "999999999999999999"):
        r = api.get(f"/1.1/events?date={day0}&days=1&category={big}")
        assert r.status == 200 and r.json["events"] == [], (big, r)
        r = api.get(f"/1.1/events?date={day0}&days=1&category={big},{cid}")
        assert r.status == 200, (big, r)
        assert [e["id"] for e in r.json["events"]] == [event_id(db, slug)]
    assert_error(api.get(f"/1.1/events?category={'9' * 19}"), 400, "invalid_query")


def test_the_list_defaults_to_the_next_30_days(api, db, make_event):
    soon = make_event(starts_in="3 days")
    later = make_event(starts_in="45 days")
    got = api.get("/1.1/events?limit=500").json["events"]
    assert by_id(got, event_id(db, soon)) and not by_id(got, event_id(db, later))


def test_days_counts_the_days_after_the_date(api, db, make_event):
    """LibCal's days are the date and the N days after it: days=1 is that
    day and the next (it was the same as days=0, the last day left out)."""
    first, second = make_event(starts_in="420 days"), make_event(starts_in="421 days")
    ids = [event_id(db, first), event_id(db, second)]
    day0 = far_date(db, first)

    def listed(days):
        got = api.get(f"/1.1/events?date={day0}&days={days}&limit=500").json["events"]
        return [e["id"] for e in got if e["id"] in ids]
    assert listed(0) == ids[:1]
    assert listed(1) == ids


def test_a_date_may_write_its_month_and_day_with_one_digit(api, db, make_event):
    """LibCal takes date=2029-3-5 as 2029-03-05: .NET's "yyyy-M-d" and
    PHP's "Y-n-j" write dates so, and an ETL written for LibCal sends them
    (it was a 400 invalid_query)."""
    year = db.value("SELECT extract(year FROM now())::integer + 2")
    days = db.value("SELECT make_date(%s, 3, 5)"
                    " - (now() AT TIME ZONE 'America/New_York')::date", year)
    slug = make_event(starts_in=f"{days} days", at="12:00")
    ident = event_id(db, slug)
    assert far_date(db, slug) == f"{year}-03-05"
    for date in (f"{year}-3-5", f"{year}-03-5", f"{year}-3-05"):
        r = api.get(f"/1.1/events?cal_id=1&date={date}&days=0&limit=500")
        assert r.status == 200, (date, r)
        assert by_id(r.json["events"], ident), date
    r = api.get(f"/1.1/events?date={year}-3-4&days=0&limit=500")
    assert r.status == 200 and not by_id(r.json["events"], ident), r
    for bad in (f"{year}-3-", f"{year}-003-5", f"{year}-2-30", "29-3-5"):
        r = api.get(f"/1.1/events?date={bad}")
        assert_error(r, 400, "invalid_query")
        assert r.json["error"]["message"] == "date: YYYY-MM-DD", (bad, r)


def test_today_is_the_date_where_the_event_is(api, db, make_event):
    """Without a date, today is the event's own local date, not UTC's: an
    event tonight in a zone whose date is not UTC's is in today's list."""
    zone = db.value("SELECT CASE WHEN extract(hour FROM now() AT TIME ZONE 'UTC') >= 10"
                    " THEN 'Pacific/Kiritimati' ELSE 'Etc/GMT+12' END")
    assert db.value("SELECT (now() AT TIME ZONE %s)::date <> (now() AT TIME ZONE 'UTC')::date",
                    zone)
    slug = make_event(starts_in="0 days", at="23:30", timezone=zone)
    got = api.get("/1.1/events?days=0&limit=500").json["events"]
    assert by_id(got, event_id(db, slug)), zone


@pytest.mark.parametrize("query", ["date=2026-13-01", "date=tomorrow", "days=-1",
                                   "days=x", "limit=0", "limit=x", "page=0",
                                   "cal_id=-1", "cal_id=a", "category=a,b",
                                   "category=1,,2"])
def test_a_malformed_list_query_is_400(api, query):
    assert_error(api.get(f"/1.1/events?{query}"), 400, "invalid_query")


def test_a_parameter_given_twice_is_a_400_and_one_nobody_reads_is_ignored(api):
    r = api.get("/1.1/events?limit=1&limit=500")
    assert_error(r, 400, "invalid_query")
    assert r.json["error"]["message"] == "limit: given more than once", r
    r = api.get("/1.1/events/1/registrations?waitlist=1&waitlist=0")
    assert_error(r, 400, "invalid_query")
    assert r.json["error"]["message"] == "waitlist: given more than once", r
    assert api.get("/1.1/events?campus=1&campus=2&audience=3&audience=4"
                   "&limit=1").status == 200


def test_several_events_by_id_and_unknown_ones(api, db, make_event):
    a, b = make_event(), make_event()
    ia, ib = event_id(db, a), event_id(db, b)
    got = api.get(f"/1.1/events/{ib},{ia},999999999").json["events"]
    assert sorted(e["id"] for e in got) == sorted([ia, ib])
    assert_error(api.get("/1.1/events/999999999"), 404, "event_not_found")
    assert_error(api.get("/1.1/events/abc"), 404, "event_not_found")
    # LibCal's limit is 50 ids: more is the client's mistake, said so, not
    # "no such event".
    assert api.get("/1.1/events/" + ",".join([str(ia)] * 50)).status == 200
    many = ",".join(["1"] * 51)
    for path, what in ((f"/1.1/events/{many}", "event"),
                       (f"/api/1.1/event/{many}", "event"),
                       (f"/1.1/categories/{many}", "calendar")):
        r = api.get(path)
        assert_error(r, 400, "too_many_ids")
        assert r.json["error"]["message"] == f"at most 50 {what} ids at once", r
    r = api.get(f"/1.1/events?category={many}")
    assert_error(r, 400, "invalid_query")
    assert "at most 50 category ids" in r.json["error"]["message"], r
    draft = make_event(status="draft")
    assert_error(api.get(f"/1.1/events/{event_id(db, draft)}"), 404, "event_not_found")


def test_registration_windows_show_in_libcal_fields(api, db, make_event):
    not_yet = make_event()
    db.all("UPDATE eventbox.events SET registration_opens_at = now() + interval '1 day'"
           " WHERE slug = %s", not_yet)
    over = make_event()
    db.all("UPDATE eventbox.events SET registration_closes_at = now() - interval '1 minute'"
           " WHERE slug = %s", over)
    cancelled = make_event(status="cancelled")
    ev = {s: api.get(f"/1.1/events/{event_id(db, s)}").json["events"][0]
          for s in (not_yet, over, cancelled)}
    assert (ev[not_yet]["has_registration_opened"], ev[not_yet]["has_registration_closed"]) \
        == (False, False)
    assert (ev[over]["has_registration_opened"], ev[over]["has_registration_closed"]) \
        == (True, True)
    assert ev[cancelled]["has_registration_closed"] is True


def test_registrations_need_a_staff_key_and_have_libcals_shape(api, admin, db,
                                                               make_event):
    slug = make_event(capacity=1)
    a, b = email(), email()
    api.register(slug, "First Person", a)
    api.register(slug, "Second Person", b)
    ident = event_id(db, slug)
    r = api.get(f"/1.1/events/{ident}/registrations")
    assert r.status == 401 and "Bearer" in r.header("WWW-Authenticate"), r
    auth = {"Authorization": f"Bearer {admin.key}"}
    r = api.get(f"/1.1/events/{ident}/registrations", headers=auth)
    assert r.status == 200 and r.header("Cache-Control") == "no-store", r
    (ev,) = r.json
    assert ev["event_id"] == ident and "waitlist" not in ev
    (p,) = ev["registrants"]
    assert p["first_name"] == "First Person" and p["email"] == a
    assert p["attendance"] == "Unknown" and isinstance(p["booking_id"], int)
    reg = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", a)
    admin.post(f"/registrations/{reg}/check-in")
    (ev,) = api.get(f"/1.1/events/{ident}/registrations?waitlist=1", headers=auth).json
    assert ev["registrants"][0]["attendance"] == "Attended"
    assert [(w["email"], w["position"]) for w in ev["waitlist"]] == [(b, 1)]
    assert_error(api.get("/1.1/events/999999999/registrations", headers=auth), 404,
                 "event_not_found")
    assert_error(api.get(f"/1.1/events/{ident}/registrations?waitlist=yes",
                         headers=auth), 400, "invalid_query")


def test_registrations_of_several_events_in_one_call(api, admin, db, make_event):
    """LibCal's registrations take a list of event ids, as its other reads
    do: an ETL asks /api/1.1/events/1,2,3/registrations and reads one entry
    per event (it was a 404: only one id was taken)."""
    full, other, empty = make_event(capacity=1), make_event(), make_event()
    a, b, c = email(), email(), email()
    api.register(full, "First Person", a)
    api.register(full, "Second Person", b)
    api.register(other, "Third Person", c)
    ifull, iother, iempty = (event_id(db, s) for s in (full, other, empty))
    auth = {"Authorization": f"Bearer {admin.key}"}
    path = f"/api/1.1/events/{iother},{ifull},999999999,{iempty},{ifull}/registrations"
    r = api.get(path, headers=auth)
    assert r.status == 200, r
    assert [(e["event_id"], [p["email"] for p in e["registrants"]]) for e in r.json] \
        == [(iother, [c]), (ifull, [a]), (iempty, [])]
    assert all("waitlist" not in e for e in r.json)
    r = api.get(path + "?waitlist=1", headers=auth)
    assert [[(w["email"], w["position"]) for w in e["waitlist"]] for e in r.json] \
        == [[], [(b, 1)], []]
    assert_error(api.get("/1.1/events/999999998,999999999/registrations", headers=auth),
                 404, "event_not_found")
    assert_error(api.get(f"/1.1/events/{ifull},0{iother}/registrations", headers=auth),
                 404, "event_not_found")
    r = api.get("/1.1/events/" + ",".join([str(ifull)] * 51) + "/registrations",
                headers=auth)
    assert_error(r, 400, "too_many_ids")
    assert r.json["error"]["message"] == "at most 50 event ids at once", r
    assert api.get(f"/1.1/events/{ifull},{iother}/registrations").status == 401
