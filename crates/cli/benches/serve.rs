//! The set node over HTTP (issue 4), against the bare log append measured in the same run:
//!
//! 1. one client doing acts one after another through the JSON API with a session, each durable
//!    before its response: REV-1's show check (two PINs, argon2), issue and return, over and over;
//!    acts/s, p50 and p99, vs one writer's bare `Store::append`;
//! 2. a load test on 127.0.0.1: N clients (default 50) for S seconds (default 60), each on its own
//!    keep-alive connection, in a fixed mix (see `MIX`), plus one client doing real show check /
//!    issue / return cycles of REV-1. Throughput, p50, p99, errors (must be 0), vs 64 concurrent
//!    bare `Store::append` writers; then the same load paced at half the peak rate, for its p99;
//!    the server's peak memory (VmHWM); `armory verify --replay` on the data directory after.
//!
//! 3. (`ARMORY_BENCH_ONLY=start`, alone) the start of `armory serve` on a log of
//!    ARMORY_BENCH_ENTRIES entries (default 1,000,000) written through the node (so with its
//!    projection tables): seconds from the process's start to its first answered request, and to
//!    the end of the full check of the log it runs in the background. Then acts while that check
//!    runs: `serve --demo` started again on the same log, load clients (signed in beforehand, so
//!    they act from the first answered request) paced at half the peak rate of acts measured on
//!    the same server in the same run; the latency of acts sent while the full check runs, against
//!    the same load after every check at start is done, in the same process (3 starts).
//!
//! Run: `cargo bench -p armory --bench serve` (ARMORY_BENCH_SECONDS, ARMORY_BENCH_CLIENTS,
//! ARMORY_BENCH_DIR). The server is the real `armory serve --demo` process, release build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use armory_ledger::keys::LogSigner;
use armory_store::Store;
use armory_store::sqlite::{Durability, SqliteLog};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as TokioBuf};
use tokio::net::TcpStream;

/// What each load client does, by its request counter k (k % 20): 8 scans, 7 reads, 3 remarks,
/// 2 refused unsafe acts.
const MIX: &str = "per 20 requests of a load client: 8 scans (4 GET /scan?q=<firearm> answered 303, 4 GET /item/<firearm> pages), \
7 reads (3 GET / board, 2 GET /api/state, 2 GET /api/firearms/<id>/history), 3 remarks (POST /api/commands note, durable), \
2 unsafe acts refused and logged (the performer alec trying to take a firearm out: 403 ROLE, durable); \
plus one client doing show check (2 PINs) + issue + return of REV-1 in a loop";

const FIREARMS: [&str; 4] = ["REV-1", "REV-2", "REV-3", "RUB-1"];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// A keep-alive HTTP/1.1 connection with a session.
struct Client {
    addr: String,
    conn: Option<TokioBuf<TcpStream>>,
    cookie: String,
    csrf: String,
}

impl Client {
    async fn new(addr: &str) -> Client {
        Client {
            addr: addr.to_owned(),
            conn: None,
            cookie: String::new(),
            csrf: String::new(),
        }
    }

