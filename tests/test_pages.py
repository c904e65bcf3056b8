"""The public HTML pages over HTTP: escaping, the form's rules, CSRF, the
honeypot, the cancel flow, headers, error pages and the .ics file.  What
needs a real browser (JavaScript on and off, axe-core, screenshots) is in
tests/browser/, run by test_pages_browser.py."""
import datetime
import gzip
import html
import re
import urllib.parse
import uuid

import pytest

from conftest import devstack, wait_healthy

HOSTILE = "<script>alert(1)</script> \"quotes\" 'single' \u200fevil &amp;"


def cookie_of(r):
    c = r.header("Set-Cookie")
    assert c is not None, r
    return c.split(";", 1)[0]


def csrf_of(r):
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', r.text)
    assert m, r.text[:2000]
    return m.group(1)


def attempt_of(r, required=True):
    """The form's attempt id, new on every page served (src/csrf.h); None
    from a page without the form when not required."""
    m = re.search(r'name="attempt" value="([0-9a-f]{32})"', r.text)
    assert m or not required, r.text[:2000]
    return m.group(1) if m else None


class Patron:
    """One browser: keeps the CSRF cookie, sends forms like a browser."""

    def __init__(self, api):
        self.api = api
        self.cookie = None

    def get(self, path):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        r = self.api.get(path, headers=headers)
        if r.header("Set-Cookie"):
            self.cookie = cookie_of(r)
        return r

    def post(self, path, fields, content_type="application/x-www-form-urlencoded",
             raw=None):
        headers = {"Content-Type": content_type}
        if self.cookie:
            headers["Cookie"] = self.cookie
        body = raw if raw is not None else urllib.parse.urlencode(fields)
        return self.api.post(path, body=body, headers=headers)

    def register(self, slug, name="Ann Reader", email=None, organization="",
                 website="", csrf=None, answers=()):
        """answers: more (name, value) pairs, as a browser sends the
        event's questions."""
        page = self.get(f"/events/{slug}")
        assert page.status == 200, page
        # As a browser: the page's attempt id when it has the form (one
        # loaded before the event filled up posts it all the same).
        attempt = attempt_of(page, required=False)
        fields = [("csrf", csrf or csrf_of(page)),
                  *([("attempt", attempt)] if attempt else []), ("name", name),
                  ("email", f"ann-{uuid.uuid4().hex[:8]}@example.org"
                   if email is None else email),
                  ("organization", organization), ("website", website),
                  *answers]
        return self.post(f"/events/{slug}/register", fields)


@pytest.fixture
def patron(api):
    return Patron(api)


def test_a_cookie_header_on_two_lines_is_one_list_of_cookies(api, make_event):
    """RFC 9113 8.2.3 and nginx from 1.23 join Cookie lines with "; "
    (HTTP/2 sends a cookie a line); nginx 1.22 passes each line to the
    service as a parameter of its own, and the service read the first: a
    CSRF cookie on the second line was none, and the form was refused as
    expired."""
    from test_bad_input import send_lines
    slug = make_event()
    page = api.get(f"/events/{slug}")
    cookie = cookie_of(page)
    fields = urllib.parse.urlencode([
        ("csrf", csrf_of(page)), ("attempt", attempt_of(page)), ("name", "Ann Reader"),
        ("email", f"ann-{uuid.uuid4().hex[:8]}@example.org"),
        ("organization", ""), ("website", "")]).encode()
    r = send_lines(api, "POST", f"/events/{slug}/register",
                   [("Content-Type", "application/x-www-form-urlencoded"),
                    ("Cookie", "theme=dark"), ("Cookie", cookie)], fields)
    assert r.status == 200 and "<h1>You are registered</h1>" in r.text, r


def is_html(r):
    return (r.header("Content-Type") or "").startswith("text/html")


def registrations(db, slug):
    return db.value("SELECT count(*) FROM eventbox.registrations r JOIN"
                    " eventbox.events e ON e.id = r.event_id WHERE e.slug = %s",
                    slug)


# --- the list and the event box ---------------------------------------------

def test_the_list_shows_upcoming_events_soonest_first(api, make_event):
    later = make_event(starts_in="3 days", categories=["Pages-list"])
    sooner = make_event(starts_in="2 days", categories=["Pages-list"])
    r = api.get("/events?category=Pages-list")
    assert r.status == 200 and is_html(r), r
    assert r.text.index(f"/events/{sooner}") < r.text.index(f"/events/{later}")
    assert "100 seats left" in r.text


def test_the_list_filters_by_category_and_pages(api, make_event):
    cat = "Paging " + uuid.uuid4().hex[:6]
    slugs = [make_event(starts_in=f"{10 + i} days", categories=[cat])
             for i in range(12)]
    other = make_event(starts_in="10 days")
    first = api.get("/events?" + urllib.parse.urlencode({"category": cat}))
    assert first.status == 200
    assert all(f"/events/{s}\"" in first.text for s in slugs[:10])
    assert f"/events/{slugs[10]}\"" not in first.text
    assert f"/events/{other}\"" not in first.text
    assert "Page 1 of 2" in first.text
    nxt = re.search(r'rel="next" href="([^"]+)"', first.text).group(1)
    second = api.get(html.unescape(nxt))
    assert f"/events/{slugs[10]}\"" in second.text
    assert f"/events/{slugs[0]}\"" not in second.text
    # Each page's title says which it is (a screen reader's first words
    # after "Next page"), its heading stays the list's.
    assert f"<title>Upcoming events: {cat} - Library events</title>" in first.text
    assert (f"<title>Upcoming events: {cat}, page 2 of 2 - Library events"
            "</title>") in second.text
    assert "<h1>Upcoming events</h1>" in second.text


def test_a_page_past_the_last_is_a_404_page(api, make_event):
    cat = "Past " + uuid.uuid4().hex[:6]
    for i in range(12):
        make_event(starts_in=f"{10 + i} days", categories=[cat])
    for page, status in ((2, 200), (3, 404), (50, 404)):
        r = api.get("/events?" + urllib.parse.urlencode({"category": cat, "page": page}))
        assert r.status == status and is_html(r), (page, r)
    assert "Page 3 of 2" not in r.text
    assert "past the end of the list of upcoming events" in r.text
    assert 'href="/events"' in r.text
    # Page 1 is there even when the category has no events (any more).
    empty = {"category": "Empty " + uuid.uuid4().hex[:6]}
    r = api.get("/events?" + urllib.parse.urlencode(empty))
    assert r.status == 200 and "There are no upcoming events here." in r.text
    r = api.get("/events?" + urllib.parse.urlencode({**empty, "page": 2}))
    assert r.status == 404


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=999999999",
                                   "category=%ff", "category=%0a"])
def test_a_bad_list_query_is_a_400_page(api, query):
    r = api.get("/events?" + query)
    assert r.status == 400 and is_html(r), r


