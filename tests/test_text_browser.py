"""The public pages as a patron reads them in a text browser without
JavaScript or CSS (Debian's w3m, on a library's old terminal or through a
braille display): what the browser shows is all there is, so a heading
with nothing under it, or a hint that names a button the page does not
have, is what the patron meets.
"""
import re
import uuid
import subprocess

from conftest import env
from test_pages import Patron, attempt_of, csrf_of, registrations


def w3m(url_or_html, url=True):
    """The page as w3m shows it: fetched by w3m itself (url), or an answer
    already received (a form's POST) rendered by it."""
    args = ["w3m", "-dump", "-cols", "100", "-O", "UTF-8"]
    if url:
        out = subprocess.run(args + [url_or_html], capture_output=True,
                             text=True, timeout=30, check=True)
    else:
        out = subprocess.run(args + ["-T", "text/html", "-I", "UTF-8"],
                             input=url_or_html, capture_output=True, text=True,
                             timeout=30, check=True)
    return [line.rstrip() for line in out.stdout.splitlines()]


def after(lines, heading):
    """The first non-blank line under a heading line, or None."""
    i = lines.index(heading)
    rest = [line for line in lines[i + 1:] if line.strip()]
    return rest[0] if rest else None


def test_an_event_without_a_description_has_no_empty_description_heading(
        make_event):
    base = env("EVENTBOX_URL")
    told = w3m(f"{base}/events/{make_event(description='What this covers.')}")
    assert after(told, "Description") == "What this covers.", told
    bare = w3m(f"{base}/events/{make_event()}")
    assert "Registration" in bare, bare
    assert "Description" not in bare, bare


def test_an_expired_form_names_no_button_the_page_does_not_have(api, db,
                                                               make_event):
    # A full event with a waiting list: its button is "Join the waiting
    # list".  The form sent without the cookie comes back with a notice.
    slug = make_event(capacity=0)
    page = Patron(api).get(f"/events/{slug}")
    fields = [("csrf", csrf_of(page)), ("name", "Ann"),
              ("email", "ann@example.org"), ("organization", ""), ("website", "")]
    r = Patron(api).post(f"/events/{slug}/register", fields)
    assert r.status == 403, r
    lines = w3m(r.text, url=False)
    text = " ".join(" ".join(lines).split())
    assert "This form had expired, so nothing was sent." in text, text
    # w3m shows a button as its label, alone on its line.
    buttons = [line.strip() for line in lines
               if line.strip() in ("Register", "Join the waiting list")]
    assert buttons == ["Join the waiting list"], lines
    for named in re.findall(r"press (.+?) again", text):
        assert named in buttons, (named, buttons)
    assert registrations(db, slug) == 0
    # And the form it brings back works: sent again, with the cookie it set.
    again = Patron(api)
    again.cookie = r.header("Set-Cookie").split(";", 1)[0]
    fields[0] = ("csrf", csrf_of(r))
    fields.insert(1, ("attempt", attempt_of(r)))
    done = again.post(f"/events/{slug}/register", fields)
    assert done.status == 200, done
    assert "You are number 1 on the waiting list." in " ".join(
        " ".join(w3m(done.text, url=False)).split())


def test_the_list_and_upcoming_events_give_each_date_once(db, make_event):
    """Each event's link carried its start in a visually hidden span, which
    w3m (no CSS) shows, and the line under it said it again: every date
    twice.  The link is named from the line now (aria-labelledby), so the
    date is on the page once; two events of one title and one start (two
    rooms) show their places."""
    base = env("EVENTBOX_URL")
    title, category = f"Story time {uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:10]
    slugs = [make_event(title=title, categories=[category], starts_in=f"{d} days",
                        at="14:00", **cols)
             for d, cols in ((8, {}), (9, {"location": "Room A"}),
                             (9, {"location": "Room B"}), (10, {}))]
    for path, lines in ((f"/events?category={category}", 4), (f"/events/{slugs[0]}", 3)):
        told = w3m(f"{base}{path}")
        # The list, or the event page's "Upcoming events" (its own times above).
        told = told[len(told) - told[::-1].index("Upcoming events"):]
        dated = [line for line in told if "2:00pm" in line and title not in line]
        assert len(dated) == lines, told                # one line an event
        assert not [line for line in told if title in line and "2:00pm" in line], told
        for day in sorted({line.split(", 2:00pm")[0].strip() for line in dated}):
            assert sum(day in line for line in told) == sum(
                day in line for line in dated), (day, told)
        assert [line.rsplit(", ", 1)[1] for line in dated if "Room" in line] == \
            ["Room A", "Room B"], told


