-- rules/55_holds.sql: registrations held until the address confirms them
-- (sql/012_holds.sql), and what keeps one address from being mailed
-- without end.
--
-- On an event that asks for it (needs_confirmation), a registration by the
-- public takes its seat or waiting place at once, as any other, but holds
-- it only until held_until, and its first email is a 'confirm_address'
-- message with a link instead of the confirmation.  Following the link
-- (confirm_registration) makes it count; a hold that ends unconfirmed is
-- cancelled by expire_holds_locked() and the seat goes to the next in line,
-- through promote_waiting(): the same FIFO, and no promotion once the event
-- has started.  A hold ends at the start at the latest (hold_ends(), and
-- holds_end_by_start when staff move the start earlier), and nothing is
-- confirmed after it: nobody joins an event that has begun.  Holds expire
-- lazily under the event lock (register_entry, confirm_registration, and
-- promote_waiting before it gives a seat) and from expire_holds(), which
-- the mailer's loop and staff (or cron) call.
--
-- What the public sees counts only confirmed addresses (public_seats,
-- public_waiting, in 15_holds.sql with the other helpers the views call):
-- a probe that registers somebody else's address on such
-- an event moves no public figure, and is answered 'pending' like anybody.
-- Except the last place: once a registration would be refused as full,
-- public_seats says 0, as that registration's answer would.

-- The held seats and waiting places are counters on the event's row now
-- (sql/020_held_counts.sql); the function that counted them, replaced.
-- Here, after 30_views.sql: event_summary named it until 020.
DROP FUNCTION IF EXISTS eventbox.held_count(bigint, text);

-- Releases the holds of an event whose row the caller has locked that
-- ended unconfirmed: cancelled (hold_expired_at), no email (the address
-- never confirmed it wanted any).  Returns how many were released.  The
-- seats they free are the caller's to give: expire_holds_locked() below,
-- and promote_waiting() (10_seats.sql), which releases them before it
-- gives any seat, so that none goes to a hold that has lapsed.
CREATE OR REPLACE FUNCTION eventbox.release_holds_locked(p_event_id bigint) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    UPDATE registrations
       SET status = 'cancelled', cancelled_at = now(), hold_expired_at = now(),
           held_until = NULL
     WHERE event_id = p_event_id AND held_until IS NOT NULL AND held_until <= now();
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- The same, and a freed seat goes to the next in line.
CREATE OR REPLACE FUNCTION eventbox.expire_holds_locked(p_event_id bigint) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    n integer := release_holds_locked(p_event_id);
BEGIN
    IF n > 0 THEN
        PERFORM promote_waiting(p_event_id);
    END IF;
    RETURN n;
END
$$;

-- The event row again, after releasing its ended holds (caller holds the
-- lock).  register_entry() calls it right after lock_event().
CREATE OR REPLACE FUNCTION eventbox.release_due_holds(e eventbox.events)
RETURNS eventbox.events
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    IF e.id IS NULL OR NOT (has_holds(e) AND holds_due(e.id)) THEN
        RETURN e;
    END IF;
    PERFORM expire_holds_locked(e.id);
    SELECT * INTO e FROM events WHERE id = e.id;
    RETURN e;
END
$$;

