//! The web UI's flows over real HTTP (see tests/server.rs for the kit): each form read from its
//! page (with the page's CSRF token) and posted like a browser; done acts land in the log, refused
//! ones show rule, why and needed and are logged as near misses; the people page is the admin's;
//! `armory user` bootstraps a production whose admin then signs in.

use crate::common::stderr;
use crate::server::{Resp, Server, Who};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The CSRF token of the first form on a page.
pub(crate) fn csrf_of(page: &Resp) -> String {
    let (_, rest) = page
        .body
        .split_once("name=csrf value=\"")
        .unwrap_or_else(|| panic!("no CSRF field on the page: {}", page.body));
    rest.split('"').next().unwrap().to_owned()
}

/// Opens `page` as `who`, then posts a form to `action` with the page's CSRF token, a fresh
/// idempotency key and `fields`.
pub fn submit(
    server: &Server,
    who: &Who,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Resp {
    let shown = server.get(page, who);
    assert_eq!(shown.status, 200, "{page}: {}", shown.body);
    let csrf = csrf_of(&shown);
    let idem = format!("t{}", server.next_index(who));
    let mut body = format!("csrf={}&idem={idem}-{}", urlencode(&csrf), fields.len());
    for (k, v) in fields {
        body.push_str(&format!("&{}={}", urlencode(k), urlencode(v)));
    }
    let mut h = who.headers();
    h.push(("Content-Type", "application/x-www-form-urlencoded"));
    server.req("POST", action, &h, body.as_bytes())
}

fn entry(server: &Server, who: &Who, index: u64) -> Value {
    let r = server.get(&format!("/api/log/entries/{index}"), who);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// The act was done: the page says so and the log's new entry is this act by `person`.
fn assert_done(server: &Server, who: &Who, before: u64, r: &Resp, person: &str) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("class=done"), "{}", r.body);
    let e = entry(server, who, before);
    assert_ne!(e["event"]["type"], "refused", "{e}");
    assert_eq!(e["actors"][0]["person"], person, "{e}");
    e
}

/// The act was recorded and opened an incident that stops firearm work: the page says STOP in
/// the colour of a refusal, never "Done", and the log's new entry is this act by `person`.
fn assert_stopped(server: &Server, who: &Who, before: u64, r: &Resp, person: &str) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("<section class=critical role=alert><p><b>STOP.")
            && !r.body.contains("class=done"),
        "{}",
        r.body
    );
    let e = entry(server, who, before);
    assert_eq!(e["actors"][0]["person"], person, "{e}");
    e
}

/// The act was refused by `rule`: the page shows rule, why and needed, and the log holds a
/// `refused` entry for it.
fn assert_refused(server: &Server, who: &Who, before: u64, r: &Resp, rule: &str) {
    assert!(
        r.status == 403 || r.status == 409,
        "{}: {}",
        r.status,
        r.body
    );
    for text in [
        &format!("Refused: {rule}"),
        "<b>Why:</b>",
        "<b>Needed:</b>",
        &format!("entry #{before}"),
    ] {
        assert!(r.body.contains(text), "{text} missing: {}", r.body);
    }
    let e = entry(server, who, before);
    assert_eq!(e["event"]["type"], "refused", "{e}");
    assert_eq!(e["event"]["rule"], rule, "{e}");
}

/// Submits a form of `page` to `/act` as `who`; it must be done, by `person`. The new entry.
fn done_through(
    server: &Server,
    who: &Who,
    page: &str,
    fields: &[(&str, &str)],
    person: &str,
) -> Value {
    let before = server.next_index(who);
    let r = submit(server, who, page, "/act", fields);
    assert_done(server, who, before, &r, person)
}

fn today(server: &Server, who: &Who) -> String {
    server.get("/api/state", who).json()["days"]
        .as_object()
        .unwrap()
        .keys()
        .next_back()
        .unwrap()
        .clone()
}

