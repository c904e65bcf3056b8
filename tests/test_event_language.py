"""The language staff write an event in (events.language,
sql/030_event_language.sql): staff set it through the admin API and SQL,
the public API shows it, and every page marks the event's own text with
it where it is not the page's language (WCAG 3.1.2 Language of Parts), so
that a screen reader on the Spanish page reads an English title as
English, and the other way round; never where they agree."""
import re
import uuid

import psycopg2
import pytest

from staffkit import admin, assert_error, staff_key  # noqa: F401
from test_mail import (addr, body, mailers,  # noqa: F401  (fixtures)
                       others_messages_wait, smtp)
from test_pages import Patron

QUESTIONS = [
    {"kind": "short_text", "label": "Your job title", "required": True,
     "help": "As it is on your badge."},
    {"kind": "one_choice", "label": "Which branch are you from?",
     "choices": ["North", "South"]},
    {"kind": "several_choices", "label": "Which topics interest you?",
     "choices": ["Catalogs", "E-books"]},
    {"kind": "yes_no", "label": "May we photograph you?"},
]


def event_in(admin, make_event, language, questions=QUESTIONS, **cols):
    slug = make_event(description="First paragraph.\n\nSecond one.",
                      location="Room 101", audience="Everyone",
                      learning_outcomes=["One thing"], **cols)
    r = admin.patch(f"/events/{slug}", json_body={"language": language})
    assert r.status == 200, r
    assert r.json["language"] == language
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": questions})
    assert r.status == 200, r
    return slug


def article(r):
    assert r.status == 200, r
    m = re.search(r'<article class="event">.*</article>', r.text, re.S)
    assert m, r.text
    return m.group(0)


def labels(html):
    """Each question's label or legend, as written."""
    return re.findall(r'<(?:label for="q\d+"|legend)>(.*?)</(?:label|legend)>', html, re.S)


def test_the_spanish_page_of_an_english_event_marks_its_text_english(
        api, admin, make_event):
    slug = event_in(admin, make_event, "en")
    html = article(api.get(f"/events/{slug}?lang=es"))
    assert re.search(r'<h1 lang="en">Test event ', html), html
    assert '<dd lang="en">Room 101</dd>' in html
    assert '<div lang="en">\n<p>First paragraph.</p>' in html
    assert '<ul class="outcomes" lang="en">' in html
    found = labels(html)
    assert len(found) == len(QUESTIONS), html
    for label, q in zip(found, QUESTIONS):
        # the label staff wrote is English, "(opcional)" the page's Spanish
        assert label.startswith(f'<span lang="en">{q["label"]}</span>'), label
    assert '<p class="hint" id="q' in html and '-hint" lang="en">As it is' in html
    for choice in ("North", "South", "Catalogs", "E-books"):
        assert re.search(rf'<label for="q\d+-\d" lang="en">{choice}</label>', html), choice
    # the page's own words stay unmarked Spanish: Sí/No are the page's
    assert re.search(r'<label for="q\d+-0">Sí</label>', html), html


def test_the_english_page_of_a_spanish_event_marks_its_text_spanish(
        api, admin, make_event):
    qs = [{"kind": "one_choice", "label": "¿De qué sucursal viene?",
           "help": "Elija la más cercana.", "choices": ["Norte", "Sur"]}]
    slug = event_in(admin, make_event, "es", questions=qs,
                    title="Taller de currículum")
    html = article(api.get(f"/events/{slug}", headers={"Accept-Language": "en"}))
    assert '<h1 lang="es">Taller de currículum</h1>' in html
    assert '<dd lang="es">Room 101</dd>' in html
    assert labels(html)[0].startswith('<span lang="es">¿De qué sucursal viene?</span>')
    assert '-hint" lang="es">Elija la más cercana.</p>' in html
    assert re.search(r'<label for="q\d+-0" lang="es">Norte</label>', html), html


