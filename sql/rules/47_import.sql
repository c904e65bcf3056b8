-- rules/47_import.sql: `eventbox import`, events from a LibCal API as
-- drafts (table in 013_api_clients.sql).

-- import_event: creates the event of p_fields (save_event()'s fields) as a
-- draft, once per (source, id there): a second call for the same event
-- changes nothing.  Staff only (staff_actor: eventbox_ops or the owner, who
-- the audit log then names).
--   outcome  created | exists | invalid | slug_taken  (field, message: why)
CREATE OR REPLACE FUNCTION eventbox.import_event(p_source text, p_source_id bigint,
                                  p_fields jsonb, OUT outcome text, OUT field text,
                                  OUT message text, OUT event_id bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    who record := staff_actor(NULL);
    s record;
BEGIN
    SELECT i.event_id INTO event_id FROM event_imports i
     WHERE i.source = p_source AND i.source_id = p_source_id;
    IF FOUND THEN
        outcome := 'exists';
        RETURN;
    END IF;
    s := save_event(NULL, p_fields);
    outcome := s.outcome; field := s.field; message := s.message; event_id := s.event_id;
    IF s.outcome = 'created' THEN
        INSERT INTO event_imports (source, source_id, event_id)
        VALUES (p_source, p_source_id, s.event_id);
    END IF;
END
$$;
