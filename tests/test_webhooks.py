"""Webhooks: what a receiver started here gets from `eventbox mailer`.

The receiver is a real HTTPS server (Python's http.server behind TLS, with
a certificate from a CA this module makes with openssl; the mailers trust
that CA through EVENTBOX_WEBHOOK_CA).  It keeps every request it gets, raw,
and each test checks the deliveries for its own webhook: each arrives once,
with a valid Standard Webhooks signature and a fresh timestamp, in order per
registration, and carries no token and no online URL.
"""
import base64
import functools
import hashlib
import hmac
import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time
import uuid

import psycopg2
import pytest

from conftest import ROOT, env
from staffkit import admin, assert_error, connect_as, event_id, staff_key  # noqa: F401
from test_mail import free_port, mailers, others_messages_wait, smtp  # noqa: F401
from test_purge import occurrences, purge

ALL = ["registration.created", "registration.promoted",
       "registration.cancelled", "registration.updated", "event.changed"]
BEFORE_UPDATED = [t for t in ALL if t != "registration.updated"]
TOKEN = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A CA and a certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    d = tmp_path_factory.mktemp("webhook-tls")

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True,
                       capture_output=True, timeout=60)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=eventbox test CA", "-keyout", "ca.key", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "hook.key", "-out", "hook.csr")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n"
                               "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "hook.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "hook.pem")
    return str(d / "ca.pem"), str(d / "hook.pem"), str(d / "hook.key")


class Receiver:
    """An HTTPS endpoint that keeps what it gets.  answer(msg_id, n) may
    return a status other than 204 for the n-th request carrying msg_id;
    each answer waits delay seconds (a slow receiver)."""

    def __init__(self, tls, answer=None, delay=0.0):
        self.cert, self.key = tls[1], tls[2]
        self.port = free_port()
        self.answer = answer
        self.delay = delay
        self.lock = threading.Lock()
        self.requests = []      # (path, headers dict, raw body)
        self.seen = {}          # webhook-id -> requests with it
        self.server = None

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}/hooks/{uuid.uuid4().hex[:8]}"

    def start(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                mid = self.headers.get("webhook-id", "")
                time.sleep(outer.delay)
                with outer.lock:
                    n = outer.seen[mid] = outer.seen.get(mid, 0) + 1
                    status = outer.answer(mid, n) if outer.answer else 204
                    if status // 100 == 2:
                        outer.requests.append(
                            (self.path, {k.lower(): v for k, v in self.headers.items()},
                             raw))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def for_path(self, path):
        with self.lock:
            return [(h, b) for p, h, b in self.requests if p == path]

    def wait(self, path, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.for_path(path)) >= count:
                return self.for_path(path)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.for_path(path))} of {count} deliveries"
                             f" arrived: {[json.loads(b)['type'] for _, b in self.for_path(path)]}")


@pytest.fixture
def receivers(tls):
    made = []

    def make(**kw):
        r = Receiver(tls, **kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.stop()


@pytest.fixture
def hooks(admin, db):
    """Creates webhooks through the admin API; disables them all afterwards,
    so that no other test's registrations queue deliveries for them."""
    made = []

    def make(url, events=ALL):
        r = admin.post("/webhooks", json_body={"url": url, "events": events})
        assert r.status == 201, r
        made.append(r.json["id"])
        return r.json
    yield make
    for i in made:
        db.all("SELECT eventbox.webhook_disable(%s)", i)


@pytest.fixture
def hook_mailer(tls, smtp, mailers):  # noqa: F811
    """Starts a mailer that trusts the test CA and retries quickly, with
    the longest wait between attempts 2 s (so a few seconds down is many tries).
    The receivers are on 127.0.0.1, so it allows private addresses unless
    told otherwise; server: the SMTP server it sends to (a new one when
    not given)."""
    def start(allow_private=1, server=None, timeout_ms=3000):
        server = server or smtp().start()
        return mailers.start(server.url, EVENTBOX_WEBHOOK_CA=tls[0],
                             EVENTBOX_WEBHOOK_ALLOW_PRIVATE=allow_private,
                             EVENTBOX_WEBHOOK_RETRY_BASE_MS=200,
                             EVENTBOX_WEBHOOK_MAX_BACKOFF_MS=2000,
                             EVENTBOX_WEBHOOK_MAX_TRIES=1000,
                             EVENTBOX_WEBHOOK_TIMEOUT_MS=timeout_ms)
    return start


def api_md_webhooks():
    """docs/API.md's "## Webhooks" section, as written."""
    with open(os.path.join(ROOT, "docs", "API.md"), encoding="utf-8") as f:
        text = f.read()
    assert "\n## Webhooks\n" in text, "docs/API.md lost its section on webhooks"
    return text.split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]


@functools.cache
def doc_verify():
    """The receiver's `verify` of docs/API.md ("Verifying a delivery"), as
    written: the function a consortium's developer copies."""
    (code,) = re.findall(r"^```python\n(.*?)^```", api_md_webhooks(), re.S | re.M)
    scope = {}
    exec(compile(code, "docs/API.md", "exec"), scope)   # noqa: S102 (our own doc)
    return scope["verify"]


def verify(secret, headers, raw):
    """The Standard Webhooks check a receiver makes: the signature over
    id.timestamp.body with the secret's bytes, and a fresh timestamp; and
    docs/API.md's snippet, as written, agrees on it."""
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + raw
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [s.split(",", 1)[1] for s in headers["webhook-signature"].split()
             if s.startswith("v1,")]
    assert any(hmac.compare_digest(want, g) for g in given), headers
    assert abs(time.time() - int(headers["webhook-timestamp"])) < 300, headers
    assert headers["content-type"] == "application/json"
    assert doc_verify()(secret, headers, raw) is True, headers
    assert doc_verify()(secret, headers, raw + b" ") is False, headers


def path_of(url):
    return url[url.index("/hooks/"):]


