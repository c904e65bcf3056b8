"""The time zone rule after sql/007 moved it from a CHECK constraint to
triggers: still refused on INSERT and on an UPDATE that changes it, with the
same SQLSTATE and constraint name; registrations no longer evaluate it."""
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
