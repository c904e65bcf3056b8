"""Messages that went stale before their turn (sql/rules/80_mail.sql
mail_stale): a confirmation or promotion for a registration or an event
cancelled since is closed unsent at claim time, and a message whose link a
newer one revoked goes out with a fresh link.  Claimed inside a transaction
that is rolled back, so no other test's messages are touched."""
import psycopg2

from conftest import env
from staffkit import email, staff_register  # noqa: F401

API = "/api/v1"


def claim_all(send=()):
    """mail_claim as the mailer would, rolled back: (returned, skipped).
    The rows in send are locked again as the mailer does before it sends a
    batch's later message (mail_relock, which renews a revoked link):
    their token is the one that goes out."""
    conn = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                            dbname=env("PGDATABASE"), user=env("PGUSER"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, kind, email, token FROM eventbox.mail_claim(100000)")
            returned = {r[0]: r for r in cur.fetchall()}
            for i in send:
                cur.execute("SELECT locked, token FROM eventbox.mail_relock(%s)", (i,))
                locked, token = cur.fetchone()
                assert locked
                returned[i] = returned[i][:3] + (token,)
            cur.execute("SELECT id FROM eventbox.outbox WHERE last_error = 'skipped'"
                        " AND sent_at IS NULL AND status = 'sent'")
            skipped = {r[0] for r in cur.fetchall()}
            cur.execute("SELECT token_hash FROM eventbox.tokens")
            hashes = {bytes(r[0]) for r in cur.fetchall()}
        return returned, skipped, hashes
    finally:
        conn.rollback()
        conn.close()


def outbox_ids(db, addr, kind):
    return [r[0] for r in db.all("SELECT id FROM eventbox.outbox WHERE lower(email) ="
                                 " lower(%s) AND kind = %s ORDER BY id", addr, kind)]


def test_a_confirmation_for_a_cancelled_registration_is_never_sent(api, db, make_event):
    slug = make_event()
    ann = email()
    assert api.register(slug, "Ann", ann).status == 201
    token = db.tokens(ann, "confirmed")[0]
    assert api.delete(f"{API}/registrations/{token}").status == 200
    [confirmed] = outbox_ids(db, ann, "confirmed")
    [receipt] = outbox_ids(db, ann, "cancelled")
    returned, skipped, _ = claim_all()
    assert confirmed in skipped and confirmed not in returned
    assert receipt in returned and receipt not in skipped


def test_a_promotion_for_a_cancelled_event_is_never_sent(api, db, make_event):
    slug = make_event(capacity=1)
    ann, bob = email(), email()
    api.register(slug, "Ann", ann)
    api.register(slug, "Bob", bob)
    api.delete(f"{API}/registrations/{db.tokens(ann, 'confirmed')[0]}")
    [promoted] = outbox_ids(db, bob, "promoted")
    db.all("SELECT eventbox.set_status(%s, 'cancelled')", slug)
    returned, skipped, _ = claim_all()
    assert promoted in skipped and promoted not in returned
    assert outbox_ids(db, bob, "event_cancelled")[0] in returned


def test_a_message_whose_link_was_revoked_goes_out_with_the_working_one(
        api, db, make_event):
    import hashlib
    slug = make_event()
    ann = email()
    api.register(slug, "Ann", ann)
    api.register(slug, "Ann", ann)          # the note revokes the first link
    [confirmed] = outbox_ids(db, ann, "confirmed")
    [note] = outbox_ids(db, ann, "already_registered")
    old = db.tokens(ann, "confirmed")[0]
    returned, skipped, hashes = claim_all(send=(confirmed, note))
    assert confirmed in returned and confirmed not in skipped
    fresh = returned[confirmed][3]
    assert fresh != old
    # One of the two works: the note's renewal (locked again last) revoked
    # the fresh one in turn, or the note's was live.
    def h(t):
        return hashlib.sha256(t.lower().encode()).digest()
    live = [t for t in (fresh, returned[note][3]) if h(t) in hashes]
    assert len(live) == 1


def test_a_change_notice_or_waiting_list_email_is_not_sent_once_the_event_began(
        api, db, make_event):
    """A change notice still queued (a relay down, a backlog) when staff
    record that the event began earlier went out with the start already
    past ("The place has changed" for an event under way or over), as a
    waiting-list email went out promising a seat that can no longer come.
    Both are closed unsent once the start has passed, as a reminder is;
    the seat's confirmation still goes."""
    slug = make_event(capacity=1, starts_in="10 days", location="Room 1",
                      format="in_person")
    ann, bob = email(), email()
    assert api.register(slug, "Ann", ann).json["status"] == "confirmed"
    assert api.register(slug, "Bob", bob).json["status"] == "waitlisted"
    db.all("UPDATE eventbox.events SET location = 'Room 2' WHERE slug = %s", slug)
    [notice] = outbox_ids(db, ann, "event_changed")
    [waiting] = outbox_ids(db, bob, "waitlisted")
    [confirmed] = outbox_ids(db, ann, "confirmed")
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '10 minutes',"
           " ends_at = now() + interval '50 minutes' WHERE slug = %s", slug)
    returned, skipped, _ = claim_all()
    assert notice in skipped and notice not in returned
    assert waiting in skipped and waiting not in returned
    assert confirmed in returned and confirmed not in skipped
