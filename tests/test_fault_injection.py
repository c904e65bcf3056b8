"""Fault injection under a mixed load, then the promises checked from the data.

For FAULT_SECONDS (default 20) tests/loadclient sends registrations through
nginx while a thread cancels by token (taken from the outbox, as a patron's
email would carry it), another makes clients hang up mid-request and
mid-response, staff change the capacity up and down through the staff API
(PUT .../capacity and PATCH of the event), and a sampler watches the seat
count.  Meanwhile: workers are
killed with SIGKILL, PostgreSQL is stopped and started, and a row lock is
held from psql past the 3 s lock timeout.

Afterwards, as the database owner: confirmed never above capacity (sampled
and in the final data), every 201 has its row and its outbox message, no
registration lacks its messages, the waiting list is 1..N in arrival order,
promotions went to the oldest waiting, no seat is empty while someone
waits, and the service answers normally without a restart.

A second, shorter run does the same with a mailer emptying the outbox while
its SMTP server is stopped and started again: afterwards every message,
each registration's confirmation among them, was received exactly once.
"""
import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid

import psycopg2

from conftest import ROOT, connect, devstack, env, record, wait_healthy
from staffkit import admin, staff_key  # noqa: F401
from test_faults import workers
from test_mail import Mailers, Server, free_port

SECONDS = int(os.environ.get("FAULT_SECONDS", "20"))
CAPACITY = 30


