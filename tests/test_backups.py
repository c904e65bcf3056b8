"""docs/DEPLOY.md's Backups, as written: the dumps (into a scratch
database, and put into service in place), the point-in-time recovery from
a base backup and the WAL archive, and what a restore means for the mail
("After a restore").

On a PostgreSQL cluster of the test's own, never the stack's: laid out as
Debian's (a data directory, a configuration directory with conf.d/), run
as `postgres` with pg_ctl, in a directory that stands in for
/var/lib/postgresql/15/main, /etc/postgresql/15/main and
/var/backups/eventbox in the docs' commands.  `systemctl` on PostgreSQL
becomes pg_ctl; on the eventbox units it is left out (the test starts the
mailer itself).  Set up with the tree's eventbox-setup-db and eventbox.
"""
import glob
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from contextlib import closing
from email import message_from_binary_file
from email.utils import parseaddr

import psycopg2
import pytest

from test_fastcgi_raw import base_params as fcgi_params, request as fcgi_request, status_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = os.environ.get("EVENTBOX_PG_BIN") or sorted(
    glob.glob("/usr/lib/postgresql/*/bin"))[-1]
DEPLOY = os.path.join(ROOT, "docs", "DEPLOY.md")
# The moment DEPLOY.md's recovery names as an example.
DOC_MOMENT = "2026-12-01 14:04:59+01"
# What the stack runs (./eventbox-asan in make test) for the mailer and the
# service; eventbox-setup-db migrates with the release build, as installed.
BIN = os.path.join(ROOT, os.environ.get("EVENTBOX_BIN", "eventbox"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason=(
    "DEPLOY.md's commands run as root (runuser -u postgres)"))


def doc_block(first):
    """The indented block of DEPLOY.md whose first line starts with first,
    to its end (as tests/doclib.sh's doc_block), without the indentation."""
    lines, pad = [], None
    for line in open(DEPLOY, encoding="utf-8").read().splitlines():
        if pad is None:
            m = re.match(r"^( {4,})", line)
            if m and line[len(m.group(1)):].startswith(first):
                pad = m.group(1)
        if pad is not None:
            if not line.startswith(pad):
                break
            lines.append(line[len(pad):])
    assert lines, f"DEPLOY.md has no command starting with {first!r}"
    return "\n".join(lines)


class Cluster:
    """The test's cluster and the paths that stand in for Debian's."""

    def __init__(self, top):
        self.top = top
        self.etc = os.path.join(top, "etc")               # /etc/postgresql/15/main
        self.data = os.path.join(top, "lib", "main")      # /var/lib/postgresql/15/main
        self.backups = os.path.join(top, "backups")       # /var/backups/eventbox
        self.run = os.path.join(top, "run")
        self.bin = os.path.join(top, "bin")
        self.log = os.path.join(top, "postgres.log")
        self.env = dict(os.environ, PGHOST=self.run, PGPORT="5432",
                        PATH=self.bin + ":" + os.environ["PATH"])
        for v in ("PGDATABASE", "PGUSER", "PGPASSWORD"):
            self.env.pop(v, None)

    def pg_ctl(self, action):
        return (f"runuser -u postgres -- {PG_BIN}/pg_ctl {action} -D {self.etc}"
                f" -w -t 60 -s -l {self.log}")

    def as_written(self, script, **more):
        """A block of DEPLOY.md with this cluster's paths, run by bash -eu
        from / as root."""
        script = re.sub(r"systemctl (start|stop|restart) postgresql",
                        lambda m: self.pg_ctl(m.group(1)), script)
        for debian, here in (("/var/lib/postgresql/15/main", self.data),
                             ("/etc/postgresql/15/main", self.etc),
                             ("/var/backups/eventbox", self.backups)):
            script = script.replace(debian, here)
        for k, v in more.items():
            script = script.replace(k, v)
        script = "\n".join(line for line in script.splitlines()
                           if not re.match(r"systemctl .*eventbox", line))
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd="/",
                             env=self.env, capture_output=True, text=True,
                             timeout=120)
        log = open(self.log).read()[-3000:] if os.path.exists(self.log) else ""
        assert out.returncode == 0, (script, out.stdout, out.stderr, log)
        return out

    def connect(self, user, dbname="eventbox"):
        conn = psycopg2.connect(host=self.run, port=5432, dbname=dbname, user=user)
        conn.autocommit = True
        return conn

    def rows(self, sql, *args, user="postgres", dbname="eventbox"):
        with closing(self.connect(user, dbname)) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None


