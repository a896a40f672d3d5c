-- Documents: what a tenant prints as the seller on its invoices and statements, and the buyer's
-- billing details on customers.

-- One row per tenant, set by its admins (set_business_profile). Until it is set, documents print
-- the tenant's name alone.
create table business_profiles (
    tenant_id            text primary key references tenants,
    legal_name           text not null check (length(legal_name) between 1 and 200),
    -- Multi-line postal address, as printed.
    address              text check (length(address) <= 500),
    tax_id               text check (length(tax_id) <= 50),
    email                text check (length(email) <= 254),
    phone                text check (length(phone) <= 50),
    -- Bank details or other instructions, as printed under "How to pay".
    payment_instructions text check (length(payment_instructions) <= 1000),
    payment_link         text check (length(payment_link) <= 500),
    footer               text check (length(footer) <= 300),
    logo                 bytea check (octet_length(logo) <= 262144),
    logo_type            text check (logo_type in ('image/png', 'image/svg+xml')),
    updated_at           timestamptz not null default now(),
    constraint business_profiles_logo_typed check ((logo is null) = (logo_type is null))
);

alter table business_profiles enable row level security;
alter table business_profiles force row level security;
create policy tenant_isolation on business_profiles
    using (tenant_id = (select current_setting('app.tenant_id', true)))
    with check (tenant_id = (select current_setting('app.tenant_id', true)));
grant select, insert, update on business_profiles to tally_app;

alter table customers
    add column billing_address text check (length(billing_address) <= 500),
    add column tax_id          text check (length(tax_id) <= 50);

alter table audit_events drop constraint audit_events_entity_check,
    add constraint audit_events_entity_check check (entity in ('invoice', 'customer', 'business_profile'));
