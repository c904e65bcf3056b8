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

-- admin_audit: the audit log, newest first, of one event (id or slug) or
-- of all, of one action or of all.  It never held a token or a key.
CREATE OR REPLACE FUNCTION eventbox.admin_audit(p_key text, p_event text, p_action text)
RETURNS SETOF eventbox.audit_log
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
DECLARE
    who record := staff_actor(p_key);
BEGIN
    RETURN QUERY
    SELECT a.* FROM audit_log a
     WHERE (p_action IS NULL OR a.action = p_action)
       AND (p_event IS NULL OR a.event_id = (
                SELECT e.id FROM events e
                 WHERE CASE WHEN p_event ~ '^[1-9][0-9]{0,17}$' THEN e.id = p_event::bigint
                            ELSE e.slug = p_event END))
     ORDER BY a.id DESC;
END
$$;
