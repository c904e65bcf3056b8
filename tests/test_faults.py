"""Broken parts: a worker killed mid-load, PostgreSQL stopped and started,
a lock held past the lock timeout, and a drain on SIGTERM."""
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid

import psycopg2

from conftest import devstack, env, wait_healthy, ROOT


def workers():
    """The master's pid (from the pid file devstack keeps current) and its
    workers' pids."""
    with open(os.path.join(env("EVENTBOX_VAR"), "run", "eventbox.pid")) as f:
        master = int(f.read().strip())
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                         text=True)
    return master, [int(p) for p in out.stdout.split()]


def test_a_worker_killed_mid_load_is_replaced_and_no_seat_is_oversold(
        api, db, make_event, tmp_path):
    slug = make_event(capacity=100, waitlist=True)
    runid = uuid.uuid4().hex[:8]
    out = tmp_path / "load.tsv"
    body = '{"name":"Patron {n}","email":"k{n}-%s@example.org"}' % runid
    load = subprocess.Popen(
        [os.path.join(ROOT, "tests", "loadclient"), "-X", "POST", "-c", "50",
         "-n", "1500", "-b", body, "-o", str(out), "-q",
         f"{api.base}/api/v1/events/{slug}/registrations"])
    master, before = workers()
    time.sleep(0.5)
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    assert load.wait(120) == 0

    deadline = time.time() + 10
    while time.time() < deadline:
        _, now = workers()
        if len(now) == len(before) and victim not in now:
            break
        time.sleep(0.1)
    assert victim not in now and len(now) == len(before)

    answers = {}
    for line in out.read_text().splitlines():
        seq, status, _lat, resp = line.split("\t", 3)
        if status == "201":
            answers[int(seq)] = json.loads(resp)
    s = db.summary(slug)
    assert s["confirmed"] <= 100
    roster = {e: (st, pos) for e, st, pos in db.all(
        "SELECT email, status, position FROM eventbox.roster WHERE slug = %s", slug)}
    # Every 201 has its row; a request cut by the kill may or may not have one.
    for seq, a in answers.items():
        assert roster[f"k{seq}-{runid}@example.org"] == (a["status"], a["position"])
    assert len(roster) >= len(answers) and len(roster) <= len(answers) + 1
    waiting = sorted(p for st, p in roster.values() if st == "waitlisted")
    assert waiting == list(range(1, len(waiting) + 1))
    if len(roster) >= 100:
        assert s["confirmed"] == 100
    assert api.get("/healthz").status == 200


def test_with_postgresql_stopped_requests_get_503_then_recover_without_restart(
        api, make_event):
    slug = make_event(capacity=5)
    master, _ = workers()
    devstack("pg-stop")
    try:
        r = api.get(f"/api/v1/events/{slug}")
        assert r.status == 503, r
        assert r.json["error"]["code"] == "unavailable"
        assert r.header("Retry-After") is not None
        r = api.register(slug, "Ann", f"ann-{uuid.uuid4().hex[:6]}@example.org")
        assert r.status == 503, r
        assert api.get("/healthz").status == 503
    finally:
        devstack("pg-start")
    wait_healthy(api)
    r = api.register(slug, "Ann", f"ann-{uuid.uuid4().hex[:6]}@example.org")
    assert r.status == 201, r
    assert workers()[0] == master


def owner_conn():
    c = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                         dbname=env("PGDATABASE"), user=env("PGUSER"))
    return c


def test_a_lock_held_past_the_lock_timeout_answers_503_not_a_hang(
        api, db, make_event):
    slug = make_event(capacity=5)
    holder = owner_conn()
    cur = holder.cursor()
    cur.execute("SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE", (slug,))
    try:
        t0 = time.time()
        r = api.register(slug, "Bo", f"bo-{uuid.uuid4().hex[:6]}@example.org")
        elapsed = time.time() - t0
        assert r.status == 503, r
        assert r.json["error"]["code"] == "busy"
        assert 2.5 <= elapsed < 10, elapsed
    finally:
        holder.rollback()
        holder.close()
    assert db.summary(slug)["confirmed"] == 0
    r = api.register(slug, "Bo", f"bo-{uuid.uuid4().hex[:6]}@example.org")
    assert r.status == 201


