//! The node: the hot path of DESIGN.md §3 over any [`Store`].
//!
//! The current [`State`] lives in memory behind one lock. A command takes the lock, runs the pure
//! `decide` (a refusal by a safety or role rule becomes a `refused` event: near misses are logged;
//! a command that does not fit the state at all, rule STATE, is answered and not logged), applies
//! the events,
//! computes the projection rows they change, and queues all of it with the store *before* releasing
//! the lock, so the log's order is the order decisions were made in. It then waits, without the
//! lock, for the store's group commit to make it durable. Commands therefore share fsyncs while
//! each one decides against the state every earlier command left.
//!
//! If a queued append fails, memory is ahead of the log: the node marks itself stale and rebuilds
//! the state from the log before the next command. Commands queued behind the failed one were
//! decided against that state too; each is queued with the index it was decided for, and the
//! store refuses, unwritten, one the log is no longer at ([`StoreError::OutOfOrder`]).

use crate::projection::{Row, RowWrite, changed_rows, state_from_rows};
use crate::{Appended, Batch, Draft, Store, StoreError};

use armory_core::event::Event;
use armory_core::time::Timestamp;
use armory_core::{Actor, Command, Policy, Refusal, RuleId, State, apply_at, decide, differences};
use armory_ledger::Entry;
use armory_ledger::entry::entry_time;
use std::sync::Arc;
use tokio::sync::Mutex;

/// What became of a command.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A retry: this idempotency key was already used; nothing new was recorded.
    Repeated(Recorded),
    /// Done: its events are entries `first_index..first_index + events.len()`.
    Done {
        events: Vec<Event>,
        appended: Appended,
    },
    /// Refused by a rule; the refusal is logged as entry `appended.first_index`.
    Refused {
        refusal: Refusal,
        appended: Appended,
    },
}

/// What is kept with an idempotency key: what the command recorded, and the SHA-256 of the
/// command, so that the key answers a retry of the same act only.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Kept {
    #[serde(flatten)]
    recorded: Recorded,
    /// Absent in keys kept before it was (they answer any body, as they did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

/// Hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a command recorded, as kept with its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recorded {
    pub first_index: u64,
    pub count: u64,
    pub refusal: Option<Refusal>,
}

impl Outcome {
    /// What was recorded.
    pub fn recorded(&self) -> Recorded {
        match self {
            Outcome::Repeated(r) => r.clone(),
            Outcome::Done { appended, .. } => Recorded {
                first_index: appended.first_index,
                count: appended.count,
                refusal: None,
            },
            Outcome::Refused { refusal, appended } => Recorded {
                first_index: appended.first_index,
                count: appended.count,
                refusal: Some(refusal.clone()),
            },
        }
    }

    /// The first entry it wrote (for a retry: the first attempt's).
    pub fn first_index(&self) -> u64 {
        self.recorded().first_index
    }
}

/// Why a command could not be carried out at all (a refusal is an [`Outcome`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("entry {index} of the log cannot be replayed: {why}")]
    Replay { index: u64, why: String },
    /// The command does not fit the state at all (an unknown id, an act out of order): refused
    /// by rule STATE and, unlike a safety refusal, not logged: it is bad input, not a near miss.
    #[error("{0}")]
    Invalid(Refusal),
    #[error("internal error, nothing was recorded: {0}")]
    Internal(String),
    /// The node refuses every write: the log failed its check (see [`Node::verify_in_background`]).
    #[error("not recorded: {0}")]
    Halted(String),
    /// The idempotency key came with another act than the one it was first used for.
    #[error(
        "this Idempotency-Key was first used for another act; nothing was recorded. A retry sends the same act with the same key; a new act needs a new key"
    )]
    KeyReused,
}

/// How far behind the log's last entry the clock may be and still be taken for the same moment
/// (see [`Node::stamp`]).
const CLOCK_SLACK_MS: i64 = 2_000;

struct Inner {
    /// Idempotency keys queued but perhaps not yet durable (a retry may race its first attempt).
    keys: std::collections::HashMap<String, Kept>,
    state: State,
    /// The state the projection rows describe (equal to `state` between commands).
    written: State,
    stale: bool,
    /// The tables were found to disagree with the log: rebuild them from a replay.
    tables_wrong: bool,
    /// The last entry's time (read from the log when unknown): no entry is timed before it.
    last_time: Option<Timestamp>,
}

