"""The rules for a row's fields, as triggers (sql/019_row_checks.sql,
sql/rules/12_row_checks.sql), refuse and let through what the CHECK
constraints they replaced did, with the same SQLSTATE and constraint name,
whoever writes the row (here the owner, with plain SQL).

And what made them triggers stays true: a registration's statements
compile no CHECK but the seat invariants and no trigger WHEN clause
(PostgreSQL compiles both again for every statement; they were 40% of a
registration's instructions), and the audit trigger, named for columns so
that a counter update skips it, names every column but the counters.

The last test tries some ninety values per column against the old CHECKs'
own expressions (as PostgreSQL printed them before 019, the name, email
and organization rules' functions spelled out): a row is refused exactly
when one of them says false."""
import json
import uuid

import psycopg2
import pytest

from conftest import connect, stored_by_an_older_release

SEAT_INVARIANTS = {"seats_never_oversold", "waitlist_never_overfull",
                   "events_confirmed_count_check", "events_waitlisted_count_check",
                   "events_cancelled_count_check"}
# Kept by triggers, refused to anyone else (counters_are_derived): the
# counters, and the event's copy of its questions (021_event_questions.sql).
COUNTERS = {"confirmed_count", "waitlisted_count", "cancelled_count",
            "held_confirmed_count", "held_waitlisted_count", "questions"}

# (constraint, column, a value it refuses, a value at its limit it accepts)
EVENT_RULES = [
    ("events_audience_check", "audience", "a\x07b", "x" * 2000),
    ("events_audience_check", "audience", "x" * 2001, "tab\tand\nnewline"),
    ("events_capacity_check", "capacity", -1, 0),
    ("events_format_check", "format", "radio", "hybrid"),
    ("events_hold_minutes_check", "hold_minutes", 0, 10080),
    ("events_hold_minutes_check", "hold_minutes", 10081, 1),
    ("events_ical_sequence_check", "ical_sequence", -1, 0),
    ("events_image_alt_check", "image_alt", "x" * 501, "x" * 500),
    ("events_image_path_check", "image_path", "/static/../etc/passwd", None),
    ("events_image_path_check", "image_path", "/tmp/x.png", None),
    ("events_location_one_line", "location", "Room 1\nRoom 2", "Room 1"),
    ("events_online_url_check", "online_url", "ftp://x.example", "https://x.example/a"),
    ("events_presenter_one_line", "presenter", "A\rB", "A B"),
    ("events_registrations_per_minute_check", "registrations_per_minute", 0, 100000),
    ("events_slug_check", "slug", "12345", None),
    ("events_slug_check", "slug", "Has-Capitals", None),
    ("events_status_check", "status", "archived", "cancelled"),
    ("events_title_check", "title", "", "x" * 300),
    ("events_title_check", "title", "x" * 301, "T"),
    ("events_title_one_line", "title", "A\nB", "A B"),
    ("events_waitlist_capacity_check", "waitlist_capacity", -1, None),
    # Rules save_event() checks that were no CHECK: the Atom feed and the
    # .ics can carry no control character.
    ("events_description_check", "description", "bell\x07", "para\n\ntab\there\r\n"),
    ("events_description_check", "description", "x" * 20001, "x" * 20000),
    ("events_organizer_one_line", "organizer", "A\nB", "A B"),
    ("events_accessibility_contact_one_line", "accessibility_contact", "a\rb", "a b"),
    ("events_categories_check", "categories", ["Talk\r\nATTENDEE:x"], ["Talk"]),
    ("events_categories_check", "categories", ["x" * 101], ["x" * 100, "Y"]),
    ("events_categories_check", "categories", [""], []),
    ("events_language_check", "language", "Spanish", "pt-BR"),
    ("events_language_check", "language", "", "es"),
]


def refused(db, constraint, table, sql, *args):
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        db.all(sql, *args)
    assert e.value.diag.constraint_name == constraint
    assert e.value.diag.table_name == table
    assert e.value.diag.schema_name == "eventbox"
    # never the row itself: it may hold a patron's address
    assert e.value.diag.message_detail is None


