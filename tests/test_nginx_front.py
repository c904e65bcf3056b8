"""nginx in front of the workers: what it stops before a worker sees it.

Slow headers and slow or stalled bodies (slowloris) are nginx's to time out
(client_header_timeout and client_body_timeout 10s) and never tie up a
worker, because nginx reads the whole request before it passes it on; a
burst of POSTs from one address gets 429 (limit_req, with its rate from
EVENTBOX_POST_RATE); a body above the limit gets 413; nginx never tells its
version.  The production site (`make install`'s rendering) answers HTTPS
for its own name only.
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid

import pytest

from conftest import ROOT, Api, env, record
from test_embed import REFUSED, error_fragment
from test_faults import workers

SLOW = 50       # slow connections of each kind


def raw(api, data, timeout=15):
    """Sends raw bytes to nginx; returns everything it answers."""
    s = socket.create_connection((api.host, api.port), timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


def test_nginx_never_tells_its_version(api):
    seen = []
    for r in (api.get("/healthz"), api.get("/no/such/page"),
              api.get("/api/v1/no-such"),
              api.post("/api/v1/events/x/registrations", body=b"x" * 20000,
                       headers={"Content-Type": "application/json"})):
        assert r.header("Server") == "nginx", r.headers
        assert b"nginx/" not in r.body, r.body[:300]
        seen.append(r.status)
    # Errors nginx answers while it reads the request, before any location:
    # a broken request line, an unknown protocol version.
    for line, status in ((b"G@T / HTTP/1.1", b"400"),
                         (b"GET / HTTP/9.9", b"505")):
        out = raw(api, line + b"\r\nHost: x\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 " + status), out[:100]
        assert b"nginx/" not in out and b"Server: nginx\r\n" in out
        seen.append(int(status))
    record("nginx", "Server header and error pages (healthz, unknown page, "
           "unknown API path, body over the limit, a broken request line, "
           "HTTP/9.9)", f"{seen}, always `Server: nginx` without a version, "
           "no version in any body")


# What nginx refuses while it reads a request, before any location, and
# the page or JSON it answers with: ours, JSON under /api/ and /1.1/.
LONG = b"a" * 20000          # above large_client_header_buffers (8 KiB)
READING = [
    ("uri-too-long-api", b"GET /api/v1/events/" + LONG + b" HTTP/1.1\r\nHost: x\r\n",
     414, "json", "uri_too_long"),
    ("uri-too-long-page", b"GET /events/" + LONG + b" HTTP/1.1\r\nHost: x\r\n",
     414, "html", "Address too long"),
    ("header-too-large-api", b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Big: " + LONG + b"\r\n",
     400, "json", "header_too_large"),
    ("cookie-too-large-page", b"GET /events HTTP/1.1\r\nHost: x\r\nCookie: a=" + LONG + b"\r\n",
     400, "html", "Request headers too large"),
    ("transfer-encoding-api", b"POST /api/v1/events/x/registrations HTTP/1.1\r\nHost: x\r\n"
     b"Transfer-Encoding: gzip\r\n", 501, "json", "not_implemented"),
    ("http-9-api", b"GET /api/v1/events HTTP/9.9\r\nHost: x\r\n",
     505, "json", "http_version_not_supported"),
    ("http-9-page", b"GET /events HTTP/9.9\r\nHost: x\r\n",
     505, "html", "HTTP version not supported"),
    ("broken-line-libcal", b"GET /1.1/events/%00 HTTP/1.1\r\nHost: x\r\n",
     400, "json", "bad_request"),
    # A method token nginx cannot parse stops it before the path: the path
    # is still the request line's.
    ("bad-method-api", b"GE/T /api/v1/events HTTP/1.1\r\nHost: x\r\n",
     400, "json", "bad_request"),
    ("lowercase-method-libcal", b"get /1.1/events HTTP/1.1\r\nHost: x\r\n",
     400, "json", "bad_request"),
    ("bad-method-healthz", b"G@T /healthz HTTP/1.1\r\nHost: x\r\n",
     400, "json", "bad_request"),
    ("bad-method-page", b"GE/T /events HTTP/1.1\r\nHost: x\r\n",
     400, "html", "Bad request"),
]


@pytest.mark.parametrize("data,status,kind,says", [r[1:] for r in READING],
                         ids=[r[0] for r in READING])
def test_what_nginx_refuses_while_reading_gets_our_answer(api, data, status, kind, says):
    out = raw(api, data + b"Connection: close\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), head[:200]
    ctype = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-type:")]
    assert b"nginx" not in body, body[:300]
    if kind == "json":
        assert ctype == [b"Content-Type: application/json"], head
        assert json.loads(body)["error"]["code"] == says, body
    else:
        assert ctype == [b"Content-Type: text/html; charset=utf-8"], head
        assert b"<h1>" + says.encode() + b"</h1>" in body, body[:300]
        assert b'href="/events"' in body


@pytest.mark.parametrize("prefix,kind", [
    ("/api/v1/events/", "json"), ("/api/v1/registrations/", "json"),
    ("/api/v1/admin/events/", "json"), ("/api/v1/no-such/", "json"),
    ("/1.1/events/", "json"), ("/api/1.1/event/", "json"),
    ("/events/", "html"), ("/cancel/", "html"), ("/registration/", "html")])
def test_a_path_over_1024_bytes_is_the_services_414(api, prefix, kind):
    """nginx's 414 begins at 8 KiB (large_client_header_buffers); a path
    between 1 KiB and that reached the workers, which hold 1024 bytes of a
    path, and came back as the 404 of an address that merely names
    nothing."""
    def path(size):
        return prefix + "a" * (size - len(prefix))
    assert api.get(path(1024)).status not in (414, 500), prefix
    for lang, says in ((None, None), ("es", "es")):
        r = api.get(path(1025) + (f"?lang={lang}" if lang else ""))
        assert r.status == 414, r
        if kind == "json":
            assert r.header("Content-Type") == "application/json", r
            err = r.json["error"]
            assert err["code"] == "uri_too_long", r
            assert err["message"] == ("la ruta de la dirección es demasiado larga: 1024 bytes"
                                      " como máximo" if says else
                                      "the path of the address is too long: at most 1024 bytes"), r
        else:
            assert r.header("Content-Type") == "text/html; charset=utf-8", r
            h1 = "Dirección demasiado larga" if says else "Address too long"
            assert f"<h1>{h1}</h1>" in r.text and 'href="/events' in r.text, r.text[:2000]
    r = api.request("POST", path(3000), body=b"{}", headers={"Content-Type": "application/json"})
    assert r.status == 414, r


def test_nginx_own_pages_say_their_charset_and_json_stays_json(api):
    """nginx's own HTML errors came as "text/html", no charset (only their
    <meta> said it: the embed's fragments, which have none, would be read
    as the browser guesses); its JSON errors stay plain application/json,
    as the service's are (docs/API.md)."""
    r = api.get("/no/such/page")
    assert r.status == 404 and r.header("Content-Type") == "text/html; charset=utf-8", r
    assert "<h1>Not found</h1>" in r.text and "<main" in r.text, r.text
    r = api.post("/api/v1/events/x/registrations", body=b"x" * 20000,
                 headers={"Content-Type": "application/json"})
    assert r.status == 413 and r.header("Content-Type") == "application/json", r
    assert r.json["error"]["code"] == "body_too_large", r
    r = api.get("/api/v1/no-such")
    assert r.status == 404 and r.header("Content-Type") == "application/json", r


