"""Languages: a Spanish-speaking patron gets the pages, the form's errors,
the JSON messages, every email and the calendar entry in Spanish
(po/es.po), chosen by ?lang= or Accept-Language; the registrant's language
is kept (registrations.language) for every later email: the promotion and
the change notice go out in it whoever causes them.

The translators' side is checked too: every po/*.po passes msgfmt --check,
po/eventbox.pot is what xgettext finds in src/ now, every msgid has a
Spanish translation, and no prose in the pages or the mails escapes
marking (a new English sentence that is not _()-marked fails here).
"""
import datetime
import json
import os
import re
import subprocess
import tempfile

import icalendar

from conftest import ROOT, env
from staffkit import admin, staff_key, staff_register  # noqa: F401  (fixtures)
from test_mail import (addr, body, cancel_token, mailers,  # noqa: F401
                       others_messages_wait, smtp)
from test_notices import attachment, vevent
from test_pages import Patron, csrf_of

ES = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
PO_DIR = os.path.join(ROOT, "po")


def language_of(db, email):
    return db.value("SELECT language FROM eventbox.registrations"
                    " WHERE lower(email) = lower(%s)", email)


# --- choosing the language ---------------------------------------------------

def test_accept_language_es_gives_the_event_page_in_spanish(api, make_event):
    slug = make_event()
    r = api.get(f"/events/{slug}", headers=ES)
    assert r.status == 200, r
    assert '<html lang="es">' in r.text
    assert "Inscripción" in r.text and "Registration" not in r.text
    assert "Quedan 100 lugares disponibles." in r.text
    assert "Accept-Language" in (r.header("Vary") or "")
    # The switcher: a real link back to English, marked for its language.
    assert re.search(r'<a href="/events/' + slug + r'\?lang=en" '
                     r'hreflang="en" lang="en">English</a>', r.text), r.text


def test_lang_en_overrides_accept_language_and_stays_in_the_links(api,
                                                                   make_event):
    slug = make_event(categories=["Lang-keep"])
    r = api.get(f"/events/{slug}?lang=en", headers=ES)
    assert '<html lang="en">' in r.text and "Registration" in r.text
    listing = api.get("/events?category=Lang-keep&lang=es")
    assert '<html lang="es">' in listing.text
    # The event's link and the form carry ?lang=es on to the next page.
    assert f'href="/events/{slug}?lang=es"' in listing.text
    page = api.get(f"/events/{slug}?lang=es")
    assert f'action="/events/{slug}/register?lang=es"' in page.text


def test_an_unknown_language_falls_back_to_english(api, make_event):
    slug = make_event()
    for headers, path in (({"Accept-Language": "tlh, xx-YY;q=0.5"}, ""),
                          ({}, "?lang=zz"), ({"Accept-Language": "es;q=0"}, "")):
        r = api.get(f"/events/{slug}{path}", headers=headers)
        assert r.status == 200 and '<html lang="en">' in r.text, (headers, path)


def test_accept_language_on_two_lines_is_one_list(api, make_event):
    """RFC 9110 5.3: a list header's lines are one list, as if joined by
    commas, which is how nginx from 1.23 passes them; nginx 1.22 passes
    each line as a parameter of its own, and the service read the first:
    "fr" then "es" was answered in English, "fr, es" on one line in
    Spanish."""
    from test_bad_input import send_lines
    slug = make_event()
    for lines, lang in (([("Accept-Language", "fr"), ("Accept-Language", "es")], "es"),
                        ([("Accept-Language", "fr, es;q=0.5"),
                          ("Accept-Language", "en;q=0.9")], "en"),
                        ([("Accept-Language", "en;q=0.1"),
                          ("Accept-Language", "es;q=0.2")], "es"),
                        ([("Accept-Language", "fr, es")], "es")):
        r = send_lines(api, "GET", f"/events/{slug}", lines)
        assert r.status == 200 and f'<html lang="{lang}">' in r.text, (lines, r)
        r = send_lines(api, "GET", "/api/v1/events/no-such-event", lines)
        assert r.status == 404, r
        assert r.json["error"]["message"] == {
            "es": "no existe ese evento", "en": "no such event"}[lang], (lines, r)


# --- the form and the JSON API ------------------------------------------------

