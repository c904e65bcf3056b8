"""Ops through SQL, with roles: what staff at a psql prompt and the
service's own role may and may not do, and the examples of docs/OPS.md,
run as written as a member of eventbox_ops.
"""
import os
import re
import uuid

import psycopg2
import psycopg2.extras
import pytest

from conftest import ROOT
from staffkit import audit, connect_as, email, event_id, ops_role, staff_register  # noqa: F401


def run_as(user, sql, *args):
    conn = connect_as(user)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def refused(user, sql, *args):
    with pytest.raises(psycopg2.Error) as e:
        run_as(user, sql, *args)
    return e.value


# --- the service's role ---------------------------------------------------------

def test_the_service_cannot_change_or_read_registrations_directly(make_event, db):
    slug = make_event()
    reg = staff_register(db, slug, "Someone", email())
    for sql in ("UPDATE eventbox.registrations SET status = 'cancelled' WHERE id = %s",
                "DELETE FROM eventbox.registrations WHERE id = %s",
                "SELECT name FROM eventbox.registrations WHERE id = %s"):
        e = refused("eventbox_app", sql, reg)
        assert e.pgcode == "42501", e  # insufficient_privilege
    e = refused("eventbox_app", "UPDATE eventbox.events SET capacity = 0"
                " WHERE slug = %s", slug)
    assert e.pgcode == "42501"
    for table in ("api_keys", "audit_log", "outbox", "tokens", "organizations"):
        assert refused("eventbox_app", f"SELECT 1 FROM eventbox.{table}").pgcode == "42501"


def test_the_service_cannot_use_staff_functions_without_a_key(make_event, db):
    slug = make_event()
    reg = staff_register(db, slug, "Someone", email())
    for sql, args in (
            ("SELECT * FROM eventbox.set_status(%s, 'cancelled')", (slug,)),
            ("SELECT * FROM eventbox.cancel_registration(%s::bigint, NULL)", (reg,)),
            ("SELECT * FROM eventbox.check_in(%s::bigint)", (reg,)),
            ("SELECT * FROM eventbox.admin_roster(NULL, %s)", (slug,))):
        assert refused("eventbox_app", sql, *args).pgcode == "42501", sql
    e = refused("eventbox_app", "SELECT * FROM eventbox.check_in(%s::bigint,"
                " 'ebk_not-a-key')", reg)
    assert e.pgcode == "28000"
    # The one-argument form (no actor), and purge, are staff-only.
    assert refused("eventbox_app", "SELECT * FROM eventbox.cancel_registration("
                   "%s::bigint)", reg).pgcode == "42501"
    assert refused("eventbox_app", "SELECT eventbox.purge(30)").pgcode == "42501"
    assert db.value("SELECT status FROM eventbox.registrations WHERE id = %s",
                    reg) == "confirmed"


def test_the_service_cannot_bypass_members_only_by_claiming_to_be_staff(make_event,
                                                                       db):
    slug = make_event(members_only=True)
    outsider = email("out", "elsewhere.example.com")
    err = refused("eventbox_app", "SELECT outcome FROM eventbox.register(%s, 'Out',"
                  " %s, NULL, 'staff')", slug, outsider)
    assert err.pgcode == "42501", err           # refused outright now
    assert db.value("SELECT count(*) FROM eventbox.registrations WHERE email = %s",
                    outsider) == 0
    # Staff calling the same function may enter anybody.
    assert db.value("SELECT outcome FROM eventbox.register(%s, 'Out', %s)",
                    slug, outsider) == "confirmed"


# --- the ops role ---------------------------------------------------------------

def test_ops_cannot_write_registrations_directly(ops_role, make_event, db):
    slug = make_event()
    reg = staff_register(db, slug, "Someone", email())
    ev = event_id(db, slug)
    for sql, args in (
            ("UPDATE eventbox.registrations SET status = 'cancelled' WHERE id = %s", (reg,)),
            ("DELETE FROM eventbox.registrations WHERE id = %s", (reg,)),
            ("INSERT INTO eventbox.registrations (event_id, name, email, status)"
             " VALUES (%s, 'X', 'x@example.org', 'confirmed')", (ev,))):
        assert refused(ops_role, sql, *args).pgcode == "42501", sql
    # SET ROLE to the group itself changes nothing.
    assert refused(ops_role, "SET ROLE eventbox_ops; UPDATE eventbox.registrations"
                   " SET name = 'x' WHERE id = %s", reg).pgcode == "42501"
    # Reading is fine.
    assert run_as(ops_role, "SELECT name FROM eventbox.staff_roster"
                  " WHERE registration_id = %s", reg) == [("Someone",)]


def test_ops_change_registrations_through_functions_audited_with_their_role(
        ops_role, make_event, db):
    slug = make_event(capacity=1)
    a, b = email(), email()
    outcome = run_as(ops_role, "SELECT outcome FROM eventbox.staff_register(%s,"
                     " 'Phone Caller', %s)", slug, a)
    assert outcome == [("confirmed",)]
    run_as(ops_role, "SELECT * FROM eventbox.staff_register(%s, 'Second', %s)", slug, b)
    ra = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", a)
    assert run_as(ops_role, "SELECT outcome, promoted FROM"
                  " eventbox.cancel_registration(%s::bigint)", ra) == [("cancelled", 1)]
    rows = audit(db, event_id(db, slug))
    assert [(r["actor"], r["via"], r["action"]) for r in rows][-3:] == [
        (ops_role, "sql", "registration_entered"),
        (ops_role, "sql", "registration_entered"),
        (ops_role, "sql", "registration_cancelled")]


