-- Receivables: customers, sending with gapless numbers, payments, voids and an append-only audit trail.

create table customers (
    tenant_id          text not null references tenants,
    customer_id        text not null check (length(customer_id) between 1 and 64),
    name               text not null check (length(name) between 1 and 200),
    email              text check (length(email) <= 254),
    currency           text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
    payment_terms_days integer not null default 30 check (payment_terms_days between 0 and 365),
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    primary key (tenant_id, customer_id)
);

-- list_customers pages by name (case-insensitive), then id.
create index customers_by_name on customers (tenant_id, lower(name), customer_id);

-- One counter per tenant. send_invoice increments it in the sending transaction: the row lock
-- serializes concurrent sends and a rollback returns the number, so numbers have no gaps.
create table invoice_counters (
    tenant_id   text primary key references tenants,
    last_number bigint not null default 0 check (last_number >= 0)
);

insert into invoice_counters (tenant_id) select tenant_id from tenants;

alter table invoices
    add column number      text,
    add column issued_at   timestamptz,
    add column voided_at   timestamptz,
    add column void_reason text check (length(void_reason) <= 500),
    -- A sent, paid or void-after-send invoice has its number and issue time; a draft has neither.
    add constraint invoices_number_iff_issued check ((number is null) = (issued_at is null)),
    add constraint invoices_sent_are_numbered check (status = 'draft' or status = 'void' or number is not null),
    add constraint invoices_paid_means_settled check ((status = 'paid') = (amount_paid_cents = total_cents and status <> 'void' and number is not null and total_cents > 0)),
    add constraint invoices_void_has_reason check ((status = 'void') = (voided_at is not null and void_reason is not null)),
    add constraint invoices_void_without_payments check (status <> 'void' or amount_paid_cents = 0);

create unique index invoices_number_unique on invoices (tenant_id, number) where number is not null;

create table payments (
    payment_id   uuid primary key,
    tenant_id    text not null references tenants,
    invoice_id   uuid not null references invoices,
    amount_cents bigint not null check (amount_cents > 0),
    currency     text not null check (currency ~ '^[A-Z]{3}$'),
    method       text not null check (method in ('bank_transfer', 'card', 'cash', 'check', 'other')),
    reference    text check (length(reference) <= 200),
    paid_at      timestamptz not null,
    created_at   timestamptz not null default now()
);

create index payments_by_invoice on payments (invoice_id, created_at);

-- Every change, append-only: who (tenant, tool, session), what (entity, from → to, amount), when.
create table audit_events (
    event_id        bigint generated always as identity primary key,
    tenant_id       text not null references tenants,
    occurred_at     timestamptz not null default now(),
    tool            text not null,
    session_id      text,
    entity          text not null check (entity in ('invoice', 'customer')),
    entity_id       text not null,
    action          text not null,
    from_status     text,
    to_status       text,
    amount_cents    bigint,
    currency        text,
    idempotency_key text,
    details         jsonb not null default '{}'
);

create index audit_events_by_entity on audit_events (tenant_id, entity, entity_id, event_id);

create function audit_events_are_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_events is append-only (% refused)', tg_op;
end;
$$;

create trigger audit_events_append_only before update or delete on audit_events
    for each statement execute function audit_events_are_append_only();
