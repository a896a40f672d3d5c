//! One write = one transaction, with its idempotency key and its audit records.
//!
//! ```ignore
//! let mut w = match Write::begin(&pool, actor, key).await? {
//!     Begun::Fresh(w) => w,
//!     Begun::Replay(first) => return Ok(first),
//! };
//! /* … statements on w.conn() …, w.audit(event) … */
//! w.commit(&result).await?;
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::audit::{self, Change};
use super::idempotency::{self, Claim, IdempotencyKey};
use super::{Actor, DomainError};

pub struct Write<'a> {
    tx: Transaction<'static, Postgres>,
    actor: &'a Actor,
    key: Option<IdempotencyKey>,
}

pub enum Begun<'a, T> {
    Fresh(Write<'a>),
    /// The key was used before with the same request: its first result.
    Replay(T),
}

impl<'a> Write<'a> {
    pub async fn begin<T: DeserializeOwned>(
        pool: &PgPool,
        actor: &'a Actor,
        key: Option<IdempotencyKey>,
    ) -> Result<Begun<'a, T>, DomainError> {
        let mut tx = pool.begin().await?;
        if let Some(key) = &key
            && let Claim::Replay(first) = idempotency::claim::<T>(&mut tx, &actor.tenant_id, key).await?
        {
            tx.rollback().await?;
            return Ok(Begun::Replay(first));
        }
        Ok(Begun::Fresh(Self { tx, actor, key }))
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub fn tenant(&self) -> &'a str {
        &self.actor.tenant_id
    }

    /// The idempotency key this write was made with, for an audit record written directly.
    pub fn key(&self) -> Option<&str> {
        self.key.as_ref().map(|k| k.key.as_str())
    }

    /// Appends an audit record of a change made in this write.
    pub async fn audit(&mut self, change: Change<'_>) -> Result<(), DomainError> {
        let key = self.key.as_ref().map(|k| k.key.as_str());
        audit::record(&mut self.tx, self.actor, key, change).await
    }

    /// Stores the result under the key (if any) and commits: the write is durable once this
    /// returns.
    pub async fn commit<T: Serialize>(mut self, result: &T) -> Result<(), DomainError> {
        if let Some(key) = &self.key {
            idempotency::complete(&mut self.tx, &self.actor.tenant_id, key, result).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}
