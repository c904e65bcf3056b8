"""A big consortium's data: years of sent mail, tens of thousands of events.

Loaded with SQL as the owner (generate_series, as bench/ does), each load
removed again after its test.  What is asserted is what the size must not
change: the plans read what they need through an index, not the whole
table (EXPLAIN, or the session's own scan counters), and the answers stay
whole and 200; never a time."""
import contextlib
import json
import uuid

import pytest

from conftest import connect
from staffkit import admin, staff_key  # noqa: F401

SENT = 100_000
DRAFTS = 5_000


def seq_scans(plan, table):
    """The Seq Scan nodes on table in an EXPLAIN (FORMAT JSON) plan."""
    found = []

    def walk(node):
        if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == table:
            found.append(node)
        for sub in node.get("Plans", []):
            walk(sub)
    walk(plan[0]["Plan"])
    return found


def explain(db, sql, *args):
    plan = db.value("EXPLAIN (FORMAT JSON) " + sql, *args)
    return plan if isinstance(plan, list) else json.loads(plan)


@contextlib.contextmanager
def rolled_back():
    """A cursor in a transaction of its own session, rolled back at the end."""
    conn = connect()
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.rollback()
        conn.close()


def xact_reads(cur, table):
    """(sequential scans, rows fetched through an index) of table in this
    session's transaction."""
    cur.execute("SELECT seq_scan, idx_tup_fetch FROM pg_stat_xact_user_tables"
                " WHERE schemaname = 'eventbox' AND relname = %s", (table,))
    return cur.fetchone()


def xact_seq_scans(cur, table):
    cur.execute("SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_xact_user_tables"
                " WHERE schemaname = 'eventbox' AND relname = %s", (table,))
    return cur.fetchone()[0]


@pytest.fixture
def sent_mail(db, make_event):
    """SENT messages long sent, and one that failed, for one event."""
    slug = make_event()
    eid = db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)
    db.all("INSERT INTO eventbox.outbox (kind, event_id, status, sent_at)"
           " SELECT 'confirmed', %s, 'sent', now() - interval '1 day'"
           " FROM generate_series(1, %s)", eid, SENT)
    db.all("INSERT INTO eventbox.outbox (kind, event_id, email, status, attempts,"
           " last_error) VALUES ('confirmed', %s, 'big-failed@example.org',"
           " 'failed', 5, 'mailbox unavailable')", eid)
    db.all("ANALYZE eventbox.outbox")
    yield slug
    db.all("DELETE FROM eventbox.outbox WHERE event_id = %s", eid)
    db.all("ANALYZE eventbox.outbox")


@pytest.mark.parametrize("view", ["outbox_backlog", "outbox_failures"])
def test_the_outbox_views_read_the_unsent_rows_through_an_index(db, sent_mail, view):
    plan = explain(db, f"SELECT * FROM eventbox.{view}")
    assert seq_scans(plan, "outbox") == [], json.dumps(plan, indent=1)
    rows = db.all(f"SELECT * FROM eventbox.{view} WHERE status = 'failed'")
    assert rows, view


def test_the_metrics_outbox_count_reads_no_sent_message(api, db, sent_mail):
    """outbox_stats() is what every scrape of /metrics asks, within the
    probe time: read through the sent rows, it grows with the years."""
    with rolled_back() as cur:
        before = xact_seq_scans(cur, "outbox")
        cur.execute("SELECT failed FROM eventbox.outbox_stats()")
        assert cur.fetchone()[0] >= 1
        assert xact_seq_scans(cur, "outbox") == before
    text = api.get("/metrics").text
    assert "eventbox_database_up 1\n" in text
    assert "\neventbox_outbox_failed 0\n" not in text


BACKLOG = 3_000


def quiet_outbox_statistics(cur, eid):
    """In cur's transaction: the outbox analyzed as in a quiet consortium,
    nothing pending (the rows other tests left pending count as sent, and
    20,000 sent rows of event eid are added), so that its statistics say
    no row is pending."""
    cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    cur.execute("UPDATE eventbox.outbox SET status = 'sent' WHERE status <> 'sent'")
    cur.execute("INSERT INTO eventbox.outbox (kind, event_id, status, sent_at)"
                " SELECT 'confirmed', %s, 'sent', now() - interval '1 day'"
                " FROM generate_series(1, 20000)", (eid,))
    cur.execute("ANALYZE eventbox.outbox")
    cur.execute("SELECT most_common_vals::text FROM pg_stats WHERE schemaname ="
                " 'eventbox' AND tablename = 'outbox' AND attname = 'status'")
    assert cur.fetchone()[0] == "{sent}"


