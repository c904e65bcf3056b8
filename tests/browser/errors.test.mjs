// errors.test.mjs: nginx's own error pages (nginx/errors/*.html, for what
// nginx answers itself: 400, 404, 413, 414, 429, 502, ...) given the same
// checks as the service's pages: axe-core and what a screen reader is
// given (a title, one h1, the banner, main and contentinfo landmarks, the
// page's language, a way back to the events) and the skip link they have
// first, which lands in main.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { BASE, axe, axNodes, axProblems, foreignRequests,
    openBrowser } from "./lib.mjs";

const DIR = path.join(process.cwd(), "nginx", "errors");
const PAGES = readdirSync(DIR).filter((f) => /^[0-9]{3}\.html$/.test(f)).sort();

async function checkPage(page, name) {
    assert.equal(await page.getAttribute("html", "lang"), "en", name);
    assert.deepEqual(await axe(page), [], `axe on ${name}`);
    assert.deepEqual(await axProblems(page), [], `the tree of ${name}`);
    const nodes = await axNodes(page);
    const back = nodes.filter((n) => n.role === "link" && n.url === `${BASE}/events`);
    assert.ok(back.length >= 1, `${name}: no link back to the events`);
    assert.match(await page.title(), / - Library events$/, name);
    // Keyboard: the skip link is first and shows when focused; followed,
    // it lands in main, as on the service's pages (form.test.mjs).
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() =>
        document.activeElement.className), "skip", `${name}: skip link`);
    assert.equal(await page.evaluate(() =>
        document.activeElement.getAttribute("href")), "#main", name);
    assert.ok((await page.locator(".skip").boundingBox()).x >= 0, name);
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() =>
        document.activeElement.id), "main", `${name}: skip link lands in main`);
}

test("every page nginx answers with passes the pages' checks", async () => {
    assert.ok(PAGES.length >= 13, PAGES.join(" "));
    const ctx = await openBrowser();
    try {
        const page = await ctx.newPage();
        for (const file of PAGES) {
            // Served at an address of the site, so that its stylesheet
            // comes from nginx as it would.
            const url = `${BASE}/_check/${file}`;
            await page.route(url, (route) => route.fulfill({
                status: Number(file.slice(0, 3)),
                contentType: "text/html; charset=utf-8",
                body: readFileSync(path.join(DIR, file)) }));
            await page.goto(url);
            await checkPage(page, file);
        }
        assert.deepEqual(foreignRequests(ctx), []);
    } finally {
        await ctx.closeAll();
    }
});

test("nginx's 404 and 414 through the stack", async () => {
    const ctx = await openBrowser();
    try {
        const page = await ctx.newPage();
        for (const [url, status] of [[`${BASE}/no/such/page`, 404],
            [`${BASE}/events/${"a".repeat(20000)}`, 414]]) {
            const r = await page.goto(url);
            assert.equal(r.status(), status, url.slice(0, 80));
            assert.equal(r.headers()["content-type"], "text/html; charset=utf-8");
            await checkPage(page, String(status));
        }
    } finally {
        await ctx.closeAll();
    }
});
