-- 035_registration_updated.sql: a fifth webhook event, registration.updated.
--
-- Staff correct a registration's name, email or library
-- (correct_registration(), rules/65_corrections.sql); a CRM that got
-- registration.created with a mistyped address kept it for ever.  The
-- correction now queues a registration.updated delivery
-- (queue_correction_webhooks()), and a webhook may ask for it: the CHECK
-- on the events a webhook wants names it, and takes five.  Webhooks
-- stored keep the events they asked for.
ALTER TABLE eventbox.webhooks
    DROP CONSTRAINT webhooks_events_check,
    ADD CONSTRAINT webhooks_events_check
        CHECK (cardinality(events) BETWEEN 1 AND 5
               AND events <@ ARRAY['registration.created',
                                   'registration.promoted',
                                   'registration.cancelled',
                                   'registration.updated',
                                   'event.changed']);
