/*
 * db_stmts.c: every SQL statement the programs run, by name, with its
 * parameter count (see db.h).  db_open() prepares them all on connect;
 * db_query() runs one by its enum stmt.  Every value is a $n parameter
 * with an explicit cast; nothing is ever pasted into SQL.
 */
#include "db.h"

/* The public fields of an event, in the order json_put_event() reads them.
 * Its times come as seconds (since 1970, and the zone's offset from UTC),
 * which json_put_event() writes as the texts iso_utc() and iso_local()
 * would: a read that formatted them here spent a fifth of its work in
 * PostgreSQL on it (docs/PERFORMANCE.md, "Where a GET's time goes"). */
#define EPOCH(ts) "date_part('epoch', " ts ")"
#define UTC_OFFSET(ts) \
	"date_part('epoch', " ts " AT TIME ZONE timezone) - " EPOCH(ts)
#define EVENT_COLS \
	"id, slug, title, description, presenter, format, location, " \
	"array_to_json(categories)::text AS categories, organizer, " \
	"accessibility_contact, audience, " \
	"array_to_json(learning_outcomes)::text AS learning_outcomes, " \
	"language, " \
	EPOCH("starts_at") " AS starts_epoch, " \
	EPOCH("ends_at") " AS ends_epoch, timezone, " \
	UTC_OFFSET("starts_at") " AS starts_offset, " \
	UTC_OFFSET("ends_at") " AS ends_offset, status, " \
	"capacity, seats_available, waitlist_available, waitlist_enabled, " \
	"registration_state, " \
	EPOCH("registration_opens_at") " AS opens_epoch, " \
	EPOCH("registration_closes_at") " AS closes_epoch"

/* An event in LibCal's terms (libcal.c): never the online URL. */
#define LIBCAL_COLS \
	"id, slug, title, description, presenter, format, location, " \
	"organizer, members_only, status, capacity, seats_taken, wait_list, " \
	"has_registration_opened, has_registration_closed, image_path, " \
	"eventbox.iso_local(starts_at, timezone) AS start, " \
	"eventbox.iso_local(ends_at, timezone) AS \"end\", " \
	"(SELECT coalesce(json_agg(json_build_object('id', " \
	"eventbox.category_id(c), 'name', c)), '[]')::text" \
	" FROM unnest(categories) c) AS category, " \
	"CASE WHEN audience = '' THEN '[]' ELSE json_build_array(" \
	"json_build_object('id', eventbox.category_id(audience), 'name', " \
	"audience))::text END AS audience"

/* An event as staff see it (admin_event() in sql/rules/75_roster.sql), with
 * its holds (h: admin_event_holds() in sql/rules/55_holds.sql) and who it
 * is for (w: admin_event_about(), 75_roster.sql). */
#define ADMIN_EVENT_COLS \
	"id, slug, title, status, timezone, description, presenter, format, " \
	"location, array_to_json(categories)::text AS categories, " \
	"organizer, accessibility_contact, waitlist_enabled, " \
	"waitlist_capacity, eventbox.iso_utc(starts_at) AS starts_at, " \
	"eventbox.iso_utc(ends_at) AS ends_at, " \
	"eventbox.iso_local(starts_at, timezone) AS starts_local, " \
	"eventbox.iso_local(ends_at, timezone) AS ends_local, " \
	"capacity, confirmed, waitlisted, cancelled, attended, " \
	"greatest(capacity - confirmed, 0) AS seats_available, " \
	"members_only, online_url, registration_state, " \
	"eventbox.iso_utc(registration_opens_at) AS registration_opens_at, " \
	"eventbox.iso_utc(registration_closes_at) AS registration_closes_at, " \
	"h.confirmation_required, h.hold_minutes, " \
	"h.registrations_per_minute, h.held_seats, h.held_waiting, h.expired, " \
	"w.audience, array_to_json(w.learning_outcomes)::text AS learning_outcomes, " \
	"w.language"

/* Dates and times as the pages print them, in the zone z (an SQL
 * expression): "Wednesday, December 10, 2026", "2:00pm". */
#define LOCAL_DATE(ts, z) \
	"to_char((" ts ") AT TIME ZONE " z ", 'FMDay, FMMonth FMDD, YYYY')"
#define LOCAL_TIME(ts, z) \
	"lower(to_char((" ts ") AT TIME ZONE " z ", 'FMHH12:MIam'))"
#define PAGE_TIMES(z) \
	LOCAL_DATE("starts_at", z) " AS date_text, " \
	LOCAL_TIME("starts_at", z) " AS start_text, " \
	LOCAL_DATE("ends_at", z) " AS end_date_text, " \
	LOCAL_TIME("ends_at", z) " AS end_text, " \
	"eventbox.iso_local(starts_at, " z ") AS starts_local, " \
	"eventbox.iso_local(ends_at, " z ") AS ends_local"

/* The language of the event of a registration's row (its event_slug), as
 * the public may see it (NULL for a draft's: left unmarked). */
