//! The projection tables: the current state (where every item is, its custodian and state, counts
//! per lot and container, open incidents, each item's history) as rows an outsider can query.
//!
//! Each collection of [`armory_core::state::State`] is one kind of row, keyed by the item's id; the
//! value is the item as JSON. Rows are a cache of `fold(apply, log)`: the node writes the rows a
//! command changed in the same transaction as its entries, and `armory verify --replay` rebuilds the
//! state from the log and compares it with the rows.

use armory_core::state::State;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One row to write: `value: None` deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWrite {
    pub collection: &'static str,
    pub key: String,
    pub value: Option<String>,
}

/// A stored row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub collection: String,
    pub key: String,
    pub value: String,
}

/// Why rows do not make a state.
#[derive(Debug, thiserror::Error)]
#[error("projection row {collection}/{key}: {why}")]
pub struct RowError {
    pub collection: String,
    pub key: String,
    pub why: String,
}

fn key_text<K: Serialize>(key: &K) -> String {
    match serde_json::to_value(key) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn json<V: Serialize>(v: &V) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn diff_map<K: Serialize + Ord, V: Serialize + PartialEq>(
    collection: &'static str,
    before: &BTreeMap<K, V>,
    after: &BTreeMap<K, V>,
    out: &mut Vec<RowWrite>,
) {
    for (k, v) in after {
        if before.get(k) != Some(v) {
            out.push(RowWrite {
                collection,
                key: key_text(k),
                value: Some(json(v)),
            });
        }
    }
    for k in before.keys().filter(|k| !after.contains_key(k)) {
        out.push(RowWrite {
            collection,
            key: key_text(k),
            value: None,
        });
    }
}

fn diff_list(collection: &'static str, before: &[u64], after: &[u64], out: &mut Vec<RowWrite>) {
    diff_list_keyed(collection, "", before, after, out);
}

/// Whether `after` is `before` with entries appended, judged by `before`'s last entry alone.
///
/// Entry lists (an item's history, the note and refusal lists) only ever grow: `apply` pushes
/// the index of each entry that concerns them and never changes one it pushed (armory-core's
/// apply.rs). So between two states of the same log, a list that still holds `before`'s last
/// entry at the same position holds all of `before`. Comparing the whole prefix instead cost a
/// comparison of every history and list in proportion to the log, at every command. (`armory
/// verify --replay` and the check at start compare the tables with a full replay, entry by entry.)
fn extends(before: &[u64], after: &[u64]) -> bool {
    match before.len() {
        0 => true,
        n => after.get(n - 1) == before.last(),
    }
}

/// Rows `{prefix}{position}` of a list that only grows: write the new tail (and rewrite from the
/// first difference, should a list ever be rewritten or shrink).
fn diff_list_keyed(
    collection: &'static str,
    prefix: &str,
    before: &[u64],
    after: &[u64],
    out: &mut Vec<RowWrite>,
) {
    let same = if extends(before, after) {
        before.len()
    } else {
        before.iter().zip(after).take_while(|(a, b)| a == b).count()
    };
    for (pos, v) in after.iter().enumerate().skip(same) {
        out.push(RowWrite {
            collection,
            key: format!("{prefix}{pos:012}"),
            value: Some(v.to_string()),
        });
    }
    for pos in after.len().max(same)..before.len() {
        out.push(RowWrite {
            collection,
            key: format!("{prefix}{pos:012}"),
            value: None,
        });
    }
}

/// Items that keep a history of entry indexes (firearms, lots, containers, scenes).
pub trait WithHistory {
    fn history(&self) -> &[u64];
}

impl WithHistory for armory_core::state::Firearm {
    fn history(&self) -> &[u64] {
        &self.history
    }
}
impl WithHistory for armory_core::state::Lot {
    fn history(&self) -> &[u64] {
        &self.history
    }
}
impl WithHistory for armory_core::state::Container {
    fn history(&self) -> &[u64] {
        &self.history
    }
}
impl WithHistory for armory_core::state::Scene {
    fn history(&self) -> &[u64] {
        &self.history
    }
}

/// The collection of history rows: key `{collection}/{id}/{position}`, value the entry index. An
/// item's row holds everything but its history, so an act on a firearm with thousands of entries
/// writes one short row and one history row, not the whole history again.
const HISTORY: &str = "history";

fn diff_items<K: Serialize + Ord, V: Serialize + PartialEq + WithHistory>(
    collection: &'static str,
    before: &BTreeMap<K, V>,
    after: &BTreeMap<K, V>,
    out: &mut Vec<RowWrite>,
) {
    let empty: &[u64] = &[];
    for (k, v) in after {
        let old = before.get(k);
        // An item changes only with an entry that concerns it, and every such entry is pushed
        // onto its history (armory-core's apply.rs): an item whose history did not grow is the
        // same item, and telling so costs nothing like comparing it whole, history and all.
        if let Some(o) = old
            && o.history().len() == v.history().len()
            && extends(o.history(), v.history())
        {
            continue;
        }
        let key = key_text(k);
        let value = crate::fields::fields_except(v, &["history"]).unwrap_or_default();
        out.push(RowWrite {
            collection,
            key: key.clone(),
            value: Some(Value::Object(value).to_string()),
        });
        let prefix = format!("{collection}/{key}/");
        diff_list_keyed(
            HISTORY,
            &prefix,
            old.map_or(empty, |o| o.history()),
            v.history(),
            out,
        );
    }
    for (k, v) in before.iter().filter(|(k, _)| !after.contains_key(k)) {
        let key = key_text(k);
        out.push(RowWrite {
            collection,
            key: key.clone(),
            value: None,
        });
        diff_list_keyed(
            HISTORY,
            &format!("{collection}/{key}/"),
            v.history(),
            empty,
            out,
        );
    }
}

/// The rows that differ between two states (all rows of `after` when `before` is empty).
/// Compares items in memory and serializes only the changed ones.
pub fn changed_rows(before: &State, after: &State) -> Vec<RowWrite> {
    let mut out = Vec::new();
    if before.production != after.production {
        out.push(RowWrite {
            collection: "production",
            key: String::new(),
            value: after.production.as_ref().map(json),
        });
    }
    if before.policy != after.policy {
        out.push(RowWrite {
            collection: "policy",
            key: String::new(),
            value: after.policy.as_ref().map(json),
        });
    }
    if before.next_index != after.next_index {
        out.push(RowWrite {
            collection: "log",
            key: "next_index".into(),
            value: Some(after.next_index.to_string()),
        });
    }
    diff_map("people", &before.people, &after.people, &mut out);
    diff_map("locations", &before.locations, &after.locations, &mut out);
    diff_items("firearms", &before.firearms, &after.firearms, &mut out);
    diff_items("lots", &before.lots, &after.lots, &mut out);
    diff_items(
        "containers",
        &before.containers,
        &after.containers,
        &mut out,
    );
    diff_items("scenes", &before.scenes, &after.scenes, &mut out);
    diff_map("days", &before.days, &after.days, &mut out);
    diff_map("incidents", &before.incidents, &after.incidents, &mut out);
    diff_map("overrides", &before.overrides, &after.overrides, &mut out);
    diff_map(
        "corrections",
        &before.corrections,
        &after.corrections,
        &mut out,
    );
    diff_list("refusals", &before.refusals, &after.refusals, &mut out);
    diff_list("notes", &before.notes, &after.notes, &mut out);
    out
}

/// Rebuilds a state from stored rows (the inverse of `changed_rows(&State::default(), state)`).
pub fn state_from_rows(rows: &[Row]) -> Result<State, RowError> {
    let bad = |r: &Row, why: String| RowError {
        collection: r.collection.clone(),
        key: r.key.clone(),
        why,
    };
    let mut root = serde_json::Map::new();
    let mut lists: BTreeMap<&str, Vec<(&str, Value)>> = BTreeMap::new();
    // (collection, item) -> [(position, entry index)]
    let mut histories: BTreeMap<(String, String), Vec<(&str, Value)>> = BTreeMap::new();
    for r in rows {
        let value: Value = serde_json::from_str(&r.value).map_err(|e| bad(r, e.to_string()))?;
        match r.collection.as_str() {
            "production" => {
                root.insert("production".into(), value);
            }
            "policy" => {
                root.insert("policy".into(), value);
            }
            "log" if r.key == "next_index" => {
                root.insert("next_index".into(), value);
            }
            "refusals" | "notes" => lists
                .entry(if r.collection == "notes" {
                    "notes"
                } else {
                    "refusals"
                })
                .or_default()
                .push((&r.key, value)),
            "people" | "locations" | "firearms" | "lots" | "containers" | "scenes" | "days"
            | "incidents" | "overrides" | "corrections" => {
                let map = root
                    .entry(r.collection.clone())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(m) = map {
                    m.insert(r.key.clone(), value);
                }
            }
            HISTORY => {
                let mut parts = r.key.splitn(3, '/');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(c), Some(id), Some(pos)) => histories
                        .entry((c.to_owned(), id.to_owned()))
                        .or_default()
                        .push((pos, value)),
                    _ => return Err(bad(r, "a history key is collection/item/position".into())),
                }
            }
            _ => return Err(bad(r, "unknown collection".into())),
        }
    }
    for collection in ["firearms", "lots", "containers", "scenes"] {
        if let Some(Value::Object(items)) = root.get_mut(collection) {
            for (id, item) in items.iter_mut() {
                let mut history = histories
                    .remove(&(collection.to_owned(), id.clone()))
                    .unwrap_or_default();
                history.sort_by(|a, b| a.0.cmp(b.0));
                if let Value::Object(fields) = item {
                    fields.insert(
                        "history".into(),
                        Value::Array(history.into_iter().map(|(_, v)| v).collect()),
                    );
                }
            }
        }
    }
    if let Some(((collection, id), _)) = histories.into_iter().next() {
        return Err(RowError {
            collection: HISTORY.into(),
            key: format!("{collection}/{id}"),
            why: "history rows of an item that has no row".into(),
        });
    }
    for (name, mut items) in lists {
        items.sort_by(|a, b| a.0.cmp(b.0));
        root.insert(
            name.into(),
            Value::Array(items.into_iter().map(|(_, v)| v).collect()),
        );
    }
    let defaults = serde_json::to_value(State::default()).map_err(|e| RowError {
        collection: String::new(),
        key: String::new(),
        why: e.to_string(),
    })?;
    if let Value::Object(d) = defaults {
        for (k, v) in d {
            root.entry(k).or_insert(v);
        }
    }
    serde_json::from_value(Value::Object(root)).map_err(|e| RowError {
        collection: String::new(),
        key: String::new(),
        why: format!("rows do not form a state: {e}"),
    })
}