def new_webhook(cur):
    """A webhook for registration.created, in cur's transaction; its id."""
    cur.execute("INSERT INTO eventbox.webhooks (url, events, secret)"
                " VALUES ('https://hooks.example.org/eventbox',"
                " '{registration.created}', 'whsec_' || repeat('A', 43) || '=')"
                " RETURNING id")
    return cur.fetchone()[0]


def outbox_reads(cur, sql, *args):
    """Runs sql: (its rows, sequential scans of the outbox, outbox rows
    fetched through an index)."""
    seq, fetched = xact_reads(cur, "outbox")
    cur.execute(sql, args)
    rows = cur.fetchall()
    seq2, fetched2 = xact_reads(cur, "outbox")
    return rows, seq2 - seq, fetched2 - fetched


def test_a_crowds_backlog_is_marked_message_by_message_whatever_the_statistics(
        db, make_event):
    """The outbox is mostly sent rows, and autovacuum analyzes it while
    nothing is pending: its statistics then say no row is.  A statement
    that named one message by its id (or a registration's by its
    registration) and also said status = 'pending' was planned through a
    partial index on the status (outbox_unsent), which those statistics
    make look empty, and read every pending row.  When a flash crowd
    queued thousands of messages, each message's relock and mark read them
    all, twice a message, and the mailer sent some 20 a second for minutes
    until the next ANALYZE (docs/PERFORMANCE.md, "The mailer").  Here, with
    such statistics and BACKLOG messages and as many webhook deliveries
    queued after them, each of those statements reads the rows it names,
    not the backlog.  One transaction, rolled back: the rows other tests
    left pending count as sent for its ANALYZE, as in a quiet consortium
    (only its row counts in pg_class stay, until the next ANALYZE)."""
    eid = db.value("SELECT id FROM eventbox.events WHERE slug = %s", make_event())
    with rolled_back() as cur:
        quiet_outbox_statistics(cur, eid)
        cur.execute("INSERT INTO eventbox.registrations (event_id, name, email, status,"
                    " confirmed_at) VALUES (%s, 'Backlog Patron',"
                    " 'backlog-patron@example.org', 'confirmed', now()) RETURNING id",
                    (eid,))
        reg = cur.fetchone()[0]
        hook = new_webhook(cur)
        cur.execute("INSERT INTO eventbox.outbox (kind, registration_id, event_id, email,"
                    " name) VALUES ('confirmed', %s, %s, 'backlog-patron@example.org',"
                    " 'Backlog Patron') RETURNING id", (reg, eid))
        patrons = cur.fetchone()[0]
        cur.execute("INSERT INTO eventbox.outbox (kind, event_id, email, name)"
                    " SELECT 'waitlisted', %s, 'backlog-' || g || '@example.org',"
                    " 'Backlog ' || g FROM generate_series(1, %s) g", (eid, BACKLOG))
        cur.execute("INSERT INTO eventbox.outbox (kind, event_id, webhook_id, payload)"
                    " SELECT 'webhook', %s, %s, jsonb_build_object('n', g)"
                    " FROM generate_series(1, %s) g", (eid, hook, BACKLOG))
        cur.execute("SELECT id FROM eventbox.outbox WHERE event_id = %s"
                    " AND status = 'pending' AND kind = 'waitlisted' ORDER BY id DESC LIMIT 4",
                    (eid,))
        mail = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT id FROM eventbox.outbox WHERE event_id = %s"
                    " AND status = 'pending' AND kind = 'webhook' ORDER BY id DESC LIMIT 2",
                    (eid,))
        deliveries = [r[0] for r in cur.fetchall()]

        def reads_few(sql, *args):
            """Runs sql: it reads the outbox rows it names, no more (the
            backlog is BACKLOG rows and as many deliveries)."""
            _, seq, fetched = outbox_reads(cur, sql, *args)
            assert (seq, fetched <= 5) == (0, True), (sql, seq, fetched)

        for m in mail[:2]:
            # As the mailer sends a batch's later messages: relock, mark.
            reads_few("SELECT * FROM eventbox.mail_relock(%s)", m)
            reads_few("SELECT eventbox.mail_sent(%s)", m)
        # Messages refused for now and for good; staff send one again.
        reads_few("SELECT eventbox.mail_failed(%s, 'smtp 451', 5, 1000)", mail[2])
        reads_few("SELECT eventbox.mail_failed(%s, 'smtp 550', 1, 1000)", patrons)
        reads_few("SELECT eventbox.mail_retry(%s)", patrons)
        reads_few("SELECT eventbox.webhook_delivered(%s)", deliveries[0])
        reads_few("SELECT eventbox.webhook_failed(%s, 'http 500', 1, 1000, 60000, false)",
                  deliveries[1])
        # A registration deleted takes its queued mail with it.
        reads_few("DELETE FROM eventbox.registrations WHERE id = %s RETURNING id", reg)


