-- 027_old_release_repairs.sql: what two older migrations left behind in
-- some databases.
--
-- outbox.reminder_for came into 027_moved_events.sql (now 026) a release
-- after that file was first applied: a database migrated by the release
-- that added the file recorded it without the column, and no later
-- release could apply the rules that read it (80_mail.sql failed).  Here it
-- is added where it is missing, and the reminder index made as 026 makes
-- it (a database that had the column already gets the same index again).
ALTER TABLE eventbox.outbox ADD COLUMN IF NOT EXISTS reminder_for timestamptz;
DROP INDEX IF EXISTS eventbox.outbox_one_reminder;
CREATE UNIQUE INDEX outbox_one_reminder
    ON eventbox.outbox (registration_id, reminder_for)
    WHERE kind = 'reminder' AND last_error IS DISTINCT FROM 'skipped';

-- 020_held_counts.sql counted the held places of each event with an UPDATE
-- of events that the release being upgraded still audited (its audit
-- trigger fired on any column): every event with a held place got an
-- 'event_updated' entry, "by" the migrating role via SQL, changing only its
-- held counters, an edit nobody made (021 and 022 turn the triggers off
-- for that reason).  No such entry can be made otherwise: only the counter
-- trigger moves those counters (counters_are_derived), and the audit
-- trigger is not named for them.  They are deleted.
DELETE FROM eventbox.audit_log
 WHERE action = 'event_updated'
   AND details <> '{}'
   AND details - '{held_confirmed_count,held_waitlisted_count,was}'::text[] = '{}'
   AND coalesce(details -> 'was', '{}')
       - '{held_confirmed_count,held_waitlisted_count}'::text[] = '{}';
