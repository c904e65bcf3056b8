-- 036_registration_imports.sql: registrations imported from a LibCal API.
--
-- `eventbox import` with EVENTBOX_IMPORT_REGISTRATIONS=1 brings each
-- imported event's registrations (seats and waiting places) onto its draft
-- (import_registration(), rules/47_import.sql).  A booking's id at that API
-- is kept with the registration it became, as event_imports keeps an
-- event's, so that a re-run does not register the same person twice, and
-- staff can find the imported ones to send their emails when they publish
-- (docs/OPS.md).  The record goes with its registration (the purge, an
-- event deleted).
CREATE TABLE eventbox.registration_imports (
    source          text NOT NULL,
    booking_id      bigint NOT NULL,
    registration_id bigint NOT NULL UNIQUE
                    REFERENCES eventbox.registrations (id) ON DELETE CASCADE,
    imported_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, booking_id)
);
