-- rules/78_questions.sql: questions staff add to an event's form, and the
-- answers, checked like every other field.
--
-- A question is {kind, label, help, required, choices}; kind is short_text
-- (one line, at most 300 characters), long_text (at most 2000), one_choice
-- or several_choices (among choices), or yes_no (true or false).  Answers
-- are a JSON object keyed by the question's id.  {"template":
-- "accommodation"} is the common one ready to use.

-- The event's questions as the API and the pages show them, in order: the
-- one definition of that form, from the questions table.  Called only when
-- the questions change (tg_questions_changed below), which keeps the result
-- on the event's row (events.questions, sql/021_event_questions.sql) for
-- every read.
CREATE OR REPLACE FUNCTION eventbox.questions_list(p_event_id bigint) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', q.id, 'kind', q.kind,
                                                 'label', q.label, 'help', q.help,
                                                 'required', q.required,
                                                 'choices', to_jsonb(q.choices))
                              ORDER BY q.position), '[]')
      FROM questions q WHERE q.event_id = p_event_id
$$;

CREATE OR REPLACE FUNCTION eventbox.tg_questions_changed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (SELECT 1 FROM events WHERE id = OLD.event_id) THEN
        UPDATE events SET questions = questions_list(OLD.event_id) WHERE id = OLD.event_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.event_id <> OLD.event_id) THEN
        UPDATE events SET questions = questions_list(NEW.event_id) WHERE id = NEW.event_id;
    END IF;
    RETURN NULL;
END
$$;

-- Row by row (set_questions() replaces at most 20, rarely), nested as
-- counters_are_derived (10_seats.sql) lets through; none for an event
-- deleted with them (031_event_deletes.sql), whose deleter may not write it.
CREATE OR REPLACE TRIGGER questions_changed
    AFTER INSERT OR DELETE OR UPDATE ON eventbox.questions
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_questions_changed();

