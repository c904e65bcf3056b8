"""Internationalised email addresses (RFC 6530): a domain outside ASCII
(bücherei.de) is taken and stored, mailed and counted in its A-labels
(xn--bcherei-n2a.de), however the patron typed it; letters outside ASCII
before the @ are refused in words that say what to do, because no relay
is known to carry them (SMTPUTF8).  Through nginx, the worker, PostgreSQL
and a real SMTP server (test_mail.py's), and at the psql prompt."""
import html
import re
import uuid

import psycopg2
import pytest

from test_mail import (Server, mailers, others_messages_wait,  # noqa: F401 (fixtures)
                       smtp)
from test_pages import Patron, registrations


def local(tag):
    return f"{tag}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def patron(api):
    return Patron(api)


def test_an_idn_domain_is_confirmed_mailed_in_a_labels_and_one_registrant(
        api, db, make_event, smtp, mailers):  # noqa: F811
    slug = make_event()
    who = local("ana")
    typed = f"{who}@Bibliotecá.es"
    stored = f"{who}@xn--bibliotec-81a.es"
    r = api.register(slug, "Ana Pérez", typed)
    assert r.status == 201 and r.json["status"] == "confirmed", r
    assert db.all("SELECT email FROM eventbox.registrations r JOIN eventbox.events e"
                  " ON e.id = r.event_id WHERE e.slug = %s", slug) == [(stored,)]
    # The same patron typing the A-label (in capitals) is the same registrant:
    # answered like a new one, told by email they were registered already.
    r = api.register(slug, "Ana Pérez", f"{who.upper()}@XN--BIBLIOTEC-81A.ES")
    assert r.status == 201, r
    assert registrations(db, slug) == 1
    server = smtp().start()
    mailers.start(server.url)
    server.wait_for([stored], count=2)
    first, note = server.to(stored)     # the envelope's RCPT TO, lower-cased
    assert first["To"].addresses[0].addr_spec == stored
    assert note["Subject"].startswith("You are already registered")
    for raw in server.raw_to(stored):
        assert f"<{stored}>".encode() in raw.split(b"\r\n\r\n", 1)[0]
    with server.lock:
        assert not any("á" in rcpt for rcpts, _, _ in server.messages
                       for rcpt in rcpts)


@pytest.mark.parametrize("email, message", [
    ("jos\u00e9@example.org",
     "email: has letters such as \u00e9 or \u00f1 before the @, and such addresses"
     " cannot receive our emails: use another address"),
    ("ann@a\u2603b.es",
     "email: has a domain after the @ that is not a valid domain name (IDNA2008):"
     " a character no domain may hold, or a part over 63 letters once written"
     " in ASCII"),
    ("ann@" + "\u00fc" * 60 + ".de",
     "email: has a domain after the @ that is not a valid domain name (IDNA2008):"
     " a character no domain may hold, or a part over 63 letters once written"
     " in ASCII"),
    ("ann@xn--zz.es",
     "email: has a domain after the @ that is not a valid domain name (IDNA2008):"
     " a character no domain may hold, or a part over 63 letters once written"
     " in ASCII"),
])
def test_the_api_names_what_is_wrong_with_an_international_address(
        api, db, make_event, email, message):
    slug = make_event()
    r = api.register(slug, "Ann", email)
    assert r.status == 422, r
    assert r.json["error"] == {"code": "invalid_field", "field": "email",
                               "message": message}, r.json
    assert registrations(db, slug) == 0


def test_the_api_says_it_in_spanish(api, make_event):
    r = api.register(make_event(), "Ann", "jos\u00e9@example.org",
                     headers={"Accept-Language": "es"})
    assert r.status == 422, r
    assert r.json["error"]["message"].startswith("email: tiene letras como"), r.json


def test_the_form_registers_an_idn_domain(patron, db, make_event):
    slug = make_event()
    who = local("m")
    r = patron.register(slug, name="Max M\u00fcller", email=f"{who}@b\u00fccherei.de")
    assert r.status == 200 and "<h1>You are registered</h1>" in r.text, r
    assert db.value("SELECT email FROM eventbox.registrations r JOIN eventbox.events e"
                    " ON e.id = r.event_id WHERE e.slug = %s", slug) == \
        f"{who}@xn--bcherei-n2a.de"


@pytest.mark.parametrize("email, words", [
    ("m\u00fcller@example.org", "Addresses with letters such as \u00e9 or \u00f1"
     " before the @ cannot receive our emails; please use another address"),
    ("ann@a\u2603b.es", "The part after the @ is not a domain name: check it for"
     " a mistyped character"),
])
def test_the_form_says_it_beside_the_field_and_keeps_what_was_typed(
        patron, db, make_event, email, words):
    slug = make_event()
    r = patron.register(slug, name="Ann", email=email)
    assert r.status == 422, r
    tag = re.search(r'<input id="email"[^>]*>', r.text).group(0)
    assert 'aria-invalid="true"' in tag
    assert f'value="{html.escape(email, quote=True)}"' in tag
    assert html.escape(words, quote=False) in r.text
    assert registrations(db, slug) == 0


def test_staff_at_psql_are_told_to_write_the_domain_in_ascii(db, make_event):
    slug = make_event()
    for email, says in (("ana@bibliotec\u00e1.es", "xn--"),
                        ("jos\u00e9@example.org", "before the @")):
        with pytest.raises(psycopg2.errors.CheckViolation) as e:
            db.all("INSERT INTO eventbox.registrations (event_id, name, email, status,"
                   " source) SELECT id, 'Ana', %s, 'confirmed', 'staff'"
                   " FROM eventbox.events WHERE slug = %s", email, slug)
        assert e.value.diag.constraint_name == "registrations_email_ascii"
        assert says in e.value.diag.message_hint
        assert db.value("SELECT outcome FROM eventbox.staff_register(%s, 'Ana', %s)",
                        slug, email) == "invalid_email"
    assert db.value("SELECT outcome FROM eventbox.staff_register(%s, 'Ana', %s)",
                    slug, "ana@xn--bibliotec-81a.es") == "confirmed"
