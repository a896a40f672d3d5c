-- Tenants gain their own limits, and access tokens: each names one tenant and one role.

alter table tenants
    add column rate_limit_per_second integer check (rate_limit_per_second > 0),
    add column concurrency_limit integer check (concurrency_limit > 0);

create table api_tokens (
    token_id     uuid primary key,
    tenant_id    text not null references tenants,
    name         text not null check (length(name) between 1 and 200),
    role         text not null check (role in ('viewer', 'clerk', 'admin')),
    -- SHA-256 of the whole token. A token carries 256 random bits, so a fast hash is as strong
    -- as a slow one here: no one can guess their way to a preimage, and each call can afford it.
    token_hash   bytea not null unique check (length(token_hash) = 32),
    -- The prefix and the last four characters, to tell tokens apart in a list; never enough to use.
    hint         text not null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

create index api_tokens_by_tenant on api_tokens (tenant_id, created_at);

-- The application sees its own tenant's tokens. Not forced: the owner, and authenticate_token
-- below with its rights, look a token up before any tenant is known.
alter table api_tokens enable row level security;
create policy tenant_isolation on api_tokens
    using (tenant_id = (select current_setting('app.tenant_id', true)));
grant select on api_tokens to tally_app;

-- Who a presented token is, by its hash: live tokens only (not revoked, not expired), so that a
-- revocation or an expiry takes effect on the next call on every replica. Notes the use at most
-- once a minute, so the common call writes nothing.
create function authenticate_token(hash bytea)
    returns table (token_id uuid, tenant_id text, name text, role text)
    language plpgsql security definer set search_path = public as $$
begin
    return query
        update api_tokens t set last_used_at = now()
         where t.token_hash = hash and t.revoked_at is null and (t.expires_at is null or t.expires_at > now())
           and (t.last_used_at is null or t.last_used_at < now() - interval '1 minute')
        returning t.token_id, t.tenant_id, t.name, t.role;
    if not found then
        return query
            select t.token_id, t.tenant_id, t.name, t.role from api_tokens t
             where t.token_hash = hash and t.revoked_at is null and (t.expires_at is null or t.expires_at > now());
    end if;
end $$;

revoke all on function authenticate_token(bytea) from public;
grant execute on function authenticate_token(bytea) to tally_app;

-- Every audit record names the token (id and name, never the secret) and its role.
alter table audit_events
    add column token_id uuid,
    add column token_name text,
    add column role text check (role in ('viewer', 'clerk', 'admin'));

-- A session belongs to the token that opened it: another token presenting its id finds nothing.
alter table mcp_sessions add column token_id uuid;
