//! Who is asking: accounts (argon2 password and PIN hashes, failed attempts, lockout with backoff),
//! server-side sessions, and API tokens. Kept in `auth.db` beside the log, never in it: the log
//! records only who acted and how they authenticated (`Actor.method`).
//!
//! Secrets at rest: passwords and PINs as argon2id PHC strings; session ids and API tokens as
//! SHA-256 hashes (they are 256-bit random values, so a fast hash suffices), so a copy of `auth.db`
//! opens no session. A PIN only confirms an act on another person's signed-in device (a show
//! check); no function here turns a PIN into a session.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use armory_core::{PersonId, Role};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, ffi, params};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Failed attempts allowed before the account locks.
pub const FREE_ATTEMPTS: i64 = 5;
/// First lockout; it doubles with each further failure, up to [`MAX_LOCK_MS`].
pub const FIRST_LOCK_MS: i64 = 30_000;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest lockout.
pub const MAX_LOCK_MS: i64 = 3_600_000;

/// Why a credential was not accepted, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("unknown person or wrong {0}")]
    Wrong(&'static str),
    #[error("too many wrong attempts: {what} of {person} is locked for {seconds} more seconds")]
    Locked {
        person: String,
        what: &'static str,
        seconds: i64,
        /// This attempt locked it (a lockout to log), rather than finding it locked.
        started: bool,
    },
    #[error("{0}")]
    Weak(String),
    #[error("sign-in database error: {0}")]
    Database(String),
    /// The sign-in database cannot be written now (disk full, read-only, I/O error, locked):
    /// nothing was changed; the same request may succeed later.
    #[error("sign-in database unavailable: {0}")]
    Storage(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Refuses a password shorter than [`MIN_PASSWORD_CHARS`] characters, or a PIN that is not 4 to
/// 8 digits.
pub fn check_strength(which: Secret, secret: &str) -> Result<(), AuthError> {
    match which {
        Secret::Password if secret.chars().count() < MIN_PASSWORD_CHARS => Err(AuthError::Weak(
            format!("a password must be at least {MIN_PASSWORD_CHARS} characters"),
        )),
        Secret::Pin
            if !(4..=8).contains(&secret.len()) || !secret.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Err(AuthError::Weak("a PIN must be 4 to 8 digits".into()))
        }
        _ => Ok(()),
    }
}

/// A signed-in session.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub person: PersonId,
    pub role: Role,
    pub csrf: String,
    pub expires_ms: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("person", &self.person)
            .field("role", &self.role)
            .field("csrf", &"<redacted>")
            .finish()
    }
}

/// Which secret of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    Password,
    Pin,
}

impl Secret {
    fn word(self) -> &'static str {
        match self {
            Secret::Password => "password",
            Secret::Pin => "PIN",
        }
    }
    fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Secret::Password => ("password_hash", "password_failed", "password_locked_until"),
            Secret::Pin => ("pin_hash", "pin_failed", "pin_locked_until"),
        }
    }
}

/// Migrations, applied in order; `PRAGMA user_version` is how many ran.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE accounts (
    person TEXT PRIMARY KEY,
    password_hash TEXT,
    password_failed INTEGER NOT NULL DEFAULT 0,
    password_locked_until INTEGER NOT NULL DEFAULT 0,
    pin_hash TEXT,
    pin_failed INTEGER NOT NULL DEFAULT 0,
    pin_locked_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    role TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
",
    "
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;
UPDATE tokens SET expires_ms = created_ms + 7776000000;
",
    "
CREATE TABLE devices (
    token_hash TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    failed INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
);
",
];

/// Failed attempts and the time a lockout ends (ms), of an account's secret or of a device.
type Counter = (i64, i64);

/// Ids nobody holds that are tried, counted as accounts are (so a lockout answers alike for a
/// real and a made-up id), at most this many at once.
const UNKNOWN_IDS_KEPT: usize = 10_000;

/// How long an API token lasts unless asked otherwise (90 days), and at most (a year).
pub const TOKEN_DAYS: u32 = 90;
/// The longest an API token may be asked to last.
pub const TOKEN_MAX_DAYS: u32 = 365;
const DAY_MS: i64 = 86_400_000;

/// An API token as its owner sees it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// Its first 12 hex digits of its hash: how it is named to revoke it.
    pub id: String,
    pub person: String,
    pub role: String,
    pub name: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// The sign-in database.
#[derive(Clone)]
pub struct AuthDb {
    db: Arc<Db>,
    /// Sessions looked up or created since start, by id hash: a page view or an API call reads
    /// its session here, not from the database. Only this process writes `sessions` (the serving
    /// process holds the log's writer lock; `armory user` never touches sessions), and every
    /// write goes through a method below that updates this map in the same call, so it is never
    /// behind the table: a method that adds or changes a session does so in the blocking task
    /// of its commit, right after it, so that a caller who stops waiting cannot skip it; one that
    /// ends sessions takes them out of the map before the delete. Expired sessions leave it when
    /// looked up or at the next sign-in.
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    /// Failed passwords for ids that have no account: (failures, locked until).
    unknown: Arc<Mutex<HashMap<String, Counter>>>,
}

/// How long a write waits for another process's write to `auth.db` (`armory user` beside the
/// server) before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The connections to `auth.db`: one that writes, one that only reads.
///
/// Invariant: a connection in a slot is outside any transaction. A call takes its connection out
/// of the slot, runs on a blocking thread, and puts it back only if every statement succeeded; a
/// call that fails in any way (or panics) drops it, and the next call opens a new one. Dropping a
/// connection closes it, and closing rolls back whatever transaction it was in, so a transaction
/// that a failed statement or a failed COMMIT left open (SQLite keeps it open after some failed
/// COMMITs) can never take in the next caller's writes and lose them with it.
struct Db {
    path: PathBuf,
    busy: Duration,
    /// Every write, and nothing else: SQLite lets one connection write at a time anyway.
    writer: Mutex<Slot>,
    /// Every read. In WAL mode a read sees the last commit and never waits for a write, so the
    /// session or token check of an incoming request does not queue behind a commit's fsync.
    reader: Mutex<Slot>,
}

