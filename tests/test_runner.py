"""tests/run.sh itself: a test program that dies, exits oddly or prints no
count is a failure, whatever it printed before (tests/count.sh)."""
import os
import subprocess

from conftest import ROOT

ABORTING_UNIT = r'''
#include <stdio.h>
#include <stdlib.h>
#include "check.h"
int main(void) {
	CHECK("one", 1);
	printf("%d passed, %d failed\n", passed, failed);
	fflush(stdout);
	if (getenv("ABORT")) abort();
	return failed != 0;
}
'''


def run_counted(tmp_path, *argv, env=None):
    script = ('. tests/count.sh; run_counted probe "$@"; '
              'echo "TOTAL $passed $failed"')
    out = subprocess.run(["bash", "-c", script, "run_counted", *argv],
                         cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, **(env or {})))
    last = out.stdout.strip().splitlines()[-1].split()
    assert last[0] == "TOTAL", out.stdout
    return int(last[1]), int(last[2]), out.stdout


def build_unit(tmp_path):
    src = tmp_path / "unit.c"
    src.write_text(ABORTING_UNIT)
    exe = tmp_path / "unit"
    subprocess.run(["cc", "-std=c11", "-I", os.path.join(ROOT, "tests"),
                    "-o", str(exe), str(src)], check=True, timeout=60)
    return str(exe)


def test_a_unit_binary_that_passes_counts_its_checks(tmp_path):
    assert run_counted(tmp_path, build_unit(tmp_path))[:2] == (1, 0)


def test_a_unit_binary_that_aborts_after_its_count_fails(tmp_path):
    p, f, out = run_counted(tmp_path, build_unit(tmp_path), env={"ABORT": "1"})
    assert f == 1, out
    assert "signal 6" in out


def test_a_program_with_no_count_fails(tmp_path):
    assert run_counted(tmp_path, "true")[:2] == (0, 1)


def test_an_odd_exit_status_fails_even_with_a_clean_count(tmp_path):
    p, f, _ = run_counted(tmp_path, "sh", "-c",
                          'echo "4 passed, 0 failed"; exit 3')
    assert (p, f) == (4, 1)


def test_reported_failures_are_counted_once(tmp_path):
    p, f, _ = run_counted(tmp_path, "sh", "-c",
                          'echo "4 passed, 2 failed"; exit 1')
    assert (p, f) == (4, 2)


def test_a_fuzz_target_that_was_not_built_fails(tmp_path):
    # Point the smoke run at a copy of the tree with no build/fuzz binaries.
    tree = tmp_path / "tree"
    (tree / "tests" / "fuzz").mkdir(parents=True)
    for name in ("run.sh", "fuzz_example.c"):
        src = os.path.join(ROOT, "tests", "fuzz", name)
        if name == "run.sh":
            (tree / "tests" / "fuzz" / name).write_text(open(src).read())
        else:
            (tree / "tests" / "fuzz" / name).write_text("/* a target */\n")
    out = subprocess.run(["bash", str(tree / "tests" / "fuzz" / "run.sh"),
                          "smoke"], cwd=tree, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0
    assert "example" in out.stdout and "was not built" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "0 passed, 1 failed"
