-- 001_core.sql: events, registrations, tokens, the outbox, and the rules.
--
-- The seat rules live here, in PL/pgSQL, so that the service and staff at a
-- psql prompt go through the same code in one round trip.  Every function
-- that touches registrations locks the event row first (SELECT ... FOR
-- UPDATE), then the registrations: one lock order, no deadlocks between them.
--
-- The invariant confirmed <= capacity is a CHECK on events.  The counters it
-- checks are kept by a trigger on registrations, so a direct INSERT or UPDATE
-- on registrations by anyone (the owner included) is held to it too.

CREATE SCHEMA IF NOT EXISTS eventbox;

-- Group roles.  Login roles are granted membership by the deployment.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eventbox_service') THEN
        CREATE ROLE eventbox_service NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eventbox_ops') THEN
        CREATE ROLE eventbox_ops NOLOGIN;
    END IF;
END
$$;

CREATE FUNCTION eventbox.is_valid_timezone(tz text) RETURNS boolean
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$ SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz) $$;

CREATE TABLE eventbox.events (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                    text NOT NULL UNIQUE
                            CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,99}$' AND slug !~ '^[0-9]+$'),
    title                   text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description             text NOT NULL DEFAULT '',
    presenter               text NOT NULL DEFAULT '',
    format                  text NOT NULL DEFAULT 'online'
                            CHECK (format IN ('online', 'in_person', 'hybrid')),
    location                text NOT NULL DEFAULT '',
    online_url              text CHECK (online_url ~ '^https?://[^[:space:]]+$'),
    categories              text[] NOT NULL DEFAULT '{}',
    organizer               text NOT NULL DEFAULT '',
    accessibility_contact   text NOT NULL DEFAULT '',
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    timezone                text NOT NULL DEFAULT 'America/New_York'
                            CHECK (eventbox.is_valid_timezone(timezone)),
    capacity                integer NOT NULL CHECK (capacity >= 0),
    waitlist_enabled        boolean NOT NULL DEFAULT true,
    waitlist_capacity       integer CHECK (waitlist_capacity >= 0),
    registration_opens_at   timestamptz,
    registration_closes_at  timestamptz,
    status                  text NOT NULL DEFAULT 'draft'
                            CHECK (status IN ('draft', 'published', 'cancelled')),
    confirmed_count         integer NOT NULL DEFAULT 0 CHECK (confirmed_count >= 0),
    waitlisted_count        integer NOT NULL DEFAULT 0 CHECK (waitlisted_count >= 0),
    cancelled_count         integer NOT NULL DEFAULT 0 CHECK (cancelled_count >= 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ends_after_start CHECK (ends_at > starts_at),
    CONSTRAINT seats_never_oversold CHECK (confirmed_count <= capacity),
    CONSTRAINT waitlist_never_overfull
        CHECK (waitlist_capacity IS NULL OR waitlisted_count <= waitlist_capacity
               OR NOT waitlist_enabled)
);

CREATE INDEX events_upcoming ON eventbox.events (starts_at) WHERE status = 'published';

CREATE TABLE eventbox.registrations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        bigint NOT NULL REFERENCES eventbox.events (id),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200
                                         AND name !~ '[[:cntrl:]]'),
    email           text NOT NULL CHECK (length(email) BETWEEN 3 AND 254
                                         AND email ~ '^[^[:space:][:cntrl:]@]+@[^[:space:][:cntrl:]@]+$'),
    organization    text CHECK (length(organization) <= 200
                                AND organization !~ '[[:cntrl:]]'),
    status          text NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    source          text NOT NULL DEFAULT 'staff' CHECK (source IN ('web', 'api', 'staff')),
    registered_at   timestamptz NOT NULL DEFAULT now(),
    confirmed_at    timestamptz,
    promoted_at     timestamptz,
    cancelled_at    timestamptz,
    attended_at     timestamptz
);

-- One live registration per event and email, whatever the case.
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON eventbox.registrations (event_id, lower(email)) WHERE status <> 'cancelled';
-- The waiting list in order: ids come from one sequence, taken under the
-- event lock, so id order is arrival order.
CREATE INDEX registrations_waiting
    ON eventbox.registrations (event_id, id) WHERE status = 'waitlisted';
