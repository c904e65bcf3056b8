-- 033_outbox_indexes.sql: the outbox's messages not yet sent, indexed.
--
-- Sent messages stay in the outbox until the purge takes their event, so
-- a consortium's outbox is mostly sent rows: 100,000 and more.  What ops
-- and monitoring read is the rest: outbox_stats() (every scrape of
-- /metrics, which gives up on it after its probe time and then reports
-- the database down), the outbox_backlog and outbox_failures views
-- (sql/rules/30_views.sql).  Only outbox_due indexed the pending ones, and
-- nothing the failed: each of them read the whole outbox, sent rows and
-- all, on every call.
CREATE INDEX outbox_unsent ON eventbox.outbox (status, kind)
    WHERE status <> 'sent';

-- And by event.  The purge (sql/rules/85_purge.sql) looks for an ended
-- event that still has outbox rows and deletes them, and deleting an
-- event cascades to its rows: nothing indexed outbox.event_id, so each
-- purge step read the whole outbox, and with 20,000 ended events and
-- 100,000 sent messages a purge ran for a quarter of an hour, growing
-- with both.
CREATE INDEX outbox_event ON eventbox.outbox (event_id);