def stream(deliveries, email):
    return [(b["type"], b["registration"]["status"]) for b in deliveries
            if b.get("registration", {}).get("email") == email]


def register(api, slug, tag):
    addr = f"{tag}-{uuid.uuid4().hex[:8]}@example.org"
    r = api.register(slug, tag.title(), addr)
    assert r.status == 201, r
    return addr


def reg_id(db, addr):
    return db.value("SELECT id FROM eventbox.registrations WHERE email = %s", addr)


def check_all(secret, got, online_url):
    """Each delivery once, signed, without token or online URL; the bodies."""
    ids = [h["webhook-id"] for h, _ in got]
    assert len(ids) == len(set(ids)), ids
    for h, raw in got:
        verify(secret, h, raw)
        assert online_url.encode() not in raw and b"meet.example.org" not in raw
        assert not TOKEN.search(raw) and b"token" not in raw.lower(), raw
    return [json.loads(raw) for _, raw in got]


def test_every_delivery_arrives_once_signed_in_order_and_after_an_outage(
        api, admin, db, make_event, receivers, hooks, hook_mailer):
    slug = make_event(capacity=1)
    online = db.value("SELECT online_url FROM eventbox.events WHERE slug = %s", slug)
    rx = receivers().start()
    url = rx.url
    hook = hooks(url)
    assert hook["secret"].startswith("whsec_") and hook["events"] == sorted(ALL)

    ann = register(api, slug, "ann")            # confirmed
    bob = register(api, slug, "bob")            # waiting, 1
    carol = register(api, slug, "carol")        # waiting, 2
    assert admin.delete(f"/registrations/{reg_id(db, ann)}").status == 200  # bob promoted
    r = admin.patch(f"/events/{slug}", json_body={
        "starts_at": db.value("SELECT eventbox.iso_utc(starts_at + interval '1 hour')"
                              " FROM eventbox.events WHERE slug = %s", slug),
        "ends_at": db.value("SELECT eventbox.iso_utc(ends_at + interval '1 hour')"
                            " FROM eventbox.events WHERE slug = %s", slug)})
    assert r.status == 200, r
    hook_mailer()
    got = rx.wait(path_of(url), 6)
    time.sleep(2)                               # nothing more, nothing twice
    bodies = check_all(hook["secret"], rx.for_path(path_of(url)), online)
    assert len(bodies) == 6, [b["type"] for b in bodies]
    assert stream(bodies, ann) == [("registration.created", "confirmed"),
                                   ("registration.cancelled", "cancelled")]
    assert stream(bodies, bob) == [("registration.created", "waitlisted"),
                                   ("registration.promoted", "confirmed")]
    assert stream(bodies, carol) == [("registration.created", "waitlisted")]
    first_bob = next(b for b in bodies if b.get("registration", {}).get("email") == bob)
    assert first_bob["registration"]["position"] == 1
    assert first_bob["registration"]["id"] == reg_id(db, bob)
    assert first_bob["event"]["slug"] == slug
    (changed,) = [b for b in bodies if b["type"] == "event.changed"]
    assert changed["changes"] == ["starts_at", "ends_at"]
    assert changed["previous"]["starts_at"] < changed["event"]["starts_at"]
    assert set(changed) == {"type", "occurred_at", "event", "changes", "previous"}

    # Down until a delivery has been tried five times (0.2, 0.4, 0.8, 1.6 s
    # apart; 20 s at most): what happens meanwhile is tried again and again,
    # and all of it arrives, once, in order, when the receiver is back.
    rx.stop()
    assert admin.delete(f"/registrations/{reg_id(db, bob)}").status == 200  # carol promoted
    dave = register(api, slug, "dave")          # waiting, 1
    assert admin.post(f"/events/{slug}/cancel").status == 200
    deadline = time.monotonic() + 20
    while True:
        tried = db.all("SELECT attempts FROM eventbox.outbox o JOIN eventbox.webhooks w"
                       " ON w.id = o.webhook_id WHERE w.url = %s AND o.status = 'pending'",
                       url)
        if (tried and max(a for (a,) in tried) >= 5) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert tried and max(a for (a,) in tried) >= 5, tried
    rx.start()
    rx.wait(path_of(url), 6 + 6)
    time.sleep(2)
    bodies = check_all(hook["secret"], rx.for_path(path_of(url)), online)
    assert len(bodies) == 12, [b["type"] for b in bodies]
    assert stream(bodies, bob)[2:] == [("registration.cancelled", "cancelled")]
    assert stream(bodies, carol) == [("registration.created", "waitlisted"),
                                     ("registration.promoted", "confirmed"),
                                     ("registration.cancelled", "cancelled")]
    assert stream(bodies, dave) == [("registration.created", "waitlisted"),
                                    ("registration.cancelled", "cancelled")]
    last = [b for b in bodies if b["type"] == "event.changed"][-1]
    assert last["changes"] == ["status"] and last["event"]["status"] == "cancelled"
    # Delivered bodies (names, addresses) are not kept.
    assert db.value("SELECT count(*) FROM eventbox.outbox o JOIN eventbox.webhooks w"
                    " ON w.id = o.webhook_id WHERE w.url = %s AND o.payload IS NOT NULL",
                    url) == 0


def test_a_receiver_answering_500_gets_the_same_delivery_again(
        api, db, make_event, receivers, hooks, hook_mailer):
    slug = make_event()
    rx = receivers(answer=lambda mid, n: 500 if n <= 2 else 200).start()
    url = rx.url
    hook = hooks(url, ["registration.created"])
    ann = register(api, slug, "ann")
    hook_mailer()
    ((h, raw),) = rx.wait(path_of(url), 1)
    verify(hook["secret"], h, raw)
    assert rx.seen[h["webhook-id"]] == 3
    assert json.loads(raw)["registration"]["email"] == ann
    # The receiver has its 200 a moment before the mailer commits "sent".
    deadline = time.monotonic() + 30
    while True:
        status, attempts = db.one(
            "SELECT o.status, o.attempts FROM eventbox.outbox o JOIN eventbox.webhooks w"
            " ON w.id = o.webhook_id WHERE w.url = %s", url)
        if status != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (status, attempts) == ("sent", 3)


