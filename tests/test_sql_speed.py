"""SQL changed for speed keeps its meaning.

register_entry()'s fast path (sql/rules/50_register.sql) answers a plainly
full event without the event's row lock, and every other attempt still
takes it.  iso_local() (sql/rules/20_time.sql) is inlinable and gives the
same text as the first, subquery formula for every zone.  And the time zone
rule (a table lookup, sql/001_core.sql; a trigger since 015) still refuses
unknown zones.  No SQL-language function the planner cannot inline is left
on the registration path or in the event read (GET /api/v1/events/{slug}):
PostgreSQL parses and plans such a function again in every statement that
calls it (holds_due() alone was an eighth of a registration's CPU,
held_count() half of an event read's).  A registration on an event with
room runs no PL/pgSQL condition as a query of its own (one with EXISTS),
and reads the event's row as one value, not column by column."""
import collections
import json
import re
import threading
import time
import uuid

import psycopg2
import pytest

from conftest import SQL_FUNCTIONS_EXECUTED, connect, env


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


def test_a_new_idempotency_key_on_a_full_event_answers_without_the_lock(api, make_event):
    """Every registration form carries a key (its attempt id): a crowd
    pressing "Register" on a full event must not queue on its lock for it.
    A key that has an answer kept is replayed, under the lock, as it was."""
    slug = make_event(capacity=1, waitlist=False)
    key, addr = str(uuid.uuid4()), email()
    first = api.register(slug, "First", addr, headers={"Idempotency-Key": key})
    assert first.status == 201, first
    lock = EventLock(slug)
    try:
        t0 = time.monotonic()
        r = api.register(slug, "Late", email(),
                         headers={"Idempotency-Key": str(uuid.uuid4())})
        elapsed = time.monotonic() - t0
    finally:
        lock.release()
    assert r.status == 409 and r.json["error"]["code"] == "event_full", r
    assert elapsed < 1.0, f"waited {elapsed:.2f}s for the lock"
    lock = EventLock(slug)
    threading.Timer(0.5, lock.release).start()
    t0 = time.monotonic()
    replay = api.register(slug, "First", addr,
                          headers={"Idempotency-Key": key})
    assert replay.status == 201 and time.monotonic() - t0 >= 0.4, replay


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


def waiting_for_a_lock(db, pids, timeout=30):
    """Waits until every backend in pids waits for a lock."""
    deadline = time.monotonic() + timeout
    while db.value("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY (%s)"
                   " AND wait_event_type = 'Lock'", list(pids)) < len(pids):
        assert time.monotonic() < deadline, "the sessions never waited for the lock"
        time.sleep(0.02)


def test_one_address_twice_paused_at_the_lock_makes_one_registration(db, make_event):
    """register_entry() takes the seat with INSERT ... ON CONFLICT on the
    live-address index under the event lock.  Two sessions with one address
    (in two spellings) both pass everything done before the lock, wait at
    it, then go one after the other: one registration, one confirmation, one
    "already registered" note, and both told "confirmed"."""
    slug = make_event(capacity=5, waitlist=True)
    addr = email()
    lock = EventLock(slug)
    conns = [connect(), connect()]
    pids = [c.get_backend_pid() for c in conns]
    answers = [None, None]

    def go(i, spelling):
        with conns[i].cursor() as cur:
            cur.execute("SELECT outcome FROM eventbox.register(%s, 'Ann Lee', %s,"
                        " NULL, 'api')", (slug, spelling))
            answers[i] = cur.fetchone()[0]
    threads = [threading.Thread(target=go, args=(0, addr)),
               threading.Thread(target=go, args=(1, addr.upper()))]
    try:
        for t in threads:
            t.start()
        waiting_for_a_lock(db, pids)
    finally:
        lock.release()
    for t in threads:
        t.join(30)
    for c in conns:
        c.close()
    assert answers == ["confirmed", "confirmed"]
    assert db.summary(slug)["confirmed"] == 1
    kinds = sorted(r[0] for r in db.all(
        "SELECT o.kind FROM eventbox.outbox o JOIN eventbox.events e"
        " ON e.id = o.event_id WHERE e.slug = %s", slug))
    assert kinds == ["already_registered", "confirmed"]
    # One working link per registration: the note's newer token finds it,
    # the first one was revoked (the mailer renews a revoked link at claim).
    first, newest = db.tokens(addr)
    assert db.value("SELECT status FROM eventbox.registration_by_token(%s)",
                    newest) == "confirmed"
    assert db.all("SELECT status FROM eventbox.registration_by_token(%s)",
                  first) == []


