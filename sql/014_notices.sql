-- 014_notices.sql: change notices with calendar updates (issue 15).
--
-- When staff move an event, change its place or its online link, or cancel
-- it, every registrant gets one email with an updated calendar entry.  A
-- calendar app replaces an entry (same UID) only when its SEQUENCE grew, so
-- the event carries a counter that the rules (rules/70_events.sql) raise
-- on each such change, however it is made.

-- Before this, the emails' SEQUENCE was the seconds between the event's
-- creation and its last change.  Entries already in patrons' calendars
-- carry that number, so each existing event starts from it: the next change
-- gives a higher one and still replaces them.  New events start at 0.
ALTER TABLE eventbox.events
    ADD COLUMN ical_sequence integer NOT NULL DEFAULT 0 CHECK (ical_sequence >= 0);
-- A new column's first value is no change of the event: the triggers
-- (audit log, touch, follow-ups) stay out of it.
ALTER TABLE eventbox.events DISABLE TRIGGER USER;
UPDATE eventbox.events
   SET ical_sequence = least(extract(epoch FROM updated_at - created_at), 2000000000)::integer
 WHERE updated_at > created_at;
ALTER TABLE eventbox.events ENABLE TRIGGER USER;

-- The notice: what changed ({"when": old text, "location": old text,
-- "online_url": true}), kept with the message until it is sent.
ALTER TABLE eventbox.outbox
    ADD COLUMN changes jsonb CHECK (jsonb_typeof(changes) = 'object'),
    DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirmed', 'waitlisted', 'promoted',
                                                     'cancelled', 'already_registered',
                                                     'reminder', 'event_cancelled',
                                                     'event_changed'));
