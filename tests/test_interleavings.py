"""The seat rule's races, each forced at the exact step, through the service.

Every test holds one side inside its transaction, under the event's row
lock (a staff session at psql, or a registration left uncommitted), starts
the other side as a patron would (HTTP through nginx to a worker, or a second
session), waits until PostgreSQL shows that side blocked by the first
(pg_blocking_pids), then lets the first commit.  So the order is the one the
test names, not whatever the scheduler picked: promotion stays FIFO, no seat
is free while someone waits, and a newcomer queues behind the people already
waiting, whichever side gets the lock first.

The held side commits well within the service's lock timeout
(EVENTBOX_LOCK_TIMEOUT_MS, 3 s by default): it lets go as soon as the other
side is seen waiting."""
import json
import threading
import time
import uuid

import psycopg2
import psycopg2.errors
import pytest

from conftest import connect
from staffkit import admin, staff_key  # noqa: F401 (fixtures)
from test_durable import superuser, system_setting


def email(tag):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.org"


class Held:
    """A session with an open transaction: what it did holds the event lock
    until commit()."""

    def __init__(self):
        self.conn = connect()
        self.conn.autocommit = False
        self.pid = self.conn.get_backend_pid()

    def run(self, sql, *args):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchone()

    def blocks(self, db, n=1, timeout=30, unless=None):
        """Waits until n other sessions wait for this one's locks, directly
        or in the queue behind another waiter (the second patron at a row
        lock waits for the first), or until the Background `unless` has
        finished without waiting (its result then tells why)."""
        deadline = time.monotonic() + timeout
        while (unless is None or unless.thread.is_alive()) and db.value("""
                WITH RECURSIVE w(pid) AS (
                    SELECT pid FROM pg_stat_activity WHERE %s = ANY (pg_blocking_pids(pid))
                    UNION
                    SELECT a.pid FROM pg_stat_activity a, w
                     WHERE w.pid = ANY (pg_blocking_pids(a.pid)))
                SELECT count(*) FROM w""", self.pid) < n:
            assert time.monotonic() < deadline, "nobody ever waited for the held lock"
            time.sleep(0.01)

    def commit(self):
        self.conn.commit()
        self.conn.close()


class Background:
    """Runs fn in a thread; result() joins it."""

    def __init__(self, fn):
        self.value = self.error = None
        self.thread = threading.Thread(target=self._go, args=(fn,))
        self.thread.start()

    def _go(self, fn):
        try:
            self.value = fn()
        except Exception as e:      # re-raised in the test's thread
            self.error = e

    def result(self):
        self.thread.join(30)
        assert not self.thread.is_alive(), "the second side never finished"
        if self.error:
            raise self.error
        return self.value


def live(db, addr):
    """How many live (not cancelled) registrations an address has."""
    return db.value("SELECT count(*) FROM eventbox.registrations"
                    " WHERE lower(email) = lower(%s) AND status <> 'cancelled'", addr)


def registration(db, addr):
    return db.one("SELECT id, status FROM eventbox.registrations"
                  " WHERE lower(email) = lower(%s) AND status <> 'cancelled'", addr)


def position(db, addr):
    return db.value("SELECT position FROM eventbox.waiting_list w"
                    " JOIN eventbox.registrations r ON r.id = w.registration_id"
                    " WHERE lower(r.email) = lower(%s)", addr)


def newcomer_behind(api, db, staff, slug, tag):
    """A newcomer registers while staff hold the lock; staff commit once the
    newcomer waits.  Returns the address and the 201's waiting place."""
    newcomer = email(tag)
    answer = Background(lambda: api.register(slug, "New Patron", newcomer))
    staff.blocks(db)
    staff.commit()
    r = answer.result()
    assert (r.status, r.json["status"]) == (201, "waitlisted"), r
    return newcomer, r.json["position"]


@pytest.fixture
def waiting_event(api, make_event):
    """One seat, taken; one patron waiting."""
    slug = make_event(capacity=1, waitlist=True)
    first, second = email("first"), email("second")
    assert api.register(slug, "First Patron", first).json["status"] == "confirmed"
    assert api.register(slug, "Second Patron", second).json["status"] == "waitlisted"
    return slug, first, second


def test_a_newcomer_paused_behind_a_cancellation_queues_behind_the_waiter(
        api, db, waiting_event):
    """Staff cancel the seat at psql and have not committed; a newcomer
    registers meanwhile.  The seat goes to the person waiting, the newcomer
    is first on the waiting list, and no seat is ever free."""
    slug, first, second = waiting_event
    staff = Held()
    assert staff.run("SELECT outcome, promoted FROM eventbox.cancel_registration(%s)",
                     registration(db, first)[0]) == ("cancelled", 1)
    _, place = newcomer_behind(api, db, staff, slug, "third")
    assert place == 1
    assert registration(db, second)[1] == "confirmed"
    s = db.summary(slug)
    assert (s["confirmed"], s["waitlisted"], s["seats_available"]) == (1, 1, 0)