CROWD = 2_000
BATCH = 50


def test_a_crowds_backlog_is_claimed_in_due_order_whatever_the_statistics(
        db, make_event):
    """Under the statistics of the test above, a claim wants its batch in
    the due order of outbox_due (mail) or outbox_webhook_due (webhook
    deliveries), and each webhook candidate whether its registration has
    an earlier delivery pending.  Any other index of pending rows alone
    looked as empty, and reading it whole was the plan: a mail claim read
    and sorted every pending message through 033's outbox_unsent, and a
    webhook claim read the backlog once per candidate (25 million rows and
    2.2 s for one claim at 5,000 pending), or all of it as candidates
    through outbox_webhook_order (sql/037_outbox_failed.sql).  Here a
    crowd of CROWD registrations, with a webhook, queues a confirmation and
    a delivery each, as register() does; each claim of BATCH reads about
    what it claims (a mail claim also steps over the deliveries queued
    between its messages)."""
    slug = make_event(capacity=CROWD)
    eid = db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)
    with rolled_back() as cur:
        quiet_outbox_statistics(cur, eid)
        new_webhook(cur)
        cur.execute("SELECT count(*) FILTER (WHERE (r).outcome = 'confirmed')"
                    " FROM (SELECT eventbox.register(%s, 'Crowd ' || g,"
                    " 'crowd-' || g || '@example.org', NULL, 'api') AS r"
                    " FROM generate_series(1, %s) g) x", (slug, CROWD))
        assert cur.fetchone()[0] == CROWD
        cur.execute("SELECT count(*) FILTER (WHERE kind = 'confirmed'),"
                    " count(*) FILTER (WHERE kind = 'webhook')"
                    " FROM eventbox.outbox WHERE status = 'pending'")
        assert cur.fetchone() == (CROWD, CROWD)
        for claim in ("SELECT id FROM eventbox.mail_claim(%s)",
                      "SELECT id FROM eventbox.webhook_claim(%s)"):
            rows, seq, fetched = outbox_reads(cur, claim, BATCH)
            assert len(rows) == BATCH
            assert (seq, fetched <= 3 * BATCH) == (0, True), (claim, seq, fetched)


@pytest.fixture
def many_drafts(db):
    """DRAFTS draft events of one tag (drafts: no public page lists them)."""
    tag = "bd-" + uuid.uuid4().hex[:8]
    db.all("INSERT INTO eventbox.events (slug, title, capacity, status, starts_at,"
           " ends_at) SELECT %s || '-' || g, 'Big data ' || %s || ' ' || g, 50,"
           " 'draft', now() + interval '400 days' + g * interval '1 minute',"
           " now() + interval '400 days 1 hour' + g * interval '1 minute'"
           " FROM generate_series(1, %s) g", tag, tag, DRAFTS)
    db.all("ANALYZE eventbox.events")
    yield tag
    db.all("DELETE FROM eventbox.events WHERE slug LIKE %s", tag + "-%")
    db.all("ANALYZE eventbox.events")


