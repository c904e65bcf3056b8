"""Confirm by email, seats held meanwhile (sql/rules/55_holds.sql): a
registration on an event that asks for it holds its seat or waiting place
until the address follows its link; a hold that ends unconfirmed goes to the
next in line, in order, never after the start; a probe learns nothing from
the answer or the public figures; one address gets at most one note an hour
and holds one working link."""
import threading
import time
import uuid

import psycopg2
import pytest

from staffkit import (admin, assert_error, connect_as, email, ops_role,  # noqa: F401
                      staff_key)
from test_pages import Patron, csrf_of

API = "/api/v1"


def confirm_event(make_event, **cols):
    cols.setdefault("confirmation_required", True)
    return make_event(**cols)


def last_token(db, addr, kind):
    toks = db.tokens(addr, kind)
    assert toks, (addr, kind)
    return toks[-1]


def reg(db, addr):
    return db.one("SELECT status, held_until IS NOT NULL, hold_expired_at IS NOT NULL,"
                  " address_confirmed_at IS NOT NULL FROM eventbox.registrations"
                  " WHERE lower(email) = lower(%s) ORDER BY id DESC LIMIT 1", addr)


def end_hold(db, addr):
    """Moves a hold's end into the past, as the clock would."""
    db.all("UPDATE eventbox.registrations SET held_until = now() - interval '1 second'"
           " WHERE lower(email) = lower(%s) AND held_until IS NOT NULL", addr)


def held_counts(db, slug):
    """The event's held counters (sql/020_held_counts.sql), checked against
    a count of its held registrations."""
    kept = db.one("SELECT held_confirmed_count, held_waitlisted_count"
                  " FROM eventbox.events WHERE slug = %s", slug)
    counted = db.one("SELECT count(*) FILTER (WHERE r.status = 'confirmed'),"
                     " count(*) FILTER (WHERE r.status = 'waitlisted')"
                     " FROM eventbox.registrations r JOIN eventbox.events e"
                     " ON e.id = r.event_id WHERE e.slug = %s AND r.held_until IS NOT NULL",
                     slug)
    assert kept == counted, (kept, counted)
    return kept


def public(api, slug):
    r = api.get(f"{API}/events/{slug}")
    assert r.status == 200, r
    return r.json["seats_available"], r.json["waitlist_available"]


# --- the hold ---------------------------------------------------------------

def test_a_registration_is_held_until_the_address_confirms(api, db, make_event):
    slug = confirm_event(make_event, capacity=2)
    ann = email()
    r = api.register(slug, "Ann", ann)
    assert r.status == 202 and r.json["status"] == "pending", r
    assert r.json["position"] is None
    assert reg(db, ann) == ("confirmed", True, False, False)
    # The seat is taken (the invariant counts it), the public is not told.
    assert db.summary(slug)["confirmed"] == 1
    assert db.value("SELECT held_seats FROM eventbox.event_summary WHERE slug = %s",
                    slug) == 1
    assert public(api, slug)[0] == 2
    assert held_counts(db, slug) == (1, 0)
    # The only email is the confirmation request; no cancellation link yet.
    assert db.tokens(ann, "confirmed") == []
    tok = last_token(db, ann, "confirm_address")
    r = api.post(f"{API}/registrations/{tok}/confirm")
    assert r.status == 200 and r.json["status"] == "confirmed", r
    assert r.json["already_confirmed"] is False
    assert reg(db, ann) == ("confirmed", False, False, True)
    assert public(api, slug)[0] == 1
    assert held_counts(db, slug) == (0, 0)
    # The confirmation email carries the same, one working link.
    assert db.tokens(ann, "confirmed") == [tok]
    r = api.post(f"{API}/registrations/{tok}/confirm")
    assert r.status == 200 and r.json["already_confirmed"] is True


def test_members_only_events_confirm_by_default_and_others_do_not(api, db,
                                                                  make_event):
    db.all("INSERT INTO eventbox.organizations (name, domains) VALUES"
           " ('Hold Library', '{holdlib.example.org}') ON CONFLICT DO NOTHING")
    members = make_event(members_only=True)
    plain = make_event()
    r = api.register(members, "Mem", email(domain="holdlib.example.org"))
    assert r.status == 202, r
    r = api.register(plain, "Pat", email())
    assert r.status == 201 and r.json["status"] == "confirmed", r
    # Staff may turn it off for a members-only event, or on for any.
    db.all("UPDATE eventbox.events SET confirmation_required = false WHERE slug = %s",
           members)
    r = api.register(members, "Mem", email(domain="holdlib.example.org"))
    assert r.status == 201, r


def test_staff_entries_need_no_confirmation(db, make_event):
    slug = confirm_event(make_event)
    addr = email()
    out = db.one("SELECT outcome FROM eventbox.register(%s, 'Desk', %s)", slug, addr)
    assert out == ("confirmed",)
    assert reg(db, addr)[1] is False


def test_an_ended_hold_gives_the_seat_to_the_next_in_line(api, db, make_event):
    slug = confirm_event(make_event, capacity=1)
    first, second, third = email(), email(), email()
    for a in (first, second, third):
        assert api.register(slug, "P", a).status == 202
    # second and third wait, in order; third confirms, second does not yet.
    api.post(f"{API}/registrations/{last_token(db, third, 'confirm_address')}/confirm")
    end_hold(db, first)
    assert db.value("SELECT eventbox.expire_holds(%s)", slug) == 1
    assert reg(db, first) == ("cancelled", False, True, False)
    # FIFO: second (held, ahead of third) gets the seat, still held.
    assert reg(db, second)[:2] == ("confirmed", True)
    assert reg(db, third)[0] == "waitlisted"
    # No email to the lapsed address, none to the held one promoted.
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE lower(email) = lower(%s)"
                    " AND kind <> 'confirm_address'", first) == 0
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE lower(email) = lower(%s)"
                    " AND kind = 'promoted'", second) == 0
    row = db.one("SELECT held_seats, expired, confirmed, waitlisted"
                 " FROM eventbox.event_summary WHERE slug = %s", slug)
    assert row == (1, 1, 1, 1)
    # The roster shows each state.
    holds = dict(db.all("SELECT email, hold FROM eventbox.roster WHERE slug = %s", slug))
    assert (holds[first], holds[second], holds[third]) == ("expired", "held", "confirmed")
    held_counts(db, slug)


