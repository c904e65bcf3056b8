-- 004_staff.sql: staff work -- API keys, the audit log, member libraries,
-- event administration, attendance, and privacy retention.
--
-- Who may do what:
--   * eventbox_service (the web workers) calls the staff functions only with
--     a staff API key, which each function checks itself (staff_actor): a
--     worker without a key can change nothing here.
--   * eventbox_ops (staff at a psql prompt) calls them without a key; the
--     audit log then names their database role.  Ops may create and edit
--     events with plain SQL (001's grants); those changes are audited by a
--     trigger, and raising a capacity or cancelling an event by plain UPDATE
--     has the same consequences as through the functions (promotions,
--     cancellation notices).  Registrations change only through functions.
--
-- Every function that touches registrations locks the event row first, with
-- 001's lock_event().  The audit log never holds a token or a key; purge()
-- erases the personal data it may hold.

------------------------------------------------------------------------------
-- Time zone names, looked up instead of read from disk.
--
-- 001's is_valid_timezone() scans pg_timezone_names, which reads the whole
-- time zone database from disk (about 1,200 files, 28 ms a call here).  As
-- a CHECK on events it runs on every UPDATE of an event row, and every
-- registration, cancellation and promotion updates the event's counters:
-- measured here, it was nearly all the cost of register() (25 ms of a
-- registration's trigger time) and made a purge of 2,240 registrations take
-- 75 s.  Same function, same answers: the names are kept in a table, and a
-- name not in it (a newer time zone database) still gets the full lookup.

CREATE TABLE eventbox.timezone_names (name text PRIMARY KEY);
INSERT INTO eventbox.timezone_names SELECT name FROM pg_timezone_names;

CREATE OR REPLACE FUNCTION eventbox.is_valid_timezone(tz text) RETURNS boolean
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM eventbox.timezone_names WHERE name = tz)
        OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz)
$$;

------------------------------------------------------------------------------
-- Tables.

CREATE TABLE eventbox.api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- The consortium's member libraries and the email domains their staff use.
CREATE TABLE eventbox.organizations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    domains     text[] NOT NULL DEFAULT '{}'
                CHECK (array_position(domains, NULL) IS NULL
                       AND domains::text = lower(domains::text)),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE eventbox.audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,       -- API key name, or database role
    via             text NOT NULL CHECK (via IN ('api', 'sql')),
    action          text NOT NULL,
    event_id        bigint REFERENCES eventbox.events (id) ON DELETE SET NULL,
    registration_id bigint REFERENCES eventbox.registrations (id) ON DELETE SET NULL,
    details         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_event ON eventbox.audit_log (event_id, id);

-- What remains of an event's registrations once purge() erased them.
CREATE TABLE eventbox.event_stats (
    event_id    bigint PRIMARY KEY REFERENCES eventbox.events (id),
    registered  integer NOT NULL,   -- every registration ever made
    confirmed   integer NOT NULL,   -- holding a seat when purged
    waitlisted  integer NOT NULL,   -- still waiting when purged
    cancelled   integer NOT NULL,
    attended    integer NOT NULL,
    purged_at   timestamptz,        -- NULL while purge is under way
    CHECK (registered = confirmed + waitlisted + cancelled AND attended <= registered)
);

ALTER TABLE eventbox.events ADD COLUMN members_only boolean NOT NULL DEFAULT false;
ALTER TABLE eventbox.registrations
    ADD COLUMN organization_id bigint REFERENCES eventbox.organizations (id);

------------------------------------------------------------------------------
-- Who is calling.

-- The role that called a SECURITY DEFINER function: SET ROLE if any, else
-- the login role.
CREATE FUNCTION eventbox.invoker() RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN current_setting('role') IN ('none', '') THEN session_user::text
                ELSE current_setting('role') END
$$;

-- The name of a live API key, or NULL.  The key is compared by its hash, in
-- an index lookup: no timing hint about how much of a key was right.
CREATE FUNCTION eventbox.api_key_name(p_key text) RETURNS text
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT name FROM api_keys
     WHERE key_hash = sha256(convert_to(p_key, 'UTF8')) AND revoked_at IS NULL
$$;

-- Staff at a psql prompt: a member of eventbox_ops, or the owner.
CREATE FUNCTION eventbox.is_staff(who text) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_has_role(who, 'eventbox_ops', 'USAGE')
        OR who = (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'eventbox')
$$;

