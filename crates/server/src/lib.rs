//! armory-server: a set node over HTTP (DESIGN.md §1, §3).
//!
//! A thin shell over [`armory_store::node::Node`]: handlers turn requests into typed `Command`s and
//! results into responses. No rule lives here: every act goes through `decide` in armory-core, and
//! every refusal reaches the user as its rule, why and what is needed. What this crate adds is who
//! is asking ([`auth`]: accounts, sessions, PINs, API tokens, kept in `auth.db`, never in the log),
//! the JSON API ([`api`]), the web UI ([`web`]), the C2SP log endpoints ([`logweb`]), a demo
//! production for today ([`demo`]) and HTTPS ([`tls`]).
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod conn;
mod counts;
pub mod demo;
pub mod entries;
pub mod logweb;
pub mod metrics;
pub mod passkeys;
pub mod tls;
pub mod web;

use armory_core::time::Timestamp;
use armory_store::node::Node;
use armory_store::sqlite::SqliteLog;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Refused attempts of one person recorded in a minute; past them, acts are answered 429 and
/// not recorded (a script hammering refused acts would otherwise fill the log with near misses;
/// the first ones are on record, and the node prints that the limit was hit).
pub const REFUSALS_PER_MINUTE: u32 = 30;

/// Failed passwords one network address may send in ten minutes, over all ids, before its
/// sign-ins are answered 429 without being tried (a laptop spraying guesses at every account).
pub const SIGN_IN_FAILURES_PER_SOURCE: u32 = 20;

/// Largest request body accepted (an entry is at most 64 KiB; a command is smaller).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a session lasts after sign-in.
    pub session_ttl: Duration,
    /// Mark cookies `Secure` (set when serving over TLS or behind a TLS proxy).
    pub secure_cookies: bool,
    /// Timeouts and the connection cap (see [`conn`]).
    pub limits: conn::Limits,
    /// Serve the C2SP tiles and checkpoint, and `/metrics`, to anyone (as a public export
    /// would be); by default they need a sign-in or an API token.
    pub public_log: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_ttl: Duration::from_secs(12 * 3600),
            secure_cookies: false,
            limits: conn::Limits::default(),
            public_log: false,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    node: Node<SqliteLog>,
    auth: auth::AuthDb,
    config: Config,
    metrics: metrics::Metrics,
    /// Each entry's history line, as item pages and the log page show it.
    lines: entries::EntryCache<Arc<str>>,
    /// Each entry's stored bytes, as the history API sends them.
    entry_bytes: entries::EntryCache<Arc<[u8]>>,
    /// Passkey challenges handed out and not yet answered.
    challenges: passkeys::Challenges,
    /// Failed sign-ins per source address, ten minutes at a time (see `api::start_session`).
    sign_in_failures_by_source: counts::Windowed<std::net::IpAddr>,
    /// Refused attempts recorded per person, a minute at a time (see `api::run_command`).
    refusals: counts::Windowed<String>,
}

impl App {
    /// The server's state over an open node and auth database.
    pub fn new(node: Node<SqliteLog>, auth: auth::AuthDb, config: Config) -> App {
        App {
            inner: Arc::new(Inner {
                node,
                auth,
                config,
                metrics: metrics::Metrics::default(),
                lines: Default::default(),
                entry_bytes: Default::default(),
                challenges: Default::default(),
                refusals: counts::Windowed::new(60_000, REFUSALS_PER_MINUTE),
                sign_in_failures_by_source: counts::Windowed::new(
                    600_000,
                    SIGN_IN_FAILURES_PER_SOURCE,
                ),
            }),
        }
    }

    /// Passkey challenges handed out and not yet answered.
    pub fn challenges(&self) -> &passkeys::Challenges {
        &self.inner.challenges
    }

    pub fn node(&self) -> &Node<SqliteLog> {
        &self.inner.node
    }