def test_a_stop_gives_a_receiver_that_hangs_two_seconds_not_the_timeout(
        api, db, make_event, tls, smtp, mailers, receivers, hooks, tmp_path):
    """EVENTBOX_WEBHOOK_TIMEOUT_MS may be a minute, more than the mailer
    unit's TimeoutStopSec leaves a stop: a stop waited that long for the
    delivery in flight, and systemd's SIGKILL came first.  A delivery still
    unanswered 2 s into a stop is given up, unmarked (no attempt counted
    against the receiver), and goes out at the next start."""
    slug = make_event()
    silent = socket.socket()            # connects, and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    url = f"https://127.0.0.1:{port}/hooks/silent-{uuid.uuid4().hex[:8]}"
    hook = hooks(url, ["registration.created"])
    register(api, slug, "sil")
    log = tmp_path / "mailer.log"
    server = smtp().start()
    settings = dict(EVENTBOX_WEBHOOK_CA=tls[0], EVENTBOX_WEBHOOK_ALLOW_PRIVATE=1,
                    EVENTBOX_WEBHOOK_TIMEOUT_MS=60000, EVENTBOX_LOG_FILE=str(log))
    m = mailers.start(server.url, **settings)
    silent.settimeout(20)
    try:
        conn, _ = silent.accept()       # the delivery is in flight
        t0 = time.monotonic()
        assert mailers.stop(m) == 0
        took = time.monotonic() - t0
        conn.close()
    finally:
        silent.close()
    assert took < 2 + 2, f"the stop took {took:.1f} s"
    assert db.one("SELECT status, attempts, last_error FROM eventbox.outbox"
                  " WHERE webhook_id = %s", hook["id"]) == ("pending", 0, None)
    assert "not answered 2 s into the stop" in log.read_text()
    rx = receivers()
    rx.port = port                      # the receiver is back
    rx.start()
    mailers.start(server.url, **settings)
    ((h, raw),) = rx.wait(path_of(url), 1)
    verify(hook["secret"], h, raw)


def test_a_slow_receiver_does_not_hold_the_patrons_emails_up(
        api, db, make_event, smtp, receivers, hooks, hook_mailer):
    """A receiver that takes a while to answer (here a second, under the
    3 s timeout) got up to EVENTBOX_MAIL_BATCH (50) deliveries in a row, so
    a confirmation queued meanwhile waited for all of them: minutes behind
    a CRM that answers in nine seconds.  The webhooks' turn now ends after
    a second, and the email goes out while the backlog is still worked."""
    slug = make_event(capacity=100)
    rx = receivers(delay=1.0).start()
    url = rx.url
    hooks(url, ["registration.created"])
    backlog = 8
    for i in range(backlog):
        register(api, slug, f"early{i}")
    server = smtp().start()
    hook_mailer(server=server)
    rx.wait(path_of(url), 1, timeout=30)        # the webhooks' turn has begun
    late = register(api, slug, "late")
    server.wait_for([late], timeout=60)
    got = len(rx.for_path(path_of(url)))
    assert got < backlog, f"the email waited for {got} slow deliveries"
    rx.wait(path_of(url), backlog + 1, timeout=60)     # and all of them arrive


@pytest.mark.parametrize("answer", [204, 503])
def test_a_receiver_that_hangs_on_each_delivery_holds_up_no_other_webhook(
        api, admin, db, make_event, receivers, hooks, hook_mailer, answer):
    """Deliveries were claimed oldest first across all webhooks: a receiver
    that hangs a second on each delivery (and then takes it, or its gateway
    answers 503) had its whole backlog go ahead of every other receiver's
    deliveries, each a second of the mailer.  Now a webhook whose last
    delivery was slow or failed yields to the others: the other receiver's
    deliveries all arrive while the first's are still pending, at most two
    of them tried, and the order per registration and the first's own
    deliveries are kept."""
    slug = make_event(capacity=100)
    slow = receivers(delay=1.0, answer=lambda mid, n: answer).start()
    slow_url = slow.url
    slow_hook = hooks(slow_url, ["registration.created", "registration.cancelled"])
    early = [register(api, slug, f"early{i}") for i in range(5)]
    fast = receivers().start()
    fast_url = fast.url
    fast_hook = hooks(fast_url, ["registration.created", "registration.cancelled"])
    late = [register(api, slug, f"late{i}") for i in range(2)]
    for a in late:             # each registration's stream: created, then cancelled
        assert admin.delete(f"/registrations/{reg_id(db, a)}").status == 200
    hook_mailer()
    got = fast.wait(path_of(fast_url), 4, timeout=60)
    tried = sum(slow.seen.values())
    pending = db.value("SELECT count(*) FROM eventbox.outbox WHERE webhook_id = %s"
                       " AND status = 'pending'", slow_hook["id"])
    assert tried <= 2 and pending >= 9 - 2, \
        f"{tried} deliveries to the slow receiver went first ({pending} pending)"
    bodies = check_all(fast_hook["secret"], got, "meet.example.org")
    for a in late:
        assert stream(bodies, a) == [("registration.created", "confirmed"),
                                     ("registration.cancelled", "cancelled")]
    if answer == 204:
        got = slow.wait(path_of(slow_url), 9, timeout=60)
        bodies = check_all(slow_hook["secret"], got, "meet.example.org")
        assert [stream(bodies, a) for a in early] == \
            [[("registration.created", "confirmed")]] * 5


