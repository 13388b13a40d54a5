//! `armory`: the command line of a set node.
#![forbid(unsafe_code)]

/// `println!` for what a command prints: a closed stdout (`armory status | head`) ends the
/// program quietly instead of panicking. Nothing is left half-done by that: every command
/// prints after its work is durable.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            $crate::stdout_closed(e)
        }
    }};
}

mod datadir;
mod demo;
mod logcmd;
mod policycmd;
mod serve;
mod status;
mod user;

use anyhow::{Context, Result, bail};
use armory_core::event::Event;
use armory_core::ids::PersonId;
use armory_ledger::Actor;
use armory_store::StoreError;
use armory_store::node::{Node, NodeError};
use clap::{Parser, Subcommand};
use datadir::DataDir;
use std::io::Write;
use std::path::PathBuf;

/// mimalloc rather than the system allocator: a request allocates and frees many small buffers
/// (headers, JSON, page text) on both worker threads, where glibc's malloc spent about a sixth
/// of the server's time and kept freed memory in per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "armory",
    version,
    about = "Firearm safety and chain of custody for film and TV sets, kept in a signed, verifiable log."
)]
struct Cli {
    /// The data directory (log database and node keys).
    #[arg(
        long,
        global = true,
        env = "ARMORY_DATA",
        default_value = "armory-data"
    )]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a data directory: the node's signing key and an empty, signed log.
    Init {
        /// The log's origin (its name in checkpoints), e.g. `studio.example/rust-2026/main-unit`.
        #[arg(long)]
        origin: Option<String>,
    },
    /// Append a free-text remark to the log.
    Note {
        /// The remark.
        text: String,
        /// Who is making it.
        #[arg(long, default_value = "operator")]
        by: String,
        /// Append the remark this many times, one durable append each (for tests and benchmarks).
        #[arg(long, default_value_t = 1, hide = true)]
        repeat: u64,
    },
    /// Show the log: the latest checkpoint, one entry, or a receipt for one entry.
    Log {
        #[command(subcommand)]
        what: Option<logcmd::LogCommand>,
    },
    /// Verify the log (or an exported directory): every entry, hash, tile and checkpoint.
    Verify {
        /// An exported directory to verify instead of the data directory's log.
        dir: Option<PathBuf>,
        /// The log's public key (file or signed-note text) to trust; defaults to the data
        /// directory's `log.pub`, or the export's own `log.pub`.
        #[arg(long)]
        key: Option<PathBuf>,
        /// A checkpoint someone kept (a witness, an insurer): check that the log still matches it.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// An earlier export holding the kept checkpoint's entries: when the log no longer matches
        /// the checkpoint, name the first entry that differs from it.
        #[arg(long, requires = "checkpoint")]
        against: Option<PathBuf>,
        /// Also rebuild the state from the log and compare it with the projection tables.
        #[arg(long)]
        replay: bool,
        /// Check a receipt (a C2SP tlog-proof, from `armory log proof N` or the API) instead of a
        /// log: that `--entry` is in the log its checkpoint describes, signed by `--key`.
        #[arg(long, requires = "entry", conflicts_with_all = ["dir", "replay", "checkpoint"])]
        receipt: Option<PathBuf>,
        /// The entry the receipt is for (as `armory log entry N` prints it, or its JSON).
        #[arg(long, requires = "receipt")]
        entry: Option<PathBuf>,
    },
    /// Where every firearm is, open incidents, and the alerts that need attention.
    Status {
        /// Evaluate alerts at this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Build a demo production in a new data directory and play a shoot day through the rules.
    Demo {
        /// `safe`: a day done right. `unsafe`: the day of the Rust shooting, every failure stopped.
        #[arg(long, value_enum, default_value_t = demo::Which::Safe)]
        scenario: demo::Which,
    },
    /// Serve the set node: web UI, JSON API, C2SP tiles (`--demo`: a demo production for today).
    Serve(serve::ServeArgs),
    /// The production's safety policy: show the one in force, or record a new one in the log.
    Policy {
        #[command(subcommand)]
        what: policycmd::PolicyCommand,
    },
    /// Sign-in accounts: set a password or PIN, create an API token, bootstrap a new production.
    User {
        #[command(subcommand)]
        what: user::UserCommand,
    },
    /// Who may attempt each act (RULES.md §4), as a Markdown table, for the default policy.
    Roles,
    /// Write the log as plain files (checkpoint, C2SP tiles, public key) into DIR.
    Export {
        /// Where to write; created if needed.
        dir: PathBuf,
    },
}

/// Stdout is gone: a reader that stopped reading is a normal end; anything else is an error.
fn stdout_closed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0)
    }
    eprintln!("error: cannot write the output: {e}");
    std::process::exit(1)
}