def test_a_registration_staff_enter_with_register_is_audited_too(ops_role, make_event, db):
    """register() called by staff (its source 'staff') admits as
    staff_register() does, and is written to the audit log as it is; the
    service's calls (source 'api', 'web') are not staff's doing."""
    slug = make_event(capacity=1)
    a, b = email(), email()
    assert run_as(ops_role, "SELECT outcome FROM eventbox.register(%s, 'Desk', %s)",
                  slug, a) == [("confirmed",)]
    assert run_as(ops_role, "SELECT outcome FROM eventbox.register(%s, 'Desk', %s, NULL,"
                  " 'api')", slug, b) == [("waitlisted",)]
    rows = audit(db, event_id(db, slug), action="registration_entered")
    assert [(r["actor"], r["via"], r["details"]) for r in rows] == [
        (ops_role, "sql", {"outcome": "confirmed"})]


def test_ops_edit_events_with_plain_sql_and_it_is_audited(ops_role, make_event, db):
    slug = "ops-" + uuid.uuid4().hex[:10]
    run_as(ops_role, "INSERT INTO eventbox.events (slug, title, starts_at, ends_at,"
           " timezone, capacity, status) VALUES (%s, 'Plain SQL', now() + interval"
           " '3 days', now() + interval '3 days 1 hour', 'Europe/Oslo', 1,"
           " 'published')", slug)
    run_as(ops_role, "UPDATE eventbox.events SET title = 'Renamed' WHERE slug = %s", slug)
    rows = audit(db, event_id(db, slug))
    assert [(r["actor"], r["action"]) for r in rows] == [
        (ops_role, "event_created"), (ops_role, "event_updated")]
    assert rows[1]["details"] == {"title": "Renamed", "was": {"title": "Plain SQL"}}
    # The counters are not theirs to set.
    e = refused(ops_role, "UPDATE eventbox.events SET confirmed_count = 0"
                " WHERE slug = %s", slug)
    assert e.pgcode == "42501"


def test_a_plain_sql_capacity_raise_promotes_and_a_cancel_notifies(
        ops_role, make_event, db):
    slug = make_event(capacity=1)
    people = [email() for _ in range(3)]
    for p in people:
        staff_register(db, slug, "Patron", p)
    run_as(ops_role, "UPDATE eventbox.events SET capacity = 2 WHERE slug = %s", slug)
    assert db.value("SELECT status FROM eventbox.registrations WHERE email = %s",
                    people[1]) == "confirmed"
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email = %s"
                    " AND kind = 'promoted'", people[1]) == 1
    e = refused(ops_role, "UPDATE eventbox.events SET capacity = 1 WHERE slug = %s", slug)
    assert e.pgcode == "23514"  # check_violation: seats_never_oversold
    run_as(ops_role, "UPDATE eventbox.events SET status = 'cancelled' WHERE slug = %s",
           slug)
    assert db.summary(slug)["cancelled"] == 3
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE event_id = %s"
                    " AND kind = 'event_cancelled'", event_id(db, slug)) == 3


def test_the_staff_functions_leave_a_cancelled_event_as_it_is(ops_role, make_event, db):
    """set_status() refuses to bring it back; the functions that change an
    event refuse too, with the same outcome, and log nothing."""
    slug = make_event(capacity=2)
    run_as(ops_role, "SELECT * FROM eventbox.set_status(%s, 'cancelled')", slug)
    logged = len(audit(db, event_id(db, slug)))
    calls = [("SELECT outcome FROM eventbox.save_event(%s, %s::jsonb)",
              (slug, '{"location": "Room 2", "online_url": "https://meet.example.org/x"}')),
             ("SELECT outcome FROM eventbox.set_capacity(%s, 10)", (slug,)),
             ("SELECT outcome FROM eventbox.set_capacity(%s, 10, NULL)", (slug,)),
             ("SELECT outcome FROM eventbox.set_questions(%s, %s::jsonb, NULL)",
              (slug, '[{"template": "accommodation"}]')),
             ("SELECT outcome FROM eventbox.set_status(%s, 'published')", (slug,))]
    for sql, args in calls:
        assert run_as(ops_role, sql, *args) == [("event_cancelled",)], sql
    assert db.one("SELECT capacity, location, questions FROM eventbox.events"
                  " WHERE slug = %s", slug) == (2, "", [])
    assert len(audit(db, event_id(db, slug))) == logged


def test_save_event_on_an_event_that_does_not_exist_is_not_found_whatever_the_fields(
        ops_role):
    """At psql as through the API (404 before 422): the missing event is
    the answer, not what is wrong with the fields."""
    for fields in ('{"no_such_field": 1}', '{"status": "published"}', '[1]',
                   '{"capacity": "ten"}'):
        assert run_as(ops_role, "SELECT outcome, field FROM eventbox.save_event("
                      "%s, %s::jsonb)", "no-such-event-here", fields) == [
            ("not_found", None)], fields


def test_the_seat_invariant_holds_even_for_the_owner(make_event, db):
    slug = make_event(capacity=1)
    staff_register(db, slug, "One", email())
    w = staff_register(db, slug, "Two", email())
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.all("UPDATE eventbox.registrations SET status = 'confirmed' WHERE id = %s", w)
    assert db.summary(slug)["confirmed"] == 1


