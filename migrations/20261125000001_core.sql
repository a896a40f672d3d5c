-- Tally's first schema: tenants, invoices with their lines, idempotency keys and MCP sessions.
-- Money is bigint minor units of the row's ISO-4217 currency; times are timestamptz; dates are date.
-- Every business row carries tenant_id from day one: one default tenant now, isolation later.

create table tenants (
    tenant_id       text primary key check (tenant_id ~ '^[a-z0-9_-]{1,64}$'),
    name            text not null,
    -- Prefix of the gapless invoice numbers assigned when an invoice is sent.
    invoice_prefix  text not null default 'INV-',
    created_at      timestamptz not null default now()
);

insert into tenants (tenant_id, name) values ('default', 'Default tenant');

create table invoices (
    invoice_id        uuid primary key,
    tenant_id         text not null references tenants,
    -- The business's own key for the customer (a CRM id, say); Tally need not have seen it before.
    customer_id       text not null check (length(customer_id) between 1 and 64),
    -- Stored states; "overdue" is derived (sent and past its due date), never stored.
    status            text not null default 'draft' check (status in ('draft', 'sent', 'paid', 'void')),
    currency          text not null check (currency ~ '^[A-Z]{3}$'),
    total_cents       bigint not null check (total_cents >= 0),
    amount_paid_cents bigint not null default 0,
    due_date          date,
    memo              text check (length(memo) <= 2000),
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    constraint invoices_paid_within_total check (amount_paid_cents between 0 and total_cents)
);

-- Keyset pagination, newest first: the whole tenant, and one customer's invoices.
create index invoices_tenant_recent on invoices (tenant_id, created_at desc, invoice_id desc);
create index invoices_customer_recent on invoices (tenant_id, customer_id, created_at desc, invoice_id desc);

create table invoice_lines (
    invoice_id       uuid not null references invoices on delete cascade,
    line_no          integer not null check (line_no between 1 and 100),
    tenant_id        text not null references tenants,
    description      text not null check (length(description) between 1 and 500),
    amount_cents     bigint not null check (amount_cents >= 0),
    quantity         integer not null check (quantity >= 1),
    line_total_cents bigint not null,
    primary key (invoice_id, line_no),
    constraint invoice_lines_total_is_product check (line_total_cents = amount_cents * quantity)
);

-- A write tool's idempotency key is scoped to tenant + tool. The first call stores the request's
-- fingerprint and, on commit, its result; a repeat returns that result, a different request under
-- the same key is a conflict. Rows are pruned after their retention period.
create table idempotency_keys (
    tenant_id       text not null references tenants,
    tool            text not null,
    idempotency_key text not null check (length(idempotency_key) between 1 and 255),
    request_hash    text not null,
    response        jsonb,
    created_at      timestamptz not null default now(),
    primary key (tenant_id, tool, idempotency_key)
);

create index idempotency_keys_created on idempotency_keys (created_at);

-- Streamable HTTP sessions live here, not in process memory, so any replica can serve any session.
create table mcp_sessions (
    session_id       text primary key check (session_id ~ '^[\x21-\x7e]{16,128}$'),
    tenant_id        text not null references tenants,
    protocol_version text not null,
    client_name      text,
    client_version   text,
    created_at       timestamptz not null default now(),
    last_seen_at     timestamptz not null default now(),
    ended_at         timestamptz
);