def test_a_cancellation_paused_behind_a_newcomer_promotes_the_older_waiter(
        api, db, waiting_event):
    """The other order: a newcomer's registration holds the lock (waiting
    list, second place), the seat holder cancels through the API meanwhile.
    The cancellation promotes the person who waited longer, not the newcomer."""
    slug, first, second = waiting_event
    token = db.tokens(first, "confirmed")[-1]
    newcomer = email("third")
    pending = Held()
    assert pending.run("SELECT outcome, position FROM eventbox.register(%s, 'Third Patron',"
                       " %s, NULL, 'api')", slug, newcomer) == ("waitlisted", 2)
    cancel = Background(lambda: api.delete(f"/api/v1/registrations/{token}"))
    pending.blocks(db)
    pending.commit()
    assert cancel.result().status == 200
    assert registration(db, second)[1] == "confirmed"
    assert registration(db, newcomer)[1] == "waitlisted"
    assert position(db, newcomer) == 1
    s = db.summary(slug)
    assert (s["confirmed"], s["waitlisted"]) == (1, 1)


def test_a_newcomer_paused_behind_a_capacity_raise_keeps_behind_those_waiting(
        api, db, waiting_event):
    """Staff add one seat with two people waiting, uncommitted; a newcomer
    registers meanwhile: the first waiter takes the new seat, the second
    keeps first place, the newcomer is second."""
    slug, first, second = waiting_event
    third = email("third")
    assert api.register(slug, "Third Patron", third).json["position"] == 2
    staff = Held()
    assert staff.run("SELECT outcome, promoted FROM eventbox.set_capacity(%s, 2)",
                     slug) == ("ok", 1)
    newcomer, place = newcomer_behind(api, db, staff, slug, "fourth")
    assert place == 2
    assert [registration(db, a)[1] for a in (first, second, third)] == \
        ["confirmed", "confirmed", "waitlisted"]
    assert (position(db, third), position(db, newcomer)) == (1, 2)


def test_patrons_paused_at_the_lock_get_distinct_places_in_arrival_order(
        api, db, waiting_event):
    """Three registrations through three workers wait at the lock together;
    each gets its own place, and the places follow the order the rows were
    written in (the order promotion will follow)."""
    slug, _, _ = waiting_event
    lock = Held()
    lock.run("SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE", slug)
    addrs = [email(f"crowd{i}") for i in range(3)]
    answers = [Background(lambda a=a: api.register(slug, "Crowd Patron", a)) for a in addrs]
    lock.blocks(db, 3)
    lock.commit()
    places = {a: r.json["position"] for a, r in zip(addrs, (b.result() for b in answers))}
    assert sorted(places.values()) == [2, 3, 4]
    by_arrival = sorted(addrs, key=lambda a: registration(db, a)[0])
    assert [places[a] for a in by_arrival] == [2, 3, 4]
    assert [position(db, a) for a in by_arrival] == [2, 3, 4]


def start_passes_while_held(staff, slug, then=None):
    """The event starts while the other side waits for the lock that staff
    hold: its start moves to a moment from now (the transaction the other
    side runs began before it), and staff commit once it has passed, after
    running `then` if given."""
    staff.run("UPDATE eventbox.events SET starts_at = clock_timestamp() + interval '0.2 seconds'"
              " WHERE slug = %s RETURNING 1", slug)
    time.sleep(0.5)
    if then:
        staff.run(then, slug)
    staff.commit()


def test_a_cancellation_paused_across_the_start_promotes_nobody(api, db, waiting_event):
    """The seat holder cancels a moment before the start; the cancellation
    waits for the event's lock until the event has begun.  The seat is
    freed, and nobody is promoted into an event that has started (the
    decision reads the clock under the lock, not the transaction's start)."""
    slug, first, second = waiting_event
    token = db.tokens(first, "confirmed")[-1]
    staff = Held()
    staff.run("SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE", slug)
    cancel = Background(lambda: api.delete(f"/api/v1/registrations/{token}"))
    staff.blocks(db)
    start_passes_while_held(staff, slug)
    assert cancel.result().status == 200
    assert live(db, first) == 0
    assert registration(db, second)[1] == "waitlisted"
    assert db.value("SELECT count(*) FROM eventbox.outbox o"
                    " JOIN eventbox.registrations r ON r.id = o.registration_id"
                    " WHERE lower(r.email) = lower(%s) AND o.kind = 'promoted'", second) == 0
    s = db.summary(slug)
    assert (s["confirmed"], s["waitlisted"]) == (0, 1)


def test_a_cancellation_paused_across_the_end_changes_nothing(api, db, waiting_event):
    """The seat holder presses cancel a moment before the event ends; the
    cancellation waits for the event's lock until it has ended.  Over is
    over (event_ended, 409: the attendee stays on the record as they were),
    as for a cancellation that comes after the end: the decision reads the
    clock under the lock, not the transaction's start."""
    slug, first, _ = waiting_event
    token = db.tokens(first, "confirmed")[-1]
    staff = Held()
    staff.run("UPDATE eventbox.events SET starts_at = clock_timestamp() - interval '1 hour',"
              " ends_at = clock_timestamp() + interval '0.2 seconds'"
              " WHERE slug = %s RETURNING 1", slug)
    cancel = Background(lambda: api.delete(f"/api/v1/registrations/{token}"))
    staff.blocks(db)
    time.sleep(0.5)                     # the end passes while the cancellation waits
    staff.commit()
    r = cancel.result()
    assert r.status == 409 and r.json["error"]["code"] == "event_ended", r
    assert registration(db, first)[1] == "confirmed"
    assert db.summary(slug)["cancelled"] == 0


