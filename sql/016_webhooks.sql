-- 016_webhooks.sql: webhooks for the consortium's website or CRM (issue 15).
--
-- Staff register an HTTPS endpoint and the events it wants; each such
-- event becomes one delivery row in the same outbox the emails go through
-- (kind 'webhook'), written in the transaction that made the change, and
-- `eventbox mailer` POSTs it, signed with the webhook's secret (Standard
-- Webhooks).  The functions are in sql/rules/82_webhooks.sql.

-- The secret signs; it cannot be hashed, so it is kept as issued and
-- readable only by the owner: webhook_claim() (SECURITY DEFINER) hands it
-- to the mailer with each delivery, and nobody else's role may select this
-- table (rules/90_grants.sql grants nothing on it).
-- Its identity sequence, webhooks_id_seq, tells the registration trigger
-- whether any webhook was ever made (rules/82_webhooks.sql).
CREATE TABLE eventbox.webhooks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url         text NOT NULL CHECK (length(url) <= 2000
                                     AND url ~ '^https://[^[:space:][:cntrl:]@/?#]+(/[^[:space:][:cntrl:]]*)?$'),
    events      text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 4
                                       AND events <@ ARRAY['registration.created',
                                                           'registration.promoted',
                                                           'registration.cancelled',
                                                           'event.changed']),
    secret      text NOT NULL CHECK (secret ~ '^whsec_[A-Za-z0-9+/]{43}=$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- A delivery: kind 'webhook', the webhook, and the body to POST (personal
-- data: name and email; erased once delivered, given up or purged).
ALTER TABLE eventbox.outbox
    ADD COLUMN webhook_id bigint REFERENCES eventbox.webhooks (id),
    ADD COLUMN payload jsonb CHECK (jsonb_typeof(payload) = 'object'),
    DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirmed', 'waitlisted', 'promoted',
                                                     'cancelled', 'already_registered',
                                                     'reminder', 'event_cancelled',
                                                     'confirm_address', 'event_changed',
                                                     'webhook')),
    ADD CONSTRAINT outbox_webhook_rows
        CHECK ((kind = 'webhook') = (webhook_id IS NOT NULL)
               AND (kind = 'webhook' OR payload IS NULL)
               AND (kind <> 'webhook' OR status <> 'pending' OR payload IS NOT NULL));

-- The mailer's claim of the next due delivery, and the order per
-- registration (a delivery waits while an earlier one for the same
-- registration and webhook is pending).
CREATE INDEX outbox_webhook_due ON eventbox.outbox (next_attempt_at, id)
    WHERE status = 'pending' AND kind = 'webhook';
CREATE INDEX outbox_webhook_order ON eventbox.outbox (webhook_id, registration_id, id)
    WHERE status = 'pending' AND kind = 'webhook';
