-- rules/80_mail_staff.sql: what staff call when mail did not go out
-- (docs/MAIL.md, "Operations"): a failed message sent again, and the
-- relay's pause ended once the relay is fixed.  The mailer's own
-- functions are in rules/80_mail.sql and rules/80_mail_marks.sql.

-- mail_retry: staff send a failed message again (after fixing the relay).
-- A failed row kept no address, name or token (mail_failed): they come
-- back from the registration, with a new link where the message has one
-- (which revokes the older: issue_token).  NULL when the registration is
-- gone (purged).
CREATE OR REPLACE FUNCTION eventbox.mail_retry(p_id bigint) RETURNS boolean
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    UPDATE eventbox.outbox o
       SET status = 'pending', attempts = 0, next_attempt_at = now(),
           email = r.email, name = r.name,
           token = CASE WHEN o.kind IN ('cancelled', 'event_cancelled') THEN NULL
                        ELSE issue_token(r.id) END
      FROM eventbox.registrations r
     -- (the status of a row found by its key: rules/80_mail.sql)
     WHERE o.id = p_id AND (o.status = 'failed') IS TRUE AND r.id = o.registration_id
       AND o.kind <> 'webhook'           -- those: webhook_retry()
 RETURNING true
$$;

-- mail_relay_retry: staff fixed the relay (mail_relay_failed()): the pause
-- ends now, and the mailers' next poll claims the queue, instead of waiting
-- out up to five minutes of a relay that is back.  The pause's end becomes
-- now (outbox_backlog's relay_retry_at says when it was ended); the outage
-- itself stands until a message goes out (mail_sent() clears it, and the
-- mailer logs that the relay takes mail again).  A relay still down is
-- tried once, and paused again, one doubling further.  The NOTIFY wakes a
-- sleeping mailer at once (mail_next_due() would have it sleep until the
-- pause's end, EVENTBOX_MAIL_POLL_MS at most).  True when the relay was
-- down; false when it takes mail, and nothing changes.  Not audited, as
-- mail_retry() and webhook_retry() are not.
CREATE OR REPLACE FUNCTION eventbox.mail_relay_retry() RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    UPDATE mail_relay SET retry_at = least(retry_at, now()) WHERE down_since IS NOT NULL;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify('eventbox_outbox', '');
    RETURN true;
END
$$;
