"""The "my registration" page (GET /registration/{token}) and its JSON twin.

The emails link to it.  It shows the registration's state and place on the
waiting list, the event in the patron's time zone, the online link once
confirmed, the .ics and the cancel button; a GET changes nothing (mail
scanners follow links), so these tests compare the database before and
after every GET.
"""
import re
import uuid

import pytest

from test_pages import Patron, assert_leads_back, csrf_of, is_html


def addr(tag):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.org"


def state(db, email):
    return db.all("SELECT r.status, (SELECT count(*) FROM eventbox.outbox o"
                  " WHERE o.registration_id = r.id),"
                  " (SELECT count(*) FROM eventbox.tokens t"
                  " WHERE t.registration_id = r.id)"
                  " FROM eventbox.registrations r WHERE r.email = %s", email)


def test_the_page_shows_a_confirmed_seat_with_its_link_and_changes_nothing(
        api, db, make_event):
    slug = make_event(capacity=1, format="hybrid", location="Room 7",
                      presenter="Pat Reyes")
    url = db.value("SELECT online_url FROM eventbox.events WHERE slug = %s", slug)
    ann = addr("ann")
    assert api.register(slug, "Ann Patron", ann).status == 201
    token = db.tokens(ann, "confirmed")[0]
    before = state(db, ann)
    r = api.get(f"/registration/{token}")
    assert r.status == 200 and is_html(r), r
    assert r.header("Cache-Control") == "no-store"
    assert "Ann Patron" in r.text and "Registered: your seat is confirmed" in r.text
    assert f'href="{url}"' in r.text and "Room 7" in r.text and "Pat Reyes" in r.text
    assert f'href="/events/{slug}.ics"' in r.text
    assert f'action="/cancel/{token}"' in r.text and csrf_of(r)
    assert "Eastern Time" in r.text
    assert api.get(f"/registration/{token}").status == 200
    assert state(db, ann) == before


def test_a_waiting_patron_sees_the_place_and_never_the_link(api, db, make_event):
    slug = make_event(capacity=1)
    url = db.value("SELECT online_url FROM eventbox.events WHERE slug = %s", slug)
    assert api.register(slug, "Ann", addr("ann")).status == 201
    bob, cy = addr("bob"), addr("cy")
    assert api.register(slug, "Bob", bob).status == 201
    assert api.register(slug, "Cy", cy).status == 201
    r = api.get(f"/registration/{db.tokens(cy, 'waitlisted')[0]}")
    assert r.status == 200
    assert "On the waiting list, number 2" in r.text
    assert url not in r.text and "Leave the waiting list" in r.text


def test_times_show_in_the_zone_the_patron_picks(api, db, make_event):
    slug = make_event()
    ann = addr("ann")
    assert api.register(slug, "Ann", ann).status == 201
    token = db.tokens(ann, "confirmed")[0]
    start = db.value("SELECT lower(to_char(starts_at AT TIME ZONE 'America/Denver',"
                     " 'FMHH12:MIam')) FROM eventbox.events WHERE slug = %s", slug)
    r = api.get(f"/registration/{token}?tz=America/Denver")
    assert r.status == 200
    assert "Mountain Time" in r.text and start in r.text
    assert '<option value="America/Denver" selected>' in r.text
    bad = api.get(f"/registration/{token}?tz=Mars/Olympus")
    assert bad.status == 400 and is_html(bad) and "Mars" not in bad.text


