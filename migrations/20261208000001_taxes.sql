-- Taxes and discounts: a tenant's tax mode and rates; lines with exact quantities, units,
-- discounts and taxes; document allowances and charges; and the figures Tally's one calculation
-- (src/domain/tax/engine.rs) makes of them, stored with the invoice and frozen when it is sent.
--
-- Invoices before this migration are tax mode 'none': no allowances, charges or tax, and each
-- line's net is its total, so every figure they had is unchanged.

alter table business_profiles
    add column tax_mode text not null default 'none' check (tax_mode in ('none', 'vat', 'sales_tax')),
    add column prices_include_tax boolean not null default false;

-- A tenant's tax rates. A rate is never edited: to change one, archive it and create another, so
-- that every invoice keeps showing the rate it was issued with (each line also keeps a copy).
create table tax_rates (
    tax_rate_id           uuid primary key,
    tenant_id             text not null references tenants,
    name                  text not null check (length(name) between 1 and 100),
    kind                  text not null check (kind in ('vat', 'sales_tax')),
    percent               numeric(7, 4) not null check (percent between 0 and 100),
    -- VAT: the category (EN 16931 BT-151); sales tax: the jurisdiction.
    category              text check (category in ('S', 'Z', 'E', 'AE', 'K', 'G', 'O', 'L', 'M')),
    jurisdiction          text check (length(jurisdiction) between 1 and 100),
    exemption_reason_code text check (exemption_reason_code ~ '^[A-Z0-9-]{1,30}$'),
    exemption_reason      text check (length(exemption_reason) between 1 and 300),
    created_at            timestamptz not null default now(),
    archived_at           timestamptz,
    constraint tax_rates_kind check ((kind = 'vat') = (category is not null)
                                     and (kind = 'sales_tax') = (jurisdiction is not null)),
    constraint tax_rates_tenant_rate unique (tenant_id, tax_rate_id)
);

create index tax_rates_by_tenant on tax_rates (tenant_id, created_at, tax_rate_id);

alter table tax_rates enable row level security;
alter table tax_rates force row level security;
create policy tenant_isolation on tax_rates
    using (tenant_id = (select current_setting('app.tenant_id', true)))
    with check (tenant_id = (select current_setting('app.tenant_id', true)));
grant select, insert, update on tax_rates to tally_app;

-- Archiving is the only change a rate admits.
create function tax_rates_only_archive() returns trigger language plpgsql as $$
begin
    if (to_jsonb(new) - 'archived_at') is distinct from (to_jsonb(old) - 'archived_at')
       or (old.archived_at is not null and new.archived_at is distinct from old.archived_at) then
        raise exception 'a tax rate is never edited: archive it and create another'
            using errcode = 'check_violation';
    end if;
    return new;
end $$;

create trigger tax_rates_only_archive before update on tax_rates
    for each row execute function tax_rates_only_archive();

-- The invoice's figures (the engine's): tax mode and price basis it was calculated with, its
-- allowances, charges and tax (total_cents stays the grand total, so the ledger is unchanged), the
-- breakdown per tax group and the allowances and charges with their split.
alter table invoices
    add column tax_mode text not null default 'none' check (tax_mode in ('none', 'vat', 'sales_tax')),
    add column prices_include_tax boolean not null default false,
    add column allowance_cents bigint not null default 0 check (allowance_cents >= 0),
    add column charge_cents bigint not null default 0 check (charge_cents >= 0),
    add column tax_cents bigint not null default 0 check (tax_cents >= 0),
    add column tax_breakdown jsonb not null default '[]',
    add column adjustments jsonb not null default '[]';

-- Lines: an exact quantity and its unit (UN/ECE Rec 20), a discount, the net (EN 16931 BT-131),
-- the taxes (copies of the rates) and a service period. line_total_cents is the line's amount
-- after its discount, as priced; Postgres checks it with the same rounding (numeric round() is
-- half away from zero).
alter table invoice_lines
    drop constraint invoice_lines_total_is_product,
    drop constraint invoice_lines_quantity_check;
alter table invoice_lines
    alter column quantity type numeric(11, 4),
    add column unit_code text not null default 'C62' check (unit_code ~ '^[A-Z0-9]{1,3}$'),
    add column discount_percent numeric(7, 4) check (discount_percent between 0 and 100),
    add column discount_cents bigint not null default 0 check (discount_cents >= 0),
    -- Null on lines written before: their net is their total.
    add column net_cents bigint,
    add column taxes jsonb not null default '[]',
    add column period_start date,
    add column period_end date,
    add constraint invoice_lines_quantity check (quantity > 0),
    add constraint invoice_lines_total check (line_total_cents = round(amount_cents * quantity) - discount_cents),
    add constraint invoice_lines_period check (period_start <= period_end);

-- What a draft's calculation needs, in one round trip: the customer's usual currency, the tenant's
-- tax mode and price basis, and the rates asked for (archived ones included, so that the caller
-- can say why one cannot be used). Scoped to the tenant as create_invoice_once is.
create function tax_context(p_tenant text, p_customer_id text, p_rate_ids uuid[])
    returns table (currency text, tax_mode text, prices_include_tax boolean, rates jsonb)
    language plpgsql as $$