enum Slot {
    /// Not open: before first use, and after a call failed.
    Shut,
    Open(Connection),
    /// After [`AuthDb::close`]: calls fail rather than open the file again.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Read,
    Write,
}

/// What was being done with `auth.db` when SQLite failed, for the error message.
#[derive(Debug, Clone, Copy)]
enum Doing {
    Open,
    Read,
    Write,
}

/// `SQLITE_READONLY_DIRECTORY`, which not every build of the bindings names.
const READONLY_DIRECTORY: i32 = ffi::SQLITE_READONLY | (6 << 8);

/// What a failed SQLite call on `path` means, in words a person at the set node can act on. By
/// the extended result code, so that a full disk, a read-only file and a failing disk each say so.
fn database_error(path: &Path, doing: Doing, e: &rusqlite::Error) -> AuthError {
    let file = path.display();
    let verb = match doing {
        Doing::Open => "open",
        Doing::Read => "read",
        Doing::Write => "write",
    };
    let Some(code) = e.sqlite_error().map(|s| s.extended_code) else {
        return AuthError::Database(format!("cannot {verb} {file}: {e}"));
    };
    let what = match code & 0xff {
        ffi::SQLITE_FULL => "the disk is full; free space".to_owned(),
        _ if code == READONLY_DIRECTORY => {
            "its folder is read-only; make the folder writable".to_owned()
        }
        ffi::SQLITE_READONLY => "the file is read-only; make it writable".to_owned(),
        ffi::SQLITE_IOERR => format!(
            "I/O error (SQLite code {code}): the disk or its connection failed; check the disk"
        ),
        ffi::SQLITE_BUSY => {
            "another process (the server, or an `armory user` command) kept it locked; try again"
                .to_owned()
        }
        ffi::SQLITE_CANTOPEN => match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                format!("its folder {} does not exist", dir.display())
            }
            _ => format!("{e}; check that the file and its folder may be read and written"),
        },
        ffi::SQLITE_CORRUPT | ffi::SQLITE_NOTADB => {
            format!("the file is damaged or not a sign-in database ({e}); restore it from a backup")
        }
        _ => e.to_string(),
    };
    let message = format!("cannot {verb} {file}: {what}");
    match code & 0xff {
        ffi::SQLITE_FULL | ffi::SQLITE_READONLY | ffi::SQLITE_IOERR | ffi::SQLITE_BUSY => {
            AuthError::Storage(message)
        }
        _ => AuthError::Database(message),
    }
}

/// A new random secret: 32 bytes, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Argon2 cost of a PIN, in KiB of memory and passes (a password uses argon2's defaults: 19 MiB,
/// 2 passes, about 20 ms).
///
/// A PIN is 4 to 8 digits: at most 10^8 values, 10^4 for most. No hash cost a show check can
/// afford protects that space from someone holding a copy of `auth.db` (at the password cost,
/// every 4-digit PIN falls in a few minutes on one core), so the cost would buy nothing there. What
/// protects a PIN is that it is only ever tried online, through [`AuthDb::check`]'s lockout (5
/// tries, then a doubling backoff), and that `auth.db` stays on the set node. A show check checks
/// two PINs while the armorer, performer and 1st AD wait, so the PIN hash is kept cheap (about
/// 1 ms): still argon2id with a random salt, so equal PINs do not look equal at rest.
pub const PIN_ARGON2_KIB: u32 = 1024;
/// Passes of a PIN's argon2 (see [`PIN_ARGON2_KIB`]).
pub const PIN_ARGON2_PASSES: u32 = 2;

impl Secret {
    fn argon2(self) -> Result<argon2::Argon2<'static>, AuthError> {
        let params = match self {
            Secret::Password => argon2::Params::default(),
            Secret::Pin => argon2::Params::new(PIN_ARGON2_KIB, PIN_ARGON2_PASSES, 1, None)
                .map_err(|e| AuthError::Hash(e.to_string()))?,
        };
        Ok(argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params,
        ))
    }

    /// One hash at a time of each kind, each on a blocking thread: a burst of sign-ins (about
    /// 20 ms and 19 MiB each) can neither starve the other requests of both cores nor multiply
    /// the memory, and does not hold up the PIN checks of a show check behind it.
    fn turn(self) -> &'static tokio::sync::Semaphore {
        static PASSWORD_TURN: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
        static PIN_TURN: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
        match self {
            Secret::Password => &PASSWORD_TURN,
            Secret::Pin => &PIN_TURN,
        }
    }
}

