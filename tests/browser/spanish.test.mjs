// spanish.test.mjs: a Spanish-speaking patron's browser (Accept-Language
// es-MX): the event page, the form's errors and the answer are in Spanish,
// the language stays from page to page, the switcher leads back to English,
// and axe-core finds nothing on any of them (po/es.po; test_i18n.py reads
// the emails and the calendar files).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, axe, axNodes, axProblems, foreignRequests, makeEvent,
    openBrowser, screenshot, sql, uniq } from "./lib.mjs";

test("a Spanish-speaking patron registers in Spanish", async () => {
    const slug = makeEvent();
    const email = `${uniq("es")}@example.org`;
    const ctx = await openBrowser({ locale: "es-MX" });
    try {
        const page = await ctx.newPage();
        await page.goto(`${BASE}/events/${slug}`);
        assert.equal(await page.getAttribute("html", "lang"), "es");
        assert.equal(await page.textContent("#register"), "Inscripción");
        assert.match(await page.textContent("p.state"),
            /Quedan 5 lugares disponibles\./);
        assert.match(await page.textContent(".facts"),
            /(lunes|martes|miércoles|jueves|viernes|sábado|domingo), \d+ de [a-z]+ de \d{4}/);
        assert.deepEqual(await axe(page), []);
        await screenshot(page, "es-event");

        // A bad form: the errors in Spanish, tied to their fields.
        await page.fill("#email", "no-es-correo");
        await Promise.all([page.waitForNavigation(),
            page.click("form.register button[type=submit]")]);
        assert.equal(await page.getAttribute("html", "lang"), "es");
        assert.match(await page.title(), /^Error: Browser test /);
        assert.match(await page.textContent("#error-summary"),
            /Hay un problema[\s\S]*Escriba su nombre[\s\S]*Escriba un correo electrónico como nombre@example\.org/);
        assert.equal(await page.getAttribute("#name", "aria-invalid"), "true");
        assert.deepEqual(await axe(page), []);
        assert.deepEqual(await axProblems(page), []);
        await screenshot(page, "es-form-errors");

        // Corrected: the answer in Spanish, the registrant's language kept.
        await page.fill("#name", "Ana Ruiz");
        await page.fill("#email", email);
        await Promise.all([page.waitForNavigation(),
            page.click("form.register button[type=submit]")]);
        assert.equal(await page.textContent("h1"),
            "Su inscripción está confirmada");
        assert.equal(await page.title(),
            "Su inscripción está confirmada - Eventos de la biblioteca");
        assert.deepEqual(await axe(page), []);
        assert.deepEqual(await axProblems(page), []);
        assert.equal(sql(`SELECT language FROM eventbox.registrations
            WHERE email = :'email';`, { email }), "es");
        assert.deepEqual(foreignRequests(ctx), []);
    } finally {
        await ctx.closeAll();
    }
});

test("the switcher changes the language and the links keep it", async () => {
    const slug = makeEvent({ category: "Idiomas" });
    const ctx = await openBrowser({ locale: "es-MX" });
    try {
        const page = await ctx.newPage();
        await page.goto(`${BASE}/events?category=Idiomas`);
        assert.equal(await page.getAttribute("html", "lang"), "es");
        const english = page.locator("nav.lang a[hreflang=en]");
        assert.equal(await english.getAttribute("lang"), "en");
        await Promise.all([page.waitForNavigation(), english.click()]);
        assert.equal(await page.getAttribute("html", "lang"), "en");
        assert.match(page.url(), /category=Idiomas&lang=en$/);
        assert.deepEqual(await axe(page), []);
        // The browser still says es-MX; the event's link carries ?lang=en.
        await Promise.all([page.waitForNavigation(),
            page.click(`a[href="/events/${slug}?lang=en"]`)]);
        assert.equal(await page.getAttribute("html", "lang"), "en");
        assert.equal(await page.textContent("#register"), "Registration");
        await Promise.all([page.waitForNavigation(),
            page.click("nav.lang a[hreflang=es]")]);
        assert.equal(await page.getAttribute("html", "lang"), "es");
        assert.deepEqual(await axe(page), []);
    } finally {
        await ctx.closeAll();
    }
});

// The text of an event's image is what staff wrote, in the event's
// language, as its title and description are (WCAG 3.1.2): on the Spanish
// page of an English event a screen reader read the English alt text with
// Spanish pronunciation, the only text of the page's own staff wrote that
// was not marked.
test("on the Spanish page, the English event's image text says it is English",
    async () => {
        const slug = makeEvent();
        sql(`UPDATE eventbox.events SET image_path = '/static/images/poster.png',
             image_alt = 'Three librarians at a laptop'
             WHERE slug = :'slug';`, { slug });
        const ctx = await openBrowser({ locale: "es-MX" });
        try {
            const page = await ctx.newPage();
            await page.goto(`${BASE}/events/${slug}`);
            assert.equal(await page.getAttribute("html", "lang"), "es");
            const img = (await axNodes(page)).filter((n) => n.role === "image");
            assert.deepEqual(img.map((n) => n.name),
                ["Three librarians at a laptop"]);
            // The language a screen reader reads it in: the nearest lang.
            assert.equal(await page.locator("img.event-image").evaluate((e) =>
                e.closest("[lang]").getAttribute("lang")), "en");
            // The page's own words around it stay Spanish.
            assert.equal(await page.locator("dl.facts").evaluate((e) =>
                e.closest("[lang]").getAttribute("lang")), "es");
            assert.deepEqual(await axProblems(page), []);
        } finally {
            await ctx.closeAll();
        }
    });