def test_staff_promotion_paused_across_the_start_is_refused(db, waiting_event):
    """Staff at psql hold the event; another staff session promotes the
    waiting patron by hand meanwhile and waits.  The event starts, then the
    first session adds a seat (which promotes nobody: it has started) and
    commits.  The hand promotion answers started."""
    slug, _, second = waiting_event
    staff = Held()
    staff.run("SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE", slug)
    reg = registration(db, second)[0]
    other = connect()
    other.autocommit = True

    def promote():
        with other.cursor() as cur:
            cur.execute("SELECT outcome FROM eventbox.promote(%s)", (reg,))
            return cur.fetchone()[0]
    promotion = Background(promote)
    staff.blocks(db)
    start_passes_while_held(staff, slug, then="UPDATE eventbox.events SET capacity = 2"
                                              " WHERE slug = %s RETURNING 1")
    assert promotion.result() == "started"
    other.close()
    assert registration(db, second)[1] == "waitlisted"


def test_a_newcomer_paused_across_the_start_is_told_registration_closed(
        api, db, waiting_event):
    """A newcomer presses Register a moment before the start and waits for
    the event's lock until it has begun: the answer is registration_closed,
    not a place on a waiting list that can no longer move."""
    slug, _, _ = waiting_event
    staff = Held()
    staff.run("SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE", slug)
    newcomer = email("late")
    answer = Background(lambda: api.register(slug, "Late Patron", newcomer))
    staff.blocks(db)
    start_passes_while_held(staff, slug)
    r = answer.result()
    assert (r.status, r.json["error"]["code"]) == (403, "registration_closed"), r
    assert live(db, newcomer) == 0
    assert db.summary(slug)["waitlisted"] == 1


@pytest.fixture
def slower_deadlock_checks():
    """deadlock_timeout 2.5 s instead of 1 s while the test runs, still under
    the service's lock timeout (3 s): a machine may stall that much longer
    between one side's wait and the other's before the first side's one
    check misses the cycle."""
    su = superuser()
    try:
        system_setting(su, "deadlock_timeout", "2500ms", shown="2500ms")
        time.sleep(0.2)     # the workers' sessions, idle, take the reload
        yield
    finally:
        system_setting(su, "deadlock_timeout", "", shown="1s")
        su.close()


def test_a_registration_deadlocked_by_a_staff_delete_of_its_question_is_run_again(
        api, db, make_event, slower_deadlock_checks):
    """Staff at psql delete a question while a patron's registration answers
    it: the registration holds the event's lock and waits for the question's
    row (its answer's foreign key); the delete holds that row and waits for
    the event's (the trigger that rewrites the event's copy of its
    questions).  PostgreSQL breaks the deadlock by rolling the registration
    back; the worker runs it again, it waits for staff to commit, and the
    patron gets a 201 with the answer to the question that is left, not a
    503.

    Which side PostgreSQL rolls back is whichever checks first, once per
    wait, deadlock_timeout (2.5 s here) after it began waiting: the
    registration, which waited first, unless the machine stalled for that
    long between its wait and the delete's, so that its one check came
    before the cycle.
    Then the delete is the one rolled back (staff see the deadlock, as at
    psql) and the registration goes through with both answers; the scenario
    is tried again on a new event, up to three times."""
    for attempt in (1, 2, 3):
        slug = make_event()
        kept, gone = (db.value(
            "INSERT INTO eventbox.questions (event_id, position, kind, label)"
            " SELECT id, %s, 'yes_no', %s FROM eventbox.events WHERE slug = %s RETURNING id",
            pos, label, slug) for pos, label in ((1, "May we take photos?"), (2, "Lunch?")))
        staff = Held()
        # The row lock the delete takes first, taken before the patron comes.
        staff.run("SELECT id FROM eventbox.questions WHERE id = %s FOR UPDATE", gone)
        addr = email("answers")
        answer = Background(lambda: api.register(
            slug, "Ann Patron", addr, extra={"answers": {str(kept): True, str(gone): False}}))
        staff.blocks(db)
        try:
            deleted = staff.run("DELETE FROM eventbox.questions WHERE id = %s RETURNING id",
                                gone)
        except psycopg2.errors.DeadlockDetected:
            # The registration's check came first, before the cycle: the
            # delete was rolled back instead.  The patron is answered all
            # the same, with both answers.
            staff.conn.rollback()
            staff.commit()
            r = answer.result()
            assert (r.status, r.json["status"]) == (201, "confirmed"), r
            continue
        assert deleted == (gone,)
        staff.blocks(db, unless=answer)     # the registration again, at the event's lock
        staff.commit()
        r = answer.result()
        assert r.status == 201, r
        assert r.json["status"] == "confirmed"
        reg = registration(db, addr)[0]
        assert db.all("SELECT question_id, value FROM eventbox.answers"
                      " WHERE registration_id = %s", reg) == [(kept, True)]
        assert live(db, addr) == 1
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE registration_id = %s",
                        reg) == 1
        return
    pytest.fail("the staff delete was the one rolled back three times: never the registration")


