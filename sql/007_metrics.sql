-- 006_metrics.sql: the outbox figures for GET /metrics.
--
-- The service's role may not read the outbox (it holds tokens); this
-- function tells it only counts and an age.  One query per scrape; the
-- pending count walks the outbox_due partial index.

CREATE FUNCTION eventbox.outbox_stats(OUT pending bigint, OUT failed bigint,
                                      OUT oldest_pending_age_s double precision)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT count(*) FILTER (WHERE status = 'pending'),
           count(*) FILTER (WHERE status = 'failed'),
           coalesce(extract(epoch FROM now() - min(created_at)
                                FILTER (WHERE status = 'pending')), 0)::double precision
      FROM outbox
     WHERE status IN ('pending', 'failed')
$$;

REVOKE ALL ON FUNCTION eventbox.outbox_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION eventbox.outbox_stats() TO eventbox_service, eventbox_ops;
