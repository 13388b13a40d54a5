//! The server on a hostile network: sockets that say nothing or trickle their headers are closed
//! after the idle timeout, a cap on connections holds (the one over it closed and counted), and
//! `/healthz` keeps answering while thousands of such sockets are open.

use crate::server::{Server, Who};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Whether the server has closed `s`: a read ends (0 bytes) or is reset, without waiting long.
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            // A response (a 408 for a trickled head) before the close is fine: read on.
            Ok(_) => continue,
            Err(e) => {
                return matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                );
            }
        }
    }
}

#[test]
fn idle_and_trickling_sockets_are_closed_and_healthz_keeps_answering() {
    let server = Server::start(&["--idle-timeout", "10"]);
    let opened = Instant::now();
    let mut sockets = Vec::with_capacity(2000);
    for i in 0..2000 {
        let mut s = TcpStream::connect(&server.addr).unwrap();
        if i % 40 == 0 {
            // Half a request head, never finished (slowloris).
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
        }
        sockets.push(s);
    }
    // While all 2,000 are open, health answers at once.
    let mut times: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            let r = server.get("/healthz", &Who::nobody());
            assert_eq!(r.status, 200, "{}", r.body);
            t.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "with 2,000 idle sockets open: /healthz median {:?}, max {:?} (opened in {:?})",
        median,
        times[times.len() - 1],
        opened.elapsed()
    );
    assert!(median < Duration::from_millis(100), "{times:?}");
    // Past the idle timeout every one of them has been closed by the server.
    std::thread::sleep(Duration::from_millis(11_500).saturating_sub(opened.elapsed()));
    let still_open = sockets
        .iter_mut()
        .map(closed_by_server)
        .filter(|closed| !closed)
        .count();
    assert_eq!(
        still_open, 0,
        "sockets the server kept open past the idle timeout"
    );
}

#[test]
fn a_kept_alive_connection_is_served_while_it_asks_and_closed_when_it_stops() {
    let server = Server::start(&["--idle-timeout", "2"]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    for _ in 0..3 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.ends_with(b"\r\n\r\nok\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(
                n > 0,
                "closed while asking: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
        }
        assert!(
            got.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&got)
        );
        // Within the idle timeout: the next request on the same connection is served.
        std::thread::sleep(Duration::from_millis(1200));
    }
    std::thread::sleep(Duration::from_secs(3));
    assert!(closed_by_server(&mut s));
}

#[test]
fn the_connection_over_the_cap_is_closed_and_counted() {
    let server = Server::start(&["--max-connections", "8", "--idle-timeout", "30"]);
    let held: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    // Give the server time to take all eight.
    std::thread::sleep(Duration::from_millis(300));
    let mut over = TcpStream::connect(&server.addr).unwrap();
    assert!(closed_by_server(&mut over), "the ninth connection was kept");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    // With the eight gone, the node answers again, and says how many it turned away.
    let hannah = server.sign_in("hannah");
    let deadline = Instant::now() + Duration::from_secs(5);
    let metrics = loop {
        let r = server.get("/metrics", &hannah);
        if r.status == 200 || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(
        metrics
            .body
            .lines()
            .any(|l| l.starts_with("armory_connections_refused_total ") && !l.ends_with(" 0")),
        "{}",
        metrics.body
    );
}

#[test]
fn a_body_trickled_in_is_answered_408_and_nothing_is_recorded() {
    let server = Server::start(&["--request-timeout", "2"]);
    let hannah = server.sign_in("hannah");
    let before = server.next_index(&hannah);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    let mut head = String::from(
        "POST /api/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n",
    );
    for (k, v) in hannah.headers() {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("X-CSRF-Token: {}\r\n", hannah.csrf));
    head.push_str("\r\n{\"command\": {\"type\": \"note\", ");
    s.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.next_index(&hannah), before);
}