@pytest.fixture(scope="module")
def cluster():
    top = tempfile.mkdtemp(prefix="eventbox-backups-", dir="/var/tmp")
    c = Cluster(top)
    try:
        yield from set_up(c)
    finally:
        if os.path.exists(os.path.join(c.data, "postmaster.pid")):
            subprocess.run(c.pg_ctl("stop -m fast"), shell=True, cwd="/")
        shutil.rmtree(top, ignore_errors=True)


def set_up(c):
    """A cluster as Debian's postgresql-15 makes one, eventbox-setup-db
    run on it, an event with three seats and a webhook."""
    top = c.top
    for d in (c.etc, os.path.dirname(c.data), c.run, c.bin):
        os.makedirs(d)
    # eventbox-setup-db as `make install` renders it, the binary and the
    # migrations where postgres may read them.
    shutil.copy(os.path.join(ROOT, "eventbox"), c.bin)
    shutil.copytree(os.path.join(ROOT, "sql"), os.path.join(top, "sql"))
    with open(os.path.join(ROOT, "deploy", "eventbox-setup-db")) as f:
        setup = f.read().replace("@BINDIR@", c.bin).replace("@DATADIR@", top)
    with open(os.path.join(c.bin, "eventbox-setup-db"), "w") as f:
        f.write(setup)
    os.chmod(os.path.join(c.bin, "eventbox-setup-db"), 0o755)
    subprocess.run(["chown", "-R", "postgres:postgres", top], check=True)
    os.chmod(top, 0o711)
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", c.data,
                    "-U", "postgres", "--auth-local=peer", "--auth-host=reject",
                    "-E", "UTF8", "--locale=C.UTF-8", "-N"],
                   cwd="/", check=True, capture_output=True)
    # Debian's layout: the configuration apart, conf.d/ included.
    for f in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
        shutil.move(os.path.join(c.data, f), c.etc)
    os.makedirs(os.path.join(c.etc, "conf.d"))
    with open(os.path.join(c.etc, "postgresql.conf"), "a") as f:
        f.write(f"data_directory = '{c.data}'\nhba_file = '{c.etc}/pg_hba.conf'\n"
                f"ident_file = '{c.etc}/pg_ident.conf'\nlisten_addresses = ''\n"
                f"unix_socket_directories = '{c.run}'\n"
                # pg_basebackup's spread checkpoint, in seconds here
                "checkpoint_timeout = 30s\ncheckpoint_completion_target = 0.1\n"
                "include_dir = 'conf.d'\n")
    with open(os.path.join(c.etc, "pg_hba.conf"), "w") as f:
        f.write("local all all peer map=test\n"            # as Debian's:
                "local replication all peer map=test\n")   # pg_basebackup
    # The test (root) logs in as the roles eventbox-setup-db makes; its
    # block (map eventbox) comes first in pg_hba.conf.
    with open(os.path.join(c.etc, "pg_ident.conf"), "w") as f:
        f.write("test postgres postgres\ntest root postgres\n" + "".join(
            f"eventbox root {r}\n" for r in ("eventbox", "eventbox_app", "eventbox_mail")))
    subprocess.run(["chown", "-R", "postgres:postgres", c.etc, c.run], check=True)
    c.as_written(c.pg_ctl("start"))
    c.as_written("eventbox-setup-db")
    c.rows("INSERT INTO eventbox.events (slug, title, capacity, status, timezone,"
           " starts_at, ends_at) VALUES ('backed-up', 'Backed up', 3, 'published',"
           " 'Europe/Madrid', now() + interval '7 days',"
           " now() + interval '7 days 1 hour')", user="eventbox")
    assert c.rows("SELECT outcome FROM eventbox.webhook_create("
                  "'https://crm.example.org/hook', ARRAY['registration.created'])",
                  user="eventbox") == [("created",)]
    yield c


