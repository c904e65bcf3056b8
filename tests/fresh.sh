#!/bin/bash
# tests/fresh.sh: the README's first command on a fresh Debian 12
# (`make test-fresh`; .ci/run runs it last).
#
# debootstrap puts a bare Debian 12 (bookworm, with make and git, nothing
# else of eventbox's) in var/fresh/root, this tree's HEAD is cloned into it
# as /root/eventbox, and `make run` runs there under chroot, as root, the
# way the README says, on a free port. It passes when:
#   - make run installs what is missing and serves the sample event;
#   - it installed nothing only the tests need (Chromium, Node.js, clang);
#   - a registration through the API is confirmed, its email lands in
#     var/mail/ with a cancellation link, and psql (make psql's own
#     command) counts it;
#   - Ctrl-C (SIGINT to its process group, as a terminal sends it) stops
#     everything it started: no process is left in the chroot and the port
#     is free;
#   - make run again comes up on the same var/ and stops the same way.
# Everything runs in a mount namespace of its own (unshare), so the
# chroot's /proc, /dev and /sys go away with it whatever happens, and
# var/fresh is deleted only when nothing is mounted under it.
# Needs root and the network (Debian's mirror); about five minutes.
# The last line is "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
D=$ROOT/var/fresh/root
LOG=$ROOT/var/fresh/log

. "$ROOT/tests/treelib.sh"
# Processes running in the chroot; anything mounted under var/fresh (here,
# outside the namespace).
in_chroot() { procs_in "$D"; }
mounted() { mounted_under "$ROOT/var/fresh"; }

if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" -eq 0 ] || { echo "tests/fresh.sh: needs root"; echo "0 passed, 1 failed"; exit 1; }
	if mounted || [ -n "$(in_chroot)" ]; then
		echo "tests/fresh.sh: something is mounted or runs under var/fresh; not touching it"
		echo "0 passed, 1 failed"
		exit 1
	fi
	rm -rf --one-file-system "$ROOT/var/fresh"
	mkdir -p "$LOG"
	command -v debootstrap >/dev/null ||
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
	unshare --mount --propagation private -- "$ROOT/tests/fresh.sh" --inside
	rc=$?
	# Kept after a failure (var/fresh/log); deleted only when nothing runs
	# in it and nothing is mounted under it.
	if [ "$rc" -eq 0 ] && [ -z "$(in_chroot)" ] && ! mounted; then
		rm -rf --one-file-system "$ROOT/var/fresh"
	fi
	exit "$rc"
fi

passed=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one line, counted
	if "${@:2}"; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1"
	fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# However this script ends: what still runs in the chroot is stopped, as
# Ctrl-C would, then killed; the mounts go with the namespace.
MAKE_PID=""
stop_left() {
	local tenths=600 p
	if [ -n "$MAKE_PID" ] && kill -0 "$MAKE_PID" 2>/dev/null; then
		kill -INT -- "-$MAKE_PID" 2>/dev/null
		while kill -0 "$MAKE_PID" 2>/dev/null && (( tenths-- > 0 )); do sleep 0.1; done
	fi
	for p in $(in_chroot | cut -d' ' -f1); do kill -KILL "$p" 2>/dev/null; done
}
trap stop_left EXIT

in_root() {  # in_root COMMAND: a login-like root shell in the chroot
	chroot "$D" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    /bin/bash -c "$1"
}