def test_the_counters_follow_a_truncate_of_the_registrations(make_event, db):
    """The owner emptying the registrations with TRUNCATE (a rehearsal
    database reset; it needs CASCADE) fired no row trigger: every event
    kept counting seats nobody held, showed itself full, and the next
    registration broke seats_never_oversold.  Run in a transaction rolled
    back, so the rest of the suite keeps its rows."""
    slug = make_event(capacity=1)
    staff_register(db, slug, "One", email())
    staff_register(db, slug, "Two", email())
    conn = connect_as(os.environ["PGUSER"])
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("TRUNCATE eventbox.registrations CASCADE")
            cur.execute("SELECT confirmed, waitlisted, cancelled, seats_available"
                        " FROM eventbox.event_summary WHERE slug = %s", (slug,))
            assert cur.fetchone() == (0, 0, 0, 1)
            cur.execute("SELECT outcome FROM eventbox.staff_register(%s, 'Three', %s)",
                        (slug, email()))
            assert cur.fetchone() == ("confirmed",)
    finally:
        conn.rollback()
        conn.close()
    assert db.summary(slug)["confirmed"] == 1


# --- docs/OPS.md, as written ----------------------------------------------------

def ops_md_sql_blocks():
    with open(os.path.join(ROOT, "docs", "OPS.md"), encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"^```sql\n(.*?)^```", text, re.S | re.M)


def test_the_psql_examples_of_the_staff_guide_run_as_written(ops_role, db):
    blocks = ops_md_sql_blocks()
    assert len(blocks) >= 8, "docs/OPS.md lost its examples"
    conn = connect_as(ops_role)
    outputs = []
    try:
        with conn.cursor() as cur:
            for block in blocks:
                cur.execute(block)
                outputs.append(cur.fetchall() if cur.description else None)
    finally:
        conn.close()

    slug = "genealogy-basics"
    roster = {r[0]: (r[1], r[2]) for r in db.all(
        "SELECT email, status, attended_at IS NOT NULL FROM eventbox.staff_roster"
        " WHERE slug = %s", slug)}
    # Ada cancelled, Grace promoted into her seat and checked in; Charles's
    # address corrected; the event moved by an hour; then it was cancelled,
    # which cancelled everyone with a notice each.
    assert roster == {"ada@example.org": ("cancelled", False),
                      "charles.babbage@example.org": ("cancelled", False),
                      "grace@example.org": ("cancelled", True)}
    kinds = [r[0] for r in db.all(
        "SELECT o.kind FROM eventbox.outbox o JOIN eventbox.events e ON e.id = o.event_id"
        " WHERE o.email = 'grace@example.org' AND e.slug = %s ORDER BY o.id", slug)]
    # Her confirmation sent again; moving the event by an hour told her
    # once, before the cancellation.
    assert kinds == ["waitlisted", "promoted", "confirmed", "event_changed",
                     "event_cancelled"]
    # Charles's new address was sent his confirmation, and was told of the
    # move and the cancellation.
    kinds = [r[0] for r in db.all(
        "SELECT o.kind FROM eventbox.outbox o JOIN eventbox.events e ON e.id = o.event_id"
        " WHERE o.email = 'charles.babbage@example.org' AND e.slug = %s ORDER BY o.id",
        slug)]
    assert kinds == ["confirmed", "event_changed", "event_cancelled"]
    # "See who is waiting" showed Grace, first in line.
    waiting = outputs[2]
    assert [(w[0], w[1]) for w in waiting] == [(1, "Grace Hopper")]
    assert db.value("SELECT members_only FROM eventbox.events WHERE slug = %s", slug)
    actions = [(r["actor"], r["action"]) for r in audit(db, event_id(db, slug))]
    assert actions[0] == (ops_role, "event_created")
    assert (ops_role, "capacity_set") in actions
    assert actions[-1] == (ops_role, "event_cancelled")
    assert (ops_role, "registration_corrected") in actions
    assert (ops_role, "confirmation_resent") in actions
    # Adding the member library was audited too.
    org = db.all("SELECT actor, details FROM eventbox.audit_log"
                 " WHERE action = 'organization_created'"
                 " AND details ->> 'library' = 'Springfield Public Library'")
    assert org == [(ops_role, {"library": "Springfield Public Library",
                               "domains": ["springfieldlibrary.example.org"]})]


def test_an_update_run_one_trigger_level_down_is_audited_and_followed_up(
        ops_role, make_event, db):
    """A staff login can run its UPDATE inside a trigger of its own temporary
    table: the audit and the follow-up (promotions, cancellation notices)
    fired only at trigger depth 0, so a raised capacity skipped the waiting
    list and a cancelled event kept its seats, with nothing in the log."""
    slug = make_event(capacity=1)
    a, b = email(), email()
    for addr in (a, b):
        run_as(ops_role, "SELECT outcome FROM eventbox.staff_register(%s, 'P', %s)", slug, addr)
    assert db.summary(slug)["waitlisted"] == 1

    def one_level_down(change):
        run_as(ops_role, f"""
            CREATE TEMP TABLE nudge (x int);
            CREATE FUNCTION pg_temp.nudge() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN UPDATE eventbox.events SET {change} WHERE slug = '{slug}'; RETURN NULL; END $$;
            CREATE TRIGGER nudge AFTER INSERT ON nudge FOR EACH ROW
                EXECUTE FUNCTION pg_temp.nudge();
            INSERT INTO nudge VALUES (1);""")
    one_level_down("capacity = 3, title = 'Renamed quietly'")
    assert db.value("SELECT status FROM eventbox.registrations WHERE email = %s",
                    b) == "confirmed"                   # promoted, in order
    changes = [r["details"] for r in audit(db, event_id(db, slug), action="event_updated")]
    assert {"capacity": 3, "title": "Renamed quietly"}.items() <= changes[-1].items(), changes
    one_level_down("status = 'cancelled'")
    assert db.summary(slug)["confirmed"] == 0
    assert db.value("SELECT count(*) FROM eventbox.outbox o JOIN eventbox.events e"
                    " ON e.id = o.event_id WHERE e.slug = %s AND o.kind = 'event_cancelled'",
                    slug) == 2


