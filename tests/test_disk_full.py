"""A full disk: what patrons, the mailer and the logs get while there is no
room, and that everything comes back by itself once there is.

These tests run a stack of their own (deploy/devstack.sh start) on a small
tmpfs mounted for them (root only), so that its PostgreSQL (data and WAL),
its logs and its nginx run out of room together, as on a server whose /var
filled up, without touching the shared stack.  The disk is filled with a
file of zeros and freed by deleting it; the tmpfs is unmounted afterwards,
whatever happened.  docs/OPS.md ("A full disk") says what a sysadmin sees.
"""
import base64
import contextlib
import errno
import http.client
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
import uuid

import psycopg2
import pytest

from conftest import ROOT, Api, wait_healthy
from test_mail import BIN, Mailers, Server
from test_metrics import scrape, value
from test_pages import Patron, is_html
from test_webhooks import path_of, receivers, tls  # noqa: F401

SIZE = "128m"
DEVSTACK = os.path.join(ROOT, "deploy", "devstack.sh")


def env_file(path):
    """The variables a devstack env file exports."""
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"export (\w+)='(.*)'$", line.strip())
            if m:
                out[m.group(1)] = m.group(2)
    return out


class Small:
    """The stack on the small disk: its API, its database (as the owner and
    as the superuser), and the file that fills its disk."""

    def __init__(self, top, var, start_env):
        self.top, self.var, self.start_env = top, var, start_env
        self.env = env_file(os.path.join(var, "env"))
        self.api = Api(self.env["EVENTBOX_URL"])
        self.filler = os.path.join(top, "filler")

    def connect(self, user=None):
        conn = psycopg2.connect(host=self.env["PGHOST"], port=self.env["PGPORT"],
                                dbname=self.env["PGDATABASE"],
                                user=user or self.env["PGUSER"])
        conn.autocommit = True
        return conn

    def all(self, sql, *args, user=None):
        conn = self.connect(user)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def event(self, capacity):
        slug = "t-" + uuid.uuid4().hex[:12]
        self.all("INSERT INTO eventbox.events (slug, title, capacity,"
                 " waitlist_enabled, status, timezone, starts_at, ends_at)"
                 " VALUES (%s, 'Full disk', %s, true, 'published',"
                 " 'America/New_York', now() + interval '7 days',"
                 " now() + interval '7 days 1 hour')", slug, capacity)
        return slug

    def roster(self, slug):
        return {e.lower(): (st, pos) for e, st, pos in self.all(
            "SELECT email, status, position FROM eventbox.roster"
            " WHERE slug = %s", slug)}

    def master(self):
        with open(os.path.join(self.var, "run", "eventbox.pid")) as f:
            return int(f.read())

    def fill(self):
        """Writes zeros until the disk refuses more (whole MiBs, then pages)."""
        with open(self.filler, "ab", buffering=0) as f:
            for chunk in (1 << 20, 4096):
                try:
                    while True:
                        f.write(b"\0" * chunk)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
        assert os.statvfs(self.top).f_bavail == 0

    def free(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)

    def devstack(self, *args):
        subprocess.run([DEVSTACK, *args, self.var], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, env=self.start_env)

    def mailer(self, mailers, server, **extra):
        return mailers.start(server.url, EVENTBOX_DSN=self.env["EVENTBOX_MAILER_DSN"],
                             EVENTBOX_BASE_URL=self.env["EVENTBOX_URL"], **extra)


def mount_tmpfs(path, size, *opts):
    assert subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join((f"size={size}",) + opts),
                           "tmpfs", path]).returncode == 0, f"mount -t tmpfs on {path} failed"


def umount(path):
    if subprocess.run(["umount", path]).returncode != 0:
        subprocess.run(["umount", "-l", path])


