//! `armory serve --demo`: a demo production for today, built by playing commands through the node
//! at the current time (so every act is decided by the rules and logged), plus demo sign-ins.
//! Reused on a later start: the people, firearms and lots stay; today's staffing, scene plans and
//! safety meeting are added if today has none.

use crate::App;
use crate::auth::Secret;
use armory_core::{Actor, AuthMethod, Command, PersonId, Role};
use armory_store::node::Outcome;
use serde_json::{Value, json};

/// A demo sign-in.
#[derive(Debug, Clone)]
pub struct DemoPerson {
    pub id: &'static str,
    pub name: &'static str,
    pub roles: &'static [Role],
    pub password: &'static str,
    pub pin: &'static str,
}

/// The demo crew and cast: one person per role (and an armorer who is also props).
pub const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        id: "adm",
        name: "Production office",
        roles: &[Role::Admin],
        password: "demo-adm-pass",
        pin: "7777",
    },
    DemoPerson {
        id: "hannah",
        name: "Hannah",
        roles: &[Role::Armorer],
        password: "demo-hannah-pass",
        pin: "4444",
    },
    DemoPerson {
        id: "dave",
        name: "Dave",
        roles: &[Role::FirstAd],
        password: "demo-dave-pass",
        pin: "2222",
    },
    DemoPerson {
        id: "alec",
        name: "Alec",
        roles: &[Role::Performer],
        password: "demo-alec-pass",
        pin: "1111",
    },
    DemoPerson {
        id: "sam",
        name: "Sam",
        roles: &[Role::SafetyRep],
        password: "demo-sam-pass",
        pin: "3333",
    },
    DemoPerson {
        id: "pat",
        name: "Pat",
        roles: &[Role::Producer],
        password: "demo-pat-pass",
        pin: "6666",
    },
    DemoPerson {
        id: "sarah",
        name: "Sarah",
        roles: &[Role::PropertyMaster],
        password: "demo-sarah-pass",
        pin: "5555",
    },
    DemoPerson {
        id: "ivy",
        name: "Ivy (insurer)",
        roles: &[Role::Auditor],
        password: "demo-ivy-pass",
        pin: "8888",
    },
];

/// Why the demo could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo command {0} does not parse: {1}")]
    Parse(String, String),
    #[error("demo act {kind} was refused: {why}")]
    Refused { kind: String, why: String },
    #[error("{0}")]
    Other(String),
}

async fn act(app: &App, who: &str, role: Role, command: Value) -> Result<(), DemoError> {
    let kind = command["type"].as_str().unwrap_or("?").to_owned();
    let command: Command = serde_json::from_value(command)
        .map_err(|e| DemoError::Parse(kind.clone(), e.to_string()))?;
    let person = PersonId::parse(who).map_err(|e| DemoError::Other(e.to_string()))?;
    let at = crate::now().map_err(|e| DemoError::Other(e.to_string()))?;
    let outcome = app
        .node()
        .execute(&Actor::new(person, role, AuthMethod::Local), &command, at)
        .await
        .map_err(|e| DemoError::Other(e.to_string()))?;
    match outcome {
        Outcome::Refused { refusal, .. } => Err(DemoError::Refused {
            kind,
            why: refusal.to_string(),
        }),
        _ => Ok(()),
    }
}

fn plan(kind: &str, firearm: &str, load: &str) -> Value {
    let blanks = (load == "blanks").then(|| json!({"strength": "quarter", "min_distance_ft": 25}));
    json!({
        "firearms": [{"firearm": firearm, "load": load, "handler": "alec",
                      "muzzle_direction": "camera left, down and away from crew",
                      "blanks": blanks}],
        "distances": "no person within 20 ft of the muzzle line",
        "shields": "polycarbonate shield in front of camera and operator",
        "remote_camera": kind == "take",
        "blanks_in_rehearsal_exception": null
    })
}

