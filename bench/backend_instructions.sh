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
    for ((i = 0; i < n; i++)); do
        printf "SELECT outcome FROM eventbox.register('%s', 'Bench Patron', 'cg-%s-%d@example.org', NULL, 'api', NULL, NULL);\n" \
            "$EVENT" "$RANDOM$RANDOM" "$i"
    done >"$WORK/in.sql"
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

one=$(count 1)
many=$(count $((CALLS + 1)))
echo "register() on $EVENT: $(( (many - one) / CALLS )) instructions per call (callgrind, single-user backend, $CALLS calls)"
