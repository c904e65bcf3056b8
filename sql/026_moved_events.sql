-- 026_moved_events.sql: what registrants were last told of an event that
-- moved without a notice, and which start a reminder was for.
--
-- A change whose new start is already past is not announced (a notice
-- that arrives after the start is useless): a typo that put the start in
-- the past, or an event whose day passed without it being held.  Until
-- now the change that corrected it, back into the future, was not
-- announced either (its old start was past), and registrants kept the
-- date they had been told.  The trigger events_calendar_change
-- (sql/rules/72_notices.sql) keeps here, for such an event, the time,
-- place and link registrants were last told, and the next change it
-- announces says what changed from those; the row goes with the notice,
-- or with the event's cancellation.  No personal data: nothing to purge.
CREATE TABLE eventbox.events_as_told (
    event_id bigint PRIMARY KEY REFERENCES eventbox.events (id) ON DELETE CASCADE,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    timezone text NOT NULL,
    location text NOT NULL,
    format text NOT NULL,
    online_url text
);

-- A reminder went out once per registration, ever (003_mail.sql): one
-- skipped because the address was not yet confirmed, or made for a start
-- that staff then postponed, left the patron without any reminder before
-- the start in force (or with a "starts soon" days early).  A reminder now
-- records the start it was queued for: mail_stale() drops it when the
-- event starts at another time, and queue_reminders() queues one for the
-- new start (sql/rules/80_mail.sql).  Still never two for one start, and a
-- skipped one does not count.  Reminders queued before this have none
-- (NULL): they count for whatever start, as they did.
ALTER TABLE eventbox.outbox ADD COLUMN reminder_for timestamptz;
DROP INDEX eventbox.outbox_one_reminder;
CREATE UNIQUE INDEX outbox_one_reminder
    ON eventbox.outbox (registration_id, reminder_for)
    WHERE kind = 'reminder' AND last_error IS DISTINCT FROM 'skipped';