begin
    set local role tally_app;
    perform set_config('app.tenant_id', p_tenant, true);
    return query
        select (select c.currency from customers c where c.tenant_id = p_tenant and c.customer_id = p_customer_id),
               coalesce((select b.tax_mode from business_profiles b where b.tenant_id = p_tenant), 'none'),
               coalesce((select b.prices_include_tax from business_profiles b where b.tenant_id = p_tenant), false),
               coalesce((select jsonb_agg(to_jsonb(r) || jsonb_build_object('percent', r.percent::text)) from tax_rates r
                          where r.tenant_id = p_tenant and r.tax_rate_id = any(p_rate_ids)), '[]'::jsonb);
end $$;

revoke all on function tax_context from public;
grant execute on function tax_context to tally_app;

-- create_invoice_once, with the calculation's figures: the lines as one JSON array (each with its
-- number, figures and taxes) and the invoice's tax columns.
drop function create_invoice_once;

create function create_invoice_once(
    p_tenant text,
    -- The idempotency key (null for none), the request's hash, the reply and its shape.
    p_key text, p_request_hash text, p_response text, p_shape text, p_retention_hours integer,
    p_invoice_id uuid, p_entity_id text, p_customer_id text, p_currency text, p_total_cents bigint, p_due_date date,
    p_memo text, p_created_at timestamptz,
    p_lines jsonb,
    p_tax_mode text, p_prices_include_tax boolean, p_allowance_cents bigint, p_charge_cents bigint,
    p_tax_cents bigint, p_tax_breakdown jsonb, p_adjustments jsonb,
    -- The audit record (and the key's scope): the tool, session, details, token and role.
    p_tool text, p_session_id text, p_details jsonb, p_token_id uuid, p_token_name text, p_role text)
    returns table (outcome text, request_hash text, response text, result_shape text)
    language plpgsql as $$
begin
    set local role tally_app;
    perform set_config('app.tenant_id', p_tenant, true);
    -- Tally prices a draft that names no tax rate without reading the tenant's settings first
    -- (one round trip); if the tenant taxes after all, it is told so, writes nothing, and prices
    -- again with the settings.
    if p_tax_mode is distinct from coalesce((select b.tax_mode from business_profiles b
                                              where b.tenant_id = p_tenant), 'none') then
        return query select 'tax_mode', null::text, null::text, null::text;
        return;
    end if;
    if p_key is not null then
        insert into idempotency_keys as k (tenant_id, tool, idempotency_key, request_hash, response, result_shape)
        values (p_tenant, p_tool, p_key, p_request_hash, p_response::json, p_shape)
        on conflict (tenant_id, tool, idempotency_key) do update
           set request_hash = excluded.request_hash, response = excluded.response,
               result_shape = excluded.result_shape, created_at = now()
         where k.created_at < now() - make_interval(hours => p_retention_hours);
        if not found then
            return query
                select 'exists', k.request_hash, k.response::text, k.result_shape from idempotency_keys k
                 where k.tenant_id = p_tenant and k.tool = p_tool and k.idempotency_key = p_key;
            return;
        end if;
    end if;
    insert into invoices (invoice_id, tenant_id, customer_id, currency, total_cents, due_date, memo, created_at,
                          tax_mode, prices_include_tax, allowance_cents, charge_cents, tax_cents, tax_breakdown,
                          adjustments)
    values (p_invoice_id, p_tenant, p_customer_id, p_currency, p_total_cents, p_due_date, p_memo, p_created_at,
            p_tax_mode, p_prices_include_tax, p_allowance_cents, p_charge_cents, p_tax_cents, p_tax_breakdown,
            p_adjustments);
    perform insert_invoice_lines(p_tenant, p_invoice_id, p_lines);
    insert into audit_events (tenant_id, occurred_at, tool, session_id, entity, entity_id, action, from_status,
                              to_status, amount_cents, currency, idempotency_key, details, token_id, token_name, role)
    values (p_tenant, p_created_at, p_tool, p_session_id, 'invoice', p_entity_id, 'created', null,
            'draft', p_total_cents, p_currency, p_key, p_details, p_token_id, p_token_name, p_role);
    return query select 'created', null::text, null::text, null::text;
end $$;

revoke all on function create_invoice_once from public;
grant execute on function create_invoice_once to tally_app;

-- The one statement that writes an invoice's lines from the calculation's JSON (create and
-- update_draft_invoice both use it); it runs with its caller's rights and tenant.
create function insert_invoice_lines(p_tenant text, p_invoice_id uuid, p_lines jsonb) returns void
    language sql as $$
    insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, unit_code,
                               discount_percent, discount_cents, line_total_cents, net_cents, taxes, period_start,
                               period_end)
    select p_invoice_id, l.line_no, p_tenant, l.description, l.amount_cents, l.quantity, l.unit_code,
           l.discount_percent, l.discount_cents, l.line_total_cents, l.net_cents, coalesce(l.taxes, '[]'),
           l.period_start, l.period_end
      from jsonb_to_recordset(p_lines) as l(line_no integer, description text, amount_cents bigint, quantity numeric,
                                            unit_code text, discount_percent numeric, discount_cents bigint,
                                            line_total_cents bigint, net_cents bigint, taxes jsonb,
                                            period_start date, period_end date)
$$;

revoke all on function insert_invoice_lines from public;
grant execute on function insert_invoice_lines to tally_app;

-- Tax rates are audited like every other record.
alter table audit_events drop constraint audit_events_entity_check,
    add constraint audit_events_entity_check check (entity in ('invoice', 'customer', 'business_profile', 'tax_rate'));