CREATE INDEX registrations_event ON eventbox.registrations (event_id, status);

-- Cancellation tokens, by hash only.  A registration may have several live
-- tokens (the confirmation, a later "already registered" note, a promotion):
-- every link a patron was ever sent keeps working until they cancel.
CREATE TABLE eventbox.tokens (
    token_hash      bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    registration_id bigint NOT NULL REFERENCES eventbox.registrations (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tokens_registration ON eventbox.tokens (registration_id);

-- The transactional outbox: one row per message a patron must receive,
-- written in the same transaction as the change it reports.
CREATE TABLE eventbox.outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('confirmed', 'waitlisted', 'promoted',
                                                  'cancelled', 'already_registered',
                                                  'reminder', 'event_cancelled')),
    registration_id bigint REFERENCES eventbox.registrations (id) ON DELETE SET NULL,
    event_id        bigint REFERENCES eventbox.events (id),
    email           text,
    name            text,
    token           text,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX outbox_due ON eventbox.outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_registration ON eventbox.outbox (registration_id);

-- Retried POSTs with the same Idempotency-Key get the first answer.
CREATE TABLE eventbox.idempotency_keys (
    event_id        bigint NOT NULL REFERENCES eventbox.events (id),
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash    bytea NOT NULL,
    outcome         text NOT NULL,
    position        integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, key)
);

------------------------------------------------------------------------------
-- Triggers that keep the counters honest.

CREATE FUNCTION eventbox.tg_registration_counts() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    d_conf integer := 0;
    d_wait integer := 0;
    d_canc integer := 0;
    ev bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.event_id <> OLD.event_id THEN
        RAISE EXCEPTION 'a registration cannot move to another event'
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        ev := OLD.event_id;
        CASE OLD.status
            WHEN 'confirmed' THEN d_conf := d_conf - 1;
            WHEN 'waitlisted' THEN d_wait := d_wait - 1;
            ELSE d_canc := d_canc - 1;
        END CASE;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        ev := NEW.event_id;
        CASE NEW.status
            WHEN 'confirmed' THEN d_conf := d_conf + 1;
            WHEN 'waitlisted' THEN d_wait := d_wait + 1;
            ELSE d_canc := d_canc + 1;
        END CASE;
    END IF;
    IF d_conf <> 0 OR d_wait <> 0 OR d_canc <> 0 THEN
        UPDATE events
           SET confirmed_count = confirmed_count + d_conf,
               waitlisted_count = waitlisted_count + d_wait,
               cancelled_count = cancelled_count + d_canc
         WHERE id = ev;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER registration_counts
    AFTER INSERT OR DELETE OR UPDATE OF status, event_id ON eventbox.registrations
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_registration_counts();

CREATE FUNCTION eventbox.tg_counters_are_derived() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'confirmed_count, waitlisted_count and cancelled_count are kept by eventbox; change registrations instead'
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Only the counter trigger (nested, depth >= 1) may move the counters.  The
-- WHEN clause keeps this free on the hot path: no function call unless a
-- top-level statement touches them.
CREATE TRIGGER counters_are_derived
    BEFORE UPDATE ON eventbox.events
    FOR EACH ROW
    WHEN (pg_trigger_depth() = 0
          AND (OLD.confirmed_count, OLD.waitlisted_count, OLD.cancelled_count)
              IS DISTINCT FROM (NEW.confirmed_count, NEW.waitlisted_count, NEW.cancelled_count))
    EXECUTE FUNCTION eventbox.tg_counters_are_derived();

CREATE TRIGGER counters_start_at_zero
    BEFORE INSERT ON eventbox.events
    FOR EACH ROW
    WHEN (NEW.confirmed_count <> 0 OR NEW.waitlisted_count <> 0 OR NEW.cancelled_count <> 0)
    EXECUTE FUNCTION eventbox.tg_counters_are_derived();

CREATE FUNCTION eventbox.tg_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER events_touch
    BEFORE UPDATE OF slug, title, description, presenter, format, location, online_url,
        categories, organizer, accessibility_contact, starts_at, ends_at, timezone,
        capacity, waitlist_enabled, waitlist_capacity, registration_opens_at,
        registration_closes_at, status
    ON eventbox.events
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_touch_updated_at();

