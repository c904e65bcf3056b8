"""The layout of sql/ and what `eventbox migrate` does with it.

sql/NNN_*.sql hold what holds data and are applied once each; sql/rules/
hold the one current definition of every function, trigger, view and
grant, re-applied in one transaction when their checksum changes.

The upgrade test builds a database the way the last release before that
layout did (its own binary, built from git history, migrating with its own
sql/), fills every table, upgrades it with this tree's binary, and checks
that every row is still there, that its schema is exactly a fresh
install's, and that the seat rules still hold under concurrent load.
Databases of the releases around the renumbered migrations (024-026) are
made from those trees' sql/ alone and upgraded the same way.
"""
import glob
import json
import os
import re
import subprocess
import threading
import uuid

import psycopg2
import pytest

from conftest import ROOT, env

OLD_RELEASE = "6d92726"     # the last commit with the old layout (001-009)
SQL = os.path.join(ROOT, "sql")

BIN = os.environ.get("EVENTBOX_BIN", os.path.join(ROOT, "eventbox"))
if not os.path.isabs(BIN):
    BIN = os.path.join(ROOT, BIN)


# --- the files, read statically -------------------------------------------------

DEFINITION = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|VIEW|MATERIALIZED\s+VIEW|TRIGGER)"
    r"\s+([\w.\"]+)\s*(\([^;]*?\)\s*(?:RETURNS|LANGUAGE|AS)\b)?", re.I | re.S)
GRANT = re.compile(r"^\s*(GRANT|REVOKE)\b", re.I | re.M)

# The functions outside sql/rules/: CHECKs on tables call them, and a fresh
# database runs the numbered files before any rule file (see
# sql/001_core.sql and sql/010_rules.sql).  is_valid_timezone() no longer
# has a CHECK that calls it (015); its current definition is a rule
# (sql/rules/20_time.sql), which replaces 001's first one.
FIRST_IN_A_MIGRATION = {("FUNCTION", "eventbox.is_valid_timezone"): "001_core.sql"}
SCHEMA_FUNCTIONS = {
    ("FUNCTION", "eventbox.is_valid_timezone", "001_core.sql"),
    ("FUNCTION", "eventbox.is_person_name", "010_rules.sql"),
    ("FUNCTION", "eventbox.is_email_address", "010_rules.sql"),
    ("FUNCTION", "eventbox.is_library_name", "010_rules.sql"),
}


def sql_files():
    return sorted(glob.glob(os.path.join(SQL, "*.sql"))
                  + glob.glob(os.path.join(SQL, "rules", "*.sql")))


def strip_comments(text):
    return re.sub(r"--[^\n]*", "", text)


def definitions(path):
    """(kind, name, signature) of each CREATE in a file; a trigger's name
    includes its table (two tables may have triggers of the same name)."""
    text = strip_comments(open(path).read())
    found = []
    for m in DEFINITION.finditer(text):
        kind = re.sub(r"\s+", " ", m.group(1).upper())
        name = m.group(2).lower()
        sig = ""
        if kind == "TRIGGER":
            on = re.search(r"\bON\s+([\w.]+)", text[m.end():])
            name += " on " + on.group(1).lower()
        elif kind in ("FUNCTION", "PROCEDURE") and m.group(3):
            sig = re.sub(r"\s+", " ", m.group(3))
        found.append((kind, name, sig))
    return found


def test_each_function_view_and_trigger_is_defined_in_exactly_one_file():
    where = {}
    for path in sql_files():
        rel = os.path.relpath(path, SQL)
        seen = set()
        for kind, name, sig in definitions(path):
            assert (kind, name, sig) not in seen, f"{kind} {name} twice in {rel}"
            seen.add((kind, name, sig))
            where.setdefault((kind, name), set()).add(rel)
    assert len(where) >= 75, "the parser found too little: check DEFINITION"
    for kn, first in FIRST_IN_A_MIGRATION.items():
        rules = sorted(f for f in where.get(kn, ()) if f.startswith("rules" + os.sep))
        assert len(rules) == 1 and where[kn] == {first, rules[0]}, (kn, where.get(kn))
        where[kn] = {rules[0]}
    twice = {f"{k} {n}": sorted(f) for (k, n), f in where.items() if len(f) > 1}
    assert twice == {}, f"defined in more than one file: {twice}"


def test_numbered_migrations_hold_no_functions_views_triggers_or_grants():
    for path in sorted(glob.glob(os.path.join(SQL, "[0-9][0-9][0-9]_*.sql"))):
        rel = os.path.basename(path)
        for kind, name, _ in definitions(path):
            assert (kind, name, rel) in SCHEMA_FUNCTIONS, \
                f"{rel} defines {kind} {name}: put it in sql/rules/"
        assert not GRANT.search(strip_comments(open(path).read())), \
            f"{rel} grants or revokes: grants live in sql/rules/90_grants.sql"


def test_rule_files_hold_no_tables_columns_or_indexes():
    data = re.compile(r"\b(CREATE\s+(TABLE|INDEX|UNIQUE|DOMAIN|ROLE|SEQUENCE)|ALTER\s+TABLE)\b",
                      re.I)
    for path in glob.glob(os.path.join(SQL, "rules", "*.sql")):
        m = data.search(strip_comments(open(path).read()))
        assert m is None, f"{os.path.basename(path)}: {m.group(0)} belongs in a numbered file"


