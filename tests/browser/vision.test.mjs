// vision.test.mjs: the public pages as patrons with low vision use them,
// in one Chromium: forced colours (Windows High Contrast), 400% zoom (a
// 320 px wide viewport), the text spacing of WCAG 1.4.12, text at 200%, a
// dark preference, reduced motion, and a visible focus indicator on every
// stop of the form.  Each page is loaded once, in a tab of its own, and
// looked at under each emulation in turn (media features, viewport and an
// added style sheet change a page in place; the POSTs' answers are not
// sent twice).  Each check lists what it finds wrong (wanted: none); the
// last test gives each check a page with the defect it is for, so that
// none of them passes blindly.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { BASE, axe, lastToken, makeEvent, openBrowser, sql, uniq } from "./lib.mjs";

// Staff text with words longer than a phone's line: an address, as staff
// paste them into labels and help texts.
const LONG = "https://catalogue.example.org/research-guides/interlibrary-loan";
const QUESTIONS = JSON.stringify([
    { kind: "short_text", label: `Your job title at ${LONG}`, required: true,
        help: `As on ${LONG}/staff-directory` },
    { kind: "long_text", label: "What do you hope to learn?" },
    { kind: "one_choice", label: `Which branch (${LONG})?`, required: true,
        choices: ["North", `South, ${LONG}/south-branch`] },
    { kind: "several_choices", label: "Which topics interest you?",
        choices: ["Catalogs", `${LONG}/e-books`] },
    { kind: "yes_no", label: "May we photograph you?", required: true },
]);

let ctx;
const tabs = {};    // page name -> the tab showing it

before(async () => {
    const category = uniq("Low vision");
    const slug = makeEvent({ category, capacity: 1, title: `Reading ${LONG}`,
        presenter: `The team of ${LONG}` });
    assert.equal(sql(`SELECT outcome FROM eventbox.set_questions(:'slug',
        :'qs'::jsonb);`, { slug, qs: QUESTIONS }), "ok");
    const cancelled = makeEvent({ category });
    sql(`UPDATE eventbox.events SET status = 'cancelled' WHERE slug = :'slug';`,
        { slug: cancelled });
    const email = `${uniq("vision")}@example.org`;
    ctx = await openBrowser();
    const open = async (name, path) => {
        tabs[name] = await ctx.newPage();
        const r = await tabs[name].goto(BASE + path);
        assert.equal(r.status(), 200, path);
        return tabs[name];
    };
    const send = async (page, selector, status) => {
        const [r] = await Promise.all([page.waitForNavigation(),
            page.click(selector)]);
        assert.equal(r.status(), status, await page.title());
    };
    // The form sent empty: every field and question with its error.
    const errors = async () => send(await open("form-errors", `/events/${slug}`),
        "form.register button[type=submit]", 422);
    const register = async () => {
        const form = await open("registered", `/events/${slug}`);
        await form.fill("#name", "Ann Reader");
        await form.fill("#email", email);
        await form.getByLabel(`Your job title at ${LONG}`).fill("Cataloguer");
        await form.getByLabel("North", { exact: true }).check();
        await form.getByLabel("No", { exact: true }).check();
        await send(form, "form.register button[type=submit]", 200);
        assert.equal(await form.textContent("h1"), "You are registered");
    };
    // The form with errors while the event has its seat, then the seat
    // taken.
    await open("event-cancelled", `/events/${cancelled}`);
    await errors();
    await register();
    const token = lastToken(email);
    await Promise.all([
        // The list while the event is full: its state in words.
        open("list", `/events?category=${encodeURIComponent(category)}`),
        open("my-registration", `/registration/${token}`),
        open("cancel", `/cancel/${token}`),
        // Spanish: longer words on the same controls.
        open("event-es", `/events/${slug}?lang=es`)]);
    assert.match(await tabs.list.textContent(".seats"), /^Full/);
    await send(await open("cancelled", `/cancel/${token}`),
        "text=Cancel my registration", 200);
});

after(async () => {
    await ctx?.closeAll();
});

// Each tab at a viewport, with media features and an added style sheet
// (a constructed one: the pages' Content-Security-Policy refuses <style>
// elements, not the CSSOM), then back to how it was.
async function each(setup, check) {
    const found = [];
    for (const [name, page] of Object.entries(tabs)) {
        await page.setViewportSize(setup.viewport || { width: 1280, height: 900 });
        await page.emulateMedia(setup.media || {});
        if (setup.css) await addCss(page, setup.css);
        await page.evaluate(() => document.activeElement?.blur());
        for (const p of await check(page, name)) found.push(`${name}: ${p}`);
        if (setup.css) await removeCss(page);
        await page.emulateMedia({ colorScheme: null, forcedColors: null,
            reducedMotion: null });
        await page.setViewportSize({ width: 1280, height: 900 });
    }
    return found;
}

