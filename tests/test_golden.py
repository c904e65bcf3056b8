"""Golden files for the public pages and the .ics file, as the emails have
(tests/golden/mail-*.eml, checked by tests/mail_unit.c): every answer below
is fetched through the running test stack (nginx -> FastCGI workers ->
PostgreSQL) and compared byte for byte with tests/golden/page-NAME.html or
tests/golden/event-NAME.ics, so that a refactor shows every byte it
changed.  A mismatch fails with a unified diff; `UPDATE_GOLDEN=1` rewrites
the files instead (then read `git diff tests/golden` before committing).

A golden file holds the status line, the response headers in the order they
came and the body.  The events are this file's own, with fixed slugs, titles
and dates (in 2098, so they stay upcoming and their time-zone rules fixed),
and their counts come only from what the tests here do.

Normalised, because it differs from run to run, and nothing else:

  1. the headers Date and Content-Length are left out (the time; the length
     changes with the normalised values below);
  2. the CSRF cookie's value (Set-Cookie) and the form's hidden csrf field
     -> {csrf}; its attempt id -> {attempt};
  3. the cancellation token in /cancel/ and /registration/ links and
     forms -> {token};
  4. the test stack's origin (http://127.0.0.1:PORT, also percent-encoded
     in the web calendars' links) -> {origin}, and its
     host in the .ics UID -> {host};
  5. the event's database id in the .ics UID (event-ID@) -> event-{id}@;
  6. the .ics DTSTAMP (the event's last change) -> {now};
  7. on the list page, the category <option>s that other tests' events add
     (those in <select id="category"> not starting with "Golden") are
     removed;
  8. the origin's host and port in the list's webcal:// link -> {hostport};
  9. "Upcoming events" on the pages of the register flow's events, whose
     category has fewer than three other events, so that the soonest events
     of the other tests fill it -> {upcoming}.  The pages of the Golden
     events keep theirs: three other Golden events, always the same.
 10. the .ics ETag (of its bytes, before 5 and 6) -> {etag}.
"""
import difflib
import os
import re
import urllib.parse

import pytest

from conftest import ROOT, env
from test_pages import Patron, csrf_of

GOLDEN = os.path.join(ROOT, "tests", "golden")
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
SKIPPED_HEADERS = {"date", "content-length"}
# The events in category Golden (shown() below).
GOLDEN_EVENTS = {"golden-open", "golden-full", "golden-closed", "golden-members",
                 "golden-cancelled"}


def normalise(text):
    origin = env("EVENTBOX_URL").rstrip("/")
    host = urllib.parse.urlsplit(origin).hostname
    text = re.sub(r"(eventbox_csrf=)[^;\s]+", r"\1{csrf}", text)
    text = re.sub(r'(name="csrf" value=")[0-9a-f]+"', r'\1{csrf}"', text)
    text = re.sub(r'(name="attempt" value=")[0-9a-f]+"', r'\1{attempt}"', text)
    text = re.sub(r"/(cancel|registration)/[0-9A-Za-z_-]{16,}", r"/\1/{token}", text)
    text = text.replace(origin, "{origin}")
    text = text.replace("webcal://" + origin.split("://", 1)[1], "webcal://{hostport}")
    text = text.replace(urllib.parse.quote(origin, safe=""), "{origin}")
    text = re.sub(r"^UID:event-[0-9]+@" + re.escape(host) + r"(?=\r?$)",
                  "UID:event-{id}@{host}", text, flags=re.M)
    text = re.sub(r"^DTSTAMP:[0-9]{8}T[0-9]{6}Z", "DTSTAMP:{now}", text,
                  flags=re.M)
    text = re.sub(r'^ETag: "[0-9a-f]{16}"$', 'ETag: "{etag}"', text, flags=re.M)
    own = re.search(r'href="/events/([a-z-]+)\.ics"', text)
    if own is None or own.group(1) not in GOLDEN_EVENTS:
        text = re.sub(r'(<section class="upcoming"[^>]*>\n).*?(</section>)',
                      r"\1{upcoming}\2", text, flags=re.S)
    return re.sub(r'<select id="category".*?</select>', other_categories,
                  text, flags=re.S)