def test_a_page_parameter_given_twice_is_a_400_page_that_says_so(
        api, make_event):
    slug = make_event()
    for path, key in ((f"/events/{slug}?tz=UTC&tz=Asia/Tokyo", "tz"),
                      ("/events?category=A&category=B", "category"),
                      ("/events.atom?category=A&category=A", "category"),
                      ("/embed/events?limit=2&limit=", "limit")):
        r = api.get(path)
        assert r.status == 400 and is_html(r), (path, r)
        assert (f"The address gives {key} more than once. Keep one and try"
                f" again." in r.text), (path, r.text)
    r = api.get(f"/events/{slug}?tz=UTC&tz=UTC&lang=es")
    assert r.status == 400 and "La dirección indica tz más de una vez" in r.text
    # The forms' own addresses name each field once.
    assert api.get(f"/events/{slug}?lang=es&tz=UTC").status == 200


def test_the_event_box_says_seats_and_time_zone(api, make_event):
    slug = make_event(capacity=3)
    r = api.get(f"/events/{slug}")
    assert r.status == 200 and is_html(r)
    assert "Registration is required. There are 3 seats available." in r.text
    assert "Eastern Time - US &amp; Canada" in r.text
    assert 'lang="en"' in r.text and 'href="#main"' in r.text


def test_a_full_event_offers_the_waiting_list(api, make_event):
    slug = make_event(capacity=0)
    r = api.get(f"/events/{slug}")
    assert "This event is full. Join the waiting list." in r.text
    assert ">Join the waiting list</button>" in r.text


def test_a_closed_event_has_no_form(api, make_event, db):
    slug = make_event(registration_closes_at=datetime.datetime(2000, 1, 1,
                                                               tzinfo=datetime.timezone.utc))
    r = api.get(f"/events/{slug}")
    assert "Registration is closed." in r.text
    assert "<form class=\"register\"" not in r.text


def test_an_event_that_has_ended_says_so(api, make_event):
    """A past event's page (an old link, a search) said "Registration is
    closed.", as for one still to come whose registration had closed: the
    patron had to compare its date with today's to learn that it was over.
    It says that the event has ended; one closed before its start still
    says that registration is closed."""
    past = make_event(starts_in="-3 days")
    for lang, said in (("en", "This event has ended."), ("es", "Este evento ya terminó.")):
        r = api.get(f"/events/{past}?lang={lang}")
        assert r.status == 200, r
        assert f'<p class="state">{said}</p>' in r.text, r.text
        assert "Registration is closed." not in r.text and "está cerrada" not in r.text
        assert '<form class="register"' not in r.text
    closed = make_event(registration_closes_at=datetime.datetime(
        2000, 1, 1, tzinfo=datetime.timezone.utc))
    r = api.get(f"/events/{closed}")
    assert "Registration is closed." in r.text and "has ended" not in r.text


def test_an_event_not_yet_open_says_when_it_opens(api, db, make_event):
    slug = make_event()
    db.all("UPDATE eventbox.events SET registration_opens_at ="
           " '2030-01-15 19:00Z', starts_at = '2030-02-01 19:00Z',"
           " ends_at = '2030-02-01 20:00Z' WHERE slug = %s", slug)
    r = api.get(f"/events/{slug}")
    assert ("Registration opens Tuesday, January 15, 2030 at 2:00pm (Eastern"
            " Time - US &amp; Canada).") in r.text
    assert "<form class=\"register\"" not in r.text
    # In the zone the times are shown in, and said to be.
    r = api.get(f"/events/{slug}?tz=America/Denver")
    assert ("Registration opens Tuesday, January 15, 2030 at 12:00pm (Mountain"
            " Time - US &amp; Canada).") in r.text


def test_times_can_be_shown_in_another_zone_without_changing_the_event(
        api, db, make_event):
    slug = make_event()
    db.all("UPDATE eventbox.events SET starts_at = '2030-01-15 19:00Z',"
           " ends_at = '2030-01-15 20:00Z' WHERE slug = %s", slug)
    own = api.get(f"/events/{slug}")
    assert "2:00pm to 3:00pm" in own.text
    denver = api.get(f"/events/{slug}?tz=America/Denver")
    assert denver.status == 200
    assert "12:00pm to 1:00pm" in denver.text
    assert "Mountain Time - US &amp; Canada" in denver.text
    assert '<option value="America/Denver" selected>' in denver.text
    assert db.value("SELECT timezone FROM eventbox.events WHERE slug = %s",
                    slug) == "America/New_York"


@pytest.mark.parametrize("tz", ["Mars/Olympus", "<script>", "America%2FDenver%00",
                                "'; DROP TABLE x; --"])
def test_an_unknown_time_zone_is_refused_and_not_echoed(api, make_event, tz):
    slug = make_event()
    r = api.get(f"/events/{slug}?tz=" + urllib.parse.quote(tz, safe="%"))
    assert r.status == 400 and is_html(r), r
    assert "<script>" not in r.text and "Olympus" not in r.text


def assert_leads_back(r, path, back, text, status=400):
    """r, the answer to path (a bad ?tz=), is a 400 (status) page whose only
    link in main, text, leads to back, and whose language switcher leads to
    back's page (without its query) too; nothing of the bad zone is
    shown."""
    assert r.status == status and is_html(r), (path, r)
    main = r.text.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>', main)
    assert links == [(html.escape(back), text)], (path, main)
    other = "en" if "lang=es" in path else "es"
    assert (f'<a href="{back.split("?")[0]}?lang={other}" hreflang="{other}"'
            in r.text), (path, r.text)
    assert "Mars" not in r.text and "<script>" not in r.text


def test_an_unknown_time_zone_leads_back_to_the_event_without_it(
        patron, db, make_event):
    """The 400 of a bad ?tz= on an event's page offered only "See all
    upcoming events": the patron, who came for this event, had to find it
    again.  It links back to the event, without the zone and with the
    language kept, from the event page, the form's POST and its address
    opened as a page; the switcher leads to the event too."""
    slug = make_event()
    page = patron.get(f"/events/{slug}")
    form = [("csrf", csrf_of(page)), ("name", "Ann"), ("email", "ann@example.org"),
            ("organization", ""), ("website", "")]
    for how, path, back, text in [
            ("GET", f"/events/{slug}?tz=Mars%2FOlympus", f"/events/{slug}",
             "Back to the event"),
            ("GET", f"/events/{slug}?tz=UTC&tz=Asia/Tokyo", f"/events/{slug}",
             "Back to the event"),
            ("GET", f"/events/{slug}?lang=es&tz=%3Cscript%3E",
             f"/events/{slug}?lang=es", "Volver al evento"),
            ("GET", f"/events/{slug}/register?tz=Mars%2FOlympus",
             f"/events/{slug}", "Back to the event"),
            ("POST", f"/events/{slug}/register?tz=Mars%2FOlympus&lang=es",
             f"/events/{slug}?lang=es", "Volver al evento")]:
        r = patron.get(path) if how == "GET" else patron.post(path, form)
        assert_leads_back(r, path, back, text)
    assert registrations(db, slug) == 0