def test_a_registration_paused_behind_a_change_of_its_question_keeps_only_what_still_fits(
        api, db, make_event):
    """set_questions() changes a question in place, keeping its id: staff
    change the choices while a patron's registration, its answers checked
    against the question as it was, waits for the event's lock.  The patron
    is registered with the answer that still fits; the one that no longer
    does (a choice now gone) is dropped, as an answer to a deleted question
    is, rather than stored against the new choices."""
    slug = make_event()
    questions = [{"kind": "one_choice", "label": "Branch?", "choices": ["North", "South"]},
                 {"kind": "yes_no", "label": "May we take photos?"}]
    assert db.value("SELECT outcome FROM eventbox.set_questions(%s, %s, NULL)",
                    slug, json.dumps(questions)) == "ok"
    branch, photos = (i for (i,) in db.all(
        "SELECT q.id FROM eventbox.questions q JOIN eventbox.events e ON e.id = q.event_id"
        " WHERE e.slug = %s ORDER BY q.position", slug))
    staff = Held()
    questions[0]["choices"] = ["East", "West"]
    questions[1]["help"] = "For the newsletter."
    assert staff.run("SELECT outcome FROM eventbox.set_questions(%s, %s, NULL)",
                     slug, json.dumps(questions)) == ("ok",)
    addr = email("changed")
    answer = Background(lambda: api.register(
        slug, "Ann Patron", addr, extra={"answers": {str(branch): "North", str(photos): True}}))
    staff.blocks(db)
    staff.commit()
    r = answer.result()
    assert (r.status, r.json["status"]) == (201, "confirmed"), r
    assert db.all("SELECT question_id, value FROM eventbox.answers WHERE registration_id = %s",
                  registration(db, addr)[0]) == [(photos, True)]



# --- a registration the owner deletes at psql -----------------------------------

def test_a_newcomer_paused_behind_the_owners_delete_of_a_seat_queues_behind_the_waiter(
        api, db, waiting_event):
    """The owner deletes the seat holder's registration at psql and has not
    committed; a newcomer registers meanwhile.  The seat went to the person
    waiting in the DELETE's own transaction, under the event's lock: the
    newcomer is first on the waiting list, and no seat is ever free (it
    stayed free, and the newcomer queued second behind a waiter who never
    moved up)."""
    slug, first, second = waiting_event
    owner = Held()
    owner.run("DELETE FROM eventbox.registrations WHERE id = %s RETURNING id",
              registration(db, first)[0])
    _, place = newcomer_behind(api, db, owner, slug, "third")
    assert place == 1
    assert live(db, first) == 0
    assert registration(db, second)[1] == "confirmed"
    s = db.summary(slug)
    assert (s["confirmed"], s["waitlisted"], s["seats_available"]) == (1, 1, 0)


def test_the_owners_delete_paused_behind_a_newcomer_promotes_the_older_waiter(
        db, waiting_event):
    """The other order: a newcomer's registration holds the event's lock
    (second on the list); the owner's DELETE of the seat waits for it (its
    counters are the event's row).  The seat goes to the person who waited
    longer, not the newcomer."""
    slug, first, second = waiting_event
    newcomer = email("third")
    pending = Held()
    assert pending.run("SELECT outcome, position FROM eventbox.register(%s, 'Third Patron',"
                       " %s, NULL, 'api')", slug, newcomer) == ("waitlisted", 2)
    owner = connect()
    owner.autocommit = True

    def delete():
        with owner.cursor() as cur:
            cur.execute("DELETE FROM eventbox.registrations WHERE id = %s",
                        (registration(db, first)[0],))
            return cur.rowcount
    deleted = Background(delete)
    pending.blocks(db)
    pending.commit()
    assert deleted.result() == 1
    owner.close()
    assert registration(db, second)[1] == "confirmed"
    assert (registration(db, newcomer)[1], position(db, newcomer)) == ("waitlisted", 1)


def test_a_cancellation_deadlocked_by_the_owners_delete_of_the_next_in_line_is_run_again(
        api, db, waiting_event, slower_deadlock_checks):
    """The owner deletes the first person waiting while the seat holder
    cancels: the cancellation holds the event's lock and waits for that
    row, to promote it; the DELETE holds the row (a DELETE locks its rows
    first, whatever its triggers do after) and waits for the event's (its
    counters).  PostgreSQL rolls one back: the cancellation, which waited
    first, and the worker runs it again: it waits for the owner to commit,
    and the seat goes to the next in line, not to the deleted place (and
    no email to it).  When the machine stalls so that the DELETE is the
    one rolled back (test_a_registration_deadlocked_by_a_staff_delete_of_its_
    question_is_run_again says why), the cancellation promotes the person
    the owner meant to delete, and the scenario is tried again."""
    for attempt in (1, 2, 3):
        slug, first, second = waiting_event if attempt == 1 else fresh_waiting_event(api, db)
        third = email("third")
        assert api.register(slug, "Third Patron", third).json["position"] == 2
        token = db.tokens(first, "confirmed")[-1]
        gone = registration(db, second)[0]
        owner = Held()
        # The row lock the DELETE takes first, taken before the patron cancels.
        owner.run("SELECT id FROM eventbox.registrations WHERE id = %s FOR UPDATE", gone)
        cancel = Background(lambda: api.delete(f"/api/v1/registrations/{token}"))
        owner.blocks(db)
        try:
            deleted = owner.run("DELETE FROM eventbox.registrations WHERE id = %s"
                                " RETURNING id", gone)
        except psycopg2.errors.DeadlockDetected:
            owner.conn.rollback()
            owner.commit()
            assert cancel.result().status == 200
            continue
        assert deleted == (gone,)
        owner.blocks(db, unless=cancel)     # the cancellation again, at the event's lock
        owner.commit()
        assert cancel.result().status == 200
        assert (live(db, first), live(db, second)) == (0, 0)
        assert registration(db, third)[1] == "confirmed"
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE kind = 'promoted'"
                        " AND registration_id = %s", registration(db, third)[0]) == 1
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE kind = 'promoted'"
                        " AND lower(email) = lower(%s)", second) == 0
        s = db.summary(slug)
        assert (s["confirmed"], s["waitlisted"], s["seats_available"]) == (1, 0, 0)
        return
    pytest.fail("the owner's DELETE was the one rolled back three times: never the"
                " cancellation")


