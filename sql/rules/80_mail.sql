-- rules/80_mail.sql: what the mailer (`eventbox mailer`, src/mailer.c) calls.
--
-- The mailer claims one due message at a time inside a transaction that
-- holds its row lock (FOR UPDATE SKIP LOCKED) until the SMTP server has
-- answered and the row is marked: other mailers skip a row being sent, and
-- a mailer that dies releases it with its connection.  Everything a message
-- needs comes back from mail_claim() in one round trip.
--
-- Privacy at rest: once a message is accepted, mail_sent() erases its
-- token, address and name; only kind, registration, event, timestamps and
-- status remain.  A message that failed for good is erased the same way.
--
-- One message by its id, or a registration's by its registration: the
-- status is tested as `(o.status = 'pending') IS TRUE`, which no index
-- serves, so that only the key's index is used (here, 79_mail_links.sql,
-- 80_mail_marks.sql, 80_mail_staff.sql, 82_webhooks.sql, 60_cancel.sql,
-- 65_corrections.sql, 75_roster.sql).  The outbox is mostly sent rows and
-- is analyzed while nothing is pending, so its statistics say that no row
-- is; written `o.status = 'pending'`, such a look-up was planned through
-- a partial index on the status (outbox_due; 033's outbox_unsent, gone
-- in 037 for the claims' sake), which those statistics make look empty,
-- and read every pending row.  When a crowd queued 10,000 messages, each
-- message's relock and mark read them all, and the mailer sent 53-123 a
-- second instead of 500-600 until the next ANALYZE (docs/PERFORMANCE.md,
-- "The mailer";
-- tests/test_big_data.py::test_a_crowds_backlog_is_marked_message_by_message_whatever_the_statistics).

-- mail_stale: a queued message that no longer tells the truth when its
-- turn comes: a seat, place or reminder for a registration or event
-- cancelled since, a reminder once the event started or for a start it no
-- longer has (postponed: queue_reminders() makes one for the new start),
-- a confirmation request for a hold that ended or was confirmed, a change
-- notice to somebody no longer registered, or once the event started (the
-- trigger announces no change whose start is past: a notice still queued
-- when staff recorded that the event began earlier went out saying "the
-- time has changed" to a time already past), a waiting-list email once
-- the event started (nobody moves up any more: confirmation_withheld()),
-- a change notice to somebody waiting that says only that the online link
-- changed (a link they are not sent: merged into their notice, the time
-- or place it told then put back as it was), or any other message while
-- the registration waits for its address.
-- No SET clause, and only its arguments and built-in operators in the
-- body: mail_claim() asks it for every message, and PostgreSQL inlines it
-- there only so (else it is planned again in every claim's transaction).
CREATE OR REPLACE FUNCTION eventbox.mail_stale(o eventbox.outbox, r eventbox.registrations,
                                               e eventbox.events)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN o.kind IN ('cancelled', 'event_cancelled') THEN false
        WHEN r.id IS NULL OR e.id IS NULL THEN false    -- "no recipient" below
        WHEN r.status = 'cancelled' OR e.status = 'cancelled' THEN true
        WHEN o.kind = 'reminder' AND (r.status <> 'confirmed' OR e.status <> 'published'
                                      OR e.starts_at <= now()
                                      OR o.reminder_for <> e.starts_at) THEN true
        WHEN o.kind = 'event_changed' AND (r.status NOT IN ('confirmed', 'waitlisted')
                                           OR e.starts_at <= now()) THEN true
        WHEN o.kind = 'event_changed' AND r.status = 'waitlisted'
             AND NOT o.changes ?| ARRAY['when', 'location', 'format'] THEN true
        WHEN o.kind = 'waitlisted' AND e.starts_at <= now() THEN true
        WHEN o.kind = 'confirm_address' THEN r.held_until IS NULL
        ELSE r.held_until IS NOT NULL
    END
$$;

-- renew_link() and its undo, undo_renewal(): rules/79_mail_links.sql.

-- mail_claim: up to p_batch due messages, locked until the caller's
-- transaction ends.  A message that went stale (mail_stale) is closed here
-- as skipped: status sent, sent_at NULL, last_error 'skipped', personal
-- data erased.  A message whose link a newer one revoked (issue_token:
-- one working link per registration) goes out with a new link, which in
-- turn revokes the older: the last email sent has the working link
-- (renew_link: here for the first message returned, the one this
-- transaction sends; mail_relock() renews a later one's as it locks it
-- again to send it), under the registration's revocation lock whether
-- renewed or not.  A registration whose revocation lock another session
-- holds meanwhile (another mailer sending or renewing a link of it, until
-- its message is marked) keeps such a message for a later claim.
-- Its result grew columns (what an event_changed notice says, 014; the
-- registrant's language and the old times to word in it, 018; whether a
-- cancelled registration was sent a calendar entry, and whether staff
-- cancelled it; whether the event takes a waiting list, which a
-- confirmation's plea to cancel names only then; a 'confirm_address'
-- message's hold end, in the event's zone, which the email states; whether
-- a 'confirm_address' message's registration moved up from the waiting
-- list into a seat, which the email says first; whether a cancellation
-- gave up a place on the waiting list, which its receipt says instead of
-- a registration cancelled; the language staff wrote the event in, 030,
-- which the email marks its title, place and description with; the UTC
-- time of a start or end the clocks pass twice, which the calendar entry
-- gives instead of the local time, ical_repeated(); the format an
-- event_changed notice says the event had):
-- only the mailer calls it, and a new result type takes a DROP first.
DROP FUNCTION IF EXISTS eventbox.mail_claim(integer);
CREATE FUNCTION eventbox.mail_claim(p_batch integer)
RETURNS TABLE (id bigint, kind text, attempts integer, email text, name text,
               token text, registration_status text, "position" integer,
               event_id bigint, event_slug text, title text, description text,
               presenter text, format text, location text, online_url text,
               event_status text, human_when text, timezone text,
               ical_start text, ical_end text, ical_stamp text,
               vtimezone text, sequence bigint, was_when text,
               was_location text, link_changed boolean, language text,
               was_start text, was_end text, was_tz text,
               calendar_sent boolean, by_staff boolean, place_taken boolean,
               has_waitlist boolean, held_until_local text, moved_up boolean,
               left_waitlist boolean, event_language text,
               ical_start_repeated text, ical_end_repeated text,
               queued_at text, was_format text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    o outbox;
    r registrations;
    e events;
    -- The times as the last message worded them, and for which zone, start
    -- and end: a batch is mostly one event's messages.  A VTIMEZONE walks
    -- 800 days of the zone (vtimezone(), 20_time.sql), and with the
    -- wording and the two iCalendar times, each a conversion to the zone
    -- by its name, that was over a third of a claim's work per message
    -- (docs/PERFORMANCE.md, "The mailer").
    zone_of text;
    zone_at timestamptz;
    zone_end timestamptz;
    zone_text text;
    when_text text;
    start_text text;
    end_text text;
    start_repeated text;
    end_repeated text;
    -- The last waiting-list position counted, and for which registration:
    -- a batch is mostly one event's messages in arrival order, so the
    -- next position counts only the registrations waiting between the
    -- two, not the whole list again (a crowd's 10,000 waiting messages
    -- each counted half the list: quadratic).
    pos_event bigint;
    pos_reg bigint;
    pos_n integer;
    first_row boolean := true;
BEGIN
    -- A relay that takes no mail (mail_relay_failed()): nothing is claimed
    -- until its pause ends, so no message waits out its timeout in turn.
    IF EXISTS (SELECT 1 FROM mail_relay WHERE retry_at > now()) THEN
        RETURN;
    END IF;
    -- The table lock the first message's mark (mail_sent(), mail_failed())
    -- takes, taken before anything leaves: a session asking meanwhile for
    -- one against it (LOCK TABLE ... IN SHARE MODE, a CREATE INDEX or
    -- REINDEX of the outbox) waits for the mark's COMMIT, instead of the
    -- mark waiting behind it with a message the relay accepted, given up
    -- at the mailer's lock_timeout and sent again.  Waiting for it here
    -- costs nothing: nothing was sent yet.  mail_relock() does the same for
    -- the batch's later messages, webhook_claim() for a delivery.
    LOCK TABLE outbox IN ROW EXCLUSIVE MODE;
    FOR o IN
        SELECT * FROM outbox ob
         WHERE ob.status = 'pending' AND ob.next_attempt_at <= now()
           AND ob.kind <> 'webhook'     -- webhook deliveries: webhook_claim()
         ORDER BY ob.next_attempt_at, ob.id
         LIMIT greatest(p_batch, 1)
           FOR UPDATE SKIP LOCKED
    LOOP
        SELECT * INTO r FROM registrations WHERE registrations.id = o.registration_id;
        SELECT * INTO e FROM events WHERE events.id = o.event_id;
        -- A change notice already tried (refused for now, or no answer
        -- after its text) takes no later edit in (queue_change_notices()):
        -- it is read against the event as it is now, and what was put
        -- back since is no news; a notice left with nothing is stale.
        IF o.kind = 'event_changed' AND o.attempts > 0 THEN
            o.changes := change_news(o.changes, e);
        END IF;
        IF mail_stale(o, r, e)
           OR (o.kind = 'event_changed'
               AND NOT o.changes ?| ARRAY['when', 'location', 'format', 'online_url']) THEN
            UPDATE outbox
               SET status = 'sent', last_error = 'skipped', token = NULL,
                   email = NULL, name = NULL
             WHERE outbox.id = o.id;
            CONTINUE;
        END IF;
        IF o.email IS NULL OR e.id IS NULL THEN
            -- Nothing to send it to (a purged registration): close it.
            UPDATE outbox
               SET status = 'failed', last_error = 'no recipient', token = NULL,
                   name = NULL
             WHERE outbox.id = o.id;
            CONTINUE;
        END IF;
        -- The link (renewed when revoked, under the registration's
        -- revocation lock) for the first message only, the one sent in
        -- this transaction: the batch's later ones commit on their own,
        -- and a link renewed here for them would be committed with the
        -- first message's mark, long before they leave, for another
        -- mailer to revoke meanwhile (its note then went out first, and
        -- the email that came last had a dead link).  mail_relock()
        -- does theirs, in the transaction that sends each.
        IF first_row AND o.token IS NOT NULL AND r.id IS NOT NULL THEN
            o.token := renew_link(o.id, r.id, o.token);
            CONTINUE WHEN o.token IS NULL;      -- left for a later claim
        END IF;
        first_row := false;
        id := o.id;
        kind := o.kind;
        attempts := o.attempts;
        email := o.email;
        name := o.name;
        -- When the row was queued, in microseconds since 1970: with its id,
        -- kind and address, what makes the message's Message-ID (mailer.c)
        -- no other database's, whose rows have the same ids.
        queued_at := (extract(epoch FROM o.created_at) * 1000000)::bigint::text;
        token := o.token;
        registration_status := r.status;
        "position" := NULL;
        IF r.status = 'waitlisted' THEN
            IF pos_event = r.event_id AND pos_reg < r.id THEN
                "position" := pos_n
                    + (SELECT count(*)::integer FROM registrations w
                        WHERE w.event_id = r.event_id AND w.status = 'waitlisted'
                          AND w.id > pos_reg AND w.id <= r.id);
            ELSE
                "position" := (SELECT count(*)::integer FROM registrations w
                                WHERE w.event_id = r.event_id AND w.status = 'waitlisted'
                                  AND w.id <= r.id);
            END IF;
            pos_event := r.event_id;
            pos_reg := r.id;
            pos_n := "position";
        END IF;
        event_id := e.id;
        event_slug := e.slug;
        title := e.title;
        description := e.description;
        presenter := e.presenter;
        format := e.format;
        location := e.location;
        -- The URL goes only to the registration's own address, and only
        -- while its seat is confirmed and the event published (joining_url(),
        -- the rule of the "my registration" page too).
        online_url := CASE WHEN o.kind IN ('confirmed', 'promoted', 'reminder',
                                           'already_registered', 'event_changed')
                           THEN joining_url(r, e) END;
        event_status := e.status;
        IF zone_of IS DISTINCT FROM e.timezone OR zone_at IS DISTINCT FROM e.starts_at
           OR zone_end IS DISTINCT FROM e.ends_at THEN
            zone_of := e.timezone;
            zone_at := e.starts_at;
            zone_end := e.ends_at;
            zone_text := eventbox.vtimezone(e.timezone, ARRAY[e.starts_at, e.ends_at]);
            when_text := eventbox.human_when(e.starts_at, e.ends_at, e.timezone);
            start_text := ical_local(e.starts_at, e.timezone);
            end_text := ical_local(e.ends_at, e.timezone);
            start_repeated := ical_repeated(e.starts_at, e.timezone);
            end_repeated := ical_repeated(e.ends_at, e.timezone);
        END IF;
        human_when := when_text;
        timezone := e.timezone;
        ical_start := start_text;
        ical_end := end_text;
        ical_start_repeated := start_repeated;
        ical_end_repeated := end_repeated;
        ical_stamp := ical_utc(now());
        vtimezone := zone_text;
        -- Calendars replace an entry whose SEQUENCE grew (rules/72_notices.sql).
        sequence := e.ical_sequence;
        was_when := o.changes ->> 'when';
        was_location := o.changes ->> 'location';
        was_format := o.changes ->> 'format';
        link_changed := coalesce((o.changes ->> 'online_url')::boolean, false);
        language := coalesce(r.language, 'en');
        event_language := e.language;
        was_start := o.changes ->> 'was_start';
        was_end := o.changes ->> 'was_end';
        was_tz := o.changes ->> 'was_tz';
        -- A cancellation, the registration's or the event's, takes the
        -- entry out of the patron's calendar (METHOD:CANCEL, src/mail.c)
        -- only if one was put there: when a
        -- confirmation, promotion or reminder (METHOD:REQUEST) went out to
        -- this registration, or may still be going out from another
        -- mailer.  The status says nothing by now ('cancelled'), and one
        -- who only ever waited was sent no entry: a waiting-list email,
        -- or a change notice to a waiting patron, carries none.
        calendar_sent := false;
        by_staff := coalesce(o.changes ->> 'by' = 'staff', false);
        place_taken := coalesce(o.changes ->> 'promoted' = 'true', false);
        left_waitlist := coalesce(o.changes ->> 'was' = 'waitlisted', false);
        has_waitlist := e.waitlist_enabled;
        -- Read when the message goes out: a hold moved since (the start
        -- moved earlier) is told as it is.  mail_stale() skipped the
        -- message of a hold that no longer is.
        held_until_local := CASE WHEN o.kind = 'confirm_address'
                                 THEN ical_local(r.held_until, e.timezone) END;
        -- Read when it goes out, too: a request queued with the waiting
        -- place, sent after staff or a freed seat moved it up, says so.
        moved_up := o.kind = 'confirm_address' AND r.status = 'confirmed'
                    AND r.promoted_at IS NOT NULL;
        IF o.kind IN ('cancelled', 'event_cancelled') THEN
            calendar_sent := EXISTS (
                SELECT 1 FROM outbox s
                 WHERE s.registration_id = o.registration_id
                   AND s.kind IN ('confirmed', 'promoted', 'reminder')
                   AND (s.sent_at IS NOT NULL OR s.status = 'pending'));
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- mail_relock: the mailer claims a batch (mail_claim) and commits after
-- each message it sends, so that a mailer that dies leaves at most the
-- message in flight to be sent again; the batch's other rows are locked
-- again one by one in their own transaction.  locked: p_id is still
-- pending, due and not locked by another mailer (which then sends it);
-- false: leave it.  token: the link to send (NULL: the message has none),
-- renewed here when a newer link revoked it (renew_link), in the
-- transaction that sends it, not the claim's: renewed at claim, it was
-- committed with the batch's first message and another mailer could
-- revoke it before this one left.  A message whose registration's
-- revocation lock another mailer holds (sending or renewing a link of it)
-- is left (locked false) for a later claim.
-- PL/pgSQL: it runs once a message, and a SQL function with a subquery is
-- parsed and planned on every call.  The mark's table lock first, as in
-- mail_claim().  Its result grew the token: a new result type takes a DROP.
DROP FUNCTION IF EXISTS eventbox.mail_relock(bigint);
CREATE FUNCTION eventbox.mail_relock(p_id bigint, OUT locked boolean, OUT token text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    v_reg bigint;
BEGIN
    LOCK TABLE outbox IN ROW EXCLUSIVE MODE;
    SELECT o.registration_id, o.token INTO v_reg, token FROM outbox o
     -- (the status of a row found by its key: the top of this file)
     WHERE o.id = p_id AND (o.status = 'pending') IS TRUE AND o.next_attempt_at <= now()
       FOR UPDATE SKIP LOCKED;
    locked := FOUND;
    IF locked AND token IS NOT NULL AND v_reg IS NOT NULL THEN
        token := renew_link(p_id, v_reg, token);
        locked := token IS NOT NULL;
    END IF;
END
$$;

-- mail_sent(), mail_failed() and mail_relay_failed(), the marks of a
-- message's attempt: rules/80_mail_marks.sql.

-- queue_reminders: one reminder per confirmed registration of a published
-- event that starts within p_hours and has not started, once its address
-- is confirmed (a held place's would be skipped, and the patron who
-- confirms inside the window left without one).  A reminder not skipped
-- counts for the start in force when the start it was queued for
-- (reminder_for) is less than p_hours before it: a reminder sent before
-- the event was postponed by days gets a successor, one sent before a move
-- of an hour does not (the change notice tells the new time).  Counted
-- from when it was queued instead, a reminder the mailer queued as its
-- window opened (within the minute) was outside the window of a start
-- moved later by any more than that, and every registrant was reminded
-- twice.  A start moved earlier keeps its reminder (it was queued before
-- the start it was for, and the new start is still to come).
-- Serialised by an advisory lock so two mailers never issue two tokens for
-- one reminder; the unique index makes "never twice for one start" hold
-- whatever calls it.
CREATE OR REPLACE FUNCTION eventbox.queue_reminders(p_hours integer) RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    PERFORM pg_advisory_xact_lock(7423003);
    INSERT INTO outbox (kind, registration_id, event_id, email, name, token, reminder_for)
    SELECT 'reminder', r.id, e.id, r.email, r.name, issue_token(r.id, p_keep_older => true),
           e.starts_at
      FROM events e
      JOIN registrations r ON r.event_id = e.id AND r.status = 'confirmed'
                          AND r.held_until IS NULL
     WHERE e.status = 'published'
       AND e.starts_at > now()
       AND e.starts_at <= now() + make_interval(hours => p_hours)
       AND NOT EXISTS (SELECT 1 FROM outbox x
                        WHERE x.registration_id = r.id AND x.kind = 'reminder'
                          AND x.last_error IS DISTINCT FROM 'skipped'
                          AND (x.reminder_for IS NULL
                               OR x.reminder_for > e.starts_at - make_interval(hours => p_hours)))
    ON CONFLICT (registration_id, reminder_for)
       WHERE kind = 'reminder' AND last_error IS DISTINCT FROM 'skipped' DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- mail_next_due: milliseconds until the earliest pending message (or
-- webhook delivery: the same mailer sends those) is due
-- (0 when one is due now), NULL when none is pending.  The mailer sleeps
-- that long at most (and EVENTBOX_MAIL_POLL_MS at most), so a retry goes
-- out on time and new mail within one poll.
CREATE OR REPLACE FUNCTION eventbox.mail_next_due() RETURNS bigint
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    -- greatest() skips a NULL: without the CASE, "none pending" read as
    -- "one due now", and an idle mailer asked again every 10 ms.  While
    -- the relay's pause lasts (mail_relay_failed()), messages are due at
    -- its end at the earliest, webhook deliveries as ever.
    SELECT CASE WHEN d.at IS NOT NULL THEN
               greatest(0, ceil(extract(epoch FROM d.at - now()) * 1000))::bigint
           END
      FROM (SELECT CASE
                   WHEN p.retry_at IS NULL THEN
                       (SELECT min(next_attempt_at) FROM eventbox.outbox
                         WHERE status = 'pending')
                   ELSE least((SELECT min(next_attempt_at) FROM eventbox.outbox
                                WHERE status = 'pending' AND kind = 'webhook'),
                              greatest(p.retry_at,
                                       (SELECT min(next_attempt_at) FROM eventbox.outbox
                                         WHERE status = 'pending' AND kind <> 'webhook')))
                   END AS at
              FROM (SELECT (SELECT r.retry_at FROM eventbox.mail_relay r
                             WHERE r.retry_at > now()) AS retry_at) p) d
$$;

-- The outbox figures for GET /metrics.  The service's role may not read the
-- outbox (it holds tokens); this function tells it only counts and an age.
-- One query per scrape; the counts walk the outbox_due and outbox_failed
-- partial indexes (an OR, which PostgreSQL can answer from the two; an IN
-- list it cannot).
-- relay_down_s: how long the SMTP relay has taken no mail (0 while it
-- does: mail_relay_failed()); it grew in 032, and a new result type takes
-- a DROP.
DROP FUNCTION IF EXISTS eventbox.outbox_stats();
CREATE FUNCTION eventbox.outbox_stats(OUT pending bigint, OUT failed bigint,
                                      OUT oldest_pending_age_s double precision,
                                      OUT relay_down_s double precision)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT count(*) FILTER (WHERE status = 'pending'),
           count(*) FILTER (WHERE status = 'failed'),
           coalesce(extract(epoch FROM now() - min(created_at)
                                FILTER (WHERE status = 'pending')), 0)::double precision,
           (SELECT coalesce(extract(epoch FROM now() - r.down_since), 0)::double precision
              FROM mail_relay r)
      FROM outbox
     WHERE status = 'pending' OR status = 'failed'  -- through outbox_due and outbox_failed
$$;

-- Mail is not announced with NOTIFY from the transaction that queues it.
-- PostgreSQL lets one transaction that notified commit at a time, in the
-- whole cluster, and holds that lock through its WAL flush: with a NOTIFY
-- in every registration, no two registrations anywhere could share a
-- flush (measured: a minimal register function fell from ~7,600/s to
-- ~2,800/s on 1,000 events; docs/PERFORMANCE.md).  The mailer polls the
-- outbox_due index instead (mail_next_due(), every EVENTBOX_MAIL_POLL_MS).
-- tg_outbox_notify() stays for staff scripts that attach it themselves; a
-- plain `NOTIFY eventbox_outbox` still wakes a sleeping mailer at once.
CREATE OR REPLACE FUNCTION eventbox.tg_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eventbox_outbox', '');
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS outbox_notify ON eventbox.outbox;
