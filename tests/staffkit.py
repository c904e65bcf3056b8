"""Helpers and fixtures for the staff tests (admin API, ops SQL, purge,
LibCal).  Imported by those test files; kept out of conftest.py so that the
shared fixtures stay small.

Keys are made the way staff make them: `./eventbox apikey create NAME` with
the owner's DSN from the stack's env file.
"""
import os
import subprocess
import uuid

import psycopg2
import pytest

from conftest import ROOT, env

ADMIN = "/api/v1/admin"


def email(tag="s", domain="example.org"):
    return f"{tag}-{uuid.uuid4().hex[:10]}@{domain}"


def eventbox(*args, dsn=None, extra_env=None, check=True):
    """Runs the eventbox binary (release build) with the owner's DSN."""
    e = dict(os.environ)
    e["EVENTBOX_DSN"] = dsn or env("EVENTBOX_OWNER_DSN")
    e.update(extra_env or {})
    out = subprocess.run([os.path.join(ROOT, "eventbox"), *args], env=e,
                         capture_output=True, text=True, timeout=120)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def new_key(name=None):
    name = name or "t-" + uuid.uuid4().hex[:10]
    out = eventbox("apikey", "create", name)
    key = out.stdout.strip()
    assert key.startswith("ebk_") and len(key) == 47, out
    return name, key


@pytest.fixture(scope="session")
def staff_key():
    """(name, key) of a live staff key."""
    return new_key()


@pytest.fixture
def admin(api, staff_key):
    """The API with the staff key on every request."""
    class Admin:
        name = staff_key[0]
        key = staff_key[1]

        def request(self, method, path, **kw):
            headers = dict(kw.pop("headers", None) or {})
            headers.setdefault("Authorization", f"Bearer {staff_key[1]}")
            return api.request(method, ADMIN + path, headers=headers, **kw)

        def get(self, path, **kw):
            return self.request("GET", path, **kw)

        def post(self, path, **kw):
            return self.request("POST", path, **kw)

        def put(self, path, **kw):
            return self.request("PUT", path, **kw)

        def patch(self, path, **kw):
            return self.request("PATCH", path, **kw)

        def delete(self, path, **kw):
            return self.request("DELETE", path, **kw)
    return Admin()


def connect_as(user):
    conn = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                            dbname=env("PGDATABASE"), user=user)
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def ops_role(db):
    """A staff member's login role, member of eventbox_ops.  The stack's
    cluster authenticates by peer through a fixed map, so this is the one
    staff login deploy/devstack.sh creates (eventbox_staff); that the owner
    can create such roles is checked here all the same."""
    name = "ops_" + uuid.uuid4().hex[:8]
    db.all(f"CREATE ROLE {name} LOGIN IN ROLE eventbox_ops")
    db.all(f"DROP ROLE {name}")
    return "eventbox_staff"


def audit(db, event_id=None, registration_id=None, action=None):
    """Audit rows as dicts, oldest first."""
    rows = db.all(
        "SELECT actor, via, action, event_id, registration_id, details"
        " FROM eventbox.audit_log WHERE (%s::bigint IS NULL OR event_id = %s)"
        " AND (%s::bigint IS NULL OR registration_id = %s)"
        " AND (%s::text IS NULL OR action = %s) ORDER BY id",
        event_id, event_id, registration_id, registration_id, action, action)
    keys = ("actor", "via", "action", "event_id", "registration_id", "details")
    return [dict(zip(keys, r)) for r in rows]


def event_id(db, slug):
    return db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)


def staff_register(db, slug, name, addr, org=None):
    """A registration entered as the owner (source 'staff'): its id."""
    outcome, _pos, reg = db.one(
        "SELECT outcome, position, registration_id FROM"
        " eventbox.staff_register(%s, %s, %s, %s)", slug, name, addr, org)
    assert outcome in ("confirmed", "waitlisted"), outcome
    return reg


def assert_error(r, status, code, field=None):
    assert r.status == status, r
    assert r.header("Content-Type").startswith("application/json"), r
    err = r.json["error"]
    assert err["code"] == code, r
    assert isinstance(err["message"], str) and err["message"], r
    if field is not None:
        assert err["field"] == field, r
