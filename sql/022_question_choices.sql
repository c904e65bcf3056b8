-- 022_question_choices.sql: a question that is not a choice has no choices.
--
-- questions_choices_with_choice_kinds (014) compared "is a choice kind" with
-- "has two choices or more", so a short_text, long_text or yes_no question
-- with exactly one choice passed it: set_questions() refuses that since the
-- last release, but a row written at psql could still hold one, and the API
-- and the pages would show a choice on a question that offers none.
--
-- Such choices mean nothing (no form shows them, no answer is checked
-- against them), so they are emptied first, in the questions table and in
-- the event's copy of its questions (021), with both tables' triggers off
-- as 021 did: an older release's audit trigger would otherwise log this as
-- a change by the migrating role.
ALTER TABLE eventbox.questions DISABLE TRIGGER USER;
ALTER TABLE eventbox.events DISABLE TRIGGER USER;

UPDATE eventbox.questions
   SET choices = '{}'
 WHERE kind NOT IN ('one_choice', 'several_choices')
   AND cardinality(choices) > 0;

UPDATE eventbox.events e
   SET questions = (SELECT jsonb_agg(CASE WHEN q ->> 'kind' IN ('one_choice', 'several_choices')
                                          THEN q
                                          ELSE q || '{"choices": []}' END
                                     ORDER BY n)
                      FROM jsonb_array_elements(e.questions) WITH ORDINALITY AS t (q, n))
 WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(e.questions) AS t (q)
                WHERE q ->> 'kind' NOT IN ('one_choice', 'several_choices')
                  AND q -> 'choices' <> '[]');

ALTER TABLE eventbox.events ENABLE TRIGGER USER;
ALTER TABLE eventbox.questions ENABLE TRIGGER USER;

ALTER TABLE eventbox.questions
    DROP CONSTRAINT questions_choices_with_choice_kinds,
    ADD CONSTRAINT questions_choices_with_choice_kinds
        CHECK (CASE WHEN kind IN ('one_choice', 'several_choices')
                    THEN cardinality(choices) >= 2
                    ELSE cardinality(choices) = 0 END);
