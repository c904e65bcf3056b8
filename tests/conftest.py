"""Fixtures shared by the integration tests.

The suite runs against a real stack started by tests/run.sh (PostgreSQL,
`eventbox serve`, nginx); its coordinates come from the environment file
that deploy/devstack.sh writes: EVENTBOX_URL, PGHOST, PGPORT, PGDATABASE,
PGUSER (the database owner).
"""
import functools
import http.client
import json
import os
import signal
import subprocess
import time
import urllib.parse
import uuid

import psycopg2
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _terminated(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# SIGTERM (tests/run.sh stopping an interrupted run) ends the session as
# Ctrl-C does: fixtures are torn down and the results so far reported.
signal.signal(signal.SIGTERM, _terminated)


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the suite with `make test`", 2)
    return value


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Api:
    """A tiny HTTP client: one connection per request, nothing hidden."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.base = base

    def request(self, method, path, body=None, headers=None, json_body=None,
                timeout=30):
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def register(self, slug, name, email, **kw):
        body = {"name": name, "email": email}
        body.update(kw.pop("extra", {}))
        return self.post(f"/api/v1/events/{slug}/registrations",
                         json_body=body, **kw)


@pytest.fixture(scope="session")
def api():
    return Api(env("EVENTBOX_URL"))


# The eventbox LANGUAGE sql functions that went through the function
# executor in the transaction of cursor `cur` (a superuser's, with
# track_functions = 'all'): an inlined one is never counted, a PL/pgSQL
# one keeps its plans, and these are parsed and planned again in every
# transaction (tests/test_sql_speed.py, tests/test_mail.py).
SQL_FUNCTIONS_EXECUTED = """
    SELECT p.proname, pg_stat_get_xact_function_calls(p.oid)
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.pronamespace = 'eventbox'::regnamespace AND l.lanname = 'sql'
       AND pg_stat_get_xact_function_calls(p.oid) > 0"""


def connect():
    conn = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                            dbname=env("PGDATABASE"), user=env("PGUSER"))
    conn.autocommit = True
    return conn


def stored_by_an_older_release(slug, column, value):
    """What an older release took and today's row rules refuse, written
    past them as the owner (the rules are triggers, off for this one
    transaction, on its own session: a failure rolls it all back)."""
    conn = connect()
    checks = ("events_row_checks", "events_timezone_check")
    try:
        with conn.cursor() as cur:
            cur.execute("BEGIN;"
                        + "".join(f" ALTER TABLE eventbox.events DISABLE TRIGGER {t};"
                                  for t in checks)
                        + f" UPDATE eventbox.events SET {column} = %s WHERE slug = %s;"
                        + "".join(f" ALTER TABLE eventbox.events ENABLE TRIGGER {t};"
                                  for t in checks)
                        + " COMMIT", (value, slug))
    finally:
        conn.close()


class Db:
    """The database as the owner sees it.  Reconnects after a restart of
    PostgreSQL (the fault tests stop and start it)."""

    def __init__(self):
        self.conn = connect()

    def all(self, sql, *args):
        for attempt in (1, 2):
            try:
                with self.conn.cursor() as cur:
                    cur.execute(sql, args)
                    return cur.fetchall() if cur.description else []
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                if attempt == 2:
                    raise
                self.conn = connect()

    def one(self, sql, *args):
        rows = self.all(sql, *args)
        assert len(rows) == 1, rows
        return rows[0]

    def value(self, sql, *args):
        return self.one(sql, *args)[0]

    def summary(self, slug):
        cols = ("capacity", "confirmed", "waitlisted", "cancelled",
                "seats_available")
        row = self.one("SELECT capacity, confirmed, waitlisted, cancelled,"
                       " seats_available FROM eventbox.event_summary"
                       " WHERE slug = %s", slug)
        return dict(zip(cols, row))

    def tokens(self, email, kind=None):
        """Raw tokens queued for an address, newest last (from the outbox)."""
        if kind:
            return [r[0] for r in self.all(
                "SELECT token FROM eventbox.outbox WHERE lower(email) = lower(%s)"
                " AND kind = %s AND token IS NOT NULL ORDER BY id", email, kind)]
        return [r[0] for r in self.all(
            "SELECT token FROM eventbox.outbox WHERE lower(email) = lower(%s)"
            " AND token IS NOT NULL ORDER BY id", email)]


@pytest.fixture(scope="session")
def db():
    d = Db()
    yield d
    d.conn.close()


def new_event(db, capacity=100, waitlist=True, status="published",
              starts_in="7 days", at=None, **cols):
    """A published event made with plain SQL, as staff would; its slug.
    at: a local wall-clock time ("14:00") on the day starts_in from now,
    for a test that reads the event's times (one that starts now plus N
    days at 11pm Eastern ends the next day)."""
    slug = "t-" + uuid.uuid4().hex[:12]
    fields = {
        "slug": slug, "title": f"Test event {slug}", "capacity": capacity,
        "waitlist_enabled": waitlist, "status": status,
        "timezone": "America/New_York",
        "online_url": "https://meet.example.org/secret-" + slug,
    }
    fields.update(cols)
    names = ", ".join(list(fields) + ["starts_at", "ends_at"])
    marks = ", ".join(["%s"] * len(fields))
    start, args = "now() + %s::interval", [starts_in]
    if at is not None:
        tz = fields["timezone"]
        start = ("((((now() + %s::interval) AT TIME ZONE %s)::date + %s::time)"
                 " AT TIME ZONE %s)")
        args = [starts_in, tz, at, tz]
    cancelled = fields["status"] == "cancelled"     # none is born so
    if cancelled:
        fields["status"] = "draft"
    db.all(f"INSERT INTO eventbox.events ({names}) VALUES ({marks},"
           f" {start}, {start} + interval '1 hour')",
           *fields.values(), *args, *args)
    if cancelled:
        db.all("UPDATE eventbox.events SET status = 'cancelled' WHERE slug = %s", slug)
    return slug


@pytest.fixture
def make_event(db):
    """new_event() on the session's database (module fixtures call
    new_event() themselves)."""
    return functools.partial(new_event, db)


@pytest.fixture(scope="session")
def loadclient():
    path = os.path.join(ROOT, "tests", "loadclient")
    assert os.access(path, os.X_OK), "build tests/loadclient first (make test)"

    def run(url, *args, timeout=300):
        out = subprocess.run([path, *args, url], capture_output=True, text=True,
                             timeout=timeout)
        assert out.returncode == 0, out.stderr
        summary = dict(line.split("=", 1) for line in out.stdout.splitlines()
                       if "=" in line)
        return summary
    return run


def devstack(*args):
    """Runs a deploy/devstack.sh subcommand on the test stack."""
    subprocess.run([os.path.join(ROOT, "deploy", "devstack.sh"), *args,
                    env("EVENTBOX_VAR")], check=True, timeout=120,
                   stdout=subprocess.DEVNULL)


def wait_healthy(api, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = api.get("/healthz", timeout=5)
            if last.status == 200:
                return
        except OSError as e:
            last = e
        time.sleep(0.2)
    raise AssertionError(f"service not healthy after {timeout}s: {last}")


def record(kind, what, answer, nothing_lost="yes"):
    """Adds one row to VARDIR/security-results.md, the table of bad inputs
    and faults tried and what the service answered (bench/results/history.md
    keeps a dated run of it)."""
    path = os.path.join(env("EVENTBOX_VAR"), "security-results.md")
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write("| kind | tried | answered | nothing lost |\n"
                    "|---|---|---|---|\n")
        f.write(f"| {kind} | {what} | {answer} | {nothing_lost} |\n")
