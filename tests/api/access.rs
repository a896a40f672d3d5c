//! Tenants and tokens through the real binary: `tally tenant` and `tally token` as an operator
//! runs them, and the lookup every call makes.

use std::process::Command;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tally::domain::access::{AccessService, Role, well_formed};

use crate::helpers::{database_url, pool};

fn tally(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("TALLY_LOG", "warn")
        .output()
        .expect("tally runs");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[sqlx::test]
async fn an_operator_makes_a_tenant_and_a_token_and_revokes_it(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let owner = pool(o, c).await;
    let (ok, _, err) = tally(&url, &["tenant", "create", "acme", "--name", "Acme Ltd", "--invoice-prefix", "AC-"]);
    assert!(ok, "{err}");
    let (ok, _, err) = tally(&url, &["tenant", "create", "acme", "--name", "Again"]);
    assert!(!ok && err.contains("exists already"), "{err}");
    let (ok, _, err) = tally(&url, &["tenant", "create", "Not Valid", "--name", "x"]);
    assert!(!ok && err.contains("a-z, 0-9"), "{err}");
    let (ok, out, _) = tally(&url, &["tenant", "list"]);
    assert!(ok && out.contains("acme") && out.contains("AC-") && out.contains("Acme Ltd"), "{out}");

    let (ok, out, err) =
        tally(&url, &["token", "create", "--tenant", "acme", "--role", "clerk", "--name", "billing agent"]);
    assert!(ok, "{err}");
    let secret = out.trim().to_owned();
    assert!(well_formed(&secret), "stdout is exactly the token: {out:?}");
    assert!(!err.contains(&secret), "the secret is printed once, on stdout");
    let (ok, _, err) = tally(&url, &["token", "create", "--tenant", "nobody", "--role", "clerk", "--name", "x"]);
    assert!(!ok && err.contains("no tenant"), "{err}");
    let (ok, _, err) = tally(&url, &["token", "create", "--tenant", "acme", "--role", "root", "--name", "x"]);
    assert!(!ok && err.contains("viewer, clerk, admin"), "{err}");

    // Postgres holds the hash and a hint, never the secret.
    let stored: Vec<(Vec<u8>, String)> =
        sqlx::query_as("select token_hash, hint from api_tokens").fetch_all(&owner).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, tally::domain::access::token_hash(&secret));
    assert!(!stored[0].1.contains(&secret[6..20]));
    let dump: String =
        sqlx::query_scalar("select string_agg(t::text, '') from api_tokens t").fetch_one(&owner).await.unwrap();
    assert!(!dump.contains(&secret));

    let access = AccessService::new(owner.clone());
    let who = access.authenticate(&secret).await.unwrap().expect("a live token");
    assert_eq!((who.tenant_id.as_str(), who.role, who.name.as_str()), ("acme", Role::Clerk, "billing agent"));
    // A typo fails the checksum (no query), an unknown but well-formed token finds nothing.
    let mut typo = secret.clone().into_bytes();
    typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    assert_eq!(access.authenticate(std::str::from_utf8(&typo).unwrap()).await.unwrap(), None);
    assert_eq!(access.authenticate(&tally::domain::access::generate_token()).await.unwrap(), None);

    let (ok, out, _) = tally(&url, &["token", "list", "--tenant", "acme"]);
    assert!(ok && out.contains(&who.token_id.to_string()) && out.contains("live") && !out.contains(&secret), "{out}");
    let (ok, _, err) = tally(&url, &["token", "revoke", &who.token_id.to_string()]);
    assert!(ok, "{err}");
    assert_eq!(access.authenticate(&secret).await.unwrap(), None, "revoked: refused from the next call on");
    let (ok, _, err) = tally(&url, &["token", "revoke", &who.token_id.to_string()]);
    assert!(!ok && err.contains("no live token"), "{err}");
    let (_, out, _) = tally(&url, &["token", "list"]);
    assert!(out.contains("revoked"), "{out}");
}

#[sqlx::test]
async fn an_expired_token_is_refused(o: PgPoolOptions, c: PgConnectOptions) {
    let owner = pool(o, c).await;
    let access = AccessService::new(owner.clone());
    let issued = access
        .create_token("default", "short-lived", Role::Viewer, Some(chrono::Utc::now() + chrono::Duration::hours(1)))
        .await
        .unwrap();
    assert!(access.authenticate(&issued.secret).await.unwrap().is_some());
    sqlx::query("update api_tokens set expires_at = now() - interval '1 second'").execute(&owner).await.unwrap();
    assert_eq!(access.authenticate(&issued.secret).await.unwrap(), None);
    assert!(access.create_token("default", "x", Role::Viewer, Some(chrono::Utc::now())).await.is_err(), "past expiry");
}
