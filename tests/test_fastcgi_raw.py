"""FastCGI spoken directly to `eventbox serve`'s socket, bypassing nginx.

nginx only ever sends well-formed records, so these are the inputs that
reach a worker when something else gets at the socket: truncated records, a
wrong version, huge declared lengths (the libfcgi ReadParams overflow class,
CVE-2025-23016), a missing or lying CONTENT_LENGTH, a body that never ends,
params without REQUEST_METHOD or REQUEST_URI.  Each connection is dropped or
answered 400, every worker survives or is replaced, /healthz stays 200, and
the socket is closed to other local users.
"""
import gzip
import os
import socket
import struct
import subprocess
import time
import uuid

import pytest

from conftest import devstack, env, record, wait_healthy
from test_faults import workers

BEGIN, END, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6


def rec(rtype, content=b"", req_id=1, version=1, declared=None, padding=0):
    n = len(content) if declared is None else declared
    return struct.pack(">BBHHBx", version, rtype, req_id, n, padding) + \
        content + b"\0" * padding


def nv_len(n, wide=False):
    if n < 128 and not wide:
        return bytes([n])
    return struct.pack(">I", n | 0x80000000)


def pairs(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        out += nv_len(len(k)) + nv_len(len(v)) + k + v
    return out


def begin(req_id=1):
    return rec(BEGIN, struct.pack(">HB5x", 1, 0), req_id)   # responder


def request(params, body=b"", end_stdin=True):
    data = begin() + rec(PARAMS, pairs(params)) + rec(PARAMS)
    if body:
        data += rec(STDIN, body)
    if end_stdin:
        data += rec(STDIN)
    return data


def connect(timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(env("EVENTBOX_LISTEN"))
    return s


def exchange(data, timeout=10, shut=True):
    """Sends raw bytes and reads until the worker closes.  Returns the
    STDOUT bytes (the CGI response; b"" when the connection was dropped)."""
    s = connect(timeout)
    try:
        try:
            s.sendall(data)
            if shut:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        raw = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            raw += chunk
    finally:
        s.close()
    out, i = b"", 0
    while i + 8 <= len(raw):
        _v, t, _id, n, pad = struct.unpack(">BBHHBx", raw[i:i + 8])
        if t == STDOUT:
            out += raw[i + 8:i + 8 + n]
        i += 8 + n + pad
    return out


def status_of(out):
    if not out:
        return None
    first = out.split(b"\r\n", 1)[0].decode()
    assert first.startswith("Status: "), out[:200]
    return int(first.split()[1])


def base_params(method="GET", uri="/healthz", **extra):
    p = {"REQUEST_METHOD": method, "REQUEST_URI": uri,
         "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    p.update(extra)
    return p


def healthy_and_staffed(api, master, count):
    """/healthz answers 200 through nginx; the master is the same and has its
    full count of workers again (a dead one is replaced within seconds)."""
    deadline = time.time() + 15
    while True:
        m, now = workers()
        if m == master and len(now) == count:
            break
        assert time.time() < deadline, (master, m, now)
        time.sleep(0.1)
    assert api.get("/healthz").status == 200
    return now


def test_the_installed_libfcgi_carries_the_readparams_overflow_fix():
    with gzip.open("/usr/share/doc/libfcgi0ldbl/changelog.Debian.gz", "rt") as f:
        head = f.read(2000)
    assert "CVE-2025-23016" in head


def test_a_well_formed_raw_request_is_answered(api):
    out = exchange(request(base_params()))
    assert status_of(out) == 200, out


@pytest.mark.parametrize("drop", ["REQUEST_METHOD", "REQUEST_URI", "both"])
def test_params_without_method_or_uri_are_answered_400(api, drop):
    p = base_params()
    for k in (["REQUEST_METHOD", "REQUEST_URI"] if drop == "both" else [drop]):
        del p[k]
    out = exchange(request(p))
    assert status_of(out) == 400, out
    record("raw FastCGI", f"params without {drop}", "400 bad_request")


LYING = {
    # name: CONTENT_LENGTH param (None: absent); the body is always sent
    "declared 100, fewer sent": "100",
    "declared 5, more sent": "5",
    "declared abc": "abc",
    "declared -1": "-1",
    "declared 2^63": "9223372036854775808",
    "missing, body sent": None,
}


@pytest.mark.parametrize("case", list(LYING))
def test_a_missing_or_lying_content_length_is_answered_400_and_reaches_no_row(
        api, db, make_event, case):
    slug = make_event(capacity=5)
    email = f"raw-{uuid.uuid4().hex[:8]}@example.org"
    body = ('{"name":"Raw","email":"%s"}' % email).encode()
    cl = LYING[case]
    p = base_params("POST", f"/api/v1/events/{slug}/registrations",
                    CONTENT_TYPE="application/json")
    if cl is not None:
        p["CONTENT_LENGTH"] = cl
    out = exchange(request(p, body))
    assert status_of(out) == 400, out
    assert db.value("SELECT count(*) FROM eventbox.roster WHERE email = %s",
                    email) == 0
    record("raw FastCGI", f"CONTENT_LENGTH {case} ({len(body)} bytes)",
           "400 bad_body" if b"bad_body" in out else "400")


def truncated_header():
    return begin()[:3]


def wrong_version():
    return rec(BEGIN, struct.pack(">HB5x", 1, 0), version=2) + \
        rec(PARAMS, pairs(base_params()), version=2) + rec(PARAMS, version=2)


def huge_param_lengths():
    # Name and value lengths near 2^31: nameLen + valueLen + 2 overflows a
    # 32-bit int (CVE-2025-23016); the record itself is small.
    body = nv_len(0x7FFFFFFF, True) + nv_len(0x7FFFFFFF, True) + b"AAAA"
    return begin() + rec(PARAMS, body) + rec(PARAMS) + rec(STDIN)


def param_longer_than_record():
    body = nv_len(1000, True) + nv_len(5) + b"REQUEST_METHOD"
    return begin() + rec(PARAMS, body) + rec(PARAMS) + rec(STDIN)


def declared_content_longer_than_sent():
    return begin() + rec(PARAMS, b"\x0e\x03REQUEST_METHODGET", declared=65535)


def unknown_record_type():
    return begin() + rec(42, b"xyz") + rec(PARAMS, pairs(base_params())) + \
        rec(PARAMS) + rec(STDIN)


def stdin_before_params():
    return begin() + rec(STDIN, b"{}") + rec(STDIN) + \
        rec(PARAMS, pairs(base_params())) + rec(PARAMS)


def no_begin_record():
    return rec(PARAMS, pairs(base_params())) + rec(PARAMS) + rec(STDIN)


def management_record():
    return rec(9, pairs({"FCGI_MAX_CONNS": "", "FCGI_MPXS_CONNS": ""}), req_id=0)


def garbage():
    return os.urandom(4096)


MALFORMED = [truncated_header, wrong_version, huge_param_lengths,
             param_longer_than_record, declared_content_longer_than_sent,
             unknown_record_type, stdin_before_params, no_begin_record,
             management_record, garbage]


@pytest.mark.parametrize("make", MALFORMED, ids=lambda f: f.__name__)
def test_malformed_records_are_dropped_or_answered_400_and_workers_survive(
        api, make):
    master, before = workers()
    out = exchange(make())
    st = status_of(out)
    # A management record may get its FCGI_GET_VALUES_RESULT, which is not
    # a CGI response (no STDOUT): that counts as "dropped" here.
    assert st in (None, 400), out[:300]
    now = healthy_and_staffed(api, master, len(before))
    replaced = len(set(before) - set(now))
    record("raw FastCGI", make.__name__.replace("_", " "),
           ("dropped" if st is None else f"{st}") +
           (f", {replaced} worker replaced" if replaced else ", worker survived"))


def test_a_body_that_never_ends_frees_the_worker_by_the_request_timeout(api):
    """With EVENTBOX_REQUEST_TIMEOUT=3, a connection that sends half a body
    and then nothing holds its worker for 3 s; then SIGALRM ends the worker
    and the master starts a fresh one.  A connection that sends nothing at
    all is dropped by libfcgi itself (it waits 2 s for a unix-socket peer to
    speak) or by the same timeout.  Other requests are answered all along."""
    devstack_env = dict(os.environ, EVENTBOX_REQUEST_TIMEOUT="3",
                        EVENTBOX_LOCK_TIMEOUT_MS="2000",
                        EVENTBOX_STATEMENT_TIMEOUT_MS="2500")
    subprocess.run([os.path.join(os.path.dirname(__file__), "..", "deploy",
                                 "devstack.sh"), "serve-start",
                    env("EVENTBOX_VAR")], env=devstack_env, check=True,
                   timeout=120, stdout=subprocess.DEVNULL)
    try:
        wait_healthy(api)
        master, before = workers()
        p = base_params("POST", "/api/v1/events/x/registrations",
                        CONTENT_TYPE="application/json", CONTENT_LENGTH="100")
        slow = connect(30)
        slow.sendall(request(p, b'{"name":', end_stdin=False))
        idle = connect(30)
        t0 = time.time()
        time.sleep(0.5)
        r = api.get("/healthz", timeout=5)
        assert r.status == 200 and time.time() - t0 < 3
        held = {}
        for name, s in (("idle", idle), ("slow", slow)):
            data = s.recv(65536)      # blocks until the worker lets go
            assert status_of(data) is None, data
            held[name] = time.time() - t0
            s.close()
        assert 1.5 <= held["idle"] < 10, held
        assert 2.5 <= held["slow"] < 10, held
        now = healthy_and_staffed(api, master, len(before))
        replaced = len(set(before) - set(now))
        assert replaced >= 1, (before, now)
        # not "killed by signal 14": the setting that ended it
        with open(os.path.join(env("EVENTBOX_LOG_DIR"), "eventbox.log")) as f:
            assert "ran past EVENTBOX_REQUEST_TIMEOUT (3 s)" in f.read()
        record("raw FastCGI", "half a body, then silence "
               "(EVENTBOX_REQUEST_TIMEOUT=3)",
               f"dropped after {held['slow']:.1f} s, worker replaced, "
               "/healthz 200 meanwhile")
        record("raw FastCGI", "a connection that never sends a byte",
               f"dropped after {held['idle']:.1f} s")
    finally:
        devstack("serve-start")
        wait_healthy(api)


def test_the_socket_is_0660_and_closed_to_other_local_users():
    path = env("EVENTBOX_LISTEN")
    st = os.stat(path)
    assert st.st_mode & 0o777 == 0o660, oct(st.st_mode)
    probe = ("import socket, sys\n"
             "s = socket.socket(socket.AF_UNIX)\n"
             "s.connect(sys.argv[1])\n")
    r = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3",
                        "-c", probe, path], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert "PermissionError" in r.stderr, r.stderr
    # The same probe as the socket's owner connects: the check can fail.
    r = subprocess.run(["/usr/bin/python3", "-c", probe, path],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    record("raw FastCGI", "connect to the socket as user nobody",
           "EACCES (socket mode 0660)")


# --- /metrics without nginx's allow list ------------------------------------

@pytest.mark.parametrize("addr", ["203.0.113.5", "2001:db8::5", None])
def test_metrics_answers_only_loopback_or_the_token_even_without_nginx(api, addr):
    params = base_params(uri="/metrics")
    if addr is None:
        del params["REMOTE_ADDR"]
    else:
        params["REMOTE_ADDR"] = addr
    out = exchange(request(params))
    assert status_of(out) == 404, out[:300]
    assert b"eventbox_" not in out
    token = os.environ.get("EVENTBOX_METRICS_TOKEN")
    if token:
        wrong = exchange(request({**params, "HTTP_AUTHORIZATION": "Bearer x" + token}))
        assert status_of(wrong) == 404
        right = exchange(request({**params, "HTTP_AUTHORIZATION": "Bearer " + token}))
        assert status_of(right) == 200 and b"eventbox_" in right
    local = exchange(request(base_params(uri="/metrics")))
    assert status_of(local) == 200 and b"eventbox_" in local