    pub fn auth(&self) -> &auth::AuthDb {
        &self.inner.auth
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// Refused attempts recorded per person, at most [`REFUSALS_PER_MINUTE`] a minute.
    pub(crate) fn refusals(&self) -> &counts::Windowed<String> {
        &self.inner.refusals
    }

    /// Failed passwords per network address, at most [`SIGN_IN_FAILURES_PER_SOURCE`] in ten
    /// minutes.
    pub(crate) fn sign_in_failures_by_source(&self) -> &counts::Windowed<std::net::IpAddr> {
        &self.inner.sign_in_failures_by_source
    }

    pub(crate) fn lines(&self) -> &entries::EntryCache<Arc<str>> {
        &self.inner.lines
    }

    pub(crate) fn entry_bytes(&self) -> &entries::EntryCache<Arc<[u8]>> {
        &self.inner.entry_bytes
    }
}

/// The current time as the log records it (an error only if the clock is beyond year 9999).
pub fn now() -> Result<Timestamp, armory_core::TimeError> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_unix_millis(ms)
}

/// Every route of the node.
pub fn router(app: App) -> Router {
    let request_timeout = app.config().limits.request;
    Router::new()
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/assets/{name}", get(web::asset))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/session", post(api::sign_in).delete(api::sign_out))
        .route("/api/tokens", post(api::create_token).get(api::list_tokens))
        .route("/api/tokens/revoke", post(api::revoke_token))
        .route("/api/commands", post(api::submit))
        .route(
            "/api/passkeys/options",
            post(passkeys::registration_options),
        )
        .route("/api/passkeys", post(passkeys::register))
        .route("/api/passkeys/remove", post(passkeys::remove_api))
        .route(
            "/account/passkey/remove",
            post(web::account::remove_passkey),
        )
        .route(
            "/api/confirmations/options",
            post(passkeys::confirmation_options),
        )
        .route("/confirm/options", post(web::confirm_options))
        .route("/api/state", get(api::state))
        .route("/api/alerts", get(api::alerts))
        .route("/api/firearms/{id}", get(api::firearm))
        .route("/api/firearms/{id}/history", get(api::history))
        .route("/api/log/checkpoint", get(api::checkpoint))
        .route("/api/log/entries/{index}", get(api::entry))
        .route("/api/log/receipts/{index}", get(api::receipt))
        .route("/api/log/consistency", get(api::consistency))
        .route("/log/{*path}", get(logweb::serve_log))
        .route("/", get(web::board))
        .route("/signin", get(web::sign_in_page).post(web::sign_in))
        .route("/signout", post(web::sign_out))
        .route("/role", post(web::switch_role))
        .route("/scan", get(web::scan))
        .route("/item/{id}", get(web::item))
        .route("/act", post(web::act))
        .route("/incident", get(web::incident_page))
        .route("/log", get(web::log_page))
        .route("/near-misses", get(web::nearmiss::page))
        .route("/entry/{index}", get(web::entry_page))
        .route("/flows", get(web::flows::menu))
        .route("/intake", get(web::flows::intake))
        .route("/verify", get(web::flows::verify))
        .route("/meeting", get(web::flows::meeting))
        .route("/scene", get(web::flows::scene))
        .route("/discharge", get(web::flows::discharge))
        .route("/wrap", get(web::flows::wrap))
        .route("/day", get(web::flows::day))
        .route("/armory", get(web::flows::armory))
        .route("/override", get(web::flows::override_page))
        .route("/policy", get(web::flows::policy_page))
        .route("/admin", get(web::admin::people_page))
        .route("/admin/secret", post(web::admin::set_secret))
        .route("/account/secret", post(web::account::own_secret))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            metrics::count_and_secure,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // A request that has not been read and answered in time (a body trickled in) ends 408.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .with_state(app)
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests in flight finish,
/// within the connection limits of its config ([`conn`]). The caller closes the log afterwards
/// (`SqliteLog::close`), so nothing acknowledged is lost.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    serve_on(listener, app, shutdown).await
}

/// Serves `app` over HTTPS (see [`tls`]) on `listener` until `shutdown` resolves, then lets
/// requests in flight finish, as [`serve`]. Set `Config::secure_cookies` for such an app.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_on(tls::TlsListener::new(listener, tls)?, app, shutdown).await
}

async fn serve_on<L>(
    listener: L,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    let limits = app.config().limits;
    let refused = app.metrics().connections_refused.clone();
    conn::serve(listener, router(app), limits, refused, shutdown).await
}
