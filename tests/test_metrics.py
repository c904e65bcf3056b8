"""GET /metrics: Prometheus text format, and counters that move when things
happen (requests, registrations, outbox, reconnects, worker restarts)."""
import os
import re
import signal
import subprocess
import time
import urllib.parse
import uuid

import psycopg2

from conftest import env, wait_healthy
from staffkit import admin, staff_key  # noqa: F401  (fixtures)

SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})?'
    r' (-?[0-9.eE+-]+|\+Inf|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')


def scrape(api):
    """Returns {(name, frozenset(labels)): value}, checking the format."""
    r = api.get("/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    samples, types = {}, {}
    for line in r.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in types, f"TYPE twice: {line}"
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        key = (m.group(1), labels)
        assert key not in samples, f"sample twice: {line}"
        samples[key] = float(m.group(4))
        base = re.sub(r"_(bucket|sum|count)$", "", m.group(1))
        assert m.group(1) in types or base in types, f"no TYPE for {line}"
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_is_prometheus_text_and_counts_requests_by_route(api, make_event):
    slug = make_event()
    before = scrape(api)
    for _ in range(3):
        assert api.get(f"/api/v1/events/{slug}").status == 200
    assert api.get("/api/v1/events/no-such-event-here").status == 404
    after = scrape(api)
    route = "GET /api/v1/events/:"
    assert value(after, "eventbox_http_requests_total", route=route, status="200") \
        - value(before, "eventbox_http_requests_total", route=route, status="200") == 3
    assert value(after, "eventbox_http_requests_total", route=route, status="404") \
        - value(before, "eventbox_http_requests_total", route=route, status="404") == 1
    # A path no route knows is counted under "none".
    assert api.get("/api/v1/nothing-here").status == 404
    again = scrape(api)
    assert value(again, "eventbox_http_requests_total", route="none", status="404") \
        > value(after, "eventbox_http_requests_total", route="none", status="404")


def test_a_held_registrations_202_is_counted_as_202(api, make_event):
    """A registration on a confirm-by-email event answers 202; it was counted
    as status "other", beside real oddities."""
    slug = make_event(confirmation_required=True)
    route = "POST /api/v1/events/:/registrations"
    before = scrape(api)
    r = api.register(slug, "Held Patron", f"held-{uuid.uuid4().hex[:8]}@example.org")
    assert r.status == 202, r
    after = scrape(api)
    assert value(after, "eventbox_http_requests_total", route=route, status="202") \
        - value(before, "eventbox_http_requests_total", route=route, status="202") == 1
    assert value(after, "eventbox_http_requests_total", route=route, status="other") \
        == value(before, "eventbox_http_requests_total", route=route, status="other")


def test_a_check_in_taken_back_is_counted_under_delete_not_post(api, admin, db,
                                                               make_event):
    """POST and DELETE of a check-in shared one route entry, labelled by its
    first method: taking a check-in back was counted as checking in."""
    slug = make_event()
    addr = f"in-{uuid.uuid4().hex[:8]}@example.org"
    assert api.register(slug, "In", addr).status == 201
    rid = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", addr)
    post = "POST /api/v1/admin/registrations/:/check-in"
    delete = "DELETE /api/v1/admin/registrations/:/check-in"
    before = scrape(api)
    assert admin.post(f"/registrations/{rid}/check-in").status == 200
    assert admin.delete(f"/registrations/{rid}/check-in").status == 200
    assert admin.delete(f"/registrations/{rid}/check-in").status == 200
    after = scrape(api)
    assert value(after, "eventbox_http_requests_total", route=post, status="200") \
        - value(before, "eventbox_http_requests_total", route=post, status="200") == 1
    assert value(after, "eventbox_http_requests_total", route=delete, status="200") \
        - value(before, "eventbox_http_requests_total", route=delete, status="200") == 2


def test_the_latency_histogram_is_cumulative_and_matches_the_count(api, make_event):
    slug = make_event()
    api.get(f"/api/v1/events/{slug}")
    s = scrape(api)
    route = "GET /api/v1/events/:"
    buckets = sorted(
        ((float("inf") if dict(k[1])["le"] == "+Inf" else float(dict(k[1])["le"])), v)
        for k, v in s.items()
        if k[0] == "eventbox_http_request_duration_seconds_bucket"
        and dict(k[1])["route"] == route)
    assert len(buckets) > 5
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets must be cumulative"
    total = value(s, "eventbox_http_request_duration_seconds_count", route=route)
    assert counts[-1] == total > 0
    assert value(s, "eventbox_http_request_duration_seconds_sum", route=route) > 0


def test_registrations_are_counted_by_outcome(api, make_event):
    open_slug = make_event(capacity=1, waitlist=False)
    held_slug = make_event(confirmation_required=True)
    before = scrape(api)
    run = uuid.uuid4().hex[:8]
    assert api.register(open_slug, "A", f"a-{run}@example.org").status == 201
    assert api.register(open_slug, "B", f"b-{run}@example.org").status == 409
    assert api.register(held_slug, "C", f"c-{run}@example.org").status == 202
    after = scrape(api)
    for outcome in ("confirmed", "full", "pending"):
        assert value(after, "eventbox_registrations_total", outcome=outcome) \
            - value(before, "eventbox_registrations_total", outcome=outcome) == 1, outcome


def test_registrations_refused_by_their_fields_are_counted_by_field(api, make_event):
    """The worker refuses a bad name, address or library before the
    database is asked, through the API and the form alike: those count
    under the outcome the database would have named."""
    slug = make_event()
    before = scrape(api)
    run = uuid.uuid4().hex[:8]
    assert api.register(slug, "A", "not-an-address").status == 422
    assert api.register(slug, "", f"b-{run}@example.org").status == 422
    assert api.register(slug, "C", f"c-{run}@example.org",
                        extra={"organization": "L" * 201}).status == 422
    page = api.get(f"/events/{slug}")
    cookie = page.header("Set-Cookie").split(";")[0]
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)
    form = api.post(f"/events/{slug}/register",
                    body=urllib.parse.urlencode({"csrf": csrf, "name": "D",
                                                 "email": "no-at-sign", "organization": "",
                                                 "website": ""}),
                    headers={"Content-Type": "application/x-www-form-urlencoded",
                             "Cookie": cookie})
    assert form.status == 422, form
    after = scrape(api)
    for outcome, n in (("invalid_email", 2), ("invalid_name", 1),
                       ("invalid_organization", 1)):
        assert value(after, "eventbox_registrations_total", outcome=outcome) \
            - value(before, "eventbox_registrations_total", outcome=outcome) == n, outcome


