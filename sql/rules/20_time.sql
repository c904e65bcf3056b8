-- rules/20_time.sql: time as every output shows it.
--
-- RFC 3339 in UTC, and local time in the event's zone with its offset
-- ("2026-12-10T14:00:00-05:00") for the API and the pages; iCalendar's
-- forms and VTIMEZONE for .ics files and the mails; the wording of the
-- mails; and parse_time() for what staff type.

-- The time zones an event may have: the name of a place's zone (or UTC,
-- or one of the old aliases such as US/Eastern or EST5EDT) in the IANA
-- database, as calendar programs know it.  Not the other names in
-- pg_timezone_names, which are files of the database as installed, not
-- zones: "localtime" follows the server's own clock setting (an event
-- would move when the server's zone was changed), "posixrules" is the
-- default rule file of the POSIX TZ strings, "Factory" the placeholder
-- zone of an unset clock ("-00", "Local time zone must be set"), and
-- "posix/..." and "right/..." copies of the database for other clocks
-- (right/ counts leap seconds: 27 seconds off).  A calendar program knows
-- none of them as a TZID.  The names are looked up in a table
-- (eventbox.timezone_names, filled from pg_timezone_names at install:
-- sql/001_core.sql says why); a name not in it (a newer time zone
-- database) gets the full look-up.  sql/001_core.sql created the first
-- version, which took every name; sql/029_event_time_zones.sql mapped
-- the stored ones that have a place's equivalent (docs/OPS.md).
CREATE OR REPLACE FUNCTION eventbox.is_valid_timezone(tz text) RETURNS boolean
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT tz NOT IN ('localtime', 'posixrules', 'Factory')
       AND tz !~ '^(posix|right)/'
       AND (EXISTS (SELECT 1 FROM eventbox.timezone_names WHERE name = tz)
            OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz))
$$;

