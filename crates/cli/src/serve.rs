//! `armory serve`: the set node over HTTP or HTTPS (crates/server). Settings come from flags, then
//! the environment (`ARMORY_LISTEN`, `ARMORY_SESSION_MINUTES`, `ARMORY_CONFIG`, `ARMORY_TLS`,
//! `ARMORY_TLS_CERT`, `ARMORY_TLS_KEY`), then a TOML file (`--config FILE`, or `armory.toml` in the
//! data directory), then defaults.

use crate::datadir::DataDir;
use anyhow::{Context, Result};
use armory_server::{App, Config, demo, tls};
use armory_store::node::Node;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Where `armory serve` keeps sign-in secrets, beside the log (never in it).
pub const AUTH_FILE: &str = "auth.db";

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080 for phones on the set's network [default: 127.0.0.1:8080].
    #[arg(long, env = "ARMORY_LISTEN")]
    listen: Option<String>,
    /// Create (or reuse) a demo production for today, with demo sign-ins.
    #[arg(long)]
    demo: bool,
    /// A TOML file with `listen`, `session_minutes`, `secure_cookies`, `tls`, `tls_cert`, `tls_key`,
    /// `idle_timeout`, `request_timeout`, `max_connections`, `public_log`.
    #[arg(long, env = "ARMORY_CONFIG")]
    config: Option<PathBuf>,
    /// How long a sign-in lasts [default: 720].
    #[arg(long, env = "ARMORY_SESSION_MINUTES")]
    session_minutes: Option<u64>,
    /// Serve HTTPS (phone cameras need it on a LAN). Without --tls-cert, a self-signed
    /// certificate is made once in the data directory (tls-cert.pem, tls-key.pem) and its SHA-256
    /// fingerprint printed at start.
    #[arg(long, env = "ARMORY_TLS", num_args = 0..=1, default_missing_value = "true")]
    tls: Option<bool>,
    /// A PEM certificate (chain) to serve instead of the self-signed one; implies --tls.
    #[arg(long, env = "ARMORY_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "ARMORY_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Close a connection that sends no complete request head for this many seconds (a new
    /// one, or a kept-alive one between requests) [default: 10].
    #[arg(long, env = "ARMORY_IDLE_TIMEOUT")]
    idle_timeout: Option<u64>,
    /// Answer 408 to a request not read and answered in this many seconds (a body trickled in)
    /// [default: 30].
    #[arg(long, env = "ARMORY_REQUEST_TIMEOUT")]
    request_timeout: Option<u64>,
    /// Connections open at once; one more is closed at once and counted [default: 4096].
    #[arg(long, env = "ARMORY_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Serve the log's C2SP tiles and checkpoint, and /metrics, to anyone on the network (by
    /// default they need a sign-in or an API token: the entries name people and firearms).
    #[arg(long, env = "ARMORY_PUBLIC_LOG")]
    public_log: bool,
    /// Session length in seconds (tests).
    #[arg(long, hide = true)]
    session_seconds: Option<u64>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    session_minutes: Option<u64>,
    secure_cookies: Option<bool>,
    tls: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    idle_timeout: Option<u64>,
    request_timeout: Option<u64>,
    max_connections: Option<usize>,
    public_log: Option<bool>,
}

