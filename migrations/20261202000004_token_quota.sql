-- The token lookup also returns its tenant's own quotas (null: the deployment's defaults), so
-- the per-tenant limits need no query of their own.
drop function authenticate_token(bytea);

create function authenticate_token(hash bytea)
    returns table (token_id uuid, tenant_id text, name text, role text,
                   rate_limit_per_second integer, concurrency_limit integer)
    language plpgsql security definer set search_path = public as $$
begin
    update api_tokens t set last_used_at = now()
     where t.token_hash = hash and t.revoked_at is null and (t.expires_at is null or t.expires_at > now())
       and (t.last_used_at is null or t.last_used_at < now() - interval '1 minute');
    return query
        select t.token_id, t.tenant_id, t.name, t.role, n.rate_limit_per_second, n.concurrency_limit
          from api_tokens t join tenants n on n.tenant_id = t.tenant_id
         where t.token_hash = hash and t.revoked_at is null and (t.expires_at is null or t.expires_at > now());
end $$;

revoke all on function authenticate_token(bytea) from public;
grant execute on function authenticate_token(bytea) to tally_app;
