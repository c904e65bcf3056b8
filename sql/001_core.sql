-- 001_core.sql: events, registrations, tokens, the outbox.
--
-- Numbered migrations hold what holds data: tables, columns, constraints,
-- indexes, roles.  Each is applied once and never edited afterwards except
-- to move a function, trigger, view or grant out into sql/rules/, where the
-- one current definition of each lives (see sql/rules/10_seats.sql).  The
-- seat rules are there; the invariant confirmed <= capacity is a CHECK
-- here, on counters that a trigger keeps (rules/10_seats.sql).

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

------------------------------------------------------------------------------
-- Time zone names.  The one function a table here needs: the CHECK on
-- events.timezone calls it, so it is part of that table's definition and
-- is created with it, before any rule file exists (a fresh database runs
-- the numbered files first).  It is the only function outside sql/rules/;
-- changing it takes a numbered migration (tests/test_upgrade.py knows).
--
-- The names are looked up in a table rather than read from disk: a first
-- version scanned pg_timezone_names, which reads the whole time zone
-- database from disk (about 1,200 files, 28 ms a call here).  As a CHECK on
-- events it runs on every UPDATE of an event row, and every registration,
-- cancellation and promotion updates the event's counters: measured here,
-- it was nearly all the cost of register() (25 ms of a registration's
-- trigger time) and made a purge of 2,240 registrations take 75 s.  A name
-- not in the table (a newer time zone database) still gets the full lookup.

CREATE TABLE eventbox.timezone_names (name text PRIMARY KEY);
INSERT INTO eventbox.timezone_names SELECT name FROM pg_timezone_names;

CREATE FUNCTION eventbox.is_valid_timezone(tz text) RETURNS boolean
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM eventbox.timezone_names WHERE name = tz)
        OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz)
$$;

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
