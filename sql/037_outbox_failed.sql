-- 037_outbox_failed.sql: no index of the outbox's pending rows but those
-- that give a claim its order.
--
-- The outbox is mostly sent rows, and autovacuum analyzes it while
-- nothing is pending, so its statistics say that no row is: every index
-- of pending rows alone then looks empty to the planner, and reading one
-- whole looks as cheap as reading a batch in order.  After a crowd, a
-- claim of 50 messages read and sorted the whole backlog through 033's
-- outbox_unsent (22 ms at 20,000 pending), and a webhook claim, which asks
-- each candidate whether its stream has an earlier delivery pending, read
-- it once per candidate (2.2 s and 25 million rows at 5,000 pending), or
-- took its candidates from the stream index outbox_webhook_order, every
-- one of them, instead of outbox_webhook_due's first ones.  So:
--
-- - outbox_unsent (status and kind of the pending and the failed, for the
--   counts ops and monitoring read) gives way to outbox_failed: the
--   counts take the pending rows from outbox_due (rules/30_views.sql,
--   outbox_stats() in rules/80_mail.sql);
-- - outbox_webhook_order indexes every webhook delivery, sent ones too
--   (the purge takes them with their event), so that its size is known,
--   and a stream's look-up tests the status row by row
--   (webhook_earlier(), rules/82_webhooks.sql).
DROP INDEX eventbox.outbox_unsent;
CREATE INDEX outbox_failed ON eventbox.outbox (kind) WHERE status = 'failed';
DROP INDEX eventbox.outbox_webhook_order;
CREATE INDEX outbox_webhook_order ON eventbox.outbox (webhook_id, registration_id, id)
    WHERE kind = 'webhook';