@pytest.mark.parametrize("constraint,column,bad,good", EVENT_RULES)
def test_an_event_column_refuses_what_its_check_refused(db, make_event, constraint,
                                                        column, bad, good):
    slug = make_event()
    before = db.one("SELECT * FROM eventbox.events WHERE slug = %s", slug)
    refused(db, constraint, "events",
            f"UPDATE eventbox.events SET {column} = %s WHERE slug = %s", bad, slug)
    assert db.one("SELECT * FROM eventbox.events WHERE slug = %s", slug) == before
    if good is not None:
        db.all(f"UPDATE eventbox.events SET {column} = %s WHERE slug = %s", good, slug)
        assert db.value(f"SELECT {column} FROM eventbox.events WHERE slug = %s",
                        slug) == good


@pytest.mark.parametrize("constraint,column,bad,good", EVENT_RULES)
def test_the_hint_at_psql_says_what_the_column_must_be(db, make_event, constraint,
                                                       column, bad, good):
    """OPS.md: the hint names the column and what it must be ("presenter
    must be one line, without control characters.").  A slug with capitals
    got "slug lower-case letters, digits and hyphens, not only digits."."""
    slug = make_event()
    code, got, hint = hint_of(db, f"UPDATE eventbox.events SET {column} = %s"
                              " WHERE slug = %s", bad, slug)
    assert (code, got) == ("23514", constraint)
    assert hint.startswith(f"{column} must "), hint


def test_an_event_inserted_is_checked_too(db, make_event):
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        make_event(title="A\nB")
    assert e.value.diag.constraint_name == "events_title_one_line"
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        db.all("INSERT INTO eventbox.events (slug, title, capacity, starts_at, ends_at)"
               " VALUES (%s, 'T', 1, now(), now())", "t-" + uuid.uuid4().hex[:12])
    assert e.value.diag.constraint_name == "ends_after_start"


def test_the_rules_over_several_event_columns(db, make_event):
    slug = make_event()
    refused(db, "ends_after_start", "events",
            "UPDATE eventbox.events SET ends_at = starts_at WHERE slug = %s", slug)
    refused(db, "image_has_alt", "events",
            "UPDATE eventbox.events SET image_path = '/static/a.png', image_alt = '  ',"
            " image_decorative = false WHERE slug = %s", slug)
    db.all("UPDATE eventbox.events SET image_path = '/static/a/b-c_d.png', image_alt = NULL,"
           " image_decorative = true WHERE slug = %s", slug)
    refused(db, "image_has_alt", "events",
            "UPDATE eventbox.events SET image_decorative = false WHERE slug = %s", slug)
    for bad in (["x"] * 21, ["a", None], ["a", ""], ["x" * 10001], ["a\x01"]):
        refused(db, "events_learning_outcomes_check", "events",
                "UPDATE eventbox.events SET learning_outcomes = %s WHERE slug = %s",
                bad, slug)
    db.all("UPDATE eventbox.events SET learning_outcomes = %s WHERE slug = %s",
           ["x"] * 20, slug)
    # a NULL passes, as it passes a CHECK
    db.all("UPDATE eventbox.events SET image_alt = NULL, waitlist_capacity = NULL,"
           " hold_minutes = NULL, registrations_per_minute = NULL, online_url = NULL"
           " WHERE slug = %s", slug)


def add_registration(db, slug, **cols):
    fields = {"name": "Ann Reader", "email": f"r-{uuid.uuid4().hex[:8]}@example.org",
              "status": "confirmed", "source": "staff"}
    fields.update(cols)
    names = ", ".join(fields)
    marks = ", ".join(["%s"] * len(fields))
    return db.value(f"INSERT INTO eventbox.registrations (event_id, {names})"
                    f" SELECT id, {marks} FROM eventbox.events WHERE slug = %s RETURNING id",
                    *fields.values(), slug)