/// Builds (or tops up for today) the demo production and its sign-ins.
pub async fn seed(app: &App) -> Result<(), DemoError> {
    let at = crate::now().map_err(|e| DemoError::Other(e.to_string()))?;
    let today = app.node().policy().day_of(at);
    let opened = app.node().with_state(|s| s.production.is_some()).await;
    if !opened {
        act(
            app,
            "adm",
            Role::Admin,
            json!({"type": "open_production", "production": "demo",
            "title": "Demo production", "admin_name": "Production office"}),
        )
        .await?;
        for p in PEOPLE.iter().filter(|p| p.id != "adm") {
            act(
                app,
                "adm",
                Role::Admin,
                json!({"type": "add_person", "person": p.id,
                "name": p.name, "roles": p.roles}),
            )
            .await?;
        }
        for who in ["hannah", "sarah"] {
            act(
                app,
                "adm",
                Role::Admin,
                json!({"type": "record_credential", "person": who,
                "kind": armory_core::policy::ENTERTAINMENT_FIREARMS_PERMIT,
                "number": format!("EFP-{who}"), "expires": today.plus_days(365).to_string()}),
            )
            .await?;
        }
        act(
            app,
            "hannah",
            Role::Armorer,
            json!({"type": "add_location", "location": "SAFE",
            "name": "Gun safe, prop truck", "locked": true}),
        )
        .await?;
        act(
            app,
            "hannah",
            Role::Armorer,
            json!({"type": "add_location", "location": "CART",
            "name": "Prop cart", "locked": false}),
        )
        .await?;
        for (id, serial, class) in [
            ("REV-1", "PT-1001", "functional"),
            ("REV-2", "PT-1002", "functional"),
            ("REV-3", "PT-1003", "functional"),
            ("RUB-1", "RB-0001", "rubber"),
        ] {
            act(
                app,
                "hannah",
                Role::Armorer,
                json!({"type": "register_firearm", "firearm": id,
                "serial": serial, "make": "Pietta", "model": "1873 Single Action Army",
                "calibre": ".45 Long Colt", "class": class, "positions": 6, "location": "SAFE"}),
            )
            .await?;
        }
        act(
            app,
            "hannah",
            Role::Armorer,
            json!({"type": "receive_lot", "lot": "DUM-1", "kind": "dummy",
            "calibre": ".45 Long Colt", "maker": "Starline", "headstamp": "STARLINE 45 COLT",
            "supplier": "Prop house", "count": 50, "container": "BOX-1", "location": "SAFE"}),
        )
        .await?;
        act(
            app,
            "hannah",
            Role::Armorer,
            json!({"type": "receive_lot", "lot": "BLK-1", "kind": {"blank": "quarter"},
            "calibre": ".45 Long Colt", "maker": "Starline", "headstamp": "STARLINE 45 COLT",
            "supplier": "Prop house", "count": 24, "container": "BOX-2", "location": "SAFE"}),
        )
        .await?;
        act(
            app,
            "hannah",
            Role::Armorer,
            json!({"type": "verify_lot", "lot": "DUM-1",
            "results": vec!["rattled"; 50]}),
        )
        .await?;
        act(
            app,
            "hannah",
            Role::Armorer,
            json!({"type": "verify_lot", "lot": "BLK-1",
            "results": vec!["crimped"; 24]}),
        )
        .await?;
    }
    let staffed = app
        .node()
        .with_state(|s| s.day(today).and_then(|d| d.armorer.clone()).is_some())
        .await;
    if !staffed {
        let day = today.to_string();
        act(
            app,
            "pat",
            Role::Producer,
            json!({"type": "designate_armorer", "day": day, "person": "hannah"}),
        )
        .await?;
        act(
            app,
            "dave",
            Role::FirstAd,
            json!({"type": "plan_scene", "scene": "CHURCH", "day": day,
            "kind": "rehearsal", "window_minutes": 60, "plan": plan("rehearsal", "REV-1", "cold")}),
        )
        .await?;
        act(
            app,
            "dave",
            Role::FirstAd,
            json!({"type": "plan_scene", "scene": "CHURCH-TAKE", "day": day,
            "kind": "take", "window_minutes": 60, "plan": plan("take", "REV-2", "blanks")}),
        )
        .await?;
        act(app, "dave", Role::FirstAd, json!({"type": "hold_meeting", "day": day,
            "scenes": ["CHURCH", "CHURCH-TAKE"], "attendees": ["hannah", "dave", "alec", "sam"],
            "topics": ["Safety Bulletin #1 read aloud", "finger off the trigger; never point at anyone"],
            "items": ["intended_action", "deviations", "abort_plan", "emergency_and_medic", "chain_of_command", "walk_through"],
            "safety_rep": {"person": "sam", "role": "safety_rep", "method": "pin"}})).await?;
        // PERFORMER-BRIEFED: the armorer briefs Alec on both revolvers of the day's scenes.
        for firearm in ["REV-1", "REV-2"] {
            act(
                app,
                "hannah",
                Role::Armorer,
                json!({"type": "brief_performer", "performer": "alec", "firearm": firearm}),
            )
            .await?;
        }
    }
    for p in PEOPLE {
        let id = PersonId::parse(p.id).map_err(|e| DemoError::Other(e.to_string()))?;
        let has = app
            .auth()
            .has_account(&id)
            .await
            .map_err(|e| DemoError::Other(e.to_string()))?;
        if !has {
            app.auth()
                .set_secret(&id, Secret::Password, p.password)
                .await
                .map_err(|e| DemoError::Other(e.to_string()))?;
            app.auth()
                .set_secret(&id, Secret::Pin, p.pin)
                .await
                .map_err(|e| DemoError::Other(e.to_string()))?;
        }
    }
    Ok(())
}
