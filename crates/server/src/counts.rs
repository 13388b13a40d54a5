//! Fixed-window counts per key (a person, a network address): how many times something
//! happened in the current window, and whether another is allowed. Kept in memory; a restart
//! starts every window afresh.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// At most `limit` counted events per key in each window of `window_ms`.
#[derive(Debug)]
pub(crate) struct Windowed<K> {
    window_ms: i64,
    limit: u32,
    counts: Mutex<HashMap<K, (i64, u32)>>,
}

/// Keys kept before the windows that ended are dropped.
const KEYS_KEPT: usize = 10_000;

impl<K: Eq + Hash> Windowed<K> {
    pub(crate) fn new(window_ms: i64, limit: u32) -> Self {
        Windowed {
            window_ms,
            limit,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `f` on `key`'s count in the window that holds `now_ms` (a new window if its last
    /// one ended).
    fn with<T>(&self, key: K, now_ms: i64, f: impl FnOnce(&mut u32) -> T) -> T {
        let mut map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > KEYS_KEPT {
            map.retain(|_, (start, _)| now_ms - *start < self.window_ms);
        }
        let entry = map.entry(key).or_insert((now_ms, 0));
        if now_ms - entry.0 >= self.window_ms {
            *entry = (now_ms, 0);
        }
        f(&mut entry.1)
    }

    /// Whether `key` has counted fewer than the limit in its current window.
    pub(crate) fn allows(&self, key: K, now_ms: i64) -> bool {
        self.with(key, now_ms, |n| *n < self.limit)
    }

    /// Counts one more for `key`.
    pub(crate) fn add(&self, key: K, now_ms: i64) {
        self.with(key, now_ms, |n| *n = n.saturating_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_held_back_at_its_limit_until_its_window_ends() {
        let w = Windowed::new(60_000, 2);
        assert!(w.allows("ivy", 0));
        w.add("ivy", 0);
        w.add("ivy", 10);
        assert!(!w.allows("ivy", 59_999));
        assert!(w.allows("sam", 59_999), "another key has its own count");
        assert!(w.allows("ivy", 60_000), "a new window");
    }
}
