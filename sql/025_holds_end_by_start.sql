-- 025_holds_end_by_start.sql: no hold outlives its event's start.
--
-- A hold ends at the start at the latest (hold_ends(),
-- sql/rules/15_holds.sql), but until the trigger holds_end_by_start
-- (sql/rules/55_holds.sql) a start that staff moved earlier left the holds
-- taken before it as they were: their addresses could still confirm, and
-- join, after the event had begun.  The holds stored so far end at their
-- event's start here, once; the trigger keeps it so from then on.  A held
-- place stays held (the counters do not move), and the next expiry
-- releases those whose start has passed.
UPDATE eventbox.registrations r
   SET held_until = e.starts_at
  FROM eventbox.events e
 WHERE e.id = r.event_id AND r.held_until > e.starts_at;