def fresh_waiting_event(api, db):
    slug = "t-" + uuid.uuid4().hex[:12]
    db.all("INSERT INTO eventbox.events (slug, title, capacity, waitlist_enabled, status,"
           " timezone, starts_at, ends_at) VALUES (%s, 'Again', 1, true, 'published',"
           " 'America/New_York', now() + interval '7 days',"
           " now() + interval '7 days 1 hour')", slug)
    first, second = email("first"), email("second")
    assert api.register(slug, "First Patron", first).json["status"] == "confirmed"
    assert api.register(slug, "Second Patron", second).json["status"] == "waitlisted"
    return slug, first, second


# --- one working link per registration, whatever the mailers do -------------

def live_links(db, reg):
    return db.value("SELECT count(*) FROM eventbox.tokens WHERE registration_id = %s", reg)


def is_live(db, token):
    return db.value("SELECT EXISTS (SELECT 1 FROM eventbox.tokens"
                    " WHERE token_hash = eventbox.token_hash(%s))", token)


def claim_one(session):
    """mail_claim(1) as a mailer calls it, in the session's open
    transaction: (outbox id, token) or None."""
    with session.conn.cursor() as cur:
        cur.execute("SELECT id, token FROM eventbox.mail_claim(1)")
        return cur.fetchone()


def registers_within(slug, tag, lock_timeout):
    """A newcomer registering for the event in a session of its own that
    waits at most lock_timeout for a lock: the outcome (LockNotAvailable
    past it)."""
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', %s, false)", (lock_timeout,))
            cur.execute("SELECT (eventbox.register(%s, 'Bo Patron', %s, NULL, 'api',"
                        " NULL, NULL)).outcome", (slug, email(tag)))
            outcome = cur.fetchone()[0]
        conn.commit()
        return outcome
    finally:
        conn.close()


def two_revoked_messages(api, db, make_event, tag):
    """A confirmation and a note of one registration queued, first in line
    (other tests' messages may be pending too), and a third link issued
    since, which revoked both: (registration, first id, second id)."""
    slug = make_event()
    ann = email(tag)
    api.register(slug, "Ann Patron", ann)
    api.register(slug, "Ann Patron", ann)           # the note: a second link
    reg = registration(db, ann)[0]
    first, second = (i for (i,) in db.all(
        "SELECT id FROM eventbox.outbox WHERE registration_id = %s ORDER BY id", reg))
    db.value("SELECT eventbox.issue_token(%s)", reg)    # revokes both
    db.all("UPDATE eventbox.outbox SET next_attempt_at = now() - interval '100 years'"
           " + (id - %s) * interval '1 second' WHERE id IN (%s, %s)", first, first, second)
    return reg, first, second


def test_two_mailers_renewing_one_registrations_links_at_once_leave_one_working(
        api, db, make_event):
    """A confirmation and a note of one registration are queued, and a
    third link issued since revoked both.  Two mailers claim one each at the
    same moment: the first renews its link and is still sending (its
    transaction open, as during the SMTP dialogue) when the second claims.
    Each renewal revoked every link it saw, and neither saw the other's
    uncommitted one, so both worked.  Now the second leaves its message for
    a later claim, which revokes the first's link: one link works, the one
    in the last email sent."""
    reg, first, second = two_revoked_messages(api, db, make_event, "links")
    mailer_a, mailer_b = Held(), Held()
    got_a = claim_one(mailer_a)
    assert got_a[0] == first and not is_live(db, got_a[1])   # not committed yet
    b_claims = Background(lambda: claim_one(mailer_b))
    mailer_a.blocks(db, unless=b_claims)     # the old renewal waited for a's
    mailer_a.run("SELECT eventbox.mail_sent(%s)", first)
    mailer_a.commit()
    got_b = b_claims.result()
    mailer_b.commit()
    if got_b is None:                         # left for a later claim
        # (a second later, so that nobody claims again every 10 ms meanwhile)
        assert db.value("SELECT next_attempt_at > now() - interval '1 hour'"
                        " FROM eventbox.outbox WHERE id = %s", second)
        db.all("UPDATE eventbox.outbox SET next_attempt_at = now() - interval '100 years'"
               " WHERE id = %s", second)
        mailer_c = Held()
        got_b = claim_one(mailer_c)
        mailer_c.run("SELECT eventbox.mail_sent(%s)", second)
        mailer_c.commit()
    else:
        db.all("SELECT eventbox.mail_sent(%s)", second)
    assert got_b[0] == second
    assert live_links(db, reg) == 1
    assert is_live(db, got_b[1]) and not is_live(db, got_a[1])


