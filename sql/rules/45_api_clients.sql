-- rules/45_api_clients.sql: OAuth client credentials for the LibCal-
-- compatible API (tables in 013_api_clients.sql).
--
-- Staff create a client (api_client_create) and hand its id and secret to
-- whoever runs the LibCal client; the client trades them for a short-lived
-- access token at POST /1.1/oauth/token (oauth_token) and sends it as
-- "Authorization: Bearer ...".  Secrets and tokens are random (two v4 UUIDs,
-- 244 bits, from the server's strong random source) and stored only as
-- SHA-256; both are looked up by hash.  Revoking a client ends its tokens.

-- A fresh random secret with a prefix that says what it is.
CREATE OR REPLACE FUNCTION eventbox.random_secret(p_prefix text) RETURNS text
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_prefix || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
$$;

CREATE OR REPLACE FUNCTION eventbox.secret_hash(p_secret text) RETURNS bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT sha256(convert_to(p_secret, 'UTF8')) $$;

-- api_client_create: a new client; its secret is shown this once only.
-- p_registrations lets its tokens read registrations (names, addresses).
--   outcome  created | exists | invalid_name
CREATE OR REPLACE FUNCTION eventbox.api_client_create(p_name text,
                                  p_registrations boolean DEFAULT false,
                                  p_key text DEFAULT NULL,
                                  OUT outcome text, OUT client_id text,
                                  OUT client_secret text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    v_id bigint;
BEGIN
    IF p_name IS NULL OR p_name !~ '^[a-z0-9][a-z0-9._-]{0,63}$' THEN
        outcome := 'invalid_name';
        RETURN;
    END IF;
    client_secret := random_secret('ebs_');
    INSERT INTO api_clients (name, secret_hash, registrations)
    VALUES (p_name, secret_hash(client_secret), coalesce(p_registrations, false))
    ON CONFLICT (name) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        outcome := 'exists';
        client_secret := NULL;
        RETURN;
    END IF;
    client_id := v_id::text;
    outcome := 'created';
    PERFORM audit(who.actor, who.via, 'api_client_created', NULL, NULL,
                  jsonb_build_object('client_id', v_id, 'name', p_name,
                                     'registrations', coalesce(p_registrations, false)));
END
$$;

-- api_client_revoke: by id or name; its tokens stop working at once.  An
-- id is as api_client_create() wrote it: '7', while '007' is a name.
-- Returns false when no live client has that id or name.
CREATE OR REPLACE FUNCTION eventbox.api_client_revoke(p_client text, p_key text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    v_id bigint;
BEGIN
    UPDATE api_clients SET revoked_at = now()
     WHERE revoked_at IS NULL
       AND CASE WHEN p_client ~ '^[1-9][0-9]{0,17}$' THEN id = p_client::bigint
                ELSE name = p_client END
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN false;
    END IF;
    DELETE FROM api_tokens WHERE client_id = v_id;
    PERFORM audit(who.actor, who.via, 'api_client_revoked', NULL, NULL,
                  jsonb_build_object('client_id', v_id));
    RETURN true;
END
$$;

-- The clients, for staff: never a secret or its hash.
CREATE OR REPLACE FUNCTION eventbox.api_client_list(p_key text DEFAULT NULL)
RETURNS TABLE (client_id text, name text, registrations boolean,
               created_at timestamptz, revoked_at timestamptz)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
BEGIN
    RETURN QUERY SELECT c.id::text, c.name, c.registrations, c.created_at, c.revoked_at
                   FROM api_clients c ORDER BY c.id;
END
$$;

-- oauth_token: the client-credentials grant.  A live client with that id
-- and secret gets a new token valid p_ttl seconds; anything else gets NULLs
-- (the caller answers invalid_client, whichever part was wrong).  Expired
-- tokens are swept here, so the table stays small.
CREATE OR REPLACE FUNCTION eventbox.oauth_token(p_client_id text, p_secret text,
                                  p_ttl integer DEFAULT 3600,
                                  OUT access_token text, OUT expires_in integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF p_client_id !~ '^[0-9]{1,18}$' OR p_secret IS NULL THEN
        RETURN;
    END IF;
    SELECT c.id INTO v_id FROM api_clients c
     WHERE c.secret_hash = secret_hash(p_secret) AND c.id = p_client_id::bigint
       AND c.revoked_at IS NULL;
    IF v_id IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM api_tokens WHERE expires_at < now();
    expires_in := greatest(coalesce(p_ttl, 3600), 60);
    access_token := random_secret('ebt_');
    INSERT INTO api_tokens (token_hash, client_id, expires_at)
    VALUES (secret_hash(access_token), v_id, now() + make_interval(secs => expires_in));
END
$$;

-- What a Bearer credential on /1.1 may do:
--   access  staff (a live staff API key) | client (a live token) |
--           revoked (a revoked staff key) | NULL (unknown or expired)
--   registrations  may read registrations
CREATE OR REPLACE FUNCTION eventbox.bearer_access(p_bearer text, OUT access text,
                                    OUT registrations boolean)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT a.access, a.registrations FROM (
        SELECT CASE WHEN k.revoked_at IS NULL THEN 'staff' ELSE 'revoked' END AS access,
               k.revoked_at IS NULL AS registrations, 0 AS rank
          FROM api_keys k WHERE k.key_hash = secret_hash(p_bearer)
        UNION ALL
        SELECT 'client', c.registrations, 1
          FROM api_tokens t JOIN api_clients c ON c.id = t.client_id
         WHERE t.token_hash = secret_hash(p_bearer) AND t.expires_at > now()
           AND c.revoked_at IS NULL) a
    ORDER BY a.rank LIMIT 1
$$;

-- The confirmed and waiting registrations of one event for the LibCal API,
-- for a Bearer credential that may read them (else insufficient_privilege):
-- those that count (registration_counts, 15_holds.sql), as its seats_taken
-- and wait_list do and the webhooks tell, so a seat or waiting place held
-- for an address not yet confirmed is not listed.  "position" is the place
-- in line, held places before it included (what the patron's email and
-- the webhooks say).  One row with NULL registration columns for an event
-- without any; no row when there is no such event.
CREATE OR REPLACE FUNCTION eventbox.libcal_roster(p_bearer text, p_event bigint)
RETURNS TABLE (event_id bigint, registration_id bigint, name text, email text,
               library text, status text, "position" integer,
               registered_at timestamptz, attended_at timestamptz)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    IF NOT coalesce((SELECT b.registrations FROM bearer_access(p_bearer) b), false) THEN
        RAISE EXCEPTION 'this credential may not read registrations'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT e.id, s.registration_id, s.name, s.email, s.library, s.status, s."position",
           s.registered_at, s.attended_at
      FROM events e
      LEFT JOIN staff_roster s ON s.event_id = e.id
                             AND registration_counts(s.status, s.held_until)
     WHERE e.id = p_event AND e.status <> 'draft'
     ORDER BY s.registration_id;
END
$$;