async function addCss(page, css) {
    await page.evaluate((text) => {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(text);
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    }, css);
}

async function removeCss(page) {
    await page.evaluate(() => { document.adoptedStyleSheets = []; });
}

// What sticks out or is cut off: the page scrolls sideways, text reaches
// past the viewport's edges, or a box that hides its overflow holds more
// than it shows.  The honeypot and the visually hidden texts are 1 px
// boxes on purpose; the skip link waits off screen until focused.
async function layoutProblems(page) {
    return page.evaluate(() => {
        const out = [];
        const width = window.innerWidth;
        const what = (el) => `${el.tagName.toLowerCase()}${el.className ?
            "." + String(el.className).replace(/ /g, ".") : ""} "${
            el.textContent.trim().slice(0, 30)}"`;
        const hidden = (el) => el.closest(".hp, .visually-hidden, .skip:not(:focus)");
        const sw = document.documentElement.scrollWidth;
        if (sw > width) out.push(`the page is ${sw} px wide in ${width} px`);
        for (const el of document.body.querySelectorAll("*")) {
            if (hidden(el) || /^(SCRIPT|OPTION|SELECT|TEXTAREA|INPUT)$/.test(el.tagName))
                continue;
            const s = getComputedStyle(el);
            if (s.display === "none" || s.visibility !== "visible") continue;
            if (/hidden|clip/.test(s.overflowX + s.overflowY) &&
                (el.scrollWidth > el.clientWidth + 1 ||
                 el.scrollHeight > el.clientHeight + 1))
                out.push(`${what(el)} cuts off what it holds`);
        }
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const range = document.createRange();
        for (let n; (n = walker.nextNode());) {
            const el = n.parentElement;
            if (!n.textContent.trim() || hidden(el) ||
                el.closest("script, select, textarea")) continue;
            range.selectNodeContents(n);
            for (const r of range.getClientRects())
                if (r.width > 0 && (r.right > width + 1 || r.left < -1)) {
                    out.push(`${what(el)} reaches ${Math.round(r.left)} to ${
                        Math.round(r.right)} px of ${width}`);
                    break;
                }
        }
        return out.slice(0, 12);
    });
}

// Text drawn over other text or over a control: each line of text (a text
// node's boxes) and each control, against every other one that neither
// holds it nor is held by it.
async function overlapProblems(page) {
    return page.evaluate(() => {
        const items = [];
        const skip = (el) => el.closest(".hp, .visually-hidden, .skip:not(:focus), " +
            "script, select, textarea");
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n; (n = walker.nextNode());) {
            if (!n.textContent.trim() || skip(n.parentElement)) continue;
            const range = document.createRange();
            range.selectNodeContents(n);
            for (const r of range.getClientRects())
                if (r.width > 0 && r.height > 0)
                    items.push({ r, node: n, label: n.textContent.trim().slice(0, 30) });
        }
        for (const el of document.body.querySelectorAll(
            "input:not([type=hidden]), select, textarea, button, img")) {
            if (el.closest(".hp")) continue;
            const r = el.getBoundingClientRect();
            if (r.width > 0 && r.height > 0)
                items.push({ r, node: el, label: `<${el.tagName.toLowerCase()} ${
                    el.id || el.name || el.textContent.trim().slice(0, 20)}>` });
        }
        const out = [];
        for (let i = 0; i < items.length; i++)
            for (let j = i + 1; j < items.length; j++) {
                const a = items[i], b = items[j];
                if (a.node === b.node || a.node.contains(b.node) ||
                    b.node.contains(a.node)) continue;
                const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
                const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
                if (w > 1 && h > 1) out.push(`"${a.label}" overlaps "${b.label}"`);
            }
        return [...new Set(out)].slice(0, 12);
    });
}

