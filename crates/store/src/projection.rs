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
    // These lists only grow; compare the common prefix in one go and write the new tail.
    let same = if after.starts_with(before) {
        before.len()
    } else {
        before.iter().zip(after).take_while(|(a, b)| a == b).count()
    };
    for (pos, v) in after.iter().enumerate().skip(same) {
        out.push(RowWrite {
            collection,
            key: format!("{pos:012}"),
            value: Some(v.to_string()),
        });
    }
    for pos in after.len().max(same)..before.len() {
        out.push(RowWrite {
            collection,
            key: format!("{pos:012}"),
            value: None,
        });
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
    if before.next_index != after.next_index {
        out.push(RowWrite {
            collection: "log",
            key: "next_index".into(),
            value: Some(after.next_index.to_string()),
        });
    }
    diff_map("people", &before.people, &after.people, &mut out);
    diff_map("locations", &before.locations, &after.locations, &mut out);
    diff_map("firearms", &before.firearms, &after.firearms, &mut out);
    diff_map("lots", &before.lots, &after.lots, &mut out);
    diff_map(
        "containers",
        &before.containers,
        &after.containers,
        &mut out,
    );
    diff_map("scenes", &before.scenes, &after.scenes, &mut out);
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
    for r in rows {
        let value: Value = serde_json::from_str(&r.value).map_err(|e| bad(r, e.to_string()))?;
        match r.collection.as_str() {
            "production" => {
                root.insert("production".into(), value);
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
            _ => return Err(bad(r, "unknown collection".into())),
        }
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
