-- rules/85_purge.sql: privacy retention.

-- An audit entry's details without the patron's personal data: a name,
-- an address, a library, as they are now and as they were before a
-- correction ("was": correct_registration(), 65_corrections.sql; an
-- event_updated entry's "was" holds none of these keys).
CREATE OR REPLACE FUNCTION eventbox.without_personal(d jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT d - 'name' - 'email' - 'organization'
             #- '{was,name}' #- '{was,email}' #- '{was,organization}'
$$;

-- purge_step: one bounded step of privacy retention, in the caller's
-- transaction.  Takes the first event that ended more than p_retention_days
-- ago and still holds personal data, and erases up to p_limit of its
-- registrations: their counts are added to event_stats first, then their
-- outbox rows go, their audit details lose any personal field, and the rows
-- are deleted (their tokens with them).  The step that finds no
-- registration left also deletes the event's remaining outbox rows and its
-- idempotency keys, and logs 'event_purged'.
--   rows      registrations erased (0 and no event: nothing left to do)
--   finished  this step completed an event
-- Why steps: each deleted registration moves the event's counters (the
-- row trigger, 10_seats.sql), and many updates of one row in one transaction cost time
-- quadratic in their number: 2,240 registrations in one transaction took
-- 75 s here, in steps of 500 a fraction of that.  Between steps the event's
-- kept counts plus its remaining rows always add up (event_report).
CREATE OR REPLACE FUNCTION eventbox.purge_step(p_retention_days integer, p_limit integer DEFAULT 500,
                                    p_key text DEFAULT NULL,
                                    OUT rows integer, OUT finished boolean,
                                    OUT event_id bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
SET lock_timeout = '10s'
AS $$
#variable_conflict use_column
DECLARE
    who record := staff_actor(p_key);
    e events;
    c record;
    ids bigint[];
BEGIN
    rows := 0;
    finished := false;
    IF p_retention_days IS NULL OR p_retention_days < 0 OR p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION 'retention days must be 0 or more, the step 1 or more'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO e FROM events x
     WHERE x.ends_at < now() - make_interval(days => p_retention_days)
       AND (EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = x.id)
            OR EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = x.id)
            OR EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.event_id = x.id)
            OR EXISTS (SELECT 1 FROM event_stats s
                        WHERE s.event_id = x.id AND s.purged_at IS NULL))
     ORDER BY x.id LIMIT 1
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    event_id := e.id;

    ids := ARRAY(SELECT id FROM registrations WHERE registrations.event_id = e.id
                  ORDER BY id LIMIT p_limit FOR UPDATE);
    rows := coalesce(array_length(ids, 1), 0);
    IF rows > 0 THEN
        SELECT count(*)::integer AS registered,
               count(*) FILTER (WHERE status = 'confirmed')::integer AS confirmed,
               count(*) FILTER (WHERE status = 'waitlisted')::integer AS waitlisted,
               count(*) FILTER (WHERE status = 'cancelled')::integer AS cancelled,
               count(*) FILTER (WHERE attended(r))::integer AS attended
          INTO c FROM registrations r WHERE id = ANY (ids);
        INSERT INTO event_stats AS s (event_id, registered, confirmed, waitlisted, cancelled,
                                      attended)
        VALUES (e.id, c.registered, c.confirmed, c.waitlisted, c.cancelled, c.attended)
        ON CONFLICT ON CONSTRAINT event_stats_pkey DO UPDATE
           SET registered = s.registered + excluded.registered,
               confirmed = s.confirmed + excluded.confirmed,
               waitlisted = s.waitlisted + excluded.waitlisted,
               cancelled = s.cancelled + excluded.cancelled,
               attended = s.attended + excluded.attended,
               purged_at = NULL;
        DELETE FROM outbox WHERE registration_id = ANY (ids);
        UPDATE audit_log SET details = without_personal(details)
         WHERE registration_id = ANY (ids);
        -- Marked as this function's own: the deletion trigger
        -- (60_cancel.sql) then logs no registration_deleted per row.
        PERFORM audited(true);
        DELETE FROM registrations WHERE id = ANY (ids);
        PERFORM audited(false);
        RETURN;
    END IF;

    DELETE FROM outbox WHERE outbox.event_id = e.id;
    DELETE FROM idempotency_keys WHERE idempotency_keys.event_id = e.id;
    DELETE FROM network_counts WHERE network_counts.event_id = e.id;
    UPDATE audit_log SET details = without_personal(details)
     WHERE audit_log.event_id = e.id;
    INSERT INTO event_stats AS s (event_id, registered, confirmed, waitlisted, cancelled,
                                  attended, purged_at)
    VALUES (e.id, 0, 0, 0, 0, 0, now())
    ON CONFLICT ON CONSTRAINT event_stats_pkey DO UPDATE SET purged_at = now();
    PERFORM audit(who.actor, who.via, 'event_purged', e.id, NULL,
                  jsonb_build_object('registrations',
                      (SELECT registered FROM event_stats WHERE event_stats.event_id = e.id)));
    finished := true;
END
$$;

-- purge: every step in one transaction, for psql (`eventbox purge` runs
-- the steps in transactions of their own).  Returns the events purged.
-- A step can deadlock with the mailer: it holds a claimed outbox row of the
-- event while webhook_failed() updates the webhook's other rows, some of
-- which the step has deleted.  Each step runs in a subtransaction; one
-- that PostgreSQL ends for a deadlock (or a serialization failure) is
-- rolled back, which lets the mailer finish, and is run again, up to five
-- times.  A cycle through rows that an earlier step of this transaction
-- deleted is not released that way: after the fifth attempt the error
-- stands, and `eventbox purge`, which commits every step, gets through.
CREATE OR REPLACE FUNCTION eventbox.purge(p_retention_days integer, p_key text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    st record;
    n integer := 0;
BEGIN
    LOOP
        FOR attempt IN 1..5 LOOP
            BEGIN
                SELECT * INTO st FROM purge_step(p_retention_days, 500, p_key);
                EXIT;
            EXCEPTION WHEN deadlock_detected OR serialization_failure THEN
                IF attempt = 5 THEN
                    RAISE;
                END IF;
            END;
        END LOOP;
        EXIT WHEN st.event_id IS NULL;
        n := n + st.finished::integer;
    END LOOP;
    RETURN n;
END
$$;
