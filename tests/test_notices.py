"""Change notices: when staff move an event, change its place or link, or
cancel it, every registrant gets one email, and the calendar entry (the
email's and the public .ics file's: one UID, a growing SEQUENCE) moves or
goes away instead of doubling.

Read as a patron's calendar app would: the attachments and the .ics file
are parsed with python3-icalendar.
"""
import datetime
import time

import icalendar

from conftest import connect, env
from staffkit import admin, staff_key  # noqa: F401  (fixtures)
from test_mail import (addr, body, cancel_token, mailers,  # noqa: F401
                       others_messages_wait, smtp)


def vevent(data):
    cal = icalendar.Calendar.from_ical(data)
    (ev,) = cal.walk("VEVENT")
    return cal, ev


def attachment(msg):
    parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in msg.walk()]
    return parts[0], parts[0].get_payload(decode=True)


def kinds(db, slug):
    return [r[0] for r in db.all(
        "SELECT o.kind FROM eventbox.outbox o JOIN eventbox.events e"
        " ON e.id = o.event_id WHERE e.slug = %s ORDER BY o.id", slug)]


def seat_and_waiting(api, make_event, smtp, mailers, **event):
    """A hybrid event of one seat: Ann holds it, Bob waits; both have had
    their first email from a mailer of the test's own SMTP server."""
    slug = make_event(capacity=1, format="hybrid", **event)
    ann, bob = addr("ann"), addr("bob")
    assert api.register(slug, "Ann Patron", ann).json["status"] == "confirmed"
    assert api.register(slug, "Bob Patron", bob).json["status"] == "waitlisted"
    server = smtp().start()
    mailers.start(server.url)
    server.wait_for([ann, bob])
    return slug, ann, bob, server