def other_categories(m):
    return re.sub(r'<option value="(?!Golden|")[^"]*"[^\n]*\n', "", m.group(0))


def render(r):
    """The answer as a golden file holds it."""
    lines = [f"HTTP {r.status}"]
    lines += [f"{k}: {v}" for k, v in r.headers
              if k.lower() not in SKIPPED_HEADERS]
    return normalise("\n".join(lines) + "\n\n" + r.body.decode("utf-8"))


def visible(text):
    """Lines for the diff, a CR shown as \\r (the .ics lines end in CRLF)."""
    return [line.replace("\r", "\\r") for line in text.splitlines(True)]


def check(name, r):
    """Compares the answer R with tests/golden/NAME (or rewrites it)."""
    path = os.path.join(GOLDEN, name)
    got = render(r)
    if UPDATE:
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(got)
        return
    assert os.path.exists(path), \
        f"no {path}: run with UPDATE_GOLDEN=1 to create it, then read it"
    with open(path, encoding="utf-8", newline="") as f:
        want = f.read()
    if got != want:
        diff = "".join(difflib.unified_diff(
            visible(want), visible(got),
            f"tests/golden/{name}", f"{name} as served now"))
        pytest.fail(f"{name} differs from its golden file "
                    f"(UPDATE_GOLDEN=1 rewrites it):\n{diff}", pytrace=False)


# --- the events: fixed slugs, texts and dates -----------------------------------

BASE = {
    "description": "What this session covers.\n\nA second paragraph, with"
                   " <angle brackets> & an ampersand.",
    "presenter": "Mark Wetherington", "organizer": "Learning Services",
    "accessibility_contact": "access@library.example.org",
    "timezone": "America/New_York", "capacity": 3, "waitlist_enabled": True,
    "status": "published", "format": "online",
    "online_url": "https://meet.example.org/golden-secret",
}


def make(db, slug, day, **cols):
    """Creates event SLUG on 2098-03-DAY, 2:00pm-3:30pm New York time.  An
    event of that slug left by an earlier run on the same stack is renamed
    and withdrawn first, so every run starts from the same state."""
    db.all("UPDATE eventbox.events SET slug = slug || '-old-' || id,"
           " status = 'cancelled', categories = '{}' WHERE slug = %s", slug)
    fields = dict(BASE, slug=slug, title=f"Golden {slug[7:]} event",
                  categories=["Golden"])
    fields.update(cols)
    # No event is created cancelled (its registrants are told): published,
    # then cancelled as staff do.
    cancel = fields.get("status") == "cancelled"
    if cancel:
        fields["status"] = "published"
    names = ", ".join(fields)
    marks = ", ".join(["%s"] * len(fields))
    db.all(f"INSERT INTO eventbox.events ({names}, starts_at, ends_at)"
           f" VALUES ({marks}, %s, %s)", *fields.values(),
           f"2098-03-{day:02d} 14:00 America/New_York",
           f"2098-03-{day:02d} 15:30 America/New_York")
    if cancel:
        db.all("SELECT eventbox.set_status(%s, 'cancelled')", slug)
    return slug


def register(api, slug, who):
    r = api.register(slug, who, who.lower().replace(" ", ".") +
                     "@golden.example.org")
    assert r.status == 201, r
    return r


@pytest.fixture(scope="module")
def shown(api, db):
    """The events that are only looked at, never registered for here."""
    slugs = {
        "open": make(db, "golden-open", 10,
                     audience="Desk staff who <answer> patrons' questions.",
                     learning_outcomes=["Find an event & its seats",
                                        "Register a patron, or cancel"]),
        "full": make(db, "golden-full", 11, capacity=1, format="hybrid",
                     location="Room 2, 10 Main St."),
        "closed": make(db, "golden-closed", 12, format="in_person",
                       location="Main Library, Auditorium",
                       registration_closes_at="2020-01-01 00:00Z"),
        "members": make(db, "golden-members", 13, members_only=True,
                        waitlist_enabled=False),
        "cancelled": make(db, "golden-cancelled", 14, status="cancelled"),
    }
    register(api, slugs["full"], "Fay Full")
    return slugs


