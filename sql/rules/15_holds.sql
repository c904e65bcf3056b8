-- rules/15_holds.sql: the hold rule, named once (see 55_holds.sql for
-- what holds are).  Small functions (SQL ones inlined by the planner) that the
-- views (30_views.sql) and register_entry() ask; the functions that change
-- holds are in 55_holds.sql.

-- Whether registrations by the public wait for their address: as staff
-- chose, else on for members-only events.
CREATE OR REPLACE FUNCTION eventbox.needs_confirmation(e eventbox.events) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT coalesce(e.confirmation_required, e.members_only) $$;

-- When a hold taken now ends: the event's own hold_minutes, else the
-- service's EVENTBOX_HOLD_MINUTES (set on its sessions as
-- eventbox.hold_minutes), else 60 minutes; never after the start.
CREATE OR REPLACE FUNCTION eventbox.hold_ends(e eventbox.events) RETURNS timestamptz
LANGUAGE sql STABLE
AS $$
    SELECT least(e.starts_at, now() + make_interval(mins => coalesce(e.hold_minutes,
        CASE WHEN current_setting('eventbox.hold_minutes', true) ~ '^[0-9]{1,5}$'
             THEN least(greatest(current_setting('eventbox.hold_minutes', true)::integer,
                                 1), 10080) END,
        60)))
$$;

-- Seats free as the public is told: held seats count as free until their
-- address confirms them, so that registering somebody else's address moves
-- no public figure (55_holds.sql) and a registration answered 'pending'
-- may be waitlisted when it confirms.  But never free when a registration
-- now would be refused as full (seat_outcome, 10_seats.sql: no seat and no
-- waiting place, held ones counted): then 0, as the 409 that registration
-- would get already tells anybody.  The held seats and waiting places are
-- counters on the event's row (sql/020_held_counts.sql, kept by
-- tg_registration_counts in 10_seats.sql), so these are plain expressions
-- the planner inlines: a read of an event asks no other table.
-- (held_count(), the query they made through a definer's function on
-- every read, is dropped in 55_holds.sql, once 30_views.sql no longer
-- names it.)

CREATE OR REPLACE FUNCTION eventbox.public_seats(e eventbox.events) RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN eventbox.seat_outcome(e) = 'full' THEN 0
                ELSE least(e.capacity, eventbox.free_seats(e) + e.held_confirmed_count) END
$$;

-- The waiting list's length as the public is told: confirmed addresses only.
CREATE OR REPLACE FUNCTION eventbox.public_waiting(e eventbox.events) RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT e.waitlisted_count - e.held_waitlisted_count $$;

-- Whether a registration counts, as the public figures, the webhooks and
-- the LibCal roster count it: confirmed or waiting, and not held (its
-- address confirmed it, or no confirmation was asked).  A hold that has
-- ended but is not yet released is still held: it never counted.
CREATE OR REPLACE FUNCTION eventbox.registration_counts(p_status text,
                                                        p_held_until timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT p_status IN ('confirmed', 'waitlisted') AND p_held_until IS NULL $$;

-- Whether an event has any held seat or waiting place (expired or not):
-- only then can holds_due() find one.
CREATE OR REPLACE FUNCTION eventbox.has_holds(e eventbox.events) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT e.held_confirmed_count > 0 OR e.held_waitlisted_count > 0 $$;

-- Whether an event has holds that have ended and not yet been released.
-- register() asks has_holds(e) AND holds_due(e.id) on every attempt: on an
-- event without holds, no query.  PL/pgSQL: as SQL (a subquery is never
-- inlined) its planning was an eighth of a registration's CPU
-- (docs/PERFORMANCE.md).
CREATE OR REPLACE FUNCTION eventbox.holds_due(p_event_id bigint) RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM eventbox.registrations h
                    WHERE h.event_id = p_event_id AND h.held_until IS NOT NULL
                      AND h.held_until <= now());
END
$$;

-- A registration's hold as staff read it: held | expired | confirmed (the
-- address confirmed it) | NULL (no confirmation was asked).
CREATE OR REPLACE FUNCTION eventbox.hold_state(r eventbox.registrations) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN r.held_until IS NOT NULL THEN 'held'
                WHEN r.hold_expired_at IS NOT NULL THEN 'expired'
                WHEN r.address_confirmed_at IS NOT NULL THEN 'confirmed' END
$$;
