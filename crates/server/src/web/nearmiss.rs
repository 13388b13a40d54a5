//! Near misses (refused acts), where people look for them: `/near-misses` counts them per rule
//! and per shoot day and lists them, filtered by rule, day or firearm; a firearm's page lists
//! its own. Each is a `refused` entry of the log: the act, the rule, why, who, and the firearm
//! it was about.

use super::{esc, signed_in, time_tag};
use crate::App;
use crate::api::ApiError;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// How many of the latest near misses a page reads.
const LATEST: usize = 1000;

/// `?rule=&day=&firearm=`
#[derive(Debug, Default, serde::Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub day: Option<String>,
    #[serde(default)]
    pub firearm: Option<String>,
}

/// One near miss, as read from its entry.
struct Miss {
    index: u64,
    time: Option<armory_core::Timestamp>,
    day: String,
    rule: String,
    command: String,
    why: String,
    by: String,
    firearm: Option<String>,
}

/// The latest near misses, newest first.
async fn latest(app: &App) -> Result<Vec<Miss>, ApiError> {
    let indexes = app
        .node()
        .with_state(|s| s.refusals[s.refusals.len().saturating_sub(LATEST)..].to_vec())
        .await;
    let policy = app.node().policy();
    let entries = crate::api::entries_json(app, &indexes).await?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut out: Vec<Miss> = entries
        .iter()
        .map(|e| {
            let ev = &e["event"];
            let time = e["time"]
                .as_str()
                .and_then(|t| armory_core::Timestamp::parse_rfc3339(t).ok());
            Miss {
                index: e["index"].as_u64().unwrap_or_default(),
                time,
                day: time
                    .map(|t| policy.day_of(t).to_string())
                    .unwrap_or_default(),
                rule: text(&ev["rule"]),
                command: text(&ev["command"]),
                why: text(&ev["why"]),
                by: text(&ev["by"]),
                firearm: ev["firearm"].as_str().map(str::to_owned),
            }
        })
        .collect();
    out.reverse();
    Ok(out)
}

fn list(misses: &[&Miss]) -> String {
    let mut b = String::from("<ol class=near-misses>");
    for m in misses {
        let _ = write!(
            b,
            "<li class=near-miss value={i}><a href=/entry/{i}>#{i}</a> {} <b>REFUSED {} ({})</b>{} <span class=muted>by {}</span>: {}</li>",
            m.time.map(time_tag).unwrap_or_default(),
            esc(&m.command),
            esc(&m.rule),
            m.firearm.as_ref().map_or(String::new(), |f| format!(
                " <a href=\"/item/{}\">{}</a>",
                super::percent(f),
                esc(f)
            )),
            esc(&m.by),
            esc(&m.why),
            i = m.index,
        );
    }
    b.push_str("</ol>");
    b
}

/// The near misses about `firearm`, for its page ("" when there are none).
pub(crate) async fn of_firearm(app: &App, firearm: &str) -> String {
    let Ok(all) = latest(app).await else {
        return String::new();
    };
    let mine: Vec<&Miss> = all
        .iter()
        .filter(|m| m.firearm.as_deref() == Some(firearm))
        .collect();
    if mine.is_empty() {
        return String::new();
    }
    format!(
        "<h2 class=near-miss-head>Near misses with it ({})</h2>{}",
        mine.len(),
        list(&mine)
    )
}

/// `GET /near-misses`.
pub async fn page(State(app): State<App>, headers: HeaderMap, Query(f): Query<Filter>) -> Response {
    let (c, roles) = match signed_in(&app, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let all = match latest(&app).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_day: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &all {
        *by_rule.entry(&m.rule).or_default() += 1;
        *by_day.entry(&m.day).or_default() += 1;
    }
    let keep = |m: &&Miss| {
        f.rule.as_deref().is_none_or(|r| r == m.rule)
            && f.day.as_deref().is_none_or(|d| d == m.day)
            && f.firearm
                .as_deref()
                .is_none_or(|x| m.firearm.as_deref() == Some(x))
    };
    let shown: Vec<&Miss> = all.iter().filter(keep).collect();
    let mut b = format!(
        "<h1>Near misses <span class=count>{}</span></h1><p>Acts the rules refused: each is in the log. The latest {LATEST} are counted here.</p>",
        all.len()
    );
    b.push_str("<div class=tallies><table><caption>By rule</caption>");
    let mut rules: Vec<(&&str, &usize)> = by_rule.iter().collect();
    rules.sort_by(|a, b| b.1.cmp(a.1));
    for (rule, n) in rules {
        let _ = write!(
            b,
            "<tr><td><a href=\"/near-misses?rule={r}\">{r}</a></td><td class=n>{n}</td></tr>",
            r = esc(rule)
        );
    }
    b.push_str("</table><table><caption>By shoot day</caption>");
    for (day, n) in by_day.iter().rev() {
        let _ = write!(
            b,
            "<tr><td><a href=\"/near-misses?day={d}\">{d}</a></td><td class=n>{n}</td></tr>",
            d = esc(day)
        );
    }
    b.push_str("</table></div>");
    let filters: Vec<String> = [("rule", &f.rule), ("day", &f.day), ("firearm", &f.firearm)]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {}", esc(v))))
        .collect();
    if !filters.is_empty() {
        let _ = write!(
            b,
            "<p>Showing {} with {} · <a href=/near-misses>all</a></p>",
            shown.len(),
            filters.join(", ")
        );
    }
    b.push_str(&list(&shown));
    super::html(
        axum::http::StatusCode::OK,
        super::page("Near misses", Some((&c, &roles)), &b),
    )
}