def test_nginx_own_errors_under_embed_are_fragments(api):
    """A website that included /embed/event (a typo), or a list nginx
    refused, got nginx's whole 404 or 414 page inside its own."""
    r = api.get("/embed/event?lang=de")
    text = error_fragment(r, 404, "de")
    assert REFUSED["de"] in text, text
    text = error_fragment(api.get("/embed/events/more"), 404, "en")
    assert REFUSED["en"] in text, text
    out = raw(api, b"GET /embed/events?lang=es&x=" + LONG + b" HTTP/1.1\r\n"
              b"Host: x\r\nConnection: close\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 "), head[:200]
    assert b"Content-Type: text/html; charset=utf-8\r\n" in head, head
    assert body.decode().startswith('<section class="eventbox-list eventbox-error" '
                                    'lang="es"'), body[:300]
    assert REFUSED["es"] in body.decode(), body


@pytest.mark.parametrize("size", [16 * 1024 + 1, 1024 * 1024])
def test_a_body_above_the_limit_is_413_from_nginx(api, db, make_event, size):
    slug = make_event(capacity=5)
    email = f"big-{uuid.uuid4().hex[:8]}@example.org"
    pad = "x" * size
    body = ('{"name":"Big","email":"%s","pad":"%s"}' % (email, pad)).encode()
    r = api.post(f"/api/v1/events/{slug}/registrations", body=body,
                 headers={"Content-Type": "application/json"})
    assert r.status == 413, r
    assert r.json["error"]["code"] == "body_too_large", r     # the service's code
    assert db.value("SELECT count(*) FROM eventbox.roster WHERE email = %s",
                    email) == 0
    record("nginx", f"a {len(body)}-byte registration body (limit 16 KiB)",
           "413 JSON error from nginx, no row")