def test_outbox_backlog_and_oldest_age_come_from_the_database(api, db, make_event):
    slug = make_event()
    event_id = db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)
    before = scrape(api)
    # Not due for a day, so no mailer picks it up while we look.
    oid = db.value(
        "INSERT INTO eventbox.outbox (kind, event_id, email, name, created_at,"
        " next_attempt_at) VALUES ('reminder', %s, 'old@example.org', 'Old',"
        " now() - interval '2 hours', now() + interval '1 day') RETURNING id",
        event_id)
    try:
        after = scrape(api)
        assert value(after, "eventbox_outbox_backlog") \
            == value(before, "eventbox_outbox_backlog") + 1
        assert value(after, "eventbox_outbox_oldest_age_seconds") >= 7200
        assert value(after, "eventbox_database_up") == 1
    finally:
        db.all("DELETE FROM eventbox.outbox WHERE id = %s", oid)


def test_db_reconnects_are_counted(api, make_event):
    slug = make_event()
    before = value(scrape(api), "eventbox_db_reconnects_total")
    # As the bootstrap superuser: the owner may not signal the app's backends.
    su = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                          dbname=env("PGDATABASE"), user="postgres")
    su.autocommit = True
    try:
        with su.cursor() as cur:
            cur.execute("SELECT count(pg_terminate_backend(pid))"
                        " FROM pg_stat_activity"
                        " WHERE application_name LIKE 'eventbox-worker-%'")
            assert cur.fetchone()[0] > 0
    finally:
        su.close()
    # Every worker notices on its next request; ask often enough to reach
    # all.  A request that raced the termination notice may get a 503 (and
    # its worker reconnects); after that, all are answered.
    time.sleep(0.3)
    statuses = [api.get(f"/api/v1/events/{slug}").status for _ in range(40)]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[-10:] == [200] * 10, statuses
    after = value(scrape(api), "eventbox_db_reconnects_total")
    assert after > before


