"""SQL changed for speed keeps its meaning.

register_entry()'s fast path (sql/rules/50_register.sql) answers a plainly
full event without the event's row lock, and every other attempt still
takes it.  iso_local() (sql/rules/20_time.sql) is inlinable and gives the
same text as the first, subquery formula for every zone.  And the time zone
rule (a table lookup, sql/001_core.sql) still refuses unknown zones."""
import threading
import time
import uuid

import psycopg2
import pytest

from conftest import connect


def test_an_unknown_time_zone_is_refused_on_insert(make_event):
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        make_event(timezone="Mars/Olympus_Mons")
    assert e.value.diag.constraint_name == "events_timezone_check"


def test_an_unknown_time_zone_is_refused_on_update(db, make_event):
    slug = make_event()
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.all("UPDATE eventbox.events SET timezone = 'Nowhere/Else'"
               " WHERE slug = %s", slug)
    db.all("UPDATE eventbox.events SET timezone = 'Europe/Berlin'"
           " WHERE slug = %s", slug)
    assert db.value("SELECT timezone FROM eventbox.events WHERE slug = %s",
                    slug) == "Europe/Berlin"


def email():
    return f"fast-{uuid.uuid4().hex[:12]}@example.org"


class EventLock:
    """Holds an event's row lock in another session, as a busy register()
    would."""

    def __init__(self, slug):
        self.conn = connect()
        self.conn.autocommit = False
        with self.conn.cursor() as cur:
            cur.execute("SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE",
                        (slug,))

    def release(self):
        self.conn.rollback()
        self.conn.close()


def test_a_full_event_answers_full_without_waiting_for_its_lock(api, make_event):
    slug = make_event(capacity=1, waitlist=False)
    assert api.register(slug, "First", email()).status == 201
    lock = EventLock(slug)
    try:
        t0 = time.monotonic()
        r = api.register(slug, "Late", email())
        elapsed = time.monotonic() - t0
    finally:
        lock.release()
    assert r.status == 409, r
    assert r.json["error"]["code"] == "event_full"
    assert elapsed < 1.0, f"waited {elapsed:.2f}s for the lock"


def test_a_full_event_with_room_on_the_waiting_list_still_takes_the_lock(
        api, make_event):
    slug = make_event(capacity=1, waitlist=True)
    assert api.register(slug, "First", email()).status == 201
    lock = EventLock(slug)
    threading.Timer(0.5, lock.release).start()
    t0 = time.monotonic()
    r = api.register(slug, "Second", email())
    assert r.status == 201 and r.json["status"] == "waitlisted", r
    assert time.monotonic() - t0 >= 0.4


def test_a_repeat_address_on_a_full_event_takes_the_same_path_as_a_new_one(
        api, db, make_event):
    # Equal work for a registered and a new address (issue 12): the
    # lock-free answer, and so no note (tests/test_holds.py has the proof
    # with the event's lock held).
    slug = make_event(capacity=1, waitlist=False)
    addr = email()
    assert api.register(slug, "Ann", addr).status == 201
    r = api.register(slug, "Ann", addr)
    assert r.status == 409, r
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email = %s"
                    " AND kind = 'already_registered'", addr) == 0


# The first iso_local() (from sql/001_core.sql before 008), verbatim, as
# the reference.
ISO_LOCAL_001 = """
    SELECT to_char(ts AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN off < interval '0' THEN '-' ELSE '+' END
        || to_char(abs(extract(epoch FROM off))::integer / 3600, 'FM00') || ':'
        || to_char(abs(extract(epoch FROM off))::integer % 3600 / 60, 'FM00')
      FROM (SELECT (ts AT TIME ZONE tz) - (ts AT TIME ZONE 'UTC') AS off) o
"""


def test_iso_local_agrees_with_the_original_for_every_zone(db):
    sql = (ISO_LOCAL_001.replace("ts", "t.ts").replace("tz", "z.name")
           .replace("%", "%%"))
    differ = db.all(
        "SELECT z.name, t.ts, eventbox.iso_local(t.ts, z.name), (" + sql + ")"
        " FROM pg_timezone_names z, (VALUES (timestamptz '2026-01-15 12:00Z'),"
        " ('2026-07-15 12:00Z'), ('1890-01-01 00:00Z'), ('2026-03-29 01:30Z'),"
        " ('2026-11-01 06:30Z'), ('2038-02-01 00:00Z')) t(ts)"
        " WHERE eventbox.iso_local(t.ts, z.name) IS DISTINCT FROM (" + sql + ")")
    assert differ == []
    assert db.value("SELECT eventbox.iso_local(NULL, 'UTC')") is None


def test_iso_local_is_inlined_into_the_query(db):
    plan = "\n".join(r[0] for r in db.all(
        "EXPLAIN VERBOSE SELECT eventbox.iso_local(starts_at, timezone)"
        " FROM eventbox.events"))
    assert "iso_local" not in plan, plan
