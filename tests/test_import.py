"""`eventbox import`: moving off LibCal.  Reads a LibCal 1.1 API (here the
test stack's own /1.1, as another eventbox would serve it) with client
credentials and creates its events as drafts for staff to review, once:
a re-run changes nothing.  Asked, it brings their registrations too.
"""
import datetime
import email
import email.policy
import http.server
import json
import os
import random
import re
import threading
import time
import uuid

import pytest

from conftest import devstack, env
from staffkit import admin, audit, connect_as, eventbox, event_id, ops_role, staff_key  # noqa: F401
from staffkit import email as address
from staffkit import staff_register
from test_ops_sql import doc_sql_blocks


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
    raw bytes given (and any event's registrations, which a test may
    change between runs)."""

    def __init__(self, events, registrations=b"[]"):
        self.registrations = registrations
        fake = self

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
                elif re.fullmatch(r"/1\.1/events/[0-9]+/registrations\?waitlist=1", self.path):
                    self.answer(fake.registrations)
                else:
                    self.send_error(404)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def remote_event(ident, title, description=b'""', seats=b"10"):
    """One LibCal event as JSON bytes; title, description and seats as
    JSON text."""
    start = (datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
             + datetime.timedelta(days=40))
    times = json.dumps({"start": start.isoformat(),
                        "end": (start + datetime.timedelta(hours=1)).isoformat()})
    return (b'{"id": %d, "title": %s, "description": %s, "seats": %s, %s'
            % (ident, title, description, seats, times[1:].encode()))


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


def sunk(addr):
    """The messages the stack's SMTP sink kept for addr."""
    found = []
    maildir = env("EVENTBOX_MAIL_DIR")
    for name in sorted(os.listdir(maildir)):
        if name.endswith(".eml") and not name.startswith("."):
            with open(os.path.join(maildir, name), "rb") as f:
                data = f.read()
            if f"X-Envelope-To: <{addr}>".encode() in data:
                found.append(email.message_from_bytes(data, policy=email.policy.default))
    return found


def imported(db, source, source_id):
    """The draft's registrations, in arrival order: (booking, name, email,
    status, position on the waiting list)."""
    return db.all(
        "SELECT i.booking_id, r.name, r.email, r.status,"
        " CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*) FROM eventbox.registrations w"
        "   WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.id <= r.id) END"
        " FROM eventbox.event_imports e JOIN eventbox.registrations r ON r.event_id = e.event_id"
        " LEFT JOIN eventbox.registration_imports i ON i.registration_id = r.id"
        " WHERE e.source = %s AND e.source_id = %s ORDER BY r.id", source, source_id)


