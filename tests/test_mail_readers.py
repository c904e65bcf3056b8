"""The emails as mail software nobody here wrote judges and shows them.

Every kind of email (the confirmation, the waiting list, the promotion,
the request to confirm an address, "already registered", the receipt of
a cancellation, the change notice, the event's cancellation, the
reminder), in English and in Spanish, for an online and an in-person
event, is sent by the real mailer to a real SMTP server (test_mail.py's)
and then:

- scored by SpamAssassin (Debian's spamd, its stock rules, local tests
  only: -L, no network, no Bayes), started once for the module: no rule
  may fire but the three a test cannot avoid (ALLOWED_RULES);
- shown by mutt (Debian's, in batch mode: its pager replaced by a file),
  as plain text and, as mutt's auto_view shows HTML, through w3m -dump:
  what a patron reads there (the greeting, the times, the links whole and
  working, the calendar attachment by its name, no encoded words left, no
  mojibake) is checked.

docs/MAIL.md ("Read by real mail software") says what is checked and why.
"""
import email
import email.policy
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import Api, env, new_event
from test_mail import Mailers, Server, addr, free_port, others_messages_wait  # noqa: F401

ES = {"Accept-Language": "es"}
# The links' prefix, as in production: the test stack's own URL has a
# port of its own, which SpamAssassin scores (WEIRD_PORT) and no
# patron's email has.  The link that is opened is opened on the stack.
BASE = "https://events.library.example.org"

# What SpamAssassin says of every message a test sends, whatever the
# message: it came over no relay (NO_RECEIVED, NO_RELAYS: the relay adds
# its Received line, and signs with DKIM: docs/DEPLOY.md), and it has an
# HTML part (HTML_MESSAGE, 0 points: informational).
ALLOWED_RULES = {"NO_RECEIVED", "NO_RELAYS", "HTML_MESSAGE"}

# Kinds whose email carries event.ics.
WITH_CALENDAR = {"confirmed", "promoted", "reminder", "changed_seat",
                 "cancelled", "event_cancelled_seat"}

NAMES = {"en": ("Zoë Ünal", "Bo Lind", "Cy Park", "Dee Moss"),
         "es": ("José Núñez", "Begoña Ibáñez", "Íñigo Peña", "Ñusta Quispe")}
PLACE = "Sala Núñez, Biblioteca Central"
TITLES = {"en": "Reading Circle: Poetry — an evening",
          "es": "Taller de lectura: poesía — una tarde"}


# --- the mail: every kind, sent by the real mailer ---------------------------

def wait_count(server, who, n, timeout=60):
    server.wait_for([who], count=n, timeout=timeout)
    return server.raw_to(who)[n - 1]