    /// One request; (status, body). Bounded by a 10 s timeout (an error).
    async fn req(&mut self, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
        match tokio::time::timeout(Duration::from_secs(10), self.req_inner(method, path, body))
            .await
        {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                self.conn = None;
                Err(format!("{method} {path}: {e}"))
            }
            Err(_) => {
                self.conn = None;
                Err(format!("{method} {path}: no answer in 10 s"))
            }
        }
    }

    async fn req_inner(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
    ) -> std::io::Result<(u16, String)> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr).await?;
            s.set_nodelay(true)?;
            self.conn = Some(TokioBuf::new(s));
        }
        let conn = self.conn.as_mut().unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        if !self.cookie.is_empty() {
            head.push_str(&format!(
                "Cookie: {}\r\nX-CSRF-Token: {}\r\n",
                self.cookie, self.csrf
            ));
        }
        head.push_str("\r\n");
        head.push_str(body);
        conn.get_mut().write_all(head.as_bytes()).await?;
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let mut line = String::new();
        if conn.read_line(&mut line).await? == 0 {
            return Err(bad("connection closed"));
        }
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status"))?;
        let (mut length, mut chunked, mut close) = (0usize, false, false);
        loop {
            line.clear();
            conn.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').ok_or_else(|| bad("bad header"))?;
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => length = v.parse().map_err(|_| bad("bad length"))?,
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                "set-cookie" if v.starts_with("armory_session=") => {
                    self.cookie = v.split(';').next().unwrap_or("").to_owned();
                }
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                conn.read_line(&mut line).await?;
                let n = usize::from_str_radix(line.trim(), 16).map_err(|_| bad("bad chunk"))?;
                let mut chunk = vec![0; n + 2];
                conn.read_exact(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else {
            body.resize(length, 0);
            conn.read_exact(&mut body).await?;
        }
        if close {
            self.conn = None;
        }
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    async fn sign_in(addr: &str, person: &str) -> Client {
        let mut c = Client::new(addr).await;
        let body = format!(r#"{{"person": "{person}", "password": "demo-{person}-pass"}}"#);
        let (status, text) = c.req("POST", "/api/session", &body).await.unwrap();
        assert_eq!(status, 200, "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        c.csrf = v["csrf"].as_str().unwrap().to_owned();
        c
    }

    /// POST /api/commands; the status must be `want`.
    async fn act(&mut self, command: &str, pins: Option<&str>, want: u16) -> Result<(), String> {
        let body = match pins {
            Some(p) => format!(r#"{{"command": {command}, "pins": {p}}}"#),
            None => format!(r#"{{"command": {command}}}"#),
        };
        let (status, text) = self.req("POST", "/api/commands", &body).await?;
        if status == want {
            Ok(())
        } else {
            Err(format!("{command}: {status} (wanted {want}): {text}"))
        }
    }
}

const SHOW: &str = r#"{"type": "show_check", "firearm": "REV-1", "scene": "CHURCH", "performer": {"person": "alec", "role": "performer", "method": "pin"}, "first_ad": {"person": "dave", "role": "first_ad", "method": "pin"}}"#;
const PINS: &str = r#"{"alec": "1111", "dave": "2222"}"#;
/// Issued with the scan of the firearm in hand, the performer confirming receipt by PIN.
const ISSUE: &str = r#"{"type": "issue", "firearm": "REV-1", "performer": "alec", "scene": "CHURCH", "scanned": "REV-1", "confirmation": {"person": "alec", "role": "performer", "method": "pin"}}"#;
const ISSUE_PINS: &str = r#"{"alec": "1111"}"#;
const RETURN: &str = r#"{"type": "return", "firearm": "REV-1", "scanned": "REV-1"}"#;

/// One show check / issue / return cycle; the latency of each act.
async fn cycle(c: &mut Client, lat: &mut Vec<Duration>) -> Result<(), String> {
    for (cmd, pins) in [
        (SHOW, Some(PINS)),
        (ISSUE, Some(ISSUE_PINS)),
        (RETURN, None),
    ] {
        let t = Instant::now();
        c.act(cmd, pins, 200).await?;
        lat.push(t.elapsed());
    }
    Ok(())
}

/// Request k of a load client (see `MIX`); returns whether it appended to the log.
async fn mixed(
    k: u64,
    c: u64,
    armorer: &mut Client,
    performer: &mut Client,
) -> Result<bool, String> {
    let f = FIREARMS[((k / 20 + c) % 4) as usize];
    let get = |want: u16, r: Result<(u16, String), String>| match r {
        Ok((s, _)) if s == want => Ok(false),
        Ok((s, t)) => Err(format!("{s} (wanted {want}): {}", &t[..t.len().min(200)])),
        Err(e) => Err(e),
    };
    match k % 20 {
        0..=3 => get(303, armorer.req("GET", &format!("/scan?q={f}"), "").await),
        4..=7 => get(200, armorer.req("GET", &format!("/item/{f}"), "").await),
        8..=10 => get(200, armorer.req("GET", "/", "").await),
        11..=12 => get(200, armorer.req("GET", "/api/state", "").await),
        13..=14 => get(
            200,
            armorer
                .req("GET", &format!("/api/firearms/{f}/history"), "")
                .await,
        ),
        15..=17 => {
            let note = format!(
                r#"{{"type": "note", "text": "client {c} remark {k}: {f} seen on the cart"}}"#
            );
            armorer.act(&note, None, 200).await.map(|()| true)
        }
        _ => {
            let bad = format!(r#"{{"type": "take_out", "item": {{"firearm": "{f}"}}}}"#);
            performer.act(&bad, None, 403).await.map(|()| true)
        }
    }
}

struct Phase {
    requests: u64,
    appends: u64,
    errors: u64,
    secs: f64,
    latencies: Vec<Duration>,
    cycle_acts: u64,
    first_error: Option<String>,
}

/// `clients` load clients for `secs`, each paced at `per_client_rate` requests/s if given, plus
/// the cycling client.
async fn load(addr: &str, clients: u64, secs: u64, per_client_rate: Option<f64>) -> Phase {
    // Every sign-in (argon2) before the clock starts.
    let mut sessions = Vec::new();
    for _ in 0..clients {
        sessions.push((
            Client::sign_in(addr, "hannah").await,
            Client::sign_in(addr, "alec").await,
        ));
    }
    let mut cycler = Client::sign_in(addr, "hannah").await;
    let deadline = Instant::now() + Duration::from_secs(secs);
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let start = Instant::now();
    for (c, (mut armorer, mut performer)) in (0..clients).zip(sessions) {
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut appends, mut first) = (Vec::new(), 0u64, None);
            let mut tick = per_client_rate.map(|r| {
                let mut i = tokio::time::interval(Duration::from_secs_f64(1.0 / r));
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                i
            });
            // Bounded in time and in count.
            for k in 0..10_000_000u64 {
                if Instant::now() >= deadline {
                    break;
                }
                if let Some(t) = tick.as_mut() {
                    t.tick().await;
                }
                let t = Instant::now();
                match mixed(k + c, c, &mut armorer, &mut performer).await {
                    Ok(appended) => appends += u64::from(appended),
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first.get_or_insert(e);
                    }
                }
                lat.push(t.elapsed());
            }
            (lat, appends, first, 0u64)
        }));
    }
    // The armorer's own client: real show check / issue / return cycles of REV-1.
    let errors2 = errors.clone();
    tasks.push(tokio::spawn(async move {
        let (mut lat, mut first) = (Vec::new(), None);
        for _ in 0..1_000_000u64 {
            if Instant::now() >= deadline {
                break;
            }
            if let Err(e) = cycle(&mut cycler, &mut lat).await {
                errors2.fetch_add(1, Ordering::Relaxed);
                first.get_or_insert(e);
                break;
            }
        }
        let n = lat.len() as u64;
        (lat, n, first, n)
    }));
    let mut phase = Phase {
        requests: 0,
        appends: 0,
        errors: 0,
        secs: 0.0,
        latencies: Vec::new(),
        cycle_acts: 0,
        first_error: None,
    };
    for t in tasks {
        let (lat, appends, first, cycle_acts) = t.await.unwrap();
        phase.requests += lat.len() as u64;
        phase.appends += appends;
        phase.cycle_acts += cycle_acts;
        phase.latencies.extend(lat);
        if phase.first_error.is_none() {
            phase.first_error = first;
        }
    }
    phase.secs = start.elapsed().as_secs_f64();
    phase.errors = errors.load(Ordering::Relaxed);
    phase.latencies.sort();
    phase
}

fn draft(i: u64) -> armory_store::Draft {
    armory_store::Draft {
        time: "2026-11-23T08:00:00.000Z".into(),
        event: serde_json::json!({"type": "note", "text": format!("client remark {i}: REV-1 seen on the cart")}),
        actors: vec![armory_ledger::Actor {
            person: "hannah".into(),
            role: "armorer".into(),
            method: "password".into(),
            assertion: None,
        }],
    }
}

/// Bare durable `Store::append`, `writers` concurrent writers of `each` entries: appends/s.
async fn bare_append(dir: &Path, name: &str, writers: u64, each: u64) -> f64 {
    let path = dir.join(format!("{name}.db"));
    let signer = LogSigner::generate("bench.example/serve").unwrap();
    SqliteLog::create(&path, &signer).await.unwrap();
    let log = SqliteLog::open_writer(&path, signer, Durability::Full)
        .await
        .unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..each {
                log.append(vec![draft(w * each + k)]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = (writers * each) as f64 / start.elapsed().as_secs_f64();
    log.close().await;
    rate
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The address a starting `armory serve` prints; the rest of its output is read and dropped.
fn address(server: &mut std::process::Child) -> String {
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_once(" on http://")
                .map(|(_, a)| a.trim_end_matches('/').to_owned())
        })
        .expect("the server printed its address");
    std::thread::spawn(move || for _ in lines {});
    addr
}

/// `armory serve` on the data directory `data`, its output piped, logging at `info`.
fn spawn_serve(data: &Path, demo: bool) -> std::process::Child {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_armory"));
    serve.arg("--data").arg(data).arg("serve");
    if demo {
        serve.arg("--demo");
    }
    serve
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("ARMORY_DATA")
        .env_remove("ARMORY_LISTEN")
        .env_remove("ARMORY_TLS")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// When each check a starting server runs in the background is done: the full check of the
/// log, and the projection tables' replay; read from its log output.
struct StartChecks {
    rx: std::sync::mpsc::Receiver<(Instant, String)>,
}

impl StartChecks {
    const VERIFIED: &str = "the log checks out";
    const REPLAYED: &str = "the projection tables match";
    const FAILED: &str = "failed its check";

    fn watch(server: &mut std::process::Child) -> StartChecks {
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = BufReader::new(server.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if [Self::VERIFIED, Self::REPLAYED, Self::FAILED]
                    .iter()
                    .any(|s| line.contains(s))
                {
                    let _ = tx.send((Instant::now(), line));
                }
            }
        });
        StartChecks { rx }
    }

    /// When the full check was done, and when both were.
    fn wait(&self) -> (Instant, Instant) {
        let (mut verified, mut replayed) = (None, None);
        while verified.is_none() || replayed.is_none() {
            let (at, line) = self.rx.recv_timeout(Duration::from_secs(600)).unwrap();
            assert!(!line.contains(Self::FAILED), "{line}");
            if line.contains(Self::VERIFIED) {
                verified = Some(at);
            } else {
                replayed = Some(at);
            }
        }
        let (verified, replayed) = (verified.unwrap(), replayed.unwrap());
        (verified, verified.max(replayed))
    }
}

/// Stops a server with SIGTERM and waits for it.
fn stop(mut server: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "the server did not stop cleanly: {status:?}"
    );
}