-- Wake the mailers once per transaction that queued mail.
CREATE FUNCTION eventbox.tg_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eventbox_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify
    AFTER INSERT ON eventbox.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION eventbox.tg_outbox_notify();

------------------------------------------------------------------------------
-- Internal helpers.  Callers hold the event row lock.

CREATE FUNCTION eventbox.token_hash(p_token text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT sha256(convert_to(lower(p_token), 'UTF8')) $$;

-- Issues a new token for a registration: stores its hash, returns it raw
-- (the caller puts it in the outbox row and nowhere else).
CREATE FUNCTION eventbox.issue_token(p_registration_id bigint, p_token uuid DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    t text := coalesce(p_token, gen_random_uuid())::text;
BEGIN
    INSERT INTO tokens (token_hash, registration_id) VALUES (token_hash(t), p_registration_id);
    RETURN t;
END
$$;

-- Locks and returns the event named by id or slug; all NULL when none.
-- Every rule that touches an event's registrations starts here.
CREATE FUNCTION eventbox.lock_event(p_event text) RETURNS eventbox.events
LANGUAGE plpgsql
AS $$
DECLARE
    e eventbox.events;
BEGIN
    -- A stuck lock must become an error, not a hang.  The service sets its
    -- own lock_timeout (EVENTBOX_LOCK_TIMEOUT_MS); a psql session that set
    -- none gets 3 s for this transaction.
    IF current_setting('lock_timeout') = '0' THEN
        PERFORM set_config('lock_timeout', '3s', true);
    END IF;
    IF p_event ~ '^[0-9]{1,18}$' THEN
        SELECT * INTO e FROM eventbox.events WHERE id = p_event::bigint FOR UPDATE;
    ELSE
        SELECT * INTO e FROM eventbox.events WHERE slug = p_event FOR UPDATE;
    END IF;
    RETURN e;
END
$$;

-- Promotes the oldest waiting registrations into free seats, in order, and
-- queues their emails.  Nobody is promoted once the event has started, or
-- unless it is published.  Returns how many moved up.
CREATE FUNCTION eventbox.promote_waiting(p_event_id bigint) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    e events;
    r record;
    n integer := 0;
BEGIN
    SELECT * INTO e FROM events WHERE id = p_event_id;
    IF e.status <> 'published' OR e.starts_at <= now()
       OR e.confirmed_count >= e.capacity OR e.waitlisted_count = 0 THEN
        RETURN 0;
    END IF;
    FOR r IN
        SELECT id, name, email FROM registrations
         WHERE event_id = p_event_id AND status = 'waitlisted'
         ORDER BY id
         LIMIT e.capacity - e.confirmed_count
           FOR UPDATE
    LOOP
        UPDATE registrations
           SET status = 'confirmed', confirmed_at = now(), promoted_at = now()
         WHERE id = r.id;
        INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
        VALUES ('promoted', r.id, p_event_id, r.email, r.name, issue_token(r.id));
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

------------------------------------------------------------------------------
-- The rules, callable by the service and by staff.

-- register: one registration attempt.  Returns one row:
--   outcome   confirmed | waitlisted | full | not_found | not_published |
--             event_cancelled | not_open | closed | invalid_name |
--             invalid_email | invalid_organization | idempotency_mismatch
--   position  place on the waiting list when waitlisted
-- A repeated email answers what a new registration would have got, and
-- queues an "already registered" note to that address instead.
CREATE FUNCTION eventbox.register(
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
AS $$
#variable_conflict use_column
DECLARE
    e events;
    v_name text := btrim(p_name);
    v_email text := btrim(p_email);
    v_org text := nullif(btrim(p_organization), '');
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
                                       confirmed_at)
            VALUES (e.id, v_name, v_email, v_org, outcome, p_source,
                    CASE WHEN outcome = 'confirmed' THEN now() END)
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

-- Cancels one registration whose event row the caller has locked.  Frees
-- the seat and promotes the next in line in the same transaction.
CREATE FUNCTION eventbox.cancel_locked(p_registration_id bigint, OUT outcome text,
                                       OUT promoted integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    r registrations;
BEGIN
    promoted := 0;
    SELECT * INTO r FROM registrations WHERE id = p_registration_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF r.status = 'cancelled' THEN
        outcome := 'already_cancelled';
        RETURN;
    END IF;
    UPDATE registrations SET status = 'cancelled', cancelled_at = now() WHERE id = r.id;
    INSERT INTO outbox (kind, registration_id, event_id, email, name)
    VALUES ('cancelled', r.id, r.event_id, r.email, r.name);
    IF r.status = 'confirmed' THEN
        promoted := promote_waiting(r.event_id);
    END IF;
    outcome := 'cancelled';
END
$$;

-- cancel: a patron's cancellation by token.  Idempotent.
--   outcome  cancelled | already_cancelled | not_found
CREATE FUNCTION eventbox.cancel(p_token text, OUT outcome text, OUT promoted integer,
                                OUT event_slug text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_reg bigint;
    v_event bigint;
BEGIN
    promoted := 0;
    SELECT r.id, r.event_id INTO v_reg, v_event
      FROM tokens t JOIN registrations r ON r.id = t.registration_id
     WHERE t.token_hash = token_hash(p_token);
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    event_slug := (lock_event(v_event::text)).slug;
    SELECT c.outcome, c.promoted INTO outcome, promoted FROM cancel_locked(v_reg) c;
END
$$;

-- cancel_registration: staff cancel on a patron's behalf, by registration id.
CREATE FUNCTION eventbox.cancel_registration(p_registration_id bigint, OUT outcome text,
                                             OUT promoted integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_event bigint;
BEGIN
    promoted := 0;
    SELECT event_id INTO v_event FROM registrations WHERE id = p_registration_id;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    PERFORM lock_event(v_event::text);
    SELECT c.outcome, c.promoted INTO outcome, promoted FROM cancel_locked(p_registration_id) c;
END
$$;

-- set_capacity: raising it promotes from the waiting list at once, in order;
-- lowering it below the confirmed count is refused, never bumping anyone.
--   outcome  ok | below_confirmed | not_found | invalid_capacity
CREATE FUNCTION eventbox.set_capacity(p_event text, p_capacity integer, OUT outcome text,
                                      OUT promoted integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
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
    IF p_capacity < e.confirmed_count THEN
        outcome := 'below_confirmed';
        RETURN;
    END IF;
    UPDATE events SET capacity = p_capacity WHERE id = e.id;
    promoted := promote_waiting(e.id);
    outcome := 'ok';
END
$$;

-- registration_by_token: the holder's own registration.  The online URL is
-- shown only once the seat is confirmed.
CREATE FUNCTION eventbox.registration_by_token(p_token text)
RETURNS TABLE (status text, "position" integer, name text, email text, organization text,
               registered_at timestamptz, event_slug text, event_title text,
               starts_at timestamptz, ends_at timestamptz, timezone text, format text,
               location text, online_url text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT r.status,
           CASE WHEN r.status = 'waitlisted' THEN
               (SELECT count(*)::integer FROM registrations w
                 WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.id <= r.id)
           END,
           r.name, r.email, r.organization, r.registered_at, e.slug, e.title,
           e.starts_at, e.ends_at, e.timezone, e.format, e.location,
           CASE WHEN r.status = 'confirmed' THEN e.online_url END
      FROM tokens t
      JOIN registrations r ON r.id = t.registration_id
      JOIN events e ON e.id = r.event_id
     WHERE t.token_hash = token_hash(p_token)
$$;

------------------------------------------------------------------------------
-- Time formatting shared by every output: RFC 3339 in UTC, and local time in
-- the event's zone with its offset ("2026-12-10T14:00:00-05:00").

CREATE FUNCTION eventbox.iso_utc(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

CREATE FUNCTION eventbox.iso_local(ts timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$
    SELECT to_char(ts AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN off < interval '0' THEN '-' ELSE '+' END
        || to_char(abs(extract(epoch FROM off))::integer / 3600, 'FM00') || ':'
        || to_char(abs(extract(epoch FROM off))::integer % 3600 / 60, 'FM00')
      FROM (SELECT (ts AT TIME ZONE tz) - (ts AT TIME ZONE 'UTC') AS off) o
$$;

------------------------------------------------------------------------------
-- Views.

-- What anybody may see of an event: never the online URL, never drafts.
CREATE VIEW eventbox.public_events AS
SELECT e.id, e.slug, e.title, e.description, e.presenter, e.format, e.location,
       e.categories, e.organizer, e.accessibility_contact, e.starts_at, e.ends_at,
       e.timezone, e.capacity, e.status, e.waitlist_enabled,
       e.registration_opens_at,
       least(e.registration_closes_at, e.starts_at) AS registration_closes_at,
       greatest(e.capacity - e.confirmed_count, 0) AS seats_available,
       (e.waitlist_enabled AND (e.waitlist_capacity IS NULL
                                OR e.waitlisted_count < e.waitlist_capacity)) AS waitlist_available,
       CASE
           WHEN e.status = 'cancelled' THEN 'cancelled'
           WHEN e.registration_opens_at IS NOT NULL AND now() < e.registration_opens_at
               THEN 'not_open'
           WHEN now() >= least(e.registration_closes_at, e.starts_at) THEN 'closed'
           ELSE 'open'
       END AS registration_state
  FROM eventbox.events e
 WHERE e.status <> 'draft';

CREATE VIEW eventbox.event_summary AS
SELECT e.id, e.slug, e.title, e.status, e.starts_at, e.ends_at, e.timezone, e.capacity,
       e.confirmed_count AS confirmed,
       e.waitlisted_count AS waitlisted,
       e.cancelled_count AS cancelled,
       greatest(e.capacity - e.confirmed_count, 0) AS seats_available,
       e.waitlist_enabled, e.waitlist_capacity
  FROM eventbox.events e;

CREATE VIEW eventbox.roster AS
SELECT e.slug, r.id AS registration_id, r.name, r.email, r.organization, r.status,
       CASE WHEN r.status = 'waitlisted' THEN
           row_number() OVER (PARTITION BY e.slug, r.status ORDER BY r.id)::integer
       END AS "position",
       r.registered_at, r.confirmed_at, r.promoted_at, r.cancelled_at, r.attended_at,
       r.source
  FROM eventbox.registrations r
  JOIN eventbox.events e ON e.id = r.event_id;

CREATE VIEW eventbox.outbox_backlog AS
SELECT o.status, o.kind, count(*) AS messages, min(o.created_at) AS oldest,
       max(o.attempts) AS max_attempts
  FROM eventbox.outbox o
 WHERE o.status <> 'sent'
 GROUP BY o.status, o.kind;

------------------------------------------------------------------------------
-- Privileges.  The service may only call the functions and read public data;
-- ops may do what staff do, and change registrations only through functions.

REVOKE ALL ON ALL TABLES IN SCHEMA eventbox FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA eventbox FROM PUBLIC;
GRANT USAGE ON SCHEMA eventbox TO eventbox_service, eventbox_ops;

GRANT EXECUTE ON FUNCTION eventbox.register(text, text, text, text, text, uuid, text),
                          eventbox.cancel(text),
                          eventbox.registration_by_token(text)
   TO eventbox_service;
GRANT EXECUTE ON FUNCTION eventbox.iso_utc(timestamptz), eventbox.iso_local(timestamptz, text)
   TO eventbox_service, eventbox_ops;
GRANT SELECT ON eventbox.public_events TO eventbox_service;

GRANT EXECUTE ON FUNCTION eventbox.register(text, text, text, text, text, uuid, text),
                          eventbox.cancel(text),
                          eventbox.cancel_registration(bigint),
                          eventbox.set_capacity(text, integer),
                          eventbox.registration_by_token(text),
                          eventbox.is_valid_timezone(text),
                          eventbox.token_hash(text)
   TO eventbox_ops;
GRANT SELECT ON eventbox.events, eventbox.registrations, eventbox.outbox,
                eventbox.public_events, eventbox.event_summary, eventbox.roster,
                eventbox.outbox_backlog
   TO eventbox_ops;
GRANT INSERT, DELETE ON eventbox.events TO eventbox_ops;
GRANT UPDATE (slug, title, description, presenter, format, location, online_url, categories,
              organizer, accessibility_contact, starts_at, ends_at, timezone, capacity,
              waitlist_enabled, waitlist_capacity, registration_opens_at,
              registration_closes_at, status)
   ON eventbox.events TO eventbox_ops;
