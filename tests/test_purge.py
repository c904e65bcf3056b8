"""Privacy retention: `eventbox purge` erases names and emails (and tokens)
EVENTBOX_RETENTION_DAYS after an event ends, everywhere in the database,
and keeps anonymous counts that add up.
"""
import time
import uuid

import psycopg2
import pytest

from conftest import env
from test_interleavings import Background
from staffkit import (ADMIN, admin, audit, email, event_id, eventbox,  # noqa: F401
                      staff_key, staff_register)


def purge(days=30, dsn=None, check=True):
    return eventbox("purge", check=check, extra_env={
        "EVENTBOX_RETENTION_DAYS": str(days),
        "EVENTBOX_PURGE_DSN": dsn or env("EVENTBOX_OWNER_DSN")})


def text_columns(db):
    """Every column of every eventbox table that can hold text."""
    return db.all(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = 'eventbox' AND t.table_type = 'BASE TABLE'"
        " AND (c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea')"
        " OR c.udt_name IN ('_text', '_varchar'))")


def occurrences(db, needle):
    """Where needle appears anywhere in the eventbox tables."""
    found = []
    for table, column in text_columns(db):
        n = db.value(f'SELECT count(*) FROM eventbox."{table}"'
                     f' WHERE position(lower(%s) in lower("{column}"::text)) > 0',
                     needle)
        if n:
            found.append((table, column, n))
    return found


def populate(api, admin, db, make_event, tag, idem=True):
    """An event with people in every state: confirmed, attended, waiting,
    cancelled, entered by staff, and audited actions about them."""
    slug = make_event(capacity=3)
    people = {}
    for i in range(6):
        name, addr = f"Purgeable {tag} {i}", email(f"purge{tag}{i}")
        r = api.register(slug, name, addr, extra={"organization": f"Lib {tag}"},
                         headers={"Idempotency-Key": f"idem-{tag}-{i}"} if idem else {})
        assert r.status == 201, r
        people[name] = addr
    staff_name, staff_addr = f"Phoned {tag}", email(f"phone{tag}")
    admin.post(f"/events/{slug}/registrations",
               json_body={"name": staff_name, "email": staff_addr})
    people[staff_name] = staff_addr
    ids = [r[0] for r in db.all("SELECT id FROM eventbox.registrations"
                                " WHERE event_id = %s ORDER BY id", event_id(db, slug))]
    admin.post(f"/registrations/{ids[0]}/check-in")
    admin.post(f"/registrations/{ids[1]}/check-in")
    admin.delete(f"/registrations/{ids[2]}")          # promotes ids[3]
    api.delete(f"/api/v1/registrations/{db.tokens(people[f'Purgeable {tag} 4'])[0]}")
    return slug, people


def end_event(db, slug, days_ago):
    db.all("UPDATE eventbox.events SET starts_at = now() - %s::interval - interval '2 hours',"
           " ends_at = now() - %s::interval WHERE slug = %s",
           f"{days_ago} days", f"{days_ago} days", slug)