def send_every_kind(api, db, server, lang, fmt):
    """One event of one seat in lang and fmt: Ann takes the seat and
    registers again, Bob and Cy wait, Dee registers for an event that
    confirms by email; Ann cancels (Bob moves up), staff move the event
    to start within a day (the change notice, then Bob's reminder), then
    cancel it.  Returns {kind: (raw message, address, event's slug, its
    start and end as the message words them)}."""
    headers = ES if lang == "es" else {}
    where = {"location": PLACE, "online_url": None} if fmt == "in_person" \
        else {}
    slug = new_event(db, capacity=1, starts_in="9 days", at="14:00",
                     format=fmt, language=lang, title=TITLES[lang], **where)
    held = new_event(db, confirmation_required=True, starts_in="9 days",
                     at="14:00", format=fmt, language=lang, title=TITLES[lang],
                     **where)
    ann, bob, cy, dee = (addr(f"{lang}-{fmt}-{n}") for n in "abcd")
    names = NAMES[lang]
    assert api.register(slug, names[0], ann, headers=headers).status == 201
    assert api.register(slug, names[1], bob, headers=headers).status == 201
    assert api.register(slug, names[2], cy, headers=headers).status == 201
    assert api.register(held, names[3], dee, headers=headers).status == 202
    # Again, once the confirmation is marked sent: a repeat while a mailer
    # sends the registration's email sends no note (MAIL.md).
    wait_count(server, ann, 1)
    deadline = time.time() + 30
    while db.value("SELECT count(*) FROM eventbox.outbox o JOIN"
                   " eventbox.registrations r ON r.id = o.registration_id"
                   " WHERE r.email = %s AND o.status = 'pending'", ann):
        assert time.time() < deadline, "the confirmation was not marked sent"
        time.sleep(0.05)
    assert api.register(slug, names[0], ann, headers=headers).status == 201
    times = event_times(db, slug, lang)

    def sent(who, n, event=slug):
        return wait_count(server, who, n), who, event, times
    got = {"confirmed": sent(ann, 1), "already_registered": sent(ann, 2),
           "waitlisted": sent(bob, 1), "confirm_address": sent(dee, 1, held)}
    wait_count(server, cy, 1)
    # The note's link (it revoked the confirmation's: MAIL.md).
    token = re.search(rb"/cancel/([0-9a-f-]{36})",
                      decoded(got["already_registered"][0]))
    assert api.delete(f"/api/v1/registrations/{token.group(1).decode()}"
                      ).status == 200
    got["cancelled"] = sent(ann, 3)
    got["promoted"] = sent(bob, 2)
    # Within a day, at 8am, 2pm or 8pm where the event is: an hour that
    # ends on its own day keeps "When:" on one line in a reader 80 columns
    # wide, whatever the time the tests run.
    db.all("UPDATE eventbox.events e SET starts_at = c.s,"
           " ends_at = c.s + interval '1 hour'"
           " FROM (SELECT min(x.s) AS s FROM eventbox.events o,"
           "       generate_series(0, 1) d, unnest('{08:00,14:00,20:00}'::time[]) t,"
           "       LATERAL (SELECT (((now() AT TIME ZONE o.timezone)::date + d) + t)"
           "                       AT TIME ZONE o.timezone AS s) x"
           "       WHERE o.slug = %s AND x.s > now() + interval '1 hour') c"
           " WHERE e.slug = %s", slug, slug)
    times = event_times(db, slug, lang)
    got["changed_seat"] = sent(bob, 3)
    got["changed_waiting"] = sent(cy, 2)
    db.value("SELECT eventbox.queue_reminders(24)")
    got["reminder"] = sent(bob, 4)
    db.all("SELECT eventbox.set_status(%s, 'cancelled')", slug)
    got["event_cancelled_seat"] = sent(bob, 5)
    got["event_cancelled_waiting"] = sent(cy, 3)
    return got


