//! Log entries as the pages show them, kept in memory.
//!
//! An entry never changes once it is in the log, so what is made from it (its stored bytes for
//! the history API, its rendered line for item pages and the log page) can be made once and
//! kept: pages read over and over on set then cost a lookup per entry instead of a database
//! read and a JSON parse. Each cache is bounded: when full, it starts over.

use crate::App;
use crate::api::ApiError;
use armory_store::Store;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// What a cache keeps per entry, at most.
const KEPT: usize = 16_384;

/// Something made from each entry (`T` is cheap to clone: an `Arc`).
pub struct EntryCache<T> {
    made: Mutex<HashMap<u64, T>>,
}

impl<T> Default for EntryCache<T> {
    fn default() -> Self {
        EntryCache {
            made: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> EntryCache<T> {
    fn map(&self) -> MutexGuard<'_, HashMap<u64, T>> {
        // Each use is one pass of lookups or inserts: a panic elsewhere cannot leave it
        // half-written.
        self.made.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What `make` makes of each of the entries `indexes` (ascending) that exist, in index
    /// order; entries not kept yet are read from the log in one query.
    pub async fn get(
        &self,
        app: &App,
        indexes: &[u64],
        make: impl Fn(&[u8]) -> Result<T, ApiError>,
    ) -> Result<Vec<T>, ApiError> {
        let mut found: Vec<(u64, T)> = Vec::with_capacity(indexes.len());
        let mut missing = Vec::new();
        {
            let kept = self.map();
            for &i in indexes {
                match kept.get(&i) {
                    Some(t) => found.push((i, t.clone())),
                    None => missing.push(i),
                }
            }
        }
        if !missing.is_empty() {
            let read = app
                .node()
                .store()
                .entries_at(&missing)
                .await
                .map_err(ApiError::internal)?;
            let made = read
                .iter()
                .map(|(i, bytes)| Ok((*i, make(bytes)?)))
                .collect::<Result<Vec<_>, ApiError>>()?;
            let mut kept = self.map();
            if kept.len() + made.len() > KEPT {
                kept.clear();
            }
            for (i, t) in made {
                kept.insert(i, t.clone());
                found.push((i, t));
            }
            found.sort_by_key(|(i, _)| *i);
        }
        Ok(found.into_iter().map(|(_, t)| t).collect())
    }
}