def test_the_counter_update_leaves_the_time_zone_alone(db, make_event):
    """The zone is checked when it is written, not on every counter move:
    the rule is a trigger on INSERT and UPDATE OF timezone, no CHECK."""
    assert db.value("SELECT count(*) FROM pg_constraint WHERE conrelid ="
                    " 'eventbox.events'::regclass AND conname = 'events_timezone_check'") == 0
    slug = make_event()
    db.all("UPDATE eventbox.events SET timezone = timezone WHERE slug = %s", slug)
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        db.all("UPDATE eventbox.events SET title = 'Renamed', timezone = 'Mars/Base'"
               " WHERE slug = %s", slug)
    assert e.value.diag.constraint_name == "events_timezone_check"


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
        " ('2026-11-01 06:30Z'), ('2038-02-01 00:00Z'), ('2026-05-04 03:02:01.999999Z'),"
        " ('2026-09-30 23:59:59.000001Z')) t(ts)"
        " WHERE eventbox.iso_local(t.ts, z.name) IS DISTINCT FROM (" + sql + ")")
    assert differ == []
    assert db.value("SELECT eventbox.iso_local(NULL, 'UTC')") is None


def test_iso_local_is_inlined_into_the_query(db):
    plan = "\n".join(r[0] for r in db.all(
        "EXPLAIN VERBOSE SELECT eventbox.iso_local(starts_at, timezone)"
        " FROM eventbox.events"))
    assert "iso_local" not in plan, plan


def test_a_registration_runs_no_sql_function_it_cannot_inline(db, make_event):
    """Counts, for one registration in each of its shapes (a seat, a waiting
    place with an idempotency key, a held seat, a full event, and as the
    service registers, with an answer to the event's question), the calls of
    LANGUAGE sql functions that went through the function executor: an
    inlined one is never counted, a PL/pgSQL one keeps its plans."""
    seat = make_event(capacity=5)
    held = make_event(capacity=5, confirmation_required=True)
    wait = make_event(capacity=0)
    full = make_event(capacity=0, waitlist=False)
    asks = make_event(capacity=5)
    question = db.value("INSERT INTO eventbox.questions (event_id, position, kind, label)"
                        " SELECT id, 1, 'short_text', 'Library card' FROM eventbox.events"
                        " WHERE slug = %s RETURNING id", asks)
    conn = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                            dbname=env("PGDATABASE"), user="postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("SET track_functions = 'all'")
            calls = []
            for slug, key in ((seat, None), (wait, "k-" + uuid.uuid4().hex),
                              (held, None), (full, None)):
                cur.execute("SELECT outcome FROM eventbox.register(%s, 'Ada Patron', %s,"
                            " NULL, 'web', NULL, %s)", (slug, email(), key))
                calls.append(cur.fetchone()[0])
            cur.execute("SELECT outcome FROM eventbox.register_answered(%s, 'Ada Patron',"
                        " %s, NULL, 'web', NULL, NULL, %s::jsonb, '192.0.2.1', 'en')",
                        (asks, email(), '{"%d": "1234"}' % question))
            calls.append(cur.fetchone()[0])
            cur.execute(SQL_FUNCTIONS_EXECUTED)
            executed = cur.fetchall()
            cur.execute("""
                SELECT count(*) FROM pg_proc p
                 WHERE p.pronamespace = 'eventbox'::regnamespace
                   AND pg_stat_get_xact_function_calls(p.oid) > 0""")
            counted = cur.fetchone()[0]
        conn.rollback()
    finally:
        conn.close()
    assert calls == ["confirmed", "waitlisted", "pending", "full", "confirmed"], calls
    assert counted > 0, "no function call was counted: the check checks nothing"
    assert executed == [], executed


