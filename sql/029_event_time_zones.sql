-- 029_event_time_zones.sql: the events whose time zone is a name of the
-- time zone database as installed, not a place's zone.
--
-- is_valid_timezone() took every name of pg_timezone_names, which lists the
-- files of the installed database: "localtime" (the server's own clock
-- setting), "posixrules", "Factory" and "posix/..." besides the zones.  It
-- now takes a place's zone only (sql/rules/20_time.sql).  An event that
-- holds one of the others is given the zone with the same clock, where
-- there is one, so that it shows every time it showed and its .ics names a
-- zone calendar programs know:
--   posix/America/Chicago  America/Chicago   (the same rules, built for
--                                              POSIX clocks)
--   posixrules             America/New_York  (what tzdata and PostgreSQL's
--                                              own copy make it)
--   Factory                UTC               (offset 0 at every time)
-- "localtime" has no such equivalent in the database (it is whatever the
-- server's zone is), and is left as it is: its event keeps working, and
-- the next change to it must name its zone (docs/OPS.md).  The times
-- themselves (timestamptz) do not change.
--
-- With the table's own triggers off, as 021 did: an older release's audit
-- trigger would log this as an edit by the migrating role, and its
-- calendar trigger would send a new sequence for times that did not move.
ALTER TABLE eventbox.events DISABLE TRIGGER USER;
UPDATE eventbox.events
   SET timezone = CASE WHEN timezone = 'posixrules' THEN 'America/New_York'
                       WHEN timezone = 'Factory' THEN 'UTC'
                       ELSE substr(timezone, length('posix/') + 1) END
 WHERE timezone IN ('posixrules', 'Factory')
    OR (timezone LIKE 'posix/%'
        AND substr(timezone, length('posix/') + 1) IN (SELECT name FROM pg_timezone_names));
ALTER TABLE eventbox.events ENABLE TRIGGER USER;
