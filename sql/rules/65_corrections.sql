-- rules/65_corrections.sql: staff correct a registration and send its
-- confirmation again ("I registered but never got the email").
--
-- A patron who mistyped their address (ann@gmial.com) was mailed at
-- somebody else's mailbox: the confirmation there cancels the seat and,
-- for an online event, shows the joining link.  correct_registration()
-- puts the right address in its place, revokes every link sent so far
-- and mails the new address the email a patron gets in that state;
-- resend_confirmation() mails that email again to the address the
-- registration has (a message the relay took and that bounced, or that
-- the patron deleted: mail_retry() sends only a failed one again).
-- Both lock the event, then the registration (lock_registration); a
-- correction takes the registration's revocation lock before either (a
-- mailer sending one of its emails holds it).  Both are audited.
-- A plain UPDATE of an address is refused (registrations_email_correction
-- below), so the one way to a new address is the one with its
-- consequences; staff logins may not write registrations at all.

-- The email a live registration gets for its state: the request to
-- confirm while its place is held for its address, else its confirmation
-- or its waiting-list email (the waiting position is counted as it goes
-- out: mail_claim()).
CREATE OR REPLACE FUNCTION eventbox.confirmation_kind(r eventbox.registrations) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN r.held_until IS NOT NULL THEN 'confirm_address' ELSE r.status END
$$;

-- Why the email of a live registration r of event e is not sent now, or
-- NULL: not_published (e is a draft: not public, as register() and the
-- reminders have it; the email's event page would be a 404 and its online
-- link is left out: joining_url(); but not a held place's request to
-- confirm, whose hold runs out meanwhile: withheld, nobody could confirm
-- the place and it was released, and its /confirm/ page needs no public
-- event page) | started (a place on the waiting list
-- once the event has begun: nobody moves up any more, promote_waiting()
-- and promote() read so by the clock under the lock, and an email saying
-- the patron would be told of a free seat is wrong; the "my registration"
-- page says nobody moves up).
CREATE OR REPLACE FUNCTION eventbox.confirmation_withheld(r eventbox.registrations,
                                                          e eventbox.events)
RETURNS text
LANGUAGE sql
AS $$
    SELECT CASE WHEN e.status = 'draft' AND r.held_until IS NULL THEN 'not_published'
                WHEN r.status = 'waitlisted' AND e.starts_at <= clock_timestamp()
                    THEN 'started' END
$$;

