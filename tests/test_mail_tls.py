"""Mail to a relay over TLS, as a consortium's relay takes it: STARTTLS on
the submission port or TLS from the first byte (smtps://), then AUTH, with
a certificate from the consortium's own CA (EVENTBOX_SMTP_CA).

The relay is aiosmtpd in this process, requiring TLS before AUTH and AUTH
before mail; its certificate, for 127.0.0.1, is signed by a CA of the
test's own (test_webhooks.py's `tls`).  What it received says over what
the message came and who logged in.
"""
import os
import re
import ssl
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import env
from test_mail import (Server, addr, mailers, others_messages_wait,  # noqa: F401 (fixtures)
                       relay_failures, relay_state, wait_rows)
from test_webhooks import tls  # noqa: F401

USER, PASSWORD = "eventbox", "s3cret: with a space"

# The smtps:// relay takes AUTH over its TLS from the first byte, which
# aiosmtpd does not count as TLS (TlsRelay.start()).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS")


class TlsRelay(Server):
    """A relay that takes mail only over TLS and only once logged in; each
    message kept with (TLS version, login)."""

    def __init__(self, tls, implicit=False):
        super().__init__()
        self.implicit = implicit
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(tls[1], tls[2])
        self.sessions = {}          # rcpt -> (TLS cipher, login)
        self.logins = 0             # AUTH attempts, right or wrong

    def authenticate(self, server, session, envelope, mechanism, data):
        with self.lock:
            self.logins += 1
        ok = (isinstance(data, LoginPassword) and data.login == USER.encode()
              and data.password == PASSWORD.encode())
        return AuthResult(success=ok, auth_data=data.login if ok else None)

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        cipher = server.transport.get_extra_info("cipher")
        with self.lock:
            self.sessions[envelope.rcpt_tos[0].lower()] = (
                cipher, session.auth_data if session.authenticated else None)
        return reply

    def start(self):
        params = dict(auth_required=True, authenticator=self.authenticate)
        if self.implicit:
            # aiosmtpd counts only STARTTLS as TLS for its AUTH rule; this
            # connection is TLS from the first byte (the cipher, below).
            params["auth_require_tls"] = False
            self.controller = Controller(self, hostname="127.0.0.1",
                                         port=self.port,
                                         ssl_context=self.context, **params)
        else:
            self.controller = Controller(self, hostname="127.0.0.1",
                                         port=self.port, tls_context=self.context,
                                         require_starttls=True, **params)
        self.controller.start()
        return self

    @property
    def url(self):
        secret = "s3cret%3A%20with%20a%20space"
        if self.implicit:
            return f"smtps://{USER}:{secret}@127.0.0.1:{self.port}"
        return f"smtp://{USER}:{secret}@127.0.0.1:{self.port}/?starttls"


@pytest.fixture
def relays():
    started = []

    def make(tls, implicit=False):
        r = TlsRelay(tls, implicit).start()
        started.append(r)
        return r
    yield make
    for r in started:
        r.stop()


def log_of(name):
    return os.path.join(env("EVENTBOX_LOG_DIR"), name)


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_mail_goes_over_tls_logged_in_to_a_relay_with_a_private_ca(
        api, make_event, mailers, relays, tls, relay_state, implicit):  # noqa: F811
    slug = make_event()
    to = addr("tls")
    assert api.register(slug, "Ann Tls", to).status == 201
    relay = relays(tls, implicit)
    mailers.start(relay.url, EVENTBOX_SMTP_CA=tls[0])
    relay.wait_for([to])
    (msg,) = relay.to(to)
    assert msg["Subject"] == f"Registration confirmed: Test event {slug}"
    cipher, login = relay.sessions[to.lower()]
    assert cipher and cipher[1].startswith("TLSv1."), cipher
    assert login == USER.encode()


def test_a_relay_whose_certificate_is_not_trusted_gets_nothing_until_its_ca_is(
        api, db, make_event, mailers, relays, tls, relay_state):  # noqa: F811
    """A sysadmin who forgot EVENTBOX_SMTP_CA: no password and no message
    go to a relay the mailer cannot authenticate; the mail waits, with a
    line in the log that says why, and uses up none of its tries; with the
    CA set, it goes out."""
    slug = make_event()
    to = addr("ca")
    assert api.register(slug, "Ben Ca", to).status == 201
    relay = relays(tls)
    log = log_of("mailer-untrusted.log")
    p = mailers.start(relay.url, EVENTBOX_LOG_FILE=log)
    deadline = time.time() + 20
    while relay_failures(db) < 2:
        assert time.time() < deadline, "the relay was never found down"
        time.sleep(0.1)
    mailers.stop(p)
    assert relay.to(to) == [] and relay.logins == 0
    with open(log, encoding="utf-8") as f:
        text = f.read()
    assert "the SMTP relay takes no mail" in text, text
    assert re.search(r"certificate|CA cert", text, re.I), text
    rows = wait_rows(db, slug, lambda rs: len(rs) == 1)
    assert rows[0][1] == "pending" and rows[0][5] == 0, rows

    mailers.start(relay.url, EVENTBOX_SMTP_CA=tls[0])
    db.all("SELECT eventbox.mail_relay_retry()")
    relay.wait_for([to])
    assert wait_rows(db, slug, lambda rs: rs[0][1] == "sent")