def test_the_service_may_not_claim_staffs_source_nor_read_drafts_questions(make_event, db):
    """'staff' as the source told a caller who is registered and skipped the
    address's confirmation; questions_json() gave any event's questions,
    drafts' too.  Both are staff's alone."""
    slug = make_event(status="draft")
    db.all("INSERT INTO eventbox.questions (event_id, position, kind, label)"
           " SELECT id, 1, 'yes_no', 'Closing a branch?' FROM eventbox.events"
           " WHERE slug = %s", slug)
    err = refused("eventbox_app", "SELECT outcome FROM eventbox.register(%s, 'Probe', %s,"
                  " NULL, 'staff')", slug, email())
    assert err.pgcode == "42501", err
    err = refused("eventbox_app", "SELECT outcome FROM eventbox.register_answered(%s,"
                  " 'Probe', %s, NULL, 'staff', NULL, NULL, NULL, NULL, 'en')", slug, email())
    assert err.pgcode == "42501", err
    err = refused("eventbox_app", "SELECT eventbox.questions_json(id, NULL)"
                  " FROM (SELECT %s::bigint AS id) x", event_id(db, slug))
    assert err.pgcode == "42501", err
    assert db.value("SELECT eventbox.questions_json(id, NULL) -> 0 ->> 'label'"
                    " FROM eventbox.events WHERE slug = %s", slug) == "Closing a branch?"


def test_a_start_moved_from_the_past_back_into_the_future_promotes_the_waiting(
        ops_role, make_event, db):
    """A seat freed while the start was (by a typo) in the past went to
    nobody, rightly; moving the start back into the future left it free,
    and the next newcomer was confirmed ahead of the waiting list.  Plain
    UPDATE and save_event() (the admin API's PATCH) alike."""
    for move_back in (
            "UPDATE eventbox.events SET starts_at = now() + interval '1 hour',"
            " ends_at = now() + interval '2 hours' WHERE slug = %s",
            "SELECT outcome FROM eventbox.save_event(%s, jsonb_build_object("
            "'starts_at', eventbox.iso_utc(now() + interval '1 hour'),"
            " 'ends_at', eventbox.iso_utc(now() + interval '2 hours')))"):
        slug = make_event(capacity=1, starts_in="2 hours")
        a, b, c = email(), email(), email()
        for addr in (a, b, c):
            staff_register(db, slug, "P", addr)
        run_as(ops_role, "UPDATE eventbox.events SET starts_at = now() - interval"
               " '10 minutes' WHERE slug = %s", slug)
        assert run_as(ops_role, "SELECT outcome, promoted FROM eventbox.cancel_registration("
                      "(SELECT id FROM eventbox.registrations WHERE email = %s))",
                      a) == [("cancelled", 0)]
        run_as(ops_role, move_back, slug)
        assert db.summary(slug) == {"capacity": 1, "confirmed": 1, "waitlisted": 1,
                                    "cancelled": 1, "seats_available": 0}, move_back
        assert db.value("SELECT status FROM eventbox.registrations WHERE email = %s",
                        b) == "confirmed"               # the first in line
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email = %s"
                        " AND kind = 'promoted'", b) == 1
        newcomer = staff_register(db, slug, "Newcomer", email())
        assert db.value("SELECT status FROM eventbox.registrations WHERE id = %s",
                        newcomer) == "waitlisted"


def test_a_newcomer_never_takes_a_free_seat_ahead_of_the_waiting_list(make_event, db):
    """seat_outcome() confirmed whenever a seat was free, people waiting or
    not; a seat free with a waiting list (here: an unpublished event's) is
    theirs."""
    slug = make_event(capacity=1)
    first = staff_register(db, slug, "One", email())
    staff_register(db, slug, "Two", email())
    db.all("UPDATE eventbox.events SET status = 'draft' WHERE slug = %s", slug)
    db.all("SELECT eventbox.cancel_registration(%s)", first)
    assert db.summary(slug)["seats_available"] == 1
    assert db.value("SELECT eventbox.seat_outcome(e) FROM eventbox.events e"
                    " WHERE slug = %s", slug) == "waitlisted"


def test_a_check_in_can_be_taken_back_after_a_cancellation_and_counts_no_more(
        ops_role, make_event, db):
    """The wrong person checked in, then cancelled: check_in(id, false)
    answered not_confirmed, and event_report counted the cancelled
    registration as attended (as it did every check-in of an event
    cancelled afterwards)."""
    slug = make_event(capacity=5)
    wrong, right = staff_register(db, slug, "Ann", email()), staff_register(db, slug, "Bo", email())
    for rid in (wrong, right):
        assert run_as(ops_role, "SELECT outcome FROM eventbox.check_in(%s)", rid) == [
            ("checked_in",)]
    run_as(ops_role, "SELECT eventbox.cancel_registration(%s)", wrong)
    report = "SELECT confirmed, attended, cancelled FROM eventbox.event_report WHERE slug = %s"
    assert run_as(ops_role, report, slug) == [(1, 1, 1)]
    assert run_as(ops_role, "SELECT outcome FROM eventbox.check_in(%s, p_attended => false)",
                  wrong) == [("unchecked",)]
    assert run_as(ops_role, "SELECT outcome FROM eventbox.check_in(%s)", wrong) == [
        ("not_confirmed",)]                             # a check-in is for a seat
    run_as(ops_role, "SELECT * FROM eventbox.set_status(%s, 'cancelled')", slug)
    assert run_as(ops_role, report, slug) == [(0, 0, 2)]