@pytest.mark.parametrize("constraint,cols", [
    ("registrations_name_check", {"name": ""}),
    ("registrations_name_check", {"name": "x" * 201}),
    ("registrations_name_check", {"name": "A\tB"}),
    ("registrations_email_check", {"email": "no-at-sign.example.org"}),
    ("registrations_email_check", {"email": "a b@example.org"}),
    ("registrations_organization_check", {"organization": "L" * 201}),
    ("registrations_language_check", {"language": "english"}),
    ("registrations_source_check", {"source": "fax"}),
    ("registrations_status_check", {"status": "maybe"}),
    ("registrations_hold_is_live", {"status": "cancelled",
                                    "held_until": "2030-01-01T00:00:00Z"}),
    ("registrations_expired_is_cancelled", {"hold_expired_at": "2030-01-01T00:00:00Z"}),
])
def test_a_registration_refuses_what_its_check_refused(db, make_event, constraint, cols):
    slug = make_event()
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        add_registration(db, slug, **cols)
    assert e.value.diag.constraint_name == constraint
    assert e.value.diag.table_name == "registrations"
    assert db.value("SELECT confirmed_count + waitlisted_count + cancelled_count"
                    " FROM eventbox.events WHERE slug = %s", slug) == 0


def test_a_registration_at_the_limits_is_let_through_and_checked_on_update(db, make_event):
    slug = make_event()
    rid = add_registration(db, slug, name="x" * 200, organization="L" * 200,
                           language="pt-BR", email="a" * 242 + "@example.org")
    add_registration(db, slug, organization=None, source="web")
    refused(db, "registrations_name_check", "registrations",
            "UPDATE eventbox.registrations SET name = '' WHERE id = %s", rid)
    refused(db, "registrations_expired_is_cancelled", "registrations",
            "UPDATE eventbox.registrations SET hold_expired_at = now() WHERE id = %s", rid)
    assert db.value("SELECT name FROM eventbox.registrations WHERE id = %s", rid) == "x" * 200


@pytest.mark.parametrize("constraint,cols", [
    ("outbox_kind_check", {"kind": "postcard"}),
    ("outbox_status_check", {"status": "lost"}),
    ("outbox_changes_check", {"changes": "[]"}),
    ("outbox_payload_check", {"kind": "webhook", "payload": "[1]"}),
    ("outbox_webhook_rows", {"payload": "{}"}),
])
def test_an_outbox_row_refuses_what_its_check_refused(db, make_event, constraint, cols):
    slug = make_event()
    rid = add_registration(db, slug)
    fields = {"kind": "confirmed", "email": "a@example.org", "name": "Ann"}
    fields.update(cols)
    names = ", ".join(fields)
    marks = ", ".join(["%s"] * len(fields))
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        db.all(f"INSERT INTO eventbox.outbox (registration_id, event_id, {names})"
               f" SELECT %s, id, {marks} FROM eventbox.events WHERE slug = %s",
               rid, *fields.values(), slug)
    assert e.value.diag.constraint_name == constraint
    assert e.value.diag.table_name == "outbox"
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE registration_id = %s",
                    rid) == 0


def test_a_token_refuses_a_hash_of_the_wrong_length(db, make_event):
    rid = add_registration(db, make_event())
    refused(db, "tokens_token_hash_check", "tokens",
            "INSERT INTO eventbox.tokens (token_hash, registration_id)"
            " VALUES (sha224('x'), %s)", rid)
    db.all("INSERT INTO eventbox.tokens (token_hash, registration_id)"
           " VALUES (sha256('x'), %s)", rid)


def test_the_tables_a_registration_writes_keep_only_the_seat_invariants_as_checks(db):
    names = {r[0] for r in db.all(
        "SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid IN"
        " ('eventbox.events'::regclass, 'eventbox.registrations'::regclass,"
        "  'eventbox.outbox'::regclass, 'eventbox.tokens'::regclass)")}
    assert names == SEAT_INVARIANTS


def test_no_trigger_on_a_registrations_path_has_a_when_clause(db):
    """A registration inserts into registrations, tokens and outbox and
    updates its event's counters: no trigger that fires on those has a WHEN
    clause (compiled per statement) or, on events, fires on an UPDATE that
    names only the counters, but counters_are_derived."""
    inserts = db.all(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
        " WHERE NOT tgisinternal AND tgqual IS NOT NULL AND tgtype & 4 <> 0"
        "   AND tgrelid IN ('eventbox.registrations'::regclass,"
        "                   'eventbox.tokens'::regclass, 'eventbox.outbox'::regclass)")
    assert inserts == []
    on_counters = db.all(
        "SELECT t.tgname FROM pg_trigger t WHERE NOT t.tgisinternal"
        "   AND t.tgrelid = 'eventbox.events'::regclass AND t.tgtype & 16 <> 0"
        "   AND (t.tgattr = '' OR EXISTS (SELECT 1 FROM unnest(t.tgattr::int2[]) a"
        "        JOIN pg_attribute p ON p.attrelid = t.tgrelid AND p.attnum = a"
        "        WHERE p.attname = ANY (%s)))", sorted(COUNTERS))
    assert on_counters == [("counters_are_derived",)]
    assert db.value("SELECT tgqual IS NULL FROM pg_trigger WHERE tgname ="
                    " 'counters_are_derived'")


