-- rules/79_mail_links.sql: the link a message goes out with
-- (rules/80_mail.sql, the mailer's functions, calls these).

-- renew_link: the link to send in outbox row p_id (registration
-- p_registration): p_token, or a new link when a newer one revoked it
-- (issue_token: one working link per registration), which in turn revokes
-- the older, and the row takes it.  Called for every message with a link,
-- working or not, the row locked in the transaction that sends it
-- (mail_claim() for a batch's first message, mail_relock() for the
-- others): it takes the registration's revocation lock, held until the
-- message's mark commits, so that nothing revokes the link in flight
-- (a working link once went without it, another mailer's renewal revoked
-- it, and that email, reaching the patron last, had a dead link); the
-- email sent last has the working one.  When another mailer (or a retry)
-- holds the lock now, NULL: the message waits for a later claim, due a
-- second from now (due meanwhile, mail_next_due() would have the mailer
-- claim again every 10 ms).  Not waited for: a mailer that waited for
-- another's send could wait on one that waits on it; a repeat's note
-- does not wait for it either (note_repeat()).
-- A renewal stands only if its email is accepted: it keeps the hashes of
-- the links it revoked for undo_renewal() (below), which mail_failed()
-- calls.
CREATE OR REPLACE FUNCTION eventbox.renew_link(p_id bigint, p_registration bigint,
                                               p_token text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    t text := p_token;
    v_revoked text;
BEGIN
    IF NOT revocation_lock(p_registration, false) THEN
        UPDATE outbox SET next_attempt_at = now() + interval '1 second' WHERE id = p_id;
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tokens WHERE token_hash = token_hash(t)) THEN
        -- Read under the lock: nothing revokes them before issue_token().
        SELECT string_agg(encode(k.token_hash, 'hex'), ' ') INTO v_revoked
          FROM tokens k WHERE k.registration_id = p_registration;
        t := issue_token(p_registration);
        UPDATE outbox SET token = t WHERE id = p_id;
        PERFORM set_config('eventbox.renewed_link',
                           p_id::text || ':' || coalesce(v_revoked, ''), true);
    END IF;
    RETURN t;
END
$$;

-- undo_renewal: the attempt to send outbox row p_id failed (mail_failed(),
-- for now or for good); if its link was renewed for it in this transaction
-- (renew_link()), the renewal is undone, the revocation lock still held:
-- the links it revoked work again (their hashes kept to the end of the
-- transaction in the setting eventbox.renewed_link, "<outbox id>:<hex hash>
-- ..."), the new one, never delivered, is revoked, and the next attempt
-- renews it again.  Committed with the failed attempt's mark, a renewal
-- once revoked the link of an email the patron had, and when the message
-- then failed for good the patron held a dead link and no other
-- (tests/test_mail.py::test_a_renewed_link_whose_email_failed_for_good_leaves_the_delivered_one_working).
-- A mark run again from its savepoint (the mailer's mark_again()) undoes
-- it once: the first undo is rolled back with the mark.  (The setting is
-- the mailer's session's to write, but a link put back is one whose token
-- the mailer knows, and it knows those of the registration's queued
-- messages anyway.)
CREATE OR REPLACE FUNCTION eventbox.undo_renewal(p_id bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_renewed text := current_setting('eventbox.renewed_link', true);
BEGIN
    IF split_part(v_renewed, ':', 1) IS DISTINCT FROM p_id::text THEN
        RETURN;
    END IF;
    DELETE FROM tokens k USING outbox o
     -- (the status of a row found by its key: rules/80_mail.sql)
     WHERE o.id = p_id AND (o.status = 'pending') IS TRUE AND o.token IS NOT NULL
       AND k.token_hash = token_hash(o.token);
    INSERT INTO tokens (token_hash, registration_id)
    SELECT decode(h, 'hex'), o.registration_id
      FROM outbox o, unnest(string_to_array(split_part(v_renewed, ':', 2), ' ')) h
     -- (the status of a row found by its key: rules/80_mail.sql)
     WHERE o.id = p_id AND (o.status = 'pending') IS TRUE AND o.registration_id IS NOT NULL
    ON CONFLICT (token_hash) DO NOTHING;
END
$$;