def nested_plans(statements):
    """The plan of every statement the functions ran for each of
    statements (SQL, arguments), in one transaction rolled back, as
    auto_explain gives them (VERBOSE, JSON), as (query text, plan) pairs:
    the statements of a function and of its triggers, the keys' checks,
    and a PL/pgSQL condition or assignment that is a query of its own (one
    with a subquery), where a plain one is an expression and shows none."""
    conn = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                            dbname=env("PGDATABASE"), user="postgres")
    conn.notices = collections.deque()
    try:
        with conn.cursor() as cur:
            cur.execute("LOAD 'auto_explain'")
            for setting, value in (("log_min_duration", "0"), ("log_nested_statements", "on"),
                                   ("log_verbose", "on"), ("log_format", "json"),
                                   ("log_level", "notice")):
                cur.execute(f"SET auto_explain.{setting} = {value}")
            outcomes = []
            for sql, args in statements:
                cur.execute(sql, args)
                outcomes.append(cur.fetchone()[0])
        conn.rollback()
    finally:
        conn.close()
    plans = [json.loads(n.split("plan:", 1)[1]) for n in conn.notices if "plan:" in n]
    return outcomes, [(p["Query Text"], p["Plan"]) for p in plans]


def plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def registrations_on_an_event_with_room(make_event):
    """A registration by register() and one as the service sends it (a
    network, a language), each on an event with room."""
    return [("SELECT outcome FROM eventbox.register(%s, 'Ada Patron', %s, NULL, 'web')",
             (make_event(capacity=5), email())),
            ("SELECT outcome FROM eventbox.register_answered(%s, 'Ada Patron', %s, NULL,"
             " 'web', NULL, NULL, NULL, '192.0.2.1', 'en')", (make_event(capacity=5), email()))]


def test_a_registration_on_an_event_with_room_runs_no_condition_as_a_query(make_event):
    """The lock-free answer for a full event and the per-network ceiling
    ask whether an idempotency key or the address is known with EXISTS:
    in the same IF as the plain tests, the whole condition was a query,
    started for every registration (with the fast path's long condition
    prepared in full: about 88,000 instructions of register()'s 1.87
    million, docs/PERFORMANCE.md).  They are IFs of their own now,
    reached by a full event (or an event with a ceiling) only."""
    outcomes, plans = nested_plans(registrations_on_an_event_with_room(make_event))
    assert outcomes == ["confirmed", "confirmed"], outcomes
    texts = [text for text, _ in plans]
    assert any(t.startswith("INSERT INTO registrations") for t in texts), texts
    # Once any webhook was ever made (another test's, in this database),
    # the registration trigger asks whether a live one wants the change
    # (82_webhooks.sql): a condition of the webhooks', not of register().
    assert [t for t in texts if "EXISTS" in t and "FROM webhooks" not in t] == [], texts