def test_the_audit_trigger_names_every_event_column_but_the_counters(db):
    columns = {r[0] for r in db.all(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'eventbox.events'::regclass"
        " AND attnum > 0 AND NOT attisdropped")}
    named = {r[0] for r in db.all(
        "SELECT p.attname FROM pg_trigger t, unnest(t.tgattr::int2[]) a"
        "  JOIN pg_attribute p ON p.attnum = a"
        " WHERE t.tgname = 'audit_events' AND p.attrelid = t.tgrelid")}
    assert named == columns - COUNTERS


def test_the_counters_still_move_only_with_registrations(db, make_event):
    slug = make_event(capacity=5)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        db.all("UPDATE eventbox.events SET confirmed_count = confirmed_count + 1"
               " WHERE slug = %s", slug)
    # from inside a function, as from psql
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        db.all("DO $$ BEGIN UPDATE eventbox.events SET waitlisted_count = 7"
               " WHERE slug = '" + slug + "'; END $$")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        db.all("INSERT INTO eventbox.events (slug, title, capacity, starts_at, ends_at,"
               " cancelled_count) VALUES (%s, 'T', 1, now() + interval '1 day',"
               " now() + interval '2 days', 1)", "t-" + uuid.uuid4().hex[:12])
    # naming them unchanged is allowed, and a registration moves them
    db.all("UPDATE eventbox.events SET confirmed_count = confirmed_count, title = 'Renamed'"
           " WHERE slug = %s", slug)
    add_registration(db, slug)
    assert db.value("SELECT confirmed_count FROM eventbox.events WHERE slug = %s", slug) == 1
    # and the audit log saw the rename, not the counter move
    changes = db.all("SELECT action, details FROM eventbox.audit_log a"
                     " JOIN eventbox.events e ON e.id = a.event_id WHERE e.slug = %s"
                     " ORDER BY a.id", slug)
    assert [c[0] for c in changes] == ["event_created", "event_updated"]
    assert changes[1][1] == {"title": "Renamed", "was": {"title": f"Test event {slug}"}}


# --- The same answers as the CHECKs, value by value ---------------------------
#
# Each rule's CHECK as it stood before 019 (pg_get_constraintdef on fc34aa4;
# is_person_name(), is_email_address() and is_library_name() from
# sql/010_rules.sql written out), over one column named x.  For each column, many values: the row is
# refused exactly when one of the old CHECKs on that column says false, and
# the rule named in the error is one of those.