def test_the_zone_picked_stays_when_the_form_comes_back_with_errors(
        patron, db, make_event):
    """The form's action kept ?lang= but not ?tz=: the 422 page showed the
    times in the event's zone again, and so did the answer."""
    slug = make_event()
    london = db.value("SELECT lower(to_char(starts_at AT TIME ZONE 'Europe/London',"
                      " 'FMHH12:MIam')) FROM eventbox.events WHERE slug = %s", slug)
    page = patron.get(f"/events/{slug}?tz=Europe/London&lang=es")
    action = f'action="/events/{slug}/register?tz=Europe%2FLondon&amp;lang=es"'
    assert action in page.text, page.text
    fields = [("csrf", csrf_of(page)), ("name", ""), ("email", "ann@example.org"),
              ("organization", ""), ("website", "")]
    r = patron.post(f"/events/{slug}/register?tz=Europe%2FLondon&lang=es", fields)
    assert r.status == 422 and "Escriba su nombre" in r.text, r
    assert "<dt>Zona horaria</dt><dd>Londres</dd>" in r.text
    assert '<option value="Europe/London" selected>' in r.text
    assert action in r.text
    # The answer gives the time in the same zone.
    page = patron.get(f"/events/{slug}?tz=Europe/London")
    fields[0], fields[1] = ("csrf", csrf_of(page)), ("name", "Ann")
    r = patron.post(f"/events/{slug}/register?tz=Europe%2FLondon", fields)
    assert r.status == 200 and "<h1>You are registered</h1>" in r.text, r
    assert london in r.text and "(London)" in r.text
    assert patron.post(f"/events/{slug}/register?tz=Mars%2FOlympus",
                       fields).status == 400
    assert registrations(db, slug) == 1


def test_a_hybrid_event_is_in_person_and_online_and_a_cancelled_one_sends_no_link(
        api, make_event):
    online = api.get(f"/events/{make_event(format='online')}").text
    assert ("<dt>How to join</dt><dd>The link to join is sent in the registration"
            " email.</dd>") in online
    hybrid = api.get(f"/events/{make_event(format='hybrid', location='Room 2')}")
    assert ("<dt>Format</dt><dd>Hybrid: in person and online</dd>\n<dt>Location</dt>"
            "<dd>Room 2</dd>\n<dt>How to join</dt><dd>The link to join online is sent"
            " in the registration email.</dd>") in hybrid.text
    es = api.get(f"/events/{make_event(format='hybrid', location='Room 2')}?lang=es")
    assert ("<dt>Cómo participar</dt><dd>El enlace para conectarse en línea se envía"
            in es.text)
    for fmt in ("online", "hybrid"):
        gone = api.get(f"/events/{make_event(format=fmt, status='cancelled', location='Room 2')}")
        assert gone.status == 200, gone
        assert "The link to join" not in gone.text and "How to join" not in gone.text


def test_staff_text_is_escaped(api, make_event):
    slug = make_event(title="<script>alert(1)</script> & \"Q\"",
                      description="<img src=x onerror=alert(1)>\n\n- <b>item</b>",
                      presenter="<iframe src=//evil.example>",
                      organizer="O'Brien <i>",
                      categories=["<svg onload=alert(1)>"])
    r = api.get(f"/events/{slug}")
    t = r.text
    assert "<script>alert" not in t and "<img src=x" not in t
    assert "<iframe" not in t and "<svg" not in t and "<b>" not in t
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q&quot;" in t
    assert "<li>&lt;b&gt;item&lt;/b&gt;</li>" in t
    assert "O&#39;Brien &lt;i&gt;" in t
    assert "category=%3Csvg%20onload%3Dalert%281%29%3E" in t


def test_an_image_has_its_alt_text_or_an_empty_one_when_decorative(
        api, db, make_event):
    slug = make_event()
    db.all("UPDATE eventbox.events SET image_path = '/static/x.png',"
           " image_alt = 'A person holding a phone' WHERE slug = %s", slug)
    r = api.get(f"/events/{slug}")
    assert '<img class="event-image" src="/static/x.png" alt="A person holding a phone">' in r.text
    db.all("UPDATE eventbox.events SET image_decorative = true WHERE slug = %s",
           slug)
    r = api.get(f"/events/{slug}")
    assert '<img class="event-image" src="/static/x.png" alt="">' in r.text


@pytest.mark.parametrize("path", ["https://tracker.example/x.png",
                                  "/static/../etc/passwd", "javascript:alert(1)"])
def test_an_image_from_elsewhere_is_refused_by_the_database(db, make_event, path):
    import psycopg2
    slug = make_event()
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.all("UPDATE eventbox.events SET image_path = %s, image_alt = 'x'"
               " WHERE slug = %s", path, slug)


def test_an_image_without_alt_text_must_be_marked_decorative(db, make_event):
    import psycopg2
    slug = make_event()
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.all("UPDATE eventbox.events SET image_path = '/static/x.png'"
               " WHERE slug = %s", slug)


def test_a_cancelled_event_says_so_first_and_offers_only_the_ics(api, make_event):
    slug = make_event(status="cancelled")
    r = api.get(f"/events/{slug}")
    assert r.status == 200, r
    notice = ('<p class="cancelled-notice">This event has been cancelled and will'
              ' not take place.</p>')
    # Right under the title, before the date and the calendar links.
    assert f"</h1>\n{notice}" in r.text
    assert r.text.index(notice) < r.text.index('<dl class="facts">')
    # Google and Outlook.com would add it as a normal entry; the .ics says
    # it is cancelled.
    assert "calendar.google.com" not in r.text and "outlook.live.com" not in r.text
    assert f'<a href="/events/{slug}.ics">' in r.text
    assert "STATUS:CANCELLED" in api.get(f"/events/{slug}.ics").text
    es = api.get(f"/events/{slug}?lang=es").text
    assert "Este evento se canceló y no se realizará." in es
    # A published event: the web calendars, no notice.
    r = api.get(f"/events/{make_event()}")
    assert "calendar.google.com" in r.text and "outlook.live.com" in r.text
    assert "cancelled-notice" not in r.text


def test_a_cancelled_event_is_titled_cancelled(api, patron, db, make_event):
    """Only the notice under the heading said the event was cancelled: the
    title, the tab's name and what a screen reader says first, read as
    for any event (WCAG 2.4.2)."""
    slug = make_event(title="Knitting circle", at="14:00", starts_in="20 days")
    page = patron.get(f"/events/{slug}")
    assert re.search(r"<title>Knitting circle, [^<]*, 2:00pm - Library events</title>",
                     page.text), page.text[:1000]
    fields = [("csrf", csrf_of(page)), ("name", "Ann"),
              ("email", "ann@example.org"), ("organization", ""), ("website", "")]
    db.all("SELECT eventbox.set_status(%s, 'cancelled')", slug)
    r = api.get(f"/events/{slug}")
    assert r.status == 200, r
    assert re.search(r"<title>Cancelled: Knitting circle, [^<]*, 2:00pm"
                     r" - Library events</title>", r.text), r.text[:1000]
    assert "<h1>Knitting circle</h1>" in r.text
    es = api.get(f"/events/{slug}?lang=es").text
    assert re.search(r"<title>Cancelado: Knitting circle, [^<]*, 14:00"
                     r" - Eventos de la biblioteca</title>", es), es[:1000]
    # The form sent from a page loaded before: refused, and titled so.
    r = patron.post(f"/events/{slug}/register", fields)
    assert r.status == 403, r
    assert re.search(r"<title>Error: Cancelled: Knitting circle, ", r.text), \
        r.text[:1000]