def test_a_seat_given_back_passes_over_a_hold_that_has_lapsed(api, db, make_event, ops_role):
    """A seat given back (by its patron, by staff) while the first in line
    held a waiting place whose hold had ended, not yet released (the
    mailer releases them once a minute), went to that lapsed hold: the
    patron who had confirmed waited on, the cancel page said the seat went
    to the next person, and once the event began before the release, the
    seat stayed free with a confirmed address waiting.  The lapsed holds
    are released first, and the seat goes to the first place still held."""
    for give_back in ("patron", "staff"):
        slug = confirm_event(make_event, capacity=1, starts_in="1 hour")
        seat, lapsed, waiting = email(), email(), email()
        for a in (seat, lapsed, waiting):
            assert api.register(slug, "P", a).status == 202
        seat_tok = last_token(db, seat, "confirm_address")
        for a in (seat, waiting):
            r = api.post(f"{API}/registrations/{last_token(db, a, 'confirm_address')}/confirm")
            assert r.status == 200, r
        end_hold(db, lapsed)
        if give_back == "patron":
            assert api.delete(f"{API}/registrations/{seat_tok}").status == 200
        else:
            seat_id = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", seat)
            with connect_as(ops_role) as conn, conn.cursor() as cur:
                cur.execute("SELECT outcome, promoted FROM eventbox.cancel_registration(%s)",
                            (seat_id,))
                assert cur.fetchone() == ("cancelled", 1)
        assert reg(db, lapsed) == ("cancelled", False, True, False), give_back
        assert reg(db, waiting)[:2] == ("confirmed", False), give_back
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email = %s"
                        " AND kind = 'promoted'", waiting) == 1
        # The event begins; the next release finds nothing to do.
        db.all("UPDATE eventbox.events SET starts_at = now() - interval '1 minute',"
               " ends_at = now() + interval '1 hour' WHERE slug = %s", slug)
        db.value("SELECT eventbox.expire_holds(%s)", slug)
        assert reg(db, waiting)[0] == "confirmed"
        assert db.summary(slug) == {"capacity": 1, "confirmed": 1, "waitlisted": 0,
                                    "cancelled": 2, "seats_available": 0}
        held_counts(db, slug)


def test_a_capacity_raise_counts_the_seats_once_lapsed_holds_are_released(
        api, admin, db, make_event):
    """A seat added while a seat's hold had lapsed (not yet released) went
    to the next in line beside the lapsed hold, and PUT .../capacity said
    confirmed 2 where one patron held a seat: the lapsed hold is released
    first, and the answer counts the seats as they are."""
    slug = confirm_event(make_event, capacity=1)
    seat, waiting = email(), email()
    for a in (seat, waiting):
        assert api.register(slug, "P", a).status == 202
    r = api.post(f"{API}/registrations/{last_token(db, waiting, 'confirm_address')}/confirm")
    assert r.status == 200, r
    end_hold(db, seat)
    r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 2})
    assert r.status == 200, r
    assert (r.json["confirmed"], r.json["promoted"]) == (1, 1), r.json
    assert reg(db, seat) == ("cancelled", False, True, False)
    assert reg(db, waiting)[:2] == ("confirmed", False)
    assert db.summary(slug)["confirmed"] == 1
    held_counts(db, slug)


def test_staff_promote_one_person_once_lapsed_holds_are_released(
        api, admin, db, make_event, ops_role):
    """Staff's promote() read a lapsed hold (ended, not yet released) as
    live: it answered no_seat while the seats were only held by lapsed
    holds, and it promoted a waiting place whose own hold had lapsed into
    a seat its address never confirmed.  The event's lapsed holds are
    released first: staff's pick gets a freed seat, the other freed seats
    go to the next in line, and a lapsed place is no longer waiting."""
    slug = confirm_event(make_event, capacity=2)
    seats, first, picked = [email(), email()], email(), email()
    for a in seats + [first, picked]:
        assert api.register(slug, "P", a).status == 202
    for a in (first, picked):
        r = api.post(f"{API}/registrations/{last_token(db, a, 'confirm_address')}/confirm")
        assert r.status == 200 and r.json["status"] == "waitlisted", r
    for a in seats:
        end_hold(db, a)
    pick_id = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", picked)
    r = admin.post(f"/registrations/{pick_id}/promote")
    assert r.status == 200 and r.json["outcome"] == "promoted", r
    for a in seats:
        assert reg(db, a) == ("cancelled", False, True, False)
    for a in (picked, first):
        assert reg(db, a)[:2] == ("confirmed", False), a
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email = %s"
                        " AND kind = 'promoted'", a) == 1, a
    assert db.summary(slug)["confirmed"] == 2
    held_counts(db, slug)

    # A waiting place whose hold lapsed, a seat free (unpublished: staff
    # choose who gets it): released, not promoted.
    slug = confirm_event(make_event, capacity=1)
    seat, lapsed = email(), email()
    for a in (seat, lapsed):
        assert api.register(slug, "P", a).status == 202
    assert admin.post(f"/events/{slug}/unpublish").status == 200
    seat_id, lapsed_id = (db.value("SELECT id FROM eventbox.registrations WHERE email = %s", a)
                          for a in (seat, lapsed))
    assert admin.delete(f"/registrations/{seat_id}").json["outcome"] == "cancelled"
    end_hold(db, lapsed)
    with connect_as(ops_role) as conn, conn.cursor() as cur:
        cur.execute("SELECT outcome FROM eventbox.promote(%s)", (lapsed_id,))
        assert cur.fetchone() == ("not_waitlisted",)
    assert reg(db, lapsed) == ("cancelled", False, True, False)
    assert db.summary(slug)["confirmed"] == 0
    held_counts(db, slug)