OLD_CHECKS = {
    ("events", "title", "text"): {
        "events_title_check": "(length(x) >= 1) AND (length(x) <= 300)",
        "events_title_one_line": "x !~ '[[:cntrl:]]'::text"},
    ("events", "slug", "text"): {
        "events_slug_check": "(x ~ '^[a-z0-9][a-z0-9-]{0,99}$'::text) AND (x !~ '^[0-9]+$'::text)"},
    ("events", "format", "text"): {
        "events_format_check": "x = ANY (ARRAY['online'::text, 'in_person'::text, 'hybrid'::text])"},
    ("events", "status", "text"): {
        "events_status_check": "x = ANY (ARRAY['draft'::text, 'published'::text, 'cancelled'::text])"},
    ("events", "location", "text"): {
        "events_location_one_line": "x !~ '[[:cntrl:]]'::text"},
    ("events", "presenter", "text"): {
        "events_presenter_one_line": "x !~ '[[:cntrl:]]'::text"},
    ("events", "online_url", "text"): {
        "events_online_url_check": "x ~ '^https?://[^[:space:]]+$'::text"},
    ("events", "audience", "text"): {
        "events_audience_check": "(length(x) <= 2000) AND (x !~ '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]'::text)"},
    ("events", "image_alt", "text"): {
        "events_image_alt_check": "length(x) <= 500"},
    ("events", "capacity", "integer"): {"events_capacity_check": "x >= 0"},
    ("events", "hold_minutes", "integer"): {
        "events_hold_minutes_check": "(x >= 1) AND (x <= 10080)"},
    ("events", "ical_sequence", "integer"): {"events_ical_sequence_check": "x >= 0"},
    ("events", "registrations_per_minute", "integer"): {
        "events_registrations_per_minute_check": "(x >= 1) AND (x <= 100000)"},
    ("events", "waitlist_capacity", "integer"): {"events_waitlist_capacity_check": "x >= 0"},
    ("registrations", "name", "text"): {
        "registrations_name_check": "(length(x) >= 1 AND length(x) <= 200) AND x !~ '[[:cntrl:]]'"},
    ("registrations", "email", "text"): {
        "registrations_email_check": "(length(x) >= 3 AND length(x) <= 254)"
                                     " AND x ~ '^[^[:space:][:cntrl:]@]+@[^[:space:][:cntrl:]@]+$'"},
    ("registrations", "organization", "text"): {
        "registrations_organization_check": "length(x) <= 200 AND x !~ '[[:cntrl:]]'"},
    ("registrations", "language", "text"): {
        "registrations_language_check": "x ~ '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$'::text"},
    # never a CHECK: an event's language (030_event_language.sql) is held
    # to the registrations' language rule, value by value
    ("events", "language", "text"): {
        "events_language_check": "x ~ '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$'::text"},
    ("registrations", "source", "text"): {
        "registrations_source_check": "x = ANY (ARRAY['web'::text, 'api'::text, 'staff'::text])"},
}

TEXTS = ["", " ", "a", "ab", "A b", "Łódź Public Library", "tab\there", "line\nbreak",
         "cr\rhere", "bell\x07", "del\x7f", "vt\x0b", "esc\x1b[0m", "nbsp\u00a0x",
         "zero\u200bwidth", "x" * 199, "x" * 200, "x" * 201, "x" * 253, "x" * 254,
         "x" * 255, "x" * 299, "x" * 300, "x" * 301, "x" * 500, "x" * 501, "x" * 2000,
         "x" * 2001, "a@b", "a@b.c", "@b.c", "a@", "a b@c.org", "a@@b.org", "a@b@c.org",
         "ann.reader+tag@library.example.org", "a" * 242 + "@example.org",
         "a" * 243 + "@example.org", "https://x", "http://meet.example.org/a?b=c",
         "https://a b", "ftp://x", "https://", "/static/a.png", "/static/../x",
         "/static/a..b", "UPPER", "123", "0", "a-b", "-ab", "a--b", "a" * 100,
         "a" * 101, "en", "es", "pt-BR", "en_US", "zh-Hant", "english", "e", "EN",
         "en-", "online", "in_person", "hybrid", "Online", "draft", "published",
         "cancelled", "archived", "web", "api", "staff", "fax", None]
INTEGERS = [-100000, -1, 0, 1, 2, 20, 10079, 10080, 10081, 99999, 100000, 100001,
            2000000000, None]


@pytest.mark.parametrize("table,column,kind", list(OLD_CHECKS))
def test_the_triggers_refuse_exactly_what_the_old_checks_refused(make_event, table,
                                                                 column, kind):
    rules = OLD_CHECKS[(table, column, kind)]
    slug = make_event()
    conn = connect()
    conn.autocommit = False
    tried = refused_n = 0
    try:
        with conn.cursor() as cur:
            if table == "registrations":
                cur.execute("INSERT INTO eventbox.registrations (event_id, name, email,"
                            " status, source) SELECT id, 'Ann', 'ann@example.org',"
                            " 'confirmed', 'staff' FROM eventbox.events WHERE slug = %s"
                            " RETURNING id", (slug,))
            else:
                cur.execute("SELECT id FROM eventbox.events WHERE slug = %s", (slug,))
            row_id = cur.fetchone()[0]
            for v in (TEXTS if kind == "text" else INTEGERS):
                failing = set()
                for rule, expr in rules.items():
                    cur.execute(f"SELECT ({expr}) FROM (SELECT %s::{kind} AS x) s", (v,))
                    if cur.fetchone()[0] is False:
                        failing.add(rule)
                cur.execute("SAVEPOINT v")
                try:
                    cur.execute(f"UPDATE eventbox.{table} SET {column} = %s WHERE id = %s",
                                (v, row_id))
                    got = None
                except psycopg2.errors.CheckViolation as e:
                    got = e.diag.constraint_name
                    # No rule on the value: a new address is refused to a
                    # plain UPDATE once every value rule passed it (it
                    # fires after them), correct_registration() takes it.
                    if got == "registrations_email_correction":
                        got = None
                except psycopg2.errors.NotNullViolation:
                    got = "not null"
                cur.execute("ROLLBACK TO SAVEPOINT v")
                if got == "not null":
                    assert v is None
                    continue
                tried += 1
                if failing:
                    refused_n += 1
                    assert got in failing, (column, v, got, failing)
                else:
                    assert got is None, (column, v, got)
    finally:
        conn.rollback()
        conn.close()
    # the values cover both answers for every column
    assert 0 < refused_n < tried


