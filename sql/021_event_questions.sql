-- 021_event_questions.sql: an event's questions as the API and the pages
-- show them, kept on the event's row, instead of gathered from the questions
-- table on every read.
--
-- Every GET /api/v1/events/{slug} and every event page asked
-- questions_json(), a SECURITY DEFINER call that aggregated the event's
-- questions into JSON: a sixth of PostgreSQL's instructions for the read
-- (docs/PERFORMANCE.md, "Where a GET's time goes"), for a list that staff
-- change a few times in an event's life.  The questions table stays the
-- record (answers refer to it); a trigger on it (tg_questions_changed,
-- sql/rules/78_questions.sql) writes this column whenever a question is
-- added, changed or removed, and nothing else may (counters_are_derived,
-- sql/rules/10_seats.sql).
--
-- Events that have questions are written here once, in the form
-- questions_json() gave (rules/78_questions.sql as of 020), with the event's
-- own triggers off: an older release's audit trigger would otherwise log
-- this as a change by the migrating role.
ALTER TABLE eventbox.events
    ADD COLUMN questions jsonb NOT NULL DEFAULT '[]';

ALTER TABLE eventbox.events DISABLE TRIGGER USER;
UPDATE eventbox.events e
   SET questions = q.list
  FROM (SELECT event_id,
               jsonb_agg(jsonb_build_object('id', id, 'kind', kind, 'label', label,
                                            'help', help, 'required', required,
                                            'choices', to_jsonb(choices))
                         ORDER BY position) AS list
          FROM eventbox.questions
         GROUP BY event_id) q
 WHERE q.event_id = e.id;
ALTER TABLE eventbox.events ENABLE TRIGGER USER;
