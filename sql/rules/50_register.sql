-- rules/50_register.sql: registering, by the public and by staff.
--
-- register() is what the service and staff at a psql prompt call;
-- staff_register() is staff entering a registration (by phone, at the
-- desk).  Both go through register_entry(), the one body of the rule.

-- Which field of a registration the columns refuse, as register()'s outcome
-- (invalid_name | invalid_email | invalid_organization), or NULL when all
-- fit.  The limits themselves are the columns' predicates
-- (sql/010_rules.sql); this only asks them.  Beyond them, register() wants
-- a dot in the address's domain part and a last label that is not all
-- digits (no top-level domain is, so ann@192.0.2.1 is a mistyped address;
-- the service's email_valid() asks the same), which the column does not
-- insist on (staff may have entered such addresses), and ASCII only (the
-- row rule registrations_email_ascii, rules/12_row_checks.sql, says why
-- and what to do; the service converts a domain before it calls).
CREATE OR REPLACE FUNCTION eventbox.registrant_error(p_name text, p_email text,
                                                     p_organization text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE
               WHEN p_name IS NULL OR NOT eventbox.is_person_name(p_name)
                   THEN 'invalid_name'
               WHEN p_email IS NULL OR NOT eventbox.is_email_address(p_email)
                    OR p_email !~ '@[^@]+\.[^@]+$'
                    OR p_email ~ '\.[0-9]+$'
                    OR NOT eventbox.is_ascii(p_email)
                   THEN 'invalid_email'
               WHEN NOT eventbox.is_library_name(p_organization)
                   THEN 'invalid_organization'
           END
$$;

-- register_entry: one registration attempt.  Returns one row:
--   outcome   confirmed | waitlisted | full | not_found | not_published |
--             event_cancelled | not_open | closed | not_eligible |
--             invalid_name | invalid_email | invalid_organization |
--             idempotency_mismatch | already_registered (staff only) |
--             pending (held until the address confirms: rules/55_holds.sql)
--   position  place on the waiting list when waitlisted
--   registration_id  the registration the attempt made or found (a new
--             one, or the address's live one), else NULL
--   created   true when the attempt made registration_id: only then may
--             the caller add to it (a repeated address is anybody's to send)
-- A repeated email answers what a new registration would have got, and
-- queues an "already registered" note to that address instead; staff
-- (p_source 'staff') are told already_registered and nothing is sent.
-- not_eligible: a members-only event, an address outside the member
-- domains, and p_any_domain false.
-- p_language: the registrant's language (018_language.sql), kept with a new
-- registration, and with a repeated address's live one (its latest attempt
-- that names one wins); NULL, which the service passes when the request
-- named no language it has, leaves the column's default ('en') or the
-- stored one.
-- p_answers: the answers to the event's questions, when the caller has
-- them (register_answered()), for the idempotency record's request hash
-- only: register_answered() stores them.
-- p_seen: the event's row as the caller read it a moment ago, without the
-- lock (register_answered() has it), for the fast path below instead of
-- reading it again; NULL: read here.
-- Not granted to anyone: callers are register(), staff_register() and
-- register_answered() (rules/78_questions.sql).
--
-- The fast path: a plainly full event answers 'full' without the event's
-- row lock.  When a popular event's seats (and waiting list) are gone, the
-- crowd keeps pressing "Register"; with the lock every attempt gets a
-- transaction id, waits for a WAL flush at commit and queues behind every
-- other attempt on that row, only to answer "full".  Measured with pgbench
-- on a full event, waiting list off (docs/PERFORMANCE.md): ~4,300/s with 1
-- client and ~780-2,400/s with 64 with the lock; ~15,000/s and ~30,000/s
-- without.  It answers only when nothing would be written: no answer kept
-- under the request's idempotency key (a key with none takes it: 'full'
-- is never kept), the event open and the address eligible (else another
-- answer comes first), no seat and no room on the waiting list
-- (seat_outcome), and, for staff only, the address not registered (staff
-- are told already_registered, under the lock).  A patron's address takes
-- this path whether it is registered or not, so neither the answer nor the
-- work (and so the time) tells a probe which; a registered patron who
-- presses "Register" on a full event gets no note then.  The counters move toward
-- "full" only under the lock, so a snapshot that says full answers what a
-- locked read a moment earlier would have; anything else is decided under
-- the lock, by the same helpers.
-- (The forms without p_language and registration_id, and without p_seen,
-- replaced; its result grew created, and a new result type takes a DROP
-- first.)
DROP FUNCTION IF EXISTS eventbox.register_entry(text, text, text, text, text, uuid, text, boolean);
DROP FUNCTION IF EXISTS eventbox.register_entry(text, text, text, text, text, uuid, text, boolean,
                                                text);
DROP FUNCTION IF EXISTS eventbox.register_entry(text, text, text, text, text, uuid, text, boolean,
                                                text, eventbox.events);
DROP FUNCTION IF EXISTS eventbox.register_entry(text, text, text, text, text, uuid, text, boolean,
                                                text, eventbox.events, jsonb);
CREATE FUNCTION eventbox.register_entry(
    p_event text,
    p_name text,
    p_email text,
    p_organization text,
    p_source text,
    p_token uuid,
    p_idempotency_key text,
    p_any_domain boolean,
    p_language text DEFAULT NULL,
    p_seen eventbox.events DEFAULT NULL,
    p_answers jsonb DEFAULT NULL,
    OUT outcome text,
    OUT "position" integer,
    OUT event_id bigint,
    OUT event_slug text,
    OUT registration_id bigint,
    OUT created boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
-- One plan per statement for the session: with the default, PostgreSQL
-- kept planning some of these again for every call (a sixth of a
-- registration's CPU, measured with perf; docs/PERFORMANCE.md).
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    e events;
    v_name text := btrim(p_name);
    v_email text := btrim(p_email);
    v_org text := nullif(btrim(p_organization), '');
    v_member bigint;
    v_hash bytea;
    v_token text;
    v_existing bigint;
    v_reg bigint;
    v_idem record;
    v_held boolean;
    v_now timestamptz;
BEGIN
    -- 'staff' is staff's word (the callers pass p_any_domain only for
    -- staff): the service claiming it would be told who is registered
    -- ('already_registered') and skip the address's confirmation.
    IF p_source = 'staff' AND NOT p_any_domain THEN
        RAISE EXCEPTION 'only staff register with source staff'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- 1. Before the lock: everything that depends only on the request.
    -- The event row lock is held until the commit is on disk, and every
    -- other registration for the event waits for it; work done here is
    -- done by many sessions at once instead of one after another.
    created := false;
    outcome := registrant_error(v_name, v_email, v_org);
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;
    v_member := member_of(v_email);
    v_token := coalesce(p_token, gen_random_uuid())::text;
    IF p_idempotency_key IS NOT NULL THEN
        -- The answers are part of the request (register_answered() passes
        -- them): the same key with other answers is another request.  As
        -- jsonb text, the same answers hash alike however the client wrote
        -- them; none hash as before they were part of it.
        v_hash := sha256(convert_to(lower(v_email) || chr(10) || v_name || chr(10)
                                    || coalesce(v_org, '')
                                    || CASE WHEN p_answers IS NULL OR p_answers = '{}' THEN ''
                                            ELSE chr(10) || p_answers::text END, 'UTF8'));
    END IF;
    -- Fast path (see above): a plainly full event, read without the lock
    -- (the row as one value, as lock_event() reads it: rules/10_seats.sql).
    IF p_seen.id IS NOT NULL THEN
        e := p_seen;
    ELSIF p_event ~ '^[1-9][0-9]{0,17}$' THEN
        e := (SELECT x FROM events x WHERE x.id = p_event::bigint);
    ELSE
        e := (SELECT x FROM events x WHERE x.slug = p_event);
    END IF;
    -- A key with an answer kept (a retry, the registration form sent
    -- again) is replayed under the lock, whatever the event is now.  The
    -- key is looked for after the event was read: a first attempt that
    -- filled the event had committed its key with its seat.
    -- In three steps, so that an event with room (most attempts) pays for
    -- the first alone: PL/pgSQL prepares each condition, all of it, the
    -- first time it runs in a transaction, and runs one with a subquery
    -- (the third) as a query of its own, started every time.
    IF e.id IS NOT NULL AND seat_outcome(e) = 'full' THEN
        IF e.status = 'published' AND registration_state(e) = 'open'
           AND NOT (has_holds(e) AND holds_due(e.id))
           AND NOT (e.members_only AND NOT p_any_domain AND v_member IS NULL) THEN
            IF (p_source <> 'staff'
                OR NOT EXISTS (SELECT 1 FROM registrations r
                                WHERE r.event_id = e.id AND lower(r.email) = lower(v_email)
                                  AND r.status <> 'cancelled'))
               AND (p_idempotency_key IS NULL
                    OR NOT EXISTS (SELECT 1 FROM idempotency_keys k
                                    WHERE k.event_id = e.id AND k.key = p_idempotency_key)) THEN
                outcome := 'full';
                event_id := e.id;
                event_slug := e.slug;
                RETURN;
            END IF;
        END IF;
    END IF;

    -- 2. The decision, under the event row lock, which comes first, always.
    e := lock_event(p_event);
    IF e.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF has_holds(e) THEN                        -- else nothing to release,
        e := release_due_holds(e);              -- and no call (rules/55_holds.sql)
    END IF;
    event_id := e.id;
    event_slug := e.slug;

    IF p_idempotency_key IS NOT NULL THEN
        SELECT * INTO v_idem FROM idempotency_keys k
         WHERE k.event_id = e.id AND k.key = p_idempotency_key;
        IF FOUND THEN
            IF v_idem.request_hash <> v_hash THEN
                outcome := 'idempotency_mismatch';
            ELSE
                outcome := v_idem.outcome;
                "position" := v_idem.position;
            END IF;
            RETURN;
        END IF;
    END IF;

    -- By the clock, under the lock: an attempt that waited for the lock
    -- across the closing time or the start is closed (nobody joins a
    -- waiting list that can no longer move).  Through a variable, so that
    -- the planner inlines registration_state_at() (a volatile argument
    -- used twice would stop it).
    v_now := clock_timestamp();
    outcome := CASE WHEN e.status = 'draft' THEN 'not_published'
                    ELSE registration_state_at(e, v_now) END;
    IF outcome = 'cancelled' THEN
        outcome := 'event_cancelled';
    ELSIF outcome <> 'open' THEN
        NULL;                                   -- not_published | not_open | closed
    ELSIF e.members_only AND v_member IS NULL AND NOT p_any_domain THEN
        outcome := 'not_eligible';
    ELSE
        outcome := seat_outcome(e);             -- confirmed | waitlisted | full
        IF outcome = 'waitlisted' THEN
            "position" := e.waitlisted_count + 1;
        END IF;
    END IF;

    -- The seat itself: one row, its id (arrival order) taken under the
    -- lock; the unique index on live addresses answers "already there"
    -- in the same probe.
    IF outcome IN ('confirmed', 'waitlisted') THEN
        v_held := p_source <> 'staff' AND needs_confirmation(e);
        INSERT INTO registrations (event_id, name, email, organization, status, source,
                                   confirmed_at, organization_id, held_until, language)
        VALUES (e.id, v_name, v_email, v_org, outcome, p_source,
                CASE WHEN outcome = 'confirmed' THEN now() END, v_member,
                CASE WHEN v_held THEN hold_ends(e) END,
                coalesce(p_language, 'en'))             -- 'en': the column's default
        ON CONFLICT (event_id, lower(email)) WHERE status <> 'cancelled' DO NOTHING
        RETURNING id INTO v_reg;
    END IF;
    IF v_reg IS NULL AND outcome IN ('confirmed', 'waitlisted', 'full') THEN
        SELECT id INTO v_existing FROM registrations r
         WHERE r.event_id = e.id AND lower(r.email) = lower(v_email) AND r.status <> 'cancelled'
           FOR NO KEY UPDATE;
    END IF;

    -- 3. After the decision: its consequences (the token, the outbox row,
    -- the idempotency record), with nothing left to look up.
    IF v_reg IS NOT NULL THEN
        INSERT INTO tokens (token_hash, registration_id) VALUES (token_hash(v_token), v_reg);
        INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
        VALUES (CASE WHEN v_held THEN 'confirm_address' ELSE outcome END, v_reg, e.id,
                v_email, v_name, v_token);
    ELSIF v_existing IS NOT NULL AND p_source = 'staff' THEN
        -- Staff are told the truth (a patron is told by email instead).
        outcome := 'already_registered';
        "position" := NULL;
    ELSIF v_existing IS NOT NULL THEN
        IF p_language IS NOT NULL AND outcome IN ('confirmed', 'waitlisted') THEN
            UPDATE registrations r SET language = p_language
             WHERE r.id = v_existing AND r.language <> p_language;
        END IF;
        PERFORM note_repeat(v_existing);        -- at most one an hour
    END IF;
    registration_id := coalesce(v_reg, v_existing);
    created := v_reg IS NOT NULL;
    -- The public on an event that confirms by email learns nothing until
    -- the address answers: new, repeated, seat or waiting place.
    IF outcome IN ('confirmed', 'waitlisted') AND p_source <> 'staff'
       AND needs_confirmation(e) THEN
        outcome := 'pending';
        "position" := NULL;
    END IF;

    -- Only an answer that will not change is kept for replays: "not open
    -- yet", "full" or "not published" may be different on the next try.
    IF p_idempotency_key IS NOT NULL
       AND outcome IN ('confirmed', 'waitlisted', 'pending', 'closed', 'event_cancelled') THEN
        INSERT INTO idempotency_keys (event_id, key, request_hash, outcome, position)
        VALUES (e.id, p_idempotency_key, v_hash, outcome, "position");
    END IF;
END
$$;

-- register(): the service's and psql's entry, the signature staff scripts know.
-- Source 'staff' (the default, for psql) lets anybody into a members-only
-- event only when staff call: the service passing 'staff' gets no bypass.
CREATE OR REPLACE FUNCTION eventbox.register(
    p_event text,
    p_name text,
    p_email text,
    p_organization text DEFAULT NULL,
    p_source text DEFAULT 'staff',
    p_token uuid DEFAULT NULL,
    p_idempotency_key text DEFAULT NULL,
    OUT outcome text,
    OUT "position" integer,
    OUT event_id bigint,
    OUT event_slug text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    r record;
    v_staff boolean := p_source = 'staff' AND is_staff(invoker());
BEGIN
    -- PL/pgSQL rather than SQL: its plan is kept for the session, where a
    -- SQL function's body is parsed and planned again in every transaction.
    -- An assignment, not SELECT ... FROM register_entry(): no query, no
    -- function scan and its tuple store around the call.
    r := register_entry(p_event, p_name, p_email, p_organization, p_source, p_token,
                        p_idempotency_key, v_staff);
    outcome := r.outcome;
    "position" := r."position";
    event_id := r.event_id;
    event_slug := r.event_slug;
    -- Staff at psql entered it: the audit log says who, as for
    -- staff_register().
    IF v_staff AND outcome IN ('confirmed', 'waitlisted') THEN
        PERFORM audit(invoker(), 'sql', 'registration_entered', r.event_id,
                      r.registration_id, jsonb_build_object('outcome', outcome));
    END IF;
END
$$;

-- staff_register: staff enter a registration (by phone, at the desk).  Same
-- rules as register() except that members-only events accept anybody.
CREATE OR REPLACE FUNCTION eventbox.staff_register(p_event text, p_name text, p_email text,
                                        p_organization text DEFAULT NULL,
                                        p_key text DEFAULT NULL,
                                        OUT outcome text, OUT "position" integer,
                                        OUT registration_id bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    who record := staff_actor(p_key);
    r record;
BEGIN
    r := register_entry(p_event, p_name, p_email, p_organization, 'staff', NULL, NULL, true);
    outcome := r.outcome;
    "position" := r.position;
    IF outcome IN ('confirmed', 'waitlisted', 'already_registered') THEN
        registration_id := r.registration_id;
    END IF;
    IF outcome IN ('confirmed', 'waitlisted') THEN
        PERFORM audit(who.actor, who.via, 'registration_entered', r.event_id,
                      registration_id, jsonb_build_object('outcome', outcome));
    END IF;
END
$$;

-- registration_by_token: the holder's own registration.  The online URL is
-- shown only once the seat is confirmed (and, where the event asks, the
-- address too: rules/55_holds.sql), and only while the event is published
-- (joining_url(), rules/30_views.sql, as the emails).  A held registration
-- (a seat or a waiting place, rules/55_holds.sql) is 'pending', as
-- register() answered it, with the hold's end and no position: the
-- confirmation says which it holds.  A hold past its end is 'cancelled'
-- already, as the next expiry will make it.  language: the registrant's,
-- which its emails are in and the token pages speak when the address
-- names none (page_token_lang(), src/page_layout.c).  (Its result grew
-- held_until, then language: a new result type takes a DROP first.)
DROP FUNCTION IF EXISTS eventbox.registration_by_token(text);
CREATE FUNCTION eventbox.registration_by_token(p_token text)
RETURNS TABLE (status text, "position" integer, name text, email text, organization text,
               registered_at timestamptz, event_slug text, event_title text,
               starts_at timestamptz, ends_at timestamptz, timezone text, format text,
               location text, online_url text, held_until timestamptz,
               language text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT CASE WHEN r.held_until IS NULL THEN r.status
                WHEN r.held_until > now() THEN 'pending'
                ELSE 'cancelled' END,
           CASE WHEN r.status = 'waitlisted' AND r.held_until IS NULL THEN
               (SELECT count(*)::integer FROM registrations w
                 WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.id <= r.id)
           END,
           r.name, r.email, r.organization, r.registered_at, e.slug, e.title,
           e.starts_at, e.ends_at, e.timezone, e.format, e.location,
           joining_url(r, e),
           CASE WHEN r.held_until > now() THEN r.held_until END,
           r.language
      FROM tokens t
      JOIN registrations r ON r.id = t.registration_id
      JOIN events e ON e.id = r.event_id
     WHERE t.token_hash = token_hash(p_token)
$$;
