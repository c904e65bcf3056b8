#!/bin/bash
# bench/flash_cpu.sh: where a flash crowd's CPU goes, per attempt and per
# process class, for eventbox and for the LIMIT of `make bench`'s flash
# crowd phase (bench/minimal.sql's locked function behind
# bench/bare_fcgi.c, committed as eventbox commits) on the same stack
# (docs/PERFORMANCE.md, "The registration's commit path").
#
#   bench/flash_cpu.sh VARDIR [ROUNDS] [both|eventbox|limit]
#
# VARDIR is this script's own devstack: started here when it is not
# running (destroyed first, then `deploy/devstack.sh start` with
# run.sh's settings: no rate limit, no sample event, and a location for the
# bare responder), and left running for the next call; stop it with
# `deploy/devstack.sh destroy VARDIR`.  Each round sends 10,000 POSTs from
# 500 connections (tests/loadclient) to a fresh 100-seat event with a
# waiting list, once to each side (the order alternates by round), each
# run right after a CHECKPOINT.  For each run it reads, from /proc, the
# user+system CPU and the context switches of every process before and
# after, by class: nginx, the workers (eventbox's, or the bare
# responders), the PostgreSQL backends serving them, the rest of the
# cluster (walwriter, checkpointer, autovacuum; processes that ended are
# counted through the postmaster's children's times), the mailer and its
# backends (when one runs), the load client; and, from PostgreSQL, WAL
# bytes, records and full-page images (pg_stat_wal, pg_current_wal_lsn),
# commits (pg_stat_database), transaction ids and WAL flushes per attempt.
# After each crowd, the same side's work alone: pgbench, one client, the
# statement the workers send committed as they commit it, CPU per call in
# PostgreSQL (what the crowd adds is the difference).  Every run
# is one line of VARDIR/flash-cpu/runs.tsv; the table printed at the end
# is the median of each figure over the rounds, per side.
#
#   PERF=1   also `perf record -g` the backends serving the workers in
#            each run (VARDIR/flash-cpu/*.perf) and print the share of a
#            few functions in their CPU (execution, triggers, executor
#            start, commit and flush, the tuple lock's wait and re-check)
#   FLASH_CONNS=N   connections (500)
#   SOLO=N   calls of the same work alone (2000, 0: none; see solo() below)
#
# CPU figures move with the machine's load (the load average is printed):
# compare sides of the same call, or calls interleaved.
set -euo pipefail
VAR=$(realpath -m "${1:?usage: bench/flash_cpu.sh VARDIR [ROUNDS] [both|eventbox|limit]}")
cd "$(dirname "$0")/.."
ROUNDS=${2:-3}
SIDES=${3:-both}
N=10000 C=${FLASH_CONNS:-500}
export LC_ALL=C
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a whole number" >&2; exit 2; }
case $SIDES in both|eventbox|limit) ;; *) echo "sides: both, eventbox or limit" >&2; exit 2 ;; esac
if [ ! -x ./eventbox ] || [ ! -x tests/loadclient ]; then
    echo "build first: make eventbox tests/loadclient" >&2
    exit 1
fi
if [ ! -x bench/bare_fcgi ] || [ bench/bare_fcgi.c -nt bench/bare_fcgi ]; then
    # shellcheck disable=SC2046
    cc -std=c11 -O2 -Wall -Wextra -Werror -Wshadow -Wconversion -Wno-sign-conversion \
        -D_GNU_SOURCE -o bench/bare_fcgi bench/bare_fcgi.c $(pkg-config --cflags --libs libpq fcgi)
fi

# --- The stack ----------------------------------------------------------------
running() {
    [ -f "$VAR/env" ] && [ -f "$VAR/nginx/server.d/flash-cpu.conf" ] || return 1
    # shellcheck disable=SC1091
    (. "$VAR/env" && kill -0 "$EVENTBOX_SERVE_PID" && kill -0 "$EVENTBOX_NGINX_PID") 2>/dev/null
}
if ! running; then
    deploy/devstack.sh destroy "$VAR" >/dev/null 2>&1 || true
    mkdir -p "$VAR/nginx/server.d"
    ABSVAR=$(cd "$VAR" && pwd -P)
    echo "location = /bench/flash-cpu { fastcgi_pass unix:$ABSVAR/flash-cpu.sock; }" \
        >"$VAR/nginx/server.d/flash-cpu.conf"
    EVENTBOX_POST_RATE=1000000r/s EVENTBOX_CONN_LIMIT=60000 EVENTBOX_SAMPLE=0 \
        deploy/devstack.sh start "$VAR" >"$VAR/devstack.log" 2>&1 ||
        { tail -20 "$VAR/devstack.log"; exit 1; }