def test_purge_erases_every_name_and_email_and_keeps_counts_that_add_up(
        api, admin, db, make_event):
    tag = uuid.uuid4().hex[:6]
    old, people = populate(api, admin, db, make_event, tag)
    recent, recent_people = populate(api, admin, db, make_event, uuid.uuid4().hex[:6])
    before = db.summary(old)
    attended = db.value("SELECT count(*) FROM eventbox.registrations WHERE event_id = %s"
                        " AND attended_at IS NOT NULL", event_id(db, old))
    tokens = [t for addr in people.values() for t in db.tokens(addr)]
    assert tokens and attended == 2
    # Everything findable before: the search below can fail.
    for name, addr in people.items():
        assert occurrences(db, addr) and occurrences(db, name)
    end_event(db, old, 31)
    end_event(db, recent, 29)

    out = purge(30)
    assert "purged personal data of" in out.stderr
    assert all(addr not in out.stderr for addr in people.values())

    for name, addr in people.items():
        assert occurrences(db, addr) == [], addr
        assert occurrences(db, name) == [], name
    for t in tokens:
        assert occurrences(db, t) == [], t
    assert occurrences(db, f"Lib {tag}") == []
    assert db.value("SELECT count(*) FROM eventbox.idempotency_keys WHERE event_id = %s",
                    event_id(db, old)) == 0
    # The event that ended 29 days ago keeps everything.
    for name, addr in recent_people.items():
        assert occurrences(db, addr), addr

    stats = db.one("SELECT registered, confirmed, waitlisted, cancelled, attended"
                   " FROM eventbox.event_stats WHERE event_id = %s", event_id(db, old))
    registered = before["confirmed"] + before["waitlisted"] + before["cancelled"]
    assert stats == (registered, before["confirmed"], before["waitlisted"],
                     before["cancelled"], attended)
    assert stats == (7, 3, 2, 2, 2)
    report = db.one("SELECT registered, confirmed, waitlisted, cancelled, attended,"
                    " purged_at IS NOT NULL FROM eventbox.event_report WHERE slug = %s", old)
    assert report == stats + (True,)
    # The audit log still says what staff did, without anyone's data.
    actions = [a["action"] for a in audit(db, event_id(db, old))]
    assert "registration_checked_in" in actions and actions[-1] == "event_purged"
    assert all(a["registration_id"] is None for a in audit(db, event_id(db, old)))


def test_purge_erases_a_corrected_registrations_old_name_and_address_too(
        api, admin, db, make_event):
    """A correction keeps what it replaced in its audit entry ("was") and
    in the registration.updated delivery's body ("previous"), still pending
    while the receiver is away: the purge erases both, with the new values."""
    slug = make_event()
    tag = uuid.uuid4().hex[:6]
    hook = admin.post("/webhooks", json_body={
        "url": f"https://crm-{tag}.example.org/hook", "events": ["registration.updated"]})
    assert hook.status == 201, hook
    try:
        typo_name, typo = f"Typo Name {tag}", email(f"typo{tag}", "gmial.com")
        right_name, right = f"Right Name {tag}", email(f"right{tag}")
        assert api.register(slug, typo_name, typo,
                            extra={"organization": f"Old Lib {tag}"}).status == 201
        reg = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", typo)
        r = admin.patch(f"/registrations/{reg}", json_body={
            "name": right_name, "email": right, "organization": None})
        assert r.json["outcome"] == "corrected", r
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE registration_id = %s"
                        " AND kind = 'webhook' AND payload IS NOT NULL", reg) == 1
        needles = (typo_name, typo, right_name, right, f"Old Lib {tag}")
        for needle in needles:
            assert occurrences(db, needle), needle
        end_event(db, slug, 31)
        purge(30)
        for needle in needles:
            assert occurrences(db, needle) == [], needle
        (entry,) = audit(db, event_id(db, slug), action="registration_corrected")
        assert entry["details"] == {"was": {}, "mailed": "confirmed"}
    finally:
        admin.delete(f"/webhooks/{hook.json['id']}")


def test_purge_works_in_steps_and_the_counts_add_up_between_them(
        api, admin, db, make_event):
    tag = uuid.uuid4().hex[:6]
    slug, people = populate(api, admin, db, make_event, tag)
    end_event(db, slug, 45)
    ev = event_id(db, slug)
    want = db.one("SELECT registered, confirmed, waitlisted, cancelled, attended"
                  " FROM eventbox.event_report WHERE id = %s", ev)
    assert want == (7, 3, 2, 2, 2)
    left = []
    while True:
        rows, finished, step_event = db.one(
            "SELECT rows, finished, event_id FROM eventbox.purge_step(30, 2)")
        if step_event is None:
            break
        if step_event != ev:
            continue    # another test's old event: not ours to count
        left.append(db.value("SELECT count(*) FROM eventbox.registrations"
                             " WHERE event_id = %s", ev))
        assert db.one("SELECT registered, confirmed, waitlisted, cancelled, attended"
                      " FROM eventbox.event_report WHERE id = %s", ev) == want
    assert left == [5, 3, 1, 0, 0]
    assert all(occurrences(db, addr) == [] for addr in people.values())