def test_moving_an_event_by_an_hour_moves_every_calendar_entry(
        api, db, make_event, smtp, mailers, admin):
    slug, ann, bob, server = seat_and_waiting(api, make_event, smtp, mailers,
                                              starts_in="10 days",
                                              location="Room 1")
    url = db.value("SELECT online_url FROM eventbox.events WHERE slug = %s", slug)
    before_file = api.get(f"/events/{slug}.ics")
    assert before_file.status == 200
    _, before = vevent(before_file.body)
    _, confirmation = vevent(attachment(server.to(ann)[0])[1])
    # A hybrid event's entry is in its room, as the public file says; the
    # seat holder's carries the link to join as well.
    assert str(confirmation["LOCATION"]) == str(before["LOCATION"]) == "Room 1"
    assert url in str(confirmation["DESCRIPTION"])
    assert url not in before_file.body.decode()

    starts = before["DTSTART"].dt
    r = admin.patch(f"/events/{slug}", json_body={
        "starts_at": (starts + datetime.timedelta(hours=1)).isoformat(),
        "ends_at": (before["DTEND"].dt + datetime.timedelta(hours=1)).isoformat()})
    assert r.status == 200, r
    server.wait_for([ann, bob], count=2)

    # One notice each, nothing more.
    assert kinds(db, slug).count("event_changed") == 2
    (notice,) = server.to(ann)[1:]
    assert notice["Subject"] == f"Event changed: Test event {slug}"
    text = body(notice, "plain")
    assert "The time has changed" in text and url in text
    part, data = attachment(notice)
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    cal, moved = vevent(data)
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(moved["UID"]) == str(confirmation["UID"]) == str(before["UID"])
    assert int(moved["SEQUENCE"]) > int(confirmation["SEQUENCE"])
    assert moved["DTSTART"].dt - confirmation["DTSTART"].dt == \
        datetime.timedelta(hours=1)
    assert str(moved["ORGANIZER"]).lower() == "mailto:events@library.example.org"

    # The public file moved with it: the same UID and SEQUENCE.
    _, after = vevent(api.get(f"/events/{slug}.ics").body)
    assert str(after["UID"]) == str(moved["UID"])
    assert int(after["SEQUENCE"]) == int(moved["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after["DTSTART"].dt - before["DTSTART"].dt == datetime.timedelta(hours=1)

    # The waiting patron is told, without a calendar entry or the link.
    (waiting,) = server.to(bob)[1:]
    assert "The time has changed" in body(waiting, "plain")
    assert url not in waiting.as_string()
    assert not [p for p in waiting.walk() if p.get_content_type() == "text/calendar"]
    assert f"{env('EVENTBOX_URL')}/cancel/" in body(waiting, "plain")


def test_a_new_format_is_told_as_such_and_an_online_event_s_room_not_at_all(
        api, db, make_event, smtp, mailers, admin):
    """Staff make a hybrid event in person only, in the same room: every
    registrant was mailed "The place has changed. Before the change: Room
    1", the event still in Room 1, and not that joining online was gone.
    And an online event's location, which no page or email shows, mailed
    every registrant "The place has changed. Before the change: online"."""
    slug, ann, bob, server = seat_and_waiting(api, make_event, smtp, mailers,
                                              starts_in="10 days",
                                              location="Room 1")
    assert admin.patch(f"/events/{slug}", json_body={"format": "in_person"}).status == 200
    server.wait_for([ann, bob], count=2)
    for who in (ann, bob):
        text = body(server.to(who)[1], "plain")
        assert ("How you can attend has changed. Before the change: "
                "Hybrid: in person and online") in text, text
        assert "The place has changed" not in text, text
    # Online, then in another room: the format says it; the room is new.
    assert admin.patch(f"/events/{slug}", json_body={"format": "online"}).status == 200
    server.wait_for([ann, bob], count=3)
    assert admin.patch(f"/events/{slug}", json_body={
        "format": "in_person", "location": "Room 2"}).status == 200
    server.wait_for([ann, bob], count=4)
    text = body(server.to(ann)[3], "plain")
    assert "How you can attend has changed. Before the change: Online" in text, text
    assert "The place has changed" not in text and "Room 2" in text, text
    # A room and a format: both.
    assert admin.patch(f"/events/{slug}", json_body={
        "format": "hybrid", "location": "Room 3"}).status == 200
    server.wait_for([ann, bob], count=5)
    text = body(server.to(ann)[4], "plain")
    assert "The place has changed. Before the change: Room 2" in text, text
    assert "How you can attend has changed. Before the change: In person" in text, text

    online = make_event(format="online", starts_in="10 days")
    assert api.register(online, "Cy Online", addr("cy")).status == 201
    n = kinds(db, online).count("event_changed")
    assert admin.patch(f"/events/{online}", json_body={"location": "Zoom"}).status == 200
    assert kinds(db, online).count("event_changed") == n


def test_cancelling_an_event_removes_the_calendar_entry(
        api, db, make_event, smtp, mailers, admin):
    slug = make_event(starts_in="12 days", capacity=1)
    ann, bob = addr("ann"), addr("bob")
    assert api.register(slug, "Ann Patron", ann).status == 201
    assert api.register(slug, "Bob Patron", bob).json["status"] == "waitlisted"
    server = smtp().start()
    mailers.start(server.url)
    server.wait_for([ann, bob])
    _, confirmation = vevent(attachment(server.to(ann)[0])[1])
    assert admin.post(f"/events/{slug}/cancel").status == 200
    server.wait_for([ann, bob], count=2)
    # Bob only waited: he was sent no entry, and is sent no CANCEL.
    (told,) = server.to(bob)[1:]
    assert "this event has been cancelled" in body(told, "plain")
    assert not [p for p in told.walk() if p.get_content_type() == "text/calendar"]
    (notice,) = server.to(ann)[1:]
    part, data = attachment(notice)
    assert part.get_param("method") == "CANCEL"
    cal, gone = vevent(data)
    assert str(cal["METHOD"]) == "CANCEL" and str(gone["STATUS"]) == "CANCELLED"
    assert str(gone["UID"]) == str(confirmation["UID"])
    assert int(gone["SEQUENCE"]) > int(confirmation["SEQUENCE"])
    assert kinds(db, slug) == ["confirmed", "waitlisted", "event_cancelled", "event_cancelled"]


def test_cancelling_a_seat_removes_its_calendar_entry_and_a_waiting_place_sends_none(
        api, db, make_event, smtp, mailers):
    """The receipt of a cancelled seat says METHOD:CANCEL for the entry its
    confirmation added (RFC 5546 3.2.5); somebody who only waited was sent
    no entry, and is sent no CANCEL."""
    base = env("EVENTBOX_URL")
    slug, ann, bob, server = seat_and_waiting(api, make_event, smtp, mailers,
                                              starts_in="12 days",
                                              location="Room 3")
    _, confirmation = vevent(attachment(server.to(ann)[0])[1])

    # Bob leaves the waiting list first (Ann's seat would promote him).
    bob_token = cancel_token(server.to(bob)[0], base)
    assert api.delete(f"/api/v1/registrations/{bob_token}").status == 200
    server.wait_for([bob], count=2)
    (left,) = server.to(bob)[1:]
    assert left["Subject"] == f"You have left the waiting list: Test event {slug}"
    assert left.get_content_type() == "multipart/alternative"
    assert not [p for p in left.walk() if p.get_content_type() == "text/calendar"]
    assert "calendar" not in body(left, "plain")
    assert "Thank you for letting us know" in body(left, "plain")

    token = cancel_token(server.to(ann)[0], base)
    assert api.delete(f"/api/v1/registrations/{token}").status == 200
    server.wait_for([ann], count=2)
    (receipt,) = server.to(ann)[1:]
    assert receipt["Subject"] == f"Registration cancelled: Test event {slug}"
    assert "removes the event from your calendar" in body(receipt, "plain")
    part, data = attachment(receipt)
    assert part.get_param("method") == "CANCEL"
    cal, gone = vevent(data)
    assert str(cal["METHOD"]) == "CANCEL" and str(gone["STATUS"]) == "CANCELLED"
    assert str(gone["UID"]) == str(confirmation["UID"])
    assert int(gone["SEQUENCE"]) >= int(confirmation["SEQUENCE"])
    assert str(gone["ATTENDEE"]).lower() == f"mailto:{ann}"
    assert kinds(db, slug) == ["confirmed", "waitlisted", "cancelled", "cancelled"]

def test_the_receipt_speaks_of_the_next_person_only_when_one_moved_up(
        api, db, make_event, smtp, mailers):
    base = env("EVENTBOX_URL")
    slug, ann, bob, server = seat_and_waiting(api, make_event, smtp, mailers,
                                              starts_in="12 days")
    ann_token = cancel_token(server.to(ann)[0], base)
    assert api.delete(f"/api/v1/registrations/{ann_token}").status == 200
    server.wait_for([ann], count=2)
    server.wait_for([bob], count=2)                    # promoted
    assert "your place goes to the next person waiting" in body(server.to(ann)[1], "plain")
    bob_token = cancel_token(server.to(bob)[1], base)
    assert api.delete(f"/api/v1/registrations/{bob_token}").status == 200
    server.wait_for([bob], count=3)
    text = body(server.to(bob)[2], "plain")
    assert "Thank you for letting us know." in text and "next person" not in text


def test_a_cancellation_by_staff_says_staff_made_it(api, db, make_event, smtp, mailers,
                                                    admin):
    """Staff taking a patron off an event: the receipt says the library's
    staff did it, not "thank you for letting us know"."""
    slug, ann, bob, server = seat_and_waiting(api, make_event, smtp, mailers,
                                              starts_in="12 days")
    reg = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", ann)
    assert admin.delete(f"/registrations/{reg}").status == 200
    server.wait_for([ann], count=2)
    (receipt,) = server.to(ann)[1:]
    text = body(receipt, "plain")
    assert "Library staff have cancelled your registration." in text
    assert "letting us know" not in text
    # The seat held a calendar entry: the receipt removes it all the same.
    assert attachment(receipt)[0].get_param("method") == "CANCEL"


def test_a_change_at_psql_is_announced_and_two_quick_edits_make_one_notice(
        api, db, make_event):
    slug = make_event(starts_in="15 days", location="Room 1", format="in_person")
    ann, bob = addr("ann"), addr("bob")
    assert api.register(slug, "Ann Patron", ann).status == 201
    assert api.register(slug, "Bob Patron", bob).status == 201
    seq = db.value("SELECT ical_sequence FROM eventbox.events WHERE slug = %s", slug)
    # No mailer runs here: the notices wait in the outbox.
    db.all("UPDATE eventbox.events SET location = 'Room 2' WHERE slug = %s", slug)
    db.all("UPDATE eventbox.events SET starts_at = starts_at + interval '30 minutes',"
           " ends_at = ends_at + interval '30 minutes' WHERE slug = %s", slug)
    rows = db.all("SELECT o.changes, o.token IS NOT NULL FROM eventbox.outbox o"
                  " JOIN eventbox.events e ON e.id = o.event_id"
                  " WHERE e.slug = %s AND o.kind = 'event_changed'"
                  " AND o.status = 'pending' ORDER BY o.id", slug)
    assert len(rows) == 2
    for changes, has_token in rows:
        assert changes["location"] == "Room 1" and "when" in changes
        assert has_token
    assert db.value("SELECT ical_sequence FROM eventbox.events WHERE slug = %s",
                    slug) == seq + 2
    # Nothing a patron's calendar shows: no notice, no new SEQUENCE.
    n = len(kinds(db, slug))
    db.all("UPDATE eventbox.events SET title = 'Renamed', capacity = 50"
           " WHERE slug = %s", slug)
    assert len(kinds(db, slug)) == n
    assert db.value("SELECT ical_sequence FROM eventbox.events WHERE slug = %s",
                    slug) == seq + 2


def test_a_start_corrected_from_the_past_to_a_new_date_is_announced_from_the_old(
        api, db, make_event):
    """A typo moved the start into the past (rightly not announced), then
    staff set the date they meant: that was not announced either (its old
    start was past), so registrants kept the first date.  It is announced
    now, against what they were told; a start put back where it was tells
    nobody anything."""
    def move(slug, to):
        db.all("UPDATE eventbox.events SET starts_at = %s::timestamptz,"
               " ends_at = %s::timestamptz + interval '1 hour' WHERE slug = %s",
               to, to, slug)

    def notices(slug):
        return [r[0] for r in db.all(
            "SELECT o.changes FROM eventbox.outbox o JOIN eventbox.events e"
            " ON e.id = o.event_id WHERE e.slug = %s AND o.kind = 'event_changed'"
            " ORDER BY o.id", slug)]
    slug = make_event(starts_in="0 days", timezone="America/Chicago")
    move(slug, "2031-03-10 14:00 America/Chicago")
    assert api.register(slug, "Mo Vee", addr("mo")).status == 201
    move(slug, "2026-03-17 14:00 America/Chicago")          # the typo
    assert notices(slug) == []
    move(slug, "2031-03-17 14:00 America/Chicago")          # what was meant
    (changes,) = notices(slug)
    assert changes["was_start"] == "20310310T140000", changes
    assert changes["was_tz"] == "America/Chicago"
    # Back into the past and to the date registrants know: nothing to tell.
    slug = make_event(starts_in="0 days", timezone="America/Chicago")
    move(slug, "2031-03-10 14:00 America/Chicago")
    assert api.register(slug, "Mo Vee", addr("mo")).status == 201
    move(slug, "2026-03-10 14:00 America/Chicago")
    move(slug, "2031-03-10 14:00 America/Chicago")
    assert notices(slug) == []


def test_a_start_moved_into_the_past_in_a_transaction_begun_before_is_not_announced(
        api, db, make_event):
    """Staff at psql, in a transaction opened a moment before, record that
    the event began a moment ago: the calendar trigger read now(), the
    transaction's start, took that start for a future one and queued an
    event_changed email to every registrant for a time already past (while
    promote_waiting(), reading the clock, rightly took it as begun), and
    registrants were not told from what they knew once the start was
    corrected into the future.  The clock decides here too."""
    slug = make_event(starts_in="1 hour", location="Room 1", format="in_person")
    assert api.register(slug, "Ann Patron", addr("ann")).status == 201
    conn = connect()
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT now(), pg_sleep(1)")
            cur.execute("UPDATE eventbox.events SET starts_at = clock_timestamp()"
                        " - interval '0.5 seconds' WHERE slug = %s", (slug,))
        conn.commit()
    finally:
        conn.close()
    assert "event_changed" not in kinds(db, slug)
    assert db.value("SELECT count(*) FROM eventbox.events_as_told t JOIN eventbox.events e"
                    " ON e.id = t.event_id WHERE e.slug = %s", slug) == 1


def test_registrations_leave_the_sequence_alone(api, db, make_event):
    slug = make_event(capacity=1)
    seq = db.value("SELECT ical_sequence FROM eventbox.events WHERE slug = %s", slug)
    assert api.register(slug, "Ann", addr("ann")).status == 201
    assert api.register(slug, "Bob", addr("bob")).status == 201
    assert db.value("SELECT ical_sequence FROM eventbox.events WHERE slug = %s",
                    slug) == seq
    assert "event_changed" not in kinds(db, slug)


def test_the_links_of_earlier_emails_keep_working_after_a_notice_or_a_promotion(
        api, db, make_event):
    """A change notice or a promotion carries a link of its own and leaves
    the older ones working: a patron who kept only the confirmation can
    still cancel with it after staff moved the event.  A note to somebody
    registering again still replaces them all (one live link after a
    re-send: tests/test_api.py)."""
    slug = make_event(capacity=1, starts_in="10 days")
    ann, bob = addr("ann"), addr("bob")
    assert api.register(slug, "Ann Patron", ann).json["status"] == "confirmed"
    assert api.register(slug, "Bob Patron", bob).json["status"] == "waitlisted"
    db.all("UPDATE eventbox.events SET starts_at = starts_at + interval '1 hour',"
           " ends_at = ends_at + interval '1 hour' WHERE slug = %s", slug)

    def status(token):
        r = api.get(f"/api/v1/registrations/{token}")
        return r.json["status"] if r.status == 200 else r.status
    (ann_first,), (ann_notice,) = db.tokens(ann, "confirmed"), db.tokens(ann, "event_changed")
    assert status(ann_first) == status(ann_notice) == "confirmed"
    assert api.delete(f"/api/v1/registrations/{ann_first}").status == 200
    bob_links = [db.tokens(bob, k)[0] for k in ("waitlisted", "event_changed", "promoted")]
    assert [status(t) for t in bob_links] == ["confirmed"] * 3
    api.register(slug, "Bob Patron", bob)           # the "already registered" note
    (note,) = db.tokens(bob, "already_registered")
    assert status(note) == "confirmed"
    assert [status(t) for t in bob_links] == [404] * 3


def test_an_edit_undone_before_its_notice_left_tells_nothing(api, db, make_event):
    """Staff move an event by mistake and put it back a minute later,
    before any mailer ran: the second edit merged into the notice the
    first queued (keeping the oldest "before"), and every registrant was
    mailed "The time has changed. Before the change: 2 pm", the event's
    time being 2 pm.  What is back as registrants knew it is no news: a
    notice left with nothing to tell is not sent, and one that still has
    something keeps only that."""
    def pending(slug):
        return [r[0] for r in db.all(
            "SELECT o.changes FROM eventbox.outbox o JOIN eventbox.events e"
            " ON e.id = o.event_id WHERE e.slug = %s AND o.kind = 'event_changed'"
            " AND o.status = 'pending' ORDER BY o.id", slug)]

    def edit(slug, sql):
        db.all(f"UPDATE eventbox.events SET {sql} WHERE slug = %s", slug)

    slug = make_event(starts_in="15 days", location="Room 1", format="in_person")
    assert api.register(slug, "Ann Patron", addr("ann")).status == 201
    # The time, there and back.
    edit(slug, "starts_at = starts_at + interval '1 hour', ends_at = ends_at + interval '1 hour'")
    assert len(pending(slug)) == 1
    edit(slug, "starts_at = starts_at - interval '1 hour', ends_at = ends_at - interval '1 hour'")
    assert pending(slug) == []
    # The place, there and back.
    edit(slug, "location = 'Room 2'")
    edit(slug, "location = 'Room 1'")
    assert pending(slug) == []
    # Time and place; then the place back: the time still changed.
    edit(slug, "location = 'Room 3', starts_at = starts_at + interval '2 hours',"
               " ends_at = ends_at + interval '2 hours'")
    edit(slug, "location = 'Room 1'")
    (changes,) = pending(slug)
    assert "location" not in changes and "when" in changes, changes
    # Somebody who registered at the new time is told it moved back;
    # Ann, back at the time she knows, is told nothing.
    assert api.register(slug, "Bob Patron", addr("bob")).status == 201
    edit(slug, "starts_at = starts_at - interval '2 hours', ends_at = ends_at - interval '2 hours'")
    rows = pending_notices(db, slug)
    assert [(name, "when" in ch, "location" in ch) for name, ch in rows] == [
        ("Bob Patron", True, False)], rows


def pending_notices(db, slug):
    """(registrant's name, changes) of each event_changed notice not yet sent."""
    return [(r[0], r[1]) for r in db.all(
        "SELECT r.name, o.changes FROM eventbox.outbox o"
        " JOIN eventbox.registrations r ON r.id = o.registration_id"
        " JOIN eventbox.events e ON e.id = o.event_id WHERE e.slug = %s"
        " AND o.kind = 'event_changed' AND o.status = 'pending' ORDER BY o.id", slug)]


def test_a_new_online_link_alone_is_told_to_seats_only(api, db, make_event, admin):
    """Staff change only the link to join online: every registrant was
    mailed "The link to join online has changed", those waiting too, who
    are never sent the link (joining_url()) and learnt nothing.  Only
    seats are told; a new time told to everyone still says the link
    changed, and a waiting patron's notice left with only the link to say
    (the time put back) is not sent (tests/test_mail_stale.py claims)."""
    from test_mail_stale import claim_all
    slug = make_event(capacity=1, starts_in="10 days", format="hybrid", location="Room 1")
    ann, bob = addr("ann"), addr("bob")
    assert api.register(slug, "Ann Patron", ann).json["status"] == "confirmed"
    assert api.register(slug, "Bob Patron", bob).json["status"] == "waitlisted"

    def edit(sql):
        db.all(f"UPDATE eventbox.events SET {sql} WHERE slug = %s", slug)
    assert admin.patch(f"/events/{slug}", json_body={
        "online_url": "https://meet.example.org/one"}).status == 200
    # (was_link: the digest of the link replaced, that a link put back is
    # recognised by: test_a_link_put_back_before_its_notice_left_tells_nothing)
    assert [(n, {k: v for k, v in c.items() if k != "was_link"})
            for n, c in pending_notices(db, slug)] == [("Ann Patron", {"online_url": True})]
    # A new time, then a new link: both are told the time, and the link
    # merges into each notice.
    edit("starts_at = starts_at + interval '1 hour', ends_at = ends_at + interval '1 hour'")
    edit("online_url = 'https://meet.example.org/two'")
    rows = pending_notices(db, slug)
    assert [(n, "when" in c, c.get("online_url")) for n, c in rows] == [
        ("Ann Patron", True, True), ("Bob Patron", True, True)], rows
    # The time put back: Ann is still told of the link, Bob of nothing.
    edit("starts_at = starts_at - interval '1 hour', ends_at = ends_at - interval '1 hour'")
    ann_id, bob_id = [db.value(
        "SELECT o.id FROM eventbox.outbox o JOIN eventbox.registrations r"
        " ON r.id = o.registration_id WHERE r.email = %s AND o.kind = 'event_changed'"
        " AND o.status = 'pending'", a) for a in (ann, bob)]
    returned, skipped, _ = claim_all()
    assert ann_id in returned and ann_id not in skipped
    assert bob_id in skipped and bob_id not in returned


def test_a_draft_s_changes_are_told_once_it_is_published_again(
        api, db, make_event, admin):
    """Staff unpublish an event to rework it: each change meanwhile mailed
    every registrant a notice whose "Event page" link was a 404 (a draft is
    nobody's to read).  Nothing is told while it is a draft; publishing it
    again tells each registrant once what changed from what they knew, and
    nothing when it is back as they knew it."""
    slug = make_event(starts_in="10 days", location="Room 1", format="in_person")
    assert api.register(slug, "Ann Patron", addr("ann")).status == 201
    assert admin.post(f"/events/{slug}/unpublish").status == 200
    assert admin.patch(f"/events/{slug}", json_body={"location": "Room 2"}).status == 200
    db.all("UPDATE eventbox.events SET starts_at = starts_at + interval '2 hours',"
           " ends_at = ends_at + interval '2 hours' WHERE slug = %s", slug)
    assert "event_changed" not in kinds(db, slug)
    assert admin.post(f"/events/{slug}/publish").status == 200
    ((name, changes),) = pending_notices(db, slug)
    assert name == "Ann Patron"
    assert changes["location"] == "Room 1" and "when" in changes, changes
    # Reworked and put back as it was: publishing tells nothing.
    slug = make_event(starts_in="10 days", location="Room 1", format="in_person")
    assert api.register(slug, "Bob Patron", addr("bob")).status == 201
    assert admin.post(f"/events/{slug}/unpublish").status == 200
    assert admin.patch(f"/events/{slug}", json_body={"location": "Room 2"}).status == 200
    assert admin.patch(f"/events/{slug}", json_body={"location": "Room 1"}).status == 200
    assert admin.post(f"/events/{slug}/publish").status == 200
    assert "event_changed" not in kinds(db, slug)


def test_a_link_put_back_before_its_notice_left_tells_nothing(api, db, make_event):
    """Staff paste the wrong meeting link and paste the right one back a
    minute later, before any mailer ran: the time and place put back were
    left out of the notice, but the link was not, and every registrant was
    mailed "The link to join online has changed" to the link they had.
    The notice keeps a digest of the link it replaced (never the link:
    mail_claim() adds that for confirmed seats only), and a link back as
    registrants knew it is no news, alone or with a time undone too."""
    def pending(slug):
        return [r[0] for r in db.all(
            "SELECT o.changes FROM eventbox.outbox o JOIN eventbox.events e"
            " ON e.id = o.event_id WHERE e.slug = %s AND o.kind = 'event_changed'"
            " AND o.status = 'pending' ORDER BY o.id", slug)]

    def edit(slug, sql, *args):
        db.all(f"UPDATE eventbox.events SET {sql} WHERE slug = %s", *args, slug)

    slug = make_event(starts_in="15 days", location="Room 1", format="hybrid")
    url = db.value("SELECT online_url FROM eventbox.events WHERE slug = %s", slug)
    assert api.register(slug, "Ann Patron", addr("ann")).status == 201
    edit(slug, "online_url = 'https://meet.example.org/wrong'")
    (changes,) = pending(slug)
    assert changes["online_url"] is True and url not in str(changes), changes
    edit(slug, "online_url = %s", url)
    assert pending(slug) == []
    # With the time, both undone in one edit.
    edit(slug, "online_url = 'https://meet.example.org/wrong',"
               " starts_at = starts_at + interval '1 hour', ends_at = ends_at + interval '1 hour'")
    edit(slug, "online_url = %s, starts_at = starts_at - interval '1 hour',"
               " ends_at = ends_at - interval '1 hour'", url)
    assert pending(slug) == []
    # A second new link after the first keeps the first "before": still news,
    # and news no more once the first is back.
    edit(slug, "online_url = 'https://meet.example.org/one'")
    edit(slug, "online_url = 'https://meet.example.org/two'")
    (changes,) = pending(slug)
    assert changes["online_url"] is True, changes
    edit(slug, "online_url = %s", url)
    assert pending(slug) == []
    # A link taken away is news; one given back is not.
    edit(slug, "online_url = NULL")
    assert len(pending(slug)) == 1
    edit(slug, "online_url = %s", url)
    assert pending(slug) == []


def test_a_notice_tried_once_whose_change_was_put_back_since_is_not_sent_again(
        api, db, make_event, smtp, mailers):
    """The relay turned the notice of a new time away (a 451, as a
    greylisting relay does to a first try) and staff put the time back
    before its retry: the notice, tried, took no merge (the relay may have
    kept a try), a second one said "Before the change: 3 pm", and the
    retry went out as queued, "The time has changed. Before the change:
    2 pm", the event shown at 2 pm.  A tried notice is read again against
    the event as it goes out: what is no longer news is left out, and one
    left with nothing is closed unsent.  The registrant gets one email,
    which says what changed from the last time they may have been told."""
    slug = make_event(starts_in="15 days", location="Room 1", format="in_person")
    ann = addr("ann")
    server = smtp(answer=lambda rcpt, n: "451 4.7.1 try again later"
                  if n == 2 else None).start()
    mailers.start(server.url, EVENTBOX_MAIL_RETRY_BASE_MS=4000)
    assert api.register(slug, "Ann Patron", ann).status == 201
    server.wait_for([ann])
    db.all("UPDATE eventbox.events SET starts_at = starts_at + interval '1 hour',"
           " ends_at = ends_at + interval '1 hour' WHERE slug = %s", slug)
    deadline = time.time() + 30
    while server.attempts.get(ann, 0) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert server.attempts.get(ann) == 2
    db.all("UPDATE eventbox.events SET starts_at = starts_at - interval '1 hour',"
           " ends_at = ends_at - interval '1 hour' WHERE slug = %s", slug)
    rows = lambda: db.all(  # noqa: E731
        "SELECT o.status, o.last_error, o.changes ? 'when' FROM eventbox.outbox o"
        " JOIN eventbox.events e ON e.id = o.event_id WHERE e.slug = %s"
        " AND o.kind = 'event_changed' ORDER BY o.id", slug)
    deadline = time.time() + 30
    while any(r[0] == "pending" for r in rows()) and time.time() < deadline:
        time.sleep(0.1)
    assert [r[:2] for r in rows()] == [("sent", "skipped"), ("sent", None)], rows()
    notices = server.to(ann)[1:]
    assert len(notices) == 1, [m["Subject"] for m in notices]
    text = body(notices[0], "plain")
    assert "The time has changed. Before the change: " in text, text