@contextlib.contextmanager
def stack_on_tmpfs(**extra):
    """A stack of its own on a small tmpfs of its own (extra: its
    devstack.sh environment), stopped and unmounted whatever happened."""
    if os.geteuid() != 0:
        pytest.skip("a disk of its own is a tmpfs mount: root only")
    # Not under pytest's 0700 tmp dir: PostgreSQL (user postgres) must reach
    # it, or devstack.sh would put the cluster elsewhere, off this disk.
    top = tempfile.mkdtemp(prefix="eventbox-disk-")
    os.chmod(top, 0o755)
    var = os.path.join(top, "v")
    # The shared stack's coordinates are not this one's.
    e = {k: v for k, v in os.environ.items()
         if k not in env_file(os.path.join(os.environ["EVENTBOX_VAR"], "env"))}
    e.update(EVENTBOX_SAMPLE="0", EVENTBOX_WORKERS="2", **extra)
    mounted = False
    try:
        mount_tmpfs(top, SIZE, "mode=0755")
        mounted = True
        subprocess.run([DEVSTACK, "start", var], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, env=e)
        yield Small(top, var, e)
    finally:
        if os.path.exists(os.path.join(top, "filler")):
            os.unlink(os.path.join(top, "filler"))
        subprocess.run([DEVSTACK, "stop", var], timeout=120,
                       stdout=subprocess.DEVNULL, env=e)
        if mounted:
            umount(top)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def small():
    with stack_on_tmpfs() as s:
        yield s


@pytest.fixture
def mailers():
    m = Mailers()
    yield m
    m.stop_all()


@pytest.fixture
def smtp():
    s = Server().start()
    yield s
    s.stop()


def exactly_once(server, addrs, timeout=60):
    server.wait_for(addrs, timeout=timeout)
    time.sleep(1.5)             # a copy sent again would be here by now
    twice = {a: len(server.to(a)) for a in addrs if len(server.to(a)) != 1}
    assert not twice, f"sent more than once: {twice}"


@contextlib.contextmanager
def no_room(small, rows):
    """Until room() is called, an UPDATE of an outbox row for which rows
    (SQL over NEW) holds fails as PostgreSQL fails one on a full disk: the
    same 53100 and message.  Whether a mark finds a truly full disk full
    depends on which pages still have room; this one always does."""
    small.all(f"""
        CREATE TABLE public.disk_is_full (on_ boolean);
        GRANT SELECT ON public.disk_is_full TO PUBLIC;
        INSERT INTO public.disk_is_full VALUES (true);
        CREATE FUNCTION public.disk_is_full() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM public.disk_is_full) THEN
                RAISE EXCEPTION 'could not extend file "base/16388/16469": '
                    'No space left on device' USING ERRCODE = 'disk_full';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER disk_is_full BEFORE UPDATE ON eventbox.outbox
            FOR EACH ROW WHEN ({rows}) EXECUTE FUNCTION public.disk_is_full();""")
    try:
        yield lambda: small.all("DELETE FROM public.disk_is_full")
    finally:
        small.all("DROP TRIGGER disk_is_full ON eventbox.outbox;"
                  " DROP FUNCTION public.disk_is_full(); DROP TABLE public.disk_is_full")


def register_on_a_full_disk(api, slug, tag, n):
    """n registrations: each a 201, or a 503 "unavailable" with Retry-After,
    within seconds.  The 201s' answers by address, the 503s' addresses."""
    answered, refused = {}, []
    for i in range(n):
        email = f"{tag}{i}@example.org"
        t0 = time.time()
        r = api.register(slug, f"Patron {i}", email, timeout=20)
        assert time.time() - t0 < 10, r
        assert r.status in (201, 503), r
        if r.status == 201:
            answered[email] = r.json
            continue
        assert r.header("Content-Type").startswith("application/json"), r
        assert r.json["error"]["code"] == "unavailable", r
        assert r.header("Retry-After") == "5", r
        refused.append(email)
    return answered, refused


def registers_again(small, slug, tag, answered, master):
    """Once there is room: the next registration is a 201, from the same
    `eventbox serve`, and every 201 so far has its row as answered."""
    late = f"{tag}late@example.org"
    r = small.api.register(slug, "Late", late)
    assert r.status == 201, r
    answered[late] = r.json
    assert small.master() == master
    roster = small.roster(slug)
    for email, a in answered.items():
        assert roster[email] == (a["status"], a["position"]), email
    return roster


