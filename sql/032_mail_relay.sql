-- 032_mail_relay.sql: whether the SMTP relay answers, shared by the mailers.
--
-- A relay that is down or hangs (maintenance, a full queue, a firewall
-- change) failed every queued message in turn: each paid its own connect
-- or answer timeout, and each used up a try, so an outage of a few hours
-- failed every confirmation queued for good.  Now a failure of the relay
-- itself (no connection, no answer, a 4xx or 5xx before the recipient:
-- src/smtp.c) counts against no message: the mailers send no mail until
-- retry_at, a pause doubled at each failed try (rules/80_mail.sql,
-- mail_relay_failed()), and the first message the relay takes clears it.
-- One row, always there: down_since NULL while the relay answers.
CREATE TABLE eventbox.mail_relay (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    down_since timestamptz,
    failures integer NOT NULL DEFAULT 0,
    last_error text,
    retry_at timestamptz
);
INSERT INTO eventbox.mail_relay DEFAULT VALUES;
