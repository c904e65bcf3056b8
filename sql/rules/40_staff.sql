-- rules/40_staff.sql: who is calling, the audit log, member libraries, API
-- keys.
--
-- Who may do what:
--   * eventbox_service (the web workers) calls the staff functions only with
--     a staff API key, which each function checks itself (staff_actor): a
--     worker without a key can change nothing.
--   * eventbox_ops (staff at a psql prompt) calls them without a key; the
--     audit log then names their database role.  Ops may create and edit
--     events with plain SQL (see 90_grants.sql); those changes are audited
--     by a trigger, and raising a capacity or cancelling an event by plain
--     UPDATE has the same consequences as through the functions
--     (70_events.sql).  Registrations change only through functions.
-- The audit log never holds a token or a key; purge() erases the personal
-- data it may hold.

-- The role that called a SECURITY DEFINER function: SET ROLE if any, else
-- the login role.
CREATE OR REPLACE FUNCTION eventbox.invoker() RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN current_setting('role') IN ('none', '') THEN session_user::text
                ELSE current_setting('role') END
$$;

-- The name of a live API key, or NULL.  The key is compared by its hash, in
-- an index lookup: no timing hint about how much of a key was right.
CREATE OR REPLACE FUNCTION eventbox.api_key_name(p_key text) RETURNS text
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT name FROM api_keys
     WHERE key_hash = sha256(convert_to(p_key, 'UTF8')) AND revoked_at IS NULL
$$;

-- Staff at a psql prompt: a member of eventbox_ops, or the owner.
CREATE OR REPLACE FUNCTION eventbox.is_staff(who text) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_has_role(who, 'eventbox_ops', 'USAGE')
        OR who = (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'eventbox')
$$;

-- The actor for the audit log: the key's name, or for a call without a key
-- the role of a staff member (eventbox_ops, or the owner).  Anybody else is
-- refused.
CREATE OR REPLACE FUNCTION eventbox.staff_actor(p_key text, OUT actor text, OUT via text)
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
CREATE OR REPLACE FUNCTION eventbox.audit(p_actor text, p_via text, p_action text, p_event bigint,
                               p_registration bigint DEFAULT NULL,
                               p_details jsonb DEFAULT '{}')
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    INSERT INTO audit_log (actor, via, action, event_id, registration_id, details)
    VALUES (p_actor, p_via, p_action, p_event, p_registration, coalesce(p_details, '{}'))
$$;

-- The member library an address belongs to: its domain is an entry, or a
-- subdomain of one, compared literally (no pattern: '_' and '%' are
-- characters; entries are whole domains, see 011_abuse.sql).
-- PL/pgSQL, not SQL: it cannot be inlined (it reads a table), and
-- PostgreSQL 15 parses and plans a SQL function's body again in every
-- transaction that calls it, where PL/pgSQL keeps the plan for the
-- session; register() asks it for every attempt (docs/PERFORMANCE.md).
CREATE OR REPLACE FUNCTION eventbox.member_of(p_email text) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    RETURN (SELECT o.id
              FROM (SELECT lower(split_part(p_email, '@', 2)) AS dom) a,
                   organizations o, unnest(o.domains) d
             WHERE a.dom = d OR right(a.dom, length(d) + 1) = '.' || d
             ORDER BY o.id LIMIT 1);
END
$$;

-- A revoked API key is told so (403), while a missing or unknown key stays a
-- 401 that gives no hint.
CREATE OR REPLACE FUNCTION eventbox.api_key_state(p_key text, OUT name text, OUT revoked boolean)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT k.name, k.revoked_at IS NOT NULL
      FROM api_keys k
     WHERE k.key_hash = sha256(convert_to(p_key, 'UTF8'))
$$;

------------------------------------------------------------------------------
-- The audit log for plain SQL.

