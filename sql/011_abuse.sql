-- 011_abuse.sql: what only the definer knows, texts that reach mail headers
-- and calendar lines, and member domains that are whole domains.

------------------------------------------------------------------------------
-- A secret only the database owner (and so its SECURITY DEFINER functions)
-- can read.  The staff functions mark "this transaction's changes are
-- audited by me" with a value derived from it and the transaction id
-- (audit_mark() in rules/40_staff.sql); a session that sets the setting by
-- hand cannot forge it, so it cannot skip the audit log or the follow-up
-- (promotion, notices) of its own UPDATEs.  Before, any session could set
-- eventbox.audited = 'on'.  (No role is granted anything on this table.)
CREATE TABLE eventbox.definer_secret (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    secret      bytea NOT NULL CHECK (length(secret) >= 32)
);
INSERT INTO eventbox.definer_secret (secret)
VALUES (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));

------------------------------------------------------------------------------
-- Titles, locations and presenters go into Subject: lines, .ics lines and
-- page titles.  A line break there once made the mailer refuse every message
-- of the event; now the database refuses the text where it is written
-- (psql gets a check_violation, the API a 422 from save_event).  Rows
-- stored before keep their words: control characters become spaces.
UPDATE eventbox.events
   SET title = regexp_replace(title, '[[:cntrl:]]+', ' ', 'g')
 WHERE title ~ '[[:cntrl:]]';
UPDATE eventbox.events
   SET location = regexp_replace(location, '[[:cntrl:]]+', ' ', 'g')
 WHERE location ~ '[[:cntrl:]]';
UPDATE eventbox.events
   SET presenter = regexp_replace(presenter, '[[:cntrl:]]+', ' ', 'g')
 WHERE presenter ~ '[[:cntrl:]]';
ALTER TABLE eventbox.events
    ADD CONSTRAINT events_title_one_line CHECK (title !~ '[[:cntrl:]]'),
    ADD CONSTRAINT events_location_one_line CHECK (location !~ '[[:cntrl:]]'),
    ADD CONSTRAINT events_presenter_one_line CHECK (presenter !~ '[[:cntrl:]]');

------------------------------------------------------------------------------
-- Member domains are whole, lower-case domain names with at least one dot:
-- member_of() matches an address's domain to an entry or to a subdomain of
-- it, literally.  Before, it matched with LIKE, so '_' was a wildcard, and
-- an entry 'org' admitted every .org address.  A database with an entry
-- that is no such name keeps it (the constraint is then left NOT VALID;
-- staff see it with \d) but gets no new one.
ALTER TABLE eventbox.organizations
    ADD CONSTRAINT organizations_domains_whole CHECK (
        cardinality(domains) = 0
        OR array_to_string(domains, ',', '') ~
           '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(,[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+)*$')
    NOT VALID;
DO $$
BEGIN
    ALTER TABLE eventbox.organizations VALIDATE CONSTRAINT organizations_domains_whole;
EXCEPTION WHEN check_violation THEN
    RAISE WARNING 'organizations: some member domains are not whole domain names; '
                  'fix them, then VALIDATE CONSTRAINT organizations_domains_whole';
END
$$;
