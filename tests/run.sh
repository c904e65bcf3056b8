#!/bin/bash
# tests/run.sh: the whole suite, as `make test` and CI run it.
#
# Starts two throwaway stacks (PostgreSQL, `eventbox serve` built with
# AddressSanitizer and UndefinedBehaviorSanitizer, nginx) on free ports under
# var/test and var/test-2, runs the unit tests, and the integration tests
# against both, half on each (SHARD2 below), stops them, and fails if a
# sanitizer reported anything.  The last line is the count.
set -uo pipefail
cd "$(dirname "$0")/.."

VAR=${EVENTBOX_TEST_VAR:-var/test}
PY=/usr/bin/python3          # Debian's, with pytest and psycopg2

export EVENTBOX_BIN=${EVENTBOX_BIN:-./eventbox-asan}
export EVENTBOX_POST_RATE=${EVENTBOX_POST_RATE:-100000r/s}
export EVENTBOX_CONN_LIMIT=${EVENTBOX_CONN_LIMIT:-65535}   # load tests: 200 clients, one address
export EVENTBOX_METRICS_TOKEN=${EVENTBOX_METRICS_TOKEN:-test-metrics-$$}
export EVENTBOX_CORS_ORIGINS=https://library.example.org
# The LibCal API shows these (tests/test_libcal_oauth.py)
export EVENTBOX_CALENDAR_NAME="Consortium Events" EVENTBOX_CAMPUS="Main Library"
export EVENTBOX_WORKERS=${EVENTBOX_WORKERS:-4}
export EVENTBOX_LOCALEDIR=${EVENTBOX_LOCALEDIR:-$PWD/build/locale}   # make locale
unset EVENTBOX_HTTP_PORT     # free ports, never the make-run one

rm -rf "$VAR"
mkdir -p "$VAR/log"
ABSVAR=$(cd "$VAR" && pwd)
sanitizers_log_to() {  # sanitizers_log_to VARDIR: their reports in VARDIR/log
	local abs
	abs=$(cd "$1" && pwd)
	export ASAN_OPTIONS="log_path=$abs/log/asan:detect_leaks=1"
	export UBSAN_OPTIONS="log_path=$abs/log/ubsan:print_stacktrace=1"
}
sanitizers_log_to "$VAR"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
# Every process this run starts inherits this mark (see interrupted below).
export EVENTBOX_TEST_RUN="$ABSVAR:$$"

passed=0
failed=0
# shellcheck source=tests/count.sh
. tests/count.sh