def test_rules_save_event_words_hold_for_plain_sql_too(db, make_event):
    """A cancelled event stays cancelled, and registration opens before it
    closes and before the start, whoever writes the row (here the owner)."""
    slug = make_event()
    for sql, rule in (
            ("registration_opens_at = starts_at", "registration_opens_before_start"),
            ("registration_opens_at = starts_at + interval '1 day'",
             "registration_opens_before_start"),
            ("registration_opens_at = now(), registration_closes_at = now()",
             "registration_closes_after_opens"),
            ("starts_at = now() - interval '2 days', ends_at = now() - interval '1 day',"
             " registration_opens_at = now() - interval '1 day'",
             "registration_opens_before_start")):
        refused(db, rule, "events",
                f"UPDATE eventbox.events SET {sql} WHERE slug = %s", slug)
    db.all("UPDATE eventbox.events SET registration_opens_at = now(),"
           " registration_closes_at = now() + interval '1 day' WHERE slug = %s", slug)
    db.all("UPDATE eventbox.events SET status = 'cancelled' WHERE slug = %s", slug)
    for status in ("published", "draft"):
        refused(db, "cancelled_stays_cancelled", "events",
                "UPDATE eventbox.events SET status = %s WHERE slug = %s", status, slug)
    db.all("UPDATE eventbox.events SET status = 'cancelled' WHERE slug = %s", slug)
    assert db.value("SELECT status FROM eventbox.events WHERE slug = %s", slug) == "cancelled"


def hint_of(db, sql, *args):
    """The HINT of the error a statement gets (and that it shows no row)."""
    with pytest.raises(psycopg2.Error) as e:
        db.all(sql, *args)
    assert e.value.diag.message_detail is None or "Failing row" not in e.value.diag.message_detail
    return e.value.pgcode, e.value.diag.constraint_name, e.value.diag.message_hint


def test_a_cancelled_event_takes_no_change_by_plain_sql_either(db, make_event):
    """save_event(), set_capacity() and the API refused any change to a
    cancelled event, but a plain UPDATE moved its start and raised its
    capacity (and its page and .ics showed the new time)."""
    slug = make_event(capacity=2)
    db.all("UPDATE eventbox.events SET status = 'cancelled' WHERE slug = %s", slug)
    # The zone moved the times its page and .ics showed (told to nobody);
    # members_only and confirmation_required slipped through as well.
    for change in ("starts_at = starts_at + interval '1 day',"
                   " ends_at = ends_at + interval '1 day'",
                   "capacity = 50", "title = 'Back on'", "location = 'Room 9'",
                   "timezone = 'America/Los_Angeles'", "members_only = true",
                   "confirmation_required = true"):
        code, rule, hint = hint_of(db, f"UPDATE eventbox.events SET {change} WHERE slug = %s",
                                   slug)
        assert (code, rule) == ("23514", "cancelled_stays_cancelled"), change
        assert "Create a new event" in hint
    db.all("UPDATE eventbox.events SET title = title WHERE slug = %s", slug)   # no change
    # Its address and its lists are staff's housekeeping: the slug goes to
    # the event that replaces it, the categories take it out of a list.
    db.all("UPDATE eventbox.events SET slug = slug || '-off', categories = '{}'"
           " WHERE slug = %s", slug)
    assert db.value("SELECT status FROM eventbox.events WHERE slug = %s",
                    slug + "-off") == "cancelled"