CREATE OR REPLACE FUNCTION eventbox.iso_utc(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

-- One expression, so the planner inlines it: a version that selected FROM a
-- subquery could not be inlined and was planned anew on every call (every
-- event read calls it twice; make bench measured the event query at ~8,500/s
-- with that and ~26,000/s with this).  The same text for every zone as the
-- subquery form (tests/test_sql_speed.py checks all of pg_timezone_names).
-- No CASE: it would stop a STRICT function from being inlined.
-- The offset is the local time's epoch less the instant's, in seconds (a
-- timestamp without zone counts its epoch as if in UTC): one zone
-- conversion per use and double arithmetic, where the earlier form took
-- seven conversions and numeric arithmetic (59,000 instructions a call
-- against 37,000, counted with bench/backend_instructions.sh; two per
-- event read).  round(): the two epochs share the instant's fraction of a
-- second, which their difference in double precision may not cancel
-- exactly.
CREATE OR REPLACE FUNCTION eventbox.iso_local(ts timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$
    SELECT to_char(ts AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
        || substr('+-', (date_part('epoch', ts AT TIME ZONE tz) < date_part('epoch', ts))::integer
                        + 1, 1)
        || to_char(timestamp 'epoch'
                   + abs(round(date_part('epoch', ts AT TIME ZONE tz) - date_part('epoch', ts)))
                     * interval '1 second', 'HH24:MI')
$$;

------------------------------------------------------------------------------
-- What an iCalendar file needs from the time zone database.
--
-- Calendar programs get time zones wrong unless the file carries the zone's
-- rules itself (a VTIMEZONE).  PostgreSQL has the IANA database, so the
-- rules for the months around a file's events come from here: every UTC
-- offset change within 400 days either side of each time the file shows,
-- as one STANDARD or DAYLIGHT component each.

CREATE OR REPLACE FUNCTION eventbox.utc_offset(ts timestamptz, tz text) RETURNS interval
LANGUAGE sql STABLE STRICT
AS $$ SELECT (ts AT TIME ZONE tz) - (ts AT TIME ZONE 'UTC') $$;

-- Neither STRICT nor IMMUTABLE, so that it is inlined (human_zone() below
-- says why): to_char() is STABLE, and PostgreSQL does not inline an
-- IMMUTABLE function whose body is not.
CREATE OR REPLACE FUNCTION eventbox.ical_offset(off interval) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN off < interval '0' THEN '-' ELSE '+' END
        || to_char(abs(extract(epoch FROM off))::integer / 3600, 'FM00')
        || to_char(abs(extract(epoch FROM off))::integer % 3600 / 60, 'FM00')
$$;

-- The VTIMEZONE block for tz, CRLF-terminated lines, ready to embed in a
-- file that shows `times` in tz: one event's start and end, or every start
-- and end of a feed's events in that zone; NULL when it holds none.  A
-- calendar program gives a local time the offset of the last change
-- listed before it, so every time shown needs the changes around it:
-- when a feed's VTIMEZONE came from its first event of a zone only,
-- ical.js read an event in July 2028 in New York as 19:00Z, not 18:00Z, in
-- a feed whose first New York event was in December 2026
-- (tests/test_feeds.py).
-- It lists every change from midnight 400 days before each time to the
-- first midnight 400 days after it.  It looks at the offset a week apart
-- and bisects each week whose two ends differ: a week, not a day, because
-- no zone changes its clocks twice within one (in the whole IANA database
-- from 2015 to 2032 the shortest gap is 28 days: Pacific/Fiji, then
-- Casablanca's 35), and it is a fifth of the work (measured) for each .ics
-- and each batch of mails.  Between two times more than 800 days apart it
-- takes one step over the gap, not a week at a time: the work stays about
-- 115 looks for each cluster of events, where walking the whole span took
-- 1.5 s (measured) for a feed with one event typed into the year 2999.  A
-- change found in a gap leads to the offset the next stretch starts with;
-- the file shows no time in between.
-- tests/test_sql_speed.py holds it to a walk a day at a time for every
-- zone.
-- (The form with one instant, `around`, below, stays for the workers of
-- the release before, which call it until the upgrade restarts them.)
CREATE OR REPLACE FUNCTION eventbox.vtimezone(tz text, times timestamptz[]) RETURNS text
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    ts      timestamptz;
    t       timestamptz;            -- how far the walk has looked
    near    timestamptz;            -- where this time's stretch begins
    stop    timestamptz;            -- where the stretch walked ends
    step    timestamptz;
    prev    interval;
    nxt     interval;
    lo      timestamptz;
    hi      timestamptz;
    mid     timestamptz;
    comps   text := '';
BEGIN
    FOR ts IN SELECT x FROM unnest(times) x WHERE x IS NOT NULL ORDER BY x LOOP
        near := date_trunc('day', ts) - interval '400 days';
        IF t IS NULL THEN
            t := near;
            stop := near;
            prev := utc_offset(t, tz);
        END IF;
        IF stop < ts + interval '400 days' THEN
            stop := date_trunc('day', ts + interval '400 days');
            IF stop < ts + interval '400 days' THEN
                stop := stop + interval '1 day';
            END IF;
        END IF;
        WHILE t < stop LOOP
            step := CASE WHEN t < near THEN near    -- over the gap
                         ELSE least(t + interval '7 days', stop) END;
            nxt := utc_offset(step, tz);
            IF nxt <> prev THEN
                -- Bisect to the minute: lo has the old offset, hi the new.
                lo := t;
                hi := step;
                WHILE hi - lo > interval '1 minute' LOOP
                    mid := lo + (hi - lo) / 2;
                    IF utc_offset(mid, tz) = prev THEN lo := mid; ELSE hi := mid; END IF;
                END LOOP;
                IF utc_offset(date_trunc('minute', hi), tz) = nxt THEN
                    hi := date_trunc('minute', hi);
                ELSE
                    hi := date_trunc('minute', hi) + interval '1 minute';
                END IF;
                comps := comps
                    || 'BEGIN:' || CASE WHEN nxt > prev THEN 'DAYLIGHT' ELSE 'STANDARD' END
                    || E'\r\n'
                    || 'DTSTART:' || to_char((hi AT TIME ZONE 'UTC') + prev,
                                             'YYYYMMDD"T"HH24MISS') || E'\r\n'
                    || 'TZOFFSETFROM:' || ical_offset(prev) || E'\r\n'
                    || 'TZOFFSETTO:' || ical_offset(nxt) || E'\r\n'
                    || 'END:' || CASE WHEN nxt > prev THEN 'DAYLIGHT' ELSE 'STANDARD' END
                    || E'\r\n';
                prev := nxt;
            END IF;
            t := step;
        END LOOP;
    END LOOP;
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    IF comps = '' THEN
        -- A zone without changes: one standard time from the epoch.
        comps := 'BEGIN:STANDARD' || E'\r\n' || 'DTSTART:19700101T000000' || E'\r\n'
              || 'TZOFFSETFROM:' || ical_offset(prev) || E'\r\n'
              || 'TZOFFSETTO:' || ical_offset(prev) || E'\r\n'
              || 'END:STANDARD' || E'\r\n';
    END IF;
    RETURN 'BEGIN:VTIMEZONE' || E'\r\n' || 'TZID:' || tz || E'\r\n' || comps
        || 'END:VTIMEZONE' || E'\r\n';
END
$$;

-- The form of the release before, one instant: the workers and mailer it
-- left running call it between `eventbox migrate` and their restart (two
-- web hosts restart one at a time), and their calendar files would fail
-- without it.  The same answer as the list of that one instant.
CREATE OR REPLACE FUNCTION eventbox.vtimezone(tz text, around timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$ SELECT eventbox.vtimezone(tz, ARRAY[around]) $$;

-- Local wall-clock time in iCalendar's basic format, for DTSTART;TZID=...
CREATE OR REPLACE FUNCTION eventbox.ical_local(ts timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$ SELECT to_char(ts AT TIME ZONE tz, 'YYYYMMDD"T"HH24MISS') $$;

CREATE OR REPLACE FUNCTION eventbox.ical_utc(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"') $$;

-- ical_utc(ts) when ts is the second time its wall-clock time in tz comes
-- round (the hour the clocks go back), else NULL.  A calendar reads
-- DTSTART;TZID=tz: with such a time as the first of the two (RFC 5545
-- 3.3.5, as parse_time() below reads what staff type), so the local time
-- put an event at the second 1:30am an hour early, and one from 12:30am
-- to the second 1:30am an hour short (tests/test_feeds.py): only a UTC
-- time says the second, and src/ical.c writes this one instead.  It is
-- the second when the time less the clocks' step back since a day before
-- (no zone changes them twice in a day) shows the same wall-clock time.
-- One expression, not STRICT, so that it is inlined (iso_local() says why).
CREATE OR REPLACE FUNCTION eventbox.ical_repeated(ts timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN eventbox.utc_offset(ts - interval '1 day', tz) > eventbox.utc_offset(ts, tz)
                 AND (ts + eventbox.utc_offset(ts, tz)
                      - eventbox.utc_offset(ts - interval '1 day', tz)) AT TIME ZONE tz
                     = ts AT TIME ZONE tz
                THEN eventbox.ical_utc(ts) END
$$;

------------------------------------------------------------------------------
-- The wording of the mails.

-- "Wednesday, December 16, 2026, 2:00pm to 3:00pm Eastern Time", as the pages
-- word it (src/page_layout.c, page_when()).
-- Neither this nor human_when() is STRICT, nor has a FROM: PostgreSQL
-- inlines a SQL function only then (a NULL argument still gives NULL), and
-- the mailer words every message with them; run through the function
-- executor, human_when() cost 261,000 instructions a message, inlined
-- 27,000 (docs/PERFORMANCE.md, "The mailer").
CREATE OR REPLACE FUNCTION eventbox.human_zone(tz text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE tz
        WHEN 'America/New_York' THEN 'Eastern Time'
        WHEN 'America/Detroit' THEN 'Eastern Time'
        WHEN 'America/Chicago' THEN 'Central Time'
        WHEN 'America/Denver' THEN 'Mountain Time'
        WHEN 'America/Phoenix' THEN 'Mountain Time (Arizona)'
        WHEN 'America/Los_Angeles' THEN 'Pacific Time'
        WHEN 'America/Anchorage' THEN 'Alaska Time'
        WHEN 'Pacific/Honolulu' THEN 'Hawaii Time'
        ELSE replace(tz, '_', ' ') || ' time'
    END
$$;

CREATE OR REPLACE FUNCTION eventbox.human_when(starts timestamptz, ends timestamptz, tz text)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT to_char(starts AT TIME ZONE tz, 'FMDay, FMMonth FMDD, YYYY, ')
        || lower(to_char(starts AT TIME ZONE tz, 'FMHH12:MIam')) || ' to '
        || CASE WHEN (starts AT TIME ZONE tz)::date = (ends AT TIME ZONE tz)::date THEN ''
                ELSE to_char(ends AT TIME ZONE tz, 'FMDay, FMMonth FMDD, YYYY, ') END
        || lower(to_char(ends AT TIME ZONE tz, 'FMHH12:MIam')) || ' ' || eventbox.human_zone(tz)
$$;

------------------------------------------------------------------------------
-- What staff type.

-- A time given without a UTC offset is wall-clock time in the event's zone.
-- A wall-clock time the clocks pass twice (the hour they go back) is the
-- first of the two, as RFC 5545 reads a calendar's DTSTART with a TZID, so
-- that the event's .ics and its stored time agree (PostgreSQL picks the
-- second); one the clocks skip is read with the offset before the gap, as
-- both do.
CREATE OR REPLACE FUNCTION eventbox.parse_time(p text, tz text) RETURNS timestamptz
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v timestamp;
    t timestamptz;
    earlier timestamptz;
BEGIN
    IF p IS NULL THEN
        RETURN NULL;
    END IF;
    IF p !~ '^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)?$' THEN
        RAISE EXCEPTION 'bad time' USING ERRCODE = 'invalid_datetime_format';
    END IF;
    IF p ~ '(Z|[+-]\d\d(:?\d\d)?)$' THEN
        RETURN p::timestamptz;
    END IF;
    v := p::timestamp;
    t := v AT TIME ZONE tz;
    earlier := (v - eventbox.utc_offset(t - interval '1 day', tz)) AT TIME ZONE 'UTC';
    IF earlier < t AND earlier AT TIME ZONE tz = v THEN
        RETURN earlier;
    END IF;
    RETURN t;
END
$$;
