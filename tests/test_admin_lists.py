"""The lists staff read over the admin API: every event (drafts too, with
filters and pages), the audit log, the waiting list with its places; and
the waiting_list view ops read at psql."""
import uuid

import pytest

from staffkit import (ADMIN, admin, assert_error, connect_as, email,  # noqa: F401
                      ops_role, staff_key)


def test_the_event_list_has_drafts_filters_and_pages(api, admin, make_event):
    tag = uuid.uuid4().hex[:8]
    cat = f"Lists {tag}"
    draft = make_event(status="draft", categories=[cat], title=f"Draft {tag}")
    live = [make_event(categories=[cat], starts_in=f"{d} days", title=f"Live {tag} {d}")
            for d in (3, 4, 5)]
    gone = make_event(status="cancelled", categories=[cat], title=f"Gone {tag}")
    r = admin.get(f"/events?category={cat.replace(' ', '%20')}&per_page=100")
    assert r.status == 200, r
    slugs = [e["slug"] for e in r.json["events"]]
    assert set(slugs) == {draft, gone, *live} and r.json["total"] == 5
    e = next(e for e in r.json["events"] if e["slug"] == draft)
    assert e["status"] == "draft" and e["online_url"].startswith("https://")
    r = admin.get(f"/events?category={cat.replace(' ', '%20')}&status=draft")
    assert [e["slug"] for e in r.json["events"]] == [draft]
    r = admin.get(f"/events?q=live%20{tag}&per_page=2&page=2")
    assert r.status == 200 and r.json["total"] == 3
    assert [e["slug"] for e in r.json["events"]] == [live[2]]
    assert r.json["page"] == 2 and r.json["per_page"] == 2


@pytest.mark.parametrize("query", ["status=open", "from=2026-02-30", "page=0",
                                   "per_page=1001", "per_page=x",
                                   "from=2027-01-02&to=2027-01-01"])
def test_a_bad_event_list_query_is_a_400(admin, query):
    assert_error(admin.get(f"/events?{query}"), 400, "invalid_query")


@pytest.mark.parametrize("path,query,name,takes", [
    ("/events", "limit=10", "limit", "status, category, from, to, q, page, per_page"),
    ("/events", "page=1&offset=20", "offset", "status, category, from, to, q, page, per_page"),
    ("/events", "Status=draft", "Status", "status, category"),
    ("/audit", "after=5", "after", "event, action, before, page, per_page"),
    ("/events/{slug}/waitlist", "status=waitlisted", "status", "page, per_page"),
    ("/events/{slug}/registrations", "per-page=5", "per-page", "status, page, per_page"),
    ("/events/{slug}/registrations.csv", "%6Cimit=5", "limit", "status, page, per_page"),
])
def test_a_parameter_a_list_does_not_take_is_a_400_naming_it(admin, make_event,
                                                              path, query, name, takes):
    """A typo'd or guessed parameter answered as if it were absent (all
    the events, not the ten asked for) answers a question nobody asked."""
    r = admin.get(path.format(slug=make_event()) + "?" + query)
    assert_error(r, 400, "invalid_query")
    assert r.json["error"]["message"].startswith(f"{name}: "), r
    assert takes in r.json["error"]["message"], r


def test_lang_and_empty_fields_are_no_unknown_parameter(admin):
    r = admin.get("/events?lang=es&&per_page=1&")
    assert r.status == 200 and r.json["per_page"] == 1, r
    r = admin.get("/events?bogus=1&lang=es")
    assert_error(r, 400, "invalid_query")
    assert r.json["error"]["message"].startswith("bogus: no es"), r


def test_the_lists_want_a_staff_key(api):
    for path in ("/events", "/audit"):
        r = api.get(f"{ADMIN}{path}")
        assert r.status == 401, r
    r = api.get(f"{ADMIN}/events", headers={"Authorization": "Bearer nope"})
    assert r.status == 401


