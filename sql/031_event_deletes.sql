-- 031_event_deletes.sql: an event made by mistake is deleted with what is
-- its own.
--
-- Staff delete an event with plain SQL (docs/OPS.md).  One that
-- registrations name is refused, in words, by the events' row-check
-- trigger (sql/rules/12_row_checks.sql), and so is one whose purged
-- registrations event_stats still counts (event_report would lose them).
-- Any other event's rows named it with foreign keys that took no action,
-- so a draft with questions, a change announced to a webhook (a pending or
-- delivered event.changed row in the outbox), an idempotency key kept for
-- a "closed" answer, or the zero counts the purge keeps for an event
-- nobody registered for, each stopped its DELETE with PostgreSQL's bare
-- foreign_key_violation.  They are the event's own and go with it.
--
-- Each constraint is dropped and added again under its own name, in one
-- statement per table; adding it checks the table's rows once (they all
-- name an event that exists, as the old key held them).
ALTER TABLE eventbox.questions
    DROP CONSTRAINT questions_event_id_fkey,
    ADD CONSTRAINT questions_event_id_fkey
        FOREIGN KEY (event_id) REFERENCES eventbox.events (id) ON DELETE CASCADE;
ALTER TABLE eventbox.outbox
    DROP CONSTRAINT outbox_event_id_fkey,
    ADD CONSTRAINT outbox_event_id_fkey
        FOREIGN KEY (event_id) REFERENCES eventbox.events (id) ON DELETE CASCADE;
ALTER TABLE eventbox.idempotency_keys
    DROP CONSTRAINT idempotency_keys_event_id_fkey,
    ADD CONSTRAINT idempotency_keys_event_id_fkey
        FOREIGN KEY (event_id) REFERENCES eventbox.events (id) ON DELETE CASCADE;
ALTER TABLE eventbox.event_stats
    DROP CONSTRAINT event_stats_event_id_fkey,
    ADD CONSTRAINT event_stats_event_id_fkey
        FOREIGN KEY (event_id) REFERENCES eventbox.events (id) ON DELETE CASCADE;

-- The audit log is a record, not a reference: a deleted event's entries
-- (who created it, who changed what) lost their event_id to ON DELETE SET
-- NULL, leaving "event_created" by someone of no event at all, and the
-- event_deleted entry could not name the event it was about.  They keep
-- its id now (never given again: an identity).
ALTER TABLE eventbox.audit_log DROP CONSTRAINT audit_log_event_id_fkey;