# --- headers and error pages -------------------------------------------------

def check_security_headers(r):
    csp = r.header("Content-Security-Policy") or ""
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, r
    assert "unsafe-inline" not in csp
    assert r.header("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("path", ["/events", "/events/{slug}", "/events/{slug}.ics",
                                  "/events/no-such-event", "/static/style.css"])
def test_pages_carry_the_security_headers(api, make_event, path):
    r = api.get(path.format(slug=make_event()))
    check_security_headers(r)


def test_the_page_has_no_inline_script_or_style(api, make_event):
    r = api.get(f"/events/{make_event()}")
    # The JSON-LD block is data, never run (test_jsonld.py): not a script.
    assert re.search(r'<script(?![^>]*\b(src=|type="application/ld\+json"))', r.text) is None
    assert "<style" not in r.text and " style=" not in r.text
    assert re.search(r"\son[a-z]+=", r.text) is None


@pytest.mark.parametrize("path, status", [
    ("/events/no-such-event", 404), ("/events/Not_A_Slug", 404),
    ("/events/no-such-event.ics", 404), ("/cancel/nonsense", 404),
])
def test_errors_on_the_pages_are_html(api, path, status):
    r = api.get(path)
    assert r.status == status and is_html(r), r
    assert '<html lang="en">' in r.text


def test_a_wrong_method_on_a_page_is_an_html_405(api, make_event):
    slug = make_event()
    r = api.request("PUT", f"/events/{slug}/register")
    assert r.status == 405 and is_html(r), r
    assert r.header("Allow") == "GET, HEAD, POST, OPTIONS"
    # The API keeps its JSON errors.
    r = api.get("/api/v1/events/no-such-event")
    assert r.status == 404 and r.json["error"]["code"] == "event_not_found"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_forms_target_opened_as_a_page_goes_back_to_the_event(api, make_event,
                                                                   method):
    """A new tab or a reload of the form's answer asks GET .../register: a 303
    to the event page, the language chosen by ?lang= kept, nothing
    registered."""
    slug = make_event()
    r = api.request(method, f"/events/{slug}/register")
    assert r.status == 303, r
    assert r.header("Location") == f"/events/{slug}"
    assert r.body == b""
    # A page's redirect, not an API answer (it said application/json).
    assert is_html(r), r
    r = api.request(method, f"/events/{slug}/register?lang=es")
    assert r.status == 303 and r.header("Location") == f"/events/{slug}?lang=es", r
    # Only a language the site has; anything else is dropped, not echoed.
    r = api.request(method, f"/events/{slug}/register?lang=xx%0d%0aSet-Cookie:a")
    assert r.status == 303 and r.header("Location") == f"/events/{slug}", r
    assert r.header("Set-Cookie") is None
    # The zone the times were shown in (the form's action carries it) is
    # kept too; one not in the list is the event page's 400.
    r = api.request(method, f"/events/{slug}/register?tz=Europe/London&lang=es")
    assert r.status == 303, r
    assert r.header("Location") == f"/events/{slug}?tz=Europe%2FLondon&lang=es", r
    r = api.request(method, f"/events/{slug}/register?tz=Europe/London")
    assert r.header("Location") == f"/events/{slug}?tz=Europe%2FLondon", r
    assert api.request(method, f"/events/{slug}/register?tz=Mars/Base").status == 400
    # A slug no event could have is the usual 404 page, not a redirect.
    r = api.request(method, "/events/Not%20A%20Slug/register")
    assert r.status == 404 and r.header("Location") is None, r


def test_the_only_cookie_is_the_csrf_one_with_its_attributes(api, make_event):
    r = api.get(f"/events/{make_event()}")
    cookies = [v for k, v in r.headers if k.lower() == "set-cookie"]
    assert len(cookies) == 1, cookies
    name, _, attrs = cookies[0].partition(";")
    # Issue time, 128 random bits, the server's signature of both.
    assert re.fullmatch(r"eventbox_csrf=[0-9a-f]{8}\.[0-9a-f]{32}\.[0-9a-f]{32}",
                        name)
    attrs = {a.strip().lower() for a in attrs.split(";")}
    assert {"path=/", "httponly", "samesite=lax", "max-age=43200"} <= attrs
    assert "secure" not in attrs     # the test stack is plain http
    for path in ("/events", "/events/no-such-event"):
        assert api.get(path).header("Set-Cookie") is None


# --- registering ---------------------------------------------------------------

def test_registering_answers_a_tokenless_no_store_page(patron, db, make_event):
    slug = make_event(capacity=2)
    email = f"reg-{uuid.uuid4().hex[:8]}@example.org"
    r = patron.register(slug, email=email)
    assert r.status == 200 and is_html(r), r
    assert "<h1>You are registered</h1>" in r.text
    assert r.header("Cache-Control") == "no-store"
    assert r.header("Location") is None
    token = db.tokens(email)[-1]
    assert token not in r.text
    assert db.summary(slug)["confirmed"] == 1
    assert db.value("SELECT source FROM eventbox.registrations"
                    " WHERE email = %s", email) == "web"


def test_a_full_event_puts_the_patron_on_the_waiting_list(patron, db, make_event):
    slug = make_event(capacity=0)
    r = patron.register(slug)
    assert r.status == 200 and "<h1>You are on the waiting list</h1>" in r.text
    assert "number 1 on the waiting list" in r.text


def test_each_answer_says_what_its_email_brings_and_a_waiting_place_is_no_seat(
        patron, make_event):
    """The waiting-list answer spoke of "that email" (it had named none) and
    of "your seat" (a waiting patron has none)."""
    r = patron.register(make_event(capacity=0))
    assert "your seat" not in r.text and "that email" not in r.text
    assert ("An email with your link to leave the waiting list is on its way."
            in r.text), r.text
    r = patron.register(make_event())
    assert "<h1>You are registered</h1>" in r.text
    assert ("please use the cancellation link in that email, so that someone"
            " else can have your seat.") in r.text
    slug = make_event(capacity=0)
    page = patron.get(f"/events/{slug}?lang=es")
    r = patron.post(f"/events/{slug}/register?lang=es", [
        ("csrf", csrf_of(page)), ("name", "Ana"),
        ("email", f"es-{uuid.uuid4().hex[:8]}@example.org"),
        ("organization", ""), ("website", "")])
    assert r.status == 200 and "ese correo" not in r.text, r
    assert ("Le enviaremos un correo electrónico con su enlace para salir de la"
            " lista de espera.") in r.text


def test_a_full_event_without_waiting_list_says_so_on_the_form(patron, db,
                                                               make_event):
    slug = make_event(capacity=1, waitlist=False)
    page = patron.get(f"/events/{slug}")
    assert patron.register(slug).status == 200
    # A second patron who loaded the page before it filled up.
    fields = [("csrf", csrf_of(page)), ("name", "Late"),
              ("email", "late@example.org"), ("organization", ""),
              ("website", "")]
    r = patron.post(f"/events/{slug}/register", fields)
    assert r.status == 409 and is_html(r), r
    assert "There is a problem" in r.text and "This event is full." in r.text
    # It never had a waiting list to close.
    assert "waiting list" not in r.text


