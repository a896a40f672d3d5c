-- The golden documents' data: one tenant, "golden", written with fixed ids and times so that
-- its invoices and statements render to the same bytes on every machine and every run
-- (tests/api/golden.rs renders each with `tally render`, twice, in two processes).
-- Run as the database owner on a freshly migrated database.

insert into tenants (tenant_id, name, invoice_prefix) values ('golden', 'Golden Tenant', 'GLD-');
insert into invoice_counters (tenant_id, last_number) values ('golden', 9);

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
     E'1-2-3 Marunouchi, Chiyoda-ku\nTokyo 100-0005', null, '2026-01-02 10:00:00+00', '2026-01-02 10:00:00+00'),
    ('golden', 'hanse', 'Hanse Kontor AG', 'rechnung@hanse.example', 'EUR', 14,
     E'Mönckebergstraße 7\n20095 Hamburg\nGermany', 'DE136695976', '2026-01-02 10:00:00+00', '2026-01-02 10:00:00+00'),
    ('golden', 'lyon', 'Soierie Lyonnaise SARL', 'compta@soierie.example', 'EUR', 30,
     E'12 rue de la République\n69002 Lyon\nFrance', 'FR40303265045', '2026-01-02 10:00:00+00', '2026-01-02 10:00:00+00'),
    ('golden', 'ohio', 'Buckeye Machine Works Inc.', 'ap@buckeye.example', 'USD', 30,
     E'400 Industrial Pkwy\nColumbus, OH 43215\nUSA', null, '2026-01-02 10:00:00+00', '2026-01-02 10:00:00+00');

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
     'GLD-000006', '2026-03-10 09:00:00+00', null, null),
    ('00000000-0000-7000-8000-000000000008', 'golden', 'hanse', 'sent', 'EUR', 0, 0, '2026-04-03',
     null, '2026-03-20 08:00:00+00', '2026-03-20 09:00:00+00',
     'GLD-000007', '2026-03-20 09:00:00+00', null, null),
    ('00000000-0000-7000-8000-000000000009', 'golden', 'lyon', 'sent', 'EUR', 0, 0, '2026-04-20',
     null, '2026-03-21 08:00:00+00', '2026-03-21 09:00:00+00',
     'GLD-000008', '2026-03-21 09:00:00+00', null, null),
    ('00000000-0000-7000-8000-000000000010', 'golden', 'ohio', 'sent', 'USD', 0, 0, '2026-04-21',
     'Incoterms FCA Hamburg', '2026-03-22 08:00:00+00', '2026-03-22 09:00:00+00',
     'GLD-000009', '2026-03-22 09:00:00+00', null, null);

-- Taxed invoices, their figures worked out by hand (the engine's own golden table has more):
-- 8: 1.5 h × 120.00 = 180.00 at 19 %, 3 × 29.99 = 89.97 at 7 %; 10 % off 269.97 = 27.00, split
--    18.00 / 9.00 by largest remainder; S 19: 162.00, tax 30.78; S 7: 80.97, tax 5.67;
--    total 242.97 + 36.45 = 279.42.
-- 9: reverse charge to a French business: 10 h × 95.00 = 950.00, no VAT, "Reverse charge".
-- 10: a zero-rated export: 4 × 1,250.00 = 5,000.00 and freight 150.00, no VAT, "Export outside the EU".
update invoices set tax_mode = 'vat', allowance_cents = 2700, tax_cents = 3645,
       tax_breakdown = '[{"key": "S:19", "rate": {"tax_rate_id": "txr_00000000000070008000000000000019", "name": "USt 19 %", "percent": "19", "category": "S"}, "lines": 18000, "allowances": 1800, "charges": 0, "taxable": 16200, "tax": 3078},
                         {"key": "S:7", "rate": {"tax_rate_id": "txr_00000000000070008000000000000007", "name": "USt 7 %", "percent": "7", "category": "S"}, "lines": 8997, "allowances": 900, "charges": 0, "taxable": 8097, "tax": 567}]',
       adjustments = '[{"kind": "allowance", "reason": "Loyalty discount", "reason_code": "95", "percent": "10", "amount_cents": 2700,
                        "parts": [{"category": "S", "percent": "19", "tax_rate_ids": ["txr_00000000000070008000000000000019"], "amount_cents": 1800, "net_cents": 1800},
                                  {"category": "S", "percent": "7", "tax_rate_ids": ["txr_00000000000070008000000000000007"], "amount_cents": 900, "net_cents": 900}]}]'
 where invoice_id = '00000000-0000-7000-8000-000000000008';
