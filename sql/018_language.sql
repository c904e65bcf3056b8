-- 018_language.sql: the language each registrant reads (docs/TRANSLATING.md).
--
-- Set at registration from the request's language (?lang=, else
-- Accept-Language: register_answered() with p_language); every email to the
-- registrant afterwards (confirmation, promotion, reminder, change notice)
-- is composed in it by the mailer.  A language without a catalogue on the
-- mailer's machine reads as English.  Not personal data on its own: the
-- purge leaves it with the anonymous counts.
ALTER TABLE eventbox.registrations
    ADD COLUMN language text NOT NULL DEFAULT 'en'
        CONSTRAINT registrations_language_check
        CHECK (language ~ '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$');
