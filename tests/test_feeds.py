"""The feeds people subscribe to, read by the parsers their apps use: the
iCalendar feed by python3-icalendar (as a calendar app subscribing to
webcal://), the Atom feed by python3-feedparser (as a feed reader); both
linked from the list page and cacheable (Cache-Control, ETag, 304).
"""
import datetime
import uuid

import feedparser
import icalendar

from staffkit import event_id  # noqa: F401


def events_of(cal):
    return {str(c["URL"]).rsplit("/", 1)[1]: c for c in cal.walk("VEVENT")}


def test_the_calendar_feed_has_the_upcoming_events_at_their_local_times(api, db,
                                                                        make_event):
    cat = "Feed " + uuid.uuid4().hex[:6]
    ny = make_event(categories=[cat], location="Room 2", starts_in="20 days")
    berlin = make_event(categories=[cat], timezone="Europe/Berlin", format="online",
                        starts_in="21 days")
    other = make_event(starts_in="22 days")
    draft = make_event(categories=[cat], status="draft")
    over = make_event(categories=[cat], starts_in="-2 days")
    r = api.get(f"/events.ics?category={cat.replace(' ', '+')}")
    assert r.status == 200 and r.header("Content-Type") == "text/calendar; charset=utf-8", r
    cal = icalendar.Calendar.from_ical(r.body)
    assert str(cal["X-WR-CALNAME"]) == f"Consortium Events: {cat}"
    got = events_of(cal)
    assert set(got) == {ny, berlin}, (other, draft, over)
    assert {str(t["TZID"]) for t in cal.walk("VTIMEZONE")} == {"America/New_York",
                                                               "Europe/Berlin"}
    for slug, zone in ((ny, "America/New_York"), (berlin, "Europe/Berlin")):
        start = got[slug]["DTSTART"].dt
        assert str(got[slug]["DTSTART"].params["TZID"]) == zone
        assert start == db.value("SELECT date_trunc('second', starts_at)"
                                 " FROM eventbox.events WHERE slug = %s", slug)
        assert got[slug]["DTEND"].dt - start == datetime.timedelta(hours=1)
        assert str(got[slug]["UID"]) .startswith(f"event-{event_id(db, slug)}@")
    assert str(got[ny]["LOCATION"]) == "Room 2" and str(got[berlin]["LOCATION"]) == "Online"
    assert "meet.example.org" not in r.text
    # The whole feed has them too, and the other one.
    assert {ny, berlin, other} <= set(events_of(icalendar.Calendar.from_ical(
        api.get("/events.ics").body)))


def test_the_atom_feed_lists_the_events_for_a_feed_reader(api, db, make_event):
    cat = "Feed " + uuid.uuid4().hex[:6]
    slug = make_event(categories=[cat], location="Room <2>", starts_in="30 days",
                      format="in_person",
                      description="Bring & share.\n\nSecond paragraph.")
    later = make_event(categories=[cat], starts_in="31 days")
    r = api.get(f"/events.atom?category={cat.replace(' ', '%20')}")
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(r.body)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10" and feed.feed.title == f"Consortium Events: {cat}"
    assert [e.link for e in feed.entries] == [f"{api.base}/events/{slug}",
                                              f"{api.base}/events/{later}"]
    first = feed.entries[0]
    assert first.title == f"Test event {slug}" and first.id == first.link
    assert "Room &lt;2&gt;" in first.summary and "Bring &amp; share." in first.summary
    assert "In person" in first.summary
    assert "meet.example.org" not in r.text
    empty = feedparser.parse(api.get("/events.atom?category=nothing-" + slug).body)
    assert not empty.bozo and empty.entries == []


def test_the_feeds_are_cacheable_and_answer_304(api, make_event):
    cat = "Feed " + uuid.uuid4().hex[:6]
    make_event(categories=[cat])
    for path in (f"/events.ics?category={cat.replace(' ', '+')}",
                 f"/events.atom?category={cat.replace(' ', '+')}"):
        r = api.get(path)
        assert r.header("Cache-Control") == "public, max-age=300", r
        etag = r.header("ETag")
        assert etag and api.get(path).header("ETag") == etag
        again = api.get(path, headers={"If-None-Match": etag})
        assert again.status == 304 and again.body == b"", again
        assert api.get(path, headers={"If-None-Match": '"0"'}).status == 200
    make_event(categories=[cat], starts_in="8 days")
    assert api.get(path, headers={"If-None-Match": etag}).status == 200


def test_the_list_page_links_its_feeds(api):
    html = api.get("/events?category=Workshops").text
    host = api.base.split("://", 1)[1]
    assert f'href="webcal://{host}/events.ics?category=Workshops"' in html
    assert ('<link rel="alternate" type="application/atom+xml" title="Events (Atom)"'
            ' href="/events.atom?category=Workshops">') in html
    assert 'href="/events.atom"' in api.get("/events").text


def test_a_bad_feed_query_is_400(api):
    r = api.get("/events.atom?category=" + "x" * 300)
    assert r.status == 400 and "text/html" in r.header("Content-Type"), r
