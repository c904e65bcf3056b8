-- rules/90_grants.sql: who may do what, all in one place.
--
-- Applied after every other rule file, so a function or view created anew
-- gets its grants here.  Nothing in schema eventbox is open to PUBLIC: a
-- function is callable only by the roles named below (and the owner).
-- Functions used inside the public views (the seat helpers, iso_local) need
-- EXECUTE by whoever reads those views: PostgreSQL checks a view's function
-- calls against the reader, not the view's owner.
--
--   eventbox_service  the web workers: the public rules and reads, and the
--                     staff functions, which each demand a staff API key
--   eventbox_mailer   the mailer: claims and marks the outbox
--   eventbox_ops      staff at a psql prompt: everything staff do, plain
--                     SQL on events and member libraries (audited by
--                     trigger), registrations only through functions

REVOKE ALL ON ALL TABLES IN SCHEMA eventbox FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA eventbox FROM PUBLIC;
GRANT USAGE ON SCHEMA eventbox TO eventbox_service, eventbox_ops, eventbox_mailer;
-- The row rules (rules/12_row_checks.sql) and their error, run as whoever writes.
GRANT EXECUTE ON FUNCTION eventbox.refuse_row(text, text, text),
                          eventbox.refuse_delete(text, text, text),
                          eventbox.time_in_range(timestamptz),
                          eventbox.is_language_tag(text),
                          eventbox.event_problem(eventbox.events)
  TO eventbox_service, eventbox_ops, eventbox_mailer;

------------------------------------------------------------------------------
-- The service and staff alike.

GRANT EXECUTE ON FUNCTION
    eventbox.register(text, text, text, text, text, uuid, text),
    eventbox.register_from(text, text, text, text, text, text, uuid, text),
    eventbox.cancel(text),
    eventbox.registration_by_token(text),
    eventbox.free_seats(eventbox.events),
    eventbox.waitlist_open(eventbox.events),
    eventbox.seat_outcome(eventbox.events),
    eventbox.closes_at(eventbox.events),
    eventbox.registration_state(eventbox.events),
    eventbox.registration_state_at(eventbox.events, timestamptz),
    eventbox.needs_confirmation(eventbox.events),
    eventbox.public_seats(eventbox.events),
    eventbox.public_waiting(eventbox.events),
    eventbox.hold_state(eventbox.registrations),
    eventbox.confirm_registration(text),
    eventbox.registration_hold(text),
    eventbox.iso_utc(timestamptz),
    eventbox.iso_local(timestamptz, text),
    eventbox.utc_offset(timestamptz, text),
    eventbox.ical_offset(interval),
    eventbox.vtimezone(text, timestamptz[]),
    eventbox.vtimezone(text, timestamptz),
    eventbox.ical_local(timestamptz, text),
    eventbox.ical_utc(timestamptz),
    eventbox.ical_repeated(timestamptz, text),
    eventbox.outbox_stats(),
    -- staff functions: each checks the staff key itself (staff_actor)
    eventbox.api_key_name(text),
    eventbox.api_key_state(text),
    eventbox.save_event(text, jsonb, text),
    eventbox.set_status(text, text, text),
    eventbox.set_capacity(text, integer, text),
    eventbox.staff_register(text, text, text, text, text),
    eventbox.cancel_registration(bigint, text),
    eventbox.promote(bigint, text),
    eventbox.check_in(bigint, text, boolean),
    eventbox.correct_registration(bigint, jsonb, text),
    eventbox.resend_confirmation(bigint, text),
    eventbox.admin_registration(text, bigint),
    eventbox.admin_roster(text, text),
    eventbox.admin_event(text, text),
    eventbox.admin_event_holds(text, text),
    eventbox.admin_event_about(text, text),
    eventbox.admin_event_list(text, text, text, date, date, text),
    eventbox.admin_audit(text, text, text, bigint, integer, integer),
    eventbox.admin_audit_total(text, text, text, bigint),
    eventbox.questions_json(bigint, text),
    eventbox.set_questions(text, jsonb, text),
    eventbox.register_answered(text, text, text, text, text, uuid, text, jsonb, text),
    eventbox.register_answered(text, text, text, text, text, uuid, text, jsonb, text, text),
    eventbox.check_answers(text, jsonb),
    eventbox.registration_answers(text, bigint),
    eventbox.answers_text(json),
    eventbox.category_id(text),
    -- LibCal's OAuth clients (45_api_clients.sql): staff functions check the
    -- key; oauth_token and bearer_access take the client's own secrets
    eventbox.api_client_create(text, boolean, text),
    eventbox.api_client_revoke(text, text),
    eventbox.api_client_list(text),
    eventbox.oauth_token(text, text, integer),
    eventbox.bearer_access(text),
    eventbox.libcal_roster(text, bigint),
    -- webhooks (82_webhooks.sql): staff functions, checking the key
    eventbox.webhook_create(text, text[], text),
    eventbox.webhook_list(text),
    eventbox.webhook_disable(bigint, text)
  TO eventbox_service, eventbox_ops;