/// A production's node: its log, its policy, its state.
#[derive(Clone)]
pub struct Node<S: Store> {
    store: S,
    /// The policy the node was started with: in force until the log sets one.
    policy: Arc<Policy>,
    /// The policy in force (the log's latest `policy_set`, else [`Node::policy`]'s start one).
    in_force: Arc<std::sync::Mutex<Arc<Policy>>>,
    inner: Arc<Mutex<Inner>>,
    /// The outcome of the check of the state the node opened with (see [`Node::open`]).
    checked: tokio::sync::watch::Receiver<Option<Checked>>,
    /// Why every write is refused, once the log failed its full check.
    halted: Arc<std::sync::Mutex<Option<String>>>,
}

/// How the state a node opened with compared with a full replay of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The state was rebuilt by replaying the whole log at open: nothing to check.
    Replayed,
    /// The projection tables the node opened with match the log, replayed in the background.
    Matches,
    /// They did not (edited behind the log's back): these differences, and the state and the
    /// tables were rebuilt from the log at once.
    Rebuilt(Vec<String>),
    /// The replay itself failed (a damaged entry): the state is rebuilt before the next command.
    Failed(String),
}

/// Replays a whole log into a state. Entries whose event the core does not know (a note from
/// another tool, a newer format) are skipped; every other entry must apply.
pub async fn replay<S: Store>(store: &S) -> Result<State, NodeError> {
    replay_until(store, store.extent().await?.entries_end).await
}

/// Replays the entries below `end` into a state (see [`replay`]).
pub async fn replay_until<S: Store>(store: &S, end: u64) -> Result<State, NodeError> {
    Ok(replay_while(store, end, |_| true).await?.0)
}

/// The state as it was at `at`: the entries timed at or before it (entries never go back in
/// time). Returns the state and how many entries it holds.
pub async fn replay_as_of<S: Store>(store: &S, at: Timestamp) -> Result<(State, u64), NodeError> {
    let at = at.to_rfc3339();
    replay_while(store, store.extent().await?.entries_end, |entry| {
        entry.time.as_str() <= at.as_str()
    })
    .await
}

/// Replays the entries below `end` while `keep` accepts them; returns the state and the index
/// of the first entry not replayed.
async fn replay_while<S: Store>(
    store: &S,
    end: u64,
    keep: impl Fn(&Entry) -> bool,
) -> Result<(State, u64), NodeError> {
    let mut state = State::new();
    let mut start = 0u64;
    while start < end {
        let stop = (start + 4096).min(end);
        for (index, bytes) in store.entries(start..stop).await? {
            let entry = Entry::decode(&bytes).map_err(|e| NodeError::Replay {
                index,
                why: e.to_string(),
            })?;
            if !keep(&entry) {
                return Ok((state, index));
            }
            let kind = entry.event_type().to_owned();
            let Ok(event) = serde_json::from_value::<Event>(entry.event) else {
                tracing::warn!("entry {index}: event type {kind:?} is not known here; skipped");
                continue;
            };
            apply_at(&mut state, index, &event).map_err(|e| NodeError::Replay {
                index,
                why: e.to_string(),
            })?;
        }
        start = stop;
    }
    Ok((state, end))
}

/// The state the projection tables describe, when they can be read and cover the whole log:
/// they are written in the same transaction as the entries, so they are then the log's state.
async fn state_from_tables<S: Store>(store: &S) -> Result<Option<State>, NodeError> {
    let size = store.extent().await?.entries_end;
    let rows = store.projection().await?;
    Ok(state_from_rows(&rows)
        .ok()
        .filter(|state| state.next_index == size))
}

/// The projection rows of a whole state.
pub fn all_rows(state: &State) -> Vec<RowWrite> {
    changed_rows(&State::default(), state)
}

/// Compares the projection tables with a state rebuilt from the log; returns each difference.
pub async fn projection_differences<S: Store>(
    store: &S,
    replayed: &State,
) -> Result<Vec<String>, NodeError> {
    let rows: Vec<Row> = store.projection().await?;
    match state_from_rows(&rows) {
        Ok(from_tables) => Ok(differences(replayed, &from_tables)),
        Err(e) => Ok(vec![e.to_string()]),
    }
}

fn ledger_actor(actor: &Actor) -> armory_ledger::Actor {
    armory_ledger::Actor {
        person: actor.person.as_str().to_owned(),
        role: actor.role.as_str().to_owned(),
        method: actor.method.as_str().to_owned(),
        assertion: actor.assertion.clone(),
    }
}

