-- 007_timezone_check.sql: the time zone check moves from a CHECK constraint
-- to triggers that run only when the zone is set.
--
-- PostgreSQL evaluates every CHECK constraint of a row on every UPDATE, and
-- events_timezone_check calls is_valid_timezone(), which reads the whole
-- time zone database through pg_timezone_names: 20-60 ms on this machine.
-- The counter trigger updates the event row on every registration, under
-- the event's row lock, so each registration held the hot event's lock for
-- that long (make bench measured ~35 registrations/s on one event; without
-- it, over a thousand).  The rule is unchanged: an invalid zone is refused
-- on INSERT and whenever UPDATE changes it, with the same SQLSTATE (23514)
-- and constraint name as before.

CREATE FUNCTION eventbox.tg_valid_timezone() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    IF NOT is_valid_timezone(NEW.timezone) THEN
        RAISE EXCEPTION 'new row for relation "events" violates check constraint "events_timezone_check"'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'events_timezone_check',
                  SCHEMA = 'eventbox', TABLE = 'events', COLUMN = 'timezone',
                  DETAIL = format('%L is not a time zone PostgreSQL knows', NEW.timezone);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_valid_timezone_insert
    BEFORE INSERT ON eventbox.events
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_valid_timezone();

CREATE TRIGGER events_valid_timezone_update
    BEFORE UPDATE OF timezone ON eventbox.events
    FOR EACH ROW WHEN (NEW.timezone IS DISTINCT FROM OLD.timezone)
    EXECUTE FUNCTION eventbox.tg_valid_timezone();

ALTER TABLE eventbox.events DROP CONSTRAINT events_timezone_check;
