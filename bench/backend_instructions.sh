#!/bin/bash
# bench/backend_instructions.sh: how many instructions one register() call
# costs PostgreSQL, counted by callgrind in a single-user backend, so the
# figure does not move with the machine's load (docs/PERFORMANCE.md, "The
# registration's commit path").
#
#   bench/backend_instructions.sh VARDIR EVENT [CALLS]
#
# VARDIR is a devstack (deploy/devstack.sh start VARDIR, migrated), whose
# stack this stops first; EVENT an event of it with room for CALLS (200)
# more registrations.  Each call is its own statement and transaction, as
# the service's are (synchronous_commit off: no flush is counted).  One run
# of 1 call and one of CALLS + 1; the difference over CALLS is the figure,
# so the backend's start and first-call caches drop out.
#
# With SERVICE=1 it counts the statement the service sends instead
# (register_answered(), which adds the questions and the per-network
# ceiling); with CALL_SQL, that statement (a printf format: the event's
# slug, a random number, the call's number), after PREPARE_SQL when set (a
# PREPARE for CALL_SQL to EXECUTE, as the service runs its statements).
# With MINIMAL=1 it counts the
# baseline, bench/minimal.sql's
# minimal_register() on its own event EVENT (both loaded here when missing,
# into schema bench, as `make bench` loads them).
set -euo pipefail

VAR=${1:?usage: bench/backend_instructions.sh VARDIR EVENT [CALLS]}
EVENT=${2:?usage: bench/backend_instructions.sh VARDIR EVENT [CALLS]}
CALLS=${3:-200}
VAR=$(cd "$VAR" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
[[ $EVENT =~ ^[a-z0-9-]+$ ]] || { echo "EVENT must be a slug" >&2; exit 1; }
PG_BIN=${EVENTBOX_PG_BIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
PG_DATA=$VAR/pg

"$ROOT/deploy/devstack.sh" stop "$VAR" >/dev/null

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK"

# Total instructions of one single-user backend running N calls.
count() {
    local n=$1 i
    echo "${PREPARE_SQL:-}" >"$WORK/in.sql"
    for ((i = 0; i < n; i++)); do
        # shellcheck disable=SC2059
        printf "$CALL\n" "$EVENT" "$RANDOM$RANDOM" "$i"
    done >>"$WORK/in.sql"
    rm -f "$WORK"/cg.out.*
    as_pg valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out.%p" \
        "$PG_BIN/postgres" --single -D "$PG_DATA" -c synchronous_commit=off eventbox \
        <"$WORK/in.sql" >"$WORK/out.txt" 2>"$WORK/err.txt" \
        || { cat "$WORK/err.txt" >&2; exit 1; }
    if grep -q ERROR "$WORK/out.txt" "$WORK/err.txt"; then
        grep ERROR "$WORK/out.txt" "$WORK/err.txt" | head -3 >&2
        exit 1
    fi
    callgrind_annotate "$WORK"/cg.out.* 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}

CALL="SELECT outcome FROM eventbox.register('%s', 'Bench Patron', 'cg-%s-%d@example.org', NULL, 'api', NULL, NULL);"
if [ "${SERVICE:-0}" = 1 ]; then
    # The statement the service sends (STMT_REGISTER_ANSWERED, src/db_stmts.c)
    # for an API registration without answers, from a network.  The token is
    # made in the database, as for register() above (the worker makes its own).
    CALL="SELECT outcome FROM eventbox.register_answered('%s', 'Bench Patron', 'cg-%s-%d@example.org', NULL, 'api', NULL, NULL, NULL, '192.0.2.1', 'en');"
fi
if [ -n "${CALL_SQL:-}" ]; then
    # Any statement: printf's %s (EVENT), %s (a random number), %d (the call)
    CALL=$CALL_SQL
fi
if [ "${MINIMAL:-0}" = 1 ]; then
    CALL="SELECT bench.minimal_register('%s', 'Bench Patron', 'cg-%s-%d@example.org');"
    {
        echo "DO \$\$ BEGIN IF to_regnamespace('bench') IS NULL THEN"
        echo "EXECUTE pg_read_file('$ROOT/bench/minimal.sql'); END IF; END \$\$;"
        echo "INSERT INTO bench.events (slug, capacity) VALUES ('$EVENT', 2000000000) ON CONFLICT DO NOTHING;"
    } >"$WORK/setup.sql"
    as_pg "$PG_BIN/postgres" --single -j -D "$PG_DATA" eventbox <"$WORK/setup.sql" >"$WORK/out.txt" 2>&1
    if grep -q ERROR "$WORK/out.txt"; then grep ERROR "$WORK/out.txt" >&2; exit 1; fi
fi

one=$(count 1)
many=$(count $((CALLS + 1)))
what="register()"
[ "${SERVICE:-0}" = 1 ] && what="register_answered() (the service's statement)"
[ "${MINIMAL:-0}" = 1 ] && what="bench.minimal_register()"
[ -n "${CALL_SQL:-}" ] && what="CALL_SQL"
echo "$what on $EVENT: $(( (many - one) / CALLS )) instructions per call (callgrind, single-user backend, $CALLS calls)"