def test_lowering_the_capacity_counts_no_lapsed_hold(api, admin, db, make_event):
    """Lowering the capacity (PUT .../capacity, set_capacity(); PATCH,
    save_event()) was refused as below the confirmed count, and a
    waiting-list limit as below the people waiting, counting holds that
    had ended unconfirmed, not yet released.  They are released first; a
    change still refused leaves the seats they freed to the next in line."""
    for how in ("put", "patch"):
        slug = confirm_event(make_event, capacity=2, waitlist_capacity=2)
        seat, lapsed_seat, waiting, lapsed_wait = email(), email(), email(), email()
        for a in (seat, lapsed_seat, waiting, lapsed_wait):
            assert api.register(slug, "P", a).status == 202
        for a in (seat, waiting):
            r = api.post(f"{API}/registrations/{last_token(db, a, 'confirm_address')}/confirm")
            assert r.status == 200, r
        for a in (lapsed_seat, lapsed_wait):
            end_hold(db, a)
        if how == "put":
            r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 1})
            assert r.status == 200, r
            assert r.json == {"capacity": 1, "confirmed": 1, "promoted": 0}, r.json
        else:
            r = admin.patch(f"/events/{slug}",
                            json_body={"capacity": 1, "waitlist_capacity": 1})
            assert r.status == 200, r
        for a in (lapsed_seat, lapsed_wait):
            assert reg(db, a) == ("cancelled", False, True, False), (how, a)
        assert reg(db, seat)[0] == "confirmed" and reg(db, waiting)[0] == "waitlisted"
        assert db.summary(slug)["confirmed"] == 1
        held_counts(db, slug)

        # Refused all the same: the seat the release freed goes to the
        # first in line, and the answer counts it.
        slug = confirm_event(make_event, capacity=3)
        seats, lapsed, waiting = [email(), email()], email(), email()
        for a in seats + [lapsed, waiting]:
            assert api.register(slug, "P", a).status == 202
        for a in seats + [waiting]:
            r = api.post(f"{API}/registrations/{last_token(db, a, 'confirm_address')}/confirm")
            assert r.status == 200, r
        end_hold(db, lapsed)
        if how == "put":
            r = admin.put(f"/events/{slug}/capacity", json_body={"capacity": 1})
        else:
            r = admin.patch(f"/events/{slug}", json_body={"capacity": 1})
        assert_error(r, 409, "capacity_below_confirmed")
        assert r.json["error"]["message"].startswith("3 seats are taken"), r.json
        assert reg(db, lapsed) == ("cancelled", False, True, False), how
        assert reg(db, waiting)[:2] == ("confirmed", False), how
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email = %s"
                        " AND kind = 'promoted'", waiting) == 1, how
        assert db.summary(slug)["capacity"] == 3
        held_counts(db, slug)


def test_holds_expire_lazily_under_the_lock(api, db, make_event):
    slug = confirm_event(make_event, capacity=1, waitlist=False)
    a, b = email(), email()
    assert api.register(slug, "A", a).status == 202
    r = api.register(slug, "B", b)
    assert r.status == 409, r                  # full while a's hold lasts
    end_hold(db, a)
    r = api.register(slug, "B", b)             # the fast path must not answer full
    assert r.status == 202, r
    assert reg(db, a)[0] == "cancelled" and reg(db, b)[:2] == ("confirmed", True)


def test_no_promotion_after_the_start(api, db, make_event):
    slug = confirm_event(make_event, capacity=1, starts_in="1 hour")
    a, b = email(), email()
    api.register(slug, "A", a)
    api.register(slug, "B", b)
    api.post(f"{API}/registrations/{last_token(db, b, 'confirm_address')}/confirm")
    db.all("UPDATE eventbox.registrations SET held_until = now() - interval '1 second'"
           " WHERE lower(email) = lower(%s)", a)
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '1 minute',"
           " ends_at = now() + interval '1 hour' WHERE slug = %s", slug)
    db.value("SELECT eventbox.expire_holds(%s)", slug)
    assert reg(db, a)[0] == "cancelled"
    assert reg(db, b)[0] == "waitlisted"


def test_a_hold_never_outlasts_the_start_and_follows_the_event_setting(api, db,
                                                                       make_event):
    slug = confirm_event(make_event, starts_in="10 minutes", hold_minutes=600)
    a = email()
    api.register(slug, "A", a)
    assert db.value("SELECT held_until = e.starts_at FROM eventbox.registrations r"
                    " JOIN eventbox.events e ON e.id = r.event_id WHERE r.email = %s", a)
    slug = confirm_event(make_event, hold_minutes=7)
    b = email()
    api.register(slug, "B", b)
    assert db.value("SELECT held_until - registered_at FROM eventbox.registrations"
                    " WHERE email = %s", b).total_seconds() == 7 * 60


def test_an_expired_hold_answers_410_and_stays_released(api, db, make_event):
    slug = confirm_event(make_event, capacity=1)
    a = email()
    api.register(slug, "A", a)
    tok = last_token(db, a, "confirm_address")
    end_hold(db, a)
    r = api.post(f"{API}/registrations/{tok}/confirm")
    assert r.status == 410 and r.json["error"]["code"] == "hold_expired", r
    assert reg(db, a)[0] == "cancelled"
    assert db.summary(slug)["confirmed"] == 0


# --- the start moved earlier --------------------------------------------------

def held_until_vs_start(db, addr):
    return db.one("SELECT r.held_until <= e.starts_at, r.held_until = e.starts_at"
                  " FROM eventbox.registrations r JOIN eventbox.events e"
                  " ON e.id = r.event_id WHERE r.email = %s", addr)


def test_moving_the_start_earlier_ends_the_holds_that_would_outlive_it(
        api, admin, db, make_event):
    """Staff move an event to a start that a hold taken before would
    outlive: the hold ends at the new start, so nobody joins the event once
    it has begun."""
    slug = confirm_event(make_event, hold_minutes=600)
    a = email()
    assert api.register(slug, "A", a).status == 202
    tok = last_token(db, a, "confirm_address")
    # Earlier, still ahead: the hold now ends at the new start.
    soon = db.value("SELECT eventbox.iso_utc(now() + interval '30 minutes')")
    r = admin.patch(f"/events/{slug}", json_body={"starts_at": soon})
    assert r.status == 200, r
    assert held_until_vs_start(db, a) == (True, True)
    assert api.get(f"{API}/registrations/{tok}").json["held_until"] == soon
    # Already begun: the place is over, and the link confirms nothing.
    begun = db.value("SELECT eventbox.iso_utc(now() - interval '20 minutes')")
    r = admin.patch(f"/events/{slug}", json_body={"starts_at": begun})
    assert r.status == 200 and r.json["registration_state"] == "closed", r
    assert held_until_vs_start(db, a) == (True, True)
    r = api.get(f"{API}/registrations/{tok}")
    assert (r.json["status"], r.json["held_until"], r.json["online_url"]) == (
        "cancelled", None, None), r.json
    r = api.post(f"{API}/registrations/{tok}/confirm")
    assert r.status == 410 and r.json["error"]["code"] == "hold_expired", r
    assert reg(db, a) == ("cancelled", False, True, False)
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email = %s"
                    " AND kind IN ('confirmed', 'waitlisted', 'promoted')", a) == 0
    held_counts(db, slug)


