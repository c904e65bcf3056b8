// flow.test.mjs: a patron registers and cancels in Chromium, with
// JavaScript on and off; axe-core finds nothing on any page on the way;
// nothing is loaded from another origin; the only cookie is the CSRF one;
// what a screen reader is given (Chromium's accessibility tree) has a
// title, one h1, headings in order, the landmarks and names on every
// control on each page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, axe, axNodes, axProblems, axReading, foreignRequests, lastToken,
    makeEvent, openBrowser, screenshot, seatsAvailable, sql, uniq } from "./lib.mjs";

// axe-core runs in the page, so only with JavaScript on; the pages are the
// same bytes either way.
async function checkedPage(page, name, javaScript) {
    if (!javaScript) return;
    assert.deepEqual(await axe(page), [], `axe on ${name}`);
    assert.deepEqual(await axProblems(page), [], `the tree of ${name}`);
    await screenshot(page, name);
}

for (const javaScript of [true, false]) {
    test(`register and cancel, JavaScript ${javaScript ? "on" : "off"}`,
        async () => {
            const category = uniq("Flow");
            const slug = makeEvent({ capacity: 5, category });
            const email = `${uniq("flow")}@example.org`;
            const ctx = await openBrowser({ javaScript });
            const shots = javaScript;
            try {
                const page = await ctx.newPage();
                const dialogs = [];
                page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });

                // The seed: the consortium's ALA webinar (deploy/sample-event.sql).
                let r = await page.goto(`${BASE}/events/minimizing-social-media`);
                assert.equal(r.status(), 200);
                assert.match(await page.textContent("dl.facts"),
                    /Eastern Time - US & Canada/);
                // Its learning outcomes and audience: sections of their own.
                assert.equal(await page.locator(
                    "section[aria-labelledby=outcomes] li").count(), 3);
                assert.match(await page.textContent(
                    "section[aria-labelledby=audience]"), /library directors/);
                assert.ok(await page.locator("section.upcoming li a").count() > 0);
                await checkedPage(page, "sample-event", shots);

                r = await page.goto(`${BASE}/events`);
                assert.equal(r.status(), 200);
                await checkedPage(page, "events", shots);

                await page.selectOption("#category", category);
                await Promise.all([page.waitForNavigation(),
                    page.click("form.filter button")]);
                // The title says which list this is: a screen reader
                // starts there after the filter's button.
                assert.equal(await page.title(),
                    `Upcoming events: ${category} - Library events`);
                await checkedPage(page, "events-category", shots);
                await page.click(`a[href="/events/${slug}"]`);
                await page.waitForURL(`${BASE}/events/${slug}`);
                assert.match(await page.textContent(".registration .state"),
                    /There are 5 seats available/);
                // The time range in words, as on every other page: " - "
                // is read as nothing or as "dash".
                assert.equal(await page.textContent(
                    "dl.facts dd:nth-of-type(2)"), "2:00pm to 3:00pm");
                // The honeypot is out of the tree: a screen reader that
                // lists the form's fields never offers it.
                const fields = (await axNodes(page)).filter((n) =>
                    n.role === "textbox").map((n) => n.name);
                assert.deepEqual(fields, ["Your name", "Email address",
                    "Member library (optional)"]);
                await checkedPage(page, "event", shots);

                await page.fill("#name", "Ann Reader");
                await page.fill("#email", email);
                await page.fill("#organization", "Bitterroot Public Library");
                await Promise.all([page.waitForNavigation(),
                    page.click("form.register button[type=submit]")]);
                assert.equal(await page.textContent("h1"), "You are registered");
                const token = lastToken(email);
                assert.match(token, /^[0-9a-f-]{36}$/);
                assert.ok(!page.url().includes(token), "no token in the URL");
                assert.ok(!(await page.content()).includes(token));
                await checkedPage(page, "registered", shots);
                assert.equal(await seatsAvailable(slug), 4);

                r = await page.goto(`${BASE}/registration/${token}`);
                assert.equal(r.status(), 200);
                assert.equal(await page.textContent("h1"), "Your registration");
                await checkedPage(page, "my-registration", shots);
                assert.equal(await seatsAvailable(slug), 4, "a GET changes nothing");

                r = await page.goto(`${BASE}/cancel/${token}`);
                assert.equal(r.status(), 200);
                assert.equal(r.headers()["referrer-policy"], "no-referrer");
                assert.equal(r.headers()["cache-control"], "no-store");
                await checkedPage(page, "cancel", shots);
                assert.equal(await seatsAvailable(slug), 4, "a GET cancels nothing");

                await Promise.all([page.waitForNavigation(),
                    page.click("text=Cancel my registration")]);
                assert.equal(await page.textContent("h1"),
                    "Your registration is cancelled");
                await checkedPage(page, "cancelled", shots);
                assert.equal(await seatsAvailable(slug), 5, "the seat is free again");

                r = await page.goto(`${BASE}/cancel/${token}`);
                assert.equal(r.status(), 404);
                assert.equal(await page.textContent("h1"), "This link is not active");
                await checkedPage(page, "link-not-active", shots);

                r = await page.goto(`${BASE}/events/no-such-event`);
                assert.equal(r.status(), 404);
                await checkedPage(page, "not-found", shots);

                const cookies = await ctx.cookies();
                assert.deepEqual(cookies.map((c) => c.name), ["eventbox_csrf"]);
                assert.equal(cookies[0].httpOnly, true);
                assert.equal(cookies[0].sameSite, "Lax");
                assert.deepEqual(foreignRequests(ctx), []);
                assert.deepEqual(dialogs, []);
            } finally {
                await ctx.closeAll();
            }
        });
}

