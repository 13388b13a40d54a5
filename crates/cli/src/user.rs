//! `armory user`: sign-in accounts of the set node, from the command line of the machine it runs
//! on. Sets a person's password or PIN (read as one line from standard input, so it never appears
//! in the shell history or the process list), creates an API token, and bootstraps a new
//! production with its first admin. Secrets go to `auth.db`, never into the log; that one was set
//! (who for whom, which kind) is an entry of the log, written first. So none of this works while
//! `armory serve` holds the log: the People page does it there, and logs it.

use crate::datadir::DataDir;
use anyhow::{Context, Result, bail};
use armory_core::{Actor, AuthMethod, Command, Event, PersonId, Role, SecretKind, State};
use armory_server::auth::{MIN_PASSWORD_CHARS, Secret};
use armory_store::node::{Node, Outcome};
use std::io::{BufRead, IsTerminal, Write};

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Set PERSON's password (one line from standard input, at least 10 characters).
    SetPassword {
        /// The person's id on the production.
        person: String,
    },
    /// Set PERSON's PIN for confirming acts (one line from standard input, 4 to 8 digits).
    SetPin {
        /// The person's id on the production.
        person: String,
    },
    /// Create an API token for scripts acting as PERSON (printed once).
    Token {
        /// The person's id on the production.
        person: String,
        /// The role the token acts in [default: the person's first role].
        #[arg(long)]
        role: Option<String>,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Start a new production: create the data directory if needed, open the production in the
    /// log with its first admin, and set the admin's password (one line from standard input).
    Bootstrap {
        /// The production's id, e.g. `rust-2026`.
        #[arg(long)]
        production: String,
        /// Its title.
        #[arg(long)]
        title: String,
        /// The first admin's id (what they sign in with).
        #[arg(long)]
        admin: String,
        /// The first admin's name.
        #[arg(long)]
        name: String,
        /// The log's origin, when the data directory is new [default: armory.local/PRODUCTION].
        #[arg(long)]
        origin: Option<String>,
    },
}

pub async fn run(data: &DataDir, what: UserCommand) -> Result<()> {
    match what {
        UserCommand::SetPassword { person } => set(data, &person, Secret::Password).await,
        UserCommand::SetPin { person } => set(data, &person, Secret::Pin).await,
        UserCommand::Token { person, role, name } => token(data, &person, role, &name).await,
        UserCommand::Bootstrap {
            production,
            title,
            admin,
            name,
            origin,
        } => bootstrap(data, &production, &title, &admin, &name, origin).await,
    }
}

