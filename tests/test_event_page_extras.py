"""The event page as the seed shows it: who may register said before the
form, the event for Google Calendar and Outlook.com as well as the .ics,
and a print stylesheet."""
import html
import re
import urllib.parse


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
