-- rules/47_import.sql: `eventbox import`, events from a LibCal API as
-- drafts (table in 013_api_clients.sql), and their registrations
-- (036_registration_imports.sql).

-- import_event: creates the event of p_fields (save_event()'s fields) as a
-- draft, once per (source, id there): a second call for the same event
-- changes nothing.  Staff only (staff_actor: eventbox_ops or the owner, who
-- the audit log then names).
--   outcome  created | exists | invalid | slug_taken  (field, message: why)
--   draft    the event (created, or imported before) is a draft still:
--            its registrations may be imported (import_registration())
-- (Its result grew draft: a new result type takes a DROP first.)
DROP FUNCTION IF EXISTS eventbox.import_event(text, bigint, jsonb);
CREATE FUNCTION eventbox.import_event(p_source text, p_source_id bigint,
                                  p_fields jsonb, OUT outcome text, OUT field text,
                                  OUT message text, OUT event_id bigint,
                                  OUT draft boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    who record := staff_actor(NULL);
    s record;
BEGIN
    SELECT i.event_id INTO event_id FROM event_imports i
     WHERE i.source = p_source AND i.source_id = p_source_id;
    IF FOUND THEN
        outcome := 'exists';
        draft := (SELECT e.status = 'draft' FROM events e WHERE e.id = event_id);
        RETURN;
    END IF;
    s := save_event(NULL, p_fields);
    outcome := s.outcome; field := s.field; message := s.message; event_id := s.event_id;
    IF s.outcome = 'created' THEN
        INSERT INTO event_imports (source, source_id, event_id)
        VALUES (p_source, p_source_id, s.event_id);
        draft := true;
    END IF;
END
$$;

-- import_registration: one registration of a LibCal event (p_booking_id,
-- its booking id at p_source) onto the event's imported draft p_event_id,
-- once per (source, booking): a second call changes nothing.  Nothing is
-- mailed (the event is a draft, and the patron holds LibCal's emails):
-- staff send each its email when they publish (resend_confirmation(),
-- docs/OPS.md).  The address must pass registrant_error(), as a staff
-- registration's does (the caller converts a domain to A-labels first, as
-- the service does).  p_waiting: LibCal has it on the waiting list; the
-- caller sends the seats first, then the waiting list, each in LibCal's
-- order, which the new rows' ids keep.  A seat is a seat while the draft
-- has one free (its capacity is never exceeded: the seat CHECK); then the
-- waiting list, while it takes one more (a person who had a seat stands
-- ahead of those who were waiting); else refused.  A waiting place is a
-- seat while one is free and nobody waits on the draft.  p_registered_at:
-- LibCal's registered_date, kept when it reads as a time, else now; one
-- without an offset (LibCal writes "2026-11-02 10:00:00") is the event's
-- local time, as parse_time() reads what staff type, not the session's.
--   outcome  confirmed | waitlisted | moved (a seat in LibCal, none left
--            here: on the waiting list) | exists (imported before) |
--            full (no seat, and no room on the waiting list) | not_draft |
--            no_seats (the draft's capacity is 0: LibCal set no limit,
--            staff have not set one yet) |
--            invalid_name | invalid_email | invalid_organization |
--            already_registered (the address has a live registration for
--            the event)
--   position  the place on the waiting list, when on it
-- Staff only (staff_actor); audited as registration_imported.
CREATE OR REPLACE FUNCTION eventbox.import_registration(p_source text, p_booking_id bigint,
                                  p_event_id bigint, p_name text, p_email text,
                                  p_organization text, p_registered_at text,
                                  p_waiting boolean, OUT outcome text,
                                  OUT "position" integer, OUT registration_id bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    who record := staff_actor(NULL);
    e events := lock_event(p_event_id::text);
    v_name text := btrim(p_name);
    v_email text := btrim(p_email);
    v_org text := nullif(btrim(p_organization), '');
    v_status text;
    v_at timestamptz;
BEGIN
    IF EXISTS (SELECT 1 FROM registration_imports i
                WHERE i.source = p_source AND i.booking_id = p_booking_id) THEN
        outcome := 'exists';
        RETURN;
    END IF;
    IF e.id IS NULL OR e.status <> 'draft' THEN
        outcome := 'not_draft';
        RETURN;
    END IF;
    IF e.capacity = 0 THEN
        outcome := 'no_seats';
        RETURN;
    END IF;
    outcome := registrant_error(v_name, v_email, v_org);
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;
    -- A place on LibCal's waiting list takes a free seat when nobody
    -- waits before it here (a seat LibCal gave was refused here, say, or
    -- staff raised the capacity): as a promotion would, so that no seat
    -- is free while someone waits, and the first patron to register once
    -- the event is published does not take it past them.
    v_status := CASE WHEN free_seats(e) > 0 AND (NOT p_waiting OR e.waitlisted_count = 0)
                     THEN 'confirmed'
                     WHEN waitlist_open(e) THEN 'waitlisted' END;
    IF v_status IS NULL THEN
        outcome := 'full';
        RETURN;
    END IF;
    BEGIN
        v_at := parse_time(p_registered_at, e.timezone);
    EXCEPTION WHEN data_exception THEN
        v_at := NULL;
    END;
    IF v_at IS NULL OR NOT time_in_range(v_at) OR v_at > now() THEN
        v_at := now();
    END IF;
    INSERT INTO registrations (event_id, name, email, organization, status, source,
                               registered_at, confirmed_at, organization_id)
    VALUES (e.id, v_name, v_email, v_org, v_status, 'staff', v_at,
            CASE WHEN v_status = 'confirmed' THEN v_at END, member_of(v_email))
    ON CONFLICT (event_id, lower(email)) WHERE status <> 'cancelled' DO NOTHING
    RETURNING id INTO registration_id;
    IF registration_id IS NULL THEN
        outcome := 'already_registered';
        RETURN;
    END IF;
    INSERT INTO registration_imports (source, booking_id, registration_id)
    VALUES (p_source, p_booking_id, registration_id);
    outcome := CASE WHEN v_status = 'waitlisted' AND NOT p_waiting THEN 'moved'
                    ELSE v_status END;
    IF v_status = 'waitlisted' THEN
        "position" := e.waitlisted_count + 1;
    END IF;
    PERFORM audit(who.actor, who.via, 'registration_imported', e.id, registration_id,
                  jsonb_build_object('source', p_source, 'booking_id', p_booking_id,
                                     'outcome', outcome));
END
$$;