def decoded(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg.get_body(("plain",)).get_content().encode()


@pytest.fixture(scope="module")
def mails(db):
    """{(lang, format, kind): (raw, address, slug, (start, end))}: every
    kind, both languages, both formats, from one mailer."""
    api = Api(env("EVENTBOX_URL"))
    server = Server().start()
    mailers = Mailers()
    mailers.start(server.url, EVENTBOX_REMINDER_HOURS=1,
                  EVENTBOX_BASE_URL=BASE)
    try:
        out = {}
        for lang in ("en", "es"):
            for fmt in ("online", "in_person"):
                got = send_every_kind(api, db, server, lang, fmt)
                for kind, sent in got.items():
                    out[(lang, fmt, kind)] = sent
        yield out
    finally:
        mailers.stop_all()
        server.stop()


CASES = [(lang, fmt, kind) for lang in ("en", "es")
         for fmt in ("online", "in_person")
         for kind in ("confirmed", "already_registered", "waitlisted",
                      "confirm_address", "cancelled", "promoted",
                      "changed_seat", "changed_waiting", "reminder",
                      "event_cancelled_seat", "event_cancelled_waiting")]
IDS = ["-".join(c) for c in CASES]


# --- SpamAssassin -------------------------------------------------------------

@pytest.fixture(scope="module")
def spamd():
    """Debian's spamd on a loopback port: the stock rules of the package
    (/usr/share/spamassassin and /etc/spamassassin's plugins), local tests
    only (-L), no user preferences (-x), no Bayes (a database trained on
    this machine's mail would score differently on another).  Its files
    are readable by all: run as root, spamd reads them as nobody."""
    if shutil.which("spamd") is None or shutil.which("spamc") is None:
        pytest.fail("spamd and spamc are not installed (make deps-test)")
    site = tempfile.mkdtemp(prefix="eventbox-spamd-")
    os.chmod(site, 0o755)
    for name in os.listdir("/etc/spamassassin"):
        if name.endswith(".pre") or (name.endswith(".cf") and
                                     name != "local.cf"):
            os.symlink(os.path.join("/etc/spamassassin", name),
                       os.path.join(site, name))
    with open(os.path.join(site, "local.cf"), "w") as f:
        f.write("use_bayes 0\nbayes_auto_learn 0\n")
    os.chmod(os.path.join(site, "local.cf"), 0o644)
    port = free_port()
    log = os.path.join(site, "spamd.log")
    with open(log, "w") as out:
        p = subprocess.Popen(
            ["spamd", "-L", "-x", f"--siteconfigpath={site}", "-H", site,
             "-i", "127.0.0.1", "-A", "127.0.0.1", "-p", str(port), "-m", "2",
             "-s", "stderr"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            start_new_session=True)
    try:
        deadline = time.time() + 60
        while subprocess.run(["spamc", "-d", "127.0.0.1", "-p", str(port),
                              "-K"], capture_output=True).returncode != 0:
            with open(log) as f:
                assert p.poll() is None and time.time() < deadline, \
                    f.read()[-2000:]
            time.sleep(0.2)
        yield port
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=30)
        shutil.rmtree(site)


def spam_report(port, raw):
    """(score, {rule: points}, the report) as spamd says them."""
    out = subprocess.run(["spamc", "-x", "-d", "127.0.0.1", "-p", str(port),
                          "-R"], input=raw, capture_output=True, timeout=60)
    assert out.returncode in (0, 1), out.stderr
    text = out.stdout.decode("utf-8", "replace")
    score = float(text.split("/", 1)[0])
    rules = {}
    table = text.split("---- ----", 1)[1].split("\n", 1)[1]
    for line in table.splitlines():
        m = re.match(r"\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s", line)
        if m:
            rules[m.group(2)] = float(m.group(1))
    return score, rules, text


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_spamassassin_finds_nothing_wrong_with_any_email(mails, spamd, case):
    raw = mails[case][0]
    score, rules, report = spam_report(spamd, raw)
    assert set(rules) <= ALLOWED_RULES and score <= 0, report


# --- mutt ---------------------------------------------------------------------

MUTTRC = """\
set charset=utf-8
set folder={dir}
set spoolfile={dir}/mbox
set record=""
set postponed={dir}/postponed
set mbox_type=mbox
set header_cache=""
set read_only=yes
set wait_key=no
set prompt_after=no
set pager="cat > {dir}/shown <"
set mailcap_path={dir}/mailcap
ignore *
unignore from: to: subject: date:
"""
# The HTML part as mutt shows it with the usual auto_view setup: w3m's
# dump, its links numbered and listed at the end.
HTML_VIEW = """\
alternative_order text/html text/plain
auto_view text/html
"""
MAILCAP = ("text/html; w3m -dump -T text/html -I %{charset} -O utf-8"
           " -o display_link_number=1 %s; copiousoutput\n")


def mutt_shows(raw, tmp_path, html=False):
    """What mutt's pager would show of raw (its pager replaced by a file):
    the message opened from a mailbox, in a terminal of 80 columns."""
    d = tmp_path / ("html" if html else "plain")
    d.mkdir()
    (d / "muttrc").write_text(MUTTRC.format(dir=d) + (HTML_VIEW if html else ""))
    (d / "mailcap").write_text(MAILCAP)
    text = raw.replace(b"\r\n", b"\n")
    with open(d / "mbox", "wb") as f:
        f.write(b"From events@library.example.org Thu Dec  3 12:00:00 2026\n")
        f.write(text + (b"" if text.endswith(b"\n") else b"\n") + b"\n")
    # mutt wants a terminal, even to hand its pager a file: a pseudo
    # terminal, whose output is read (and dropped) until mutt exits.
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm", LANG="C.UTF-8", COLUMNS="80",
               LINES="24", HOME=str(d))
    p = subprocess.Popen(["mutt", "-n", "-F", str(d / "muttrc"), "-R", "-e",
                          "push '<display-message><exit>'"],
                         stdin=slave, stdout=slave, stderr=slave, env=env,
                         start_new_session=True)
    os.close(slave)
    deadline = time.time() + 30
    try:
        while p.poll() is None:
            assert time.time() < deadline, "mutt did not exit"
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:         # mutt closed its terminal
                    p.wait(timeout=max(deadline - time.time(), 0.1))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    assert p.returncode == 0, p.returncode
    return (d / "shown").read_text("utf-8")


GREETING = {"en": "Hello {},", "es": "Hola, {}:"}
WHEN = {"en": "When: ", "es": "Cuándo: "}
SUBJECT = {
    ("en", "confirmed"): "Registration confirmed: ",
    ("en", "already_registered"): "You are already registered: ",
    ("en", "waitlisted"): "Waiting list: ",
    ("en", "confirm_address"): "Please confirm your registration: ",
    ("en", "cancelled"): "Registration cancelled: ",
    ("en", "promoted"): "A seat opened up, you are registered: ",
    ("en", "changed_seat"): "Event changed: ",
    ("en", "changed_waiting"): "Event changed: ",
    ("en", "reminder"): "Reminder: ",
    ("en", "event_cancelled_seat"): "Event cancelled: ",
    ("en", "event_cancelled_waiting"): "Event cancelled: ",
}


