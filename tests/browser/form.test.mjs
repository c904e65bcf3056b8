// form.test.mjs: the form with errors, hostile input, and the layout at
// 320 px and at 200% zoom, in Chromium with axe-core.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, axe, axNodes, axProblems, foreignRequests, makeEvent,
    openBrowser, screenshot, sql } from "./lib.mjs";

const HOSTILE = "<script>alert(1)</script> \"q\" 'q' \u202Eevil &amp; ";

// A new event's form sent with no name and a bad address: the page that
// comes back with errors, in a browser with JavaScript on or off.
async function badForm(javaScript) {
    const slug = makeEvent();
    const ctx = await openBrowser({ javaScript });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/events/${slug}`);
    await page.fill("#email", "not-an-address");
    await Promise.all([page.waitForNavigation(),
        page.click("form.register button[type=submit]")]);
    assert.equal(await page.locator("#error-summary").count(), 1);
    return { ctx, page };
}

test("errors are shown, announced and tied to their fields", async () => {
    const { ctx, page } = await badForm(true);
    try {
        // The title says so first: all a screen reader announces of the
        // page when JavaScript is off (the page is the same bytes).
        assert.match(await page.title(), /^Error: Browser test /);
        // The summary has the focus, so it is read out.
        assert.equal(await page.evaluate(() => document.activeElement.id),
            "error-summary");
        const tree = await axNodes(page);
        const alert = tree.find((n) => n.role === "alert");
        assert.equal(alert.name, "There is a problem");
        assert.equal(alert.focused, true);
        const name = tree.find((n) => n.role === "textbox" &&
            n.name === "Your name");
        assert.equal(name.invalid, "true");
        assert.equal(name.required, true);
        assert.equal(name.description, "Error: Enter your name");
        assert.deepEqual(await axProblems(page), []);
        assert.equal(await page.getAttribute("#name", "aria-invalid"), "true");
        assert.equal(await page.getAttribute("#name", "aria-describedby"),
            "name-error");
        assert.match(await page.getAttribute("#email", "aria-describedby"),
            /email-error/);
        assert.equal(await page.inputValue("#email"), "not-an-address");
        await page.click("#error-summary a[href='#name']");
        assert.equal(await page.evaluate(() => document.activeElement.id), "name");
        assert.deepEqual(await axe(page), []);
        await screenshot(page, "form-errors");
        assert.deepEqual(foreignRequests(ctx), []);
    } finally {
        await ctx.closeAll();
    }
});

// Without JavaScript nothing ran to move the focus: the page came back
// with the focus at its top, the summary far below the event's facts and
// calendar links, and a keyboard or screen reader user had to find it
// (the title said "Error:", no more).  The summary takes the focus itself
// (autofocus), with or without the script.
test("with JavaScript off, the error summary has the focus", async () => {
    const { ctx, page } = await badForm(false);
    try {
        // The browser focuses it once the page is parsed: a moment.
        let focused = "";
        for (let i = 0; i < 50 && focused !== "error-summary"; i++) {
            focused = await page.evaluate(() => document.activeElement.id);
            if (focused !== "error-summary") await page.waitForTimeout(100);
        }
        assert.equal(focused, "error-summary");
        const alert = (await axNodes(page)).find((n) => n.role === "alert");
        assert.equal(alert.focused, true);
        // Scrolled to: it is in view, the patron sees what they hear.
        const box = await page.locator("#error-summary").boundingBox();
        const height = page.viewportSize().height;
        assert.ok(box.y >= 0 && box.y < height, `at ${box.y}`);
        // The next Tab goes to its first link, then on to that field.
        await page.keyboard.press("Tab");
        assert.equal(await page.evaluate(() =>
            document.activeElement.getAttribute("href")), "#name");
        await page.keyboard.press("Enter");
        assert.equal(await page.evaluate(() => document.activeElement.id), "name");
    } finally {
        await ctx.closeAll();
    }
});

test("hostile input in every field comes back as typed, never as markup",
    async () => {
        const slug = makeEvent();
        const ctx = await openBrowser();
        try {
            const page = await ctx.newPage();
            const dialogs = [];
            page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
            await page.goto(`${BASE}/events/${slug}`);
            const values = {
                "#name": HOSTILE + "n".repeat(2000),
                "#email": HOSTILE + "e".repeat(2000),
                "#organization": HOSTILE + "o".repeat(2000),
            };
            for (const [sel, v] of Object.entries(values)) await page.fill(sel, v);
            await Promise.all([page.waitForNavigation(),
                page.click("form.register button[type=submit]")]);
            for (const [sel, v] of Object.entries(values))
                assert.equal(await page.inputValue(sel), v, sel);
            // The JSON-LD block is data that never runs (test_jsonld.py).
            assert.equal(await page.locator(
                "script:not([type='application/ld+json'])").count(), 1,
                "only the site's own script");
            assert.equal(await page.locator(
                "script[type='application/ld+json']").count(), 1,
                "one JSON-LD block");
            assert.equal(await page.locator("footer.site").count(), 1,
                "the page is whole");
            assert.equal(await page.locator("#error-summary li").count(), 3);
            assert.deepEqual(dialogs, []);
            assert.deepEqual(await axe(page), []);
            const n = sql(`SELECT count(*) FROM eventbox.registrations r JOIN
                eventbox.events e ON e.id = r.event_id WHERE e.slug = :'slug';`,
                { slug });
            assert.equal(n, "0");
        } finally {
            await ctx.closeAll();
        }
    });

test("hostile staff text is shown as text", async () => {
    const slug = makeEvent({
        title: "<script>alert('t')</script> \u202Eelit",
        description: "<img src=/x onerror=alert(1)>\n\n- <b>bold?</b>",
        presenter: "<a href=javascript:alert(1)>me</a>",
        category: "<svg onload=alert(1)>",
    });
    const ctx = await openBrowser();
    try {
        const page = await ctx.newPage();
        const dialogs = [];
        page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
        await page.goto(`${BASE}/events/${slug}`);
        assert.equal(await page.textContent("h1"),
            "<script>alert('t')</script> \u202Eelit");
        assert.equal(await page.locator("article img, article svg, article b, " +
            "a[href^='javascript']").count(), 0);
        assert.deepEqual(dialogs, []);
        assert.deepEqual(await axe(page), []);
    } finally {
        await ctx.closeAll();
    }
});

test("every page fits 320 px and 200% zoom without sideways scrolling",
    async () => {
        const slug = makeEvent({ title: "A".repeat(120) });
        const ctx = await openBrowser();
        try {
            const page = await ctx.newPage();
            // 200% zoom of a 1280 px window is a 640 px layout viewport.
            for (const width of [320, 640]) {
                await page.setViewportSize({ width, height: 800 });
                for (const path of ["/events", `/events/${slug}`,
                    `/events/${slug}?tz=America/Denver`]) {
                    await page.goto(BASE + path);
                    const sw = await page.evaluate(() =>
                        document.documentElement.scrollWidth);
                    assert.ok(sw <= width, `${path} at ${width}px: ${sw}px wide`);
                }
            }
            await page.setViewportSize({ width: 1280, height: 900 });
            await page.goto(`${BASE}/events/${slug}`);
            // The time-zone choice is a plain GET form.
            await page.selectOption("#tz", "America/Denver");
            await Promise.all([page.waitForNavigation(),
                page.click("form.tz button")]);
            assert.ok(page.url().endsWith("?tz=America%2FDenver"), page.url());
            assert.match(await page.textContent("dl.facts"),
                /Mountain Time - US & Canada/);
            // Keyboard: the skip link is first and shows when focused.
            await page.keyboard.press("Tab");
            assert.equal(await page.evaluate(() =>
                document.activeElement.className), "skip");
            assert.ok((await page.locator(".skip").boundingBox()).x >= 0);
            // Followed, it lands in main: the next Tab is in the page.
            await page.keyboard.press("Enter");
            assert.equal(await page.evaluate(() =>
                document.activeElement.id), "main");
            assert.deepEqual(await axe(page), []);
        } finally {
            await ctx.closeAll();
        }
    });

test("a cancelled event says so under its title, in words, with only the .ics",
    async () => {
        const slug = makeEvent();
        sql(`UPDATE eventbox.events SET status = 'cancelled'
             WHERE slug = :'slug';`, { slug });
        const ctx = await openBrowser();
        try {
            const page = await ctx.newPage();
            await page.goto(`${BASE}/events/${slug}`);
            // The first thing after the title, visible, and a sentence.
            const next = await page.evaluate(() =>
                document.querySelector("h1").nextElementSibling.textContent);
            assert.equal(next, "This event has been cancelled and will not take place.");
            assert.ok(await page.locator(".cancelled-notice").isVisible());
            assert.deepEqual(await page.locator("ul.calendars a").allTextContents(),
                ["Add to my calendar (.ics file)"]);
            assert.deepEqual(await axe(page), []);
            await screenshot(page, "event-cancelled");
        } finally {
            await ctx.closeAll();
        }
    });