# --- the list and the event box -----------------------------------------------

def test_the_events_list(api, shown):
    check("page-events.html", api.get("/events?category=Golden"))


@pytest.mark.parametrize("variant", ["open", "full", "closed", "members",
                                     "cancelled"])
def test_the_event_page(api, shown, variant):
    check(f"page-event-{variant}.html", api.get(f"/events/{shown[variant]}"))


def test_the_event_page_in_another_time_zone(api, shown):
    check("page-event-open-tz.html",
          api.get(f"/events/{shown['open']}?tz=Europe/Paris"))


def test_an_unknown_event_is_a_404_page(api, shown):
    check("page-404.html", api.get("/events/golden-no-such-event"))


def test_the_ics_file(api, shown):
    check("event-open.ics", api.get(f"/events/{shown['open']}.ics"))
    check("event-cancelled.ics", api.get(f"/events/{shown['cancelled']}.ics"))


# --- registering and cancelling through the form -------------------------------
# These events are in a category of their own, so the list page above shows
# the same events whichever tests ran before it.
FLOW = ["Registering"]

# Patron (tests/test_pages.py) keeps the CSRF cookie and posts forms, as a
# browser does.

def test_the_register_answers(api, db):
    slug = make(db, "golden-register", 20, capacity=1, categories=FLOW)
    patron = Patron(api)
    check("page-register-errors.html",
          patron.register(slug, "", "not an address", "Golden Library"))
    check("page-register-confirmed.html",
          patron.register(slug, "Ann Reader",
                          "ann.reader@golden.example.org"))
    check("page-register-waitlisted.html",
          patron.register(slug, "Bob Waiting",
                          "bob.waiting@golden.example.org"))
    check("page-event-full-after.html", patron.get(f"/events/{slug}"))


def test_a_members_only_event_refuses_others(api, db):
    slug = make(db, "golden-members-register", 21, members_only=True,
                categories=FLOW)
    check("page-register-not-member.html",
          Patron(api).register(slug, "Olga Outside",
                               "olga@elsewhere.example.org"))


def test_the_cancel_pages(api, db):
    slug = make(db, "golden-cancel", 22, capacity=1, categories=FLOW)
    patron = Patron(api)
    email = "carl.cancel@golden.example.org"
    assert patron.register(slug, "Carl Cancel", email).status == 200
    assert patron.register(slug, "Wanda Waiting",
                      "wanda.waiting@golden.example.org").status == 200
    token = db.tokens(email)[-1]
    check("page-registration-confirmed.html", patron.get(f"/registration/{token}"))
    ask = patron.get(f"/cancel/{token}")
    check("page-cancel-confirm.html", ask)
    check("page-cancel-done.html",
          patron.post(f"/cancel/{token}", [("csrf", csrf_of(ask))]))
    check("page-cancel-unknown.html", patron.get(f"/cancel/{token}"))
    check("page-registration-cancelled.html", patron.get(f"/registration/{token}"))


# --- the same in Spanish (po/es.po): one page, the form's errors, the .ics ----
# English stays in the files above; these show what a Spanish-speaking patron
# gets, ?lang=es carried from link to link and form to form.

def test_the_event_page_in_spanish(api, shown):
    check("page-event-open.es.html",
          api.get(f"/events/{shown['open']}",
                  headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}))


def test_the_register_errors_in_spanish(api, db):
    slug = make(db, "golden-register-es", 23, capacity=1, categories=FLOW)
    patron = Patron(api)
    page = patron.get(f"/events/{slug}?lang=es")
    check("page-register-errors.es.html",
          patron.post(f"/events/{slug}/register?lang=es",
                      [("csrf", csrf_of(page)), ("name", ""),
                       ("email", "not an address"), ("organization", ""),
                       ("website", "")]))


def test_the_ics_file_in_spanish(api, shown):
    check("event-open.es.ics", api.get(f"/events/{shown['open']}.ics?lang=es"))