def test_a_registration_reads_the_events_row_as_one_value(db, make_event):
    """lock_event() and the reads before the lock take the event's row as
    one value: SELECT * of its columns made every start of the statement
    build a descriptor of each, at each node of the plan (about 90,000
    instructions a registration)."""
    columns = db.value("SELECT count(*) FROM pg_attribute WHERE attrelid ="
                       " 'eventbox.events'::regclass AND attnum > 0 AND NOT attisdropped")
    outcomes, plans = nested_plans(registrations_on_an_event_with_room(make_event))
    assert outcomes == ["confirmed", "confirmed"], outcomes
    reads = [(text, len(node.get("Output", []))) for text, plan in plans
             for node in plan_nodes(plan) if node.get("Relation Name") == "events"]
    assert len(reads) >= 6, reads       # the reads, locks, keys' checks, counters
    assert [r for r in reads if r[1] > columns // 4] == [], reads


def test_a_new_registration_moves_its_counter_in_one_short_statement(db, make_event):
    """The counter trigger (tg_registration_counts, rules/10_seats.sql)
    takes a new registration without a hold on a path of its own: an
    UPDATE of the one counter that moves.  Its general case (deltas for
    the five counters, then one UPDATE of all five) prepared fifteen
    PL/pgSQL expressions and five SET expressions in every registration's
    transaction: about 49,000 instructions of register()'s 1.70 million
    (docs/PERFORMANCE.md).  Rows inserted by plain SQL, in each status and
    held, still count as before."""
    outcomes, plans = nested_plans(registrations_on_an_event_with_room(make_event))
    assert outcomes == ["confirmed", "confirmed"], outcomes
    updates = [text for text, _ in plans if text.lstrip().startswith("UPDATE events")]
    assert len(updates) == 2, [text for text, _ in plans]
    assert [u for u in updates if len(re.findall(r"\w+_count\s*=", u)) != 1] == [], updates
    slug = make_event(capacity=5)
    for status, held in (("confirmed", False), ("waitlisted", False), ("cancelled", False),
                         ("confirmed", True), ("waitlisted", True)):
        db.all("INSERT INTO eventbox.registrations (event_id, name, email, status, held_until)"
               " SELECT id, 'Ada Patron', %s, %s, CASE WHEN %s THEN now() + interval '1 hour'"
               " END FROM eventbox.events WHERE slug = %s", email(), status, held, slug)
    assert db.all("SELECT confirmed_count, waitlisted_count, cancelled_count,"
                  " held_confirmed_count, held_waitlisted_count FROM eventbox.events"
                  " WHERE slug = %s", slug) == [(2, 2, 1, 1, 1)]


def test_the_event_read_calls_no_sql_function_planned_per_call(db, make_event):
    slug = make_event()
    plan = "\n".join(r[0] for r in db.all(
        "EXPLAIN VERBOSE SELECT p.*, eventbox.questions_json(p.id, NULL)"
        " FROM eventbox.public_events p WHERE p.slug = %s", slug))
    called = set(re.findall(r"(\w+)\(", plan))    # eventbox. or not
    assert "questions_json" in called, plan
    planned = {r[0] for r in db.all(
        "SELECT p.proname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
        " WHERE p.pronamespace = 'eventbox'::regnamespace AND l.lanname = 'sql'"
        " AND p.proname = ANY (%s)", sorted(called))}
    assert planned == set(), plan


# human_when() before it was made inlinable (sql/rules/20_time.sql), its
# body verbatim with human_zone()'s, as the reference; but for the word
# between the two times, " to " since the mails say it as the pages do.
HUMAN_WHEN_FIRST = """
    SELECT to_char(s, 'FMDay, FMMonth FMDD, YYYY, ')
        || lower(to_char(s, 'FMHH12:MIam')) || ' to '
        || CASE WHEN s::date = e::date THEN ''
                ELSE to_char(e, 'FMDay, FMMonth FMDD, YYYY, ') END
        || lower(to_char(e, 'FMHH12:MIam')) || ' ' || CASE tz
        WHEN 'America/New_York' THEN 'Eastern Time'
        WHEN 'America/Detroit' THEN 'Eastern Time'
        WHEN 'America/Chicago' THEN 'Central Time'
        WHEN 'America/Denver' THEN 'Mountain Time'
        WHEN 'America/Phoenix' THEN 'Mountain Time (Arizona)'
        WHEN 'America/Los_Angeles' THEN 'Pacific Time'
        WHEN 'America/Anchorage' THEN 'Alaska Time'
        WHEN 'Pacific/Honolulu' THEN 'Hawaii Time'
        ELSE replace(tz, '_', ' ') || ' time'
    END
      FROM (SELECT starts AT TIME ZONE tz AS s, ends AT TIME ZONE tz AS e) t
"""


def test_human_when_agrees_with_the_original_for_every_zone(db):
    """The mails' wording of an event's times, inlinable now (no FROM, not
    STRICT), says what it said for every zone, across midnight and a
    change of clocks, and NULL still gives NULL."""
    sql = (HUMAN_WHEN_FIRST.replace("starts", "t.s0").replace("ends", "t.s1")
           .replace("tz", "z.name").replace("%", "%%"))
    differ = db.all(
        "SELECT z.name, t.s0, t.s1, eventbox.human_when(t.s0, t.s1, z.name), (" + sql + ")"
        " FROM pg_timezone_names z, (VALUES"
        " (timestamptz '2026-12-16 19:00Z', timestamptz '2026-12-16 20:00Z'),"
        " ('2026-03-08 06:30Z', '2026-03-08 07:30Z'), ('2026-07-01 23:30Z', '2026-07-02 01:00Z'),"
        " ('2026-10-31 12:00Z', '2026-11-02 12:00Z'), ('2027-01-01 00:00Z', '2027-01-01 00:00Z'))"
        " t(s0, s1)"
        " WHERE eventbox.human_when(t.s0, t.s1, z.name) IS DISTINCT FROM (" + sql + ")")
    assert differ == []
    assert db.value("SELECT eventbox.human_when(NULL, now(), 'UTC')") is None
    assert db.value("SELECT eventbox.human_when(now(), now(), NULL)") is None
    assert db.value("SELECT eventbox.human_zone(NULL)") is None


@pytest.mark.parametrize("session_zone", ["UTC", "America/New_York"])
def test_vtimezone_a_week_at_a_time_agrees_with_a_day_at_a_time_for_every_zone(session_zone):
    """The .ics files' and the mails' VTIMEZONE, found by looking at the
    offset a week apart, lists the same changes of clocks at the same
    minutes as looking a day apart, for every zone PostgreSQL knows, around
    a winter event, an event at a change of clocks and a feed's two events
    five summers apart (the gap between their 800 days taken in one step),
    whatever the session's own zone (it decides where the walk's midnights
    are).  It fails if a zone ever changes its clocks twice within a
    week."""
    # The zones in two halves, one a connection, at once: the walks are
    # CPU in the server, one backend each.
    halves = 2
    compared, differ, errors = [], [], []

    def compare(half):
        conn = connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SET timezone = %s", (session_zone,))
                # The reference: the same function walking a day at a time.
                cur.execute("SELECT pg_get_functiondef("
                            "'eventbox.vtimezone(text, timestamptz[])'::regprocedure)")
                weekly = cur.fetchone()[0]
                assert weekly.count("interval '7 days'") == 1, weekly
                cur.execute(weekly.replace("interval '7 days'", "interval '1 day'")
                            .replace("FUNCTION eventbox.vtimezone(",
                                     "FUNCTION pg_temp.vtimezone_daily("))
                cur.execute(
                    "SELECT count(*), coalesce(array_agg(z.name || ' ' || a.first_at)"
                    "  FILTER (WHERE eventbox.vtimezone(z.name, ARRAY[a.first_at, a.last_at])"
                    "         IS DISTINCT FROM pg_temp.vtimezone_daily(z.name,"
                    "                                          ARRAY[a.first_at, a.last_at])),"
                    "  '{}')"
                    " FROM (SELECT name, row_number() OVER (ORDER BY name) AS n"
                    "        FROM pg_timezone_names) z, (VALUES"
                    " (timestamptz '2026-12-16 19:00Z', timestamptz '2026-12-16 20:00Z'),"
                    " ('2027-03-14 07:00Z', '2027-03-14 08:00Z'),"
                    " ('2026-06-30 23:59:59Z', '2031-06-30 23:59:59Z')) a(first_at, last_at)"
                    " WHERE z.n %% %s = %s", (halves, half))
                n, bad = cur.fetchone()
                compared.append(n)
                differ.extend(bad)
        except Exception as e:      # noqa: BLE001 (raised below, in the test)
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=compare, args=(h,)) for h in range(halves)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    assert differ == []
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SET timezone = %s", (session_zone,))
            cur.execute("SELECT count(*) FROM pg_timezone_names")
            zones = cur.fetchone()[0]
            assert zones > 400
            assert sum(compared) == 3 * zones, (compared, zones)    # each zone, each window
            cur.execute("SELECT eventbox.vtimezone('America/New_York',"
                        " ARRAY[timestamptz '2026-12-16 19:00Z', '2026-12-16 20:00Z'])")
            text = cur.fetchone()[0]
            assert text.count("BEGIN:DAYLIGHT") == 2 and text.count("BEGIN:STANDARD") == 2, text
            assert "DTSTART:20260308T020000" in text and "DTSTART:20261101T020000" in text, text
    finally:
        conn.close()


def test_the_mails_time_functions_are_inlined_into_the_query(db):
    plan = "\n".join(r[0] for r in db.all(
        "EXPLAIN VERBOSE SELECT eventbox.human_when(starts_at, ends_at, timezone),"
        " eventbox.ical_offset(ends_at - starts_at) FROM eventbox.events"))
    assert "human_when" not in plan and "human_zone" not in plan, plan
    assert "ical_offset" not in plan, plan