def test_a_start_moved_by_plain_sql_ends_the_holds_too(api, db, make_event, ops_role):
    slug = confirm_event(make_event, hold_minutes=600)
    a, later = email(), email()
    api.register(slug, "A", a)
    db.all("UPDATE eventbox.events SET starts_at = now() + interval '5 minutes'"
           " WHERE slug = %s", slug)
    assert held_until_vs_start(db, a) == (True, True)
    # Moving it later again leaves a hold as it is (it was promised no more).
    db.all("UPDATE eventbox.events SET starts_at = now() + interval '50 minutes'"
           " WHERE slug = %s", slug)
    assert held_until_vs_start(db, a) == (True, False)
    api.register(slug, "L", later)
    conn = connect_as(ops_role)
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE eventbox.events SET starts_at = now() - interval '1 minute'"
                        " WHERE slug = %s", (slug,))
        conn.commit()
    finally:
        conn.close()
    assert held_until_vs_start(db, a) == (True, True)
    assert held_until_vs_start(db, later) == (True, True)
    assert held_counts(db, slug) == (2, 0)
    assert db.value("SELECT eventbox.expire_holds(%s)", slug) == 2
    assert held_counts(db, slug) == (0, 0)


def test_a_hold_is_not_confirmed_once_its_event_has_started(api, db, make_event):
    """Whatever its end says (a hold taken by a transaction that read the
    clock just before the start): after the start, confirming is too late."""
    slug = confirm_event(make_event, capacity=1)
    seat, waiting = email(), email()
    api.register(slug, "S", seat)
    api.register(slug, "W", waiting)
    assert (reg(db, seat)[:2], reg(db, waiting)[:2]) == (("confirmed", True),
                                                         ("waitlisted", True))
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '1 minute'"
           " WHERE slug = %s", slug)
    db.all("UPDATE eventbox.registrations SET held_until = now() + interval '1 hour'"
           " WHERE email IN (%s, %s)", seat, waiting)
    for a in (seat, waiting):
        r = api.post(f"{API}/registrations/{last_token(db, a, 'confirm_address')}/confirm")
        assert r.status == 410 and r.json["error"]["code"] == "hold_expired", r
        assert reg(db, a)[3] is False
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email = %s"
                        " AND kind <> 'confirm_address'", a) == 0


def test_a_held_waiting_place_is_not_promoted_after_the_start(api, admin, db, make_event):
    slug = confirm_event(make_event, capacity=1, hold_minutes=600)
    seat, waiting = email(), email()
    api.register(slug, "S", seat)
    api.register(slug, "W", waiting)
    seat_tok = last_token(db, seat, "confirm_address")
    assert api.post(f"{API}/registrations/{seat_tok}/confirm").status == 200
    begun = db.value("SELECT eventbox.iso_utc(now() - interval '20 minutes')")
    assert admin.patch(f"/events/{slug}", json_body={"starts_at": begun}).status == 200
    # The seat freed after the start goes to nobody, held or not.
    assert api.delete(f"{API}/registrations/{seat_tok}").status == 200
    assert reg(db, waiting)[0] != "confirmed"
    r = api.post(f"{API}/registrations/{last_token(db, waiting, 'confirm_address')}/confirm")
    assert r.status == 410, r
    assert db.summary(slug)["confirmed"] == 0
    held_counts(db, slug)


# --- expiry racing a confirmation (both orders) ------------------------------

def hold_lock(slug):
    """A session that holds the event's row lock until released."""
    conn = psycopg2.connect(**{k: v for k, v in connect_as_params().items()})
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("SELECT eventbox.lock_event(%s)", (slug,))
    return conn, cur


def connect_as_params():
    import os
    return dict(host=os.environ["PGHOST"], port=os.environ["PGPORT"],
                dbname=os.environ["PGDATABASE"], user=os.environ["PGUSER"])


def test_expiry_first_then_the_confirmation_waiting_on_the_lock(api, db, make_event):
    slug = confirm_event(make_event, capacity=1)
    a = email()
    api.register(slug, "A", a)
    tok = last_token(db, a, "confirm_address")
    conn, cur = hold_lock(slug)
    answer = {}
    t = threading.Thread(target=lambda: answer.update(
        r=api.post(f"{API}/registrations/{tok}/confirm")))
    try:
        t.start()
        # The confirmation is now waiting for the lock; the hold ends and the
        # lock holder releases it first.
        # (within the service's lock_timeout, 3 s in the test stack)
        for _ in range(40):
            if db.value("SELECT count(*) FROM pg_stat_activity"
                        " WHERE wait_event_type = 'Lock'"):
                break
            threading.Event().wait(0.05)
        cur.execute("UPDATE eventbox.registrations SET held_until = now()"
                    " WHERE email = %s", (a,))
        cur.execute("SELECT eventbox.expire_holds_locked(id) FROM eventbox.events"
                    " WHERE slug = %s", (slug,))
        conn.commit()
        t.join(30)
    finally:
        conn.close()
    assert answer["r"].status == 410, answer
    assert reg(db, a)[0] == "cancelled"
    assert db.summary(slug)["confirmed"] == 0


def test_confirmation_first_then_the_expiry_finds_nothing(api, db, make_event):
    slug = confirm_event(make_event, capacity=1)
    a = email()
    api.register(slug, "A", a)
    tok = last_token(db, a, "confirm_address")
    assert api.post(f"{API}/registrations/{tok}/confirm").status == 200
    db.all("UPDATE eventbox.events SET hold_minutes = 1 WHERE slug = %s", slug)
    assert db.value("SELECT eventbox.expire_holds(%s)", slug) == 0
    held_counts(db, slug)
    assert reg(db, a) == ("confirmed", False, False, True)


