-- 010_rules.sql: the rule files' record, and the registrant field limits as
-- domains.
--
-- From here on every function, trigger, view and grant has one definition,
-- in sql/rules/*.sql, which `eventbox migrate` re-applies in one transaction
-- whenever the files changed (their SHA-256 is recorded below).  Numbered
-- migrations keep what holds data.

CREATE TABLE eventbox.rules_applied (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    checksum    text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    files       integer NOT NULL CHECK (files >= 0),
    applied_at  timestamptz NOT NULL DEFAULT now()
);

------------------------------------------------------------------------------
-- The limits on what a registrant gives, in one place.  The columns were
-- text with a CHECK each, and register() typed the same numbers again to
-- answer invalid_name / invalid_email / invalid_organization before taking
-- any lock; now register() asks these domains (registrant_error() in
-- sql/rules/50_register.sql).  The service's own checks (src/validate.c)
-- are the door; these are the walls.

CREATE DOMAIN eventbox.person_name AS text
    CONSTRAINT person_name_limits
    CHECK (length(VALUE) BETWEEN 1 AND 200 AND VALUE !~ '[[:cntrl:]]');

-- register() also wants a dot in the domain part; the column takes any
-- address a mail server could have (staff enter some by hand).
CREATE DOMAIN eventbox.email_address AS text
    CONSTRAINT email_address_limits
    CHECK (length(VALUE) BETWEEN 3 AND 254
           AND VALUE ~ '^[^[:space:][:cntrl:]@]+@[^[:space:][:cntrl:]@]+$');

CREATE DOMAIN eventbox.library_name AS text
    CONSTRAINT library_name_limits
    CHECK (length(VALUE) <= 200 AND VALUE !~ '[[:cntrl:]]');

-- A column used by a view cannot change its type: the two rosters (and
-- admin_roster(), which returns staff_roster's rows) go, and the rule files
-- put them back in the same `eventbox migrate` run, with their grants.  The
-- conversion checks every row against the domain (the same rules as the
-- CHECKs it replaces, so nothing already stored fails) and rewrites the
-- table once.
DROP FUNCTION IF EXISTS eventbox.admin_roster(text, text);
DROP VIEW IF EXISTS eventbox.roster, eventbox.staff_roster;

ALTER TABLE eventbox.registrations
    DROP CONSTRAINT registrations_name_check,
    DROP CONSTRAINT registrations_email_check,
    DROP CONSTRAINT registrations_organization_check,
    ALTER COLUMN name TYPE eventbox.person_name,
    ALTER COLUMN email TYPE eventbox.email_address,
    ALTER COLUMN organization TYPE eventbox.library_name;