def test_registrations_come_in_order_unmailed_once_and_are_mailed_when_published(
        api, admin, db, make_event, ops_role):
    """EVENTBOX_IMPORT_REGISTRATIONS=1: each still-draft event's LibCal
    registrations, seats then waiting list in LibCal's order, statuses
    kept, nothing mailed; a seat beyond the draft's capacity goes to the
    head of its waiting list, a waiting place beyond its limit and an
    address registrant_error() refuses are named with their booking ids;
    a re-run adds nothing; published, OPS.md's one statement sends each
    its one email, whose cancel link works."""
    cat = "Import " + uuid.uuid4().hex[:6]
    r = admin.post("/api-clients", json_body={"name": "imp-" + uuid.uuid4().hex[:8],
                                              "registrations": True})
    cid = db.value("SELECT eventbox.category_id(%s)", cat)
    env_ = {"EVENTBOX_IMPORT_CLIENT_ID": r.json["client_id"],
            "EVENTBOX_IMPORT_CLIENT_SECRET": r.json["client_secret"],
            "EVENTBOX_IMPORT_QUERY": f"category={cid}"}
    # One event imported before, without its registrations; staff then
    # lowered its draft's capacity to 2 and its waiting list to 2.
    first = make_event(categories=[cat], capacity=4, starts_in="30 days")
    first_id = event_id(db, first)
    out = eventbox("import", api.base, extra_env=env_)
    assert out.stdout.strip() == "1 created as drafts, 0 imported before, 0 refused"
    db.all("UPDATE eventbox.events SET capacity = 2, waitlist_capacity = 2"
           " WHERE id = (SELECT event_id FROM eventbox.event_imports"
           " WHERE source = %s AND source_id = %s)", api.base, first_id)
    people = {k: address(k) for k in ("c1", "c2", "c3", "w1", "w2", "d1", "d2", "dw")}
    booking = {}
    for k in ("c1", "c2"):
        booking[k] = staff_register(db, first, "Person " + k, people[k])
    # An address the column takes and registrant_error() does not (its
    # last label all digits): stored by an older release, or by LibCal.
    booking["bad"] = db.value(
        "INSERT INTO eventbox.registrations (event_id, name, email, status, confirmed_at)"
        " VALUES (%s, 'Bad Address', 'bad@192.0.2.1', 'confirmed', now()) RETURNING id",
        first_id)
    for k in ("c3", "w1", "w2"):
        booking[k] = staff_register(db, first, "Person " + k, people[k])
    assert db.summary(first)["waitlisted"] == 2
    # One new event, with a seat each for two and one waiting.
    second = make_event(categories=[cat], capacity=2, starts_in="31 days")
    second_id = event_id(db, second)
    for k in ("d1", "d2", "dw"):
        booking[k] = staff_register(db, second, "Person " + k, people[k])
    # The source's own emails to these addresses are not this test's: sent.
    db.all("SELECT eventbox.mail_sent(id) FROM eventbox.outbox"
           " WHERE event_id = ANY (%s) AND status = 'pending'", [first_id, second_id])

    devstack("mailer-start")
    try:
        env_["EVENTBOX_IMPORT_REGISTRATIONS"] = "1"
        out = eventbox("import", api.base, extra_env=env_)
        assert out.stdout.strip() == (
            "1 created as drafts, 1 imported before, 0 refused; registrations:"
            " 4 confirmed, 3 on the waiting list (1 of them had a seat),"
            " 0 imported before, 2 refused"), out
        assert (f"booking {booking['bad']} (event {first_id}) not imported: email is not a valid email address"
                in out.stderr), out.stderr
        assert (f"booking {booking['c3']} (event {first_id}) had a seat; no seat left on"
                " the draft: on its waiting list, place 1" in out.stderr), out.stderr
        assert (f"booking {booking['w2']} (event {first_id}) not imported: no seat left"
                " on the draft and no room on its waiting list" in out.stderr), out.stderr
        first_rows = [(booking["c1"], "Person c1", people["c1"], "confirmed", None),
                      (booking["c2"], "Person c2", people["c2"], "confirmed", None),
                      (booking["c3"], "Person c3", people["c3"], "waitlisted", 1),
                      (booking["w1"], "Person w1", people["w1"], "waitlisted", 2)]
        second_rows = [(booking["d1"], "Person d1", people["d1"], "confirmed", None),
                       (booking["d2"], "Person d2", people["d2"], "confirmed", None),
                       (booking["dw"], "Person dw", people["dw"], "waitlisted", 1)]
        assert imported(db, api.base, first_id) == first_rows
        assert imported(db, api.base, second_id) == second_rows
        drafts = [r[0] for r in db.all(
            "SELECT event_id FROM eventbox.event_imports WHERE source = %s"
            " AND source_id = ANY (%s) ORDER BY source_id", api.base, [first_id, second_id])]
        # Nothing queued: the drafts' patrons hold LibCal's emails.
        assert db.value("SELECT count(*) FROM eventbox.outbox WHERE event_id = ANY (%s)",
                        drafts) == 0
        entries = audit(db, drafts[0], action="registration_imported")
        assert [(e["details"]["booking_id"], e["details"]["outcome"]) for e in entries] == [
            (booking["c1"], "confirmed"), (booking["c2"], "confirmed"),
            (booking["c3"], "moved"), (booking["w1"], "waitlisted")]
        assert {(e["actor"], e["via"]) for e in entries} == {
            (db.value("SELECT current_user"), "sql")}

        # Again: nothing new, the refused ones refused again.
        again = eventbox("import", api.base, extra_env=env_)
        assert again.stdout.strip() == (
            "0 created as drafts, 2 imported before, 0 refused; registrations:"
            " 0 confirmed, 0 on the waiting list (0 of them had a seat),"
            " 7 imported before, 2 refused"), again
        assert imported(db, api.base, first_id) == first_rows
        assert imported(db, api.base, second_id) == second_rows

        # Published, OPS.md's statement, as a staff login: one email each.
        slug = db.value("SELECT slug FROM eventbox.events WHERE id = %s", drafts[0])
        (block,) = [b for b in doc_sql_blocks("OPS.md", "## Moving off LibCal: `eventbox import`")
                    if "resend_confirmation" in b]
        assert "'knitting-circle-4217'" in block
        conn = connect_as(ops_role)
        try:
            with conn.cursor() as cur:
                cur.execute(block.replace("'knitting-circle-4217'", "%s"), (slug,))
                assert [x[2] for x in cur.fetchall()] == ["not_published"] * 4
                cur.execute("SELECT outcome FROM eventbox.set_status(%s, 'published')", (slug,))
                assert cur.fetchone() == ('ok',)
                cur.execute(block.replace("'knitting-circle-4217'", "%s"), (slug,))
                sent = cur.fetchall()
        finally:
            conn.close()
        assert [(x[1], x[2], x[3]) for x in sent] == [
            (people["c1"], "queued", "confirmed"), (people["c2"], "queued", "confirmed"),
            (people["c3"], "queued", "waitlisted"), (people["w1"], "queued", "waitlisted")]
        mine = [people[k] for k in ("c1", "c2", "c3", "w1")]
        deadline = time.time() + 60
        while not all(sunk(a) for a in mine):
            assert time.time() < deadline, [len(sunk(a)) for a in mine]
            time.sleep(0.2)
        # Run again, once they were sent: nobody is mailed twice.
        conn = connect_as(ops_role)
        try:
            with conn.cursor() as cur:
                cur.execute(block.replace("'knitting-circle-4217'", "%s"), (slug,))
                assert cur.fetchall() == []
        finally:
            conn.close()
        time.sleep(1)               # anything else queued for them goes out too
        for a in mine + [people[k] for k in ("d1", "d2", "dw")]:
            assert len(sunk(a)) == (1 if a in mine else 0), a
        tokens = {}
        for k in ("c1", "c3"):
            (msg,) = sunk(people[k])
            text = msg.get_body(("plain",)).get_content()
            m = re.search(r"/cancel/([0-9a-f-]{36})\b", text)
            assert m, text
            tokens[k] = m.group(1)
        assert api.get(f"/api/v1/registrations/{tokens['c3']}").json["status"] == "waitlisted"
        gone = api.delete(f"/api/v1/registrations/{tokens['c1']}")
        assert gone.status == 200, gone
        assert imported(db, api.base, first_id)[0][3] == "cancelled"
        # The seat went to the first in line: the one who had a seat in LibCal.
        assert imported(db, api.base, first_id)[2][3] == "confirmed"
    finally:
        devstack("mailer-stop")