update invoices set tax_mode = 'vat',
       tax_breakdown = '[{"key": "AE:0", "rate": {"tax_rate_id": "txr_000000000000700080000000000000ae", "name": "Reverse charge", "percent": "0", "category": "AE", "exemption_reason_code": "VATEX-EU-AE", "exemption_reason": "Reverse charge"}, "lines": 95000, "allowances": 0, "charges": 0, "taxable": 95000, "tax": 0}]'
 where invoice_id = '00000000-0000-7000-8000-000000000009';
update invoices set tax_mode = 'vat', charge_cents = 15000,
       tax_breakdown = '[{"key": "G:0", "rate": {"tax_rate_id": "txr_000000000000700080000000000000e0", "name": "Export", "percent": "0", "category": "G", "exemption_reason_code": "VATEX-EU-G", "exemption_reason": "Export outside the EU"}, "lines": 500000, "allowances": 0, "charges": 15000, "taxable": 515000, "tax": 0}]',
       adjustments = '[{"kind": "charge", "reason": "Freight to Columbus", "reason_code": "FC", "percent": null, "amount_cents": 15000,
                        "parts": [{"category": "G", "percent": "0", "tax_rate_ids": ["txr_000000000000700080000000000000e0"], "amount_cents": 15000, "net_cents": 15000}]}]'
 where invoice_id = '00000000-0000-7000-8000-000000000010';

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

insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, unit_code,
                           line_total_cents, net_cents, taxes, period_start, period_end)
values
    ('00000000-0000-7000-8000-000000000008', 1, 'golden', 'Customs consulting', 12000, 1.5, 'HUR', 18000, 18000,
     '[{"tax_rate_id": "txr_00000000000070008000000000000019", "name": "USt 19 %", "percent": "19", "category": "S"}]', null, null),
    ('00000000-0000-7000-8000-000000000008', 2, 'golden', 'Incoterms 2020 handbook', 2999, 3, 'C62', 8997, 8997,
     '[{"tax_rate_id": "txr_00000000000070008000000000000007", "name": "USt 7 %", "percent": "7", "category": "S"}]', null, null),
    ('00000000-0000-7000-8000-000000000009', 1, 'golden', 'Freight software support', 9500, 10, 'HUR', 95000, 95000,
     '[{"tax_rate_id": "txr_000000000000700080000000000000ae", "name": "Reverse charge", "percent": "0", "category": "AE", "exemption_reason_code": "VATEX-EU-AE", "exemption_reason": "Reverse charge"}]',
     '2026-03-01', '2026-03-20'),
    ('00000000-0000-7000-8000-000000000010', 1, 'golden', 'Conveyor drive unit', 125000, 4, 'C62', 500000, 500000,
     '[{"tax_rate_id": "txr_000000000000700080000000000000e0", "name": "Export", "percent": "0", "category": "G", "exemption_reason_code": "VATEX-EU-G", "exemption_reason": "Export outside the EU"}]', null, null);

update invoices i
   set total_cents = (select sum(line_total_cents) from invoice_lines l where l.invoice_id = i.invoice_id)
                     - i.allowance_cents + i.charge_cents + i.tax_cents
 where tenant_id = 'golden';

-- The void invoice's ledger entry, as voiding it writes one: what was open on it, on its void date.
insert into invoice_settlements (tenant_id, invoice_id, kind, amount_cents, dated, note, created_at)
select tenant_id, invoice_id, 'void', total_cents, void_date, void_reason, voided_at
  from invoices where tenant_id = 'golden' and status = 'void';

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

-- Credit notes, with the ledger entries create_credit_note writes:
-- CN-000001 (2026-03-25) returns one of the three handbooks of GLD-000007 (invoice 8): 2,999 of
--   the line; its set's taxable in proportion, 8,097 × 2,999 / 8,997 = 2,699 (the 10 % discount's
--   share, 300, credited with it); VAT 7 % of 26.99 = 1.8893 → 1.89; 28.88 in all. Nothing was
--   paid, so all of it reduces what is due.
-- CN-000002 (2026-03-28) credits all of GLD-000006 (invoice 7) after it was paid in cash: 450.00,
--   nothing due, so all of it was paid already and is refunded by bank transfer on 2026-03-30.
insert into credit_note_counters (tenant_id, last_number) values ('golden', 2);

