#!/bin/bash
# tests/interrupt.sh: an interrupted tests/run.sh leaves nothing running
# (`make test-interrupt`; .ci/run runs it after `make test`).
#
# Three times: tests/run.sh on the soak (PYTEST_ARGS=tests/test_soak.py), in a
# session of its own with its own EVENTBOX_TEST_VAR, is interrupted once the
# soak has restarted `eventbox serve` and its workers are up:
#   term    SIGTERM to run.sh alone (what cancels a CI job), with the fuzz
#           smoke running in the background, and on two stacks, as make
#           test runs (the soak on the second too: EVENTBOX_TEST_SHARD2);
#   int     SIGINT to run.sh alone (what a CI runner sends first);
#   ctrl-c  SIGINT to its whole process group (Ctrl-C in a terminal).
# Each passes when, within 120 s, run.sh has exited non-zero with a count
# line that counts at least one failure, no process has the var directory
# in its command line, working directory or environment (pytest, its
# mailers and load clients, eventbox serve, nginx, PostgreSQL, the sink,
# the fuzzers), and nothing listens on the stacks' HTTP and mail ports.
# Whatever an interrupted run did leave behind is then stopped here.
# First, .ci/run itself is stopped twice (SIGTERM, SIGINT) around a
# stand-in for make test (ci(), below; under a second).
# The last line is "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
# shellcheck source=tests/count.sh
. tests/count.sh

# Processes whose command line, cwd or environment names $1.
leftovers() {
	MARK=$1 /usr/bin/python3 - <<'PYEOF'
import os
mark = os.environ["MARK"].encode()
for pid in filter(str.isdigit, os.listdir("/proc")):
    if int(pid) == os.getpid():
        continue
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        env = open(f"/proc/{pid}/environ", "rb").read()
        cwd = os.readlink(f"/proc/{pid}/cwd").encode()
    except OSError:
        continue
    if mark in cmd or mark in env or mark in cwd:
        print(pid, cmd.replace(b"\0", b" ").decode(errors="replace")[:150])
PYEOF
}

