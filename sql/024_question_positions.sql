-- 024_question_positions.sql: an event's questions can change places in one
-- statement.
--
-- set_questions() (sql/rules/78_questions.sql) deleted an event's questions
-- and inserted them again, so every change gave every question a new id,
-- and the forms open in patrons' browsers (fields q<id>) and the websites
-- that keep the ids failed.  It now updates the questions that are still
-- there, in one UPDATE; when two of them swap places, a unique constraint
-- checked row by row refuses the first row moved onto the second's place,
-- though the statement as a whole leaves each place to one question.
-- DEFERRABLE makes PostgreSQL check it at the end of the statement instead
-- (INITIALLY IMMEDIATE: still within the statement, never at commit).
ALTER TABLE eventbox.questions
    DROP CONSTRAINT questions_event_id_position_key,
    ADD CONSTRAINT questions_event_id_position_key UNIQUE (event_id, position)
        DEFERRABLE INITIALLY IMMEDIATE;