def test_a_full_event_is_full_and_only_a_waiting_list_is_said_closed(api,
                                                                     make_event):
    none = make_event(capacity=1, waitlist=False)
    closed = make_event(capacity=1, waitlist_capacity=0)
    for slug in (none, closed):
        assert api.register(slug, "Ann", f"a-{uuid.uuid4().hex[:8]}@example.org"
                            ).status == 201
    r = api.register(none, "Bob", f"b-{uuid.uuid4().hex[:8]}@example.org")
    assert r.status == 409 and r.json["error"] == {
        "code": "event_full", "message": "this event is full"}, r.json
    r = api.register(closed, "Bob", f"b-{uuid.uuid4().hex[:8]}@example.org")
    assert r.status == 409 and r.json["error"] == {
        "code": "event_full",
        "message": "this event is full and its waiting list is closed"}, r.json


@pytest.mark.parametrize("name, email, errors", [
    ("", "", ["Enter your name", "Enter your email address"]),
    ("Ann", "not-an-address", ["Enter an email address like name@example.org"]),
    ("x" * 2000, "ann@example.org", ["Your name must be 200 characters or fewer"]),
    ("Ann", "a" * 2000 + "@example.org", ["Your email address must be 254"]),
    # Beyond 8 KB decoded (the form takes 48 KB), as the API says of it:
    # the form "arrived damaged" (400) and kept nothing typed.
    ("x" * 9000, "ann@example.org", ["Your name must be 200 characters or fewer"]),
    ("\u540d" * 3000, "ann@example.org", ["Your name must be 200 characters or fewer"]),
])
def test_errors_reshow_the_form_with_messages_and_the_input_kept(
        patron, db, make_event, name, email, errors):
    slug = make_event()
    r = patron.register(slug, name=name, email=email)
    assert r.status == 422 and is_html(r), r
    assert 'id="error-summary"' in r.text
    for e in errors:
        assert e in r.text
    for field, value in (("name", name), ("email", email)):
        tag = re.search(rf'<input id="{field}"[^>]*>', r.text).group(0)
        assert f'value="{html.escape(value, quote=True)}"' in tag.replace("&#39;", "&#x27;")
    assert registrations(db, slug) == 0


def test_an_invalid_field_is_tied_to_its_message(patron, make_event):
    r = patron.register(make_event(), name="", email="ann@example.org")
    tag = re.search(r'<input id="name"[^>]*>', r.text).group(0)
    assert 'aria-invalid="true"' in tag and 'aria-describedby="name-error"' in tag
    assert 'id="name-error"' in r.text
    assert '<a href="#name">Enter your name</a>' in r.text
    tag = re.search(r'<input id="email"[^>]*>', r.text).group(0)
    assert "aria-invalid" not in tag


def test_a_name_with_a_link_is_refused_next_to_the_name(patron, db, make_event):
    slug = make_event()
    r = patron.register(slug, name="Gift card at https://evil.example/x",
                        email="target@example.org")
    assert r.status == 422, r
    tag = re.search(r'<input id="name"[^>]*>', r.text).group(0)
    assert 'aria-invalid="true"' in tag
    assert "Enter just your name, without a web address or an email address" in r.text
    assert registrations(db, slug) == 0


@pytest.mark.parametrize("name", ["Call http://evil.example/x now",
                                  "Write to claims@evil.example", "Visit www.evil.example"])
def test_the_token_pages_show_no_name_that_is_a_link_or_an_address(
        patron, api, db, make_event, name):
    """A name an older release took (today's service refuses it), put in
    the row as that release left it: the emails no longer greet it, but
    the pages they link to (/registration/, /cancel/, /confirm/) showed it
    to whoever holds the address, under "Name", from the consortium's
    domain.  They show no Name then; a person's name is still shown."""
    slug = make_event()
    held = make_event(confirmation_required=True)
    addr = f"l-{uuid.uuid4().hex[:8]}@example.org"
    assert patron.register(slug, name="Ann Reader", email=addr).status == 200
    assert api.register(held, "Ann Reader", addr).status == 202
    token = db.tokens(addr, "confirmed")[-1]
    pages = [f"/registration/{token}", f"/cancel/{token}",
             f"/confirm/{db.tokens(addr, 'confirm_address')[-1]}"]
    for path in pages:
        r = patron.get(path)
        assert r.status == 200 and "<dt>Name</dt><dd>Ann Reader</dd>" in r.text, (path, r)
    db.all("UPDATE eventbox.registrations SET name = %s WHERE email = %s", name, addr)
    for path in pages:
        for lang in ("", "?lang=es"):
            r = patron.get(path + lang)
            assert r.status == 200, (path, r)
            assert "evil" not in r.text and html.escape(name) not in r.text, (path, lang)
            assert "<dt>Name</dt>" not in r.text and "<dt>Nombre</dt>" not in r.text
            assert '<dl class="facts">' in r.text


@pytest.mark.parametrize("field", ["name", "email", "organization"])
def test_hostile_input_comes_back_escaped(patron, make_event, field):
    slug = make_event()
    values = {"name": "Ann", "email": "ann@example.org", "organization": ""}
    values[field] = HOSTILE + "x" * 2000
    r = patron.register(slug, **values)
    assert r.status == 422, r
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &#39;single&#39;" in r.text
    assert "&amp;amp;" in r.text
    assert r.text.rstrip().endswith("</html>")


def test_a_hostile_but_valid_name_is_registered_and_shown_escaped(
        patron, db, make_event, api):
    slug = make_event()
    email = f"h-{uuid.uuid4().hex[:8]}@example.org"
    name = "<script>alert(1)</script> O'Brien \u200fevil"
    r = patron.register(slug, name=name, email=email, organization=HOSTILE)
    assert r.status == 200, r
    token = db.tokens(email)[-1]
    page = patron.get(f"/cancel/{token}")
    assert page.status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien \u200fevil" in page.text
    assert "<script>alert" not in page.text


def test_a_name_with_a_right_to_left_override_comes_back_to_be_mended(
        patron, db, make_event):
    """U+202E would turn the rest of a roster line or an email around: the
    form shows the name again (escaped) with its error, and registers
    nobody."""
    slug = make_event()
    r = patron.register(slug, name="Ann \u202egpj.exe")
    assert r.status == 422, r
    assert "Ann \u202egpj.exe" in r.text
    assert registrations(db, slug) == 0


def test_a_name_with_a_noncharacter_comes_back_to_be_mended(
        patron, db, make_event):
    """U+FFFE is valid UTF-8 but no text (XML has no place for it, HTML
    calls it a parse error): the form says so, as of a control character,
    and registers nobody."""
    slug = make_event()
    r = patron.register(slug, name="Ann\ufffeLee")
    assert r.status == 422, r
    assert "Your name must be one line of text" in r.text
    assert registrations(db, slug) == 0


@pytest.mark.parametrize("kind", ["plain", "confirm_by_email", "waiting_list",
                                  "full"])
