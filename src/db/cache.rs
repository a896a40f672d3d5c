//! Short-lived copies of rows every call reads (sessions, tokens), dropped the moment Postgres
//! says they changed.
//!
//! Triggers (migration `…_hot_path`) `NOTIFY tally_access` when a session ends or changes its log
//! level, when a token is revoked, edited or deleted, and when a tenant's quotas change. Every
//! replica listens on one connection of its own and evicts what the payload names. So a revoked
//! token or an ended session is refused on every replica within the notification's delay (a few
//! milliseconds), not after a TTL.
//!
//! The cache is used only while that listener is connected: until it has subscribed, and from
//! the moment it fails until it has subscribed again, every lookup goes to Postgres and nothing is
//! kept, and the caches are emptied on each (re)subscription. A lookup that raced an
//! invalidation is not kept either (the generation it started under has moved on). Entries also
//! expire after [`TTL`], which bounds how stale anything the triggers do not cover can be (a
//! session's idle expiry, a token's last-used stamp).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;

/// The channel the triggers notify.
pub const CHANNEL: &str = "tally_access";

/// How long an entry is served at most.
pub const TTL: Duration = Duration::from_secs(30);

/// Entries kept at most per cache; a full cache is emptied (cheap, and a miss is only a query).
const CAPACITY: usize = 100_000;

/// Whether the caches may be used now, and a generation that moves on every invalidation.
#[derive(Debug, Default)]
struct Freshness {
    live: AtomicBool,
    generation: AtomicU64,
}

/// A lookup's ticket: the generation it started under, or none while the listener is down.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(Option<u64>);

/// Which entries a change makes stale.
pub type Stale<K, V> = fn(&Changed, &K, &V) -> bool;

/// One cache of values by key, each valid until a deadline.
pub struct Cache<K, V> {
    fresh: Arc<Freshness>,
    entries: Mutex<HashMap<K, (V, Instant)>>,
    stale: Stale<K, V>,
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    /// The value, if one is kept, live and unexpired. Take the ticket first (see `keep`).
    pub fn get(&self, key: &K) -> Option<V> {
        if !self.fresh.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.lock().expect("cache lock");
        entries.get(key).filter(|(_, until)| *until > Instant::now()).map(|(v, _)| v.clone())
    }

    /// Taken before a lookup in Postgres: `keep` stores its result only if nothing was
    /// invalidated meanwhile.
    pub fn ticket(&self) -> Ticket {
        let f = &self.fresh;
        Ticket(f.live.load(Ordering::Acquire).then(|| f.generation.load(Ordering::Acquire)))
    }

    /// Keeps what a lookup under `ticket` read, until `until` at the latest (and `TTL`).
    pub fn keep(&self, ticket: Ticket, key: K, value: V, until: Option<Instant>) {
        let deadline = Instant::now() + TTL;
        let until = until.map_or(deadline, |u| u.min(deadline));
        let mut entries = self.entries.lock().expect("cache lock");
        // Checked under the lock, which invalidations also take: one that moved the generation
        // on after this lookup began has already run, and this value may be what it invalidated.
        if ticket.0.is_none() || ticket.0 != Some(self.fresh.generation.load(Ordering::Acquire)) {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (value, until));
    }

    /// Drops one entry at once (this replica's own change, before its notification is back).
    pub fn forget(&self, key: &K) {
        let mut entries = self.entries.lock().expect("cache lock");
        self.fresh.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(key);
    }
}

/// What the listener does to a cache, whatever it holds.
trait Invalidate: Send + Sync {
    fn changed(&self, changed: &Changed);
}

impl<K: Eq + Hash + Send, V: Send> Invalidate for Cache<K, V> {
    fn changed(&self, changed: &Changed) {
        let mut entries = self.entries.lock().expect("cache lock");
        self.fresh.generation.fetch_add(1, Ordering::AcqRel);
        match changed {
            Changed::All => entries.clear(),
            _ => entries.retain(|k, (v, _)| !(self.stale)(changed, k, v)),
        }
    }
}

/// What a notification on [`CHANNEL`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    Session(String),
    Token(uuid::Uuid),
    /// Anything else (a tenant's quotas), or a gap in the notifications: drop everything.
    All,
}