@pytest.mark.parametrize("language,page", [("en", "en"), ("es", "es"), ("es-MX", "es")])
def test_text_in_the_pages_language_carries_no_redundant_mark(
        api, admin, make_event, language, page):
    slug = event_in(admin, make_event, language)
    html = article(api.get(f"/events/{slug}?lang={page}"))
    assert " lang=" not in html, html
    assert "<h1>Test event " in html


def test_staff_set_the_language_through_the_admin_api_and_the_public_api_shows_it(
        api, admin, make_event):
    body = {"slug": "l-" + uuid.uuid4().hex[:12], "title": "Club de lectura",
            "starts_at": "2031-03-05T14:00:00", "ends_at": "2031-03-05T15:00:00",
            "timezone": "America/Chicago", "capacity": 10}
    r = admin.post("/events", json_body=body)
    assert r.status == 201, r
    assert r.json["language"] == "en"           # the default
    r = admin.patch(f"/events/{body['slug']}", json_body={"language": "es"})
    assert r.status == 200 and r.json["language"] == "es", r
    assert admin.get(f"/events/{body['slug']}").json["language"] == "es"
    assert admin.post(f"/events/{body['slug']}/publish").status == 200
    assert api.get(f"/api/v1/events/{body['slug']}").json["language"] == "es"
    listed = api.get("/api/v1/events?q=Club%20de%20lectura").json
    assert [e["language"] for e in listed["events"]
            if e["slug"] == body["slug"]] == ["es"]
    r = admin.post("/events", json_body={**body, "slug": "l-" + uuid.uuid4().hex[:12],
                                          "language": "pt-BR"})
    assert r.status == 201 and r.json["language"] == "pt-BR", r


@pytest.mark.parametrize("bad", ["", "EN", "english", "en US", "e", "es-", 12, None,
                                 "en\"><script>"])
def test_a_bad_language_is_a_422_naming_it(admin, make_event, bad):
    slug = make_event()
    r = admin.patch(f"/events/{slug}", json_body={"language": bad})
    assert_error(r, 422, "invalid_field", "language")
    assert admin.get(f"/events/{slug}").json["language"] == "en"


def test_plain_sql_is_held_to_the_same_rule(db, make_event):
    slug = make_event()
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        db.all("UPDATE eventbox.events SET language = 'Spanish' WHERE slug = %s", slug)
    assert e.value.diag.constraint_name == "events_language_check"
    assert "language must be a language tag" in e.value.diag.message_hint
    db.all("UPDATE eventbox.events SET language = 'fr' WHERE slug = %s", slug)
    assert db.value("SELECT language FROM eventbox.events WHERE slug = %s", slug) == "fr"


def test_a_cancelled_event_can_still_be_told_its_language(db, make_event):
    """After an upgrade staff mark their old events: the cancelled ones
    too, which take no other change."""
    slug = make_event(status="cancelled")
    db.all("UPDATE eventbox.events SET language = 'es' WHERE slug = %s", slug)
    assert db.value("SELECT language FROM eventbox.events WHERE slug = %s", slug) == "es"


# --- the other places an event's text is printed ---------------------------------

ES = {"Accept-Language": "es"}


def test_the_lists_and_the_token_pages_mark_an_english_title_on_spanish_pages(
        api, make_event):
    slug = make_event(categories=["Idioma-marcas"], starts_in="3 days")
    other = make_event(categories=["Idioma-marcas"], starts_in="4 days")
    listed = api.get("/events?category=Idioma-marcas&lang=es")
    assert listed.status == 200, listed
    # The link's name is the title and its date line, in the page's
    # language: only the title is marked.
    assert re.search(rf'<a href="/events/{slug}\?lang=es" id="event-0" '
                     r'aria-labelledby="event-0 event-0-when"><span lang="en">Test event ',
                     listed.text)
    upcoming = api.get(f"/events/{other}?lang=es").text
    assert re.search(rf'<a href="/events/{slug}\?lang=es" id="upcoming-0" '
                     r'[^>]*"><span lang="en">Test event', upcoming)
    english = api.get("/events?category=Idioma-marcas&lang=en").text
    assert english.count(' lang="en"') == 1 and '<html lang="en">' in english