// The consortium's site (another site, served by the browser itself) links
// to two events.  The patron opens one in a tab, starts its form, then
// opens the other from the consortium's page: that arrival must not
// replace the cookie under the first tab's form (it did while the cookie
// was SameSite=Strict: "This form has expired", what was typed lost).
test("a form still registers after another tab arrived from a link elsewhere",
    async () => {
        const first = makeEvent(), second = makeEvent();
        const email = `${uniq("tabs")}@example.org`;
        const ctx = await openBrowser();
        try {
            await ctx.route("http://consortium.example/**", (route) =>
                route.fulfill({ contentType: "text/html", body:
                    `<!doctype html><title>Consortium</title>
                     <a id="a" href="${BASE}/events/${first}">A</a>
                     <a id="b" href="${BASE}/events/${second}">B</a>` }));
            const site = await ctx.newPage();
            await site.goto("http://consortium.example/");
            const [tab1] = await Promise.all([ctx.waitForEvent("page"),
                site.click("#a", { modifiers: ["Control"] })]);
            await tab1.waitForLoadState();
            await tab1.fill("#name", "Ann Tabs");
            await tab1.fill("#email", email);
            const [tab2] = await Promise.all([ctx.waitForEvent("page"),
                site.click("#b", { modifiers: ["Control"] })]);
            await tab2.waitForLoadState();
            assert.match(tab2.url(), new RegExp(`/events/${second}$`));
            const [resp] = await Promise.all([tab1.waitForNavigation(),
                tab1.click("form.register button[type=submit]")]);
            assert.equal(resp.status(), 200, await tab1.textContent("h1"));
            assert.match(await tab1.textContent("h1"), /You are registered/);
            const cookies = await ctx.cookies(BASE);
            assert.equal(cookies.length, 1);
            assert.equal(cookies[0].sameSite, "Lax");
        } finally {
            await ctx.closeAll();
        }
    });