// In forced colours a control's own background is the page's: only its
// border shows where a button or a text box is (WCAG 1.4.11); a link in
// the system's link colour is still told from text by its underline
// (1.4.1).  Forced colours drop background images that are not url()s,
// and a url() image may not show against the system's colours: none may
// say what no text says (looked for with the page's own colours, then
// the page is left in forced colours).
async function forcedColourProblems(page) {
    await page.emulateMedia({ forcedColors: "none" });
    const out = await page.evaluate(() => [...document.body.querySelectorAll("*")]
        .filter((el) => getComputedStyle(el).backgroundImage !== "none" &&
            !el.textContent.trim() && el.getClientRects().length)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} says ` +
            "something with a background image only"));
    await page.emulateMedia({ forcedColors: "active" });
    out.push(...await page.evaluate(() => {
        const found = [];
        const what = (el) => `${el.tagName.toLowerCase()}#${el.id || el.name ||
            el.textContent.trim().slice(0, 20)}`;
        for (const el of document.body.querySelectorAll(
            "button, input:not([type=hidden]), select, textarea")) {
            if (el.closest(".hp")) continue;
            const s = getComputedStyle(el);
            // Check boxes and radio buttons drawn by the system are drawn in
            // its colours.
            if (/^(checkbox|radio)$/.test(el.type) && s.appearance !== "none") continue;
            const sides = ["Top", "Right", "Bottom", "Left"].filter((k) =>
                /none|hidden/.test(s[`border${k}Style`]) ||
                parseFloat(s[`border${k}Width`]) < 1);
            if (sides.length)
                found.push(`${what(el)} has no border (${sides.join(", ")}): ` +
                    "nothing shows where it is");
        }
        for (const el of document.body.querySelectorAll("a[href]")) {
            const s = getComputedStyle(el);
            if (s.display !== "none" && !el.closest(".hp") &&
                !s.textDecorationLine.includes("underline"))
                found.push(`${what(el)} is not underlined: only its colour says it is a link`);
        }
        return found;
    }));
    return out;
}

// Tab through the page from the top (and from the error summary, which
// has the focus when the form comes back): each element focused must be
// in view and draw a ring that it does not draw unfocused: an outline or
// a box-shadow at least 2 px thick, at 3:1 or more against what is behind
// it (WCAG 2.4.7, 1.4.11), read from the styles as drawn (in forced
// colours the browser's: a box-shadow is dropped, colours are the
// system's).  Each element is read focused, then blurred, then focused
// again for Tab to go on from it.
async function focusProblems(page) {
    const out = [];
    const seen = new Set();
    await page.evaluate(() => {
        document.activeElement?.blur();
        document.getElementById("error-summary")?.focus();
        window.scrollTo(0, 0);
    });
    for (let i = 0; i < 100; i++) {
        const stop = await page.evaluate(() => {
            const el = document.activeElement;
            if (!el || el === document.body) return null;
            const rgba = (c) => {
                const v = c.match(/[\d.]+/g).map(Number);
                return v.length === 3 ? [...v, 1] : v;
            };
            const behind = (e) => {
                for (let p = e.parentElement; p; p = p.parentElement) {
                    const c = rgba(getComputedStyle(p).backgroundColor);
                    if (c[3] > 0) return c;
                }
                return [255, 255, 255, 1];
            };
            const over = (c, bg) => c.slice(0, 3).map((v, k) =>
                v * c[3] + bg[k] * (1 - c[3]));
            const lum = (c) => c.map((v) => {
                const x = v / 255;
                return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
            }).reduce((sum, x, k) => sum + x * [0.2126, 0.7152, 0.0722][k], 0);
            const ratio = (a, b) => {
                const [l1, l2] = [lum(a), lum(b)].sort((x, y) => y - x);
                return (l1 + 0.05) / (l2 + 0.05);
            };
            // The rings it draws: "outline 3px 17.1:1".
            const rings = () => {
                const s = getComputedStyle(el);
                const bg = behind(el).slice(0, 3);
                const found = [];
                const ring = (kind, width, colour) => {
                    const c = over(rgba(colour), bg);
                    if (width >= 2 && ratio(c, bg) >= 3)
                        found.push(`${kind} ${width}px ${c.map(Math.round)}`);
                };
                if (s.outlineStyle !== "none")
                    ring("outline", parseFloat(s.outlineWidth), s.outlineColor);
                for (const sh of s.boxShadow === "none" ? [] :
                    s.boxShadow.split(/,(?![^(]*\))/)) {
                    const colour = sh.match(/rgba?\([^)]*\)/)[0];
                    const [x, y, , spread = 0] = sh.replace(colour, "")
                        .match(/-?[\d.]+px/g).map(parseFloat);
                    if (!sh.includes("inset") && x === 0 && y === 0)
                        ring("box-shadow", spread, colour);
                }
                return found;
            };
            const r = el.getBoundingClientRect();
            const name = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${
                (el.getAttribute("href") || el.textContent.trim()).slice(0, 40)}"`;
            const inView = r.bottom > 0 && r.right > 0 && r.top < innerHeight &&
                r.left < innerWidth;
            const on = rings();
            el.blur();
            const off = rings();
            el.focus({ preventScroll: true });
            return { name, inView, drawn: on.filter((x) => !off.includes(x)) };
        });
        if (stop && seen.has(stop.name)) break;     // round the page once
        if (stop) {
            seen.add(stop.name);
            if (!stop.inView) out.push(`${stop.name} is out of view when focused`);
            if (!stop.drawn.length)
                out.push(`${stop.name} looks the same focused and unfocused`);
        }
        await page.keyboard.press("Tab");
    }
    if (seen.size < 3) out.push(`only ${seen.size} stops`);
    await page.evaluate(() => document.activeElement?.blur());
    return out;
}