def test_the_form_errors_are_in_spanish(api, make_event):
    slug = make_event()
    patron = Patron(api)
    page = patron.get(f"/events/{slug}?lang=es")
    r = patron.post(f"/events/{slug}/register?lang=es",
                    [("csrf", csrf_of(page)), ("name", ""),
                     ("email", "no es una dirección"), ("organization", ""),
                     ("website", "")])
    assert r.status == 422, r
    assert "Hay un problema" in r.text
    assert "Escriba su nombre" in r.text
    assert "Escriba un correo electrónico como nombre@example.org" in r.text
    assert "Enter your name" not in r.text


def test_the_questions_on_the_form_are_asked_and_checked_in_spanish(
        api, admin, make_event):
    slug = make_event()
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": [
        {"kind": "one_choice", "label": "Branch", "required": True,
         "choices": ["North", "South"]},
        {"kind": "yes_no", "label": "Photos", "required": True},
        {"kind": "short_text", "label": "Job"}]})
    assert r.status == 200, r
    branch, photo, _ = [q["id"] for q in r.json["questions"]]
    patron = Patron(api)
    page = patron.get(f"/events/{slug}?lang=es")
    assert ">Sí</label>" in page.text and ">No</label>" in page.text
    # the label staff wrote marked English, "(opcional)" the page's Spanish
    assert '<span lang="en">Job</span> (opcional)' in page.text
    fields = [("csrf", csrf_of(page)), ("name", "Ana"),
              ("email", addr("ana")), ("organization", ""), ("website", "")]
    r = patron.post(f"/events/{slug}/register?lang=es",
                    fields + [(f"q{photo}", "yes")])
    assert r.status == 422, r
    assert "Elija una respuesta para \u201cBranch\u201d" in r.text
    r = patron.post(f"/events/{slug}/register?lang=es",
                    fields + [(f"q{branch}", "East"), (f"q{photo}", "yes")])
    assert r.status == 422, r
    assert "Su respuesta a \u201cBranch\u201d debe ser una de las opciones" \
        in r.text
    # The JSON API's word for the same answer, in Spanish.
    r = api.register(slug, "Ana", addr("ana"), headers=ES,
                     extra={"answers": {str(branch): "East",
                                        str(photo): True}})
    assert r.status == 422 and r.json["error"]["code"] == "invalid_field", r
    assert r.json["error"]["message"] == \
        f"answers.{branch}: debe ser una de las opciones"


def test_json_errors_keep_their_code_and_speak_spanish(api, make_event):
    slug = make_event()
    r = api.post(f"/api/v1/events/{slug}/registrations", headers=ES,
                 json_body={"name": "Ana", "email": "no es correo"})
    assert r.status == 422, r
    err = r.json["error"]
    assert err["code"] == "invalid_field" and err["field"] == "email"
    assert err["message"] == \
        "email: no es una dirección de correo electrónico válida"
    missing = api.get("/api/v1/events/no-such-event-here", headers=ES)
    assert missing.status == 404
    assert missing.json["error"] == {"code": "event_not_found",
                                     "message": "no existe ese evento"}
    by_query = api.get("/api/v1/events/no-such-event-here?lang=es")
    assert by_query.json["error"]["message"] == "no existe ese evento"
    english = api.get("/api/v1/events/no-such-event-here")
    assert english.json["error"]["message"] == "no such event"
    assert english.header("Vary") == "Origin, Accept-Language"


def test_the_staff_api_s_refusals_speak_spanish_too(admin, db, make_event):
    """The staff API's older refusals (a promotion, a check-in or a change
    that cannot be done: admin_refuse()'s table) stayed in English whatever
    the request asked, while the newer ones and the public API's followed
    it.  The code never changes."""
    slug = make_event(capacity=1)
    seated = staff_register(db, slug, "Ana Sentada", addr("seated"))
    waiting = staff_register(db, slug, "Beto Espera", addr("waiting"))
    for path, code, spanish in (
            (f"/registrations/{seated}/promote", "not_waitlisted",
             "esta inscripción no está en la lista de espera"),
            (f"/registrations/{waiting}/promote", "no_seat_free",
             "no hay ningún lugar libre: aumente la capacidad o cancele antes "
             "un lugar"),
            (f"/registrations/{waiting}/check-in", "not_confirmed",
             "solo se puede registrar la asistencia de una inscripción "
             "confirmada")):
        for r in (admin.post(path, headers=ES), admin.post(path + "?lang=es")):
            assert r.status == 409 and r.json["error"] == {
                "code": code, "message": spanish}, (path, r)
    r = admin.post(f"/registrations/{seated}/promote")
    assert r.json["error"]["message"] == \
        "this registration is not on the waiting list"
    assert admin.post(f"/events/{slug}/cancel").status == 200
    r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 5}, headers=ES)
    assert r.status == 409 and r.json["error"] == {
        "code": "event_cancelled",
        "message": "este evento se canceló; eso no se puede deshacer"}, r