-- Plain-SQL changes to events by staff go to the audit log too.  Changes
-- made by the staff functions are logged by them (they mark the call with
-- audited(true), which only they can do: see in_audited_call()).
CREATE OR REPLACE FUNCTION eventbox.tg_audit_events() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    changed jsonb;
BEGIN
    IF in_audited_call() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- What each changed column is now, and under "was" what it was.
        SELECT coalesce(jsonb_object_agg(n.key, n.value)
                        || jsonb_build_object('was', jsonb_object_agg(n.key, o.value)), '{}')
          INTO changed
          FROM jsonb_each(to_jsonb(NEW)) n JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
         WHERE n.value IS DISTINCT FROM o.value AND n.key <> 'updated_at';
    ELSE
        changed := '{}';
    END IF;
    PERFORM audit(invoker(), 'sql',
                  CASE TG_OP WHEN 'INSERT' THEN 'event_created' WHEN 'UPDATE' THEN 'event_updated'
                             ELSE 'event_deleted' END,
                  CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
                  NULL, CASE WHEN TG_OP = 'DELETE'
                             -- what it was: the row is gone, its entries keep its id
                             THEN jsonb_build_object('slug', OLD.slug, 'title', OLD.title,
                                                     'starts_at', OLD.starts_at,
                                                     'status', OLD.status)
                             ELSE changed END);
    RETURN NULL;
END
$$;

-- No condition on pg_trigger_depth(): a staff login could run its UPDATE
-- inside a trigger of its own temporary table, one level down, and so
-- change an event with nothing in the log (the triggers that write to
-- events themselves write only the counters and the questions' copy,
-- which this trigger is not named for).
-- Every column but the three counters: only the counter trigger moves them
-- (counters_are_derived refuses anyone else), and on each registration's
-- counter update this trigger, named for no column of it, costs nothing,
-- not even its WHEN clause, which PostgreSQL compiles per statement
-- (docs/PERFORMANCE.md).  A column added to events belongs in this list:
-- tests/test_row_checks.py fails until it is.
CREATE OR REPLACE TRIGGER audit_events
    AFTER INSERT OR DELETE OR UPDATE OF id, slug, title, description, presenter, format,
        location, online_url, categories, organizer, accessibility_contact, starts_at,
        ends_at, timezone, capacity, waitlist_enabled, waitlist_capacity,
        registration_opens_at, registration_closes_at, status, created_at, updated_at,
        members_only, image_path, image_alt, image_decorative, confirmation_required,
        hold_minutes, registrations_per_minute, ical_sequence, audience, learning_outcomes,
        language
    ON eventbox.events
    FOR EACH ROW
    EXECUTE FUNCTION eventbox.tg_audit_events();

-- Member libraries are staff data too: their changes are audited.
CREATE OR REPLACE FUNCTION eventbox.tg_audit_organizations() RETURNS trigger
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

CREATE OR REPLACE TRIGGER audit_organizations
    AFTER INSERT OR UPDATE OR DELETE ON eventbox.organizations
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_audit_organizations();

-- The mark of "audited by a staff function" for this transaction: a hash
-- of a secret only the owner can read (definer_secret, 011_abuse.sql) and
-- the transaction id.  A session that sets eventbox.audited itself cannot
-- produce it, and the staff functions clear it before they return, so it
-- cannot be read back and reused either.  Granted to nobody.
CREATE OR REPLACE FUNCTION eventbox.audit_mark() RETURNS text
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT encode(sha256(s.secret || convert_to(pg_current_xact_id()::text, 'UTF8')), 'hex')
      FROM definer_secret s
$$;

-- Marks the rest of this call as audited by a staff function (see above).
CREATE OR REPLACE FUNCTION eventbox.audited(p_on boolean) RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$ SELECT set_config('eventbox.audited', CASE WHEN p_on THEN audit_mark() ELSE '' END, true) $$;

-- Whether a staff function marked this change as its own (the triggers
-- then leave the audit row and the follow-up to it).
CREATE OR REPLACE FUNCTION eventbox.in_audited_call() RETURNS boolean
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$ SELECT coalesce(current_setting('eventbox.audited', true), '') = audit_mark() $$;

------------------------------------------------------------------------------
-- API keys: created and revoked by `eventbox apikey` as the owner.

CREATE OR REPLACE FUNCTION eventbox.api_key_create(p_name text, p_key text) RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    INSERT INTO api_keys (name, key_hash) VALUES (p_name, sha256(convert_to(p_key, 'UTF8')));
    INSERT INTO audit_log (actor, via, action, details)
    VALUES (invoker(), 'sql', 'api_key_created', jsonb_build_object('key', p_name));
$$;

CREATE OR REPLACE FUNCTION eventbox.api_key_revoke(p_name text) RETURNS boolean
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

-- A stable number for a category name (LibCal gives categories ids).
CREATE OR REPLACE FUNCTION eventbox.category_id(p_name text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT ('x' || substr(md5(p_name), 1, 7))::bit(28)::integer $$;
