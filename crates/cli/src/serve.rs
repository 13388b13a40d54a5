//! `armory serve`: the set node over HTTP (crates/server). Settings come from flags, then the
//! environment (`ARMORY_LISTEN`, `ARMORY_SESSION_MINUTES`, `ARMORY_CONFIG`), then a TOML file
//! (`--config FILE`, or `armory.toml` in the data directory), then defaults.

use crate::datadir::DataDir;
use anyhow::{Context, Result};
use armory_server::{App, Config, auth::AuthDb, demo};
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
    /// A TOML file with `listen`, `session_minutes`, `secure_cookies`.
    #[arg(long, env = "ARMORY_CONFIG")]
    config: Option<PathBuf>,
    /// How long a sign-in lasts [default: 720].
    #[arg(long, env = "ARMORY_SESSION_MINUTES")]
    session_minutes: Option<u64>,
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
    let config = Config {
        session_ttl,
        secure_cookies: file.secure_cookies.unwrap_or(false),
    };
    let log = data.writer().await?;
    let node = Node::open(log.clone(), data.policy()?).await?;
    let auth = AuthDb::open(&data.path.join(AUTH_FILE)).await?;
    let app = App::new(node, auth.clone(), config);
    if args.demo {
        demo::seed(&app).await?;
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Armory is serving {} on http://{addr}/",
            data.path.display()
        )?;
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
        writeln!(out, "Stop with Ctrl-C.")?;
        out.flush()?;
    }
    armory_server::serve(listener, app, shutdown_signal()).await?;
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