def test_a_mailer_renewing_a_link_holds_up_no_cancellation_and_no_registration(
        api, db, make_event):
    """A mailer renews a revoked link at claim and keeps its transaction
    open through the SMTP dialogue (up to 30 s).  The renewal once took the
    registration's row lock for that long: cancelling that registration
    (its row locked under the event's lock) waited for the send, and every
    registration for the event waited behind the cancellation."""
    slug = make_event()
    ann = email("renewing")
    api.register(slug, "Ann Patron", ann)
    reg = registration(db, ann)[0]
    (first,) = db.one("SELECT id FROM eventbox.outbox WHERE registration_id = %s", reg)
    db.value("SELECT eventbox.issue_token(%s)", reg)    # revokes the email's link
    db.all("UPDATE eventbox.outbox SET next_attempt_at = now() - interval '100 years'"
           " WHERE id = %s", first)
    mailer = Held()
    got = claim_one(mailer)
    assert got[0] == first and not is_live(db, got[1])   # renewed, not committed
    staff = connect()
    try:
        with staff.cursor() as cur:
            cur.execute("SET lock_timeout = '5s'")
            cur.execute("SELECT eventbox.cancel_registration(%s)", (reg,))
            staff.commit()
        assert registers_within(slug, "renewing-next", "5s") == "confirmed"
    finally:
        staff.close()
        mailer.run("SELECT eventbox.mail_sent(%s)", first)
        mailer.commit()
    assert db.value("SELECT status FROM eventbox.registrations WHERE id = %s",
                    reg) == "cancelled"


def test_a_message_gone_stale_while_a_mailer_renews_its_registrations_link_is_dropped(
        api, db, make_event):
    """mail_claim() reads whether a message went stale before it tries the
    registration's revocation lock.  Nothing that makes a message stale (a
    cancellation, a confirmed address, a cancelled event) takes that lock:
    a cancellation commits while a mailer holds it, and a second mailer's
    claim then drops the registration's other message unsent, neither put
    off behind the lock nor given a new link.  Read after the lock, the
    check would see the same: the lock orders revocations only."""
    reg, first, second = two_revoked_messages(api, db, make_event, "gone-stale")
    mailer_a = Held()
    got_a = claim_one(mailer_a)         # renews the first's link: holds the lock
    assert got_a[0] == first and not is_live(db, got_a[1])
    try:
        staff = connect()
        try:
            with staff.cursor() as cur:
                cur.execute("SET lock_timeout = '5s'")
                cur.execute("SELECT eventbox.cancel_registration(%s)", (reg,))
        finally:
            staff.close()
        mailer_b = Held()
        assert claim_one(mailer_b) is None          # the note: closed, not sent
        mailer_b.commit()
    finally:
        mailer_a.run("SELECT eventbox.mail_sent(%s)", first)
        mailer_a.commit()
    assert db.one("SELECT status, last_error, next_attempt_at < now() - interval '1 hour'"
                  " FROM eventbox.outbox WHERE id = %s", second) == ("sent", "skipped", True)
    assert live_links(db, reg) == 1 and is_live(db, got_a[1])     # the renewal's


@pytest.mark.parametrize("held", ["promotion", "retry"])
def test_a_retry_racing_a_promotion_leaves_every_queued_link_working(
        api, db, make_event, held):
    """Staff retry a failed message (mail_retry: a new link, revoking the
    older, under the registration's revocation lock, not the event's) while
    a cancellation promotes that registration (its promotion adds a link
    and revokes none, under the event's lock, not the revocation lock).
    Neither waits for the other, whichever holds its transaction open, and
    either way both links work, the retried message's and the promotion's:
    what the retry then the promotion would leave one after the other (a
    promotion keeps the older links), and no queued message has a dead
    link.  The event's lock would add nothing: the retry's revocation
    orders only against other revocations."""
    slug = make_event(capacity=1, waitlist=True)
    ann, bob = email("seat"), email("waiting")
    assert api.register(slug, "Ann Patron", ann).json["status"] == "confirmed"
    assert api.register(slug, "Bob Patron", bob).json["status"] == "waitlisted"
    ann_reg, bob_reg = registration(db, ann)[0], registration(db, bob)[0]
    (failed,) = db.one("SELECT id FROM eventbox.outbox WHERE registration_id = %s", bob_reg)
    db.all("UPDATE eventbox.outbox SET status = 'failed', token = NULL, email = NULL,"
           " name = NULL, next_attempt_at = now() + interval '1 day' WHERE id = %s", failed)
    retry = "SELECT eventbox.mail_retry(%s)"
    promote = "SELECT eventbox.cancel_registration(%s)"
    if held == "promotion":
        first, second, later = Held(), connect(), (retry, failed)
        first.run(promote, ann_reg)
    else:
        first, second, later = Held(), connect(), (promote, ann_reg)
        first.run(retry, failed)
    try:
        with second.cursor() as cur:
            cur.execute("SET lock_timeout = '5s'")
            cur.execute(later[0], (later[1],))   # not held up by the open one
    finally:
        second.close()
        first.commit()
    assert db.value("SELECT status FROM eventbox.registrations WHERE id = %s",
                    bob_reg) == "confirmed"
    queued = db.all("SELECT kind, token FROM eventbox.outbox WHERE registration_id = %s"
                    " AND status = 'pending' ORDER BY id", bob_reg)
    assert sorted(k for k, _ in queued) == ["promoted", "waitlisted"]
    assert all(is_live(db, t) for _, t in queued), queued
    assert live_links(db, bob_reg) == 2