def test_a_client_without_the_registrations_scope_stops_the_import(api, admin, db,
                                                                    make_event):
    """The registrations cannot be read: said, exit 1; the draft stays and
    a re-run with a client that may read them brings them."""
    cat = "Import " + uuid.uuid4().hex[:6]
    slug = make_event(categories=[cat], capacity=5, starts_in="34 days")
    source = event_id(db, slug)
    person = address("scope")
    booking = staff_register(db, slug, "Scope Person", person)
    cid = db.value("SELECT eventbox.category_id(%s)", cat)
    query = {"EVENTBOX_IMPORT_QUERY": f"category={cid}", "EVENTBOX_IMPORT_REGISTRATIONS": "1"}
    for scope in (False, True):
        r = admin.post("/api-clients", json_body={"name": "imp-" + uuid.uuid4().hex[:8],
                                                  "registrations": scope})
        out = eventbox("import", api.base, check=False, extra_env={
            **query, "EVENTBOX_IMPORT_CLIENT_ID": r.json["client_id"],
            "EVENTBOX_IMPORT_CLIENT_SECRET": r.json["client_secret"]})
        if not scope:
            assert out.returncode == 1, out
            assert (f"could not read the registrations of event {source}" in out.stderr
                    and "HTTP 403" in out.stderr), out.stderr
            assert imported(db, api.base, source) == []
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "0 created as drafts, 1 imported before, 0 refused; registrations:"
        " 1 confirmed, 0 on the waiting list (0 of them had a seat),"
        " 0 imported before, 0 refused"), out
    assert imported(db, api.base, source) == [
        (booking, "Scope Person", person, "confirmed", None)]
    out = eventbox("import", api.base, check=False, extra_env={
        "EVENTBOX_IMPORT_CLIENT_ID": "1", "EVENTBOX_IMPORT_CLIENT_SECRET": "s",
        "EVENTBOX_IMPORT_REGISTRATIONS": "yes"})
    assert out.returncode == 2 and "EVENTBOX_IMPORT_REGISTRATIONS=0|1" in out.stderr, out


