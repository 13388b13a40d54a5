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
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, SqliteConnection};
use std::path::Path;

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
    },
    #[error("{0}")]
    Weak(String),
    #[error("sign-in database error: {0}")]
    Database(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::Database(e.to_string())
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
const MIGRATIONS: &[&str] = &["
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
"];

/// The sign-in database.
#[derive(Clone)]
pub struct AuthDb {
    pool: SqlitePool,
    /// Sessions looked up or created since start, by id hash: a page view or an API call reads
    /// its session here, not from the database. Only this process writes `sessions` (the serving
    /// process holds the log's writer lock; `armory user` never touches sessions), and every
    /// write goes through a method below that updates this map in the same call, so it is never
    /// behind the table. Expired sessions leave it when looked up or at the next sign-in.
    sessions: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Session>>>,
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

async fn migrate(conn: &mut SqliteConnection) -> Result<(), AuthError> {
    let done: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *conn)
        .await?;
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::raw_sql(&format!("PRAGMA user_version = {}", n + 1))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

impl AuthDb {
    /// Opens (or creates) the sign-in database at `path` and runs its migrations.
    pub async fn open(path: &Path) -> Result<AuthDb, AuthError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let mut conn = pool.acquire().await?;
        migrate(&mut conn).await?;
        drop(conn);
        Ok(AuthDb {
            pool,
            sessions: Default::default(),
        })
    }

    fn cached_sessions(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Session>> {
        // A panic while the map was held cannot leave it half-written: every use is one call.
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the database.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether `person` has an account.
    pub async fn has_account(&self, person: &PersonId) -> Result<bool, AuthError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE person = ?")
            .bind(person.as_ref())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// How many accounts can sign in (hold a password). Zero on a new production: the sign-in page
    /// then says how to create the first admin.
    pub async fn password_count(&self) -> Result<i64, AuthError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE password_hash IS NOT NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Which secrets each account holds: `(person, has password, has PIN)` (never the hashes).
    pub async fn secrets_held(&self) -> Result<Vec<(String, bool, bool)>, AuthError> {
        let rows = sqlx::query(
            "SELECT person, password_hash IS NOT NULL AS pw, pin_hash IS NOT NULL AS pin FROM accounts",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("person")?, r.try_get("pw")?, r.try_get("pin")?)))
            .collect()
    }

    /// Sets a password (at least [`MIN_PASSWORD_CHARS`] characters) or a PIN (4 to 8 digits), and
    /// clears its lockout.
    pub async fn set_secret(
        &self,
        person: &PersonId,
        which: Secret,
        secret: &str,
    ) -> Result<(), AuthError> {
        match which {
            Secret::Password if secret.chars().count() < MIN_PASSWORD_CHARS => {
                return Err(AuthError::Weak(format!(
                    "a password must be at least {MIN_PASSWORD_CHARS} characters"
                )));
            }
            Secret::Pin
                if !(4..=8).contains(&secret.len())
                    || !secret.bytes().all(|b| b.is_ascii_digit()) =>
            {
                return Err(AuthError::Weak("a PIN must be 4 to 8 digits".into()));
            }
            _ => {}
        }
        let hash = hash_secret(which, secret.to_owned()).await?;
        let (h, f, l) = which.columns();
        sqlx::query("INSERT INTO accounts (person) VALUES (?) ON CONFLICT(person) DO NOTHING")
            .bind(person.as_ref())
            .execute(&self.pool)
            .await?;
        sqlx::query(&format!(
            "UPDATE accounts SET {h} = ?, {f} = 0, {l} = 0 WHERE person = ?"
        ))
        .bind(hash)
        .bind(person.as_ref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Checks a password or PIN. A locked account is refused without looking at the secret;
    /// each failure counts, and from the [`FREE_ATTEMPTS`]th on locks the account with backoff.
    pub async fn check(
        &self,
        person: &PersonId,
        which: Secret,
        secret: &str,
        now_ms: i64,
    ) -> Result<(), AuthError> {
        let (h, f, l) = which.columns();
        let row = sqlx::query(&format!(
            "SELECT {h} AS hash, {f} AS failed, {l} AS locked FROM accounts WHERE person = ?"
        ))
        .bind(person.as_ref())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // Same work as a real check, so timing does not tell who has an account.
            let _ = hash_secret(which, secret.to_owned()).await;
            return Err(AuthError::Wrong(which.word()));
        };
        let locked: i64 = row.try_get("locked")?;
        if locked > now_ms {
            return Err(AuthError::Locked {
                person: person.to_string(),
                what: which.word(),
                seconds: (locked - now_ms + 999) / 1000,
            });
        }
        let hash: Option<String> = row.try_get("hash")?;
        let (ok, outdated) = match hash {
            Some(phc) => verify_secret(which, secret.to_owned(), phc).await?,
            None => (false, false),
        };
        let failed: i64 = row.try_get("failed")?;
        if ok && outdated {
            // Hashed with other parameters (a PIN set before PINs had their own): hash it again
            // now that the secret is at hand, so the next check costs what it should.
            let hash = hash_secret(which, secret.to_owned()).await?;
            sqlx::query(&format!("UPDATE accounts SET {h} = ? WHERE person = ?"))
                .bind(hash)
                .bind(person.as_ref())
                .execute(&self.pool)
                .await?;
        }
        if ok {
            // Only a write when there is something to reset: a write takes SQLite's lock.
            if failed != 0 || locked != 0 {
                sqlx::query(&format!(
                    "UPDATE accounts SET {f} = 0, {l} = 0 WHERE person = ?"
                ))
                .bind(person.as_ref())
                .execute(&self.pool)
                .await?;
            }
            return Ok(());
        }
        let failed = failed + 1;
        let until = match lockout_ms(failed) {
            0 => 0,
            ms => now_ms + ms,
        };
        sqlx::query(&format!(
            "UPDATE accounts SET {f} = ?, {l} = ? WHERE person = ?"
        ))
        .bind(failed)
        .bind(until)
        .bind(person.as_ref())
        .execute(&self.pool)
        .await?;
        if until > 0 {
            return Err(AuthError::Locked {
                person: person.to_string(),
                what: which.word(),
                seconds: (until - now_ms + 999) / 1000,
            });
        }
        Err(AuthError::Wrong(which.word()))
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
        sqlx::query("DELETE FROM sessions WHERE expires_ms <= ?")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        self.cached_sessions().retain(|_, s| s.expires_ms > now_ms);
        let id = random_token();
        let session = Session {
            person: person.clone(),
            role,
            csrf: random_token(),
            expires_ms: now_ms.saturating_add(ttl_ms),
        };
        sqlx::query(
            "INSERT INTO sessions (id_hash, person, role, csrf, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(sha256_hex(&id))
        .bind(person.as_ref())
        .bind(role.as_str())
        .bind(&session.csrf)
        .bind(now_ms)
        .bind(session.expires_ms)
        .execute(&self.pool)
        .await?;
        self.cached_sessions()
            .insert(sha256_hex(&id), session.clone());
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
        let row = sqlx::query(
            "SELECT person, role, csrf, expires_ms FROM sessions WHERE id_hash = ? AND expires_ms > ?",
        )
        .bind(&id_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let person: String = row.try_get("person")?;
        let role: String = row.try_get("role")?;
        let (Ok(person), Ok(role)) = (PersonId::parse(&person), Role::parse(&role)) else {
            return Ok(None);
        };
        let session = Session {
            person,
            role,
            csrf: row.try_get("csrf")?,
            expires_ms: row.try_get("expires_ms")?,
        };
        self.cached_sessions().insert(id_hash, session.clone());
        Ok(Some(session))
    }

    /// Changes the role a session acts in.
    pub async fn set_session_role(&self, id: &str, role: Role) -> Result<(), AuthError> {
        let id_hash = sha256_hex(id);
        sqlx::query("UPDATE sessions SET role = ? WHERE id_hash = ?")
            .bind(role.as_str())
            .bind(&id_hash)
            .execute(&self.pool)
            .await?;
        if let Some(s) = self.cached_sessions().get_mut(&id_hash) {
            s.role = role;
        }
        Ok(())
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
        sqlx::query("DELETE FROM sessions WHERE person = ? AND id_hash != ?")
            .bind(person.as_ref())
            .bind(&kept)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn end_session(&self, id: &str) -> Result<(), AuthError> {
        let id_hash = sha256_hex(id);
        // Out of the map first: from here on no request is let in by this session, even if the
        // delete below fails.
        self.cached_sessions().remove(&id_hash);
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(&id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Creates an API token for `person` acting as `role`; the secret is shown once.
    pub async fn create_token(
        &self,
        person: &PersonId,
        role: Role,
        name: &str,
        now_ms: i64,
    ) -> Result<String, AuthError> {
        let secret = format!("armory_{}", random_token());
        sqlx::query(
            "INSERT INTO tokens (hash, person, role, name, created_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(sha256_hex(&secret))
        .bind(person.as_ref())
        .bind(role.as_str())
        .bind(name)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(secret)
    }

    /// Who an API token belongs to, and in which role it acts.
    pub async fn token(&self, secret: &str) -> Result<Option<(PersonId, Role)>, AuthError> {
        let row = sqlx::query("SELECT person, role FROM tokens WHERE hash = ?")
            .bind(sha256_hex(secret))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let person: String = row.try_get("person")?;
        let role: String = row.try_get("role")?;
        Ok(match (PersonId::parse(&person), Role::parse(&role)) {
            (Ok(p), Ok(r)) => Some((p, r)),
            _ => None,
        })
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
        let dir = std::env::temp_dir().join(format!("armory-auth-{}", random_token()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = AuthDb::open(&dir.join("auth.db")).await.unwrap();
        let alec = PersonId::parse("alec").unwrap();
        db.set_secret(&alec, Secret::Pin, "1111").await.unwrap();
        let stored = || async {
            sqlx::query_scalar::<_, String>("SELECT pin_hash FROM accounts WHERE person = 'alec'")
                .fetch_one(&db.pool)
                .await
                .unwrap()
        };
        assert!(stored().await.contains("m=1024,"));
        // As a PIN set before PINs had their own cost was stored.
        let old = hash_secret(Secret::Password, "1111".into()).await.unwrap();
        sqlx::query("UPDATE accounts SET pin_hash = ? WHERE person = 'alec'")
            .bind(&old)
            .execute(&db.pool)
            .await
            .unwrap();
        // A wrong PIN changes nothing of the hash; the right one verifies and is hashed again.
        assert!(db.check(&alec, Secret::Pin, "1112", 0).await.is_err());
        assert_eq!(stored().await, old);
        db.check(&alec, Secret::Pin, "1111", 0).await.unwrap();
        let new = stored().await;
        assert!(new.contains("m=1024,"), "{new}");
        db.check(&alec, Secret::Pin, "1111", 0).await.unwrap();
        assert_eq!(stored().await, new, "a current hash is not written again");
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lockout_backs_off_and_is_capped() {
        assert_eq!(lockout_ms(4), 0);
        assert_eq!(lockout_ms(5), 30_000);
        assert_eq!(lockout_ms(6), 60_000);
        assert_eq!(lockout_ms(100), MAX_LOCK_MS);
    }
}
