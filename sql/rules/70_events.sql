-- rules/70_events.sql: creating and changing events.
--
-- Consequences of event changes, however they are made (these functions or
-- plain SQL by ops): a raised capacity, a publication or a new start (one
-- moved from the past back into the future: a typo corrected, a snow day
-- rescheduled; seats freed meanwhile went to nobody) promotes from the
-- waiting list; a cancellation cancels every registration with a notice to
-- each.  The UPDATE that fired the trigger holds the event row lock already.

-- An event's time zone is a place's (is_valid_timezone(), in
-- sql/rules/20_time.sql).  A trigger rather than a CHECK: a CHECK runs on every
-- UPDATE of the row, and every registration updates its event's counters
-- (sql/015_commit_path.sql).  The error is the CHECK's: check_violation,
-- constraint events_timezone_check.  (On an INSERT events_row_checks,
-- which fires first, refuses it by event_problem() under the same name.)
CREATE OR REPLACE FUNCTION eventbox.tg_events_timezone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'new row for relation "events" violates check constraint "events_timezone_check"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'events_timezone_check',
              SCHEMA = 'eventbox', TABLE = 'events', COLUMN = 'timezone',
              DETAIL = format('%s is not the IANA time zone of a place, like America/New_York.',
                              quote_literal(NEW.timezone));
END
$$;

CREATE OR REPLACE TRIGGER events_timezone_check
    BEFORE INSERT OR UPDATE OF timezone ON eventbox.events
    FOR EACH ROW
    WHEN (NOT eventbox.is_valid_timezone(NEW.timezone))
    EXECUTE FUNCTION eventbox.tg_events_timezone();

CREATE OR REPLACE FUNCTION eventbox.tg_event_follow_up() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    -- The staff functions do this themselves, and count what they did.
    IF in_audited_call() THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        PERFORM cancel_all_registrations(NEW.id);
    ELSIF NEW.capacity > OLD.capacity
          OR (NEW.status = 'published' AND OLD.status <> 'published')
          OR NEW.starts_at <> OLD.starts_at THEN
        PERFORM promote_waiting(NEW.id);
    END IF;
    RETURN NULL;
END
$$;

-- Whatever the trigger depth: an UPDATE run inside a trigger of a staff
-- login's own temporary table (one level down) is followed up too, or a
-- cancelled event would keep live seats and a raised capacity skip the
-- waiting list.  No trigger of eventbox's writes capacity or status.
CREATE OR REPLACE TRIGGER event_follow_up
    AFTER UPDATE OF capacity, status, starts_at ON eventbox.events
    FOR EACH ROW
    WHEN (NEW.capacity > OLD.capacity OR NEW.status IS DISTINCT FROM OLD.status
          OR NEW.starts_at <> OLD.starts_at)
    EXECUTE FUNCTION eventbox.tg_event_follow_up();