echo "== unit tests"
run_counted unit build/unit
run_counted mail-unit build/mail-unit   # the emails against tests/golden/mail-*.eml
run_counted i18n-unit build/i18n-unit   # .mo reader, plurals, Accept-Language, dates
echo "== translations (msgfmt --check, po/*.po)"
for po in po/*.po; do
	if msgfmt --check --strict -o /dev/null "$po"; then
		count "msgfmt $po" "1 passed, 0 failed"
	else
		count "msgfmt $po" "0 passed, 1 failed"
	fi
done

echo "== hardening flags of the release build (tests/hardening.sh)"
out=$(tests/hardening.sh ./eventbox)
echo "$out"
count hardening "$(tail -1 <<<"$out")"

# Fuzz smoke runs: each fuzzer over its seeds plus FUZZ_RUNS mutations
# (`make fuzz` runs them long).  FUZZ_RUNS=0 skips them (make soak).  They
# share nothing with the stack (libpq is pointed at no database), so they
# run in the background, at the lowest priority, while the stack starts and
# the integration tests run: they take the CPU those leave idle (waits on
# the mailer, on timeouts, on one request at a time), and are counted at
# the end.  In their own process group, stopped with the stack on an exit.
fuzz_pid=
if [ "${FUZZ_RUNS:-100000}" != 0 ]; then
	echo "== fuzzers (${FUZZ_RUNS:-100000} runs each): in the background, counted at the end"
	FUZZ_RUNS="${FUZZ_RUNS:-100000}" setsid nice -n 19 tests/fuzz/run.sh smoke \
	    >"$VAR/fuzz.out" 2>"$VAR/fuzz.err" </dev/null &
	fuzz_pid=$!
fi
fuzz_kill() {
	[ -n "$fuzz_pid" ] && kill -- -"$fuzz_pid" 2>/dev/null
	fuzz_pid=
}
trap fuzz_kill EXIT

# The integration tests run on two stacks at once, each with its own
# PostgreSQL, `eventbox serve`, mailer, sink and nginx (VAR and VAR-2), one
# share of the test files each: most tests wait (for the mailer, a timeout,
# one request at a time), and two shares keep both cores busy.  A file
# never shares a stack with another running at the same time, so a test
# that stops PostgreSQL, restarts `eventbox serve` or parks the mailer
# disturbs no other.  SHARD2 is the second stack's share (about half of the
# time; a new file goes to the first); EVENTBOX_TEST_SHARD2 sets it, empty
# for one stack.  With PYTEST_ARGS (tests picked by hand) there is one
# stack unless EVENTBOX_TEST_SHARD2 names files for the second.
SHARD2_FILES="tests/test_pages_browser.py tests/test_webhooks.py
    tests/test_upgrade_inflight.py tests/test_big_data.py tests/test_upgrade.py
    tests/test_purge.py tests/test_interleavings.py tests/test_admin.py
    tests/test_holds.py tests/test_sql_speed.py tests/test_ops_sql.py
    tests/test_mail_readers.py"
if [ -z "${PYTEST_ARGS:-}" ]; then
	SHARD2=${EVENTBOX_TEST_SHARD2-$SHARD2_FILES}
else
	SHARD2=${EVENTBOX_TEST_SHARD2:-}
fi
VAR2=$VAR-2
STACKS=("$VAR")
[ -n "$SHARD2" ] && STACKS+=("$VAR2")
rm -rf "$VAR2"
[ -n "$SHARD2" ] && mkdir -p "$VAR2/log"

stacks_stop() {
	local v
	for v in "${STACKS[@]}"; do
		deploy/devstack.sh stop "$v" >/dev/null 2>&1
	done
}

# SIGTERM (a cancelled CI job) or SIGINT (Ctrl-C, or a CI runner's first
# signal) to this script: stop everything this run started, count the
# interruption as a failure, print the count, exit 130 or 143.  Each pytest
# runs in a process group of its own (pytest_start), waited for in the
# background, so the trap runs at once; each group (pytest, and the
# mailers, load clients and devstack.sh calls it starts) gets SIGTERM from
# here, which tests/conftest.py turns into pytest's KeyboardInterrupt
# (fixtures torn down, the tests done written to the junit file, counted),
# and 30 s before it is killed.  Only then do the stacks stop (a test's
# teardown may have restarted `eventbox serve`), and whatever still carries
# this run's EVENTBOX_TEST_RUN is killed.  A signal that arrives during a
# foreground step (the unit tests, a stack's start) is handled when that
# step ends.  tests/interrupt.sh (`make test-interrupt`) checks all this.
declare -A job_name=() job_junit=() job_out=()   # by pytest's pid
pytest_stop() {  # every pytest still running
	local tenths=300 pid
	for pid in "${!job_name[@]}"; do
		kill -TERM -- -"$pid" 2>/dev/null
	done
	for pid in "${!job_name[@]}"; do
		while kill -0 -- -"$pid" 2>/dev/null && (( tenths-- > 0 )); do
			sleep 0.1
		done
		kill -KILL -- -"$pid" 2>/dev/null
		wait "$pid"
		pytest_done "$pid" $?
	done
}
sweep() {  # kill what is left with this run's mark
	local f p pids=()
	for f in /proc/[0-9]*/environ; do
		p=${f//[!0-9]/}
		[ "$p" != $$ ] && grep -qzxF "EVENTBOX_TEST_RUN=$EVENTBOX_TEST_RUN" "$f" 2>/dev/null &&
		    pids+=("$p")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	echo "== killing processes left behind: ${pids[*]}"
	kill -KILL "${pids[@]}" 2>/dev/null
}
interrupted() {  # interrupted SIGNAL
	# A second Ctrl-C must not cut this short, nor a reader of our output
	# (tee in .ci/run) that the same signal ended.
	trap '' INT TERM PIPE
	echo "== interrupted by SIG$1: stopping what this run started"
	pytest_stop
	fuzz_kill
	stacks_stop
	sweep
	trap - EXIT
	count interrupted "0 passed, 1 failed"
	echo "$passed passed, $failed failed"
	exit $((128 + $(kill -l "$1")))
}
trap 'interrupted INT' INT
trap 'interrupted TERM' TERM