class Slow(threading.Thread):
    """One slowloris connection: 'header' trickles a header line a second
    forever; 'body' sends the headers and a tenth of the body, then nothing.
    Records when nginx closed it and whether it answered 408."""

    def __init__(self, api, kind, path):
        super().__init__(daemon=True)
        self.api, self.kind, self.path = api, kind, path
        self.closed_after, self.answer, self.t0 = None, b"", None

    def run(self):
        s = socket.create_connection((self.api.host, self.api.port), 30)
        s.settimeout(1.0)
        self.t0 = time.time()
        try:
            if self.kind == "header":
                s.sendall(f"GET {self.path} HTTP/1.1\r\nHost: x\r\n".encode())
            else:
                s.sendall((f"POST {self.path} HTTP/1.1\r\nHost: x\r\n"
                           "Content-Type: application/json\r\n"
                           "Content-Length: 1000\r\n\r\n").encode() + b"{" * 100)
            while time.time() - self.t0 < 30:
                try:
                    data = s.recv(4096)
                    if not data:
                        break
                    self.answer += data
                except socket.timeout:
                    if self.kind == "header":
                        s.sendall(b"X-Slow: 1\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.closed_after = time.time() - self.t0
            s.close()


def test_slow_headers_and_stalled_bodies_time_out_at_nginx_without_tying_up_workers(
        api, make_event):
    slug = make_event(capacity=1000)
    master, before = workers()
    slow = [Slow(api, "header", "/healthz") for _ in range(SLOW)] + \
        [Slow(api, "body", f"/api/v1/events/{slug}/registrations")
         for _ in range(SLOW)]
    for t in slow:
        t.start()
    time.sleep(2)
    # 2 x 50 connections are held open, far more than the workers: normal
    # requests are answered at once all the same.
    latencies = []
    for i in range(10):
        t0 = time.time()
        assert api.get("/healthz", timeout=10).status == 200
        r = api.register(slug, f"Quick {i}",
                         f"quick{i}-{uuid.uuid4().hex[:6]}@example.org",
                         timeout=10)
        assert r.status == 201, r
        latencies.append(time.time() - t0)
    assert max(latencies) < 2.0, latencies
    for t in slow:
        t.join(40)
    closed = sorted(t.closed_after for t in slow)
    # client_header_timeout / client_body_timeout are 10 s.
    assert all(9 <= c < 20 for c in closed), closed
    for t in slow:
        assert t.answer == b"" or t.answer.startswith(b"HTTP/1.1 408"), \
            t.answer[:200]
    assert workers() == (master, before)      # no worker was ever stuck
    record("nginx", f"{SLOW} slow-header connections (a header line a second) "
           f"and {SLOW} stalled bodies (100 of 1000 bytes), held open together",
           f"all closed by nginx after {closed[0]:.1f}-{closed[-1]:.1f} s; "
           f"meanwhile 10 GET /healthz + POST pairs took at most "
           f"{max(latencies):.2f} s; no worker replaced")


def render_nginx(dest, port, rate, burst, conn_limit=1000, fastcgi_pass=None):
    """The repository's templates, rendered as deploy/devstack.sh does, for
    a second nginx in front of the same workers with a low POST rate (or,
    with fastcgi_pass, in front of something else)."""
    os.makedirs(os.path.join(dest, "tmp"), exist_ok=True)
    os.makedirs(os.path.join(dest, "server.d"), exist_ok=True)
    subst = {
        "@POST_RATE@": rate, "@POST_BURST@": str(burst),
        "@CONN_LIMIT@": str(conn_limit),
        "@LISTEN@": f"127.0.0.1:{port}", "@SERVER_NAME@": "localhost",
        "@FASTCGI_PASS@": fastcgi_pass or "unix:" + env("EVENTBOX_LISTEN"),
        "@STATIC_ROOT@": os.path.join(ROOT, "static"),
        "@ERRORS_ROOT@": os.path.join(ROOT, "nginx", "errors"),
        "@ACCESS_LOG@": os.path.join(dest, "access.log"),
        "@ERROR_LOG@": os.path.join(dest, "error.log"),
        "@SERVER_INCLUDE@": os.path.join(dest, "server.d", "*.conf"),
        "@USER_DIRECTIVE@": "user root root;" if os.geteuid() == 0 else "",
        "@WORKER_CONNECTIONS@": "256", "@WORKER_RLIMIT@": "512",
        "@NGINX_DIR@": dest, "@RUN_DIR@": dest, "@LOG_DIR@": dest,
        "@CORS_MAP@": os.path.join(dest, "cors.map"),
    }
    with open(subst["@CORS_MAP@"], "w") as f:
        subprocess.run([os.path.join(ROOT, "deploy", "eventbox-cors-map")],
                       stdout=f, check=True)
    for src, out in (("eventbox-http.conf.in", "eventbox-http.conf"),
                     ("eventbox.conf.in", "eventbox.conf"),
                     ("dev-nginx.conf.in", "nginx.conf")):
        with open(os.path.join(ROOT, "nginx", src)) as f:
            text = f.read()
        for k, v in subst.items():
            text = text.replace(k, v)
        with open(os.path.join(dest, out), "w") as f:
            f.write(text)
    return os.path.join(dest, "nginx.conf")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_nginx(tmp_path, conn_limit=1000, server_conf="", fastcgi_pass=None):
    dest = str(tmp_path / "nginx")
    port = free_port()
    conf = render_nginx(dest, port, "5r/s", 5, conn_limit, fastcgi_pass)
    with open(os.path.join(dest, "server.d", "test.conf"), "w") as f:
        f.write(server_conf)
    proc = run_nginx(dest, conf, port)
    return proc, dest, Api(f"http://127.0.0.1:{port}"), port


def run_nginx(dest, conf, port):
    """nginx with prefix dest and configuration conf, once it accepts
    connections on port."""
    proc = subprocess.Popen(["nginx", "-p", dest + "/", "-c", conf, "-e",
                             os.path.join(dest, "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return proc
        except OSError:
            assert proc.poll() is None, proc.stderr.read()
            assert time.time() < deadline, f"nginx ({conf}) did not start"
            time.sleep(0.1)


def stop_nginx(proc, dest):
    proc.send_signal(signal.SIGQUIT)
    proc.wait(10)
    shutil.rmtree(dest, ignore_errors=True)


@pytest.fixture
def low_rate_nginx(tmp_path):
    proc, dest, api, _ = start_nginx(tmp_path)
    yield api
    stop_nginx(proc, dest)


# The client address as a proxy in front would pass it: lets one test speak
# from many IPv4 and IPv6 addresses over loopback.
REALIP = "set_real_ip_from 127.0.0.1;\nreal_ip_header X-Forwarded-For;\n"


@pytest.fixture
def proxied_nginx(tmp_path):
    proc, dest, api, port = start_nginx(tmp_path, server_conf=REALIP)
    yield api, port
    stop_nginx(proc, dest)


@pytest.fixture
def two_in_flight_nginx(tmp_path):
    proc, dest, _, port = start_nginx(tmp_path, conn_limit=2, server_conf=REALIP)
    yield port
    stop_nginx(proc, dest)


@pytest.fixture
def workerless_nginx(tmp_path):
    """nginx in front of a socket nobody listens on: the workers are down."""
    proc, dest, api, _ = start_nginx(
        tmp_path, fastcgi_pass="unix:" + str(tmp_path / "nobody.sock"))
    yield api
    stop_nginx(proc, dest)


def test_with_the_workers_down_nginx_says_unavailable_as_the_service_does(
        workerless_nginx):
    """One condition, one code: nginx's 502 said service_unavailable where
    the service's own 503 says unavailable."""
    r = workerless_nginx.get("/api/v1/events")
    assert r.status == 502, r
    assert r.json["error"]["code"] == "unavailable", r
    assert r.header("Retry-After") == "5", r


def test_with_the_workers_down_the_embed_is_an_unavailable_fragment(workerless_nginx):
    for query, lang, says in (
            ("lang=fr&limit=5", "fr", "La liste des événements est momentanément "
                                      "indisponible."),
            ("", "en", "The list of events is unavailable for the moment."),
            ("lang=xx", "en", "The list of events is unavailable for the moment.")):
        r = workerless_nginx.get("/embed/events?" + query)
        assert says in error_fragment(r, 502, lang), r.text
        assert r.header("Retry-After") == "5", r
    r = workerless_nginx.get("/events")
    assert r.status == 502 and "<h1>Service unavailable</h1>" in r.text, r


def listed_origin():
    return env("EVENTBOX_CORS_ORIGINS").replace(",", " ").split()[0]


def assert_cors(r, origin):
    """r, one of nginx's own JSON errors, readable by origin's scripts."""
    assert r.header("Content-Type") == "application/json", r
    assert [v for k, v in r.headers if k.lower() == "access-control-allow-origin"] \
        == [origin], r.headers
    assert "Origin" in [v.strip() for v in (r.header("Vary") or "").split(",")], r.headers
    assert "Retry-After" in (r.header("Access-Control-Expose-Headers") or ""), r.headers


def test_nginx_own_errors_carry_cors_for_a_listed_origin_only(api, make_event):
    """A script on a listed origin saw "Failed to fetch" for nginx's 413
    (and 429, 502): no Access-Control-Allow-Origin.  The service's answers
    keep their one copy of each header."""
    origin = listed_origin()
    path = f"/api/v1/events/{make_event()}/registrations"
    big = b'{"name": "Big", "email": "big@example.org", "pad": "' + b"x" * 17000 + b'"}'
    r = api.post(path, body=big, headers={"Origin": origin,
                                          "Content-Type": "application/json"})
    assert r.status == 413, r
    assert_cors(r, origin)
    r = api.post(path, body=big, headers={"Origin": "https://evil.example.com",
                                          "Content-Type": "application/json"})
    assert r.status == 413 and r.header("Access-Control-Allow-Origin") is None, r
    r = api.get("/api/v1/events", headers={"Origin": origin})
    assert r.status == 200, r
    for name in ("access-control-allow-origin", "vary", "access-control-expose-headers"):
        assert len([v for k, v in r.headers if k.lower() == name]) == 1, (name, r.headers)


def test_with_the_workers_down_a_listed_origin_reads_the_502(workerless_nginx):
    r = workerless_nginx.get("/api/v1/events", headers={"Origin": listed_origin()})
    assert r.status == 502, r
    assert_cors(r, listed_origin())
    assert r.header("Retry-After") == "5", r


def burst_from(api, slug, addresses):
    barrier = threading.Barrier(len(addresses))
    results = []
    runid = uuid.uuid4().hex[:8]

    def post(i, addr):
        barrier.wait()
        results.append(api.register(slug, f"Net {i}", f"net{i}-{runid}@example.org",
                                    headers={"X-Forwarded-For": addr}).status)

    threads = [threading.Thread(target=post, args=(i, a)) for i, a in enumerate(addresses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_one_ipv6_64_is_one_client_however_its_addresses_are_written(
        proxied_nginx, make_event):
    api, _ = proxied_nginx
    slug = make_event(capacity=1000)
    # 30 addresses of 2001:db8:0:0::/64, most written with "::" in
    # different places (the textual form would hide the prefix).
    same64 = [f"2001:db8::{i + 1:x}" for i in range(10)] + \
             [f"2001:db8::{i + 1:x}:0:0:1" for i in range(10)] + \
             [f"2001:db8:0:0:{i + 1:x}:ffff:1:2" for i in range(10)]
    codes = burst_from(api, slug, same64)
    ok = codes.count(201)
    assert len(codes) == 30 and ok + codes.count(429) == 30, codes
    assert 6 <= ok <= 12, codes
    # 30 different /64s and 30 IPv4 addresses are 60 clients: none limited.
    time.sleep(1.5)
    others = [f"2001:db8:{i + 1:x}::1" for i in range(30)]
    assert burst_from(api, slug, others) == [201] * 30
    v4 = [f"192.0.2.{i + 1}" for i in range(30)]
    assert burst_from(api, slug, v4) == [201] * 30
    record("nginx", "30 simultaneous POSTs from 30 addresses of one IPv6 /64, "
           "EVENTBOX_POST_RATE=5r/s burst 5",
           f"{ok} x 201, {30 - ok} x 429; 30 from 30 other /64s and 30 from 30 "
           "IPv4 addresses right after: all 201")


def test_one_client_gets_429_beyond_its_requests_in_flight(two_in_flight_nginx):
    port = two_in_flight_nginx
    # Two uploads that never finish hold the client's two places.
    held = []
    for _ in range(2):
        s = socket.create_connection(("127.0.0.1", port), 5)
        s.sendall(b"POST /api/v1/events/x/registrations HTTP/1.1\r\nHost: localhost\r\n"
                  b"X-Forwarded-For: 2001:db8:5::1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n{")
        held.append(s)
    time.sleep(0.5)
    try:
        third = raw_get(port, "2001:db8:5::2")
        other = raw_get(port, "2001:db8:6::1")
    finally:
        for s in held:
            s.close()
    assert third.startswith(b"HTTP/1.1 429"), third[:200]
    assert other.startswith(b"HTTP/1.1 200"), other[:200]
    record("nginx", "a third request while two uploads from the same IPv6 /64 "
           "are in flight, EVENTBOX_CONN_LIMIT=2",
           "429 at once; a request from another /64 meanwhile: 200")


def test_a_limited_client_s_full_address_reaches_no_log(tmp_path, make_event):
    """The access log keeps the network part of an address only (IPv4 /24,
    IPv6 /48): a registration attempt is not tied to one patron's address.
    nginx's error log quoted the whole address of every client it turned
    away with 429, a POST rate or a requests-in-flight limit, next to the
    event's registration path: a crowd behind one library's address at
    opening time left each member's attempts there."""
    proc, dest, api, port = start_nginx(tmp_path, conn_limit=2, server_conf=REALIP)
    v4, v6 = "192.0.2.77", "2001:db8:77:1:2:3:4:5"
    try:
        slug = make_event(capacity=1000)
        codes = burst_from(api, slug, [v4] * 20)
        assert 429 in codes and 201 in codes, codes
        held = []
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", port), 5)
            s.sendall(f"POST /api/v1/events/{slug}/registrations HTTP/1.1\r\n"
                      f"Host: localhost\r\nX-Forwarded-For: {v6}\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: 1000\r\n\r\n{".encode())
            held.append(s)
        time.sleep(0.5)
        try:
            third = raw_get(port, v6)
        finally:
            for s in held:
                s.close()
        assert third.startswith(b"HTTP/1.1 429"), third[:200]
        time.sleep(0.5)         # nginx writes its log lines as it goes
        logs = {}
        for name in sorted(os.listdir(dest)):
            if name.endswith(".log"):
                with open(os.path.join(dest, name), errors="replace") as f:
                    logs[name] = f.read()
    finally:
        stop_nginx(proc, dest)
    assert "nginx-error.log" in logs, sorted(logs)
    assert "192.0.2.0 " in logs["access.log"] and " 429 " in logs["access.log"]
    assert "2001:db8:77:: " in logs["access.log"]
    for name, text in logs.items():
        assert v4 not in text and v6 not in text, (name, text[-2000:])
    record("privacy", f"20 simultaneous POSTs from {v4} (rate 5r/s burst 5) and a "
           f"third request in flight from {v6} (limit 2)",
           "429s; the access log has 192.0.2.0 and 2001:db8:77::, neither log the "
           "whole address")


def raw_get(port, addr):
    s = socket.create_connection(("127.0.0.1", port), 5)
    try:
        s.sendall(f"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                  f"X-Forwarded-For: {addr}\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data
            data += chunk
    finally:
        s.close()


def test_a_burst_of_posts_from_one_client_gets_429_but_reads_never_do(
        low_rate_nginx, db, make_event):
    api = low_rate_nginx
    slug = make_event(capacity=100)
    runid = uuid.uuid4().hex[:8]
    n = 30
    barrier = threading.Barrier(n)
    results = []

    def post(i):
        barrier.wait()
        r = api.register(slug, f"Burst {i}", f"burst{i}-{runid}@example.org")
        results.append(r)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status for r in results)
    limited = [r for r in results if r.status == 429]
    ok = [r for r in results if r.status == 201]
    assert len(results) == n and len(ok) + len(limited) == n, codes
    # Burst 5 plus the first, plus what 5r/s refills while the burst lasts.
    assert 6 <= len(ok) <= 12, codes
    for r in limited:
        assert r.json["error"]["code"]
        assert r.header("Retry-After") == "1"
    # Exactly the answered 201s became rows; the 429s never reached a worker.
    assert db.value("SELECT count(*) FROM eventbox.roster WHERE slug = %s",
                    slug) == len(ok)
    # Reads are not limited at all.
    reads = [api.get(f"/api/v1/events/{slug}").status for _ in range(30)]
    assert reads == [200] * 30
    record("nginx", f"{n} simultaneous POSTs from one address, "
           "EVENTBOX_POST_RATE=5r/s burst 5",
           f"{len(ok)} x 201, {len(limited)} x 429 (JSON, Retry-After: 1); "
           "30 GETs right after: all 200",
           f"yes: {len(ok)} rows = {len(ok)} answers 201")


def test_metrics_through_nginx_answers_a_remote_scraper_only_with_the_token(
        proxied_nginx):
    """A Prometheus on another host scrapes through nginx with the token;
    nginx once refused every address but loopback (403), token or not."""
    api, _ = proxied_nginx
    token = env("EVENTBOX_METRICS_TOKEN")
    remote = {"X-Forwarded-For": "198.51.100.7"}
    right = api.get("/metrics", headers={**remote, "Authorization": "Bearer " + token})
    assert right.status == 200, right
    assert b"eventbox_http_requests_total" in right.body
    for headers in (remote, {**remote, "Authorization": "Bearer x" + token},
                    {"X-Forwarded-For": "2001:db8::7",
                     "Authorization": "Bearer " + token[:-1]}):
        r = api.get("/metrics", headers=headers)
        assert r.status == 404, (headers, r)
        assert b"eventbox_" not in r.body
    local = api.get("/metrics")
    assert local.status == 200 and b"eventbox_" in local.body
    record("nginx", "/metrics through nginx from 198.51.100.7 and 2001:db8::7",
           "200 with the token; 404 without it or with a wrong one; "
           "loopback without a token: 200")


# `make install`'s site with what the rehearsal changes too (tests/rehearse.sh,
# site()): loopback listen addresses on free ports; and what a test cannot
# use: the paths of /etc, /var and /run, and the error pages not installed.
PROD_SITE_EDITS = (
    ("listen 443 ssl http2 default_server; listen [::]:443 ssl http2 default_server;",
     "listen 127.0.0.1:{https} ssl http2 default_server;"),
    ("listen 443 ssl http2; listen [::]:443 ssl http2;",
     "listen 127.0.0.1:{https} ssl http2;"),
    ("    listen 80;\n    listen [::]:80;\n", "    listen 127.0.0.1:{http};\n"),
    ("unix:/run/eventbox/eventbox.sock", "unix:{socket}"),
    ("/etc/nginx/eventbox.d/*.conf", "{dest}/eventbox.d/*.conf"),
    ("/etc/nginx/eventbox-cors.map", "{dest}/eventbox-cors.map"),
    ("/var/cache/nginx/eventbox", "{dest}/cache"),
    ("/var/log/nginx/", "{dest}/"),
    ("root /usr/local/share/eventbox/nginx/errors;", "root {errors};"),
)


@pytest.fixture
def production_site(tmp_path):
    """nginx running the site `make install` writes, with a certificate for
    its name: (name, HTTPS port, the certificate, HTTP port)."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    site = subprocess.run(["make", "-s", "--no-print-directory", "nginx-site"],
                          cwd=ROOT, env=clean, capture_output=True, text=True,
                          check=True).stdout
    name = re.search(r"server_name (\S+);", site).group(1)
    dest = str(tmp_path / "prod")
    os.makedirs(os.path.join(dest, "eventbox.d"))
    os.makedirs(os.path.join(dest, "tmp"))
    # As `make install` leaves it: no origin listed yet.
    open(os.path.join(dest, "eventbox-cors.map"), "w").close()
    cert, key = os.path.join(dest, "site.pem"), os.path.join(dest, "site.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-days", "1", "-subj", f"/CN={name}", "-addext",
                    f"subjectAltName=DNS:{name}", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    with open(os.path.join(ROOT, "nginx", "eventbox-tls.conf")) as f:
        tls = f.read()
    tls = re.sub(r"(?m)^ssl_certificate .*$", f"ssl_certificate {cert};", tls)
    tls = re.sub(r"(?m)^ssl_certificate_key .*$", f"ssl_certificate_key {key};", tls)
    with open(os.path.join(dest, "eventbox.d", "tls.conf"), "w") as f:
        f.write(tls)
    https, http = free_port(), free_port()
    for old, new in PROD_SITE_EDITS:
        assert old in site, f"the site no longer has {old!r}"
        site = site.replace(old, new.format(https=https, http=http, dest=dest,
                                            socket=env("EVENTBOX_LISTEN"),
                                            errors=os.path.join(ROOT, "nginx", "errors")))
    with open(os.path.join(dest, "site.conf"), "w") as f:
        f.write(site)
    conf = os.path.join(dest, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""{"user root root;" if os.geteuid() == 0 else ""}
pid {dest}/nginx.pid;
daemon off;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {dest}/tmp/body;
    fastcgi_temp_path {dest}/tmp/fastcgi;
    proxy_temp_path {dest}/tmp/proxy;
    uwsgi_temp_path {dest}/tmp/uwsgi;
    scgi_temp_path {dest}/tmp/scgi;
    include {dest}/site.conf;
}}
""")
    proc = run_nginx(dest, conf, https)
    yield name, https, cert, http
    stop_nginx(proc, dest)


def tls_get(port, server_name, cafile=None, host=None):
    """GET /healthz over TLS, the handshake naming server_name (None: no
    name, as a client of the bare address): the status, or the SSLError."""
    ctx = ssl.create_default_context(cafile=cafile)
    if cafile is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), 5) as raw:
        try:
            s = ctx.wrap_socket(raw, server_hostname=server_name)
        except ssl.SSLError as e:
            return e
        with s:
            s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host or server_name}"
                      "\r\nConnection: close\r\n\r\n".encode())
            return int(s.recv(4096).split(b" ", 2)[1])


def test_the_production_site_refuses_tls_for_any_other_name(production_site):
    """Its 443 server was the only TLS server, so nginx made it the default:
    Host: evil.example got the events, with a 200."""
    name, port, cert, _ = production_site
    assert tls_get(port, name, cafile=cert) == 200
    for other in ("evil.example", None):
        answer = tls_get(port, other, host=name)
        assert isinstance(answer, ssl.SSLError), (other, answer)


@pytest.mark.parametrize("path, limit, kind", [
    ("/api/v1/events/x/registrations", 16 * 1024, "json"),
    ("/events/x/register", 48 * 1024, "html")])
def test_a_body_over_the_limit_is_a_413_over_http2_as_over_http1(
        production_site, tmp_path, path, limit, kind):
    """The site speaks HTTP/2 on 443, as every browser then does: a body
    over the limit came back as nginx's bare HTML "500 Internal Server
    Error" (its error page refused the body again, a redirection cycle),
    where HTTP/1.1 got the 413 with the service's JSON or HTML body."""
    name, port, cert, _ = production_site
    body = tmp_path / "big"
    body.write_bytes(b"a" * (limit + 4000))
    answers = {}
    for version in ("--http1.1", "--http2"):
        out = subprocess.run(
            ["curl", "-sS", version, "--cacert", cert, "--resolve",
             f"{name}:{port}:127.0.0.1", "-o", "-", "-w", "\n%{http_version} %{http_code} %{content_type}",
             "-X", "POST", "--data-binary", f"@{body}",
             "-H", "Content-Type: application/x-www-form-urlencoded",
             f"https://{name}:{port}{path}"],
            capture_output=True, text=True, timeout=30)
        text, _, meta = out.stdout.rpartition("\n")
        answers[version] = (meta, text)
    assert answers["--http2"][0].startswith("2 "), answers
    for meta, text in answers.values():
        assert meta.split(" ", 1)[1].startswith("413 application/json" if kind == "json"
                                                else "413 text/html"), answers
        if kind == "json":
            assert json.loads(text)["error"]["code"] == "body_too_large"
    assert answers["--http2"][1] == answers["--http1.1"][1]


def test_the_production_sites_port_80_answers_its_errors_as_port_443_does(
        production_site):
    """The redirect server on port 80 answered what it refuses while
    reading (a request line broken at the method, an HTTP/9.9) with nginx's
    default HTML page, whatever the path: an API client that typed
    http:// got HTML where port 443 answers JSON.  The same requests as
    READING's, over a raw socket to port 80: the same bodies as on 443."""
    name, _, _, http = production_site

    class Port80:
        host, port = "127.0.0.1", http
    for case, data, status, kind, says in READING:
        if case.startswith(("uri-too-long", "header-too-large",
                            "cookie-too-large", "transfer-encoding")):
            continue        # port 443's limits, not the redirect's
        out = raw(Port80, data + b"Connection: close\r\n\r\n")
        head, _, body = out.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 %d " % status), (case, head[:200])
        ctype = [line for line in head.split(b"\r\n")
                 if line.lower().startswith(b"content-type:")]
        assert b"nginx" not in body, (case, body[:300])
        if kind == "json":
            assert ctype == [b"Content-Type: application/json"], (case, head)
            assert json.loads(body)["error"]["code"] == says, (case, body)
        else:
            assert ctype == [b"Content-Type: text/html; charset=utf-8"], (case, head)
            assert b"<h1>" + says.encode() + b"</h1>" in body, (case, body[:300])
    # A challenge file that is not there: our page, not nginx's.
    out = raw(Port80, f"GET /.well-known/acme-challenge/none HTTP/1.1\r\n"
                      f"Host: {name}\r\nConnection: close\r\n\r\n".encode())
    assert out.startswith(b"HTTP/1.1 404 "), out[:200]
    assert b"<h1>Not found</h1>" in out and b"nginx</center>" not in out
    # What it answers otherwise is unchanged: the redirect.
    out = raw(Port80, f"GET /api/v1/events HTTP/1.1\r\nHost: {name}\r\n"
                      "Connection: close\r\n\r\n".encode())
    assert out.startswith(b"HTTP/1.1 301 "), out[:200]
    assert f"Location: https://{name}/api/v1/events\r\n".encode() in out


def cors_on_413(port, name, cafile, origin):
    """The Access-Control-Allow-Origin of nginx's own 413 (a body over the
    16k limit) over TLS to the production site, for a script on origin."""
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), 5) as raw_sock:
        with ctx.wrap_socket(raw_sock, server_hostname=name) as s:
            s.sendall(f"POST /api/v1/events/x/registrations HTTP/1.1\r\n"
                      f"Host: {name}\r\nOrigin: {origin}\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: 20000\r\nConnection: close\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
    assert head.startswith(b"HTTP/1.1 413 "), head
    m = re.search(rb"(?im)^access-control-allow-origin: *(\S+)\r$", head)
    return m.group(1).decode() if m else None


@pytest.mark.parametrize("origin", [
    "https://www.example.org/", "https://www.example.org/events", "www.example.org",
    "ftp://www.example.org", "https://", "https://www.example.org:", "null"])
def test_an_origin_that_is_not_scheme_host_port_stops_the_start(tmp_path, origin):
    """DEPLOY.md: an origin that is not scheme://host[:port] stops the start of
    eventbox.service (its ExecStartPre=) and of the development stack.  The
    trailing slash of "https://www.example.org/" was rendered: no browser
    sends that Origin, so the service and nginx both matched nothing and the
    website's scripts lost CORS without a word."""
    cors_map = tmp_path / "eventbox-cors.map"
    r = subprocess.run(
        [os.path.join(ROOT, "deploy", "eventbox-cors-map"), "--update", str(cors_map)],
        capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin",
             "EVENTBOX_CORS_ORIGINS": f"https://library.example.org,{origin}"})
    assert r.returncode == 1 and f"{origin}: not an origin" in r.stderr, r
    assert not cors_map.exists()


