-- rules/12_row_checks.sql: what a row of events, registrations, outbox and
-- tokens may hold, checked when the row is written.
--
-- These were CHECK constraints until sql/019_row_checks.sql: PostgreSQL
-- compiles every CHECK of a table again for every statement that writes to
-- it, and a registration writes to all four (the event row through its
-- counters).  A PL/pgSQL trigger's expressions are compiled once per
-- session.  Each rule below is its old CHECK's expression, verbatim, under
-- the same name; a row fails it when the expression is false (a NULL
-- passes, as with a CHECK), with the error a CHECK gives: SQLSTATE 23514
-- (check_violation) and the constraint's name (PG_DIAG_CONSTRAINT_NAME),
-- never the row itself, which may hold a patron's address.
--
-- The seat invariants (seats_never_oversold, waitlist_never_overfull, the
-- counters >= 0) stay CHECKs on events: sql/001_core.sql.
--
-- BEFORE triggers fire in name order: each of these fires after every
-- BEFORE trigger of its table that changes a column it checks
-- (events_calendar_change, hold_ends_with_registration), so it sees the
-- row as it will be stored.

-- The error a CHECK constraint named p_rule on p_table gives, and for the
-- rules staff meet at a psql prompt a HINT saying what to do instead.
-- Granted to every role that writes rows (sql/rules/90_grants.sql): it
-- runs as the writer.
DROP FUNCTION IF EXISTS eventbox.refuse_row(text, text);
CREATE OR REPLACE FUNCTION eventbox.refuse_row(p_table text, p_rule text, p_hint text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_hint IS NULL THEN
        RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', p_table, p_rule
            USING ERRCODE = 'check_violation', CONSTRAINT = p_rule,
                  SCHEMA = 'eventbox', TABLE = p_table;
    END IF;
    RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', p_table, p_rule
        USING ERRCODE = 'check_violation', CONSTRAINT = p_rule,
              SCHEMA = 'eventbox', TABLE = p_table, HINT = p_hint;
END
$$;

-- The error a DELETE of a row that registrations name gets (their foreign
-- key p_fkey would refuse it, naming only itself), with what to do
-- instead.  Granted and run as refuse_row().
CREATE OR REPLACE FUNCTION eventbox.refuse_delete(p_what text, p_fkey text, p_hint text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '% has registrations and cannot be deleted', p_what
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = p_fkey,
              SCHEMA = 'eventbox', TABLE = 'registrations', HINT = p_hint;
END
$$;

-- The times an event may have: four-digit years in every zone, nothing
-- before the calendars' own epoch (an .ics VTIMEZONE starts in 1970).
-- save_event() names the field; the row rule events_times_in_range holds
-- plain SQL to it.
CREATE OR REPLACE FUNCTION eventbox.time_in_range(p_at timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT p_at BETWEEN '1970-01-02 00:00+00' AND '9998-12-31 00:00+00' $$;

-- A language as a BCP 47 tag: its primary subtag, and at most one more
-- (a region, a script) after a hyphen or, as gettext writes it, an
-- underscore: 'en', 'es', 'es-MX', 'pt_BR'.  The registrant's language
-- (registrations_language_check, 018_language.sql) and the event's
-- (events_language_check, 030_event_language.sql), one rule for both.
CREATE OR REPLACE FUNCTION eventbox.is_language_tag(p_tag text) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT p_tag ~ '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$' $$;

-- is_ascii: whether p_text holds nothing beyond ASCII, as a registration's
-- address is stored and mailed (registrations_email_ascii below; the
-- registrant_error() of rules/50_register.sql).
CREATE OR REPLACE FUNCTION eventbox.is_ascii(p_text text) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT p_text !~ '[^\x01-\x7f]' $$;

-- not_text: whether p_text holds what validate.c's text_valid() refuses in
-- a name beyond the C0 controls and U+2028/9: a C1 control (U+009B is the
-- escape's one-character CSI to a terminal), a bidirectional embedding,
-- override or isolate, a noncharacter (U+FFFE and its kin: valid UTF-8 but
-- no text, which XML has no place for).  The answers' rule (answer_errors(),
-- rules/78_questions.sql).
CREATE OR REPLACE FUNCTION eventbox.not_text(p_text text) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
    SELECT p_text ~ ('[\u0080-\u009F\u202A-\u202E\u2066-\u2069\uFDD0-\uFDEF\uFFFE\uFFFF'
                 '\U0001FFFE-\U0001FFFF\U0002FFFE-\U0002FFFF\U0003FFFE-\U0003FFFF\U0004FFFE-\U0004FFFF'
                 '\U0005FFFE-\U0005FFFF\U0006FFFE-\U0006FFFF\U0007FFFE-\U0007FFFF\U0008FFFE-\U0008FFFF'
                 '\U0009FFFE-\U0009FFFF\U000AFFFE-\U000AFFFF\U000BFFFE-\U000BFFFF\U000CFFFE-\U000CFFFF'
                 '\U000DFFFE-\U000DFFFF\U000EFFFE-\U000EFFFF\U000FFFFE-\U000FFFFF\U0010FFFE-\U0010FFFF]')
$$;

-- event_problem: the first of an event's fields (in the API's order) whose
-- value the row rules refuse, the rule (the name of the CHECK it was,
-- which the row trigger below raises) and what the field must be, in the
-- API's words; all NULL when there is none.  The one statement of the
-- rules on an event's own values: the trigger refuses a row by it,
-- save_event() checks the event as it would store it, set_status() the
-- event as stored, which may hold a value an older release took (a start
-- in year 0099, a control character in the description, an image path
-- outside /static/), so that each names the field and none can pass what
-- another refuses.  Each condition is its old CHECK's expression; a NULL
-- passes, as with a CHECK.  (Its result grew rule: a DROP first.)
DROP FUNCTION IF EXISTS eventbox.event_problem(eventbox.events);
CREATE FUNCTION eventbox.event_problem(n eventbox.events, OUT field text, OUT message text,
                                       OUT rule text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    one_line CONSTANT text := 'must be one line, without control characters';
    in_range CONSTANT text := 'must be between 1970 and 9998';
BEGIN
    IF (n.slug ~ '^[a-z0-9][a-z0-9-]{0,99}$' AND n.slug !~ '^[0-9]+$') IS FALSE THEN
        rule := 'events_slug_check'; field := 'slug';
        message := 'must be lower-case letters, digits and hyphens, not only digits';
    ELSIF (length(n.title) >= 1 AND length(n.title) <= 300) IS FALSE THEN
        rule := 'events_title_check'; field := 'title'; message := 'must be 1 to 300 characters';
    -- The one-line texts: no control character (a line break, a BEL),
    -- which the Atom feed and the .ics may not carry.
    ELSIF (n.title !~ '[[:cntrl:]]') IS FALSE THEN
        rule := 'events_title_one_line'; field := 'title'; message := one_line;
    ELSIF (n.presenter !~ '[[:cntrl:]]') IS FALSE THEN
        rule := 'events_presenter_one_line'; field := 'presenter'; message := one_line;
    ELSIF (n.location !~ '[[:cntrl:]]') IS FALSE THEN
        rule := 'events_location_one_line'; field := 'location'; message := one_line;
    ELSIF (n.organizer !~ '[[:cntrl:]]') IS FALSE THEN
        rule := 'events_organizer_one_line'; field := 'organizer'; message := one_line;
    ELSIF (n.accessibility_contact !~ '[[:cntrl:]]') IS FALSE THEN
        rule := 'events_accessibility_contact_one_line'; field := 'accessibility_contact';
        message := one_line;
    ELSIF (length(n.description) <= 20000
           AND n.description !~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]') IS FALSE THEN
        rule := 'events_description_check'; field := 'description';
        message := 'must be at most 20000 characters, without control characters but line breaks';
    ELSIF (length(n.audience) <= 2000
           AND n.audience !~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]') IS FALSE THEN
        rule := 'events_audience_check'; field := 'audience';
        message := 'must be at most 2000 characters, without control characters but line breaks';
    ELSIF (n.format = ANY (ARRAY['online', 'in_person', 'hybrid'])) IS FALSE THEN
        rule := 'events_format_check'; field := 'format';
        message := 'must be online, in_person or hybrid';
    ELSIF (n.online_url ~ '^https?://[^[:space:]]+$') IS FALSE THEN
        rule := 'events_online_url_check'; field := 'online_url';
        message := 'must be an http or https URL';
    ELSIF (array_position(n.categories, NULL::text) IS NULL
           AND NOT EXISTS (SELECT 1 FROM unnest(n.categories) c
                            WHERE length(c) NOT BETWEEN 1 AND 100 OR c ~ '[[:cntrl:]]')) IS FALSE THEN
        rule := 'events_categories_check'; field := 'categories';
        message := 'must be a list of one-line texts of 1 to 100 characters';
    -- A place's zone (is_valid_timezone(), rules/20_time.sql): an older
    -- release took "localtime", which follows the server's clock.
    ELSIF is_valid_timezone(n.timezone) IS FALSE THEN
        rule := 'events_timezone_check'; field := 'timezone';
        message := 'must be the IANA time zone of a place, like America/New_York';
    -- Four-digit years in every zone, and nothing before the calendars'
    -- own epoch (an .ics VTIMEZONE starts in 1970): year 1 was taken, and
    -- its .ics and its JSON named different years.
    ELSIF time_in_range(n.starts_at) IS FALSE THEN
        rule := 'events_times_in_range'; field := 'starts_at'; message := in_range;
    ELSIF time_in_range(n.ends_at) IS FALSE THEN
        rule := 'events_times_in_range'; field := 'ends_at'; message := in_range;
    ELSIF time_in_range(n.registration_opens_at) IS FALSE THEN
        rule := 'events_times_in_range'; field := 'registration_opens_at'; message := in_range;
    ELSIF time_in_range(n.registration_closes_at) IS FALSE THEN
        rule := 'events_times_in_range'; field := 'registration_closes_at'; message := in_range;
    ELSIF (n.ends_at > n.starts_at) IS FALSE THEN
        rule := 'ends_after_start'; field := 'ends_at'; message := 'must be after starts_at';
    ELSIF (n.capacity >= 0) IS FALSE THEN
        rule := 'events_capacity_check'; field := 'capacity';
        message := 'must be a whole number from 0 to 1000000';
    ELSIF (n.waitlist_capacity >= 0) IS FALSE THEN
        rule := 'events_waitlist_capacity_check'; field := 'waitlist_capacity';
        message := 'must be a whole number from 0 to 1000000, or null';
    ELSIF (n.registration_closes_at > n.registration_opens_at) IS FALSE THEN
        rule := 'registration_closes_after_opens'; field := 'registration_closes_at';
        message := 'must be after registration_opens_at';
    -- Registration closes at the start at the latest (closes_at()): one
    -- that opens later would never open, and its page say it will.
    ELSIF (n.registration_opens_at < n.starts_at) IS FALSE THEN
        rule := 'registration_opens_before_start'; field := 'registration_opens_at';
        message := 'must be before starts_at';
    ELSIF (n.hold_minutes >= 1 AND n.hold_minutes <= 10080) IS FALSE THEN
        rule := 'events_hold_minutes_check'; field := 'hold_minutes';
        message := 'must be whole minutes from 1 to 10080, or null';
    ELSIF (n.registrations_per_minute >= 1
           AND n.registrations_per_minute <= 100000) IS FALSE THEN
        rule := 'events_registrations_per_minute_check'; field := 'registrations_per_minute';
        message := 'must be a whole number from 1 to 100000, or null';
    ELSIF (cardinality(n.learning_outcomes) <= 20
           AND array_position(n.learning_outcomes, NULL::text) IS NULL
           AND array_position(n.learning_outcomes, ''::text) IS NULL
           AND length(array_to_string(n.learning_outcomes, '')) <= 10000
           AND array_to_string(n.learning_outcomes, ' ') !~ '[[:cntrl:]]') IS FALSE THEN
        rule := 'events_learning_outcomes_check'; field := 'learning_outcomes';
        message := 'must be a list of at most 20 lines of 1 to 500 characters';
    -- The language staff wrote the event's text in (030_event_language.sql).
    ELSIF is_language_tag(n.language) IS FALSE THEN
        rule := 'events_language_check'; field := 'language';
        message := 'must be a language tag like en, es or pt-BR';
    -- Columns the API does not write (staff set them at psql), and the
    -- status, which set_status() writes.
    ELSIF (n.image_path ~ '^/static/[A-Za-z0-9._/-]+$' AND n.image_path !~ '\.\.') IS FALSE THEN
        rule := 'events_image_path_check'; field := 'image_path';
        message := 'must be a path under /static/ of letters, digits, dots, hyphens, underscores and slashes, without ".."';
    ELSIF (length(n.image_alt) <= 500) IS FALSE THEN
        rule := 'events_image_alt_check'; field := 'image_alt';
        message := 'must be at most 500 characters';
    ELSIF (n.image_path IS NULL OR n.image_decorative
           OR length(btrim(coalesce(n.image_alt, ''))) > 0) IS FALSE THEN
        rule := 'image_has_alt'; field := 'image_alt';
        message := 'must describe the image, unless image_decorative is true';
    ELSIF (n.ical_sequence >= 0) IS FALSE THEN
        rule := 'events_ical_sequence_check'; field := 'ical_sequence';
        message := 'must be 0 or more';
    ELSIF (n.status = ANY (ARRAY['draft', 'published', 'cancelled'])) IS FALSE THEN
        rule := 'events_status_check'; field := 'status';
        message := 'must be draft, published or cancelled';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION eventbox.tg_events_row_checks() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    bad text;           -- the rule the row breaks
    hint text;          -- what to do instead, for the rules staff meet
    p record;           -- event_problem()
BEGIN
    -- An event that registrations name is not deleted (their foreign key
    -- refuses it), nor one whose purged registrations event_stats counts
    -- (event_report would lose them): said in words.  Anything else that
    -- names it is its own and goes with it (031_event_deletes.sql: its
    -- questions, outbox rows, idempotency keys, zero counts).  Runs as the
    -- deleting role.
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = OLD.id) THEN
            PERFORM refuse_delete(format('event "%s"', OLD.slug), 'registrations_event_id_fkey',
                CASE WHEN OLD.status = 'cancelled'
                     THEN 'It is cancelled already: its registrants were told, and the purge erases them after the retention period; the event stays, with its numbers in eventbox.event_report.'
                     ELSE 'Cancel it instead (eventbox.set_status(event, ''cancelled'')): its registrants are told, and the purge erases them after the retention period.' END);
        END IF;
        IF EXISTS (SELECT 1 FROM event_stats s WHERE s.event_id = OLD.id AND s.registered > 0) THEN
            PERFORM refuse_delete(format('event "%s"', OLD.slug), 'event_stats_event_id_fkey',
                'Its registrations were purged and are counted in eventbox.event_report, which would lose them: leave the event as it is.');
        END IF;
        RETURN OLD;
    END IF;
    -- Rules save_event() words for the API, here for plain SQL too: a
    -- cancelled event stays cancelled and takes no change (its registrants
    -- were told it is off: a new time, place or capacity would be told to
    -- nobody) but to its slug and categories, which staff at psql may move
    -- (to give the address to the event that replaces it, to take it out
    -- of a list), and its language, which only says what its text already
    -- is (staff marking their old events after 030_event_language.sql); nor is one created cancelled; and every rule
    -- event_problem() states: its times in range, registration opening
    -- before it closes and before the start (else it never opens:
    -- closes_at(), rules/10_seats.sql), one-line texts, ...
    IF TG_OP = 'UPDATE' AND OLD.status = 'cancelled' AND NEW.status <> 'cancelled' THEN
        bad := 'cancelled_stays_cancelled';
        hint := 'A cancelled event cannot be opened again: create a new event.';
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'cancelled'
          AND to_jsonb(NEW) - '{updated_at,ical_sequence,slug,categories,language}'::text[]
              IS DISTINCT FROM to_jsonb(OLD) - '{updated_at,ical_sequence,slug,categories,language}'::text[] THEN
        bad := 'cancelled_stays_cancelled';
        hint := 'A cancelled event takes no change but to its slug, categories and language: its registrants were told it is off. Create a new event instead.';
    ELSIF TG_OP = 'INSERT' AND NEW.status = 'cancelled' THEN
        bad := 'events_status_check';
        hint := 'Create the event as a draft or published; eventbox.set_status() cancels it.';
    -- A cancellation alone (set_status(): the status, and the sequence and
    -- time the other triggers write with it) stores no value the rules
    -- below read, and the event takes no change after it.  So an event
    -- holding a value an older release took and these rules refuse (a year
    -- outside 1970..9998, a control character in a text) can still be
    -- called off and its registrants told; its other changes are refused.
    ELSIF TG_OP = 'UPDATE' AND OLD.status <> 'cancelled' AND NEW.status = 'cancelled'
          AND to_jsonb(NEW) - '{status,updated_at,ical_sequence}'::text[]
              = to_jsonb(OLD) - '{status,updated_at,ical_sequence}'::text[] THEN
        NULL;
    -- Nor does a change of the language alone (staff marking their events
    -- after 030_event_language.sql, in one UPDATE of them all): such an
    -- event can be marked as it is, and only the language is checked.
    ELSIF TG_OP = 'UPDATE'
          AND to_jsonb(NEW) - '{language,updated_at}'::text[]
              = to_jsonb(OLD) - '{language,updated_at}'::text[] THEN
        IF is_language_tag(NEW.language) IS FALSE THEN
            bad := 'events_language_check';
            hint := 'language must be a language tag like en, es or pt-BR.';
        END IF;
    ELSE
        -- The rules on the event's own values: event_problem(), the one
        -- statement of them, whose field and words make the hint.
        SELECT * INTO p FROM event_problem(NEW);
        IF p.rule IS NOT NULL THEN
            bad := p.rule;
            hint := format('%s %s.', p.field, p.message);
            -- Broken by the row before this UPDATE too: stored by an older
            -- release, it holds every change to the event until it is
            -- corrected.  (Not by the field alone: an end the UPDATE left
            -- as it was breaks ends_after_start when the start moved.)
            IF TG_OP = 'UPDATE' AND (SELECT (o.rule, o.field) FROM event_problem(OLD) o)
                                   = (p.rule, p.field) THEN
                hint := hint || format(' An older release stored it: correct it first, or in this UPDATE (SET %I = ...); cancelling the event (eventbox.set_status(%L, ''cancelled'')) needs no correction.',
                                       p.field, OLD.slug);
            END IF;
        -- The seat invariants are CHECKs (sql/001_core.sql); a limit
        -- lowered by plain SQL meets them here first, in words instead of
        -- a row dump.
        ELSIF NEW.capacity < NEW.confirmed_count THEN
            bad := 'seats_never_oversold';
            hint := format('%s confirmed: cancel registrations (eventbox.cancel_registration()) before lowering the capacity below that.',
                           NEW.confirmed_count);
        ELSIF NEW.waitlist_enabled AND NEW.waitlist_capacity < NEW.waitlisted_count THEN
            bad := 'waitlist_never_overfull';
            hint := format('%s waiting: take people off the waiting list (eventbox.cancel_registration()) before lowering its limit below that.',
                           NEW.waitlisted_count);
        END IF;
    END IF;
    IF bad IS NOT NULL THEN
        PERFORM refuse_row('events', bad, hint);
    END IF;
    RETURN NEW;
END
$$;

-- On INSERT, DELETE, and on an UPDATE that names a column a rule reads,
-- or any column staff may write (a cancelled event takes no change, an
-- event holding an older release's value none until it is corrected: the
-- time zone, members_only and confirmation_required, left out, went past
-- both; tests/test_row_checks.py holds this list to the grant): the
-- counter trigger's UPDATE names only the counters, and pays nothing.
-- (No other BEFORE trigger writes a column below that its UPDATE did not
-- name; events_calendar_change raises ical_sequence only when a date,
-- place or status changed, all of them listed.)
CREATE OR REPLACE TRIGGER events_row_checks
    BEFORE INSERT OR DELETE OR UPDATE OF starts_at, ends_at, audience, capacity, format,
        description, organizer, accessibility_contact, categories,
        hold_minutes, language, ical_sequence, image_alt, image_path, image_decorative,
        learning_outcomes, location, online_url, presenter,
        registration_opens_at, registration_closes_at,
        registrations_per_minute, slug, status, title, waitlist_capacity,
        waitlist_enabled, timezone, members_only, confirmation_required
    ON eventbox.events
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_events_row_checks();

-- Member libraries: a domain in capitals named a bare CHECK
-- (organizations_domains_check, sql/004_staff.sql), and deleting one that
-- registrations name a foreign key; both said here in words.  The DELETE
-- runs as the deleting role, which reads registrations.
CREATE OR REPLACE FUNCTION eventbox.tg_organizations_row_checks() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM registrations r WHERE r.organization_id = OLD.id) THEN
            PERFORM refuse_delete(format('member library "%s"', OLD.name),
                'registrations_organization_id_fkey',
                'Empty its domains instead (UPDATE eventbox.organizations SET domains = ''{}''): its addresses then join members-only events no more.');
        END IF;
        RETURN OLD;
    END IF;
    IF (array_position(NEW.domains, NULL) IS NULL
        AND NEW.domains::text = lower(NEW.domains::text)) IS FALSE THEN
        PERFORM refuse_row('organizations', 'organizations_domains_check',
                           'Write each domain in lower case, like springfieldlibrary.example.org.');
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER organizations_row_checks
    BEFORE INSERT OR UPDATE OF domains OR DELETE ON eventbox.organizations
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_organizations_row_checks();

CREATE OR REPLACE FUNCTION eventbox.tg_registrations_row_checks() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    bad text;           -- the rule the row breaks
    hint text;          -- what to do instead, for the rules staff meet
BEGIN
    IF is_email_address(NEW.email) IS FALSE THEN
        bad := 'registrations_email_check';
    -- An address is stored as it is mailed (validate.c's
    -- email_canonical()): ASCII, the domain in A-labels, so that
    -- ana@bibliotecá.es and ana@xn--bibliotec-81a.es are one registrant
    -- and a relay without SMTPUTF8 takes it.  SQL cannot convert a domain
    -- (IDNA2008), so staff are told how.  Only a new or changed address:
    -- a row an older release or staff stored stays cancellable.
    ELSIF is_ascii(NEW.email) IS FALSE
          AND (TG_OP = 'INSERT' OR NEW.email IS DISTINCT FROM OLD.email) THEN
        bad := 'registrations_email_ascii';
        hint := CASE WHEN NOT is_ascii(split_part(NEW.email, '@', 1))
                     THEN 'Letters such as é or ñ before the @ cannot receive eventbox''s emails: ask for another address.'
                     ELSE 'Write the domain after the @ in its ASCII (xn--) form, as the form and the API store it: the command idn2 (Debian package idn2) prints it, e.g. idn2 bücherei.de gives xn--bcherei-n2a.de.' END;
    ELSIF (NEW.hold_expired_at IS NULL OR NEW.status = 'cancelled') IS FALSE THEN
        bad := 'registrations_expired_is_cancelled';
    ELSIF (NEW.held_until IS NULL OR NEW.status <> 'cancelled') IS FALSE THEN
        bad := 'registrations_hold_is_live';
    ELSIF is_language_tag(NEW.language) IS FALSE THEN
        bad := 'registrations_language_check';
    ELSIF is_person_name(NEW.name) IS FALSE THEN
        bad := 'registrations_name_check';
    ELSIF is_library_name(NEW.organization) IS FALSE THEN
        bad := 'registrations_organization_check';
    ELSIF (NEW.source = ANY (ARRAY['web', 'api', 'staff'])) IS FALSE THEN
        bad := 'registrations_source_check';
    ELSIF (NEW.status = ANY (ARRAY['confirmed', 'waitlisted', 'cancelled'])) IS FALSE THEN
        bad := 'registrations_status_check';
    END IF;
    IF bad IS NOT NULL THEN
        PERFORM refuse_row('registrations', bad, hint);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER registrations_row_checks
    BEFORE INSERT OR UPDATE ON eventbox.registrations
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_registrations_row_checks();

CREATE OR REPLACE FUNCTION eventbox.tg_outbox_row_checks() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    bad text;           -- the rule the row breaks
BEGIN
    IF (jsonb_typeof(NEW.changes) = 'object') IS FALSE THEN
        bad := 'outbox_changes_check';
    ELSIF (NEW.kind = ANY (ARRAY['confirmed', 'waitlisted', 'promoted', 'cancelled',
                            'already_registered', 'reminder', 'event_cancelled',
                            'confirm_address', 'event_changed', 'webhook'])) IS FALSE THEN
        bad := 'outbox_kind_check';
    ELSIF (jsonb_typeof(NEW.payload) = 'object') IS FALSE THEN
        bad := 'outbox_payload_check';
    ELSIF (NEW.status = ANY (ARRAY['pending', 'sent', 'failed'])) IS FALSE THEN
        bad := 'outbox_status_check';
    ELSIF ((NEW.kind = 'webhook') = (NEW.webhook_id IS NOT NULL)
        AND (NEW.kind = 'webhook' OR NEW.payload IS NULL)
        AND (NEW.kind <> 'webhook' OR NEW.status <> 'pending' OR NEW.payload IS NOT NULL)) IS FALSE THEN
        bad := 'outbox_webhook_rows';
    END IF;
    IF bad IS NOT NULL THEN
        PERFORM refuse_row('outbox', bad);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER outbox_row_checks
    BEFORE INSERT OR UPDATE ON eventbox.outbox
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_outbox_row_checks();

CREATE OR REPLACE FUNCTION eventbox.tg_tokens_row_checks() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF (length(NEW.token_hash) = 32) IS FALSE THEN
        PERFORM eventbox.refuse_row('tokens', 'tokens_token_hash_check');
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER tokens_row_checks
    BEFORE INSERT OR UPDATE ON eventbox.tokens
    FOR EACH ROW EXECUTE FUNCTION eventbox.tg_tokens_row_checks();