listening() { (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

debootstrap_() {
	debootstrap --include=make,git,ca-certificates bookworm "$D" \
	    http://deb.debian.org/debian >"$LOG/debootstrap" 2>&1
}
echo "== a fresh Debian 12 in var/fresh/root (debootstrap)"
check "debootstrap bookworm" debootstrap_ || finish
# The machine's own settings, as a new machine of this place has them: its
# mirrors (security updates), its resolver, the CAs it trusts.
[ -f /etc/apt/sources.list.d/debian.sources ] &&
    cp /etc/apt/sources.list.d/debian.sources "$D/etc/apt/sources.list.d/" &&
    : >"$D/etc/apt/sources.list"
cp /etc/resolv.conf "$D/etc/resolv.conf"
cp /usr/local/share/ca-certificates/*.crt "$D/usr/local/share/ca-certificates/" 2>/dev/null &&
    in_root update-ca-certificates >/dev/null 2>&1
mount --bind /proc "$D/proc" && mount --bind /sys "$D/sys" &&
    mount --bind /dev "$D/dev" && mount --bind /dev/pts "$D/dev/pts" &&
    mount -t tmpfs tmpfs "$D/dev/shm" || { check "mount /proc /sys /dev" false; finish; }
git clone -q "$ROOT" "$D/root/eventbox"
bare() { in_root '! command -v psql && ! command -v nginx && ! command -v gcc && ! command -v python3' >/dev/null; }
check "nothing of eventbox's is there yet" bare

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT

# start_run OUT: `make run` in the clone, in a session of its own with
# SIGINT as a terminal leaves it (a background job of this script would
# ignore it); waits up to MINUTES for "eventbox is running".
start_run() {
	local out=$1 minutes=$2 tenths
	/usr/bin/python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execv("/usr/sbin/chroot", ["chroot", sys.argv[1], "/usr/bin/env", "-i", "HOME=/root",
         "TERM=dumb", "LANG=C.UTF-8", "EVENTBOX_HTTP_PORT=" + sys.argv[2],
         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
         "/bin/bash", "-c", "cd /root/eventbox && exec make run"])' "$D" "$PORT" >"$out" 2>&1 </dev/null &
	MAKE_PID=$!
	tenths=$((minutes * 600))
	while (( tenths-- > 0 )); do
		grep -q '^eventbox is running' "$out" && return 0
		kill -0 "$MAKE_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$out"
	return 1
}

# ctrl_c: SIGINT to make run's process group; make and everything in the
# chroot gone within 60 s, the port free.
ctrl_c() {
	local tenths=600 left
	kill -INT -- "-$MAKE_PID"
	while kill -0 "$MAKE_PID" 2>/dev/null && (( tenths-- > 0 )); do sleep 0.1; done
	kill -0 "$MAKE_PID" 2>/dev/null && { echo "make run still runs 60 s after Ctrl-C"; return 1; }
	wait "$MAKE_PID"
	sleep 1
	left=$(in_chroot)
	[ -z "$left" ] || { echo "left running:"; echo "$left"; return 1; }
	! listening "$PORT" || { echo "port $PORT still taken"; return 1; }
}

echo "== make run, the first time (installs, builds, starts)"
check "make run serves within 20 minutes" start_run "$LOG/run1" 20 || finish

test_only() { in_root 'dpkg-query -W -f="\${Status} \${Package}\n" chromium nodejs clang 2>/dev/null' | grep -c ' installed '; }
check "it installed nothing only the tests need (chromium, nodejs, clang)" \
    test "$(test_only)" -eq 0

page() {
	curl -sf -o "$LOG/page.html" "$URL/events/minimizing-social-media" &&
	    grep -q 'Minimizing Social Media' "$LOG/page.html"
}
check "the sample event's page" page

register() {
	local code
	code=$(curl -s -o "$LOG/reg.json" -w '%{http_code}' -X POST \
	    "$URL/api/v1/events/minimizing-social-media/registrations" \
	    -H 'Content-Type: application/json' \
	    -d '{"name": "Ann Patron", "email": "ann@library.example.org"}')
	[ "$code" = 201 ] && grep -q '"status":"confirmed"' "$LOG/reg.json"
}
check "a registration through the API is confirmed" register

mail_() {
	local tenths=600 f
	while (( tenths-- > 0 )); do
		f=$(grep -l 'ann@library.example.org' "$D"/root/eventbox/var/mail/*.eml 2>/dev/null | head -1)
		[ -n "$f" ] && grep -q "/cancel/" "$f" && return 0
		sleep 0.1
	done
	return 1
}
check "its email lands in var/mail/ with a cancellation link" mail_

counted() {
	test "$(in_root 'cd /root/eventbox && deploy/devstack.sh psql -tAc "SELECT count(*) FROM eventbox.registrations"')" = 1
}
check "make psql's prompt counts it" counted

check "Ctrl-C stops everything make run started" ctrl_c

echo "== make run again on the same var/"
if check "make run serves again within 3 minutes" start_run "$LOG/run2" 3; then
	check "the registration is still there" counted
	check "Ctrl-C stops it again" ctrl_c
fi
finish