/// How long `armory serve` takes to answer on a large log, and to finish checking it; then acts
/// while it checks.
fn start(dir: &Path, rt: &tokio::runtime::Runtime) {
    let n = env_u64("ARMORY_BENCH_ENTRIES", 1_000_000);
    let data = dir.join("big");
    let init = Command::new(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(&data)
        .args(["init", "--origin", "bench.example/big"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let built = Instant::now();
    rt.block_on(async {
        let key = std::fs::read_to_string(data.join("node.key")).unwrap();
        let signer = LogSigner::from_text(&key).unwrap();
        let log = SqliteLog::open_writer(&data.join("armory.db"), signer, Durability::Normal)
            .await
            .unwrap();
        let node = armory_store::node::Node::open(log.clone(), armory_core::Policy::default())
            .await
            .unwrap();
        let author = vec![armory_ledger::Actor {
            person: "operator".into(),
            role: "operator".into(),
            method: "local".into(),
            assertion: None,
        }];
        let at = armory_core::time::Timestamp::parse_rfc3339("2026-11-23T08:00:00Z").unwrap();
        let mut done = 0;
        while done < n {
            let k = 1000.min(n - done);
            let events: Vec<armory_core::Event> = (done..done + k)
                .map(|i| armory_core::Event::Note {
                    text: format!("remark {i}: REV-1 seen on the cart"),
                })
                .collect();
            node.record(author.clone(), &events, at).await.unwrap();
            done += k;
        }
        drop(node);
        log.close().await;
    });
    println!(
        "built a {n}-entry log through the node in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    let (mut first, mut checked) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let started = Instant::now();
        let mut server = spawn_serve(&data, false);
        let checks = StartChecks::watch(&mut server);
        let addr = address(&mut server);
        let answered = rt.block_on(async {
            loop {
                let mut c = Client::new(&addr).await;
                if let Ok((status, _)) = c.req("GET", "/healthz", "").await {
                    break (Instant::now(), status);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        first.push((answered.0 - started).as_secs_f64());
        let (at, _) = checks.wait();
        checked.push((at - started).as_secs_f64());
        stop(server);
    }
    println!(
        "serve on a {n}-entry log: first request answered {:.2} s after the process started (median of 3; target < 1 s); the whole log checked in the background {:.2} s after start",
        median(first),
        median(checked)
    );
    acts_while_checking(&data, rt, n);
}

/// The acts of load clients: per 5 of a client's requests, 3 remarks (the armorer's `note`,
/// durable) and 2 unsafe acts refused and logged (the performer trying `take_out`: 403 ROLE,
/// durable).
async fn act_k(k: u64, c: u64, armorer: &mut Client, performer: &mut Client) -> Result<(), String> {
    let f = FIREARMS[((k / 5 + c) % 4) as usize];
    if k % 5 < 3 {
        let note =
            format!(r#"{{"type": "note", "text": "client {c} remark {k}: {f} seen on the cart"}}"#);
        armorer.act(&note, None, 200).await
    } else {
        let bad = format!(r#"{{"type": "take_out", "item": {{"firearm": "{f}"}}}}"#);
        performer.act(&bad, None, 403).await
    }
}

/// A session's cookie and CSRF token, to act with on a server started later on the same data.
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    async fn sign_in(addr: &str, person: &str) -> Session {
        let c = Client::sign_in(addr, person).await;
        Session {
            cookie: c.cookie,
            csrf: c.csrf,
        }
    }

    async fn client(&self, addr: &str) -> Client {
        let mut c = Client::new(addr).await;
        c.cookie = self.cookie.clone();
        c.csrf = self.csrf.clone();
        c
    }
}

/// Acts from every client, each paced at `per_client_rate` if given, from now until `until()`
/// says stop (checked between requests; at most `limit` from now): each act's start and latency,
/// and the errors.
async fn drive(
    addr: &str,
    sessions: &[(Session, Session)],
    per_client_rate: Option<f64>,
    limit: Duration,
    until: Arc<dyn Fn() -> bool + Send + Sync>,
) -> (Vec<(Instant, Duration)>, u64, Option<String>) {
    let deadline = Instant::now() + limit;
    let mut tasks = Vec::new();
    for (c, (armorer, performer)) in sessions.iter().enumerate() {
        let (mut armorer, mut performer) =
            (armorer.client(addr).await, performer.client(addr).await);
        let until = until.clone();
        tasks.push(tokio::spawn(async move {
            let (mut acts, mut errors, mut first) = (Vec::new(), 0u64, None);
            let mut tick = per_client_rate.map(|r| {
                let mut i = tokio::time::interval(Duration::from_secs_f64(1.0 / r));
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                i
            });
            // Bounded in time and in count.
            for k in 0..10_000_000u64 {
                if Instant::now() >= deadline || until() {
                    break;
                }
                if let Some(t) = tick.as_mut() {
                    t.tick().await;
                }
                let t = Instant::now();
                if let Err(e) = act_k(k + c as u64, c as u64, &mut armorer, &mut performer).await {
                    errors += 1;
                    first.get_or_insert(e);
                }
                acts.push((t, t.elapsed()));
            }
            (acts, errors, first)
        }));
    }
    let (mut all, mut errors, mut first) = (Vec::new(), 0, None);
    for t in tasks {
        let (acts, e, f) = t.await.unwrap();
        all.extend(acts);
        errors += e;
        if first.is_none() {
            first = f;
        }
    }
    (all, errors, first)
}

/// p50 and p99 (ms) of the latencies of `acts` whose start `keep` accepts, and their count.
fn latencies(acts: &[(Instant, Duration)], keep: impl Fn(Instant) -> bool) -> (f64, f64, usize) {
    let mut v: Vec<Duration> = acts
        .iter()
        .filter(|(t, _)| keep(*t))
        .map(|(_, d)| *d)
        .collect();
    v.sort();
    (percentile(&v, 0.5), percentile(&v, 0.99), v.len())
}

/// Acts at half the peak rate while a starting server checks its whole log, against the same
/// load once every check at start is done (see the module's doc, 3).
fn acts_while_checking(data: &Path, rt: &tokio::runtime::Runtime, n: u64) {
    let clients = env_u64("ARMORY_BENCH_CLIENTS", 50);
    let peak_secs = env_u64("ARMORY_BENCH_PEAK_SECONDS", 10);
    // A first start seeds the demo production and its sign-ins; the sessions it gives outlive
    // the process (they are kept in auth.db). The peak is measured once its checks are done.
    let mut server = spawn_serve(data, true);
    let checks = StartChecks::watch(&mut server);
    let addr = address(&mut server);
    let (sessions, peak) = rt.block_on(async {
        let mut sessions = Vec::new();
        for _ in 0..clients {
            sessions.push((
                Session::sign_in(&addr, "hannah").await,
                Session::sign_in(&addr, "alec").await,
            ));
        }
        checks.wait();
        let start = Instant::now();
        let (acts, errors, first) = drive(
            &addr,
            &sessions,
            None,
            Duration::from_secs(peak_secs),
            Arc::new(|| false),
        )
        .await;
        let rate = acts.len() as f64 / start.elapsed().as_secs_f64();
        let (p50, p99, _) = latencies(&acts, |_| true);
        println!(
            "acts (3 remarks, 2 refused unsafe acts in 5), {clients} clients, {peak_secs} s on the {n}-entry log, checks done: peak {rate:.0} acts/s, p50 {p50:.1} ms, p99 {p99:.1} ms, errors {errors}{}",
            first.map(|e| format!(" (first: {e})")).unwrap_or_default()
        );
        assert_eq!(errors, 0);
        (sessions, rate)
    });
    stop(server);

    let half = peak / 2.0;
    let after_secs = 3.0;
    let (mut during, mut after) = (Vec::new(), Vec::new());
    let (mut during_p50, mut after_p50) = (Vec::new(), Vec::new());
    let mut windows = Vec::new();
    for round in 0..3 {
        let started = Instant::now();
        let mut server = spawn_serve(data, true);
        let checks = StartChecks::watch(&mut server);
        let addr = address(&mut server);
        // The clients wait for the first answer, then act until every check is done and
        // `after_secs` more.
        let done: Arc<std::sync::Mutex<Option<(Instant, Instant)>>> = Arc::default();
        let watcher = {
            let done = done.clone();
            std::thread::spawn(move || {
                let at = checks.wait();
                *done.lock().unwrap() = Some(at);
            })
        };
        let (acts, errors, first, answered) = rt.block_on(async {
            let answered = loop {
                let mut c = Client::new(&addr).await;
                if let Ok((200, _)) = c.req("GET", "/healthz", "").await {
                    break Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            let stop_at = done.clone();
            let until = Arc::new(move || {
                stop_at
                    .lock()
                    .unwrap()
                    .is_some_and(|(_, all)| all.elapsed().as_secs_f64() > after_secs)
            });
            let per_client = half / clients as f64;
            let (acts, errors, first) = drive(
                &addr,
                &sessions,
                Some(per_client),
                Duration::from_secs(120),
                until,
            )
            .await;
            (acts, errors, first, answered)
        });
        watcher.join().unwrap();
        stop(server);
        let (verified, all_done) = done.lock().unwrap().unwrap();
        let (d50, d99, dn) = latencies(&acts, |t| t < verified);
        let (a50, a99, an) = latencies(&acts, |t| t > all_done);
        println!(
            "start {round}: answered {:.2} s after the process started, full check done {:.2} s, projection replay {:.2} s; acts sent while the check ran: {dn}, p50 {d50:.1} ms, p99 {d99:.1} ms; after every check: {an}, p50 {a50:.1} ms, p99 {a99:.1} ms; errors {errors}{}",
            (answered - started).as_secs_f64(),
            (verified - started).as_secs_f64(),
            (all_done - started).as_secs_f64(),
            first.map(|e| format!(" (first: {e})")).unwrap_or_default()
        );
        assert_eq!(errors, 0);
        windows.push((verified - answered).as_secs_f64());
        during.push(d99);
        after.push(a99);
        during_p50.push(d50);
        after_p50.push(a50);
    }
    println!(
        "acts at half the peak ({half:.0} acts/s offered) on the {n}-entry log, while the full check runs at start (for {:.2} s after the first answer): p50 {:.1} ms, p99 {:.1} ms (target < 50 ms); the same load after every check: p50 {:.1} ms, p99 {:.1} ms (medians of 3 starts)",
        median(windows),
        median(during_p50),
        median(during),
        median(after_p50),
        median(after)
    );
}

fn main() {
    let dir =
        tempfile::tempdir_in(std::env::var("ARMORY_BENCH_DIR").unwrap_or_else(|_| ".".into()))
            .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::var("ARMORY_BENCH_ONLY").is_ok_and(|v| v == "start") {
        start(dir.path(), &rt);
        return;
    }
    let secs = env_u64("ARMORY_BENCH_SECONDS", 60);
    let clients = env_u64("ARMORY_BENCH_CLIENTS", 50);
    println!(
        "machine: {} cores; data in {}; load: {clients} clients for {secs} s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.path().display()
    );

    // Baselines while nothing else runs: bare durable appends, 5 rounds now and 5 more after the
    // server has stopped (the disk's fsync latency, which sets them, drifts over minutes); the
    // ratios use the median of all 10.
    let baselines = |rounds: std::ops::Range<u32>| {
        rt.block_on(async {
            let (mut one, mut many) = (Vec::new(), Vec::new());
            for r in rounds {
                one.push(bare_append(dir.path(), &format!("one{r}"), 1, 300).await);
                many.push(bare_append(dir.path(), &format!("many{r}"), 64, 40).await);
            }
            (one, many)
        })
    };
    let (mut ones, mut manys) = baselines(0..5);
    let (one, many) = (median(ones.clone()), median(manys.clone()));
    println!(
        "bare durable Store::append before the server (median of 5): 1 writer {one:.0}/s; 64 writers {many:.0}/s"
    );

    let data = dir.path().join("node");
    let mut server = Command::new(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(&data)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env_remove("ARMORY_DATA")
        .env_remove("ARMORY_LISTEN")
        .env_remove("ARMORY_TLS")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = server.id();
    let addr = address(&mut server);

    let (sequential, peak_rate, peak_appends) = rt.block_on(async {
        // 1. One client, acts one after another.
        let mut c = Client::sign_in(&addr, "hannah").await;
        c.act(r#"{"type": "take_out", "item": {"firearm": "REV-1"}}"#, None, 200)
            .await
            .unwrap();
        c.act(r#"{"type": "unload", "firearm": "REV-1"}"#, None, 200)
            .await
            .unwrap();
        let cycles = env_u64("ARMORY_BENCH_CYCLES", 100);
        let mut lat = Vec::new();
        let start = Instant::now();
        for _ in 0..cycles {
            cycle(&mut c, &mut lat).await.unwrap();
        }
        let rate = lat.len() as f64 / start.elapsed().as_secs_f64();
        let per_kind = |i: usize| {
            let mut v: Vec<Duration> = lat.iter().skip(i).step_by(3).copied().collect();
            v.sort();
            percentile(&v, 0.5)
        };
        let (show, issue, ret) = (per_kind(0), per_kind(1), per_kind(2));
        lat.sort();
        println!(
            "1 client, {cycles} cycles of show check (2 PINs) + issue + return via /api/commands: {rate:.0} acts/s, p50 {:.1} ms, p99 {:.1} ms (p50 show check {show:.1}, issue {issue:.1}, return {ret:.1} ms)",
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
        );

        // 2. The load test at full speed, then paced at half its peak.
        println!("mix: {MIX}");
        let peak = load(&addr, clients, secs, None).await;
        let peak_rate = peak.requests as f64 / peak.secs;
        let peak_appends = peak.appends as f64 / peak.secs;
        println!(
            "load, {} clients, {:.0} s: {} requests, {peak_rate:.0} requests/s ({peak_appends:.0} durable acts/s: remarks, refusals, {} cycle acts), p50 {:.1} ms, p99 {:.1} ms, errors {}{}",
            clients + 1,
            peak.secs,
            peak.requests,
            peak.cycle_acts,
            percentile(&peak.latencies, 0.5),
            percentile(&peak.latencies, 0.99),
            peak.errors,
            peak.first_error.as_deref().map(|e| format!(" (first: {e})")).unwrap_or_default()
        );
        let half = peak_rate / 2.0;
        let paced = load(&addr, clients, secs, Some(half / (clients as f64 + 1.0))).await;
        println!(
            "load paced at half the peak ({half:.0} requests/s offered): {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms (target < 50 ms), errors {}{}",
            paced.requests as f64 / paced.secs,
            percentile(&paced.latencies, 0.5),
            percentile(&paced.latencies, 0.99),
            paced.errors,
            paced.first_error.as_deref().map(|e| format!(" (first: {e})")).unwrap_or_default()
        );
        println!(
            "server peak memory (VmHWM): {:.1} MiB",
            vm_hwm_kib(pid) as f64 / 1024.0
        );
        assert_eq!(peak.errors + paced.errors, 0, "the load test had errors");
        (rate, peak_rate, peak_appends)
    });

    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "the server did not stop cleanly: {status:?}"
    );

    let (after_one, after_many) = baselines(5..10);
    println!(
        "bare durable Store::append after the server (median of 5): 1 writer {:.0}/s; 64 writers {:.0}/s",
        median(after_one.clone()),
        median(after_many.clone())
    );
    ones.extend(after_one);
    manys.extend(after_many);
    let (one, many) = (median(ones), median(manys));
    println!(
        "ratios against the median of all 10 rounds (1 writer {one:.0}/s, 64 writers {many:.0}/s):"
    );
    println!(
        "  1 client: {:.2} of a bare 1-writer append",
        sequential / one
    );
    println!(
        "  load: requests {:.2}, durable acts {:.2} of bare 64-writer appends (target >= 0.3)",
        peak_rate / many,
        peak_appends / many
    );
    let out = Command::new(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(&data)
        .args(["verify", "--replay"])
        .env_remove("ARMORY_DATA")
        .output()
        .unwrap();
    println!(
        "armory verify --replay after the load: {} ({})",
        if out.status.success() {
            "passed"
        } else {
            "FAILED"
        },
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or("")
            .trim()
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
