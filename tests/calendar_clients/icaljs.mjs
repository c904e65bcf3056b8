// tests/calendar_clients/icaljs.mjs: an iCalendar file (standard input) as
// Mozilla's ical.js reads it (the parser of Thunderbird and of web calendar
// apps), for tests/test_calendar_clients.py: prints JSON, or exits 1 with
// what ical.js refused.
//
// The file's own VTIMEZONEs are registered before any time is read, as a
// calendar app does (ical.js knows no zone database of its own): a time
// with TZID= is turned into an instant by the file's VTIMEZONE alone.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(0, "utf8");
let cal;
try {
	cal = new ICAL.Component(ICAL.parse(text));
} catch (e) {
	process.stderr.write(`ical.js: ${e.message}\n`);
	process.exit(1);
}
if (cal.name !== "vcalendar") {
	process.stderr.write(`ical.js: the file is a ${cal.name}\n`);
	process.exit(1);
}
for (const vtz of cal.getAllSubcomponents("vtimezone"))
	ICAL.TimezoneService.register(vtz);

function instant(prop) {
	if (prop === null)
		return null;
	const t = prop.getFirstValue();
	const tzid = prop.getParameter("tzid");
	if (tzid && !ICAL.TimezoneService.has(tzid))
		throw new Error(`TZID=${tzid} has no VTIMEZONE in the file`);
	return {
		utc: t.toJSDate().toISOString().replace(".000", ""),
		local: t.toString(),
		tzid: tzid || null,
		is_utc: t.zone === ICAL.Timezone.utcTimezone,
	};
}

function text1(comp, name) {
	const p = comp.getFirstProperty(name);
	return p === null ? null : String(p.getFirstValue());
}

let out;
try {
out = {
	method: text1(cal, "method"),
	version: text1(cal, "version"),
	prodid: text1(cal, "prodid"),
	calname: text1(cal, "x-wr-calname"),
	components: cal.getAllSubcomponents().map((c) => c.name),
	timezones: cal.getAllSubcomponents("vtimezone").map((z) =>
	    text1(z, "tzid")),
	events: cal.getAllSubcomponents("vevent").map((v) => {
		const ev = new ICAL.Event(v);
		const lang = (name) => {
			const p = v.getFirstProperty(name);
			return p === null ? null : p.getParameter("language") || null;
		};
		return {
			uid: ev.uid,
			summary: ev.summary,
			summary_language: lang("summary"),
			description: ev.description,
			location: ev.location,
			location_language: lang("location"),
			url: text1(v, "url"),
			status: text1(v, "status"),
			sequence: ev.sequence,
			dtstamp: instant(v.getFirstProperty("dtstamp")),
			start: instant(v.getFirstProperty("dtstart")),
			end: instant(v.getFirstProperty("dtend")),
			duration_s: ev.duration.toSeconds(),
			organizer: text1(v, "organizer"),
			attendees: v.getAllProperties("attendee").map((p) =>
			    String(p.getFirstValue())),
		};
	}),
};
} catch (e) {
	process.stderr.write(`ical.js: ${e.message}\n`);
	process.exit(1);
}
process.stdout.write(JSON.stringify(out));