# What a run against FakeLibCal needs to bring registrations too.
FAKE_REGISTRATIONS = {"EVENTBOX_IMPORT_CLIENT_ID": "1", "EVENTBOX_IMPORT_CLIENT_SECRET": "s",
                      "EVENTBOX_IMPORT_REGISTRATIONS": "1"}


def summary(drafts, before, confirmed, waiting, reg_before, reg_refused):
    """The line a run prints, with nothing refused among the events and
    nobody moved from a seat to the waiting list."""
    return (f"{drafts} created as drafts, {before} imported before, 0 refused;"
            f" registrations: {confirmed} confirmed, {waiting} on the waiting list"
            f" (0 of them had a seat), {reg_before} imported before, {reg_refused} refused")


def test_a_re_run_names_the_bookings_libcal_no_longer_lists(db):
    """A booking imported before that LibCal lists no more (cancelled there
    since the last run) is named on stderr with its registration, which
    stays for staff to cancel or keep: the import cancels nothing."""
    ident = random.randrange(10**9, 10**10)
    booking = random.sample(range(10**9, 10**10), 3)

    def listing(*keep):
        people = [{"booking_id": b, "first_name": n, "email": f"{n.lower()}-{b}@example.org"}
                  for b, n in zip(booking, ("Ana", "Bo", "Cy")) if b in keep]
        return json.dumps([{"event_id": ident, "registrants": people[:2],
                            "waitlist": people[2:]}]).encode()

    lib = FakeLibCal([remote_event(ident, b'"Loom"')], listing(*booking))
    try:
        first = eventbox("import", lib.base, extra_env=FAKE_REGISTRATIONS)
        assert "no longer listed" not in first.stderr, first.stderr
        lib.registrations = listing(booking[0])
        again = eventbox("import", lib.base, extra_env=FAKE_REGISTRATIONS)
    finally:
        lib.stop()
    assert again.stdout.strip() == summary(0, 1, 0, 0, 1, 0), again
    rows = imported(db, lib.base, ident)
    # LibCal's waiting place took a free seat: nobody waited before it.
    assert [(r[0], r[3]) for r in rows] == [
        (booking[0], "confirmed"), (booking[1], "confirmed"), (booking[2], "confirmed")]
    ids = dict(db.all("SELECT booking_id, registration_id FROM eventbox.registration_imports"
                      " WHERE source = %s", lib.base))
    gone = sorted(booking[1:])
    named = [line for line in again.stderr.splitlines() if "no longer listed" in line]
    assert named == [
        f"eventbox: booking {b} (event {ident}) imported before is no longer listed by"
        f" LibCal; still {dict((r[0], r[3]) for r in rows)[b]} here (registration {ids[b]}):"
        " cancel it as staff if it was cancelled there" for b in gone], again.stderr
    # Staff cancel one, as the line says: its patron, never mailed from
    # here, is not sent a receipt for it.
    assert db.all("SELECT outcome FROM eventbox.cancel_registration(%s)",
                  ids[booking[2]]) == [("cancelled",)]
    assert db.all("SELECT kind FROM eventbox.outbox WHERE registration_id = %s",
                  ids[booking[2]]) == []


