//! One write = one transaction, with its idempotency key and its audit records.
//!
//! ```ignore
//! let mut w = match Write::begin(&pool, actor, key, &command).await? {
//!     Begun::Fresh(w) => w,
//!     Begun::Replay(first) => return Ok(first),
//! };
//! /* … statements on w.conn() …, w.audit(event) … */
//! w.commit(result).await
//! ```

use serde::Serialize;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::audit::{self, Change};
use super::idempotency::{self, Claim, IdempotencyKey, Keep, Keyed, Written};
use super::{Actor, DomainError};

/// A write in progress whose result is `T`.
pub struct Write<'a, T> {
    tx: Transaction<'static, Postgres>,
    actor: &'a Actor,
    key: Option<(IdempotencyKey, Keep<T>)>,
}

pub enum Begun<'a, T> {
    Fresh(Write<'a, T>),
    /// The key was used before with the same request: its first result, as kept.
    Replay(Written<T>),
}

impl<'a, T> Write<'a, T> {
    /// Begins the write of `request` (the typed command, which a key's fingerprint covers).
    pub async fn begin(
        pool: &PgPool,
        actor: &'a Actor,
        keyed: Option<Keyed<T>>,
        request: &impl Serialize,
    ) -> Result<Begun<'a, T>, DomainError> {
        let key = keyed.map(|k| (IdempotencyKey::new(actor.via, k.key, request, k.shape), k.keep));
        let mut tx = crate::db::begin_for(pool, &actor.tenant_id).await?;
        if let Some((key, _)) = &key
            && let Claim::Replay(first) = idempotency::claim(&mut tx, &actor.tenant_id, key).await?
        {
            tx.rollback().await?;
            return Ok(Begun::Replay(Written::Replayed(first)));
        }
        Ok(Begun::Fresh(Self { tx, actor, key }))
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub fn tenant(&self) -> &'a str {
        &self.actor.tenant_id
    }

    /// Appends an audit record of a change made in this write.
    pub async fn audit(&mut self, change: Change<'_>) -> Result<(), DomainError> {
        let key = self.key.as_ref().map(|(k, _)| k.key.as_str());
        audit::record(&mut self.tx, self.actor, key, change).await
    }

    /// Stores the kept result under the key (if any) and commits: the write is durable once
    /// this returns. With a key the caller gets the kept form, exactly what a repeat will get.
    pub async fn commit(mut self, result: T) -> Result<Written<T>, DomainError> {
        let written = match self.key.take() {
            Some((key, keep)) => {
                let kept = keep(result);
                idempotency::complete(&mut self.tx, &self.actor.tenant_id, &key, &kept).await?;
                Written::Kept(kept)
            }
            None => Written::Value(result),
        };
        self.tx.commit().await?;
        Ok(written)
    }
}