def test_an_unknown_time_zone_on_an_emailed_links_page_leads_back_to_it(
        api, db, make_event):
    """The 400 of a bad ?tz= on the page of an emailed link (my
    registration, the confirmation) said "Pick one from the list on the
    page" and offered only "See all upcoming events": the page with the
    list was gone, and the patron had to go back to the email.  It links
    back to that page without the zone (?lang= kept), and so does the
    switcher; a token no link can hold still leads to the list."""
    slug = make_event()
    ann = addr("ann")
    assert api.register(slug, "Ann", ann).status == 201
    token = db.tokens(ann, "confirmed")[0]
    held = make_event(confirmation_required=True)
    bob = addr("bob")
    assert api.register(held, "Bob", bob).status == 202
    tok = db.tokens(bob, "confirm_address")[-1]
    for path, back, text in [
            (f"/registration/{token}?tz=Mars%2FOlympus", f"/registration/{token}",
             "Back to your registration"),
            (f"/registration/{token}?tz=UTC&tz=Asia/Tokyo",
             f"/registration/{token}", "Back to your registration"),
            (f"/registration/{token}?lang=es&tz=%3Cscript%3E",
             f"/registration/{token}?lang=es", "Volver a su inscripción"),
            (f"/confirm/{tok}?tz=Mars%2FOlympus", f"/confirm/{tok}",
             "Back to your registration"),
            (f"/confirm/{tok}?tz=Mars%2FOlympus&lang=es", f"/confirm/{tok}?lang=es",
             "Volver a su inscripción"),
            ("/registration/not-a-token?tz=Mars", "/events",
             "See all upcoming events")]:
        assert_leads_back(api.get(path), path, back, text)
        if back != "/events":
            assert api.get(back).status == 200, back
    assert state(db, ann)[0][0] == "confirmed"


def test_an_expired_form_on_an_emailed_links_page_leads_back_to_it(
        api, db, make_event):
    """The cancel and confirm buttons' POST without the page's cookie (a
    page left open for a day, another browser) said "This form has
    expired. Go back to the link in your email and press the button
    again." with only "See all upcoming events": the patron had to find
    the email.  It links back to the page (?lang= kept), for a fresh
    form, and nothing changed."""
    slug = make_event()
    ann = addr("ann")
    assert api.register(slug, "Ann", ann).status == 201
    token = db.tokens(ann, "confirmed")[0]
    bob = addr("bob")
    assert api.register(make_event(confirmation_required=True), "Bob", bob).status == 202
    tok = db.tokens(bob, "confirm_address")[-1]
    before = state(db, ann), state(db, bob)
    for path, text in [(f"/cancel/{token}", "Back to your registration"),
                       (f"/cancel/{token}?lang=es", "Volver a su inscripción"),
                       (f"/confirm/{tok}", "Back to your registration"),
                       ("/cancel/not-a-token", "See all upcoming events")]:
        r = Patron(api).post(path, [("csrf", "0" * 64)])
        back = path if "not-a-token" not in path else "/events"
        assert_leads_back(r, path, back, text, status=403)
        assert "This form has expired" in r.text or "Este formulario" in r.text, r.text
        if back != "/events":
            assert "Go back to the page" in r.text or "Vuelva a la página" in r.text
            assert api.get(back).status == 200, back
    assert (state(db, ann), state(db, bob)) == before


@pytest.mark.parametrize("token", [str(uuid.uuid4()), "not-a-token", "0" * 36])
def test_an_unknown_or_malformed_token_gets_one_calm_404(api, token):
    r = api.get(f"/registration/{token}")
    assert r.status == 404 and is_html(r)
    assert "This link is not active" in r.text


def test_the_button_cancels_and_the_page_then_says_so(api, db, make_event):
    slug = make_event(capacity=1)
    ann, bob = addr("ann"), addr("bob")
    assert api.register(slug, "Ann", ann).status == 201
    assert api.register(slug, "Bob", bob).status == 201
    token = db.tokens(ann, "confirmed")[0]
    patron = Patron(api)
    page = patron.get(f"/registration/{token}")
    r = patron.post(f"/cancel/{token}", [("csrf", csrf_of(page))])
    assert r.status == 200, r
    assert state(db, ann)[0][0] == "cancelled"
    assert state(db, bob)[0][0] == "confirmed"      # promoted
    after = api.get(f"/registration/{token}")
    assert after.status == 200
    assert "Cancelled" in after.text and "/cancel/" not in after.text
    assert "Register again" in after.text