def test_a_batchs_later_message_waits_while_another_mailer_renews_its_link(
        api, db, make_event):
    """A batch's later message whose link was revoked since the claim is
    renewed when the mailer locks its row again (mail_relock), under the
    registration's revocation lock.  While another mailer holds that lock
    (renewing the link of the registration's other message, its send in
    flight), the row is left, due again a second later, not sent with a
    link the other is about to revoke; once the other is marked, the relock
    renews it, revoking the other's: one link works, the last sent."""
    reg, first, second = two_revoked_messages(api, db, make_event, "relock")
    mailer_a = Held()
    got_a = claim_one(mailer_a)             # renews the first's link
    assert got_a[0] == first
    mailer_b = Held()
    assert mailer_b.run("SELECT locked, token FROM eventbox.mail_relock(%s)",
                        second) == (False, None)
    mailer_b.commit()
    assert db.value("SELECT next_attempt_at > now() - interval '1 hour'"
                    " FROM eventbox.outbox WHERE id = %s", second)
    mailer_a.run("SELECT eventbox.mail_sent(%s)", first)
    mailer_a.commit()
    db.all("UPDATE eventbox.outbox SET next_attempt_at = now() - interval '100 years'"
           " WHERE id = %s", second)
    mailer_c = Held()
    locked, token = mailer_c.run("SELECT locked, token FROM eventbox.mail_relock(%s)", second)
    assert locked and token != got_a[1]
    mailer_c.run("SELECT eventbox.mail_sent(%s)", second)
    mailer_c.commit()
    assert live_links(db, reg) == 1
    assert is_live(db, token) and not is_live(db, got_a[1])



def test_registering_again_while_a_mailer_sends_the_registrations_email_waits_for_nothing(
        api, db, make_event):
    """A mailer holds the registration's revocation lock while it sends one
    of the registration's emails (a renewed link, or a working one), its
    transaction open through the SMTP dialogue.  The patron registering
    again meanwhile (a second press of the button) queued a note with a new
    link, which revokes under that lock: the request waited for the send, holding the
    event's lock, so every registration for the event waited behind it, and
    past the lock timeout it was a 503.  The note is left out now: the
    email in flight is the patron's answer, its link working."""
    for renewed in (True, False):   # a working link holds the lock too
        slug = make_event()
        ann = email(f"again-in-flight-{int(renewed)}")
        assert api.register(slug, "Ann Patron", ann).status == 201
        reg = registration(db, ann)[0]
        (first,) = db.one("SELECT id FROM eventbox.outbox WHERE registration_id = %s", reg)
        if renewed:
            db.value("SELECT eventbox.issue_token(%s)", reg)    # revokes its link
        db.all("UPDATE eventbox.outbox SET next_attempt_at = now() - interval '100 years'"
               " WHERE id = %s", first)
        mailer = Held()
        try:
            got = claim_one(mailer)                 # holds the lock
            assert got[0] == first
            again = api.register(slug, "Ann Patron", ann)
            bo = api.register(slug, "Bo Patron", email("again-next"))
        finally:
            mailer.run("SELECT eventbox.mail_sent(%s)", first)
            mailer.commit()
        assert again.status == 201, (renewed, again)
        assert bo.status == 201, (renewed, bo)
        assert db.all("SELECT id FROM eventbox.outbox WHERE registration_id = %s",
                      reg) == [(first,)]
        assert is_live(db, got[1]) and live_links(db, reg) == 1



def test_a_live_link_in_flight_is_not_revoked_by_another_mailers_renewal(
        api, db, make_event):
    """A registration's confirmation (its link revoked by the note that
    followed) and the note (the one working link) queued, and two mailers
    take one each.  The one with the confirmation renews its link, which
    revokes the note's; the other, the note's link working when it claimed
    (or the renewal not committed yet), took no lock and sent it all the
    same.  When the note reached the patron last, its link said "no longer
    valid".  The sender of a working link takes the registration's
    revocation lock as a renewal does, until its mark: whichever mailer
    comes second leaves its message for a later claim, which renews its
    link if need be; the last email sent has the working one, whichever
    claims first, and for a batch's later message too (mail_relock)."""
    for note_first, relock in ((False, False), (True, False), (False, True)):
        slug = make_event()
        ann = email(f"in-flight-{int(note_first)}{int(relock)}")
        api.register(slug, "Ann Patron", ann)
        api.register(slug, "Ann Patron", ann)       # the note revokes the first
        reg = registration(db, ann)[0]
        (confirmation, c_token), (note, n_token) = db.all(
            "SELECT id, token FROM eventbox.outbox WHERE registration_id = %s"
            " ORDER BY id", reg)
        assert not is_live(db, c_token) and is_live(db, n_token)
        first, second = (note, confirmation) if note_first else (confirmation, note)
        db.all("UPDATE eventbox.outbox SET next_attempt_at = now() - interval '100 years'"
               " + (CASE WHEN id = %s THEN 0 ELSE 1 END) * interval '1 second'"
               " WHERE id IN (%s, %s)", first, first, second)
        mailer_a, mailer_b = Held(), Held()
        got_a = claim_one(mailer_a)
        assert got_a[0] == first
        if relock:                                  # b's batch's later row
            locked, token = mailer_b.run(
                "SELECT locked, token FROM eventbox.mail_relock(%s)", second)
            got_b = (second, token) if locked else None
        else:
            got_b = claim_one(mailer_b)             # a's send still in flight
        # The note's sender is marked last: its email reaches the patron last.
        for m, g in sorted(((mailer_a, got_a), (mailer_b, got_b)),
                           key=lambda mg: mg[1] is not None and mg[1][0] == note):
            if g is not None:
                m.run("SELECT eventbox.mail_sent(%s)", g[0])
                last = g
            m.commit()
        if got_b is None:                           # left for a later claim
            db.all("UPDATE eventbox.outbox SET next_attempt_at = now()"
                   " - interval '100 years' WHERE id = %s", second)
            mailer_c = Held()
            last = claim_one(mailer_c)
            assert last[0] == second
            mailer_c.run("SELECT eventbox.mail_sent(%s)", second)
            mailer_c.commit()
        assert is_live(db, last[1]), (note_first, relock, got_a, got_b, last)
        assert live_links(db, reg) == 1


