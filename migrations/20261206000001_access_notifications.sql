-- Every replica serves sessions and tokens from memory while it hears this channel (src/db/cache.rs):
-- a change that must take effect at once (a session ended or deleted, its log level set; a token
-- revoked, edited or deleted; a tenant's quotas changed) notifies `tally_access` from the
-- database itself, whoever made it (Tally, `tally token revoke`, an operator's SQL). NOTIFY is
-- delivered at commit, and only if the change commits.

create function notify_access_change() returns trigger
    language plpgsql as $$
declare
    row record := coalesce(new, old);
begin
    if tg_table_name = 'mcp_sessions' then
        perform pg_notify('tally_access', 'session:' || row.session_id);
    elsif tg_table_name = 'api_tokens' then
        perform pg_notify('tally_access', 'token:' || row.token_id);
    else
        perform pg_notify('tally_access', 'all');
    end if;
    return null;
end $$;

-- A session's last_seen_at is touched at most once a minute per session: no notification for it.
create trigger mcp_sessions_changed after update on mcp_sessions for each row
    when (old.ended_at is distinct from new.ended_at or old.log_level is distinct from new.log_level
          or old.token_id is distinct from new.token_id or old.tenant_id is distinct from new.tenant_id)
    execute function notify_access_change();
create trigger mcp_sessions_deleted after delete on mcp_sessions for each row
    execute function notify_access_change();

-- last_used_at is touched at most once a minute per token: no notification for it either.
create trigger api_tokens_changed after update on api_tokens for each row
    when (old.revoked_at is distinct from new.revoked_at or old.expires_at is distinct from new.expires_at
          or old.role is distinct from new.role or old.name is distinct from new.name
          or old.tenant_id is distinct from new.tenant_id or old.token_hash is distinct from new.token_hash)
    execute function notify_access_change();
create trigger api_tokens_deleted after delete on api_tokens for each row
    execute function notify_access_change();

create trigger tenants_changed after update or delete on tenants for each row
    execute function notify_access_change();

-- The token's expiry too, so that a cached owner is not served a moment past it.
drop function authenticate_token(bytea);

create function authenticate_token(hash bytea)
    returns table (token_id uuid, tenant_id text, name text, role text,
                   rate_limit_per_second integer, concurrency_limit integer, expires_at timestamptz)
    language plpgsql security definer set search_path = public as $$
begin
    update api_tokens t set last_used_at = now()
     where t.token_hash = hash and t.revoked_at is null and (t.expires_at is null or t.expires_at > now())
       and (t.last_used_at is null or t.last_used_at < now() - interval '1 minute');
    return query
        select t.token_id, t.tenant_id, t.name, t.role, n.rate_limit_per_second, n.concurrency_limit, t.expires_at
          from api_tokens t join tenants n on n.tenant_id = t.tenant_id
         where t.token_hash = hash and t.revoked_at is null and (t.expires_at is null or t.expires_at > now());
end $$;

revoke all on function authenticate_token(bytea) from public;
grant execute on function authenticate_token(bytea) to tally_app;