def test_a_cancelled_event_says_so(api, db, make_event, ):
    slug = make_event()
    ann = addr("ann")
    assert api.register(slug, "Ann", ann).status == 201
    token = db.tokens(ann, "confirmed")[0]
    db.all("SELECT eventbox.set_status(%s, 'cancelled')", slug)
    r = api.get(f"/registration/{token}")
    assert r.status == 200 and "The event has been cancelled" in r.text
    assert "/cancel/" not in r.text and "meet.example.org" not in r.text


def test_the_json_api_has_the_same_with_the_ics_link(api, db, make_event):
    slug = make_event(capacity=1)
    ann, bob = addr("ann"), addr("bob")
    assert api.register(slug, "Ann", ann).status == 201
    assert api.register(slug, "Bob", bob).status == 201
    token = db.tokens(bob, "waitlisted")[0]
    r = api.get(f"/api/v1/registrations/{token}")
    assert r.status == 200, r
    j = r.json
    assert j["status"] == "waitlisted" and j["position"] == 1
    assert j["online_url"] is None
    assert j["event"]["ics_url"].endswith(f"/events/{slug}.ics")
    assert token not in r.text
    page = api.get(f"/registration/{token}")
    assert "On the waiting list, number 1" in page.text


def test_the_online_link_is_shown_only_while_the_event_is_published(
        api, db, make_event):
    """One rule for the link, the emails' (joining_url()): a confirmed seat
    of a published event.  Staff moving the event back to draft hide it
    from the page and the JSON as from the emails; publishing it again
    brings it back; cancelling it hides it for good."""
    slug = make_event(format="online")
    url = db.value("SELECT online_url FROM eventbox.events WHERE slug = %s", slug)
    ann = addr("ann")
    assert api.register(slug, "Ann", ann).status == 201
    token = db.tokens(ann, "confirmed")[0]

    def shown():
        page = api.get(f"/registration/{token}")
        j = api.get(f"/api/v1/registrations/{token}")
        assert page.status == 200 and j.status == 200, (page, j)
        assert j.json["status"] == "confirmed"
        return url in page.text, j.json["online_url"]

    assert shown() == (True, url)
    assert db.value("SELECT outcome FROM eventbox.set_status(%s, 'draft')",
                    slug) == "ok"
    assert shown() == (False, None)
    assert db.value("SELECT outcome FROM eventbox.set_status(%s, 'published')",
                    slug) == "ok"
    assert shown() == (True, url)
    assert db.value("SELECT outcome FROM eventbox.set_status(%s, 'cancelled')",
                    slug) == "ok"
    page = api.get(f"/registration/{token}")
    j = api.get(f"/api/v1/registrations/{token}").json
    assert url not in page.text and "meet.example.org" not in page.text
    assert j["online_url"] is None and url not in str(j)


def title_of(r):
    m = re.search(r"<title>([^<]*) - (?:Library events|Eventos de la biblioteca)</title>",
                  r.text)
    assert m, r.text[:400]
    return m.group(1)


def test_the_title_says_the_state_and_the_event(api, db, make_event):
    """The page was titled "Your registration" whatever its state: tabs of
    a seat, a waiting place and a cancelled one (what a screen reader says
    first) were one and the same (WCAG 2.4.2).  The title says the state
    and the event with its start, as the page shows them."""
    slug = make_event(capacity=1, title="Story time", at="10:00",
                      starts_in="30 days")
    start = db.value("SELECT to_char(starts_at AT TIME ZONE 'America/New_York',"
                     " 'FMDay, FMMonth FMDD, YYYY') FROM eventbox.events"
                     " WHERE slug = %s", slug)
    event = f"Story time, {start}, 10:00am"
    ann, bob, cy = addr("ann"), addr("bob"), addr("cy")
    for who in (ann, bob, cy):
        assert api.register(slug, "P", who).status == 201
    seat = db.tokens(ann, "confirmed")[0]
    second = db.tokens(cy, "waitlisted")[0]
    page = api.get(f"/registration/{seat}")
    assert title_of(page) == f"Registered: {event}"
    assert "<h1>Your registration</h1>" in page.text
    assert title_of(api.get(f"/registration/{second}")) == \
        f"Waiting list (position 2): {event}"
    assert title_of(api.get(f"/registration/{seat}?tz=America/Denver")) == \
        f"Registered: Story time, {start}, 8:00am"
    es = title_of(api.get(f"/registration/{second}?lang=es"))
    assert es.startswith("Lista de espera (número 2): Story time, "), es
    assert api.delete(f"/api/v1/registrations/{seat}").status in (200, 204)
    assert title_of(api.get(f"/registration/{seat}")) == \
        f"Registration cancelled: {event}"
    db.all("SELECT eventbox.set_status(%s, 'cancelled')", slug)
    assert title_of(api.get(f"/registration/{second}")) == \
        f"Event cancelled: {event}"