/// Who the entry names: the actor, then everyone who confirmed the act (performer and 1st AD of a
/// show check, approvers of an override, ...). An anonymous incident report names no one.
/// A PIN confirmation whose PIN another person set is written with method `pin (set by X)`.
fn ledger_actors(
    actor: &Actor,
    command: &Command,
    event: &Event,
    reset: &[(armory_core::PersonId, armory_core::PersonId)],
    actor_may: bool,
) -> Vec<armory_ledger::Actor> {
    if let Event::IncidentOpened {
        reported_by: None, ..
    } = event
    {
        return Vec::new();
    }
    // An act its actor may not attempt was refused before anyone's PIN was looked at (the
    // server checks roles first): the people it names as confirming confirmed nothing.
    if !actor_may && matches!(event, Event::Refused { .. }) {
        return vec![ledger_actor(actor)];
    }
    std::iter::once(actor)
        .map(ledger_actor)
        .chain(command.confirmations().into_iter().map(|a| {
            let mut entry = ledger_actor(a);
            if let Some((_, by)) = reset.iter().find(|(p, _)| *p == a.person) {
                entry.method = format!("pin (set by {by})");
            }
            entry
        }))
        .collect()
}

impl<S: Store> Node<S> {
    /// Opens the node. The projection tables are written in the same transaction as the entries
    /// they describe, so they are the state at the log's end: reading them costs a row per item,
    /// replaying the log an entry per act. When they cover the whole log, the node starts from
    /// them and checks them against a full replay in the background ([`Node::checked`]); a
    /// difference (tables edited behind the log's back) is printed and the state and tables are
    /// rebuilt from the log at once. Commands decided before that check ends were decided against
    /// the tables. Tables that do not cover the log (a log written without a node, or older than
    /// them) are rebuilt from a replay before the node opens.
    pub async fn open(store: S, policy: Policy) -> Result<Node<S>, NodeError> {
        let (state, snapshot) = match state_from_tables(&store).await? {
            Some(state) => {
                let snapshot = state.clone();
                (state, Some(snapshot))
            }
            None => {
                let state = replay(&store).await?;
                let differences = projection_differences(&store, &state).await?;
                if !differences.is_empty() {
                    tracing::warn!(
                        "the projection tables disagree with the log ({} differences, first: {}); rebuilding them",
                        differences.len(),
                        differences[0]
                    );
                    store.reset_projection(all_rows(&state)).await?;
                }
                (state, None)
            }
        };
        let (report, checked) = tokio::sync::watch::channel(None);
        let policy = Arc::new(policy);
        let in_force = Arc::new(std::sync::Mutex::new(match &state.policy {
            Some(p) => Arc::new(p.policy.clone()),
            None => policy.clone(),
        }));
        let node = Node {
            store,
            policy,
            in_force,
            inner: Arc::new(Mutex::new(Inner {
                keys: Default::default(),
                written: state.clone(),
                state,
                stale: false,
                tables_wrong: false,
                last_time: None,
            })),
            checked,
            halted: Arc::default(),
        };
        match snapshot {
            None => {
                let _ = report.send(Some(Checked::Replayed));
            }
            Some(snapshot) => {
                let node = node.clone();
                tokio::spawn(async move {
                    let outcome = node.check_opened_state(snapshot).await;
                    let _ = report.send(Some(outcome));
                });
            }
        }
        Ok(node)
    }

