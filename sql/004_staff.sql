-- 004_staff.sql: API keys, the audit log, member libraries, the counts
-- kept after a purge, members-only events.
--
-- The staff functions are in sql/rules/ (40_staff.sql, 70_events.sql,
-- 75_roster.sql, 85_purge.sql).  The time zone names table first created
-- here is created by 001 in a new database, with the function that reads it.

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