def test_a_page_of_1000_staff_events_reads_each_event_by_its_key(
        admin, db, staff_key, many_drafts):
    """admin_event_about(), once per event of the page, joined the events
    to admin_event()'s row: every call read the whole table."""
    with rolled_back() as cur:
        cur.execute("SELECT id FROM eventbox.events WHERE slug = %s",
                    (many_drafts + "-17",))
        eid = str(cur.fetchone()[0])
        before = xact_seq_scans(cur, "events")
        for ref in (eid, many_drafts + "-17"):
            cur.execute("SELECT * FROM eventbox.admin_event_about(%s, %s)",
                        (staff_key[1], ref))
            assert len(cur.fetchall()) == 1
        assert xact_seq_scans(cur, "events") == before
    r = admin.get(f"/events?q={many_drafts}&per_page=1000&page=2")
    assert r.status == 200, r
    assert r.json["total"] == DRAFTS
    titles = [e["title"] for e in r.json["events"]]
    assert titles == [f"Big data {many_drafts} {g}" for g in range(1001, 2001)]


def test_one_event_as_staff_see_it_is_planned_as_one_row(db, staff_key, make_event):
    """The planner took each of the three functions behind GET
    /api/v1/admin/events/{id} for 1,000 rows: a billion-row estimate
    made PostgreSQL compile the read with JIT first, every time."""
    slug = make_event()
    k = staff_key[1]
    plan = explain(db, "SELECT * FROM eventbox.admin_event(%s, %s) a"
                   " LEFT JOIN LATERAL eventbox.admin_event_holds(%s, %s) h ON true"
                   " LEFT JOIN LATERAL eventbox.admin_event_about(%s, %s) w ON true",
                   k, slug, k, slug, k, slug)
    assert plan[0]["Plan"]["Plan Rows"] == 1, plan
    assert "JIT" not in plan[0], plan


@pytest.fixture
def mail_of_many_events(db):
    """SENT messages sent for 1,000 upcoming events (drafts, as in
    many_drafts), 100 each."""
    tag = "bm-" + uuid.uuid4().hex[:8]
    db.all("INSERT INTO eventbox.events (slug, title, capacity, status, starts_at,"
           " ends_at) SELECT %s || '-' || g, 'Mailed ' || g, 50, 'draft',"
           " now() + interval '400 days', now() + interval '400 days 1 hour'"
           " FROM generate_series(1, 1000) g", tag)
    db.all("INSERT INTO eventbox.outbox (kind, event_id, status, sent_at)"
           " SELECT 'confirmed', e.id, 'sent', now() FROM eventbox.events e,"
           " generate_series(1, %s) g WHERE e.slug LIKE %s", SENT // 1000, tag + "-%")
    db.all("ANALYZE eventbox.outbox")
    yield tag
    db.all("DELETE FROM eventbox.events WHERE slug LIKE %s", tag + "-%")
    db.all("ANALYZE eventbox.outbox")


def test_a_purge_step_reads_the_outbox_by_event(db, mail_of_many_events, make_event):
    """Each step of `eventbox purge` (purge_step()) finds an ended event
    with outbox rows and deletes them: by event, not by reading all the
    sent mail of every other event, once per step."""
    ended = []
    for _ in range(3):
        slug = make_event()
        db.all("UPDATE eventbox.events SET starts_at = now() - interval '40 days 2 hours',"
               " ends_at = now() - interval '40 days' WHERE slug = %s", slug)
        eid = db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)
        db.all("INSERT INTO eventbox.outbox (kind, event_id, status, sent_at)"
               " SELECT 'confirmed', %s, 'sent', now() - interval '41 days'"
               " FROM generate_series(1, 5)", eid)
        ended.append(eid)
    with rolled_back() as cur:
        before = xact_seq_scans(cur, "outbox")
        purged = set()
        for _ in range(200):
            cur.execute("SELECT event_id FROM eventbox.purge_step(30, 500)")
            eid = cur.fetchone()[0]
            if eid is None:
                break
            purged.add(eid)
        assert set(ended) <= purged
        cur.execute("SELECT count(*) FROM eventbox.outbox WHERE event_id = ANY (%s)",
                    (ended,))
        assert cur.fetchone()[0] == 0
        assert xact_seq_scans(cur, "outbox") == before


ENTRIES = 300_000
RARE = "big_data_rare"


