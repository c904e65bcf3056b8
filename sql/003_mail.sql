-- 003_mail.sql: the mailer's role and the outbox's reminder index.
--
-- What the mailer calls is in sql/rules/80_mail.sql.

-- The mailer's group role.  Login roles are granted membership by the
-- deployment (deploy/devstack.sh grants it to eventbox_mail).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eventbox_mailer') THEN
        CREATE ROLE eventbox_mailer NOLOGIN;
    END IF;
END
$$;

-- A reminder goes out once per registration, whoever queues it.
CREATE UNIQUE INDEX outbox_one_reminder
    ON eventbox.outbox (registration_id) WHERE kind = 'reminder';
