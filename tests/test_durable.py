"""A registration is answered only once its commit is durable, and the
event's row lock is not held while it waits for that (db_query_durable in
src/db.c: the registration commits without waiting for the WAL flush, then
an empty transaction commits synchronously and the answer follows it).

The flush is made to wait at the test's will, the way a missing
synchronous replica makes it wait in production: synchronous_standby_names
names a standby that never connects, so every synchronous commit waits
until the test clears the setting.
"""
import threading
import time
import uuid

import psycopg2

from conftest import env


def superuser():
    conn = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                            dbname=env("PGDATABASE"), user="postgres")
    conn.autocommit = True
    return conn


def system_setting(conn, name, value, shown=None):
    """Sets `name` cluster-wide (empty value: back to its default) and waits
    until a new session shows it as `shown` (pg_reload_conf() only
    signals)."""
    with conn.cursor() as cur:
        if value:
            cur.execute(f"ALTER SYSTEM SET {name} = %s", (value,))
        else:
            cur.execute(f"ALTER SYSTEM RESET {name}")
        cur.execute("SELECT pg_reload_conf()")
    deadline = time.time() + 10
    while time.time() < deadline:
        probe = superuser()
        try:
            with probe.cursor() as cur:
                cur.execute(f"SHOW {name}")
                if cur.fetchone()[0] == (value if shown is None else shown):
                    break
        finally:
            probe.close()
        time.sleep(0.05)
    else:
        raise AssertionError(f"{name} did not change")


def standby_names(conn, value):
    system_setting(conn, "synchronous_standby_names", value)
    if value:
        commits_wait(conn)


def commits_wait(conn):
    """Returns once a synchronous commit really waits for the standby:
    the checkpointer takes the new setting some moments after the reload.
    The probes that wait are let go when the setting is cleared."""
    deadline = time.time() + 10
    while time.time() < deadline:
        probe = superuser()
        t = threading.Thread(target=emit, args=(probe,), daemon=True)
        t.start()
        t.join(0.5)
        if t.is_alive():
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_activity"
                            " WHERE wait_event = 'SyncRep'")
                if cur.fetchone()[0] > 0:
                    return
    raise AssertionError("synchronous commits never waited")


def emit(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT pg_logical_emit_message(true, 'eventbox-test', '')")
    conn.close()


def rows_of(db, slug):
    return db.value("SELECT count(*) FROM eventbox.registrations r"
                    " JOIN eventbox.events e ON e.id = r.event_id"
                    " WHERE e.slug = %s", slug)


def test_registrations_wait_for_durability_without_holding_the_event_lock(
        api, db, make_event):
    slug = make_event(capacity=10)
    run = uuid.uuid4().hex[:8]
    answers = {}

    def register(i):
        answers[i] = api.register(slug, f"Durable Patron {i}",
                                  f"durable-{run}-{i}@example.org", timeout=60)

    su = superuser()
    threads = [threading.Thread(target=register, args=(i,)) for i in (1, 2)]
    try:
        standby_names(su, "eventbox_test_never_connects")
        for t in threads:
            t.start()
        # Both registrations commit (visible to others) although the first
        # one's commit is not durable yet: the second did not queue behind
        # the first's row lock.  With the lock held until the flush, only
        # one row would ever appear here.
        deadline = time.time() + 15
        while rows_of(db, slug) < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert rows_of(db, slug) == 2
        # ...and neither patron has been told anything: no answer before
        # the commit is durable.
        time.sleep(0.5)
        assert answers == {}
        assert all(t.is_alive() for t in threads)
    finally:
        standby_names(su, "")
        su.close()
    for t in threads:
        t.join(30)
    assert sorted(answers) == [1, 2]
    for i in (1, 2):
        assert answers[i].status == 201, answers[i]
        assert answers[i].json["status"] == "confirmed"
    assert db.summary(slug)["confirmed"] == 2


def test_a_refused_registration_rolls_back_whole_and_the_worker_goes_on(
        api, db, make_event):
    # The pipeline's failure path: the registration statement itself fails
    # (the event's row is locked past the workers' lock_timeout by a staff
    # session), the rest of the pipeline is skipped, nothing is written and
    # the patron is told to retry.  One such attempt lands on every worker
    # (tests/run.sh starts 4; a worker takes one request at a time), and
    # afterwards every worker registers again.
    slug = make_event(capacity=20)
    run = uuid.uuid4().hex[:8]
    answers = {}

    def register(i):
        answers[i] = api.register(slug, f"Patron {i}", f"refused-{run}-{i}@example.org")

    staff = superuser()
    staff.autocommit = False
    try:
        with staff.cursor() as cur:
            cur.execute("SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE",
                        (slug,))
            threads = [threading.Thread(target=register, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
    finally:
        staff.rollback()
        staff.close()
    assert [answers[i].status for i in range(4)] == [503] * 4, answers
    assert all(answers[i].header("Retry-After") for i in range(4))
    assert rows_of(db, slug) == 0
    answers.clear()
    threads = [threading.Thread(target=register, args=(i,)) for i in range(4, 12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [answers[i].status for i in range(4, 12)] == [201] * 8, answers
    assert rows_of(db, slug) == 8