def test_the_honeypot_looks_like_success_and_registers_nobody(api, patron, db,
                                                              make_event, kind):
    """The bot's answer is the page a person registering on that event
    gets: on an event that confirms by email that is "Check your email",
    on a full one with room on its waiting list a waiting place with the
    number the next one gets, on one with neither seats nor waiting places
    the full event again, where the honeypot said "You are registered" and
    told a bot comparing the two that it was caught.  Only the event (its
    link and title) differs between the two pages."""
    cols = {"confirmation_required": kind == "confirm_by_email"}
    if kind in ("waiting_list", "full"):
        cols.update(capacity=1, waitlist_capacity=3 if kind == "waiting_list" else 2)
    slug, other = make_event(at="14:00", **cols), make_event(at="14:00", **cols)
    # Pages loaded before the events filled up (a full one has no form).
    pages = {s: patron.get(f"/events/{s}") for s in (slug, other)}
    if kind in ("waiting_list", "full"):
        for s in (slug, other):         # a seat and two waiting places
            for _ in range(3):
                assert api.register(s, "Ann", f"a-{uuid.uuid4().hex[:8]}@example.org"
                                    ).status == 201
    before = registrations(db, slug)

    def post(s, website):
        return patron.post(f"/events/{s}/register", [
            ("csrf", csrf_of(pages[s])), ("attempt", attempt_of(pages[s])),
            ("name", "Ann"), ("email", f"ann-{uuid.uuid4().hex[:8]}@example.org"),
            ("organization", ""), ("website", website)])

    real = post(other, "")
    r = post(slug, "http://spam.example")
    assert r.status == real.status == (409 if kind == "full" else 200), real
    # The full event's page again: its slug in its calendar links too,
    # and the form's new token.
    strip = lambda t: re.sub(r'/events/[a-z0-9-]+|Test event [a-z0-9-]+'
                             r'|t-[0-9a-f]{12}|value="[0-9a-f]{32,64}"', "", t)
    assert strip(r.text) == strip(real.text)
    if kind == "full":
        assert "this event is full and its waiting list is closed" in r.text.lower(), r.text
    else:
        title = {"plain": "You are registered", "confirm_by_email": "Check your email",
                 "waiting_list": "You are on the waiting list"}[kind]
        assert f"<h1>{title}</h1>" in r.text and f"<title>{title}" in r.text, r.text
    if kind == "waiting_list":
        assert "You are number 3 on the waiting list." in r.text, r.text
    assert registrations(db, slug) == before


# --- the form's strictness and CSRF --------------------------------------------

def form_post(patron, slug, raw, content_type="application/x-www-form-urlencoded"):
    page = patron.get(f"/events/{slug}")
    raw = raw.replace("CSRF", csrf_of(page))
    return patron.post(f"/events/{slug}/register", None, raw=raw,
                       content_type=content_type)


@pytest.mark.parametrize("raw", [
    "csrf=CSRF&name=Ann&name=Bob&email=a%40example.org",
    "csrf=CSRF&name=Ann&email=a%40example.org&admin=1",
    "csrf=CSRF&name=%FF%FE&email=a%40example.org",
    "csrf=CSRF&name=Ann%00&email=a%40example.org",
    "csrf=CSRF&name=Ann%zz&email=a%40example.org",
    "csrf=CSRF&name&email=a%40example.org",
    "csrf=CSRF&name=Ann&email=a%40example.org&",
    "csrf=CSRF&" + "&".join(f"k{i}=1" for i in range(40)),
    "csrf=CSRF&name=Ann&na%6De=Bob&email=a%40example.org",
    "csrf=CSRF&%6Eame=Bob&name=Ann&email=a%40example.org",
    "csrf=CSRF&name=Ann&email=a%40example.org&%FF=1",
    "csrf=CSRF&name=Ann&email=a%40example.org&%zz=1",
], ids=["duplicate", "unknown-key", "bad-utf8", "nul", "bad-escape", "no-equals",
        "trailing-amp", "too-many", "encoded-duplicate", "encoded-duplicate-first",
        "name-not-utf8", "name-bad-escape"])
def test_a_malformed_form_is_refused_and_registers_nobody(patron, db, make_event,
                                                          raw):
    slug = make_event()
    r = form_post(patron, slug, raw)
    assert r.status == 400 and is_html(r), r
    assert registrations(db, slug) == 0


def test_a_form_whose_names_are_percent_encoded_registers(patron, db, make_event):
    """A form field's name is decoded as a query's is: na%6De is name (it
    was an unknown key, and the form a 400)."""
    slug = make_event()
    email = f"enc-{uuid.uuid4().hex[:8]}@example.org"
    r = form_post(patron, slug, "%63srf=CSRF&na%6De=Ann+Enc&%65%6Dail="
                  + urllib.parse.quote(email) + "&organization=&web%73ite=")
    assert r.status == 200 and "<h1>You are registered</h1>" in r.text, r
    assert db.value("SELECT name FROM eventbox.registrations WHERE email = %s",
                    email) == "Ann Enc"
    # The honeypot's name encoded is the honeypot still.
    r = form_post(patron, slug, "csrf=CSRF&name=Bot&email=bot%40example.org"
                  "&web%73ite=http%3A%2F%2Fspam.example")
    assert r.status == 200 and "<h1>You are registered</h1>" in r.text, r
    assert registrations(db, slug) == 1


def test_a_form_in_another_media_type_is_415(patron, db, make_event):
    slug = make_event()
    r = form_post(patron, slug, '{"csrf": "CSRF", "name": "Ann"}',
                  content_type="application/json")
    assert r.status == 415 and is_html(r), r


def test_a_compressed_form_is_a_415_page_naming_uncompressed_forms(patron, db,
                                                                  make_event):
    slug = make_event()
    page = patron.get(f"/events/{slug}")
    body = urllib.parse.urlencode([("csrf", csrf_of(page)), ("name", "Ann"),
                                   ("email", "ann@example.org")]).encode()
    r = patron.api.post(f"/events/{slug}/register", body=gzip.compress(body),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Content-Encoding": "gzip",
                                 "Cookie": patron.cookie})
    assert r.status == 415 and is_html(r), r
    assert "uncompressed" in r.text and r.header("Accept-Encoding") == "identity"
    assert registrations(db, slug) == 0


def test_without_the_cookie_the_form_is_refused(api, patron, db, make_event):
    slug = make_event()
    page = patron.get(f"/events/{slug}")
    fields = [("csrf", csrf_of(page)), ("name", "Ann"),
              ("email", "ann@example.org"), ("organization", ""), ("website", "")]
    stranger = Patron(api)
    r = stranger.post(f"/events/{slug}/register", fields)
    assert r.status == 403 and is_html(r), r
    # Nothing sent; the form again, as typed, with a new token (and its
    # cookie) to send by the patron's own hand, and why.
    assert "This form had expired, so nothing was sent." in r.text
    # Said first by the title, all a screen reader announces of the page
    # when no script moves the focus to the error summary.
    assert re.search(r"<title>Error: Test event [^<]* - Library events</title>",
                     r.text), r.text[:1000]
    assert "allow this site&#39;s cookie" in r.text or "allow this site's cookie" in r.text
    assert 'value="ann@example.org"' in r.text and 'value="Ann"' in r.text
    assert csrf_of(r) != fields[0][1] and r.header("Set-Cookie") is not None
    # Another browser's cookie with this browser's field: refused too.
    stranger.get(f"/events/{slug}")
    assert stranger.post(f"/events/{slug}/register", fields).status == 403
    fields[0] = ("csrf", "0" * 64)
    assert patron.post(f"/events/{slug}/register", fields).status == 403
    assert registrations(db, slug) == 0


