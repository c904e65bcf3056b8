-- 014_notices.sql: change notices with calendar updates, and questions per
-- event with their answers (issue 15).
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
                                                     'confirm_address', 'event_changed'));

------------------------------------------------------------------------------
-- Questions staff add to an event's form, and the registrants' answers
-- (personal data: purge() deletes them with their registration).
CREATE TABLE eventbox.questions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    bigint NOT NULL REFERENCES eventbox.events (id),
    position    integer NOT NULL CHECK (position BETWEEN 1 AND 20),
    kind        text NOT NULL CHECK (kind IN ('short_text', 'long_text', 'one_choice',
                                              'several_choices', 'yes_no')),
    label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 300 AND label !~ '[[:cntrl:]]'),
    help        text NOT NULL DEFAULT '' CHECK (length(help) <= 1000),
    required    boolean NOT NULL DEFAULT false,
    choices     text[] NOT NULL DEFAULT '{}',
    CONSTRAINT questions_choices_with_choice_kinds
        CHECK ((kind IN ('one_choice', 'several_choices')) = (cardinality(choices) >= 2)),
    UNIQUE (event_id, position)
);

CREATE TABLE eventbox.answers (
    registration_id bigint NOT NULL REFERENCES eventbox.registrations (id) ON DELETE CASCADE,
    question_id     bigint NOT NULL REFERENCES eventbox.questions (id) ON DELETE CASCADE,
    value           jsonb NOT NULL CHECK (length(value::text) <= 4000),
    PRIMARY KEY (registration_id, question_id)
);
CREATE INDEX answers_question ON eventbox.answers (question_id);
