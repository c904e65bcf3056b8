"""Promises that hold against someone who tries: the audit that only the
definer can skip, texts that reach headers refused where they are written,
member domains matched literally, staff told the truth about a repeat, and
idempotency keys that replay only final answers."""
import datetime
import uuid

import psycopg2
import pytest

from staffkit import (admin, assert_error, audit, connect_as, email,  # noqa: F401
                      event_id, ops_role, staff_key, staff_register)
from test_admin import new_event_body

API = "/api/v1"


def run_in_one_transaction(user, *statements):
    conn = connect_as(user)
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            for sql, args in statements:
                cur.execute(sql, args)
        conn.commit()
    finally:
        conn.close()


# --- the audit and the follow-up ----------------------------------------------

@pytest.mark.parametrize("switch", [
    "SELECT set_config('eventbox.audited', 'on', false)",
    "SELECT set_config('eventbox.audited', 'on', true)",
    "SET eventbox.audited = 'on'",
])
def test_an_ops_login_cannot_switch_off_audit_or_promotion(ops_role, make_event,
                                                           db, switch):
    slug = make_event(capacity=1)
    people = [email() for _ in range(2)]
    for p in people:
        staff_register(db, slug, "Patron", p)
    before = len(audit(db, event_id(db, slug)))
    run_in_one_transaction(ops_role, (switch, ()), (
        "UPDATE eventbox.events SET capacity = 2 WHERE slug = %s", (slug,)))
    # The waiting list moved up and the change is in the audit log.
    assert db.value("SELECT status FROM eventbox.registrations WHERE email = %s",
                    people[1]) == "confirmed"
    rows = audit(db, event_id(db, slug))
    assert len(rows) == before + 1
    assert (rows[-1]["actor"], rows[-1]["action"]) == (ops_role, "event_updated")
    # A cancellation still notifies everyone, and is logged.
    run_in_one_transaction(ops_role, (switch, ()), (
        "UPDATE eventbox.events SET status = 'cancelled' WHERE slug = %s", (slug,)))
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE event_id = %s"
                    " AND kind = 'event_cancelled'", event_id(db, slug)) == 2
    assert audit(db, event_id(db, slug))[-1]["action"] == "event_updated"


def test_the_marker_of_an_audited_call_is_not_callable_by_ops(ops_role):
    conn = connect_as(ops_role)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT p.oid::regprocedure::text FROM pg_proc p"
                        " JOIN pg_namespace n ON n.oid = p.pronamespace"
                        " WHERE n.nspname = 'eventbox' AND p.proname = 'audited'")
            for (proc,) in cur.fetchall():
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(f"SELECT {proc.replace('boolean', 'true')}")
    finally:
        conn.close()


# --- texts that end up in headers and line-based formats -----------------------

@pytest.mark.parametrize("column", ["title", "location", "presenter"])
@pytest.mark.parametrize("bad", ["Two\nlines", "Carriage\rreturn", "Tab\there",
                                 "Nul\x01byte"])
def test_control_characters_are_refused_at_psql(ops_role, make_event, db,
                                                column, bad):
    slug = make_event()
    conn = connect_as(ops_role)
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.CheckViolation):
            cur.execute(f"UPDATE eventbox.events SET {column} = %s WHERE slug = %s",
                        (bad, slug))
    finally:
        conn.close()
    assert "\n" not in db.value(f"SELECT coalesce({column}, '') FROM"
                                " eventbox.events WHERE slug = %s", slug)


@pytest.mark.parametrize("field", ["title", "location", "presenter"])
def test_control_characters_are_422_through_the_admin_api(admin, db, field):
    body = new_event_body(**{field: "Line one\r\nBcc: victim@example.org"})
    r = admin.post("/events", json_body=body)
    assert_error(r, 422, "invalid_field", field)
    assert db.value("SELECT count(*) FROM eventbox.events WHERE slug = %s",
                    body["slug"]) == 0


# --- member domains ----------------------------------------------------------

def test_member_domains_match_literally(api, db, make_event):
    tag = uuid.uuid4().hex[:6]
    dom = f"lib-{tag}.example.org"
    db.all("INSERT INTO eventbox.organizations (name, domains) VALUES (%s, %s)",
           "Library " + tag, [dom])
    slug = make_event(members_only=True)
    # Eligible: held until the address confirms (members-only events
    # confirm by email: tests/test_holds.py).
    assert api.register(slug, "Member", f"m@{dom.upper()}").status == 202
    assert api.register(slug, "Branch", f"b@branch.{dom}").status == 202
    # A suffix without the dot is another domain.
    assert_error(api.register(slug, "Suffix", f"s@x{dom}"), 403, "not_eligible")
    assert_error(api.register(slug, "Parent", "p@example.org"), 403,
                 "not_eligible")


