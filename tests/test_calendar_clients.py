"""Every iCalendar file the service gives out, read by calendar programs
nobody here wrote: Mozilla's ical.js (Thunderbird's, and web calendars'),
which turns a TZID= time into an instant with the file's own VTIMEZONE
alone (tests/calendar_clients/icaljs.mjs), and Debian's python3-icalendar;
and checked against RFC 5545's letter where both are lenient (CRLF, lines
of at most 75 octets folded between whole UTF-8 characters, at least one
component).  The values they read must be the event's: times, zone,
summary, location, link, status, UID, SEQUENCE.
"""
import datetime
import json
import os
import subprocess
import uuid

import icalendar

from staffkit import event_id  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
ICALJS = os.path.join(HERE, "calendar_clients", "icaljs.mjs")


def icaljs(body):
    """The file as ical.js reads it (a dict), or an AssertionError with what
    it refused."""
    p = subprocess.run(["node", ICALJS], input=body, capture_output=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


def strict(body):
    """RFC 5545's letter: CRLF line ends only, each line at most 75 octets
    and whole UTF-8 by itself (a fold never splits a character), no control
    character but tab, one VCALENDAR with at least one component (3.6:
    icalbody = calprops component); python3-icalendar reads it without
    errors.  Returns python3-icalendar's calendar."""
    assert body.endswith(b"\r\n"), body[-40:]
    lines = body[:-2].split(b"\r\n")
    for line in lines:
        assert b"\n" not in line and b"\r" not in line, line
        assert len(line) <= 75, (len(line), line)
        text = line.decode("utf-8")          # raises on a split character
        assert not any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7f
                       for c in text), line
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-1] == b"END:VCALENDAR"
    assert lines.count(b"BEGIN:VCALENDAR") == 1
    cal = icalendar.Calendar.from_ical(body)
    assert cal.subcomponents, "a VCALENDAR without any component"
    for c in cal.walk():
        assert not getattr(c, "errors", None), (c.name, c.errors)
    return cal


def utc(ts):
    return ts.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def stored(db, slug):
    return db.one("SELECT id, title, description, location, format, timezone,"
                  " starts_at, ends_at, status, ical_sequence"
                  " FROM eventbox.events WHERE slug = %s", slug)


def assert_is_the_event(js, py, db, api, slug, location=None):
    """ical.js's reading js (one event of icaljs()) and python3-icalendar's
    py (a VEVENT) are the event's own values."""
    (eid, title, description, loc, fmt, zone, starts, ends, status,
     seq) = stored(db, slug)
    host = api.base.split("://", 1)[1].split(":")[0].split("/")[0]
    assert js["uid"] == str(py["UID"]) == f"event-{eid}@{host}"
    assert js["summary"] == str(py["SUMMARY"]) == title
    assert (js["description"] or "") == str(py.get("DESCRIPTION", "")) == description
    want_loc = location if location is not None else loc
    assert js["location"] == str(py["LOCATION"]) == want_loc
    assert js["url"] == str(py["URL"]) == f"{api.base}/events/{slug}"
    want_status = "CANCELLED" if status == "cancelled" else "CONFIRMED"
    assert js["status"] == str(py["STATUS"]) == want_status
    assert js["sequence"] == int(py["SEQUENCE"]) == seq
    for key, prop, instant in (("start", "DTSTART", starts), ("end", "DTEND", ends)):
        assert js[key]["utc"] == utc(instant), (key, js[key], instant)
        assert js[key]["tzid"] == zone == str(py[prop].params["TZID"])
        # python3-icalendar's .dt names the zone from the system's database;
        # a calendar file has whole seconds
        assert py[prop].dt == instant.replace(microsecond=0)
    assert js["dtstamp"]["is_utc"]


def one_event(body):
    js = icaljs(body)
    cal = strict(body)
    (py,) = cal.walk("VEVENT")
    (ev,) = js["events"]
    return js, ev, py


ODD = ("Taller de programación: «¿Qué es un algoritmo?», con café, té; "
       "barra \\ invertida y emoji 🎉🎉 — "
       + "ñandú árbol 日本語の説明 " * 6)


