"""Settings that can never work stop the start.

`eventbox serve` and `eventbox mailer` exit 1 at once with a message that
names the variable, as config.c does for every number, rather than run on
something else (another port) or fail later, request by request or message
by message.  Each test starts the binary under test and reads its stderr.
"""
import os
import signal
import subprocess
import time

import pytest

from conftest import ROOT, env

BIN = os.environ.get("EVENTBOX_BIN", os.path.join(ROOT, "eventbox"))
if not os.path.isabs(BIN):
    BIN = os.path.join(ROOT, BIN)


def start(command, tmp_path, **settings):
    """Runs `eventbox COMMAND` with the settings, logging to stderr, until it
    exits or says it is up, 5 s at most: (exit status, stderr); None for a
    process still running then, which is stopped."""
    e = dict(os.environ)
    e.update({
        "EVENTBOX_DSN": env("EVENTBOX_MAILER_DSN" if command == "mailer"
                            else "EVENTBOX_DSN"),
        "EVENTBOX_LISTEN": str(tmp_path / "eventbox.sock"),
        "EVENTBOX_WORKERS": "1",
        "EVENTBOX_LOG_FILE": "",
    })
    e.update({k: str(v) for k, v in settings.items()})
    err = tmp_path / "stderr"
    with open(err, "w") as f:
        p = subprocess.Popen([BIN, command], env=e, cwd=ROOT, stdout=f,
                             stderr=f, stdin=subprocess.DEVNULL)
    deadline = time.time() + 5
    while p.poll() is None and time.time() < deadline:
        if "listening on" in err.read_text() or "started" in err.read_text():
            break
        time.sleep(0.05)
    rc = p.poll()
    if rc is None:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    return rc, err.read_text()


def refused(command, tmp_path, variable, **settings):
    rc, err = start(command, tmp_path, **settings)
    assert rc == 1, f"started with {settings}: {err}"
    assert f"fatal: {variable}" in err, err
    return err


@pytest.mark.parametrize("port", ["99999", "65536", "0", "http", "-5", ""])
def test_a_listen_port_outside_1_to_65535_stops_serve(tmp_path, port):
    """glibc cut 99999 to 16 bits and bound 34463, logging 99999."""
    err = refused("serve", tmp_path, "EVENTBOX_LISTEN",
                  EVENTBOX_LISTEN=f"127.0.0.1:{port}")
    assert "1 to 65535" in err, err


@pytest.mark.parametrize("url", [
    "smtp://", "smtp://:25", "smtps://user:pw@:465", "smtp://relay.example.org:99999",
    "smtp://relay.example.org:0", "smtp://relay.example.org:smtp/?starttls",
    "http://relay.example.org"])
def test_an_smtp_url_that_can_never_work_stops_the_mailer(tmp_path, url):
    """smtp:// started, then every confirmation failed with "URL using
    bad/illegal format" until the mailer gave up on it."""
    refused("mailer", tmp_path, "EVENTBOX_SMTP_URL", EVENTBOX_SMTP_URL=url)


@pytest.mark.parametrize("url", [
    "smtp://user:secret@mail.example.org:587",
    "smtp://user:secret@mail.example.org:587/",
    "smtp://user:secret@mail.example.org/events.example.org",
    "smtp://user@mail.example.org:25", "smtp://:secret@mail.example.org:25",
    "smtp://user:secret@192.0.2.25:587", "smtp://user:secret@[2001:db8::25]:587",
    "smtp://user:secret@127.mail.example.org:587"])
def test_a_password_that_would_cross_the_network_unencrypted_stops_the_mailer(
        tmp_path, url):
    """smtp://user:pass@host:587, "?starttls" forgotten, started: libcurl
    then sent AUTH PLAIN, the password in base64, over the plain connection
    to a relay that offers AUTH before STARTTLS (or failed every message at
    one that does not).  Only this machine's relay takes them so."""
    err = refused("mailer", tmp_path, "EVENTBOX_SMTP_URL",
                  EVENTBOX_SMTP_URL=url)
    assert "?starttls" in err and "smtps://" in err, err