alive() {  # alive PID: running (a zombie waiting for this script is not)
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

listening() {  # listening PORT: is something accepting on 127.0.0.1:PORT?
	[ -n "$1" ] && (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

one() {  # one NAME SIGNAL TARGET(leader|group) FUZZ_RUNS [SHARD2]
	local name=$1 sig=$2 target=$3 fuzz=$4 shard2=${5:-}
	local var=var/interrupt-$name abs pidf out run leader="" first="" pid=""
	local tenths problems=() ports=() p v
	rm -rf "$var" "$var-2"
	mkdir -p "$var"
	abs=$(cd "$var" && pwd)
	pidf=$abs.pid out=$abs.out
	echo "== interrupt/$name: SIG$sig to run.sh's $target during the soak"
	# A session of its own, SIGINT as a terminal leaves it (not ignored,
	# as it would be for a plain background job of this script).
	EVENTBOX_TEST_VAR=$var PYTEST_ARGS=tests/test_soak.py SOAK_SECONDS=600 \
	    EVENTBOX_TEST_SHARD2=$shard2 \
	    FUZZ_RUNS=$fuzz FUZZ_JOBS=1 /usr/bin/python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
open(sys.argv[1], "w").write(str(os.getpid()))
os.execv("tests/run.sh", ["tests/run.sh"])' "$pidf" >"$out" 2>&1 </dev/null &
	run=$!
	# The soak restarts serve (a new EVENTBOX_SERVE_PID in the env file);
	# wait for that serve's workers.
	tenths=1800
	while (( tenths-- > 0 )); do
		leader=$(cat "$pidf" 2>/dev/null)
		pid=$(sed -n "s/^export EVENTBOX_SERVE_PID='\([0-9]*\)'$/\1/p" "$abs/env" 2>/dev/null)
		if [ -z "$first" ] && grep -q '^== integration tests' "$out"; then
			first=$pid
		fi
		[ -n "$first" ] && [ -n "$pid" ] && [ "$pid" != "$first" ] &&
		    [ -n "$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)" ] && break
		alive "$run" || break
		sleep 0.1
	done
	for v in "$abs" "$abs-2"; do
		ports+=($(sed -n "s/^export EVENTBOX_\(HTTP\|SINK\)_PORT='\([0-9]*\)'$/\2/p" "$v/env" 2>/dev/null))
	done
	[ -z "$shard2" ] || [ ${#ports[@]} -eq 4 ] ||
	    problems+=("not two stacks: ports ${ports[*]}")
	if ! alive "$run" || (( tenths < 0 )); then
		problems+=("the soak's restarted eventbox serve never came up")
	else
		sleep 2         # the soak's traffic under way
		if [ "$target" = group ]; then
			kill "-$sig" -- "-$leader"
		else
			kill "-$sig" "$leader"
		fi
		tenths=1200
		while alive "$run" && (( tenths-- > 0 )); do
			sleep 0.1
		done
		if alive "$run"; then
			problems+=("run.sh still runs 120 s after SIG$sig")
		elif wait "$run"; then
			problems+=("run.sh exited 0")
		fi
		if ! tail -n 1 "$out" | grep -qE '^[0-9]+ passed, [1-9][0-9]* failed$'; then
			problems+=("its last line is not a count with a failure: $(tail -n 1 "$out")")
		fi
		p=$(leftovers "$abs")
		[ -z "$p" ] || problems+=("processes left running:"$'\n'"$p")
		for p in "${ports[@]}"; do
			listening "$p" && problems+=("port $p (HTTP or mail sink) still taken")
		done
	fi
	echo "-- last lines of run.sh's output:"
	tail -n 8 "$out"
	# Clean up after a run that did not: stop the stack, kill the rest.
	[ -n "$leader" ] && kill -KILL -- "-$leader" 2>/dev/null
	deploy/devstack.sh stop "$var" >/dev/null 2>&1
	deploy/devstack.sh stop "$var-2" >/dev/null 2>&1
	for p in $(leftovers "$abs" | cut -d' ' -f1); do
		kill -KILL "$p" 2>/dev/null
	done
	wait
	if [ ${#problems[@]} -eq 0 ]; then
		count "interrupt/$name" "1 passed, 0 failed"
		rm -rf "$var" "$var-2" "$pidf" "$out"
	else
		printf '   %s\n' "${problems[@]}"
		count "interrupt/$name" "0 passed, 1 failed"
	fi
}

# .ci/run itself, signalled alone (a cancelled CI job), in a scratch copy
# whose make targets are a stand-in that stops as tests/run.sh does (its own
# count line, then exit 143): .ci/run must pass the signal on at once,
# count the stand-in's line, start no later target, end non-zero with a
# count of one failure more, and leave nothing running.
ci() {  # ci SIGNAL
	local sig=$1 dir out run tenths problems=()
	dir=$(mktemp -d) out=$dir/out
	echo "== interrupt/ci-$sig: SIG$sig to .ci/run during make test"
	mkdir "$dir/.ci" && cp .ci/run "$dir/.ci/run"
	cat >"$dir/stand-in" <<'SH'
#!/bin/bash
trap 'kill "$s"; echo "$1 stopped"; echo "3 passed, 1 failed"; exit 143' INT TERM
echo "$1 started"; sleep 300 >/dev/null & s=$!; wait "$s"; echo "9 passed, 0 failed"
SH
	chmod +x "$dir/stand-in"
	printf '%s:\n\t./stand-in %s\n' test test test-interrupt test-interrupt \
	    rehearse rehearse test-fresh test-fresh >"$dir/Makefile"
	(cd "$dir" && exec /usr/bin/python3 -c '
import os, signal
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execv("/bin/bash", ["bash", ".ci/run"])') >"$out" 2>&1 </dev/null &
	run=$!
	tenths=100
	until grep -q '^test started' "$out" || (( tenths-- <= 0 )); do sleep 0.1; done
	kill "-$sig" "$run"
	tenths=100
	while alive "$run" && (( tenths-- > 0 )); do sleep 0.1; done
	if alive "$run"; then
		problems+=(".ci/run still runs 10 s after SIG$sig")
	elif wait "$run"; then
		problems+=(".ci/run exited 0")
	fi
	grep -q '^test stopped' "$out" || problems+=("make test was not stopped")
	grep -q 'test-interrupt started' "$out" && problems+=("a later target started")
	tail -n 1 "$out" | grep -qx '3 passed, 2 failed' ||
	    problems+=("its last line is not 3 passed, 2 failed: $(tail -n 1 "$out")")
	p=$(leftovers "$dir")
	[ -z "$p" ] || problems+=("processes left running:"$'\n'"$p")
	kill -KILL -- "-$run" 2>/dev/null
	for p in $(leftovers "$dir" | cut -d' ' -f1); do kill -KILL "$p" 2>/dev/null; done
	wait
	if [ ${#problems[@]} -eq 0 ]; then
		count "interrupt/ci-$sig" "1 passed, 0 failed"
	else
		cat "$out"
		printf '   %s\n' "${problems[@]}"
		count "interrupt/ci-$sig" "0 passed, 1 failed"
	fi
	rm -rf "$dir"
}

ci TERM
ci INT
one term TERM leader 100000000 tests/test_soak.py
one int INT leader 0
one ctrl-c INT group 0
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
