"""An installation upgraded in place with work in flight.

For each release in debian/changelog, a database made and used by that
release's own binaries (built from git history, cached under
var/releases/): its `eventbox serve` behind nginx takes registrations,
questions and their answers, a webhook, held places; its mailer sends the
first emails; then, with emails, webhook deliveries and a hold still
queued, the sysadmin stops it, runs this tree's `eventbox migrate` and
starts this tree's service and mailer behind the same nginx.  Everything
in flight must then work through the real stack: the queued emails go out
complete with working links, the old links still work, a cancellation
promotes the first person waiting, the held place can be confirmed, the
old API key, LibCal client and webhook still work, the audit log and the
answers are all there.

tests/test_upgrade.py checks the schema and rows of upgraded databases;
tests/rehearse.sh upgrades a package.  This file is the patrons' and
staff's side of the same promise.
"""
import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, Api, env
from test_mail import Server, body
from test_nginx_front import free_port, render_nginx, run_nginx
from test_upgrade import BIN, SQL, databases, dsn, migrate, owner, rows  # noqa: F401
from test_webhooks import Receiver, path_of, tls, verify  # noqa: F401

# debian/changelog: the commit that added each release's entry
RELEASES = {"0.9.0": "508418c", "0.10.0": "6b524f9", "0.11.0": "a89f44b"}
CACHE = os.path.join(ROOT, "var", "releases")

QUESTIONS = [
    {"kind": "one_choice", "label": "Which branch are you from?", "required": True,
     "choices": ["North", "South", "Online only"]},
    {"kind": "short_text", "label": "Anything we should know?"},
]


def built(commit):
    """The release's tree and binary, built once and kept under var/."""
    d = os.path.join(CACHE, commit)
    binary = os.path.join(d, "eventbox")
    if not os.access(binary, os.X_OK):
        subprocess.run(["rm", "-rf", d], check=True)
        os.makedirs(d)
        archive = subprocess.run(["git", "-C", ROOT, "archive", commit],
                                 capture_output=True, timeout=120)
        assert archive.returncode == 0, archive.stderr.decode()
        subprocess.run(["tar", "-x", "-C", d], input=archive.stdout, check=True)
        out = subprocess.run(["make", "-C", d, "-s", "eventbox"], capture_output=True,
                             text=True, timeout=900)
        assert out.returncode == 0, out.stderr[-2000:]
    return {"bin": binary, "sql": os.path.join(d, "sql")}


def role_dsn(var, dbname):
    """The stack's DSN of a role (EVENTBOX_DSN, EVENTBOX_MAILER_DSN), on dbname."""
    return re.sub(r"dbname=\S+", f"dbname={dbname}", env(var))


class Stack:
    """One nginx in front of a unix socket; `eventbox serve` and `eventbox
    mailer` of one binary or another behind it, on one database."""

    def __init__(self, tmp_path, dbname):
        self.dbname = dbname
        self.dir = str(tmp_path)
        self.sock = os.path.join(self.dir, "fcgi.sock")
        port = free_port()
        conf = render_nginx(os.path.join(self.dir, "nginx"), port, "10000r/s", 1000,
                            fastcgi_pass="unix:" + self.sock)
        self.nginx = run_nginx(os.path.join(self.dir, "nginx"), conf, port)
        self.base = f"http://127.0.0.1:{port}"
        self.api = Api(self.base)
        self.procs = {}

    def start(self, what, binary, **extra):
        e = dict(os.environ, EVENTBOX_BASE_URL=self.base, EVENTBOX_WORKERS="2",
                 EVENTBOX_LOG_FILE=os.path.join(self.dir, what + ".log"),
                 EVENTBOX_MAIL_FROM="Learning Services <events@library.example.org>")
        if what == "serve":
            e.update(EVENTBOX_DSN=role_dsn("EVENTBOX_DSN", self.dbname),
                     EVENTBOX_LISTEN=self.sock)
            if os.path.exists(self.sock):
                os.unlink(self.sock)
        else:
            e.update(EVENTBOX_DSN=role_dsn("EVENTBOX_MAILER_DSN", self.dbname),
                     EVENTBOX_MAIL_RETRY_BASE_MS="100")
        e.update({k: str(v) for k, v in extra.items()})
        self.procs[what] = subprocess.Popen([binary, what], env=e, cwd=ROOT,
                                            stdin=subprocess.DEVNULL)
        if what == "serve":
            deadline = time.time() + 30
            while True:
                try:
                    if self.api.get("/healthz", timeout=5).status == 200:
                        break
                except OSError:
                    pass
                assert time.time() < deadline, "serve did not become healthy"
                time.sleep(0.2)

    def stop(self, what):
        p = self.procs.pop(what)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=60) == 0, f"{what} did not stop cleanly"

    def close(self):
        for what in list(self.procs):
            self.stop(what)
        self.nginx.send_signal(signal.SIGQUIT)
        self.nginx.wait(timeout=30)