#[test]
fn malformed_requests_get_a_clear_4xx_and_pages_are_not_cached() {
    let server = Server::start(&[]);
    let hannah = server.sign_in("hannah");
    // Entry indexes past what a log can hold are not found, not a server error.
    for i in ["9223372036854775808", "18446744073709551615"] {
        for path in ["/api/log/entries", "/api/log/receipts"] {
            let r = server.get(&format!("{path}/{i}"), &hannah);
            assert_eq!(r.status, 404, "{path}/{i}: {}", r.body);
        }
    }
    // JSON means application/json, with parameters or not, and no other type.
    let note = serde_json::json!({"command": {"type": "note", "text": "typed"}});
    for (ty, status) in [
        ("application/jsonxyz", 415),
        ("application/json-patch+json", 415),
        ("text/plain", 415),
        ("application/json; charset=utf-8", 200),
    ] {
        let mut h = hannah.headers();
        h.push(("Content-Type", ty));
        h.push(("X-CSRF-Token", &hannah.csrf));
        let r = server.req("POST", "/api/commands", &h, note.to_string().as_bytes());
        assert_eq!(r.status, status, "{ty}: {}", r.body);
    }
    // A form is read strictly: a field given twice, or bytes that are not UTF-8, are refused,
    // never recorded as the last value or as U+FFFD.
    let before = server.next_index(&hannah);
    let page = server.get("/log", &hannah);
    let csrf = crate::server_ui::csrf_of(&page);
    let mut h = hannah.headers();
    h.push(("Content-Type", "application/x-www-form-urlencoded"));
    for (body, says) in [
        (
            format!("csrf={csrf}&idem=x1&kind=note&text=first&text=second"),
            "given twice",
        ),
        (
            format!("csrf={csrf}&idem=x2&kind=note&text=caf%E9"),
            "not valid UTF-8",
        ),
        (
            format!("csrf={csrf}&idem=x3&kind=note&text=%ZZ"),
            "%-escape",
        ),
    ] {
        let r = server.req("POST", "/act", &h, body.as_bytes());
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.body.contains(says), "{body}: {}", r.body);
    }
    assert_eq!(server.next_index(&hannah), before, "nothing recorded");
    // Pages and answers about who holds what are never cached; the stylesheet may be.
    for path in ["/", "/api/state", "/log"] {
        let r = server.get(path, &hannah);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    }
    let css = server.get("/assets/style.css", &hannah);
    assert_ne!(css.header("cache-control"), Some("no-store"));
    // The strict CSP holds: no inline style or script-URL is left for it to block.
    let refused = crate::server_ui::submit(
        &server,
        &hannah,
        "/log",
        "/act",
        &[("kind", "note"), ("text", "")],
    );
    for body in [&refused.body, &server.get("/", &hannah).body] {
        assert!(
            !body.contains("style=") && !body.contains("javascript:"),
            "{body}"
        );
    }
}

#[test]
fn nobody_tries_or_locks_pins_through_acts_their_role_may_not_do() {
    let server = Server::start(&[]);
    let show = serde_json::json!({"type": "show_check", "firearm": "REV-1", "scene": "CHURCH",
        "performer": {"person": "alec", "role": "performer", "method": "pin"},
        "first_ad": {"person": "dave", "role": "first_ad", "method": "pin"}});
    // The auditor (who changes nothing) and a performer send a show check with wrong PINs for
    // the 1st AD, again and again: refused for their role each time, no PIN is looked at.
    for who in ["ivy", "alec"] {
        let w = server.sign_in(who);
        for _ in 0..8 {
            let r = server.post_json(
                "/api/commands",
                &w,
                &serde_json::json!({"command": show, "pins": {"alec": "0000", "dave": "0000"}}),
                &[],
            );
            // Refused for who they are (by ROLE, or by SHOW-CHECK's "the auditor may not
            // show a firearm's state"), never 401 or 429 for a PIN.
            assert!(r.status == 403 || r.status == 409, "{who}: {}", r.body);
            assert!(
                r.json()["why"].as_str().unwrap().contains("may not"),
                "{who}: {}",
                r.body
            );
        }
        // The near miss names the actor alone: nobody confirmed anything.
        let index = server.next_index(&w) - 1;
        let e = server.get(&format!("/api/log/entries/{index}"), &w).json();
        assert_eq!(e["event"]["type"], "refused", "{e}");
        assert_eq!(e["actors"].as_array().unwrap().len(), 1, "{e}");
    }
    // The 1st AD's PIN is not locked: the armorer's show check with it goes through the PINs.
    let hannah = server.sign_in("hannah");
    let r = server.post_json(
        "/api/commands",
        &hannah,
        &serde_json::json!({"command": show, "pins": {"alec": "1111", "dave": "2222"}}),
        &[],
    );
    assert!(r.status != 401 && r.status != 429, "{}", r.body);
}