-- expire_holds: releases every ended hold (of one event, or of all), each
-- event under its lock.  The mailer calls it in its loop; staff or cron may
-- too.  Returns how many holds were released.  Called for all events (the
-- mailer's call, every minute), it also forgets the networks' hashes
-- (network_over_ceiling() below) of every event older than nine minutes:
-- none is kept beyond the ten minutes docs/SECURITY.md promises, though
-- that event never takes another registration.
CREATE OR REPLACE FUNCTION eventbox.expire_holds(p_event text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_event bigint;
    n integer := 0;
BEGIN
    FOR v_event IN
        SELECT DISTINCT h.event_id FROM registrations h
         WHERE h.held_until IS NOT NULL AND h.held_until <= now()
         ORDER BY h.event_id
    LOOP
        IF p_event IS NULL OR p_event = v_event::text
           OR p_event = (SELECT slug FROM events WHERE id = v_event) THEN
            PERFORM lock_event(v_event::text);
            n := n + expire_holds_locked(v_event);
        END IF;
    END LOOP;
    IF p_event IS NULL THEN
        DELETE FROM network_counts WHERE minute < now() - interval '9 minutes';
    END IF;
    RETURN n;
END
$$;

-- A second registration of an address: at most one note per registration
-- and hour, so nobody can fill a mailbox by pressing "Register".  A held
-- registration gets its confirmation link again, others an "already
-- registered" note; either way with a new token, which revokes the old
-- (issue_token).  None either while the registration's revocation lock is
-- taken: a mailer holds it while it sends one of the registration's emails
-- (renew_link in 80_mail.sql), the answer the patron gets, its link
-- working; waited for, the SMTP dialogue held the event's lock, and every
-- registration for the event waited behind this one.  Returns whether a
-- note was queued.
CREATE OR REPLACE FUNCTION eventbox.note_repeat(p_registration_id bigint) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM outbox o
                WHERE o.registration_id = p_registration_id
                  AND o.kind IN ('already_registered', 'confirm_address')
                  AND o.created_at > now() - interval '1 hour') THEN
        RETURN false;
    END IF;
    IF NOT revocation_lock(p_registration_id, false) THEN
        RETURN false;
    END IF;
    INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
    SELECT CASE WHEN r.held_until IS NULL THEN 'already_registered'
                ELSE 'confirm_address' END,
           r.id, r.event_id, r.email, r.name, issue_token(r.id)
      FROM registrations r WHERE r.id = p_registration_id;
    RETURN true;
END
$$;

-- confirm_registration: the address's holder follows the link.
--   outcome  confirmed | already_confirmed | expired | cancelled | not_found
--   status   confirmed | waitlisted (what the registration holds now)
-- A hold that has ended is released first (same lock), so a confirmation
-- racing the expiry gets one answer or the other, never both.  A hold of
-- an event that has started is expired too, released or not yet.  The
-- registration's confirmation or waiting-list email goes out with the
-- same token (the one valid link).
CREATE OR REPLACE FUNCTION eventbox.confirm_registration(p_token text,
    OUT outcome text, OUT status text, OUT "position" integer, OUT event_slug text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_reg bigint;
    v_event bigint;
    e events;
    r registrations;
BEGIN
    SELECT t.registration_id, x.event_id INTO v_reg, v_event
      FROM tokens t JOIN registrations x ON x.id = t.registration_id
     WHERE t.token_hash = token_hash(p_token);
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    e := lock_event(v_event::text);
    event_slug := e.slug;
    PERFORM expire_holds_locked(v_event);
    SELECT * INTO r FROM registrations WHERE id = v_reg FOR NO KEY UPDATE;
    IF NOT EXISTS (SELECT 1 FROM tokens WHERE token_hash = token_hash(p_token)) THEN
        outcome := 'not_found';             -- revoked by a re-send meanwhile
        RETURN;
    END IF;
    status := r.status;
    IF r.hold_expired_at IS NOT NULL THEN
        outcome := 'expired';
        RETURN;
    ELSIF r.status = 'cancelled' THEN
        outcome := 'cancelled';
        RETURN;
    ELSIF r.held_until IS NULL THEN
        outcome := 'already_confirmed';
    -- Its hold ends at the start, but the release above reads now(): a
    -- transaction that began before the start and waited for the lock past
    -- it still finds the hold.  The clock decides, as in promote_waiting();
    -- the next expiry releases it.
    ELSIF e.starts_at <= clock_timestamp() THEN
        outcome := 'expired';
        RETURN;
    ELSE
        UPDATE registrations SET held_until = NULL, address_confirmed_at = now()
         WHERE id = r.id;
        INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
        VALUES (r.status, r.id, r.event_id, r.email, r.name, lower(p_token));
        outcome := 'confirmed';
    END IF;
    IF r.status = 'waitlisted' THEN
        "position" := (SELECT count(*)::integer FROM registrations w
                        WHERE w.event_id = r.event_id AND w.status = 'waitlisted'
                          AND w.id <= r.id);
    END IF;
END
$$;

-- registration_hold: what the confirmation page shows of a token's
-- registration.  hold: held | confirmed | expired | cancelled; language:
-- the registrant's, as registration_by_token() gives it.  (Its result
-- grew language: a new result type takes a DROP first.)
DROP FUNCTION IF EXISTS eventbox.registration_hold(text);
CREATE FUNCTION eventbox.registration_hold(p_token text)
RETURNS TABLE (hold text, status text, held_until timestamptz, name text,
               event_slug text, event_title text, starts_at timestamptz,
               ends_at timestamptz, timezone text, format text, language text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT CASE WHEN r.hold_expired_at IS NOT NULL
                  OR (r.held_until IS NOT NULL AND r.held_until <= now()) THEN 'expired'
                WHEN r.status = 'cancelled' THEN 'cancelled'
                WHEN r.held_until IS NOT NULL THEN 'held'
                ELSE 'confirmed' END,
           r.status, r.held_until, r.name, e.slug, e.title, e.starts_at, e.ends_at,
           e.timezone, e.format, r.language
      FROM tokens t
      JOIN registrations r ON r.id = t.registration_id
      JOIN events e ON e.id = r.event_id
     WHERE t.token_hash = token_hash(p_token)
$$;

-- One event's confirmation settings and holds as staff see them (the admin
-- API adds them to admin_event()'s row), or none.
CREATE OR REPLACE FUNCTION eventbox.admin_event_holds(p_key text, p_event text)
RETURNS TABLE (confirmation_required boolean, hold_minutes integer,
               registrations_per_minute integer, held_seats integer,
               held_waiting integer, expired integer)
LANGUAGE plpgsql STABLE
ROWS 1
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
BEGIN
    RETURN QUERY
    SELECT needs_confirmation(e), e.hold_minutes, e.registrations_per_minute,
           e.held_confirmed_count, e.held_waitlisted_count,
           (SELECT count(*)::integer FROM registrations x
             WHERE x.event_id = e.id AND x.hold_expired_at IS NOT NULL)
      FROM events e
     WHERE CASE WHEN p_event ~ '^[1-9][0-9]{0,17}$' THEN e.id = p_event::bigint
                ELSE e.slug = p_event END;
END
$$;

-- network_over_ceiling: one more attempt on event e from the client's
-- network p_network (an IPv4 address or an IPv6 /64, as hex, from
-- REMOTE_ADDR); true when that makes more than e.registrations_per_minute
-- in this minute.  The network is kept only as a keyed hash (the definer's
-- secret: an IPv4 address space is small enough to try whole), per event
-- and minute, and only for ten minutes.  Callers (register_from() and
-- register_answered()) call it only when both are set.
CREATE OR REPLACE FUNCTION eventbox.network_over_ceiling(e eventbox.events, p_network text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_hash bytea := sha256((SELECT secret FROM definer_secret)
                           || convert_to(lower(p_network), 'UTF8'));
    n integer;
BEGIN
    INSERT INTO network_counts AS c (event_id, network, minute)
    VALUES (e.id, v_hash, date_trunc('minute', now()))
    ON CONFLICT ON CONSTRAINT network_counts_pkey
        DO UPDATE SET attempts = c.attempts + 1
    RETURNING c.attempts INTO n;
    IF n = 1 THEN                               -- a new minute: forget old ones
        DELETE FROM network_counts x
         WHERE x.event_id = e.id AND x.minute < now() - interval '10 minutes';
    END IF;
    RETURN n > e.registrations_per_minute;
END
$$;

-- register_from: register() for the service, with the client's network
-- (NULL when unknown).  On an event with registrations_per_minute set,
-- more attempts than that in one minute from one network are answered
-- 'rate_limited' before anything else is looked at (network_over_ceiling);
-- a draft's only for staff, to whom alone it is an event.
-- The service itself calls register_answered() (rules/78_questions.sql),
-- which asks the same.
CREATE OR REPLACE FUNCTION eventbox.register_from(
    p_network text,
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
    r record;
BEGIN
    IF p_network IS NOT NULL THEN
        IF p_event ~ '^[1-9][0-9]{0,17}$' THEN
            SELECT * INTO e FROM events WHERE id = p_event::bigint;
        ELSE
            SELECT * INTO e FROM events WHERE slug = p_event;
        END IF;
        -- Not a draft's, but for staff: to anyone else a draft is no
        -- event (register_answered(), rules/78_questions.sql).
        IF e.registrations_per_minute IS NOT NULL
           AND (e.status <> 'draft' OR p_source = 'staff')
           AND network_over_ceiling(e, p_network) THEN
            outcome := 'rate_limited';
            event_id := e.id;
            event_slug := e.slug;
            RETURN;
        END IF;
    END IF;
    r := register(p_event, p_name, p_email, p_organization, p_source, p_token,
                  p_idempotency_key);
    outcome := r.outcome;
    "position" := r."position";
    event_id := r.event_id;
    event_slug := r.event_slug;
END
$$;

-- A registration that ends (cancelled by its holder, by staff, or with its
-- event) while held is no longer held: the hold's end goes with it, so no
-- expiry ever touches it again.  A BEFORE trigger, so every way of
-- cancelling is covered, not only the functions here.
CREATE OR REPLACE FUNCTION eventbox.tg_hold_ends_with_registration() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.held_until := NULL;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER hold_ends_with_registration
    BEFORE UPDATE OF status ON eventbox.registrations
    FOR EACH ROW
    WHEN (NEW.status = 'cancelled' AND NEW.held_until IS NOT NULL)
    EXECUTE FUNCTION eventbox.tg_hold_ends_with_registration();

-- Staff who move the start earlier end the holds that would outlive it,
-- however they move it (save_event(), an UPDATE at a psql prompt): a hold
-- ends at the start at the latest, as hold_ends() gives it, or its address
-- could join the event after it began.  A hold whose new end has passed
-- (the start moved into the past) is released as any ended hold is, by the
-- next expiry, and promotes nobody.  Moving the start later lengthens no
-- hold: the address was told until when it is held.  The counters do not
-- move (a held place stays held), and the event row is locked already by
-- the UPDATE that fired this: the rules' lock order.
CREATE OR REPLACE FUNCTION eventbox.tg_holds_end_by_start() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    UPDATE registrations SET held_until = NEW.starts_at
     WHERE event_id = NEW.id AND held_until > NEW.starts_at;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER holds_end_by_start
    AFTER UPDATE OF starts_at ON eventbox.events
    FOR EACH ROW
    WHEN (NEW.starts_at < OLD.starts_at AND eventbox.has_holds(NEW))
    EXECUTE FUNCTION eventbox.tg_holds_end_by_start();