def test_a_token_page_speaks_the_registrant_s_language_with_no_lang_in_its_link(
        api, db, make_event):
    """The emails' links to a registration's pages carried ?lang=es, and
    with a real base URL that took them past 80 columns, where a mail
    reader wrapped them.  They carry none now: the page speaks the
    registrant's language, the emails', over the browser's, and keeps it
    in its links and forms as it keeps ?lang=.  ?lang= still wins (the
    links of older emails carry it).  An English registrant's page follows
    the browser, as their links, which never carried ?lang=en, did."""
    english_browser, spanish_browser = {"Accept-Language": "en"}, ES
    slug = make_event()
    es, en = addr("tok-es"), addr("tok-en")
    assert api.register(slug, "Ana", es, headers=ES).status == 201
    assert api.register(slug, "Ann", en, headers=english_browser).status == 201
    held = make_event(confirmation_required=True)
    assert api.register(held, "Ana", es, headers=ES).status == 202
    (token,) = db.tokens(es, "confirmed")
    (confirm,) = db.tokens(es, "confirm_address")
    for path, spanish in ((f"/cancel/{token}", "Cancelar mi inscripción"),
                          (f"/registration/{token}", "Cancelar mi inscripción"),
                          (f"/confirm/{confirm}", "Confirmar mi inscripción")):
        r = api.get(path, headers=english_browser)
        assert r.status == 200 and '<html lang="es"' in r.text, (path, r)
        assert spanish in r.text, path
        # The page's form and links keep it, as they keep ?lang=es.
        assert re.search(r'<form method="post" action="/[a-z]+/[0-9a-f-]{36}'
                         r'\?lang=es">', r.text), (path, r.text)
        r = api.get(path + "?lang=en", headers=ES)
        assert r.status == 200 and '<html lang="en"' in r.text, (path, r)
        r = api.get(path + "?lang=es", headers=english_browser)
        assert r.status == 200 and '<html lang="es"' in r.text, (path, r)
    (token,) = db.tokens(en, "confirmed")
    for headers, lang in ((spanish_browser, "es"), (english_browser, "en")):
        r = api.get(f"/cancel/{token}", headers=headers)
        assert r.status == 200 and f'<html lang="{lang}"' in r.text, r
        assert f'<form method="post" action="/cancel/{token}">' in r.text, r.text
    # A used link's page reads as an unknown one's: in the browser's language.
    (token,) = db.tokens(es, "confirmed")
    assert api.delete(f"/api/v1/registrations/{token}").status == 200
    for path in (f"/cancel/{token}", "/cancel/00000000-0000-4000-8000-000000000000"):
        r = api.get(path, headers=english_browser)
        assert r.status == 404 and '<html lang="en"' in r.text, (path, r)


def test_lang_words_the_400_of_a_query_with_a_name_that_is_not_text(api):
    """?lang=es&%FF=1 was answered in the Accept-Language language: reading
    lang failed on the bad name first.  lang, itself readable, chooses."""
    en, es = {"Accept-Language": "en"}, {"Accept-Language": "es"}
    spanish = "el nombre de un parámetro de la consulta no es texto UTF-8"
    english = "a parameter name in the query is not UTF-8 text"
    for query, headers, message in (
            ("lang=es&%FF=1", en, spanish), ("%FF=1&lang=es", en, spanish),
            ("l%61ng=es&%FF=1", en, spanish), ("lang=en&%FF=1", es, english),
            ("%FF=1", es, spanish), ("%FF=1", en, english)):
        r = api.get(f"/api/v1/events?{query}", headers=headers)
        assert r.status == 400 and r.json["error"] == {
            "code": "invalid_query", "message": message}, (query, r)
    r = api.get("/events?lang=es&a%09=1", headers=en)
    assert r.status == 400, r
    assert ("La dirección no es válida: el nombre de un parámetro de la "
            "consulta contiene un carácter de control.") in r.text, r.text
    assert '<html lang="es"' in r.text


