-- rules/76_admin_lists.sql: the lists staff read -- every event (drafts
-- too), the audit log, the waiting list in order.  Reading only; each
-- function checks the staff key like every staff function (staff_actor).

-- The waiting list of every event, in order, with each person's place:
-- what staff look at before promoting someone (promote()) or raising a
-- capacity.
CREATE OR REPLACE VIEW eventbox.waiting_list AS
SELECT s.event_id, s.slug, s."position", s.registration_id, s.name, s.email, s.library,
       s.is_member, s.registered_at
  FROM eventbox.staff_roster s
 WHERE s.status = 'waitlisted';

-- admin_event_list: the ids of the events that match, in start order (the
-- caller pages them and reads each with admin_event()).  NULL filters
-- match everything; p_q is text in title, description or presenter.
CREATE OR REPLACE FUNCTION eventbox.admin_event_list(p_key text, p_status text, p_category text,
                                                     p_from date, p_to date, p_q text)
RETURNS TABLE (event_id bigint)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
BEGIN
    RETURN QUERY
    SELECT e.id FROM events e
     WHERE (p_status IS NULL OR e.status = p_status)
       AND (p_category IS NULL OR p_category = ANY (e.categories))
       AND (p_from IS NULL OR e.starts_at >= p_from)
       AND (p_to IS NULL OR e.starts_at < p_to + 1)
       AND (p_q IS NULL OR strpos(lower(e.title || ' ' || e.description || ' ' || e.presenter),
                                  lower(p_q)) > 0)
     ORDER BY e.starts_at, e.id;
END
$$;

-- The id of the event p_event names (its id or its slug), NULL for none or
-- for no such event; each looked up by its key.  Only the audit functions
-- below call it (no grant).
CREATE OR REPLACE FUNCTION eventbox.audit_event(p_event text) RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT CASE WHEN p_event ~ '^[1-9][0-9]{0,17}$'
                THEN (SELECT e.id FROM events e WHERE e.id = p_event::bigint)
                ELSE (SELECT e.id FROM events e WHERE e.slug = p_event) END
$$;

-- admin_audit: a page of the audit log, newest first, of one event (id or
-- slug) or of all, of one action or of all: the p_limit entries older than
-- p_before (NULL: from the newest) after skipping p_offset of them.  It
-- never held a token or a key.
--
-- The page is cut here, not by the caller: the log grows with the years
-- (300,000 entries and more), and a caller that cut the page from all the
-- entries that match had every one of them read, copied and sorted on
-- each request (a second a page, then the statement timeout's 503).  Each
-- branch below reads its entries from an index in the page's order and
-- stops at the page's end: the primary key, audit_log_action
-- (034_audit_log_action.sql) or audit_log_event.  (Branches rather than
-- "p IS NULL OR ..." in one query: a plan kept for such a query cannot use
-- the index that fits the filters given.)  The signature grew the page: a
-- DROP first.
DROP FUNCTION IF EXISTS eventbox.admin_audit(text, text, text);
CREATE OR REPLACE FUNCTION eventbox.admin_audit(p_key text, p_event text, p_action text,
                                                p_before bigint, p_limit integer,
                                                p_offset integer)
RETURNS SETOF eventbox.audit_log
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    v_event bigint := audit_event(p_event);
    v_before bigint := coalesce(p_before, 9223372036854775807);
BEGIN
    IF p_event IS NOT NULL THEN
        RETURN QUERY
        SELECT a.* FROM audit_log a
         WHERE a.event_id = v_event AND a.id < v_before
           AND (p_action IS NULL OR a.action = p_action)
         ORDER BY a.id DESC LIMIT p_limit OFFSET p_offset;
    ELSIF p_action IS NOT NULL THEN
        RETURN QUERY
        SELECT a.* FROM audit_log a
         WHERE a.action = p_action AND a.id < v_before
         ORDER BY a.id DESC LIMIT p_limit OFFSET p_offset;
    ELSE
        RETURN QUERY
        SELECT a.* FROM audit_log a
         WHERE a.id < v_before
         ORDER BY a.id DESC LIMIT p_limit OFFSET p_offset;
    END IF;
END
$$;

-- admin_audit_total: how many entries admin_audit() pages through, the
-- filters being the same (the API's total).  Counted in the index each
-- branch of admin_audit() reads, which holds what the count needs: an
-- index-only scan, no entry's row (details and all) read or copied.
CREATE OR REPLACE FUNCTION eventbox.admin_audit_total(p_key text, p_event text,
                                                      p_action text, p_before bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
    v_event bigint := audit_event(p_event);
    v_before bigint := coalesce(p_before, 9223372036854775807);
BEGIN
    IF p_event IS NOT NULL THEN
        RETURN (SELECT count(*) FROM audit_log a
                 WHERE a.event_id = v_event AND a.id < v_before
                   AND (p_action IS NULL OR a.action = p_action));
    ELSIF p_action IS NOT NULL THEN
        RETURN (SELECT count(*) FROM audit_log a
                 WHERE a.action = p_action AND a.id < v_before);
    END IF;
    RETURN (SELECT count(*) FROM audit_log a WHERE a.id < v_before);
END
$$;
