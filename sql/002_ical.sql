-- 002_ical.sql: what an iCalendar file needs from the time zone database.
--
-- Calendar programs get time zones wrong unless the file carries the zone's
-- rules itself (a VTIMEZONE).  PostgreSQL has the IANA database, so the
-- rules for the months around an event come from here: every UTC offset
-- change within 400 days either side, as one STANDARD or DAYLIGHT
-- component each.

CREATE FUNCTION eventbox.utc_offset(ts timestamptz, tz text) RETURNS interval
LANGUAGE sql STABLE STRICT
AS $$ SELECT (ts AT TIME ZONE tz) - (ts AT TIME ZONE 'UTC') $$;

CREATE FUNCTION eventbox.ical_offset(off interval) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$
    SELECT CASE WHEN off < interval '0' THEN '-' ELSE '+' END
        || to_char(abs(extract(epoch FROM off))::integer / 3600, 'FM00')
        || to_char(abs(extract(epoch FROM off))::integer % 3600 / 60, 'FM00')
$$;

-- The VTIMEZONE block for tz, CRLF-terminated lines, ready to embed.
CREATE FUNCTION eventbox.vtimezone(tz text, around timestamptz) RETURNS text
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    t       timestamptz := date_trunc('day', around) - interval '400 days';
    stop    timestamptz := around + interval '400 days';
    prev    interval := utc_offset(t, tz);
    nxt     interval;
    lo      timestamptz;
    hi      timestamptz;
    mid     timestamptz;
    comps   text := '';
BEGIN
    WHILE t < stop LOOP
        nxt := utc_offset(t + interval '1 day', tz);
        IF nxt <> prev THEN
            -- Bisect to the minute: lo has the old offset, hi the new.
            lo := t;
            hi := t + interval '1 day';
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
                || 'BEGIN:' || CASE WHEN nxt > prev THEN 'DAYLIGHT' ELSE 'STANDARD' END || E'\r\n'
                || 'DTSTART:' || to_char((hi AT TIME ZONE 'UTC') + prev,
                                         'YYYYMMDD"T"HH24MISS') || E'\r\n'
                || 'TZOFFSETFROM:' || ical_offset(prev) || E'\r\n'
                || 'TZOFFSETTO:' || ical_offset(nxt) || E'\r\n'
                || 'END:' || CASE WHEN nxt > prev THEN 'DAYLIGHT' ELSE 'STANDARD' END || E'\r\n';
            prev := nxt;
        END IF;
        t := t + interval '1 day';
    END LOOP;
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

-- Local wall-clock time in iCalendar's basic format, for DTSTART;TZID=...
CREATE FUNCTION eventbox.ical_local(ts timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$ SELECT to_char(ts AT TIME ZONE tz, 'YYYYMMDD"T"HH24MISS') $$;

CREATE FUNCTION eventbox.ical_utc(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"') $$;

REVOKE ALL ON FUNCTION eventbox.utc_offset(timestamptz, text),
                       eventbox.ical_offset(interval),
                       eventbox.vtimezone(text, timestamptz),
                       eventbox.ical_local(timestamptz, text),
                       eventbox.ical_utc(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION eventbox.utc_offset(timestamptz, text),
                          eventbox.ical_offset(interval),
                          eventbox.vtimezone(text, timestamptz),
                          eventbox.ical_local(timestamptz, text),
                          eventbox.ical_utc(timestamptz)
   TO eventbox_service, eventbox_ops;
