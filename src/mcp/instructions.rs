//! What an agent is told at `initialize` about using Tally well.

pub const INSTRUCTIONS: &str = "\
Tally keeps a business's receivables in Postgres: customers, invoices and payments.

Typical flow: upsert_customer (the buyer an invoice names; sets payment terms and currency) -> \
create_invoice (a draft) -> update_draft_invoice if needed -> send_invoice (assigns the invoice number, \
e.g. INV-000042, the issue date and the due date, and fixes the parties as they are now) -> apply_payment as money arrives (partial payments are fine; the invoice becomes paid when nothing \
is due). void_invoice cancels a draft or an unpaid sent invoice. list_outstanding shows who owes what and \
how late; list_invoices with status=overdue finds invoices to chase.

- Money is always an integer in the currency's minor units (USD cents: 1050 means $10.50; JPY has \
no minor unit). Never send decimals or strings for amounts. Totals are computed by Tally.
- customer_id is the business's own key for a customer (a CRM id such as cust_42); a draft may name \
one Tally has not seen, but an invoice is sent only to a customer added with upsert_customer. invoice_id values look like inv_ followed by 32 hex digits and come from Tally; \
the human-facing invoice number (INV-000042) is a different thing.
- Dates are YYYY-MM-DD; today is the date in the business's time zone, and no payment, issue date \
or statement may be after it. Currencies are ISO-4217 codes such as USD, EUR, JPY (default: the \
customer's usual currency, else USD).
- Every write tool accepts an idempotency_key. Send a fresh unique key (a UUID) with each new write and \
send the SAME key again when you retry that write after a timeout or a retryable error: Tally then \
returns the first result instead of writing twice. The same key with different arguments is refused.
- A tool result with isError=true explains what to fix: error.code, error.message, and for invalid \
arguments error.errors[] with path, expected, received and allowed values; for a move the invoice's \
state does not allow (invalid_state), error.details has current_status and allowed_actions. Correct and \
call again.
- A JSON-RPC error whose data.retryable is true (rate limited, overloaded, timeout, database unavailable) \
means: wait data.retry_after_ms milliseconds, then retry the same call with the same idempotency_key.
- list_invoices and list_customers page: pass next_cursor back as cursor until it is null.";