# --- the indented psql blocks of docs/MAIL.md and docs/OPS.md, as written ------

def doc_sql_blocks(doc, heading):
    """The indented SQL blocks of one section of a doc (the heading's
    line up to the next heading of its level), as written: shell lines
    and other indented text are left out."""
    with open(os.path.join(ROOT, "docs", doc), encoding="utf-8") as f:
        text = f.read()
    level = heading.split(" ", 1)[0]
    assert "\n" + heading + "\n" in text, f"docs/{doc} lost its section {heading!r}"
    section = text.split("\n" + heading + "\n", 1)[1].split("\n" + level + " ", 1)[0]
    blocks = re.findall(r"(?:^    .*\n|^\n(?=    ))+", section, re.M)
    blocks = [re.sub(r"^    ", "", b.lstrip("\n"), flags=re.M) for b in blocks]
    sql = re.compile(r"^(?:--[^\n]*\n)*\s*(SELECT|CREATE|UPDATE|INSERT|ALTER)\b")
    return [b for b in blocks if sql.match(b)]


def statements(block):
    """One block's statements (each ends a line with ';'), comments kept."""
    return [s.strip() + ";" for s in re.split(r";\s*$", block, flags=re.M) if s.strip()
            and not all(line.startswith("--") for line in s.strip().splitlines())]


def run_rolled_back(user, stmts, then=None, *args):
    """Runs the statements as USER in one transaction, then THEN (a
    query, to see what they did) and rolls it all back: each one's rows."""
    conn = connect_as(user)
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            outputs = []
            for s in stmts + ([then] if then else []):
                cur.execute(s, args if s is then else None)
                outputs.append(cur.fetchall())
            return outputs
    finally:
        conn.rollback()
        conn.close()


def test_the_mail_operations_of_mail_md_run_as_written_as_staff(ops_role, make_event, db):
    """docs/MAIL.md's "Operations (as a member of eventbox_ops)": every
    statement runs as a staff login, and "send the failed ones again"
    queues a message that failed for good (rolled back afterwards)."""
    (block,) = doc_sql_blocks("MAIL.md", "## Operations (as a member of eventbox_ops)")
    stmts = statements(block)
    assert len(stmts) == 6, stmts
    slug = make_event()
    staff_register(db, slug, "Failed Mail", email())
    mid = db.value("SELECT o.id FROM eventbox.outbox o JOIN eventbox.events e"
                   " ON e.id = o.event_id WHERE e.slug = %s", slug)
    assert db.value("SELECT eventbox.mail_failed(%s, 'smtp 550', 1, 1000)", mid) == "failed"
    try:
        outputs = run_rolled_back(ops_role, stmts, "SELECT status FROM eventbox.outbox"
                                  " WHERE id = %s", mid)
        backlog, failures, _oldest, relay, retried, reminders, ((after,),) = outputs
        assert backlog, "outbox_backlog shows nothing with a failed message"
        assert relay == [(False,)]                      # the relay takes mail
        assert mid in [r[0] for r in failures], failures
        assert (True,) in retried, retried
        assert after == "pending"                       # queued again
        assert isinstance(reminders[0][0], int)
    finally:
        # Not left failed for the tests after this one.
        db.value("SELECT eventbox.mail_retry(%s)", mid)
        db.all("SELECT eventbox.mail_sent(%s)", mid)


def test_the_webhook_operations_of_ops_md_run_as_written_as_staff(ops_role):
    """docs/OPS.md's "Webhooks" block, as a staff login, in a transaction
    rolled back (its webhook would otherwise get the suite's deliveries)."""
    (block,) = doc_sql_blocks("OPS.md", "## Webhooks")
    stmts = statements(block)
    assert len(stmts) == 5, stmts
    outputs = run_rolled_back(ops_role, stmts)
    created, listed, disabled, _failures, _retried = outputs
    outcome, hook, secret = created[0][:3]
    assert (outcome, secret[:6]) == ("created", "whsec_"), created
    assert [r for r in listed if r[0] == hook and
            r[1] == "https://crm.library.example.org/eventbox"], listed
    assert disabled[0][0] in (True, False)


def test_a_staff_login_is_made_as_ops_md_says(db):
    """docs/OPS.md's "Roles": the owner makes a staff login that is a
    member of eventbox_ops (rolled back: the cluster maps no OS user to it)."""
    blocks = doc_sql_blocks("OPS.md", "## Roles")
    assert blocks == ["CREATE ROLE sarah LOGIN IN ROLE eventbox_ops;\n"], blocks
    with db.conn.cursor() as cur:
        cur.execute("BEGIN")
        try:
            cur.execute(blocks[0])
            cur.execute("SELECT rolcanlogin, pg_has_role('sarah', 'eventbox_ops', 'member')"
                        " FROM pg_roles WHERE rolname = 'sarah'")
            assert cur.fetchall() == [(True, True)]
        finally:
            cur.execute("ROLLBACK")


def test_a_patrons_language_is_changed_as_ops_md_says(ops_role, make_event, db):
    """docs/OPS.md: "To have a patron's next emails in Spanish: UPDATE
    eventbox.registrations SET language = 'es' WHERE id = ... (as the
    owner)": as written, the owner may; a staff login may not."""
    with open(os.path.join(ROOT, "docs", "OPS.md"), encoding="utf-8") as f:
        (sql,) = re.findall(r"`(UPDATE eventbox\.registrations SET language = 'es'"
                            r" WHERE id = \.\.\.)`", f.read())
    sql = sql.replace("...", "%s")
    slug = make_event()
    reg = staff_register(db, slug, "Ana", email())
    assert refused(ops_role, sql, reg).pgcode == "42501"
    db.all(sql, reg)
    assert db.value("SELECT language FROM eventbox.registrations WHERE id = %s", reg) == "es"