def register(c, name, addr=None):
    """A registration as the service makes it (the role eventbox_app)."""
    addr = addr or f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.org"
    outcome = c.rows("SELECT outcome FROM eventbox.register('backed-up', %s, %s,"
                     " NULL, 'web')", name, addr, user="eventbox_app")[0][0]
    assert outcome in ("confirmed", "waitlisted"), outcome
    return addr


def registrations(c):
    return c.rows("SELECT id, email, status FROM eventbox.registrations ORDER BY id")


def counters_match(c):
    """Each event's seat counters are its registrations' (10_seats.sql)."""
    return c.rows(
        "SELECT e.slug, e.confirmed_count, e.waitlisted_count, e.cancelled_count,"
        " count(r.*) FILTER (WHERE r.status = 'confirmed'),"
        " count(r.*) FILTER (WHERE r.status = 'waitlisted'),"
        " count(r.*) FILTER (WHERE r.status = 'cancelled')"
        " FROM eventbox.events e LEFT JOIN eventbox.registrations r ON r.event_id = e.id"
        " GROUP BY e.id HAVING (e.confirmed_count, e.waitlisted_count, e.cancelled_count)"
        " IS DISTINCT FROM (count(r.*) FILTER (WHERE r.status = 'confirmed'),"
        " count(r.*) FILTER (WHERE r.status = 'waitlisted'),"
        " count(r.*) FILTER (WHERE r.status = 'cancelled'))") == []


def migrate_again_applies_nothing(c):
    before = c.rows("SELECT count(*) FROM eventbox.rules_applied")
    log = c.as_written("eventbox-setup-db --migrate-only").stderr
    assert "rules unchanged" in log and "database is up to date" in log, log
    assert "applied" not in log, log
    assert c.rows("SELECT count(*) FROM eventbox.rules_applied") == before


class Mailer:
    """`eventbox mailer` (the stack's build) on the test's cluster, as role
    eventbox_mail, keeping each message as a file (no relay)."""

    def __init__(self, c):
        self.c = c
        self.dir = os.path.join(c.top, "mail")

    def run_until_sent(self):
        """Starts it, waits until no message is pending, stops it; the new
        messages: (outbox id, Message-ID, To) each."""
        before = set(os.listdir(self.dir)) if os.path.isdir(self.dir) else set()
        e = dict(self.c.env, EVENTBOX_DSN=f"host={self.c.run} dbname=eventbox user=eventbox_mail",
                 EVENTBOX_SMTP_URL="", EVENTBOX_MAIL_DIR=self.dir,
                 EVENTBOX_BASE_URL="https://events.example.org",
                 EVENTBOX_MAIL_FROM="Events <events@example.org>",
                 EVENTBOX_WEBHOOK_TIMEOUT_MS="100",
                 EVENTBOX_LOG_FILE=os.path.join(self.c.top, "mailer.log"))
        log = e["EVENTBOX_LOG_FILE"]
        starts = open(log).read().count(" started\n") if os.path.exists(log) else 0
        p = subprocess.Popen([BIN, "mailer"], env=e, cwd="/",
                             stdin=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            # Its signals are taken once it says it started.
            while not (os.path.exists(log) and open(log).read().count(" started\n") > starts):
                assert p.poll() is None and time.time() < deadline, "the mailer did not start"
                time.sleep(0.05)
            while self.c.rows("SELECT count(*) FROM eventbox.outbox WHERE kind <> 'webhook'"
                              " AND status = 'pending'")[0][0] and time.time() < deadline:
                time.sleep(0.1)
        finally:
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=60) == 0
        sent = []
        for name in sorted(set(os.listdir(self.dir)) - before):
            with open(os.path.join(self.dir, name), "rb") as f:
                msg = message_from_binary_file(f)
            sent.append((int(name.split("-")[0]), msg["Message-ID"],
                         parseaddr(msg["To"])[1]))
        return sent


