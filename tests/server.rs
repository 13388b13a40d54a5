//! `armory serve` over real HTTP: a real binary on 127.0.0.1:0 over a real data directory, talked
//! to with a minimal HTTP/1.1 client. Health, metrics, OpenAPI, tiles, graceful shutdown, the role
//! matrix, sessions, bad requests and idempotency.

use crate::common::{armory, stderr};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

pub struct Server {
    child: Child,
    pub addr: String,
    pub data: std::path::PathBuf,
    /// What `armory serve` printed after its address.
    pub banner: String,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut args = vec!["--demo"];
        args.extend_from_slice(extra);
        Server::start_in(dir, data, &args)
    }

    /// Serves the data directory `data` (kept alive by `dir`) with these `serve` arguments.
    pub fn start_in(dir: tempfile::TempDir, data: std::path::PathBuf, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_armory"))
            .arg("--data")
            .arg(&data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("ARMORY_DATA")
            .env_remove("ARMORY_LISTEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.split_once("on http://") {
                addr = Some(rest.1.trim_end_matches('/').to_owned());
                break;
            }
        }
        // The rest of the start-up banner (sign-ins, hints), up to "Stop with Ctrl-C.".
        let mut banner = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let last = line.starts_with("Stop with Ctrl-C.");
            banner.push_str(&line);
            banner.push('\n');
            if last {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            addr: addr.expect("the server printed its address"),
            data,
            banner,
            _dir: dir,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }

    pub fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        // A `Host` among `headers` replaces the server's address (a node reached by name).
        let host = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("host"))
            .map_or(self.addr.to_string(), |(_, v)| (*v).to_owned());
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
        {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        Resp::parse(&raw)
    }

    pub fn get(&self, path: &str, who: &Who) -> Resp {
        self.req("GET", path, &who.headers(), b"")
    }

    pub fn post_json(&self, path: &str, who: &Who, body: &Value, extra: &[(&str, &str)]) -> Resp {
        let mut h = who.headers();
        h.push(("Content-Type", "application/json"));
        h.push(("X-CSRF-Token", &who.csrf));
        h.extend_from_slice(extra);
        self.req("POST", path, &h, body.to_string().as_bytes())
    }

    /// Signs in with a password through the JSON API.
    pub fn sign_in(&self, person: &str) -> Who {
        let r = self.req(
            "POST",
            "/api/session",
            &[("Content-Type", "application/json")],
            json!({"person": person, "password": format!("demo-{person}-pass")})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        Who {
            cookie: r.cookie("armory_session").unwrap(),
            csrf: r.json()["csrf"].as_str().unwrap().to_owned(),
        }
    }

    pub fn act(&self, who: &Who, command: Value) -> Resp {
        self.post_json("/api/commands", who, &json!({ "command": command }), &[])
    }

    pub fn next_index(&self, who: &Who) -> u64 {
        self.get("/api/state", who).json()["next_index"]
            .as_u64()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Who {
    pub cookie: String,
    pub csrf: String,
}

impl Who {
    pub fn nobody() -> Who {
        Who {
            cookie: String::new(),
            csrf: String::new(),
        }
    }
    pub fn headers(&self) -> Vec<(&'static str, &str)> {
        if self.cookie.is_empty() {
            vec![]
        } else {
            vec![("Cookie", self.cookie.as_str())]
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    fn parse(raw: &[u8]) -> Resp {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut body = raw[split + 4..].to_vec();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
        {
            let mut out = Vec::new();
            let mut rest = &body[..];
            loop {
                let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
                let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                    .unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
                rest = &rest[nl + 4 + n..];
            }
            body = out;
        }
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// `name=value` of a Set-Cookie, ready for a Cookie header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next())
            .find(|kv| kv.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

#[test]
fn serve_demo_answers_health_metrics_openapi_and_tiles_and_stops_cleanly() {
    let mut server = Server::start(&[]);
    let nobody = Who::nobody();
    let r = server.get("/healthz", &nobody);
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    let r = server.get("/", &nobody);
    assert_eq!((r.status, r.header("location")), (303, Some("/signin")));
    assert_eq!(server.get("/api/state", &nobody).status, 401);
    let hannah = server.sign_in("hannah");
    let board = server.get("/", &hannah);
    assert_eq!(board.status, 200);
    for text in [
        "Demo production",
        "REV-1",
        "Open incidents",
        "Alerts",
        "id=scan",
    ] {
        assert!(board.body.contains(text), "{text} not on the board");
    }
    // Metrics, the checkpoint and the tiles say who holds which firearm: signed in, or with
    // an API token (an auditor's, for a witness or an insurer), not for anyone on the Wi-Fi.
    for path in ["/metrics", "/log/armory.local/demo/checkpoint"] {
        let r = server.get(path, &nobody);
        assert_eq!(r.status, 401, "{path}: {}", r.body);
    }
    let metrics = server.get("/metrics", &hannah);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        metrics.body.contains("armory_log_entries "),
        "{}",
        metrics.body
    );
    let openapi = server.get("/api/openapi.json", &nobody).json();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/commands"]["post"].is_object());
    // Every command type has its variant; each example is a command the core parses.
    let variants = openapi["components"]["schemas"]["Command"]["oneOf"]
        .as_array()
        .unwrap();
    assert_eq!(variants.len(), armory_server::api::COMMAND_TYPES.len());
    let mut with_examples = 0;
    for v in variants {
        let kind = v["title"].as_str().unwrap();
        assert_eq!(v["properties"]["type"]["const"], kind);
        for example in v["examples"].as_array().into_iter().flatten() {
            let parsed: armory_core::Command = serde_json::from_value(example.clone())
                .unwrap_or_else(|e| panic!("{kind} example {example}: {e}"));
            assert_eq!(parsed.kind(), kind);
            with_examples += 1;
        }
    }
    assert!(
        with_examples >= 25,
        "only {with_examples} command types have an example"
    );
    let ivy = server.sign_in("ivy");
    let token = server
        .post_json("/api/tokens", &ivy, &json!({"name": "witness"}), &[])
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {token}");
    let checkpoint = server.req(
        "GET",
        "/log/armory.local/demo/checkpoint",
        &[("Authorization", bearer.as_str())],
        b"",
    );
    assert_eq!(checkpoint.status, 200, "{}", checkpoint.body);
    assert!(
        checkpoint.body.starts_with("armory.local/demo\n"),
        "{}",
        checkpoint.body
    );
    let size: u64 = checkpoint.body.lines().nth(1).unwrap().parse().unwrap();
    let tile = server.get(
        &format!("/log/armory.local/demo/tile/entries/000.p/{size}"),
        &hannah,
    );
    assert_eq!(tile.status, 200);
    assert_eq!(
        tile.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        tile.header("cache-control"),
        Some("private, max-age=31536000, immutable")
    );
    let beyond = server.get(
        &format!("/log/armory.local/demo/tile/entries/000.p/{}", size + 1),
        &hannah,
    );
    assert_eq!(beyond.status, 404);
    let receipt = server.get("/api/log/receipts/0", &hannah);
    assert_eq!(receipt.status, 200);
    // A consistency proof as a witness takes it (C2SP tlog-witness add-checkpoint body).
    let proof = server.get("/api/log/consistency?old=1", &hannah);
    assert_eq!(proof.status, 200, "{}", proof.body);
    assert!(proof.body.starts_with("old 1\n"), "{}", proof.body);
    assert!(
        proof.body.contains("\n\narmory.local/demo\n"),
        "{}",
        proof.body
    );
    for (query, status, field) in [
        ("old=x", 400, None),
        ("old=999999999", 400, Some("old")),
        ("old=1&new=999999999", 404, Some("new")),
    ] {
        let r = server.get(&format!("/api/log/consistency?{query}"), &hannah);
        assert_eq!(r.status, status, "{query}: {}", r.body);
        if let Some(field) = field {
            assert_eq!(r.json()["field"], field, "{query}");
        }
    }
    assert_eq!(
        server
            .get("/api/log/consistency?old=1", &Who::nobody())
            .status,
        401
    );
    let status = server.stop();
    assert!(status.success(), "{status:?}");
    let out = armory(&server.data, &["verify", "--replay"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// RULES.md §4: every role reads everything; each act is allowed to the roles the rules name and
/// refused (ROLE, logged) to every other.
#[test]
fn the_role_matrix_holds_over_http() {
    let server = Server::start(&[]);
    let people = [
        "adm", "hannah", "dave", "alec", "sam", "pat", "sarah", "ivy",
    ];
    let who: Vec<(&str, Who)> = people.iter().map(|p| (*p, server.sign_in(p))).collect();
    for (p, w) in &who {
        for path in [
            "/api/state",
            "/api/alerts",
            "/api/firearms/REV-1",
            "/api/firearms/REV-1/history",
            "/api/log/checkpoint",
            "/api/log/entries/0",
            "/api/log/receipts/0",
            "/",
            "/item/REV-1",
            "/log",
            "/entry/0",
            "/incident",
            "/flows",
            "/intake",
            "/verify?lot=DUM-1",
            "/meeting",
            "/scene",
            "/discharge",
            "/wrap",
            "/day",
            "/armory",
            "/override",
            "/admin",
        ] {
            assert_eq!(server.get(path, w).status, 200, "{p} reads {path}");
        }
        // Everyone reads the People page; only an admin gets its forms, and only an admin may
        // set another person's secrets (a web-only act: sign-in secrets are not in the log).
        let forms = server
            .get("/admin", w)
            .body
            .contains("action=/admin/secret");
        assert_eq!(forms, *p == "adm", "{p} sees the admin's forms");
        let mut h = w.headers();
        h.push(("Content-Type", "application/x-www-form-urlencoded"));
        let body = format!("csrf={}&person=ivy&pin=4444", w.csrf);
        let r = server.req("POST", "/admin/secret", &h, body.as_bytes());
        if *p == "adm" {
            assert_eq!(r.status, 200, "{p} sets a PIN: {}", r.body);
        } else {
            assert_eq!(r.status, 403, "{p} sets a PIN: {}", r.body);
            assert!(
                r.body.contains("only a person acting as admin"),
                "{}",
                r.body
            );
        }
    }
    let today = server.get("/api/state", &who[0].1).json()["days"]
        .as_object()
        .unwrap()
        .keys()
        .next_back()
        .unwrap()
        .clone();
    // (command, the people whose role may do it: armorer hannah, admin adm, 1st AD dave,
    // performer alec, safety rep sam, producer pat, property master sarah, auditor ivy). As decided
    // by armory-core: custody acts are the armorer's and, holding the permit as in the demo, the
    // property master's (unless the policy forbids it); staffing is the producer's; scene plans
    // the 1st AD's and the armorer's; anyone but the auditor (who changes nothing) reports.
    let acts: Vec<(Value, &[&str])> = vec![
        (
            json!({"type": "take_out", "item": {"firearm": "REV-3"}}),
            &["hannah", "sarah"],
        ),
        (
            json!({"type": "add_location", "location": "TRUCK", "name": "Truck", "locked": true}),
            &["hannah", "sarah"],
        ),
        (
            json!({"type": "add_person", "person": "extra", "name": "Extra", "roles": ["performer"]}),
            &["adm"],
        ),
        (
            json!({"type": "assign_duty", "day": today, "person": "sarah", "duty": "property_master"}),
            &["pat"],
        ),
        (
            json!({"type": "plan_scene", "scene": "BARN", "day": today, "kind": "rehearsal", "window_minutes": 30,
                "plan": {"firearms": [{"firearm": "RUB-1", "load": "cold", "handler": "alec", "muzzle_direction": "down"}],
                         "distances": "20 ft", "shields": "shield", "remote_camera": false, "blanks_in_rehearsal_exception": null}}),
            &["dave", "hannah"],
        ),
        (
            json!({"type": "report_incident", "kind": "near_miss", "severity": "note", "covers": "all",
                "description": "a muzzle swept the crew", "anonymous": false}),
            &["adm", "hannah", "dave", "alec", "sam", "pat", "sarah"],
        ),
    ];
    for (command, allowed) in &acts {
        let kind = command["type"].as_str().unwrap();
        // The refused roles first, so the state the allowed act needs is unchanged.
        for (p, w) in who.iter().filter(|(p, _)| !allowed.contains(p)) {
            let r = server.act(w, command.clone());
            assert_eq!(r.status, 403, "{p} {kind}: {}", r.body);
            let body = r.json();
            assert_eq!(body["rule"], "ROLE", "{p} {kind}");
            assert!(
                body["why"].as_str().unwrap().len() > 5
                    && body["needed"].as_str().unwrap().len() > 5
            );
            assert!(
                body["logged_as"].is_u64(),
                "a refused act is logged as a near miss"
            );
        }
        // The first allowed person does it; the others' roles let them too, though the act may
        // now meet another rule (REV-3 is out in Hannah's custody, the location exists).
        for (i, (p, w)) in who.iter().filter(|(p, _)| allowed.contains(p)).enumerate() {
            let r = server.act(w, command.clone());
            if i == 0 {
                assert_eq!(r.status, 200, "{p} {kind}: {}", r.body);
            } else if r.status != 200 {
                assert_ne!(r.json()["rule"], "ROLE", "{p} {kind}: {}", r.body);
            }
        }
    }
}

#[test]
fn firearm_history_comes_a_page_at_a_time() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    // Take REV-2 out and put it back a few times: each act is an entry in its history.
    for _ in 0..3 {
        for command in [
            json!({"type": "take_out", "item": {"firearm": "REV-2"}}),
            json!({"type": "store", "item": {"firearm": "REV-2"}, "location": "SAFE"}),
        ] {
            let r = server.act(&hannah, command);
            assert_eq!(r.status, 200, "{}", r.body);
        }
    }
    let all = server.get("/api/firearms/REV-2/history", &hannah);
    assert_eq!(all.status, 200);
    let all = all.json();
    let all = all.as_array().unwrap();
    assert!(all.len() >= 7, "{all:?}");
    assert!(
        all.windows(2)
            .all(|w| w[0]["index"].as_u64() < w[1]["index"].as_u64())
    );
    let page = server.get("/api/firearms/REV-2/history?limit=2", &hannah);
    let older = page.header("x-older").unwrap().to_owned();
    assert_eq!(
        page.json().as_array().unwrap(),
        &all[all.len() - 2..].to_vec()
    );
    let next = server.get(
        &format!("/api/firearms/REV-2/history?limit=2&before={older}"),
        &hannah,
    );
    assert_eq!(
        next.json().as_array().unwrap(),
        &all[all.len() - 4..all.len() - 2].to_vec()
    );
    for bad in ["?limit=0", "?limit=5000", "?before=x", "?page=2"] {
        let r = server.get(&format!("/api/firearms/REV-2/history{bad}"), &hannah);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    // The item page pages the same way: the latest entries, and a link to the older ones.
    let line = |e: &Value| format!("<a href=/entry/{0}>#{0}</a>", e["index"]);
    let item = server.get("/item/REV-2?limit=2", &hannah);
    assert_eq!(item.status, 200, "{}", item.body);
    assert!(
        item.body
            .contains(&format!("History ({} entries, 2 shown)", all.len())),
        "{}",
        item.body
    );
    assert!(item.body.contains(&line(&all[all.len() - 1])));
    assert!(!item.body.contains(&line(&all[all.len() - 3])));
    let link = format!("/item/REV-2?before={older}");
    assert!(item.body.contains(&link), "{}", item.body);
    let next = server.get(&format!("{link}&limit=2"), &hannah);
    assert!(
        next.body.contains(&line(&all[all.len() - 3])),
        "{}",
        next.body
    );
    assert!(!next.body.contains(&line(&all[all.len() - 1])));
    let whole = server.get("/item/REV-2", &hannah);
    assert!(
        whole
            .body
            .contains(&format!("History ({} entries)", all.len())),
        "{}",
        whole.body
    );
    let bad = server.get("/item/REV-2?before=x", &hannah);
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[test]
fn the_state_is_compact_unless_asked_for_in_full() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    for k in 0..3 {
        let r = server.act(
            &hannah,
            json!({"type": "note", "text": format!("remark {k}")}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let compact = server.get("/api/state", &hannah).json();
    assert_eq!(compact["notes_count"], 3);
    assert!(compact.get("notes").is_none());
    let rev1 = &compact["firearms"]["REV-1"];
    assert!(
        rev1["history_len"].as_u64().unwrap() >= rev1["history"].as_array().unwrap().len() as u64
    );
    let full = server.get("/api/state?full=true", &hannah).json();
    assert_eq!(full["notes"].as_array().unwrap().len(), 3);
    assert!(full["firearms"]["REV-1"].get("history_len").is_none());
    assert_eq!(server.get("/api/state?everything=1", &hannah).status, 400);

    // The compact state is the full one with the growing lists cut, and nothing else changed:
    // give REV-2 a history longer than the 20 latest entries the compact state keeps.
    for _ in 0..11 {
        for command in [
            json!({"type": "take_out", "item": {"firearm": "REV-2"}}),
            json!({"type": "store", "item": {"firearm": "REV-2"}, "location": "SAFE"}),
        ] {
            assert_eq!(server.act(&hannah, command).status, 200);
        }
    }
    let compact = server.get("/api/state", &hannah).json();
    let mut expected = server.get("/api/state?full=true", &hannah).json();
    let root = expected.as_object_mut().unwrap();
    for list in ["notes", "refusals"] {
        let n = root.remove(list).unwrap().as_array().unwrap().len();
        root.insert(format!("{list}_count"), json!(n));
    }
    for collection in ["firearms", "lots", "containers", "scenes"] {
        for item in root[collection].as_object_mut().unwrap().values_mut() {
            let history = item["history"].as_array().unwrap().clone();
            item["history"] = json!(history[history.len().saturating_sub(20)..]);
            item["history_len"] = json!(history.len());
        }
    }
    assert!(
        compact["firearms"]["REV-2"]["history_len"]
            .as_u64()
            .unwrap()
            > 22
    );
    assert_eq!(
        compact["firearms"]["REV-2"]["history"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    assert_eq!(compact, expected);
}

/// A log that fails its full check at start: the node serves reads, refuses writes, and says so
/// on /healthz and on every page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_that_fails_its_check_at_start_is_shown_and_not_written() {
    let (dir, data) = crate::common::make_log(20, 1).await;
    let conn = crate::common::raw(&data).await;
    conn.execute(
        "UPDATE checkpoints SET note = CAST(X'00' || note AS BLOB) WHERE size = 5",
        [],
    )
    .unwrap();
    drop(conn);
    let server = Server::start_in(dir, data, &[]);
    let nobody = Who::nobody();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let health = loop {
        let r = server.get("/healthz", &nobody);
        if r.status != 200 || std::time::Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(health.status, 503, "{}", health.body);
    assert!(
        health
            .body
            .contains("the log failed its check at start (checkpoint for size 5"),
        "{}",
        health.body
    );
    let page = server.get("/signin", &nobody);
    assert!(
        page.body.contains(
            "class=storage-fault role=alert><b>Not recording.</b> the log failed its check"
        ),
        "{}",
        page.body
    );
}

/// A loosening of the policy over the API: the three approvers confirm with their PINs.
#[test]
fn the_policy_is_loosened_over_the_api_only_with_the_approvers_pins() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    let state = server.get("/api/state", &hannah).json();
    let mut policy = state["policy"]["policy"].clone();
    assert_eq!(policy["scene_window_minutes"], 60, "{state}");
    policy["scene_window_minutes"] = 90.into();
    let approvals = json!([
        {"person": "pat", "role": "producer", "method": "pin"},
        {"person": "sam", "role": "safety_rep", "method": "pin"},
        {"person": "hannah", "role": "armorer", "method": "pin"}
    ]);
    let command = json!({"type": "set_policy", "policy": policy, "approvals": approvals});
    let r = server.post_json(
        "/api/commands",
        &hannah,
        &json!({"command": command, "pins": {"pat": "6666", "hannah": "4444"}}),
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["field"], "pins.sam");
    let r = server.post_json(
        "/api/commands",
        &hannah,
        &json!({"command": command, "pins": {"pat": "6666", "sam": "0000", "hannah": "4444"}}),
        &[],
    );
    assert_eq!(r.status, 401, "{}", r.body);
    let r = server.post_json(
        "/api/commands",
        &hannah,
        &json!({"command": command, "pins": {"pat": "6666", "sam": "3333", "hannah": "4444"}}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let entry = server
        .get(
            &format!("/api/log/entries/{}", r.json()["first_index"]),
            &hannah,
        )
        .json();
    assert_eq!(entry["event"]["type"], "policy_set");
    assert_eq!(
        entry["event"]["loosened"][0],
        "scene_window_minutes: 60 -> 90"
    );
    let approvers: Vec<&str> = entry["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["person"].as_str().unwrap())
        .collect();
    assert_eq!(approvers, ["hannah", "pat", "sam", "hannah"]);
    assert_eq!(
        server.get("/api/state", &hannah).json()["policy"]["policy"]["scene_window_minutes"],
        90
    );
}

/// A node that records nothing raises it as the first, critical alert, on the board and in
/// `/api/alerts`, above the alerts of the rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_records_nothing_says_so_as_its_first_critical_alert() {
    let keep = tempfile::tempdir().unwrap();
    let data = keep.path().join("data");
    let mut server = Server::start_in(tempfile::tempdir().unwrap(), data.clone(), &["--demo"]);
    let hannah = server.sign_in("hannah");
    let alerts = server.get("/api/alerts", &hannah).json();
    assert!(!alerts.to_string().contains("not_recording"), "{alerts}");
    server.stop();
    let conn = crate::common::raw(&data).await;
    conn.execute(
        "UPDATE checkpoints SET note = CAST(X'00' || note AS BLOB) WHERE size = 5",
        [],
    )
    .unwrap();
    drop(conn);
    let server = Server::start_in(tempfile::tempdir().unwrap(), data.clone(), &["--demo"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while server.get("/healthz", &Who::nobody()).status == 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the check never failed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let hannah = server.sign_in("hannah");
    let alerts = server.get("/api/alerts", &hannah).json();
    let first = &alerts[0];
    assert_eq!(first["critical"], true, "{alerts}");
    assert_eq!(first["kind"]["kind"], "not_recording", "{alerts}");
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("ACTS ARE NOT BEING RECORDED: the log failed its check at start"),
        "{alerts}"
    );
    let board = server.get("/", &hannah);
    assert!(
        board
            .body
            .contains("<li class=critical><b>CRITICAL · STATE</b> ACTS ARE NOT BEING RECORDED"),
        "{}",
        board.body
    );
}