#define EVENT_LANGUAGE \
	"(SELECT l.language FROM eventbox.public_events l" \
	" WHERE l.slug = event_slug) AS event_language"

/* twin: another event of the rows shares the title and the start, so
 * that only its location tells their links apart (page_layout.h). */
#define TWIN "count(*) OVER (PARTITION BY title, starts_at) > 1 AS twin"

const struct db_stmt db_stmts[STMT__MAX] = {
	[STMT_PING] = { "ping", 0, "SELECT 1" },
	[STMT_EVENT_BY_SLUG] = { "event_by_slug", 1,
	    "SELECT " EVENT_COLS ", questions::text AS questions"
	    " FROM eventbox.public_events"
	    " WHERE slug = $1::text" },
	[STMT_EVENT_BY_ID] = { "event_by_id", 1,
	    "SELECT " EVENT_COLS ", questions::text AS questions"
	    " FROM eventbox.public_events"
	    " WHERE id = $1::bigint" },
	/* $1 category, $2 from date, $3 to date (inclusive), $4 text,
	 * $5 limit, $6 offset; NULL means no filter.  Always one row at
	 * least, carrying the total even for a page past the end (its event
	 * columns are then NULL). */
	[STMT_EVENT_LIST] = { "event_list", 6,
	    "WITH m AS (SELECT * FROM eventbox.public_events"
	    " WHERE status = 'published' AND ends_at > now()"
	    " AND ($1::text IS NULL OR $1::text = ANY (categories))"
	    " AND ($2::date IS NULL OR starts_at >= $2::date)"
	    " AND ($3::date IS NULL OR starts_at < $3::date + 1)"
	    " AND ($4::text IS NULL OR strpos(lower(title || ' ' || description"
	    " || ' ' || presenter), lower($4::text)) > 0))"
	    " SELECT t.total, p.* FROM (SELECT count(*) AS total FROM m) t"
	    " LEFT JOIN LATERAL (SELECT " EVENT_COLS " FROM m"
	    " ORDER BY starts_at, id LIMIT $5::integer OFFSET $6::integer) p"
	    " ON true" },
	/* register_from() (the per-network ceiling: sql/rules/55_holds.sql)
	 * with the answers to the event's questions ($8 jsonb), the
	 * client's network ($9) and the registrant's language ($10);
	 * no_waitlist: a full event that takes no waiting list at all (a
	 * published one: a full answer is never a draft's) */
	[STMT_REGISTER_ANSWERED] = { "register_answered", 10,
	    "SELECT outcome, position, event_id, event_slug, field, message,"
	    " CASE WHEN outcome = 'full' THEN NOT EXISTS (SELECT 1"
	    " FROM eventbox.public_events p WHERE p.id = r.event_id"
	    " AND p.waitlist_enabled) END AS no_waitlist"
	    " FROM eventbox.register_answered($1::text, $2::text, $3::text,"
	    " $4::text, $5::text, $6::uuid, $7::text, $8::jsonb, $9::text,"
	    " $10::text) r" },
	/* $1 event slug, $2 answers: every answer that does not fit, for the
	 * form to show them all */
	[STMT_CHECK_ANSWERS] = { "check_answers", 2,
	    "SELECT field, message FROM eventbox.check_answers($1::text,"
	    " $2::jsonb)" },
	[STMT_ADMIN_QUESTIONS] = { "admin_questions", 2,
	    "SELECT eventbox.questions_json(a.id, $1::text)::text AS questions"
	    " FROM eventbox.admin_event($1::text, $2::text) a" },
	/* $1 key, $2 event, $3 questions (jsonb array) */
	[STMT_ADMIN_SET_QUESTIONS] = { "admin_set_questions", 3,
	    "SELECT outcome, field, message"
	    " FROM eventbox.set_questions($2::text, $3::jsonb, $1::text)" },
	[STMT_CANCEL] = { "cancel", 1,
	    "SELECT outcome, promoted, event_slug, was_waitlisted"
	    " FROM eventbox.cancel($1::text)" },
	[STMT_REGISTRATION_BY_TOKEN] = { "registration_by_token", 1,
	    "SELECT status, position, name, email, organization,"
	    " eventbox.iso_utc(registered_at) AS registered_at, event_slug,"
	    " event_title, eventbox.iso_utc(starts_at) AS starts_at,"
	    " eventbox.iso_utc(ends_at) AS ends_at, timezone,"
	    " eventbox.iso_local(starts_at, timezone) AS starts_local,"
	    " eventbox.iso_local(ends_at, timezone) AS ends_local,"
	    " format, location, online_url,"
	    " eventbox.iso_utc(held_until) AS held_until"
	    " FROM eventbox.registration_by_token($1::text)" },
	[STMT_OUTBOX_STATS] = { "outbox_stats", 0,
	    "SELECT pending, failed, oldest_pending_age_s, relay_down_s"
	    " FROM eventbox.outbox_stats()" },

	/* Staff (api_admin.c).  $key is the caller's API key: every staff
	 * function checks it again, so the database, not only the router,
	 * refuses a worker without one. */
	[STMT_API_KEY_NAME] = { "api_key_name", 1,
	    "SELECT name, revoked FROM eventbox.api_key_state($1::text)" },
	/* $1 event (NULL: create), $2 fields as a JSON object, $3 key */
	[STMT_ADMIN_SAVE_EVENT] = { "admin_save_event", 3,
	    "SELECT outcome, field, message, event_id, event_slug"
	    " FROM eventbox.save_event($1::text, $2::jsonb, $3::text)" },
	/* $1 key, $2 event */
	[STMT_ADMIN_EVENT] = { "admin_event", 2,
	    "SELECT " ADMIN_EVENT_COLS
	    " FROM eventbox.admin_event($1::text, $2::text)"
	    " LEFT JOIN LATERAL eventbox.admin_event_holds($1::text, $2::text) h"
	    " ON true"
	    " LEFT JOIN LATERAL eventbox.admin_event_about($1::text, $2::text) w"
	    " ON true" },
	/* $1 key, filters $2 status, $3 category, $4 from, $5 to, $6 q,
	 * $7 limit, $8 offset.  One row at least, with the total. */
	[STMT_ADMIN_EVENT_LIST] = { "admin_event_list", 8,
	    "WITH m AS (SELECT l.event_id, l.n FROM eventbox.admin_event_list("
	    "$1::text, $2::text, $3::text, $4::date, $5::date, $6::text)"
	    " WITH ORDINALITY AS l(event_id, n))"
	    " SELECT t.total, p.* FROM (SELECT count(*) AS total FROM m) t"
	    " LEFT JOIN LATERAL (SELECT a.* FROM (SELECT event_id, n FROM m"
	    " ORDER BY n LIMIT $7::integer OFFSET $8::integer) x"
	    " CROSS JOIN LATERAL (SELECT " ADMIN_EVENT_COLS
	    " FROM eventbox.admin_event($1::text, x.event_id::text)"
	    " LEFT JOIN LATERAL eventbox.admin_event_holds($1::text,"
	    " x.event_id::text) h ON true"
	    " LEFT JOIN LATERAL eventbox.admin_event_about($1::text,"
	    " x.event_id::text) w ON true) a"
	    " ORDER BY x.n) p ON true" },
	/* $1 key, $2 event or NULL, $3 action or NULL, $4 limit, $5 offset,
	 * $6 before (the entries older than this one) or NULL.  The functions
	 * cut the page and count, each through an index: the log is read only
	 * a page at a time (76_admin_lists.sql). */
	[STMT_ADMIN_AUDIT] = { "admin_audit", 6,
	    "SELECT t.total, p.* FROM (SELECT eventbox.admin_audit_total("
	    "$1::text, $2::text, $3::text, $6::bigint) AS total) t"
	    " LEFT JOIN LATERAL (SELECT id, eventbox.iso_utc(at) AS at, actor,"
	    " via, action, event_id, registration_id, details::text AS details"
	    " FROM eventbox.admin_audit($1::text, $2::text, $3::text,"
	    " $6::bigint, $4::integer, $5::integer) ORDER BY id DESC) p"
	    " ON true" },
	/* $1 event, $2 draft|published|cancelled, $3 key */
	[STMT_ADMIN_SET_STATUS] = { "admin_set_status", 3,
	    "SELECT outcome, affected FROM eventbox.set_status($1::text,"
	    " $2::text, $3::text)" },
	/* $1 event, $2 capacity, $3 key */
	[STMT_ADMIN_SET_CAPACITY] = { "admin_set_capacity", 3,
	    "SELECT outcome, promoted, confirmed FROM eventbox.set_capacity("
	    "$1::text, $2::integer, $3::text)" },
	/* $1 key, $2 event, $3 status or NULL, $4 limit, $5 offset.  Always
	 * one row at least, carrying the total (as in event_list).  In the
	 * order of registration, which a new one only extends and a change
	 * of status does not reorder: a script paging through while people
	 * register reads each row once (grouped by status, a newcomer pushed
	 * the rows already read onto the next page). */
	[STMT_ADMIN_ROSTER] = { "admin_roster", 5,
	    "WITH m AS (SELECT * FROM eventbox.admin_roster($1::text, $2::text)"
	    " WHERE $3::text IS NULL OR status = $3::text)"
	    " SELECT t.total, p.* FROM (SELECT count(*) AS total FROM m) t"
	    " LEFT JOIN LATERAL (SELECT registration_id, name, email, library,"
	    " is_member, status, position, source,"
	    " eventbox.iso_utc(registered_at) AS registered_at,"
	    " eventbox.iso_utc(confirmed_at) AS confirmed_at,"
	    " eventbox.iso_utc(promoted_at) AS promoted_at,"
	    " eventbox.iso_utc(cancelled_at) AS cancelled_at,"
	    " eventbox.iso_utc(attended_at) AS attended_at, hold,"
	    " eventbox.iso_utc(held_until) AS held_until,"
	    " eventbox.registration_answers($1::text, registration_id)::text"
	    " AS answers, eventbox.answers_text(eventbox.registration_answers("
	    "$1::text, registration_id)) AS answers_text"
	    " FROM m ORDER BY registration_id"
	    " LIMIT $4::integer OFFSET $5::integer) p ON true" },
	/* $1 event, $2 name, $3 email, $4 organization, $5 key;
	 * no_waitlist as in register_answered */
	[STMT_ADMIN_REGISTER] = { "admin_register", 5,
	    "SELECT outcome, position, registration_id,"
	    " CASE WHEN outcome = 'full' THEN NOT (SELECT a.waitlist_enabled"
	    " FROM eventbox.admin_event($5::text, $1::text) a) END"
	    " AS no_waitlist"
	    " FROM eventbox.staff_register($1::text, $2::text, $3::text,"
	    " $4::text, $5::text)" },
	/* $1 registration, $2 key */
	[STMT_ADMIN_CANCEL] = { "admin_cancel", 2,
	    "SELECT outcome, promoted FROM eventbox.cancel_registration("
	    "$1::bigint, $2::text)" },
	[STMT_ADMIN_PROMOTE] = { "admin_promote", 2,
	    "SELECT outcome FROM eventbox.promote($1::bigint, $2::text)" },
	/* $1 registration, $2 key, $3 attended */
	[STMT_ADMIN_CHECK_IN] = { "admin_check_in", 3,
	    "SELECT outcome FROM eventbox.check_in($1::bigint, $2::text,"
	    " $3::boolean)" },
	/* $1 key, $2 registration */
	[STMT_ADMIN_REGISTRATION] = { "admin_registration", 2,
	    "SELECT registration_id, event_slug, name, email, organization,"
	    " is_member, status, hold"
	    " FROM eventbox.admin_registration($1::text, $2::bigint)" },
	/* $1 registration, $2 fields (a JSON object), $3 key */
	[STMT_ADMIN_CORRECT] = { "admin_correct", 3,
	    "SELECT outcome, field, message, mailed"
	    " FROM eventbox.correct_registration($1::bigint, $2::jsonb,"
	    " $3::text)" },
	/* $1 registration, $2 key */
	[STMT_ADMIN_RESEND] = { "admin_resend", 2,
	    "SELECT outcome, mailed FROM eventbox.resend_confirmation("
	    "$1::bigint, $2::text)" },

	/* LibCal's read API (libcal.c).  $1 first local date (NULL: today
	 * where each event is, so that a New York library's evening is still
	 * its today when UTC's date has moved on), $2 the days after it, $3
	 * limit, $4 category ids as {1,2} or NULL.  The ids are bigint, as
	 * libcal_id_list() takes them (18 digits): one beyond category_id()'s
	 * integer matches nothing, never an error. */
	[STMT_LIBCAL_LIST] = { "libcal_list", 6,
	    "SELECT " LIBCAL_COLS " FROM eventbox.libcal_events"
	    " WHERE status = 'published' AND (starts_at AT TIME ZONE timezone)::date"
	    " BETWEEN coalesce($1::date, (now() AT TIME ZONE timezone)::date)"
	    " AND coalesce($1::date, (now() AT TIME ZONE timezone)::date)"
	    " + $2::integer"
	    " AND ($4::bigint[] IS NULL OR EXISTS (SELECT 1 FROM unnest(categories) c"
	    " WHERE eventbox.category_id(c) = ANY ($4::bigint[])))"
	    " AND ($6::text IS NULL OR strpos(lower(title || ' ' || description"
	    " || ' ' || presenter), lower($6::text)) > 0)"
	    " ORDER BY starts_at, id LIMIT $3::integer OFFSET $5::integer" },
	/* $1 ids as {1,2,3} */
	[STMT_LIBCAL_BY_IDS] = { "libcal_by_ids", 1,
	    "SELECT " LIBCAL_COLS " FROM eventbox.libcal_events"
	    " WHERE id = ANY ($1::bigint[]) ORDER BY starts_at, id" },
	[STMT_LIBCAL_CATEGORIES] = { "libcal_categories", 0,
	    "SELECT DISTINCT eventbox.category_id(c) AS id, c AS name"
	    " FROM eventbox.libcal_events, unnest(categories) c ORDER BY 2" },
	/* $1 the Bearer credential (a staff key or an OAuth token) */
	[STMT_BEARER_ACCESS] = { "bearer_access", 1,
	    "SELECT access, registrations FROM eventbox.bearer_access($1::text)" },
	/* $1 Bearer, $2 event ids as {1,2,3}: event by event, in the order
	 * of their first mention, each in the order libcal_roster() gives */
	[STMT_LIBCAL_ROSTER] = { "libcal_roster", 2,
	    "SELECT r.event_id, r.registration_id, r.name, r.email, r.library,"
	    " r.status, r.position,"
	    " eventbox.iso_utc(r.registered_at) AS registered_at, r.attended_at"
	    " FROM (SELECT u.id, min(u.n) AS n FROM unnest($2::bigint[])"
	    " WITH ORDINALITY AS u(id, n) GROUP BY u.id) i,"
	    " LATERAL eventbox.libcal_roster($1::text, i.id) r"
	    " ORDER BY i.n, r.registration_id" },
	/* OAuth clients (api_oauth.c).  $1 client id, $2 secret, $3 seconds */
	[STMT_OAUTH_TOKEN] = { "oauth_token", 3,
	    "SELECT access_token, expires_in FROM eventbox.oauth_token($1::text,"
	    " $2::text, $3::integer)" },
	/* $1 name, $2 may read registrations, $3 key */
	[STMT_API_CLIENT_CREATE] = { "api_client_create", 3,
	    "SELECT outcome, client_id, client_secret FROM"
	    " eventbox.api_client_create($1::text, $2::boolean, $3::text)" },
	[STMT_API_CLIENT_REVOKE] = { "api_client_revoke", 2,
	    "SELECT eventbox.api_client_revoke($1::text, $2::text) AS revoked" },
	[STMT_API_CLIENT_LIST] = { "api_client_list", 1,
	    "SELECT client_id, name, registrations,"
	    " eventbox.iso_utc(created_at) AS created_at,"
	    " eventbox.iso_utc(revoked_at) AS revoked_at"
	    " FROM eventbox.api_client_list($1::text)" },
	/* Webhooks (api_admin_webhooks.c).  $1 URL, $2 event types as a
	 * text[] literal, $3 key */
	[STMT_WEBHOOK_CREATE] = { "webhook_create", 3,
	    "SELECT outcome, webhook_id, secret,"
	    " array_to_json(events)::text AS events FROM"
	    " eventbox.webhook_create($1::text, $2::text[], $3::text)" },
	[STMT_WEBHOOK_LIST] = { "webhook_list", 1,
	    "SELECT webhook_id, url, array_to_json(events)::text AS events,"
	    " eventbox.iso_utc(created_at) AS created_at,"
	    " eventbox.iso_utc(disabled_at) AS disabled_at, pending, failed,"
	    " last_error FROM eventbox.webhook_list($1::text)" },
	/* $1 webhook id, $2 key */
	[STMT_WEBHOOK_DISABLE] = { "webhook_disable", 2,
	    "SELECT eventbox.webhook_disable($1::bigint, $2::text) AS disabled" },

	/* Commands (apikey.c, purge.c), run as the owner or ops. */
	[STMT_APIKEY_CREATE] = { "apikey_create", 2,
	    "SELECT eventbox.api_key_create($1::text, $2::text)" },
	[STMT_APIKEY_REVOKE] = { "apikey_revoke", 1,
	    "SELECT eventbox.api_key_revoke($1::text) AS revoked" },
	[STMT_APIKEY_LIST] = { "apikey_list", 0,
	    "SELECT name, eventbox.iso_utc(created_at) AS created_at,"
	    " eventbox.iso_utc(revoked_at) AS revoked_at"
	    " FROM eventbox.api_keys ORDER BY name" },
	/* $1 source API, $2 the event's id there, $3 its fields (import.c) */
	[STMT_IMPORT_EVENT] = { "import_event", 3,
	    "SELECT outcome, field, message, event_id, draft"
	    " FROM eventbox.import_event($1::text, $2::bigint, $3::jsonb)" },
	/* $1 source API, $2 the booking's id there, $3 the draft's id, $4
	 * name, $5 email (A-labels), $6 organization, $7 registered_date as
	 * LibCal wrote it, $8 waiting (import.c) */
	[STMT_IMPORT_REGISTRATION] = { "import_registration", 8,
	    "SELECT outcome, position FROM eventbox.import_registration($1::text,"
	    " $2::bigint, $3::bigint, $4::text, $5::text, $6::text, $7::text,"
	    " $8::boolean)" },
	/* $1 source API, $2 the draft's id, $3 the booking ids the source
	 * lists now: the live registrations imported before that it does
	 * not (import.c) */
	[STMT_IMPORT_UNLISTED] = { "import_unlisted", 3,
	    "SELECT i.booking_id, i.registration_id, r.status"
	    " FROM eventbox.registration_imports i"
	    " JOIN eventbox.registrations r ON r.id = i.registration_id"
	    " WHERE i.source = $1::text AND r.event_id = $2::bigint"
	    " AND r.status <> 'cancelled' AND i.booking_id <> ALL ($3::bigint[])"
	    " ORDER BY i.booking_id" },
	/* $1 EVENTBOX_IMPORT_TIMEZONE, checked before anything is read */
	[STMT_IMPORT_ZONE] = { "import_zone", 1,
	    "SELECT eventbox.is_valid_timezone($1::text) AS valid" },
	/* $1 retention days, $2 registrations per step */
	[STMT_PURGE_STEP] = { "purge_step", 2,
	    "SELECT rows, finished, event_id FROM eventbox.purge_step($1::integer,"
	    " $2::integer)" },

	/* $1 slug, $2 the zone to show times in (checked against the
	 * pages' list of zones), NULL for the event's own.  waiting: the
	 * waiting list's length as LibCal is told it (page_register.c's
	 * honeypot answers with the place a registration would get). */
	[STMT_PAGE_EVENT] = { "page_event", 2,
	    "SELECT slug, title, description, presenter, format, location,"
	    " array_to_json(categories)::text AS categories, organizer,"
	    " accessibility_contact, timezone, capacity, seats_available,"
	    " waitlist_available, waitlist_enabled, (SELECT l.wait_list"
	    " FROM eventbox.libcal_events l WHERE l.id = p.id) AS waiting,"
	    " registration_state, image_path, image_alt,"
	    " image_decorative, status, members_only, audience,"
	    " array_to_json(learning_outcomes)::text AS learning_outcomes,"
	    " language,"
	    " questions::text AS questions, confirmation_required,"
	    " eventbox.iso_local(ends_at, coalesce($2::text, timezone))"
	    " AS ends_local,"
	    " eventbox.ical_utc(starts_at) AS start_utc,"
	    " eventbox.ical_utc(ends_at) AS end_utc,"
	    " eventbox.iso_utc(starts_at) AS starts_iso,"
	    " eventbox.iso_utc(ends_at) AS ends_iso, ends_at <= now() AS ended, "
	    PAGE_TIMES("coalesce($2::text, timezone)") ","
	    " " LOCAL_DATE("registration_opens_at",
	    "coalesce($2::text, timezone)") " AS opens_date_text,"
	    " " LOCAL_TIME("registration_opens_at",
	    "coalesce($2::text, timezone)") " AS opens_time_text,"
	    " eventbox.iso_local(registration_opens_at,"
	    " coalesce($2::text, timezone)) AS opens_local"
	    " FROM eventbox.public_events p WHERE slug = $1::text" },
	/* $1 category or NULL, $2 limit, $3 offset.  One row at least, with
	 * the total (event columns NULL past the end), as in event_list. */
	[STMT_PAGE_LIST] = { "page_list", 3,
	    "WITH m AS (SELECT *, " TWIN " FROM eventbox.public_events"
	    " WHERE status = 'published' AND ends_at > now()"
	    " AND ($1::text IS NULL OR $1::text = ANY (categories)))"
	    " SELECT t.total, p.* FROM (SELECT count(*) AS total FROM m) t"
	    " LEFT JOIN LATERAL (SELECT slug, title, language, format, timezone,"
	    " location, twin,"
	    " seats_available, waitlist_available, registration_state, "
	    PAGE_TIMES("timezone") " FROM m"
	    " ORDER BY starts_at, id LIMIT $2::integer OFFSET $3::integer) p"
	    " ON true" },
	/* $1 the event page's slug: the next published events that have not
	 * started, other than it, those sharing a category with it first,
	 * each with its date and time in its own zone, twin among them. */
	[STMT_PAGE_UPCOMING] = { "page_upcoming", 1,
	    "SELECT *, " TWIN " FROM (SELECT u.slug, u.title, u.language, u.timezone,"
	    " u.location, u.starts_at, u.id,"
	    " u.categories && e.categories AS near,"
	    " eventbox.iso_local(u.starts_at, u.timezone) AS starts_local, "
	    LOCAL_DATE("u.starts_at", "u.timezone") " AS date_text, "
	    LOCAL_TIME("u.starts_at", "u.timezone") " AS start_text"
	    " FROM eventbox.public_events u,"
	    " (SELECT id, categories FROM eventbox.public_events"
	    " WHERE slug = $1::text) e"
	    " WHERE u.status = 'published' AND u.starts_at > now()"
	    " AND u.id <> e.id"
	    " ORDER BY near DESC, u.starts_at, u.id LIMIT 3) u"
	    " ORDER BY near DESC, starts_at, id" },
	[STMT_PAGE_CATEGORIES] = { "page_categories", 0,
	    "SELECT DISTINCT unnest(categories) AS category"
	    " FROM eventbox.public_events"
	    " WHERE status = 'published' AND ends_at > now() ORDER BY 1" },
	/* DTSTAMP the event's last change, as in the feed (STMT_FEED): the
	 * same bytes, and ETag, until the event changes. */
	[STMT_PAGE_ICS] = { "page_ics", 1,
	    "SELECT id, slug, title, description, location, format, timezone,"
	    " status, ical_sequence, language,"
	    " eventbox.vtimezone(timezone, ARRAY[starts_at, ends_at])"
	    " AS vtimezone,"
	    " eventbox.ical_local(starts_at, timezone) AS start_local,"
	    " eventbox.ical_local(ends_at, timezone) AS end_local,"
	    " eventbox.ical_repeated(starts_at, timezone) AS start_repeated,"
	    " eventbox.ical_repeated(ends_at, timezone) AS end_repeated,"
	    " eventbox.ical_utc(updated_at) AS dtstamp"
	    " FROM eventbox.public_events WHERE slug = $1::text" },
	/* Feeds and the embeddable list (page_feeds.c): $1 category or NULL,
	 * $2 limit.  Each zone's VTIMEZONE on its first row only, made once
	 * for the starts and ends of all that zone's events in the feed (the
	 * windows run over the rows the LIMIT kept); DTSTAMP the event's last
	 * change, so that an unchanged feed is the same bytes (its ETag); the
	 * local date's parts for words in other languages. */
	[STMT_FEED] = { "feed", 2,
	    "SELECT id, slug, title, description, location, format, timezone,"
	    " language,"
	    " eventbox.ical_local(starts_at, timezone) AS start_local,"
	    " eventbox.ical_local(ends_at, timezone) AS end_local,"
	    " eventbox.ical_repeated(starts_at, timezone) AS start_repeated,"
	    " eventbox.ical_repeated(ends_at, timezone) AS end_repeated,"
	    " eventbox.ical_utc(updated_at) AS dtstamp, ical_sequence,"
	    " eventbox.iso_utc(updated_at) AS updated,"
	    " eventbox.iso_utc(max(updated_at) OVER ()) AS feed_updated,"
	    " CASE WHEN row_number() OVER (zone ORDER BY starts_at, id) = 1"
	    " THEN eventbox.vtimezone(timezone, array_agg(starts_at) OVER zone"
	    " || array_agg(ends_at) OVER zone) END AS vtimezone, "
	    PAGE_TIMES("timezone") ","
	    " to_char(starts_at AT TIME ZONE timezone, 'YYYY-MM-DD ID HH24:MI')"
	    " AS local_parts, to_char(ends_at AT TIME ZONE timezone,"
	    " 'YYYY-MM-DD ID HH24:MI') AS end_parts, " TWIN
	    " FROM (SELECT * FROM eventbox.public_events"
	    " WHERE status = 'published' AND ends_at > now()"
	    " AND ($1::text IS NULL OR $1::text = ANY (categories))"
	    " ORDER BY starts_at, id LIMIT $2::integer) e"
	    " WINDOW zone AS (PARTITION BY timezone) ORDER BY starts_at, id" },
	/* ended: as eventbox.cancel() decides it, which then cancels
	 * nothing (sql/rules/60_cancel.sql) */
	[STMT_PAGE_REGISTRATION] = { "page_registration", 1,
	    "SELECT status, position, name, event_slug, event_title, format,"
	    " timezone, ends_at <= now() AS ended, " EVENT_LANGUAGE ","
	    " language, " PAGE_TIMES("timezone")
	    " FROM eventbox.registration_by_token($1::text)" },
	/* A held registration's confirmation (sql/rules/55_holds.sql). */
	[STMT_CONFIRM] = { "confirm", 1,
	    "SELECT outcome, status, position, event_slug"
	    " FROM eventbox.confirm_registration($1::text)" },
	/* $1 token, $2 the zone to show times in or NULL */
	[STMT_PAGE_HOLD] = { "page_hold", 2,
	    "SELECT hold, status, name, event_slug, event_title, format,"
	    " timezone, " EVENT_LANGUAGE ", language,"
	    " " PAGE_TIMES("coalesce($2::text, timezone)") ","
	    " eventbox.iso_local(held_until, coalesce($2::text, timezone))"
	    " AS held_until_local"
	    " FROM eventbox.registration_hold($1::text)" },
	/* $1 token, $2 the zone to show times in or NULL: the "my
	 * registration" page, with the event's public details; lapsed: a
	 * hold that ended unconfirmed (its status says only cancelled);
	 * ended: the event is over, as for STMT_PAGE_REGISTRATION; started:
	 * nobody moves up from the waiting list any more (promote_waiting). */
	[STMT_PAGE_MY_REGISTRATION] = { "page_my_registration", 2,
	    "SELECT status, position, name, event_slug, event_title, format,"
	    " location, online_url, timezone, presenter, accessibility_contact,"
	    " event_status, event_language, language, ends_at <= now() AS ended,"
	    " starts_at <= now() AS started, " PAGE_TIMES("coalesce($2::text, timezone)") ","
	    " eventbox.iso_local(held_until, coalesce($2::text, timezone))"
	    " AS held_until_local, (SELECT h.hold = 'expired'"
	    " FROM eventbox.registration_hold($1::text) h) AS lapsed"
	    " FROM (SELECT r.*, e.presenter, e.accessibility_contact,"
	    " e.status AS event_status, e.language AS event_language"
	    " FROM eventbox.registration_by_token($1::text) r"
	    " LEFT JOIN eventbox.public_events e ON e.slug = r.event_slug) x" },

	/* The mailer (mailer.c), the functions of sql/rules/80_mail*.sql.
	 * Each message is one transaction of its own. */
	[STMT_BEGIN] = { "begin", 0, "BEGIN" },
	[STMT_COMMIT] = { "commit", 0, "COMMIT" },
	[STMT_ROLLBACK] = { "rollback", 0, "ROLLBACK" },
	/* db_query_durable(): this transaction's commit does not wait for
	 * the flush; the next one does (db.c).  It must write WAL for that:
	 * PostgreSQL commits a transaction that wrote none (an id alone is
	 * not enough) without waiting.  A transactional logical decoding
	 * message is the smallest such record, and nothing reads it. */
	[STMT_ASYNC_COMMIT] = { "async_commit", 0,
	    "SELECT pg_catalog.set_config('synchronous_commit', 'off', true)" },
	[STMT_DURABLE] = { "durable", 0,
	    "SELECT pg_catalog.pg_logical_emit_message(true, 'eventbox', '')" },
	[STMT_MAIL_LISTEN] = { "mail_listen", 0, "LISTEN eventbox_outbox" },
	/* $1 how many */
	[STMT_MAIL_CLAIM] = { "mail_claim", 1,
	    "SELECT id, kind, email, name, token, registration_status,"
	    " position, event_slug, title, description, presenter, format,"
	    " location, online_url, human_when, timezone, ical_start, ical_end,"
	    " ical_stamp, vtimezone, sequence, event_id, was_when,"
	    " was_location, link_changed, language, was_start, was_end,"
	    " was_tz, calendar_sent, by_staff, place_taken, has_waitlist,"
	    " held_until_local, moved_up, left_waitlist, event_language,"
	    " ical_start_repeated, ical_end_repeated, queued_at, was_format"
	    " FROM eventbox.mail_claim($1::integer)" },
	/* $1 outbox id; whether it is still ours, and its link (renewed
	 * there when revoked since the claim).  The transaction of a batch's
	 * later message commits
	 * its mark synchronously like the first: with the mark's flush not
	 * waited for, a failover lost the marks not yet on the standby and
	 * `make rehearse` counted 14 messages sent twice. */
	[STMT_MAIL_RELOCK] = { "mail_relock", 1,
	    "SELECT locked, token FROM eventbox.mail_relock($1::bigint)" },
	/* Before a mark: one that gives up at a timeout is rolled back to
	 * here, the row still locked, and run again (mailer.c). */
	[STMT_MAIL_SAVEPOINT] = { "mail_savepoint", 0, "SAVEPOINT mark" },
	[STMT_MAIL_UNDO] = { "mail_undo", 0, "ROLLBACK TO SAVEPOINT mark" },
	/* relay_back: the relay was down until this message (the log says
	 * so once) */
	[STMT_MAIL_SENT] = { "mail_sent", 1,
	    "SELECT eventbox.mail_sent($1::bigint) AS relay_back" },
	/* $1 outbox id, $2 error, $3 first pause (ms), $4 longest pause
	 * (ms); relay_down: it answered until now (the log says so once) */
	[STMT_MAIL_RELAY_FAILED] = { "mail_relay_failed", 4,
	    "SELECT eventbox.mail_relay_failed($1::bigint, $2::text,"
	    " $3::integer, $4::integer) AS relay_down" },
	/* $1 outbox id, $2 error, $3 tries allowed, $4 first retry (ms) */
	[STMT_MAIL_FAILED] = { "mail_failed", 4,
	    "SELECT eventbox.mail_failed($1::bigint, $2::text, $3::integer,"
	    " $4::integer) AS status" },
	/* $1 hours before an event */
	[STMT_MAIL_REMINDERS] = { "mail_reminders", 1,
	    "SELECT eventbox.queue_reminders($1::integer) AS queued,"
	    " eventbox.expire_holds() AS expired" },
	[STMT_MAIL_NEXT_DUE] = { "mail_next_due", 0,
	    "SELECT eventbox.mail_next_due() AS ms" },
	/* Webhook deliveries (webhook.c, sql/rules/82_webhooks.sql), one
	 * transaction each like a message.  $1 how many, $2 the webhooks
	 * that yield to the others (webhook.c) */
	[STMT_WEBHOOK_CLAIM] = { "webhook_claim", 2,
	    "SELECT id, webhook_id, msg_id, url, secret, body, attempts"
	    " FROM eventbox.webhook_claim($1::integer, $2::bigint[])" },
	[STMT_WEBHOOK_DELIVERED] = { "webhook_delivered", 1,
	    "SELECT eventbox.webhook_delivered($1::bigint)" },
	/* $1 outbox id, $2 error, $3 tries allowed, $4 first retry (ms),
	 * $5 longest wait (ms), $6 no answer at all */
	[STMT_WEBHOOK_FAILED] = { "webhook_failed", 6,
	    "SELECT eventbox.webhook_failed($1::bigint, $2::text, $3::integer,"
	    " $4::integer, $5::integer, $6::boolean) AS status" },
};