#[test]
fn intake_verify_meeting_scene_discharge_and_wrap_through_the_forms() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let alec = server.sign_in("alec");
    let dave = server.sign_in("dave");
    let pat = server.sign_in("pat");
    let day = today(&server, &hannah);

    // Every flow page opens from the menu.
    let menu = server.get("/flows", &hannah);
    for href in [
        "/intake",
        "/meeting",
        "/scene",
        "/discharge",
        "/wrap",
        "/day",
        "/admin",
    ] {
        assert!(menu.body.contains(&format!("href=\"{href}\"")), "{href}");
        assert_eq!(server.get(href, &hannah).status, 200, "{href}");
    }

    // Intake: a lot received into a new container.
    let lot = [
        ("kind", "receive_lot"),
        ("lot", "DUM-2"),
        ("ammo", "dummy"),
        ("calibre", ".45 Long Colt"),
        ("count", "12"),
        ("maker", "Starline"),
        ("headstamp", "STARLINE 45 COLT"),
        ("supplier", "Prop house"),
        ("container", "BOX-3"),
        ("location", "SAFE"),
    ];
    // A performer may not receive ammunition: refused on screen, logged as a near miss.
    let before = server.next_index(&alec);
    let r = submit(&server, &alec, "/intake", "/act", &lot);
    assert_refused(&server, &alec, before, &r, "ROLE");
    let before = server.next_index(&hannah);
    let r = submit(&server, &hannah, "/intake", "/act", &lot);
    assert_done(&server, &hannah, before, &r, "hannah");
    let intake = server.get("/intake", &hannah);
    assert!(
        intake.body.contains("DUM-2") && intake.body.contains("NOT VERIFIED"),
        "{}",
        intake.body
    );

    // Loading from the unverified lot is refused (LOT-VERIFIED), before and not after verifying.
    let r = server.act(
        &hannah,
        json!({"type": "take_out", "item": {"firearm": "REV-3"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let load = |who: &Who| {
        server.act(
            who,
            json!({"type": "load", "firearm": "REV-3",
                   "chambers": [{"round": "BOX-3"}, "empty", "empty", "empty", "empty", "empty"]}),
        )
    };
    let r = load(&hannah);
    assert_eq!(
        (r.status, r.json()["rule"].as_str()),
        (409, Some("LOT-VERIFIED"))
    );

    // Verify: the page proposes nothing (one tap must not verify a lot); a malformed list
    // names its field.
    let page = server.get("/verify?lot=DUM-2", &hannah);
    assert!(
        page.body.contains("name=results value=\"\"") && !page.body.contains("12 rattled"),
        "{}",
        page.body
    );
    let wrap = server.get("/wrap", &hannah);
    assert!(!wrap.body.contains("the record says"), "{}", wrap.body);
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/verify?lot=DUM-2",
        "/act",
        &[
            ("kind", "verify_lot"),
            ("lot", "DUM-2"),
            ("results", "twelve rattled"),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Check: results"), "{}", r.body);
    assert_eq!(
        server.next_index(&hannah),
        before,
        "bad input records nothing"
    );
    let r = submit(
        &server,
        &hannah,
        "/verify?lot=DUM-2",
        "/act",
        &[
            ("kind", "verify_lot"),
            ("lot", "DUM-2"),
            ("results", "10 rattled, 2 rattled"),
        ],
    );
    assert_done(&server, &hannah, before, &r, "hannah");
    assert_eq!(load(&hannah).status, 200);
    let r = server.act(&hannah, json!({"type": "unload", "firearm": "REV-3"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server.act(
        &hannah,
        json!({"type": "store", "item": {"firearm": "REV-3"}, "location": "SAFE"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // Scene plan by the 1st AD.
    let before = server.next_index(&dave);
    let r = submit(
        &server,
        &dave,
        "/scene",
        "/act",
        &[
            ("kind", "plan_scene"),
            ("scene", "BARN"),
            ("day", &day),
            ("scene_kind", "rehearsal"),
            ("window_minutes", "30"),
            ("firearm_1", "RUB-1"),
            ("load_1", "cold"),
            ("handler_1", "alec"),
            ("muzzle_1", "down and away from the crew"),
            ("distances", "20 ft"),
            ("shields", "polycarbonate shield"),
        ],
    );
    let e = assert_done(&server, &dave, before, &r, "dave");
    assert!(e.to_string().contains("BARN"), "{e}");

    // Safety meeting: attendees ticked, the safety rep confirms with a PIN; a wrong PIN records
    // nothing.
    let meeting = [
        ("kind", "hold_meeting"),
        ("day", day.as_str()),
        ("scene_BARN", "on"),
        ("attendee_hannah", "on"),
        ("attendee_alec", "on"),
        ("attendee_dave", "on"),
        ("topics", "Safety Bulletin #1\nfinger off the trigger"),
        ("item_intended_action", "on"),
        ("item_deviations", "on"),
        ("item_abort_plan", "on"),
        ("item_emergency_and_medic", "on"),
        ("item_chain_of_command", "on"),
        ("item_walk_through", "on"),
        ("safety_rep", "sam"),
    ];
    let page = server.get("/meeting", &dave);
    assert!(
        page.body.contains("name=\"attendee_alec\"") && page.body.contains("name=\"scene_BARN\""),
        "{}",
        page.body
    );
    let before = server.next_index(&dave);
    let mut wrong = meeting.to_vec();
    wrong.push(("safety_rep_pin", "0000"));
    let r = submit(&server, &dave, "/meeting", "/act", &wrong);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(server.next_index(&dave), before);
    let mut right = meeting.to_vec();
    right.push(("safety_rep_pin", "3333"));
    let r = submit(&server, &dave, "/meeting", "/act", &right);
    let e = assert_done(&server, &dave, before, &r, "dave");
    assert!(
        e["actors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["person"] == "sam" && a["method"] == "pin"),
        "{e}"
    );
    let attendees = e.to_string();
    assert!(
        attendees.contains("\"alec\"") && attendees.contains("\"hannah\""),
        "{e}"
    );

    // The day's armorer, designated by the producer.
    let before = server.next_index(&pat);
    let r = submit(
        &server,
        &pat,
        "/day",
        "/act",
        &[
            ("kind", "designate_armorer"),
            ("day", &day),
            ("person", "hannah"),
        ],
    );
    assert_done(&server, &pat, before, &r, "pat");
    assert!(
        server
            .get("/day", &pat)
            .body
            .contains("<b id=armorer>hannah</b>")
    );

    // Other duties that day: the property master on props is fine; the day's armorer may hold
    // no other duty (ARMORER-DEDICATED), refused on screen and logged.
    let before = server.next_index(&pat);
    let r = submit(
        &server,
        &pat,
        "/day",
        "/act",
        &[
            ("kind", "assign_duty"),
            ("day", &day),
            ("person", "sarah"),
            ("duty", "property_master"),
        ],
    );
    assert_done(&server, &pat, before, &r, "pat");
    let before = server.next_index(&pat);
    let r = submit(
        &server,
        &pat,
        "/day",
        "/act",
        &[
            ("kind", "assign_duty"),
            ("day", &day),
            ("person", "hannah"),
            ("duty", "property_master"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Refused: STATE") && r.body.contains("Not recorded"),
        "{}",
        r.body
    );
    assert_eq!(server.next_index(&pat), before, "bad input is not logged");
    // F8: the armorer who also does props. The admin grants the role; the duty is still refused.
    let adm = server.sign_in("adm");
    let before = server.next_index(&adm);
    let r = submit(
        &server,
        &adm,
        "/admin",
        "/act",
        &[
            ("kind", "grant_role"),
            ("person", "hannah"),
            ("role", "property_master"),
        ],
    );
    assert_done(&server, &adm, before, &r, "adm");
    // While a firearm is out of the safe the armorer is on firearms only (the window of
    // ARMORER-DEDICATED); with all of them locked away the props duty would be taken.
    let r = server.act(
        &hannah,
        json!({"type": "take_out", "item": {"firearm": "REV-1"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let before = server.next_index(&pat);
    let r = submit(
        &server,
        &pat,
        "/day",
        "/act",
        &[
            ("kind", "assign_duty"),
            ("day", &day),
            ("person", "hannah"),
            ("duty", "property_master"),
        ],
    );
    assert_refused(&server, &pat, before, &r, "ARMORER-DEDICATED");
    assert!(r.body.contains("until all are locked away"), "{}", r.body);
    let r = server.act(
        &hannah,
        json!({"type": "store", "item": {"firearm": "REV-1"}, "location": "SAFE"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // A misfire reported; the incident closed by the armorer with the safety rep's PIN.
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/discharge",
        "/act",
        &[
            ("kind", "report_discharge"),
            ("firearm", "REV-2"),
            ("discharge", "misfire"),
            ("positions", ""),
            ("description", "hammer fell, nothing fired"),
        ],
    );
    assert_stopped(&server, &hannah, before, &r, "hannah");
    // Until it is closed, every page shows it to everyone, at the top.
    let alec = server.sign_in("alec");
    for path in ["/", "/item/REV-1", "/log"] {
        let page = server.get(path, &alec);
        assert!(
            page.body.contains("class=stop-banner") && page.body.contains("hammer fell"),
            "{path}: {}",
            page.body
        );
    }
    let page = server.get("/discharge", &hannah);
    let incident = page
        .body
        .split("name=incident value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no open incident to close: {}", page.body))
        .to_owned();
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/discharge",
        "/act",
        &[
            ("kind", "close_incident"),
            ("incident", &incident),
            (
                "findings",
                "weak hammer spring replaced; test-fired off set",
            ),
            ("safety_rep", "sam"),
            ("safety_rep_pin", "3333"),
        ],
    );
    assert_done(&server, &hannah, before, &r, "hannah");
    assert!(
        !server.get("/", &alec).body.contains("stop-banner"),
        "closed: no banner"
    );

    // Wrap: every container counted as recorded balances.
    let state = server.get("/api/state", &hannah).json();
    let counts: Vec<(String, String)> = state["containers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, c)| (format!("count_{id}"), c["count"].to_string()))
        .collect();
    let mut fields: Vec<(&str, &str)> = vec![("kind", "reconcile"), ("day", &day)];
    fields.extend(counts.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let wrap = server.get("/wrap", &hannah);
    assert!(wrap.body.contains("name=count_BOX-3"), "{}", wrap.body);
    let before = server.next_index(&hannah);
    let r = submit(&server, &hannah, "/wrap", "/act", &fields);
    assert_done(&server, &hannah, before, &r, "hannah");
    let state = server.get("/api/state", &hannah).json();
    assert_eq!(
        state["days"][&day]["reconciled"], true,
        "{}",
        state["days"][&day]
    );
}

#[test]
fn the_people_page_is_the_admins_and_logs_who_set_whose_secrets() {
    let server = Server::start(&[]);
    let adm = server.sign_in("adm");
    let hannah = server.sign_in("hannah");

    // A non-admin reads the people but gets no forms and cannot set secrets or add people.
    let page = server.get("/admin", &hannah);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Hannah") && !page.body.contains("action=/admin/secret"));
    let r = submit(
        &server,
        &hannah,
        "/flows",
        "/admin/secret",
        &[("person", "alec"), ("password", "hijacked-password")],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("acting as admin"), "{}", r.body);
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/flows",
        "/act",
        &[
            ("kind", "add_person"),
            ("person", "gina"),
            ("name", "Gina"),
            ("role_armorer", "on"),
        ],
    );
    assert_refused(&server, &hannah, before, &r, "ROLE");

    // The admin adds a person with roles, grants one, records a credential, sets their secrets.
    let page = server.get("/admin", &adm);
    assert!(page.body.contains("action=/admin/secret"), "{}", page.body);
    let before = server.next_index(&adm);
    let r = submit(
        &server,
        &adm,
        "/admin",
        "/act",
        &[
            ("kind", "add_person"),
            ("person", "gina"),
            ("name", "Gina"),
            ("role_performer", "on"),
        ],
    );
    assert_done(&server, &adm, before, &r, "adm");
    let before = server.next_index(&adm);
    let r = submit(
        &server,
        &adm,
        "/admin",
        "/act",
        &[
            ("kind", "grant_role"),
            ("person", "gina"),
            ("role", "armorer"),
        ],
    );
    assert_done(&server, &adm, before, &r, "adm");
    let before = server.next_index(&adm);
    let r = submit(
        &server,
        &adm,
        "/admin",
        "/act",
        &[
            ("kind", "record_credential"),
            ("person", "gina"),
            ("cred_kind", "entertainment_firearms_permit"),
            ("number", "EFP-77"),
            ("expires", "2099-12-31"),
        ],
    );
    assert_done(&server, &adm, before, &r, "adm");
    let page = server.get("/admin", &adm);
    assert!(
        page.body.contains("EFP-77") && page.body.contains("armorer, performer"),
        "{}",
        page.body
    );

    let weak = submit(
        &server,
        &adm,
        "/admin",
        "/admin/secret",
        &[("person", "gina"), ("password", "short")],
    );
    assert_eq!(weak.status, 400, "{}", weak.body);
    assert!(
        weak.body.contains("at least 10 characters"),
        "{}",
        weak.body
    );
    let size = server.next_index(&adm);
    let r = submit(
        &server,
        &adm,
        "/admin",
        "/admin/secret",
        &[
            ("person", "gina"),
            ("password", "gina-first-password"),
            ("pin", "4321"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // That they were set is in the log, one entry each (who, for whom, which kind); the secrets
    // and their hashes are not.
    assert_eq!(server.next_index(&adm), size + 2);
    for (index, kind) in [(size, "password"), (size + 1, "pin")] {
        let entry = server.get(&format!("/api/log/entries/{index}"), &adm);
        let entry = entry.json();
        assert_eq!(entry["event"]["type"], "secret_set", "{entry}");
        assert_eq!(entry["event"]["person"], "gina");
        assert_eq!(entry["event"]["kind"], kind);
        assert_eq!(entry["event"]["by"], "adm");
        assert_eq!(entry["actors"][0]["person"], "adm");
        let text = entry.to_string();
        assert!(
            !text.contains("gina-first-password")
                && !text.contains("4321")
                && !text.contains("argon2")
        );
    }
    let r = server.req(
        "POST",
        "/api/session",
        &[("Content-Type", "application/json")],
        json!({"person": "gina", "password": "gina-first-password"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let log = server.get("/api/log/entries/0", &adm);
    assert!(!log.body.contains("gina-first-password"));
    let before = server.next_index(&adm);
    let r = submit(
        &server,
        &adm,
        "/admin",
        "/act",
        &[("kind", "remove_person"), ("person", "gina")],
    );
    assert_done(&server, &adm, before, &r, "adm");
    assert!(
        server
            .get("/admin", &adm)
            .body
            .contains("(gina) <i>removed</i>")
    );
}

fn armory_with_input(data: &std::path::Path, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("ARMORY_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child may exit before reading (a refusal that needs no secret): a closed pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    child.wait_with_output().unwrap()
}

#[test]
fn armory_user_bootstraps_a_production_whose_admin_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = crate::common::armory(&data, &["init", "--origin", "example.org/new"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A node nobody can sign in to says what to do.
    let mut server = Server::start_in(dir, data.clone(), &[]);
    assert!(
        server.banner.contains("armory user bootstrap --production"),
        "{}",
        server.banner
    );
    let signin = server.get("/signin", &Who::nobody());
    assert!(
        signin.body.contains("armory user bootstrap --production"),
        "{}",
        signin.body
    );
    server.stop();

    let boot = [
        "user",
        "bootstrap",
        "--production",
        "new-show",
        "--title",
        "New show",
        "--admin",
        "olga",
        "--name",
        "Olga",
    ];
    let out = armory_with_input(&data, &boot, "short\n");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("at least 10"), "{}", stderr(&out));
    let out = armory_with_input(&data, &boot, "olga-long-password\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = armory_with_input(&data, &boot, "olga-long-password\n");
    assert!(
        stderr(&out).contains("already holds a production"),
        "{}",
        stderr(&out)
    );
    let out = armory_with_input(&data, &["user", "set-pin", "olga"], "12ab\n");
    assert!(stderr(&out).contains("4 to 8 digits"), "{}", stderr(&out));
    let out = armory_with_input(&data, &["user", "set-pin", "olga"], "2468\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = armory_with_input(
        &data,
        &["user", "set-password", "nobody"],
        "whatever-long\n",
    );
    assert!(
        stderr(&out).contains("not on this production"),
        "{}",
        stderr(&out)
    );
    let out = armory_with_input(&data, &["user", "token", "olga"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    let dir2 = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir2, data.clone(), &[]);
    let r = server.req(
        "POST",
        "/api/session",
        &[("Content-Type", "application/json")],
        json!({"person": "olga", "password": "olga-long-password"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let bearer = format!("Bearer {token}");
    let state = server.req("GET", "/api/state", &[("Authorization", &bearer)], b"");
    assert_eq!(state.status, 200, "{}", state.body);
    assert_eq!(state.json()["production"]["title"], "New show");
    let signin = server.get("/signin", &Who::nobody());
    assert!(!signin.body.contains("armory user bootstrap"));
    // Each secret set from the shell is in the log (who for whom, which kind), never the secret:
    // the admin's own password at bootstrap, then the PIN and the token set by the operator.
    let size = state.json()["next_index"].as_u64().unwrap();
    let secrets: Vec<(String, String, String)> = (0..size)
        .map(|i| {
            server
                .req(
                    "GET",
                    &format!("/api/log/entries/{i}"),
                    &[("Authorization", &bearer)],
                    b"",
                )
                .json()
        })
        .filter(|e| e["event"]["type"] == "secret_set")
        .map(|e| {
            let f = |k: &str| e["event"][k].as_str().unwrap().to_owned();
            (f("person"), f("kind"), f("by"))
        })
        .collect();
    let want = |p: &str, k: &str, b: &str| (p.to_owned(), k.to_owned(), b.to_owned());
    assert_eq!(
        secrets,
        [
            want("olga", "password", "olga"),
            want("olga", "pin", "operator"),
            want("olga", "api_token", "operator")
        ]
    );
    // While the node serves, the shell cannot change a secret (it could not log it): refused,
    // pointing at the pages that do.
    let out = armory_with_input(&data, &["user", "set-pin", "olga"], "1357\n");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("set passwords, PINs and tokens on its People and Account pages"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_flow_form_sent_twice_records_once_and_a_wrong_wrap_count_opens_an_incident() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let day = today(&server, &hannah);
    let board = server.get("/", &hannah);
    for href in ["/intake", "/meeting", "/wrap"] {
        assert!(
            board.body.contains(&format!("href={href}")),
            "{href} not on the board"
        );
    }
    assert_eq!(server.get("/verify?lot=NOPE", &hannah).status, 404);

    // The same form (same one-time key) posted twice over flaky Wi-Fi: one entry.
    let page = server.get("/wrap", &hannah);
    let csrf = csrf_of(&page);
    let state = server.get("/api/state", &hannah).json();
    let mut body = format!(
        "csrf={}&idem=wrap-once&kind=reconcile&day={day}",
        urlencode(&csrf)
    );
    for (id, c) in state["containers"].as_object().unwrap() {
        // BOX-1 is one round short of the record.
        let n = c["count"].as_u64().unwrap() - u64::from(id == "BOX-1");
        body.push_str(&format!("&count_{id}={n}"));
    }
    let mut h = hannah.headers();
    h.push(("Content-Type", "application/x-www-form-urlencoded"));
    let before = server.next_index(&hannah);
    let first = server.req("POST", "/act", &h, body.as_bytes());
    assert_stopped(&server, &hannah, before, &first, "hannah");
    let after = server.next_index(&hannah);
    let again = server.req("POST", "/act", &h, body.as_bytes());
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.contains("already recorded"), "{}", again.body);
    // Sent twice, it still says STOP, never "Done".
    assert!(
        again.body.contains("class=critical") && !again.body.contains("class=done"),
        "{}",
        again.body
    );
    assert_eq!(
        server.next_index(&hannah),
        after,
        "a repeat records nothing"
    );

    // WRAP-RECONCILE: the difference is not hidden; it opens an incident shown on the discharge page.
    let state = server.get("/api/state", &hannah).json();
    assert_eq!(
        state["days"][&day]["reconciled"], false,
        "{}",
        state["days"][&day]
    );
    let page = server.get("/discharge", &hannah);
    assert!(page.body.contains("count mismatch"), "{}", page.body);
}

#[test]
fn the_armory_overrides_corrections_and_remarks_through_the_forms() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let alec = server.sign_in("alec");
    let day = today(&server, &hannah);
    let state = |s: &Server| s.get("/api/state?full=true", &hannah).json();
    let menu = server.get("/flows", &hannah);
    for href in ["/armory", "/override", "/log"] {
        assert!(menu.body.contains(&format!("href=\"{href}\"")), "{href}");
    }

    // Register a firearm: the armorer becomes its custodian, in the location chosen.
    let register = [
        ("kind", "register_firearm"),
        ("firearm", "REV-9"),
        ("serial", "SN-4411"),
        ("make", "Uberti"),
        ("model", "1873 Cattleman"),
        ("calibre", ".45 Long Colt"),
        ("class", "functional"),
        ("positions", "6"),
        ("location", "SAFE"),
    ];
    let before = server.next_index(&hannah);
    let r = submit(&server, &hannah, "/armory", "/act", &register);
    assert_done(&server, &hannah, before, &r, "hannah");
    let rev9 = &state(&server)["firearms"]["REV-9"];
    assert_eq!(rev9["custodian"], "hannah");
    assert_eq!(
        rev9["custody"],
        json!({"state": "stored", "location": "SAFE"})
    );
    // A performer may not; a number that is not one is named and nothing is recorded.
    let before = server.next_index(&alec);
    let r = submit(&server, &alec, "/armory", "/act", &register);
    assert_refused(&server, &alec, before, &r, "ROLE");
    let mut six = register;
    six[1].1 = "REV-10";
    six[7].1 = "six";
    let before = server.next_index(&hannah);
    let r = submit(&server, &hannah, "/armory", "/act", &six);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("positions must be a whole number"),
        "{}",
        r.body
    );
    assert_eq!(server.next_index(&hannah), before);

    // A location, then its lock.
    done_through(
        &server,
        &hannah,
        "/armory",
        &[
            ("kind", "add_location"),
            ("new_location", "TRUCK"),
            ("location_name", "Gun truck"),
            ("locks", "on"),
        ],
        "hannah",
    );
    assert_eq!(state(&server)["locations"]["TRUCK"]["locked"], true);
    done_through(
        &server,
        &hannah,
        "/armory",
        &[("kind", "set_location_lock"), ("lock_location", "TRUCK")],
        "hannah",
    );
    assert_eq!(state(&server)["locations"]["TRUCK"]["locked"], false);

    // Rounds: 4 of BOX-1 into a new box, 1 of those removed, the lot reopened.
    let box1 = state(&server)["containers"]["BOX-1"].clone();
    let (count, lot) = (
        box1["count"].as_u64().unwrap(),
        box1["lot"].as_str().unwrap().to_owned(),
    );
    done_through(
        &server,
        &hannah,
        "/armory",
        &[
            ("kind", "transfer_rounds"),
            ("from", "BOX-1"),
            ("to", "BOX-1B"),
            ("count", "4"),
        ],
        "hannah",
    );
    done_through(
        &server,
        &hannah,
        "/armory",
        &[
            ("kind", "remove_rounds"),
            ("remove_from", "BOX-1B"),
            ("remove_count", "1"),
            ("remove_reason", "dented case, back to the prop house"),
        ],
        "hannah",
    );
    let s = state(&server);
    assert_eq!(s["containers"]["BOX-1"]["count"], count - 4);
    assert_eq!(s["containers"]["BOX-1B"]["count"], 3);
    done_through(
        &server,
        &hannah,
        "/armory",
        &[
            ("kind", "reopen_lot"),
            ("lot", &lot),
            ("reopen_reason", "a round looked odd at the rattle check"),
        ],
        "hannah",
    );
    assert_eq!(state(&server)["lots"][&lot]["status"], "unverified");

    // Handing an item on, to someone who is no custodian in this production: refused on
    // screen and logged, and the firearm stays with its custodian.
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/armory",
        "/act",
        &[
            ("kind", "assign_custodian"),
            ("item", "firearm:REV-9"),
            ("person", "alec"),
        ],
    );
    assert_refused(&server, &hannah, before, &r, "CUSTODIAN-ONLY");
    assert_eq!(state(&server)["firearms"]["REV-9"]["custodian"], "hannah");

    // An override of DAILY-MEETING for REV-2 today: the armorer approves, the safety rep
    // confirms with a PIN; a wrong PIN records nothing.
    let mut grant = vec![
        ("kind", "override"),
        ("rule", "DAILY-MEETING"),
        (
            "reason",
            "meeting held by radio at the far location; minutes follow",
        ),
        ("target_firearm", "REV-2"),
        ("target_day", day.as_str()),
        ("approver1", "sam"),
        ("approver1_role", "safety_rep"),
        ("approver1_pin", "3334"),
    ];
    let before = server.next_index(&hannah);
    let r = submit(&server, &hannah, "/override", "/act", &grant);
    assert!(r.status == 401 || r.status == 429, "{}", r.body);
    assert_eq!(server.next_index(&hannah), before);
    grant[7].1 = "3333";
    let r = submit(&server, &hannah, "/override", "/act", &grant);
    let e = assert_done(&server, &hannah, before, &r, "hannah");
    assert_eq!(e["event"]["type"], "override_granted", "{e}");
    assert_eq!(e["actors"][1]["person"], "sam", "{e}");
    let page = server.get("/override", &hannah);
    assert!(
        page.body
            .contains(&format!("<a href=/entry/{before}>#{before}</a>")),
        "{}",
        page.body
    );
    assert!(page.body.contains("waiting"), "{}", page.body);

    // A remark from the log page, and a correction of it from its entry's page.
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/log",
        "/act",
        &[("kind", "note"), ("text", "REV-9 came in its own case")],
    );
    let e = assert_done(&server, &hannah, before, &r, "hannah");
    assert_eq!(e["event"]["text"], "REV-9 came in its own case");
    let noted = before;
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        &format!("/entry/{noted}"),
        "/act",
        &[
            ("kind", "correct"),
            ("entry", &noted.to_string()),
            ("reason", "it came in the prop house's case"),
        ],
    );
    let e = assert_done(&server, &hannah, before, &r, "hannah");
    assert_eq!(e["event"]["entry"], noted, "{e}");
    assert_eq!(
        state(&server)["corrections"][noted.to_string()],
        json!([before])
    );

    let out = crate::common::armory(&server.data, &["verify", "--replay"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The policy page shows the policy in force and the entry that set it; a tightening is done by
/// the armorer alone, a loosening is refused until the three approvers confirm with their PINs.
#[test]
fn the_policy_page_shows_the_policy_in_force_and_changes_it_by_the_rules() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let page = server.get("/policy", &hannah);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("set by adm in <a href=/entry/"),
        "{}",
        page.body
    );
    let mut fields: Vec<(&str, &str)> = vec![
        ("kind", "set_policy"),
        ("p.refuse_unlocked_storage", "on"),
        ("p.rehearsal_allows_dummies", "on"),
        ("p.anonymous_incident_reports", "on"),
        ("p.scene_window_minutes", "60"),
        ("p.credential_warning_days", "14"),
        ("p.utc_offset_minutes", "0"),
        ("p.day_starts_at_minutes", "0"),
        ("cred.armorer", "entertainment_firearms_permit"),
        ("cred.property_master", "entertainment_firearms_permit"),
        (
            "cred.assistant_property_master",
            "entertainment_firearms_permit",
        ),
        ("p.property_master_may_be_custodian", "on"),
    ];
    let state = server.get("/api/state", &hannah).json();
    let offset = state["policy"]["policy"]["utc_offset_minutes"].to_string();
    fields[6].1 = &offset;
    let tightened = done_through(&server, &hannah, "/policy", &fields, "hannah");
    assert_eq!(tightened["event"]["type"], "policy_set", "{tightened}");
    assert_eq!(
        tightened["event"]["policy"]["refuse_unlocked_storage"],
        true
    );
    let page = server.get("/policy", &hannah);
    assert!(
        page.body.contains(&format!(
            "set by hannah in <a href=/entry/{0}>entry #{0}</a>",
            tightened["index"]
        )),
        "{}",
        page.body
    );

    // A longer scene window loosens: refused without the three approvals, done with them.
    fields[4].1 = "90";
    let before = server.next_index(&hannah);
    let r = submit(&server, &hannah, "/policy", "/act", &fields);
    assert_refused(&server, &hannah, before, &r, "ROLE");
    assert!(
        r.body.contains("scene_window_minutes: 60 -&gt; 90"),
        "{}",
        r.body
    );
    fields.extend([
        ("approver.producer", "pat"),
        ("approver_pin.producer", "6666"),
        ("approver.safety_rep", "sam"),
        ("approver_pin.safety_rep", "3333"),
        ("approver.armorer", "hannah"),
        ("approver_pin.armorer", "4444"),
    ]);
    let loosened = done_through(&server, &hannah, "/policy", &fields, "hannah");
    assert_eq!(
        loosened["event"]["policy"]["scene_window_minutes"], 90,
        "{loosened}"
    );
    let approvers: Vec<&str> = loosened["actors"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|a| a["person"].as_str().unwrap())
        .collect();
    assert_eq!(approvers, ["pat", "sam", "hannah"], "{loosened}");
}

/// The item page's bore check: done on an empty firearm, then shown on the page.
#[test]
fn the_bore_check_is_recorded_from_the_item_page_and_shown_there() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    for command in [
        json!({"type": "take_out", "item": {"firearm": "REV-2"}}),
        json!({"type": "unload", "firearm": "REV-2"}),
    ] {
        assert_eq!(server.act(&hannah, command).status, 200);
    }
    let done = done_through(
        &server,
        &hannah,
        "/item/REV-2",
        &[("kind", "bore_check"), ("firearm", "REV-2")],
        "hannah",
    );
    assert_eq!(done["event"]["type"], "bore_checked", "{done}");
    let page = server.get("/item/REV-2", &hannah);
    assert!(
        page.body.contains(&format!(
            "bore proven clear at <a href=/entry/{0}>#{0}</a>",
            done["index"]
        )),
        "{}",
        page.body
    );
    // A position that holds no misfired round: refused as out of order, nothing logged.
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/item/REV-2",
        "/act",
        &[
            ("kind", "recover_round"),
            ("firearm", "REV-2"),
            ("position", "1"),
        ],
    );
    assert!(
        r.body.contains("holds no round of a reported misfire"),
        "{}",
        r.body
    );
    assert_eq!(server.next_index(&hannah), before);
}

/// A missing firearm from the Discharges page: the incident stops everything, the police
/// report is asked for on the page, and the incident closes only once it is recorded.
#[test]
fn a_missing_firearm_is_reported_and_its_police_report_recorded_from_the_pages() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/discharge",
        "/act",
        &[
            ("kind", "report_missing"),
            ("firearm", "REV-3"),
            ("missing_description", "not in the safe at the lunch count"),
        ],
    );
    let opened = assert_stopped(&server, &hannah, before, &r, "hannah");
    assert_eq!(opened["event"]["type"], "incident_opened", "{opened}");
    assert_eq!(opened["event"]["kind"], "missing_firearm");
    let id = opened["event"]["incident"].as_str().unwrap().to_owned();
    let page = server.get("/discharge", &hannah);
    assert!(
        page.body.contains(&format!("Police report for {id}")),
        "{}",
        page.body
    );
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/discharge",
        "/act",
        &[
            ("kind", "close_incident"),
            ("incident", &id),
            ("findings", "found in the truck"),
            ("safety_rep", "sam"),
            ("safety_rep_pin", "3333"),
        ],
    );
    assert_refused(&server, &hannah, before, &r, "MISSING-REPORT");
    let police = format!("police_report_{id}");
    let recorded = done_through(
        &server,
        &hannah,
        "/discharge",
        &[
            ("kind", "record_police_report"),
            ("incident", &id),
            (&police, "SFPD-2021-10-4411"),
        ],
        "hannah",
    );
    assert_eq!(
        recorded["event"]["police_report"], "SFPD-2021-10-4411",
        "{recorded}"
    );
    let alerts = server.get("/api/alerts", &hannah).json();
    assert!(
        !alerts.to_string().contains("police_report_due"),
        "{alerts}"
    );
}

/// The scan box takes what a scanner or a phone camera reads: an id in any case, a label's URL,
/// a serial number; and it has the focus from the moment the page is parsed.
#[test]
fn the_scan_box_takes_lowercase_ids_label_urls_and_serials() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    for scanned in [
        "REV-1",
        "rev-1",
        "  Rev-1 ",
        "https://armory-laptop.local:8443/item/REV-1",
        "http%3A//x/item/rev-1".replace("%3A", ":").as_str(),
        "https://armory-laptop.local/item/REV%2D1?from=label",
    ] {
        let r = server.get(&format!("/scan?q={}", urlencode(scanned)), &hannah);
        assert_eq!(
            (r.status, r.header("location")),
            (303, Some("/item/REV-1")),
            "{scanned:?}: {}",
            r.body
        );
    }
    let serial = server.get("/api/state", &hannah).json()["firearms"]["REV-2"]["serial"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let r = server.get(&format!("/scan?q={}", urlencode(&serial)), &hannah);
    assert_eq!(r.header("location"), Some("/item/REV-2"), "{serial}");
    let r = server.get("/scan?q=REV-404", &hannah);
    assert_eq!(r.status, 404);
    let board = server.get("/", &hannah);
    assert!(
        board.body.contains("id=scan name=q") && board.body.contains("autofocus"),
        "{}",
        board.body
    );
}

/// Times on pages are the set's local time (the policy's offset), the UTC instant kept aside.
#[test]
fn pages_show_times_in_the_sets_local_time() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let log = server.get("/log", &hannah);
    let shown: Vec<&str> = log
        .body
        .split("<time datetime=\"")
        .skip(1)
        .filter_map(|t| t.split_once("\">").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("</time>").map(|(v, _)| v))
        .collect();
    assert!(!shown.is_empty(), "{}", log.body);
    for v in shown {
        // 2026-12-02 07:55: no UTC "T...Z" left for people to convert in their heads.
        assert!(
            v.len() == 16 && &v[10..11] == " " && !v.contains('Z'),
            "{v:?}"
        );
    }
}

/// Near misses stand out: counted per rule and day, filtered, coloured in the log, and listed
/// on the firearm's page.
#[test]
fn near_misses_are_counted_filtered_and_shown_on_the_firearms_page() {
    let server = Server::start(&[]);
    let dave = server.sign_in("dave");
    let hannah = server.sign_in("hannah");
    // The 1st AD hands REV-1 over (CUSTODIAN-ONLY), twice; the armorer issues it unshown.
    for _ in 0..2 {
        let r = server.act(
            &dave,
            json!({"type": "issue", "firearm": "REV-1", "performer": "alec", "scene": "CHURCH"}),
        );
        assert_eq!(r.status, 409, "{}", r.body);
    }
    let r = server.act(
        &hannah,
        json!({"type": "issue", "firearm": "REV-2", "performer": "alec", "scene": "CHURCH"}),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    let page = server.get("/near-misses", &hannah);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(
            "<a href=\"/near-misses?rule=CUSTODIAN-ONLY\">CUSTODIAN-ONLY</a></td><td class=n>2</td>"
        ),
        "{}",
        page.body
    );
    let filtered = server.get("/near-misses?rule=CUSTODIAN-ONLY", &hannah);
    assert_eq!(
        filtered.body.matches("<li class=near-miss").count(),
        2,
        "{}",
        filtered.body
    );
    let rev2 = server.get("/near-misses?firearm=REV-2", &hannah);
    assert_eq!(
        rev2.body.matches("<li class=near-miss").count(),
        1,
        "{}",
        rev2.body
    );
    let item = server.get("/item/REV-1", &hannah);
    assert!(
        item.body.contains("Near misses with it (2)")
            && item.body.contains("REFUSED issue (CUSTODIAN-ONLY)"),
        "{}",
        item.body
    );
    assert!(server.get("/log", &hannah).body.contains("class=near-miss"));
    assert!(
        server
            .get("/flows", &hannah)
            .body
            .contains("href=\"/near-misses\"")
    );
}

/// An item page offers the acts its state allows to the role that may do them, no others.
#[test]
fn the_item_page_offers_only_the_acts_that_make_sense_now() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let legends = |who: &Who| {
        let page = server.get("/item/REV-1", who);
        page.body
            .split("<legend>")
            .skip(1)
            .filter_map(|l| l.split('<').next())
            .map(str::to_owned)
            .collect::<Vec<String>>()
    };
    // In the safe: take it out (or brief a performer on it); nothing else.
    let stored = legends(&hannah);
    assert!(stored.iter().any(|l| l == "Take out"), "{stored:?}");
    assert!(
        !stored
            .iter()
            .any(|l| l.starts_with("Issue") || l.starts_with("Load")),
        "{stored:?}"
    );
    // Out of the safe: load, show, put away; no issue before a show check.
    let r = server.act(
        &hannah,
        json!({"type": "take_out", "item": {"firearm": "REV-1"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let out = legends(&hannah);
    assert!(
        out.iter().any(|l| l.starts_with("Load")) && out.iter().any(|l| l == "Put away"),
        "{out:?}"
    );
    assert!(
        !out.iter().any(|l| l == "Take out" || l == "Issue"),
        "{out:?}"
    );
    // A performer, a 1st AD or a producer sees no armorer form at all.
    for who in ["alec", "dave", "pat"] {
        let w = server.sign_in(who);
        assert!(legends(&w).is_empty(), "{who}: {:?}", legends(&w));
        assert!(server.get("/item/REV-1", &w).body.contains("id=no-acts"));
    }
}

/// A lot, a container, a person or an incident opens as a page people read, with what can be
/// done about it; an open incident closes from its own page.
#[test]
fn scanned_lots_containers_people_and_incidents_open_as_pages_with_their_acts() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    for id in ["DUM-1", "BOX-1", "SAFE", "alec", "CHURCH"] {
        let page = server.get(&format!("/item/{id}"), &hannah);
        assert_eq!(page.status, 200, "{id}: {}", page.body);
        assert!(
            page.body.contains("<table class=fields>") && !page.body.contains("<pre>{"),
            "{id}: {}",
            page.body
        );
    }
    assert!(
        server
            .get("/item/DUM-1", &hannah)
            .body
            .contains("href=\"/verify?lot=DUM-1\"")
    );
    let r = server.act(
        &hannah,
        json!({"type": "report_incident", "kind": "near_miss", "severity": "stop",
               "covers": "all", "description": "muzzle swept the camera crew", "anonymous": false}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let incident = r.json()["events"][0]["incident"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = server.get(&format!("/item/{incident}"), &hannah);
    assert!(page.body.contains("value=close_incident"), "{}", page.body);
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        &format!("/item/{incident}"),
        "/act",
        &[
            ("kind", "close_incident"),
            ("incident", &incident),
            (
                "findings",
                "blocking changed; the camera moved behind the shield",
            ),
            ("safety_rep", "sam"),
            ("safety_rep_pin", "3333"),
        ],
    );
    assert_done(&server, &hannah, before, &r, "hannah");
    assert!(
        server
            .get(&format!("/item/{incident}"), &hannah)
            .body
            .contains("Closed.")
    );
}

/// Ids typed in a form are taken in any case ("church" for CHURCH), and the form offers the
/// production's scenes, performers and locations as the person types.
#[test]
fn forms_take_ids_in_any_case_and_offer_the_productions_own() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    for command in [
        json!({"type": "take_out", "item": {"firearm": "REV-1"}}),
        json!({"type": "load", "firearm": "REV-1",
               "chambers": ["empty", "empty", "empty", "empty", "empty", "empty"]}),
    ] {
        let r = server.act(&hannah, command);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let page = server.get("/item/REV-1", &hannah);
    for option in [
        "<datalist id=dl-scenes><option value=\"CHURCH\">",
        "<option value=\"alec\">",
        "<option value=\"SAFE\">",
    ] {
        assert!(page.body.contains(option), "{option}: {}", page.body);
    }
    let before = server.next_index(&hannah);
    let r = submit(
        &server,
        &hannah,
        "/item/REV-1",
        "/act",
        &[
            ("kind", "show_check"),
            ("firearm", "rev-1"),
            ("scene", "church"),
            ("performer", " ALEC "),
            ("performer_pin", "1111"),
            ("first_ad", "Dave"),
            ("first_ad_pin", "2222"),
        ],
    );
    let e = assert_done(&server, &hannah, before, &r, "hannah");
    assert_eq!(e["event"]["scene"], "CHURCH", "{e}");
    assert_eq!(e["event"]["firearm"], "REV-1", "{e}");
}
