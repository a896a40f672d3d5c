-- Issued invoices are legal documents: business dates in the tenant's own time zone, the parties
-- frozen at send, and one ledger rule for "what is open on an invoice at the end of a day".

-- The tenant's time zone (an IANA name), set with the business profile. "Today" for a tenant is
-- the date in that zone: the default as_of of every report, the future-date rules, overdue.
alter table business_profiles
    add column time_zone text not null default 'UTC' check (time_zone ~ '^[A-Za-z0-9_+/-]{1,64}$'),
    -- The logo by content hash, so that an issued invoice's frozen seller can name the logo it
    -- was issued with (see business_logos).
    add column logo_sha256 text check (logo_sha256 ~ '^[0-9a-f]{64}$'),
    -- How documents group digits and mark decimals, by example (src/domain/money.rs).
    add column amount_format text not null default '1,234.56'
        check (amount_format in ('1,234.56', '1.234,56', '1 234,56', '1''234.56'));

-- Every logo a tenant has printed, by content hash, never changed: a frozen seller refers to it.
create table business_logos (
    tenant_id  text not null references tenants,
    sha256     text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    media_type text not null check (media_type in ('image/png', 'image/svg+xml')),
    bytes      bytea not null check (octet_length(bytes) <= 262144),
    created_at timestamptz not null default now(),
    primary key (tenant_id, sha256)
);

alter table business_logos enable row level security;
alter table business_logos force row level security;
create policy tenant_isolation on business_logos
    using (tenant_id = (select current_setting('app.tenant_id', true)))
    with check (tenant_id = (select current_setting('app.tenant_id', true)));
grant select, insert on business_logos to tally_app;

-- A tenant's time zone, and the current tenant's today (the transaction's app.tenant_id): the
-- date in its time zone.
create function tenant_time_zone(p_tenant text) returns text
    language sql stable parallel safe
as $$
    select coalesce((select b.time_zone from business_profiles b where b.tenant_id = p_tenant), 'UTC')
$$;

create function tenant_today() returns date
    language sql stable parallel safe
as $$
    select (now() at time zone tenant_time_zone(current_setting('app.tenant_id', true)))::date
$$;

grant execute on function tenant_time_zone, tenant_today to tally_app;

alter table invoices
    -- The invoice's date (BT-2): chosen at send, never in the future, never before the last
    -- issued invoice's date, so numbers and dates rise together.
    add column issue_date   date,
    -- When the goods or services were supplied (BT-72), or the period they cover (BG-14).
    add column supply_date  date,
    add column period_start date,
    add column period_end   date,
    -- The business day it was voided on.
    add column void_date    date,
    -- The day it stopped being open (paid: its latest payment; void: the void date); null while
    -- a draft or open. Reports as of any day read it, so paid history costs them nothing.
    add column settled_on   date,
    -- The seller and the buyer as they were when the invoice was issued; every document of an
    -- issued invoice prints these, never the live profile or customer.
    add column seller       jsonb,
    add column buyer        jsonb;

-- The parties as an issued invoice keeps them, one definition for send and the trigger below
-- (which also completes the invoices issued before this release): the tenant's seller (its business profile, or its name alone) and a buyer (null
-- when the tenant has no record of the customer). src/domain/parties.rs reads these shapes.
create function seller_snapshot(p_tenant text) returns jsonb
    language sql stable parallel safe
as $$
    select coalesce(
        (select jsonb_build_object('legal_name', b.legal_name, 'address', b.address, 'tax_id', b.tax_id,
                                   'email', b.email, 'phone', b.phone,
                                   'payment_instructions', b.payment_instructions,
                                   'payment_link', b.payment_link, 'footer', b.footer,
                                   'logo_sha256', b.logo_sha256, 'logo_type', b.logo_type,
                                   'amount_format', b.amount_format)
           from business_profiles b where b.tenant_id = p_tenant),
        (select jsonb_build_object('legal_name', n.name) from tenants n where n.tenant_id = p_tenant),
        jsonb_build_object('legal_name', p_tenant))
$$;

create function buyer_snapshot(p_tenant text, p_customer_id text) returns jsonb
    language sql stable parallel safe
as $$
    select jsonb_build_object('customer_id', c.customer_id, 'name', c.name, 'email', c.email,
                              'billing_address', c.billing_address, 'tax_id', c.tax_id)
      from customers c
     where c.tenant_id = p_tenant and c.customer_id = p_customer_id
$$;

grant execute on function seller_snapshot, buyer_snapshot to tally_app;