def test_libcal_s_id_list_errors_speak_spanish(api):
    """cal_id's and category's 400 stayed in English whatever the request's
    language, alone among the LibCal routes' messages."""
    many = ",".join(["1"] * 51)
    for query, english, spanish in (
            ("cal_id=a", "cal_id: at most 50 calendar ids, comma-separated",
             "cal_id: como máximo 50 ids de calendarios, separados por comas"),
            (f"cal_id={many}", "cal_id: at most 50 calendar ids, "
             "comma-separated", "cal_id: como máximo 50 ids de calendarios, "
             "separados por comas"),
            ("category=1,,2", "category: at most 50 category ids, "
             "comma-separated", "category: como máximo 50 ids de categorías, "
             "separados por comas"),
            (f"category={many}", "category: at most 50 category ids, "
             "comma-separated", "category: como máximo 50 ids de categorías, "
             "separados por comas")):
        for path in (f"/1.1/events?{query}", f"/api/1.1/events?{query}"):
            r = api.get(path, headers=ES)
            assert r.status == 400, (path, r)
            assert r.json["error"] == {"code": "invalid_query",
                                       "message": spanish}, (path, r)
            assert api.get(path).json["error"]["message"] == english, path
        r = api.get(f"/1.1/events?{query}&lang=es")
        assert r.json["error"]["message"] == spanish, r
    # A repeat is said as any parameter's.
    r = api.get("/1.1/events?category=1&category=2", headers=ES)
    assert r.json["error"]["message"] == "category: indicado más de una vez"


def test_the_registrant_s_language_is_kept(api, db, make_event):
    slug = make_event()
    ana, bea, cy = addr("ana"), addr("bea"), addr("cy")
    r = api.register(slug, "Ana", ana, headers=ES)
    assert r.status == 201 and r.json["message"].startswith(
        "Su inscripción está confirmada."), r
    assert api.register(slug, "Cy", cy).status == 201
    patron = Patron(api)
    page = patron.get(f"/events/{slug}?lang=es")
    assert patron.post(f"/events/{slug}/register?lang=es",
                       [("csrf", csrf_of(page)), ("name", "Bea"),
                        ("email", bea), ("organization", ""),
                        ("website", "")]).status == 200
    assert [language_of(db, a) for a in (ana, bea, cy)] == ["es", "es", "en"]
    # Staff scripts call the 9-argument function as before: English.
    dee = addr("dee")
    assert db.value("SELECT outcome FROM eventbox.register_answered(%s, 'Dee',"
                    " %s, NULL, 'api', gen_random_uuid(), NULL, NULL, NULL)",
                    slug, dee) == "confirmed"
    assert language_of(db, dee) == "en"
    # A repeated address is answered as a new one, and its latest attempt's
    # language is the one kept (its note goes out in it).
    assert api.register(slug, "Cy", cy, headers=ES).status == 201
    assert language_of(db, cy) == "es"
    assert db.value("SELECT count(*) FROM eventbox.registrations WHERE event_id ="
                    " (SELECT id FROM eventbox.events WHERE slug = %s)", slug) == 4


def test_a_repeat_that_names_no_language_keeps_the_registrant_s(api, db, make_event):
    """A registration remembers the language it was made in.  A repeated
    address whose request names no language eventbox has (no ?lang=, no
    Accept-Language, or only others) keeps it, through the API and the form
    alike, so that the promotion and the reminders still go out in it; such
    a request used to store English, the default.  A repeat that names one,
    English too, is the latest choice and is kept instead."""
    slug = make_event()
    ana, bo = addr("ana"), addr("bo")
    assert api.register(slug, "Ana", ana, headers=ES).status == 201
    assert api.register(slug, "Ana", ana).status == 201
    assert api.register(slug, "Ana", ana,
                        headers={"Accept-Language": "fr, de;q=0.5, *"}).status == 201
    assert Patron(api).register(slug, "Ana", ana).status == 200
    assert language_of(db, ana) == "es"
    assert api.register(slug, "Ana", ana,
                        headers={"Accept-Language": "en-US"}).status == 201
    assert language_of(db, ana) == "en"
    patron = Patron(api)
    page = patron.get(f"/events/{slug}?lang=es")
    assert patron.post(f"/events/{slug}/register?lang=es",
                       [("csrf", csrf_of(page)), ("name", "Ana"), ("email", ana),
                        ("organization", ""), ("website", "")]).status == 200
    assert language_of(db, ana) == "es"
    # A new registration that names none is English, the column's default.
    assert api.register(slug, "Bo", bo,
                        headers={"Accept-Language": "fr"}).status == 201
    assert language_of(db, bo) == "en"


