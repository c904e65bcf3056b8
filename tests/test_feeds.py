"""The feeds people subscribe to, read by the parsers their apps use: the
iCalendar feed by python3-icalendar (as a calendar app subscribing to
webcal://), the Atom feed by python3-feedparser (as a feed reader); both
linked from the list page and cacheable (Cache-Control, ETag, 304).
"""
import datetime
import uuid
import xml.etree.ElementTree as ET

import feedparser
import icalendar

from staffkit import connect_as, event_id  # noqa: F401


def events_of(cal):
    return {str(c["URL"]).rsplit("/", 1)[1]: c for c in cal.walk("VEVENT")}


def instant_by_its_vtimezone(cal, prop):
    """The instant a calendar program makes of a DTSTART;TZID=... with the
    file's own VTIMEZONE, as ical.js reads one: the local time less the
    offset of the latest change listed at or before it (before the first,
    that change's TZOFFSETFROM).  python3-icalendar's .dt asks the system's
    zone database instead, so it would not notice a VTIMEZONE that stops
    short of an event."""
    if "TZID" not in prop.params:       # a UTC time: no zone to read
        assert prop.dt.tzinfo is not None and prop.dt.utcoffset() == datetime.timedelta(0)
        return prop.dt
    local = prop.dt.replace(tzinfo=None)
    (zone,) = [t for t in cal.walk("VTIMEZONE")
               if str(t["TZID"]) == str(prop.params["TZID"])]
    assert not any("RRULE" in c for c in zone.subcomponents)
    changes = sorted((c["DTSTART"].dt, c["TZOFFSETFROM"].td, c["TZOFFSETTO"].td)
                     for c in zone.subcomponents)
    offset = changes[0][1]
    for onset, _, to in changes:
        if onset <= local:
            offset = to
    return (local - offset).replace(tzinfo=datetime.timezone.utc)


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


def test_each_zone_s_vtimezone_in_the_feed_covers_its_later_events_too(api, db,
                                                                       make_event):
    """A feed carries each zone's VTIMEZONE once, and it lists the changes of
    clocks around every event of that zone in the feed, not only around the
    first.  With only the 400 days around a New York event in December, the
    last change listed was November's (standard time), and ical.js read an
    event in July a year and a half later, 14:00 daylight time, as 19:00Z
    instead of 18:00Z.  An event years after the others (the walk steps
    over the gap) is read right too."""
    today = datetime.date.today()
    year = today.year if today < datetime.date(today.year, 12, 1) else today.year + 1
    cat = "Feed " + uuid.uuid4().hex[:6]
    slugs = [make_event(categories=[cat], timezone=zone, at="14:00",
                        starts_in=f"{(day - today).days} days")
             for zone, day in (("America/New_York", datetime.date(year, 12, 10)),
                               ("America/New_York", datetime.date(year + 2, 7, 12)),
                               ("America/New_York", datetime.date(year + 7, 7, 14)),
                               ("Europe/Berlin", datetime.date(year, 12, 11)),
                               ("Europe/Berlin", datetime.date(year + 2, 7, 13)))]
    cal = icalendar.Calendar.from_ical(
        api.get(f"/events.ics?category={cat.replace(' ', '+')}").body)
    assert sorted(str(t["TZID"]) for t in cal.walk("VTIMEZONE")) == [
        "America/New_York", "Europe/Berlin"]
    got = events_of(cal)
    for slug in slugs:
        starts, ends = db.one("SELECT starts_at, ends_at FROM eventbox.events"
                              " WHERE slug = %s", slug)
        assert got[slug]["DTSTART"].dt.hour == 14
        assert instant_by_its_vtimezone(cal, got[slug]["DTSTART"]) == starts, slug
        assert instant_by_its_vtimezone(cal, got[slug]["DTEND"]) == ends, slug
    summer = db.value("SELECT to_char(starts_at AT TIME ZONE 'UTC', 'HH24:MI')"
                      " FROM eventbox.events WHERE slug = %s", slugs[1])
    assert summer == "18:00"


