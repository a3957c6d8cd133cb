//! A bounded in-memory cache of session records in front of the SQLite store: a request with a
//! known cookie is answered from memory, where every request used to read its session from
//! SQLite. Records are only ever written through to the store, so a restart or an eviction just
//! reads them again.

use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Result, SessionStore};

#[derive(Debug, Clone)]
pub struct RecordCache {
    inner: Arc<Mutex<Inner>>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    records: HashMap<Id, Record>,
    /// Ids in the order they were cached: the oldest is evicted first.
    order: VecDeque<Id>,
}

impl RecordCache {
    pub fn new(capacity: usize) -> RecordCache {
        RecordCache { inner: Arc::default(), capacity: capacity.max(1) }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().records.len()
    }
}

#[async_trait]
impl SessionStore for RecordCache {
    /// The store behind has already made the id unique; the cache only keeps the record.
    async fn create(&self, record: &mut Record) -> Result<()> {
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let mut inner = self.inner.lock().unwrap();
        if inner.records.insert(record.id, record.clone()).is_none() {
            inner.order.push_back(record.id);
        }
        while inner.records.len() > self.capacity {
            let Some(oldest) = inner.order.pop_front() else { break };
            inner.records.remove(&oldest);
        }
        // Ids deleted meanwhile leave stale entries behind; keep the queue in proportion.
        if inner.order.len() > 2 * self.capacity {
            let Inner { records, order } = &mut *inner;
            order.retain(|id| records.contains_key(id));
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let mut inner = self.inner.lock().unwrap();
        match inner.records.get(id) {
            Some(r) if r.expiry_date > time::OffsetDateTime::now_utc() => Ok(Some(r.clone())),
            Some(_) => {
                inner.records.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.inner.lock().unwrap().records.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: i128, expires_in: time::Duration) -> Record {
        Record { id: Id(n), data: Default::default(), expiry_date: time::OffsetDateTime::now_utc() + expires_in }
    }

    #[tokio::test]
    async fn keeps_at_most_its_capacity_evicting_the_oldest() {
        let cache = RecordCache::new(2);
        for n in 1..=3 {
            cache.save(&record(n, time::Duration::hours(1))).await.unwrap();
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.load(&Id(1)).await.unwrap().is_none());
        assert!(cache.load(&Id(2)).await.unwrap().is_some());
        assert!(cache.load(&Id(3)).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn an_expired_record_is_not_returned() {
        let cache = RecordCache::new(4);
        cache.save(&record(1, time::Duration::seconds(-1))).await.unwrap();
        assert!(cache.load(&Id(1)).await.unwrap().is_none());
        assert_eq!(cache.len(), 0);
    }

    #[tokio::test]
    async fn deleted_ids_do_not_grow_the_queue_without_bound() {
        let cache = RecordCache::new(2);
        for n in 0..100 {
            cache.save(&record(n, time::Duration::hours(1))).await.unwrap();
            cache.delete(&Id(n)).await.unwrap();
        }
        assert!(cache.inner.lock().unwrap().order.len() <= 4);
    }
}