def test_a_full_disk_answers_503_then_registers_again_once_there_is_room(
        small, mailers, smtp):
    """Registrations, by the API and by the form, while neither the tables
    nor the logs have room: a 503 with Retry-After, never a 500 or a hang;
    a 201 only for a row that is there; the seats never oversold; the
    mailer (its log on the same disk) sends each confirmation once; and the
    first registration once the disk is freed goes through, no restart."""
    api, runid = small.api, uuid.uuid4().hex[:8]
    slug = small.event(capacity=3)
    mailer = small.mailer(mailers, smtp, EVENTBOX_LOG_FILE=os.path.join(
        small.var, "log", "mailer.log"))
    master = small.master()
    before = scrape(api)
    small.fill()
    try:
        answered, refused = register_on_a_full_disk(api, slug, f"full-{runid}-", 40)
        assert len(refused) > 30, "the disk was full, yet nearly all went through"

        # A patron at the form: its page still shows (a read), the post is
        # a page that says to try again, with Retry-After.
        form = Patron(api).register(slug)
        assert form.status == 503, form
        assert is_html(form) and "try again" in form.text.lower(), form
        assert form.header("Retry-After") == "5", form

        # Reads go on: /healthz says the database answers; /metrics counts
        # the refusals and says why.
        assert api.get("/healthz").status == 200
        assert api.get(f"/api/v1/events/{slug}").status == 200
        during = scrape(api)
        assert value(during, "eventbox_db_disk_full_total") \
            - value(before, "eventbox_db_disk_full_total") >= len(refused) + 1
        assert value(during, "eventbox_registrations_total", outcome="unavailable") \
            - value(before, "eventbox_registrations_total",
                    outcome="unavailable") == len(refused) + 1
        assert mailer.poll() is None
    finally:
        small.free()

    roster = registers_again(small, slug, f"full-{runid}-", answered, master)
    assert not set(refused) & set(roster), "a refused registration left a row"
    confirmed = [e for e, (st, _) in roster.items() if st == "confirmed"]
    waiting = sorted(p for st, p in roster.values() if st == "waitlisted")
    assert len(confirmed) <= 3 and waiting == list(range(1, len(waiting) + 1))

    exactly_once(smtp, list(answered))
    assert mailer.poll() is None


def test_a_mark_the_database_has_no_room_for_waits_and_the_message_goes_once(
        small, mailers, smtp):
    """The relay took a message, and the database has no room to record it
    (53100).  Given up, the message stays due and goes out again at every
    claim, twice a second, as long as the disk is full.  The mailer holds
    the row instead and marks it again until there is room: one copy.

    Whether a mark finds the disk full depends on which pages still have
    room (the first test's marks mostly found some), so PostgreSQL's
    answer, the same 53100 and message, comes from a trigger of this
    stack's own while a flag is set."""
    api, runid = small.api, uuid.uuid4().hex[:8]
    slug = small.event(capacity=10)
    addrs = [f"mark{i}-{runid}@example.org" for i in range(3)]
    for a in addrs:
        assert api.register(slug, "Marked", a).status == 201
    log = os.path.join(tempfile.mkdtemp(), "mailer.log")
    with no_room(small, "true") as room:
        mailer = small.mailer(mailers, smtp, EVENTBOX_LOG_FILE=log)
        deadline = time.time() + 30
        while not smtp.messages:
            assert time.time() < deadline, "nothing was sent"
            time.sleep(0.05)
        time.sleep(3)           # given up, six copies by now
        assert len(smtp.messages) == 1, [m[0] for m in smtp.messages]
        text = open(log).read()
        assert "no room to record" in text, text
        assert mailer.poll() is None
        room()
        exactly_once(smtp, addrs)
    assert {st for st, in small.all(
        "SELECT o.status FROM eventbox.outbox o JOIN eventbox.events e"
        " ON e.id = o.event_id WHERE e.slug = %s", slug)} == {"sent"}
    assert mailers.stop(mailer) == 0


