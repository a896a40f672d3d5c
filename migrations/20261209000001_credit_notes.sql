-- Credit notes, refunds and customer credit: an issued invoice is corrected by a credit note (an
-- invoice itself, with its own gapless series), never edited; and one ledger of everything that
-- reduces what is open on an invoice (payments, credit notes, write-offs, customer credit applied,
-- voids), which the one balance rule reads.

-- The credit note series: its prefix and its counter, beside the invoices'.
alter table tenants add column credit_note_prefix text not null default 'CN-'
    check (credit_note_prefix ~ '^[A-Za-z0-9/_.-]{0,20}$');

create table credit_note_counters (
    tenant_id   text primary key references tenants,
    last_number bigint not null default 0 check (last_number >= 0)
);

-- A credit note: frozen when it is written, never changed (a trigger refuses updates).
create table credit_notes (
    credit_note_id     uuid primary key,
    tenant_id          text not null references tenants,
    invoice_id         uuid not null,
    customer_id        text not null,
    currency           text not null check (currency ~ '^[A-Z]{3}$'),
    number             text not null,
    issue_date         date not null,
    issued_at          timestamptz not null default now(),
    reason             text not null check (reason in ('duplicate', 'order_change', 'product_unsatisfactory',
                                                       'pricing_error', 'void', 'other')),
    memo               text check (length(memo) <= 2000),
    -- What it corrects (EN 16931 BG-3: the preceding invoice's number and date).
    invoice_number     text not null,
    invoice_issue_date date not null,
    -- The parties as the invoice froze them.
    seller             jsonb not null,
    buyer              jsonb not null,
    -- Its figures, by the invoice's calculation (src/domain/credit_notes/figures.rs): the credited
    -- lines, the per-set and per-group amounts, and the totals.
    tax_mode           text not null check (tax_mode in ('none', 'vat', 'sales_tax')),
    prices_include_tax boolean not null,
    lines              jsonb not null,
    sets               jsonb not null,
    tax_breakdown      jsonb not null,
    subtotal_cents     bigint not null,
    allowance_cents    bigint not null check (allowance_cents >= 0),
    charge_cents       bigint not null check (charge_cents >= 0),
    tax_cents          bigint not null check (tax_cents >= 0),
    total_cents        bigint not null check (total_cents > 0),
    -- Where the money goes: the part up to what was still due reduces the invoice; the rest was
    -- paid already and goes back (a refund), to the customer's credit, or was settled elsewhere.
    applied_cents      bigint not null check (applied_cents >= 0),
    excess_cents       bigint not null check (excess_cents >= 0),
    excess_to          text check (excess_to in ('refund', 'customer_credit', 'out_of_band')),
    created_at         timestamptz not null default now(),
    constraint credit_notes_parts check (applied_cents + excess_cents = total_cents
                                         and (excess_cents = 0) = (excess_to is null)),
    constraint credit_notes_totals check (subtotal_cents - allowance_cents + charge_cents + tax_cents = total_cents),
    constraint credit_notes_number unique (tenant_id, number),
    constraint credit_notes_tenant_note unique (tenant_id, credit_note_id),
    constraint credit_notes_invoice_fkey foreign key (tenant_id, invoice_id) references invoices (tenant_id, invoice_id)
);

create index credit_notes_by_invoice on credit_notes (tenant_id, invoice_id, created_at);
create index credit_notes_recent on credit_notes (tenant_id, created_at desc, credit_note_id desc);
create index credit_notes_customer on credit_notes (tenant_id, customer_id, issue_date);

create function credit_notes_frozen() returns trigger language plpgsql as $$
begin
    raise exception 'an issued credit note never changes' using errcode = 'check_violation';
end $$;

create trigger credit_notes_frozen before update or delete on credit_notes
    for each row execute function credit_notes_frozen();

-- Money paid back to a customer (or settled outside Tally: method out_of_band), in the customer's
-- currency, from its credit.
create table refunds (
    refund_id      uuid primary key,
    tenant_id      text not null references tenants,
    customer_id    text not null,
    currency       text not null check (currency ~ '^[A-Z]{3}$'),
    amount_cents   bigint not null check (amount_cents > 0),
    refunded_on    date not null,
    method         text not null check (method in ('bank_transfer', 'card', 'cash', 'check', 'other', 'out_of_band')),
    reference      text check (length(reference) <= 200),
    credit_note_id uuid,
    created_at     timestamptz not null default now(),
    constraint refunds_credit_note_fkey foreign key (tenant_id, credit_note_id)
        references credit_notes (tenant_id, credit_note_id)
);

create index refunds_customer on refunds (tenant_id, customer_id, refunded_on);

-- A customer's credit per currency, as a ledger: what a credit note's excess or an overpayment
-- added (+), what was applied to an invoice or refunded (−). Its sum as of a day is the credit the
-- customer had at the end of it; writers lock the (customer, currency) and never take it below 0.
create table customer_credit (
    entry_id       bigint generated always as identity primary key,
    tenant_id      text not null references tenants,
    customer_id    text not null,
    currency       text not null check (currency ~ '^[A-Z]{3}$'),
    kind           text not null check (kind in ('credit_note', 'overpayment', 'applied', 'refund')),
    amount_cents   bigint not null check (amount_cents <> 0),
    dated          date not null,
    credit_note_id uuid,
    payment_id     uuid,
    invoice_id     uuid,
    refund_id      uuid,
    created_at     timestamptz not null default now(),
    constraint customer_credit_sign check ((kind in ('credit_note', 'overpayment')) = (amount_cents > 0))
);

create index customer_credit_by_customer on customer_credit (tenant_id, customer_id, currency, dated);

-- THE ledger of an issued invoice: every amount that reduced what is open on it, dated. Payments
-- (their part applied to the invoice) and voids are written by the triggers below, so every writer
-- (this release and the previous one) keeps it; credit notes, write-offs and customer credit
-- applied are written by the application.
create table invoice_settlements (
    settlement_id  bigint generated always as identity primary key,
    tenant_id      text not null references tenants,
    invoice_id     uuid not null,
    kind           text not null check (kind in ('payment', 'credit_note', 'write_off', 'credit', 'void')),
    amount_cents   bigint not null check (amount_cents > 0),
    dated          date not null,
    payment_id     uuid,
    credit_note_id uuid,
    note           text check (length(note) <= 500),
    created_at     timestamptz not null default now(),
    constraint invoice_settlements_invoice_fkey foreign key (tenant_id, invoice_id)
        references invoices (tenant_id, invoice_id)
);

create index invoice_settlements_by_invoice on invoice_settlements (invoice_id, dated);

do $$
declare
    t text;
begin
    foreach t in array array['credit_note_counters', 'credit_notes', 'refunds', 'customer_credit',
                             'invoice_settlements']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy tenant_isolation on %I
                 using (tenant_id = (select current_setting(''app.tenant_id'', true)))
                 with check (tenant_id = (select current_setting(''app.tenant_id'', true)))', t);
    end loop;
end $$;

grant select, insert, update on credit_note_counters to tally_app;
grant select, insert on credit_notes, refunds, customer_credit, invoice_settlements to tally_app;
grant usage on all sequences in schema public to tally_app;

-- What settled the invoice so far (Σ of its ledger), on its own row: a move reads it with the row's
-- lock, so concurrent moves on one invoice always see each other's (a sum over the ledger in the
-- locking statement would be read from the snapshot taken before the wait).
alter table invoices add column settled_cents bigint not null default 0;