@pytest.mark.parametrize("url", [
    "smtp://user:secret@mail.example.org:587/?starttls",
    "smtps://user:secret@mail.example.org:465",
    "smtp://user:secret@127.0.0.1:25", "smtp://user:secret@localhost:25",
    "smtp://user:secret@[::1]:25", "smtp://mail.example.org:25"])
def test_a_password_sent_encrypted_or_to_this_machine_starts_the_mailer(
        tmp_path, url):
    rc, err = start("mailer", tmp_path, EVENTBOX_SMTP_URL=url)
    assert rc is None and "started" in err, err


@pytest.mark.parametrize("sender", [
    "Events events@library.example.org",             # the brackets forgotten
    "Events events@library.example.org>",
    "Events <events @library.example.org>",
    "Events <events@library.example.org> (Library)",
    "Events <@library.example.org>",
    "Events <events@>",
    "events@library.example.org (Learning Services)",
    "Learning Services <events@library.example.org (x)>",
    "Learning Services <events @library.example.org>",
    "Learning Services <events@library.example.org>, <staff@library.example.org>"])
def test_a_sender_that_is_no_address_stops_the_mailer(tmp_path, sender):
    """Each started: the envelope and From: then carried "Events
    events@library.example.org" (or "@library.example.org", or "events@
    library.example.org (Learning Services)") as the address, which a relay
    refuses, and the comment after the brackets was dropped unsaid."""
    refused("mailer", tmp_path, "EVENTBOX_MAIL_FROM",
            EVENTBOX_SMTP_URL="smtp://127.0.0.1:25", EVENTBOX_MAIL_FROM=sender)


@pytest.mark.parametrize("sender", [
    "", "Events <events@library.example.org>", "events@library.example.org",
    "\"Library, Events\" <events@library.example.org> "])
def test_a_sender_with_an_address_starts_the_mailer(tmp_path, sender):
    rc, err = start("mailer", tmp_path, EVENTBOX_SMTP_URL="smtp://127.0.0.1:25",
                    EVENTBOX_MAIL_FROM=sender)
    assert rc is None and "started" in err, err


@pytest.mark.parametrize("var", ["EVENTBOX_WEBHOOK_CA", "EVENTBOX_SMTP_CA"])
@pytest.mark.parametrize("ca", ["/nonexistent/ca.pem", "/"])
def test_a_ca_file_that_cannot_be_read_stops_the_mailer(tmp_path, var, ca):
    """Every webhook delivery, or every message, failed ("Problem with the
    SSL CA cert")."""
    err = refused("mailer", tmp_path, var,
                  EVENTBOX_SMTP_URL="smtps://127.0.0.1:465", **{var: ca})
    assert ca in err, err


@pytest.mark.parametrize("command", ["serve", "mailer"])
def test_a_log_file_that_cannot_be_opened_stops_the_start(tmp_path, command):
    """It was a warning, then the service logged to stderr for good and the
    file the sysadmin set stayed empty."""
    path = str(tmp_path / "no-such-dir" / "eventbox.log")
    err = refused(command, tmp_path, "EVENTBOX_LOG_FILE",
                  EVENTBOX_LOG_FILE=path,
                  EVENTBOX_SMTP_URL="smtp://127.0.0.1:25")
    assert path in err, err


@pytest.mark.parametrize("settings", [
    {"EVENTBOX_REQUEST_TIMEOUT": "2", "EVENTBOX_LOCK_TIMEOUT_MS": "20000"},
    {"EVENTBOX_REQUEST_TIMEOUT": "3", "EVENTBOX_LOCK_TIMEOUT_MS": "3000",
     "EVENTBOX_STATEMENT_TIMEOUT_MS": "2000"},
    {"EVENTBOX_REQUEST_TIMEOUT": "5"},         # the statement timeout: 10 s
])
def test_a_request_timeout_not_above_the_database_timeouts_stops_serve(
        tmp_path, settings):
    """With EVENTBOX_REQUEST_TIMEOUT=2 and a lock timeout of 20 s the patron
    got a 502 after 2 s, and the registration committed once the lock was
    free."""
    err = refused("serve", tmp_path, "EVENTBOX_REQUEST_TIMEOUT", **settings)
    assert "EVENTBOX_LOCK_TIMEOUT_MS" in err, err


