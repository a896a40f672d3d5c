-- An OAuth access token names its tenant in a claim; the server checks that the tenant exists
-- and reads its quotas with this, as any login (tenants is not readable by the application role).
create function tenant_quota(tenant text)
    returns table (tenant_id text, rate_limit_per_second integer, concurrency_limit integer)
    language sql stable security definer set search_path = public as $$
    select n.tenant_id, n.rate_limit_per_second, n.concurrency_limit from tenants n where n.tenant_id = tenant
$$;

revoke all on function tenant_quota(text) from public;
grant execute on function tenant_quota(text) to tally_app;
