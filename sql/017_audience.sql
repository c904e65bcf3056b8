-- 017_audience.sql: who an event is for and what participants will learn,
-- as fields of their own rather than headings inside the description, so
-- the event page shows them as sections ("Who should attend", "What you
-- will learn") and the API and the import carry them (issue 15).
--
-- audience: a text of up to 2000 characters (paragraphs: line breaks and
-- tabs allowed, no other control characters); '' when none.
-- learning_outcomes: up to 20 items of one line each; '{}' when none.
-- save_event() (rules/70_events.sql) checks each item's length (500) and
-- names the field; these constraints hold whatever writes.
ALTER TABLE eventbox.events
    ADD COLUMN audience text NOT NULL DEFAULT ''
        CONSTRAINT events_audience_check
        CHECK (length(audience) <= 2000
               AND audience !~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]'),
    ADD COLUMN learning_outcomes text[] NOT NULL DEFAULT '{}'
        CONSTRAINT events_learning_outcomes_check
        CHECK (cardinality(learning_outcomes) <= 20
               AND array_position(learning_outcomes, NULL) IS NULL
               AND array_position(learning_outcomes, '') IS NULL
               AND length(array_to_string(learning_outcomes, '')) <= 10000
               AND array_to_string(learning_outcomes, ' ') !~ '[[:cntrl:]]');
