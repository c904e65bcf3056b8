// mail.test.mjs: the emails' HTML part as a patron with a screen reader
// meets it, in Chromium with axe-core: every kind of tests/golden/mail-*.eml
// (English and Spanish), which build/mail-unit holds to what mail_compose()
// writes (docs/MAIL.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { axe, axNodes, openBrowser } from "./lib.mjs";

const GOLDEN = path.join(path.dirname(new URL(import.meta.url).pathname),
    "..", "golden");
const FILES = readdirSync(GOLDEN).filter((f) => /^mail-.*\.eml$/.test(f)).sort();

// The decoded part of the given type: its quoted-printable undone, as
// UTF-8.
function part(eml, type) {
    const at = eml.indexOf(`Content-Type: ${type}; charset=UTF-8\r\n`);
    assert.ok(at >= 0, `no ${type} part`);
    const start = eml.indexOf("\r\n\r\n", at) + 4;
    const body = eml.slice(start, eml.indexOf("\r\n--", start));
    const qp = body.replace(/=\r\n/g, "").replace(/\r\n/g, "\n");
    const bytes = [];
    for (let i = 0; i < qp.length; i++) {
        if (qp[i] === "=" && /^[0-9A-F]{2}$/.test(qp.slice(i + 1, i + 3))) {
            bytes.push(parseInt(qp.slice(i + 1, i + 3), 16));
            i += 2;
        } else
            bytes.push(qp.charCodeAt(i));
    }
    return Buffer.from(bytes).toString("utf8");
}

// An email is shown inside the mail reader's own window, which has its
// landmarks (webmail its main, its navigation): a message of its own main
// would be a second one, so the two rules that ask a whole page for one
// are not run on it.
const NOT_A_PAGE = ["landmark-one-main", "region"];

test("every email's HTML part passes axe-core and has one heading first", async () => {
    assert.ok(FILES.length >= 12, FILES.join(" "));
    const ctx = await openBrowser();
    try {
        const page = await ctx.newPage();
        for (const f of FILES) {
            const eml = readFileSync(path.join(GOLDEN, f), "latin1");
            await page.setContent(part(eml, "text/html"));
            assert.deepEqual(await axe(page, NOT_A_PAGE), [], `axe on ${f}`);
            const nodes = await axNodes(page);
            const levels = nodes.filter((n) => n.role === "heading")
                .map((n) => n.level);
            assert.deepEqual(levels, [1], `${f}: the headings`);
        }
    } finally {
        await ctx.closeAll();
    }
});