// Anything that moves, under prefers-reduced-motion: reduce.
async function motionProblems(page) {
    return page.evaluate(() => {
        const out = [];
        if (document.getAnimations().length)
            out.push(`${document.getAnimations().length} animations run`);
        if (getComputedStyle(document.documentElement).scrollBehavior === "smooth")
            out.push("the page scrolls smoothly");
        for (const el of document.querySelectorAll("*")) {
            const s = getComputedStyle(el);
            const long = (v) => v.split(",").some((d) => parseFloat(d) > 0.01);
            if (long(s.transitionDuration) || (s.animationName !== "none" &&
                long(s.animationDuration)))
                out.push(`${el.tagName.toLowerCase()}.${el.className} moves`);
        }
        return out.slice(0, 12);
    });
}

// Every text's size, to compare with the same text enlarged.
async function textSizes(page) {
    return page.evaluate(() => [...document.body.querySelectorAll("*")]
        .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 &&
            n.textContent.trim()) && !el.closest("script, .hp"))
        .map((el) => [`${el.tagName.toLowerCase()} "${el.textContent.trim()
            .slice(0, 30)}"`, parseFloat(getComputedStyle(el).fontSize)]));
}

async function textResizeProblems(page) {
    const before = await textSizes(page);
    await addCss(page, TEXT_200);
    const after = await textSizes(page);
    const out = before.map(([what, size], i) => [what, size, after[i][1]])
        .filter(([, size, big]) => big < 1.95 * size)
        .map(([what, size, big]) => `${what} is ${big} px at 200%, not ${2 * size}`);
    out.push(...await layoutProblems(page), ...await overlapProblems(page));
    await removeCss(page);
    return out;
}

const TEXT_200 = "html { font-size: 200% !important; }";

// WCAG 1.4.12's text spacing, as the bookmarklets that check it set it.
const SPACING = `* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; }
    p { margin-bottom: 2em !important; }`;

// 400% zoom of a 1280 x 1024 window.
const ZOOM_400 = { width: 320, height: 256 };

// The pages that between them use every colour of the stylesheet: the
// list (its filter's box, the states), the form come back with errors
// (hints, errors, the summary, the time-zone form's box, a button).
const COLOURED = /^(list|form-errors)$/;

test("forced colours: every control, link, state and focus ring still shows",
    async () => {
        const found = await each({ media: { forcedColors: "active" } },
            async (page, name) => {
                const out = await forcedColourProblems(page);
                // What the system colours leave of every text: axe's
                // contrast rule reads the forced colours.
                if (COLOURED.test(name))
                    out.push(...await axe(page, [], ["color-contrast"]));
                if (/^(form-errors|cancel)$/.test(name))
                    out.push(...await focusProblems(page));
                return out;
            });
        assert.deepEqual(found, []);
        // The states and errors are words, still there in those colours.
        const page = tabs["form-errors"];
        await page.emulateMedia({ forcedColors: "active" });
        for (const sel of [".error-summary", "p.error", ".state", "[aria-invalid]"])
            assert.ok(await page.locator(sel).first().isVisible(), sel);
        await page.emulateMedia({ forcedColors: null });
    });

test("each stop of the form and of the cancel page shows where the focus is",
    async () => {
        assert.deepEqual(await each({}, async (page, name) =>
            /^(form-errors|cancel)$/.test(name) ? focusProblems(page) : []), []);
    });

test("400% zoom (320 px): no sideways scrolling, nothing cut off or overlapping",
    async () => {
        assert.deepEqual(await each({ viewport: ZOOM_400 }, async (page) => [
            ...await layoutProblems(page), ...await overlapProblems(page)]), []);
    });

test("WCAG 1.4.12's text spacing loses nothing, at 320 and at 1280 px",
    async () => {
        for (const viewport of [ZOOM_400, { width: 1280, height: 900 }])
            assert.deepEqual(await each({ viewport, css: SPACING }, async (page) => [
                ...await layoutProblems(page), ...await overlapProblems(page)]),
            [], `at ${viewport.width} px`);
    });

