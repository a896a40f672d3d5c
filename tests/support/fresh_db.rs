//! A database of its own beside a test's (for replays that need a fresh one), dropped by `drop`.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub struct FreshDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl FreshDatabase {
    /// A new, empty database on the server of `admin_url` (the cluster `make test` runs).
    pub async fn create(admin_url: &str) -> Result<Self, sqlx::Error> {
        let name = format!("fresh_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(admin_url).await?;
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await?;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
        Ok(Self { admin_url: admin_url.to_owned(), url: format!("{base}/{name}"), name })
    }

    pub async fn drop(self) -> Result<(), sqlx::Error> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        sqlx::query(&format!("drop database {} with (force)", self.name)).execute(&mut admin).await?;
        Ok(())
    }
}
