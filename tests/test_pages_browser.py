"""The public pages in a real browser: runs each tests/browser/*.test.mjs
(Node's test runner driving Debian's Chromium through playwright-core, with
axe-core) against the test stack and passes when all of its tests pass.
Screenshots go to $EVENTBOX_VAR/screenshots (var/test-2/screenshots in make
test, whose second stack runs these tests).

They must pass on Debian 12 as it comes, whose Node.js is 18:
tests/browser/check-node.cjs says so plainly when the Node.js here and the
playwright-core pinned in tests/package-lock.json do not go together."""
import glob
import os
import subprocess

import pytest

from conftest import ROOT, env

FILES = sorted(glob.glob(os.path.join(ROOT, "tests", "browser", "*.test.mjs")))


def check_node():
    """Node.js fits the pinned and installed playwright-core, or the reason."""
    out = subprocess.run(["node", os.path.join(ROOT, "tests", "browser",
                                               "check-node.cjs"), "--installed"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_the_browser_tests_are_there():
    assert len(FILES) >= 2, FILES
    assert os.path.isdir(os.path.join(ROOT, "tests", "node_modules",
                                      "playwright-core")), \
        "run `npm ci --prefix tests` (make test does)"
    assert os.access("/usr/bin/chromium", os.X_OK), "install Debian's chromium"
    check_node()


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_in_chromium(path):
    check_node()
    environ = dict(os.environ, EVENTBOX_URL=env("EVENTBOX_URL"),
                   EVENTBOX_SCREENSHOTS=os.path.join(env("EVENTBOX_VAR"),
                                                     "screenshots"))
    out = subprocess.run(["node", "--test", "--test-concurrency=1",
                          "--test-reporter=spec", path],
                         cwd=ROOT, env=environ, capture_output=True, text=True,
                         timeout=300)
    print(out.stdout[-20000:])
    print(out.stderr[-5000:])
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]
    assert "fail 0" in out.stdout, out.stdout[-3000:]