-- The part of a payment that an invoice took (the rest, an overpayment recorded on purpose, went
-- to the customer's credit).
alter table payments add column excess_cents bigint not null default 0 check (excess_cents >= 0);
alter table payments add constraint payments_excess_within check (excess_cents <= amount_cents);

create function payments_settle() returns trigger language plpgsql as $$
begin
    if new.amount_cents > new.excess_cents then
        insert into invoice_settlements (tenant_id, invoice_id, kind, amount_cents, dated, payment_id)
        values (new.tenant_id, new.invoice_id, 'payment', new.amount_cents - new.excess_cents, new.paid_on,
                new.payment_id);
    end if;
    return null;
end $$;

create trigger payments_settle after insert on payments for each row execute function payments_settle();

-- A void closes what was still open on an issued invoice (nothing, when credit notes closed it).
create function invoices_settle_void() returns trigger language plpgsql as $$
declare
    open_cents bigint;
begin
    open_cents := new.total_cents - new.settled_cents;
    if open_cents > 0 then
        insert into invoice_settlements (tenant_id, invoice_id, kind, amount_cents, dated, note)
        values (new.tenant_id, new.invoice_id, 'void', open_cents, new.void_date, new.void_reason);
    end if;
    return null;
end $$;

create trigger invoices_settle_void after update of status on invoices for each row
    when (new.status = 'void' and old.status <> 'void' and new.issue_date is not null)
    execute function invoices_settle_void();

-- The ledger of every invoice issued before this release, from its payments and its void, tenant
-- by tenant under its own setting (the policies are forced).
do $$
declare
    t text;
begin
    for t in select tenant_id from tenants loop
        perform set_config('app.tenant_id', t, true);
        insert into invoice_settlements (tenant_id, invoice_id, kind, amount_cents, dated, payment_id, created_at)
        select p.tenant_id, p.invoice_id, 'payment', p.amount_cents, p.paid_on, p.payment_id, p.created_at
          from payments p where p.tenant_id = t order by p.created_at, p.payment_id;
        insert into invoice_settlements (tenant_id, invoice_id, kind, amount_cents, dated, note, created_at)
        select i.tenant_id, i.invoice_id, 'void', i.total_cents - i.amount_paid_cents, i.void_date, i.void_reason,
               coalesce(i.voided_at, now())
          from invoices i
         where i.tenant_id = t and i.status = 'void' and i.issue_date is not null and i.total_cents > i.amount_paid_cents;
        update invoices i set settled_cents = s.cents
          from (select invoice_id, sum(amount_cents) as cents from invoice_settlements where tenant_id = t
                 group by invoice_id) s
         where i.tenant_id = t and i.invoice_id = s.invoice_id;
    end loop;
    perform set_config('app.tenant_id', '', true);
end $$;

-- Every settlement adds to its invoice's settled_cents (from here on: the backfill above set it).
create function invoice_settlements_add() returns trigger language plpgsql as $$
begin
    update invoices set settled_cents = settled_cents + new.amount_cents
     where tenant_id = new.tenant_id and invoice_id = new.invoice_id;
    return null;
end $$;

create trigger invoice_settlements_add after insert on invoice_settlements for each row
    execute function invoice_settlements_add();

alter table invoices add constraint invoices_settled_within_total check (settled_cents between 0 and total_cents);

-- THE ledger rule, restated over the settlements: the invoices of the current tenant open at the
-- end of `p_as_of`, and what is open on each: its total less every settlement dated by then (one
-- dated before the issue date counts from the issue date). Same columns as before: paid_cents is
-- what settled it by then, by any means.
create or replace function invoice_balances(p_as_of date)
    returns table (invoice_id uuid, customer_id text, currency text, number text, issue_date date,
                   due_date date, total_cents bigint, paid_cents bigint, open_cents bigint)
    language sql stable parallel safe
as $$
    select i.invoice_id, i.customer_id, i.currency, i.number, i.issue_date, i.due_date, i.total_cents,
           coalesce(settled.cents, 0)::bigint, (i.total_cents - coalesce(settled.cents, 0))::bigint
      from invoices i
      cross join lateral (select sum(s.amount_cents) as cents from invoice_settlements s
                           where s.invoice_id = i.invoice_id and s.dated <= p_as_of) settled
     where i.tenant_id = current_setting('app.tenant_id', true)
       and i.issue_date <= p_as_of
       and (i.settled_on is null or i.settled_on > p_as_of)
$$;

-- Each customer's credit per currency at the end of `p_as_of` (only those with any).
create function customer_credit_balances(p_as_of date)
    returns table (customer_id text, currency text, credit_cents bigint)
    language sql stable parallel safe
as $$
    select c.customer_id, c.currency, sum(c.amount_cents)::bigint
      from customer_credit c
     where c.tenant_id = current_setting('app.tenant_id', true) and c.dated <= p_as_of
     group by c.customer_id, c.currency
    having sum(c.amount_cents) <> 0
$$;

grant execute on function customer_credit_balances to tally_app;

-- History names each step.
alter table audit_events drop constraint audit_events_action_known,
    add constraint audit_events_action_known
        check (action in ('created', 'updated', 'sent', 'payment_applied', 'voided', 'credited', 'issued',
                          'refunded'));
alter table audit_events drop constraint audit_events_entity_check,
    add constraint audit_events_entity_check
        check (entity in ('invoice', 'customer', 'business_profile', 'tax_rate', 'credit_note'));

-- The day an invoice stopped being open, once nothing is due: its latest settlement's date, not
-- before its issue date.
create function settled_day(p_tenant text, p_invoice_id uuid, p_issue_date date) returns date
    language sql stable parallel safe
as $$
    select greatest(p_issue_date, (select max(s.dated) from invoice_settlements s
                                    where s.tenant_id = p_tenant and s.invoice_id = p_invoice_id))
$$;

grant execute on function settled_day to tally_app;

-- Paid now means settled by payments and credits together, not by payments alone: the ledger
-- (invoice_settlements) says what settled an invoice; the row keeps the facts it can check.
alter table invoices drop constraint invoices_paid_means_settled,
    add constraint invoices_paid_means_settled
        check (status <> 'paid' or (number is not null and total_cents > 0 and settled_cents = total_cents));

-- Write-offs: a bad debt closes what is still due without a payment (not a tax document, so not
-- a credit note). The invoice is then written_off.
alter table invoices drop constraint invoices_status_check,
    add constraint invoices_status_check check (status in ('draft', 'sent', 'paid', 'void', 'written_off'));
alter table invoices drop constraint invoices_settled_when_closed,
    add constraint invoices_settled_when_closed
        check ((settled_on is not null) = (status in ('paid', 'void', 'written_off')));
alter table audit_events drop constraint audit_events_action_known,
    add constraint audit_events_action_known
        check (action in ('created', 'updated', 'sent', 'payment_applied', 'voided', 'credited', 'issued',
                          'refunded', 'written_off', 'credit_applied'));
alter table audit_events drop constraint audit_events_status_known,
    add constraint audit_events_status_known
        check (from_status in ('draft', 'sent', 'paid', 'overdue', 'void', 'written_off')
               and to_status in ('draft', 'sent', 'paid', 'overdue', 'void', 'written_off'));