def test_the_title_of_a_held_place_says_it_is_not_confirmed(api, db, make_event):
    slug = make_event(confirmation_required=True, title="Held talk")
    dee = addr("dee")
    assert api.register(slug, "Dee", dee).status == 202
    tok = db.tokens(dee, "confirm_address")[-1]
    assert title_of(api.get(f"/registration/{tok}")).startswith(
        "Not confirmed yet: Held talk, ")
    db.all("UPDATE eventbox.registrations SET held_until = now() - interval '1 second'"
           " WHERE lower(email) = lower(%s)", dee)
    assert title_of(api.get(f"/registration/{tok}")).startswith(
        "Not confirmed in time: Held talk, ")


def seat_and_place(api, make_event):
    """An event of one seat: Ann holds it, Bob waits first in line."""
    slug = make_event(capacity=1)
    ann, bob = addr("ann"), addr("bob")
    assert api.register(slug, "Ann", ann).status == 201
    assert api.register(slug, "Bob", bob).status == 201
    return slug, ann, bob


def moved_to(db, slug, start, end):
    """The event's times, as if days had gone by since the registrations."""
    db.all("UPDATE eventbox.events SET starts_at = now() + %s::interval,"
           " ends_at = now() + %s::interval WHERE slug = %s", start, end, slug)


def test_once_the_event_has_ended_its_pages_offer_no_cancellation(api, db, make_event):
    """A patron who opened an old email after the event met "Cancel my
    registration" on their page, and the cancel page asked and then
    cancelled: the seat could go to nobody (nobody is promoted once it has
    started), and the attendee or no-show became "cancelled" in the
    staff's figures.  From the event's end the pages say it has ended with
    no button, and the POST and the API's DELETE answer 409 and change
    nothing; one cancelled before stays idempotent."""
    slug = make_event(capacity=1)
    ann, bob, cy = addr("ann"), addr("bob"), addr("cy")
    for who in (ann, bob, cy):
        assert api.register(slug, "Patron", who).status == 201
    cys = db.tokens(cy, "waitlisted")[0]
    assert api.delete(f"/api/v1/registrations/{cys}").status == 200
    tokens = {ann: db.tokens(ann, "confirmed")[0], bob: db.tokens(bob, "waitlisted")[0]}
    # The seat's page gives a fresh browser its form, before the end.
    patron = Patron(api)
    csrf = csrf_of(patron.get(f"/registration/{tokens[ann]}"))
    moved_to(db, slug, "-3 hours", "-1 hour")
    before = {who: state(db, who) for who in (ann, bob, cy)}
    for who, token in tokens.items():
        for lang, said in (("", "This event has ended"), ("?lang=es", "Este evento ya terminó")):
            page = patron.get(f"/registration/{token}{lang}")
            assert page.status == 200, page
            assert f'<p class="state">{said}.</p>' in page.text, page.text
            assert "/cancel/" not in page.text and ".ics" not in page.text
            assert "meet.example.org" not in page.text
            ask = patron.get(f"/cancel/{token}{lang}")
            assert ask.status == 200 and is_html(ask), ask
            assert f"<h1>{said}</h1>" in ask.text and "<button" not in ask.text
            assert "<form" not in ask.text.split("<main")[1]
        r = patron.post(f"/cancel/{token}", [("csrf", csrf)])
        assert r.status == 409 and is_html(r), r
        assert "<h1>This event has ended</h1>" in r.text
        assert "nothing to cancel" in r.text and "is cancelled" not in r.text
        d = api.delete(f"/api/v1/registrations/{token}")
        assert d.status == 409, d
        assert d.json["error"]["code"] == "event_ended"
        d = api.delete(f"/api/v1/registrations/{token}",
                       headers={"Accept-Language": "es"})
        assert d.status == 409 and "terminó" in d.json["error"]["message"], d.json
    again = api.delete(f"/api/v1/registrations/{cys}")
    assert again.status == 200 and again.json["already_cancelled"] is True
    assert {who: state(db, who) for who in (ann, bob, cy)} == before
    assert [s[0] for s in before[ann] + before[bob] + before[cy]] == \
        ["confirmed", "waitlisted", "cancelled"]


