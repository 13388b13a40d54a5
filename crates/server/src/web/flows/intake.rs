//! Intake: a lot received into a container of its own, then every round verified before any of
//! it can be loaded (LOT-VERIFIED, F1 and F2 of RULES.md).

use super::super::{FormMap, error_page, esc, field, input, percent, signed_in};
use super::{Pins, as_refs, number, open_form, optional, select, shell, submit};
use crate::App;
use crate::api::ApiError;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::fmt::Write;

use armory_core::state::LotStatus;

/// `GET /intake`: receive a lot into a new container; every lot with its verification state.
pub async fn intake(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Intake", |c, s, _| {
        let locations: Vec<(String, String)> = s
            .locations
            .iter()
            .map(|(id, l)| {
                (
                    id.to_string(),
                    format!("{} ({id}){}", l.name, if l.locked { ", locked" } else { "" }),
                )
            })
            .collect();
        let first = locations.first().map(|l| l.0.clone()).unwrap_or_default();
        let mut b = String::from("<h1>Intake</h1><p>Every round arrives as a lot, in a container of its own, and stays unusable until every round is verified.</p>");
        b.push_str(&open_form(c, "receive_lot", "Receive a lot", "/intake"));
        b.push_str(&input("lot", "Lot id", "", "required autocapitalize=characters"));
        b.push_str(&select(
            "ammo",
            "Kind",
            &[
                ("dummy", "Dummies"),
                ("blank_quarter", "Blanks, quarter load"),
                ("blank_half", "Blanks, half load"),
                ("blank_three_quarter", "Blanks, three-quarter load"),
                ("blank_full", "Blanks, full load"),
            ],
            "dummy",
        ));
        b.push_str(&input("calibre", "Calibre", "", "required"));
        b.push_str(&input("count", "Rounds received", "", "required inputmode=numeric"));
        b.push_str(&input("maker", "Maker", "", "required"));
        b.push_str(&input("headstamp", "Headstamp on the cases", "", "required"));
        b.push_str(&input("supplier", "Supplier (prop house, person)", "", "required"));
        b.push_str(&input("shipment", "Shipment or delivery note (optional)", "", ""));
        b.push_str(&input("container", "New container id (the box they go in)", "", "required autocapitalize=characters"));
        b.push_str(&select("location", "Put it in", &as_refs(&locations), &first));
        b.push_str(&input("leftover_from", "Leftovers from another production? Name it (optional)", "", ""));
        b.push_str(&submit("Receive lot"));
        let _ = write!(b, "<h2>Lots ({})</h2><table><tr><th>Lot</th><th>Kind</th><th>Verified</th><th></th></tr>", s.lots.len());
        for (id, lot) in &s.lots {
            let status = match lot.status {
                LotStatus::Verified => "verified",
                LotStatus::Unverified => "<b>NOT VERIFIED: not usable</b>",
                LotStatus::Defective => "<b>DEFECTIVE rounds: remove them, verify again</b>",
                LotStatus::LiveFound => "<b>LIVE ROUND FOUND: never usable</b>",
                LotStatus::Held => "<b>HELD by an open incident (a dummy fired): not usable</b>",
            };
            let _ = write!(
                b,
                "<tr><td><a href=\"/item/{0}\">{1}</a></td><td>{2} {3}</td><td>{4}</td><td><a class=button href=\"/verify?lot={0}\">Verify</a></td></tr>",
                percent(id.as_ref()),
                esc(id.as_ref()),
                esc(lot.kind.word()),
                esc(lot.calibre.as_ref()),
                status
            );
        }
        b.push_str("</table>");
        b
    })
    .await
}

#[derive(serde::Deserialize)]
pub struct LotQuery {
    #[serde(default)]
    lot: String,
}

