-- rules/10_seats.sql: the seat rule, named once, and what keeps the counters.
--
-- Rule files (sql/rules/*.sql) hold the one current definition of every
-- function, trigger, view and grant; `eventbox migrate` re-applies them all,
-- in name order, in one transaction, whenever any of them changed.  Tables,
-- columns, constraints, indexes and roles stay in the numbered migrations.
-- A diff of a rule file is the history of its rule.
--
-- Every function that touches registrations locks the event row first
-- (lock_event below), then the registrations: one lock order, no deadlocks.
-- The invariant confirmed <= capacity is a CHECK on events; the counters it
-- checks are kept by triggers on registrations, so a direct INSERT,
-- UPDATE, DELETE or TRUNCATE of registrations by anyone (the owner
-- included) is held to it too.

------------------------------------------------------------------------------
-- The seat rule.  Small SQL functions of an event row, with no STRICT and
-- no side effects, so that the planner inlines them into the views like
-- macros; register(), the promotions, capacity changes and the views all
-- ask these instead of restating the comparisons.

-- Seats still free for a confirmation.
CREATE OR REPLACE FUNCTION eventbox.free_seats(e eventbox.events) RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT greatest(e.capacity - e.confirmed_count, 0) $$;

-- The waiting list takes one more: enabled, and not at its own limit.
CREATE OR REPLACE FUNCTION eventbox.waitlist_open(e eventbox.events) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
    SELECT e.waitlist_enabled
           AND (e.waitlist_capacity IS NULL OR e.waitlisted_count < e.waitlist_capacity)
$$;

-- What one more registration would get, seats-wise:
-- confirmed | waitlisted | full.  Never a seat ahead of people waiting: a
-- free seat with a waiting list is theirs (promote_waiting() below).
CREATE OR REPLACE FUNCTION eventbox.seat_outcome(e eventbox.events) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN eventbox.free_seats(e) > 0 AND e.waitlisted_count = 0 THEN 'confirmed'
                WHEN eventbox.waitlist_open(e) THEN 'waitlisted'
                ELSE 'full' END
$$;

-- When registration closes: its own closing time, but never after the
-- start (nobody is promoted once an event has begun, so nobody may join it
-- either).
CREATE OR REPLACE FUNCTION eventbox.closes_at(e eventbox.events) RETURNS timestamptz
LANGUAGE sql IMMUTABLE
AS $$ SELECT least(e.registration_closes_at, e.starts_at) $$;

-- cancelled | not_open | closed | open, for an event that is not a draft,
-- at the moment p_at.
CREATE OR REPLACE FUNCTION eventbox.registration_state_at(e eventbox.events, p_at timestamptz)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE
               WHEN e.status = 'cancelled' THEN 'cancelled'
               WHEN e.registration_opens_at IS NOT NULL AND p_at < e.registration_opens_at
                   THEN 'not_open'
               WHEN p_at >= eventbox.closes_at(e) THEN 'closed'
               ELSE 'open'
           END
$$;

-- The same now: at the start of the transaction, as the views read it.
-- A decision taken under the event's lock asks registration_state_at()
-- with clock_timestamp() instead: a transaction that waited for the lock
-- may have begun before a closing time or the start that has passed since.
CREATE OR REPLACE FUNCTION eventbox.registration_state(e eventbox.events) RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT eventbox.registration_state_at(e, now()) $$;

------------------------------------------------------------------------------
-- Triggers that keep the counters honest.

CREATE OR REPLACE FUNCTION eventbox.tg_registration_counts() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    -- A new registration without a hold (every registration a patron
    -- makes on an event that asks no confirmation): one counter moves, in
    -- one statement.  PL/pgSQL prepares each expression it meets again in
    -- every transaction, and the general case below meets fifteen, then
    -- sets all five counters (49,000 instructions of a registration's 1.7
    -- million; docs/PERFORMANCE.md).
    IF TG_OP = 'INSERT' AND NEW.held_until IS NULL THEN
        IF NEW.status = 'confirmed' THEN
            UPDATE events SET confirmed_count = confirmed_count + 1 WHERE id = NEW.event_id;
        ELSIF NEW.status = 'waitlisted' THEN
            UPDATE events SET waitlisted_count = waitlisted_count + 1 WHERE id = NEW.event_id;
        ELSE
            UPDATE events SET cancelled_count = cancelled_count + 1 WHERE id = NEW.event_id;
        END IF;
        RETURN NULL;
    END IF;
    DECLARE
        d_conf integer := 0;
        d_wait integer := 0;
        d_canc integer := 0;
        d_held_conf integer := 0;
        d_held_wait integer := 0;
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
            IF OLD.held_until IS NOT NULL THEN      -- a hold is live or waiting
                CASE OLD.status
                    WHEN 'confirmed' THEN d_held_conf := d_held_conf - 1;
                    WHEN 'waitlisted' THEN d_held_wait := d_held_wait - 1;
                    ELSE NULL;
                END CASE;
            END IF;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            ev := NEW.event_id;
            CASE NEW.status
                WHEN 'confirmed' THEN d_conf := d_conf + 1;
                WHEN 'waitlisted' THEN d_wait := d_wait + 1;
                ELSE d_canc := d_canc + 1;
            END CASE;
            IF NEW.held_until IS NOT NULL THEN
                CASE NEW.status
                    WHEN 'confirmed' THEN d_held_conf := d_held_conf + 1;
                    WHEN 'waitlisted' THEN d_held_wait := d_held_wait + 1;
                    ELSE NULL;
                END CASE;
            END IF;
        END IF;
        -- A confirmed address changes only the hold: the seat stays.
        IF d_conf <> 0 OR d_wait <> 0 OR d_canc <> 0 OR d_held_conf <> 0 OR d_held_wait <> 0 THEN
            UPDATE events
               SET confirmed_count = confirmed_count + d_conf,
                   waitlisted_count = waitlisted_count + d_wait,
                   cancelled_count = cancelled_count + d_canc,
                   held_confirmed_count = held_confirmed_count + d_held_conf,
                   held_waitlisted_count = held_waitlisted_count + d_held_wait
             WHERE id = ev;
        END IF;
    END;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER registration_counts
    AFTER INSERT OR DELETE OR UPDATE OF status, event_id, held_until ON eventbox.registrations
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_registration_counts();

-- TRUNCATE removes registrations without firing the row trigger above: an
-- owner emptying them (a rehearsal database reset, which takes CASCADE:
-- tokens, outbox, answers and the audit log name registrations) left
-- every event counting seats nobody held, shown full, and the next
-- registration broke seats_never_oversold.  No registration is left, so
-- every event's counters go to zero (nested in this trigger, as
-- counters_are_derived below lets through).
CREATE OR REPLACE FUNCTION eventbox.tg_registrations_truncated() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    UPDATE events
       SET confirmed_count = 0, waitlisted_count = 0, cancelled_count = 0,
           held_confirmed_count = 0, held_waitlisted_count = 0
     WHERE (confirmed_count, waitlisted_count, cancelled_count, held_confirmed_count,
            held_waitlisted_count) <> (0, 0, 0, 0, 0);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER registrations_truncated
    AFTER TRUNCATE ON eventbox.registrations
    FOR EACH STATEMENT EXECUTE FUNCTION eventbox.tg_registrations_truncated();

CREATE OR REPLACE FUNCTION eventbox.tg_counters_are_derived() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- On UPDATE: nested in another trigger (the counter trigger's own
    -- UPDATE runs at depth 2, as does the questions trigger's,
    -- 78_questions.sql), or the counters unchanged, is allowed.
    IF TG_OP = 'UPDATE'
       AND (pg_trigger_depth() > 1
            OR (OLD.confirmed_count, OLD.waitlisted_count, OLD.cancelled_count,
                OLD.held_confirmed_count, OLD.held_waitlisted_count, OLD.questions)
               IS NOT DISTINCT FROM (NEW.confirmed_count, NEW.waitlisted_count,
                                     NEW.cancelled_count, NEW.held_confirmed_count,
                                     NEW.held_waitlisted_count, NEW.questions)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'confirmed_count, waitlisted_count, cancelled_count, held_confirmed_count, held_waitlisted_count and questions are kept by eventbox; change registrations or questions instead'
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Only the counter trigger (nested in it) may move the counters, and only
-- the questions trigger the event's copy of its questions.  The test
-- is in the function, not in a WHEN clause: PostgreSQL compiles a trigger's
-- WHEN for every statement, which on every registration's counter update
-- cost more than the call (docs/PERFORMANCE.md).
CREATE OR REPLACE TRIGGER counters_are_derived
    BEFORE UPDATE OF confirmed_count, waitlisted_count, cancelled_count,
        held_confirmed_count, held_waitlisted_count, questions ON eventbox.events
    FOR EACH ROW
    EXECUTE FUNCTION eventbox.tg_counters_are_derived();

CREATE OR REPLACE TRIGGER counters_start_at_zero
    BEFORE INSERT ON eventbox.events
    FOR EACH ROW
    WHEN (NEW.confirmed_count <> 0 OR NEW.waitlisted_count <> 0 OR NEW.cancelled_count <> 0
          OR NEW.held_confirmed_count <> 0 OR NEW.held_waitlisted_count <> 0
          OR NEW.questions <> '[]')
    EXECUTE FUNCTION eventbox.tg_counters_are_derived();

CREATE OR REPLACE FUNCTION eventbox.tg_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER events_touch
    BEFORE UPDATE OF slug, title, description, presenter, format, location, online_url,
        categories, organizer, accessibility_contact, starts_at, ends_at, timezone,
        capacity, waitlist_enabled, waitlist_capacity, registration_opens_at,
        registration_closes_at, status
    ON eventbox.events
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_touch_updated_at();

------------------------------------------------------------------------------
-- Internal helpers.  Callers hold the event row lock.

-- STABLE, as convert_to() is: an IMMUTABLE SQL function calling a STABLE
-- one is never inlined, and then costs a parse and a plan per call.
CREATE OR REPLACE FUNCTION eventbox.token_hash(p_token text) RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT sha256(convert_to(lower(p_token), 'UTF8')) $$;

-- Issues a new token for a registration: stores its hash, returns it raw
-- (the caller puts it in the outbox row and nowhere else).  A link sent
-- again on request (a note to somebody registering again, a failed message
-- retried, a link renewed as its message goes out) is the one valid token
-- of the registration: any older one is revoked, so a re-sent note never
-- leaves two working links (and the mailer renews a queued message's link
-- that was revoked: renew_link in 80_mail.sql).  A message the service sends of
-- its own accord (a promotion, a change notice, a reminder) keeps the
-- older ones (p_keep_older): the link in the confirmation a patron kept
-- still cancels after staff moved the event.
-- Revoking takes the registration's revocation lock first (an advisory
-- lock to the end of the transaction: revocation_lock() above): two
-- sessions that revoke at once (two mailers renewing the links of two
-- queued messages, which takes no event lock; a retry) go one after the
-- other, the second sees the first's link once it is committed and
-- revokes it, and one link is left working (a mailer holds it too while it
-- sends a working link, and a repeat's note only tries it: renew_link,
-- note_repeat).  Without the
-- lock, each DELETE saw only the links committed before it, and both new
-- ones stayed.  Not the registration's row lock: a mailer holds this one
-- through its SMTP dialogue, and a cancellation, a confirmation or a
-- promotion, which lock the row under the event's lock, would wait for it
-- there, and every registration for the event behind them.  For the same
-- reason the rules lock a registration's row FOR NO KEY UPDATE, never FOR
-- UPDATE (they change no key): a new link's key to its registration takes
-- a KEY SHARE lock on the row, held by a mailer until its claim commits,
-- which FOR UPDATE would wait for (tests/test_interleavings.py,
-- test_a_mailer_renewing_a_link_holds_up_no_cancellation_and_no_registration).
-- Adding a link
-- (p_keep_older) takes no lock: it revokes nothing, so either order leaves
-- what the two would leave one by one.
-- The registration's revocation lock, waited for (p_wait) or only tried:
-- true once held.  Its one key, for every rule that takes it.
CREATE OR REPLACE FUNCTION eventbox.revocation_lock(p_registration_id bigint, p_wait boolean)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_wait THEN
        PERFORM pg_advisory_xact_lock(7423004, hashint8(p_registration_id));
        RETURN true;
    END IF;
    RETURN pg_try_advisory_xact_lock(7423004, hashint8(p_registration_id));
END
$$;

-- revoke_links: every link of the registration stops working, under its
-- revocation lock.  issue_token() below, and a correction that mails the
-- new address nothing yet (correct_registration(), 65_corrections.sql).
CREATE OR REPLACE FUNCTION eventbox.revoke_links(p_registration_id bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    PERFORM revocation_lock(p_registration_id, true);
    DELETE FROM tokens WHERE registration_id = p_registration_id;
END
$$;

DROP FUNCTION IF EXISTS eventbox.issue_token(bigint, uuid);
CREATE OR REPLACE FUNCTION eventbox.issue_token(p_registration_id bigint, p_token uuid DEFAULT NULL,
                                                p_keep_older boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    t text := coalesce(p_token, gen_random_uuid())::text;
BEGIN
    IF NOT p_keep_older THEN
        PERFORM revoke_links(p_registration_id);
    END IF;
    INSERT INTO tokens (token_hash, registration_id) VALUES (token_hash(t), p_registration_id);
    RETURN t;
END
$$;

-- Locks and returns the event named by id or slug; all NULL when none.
-- Every rule that touches an event's registrations starts here.
-- The row is selected as one value (x), not as SELECT *: with its columns
-- one by one, every call built a descriptor of each of them, at each node
-- of the plan, when the statement started (about 70,000 instructions of a
-- registration's 1.9 million; docs/PERFORMANCE.md).
CREATE OR REPLACE FUNCTION eventbox.lock_event(p_event text) RETURNS eventbox.events
LANGUAGE plpgsql
AS $$
BEGIN
    -- A stuck lock must become an error, not a hang.  The service sets its
    -- own lock_timeout (EVENTBOX_LOCK_TIMEOUT_MS); a psql session that set
    -- none gets 3 s for this transaction.
    IF current_setting('lock_timeout') = '0' THEN
        PERFORM set_config('lock_timeout', '3s', true);
    END IF;
    IF p_event ~ '^[1-9][0-9]{0,17}$' THEN
        RETURN (SELECT x FROM eventbox.events x WHERE x.id = p_event::bigint FOR UPDATE);
    END IF;
    RETURN (SELECT x FROM eventbox.events x WHERE x.slug = p_event FOR UPDATE);
END
$$;

-- Promotes the oldest waiting registrations into free seats, in order, and
-- queues their emails (a held one's comes when its address confirms:
-- rules/55_holds.sql).  Nobody is promoted once the event has started, or
-- unless it is published.  Returns how many moved up.  "Started" is read
-- from the clock, under the lock, not from now(): a cancellation that
-- began before the start and waited for the lock past it promotes nobody.
-- Before a seat is given, holds that ended unconfirmed and are not yet
-- released (the mailer releases them once a minute) are released, as
-- register() does: a seat given back went to the first in line though
-- that place's hold had lapsed, the patron behind who had confirmed kept
-- waiting, and when the event began before the release the seat went to
-- nobody (tests/test_holds.py,
-- test_a_seat_given_back_passes_over_a_hold_that_has_lapsed).
CREATE OR REPLACE FUNCTION eventbox.promote_waiting(p_event_id bigint) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    e events;
    r record;
    n integer := 0;
BEGIN
    SELECT * INTO e FROM events WHERE id = p_event_id;
    IF e.status <> 'published' OR e.starts_at <= clock_timestamp() THEN
        RETURN 0;
    END IF;
    IF has_holds(e) AND holds_due(p_event_id) THEN
        PERFORM release_holds_locked(p_event_id);
        SELECT * INTO e FROM events WHERE id = p_event_id;
    END IF;
    IF free_seats(e) = 0 OR e.waitlisted_count = 0 THEN
        RETURN 0;
    END IF;
    FOR r IN
        SELECT id, name, email, held_until FROM registrations
         WHERE event_id = p_event_id AND status = 'waitlisted'
         ORDER BY id
         LIMIT free_seats(e)
           FOR NO KEY UPDATE
    LOOP
        UPDATE registrations
           SET status = 'confirmed', confirmed_at = now(), promoted_at = now()
         WHERE id = r.id;
        IF r.held_until IS NULL THEN
            INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
            VALUES ('promoted', r.id, p_event_id, r.email, r.name,
                    issue_token(r.id, p_keep_older => true));
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
