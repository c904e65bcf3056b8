#!/bin/bash
# tests/fuzz/run.sh: run every fuzzer built in build/fuzz/.
#
#   tests/fuzz/run.sh smoke   FUZZ_RUNS inputs each (default 100000), from the
#                             committed seeds; what `make test` runs
#   tests/fuzz/run.sh long    FUZZ_SECONDS each (default 300); `make fuzz`
#
# Seeds are read from tests/fuzz/corpus/NAME/ and never written: new inputs
# go to a scratch directory (smoke) or build/fuzz/corpus/NAME/ (long, kept
# between runs).  A crash, leak, timeout or sanitizer report leaves its
# reproducer in build/fuzz/artifacts/ and fails the target; rerun it with
# build/fuzz/fuzz_NAME build/fuzz/artifacts/FILE.  FUZZ_JOBS targets run at
# once (default: one per CPU).  The last line is "N passed, M failed" (one
# per target).
set -uo pipefail
cd "$(dirname "$0")/../.."

mode=${1:-smoke}
runs=${FUZZ_RUNS:-100000}
seconds=${FUZZ_SECONDS:-300}
passed=0
failed=0
mkdir -p build/fuzz/artifacts build/fuzz/log
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The fuzzers link the whole service; keep libpq from finding a database.
export PGHOST=/nonexistent PGCONNECT_TIMEOUT=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# One target: its line ("ok ..." or "FAIL ...") in $scratch/NAME.out and,
# when it failed, a file $scratch/NAME.failed.
run_one() {
	local name=$1 bin=build/fuzz/fuzz_$1 seeds=tests/fuzz/corpus/$1
	local log=build/fuzz/log/$1.log out=$scratch/$1.out work limit rc execs cov start
	if [ ! -x "$bin" ]; then
		echo "FAIL $name: $bin was not built (make fuzzers)" >"$out"
		: >"$scratch/$name.failed"
		return
	fi
	if [ ! -d "$seeds" ]; then
		echo "FAIL $name: no seed corpus in $seeds" >"$out"
		: >"$scratch/$name.failed"
		return
	fi
	if [ "$mode" = long ]; then
		work=build/fuzz/corpus/$name
		limit=-max_total_time="$seconds"
	else
		work=$scratch/$name
		limit=-runs="$runs"
	fi
	mkdir -p "$work"
	start=$SECONDS
	"$bin" "$work" "$seeds" "$limit" -max_len=4096 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/artifacts/"$name"- >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ "$rc" -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
		echo "ok   $name: ${execs:-?} inputs, $cov, $((SECONDS - start))s" >"$out"
	else
		{
			echo "FAIL $name (exit $rc): see $log"
			grep -m 20 -E 'ERROR|runtime error|property failed|SUMMARY|Test unit written' "$log"
		} >"$out"
		: >"$scratch/$name.failed"
	fi
}

# Every target in tests/fuzz/ must have been built: a fuzzer missing from
# build/fuzz/ is a failure, not a target skipped.  The lines come out in
# the targets' order, whichever finished first.
names=()
for src in tests/fuzz/fuzz_*.c; do
	name=${src##*/fuzz_}
	names+=("${name%.c}")
done
parallel=${FUZZ_JOBS:-$(nproc)}
[[ $parallel =~ ^[1-9][0-9]*$ ]] || parallel=1
for name in "${names[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do
		wait -n
	done
	run_one "$name" &
done
wait
for name in "${names[@]}"; do
	if [ ! -e "$scratch/$name.out" ]; then
		echo "FAIL $name: the run left no result (killed?)"
		failed=$((failed + 1))
		continue
	fi
	cat "$scratch/$name.out"
	if [ -e "$scratch/$name.failed" ]; then
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