for v in "${STACKS[@]}"; do
	echo "== starting a test stack in $v"
	if ! (sanitizers_log_to "$v" && deploy/devstack.sh start "$v"); then
		echo "the test stack did not start; logs:"
		tail -n 30 "$v"/log/*.log 2>/dev/null
		stacks_stop
		echo "$passed passed, $((failed + 1)) failed"
		exit 1
	fi
done
trap 'fuzz_kill; stacks_stop' EXIT
set -a
# shellcheck disable=SC1091
. "$VAR/env"
set +a

# pytest_start NAME JUNIT VARDIR OUTPUT ARGS...: pytest on the stack in
# VARDIR, in a process group of its own (job control on for this one
# command; see interrupted above), its output to OUTPUT (- for ours);
# stdin /dev/null, as a background job's is without job control (a job
# of its own group reading a terminal would be stopped).
pytest_start() {
	local name=$1 junit=$2 vardir=$3 out=$4
	shift 4
	rm -f "$junit"
	[ "$out" = - ] || : >"$out"
	set -m
	(
		set -a
		# shellcheck disable=SC1091
		. "$vardir/env"
		set +a
		sanitizers_log_to "$vardir"
		[ "$out" = - ] || exec >"$out" 2>&1
		exec $PY -m pytest -q -p no:cacheprovider --junitxml="$junit" "$@"
	) </dev/null &
	job_name[$!]=$name job_junit[$!]=$junit job_out[$!]=$out
	set +m
}

pytest_done() {  # pytest_done PID EXIT-STATUS: shows its output, counts it
	local pid=$1 rc=$2
	if [ "${job_out[$pid]}" != - ]; then
		echo "== ${job_name[$pid]}: pytest's output"
		cat "${job_out[$pid]}"
	fi
	pytest_count "${job_name[$pid]}" "${job_junit[$pid]}" "$rc"
	unset "job_name[$pid]" "job_junit[$pid]" "job_out[$pid]"
}

pytest_count() {  # pytest_count NAME JUNIT EXIT-STATUS
	local name=$1 junit=$2 rc=$3 summary
	summary=$($PY - "$junit" 2>/dev/null <<'PYEOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{t - f - sk} passed, {f} failed")
PYEOF
)
	# pytest's own status: 0 all passed, 1 some failed (counted above);
	# anything else (interrupted, an internal error, a bad argument, no
	# test collected) is one failure more, whatever the file says.
	if [ "$rc" -gt 1 ]; then
		echo "== $name: pytest exited with status $rc"
		summary="${summary:-0 passed, 0 failed}"
		summary="${summary%%,*}, $(( $(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$summary") + 1 )) failed"
	fi
	count "$name" "${summary:-0 passed, 1 failed}"
}

# PYTEST_ARGS picks tests while working on them, e.g. tests/test_api.py -x;
# without it the first stack runs all that is not the second's.
ignore=()
if [ -z "${PYTEST_ARGS:-}" ]; then
	for f in $SHARD2; do
		ignore+=("--ignore=$f")
	done
fi
if [ -n "$SHARD2" ]; then
	echo "== integration tests on two stacks (through nginx, against PostgreSQL; $EVENTBOX_BIN)"
	echo "   $VAR2: $(echo $SHARD2)"
	echo "   $VAR: the rest (its output first, the other's when it ends)"
	# shellcheck disable=SC2086
	pytest_start "integration, $VAR2" "$VAR2/junit.xml" "$VAR2" "$VAR2/pytest.out" $SHARD2
	second=$!
	# shellcheck disable=SC2086
	pytest_start "integration, $VAR" "$VAR/junit.xml" "$VAR" - \
	    "${ignore[@]}" ${PYTEST_ARGS:-tests/}
else
	echo "== integration tests (through nginx, against PostgreSQL; $EVENTBOX_BIN)"
	# shellcheck disable=SC2086
	pytest_start integration "$VAR/junit.xml" "$VAR" - ${PYTEST_ARGS:-tests/}
	second=$!
fi

# The binary that is deployed is the release build: the API, bad-input,
# page and concurrency tests run again against it, on the last stack once
# its share is done.
release=
if [ -z "${PYTEST_ARGS:-}" ] && [ "$EVENTBOX_BIN" != ./eventbox ]; then
	release=${STACKS[-1]}
fi
while [ ${#job_name[@]} -gt 0 ]; do
	pid=
	wait -n -p pid "${!job_name[@]}"
	rc=$?
	[ -n "$pid" ] || continue
	pytest_done "$pid" "$rc"
	if [ "$pid" = "$second" ] && [ -n "$release" ]; then
		echo "== the release build (./eventbox) on $release"
		deploy/devstack.sh serve-stop "$release" >/dev/null 2>&1
		(sanitizers_log_to "$release" &&
		 EVENTBOX_BIN=./eventbox deploy/devstack.sh serve-start "$release" >/dev/null)
		out=-
		[ ${#job_name[@]} -gt 0 ] && out=$release/pytest-release.out
		pytest_start "integration, release build" "$release/junit-release.xml" \
		    "$release" "$out" \
		    tests/test_api.py tests/test_bad_input.py tests/test_pages.py \
		    tests/test_concurrency.py
		release=
	fi
done

echo "== stopping the stacks (workers flush their sanitizer reports on exit)"
stacks_stop
trap fuzz_kill EXIT

if [ -n "$fuzz_pid" ]; then
	echo "== fuzzers (${FUZZ_RUNS:-100000} runs each; started before the stack)"
	# Whatever is left of them is all there is to wait for now: back to
	# the priority of the rest of the suite (where that may be raised).
	renice -n 0 -g "$fuzz_pid" >/dev/null 2>&1
	wait "$fuzz_pid"
	rc=$?
	fuzz_pid=
	cat "$VAR/fuzz.err" >&2
	count_output fuzz "$rc" "$(cat "$VAR/fuzz.out")"
fi
trap - EXIT

reports=$(ls "$VAR"/log/asan.* "$VAR"/log/ubsan.* "$VAR2"/log/asan.* \
    "$VAR2"/log/ubsan.* 2>/dev/null)
if [ -n "$reports" ]; then
	echo "== sanitizer reports:"
	head -n 60 $reports
	failed=$((failed + 1))
	echo "== sanitizers: 0 passed, 1 failed"
else
	passed=$((passed + 1))
	echo "== sanitizers: 1 passed, 0 failed (no ASan, LSan or UBSan reports)"
fi

# One table of what the tests tried, the second stack's rows after the first's.
if [ -f "$VAR2/security-results.md" ]; then
	if [ -f "$VAR/security-results.md" ]; then
		tail -n +3 "$VAR2/security-results.md" >>"$VAR/security-results.md"
	else
		cp "$VAR2/security-results.md" "$VAR/security-results.md"
	fi
fi
if [ -f "$VAR/security-results.md" ]; then
	echo "== bad inputs and faults tried, and what the service answered:" \
	    "$VAR/security-results.md (bench/results/history.md keeps a dated run)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
