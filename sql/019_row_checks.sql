-- 019_row_checks.sql: the rules for a row's fields, checked when the row is
-- written, not compiled again for every statement that writes it.
--
-- PostgreSQL compiles a table's CHECK constraints from their stored text
-- for every statement that inserts or updates a row of it (ExecConstraints
-- reads and plans each one again per executor), whichever columns the
-- statement touches.  A registration inserts into registrations, tokens and
-- outbox and updates its event's counters, and these tables had 33 CHECKs
-- between them: compiling them was 40% of a registration's instructions
-- (callgrind on a single-user backend: 3.10 million instructions per
-- register() call, 1.85 million without them; docs/PERFORMANCE.md).  Most of
-- that was under the event lock.
--
-- The same rules are now BEFORE triggers, one per table, whose PL/pgSQL
-- bodies are compiled once per session (sql/rules/12_row_checks.sql).
-- Each refuses what its CHECK refused, with the same SQLSTATE (23514,
-- check_violation) and constraint name, and lets through what it let
-- through (a NULL passes, as it passes a CHECK).  The event's trigger runs
-- on INSERT and on an UPDATE of a column it checks, so a counter update
-- pays nothing.  The seat invariants stay CHECKs on the event row:
-- seats_never_oversold, waitlist_never_overfull and the counters >= 0.
--
-- Rows already stored met these rules, so nothing needs checking again.
-- Between this migration's commit and the rules' (the next transaction of
-- the same `eventbox migrate`) the fields go unchecked by the database for
-- a moment; the service and register() check them themselves.
ALTER TABLE eventbox.events
    DROP CONSTRAINT ends_after_start,
    DROP CONSTRAINT events_audience_check,
    DROP CONSTRAINT events_capacity_check,
    DROP CONSTRAINT events_format_check,
    DROP CONSTRAINT events_hold_minutes_check,
    DROP CONSTRAINT events_ical_sequence_check,
    DROP CONSTRAINT events_image_alt_check,
    DROP CONSTRAINT events_image_path_check,
    DROP CONSTRAINT events_learning_outcomes_check,
    DROP CONSTRAINT events_location_one_line,
    DROP CONSTRAINT events_online_url_check,
    DROP CONSTRAINT events_presenter_one_line,
    DROP CONSTRAINT events_registrations_per_minute_check,
    DROP CONSTRAINT events_slug_check,
    DROP CONSTRAINT events_status_check,
    DROP CONSTRAINT events_title_check,
    DROP CONSTRAINT events_title_one_line,
    DROP CONSTRAINT events_waitlist_capacity_check,
    DROP CONSTRAINT image_has_alt;

ALTER TABLE eventbox.registrations
    DROP CONSTRAINT registrations_email_check,
    DROP CONSTRAINT registrations_expired_is_cancelled,
    DROP CONSTRAINT registrations_hold_is_live,
    DROP CONSTRAINT registrations_language_check,
    DROP CONSTRAINT registrations_name_check,
    DROP CONSTRAINT registrations_organization_check,
    DROP CONSTRAINT registrations_source_check,
    DROP CONSTRAINT registrations_status_check;

ALTER TABLE eventbox.outbox
    DROP CONSTRAINT outbox_changes_check,
    DROP CONSTRAINT outbox_kind_check,
    DROP CONSTRAINT outbox_payload_check,
    DROP CONSTRAINT outbox_status_check,
    DROP CONSTRAINT outbox_webhook_rows;

ALTER TABLE eventbox.tokens
    DROP CONSTRAINT tokens_token_hash_check;
