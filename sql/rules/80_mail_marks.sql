-- rules/80_mail_marks.sql: how the mailer (src/mailer.c) marks a message
-- once the SMTP server has answered, in the transaction that claimed or
-- relocked it (rules/80_mail.sql): sent, failed (the message's own
-- failure, one try), or the relay's failure (no try of the message's: the
-- relay's pause, table eventbox.mail_relay, 032).

-- mail_sent: the SMTP server accepted the message.  Erases what identified
-- the person; the row stays as a record that a message went out.
-- PL/pgSQL, not SQL: it runs once a message, each in its own transaction,
-- and PostgreSQL 15 parses and plans a SQL function's body again in every
-- transaction (a SECURITY DEFINER function is never inlined): about 215,000
-- instructions a message (docs/PERFORMANCE.md, "The mailer").
-- True when the relay was down (mail_relay_failed()) until this message:
-- it is up again, and the mailer says so once.  The relay's row is skipped
-- when another mailer's mark holds it (this mark waits for no lock): the
-- next message sent clears it then.  It returned nothing before 032: a new
-- result type takes a DROP.
DROP FUNCTION IF EXISTS eventbox.mail_sent(bigint);
CREATE FUNCTION eventbox.mail_sent(p_id bigint) RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    UPDATE outbox
       SET status = 'sent', sent_at = now(), attempts = attempts + 1,
           last_error = NULL, token = NULL, email = NULL, name = NULL
     -- (the status of a row found by its key: rules/80_mail.sql)
     WHERE outbox.id = p_id AND (outbox.status = 'pending') IS TRUE;
    PERFORM 1 FROM mail_relay WHERE down_since IS NOT NULL FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE mail_relay
       SET down_since = NULL, failures = 0, last_error = NULL, retry_at = NULL;
    RETURN true;
END
$$;

-- mail_relay_failed: the relay took no mail when p_id's turn came (no
-- connection, no answer, a 421, a refusal before the recipient: src/smtp.c),
-- which says nothing about the message: it keeps its tries and its place
-- (still due, first in line), its link renewed for this attempt undone as in
-- mail_failed().  No mail is claimed (mail_claim()) until the relay's pause
-- ends: p_base_ms after its first failure, doubled at each failed try after
-- it, p_cap_ms at most; the first message sent ends it (mail_sent()).  True
-- when the relay answered until now: the mailer says once that it is down.
-- A relay row another mailer's mark holds is skipped, as in mail_sent().
CREATE OR REPLACE FUNCTION eventbox.mail_relay_failed(p_id bigint, p_error text,
                                                      p_base_ms integer, p_cap_ms integer)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v mail_relay;
BEGIN
    PERFORM undo_renewal(p_id);
    SELECT * INTO v FROM mail_relay FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE mail_relay
       SET down_since = coalesce(v.down_since, now()),
           failures = v.failures + 1,
           last_error = left(p_error, 200),
           retry_at = now() + retry_backoff(p_base_ms, v.failures,
                                            make_interval(secs => greatest(p_cap_ms, 1) / 1000.0));
    RETURN v.down_since IS NULL;
END
$$;

-- The wait after n failed attempts: p_base_ms doubled n times, p_cap at
-- most (mail here; webhook deliveries, rules/82_webhooks.sql).
CREATE OR REPLACE FUNCTION eventbox.retry_backoff(p_base_ms integer, p_attempts integer,
                                                  p_cap interval)
RETURNS interval
LANGUAGE sql IMMUTABLE
AS $$
    SELECT least(p_cap, make_interval(secs => greatest(p_base_ms, 1) / 1000.0
                                              * power(2, least(p_attempts, 30))))
$$;

-- mail_failed: one more failed attempt.  Retries after p_base_ms * 2^n
-- (at most six hours); after p_max_tries the row stays failed for staff.
-- p_error must carry no personal data (the mailer sends SMTP codes only).
-- A failed row keeps no token, address or name: staff find the person
-- through registration_id, while the registration exists.
-- A link renewed for this attempt is undone first (undo_renewal()): a
-- message that fails, for now or for good, leaves the patron the links
-- they had.
CREATE OR REPLACE FUNCTION eventbox.mail_failed(p_id bigint, p_error text, p_max_tries integer,
                                     p_base_ms integer)
RETURNS text
LANGUAGE plpgsql                -- as mail_sent(): once a failed message
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_status text;
BEGIN
    PERFORM undo_renewal(p_id);
    UPDATE outbox o
       SET attempts = o.attempts + 1,
           last_error = left(p_error, 200),
           status = CASE WHEN o.attempts + 1 >= p_max_tries THEN 'failed' ELSE 'pending' END,
           token = CASE WHEN o.attempts + 1 >= p_max_tries THEN NULL ELSE o.token END,
           email = CASE WHEN o.attempts + 1 >= p_max_tries THEN NULL ELSE o.email END,
           name = CASE WHEN o.attempts + 1 >= p_max_tries THEN NULL ELSE o.name END,
           next_attempt_at = now() + retry_backoff(p_base_ms, o.attempts, interval '6 hours')
     -- (the status of a row found by its key: rules/80_mail.sql)
     WHERE o.id = p_id AND (o.status = 'pending') IS TRUE
    RETURNING o.status INTO v_status;
    RETURN v_status;
END
$$;
