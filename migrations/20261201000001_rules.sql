-- Business rules written once, in SQL, for every query that needs them.

-- The status a caller sees: "overdue" is never stored; it is a sent invoice past its due date
-- on `today` (the UTC date, passed in so the function stays immutable and inlinable).
create function invoice_display_status(status text, due_date date, today date) returns text
    language sql immutable parallel safe
as $$ select case when status = 'sent' and due_date < today then 'overdue' else status end $$;

-- What is still owed on an invoice: nothing on a void one.
create function invoice_amount_due(status text, total_cents bigint, amount_paid_cents bigint) returns bigint
    language sql immutable parallel safe
as $$ select case when status = 'void' then 0 else total_cents - amount_paid_cents end $$;