class Watcher(threading.Thread):
    """A background loop with its own database connection, which it
    reconnects while PostgreSQL is restarted (fetch() then gives None)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop, self.conn = False, None

    def fetch(self, sql, *args):
        try:
            if self.conn is None:
                self.conn = connect()
            with self.conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchone() or ()
        except psycopg2.Error:
            self.conn = None
            time.sleep(0.2)
            return None


class Sampler(Watcher):
    """Reads confirmed and capacity every 50 ms; keeps the highest seen."""

    def __init__(self, slug):
        super().__init__()
        self.slug, self.samples, self.worst, self.over = slug, 0, 0, []

    def run(self):
        while not self.stop:
            row = self.fetch(
                "SELECT confirmed_count, capacity,"
                " (SELECT count(*) FROM eventbox.registrations r"
                "   WHERE r.event_id = e.id AND r.status = 'confirmed')"
                " FROM eventbox.events e WHERE slug = %s", self.slug)
            if row:
                counted, cap, rows = row
                self.samples += 1
                self.worst = max(self.worst, counted, rows)
                if counted > cap or rows > cap:
                    self.over.append((counted, rows, cap))
            time.sleep(0.05)


class Canceller(Watcher):
    """Cancels random live registrations by the token from their email."""

    def __init__(self, api, slug):
        super().__init__()
        self.api, self.slug = api, slug
        self.statuses = collections.Counter()
        self.cancelled = set()

    def run(self):
        while not self.stop:
            row = self.fetch(
                "SELECT o.token, o.registration_id FROM eventbox.outbox o"
                " JOIN eventbox.events e ON e.id = o.event_id"
                " JOIN eventbox.registrations r ON r.id = o.registration_id"
                " WHERE e.slug = %s AND o.token IS NOT NULL"
                " AND r.status <> 'cancelled'"
                " ORDER BY random() LIMIT 1", self.slug)
            if not row:
                time.sleep(0.1)
                continue
            try:
                r = self.api.delete(f"/api/v1/registrations/{row[0]}",
                                    timeout=15)
                self.statuses[r.status] += 1
                if r.status == 200:
                    self.cancelled.add(row[1])
            except OSError:
                self.statuses["transport error"] += 1
            time.sleep(0.05)


class Hangups(threading.Thread):
    """Clients that send a registration and hang up before the answer, or
    after its first byte."""

    def __init__(self, api, slug, runid):
        super().__init__(daemon=True)
        self.api, self.slug, self.runid, self.stop = api, slug, runid, False
        self.count = 0

    def run(self):
        i = 0
        while not self.stop:
            body = json.dumps({"name": f"Gone {i}",
                               "email": f"gone{i}-{self.runid}@example.org"})
            req = (f"POST /api/v1/events/{self.slug}/registrations HTTP/1.1\r\n"
                   f"Host: localhost\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                   f"{body}").encode()
            try:
                s = socket.create_connection((self.api.host, self.api.port), 5)
                s.sendall(req)
                if i % 2:
                    s.recv(1)        # mid-response
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\1\0\0\0\0\0\0\0")   # RST, not FIN
                s.close()
                self.count += 1
            except OSError:
                pass
            i += 1
            time.sleep(0.1)


class CapacityChanger(threading.Thread):
    """Staff raising and lowering the capacity by 1 to 3 seats, by turns
    through PUT .../capacity and PATCH of the event.  A raise promotes the
    oldest waiting at once; a lower below the seats taken is refused
    (409 capacity_below_confirmed) and bumps nobody."""

    def __init__(self, admin, slug, capacity):
        super().__init__(daemon=True)
        self.admin, self.slug, self.stop = admin, slug, False
        self.capacity = capacity
        self.statuses = collections.Counter()   # (call, status, code)
        self.changed = {"up": 0, "down": 0}
        self.promoted = 0
        self.wrong = []                          # answers that break a promise
        # False after an answer lost to a fault (a killed worker's 502, a
        # 503, no answer): the change may have gone through, so the
        # capacity is not known again until the next 200 says it, and a
        # "raise" from the old figure may be a lowering below the seats.
        self.known = True

    def run(self):
        i = 0
        while not self.stop:
            up = i % 2 == 0
            want = self.capacity + (1 if up else -1) * random.randint(1, 3)
            use_put = i % 4 < 2
            try:
                if use_put:
                    r = self.admin.put(f"/events/{self.slug}/capacity",
                                       json_body={"capacity": want}, timeout=15)
                else:
                    r = self.admin.patch(f"/events/{self.slug}",
                                         json_body={"capacity": want},
                                         timeout=15)
            except OSError:
                self.statuses[("transport error", 0, "")] += 1
                self.known = False
                i += 1
                continue
            call = "PUT capacity" if use_put else "PATCH event"
            code = r.json["error"]["code"] if r.status in (409, 503) else ""
            self.statuses[(call, r.status, code)] += 1
            if r.status == 200:
                got = r.json["capacity"]
                if got != want:
                    self.wrong.append((call, want, r.json))
                if use_put:
                    self.promoted += r.json["promoted"]
                    if r.json["confirmed"] > got:
                        self.wrong.append((call, want, r.json))
                self.changed["up" if up else "down"] += 1
                self.capacity = got
                self.known = True
            elif r.status == 409 and code == "capacity_below_confirmed":
                if up and self.known:
                    self.wrong.append((call, want, r.json))
            elif r.status in (502, 503):
                self.known = False
            else:
                self.wrong.append((call, want, r.status, r.body[:200]))
            i += 1
            time.sleep(0.2)


def kill_a_worker():
    _, pids = workers()
    victim = random.choice(pids)
    os.kill(victim, signal.SIGKILL)
    return victim


def hold_lock(slug, seconds):
    holder = connect()
    holder.autocommit = False
    with holder.cursor() as cur:
        cur.execute("SELECT 1 FROM eventbox.events WHERE slug = %s FOR UPDATE",
                    (slug,))
        time.sleep(seconds)
    holder.rollback()
    holder.close()


def test_faults_under_mixed_load_lose_nothing_and_oversell_nothing(
        api, admin, db, make_event, tmp_path):
    slug = make_event(capacity=CAPACITY, waitlist=True)
    runid = uuid.uuid4().hex[:8]
    master, before = workers()
    out = tmp_path / "load.tsv"
    body = '{"name":"Patron {n}","email":"f{n}-%s@example.org"}' % runid
    load = subprocess.Popen(
        [os.path.join(ROOT, "tests", "loadclient"), "-X", "POST", "-c", "8",
         "-d", str(SECONDS), "-t", "20", "-b", body, "-o", str(out), "-q",
         f"{api.base}/api/v1/events/{slug}/registrations"],
        stderr=subprocess.PIPE, text=True)
    sampler, canceller = Sampler(slug), Canceller(api, slug)
    hangups = Hangups(api, slug, runid)
    changer = CapacityChanger(admin, slug, CAPACITY)
    threads = (sampler, canceller, hangups, changer)
    for t in threads:
        t.start()

    faults = []
    step = SECONDS / 10
    time.sleep(step)
    faults.append(f"SIGKILL worker {kill_a_worker()}")
    time.sleep(step)
    faults.append(f"SIGKILL worker {kill_a_worker()}")
    time.sleep(step)
    devstack("pg-stop")
    time.sleep(2)
    devstack("pg-start")
    faults.append("PostgreSQL stopped for 2 s and started")
    time.sleep(step)
    hold_lock(slug, 4)
    faults.append("event row locked from psql for 4 s (lock_timeout 3 s)")
    time.sleep(step)
    faults.append(f"SIGKILL worker {kill_a_worker()}")

    _, err = load.communicate(timeout=SECONDS + 120)
    for t in threads:
        t.stop = True
    for t in threads:
        t.join(30)
    assert load.returncode == 0, err     # every request got an HTTP answer

    # --- The answers ------------------------------------------------------
    statuses, why = collections.Counter(), collections.Counter()
    answered = {}
    for line in out.read_text().splitlines():
        seq, status, _lat, resp = line.split("\t", 3)
        statuses[int(status)] += 1
        if status == "503":
            why[json.loads(resp)["error"]["code"]] += 1
        if status == "201":
            answered[f"f{seq}-{runid}@example.org"] = json.loads(resp)["status"]
    assert statuses[201] > 0, statuses
    # Only these may appear: a kill mid-request is a 502 from nginx, a
    # database away or a lock held too long a 503.  Never a 500.
    assert set(statuses) <= {201, 502, 503}, statuses
    # Staff's changes: 200, a lower refused below the seats taken, or the
    # same 502 and 503; the capacity each 200 names is the one asked for,
    # and some went through each way.
    assert not changer.wrong, changer.wrong
    assert {s for _, s, _ in changer.statuses} <= {200, 409, 502, 503}, \
        changer.statuses
    assert changer.changed["up"] > 0, changer.statuses

    # --- The data, as the owner ---------------------------------------------
    ev = db.one("SELECT id, capacity, confirmed_count, waitlisted_count"
                " FROM eventbox.events WHERE slug = %s", slug)
    ev_id, cap, confirmed_count, waitlisted_count = ev
    regs = {r[0]: r for r in db.all(
        "SELECT id, lower(email), status, confirmed_at, promoted_at, cancelled_at"
        " FROM eventbox.registrations WHERE event_id = %s", ev_id)}
    kinds = collections.defaultdict(set)
    for rid, kind in db.all("SELECT registration_id, kind FROM eventbox.outbox"
                            " WHERE event_id = %s", ev_id):
        kinds[rid].add(kind)
    by_email = {}
    for r in regs.values():
        by_email.setdefault(r[1], []).append(r)

    confirmed = [r for r in regs.values() if r[2] == "confirmed"]
    waiting = sorted(r[0] for r in regs.values() if r[2] == "waitlisted")
    assert len(confirmed) == confirmed_count <= cap
    assert len(waiting) == waitlisted_count
    assert not sampler.over, sampler.over
    assert sampler.samples > 10

    # Every 201 has its row and its message, with the status it was told.
    for email, status in answered.items():
        rows = by_email.get(email)
        assert rows and len(rows) == 1, (email, rows)
        rid, _, now, confirmed_at, promoted_at, _ = rows[0]
        assert status in kinds[rid], (email, status, kinds[rid])
        if status == "confirmed":
            assert confirmed_at is not None and promoted_at is None
        else:
            assert now in ("waitlisted", "cancelled") or promoted_at is not None

    # No registration without its messages.
    for rid, (_, email, status, _, promoted_at, cancelled_at) in regs.items():
        assert kinds[rid] & {"confirmed", "waitlisted"}, (email, kinds[rid])
        if promoted_at is not None:
            assert "promoted" in kinds[rid], email
        if status == "cancelled":
            assert "cancelled" in kinds[rid], email
    # Every cancellation answered 200 is a cancelled row.
    for rid in canceller.cancelled:
        assert regs[rid][2] == "cancelled"

    # The waiting list: positions 1..N in id (arrival) order.
    positions = dict(db.all(
        "SELECT registration_id, position FROM eventbox.roster"
        " WHERE slug = %s AND status = 'waitlisted'", slug))
    assert [positions[i] for i in waiting] == list(range(1, len(waiting) + 1))

    # Promotions went to the oldest waiting: nobody still waiting arrived
    # before anybody promoted.
    promoted = [r[0] for r in regs.values() if r[4] is not None]
    if promoted and waiting:
        assert max(promoted) < min(waiting), (max(promoted), min(waiting))
    # No seat stays empty while somebody waits.
    if waiting:
        assert len(confirmed) == cap

    # --- The service, without a restart -------------------------------------
    wait_healthy(api)
    m, now = workers()
    assert m == master and len(now) == len(before)
    r = api.register(slug, "After", f"after-{runid}@example.org")
    assert r.status == 201, r
    assert api.get(f"/api/v1/events/{slug}").status == 200

    gone = sum(1 for e in by_email if e.startswith("gone"))
    record("fault", "; ".join(faults) + f", during {SECONDS} s of "
           f"registrations ({sum(statuses.values())} sent, 8 clients), "
           f"{sum(canceller.statuses.values())} cancellations and "
           f"{hangups.count} clients hanging up mid-request or mid-response",
           "registrations: " + ", ".join(f"{n} x {s}" for s, n in
                                         sorted(statuses.items())) +
           " (503: " + ", ".join(f"{n} {c}" for c, n in sorted(why.items())) +
           ")" +
           "; cancellations: " + ", ".join(
               f"{n} x {s}" for s, n in sorted(canceller.statuses.items(),
                                               key=str)) +
           f"; {gone} hung-up clients' registrations committed" +
           "; staff capacity changes: " + ", ".join(
               f"{n} x {c} {s}{' ' + e if e else ''}" for (c, s, e), n in
               sorted(changer.statuses.items(), key=str)) +
           f" ({changer.changed['up']} raised, {changer.changed['down']}"
           f" lowered, {changer.promoted} promoted by a raise)",
           f"yes: all {len(answered)} answered 201 have row and message; "
           f"{len(regs)} rows, all with messages; confirmed max "
           f"{sampler.worst}/{cap} over {sampler.samples} samples; "
           f"waiting list 1..{len(waiting)} in order; master pid unchanged")


# The subject line's start for each outbox kind (src/mail.c).
SUBJECTS = {
    "Registration confirmed: ": "confirmed",
    "Waiting list: ": "waitlisted",
    "A seat opened up, you are registered: ": "promoted",
    "Registration cancelled: ": "cancelled",
    "You have left the waiting list: ": "cancelled",   # a waiting place's receipt
    "You are already registered: ": "already_registered",
    "Reminder: ": "reminder",
    "Event cancelled: ": "event_cancelled",
}
MAIL_SECONDS = 10


class Registrants(threading.Thread):
    """Registers new patrons at a steady pace (about 12 a second), so the
    mailer has a known amount to catch up on."""

    def __init__(self, api, slug, runid, n):
        super().__init__(daemon=True)
        self.api, self.slug, self.runid, self.n = api, slug, runid, n
        self.stop, self.statuses = False, collections.Counter()

    def run(self):
        i = 0
        while not self.stop:
            try:
                email = f"m{self.n}.{i}-{self.runid}@example.org"
                r = self.api.register(self.slug, f"Mail {i}", email,
                                      timeout=15)
                self.statuses[r.status] += 1
            except OSError:
                self.statuses["transport error"] += 1
            i += 1
            time.sleep(0.08)


def kind_of(msg):
    subject = str(msg["Subject"])
    kinds = [k for p, k in SUBJECTS.items() if subject.startswith(p)]
    assert len(kinds) == 1, subject
    return kinds[0]


def test_smtp_down_under_mixed_load_then_every_message_arrives_exactly_once(
        api, db, make_event):
    slug = make_event(capacity=CAPACITY, waitlist=True)
    ev_id = db.one("SELECT id FROM eventbox.events WHERE slug = %s", slug)[0]
    runid = uuid.uuid4().hex[:8]
    # Other tests' queued messages wait, so the mailer works on this
    # event's only; they are due again at the end, nothing is lost.
    parked = [r[0] for r in db.all(
        "UPDATE eventbox.outbox SET next_attempt_at = now() + interval '1 day'"
        " WHERE status = 'pending' RETURNING id")]
    server = Server(port=free_port()).start()
    mailers = Mailers()
    try:
        mailer = mailers.start(server.url, EVENTBOX_MAIL_MAX_TRIES=50,
                               EVENTBOX_MAIL_RETRY_BASE_MS=100)
        regs = [Registrants(api, slug, runid, n) for n in range(2)]
        canceller, hangups = Canceller(api, slug), Hangups(api, slug, runid)
        threads = regs + [canceller, hangups]
        for t in threads:
            t.start()
        step = MAIL_SECONDS / 5
        time.sleep(step)
        server.stop()
        time.sleep(step)
        victim = kill_a_worker()
        time.sleep(step)
        # The mailers found the relay down (032: they pause all mail, and
        # the outage uses up no message's tries but a message's cut off
        # after its text, below).
        found_down = db.one("SELECT down_since IS NOT NULL"
                            " FROM eventbox.mail_relay")[0]
        server.start()          # the same port: the mailer's URL holds
        time.sleep(2 * step)
        for t in threads:
            t.stop = True
        for t in threads:
            t.join(30)

        # Caught up: every message of this event sent, within a deadline,
        # and still so a second later, when anything sent twice or any
        # late registration would show.  One query, one snapshot; a sent
        # row keeps no address, the registration has it.
        deadline, settled = time.time() + 60, 0
        while settled < 2:
            # A message that went stale before its turn (a confirmation
            # for a registration cancelled meanwhile) is closed unsent:
            # last_error 'skipped' (sql/rules/80_mail.sql mail_stale).
            both = db.all("SELECT lower(r.email), o.kind, o.status,"
                          " o.attempts, o.id FROM eventbox.registrations r"
                          " LEFT JOIN eventbox.outbox o"
                          "  ON o.registration_id = r.id"
                          "  AND o.last_error IS DISTINCT FROM 'skipped'"
                          " WHERE r.event_id = %s", ev_id)
            rows = [r for r in both if r[1] is not None]
            if all(r[2] == "sent" for r in rows):
                settled += 1
                time.sleep(1)
                continue
            settled = 0
            assert time.time() < deadline, collections.Counter(
                r[2] for r in rows)
            time.sleep(0.2)
        mailers.stop_all()
    finally:
        for p in list(mailers.procs):
            mailers.stop(p)
        server.stop()
        db.all("UPDATE eventbox.outbox SET next_attempt_at = now()"
               " WHERE id = ANY (%s) AND status = 'pending' RETURNING id",
               parked)

    # A message whose text the relay had when it went away, unanswered,
    # may have arrived: that costs it a try (760c9e8), and it may come
    # twice.  The mailer says which, one at a time; any other message
    # uses up no try in the outage.
    unanswered = set()
    with open(os.path.join(env("EVENTBOX_LOG_DIR"), "mailer-test.log")) as f:
        for line in f:
            m = re.search(r"eventbox-mailer\[(\d+)\] warning: outbox (\d+): .*"
                          r"no answer after the message", line)
            if m and int(m[1]) == mailer.pid:
                unanswered.add(int(m[2]))
    assert len(unanswered) <= 1, unanswered
    # Received, per recipient and kind, exactly what the outbox holds.
    want = collections.Counter((r[0], r[1]) for r in rows)
    maybe_twice = collections.Counter((r[0], r[1]) for r in rows
                                      if r[4] in unanswered)
    mine = {r[0] for r in rows}
    with server.lock:
        assert all(len(rcpts) == 1 for rcpts, _, _ in server.messages)
        got = collections.Counter(
            (rcpts[0], kind_of(msg)) for rcpts, msg, _ in server.messages
            if rcpts[0] in mine)
    twice = {k: n for k, n in got.items() if n > 1 and k not in maybe_twice}
    assert not twice, list(twice.items())[:5]
    assert want <= got <= want + maybe_twice, (
        sorted((want - got).items())[:5], sorted((got - want).items())[:5])
    # Every registration's confirmation among them, unless it was
    # cancelled before its confirmation's turn (then that one was skipped).
    skipped = {r[0] for r in db.all(
        "SELECT lower(r.email) FROM eventbox.registrations r"
        " JOIN eventbox.outbox o ON o.registration_id = r.id"
        " WHERE r.event_id = %s AND o.last_error = 'skipped'"
        " AND o.kind IN ('confirmed', 'waitlisted') AND r.status = 'cancelled'", ev_id)}
    registered = {r[0] for r in both} - skipped
    assert registered
    for email in registered:
        assert got[(email, "confirmed")] + got[(email, "waitlisted")] == 1, \
            email
    assert found_down, "the SMTP server was never found down"
    assert all(r[3] == (2 if r[4] in unanswered else 1) for r in rows), \
        collections.Counter((r[3], r[4] in unanswered) for r in rows)
    statuses = sum((t.statuses for t in regs), collections.Counter())
    assert statuses[201] > 0 and set(statuses) <= {201, 502}, statuses
    wait_healthy(api)

    record("fault", f"SMTP server stopped for {2 * step:.0f} s and started on"
           f" the same port, SIGKILL worker {victim}, with a mailer running,"
           f" during {MAIL_SECONDS} s of registrations (2 clients),"
           f" {sum(canceller.statuses.values())} cancellations and"
           f" {hangups.count} clients hanging up",
           f"registrations: " + ", ".join(
               f"{n} x {s}" for s, n in sorted(statuses.items(), key=str)) +
           f"; {len(rows)} messages queued, the relay found down, no try used"
           f" but by {len(unanswered)} message(s) cut off unanswered after its text",
           f"yes: all {len(rows)} received ({len(registered)} registrations,"
           f" each with its confirmation), none twice but"
           f" {sum((got - want).values())} cut off unanswered after its text")
