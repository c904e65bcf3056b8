// lib.mjs: what the browser tests share.  Started by
// tests/test_pages_browser.py with the test stack's environment
// (EVENTBOX_URL, PGHOST/PGPORT/PGDATABASE/PGUSER as the database owner,
// EVENTBOX_SCREENSHOTS).
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);

export const BASE = process.env.EVENTBOX_URL;
if (!BASE) throw new Error("EVENTBOX_URL is not set: run through make test");
export const ORIGIN = new URL(BASE).origin;
export const SHOTS = process.env.EVENTBOX_SCREENSHOTS || "var/test/screenshots";
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// Without these flags Chromium tries to reach Google's services and hangs
// on a closed network.
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"];

// A persistent context on a fresh profile directory: one browser, deleted
// afterwards.  Every request the pages make is recorded in ctx.requests.
export async function openBrowser(options = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), "eventbox-chromium-"));
    const ctx = await chromium.launchPersistentContext(dir, {
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: ARGS,     // the fresh --user-data-dir is dir, passed above
        viewport: { width: 1280, height: 900 },
        javaScriptEnabled: options.javaScript !== false,
        // The browser's language: its Accept-Language header (es-MX: the
        // pages answer in Spanish, tests/browser/spanish.test.mjs).
        locale: options.locale || "en-US",
        timeout: 60000,
    });
    ctx.requests = [];
    ctx.on("request", (r) => ctx.requests.push(r.url()));
    ctx.closeAll = async () => {
        await ctx.close();
        rmSync(dir, { recursive: true, force: true });
    };
    return ctx;
}

// psql as the database owner; variables are quoted by psql (:'name').
export function sql(query, vars = {}) {
    const args = ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"];
    for (const [k, v] of Object.entries(vars)) args.push("-v", `${k}=${v}`);
    return execFileSync("psql", args, { input: query, encoding: "utf8" }).trim();
}

export function uniq(prefix) {
    return `${prefix}-${randomBytes(5).toString("hex")}`;
}

// A published event starting in a week (or in cols.days), 2:00pm-3:00pm
// New York time.
export function makeEvent(cols = {}) {
    const slug = uniq("b");
    const v = {
        slug, title: `Browser test ${slug}`, capacity: 5, waitlist: "true",
        description: "First paragraph.\n\nSecond paragraph.",
        presenter: "A presenter", category: "Testing", days: 7, ...cols,
    };
    sql(`INSERT INTO eventbox.events (slug, title, description, presenter,
            format, categories, organizer, accessibility_contact, starts_at,
            ends_at, timezone, capacity, waitlist_enabled, status,
            online_url)
         SELECT :'slug', :'title', :'description', :'presenter', 'online',
            ARRAY[:'category'], 'Learning Services', 'ce@example.org',
            (d + time '14:00') AT TIME ZONE 'America/New_York',
            (d + time '15:00') AT TIME ZONE 'America/New_York',
            'America/New_York', :'capacity'::int, :'waitlist'::boolean,
            'published', 'https://meet.example.org/secret'
         FROM (SELECT current_date + :'days'::int AS d) t;`, v);
    return slug;
}

export function lastToken(email) {
    return sql(`SELECT token FROM eventbox.outbox WHERE email = :'email'
                AND token IS NOT NULL ORDER BY id DESC LIMIT 1;`, { email });
}

export async function seatsAvailable(slug) {
    const r = await fetch(`${BASE}/api/v1/events/${slug}`);
    return (await r.json()).seats_available;
}

