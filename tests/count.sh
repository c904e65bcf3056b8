# tests/count.sh: how tests/run.sh counts what a test program reports.
# Sourced; keeps the totals in $passed and $failed.
#
# A program's own summary ("N passed, M failed" on its last line) is taken
# only when the program also exited 0 or 1 (1 = "some checks failed") of its
# own accord.  A program that died on a signal, exited with any other status,
# or printed no summary at all counts one failure more than it reported,
# whatever it printed before: an abort after "140 passed" is a failure.

passed=${passed:-0}
failed=${failed:-0}

count() {  # count NAME RESULT-LINE ("N passed, M failed")
	local p f
	p=$(sed -n 's/.*\b\([0-9]\+\) passed.*/\1/p' <<<"$2" | tail -1)
	f=$(sed -n 's/.*\b\([0-9]\+\) failed.*/\1/p' <<<"$2" | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	echo "== $1: ${p:-0} passed, ${f:-0} failed"
}

run_counted() {  # run_counted NAME COMMAND [ARGS...]: run, show, count
	local name=$1 out rc
	shift
	out=$("$@")
	rc=$?
	count_output "$name" "$rc" "$out"
}

count_output() {  # count_output NAME EXIT-STATUS OUTPUT: show, count
	local name=$1 rc=$2 out=$3 last f
	echo "$out"
	last=$(tail -n 1 <<<"$out")
	if ! grep -qE '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' <<<"$last"; then
		echo "== $name: no closing count (exit status $rc)"
		last="0 passed, 0 failed"
		rc=-1
	fi
	f=$(sed -n 's/.*\b\([0-9]\+\) failed.*/\1/p' <<<"$last")
	if [ "$rc" -gt 128 ]; then
		echo "== $name died on signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null))"
		last="${last%%,*}, $((f + 1)) failed"
	elif [ "$rc" -ne 0 ] && { [ "$rc" -ne 1 ] || [ "$f" -eq 0 ]; }; then
		[ "$rc" -ge 0 ] && echo "== $name exited with status $rc"
		last="${last%%,*}, $((f + 1)) failed"
	fi
	count "$name" "$last"
}
