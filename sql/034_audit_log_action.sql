-- 034_audit_log_action.sql: the audit log by action, newest first.
--
-- GET /api/v1/admin/audit?action= reads one action's entries a page at a
-- time, newest first (admin_audit() in rules/76_admin_lists.sql), and its
-- total counts them.  Without an index on the action, a page of a rare
-- action read the log back until it had found enough, and the count read
-- all of it: 300,000 entries and more after a few years.  By event the log
-- has audit_log_event (004), by nothing at all its primary key.
CREATE INDEX audit_log_action ON eventbox.audit_log (action, id);