# --- deleting -------------------------------------------------------------------

def delete_refused(user, slug):
    """(constraint, hint) of a DELETE of the event that is refused."""
    e = refused(user, "DELETE FROM eventbox.events WHERE slug = %s", slug)
    assert e.pgcode == "23503", e                   # foreign_key_violation
    return e.diag.constraint_name, e.diag.message_hint


def rows_naming(db, eid):
    return {t: db.value(f"SELECT count(*) FROM eventbox.{t} WHERE event_id = %s", eid)
            for t in ("events_as_told", "questions", "outbox", "idempotency_keys",
                      "event_stats", "registrations")}


def test_an_event_made_by_mistake_is_deleted_in_one_statement_with_its_own_rows(
        ops_role, api, db):
    """A published event nobody registered for, with a question on its
    form, a change announced to a webhook, and an idempotency key kept for
    a "closed" answer: each of those rows named it with a foreign key that
    took no action, and its DELETE failed with PostgreSQL's bare
    foreign_key_violation.  They go with it now; the audit log says who."""
    slug = "oops-" + uuid.uuid4().hex[:10]
    run_as(ops_role, "INSERT INTO eventbox.events (slug, title, starts_at, ends_at, timezone,"
           " capacity, status, registration_closes_at) VALUES (%s, 'Made by mistake',"
           " now() + interval '3 days', now() + interval '3 days 1 hour', 'Europe/Oslo', 5,"
           " 'published', now() - interval '1 hour')", slug)
    eid = event_id(db, slug)
    r = api.register(slug, "Early Bird", email(), headers={"Idempotency-Key": "k-" + slug})
    assert r.status == 403 and r.json["error"]["code"] == "registration_closed", r
    assert run_as(ops_role, "SELECT outcome FROM eventbox.set_questions(%s, %s::jsonb, NULL)",
                  slug, '[{"template": "accommodation"}]') == [("ok",)]
    ((_, hook, *_),) = run_as(ops_role, "SELECT * FROM eventbox.webhook_create("
                              "'https://crm.library.example.org/deletes',"
                              " '{event.changed}')")
    try:
        run_as(ops_role, "UPDATE eventbox.events SET location = 'Room 2' WHERE slug = %s",
               slug)
    finally:
        run_as(ops_role, "SELECT eventbox.webhook_disable(%s)", hook)
    assert rows_naming(db, eid) == {"events_as_told": 0, "questions": 1, "outbox": 1,
                                    "idempotency_keys": 1, "event_stats": 0,
                                    "registrations": 0}
    conn = connect_as(ops_role)
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM eventbox.events WHERE slug = %s", (slug,))
            assert cur.rowcount == 1
    finally:
        conn.close()
    assert set(rows_naming(db, eid).values()) == {0}
    assert db.value("SELECT count(*) FROM eventbox.events WHERE id = %s", eid) == 0
    (entry,) = [a for a in audit(db, action="event_deleted")
                if a["details"].get("slug") == slug]
    assert (entry["actor"], entry["via"]) == (ops_role, "sql")


def test_the_audit_log_keeps_a_deleted_events_history_and_what_it_was(ops_role, db):
    """Its entries lost their event_id to ON DELETE SET NULL ("event_created"
    of no event), and event_deleted named only the slug."""
    slug = "oops-" + uuid.uuid4().hex[:10]
    run_as(ops_role, "INSERT INTO eventbox.events (slug, title, starts_at, ends_at, timezone,"
           " capacity) VALUES (%s, 'Typo workshop', '2031-05-01 10:00+00',"
           " '2031-05-01 11:00+00', 'UTC', 5)", slug)
    eid = event_id(db, slug)
    run_as(ops_role, "UPDATE eventbox.events SET capacity = 6 WHERE slug = %s", slug)
    run_as(ops_role, "DELETE FROM eventbox.events WHERE slug = %s", slug)
    rows = audit(db, eid)
    assert [(r["actor"], r["action"]) for r in rows] == [
        (ops_role, "event_created"), (ops_role, "event_updated"), (ops_role, "event_deleted")]
    was = rows[-1]["details"]
    assert (was["slug"], was["title"], was["status"]) == (slug, "Typo workshop", "draft")
    assert db.value("SELECT %s::timestamptz = '2031-05-01 10:00+00'", was["starts_at"])


def test_an_old_event_is_deleted_unless_the_purge_counts_registrations_of_it(
        ops_role, api, make_event, db):
    """The purge keeps counts (event_stats) for every old event that held
    anything personal: zeros for one nobody registered for, which then
    could not be deleted either.  One whose purged registrations the counts
    hold stays, said in words: event_report would lose them."""
    empty, held = make_event(), make_event()
    staff_register(db, held, "Came Along", email())
    for slug in (empty, held):
        db.all("UPDATE eventbox.events SET starts_at = now() - interval '40 days 2 hours',"
               " ends_at = now() - interval '40 days' WHERE slug = %s", slug)
    r = api.register(empty, "Too Late", email(), headers={"Idempotency-Key": "k-" + empty})
    assert r.status == 403, r
    run_as(ops_role, "SELECT eventbox.purge(30)")
    assert db.all("SELECT registered FROM eventbox.event_stats WHERE event_id = %s",
                  event_id(db, empty)) == [(0,)]
    eid = event_id(db, held)
    assert db.all("SELECT registered FROM eventbox.event_stats WHERE event_id = %s",
                  eid) == [(1,)]
    run_as(ops_role, "DELETE FROM eventbox.events WHERE slug = %s", empty)
    assert db.value("SELECT count(*) FROM eventbox.events WHERE slug = %s", empty) == 0
    constraint, hint = delete_refused(ops_role, held)
    assert constraint == "event_stats_event_id_fkey" and "event_report" in hint, hint
    assert rows_naming(db, eid)["event_stats"] == 1


