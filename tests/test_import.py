"""`eventbox import`: moving off LibCal.  Reads a LibCal 1.1 API (here the
test stack's own /1.1, as another eventbox would serve it) with client
credentials and creates its events as drafts for staff to review, once:
a re-run changes nothing.
"""
import uuid

import pytest

from staffkit import admin, eventbox, event_id, staff_key  # noqa: F401


def test_import_creates_drafts_once(api, admin, db, make_event):
    cat = "Import " + uuid.uuid4().hex[:6]
    hybrid = make_event(categories=[cat], capacity=12, presenter="Pat Reyes",
                        location="Room 9", format="hybrid", starts_in="30 days",
                        audience="Teens and their parents")
    online = make_event(categories=[cat], format="online", starts_in="31 days",
                        description="Bring a laptop.")
    ids = [event_id(db, s) for s in (hybrid, online)]
    r = admin.post("/api-clients", json_body={"name": "imp-" + uuid.uuid4().hex[:8]})
    cid = db.value("SELECT eventbox.category_id(%s)", cat)
    env = {"EVENTBOX_IMPORT_CLIENT_ID": r.json["client_id"],
           "EVENTBOX_IMPORT_CLIENT_SECRET": r.json["client_secret"],
           "EVENTBOX_IMPORT_QUERY": f"category={cid}"}
    out = eventbox("import", api.base + "/", extra_env=env)
    assert out.stdout.strip() == "2 created as drafts, 0 imported before, 0 refused"
    rows = db.all(
        "SELECT i.source_id, e.status, e.title, e.capacity, e.categories, e.format,"
        " e.location, e.presenter, e.description, e.timezone, e.online_url,"
        " e.starts_at = date_trunc('second', s.starts_at),"
        " e.ends_at = date_trunc('second', s.ends_at)"
        " FROM eventbox.event_imports i JOIN eventbox.events e ON e.id = i.event_id"
        " JOIN eventbox.events s ON s.id = i.source_id"
        " WHERE i.source = %s AND i.source_id = ANY (%s) ORDER BY i.source_id",
        api.base, ids)
    assert rows == [
        (ids[0], "draft", f"Test event {hybrid}", 12, [cat], "hybrid", "Room 9",
         "Pat Reyes", "", "America/New_York", None, True, True),
        (ids[1], "draft", f"Test event {online}", 100, [cat], "online", "",
         "", "Bring a laptop.", "America/New_York", None, True, True)]
    # LibCal's audience (one, from the source's who should attend) comes back
    # as who should attend.
    assert db.all("SELECT e.audience FROM eventbox.event_imports i JOIN eventbox.events e"
                  " ON e.id = i.event_id WHERE i.source = %s AND i.source_id = ANY (%s)"
                  " ORDER BY i.source_id", api.base, ids) == [("Teens and their parents",),
                                                               ("",)]
    again = eventbox("import", api.base, extra_env=env)
    assert again.stdout.strip() == "0 created as drafts, 2 imported before, 0 refused"
    assert db.value("SELECT count(*) FROM eventbox.event_imports WHERE source = %s"
                    " AND source_id = ANY (%s)", api.base, ids) == 2


def test_import_without_valid_credentials_stops(api):
    out = eventbox("import", api.base, check=False,
                   extra_env={"EVENTBOX_IMPORT_CLIENT_ID": "1",
                              "EVENTBOX_IMPORT_CLIENT_SECRET": "wrong"})
    assert out.returncode == 1 and "no access token" in out.stderr
    out = eventbox("import", check=False)
    assert out.returncode == 2 and "usage" in out.stderr
    out = eventbox("import", api.base, check=False,
                   extra_env={"EVENTBOX_IMPORT_CLIENT_ID": "1",
                              "EVENTBOX_IMPORT_CLIENT_SECRET": "wrong",
                              "EVENTBOX_IMPORT_TIMEZONE": "Mars/Base"})
    assert out.returncode == 2, out
    assert 'EVENTBOX_IMPORT_TIMEZONE "Mars/Base" is not a time zone' in out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize("zone", ["Factory", "localtime", "posix/America/Chicago"])
