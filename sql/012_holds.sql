-- 012_holds.sql: registrations held until the address confirms them, and
-- what keeps one address from being mailed without end.
--
-- An event may ask every registration made by the public to be confirmed
-- from the address before it counts (confirmation_required; NULL means "as
-- members_only": members-only events ask, others do not).  Until the link
-- in the confirmation email is followed the seat or waiting place is held
-- (held_until, from the event's hold_minutes or EVENTBOX_HOLD_MINUTES); a
-- hold that ends unconfirmed is cancelled (hold_expired_at) and the seat
-- goes to the next in line (rules/55_holds.sql).  A held registration keeps
-- its status (confirmed or waitlisted), so the seat invariant
-- confirmed_count <= capacity counts held seats.

ALTER TABLE eventbox.events
    ADD COLUMN confirmation_required boolean,
    ADD COLUMN hold_minutes integer CHECK (hold_minutes BETWEEN 1 AND 10080),
    ADD COLUMN registrations_per_minute integer
        CHECK (registrations_per_minute BETWEEN 1 AND 100000);

ALTER TABLE eventbox.registrations
    ADD COLUMN held_until timestamptz,
    ADD COLUMN address_confirmed_at timestamptz,
    ADD COLUMN hold_expired_at timestamptz,
    ADD CONSTRAINT registrations_hold_is_live
        CHECK (held_until IS NULL OR status <> 'cancelled'),
    ADD CONSTRAINT registrations_expired_is_cancelled
        CHECK (hold_expired_at IS NULL OR status = 'cancelled');

-- Holds to expire, found without reading an event's registrations.
CREATE INDEX registrations_held ON eventbox.registrations (event_id, held_until)
    WHERE held_until IS NOT NULL;

-- The confirmation email.
ALTER TABLE eventbox.outbox
    DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check
        CHECK (kind IN ('confirmed', 'waitlisted', 'promoted', 'cancelled',
                        'already_registered', 'reminder', 'event_cancelled',
                        'confirm_address'));
-- At most one "already registered" note per registration and hour: the
-- last one is found by this index.
CREATE INDEX outbox_notes ON eventbox.outbox (registration_id, created_at)
    WHERE kind IN ('already_registered', 'confirm_address');

-- Registrations per minute from one network (IPv4 address, IPv6 /64), per
-- event: a hash of the network and the minute, never the address itself,
-- kept for a few minutes (rules/55_holds.sql).
CREATE TABLE eventbox.network_counts (
    event_id    bigint NOT NULL REFERENCES eventbox.events (id) ON DELETE CASCADE,
    network     bytea NOT NULL CHECK (length(network) = 32),
    minute      timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    PRIMARY KEY (event_id, network, minute)
);
