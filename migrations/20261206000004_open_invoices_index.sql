-- The invoices open now: list_outstanding as of today (its default) reads only these, through
-- this index, however much paid history the tenant has. A sent invoice is the only kind that can
-- be open today: a paid one's payments are all dated by today (none may be dated in the future),
-- a void one was voided by today, and a draft was never issued.
create index invoices_open on invoices (tenant_id, customer_id, currency) where status = 'sent';