# --- the emails and the calendar -------------------------------------------------

def test_a_spanish_patron_s_emails_promotion_and_notice_are_spanish(
        api, db, make_event, smtp, mailers, admin):
    slug = make_event(capacity=1, starts_in="12 days", at="14:00", format="in_person",
                      location="Sala 1")
    eng, ana = addr("eng"), addr("ana")
    assert api.register(slug, "Ed English", eng).json["status"] == "confirmed"
    r = api.register(slug, "Ana Ruiz", ana, headers=ES)
    assert r.json["status"] == "waitlisted"
    server = smtp().start()
    mailers.start(server.url)
    server.wait_for([eng, ana])

    (wait,) = server.to(ana)
    assert wait["Subject"] == f"Lista de espera: Test event {slug}"
    text = body(wait, "plain")
    assert "Hola, Ana Ruiz:" in text and "lugar número 1" in text
    assert '<html lang="es">' in body(wait, "html")
    assert "?lang=es" in text            # the links open Spanish pages
    assert server.to(eng)[0]["Subject"].startswith("Registration confirmed")

    # Ed cancels (in English): Ana's promotion is in Spanish all the same.
    token = cancel_token(server.to(eng)[0], env("EVENTBOX_URL"))
    assert api.delete(f"/api/v1/registrations/{token}").status == 200
    server.wait_for([ana], count=2)
    promo = server.to(ana)[1]
    assert promo["Subject"] == \
        f"Se liberó un lugar y su inscripción está confirmada: Test event {slug}"
    assert "pasó de la lista de espera" in body(promo, "plain")
    when = re.search(r"Cuándo: (.*)", body(promo, "plain")).group(1).strip()
    assert re.fullmatch(r"(lunes|martes|miércoles|jueves|viernes|sábado|"
                        r"domingo), \d{1,2} de [a-z]+ de \d{4}, "
                        r"\d\d:\d\d a \d\d:\d\d \(hora del Este\)", when), when
    _, first = vevent(attachment(promo)[1])

    # Staff move the event by an hour: the notice is in Spanish, with the
    # old time worded in Spanish, and its calendar entry moves.
    r = admin.patch(f"/events/{slug}", json_body={
        "starts_at": (first["DTSTART"].dt + datetime.timedelta(hours=1)).isoformat(),
        "ends_at": (first["DTEND"].dt + datetime.timedelta(hours=1)).isoformat()})
    assert r.status == 200, r
    server.wait_for([ana], count=3)
    notice = server.to(ana)[2]
    assert notice["Subject"] == f"Cambios en el evento: Test event {slug}"
    text = body(notice, "plain")
    assert "Cambió la hora. Antes del cambio: " + when.split(",")[0] in text
    assert "The time has changed" not in text
    cal, moved = vevent(attachment(notice)[1])
    assert str(moved["UID"]) == str(first["UID"])
    assert int(moved["SEQUENCE"]) > int(first["SEQUENCE"])
    assert moved["DTSTART"].dt - first["DTSTART"].dt == datetime.timedelta(hours=1)


def test_the_ics_file_speaks_the_patron_s_language(api, make_event):
    slug = make_event(format="online")
    _, ev = vevent(api.get(f"/events/{slug}.ics", headers=ES).body)
    assert str(ev["LOCATION"]) == "En línea"
    assert str(ev["SUMMARY"]) == f"Test event {slug}"     # staff's title
    _, en = vevent(api.get(f"/events/{slug}.ics").body)
    assert str(en["LOCATION"]) == "Online"


# --- the catalogues, as translators keep them ----------------------------------

def po_entries(path):
    """msgid (with msgctxt) -> list of msgstr, via msgcat's normal form."""
    out = subprocess.run(["msgcat", "--no-wrap", "--no-location", path],
                         capture_output=True, text=True, check=True).stdout
    entries = {}
    for block in out.strip().split("\n\n"):
        fields = {}
        for line in block.splitlines():
            m = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) '
                         r'(".*")$', line)
            if m:
                fields[m.group(1)] = json.loads(m.group(2))
        if "msgid" not in fields or fields["msgid"] == "":
            continue
        key = (fields.get("msgctxt"), fields["msgid"])
        entries[key] = [v for k, v in fields.items() if k.startswith("msgstr")]
    return entries