fi
ABSVAR=$(cd "$VAR" && pwd -P)
OUT=$ABSVAR/flash-cpu
mkdir -p "$OUT"
# shellcheck disable=SC1091
. "$VAR/env"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -At)
SUPSQL=(psql -X -q -v ON_ERROR_STOP=1 -At -U postgres)
WORKERS=$(pgrep -P "$EVENTBOX_SERVE_PID" | wc -l)
if [ "$("${PSQL[@]}" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'bench'")" = 0 ]; then
    "${PSQL[@]}" -f bench/minimal.sql
fi
"${PSQL[@]}" -c "INSERT INTO bench.events (slug, capacity, waitlist) VALUES ('flash-cpu', 100, true)
                 ON CONFLICT (slug) DO NOTHING"

# The LIMIT: as make bench's flash crowd phase runs it (bench/run.sh).
setsid env -u BARE_DSN BARE_BARRIER=1 \
    BARE_SQL="SELECT bench.minimal_register('flash-cpu', 'Flash Patron', 'flash-' || \$1 || '@example.org')" \
    bench/bare_fcgi "$ABSVAR/flash-cpu.sock" "$WORKERS" </dev/null >"$OUT/bare.log" 2>&1 &
BARE_PID=$!
trap 'kill -TERM -- "-$BARE_PID" 2>/dev/null || true' EXIT

# --- Measuring ------------------------------------------------------------------
HZ=$(getconf CLK_TCK)
POSTMASTER=$(head -n 1 "$EVENTBOX_PG_DATA/postmaster.pid")
MAILER_PID=${EVENTBOX_MAILER_PID:-}
[ -n "$MAILER_PID" ] && ! kill -0 "$MAILER_PID" 2>/dev/null && MAILER_PID=""

# snapshot FILE: one line per process, "pid class ticks vcsw nvcsw"; the
# postmaster's line also holds its ended children's ticks (cutime+cstime).
snapshot() {
    local f=$1 acts pid cls t v nv
    acts=$("${SUPSQL[@]}" -F ' ' -c "SELECT pid, CASE
                 WHEN backend_type <> 'client backend' THEN 'pg-other'
                 WHEN application_name = 'psql' THEN 'pg-other'
                 WHEN application_name LIKE '%mail%' THEN 'pg-mailer'
                 ELSE 'pg-app' END FROM pg_stat_activity" 2>/dev/null || true)
    {
        for pid in $(pgrep -P "$POSTMASTER"); do
            cls=$(awk -v p="$pid" '$1 == p { print $2 }' <<<"$acts")
            echo "$pid ${cls:-pg-other}"
        done
        echo "$POSTMASTER pg-other"
        echo "$EVENTBOX_NGINX_PID nginx"
        for pid in $(pgrep -P "$EVENTBOX_NGINX_PID"); do echo "$pid nginx"; done
        if [ "$2" = eventbox ]; then
            echo "$EVENTBOX_SERVE_PID workers"
            for pid in $(pgrep -P "$EVENTBOX_SERVE_PID"); do echo "$pid workers"; done
        else
            for pid in $(pgrep -g "$BARE_PID"); do echo "$pid workers"; done
        fi
        if [ -n "$MAILER_PID" ]; then echo "$MAILER_PID mailer"; fi
    } | while read -r pid cls; do
        t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null |
            awk -v pm="$([ "$pid" = "$POSTMASTER" ] && echo 1 || echo 0)" \
                '{ print $12 + $13 + (pm ? $14 + $15 : 0) }') || continue
        [ -n "$t" ] || continue
        read -r v nv < <(awk '/^voluntary_ctxt/ { v = $2 } /^nonvoluntary_ctxt/ { n = $2 }
                              END { print v + 0, n + 0 }' "/proc/$pid/status" 2>/dev/null || echo "0 0")
        echo "$pid $cls $t $v $nv"
    done >"$f"
}

# pgstats: "xact_commit wal_records wal_fpi wal_bytes lsn_bytes xid wal_write
# wal_sync"
pgstats() {
    "${SUPSQL[@]}" -F ' ' <<'SQL'
SELECT (SELECT sum(xact_commit) FROM pg_stat_database),
       w.wal_records, w.wal_fpi, w.wal_bytes,
       pg_current_wal_lsn() - '0/0'::pg_lsn,
       txid_snapshot_xmax(txid_current_snapshot()), w.wal_write, w.wal_sync
  FROM pg_stat_wal w
SQL
}

# delta BEFORE AFTER: per class, "class ticks vcsw nvcsw" over the
# processes in both (the postmaster's line carries the ended ones).
delta() {
    awk 'NR == FNR { t[$1] = $3; v[$1] = $4; n[$1] = $5; next }
         ($1 in t) { T[$2] += $3 - t[$1]; V[$2] += $4 - v[$1]; NV[$2] += $5 - n[$1] }
         END { for (c in T) print c, T[c], V[c], NV[c] }' "$1" "$2"
}

# new_event PREFIX CAPACITY: a fresh published eventbox event with a
# waiting list; prints its slug.
new_event() {
    local slug
    slug=$1-$(date +%s%N)
    "${PSQL[@]}" -c "INSERT INTO eventbox.events (slug, title, capacity, waitlist_enabled,
                                                 status, starts_at, ends_at)
                     VALUES ('$slug', 'Flash CPU', $2, true, 'published',
                             now() + interval '30 days', now() + interval '30 days 1 hour')"
    echo "$slug"
}

