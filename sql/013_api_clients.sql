-- 013_api_clients.sql: OAuth client credentials for the LibCal-compatible
-- API (/1.1/oauth/token), so that LibCal's clients work unchanged.
--
-- A client's id is its number (LibCal's client_id is a number too); its
-- secret and every access token are random and kept only as SHA-256.  The
-- functions that create, revoke and use them are in
-- sql/rules/45_api_clients.sql.

CREATE TABLE eventbox.api_clients (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    secret_hash   bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    -- may read /1.1/events/{id}/registrations (names and addresses)
    registrations boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE TABLE eventbox.api_tokens (
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    client_id   bigint NOT NULL REFERENCES eventbox.api_clients (id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX api_tokens_expires ON eventbox.api_tokens (expires_at);
CREATE INDEX api_tokens_client ON eventbox.api_tokens (client_id);

-- Events imported from a LibCal API (eventbox import): the API's base URL
-- and the event's id there, so that a re-run leaves them alone.
CREATE TABLE eventbox.event_imports (
    source      text NOT NULL,
    source_id   bigint NOT NULL,
    event_id    bigint NOT NULL REFERENCES eventbox.events (id) ON DELETE CASCADE,
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, source_id)
);
CREATE INDEX event_imports_event ON eventbox.event_imports (event_id);