def test_between_the_start_and_the_end_a_patron_may_still_cancel(api, db, make_event):
    slug, ann, bob = seat_and_place(api, make_event)
    token = db.tokens(ann, "confirmed")[0]
    moved_to(db, slug, "-30 minutes", "30 minutes")
    page = api.get(f"/registration/{token}")
    assert f'action="/cancel/{token}"' in page.text and "has ended" not in page.text
    assert "<button" in api.get(f"/cancel/{token}").text
    r = api.delete(f"/api/v1/registrations/{token}")
    assert r.status == 200 and r.json["already_cancelled"] is False, r
    assert state(db, ann)[0][0] == "cancelled"
    assert state(db, bob)[0][0] == "waitlisted"     # nobody moves up once begun


def test_only_a_seat_is_offered_for_the_calendar(api, db, make_event):
    """A patron on the waiting list (or whose place was held until the
    address confirmed it) was offered "Add to my calendar" on their page:
    they went to an event they might not get into, and one who then left
    the list got no removal for an entry the emails never sent.  Only a
    confirmed seat has the .ics link, as only its emails carry one."""
    slug = make_event(capacity=1)
    held = make_event(capacity=1, confirmation_required=True)
    ann, bob, cy = addr("ann"), addr("bob"), addr("cy")
    assert api.register(slug, "Ann", ann).status == 201
    assert api.register(slug, "Bob", bob).status == 201
    assert api.register(held, "Cy", cy).status == 202
    for token, shown, link in [
            (db.tokens(ann, "confirmed")[0], "your seat is confirmed", True),
            (db.tokens(bob, "waitlisted")[0], "On the waiting list, number 1", False),
            (db.tokens(cy, "confirm_address")[0], "not confirmed yet", False)]:
        page = api.get(f"/registration/{token}")
        assert page.status == 200 and shown in page.text, page
        assert ("Add to my calendar" in page.text) == link, shown
        assert (".ics" in page.text) == link, shown
        assert f'action="/cancel/{token}"' in page.text


def test_once_the_event_has_begun_the_waiting_list_promises_no_seat(api, db, make_event):
    """A patron still on the waiting list after the start read on their
    page that when somebody cancels, the first person waiting moves up and
    gets an email: nobody moves up once an event has begun, so they waited
    for an email that could not come.  The page says so, in English and
    Spanish, and still lets them leave the list."""
    slug, _, bob = seat_and_place(api, make_event)
    token = db.tokens(bob, "waitlisted")[0]
    before = api.get(f"/registration/{token}")
    assert "moves up and gets an email" in before.text
    moved_to(db, slug, "-10 minutes", "50 minutes")
    for lang, said in (("", "nobody on the waiting list moves up any more"),
                       ("?lang=es", "ya nadie pasa de la lista de espera")):
        page = api.get(f"/registration/{token}{lang}")
        assert page.status == 200 and said in page.text, page.text
        assert "moves up and gets" not in page.text and "pasa a ocupar" not in page.text
        assert f'action="/cancel/{token}' in page.text
