//! `/healthz` and `/metrics` (Prometheus text exposition format 0.0.4, written by hand), and the
//! middleware that counts responses and sets the security headers every response carries.

use crate::App;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters since start.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Responses by status class (1xx..5xx).
    pub responses: [AtomicU64; 5],
    pub commands_done: AtomicU64,
    pub commands_refused: AtomicU64,
    pub commands_repeated: AtomicU64,
    pub sign_in_failures: AtomicU64,
    /// Connections closed on arrival because the most allowed were open.
    pub connections_refused: std::sync::Arc<AtomicU64>,
}

impl Metrics {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// `ok` while the log's storage works; 503 with the fault while it fails (a full disk, a
/// read-only file, an I/O error), so a monitor sees what the armorer sees.
pub async fn healthz(State(app): State<App>) -> Response {
    match storage_fault(&app) {
        None => "ok\n".into_response(),
        Some(text) => (StatusCode::SERVICE_UNAVAILABLE, format!("{text}\n")).into_response(),
    }
}

/// What to tell people while acts are not recorded: the log failed its check at start, or its
/// storage fails (the fault and since when).
pub fn storage_fault(app: &App) -> Option<String> {
    if let Some(why) = app.node().halted() {
        return Some(why);
    }
    let (fault, since) = app.node().store().health().fault()?;
    let secs = since.elapsed().map_or(0, |d| d.as_secs());
    Some(format!(
        "storage failing for {secs} s: {fault}. Acts are not being recorded; Armory retries by itself"
    ))
}

pub async fn metrics(State(app): State<App>, headers: axum::http::HeaderMap) -> Response {
    if let Err(e) = crate::logweb::may_read(&app, &headers).await {
        return e.into_response();
    }
    let m = app.metrics();
    let (entries, firearms, open_incidents) = app
        .node()
        .with_state(|s| (s.next_index, s.firearms.len(), s.open_incidents().count()))
        .await;
    let mut out = String::new();
    out.push_str("# HELP armory_http_responses_total HTTP responses by status class.\n");
    out.push_str("# TYPE armory_http_responses_total counter\n");
    for (i, c) in m.responses.iter().enumerate() {
        out.push_str(&format!(
            "armory_http_responses_total{{class=\"{}xx\"}} {}\n",
            i + 1,
            c.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP armory_commands_total Commands by outcome.\n");
    out.push_str("# TYPE armory_commands_total counter\n");
    for (outcome, c) in [
        ("done", &m.commands_done),
        ("refused", &m.commands_refused),
        ("repeated", &m.commands_repeated),
    ] {
        out.push_str(&format!(
            "armory_commands_total{{outcome=\"{outcome}\"}} {}\n",
            c.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP armory_sign_in_failures_total Rejected passwords and PINs.\n");
    out.push_str("# TYPE armory_sign_in_failures_total counter\n");
    out.push_str(&format!(
        "armory_sign_in_failures_total {}\n",
        m.sign_in_failures.load(Ordering::Relaxed)
    ));
    out.push_str("# HELP armory_connections_refused_total Connections closed on arrival: the most allowed were open.\n");
    out.push_str("# TYPE armory_connections_refused_total counter\n");
    out.push_str(&format!(
        "armory_connections_refused_total {}\n",
        m.connections_refused.load(Ordering::Relaxed)
    ));
    let health = app.node().store().health();
    out.push_str("# HELP armory_storage_errors_total Writes of the log that failed (disk full, read-only, I/O error).\n");
    out.push_str("# TYPE armory_storage_errors_total counter\n");
    out.push_str(&format!(
        "armory_storage_errors_total {}\n",
        health.errors()
    ));
    out.push_str("# HELP armory_storage_ok 1 while the log's storage works, 0 while it fails.\n");
    out.push_str("# TYPE armory_storage_ok gauge\n");
    out.push_str(&format!(
        "armory_storage_ok {}\n",
        u8::from(health.fault().is_none())
    ));
    out.push_str(
        "# HELP armory_log_entries Entries in the log.\n# TYPE armory_log_entries gauge\n",
    );
    out.push_str(&format!("armory_log_entries {entries}\n"));
    out.push_str("# HELP armory_firearms Firearms registered.\n# TYPE armory_firearms gauge\n");
    out.push_str(&format!("armory_firearms {firearms}\n"));
    out.push_str(
        "# HELP armory_open_incidents Incidents not closed.\n# TYPE armory_open_incidents gauge\n",
    );
    out.push_str(&format!("armory_open_incidents {open_incidents}\n"));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// Counts each response by class and adds the security headers.
pub async fn count_and_secure(State(app): State<App>, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let mut response = next.run(request).await;
    if response.status().is_server_error() {
        tracing::warn!("{method} {path} answered {}", response.status());
    }
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        let mut banners = String::new();
        if let Some(text) = storage_fault(&app) {
            banners.push_str(&format!(
                "<div class=storage-fault role=alert><b>Not recording.</b> {}</div>",
                crate::web::esc(&text)
            ));
        }
        banners.push_str(&stopping_incidents(&app).await);
        let offset = app.node().policy().utc_offset_minutes;
        response = with_banner(response, &banners, offset).await;
    }
    let class = (response.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    Metrics::add(&app.metrics().responses[class]);
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Pages and answers say who holds which firearm: no cache keeps them, unless the response
    // says otherwise (the assets, the immutable log tiles).
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    response
}

/// The banner of every open incident that stops firearm work (severity stop or critical), for
/// everyone on every page until it is closed: a live round found, a wrap that did not balance,
/// a missing firearm. Empty when there is none.
async fn stopping_incidents(app: &App) -> String {
    let open: Vec<(String, String, bool)> = app
        .node()
        .with_state(|s| {
            s.open_incidents()
                .filter(|(_, i)| i.severity >= armory_core::Severity::Stop)
                .map(|(id, i)| {
                    (
                        id.to_string(),
                        i.description.to_string(),
                        i.severity == armory_core::Severity::Critical,
                    )
                })
                .collect()
        })
        .await;
    if open.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<section class=stop-banner role=alert><p><b>STOP: {} firearm work.</b></p><ul>",
        match (open.len(), open.iter().any(|o| o.2)) {
            (1, true) => "an open incident stops all".to_owned(),
            (1, false) => "an open incident stops".to_owned(),
            (n, true) => format!("{n} open incidents stop all"),
            (n, false) => format!("{n} open incidents stop"),
        }
    );
    for (id, description, critical) in open.iter().take(3) {
        out.push_str(&format!(
            "<li>{}incident {}: {}</li>",
            if *critical { "CRITICAL " } else { "" },
            crate::web::esc(id),
            crate::web::esc(description)
        ));
    }
    out.push_str("</ul><p>The armorer and the safety representative close each with findings (<a href=/discharge>Discharges and incidents</a>).</p></section>");
    out
}

/// Puts banners (storage failing, incidents that stop work) at the top of an HTML page, for
/// everyone, on every page, while they last, and shows its times in the set's local time
/// (pages are built without the node's health or policy at hand; this is the one place every
/// page passes through).
async fn with_banner(response: Response, banners: &str, offset_minutes: i32) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 << 20).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be read",
        )
            .into_response();
    };
    let page = crate::web::localize_times(&String::from_utf8_lossy(&bytes), offset_minutes);
    let page = match page.find("<main") {
        Some(at) => format!("{}{banners}{}", &page[..at], &page[at..]),
        None => format!("{banners}{page}"),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page))
}
