-- rules/72_notices.sql: change notices and the calendar entry's SEQUENCE.
--
-- However an event is changed (save_event, set_status, or an UPDATE at a
-- psql prompt), a new time, place or online link, or a cancellation,
-- raises events.ical_sequence: every calendar file and email after it
-- carries the higher SEQUENCE under the same UID, so calendar apps move or
-- remove the entry they have instead of adding a second one.  A new time,
-- place or link of a published event also queues one 'event_changed'
-- email to each registrant (confirmed and waiting; a new link alone, to
-- confirmed seats only) in the same transaction (a draft's, once it is
-- published again); cancellation has its
-- own 'event_cancelled' email (rules/60_cancel.sql).  Each such change,
-- past events' too, is also an 'event.changed' webhook delivery
-- (rules/82_webhooks.sql).

-- The place as a change notice words it: the room, or 'online' (an
-- online event's, or one without a room); the mailer says "online" in
-- the registrant's language.
CREATE OR REPLACE FUNCTION eventbox.notice_place(p_format text, p_location text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE WHEN p_format = 'online' OR p_location = '' THEN 'online' ELSE p_location END $$;

-- The online link as a change notice keeps it: a digest, never the link
-- itself (mail_claim() adds that for confirmed seats only), to tell a
-- link put back as it was from a new one.
CREATE OR REPLACE FUNCTION eventbox.notice_link(p_url text)
RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT coalesce(encode(sha256(convert_to(p_url, 'UTF8')), 'hex'), 'none') $$;

-- What of a change notice's "before" (c) is news against the event as it
-- is now (n).  The instants, the format, the room and the link as
-- registrants knew them (was_starts_at, was_ends_at, was_format,
-- was_place, was_link: notice_link()) decide it, and set what the mailer
-- words: 'when' (the time before) while the time differs; 'format' (the
-- format before) while that differs; 'location' (the place before) while
-- the place differs, but not when the format changed to or from online
-- (the format says it); 'online_url' while the link differs.  A notice
-- queued before they were kept keeps all it says.  So a time, place or
-- link put back as it was says nothing of it, a hybrid event made
-- in-person in the same room says the format changed and not "the place
-- has changed" from the same room, and an online event's room, which
-- nobody is shown, is no news.
CREATE OR REPLACE FUNCTION eventbox.change_news(c jsonb, n eventbox.events)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    was_place text := notice_place(c ->> 'was_format', c ->> 'was_place');
    now_place text := notice_place(n.format, n.location);
BEGIN
    IF (c ->> 'was_starts_at')::timestamptz = n.starts_at
       AND (c ->> 'was_ends_at')::timestamptz = n.ends_at THEN
        c := c - ARRAY['when', 'was_start', 'was_end', 'was_tz', 'was_starts_at',
                       'was_ends_at'];
    END IF;
    IF c ? 'was_format' THEN
        c := c - ARRAY['location', 'format'];
        IF c ->> 'was_format' <> n.format THEN
            c := c || jsonb_build_object('format', c ->> 'was_format');
        END IF;
        IF was_place <> now_place
           AND NOT (c ? 'format' AND 'online' IN (was_place, now_place)) THEN
            c := c || jsonb_build_object('location', was_place);
        END IF;
        IF NOT c ?| ARRAY['location', 'format'] THEN
            c := c - ARRAY['was_format', 'was_place'];
        END IF;
    END IF;
    IF c ->> 'was_link' = notice_link(n.online_url) THEN
        c := c - ARRAY['online_url', 'was_link'];
    END IF;
    RETURN c;
END
$$;

-- A notice not yet sent (its changes, was) that takes in a new change c:
-- the oldest "before" of each kept (with the instants or the place that
-- come with it: a notice queued before they were kept takes none of
-- c's), and what is no longer news left out (change_news()).
CREATE OR REPLACE FUNCTION eventbox.merge_change(was jsonb, c jsonb, n eventbox.events)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT eventbox.change_news(
               c - CASE WHEN was ? 'when'
                        THEN ARRAY['was_starts_at', 'was_ends_at'] ELSE '{}' END
                 - CASE WHEN was ?| ARRAY['location', 'was_format']
                        THEN ARRAY['was_format', 'was_place', 'location', 'format']
                        ELSE '{}' END
                 - CASE WHEN was ? 'online_url' THEN ARRAY['was_link'] ELSE '{}' END
                 || was,
               n)
$$;

-- queue_change_notices: one 'event_changed' email per live registration of
-- the event, saying what changed from o; a new online link alone is told
-- to confirmed seats only (those waiting are never sent the link,
-- joining_url(), and "the link changed" told them nothing; mail_stale()
-- skips a waiting patron's notice left with only that to say).  A notice
-- not yet sent takes the new change in instead (keeping the oldest
-- "before"), so two quick edits
-- make one email; what the later edit put back as it was is no longer in
-- it (merge_change()), and a notice left with nothing to tell is
-- closed unsent, as mail_claim() closes a stale one (staff who moved an
-- event by mistake and moved it back at once mailed every registrant "the
-- time has changed" to the time they knew).  The online link itself never
-- goes in: mail_claim() adds it for confirmed seats only.  Returns how
-- many registrations it told.
CREATE OR REPLACE FUNCTION eventbox.queue_change_notices(o eventbox.events, n eventbox.events)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    c jsonb := '{}';
    merged bigint[];
    k integer;
    dropped integer;
BEGIN
    IF (o.starts_at, o.ends_at) IS DISTINCT FROM (n.starts_at, n.ends_at) THEN
        -- The text for English, the times for the mailer to word in the
        -- registrant's language (was_start, was_end: wall-clock in was_tz).
        c := c || jsonb_build_object('when', human_when(o.starts_at, o.ends_at, o.timezone),
                                     'was_start', ical_local(o.starts_at, o.timezone),
                                     'was_end', ical_local(o.ends_at, o.timezone),
                                     'was_tz', o.timezone,
                                     'was_starts_at', o.starts_at, 'was_ends_at', o.ends_at);
    END IF;
    IF (o.location, o.format) IS DISTINCT FROM (n.location, n.format) THEN
        c := c || jsonb_build_object('was_format', o.format, 'was_place', o.location);
    END IF;
    IF o.online_url IS DISTINCT FROM n.online_url THEN
        c := c || jsonb_build_object('online_url', true,
                                     'was_link', notice_link(o.online_url));
    END IF;
    c := change_news(c, n);
    IF NOT c ?| ARRAY['when', 'location', 'format', 'online_url'] THEN
        RETURN 0;
    END IF;
    WITH m AS (
        UPDATE outbox x SET changes = merge_change(x.changes, c, n)
         WHERE x.event_id = n.id AND x.kind = 'event_changed' AND x.status = 'pending'
           AND x.attempts = 0
        RETURNING x.id, x.registration_id, x.changes)
    SELECT coalesce(array_agg(registration_id), '{}') INTO merged FROM m;
    UPDATE outbox x
       SET status = 'sent', last_error = 'skipped', token = NULL, email = NULL, name = NULL
     WHERE x.event_id = n.id AND x.kind = 'event_changed' AND x.status = 'pending'
       AND x.attempts = 0 AND x.registration_id = ANY (merged)
       AND NOT (x.changes ?| ARRAY['when', 'location', 'format', 'online_url']);
    GET DIAGNOSTICS dropped = ROW_COUNT;
    INSERT INTO outbox (kind, registration_id, event_id, email, name, token, changes)
    SELECT 'event_changed', r.id, n.id, r.email, r.name, issue_token(r.id, p_keep_older => true), c
      FROM registrations r
     WHERE r.event_id = n.id AND r.status IN ('confirmed', 'waitlisted')
       AND (r.status = 'confirmed' OR c ?| ARRAY['when', 'location', 'format'])
       AND r.id <> ALL (merged)
     ORDER BY r.id;
    GET DIAGNOSTICS k = ROW_COUNT;
    RETURN k + cardinality(merged) - dropped;
END
$$;

-- The event e as registrants were last told of it: the time, place and
-- link kept in events_as_told (sql/026_moved_events.sql) while changes went
-- untold, taken out of it here; else e as it is.
CREATE OR REPLACE FUNCTION eventbox.take_as_told(e eventbox.events)
RETURNS eventbox.events
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    t events_as_told;
BEGIN
    DELETE FROM events_as_told WHERE event_id = e.id RETURNING * INTO t;
    IF t.event_id IS NOT NULL THEN
        e.starts_at := t.starts_at; e.ends_at := t.ends_at;
        e.timezone := t.timezone; e.location := t.location;
        e.format := t.format; e.online_url := t.online_url;
    END IF;
    RETURN e;
END
$$;

-- A seat counter's update (every registration) never gets here: the
-- trigger's WHEN is evaluated without any function call.  A change whose
-- new start is already past is not announced (a notice that arrives after
-- the start is useless, as a late waiting-list offer is): past events are
-- corrected quietly, and so is a start moved into the past by a typo.  Nor
-- is a change to a draft (an event unpublished to be reworked: nobody's to
-- read, its "Event page" link a 404).  The time, place and link
-- registrants were told before such a change wait in events_as_told, and
-- the next change that moves the start into the future, or keeps it there,
-- of a published event is announced against them, as is publishing the
-- draft again (events_told_on_publish below): a typo's correction, a snow
-- day's new date, a reworked draft tell registrants what changed from what
-- they knew.  A cancelled event has its own notice.
CREATE OR REPLACE FUNCTION eventbox.tg_event_calendar_change() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    told events := take_as_told(OLD);   -- the event as registrants know it
BEGIN
    NEW.ical_sequence := OLD.ical_sequence + 1;
    PERFORM queue_event_webhooks(OLD, NEW);
    IF NEW.status = 'cancelled' THEN
        NULL;
    -- By the clock, as promote_waiting() reads the start in the same
    -- UPDATE: now() is the transaction's start, and staff at psql who
    -- recorded in a transaction opened earlier that the event began a
    -- moment ago had every registrant told it moved to a time already past.
    ELSIF NEW.status = 'published' AND NEW.starts_at > clock_timestamp() THEN
        PERFORM queue_change_notices(told, NEW);
    ELSE
        INSERT INTO events_as_told (event_id, starts_at, ends_at, timezone, location, format,
                                    online_url)
        VALUES (OLD.id, told.starts_at, told.ends_at, told.timezone, told.location,
                told.format, told.online_url);
    END IF;
    RETURN NEW;
END
$$;

-- A draft published again tells its registrants what changed while it was
-- one, against what they were last told (a notice still queued from
-- before takes it in: queue_change_notices()); nothing when it is back as
-- they knew it, or when its start is past (kept for the next change, as
-- above).  A change made in the same UPDATE was told already (the calendar
-- trigger fires first, by name, and took the row).
CREATE OR REPLACE FUNCTION eventbox.tg_event_told_on_publish() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    IF NEW.starts_at > clock_timestamp()
       AND EXISTS (SELECT 1 FROM events_as_told t WHERE t.event_id = NEW.id) THEN
        PERFORM queue_change_notices(take_as_told(NEW), NEW);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER events_told_on_publish
    BEFORE UPDATE OF status ON eventbox.events
    FOR EACH ROW
    WHEN (OLD.status = 'draft' AND NEW.status = 'published')
    EXECUTE FUNCTION eventbox.tg_event_told_on_publish();

-- Named for the columns its WHEN compares, so that a counter update (every
-- registration's) does not compile that WHEN clause.
CREATE OR REPLACE TRIGGER events_calendar_change
    BEFORE UPDATE OF starts_at, ends_at, location, format, online_url, status
    ON eventbox.events
    FOR EACH ROW
    WHEN ((OLD.starts_at, OLD.ends_at, OLD.location, OLD.format, OLD.online_url)
              IS DISTINCT FROM (NEW.starts_at, NEW.ends_at, NEW.location, NEW.format,
                                NEW.online_url)
          OR (NEW.status = 'cancelled' AND OLD.status <> 'cancelled'))
    EXECUTE FUNCTION eventbox.tg_event_calendar_change();