def test_a_time_the_clocks_pass_twice_is_in_every_calendar_file_at_its_stored_instant(
        api, db, make_event):
    """The hour the clocks go back passes twice, and a calendar reads a
    local time with a TZID as the first of the two (RFC 5545 3.3.5; ical.js,
    with the file's VTIMEZONE, as instant_by_its_vtimezone() reads it).  An
    event stored at the second 01:30 (typed with its offset, imported from
    LibCal's "-06:00", or entered at psql, which PostgreSQL reads as the
    second) was in its .ics and the feed at the first, an hour early; one
    from 00:30 to the second 01:30 (two hours) lasted one.  Lord Howe's
    clocks go back half an hour.  (python3-icalendar's .dt reads the
    second, as pytz does: no judge of this.)"""
    cat = "Feed " + uuid.uuid4().hex[:6]
    times = (("America/Chicago", "2031-11-02 07:30Z", "2031-11-02 08:30Z"),
             ("America/Chicago", "2031-11-02 05:30Z", "2031-11-02 07:30Z"),
             ("America/Chicago", "2031-11-02 06:00Z", "2031-11-02 06:45Z"),
             ("Australia/Lord_Howe", "2031-04-05 15:10Z", "2031-04-05 15:40Z"))
    slugs = []
    for zone, starts, ends in times:
        slug = make_event(categories=[cat], timezone=zone, starts_in="3000 days")
        db.all("UPDATE eventbox.events SET starts_at = %s, ends_at = %s"
               " WHERE slug = %s", starts, ends, slug)
        slugs.append(slug)
    feed = icalendar.Calendar.from_ical(
        api.get(f"/events.ics?category={cat.replace(' ', '+')}").body)
    in_feed = events_of(feed)
    for slug in slugs:
        starts, ends = db.one("SELECT starts_at, ends_at FROM eventbox.events"
                              " WHERE slug = %s", slug)
        r = api.get(f"/events/{slug}.ics")
        assert r.status == 200, r
        own = icalendar.Calendar.from_ical(r.body)
        (ev,) = own.walk("VEVENT")
        for cal, e in ((own, ev), (feed, in_feed[slug])):
            for prop, stored in (("DTSTART", starts), ("DTEND", ends)):
                assert instant_by_its_vtimezone(cal, e[prop]) == stored, (slug, prop)
    # A time the clocks pass once keeps its local time and TZID.
    (first,) = icalendar.Calendar.from_ical(
        api.get(f"/events/{slugs[1]}.ics").body).walk("VEVENT")
    assert str(first["DTSTART"].params["TZID"]) == "America/Chicago"
    assert first["DTSTART"].dt.replace(tzinfo=None) == datetime.datetime(2031, 11, 2, 0, 30)


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
    assert first.title.startswith(f"Test event {slug}, ")
    assert first.id == f"{api.base}/events/{event_id(db, slug)}"
    assert "Room &lt;2&gt;" in first.summary and "Bring &amp; share." in first.summary
    assert "In person" in first.summary
    assert "meet.example.org" not in r.text
    empty = feedparser.parse(api.get("/events.atom?category=nothing-" + slug).body)
    assert not empty.bozo and empty.entries == []


def test_an_atom_entry_keeps_its_id_when_staff_change_the_slug(api, db, make_event):
    """An entry's id was the event page's address, made of the slug, and
    staff may change a slug (PATCH, or psql): every feed reader that had
    the entry then showed the event twice, the old entry and a "new" one
    under the new id.  RFC 4287 4.2.6: an id never changes.  The id is
    made of the event's id; the link follows the slug."""
    cat = "Feed " + uuid.uuid4().hex[:6]
    slug = make_event(categories=[cat], starts_in="40 days")
    other = make_event(categories=[cat], starts_in="41 days")
    query = f"/events.atom?category={cat.replace(' ', '%20')}"
    before = feedparser.parse(api.get(query).body)
    assert not before.bozo, before.bozo_exception
    renamed = "r-" + uuid.uuid4().hex[:12]
    db.all("UPDATE eventbox.events SET slug = %s WHERE slug = %s", renamed, slug)
    after = feedparser.parse(api.get(query).body)
    assert not after.bozo, after.bozo_exception
    assert [e.link for e in after.entries] == [f"{api.base}/events/{renamed}",
                                               f"{api.base}/events/{other}"]
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    assert len({e.id for e in after.entries}) == 2