def test_the_audit_log_newest_first_by_event_and_action(api, admin, make_event):
    slug = make_event()
    assert admin.put(f"/events/{slug}/capacity", json_body={"capacity": 120}).status == 200
    assert admin.patch(f"/events/{slug}", json_body={"title": "Renamed"}).status == 200
    r = admin.get(f"/audit?event={slug}")
    assert r.status == 200, r
    actions = [a["action"] for a in r.json["entries"]]
    assert actions[:2] == ["event_updated", "capacity_set"], actions
    first = r.json["entries"][1]
    assert first["details"] == {"from": 100, "to": 120, "promoted": 0}
    assert first["via"] == "api" and first["actor"] == admin.name
    r = admin.get(f"/audit?event={slug}&action=capacity_set")
    assert [a["action"] for a in r.json["entries"]] == ["capacity_set"]
    assert r.json["total"] == 1
    assert_error(admin.get("/audit?event=no-such-event-here"), 404, "event_not_found")
    everything = admin.get("/audit?per_page=1")
    assert everything.status == 200 and len(everything.json["entries"]) == 1
    assert everything.json["total"] >= 2


def test_the_waiting_list_in_order_with_places(api, db, admin, make_event, ops_role):
    slug = make_event(capacity=1)
    people = [email(t) for t in ("ann", "bob", "cy", "di")]
    for p in people:
        assert api.register(slug, p.split("-")[0].title(), p).status == 201
    r = admin.get(f"/events/{slug}/waitlist")
    assert r.status == 200, r
    assert [(w["position"], w["email"]) for w in r.json["waitlist"]] == \
        [(1, people[1]), (2, people[2]), (3, people[3])]
    assert r.json["total"] == 3
    # A cancellation moves everyone up.
    tok = db.tokens(people[2], "waitlisted")[0]
    assert api.delete(f"/api/v1/registrations/{tok}").status == 200
    r = admin.get(f"/events/{slug}/waitlist?per_page=1&page=2")
    assert [(w["position"], w["email"]) for w in r.json["waitlist"]] == [(2, people[3])]
    assert_error(admin.get("/events/no-such-event-here/waitlist"), 404, "event_not_found")
    # The same at psql, for ops.
    conn = connect_as(ops_role)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT position, email FROM eventbox.waiting_list"
                        " WHERE slug = %s ORDER BY position", (slug,))
            assert cur.fetchall() == [(1, people[1]), (2, people[3])]
    finally:
        conn.close()


def test_the_audit_log_pages_back_from_an_entry_while_staff_work(api, admin,
                                                                 make_event):
    """A script archiving one event's log page by page while staff go on
    changing it: with page numbers alone each new entry pushed an entry
    already read onto the next page.  ?before= (an entry's id: the ones
    older than it) reads each entry once."""
    slug = make_event()
    for cap in (101, 102, 103, 104):
        assert admin.put(f"/events/{slug}/capacity",
                         json_body={"capacity": cap}).status == 200
    seen, before = [], None
    for _ in range(10):         # 4 capacity_set + created: 3 pages and an empty one
        query = f"/audit?event={slug}&per_page=2"
        r = admin.get(query + (f"&before={before}" if before else ""))
        assert r.status == 200, r
        entries = r.json["entries"]
        if not entries:
            break
        seen += [e["id"] for e in entries]
        before = entries[-1]["id"]
        # Staff change the event meanwhile: a newer entry each time.
        assert admin.patch(f"/events/{slug}", json_body={
            "title": f"Renamed {len(seen)}"}).status == 200
    caps = [e["id"] for e in admin.get(f"/audit?event={slug}&action=capacity_set"
                                       ).json["entries"]]
    assert len(seen) == len(set(seen)) and set(caps) <= set(seen), seen
    assert seen == sorted(seen, reverse=True)
    for bad in ("0", "-1", "x", "1.5"):
        assert_error(admin.get(f"/audit?before={bad}"), 400, "invalid_query")