-- Payments are dated by the day the money arrived (paid_at is that day's midnight, UTC).
alter table payments add column paid_on date generated always as ((paid_at at time zone 'UTC')::date) stored;

-- The previous release writes none of the new columns. So that it can still run against this
-- schema for one release (a rollback, an old allocation rescheduled), and to complete the rows it
-- wrote before this release, a trigger derives them when a write leaves them out. This release
-- always writes them, and the trigger's condition, checked without calling it, is then false.
create function invoices_derive_business_dates() returns trigger language plpgsql as $$
begin
    if new.issued_at is not null and new.issue_date is null then
        new.issue_date := (new.issued_at at time zone tenant_time_zone(new.tenant_id))::date;
    end if;
    if new.issued_at is not null and (new.seller is null or new.buyer is null) then
        new.seller := coalesce(new.seller, seller_snapshot(new.tenant_id));
        new.buyer := coalesce(new.buyer, buyer_snapshot(new.tenant_id, new.customer_id),
                              jsonb_build_object('customer_id', new.customer_id));
    end if;
    if new.status = 'void' and new.void_date is null then
        new.void_date := (coalesce(new.voided_at, now()) at time zone tenant_time_zone(new.tenant_id))::date;
    end if;
    if new.status in ('paid', 'void') and new.settled_on is null then
        new.settled_on := case when new.status = 'void' then new.void_date
                               else greatest(new.issue_date, (select max(p.paid_on) from payments p
                                                               where p.invoice_id = new.invoice_id)) end;
    end if;
    return new;
end $$;

create trigger invoices_derive_business_dates before insert or update on invoices for each row
    when ((new.issued_at is not null and (new.issue_date is null or new.seller is null or new.buyer is null))
          or (new.status = 'void' and new.void_date is null)
          or (new.status in ('paid', 'void') and new.settled_on is null))
    execute function invoices_derive_business_dates();

-- Invoices issued before this release get their dates and parties from the same trigger: a row
-- it has not completed is touched once, and the trigger fills what is missing, as the previous
-- release's writes will have it filled (dates in the tenant's zone, UTC for every tenant until
-- now; parties as they print today, which is what these invoices' documents have shown). The
-- owner runs this; the policies are forced, so each tenant is visited under its own setting, as
-- the maintenance functions do.
do $$
declare
    t text;
begin
    for t in select tenant_id from tenants loop
        perform set_config('app.tenant_id', t, true);
        insert into business_logos (tenant_id, sha256, media_type, bytes)
        select tenant_id, encode(sha256(logo), 'hex'), logo_type, logo from business_profiles
         where tenant_id = t and logo is not null
        on conflict do nothing;
        update business_profiles set logo_sha256 = encode(sha256(logo), 'hex') where tenant_id = t and logo is not null;
        update invoices set updated_at = updated_at
         where tenant_id = t and (issued_at is not null or status in ('paid', 'void'));
    end loop;
    perform set_config('app.tenant_id', '', true);
end $$;

alter table invoices
    add constraint invoices_issue_date_iff_issued check ((issue_date is null) = (issued_at is null)),
    add constraint invoices_parties_frozen check (issue_date is null or (seller is not null and buyer is not null)),
    add constraint invoices_period_ordered check ((period_start is null) = (period_end is null)
                                                  and (period_start is null or period_start <= period_end)),
    add constraint invoices_settled_when_closed check ((settled_on is not null) = (status in ('paid', 'void'))),
    add constraint invoices_void_dated check ((status = 'void') = (void_date is not null));

-- The invoices open now, however much paid history a tenant has; and those settled after a day,
-- for reports as of an earlier day.
drop index invoices_open;
create index invoices_open on invoices (tenant_id, customer_id, currency) where settled_on is null and issue_date is not null;
create index invoices_settled on invoices (tenant_id, settled_on) where settled_on is not null;
-- send_invoice reads the latest issue date of the tenant's series under the counter's lock.
create index invoices_issued on invoices (tenant_id, issue_date) where issue_date is not null;

-- THE ledger rule, the one definition every report reads (get_invoice, get_customer,
-- list_outstanding, statements, aging): the invoices of the current tenant that are open at the
-- end of `p_as_of`, with what is open on each. An invoice is on the books from its issue date
-- until the day it settled; what is open is its total less the payments dated by then (a payment
-- recorded as made before the issue date counts from the issue date). Inlined by Postgres into
-- each query that reads it, so its filters reach the indexes.
create function invoice_balances(p_as_of date)
    returns table (invoice_id uuid, customer_id text, currency text, number text, issue_date date,
                   due_date date, total_cents bigint, paid_cents bigint, open_cents bigint)
    language sql stable parallel safe
as $$
    select i.invoice_id, i.customer_id, i.currency, i.number, i.issue_date, i.due_date, i.total_cents,
           coalesce(paid.cents, 0)::bigint, (i.total_cents - coalesce(paid.cents, 0))::bigint
      from invoices i
      cross join lateral (select sum(p.amount_cents) as cents from payments p
                           where p.invoice_id = i.invoice_id and p.paid_on <= p_as_of) paid
     where i.tenant_id = current_setting('app.tenant_id', true)
       and i.issue_date <= p_as_of
       and (i.settled_on is null or i.settled_on > p_as_of)
$$;

grant execute on function invoice_balances to tally_app;

-- invoice_amount_due restated "amount due" beside the ledger; this release no longer calls it.
-- It stays for one release, so that the previous binary still runs against this schema.
comment on function invoice_amount_due(text, bigint, bigint) is 'Unused since 20261207000001; drop in the next release.';

-- Customers' usual currency: create_invoice uses it when no currency is given, read in one
-- statement (one round trip) scoped as every transaction is: tally_app, the tenant set.
comment on column customers.currency is 'The currency create_invoice uses for this customer when none is given.';

create function customer_currency(p_tenant text, p_customer_id text) returns text
    language plpgsql as $$
declare
    found_currency text;
begin
    set local role tally_app;
    perform set_config('app.tenant_id', p_tenant, true);
    select c.currency into found_currency from customers c
     where c.tenant_id = p_tenant and c.customer_id = p_customer_id;
    return found_currency;
end $$;

revoke all on function customer_currency from public;
grant execute on function customer_currency to tally_app;