// Links to events are named by their titles, and two events may share one
// (a series): a screen reader's list of links, which reads each link out
// of its list item, gave two links of one name going to two places (WCAG
// 2.4.4, 2.4.9).  Each link's name then carried its start in a visually
// hidden span, and the line under it said it again: read on from the top
// (and in a text browser) each date came twice.  The name is now the title
// and that line (aria-labelledby), the line aria-hidden: each date is said
// once, in the link.  Two of one title and one start (two rooms) are told
// apart by their locations, added to their lines.
test("links to events of one title have names of their own, dates said once",
    async () => {
        const title = uniq("Story time");
        const category = uniq("Series");
        const slugs = [8, 9, 9, 10].map((days) => makeEvent({ title, category, days }));
        for (const [slug, room] of [[slugs[1], "Room A"], [slugs[2], "Room B"]])
            sql(`UPDATE eventbox.events SET format = 'in_person',
                 location = :'room' WHERE slug = :'slug';`, { slug, room });
        const ctx = await openBrowser();
        try {
            const page = await ctx.newPage();
            const linksTo = async () => (await axNodes(page)).filter((n) =>
                n.role === "link" && n.name.startsWith(title));
            const when = `\\w+day, \\w+ \\d+, \\d{4}, 2:00pm`;
            const zone = "\\(Eastern Time - US & Canada\\)";
            // The list of events, and the event page's "Upcoming events".
            for (const [path, until] of [[`/events?category=${category}`,
                ` to 3:00pm ${zone}`], [`/events/${slugs[0]}`, ` ${zone}`]]) {
                const r = await page.goto(`${BASE}${path}`);
                assert.equal(r.status(), 200);
                assert.deepEqual(await axProblems(page), [], path);
                assert.deepEqual(await axe(page), [], path);
                const links = await linksTo();
                const count = path.startsWith("/events?") ? 4 : 3;
                assert.equal(links.length, count, path);
                assert.equal(new Set(links.map((n) => n.name)).size, count, path);
                const names = links.map((n) => n.name).sort();
                for (const n of names)
                    assert.match(n, new RegExp(
                        `^${title} ${when}${until}(, Room [AB])?$`), path);
                // Only the two of one start carry their place.
                assert.deepEqual(names.filter((n) => /Room/.test(n))
                    .map((n) => n.slice(-6)), ["Room A", "Room B"], path);
                // Read on from the top, each start is said once: in its
                // link (twice for the two of one start, once each).
                const reading = await axReading(page);
                for (const n of names) {
                    const start = n.match(new RegExp(when))[0];
                    assert.equal(reading.split(start).length - 1,
                        names.filter((m) => m.includes(start)).length,
                        `${path}: ${start} in ${reading}`);
                }
            }
            // The line is still there for the eye.
            assert.match(await page.textContent("section.upcoming li"),
                new RegExp(`^${title}\\w+day, `));
        } finally {
            await ctx.closeAll();
        }
    });

// A series (a weekly story time) is events of one title.  Each event's
// page was titled by the title alone: the title a screen reader says first
// of a page, a tab's and the history's names, the same for every session
// of the series, which only the date on the page told apart (WCAG 2.4.2).
// The title now says the start, as the Atom feed's entries do: the date
// and time the page shows, in the zone it shows them in.
test("the pages of two events of one title have titles of their own",
    async () => {
        const title = uniq("Story time");
        const slugs = [8, 15].map((days) => makeEvent({ title, days }));
        const ctx = await openBrowser();
        try {
            const page = await ctx.newPage();
            const titles = [];
            for (const [slug, query] of [[slugs[0], ""], [slugs[1], ""],
                [slugs[1], "?tz=America/Denver"]]) {
                await page.goto(`${BASE}/events/${slug}${query}`);
                const date = await page.textContent("dl.facts dd:nth-of-type(1)");
                const time = (await page.textContent(
                    "dl.facts dd:nth-of-type(2)")).split(" to ")[0];
                assert.equal(await page.title(),
                    `${title}, ${date}, ${time} - Library events`);
                titles.push(await page.title());
                assert.deepEqual(await axProblems(page), []);
            }
            assert.equal(new Set(titles).size, 3, titles.join(" | "));
            assert.match(titles[2], /, 12:00pm - /, "the zone shown");
            // The form come back with errors says so first, then which.
            await page.goto(`${BASE}/events/${slugs[0]}`);
            await Promise.all([page.waitForNavigation(),
                page.click("form.register button[type=submit]")]);
            assert.equal(await page.title(), `Error: ${titles[0]}`);
        } finally {
            await ctx.closeAll();
        }
    });
