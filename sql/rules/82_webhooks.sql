-- rules/82_webhooks.sql: webhooks (tables in 016_webhooks.sql).
--
-- Staff register an HTTPS endpoint and the events it wants
-- (webhook_create, also POST /api/v1/admin/webhooks).  Five events:
--
--   registration.created    a registration counts: confirmed or waitlisted
--                           (on an event that confirms by email: once the
--                           address is confirmed)
--   registration.promoted   a waiting registration got a seat
--   registration.cancelled  a counted registration was cancelled (by its
--                           holder, by staff, or with its event)
--   registration.updated    staff corrected a counted registration's name,
--                           email or library (rules/65_corrections.sql)
--   event.changed           the event's time, place, format or online link
--                           changed, or it was cancelled
--
-- Each becomes one 'webhook' row in eventbox.outbox per webhook that wants
-- it, in the transaction that made the change (the triggers below, so every
-- path is covered, psql included).  `eventbox mailer` POSTs it
-- (src/webhook.c), in order per registration and webhook: no delivery is
-- claimed while an earlier one of its stream (registration, or the event
-- for event.changed) is pending.  Bodies hold no token and no online URL.

-- The event types, in one place (the table's CHECK lists them too).
CREATE OR REPLACE FUNCTION eventbox.webhook_event_types() RETURNS text[]
LANGUAGE sql IMMUTABLE
AS $$ SELECT ARRAY['registration.created', 'registration.promoted', 'registration.cancelled',
                   'registration.updated', 'event.changed'] $$;

-- The due time of the last pending delivery before p_id in the same
-- stream (webhook and registration; webhook and event for event.changed),
-- NULL when there is none: a delivery is claimed only then, and a new one
-- is never due before it.  Due times never fall along a stream (new ones
-- start at the last one's, webhook_failed() pushes the later ones), so the
-- last pending one has the latest, found at the end of the stream in
-- outbox_webhook_order (037), the status tested as rules/80_mail.sql says,
-- so that no index of pending rows alone looks empty and is read instead.
CREATE OR REPLACE FUNCTION eventbox.webhook_earlier(p_webhook bigint, p_registration bigint,
                                                    p_event bigint, p_id bigint)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    IF p_registration IS NOT NULL THEN
        RETURN (SELECT p.next_attempt_at FROM outbox p
                 WHERE p.kind = 'webhook' AND (p.status = 'pending') IS TRUE
                   AND p.webhook_id = p_webhook AND p.registration_id = p_registration
                   AND p.id < p_id
                 ORDER BY p.webhook_id, p.registration_id, p.id DESC LIMIT 1);
    END IF;
    RETURN (SELECT p.next_attempt_at FROM outbox p
             WHERE p.kind = 'webhook' AND (p.status = 'pending') IS TRUE
               AND p.webhook_id = p_webhook AND p.registration_id IS NULL
               AND p.event_id = p_event AND p.id < p_id
             ORDER BY p.webhook_id, p.registration_id, p.id DESC LIMIT 1);
END
$$;

-- The body of one delivery.  A registration's: its id (the one staff see
-- in the roster and the audit log), status, place on the waiting list,
-- name and email (what a CRM needs; not the library, never a token).  A
-- change (event.changed, registration.updated): the fields changed and
-- their previous values (never the online URL's or the library's).
CREATE OR REPLACE FUNCTION eventbox.webhook_payload(p_type text, e eventbox.events,
                                                    r eventbox.registrations, p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    body jsonb := jsonb_build_object(
        'type', p_type,
        'occurred_at', iso_utc(now()),
        'event', jsonb_build_object(
            'id', e.id, 'slug', e.slug, 'title', e.title,
            'starts_at', iso_utc(e.starts_at), 'ends_at', iso_utc(e.ends_at),
            'timezone', e.timezone, 'format', e.format, 'location', e.location,
            'status', e.status));
BEGIN
    RETURN body || coalesce(p_changes, '{}') || CASE WHEN r.id IS NULL THEN '{}'
        ELSE jsonb_build_object('registration', jsonb_build_object(
        'id', r.id, 'status', r.status,
        'position', CASE WHEN r.status = 'waitlisted' THEN
            (SELECT count(*) FROM registrations w
              WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.id <= r.id) END,
        'name', r.name, 'email', r.email)) END;
END
$$;

-- queue_webhooks: one delivery of p_type per live webhook that wants it.
-- Returns how many were queued.
CREATE OR REPLACE FUNCTION eventbox.queue_webhooks(p_type text, e eventbox.events,
                                                   r eventbox.registrations,
                                                   p_changes jsonb DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    body jsonb := webhook_payload(p_type, e, r, p_changes);
    n integer;
BEGIN
    INSERT INTO outbox (kind, webhook_id, registration_id, event_id, payload, next_attempt_at)
    SELECT 'webhook', w.id, r.id, e.id, body,
           greatest(now(), webhook_earlier(w.id, r.id, e.id, 9223372036854775807))
      FROM webhooks w
     WHERE w.disabled_at IS NULL AND p_type = ANY (w.events)
     ORDER BY w.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- What a registration's change means to webhooks: created (it counts
-- now), promoted or cancelled; queued when a live webhook wants it.
CREATE OR REPLACE FUNCTION eventbox.registration_webhooks(o eventbox.registrations,
                                                          n eventbox.registrations)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    t text;
    e events;
BEGIN
    IF o.id IS NULL OR NOT registration_counts(o.status, o.held_until) THEN
        IF registration_counts(n.status, n.held_until) THEN
            t := 'registration.created';
        END IF;
    ELSIF n.status = 'cancelled' THEN
        t := 'registration.cancelled';
    ELSIF o.status = 'waitlisted' AND n.status = 'confirmed' THEN
        t := 'registration.promoted';
    END IF;
    IF t IS NULL OR NOT EXISTS (SELECT 1 FROM webhooks w
                                 WHERE w.disabled_at IS NULL AND t = ANY (w.events)) THEN
        RETURN 0;
    END IF;
    SELECT * INTO e FROM events WHERE id = n.event_id;
    RETURN queue_webhooks(t, e, n);
END
$$;

-- webhook_live(), the name this rule had here, is registration_counts()
-- now (15_holds.sql), which the LibCal roster asks too.
DROP FUNCTION IF EXISTS eventbox.webhook_live(text, timestamptz);

-- The registration triggers, on every registration: while no webhook was
-- ever created (its identity sequence never used), one read of that
-- sequence is all they cost (measured: about a quarter of a look at the
-- empty table, docs/PERFORMANCE.md).  No SECURITY DEFINER and no pinned
-- search_path here, which cost more than that: only the owner's functions
-- write registrations, and registration_webhooks() pins its own.
CREATE OR REPLACE FUNCTION eventbox.tg_registration_webhooks() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- A held registration says nothing until its address confirms.  Here
    -- and not in the trigger's WHEN, which PostgreSQL would compile for
    -- every INSERT statement.
    IF TG_OP = 'INSERT' AND NEW.held_until IS NOT NULL THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.pg_sequence_last_value('eventbox.webhooks_id_seq'::pg_catalog.regclass)
       IS NOT NULL THEN
        PERFORM eventbox.registration_webhooks(OLD, NEW);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER registration_webhooks_insert
    AFTER INSERT ON eventbox.registrations
    FOR EACH ROW
    EXECUTE FUNCTION eventbox.tg_registration_webhooks();

CREATE OR REPLACE TRIGGER registration_webhooks_update
    AFTER UPDATE OF status, held_until ON eventbox.registrations
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.held_until IS DISTINCT FROM NEW.held_until)
    EXECUTE FUNCTION eventbox.tg_registration_webhooks();

-- event.changed: called by tg_event_calendar_change() (rules/72_notices.sql),
-- whose trigger fires on exactly these changes, past events included.
CREATE OR REPLACE FUNCTION eventbox.queue_event_webhooks(o eventbox.events, n eventbox.events)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    f text[] := '{}';
    prev jsonb := '{}';
    nothing registrations;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks w
                    WHERE w.disabled_at IS NULL AND 'event.changed' = ANY (w.events)) THEN
        RETURN 0;
    END IF;
    IF o.starts_at IS DISTINCT FROM n.starts_at THEN
        f := f || 'starts_at'::text;
        prev := prev || jsonb_build_object('starts_at', iso_utc(o.starts_at));
    END IF;
    IF o.ends_at IS DISTINCT FROM n.ends_at THEN
        f := f || 'ends_at'::text;
        prev := prev || jsonb_build_object('ends_at', iso_utc(o.ends_at));
    END IF;
    IF o.location IS DISTINCT FROM n.location THEN
        f := f || 'location'::text;
        prev := prev || jsonb_build_object('location', o.location);
    END IF;
    IF o.format IS DISTINCT FROM n.format THEN
        f := f || 'format'::text;
        prev := prev || jsonb_build_object('format', o.format);
    END IF;
    IF o.online_url IS DISTINCT FROM n.online_url THEN
        f := f || 'online_url'::text;       -- that it changed, never the URL
    END IF;
    IF o.status IS DISTINCT FROM n.status THEN
        f := f || 'status'::text;
        prev := prev || jsonb_build_object('status', o.status);
    END IF;
    RETURN queue_webhooks('event.changed', n, nothing,
                          jsonb_build_object('changes', to_jsonb(f), 'previous', prev));