GRANT SELECT ON eventbox.public_events, eventbox.libcal_events, eventbox.timezone_names
   TO eventbox_service, eventbox_ops;

------------------------------------------------------------------------------
-- The mailer (and staff, who may drive it by hand).

GRANT EXECUTE ON FUNCTION
    eventbox.mail_claim(integer),
    eventbox.mail_relock(bigint),
    eventbox.mail_sent(bigint),
    eventbox.mail_failed(bigint, text, integer, integer),
    eventbox.mail_relay_failed(bigint, text, integer, integer),
    eventbox.queue_reminders(integer),
    eventbox.mail_next_due(),
    eventbox.expire_holds(text)
  TO eventbox_mailer, eventbox_ops;
-- The mailer alone: webhook_claim() hands out each webhook's signing
-- secret, which only the owner may read otherwise (no grant on
-- eventbox.webhooks); with it staff could sign deliveries to the CRM.
REVOKE EXECUTE ON FUNCTION
    eventbox.webhook_claim(integer, bigint[]),
    eventbox.webhook_delivered(bigint),
    eventbox.webhook_failed(bigint, text, integer, integer, integer, boolean)
  FROM eventbox_ops;
GRANT EXECUTE ON FUNCTION
    eventbox.webhook_claim(integer, bigint[]),
    eventbox.webhook_delivered(bigint),
    eventbox.webhook_failed(bigint, text, integer, integer, integer, boolean)
  TO eventbox_mailer;

------------------------------------------------------------------------------
-- Staff only.

GRANT EXECUTE ON FUNCTION
    eventbox.cancel_registration(bigint),
    eventbox.set_capacity(text, integer),
    eventbox.is_valid_timezone(text),
    eventbox.has_holds(eventbox.events),    -- holds_end_by_start's WHEN, on their UPDATEs
    eventbox.token_hash(text),
    eventbox.mail_retry(bigint),
    eventbox.mail_relay_retry(),
    eventbox.human_when(timestamptz, timestamptz, text),
    eventbox.human_zone(text),
    eventbox.purge(integer, text),
    eventbox.purge_step(integer, integer, text),
    eventbox.import_event(text, bigint, jsonb),
    eventbox.import_registration(text, bigint, bigint, text, text, text, text, boolean),
    eventbox.webhook_retry(bigint),
    eventbox.webhook_event_types(),
    eventbox.attended(eventbox.registrations)   -- event_report's, as its reader
  TO eventbox_ops;
GRANT SELECT ON eventbox.events, eventbox.registrations, eventbox.outbox,
                eventbox.audit_log, eventbox.organizations, eventbox.event_stats,
                eventbox.event_summary, eventbox.roster, eventbox.staff_roster,
                eventbox.event_report, eventbox.outbox_backlog, eventbox.outbox_failures,
                eventbox.event_imports, eventbox.registration_imports,
                eventbox.waiting_list, eventbox.questions, eventbox.answers,
                eventbox.events_as_told
   TO eventbox_ops;
GRANT INSERT, DELETE ON eventbox.events TO eventbox_ops;
GRANT UPDATE (slug, title, description, presenter, format, location, online_url, categories,
              organizer, accessibility_contact, starts_at, ends_at, timezone, capacity,
              waitlist_enabled, waitlist_capacity, registration_opens_at,
              registration_closes_at, status, members_only,
              confirmation_required, hold_minutes, registrations_per_minute,
              image_path, image_alt, image_decorative, audience, learning_outcomes,
              language)
   ON eventbox.events TO eventbox_ops;
GRANT INSERT, UPDATE, DELETE ON eventbox.organizations TO eventbox_ops;