def test_purging_twice_changes_nothing_more(api, admin, db, make_event):
    tag = uuid.uuid4().hex[:6]
    slug, people = populate(api, admin, db, make_event, tag, idem=False)
    end_event(db, slug, 40)
    purge(30)
    first = db.one("SELECT * FROM eventbox.event_stats WHERE event_id = %s",
                   event_id(db, slug))
    assert first[1:6] == (7, 3, 2, 2, 2) and first[6] is not None
    assert all(occurrences(db, addr) == [] for addr in people.values())
    purge(30)
    assert db.one("SELECT * FROM eventbox.event_stats WHERE event_id = %s",
                  event_id(db, slug)) == first
    assert [a["action"] for a in audit(db, event_id(db, slug))].count("event_purged") == 1


def test_retention_days_come_from_the_environment(api, admin, db, make_event):
    tag = uuid.uuid4().hex[:6]
    slug, people = populate(api, admin, db, make_event, tag)
    end_event(db, slug, 5)
    purge(30)
    assert occurrences(db, next(iter(people.values())))
    purge(4)
    assert occurrences(db, next(iter(people.values()))) == []


def test_the_service_role_may_not_purge(api, admin, db, make_event):
    tag = uuid.uuid4().hex[:6]
    slug, people = populate(api, admin, db, make_event, tag)
    end_event(db, slug, 90)
    out = purge(30, dsn=env("EVENTBOX_DSN"), check=False)
    assert out.returncode != 0
    assert "purge failed" in out.stderr
    assert occurrences(db, next(iter(people.values())))
    purge(30)   # leave nothing behind for other tests' searches


@pytest.mark.parametrize("value", ["-1", "abc", "99999"])
def test_a_bad_retention_setting_stops_the_purge(value):
    out = eventbox("purge", check=False, extra_env={
        "EVENTBOX_RETENTION_DAYS": value,
        "EVENTBOX_PURGE_DSN": env("EVENTBOX_OWNER_DSN")})
    assert out.returncode != 0 and "EVENTBOX_RETENTION_DAYS" in out.stderr


def test_no_network_hash_outlives_ten_minutes_nor_its_events_purge(api, admin, db,
                                                                    make_event):
    """A network's hash was deleted only when the same event began a new
    minute: an event that took no more registrations kept its hashes for
    good, through its purge, though SECURITY.md says ten minutes."""
    def hashes(slug):
        return db.value("SELECT count(*) FROM eventbox.network_counts n"
                        " JOIN eventbox.events e ON e.id = n.event_id WHERE e.slug = %s", slug)

    def counted(slug, minutes_ago):
        db.all("INSERT INTO eventbox.network_counts (event_id, network, minute)"
               " SELECT id, sha256(%s::bytea), date_trunc('minute', now()) - %s::interval"
               " FROM eventbox.events WHERE slug = %s",
               uuid.uuid4().bytes, f"{minutes_ago} minutes", slug)
    quiet = make_event(registrations_per_minute=5)
    counted(quiet, 10)
    counted(quiet, 0)
    db.value("SELECT eventbox.expire_holds()")          # the mailer's minute
    assert hashes(quiet) == 1                           # this minute's stays
    tag = uuid.uuid4().hex[:6]
    slug, _ = populate(api, admin, db, make_event, tag, idem=False)
    counted(slug, 0)
    end_event(db, slug, 40)
    purge(30)
    assert hashes(slug) == 0


def superuser_conn():
    return psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                            dbname=env("PGDATABASE"), user="postgres")


def blocked_by(db, pid, blocker):
    """Whether session pid waits for a lock that session blocker holds."""
    return db.value("SELECT %s = ANY (pg_blocking_pids(%s))", blocker, pid)