async fn hash_secret(which: Secret, secret: String) -> Result<String, AuthError> {
    let _turn = which
        .turn()
        .acquire()
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Hash(e.to_string()))?;
        which
            .argon2()?
            .hash_password(secret.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

/// Whether `secret` matches the PHC string `phc` (whose own parameters are used), and whether
/// `phc` was made with other parameters than `which` uses now (so it is worth hashing again).
async fn verify_secret(
    which: Secret,
    secret: String,
    phc: String,
) -> Result<(bool, bool), AuthError> {
    let _turn = which
        .turn()
        .acquire()
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| AuthError::Hash(e.to_string()))?;
        let current = which.argon2()?;
        let want = current.params();
        let outdated = argon2::Params::try_from(&parsed).map_or(true, |p| {
            (p.m_cost(), p.t_cost(), p.p_cost()) != (want.m_cost(), want.t_cost(), want.p_cost())
        });
        let ok = current.verify_password(secret.as_bytes(), &parsed).is_ok();
        Ok((ok, outdated))
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

/// The lockout after `failed` consecutive failures, in milliseconds (0: not locked).
pub fn lockout_ms(failed: i64) -> i64 {
    if failed < FREE_ATTEMPTS {
        return 0;
    }
    let doublings = (failed - FREE_ATTEMPTS).min(16) as u32;
    FIRST_LOCK_MS
        .saturating_mul(1i64 << doublings)
        .min(MAX_LOCK_MS)
}

/// Runs the [`MIGRATIONS`] not yet run, each in its own write transaction.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
    let found = version(conn)?;
    if found > MIGRATIONS.len() as i64 {
        // Written by a newer Armory: its tables may mean something this one cannot read.
        return Err(rusqlite::Error::ToSqlConversionFailure(
            format!(
                "the sign-in database has schema version {found}, newer than this Armory's {}: run the Armory that wrote it, or a newer one",
                MIGRATIONS.len()
            )
            .into(),
        ));
    }
    if found == MIGRATIONS.len() as i64 {
        // Up to date: no write lock taken, so opening beside a running server does not queue
        // behind its writes.
        return Ok(());
    }
    loop {
        // The version is read again inside the write transaction: of two processes creating
        // the file at once, the second then finds the first's tables instead of creating them.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done = version(&tx)?;
        let Some(sql) = MIGRATIONS.get(done.max(0) as usize) else {
            return tx.commit();
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", done + 1)?;
        tx.commit()?;
    }
}

impl Db {
    fn slot(&self, side: Side) -> MutexGuard<'_, Slot> {
        let slot = match side {
            Side::Read => &self.reader,
            Side::Write => &self.writer,
        };
        // A call that panicked left its slot `Shut` (the connection was out of it), so the slot
        // behind a poisoned lock is as good as any.
        slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a connection: WAL, every commit synced (`synchronous=FULL`: a password set or a
    /// session started survives a power cut once the call returns), waiting `busy` for another
    /// process's write.
    fn connect(&self, side: Side) -> Result<Connection, AuthError> {
        let fail = |e: rusqlite::Error| database_error(&self.path, Doing::Open, &e);
        // No SQLITE_OPEN_URI: the path is a file name, even one starting with `file:`.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(fail)?;
        conn.busy_timeout(self.busy).map_err(fail)?;
        if side == Side::Write {
            // SQLite opens a file it may not write read-only, without a word; every write
            // would then fail, so say it now.
            if conn.is_readonly(rusqlite::MAIN_DB).map_err(fail)? {
                return Err(AuthError::Database(format!(
                    "cannot write {}: the file is read-only; make it writable",
                    self.path.display()
                )));
            }
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(fail)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(AuthError::Database(format!(
                    "cannot open {}: SQLite kept journal mode {mode} instead of WAL",
                    self.path.display()
                )));
            }
        } else {
            // The reader never writes, by construction; SQLite holds it to that.
            conn.pragma_update(None, "query_only", true).map_err(fail)?;
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(fail)?;
        Ok(conn)
    }

    /// Runs `work` on `side`'s connection, on the calling thread (which may block).
    fn run_here<T>(
        &self,
        side: Side,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, AuthError> {
        let mut slot = self.slot(side);
        let mut conn = match std::mem::replace(&mut *slot, Slot::Shut) {
            Slot::Open(conn) => conn,
            Slot::Shut => self.connect(side)?,
            Slot::Closed => {
                *slot = Slot::Closed;
                return Err(AuthError::Database(format!(
                    "{} was closed",
                    self.path.display()
                )));
            }
        };
        match work(&mut conn) {
            Ok(done) => {
                *slot = Slot::Open(conn);
                Ok(done)
            }
            // `conn` is dropped here, ending any transaction it was in (see [`Db`]).
            Err(e) => {
                let doing = match side {
                    Side::Read => Doing::Read,
                    Side::Write => Doing::Write,
                };
                Err(database_error(&self.path, doing, &e))
            }
        }
    }

    /// Runs `work` on `side`'s connection on a blocking thread. It runs to its end even if the
    /// caller stops waiting, so whatever `work` does after its commit (the session map) is done.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        side: Side,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, AuthError> {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || db.run_here(side, work))
            .await
            .map_err(|e| AuthError::Database(format!("{}: {e}", self.path.display())))?
    }

    /// Closes both connections; later calls fail.
    fn close(&self) {
        for side in [Side::Read, Side::Write] {
            let mut slot = self.slot(side);
            if let Slot::Open(conn) = std::mem::replace(&mut *slot, Slot::Closed)
                && let Err((_, e)) = conn.close()
            {
                tracing::warn!(path = %self.path.display(), "closing the sign-in database: {e}");
            }
        }
    }
}

fn lock_sessions(
    sessions: &Mutex<HashMap<String, Session>>,
) -> MutexGuard<'_, HashMap<String, Session>> {
    // A panic while the map was held cannot leave it half-written: every use is one call.
    sessions.lock().unwrap_or_else(|e| e.into_inner())
}

impl AuthDb {
    /// Opens (or creates) the sign-in database at `path` and runs its migrations.
    pub async fn open(path: &Path) -> Result<AuthDb, AuthError> {
        AuthDb::open_waiting(path, BUSY_TIMEOUT).await
    }

    /// [`AuthDb::open`], with writes waiting `busy` for another process's write.
    async fn open_waiting(path: &Path, busy: Duration) -> Result<AuthDb, AuthError> {
        let db = Arc::new(Db {
            path: path.to_owned(),
            busy,
            writer: Mutex::new(Slot::Shut),
            reader: Mutex::new(Slot::Shut),
        });
        db.run(Side::Write, migrate).await?;
        Ok(AuthDb {
            db,
            sessions: Default::default(),
            unknown: Default::default(),
        })
    }

    fn cached_sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        lock_sessions(&self.sessions)
    }

    /// Closes the database.
    pub async fn close(&self) {
        let db = Arc::clone(&self.db);
        if let Err(e) = tokio::task::spawn_blocking(move || db.close()).await {
            tracing::warn!("closing the sign-in database: {e}");
        }
    }

    /// Whether `person` has an account.
    pub async fn has_account(&self, person: &PersonId) -> Result<bool, AuthError> {
        let person = person.as_ref().to_owned();
        let n: i64 = self
            .db
            .run(Side::Read, move |c| {
                c.prepare_cached("SELECT COUNT(*) FROM accounts WHERE person = ?1")?
                    .query_row([person], |r| r.get(0))
            })
            .await?;
        Ok(n > 0)
    }

    /// How many accounts can sign in (hold a password). Zero on a new production: the sign-in page
    /// then says how to create the first admin.
    pub async fn password_count(&self) -> Result<i64, AuthError> {
        self.db
            .run(Side::Read, |c| {
                c.prepare_cached("SELECT COUNT(*) FROM accounts WHERE password_hash IS NOT NULL")?
                    .query_row([], |r| r.get(0))
            })
            .await
    }

    /// Which secrets each account holds: `(person, has password, has PIN)` (never the hashes).
    pub async fn secrets_held(&self) -> Result<Vec<(String, bool, bool)>, AuthError> {
        self.db
            .run(Side::Read, |c| {
                let mut held = c.prepare_cached(
                    "SELECT person, password_hash IS NOT NULL, pin_hash IS NOT NULL FROM accounts",
                )?;
                let rows = held.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                rows.collect()
            })
            .await
    }

    /// Sets a password (at least [`MIN_PASSWORD_CHARS`] characters) or a PIN (4 to 8 digits), and
    /// clears its lockout. The caller logs the change first (a `secret_set` entry).
    pub async fn set_secret(
        &self,
        person: &PersonId,
        which: Secret,
        secret: &str,
    ) -> Result<(), AuthError> {
        check_strength(which, secret)?;
        let hash = hash_secret(which, secret.to_owned()).await?;
        let (h, f, l) = which.columns();
        let person = person.as_ref().to_owned();
        // A new account or a new secret, lockout cleared; a new password also ends the person's
        // API tokens (whoever knew the old one may have made one).
        self.db
            .run(Side::Write, move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.prepare_cached(&format!(
                    "INSERT INTO accounts (person, {h}) VALUES (?1, ?2)
                     ON CONFLICT(person) DO UPDATE SET {h} = excluded.{h}, {f} = 0, {l} = 0"
                ))?
                .execute(params![person, hash])?;
                if which == Secret::Password {
                    tx.prepare_cached("DELETE FROM tokens WHERE person = ?1")?
                        .execute([&person])?;
                }
                tx.commit()
            })
            .await?;
        Ok(())
    }

    /// Checks a password or PIN. A locked account is refused without looking at the secret;
    /// each failure counts, and from the [`FREE_ATTEMPTS`]th on locks the account with backoff.
    ///
    /// A password tried from one of the person's own devices (`device`: the cookie a good
    /// sign-in left there, see [`AuthDb::remember_device`]) counts on that device alone: a
    /// stranger's wrong guesses lock strangers out, never the armorer's own phone. An id with
    /// no account is counted the same way (in memory), so a made-up id answers as a real one.
    pub async fn check(
        &self,
        person: &PersonId,
        which: Secret,
        secret: &str,
        now_ms: i64,
        device: Option<&str>,
    ) -> Result<(), AuthError> {
        let (h, f, l) = which.columns();
        let who = person.as_ref().to_owned();
        let device_hash = device.filter(|_| which == Secret::Password).map(sha256_hex);
        let looked_up = device_hash.clone();
        let row: Option<(Option<String>, i64, i64, Option<Counter>)> = self
            .db
            .run(Side::Read, move |c| {
                let account: Option<(Option<String>, i64, i64)> = c
                    .prepare_cached(&format!(
                        "SELECT {h}, {f}, {l} FROM accounts WHERE person = ?1"
                    ))?
                    .query_row([&who], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                let own = match &looked_up {
                    Some(d) => c
                        .prepare_cached(
                            "SELECT failed, locked_until FROM devices
                             WHERE token_hash = ?1 AND person = ?2",
                        )?
                        .query_row(params![d, who], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?,
                    None => None,
                };
                Ok(account.map(|(hash, failed, locked)| (hash, failed, locked, own)))
            })
            .await?;
        let Some((hash, account_failed, account_locked, own)) = row else {
            // Same work as a real check, so timing does not tell who has an account.
            let _ = hash_secret(which, secret.to_owned()).await;
            return self.unknown_failed(person, which, now_ms);
        };
        // Where this attempt counts: the person's own device's row, or the account's.
        let counter = own.and(device_hash);
        let (failed, locked) = own.unwrap_or((account_failed, account_locked));
        if locked > now_ms {
            return Err(AuthError::Locked {
                person: person.to_string(),
                what: which.word(),
                seconds: (locked - now_ms + 999) / 1000,
                started: false,
            });
        }
        let (ok, outdated) = match hash {
            Some(phc) => verify_secret(which, secret.to_owned(), phc).await?,
            None => (false, false),
        };
        let who = person.as_ref().to_owned();
        if ok {
            // Hashed with other parameters (a PIN set before PINs had their own): hash it again
            // now that the secret is at hand, so the next check costs what it should.
            let rehash = if outdated {
                Some(hash_secret(which, secret.to_owned()).await?)
            } else {
                None
            };
            // Only a write when there is something to write: a write takes SQLite's lock.
            let reset = failed != 0 || locked != 0;
            if rehash.is_some() || reset {
                self.db
                    .run(Side::Write, move |c| {
                        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                        if let Some(hash) = rehash {
                            tx.execute(
                                &format!("UPDATE accounts SET {h} = ?1 WHERE person = ?2"),
                                params![hash, who],
                            )?;
                        }
                        if reset {
                            match &counter {
                                Some(d) => tx.execute(
                                    "UPDATE devices SET failed = 0, locked_until = 0
                                     WHERE token_hash = ?1",
                                    [d],
                                )?,
                                None => tx.execute(
                                    &format!(
                                        "UPDATE accounts SET {f} = 0, {l} = 0 WHERE person = ?1"
                                    ),
                                    [who],
                                )?,
                            };
                        }
                        tx.commit()
                    })
                    .await?;
            }
            return Ok(());
        }
        let failed = failed + 1;
        let until = match lockout_ms(failed) {
            0 => 0,
            ms => now_ms + ms,
        };
        self.db
            .run(Side::Write, move |c| match &counter {
                Some(d) => c
                    .prepare_cached(
                        "UPDATE devices SET failed = ?1, locked_until = ?2 WHERE token_hash = ?3",
                    )?
                    .execute(params![failed, until, d]),
                None => c
                    .prepare_cached(&format!(
                        "UPDATE accounts SET {f} = ?1, {l} = ?2 WHERE person = ?3"
                    ))?
                    .execute(params![failed, until, who]),
            })
            .await?;
        if until > 0 {
            return Err(AuthError::Locked {
                person: person.to_string(),
                what: which.word(),
                seconds: (until - now_ms + 999) / 1000,
                started: true,
            });
        }
        Err(AuthError::Wrong(which.word()))
    }

    /// A failed attempt for an id with no account, counted and locked as an account's would be.
    fn unknown_failed(
        &self,
        person: &PersonId,
        which: Secret,
        now_ms: i64,
    ) -> Result<(), AuthError> {
        let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        if unknown.len() >= UNKNOWN_IDS_KEPT {
            unknown.retain(|_, (_, until)| *until > now_ms);
            if unknown.len() >= UNKNOWN_IDS_KEPT {
                unknown.clear();
            }
        }
        let entry = unknown.entry(person.as_ref().to_owned()).or_insert((0, 0));
        let locked = |until: i64| AuthError::Locked {
            person: person.to_string(),
            what: which.word(),
            seconds: (until - now_ms + 999) / 1000,
            // Nothing to log: nobody holds this id.
            started: false,
        };
        if entry.1 > now_ms {
            return Err(locked(entry.1));
        }
        entry.0 += 1;
        entry.1 = match lockout_ms(entry.0) {
            0 => 0,
            ms => now_ms + ms,
        };
        if entry.1 > 0 {
            return Err(locked(entry.1));
        }
        Err(AuthError::Wrong(which.word()))
    }

    /// Whether `device` (its cookie's token) is one `person` signed in on before.
    pub async fn knows_device(&self, person: &PersonId, device: &str) -> Result<bool, AuthError> {
        let (hash, who) = (sha256_hex(device), person.as_ref().to_owned());
        self.db
            .run(Side::Read, move |c| {
                c.prepare_cached(
                    "SELECT count(*) FROM devices WHERE token_hash = ?1 AND person = ?2",
                )?
                .query_row(params![hash, who], |r| r.get::<_, i64>(0))
                .map(|n| n > 0)
            })
            .await
    }

    /// Remembers the device a person just signed in on (after a good password): returns the
    /// token for its cookie, or `None` when `device` already is theirs. Their later password
    /// attempts from it count apart from everyone else's.
    pub async fn remember_device(
        &self,
        person: &PersonId,
        device: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<String>, AuthError> {
        let who = person.as_ref().to_owned();
        if let Some(d) = device
            && self.knows_device(person, d).await?
        {
            return Ok(None);
        }
        let token = random_token();
        let hash = sha256_hex(&token);
        self.db
            .run(Side::Write, move |c| {
                c.prepare_cached(
                    "INSERT INTO devices (token_hash, person, created_ms) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![hash, who, now_ms])
            })
            .await?;
        Ok(Some(token))
    }

    /// Starts a session; returns its id (the cookie value) and its CSRF token. Any session id
    /// the client held before is ended by the caller: a new id at every sign-in stops fixation.
    pub async fn create_session(
        &self,
        person: &PersonId,
        role: Role,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(String, Session), AuthError> {
        let id = random_token();
        let id_hash = sha256_hex(&id);
        let session = Session {
            person: person.clone(),
            role,
            csrf: random_token(),
            expires_ms: now_ms.saturating_add(ttl_ms),
        };
        let new = session.clone();
        let sessions = Arc::clone(&self.sessions);
        self.db
            .run(Side::Write, move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.prepare_cached("DELETE FROM sessions WHERE expires_ms <= ?1")?
                    .execute([now_ms])?;
                tx.prepare_cached(
                    "INSERT INTO sessions (id_hash, person, role, csrf, created_ms, expires_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    id_hash,
                    new.person.as_ref(),
                    new.role.as_str(),
                    new.csrf,
                    now_ms,
                    new.expires_ms
                ])?;
                tx.commit()?;
                // The map follows the table in this same task, whether or not the caller still
                // waits for it (see the `sessions` field).
                let mut cached = lock_sessions(&sessions);
                cached.retain(|_, s| s.expires_ms > now_ms);
                cached.insert(id_hash, new);
                Ok(())
            })
            .await?;
        Ok((id, session))
    }

    /// The live session with this id, if any. A read only: every request asks this, so it must
    /// not take SQLite's write lock (expired sessions are deleted when someone signs in).
    pub async fn session(&self, id: &str, now_ms: i64) -> Result<Option<Session>, AuthError> {
        let id_hash = sha256_hex(id);
        {
            let mut cached = self.cached_sessions();
            match cached.get(&id_hash) {
                Some(s) if s.expires_ms > now_ms => return Ok(Some(s.clone())),
                Some(_) => {
                    cached.remove(&id_hash);
                    return Ok(None);
                }
                None => {}
            }
        }
        // Not seen since start (a session from before a restart, or no session at all).
        let key = id_hash.clone();
        let row: Option<(String, String, String, i64)> = self
            .db
            .run(Side::Read, move |c| {
                c.prepare_cached(
                    "SELECT person, role, csrf, expires_ms FROM sessions
                     WHERE id_hash = ?1 AND expires_ms > ?2",
                )?
                .query_row(params![key, now_ms], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
            })
            .await?;
        let Some((person, role, csrf, expires_ms)) = row else {
            return Ok(None);
        };
        let (Ok(person), Ok(role)) = (PersonId::parse(&person), Role::parse(&role)) else {
            return Ok(None);
        };
        let session = Session {
            person,
            role,
            csrf,
            expires_ms,
        };
        self.cached_sessions().insert(id_hash, session.clone());
        Ok(Some(session))
    }

    /// Changes the role a session acts in.
    pub async fn set_session_role(&self, id: &str, role: Role) -> Result<(), AuthError> {
        let id_hash = sha256_hex(id);
        let sessions = Arc::clone(&self.sessions);
        self.db
            .run(Side::Write, move |c| {
                c.prepare_cached("UPDATE sessions SET role = ?1 WHERE id_hash = ?2")?
                    .execute(params![role.as_str(), id_hash])?;
                // In this same task, as in `create_session`.
                if let Some(s) = lock_sessions(&sessions).get_mut(&id_hash) {
                    s.role = role;
                }
                Ok(())
            })
            .await
    }

    /// Ends every session of `person` but `keep` (a session id), as after a password change.
    pub async fn end_other_sessions(
        &self,
        person: &PersonId,
        keep: Option<&str>,
    ) -> Result<(), AuthError> {
        let kept = keep.map(sha256_hex).unwrap_or_default();
        self.cached_sessions()
            .retain(|id_hash, s| &s.person != person || *id_hash == kept);
        let person = person.as_ref().to_owned();
        self.db
            .run(Side::Write, move |c| {
                c.prepare_cached("DELETE FROM sessions WHERE person = ?1 AND id_hash != ?2")?
                    .execute(params![person, kept])
            })
            .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn end_session(&self, id: &str) -> Result<(), AuthError> {
        let id_hash = sha256_hex(id);
        // Out of the map first: from here on no request is let in by this session, even if the
        // delete below fails.
        self.cached_sessions().remove(&id_hash);
        self.db
            .run(Side::Write, move |c| {
                c.prepare_cached("DELETE FROM sessions WHERE id_hash = ?1")?
                    .execute([id_hash])
            })
            .await?;
        Ok(())
    }

    /// Creates an API token for `person` acting as `role`, lasting `days` (1 to
    /// [`TOKEN_MAX_DAYS`]); the secret is shown once.
    pub async fn create_token(
        &self,
        person: &PersonId,
        role: Role,
        name: &str,
        now_ms: i64,
        days: u32,
    ) -> Result<String, AuthError> {
        if !(1..=TOKEN_MAX_DAYS).contains(&days) {
            return Err(AuthError::Weak(format!(
                "an API token lasts 1 to {TOKEN_MAX_DAYS} days"
            )));
        }
        let secret = format!("armory_{}", random_token());
        let hash = sha256_hex(&secret);
        let (person, name) = (person.as_ref().to_owned(), name.to_owned());
        let expires = now_ms.saturating_add(i64::from(days) * DAY_MS);
        self.db
            .run(Side::Write, move |c| {
                c.prepare_cached(
                    "INSERT INTO tokens (hash, person, role, name, created_ms, expires_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    hash,
                    person,
                    role.as_str(),
                    name,
                    now_ms,
                    expires
                ])
            })
            .await?;
        Ok(secret)
    }

    /// Who an API token belongs to, and in which role it acts, while it has not expired.
    pub async fn token(
        &self,
        secret: &str,
        now_ms: i64,
    ) -> Result<Option<(PersonId, Role)>, AuthError> {
        let hash = sha256_hex(secret);
        let row: Option<(String, String)> = self
            .db
            .run(Side::Read, move |c| {
                c.prepare_cached(
                    "SELECT person, role FROM tokens WHERE hash = ?1 AND expires_ms > ?2",
                )?
                .query_row(params![hash, now_ms], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
            })
            .await?;
        let Some((person, role)) = row else {
            return Ok(None);
        };
        Ok(match (PersonId::parse(&person), Role::parse(&role)) {
            (Ok(p), Ok(r)) => Some((p, r)),
            _ => None,
        })
    }

    /// The API tokens of `person` (every person's with `None`), newest first, expired ones too.
    pub async fn tokens(&self, person: Option<&PersonId>) -> Result<Vec<TokenInfo>, AuthError> {
        let person = person.map(|p| p.as_ref().to_owned());
        self.db
            .run(Side::Read, move |c| {
                let mut q = c.prepare_cached(
                    "SELECT substr(hash, 1, 12), person, role, name, created_ms, expires_ms
                     FROM tokens WHERE ?1 IS NULL OR person = ?1
                     ORDER BY created_ms DESC",
                )?;
                let rows = q.query_map([person], |r| {
                    Ok(TokenInfo {
                        id: r.get(0)?,
                        person: r.get(1)?,
                        role: r.get(2)?,
                        name: r.get(3)?,
                        created_ms: r.get(4)?,
                        expires_ms: r.get(5)?,
                    })
                })?;
                rows.collect()
            })
            .await
    }

    /// Revokes the token named by `id` (as [`AuthDb::tokens`] lists it) of `person` (anyone's
    /// with `None`); returns whose it was, or `None` if there is no such token.
    pub async fn revoke_token(
        &self,
        person: Option<&PersonId>,
        id: &str,
    ) -> Result<Option<String>, AuthError> {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let (person, prefix) = (
            person.map(|p| p.as_ref().to_owned()),
            id.to_ascii_lowercase(),
        );
        self.db
            .run(Side::Write, move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let owner: Option<String> = tx
                    .prepare_cached(
                        "SELECT person FROM tokens WHERE substr(hash, 1, 12) = ?1
                         AND (?2 IS NULL OR person = ?2)",
                    )?
                    .query_row(params![prefix, person], |r| r.get(0))
                    .optional()?;
                if owner.is_some() {
                    tx.prepare_cached("DELETE FROM tokens WHERE substr(hash, 1, 12) = ?1")?
                        .execute([&prefix])?;
                }
                tx.commit()?;
                Ok(owner)
            })
            .await
    }

    /// Ends every session and API token of `person` (they left the production).
    pub async fn end_person(&self, person: &PersonId) -> Result<(), AuthError> {
        self.cached_sessions().retain(|_, s| &s.person != person);
        let person = person.as_ref().to_owned();
        self.db
            .run(Side::Write, move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.prepare_cached("DELETE FROM sessions WHERE person = ?1")?
                    .execute([&person])?;
                tx.prepare_cached("DELETE FROM tokens WHERE person = ?1")?
                    .execute([&person])?;
                tx.prepare_cached("DELETE FROM devices WHERE person = ?1")?
                    .execute([&person])?;
                tx.commit()
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pin_is_hashed_cheaply_and_an_old_pin_hash_is_outdated() {
        let pin = hash_secret(Secret::Pin, "4821".into()).await.unwrap();
        assert!(pin.starts_with("$argon2id$v=19$m=1024,t=2,p=1$"), "{pin}");
        let password = hash_secret(Secret::Password, "a long password".into())
            .await
            .unwrap();
        assert!(
            password.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{password}"
        );
        // Current hashes verify and are not outdated; a wrong secret does not verify.
        let check = |which, secret: &str, phc: &str| {
            verify_secret(which, secret.to_owned(), phc.to_owned())
        };
        assert_eq!(
            check(Secret::Pin, "4821", &pin).await.unwrap(),
            (true, false)
        );
        assert_eq!(
            check(Secret::Pin, "4822", &pin).await.unwrap(),
            (false, false)
        );
        assert_eq!(
            check(Secret::Password, "a long password", &password)
                .await
                .unwrap(),
            (true, false)
        );
        // A PIN hashed at the password cost (as PINs were at first) still verifies, and is
        // outdated, so a check hashes it again.
        let old_pin = hash_secret(Secret::Password, "4821".into()).await.unwrap();
        assert_eq!(
            check(Secret::Pin, "4821", &old_pin).await.unwrap(),
            (true, true)
        );
    }

    #[tokio::test]
    async fn a_pin_hashed_at_the_old_cost_is_hashed_again_at_its_next_good_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.db");
        let db = AuthDb::open(&path).await.unwrap();
        let alec = PersonId::parse("alec").unwrap();
        db.set_secret(&alec, Secret::Pin, "1111").await.unwrap();
        let file = Connection::open(&path).unwrap();
        let stored = || -> String {
            file.query_row(
                "SELECT pin_hash FROM accounts WHERE person = 'alec'",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert!(stored().contains("m=1024,"));
        // As a PIN set before PINs had their own cost was stored.
        let old = hash_secret(Secret::Password, "1111".into()).await.unwrap();
        file.execute(
            "UPDATE accounts SET pin_hash = ?1 WHERE person = 'alec'",
            [&old],
        )
        .unwrap();
        // A wrong PIN changes nothing of the hash; the right one verifies and is hashed again.
        assert!(db.check(&alec, Secret::Pin, "1112", 0, None).await.is_err());
        assert_eq!(stored(), old);
        db.check(&alec, Secret::Pin, "1111", 0, None).await.unwrap();
        let new = stored();
        assert!(new.contains("m=1024,"), "{new}");
        db.check(&alec, Secret::Pin, "1111", 0, None).await.unwrap();
        assert_eq!(stored(), new, "a current hash is not written again");
        db.close().await;
    }

    const HOUR: i64 = 3_600_000;

    /// How many sessions the file holds, read by a connection of its own.
    fn sessions_in(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn a_write_refused_by_a_full_disk_says_so_and_the_next_write_goes_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.db");
        let db = AuthDb::open(&path).await.unwrap();
        let alec = PersonId::parse("alec").unwrap();
        // The disk fills up: from here the writing connection may not grow the file by one page,
        // and SQLite answers SQLITE_FULL as for a full disk. The limit belongs to that connection
        // alone, so a write can only go through again on a new one.
        db.db
            .run(Side::Write, |c| {
                let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                c.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .await
            .unwrap();
        let mut started = 0;
        let refused = loop {
            match db.create_session(&alec, Role::Armorer, 0, HOUR).await {
                Ok(_) if started < 1000 => started += 1,
                Ok(_) => panic!("a thousand sessions fit in the pages the file had"),
                Err(e) => break e,
            }
        };
        let message = refused.to_string();
        assert!(matches!(refused, AuthError::Storage(_)), "{message}");
        assert!(
            message.contains(&format!("cannot write {}", path.display()))
                && message.ends_with("the disk is full; free space"),
            "{message}"
        );
        assert_eq!(sessions_in(&path), started, "nothing of the refused write");
        // The next write is on a new connection, and lands in the file.
        let (id, _) = db
            .create_session(&alec, Role::Armorer, 0, HOUR)
            .await
            .unwrap();
        assert_eq!(sessions_in(&path), started + 1);
        let reopened = AuthDb::open(&path).await.unwrap();
        assert!(reopened.session(&id, 0).await.unwrap().is_some());
        reopened.close().await;
        db.close().await;
    }

    #[tokio::test]
    async fn a_write_that_finds_auth_db_locked_says_so_and_the_next_write_goes_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.db");
        let db = AuthDb::open_waiting(&path, Duration::from_millis(100))
            .await
            .unwrap();
        let alec = PersonId::parse("alec").unwrap();
        db.set_secret(&alec, Secret::Password, "first password")
            .await
            .unwrap();
        // Another process takes the write lock and keeps it past the wait.
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let refused = [
            db.set_secret(&alec, Secret::Password, "second password")
                .await
                .unwrap_err(),
            db.create_session(&alec, Role::Armorer, 0, HOUR)
                .await
                .unwrap_err(),
        ];
        for e in refused {
            let message = e.to_string();
            assert!(matches!(e, AuthError::Storage(_)), "{message}");
            assert!(
                message.contains(&format!("cannot write {}", path.display()))
                    && message.contains("kept it locked; try again"),
                "{message}"
            );
        }
        // Reads go on meanwhile, and show that the refused writes changed nothing.
        db.check(&alec, Secret::Password, "first password", 0, None)
            .await
            .unwrap();
        other.execute_batch("ROLLBACK").unwrap();
        drop(other);
        // Once the lock is gone, writes go through again and are read back.
        db.set_secret(&alec, Secret::Password, "second password")
            .await
            .unwrap();
        db.check(&alec, Secret::Password, "second password", 0, None)
            .await
            .unwrap();
        db.create_session(&alec, Role::Armorer, 0, HOUR)
            .await
            .unwrap();
        assert_eq!(sessions_in(&path), 1);
        db.close().await;
    }

    #[tokio::test]
    async fn an_auth_db_that_cannot_be_written_is_refused_at_open_naming_the_file() {
        let refusal = |path: &Path| {
            let path = path.to_owned();
            async move {
                match AuthDb::open(&path).await {
                    Ok(_) => panic!("{} opened", path.display()),
                    Err(e) => e.to_string(),
                }
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("no-such-folder");
        let message = refusal(&folder.join("auth.db")).await;
        assert!(
            message.ends_with(&format!(
                "cannot open {}: its folder {} does not exist",
                folder.join("auth.db").display(),
                folder.display()
            )),
            "{message}"
        );

        let path = dir.path().join("auth.db");
        AuthDb::open(&path).await.unwrap().close().await;
        let mode =
            |m| std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(m));
        mode(0o444).unwrap();
        if std::fs::OpenOptions::new().write(true).open(&path).is_err() {
            let message = refusal(&path).await;
            assert!(
                message.ends_with(&format!(
                    "cannot write {}: the file is read-only; make it writable",
                    path.display()
                )),
                "{message}"
            );
        } else {
            // This process writes any file whatever its mode (root): there is nothing to refuse.
            eprintln!("not checked: a read-only auth.db, which this process may write anyway");
        }
        mode(0o644).unwrap();
        AuthDb::open(&path).await.unwrap().close().await;
    }

    #[test]
    fn lockout_backs_off_and_is_capped() {
        assert_eq!(lockout_ms(4), 0);
        assert_eq!(lockout_ms(5), 30_000);
        assert_eq!(lockout_ms(6), 60_000);
        assert_eq!(lockout_ms(100), MAX_LOCK_MS);
    }

    #[tokio::test]
    async fn api_tokens_expire_are_revoked_and_end_with_a_new_password() {
        let dir = tempfile::tempdir().unwrap();
        let db = AuthDb::open(&dir.path().join("auth.db")).await.unwrap();
        let alec = PersonId::parse("alec").unwrap();
        let day = DAY_MS;
        assert!(
            db.create_token(&alec, Role::Performer, "x", 0, 0)
                .await
                .is_err()
        );
        assert!(
            db.create_token(&alec, Role::Performer, "x", 0, 366)
                .await
                .is_err()
        );
        let short = db
            .create_token(&alec, Role::Performer, "phone", 0, 1)
            .await
            .unwrap();
        assert!(db.token(&short, day - 1).await.unwrap().is_some());
        assert!(db.token(&short, day).await.unwrap().is_none(), "expired");
        let other = db
            .create_token(&alec, Role::Performer, "laptop", 0, 30)
            .await
            .unwrap();
        let listed = db.tokens(Some(&alec)).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(
            listed
                .iter()
                .all(|t| t.id.len() == 12 && !other.contains(&t.id))
        );
        let laptop = listed
            .iter()
            .find(|t| t.name == "laptop")
            .unwrap()
            .id
            .clone();
        let sam = PersonId::parse("sam").unwrap();
        assert_eq!(
            db.revoke_token(Some(&sam), &laptop).await.unwrap(),
            None,
            "not sam's"
        );
        assert_eq!(
            db.revoke_token(Some(&alec), &laptop)
                .await
                .unwrap()
                .as_deref(),
            Some("alec")
        );
        assert!(db.token(&other, day).await.unwrap().is_none(), "revoked");
        let third = db
            .create_token(&alec, Role::Performer, "tablet", 0, 30)
            .await
            .unwrap();
        db.set_secret(&alec, Secret::Pin, "1234").await.unwrap();
        assert!(
            db.token(&third, day).await.unwrap().is_some(),
            "a PIN leaves tokens be"
        );
        db.set_secret(&alec, Secret::Password, "a new password!")
            .await
            .unwrap();
        assert!(
            db.token(&third, day).await.unwrap().is_none(),
            "a new password ends them"
        );
        db.close().await;
    }

    #[tokio::test]
    async fn an_auth_db_of_a_newer_armory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.db");
        AuthDb::open(&path).await.unwrap().close().await;
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let message = match AuthDb::open(&path).await {
            Ok(_) => panic!("a newer auth.db opened"),
            Err(e) => e.to_string(),
        };
        assert!(
            message.contains("schema version 99, newer than"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_strangers_wrong_passwords_never_lock_the_persons_own_device() {
        let dir = tempfile::tempdir().unwrap();
        let db = AuthDb::open(&dir.path().join("auth.db")).await.unwrap();
        let hannah = PersonId::parse("hannah").unwrap();
        db.set_secret(&hannah, Secret::Password, "hannah's password")
            .await
            .unwrap();
        // Her phone signs in once and is remembered.
        db.check(&hannah, Secret::Password, "hannah's password", 0, None)
            .await
            .unwrap();
        let phone = db.remember_device(&hannah, None, 0).await.unwrap().unwrap();
        assert_eq!(
            db.remember_device(&hannah, Some(&phone), 0).await.unwrap(),
            None
        );
        // A stranger guesses until her account is locked for strangers.
        for _ in 0..FREE_ATTEMPTS {
            let _ = db.check(&hannah, Secret::Password, "guess", 1, None).await;
        }
        assert!(matches!(
            db.check(&hannah, Secret::Password, "hannah's password", 2, None)
                .await,
            Err(AuthError::Locked { .. })
        ));
        // Her phone still signs her in; a stranger's device cookie of someone else does not help.
        db.check(
            &hannah,
            Secret::Password,
            "hannah's password",
            2,
            Some(&phone),
        )
        .await
        .unwrap();
        assert!(matches!(
            db.check(
                &hannah,
                Secret::Password,
                "hannah's password",
                2,
                Some("made-up")
            )
            .await,
            Err(AuthError::Locked { .. })
        ));
        // Wrong passwords from her phone lock her phone alone.
        for _ in 0..FREE_ATTEMPTS {
            let _ = db
                .check(&hannah, Secret::Password, "typo", 3, Some(&phone))
                .await;
        }
        assert!(matches!(
            db.check(
                &hannah,
                Secret::Password,
                "hannah's password",
                4,
                Some(&phone)
            )
            .await,
            Err(AuthError::Locked { .. })
        ));
        // A made-up id answers as a real one: wrong, wrong, ..., then locked.
        let nobody = PersonId::parse("nobody").unwrap();
        for i in 0..FREE_ATTEMPTS - 1 {
            assert!(matches!(
                db.check(&nobody, Secret::Password, "x", i, None).await,
                Err(AuthError::Wrong(_))
            ));
        }
        assert!(matches!(
            db.check(&nobody, Secret::Password, "x", 10, None).await,
            Err(AuthError::Locked { .. })
        ));
        db.close().await;
    }
}