insert into credit_notes (credit_note_id, tenant_id, invoice_id, customer_id, currency, number, issue_date, issued_at,
                          reason, memo, invoice_number, invoice_issue_date, seller, buyer, tax_mode, prices_include_tax,
                          lines, sets, tax_breakdown, subtotal_cents, allowance_cents, charge_cents, tax_cents,
                          total_cents, applied_cents, excess_cents, excess_to, created_at)
select '00000000-0000-7000-a000-000000000001', i.tenant_id, i.invoice_id, i.customer_id, i.currency, 'CN-000001',
       '2026-03-25', '2026-03-25 10:00:00+00', 'product_unsatisfactory', 'Damaged in transit; returned 2026-03-24.',
       i.number, i.issue_date, i.seller, i.buyer, 'vat', false,
       '[{"invoice_line_no": 2, "description": "Incoterms 2020 handbook", "unit_code": "C62", "quantity": "1", "unit_price": 2999, "amount_cents": 2999, "net_cents": 2999, "taxes": [{"tax_rate_id": "txr_00000000000070008000000000000007", "name": "USt 7 %", "percent": "7", "category": "S"}], "set": 1}]',
       '[{"set": 1, "lines": 2999, "amount": 2999, "taxable": 2699, "gross": 2699}]',
       '[{"key": "S:7", "rate": {"tax_rate_id": "txr_00000000000070008000000000000007", "name": "USt 7 %", "percent": "7", "category": "S"}, "lines": 2999, "allowances": 300, "charges": 0, "taxable": 2699, "tax": 189}]',
       2999, 300, 0, 189, 2888, 2888, 0, null, '2026-03-25 10:00:00+00'
  from invoices i where i.invoice_id = '00000000-0000-7000-8000-000000000008';

insert into credit_notes (credit_note_id, tenant_id, invoice_id, customer_id, currency, number, issue_date, issued_at,
                          reason, memo, invoice_number, invoice_issue_date, seller, buyer, tax_mode, prices_include_tax,
                          lines, sets, tax_breakdown, subtotal_cents, allowance_cents, charge_cents, tax_cents,
                          total_cents, applied_cents, excess_cents, excess_to, created_at)
select '00000000-0000-7000-a000-000000000002', i.tenant_id, i.invoice_id, i.customer_id, i.currency, 'CN-000002',
       '2026-03-28', '2026-03-28 10:00:00+00', 'duplicate', 'Billed twice: see GLD-000002.',
       i.number, i.issue_date, i.seller, i.buyer, 'none', false,
       '[{"invoice_line_no": 1, "description": "Customs brokerage, March", "unit_code": "C62", "quantity": "1", "unit_price": 45000, "amount_cents": 45000, "net_cents": 45000, "taxes": [], "set": 0}]',
       '[{"set": 0, "lines": 45000, "amount": 45000, "taxable": 45000, "gross": 45000}]', '[]',
       45000, 0, 0, 0, 45000, 0, 45000, 'refund', '2026-03-28 10:00:00+00'
  from invoices i where i.invoice_id = '00000000-0000-7000-8000-000000000007';

insert into invoice_settlements (tenant_id, invoice_id, kind, amount_cents, dated, credit_note_id, note, created_at)
values ('golden', '00000000-0000-7000-8000-000000000008', 'credit_note', 2888, '2026-03-25',
        '00000000-0000-7000-a000-000000000001', 'CN-000001', '2026-03-25 10:00:00+00');

insert into refunds (refund_id, tenant_id, customer_id, currency, amount_cents, refunded_on, method, reference,
                     credit_note_id, created_at)
values ('00000000-0000-7000-b000-000000000001', 'golden', 'blue-harbor', 'USD', 45000, '2026-03-30', 'bank_transfer',
        'RF-2026-0330', '00000000-0000-7000-a000-000000000002', '2026-03-30 10:00:00+00');

insert into customer_credit (tenant_id, customer_id, currency, kind, amount_cents, dated, credit_note_id, refund_id,
                             created_at)
values ('golden', 'blue-harbor', 'USD', 'credit_note', 45000, '2026-03-28', '00000000-0000-7000-a000-000000000002',
        null, '2026-03-28 10:00:00+00'),
       ('golden', 'blue-harbor', 'USD', 'refund', -45000, '2026-03-30', '00000000-0000-7000-a000-000000000002',
        '00000000-0000-7000-b000-000000000001', '2026-03-30 10:00:00+00');