def test_each_event_s_file_reads_in_ical_js_and_python_icalendar_as_the_event(
        api, db, make_event):
    cat = "Cal " + uuid.uuid4().hex[:6]
    shapes = [
        # text that needs escaping and folding, in a zone half an hour off
        dict(title=ODD, location="Sala 3; planta 2, ala \\ norte",
             description="Línea uno,\nlínea dos; \\fin\n\n" + "ü" * 120,
             timezone="Asia/Kolkata", format="in_person", language="es"),
        dict(format="online", timezone="Europe/Madrid", location=""),
        dict(format="hybrid", location="Room 2", timezone="Australia/Lord_Howe"),
        dict(timezone="UTC", location="Annex"),
    ]
    slugs = [make_event(categories=[cat], starts_in=f"{20 + i} days", **kw)
             for i, kw in enumerate(shapes)]
    feed_body = api.get(f"/events.ics?category={cat.replace(' ', '+')}").body
    feed_js = icaljs(feed_body)
    feed_py = {str(v["URL"]).rsplit("/", 1)[1]: v
               for v in strict(feed_body).walk("VEVENT")}
    feed_events = {e["url"].rsplit("/", 1)[1]: e for e in feed_js["events"]}
    assert set(feed_events) == set(slugs) and feed_js["method"] == "PUBLISH"
    for slug, kw in zip(slugs, shapes):
        r = api.get(f"/events/{slug}.ics")
        assert r.status == 200, r
        assert r.header("Content-Type") == "text/calendar; charset=utf-8"
        js, ev, py = one_event(r.body)
        assert js["method"] == "PUBLISH" and js["version"] == "2.0"
        online = kw.get("format") == "online"
        assert_is_the_event(ev, py, db, api, slug,
                            location="Online" if online else None)
        assert_is_the_event(feed_events[slug], feed_py[slug], db, api, slug,
                            location="Online" if online else None)
        assert "meet.example.org" not in r.text
    # The Spanish text says which language it is in; the file's own word
    # for an online place is in the patron's language.
    (es, _, _) = one_event(api.get(f"/events/{slugs[0]}.ics").body)
    assert es["events"][0]["summary_language"] == "es"
    (_, online_es, _) = one_event(api.get(f"/events/{slugs[1]}.ics", headers={
        "Accept-Language": "es"}).body)
    assert online_es["location"] == "En línea"


def test_a_moved_and_then_cancelled_event_keeps_its_uid_with_a_higher_sequence(
        api, db, make_event):
    slug = make_event(starts_in="30 days", location="Room 1",
                      timezone="America/Chicago")
    _, before, _ = one_event(api.get(f"/events/{slug}.ics").body)
    db.all("UPDATE eventbox.events SET starts_at = starts_at + interval '1 day',"
           " ends_at = ends_at + interval '1 day', location = 'Room 9'"
           " WHERE slug = %s", slug)
    _, moved, py = one_event(api.get(f"/events/{slug}.ics").body)
    assert_is_the_event(moved, py, db, api, slug)
    assert moved["uid"] == before["uid"] and moved["sequence"] > before["sequence"]
    assert moved["location"] == "Room 9"
    db.all("UPDATE eventbox.events SET status = 'cancelled' WHERE slug = %s", slug)
    _, gone, py = one_event(api.get(f"/events/{slug}.ics").body)
    assert_is_the_event(gone, py, db, api, slug)
    assert gone["status"] == "CANCELLED" and gone["uid"] == before["uid"]
    assert gone["sequence"] > moved["sequence"]


def test_an_empty_calendar_feed_still_has_a_component(api):
    """RFC 5545 3.6: a VCALENDAR holds at least one component.  A feed of
    a category without upcoming events (a subscription made before the
    first one is published, or after the last one ended) was a VCALENDAR
    with none, which stricter calendar apps refuse to subscribe to."""
    r = api.get("/events.ics?category=nothing-" + uuid.uuid4().hex)
    assert r.status == 200 and r.header("Content-Type") == "text/calendar; charset=utf-8"
    cal = strict(r.body)
    assert not cal.walk("VEVENT")
    js = icaljs(r.body)
    assert js["events"] == [] and js["components"], js


def test_an_event_s_file_answers_a_calendar_that_polls_it_with_304(api, db, make_event):
    """A calendar app subscribed to one event's .ics (Google Calendar's "From
    URL", Outlook's "Subscribe from web") polls it.  It had no ETag and no
    Cache-Control, and its DTSTAMP was the time of the request, so every
    poll fetched the whole file again.  Now its DTSTAMP is the event's last
    change, as the feed's is: the same bytes and ETag until staff change the
    event, 304 for the app that has them."""
    slug = make_event(starts_in="25 days", location="Room 4")
    path = f"/events/{slug}.ics"
    r = api.get(path)
    assert r.status == 200 and r.header("Cache-Control") == "public, max-age=300", r
    etag = r.header("ETag")
    assert etag and api.get(path).body == r.body
    again = api.get(path, headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b"", again
    assert api.get(path, headers={"If-None-Match": '"0"'}).status == 200
    _, ev, _ = one_event(r.body)
    updated = db.value("SELECT updated_at FROM eventbox.events WHERE slug = %s", slug)
    assert ev["dtstamp"]["utc"] == utc(updated)
    db.all("UPDATE eventbox.events SET location = 'Room 5', updated_at = now()"
           " WHERE slug = %s", slug)
    moved = api.get(path, headers={"If-None-Match": etag})
    assert moved.status == 200 and moved.header("ETag") != etag, moved
    _, ev, _ = one_event(moved.body)
    assert ev["location"] == "Room 5"
