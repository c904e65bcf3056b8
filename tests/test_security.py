"""Defences in the threat model (docs/SECURITY.md) that no other test file
checks: what the service's database role may touch, that the seat limit
holds against the owner's own direct writes, and that tokens never reach
nginx's logs."""
import os
import time
import urllib.parse
import uuid

import psycopg2
import pytest

from conftest import env, record


def service_conn():
    conn = psycopg2.connect(env("EVENTBOX_DSN"))
    conn.autocommit = True
    return conn


@pytest.mark.parametrize("sql", [
    "SELECT email FROM eventbox.registrations LIMIT 1",
    "SELECT token FROM eventbox.outbox LIMIT 1",
    "SELECT token_hash FROM eventbox.tokens LIMIT 1",
    "SELECT online_url FROM eventbox.events LIMIT 1",
    "UPDATE eventbox.events SET capacity = capacity + 1",
    "INSERT INTO eventbox.registrations (event_id, name, email, status)"
    " VALUES (1, 'x', 'x@example.org', 'confirmed')",
    "DELETE FROM eventbox.outbox",
])
def test_the_service_role_cannot_read_or_write_tables_directly(sql):
    conn = service_conn()
    try:
        with conn.cursor() as cur:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(sql)
    finally:
        conn.close()
    short = sql if len(sql) < 60 else sql[:57] + "..."
    record("database", f"as the service's role: `{short}`",
           "permission denied")


def test_the_owner_cannot_oversell_with_a_direct_insert_or_update(db, make_event):
    slug = make_event(capacity=1, waitlist=True)
    ev = db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)
    db.all("INSERT INTO eventbox.registrations (event_id, name, email, status)"
           " VALUES (%s, 'A', 'a@example.org', 'confirmed')", ev)
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.all("INSERT INTO eventbox.registrations (event_id, name, email, status)"
               " VALUES (%s, 'B', 'b@example.org', 'confirmed')", ev)
    db.all("INSERT INTO eventbox.registrations (event_id, name, email, status)"
           " VALUES (%s, 'C', 'c@example.org', 'waitlisted')", ev)
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.all("UPDATE eventbox.registrations SET status = 'confirmed'"
               " WHERE event_id = %s AND email = 'c@example.org'", ev)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        db.all("UPDATE eventbox.events SET confirmed_count = 0 WHERE id = %s", ev)
    assert db.summary(slug)["confirmed"] == 1
    record("database", "as the owner: a second confirmed row on a 1-seat "
           "event, a waiting row updated to confirmed, the counter reset",
           "CHECK violation, CHECK violation, refused by trigger",
           "yes: 1 confirmed")


def test_tokens_never_reach_the_nginx_logs(api, db, make_event):
    slug = make_event(capacity=5)
    email = f"log-{uuid.uuid4().hex[:8]}@example.org"
    assert api.register(slug, "Log", email).status == 201
    token = db.tokens(email, "confirmed")[0]
    assert api.get(f"/api/v1/registrations/{token}").status == 200
    assert api.get(f"/api/v1/registrations/{token}?x=1").status == 200
    assert api.get(f"/registration/{token}?tz=UTC").status == 200
    assert api.get(f"/registration/{token[:-1]}").status == 404
    assert api.get(f"/api/v1/registrations/{token[:-1]}").status == 400
    assert api.delete(f"/api/v1/registrations/{token}").status == 200
    assert api.get(f"/api/v1/events?token={token}").status in (200, 400)
    time.sleep(0.5)             # nginx writes its log lines as it goes
    logs = env("EVENTBOX_LOG_DIR")
    seen = []
    for name in ("nginx-access.log", "nginx-error.log", "eventbox.log"):
        path = os.path.join(logs, name)
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                text = f.read()
            assert token not in text and token[:-1] not in text, name
            seen.append(name)
    assert "nginx-access.log" in seen
    with open(os.path.join(logs, "nginx-access.log")) as f:
        assert "/api/v1/registrations/-" in f.read()
    record("privacy", "a token in the path (GET, GET with a query, a "
           "truncated one, DELETE) and in a query string",
           "answered; the token is in none of " + ", ".join(seen))


def encode_hex(token, which):
    """The token with the hex digits at the positions in which, and every
    dash, percent-encoded, as a mail gateway or a copy and paste might."""
    out = []
    for i, c in enumerate(token):
        out.append(f"%{ord(c):02X}" if c == "-" or i in which else c)
    return "".join(out)


def test_a_token_spelled_any_way_in_a_path_never_reaches_the_access_log(
        api, db, make_event):
    slug = make_event(capacity=5)
    email = f"log-{uuid.uuid4().hex[:8]}@example.org"
    assert api.register(slug, "Log", email).status == 201
    token = db.tokens(email, "confirmed")[0]
    spellings = [
        f"//registration/{token}", f"/%72egistration/{token}",
        f"/events/../registration/{token}", f"//api/v1/registrations/{token}",
        f"/api/v1//registrations/{token}", f"/api/v1/%72egistrations/{token}",
        f"/x/{token}/{token}?a={token}", f"/events?ref={token}",
        f"//cancel/{token.upper()}", f"/%63onfirm/{encode_hex(token, {0, 9, 35})}",
        f"//registration/{token.replace('-', '')}",
        f"/registration//{token}",
    ]
    for path in spellings:
        assert api.get(path).status < 500, path
    assert api.get(f"/events/{slug}").status == 200
    time.sleep(0.5)             # nginx writes its log lines as it goes
    with open(os.path.join(env("EVENTBOX_LOG_DIR"), "nginx-access.log"),
              errors="replace") as f:
        log = f.read()
    bare = token.replace("-", "")
    for line in log.splitlines():
        decoded = urllib.parse.unquote(line).lower().replace("-", "")
        assert bare not in decoded, line
    for logged in ("//registration/-", "/%72egistration/-",
                   "/events/../registration/-", "//api/v1/registrations/-",
                   "/api/v1//registrations/-", "/x/- ", "/events?ref=- ",
                   "//cancel/- ", "/%63onfirm/- ", f"/events/{slug} "):
        assert logged in log, logged
    record("privacy", "a token in a non-canonical path (doubled slashes, "
           "percent-encoded letters, `..`, upper case, without dashes, "
           "percent-encoded digits and dashes) and in any query parameter",
           "the access log shows `-` where the token was")


def test_the_stack_cluster_refuses_every_other_local_user():
    """The private cluster: its socket directory is 0700 and it
    authenticates by peer through a map naming only the user who started
    the stack, so another local user (here `nobody`) cannot log in as any
    role, not even by name."""
    import stat
    import subprocess
    if os.getuid() != 0:
        pytest.skip("needs root to run the probe as another user")
    rundir = env("PGHOST")
    assert stat.S_IMODE(os.stat(rundir).st_mode) == 0o700
    probe = ("import psycopg2, sys\n"
             "psycopg2.connect(host=sys.argv[1], port=sys.argv[2],"
             " dbname='eventbox', user=sys.argv[3]).close()\n")
    for role in ("postgres", "eventbox", "eventbox_app", "nobody"):
        r = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3",
                            "-c", probe, rundir, env("PGPORT"), role],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, role
        assert "OperationalError" in r.stderr, r.stderr
    # The same probe as the stack's user connects: the check can fail.
    r = subprocess.run(["/usr/bin/python3", "-c", probe, rundir,
                        env("PGPORT"), env("PGUSER")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    record("database", "connect to the test cluster as local user nobody",
           "refused (socket directory 0700, peer map)")