def test_no_sql_file_is_over_500_lines():
    long = {os.path.relpath(p, SQL): n for p in sql_files()
            if (n := len(open(p).read().splitlines())) > 500}
    assert long == {}


def test_the_field_limits_are_typed_once_in_sql():
    """200 and 254 (name, email, organization) live in the predicates of 010
    that the columns' CHECKs call; no rule file restates them."""
    for path in glob.glob(os.path.join(SQL, "rules", "*.sql")):
        text = strip_comments(open(path).read())
        assert not re.search(r"length\([^)]*\)\s*(>|<=?|BETWEEN[^)]*AND)\s*(200|254)\b",
                             text, re.I), os.path.basename(path)


# --- databases of their own on the test cluster ---------------------------------

def superuser(dbname="postgres"):
    conn = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"), dbname=dbname,
                            user="postgres")
    conn.autocommit = True
    return conn


def dsn(dbname):
    return (f"host={env('PGHOST')} port={env('PGPORT')} dbname={dbname}"
            f" user={env('PGUSER')}")


def owner(dbname):
    conn = psycopg2.connect(dsn(dbname))
    conn.autocommit = True
    return conn


def rows(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else []


def migrate(binary, dbname, sql_dir, check=True):
    e = dict(os.environ, EVENTBOX_DSN=dsn(dbname), EVENTBOX_SQL_DIR=sql_dir,
             EVENTBOX_LOG_FILE="")
    out = subprocess.run([binary, "migrate"], env=e, capture_output=True, text=True,
                         timeout=300, cwd=os.path.dirname(sql_dir))
    if check:
        assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def databases():
    made = []

    def make():
        name = "eventbox_up_" + uuid.uuid4().hex[:8]
        su = superuser()
        rows(su, f"CREATE DATABASE {name} OWNER {env('PGUSER')}")
        su.close()
        made.append(name)
        return name
    yield make
    su = superuser()
    for name in made:
        rows(su, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    su.close()


@pytest.fixture(scope="module")
def old_release(tmp_path_factory):
    """The release before sql/rules/: its source from git history, built."""
    d = tmp_path_factory.mktemp("old-release")
    archive = subprocess.run(["git", "-C", ROOT, "archive", OLD_RELEASE],
                             capture_output=True, timeout=120)
    assert archive.returncode == 0, archive.stderr.decode()
    subprocess.run(["tar", "-x", "-C", str(d)], input=archive.stdout, check=True)
    build = subprocess.run(["make", "-C", str(d), "eventbox"], capture_output=True,
                           text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    return {"bin": str(d / "eventbox"), "sql": str(d / "sql")}


def fill(conn):
    """Rows in every table, through the old release's own functions where
    it had them: registrations in every state, outbox rows pending, sent
    and failed, audit rows, API keys (one revoked), member libraries,
    idempotency keys, tokens, and the counts a purge keeps."""
    q = lambda sql, *a: rows(conn, sql, *a)  # noqa: E731
    q("INSERT INTO eventbox.organizations (name, domains)"
      " VALUES ('Ashby Public Library', '{ashby.example.org}'),"
      " ('Birch Consortium', '{birch.example.org,birch.example.net}')")
    q("SELECT eventbox.api_key_create('desk', 'ebk_desk-secret')")
    q("SELECT eventbox.api_key_create('old-kiosk', 'ebk_kiosk-secret')")
    q("SELECT eventbox.api_key_revoke('old-kiosk')")
    for slug, cap, members in (("upg-open", 3, False), ("upg-members", 2, True)):
        q("INSERT INTO eventbox.events (slug, title, capacity, status, starts_at, ends_at,"
          " online_url, members_only, timezone)"
          " VALUES (%s, %s, %s, 'published', now() + interval '9 days',"
          " now() + interval '9 days 2 hours', 'https://meet.example.org/x', %s,"
          " 'America/Chicago')", slug, "Upgrade " + slug, cap, members)
    for i in range(7):      # 3 confirmed, 4 waiting
        q("SELECT * FROM eventbox.register('upg-open', %s, %s, 'Ashby', 'api', NULL, %s)",
          f"Patron {i}", f"p{i}@ashby.example.org", f"idem-{i}")
    q("SELECT * FROM eventbox.register('upg-members', 'Member', 'm@birch.example.net',"
      " NULL, 'web')")
    q("SELECT * FROM eventbox.staff_register('upg-members', 'Walk In', 'walk@example.com',"
      " 'Desk', 'ebk_desk-secret')")
    # cancel a confirmed seat by token: the first waiting is promoted
    token = q("SELECT token FROM eventbox.outbox WHERE email = 'p0@ashby.example.org'"
              " AND kind = 'confirmed'")[0][0]
    q("SELECT * FROM eventbox.cancel(%s)", token)
    # take the last off the waiting list, check someone in, add a seat
    # (promotes one more; one stays waiting)
    waiting = q("SELECT id FROM eventbox.registrations WHERE status = 'waitlisted'"
                " ORDER BY id DESC LIMIT 1")[0][0]
    q("SELECT * FROM eventbox.cancel_registration(%s::bigint)", waiting)
    confirmed = q("SELECT id FROM eventbox.registrations WHERE status = 'confirmed'"
                  " ORDER BY id LIMIT 1")[0][0]
    q("SELECT * FROM eventbox.check_in(%s::bigint)", confirmed)
    q("SELECT * FROM eventbox.set_capacity('upg-open', 4, NULL)")
    # the outbox: some sent, one failed for good, the rest pending
    ids = [r[0] for r in q("SELECT id FROM eventbox.outbox ORDER BY id")]
    q("SELECT eventbox.mail_sent(%s)", ids[0])
    q("SELECT eventbox.mail_sent(%s)", ids[1])
    q("SELECT eventbox.mail_failed(%s, '550 no such user', 1, 1000)", ids[2])
    q("SELECT eventbox.mail_failed(%s, '451 try later', 5, 1000)", ids[3])
    # an event that ended long ago, purged: event_stats and 'event_purged'
    q("INSERT INTO eventbox.events (slug, title, capacity, status, starts_at, ends_at)"
      " VALUES ('upg-past', 'Long ago', 10, 'published', now() - interval '400 days',"
      " now() - interval '400 days' + interval '1 hour')")
    q("INSERT INTO eventbox.registrations (event_id, name, email, status)"
      " SELECT id, 'Gone', 'gone@example.org', 'confirmed' FROM eventbox.events"
      " WHERE slug = 'upg-past'")
    q("SELECT eventbox.purge(30)")
    # what the old release took at psql and today's row rules refuse: a
    # start in year 99, registration "closing" in 9999, a control character
    # in a description, an event created cancelled; and a link typed as a
    # name (the service refuses it now)
    for slug, cols, vals in (
            ("upg-year99", "starts_at, ends_at",
             "'0099-06-01 10:00+00', '0099-06-01 11:00+00'"),
            ("upg-far", "starts_at, ends_at, registration_closes_at",
             "now() + interval '5 days', now() + interval '5 days 1 hour',"
             " '9999-12-31 00:00+00'"),
            ("upg-bell", "starts_at, ends_at, description",
             "now() + interval '6 days', now() + interval '6 days 1 hour', 'Ding' || chr(7)")):
        q(f"INSERT INTO eventbox.events (slug, title, capacity, status, {cols})"
          f" VALUES ('{slug}', 'Old rules', 5, 'published', {vals})")
        q("INSERT INTO eventbox.registrations (event_id, name, email, status)"
          " SELECT id, 'Kept', %s, 'confirmed' FROM eventbox.events WHERE slug = %s",
          f"kept@{slug}.example.org", slug)
    q("INSERT INTO eventbox.events (slug, title, capacity, status, starts_at, ends_at)"
      " VALUES ('upg-born-cancelled', 'Born cancelled', 5, 'cancelled',"
      " now() + interval '7 days', now() + interval '7 days 1 hour')")
    q("SELECT * FROM eventbox.register('upg-far', 'Gift card at https://lure.example/x',"
      " 'victim@example.org', NULL, 'api')")
    # plain-SQL event edits by staff, audited by trigger
    q("UPDATE eventbox.events SET title = 'Upgrade, renamed' WHERE slug = 'upg-members'")
    q("INSERT INTO eventbox.events (slug, title, capacity, starts_at, ends_at)"
      " VALUES ('upg-draft', 'Draft', 1, now() + interval '30 days',"
      " now() + interval '30 days 1 hour')")


def snapshot(conn):
    tables = [r[0] for r in rows(conn, "SELECT tablename FROM pg_tables"
                                 " WHERE schemaname = 'eventbox' ORDER BY 1")]
    return {t: sorted(r[0] for r in rows(conn, f"SELECT to_jsonb(t)::text"
                                                f" FROM eventbox.{t} t"))
            for t in tables}


def kept_columns(rows_now, rows_before):
    """rows_now (to_jsonb texts) with only the columns rows_before had."""
    keys = set()
    for r in rows_before:
        keys |= json.loads(r).keys()
    return sorted(json.dumps({k: v for k, v in json.loads(r).items() if k in keys},
                             sort_keys=True) for r in rows_now)


def schema(dbname):
    pg_bin = os.environ.get("EVENTBOX_PG_BIN") or sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(p.split("/")[-2]))[-1]
    out = subprocess.run([os.path.join(pg_bin, "pg_dump"), "--schema-only",
                          "--no-owner", dsn(dbname)],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    # Statements in a stable order; comments, blank lines and psql's
    # \restrict key (random per dump) are not schema.
    out = "\n".join(line for line in out.splitlines()
                    if line.strip() and not line.startswith("--")
                    and not line.startswith("\\"))
    return sorted(s.strip() for s in out.split(";\n"))


@pytest.fixture(scope="module")
def upgraded(old_release, databases):
    name = databases()
    out = migrate(old_release["bin"], name, old_release["sql"])
    assert "applied 009_revoked_keys.sql" in out.stderr, out.stderr
    conn = owner(name)
    fill(conn)
    before = snapshot(conn)
    out = migrate(BIN, name, SQL)
    assert "applied 010_rules.sql" in out.stderr, out.stderr
    assert re.search(r"applied \d+ rule files", out.stderr), out.stderr
    yield {"name": name, "conn": conn, "before": before}
    conn.close()


def test_an_old_database_keeps_every_row_through_the_upgrade(upgraded):
    before, after = upgraded["before"], snapshot(upgraded["conn"])
    for table in ("events", "registrations", "tokens", "outbox", "idempotency_keys",
                  "api_keys", "organizations", "audit_log", "event_stats"):
        assert len(before[table]) > 0, f"fill() left {table} empty"
    for table, old in before.items():
        new = after[table]
        if table == "migrations":
            # Every old version stays; the new ones are the files after 009.
            assert set(old) <= set(new)
            added = sorted(json.loads(r)["name"] for r in set(new) - set(old))
            assert added == sorted(os.path.basename(p) for p in glob.glob(
                os.path.join(SQL, "[0-9][0-9][0-9]_*.sql"))
                if int(os.path.basename(p)[:3]) > 9), added
        else:
            # Every row keeps every value; columns added since are left out.
            assert kept_columns(new, old) == sorted(
                json.dumps(json.loads(r), sort_keys=True) for r in old), table
    # Calendar entries sent before carry SEQUENCE = seconds since creation:
    # the upgraded event's next one is higher than any of them.
    assert rows(upgraded["conn"], "SELECT count(*) FROM eventbox.events WHERE ical_sequence"
                " < extract(epoch FROM updated_at - created_at)::bigint") == [(0,)]
    states = dict(rows(upgraded["conn"], "SELECT status, count(*) FROM eventbox.registrations"
                                         " GROUP BY 1"))
    assert set(states) == {"confirmed", "waitlisted", "cancelled"}
    assert rows(upgraded["conn"], "SELECT count(*) FROM eventbox.registrations"
                                  " WHERE promoted_at IS NOT NULL")[0][0] >= 1
    assert rows(upgraded["conn"], "SELECT count(*) FROM eventbox.registrations"
                                  " WHERE attended_at IS NOT NULL")[0][0] == 1
    outbox = dict(rows(upgraded["conn"], "SELECT status, count(*) FROM eventbox.outbox"
                                         " GROUP BY 1"))
    assert set(outbox) == {"pending", "sent", "failed"}


def test_an_old_releases_events_are_english_and_staff_can_mark_them_in_one_update(
        upgraded):
    """030_event_language.sql: the old pages showed every event's text
    unmarked, read as English; staff who wrote in another language say so
    with the one UPDATE docs/OPS.md gives, which reaches every event: the
    cancelled, the one created cancelled and those holding a value an
    older release took (a control character, year 99), whose other
    changes today's rules hold until corrected."""
    conn = upgraded["conn"]
    slugs = sorted(json.loads(r)["slug"] for r in upgraded["before"]["events"])
    assert "upg-bell" in slugs and "upg-born-cancelled" in slugs
    langs = dict(rows(conn, "SELECT slug, language FROM eventbox.events"
                            " WHERE slug = ANY (%s)", slugs))
    assert langs == {slug: "en" for slug in slugs}
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        try:
            cur.execute("UPDATE eventbox.events SET language = 'es'")
            cur.execute("SELECT slug, language FROM eventbox.events"
                        " WHERE slug = ANY (%s)", (slugs,))
            assert dict(cur.fetchall()) == {slug: "es" for slug in slugs}
            # only the language: a title change to the old event is still held
            cur.execute("SAVEPOINT s")
            with pytest.raises(psycopg2.errors.CheckViolation):
                cur.execute("UPDATE eventbox.events SET title = 'New', language = 'fr'"
                            " WHERE slug = 'upg-bell'")
            cur.execute("ROLLBACK TO SAVEPOINT s")
            with pytest.raises(psycopg2.errors.CheckViolation) as e:
                cur.execute("UPDATE eventbox.events SET language = 'Spanish'"
                            " WHERE slug = 'upg-bell'")
            assert e.value.diag.constraint_name == "events_language_check"
        finally:
            cur.execute("ROLLBACK")


@pytest.fixture(scope="module")
def fresh_schema(databases):
    fresh = databases()
    out = migrate(BIN, fresh, SQL)
    assert "applied 001_core.sql" in out.stderr
    return schema(fresh)


def same_schema(dbname, fresh):
    old = schema(dbname)
    only_old = [s for s in old if s not in fresh]
    only_new = [s for s in fresh if s not in old]
    assert (only_old, only_new) == ([], [])


def test_an_upgraded_database_has_exactly_a_fresh_installs_schema(upgraded, fresh_schema):
    same_schema(upgraded["name"], fresh_schema)


def test_the_seat_rules_hold_under_concurrent_load_on_an_upgraded_database(upgraded):
    """40 concurrent register() calls on 5 seats, each in its own session
    of the service's role: exactly 5 confirmed, the waiting list in
    arrival order without gaps; then a cancellation promotes the first in
    line, in the same transaction."""
    conn = upgraded["conn"]
    slug = "upg-race-" + uuid.uuid4().hex[:6]
    rows(conn, "INSERT INTO eventbox.events (slug, title, capacity, status, starts_at,"
               " ends_at) VALUES (%s, 'Race', 5, 'published', now() + interval '3 days',"
               " now() + interval '3 days 1 hour')", slug)
    answers, errors = [], []
    start = threading.Barrier(40)

    def attempt(i):
        try:
            c = psycopg2.connect(dsn(upgraded["name"]).replace(
                f"user={env('PGUSER')}", "user=eventbox_app"))
            c.autocommit = True
            start.wait(timeout=30)
            with c.cursor() as cur:
                cur.execute("SELECT outcome, position FROM eventbox.register(%s, %s, %s,"
                            " NULL, 'api')", (slug, f"Racer {i}", f"r{i}@example.org"))
                answers.append(cur.fetchone())
            c.close()
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    outcomes = [a[0] for a in answers]
    assert outcomes.count("confirmed") == 5 and outcomes.count("waitlisted") == 35
    positions = sorted(a[1] for a in answers if a[0] == "waitlisted")
    assert positions == list(range(1, 36))
    summary = rows(conn, "SELECT confirmed, waitlisted, seats_available"
                         " FROM eventbox.event_summary WHERE slug = %s", slug)[0]
    assert summary == (5, 35, 0)
    # the waiting list is in id (arrival) order, as the roster shows it
    roster = rows(conn, "SELECT registration_id, position FROM eventbox.roster"
                        " WHERE slug = %s AND status = 'waitlisted' ORDER BY position", slug)
    assert [r[1] for r in roster] == list(range(1, 36))
    assert [r[0] for r in roster] == sorted(r[0] for r in roster)
    first_waiting = roster[0][0]

    reg = rows(conn, "SELECT r.id FROM eventbox.registrations r JOIN eventbox.events e"
                     " ON e.id = r.event_id WHERE e.slug = %s AND r.status = 'confirmed'"
                     " ORDER BY r.id LIMIT 1", slug)[0][0]
    token = rows(conn, "SELECT token FROM eventbox.outbox WHERE registration_id = %s"
                       " AND kind = 'confirmed'", reg)[0][0]
    assert rows(conn, "SELECT outcome, promoted FROM eventbox.cancel(%s)", token) \
        == [("cancelled", 1)]
    assert rows(conn, "SELECT status FROM eventbox.registrations WHERE id = %s",
                first_waiting) == [("confirmed",)]
    assert rows(conn, "SELECT count(*) FROM eventbox.outbox WHERE registration_id = %s"
                      " AND kind = 'promoted'", first_waiting) == [(1,)]
    assert rows(conn, "SELECT confirmed, waitlisted FROM eventbox.event_summary"
                      " WHERE slug = %s", slug) == [(5, 34)]


def test_every_function_view_and_trigger_in_the_database_is_in_the_files(upgraded):
    """What the files define is what an upgraded database holds: nothing
    left over from the old layout (no dead bodies), nothing the parser of
    the static tests missed."""
    parsed = set()
    for path in sql_files():
        parsed |= {(k.replace("MATERIALIZED VIEW", "VIEW"), n) for k, n, _ in definitions(path)}
    held = set(rows(upgraded["conn"], """
        SELECT 'FUNCTION', 'eventbox.' || proname FROM pg_proc
         WHERE pronamespace = 'eventbox'::regnamespace
        UNION SELECT 'VIEW', 'eventbox.' || relname FROM pg_class
         WHERE relnamespace = 'eventbox'::regnamespace AND relkind IN ('v', 'm')
        UNION SELECT 'TRIGGER', t.tgname || ' on ' || n.nspname || '.' || c.relname
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE NOT t.tgisinternal"""))
    held = {(k, n.lower()) for k, n in held}
    assert (sorted(held - parsed), sorted(parsed - held)) == ([], [])


def test_a_second_migrate_changes_nothing(upgraded):
    conn = upgraded["conn"]
    n = rows(conn, "SELECT count(*) FROM eventbox.rules_applied")[0][0]
    out = migrate(BIN, upgraded["name"], SQL)
    assert "rules unchanged" in out.stderr, out.stderr
    assert "applied" not in out.stderr.replace("rules unchanged", ""), out.stderr
    assert rows(conn, "SELECT count(*) FROM eventbox.rules_applied")[0][0] == n


def copy_sql(tmp_path):
    dst = tmp_path / "sql"
    subprocess.run(["cp", "-r", SQL, str(dst)], check=True)
    return dst


def test_a_changed_rule_file_is_applied_again(upgraded, tmp_path):
    conn = upgraded["conn"]
    n = rows(conn, "SELECT count(*) FROM eventbox.rules_applied")[0][0]
    # a grant lost by hand comes back with the next application
    rows(conn, "REVOKE SELECT ON eventbox.public_events FROM eventbox_service")
    changed = copy_sql(tmp_path)
    with open(changed / "rules" / "20_time.sql", "a") as f:
        f.write("\n-- touched by tests/test_upgrade.py\n")
    out = migrate(BIN, upgraded["name"], str(changed))
    assert re.search(r"applied \d+ rule files", out.stderr), out.stderr
    assert rows(conn, "SELECT has_table_privilege('eventbox_service',"
                      " 'eventbox.public_events', 'SELECT')") == [(True,)]
    # and back to the tree's own files: a change again
    out = migrate(BIN, upgraded["name"], SQL)
    assert re.search(r"applied \d+ rule files", out.stderr), out.stderr
    assert rows(conn, "SELECT count(*) FROM eventbox.rules_applied")[0][0] == n + 2


def test_a_failing_rule_file_leaves_the_rules_as_they_were(upgraded, tmp_path):
    conn = upgraded["conn"]
    n = rows(conn, "SELECT count(*) FROM eventbox.rules_applied")[0][0]
    broken = copy_sql(tmp_path)
    with open(broken / "rules" / "50_register.sql", "a") as f:
        f.write("\nCREATE OR REPLACE FUNCTION eventbox.free_seats(e eventbox.events)"
                " RETURNS integer LANGUAGE sql AS $$ SELECT 0 $$;\n")
    with open(broken / "rules" / "95_broken.sql", "w") as f:
        f.write("SELECT eventbox.no_such_function();\n")
    out = migrate(BIN, upgraded["name"], str(broken), check=False)
    assert out.returncode != 0
    assert "95_broken.sql failed" in out.stderr, out.stderr
    assert rows(conn, "SELECT count(*) FROM eventbox.rules_applied")[0][0] == n
    src = rows(conn, "SELECT prosrc FROM pg_proc WHERE proname = 'free_seats'")[0][0]
    assert "greatest" in src


def test_the_seat_helpers_are_inlined_into_the_public_views(upgraded):
    plan = json.dumps(rows(upgraded["conn"], "EXPLAIN (VERBOSE, FORMAT JSON)"
                                             " SELECT * FROM eventbox.public_events"))
    for helper in ("free_seats", "waitlist_open", "registration_state", "closes_at",
                   "public_seats"):
        assert helper + "(" not in plan, plan


def test_the_field_checks_are_inlined_and_refuse_what_register_refuses(upgraded):
    conn = upgraded["conn"]
    plan = json.dumps(rows(conn, "EXPLAIN (VERBOSE, FORMAT JSON) SELECT"
                                 " eventbox.registrant_error(n, 'a@b.org', NULL)"
                                 " FROM (VALUES ('x')) v(n)"))
    for helper in ("registrant_error", "is_person_name", "is_email_address"):
        assert helper + "(" not in plan, plan
    for args, outcome in (
            (("", "a@b.org", None), "invalid_name"),
            (("x" * 201, "a@b.org", None), "invalid_name"),
            (("a\tb", "a@b.org", None), "invalid_name"),
            (("x" * 200, "a@b.org", None), None),
            (("Ann", "a@b", None), "invalid_email"),
            (("Ann", "a@b.", None), "invalid_email"),
            (("Ann", "a b@c.org", None), "invalid_email"),
            (("Ann", "a@192.0.2.1", None), "invalid_email"),
            (("Ann", "a@b2.org", None), None),
            (("Ann", "a" * 249 + "@b.org", None), "invalid_email"),   # 255
            (("Ann", "a" * 248 + "@b.org", None), None),              # 254
            (("Ann", "a@b.org", "L" * 201), "invalid_organization"),
            (("Ann", "a@b.org", "L" * 200), None)):
        assert rows(conn, "SELECT eventbox.registrant_error(%s, %s, %s)",
                    *args) == [(outcome,)], args
    # the column refuses what the predicate refuses, under its old name
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        rows(conn, "INSERT INTO eventbox.registrations (event_id, name, email, status)"
                   " SELECT id, %s, 'a@b.org', 'cancelled' FROM eventbox.events LIMIT 1",
             "x" * 201)
    assert e.value.diag.constraint_name == "registrations_name_check"


def test_an_old_event_todays_rules_refuse_says_what_to_fix_and_can_be_cancelled(upgraded):
    """Rows the old release took and today's row rules refuse (fill()):
    a change to such an event names the rule it breaks, with the hint staff
    need, whatever column it changes; set_status() will not publish or
    unpublish it but names the field and how to correct it; its
    cancellation, which writes none of those values, goes through and tells
    its registrants."""
    conn = upgraded["conn"]
    for slug, rule in (("upg-year99", "events_times_in_range"),
                       ("upg-far", "events_times_in_range"),
                       ("upg-bell", "events_description_check"),
                       ("upg-born-cancelled", "cancelled_stays_cancelled")):
        with pytest.raises(psycopg2.errors.CheckViolation) as e:
            rows(conn, "UPDATE eventbox.events SET title = 'Renamed' WHERE slug = %s", slug)
        assert e.value.diag.constraint_name == rule, slug
        if rule != "events_description_check":
            assert e.value.diag.message_hint, slug
    # Publishing or unpublishing it is refused naming the field, in the
    # API's words, and saying how to correct it (it was the row rule's
    # refusal, with no hint for a control character; the API's 409
    # conflict named nothing).
    for slug, field in (("upg-year99", "starts_at"), ("upg-far", "registration_closes_at"),
                        ("upg-bell", "description")):
        with pytest.raises(psycopg2.errors.CheckViolation) as e:
            rows(conn, "SELECT * FROM eventbox.set_status(%s, 'draft')", slug)
        diag = e.value.diag
        assert diag.column_name == field, slug
        assert field in diag.message_primary and diag.message_detail in diag.message_primary
        assert "save_event" in diag.message_hint and "cancel" in diag.message_hint, slug
        assert rows(conn, "SELECT status FROM eventbox.events WHERE slug = %s",
                    slug) == [("published",)]
    for slug in ("upg-year99", "upg-far", "upg-bell"):
        live = rows(conn, "SELECT count(*) FROM eventbox.registrations r JOIN eventbox.events e"
                          " ON e.id = r.event_id WHERE e.slug = %s AND r.status <> 'cancelled'",
                    slug)[0][0]
        assert live >= 1
        assert rows(conn, "SELECT outcome, affected FROM eventbox.set_status(%s, 'cancelled')",
                    slug) == [("ok", live)], slug
        assert rows(conn, "SELECT count(*) FROM eventbox.outbox o JOIN eventbox.events e"
                          " ON e.id = o.event_id WHERE e.slug = %s AND o.kind = 'event_cancelled'",
                    slug) == [(live,)], slug


# --- the releases around a renumbering ----------------------------------------------
#
# Three numbered files were renumbered after releases had applied them, and
# 027_moved_events.sql (now 026) was changed after its first release
# (src/migrate.c, renumbered(); sql/027_old_release_repairs.sql).  Each
# chain below makes a database with the sql/ of older trees from git history,
# in turn, as those releases' `eventbox migrate` did (the first: held places
# counted by 020 under the old audit trigger, then numbers 25 and 27 taken by
# the files later renumbered, then the upgrade by number that ran 024 again;
# the second: 027 taken by moved events, without outbox.reminder_for).
# Their migrate kept the same records as this tree's does for files that
# were never renumbered, so this tree's binary runs their files: seconds,
# where building each tree would take minutes.

HELD_UNCOUNTED = "fc34aa4"      # confirm by email (012), before 020_held_counts.sql
BEFORE_RENUMBERING = "e9cb811"  # 025_question_positions.sql, 027_holds_end_by_start.sql
FIRST_MOVED_EVENTS = "577ae47"  # 027_moved_events.sql, without outbox.reminder_for
BY_NUMBER = "5615d69"           # 026_moved_events.sql; its migrate knew files by number only


@pytest.fixture(scope="module")
def tree_sql(tmp_path_factory):
    made = {}

    def get(commit):
        if commit not in made:
            d = tmp_path_factory.mktemp("sql-" + commit)
            archive = subprocess.run(["git", "-C", ROOT, "archive", commit, "sql"],
                                     capture_output=True, timeout=120)
            assert archive.returncode == 0, archive.stderr.decode()
            subprocess.run(["tar", "-x", "-C", str(d)], input=archive.stdout, check=True)
            made[commit] = str(d / "sql")
        return made[commit]
    return get


def fill_held(conn):
    """A seat and a waiting place held for addresses not yet confirmed."""
    rows(conn, "INSERT INTO eventbox.events (slug, title, capacity, status, starts_at, ends_at,"
               " confirmation_required, hold_minutes) VALUES ('upg-held', 'Held', 1, 'published',"
               " now() + interval '9 days', now() + interval '9 days 1 hour', true, 60)")
    for i in range(2):
        assert rows(conn, "SELECT outcome FROM eventbox.register('upg-held', %s, %s, NULL, 'web')",
                    f"Held {i}", f"held{i}@example.org") == [("pending",)]


def migrate_by_number(conn, sql_dir):
    """What `eventbox migrate` did before it knew a file by its name: each
    number not recorded applied, under whatever name it had been recorded
    (its rules are left to the next migrate)."""
    done = {v for (v,) in rows(conn, "SELECT version FROM eventbox.migrations")}
    for path in sorted(glob.glob(os.path.join(sql_dir, "[0-9][0-9][0-9]_*.sql"))):
        name = os.path.basename(path)
        if int(name[:3]) not in done:
            with conn.cursor() as cur:
                cur.execute(open(path).read())
            rows(conn, "INSERT INTO eventbox.migrations (version, name) VALUES (%s, %s)",
                 int(name[:3]), name)


def counters_only(entry):
    """An audit entry that only moved held counters: 020's UPDATE, audited
    by the release it upgraded."""
    d = json.loads(entry)
    keys = set(d["details"]) - {"was"}
    return d["action"] == "event_updated" and bool(keys) and \
        keys <= {"held_confirmed_count", "held_waitlisted_count"}


@pytest.mark.parametrize("chain", [
    (HELD_UNCOUNTED, BEFORE_RENUMBERING, BY_NUMBER),
    (FIRST_MOVED_EVENTS,),
], ids=["held-027-holds-by-number", "027-moved-events"])
def test_a_database_from_around_a_renumbering_upgrades_in_place(chain, databases, tree_sql,
                                                                fresh_schema):
    name = databases()
    conn = owner(name)
    for i, tree in enumerate(chain):
        if i > 0 and tree == BY_NUMBER:
            migrate_by_number(conn, tree_sql(tree))
            continue
        migrate(BIN, name, tree_sql(tree))
        if tree == HELD_UNCOUNTED:
            fill_held(conn)
    before = snapshot(conn)
    out = migrate(BIN, name, SQL)
    # each file is recorded once, under its own number; 027 is applied,
    # though an older file had held its number
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SQL, "[0-9]*_*.sql")))
    assert rows(conn, "SELECT version, name FROM eventbox.migrations ORDER BY version") == \
        [(int(f[:3]), f) for f in files], out.stderr
    assert "applied 027_old_release_repairs.sql" in out.stderr, out.stderr
    same_schema(name, fresh_schema)
    after = snapshot(conn)
    for table, old in before.items():
        if table in ("migrations", "rules_applied"):
            continue
        old = sorted(json.dumps(json.loads(r), sort_keys=True) for r in old)
        new = kept_columns(after[table], old)
        if table == "audit_log":
            # the entries 020 made up are gone, nothing else
            assert set(new) <= set(old)
            assert all(counters_only(r) for r in set(old) - set(new))
            assert not any(counters_only(r) for r in new)
            old = new
        assert new == old, table
    if HELD_UNCOUNTED in chain:
        assert sum(map(counters_only, before["audit_log"])) == 1
        assert rows(conn, "SELECT held_confirmed_count, held_waitlisted_count"
                          " FROM eventbox.events WHERE slug = 'upg-held'") == [(1, 1)]
    conn.close()


