"""The seat limit under load, through nginx, against the real database.

These are the core promises: never more confirmed than capacity, the
waiting list in arrival order with no gaps, and every 201 backed by exactly
one row.  The load comes from tests/loadclient (libcurl multi).
"""
import os
import threading
import uuid

import pytest


def run_load(api, loadclient, tmp_path, slug, n, c, runid):
    out = tmp_path / "load.tsv"
    body = '{"name":"Patron {n}","email":"p{n}-%s@example.org"}' % runid
    summary = loadclient(f"{api.base}/api/v1/events/{slug}/registrations",
                         "-X", "POST", "-c", str(c), "-n", str(n), "-b", body,
                         "-o", str(out), "-q")
    rows = []
    for line in out.read_text().splitlines():
        seq, status, _lat, resp = line.split("\t", 3)
        rows.append((int(seq), int(status), resp))
    assert len(rows) == n, summary
    return rows


def parse(resp):
    import json
    return json.loads(resp)


def test_2000_attempts_from_200_clients_fill_100_seats_exactly(
        api, db, make_event, loadclient, tmp_path):
    slug = make_event(capacity=100, waitlist=True)
    runid = uuid.uuid4().hex[:8]
    rows = run_load(api, loadclient, tmp_path, slug, 2000, 200, runid)

    statuses = [s for _, s, _ in rows]
    assert statuses.count(201) == 2000, {s: statuses.count(s) for s in set(statuses)}
    answers = {seq: parse(resp) for seq, _, resp in rows}
    confirmed = [seq for seq, a in answers.items() if a["status"] == "confirmed"]
    waitlisted = {seq: a["position"] for seq, a in answers.items()
                  if a["status"] == "waitlisted"}
    assert len(confirmed) == 100
    assert sorted(waitlisted.values()) == list(range(1, 1901))

    assert db.summary(slug) == {"capacity": 100, "confirmed": 100,
                                "waitlisted": 1900, "cancelled": 0,
                                "seats_available": 0}
    # Every 201 is exactly one row, with the status and place it was told.
    roster = {email: (status, position) for email, status, position in db.all(
        "SELECT email, status, position FROM eventbox.roster WHERE slug = %s", slug)}
    assert len(roster) == 2000
    for seq, a in answers.items():
        assert roster[f"p{seq}-{runid}@example.org"] == (a["status"], a["position"])
    # Every row has its message queued, in the same transaction.
    assert db.value("SELECT count(*) FROM eventbox.outbox o JOIN eventbox.events e"
                    " ON e.id = o.event_id WHERE e.slug = %s"
                    " AND o.kind IN ('confirmed', 'waitlisted')", slug) == 2000

    # 50 cancellations of confirmed seats race 50 new registrations.
    oldest_waiting = [r[0] for r in db.all(
        "SELECT email FROM eventbox.roster WHERE slug = %s AND status = 'waitlisted'"
        " ORDER BY position LIMIT 50", slug)]
    to_cancel = [seq for seq in confirmed[:50]]
    tokens = [db.tokens(f"p{seq}-{runid}@example.org", "confirmed")[0]
              for seq in to_cancel]
    barrier = threading.Barrier(100)
    results = []

    def cancel(tok):
        barrier.wait()
        results.append(("cancel", api.delete(f"/api/v1/registrations/{tok}").status))

    def register(i):
        barrier.wait()
        r = api.register(slug, f"Late {i}", f"late{i}-{runid}@example.org")
        results.append(("register", r.status, r.json["status"]))

    threads = [threading.Thread(target=cancel, args=(t,)) for t in tokens]
    threads += [threading.Thread(target=register, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r[:2] for r in results) == \
        [("cancel", 200)] * 50 + [("register", 201)] * 50
    # A freed seat goes to the waiting list in the same transaction, so the
    # newcomers can only join the list.
    assert all(r[2] == "waitlisted" for r in results if r[0] == "register")

    assert db.summary(slug) == {"capacity": 100, "confirmed": 100,
                                "waitlisted": 1900, "cancelled": 50,
                                "seats_available": 0}
    promoted = sorted(r[0] for r in db.all(
        "SELECT email FROM eventbox.roster WHERE slug = %s AND promoted_at IS NOT NULL",
        slug))
    assert promoted == sorted(oldest_waiting)
    positions = [r[0] for r in db.all(
        "SELECT position FROM eventbox.roster WHERE slug = %s AND status = 'waitlisted'"
        " ORDER BY position", slug)]
    assert positions == list(range(1, 1901))
    assert db.value("SELECT count(*) FROM eventbox.outbox o JOIN eventbox.events e"
                    " ON e.id = o.event_id WHERE e.slug = %s AND o.kind = 'promoted'",
                    slug) == 50


def test_20_seats_without_a_waiting_list_answer_409_to_everyone_else(
        api, db, make_event, loadclient, tmp_path):
    slug = make_event(capacity=20, waitlist=False)
    rows = run_load(api, loadclient, tmp_path, slug, 2000, 200,
                    uuid.uuid4().hex[:8])
    statuses = [s for _, s, _ in rows]
    assert statuses.count(201) == 20
    assert statuses.count(409) == 1980
    assert all(parse(r)["error"]["code"] == "event_full"
               for _, s, r in rows if s == 409)
    assert db.summary(slug)["confirmed"] == 20
    assert db.value("SELECT count(*) FROM eventbox.roster WHERE slug = %s", slug) == 20


def test_a_full_waiting_list_cap_is_held_under_load(
        api, db, make_event, loadclient, tmp_path):
    slug = make_event(capacity=10, waitlist=True, waitlist_capacity=15)
    rows = run_load(api, loadclient, tmp_path, slug, 300, 100,
                    uuid.uuid4().hex[:8])
    statuses = [s for _, s, _ in rows]
    assert statuses.count(201) == 25
    assert statuses.count(409) == 275
    assert db.summary(slug)["waitlisted"] == 15