/// `GET /verify?lot=ID`: the per-round results of a lot's verification.
pub async fn verify(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LotQuery>,
) -> Response {
    let known = app
        .node()
        .with_state(|s| s.lots.keys().any(|k| k.as_ref() == q.lot))
        .await;
    if !known {
        let (c, roles) = match signed_in(&app, &headers).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        return error_page(
            Some((&c, &roles)),
            &ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no lot {:?} in this production; pick one on the intake page",
                    q.lot
                ),
            )
            .field("lot"),
        );
    }
    shell(&app, &headers, "Verify lot", |c, s, _| {
        let Some((id, lot)) = s.lots.iter().find(|(k, _)| k.as_ref() == q.lot) else {
            return String::new();
        };
        let rounds: u64 = s
            .containers
            .values()
            .filter(|x| &x.lot == id)
            .map(|x| x.count)
            .sum();
        let mut b = format!(
            "<h1>Verify lot {}</h1><p>{} {} from {}, headstamp {}: {rounds} rounds in its containers.</p>",
            esc(id.as_ref()),
            esc(lot.kind.word()),
            esc(lot.calibre.as_ref()),
            esc(lot.supplier.as_ref()),
            esc(lot.headstamp.as_ref())
        );
        b.push_str(&open_form(c, "verify_lot", "Every round checked, in order", "/intake"));
        let _ = write!(b, "<input type=hidden name=lot value=\"{}\">", esc(id.as_ref()));
        // Nothing proposed: the person checking writes what each round showed (a proposed
        // "48 rattled" would verify a whole lot in one tap, checked or not).
        b.push_str(&input(
            "results",
            "Results in the order checked: rattled, crimped, defective or live; `48 rattled` repeats",
            "",
            "required autocomplete=off",
        ));
        b.push_str("<p class=muted>Example: <code>20 rattled, defective, 29 rattled</code>. A live round opens a critical incident that stops all firearm work.</p>");
        b.push_str(&submit("Record verification"));
        b
    })
    .await
}

/// Expands `20 rattled, defective, 29 rattled` into one result per round.
fn round_results(text: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for token in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let (n, word) = match token.split_once(char::is_whitespace) {
            Some((n, w)) => (
                n.parse::<usize>().map_err(|_| {
                    ApiError::bad(format!(
                        "{token:?}: write a count then a result, e.g. `48 rattled`"
                    ))
                    .field("results")
                })?,
                w.trim(),
            ),
            None => (1, token),
        };
        if n > 100_000 {
            return Err(ApiError::bad("at most 100000 rounds at a time").field("results"));
        }
        out.extend(std::iter::repeat_n(word.to_ascii_lowercase(), n));
    }
    Ok(out)
}

pub(super) fn command(kind: &str, form: &FormMap, _: &mut Pins) -> Result<Option<Value>, ApiError> {
    let f = |n: &str| field(form, n).to_owned();
    Ok(Some(match kind {
        "receive_lot" => {
            let ammo = match f("ammo").as_str() {
                "dummy" => json!("dummy"),
                other => match other.strip_prefix("blank_") {
                    Some(load) => json!({"blank": load}),
                    None => {
                        return Err(
                            ApiError::bad(format!("unknown kind of round {other:?}")).field("ammo")
                        );
                    }
                },
            };
            json!({"type": "receive_lot", "lot": f("lot"), "kind": ammo, "calibre": f("calibre"),
                   "maker": f("maker"), "headstamp": f("headstamp"), "supplier": f("supplier"),
                   "shipment": optional(form, "shipment"), "count": number(form, "count")?, "container": f("container"),
                   "location": f("location"), "leftover_from": optional(form, "leftover_from")})
        }
        "verify_lot" => {
            json!({"type": "verify_lot", "lot": f("lot"), "results": round_results(field(form, "results"))?})
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_results_expand_counts_in_order() {
        assert_eq!(
            round_results("2 rattled, defective,1 rattled").unwrap_or_default(),
            vec!["rattled", "rattled", "defective", "rattled"]
        );
        assert!(round_results("two rattled").is_err());
    }
}