def test_an_origin_with_a_port_or_an_ipv6_address_is_rendered():
    origins = "https://library.example.org http://localhost:8080 https://[2001:db8::1]:8443"
    r = subprocess.run([os.path.join(ROOT, "deploy", "eventbox-cors-map")],
                       capture_output=True, text=True, check=True,
                       env={"PATH": "/usr/bin:/bin", "EVENTBOX_CORS_ORIGINS": origins})
    assert [line.split('" "')[1].rstrip('";') for line in r.stdout.splitlines()[1:]] \
        == origins.split(), r.stdout


def test_a_restart_of_the_service_gives_nginx_the_new_cors_origins(
        production_site, tmp_path):
    """A sysadmin changed EVENTBOX_CORS_ORIGINS in web.env and restarted
    eventbox: nginx's own errors (413, 429, 502) kept the old list until
    eventbox-cors-map was run by hand and nginx reloaded.  eventbox.service
    runs it before each start (ExecStartPre=+, with the service's own
    environment): nginx's copy, the one the installed site includes, is
    written when the list changed, and nginx reloaded then; an unchanged
    list leaves both alone, and a list nginx cannot match stops the start
    with the copy as it was.  (make rehearse runs the unit itself.)"""
    name, port, cert, _ = production_site
    with open(os.path.join(ROOT, "deploy", "eventbox.service")) as f:
        pre = re.findall(r"(?m)^ExecStartPre=\+(.*)$", f.read())
    # the path production_site found in the site (PROD_SITE_EDITS)
    assert pre == ["/usr/sbin/eventbox-cors-map --update"
                   " /etc/nginx/eventbox-cors.map"], pre
    dest = tmp_path / "prod"
    cors_map = dest / "eventbox-cors.map"
    fake = tmp_path / "bin"             # nginx.service is this nginx
    fake.mkdir()
    calls = tmp_path / "systemctl.log"
    (fake / "systemctl").write_text(f"""#!/bin/sh
echo "$*" >>{calls}
case "$*" in
"is-active --quiet nginx.service") exit 0 ;;
"--no-block reload nginx.service") exec kill -HUP "$(cat {dest}/nginx.pid)" ;;
esac
exit 1
""")
    (fake / "systemctl").chmod(0o755)

    def start_service(origins):
        """What systemd runs before `eventbox serve`."""
        return subprocess.run(
            [os.path.join(ROOT, "deploy", "eventbox-cors-map"), "--update",
             str(cors_map)], capture_output=True, text=True,
            env={"PATH": f"{fake}:/usr/bin:/bin", "EVENTBOX_CORS_ORIGINS": origins})

    def workers():
        """nginx's processes under its master: a reload replaces them all."""
        master = (dest / "nginx.pid").read_text().strip()
        return set(subprocess.run(["pgrep", "-P", master], capture_output=True,
                                  text=True).stdout.split())

    origin = "https://www.consortium.test"
    assert cors_on_413(port, name, cert, origin) is None
    old = workers()
    assert old
    assert start_service(f"https://www.example.org, {origin}").returncode == 0
    assert calls.read_text().splitlines()[-1] == "--no-block reload nginx.service"
    # The reload takes a moment, and until the old workers have gone, one
    # of them may still take a connection and answer with the old list.
    deadline = time.time() + 10
    while old & workers():
        assert time.time() < deadline, "nginx's old workers still run"
        time.sleep(0.1)
    assert cors_on_413(port, name, cert, origin) == origin
    before = (cors_map.stat().st_ino, cors_map.read_text(), len(calls.read_text()))
    assert start_service(f"https://www.example.org,{origin}").returncode == 0
    assert (cors_map.stat().st_ino, cors_map.read_text(),
            len(calls.read_text())) == before, "an unchanged list was written again"
    bad = start_service("https://www.example.org/<script>")
    assert bad.returncode == 1 and "not an origin" in bad.stderr, bad
    assert cors_map.read_text() == before[1]
    assert cors_on_413(port, name, cert, origin) == origin