def links(msg, base):
    """The token links of an email, both parts checked to carry them."""
    text, html = body(msg, "plain"), body(msg, "html")
    found = {}
    for kind, token in re.findall(re.escape(base) + r"/(cancel|registration|confirm)/"
                                  r"([0-9a-f-]{36})\b", text):
        assert f'{base}/{kind}/{token}' in html, (kind, html)
        found.setdefault(kind, token)
    return found


def page(api, path, *words):
    r = api.get(path)
    assert r.status == 200, (path, r)
    for w in words:
        assert w in r.text, (path, w)
    return r


def only(server, addr, count=1):
    server.wait_for([addr], count)
    got = server.to(addr)
    assert len(got) == count, [m["Subject"] for m in got]
    return got


@pytest.mark.parametrize("release", sorted(RELEASES, key=lambda v: [int(x) for x in v.split(".")]))
def test_a_release_in_use_upgrades_in_place_with_its_work_in_flight(
        release, databases, tls, tmp_path):  # noqa: F811
    old = built(RELEASES[release])
    name = databases()
    migrate(old["bin"], name, old["sql"])
    conn = owner(name)
    has = {t for (t,) in rows(conn, "SELECT tablename FROM pg_tables"
                                    " WHERE schemaname = 'eventbox'")}
    holds = rows(conn, "SELECT count(*) FROM information_schema.columns WHERE table_schema"
                       " = 'eventbox' AND column_name = 'confirmation_required'")[0][0] > 0
    questions, clients, webhooks = "questions" in has, "api_clients" in has, "webhooks" in has
    tag = uuid.uuid4().hex[:6]
    addr = {k: f"{k}-{tag}@example.org" for k in ("ann", "bob", "cy", "di", "ed", "hal",
                                                   "new", "fay", "gus", "ike")}
    smtp = Server().start()
    receiver = Receiver(tls).start()
    stack = Stack(tmp_path, name)
    try:
        # --- the old release, in use ------------------------------------------
        key = subprocess.run([old["bin"], "apikey", "create", "desk"],
                             env=dict(os.environ, EVENTBOX_DSN=dsn(name)),
                             capture_output=True, text=True, timeout=60)
        assert key.returncode == 0, key.stderr
        key = key.stdout.strip()
        staff = {"Authorization": f"Bearer {key}"}
        client = None
        if clients:
            client = dict(zip(("outcome", "client_id", "client_secret"), rows(
                conn, "SELECT * FROM eventbox.api_client_create('stats', true)")[0]))
            assert client["outcome"] == "created", client
        for slug, extra in (("busy", ""), ("held", ", true, 60"), ("soon", ""),
                            ("gone", "")):
            if slug == "held" and not holds:
                continue
            cols = ", confirmation_required, hold_minutes" if extra else ""
            rows(conn, f"INSERT INTO eventbox.events (slug, title, capacity, status,"
                       f" starts_at, ends_at, timezone, online_url{cols})"
                       f" VALUES (%s, %s, 2, 'published', now() + %s::interval,"
                       f" now() + %s::interval + interval '2 hours', 'America/Chicago',"
                       f" 'https://meet.example.org/{slug}'{extra})",
                 slug, "Upgrade " + slug, *["2 days" if slug == "soon" else "9 days"] * 2)
        stack.start("serve", old["bin"])
        api = stack.api
        answers, secret, hook = {}, None, None
        if questions:
            r = api.request("PUT", "/api/v1/admin/events/busy/questions", headers=staff,
                            json_body={"questions": QUESTIONS})
            assert r.status == 200, r
            qid = [q["id"] for q in r.json["questions"]]
        if webhooks:
            hook = receiver.url
            r = api.post("/api/v1/admin/webhooks", headers=staff,
                         json_body={"url": hook, "events": [
                             "registration.created", "registration.promoted",
                             "registration.cancelled"]})
            assert r.status == 201, r
            secret = r.json["secret"]

        def register(who, slug="busy", status=201, want=None):
            extra = {}
            if questions and slug == "busy":
                answers[who] = {str(qid[0]): "South", str(qid[1]): f"{who} needs a ramp"}
                extra = {"answers": answers[who]}
            r = api.register(slug, who.title(), addr[who], extra=extra)
            assert r.status == status, r
            if want:
                assert r.json["status"] == want, r
            return r

        mail = dict(EVENTBOX_SMTP_URL=smtp.url, EVENTBOX_WEBHOOK_CA=tls[0],
                    EVENTBOX_WEBHOOK_ALLOW_PRIVATE=1, EVENTBOX_WEBHOOK_RETRY_BASE_MS=200)
        stack.start("mailer", old["bin"], **mail)
        for who, want in (("ann", "confirmed"), ("bob", "confirmed"), ("cy", "waitlisted"),
                          ("di", "waitlisted")):
            register(who, want=want)
        sent = {who: only(smtp, addr[who])[0] for who in ("ann", "bob", "cy", "di")}
        if webhooks:
            receiver.wait(path_of(hook), 4)
        stack.stop("mailer")
        old_links = {who: links(m, stack.base) for who, m in sent.items()}
        assert all("cancel" in v for v in old_links.values()), old_links
        # what is queued when the sysadmin stops the service
        register("ed", want="waitlisted")
        if holds:
            register("hal", "held", status=202, want="pending")
        # a reminder queued, then the start moved by staff at psql (a notice
        # of the change, where the release had them); an event cancelled
        for who in ("fay", "gus"):
            register(who, "soon", want="confirmed")
        register("ike", "gone", want="confirmed")
        assert rows(conn, "SELECT eventbox.queue_reminders(72)") == [(2,)]
        rows(conn, "UPDATE eventbox.events SET starts_at = starts_at + interval '1 hour',"
                   " ends_at = ends_at + interval '1 hour' WHERE slug = 'soon'")
        assert api.post("/api/v1/admin/events/gone/cancel", headers=staff).status == 200
        r = api.post("/api/v1/admin/registrations/%d/check-in" % rows(
            conn, "SELECT id FROM eventbox.registrations WHERE email = %s", addr["bob"])[0][0],
            headers=staff)
        assert r.status == 200, r
        stack.stop("serve")
        queued = dict(rows(conn, "SELECT email, count(*) FROM eventbox.outbox"
                                 " WHERE status = 'pending' AND kind <> 'webhook' GROUP BY 1"))
        assert queued.pop(addr["ed"]) == 1 and queued.pop(addr["hal"], 1) == 1
        assert queued.pop(addr["ike"]) == 2, queued
        assert set(queued) == {addr["fay"], addr["gus"]} and min(queued.values()) >= 2, queued
        audited = rows(conn, "SELECT count(*) FROM eventbox.audit_log")[0][0]
        assert audited > 0

        # --- the upgrade ------------------------------------------------------
        migrate(BIN, name, SQL)
        stack.start("serve", BIN)
        stack.start("mailer", BIN, **mail)

        # the queued emails, rendered by the new mailer: complete, links working
        ed = only(smtp, addr["ed"])[0]
        assert "Upgrade busy" in ed["Subject"], ed["Subject"]
        ed_links = links(ed, stack.base)
        assert set(ed_links) >= {"cancel", "registration"}, ed_links
        assert "waiting list" in body(ed, "plain").lower()
        page(api, "/registration/" + ed_links["registration"], "Ed", "Upgrade busy")
        page(api, "/cancel/" + ed_links["cancel"], "Ed")
        if holds:
            hal = only(smtp, addr["hal"])[0]
            hal_links = links(hal, stack.base)
            page(api, "/confirm/" + hal_links["confirm"], "Hal", "Upgrade held")
            r = api.post(f"/api/v1/registrations/{hal_links['confirm']}/confirm")
            assert r.status == 200 and r.json["status"] == "confirmed", r
            hal = only(smtp, addr["hal"], 2)[1]
            assert "meet.example.org/held" in body(hal, "plain")

        # the old release's links still work
        for who, got in old_links.items():
            r = api.get("/api/v1/registrations/" + got["cancel"])
            assert r.status == 200 and r.json["email"] == addr[who], (who, r)
            page(api, "/cancel/" + got["cancel"], who.title())
            if "registration" in got:
                page(api, "/registration/" + got["registration"], who.title())
        assert [r.json["position"] for r in (
            api.get("/api/v1/registrations/" + old_links[w]["cancel"]) for w in ("cy", "di"))] \
            == [1, 2]
        # a cancellation by an old link promotes the first person waiting
        r = api.delete("/api/v1/registrations/" + old_links["ann"]["cancel"])
        assert r.status == 200, r
        assert rows(conn, "SELECT r.email, r.status FROM eventbox.registrations r"
                          " JOIN eventbox.events e ON e.id = r.event_id WHERE e.slug = 'busy'"
                          " ORDER BY r.id") == [
            (addr["ann"], "cancelled"), (addr["bob"], "confirmed"), (addr["cy"], "confirmed"),
            (addr["di"], "waitlisted"), (addr["ed"], "waitlisted")]
        assert rows(conn, "SELECT confirmed, waitlisted, seats_available"
                          " FROM eventbox.event_summary WHERE slug = 'busy'") == [(2, 2, 0)]
        cy = only(smtp, addr["cy"], 2)[1]
        assert "meet.example.org/busy" in body(cy, "plain")
        page(api, "/registration/" + links(cy, stack.base)["registration"], "Cy")
        r = api.get("/api/v1/registrations/" + ed_links["cancel"])
        assert r.status == 200 and r.json["position"] == 2, r
        only(smtp, addr["ann"], 2)

        # staff's key, the audit log, the answers, the LibCal client, the webhook
        r = api.get("/api/v1/admin/audit?per_page=1000", headers=staff)
        assert r.status == 200 and len(r.json["entries"]) >= audited, r
        r = api.get("/api/v1/admin/events/busy/registrations.csv", headers=staff)
        assert r.status == 200, r
        for who in ("ann", "bob", "cy", "di", "ed"):
            assert addr[who] in r.text, who
            if questions:
                assert f"{who} needs a ramp" in r.text, r.text
        if questions:
            assert register("new", want="waitlisted").status == 201
        if clients:
            r = api.post("/1.1/oauth/token", body=(
                f"grant_type=client_credentials&client_id={client['client_id']}"
                f"&client_secret={client['client_secret']}"),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status == 200, r
            bearer = {"Authorization": "Bearer " + r.json["access_token"]}
            ev = rows(conn, "SELECT id FROM eventbox.events WHERE slug = 'busy'")[0][0]
            r = api.get(f"/1.1/events/{ev}/registrations", headers=bearer)
            assert r.status == 200 and addr["cy"] in r.text, r
        if webhooks:
            # the delivery queued before the upgrade (ed's), and the
            # cancellation and promotion after it, each once, signed
            want = {("registration.created", addr["ed"]), ("registration.cancelled", addr["ann"]),
                    ("registration.promoted", addr["cy"])}
            deadline = time.time() + 60
            while True:
                got = receiver.for_path(path_of(hook))
                kinds = [(json.loads(b)["type"], json.loads(b)["registration"]["email"])
                         for _, b in got]
                if want <= set(kinds) or time.time() > deadline:
                    break
                time.sleep(0.1)
            assert want <= set(kinds), kinds
            assert len(kinds) == len(set(kinds)), kinds
            for h, raw in got:
                verify(secret, h, raw)

        # every queued email went out, none failed or was skipped but a
        # reminder for the start staff moved; each link in them works
        deadline = time.time() + 60
        while rows(conn, "SELECT count(*) FROM eventbox.outbox WHERE status = 'pending'"
                         " AND next_attempt_at <= now()")[0][0] and time.time() < deadline:
            time.sleep(0.2)
        assert rows(conn, "SELECT kind, email, status, last_error FROM eventbox.outbox"
                          " WHERE status <> 'sent' AND (kind <> 'reminder'"
                          " OR last_error IS DISTINCT FROM 'skipped')") == []
        for who in ("fay", "gus", "ike"):
            got = smtp.to(addr[who])
            kinds = [m["Subject"] for m in got]
            # ike's confirmation, for an event cancelled since, is dropped
            assert len(got) >= (1 if who == "ike" else 2), kinds
            for m in got:
                assert "Upgrade " in m["Subject"], kinds
                for kind, token in links(m, stack.base).items():
                    page(api, f"/{kind}/{token}", who.title())
        assert any("cancel" in m["Subject"].lower() for m in smtp.to(addr["ike"]))
        # a reminder queued for the start before the move: sent once where
        # the release did not record its start, else dropped as stale
        reminders = dict(rows(conn, "SELECT r.email, count(*) FROM eventbox.outbox o"
                                    " JOIN eventbox.registrations r ON r.id = o.registration_id"
                                    " WHERE o.kind = 'reminder' AND o.last_error IS NULL"
                                    " AND o.status = 'sent' GROUP BY 1"))
        assert reminders in ({}, {addr["fay"]: 1, addr["gus"]: 1}), reminders
    finally:
        stack.close()
        receiver.stop()
        smtp.stop()
        conn.close()
