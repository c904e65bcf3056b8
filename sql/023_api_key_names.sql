-- 023_api_key_names.sql: a revoked key's name may be given to a new key.
--
-- A sysadmin rotates a key by revoking it and making another under the same
-- name (the consortium website's "website" key), so that the audit log and
-- `eventbox apikey list` keep naming the one client.  The name was unique
-- over every key ever made, so the new key could not be made.  Only live
-- keys' names are unique now; the revoked ones stay, with their dates.
ALTER TABLE eventbox.api_keys DROP CONSTRAINT api_keys_name_key;
CREATE UNIQUE INDEX api_keys_live_name ON eventbox.api_keys (name) WHERE revoked_at IS NULL;