def event_times(db, slug, lang):
    """The event's start and end as the emails word them ("2:00pm",
    "14:00"), in its zone."""
    fmt = "FMHH12:MIam" if lang == "en" else "HH24:MI"
    return db.one("SELECT lower(to_char(starts_at AT TIME ZONE timezone, %s)),"
                  " lower(to_char(ends_at AT TIME ZONE timezone, %s))"
                  " FROM eventbox.events WHERE slug = %s", fmt, fmt, slug)


def links(text):
    return re.findall(r"https?://[^\s<>\"\]\[]+", text)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_mutt_shows_each_email_whole(mails, db, tmp_path, case):
    lang, fmt, kind = case
    raw, to, slug, (start, end) = mails[case]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    shown = mutt_shows(raw, tmp_path)
    as_html = mutt_shows(raw, tmp_path, html=True)
    who = msg["To"].addresses[0].display_name
    for view in (shown, as_html):
        # Nothing left encoded, nothing decoded in the wrong charset (in
        # what the message says; the .ics shown after it says RSVP=FALSE).
        said = view.split("[-- Attachment #2")[0]
        assert "=?" not in view and "?=" not in view, view
        assert not re.search(r"=[0-9A-F]{2}|=$", said, re.M), said
        assert not re.search("[ÃÂ]|â€|\ufffd", view), view
        assert "From: Learning Services <events@library.example.org>" in view
        assert f"To: {who} <{to}>" in view, view
        subject = re.search(r"^Subject: (.*(?:\n[ \t].*)*)", view, re.M).group(1)
        subject = re.sub(r"\s*\n[ \t]+", " ", subject)
        assert subject == str(msg["Subject"]) and subject.endswith(TITLES[lang])
        if lang == "en":
            assert subject.startswith(SUBJECT[(lang, kind)]), subject
        assert GREETING[lang].format(who) in view, view
        when = re.search("^" + WHEN[lang] + "(.*)$", view, re.M)
        assert when and start in when.group(1) and end in when.group(1), view
        assert (PLACE in view) == (fmt == "in_person"), view
    # The calendar file, listed by its name.
    listed = re.findall(r"^\[-- Attachment #\d+: (.*) --\]$", shown, re.M)
    if kind in WITH_CALENDAR:
        assert listed == ["event.ics"], shown
        assert "[-- Type: text/calendar," in shown, shown
    else:
        assert listed == [], shown
    # Every link whole, the same in both views, on a line that starts with
    # it: a reader that wraps at its window's width (mutt's pager, w3m's
    # 80 columns) never cuts a link after a label.  In the HTML, a link
    # named by its page ("Cancel my registration") shows its URL in w3m's
    # list of links only.
    told = shown.split("[-- Attachment #2")[0]
    plain_links = links(told)
    assert plain_links, shown
    for url in plain_links:
        assert re.search("^" + re.escape(url) + "$", told, re.M), told
    page, listed = as_html.split("\nReferences:\n")
    numbered = re.findall(r"^\[\d+\] (\S+)$", listed, re.M)
    assert set(plain_links) == set(numbered), (plain_links, numbered)
    for url in links(page):
        assert url in plain_links and re.search(
            r"^(\[\d+\])?" + re.escape(url) + "$", page, re.M), page
    # The links as Python's email reads the text part: the same, whole.
    assert plain_links == links(msg.get_body(("plain",)).get_content())
    tokens = [u for u in plain_links if re.search(r"/(cancel|confirm)/", u)]
    if kind in ("cancelled", "event_cancelled_seat", "event_cancelled_waiting"):
        assert tokens == []
    else:
        # No ?lang=es: the page speaks the registrant's language, and
        # the link fits in 80 columns with a real base URL.
        assert len(tokens) == 1, plain_links
        assert re.fullmatch(re.escape(BASE) + (
            "/confirm/" if kind == "confirm_address" else "/cancel/")
            + r"[0-9a-f-]{36}", tokens[0]), tokens
    if kind == "confirm_address":       # no later email revoked it
        page = Api(env("EVENTBOX_URL")).get(tokens[0][len(BASE):],
                                            headers={"Accept-Language": "en"})
        assert page.status == 200 and f'<html lang="{lang}"' in page.text and (
            "Confirm my registration" if lang == "en"
            else "Confirmar mi inscripción") in page.text, page
    online = db.value("SELECT online_url FROM eventbox.events WHERE slug = %s",
                      slug)
    has_online = kind in ("confirmed", "promoted", "changed_seat", "reminder",
                          "already_registered")
    assert (online in plain_links) == (has_online and fmt == "online"), \
        plain_links