-- The actor for the audit log: the key's name, or for a call without a key
-- the role of a staff member (eventbox_ops, or the owner).  Anybody else is
-- refused.
CREATE FUNCTION eventbox.staff_actor(p_key text, OUT actor text, OUT via text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who text := invoker();
BEGIN
    IF p_key IS NOT NULL THEN
        actor := api_key_name(p_key);
        via := 'api';
        IF actor IS NULL THEN
            RAISE EXCEPTION 'not a valid staff key' USING ERRCODE = 'invalid_authorization_specification';
        END IF;
        RETURN;
    END IF;
    IF is_staff(who) THEN
        actor := who;
        via := 'sql';
        RETURN;
    END IF;
    RAISE EXCEPTION 'staff functions need a staff key or the eventbox_ops role'
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Writes one audit row and marks the transaction so the plain-SQL audit
-- trigger does not log the same change twice.
CREATE FUNCTION eventbox.audit(p_actor text, p_via text, p_action text, p_event bigint,
                               p_registration bigint DEFAULT NULL,
                               p_details jsonb DEFAULT '{}')
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    INSERT INTO audit_log (actor, via, action, event_id, registration_id, details)
    VALUES (p_actor, p_via, p_action, p_event, p_registration, coalesce(p_details, '{}'))
$$;

-- The member library an address belongs to (its domain or a subdomain).
CREATE FUNCTION eventbox.member_of(p_email text) RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT o.id FROM organizations o, unnest(o.domains) d
     WHERE lower(split_part(p_email, '@', 2)) = d
        OR lower(split_part(p_email, '@', 2)) LIKE '%.' || d
     ORDER BY o.id LIMIT 1
$$;

------------------------------------------------------------------------------
-- register_entry(): 001's register() with one more rule, members-only
-- events, and register() now calls it.
--
-- This duplicates 001's body on purpose (the lead knows): the only changes
-- are the organization_id lookup and the 'not_eligible' outcome.  Keep the
-- two in step if 001's rules ever change.
--   outcome  adds not_eligible: a members-only event, an address outside the
--            member domains, and p_any_domain false.
-- Not granted to anyone: callers are register() and staff_register().

CREATE FUNCTION eventbox.register_entry(
    p_event text,
    p_name text,
    p_email text,
    p_organization text,
    p_source text,
    p_token uuid,
    p_idempotency_key text,
    p_any_domain boolean,
    OUT outcome text,
    OUT "position" integer,
    OUT event_id bigint,
    OUT event_slug text)
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    e events;
    v_name text := btrim(p_name);
    v_email text := btrim(p_email);
    v_org text := nullif(btrim(p_organization), '');
    v_member bigint;
    v_hash bytea;
    v_existing bigint;
    v_reg bigint;
    v_idem record;
BEGIN
    IF v_name IS NULL OR v_name = '' OR length(v_name) > 200 OR v_name ~ '[[:cntrl:]]' THEN
        outcome := 'invalid_name';
        RETURN;
    END IF;
    IF v_email IS NULL OR length(v_email) > 254
       OR v_email !~ '^[^[:space:][:cntrl:]@]+@[^[:space:][:cntrl:]@]+\.[^[:space:][:cntrl:]@]+$' THEN
        outcome := 'invalid_email';
        RETURN;
    END IF;
    IF length(v_org) > 200 OR v_org ~ '[[:cntrl:]]' THEN
        outcome := 'invalid_organization';
        RETURN;
    END IF;

    -- The event row lock comes first, always.
    e := lock_event(p_event);
    IF e.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    event_id := e.id;
    event_slug := e.slug;

    IF p_idempotency_key IS NOT NULL THEN
        v_hash := sha256(convert_to(lower(v_email) || chr(10) || v_name || chr(10)
                                    || coalesce(v_org, ''), 'UTF8'));
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

    v_member := member_of(v_email);
    IF e.status = 'draft' THEN
        outcome := 'not_published';
    ELSIF e.status = 'cancelled' THEN
        outcome := 'event_cancelled';
    ELSIF e.registration_opens_at IS NOT NULL AND now() < e.registration_opens_at THEN
        outcome := 'not_open';
    ELSIF now() >= least(e.registration_closes_at, e.starts_at) THEN
        -- Closing later than the start is not a thing: nobody is promoted
        -- once an event has begun, so nobody may join it either.
        outcome := 'closed';
    ELSIF e.members_only AND v_member IS NULL AND NOT p_any_domain THEN
        outcome := 'not_eligible';
    ELSIF e.confirmed_count < e.capacity THEN
        outcome := 'confirmed';
    ELSIF e.waitlist_enabled
          AND (e.waitlist_capacity IS NULL OR e.waitlisted_count < e.waitlist_capacity) THEN
        outcome := 'waitlisted';
        "position" := e.waitlisted_count + 1;
    ELSE
        outcome := 'full';
    END IF;

    IF outcome IN ('confirmed', 'waitlisted', 'full') THEN
        SELECT id INTO v_existing FROM registrations r
         WHERE r.event_id = e.id AND lower(r.email) = lower(v_email) AND r.status <> 'cancelled'
           FOR UPDATE;
        IF FOUND THEN
            INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
            SELECT 'already_registered', r.id, e.id, r.email, r.name, issue_token(r.id)
              FROM registrations r WHERE r.id = v_existing;
        ELSIF outcome <> 'full' THEN
            INSERT INTO registrations (event_id, name, email, organization, status, source,
                                       confirmed_at, organization_id)
            VALUES (e.id, v_name, v_email, v_org, outcome, p_source,
                    CASE WHEN outcome = 'confirmed' THEN now() END, v_member)
            RETURNING id INTO v_reg;
            INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
            VALUES (outcome, v_reg, e.id, v_email, v_name, issue_token(v_reg, p_token));
        END IF;
    END IF;

    IF p_idempotency_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (event_id, key, request_hash, outcome, position)
        VALUES (e.id, p_idempotency_key, v_hash, outcome, "position");
    END IF;
END
$$;

-- register(): same signature as 001's, so grants and callers are untouched.
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
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT r.outcome, r."position", r.event_id, r.event_slug
      FROM register_entry(p_event, p_name, p_email, p_organization, p_source, p_token,
                          p_idempotency_key,
                          p_source = 'staff' AND is_staff(invoker())) r
$$;

------------------------------------------------------------------------------
-- Consequences of event changes, however they are made (functions or plain
-- SQL by ops): a raised capacity or a publication promotes from the waiting
-- list; a cancellation cancels every registration with a notice to each.
-- The UPDATE that fired this holds the event row lock already.

CREATE FUNCTION eventbox.cancel_all_registrations(p_event_id bigint) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    WITH c AS (
        UPDATE registrations SET status = 'cancelled', cancelled_at = now()
         WHERE event_id = p_event_id AND status <> 'cancelled'
        RETURNING id, email, name)
    INSERT INTO outbox (kind, registration_id, event_id, email, name)
    SELECT 'event_cancelled', c.id, p_event_id, c.email, c.name FROM c ORDER BY c.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

CREATE FUNCTION eventbox.tg_event_follow_up() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    -- The staff functions do this themselves, and count what they did.
    IF current_setting('eventbox.audited', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        PERFORM cancel_all_registrations(NEW.id);
    ELSIF NEW.capacity > OLD.capacity
          OR (NEW.status = 'published' AND OLD.status <> 'published') THEN
        PERFORM promote_waiting(NEW.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER event_follow_up
    AFTER UPDATE OF capacity, status ON eventbox.events
    FOR EACH ROW
    WHEN (pg_trigger_depth() = 0
          AND (NEW.capacity > OLD.capacity OR NEW.status IS DISTINCT FROM OLD.status))
    EXECUTE FUNCTION eventbox.tg_event_follow_up();

-- Plain-SQL changes to events by staff go to the audit log too.  Changes
-- made by the staff functions are logged by them (they set
-- eventbox.audited for the duration of the call).
CREATE FUNCTION eventbox.tg_audit_events() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    changed jsonb;
BEGIN
    IF current_setting('eventbox.audited', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT coalesce(jsonb_object_agg(n.key, n.value), '{}') INTO changed
          FROM jsonb_each(to_jsonb(NEW)) n JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
         WHERE n.value IS DISTINCT FROM o.value AND n.key <> 'updated_at';
    ELSE
        changed := '{}';
    END IF;
    PERFORM audit(invoker(), 'sql',
                  CASE TG_OP WHEN 'INSERT' THEN 'event_created' WHEN 'UPDATE' THEN 'event_updated'
                             ELSE 'event_deleted' END,
                  CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.id END,
                  NULL, CASE WHEN TG_OP = 'DELETE' THEN jsonb_build_object('slug', OLD.slug)
                             ELSE changed END);
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_events
    AFTER INSERT OR UPDATE OR DELETE ON eventbox.events
    FOR EACH ROW
    WHEN (pg_trigger_depth() = 0)
    EXECUTE FUNCTION eventbox.tg_audit_events();

-- Member libraries are staff data too: their changes are audited.
CREATE FUNCTION eventbox.tg_audit_organizations() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    PERFORM audit(invoker(), 'sql', 'organization_' || CASE TG_OP WHEN 'INSERT' THEN 'created'
                  WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END, NULL, NULL,
                  CASE WHEN TG_OP = 'DELETE'
                       THEN jsonb_build_object('library', OLD.name, 'domains', OLD.domains)
                       ELSE jsonb_build_object('library', NEW.name, 'domains', NEW.domains) END);
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_organizations
    AFTER INSERT OR UPDATE OR DELETE ON eventbox.organizations
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_audit_organizations();

-- Marks the rest of this call as audited by a function (see above).
CREATE FUNCTION eventbox.audited(p_on boolean) RETURNS void
LANGUAGE sql
AS $$ SELECT set_config('eventbox.audited', CASE WHEN p_on THEN 'on' ELSE '' END, true) $$;

------------------------------------------------------------------------------
-- Creating and editing events.

-- A time given without a UTC offset is wall-clock time in the event's zone.
CREATE FUNCTION eventbox.parse_time(p text, tz text) RETURNS timestamptz
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF p IS NULL THEN
        RETURN NULL;
    END IF;
    IF p !~ '^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)?$' THEN
        RAISE EXCEPTION 'bad time' USING ERRCODE = 'invalid_datetime_format';
    END IF;
    IF p ~ '(Z|[+-]\d\d(:?\d\d)?)$' THEN
        RETURN p::timestamptz;
    END IF;
    RETURN p::timestamp AT TIME ZONE tz;
END
$$;

-- save_event: creates (p_event NULL) or changes an event from a JSON object
-- of column values; absent keys keep their value (or the default).  Every
-- value is checked here and the first bad one named, so that the API can
-- answer 422 with the field.  Capacity changes go through set_capacity's
-- rule (never below the confirmed count); status changes through
-- set_status.
--   outcome  created | updated | not_found | invalid | slug_taken |
--            below_confirmed
CREATE FUNCTION eventbox.save_event(p_event text, p_fields jsonb, p_key text DEFAULT NULL,
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
    allowed text[] := ARRAY['slug', 'title', 'description', 'presenter', 'format', 'location',
        'online_url', 'categories', 'organizer', 'accessibility_contact', 'starts_at',
        'ends_at', 'timezone', 'capacity', 'waitlist_enabled', 'waitlist_capacity',
        'registration_opens_at', 'registration_closes_at', 'members_only'];
BEGIN
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
        e.confirmed_count := 0;
    ELSE
        e := lock_event(p_event);
        IF e.id IS NULL THEN
            outcome := 'not_found';
            RETURN;
        END IF;
    END IF;

    -- Types first: each present value must be the JSON type of its column.
    FOR k IN SELECT jsonb_object_keys(p_fields) LOOP
        v_type := CASE
               WHEN k IN ('capacity', 'waitlist_capacity') THEN 'number'
               WHEN k IN ('waitlist_enabled', 'members_only') THEN 'boolean'
               WHEN k = 'categories' THEN 'array'
               ELSE 'string' END;
        IF jsonb_typeof(p_fields -> k) <> v_type
           AND NOT (jsonb_typeof(p_fields -> k) = 'null'
                    AND k IN ('online_url', 'waitlist_capacity', 'registration_opens_at',
                              'registration_closes_at')) THEN
            outcome := 'invalid'; field := k; message := 'has the wrong type';
            RETURN;
        END IF;
    END LOOP;

    v_tz := coalesce(p_fields ->> 'timezone', e.timezone);
    IF NOT is_valid_timezone(v_tz) THEN
        outcome := 'invalid'; field := 'timezone';
        message := 'is not an IANA time zone (like America/New_York)';
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
    IF p_fields ? 'online_url' THEN n.online_url := p_fields ->> 'online_url'; END IF;
    IF p_fields ? 'waitlist_capacity' THEN
        IF (p_fields ->> 'waitlist_capacity')::numeric
               <> trunc((p_fields ->> 'waitlist_capacity')::numeric)
           OR (p_fields ->> 'waitlist_capacity')::numeric NOT BETWEEN 0 AND 1000000 THEN
            outcome := 'invalid'; field := 'waitlist_capacity';
            message := 'must be a whole number from 0, or null';
            RETURN;
        END IF;
        n.waitlist_capacity := (p_fields ->> 'waitlist_capacity')::numeric;
    END IF;
    n.waitlist_enabled := coalesce((p_fields ->> 'waitlist_enabled')::boolean,
                                   e.waitlist_enabled);
    n.members_only := coalesce((p_fields ->> 'members_only')::boolean, e.members_only);
    IF p_fields ? 'categories' THEN
        IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_fields -> 'categories') c
                    WHERE jsonb_typeof(c) <> 'string' OR length(c #>> '{}') NOT BETWEEN 1 AND 100) THEN
            outcome := 'invalid'; field := 'categories';
            message := 'must be a list of short texts';
            RETURN;
        END IF;
        n.categories := ARRAY(SELECT jsonb_array_elements_text(p_fields -> 'categories'));
    END IF;
    IF p_fields ? 'capacity' THEN
        IF (p_fields ->> 'capacity')::numeric NOT BETWEEN 0 AND 1000000
           OR (p_fields ->> 'capacity')::numeric <> trunc((p_fields ->> 'capacity')::numeric) THEN
            outcome := 'invalid'; field := 'capacity';
            message := 'must be a whole number from 0';
            RETURN;
        END IF;
        n.capacity := (p_fields ->> 'capacity')::integer;
    END IF;
    IF n.waitlist_capacity IS NOT NULL
       AND (n.waitlist_capacity < 0 OR n.waitlist_capacity > 1000000) THEN
        outcome := 'invalid'; field := 'waitlist_capacity';
        message := 'must be a whole number from 0, or null';
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

    IF n.slug !~ '^[a-z0-9][a-z0-9-]{0,99}$' OR n.slug ~ '^[0-9]+$' THEN
        field := 'slug'; message := 'lower-case letters, digits and hyphens, not only digits';
    ELSIF n.title = '' OR length(n.title) > 300 THEN
        field := 'title'; message := 'must be 1 to 300 characters';
    ELSIF n.format NOT IN ('online', 'in_person', 'hybrid') THEN
        field := 'format'; message := 'must be online, in_person or hybrid';
    ELSIF n.online_url !~ '^https?://[^[:space:]]+$' THEN
        field := 'online_url'; message := 'must be an http or https URL';
    ELSIF n.ends_at <= n.starts_at THEN
        field := 'ends_at'; message := 'must be after starts_at';
    ELSIF n.registration_closes_at <= n.registration_opens_at THEN
        field := 'registration_closes_at'; message := 'must be after registration_opens_at';
    ELSIF n.capacity < n.confirmed_count THEN
        outcome := 'below_confirmed';
        message := format('%s seats are taken; cancel registrations before lowering the capacity below that',
                          n.confirmed_count);
        RETURN;
    END IF;
    IF field IS NOT NULL THEN
        outcome := 'invalid';
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM events x WHERE x.slug = n.slug AND x.id IS DISTINCT FROM e.id) THEN
        outcome := 'slug_taken'; field := 'slug'; message := 'another event has this slug';
        RETURN;
    END IF;

    PERFORM audited(true);
    IF p_event IS NULL THEN
        INSERT INTO events (slug, title, description, presenter, format, location, online_url,
                            categories, organizer, accessibility_contact, starts_at, ends_at,
                            timezone, capacity, waitlist_enabled, waitlist_capacity,
                            registration_opens_at, registration_closes_at, members_only)
        VALUES (n.slug, n.title, n.description, n.presenter, n.format, n.location, n.online_url,
                n.categories, n.organizer, n.accessibility_contact, n.starts_at, n.ends_at,
                n.timezone, n.capacity, n.waitlist_enabled, n.waitlist_capacity,
                n.registration_opens_at, n.registration_closes_at, n.members_only)
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
               registration_closes_at = n.registration_closes_at, members_only = n.members_only
         WHERE id = e.id;
        -- The follow-up trigger only sees top-level statements.
        IF n.capacity > e.capacity THEN
            PERFORM promote_waiting(e.id);
        END IF;
        outcome := 'updated';
    END IF;
    PERFORM audit(who.actor, who.via, 'event_' || outcome, n.id, NULL,
                  p_fields - 'online_url' - 'description' - 'presenter');
    PERFORM audited(false);
    event_id := n.id;
    event_slug := n.slug;
END
$$;

-- set_status: publish, unpublish (back to draft) or cancel an event.
-- Cancelling cancels every registration and queues a notice to each;
-- publishing fills free seats from the waiting list.  A cancelled event
-- stays cancelled.
--   outcome  ok | unchanged | not_found | invalid_status | event_cancelled
CREATE FUNCTION eventbox.set_status(p_event text, p_status text, p_key text DEFAULT NULL,
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
-- transaction; lowering it below the confirmed count is refused.
--   outcome  ok | below_confirmed | not_found | invalid_capacity
CREATE FUNCTION eventbox.set_capacity(p_event text, p_capacity integer, p_key text,
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
    IF p_capacity IS NULL OR p_capacity < 0 THEN
        outcome := 'invalid_capacity';
        RETURN;
    END IF;
    e := lock_event(p_event);
    IF e.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    confirmed := e.confirmed_count;
    IF p_capacity < e.confirmed_count THEN
        outcome := 'below_confirmed';
        RETURN;
    END IF;
    PERFORM audited(true);
    UPDATE events SET capacity = p_capacity WHERE id = e.id;
    promoted := promote_waiting(e.id);
    confirmed := e.confirmed_count + promoted;
    PERFORM audit(who.actor, who.via, 'capacity_set', e.id, NULL,
                  jsonb_build_object('from', e.capacity, 'to', p_capacity,
                                     'promoted', promoted));
    PERFORM audited(false);
    outcome := 'ok';
END
$$;

-- 001's two-argument set_capacity, now audited: same signature, same rule.
CREATE OR REPLACE FUNCTION eventbox.set_capacity(p_event text, p_capacity integer,
                                                 OUT outcome text, OUT promoted integer)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$ SELECT s.outcome, s.promoted FROM set_capacity(p_event, p_capacity, NULL::text) s $$;

------------------------------------------------------------------------------
-- Registrations, by staff.

-- staff_register: staff enter a registration (by phone, at the desk).  Same
-- rules as register() except that members-only events accept anybody.
CREATE FUNCTION eventbox.staff_register(p_event text, p_name text, p_email text,
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
    SELECT * INTO r FROM register_entry(p_event, p_name, p_email, p_organization, 'staff',
                                        NULL, NULL, true);
    outcome := r.outcome;
    "position" := r.position;
    IF outcome IN ('confirmed', 'waitlisted') THEN
        SELECT id INTO registration_id FROM registrations
         WHERE event_id = r.event_id AND lower(email) = lower(btrim(p_email))
           AND status <> 'cancelled';
        PERFORM audit(who.actor, who.via, 'registration_entered', r.event_id,
                      registration_id, jsonb_build_object('outcome', outcome));
    END IF;
END
$$;

-- Locks the event of a registration, then the registration.  NULL when
-- there is none.
CREATE FUNCTION eventbox.lock_registration(p_registration_id bigint)
RETURNS eventbox.registrations
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_event bigint;
    r registrations;
BEGIN
    SELECT event_id INTO v_event FROM registrations WHERE id = p_registration_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM lock_event(v_event::text);
    SELECT * INTO r FROM registrations WHERE id = p_registration_id FOR UPDATE;
    RETURN r;
END
$$;

-- cancel_registration with an actor: staff cancel for a patron, or take
-- someone off the waiting list.  A freed seat goes to the next in line.
--   outcome  cancelled | already_cancelled | not_found
CREATE FUNCTION eventbox.cancel_registration(p_registration_id bigint, p_key text,
                                             OUT outcome text, OUT promoted integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    r registrations := lock_registration(p_registration_id);
BEGIN
    promoted := 0;
    IF r.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT c.outcome, c.promoted INTO outcome, promoted FROM cancel_locked(r.id) c;
    IF outcome = 'cancelled' THEN
        PERFORM audit(who.actor, who.via, 'registration_cancelled', r.event_id, r.id,
                      jsonb_build_object('was', r.status, 'promoted', promoted));
    END IF;
END
$$;

-- 001's one-argument cancel_registration, now audited.
CREATE OR REPLACE FUNCTION eventbox.cancel_registration(p_registration_id bigint,
                                                        OUT outcome text,
                                                        OUT promoted integer)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$ SELECT c.outcome, c.promoted FROM cancel_registration(p_registration_id, NULL::text) c $$;

-- promote: gives a free seat to one particular person on the waiting list,
-- ahead of their turn (staff discretion).  Without a free seat nothing
-- changes: raise the capacity or cancel a seat first.
--   outcome  promoted | no_seat | not_waitlisted | not_found | started
CREATE FUNCTION eventbox.promote(p_registration_id bigint, p_key text DEFAULT NULL,
                                 OUT outcome text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    r registrations := lock_registration(p_registration_id);
    e events;
BEGIN
    IF r.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT * INTO e FROM events WHERE id = r.event_id;
    IF r.status <> 'waitlisted' THEN
        outcome := 'not_waitlisted';
    ELSIF e.starts_at <= now() THEN
        outcome := 'started';
    ELSIF e.confirmed_count >= e.capacity THEN
        outcome := 'no_seat';
    ELSE
        UPDATE registrations SET status = 'confirmed', confirmed_at = now(), promoted_at = now()
         WHERE id = r.id;
        INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
        VALUES ('promoted', r.id, r.event_id, r.email, r.name, issue_token(r.id));
        PERFORM audit(who.actor, who.via, 'registration_promoted', r.event_id, r.id);
        outcome := 'promoted';
    END IF;
END
$$;

-- check_in: marks attendance of a confirmed registration (p_attended false
-- takes it back).
--   outcome  checked_in | unchecked | unchanged | not_confirmed | not_found
CREATE FUNCTION eventbox.check_in(p_registration_id bigint, p_key text DEFAULT NULL,
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
    ELSIF r.status <> 'confirmed' THEN
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

-- The roster of one event, waiting list in order.  The service reads it
-- with a key through admin_roster(); ops read the view.
CREATE VIEW eventbox.staff_roster AS
SELECT r.event_id, e.slug, r.id AS registration_id, r.name, r.email,
       coalesce(o.name, r.organization) AS library, o.id IS NOT NULL AS is_member,
       r.status,
       CASE WHEN r.status = 'waitlisted' THEN
           row_number() OVER (PARTITION BY r.event_id, r.status ORDER BY r.id)::integer
       END AS "position",
       r.registered_at, r.confirmed_at, r.promoted_at, r.cancelled_at, r.attended_at,
       r.source
  FROM eventbox.registrations r
  JOIN eventbox.events e ON e.id = r.event_id
  LEFT JOIN eventbox.organizations o ON o.id = r.organization_id;

CREATE FUNCTION eventbox.admin_roster(p_key text, p_event text)
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
     WHERE CASE WHEN p_event ~ '^[0-9]{1,18}$' THEN e.id = p_event::bigint
                ELSE e.slug = p_event END
     ORDER BY CASE s.status WHEN 'confirmed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END,
              s.registration_id;
END
$$;

-- One event as staff see it (online URL, counts, members_only), or none.
CREATE FUNCTION eventbox.admin_event(p_key text, p_event text)
RETURNS TABLE (id bigint, slug text, title text, status text, timezone text,
               description text, presenter text, format text, location text,
               categories text[], organizer text, accessibility_contact text,
               waitlist_enabled boolean, waitlist_capacity integer,
               starts_at timestamptz, ends_at timestamptz, capacity integer,
               confirmed integer, waitlisted integer, cancelled integer, attended bigint,
               members_only boolean, online_url text, registration_state text,
               registration_opens_at timestamptz, registration_closes_at timestamptz)
LANGUAGE plpgsql STABLE
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
             WHERE r.event_id = e.id AND r.attended_at IS NOT NULL),
           e.members_only, e.online_url,
           CASE
               WHEN e.status = 'cancelled' THEN 'cancelled'
               WHEN e.status = 'draft' THEN 'draft'
               WHEN e.registration_opens_at IS NOT NULL AND now() < e.registration_opens_at
                   THEN 'not_open'
               WHEN now() >= least(e.registration_closes_at, e.starts_at) THEN 'closed'
               ELSE 'open'
           END,
           e.registration_opens_at, least(e.registration_closes_at, e.starts_at)
      FROM events e
     WHERE CASE WHEN p_event ~ '^[0-9]{1,18}$' THEN e.id = p_event::bigint
                ELSE e.slug = p_event END;
END
$$;

-- Counts per event for reports, before, during and after purge: the kept
-- counts (event_stats) plus those of the registrations still there.
CREATE VIEW eventbox.event_report AS
SELECT e.id, e.slug, e.title, e.status, e.starts_at, e.ends_at, e.capacity,
       coalesce(s.registered, 0) + e.confirmed_count + e.waitlisted_count + e.cancelled_count
           AS registered,
       coalesce(s.confirmed, 0) + e.confirmed_count AS confirmed,
       coalesce(s.waitlisted, 0) + e.waitlisted_count AS waitlisted,
       coalesce(s.cancelled, 0) + e.cancelled_count AS cancelled,
       coalesce(s.attended, 0) + (SELECT count(*)::integer FROM eventbox.registrations r
                                  WHERE r.event_id = e.id AND r.attended_at IS NOT NULL)
           AS attended,
       s.purged_at
  FROM eventbox.events e
  LEFT JOIN eventbox.event_stats s ON s.event_id = e.id;

------------------------------------------------------------------------------
-- Privacy retention.

-- purge_step: one bounded step of privacy retention, in the caller's
-- transaction.  Takes the first event that ended more than p_retention_days
-- ago and still holds personal data, and erases up to p_limit of its
-- registrations: their counts are added to event_stats first, then their
-- outbox rows go, their audit details lose any personal field, and the rows
-- are deleted (their tokens with them).  The step that finds no
-- registration left also deletes the event's remaining outbox rows and its
-- idempotency keys, and logs 'event_purged'.
--   rows      registrations erased (0 and no event: nothing left to do)
--   finished  this step completed an event
-- Why steps: each deleted registration moves the event's counters (001's
-- row trigger), and many updates of one row in one transaction cost time
-- quadratic in their number: 2,240 registrations in one transaction took
-- 75 s here, in steps of 500 a fraction of that.  Between steps the event's
-- kept counts plus its remaining rows always add up (event_report).
CREATE FUNCTION eventbox.purge_step(p_retention_days integer, p_limit integer DEFAULT 500,
                                    p_key text DEFAULT NULL,
                                    OUT rows integer, OUT finished boolean,
                                    OUT event_id bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
SET lock_timeout = '10s'
AS $$
#variable_conflict use_column
DECLARE
    who record := staff_actor(p_key);
    e events;
    c record;
    ids bigint[];
BEGIN
    rows := 0;
    finished := false;
    IF p_retention_days IS NULL OR p_retention_days < 0 OR p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION 'retention days must be 0 or more, the step 1 or more'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO e FROM events x
     WHERE x.ends_at < now() - make_interval(days => p_retention_days)
       AND (EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = x.id)
            OR EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = x.id)
            OR EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.event_id = x.id)
            OR EXISTS (SELECT 1 FROM event_stats s
                        WHERE s.event_id = x.id AND s.purged_at IS NULL))
     ORDER BY x.id LIMIT 1
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    event_id := e.id;

    ids := ARRAY(SELECT id FROM registrations WHERE registrations.event_id = e.id
                  ORDER BY id LIMIT p_limit FOR UPDATE);
    rows := coalesce(array_length(ids, 1), 0);
    IF rows > 0 THEN
        SELECT count(*)::integer AS registered,
               count(*) FILTER (WHERE status = 'confirmed')::integer AS confirmed,
               count(*) FILTER (WHERE status = 'waitlisted')::integer AS waitlisted,
               count(*) FILTER (WHERE status = 'cancelled')::integer AS cancelled,
               count(*) FILTER (WHERE attended_at IS NOT NULL)::integer AS attended
          INTO c FROM registrations WHERE id = ANY (ids);
        INSERT INTO event_stats AS s (event_id, registered, confirmed, waitlisted, cancelled,
                                      attended)
        VALUES (e.id, c.registered, c.confirmed, c.waitlisted, c.cancelled, c.attended)
        ON CONFLICT ON CONSTRAINT event_stats_pkey DO UPDATE
           SET registered = s.registered + excluded.registered,
               confirmed = s.confirmed + excluded.confirmed,
               waitlisted = s.waitlisted + excluded.waitlisted,
               cancelled = s.cancelled + excluded.cancelled,
               attended = s.attended + excluded.attended,
               purged_at = NULL;
        DELETE FROM outbox WHERE registration_id = ANY (ids);
        UPDATE audit_log SET details = details - 'name' - 'email' - 'organization'
         WHERE registration_id = ANY (ids);
        DELETE FROM registrations WHERE id = ANY (ids);
        RETURN;
    END IF;

    DELETE FROM outbox WHERE outbox.event_id = e.id;
    DELETE FROM idempotency_keys WHERE idempotency_keys.event_id = e.id;
    UPDATE audit_log SET details = details - 'name' - 'email' - 'organization'
     WHERE audit_log.event_id = e.id;
    INSERT INTO event_stats AS s (event_id, registered, confirmed, waitlisted, cancelled,
                                  attended, purged_at)
    VALUES (e.id, 0, 0, 0, 0, 0, now())
    ON CONFLICT ON CONSTRAINT event_stats_pkey DO UPDATE SET purged_at = now();
    PERFORM audit(who.actor, who.via, 'event_purged', e.id, NULL,
                  jsonb_build_object('registrations',
                      (SELECT registered FROM event_stats WHERE event_stats.event_id = e.id)));
    finished := true;
END
$$;

-- purge: every step in one transaction, for psql (`eventbox purge` runs
-- the steps in transactions of their own).  Returns the events purged.
CREATE FUNCTION eventbox.purge(p_retention_days integer, p_key text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    st record;
    n integer := 0;
BEGIN
    LOOP
        SELECT * INTO st FROM purge_step(p_retention_days, 500, p_key);
        EXIT WHEN st.event_id IS NULL;
        n := n + st.finished::integer;
    END LOOP;
    RETURN n;
END
$$;

------------------------------------------------------------------------------
-- API keys: created and revoked by `eventbox apikey` as the owner.

CREATE FUNCTION eventbox.api_key_create(p_name text, p_key text) RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    INSERT INTO api_keys (name, key_hash) VALUES (p_name, sha256(convert_to(p_key, 'UTF8')));
    INSERT INTO audit_log (actor, via, action, details)
    VALUES (invoker(), 'sql', 'api_key_created', jsonb_build_object('key', p_name));
$$;

CREATE FUNCTION eventbox.api_key_revoke(p_name text) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    UPDATE api_keys SET revoked_at = now() WHERE name = p_name AND revoked_at IS NULL;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO audit_log (actor, via, action, details)
    VALUES (invoker(), 'sql', 'api_key_revoked', jsonb_build_object('key', p_name));
    RETURN true;
END
$$;

------------------------------------------------------------------------------
-- LibCal-compatible reads: what anybody may see of published and cancelled
-- events, with the waiting list's length (never the online URL).  A view of
-- its own so that public_events stays 001's (and 005's) to change.

CREATE VIEW eventbox.libcal_events AS
SELECT e.id, e.slug, e.title, e.description, e.presenter, e.format, e.location,
       e.categories, e.organizer, e.starts_at, e.ends_at, e.timezone, e.capacity,
       e.status, e.members_only,
       least(e.confirmed_count, e.capacity) AS seats_taken,
       e.waitlisted_count AS wait_list,
       (e.registration_opens_at IS NULL OR now() >= e.registration_opens_at)
           AS has_registration_opened,
       (e.status = 'cancelled' OR now() >= least(e.registration_closes_at, e.starts_at))
           AS has_registration_closed
  FROM eventbox.events e
 WHERE e.status <> 'draft';

-- A stable number for a category name (LibCal gives categories ids).
CREATE FUNCTION eventbox.category_id(p_name text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT ('x' || substr(md5(p_name), 1, 7))::bit(28)::integer $$;

------------------------------------------------------------------------------
-- Privileges.

GRANT SELECT ON eventbox.timezone_names TO eventbox_service, eventbox_ops;
REVOKE ALL ON eventbox.api_keys, eventbox.organizations, eventbox.audit_log,
              eventbox.event_stats, eventbox.staff_roster, eventbox.event_report,
              eventbox.libcal_events
    FROM PUBLIC;
-- By name, not ALL FUNCTIONS IN SCHEMA: other migrations grant their own.
REVOKE ALL ON FUNCTION
    eventbox.invoker(), eventbox.api_key_name(text), eventbox.staff_actor(text),
    eventbox.is_staff(text),
    eventbox.register_entry(text, text, text, text, text, uuid, text, boolean),
    eventbox.audit(text, text, text, bigint, bigint, jsonb), eventbox.member_of(text),
    eventbox.cancel_all_registrations(bigint),
    eventbox.tg_event_follow_up(), eventbox.tg_audit_events(), eventbox.audited(boolean),
    eventbox.tg_audit_organizations(),
    eventbox.parse_time(text, text), eventbox.save_event(text, jsonb, text),
    eventbox.set_status(text, text, text), eventbox.set_capacity(text, integer, text),
    eventbox.staff_register(text, text, text, text, text),
    eventbox.lock_registration(bigint), eventbox.cancel_registration(bigint, text),
    eventbox.promote(bigint, text), eventbox.check_in(bigint, text, boolean),
    eventbox.admin_roster(text, text), eventbox.admin_event(text, text),
    eventbox.purge(integer, text), eventbox.purge_step(integer, integer, text),
    eventbox.api_key_create(text, text),
    eventbox.api_key_revoke(text), eventbox.category_id(text)
  FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    eventbox.api_key_name(text),
    eventbox.save_event(text, jsonb, text),
    eventbox.set_status(text, text, text),
    eventbox.set_capacity(text, integer, text),
    eventbox.staff_register(text, text, text, text, text),
    eventbox.cancel_registration(bigint, text),
    eventbox.promote(bigint, text),
    eventbox.check_in(bigint, text, boolean),
    eventbox.admin_roster(text, text),
    eventbox.admin_event(text, text),
    eventbox.category_id(text)
  TO eventbox_service, eventbox_ops;
GRANT SELECT ON eventbox.libcal_events TO eventbox_service, eventbox_ops;

GRANT EXECUTE ON FUNCTION eventbox.purge(integer, text),
                          eventbox.purge_step(integer, integer, text) TO eventbox_ops;
GRANT SELECT ON eventbox.audit_log, eventbox.organizations, eventbox.event_stats,
                eventbox.staff_roster, eventbox.event_report
   TO eventbox_ops;
GRANT INSERT, UPDATE, DELETE ON eventbox.organizations TO eventbox_ops;
GRANT UPDATE (members_only) ON eventbox.events TO eventbox_ops;