#[test]
fn api_tokens_are_listed_and_revoked_and_a_removed_person_is_let_in_by_nothing() {
    let server = Server::start(&[]);
    let sarah = server.sign_in("sarah");
    let new_token = |name: &str| {
        let r = server.post_json(
            "/api/tokens",
            &sarah,
            &serde_json::json!({"name": name, "days": 7}),
            &[],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["token"].as_str().unwrap().to_owned()
    };
    let bearer = |token: &str| {
        let auth = format!("Bearer {token}");
        server.req(
            "GET",
            "/api/state",
            &[("Authorization", auth.as_str())],
            b"",
        )
    };
    let r = server.post_json(
        "/api/tokens",
        &sarah,
        &serde_json::json!({"name": "forever", "days": 4000}),
        &[],
    );
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("days")));
    let token = new_token("scanner");
    assert_eq!(bearer(&token).status, 200);
    let listed = server.get("/api/tokens", &sarah).json();
    let entry = &listed["tokens"][0];
    assert_eq!(entry["name"], "scanner", "{listed}");
    assert!(
        !listed.to_string().contains(&token),
        "a listing never shows the secret"
    );
    let id = entry["id"].as_str().unwrap().to_owned();
    // Someone else cannot revoke it; its owner can, and the log says so.
    let alec = server.sign_in("alec");
    let r = server.post_json(
        "/api/tokens/revoke",
        &alec,
        &serde_json::json!({"token": id}),
        &[],
    );
    assert_eq!(r.status, 404, "{}", r.body);
    let r = server.post_json(
        "/api/tokens/revoke",
        &sarah,
        &serde_json::json!({"token": id}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(bearer(&token).status, 401);
    let last = server.next_index(&sarah) - 1;
    let e = server
        .get(&format!("/api/log/entries/{last}"), &sarah)
        .json();
    assert_eq!(e["event"]["type"], "token_revoked", "{e}");
    // Removed from the production: her session and her other token let her in no more.
    let token = new_token("tablet");
    let adm = server.sign_in("adm");
    let r = server.act(
        &adm,
        serde_json::json!({"type": "remove_person", "person": "sarah"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server.get("/api/state", &sarah);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.body.contains("no longer on this production"),
        "{}",
        r.body
    );
    assert_eq!(bearer(&token).status, 401);
}

/// A password sign-in over the API, with `device` (the cookie as the browser sends it back,
/// `armory_device=...`) when given.
fn password_sign_in(
    server: &Server,
    person: &str,
    password: &str,
    device: Option<&str>,
) -> crate::server::Resp {
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(c) = device {
        h.push(("Cookie", c));
    }
    let body = serde_json::json!({"person": person, "password": password}).to_string();
    server.req("POST", "/api/session", &h, body.as_bytes())
}

#[test]
fn a_stranger_locks_strangers_out_never_the_armorers_own_phone() {
    let server = Server::start(&[]);
    let sign_in = |p: &str, w: &str, d: Option<&str>| password_sign_in(&server, p, w, d);
    // Hannah's phone signs in once: it is given a device cookie.
    let first = sign_in("hannah", "demo-hannah-pass", None);
    assert_eq!(first.status, 200, "{}", first.body);
    let phone = first.cookie("armory_device").expect("a device cookie");
    // A stranger on the Wi-Fi guesses her password until she is locked for strangers, and
    // does the same with an id nobody holds: both answer alike, 401 then 429.
    for who in ["hannah", "nobody-here"] {
        let statuses: Vec<u16> = (0..7)
            .map(|_| sign_in(who, "guess-guess", None).status)
            .collect();
        assert_eq!(statuses[..4], [401; 4], "{who}: {statuses:?}");
        assert_eq!(statuses[5..], [429; 2], "{who}: {statuses:?}");
    }
    assert_eq!(sign_in("hannah", "demo-hannah-pass", None).status, 429);
    // Her own phone still signs her in.
    let r = sign_in("hannah", "demo-hannah-pass", Some(&phone));
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn a_person_hammering_refused_acts_fills_the_log_with_the_first_thirty_only() {
    let server = Server::start(&[]);
    let ivy = server.sign_in("ivy");
    let before = server.next_index(&ivy);
    let note = serde_json::json!({"type": "note", "text": "an auditor changes nothing"});
    let statuses: Vec<u16> = (0..36)
        .map(|_| server.act(&ivy, note.clone()).status)
        .collect();
    assert_eq!(statuses[..30], [403; 30], "{statuses:?}");
    assert_eq!(statuses[30..], [429; 6], "{statuses:?}");
    assert_eq!(
        server.next_index(&ivy),
        before + 30,
        "the first thirty are on record"
    );
    // Someone else is not held back by it.
    let hannah = server.sign_in("hannah");
    assert_eq!(server.act(&hannah, note).status, 200);
}

#[test]
fn a_public_log_is_read_by_anyone_when_the_node_says_so() {
    let server = Server::start(&["--public-log"]);
    let nobody = Who::nobody();
    for path in ["/metrics", "/log/armory.local/demo/checkpoint"] {
        let r = server.get(path, &nobody);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    // The API still needs a sign-in.
    assert_eq!(server.get("/api/state", &nobody).status, 401);
}

#[test]
fn one_address_spraying_guesses_is_held_back_and_a_persons_own_phone_is_not() {
    let server = Server::start(&[]);
    let sign_in = |p: &str, w: &str, d: Option<&str>| password_sign_in(&server, p, w, d);
    let phone = sign_in("sam", "demo-sam-pass", None)
        .cookie("armory_device")
        .unwrap();
    // One guess at each of many ids from one address: no account locks (one try each), but the
    // address is held back after twenty failures.
    let statuses: Vec<u16> = (0..22)
        .map(|i| sign_in(&format!("guess{i}"), "wrong-password", None).status)
        .collect();
    assert_eq!(statuses[..20], [401; 20], "{statuses:?}");
    assert_eq!(statuses[20..], [429; 2], "{statuses:?}");
    let r = sign_in("hannah", "demo-hannah-pass", None);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("network address"), "{}", r.body);
    // Sam's phone, which signed in before, still signs in from the same address.
    assert_eq!(sign_in("sam", "demo-sam-pass", Some(&phone)).status, 200);
}
