-- rules/75_roster.sql: staff at work on a roster -- promoting someone
-- ahead of their turn, checking people in, and reading rosters and events.

-- promote: gives a free seat to one particular person on the waiting list,
-- ahead of their turn (staff discretion).  Without a free seat nothing
-- changes: raise the capacity or cancel a seat first.
-- A person whose waiting place is still held (their address not yet
-- confirmed: 55_holds.sql) keeps the hold on the seat, and is sent the
-- request to confirm again, saying that a seat opened up (mail_claim's
-- moved_up), with a new link that confirms it; the link of the first
-- request keeps working.  A "promoted" email, the seat's confirmation,
-- would have been skipped as stale while the address waits (mail_stale),
-- and the patron, told nothing, lost the seat when the hold ended.  Once
-- the address confirms, the confirmation goes out (confirm_registration).
-- The event's holds that ended unconfirmed, not yet released (the mailer
-- releases them once a minute), are released first, as promote_waiting()
-- does: a seat only a lapsed hold took is free for staff's pick (it was
-- answered no_seat), and a waiting place whose own hold lapsed is no
-- longer waiting (it was promoted into a seat its address never
-- confirmed).  The seats freed beyond staff's pick go to the next in line
-- (tests/test_holds.py,
-- test_staff_promote_one_person_once_lapsed_holds_are_released).
--   outcome  promoted | no_seat | not_waitlisted | not_found | started
CREATE OR REPLACE FUNCTION eventbox.promote(p_registration_id bigint, p_key text DEFAULT NULL,
                                 OUT outcome text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    r registrations := lock_registration(p_registration_id);
    e events;
    v_released integer := 0;
BEGIN
    IF r.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT * INTO e FROM events WHERE id = r.event_id;
    IF has_holds(e) THEN
        v_released := release_holds_locked(e.id);
        IF v_released > 0 THEN
            SELECT * INTO e FROM events WHERE id = r.event_id;
            SELECT * INTO r FROM registrations WHERE id = r.id;
        END IF;
    END IF;
    IF r.status <> 'waitlisted' THEN
        outcome := 'not_waitlisted';
    ELSIF e.starts_at <= clock_timestamp() THEN     -- under the lock: rules/10_seats.sql
        outcome := 'started';
    ELSIF free_seats(e) = 0 THEN
        outcome := 'no_seat';
    ELSE
        UPDATE registrations SET status = 'confirmed', confirmed_at = now(), promoted_at = now()
         WHERE id = r.id;
        -- A held place whose request to confirm is still queued gets no
        -- second one: the queued request says, when it goes out, that the
        -- seat opened up (mail_claim's moved_up), and its link confirms.
        IF r.held_until IS NULL OR NOT EXISTS (
               SELECT 1 FROM outbox q
                WHERE q.registration_id = r.id AND q.kind = 'confirm_address'
                  -- (the status of a row found by its key: rules/80_mail.sql)
                  AND (q.status = 'pending') IS TRUE) THEN
            INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
            VALUES (CASE WHEN r.held_until IS NULL THEN 'promoted' ELSE 'confirm_address' END,
                    r.id, r.event_id, r.email, r.name,
                    issue_token(r.id, p_keep_older => true));
        END IF;
        PERFORM audit(who.actor, who.via, 'registration_promoted', r.event_id, r.id);
        outcome := 'promoted';
    END IF;
    IF v_released > 0 THEN
        PERFORM promote_waiting(e.id);
    END IF;
END
$$;

-- check_in: marks attendance of a confirmed registration (p_attended false
-- takes it back, also once the registration was cancelled: the wrong
-- person checked in, then cancelled, stayed checked in for good).
--   outcome  checked_in | unchecked | unchanged | not_confirmed | not_found
CREATE OR REPLACE FUNCTION eventbox.check_in(p_registration_id bigint, p_key text DEFAULT NULL,
                                  p_attended boolean DEFAULT true, OUT outcome text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    r registrations := lock_registration(p_registration_id);
BEGIN
    IF r.id IS NULL THEN
        outcome := 'not_found';
    ELSIF r.status <> 'confirmed' AND coalesce(p_attended, true) THEN
        outcome := 'not_confirmed';
    ELSIF (r.attended_at IS NOT NULL) = coalesce(p_attended, true) THEN
        outcome := 'unchanged';
    ELSE
        UPDATE registrations
           SET attended_at = CASE WHEN coalesce(p_attended, true) THEN now() END
         WHERE id = r.id;
        outcome := CASE WHEN coalesce(p_attended, true) THEN 'checked_in' ELSE 'unchecked' END;
        PERFORM audit(who.actor, who.via, 'registration_' || outcome, r.event_id, r.id);
    END IF;
END
$$;

------------------------------------------------------------------------------
-- Reading, for staff.

CREATE OR REPLACE FUNCTION eventbox.admin_roster(p_key text, p_event text)
RETURNS SETOF eventbox.staff_roster
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
BEGIN
    RETURN QUERY
    SELECT s.* FROM staff_roster s JOIN events e ON e.id = s.event_id
     WHERE CASE WHEN p_event ~ '^[1-9][0-9]{0,17}$' THEN e.id = p_event::bigint
                ELSE e.slug = p_event END
     ORDER BY CASE s.status WHEN 'confirmed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END,
              s.registration_id;
END
$$;

-- One event as staff see it (online URL, counts, members_only), or none.
-- ROWS 1, here and in admin_event_holds() and admin_event_about(): the
-- planner's default for a set-returning function is 1,000 rows, and the
-- three of them joined for one event (STMT_ADMIN_EVENT), or for each of a
-- page (STMT_ADMIN_EVENT_LIST), multiplied into billions, a cost over
-- jit_above_cost: PostgreSQL compiled every such read with LLVM first,
-- half a second of a GET /api/v1/admin/events/{id} that takes 10 ms.
CREATE OR REPLACE FUNCTION eventbox.admin_event(p_key text, p_event text)
RETURNS TABLE (id bigint, slug text, title text, status text, timezone text,
               description text, presenter text, format text, location text,
               categories text[], organizer text, accessibility_contact text,
               waitlist_enabled boolean, waitlist_capacity integer,
               starts_at timestamptz, ends_at timestamptz, capacity integer,
               confirmed integer, waitlisted integer, cancelled integer, attended bigint,
               members_only boolean, online_url text, registration_state text,
               registration_opens_at timestamptz, registration_closes_at timestamptz)
LANGUAGE plpgsql STABLE
ROWS 1
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
BEGIN
    RETURN QUERY
    SELECT e.id, e.slug, e.title, e.status, e.timezone, e.description, e.presenter,
           e.format, e.location, e.categories, e.organizer, e.accessibility_contact,
           e.waitlist_enabled, e.waitlist_capacity, e.starts_at, e.ends_at, e.capacity,
           e.confirmed_count, e.waitlisted_count, e.cancelled_count,
           (SELECT count(*) FROM registrations r
             WHERE r.event_id = e.id AND attended(r)),
           e.members_only, e.online_url,
           CASE WHEN e.status = 'draft' THEN 'draft' ELSE registration_state(e) END,
           e.registration_opens_at, closes_at(e)
      FROM events e
     WHERE CASE WHEN p_event ~ '^[1-9][0-9]{0,17}$' THEN e.id = p_event::bigint
                ELSE e.slug = p_event END;
END
$$;

-- admin_event_about: who the event is for and what participants will learn
-- (017_audience.sql), and the language it is written in
-- (030_event_language.sql), beside admin_event() for staff, drafts
-- included.  (Its result grew language: a DROP first.)  The event is
-- read by its id, as the one value admin_event() gives: joined to that
-- function's rows, whose number the planner cannot know, the events were
-- read whole once per call, and a page of 1,000 in GET
-- /api/v1/admin/events read 20,000 events 1,000 times (a 503 at the
-- statement timeout).
DROP FUNCTION IF EXISTS eventbox.admin_event_about(text, text);
CREATE FUNCTION eventbox.admin_event_about(p_key text, p_event text)
RETURNS TABLE (audience text, learning_outcomes text[], language text)
LANGUAGE sql STABLE
ROWS 1
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT e.audience, e.learning_outcomes, e.language
      FROM events e WHERE e.id = (SELECT a.id FROM admin_event(p_key, p_event) a)
$$;
