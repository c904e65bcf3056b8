#!/bin/bash
# tests/run.sh: the whole suite, as `make test` and CI run it.
#
# Starts a throwaway stack (PostgreSQL, `eventbox serve` built with
# AddressSanitizer and UndefinedBehaviorSanitizer, nginx) on free ports under
# var/test, runs the unit tests and the integration tests against it, stops
# it, and fails if a sanitizer reported anything.  The last line is the count.
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
export ASAN_OPTIONS="log_path=$ABSVAR/log/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$ABSVAR/log/ubsan:print_stacktrace=1"
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

# SIGTERM (a cancelled CI job) or SIGINT (Ctrl-C, or a CI runner's first
# signal) to this script: stop everything this run started, count the
# interruption as a failure, print the count, exit 130 or 143.  pytest runs
# in a process group of its own (pytest_run), waited for in the background,
# so the trap runs at once; the group (pytest, and the mailers, load clients
# and devstack.sh calls it starts) gets SIGTERM from here, which
# tests/conftest.py turns into pytest's KeyboardInterrupt (fixtures torn
# down, the tests done written to the junit file, counted), and 30 s before
# it is killed.  Only then does the stack stop (a test's teardown may have
# restarted `eventbox serve`), and whatever still carries this run's
# EVENTBOX_TEST_RUN is killed.  A signal that arrives during a foreground
# step (the unit tests, the stack's start) is handled when that step ends.
# tests/interrupt.sh (`make test-interrupt`) checks all this.
pytest_pid=
pytest_stop() {
	local tenths=300
	[ -n "$pytest_pid" ] || return 0
	kill -TERM -- -"$pytest_pid" 2>/dev/null
	while kill -0 -- -"$pytest_pid" 2>/dev/null && (( tenths-- > 0 )); do
		sleep 0.1
	done
	kill -KILL -- -"$pytest_pid" 2>/dev/null
	wait "$pytest_pid"
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
	local rc
	# A second Ctrl-C must not cut this short, nor a reader of our output
	# (tee in .ci/run) that the same signal ended.
	trap '' INT TERM PIPE
	echo "== interrupted by SIG$1: stopping what this run started"
	if [ -n "$pytest_pid" ]; then
		pytest_stop
		rc=$?
		pytest_count "$pytest_name" "$pytest_junit" "$rc"
	fi
	fuzz_kill
	deploy/devstack.sh stop "$VAR" >/dev/null 2>&1
	sweep
	trap - EXIT
	count interrupted "0 passed, 1 failed"
	echo "$passed passed, $failed failed"
	exit $((128 + $(kill -l "$1")))
}
trap 'interrupted INT' INT
trap 'interrupted TERM' TERM

echo "== starting the test stack in $VAR"
if ! deploy/devstack.sh start "$VAR"; then
	echo "the test stack did not start; logs:"
	tail -n 30 "$VAR"/log/*.log 2>/dev/null
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
fi
trap 'fuzz_kill; deploy/devstack.sh stop "$VAR" >/dev/null 2>&1' EXIT
set -a
# shellcheck disable=SC1091
. "$VAR/env"
set +a

pytest_run() {  # pytest_run NAME JUNIT ARGS...: runs and counts
	local rc
	pytest_name=$1 pytest_junit=$2
	shift 2
	rm -f "$pytest_junit"
	# In a process group of its own (job control on for this one command;
	# see interrupted above), waited for so that a signal is handled at once;
	# stdin /dev/null, as a background job's is without job control (a job
	# of its own group reading a terminal would be stopped).
	set -m
	$PY -m pytest -q -p no:cacheprovider --junitxml="$pytest_junit" "$@" </dev/null &
	pytest_pid=$!
	set +m
	wait "$pytest_pid"
	rc=$?
	pytest_pid=
	pytest_count "$pytest_name" "$pytest_junit" "$rc"
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

echo "== integration tests (through nginx, against PostgreSQL; $EVENTBOX_BIN)"
# PYTEST_ARGS picks tests while working on them, e.g. tests/test_api.py -x
# shellcheck disable=SC2086
pytest_run integration "$VAR/junit.xml" ${PYTEST_ARGS:-tests/}

# The binary that is deployed is the release build: the API, bad-input,
# page and concurrency tests run again against it, on the same stack.
if [ -z "${PYTEST_ARGS:-}" ] && [ "$EVENTBOX_BIN" != ./eventbox ]; then
	echo "== the same stack with the release build (./eventbox)"
	deploy/devstack.sh serve-stop "$VAR" >/dev/null 2>&1
	EVENTBOX_BIN=./eventbox deploy/devstack.sh serve-start "$VAR" >/dev/null
	pytest_run "integration, release build" "$VAR/junit-release.xml" \
	    tests/test_api.py tests/test_bad_input.py tests/test_pages.py \
	    tests/test_concurrency.py
fi

echo "== stopping the stack (workers flush their sanitizer reports on exit)"
deploy/devstack.sh stop "$VAR" >/dev/null 2>&1
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

reports=$(ls "$VAR"/log/asan.* "$VAR"/log/ubsan.* 2>/dev/null)
if [ -n "$reports" ]; then
	echo "== sanitizer reports:"
	head -n 60 $reports
	failed=$((failed + 1))
	echo "== sanitizers: 0 passed, 1 failed"
else
	passed=$((passed + 1))
	echo "== sanitizers: 1 passed, 0 failed (no ASan, LSan or UBSan reports)"
fi

if [ -f "$VAR/security-results.md" ]; then
	echo "== bad inputs and faults tried, and what the service answered:" \
	    "$VAR/security-results.md (bench/results/history.md keeps a dated run)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
