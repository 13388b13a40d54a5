//! `/healthz` and `/metrics` (Prometheus text exposition format 0.0.4, written by hand), and the
//! middleware that counts responses and sets the security headers every response carries.

use crate::App;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
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
}

impl Metrics {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn metrics(State(app): State<App>) -> Response {
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
    let mut response = next.run(request).await;
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
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    response
}
