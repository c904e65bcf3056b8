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
