"""The event page as the seed shows it: who may register said before the
form, the event for Google Calendar and Outlook.com as well as the .ics,
a print stylesheet, who should attend and what participants will learn as
sections of their own, and an "Upcoming events" panel."""
import html
import re
import urllib.parse
import uuid

import pytest

from staffkit import admin, assert_error, staff_key  # noqa: F401


def links(page):
    return [html.unescape(h) for h in re.findall(r'<a href="([^"]+)"', page)]


def test_members_only_is_said_before_the_form(api, make_event):
    slug = make_event(members_only=True)
    page = api.get(f"/events/{slug}").text
    note = page.index("For member libraries: register with your library email address")
    assert note < page.index('<form class="register"')
    assert "For member libraries" not in api.get(f"/events/{make_event()}").text


def test_web_calendar_links_carry_the_times_and_never_the_online_url(
        api, db, make_event):
    slug = make_event(location="Room 3, Main Library", format="hybrid",
                      title="Tea & code")
    start, end, url = db.one(
        "SELECT eventbox.ical_utc(starts_at), eventbox.ical_utc(ends_at), online_url"
        " FROM eventbox.events WHERE slug = %s", slug)
    r = api.get(f"/events/{slug}")
    assert url not in r.text
    hrefs = links(r.text)
    assert f"/events/{slug}.ics" in hrefs
    google = next(h for h in hrefs if h.startswith("https://calendar.google.com/"))
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(google).query)
    assert q["action"] == ["TEMPLATE"] and q["text"] == ["Tea & code"]
    assert q["dates"] == [f"{start}/{end}"]
    assert q["location"] == ["Room 3, Main Library"]
    assert q["details"][0].endswith(f"/events/{slug}")
    outlook = next(h for h in hrefs if h.startswith("https://outlook.live.com/"))
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(outlook).query)
    assert q["subject"] == ["Tea & code"] and q["rru"] == ["addevent"]
    iso = lambda s: f"{s[0:4]}-{s[4:6]}-{s[6:8]}T{s[9:11]}:{s[11:13]}:{s[13:15]}Z"  # noqa: E731
    assert q["startdt"] == [iso(start)] and q["enddt"] == [iso(end)]


def test_the_stylesheet_prints_the_event_without_its_forms(api):
    css = api.get("/static/style.css")
    assert css.status == 200
    block = css.text[css.text.index("@media print"):]
    assert "form" in block and "display: none" in block


# --- who should attend and what you will learn --------------------------------

OUTCOMES = ["Recognize the conflicts <between> values & tools;",
            "Feel empowered to think outside the box."]
AUDIENCE = "Public library staff in marketing.\n\nAnd library directors."


def section(page, heading):
    m = re.search(rf'<section(?: class="\w+")? aria-labelledby="(\w+)">\n'
                  rf'<h2 id="\1">{heading}</h2>\n'
                  r'(.*?)</section>', page, re.S)
    return m and m.group(2)


def test_audience_and_outcomes_are_headed_sections_only_when_set(api, make_event):
    slug = make_event(audience=AUDIENCE, learning_outcomes=OUTCOMES,
                      description="What this session covers.")
    page = api.get(f"/events/{slug}").text
    assert section(page, "What you will learn") == (
        '<ul class="outcomes">\n<li>Recognize the conflicts &lt;between&gt; values'
        ' &amp; tools;</li>\n<li>Feel empowered to think outside the box.</li>\n</ul>\n')
    assert section(page, "Who should attend") == (
        "<p>Public library staff in marketing.</p>\n<p>And library directors.</p>\n")
    assert page.index("What you will learn") > page.index('<h2 id="about">')
    bare = api.get(f"/events/{make_event()}").text
    assert section(bare, "What you will learn") is None
    assert section(bare, "Who should attend") is None


def test_the_event_json_carries_audience_and_outcomes(api, make_event):
    slug = make_event(audience=AUDIENCE, learning_outcomes=OUTCOMES)
    ev = api.get(f"/api/v1/events/{slug}").json
    assert ev["audience"] == AUDIENCE and ev["learning_outcomes"] == OUTCOMES
    bare = api.get(f"/api/v1/events/{make_event()}").json
    assert bare["audience"] == "" and bare["learning_outcomes"] == []
    title = api.get(f"/api/v1/events/{slug}").json["title"]
    listed = api.get("/api/v1/events?q=" + urllib.parse.quote(title)).json["events"]
    assert [e["learning_outcomes"] for e in listed] == [OUTCOMES]