def test_a_renewed_link_whose_attempt_fails_gives_back_the_links_it_revoked(
        api, db, make_event):
    """A message whose link was revoked is renewed as it goes out (at claim
    for a batch's first message, at relock for a later one), which revokes
    the registration's other links.  When the relay then refuses it, for
    now or for good, the mark (mail_failed) undoes the renewal in the same
    transaction: the link the patron holds works again and the new one,
    never delivered, does not; a mark given up at a timeout and run again
    from its savepoint (the mailer's mark_again()) undoes it once.  It was
    committed with the mark, and a message that then failed for good left
    the patron a dead link and no other."""
    for relock, tries in ((False, 3), (True, 3), (False, 1), (True, 1)):
        reg, first, _ = two_revoked_messages(
            api, db, make_event, f"undo-{int(relock)}{tries}")
        (held,) = db.one("SELECT token_hash FROM eventbox.tokens"
                         " WHERE registration_id = %s", reg)     # the patron's
        mailer = Held()
        if relock:
            locked, token = mailer.run(
                "SELECT locked, token FROM eventbox.mail_relock(%s)", first)
            assert locked
        else:
            got, token = claim_one(mailer)
            assert got == first
        with mailer.conn.cursor() as cur:         # as the mailer marks it
            cur.execute("SAVEPOINT mark")
            cur.execute("SELECT eventbox.mail_failed(%s, 'smtp 451', %s, 100)",
                        (first, tries))
            cur.execute("ROLLBACK TO SAVEPOINT mark")           # marked again
        status = mailer.run("SELECT eventbox.mail_failed(%s, 'smtp 451', %s, 100)",
                            first, tries)[0]
        mailer.commit()
        assert status == ("failed" if tries == 1 else "pending")
        assert not is_live(db, token), (relock, tries)
        assert db.all("SELECT token_hash FROM eventbox.tokens WHERE registration_id = %s",
                      reg) == [(held,)], (relock, tries)
        if tries > 1:                       # the next attempt renews it again
            db.all("UPDATE eventbox.outbox SET next_attempt_at = now()"
                   " - interval '100 years' WHERE id = %s", first)
            mailer = Held()
            locked, again = mailer.run(
                "SELECT locked, token FROM eventbox.mail_relock(%s)", first)
            assert locked and again not in (None, token)
            mailer.run("SELECT eventbox.mail_sent(%s)", first)
            mailer.commit()
            assert is_live(db, again) and live_links(db, reg) == 1


def test_a_correction_while_a_mailer_sends_the_registrations_email_holds_up_no_registration(
        api, admin, db, make_event):
    """Staff correct an address while a mailer sends that registration's
    email, its revocation lock and its row held through the SMTP dialogue.
    The correction revokes every link, so it waits for that send (the
    message reaches the old address, its link revoked once the correction
    commits); it waited holding the event's lock, so every registration
    for the event waited behind it, and past the lock timeout it was a 503.
    It waits before it takes the event's lock now."""
    slug = make_event()
    ann = email("correct-in-flight")
    assert api.register(slug, "Ann Patron", ann).status == 201
    reg = registration(db, ann)[0]
    (first,) = db.one("SELECT id FROM eventbox.outbox WHERE registration_id = %s", reg)
    db.all("UPDATE eventbox.outbox SET next_attempt_at = now() - interval '100 years'"
           " WHERE id = %s", first)
    right = email("corrected")
    mailer = Held()
    try:
        got = claim_one(mailer)                     # its send in flight
        assert got[0] == first
        fix = Background(lambda: admin.patch(f"/registrations/{reg}",
                                             json_body={"email": right}))
        mailer.blocks(db, unless=fix)
        assert registers_within(slug, "correct-next", "1s") == "confirmed"
    finally:
        mailer.run("SELECT eventbox.mail_sent(%s)", first)
        mailer.commit()
    r = fix.result()
    assert (r.status, r.json["outcome"], r.json["mailed"]) == (200, "corrected", "confirmed"), r
    assert not is_live(db, got[1]) and live_links(db, reg) == 1
    assert db.value("SELECT email FROM eventbox.outbox WHERE registration_id = %s"
                    " AND status = 'pending'", reg) == right


def test_a_cancellation_with_the_old_link_paused_behind_a_correction_cancels_nothing(
        api, db, make_event):
    """Staff correct a mistyped address at psql and have not committed;
    whoever got the mistyped address's email presses its cancel link
    meanwhile.  cancel() found the registration by the link before it took
    the event's lock, and cancelled it after the correction had revoked the
    link: the seat just given to its patron.  The link is read again under
    the lock now, as confirm_registration() reads it."""
    slug = make_event()
    typo = email("typo")
    assert api.register(slug, "Ann Typo", typo).status == 201
    reg = registration(db, typo)[0]
    token = db.tokens(typo, "confirmed")[-1]
    staff = Held()
    assert staff.run("SELECT outcome, mailed FROM eventbox.correct_registration(%s, %s)",
                     reg, json.dumps({"email": email("right")})) == ("corrected", "confirmed")
    cancel = Background(lambda: api.delete(f"/api/v1/registrations/{token}"))
    staff.blocks(db)
    staff.commit()
    r = cancel.result()
    assert r.status == 404, r
    assert db.value("SELECT status FROM eventbox.registrations WHERE id = %s",
                    reg) == "confirmed"
