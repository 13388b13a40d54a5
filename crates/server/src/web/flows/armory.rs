//! The armory itself: firearms registered into custody, storage locations and their locks,
//! rounds moved between containers or taken out of the production, a lot reopened for another
//! verification, and items handed to another custodian (F2, F5 of RULES.md: one named custodian
//! and a location for everything, and every round accounted for).

use super::super::{FormMap, esc, field, input, percent};
use super::{Pins, as_refs, checkbox, number, open_form, select, shell, submit};
use crate::App;
use crate::api::ApiError;
use armory_core::state::Custody;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::fmt::Write;

/// `GET /armory`: every firearm, location and container with its custodian, and a form for each
/// act that sets up or rearranges the armory.
pub async fn armory(State(app): State<App>, headers: HeaderMap) -> Response {
    let custodian_roles = app.node().policy().custodian_roles();
    shell(&app, &headers, "Armory", |c, s, _| {
        let locations: Vec<(String, String)> = s
            .locations
            .iter()
            .map(|(id, l)| (id.to_string(), format!("{} ({id}){}", l.name, if l.locked { ", locks" } else { ", does NOT lock" })))
            .collect();
        let containers: Vec<(String, String)> = s
            .containers
            .iter()
            .map(|(id, k)| (id.to_string(), format!("{id}: {} rounds of lot {}", k.count, k.lot)))
            .collect();
        let lots: Vec<(String, String)> = s.lots.keys().map(|id| (id.to_string(), id.to_string())).collect();
        let items: Vec<(String, String)> = s
            .firearms
            .iter()
            .map(|(id, f)| (format!("firearm:{id}"), format!("firearm {id} (custodian {})", f.custodian)))
            .chain(s.containers.iter().map(|(id, k)| (format!("container:{id}"), format!("container {id} (custodian {})", k.custodian))))
            .collect();
        // Whoever the policy lets be a custodian (a property master only where it allows).
        let custodians: Vec<(String, String)> = s
            .people
            .iter()
            .filter(|(_, p)| custodian_roles.iter().any(|r| p.acts_as(*r)))
            .map(|(id, p)| (id.to_string(), format!("{} ({id})", p.name)))
            .collect();
        let first = |v: &[(String, String)]| v.first().map(|x| x.0.clone()).unwrap_or_default();

        let mut b = String::from("<h1>Armory</h1>");
        let _ = write!(b, "<h2>Storage ({})</h2><table><tr><th>Location</th><th>Locks</th></tr>", s.locations.len());
        for (id, l) in &s.locations {
            let _ = write!(b, "<tr><td>{} ({})</td><td>{}</td></tr>", esc(l.name.as_ref()), esc(id.as_ref()), if l.locked { "yes" } else { "<b>NO</b>" });
        }
        let _ = write!(b, "</table><h2>Containers ({})</h2><table><tr><th>Container</th><th>Lot</th><th>Rounds</th><th>Where</th><th>Custodian</th></tr>", s.containers.len());
        for (id, k) in &s.containers {
            let place = match &k.custody {
                Custody::Stored { location } => format!("in {}", esc(location.as_ref())),
                Custody::AtHand => "at hand".to_owned(),
                Custody::Issued { performer, .. } => format!("with {}", esc(performer.as_ref())),
            };
            let _ = write!(
                b,
                "<tr><td><a href=\"/item/{0}\">{1}</a></td><td>{2}</td><td>{3}</td><td>{place}</td><td>{4}</td></tr>",
                percent(id.as_ref()), esc(id.as_ref()), esc(k.lot.as_ref()), k.count, esc(k.custodian.as_ref())
            );
        }
        b.push_str("</table>");

        b.push_str(&open_form(c, "register_firearm", "Register a firearm (you become its custodian)", "/armory"));
        b.push_str(&input("firearm", "Firearm id (its label)", "", "required autocapitalize=characters"));
        b.push_str(&input("serial", "Serial number, exactly as stamped on the frame", "", "required autocapitalize=characters"));
        b.push_str(&input("make", "Maker", "", "required"));
        b.push_str(&input("model", "Model", "", "required"));
        b.push_str(&input("calibre", "Calibre", "", "required"));
        b.push_str(&select(
            "class",
            "Class",
            &[
                ("functional", "Functional firearm"),
                ("blank_adapted", "Blank-adapted"),
                ("non_firing_replica", "Non-firing replica"),
                ("rubber", "Rubber prop"),
                ("airsoft", "Airsoft"),
            ],
            "functional",
        ));
        b.push_str(&input("positions", "Chambers or magazine positions", "6", "required inputmode=numeric"));
        b.push_str(&super::select_as("firearm_location", "location", "Put it in", &as_refs(&locations), &first(&locations)));
        b.push_str(&submit("Register firearm"));

        b.push_str(&open_form(c, "add_location", "Add a storage location", "/armory"));
        b.push_str(&input("new_location", "Location id", "", "required autocapitalize=characters"));
        b.push_str(&input("location_name", "Name (safe, truck, cart)", "", "required"));
        b.push_str(&checkbox("locks", "It locks", true));
        b.push_str(&submit("Add location"));

        b.push_str(&open_form(c, "set_location_lock", "A location's lock", "/armory"));
        b.push_str(&super::select_as("lock_location", "lock_location", "Location", &as_refs(&locations), &first(&locations)));
        b.push_str(&checkbox("locked", "It locks now", true));
        b.push_str(&submit("Record the lock"));

        b.push_str(&open_form(c, "transfer_rounds", "Move rounds to another container of the same lot", "/armory"));
        b.push_str(&super::select_as("from", "from", "From", &as_refs(&containers), &first(&containers)));
        b.push_str(&input("to", "To container (a new id makes a new container)", "", "required autocapitalize=characters"));
        b.push_str(&input("count", "How many rounds", "", "required inputmode=numeric"));
        b.push_str(&submit("Move rounds"));

        b.push_str(&open_form(c, "remove_rounds", "Take rounds out of the production (defective, returned, destroyed)", "/armory"));
        b.push_str(&super::select_as("remove_from", "remove_from", "From container", &as_refs(&containers), &first(&containers)));
        b.push_str(&input("remove_count", "How many rounds", "", "required inputmode=numeric"));
        b.push_str(&input("remove_reason", "Why, and where they went", "", "required"));
        b.push_str(&submit("Remove rounds"));

        b.push_str(&open_form(c, "reopen_lot", "Reopen a lot (it is quarantined until verified again)", "/armory"));
        b.push_str(&super::select_as("reopen_lot", "lot", "Lot", &as_refs(&lots), &first(&lots)));
        b.push_str(&input("reopen_reason", "Why", "", "required"));
        b.push_str(&submit("Reopen lot"));

        b.push_str(&open_form(c, "assign_custodian", "Hand an item to another custodian", "/armory"));
        b.push_str(&super::select_as("custody_item", "item", "Item", &as_refs(&items), &first(&items)));
        b.push_str(&super::select_as("custody_person", "person", "New custodian", &as_refs(&custodians), &first(&custodians)));
        b.push_str(&super::select_as("custody_role", "custody_role", "They take it as", &[("armorer", "armorer"), ("property_master", "property master")], "armorer"));
        b.push_str(&input("custody_scanned", "A firearm: scan it (its label, or type its id or serial)", "", "autocapitalize=characters autocomplete=off"));
        b.push_str(&input("custody_pin", "Their PIN: they confirm receiving it (or leave empty: they confirm on their phone)", "", "type=password inputmode=numeric autocomplete=off"));
        b.push_str(&submit("Hand over"));
        b
    })
    .await
}

