#!/usr/bin/python3
"""tests/rehearse_load.py: the registration load of `make rehearse`.

Patrons register over HTTPS through nginx the way a careful client does:
each attempt carries an Idempotency-Key, and an answer of 502/503/504 or a
broken connection is retried with the same key (after Retry-After, capped
at 0.2 s so the gap is measured finely) until the service answers 201 or
409.  While the load runs, the actions given on the command line (shell
commands) run at their times: kill the primary database, one service
instance, one mailer.

Usage:
  rehearse_load.py throughput URL CAFILE SLUG SECONDS CLIENTS
      prints "registrations_per_s=N"; SLUG may be PREFIX*N (N events)
  rehearse_load.py chaos URL CAFILE SLUG SECONDS CLIENTS OUT AT:NAME:CMD...
      writes OUT (email, status, http code of the answer) for every patron
      who got a 201, prints the failover figures (key=value lines)
"""
import http.client
import json
import random
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid


class Client:
    """One kept-alive HTTPS connection (one per patron thread)."""

    def __init__(self, url, cafile):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.conn = None

    def register(self, slug, email, key):
        body = json.dumps({"name": "Rehearsal Patron", "email": email})
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(
                self.host, self.port, context=self.ctx, timeout=30)
            # The site's name (TLS: SNI, certificate), loopback's address.
            self.conn._create_connection = (
                lambda addr, *a, **kw: socket.create_connection(
                    ("127.0.0.1", addr[1]), *a, **kw))
        try:
            self.conn.request(
                "POST", f"/api/v1/events/{slug}/registrations", body=body,
                headers={"Content-Type": "application/json",
                         "Idempotency-Key": key})
            r = self.conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return r.status, r.getheader("Retry-After"), data
        except BaseException:
            self.conn.close()
            self.conn = None
            raise


def patron(url, cafile, slugs, stop, log, lock, results, pause):
    client = Client(url, cafile)
    while not stop.is_set():
        time.sleep(pause)
        slug = random.choice(slugs)
        email = f"r-{uuid.uuid4().hex[:16]}@example.org"
        key = str(uuid.uuid4())
        while True:
            t = time.time()
            try:
                code, retry, data = client.register(slug, email, key)
            except (OSError, http.client.HTTPException):
                code, retry, data = 0, None, b""
            with lock:
                log.append((t, code, retry))
            if code in (201, 409):
                if code == 201:
                    status = json.loads(data).get("status", "?")
                    with lock:
                        results.append((email, status, t))
                break
            if code not in (0, 502, 503, 504):
                with lock:
                    log.append((t, -code, None))    # unexpected: counted
                break
            if stop.is_set() and code == 0:
                break
            wait = 0.2
            if retry and retry.isdigit():
                wait = min(float(retry), 0.2)
            time.sleep(wait)


def run_load(url, cafile, slug, seconds, clients, actions=(), pause=0.0):
    # SLUG or PREFIX*N: N events PREFIX1..PREFIXN, one picked per patron.
    if "*" in slug:
        prefix, n = slug.split("*")
        slugs = [f"{prefix}{i}" for i in range(1, int(n) + 1)]
    else:
        slugs = [slug]
    stop = threading.Event()
    log, results, lock = [], [], threading.Lock()
    threads = [threading.Thread(target=patron,
                                args=(url, cafile, slugs, stop, log, lock,
                                      results, pause))
               for _ in range(clients)]
    start = time.time()
    for th in threads:
        th.start()
    done = {}
    for at, name, cmd in sorted(actions):
        time.sleep(max(0.0, start + at - time.time()))
        subprocess.run(["bash", "-c", cmd], check=False)
        done[name] = time.time()        # once the kill is done
    time.sleep(max(0.0, start + seconds - time.time()))
    stop.set()
    for th in threads:
        th.join(timeout=60)
    return start, log, results, done


def main():
    mode = sys.argv[1]
    url, cafile, slug = sys.argv[2], sys.argv[3], sys.argv[4]
    seconds, clients = float(sys.argv[5]), int(sys.argv[6])
    if mode == "throughput":
        start, log, results, _ = run_load(url, cafile, slug, seconds, clients)
        n = sum(1 for r in results if r[2] - start >= 1.0)   # after warm-up
        print(f"registrations_per_s={n / (seconds - 1.0):.0f}")
        bad = [c for _, c, _ in log if c not in (201, 409)]
        print(f"non_201_answers={len(bad)}")
        return
    out = sys.argv[7]
    actions = []
    for a in sys.argv[8:]:
        at, name, cmd = a.split(":", 2)
        actions.append((float(at), name, cmd))
    # Patrons pause 50 ms between registrations: enough load to measure
    # the gap, few enough emails for the mailers to catch up.
    start, log, results, done = run_load(url, cafile, slug, seconds, clients,
                                         actions, pause=0.05)
    with open(out, "w") as f:
        for email, status, _ in results:
            f.write(f"{email}\t{status}\n")
    codes = {}
    for _, c, _ in log:
        codes[c] = codes.get(c, 0) + 1
    print("answers=" + ",".join(f"{k}:{v}" for k, v in sorted(codes.items())))
    print(f"registered={len(results)}")
    no_retry_after = sum(1 for _, c, r in log if c == 503 and not r)
    print(f"503_without_retry_after={no_retry_after}")
    print(f"unexpected={sum(1 for _, c, _ in log if c < 0)}")
    if "kill-primary" in done:
        k = done["kill-primary"]
        # The gap: from the kill to the first 201 for a request sent after
        # the first failed answer that followed it (the new primary).
        fails = sorted(t for t, c, _ in log if c in (0, 502, 503, 504)
                       and t > k)
        first_fail = fails[0] if fails else k
        after = sorted(t for t, c, _ in log if c == 201 and t > first_fail)
        print(f"failover_gap_s={(after[0] - k) if after else -1:.1f}")
        during = [c for t, c, _ in log if k < t < (after[0] if after else k)]
        print("during_gap=" + ",".join(
            f"{c}:{during.count(c)}" for c in sorted(set(during))))
    for name, t in sorted(done.items()):
        print(f"action_{name}_at_s={t - start:.1f}")


if __name__ == "__main__":
    main()
