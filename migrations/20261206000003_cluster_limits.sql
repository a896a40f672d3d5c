-- Cluster-wide rate limits (src/middleware/shares.rs). TALLY_RATE_LIMIT and each tenant's rate
-- are budgets for the whole deployment, not per replica: every replica heartbeats here about
-- twice a second with how many calls per second arrived at each of its limits (its demand), and
-- reads back every live replica's row in the same statement. From those rows each replica
-- computes the same split of every budget and enforces its own part in memory; no call waits
-- on Postgres.
--
-- Not tenant data, so no row-level security; but the rows name tenants and their traffic, which
-- tally_app (one tenant at a time) may not read. So the table is the owner's alone, and the
-- server reaches it only through the two functions below, as with count_live_sessions.

create table limiter_replicas (
    replica_id    uuid primary key,
    heartbeat_at  timestamptz not null default now(),
    -- Calls per second arriving at this replica's global rate limit (smoothed).
    demand        double precision not null default 0 check (demand >= 0),
    -- The same per tenant with a rate limit, for those with recent calls: {"acme": 12.5, …}.
    tenant_demand jsonb not null default '{}' check (jsonb_typeof(tenant_demand) = 'object')
);

-- One round trip per heartbeat: stamps this replica's row (by the database's clock, so replicas'
-- clocks need not agree), forgets replicas silent for a minute, and returns every replica heard
-- from within `live_secs`, this one first.
create function limiter_heartbeat(replica uuid, global_demand double precision, demand_by_tenant jsonb,
                                  live_secs double precision)
    returns table (replica_id uuid, demand double precision, tenant_demand jsonb)
    language sql volatile security definer set search_path = public as $$
    with forgotten as (
        delete from limiter_replicas r
         where r.heartbeat_at < now() - make_interval(secs => greatest(60, live_secs * 10))
           and r.replica_id <> replica
    ), me as (
        insert into limiter_replicas as r (replica_id, heartbeat_at, demand, tenant_demand)
        values (replica, now(), greatest(global_demand, 0), coalesce(demand_by_tenant, '{}'))
        on conflict on constraint limiter_replicas_pkey do update
           set heartbeat_at = excluded.heartbeat_at, demand = excluded.demand,
               tenant_demand = excluded.tenant_demand
        returning r.replica_id, r.demand, r.tenant_demand
    )
    select m.replica_id, m.demand, m.tenant_demand from me m
    union all
    select r.replica_id, r.demand, r.tenant_demand from limiter_replicas r
     where r.replica_id <> replica and r.heartbeat_at > now() - make_interval(secs => live_secs)
$$;

-- A replica shutting down cleanly leaves at once, so the others take its share on their next
-- heartbeat instead of after the liveness window.
create function limiter_leave(replica uuid) returns void
    language sql volatile security definer set search_path = public as $$
    delete from limiter_replicas r where r.replica_id = replica
$$;

revoke all on function limiter_heartbeat(uuid, double precision, jsonb, double precision), limiter_leave(uuid)
    from public;
grant execute on function limiter_heartbeat(uuid, double precision, jsonb, double precision), limiter_leave(uuid)
    to tally_app;
