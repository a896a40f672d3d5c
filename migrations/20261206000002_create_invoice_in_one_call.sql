-- create_invoice in one round trip: the idempotency claim, the invoice, its lines, the audit
-- record and the kept reply, written by one function called as one statement. The statement is
-- its own transaction (autocommit), so the call commits, durably, before its reply leaves
-- Postgres: one round trip where a begin, a claim, the write, the kept reply and a commit took
-- five.
--
-- The function switches to tally_app and sets the tenant itself, exactly as every other
-- transaction begins (src/db.rs, begin_for): row-level security applies to every statement in it.
-- It is not security definer, so it can do nothing its caller could not.
--
-- The reply is made before the write (Tally computes the invoice's times and lines itself) and
-- kept with the claim in one insert. A key already used returns 'exists' and what was kept under
-- it, and writes nothing; Tally compares the request's hash and the kept shape, as before.

create function create_invoice_once(
    p_tenant text,
    -- The idempotency key (null for none), the request's hash, the reply and its shape.
    p_key text, p_request_hash text, p_response text, p_shape text, p_retention_hours integer,
    p_invoice_id uuid, p_entity_id text, p_customer_id text, p_currency text, p_total_cents bigint, p_due_date date,
    p_memo text, p_created_at timestamptz,
    p_descriptions text[], p_amounts bigint[], p_quantities integer[],
    -- The audit record (and the key's scope): the tool, session, details, token and role.
    p_tool text, p_session_id text, p_details jsonb, p_token_id uuid, p_token_name text, p_role text)
    returns table (outcome text, request_hash text, response text, result_shape text)
    language plpgsql as $$
begin
    set local role tally_app;
    perform set_config('app.tenant_id', p_tenant, true);
    if p_key is not null then
        insert into idempotency_keys as k (tenant_id, tool, idempotency_key, request_hash, response, result_shape)
        values (p_tenant, p_tool, p_key, p_request_hash, p_response::json, p_shape)
        on conflict (tenant_id, tool, idempotency_key) do update
           set request_hash = excluded.request_hash, response = excluded.response,
               result_shape = excluded.result_shape, created_at = now()
         where k.created_at < now() - make_interval(hours => p_retention_hours);
        if not found then
            return query
                select 'exists', k.request_hash, k.response::text, k.result_shape from idempotency_keys k
                 where k.tenant_id = p_tenant and k.tool = p_tool and k.idempotency_key = p_key;
            return;
        end if;
    end if;
    insert into invoices (invoice_id, tenant_id, customer_id, currency, total_cents, due_date, memo, created_at)
    values (p_invoice_id, p_tenant, p_customer_id, p_currency, p_total_cents, p_due_date, p_memo, p_created_at);
    insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, line_total_cents)
    select p_invoice_id, l.line_no, p_tenant, l.description, l.amount_cents, l.quantity, l.amount_cents * l.quantity
      from unnest(p_descriptions, p_amounts, p_quantities) with ordinality as l(description, amount_cents, quantity, line_no);
    insert into audit_events (tenant_id, occurred_at, tool, session_id, entity, entity_id, action, from_status,
                              to_status, amount_cents, currency, idempotency_key, details, token_id, token_name, role)
    values (p_tenant, p_created_at, p_tool, p_session_id, 'invoice', p_entity_id, 'created', null,
            'draft', p_total_cents, p_currency, p_key, p_details, p_token_id, p_token_name, p_role);
    return query select 'created', null::text, null::text, null::text;
end $$;

revoke all on function create_invoice_once from public;
grant execute on function create_invoice_once to tally_app;