def test_the_confirm_page_names_the_button_that_keeps_the_place(api, db, make_event):
    """The confirmation page said "Press the button to keep it.", and the
    next button after that line, in w3m as for a screen reader going on,
    was the time zone's "Show": the line names its button now, and that
    button is the next one."""
    slug = make_event(confirmation_required=True)
    email = f"held-{uuid.uuid4().hex[:8]}@example.org"
    assert api.register(slug, "Held", email).status == 202
    tok = db.tokens(email, "confirm_address")[-1]
    base = env("EVENTBOX_URL")
    for lang, keep in (("en", r'To keep it, press "(.+?)"\.'),
                       ("es", r"Para conservarlo, presione “(.+?)”\.")):
        path = f"/confirm/{tok}?lang={lang}"
        buttons = re.findall(r"<button[^>]*>([^<]*)</button>", api.get(path).text)
        lines = w3m(f"{base}{path}")
        text = " ".join(" ".join(lines).split())
        m = re.search(keep, text)
        assert m, text
        assert m.group(1) in buttons, (m.group(1), buttons)
        said = next(i for i, line in enumerate(lines) if line.rstrip().endswith(
            m.group(0).split()[-1]))
        after = [line.strip() for line in lines[said + 1:]
                 if any(line.rstrip().endswith(b) for b in buttons)]
        assert after[0] == m.group(1), (after, lines)


def test_the_answer_to_the_form_says_its_heading_once(api, make_event):
    """The page that answers the form put the API's message under its
    heading, and the message began with what the heading said: "You are
    registered" / "You are registered. A confirmation email ...", "Check
    your email" / "Check your email: follow the link ...", and for a
    waiting place "You are on the waiting list" / "You are number 1 on the
    waiting list. This event is full, so you are on the waiting list.".
    Read on, in w3m or by a screen reader, each was said twice."""
    for cols in ({}, {"capacity": 0}, {"confirmation_required": True}):
        slug = make_event(**cols)
        for lang in ("en", "es"):
            patron = Patron(api)
            page = patron.get(f"/events/{slug}?lang={lang}")
            fields = [("csrf", csrf_of(page)), ("attempt", attempt_of(page)),
                      ("name", "Ann"),
                      ("email", f"ann-{uuid.uuid4().hex[:8]}@example.org"),
                      ("organization", ""), ("website", "")]
            r = patron.post(f"/events/{slug}/register?lang={lang}", fields)
            assert r.status == 200, r
            heading = re.search(r"<h1>([^<]*)</h1>", r.text).group(1)
            lines = w3m(r.text, url=False)
            text = " ".join(" ".join(lines).split()).lower()
            assert text.count(heading.lower()) == 1, (heading, lines)
            if cols.get("capacity") == 0:
                assert re.search(r"number \d on the waiting list|número \d en la "
                                 r"lista de espera", text), lines


def test_an_online_events_facts_say_online_once(make_event):
    """An online event's facts read "Format: Online", then "Online: This is
    an online event. The link to join is sent ...": in w3m, or to a screen
    reader going down the list, "online" three times in two lines.  The
    note is "How to join: The link to join is sent in the registration
    email." (and for a hybrid event, "... to join online ...")."""
    base = env("EVENTBOX_URL")
    for fmt, lang, once in (("online", "en", "online"), ("online", "es", "en línea"),
                            ("hybrid", "en", "in person")):
        told = w3m(f"{base}/events/{make_event(format=fmt, location='Room 2')}?lang={lang}")
        facts = told[told.index("Fecha" if lang == "es" else "Date"):]
        facts = facts[:next(i for i, line in enumerate(facts)
                            if line.startswith(("Show the times", "Mostrar los horarios")))]
        text = " ".join(" ".join(facts).split()).lower()
        assert text.count(once) == 1, (once, facts)
        assert "How to join" in facts or "Cómo participar" in facts, facts