def test_an_event_with_registrations_is_refused_saying_what_to_do_instead(
        ops_role, make_event, db):
    """Cancel it, says the hint; but a cancelled one is cancelled already,
    and the hint said to cancel it all the same."""
    live, gone = make_event(), make_event()
    for slug in (live, gone):
        staff_register(db, slug, "Booked", email())
    run_as(ops_role, "SELECT * FROM eventbox.set_status(%s, 'cancelled')", gone)
    constraint, hint = delete_refused(ops_role, live)
    assert constraint == "registrations_event_id_fkey" and "set_status" in hint, hint
    constraint, hint = delete_refused(ops_role, gone)
    assert constraint == "registrations_event_id_fkey", constraint
    assert "cancelled already" in hint and "set_status" not in hint, hint
    for slug in (live, gone):
        assert rows_naming(db, event_id(db, slug))["registrations"] == 1


# --- a registration the owner deletes -------------------------------------------

def owner_deletes(sql, *args):
    """A DELETE of registrations as the owner at psql (staff logins are
    refused: test_ops_cannot_write_registrations_directly)."""
    return run_as(os.environ["PGUSER"], sql, *args)


def statuses(db, *regs):
    return [db.value("SELECT coalesce((SELECT status FROM eventbox.registrations"
                     " WHERE id = %s), 'gone')", r) for r in regs]


def promoted_mail(db, reg):
    return db.value("SELECT count(*) FROM eventbox.outbox WHERE registration_id = %s"
                    " AND kind = 'promoted'", reg)


def test_a_seat_the_owner_deletes_goes_to_the_first_in_line(make_event, db):
    """A confirmed registration deleted with plain SQL freed its seat to
    nobody: the people waiting stayed waiting and a newcomer was put on the
    list behind them, until a capacity change or a cancellation.  It goes
    to the first in line now, as a cancellation's does, with their email."""
    slug = make_event(capacity=2)
    seat, other, first, second = (staff_register(db, slug, n, email())
                                  for n in ("Seat", "Other", "First", "Second"))
    owner_deletes("DELETE FROM eventbox.registrations WHERE id = %s", seat)
    assert statuses(db, seat, other, first, second) == [
        "gone", "confirmed", "confirmed", "waitlisted"]
    assert (promoted_mail(db, first), promoted_mail(db, second)) == (1, 0)
    s = db.summary(slug)
    assert (s["confirmed"], s["waitlisted"], s["seats_available"]) == (2, 1, 0)
    newcomer = staff_register(db, slug, "Newcomer", email())
    assert statuses(db, newcomer) == ["waitlisted"]
    assert db.value("SELECT position FROM eventbox.waiting_list"
                    " WHERE registration_id = %s", newcomer) == 2


def test_one_delete_of_many_rows_promotes_in_order_at_each_event(make_event, db):
    """Seats and places of two events deleted in one statement: each
    event's freed seats go to those still waiting there, oldest first; a
    waiting place deleted with them is not promoted first (and mailed)."""
    a, b = make_event(capacity=2), make_event(capacity=1)
    a1, a2, w1, w2, w3, w4 = (staff_register(db, a, "A", email()) for _ in range(6))
    b1, bw = (staff_register(db, b, "B", email()) for _ in range(2))
    owner_deletes("DELETE FROM eventbox.registrations WHERE id IN (%s, %s, %s, %s)",
                  b1, w1, a2, a1)
    assert statuses(db, a1, a2, w1, w2, w3, w4) == [
        "gone", "gone", "gone", "confirmed", "confirmed", "waitlisted"]
    assert statuses(db, b1, bw) == ["gone", "confirmed"]
    assert [promoted_mail(db, r) for r in (w1, w2, w3, w4, bw)] == [0, 1, 1, 0, 1]
    assert (db.summary(a)["confirmed"], db.summary(a)["waitlisted"]) == (2, 1)
    assert db.value("SELECT position FROM eventbox.waiting_list"
                    " WHERE registration_id = %s", w4) == 1


def test_a_seat_deleted_once_the_event_has_begun_goes_to_nobody(make_event, db):
    """Nobody is promoted after the start, whatever freed the seat."""
    slug = make_event(capacity=1)
    seat, waiting = (staff_register(db, slug, n, email()) for n in ("Seat", "Waiting"))
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '10 minutes'"
           " WHERE slug = %s", slug)
    owner_deletes("DELETE FROM eventbox.registrations WHERE id = %s", seat)
    assert statuses(db, seat, waiting) == ["gone", "waitlisted"]
    assert promoted_mail(db, waiting) == 0


def pending_mail(db, addr):
    return db.all("SELECT kind FROM eventbox.outbox WHERE lower(email) = lower(%s)"
                  " AND status = 'pending' ORDER BY id", addr)


