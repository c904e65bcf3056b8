-- rules/71_event_status.sql: publishing, unpublishing and cancelling an
-- event, and its capacity (save_event() in 70_events.sql goes through the
-- same rules for a status or capacity it is given).

-- set_status: publish, unpublish (back to draft) or cancel an event.
-- Cancelling cancels every registration and queues a notice to each;
-- publishing fills free seats from the waiting list.  A cancelled event
-- stays cancelled.  An event holding a value an older release took and
-- today's row rules refuse (event_problem()) is neither published nor
-- made a draft until it is corrected: refused as the row rules refuse
-- (check_violation), naming the field (COLUMN; the API answers 422 with
-- it and DETAIL, as save_event()'s invalid) with a HINT saying how to
-- correct it.  It can be cancelled as it is (rules/12_row_checks.sql).
--   outcome  ok | unchanged | not_found | invalid_status | event_cancelled
CREATE OR REPLACE FUNCTION eventbox.set_status(p_event text, p_status text, p_key text DEFAULT NULL,
                                    OUT outcome text, OUT affected integer,
                                    OUT event_id bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    who record := staff_actor(p_key);
    e events;
    bad record;
BEGIN
    affected := 0;
    IF p_status IS NULL OR p_status NOT IN ('draft', 'published', 'cancelled') THEN
        outcome := 'invalid_status';
        RETURN;
    END IF;
    e := lock_event(p_event);
    IF e.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    event_id := e.id;
    IF e.status = p_status THEN
        outcome := 'unchanged';
        RETURN;
    END IF;
    IF e.status = 'cancelled' THEN
        outcome := 'event_cancelled';
        RETURN;
    END IF;
    IF p_status <> 'cancelled' THEN
        SELECT * INTO bad FROM event_problem(e);
        IF bad.field IS NOT NULL THEN
            RAISE EXCEPTION 'event "%" cannot be %: its % %', e.slug,
                  CASE p_status WHEN 'published' THEN 'published' ELSE 'made a draft' END,
                  bad.field, bad.message
                USING ERRCODE = 'check_violation', SCHEMA = 'eventbox', TABLE = 'events',
                      COLUMN = bad.field, DETAIL = bad.message,
                      HINT = format('An older release stored it. Correct it first (%s), then try again; cancelling the event needs no correction.',
                                    CASE WHEN bad.field IN ('image_path', 'image_alt', 'ical_sequence', 'status')
                                         -- not fields of the API: staff set them at psql
                                         THEN format('UPDATE eventbox.events SET %I = ... WHERE slug = %L',
                                                     bad.field, e.slug)
                                         ELSE format('SELECT * FROM eventbox.save_event(%L, ''{"%s": ...}''), or PATCH in the API',
                                                     e.slug, bad.field) END);
        END IF;
    END IF;
    PERFORM audited(true);
    UPDATE events SET status = p_status WHERE id = e.id;
    IF p_status = 'cancelled' THEN
        affected := cancel_all_registrations(e.id);
    ELSIF p_status = 'published' THEN
        affected := promote_waiting(e.id);
    END IF;
    PERFORM audit(who.actor, who.via,
                  CASE p_status WHEN 'draft' THEN 'event_unpublished'
                                WHEN 'published' THEN 'event_published'
                                ELSE 'event_cancelled' END,
                  e.id, NULL, jsonb_build_object('registrations_affected', affected));
    PERFORM audited(false);
    outcome := 'ok';
END
$$;

-- set_capacity with an actor for the audit log.  Raising it promotes the
-- oldest waiting at once, in order, each with a 'promoted' email, in this
-- transaction; lowering it below the confirmed count is refused, and so is
-- any change to a cancelled event (as save_event() refuses it).  Holds
-- that ended unconfirmed, not yet released (the mailer releases them once
-- a minute), are released first and count no seat; a change refused all
-- the same gives the seats they freed to the next in line, as the release
-- would have (tests/test_holds.py,
-- test_lowering_the_capacity_counts_no_lapsed_hold).
--   outcome  ok | below_confirmed | not_found | invalid_capacity |
--            event_cancelled
CREATE OR REPLACE FUNCTION eventbox.set_capacity(p_event text, p_capacity integer, p_key text,
                                      OUT outcome text, OUT promoted integer,
                                      OUT confirmed integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    e events;
BEGIN
    promoted := 0;
    IF p_capacity IS NULL OR p_capacity NOT BETWEEN 0 AND 1000000 THEN
        outcome := 'invalid_capacity';
        RETURN;
    END IF;
    e := lock_event(p_event);
    IF e.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    confirmed := e.confirmed_count;
    IF e.status = 'cancelled' THEN
        outcome := 'event_cancelled';
        RETURN;
    END IF;
    IF p_capacity < e.confirmed_count AND has_holds(e) THEN
        IF release_holds_locked(e.id) > 0 THEN     -- nested: SQL's AND has no order
            SELECT * INTO e FROM events WHERE id = e.id;
        END IF;
    END IF;
    IF p_capacity < e.confirmed_count THEN
        outcome := 'below_confirmed';
        promoted := promote_waiting(e.id);
        SELECT x.confirmed_count INTO confirmed FROM events x WHERE x.id = e.id;
        RETURN;
    END IF;
    PERFORM audited(true);
    UPDATE events SET capacity = p_capacity WHERE id = e.id;
    promoted := promote_waiting(e.id);
    -- Read again: promote_waiting() releases lapsed holds before it
    -- promotes, and those held seats leave the count.
    SELECT x.confirmed_count INTO confirmed FROM events x WHERE x.id = e.id;
    PERFORM audit(who.actor, who.via, 'capacity_set', e.id, NULL,
                  jsonb_build_object('from', e.capacity, 'to', p_capacity,
                                     'promoted', promoted));
    PERFORM audited(false);
    outcome := 'ok';
END
$$;

-- The two-argument form staff scripts know: the same, audited under the
-- caller's role.
CREATE OR REPLACE FUNCTION eventbox.set_capacity(p_event text, p_capacity integer,
                                                 OUT outcome text, OUT promoted integer)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$ SELECT s.outcome, s.promoted FROM set_capacity(p_event, p_capacity, NULL::text) s $$;
