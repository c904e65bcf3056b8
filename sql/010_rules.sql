-- 010_rules.sql: the rule files' record, and the registrant field limits
-- in one place.
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
-- What a registrant gives: name, email, member library.  The columns' CHECKs
-- typed the limits (200, 254) and register() typed them again to answer
-- invalid_name / invalid_email / invalid_organization before taking any
-- lock.  Now each limit is one predicate, which the column's CHECK (same
-- constraint name as before) and register() (registrant_error() in
-- sql/rules/50_register.sql) both call.  Like is_valid_timezone() in 001,
-- these belong with the table: a CHECK calls them, so they exist before any
-- rule file does.  Plain SQL expressions, not STRICT: the planner inlines
-- them into the CHECK and into register().  NULL passes, as in any CHECK;
-- the columns that need a value are NOT NULL.

CREATE FUNCTION eventbox.is_person_name(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT length(v) BETWEEN 1 AND 200 AND v !~ '[[:cntrl:]]' $$;

-- Any address a mail server could have (staff enter some by hand);
-- register() also wants a dot in the domain part.
CREATE FUNCTION eventbox.is_email_address(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
    SELECT length(v) BETWEEN 3 AND 254
           AND v ~ '^[^[:space:][:cntrl:]@]+@[^[:space:][:cntrl:]@]+$'
$$;

CREATE FUNCTION eventbox.is_library_name(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT length(v) <= 200 AND v !~ '[[:cntrl:]]' $$;

-- The same rules as the CHECKs they replace, so no stored row fails them.
ALTER TABLE eventbox.registrations
    DROP CONSTRAINT registrations_name_check,
    ADD CONSTRAINT registrations_name_check CHECK (eventbox.is_person_name(name)),
    DROP CONSTRAINT registrations_email_check,
    ADD CONSTRAINT registrations_email_check CHECK (eventbox.is_email_address(email)),
    DROP CONSTRAINT registrations_organization_check,
    ADD CONSTRAINT registrations_organization_check
        CHECK (eventbox.is_library_name(organization));