/// Log output on stderr: storage faults, recoveries, rebuilt tables are evidence, not noise.
/// `RUST_LOG` overrides the level (`info` for `serve`, `warn` for the other commands).
fn init_tracing(serving: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if serving { "info" } else { "warn" })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        // A failed write to stderr (a log file on the full disk Armory is reporting) must not
        // panic the thread that was logging: that thread may be the log's writer.
        .log_internal_errors(false)
        .init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(matches!(cli.command, Command::Serve(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // Output written with `?` into a closed stdout: the reader stopped reading, not a failure.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A file-size limit (`ulimit -f`) must fail a write with an error the log handles (EFBIG), not
/// end the process: SIGXFSZ's default action is replaced by a handler that does nothing.
fn survive_file_size_limit() {
    #[cfg(target_os = "linux")]
    {
        const SIGXFSZ: i32 = 25;
        if let Err(e) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(SIGXFSZ))
        {
            tracing::warn!("cannot handle SIGXFSZ ({e}); a file-size limit would end Armory");
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    survive_file_size_limit();
    let data = DataDir::new(cli.data);
    match cli.command {
        Command::Init { origin } => {
            let origin = origin.unwrap_or_else(default_origin);
            let signer = data.init(&origin).await?;
            out!("created an Armory log in {}", data.path.display());
            out!("origin: {}", signer.name());
            out!("public key (give this to anyone who verifies the log):");
            out!("{}", signer.public_text());
            Ok(())
        }
        Command::Note { text, by, repeat } => note(&data, &text, &by, repeat).await,
        Command::Log { what } => logcmd::show(&data, what).await,
        Command::Verify {
            dir,
            key,
            checkpoint,
            against,
            replay,
            receipt,
            entry,
        } => match (receipt, entry) {
            (Some(receipt), Some(entry)) => logcmd::verify_receipt(&data, &receipt, &entry, key),
            _ => {
                let kept = checkpoint.map(|path| logcmd::Kept { path, against });
                logcmd::verify(&data, dir, key, kept, replay).await
            }
        },
        Command::Demo { scenario } => demo::run(&data, scenario).await,
        Command::Status { at } => status::run(&data, at).await,
        Command::Export { dir } => logcmd::export(&data, &dir).await,
        Command::Roles => {
            out!(
                "{}",
                armory_core::roles::markdown(&armory_core::Policy::default())
            );
            Ok(())
        }
        Command::Serve(args) => serve::run(&data, args).await,
        Command::User { what } => user::run(&data, what).await,
        Command::Policy { what } => policycmd::run(&data, what).await,
    }
}

fn default_origin() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("armory.local/log-{:08x}", h.finish() as u32)
}

/// The current time as the log writes it.
pub fn now() -> Result<String> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_millis();
    let ms = i64::try_from(ms).context("the system clock is out of range")?;
    armory_ledger::entry::format_unix_millis(ms).context("the system clock is out of range")
}

/// Appends a remark through the node, so the projection tables follow the log (`verify
/// --replay` passes after plain command-line use). A remark needs no rule's decision; the
/// operator at the node's own keyboard is recorded as its author.
async fn note(data: &DataDir, text: &str, by: &str, repeat: u64) -> Result<()> {
    if text.trim().is_empty() {
        bail!("the note is empty; write the remark in quotes: armory note \"...\"");
    }
    if by.is_empty() || by.chars().any(char::is_control) {
        bail!("--by must name who makes the note");
    }
    let log = data.writer().await?;
    let node = Node::open(log.clone(), data.policy()?).await?;
    let (in_log, opened) = node
        .with_state(|s| (s.policy.clone(), s.production.is_some()))
        .await;
    crate::policycmd::check_policy_file(data, in_log.as_ref(), opened)?;
    // The author in the role the production gave them; someone it does not know (or a log
    // with no production yet) is recorded as an operator at this computer, never as an admin.
    let role = {
        let state = node.state().await;
        let person = PersonId::parse(by)
            .ok()
            .and_then(|id| state.people.get(&id).cloned())
            .filter(|p| p.active);
        match person.and_then(|p| p.roles.first().copied()) {
            Some(role) => role.as_str().to_owned(),
            None => {
                if by != "operator" {
                    tracing::warn!(
                        "{by} is not a person of this production; the note is recorded as by {by}, an operator at this computer"
                    );
                }
                "operator".to_owned()
            }
        }
    };
    let author = vec![Actor {
        person: by.to_owned(),
        role,
        method: "local".to_owned(),
        assertion: None,
    }];
    let event = Event::Note {
        text: text.to_owned(),
    };
    let mut out = std::io::stdout().lock();
    for _ in 0..repeat {
        let at = armory_server::now().context("the system clock is out of range")?;
        let appended = node
            .record(author.clone(), std::slice::from_ref(&event), at)
            .await
            .map_err(|e| match e {
                NodeError::Store(StoreError::Unknown(fault)) => anyhow::anyhow!(
                    "the outcome is unknown: {fault}. The note may or may not be in the log: check `armory log` before writing it again"
                ),
                NodeError::Store(StoreError::NotRecorded(fault)) => anyhow::anyhow!(
                    "not recorded: {fault}. Nothing of the note was written; write it again once storage works"
                ),
                other => other.into(),
            })?;
        writeln!(
            out,
            "appended entry {} (log size {})",
            appended.first_index, appended.size
        )?;
        out.flush()?;
    }
    drop(out);
    drop(node);
    log.close().await;
    Ok(())
}
