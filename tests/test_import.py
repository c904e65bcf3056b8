"""`eventbox import`: moving off LibCal.  Reads a LibCal 1.1 API (here the
test stack's own /1.1, as another eventbox would serve it) with client
credentials and creates its events as drafts for staff to review, once:
a re-run changes nothing.
"""
import datetime
import http.server
import json
import random
import threading
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


class FakeLibCal:
    """A LibCal 1.1 API of the test's own, for what another eventbox never
    sends: a token for any credentials, one calendar, and its events as the
    raw bytes given."""

    def __init__(self, events):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, data):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.answer(b'{"access_token": "fake", "token_type": "Bearer",'
                            b' "expires_in": 3600}')

            def do_GET(self):
                if self.path.startswith("/1.1/calendars"):
                    self.answer(b'{"calendars": [{"cal_id": 7, "name": "Main"}]}')
                elif self.path.startswith("/1.1/events?"):
                    self.answer(b'{"events": [' + b", ".join(events) + b"]}")
                else:
                    self.send_error(404)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def remote_event(ident, title, description=b'""'):
    """One LibCal event as JSON bytes; title and description as JSON text."""
    start = (datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
             + datetime.timedelta(days=40))
    times = json.dumps({"start": start.isoformat(),
                        "end": (start + datetime.timedelta(hours=1)).isoformat()})
    return (b'{"id": %d, "title": %s, "description": %s, "seats": 10, %s'
            % (ident, title, description, times[1:].encode()))


def test_a_remote_event_with_bad_text_is_refused_and_the_rest_come_in(db):
    """An event whose title was not UTF-8 stopped the whole calendar's
    import (the database refused the bytes; the events after it never came
    in, exit 1), and a \\u0000 in a text cut it short there, silently: each
    is one event refused, counted and named, and the import goes on.  An
    escaped backslash before "u0000" is text like any other."""
    ids = random.sample(range(10**9, 10**10), 5)
    lib = FakeLibCal([
        remote_event(ids[0], b'"Knitting Circle"'),
        remote_event(ids[1], b'"Caf\xe9 \xff\xfe night"'),
        remote_event(ids[2], b'"Laptop clinic"', b'"Bring\\u0000 a laptop"'),
        remote_event(ids[3], b'"Paths"', b'"C:\\\\u0000dir"'),
        remote_event(ids[4], b'"Chess club"')])
    try:
        out = eventbox("import", lib.base, check=False,
                       extra_env={"EVENTBOX_IMPORT_CLIENT_ID": "1",
                                  "EVENTBOX_IMPORT_CLIENT_SECRET": "s"})
    finally:
        lib.stop()
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3 created as drafts, 0 imported before, 2 refused", out
    assert f"event {ids[1]} not imported: title is not UTF-8" in out.stderr, out.stderr
    assert (f"event {ids[2]} not imported: description holds a NUL character (\\u0000)"
            in out.stderr), out.stderr
    assert db.all("SELECT i.source_id, e.title, e.description, e.status"
                  " FROM eventbox.event_imports i JOIN eventbox.events e ON e.id = i.event_id"
                  " WHERE i.source = %s ORDER BY i.source_id", lib.base) == sorted([
                      (ids[0], "Knitting Circle", "", "draft"),
                      (ids[3], "Paths", "C:\\u0000dir", "draft"),
                      (ids[4], "Chess club", "", "draft")])
