"""LibCal clients written the way libraries write them, run unchanged
against eventbox (only the host differs): a signage script (Python,
requests, form body), a content-management importer (PHP 8 with curl,
multipart body, /api/1.1/ prefix, paging, count() on future_dates) and a
statistics tool (Python, JSON body, reads registrations with its token).
"""
import os
import shutil
import subprocess
import uuid

import pytest

from conftest import ROOT
from staffkit import admin, email, event_id, staff_key  # noqa: F401

CLIENTS = os.path.join(ROOT, "tests", "libcal_clients")


def run(*args):
    out = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def client(admin, registrations=False):
    r = admin.post("/api-clients", json_body={"name": "c-" + uuid.uuid4().hex[:10],
                                              "registrations": registrations})
    assert r.status == 201, r
    return r.json["client_id"], r.json["client_secret"]


@pytest.fixture
def day_of_events(db, make_event):
    """Three events on one far day (one with a poster), one the day after."""
    cat = "Cat " + uuid.uuid4().hex[:6]
    slugs = [make_event(starts_in=f"{600 + d} days", categories=[cat], location="Room 2")
             for d in (0, 0, 0, 1)]
    db.all("UPDATE eventbox.events SET image_path = '/static/eventbox.css',"
           " image_alt = 'Poster' WHERE slug = %s", slugs[0])
    day = db.value("SELECT (starts_at AT TIME ZONE timezone)::date::text"
                   " FROM eventbox.events WHERE slug = %s", slugs[0])
    return day, slugs, cat


def test_the_signage_script_shows_the_days_events(api, admin, db, day_of_events):
    day, slugs, _ = day_of_events
    cid, secret = client(admin)
    html = run("python3", os.path.join(CLIENTS, "signage.py"), api.base, cid, secret,
               "4321", day, "0")
    for s in slugs[:3]:
        assert f"Test event {s}" in html
    assert f"Test event {slugs[3]}" not in html
    assert "None" not in html and 'src=""' in html
    assert f'src="{api.base}/static/eventbox.css"' in html
    assert "Main Library (Consortium Events; seats left: 100)" in html
    assert "meet.example.org" not in html


@pytest.mark.skipif(shutil.which("php") is None, reason="php-cli is not installed")
def test_the_php_importer_pages_through_every_event(api, admin, db, day_of_events):
    day, slugs, cat = day_of_events
    cid, secret = client(admin)
    out = run("php", os.path.join(CLIENTS, "importer.php"), api.base, cid, secret,
              "4321", day, "2")
    lines = out.splitlines()
    want = [f"{event_id(db, s)}|Test event {s}|Main Library|{cat}|0" for s in slugs]
    assert [line for line in lines if line.split("|")[0] in
            {w.split("|")[0] for w in want}] == want
    assert len(lines) == len(set(lines))   # no page read twice


def test_the_statistics_tool_reads_registrations_with_its_token(api, admin, db,
                                                                 make_event):
    slug = make_event(starts_in="650 days", capacity=1)
    a, b = email(), email()
    api.register(slug, "First Person", a)
    api.register(slug, "Second Person", b)
    reg = db.value("SELECT id FROM eventbox.registrations WHERE email = %s", a)
    admin.post(f"/registrations/{reg}/check-in")
    day = db.value("SELECT (starts_at AT TIME ZONE timezone)::date::text"
                   " FROM eventbox.events WHERE slug = %s", slug)
    cid, secret = client(admin, registrations=True)
    out = run("python3", os.path.join(CLIENTS, "stats.py"), api.base, cid, secret, day, "0")
    assert f"{event_id(db, slug)} 1 1 1 {a},{b}" in out.splitlines()

    cid, secret = client(admin, registrations=False)
    out = subprocess.run(["python3", os.path.join(CLIENTS, "stats.py"), api.base, cid,
                          secret, day, "0"], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "403" in out.stderr