def test_a_character_xml_has_not_leaves_the_atom_feed_xml(api, db, make_event):
    """U+FFFE and U+FFFF are text to PostgreSQL and to the event's rules,
    but no character to XML: one such title made the whole /events.atom
    no XML (expat: "not well-formed"), and every reader's parse of it
    failed, for every event in it."""
    cat = "Feed " + uuid.uuid4().hex[:6]
    odd = make_event(categories=[cat], title="Knit \uffff night",
                     location="Room\ufffe 2", description="Bring yarn.\ufffe",
                     starts_in="20 days")
    plain = make_event(categories=[cat], starts_in="21 days")
    r = api.get(f"/events.atom?category={cat.replace(' ', '+')}")
    assert r.status == 200, r
    atom = "{http://www.w3.org/2005/Atom}"
    entries = ET.fromstring(r.body).findall(atom + "entry")
    links = [e.find(atom + "link").get("href").rsplit("/", 1)[1] for e in entries]
    assert links == [odd, plain]
    title = entries[0].find(atom + "title").text
    assert title.startswith("Knit  night, ") and "\uffff" not in title, title
    summary = entries[0].find(atom + "summary").text
    assert "Room 2" in summary and "Bring yarn." in summary, summary


def test_atom_entries_of_one_title_have_titles_of_their_own(api, db, make_event):
    """An entry's title was the event's alone, and a reader dates entries by
    their <updated> (when staff last changed them): a weekly "Story time"
    was a list of entries of one name.  The title adds the start, and the
    location for two of one start."""
    cat = "Feed " + uuid.uuid4().hex[:6]
    expected = []
    for d, room in ((60, "Room A"), (67, "Room A"), (74, "Room A"), (74, "Room B")):
        slug = make_event(categories=[cat], title="Story time & rhymes",
                          starts_in=f"{d} days", at="10:00", location=room)
        day = db.value("SELECT starts_at AT TIME ZONE timezone FROM eventbox.events"
                       " WHERE slug = %s", slug)
        expected.append(f"Story time & rhymes, {day:%A}, {day:%B} {day.day}, {day.year},"
                        f" 10:00am" + (f", {room}" if d == 74 else ""))
    query = f"/events.atom?category={cat.replace(' ', '%20')}"
    feed = feedparser.parse(api.get(query).body)
    assert not feed.bozo, feed.bozo_exception
    assert [e.title for e in feed.entries] == expected
    es = feedparser.parse(api.get(query + "&lang=es").body)
    assert len({e.title for e in es.entries}) == 4, [e.title for e in es.entries]


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


def test_the_last_release_s_vtimezone_still_answers_the_service_during_an_upgrade():
    """Workers of the release before call vtimezone(zone, instant) until the
    upgrade restarts them (DEPLOY.md: migrate, then restart): that form
    stays, for the service's role, and answers as the list of that instant."""
    conn = connect_as("eventbox_app")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT eventbox.vtimezone('America/New_York', t),"
                        " eventbox.vtimezone('America/New_York', ARRAY[t])"
                        " FROM (SELECT timestamptz '2027-03-14 12:00Z' AS t) x")
            old, new = cur.fetchone()
    finally:
        conn.close()
    assert old == new and "BEGIN:VTIMEZONE" in old and "TZOFFSETTO:-0400" in old