def test_no_email_goes_out_about_a_registration_the_owner_deleted(make_event, db):
    """Its queued confirmation (or waiting-list note, or cancellation
    receipt) stayed in the outbox, its registration_id set to NULL, and the
    mailer sent it with a link that no longer worked.  It goes with the
    row; the email of the person promoted into the seat stays."""
    slug = make_event(capacity=1)
    addrs = [email() for _ in range(4)]
    seat, waiting, cancelled, next_in_line = (staff_register(db, slug, "Patron", a)
                                              for a in addrs)
    db.all("SELECT * FROM eventbox.cancel_registration(%s::bigint)", cancelled)
    assert [pending_mail(db, a) for a in addrs] == [
        [("confirmed",)], [("waitlisted",)], [("waitlisted",), ("cancelled",)],
        [("waitlisted",)]]
    owner_deletes("DELETE FROM eventbox.registrations WHERE id IN (%s, %s, %s)",
                  seat, waiting, cancelled)
    assert [pending_mail(db, a) for a in addrs] == [
        [], [], [], [("waitlisted",), ("promoted",)]]
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE registration_id IS NULL"
                    " AND lower(email) = ANY (%s)", [a.lower() for a in addrs[:3]]) == 0


def test_the_audit_log_says_who_deleted_a_registration_and_what_it_was(
        ops_role, make_event, db):
    """Nothing was written: a seat gone and someone promoted, with no
    entry saying why.  Each deleted row gets a registration_deleted entry:
    the owner's role, the registration's id and what it was, how many its
    event's freed seats promoted; never the patron's name or address (a
    deletion may be somebody's wish to be forgotten).  The purge's
    deletions are its own event_purged entry, not one per registration."""
    slug, old = make_event(capacity=1), make_event(capacity=1)
    seat, waiting = (staff_register(db, slug, "Ann Patron", email()) for _ in range(2))
    owner_deletes("DELETE FROM eventbox.registrations WHERE id = %s", seat)
    eid = event_id(db, slug)
    (entry,) = audit(db, eid, action="registration_deleted")
    assert (entry["actor"], entry["via"]) == (os.environ["PGUSER"], "sql")
    assert entry["details"] == {"registration": seat, "was": "confirmed", "promoted": 1}
    owner_deletes("DELETE FROM eventbox.registrations WHERE id = %s", waiting)
    assert [a["details"] for a in audit(db, eid, action="registration_deleted")] == [
        {"registration": seat, "was": "confirmed", "promoted": 1},
        {"registration": waiting, "was": "confirmed", "promoted": 0}]
    staff_register(db, old, "Came Along", email())
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '40 days 2 hours',"
           " ends_at = now() - interval '40 days' WHERE slug = %s", old)
    run_as(ops_role, "SELECT eventbox.purge(30)")
    assert [a["action"] for a in audit(db, event_id(db, old))][-1:] == ["event_purged"]
    assert audit(db, event_id(db, old), action="registration_deleted") == []


# --- a registration's address, corrected --------------------------------------------

def test_a_plain_update_of_an_address_is_refused_naming_the_function(ops_role, make_event, db):
    """A new address by plain UPDATE left the links mailed to the old one
    working (a stranger's mailbox, for a mistyped address) and sent the new
    one nothing: the owner is refused with a hint naming
    correct_registration(), a staff login by its privileges, and the
    function does it all, with outcomes rather than errors."""
    slug = make_event()
    old = email("typo", "gmial.com")
    reg = staff_register(db, slug, "Ann Typo", old)
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        db.all("UPDATE eventbox.registrations SET email = %s WHERE id = %s", email(), reg)
    assert e.value.diag.constraint_name == "registrations_email_correction"
    assert f"eventbox.correct_registration({reg}," in e.value.diag.message_hint
    assert isinstance(refused(ops_role, "UPDATE eventbox.registrations SET email = %s"
                              " WHERE id = %s", email(), reg),
                      psycopg2.errors.InsufficientPrivilege)
    # The same address in other letters is the same address.
    db.all("UPDATE eventbox.registrations SET email = upper(email) WHERE id = %s", reg)

    def correct(fields, reg=reg):
        return run_as(ops_role, "SELECT outcome, field, message, mailed"
                      " FROM eventbox.correct_registration(%s, %s)", reg, fields)[0]
    assert correct('{"email": "ann@b\u00fccherei.de"}')[:2] == ("invalid", "email")
    assert "idn2" in correct('{"email": "ann@b\u00fccherei.de"}')[2]
    assert correct('{"email": "ann@192.0.2.1"}')[:2] == ("invalid", "email")
    assert correct('{"phone": "555"}')[:2] == ("invalid", "phone")
    assert correct('{"email": 5}')[:3] == ("invalid", "email", "must be a string")
    assert correct('{"name": null}')[:3] == ("invalid", "name", "is required")
    assert correct('{}', reg=999999999999)[0] == "not_found"
    taken = email()
    staff_register(db, slug, "Bea Taken", taken)
    assert correct(f'{{"email": "{taken}"}}')[:2] == ("already_registered", "email")
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE registration_id = %s",
                    reg) == 1
    new = email("right")
    assert correct(f'{{"email": "{new}"}}') == ("corrected", None, None, "confirmed")
    (entry,) = audit(db, registration_id=reg, action="registration_corrected")
    assert (entry["actor"], entry["via"]) == (ops_role, "sql")
    assert entry["details"] == {"email": new, "was": {"email": old.upper()},
                                "mailed": "confirmed"}
    # The purge erases the addresses, the one before a correction too.
    assert db.value("SELECT eventbox.without_personal(%s)",
                    psycopg2.extras.Json(entry["details"])) == {"was": {},
                                                               "mailed": "confirmed"}
    assert run_as(ops_role, "SELECT outcome, mailed FROM eventbox.resend_confirmation(%s)",
                  reg) == [("already_queued", "confirmed")]
