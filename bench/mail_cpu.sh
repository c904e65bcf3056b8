#!/bin/bash
# bench/mail_cpu.sh: what one message costs each process while the mailer
# drains a queue: the mailer, the SMTP sink and PostgreSQL, in CPU (user +
# system) per message, and the drain's rate (docs/PERFORMANCE.md, "The
# mailer").
#
#   bench/mail_cpu.sh VARDIR [MESSAGES] [confirmed|waitlisted]
#
# VARDIR is a devstack (deploy/devstack.sh start VARDIR) with its sink and
# no mailer running and nothing pending in its outbox.  It queues MESSAGES
# (5000) registrations on a new event, all confirmed or (with one seat) all
# but the first waiting, as eventbox.register() in one statement; starts
# the stack's mailer (deploy/devstack.sh mailer-start); waits until the
# event's messages are out; reads the processes' CPU from /proc; stops the
# mailer.  PostgreSQL's figure is every process of the cluster alive at the
# end (the mailer's two sessions among them; not this script's psql polls).
# Figures in CPU seconds move with the machine's load: compare runs made
# one after the other.
set -euo pipefail

VAR=${1:?usage: bench/mail_cpu.sh VARDIR [MESSAGES] [confirmed|waitlisted]}
N=${2:-5000}
SHAPE=${3:-waitlisted}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR=$(cd "$VAR" && pwd)
if ! [[ $N =~ ^[1-9][0-9]*$ ]]; then
    echo "MESSAGES must be a whole number" >&2
    exit 1
fi
case $SHAPE in
    confirmed) CAPACITY=2000000000 ;;
    waitlisted) CAPACITY=1 ;;
    *) echo "the shape is confirmed or waitlisted" >&2; exit 1 ;;
esac
# shellcheck disable=SC1091
. "$VAR/env"
[ -n "${EVENTBOX_SINK_PID:-}" ] || { echo "$VAR has no mail sink" >&2; exit 1; }
cmd=$({ tr '\0' ' ' <"/proc/${EVENTBOX_MAILER_PID:-0}/cmdline"; } 2>/dev/null || true)
if [[ $cmd == *"eventbox mailer"* ]]; then
    echo "$VAR runs a mailer: stop it first (deploy/devstack.sh mailer-stop $VAR)" >&2
    exit 1
fi
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)
if [ "$("${PSQL[@]}" -c "SELECT count(*) FROM eventbox.outbox WHERE status = 'pending'")" != 0 ]; then
    echo "$VAR has pending messages: they would be counted" >&2
    exit 1
fi

HZ=$(getconf CLK_TCK)
# utime + stime of a process, or of the postmaster and its children; the
# fields after the command's closing parenthesis (a command may hold spaces).
ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0; }
cluster_ticks() {
    local postmaster
    postmaster=$(head -n 1 "$EVENTBOX_PG_DATA/postmaster.pid")
    # (a process may end between the glob and its read: not an error)
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | sed 's/^\([0-9]*\) (.*) /\1 /' |
        awk -v pm="$postmaster" '$1 == pm || $3 == pm { t += $13 + $14 } END { print t + 0 }'
}

SLUG=mail-cpu-$(date +%s)
"${PSQL[@]}" -c "INSERT INTO eventbox.events (slug, title, capacity, waitlist_enabled, status,
                                             starts_at, ends_at)
                 VALUES ('$SLUG', 'Mail CPU', $CAPACITY, true, 'published',
                         now() + interval '30 days', now() + interval '30 days 1 hour')"
"${PSQL[@]}" -c "SELECT count(*) FROM generate_series(1, $N) g,
                 LATERAL eventbox.register('$SLUG', 'Mail Patron', 'mail-cpu-' || g || '@example.org',
                                           NULL, 'api', NULL, NULL)" >/dev/null
PENDING="SELECT count(*) FROM eventbox.outbox o JOIN eventbox.events e ON e.id = o.event_id
          WHERE e.slug = '$SLUG' AND o.status = 'pending'"

s0=$(ticks "$EVENTBOX_SINK_PID")
p0=$(cluster_ticks)
t0=$(date +%s.%N)
"$ROOT/deploy/devstack.sh" mailer-start "$VAR" >/dev/null
trap '"$ROOT/deploy/devstack.sh" mailer-stop "$VAR" >/dev/null' EXIT
# shellcheck disable=SC1091
. "$VAR/env"
while [ "$("${PSQL[@]}" -c "$PENDING")" != 0 ]; do
    sleep 0.1
done
t1=$(date +%s.%N)
m1=$(ticks "$EVENTBOX_MAILER_PID")
s1=$(ticks "$EVENTBOX_SINK_PID")
p1=$(cluster_ticks)

per() { echo $(( $1 * 1000000 / HZ / N )); }
awk -v n="$N" -v a="$t0" -v b="$t1" -v shape="$SHAPE" \
    'BEGIN { printf "%d %s messages drained in %.1f s: %.0f messages/s\n", n, shape, b - a, n / (b - a) }'
echo "CPU per message: mailer $(per "$m1") µs, sink $(per $((s1 - s0))) µs, PostgreSQL $(per $((p1 - p0))) µs"