def test_sigterm_drains_the_request_in_flight(api, db, make_event):
    slug = make_event(capacity=5)
    holder = owner_conn()
    cur = holder.cursor()
    cur.execute("SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE", (slug,))
    result = {}

    def register():
        result["r"] = api.register(slug, "Cy", "cy-drain@example.org")

    t = threading.Thread(target=register)
    t.start()
    time.sleep(0.7)             # the request now waits on the row lock
    master, _ = workers()
    os.kill(master, signal.SIGTERM)
    time.sleep(0.5)
    holder.rollback()           # let it finish
    holder.close()
    t.join(30)
    try:
        assert result["r"].status == 201, result["r"]
        assert db.summary(slug)["confirmed"] == 1
    finally:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                os.kill(master, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        devstack("serve-start")
        wait_healthy(api)


def test_with_the_workers_down_nginx_answers_json_and_the_service_comes_back(api):
    devstack("serve-stop")
    try:
        r = api.get("/api/v1/events")
        assert r.status in (502, 503), r
        assert r.header("Content-Type").startswith("application/json")
        assert r.json["error"]["code"]
        assert r.header("Retry-After") is not None
    finally:
        devstack("serve-start")
    wait_healthy(api)
    assert api.get("/api/v1/events").status == 200


def test_the_access_log_never_contains_a_token(api, db, make_event):
    slug = make_event(capacity=1)
    email = f"log-{uuid.uuid4().hex[:8]}@example.org"
    assert api.register(slug, "Logged", email).status == 201
    token = db.tokens(email)[0]
    assert api.get(f"/api/v1/registrations/{token}").status == 200
    assert api.get(f"/api/v1/registrations/{token}?x=1").status == 200
    assert api.delete(f"/api/v1/registrations/{token}").status == 200
    time.sleep(0.2)
    log = open(os.path.join(env("EVENTBOX_VAR"), "log", "nginx-access.log")).read()
    assert "/api/v1/registrations/-" in log
    assert token not in log
    all_tokens = {r[0] for r in db.all(
        "SELECT token FROM eventbox.outbox WHERE token IS NOT NULL")}
    in_log = set(re.findall(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", log))
    assert all_tokens and not (all_tokens & in_log)


def test_a_psql_session_without_a_lock_timeout_still_gets_one(db, make_event):
    slug = make_event(capacity=5)
    holder = owner_conn()
    holder.cursor().execute(
        "SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE", (slug,))
    staff = owner_conn()
    try:
        cur = staff.cursor()
        cur.execute("SET lock_timeout = 0")
        t0 = time.time()
        try:
            cur.execute("SELECT * FROM eventbox.register(%s, 'Phone', 'phone@example.org')",
                        (slug,))
            raise AssertionError("register did not time out")
        except psycopg2.errors.LockNotAvailable:
            pass
        assert 2.5 <= time.time() - t0 < 10
    finally:
        staff.close()
        holder.rollback()
        holder.close()


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z eventbox-\w+\[\d+\] "
                      r"(info|warning|fatal): \S")


def test_a_database_error_of_several_lines_is_logged_as_one_line(tmp_path):
    """libpq's "connection ... failed: No such file or directory" goes on
    "\tIs the server running locally...?" and an empty line: every line of
    the log still starts with the time, the role and the pid."""
    e = dict(os.environ, EVENTBOX_DSN=f"host={tmp_path}/no-such-dir dbname=x",
             EVENTBOX_LOG_FILE="", EVENTBOX_SMTP_URL="smtp://127.0.0.1:25")
    bin_ = os.environ.get("EVENTBOX_BIN", os.path.join(ROOT, "eventbox"))
    p = subprocess.Popen([os.path.join(ROOT, bin_), "mailer"], env=e, cwd=ROOT,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    lines = err.splitlines()
    assert any("Is the server running" in ln for ln in lines), err
    assert [ln for ln in lines if not LOG_LINE.match(ln)] == [], err