/// Reads one line from standard input (the prompt goes to standard error).
fn read_secret(prompt: &str) -> Result<String> {
    let mut err = std::io::stderr().lock();
    write!(err, "{prompt}: ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read standard input")?;
    if !std::io::stdin().is_terminal() {
        // Nothing was echoed, so end the prompt's line here.
        writeln!(err)?;
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Refuses a weak secret before anything is written, saying what would be accepted.
fn check_strength(which: Secret, secret: &str) -> Result<()> {
    match which {
        Secret::Password if secret.chars().count() < MIN_PASSWORD_CHARS => bail!(
            "the password is too short ({} characters): use at least {MIN_PASSWORD_CHARS}",
            secret.chars().count()
        ),
        Secret::Pin
            if !(4..=8).contains(&secret.len()) || !secret.bytes().all(|b| b.is_ascii_digit()) =>
        {
            bail!("a PIN is 4 to 8 digits and nothing else")
        }
        _ => Ok(()),
    }
}

fn word(which: Secret) -> &'static str {
    match which {
        Secret::Password => "password",
        Secret::Pin => "PIN",
    }
}

/// The production's state, replayed from the log (read-only: works while `armory serve` runs).
async fn state(data: &DataDir) -> Result<State> {
    let log = data.reader().await?;
    let state = armory_store::node::replay(&log).await?;
    log.close().await;
    Ok(state)
}

/// The person, if they are on the production.
fn on_production(state: &State, person: &str) -> Result<PersonId> {
    let id = PersonId::parse(person).map_err(|e| anyhow::anyhow!("{person:?}: {e}"))?;
    if state.production.is_none() {
        bail!(
            "no production has been opened in this log yet; start one with `armory user bootstrap --production ID --title T --admin ID --name N`"
        );
    }
    match state.people.get(&id) {
        Some(p) if p.active => Ok(id),
        Some(_) => bail!("{person} was removed from the production"),
        None => bail!(
            "{person} is not on this production; an admin adds them first (People page, or the add_person command)"
        ),
    }
}

/// Logs that `kind` was set for `person` from this computer's shell (by `operator`), before it
/// is set.
async fn log_secret(data: &DataDir, person: &PersonId, kind: SecretKind) -> Result<()> {
    let log = data.writer().await.map_err(|e| {
        anyhow::anyhow!(
            "{e}. While `armory serve` runs, set passwords, PINs and tokens on its People and Account pages, where they are logged"
        )
    })?;
    let node = Node::open(log.clone(), data.policy()?).await?;
    let at = armory_server::now().map_err(|e| anyhow::anyhow!("{e}"))?;
    let operator = armory_ledger::Actor {
        person: "operator".into(),
        role: "operator".into(),
        method: "local".into(),
        assertion: None,
    };
    let event = Event::SecretSet {
        person: person.clone(),
        kind,
        by: PersonId::parse("operator").map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let logged = node.record(vec![operator], &[event], at).await;
    drop(node);
    log.close().await;
    logged?;
    Ok(())
}

fn kind_of(which: Secret) -> SecretKind {
    match which {
        Secret::Password => SecretKind::Password,
        Secret::Pin => SecretKind::Pin,
    }
}

async fn set(data: &DataDir, person: &str, which: Secret) -> Result<()> {
    let state = state(data).await?;
    let id = on_production(&state, person)?;
    let secret = read_secret(&format!("new {} for {person}", word(which)))?;
    check_strength(which, &secret)?;
    log_secret(data, &id, kind_of(which)).await?;
    let auth = data.auth().await?;
    auth.set_secret(&id, which, &secret).await?;
    auth.close().await;
    out!(
        "{} set for {person} (the secret in auth.db; the log records that it was set from this computer{})",
        word(which),
        if which == Secret::Pin {
            ", and marks their confirmations until they set their own PIN"
        } else {
            ""
        }
    );
    Ok(())
}

async fn token(data: &DataDir, person: &str, role: Option<String>, name: &str) -> Result<()> {
    let state = state(data).await?;
    let id = on_production(&state, person)?;
    let held: Vec<Role> = state
        .people
        .get(&id)
        .map(|p| p.roles.iter().copied().collect())
        .unwrap_or_default();
    let role = match role {
        Some(r) => Role::parse(&r).map_err(|e| anyhow::anyhow!("--role {r:?}: {e}"))?,
        None => match held.first() {
            Some(r) => *r,
            None => bail!("{person} holds no role; an admin grants one first"),
        },
    };
    if !held.contains(&role) {
        bail!("{person} does not hold the role {}", role.as_str());
    }
    log_secret(data, &id, SecretKind::ApiToken).await?;
    let auth = data.auth().await?;
    let now = armory_server::now()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .as_unix_millis();
    let secret = auth
        .create_token(&id, role, name, now, armory_server::auth::TOKEN_DAYS)
        .await?;
    auth.close().await;
    out!("{secret}");
    eprintln!(
        "API token for {person} as {} (lasts {} days): send it as `Authorization: Bearer <token>`; it is shown only now",
        role.as_str(),
        armory_server::auth::TOKEN_DAYS
    );
    Ok(())
}

async fn bootstrap(
    data: &DataDir,
    production: &str,
    title: &str,
    admin: &str,
    name: &str,
    origin: Option<String>,
) -> Result<()> {
    let admin_id = PersonId::parse(admin).map_err(|e| anyhow::anyhow!("--admin {admin:?}: {e}"))?;
    let command: Command = serde_json::from_value(serde_json::json!({
        "type": "open_production", "production": production, "title": title, "admin_name": name
    }))
    .map_err(|e| anyhow::anyhow!("{e}; check --production, --title and --name"))?;
    if data.db().exists() && state(data).await?.production.is_some() {
        bail!(
            "{} already holds a production; an admin there adds people and sets passwords (armory user set-password PERSON)",
            data.path.display()
        );
    }
    // Read and check the password before anything is written, so a weak one changes nothing.
    let password = read_secret(&format!("password for {admin}"))?;
    check_strength(Secret::Password, &password)?;
    if !data.db().exists() {
        let origin = origin.unwrap_or_else(|| format!("armory.local/{production}"));
        data.init(&origin).await?;
        out!("created an Armory log in {}", data.path.display());
    }
    let log = data.writer().await?;
    let node = Node::open(log.clone(), data.policy()?).await?;
    let at = armory_server::now().map_err(|e| anyhow::anyhow!("{e}"))?;
    let actor = Actor::new(admin_id.clone(), Role::Admin, AuthMethod::Local);
    let outcome = node.execute(&actor, &command, at).await;
    // The admin's password, set by them at this shell: logged before it is set.
    let logged = match &outcome {
        Ok(Outcome::Done { .. }) => Some(
            node.record(
                vec![armory_ledger::Actor {
                    person: admin_id.as_str().to_owned(),
                    role: "admin".into(),
                    method: "local".into(),
                    assertion: None,
                }],
                &[Event::SecretSet {
                    person: admin_id.clone(),
                    kind: SecretKind::Password,
                    by: admin_id.clone(),
                }],
                at,
            )
            .await,
        ),
        _ => None,
    };
    drop(node);
    log.close().await;
    match outcome? {
        Outcome::Refused { refusal, .. } => bail!("opening the production was refused: {refusal}"),
        Outcome::Done { appended, .. } => {
            out!(
                "opened production {production} (entry {})",
                appended.first_index
            );
        }
        Outcome::Repeated(_) => {}
    }
    if let Some(logged) = logged {
        logged?;
    }
    let auth = data.auth().await?;
    auth.set_secret(&admin_id, Secret::Password, &password)
        .await?;
    auth.close().await;
    out!(
        "{admin} is the first admin and can sign in at `armory serve`; set their PIN with `armory user set-pin {admin}`"
    );
    Ok(())
}