def test_staff_set_them_through_the_admin_api_and_sql(admin, db, make_event):
    slug = make_event()
    r = admin.patch(f"/events/{slug}", json_body={
        "audience": "  Teens and their parents.\n", "learning_outcomes": ["  Code a game "]})
    assert r.status == 200, r
    assert r.json["audience"] == "Teens and their parents."
    assert r.json["learning_outcomes"] == ["Code a game"]
    assert admin.get(f"/events/{slug}").json["learning_outcomes"] == ["Code a game"]
    listed = admin.get("/events?q=" + slug).json["events"]
    assert [e["audience"] for e in listed] == ["Teens and their parents."]
    # Staff at a psql prompt: the same function, or plain SQL on the table.
    assert db.one("SELECT outcome, field FROM eventbox.save_event(%s,"
                  " '{\"learning_outcomes\": []}', NULL)", slug) == ("updated", None)
    db.all("UPDATE eventbox.events SET audience = 'Everyone.' WHERE slug = %s", slug)
    assert db.one("SELECT audience, learning_outcomes FROM eventbox.events"
                  " WHERE slug = %s", slug) == ("Everyone.", [])


@pytest.mark.parametrize("fields", [
    {"audience": 7}, {"audience": "x" * 2001}, {"audience": "bell\u0007"},
    {"learning_outcomes": "one"}, {"learning_outcomes": [1]},
    {"learning_outcomes": [""]}, {"learning_outcomes": ["two\nlines"]},
    {"learning_outcomes": ["x" * 501]}, {"learning_outcomes": ["a"] * 21},
])
def test_bad_audience_or_outcomes_are_422_naming_the_field(admin, db, make_event, fields):
    slug = make_event()
    assert_error(admin.patch(f"/events/{slug}", json_body=fields), 422,
                 "invalid_field", next(iter(fields)))
    assert db.one("SELECT audience, learning_outcomes FROM eventbox.events"
                  " WHERE slug = %s", slug) == ("", [])


def test_the_table_refuses_what_the_function_would(db, make_event):
    slug = make_event()
    for sql, value in (("audience = %s", "bell\u0007"),
                       ("learning_outcomes = %s", ["two\nlines"]),
                       ("learning_outcomes = %s", [""]),
                       ("learning_outcomes = %s", ["a"] * 21)):
        with pytest.raises(Exception, match="check constraint"):
            db.all(f"UPDATE eventbox.events SET {sql} WHERE slug = %s", value, slug)


# --- upcoming events -----------------------------------------------------------

def upcoming(page):
    panel = section(page, "Upcoming events")
    assert panel is not None, page[-3000:]
    return re.findall(r'<li><a href="/events/([^"]+)" id="[^"]+" aria-labelledby='
                      r'"[^"]+">[^<]*</a><br><span id="[^"]+" aria-hidden="true">'
                      r'<time datetime="([^"]+)">[^<]*</time> \(([^)]*)\)</span></li>',
                      panel)


def test_upcoming_events_show_the_same_category_first_then_the_soonest(
        api, db, make_event):
    cat = ["Upcoming " + uuid.uuid4().hex[:6]]
    this = make_event(categories=cat, starts_in="5 days")
    later = make_event(categories=cat, starts_in="20 days")
    sooner = make_event(categories=cat, starts_in="10 days", timezone="Europe/Paris")
    # Nothing that is not open to anybody, or has started, however soon.
    make_event(categories=cat, starts_in="2 days", status="draft")
    make_event(categories=cat, starts_in="3 days", status="cancelled")
    make_event(categories=cat, starts_in="-30 minutes")
    other = make_event(starts_in="1 minute")
    shown = upcoming(api.get(f"/events/{this}").text)
    assert len(shown) == 3
    assert [s for s, _, _ in shown[:2]] == [sooner, later]
    # Each at its own local time, with its zone.
    assert shown[0][1] == db.value("SELECT eventbox.iso_local(starts_at, timezone)"
                                   " FROM eventbox.events WHERE slug = %s", sooner)
    assert shown[0][1].endswith(("+01:00", "+02:00"))
    assert shown[1][2] == "Eastern Time - US &amp; Canada"
    # An event of another category: the others, soonest first.
    assert [s for s, _, _ in upcoming(api.get(f"/events/{other}").text)] == [
        s for s, in db.all("SELECT slug FROM eventbox.events WHERE status = 'published'"
                           " AND starts_at > now() AND slug <> %s"
                           " ORDER BY starts_at, id LIMIT 3", other)]