def test_worker_restarts_are_counted_by_the_master(api):
    with open(os.path.join(env("EVENTBOX_VAR"), "run", "eventbox.pid")) as f:
        master = int(f.read().strip())
    before = value(scrape(api), "eventbox_worker_restarts_total")
    pids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                          text=True).stdout.split()
    assert pids
    os.kill(int(pids[0]), signal.SIGKILL)
    deadline = time.time() + 15
    after = before
    while time.time() < deadline and after == before:
        time.sleep(0.2)
        wait_healthy(api)
        after = value(scrape(api), "eventbox_worker_restarts_total")
    assert after == before + 1


def test_promtool_and_prometheus_read_the_exposition(api, make_event, tmp_path):
    """What a real Prometheus reads: `promtool check metrics` lints the text
    (every family a HELP and a TYPE, counters named _total, units), Python's
    prometheus_client parses it, and a Prometheus server scrapes it through
    nginx and answers a query with it."""
    from prometheus_client.parser import text_string_to_metric_families

    slug = make_event()
    assert api.get(f"/api/v1/events/{slug}").status == 200
    text = api.get("/metrics").text
    lint = subprocess.run(["promtool", "check", "metrics"], input=text,
                          capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0 and not (lint.stdout + lint.stderr).strip(), \
        lint.stdout + lint.stderr
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["eventbox_database_up"].samples[0].value == 1
    assert families["eventbox_database_up"].documentation

    port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: eventbox\n    static_configs:\n"
        f"      - targets: ['{api.host}:{api.port}']\n")
    server = subprocess.Popen(
        ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "w"))
    try:
        deadline, got = time.time() + 30, {}
        while time.time() < deadline and not got:
            time.sleep(0.5)
            got = prometheus_query(port, "eventbox_database_up")
        assert got.get(()) == "1", (got, (tmp_path / "prometheus.log").read_text())
        assert prometheus_query(port, "up") == {(): "1"}
        # Every sample the target offered went in: none dropped as a
        # duplicate or out of order.
        assert prometheus_query(port, "scrape_samples_scraped")[()] \
            == prometheus_query(port, "scrape_samples_post_metric_relabeling")[()]
        route = prometheus_query(
            port, 'sum(eventbox_http_requests_total{route="GET /api/v1/events/:",status="200"})')
        assert float(route[()]) >= 1, route
    finally:
        server.terminate()
        server.wait(30)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prometheus_query(port, query):
    """{labels other than __name__, job and instance: value} of an instant query."""
    import json
    import urllib.request
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
    except OSError:
        return {}
    assert body["status"] == "success", body
    return {tuple(sorted((k, v) for k, v in s["metric"].items()
                         if k not in ("__name__", "job", "instance"))): s["value"][1]
            for s in body["data"]["result"]}


def test_healthz_and_metrics_answer_in_bounded_time_when_the_database_hangs(api):
    """A database that takes the connection but never answers (a frozen
    server, a network that drops packets): /healthz waited for its ping
    until EVENTBOX_REQUEST_TIMEOUT (30 s) killed the worker, and the probe
    got nginx's 502.  A probe must be answered, saying what is wrong,
    within the lock timeout and a second."""
    su = psycopg2.connect(host=env("PGHOST"), port=env("PGPORT"),
                          dbname=env("PGDATABASE"), user="postgres")
    su.autocommit = True
    wait_healthy(api)
    for _ in range(8):          # every worker has its session open
        assert api.get("/healthz").status == 200
    with su.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity"
                    " WHERE application_name LIKE 'eventbox-worker-%'")
        frozen = [pid for (pid,) in cur.fetchall()]
    assert frozen
    try:
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        t0 = time.time()
        r = api.get("/healthz", timeout=60)
        elapsed = time.time() - t0
        assert r.status == 503 and r.json["error"]["code"] == "unavailable", r
        assert elapsed < 10, elapsed
        t0 = time.time()
        r = api.get("/metrics", timeout=60)
        elapsed = time.time() - t0
        assert r.status == 200, r
        assert elapsed < 10, elapsed
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        su.close()
    # The worker gave its session up and opens another: healthy again.
    wait_healthy(api)