impl Changed {
    pub fn parse(payload: &str) -> Self {
        match payload.split_once(':') {
            Some(("session", id)) => Self::Session(id.to_owned()),
            Some(("token", id)) => id.parse().map_or(Self::All, Self::Token),
            _ => Self::All,
        }
    }
}

/// A process's caches and the listener that keeps them honest.
#[derive(Clone, Default)]
pub struct Caches {
    fresh: Arc<Freshness>,
    all: Arc<Mutex<Vec<Arc<dyn Invalidate>>>>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").field("live", &self.is_live()).finish_non_exhaustive()
    }
}

impl Caches {
    /// A new cache, served only while this set's listener is subscribed.
    pub fn cache<K, V>(&self, stale: Stale<K, V>) -> Arc<Cache<K, V>>
    where
        K: Eq + Hash + Send + 'static,
        V: Send + 'static,
    {
        let cache = Arc::new(Cache { fresh: self.fresh.clone(), entries: Mutex::default(), stale });
        self.all.lock().expect("caches lock").push(cache.clone());
        cache
    }

    /// Whether lookups are being served from memory now.
    pub fn is_live(&self) -> bool {
        self.fresh.live.load(Ordering::Acquire)
    }

    pub fn apply(&self, changed: &Changed) {
        for cache in self.all.lock().expect("caches lock").iter() {
            cache.changed(changed);
        }
    }

    fn set_live(&self, live: bool) {
        // Emptied on every change of state: nothing is kept across a gap in the notifications.
        self.apply(&Changed::All);
        self.fresh.live.store(live, Ordering::Release);
    }

    /// Listens on [`CHANNEL`] until dropped, on a connection of its own; a lost connection turns
    /// the caches off at once and is retried every second.
    pub async fn listen(self, pool: PgPool) {
        let own = super::own_connection(&pool);
        loop {
            let listened = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(&own).await?;
                listener.listen(CHANNEL).await?;
                self.set_live(true);
                loop {
                    let n = listener.try_recv().await?;
                    match n {
                        Some(n) => self.apply(&Changed::parse(n.payload())),
                        // The connection was lost (and sqlx would quietly reconnect): whatever
                        // was notified meanwhile is gone, so the caches go off until we are back.
                        None => return Err(sqlx::Error::PoolClosed),
                    }
                }
            };
            let result: Result<(), sqlx::Error> = listened.await;
            self.set_live(false);
            if let Err(e) = result {
                tracing::warn!(error = %e, "listening for access changes failed; caches off, retrying in 1 s");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> (Arc<Freshness>, Arc<Cache<String, u32>>) {
        let caches = Caches::default();
        (caches.fresh.clone(), caches.cache(|changed, k, _| matches!(changed, Changed::Session(id) if id == k)))
    }

    #[test]
    fn nothing_is_served_or_kept_while_the_listener_is_down() {
        let (fresh, c) = cache();
        c.keep(c.ticket(), "a".into(), 1, None);
        fresh.live.store(true, Ordering::Release);
        assert_eq!(c.get(&"a".into()), None);
        c.keep(c.ticket(), "a".into(), 1, None);
        assert_eq!(c.get(&"a".into()), Some(1));
        fresh.live.store(false, Ordering::Release);
        assert_eq!(c.get(&"a".into()), None);
    }

    #[test]
    fn a_lookup_that_raced_an_invalidation_is_not_kept() {
        let (fresh, c) = cache();
        fresh.live.store(true, Ordering::Release);
        let ticket = c.ticket();
        c.changed(&Changed::Session("a".into()));
        c.keep(ticket, "a".into(), 1, None);
        assert_eq!(c.get(&"a".into()), None);
    }

    #[test]
    fn an_entry_ends_at_its_own_deadline() {
        let (fresh, c) = cache();
        fresh.live.store(true, Ordering::Release);
        c.keep(c.ticket(), "a".into(), 1, Some(Instant::now()));
        assert_eq!(c.get(&"a".into()), None);
    }

    #[test]
    fn payloads_name_what_changed() {
        assert_eq!(Changed::parse("session:abc"), Changed::Session("abc".into()));
        let id = uuid::Uuid::nil();
        assert_eq!(Changed::parse(&format!("token:{id}")), Changed::Token(id));
        assert_eq!(Changed::parse("token:nonsense"), Changed::All);
        assert_eq!(Changed::parse("tenant:acme"), Changed::All);
    }
}