def test_purge_at_psql_retries_a_step_that_deadlocks_with_the_mailer(
        api, db, make_event):
    """The deadlock of review a5 item 6, forced: a "mailer" holds one of the
    event's outbox rows, purge() waits for it while holding the event's
    registrations, then the mailer waits for one of those.  PostgreSQL ends
    purge's side (deadlock_timeout 2 s against the mailer's 60 s); purge()
    rolls that step back, which lets the mailer through, and runs it again."""
    slug = make_event(capacity=5)
    addrs = [email(f"deadlock{i}") for i in range(3)]
    for addr in addrs:
        assert api.register(slug, "Dead Lock", addr).status == 201
    end_event(db, slug, 40)
    eid = event_id(db, slug)
    reg, row = db.one("SELECT registration_id, id FROM eventbox.outbox"
                      " WHERE event_id = %s AND registration_id IS NOT NULL"
                      " ORDER BY id DESC LIMIT 1", eid)
    mailer = superuser_conn()
    purger = superuser_conn()
    purger.autocommit = True
    try:
        m = mailer.cursor()
        m.execute("SET deadlock_timeout = '60s'")
        m.execute("SELECT pg_backend_pid()")
        mpid = m.fetchone()[0]
        m.execute("SELECT 1 FROM eventbox.outbox WHERE id = %s FOR UPDATE", (row,))
        p = purger.cursor()
        p.execute("SET deadlock_timeout = '2s'")
        p.execute("SELECT pg_backend_pid()")
        pid = p.fetchone()[0]

        def run_purge():
            p.execute("SELECT eventbox.purge(30)")
            return p.fetchone()[0]

        purge_run = Background(run_purge)
        deadline = time.monotonic() + 20
        while not blocked_by(db, pid, mpid):
            assert time.monotonic() < deadline, "purge never waited for the outbox row"
            time.sleep(0.01)
        # Purge holds the event's registrations and waits for the row: now
        # the mailer waits for purge, which closes the cycle.
        m.execute("SELECT 1 FROM eventbox.registrations WHERE id = %s FOR UPDATE",
                  (reg,))
        # The mailer got the row: purge's step was rolled back, and purge
        # goes on, waiting for the outbox row again.
        assert purge_run.thread.is_alive()
        mailer.commit()
        assert purge_run.result() >= 1
    finally:
        mailer.close()
        purger.close()
    assert db.value("SELECT count(*) FROM eventbox.registrations"
                    " WHERE event_id = %s", eid) == 0
    assert db.value("SELECT purged_at IS NOT NULL FROM eventbox.event_stats"
                    " WHERE event_id = %s", eid)


# A foreign key PostgreSQL checks or acts on when the row it references is
# deleted looks up the referencing rows by their column: without an index
# starting with it, one look through the whole table per deleted row
# (purge() deletes registrations, 500 a step).  The keys left without one,
# and why nothing deletes what they reference row by row.
UNINDEXED_KEYS_AND_WHY = {
    # organizations are never deleted by the service or its functions
    ("registrations", "organization_id"),
    # (outbox.event_id was here: "purge() deletes an event's outbox rows in
    # one statement, once per event".  Once per event was a read of the
    # whole outbox per purge step: sql/033_outbox_indexes.sql.)
}


def test_every_foreign_key_a_deletion_acts_on_is_indexed(db):
    unindexed = set(db.all(
        "SELECT c.conrelid::regclass::text, a.attname"
        "  FROM pg_constraint c"
        "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'f'"
        "   AND c.connamespace = 'eventbox'::regnamespace"
        "   AND NOT EXISTS (SELECT 1 FROM pg_index i"
        "                    WHERE i.indrelid = c.conrelid"
        "                      AND i.indkey[0] = c.conkey[1])"))
    unindexed = {(t.removeprefix("eventbox."), col) for t, col in unindexed}
    assert unindexed == UNINDEXED_KEYS_AND_WHY


def test_the_audit_logs_link_to_a_registration_is_found_by_its_index(db):
    """What PostgreSQL runs for each registration purge() deletes (the test
    stack's audit log is small enough to read whole: no scan of it is
    allowed for the plan)."""
    try:
        plan = "\n".join(r[0] for r in db.all(
            "SET enable_seqscan = off;"
            " EXPLAIN UPDATE eventbox.audit_log SET registration_id = NULL"
            " WHERE registration_id = 1"))
    finally:
        db.all("RESET enable_seqscan")
    assert "audit_log_registration" in plan, plan