@pytest.fixture
def long_audit_log(db, make_event):
    """ENTRIES audit entries of years past, loaded as the owner: one in a
    hundred of one event (3,000), one in a thousand of a rare action."""
    tag = "ba-" + uuid.uuid4().hex[:8]
    slug = make_event()
    eid = db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)
    db.all("INSERT INTO eventbox.audit_log (at, actor, via, action, event_id, details)"
           " SELECT now() - interval '3 years' + g * interval '5 minutes', %s, 'sql',"
           " CASE WHEN g %% 1000 = 0 THEN %s ELSE 'event_updated' END,"
           " CASE WHEN g %% 100 = 0 THEN %s END, jsonb_build_object('n', g)"
           " FROM generate_series(1, %s) g", tag, RARE, eid, ENTRIES)
    db.all("VACUUM ANALYZE eventbox.audit_log")
    yield slug, eid, tag
    db.all("DELETE FROM eventbox.audit_log WHERE actor = %s", tag)
    db.all("ANALYZE eventbox.audit_log")


def test_a_page_of_a_long_audit_log_reads_only_the_page(db, staff_key, long_audit_log):
    """GET /api/v1/admin/audit had admin_audit() return every entry that
    matched, then cut the page: each page read, copied and sorted the
    whole log (a second at 300,000 entries, growing with the years).  A
    page, by each filter, now reads its entries through an index, and no
    more than the page; a filtered total counts in the filter's index,
    reading no entry."""
    slug, eid, tag = long_audit_log
    k = staff_key[1]
    newest, oldest = db.one("SELECT max(id), min(id) FROM eventbox.audit_log"
                            " WHERE actor = %s", tag)
    middle = (newest + oldest) // 2
    with rolled_back() as cur:
        # Every read in this session, none in parallel workers.
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        for event, action in ((None, None), (None, RARE), (slug, None),
                              (str(eid), None)):
            for before in (None, middle):
                seq, fetched = xact_reads(cur, "audit_log")
                cur.execute("SELECT id FROM eventbox.admin_audit(%s, %s, %s, %s, 50, 50)",
                            (k, event, action, before))
                ids = [r[0] for r in cur.fetchall()]
                assert ids and ids == sorted(ids, reverse=True)
                assert before is None or ids[0] < before
                seq2, fetched2 = xact_reads(cur, "audit_log")
                assert (seq2 - seq, fetched2 - fetched <= 200) == (0, True), \
                    (event, action, before, fetched2 - fetched)
                # The total counts, but in the filter's index only.
                # (Of the whole log it counts the whole log, however.)
                cur.execute("SELECT eventbox.admin_audit_total(%s, %s, %s, %s)",
                            (k, event, action, before))
                assert cur.fetchone()[0] > 100
                seq3, fetched3 = xact_reads(cur, "audit_log")
                if event is not None or action is not None:
                    assert (seq3 - seq2, fetched3 - fetched2 <= 100) == (0, True), \
                        (event, action, before, fetched3 - fetched2)


@pytest.mark.parametrize("by", ["event", "action"])
def test_paging_back_through_a_long_audit_log_reads_each_entry_once(
        admin, db, long_audit_log, by):
    slug, eid, tag = long_audit_log
    if by == "event":
        query, per_page = f"event={slug}", 1000
        want = [r[0] for r in db.all("SELECT id FROM eventbox.audit_log WHERE event_id = %s"
                                     " ORDER BY id DESC", eid)]
    else:
        query, per_page = f"action={RARE}", 70
        want = [r[0] for r in db.all("SELECT id FROM eventbox.audit_log WHERE action = %s"
                                     " ORDER BY id DESC", RARE)]
    assert len(want) >= 300
    seen, before = [], None
    for _ in range(len(want) // per_page + 2):
        r = admin.get(f"/audit?{query}&per_page={per_page}"
                      + (f"&before={before}" if before else ""))
        assert r.status == 200, r
        assert r.json["total"] == len(want) - len(seen), (len(seen), r.json["total"])
        entries = r.json["entries"]
        if not entries:
            break
        seen += [e["id"] for e in entries]
        before = entries[-1]["id"]
    assert seen == want
    r = admin.get(f"/audit?{query}&per_page=3&page=2")
    assert [e["id"] for e in r.json["entries"]] == want[3:6]
    assert r.json["total"] == len(want) and r.json["page"] == 2
    e = admin.get(f"/audit?{query}&per_page=1&before={want[-1]}").json
    assert e["entries"] == [] and e["total"] == 0
    r = admin.get("/audit?per_page=2")
    everything = db.value("SELECT count(*) FROM eventbox.audit_log")
    assert r.json["total"] == everything and len(r.json["entries"]) == 2