    /// Checks the whole log (every entry, stored hash and checkpoint signature, as `armory
    /// verify`) on a task of its own. The node serves meanwhile; if the log fails, the failure is
    /// printed, and from then on every write is refused with it ([`Node::halted`]) until someone
    /// has looked (`armory verify` names the first bad entry) and the node is restarted.
    pub fn verify_in_background(&self) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let halted = self.halted.clone();
        tokio::spawn(async move {
            let start = std::time::Instant::now();
            match crate::check::check_log_in_background(&store).await {
                Ok(report) => tracing::info!(
                    "the log checks out: {} entries, {} checkpoints, {} passkey confirmations, in {:.1} s",
                    report.entries,
                    report.checkpoints,
                    report.passkeys,
                    start.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    let why = format!(
                        "the log failed its check at start ({e}). Every write is refused until it is looked at: run `armory verify`, keep a copy of the data directory as evidence, and restart once it is resolved"
                    );
                    tracing::error!("{why}");
                    *halted.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
                }
            }
        })
    }

    /// Why the node refuses writes, when its log failed the full check.
    pub fn halted(&self) -> Option<String> {
        self.halted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn refuse_if_halted(&self) -> Result<(), NodeError> {
        match self.halted() {
            Some(why) => Err(NodeError::Halted(why)),
            None => Ok(()),
        }
    }

    /// Replays the log's entries up to where `snapshot` (the state the node opened with, from the
    /// projection tables) reaches and compares the two; rebuilds both on a difference.
    async fn check_opened_state(&self, snapshot: State) -> Checked {
        // The tables covered exactly the entries below this index when the node opened.
        let size = snapshot.next_index;
        let replayed = match replay_until(&self.store, size).await {
            Ok(state) => state,
            Err(e) => {
                tracing::error!("the log cannot be replayed to check the state: {e}");
                let mut inner = self.inner.lock().await;
                inner.stale = true;
                inner.tables_wrong = true;
                return Checked::Failed(e.to_string());
            }
        };
        let found = differences(&replayed, &snapshot);
        drop((replayed, snapshot));
        if found.is_empty() {
            tracing::info!("the projection tables match the log's {size} entries");
            return Checked::Matches;
        }
        tracing::error!(
            "the projection tables the node opened with disagree with the log ({} differences, first: {}): \
             they were edited behind the log's back. Rebuilding the state and the tables from the log",
            found.len(),
            found[0]
        );
        {
            let mut inner = self.inner.lock().await;
            inner.stale = true;
            inner.tables_wrong = true;
            if let Err(e) = self.catch_up(&mut inner).await {
                tracing::error!(
                    "rebuilding failed ({e}); it is tried again before the next command"
                );
            }
        }
        // The repair is itself in the log, with what differed: the tables are rebuilt, the
        // evidence that they were edited is kept.
        let repaired = Event::ProjectionRepaired {
            differences: found.len() as u64,
            first: found.iter().take(20).cloned().collect(),
        };
        let node = vec![armory_ledger::Actor {
            person: "node".into(),
            role: "system".into(),
            method: "automatic".into(),
            assertion: None,
        }];
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| Timestamp::from_unix_millis(i64::try_from(d.as_millis()).ok()?).ok());
        match now {
            Some(now) => {
                if let Err(e) = self.record(node, &[repaired], now).await {
                    tracing::error!("the repair of the projection tables could not be logged: {e}");
                }
            }
            None => tracing::error!(
                "the repair of the projection tables could not be logged: the clock is out of range"
            ),
        }
        Checked::Rebuilt(found)
    }

    /// Waits for the check of the state the node opened with, and says how it went.
    pub async fn checked(&self) -> Checked {
        let mut rx = self.checked.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(value) => value.clone().unwrap_or(Checked::Replayed),
            Err(_) => Checked::Failed("the check stopped".into()),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The policy in force: the one the log set last, else the one the node started with.
    pub fn policy(&self) -> Arc<Policy> {
        self.in_force
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The policy the node was started with (`policy.json`, or RULES.md's defaults).
    pub fn start_policy(&self) -> &Policy {
        &self.policy
    }

    /// Keeps [`Node::policy`] in step with the state.
    fn follow_policy(&self, state: &State) {
        let mut in_force = self.in_force.lock().unwrap_or_else(|e| e.into_inner());
        let now = match &state.policy {
            Some(p) => &p.policy,
            None => &*self.policy,
        };
        if **in_force != *now {
            *in_force = Arc::new(now.clone());
        }
    }

    /// A copy of the current state.
    pub async fn state(&self) -> State {
        self.inner.lock().await.state.clone()
    }

    /// Runs `f` on the current state without copying it.
    pub async fn with_state<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.inner.lock().await.state)
    }

    /// Rebuilds the state from the log when an earlier append failed (memory is then ahead of
    /// the log, or was decided against a state that included the failed act).
    /// After a failed append the tables are still the log's state (they are written in the same
    /// transaction as the entries, and a failed one wrote neither), so they are read back, a row
    /// per item; only when they do not cover the log, or a check found them wrong, is the log
    /// replayed and the tables rewritten.
    async fn catch_up(&self, inner: &mut Inner) -> Result<(), NodeError> {
        if !inner.stale {
            return Ok(());
        }
        tracing::warn!("the state is behind the log after a failed append; reading it back");
        let from_tables = match inner.tables_wrong {
            true => None,
            false => state_from_tables(&self.store).await?,
        };
        let state = match from_tables {
            Some(state) => state,
            None => {
                let state = replay(&self.store).await?;
                self.store.reset_projection(all_rows(&state)).await?;
                inner.tables_wrong = false;
                state
            }
        };
        inner.written = state.clone();
        inner.state = state;
        inner.stale = false;
        inner.last_time = None;
        self.follow_policy(&inner.state);
        Ok(())
    }

    /// The time to give the next entry: `now`, unless the log's last entry is later. A clock a
    /// moment behind (a command that read it, then waited its turn behind a later one) takes the
    /// last entry's time; one further behind is refused before anything is decided: the clock
    /// was set back, and entries never go back in time.
    async fn stamp(&self, inner: &mut Inner, now: Timestamp) -> Result<Timestamp, NodeError> {
        if inner.last_time.is_none() && inner.state.next_index > 0 {
            let last = inner.state.next_index - 1;
            inner.last_time = self
                .store
                .entries_at(&[last])
                .await?
                .first()
                .and_then(|(_, entry)| entry_time(entry))
                .and_then(|t| Timestamp::parse_rfc3339(std::str::from_utf8(&t).ok()?).ok());
        }
        let Some(last) = inner.last_time.filter(|last| now < *last) else {
            return Ok(now);
        };
        if last.as_unix_millis() - now.as_unix_millis() <= CLOCK_SLACK_MS {
            return Ok(last);
        }
        Err(StoreError::ClockBehind {
            index: inner.state.next_index,
            time: now.to_rfc3339(),
            last: last.to_rfc3339(),
        }
        .into())
    }

    /// Applies `events` to the state, computes the projection rows they change and queues both
    /// with the store (with the index they were decided for), under the lock the caller holds.
    /// Returns the pending append and the index of its first entry.
    async fn queue(
        &self,
        inner: &mut Inner,
        events: &[Event],
        actors: impl Fn(&Event) -> Vec<armory_ledger::Actor>,
        time: &str,
        key: Option<(&str, &str, Option<Refusal>)>,
    ) -> Result<(crate::Pending, u64), NodeError> {
        let first = inner.state.next_index;
        if let Ok(t) = Timestamp::parse_rfc3339(time) {
            inner.last_time = inner.last_time.max(Some(t));
        }
        // Apply to the state, then the same events to the copy the tables describe: the rows
        // to write are the items where the two differ. (No whole-state copy per command.)
        for (k, event) in events.iter().enumerate() {
            if let Err(e) = apply_at(&mut inner.state, first + k as u64, event) {
                inner.stale = true;
                return Err(NodeError::Internal(e.to_string()));
            }
        }
        self.follow_policy(&inner.state);
        let rows = changed_rows(&inner.written, &inner.state);
        for (k, event) in events.iter().enumerate() {
            if apply_at(&mut inner.written, first + k as u64, event).is_err() {
                inner.stale = true;
            }
        }
        let drafts = events
            .iter()
            .map(|event| {
                Ok(Draft {
                    time: time.to_owned(),
                    event: serde_json::to_value(event)?,
                    actors: actors(event),
                })
            })
            .collect::<Result<Vec<_>, serde_json::Error>>();
        let drafts = match drafts {
            Ok(d) => d,
            Err(e) => {
                inner.stale = true;
                return Err(NodeError::Internal(e.to_string()));
            }
        };
        let idempotency = match key {
            Some((key, body, refusal)) => {
                let kept = Kept {
                    recorded: Recorded {
                        first_index: first,
                        count: drafts.len() as u64,
                        refusal,
                    },
                    body: Some(body.to_owned()),
                };
                let json =
                    serde_json::to_string(&kept).map_err(|e| NodeError::Internal(e.to_string()))?;
                inner.keys.insert(key.to_owned(), kept);
                Some((key.to_owned(), json))
            }
            None => None,
        };
        match self
            .store
            .submit(Batch {
                drafts,
                rows,
                idempotency,
                expect_index: Some(first),
            })
            .await
        {
            Ok(p) => Ok((p, first)),
            Err(e) => {
                inner.stale = true;
                Err(e.into())
            }
        }
    }

    /// Waits for a queued append; a failure (or an append placed elsewhere) marks the state
    /// stale, to be rebuilt from the log before the next command.
    async fn settle(
        &self,
        pending: crate::Pending,
        first: u64,
        key: Option<&str>,
    ) -> Result<Appended, NodeError> {
        let waited = pending.wait().await;
        if let Some(key) = key {
            // Durable now (or failed): the table answers retries from here on.
            self.inner.lock().await.keys.remove(key);
        }
        match waited {
            Ok(a) if a.first_index == first => Ok(a),
            Ok(a) => {
                self.inner.lock().await.stale = true;
                Err(NodeError::Internal(format!(
                    "the log placed the command at {} instead of {first}; the state is being rebuilt",
                    a.first_index
                )))
            }
            Err(e) => {
                self.inner.lock().await.stale = true;
                Err(e.into())
            }
        }
    }

    /// Records events that need no decision (an operator's remark from the command line), as
    /// the node does after `decide`: applied to the state, projection rows written with them.
    pub async fn record(
        &self,
        actors: Vec<armory_ledger::Actor>,
        events: &[Event],
        now: Timestamp,
    ) -> Result<Appended, NodeError> {
        self.refuse_if_halted()?;
        let (pending, first) = {
            let mut inner = self.inner.lock().await;
            self.catch_up(&mut inner).await?;
            let time = self.stamp(&mut inner, now).await?.to_rfc3339();
            self.queue(&mut inner, events, |_| actors.clone(), &time, None)
                .await?
        };
        self.settle(pending, first, None).await
    }

    /// Decides, logs and applies one command (DESIGN.md §3). Returns once it is durable.
    pub async fn execute(
        &self,
        actor: &Actor,
        command: &Command,
        now: Timestamp,
    ) -> Result<Outcome, NodeError> {
        self.execute_once(None, actor, command, now).await
    }

    /// As [`Node::execute`], but a second call with the same `key` records nothing and answers
    /// [`Outcome::Repeated`] with what the first recorded.
    pub async fn execute_once(
        &self,
        key: Option<&str>,
        actor: &Actor,
        command: &Command,
        now: Timestamp,
    ) -> Result<Outcome, NodeError> {
        // The key is kept hashed: the table holds no caller's name (an anonymous report's
        // key is scoped to its reporter), only what answers a retry.
        let key = key.map(|k| sha256_hex(k.as_bytes()));
        let key = key.as_deref();
        let body = sha256_hex(
            &serde_json::to_vec(command).map_err(|e| NodeError::Internal(e.to_string()))?,
        );
        self.refuse_if_halted()?;
        let (pending, decided, first) = {
            let mut inner = self.inner.lock().await;
            if let Some(key) = key {
                let seen = match inner.keys.get(key) {
                    Some(kept) => Some(kept.clone()),
                    None => match self.store.idempotent(key).await? {
                        Some(json) => Some(
                            serde_json::from_str::<Kept>(&json)
                                .map_err(|e| NodeError::Internal(e.to_string()))?,
                        ),
                        None => None,
                    },
                };
                if let Some(seen) = seen {
                    if seen.body.is_some_and(|b| b != body) {
                        return Err(NodeError::KeyReused);
                    }
                    return Ok(Outcome::Repeated(seen.recorded));
                }
            }
            self.catch_up(&mut inner).await?;
            let time = self.stamp(&mut inner, now).await?.to_rfc3339();
            let in_force = match &inner.state.policy {
                Some(p) => &p.policy,
                None => &*self.policy,
            };
            let decided = decide(in_force, &inner.state, actor, command, now);
            let actor_may = armory_core::roles::may_attempt(
                &inner.state,
                in_force,
                &actor.person,
                actor.role,
                command.kind(),
            );
            let reset = inner.state.pins_set_by_others(command);
            if let Err(refusal) = &decided
                && refusal.rule == RuleId::State
            {
                return Err(NodeError::Invalid(refusal.clone()));
            }
            let events = match &decided {
                Ok(events) => events.clone(),
                Err(refusal) => vec![refusal.to_event(actor, command)],
            };
            if events.is_empty() {
                return Err(NodeError::Internal(format!(
                    "{} decided nothing",
                    command.kind()
                )));
            }
            let refusal = decided.as_ref().err().cloned();
            let (pending, first) = self
                .queue(
                    &mut inner,
                    &events,
                    |event| ledger_actors(actor, command, event, &reset, actor_may),
                    &time,
                    key.map(|key| (key, body.as_str(), refusal)),
                )
                .await?;
            (pending, decided.map(|_| events), first)
        };
        let appended = self.settle(pending, first, key).await?;
        Ok(match decided {
            Ok(events) => Outcome::Done { events, appended },
            Err(refusal) => Outcome::Refused { refusal, appended },
        })
    }
}
