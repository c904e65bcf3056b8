// check-node.cjs: does this Node.js fit the playwright-core that
// tests/package-lock.json pins (and, once installed, is that the one in
// tests/node_modules)?  Run by `make test` before `npm ci` and by
// tests/test_pages_browser.py before the browser tests, so that a Node too
// old for the pinned playwright-core (or a playwright-core too new for
// Debian 12's Node 18) fails here, with the way out, instead of as two
// browser tests dying on "Playwright requires Node.js 20 or higher".
//
// CommonJS and no syntax newer than Node 12, so that it runs on any Node it
// has to refuse.  Exit status 0 when the combination works, 1 otherwise.
"use strict";
const fs = require("fs");
const path = require("path");

const TESTS = path.join(__dirname, "..");
const DEBIAN = "Debian 12 ships Node.js 18 (apt-get install nodejs npm)";

function fail(lines) {
    process.stderr.write("check-node: " + lines.join("\ncheck-node: ") + "\n");
    process.exit(1);
}

// ">=18" -> 18; any other form is a change this check has to learn about.
function minimumMajor(range, what) {
    const m = /^>=\s*(\d+)(\.\d+)*$/.exec(String(range).trim());
    if (!m) fail([`${what}: cannot read engines.node "${range}"`]);
    return Number(m[1]);
}

const lock = JSON.parse(fs.readFileSync(path.join(TESTS, "package-lock.json"),
    "utf8"));
const locked = lock.packages["node_modules/playwright-core"];
if (!locked) fail(["tests/package-lock.json pins no playwright-core"]);
const node = process.versions.node;
const major = Number(node.split(".")[0]);

const need = minimumMajor(locked.engines && locked.engines.node || ">=0",
    `playwright-core ${locked.version}`);
if (major < need)
    fail([`Node.js ${node} is too old for playwright-core ${locked.version} ` +
          `(tests/package-lock.json), which needs Node.js ${need} or newer.`,
          `${DEBIAN}; the browser tests must keep working there:`,
          `pin a playwright-core whose engines.node accepts 18 ` +
          `(npm view playwright-core@VERSION engines.node), or run a newer Node.`]);
if (need > 18)
    fail([`playwright-core ${locked.version} (tests/package-lock.json) needs ` +
          `Node.js ${need}, but ${DEBIAN} and make test must pass there.`,
          `Pin a playwright-core whose engines.node accepts 18.`]);

const installedFile = path.join(TESTS, "node_modules", "playwright-core",
    "package.json");
if (process.argv.includes("--installed")) {
    if (!fs.existsSync(installedFile))
        fail(["tests/node_modules has no playwright-core: run " +
              "`npm ci --prefix tests` (make test does)"]);
    const installed = JSON.parse(fs.readFileSync(installedFile, "utf8"));
    if (installed.version !== locked.version)
        fail([`tests/node_modules has playwright-core ${installed.version}, ` +
              `tests/package-lock.json pins ${locked.version}:`,
              "run `npm ci --prefix tests` (make test does when the lock " +
              "file is newer)"]);
    // engines.node is what the package says; its own start-up check is
    // what counts.
    try {
        require(path.join(TESTS, "node_modules", "playwright-core"));
    } catch (e) {
        fail([`playwright-core ${installed.version} does not load on ` +
              `Node.js ${node}:`, String(e.message || e).trim()]);
    }
}
process.stdout.write(`check-node: Node.js ${node} with playwright-core ` +
    `${locked.version} (needs Node.js ${need}+): fine\n`);
