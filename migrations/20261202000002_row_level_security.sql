-- Row-level security: Postgres itself keeps each tenant's rows out of every other tenant's reach.
--
-- Every tenant transaction Tally opens starts with
--     begin; set local role tally_app; select set_config('app.tenant_id', '<tenant>', true)
-- (src/db.rs, one round trip). `tally_app` owns nothing, is not a superuser and cannot bypass
-- RLS, and both settings end with the transaction: a pooled connection never carries one
-- tenant's setting, or the role, into another call. With no tenant set the setting reads '' or
-- NULL, which matches no tenant_id (they match ^[a-z0-9_-]{1,64}$): an unscoped query fails closed.
--
-- The login role Tally connects as must be allowed to `set role tally_app`: a superuser (the
-- development cluster) or a member of it. This migration makes the migrating owner a member, so
-- one owner URL works for both; production should log in as a role of its own that is a member
-- of tally_app and owns nothing (see README, Operations).

do $$
begin
    create role tally_app nologin;
exception
    -- Roles are per cluster: every database after the first (each test's, say) finds it there;
    -- two migrating at once can race on the catalog's unique index.
    when duplicate_object or unique_violation then null;
end $$;

do $$
begin
    execute format('grant tally_app to %I', current_user);
exception
    when duplicate_object or unique_violation then null;
end $$;

grant usage on schema public to tally_app;
grant select, insert, update, delete
   on invoices, invoice_lines, customers, payments, idempotency_keys, mcp_sessions, invoice_counters
   to tally_app;
-- The audit trail is append-only for the application (a trigger refuses change as well).
grant select, insert on audit_events to tally_app;
grant select on tenants to tally_app;
grant usage on all sequences in schema public to tally_app;

-- Foreign keys include the tenant: a line or a payment can only belong to its own tenant's invoice.
alter table invoices add constraint invoices_tenant_invoice unique (tenant_id, invoice_id);
alter table invoice_lines
    drop constraint invoice_lines_invoice_id_fkey,
    add constraint invoice_lines_invoice_fkey foreign key (tenant_id, invoice_id)
        references invoices (tenant_id, invoice_id) on delete cascade;
alter table payments
    drop constraint payments_invoice_id_fkey,
    add constraint payments_invoice_fkey foreign key (tenant_id, invoice_id)
        references invoices (tenant_id, invoice_id);

-- One policy per table, the same everywhere: the row's tenant is the transaction's. The
-- sub-select lets the planner read the setting once per statement rather than once per row.
do $$
declare
    t text;
begin
    foreach t in array array['invoices', 'invoice_lines', 'customers', 'payments', 'idempotency_keys',
                             'mcp_sessions', 'invoice_counters', 'audit_events']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy tenant_isolation on %I
                 using (tenant_id = (select current_setting(''app.tenant_id'', true)))
                 with check (tenant_id = (select current_setting(''app.tenant_id'', true)))', t);
    end loop;
end $$;

-- Tenants: the application sees its own row (the invoice-number prefix). Enabled but not forced,
-- so that the owner, and the maintenance functions below that run with its rights, can list
-- every tenant in order to visit each one under its own setting.
alter table tenants enable row level security;
create policy tenant_isolation on tenants
    using (tenant_id = (select current_setting('app.tenant_id', true)));

-- Maintenance that spans tenants, without a way around the policies: each visits every tenant
-- with that tenant's setting, and only these statements run with the owner's rights. They
-- filter by tenant as well, because an owner that is a superuser bypasses the policies.

-- Deletes idempotency keys older than `hours`; returns how many.
create function prune_idempotency_keys(hours integer) returns bigint
    language plpgsql security definer set search_path = public as $$
declare
    t text;
    done bigint := 0;
    n bigint;
begin
    for t in select tenant_id from tenants loop
        perform set_config('app.tenant_id', t, true);
        delete from idempotency_keys where tenant_id = t and created_at < now() - make_interval(hours => hours);
        get diagnostics n = row_count;
        done := done + n;
    end loop;
    perform set_config('app.tenant_id', '', true);
    return done;
end $$;

-- How many MCP sessions are live (not ended, seen within `idle_secs`), across tenants.
create function count_live_sessions(idle_secs double precision) returns bigint
    language plpgsql security definer set search_path = public as $$
declare
    t text;
    live bigint := 0;
    n bigint;
begin
    for t in select tenant_id from tenants loop
        perform set_config('app.tenant_id', t, true);
        select count(*) into n from mcp_sessions
         where tenant_id = t and ended_at is null and last_seen_at > now() - make_interval(secs => idle_secs);
        live := live + n;
    end loop;
    perform set_config('app.tenant_id', '', true);
    return live;
end $$;

revoke all on function prune_idempotency_keys(integer), count_live_sessions(double precision) from public;
grant execute on function prune_idempotency_keys(integer), count_live_sessions(double precision) to tally_app;