class Service:
    """`eventbox serve` (the stack's build) on the test's cluster, as role
    eventbox_app, asked over FastCGI as nginx asks it."""

    def __init__(self, c):
        self.sock = os.path.join(c.top, "serve.sock")
        e = dict(c.env, EVENTBOX_DSN=f"host={c.run} dbname=eventbox user=eventbox_app",
                 EVENTBOX_LISTEN=self.sock, EVENTBOX_WORKERS="1",
                 EVENTBOX_BASE_URL="https://events.example.org",
                 EVENTBOX_LOG_FILE=os.path.join(c.top, "serve.log"))
        self.p = subprocess.Popen([BIN, "serve"], env=e,
                                  cwd="/", stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 30
        while self.get("/healthz")[0] != 200:
            assert self.p.poll() is None and time.time() < deadline, "serve did not start"
            time.sleep(0.1)

    def get(self, uri):
        """(status, body) of GET uri; (None, b"") while nobody listens."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(self.sock)
            s.sendall(fcgi_request(fcgi_params(uri=uri)))
            raw = b""
            while chunk := s.recv(65536):
                raw += chunk
        except (FileNotFoundError, ConnectionRefusedError):
            return None, b""
        finally:
            s.close()
        out, i = b"", 0
        while i + 8 <= len(raw):
            _v, t, _id, n, pad = struct.unpack(">BBHHBx", raw[i:i + 8])
            out += raw[i + 8:i + 8 + n] if t == 6 else b""      # STDOUT
            i += 8 + n + pad
        return status_of(out), out

    def stop(self):
        os.killpg(self.p.pid, signal.SIGTERM)
        assert self.p.wait(timeout=60) == 0


def webhook_ids(c):
    """The webhook-id each pending delivery would go out with (claimed as
    the mailer claims it, in a transaction rolled back): by outbox id."""
    conn = c.connect("eventbox_mail")
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, msg_id FROM eventbox.webhook_claim(100)")
            return dict(cur.fetchall())
    finally:
        conn.rollback()
        conn.close()


def into_service(c, dump):
    """DEPLOY.md's block that puts a dump into service, as written."""
    block = doc_block("systemctl stop eventbox eventbox-mailer")
    assert "pg_restore -d eventbox --exit-on-error FILE.dump" in block
    c.as_written(block, **{"FILE.dump": dump})


def test_a_dump_restores_into_a_scratch_database_and_into_service(cluster):
    c = cluster
    first = register(c, "Ana")               # its confirmation not sent yet
    c.as_written(doc_block("install -d -m 0700 -o postgres -g postgres /var/backups/eventbox"))
    c.as_written(doc_block("runuser -u postgres -- pg_dump"))
    dump, = glob.glob(os.path.join(c.backups, "eventbox-*.dump"))
    dumped = registrations(c)

    # Checked in a scratch database, --no-owner.
    c.as_written(doc_block("runuser -u postgres -- createdb eventbox_restored"),
                 **{"FILE.dump": dump})
    assert c.rows("SELECT id, email, status FROM eventbox.registrations ORDER BY id",
                  dbname="eventbox_restored") == dumped
    # Owned by postgres there, the grants restored all the same: the
    # service's role registers in it.
    assert c.rows("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'eventbox'",
                  dbname="eventbox_restored") == [("postgres",)]
    assert c.rows("SELECT outcome FROM eventbox.register('backed-up', 'Scratch',"
                  " 'scratch@example.org', NULL, 'web')", user="eventbox_app",
                  dbname="eventbox_restored") == [("confirmed",)]
    c.rows("DROP DATABASE eventbox_restored", dbname="postgres")

    # After the dump: Ana's confirmation goes out, Bea registers and hers too.
    bea = register(c, "Bea")
    hooks_before = webhook_ids(c)
    tokens = dict(c.rows("SELECT email, token FROM eventbox.outbox WHERE kind = 'confirmed'"))
    mailer = Mailer(c)
    sent = {to: (oid, mid) for oid, mid, to in mailer.run_until_sent()}
    assert set(sent) == {first, bea}

    # In service: what the dump had, the roles and grants as they were.
    into_service(c, dump)
    assert registrations(c) == dumped and counters_match(c)
    assert c.rows("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'eventbox'"
                  " UNION SELECT DISTINCT proowner::regrole::text FROM pg_proc"
                  " WHERE pronamespace = 'eventbox'::regnamespace") == [("eventbox",)]
    migrate_again_applies_nothing(c)

    # Ana's confirmation was pending in the dump: sent again, as the same
    # message (its Message-ID), which mail systems drop as a copy.
    again = mailer.run_until_sent()
    assert [(oid, mid) for oid, mid, to in again] == [sent[first]]

    # The link Bea was mailed names a registration the restore took away:
    # the pages answer as for any link no longer active, not an error.
    # Ana's works (hers is in the dump).
    service = Service(c)
    try:
        for page in ("cancel", "registration"):
            status, page_out = service.get(f"/{page}/{tokens[bea]}")
            assert status == 404 and b"This link is not active" in page_out, page_out
            assert service.get(f"/{page}/{tokens[first]}")[0] == 200
    finally:
        service.stop()

    # Bea registers again: her new confirmation has the outbox id of the
    # one the restore took away, and a Message-ID of its own; so has the
    # webhook delivery (receivers deduplicate on webhook-id).
    register(c, "Bea", bea)
    hooks_after = webhook_ids(c)
    bea_hook = max(hooks_before)
    assert bea_hook in hooks_after, (hooks_before, hooks_after)
    assert hooks_after[bea_hook] != hooks_before[bea_hook], hooks_after
    (oid, mid, to), = mailer.run_until_sent()
    assert to == bea and oid == sent[bea][0] and mid != sent[bea][1]

    # Put into service again, then "After a restore": the pending ones
    # closed before the mailer starts, nothing goes out again.
    ids_seen = {r[0] for r in registrations(c)}
    into_service(c, dump)
    review = c.as_written(doc_block("runuser -u postgres -- psql -d eventbox -c \"SELECT kind"))
    assert re.search(r"^ confirmed +\| +1 \|", review.stdout, re.M), review.stdout
    c.as_written(doc_block("runuser -u postgres -- psql -d eventbox -c \"UPDATE eventbox.outbox"))
    c.as_written(doc_block("runuser -u postgres -- psql -d eventbox -c \"SELECT setval("))
    assert mailer.run_until_sent() == []
    assert webhook_ids(c) == {}
    register(c, "Bea", bea)                  # the service's grants hold
    (new_id,), = c.rows("SELECT id FROM eventbox.registrations WHERE email = %s", bea)
    assert new_id not in ids_seen and new_id > 1000000, (new_id, ids_seen)
    assert counters_match(c)


def test_a_recovery_to_a_moment_keeps_everything_before_it(cluster):
    c = cluster
    c.as_written(doc_block("install -d -m 0700 -o postgres -g postgres /var/backups/eventbox"))
    c.as_written(doc_block("install -d -m 0700 -o postgres -g postgres /var/backups/eventbox/wal"))
    assert c.rows("SHOW archive_mode") == [("on",)]
    for i in range(3):
        register(c, f"Before{i}")
    c.rows("CHECKPOINT")        # pg_basebackup's own checkpoint has little to do
    c.as_written(doc_block("runuser -u postgres -- pg_basebackup"))
    day, = os.listdir(os.path.join(c.backups, "base"))
    for i in range(3):
        register(c, f"After{i}")
    kept = registrations(c)
    time.sleep(1.1)
    moment = c.rows("SELECT clock_timestamp()::text")[0][0]
    time.sleep(1.1)
    # The mistake, and registrations after it.
    c.rows("DELETE FROM eventbox.registrations", user="eventbox")
    register(c, "Later")
    assert len(registrations(c)) == 1

    c.as_written(recovery_block(), **{"/DAY": "/" + day, DOC_MOMENT: moment})
    assert c.rows("SELECT pg_is_in_recovery()") == [(False,)]
    assert not os.path.exists(os.path.join(c.etc, "conf.d", "eventbox-recovery.conf"))
    assert registrations(c) == kept
    assert counters_match(c)
    # The seat rules hold: the counters' trigger and CHECK refuse a seat
    # more than the event has, even to the owner.
    assert ("waitlisted",) in c.rows("SELECT DISTINCT status FROM eventbox.registrations")
    with pytest.raises(psycopg2.errors.CheckViolation):
        c.rows("UPDATE eventbox.registrations SET status = 'confirmed'"
               " WHERE status = 'waitlisted'", user="eventbox")
    migrate_again_applies_nothing(c)
    register(c, "Recovered")                 # writable, the grants intact
    assert len(registrations(c)) == len(kept) + 1 and counters_match(c)


def recovery_block():
    """DEPLOY.md's recovery: from its `systemctl stop eventbox ...` to
    eventbox-setup-db --migrate-only, the second such block (the first
    puts a dump into service)."""
    text = open(DEPLOY, encoding="utf-8").read()
    start = text.index("    mv /var/lib/postgresql/15/main ")
    start = text.rindex("\n\n", 0, start) + 2
    end = text.index("\n\n", start)
    return "\n".join(line[4:] for line in text[start:end].splitlines())


def test_the_weekly_pruning_keeps_what_a_recovery_needs(cluster):
    c = cluster
    base = os.path.join(c.backups, "base")
    wal = os.path.join(c.backups, "wal")
    old_base = os.path.join(base, "2026-01-01")
    os.makedirs(old_base)
    old_wal = os.path.join(wal, "000000010000000000000000")
    open(old_wal, "w").close()
    month = time.time() - 30 * 86400
    os.utime(old_base, (month, month))
    os.utime(old_wal, (month, month))
    kept_base = set(os.listdir(base)) - {"2026-01-01"}
    kept_wal = set(os.listdir(wal)) - {os.path.basename(old_wal)}
    block = doc_block("runuser -u postgres -- pg_basebackup")
    c.as_written("\n".join(block.splitlines()[1:]))     # the find lines
    assert set(os.listdir(base)) == kept_base and kept_base
    assert set(os.listdir(wal)) == kept_wal and kept_wal


def test_the_archive_command_never_overwrites_an_archived_file(tmp_path):
    """As PostgreSQL runs it (sh -c, %p and %f replaced): a file already
    archived counts as archived when it is the same (a crash between the
    copy and PostgreSQL's note of it) and fails the command when not."""
    block = doc_block("cat >/etc/postgresql/15/main/conf.d/eventbox-archive.conf")
    command, = re.findall(r"^archive_command = '(.*)'$", block, re.M)
    wal = tmp_path / "wal"
    wal.mkdir()
    segment = tmp_path / "000000010000000000000007"

    def archive(content):
        segment.write_bytes(content)
        cmd = command.replace("/var/backups/eventbox/wal", str(wal)) \
            .replace("%p", str(segment)).replace("%f", segment.name)
        return subprocess.run(["sh", "-c", cmd]).returncode

    assert archive(b"first") == 0 and (wal / segment.name).read_bytes() == b"first"
    assert archive(b"first") == 0
    assert archive(b"other") != 0 and (wal / segment.name).read_bytes() == b"first"
    assert sorted(p.name for p in wal.iterdir()) == [segment.name]