/// An item as the forms name it: `firearm:ID` or `container:ID`.
fn item_ref(value: &str) -> Result<Value, ApiError> {
    match value.split_once(':') {
        Some((kind @ ("firearm" | "container"), id)) if !id.is_empty() => Ok(json!({ kind: id })),
        _ => Err(ApiError::bad(format!(
            "{value:?} is not an item; pick a firearm or a container"
        ))
        .field("item")),
    }
}

pub(super) fn command(
    kind: &str,
    form: &FormMap,
    pins: &mut Pins,
) -> Result<Option<Value>, ApiError> {
    let f = |n: &str| field(form, n).to_owned();
    Ok(Some(match kind {
        "register_firearm" => json!({"type": "register_firearm", "firearm": f("firearm"),
            "serial": f("serial"), "make": f("make"), "model": f("model"), "calibre": f("calibre"),
            "class": f("class"), "positions": number(form, "positions")?, "location": f("location")}),
        "add_location" => json!({"type": "add_location", "location": f("new_location"),
            "name": f("location_name"), "locked": field(form, "locks") == "on"}),
        "set_location_lock" => json!({"type": "set_location_lock", "location": f("lock_location"),
            "locked": field(form, "locked") == "on"}),
        "transfer_rounds" => json!({"type": "transfer_rounds", "from": f("from"), "to": f("to"),
            "count": number(form, "count")?}),
        "remove_rounds" => json!({"type": "remove_rounds", "container": f("remove_from"),
            "count": number(form, "remove_count")?, "reason": f("remove_reason")}),
        "reopen_lot" => {
            json!({"type": "reopen_lot", "lot": f("lot"), "reason": f("reopen_reason")})
        }
        "assign_custodian" => {
            let mut v = json!({"type": "assign_custodian", "item": item_ref(field(form, "item"))?,
            "person": f("person")});
            if !f("custody_scanned").trim().is_empty() {
                v["scanned"] = json!(f("custody_scanned").trim());
            }
            if !f("custody_pin").is_empty() {
                pins.insert(f("person"), f("custody_pin"));
                v["confirmation"] =
                    json!({"person": f("person"), "role": f("custody_role"), "method": "pin"});
            }
            v
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_named_by_kind_and_id() {
        assert_eq!(
            item_ref("firearm:REV-1").unwrap(),
            json!({"firearm": "REV-1"})
        );
        assert_eq!(
            item_ref("container:BOX-2").unwrap(),
            json!({"container": "BOX-2"})
        );
        for bad in ["REV-1", "firearm:", "lot:DUM-1", ""] {
            assert!(item_ref(bad).is_err(), "{bad}");
        }
    }
}
