-- 028_audit_log_registration.sql: an index for the audit log's link to a
-- registration.
--
-- audit_log.registration_id references registrations ON DELETE SET NULL,
-- and nothing indexed it: each registration purge() deleted (500 a step)
-- made PostgreSQL look through the whole audit log for rows to set to
-- NULL.  On a database with 500,000 audit entries one step's DELETE of
-- 500 registrations took 21 s instead of 52 ms.  Only the entries that
-- name a registration are indexed: the others are never looked for.
CREATE INDEX audit_log_registration ON eventbox.audit_log (registration_id)
    WHERE registration_id IS NOT NULL;
