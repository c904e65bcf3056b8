-- rules/60_cancel.sql: cancelling registrations.
--
-- A cancellation of a confirmed seat promotes the oldest waiting
-- registration in the same transaction (promote_waiting, 10_seats.sql) and
-- queues both emails in it.

-- Cancels one registration whose event row the caller has locked.  Frees
-- the seat and promotes the next in line in the same transaction.
-- p_by_staff: staff cancelled it, not its patron; the receipt says so
-- (the outbox row's changes, {"by": "staff"}: src/mail.c), instead of
-- thanking the patron for a cancellation they never asked for.
-- (The form without p_by_staff replaced.)
DROP FUNCTION IF EXISTS eventbox.cancel_locked(bigint);
CREATE OR REPLACE FUNCTION eventbox.cancel_locked(p_registration_id bigint,
                                       p_by_staff boolean DEFAULT false,
                                       OUT outcome text, OUT promoted integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    r registrations;
    v_receipt boolean;
BEGIN
    promoted := 0;
    SELECT * INTO r FROM registrations WHERE id = p_registration_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF r.status = 'cancelled' THEN
        outcome := 'already_cancelled';
        RETURN;
    END IF;
    UPDATE registrations SET status = 'cancelled', cancelled_at = now() WHERE id = r.id;
    IF r.status = 'confirmed' THEN
        promoted := promote_waiting(r.event_id);
    END IF;
    -- The receipt says the place went to the next person waiting only
    -- when it did ("promoted"), as the cancel page does, and that the
    -- patron left the waiting list when that is what was cancelled
    -- ("was": no seat was held).  None when staff
    -- cancel a place held for an address nobody confirmed: its patron was
    -- promised no more email unless they confirm (as cancel_all_registrations
    -- below); a patron who cancels with the link from that email gets one.
    -- None either when staff cancel, on a draft, a registration never
    -- mailed (one brought from LibCal by eventbox import, cancelled there
    -- since): its patron heard nothing of it from here.
    v_receipt := r.held_until IS NULL OR NOT p_by_staff;
    IF v_receipt AND p_by_staff THEN
        v_receipt := NOT EXISTS (SELECT 1 FROM events e
                                  WHERE e.id = r.event_id AND e.status = 'draft')
                     OR EXISTS (SELECT 1 FROM outbox o
                                 WHERE o.registration_id = r.id
                                   AND o.last_error IS DISTINCT FROM 'skipped');
    END IF;
    IF v_receipt THEN
        INSERT INTO outbox (kind, registration_id, event_id, email, name, changes)
        VALUES ('cancelled', r.id, r.event_id, r.email, r.name,
                CASE WHEN p_by_staff THEN '{"by": "staff"}'::jsonb ELSE '{}' END
                || CASE WHEN promoted > 0 THEN '{"promoted": true}'::jsonb ELSE '{}' END
                || CASE WHEN r.status = 'waitlisted' THEN '{"was": "waitlisted"}'::jsonb
                        ELSE '{}' END);
    END IF;
    outcome := 'cancelled';
END
$$;

-- cancel: a patron's cancellation by token.  Idempotent.
--   outcome  cancelled | already_cancelled | event_ended | not_found
-- was_waitlisted: what was cancelled was a place on the waiting list (the
-- cancel page then says the patron left the list).  (Its result grew
-- was_waitlisted: a new result type takes a DROP first.)
-- event_ended: the event is over (its end has passed, by the clock under
-- the event's lock) and the registration was not cancelled: nothing is
-- changed.  Its seat can go to nobody (nobody is promoted once an event has
-- started), and a cancellation then would turn an attendee or a no-show
-- into "cancelled" in the staff's figures (attended(), 30_views.sql).
-- Between the start and the end a patron may still cancel.  Staff
-- (cancel_registration below) may still correct a record after the end.
DROP FUNCTION IF EXISTS eventbox.cancel(text);
CREATE FUNCTION eventbox.cancel(p_token text, OUT outcome text, OUT promoted integer,
                                OUT event_slug text, OUT was_waitlisted boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_reg bigint;
    v_event bigint;
    v_status text;
    e events;
BEGIN
    promoted := 0;
    SELECT r.id, r.event_id INTO v_reg, v_event
      FROM tokens t JOIN registrations r ON r.id = t.registration_id
     WHERE t.token_hash = token_hash(p_token);
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    e := lock_event(v_event::text);
    -- The link read again under the lock, as confirm_registration() reads
    -- it: one that staff's correction of the address revoked while this
    -- waited for the lock (the mistyped address's, in a stranger's
    -- mailbox) cancelled the seat the correction had just given its
    -- patron (tests/test_interleavings.py).
    IF NOT EXISTS (SELECT 1 FROM tokens t WHERE t.token_hash = token_hash(p_token)) THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    event_slug := e.slug;
    -- Under the event's lock: nobody moves it up or off the list now.
    -- The end by the clock, as promote_waiting() reads the start: a
    -- cancellation that waited for the lock past the end is refused as
    -- one made after it (tests/test_interleavings.py).
    SELECT r.status INTO v_status FROM registrations r WHERE r.id = v_reg;
    was_waitlisted := v_status = 'waitlisted';
    IF v_status <> 'cancelled' AND e.ends_at <= clock_timestamp() THEN
        outcome := 'event_ended';
        RETURN;
    END IF;
    SELECT c.outcome, c.promoted INTO outcome, promoted FROM cancel_locked(v_reg) c;
END
$$;

-- Locks the event of a registration, then the registration.  NULL when
-- there is none.
CREATE OR REPLACE FUNCTION eventbox.lock_registration(p_registration_id bigint)
RETURNS eventbox.registrations
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_event bigint;
    r registrations;
BEGIN
    SELECT event_id INTO v_event FROM registrations WHERE id = p_registration_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM lock_event(v_event::text);
    SELECT * INTO r FROM registrations WHERE id = p_registration_id FOR NO KEY UPDATE;
    RETURN r;
END
$$;

-- cancel_registration with an actor: staff cancel for a patron, or take
-- someone off the waiting list.  A freed seat goes to the next in line.
--   outcome  cancelled | already_cancelled | not_found
CREATE OR REPLACE FUNCTION eventbox.cancel_registration(p_registration_id bigint, p_key text,
                                             OUT outcome text, OUT promoted integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    r registrations := lock_registration(p_registration_id);
BEGIN
    promoted := 0;
    IF r.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT c.outcome, c.promoted INTO outcome, promoted FROM cancel_locked(r.id, true) c;
    IF outcome = 'cancelled' THEN
        PERFORM audit(who.actor, who.via, 'registration_cancelled', r.event_id, r.id,
                      jsonb_build_object('was', r.status, 'promoted', promoted));
    END IF;
END
$$;

-- The one-argument form staff scripts know: the same, audited under the
-- caller's role.
CREATE OR REPLACE FUNCTION eventbox.cancel_registration(p_registration_id bigint,
                                                        OUT outcome text,
                                                        OUT promoted integer)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$ SELECT c.outcome, c.promoted FROM cancel_registration(p_registration_id, NULL::text) c $$;

-- Cancels every live registration of an event whose row the caller has
-- locked, with an 'event_cancelled' notice to each, but for a place held
-- for an address nobody confirmed (its patron was promised no more email
-- unless they confirm: the /confirm page, rules/55_holds.sql).  Returns
-- how many were cancelled.

CREATE OR REPLACE FUNCTION eventbox.cancel_all_registrations(p_event_id bigint) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    -- "was" is the row as it was: the hold's end is cleared as the row is
    -- cancelled (hold_ends_with_registration, rules/55_holds.sql).
    WITH c AS (
        UPDATE registrations r SET status = 'cancelled', cancelled_at = now()
          FROM registrations was
         WHERE r.event_id = p_event_id AND r.status <> 'cancelled' AND was.id = r.id
        RETURNING r.id, r.email, r.name, was.held_until),
    m AS (
        INSERT INTO outbox (kind, registration_id, event_id, email, name)
        SELECT 'event_cancelled', c.id, p_event_id, c.email, c.name
          FROM c WHERE c.held_until IS NULL ORDER BY c.id)
    SELECT count(*) INTO n FROM c;
    RETURN n;
END
$$;

------------------------------------------------------------------------------
-- A registration deleted with plain SQL: the owner's DELETE (staff logins
-- may not: docs/OPS.md, "Deleting"), or the purge's (85_purge.sql).

-- Its messages not yet sent go with it: a pending confirmation, note or
-- receipt stayed queued, its registration_id set to NULL by the outbox's
-- key, and went out with a link that no longer worked.  Before the row
-- goes, while the key still finds them (outbox_registration); webhook
-- deliveries stay (a CRM's record of what happened), and so do rows sent or
-- given up (a record too: mail_retry() sends nothing for a registration
-- that is gone).  A message a mailer is sending holds its row: the delete
-- waits for its mark, and leaves it, sent.  The purge deleted these rows
-- already: this finds none.
CREATE OR REPLACE FUNCTION eventbox.tg_registration_mail_goes() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    DELETE FROM outbox
     -- (the status of a row found by its key: rules/80_mail.sql)
     WHERE registration_id = OLD.id AND (status = 'pending') IS TRUE AND kind <> 'webhook';
    RETURN OLD;
END
$$;

CREATE OR REPLACE TRIGGER registration_mail_goes
    BEFORE DELETE ON eventbox.registrations
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_registration_mail_goes();

-- A confirmed seat deleted so went to nobody: the people waiting stayed
-- waiting, and newcomers were put on the list behind them, until a
-- capacity change or a cancellation gave the seats out.  Once the DELETE
-- is done, each event it freed a seat at is locked (lock_event: the
-- counter trigger, registration_counts in 10_seats.sql, holds its row
-- already) and promote_waiting() does what a cancellation's promotion
-- does: first in line first, lapsed holds released before, nobody once
-- the event has begun (the purge's events have ended: it promotes nobody),
-- the promoted mailed.  Once per statement, after every row's counters
-- moved, events in id order: a DELETE of many rows promotes at each event
-- as often as it has free seats and people still waiting, never a deleted
-- place.
-- Each deleted row is written to the audit log as registration_deleted,
-- with how many its event's freed seats promoted ("promoted": of the whole
-- statement, at that event).  The purge marks its DELETE (audited(), in
-- purge_step) and logs event_purged instead.
CREATE OR REPLACE FUNCTION eventbox.tg_registrations_deleted() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    ev record;
    n integer;
BEGIN
    -- The purge: its own entry (event_purged), and its events have ended.
    IF in_audited_call() THEN
        RETURN NULL;
    END IF;
    FOR ev IN
        SELECT g.event_id, bool_or(g.status = 'confirmed') AS freed
          FROM gone g GROUP BY g.event_id ORDER BY g.event_id
    LOOP
        n := 0;
        IF ev.freed THEN
            PERFORM lock_event(ev.event_id::text);
            n := promote_waiting(ev.event_id);
        END IF;
        -- Who and what, never the patron's name or address (a deletion
        -- may be somebody's wish to be forgotten).  The id in the details:
        -- the registration is gone, and the log's key to it (SET NULL)
        -- would not keep it.
        INSERT INTO audit_log (actor, via, action, event_id, details)
        SELECT invoker(), 'sql', 'registration_deleted', g.event_id,
               jsonb_build_object('registration', g.id, 'was', g.status, 'promoted', n)
          FROM gone g WHERE g.event_id = ev.event_id ORDER BY g.id;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER registrations_deleted
    AFTER DELETE ON eventbox.registrations
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION eventbox.tg_registrations_deleted();
