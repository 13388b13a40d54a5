//! Sign-in, sessions and bad input over real HTTP (see tests/server.rs for the kit).

use crate::server::{Server, Who};
use armory_store::Store;
use serde_json::{Value, json};

fn form(server: &Server, path: &str, who: &Who, body: &str) -> crate::server::Resp {
    let mut h = who.headers();
    h.push(("Content-Type", "application/x-www-form-urlencoded"));
    server.req("POST", path, &h, body.as_bytes())
}

#[test]
fn sessions_resist_fixation_expire_sign_out_and_need_csrf_on_every_form() {
    let server = Server::start(&["--session-seconds", "3"]);
    // Fixation: a session id chosen by an attacker is never adopted; sign-in issues a new one.
    let planted = Who {
        cookie: "armory_session=attacker-chosen".into(),
        csrf: String::new(),
    };
    assert_eq!(server.get("/api/state", &planted).status, 401);
    let mut h = planted.headers();
    h.push(("Content-Type", "application/json"));
    let r = server.req(
        "POST",
        "/api/session",
        &h,
        json!({"person": "hannah", "password": "demo-hannah-pass"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200);
    let fresh = r.cookie("armory_session").unwrap();
    assert_ne!(fresh, "armory_session=attacker-chosen");
    let set = r
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .unwrap()
        .1
        .clone();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert_eq!(server.get("/api/state", &planted).status, 401);
    // Signing in again ends the session the browser held before.
    let first = server.sign_in("dave");
    let mut h = first.headers();
    h.push(("Content-Type", "application/json"));
    let again = server.req(
        "POST",
        "/api/session",
        &h,
        json!({"person": "dave", "password": "demo-dave-pass"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(again.status, 200);
    assert_eq!(
        server.get("/api/state", &first).status,
        401,
        "the old session id still works"
    );

    // CSRF: the API with a cookie and no token, and every form without its token, change nothing.
    let hannah = server.sign_in("hannah");
    let before = server.next_index(&hannah);
    let no_token = Who {
        cookie: hannah.cookie.clone(),
        csrf: "wrong".into(),
    };
    let r = server.act(&no_token, json!({"type": "note", "text": "forged"}));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["field"], "X-CSRF-Token");
    for (path, body) in [
        ("/act", "kind=take_out&firearm=REV-1"),
        ("/role", "role=armorer"),
        ("/signout", ""),
        ("/signin", "person=hannah&password=demo-hannah-pass"),
    ] {
        let r = form(&server, path, &hannah, body);
        assert_eq!(r.status, 403, "{path} without CSRF token: {}", r.body);
        assert!(r.body.contains("CSRF"), "{path}: {}", r.body);
    }
    assert_eq!(server.next_index(&hannah), before);
    assert_eq!(
        server.get("/api/state", &hannah).status,
        200,
        "a forged sign-out signed us out"
    );

    // Sign-out ends the session.
    let sam = server.sign_in("sam");
    let mut h = sam.headers();
    h.push(("X-CSRF-Token", &sam.csrf));
    assert_eq!(server.req("DELETE", "/api/session", &h, b"").status, 200);
    assert_eq!(server.get("/api/state", &sam).status, 401);

    // Expiry.
    let pat = server.sign_in("pat");
    assert_eq!(server.get("/api/state", &pat).status, 200);
    std::thread::sleep(std::time::Duration::from_millis(3500));
    assert_eq!(server.get("/api/state", &pat).status, 401);
}

#[test]
fn a_session_outlives_a_restart_of_the_server_and_a_signed_out_one_does_not() {
    let mut server = Server::start(&[]);
    let kept = server.sign_in("hannah");
    let ended = server.sign_in("dave");
    let mut h = ended.headers();
    h.push(("X-CSRF-Token", &ended.csrf));
    assert_eq!(server.req("DELETE", "/api/session", &h, b"").status, 200);
    assert!(server.stop().success());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::common::copy_dir(&server.data, &data);
    let server = Server::start_in(dir, data, &[]);
    assert_eq!(server.get("/api/state", &kept).status, 200);
    assert_eq!(server.get("/api/state", &ended).status, 401);
    // Still signed in after the first request read it from the database, and CSRF still holds.
    assert_eq!(server.get("/", &kept).status, 200);
    let r = server.act(&kept, json!({"type": "note", "text": "after the restart"}));
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn lockout_holds_for_its_backoff_and_a_pin_never_signs_in() {
    let server = Server::start(&[]);
    let try_password = |person: &str, password: &str| {
        server.req(
            "POST",
            "/api/session",
            &[("Content-Type", "application/json")],
            json!({"person": person, "password": password})
                .to_string()
                .as_bytes(),
        )
    };
    for n in 1..=4 {
        assert_eq!(try_password("dave", "guess").status, 401, "attempt {n}");
    }
    let locked = try_password("dave", "guess");
    assert_eq!(locked.status, 429, "{}", locked.body);
    let right = try_password("dave", "demo-dave-pass");
    assert_eq!(
        right.status, 429,
        "the right password during the backoff: {}",
        right.body
    );
    assert!(right.json()["error"].as_str().unwrap().contains("locked"));
    // The lockout is in the log once (not at every refused attempt), by the node.
    let adm = server.sign_in("adm");
    let size = server.next_index(&adm);
    let lockouts: Vec<Value> = (0..size)
        .map(|i| server.get(&format!("/api/log/entries/{i}"), &adm).json())
        .filter(|e| e["event"]["type"] == "locked_out")
        .collect();
    assert_eq!(lockouts.len(), 1, "{lockouts:?}");
    assert_eq!(lockouts[0]["event"]["person"], "dave");
    assert_eq!(lockouts[0]["event"]["kind"], "password");
    assert_eq!(lockouts[0]["actors"][0]["person"], "node");
    // A PIN is not a password, and the sign-in API takes no PIN.
    assert_eq!(try_password("alec", "1111").status, 401);
    let r = server.req(
        "POST",
        "/api/session",
        &[("Content-Type", "application/json")],
        json!({"person": "alec", "pin": "1111"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["field"], "pin");
    // A wrong PIN on a show check is refused, records nothing, and counts toward the PIN lockout.
    let hannah = server.sign_in("hannah");
    let before = server.next_index(&hannah);
    let show = json!({"type": "show_check", "firearm": "REV-1", "scene": "CHURCH",
        "performer": {"person": "alec", "role": "performer", "method": "pin"},
        "first_ad": {"person": "dave", "role": "first_ad", "method": "pin"}});
    let r = server.post_json(
        "/api/commands",
        &hannah,
        &json!({"command": show, "pins": {"alec": "0000", "dave": "2222"}}),
        &[],
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["field"], "pins.alec");
    let r = server.post_json(
        "/api/commands",
        &hannah,
        &json!({"command": show, "pins": {"alec": "1111"}}),
        &[],
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["field"], "pins.dave");
    assert_eq!(server.next_index(&hannah), before);
}

#[test]
fn bad_requests_get_a_4xx_naming_the_problem_and_change_nothing() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let before = server.next_index(&hannah);
    let send = |body: &[u8], ctype: &str| {
        let mut h = hannah.headers();
        h.push(("Content-Type", ctype));
        h.push(("X-CSRF-Token", &hannah.csrf));
        server.req("POST", "/api/commands", &h, body)
    };
    let r = send(
        b"{\"command\": {\"type\": \"take_out\",",
        "application/json",
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{}",
        r.body
    );
    let r = send(
        json!({"command": {"type": "add_location", "location": "X", "name": "X", "locked": "yes"}})
            .to_string()
            .as_bytes(),
        "application/json",
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"].as_str().unwrap().contains("invalid type"),
        "{}",
        r.body
    );
    let r = send(
        json!({"command": {"type": "return", "firearm": "REV-1", "force": true}})
            .to_string()
            .as_bytes(),
        "application/json",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["field"], "force", "{}", r.body);
    let r = send(
        json!({"command": {"type": "launch"}})
            .to_string()
            .as_bytes(),
        "application/json",
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"].as_str().unwrap().contains("launch"),
        "{}",
        r.body
    );
    let big = json!({"command": {"type": "note", "text": "x".repeat(100_000)}}).to_string();
    let r = send(big.as_bytes(), "application/json");
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("larger than"));
    let r = send(b"command=note", "application/x-www-form-urlencoded");
    assert_eq!(r.status, 415);
    // Unknown ids, and ids of another production: refused by STATE and not logged.
    for command in [
        json!({"type": "take_out", "item": {"firearm": "NOPE-9"}}),
        json!({"type": "issue", "firearm": "OTHER-PROD-REV", "performer": "alec", "scene": "CHURCH"}),
        json!({"type": "open_production", "production": "another", "title": "Another", "admin_name": "X"}),
    ] {
        let r = server.act(&hannah, command.clone());
        assert!(r.status == 422 || r.status == 403, "{command}: {}", r.body);
        let body = r.json();
        assert!(body["why"].as_str().is_some(), "{}", r.body);
        if r.status == 422 {
            assert_eq!(body["rule"], "STATE");
            assert!(body["logged_as"].is_null());
        }
    }
    assert_eq!(server.get("/api/firearms/NOPE-9", &hannah).status, 404);
    assert_eq!(server.get("/api/log/entries/999999", &hannah).status, 404);
    assert_eq!(server.get("/api/log/entries/abc", &hannah).status, 400);
    // Only the ROLE refusal of open_production (if any) may have been logged.
    let after = server.next_index(&hannah);
    assert!(
        after - before <= 1,
        "bad requests recorded {} entries",
        after - before
    );
}

#[test]
fn the_same_idempotency_key_twice_records_one_act() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let before = server.next_index(&hannah);
    let body = json!({"command": {"type": "take_out", "item": {"firearm": "REV-1"}}});
    let first = server.post_json(
        "/api/commands",
        &hannah,
        &body,
        &[("Idempotency-Key", "wifi-retry-1")],
    );
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["outcome"], "done");
    let second = server.post_json(
        "/api/commands",
        &hannah,
        &body,
        &[("Idempotency-Key", "wifi-retry-1")],
    );
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.json()["outcome"], "repeated");
    assert_eq!(second.json()["first_index"], first.json()["first_index"]);
    assert_eq!(server.next_index(&hannah), before + 1);
    // The same key with another act is refused, naming the key, and records nothing (it used
    // to answer "repeated" and drop the new act).
    let other = server.post_json(
        "/api/commands",
        &hannah,
        &json!({"command": {"type": "store", "item": {"firearm": "REV-1"}, "location": "SAFE"}}),
        &[("Idempotency-Key", "wifi-retry-1")],
    );
    assert_eq!(other.status, 422, "{}", other.body);
    assert_eq!(other.json()["field"], "Idempotency-Key");
    assert!(
        other.json()["error"]
            .as_str()
            .unwrap()
            .contains("first used for another act"),
        "{}",
        other.body
    );
    assert_eq!(server.next_index(&hannah), before + 1);
    // The key table names nobody: keys are kept hashed (an anonymous report's key is scoped to
    // its reporter).
    let db = rusqlite::Connection::open(server.data.join("armory.db")).unwrap();
    let keys: Vec<String> = db
        .prepare("SELECT key FROM idempotency")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!keys.is_empty());
    for key in &keys {
        assert!(
            !key.contains("hannah") && !key.contains("wifi-retry") && key.len() == 64,
            "{key}"
        );
    }
    // An API token acts as its person, and the entry records the method.
    let token = server
        .post_json("/api/tokens", &hannah, &json!({"name": "script"}), &[])
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = format!("Bearer {token}");
    let r = server.req(
        "POST",
        "/api/commands",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        json!({"command": {"type": "store", "item": {"firearm": "REV-1"}, "location": "SAFE"}})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let index = r.json()["first_index"].as_u64().unwrap();
    let entry = server
        .get(&format!("/api/log/entries/{index}"), &hannah)
        .json();
    assert_eq!(entry["actors"][0]["method"], "api_token");
    assert_eq!(entry["actors"][0]["person"], "hannah");
}

#[test]
fn a_person_changes_their_own_password_and_pin_with_the_current_password() {
    let server = Server::start(&[]);
    let alec = server.sign_in("alec");
    let alec_phone = server.sign_in("alec");
    let page = server.get("/admin", &alec);
    assert!(
        page.body.contains("action=/account/secret"),
        "{}",
        page.body
    );
    let change = |who: &Who, fields: &str| {
        form(
            &server,
            "/account/secret",
            who,
            &format!("csrf={}&{fields}", who.csrf),
        )
    };
    let password_signs_in = |password: &str| {
        server
            .req(
                "POST",
                "/api/session",
                &[("Content-Type", "application/json")],
                json!({"person": "alec", "password": password})
                    .to_string()
                    .as_bytes(),
            )
            .status
    };
    // The current password is needed, the new one typed twice, and something must change.
    let r = change(
        &alec,
        "current=not-my-pass&new_password=a-new-long-pass&repeat=a-new-long-pass",
    );
    assert_eq!(r.status, 401, "{}", r.body);
    let r = change(
        &alec,
        "current=demo-alec-pass&new_password=a-new-long-pass&repeat=a-new-long-pasz",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("the two new passwords differ"),
        "{}",
        r.body
    );
    let r = change(&alec, "current=demo-alec-pass&new_password=&new_pin=");
    assert_eq!(r.status, 400, "{}", r.body);
    let r = change(
        &alec,
        "current=demo-alec-pass&new_password=short&repeat=short",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        password_signs_in("demo-alec-pass"),
        200,
        "nothing changed yet"
    );
    // Without the CSRF token, nothing happens.
    let r = form(
        &server,
        "/account/secret",
        &alec,
        "current=demo-alec-pass&new_pin=9911",
    );
    assert_eq!(r.status, 403, "{}", r.body);

    // The change: the new password signs in, the old one no longer; the other session ends.
    let r = change(
        &alec,
        "current=demo-alec-pass&new_password=a-new-long-pass&repeat=a-new-long-pass&new_pin=9911",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("Your password and PIN changed"),
        "{}",
        r.body
    );
    assert_eq!(password_signs_in("a-new-long-pass"), 200);
    assert_eq!(password_signs_in("demo-alec-pass"), 401);
    assert_eq!(server.get("/api/state", &alec).status, 200);
    assert_eq!(server.get("/api/state", &alec_phone).status, 401);

    // The new PIN confirms a show check; the old one does not.
    let hannah = server.sign_in("hannah");
    for command in [
        json!({"type": "take_out", "item": {"firearm": "REV-1"}}),
        json!({"type": "unload", "firearm": "REV-1"}),
    ] {
        assert_eq!(server.act(&hannah, command).status, 200);
    }
    let show = |alec_pin: &str| {
        server.post_json(
            "/api/commands",
            &hannah,
            &json!({"command": {"type": "show_check", "firearm": "REV-1", "scene": "CHURCH",
                "performer": {"person": "alec", "role": "performer", "method": "pin"},
                "first_ad": {"person": "dave", "role": "first_ad", "method": "pin"}},
                "pins": {"alec": alec_pin, "dave": "2222"}}),
            &[],
        )
    };
    assert_eq!(show("1111").status, 401);
    let r = show("9911");
    assert_eq!(r.status, 200, "{}", r.body);
    // Alec set that PIN himself: nothing is flagged.
    assert!(r.json().get("flags").is_none(), "{}", r.body);
    let method_of = |r: &crate::server::Resp, who: usize| {
        let index = r.json()["first_index"].as_u64().unwrap();
        server
            .get(&format!("/api/log/entries/{index}"), &hannah)
            .json()["actors"][who]["method"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(method_of(&r, 1), "pin");

    // An admin resets Alec's PIN (finding: then signs in as the armorer and records a show check
    // "confirmed by alec"). The reset is an entry, and the confirmation is marked, in the entry
    // and in the answer, until Alec sets his own PIN again.
    let adm = server.sign_in("adm");
    let before = server.next_index(&adm);
    let r = form(
        &server,
        "/admin/secret",
        &adm,
        &format!("csrf={}&person=alec&pin=5555", adm.csrf),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let reset = server
        .get(&format!("/api/log/entries/{before}"), &adm)
        .json();
    assert_eq!(reset["event"]["type"], "secret_set");
    assert_eq!(
        (
            reset["event"]["person"].as_str(),
            reset["event"]["kind"].as_str(),
            reset["event"]["by"].as_str()
        ),
        (Some("alec"), Some("pin"), Some("adm"))
    );
    let r = show("5555");
    assert_eq!(r.status, 200, "{}", r.body);
    let flags = r.json()["flags"].to_string();
    assert!(
        flags.contains("alec confirmed with a PIN that adm set"),
        "{}",
        r.body
    );
    assert_eq!(method_of(&r, 1), "pin (set by adm)");
    assert_eq!(method_of(&r, 2), "pin", "dave's own PIN is not marked");
    // Alec sets his own PIN: no longer marked.
    let r = change(&alec, "current=a-new-long-pass&new_pin=7788");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = show("7788");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json().get("flags").is_none(), "{}", r.body);
    assert_eq!(method_of(&r, 1), "pin");
}

#[test]
fn both_legs_of_custody_are_confirmed_by_the_people_they_concern() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let entry = |i: u64| server.get(&format!("/api/log/entries/{i}"), &hannah).json();
    for command in [
        json!({"type": "take_out", "item": {"firearm": "REV-1"}}),
        json!({"type": "unload", "firearm": "REV-1"}),
    ] {
        assert_eq!(server.act(&hannah, command).status, 200);
    }
    let show = json!({"type": "show_check", "firearm": "REV-1", "scene": "CHURCH",
        "performer": {"person": "alec", "role": "performer", "method": "pin"},
        "first_ad": {"person": "dave", "role": "first_ad", "method": "pin"}});
    let r = server.post_json(
        "/api/commands",
        &hannah,
        &json!({"command": show, "pins": {"alec": "1111", "dave": "2222"}}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // Issued without the performer's confirmation: offered, and the armorer still holds it.
    let offered = server.next_index(&hannah);
    let r = server.act(
        &hannah,
        json!({"type": "issue", "firearm": "REV-1", "performer": "alec", "scene": "CHURCH", "scanned": "REV-1"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(entry(offered)["event"]["type"], "handover_offered");
    let state = server.get("/api/state", &hannah).json();
    let rev = &state["firearms"]["REV-1"];
    assert_eq!(rev["custody"]["state"], "at_hand", "{rev}");
    assert_eq!(rev["handover"]["to"], "alec", "{rev}");

    // The 1st AD cannot confirm for the performer; the performer, signed in, confirms.
    let dave = server.sign_in("dave");
    let r = server.act(
        &dave,
        json!({"type": "confirm_handover", "item": {"firearm": "REV-1"}}),
    );
    assert_ne!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("CUSTODIAN-ONLY"), "{}", r.body);
    let alec = server.sign_in("alec");
    let confirmed = server.next_index(&alec);
    let r = server.act(
        &alec,
        json!({"type": "confirm_handover", "item": {"firearm": "REV-1"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let issued = entry(confirmed);
    assert_eq!(issued["event"]["type"], "firearm_issued", "{issued}");
    assert_eq!(issued["event"]["by"], "hannah");
    assert_eq!(issued["actors"][0]["person"], "alec");
    assert_eq!(issued["actors"][0]["method"], "password");

    // Taken back with the performer's PIN: a wrong one records nothing; the right one is in
    // the entry beside the armorer.
    let back = json!({"type": "return", "firearm": "REV-1", "scanned": "rev-1",
        "confirmation": {"person": "alec", "role": "performer", "method": "pin"}});
    let before = server.next_index(&hannah);
    let r = server.post_json(
        "/api/commands",
        &hannah,
        &json!({"command": back, "pins": {"alec": "0000"}}),
        &[],
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["field"], "pins.alec");
    assert_eq!(server.next_index(&hannah), before);
    let r = server.post_json(
        "/api/commands",
        &hannah,
        &json!({"command": back, "pins": {"alec": "1111"}}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let returned = entry(before);
    assert_eq!(returned["event"]["type"], "firearm_returned", "{returned}");
    let actors: Vec<(String, String)> = returned["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["person"].as_str().unwrap().to_owned(),
                a["method"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actors,
        [
            ("hannah".to_owned(), "password".to_owned()),
            ("alec".to_owned(), "pin".to_owned())
        ]
    );
}

/// A passkey registered on the Account page of one's own phone, then a show check confirmed
/// with it: the assertion is in the entry, an export of the log verifies it with the key alone,
/// and a log rewritten around it (re-signed with the node's key) no longer does.
#[test]
fn a_passkey_confirmed_show_check_verifies_from_the_export_alone() {
    use armory_ledger::webauthn::{b64, testing::Authenticator, unb64};
    let mut server = Server::start(&[]);
    let port = server.addr.rsplit(':').next().unwrap().to_owned();
    let host = format!("localhost:{port}");
    let host_header = host.clone();
    let origin = format!("http://{host}");
    let named = [("Host", host.as_str())];
    let alec = server.sign_in("alec");

    // WebAuthn binds a passkey to a name: reached by address, the node says so.
    let r = server.post_json("/api/passkeys/options", &alec, &json!({}), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("by a name"), "{}", r.body);

    let phone = Authenticator::new(9);
    let r = server.post_json("/api/passkeys/options", &alec, &json!({}), &named);
    assert_eq!(r.status, 200, "{}", r.body);
    let options = r.json();
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    let challenge = unb64(options["publicKey"]["challenge"].as_str().unwrap(), "").unwrap();
    // An answer to another challenge registers nothing.
    let (object, client) = phone.create(b"not the challenge", "localhost", &origin);
    let r = server.post_json(
        "/api/passkeys",
        &alec,
        &json!({"attestation_object": b64(&object), "client_data_json": b64(&client)}),
        &named,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let (object, client) = phone.create(&challenge, "localhost", &origin);
    let registered_at = server.next_index(&alec);
    let r = server.post_json(
        "/api/passkeys",
        &alec,
        &json!({"attestation_object": b64(&object), "client_data_json": b64(&client)}),
        &named,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let entry = |i: u64| server.get(&format!("/api/log/entries/{i}"), &alec).json();
    let registered = entry(registered_at);
    assert_eq!(
        registered["event"]["type"], "passkey_registered",
        "{registered}"
    );
    assert_eq!(registered["event"]["person"], "alec");
    assert_eq!(registered["event"]["credential"], b64(&phone.credential));

    let hannah = server.sign_in("hannah");
    for command in [
        json!({"type": "take_out", "item": {"firearm": "REV-1"}}),
        json!({"type": "unload", "firearm": "REV-1"}),
    ] {
        assert_eq!(server.act(&hannah, command).status, 200);
    }
    let mut show = json!({"type": "show_check", "firearm": "REV-1", "scene": "CHURCH",
        "performer": {"person": "alec", "role": "performer", "method": "passkey"},
        "first_ad": {"person": "dave", "role": "first_ad", "method": "pin"}});
    let prepare = |show: &Value| {
        let r = server.post_json(
            "/api/confirmations/options",
            &hannah,
            &json!({"command": show, "person": "alec"}),
            &named,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["act"].clone()
    };
    // Nobody without a passkey is asked for one.
    let r = server.post_json(
        "/api/confirmations/options",
        &hannah,
        &json!({"command": show, "person": "dave"}),
        &named,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("no passkey"), "{}", r.body);

    // A signature over another act is refused, and uses up its challenge.
    let act = prepare(&show);
    let mut other = act.clone();
    other["command"]["scene"] = json!("CHURCH-TAKE");
    show["performer"]["assertion"] =
        serde_json::to_value(phone.sign(other, "localhost", &origin)).unwrap();
    let submit = |show: &Value| {
        server.post_json(
            "/api/commands",
            &hannah,
            &json!({"command": show, "pins": {"dave": "2222"}}),
            &[],
        )
    };
    let before = server.next_index(&hannah);
    let r = submit(&show);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(server.next_index(&hannah), before);
    // A passkey alec never registered is refused, and the challenge it answered is used up.
    let stranger = Authenticator::new(10);
    show["performer"]["assertion"] =
        serde_json::to_value(stranger.sign(act.clone(), "localhost", &origin)).unwrap();
    let r = submit(&show);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("not one alec registered"), "{}", r.body);
    show["performer"]["assertion"] =
        serde_json::to_value(phone.sign(act, "localhost", &origin)).unwrap();
    let r = submit(&show);
    assert_eq!(
        r.status, 401,
        "a used challenge confirmed again: {}",
        r.body
    );
    assert_eq!(server.next_index(&hannah), before);

    let act = prepare(&show);
    show["performer"]["assertion"] =
        serde_json::to_value(phone.sign(act, "localhost", &origin)).unwrap();
    let r = submit(&show);
    assert_eq!(r.status, 200, "{}", r.body);
    let checked = entry(before);
    assert_eq!(checked["event"]["type"], "show_checked", "{checked}");
    assert_eq!(checked["actors"][1]["method"], "passkey", "{checked}");
    assert_eq!(
        checked["actors"][1]["assertion"]["act"]["command"]["firearm"],
        "REV-1"
    );
    assert_eq!(checked["actors"][2]["method"], "pin");
    // The same assertion again (a replay) confirms nothing.
    assert_eq!(submit(&show).status, 401);

    // The item page's issue form: alec takes REV-1 confirming with his passkey, no PIN typed.
    let page = server.get("/item/REV-1", &hannah);
    let csrf = crate::server_ui::csrf_of(&page);
    let form = |extra: &[(&str, &str)]| {
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("kind", "issue"),
            ("firearm", "REV-1"),
            ("performer", "alec"),
            ("scene", "CHURCH"),
            ("scanned", "REV-1"),
        ];
        fields.extend_from_slice(extra);
        fields
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::server_ui::urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let post = |path: &str, body: String, host: bool| {
        let mut h = hannah.headers();
        h.push(("Content-Type", "application/x-www-form-urlencoded"));
        if host {
            h.push(("Host", host_header.as_str()));
        }
        server.req("POST", path, &h, body.as_bytes())
    };
    let r = post("/confirm/options", form(&[("passkey_for", "alec")]), true);
    assert_eq!(r.status, 200, "{}", r.body);
    let act = r.json()["act"].clone();
    assert_eq!(act["command"]["confirmation"]["person"], "alec", "{act}");
    let signed =
        serde_json::to_string(&json!({"alec": phone.sign(act, "localhost", &origin)})).unwrap();
    let issued_at = server.next_index(&hannah);
    let r = post(
        "/act",
        form(&[("idem", "passkey-issue"), ("passkeys", &signed)]),
        false,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let issued = entry(issued_at);
    assert_eq!(issued["event"]["type"], "firearm_issued", "{issued}");
    assert_eq!(issued["actors"][1]["person"], "alec", "{issued}");
    assert_eq!(issued["actors"][1]["method"], "passkey", "{issued}");
    let back = json!({"type": "return", "firearm": "REV-1", "scanned": "REV-1"});
    assert_eq!(server.act(&hannah, back).status, 200);

    // A lost phone: only alec (or an admin) removes its passkey, by a log entry; from then on
    // it confirms nothing.
    let credential = b64(&phone.credential);
    let r = server.post_json(
        "/api/passkeys/remove",
        &hannah,
        &json!({"credential": credential, "person": "alec"}),
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let removed_at = server.next_index(&alec);
    let r = server.post_json(
        "/api/passkeys/remove",
        &alec,
        &json!({"credential": credential}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let removed = entry(removed_at);
    assert_eq!(removed["event"]["type"], "passkey_removed", "{removed}");
    assert_eq!(removed["event"]["by"], "alec");
    let r = server.post_json(
        "/api/confirmations/options",
        &hannah,
        &json!({"command": show, "person": "alec"}),
        &named,
    );
    assert_eq!(r.status, 400, "{}", r.body);

    // Offline: the export verifies, with the passkey confirmation counted.
    server.stop();
    let scratch = tempfile::tempdir().unwrap();
    let out_dir = scratch.path().join("export");
    let data = server.data.clone();
    let o = crate::common::armory(&data, &["export", out_dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    let key = data.join("log.pub");
    let verify = |dir: &std::path::Path| {
        crate::common::armory(
            std::path::Path::new("/nonexistent"),
            &[
                "verify",
                dir.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ],
        )
    };
    let o = verify(&out_dir);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    assert!(
        crate::common::stdout(&o).contains("2 passkey confirmations"),
        "{}",
        crate::common::stdout(&o)
    );
    let o = crate::common::armory(&data, &["verify"]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    assert!(
        crate::common::stdout(&o).contains("2 passkey confirmations"),
        "{}",
        crate::common::stdout(&o)
    );

    // An insider rewrites the log with the show check moved to another firearm and re-signs it
    // with the node's key: every hash and checkpoint holds, the passkey confirmation does not.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rewritten = scratch.path().join("rewritten");
    crate::common::copy_dir(&data, &rewritten);
    rt.block_on(async {
        let old = crate::common::open_reader(&data).await;
        let n = old.extent().await.unwrap().entries_end;
        let entries = old.entries(0..n).await.unwrap();
        for f in [
            "armory.db",
            "armory.db-wal",
            "armory.db-shm",
            "armory.db.checkpoint",
        ] {
            let _ = std::fs::remove_file(rewritten.join(f));
        }
        armory_store::sqlite::SqliteLog::create(
            &rewritten.join("armory.db"),
            &crate::common::signer(&rewritten),
        )
        .await
        .unwrap();
        let log = crate::common::open_writer(&rewritten).await;
        for (i, bytes) in entries {
            let mut e = armory_ledger::entry::Entry::decode(&bytes).unwrap();
            if i == before {
                e.event["firearm"] = json!("REV-2");
            }
            log.append(vec![armory_store::Draft {
                time: e.time,
                event: e.event,
                actors: e.actors,
            }])
            .await
            .unwrap();
        }
        log.close().await;
    });
    let o = crate::common::armory(&rewritten, &["verify"]);
    crate::common::assert_fails_with(&o, &format!("entry {before}: passkey confirmation"));
    let out2 = scratch.path().join("export2");
    let o = crate::common::armory(&rewritten, &["export", out2.to_str().unwrap()]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    crate::common::assert_fails_with(&verify(&out2), "firearm");
}