-- Locks a registration as a staff change to it needs it: the event first,
-- its holds that ended unconfirmed released (a place whose hold lapsed is
-- no longer live: mailed a request to confirm, it could never be
-- confirmed), then the row.  outcome: NULL when the registration is live
-- and its event has not ended, else not_found | event_cancelled (the
-- event was, and with it the registration: "register the patron again"
-- would be no answer) | registration_cancelled | event_ended
-- (by the clock, under the lock, as cancel() reads it: after its end an
-- event's registrations are its record).
CREATE OR REPLACE FUNCTION eventbox.lock_live_registration(p_registration_id bigint,
                                                           OUT r eventbox.registrations,
                                                           OUT outcome text)
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    e events;
BEGIN
    r := lock_registration(p_registration_id);
    IF r.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT * INTO e FROM events WHERE id = r.event_id;
    IF has_holds(e) AND holds_due(e.id) THEN
        PERFORM expire_holds_locked(e.id);
        SELECT * INTO r FROM registrations WHERE id = r.id;
    END IF;
    IF r.status = 'cancelled' AND e.status = 'cancelled' THEN
        outcome := 'event_cancelled';           -- nobody registers again
    ELSIF r.status = 'cancelled' THEN
        outcome := 'registration_cancelled';
    ELSIF e.ends_at <= clock_timestamp() THEN
        outcome := 'event_ended';
    END IF;
END
$$;

-- registration.updated (rules/82_webhooks.sql): a correction of r, whose
-- fields changed are p_was's keys, with their values before (the audit
-- entry's "was"), for the webhooks that want it.  Only for a registration
-- that counts (registration_counts()): one whose registration.created was
-- sent, or would have been had a webhook wanted it.  A place held for an
-- address not yet confirmed was never announced; its registration.created,
-- once confirmed, carries the corrected row.  An address changed in letter
-- case only is sent too: the body's email is the string stored, and a
-- receiver's copy should be that string.  The library is in no body: that
-- it changed, not what it was.
CREATE OR REPLACE FUNCTION eventbox.queue_correction_webhooks(r eventbox.registrations,
                                                              p_was jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    e events;
BEGIN
    IF NOT registration_counts(r.status, r.held_until)
       OR NOT EXISTS (SELECT 1 FROM webhooks w
                       WHERE w.disabled_at IS NULL
                         AND 'registration.updated' = ANY (w.events)) THEN
        RETURN 0;
    END IF;
    SELECT * INTO e FROM events WHERE id = r.event_id;
    RETURN queue_webhooks('registration.updated', e, r, jsonb_build_object(
        'changes', to_jsonb(ARRAY(SELECT f.k FROM unnest(ARRAY['name', 'email', 'organization'])
                                                  WITH ORDINALITY f(k, i)
                                   WHERE p_was ? f.k ORDER BY f.i)),
        'previous', p_was - 'organization'));
END
$$;

-- correct_registration: staff change a live registration's name, email or
-- organization (p_fields, a JSON object of those, as the admin API's PATCH
-- sends it: a member absent is kept; organization null or "" clears it).
--   outcome  corrected | unchanged (the fields are as stored: nothing is
--            written, logged or sent) | not_found (whatever the fields) |
--            event_cancelled | registration_cancelled | event_ended |
--            invalid (+ field, message) |
--            already_registered (+ field email: another live registration
--            of the event has that address)
--   mailed   for a new address, the email queued to it: confirm_address |
--            confirmed | waitlisted (confirmation_kind()); NULL when none
--            is: a name or library corrected alone, or a new address
--            whose email is withheld (confirmation_withheld(): its event
--            is a draft, or it waits for a seat of an event that has
--            begun), whose old links are revoked all the same (a draft's
--            email, once it is published again: resend_confirmation())
--   name, email, organization  as stored now
-- The values are held to register()'s rules (registrant_error()): an
-- address in ASCII, its domain in A-labels (the service converts one
-- typed otherwise before it calls; at psql, idn2 prints it).  A new
-- address (other than the old one but for letter case) revokes every
-- link the registration has (issue_token(): the ones in the mailbox of
-- whoever got the mistyped address no longer cancel it nor show the
-- online link), closes the messages still queued to the old address
-- (skipped, as mail_claim() closes a stale one; a reminder is queued
-- again by queue_reminders()) and queues the registration's email to
-- the new one (unless withheld: mailed above).  The member library
-- (organization_id, the roster's "member") follows the new address; like
-- staff_register(), a correction is not held to a members-only event's
-- domains.  A name or library corrected alone mails nothing; the messages
-- still queued take it.  Any
-- correction of a registration that counts is a registration.updated
-- webhook delivery (queue_correction_webhooks(), 82_webhooks.sql), a
-- change of the address's letter case included; the pending deliveries
-- keep the body they were queued with, and this one comes after them.
-- Audited as registration_corrected: the fields changed, as they are now
-- and under "was" as they were (the purge erases both, 85_purge.sql).
CREATE OR REPLACE FUNCTION eventbox.correct_registration(p_registration_id bigint,
                                                         p_fields jsonb,
                                                         p_key text DEFAULT NULL,
                                                         OUT outcome text, OUT field text,
                                                         OUT message text, OUT mailed text,
                                                         OUT name text, OUT email text,
                                                         OUT organization text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    who record := staff_actor(p_key);
    l record;
    r registrations;
    was registrations;                  -- as it was, for the audit log
    k text;
    v_name text;
    v_email text;
    v_org text;
    v_now jsonb := '{}';
    v_was jsonb := '{}';
    v_new_address boolean;
    e events;
BEGIN
    -- The registration's revocation lock (issue_token() below takes it)
    -- before the event's: a mailer holds it while it sends one of the
    -- registration's emails, through the SMTP dialogue, and its row lock
    -- with it, which closing the queued messages waits for too.  Waited
    -- for under the event's lock, every registration for the event waited
    -- behind the correction, and past the lock timeout the correction was
    -- a 503 (tests/test_interleavings.py).  No rule waits for this lock
    -- while it holds an event's (note_repeat() only tries it), and a
    -- mailer holding it waits for none.  The message in flight reaches the
    -- old address; its link is revoked with the others once this commits.
    -- (A queued message of the registration that another mailer claimed
    -- in a batch, behind another registration's, is still waited for
    -- below, for that one send.)  A stuck lock is an error, not a hang,
    -- as lock_event() has it.
    IF current_setting('lock_timeout') = '0' THEN
        PERFORM set_config('lock_timeout', '3s', true);
    END IF;
    PERFORM revocation_lock(p_registration_id, true);
    l := lock_live_registration(p_registration_id);
    r := l.r;
    was := l.r;
    v_name := r.name;
    v_email := r.email;
    v_org := r.organization;
    outcome := l.outcome;
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;
    IF jsonb_typeof(p_fields) IS DISTINCT FROM 'object' THEN
        outcome := 'invalid'; field := '';
        message := 'the fields must be a JSON object: {"email": "..."}';
        RETURN;
    END IF;
    FOR k IN SELECT jsonb_object_keys(p_fields) ORDER BY 1 LOOP
        IF k NOT IN ('name', 'email', 'organization') THEN
            outcome := 'invalid'; field := k;
            message := 'is not a field of a registration: send name, email or organization';
            RETURN;
        END IF;
        IF jsonb_typeof(p_fields -> k) <> 'string'
           AND NOT (k = 'organization' AND jsonb_typeof(p_fields -> k) = 'null') THEN
            outcome := 'invalid'; field := k;
            message := CASE WHEN jsonb_typeof(p_fields -> k) = 'null' THEN 'is required'
                            ELSE 'must be a string' END;
            RETURN;
        END IF;
    END LOOP;
    IF p_fields ? 'name' THEN
        v_name := btrim(p_fields ->> 'name');
    END IF;
    IF p_fields ? 'email' THEN
        v_email := btrim(p_fields ->> 'email');
    END IF;
    IF p_fields ? 'organization' THEN
        v_org := nullif(btrim(p_fields ->> 'organization'), '');
    END IF;
    CASE registrant_error(v_name, v_email, v_org)
    WHEN 'invalid_name' THEN
        field := 'name';
        message := 'must be one line of 1 to 200 characters';
    WHEN 'invalid_email' THEN
        field := 'email';
        message := CASE
            WHEN NOT is_ascii(split_part(v_email, '@', 1))
                THEN 'has letters such as é or ñ before the @, and such addresses cannot'
                     ' receive our emails: use another address'
            WHEN NOT is_ascii(v_email)
                THEN 'must have its domain in ASCII (xn--) form, as the form and the API'
                     ' store it: idn2 bücherei.de gives xn--bcherei-n2a.de'
            ELSE 'is not a valid email address' END;
    WHEN 'invalid_organization' THEN
        field := 'organization';
        message := 'must be one line of at most 200 characters';
    ELSE
        NULL;
    END CASE;
    IF field IS NOT NULL THEN
        outcome := 'invalid';
        RETURN;
    END IF;
    name := v_name;
    email := v_email;
    organization := v_org;
    IF v_name IS NOT DISTINCT FROM r.name AND v_email IS NOT DISTINCT FROM r.email
       AND v_org IS NOT DISTINCT FROM r.organization THEN
        outcome := 'unchanged';
        RETURN;
    END IF;
    v_new_address := lower(v_email) <> lower(r.email);
    IF v_new_address AND EXISTS (
           SELECT 1 FROM registrations o
            WHERE o.event_id = r.event_id AND lower(o.email) = lower(v_email)
              AND o.status <> 'cancelled' AND o.id <> r.id) THEN
        outcome := 'already_registered';
        field := 'email';
        message := 'another registration of this event has this address';
        RETURN;
    END IF;

    -- Marked as this function's own: registrations_email_correction lets
    -- the new address through (a plain UPDATE of it is refused).
    PERFORM audited(true);
    UPDATE registrations x
       SET name = v_name, email = v_email, organization = v_org,
           organization_id = CASE WHEN v_new_address THEN member_of(v_email)
                                  ELSE x.organization_id END
     WHERE x.id = r.id;
    PERFORM audited(false);
    SELECT * INTO r FROM registrations WHERE id = r.id;
    IF v_new_address THEN
        UPDATE outbox o
           SET status = 'sent', last_error = 'skipped', token = NULL, email = NULL,
               name = NULL
         -- (the status of a row found by its key: rules/80_mail.sql)
         WHERE o.registration_id = r.id AND (o.status = 'pending') IS TRUE AND o.kind <> 'webhook';
        SELECT * INTO e FROM events WHERE id = r.event_id;
        IF confirmation_withheld(r, e) IS NOT NULL THEN
            PERFORM revoke_links(r.id);
        ELSE
            mailed := confirmation_kind(r);
            -- issue_token() revokes every older link first.
            INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
            VALUES (mailed, r.id, r.event_id, v_email, v_name, issue_token(r.id));
        END IF;
    ELSE
        UPDATE outbox o SET name = v_name, email = v_email
         -- (the status of a row found by its key: rules/80_mail.sql)
         WHERE o.registration_id = r.id AND (o.status = 'pending') IS TRUE AND o.kind <> 'webhook';
    END IF;

    SELECT jsonb_object_agg(c.key, c.now), jsonb_object_agg(c.key, c.before)
      INTO v_now, v_was
      FROM (VALUES ('name', to_jsonb(v_name), to_jsonb(was.name)),
                   ('email', to_jsonb(v_email), to_jsonb(was.email)),
                   ('organization', to_jsonb(v_org), to_jsonb(was.organization)))
           c(key, now, before)
     WHERE c.now IS DISTINCT FROM c.before;
    PERFORM queue_correction_webhooks(r, v_was);
    PERFORM audit(who.actor, who.via, 'registration_corrected', r.event_id, r.id,
                  v_now || jsonb_build_object('was', v_was, 'mailed', mailed));
    outcome := 'corrected';
END
$$;

-- resend_confirmation: staff send a live registration's email again to
-- the address it has (confirmation_kind(): the request to confirm while
-- its place is held, else its confirmation or waiting-list email), with
-- a new link.  The older links keep working, as a promotion's email
-- leaves them (issue_token(), p_keep_older): the address is the
-- patron's own.  To stop the links of an address that was wrong, correct
-- it (correct_registration()).
--   outcome  queued | already_queued (such an email to it waits to go
--            out: nothing more is queued) | not_found |
--            event_cancelled | registration_cancelled | event_ended |
--            not_published | started (confirmation_withheld(): nothing
--            is queued)
--   mailed   the kind of the email queued or waiting
-- Audited as confirmation_resent (with "mailed") when queued.
CREATE OR REPLACE FUNCTION eventbox.resend_confirmation(p_registration_id bigint,
                                                        p_key text DEFAULT NULL,
                                                        OUT outcome text, OUT mailed text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    l record := lock_live_registration(p_registration_id);
    r registrations := l.r;
    e events;
BEGIN
    outcome := l.outcome;
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT * INTO e FROM events WHERE id = r.event_id;
    outcome := confirmation_withheld(r, e);
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;
    mailed := confirmation_kind(r);
    IF EXISTS (SELECT 1 FROM outbox o
                WHERE o.registration_id = r.id AND o.kind = mailed
                  -- (the status of a row found by its key: rules/80_mail.sql)
                  AND (o.status = 'pending') IS TRUE) THEN
        outcome := 'already_queued';
        RETURN;
    END IF;
    INSERT INTO outbox (kind, registration_id, event_id, email, name, token)
    VALUES (mailed, r.id, r.event_id, r.email, r.name,
            issue_token(r.id, p_keep_older => true));
    PERFORM audit(who.actor, who.via, 'confirmation_resent', r.event_id, r.id,
                  jsonb_build_object('mailed', mailed));
    outcome := 'queued';
END
$$;

-- One registration as staff see it (the admin API's answer to a change),
-- or none.
CREATE OR REPLACE FUNCTION eventbox.admin_registration(p_key text, p_registration_id bigint)
RETURNS TABLE (registration_id bigint, event_slug text, name text, email text,
               organization text, is_member boolean, status text, hold text)
LANGUAGE plpgsql STABLE
ROWS 1
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
BEGIN
    RETURN QUERY
    SELECT r.id, e.slug, r.name, r.email, r.organization, r.organization_id IS NOT NULL,
           r.status, hold_state(r)
      FROM registrations r JOIN events e ON e.id = r.event_id
     WHERE r.id = p_registration_id;
END
$$;

-- A new address by plain UPDATE (the owner's: staff logins may not write
-- registrations) would leave the links mailed to the old one working and
-- send the new one nothing: refused, naming the function that does both.
-- A change of letter case only is the same address, and passes.  Named to
-- fire after registrations_row_checks (by name, as PostgreSQL orders
-- them): an address the row rules refuse is told so first.
CREATE OR REPLACE FUNCTION eventbox.tg_registrations_to_new_address() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    IF NOT in_audited_call() THEN
        PERFORM refuse_row('registrations', 'registrations_email_correction',
            format('A new address takes SELECT * FROM eventbox.correct_registration(%s, '
                   '''{"email": "..."}''): it revokes the links mailed to the old address'
                   ' and mails the new one.', OLD.id));
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER registrations_to_new_address
    BEFORE UPDATE OF email ON eventbox.registrations
    FOR EACH ROW
    WHEN (lower(NEW.email) IS DISTINCT FROM lower(OLD.email))
    EXECUTE FUNCTION eventbox.tg_registrations_to_new_address();