# run SIDE ROUND: one crowd; appends one line to runs.tsv.
run() {
    local side=$1 round=$2 url body slug
    if [ "$side" = eventbox ]; then
        slug=$(new_event flash-cpu 100)
        url=$EVENTBOX_URL/api/v1/events/$slug/registrations
        body='{"name":"Flash Patron","email":"flash-{n}-{r}@example.org"}'
    else
        "${PSQL[@]}" <<'SQL'
TRUNCATE bench.registrations;
UPDATE bench.events SET confirmed = 0, waiting = 0 WHERE slug = 'flash-cpu';
SQL
        url=$EVENTBOX_URL/bench/flash-cpu
        body='{}'
    fi
    "${SUPSQL[@]}" -c CHECKPOINT
    sleep 1
    pgstats >"$OUT/s0"
    snapshot "$OUT/p0" "$side"
    local perf_pid=""
    if [ "${PERF:-0}" = 1 ]; then
        perf record -q -F 999 -g -o "$OUT/$side-$round.perf" \
            -p "$(awk '$2 == "pg-app" { print $1 }' "$OUT/p0" | paste -sd,)" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    local l0 l1
    l0=$(cut -d' ' -f1 /proc/loadavg)
    tests/loadclient -c "$C" -n "$N" -X POST -b "$body" -o "$OUT/$side.tsv" "$url" >"$OUT/$side.sum" ||
        echo "flash_cpu: the load client reported errors ($side)" >&2
    snapshot "$OUT/p1" "$side"
    [ -n "$perf_pid" ] && { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
    l1=$(cut -d' ' -f1 /proc/loadavg)
    # Backends report their counters when idle, at most every 10 s.
    sleep 11
    pgstats >"$OUT/s1"
    local bad inv
    bad=$(awk -F= '/^status_/ { s = substr($1, 8) + 0; if (s < 200 || s > 299) b += $2 }
                   $1 == "errors" { b += $2 } END { print b + 0 }' "$OUT/$side.sum")
    if [ "$side" = eventbox ]; then
        inv=$("${PSQL[@]}" -c "SELECT confirmed_count || '/' || waitlisted_count FROM eventbox.events
                               WHERE slug = '$slug'")
    else
        inv=$("${PSQL[@]}" -c "SELECT confirmed || '/' || waiting FROM bench.events WHERE slug = 'flash-cpu'")
    fi
    # round side rps p99_us errors confirmed/waiting load0 load1, then per
    # class "class=us_per_attempt/vcsw/nvcsw", then the database's figures.
    {
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$round" "$side" \
            "$(awk -F= '$1 == "rps" { printf "%.0f", $2 }' "$OUT/$side.sum")" \
            "$(awk -F= '$1 == "p99_us" { print $2 }' "$OUT/$side.sum")" "$bad" "$inv" "$l0" "$l1"
        delta "$OUT/p0" "$OUT/p1" | sort | awk -v hz="$HZ" -v n="$N" \
            '{ printf "\t%s=%.0f/%.2f/%.2f", $1, $2 * 1e6 / hz / n, $3 / n, $4 / n }'
        printf '\tclient=%.0f/0/0' "$(awk -F= -v n="$N" '$1 == "client_cpu_s" { print $2 * 1e6 / n }' "$OUT/$side.sum")"
        paste -d' ' "$OUT/s0" "$OUT/s1" | awk -v n="$N" '{
            printf "\txacts=%.2f\twal_records=%.2f\twal_fpi=%.3f\twal_bytes=%.0f\tlsn_bytes=%.0f\txids=%.2f\twal_writes=%.3f\twal_syncs=%.3f\n",
                ($9 - $1) / n, ($10 - $2) / n, ($11 - $3) / n, ($12 - $4) / n, ($13 - $5) / n, ($14 - $6) / n,
                ($15 - $7) / n, ($16 - $8) / n }'
    } >>"$OUT/runs.tsv"
    tail -n 1 "$OUT/runs.tsv" >&2
    if [ -n "$perf_pid" ]; then
        perf report -i "$OUT/$side-$round.perf" --children --sort sym -g none --stdio 2>/dev/null |
            grep -E '\] (PortalRun|AfterTriggerEndQuery|standard_ExecutorStart|ExecInitExprWithParams|CommitTransactionCommand|XLogFlush|heap_lock_tuple|XactLockTableWait|EvalPlanQualBegin|exec_bind_message|pq_getbyte)$' \
            >"$OUT/$side-$round.top" || true
        echo "PostgreSQL backends serving the workers, share of their CPU (perf, inclusive):" >&2
        cat "$OUT/$side-$round.top" >&2
    fi
}

# solo SIDE ROUND: the same work without a crowd: pgbench, one client, SOLO
# calls (2,000) of what the side's workers send, committed the same way
# (bench/run.sh's barrier), on an event of the crowd's shape past its seat
# (the waiting list: the crowd's 99%); the cluster's CPU per call, the
# session's start included.  One line of solo.tsv.
SOLO=${SOLO:-2000}
solo() {
    local side=$1 round=$2 f=$OUT/solo-$1.sql slug c0 c1
    [ "$SOLO" != 0 ] || return 0
    if [ "$side" = eventbox ]; then
        slug=$(new_event flash-solo 1)
        # STMT_REGISTER_ANSWERED (src/db_stmts.c), as the API sends it.
        printf '%s\n' '\set k random(1, 1000000000000000)' "SELECT outcome, position, event_id, event_slug, field, message, CASE WHEN outcome = 'full' THEN NOT EXISTS (SELECT 1 FROM eventbox.public_events p WHERE p.id = r.event_id AND p.waitlist_enabled) END AS no_waitlist FROM eventbox.register_answered('$slug', 'Flash Patron', 'solo-' || :k || '@example.org', NULL, 'api', gen_random_uuid(), NULL, NULL, '7f000001', NULL) r;" >"$f.1"
    else
        "${PSQL[@]}" -c "INSERT INTO bench.events (slug, capacity, waitlist) VALUES ('flash-solo', 1, true)
                         ON CONFLICT (slug) DO NOTHING"
        printf '%s\n' '\set k random(1, 1000000000000000)' "SELECT bench.minimal_register('flash-solo', 'Flash Patron', 'solo-' || :k || '@example.org');" >"$f.1"
    fi
    awk 'NR == 1 { print; print "BEGIN;"; print "SELECT set_config('"'"'synchronous_commit'"'"', '"'"'off'"'"', true);"; next }
         { print } END { print "COMMIT;"; print "SELECT pg_logical_emit_message(true, '"'"'bench'"'"', '"'"''"'"');" }' "$f.1" >"$f"
    snapshot "$OUT/q0" none
    c0=$(awk '$2 ~ /^pg-/ { t += $3 } END { print t }' "$OUT/q0")
    pgbench -n -M prepared -c 1 -t "$SOLO" -f "$f" >"$OUT/solo.out" 2>&1 ||
        { cat "$OUT/solo.out" >&2; exit 1; }
    sleep 0.5                   # its session's end, counted by the postmaster
    snapshot "$OUT/q1" none
    c1=$(awk '$2 ~ /^pg-/ { t += $3 } END { print t }' "$OUT/q1")
    awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v n="$SOLO" -v r="$round" -v s="$side" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
        'BEGIN { printf "%s\t%s\t%.0f\t%s\n", r, s, (b - a) * 1e6 / hz / n, l }' >>"$OUT/solo.tsv"
    tail -n 1 "$OUT/solo.tsv" >&2
}

# A warm-up: each side's sessions plan their statements first.
warm() {
    local save=$N
    N=1000
    run "$1" 0 >/dev/null 2>&1
    N=$save
}
# The previous call's lines are kept beside.
stamp=$(date +%s)
for f in runs solo; do
    if [ -s "$OUT/$f.tsv" ]; then mv "$OUT/$f.tsv" "$OUT/$f.$stamp.tsv"; fi
done
case $SIDES in both) order=(limit eventbox) ;; *) order=("$SIDES") ;; esac
for s in "${order[@]}"; do warm "$s"; done
: >"$OUT/runs.tsv"
: >"$OUT/solo.tsv"
for ((r = 1; r <= ROUNDS; r++)); do
    if (( r % 2 == 0 )); then
        for ((i = ${#order[@]} - 1; i >= 0; i--)); do run "${order[i]}" "$r"; solo "${order[i]}" "$r"; done
    else
        for s in "${order[@]}"; do run "$s" "$r"; solo "$s" "$r"; done
    fi
done

# --- The table: medians over the rounds -----------------------------------------
awk -F'\t' -v sides="${order[*]}" '
function med(key,   n, i, j, a, t) {
    n = split(vals[key], a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n ? a[int((n + 1) / 2)] : ""
}
function range(key,   n, i, a, lo, hi) {
    n = split(vals[key], a, " ")
    if (n < 2) return ""
    lo = hi = a[1]
    for (i = 2; i <= n; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
    return " (" lo "-" hi ")"
}
function add(side, k, v) { vals[side SUBSEP k] = vals[side SUBSEP k] " " v; if (!(k in seen)) { seen[k] = 1; keys[++nk] = k } }
{
    s = $2
    add(s, "req/s", $3); add(s, "p99 ms", sprintf("%.0f", $4 / 1000)); add(s, "errors", $5)
    add(s, "load", $8)
    if ($6 != "") inv[s] = inv[s] " " $6
    for (i = 9; i <= NF; i++) {
        split($i, kv, "="); k = kv[1]
        if (split(kv[2], p, "/") == 3) {
            add(s, "cpu " k, p[1]); tot[s, NR] += p[1]
            if (k != "client") { add(s, "vcsw " k, p[2]); add(s, "nvcsw " k, p[3]) }
        } else add(s, k, kv[2])
    }
    add(s, "cpu total", tot[s, NR])
}
END {
    ns = split(sides, S, " ")
    printf "| per attempt, median of %d rounds (range) |", NR / ns
    for (i = 1; i <= ns; i++) printf " %s |", S[i]
    if (ns == 2) printf " difference |"
    printf "\n|---|"; for (i = 1; i <= ns + (ns == 2); i++) printf "---:|"; printf "\n"
    for (j = 1; j <= nk; j++) {
        k = keys[j]
        label = k
        if (k ~ /^cpu /) label = "CPU µs: " substr(k, 5)
        printf "| %s |", label
        for (i = 1; i <= ns; i++) printf " %s%s |", med(S[i] SUBSEP k), range(S[i] SUBSEP k)
        if (ns == 2) printf " %s |", (med(S[1] SUBSEP k) != "" && med(S[2] SUBSEP k) != "") ? \
            sprintf("%+g", med(S[2] SUBSEP k) - med(S[1] SUBSEP k)) : ""
        printf "\n"
    }
    printf "| confirmed/waiting |"
    for (i = 1; i <= ns; i++) printf "%s |", inv[S[i]]
    printf "\n"
}' "$OUT/runs.tsv"
printf '| the same work alone (pgbench, 1 client, %s calls, committed the same way): PostgreSQL CPU µs per call |' "$SOLO"
for s in "${order[@]}"; do
    awk -F'\t' -v s="$s" '$2 == s { print $3 }' "$OUT/solo.tsv" | sort -n |
        awk -v s="$s" '{ a[NR] = $1 } END { printf " %s %s (%s-%s) |", s, a[int((NR + 1) / 2)], a[1], a[NR] }'
done
echo
echo "(runs: $OUT/runs.tsv, $OUT/solo.tsv; stop the stack: deploy/devstack.sh destroy $VAR)"
