"""SQL changed for speed keeps its meaning.

sql/007 moved the time zone rule from a CHECK constraint to triggers: still
refused on INSERT and on an UPDATE that changes it, with the same SQLSTATE
and constraint name; registrations no longer evaluate it.  sql/008 made
iso_local() inlinable: same text as 001's formula for every zone."""
import psycopg2
import pytest


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


def test_the_check_is_not_a_constraint_evaluated_on_every_update(db):
    # A CHECK would run is_valid_timezone() on every counter update, i.e.
    # inside every registration's row lock.
    assert db.all("SELECT 1 FROM pg_constraint WHERE conrelid ="
                  " 'eventbox.events'::regclass AND pg_get_constraintdef(oid)"
                  " LIKE '%%is_valid_timezone%%'") == []


# 001's iso_local(), verbatim, as the reference.
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
