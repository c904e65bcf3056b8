// embed.test.mjs: the embeddable list (/embed/events) as a consortium's
// website includes it, in a page of the site's own, and what a screen
// reader is given there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, axe, axNodes, axProblems, makeEvent, openBrowser,
    uniq } from "./lib.mjs";

// The consortium's page, with the fragments in its main, as an include
// (SSI, PHP's readfile(), a CMS block) puts them there.
function sitePage(...fragments) {
    return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Our libraries</title></head>
<body>
<header><p>The consortium</p></header>
<main>
<h1>What is on</h1>
${fragments.join("\n")}
</main>
<footer><p>The consortium's footer</p></footer>
</body>
</html>`;
}

async function fragment(query, status = 200, path = "/embed/events") {
    const r = await fetch(`${BASE}${path}?${query}`);
    assert.equal(r.status, status, `${path}?${query}`);
    return await r.text();
}

test("two lists included in one page: unique ids, each region named by its own heading",
    async () => {
        const a = uniq("Embed A"), b = uniq("Embed B");
        makeEvent({ category: a, title: `Story time ${a}` });
        makeEvent({ category: b, title: `Atelier ${b}` });
        const ctx = await openBrowser();
        try {
            const page = await ctx.newPage();
            await page.setContent(sitePage(
                await fragment(`category=${encodeURIComponent(a)}&lang=en&limit=5`),
                await fragment(`category=${encodeURIComponent(b)}&lang=fr`)));
            const ids = await page.$$eval("[id]", (els) => els.map((e) => e.id));
            assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [],
                "ids used twice");
            const headings = await page.$$eval("section.eventbox-list h2",
                (els) => els.map((e) => e.textContent));
            assert.deepEqual(headings, ["Upcoming events", "Événements à venir"]);
            const regions = (await axNodes(page)).filter((n) => n.role === "region");
            assert.deepEqual(regions.map((n) => n.name), headings,
                "each region is named by its own heading");
            assert.deepEqual(await axe(page), []);
            assert.deepEqual(await axProblems(page), []);
        } finally {
            await ctx.closeAll();
        }
    });

test("lists that could not be shown, included in a page, are regions of their own",
    async () => {
        const ctx = await openBrowser();
        try {
            const page = await ctx.newPage();
            await page.setContent(sitePage(
                await fragment("lang=en&limit=3"),
                await fragment("lang=de&limit=99", 400),            // the service's
                await fragment("lang=fr", 404, "/embed/event")));   // nginx's
            const regions = (await axNodes(page)).filter((n) => n.role === "region");
            assert.deepEqual(regions.map((n) => n.name), ["Upcoming events",
                "Kommende Veranstaltungen", "Événements à venir"]);
            assert.equal(await page.locator("html").count(), 1);
            assert.equal(await page.locator("main").count(), 1);
            assert.deepEqual(await axe(page), []);
            assert.deepEqual(await axProblems(page), []);
        } finally {
            await ctx.closeAll();
        }
    });