def test_every_catalogue_passes_msgfmt_check():
    pos = [f for f in os.listdir(PO_DIR) if f.endswith(".po")]
    assert "es.po" in pos
    for po in pos:
        subprocess.run(["msgfmt", "--check", "--strict", "-o", os.devnull,
                        os.path.join(PO_DIR, po)], check=True)


def test_the_template_is_what_the_sources_mark_now():
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "now.pot")
        subprocess.run(["make", "-s", "potfile", f"POT={pot}"], cwd=ROOT,
                       check=True, capture_output=True)
        assert set(po_entries(pot)) == \
            set(po_entries(os.path.join(PO_DIR, "eventbox.pot"))), \
            "po/eventbox.pot is stale: run make pot and translate"


def test_every_msgid_has_a_spanish_translation():
    template = po_entries(os.path.join(PO_DIR, "eventbox.pot"))
    spanish = po_entries(os.path.join(PO_DIR, "es.po"))
    untranslated = [k for k in template
                    if not spanish.get(k) or not all(spanish[k])]
    assert not untranslated, untranslated


# Literals in these files that are not for people to read.
NOT_PROSE = re.compile(
    r"^(text/html; charset=utf-8|text/calendar; charset=utf-8|"
    r"application/atom\+xml; charset=utf-8|attachment; filename=.*|"
    r"public, max-age=.*|https://\S*|[A-Z]+:[A-Z]+\r\n)$")

# The embeddable list (/embed/events, page_feeds.c) speaks the language of
# the consortium's site, lang=en|fr|es|de, from a table of its own that
# predates the catalogues (docs/PAGES.md); its words are not the pages'.
EMBED_TABLE = {
    "All events", "There are no upcoming events.", "In person and online",
    "Tous les événements", "Aucun événement à venir.", "Sur place",
    "En ligne", "Sur place et en ligne", "Événements à venir",
    "Próximos eventos", "Todos los eventos", "No hay eventos próximos.",
    "Presencial", "Presencial y en línea", "Kommende Veranstaltungen",
    "Alle Veranstaltungen", "Keine kommenden Veranstaltungen.", "Vor Ort",
    "Vor Ort und online", "%1$s, %2$d de %3$s de %4$d",
    # its errors (embed_error())
    "This list of events cannot be shown: its address is not valid.",
    "The list of events is unavailable for the moment.",
    "Cette liste d’événements ne peut pas être affichée\u00a0: son adresse "
    "n’est pas valide.",
    "La liste des événements est momentanément indisponible.",
    "Esta lista de eventos no se puede mostrar: su dirección no es válida.",
    "La lista de eventos no está disponible en este momento.",
    "Diese Veranstaltungsliste kann nicht angezeigt werden: ihre Adresse "
    "ist ungültig.",
    "Die Veranstaltungsliste ist im Moment nicht verfügbar.",
}


def test_no_prose_in_the_pages_or_the_mails_escapes_translation():
    sources = [os.path.join("src", f) for f in sorted(os.listdir(
        os.path.join(ROOT, "src"))) if re.match(r"(page_.*|mail)\.[ch]$", f)]
    with tempfile.TemporaryDirectory() as tmp:
        every = os.path.join(tmp, "all.pot")
        subprocess.run(["xgettext", "--from-code=UTF-8", "--language=C",
                        "--extract-all", "-o", every] + sources, cwd=ROOT,
                       check=True, capture_output=True)
        literals = po_entries(every)
    marked = set()
    for line in open(os.path.join(PO_DIR, "eventbox.pot"), encoding="utf-8"):
        m = re.match(r'^(msgctxt|msgid|msgid_plural) (".*")$', line)
        if m:
            marked.add(json.loads(m.group(2)))
    leaks = []
    for _, text in literals:
        if text in marked or text in EMBED_TABLE or NOT_PROSE.match(text):
            continue
        words = re.sub(r"<[^>]*(>|$)|&[a-z]+;|%[a-z0-9$.]+|\{[a-z_]+\}|"
                       r"[a-z-]+=\"[^\"]*(\"|$)", " ", text)
        # prose: two words of letters with a space between, outside markup
        if re.search(r"[A-Za-z]{2,}[ ,.:;!?]+[A-Za-z]{2,}", words):
            leaks.append(text)
    assert not leaks, "mark these with _() or N_(): %r" % leaks
