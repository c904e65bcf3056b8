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

// check(page, file, eml) for every golden, its HTML part in the page.
async function eachEmail(check) {
    assert.ok(FILES.length >= 12, FILES.join(" "));
    const ctx = await openBrowser();
    try {
        const page = await ctx.newPage();
        for (const f of FILES) {
            const eml = readFileSync(path.join(GOLDEN, f), "latin1");
            await page.setContent(part(eml, "text/html"));
            await check(page, f, eml);
        }
    } finally {
        await ctx.closeAll();
    }
}

test("every email's HTML part passes axe-core and has one heading first", async () => {
    await eachEmail(async (page, f) => {
        assert.deepEqual(await axe(page, NOT_A_PAGE), [], `axe on ${f}`);
        const nodes = await axNodes(page);
        const levels = nodes.filter((n) => n.role === "heading")
            .map((n) => n.level);
        assert.deepEqual(levels, [1], `${f}: the headings`);
    });
});

// A link is known by its name alone in a screen reader's list of links:
// the pages the patron's token opens are named as those pages name
// themselves (their button, their heading), never by the URL, whose
// token a screen reader spells out letter by letter.
const TOKEN = "0b7f3c2e-8f0a-4d5e-9c1b-2a3b4c5d6e7f";
const NAMES = {
    en: { cancel: ["Cancel my registration", "Leave the waiting list"],
        confirm: ["Confirm my registration"], registration: ["Your registration"] },
    es: { cancel: ["Cancelar mi inscripción", "Salir de la lista de espera"],
        confirm: ["Confirmar mi inscripción"], registration: ["Su inscripción"] },
};

test("every email's links with the token are named by where they go", async () => {
    await eachEmail(async (page, f, eml) => {
        const names = NAMES[f.includes(".es.") ? "es" : "en"];
        const links = (await axNodes(page)).filter((n) => n.role === "link");
        for (const l of links) {
            assert.ok(!l.name.includes(TOKEN), `${f}: a link named ${l.name}`);
            const m = l.url.match(/\/(cancel|confirm|registration)\//);
            if (m)
                assert.ok(names[m[1]].includes(l.name),
                    `${f}: the link to ${l.url} is named "${l.name}"`);
        }
        if (eml.includes(TOKEN))
            assert.ok(links.some((l) => l.url.includes(TOKEN)), f);
    });
});

// Webmail (Gmail, Outlook on the web) drops the message's <html> and
// <head> and shows what its <body> holds inside its own page, in the
// language of its own interface: the message's language must come with
// the body, or a screen reader reads a Spanish email with an English
// voice.  Here the body inside such a page, in English and in German.
test("every email's language survives a webmail that keeps only its body", async () => {
    await eachEmail(async (page, f) => {
        const lang = await page.getAttribute("html", "lang");
        const inner = await page.evaluate(() => document.body.innerHTML);
        for (const ui of ["en", "de"]) {
            await page.setContent(`<!DOCTYPE html><html lang="${ui}"><head>` +
                `<title>Webmail</title></head><body><main><div class="message">` +
                `${inner}</div></main></body></html>`);
            const said = await page.evaluate(() => [...document.querySelectorAll(
                ".message h1, .message p")].map((e) => e.closest("[lang]").lang));
            assert.ok(said.length > 0, f);
            // the staff's own text may be in the event's language
            assert.equal(said[0], lang, `${f} in a webmail in ${ui}: ${said}`);
            assert.ok(said.every((l) => l === lang || l === "en"), `${f}: ${said}`);
        }
    });
});