def test_an_event_without_a_seat_limit_takes_its_registrations_once_staff_set_one(db):
    """LibCal sets no limit: the draft comes in with no seats, and its
    registrations would all have gone to the waiting list.  They are
    refused, in one line that says what to do, and come in as seats on the
    run after staff set the capacity."""
    ident = random.randrange(10**9, 10**10)
    booking = random.sample(range(10**9, 10**10), 3)
    regs = json.dumps([{"event_id": ident, "registrants": [
        {"booking_id": b, "first_name": f"P{i}", "email": f"p{i}-{b}@example.org"}
        for i, b in enumerate(booking[:2])], "waitlist": [
        {"booking_id": booking[2], "first_name": "W", "email": f"w-{booking[2]}@example.org"}]
    }]).encode()
    lib = FakeLibCal([remote_event(ident, b'"Open webinar"', seats=b'""')], regs)
    try:
        first = eventbox("import", lib.base, extra_env=FAKE_REGISTRATIONS)
        assert first.stdout.strip() == summary(1, 0, 0, 0, 0, 3), first
        assert first.stderr.count(f"event {ident}") == 1, first.stderr
        assert (f"the registrations of event {ident} not imported: its draft has no"
                " seats (LibCal set no limit); set its capacity, then run the import"
                " again") in first.stderr, first.stderr
        assert imported(db, lib.base, ident) == []
        db.all("UPDATE eventbox.events SET capacity = 5 WHERE id = (SELECT event_id"
               " FROM eventbox.event_imports WHERE source = %s AND source_id = %s)"
               " RETURNING id", lib.base, ident)
        again = eventbox("import", lib.base, extra_env=FAKE_REGISTRATIONS)
    finally:
        lib.stop()
    assert again.stdout.strip() == summary(0, 1, 3, 0, 0, 0), again
    assert [(r[0], r[3], r[4]) for r in imported(db, lib.base, ident)] == [
        (booking[0], "confirmed", None), (booking[1], "confirmed", None),
        (booking[2], "confirmed", None)]


def test_imported_addresses_are_checked_and_converted_as_the_service_does(db):
    """LibCal's addresses may be written in Unicode: the domain is stored
    in A-labels, as the form stores it; one the service would refuse is
    named with its booking id, and the rest come in.  LibCal's split name
    is joined."""
    ident = random.randrange(10**9, 10**10)
    booking = random.sample(range(10**9, 10**10), 3)
    regs = json.dumps([{"event_id": ident, "registrants": [
        {"booking_id": booking[0], "first_name": "Ana", "last_name": "Ruiz",
         "email": "ana@bibliotecá.es", "registered_date": "2026-11-02T10:00:00-05:00"},
        {"booking_id": booking[1], "first_name": "José", "last_name": "",
         "email": "josé@example.org"},
        {"booking_id": booking[2], "first_name": "Bo", "email": "bo@@example.org"},
        {"booking_id": str(booking[2] + 1), "first_name": "Di", "email": "di@example.org"},
        {"booking_id": booking[2] + 2, "first_name": "Ed", "email": "ed@example.org",
         "registered_date": "the day before yesterday"},
        # LibCal's own form, without an offset: the event's zone (the
        # import's default, America/New_York), not the database session's.
        {"booking_id": booking[2] + 3, "first_name": "Flo", "email": "flo@example.org",
         "registered_date": "2026-11-02 10:00:00"}],
        "waitlist": []}]).encode()
    lib = FakeLibCal([remote_event(ident, b'"Telar"')], regs)
    try:
        out = eventbox("import", lib.base, check=False,
                       extra_env={"EVENTBOX_IMPORT_CLIENT_ID": "1",
                                  "EVENTBOX_IMPORT_CLIENT_SECRET": "s",
                                  "EVENTBOX_IMPORT_REGISTRATIONS": "1"})
    finally:
        lib.stop()
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "1 created as drafts, 0 imported before, 0 refused; registrations:"
        " 3 confirmed, 0 on the waiting list (0 of them had a seat),"
        " 0 imported before, 3 refused"), out
    assert (f"booking {booking[1]} (event {ident}) not imported: email has a letter"
            " such as é before the @" in out.stderr), out.stderr
    assert (f"booking {booking[2]} (event {ident}) not imported: email is not a valid"
            " email address" in out.stderr), out.stderr
    assert f"event {ident} not imported: its booking_id is not a positive" in out.stderr
    # A registered_date that is no time: the time of the import.
    assert db.all("SELECT booking_id, name, email, status,"
                  " CASE WHEN name = 'Ed' THEN registered_at > now() - interval '5 minutes'"
                  " ELSE registered_at = '2026-11-02 15:00+00' END"
                  " FROM eventbox.registration_imports i JOIN eventbox.registrations r"
                  " ON r.id = i.registration_id WHERE i.source = %s ORDER BY r.id",
                  lib.base) == [
        (booking[0], "Ana Ruiz", "ana@xn--bibliotec-81a.es", "confirmed", True),
        (booking[2] + 2, "Ed", "ed@example.org", "confirmed", True),
        (booking[2] + 3, "Flo", "flo@example.org", "confirmed", True)]
