//! `tally tenant …` and `tally token …`: administration, run as the database owner. Output is
//! plain text for a terminal; a new token's secret is the only line on stdout, so that
//! `TOKEN=$(tally token create …)` captures it.

use chrono::Utc;

use crate::config::{TenantArgs, TenantCommand, TokenArgs, TokenCommand};
use crate::db;
use crate::domain::access::{AccessService, NewTenant, Role};

async fn service(db_args: &crate::config::DbArgs) -> anyhow::Result<AccessService> {
    let pool = db::connect(&db_args.settings()).await?;
    db::migrate(&pool).await?;
    Ok(AccessService::new(pool))
}

pub async fn tenant(args: &TenantArgs) -> anyhow::Result<()> {
    let access = service(&args.db).await?;
    match &args.command {
        TenantCommand::Create { id, name, invoice_prefix, credit_note_prefix, rate_limit, concurrency_limit } => {
            let t = access
                .create_tenant(&NewTenant {
                    tenant_id: id.clone(),
                    name: name.clone(),
                    invoice_prefix: Some(invoice_prefix.clone()),
                    credit_note_prefix: Some(credit_note_prefix.clone()),
                    rate_limit_per_second: rate_limit.map(|n| n.get()),
                    concurrency_limit: concurrency_limit.map(|n| n.get()),
                })
                .await?;
            eprintln!(
                "created tenant {} ({}), invoice numbers {}000001…, credit notes {}000001…",
                t.tenant_id, t.name, t.invoice_prefix, t.credit_note_prefix
            );
        }
        TenantCommand::List => {
            println!("{:<24} {:<10} {:>10} {:>12}  name", "tenant", "prefix", "rate/s", "concurrency");
            for t in access.list_tenants().await? {
                let limit = |n: Option<i32>| n.map_or("default".to_owned(), |n| n.to_string());
                println!(
                    "{:<24} {:<10} {:>10} {:>12}  {}",
                    t.tenant_id,
                    t.invoice_prefix,
                    limit(t.rate_limit_per_second),
                    limit(t.concurrency_limit),
                    t.name
                );
            }
        }
    }
    Ok(())
}

pub async fn token(args: &TokenArgs) -> anyhow::Result<()> {
    let access = service(&args.db).await?;
    match &args.command {
        TokenCommand::Create { tenant, role, name, expires_in } => {
            let role = Role::parse(role).ok_or_else(|| {
                let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
                anyhow::anyhow!("no role {role:?}: one of {}", all.join(", "))
            })?;
            let expires_at = expires_in
                .map(|d| chrono::Duration::from_std(d).map(|d| Utc::now() + d))
                .transpose()
                .map_err(|_| anyhow::anyhow!("--expires-in is too long"))?;
            let issued = access.create_token(tenant, name, role, expires_at).await?;
            eprintln!(
                "token {} for tenant {} as {} ({}); shown once, store it now:",
                issued.info.token_id, issued.info.tenant_id, issued.info.role, issued.info.name
            );
            println!("{}", issued.secret);
        }
        TokenCommand::List { tenant } => {
            println!("{:<36} {:<16} {:<7} {:<12} {:<8} name", "token", "tenant", "role", "hint", "state");
            let now = Utc::now();
            for t in access.list_tokens(tenant.as_deref()).await? {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(_), _) => "revoked",
                    (None, Some(at)) if at <= now => "expired",
                    _ => "live",
                };
                println!("{:<36} {:<16} {:<7} {:<12} {:<8} {}", t.token_id, t.tenant_id, t.role, t.hint, state, t.name);
            }
        }
        TokenCommand::Revoke { token_id } => {
            if !access.revoke_token(*token_id).await? {
                anyhow::bail!("no live token {token_id}");
            }
            eprintln!("revoked {token_id}");
        }
    }
    Ok(())
}