END
$$;

------------------------------------------------------------------------------
-- Staff: create, list, disable (audited; p_key is the admin API's key, NULL
-- at a psql prompt as a member of eventbox_ops).

-- webhook_create: a new webhook; its secret is shown this once only.
-- events: what it stored (each once, sorted).
--   outcome  created | insecure_url (http://) | invalid_url | invalid_events
CREATE OR REPLACE FUNCTION eventbox.webhook_create(p_url text, p_events text[],
                                                   p_key text DEFAULT NULL,
                                                   OUT outcome text, OUT webhook_id bigint,
                                                   OUT secret text, OUT events text[])
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    v_events text[];
BEGIN
    IF p_url ~* '^http://' THEN
        outcome := 'insecure_url';
        RETURN;
    END IF;
    -- A host name or address, a port from 1 to 65535 if any, a path
    -- (rules/81_webhook_urls.sql).
    IF NOT is_webhook_url(p_url) THEN
        outcome := 'invalid_url';
        RETURN;
    END IF;
    v_events := ARRAY(SELECT DISTINCT x FROM unnest(p_events) x ORDER BY x);
    IF cardinality(v_events) = 0 OR NOT v_events <@ webhook_event_types()
       OR array_position(v_events, NULL) IS NOT NULL THEN
        outcome := 'invalid_events';
        RETURN;
    END IF;
    secret := 'whsec_' || encode(decode(replace(gen_random_uuid()::text
                                                || gen_random_uuid()::text, '-', ''), 'hex'),
                                 'base64');
    INSERT INTO webhooks (url, events, secret) VALUES (p_url, v_events, secret)
    RETURNING id INTO webhook_id;
    events := v_events;
    outcome := 'created';
    PERFORM audit(who.actor, who.via, 'webhook_created', NULL, NULL,
                  jsonb_build_object('webhook_id', webhook_id, 'url', p_url,
                                     'events', to_jsonb(v_events)));
END
$$;

-- The webhooks, for staff: never a secret.  pending and failed count the
-- deliveries waiting and given up; last_error is the newest failure's.
CREATE OR REPLACE FUNCTION eventbox.webhook_list(p_key text DEFAULT NULL)
RETURNS TABLE (webhook_id bigint, url text, events text[], created_at timestamptz,
               disabled_at timestamptz, pending bigint, failed bigint, last_error text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
BEGIN
    RETURN QUERY
    SELECT w.id, w.url, w.events, w.created_at, w.disabled_at,
           (SELECT count(*) FROM outbox o
             WHERE o.webhook_id = w.id AND o.kind = 'webhook' AND o.status = 'pending'),
           (SELECT count(*) FROM outbox o
             WHERE o.webhook_id = w.id AND o.kind = 'webhook' AND o.status = 'failed'),
           (SELECT o.last_error FROM outbox o
             WHERE o.webhook_id = w.id AND o.kind = 'webhook' AND o.last_error IS NOT NULL
             ORDER BY o.id DESC LIMIT 1)
      FROM webhooks w ORDER BY w.id;
END
$$;

-- webhook_disable: no new deliveries, and the pending ones are dropped:
-- closed as a stale email is (status sent, sent_at NULL, last_error
-- 'webhook disabled', body erased), not failed, so that staff's own choice
-- raises no eventbox_outbox_failed alert nobody can clear.  False when no
-- live webhook has that id.  A delivery in flight (its row locked by a
-- mailer until the receiver answers or EVENTBOX_WEBHOOK_TIMEOUT_MS passes,
-- longer than a request waits for a lock) is not waited for: its mailer
-- marks it delivered, or drops it (webhook_failed()), and a row another
-- mailer is pushing back is dropped when it is claimed (webhook_claim()).
CREATE OR REPLACE FUNCTION eventbox.webhook_disable(p_id bigint, p_key text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    v_id bigint;
    n integer;
BEGIN
    UPDATE webhooks SET disabled_at = now() WHERE id = p_id AND disabled_at IS NULL
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN false;
    END IF;
    UPDATE outbox SET status = 'sent', sent_at = NULL, last_error = 'webhook disabled',
                      payload = NULL
     WHERE id IN (SELECT o.id FROM outbox o
                   WHERE o.webhook_id = v_id AND o.kind = 'webhook' AND o.status = 'pending'
                     FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM audit(who.actor, who.via, 'webhook_disabled', NULL, NULL,
                  jsonb_build_object('webhook_id', v_id, 'deliveries_dropped', n));
    RETURN true;
END
$$;

-- webhook_retry: staff send a delivery that was given up again (once the
-- receiver is fixed).  NULL when there is no such failed delivery or its
-- body is gone (delivered, disabled or purged).
CREATE OR REPLACE FUNCTION eventbox.webhook_retry(p_id bigint) RETURNS boolean
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    UPDATE eventbox.outbox o
       SET status = 'pending', attempts = 0, next_attempt_at = now()
      FROM eventbox.webhooks w
     WHERE o.id = p_id AND o.kind = 'webhook' AND (o.status = 'failed') IS TRUE
       AND o.payload IS NOT NULL AND w.id = o.webhook_id AND w.disabled_at IS NULL
 RETURNING true
$$;

------------------------------------------------------------------------------
-- The mailer (src/webhook.c), one delivery per transaction like mail.

-- webhook_claim: the next due delivery whose stream has nothing earlier
-- pending, locked until the caller's transaction ends, with what signing
-- and sending it needs: msg_id (the Standard Webhooks "webhook-id", the same on
-- every attempt and no restored database's: API.md), the URL, the secret and the body.
-- Webhooks not in p_yield (whose receiver was slow or failed last time,
-- src/webhook.c) go first, then each of p_yield's in its order: oldest
-- first across all webhooks, a slow receiver's backlog went ahead of all.
DROP FUNCTION IF EXISTS eventbox.webhook_claim(integer);
CREATE OR REPLACE FUNCTION eventbox.webhook_claim(p_batch integer,
                                                  p_yield bigint[] DEFAULT '{}')
RETURNS TABLE (id bigint, webhook_id bigint, msg_id text, url text, secret text,
               body text, attempts integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    o outbox;
    w webhooks;
    wanted integer := greatest(p_batch, 1);
    v_yield bigint[] := coalesce(p_yield, '{}');
BEGIN
    -- The mark's table lock before the delivery leaves (mail_claim() says
    -- why, rules/80_mail.sql).
    LOCK TABLE outbox IN ROW EXCLUSIVE MODE;
    FOR turn IN 0 .. cardinality(v_yield) LOOP      -- 0: not in p_yield
        EXIT WHEN wanted = 0;
        FOR o IN
            SELECT * FROM outbox ob
             WHERE ob.kind = 'webhook' AND ob.status = 'pending' AND ob.next_attempt_at <= now()
               AND CASE WHEN turn = 0 THEN ob.webhook_id <> ALL (v_yield)
                        ELSE ob.webhook_id = v_yield[turn] END
               AND webhook_earlier(ob.webhook_id, ob.registration_id, ob.event_id, ob.id) IS NULL
             ORDER BY ob.next_attempt_at, ob.id
             LIMIT wanted
               FOR UPDATE SKIP LOCKED
        LOOP
            wanted := wanted - 1;
            SELECT * INTO w FROM webhooks WHERE webhooks.id = o.webhook_id;
            IF w.disabled_at IS NOT NULL THEN
                -- queued while staff disabled it: dropped, as above
                UPDATE outbox SET status = 'sent', sent_at = NULL,
                                  last_error = 'webhook disabled', payload = NULL
                 WHERE outbox.id = o.id;
                CONTINUE;
            END IF;
            id := o.id;
            webhook_id := w.id;
            msg_id := 'msg_' || o.id || '_' || (extract(epoch FROM o.created_at) * 1000000)::bigint;
            url := w.url;
            secret := w.secret;
            body := o.payload::text;
            attempts := o.attempts;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

-- webhook_delivered: the receiver answered 2xx.  The body (name, email)
-- is erased; the row stays as the record that it went out.
-- PL/pgSQL for the reason mail_sent() is (rules/80_mail_marks.sql): once a
-- delivery, each in its own transaction.
CREATE OR REPLACE FUNCTION eventbox.webhook_delivered(p_id bigint) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    UPDATE outbox
       SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL,
           payload = NULL
     WHERE outbox.id = p_id AND outbox.kind = 'webhook' AND (outbox.status = 'pending') IS TRUE;
END
$$;

-- webhook_failed: one more failed attempt (p_error: "http 500", "Timeout
-- was reached"; never a URL or secret).  Retried after p_base_ms * 2^n, at
-- most p_max_backoff_ms later; after p_max_tries it stays failed for staff
-- (webhook_retry), with its body until the purge.  The later deliveries of
-- its stream are not due before it; when the receiver did not answer at all
-- (p_unreachable: no connection, timeout, TLS), none of the webhook's
-- deliveries is, so a receiver that is down costs one attempt per wait,
-- not one per delivery waiting (each may hold the mailer for the timeout).
-- When staff disabled the webhook meanwhile (webhook_disable() skipped the
-- row in flight), the delivery is dropped as the others were: 'sent'.
CREATE OR REPLACE FUNCTION eventbox.webhook_failed(p_id bigint, p_error text,
                                                   p_max_tries integer, p_base_ms integer,
                                                   p_max_backoff_ms integer,
                                                   p_unreachable boolean)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    o outbox;
BEGIN
    UPDATE outbox
       SET attempts = outbox.attempts + 1, status = 'sent', sent_at = NULL,
           last_error = 'webhook disabled', payload = NULL
      FROM webhooks w
     WHERE outbox.id = p_id AND outbox.kind = 'webhook' AND (outbox.status = 'pending') IS TRUE
       AND w.id = outbox.webhook_id AND w.disabled_at IS NOT NULL;
    IF FOUND THEN
        RETURN 'sent';
    END IF;
    UPDATE outbox
       SET attempts = outbox.attempts + 1,
           last_error = left(p_error, 200),
           status = CASE WHEN outbox.attempts + 1 >= p_max_tries THEN 'failed'
                         ELSE 'pending' END,
           next_attempt_at = now() + retry_backoff(p_base_ms, outbox.attempts,
                                                   make_interval(secs => greatest(p_max_backoff_ms, 1)
                                                                        / 1000.0))
     WHERE outbox.id = p_id AND outbox.kind = 'webhook' AND (outbox.status = 'pending') IS TRUE
    RETURNING * INTO o;
    IF o.id IS NULL THEN
        RETURN NULL;
    END IF;
    IF o.status = 'pending' THEN
        -- Raising every due time of a stream to one value keeps them in order.
        -- A delivery another mailer has locked is in flight (another
        -- stream's: a later one of this stream is not claimed while this one
        -- is pending) and gets its own mark: skipped, so that this mark
        -- waits for no other delivery's receiver (the mailer's lock_timeout
        -- would give it up, and the delivery would go out again unrecorded).
        UPDATE outbox p SET next_attempt_at = o.next_attempt_at
         WHERE p.id IN (
               SELECT q.id FROM outbox q
                WHERE q.kind = 'webhook' AND q.status = 'pending'
                  AND q.webhook_id = o.webhook_id
                  AND q.id <> o.id AND q.next_attempt_at < o.next_attempt_at
                  AND (p_unreachable
                       OR q.id > o.id AND CASE WHEN o.registration_id IS NOT NULL
                                               THEN q.registration_id = o.registration_id
                                               ELSE q.registration_id IS NULL
                                                    AND q.event_id = o.event_id END)
                  FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN o.status;
END
$$;