-- The event's questions as kept on its row (above), drafts' included, for
-- staff through the admin API: a staff key (or the ops role), checked
-- here, since the service could call it with any id.  The public reads
-- take them from public_events.
DROP FUNCTION IF EXISTS eventbox.questions_json(bigint);
CREATE OR REPLACE FUNCTION eventbox.questions_json(p_event_id bigint, p_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
BEGIN
    RETURN (SELECT e.questions FROM events e WHERE e.id = p_event_id);
END
$$;

-- set_questions: makes an event's questions the JSON array given, in its
-- order.  A question that is still there keeps its id, which the forms open
-- in patrons' browsers (fields q<id>) and the websites that send answers
-- hold: an element with "id" is that question of the event, changed in
-- place; one without is the event's question of the same kind and label
-- (letter case aside) that no element names by id, so a list sent again as
-- first written keeps its ids; any other is new.  The event's questions
-- that no element is are deleted.  Refused once somebody answered (the
-- answers would lose their question, or no longer fit it).
--   outcome  ok | not_found | invalid (field, message) | answered
CREATE OR REPLACE FUNCTION eventbox.set_questions(p_event text, p_questions jsonb,
                                                  p_key text DEFAULT NULL,
                                                  OUT outcome text, OUT field text,
                                                  OUT message text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    e events;
    q jsonb;
    i integer := 0;
    v_kind text;
    v_choices jsonb;
    v_list jsonb := '[]';       -- the questions checked, as rows of questions
    v_ids bigint[];             -- the event's questions the list keeps
    v_id bigint;
BEGIN
    IF jsonb_typeof(p_questions) IS DISTINCT FROM 'array' OR jsonb_array_length(p_questions) > 20 THEN
        outcome := 'invalid'; field := 'questions'; message := 'must be a list of at most 20 questions';
        RETURN;
    END IF;
    e := lock_event(p_event);
    IF e.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    -- outcome event_cancelled: a cancelled event takes no change (save_event()).
    IF e.status = 'cancelled' THEN
        outcome := 'event_cancelled';
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM answers a JOIN questions x ON x.id = a.question_id
                WHERE x.event_id = e.id) THEN
        outcome := 'answered';
        RETURN;
    END IF;
    -- Every element is checked before anything is written.
    FOR q IN SELECT value FROM jsonb_array_elements(p_questions) LOOP
        i := i + 1;
        field := format('questions[%s]', i - 1);
        IF q ->> 'template' = 'accommodation' THEN
            q := jsonb_build_object('kind', 'long_text',
                'label', 'Do you need an accommodation to attend?',
                'help', 'For example captions, a sign language interpreter, large print or '
                        'step-free access. Leave it empty if not.',
                'required', false, 'id', q -> 'id');
        END IF;
        v_kind := q ->> 'kind';
        -- The choices given as a list, else none (-> of a name gives NULL
        -- on anything but an object).
        v_choices := CASE WHEN jsonb_typeof(q -> 'choices') = 'array'
                          THEN q -> 'choices' ELSE '[]' END;
        IF jsonb_typeof(q) <> 'object' OR v_kind IS NULL
           OR v_kind NOT IN ('short_text', 'long_text', 'one_choice', 'several_choices', 'yes_no') THEN
            message := 'kind must be short_text, long_text, one_choice, several_choices or yes_no';
        ELSIF jsonb_typeof(q -> 'label') IS DISTINCT FROM 'string'
              OR length(btrim(q ->> 'label')) NOT BETWEEN 1 AND 300
              OR q ->> 'label' ~ '[[:cntrl:]]' THEN
            message := 'label must be one line of 1 to 300 characters';
        ELSIF q ? 'help' AND (jsonb_typeof(q -> 'help') <> 'string'
                              OR length(q ->> 'help') > 1000
                              OR q ->> 'help' ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]') THEN
            message := 'help must be a text of at most 1000 characters, '
                       'without control characters but line breaks';
        ELSIF q ? 'required' AND jsonb_typeof(q -> 'required') <> 'boolean' THEN
            message := 'required must be true or false';
        -- Choices: 2 to 20 one-line texts for the two kinds of choice;
        -- for the others none (absent, null or []: one choice was taken
        -- and kept on a short_text question).
        ELSIF (CASE WHEN v_kind IN ('one_choice', 'several_choices')
                    THEN jsonb_array_length(v_choices) NOT BETWEEN 2 AND 20
                    ELSE coalesce(q -> 'choices', 'null') NOT IN ('null', '[]') END)
              OR EXISTS (SELECT 1 FROM jsonb_array_elements(v_choices) c
                          WHERE jsonb_typeof(c) <> 'string'
                             OR length(c #>> '{}') NOT BETWEEN 1 AND 300
                             OR c #>> '{}' ~ '[[:cntrl:]]') THEN
            message := 'choices: 2 to 20 one-line texts for one_choice and several_choices, '
                       'none for the other kinds';
        ELSIF (SELECT count(*) <> count(DISTINCT c) FROM jsonb_array_elements(v_choices) c) THEN
            message := 'choices: each must differ from the others';
        -- The roster and its CSV show answers by label: two questions
        -- alike would read as one there.
        ELSIF EXISTS (SELECT 1 FROM jsonb_array_elements(v_list) x
                       WHERE lower(x ->> 'label') = lower(btrim(q ->> 'label'))) THEN
            message := 'label: each question must have its own label';
        -- An id as GET .../questions shows it, of a question of this event
        -- (absent or null for a new one), once.
        ELSIF coalesce(q -> 'id', 'null') <> 'null'
              AND (jsonb_typeof(q -> 'id') <> 'number'
                   OR NOT EXISTS (SELECT 1 FROM questions x
                                   WHERE x.event_id = e.id AND x.id::text = q ->> 'id')) THEN
            message := 'id: is not a question of this event (leave it out for a new one)';
        ELSIF EXISTS (SELECT 1 FROM jsonb_array_elements(v_list) x
                       WHERE x ->> 'id' = q ->> 'id') THEN
            message := 'id: each question must be given once';
        END IF;
        IF message IS NOT NULL THEN
            outcome := 'invalid';
            RETURN;
        END IF;
        v_list := v_list || jsonb_build_array(jsonb_build_object(
            'id', (q ->> 'id')::bigint, 'event_id', e.id, 'position', i, 'kind', v_kind,
            'label', btrim(q ->> 'label'), 'help', coalesce(q ->> 'help', ''),
            'required', coalesce((q ->> 'required')::boolean, false), 'choices', v_choices));
    END LOOP;
    field := NULL;
    -- The elements without an id find their question by kind and label.
    v_ids := ARRAY(SELECT (x ->> 'id')::bigint FROM jsonb_array_elements(v_list) x
                    WHERE x ->> 'id' IS NOT NULL);
    FOR k IN 0 .. jsonb_array_length(v_list) - 1 LOOP
        CONTINUE WHEN v_list -> k ->> 'id' IS NOT NULL;
        SELECT x.id INTO v_id FROM questions x
         WHERE x.event_id = e.id AND x.kind = v_list -> k ->> 'kind'
           AND lower(x.label) = lower(v_list -> k ->> 'label') AND x.id <> ALL (v_ids)
         ORDER BY x.position LIMIT 1;
        IF FOUND THEN
            v_list := jsonb_set(v_list, ARRAY[k::text, 'id'], to_jsonb(v_id));
            v_ids := v_ids || v_id;
        END IF;
    END LOOP;
    DELETE FROM questions x WHERE x.event_id = e.id AND x.id <> ALL (v_ids);
    -- One statement for the questions kept: one may take the place another
    -- leaves (024_question_positions.sql).  One unchanged is not written.
    UPDATE questions x
       SET position = n.position, kind = n.kind, label = n.label, help = n.help,
           required = n.required, choices = n.choices
      FROM jsonb_populate_recordset(NULL::questions, v_list) n
     WHERE x.id = n.id AND x IS DISTINCT FROM n;
    INSERT INTO questions (event_id, position, kind, label, help, required, choices)
    SELECT n.event_id, n.position, n.kind, n.label, n.help, n.required, n.choices
      FROM jsonb_populate_recordset(NULL::questions, v_list) n
     WHERE n.id IS NULL;
    PERFORM audit(who.actor, who.via, 'questions_set', e.id, NULL,
                  jsonb_build_object('questions', i));
    outcome := 'ok';
END
$$;

-- answer_blank: no answer.  Absent, null, an empty list, or a text of
-- nothing but spaces and line breaks: "  " answers a required question no
-- more than "" does, and neither is stored.  Inlined where it is asked.
CREATE OR REPLACE FUNCTION eventbox.answer_blank(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
    SELECT v IS NULL OR jsonb_typeof(v) = 'null' OR v = '[]'
           OR (jsonb_typeof(v) = 'string' AND v #>> '{}' !~ '[^[:space:]]')
$$;

-- answer_errors: every answer that does not fit its question, one row each
-- (field "answers.<id>", message): keys that are not questions of the event
-- first, then the questions in their order.  NULL p_answers is an empty
-- object.  The one check of answers: the JSON API takes the first row
-- (answers_error), the form shows them all next to their questions.
CREATE OR REPLACE FUNCTION eventbox.answer_errors(p_event_id bigint, p_answers jsonb)
RETURNS TABLE (field text, message text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    a jsonb := coalesce(p_answers, '{}');
    q questions;
    v jsonb;
    k text;
BEGIN
    IF jsonb_typeof(a) <> 'object' THEN
        field := 'answers'; message := 'must be an object of answers by question id';
        RETURN NEXT;
        RETURN;
    END IF;
    -- A key is the question's id as the API shows it: "007" is no key,
    -- or its answer would be stored for question 7 without the checks
    -- below, which look for "7".
    FOR k IN SELECT jsonb_object_keys(a) LOOP
        IF k !~ '^[1-9][0-9]{0,17}$' OR NOT EXISTS (SELECT 1 FROM questions x
                                                WHERE x.id = k::bigint
                                                  AND x.event_id = p_event_id) THEN
            field := 'answers.' || left(k, 40); message := 'is not a question of this event';
            RETURN NEXT;
        END IF;
    END LOOP;
    FOR q IN SELECT * FROM questions WHERE event_id = p_event_id ORDER BY position LOOP
        v := a -> q.id::text;
        field := 'answers.' || q.id;
        IF answer_blank(v) THEN
            IF q.required THEN
                message := 'is required';
                RETURN NEXT;
            END IF;
            CONTINUE;
        END IF;
        message := CASE q.kind
            -- Neither text takes what not_text() refuses: a bidirectional
            -- control turns the rest of a roster line or a CSV cell
            -- around, as a name's may not.  One line is one line to a mail
            -- reader too: no line or paragraph separator (U+2028, U+2029).
            WHEN 'short_text' THEN
                CASE WHEN jsonb_typeof(v) <> 'string' OR length(v #>> '{}') > 300
                          OR v #>> '{}' ~ '[[:cntrl:]\u2028\u2029]'
                     THEN 'must be one line of at most 300 characters'
                     WHEN not_text(v #>> '{}')
                     THEN 'must be text without control characters' END
            -- A browser sends a text area's line breaks as CRLF: each
            -- counts once, as the patron typed it.  The stored answer's
            -- own limit (4,000 characters of JSON, where a line break is
            -- written \n) is asked too, so a text of many short lines
            -- gets this message rather than a refused row.
            -- Paragraphs, not control characters (the description's rule,
            -- rules/12_row_checks.sql): a BEL or an escape went into the
            -- roster and the CSV as it came.
            WHEN 'long_text' THEN
                CASE WHEN jsonb_typeof(v) <> 'string'
                          OR length(replace(v #>> '{}', E'\r\n', E'\n')) > 2000
                          OR length(v::text) > 4000
                     THEN 'must be a text of at most 2000 characters'
                     WHEN v #>> '{}' ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]'
                          OR not_text(v #>> '{}')
                     THEN 'must be text without control characters' END
            WHEN 'one_choice' THEN
                CASE WHEN jsonb_typeof(v) <> 'string' OR NOT (v #>> '{}') = ANY (q.choices)
                     THEN 'must be one of the choices' END
            WHEN 'several_choices' THEN
                CASE WHEN jsonb_typeof(v) <> 'array'
                          OR EXISTS (SELECT 1 FROM jsonb_array_elements(v) c
                                      WHERE jsonb_typeof(c) <> 'string'
                                         OR NOT (c #>> '{}') = ANY (q.choices))
                          OR (SELECT count(*) <> count(DISTINCT c) FROM jsonb_array_elements(v) c)
                     THEN 'must be a list of the choices' END
            ELSE
                CASE WHEN jsonb_typeof(v) <> 'boolean' THEN 'must be true or false' END
            END;
        IF message IS NOT NULL THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;

-- answers_error: the first of answer_errors(), or NULLs when all fit.
-- PL/pgSQL: register_answered() asks it for every registration on an event
-- with questions, and a SQL function with a SET clause is planned again in
-- every transaction (docs/PERFORMANCE.md).
CREATE OR REPLACE FUNCTION eventbox.answers_error(p_event_id bigint, p_answers jsonb,
                                                  OUT field text, OUT message text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    SELECT e.field, e.message INTO field, message
      FROM answer_errors(p_event_id, p_answers) e LIMIT 1;
END
$$;

-- check_answers: answer_errors() for the published event p_event (slug),
-- for the registration form to show every problem at once; no rows when
-- the event is not public.
CREATE OR REPLACE FUNCTION eventbox.check_answers(p_event text, p_answers jsonb)
RETURNS TABLE (field text, message text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT e.field, e.message
      FROM public_events p, answer_errors(p.id, p_answers) e
     WHERE p.slug = p_event
$$;

-- register_answered: the service's registration (STMT_REGISTER_ANSWERED
-- in src/db_stmts.c).  In order: the language asked for (018_language.sql)
-- must be one; the answers to the event's questions are checked before
-- anything is locked (outcome invalid_answer, with field and message); the
-- per-network ceiling (network_over_ceiling(), rules/55_holds.sql; outcome
-- rate_limited), a draft's for staff only; then register_entry(), as
-- register() calls it, given the event's row so that it reads it once.
-- The answers are stored with a new registration in the same transaction,
-- also one whose seat or waiting place is held until the address is
-- confirmed (outcome pending).  A repeated address is answered as a new one
-- (register_entry()) but its answers are not stored: whoever sends the
-- address would otherwise write into that person's registration.  The
-- language is kept for every later email; a repeated address takes its
-- latest attempt's, unless that is NULL (the request named none).
-- p_network: the client's network as register_from() takes it.
--
-- One function, not a chain of wrappers: each level cost a call with its
-- own search_path, and a look-up of the event.  The row read as one value,
-- the ceiling's subquery in an IF of its own: for speed (docs/PERFORMANCE.md).
CREATE OR REPLACE FUNCTION eventbox.register_answered(
    p_event text, p_name text, p_email text, p_organization text, p_source text,
    p_token uuid, p_idempotency_key text, p_answers jsonb, p_network text,
    p_language text,
    OUT outcome text, OUT "position" integer, OUT event_id bigint, OUT event_slug text,
    OUT field text, OUT message text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    e events;
    r record;
    v_misfits text[] := '{}';   -- keys of answers that no longer fit (below)
BEGIN
    IF p_language IS NOT NULL
       AND p_language !~ '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$' THEN
        RAISE EXCEPTION 'bad language %', p_language USING ERRCODE = 'check_violation';
    END IF;
    IF p_event ~ '^[1-9][0-9]{0,17}$' THEN  -- a draft is no event but to staff: register_entry()
        e := (SELECT x FROM events x WHERE id = p_event::bigint AND (status <> 'draft' OR p_source = 'staff'));
    ELSE
        e := (SELECT x FROM events x WHERE slug = p_event AND (status <> 'draft' OR p_source = 'staff'));
    END IF;
    -- e.questions: the event's questions as kept on its row (above), so an
    -- event without any asks no other table.
    IF e.id IS NOT NULL AND (p_answers IS NOT NULL OR e.questions <> '[]') THEN
        SELECT * INTO r FROM answers_error(e.id, p_answers);
        IF r.field IS NOT NULL THEN
            outcome := 'invalid_answer'; field := r.field; message := r.message;
            RETURN;
        END IF;
    END IF;
    -- A retry of an attempt already answered (its Idempotency-Key kept,
    -- register_entry()) gets that answer, and is not counted against its
    -- network: a client whose 201 was lost was told 429 instead.
    IF p_network IS NOT NULL AND e.registrations_per_minute IS NOT NULL THEN
        IF p_idempotency_key IS NULL OR NOT EXISTS (SELECT 1 FROM idempotency_keys k
                                                     WHERE k.event_id = e.id AND k.key = p_idempotency_key) THEN
            IF network_over_ceiling(e, p_network) THEN
                outcome := 'rate_limited'; event_id := e.id; event_slug := e.slug; RETURN;
            END IF;
        END IF;
    END IF;
    r := register_entry(p_event, p_name, p_email, p_organization, p_source, p_token,
                        p_idempotency_key, p_source = 'staff' AND is_staff(invoker()),
                        p_language, e, p_answers);
    outcome := r.outcome; "position" := r.position; event_id := r.event_id;
    event_slug := r.event_slug;
    -- The answers were checked before the lock; if staff changed the
    -- questions since (committed while this waited for the lock), an answer
    -- whose question is gone, or that no longer fits it, is dropped rather
    -- than the registration refused.
    IF r.created AND p_answers IS NOT NULL THEN
        IF (SELECT x.questions FROM events x WHERE x.id = r.event_id)
           IS DISTINCT FROM e.questions THEN
            v_misfits := ARRAY(SELECT substr(x.field, length('answers.') + 1)
                                 FROM answer_errors(r.event_id, p_answers) x);
        END IF;
        INSERT INTO answers (registration_id, question_id, value)
        SELECT r.registration_id, q.id, a.value
          FROM jsonb_each(p_answers) a
          JOIN questions q ON q.id = a.key::bigint AND q.event_id = r.event_id
         WHERE NOT answer_blank(a.value) AND a.key <> ALL (v_misfits);
    END IF;
END
$$;

-- The same without the language, for staff scripts: the column's default
-- ('en') for a new registration.
DROP FUNCTION IF EXISTS eventbox.register_answered(text, text, text, text, text, uuid, text, jsonb);
CREATE OR REPLACE FUNCTION eventbox.register_answered(
    p_event text, p_name text, p_email text, p_organization text, p_source text,
    p_token uuid, p_idempotency_key text, p_answers jsonb, p_network text,
    OUT outcome text, OUT "position" integer, OUT event_id bigint, OUT event_slug text,
    OUT field text, OUT message text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r record;
BEGIN
    r := register_answered(p_event, p_name, p_email, p_organization, p_source, p_token,
                           p_idempotency_key, p_answers, p_network, NULL::text);
    outcome := r.outcome; "position" := r.position; event_id := r.event_id;
    event_slug := r.event_slug; field := r.field; message := r.message;
END
$$;

-- The answers of one registration, {label: value} in question order, for
-- staff (the roster and its CSV).  json, not jsonb: jsonb keeps an object's
-- keys in an order of its own (the shorter first), and the roster read the
-- answers in that order rather than the form's.  set_questions() gives each
-- question its own label; two alike written at psql are told apart by their
-- position, "Label (2)", rather than one answer hiding the other.  (It
-- returned jsonb: a new result type takes a DROP first.)
DROP FUNCTION IF EXISTS eventbox.registration_answers(text, bigint);
CREATE FUNCTION eventbox.registration_answers(p_key text, p_registration_id bigint)
RETURNS json
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    j json;
BEGIN
    SELECT coalesce(json_object_agg(x.label, x.value ORDER BY x.position), '{}') INTO j
      FROM (SELECT CASE WHEN count(*) OVER (PARTITION BY lower(q.label)) > 1
                        THEN format('%s (%s)', q.label, q.position)
                        ELSE q.label END AS label,
                   a.value, q.position
              FROM answers a JOIN questions q ON q.id = a.question_id
             WHERE a.registration_id = p_registration_id) x;
    RETURN j;
END
$$;

-- The answers as one line of text, "Label: answer; Label: answer", in the
-- order of registration_answers() (above), for the roster's CSV (yes/no for
-- yes_no, choices joined by commas).  (It took jsonb, which lost the order.)
DROP FUNCTION IF EXISTS eventbox.answers_text(jsonb);
CREATE OR REPLACE FUNCTION eventbox.answers_text(p_answers json) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT string_agg(a.key || ': ' || CASE json_typeof(a.value)
               WHEN 'string' THEN a.value #>> '{}'
               WHEN 'boolean' THEN CASE WHEN a.value::text = 'true' THEN 'yes' ELSE 'no' END
               ELSE (SELECT string_agg(c, ', ' ORDER BY n)
                       FROM json_array_elements_text(a.value) WITH ORDINALITY AS t (c, n))
           END, '; ' ORDER BY a.n)
      FROM json_each(p_answers) WITH ORDINALITY AS a (key, value, n)
$$;