-- save_event: creates (p_event NULL) or changes an event from a JSON object
-- of column values; absent keys keep their value (or the default).  Every
-- value is checked here and the first bad one named, so that the API can
-- answer 422 with the field.  Capacity changes go through set_capacity's
-- rule (never below the confirmed count); status changes through
-- set_status.  A cancelled event takes no change (event_cancelled): its
-- registrations were cancelled with a notice each, so a new time, place,
-- link or capacity would describe an event nobody can attend, told to
-- nobody (set_capacity() and set_questions() refuse it too).
--   outcome  created | updated | not_found | invalid | slug_taken |
--            below_confirmed | below_waiting | event_cancelled
CREATE OR REPLACE FUNCTION eventbox.save_event(p_event text, p_fields jsonb, p_key text DEFAULT NULL,
                                    OUT outcome text, OUT field text, OUT message text,
                                    OUT event_id bigint, OUT event_slug text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    who record := staff_actor(p_key);
    e events;
    n events;
    k text;
    v_tz text;
    v_type text;
    v_details jsonb;
    v_released boolean := false;
    allowed text[] := ARRAY['slug', 'title', 'description', 'presenter', 'format', 'location',
        'online_url', 'categories', 'organizer', 'accessibility_contact', 'starts_at',
        'ends_at', 'timezone', 'capacity', 'waitlist_enabled', 'waitlist_capacity',
        'registration_opens_at', 'registration_closes_at', 'members_only',
        'confirmation_required', 'hold_minutes', 'registrations_per_minute',
        'audience', 'learning_outcomes', 'language'];
BEGIN
    -- The event first: a change to one that does not exist is not_found
    -- whatever the fields say (the API's 404 before its 422).
    IF p_event IS NOT NULL THEN
        e := lock_event(p_event);
        IF e.id IS NULL THEN
            outcome := 'not_found';
            RETURN;
        END IF;
    END IF;
    IF jsonb_typeof(p_fields) IS DISTINCT FROM 'object' THEN
        outcome := 'invalid'; field := ''; message := 'the body must be a JSON object';
        RETURN;
    END IF;
    FOR k IN SELECT jsonb_object_keys(p_fields) LOOP
        IF k = 'status' THEN
            outcome := 'invalid'; field := k;
            message := 'use publish, unpublish or cancel to change the status';
            RETURN;
        ELSIF NOT k = ANY (allowed) THEN
            outcome := 'invalid'; field := k; message := 'is not a field of an event';
            RETURN;
        END IF;
    END LOOP;

    IF p_event IS NULL THEN
        FOREACH k IN ARRAY ARRAY['slug', 'title', 'starts_at', 'ends_at', 'capacity'] LOOP
            IF NOT p_fields ? k OR jsonb_typeof(p_fields -> k) = 'null' THEN
                outcome := 'invalid'; field := k; message := 'is required';
                RETURN;
            END IF;
        END LOOP;
        e := NULL;
        e.timezone := 'America/New_York';
        e.description := ''; e.presenter := ''; e.format := 'online'; e.location := '';
        e.categories := '{}'; e.organizer := ''; e.accessibility_contact := '';
        e.waitlist_enabled := true; e.members_only := false; e.status := 'draft';
        e.confirmed_count := 0; e.audience := ''; e.learning_outcomes := '{}';
        e.language := 'en';
    ELSIF e.status = 'cancelled' THEN
        outcome := 'event_cancelled'; message := 'this event was cancelled';
        RETURN;
    END IF;

    -- Types first: each present value must be the JSON type of its column.
    FOR k IN SELECT jsonb_object_keys(p_fields) LOOP
        v_type := CASE
               WHEN k IN ('capacity', 'waitlist_capacity', 'hold_minutes',
                          'registrations_per_minute') THEN 'number'
               WHEN k IN ('waitlist_enabled', 'members_only', 'confirmation_required')
                   THEN 'boolean'
               WHEN k IN ('categories', 'learning_outcomes') THEN 'array'
               ELSE 'string' END;
        IF jsonb_typeof(p_fields -> k) <> v_type
           AND NOT (jsonb_typeof(p_fields -> k) = 'null'
                    AND k IN ('online_url', 'waitlist_capacity', 'registration_opens_at',
                              'registration_closes_at', 'confirmation_required',
                              'hold_minutes', 'registrations_per_minute')) THEN
            outcome := 'invalid'; field := k; message := 'has the wrong type';
            RETURN;
        END IF;
    END LOOP;

    -- The zone first: the times are read in it.  A stored one an older
    -- release took (localtime) holds every change until it is corrected,
    -- in the words event_problem() has for it, as it holds any other such
    -- value (set_status() names it so too).
    v_tz := coalesce(p_fields ->> 'timezone', e.timezone);
    IF NOT is_valid_timezone(v_tz) THEN
        outcome := 'invalid'; field := 'timezone';
        message := 'must be the IANA time zone of a place, like America/New_York';
        RETURN;
    END IF;
    n := e;
    n.timezone := v_tz;
    n.slug := coalesce(p_fields ->> 'slug', e.slug);
    n.title := coalesce(btrim(p_fields ->> 'title'), e.title);
    n.description := coalesce(p_fields ->> 'description', e.description);
    n.presenter := coalesce(p_fields ->> 'presenter', e.presenter);
    n.format := coalesce(p_fields ->> 'format', e.format);
    n.location := coalesce(p_fields ->> 'location', e.location);
    n.organizer := coalesce(p_fields ->> 'organizer', e.organizer);
    n.accessibility_contact := coalesce(p_fields ->> 'accessibility_contact',
                                        e.accessibility_contact);
    n.audience := coalesce(btrim(p_fields ->> 'audience', E' \t\r\n'), e.audience);
    n.language := coalesce(p_fields ->> 'language', e.language);
    IF p_fields ? 'learning_outcomes' THEN
        IF jsonb_array_length(p_fields -> 'learning_outcomes') > 20
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_fields -> 'learning_outcomes') c
                       WHERE jsonb_typeof(c) <> 'string'
                          OR length(btrim(c #>> '{}')) NOT BETWEEN 1 AND 500
                          OR c #>> '{}' ~ '[[:cntrl:]]') THEN
            outcome := 'invalid'; field := 'learning_outcomes';
            message := 'must be a list of at most 20 lines of 1 to 500 characters';
            RETURN;
        END IF;
        n.learning_outcomes := ARRAY(SELECT btrim(c) FROM jsonb_array_elements_text(
                                         p_fields -> 'learning_outcomes') c);
    END IF;
    IF p_fields ? 'online_url' THEN n.online_url := p_fields ->> 'online_url'; END IF;
    IF p_fields ? 'waitlist_capacity' THEN
        IF (p_fields ->> 'waitlist_capacity')::numeric
               <> trunc((p_fields ->> 'waitlist_capacity')::numeric)
           OR (p_fields ->> 'waitlist_capacity')::numeric NOT BETWEEN 0 AND 1000000 THEN
            outcome := 'invalid'; field := 'waitlist_capacity';
            message := 'must be a whole number from 0 to 1000000, or null';
            RETURN;
        END IF;
        n.waitlist_capacity := (p_fields ->> 'waitlist_capacity')::numeric::integer;
    END IF;
    n.waitlist_enabled := coalesce((p_fields ->> 'waitlist_enabled')::boolean,
                                   e.waitlist_enabled);
    n.members_only := coalesce((p_fields ->> 'members_only')::boolean, e.members_only);
    -- Confirmation by email (rules/55_holds.sql): null means "as members_only".
    IF p_fields ? 'confirmation_required' THEN
        n.confirmation_required := (p_fields ->> 'confirmation_required')::boolean;
    END IF;
    FOREACH k IN ARRAY ARRAY['hold_minutes', 'registrations_per_minute'] LOOP
        IF p_fields ? k AND jsonb_typeof(p_fields -> k) = 'number'
           AND ((p_fields ->> k)::numeric <> trunc((p_fields ->> k)::numeric)
                OR (p_fields ->> k)::numeric NOT BETWEEN 1
                   AND CASE k WHEN 'hold_minutes' THEN 10080 ELSE 100000 END) THEN
            outcome := 'invalid'; field := k;
            message := CASE k WHEN 'hold_minutes' THEN 'must be whole minutes from 1 to 10080, or null'
                              ELSE 'must be a whole number from 1 to 100000, or null' END;
            RETURN;
        END IF;
    END LOOP;
    -- The whole numbers through numeric, as checked: JSON may write 30 as
    -- 30.0 or 3e1, which a cast of the text to integer refuses.
    IF p_fields ? 'hold_minutes' THEN
        n.hold_minutes := (p_fields ->> 'hold_minutes')::numeric::integer;
    END IF;
    IF p_fields ? 'registrations_per_minute' THEN
        n.registrations_per_minute := (p_fields ->> 'registrations_per_minute')::numeric::integer;
    END IF;
    IF p_fields ? 'categories' THEN
        IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_fields -> 'categories') c
                    WHERE jsonb_typeof(c) <> 'string' OR length(c #>> '{}') NOT BETWEEN 1 AND 100
                       OR c #>> '{}' ~ '[[:cntrl:]]') THEN
            outcome := 'invalid'; field := 'categories';
            message := 'must be a list of one-line texts of 1 to 100 characters';
            RETURN;
        END IF;
        n.categories := ARRAY(SELECT jsonb_array_elements_text(p_fields -> 'categories'));
    END IF;
    IF p_fields ? 'capacity' THEN
        IF (p_fields ->> 'capacity')::numeric NOT BETWEEN 0 AND 1000000
           OR (p_fields ->> 'capacity')::numeric <> trunc((p_fields ->> 'capacity')::numeric) THEN
            outcome := 'invalid'; field := 'capacity';
            message := 'must be a whole number from 0 to 1000000';
            RETURN;
        END IF;
        n.capacity := (p_fields ->> 'capacity')::numeric::integer;
    END IF;
    IF n.waitlist_capacity IS NOT NULL
       AND (n.waitlist_capacity < 0 OR n.waitlist_capacity > 1000000) THEN
        outcome := 'invalid'; field := 'waitlist_capacity';
        message := 'must be a whole number from 0 to 1000000, or null';
        RETURN;
    END IF;

    BEGIN
        k := 'starts_at';
        n.starts_at := coalesce(parse_time(p_fields ->> k, v_tz), e.starts_at);
        k := 'ends_at';
        n.ends_at := coalesce(parse_time(p_fields ->> k, v_tz), e.ends_at);
        k := 'registration_opens_at';
        IF p_fields ? k THEN n.registration_opens_at := parse_time(p_fields ->> k, v_tz); END IF;
        k := 'registration_closes_at';
        IF p_fields ? k THEN n.registration_closes_at := parse_time(p_fields ->> k, v_tz); END IF;
    EXCEPTION WHEN data_exception THEN   -- bad format, day 31 of February, +25:00
        outcome := 'invalid'; field := k;
        message := 'is not a date and time (like 2026-12-10T14:00:00-05:00)';
        RETURN;
    END;

    SELECT p.field, p.message INTO field, message FROM event_problem(n) p;
    IF field IS NOT NULL THEN
        outcome := 'invalid';
        RETURN;
    END IF;
    -- Holds that ended unconfirmed, not yet released (the mailer releases
    -- them once a minute), count no seat and no waiting place: they are
    -- released first (release_holds_locked), their seats given once the
    -- capacity is settled.  A change refused all the same gives them
    -- first, and says the counts as they are then (tests/test_holds.py,
    -- test_lowering_the_capacity_counts_no_lapsed_hold).
    IF e.id IS NOT NULL AND has_holds(e)
       AND (n.capacity < n.confirmed_count
            OR (n.waitlist_enabled AND n.waitlist_capacity < n.waitlisted_count)) THEN
        v_released := release_holds_locked(e.id) > 0;
    END IF;
    IF v_released THEN
        SELECT * INTO e FROM events WHERE id = e.id;
        IF n.capacity < e.confirmed_count
           OR (n.waitlist_enabled AND n.waitlist_capacity < e.waitlisted_count) THEN
            PERFORM promote_waiting(e.id);
            SELECT * INTO e FROM events WHERE id = e.id;
        END IF;
        n.confirmed_count := e.confirmed_count;
        n.waitlisted_count := e.waitlisted_count;
    END IF;
    IF n.capacity < n.confirmed_count THEN
        outcome := 'below_confirmed';
        message := format('%s; cancel registrations before lowering the capacity below that',
                          CASE n.confirmed_count WHEN 1 THEN '1 seat is taken' ELSE n.confirmed_count || ' seats are taken' END);
        RETURN;
    -- The waiting list's own limit, as waitlist_never_overfull holds it:
    -- said here in words, where the row's CHECK gave staff a bare conflict.
    ELSIF n.waitlist_enabled AND n.waitlist_capacity < n.waitlisted_count THEN
        outcome := 'below_waiting';
        message := format('%s on the waiting list; take some off it before lowering its limit below that',
                          CASE n.waitlisted_count WHEN 1 THEN '1 person is' ELSE n.waitlisted_count || ' people are' END);
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM events x WHERE x.slug = n.slug AND x.id IS DISTINCT FROM e.id) THEN
        outcome := 'slug_taken'; field := 'slug'; message := 'another event has this slug';
        RETURN;
    END IF;

    -- A change that changes nothing ({} or the values as they are) is no
    -- change: nothing written, nothing in the audit log.
    IF p_event IS NOT NULL AND NOT v_released AND to_jsonb(n) = to_jsonb(e) THEN
        outcome := 'updated';
        event_id := e.id;
        event_slug := e.slug;
        RETURN;
    END IF;

    PERFORM audited(true);
    IF p_event IS NULL THEN
        INSERT INTO events (slug, title, description, presenter, format, location, online_url,
                            categories, organizer, accessibility_contact, starts_at, ends_at,
                            timezone, capacity, waitlist_enabled, waitlist_capacity,
                            registration_opens_at, registration_closes_at, members_only,
                            confirmation_required, hold_minutes, registrations_per_minute,
                            audience, learning_outcomes, language)
        VALUES (n.slug, n.title, n.description, n.presenter, n.format, n.location, n.online_url,
                n.categories, n.organizer, n.accessibility_contact, n.starts_at, n.ends_at,
                n.timezone, n.capacity, n.waitlist_enabled, n.waitlist_capacity,
                n.registration_opens_at, n.registration_closes_at, n.members_only,
                n.confirmation_required, n.hold_minutes, n.registrations_per_minute,
                n.audience, n.learning_outcomes, n.language)
        RETURNING id INTO n.id;
        outcome := 'created';
    ELSE
        UPDATE events SET slug = n.slug, title = n.title, description = n.description,
               presenter = n.presenter, format = n.format, location = n.location,
               online_url = n.online_url, categories = n.categories, organizer = n.organizer,
               accessibility_contact = n.accessibility_contact, starts_at = n.starts_at,
               ends_at = n.ends_at, timezone = n.timezone, capacity = n.capacity,
               waitlist_enabled = n.waitlist_enabled, waitlist_capacity = n.waitlist_capacity,
               registration_opens_at = n.registration_opens_at,
               registration_closes_at = n.registration_closes_at, members_only = n.members_only,
               confirmation_required = n.confirmation_required, hold_minutes = n.hold_minutes,
               registrations_per_minute = n.registrations_per_minute,
               audience = n.audience, learning_outcomes = n.learning_outcomes,
               language = n.language
         WHERE id = e.id;
        -- The follow-up trigger only sees top-level statements; seats the
        -- release above freed go to the next in line at the new capacity.
        IF n.capacity > e.capacity OR n.starts_at <> e.starts_at OR v_released THEN
            PERFORM promote_waiting(e.id);
        END IF;
        outcome := 'updated';
    END IF;
    -- The fields as stored (a time with its offset, not as typed), and for
    -- a change what each was: "who moved my event from 2 pm" is answered
    -- from the log.
    SELECT coalesce(jsonb_object_agg(f.name, to_jsonb(n) -> f.name), '{}')
           || CASE WHEN outcome = 'updated' THEN jsonb_build_object('was',
                  coalesce(jsonb_object_agg(f.name, to_jsonb(e) -> f.name)
                               FILTER (WHERE to_jsonb(e) -> f.name
                                             IS DISTINCT FROM to_jsonb(n) -> f.name),
                           '{}'))
              ELSE '{}' END
      INTO v_details
      FROM jsonb_object_keys(p_fields - 'online_url' - 'description' - 'presenter') f(name);
    PERFORM audit(who.actor, who.via, 'event_' || outcome, n.id, NULL, v_details);
    PERFORM audited(false);
    event_id := n.id;
    event_slug := n.slug;
END
$$;