def test_a_zone_of_no_place_stops_the_import_before_it_reads_anything(api, zone):
    """CONFIG.md: names PostgreSQL lists that are no place's zone stop the
    import (exit 2) as an unknown one does.  It did, saying that "Factory"
    was "not a time zone PostgreSQL knows", which PostgreSQL does know."""
    out = eventbox("import", api.base, check=False,
                   extra_env={"EVENTBOX_IMPORT_CLIENT_ID": "1",
                              "EVENTBOX_IMPORT_CLIENT_SECRET": "wrong",
                              "EVENTBOX_IMPORT_TIMEZONE": zone})
    assert out.returncode == 2, out
    assert (f'EVENTBOX_IMPORT_TIMEZONE "{zone}" is not a time zone of a place'
            in out.stderr), out.stderr
    assert "no access token" not in out.stderr and out.stdout == ""


def test_an_empty_setting_counts_as_unset(api, admin, db, make_event):
    """An empty line in an environment file means the default, as for every
    variable: EVENTBOX_IMPORT_TIMEZONE= is America/New_York (it stopped the
    import as an unknown zone, exit 2), and empty credentials are missing
    ones (the usage, not a token request with nothing in it)."""
    cat = "Import " + uuid.uuid4().hex[:6]
    slug = make_event(categories=[cat], starts_in="33 days", timezone="Europe/Berlin")
    source = event_id(db, slug)
    r = admin.post("/api-clients", json_body={"name": "imp-" + uuid.uuid4().hex[:8]})
    env = {"EVENTBOX_IMPORT_CLIENT_ID": r.json["client_id"],
           "EVENTBOX_IMPORT_CLIENT_SECRET": r.json["client_secret"],
           "EVENTBOX_IMPORT_TIMEZONE": "",
           "EVENTBOX_IMPORT_QUERY": f"category={db.value('SELECT eventbox.category_id(%s)', cat)}"}
    out = eventbox("import", api.base, check=False, extra_env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1 created as drafts, 0 imported before, 0 refused"
    assert db.all("SELECT e.timezone, e.starts_at = date_trunc('second', s.starts_at)"
                  " FROM eventbox.event_imports i JOIN eventbox.events e ON e.id = i.event_id"
                  " JOIN eventbox.events s ON s.id = i.source_id"
                  " WHERE i.source = %s AND i.source_id = %s",
                  api.base, source) == [("America/New_York", True)]
    out = eventbox("import", api.base, check=False,
                   extra_env={"EVENTBOX_IMPORT_CLIENT_ID": "",
                              "EVENTBOX_IMPORT_CLIENT_SECRET": ""})
    assert out.returncode == 2 and "usage" in out.stderr, out


def test_an_accented_title_makes_a_slug_of_its_letters(api, admin, db, make_event):
    """"Introducción" is "introduccion" in the new draft's address, not
    "introducci-n"; letters of other scripts go, as punctuation does."""
    cat = "Import " + uuid.uuid4().hex[:6]
    slug = make_event(categories=[cat], starts_in="32 days",
                      title="Introducción: Ñandú, Œuvre & Straße 中文 Ærø")
    source = event_id(db, slug)
    r = admin.post("/api-clients", json_body={"name": "imp-" + uuid.uuid4().hex[:8]})
    env = {"EVENTBOX_IMPORT_CLIENT_ID": r.json["client_id"],
           "EVENTBOX_IMPORT_CLIENT_SECRET": r.json["client_secret"],
           "EVENTBOX_IMPORT_QUERY": f"category={db.value('SELECT eventbox.category_id(%s)', cat)}"}
    out = eventbox("import", api.base + "/", extra_env=env)
    assert out.stdout.strip() == "1 created as drafts, 0 imported before, 0 refused"
    assert db.value("SELECT e.slug FROM eventbox.event_imports i JOIN eventbox.events e"
                    " ON e.id = i.event_id WHERE i.source = %s AND i.source_id = %s",
                    api.base, source) == \
        f"introduccion-nandu-oeuvre-strasse-aero-{source}"
