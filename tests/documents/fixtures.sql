-- The golden documents' data: one tenant, "golden", written with fixed ids and times so that
-- its invoices and statements render to the same bytes on every machine and every run
-- (tests/api/golden.rs renders each with `tally render`, twice, in two processes).
-- Run as the database owner on a freshly migrated database.

insert into tenants (tenant_id, name, invoice_prefix) values ('golden', 'Golden Tenant', 'GLD-');
insert into invoice_counters (tenant_id, last_number) values ('golden', 6);

insert into business_profiles (tenant_id, legal_name, address, tax_id, email, phone, payment_instructions,
                               payment_link, footer, updated_at)
values ('golden', 'Northwind Trading GmbH', E'Hafenstraße 12\n20457 Hamburg\nGermany', 'DE811907980',
        'billing@northwind.example', '+49 40 1234567',
        E'IBAN DE89 3704 0044 0532 0130 00\nBIC COBADEFFXXX', 'https://pay.northwind.example/i',
        'Northwind Trading GmbH · Amtsgericht Hamburg HRB 123456 · Managing director: A. Weber',
        '2026-01-02 09:00:00+00');

insert into customers (tenant_id, customer_id, name, email, currency, payment_terms_days, billing_address, tax_id,
                       created_at, updated_at)
values
    ('golden', 'blue-harbor', 'Blue Harbor Logistics Ltd', 'ap@blueharbor.example', 'USD', 30,
     E'77 Dock Street\nLiverpool L3 4AA\nUnited Kingdom', 'GB987654321', '2026-01-02 10:00:00+00', '2026-01-02 10:00:00+00'),
    ('golden', 'olga', 'Ольга Παπαδοπούλου', 'olga@example.kw', 'KWD', 14,
     E'ул. Пушкина 10\nΑθήνα 10558', 'EL999999999', '2026-01-02 10:00:00+00', '2026-01-02 10:00:00+00'),
    ('golden', 'sakura', 'Sakura Kōgyō K.K.', 'keiri@sakura.example', 'JPY', 30,
     E'1-2-3 Marunouchi, Chiyoda-ku\nTokyo 100-0005', null, '2026-01-02 10:00:00+00', '2026-01-02 10:00:00+00');

-- Invoices: a 100-line multi-page invoice; one partly paid twice; a void one; a draft; KWD for a
-- Cyrillic and Greek name; JPY; and a quarter of activity for blue-harbor (the statement).
insert into invoices (invoice_id, tenant_id, customer_id, status, currency, total_cents, amount_paid_cents,
                      due_date, memo, created_at, updated_at, number, issued_at, voided_at, void_reason)
values
    ('00000000-0000-7000-8000-000000000001', 'golden', 'blue-harbor', 'sent', 'USD', 0, 0, '2026-02-14',
     'Q1 freight consolidation, PO 4471', '2026-01-15 08:00:00+00', '2026-01-15 09:00:00+00',
     'GLD-000001', '2026-01-15 09:00:00+00', null, null),
    ('00000000-0000-7000-8000-000000000002', 'golden', 'blue-harbor', 'sent', 'USD', 0, 0, '2026-03-05',
     null, '2026-02-03 08:00:00+00', '2026-02-03 09:00:00+00',
     'GLD-000002', '2026-02-03 09:00:00+00', null, null),
    ('00000000-0000-7000-8000-000000000003', 'golden', 'blue-harbor', 'void', 'USD', 0, 0, '2026-03-12',
     null, '2026-02-10 08:00:00+00', '2026-02-11 16:00:00+00',
     'GLD-000003', '2026-02-10 09:00:00+00', '2026-02-11 16:00:00+00', 'Issued twice; see GLD-000002'),
    ('00000000-0000-7000-8000-000000000004', 'golden', 'blue-harbor', 'draft', 'USD', 0, 0, null,
     'Draft for April: awaiting sign-off', '2026-03-20 08:00:00+00', '2026-03-20 08:00:00+00',
     null, null, null, null),
    ('00000000-0000-7000-8000-000000000005', 'golden', 'olga', 'sent', 'KWD', 0, 0, '2026-03-16',
     'Спасибо — ευχαριστώ', '2026-03-02 08:00:00+00', '2026-03-02 09:00:00+00',
     'GLD-000004', '2026-03-02 09:00:00+00', null, null),
    ('00000000-0000-7000-8000-000000000006', 'golden', 'sakura', 'sent', 'JPY', 0, 0, '2026-04-01',
     null, '2026-03-02 08:00:00+00', '2026-03-02 09:00:00+00',
     'GLD-000005', '2026-03-02 09:00:00+00', null, null),
    ('00000000-0000-7000-8000-000000000007', 'golden', 'blue-harbor', 'sent', 'USD', 0, 0, '2026-04-09',
     null, '2026-03-10 08:00:00+00', '2026-03-10 09:00:00+00',
     'GLD-000006', '2026-03-10 09:00:00+00', null, null);

insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, line_total_cents)
select '00000000-0000-7000-8000-000000000001', n, 'golden',
       'Container ' || lpad(n::text, 3, '0') || ' — Hamburg to Liverpool, 40ft, door to door',
       125000 + n * 35, 1 + n % 3, (125000 + n * 35) * (1 + n % 3)
  from generate_series(1, 100) n;

insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, line_total_cents)
values
    ('00000000-0000-7000-8000-000000000002', 1, 'golden', 'Customs brokerage, February', 45000, 1, 45000),
    ('00000000-0000-7000-8000-000000000002', 2, 'golden', 'Warehousing (pallet-weeks)', 1250, 48, 60000),
    ('00000000-0000-7000-8000-000000000002', 3, 'golden', 'Insurance surcharge', 9999, 1, 9999),
    ('00000000-0000-7000-8000-000000000003', 1, 'golden', 'Customs brokerage, February', 45000, 1, 45000),
    ('00000000-0000-7000-8000-000000000004', 1, 'golden', 'Freight forwarding retainer, April', 300000, 1, 300000),
    ('00000000-0000-7000-8000-000000000005', 1, 'golden', 'Консультация — διαβούλευση', 125500, 2, 251000),
    ('00000000-0000-7000-8000-000000000005', 2, 'golden', 'Travel', 40250, 1, 40250),
    ('00000000-0000-7000-8000-000000000006', 1, 'golden', 'Export documentation', 38000, 3, 114000),
    ('00000000-0000-7000-8000-000000000006', 2, 'golden', 'Handling', 1500, 1, 1500),
    ('00000000-0000-7000-8000-000000000007', 1, 'golden', 'Customs brokerage, March', 45000, 1, 45000);

update invoices i set total_cents = (select sum(line_total_cents) from invoice_lines l where l.invoice_id = i.invoice_id)
 where tenant_id = 'golden';

insert into payments (payment_id, tenant_id, invoice_id, amount_cents, currency, method, reference, paid_at, created_at)
values
    ('00000000-0000-7000-9000-000000000001', 'golden', '00000000-0000-7000-8000-000000000001', 10000000, 'USD',
     'bank_transfer', 'BH-2026-0117', '2026-01-30 12:00:00+00', '2026-01-30 12:00:00+00'),
    ('00000000-0000-7000-9000-000000000002', 'golden', '00000000-0000-7000-8000-000000000002', 50000, 'USD',
     'card', 'ch_3PqZ', '2026-02-20 12:00:00+00', '2026-02-20 12:00:00+00'),
    ('00000000-0000-7000-9000-000000000003', 'golden', '00000000-0000-7000-8000-000000000002', 30000, 'USD',
     'check', 'Cheque 004512', '2026-03-04 12:00:00+00', '2026-03-04 12:00:00+00'),
    ('00000000-0000-7000-9000-000000000004', 'golden', '00000000-0000-7000-8000-000000000005', 100000, 'KWD',
     'bank_transfer', 'TRX-1', '2026-03-09 12:00:00+00', '2026-03-09 12:00:00+00'),
    ('00000000-0000-7000-9000-000000000005', 'golden', '00000000-0000-7000-8000-000000000007', 45000, 'USD',
     'cash', null, '2026-03-25 12:00:00+00', '2026-03-25 12:00:00+00');

update invoices i
   set amount_paid_cents = paid.cents,
       status = case when paid.cents = i.total_cents then 'paid' else i.status end
  from (select invoice_id, sum(amount_cents) as cents from payments group by invoice_id) paid
 where paid.invoice_id = i.invoice_id and i.tenant_id = 'golden';