@pytest.mark.parametrize("first", [204, 500])
def test_a_delivery_the_database_has_no_room_to_record_is_sent_once(
        small, mailers, smtp, tls, receivers, first):   # noqa: F811
    """The receiver answered, and the database has no room to record it
    (53100): given up, the delivery stayed due and the receiver got it
    again at every claim, twice a second, for as long as the disk was full.
    The mailer holds the row instead, as it holds a message's mark, and
    marks it again until there is room: a receiver that took it (204) gets
    it once; one that refused it (500) gets it again once its failure is
    recorded, after the backoff, not twice a second.  The confirmation
    emails queued with it go out once there is room, once each."""
    api, runid = small.api, uuid.uuid4().hex[:8]
    slug = small.event(capacity=10)
    # The first request of all gets `first`, every other one 204.
    rx = receivers(answer=lambda mid, n: first if (len(rx.seen), n) == (1, 1)
                   else 204).start()
    url = rx.url
    ((hook,),) = small.all(
        "INSERT INTO eventbox.webhooks (url, events, secret) VALUES"
        " (%s, '{registration.created}', %s) RETURNING id", url,
        "whsec_" + base64.b64encode(os.urandom(32)).decode())
    addrs = [f"hook{i}-{runid}@example.org" for i in range(2)]
    log = os.path.join(tempfile.mkdtemp(), "mailer.log")
    try:
        with no_room(small, f"NEW.webhook_id = {int(hook)}") as room:
            for a in addrs:
                assert api.register(slug, "Hooked", a).status == 201
            mailer = small.mailer(mailers, smtp, EVENTBOX_LOG_FILE=log,
                                  EVENTBOX_WEBHOOK_CA=tls[0],
                                  EVENTBOX_WEBHOOK_ALLOW_PRIVATE=1,
                                  EVENTBOX_WEBHOOK_RETRY_BASE_MS=200,
                                  EVENTBOX_WEBHOOK_MAX_BACKOFF_MS=2000)
            deadline = time.time() + 30
            while not rx.seen:
                assert time.time() < deadline, (open(log).read(), small.all(
                    "SELECT kind, status, attempts, last_error FROM eventbox.outbox"))
                time.sleep(0.05)
            time.sleep(4)           # given up, six or more by now
            assert list(rx.seen.values()) == [1], rx.seen
            assert "no room to record" in open(log).read()
            assert mailer.poll() is None
            room()
            got = rx.wait(path_of(url), len(addrs))
        time.sleep(1.5)             # a delivery sent again would be here by now
        assert len(got) == len(addrs)
        assert sorted(rx.seen.values()) == ([1, 1] if first == 204 else [1, 2]), rx.seen
        assert sorted(json.loads(b)["registration"]["email"] for _, b in
                      rx.for_path(path_of(url))) == addrs
        assert small.all(
            "SELECT o.status, o.attempts FROM eventbox.outbox o JOIN eventbox.webhooks w"
            " ON w.id = o.webhook_id WHERE w.url = %s ORDER BY o.id", url) == \
            [("sent", 1 if first == 204 else 2), ("sent", 1)]
        exactly_once(smtp, addrs)
        assert mailers.stop(mailer) == 0
    finally:
        small.all("UPDATE eventbox.webhooks SET disabled_at = now() WHERE id = %s", hook)


def wal_needs_a_new_segment(small):
    """Ends the current WAL segment, so that the next record goes into the
    next one, and makes sure that one is not on disk yet: a checkpoint
    keeps old segments as future ones (recycled, min_wal_size), and a
    registration then wrote into one of those instead of a new file (CI
    of 2026-12-04 saw all ten answered 201).  Each switch after a record
    uses up one of them."""
    for _ in range(64):
        ((done, ahead),) = small.all(
            "SELECT w.done, (SELECT count(*) FROM pg_ls_waldir() f"
            "                 WHERE f.name ~ '^[0-9A-F]{24}$' AND f.name > w.done)"
            " FROM (SELECT pg_walfile_name(pg_switch_wal()) AS done) w", user="postgres")
        if ahead == 0:
            return
        small.all("SELECT pg_logical_emit_message(false, 'eventbox-test', 'next')",
                  user="postgres")
    raise AssertionError(f"WAL segments after {done} still on disk after 64 switches")


def test_no_room_for_the_wal_answers_503_and_postgresql_started_again_serves(
        small, mailers, smtp):
    """With no room for a new WAL segment PostgreSQL PANICs at the flush and
    restarts (its recovery stops it for good when that finds no room
    either, and does not when a recycled segment is there: both happen
    here).  No registration is answered 201 that the flush did not make
    durable; workers and mailer wait; once there is room and PostgreSQL is
    started again, they reconnect by themselves."""
    api, runid = small.api, uuid.uuid4().hex[:8]
    slug = small.event(capacity=50)
    mailer = small.mailer(mailers, smtp)
    master = small.master()
    # The next WAL record needs a new segment, and the disk has no room.
    wal_needs_a_new_segment(small)
    small.fill()
    try:
        answered, refused = register_on_a_full_disk(api, slug, f"wal-{runid}-", 10)
        assert refused
        assert api.get("/healthz").status in (200, 503)
        assert mailer.poll() is None
    finally:
        small.free()
    # As a sysadmin would once there is room: PostgreSQL stopped (in
    # whichever state its restarts left it) and started.
    small.devstack("pg-stop")
    small.devstack("pg-start")
    wait_healthy(api)
    registers_again(small, slug, f"wal-{runid}-", answered, master)
    exactly_once(smtp, list(answered))
    assert mailer.poll() is None