def test_two_migrations_with_one_number_stop_migrate(tmp_path):
    sql = copy_sql(tmp_path)
    with open(sql / "027_another.sql", "w") as f:
        f.write("SELECT 1;\n")
    e = dict(os.environ, EVENTBOX_DSN="host=/nonexistent dbname=none", EVENTBOX_SQL_DIR=str(sql),
             EVENTBOX_LOG_FILE="")
    out = subprocess.run([BIN, "migrate"], env=e, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "027_another.sql and 027_old_release_repairs.sql have one number" in out.stderr, \
        out.stderr


def test_an_event_the_old_rule_took_with_a_zone_no_place_has_keeps_its_times(
        old_release, databases):
    """is_valid_timezone() took every name of pg_timezone_names: localtime
    (the server's clock setting), posixrules, Factory, posix/...  029 gives
    each event the place's zone with the same clock where there is one;
    localtime, which has none, is left, and its event works as before but
    takes no change until its zone is named (save_event and set_status say
    so, naming the field)."""
    name = databases()
    migrate(old_release["bin"], name, old_release["sql"])
    conn = owner(name)
    zones = {"upz-posix": "posix/America/Chicago", "upz-rules": "posixrules",
             "upz-factory": "Factory", "upz-local": "localtime", "upz-ok": "Europe/Paris"}
    for slug, zone in zones.items():
        rows(conn, "INSERT INTO eventbox.events (slug, title, capacity, status, starts_at,"
             " ends_at, timezone) VALUES (%s, 'Zone', 5, 'published', now() + interval '9 days',"
             " now() + interval '9 days 1 hour', %s)", slug, zone)
    rows(conn, "SELECT * FROM eventbox.register('upz-local', 'Kept', 'kept@example.org',"
         " NULL, 'api')")
    before = dict(rows(conn, "SELECT slug, eventbox.iso_local(starts_at, timezone)"
                             " FROM eventbox.events"))
    audited = rows(conn, "SELECT count(*) FROM eventbox.audit_log")
    migrate(BIN, name, SQL)
    after = dict(rows(conn, "SELECT slug, timezone FROM eventbox.events"))
    assert after == {"upz-posix": "America/Chicago", "upz-rules": "America/New_York",
                     "upz-factory": "UTC", "upz-local": "localtime",
                     "upz-ok": "Europe/Paris"}, after
    # every time as it was shown, in the zone it has now
    assert dict(rows(conn, "SELECT slug, eventbox.iso_local(starts_at, timezone)"
                           " FROM eventbox.events")) == before
    assert rows(conn, "SELECT count(*) FROM eventbox.audit_log") == audited   # nobody edited
    # localtime: registrations go on; a change must name the zone
    assert rows(conn, "SELECT outcome FROM eventbox.register('upz-local', 'Next',"
                      " 'next@example.org', NULL, 'api')") == [("confirmed",)]
    out = rows(conn, "SELECT outcome, field, message FROM eventbox.save_event("
                     "'upz-local', '{\"title\": \"Renamed\"}')")[0]
    assert out == ("invalid", "timezone",
                   "must be the IANA time zone of a place, like America/New_York"), out
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        rows(conn, "SELECT * FROM eventbox.set_status('upz-local', 'draft')")
    assert e.value.diag.column_name == "timezone"
    with pytest.raises(psycopg2.errors.CheckViolation) as e:
        rows(conn, "UPDATE eventbox.events SET timezone = 'posixrules' WHERE slug = 'upz-ok'")
    assert e.value.diag.constraint_name == "events_timezone_check"
    assert rows(conn, "SELECT outcome FROM eventbox.save_event('upz-local',"
                      " '{\"title\": \"Renamed\", \"timezone\": \"America/Denver\"}')") \
        == [("updated",)]
    conn.close()