def test_the_row_rules_fire_on_every_event_column_staff_may_update(db):
    """A column staff may UPDATE at psql that events_row_checks was not
    named for went past its rules: a cancelled event's time zone (its page
    and .ics showed other times, told to nobody), members_only and
    confirmation_required."""
    writable = {r[0] for r in db.all(
        "SELECT column_name FROM information_schema.column_privileges"
        " WHERE table_schema = 'eventbox' AND table_name = 'events'"
        "   AND grantee = 'eventbox_ops' AND privilege_type = 'UPDATE'")}
    named = {r[0] for r in db.all(
        "SELECT p.attname FROM pg_trigger t, unnest(t.tgattr::int2[]) a"
        "  JOIN pg_attribute p ON p.attnum = a"
        " WHERE t.tgname = 'events_row_checks' AND p.attrelid = t.tgrelid")}
    assert "timezone" in writable
    assert writable - named == set()


def test_plain_sql_creates_no_event_save_event_refuses(db, make_event):
    """A year 0099 (published, with an .ics that named another year) and an
    event born cancelled were accepted by a plain INSERT."""
    slug = "t-" + uuid.uuid4().hex[:12]
    insert = ("INSERT INTO eventbox.events (slug, title, starts_at, ends_at, capacity, status)"
              " VALUES (%s, 'T', %s::timestamptz, %s::timestamptz + interval '1 hour', 1, %s)")
    code, rule, hint = hint_of(db, insert, slug, "0099-01-01 10:00", "0099-01-01 10:00",
                               "published")
    assert (code, rule) == ("23514", "events_times_in_range") and "1970 and 9998" in hint
    code, rule, hint = hint_of(db, insert, slug, "2031-01-01 10:00", "2031-01-01 10:00",
                               "cancelled")
    assert (code, rule) == ("23514", "events_status_check") and "set_status" in hint
    slug = make_event()
    code, rule, _ = hint_of(db, "UPDATE eventbox.events SET registration_opens_at ="
                            " '0099-01-01' WHERE slug = %s", slug)
    assert rule == "events_times_in_range"


def test_plain_sql_refusals_staff_meet_say_what_to_do(db, make_event):
    """A waiting-list limit lowered below the people waiting named a bare
    CHECK and dumped the row; deleting a member library or an event that
    registrations name gave a foreign key's name; a domain in capitals its
    CHECK's."""
    slug = make_event(capacity=1)
    db.all("UPDATE eventbox.events SET waitlist_capacity = 5 WHERE slug = %s", slug)
    org = "Lib " + uuid.uuid4().hex[:8]
    domain = uuid.uuid4().hex[:8] + ".example.org"
    db.all("INSERT INTO eventbox.organizations (name, domains) VALUES (%s, %s)", org, [domain])
    for i in range(3):
        db.all("SELECT eventbox.staff_register(%s, 'P', %s, %s)", slug,
               f"p{i}-{uuid.uuid4().hex[:6]}@{domain}", org)
    code, rule, hint = hint_of(db, "UPDATE eventbox.events SET waitlist_capacity = 1"
                               " WHERE slug = %s", slug)
    assert (code, rule) == ("23514", "waitlist_never_overfull") and "2 waiting" in hint
    code, rule, hint = hint_of(db, "UPDATE eventbox.events SET capacity = 0 WHERE slug = %s",
                               slug)
    assert (code, rule) == ("23514", "seats_never_oversold") and "1 confirmed" in hint
    code, rule, hint = hint_of(db, "DELETE FROM eventbox.organizations WHERE name = %s", org)
    assert (code, rule) == ("23503", "registrations_organization_id_fkey")
    assert "domains" in hint
    code, rule, hint = hint_of(db, "DELETE FROM eventbox.events WHERE slug = %s", slug)
    assert (code, rule) == ("23503", "registrations_event_id_fkey") and "set_status" in hint
    code, rule, hint = hint_of(db, "UPDATE eventbox.organizations SET domains = %s"
                               " WHERE name = %s", [domain.upper()], org)
    assert (code, rule) == ("23514", "organizations_domains_check") and "lower case" in hint