def test_a_log_file_that_cannot_be_written_costs_lines_not_mail(small, smtp):
    """The mailer's log file refuses its lines (here past RLIMIT_FSIZE, as
    a full disk refuses them with ENOSPC): the mailer goes on sending, each
    message once, and its first line once the file takes lines again says
    how many were lost and why.  SIGXFSZ, the signal for a file past the
    limit, killed the mailer at its first line past it."""
    api, runid = small.api, uuid.uuid4().hex[:8]
    slug = small.event(capacity=10)
    log = os.path.join(tempfile.mkdtemp(), "mailer.log")
    limit = 200                 # "started", a line or so more

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    e = dict(os.environ, EVENTBOX_DSN=small.env["EVENTBOX_MAILER_DSN"],
             EVENTBOX_BASE_URL=small.env["EVENTBOX_URL"],
             EVENTBOX_SMTP_URL=smtp.url, EVENTBOX_LOG_FILE=log,
             EVENTBOX_MAIL_FROM="Learning Services <events@library.example.org>")
    p = subprocess.Popen([BIN, "mailer"], env=e, cwd=ROOT, stdin=subprocess.DEVNULL,
                         preexec_fn=small_files)
    try:
        addrs = [f"log{i}-{runid}@example.org" for i in range(4)]
        for a in addrs:
            assert api.register(slug, "Logged", a).status == 201
        smtp.wait_for(addrs, timeout=30)
        assert p.poll() is None, f"the mailer exited: {p.returncode}"
        assert os.path.getsize(log) <= limit
        resource.prlimit(p.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        late = f"log-late-{runid}@example.org"
        assert api.register(slug, "Logged", late).status == 201
        exactly_once(smtp, addrs + [late])
        lines = open(log).read().splitlines()
        lost = [ln for ln in lines if re.search(r"warning: \d+ log lines? lost: "
                                                r"File too large$", ln)]
        assert len(lost) == 1, lines
        # It starts a line of its own, after a line cut short.
        assert re.match(r"^\d{4}-\d\d-\d\dT", lost[0]), lines
        assert lines[-1].endswith("message sent"), lines
    finally:
        p.terminate()
        rc = p.wait(timeout=90)
    assert rc == 0


def read_events(api, language):
    """GET /api/v1/events, a key of the micro-cache of its own (its key
    carries Accept-Language): its status, or the exception when nginx
    closed the connection without an answer."""
    try:
        r = api.get("/api/v1/events", headers={"Accept-Language": language})
    except (http.client.HTTPException, OSError) as e:
        return e
    return r.status


def test_the_micro_cache_on_a_full_disk_closes_reads_and_its_own_tmpfs_answers_them():
    """nginx writes a response it caches to a file in the cache directory
    as it reads it (use_temp_path=off), and sends the client what that file
    holds: a write refused (ENOSPC) ends the request, and the client gets
    an empty reply.  No directive has it answer from memory instead
    (fastcgi_max_temp_file_size does not apply to a cached response;
    fastcgi_buffering off caches nothing).  OPS.md's way out: a tmpfs of
    the cache's own, on which the reads are answered, the disk still full."""
    with stack_on_tmpfs(EVENTBOX_MICROCACHE="1") as cached:
        api = cached.api
        cache = os.path.join(cached.var, "nginx", "tmp", "microcache")
        slug = cached.event(capacity=5)
        assert read_events(api, "en") == 200
        assert os.listdir(cache), "the micro-cache stored nothing: is it on?"
        cached.fill()
        try:
            failed = read_events(api, "es")
            assert isinstance(failed, http.client.RemoteDisconnected), failed
            st = os.stat(cache)
            mount_tmpfs(cache, "8m", "mode=0700", f"uid={st.st_uid}", f"gid={st.st_gid}")
            try:
                r = api.get("/api/v1/events", headers={"Accept-Language": "fr"})
                assert r.status == 200 and slug in r.text, r
                assert os.listdir(cache), "the micro-cache stored nothing"
                assert api.get(f"/api/v1/events/{slug}").status == 200
            finally:
                umount(cache)
        finally:
            cached.free()
        assert read_events(api, "de") == 200
