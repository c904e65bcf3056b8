-- 030_event_language.sql: the language staff write an event in.
--
-- An event's own text (title, description, location, learning outcomes,
-- audience, its questions) is shown as staff wrote it, on pages, feeds,
-- calendar files and emails that are in the patron's language.  The column
-- says which language that text is, so that each of them can mark it
-- (lang="en" in HTML, xml:lang in Atom, LANGUAGE= in an .ics,
-- inLanguage in JSON-LD) where it differs from the text around it: a
-- screen reader then reads an English title on a Spanish page as English.
--
-- Its rule (events_language_check) is the registrations' language rule,
-- is_language_tag() (sql/rules/12_row_checks.sql), held by the events'
-- row-check trigger, not by a CHECK compiled for every statement that
-- writes an event (019_row_checks.sql).
--
-- Existing events are English, as every page until now presented them:
-- eventbox has no setting for a site's language (the pages follow each
-- patron), and the old pages carried no mark, so a screen reader on the
-- English pages read every title as English.  A consortium whose staff
-- write in another language says so with one UPDATE after upgrading
-- (docs/OPS.md, "An event's language").
--
-- The column is added without a default, then filled, then given its
-- default and NOT NULL: PostgreSQL refuses to add a column with a default
-- to a table whose row type a function's parameter default names
-- (register_entry()'s p_seen eventbox.events DEFAULT NULL, in the rules
-- since migration 019), and adding one without is allowed.  The fill
-- runs with the table's own triggers off, as 029 does: the audit trigger
-- would log every event as an edit by the migrating role.  The events
-- table is small (one row an event) and held only for this transaction.
ALTER TABLE eventbox.events ADD COLUMN language text;
ALTER TABLE eventbox.events DISABLE TRIGGER USER;
UPDATE eventbox.events SET language = 'en';
ALTER TABLE eventbox.events ENABLE TRIGGER USER;
ALTER TABLE eventbox.events
    ALTER COLUMN language SET DEFAULT 'en',
    ALTER COLUMN language SET NOT NULL;
