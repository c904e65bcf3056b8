-- 020_held_counts.sql: how many of an event's seats and waiting places are
-- held until their address confirms (012_holds.sql), kept on the event's row
-- beside the other counters instead of counted on every read.
--
-- The public's seat figures (public_seats(), public_waiting():
-- sql/rules/15_holds.sql) count held seats as free.  They counted them with
-- a query on registrations, through a SECURITY DEFINER function (the
-- public's role reads no table), on every read of an event: a fifth of
-- PostgreSQL's work for GET /api/v1/events/{slug} (docs/PERFORMANCE.md,
-- "Where a GET's time goes").  The counter trigger (tg_registration_counts,
-- sql/rules/10_seats.sql) now moves these two with the others, in the same
-- UPDATE of the event's row, whenever a registration is inserted, deleted,
-- or changes its status or its hold; like the others, nothing else may move
-- them (counters_are_derived).
--
-- Rows already stored are counted here once.  Until the rules' commit (the
-- next transaction of the same `eventbox migrate`) the old rules read
-- nothing from these columns.
ALTER TABLE eventbox.events
    ADD COLUMN held_confirmed_count integer NOT NULL DEFAULT 0,
    ADD COLUMN held_waitlisted_count integer NOT NULL DEFAULT 0;

UPDATE eventbox.events e
   SET held_confirmed_count = h.confirmed, held_waitlisted_count = h.waitlisted
  FROM (SELECT event_id,
               count(*) FILTER (WHERE status = 'confirmed')::integer AS confirmed,
               count(*) FILTER (WHERE status = 'waitlisted')::integer AS waitlisted
          FROM eventbox.registrations
         WHERE held_until IS NOT NULL
         GROUP BY event_id) h
 WHERE h.event_id = e.id;