// axe-core in the page; returns the violations (wanted: none).  skip:
// the ids of rules not to run (the emails' reason is in mail.test.mjs);
// only: the ids of the only rules to run (vision.test.mjs: the contrast
// rules, under each emulation), else every rule of the WCAG 2.1 A and AA
// levels and the best practices.
export async function axe(page, skip = [], only = null) {
    // With JavaScript off in the context, evaluate still runs (it is the
    // test's script, not the page's).  Once a page.
    if (!(await page.evaluate(() => "axe" in window)))
        await page.addScriptTag({ content: AXE }).catch(async () => {
            await page.evaluate(AXE);
        });
    const result = await page.evaluate(async ([off, rules]) =>
        await window.axe.run(document, {
            runOnly: rules ? { type: "rule", values: rules } :
                { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a",
                    "wcag21aa", "best-practice"] },
            rules: Object.fromEntries(off.map((id) => [id, { enabled: false }])),
        }), [skip, only]);
    return result.violations.map((v) =>
        `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

export async function screenshot(page, name) {
    mkdirSync(SHOTS, { recursive: true });
    for (const width of [1280, 375]) {
        await page.setViewportSize({ width, height: 900 });
        await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`),
            fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
}

// Nothing from anywhere but the site itself.
export function foreignRequests(ctx) {
    return ctx.requests.filter((u) => !u.startsWith(ORIGIN + "/") &&
        !u.startsWith("data:") && u !== "about:blank");
}

// Chromium's accessibility tree (CDP Accessibility.getFullAXTree) walked
// in document order: visit(node) for every node, ignored ones too (its
// children are walked unless it returns false).
async function axWalk(page, visit) {
    const cdp = await page.context().newCDPSession(page);
    const { nodes } = await cdp.send("Accessibility.getFullAXTree");
    await cdp.detach();
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    const walk = (n) => {
        if (visit(n) === false) return;
        for (const c of n.childIds || [])
            if (byId.has(c)) walk(byId.get(c));
    };
    walk(nodes[0]);
}

// What a screen reader is given: the tree, one
// { role, name, description, level, required, invalid, focused, url } per
// node not ignored (aria-hidden and display:none nodes are left out).
export async function axNodes(page) {
    const out = [];
    await axWalk(page, (n) => {
        if (n.ignored) return;
        const node = { role: n.role?.value, name: n.name?.value || "",
            description: n.description?.value || "" };
        for (const p of n.properties || [])
            node[p.name] = p.value.value;
        out.push(node);
    });
    return out;
}

// The page as a screen reader reads it on from the top: a link by its
// name (not its text inside), other text as it is; aria-hidden text is
// not in the tree.
export async function axReading(page) {
    const said = [];
    await axWalk(page, (n) => {
        if (n.ignored) return;
        if (n.role?.value === "link") {
            said.push(n.name?.value || "");
            return false;
        }
        if (n.role?.value === "StaticText") said.push(n.name?.value || "");
    });
    return said.join(" ");
}

// What any page owes a screen reader, as a list of problems (wanted:
// none): a title, one h1 and no heading after one more than a level
// below the last, the banner, main and contentinfo landmarks, a name on
// every link, button and form control, and links of one name leading to
// one place.
export async function axProblems(page) {
    const nodes = await axNodes(page);
    const problems = [];
    if (!(await page.title())) problems.push("no title");
    const levels = nodes.filter((n) => n.role === "heading").map((n) => n.level);
    if (levels.filter((l) => l === 1).length !== 1 || levels[0] !== 1)
        problems.push(`headings ${levels.join(",")}: not one h1 first`);
    levels.forEach((l, i) => {
        if (i > 0 && l > levels[i - 1] + 1)
            problems.push(`heading level ${l} after ${levels[i - 1]}`);
    });
    for (const role of ["banner", "main", "contentinfo"])
        if (nodes.filter((n) => n.role === role).length !== 1)
            problems.push(`not one ${role} landmark`);
    const named = ["link", "button", "textbox", "combobox", "checkbox", "radio",
        "radiogroup", "group", "searchbox", "region", "navigation"];
    for (const n of nodes)
        if (named.includes(n.role) && !n.name.trim())
            problems.push(`a ${n.role} without a name`);
    const links = new Map();
    for (const n of nodes.filter((x) => x.role === "link")) {
        if (links.has(n.name) && links.get(n.name) !== n.url)
            problems.push(`links named "${n.name}" go to different places`);
        links.set(n.name, n.url);
    }
    return problems;
}