class RawReceiver:
    """An HTTPS endpoint written by hand: it reads each request, answers
    200 without a Content-Length (the body lasts until the connection
    closes) and then, as then_(conn) does, sends nothing more or sends
    without end, never closing.  seen: webhook-id -> requests with it."""

    def __init__(self, tls, then_):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(tls[1], tls[2])
        self.then_ = then_
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.seen = {}
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(conn,), daemon=True).start()

    def one(self, conn):
        try:
            conn = self.ctx.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
            mid = re.search(r"^webhook-id: *(\S+)", head, re.M).group(1)
            with self.lock:
                self.seen[mid] = self.seen.get(mid, 0) + 1
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
            self.then_(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


def say_nothing_more(conn):
    conn.settimeout(60)
    while conn.recv(65536):             # until the mailer closes it
        pass


def send_without_end(conn):
    chunk = b"x" * 65536
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conn.sendall(chunk)


@pytest.mark.parametrize("then_", [say_nothing_more, send_without_end])
def test_a_200_whose_body_never_ends_is_delivered_once(
        api, db, make_event, tls, hooks, hook_mailer, then_):
    """The receiver said 200 and took the delivery; only its answer's body
    did not end (no Content-Length, the connection kept open; or a body
    without end).  The mailer read it until EVENTBOX_WEBHOOK_TIMEOUT_MS,
    counted "Timeout was reached" as no answer at all, held back every
    delivery to the webhook and sent this one again and again."""
    slug = make_event()
    rx = RawReceiver(tls, then_)
    try:
        url = f"https://127.0.0.1:{rx.port}/hooks/endless-{uuid.uuid4().hex[:8]}"
        hook = hooks(url, ["registration.created"])
        register(api, slug, "endless")
        hook_mailer()
        deadline = time.monotonic() + 30
        while True:
            row = db.one("SELECT status, attempts, last_error FROM eventbox.outbox"
                         " WHERE webhook_id = %s", hook["id"])
            if row[0] != "pending" or row[1] > 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert row == ("sent", 1, None), row
        time.sleep(1)
        with rx.lock:
            assert list(rx.seen.values()) == [1], rx.seen
    finally:
        rx.close()


def test_a_non_ascii_body_verifies_over_its_raw_bytes(
        api, db, make_event, receivers, hooks, hook_mailer):
    """Names and titles beyond ASCII: the signature is over the UTF-8 bytes
    sent, as the documented check (API.md, verify() here) computes it."""
    name = "Zoë Ñúñez 李小龍 🎉"
    slug = make_event(title="Café Ünïcode — ☕ & <b>")
    rx = receivers().start()
    url = rx.url
    hook = hooks(url, ["registration.created"])
    addr = f"uni-{uuid.uuid4().hex[:8]}@example.org"
    assert api.register(slug, name, addr).status == 201
    hook_mailer()
    ((h, raw),) = rx.wait(path_of(url), 1)
    verify(hook["secret"], h, raw)
    assert name.encode() in raw                 # UTF-8, not \u escapes
    body = json.loads(raw)
    assert body["registration"]["name"] == name
    assert body["event"]["title"] == "Café Ünïcode — ☕ & <b>"


def test_staff_disable_a_webhook_whose_receiver_hangs_mid_delivery(
        api, admin, db, make_event, receivers, hooks, hook_mailer):
    """The receiver takes the connection and never answers: the delivery in
    flight keeps its row locked up to EVENTBOX_WEBHOOK_TIMEOUT_MS (here 8 s,
    the default 10 s), longer than a request waits for a lock (3 s).
    Disabling that webhook then, the moment staff want to, waited for the
    row and answered 503; the delivery in flight is left to its mailer, and
    dropped afterwards as the rest are."""
    slug = make_event()
    silent = socket.socket()            # connects, and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    try:
        url = f"https://127.0.0.1:{port}/hooks/hangs-{uuid.uuid4().hex[:8]}"
        hook = hooks(url, ["registration.created"])
        register(api, slug, "hang1")
        register(api, slug, "hang2")
        hook_mailer(timeout_ms=8000)
        silent.settimeout(20)
        conn, _ = silent.accept()       # the first delivery is in flight
        try:
            r = admin.delete(f"/webhooks/{hook['id']}")
            assert r.status == 200 and r.json == {"disabled": True}, r
        finally:
            conn.close()
        deadline = time.monotonic() + 30
        while True:
            rows = db.all("SELECT status, last_error, payload IS NULL FROM eventbox.outbox"
                          " WHERE webhook_id = %s ORDER BY id", hook["id"])
            if all(st == "sent" for st, _, _ in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert rows == [("sent", "webhook disabled", True)] * 2, rows
    finally:
        silent.close()


def test_a_disabled_webhook_gets_nothing(
        api, admin, db, make_event, receivers, hooks, hook_mailer):
    slug = make_event()
    rx = receivers().start()
    off_url, on_url = rx.url, rx.url
    off, on = hooks(off_url), hooks(on_url)
    register(api, slug, "early")                # queued for both
    r = admin.delete(f"/webhooks/{off['id']}")
    assert r.status == 200 and r.json == {"disabled": True}, r
    register(api, slug, "late")
    hook_mailer()
    rx.wait(path_of(on_url), 2)
    time.sleep(2)
    assert rx.for_path(path_of(off_url)) == []
    listed = {w["id"]: w for w in admin.get("/webhooks").json["webhooks"]}
    assert listed[off["id"]]["disabled_at"] and not listed[on["id"]]["disabled_at"]
    assert listed[off["id"]]["pending"] == listed[off["id"]]["failed"] == 0
    # Dropped, not failed: staff's own choice raises no failure alert.
    assert db.all("SELECT status, sent_at, last_error, payload FROM eventbox.outbox"
                  " WHERE webhook_id = %s", off["id"]) == [
        ("sent", None, "webhook disabled", None)]
    assert_error(admin.delete(f"/webhooks/{off['id']}"), 404, "webhook_not_found")
    assert_error(admin.delete("/webhooks/abc"), 404, "webhook_not_found")
    assert_error(admin.delete("/webhooks/99999999999"), 404, "webhook_not_found")
    actions = [a for (a,) in db.all(
        "SELECT action FROM eventbox.audit_log WHERE details ->> 'webhook_id' = %s"
        " ORDER BY id", str(off["id"]))]
    assert actions == ["webhook_created", "webhook_disabled"]


# --- registration.updated: staff corrected what a receiver was sent --------------

def of_registration(bodies, reg):
    return [b for b in bodies if b.get("registration", {}).get("id") == reg]


def test_a_correction_by_patch_is_one_signed_update_to_the_webhooks_that_asked(
        api, admin, db, make_event, receivers, hooks, hook_mailer):
    """A CRM got registration.created with ann@gmial.com and "Ann Typo";
    staff correct both (PATCH).  A webhook that asked for
    registration.updated gets one signed delivery, after the created one:
    the registration as it is now, the fields that changed and what they
    were.  A library corrected alone is sent as changed, but not its
    value, which no body carries.  A webhook that asked only for the
    events there were before gets nothing more than it did."""
    slug = make_event(capacity=1)
    online = db.value("SELECT online_url FROM eventbox.events WHERE slug = %s", slug)
    rx = receivers().start()
    on_url, off_url = rx.url, rx.url
    on = hooks(on_url, ["registration.created", "registration.updated"])
    off = hooks(off_url, BEFORE_UPDATED)
    tag = uuid.uuid4().hex[:8]
    wrong, right = f"ann-{tag}@gmial.com", f"ann-{tag}@example.org"
    assert api.register(slug, "Ann Typo", wrong).status == 201
    bob = register(api, slug, "bob")            # waiting, 1
    ann_id, bob_id = reg_id(db, wrong), reg_id(db, bob)
    r = admin.patch(f"/registrations/{ann_id}",
                    json_body={"name": "Ann Patron", "email": right})
    assert (r.status, r.json["outcome"]) == (200, "corrected"), r
    r = admin.patch(f"/registrations/{ann_id}", json_body={"email": right})
    assert (r.status, r.json["outcome"]) == (200, "unchanged"), r    # sends nothing
    r = admin.patch(f"/registrations/{bob_id}",
                    json_body={"organization": "Springfield Library"})
    assert (r.status, r.json["outcome"]) == (200, "corrected"), r
    hook_mailer()
    rx.wait(path_of(on_url), 4)
    rx.wait(path_of(off_url), 2)
    time.sleep(2)                               # nothing more, nothing twice
    bodies = check_all(on["secret"], rx.for_path(path_of(on_url)), online)
    assert len(bodies) == 4, [b["type"] for b in bodies]
    created, updated = of_registration(bodies, ann_id)
    assert created["type"] == "registration.created"
    assert created["registration"]["email"] == wrong
    assert updated["type"] == "registration.updated"
    assert set(updated) == {"type", "occurred_at", "event", "registration", "changes",
                            "previous"}
    assert updated["event"] == created["event"] and updated["event"]["slug"] == slug
    assert updated["registration"] == {"id": ann_id, "status": "confirmed",
                                       "position": None, "name": "Ann Patron",
                                       "email": right}
    assert updated["changes"] == ["name", "email"]
    assert updated["previous"] == {"name": "Ann Typo", "email": wrong}
    (_, bob_updated) = of_registration(bodies, bob_id)
    assert bob_updated["type"] == "registration.updated"
    assert bob_updated["registration"] == {"id": bob_id, "status": "waitlisted",
                                           "position": 1, "name": "Bob", "email": bob}
    assert (bob_updated["changes"], bob_updated["previous"]) == (["organization"], {})
    assert all(b"Springfield" not in raw for _, raw in rx.for_path(path_of(on_url)))
    others = check_all(off["secret"], rx.for_path(path_of(off_url)), online)
    assert [b["type"] for b in others] == ["registration.created"] * 2


def test_a_correction_at_psql_is_sent_and_a_place_never_announced_is_not(
        api, db, make_event, receivers, hooks, hook_mailer):
    """At psql (a staff login): an address changed in letter case only is
    an update (the body's email is the string stored, and the receiver's
    copy should be it).  A place held for an address not yet confirmed was
    never announced: its correction sends nothing, and once confirmed its
    registration.created carries the corrected address."""
    slug = make_event()
    held_slug = make_event(confirmation_required=True, hold_minutes=600)
    rx = receivers().start()
    url = rx.url
    hook = hooks(url)
    tag = uuid.uuid4().hex[:8]
    lower, upper = f"cy-{tag}@example.org", f"Cy-{tag}@Example.ORG"
    assert api.register(slug, "Cy Case", lower).status == 201
    wrong, right = f"hal-{tag}@gmial.com", f"hal-{tag}@example.org"
    assert api.register(held_slug, "Hal Held", wrong).status == 202
    cy_id, hal_id = reg_id(db, lower), reg_id(db, wrong)
    staff = connect_as("eventbox_staff")
    try:
        with staff.cursor() as cur:
            for reg, fields, mailed in ((hal_id, {"email": right}, "confirm_address"),
                                        (cy_id, {"email": upper}, None)):
                cur.execute("SELECT outcome, mailed FROM eventbox.correct_registration("
                            "%s, %s)", (reg, json.dumps(fields)))
                assert cur.fetchone() == ("corrected", mailed)
    finally:
        staff.close()
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE kind = 'webhook'"
                    " AND registration_id = %s", hal_id) == 0
    (tok,) = db.tokens(right, "confirm_address")
    r = api.post(f"/api/v1/registrations/{tok}/confirm")
    assert r.status == 200 and r.json["status"] == "confirmed", r
    hook_mailer()
    rx.wait(path_of(url), 3)
    time.sleep(2)
    bodies = check_all(hook["secret"], rx.for_path(path_of(url)), "meet.example.org")
    assert len(bodies) == 3, [b["type"] for b in bodies]
    created, updated = of_registration(bodies, cy_id)
    assert (created["type"], created["registration"]["email"]) == (
        "registration.created", lower)
    assert (updated["type"], updated["registration"]["email"]) == (
        "registration.updated", upper)
    assert (updated["changes"], updated["previous"]) == (["email"], {"email": lower})
    (held,) = of_registration(bodies, hal_id)
    assert held["type"] == "registration.created"
    assert (held["registration"]["email"], held["registration"]["status"]) == (
        right, "confirmed")
    assert all(wrong.encode() not in raw for _, raw in rx.for_path(path_of(url)))


@pytest.mark.parametrize("body, field", [
    ({"url": "http://crm.example.org/hook", "events": ALL}, "url"),
    ({"url": "ftp://crm.example.org/hook", "events": ALL}, "url"),
    ({"url": "https://user:pw@crm.example.org/hook", "events": ALL}, "url"),
    ({"url": "https://crm.example.org/a b", "events": ALL}, "url"),
    ({"url": "https://", "events": ALL}, "url"),
    ({"url": "https://crm.example.org/" + "a" * 2000, "events": ALL}, "url"),
    ({"url": 42, "events": ALL}, "url"),
    ({"url": "https://crm.example.org:99999/hook", "events": ALL}, "url"),
    ({"url": "https://crm.example.org:0/hook", "events": ALL}, "url"),
    ({"url": "https://crm.example.org:/hook", "events": ALL}, "url"),
    ({"url": "https://crm.example.org:https/hook", "events": ALL}, "url"),
    ({"url": "https://[::1/hook", "events": ALL}, "url"),
    ({"url": "https://crm..example.org/hook", "events": ALL}, "url"),
    ({"url": "https://crm.example.org?x=1", "events": ALL}, "url"),
    # What a browser (WHATWG URL) or RFC 3986 refuses, or reads as another
    # host, and names DNS has no lookup for: these were taken.
    ({"url": "https://-crm.example.org/hook", "events": ALL}, "url"),
    ({"url": "https://crm-.example.org/hook", "events": ALL}, "url"),
    ({"url": "https://crm.-example.org/hook", "events": ALL}, "url"),
    ({"url": "https://" + "a" * 64 + ".example.org/hook", "events": ALL}, "url"),
    ({"url": "https://" + ("a" * 60 + ".") * 5 + "org/hook", "events": ALL}, "url"),
    ({"url": "https://999.1.1.1/hook", "events": ALL}, "url"),
    ({"url": "https://1.2.3/hook", "events": ALL}, "url"),
    ({"url": "https://0x7f.1/hook", "events": ALL}, "url"),
    ({"url": "https://010.0.0.1/hook", "events": ALL}, "url"),
    ({"url": "https://203.0.113.9./hook", "events": ALL}, "url"),
    ({"url": "https://crm.example.1/hook", "events": ALL}, "url"),
    ({"url": "https://[1.2.3.4]/hook", "events": ALL}, "url"),
    ({"url": "https://[::::]/hook", "events": ALL}, "url"),
    ({"url": "https://[1:2:3:4:5:6:7:8:9]/hook", "events": ALL}, "url"),
    ({"url": "https://crm.example.org/a\\b", "events": ALL}, "url"),
    ({"url": "https://crm.example.org/a%zz", "events": ALL}, "url"),
    ({"url": "https://crm.example.org/a%4", "events": ALL}, "url"),
    # refused before, and still
    ({"url": "https://exa mple.org/hook", "events": ALL}, "url"),
    ({"url": "https://a..b/hook", "events": ALL}, "url"),
    ({"url": "https://u:p@crm.example.org/hook", "events": ALL}, "url"),
    ({"events": ALL}, "url"),
    ({"url": "https://crm.example.org/hook"}, "events"),
    ({"url": "https://crm.example.org/hook", "events": []}, "events"),
    ({"url": "https://crm.example.org/hook", "events": "registration.created"}, "events"),
    ({"url": "https://crm.example.org/hook", "events": ["registration.made"]}, "events"),
    ({"url": "https://crm.example.org/hook", "events": ["Event.Changed"]}, "events"),
    ({"url": "https://crm.example.org/hook", "events": [1]}, "events"),
    ({"url": "https://crm.example.org/hook", "events": ALL + ALL[:1]}, "events"),
    ({"url": "https://crm.example.org/hook", "events": ["a,b}"]}, "events"),
])
def test_bad_urls_and_event_names_are_refused_with_422(admin, db, body, field):
    before = db.value("SELECT count(*) FROM eventbox.webhooks")
    assert_error(admin.post("/webhooks", json_body=body), 422, "invalid_field", field)
    assert db.value("SELECT count(*) FROM eventbox.webhooks") == before


def test_the_events_refused_are_told_every_event_there_is_in_english_and_spanish(
        admin, hooks):
    """The 422 lists the events a webhook may ask for, registration.updated
    among them, and each of them is taken."""
    body = {"url": "https://crm.example.org/hook", "events": ["registration.made"]}
    r = admin.post("/webhooks", json_body=body)
    assert_error(r, 422, "invalid_field", "events")
    assert r.json["error"]["message"] == "events: a list of " + ", ".join(ALL), r
    r = admin.post("/webhooks", json_body=body, headers={"Accept-Language": "es"})
    assert_error(r, 422, "invalid_field", "events")
    assert r.json["error"]["message"] == "events: una lista de " + ", ".join(ALL), r
    for name in ALL:
        assert hooks("https://crm.example.org/one", [name])["events"] == [name]


def test_a_member_other_than_url_and_events_is_refused(admin, db):
    """A misspelt member ("event" for "events", "secret") was dropped without
    a word, as PUT questions dropped one."""
    before = db.value("SELECT count(*) FROM eventbox.webhooks")
    for extra in ({"secret": "mine"}, {"event": ["event.changed"]}):
        r = admin.post("/webhooks", json_body={"url": "https://crm.example.org/hook",
                                               "events": ["event.changed"], **extra})
        name = next(iter(extra))
        assert_error(r, 422, "invalid_field", name)
        assert r.json["error"]["message"] == \
            f"{name}: is not a field of this call: send only url and events", r
    r = admin.post("/api-clients", json_body={"name": "c-" + uuid.uuid4().hex[:10],
                                             "registration": True})
    assert_error(r, 422, "invalid_field", "registration")
    assert r.json["error"]["message"] == ("registration: is not a field of this call: "
                                          "send only name and registrations"), r
    assert db.value("SELECT count(*) FROM eventbox.webhooks") == before


def test_urls_with_a_port_an_address_or_no_path_are_taken(hooks):
    for url in ("https://crm.example.org:8443/hook", "https://crm.example.org:65535",
                "https://[2001:db8::1]:443/x?y=1", "https://crm.example.org",
                "https://crm_1.internal.example.org./hook", "https://203.0.113.9/h",
                "https://a-b.example.org/h%41", "https://" + "a" * 63 + ".example.org/",
                "https://[::ffff:203.0.113.9]/x", "https://10.0.0.255/", "https://0.example.org/"):
        assert hooks(url)["url"] == url


def test_the_admin_api_wants_a_key_and_shows_the_secret_once(api, admin, db, hooks):
    r = api.post("/api/v1/admin/webhooks", json_body={
        "url": "https://crm.example.org/hook", "events": ALL})
    assert_error(r, 401, "unauthorized")
    assert_error(api.get("/api/v1/admin/webhooks"), 401, "unauthorized")
    assert_error(admin.post("/webhooks", body="{", headers={
        "Content-Type": "application/json"}), 400, "invalid_json")
    hook = hooks("https://crm.example.org/hook?list=1",
                 ["event.changed", "registration.created", "event.changed"])
    assert hook["events"] == ["event.changed", "registration.created"]    # as stored
    r = admin.get("/webhooks")
    assert r.status == 200 and r.header("Cache-Control") == "no-store", r
    (mine,) = [w for w in r.json["webhooks"] if w["id"] == hook["id"]]
    assert mine["events"] == ["event.changed", "registration.created"]
    assert mine["url"] == "https://crm.example.org/hook?list=1"
    assert "secret" not in mine and hook["secret"].encode() not in r.body
    details = db.value("SELECT details::text FROM eventbox.audit_log"
                       " WHERE action = 'webhook_created' AND details ->> 'webhook_id' = %s",
                       str(hook["id"]))
    assert hook["secret"] not in details


def test_a_receiver_that_does_not_answer_holds_back_all_its_deliveries(
        api, db, make_event, hooks):
    """No mailer here: webhook_failed() is called as the mailer calls it.
    A receiver that answered 500 delays only that registration's later
    deliveries; one that did not answer at all delays every delivery of the
    webhook, so a dead receiver costs one attempt per wait, not one each."""
    slug = make_event()
    hook = hooks("https://127.0.0.1:9/nobody-listens", ["registration.created"])
    for tag in ("first", "second", "third"):
        register(api, slug, tag)
    ids = [i for (i,) in db.all("SELECT id FROM eventbox.outbox WHERE webhook_id = %s"
                                " ORDER BY id", hook["id"])]
    assert len(ids) == 3

    def due():
        return dict(db.all("SELECT id, next_attempt_at > now() FROM eventbox.outbox"
                           " WHERE webhook_id = %s", hook["id"]))
    assert db.value("SELECT eventbox.webhook_failed(%s, 'http 500', 10, 60000, 600000,"
                    " false)", ids[0]) == "pending"
    assert due() == {ids[0]: True, ids[1]: False, ids[2]: False}
    db.all("SELECT eventbox.webhook_failed(%s, 'Timeout was reached', 10, 60000, 600000,"
           " true)", ids[1])
    assert due() == {ids[0]: True, ids[1]: True, ids[2]: True}
    assert db.value("SELECT count(*) FROM eventbox.webhook_claim(10) c"
                    " WHERE c.webhook_id = %s", hook["id"]) == 0


def test_the_mailer_reaches_no_internal_address_unless_allowed(
        api, admin, db, make_event, receivers, hooks, hook_mailer, mailers):
    """By default a staff key cannot point the mailer at the machine itself:
    a URL naming 127.0.0.1, or a name that resolves to it, or the cloud
    metadata address, gets no connection, and the delivery says why.  With
    EVENTBOX_WEBHOOK_ALLOW_PRIVATE=1 the same delivery goes out."""
    slug = make_event()
    rx = receivers().start()
    url = rx.url
    by_name = f"https://localhost:{rx.port}/hooks/by-name-{uuid.uuid4().hex[:8]}"
    metadata = f"https://169.254.169.254/hooks/{uuid.uuid4().hex[:8]}"
    # The receiver's own port by other spellings of this machine: Linux
    # connects 0.0.0.0 to it, and an IPv4-mapped address is 127.0.0.1.
    spelt = {f"https://0.0.0.0:{rx.port}/hooks/zero-{uuid.uuid4().hex[:8]}": "0.0.0.0",
             f"https://[::ffff:127.0.0.1]:{rx.port}/hooks/mapped-{uuid.uuid4().hex[:8]}":
             "::ffff:127.0.0.1",
             f"https://[::1]:{rx.port}/hooks/v6-{uuid.uuid4().hex[:8]}": "::1"}
    made = [hooks(u, ["registration.created"])
            for u in (url, by_name, metadata, *spelt)]
    register(api, slug, "ann")
    p = hook_mailer(allow_private=0)

    def errors():
        return dict(db.all(
            "SELECT w.url, o.last_error FROM eventbox.outbox o"
            " JOIN eventbox.webhooks w ON w.id = o.webhook_id"
            " WHERE w.id = ANY(%s)", [h["id"] for h in made]))
    deadline = time.monotonic() + 30
    while not all(errors().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    got = errors()
    assert re.fullmatch(r"not sent to 127\.0\.0\.1: not a public address"
                        r" \(EVENTBOX_WEBHOOK_ALLOW_PRIVATE\)", got[url] or ""), got
    assert re.match(r"not sent to (127\.0\.0\.1|::1): not a public address",
                    got[by_name] or ""), got
    assert (got[metadata] or "").startswith("not sent to 169.254.169.254:"), got
    for u, ip in spelt.items():
        assert (got[u] or "").startswith(f"not sent to {ip}: not a public address"), got
    assert rx.seen == {}, "the receiver was connected to"
    assert mailers.stop(p) == 0
    listed = {w["id"]: w for w in admin.get("/webhooks").json["webhooks"]}
    assert listed[made[0]["id"]]["last_error"] == got[url]      # staff see why
    for h in made[1:]:          # not the metadata service of a cloud CI host
        db.all("SELECT eventbox.webhook_disable(%s)", h["id"])
    hook_mailer()                               # allows private addresses
    ((h, raw),) = rx.wait(path_of(url), 1)
    verify(made[0]["secret"], h, raw)


def test_staff_at_psql_manage_webhooks_and_the_service_cannot_read_secrets(db):
    staff = connect_as("eventbox_staff")
    try:
        with staff.cursor() as cur:
            cur.execute("SELECT outcome, webhook_id, secret FROM eventbox.webhook_create("
                        "'https://crm.example.org/psql', '{registration.cancelled}')")
            outcome, wid, secret = cur.fetchone()
            assert outcome == "created" and secret.startswith("whsec_")
            cur.execute("SELECT outcome FROM eventbox.webhook_create("
                        "'http://crm.example.org/psql', '{registration.cancelled}')")
            assert cur.fetchone() == ("insecure_url",)
            cur.execute("SELECT url, events FROM eventbox.webhook_list()"
                        " WHERE webhook_id = %s", (wid,))
            assert cur.fetchone() == ("https://crm.example.org/psql",
                                      ["registration.cancelled"])
            # The mailer's claim hands out secrets: not to staff.
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("SELECT secret FROM eventbox.webhook_claim(5)")
            cur.execute("SELECT eventbox.webhook_disable(%s), eventbox.webhook_disable(%s)",
                        (wid, wid))
            assert cur.fetchone() == (True, False)
    finally:
        staff.close()
    assert db.value("SELECT actor FROM eventbox.audit_log WHERE action = 'webhook_created'"
                    " AND details ->> 'webhook_id' = %s", str(wid)) == "eventbox_staff"
    for role in ("eventbox_app", "eventbox_mail"):
        conn = connect_as(role)
        try:
            with conn.cursor() as cur:
                with pytest.raises(Exception, match="permission denied"):
                    cur.execute("SELECT secret FROM eventbox.webhooks")
        finally:
            conn.close()


def test_secrets_stay_out_of_the_logs(api, db, make_event, receivers, hooks, hook_mailer):
    slug = make_event()
    rx = receivers(answer=lambda mid, n: 503 if n == 1 else 204).start()
    url = rx.url
    hook = hooks(url, ["registration.created"])
    register(api, slug, "logged")
    hook_mailer()
    rx.wait(path_of(url), 1)
    logs = env("EVENTBOX_LOG_DIR")
    for name in os.listdir(logs):
        with open(os.path.join(logs, name), "rb") as f:
            data = f.read()
        assert hook["secret"].encode() not in data, name
        assert hook["secret"][len("whsec_"):].encode() not in data, name
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE last_error LIKE %s",
                    "%whsec_%") == 0


def test_the_purge_erases_webhook_bodies_with_the_rest(api, db, make_event, hooks):
    slug = make_event(capacity=1)
    hooks("https://crm.example.org/never-delivered")     # no mailer: bodies wait
    tag = uuid.uuid4().hex[:8]
    addr = f"purge-{tag}@example.org"
    assert api.register(slug, f"Purgeable {tag}", addr).status == 201
    assert ("outbox", "payload", 1) in occurrences(db, addr)
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '40 days 2 hours',"
           " ends_at = now() - interval '40 days' WHERE slug = %s", slug)
    purge(30)
    assert occurrences(db, addr) == [] and occurrences(db, f"Purgeable {tag}") == []
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE event_id = %s",
                    event_id(db, slug)) == 0