def test_an_expired_form_comes_back_in_the_zone_picked(api, patron, db, make_event):
    """The 403 of an expired form showed the times in the zone ?tz= picked
    but named the event's zone as theirs, and its form lost ?tz=, where
    the live form and its 422 keep the zone."""
    slug = make_event()
    facts = re.compile(r'<dl class="facts">.*?</dl>', re.S)
    page = patron.get(f"/events/{slug}?tz=Asia/Tokyo&lang=es")
    action = f'action="/events/{slug}/register?tz=Asia%2FTokyo&amp;lang=es"'
    assert action in page.text and "<dd>Tokio</dd>" in page.text, page.text
    fields = [("csrf", csrf_of(page)), ("name", "Ann"), ("email", "ann@example.org"),
              ("organization", ""), ("website", "")]
    r = Patron(api).post(f"/events/{slug}/register?tz=Asia%2FTokyo&lang=es", fields)
    assert r.status == 403 and is_html(r), r
    assert facts.search(r.text).group(0) == facts.search(page.text).group(0), r.text
    assert '<option value="Asia/Tokyo" selected>' in r.text
    assert action in r.text
    assert registrations(db, slug) == 0


def test_the_same_form_sent_again_is_answered_as_the_first_time(patron, db, make_event):
    """A reload of the answer is the browser sending the form again: it was
    answered as a new registration of a registered address ("number 1 on
    the waiting list" to a seat holder) and sent a note that revoked the
    links of the confirmation the patron kept."""
    slug = make_event(capacity=1)
    addr = f"r-{uuid.uuid4().hex[:8]}@example.org"
    page = patron.get(f"/events/{slug}")
    fields = [("csrf", csrf_of(page)), ("attempt", attempt_of(page)), ("name", "Ann"),
              ("email", addr), ("organization", ""), ("website", "")]
    first = patron.post(f"/events/{slug}/register", fields)
    assert first.status == 200 and "You are registered" in first.text, first
    token = db.tokens(addr)[-1]
    for _ in range(2):
        again = patron.post(f"/events/{slug}/register", fields)
        assert again.status == 200, again
        assert "You are registered" in again.text and "waiting list" not in again.text
    assert db.summary(slug)["confirmed"] == 1 and db.summary(slug)["waitlisted"] == 0
    assert db.tokens(addr, "already_registered") == []
    assert patron.get(f"/cancel/{token}").status == 200
    # The same form with something changed is another request: a repeat
    # of a registered address, answered as a new one would be (the event
    # is full now), the note sent.
    changed = [(k, "Ann Reader" if k == "name" else v) for k, v in fields]
    other = patron.post(f"/events/{slug}/register", changed)
    assert other.status == 200 and "waiting list" in other.text, other
    assert len(db.tokens(addr, "already_registered")) == 1


def test_a_new_page_is_a_new_attempt_after_cancelling(patron, db, make_event):
    """The attempt id is the page's: the patron who cancelled and comes back
    to register again with the same details is registered again."""
    slug = make_event()
    addr = f"n-{uuid.uuid4().hex[:8]}@example.org"
    assert patron.register(slug, name="Ann", email=addr).status == 200
    token = db.tokens(addr)[-1]
    ask = patron.get(f"/cancel/{token}")
    assert patron.post(f"/cancel/{token}", [("csrf", csrf_of(ask))]).status == 200
    assert db.summary(slug)["confirmed"] == 0
    r = patron.register(slug, name="Ann", email=addr)
    assert r.status == 200 and "You are registered" in r.text, r
    assert db.summary(slug)["confirmed"] == 1


def test_a_cookie_the_server_did_not_issue_is_replaced_and_refused(
        api, patron, db, make_event):
    slug = make_event()
    page = patron.get(f"/events/{slug}")
    good = patron.cookie
    fields = [("csrf", csrf_of(page)), ("name", "Ann"),
              ("email", "ann@example.org"), ("organization", ""), ("website", "")]
    # A value of the attacker's choosing (the old double-submit accepted any
    # 64 hex digits) and a real one with its signature altered.
    made_up = "eventbox_csrf=" + "ab" * 32
    tampered = good[:-1] + ("0" if good[-1] != "0" else "1")
    for cookie in (made_up, tampered):
        r = api.get(f"/events/{slug}", headers={"Cookie": cookie})
        assert r.header("Set-Cookie") is not None, r   # not taken as ours
        assert cookie_of(r) != cookie
        r = api.post(f"/events/{slug}/register", headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
            body=urllib.parse.urlencode(fields))
        assert r.status == 403 and is_html(r), r
    assert registrations(db, slug) == 0
    assert patron.post(f"/events/{slug}/register", fields).status == 200


# --- cancelling -------------------------------------------------------------------

def test_the_cancel_link_asks_first_and_only_the_post_cancels(patron, db,
                                                              make_event):
    slug = make_event(capacity=1)
    email = f"c-{uuid.uuid4().hex[:8]}@example.org"
    assert patron.register(slug, email=email).status == 200
    waiting = f"w-{uuid.uuid4().hex[:8]}@example.org"
    assert "waiting list" in patron.register(slug, email=waiting).text
    token = db.tokens(email)[-1]
    for _ in range(2):
        r = patron.get(f"/cancel/{token}")
        assert r.status == 200 and "Cancel my registration</button>" in r.text
        assert r.header("Cache-Control") == "no-store"
        assert r.header("Referrer-Policy") == "no-referrer"
        check_security_headers(r)
    assert db.summary(slug)["confirmed"] == 1
    r = patron.post(f"/cancel/{token}", [("csrf", csrf_of(r))])
    assert r.status == 200 and "<h1>Your registration is cancelled</h1>" in r.text
    assert r.header("Referrer-Policy") == "no-referrer"
    # The waiting patron moved up into the freed seat.
    assert db.value("SELECT status FROM eventbox.registrations WHERE email = %s",
                    waiting) == "confirmed"


def test_the_cancel_page_speaks_of_the_waiting_list_only_when_it_took_the_place(
        patron, db, make_event):
    def cancel(slug, email):
        token = db.tokens(email)[-1]
        r = patron.get(f"/cancel/{token}")
        r = patron.post(f"/cancel/{token}", [("csrf", csrf_of(r))])
        assert r.status == 200, r
        return r.text
    free = "your place is free for someone else"
    # No waiting list at all.
    slug = make_event(capacity=1, waitlist=False)
    ann = f"n-{uuid.uuid4().hex[:8]}@example.org"
    patron.register(slug, email=ann)
    text = cancel(slug, ann)
    assert free in text and "waiting list" not in text
    # A waiting list with nobody on it.
    slug = make_event(capacity=1)
    bob = f"n-{uuid.uuid4().hex[:8]}@example.org"
    patron.register(slug, email=bob)
    text = cancel(slug, bob)
    assert free in text and "waiting list" not in text
    # Somebody waiting takes the seat; somebody leaving the list frees no seat.
    cat, dan, eve = (f"n-{uuid.uuid4().hex[:8]}@example.org" for _ in range(3))
    for a in (cat, dan, eve):
        patron.register(slug, email=a)
    text = cancel(slug, cat)
    assert "your place goes to the next person on the waiting list" in text
    assert db.value("SELECT status FROM eventbox.registrations WHERE email = %s",
                    dan) == "confirmed"
    text = cancel(slug, eve)
    assert "you are no longer on the waiting list" in text and "your place" not in text


