-- A keyed write's result is kept as the exact JSON text of its first reply (json keeps text as
-- given; jsonb would reorder and respace it), so a repeat replays the very same bytes.
-- With it, the shape it was kept in (a fingerprint of the tool's outputSchema): a repeat never
-- replays a reply in a shape that is no longer published. Rows kept before have none.
alter table idempotency_keys
    alter column response type json using response::json,
    add column result_shape text;

-- The audit vocabulary, as the domain's enums name it (AuditAction, InvoiceStatus, Entity).
alter table audit_events
    add constraint audit_events_action_known
        check (action in ('created', 'updated', 'sent', 'payment_applied', 'voided')),
    add constraint audit_events_status_known
        check (from_status in ('draft', 'sent', 'paid', 'overdue', 'void')
               and to_status in ('draft', 'sent', 'paid', 'overdue', 'void'));