def test_the_api_md_webhook_example_runs_as_written(api, admin, db):
    """docs/API.md's webhook example: its curl (at the stack's address,
    with a staff key as $KEY) creates the webhook and answers what the doc
    shows under it, key for key: the events as stored, sorted."""
    (block,) = [b for b in re.findall(r"(?:^    .*\n)+", api_md_webhooks(), re.M)
                if b.lstrip().startswith("curl ")]
    lines = [line[4:] for line in block.splitlines()]
    shown = json.loads(lines[-1])
    curl = "\n".join(lines[:-1])
    assert curl.count("https://events.example.org/") == 1, curl
    curl = curl.replace("https://events.example.org/", env("EVENTBOX_URL") + "/")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", curl],
                         env=dict(os.environ, KEY=admin.key), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    try:
        assert set(got) == set(shown), got
        assert {k: got[k] for k in ("url", "events")} == {
            k: shown[k] for k in ("url", "events")}, got
        assert isinstance(got["id"], int) and isinstance(shown["id"], int)
        assert shown["secret"].startswith("whsec_") and got["secret"].startswith("whsec_")
    finally:
        # Not left to collect the other tests' deliveries.
        if isinstance(got, dict) and "id" in got:
            db.all("SELECT eventbox.webhook_disable(%s)", got["id"])