test("text at 200%: every text twice as large, nothing overlapping", async () => {
    assert.deepEqual(await each({}, textResizeProblems), []);
});

test("a dark preference leaves every text readable", async () => {
    assert.deepEqual(await each({ media: { colorScheme: "dark" } },
        async (page, name) => COLOURED.test(name) ?
            axe(page, [], ["color-contrast", "link-in-text-block"]) : []), []);
});

test("with reduced motion nothing moves", async () => {
    assert.deepEqual(await each({ media: { reducedMotion: "reduce" } },
        motionProblems), []);
});

// Each check against a page with the defect it is for.
test("each check finds the defect it looks for", async () => {
    const page = tabs["form-errors"];
    const withCss = async (css, media, check) => {
        await page.emulateMedia(media);
        await addCss(page, css);
        const found = await check(page);
        await removeCss(page);
        await page.emulateMedia({ colorScheme: null, forcedColors: null,
            reducedMotion: null });
        await page.setViewportSize({ width: 1280, height: 900 });
        return found;
    };
    const forced = { forcedColors: "active" };
    // Borderless controls and links told by colour.
    let found = await withCss("button, input, select { border: none !important; }" +
        "a { text-decoration: none !important; }", forced, forcedColourProblems);
    assert.ok(found.some((p) => /button#.*no border/.test(p)), found.join("\n"));
    assert.ok(found.some((p) => /input#name has no border/.test(p)), found.join("\n"));
    assert.ok(found.some((p) => /not underlined/.test(p)), found.join("\n"));
    // A focus ring drawn with box-shadow alone: forced colours drop it.
    const shadowOnly = ":focus, :focus-visible { outline: none !important; " +
        "box-shadow: 0 0 0 3px #1b1b1b !important; }";
    assert.deepEqual(await withCss(shadowOnly, {}, async (p) =>
        (await focusProblems(p)).filter((x) => /input#name/.test(x))), []);
    found = await withCss(shadowOnly, forced, focusProblems);
    assert.ok(found.some((p) => /input#name/.test(p)), found.join("\n"));
    // No ring at all.
    found = await withCss(":focus-visible { outline: none !important; " +
        "box-shadow: none !important; }", {}, focusProblems);
    assert.ok(found.some((p) => /^button "Register" looks the same/.test(p)),
        found.join("\n"));
    // A state told by an icon alone.
    await page.evaluate(() => document.querySelector(".state")
        .insertAdjacentHTML("afterend", '<span class="icon"></span>'));
    found = await withCss(".icon { display: inline-block; width: 1em; " +
        "height: 1em; background-image: linear-gradient(red, red); }", forced,
    forcedColourProblems);
    await page.evaluate(() => document.querySelector(".icon").remove());
    assert.ok(found.some((p) => /span.* background image only/.test(p)),
        found.join("\n"));
    // Long words kept whole on a phone at 400%.
    found = await withCss("* { overflow-wrap: normal !important; }", {},
        async (p) => {
            await p.setViewportSize(ZOOM_400);
            return layoutProblems(p);
        });
    assert.ok(found.some((p) => /the page is \d+ px wide in 320/.test(p)),
        found.join("\n"));
    // A box of fixed height that hides what the wider spacing pushes out.
    found = await withCss(".field { height: 5.5rem; overflow: hidden; }" + SPACING,
        {}, layoutProblems);
    assert.ok(found.some((p) => /div\.field.* cuts off/.test(p)), found.join("\n"));
    // A box of fixed height that lets it spill over the next one.
    found = await withCss("label { height: 24px; }" + TEXT_200, {},
        overlapProblems);
    assert.ok(found.some((p) => /overlaps/.test(p)), found.join("\n"));
    // Text in pixels does not grow.
    found = await withCss("h1 { font-size: 28px; }", {}, textResizeProblems);
    assert.ok(found.some((p) => /^h1 .* is 28 px at 200%/.test(p)), found.join("\n"));
    // A dark background for the dark preference, the text left dark.
    found = await withCss("@media (prefers-color-scheme: dark) { body, " +
        "input { background: #1b1b1b !important; } }", { colorScheme: "dark" },
    (p) => axe(p, [], ["color-contrast"]));
    assert.ok(found.some((p) => /^color-contrast/.test(p)), found.join("\n"));
    // A transition left on.
    found = await withCss("button { transition: background 0.3s; }",
        { reducedMotion: "reduce" }, motionProblems);
    assert.ok(found.some((p) => /button/.test(p)), found.join("\n"));
});
