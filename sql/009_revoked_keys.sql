-- 009_revoked_keys.sql: a revoked API key is told so (403), while a
-- missing or unknown key stays a 401 that gives no hint.

CREATE FUNCTION eventbox.api_key_state(p_key text, OUT name text, OUT revoked boolean)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, eventbox, pg_temp
AS $$
    SELECT k.name, k.revoked_at IS NOT NULL
      FROM api_keys k
     WHERE k.key_hash = sha256(convert_to(p_key, 'UTF8'))
$$;

REVOKE ALL ON FUNCTION eventbox.api_key_state(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION eventbox.api_key_state(text) TO eventbox_service, eventbox_ops;