@pytest.mark.parametrize("constraint,column,bad,good", EVENT_RULES + [
    ("image_has_alt", "image_path", "/static/a.png", None),
    ("ends_after_start", "ends_at", "2000-01-01T00:00:00Z", None),
    ("events_times_in_range", "registration_closes_at", "9999-06-01T00:00:00Z", None),
])
def test_event_problem_names_every_rule_the_trigger_raises(db, make_event, constraint,
                                                            column, bad, good):
    """event_problem(), what save_event() and set_status() answer by (422
    naming the field), worded slugs, titles, texts and times but not the
    categories, learning outcomes, image, limits or status: an old event
    holding such a value got the API's bare 409.  The trigger now refuses a
    row by event_problem() itself, so each rule it raises has a field and
    words."""
    slug = make_event()
    rule, field, message = db.one(
        "SELECT p.rule, p.field, p.message FROM eventbox.events e,"
        " eventbox.event_problem(jsonb_populate_record(e, jsonb_build_object(%s, %s::jsonb))) p"
        " WHERE e.slug = %s", column, json.dumps(bad), slug)
    assert rule == constraint
    assert field == ("image_alt" if constraint == "image_has_alt" else column)
    assert message
    assert db.one("SELECT p.* FROM eventbox.events e, eventbox.event_problem(e) p"
                  " WHERE e.slug = %s", slug) == (None, None, None)


@pytest.mark.parametrize("column,value,rule,words,good", [
    ("description", "Ding\x07", "events_description_check",
     "description must be at most 20000 characters", "Ding"),
    ("image_path", "/tmp/x.png", "events_image_path_check",
     "image_path must be a path under /static/", None),
    ("categories", ["Talk\r\nATTENDEE:x"], "events_categories_check",
     "categories must be a list of one-line texts", ["Talk"]),
])
def test_a_plain_update_of_an_old_event_says_which_column_to_correct(
        db, make_event, column, value, rule, words, good):
    """set_status() named the field an older release stored and said how to
    correct it, but a plain UPDATE of the status (or of anything else) at
    psql got the row rule's name alone.  It gets a hint naming the column,
    what it must be, and that an older release stored it; corrected in the
    same UPDATE, as the hint says, the change goes through."""
    slug = make_event(status="draft")
    stored_by_an_older_release(slug, column, value)
    for change in ("status = 'published'", "title = 'Renamed'"):
        code, got, hint = hint_of(db, f"UPDATE eventbox.events SET {change} WHERE slug = %s",
                                  slug)
        assert (code, got) == ("23514", rule), change
        assert hint.startswith(words) and "older release" in hint, hint
        assert f"SET {column} = ..." in hint, hint
    db.all(f"UPDATE eventbox.events SET status = 'published', {column} = %s WHERE slug = %s",
           good, slug)
    assert db.value("SELECT status FROM eventbox.events WHERE slug = %s", slug) == "published"


def test_a_value_written_now_is_not_said_to_be_an_older_releases(db, make_event):
    slug = make_event()
    code, got, hint = hint_of(db, "UPDATE eventbox.events SET presenter = 'A\nB'"
                              " WHERE slug = %s", slug)
    assert (code, got) == ("23514", "events_presenter_one_line")
    assert hint == "presenter must be one line, without control characters."
    # nor a column the UPDATE left as it was, when another one broke a rule
    # over both
    code, got, hint = hint_of(db, "UPDATE eventbox.events SET starts_at = ends_at"
                              " WHERE slug = %s", slug)
    assert (code, got) == ("23514", "ends_after_start")
    assert hint == "ends_at must be after starts_at."
    # nor a column of the same rule the UPDATE wrote, when the old row broke
    # it in another (events_times_in_range covers four columns)
    slug = make_event()
    stored_by_an_older_release(slug, "starts_at", "0099-01-01 10:00+00")
    code, got, hint = hint_of(db, "UPDATE eventbox.events SET starts_at = '2031-01-01 10:00+00',"
                              " ends_at = '0099-06-01 10:00+00' WHERE slug = %s", slug)
    assert (code, got) == ("23514", "events_times_in_range")
    assert hint.startswith("ends_at ") and "older release" not in hint, hint
