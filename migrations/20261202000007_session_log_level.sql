-- A legacy (2025-11-25) session's logging/setLevel: the least severe level of the
-- notifications/message its calls receive; null sends none. Kept with the session so that any
-- replica serving the session honours it.
alter table mcp_sessions add column log_level text
    check (log_level in ('debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'));