@pytest.mark.parametrize("bad", ["org", "example", "%.org", "a_b.org", "lib.org ",
                                 "*.lib.org", ".lib.org", "lib..org", "Lib.org",
                                 ""])
def test_a_member_domain_must_be_a_whole_domain(db, bad):
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.all("INSERT INTO eventbox.organizations (name, domains) VALUES (%s, %s)",
               "Bad " + uuid.uuid4().hex[:6], [bad])


# --- staff told the truth -------------------------------------------------------

def test_staff_entering_someone_who_holds_a_seat_are_told_so(db, make_event):
    slug = make_event(capacity=1)
    addr = email()
    first = staff_register(db, slug, "Patron", addr)
    entered = audit(db, event_id(db, slug), action="registration_entered")
    outcome, position, reg = db.one(
        "SELECT outcome, position, registration_id FROM"
        " eventbox.staff_register(%s, %s, %s)", slug, "Patron", addr.upper())
    assert (outcome, position, reg) == ("already_registered", None, first)
    assert audit(db, event_id(db, slug), action="registration_entered") == entered
    assert db.summary(slug)["waitlisted"] == 0


def test_the_admin_api_answers_a_staff_repeat_with_409(admin, make_event):
    slug = make_event(capacity=1)
    addr = email("desk")
    r = admin.post(f"/events/{slug}/registrations",
                   json_body={"name": "By Phone", "email": addr})
    assert r.status == 201, r
    again = admin.post(f"/events/{slug}/registrations",
                       json_body={"name": "By Phone", "email": addr})
    assert_error(again, 409, "already_registered")


# --- idempotency keys --------------------------------------------------------------

def test_an_idempotency_key_does_not_replay_not_open_yet(api, db, make_event):
    opens = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    slug = make_event(registration_opens_at=opens)
    key = "k-" + uuid.uuid4().hex
    addr = email()
    first = api.register(slug, "Early", addr, headers={"Idempotency-Key": key})
    assert_error(first, 403, "registration_not_open")
    db.all("UPDATE eventbox.events SET registration_opens_at = now() - interval"
           " '1 minute' WHERE slug = %s", slug)
    again = api.register(slug, "Early", addr, headers={"Idempotency-Key": key})
    assert again.status == 201 and again.json["status"] == "confirmed", again
    # The final answer is the one replayed from now on.
    third = api.register(slug, "Early", addr, headers={"Idempotency-Key": key})
    assert third.status == 201 and third.json["status"] == "confirmed", third


# --- a constraint that refuses a change ------------------------------------------

def test_a_constraint_violation_is_409_and_the_log_quotes_no_row(admin, api, db,
                                                                  make_event):
    """A rule of the database that the functions do not ask first (one the
    owner added; eventbox's own are asked first and answered in words, as a
    waiting list's limit below the people waiting is) refuses a change: 409
    conflict, and the log names the rule but never quotes the row."""
    import os
    slug = make_event(capacity=1)
    for i in range(3):
        api.register(slug, f"P{i}", email())
    log = os.path.join(os.environ["EVENTBOX_LOG_DIR"], "eventbox.log")
    start = os.path.getsize(log)
    r = admin.patch(f"/events/{slug}", json_body={"waitlist_capacity": 1})
    assert_error(r, 409, "waitlist_capacity_below_waiting")
    db.all("""CREATE FUNCTION public.test_refuse_title() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN
                  RAISE EXCEPTION 'new row violates check constraint "test_title_rule"'
                      USING ERRCODE = 'check_violation', CONSTRAINT = 'test_title_rule',
                            DETAIL = format('Failing row contains (%%s, secret-%%s).',
                                            NEW.title, NEW.slug);
              END $$""")
    try:
        db.all("CREATE TRIGGER test_title_rule BEFORE UPDATE OF title ON eventbox.events"
               " FOR EACH ROW WHEN (NEW.title = 'Refused title')"
               " EXECUTE FUNCTION public.test_refuse_title()")
        r = admin.patch(f"/events/{slug}", json_body={"title": "Refused title"})
        assert_error(r, 409, "conflict")
    finally:
        db.all("DROP TRIGGER IF EXISTS test_title_rule ON eventbox.events")
        db.all("DROP FUNCTION IF EXISTS public.test_refuse_title()")
    assert db.value("SELECT waitlist_capacity FROM eventbox.events WHERE slug = %s",
                    slug) is None
    assert db.value("SELECT title FROM eventbox.events WHERE slug = %s", slug) != "Refused title"
    with open(log, errors="replace") as f:
        f.seek(start)
        written = f.read()
    assert "test_title_rule" in written                  # staff learn which rule
    assert "Failing row" not in written and "secret-" + slug not in written
