"""A big consortium's data: years of sent mail, tens of thousands of events.

Loaded with SQL as the owner (generate_series, as bench/ does), each load
removed again after its test.  What is asserted is what the size must not
change: the plans read what they need through an index, not the whole
table (EXPLAIN, or the session's own scan counters), and the answers stay
whole and 200; never a time."""
import json

import pytest

from conftest import connect

SENT = 100_000


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
    conn = connect()
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            before = xact_seq_scans(cur, "outbox")
            cur.execute("SELECT failed FROM eventbox.outbox_stats()")
            assert cur.fetchone()[0] >= 1
            assert xact_seq_scans(cur, "outbox") == before
    finally:
        conn.rollback()
        conn.close()
    text = api.get("/metrics").text
    assert "eventbox_database_up 1\n" in text
    assert "\neventbox_outbox_failed 0\n" not in text