def test_many_holds_expiring_under_load_never_oversell(api, db, make_event):
    slug = confirm_event(make_event, capacity=5)
    addrs = [email() for _ in range(30)]
    results = []

    def worker(chunk):
        for a in chunk:
            results.append(api.register(slug, "L", a).status)
            db_local = db  # expiry races the registrations
            end_hold(db_local, a) if len(results) % 3 == 0 else None

    threads = [threading.Thread(target=worker, args=(addrs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for _ in range(5):
        db.value("SELECT eventbox.expire_holds(%s)", slug)
    for t in threads:
        t.join(60)
    db.value("SELECT eventbox.expire_holds(%s)", slug)
    assert set(results) <= {202}
    s = db.summary(slug)
    assert s["confirmed"] <= 5
    live = db.value("SELECT count(*) FROM eventbox.registrations r JOIN eventbox.events e"
                    " ON e.id = r.event_id WHERE e.slug = %s AND r.status = 'confirmed'", slug)
    assert live == s["confirmed"]
    # FIFO: every waiting registration came after every seated one.
    seated = db.value("SELECT max(r.id) FROM eventbox.registrations r JOIN eventbox.events e"
                      " ON e.id = r.event_id WHERE e.slug = %s AND r.status = 'confirmed'"
                      " AND r.promoted_at IS NULL", slug)
    waiting = db.value("SELECT min(r.id) FROM eventbox.registrations r JOIN eventbox.events e"
                       " ON e.id = r.event_id WHERE e.slug = %s AND r.status = 'waitlisted'",
                       slug)
    assert seated is None or waiting is None or seated < waiting
    held_counts(db, slug)


# --- what a probe learns ------------------------------------------------------

def test_a_probe_learns_nothing_from_the_answer_or_the_figures(api, db, make_event):
    slug = confirm_event(make_event, capacity=3)
    victim = email()
    api.register(slug, "V", victim)
    api.post(f"{API}/registrations/{last_token(db, victim, 'confirm_address')}/confirm")
    before = public(api, slug)
    libcal_before = api.get(f"/1.1/events/{db.value('SELECT id FROM eventbox.events WHERE slug = %s', slug)}").json
    known = api.register(slug, "Probe", victim)
    unknown = api.register(slug, "Probe", email())
    assert known.status == unknown.status == 202
    assert known.json == {**unknown.json}
    assert public(api, slug) == before
    libcal_after = api.get(f"/1.1/events/{db.value('SELECT id FROM eventbox.events WHERE slug = %s', slug)}").json
    assert libcal_after == libcal_before


def test_held_seats_that_fill_the_event_are_not_offered(api, db, make_event):
    """Every seat and the waiting list held for addresses that have not
    confirmed: the public is told what a registration gets now (full), not
    the held seats that may free up; once a hold ends, the form is back."""
    dom = "heldfull.example.org"
    db.all("INSERT INTO eventbox.organizations (name, domains) VALUES"
           " ('Held Full Library', %s) ON CONFLICT DO NOTHING", [dom])
    cat = "held-" + uuid.uuid4().hex[:8]
    slug = make_event(members_only=True, capacity=3, waitlist_capacity=1,
                      categories=[cat])
    held = [email(domain=dom) for _ in range(4)]
    for a in held:
        assert api.register(slug, "Mem", a).status == 202
    assert held_counts(db, slug) == (3, 1)
    # What the API, the LibCal view and the list say ...
    assert public(api, slug) == (0, False)
    ev_id = db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)
    (lc,) = api.get(f"/1.1/events/{ev_id}").json["events"]
    assert lc["seats_taken"] == lc["seats"] == 3, lc
    listing = api.get(f"/events?category={cat}")
    assert listing.status == 200 and '<span class="seats">Full</span>' in listing.text
    page = api.get(f"/events/{slug}")
    assert "This event is full." in page.text
    assert "seats available" not in page.text and 'class="register"' not in page.text
    assert "offered again when their hold ends" in page.text
    # ... is what a registration gets: full, by the API and the form.
    r = api.register(slug, "Late", email(domain=dom))
    assert r.status == 409 and r.json["error"]["code"] == "event_full", r
    # A member who loaded the form before the last place went posts it.
    patron = Patron(api)
    form = csrf_of(patron.get(f"/events/{make_event()}"))
    r = patron.register(slug, email=email(domain=dom), csrf=form)
    assert r.status == 409, r
    assert "This event is full." in r.text
    assert "seats available" not in r.text and 'class="register"' not in r.text
    # A hold ends: its seat goes to the one waiting (still held) and the
    # waiting place is free.  Held seats show as free again, with what the
    # confirmation will say, and a registration is taken (pending).
    end_hold(db, held[0])
    assert db.value("SELECT eventbox.expire_holds(%s)", slug) == 1
    assert public(api, slug) == (3, True)
    page = api.get(f"/events/{slug}")
    assert "There are 3 seats available." in page.text
    assert "whether you have a seat or a place on the waiting list" in page.text
    assert 'class="register"' in page.text
    assert api.register(slug, "Next", email(domain=dom)).status == 202
    assert reg(db, held[-1])[0] == "confirmed"


def test_a_plain_event_shows_no_word_about_holds(api, make_event):
    slug = make_event(capacity=1, waitlist=False)
    page = api.get(f"/events/{slug}")
    assert "There is 1 seat available." in page.text
    assert "not confirmed their email" not in page.text
    assert api.register(slug, "A", email()).status == 201
    page = api.get(f"/events/{slug}")
    assert "This event is full." in page.text
    assert "hold ends" not in page.text


# --- mail bombing ----------------------------------------------------------------

def test_one_note_an_hour_and_one_working_link(api, db, make_event):
    slug = make_event()
    a = email()
    assert api.register(slug, "A", a).status == 201
    first = last_token(db, a, "confirmed")
    for _ in range(10):
        assert api.register(slug, "A", a).status == 201
    notes = db.tokens(a, "already_registered")
    assert len(notes) == 1
    # The note's link works, the first one was revoked.
    assert api.get(f"{API}/registrations/{notes[0]}").status == 200
    assert api.get(f"{API}/registrations/{first}").status == 404
    # A queued message whose link was revoked is never sent.
    db.all("UPDATE eventbox.outbox SET created_at = now() - interval '2 hours'"
           " WHERE lower(email) = lower(%s)", a)
    api.register(slug, "A", a)
    assert len(db.tokens(a, "already_registered")) == 2


def test_a_held_address_gets_its_link_again_at_most_hourly(api, db, make_event):
    slug = confirm_event(make_event)
    a = email()
    for _ in range(5):
        assert api.register(slug, "A", a).status == 202
    assert len(db.tokens(a, "confirm_address")) == 1


# --- the pages -----------------------------------------------------------------

def test_the_confirmation_link_asks_first_and_only_the_post_confirms(api, db,
                                                                     make_event):
    slug = confirm_event(make_event)
    patron = Patron(api)
    a = email()
    r = patron.register(slug, email=a)
    assert r.status == 200 and "<h1>Check your email</h1>" in r.text, r
    tok = last_token(db, a, "confirm_address")
    page = patron.get(f"/confirm/{tok}")
    assert page.status == 200 and "Confirm your registration?" in page.text
    assert reg(db, a)[1] is True                       # a GET changes nothing
    r = patron.post(f"/confirm/{tok}", [("csrf", csrf_of(page))])
    assert r.status == 200 and "Confirmed: you are registered" in r.text, r
    assert reg(db, a)[1] is False
    assert patron.get(f"/confirm/{tok}").status == 200   # "already confirmed"
    assert patron.get("/confirm/" + "0" * 36).status == 404


def test_the_confirm_button_pressed_again_says_it_was_confirmed_not_that_mail_comes(
        api, db, make_event):
    """The same POST again (the button pressed twice, the answer reloaded)
    said "An email ... is on its way", though none was: the second answer
    says it stood confirmed already, for a seat and for a waiting place, in
    English and Spanish, and queues nothing."""
    seat = confirm_event(make_event)
    full = confirm_event(make_event, capacity=1)
    assert api.register(full, "First", email()).status == 202
    first = last_token(db, db.one("SELECT email FROM eventbox.registrations r"
                                  " JOIN eventbox.events e ON e.id = r.event_id"
                                  " WHERE e.slug = %s", full)[0], "confirm_address")
    patron = Patron(api)
    page = patron.get(f"/confirm/{first}")
    assert patron.post(f"/confirm/{first}", [("csrf", csrf_of(page))]).status == 200
    for slug, lang, coming, title, said in [
            (seat, "", "An email with the details and your cancellation "
             "link is on its way.", "Already confirmed: you are registered",
             "It was already confirmed: nothing more has changed, and no "
             "further email is sent."),
            (full, "?lang=es", "Le enviamos un correo electrónico con los "
             "detalles", "Ya estaba confirmada: está en la lista de espera",
             "Ya estaba confirmada: no ha cambiado nada más y no se envía "
             "ningún otro correo electrónico.")]:
        a = email()
        assert api.register(slug, "Ann", a).status == 202
        tok = last_token(db, a, "confirm_address")
        page = patron.get(f"/confirm/{tok}{lang}")
        first = patron.post(f"/confirm/{tok}{lang}", [("csrf", csrf_of(page))])
        assert first.status == 200, first
        assert coming in first.text, first.text
        queued = db.one("SELECT count(*) FROM eventbox.outbox WHERE email = %s", a)[0]
        again = patron.post(f"/confirm/{tok}{lang}", [("csrf", csrf_of(page))])
        assert again.status == 200, again
        assert f"<title>{title} - " in again.text, again.text
        assert f"<h1>{title}</h1>" in again.text, again.text
        assert said in again.text, again.text
        assert coming not in again.text, again.text
        if slug == full:
            assert "Usted tiene el número 1 en la lista de espera." in again.text
        assert db.one("SELECT count(*) FROM eventbox.outbox WHERE email = %s",
                      a)[0] == queued                 # no further email
        assert reg(db, a)[1] is False


def test_the_confirmation_page_gives_the_holds_end_with_its_date_and_zone(
        api, db, make_event):
    """"Your place is held until 10:11pm (event time)": a hold of two days
    read, at 10:11pm, as ending now, and the zone had no name.  The date and
    the zone as the registration page gives them, in the zone picked."""
    slug = confirm_event(make_event, timezone="Asia/Tokyo", hold_minutes=2880)
    a = email()
    assert api.register(slug, "H", a).status == 202
    tok = last_token(db, a, "confirm_address")

    def until(zone):
        return db.one("SELECT to_char(held_until AT TIME ZONE %s,"
                      " 'FMDay, FMMonth FMDD, YYYY'), lower(to_char(held_until"
                      " AT TIME ZONE %s, 'FMHH12:MIam')) FROM eventbox.registrations"
                      " WHERE email = %s", zone, zone, a)
    day, time = until("Asia/Tokyo")
    page = api.get(f"/confirm/{tok}")
    assert page.status == 200, page
    assert f"Your place is held until {day} at {time} (Tokyo)." in page.text, page.text
    assert "event time" not in page.text
    day, time = until("America/New_York")
    page = api.get(f"/confirm/{tok}?tz=America/New_York")
    assert page.status == 200, page
    assert (f"held until {day} at {time} (Eastern Time - US &amp; Canada)"
            in page.text), page.text
    assert '<option value="America/New_York" selected>' in page.text
    assert "Confirm my registration</button>" in page.text
    es = api.get(f"/confirm/{tok}?lang=es")
    assert "(Tokio)" in es.text and "hora del evento" not in es.text
    assert "Su lugar está reservado hasta el " in es.text
    bad = api.get(f"/confirm/{tok}?tz=Mars/Olympus")
    assert bad.status == 400 and "Mars" not in bad.text
    assert reg(db, a)[1] is True                       # still held


def test_a_lapsed_hold_is_said_to_have_lapsed_not_to_have_gone_on_or_been_cancelled(
        api, db, make_event):
    """With nobody waiting and seats free, the 410 said the place "went to the
    next person", and the registration page said "Cancelled", though the
    patron never cancelled."""
    slug = confirm_event(make_event, capacity=5)
    a = email()
    assert api.register(slug, "H", a).status == 202
    tok = last_token(db, a, "confirm_address")
    end_hold(db, a)
    r = api.get(f"/confirm/{tok}")
    assert r.status == 410, r
    assert "next person" not in r.text
    assert "was not confirmed in time, so it has been released" in r.text
    assert "siguiente persona" not in api.get(f"/confirm/{tok}?lang=es").text
    page = api.get(f"/registration/{tok}")
    assert page.status == 200, page
    assert "<strong>Not confirmed in time: the place held for you was released" \
        in page.text, page.text
    assert "<strong>Cancelled</strong>" not in page.text
    assert "No se confirmó a tiempo" in api.get(f"/registration/{tok}?lang=es").text
    # A registration the patron did cancel still says so.
    b = email()
    assert api.register(slug, "C", b).status == 202
    tok = last_token(db, b, "confirm_address")
    assert api.post(f"{API}/registrations/{tok}/confirm").status == 200
    assert api.delete(f"{API}/registrations/{tok}").status in (200, 204)
    assert "<strong>Cancelled</strong>" in api.get(f"/registration/{tok}").text


def test_the_admin_api_shows_holds(admin, db, make_event, api):
    slug = confirm_event(make_event, capacity=2)
    a = email()
    api.register(slug, "A", a)
    r = admin.get(f"/events/{slug}")
    assert r.status == 200, r
    body = r.json
    assert (body["confirmation_required"], body["held_seats"], body["expired"]) == (True, 1, 0)
    r = admin.get(f"/events/{slug}/registrations")
    row = r.json["registrations"][0]
    assert row["hold"] == "held" and row["held_until"]
    r = admin.patch(f"/events/{slug}", json_body={"hold_minutes": 0})
    assert r.status == 422, r
    r = admin.patch(f"/events/{slug}",
                    json_body={"hold_minutes": 15, "confirmation_required": False})
    assert r.status == 200, r
    assert db.value("SELECT hold_minutes FROM eventbox.events WHERE slug = %s", slug) == 15


# --- a per-event ceiling per network -------------------------------------------

def raw_register(slug, addr, remote):
    import json
    from test_fastcgi_raw import base_params, exchange, request, status_of
    body = json.dumps({"name": "Raw", "email": addr}).encode()
    params = base_params("POST", f"/api/v1/events/{slug}/registrations",
                         REMOTE_ADDR=remote, CONTENT_TYPE="application/json",
                         CONTENT_LENGTH=str(len(body)))
    return status_of(exchange(request(params, body)))


def test_a_network_gets_at_most_the_events_registrations_per_minute(api, db,
                                                                    make_event):
    slug = make_event(registrations_per_minute=3)
    codes = [api.register(slug, "N", email()).status for _ in range(5)]
    assert codes[:3] == [201] * 3, codes
    assert codes[3:] == [429] * 2, codes
    r = api.register(slug, "N", email())
    assert r.json["error"]["code"] == "too_many_registrations"
    # The same /64 from another address counts together; another network not.
    assert [raw_register(slug, email(), "2001:db8:7::1") for _ in range(3)] == [201] * 3
    assert raw_register(slug, email(), "2001:db8:7::ffff:2") == 429
    assert raw_register(slug, email(), "2001:db8:8::1") == 201
    assert raw_register(slug, email(), "198.51.100.7") == 201
    # Only a keyed hash of the network is stored.
    nets = [bytes(r[0]) for r in db.all(
        "SELECT network FROM eventbox.network_counts c JOIN eventbox.events e"
        " ON e.id = c.event_id WHERE e.slug = %s", slug)]
    assert nets and all(len(n) == 32 and b"\x20\x01\x0d\xb8" not in n for n in nets)
    # Events without a ceiling count nothing.
    plain = make_event()
    assert [api.register(plain, "N", email()).status for _ in range(5)] == [201] * 5


def test_the_429_says_when_the_next_minute_starts(api, make_event):
    """Retry-After, as nginx's own 429 has it and retry libraries read it:
    the seconds to the next minute, when the ceiling counts afresh."""
    slug = make_event(registrations_per_minute=1)
    assert api.register(slug, "N", email()).status == 201
    r = api.register(slug, "N", email())
    assert r.status == 429 and r.json["error"]["code"] == "too_many_registrations", r
    wait = int(r.header("Retry-After"))
    assert 1 <= wait <= 60, wait
    assert min((time.time() + wait) % 60, 60 - (time.time() + wait) % 60) <= 2, wait


def test_a_retry_with_its_idempotency_key_is_replayed_not_rate_limited(api, make_event):
    """A client whose 201 was lost sends the attempt again with its key: it
    gets the first answer, and the ceiling counts the attempt once."""
    slug = make_event(registrations_per_minute=1)
    addr, key = email(), str(uuid.uuid4())
    first = api.register(slug, "Ann", addr, headers={"Idempotency-Key": key})
    assert first.status == 201, first
    for _ in range(2):
        again = api.register(slug, "Ann", addr, headers={"Idempotency-Key": key})
        assert (again.status, again.json) == (201, first.json), again
    # Another attempt from the network is over the ceiling.
    assert api.register(slug, "Bo", email()).status == 429


def test_on_a_full_event_a_registered_and_a_new_address_take_the_same_path(
        api, db, make_event):
    slug = make_event(capacity=1, waitlist=False)
    ann = email()
    assert api.register(slug, "Ann", ann).status == 201
    # With the event's lock held elsewhere, the locked path would wait and
    # end in 503 busy: both answers come from the lock-free one.
    conn, cur = hold_lock(slug)
    try:
        known = api.register(slug, "Ann", ann)
        unknown = api.register(slug, "Bob", email())
    finally:
        conn.rollback()
        conn.close()
    assert known.status == unknown.status == 409, (known, unknown)
    assert known.json == unknown.json
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE lower(email) = lower(%s)"
                    " AND kind = 'already_registered'", ann) == 0


def test_a_held_registration_can_be_cancelled_and_its_event_too(api, db, make_event):
    slug = confirm_event(make_event, capacity=1)
    a, b, c = email(), email(), email()
    for x in (a, b, c):
        api.register(slug, "H", x)
    # The link in the confirmation request also cancels (the seat goes on).
    tok = last_token(db, a, "confirm_address")
    assert api.delete(f"{API}/registrations/{tok}").status == 200
    assert reg(db, a) == ("cancelled", False, False, False)
    assert reg(db, b)[:2] == ("confirmed", True)
    r = api.post(f"{API}/registrations/{last_token(db, b, 'confirm_address')}/confirm")
    assert r.status == 200, r
    # Cancelling the event ends every hold with it.
    r = db.one("SELECT outcome FROM eventbox.set_status(%s, 'cancelled')", slug)
    assert r[0] in ("ok", "cancelled"), r
    assert db.value("SELECT count(*) FROM eventbox.registrations r JOIN eventbox.events e"
                    " ON e.id = r.event_id WHERE e.slug = %s AND r.held_until IS NOT NULL",
                    slug) == 0
    assert db.value("SELECT eventbox.expire_holds(%s)", slug) == 0
    # Only b, who confirmed, is told of the event's cancellation: c never
    # confirmed, and was promised no more email.
    b_id, c_id = (db.value("SELECT id FROM eventbox.registrations WHERE email = %s", x)
                  for x in (b, c))
    assert db.all("SELECT registration_id FROM eventbox.outbox WHERE kind = 'event_cancelled'"
                  " AND registration_id IN (%s, %s)", b_id, c_id) == [(b_id,)]


def test_a_held_seat_shows_no_online_url(api, db, make_event):
    slug = confirm_event(make_event)
    a = email()
    api.register(slug, "A", a)
    tok = last_token(db, a, "confirm_address")
    assert api.get(f"{API}/registrations/{tok}").json["online_url"] is None
    api.post(f"{API}/registrations/{tok}/confirm")
    assert api.get(f"{API}/registrations/{tok}").json["online_url"]


def test_the_held_counters_follow_every_change_to_a_hold(api, db, make_event):
    """The public's figures read the held counters on the event's row; every
    way a hold starts or ends moves them, staff SQL included, and nothing
    else may."""
    slug = confirm_event(make_event, capacity=2)
    a, b, c, d = email(), email(), email(), email()
    for x in (a, b, c, d):
        assert api.register(slug, "H", x).status == 202
    assert held_counts(db, slug) == (2, 2)
    assert public(api, slug) == (2, True)
    # confirmed by its link: the seat stays, the hold goes
    api.post(f"{API}/registrations/{last_token(db, a, 'confirm_address')}/confirm")
    assert held_counts(db, slug) == (1, 2)
    assert public(api, slug)[0] == 1
    # an ended hold: released, the next in line promoted (still held)
    end_hold(db, b)
    assert db.value("SELECT eventbox.expire_holds(%s)", slug) == 1
    assert held_counts(db, slug) == (1, 1)
    # staff at psql: confirm one by hand, delete another
    db.all("UPDATE eventbox.registrations SET held_until = NULL"
           " WHERE lower(email) = lower(%s)", c)
    assert held_counts(db, slug) == (0, 1)
    db.all("DELETE FROM eventbox.registrations WHERE lower(email) = lower(%s)", d)
    assert held_counts(db, slug) == (0, 0)
    assert public(api, slug)[0] == 0
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        db.all("UPDATE eventbox.events SET held_confirmed_count = 1 WHERE slug = %s", slug)


def test_the_holder_sees_a_held_place_as_pending_until_it_is_confirmed(api, db, make_event):
    """The link of the "please confirm" email also opens the registration: a
    held seat or waiting place is pending there (the word of the 202), with
    the hold's end, never confirmed or waitlisted before the address says so."""
    slug = confirm_event(make_event, capacity=1)
    seat, waiting, lapsed = email(), email(), email()
    for a in (seat, waiting, lapsed):
        assert api.register(slug, "H", a).status == 202
    assert reg(db, seat)[:2] == ("confirmed", True)
    assert reg(db, waiting)[:2] == ("waitlisted", True)
    for a in (seat, waiting):
        tok = last_token(db, a, "confirm_address")
        r = api.get(f"{API}/registrations/{tok}")
        assert r.status == 200, r
        assert r.json["status"] == "pending" and r.json["position"] is None, r.json
        assert r.json["held_until"] == db.value(
            "SELECT eventbox.iso_utc(held_until) FROM eventbox.registrations"
            " WHERE email = %s", a)
        assert r.json["online_url"] is None
        until = db.value("SELECT lower(to_char(held_until AT TIME ZONE 'America/New_York',"
                         " 'FMHH12:MIam')) FROM eventbox.registrations WHERE email = %s", a)
        page = api.get(f"/registration/{tok}")
        assert page.status == 200, page
        assert "Held until " in page.text and until in page.text, page.text
        assert "not confirmed yet" in page.text
        assert "Please confirm your registration" in page.text
        assert "your seat is confirmed" not in page.text
        assert "On the waiting list" not in page.text
        page = api.get(f"/registration/{tok}?lang=es")
        assert "Reservada hasta el " in page.text and "Confirme su inscripci" in page.text
        cancel = api.get(f"/cancel/{tok}")
        assert cancel.status == 200 and "Held, not confirmed yet" in cancel.text, cancel
    # Confirmed, each says what it holds, and the hold's end is gone.
    tok = last_token(db, seat, "confirm_address")
    api.post(f"{API}/registrations/{tok}/confirm")
    r = api.get(f"{API}/registrations/{tok}")
    assert (r.json["status"], r.json["held_until"]) == ("confirmed", None), r.json
    assert "Registered: your seat is confirmed" in api.get(f"/registration/{tok}").text
    tok = last_token(db, waiting, "confirm_address")
    api.post(f"{API}/registrations/{tok}/confirm")
    r = api.get(f"{API}/registrations/{tok}")
    assert (r.json["status"], r.json["position"], r.json["held_until"]) == (
        "waitlisted", 1, None), r.json
    assert "On the waiting list, number 1" in api.get(f"/registration/{tok}").text
    # A hold past its end is over, even before the expiry releases it.
    tok = last_token(db, lapsed, "confirm_address")
    end_hold(db, lapsed)
    r = api.get(f"{API}/registrations/{tok}")
    assert (r.json["status"], r.json["held_until"]) == ("cancelled", None), r.json


def test_staff_cancelling_a_held_place_email_nobody(api, db, make_event, ops_role):
    """cancel_registration() on a place held for an unconfirmed address sent
    "Registration cancelled" to that address, which an event's cancellation
    does not (its patron was promised no more email unless they confirm);
    the patron's own cancellation with the link still gets its receipt."""
    slug = confirm_event(make_event, capacity=2)
    held, own = email(), email()
    for x in (held, own):
        assert api.register(slug, "H", x).status == 202
    rid = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", held)
    with connect_as(ops_role) as conn, conn.cursor() as cur:
        cur.execute("SELECT outcome FROM eventbox.cancel_registration(%s)", (rid,))
        assert cur.fetchone() == ("cancelled",)
    assert api.delete(f"{API}/registrations/{last_token(db, own, 'confirm_address')}"
                      ).status == 200
    assert db.all("SELECT lower(email) FROM eventbox.outbox WHERE kind = 'cancelled'"
                  " AND lower(email) IN (lower(%s), lower(%s))", held, own) == [(own.lower(),)]