def test_a_request_timeout_above_both_database_timeouts_starts(tmp_path):
    rc, err = start("serve", tmp_path, EVENTBOX_REQUEST_TIMEOUT="4",
                    EVENTBOX_LOCK_TIMEOUT_MS="3000",
                    EVENTBOX_STATEMENT_TIMEOUT_MS="3999")
    assert rc is None and "listening on" in err, err


@pytest.mark.parametrize("variable", ["EVENTBOX_MAIL_LOCK_TIMEOUT_MS",
                                      "EVENTBOX_MAIL_STATEMENT_TIMEOUT_MS"])
def test_a_mailer_timeout_a_stop_could_not_wait_for_stops_the_mailer(
        tmp_path, variable):
    """The mailer's own database timeouts: a stop waits for a claim (either
    of them), or for a message of 30 s and its mark (the statement
    timeout), inside the unit's TimeoutStopSec=70, so neither goes past
    30 s.  EVENTBOX_REQUEST_TIMEOUT (30 s) is the service's, and does not
    bound them as it bounds EVENTBOX_STATEMENT_TIMEOUT_MS."""
    err = refused("mailer", tmp_path, variable,
                  EVENTBOX_SMTP_URL="smtp://127.0.0.1:25", **{variable: "30001"})
    assert "30000" in err, err
    rc, err = start("mailer", tmp_path, EVENTBOX_SMTP_URL="smtp://127.0.0.1:25",
                    **{variable: "30000"})
    assert rc is None and "started" in err, err


@pytest.mark.parametrize("abstract", [False, True])
def test_serve_tells_systemd_it_is_ready_once_it_answers(tmp_path, abstract):
    """eventbox.service was Type=simple: systemd called it started at the
    fork, so `systemctl start eventbox` (and a boot's units after it)
    returned before the socket listened, and the `curl` after it in
    DEPLOY.md's step 5 could get nginx's 502.  Now Type=notify: serve sends
    "READY=1" to $NOTIFY_SOCKET (a path or an abstract "@name", as systemd
    gives it) once the socket listens and the workers run."""
    import socket as so
    with open(os.path.join(ROOT, "deploy", "eventbox.service")) as f:
        unit = f.read()
    assert "\nType=notify\n" in unit and "\nNotifyAccess=main\n" in unit
    name = f"@eventbox-test-{os.getpid()}" if abstract else str(tmp_path / "notify")
    rx = so.socket(so.AF_UNIX, so.SOCK_DGRAM)
    rx.bind("\0" + name[1:] if abstract else name)
    rx.settimeout(30)
    listen = tmp_path / "eventbox.sock"
    e = dict(os.environ)
    e.update({"EVENTBOX_DSN": env("EVENTBOX_DSN"), "EVENTBOX_LISTEN": str(listen),
              "EVENTBOX_WORKERS": "1", "EVENTBOX_LOG_FILE": "", "NOTIFY_SOCKET": name})
    with open(tmp_path / "stderr", "w") as err:
        p = subprocess.Popen([BIN, "serve"], env=e, cwd=ROOT, stdout=err,
                             stderr=err, stdin=subprocess.DEVNULL)
    try:
        msg = rx.recv(64)
        assert msg == b"READY=1"
        # ready means answering: the socket takes a connection now
        c = so.socket(so.AF_UNIX, so.SOCK_STREAM)
        c.connect(str(listen))
        c.close()
        assert p.poll() is None
    finally:
        rx.close()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    assert p.returncode == 0, (tmp_path / "stderr").read_text()
