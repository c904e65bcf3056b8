-- rules/81_webhook_urls.sql: the URLs a webhook may have (webhook_create(),
-- rules/82_webhooks.sql).
--
-- An https:// URL of a host, a port from 1 to 65535 if any, and a path,
-- without user or password, read as a browser (the WHATWG URL standard)
-- and RFC 3986 read it, and one DNS can look up:
-- - a name: labels of letters, digits, hyphens and underscores, none
--   empty, none over 63 characters or starting or ending with a hyphen
--   ("-a.org", "a-.org": no DNS name), at most 253 characters in all; an
--   underscore ("crm_1.internal") and the root's trailing dot are kept,
--   as both readings keep them;
-- - an IPv4 address, written as one: four numbers 0 to 255 without
--   leading zeros.  A name that ends in a number is an address to a
--   browser, read as it reads one: "1.2.3" is 1.2.0.3, "0x7f.1" and
--   "010.0.0.1" are 127.0.0.1 and 8.0.0.1, "999.1.1.1" is no URL;
-- - an IPv6 address in brackets, one PostgreSQL's inet reads as one;
-- - no backslash (a browser reads "\" in an https:// path as "/"), and a
--   "%" only before two hex digits.
-- "crm.example.org:99999" or "exa mple.org" would fail every delivery,
-- or reach another host than the one the URL shows.
CREATE OR REPLACE FUNCTION eventbox.is_webhook_url(p_url text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    host text := substring(p_url FROM '^https://(\[[^]/]*\]|[^/:]*)');
    num CONSTANT text := '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
BEGIN
    IF p_url IS NULL OR length(p_url) > 2000
       OR p_url !~ ('^https://([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])'
                    '(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}'
                    '|[1-9][0-9]{0,3}))?(/[^[:space:][:cntrl:]]*)?$')
       OR p_url ~ '\\' OR p_url ~ '%([^0-9A-Fa-f]|.[^0-9A-Fa-f]|.?$)' THEN
        RETURN false;
    ELSIF host LIKE '[%' THEN
        BEGIN
            RETURN family(btrim(host, '[]')::inet) = 6;
        EXCEPTION WHEN invalid_text_representation THEN
            RETURN false;
        END;
    ELSIF host ~ '(^|\.)([0-9]+|0[xX][0-9A-Fa-f]*)\.?$' THEN
        RETURN host ~ ('^(' || num || '\.){3}' || num || '$');
    END IF;
    RETURN length(rtrim(host, '.')) <= 253
           AND host !~ '(^|\.)-|-(\.|$)' AND host !~ '[^.]{64}';
END
$$;
