// questions.test.mjs: an event with all five kinds of questions on the
// form, in Chromium with axe-core: the controls, the errors next to them,
// the answers kept, and a registration with JavaScript off.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, axe, axNodes, axProblems, makeEvent, openBrowser, screenshot,
    sql } from "./lib.mjs";

const QUESTIONS = JSON.stringify([
    { kind: "short_text", label: "Your job title", required: true },
    { kind: "long_text", label: "What do you hope to learn?",
        help: "A sentence or two helps the presenter prepare." },
    { kind: "one_choice", label: "Which branch are you from?", required: true,
        help: "Pick the nearest.", choices: ["North", "South", "Online only"] },
    { kind: "several_choices", label: "Which topics interest you?",
        choices: ["Catalogs", "E-books", "Outreach"] },
    { kind: "yes_no", label: "May we photograph you?", required: true },
]);

function eventWithQuestions() {
    const slug = makeEvent();
    const outcome = sql(`SELECT outcome FROM eventbox.set_questions(:'slug',
        :'qs'::jsonb);`, { slug, qs: QUESTIONS });
    assert.equal(outcome, "ok");
    return slug;
}

function answers(slug) {
    return JSON.parse(sql(`SELECT eventbox.registration_answers(NULL, r.id)
        FROM eventbox.registrations r JOIN eventbox.events e
        ON e.id = r.event_id WHERE e.slug = :'slug';`, { slug }) || "null");
}

test("every kind of question is labelled, and its errors are tied to it",
    async () => {
        const slug = eventWithQuestions();
        const ctx = await openBrowser();
        try {
            const page = await ctx.newPage();
            await page.goto(`${BASE}/events/${slug}`);
            assert.deepEqual(await axe(page), []);
            // A required choice is said of its group, and nothing is said
            // invalid before the form was sent (a radio marked required
            // is read "invalid entry" while none is checked).
            let tree = await axNodes(page);
            const group = (name) => tree.find((n) => n.name === name &&
                ["group", "radiogroup"].includes(n.role));
            assert.equal(group("Which branch are you from?").role, "radiogroup");
            assert.equal(group("Which branch are you from?").required, true);
            assert.equal(group("May we photograph you?").required, true);
            assert.equal(group("Which topics interest you? (optional)").role,
                "group");
            assert.deepEqual(tree.filter((n) => n.invalid === "true"), []);
            await page.getByLabel("Your job title").fill("Cataloguer");
            await page.getByLabel("What do you hope to learn? (optional)")
                .fill("Line one\nLine two");
            // The text area's focus ring is the site's, as every control's.
            assert.equal(await page.evaluate(() => {
                const s = getComputedStyle(document.activeElement);
                return `${s.outlineStyle} ${s.outlineWidth}`;
            }), "solid 3px");
            await page.getByRole("checkbox", { name: "E-books" }).check();
            await Promise.all([page.waitForNavigation(),
                page.click("form.register button[type=submit]")]);
            // Name, email, branch and the yes/no question are missing.
            assert.equal(await page.locator("#error-summary li").count(), 4);
            const branch = page.getByRole("radiogroup",
                { name: "Which branch are you from?" });
            assert.match(await branch.getAttribute("aria-describedby"),
                /-hint .*-error$/);
            tree = await axNodes(page);
            assert.equal(group("Which branch are you from?").invalid, "true");
            assert.equal(group("Which branch are you from?").description,
                "Pick the nearest. Error: Choose an answer for " +
                "\"Which branch are you from?\"");
            assert.deepEqual(tree.filter((n) => n.role === "radio" &&
                n.invalid === "true"), []);
            assert.deepEqual(await axProblems(page), []);
            assert.equal(await page.getByLabel("Your job title").inputValue(),
                "Cataloguer");
            assert.equal(await page.getByLabel(
                "What do you hope to learn? (optional)").inputValue(),
                "Line one\nLine two");
            assert.equal(await page.getByRole("checkbox", { name: "E-books" })
                .isChecked(), true);
            assert.deepEqual(await axe(page), []);
            await screenshot(page, "form-questions-errors");
            // Following the summary's link lands on the group's first choice.
            await page.click("#error-summary a:has-text('Which branch')");
            assert.equal(await page.evaluate(() =>
                document.activeElement.getAttribute("value")), "North");
        } finally {
            await ctx.closeAll();
        }
    });

test("the questions are answered with JavaScript off", async () => {
    const slug = eventWithQuestions();
    const ctx = await openBrowser({ javaScript: false });
    try {
        const page = await ctx.newPage();
        await page.goto(`${BASE}/events/${slug}`);
        await page.fill("#name", "Ann Reader");
        await page.fill("#email", `ann-${slug}@example.org`);
        await page.getByLabel("Your job title").fill("Cataloguer");
        await page.getByRole("radio", { name: "South" }).check();
        await page.getByRole("checkbox", { name: "Catalogs" }).check();
        await page.getByRole("checkbox", { name: "Outreach" }).check();
        await page.getByRole("radio", { name: "Yes" }).check();
        await Promise.all([page.waitForNavigation(),
            page.click("form.register button[type=submit]")]);
        assert.match(await page.textContent("h1"), /You are registered/);
        assert.deepEqual(answers(slug), {
            "Your job title": "Cataloguer",
            "Which branch are you from?": "South",
            "Which topics interest you?": ["Catalogs", "Outreach"],
            "May we photograph you?": true,
        });
    } finally {
        await ctx.closeAll();
    }
});

test("on the Spanish page, the English event's text and questions say they are English",
    async () => {
        // WCAG 3.1.2: what staff wrote is marked with the event's language
        // (events.language), the page's own words stay Spanish.
        const slug = eventWithQuestions();
        const ctx = await openBrowser({ locale: "es-MX" });
        try {
            const page = await ctx.newPage();
            await page.goto(`${BASE}/events/${slug}`);
            assert.equal(await page.getAttribute("html", "lang"), "es");
            assert.equal(await page.getAttribute("h1", "lang"), "en");
            assert.equal(await page.getAttribute(".about div, section[aria-labelledby=about] div",
                "lang"), "en");
            // each label's staff text; "(opcional)" and Sí/No are the page's
            const labels = page.locator(".question label[for^=q]:not([for*='-']) > span, " +
                ".question legend > span");
            assert.equal(await labels.count(), 5);
            for (const lang of await labels.evaluateAll((ls) =>
                ls.map((l) => l.getAttribute("lang"))))
                assert.equal(lang, "en");
            assert.equal(await page.locator("label[lang=en]", { hasText: "North" })
                .count(), 1);
            assert.equal(await page.locator("label:not([lang])", { hasText: "Sí" })
                .count(), 1);
            assert.deepEqual(await axe(page), []);
            assert.deepEqual(await axProblems(page), []);
        } finally {
            await ctx.closeAll();
        }
    });