fn file_config(data: &DataDir, path: Option<&PathBuf>) -> Result<FileConfig> {
    let (path, required) = match path {
        Some(p) => (p.clone(), true),
        None => (data.path.join("armory.toml"), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("{} is not a valid Armory config", path.display())),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(FileConfig::default())
        }
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

pub async fn run(data: &DataDir, args: ServeArgs) -> Result<()> {
    if args.demo && !data.db().exists() {
        data.init_with("armory.local/demo", &armory_core::Policy::default())
            .await?;
    }
    let file = file_config(data, args.config.as_ref())?;
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let session_ttl = match (
        args.session_seconds,
        args.session_minutes.or(file.session_minutes),
    ) {
        (Some(s), _) => Duration::from_secs(s),
        (None, Some(m)) => Duration::from_secs(m * 60),
        (None, None) => Duration::from_secs(720 * 60),
    };
    // A certificate named in one layer comes with its key from the same layer.
    let given = match (args.tls_cert, args.tls_key) {
        (Some(c), Some(k)) => Some((c, k)),
        _ => match (file.tls_cert, file.tls_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => anyhow::bail!(
                "the config file names only one of tls_cert and tls_key: give both, or neither for a self-signed certificate"
            ),
        },
    };
    // A given certificate means TLS unless `tls` is set to false somewhere.
    let tls_on = args.tls.or(file.tls).unwrap_or(given.is_some());
    let mut limits = armory_server::conn::Limits::default();
    if let Some(s) = args.idle_timeout.or(file.idle_timeout) {
        anyhow::ensure!(s > 0, "the idle timeout must be at least 1 second");
        limits.idle = Duration::from_secs(s);
    }
    if let Some(s) = args.request_timeout.or(file.request_timeout) {
        anyhow::ensure!(s > 0, "the request timeout must be at least 1 second");
        limits.request = Duration::from_secs(s);
    }
    if let Some(n) = args.max_connections.or(file.max_connections) {
        anyhow::ensure!(n > 0, "max_connections must be at least 1");
        limits.connections = n;
    }
    let files = armory_server::conn::raise_file_limit(limits.connections);
    if (files as usize) < limits.connections + 64 {
        tracing::warn!(
            "the open-file limit is {files}: fewer than {} connections fit; raise it (ulimit -n) or lower max_connections",
            limits.connections
        );
    }
    let config = Config {
        session_ttl,
        // Under TLS a cookie must never travel in clear text.
        secure_cookies: tls_on || file.secure_cookies.unwrap_or(false),
        limits,
        public_log: args.public_log || file.public_log.unwrap_or(false),
    };
    let log = data.writer().await?;
    let node = Node::open(log.clone(), data.policy()?).await?;
    let (in_log, opened) = node
        .with_state(|s| (s.policy.clone(), s.production.is_some()))
        .await;
    crate::policycmd::check_policy_file(data, in_log.as_ref(), opened)?;
    // The whole log is checked while the node serves; a failure stops every write.
    node.verify_in_background();
    let auth = data.auth().await?;
    let app = App::new(node, auth.clone(), config);
    if args.demo {
        demo::seed(&app).await?;
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let certificate = if tls_on {
        Some(match &given {
            Some((cert, key)) => tls::load(cert, key)?,
            None => tls::load_or_generate(&data.path, addr.ip())?,
        })
    } else {
        None
    };
    let scheme = if tls_on { "https" } else { "http" };
    let no_accounts = !args.demo && auth.password_count().await? == 0;
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Armory is serving {} on {scheme}://{addr}/",
            data.path.display()
        )?;
        if let Some(c) = &certificate {
            let how = match (c.generated, given.is_some()) {
                (_, true) => "given",
                (true, false) => "self-signed, made now",
                (false, false) => "self-signed",
            };
            writeln!(
                out,
                "TLS certificate ({how}, {}): SHA-256 {}",
                c.cert_path.display(),
                c.fingerprint()
            )?;
            if given.is_none() {
                writeln!(
                    out,
                    "  phones will warn that it is self-signed: accept it only if the browser shows this fingerprint"
                )?;
            }
        }
        if args.demo {
            writeln!(out, "Demo sign-ins (id / password / PIN):")?;
            for p in demo::PEOPLE {
                let roles: Vec<&str> = p.roles.iter().map(|r| r.title()).collect();
                writeln!(
                    out,
                    "  {:<7} {:<18} {}  {}",
                    p.id,
                    p.password,
                    p.pin,
                    roles.join(", ")
                )?;
            }
        }
        if no_accounts {
            writeln!(out, "{}", armory_server::web::admin::first_run_hint())?;
        }
        writeln!(out, "Stop with Ctrl-C.")?;
        out.flush()?;
    }
    match &certificate {
        Some(c) => {
            armory_server::serve_tls(listener, c.server_config()?, app, shutdown_signal()).await?;
        }
        None => armory_server::serve(listener, app, shutdown_signal()).await?,
    }
    log.close().await;
    auth.close().await;
    // stdout may be gone by now (a closed pipe); the log is closed either way.
    let _ = writeln!(std::io::stdout(), "stopped; the log is closed");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