def test_the_pages_of_an_emailed_link_mark_the_english_event(api, db, make_event):
    """The registration's own page and the cancellation page, in Spanish."""
    slug = make_event(format="in_person", location="Room 7")
    ana = addr("ana-links")
    assert api.register(slug, "Ana Ruiz", ana, headers=ES).status == 201
    token = db.tokens(ana, "confirmed")[0]
    mine = api.get(f"/registration/{token}?lang=es").text
    assert re.search(rf'<a href="/events/{slug}\?lang=es" lang="en">Test event ', mine)
    assert '<dd lang="en">Room 7</dd>' in mine
    cancel = api.get(f"/cancel/{token}?lang=es").text
    assert re.search(rf'<a href="/events/{slug}\?lang=es" lang="en">Test event ', cancel)
    english = api.get(f"/registration/{token}?lang=en").text
    assert f'<a href="/events/{slug}?lang=en">Test event ' in english
    assert '<dd lang=' not in english


def test_the_ics_jsonld_atom_and_embed_carry_the_language(api, admin, make_event):
    slug = event_in(admin, make_event, "en", questions=[],
                    categories=["Idioma-feeds"], format="in_person")
    ics = api.get(f"/events/{slug}.ics", headers=ES).text.replace("\r\n ", "")
    assert f"SUMMARY;LANGUAGE=en:Test event {slug}" in ics
    assert "DESCRIPTION;LANGUAGE=en:First paragraph." in ics
    assert "LOCATION;LANGUAGE=en:Room 101" in ics
    assert "LANGUAGE=" not in api.get(f"/events/{slug}.ics").text
    page = api.get(f"/events/{slug}").text
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page).group(1)
    assert '"inLanguage":"en"' in ld.replace(" ", "")
    atom = api.get("/events.atom?category=Idioma-feeds", headers=ES).text
    assert '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="es">' in atom
    assert "&lt;div lang=&quot;en&quot;&gt;" in atom
    assert "&lt;span lang=&quot;en&quot;&gt;Room 101&lt;/span&gt;" in atom
    english = api.get("/events.atom?category=Idioma-feeds").text
    assert 'xml:lang="en"' in english and "lang=&quot;" not in english
    feed_ics = api.get("/events.ics?category=Idioma-feeds").text
    assert "LANGUAGE=" not in feed_ics
    r = admin.patch(f"/events/{slug}", json_body={"language": "de"})
    assert r.status == 200, r
    feed_ics = api.get("/events.ics?category=Idioma-feeds").text.replace("\r\n ", "")
    assert f"SUMMARY;LANGUAGE=de:Test event {slug}" in feed_ics
    embed = api.get("/embed/events?category=Idioma-feeds&lang=fr").text
    assert f'<span lang="de">Test event {slug}</span></a>' in embed
    embed = api.get("/embed/events?category=Idioma-feeds&lang=de").text
    assert ' lang="de">Test' not in embed and f'">Test event {slug}</a>' in embed


def test_a_spanish_patron_s_email_marks_the_english_event(
        api, make_event, smtp, mailers):
    slug = make_event(format="in_person", location="Room 7",
                      description="Bring a laptop.")
    ana = addr("ana-lang")
    r = api.post(f"/api/v1/events/{slug}/registrations?lang=es",
                 json_body={"name": "Ana Ruiz", "email": ana})
    assert r.status == 201, r
    server = smtp().start()
    mailers.start(server.url)
    server.wait_for([ana])
    (mail,) = server.to(ana)
    html = body(mail, "html")
    assert '<html lang="es">' in html
    assert f'<span lang="en">Test event {slug}</span>' in html
    assert '<span lang="en">Room 7</span>' in html
    assert re.search(r'<div lang="en">\r?\n<p>Bring a laptop\.</p>', html), html
    cal = [p for p in mail.walk() if p.get_content_type() == "text/calendar"][0]
    text = cal.get_payload(decode=True).decode().replace("\r\n ", "")
    assert f"SUMMARY;LANGUAGE=en:Test event {slug}" in text
    assert "LOCATION;LANGUAGE=en:Room 7" in text
