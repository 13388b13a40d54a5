//! Naming the differences between two states, for `armory verify --replay`: the state rebuilt
//! from the log against the projection the store holds. Each difference is a path into the
//! state's JSON form (`firearms.REV-1.custodian`) with both values.

use serde_json::Value;

use crate::state::State;

/// Every place where `expected` (e.g. rebuilt by replay) and `actual` (e.g. the store's tables)
/// disagree, as `path: expected != actual` lines, sorted. Empty when they are identical.
pub fn differences(expected: &State, actual: &State) -> Vec<String> {
    let mut out = Vec::new();
    match (serde_json::to_value(expected), serde_json::to_value(actual)) {
        (Ok(a), Ok(b)) => walk("", &a, &b, &mut out),
        (Err(e), _) | (_, Err(e)) => out.push(format!("state cannot be compared: {e}")),
    }
    out.sort();
    out
}

fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    let at = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => walk(&at(k), va, vb, out),
                    None => out.push(format!("{}: {va} != (missing)", at(k))),
                }
            }
            for (k, vb) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                out.push(format!("{}: (missing) != {vb}", at(k)));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                walk(&at(&i.to_string()), va, vb, out);
            }
        }
        _ => out.push(format!(
            "{}: {a} != {b}",
            if path.is_empty() { "state" } else { path }
        )),
    }
}