def test_a_second_cancel_says_it_was_cancelled_already_and_promises_nothing(
        patron, db, make_event):
    """A double click or a reload of the POST answered that the place was free
    for someone else (the first answer: that it went to the next person
    waiting) and that an email confirmed it, though none more was sent."""
    slug = make_event(capacity=1)
    ann, bob = (f"d-{uuid.uuid4().hex[:8]}@example.org" for _ in range(2))
    patron.register(slug, email=ann)
    patron.register(slug, email=bob)
    token = db.tokens(ann)[-1]
    form = patron.get(f"/cancel/{token}")
    first = patron.post(f"/cancel/{token}", [("csrf", csrf_of(form))])
    assert "your place goes to the next person on the waiting list" in first.text
    for lang, said in (("", "It was already cancelled: nothing more has changed,"
                        " and no further email is sent."),
                       ("?lang=es", "Ya estaba cancelada: no ha cambiado nada más")):
        again = patron.post(f"/cancel/{token}{lang}", [("csrf", csrf_of(form))])
        assert again.status == 200 and said in again.text, again
        assert "free for someone else" not in again.text
        assert "An email confirms" not in again.text
    assert db.value("SELECT count(*) FROM eventbox.outbox o JOIN"
                    " eventbox.registrations r ON r.id = o.registration_id"
                    " WHERE r.email = %s AND o.kind = 'cancelled'", ann) == 1
    assert db.summary(slug)["confirmed"] == 1


def test_leaving_the_waiting_list_works_the_same_way(patron, db, make_event):
    slug = make_event(capacity=0)
    email = f"w-{uuid.uuid4().hex[:8]}@example.org"
    patron.register(slug, email=email)
    token = db.tokens(email)[-1]
    r = patron.get(f"/cancel/{token}")
    assert "Leave the waiting list</button>" in r.text
    r = patron.post(f"/cancel/{token}", [("csrf", csrf_of(r))])
    assert r.status == 200
    # Titled as what it was: no registration was cancelled, a place on the
    # list was given up (it said "Your registration is cancelled").
    assert "<title>You have left the waiting list" in r.text
    assert "<h1>You have left the waiting list</h1>" in r.text
    assert "registration is cancelled" not in r.text
    # Nor said in words for a seat holder ("your place goes to the next
    # person...", "your place is free for someone else"): none was held.
    assert ("Thank you for letting us know: you are no longer on the waiting list."
            " An email confirms it.") in r.text
    assert "your place" not in r.text
    assert db.summary(slug)["waitlisted"] == 0
    # And in Spanish.
    other = f"w-{uuid.uuid4().hex[:8]}@example.org"
    patron.register(slug, email=other)
    token = db.tokens(other)[-1]
    r = patron.get(f"/cancel/{token}?lang=es")
    r = patron.post(f"/cancel/{token}?lang=es", [("csrf", csrf_of(r))])
    assert r.status == 200 and "<h1>Ha salido de la lista de espera</h1>" in r.text, r
    assert "ya no está en la lista de espera" in r.text and "su lugar" not in r.text


def test_unknown_and_used_tokens_get_the_same_calm_page(patron, db, make_event):
    slug = make_event()
    email = f"u-{uuid.uuid4().hex[:8]}@example.org"
    patron.register(slug, email=email)
    token = db.tokens(email)[-1]
    r = patron.get(f"/cancel/{token}")
    patron.post(f"/cancel/{token}", [("csrf", csrf_of(r))])
    used = patron.get(f"/cancel/{token}")
    unknown = patron.get(f"/cancel/{uuid.uuid4()}")
    malformed = patron.get("/cancel/not-a-token")
    assert used.status == unknown.status == malformed.status == 404
    assert used.text == unknown.text == malformed.text
    assert "This link is not active" in used.text


def test_a_cancel_without_the_csrf_field_cancels_nothing(api, patron, db,
                                                         make_event):
    slug = make_event()
    email = f"x-{uuid.uuid4().hex[:8]}@example.org"
    patron.register(slug, email=email)
    token = db.tokens(email)[-1]
    r = Patron(api).post(f"/cancel/{token}", [("csrf", "a" * 64)])
    assert r.status == 403 and is_html(r)
    assert db.summary(slug)["confirmed"] == 1


# --- the calendar file ---------------------------------------------------------------

def test_the_ics_file_parses_and_matches_the_stored_event(api, db, make_event):
    import icalendar
    from zoneinfo import ZoneInfo
    slug = make_event(timezone="America/Denver", title="Ics; test, with \\ marks",
                      location="Room 1")
    # Summer: Denver is on daylight time (UTC-6), the zone's other offset.
    db.all("UPDATE eventbox.events SET starts_at = '2030-07-15 18:30Z',"
           " ends_at = '2030-07-15 20:00Z' WHERE slug = %s", slug)
    r = api.get(f"/events/{slug}.ics")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.body)
    ev = [c for c in cal.walk("VEVENT")][0]
    tzs = [c for c in cal.walk("VTIMEZONE")]
    assert [str(t["TZID"]) for t in tzs] == ["America/Denver"]
    starts, ends, zone = db.one("SELECT starts_at, ends_at, timezone FROM"
                                " eventbox.events WHERE slug = %s", slug)
    dtstart, dtend = ev["DTSTART"], ev["DTEND"]
    assert dtstart.params["TZID"] == dtend.params["TZID"] == zone
    local = starts.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    assert dtstart.dt.replace(tzinfo=None) == local
    assert dtend.dt.replace(tzinfo=None) == ends.astimezone(
        ZoneInfo(zone)).replace(tzinfo=None)
    assert str(ev["SUMMARY"]) == "Ics; test, with \\ marks"
    assert str(ev["LOCATION"]) == "Room 1"
    assert dtstart.dt.replace(tzinfo=None) == datetime.datetime(2030, 7, 15, 12, 30)
    assert "TZOFFSETTO:-0600" in r.text and "TZOFFSETTO:-0700" in r.text
    assert "secret" not in r.text     # never the online URL


def test_with_the_database_down_the_pages_say_try_again_in_html(
        api, patron, make_event):
    slug = make_event()
    page = patron.get(f"/events/{slug}")
    devstack("pg-stop")
    try:
        for r in (api.get(f"/events/{slug}"), api.get("/events"),
                  patron.post(f"/events/{slug}/register",
                              [("csrf", csrf_of(page)), ("name", "Ann"),
                               ("email", "ann@example.org")])):
            assert r.status == 503 and is_html(r), r
            assert r.header("Retry-After") is not None
            assert "Please try again in a moment" in r.text
    finally:
        devstack("pg-start")
    wait_healthy(api)
    assert api.get(f"/events/{slug}").status == 200
