//! Concordat's persistence: one interface over two engines.
//!
//! [`Store`] keeps everything Concordat knows, in SQLite (the embedded default: one
//! file, WAL journal, foreign keys on, full sync) or PostgreSQL (for shared
//! deployments). Both run the same migrations and pass the same test suite. The
//! choice of engine is made once, when the store is opened; after that, callers never
//! see it.
//!
//! Every change goes through a [`WriteTx`], which can only be committed together with
//! an audit entry: the entry is appended to the hash-chained audit log in the same
//! transaction as the change it records, so the two are written or lost together.
#![warn(missing_docs)]

mod audit;
mod briefing;
mod db;
mod deconfliction;
mod directions;
mod events;
mod handling;
mod migrations;
mod notifications;
mod operations;
mod registry;
mod sessions;
mod sso;
mod tasking;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

pub use audit::{AuditFilter, ChainReport};
pub use briefing::PackSummary;
pub use deconfliction::{IndexEntry, NewRegistration, StoredHit, StoredRegistration};
pub use directions::{DirectionHistoryEntry, DirectionScope};
pub use events::{NewActivity, StoredActivity, StoredClash};
pub use handling::ShareRecord;
pub use notifications::{
    AttemptOutcome, ClaimedDelivery, Delivery, InboxFilter, NewDelivery, NewWebhook, Notification,
    Webhook,
};
pub use operations::{InvestigationOnSubject, NewOperation, OperationSummary};
pub use sessions::{ApiToken, NewApiToken, NewSession, SessionRecord, TokenHash};
pub use sso::{PendingSso, SsoOrganisation, StoredIdentityProvider};
pub use tasking::{
    ChargingProposal, DecisionRecord, NewSubject, RequestBox, RequestHistoryEntry, event_name,
};
pub use users::{NewUser, StoredTotp, UserFilter, UserWithSecret};

use concordat_domain::audit::{AuditEntry, AuditRecord};
use db::{Pool, Tx};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite, embedded, one file.
    Sqlite,
    /// PostgreSQL, over the network.
    Postgres,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        })
    }
}

/// Where the store lives: a SQLite file or a PostgreSQL URL. Its `Debug` and
/// `Display` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;

    /// Accepts `postgres://...`, `postgresql://...`, `sqlite://PATH`, `sqlite:PATH` or a
    /// plain file path (taken as SQLite).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            PgConnectOptions::from_str(s).map_err(|e| {
                StoreError::Config(format!("database URL is not a valid PostgreSQL URL: {e}"))
            })?;
            return Ok(Self::Postgres(s.to_owned()));
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        if path.is_empty() || path.contains("://") {
            return Err(StoreError::Config(
                "database URL must be postgres://..., sqlite://PATH or a file path".to_owned(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => match PgConnectOptions::from_str(url) {
                Ok(o) => write!(
                    f,
                    "postgres://{}@{}:{}/{}",
                    o.get_username(),
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or("")
                ),
                Err(_) => f.write_str("postgres://<unparseable>"),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record asked for does not exist.
    #[error("not found")]
    NotFound,
    /// The change conflicts with what is stored (a duplicate, or a missing reference).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored row could not be read back into a valid value.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The store could not be opened as configured.
    #[error("{0}")]
    Config(String),
    /// The schema could not be brought up to date.
    #[error("migrating the schema failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Self::Conflict("a record with the same key already exists".to_owned())
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                Self::Conflict("the change refers to a record that does not exist".to_owned())
            }
            _ => Self::Database(error),
        }
    }
}

/// Turns a stored text value back into a domain value, reporting corruption.
pub(crate) fn parse_column<T: FromStr>(column: &str, value: &str) -> Result<T, StoreError>
where
    T::Err: fmt::Display,
{
    value
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("{column} = {value:?}: {e}")))
}

/// A stored value that no longer parses: the store is corrupt.
pub(crate) fn corrupt(e: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Turns stored microseconds back into an instant, reporting corruption.
pub(crate) fn parse_instant(
    column: &str,
    micros: i64,
) -> Result<concordat_domain::time::Timestamp, StoreError> {
    concordat_domain::time::Timestamp::from_micros(micros)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} = {micros} is out of range")))
}

/// Everything Concordat keeps. Cheap to clone: clones share one pool.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    hooks: Arc<CommitHooks>,
}

/// What to call after a transaction that wrote notifications commits: the server
/// wakes its live streams and its webhook dispatcher with it, so they need not wait
/// for their next look at the store. Shared by every clone of the store.
#[derive(Default)]
struct CommitHooks {
    notified: RwLock<Option<Arc<dyn Fn() + Send + Sync>>>,
}

impl CommitHooks {
    fn after_notifications(&self) {
        let hook = match self.notified.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if let Some(hook) = hook {
            hook();
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Store({})", self.engine())
    }
}

impl Store {
    /// Opens the store at `url`, creating a SQLite file if absent, and brings its
    /// schema up to date.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let store = match url {
            DatabaseUrl::Sqlite(path) => Self::open_sqlite(path).await?,
            DatabaseUrl::Postgres(url) => {
                let options = PgConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
                Self::open_postgres(options).await?
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_sqlite(path: &std::path::Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Config(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(15));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
            hooks: Arc::default(),
        })
    }

    pub(crate) async fn open_postgres(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await?;
        Ok(Self {
            pool: Pool::Postgres(pool),
            hooks: Arc::default(),
        })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = migrations::migrator(self.engine());
        match &self.pool {
            Pool::Sqlite(p) => migrator.run(p).await?,
            Pool::Postgres(p) => migrator.run(p).await?,
        }
        Ok(())
    }

    /// The engine this store runs on.
    pub fn engine(&self) -> Engine {
        self.pool.engine()
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut reader = self.pool.reader().await?;
        reader.execute("SELECT 1", vec![]).await?;
        Ok(())
    }

    /// Begins a change. Nothing is stored until [`WriteTx::commit`].
    pub async fn write(&self) -> Result<WriteTx, StoreError> {
        Ok(WriteTx {
            tx: self.pool.begin_write().await?,
            engine: self.engine(),
            notified: false,
            hooks: self.hooks.clone(),
        })
    }

    /// Calls `hook` (in this process) after each transaction that wrote notifications
    /// commits, replacing any hook set before. It must return at once.
    pub fn on_notifications_committed(&self, hook: impl Fn() + Send + Sync + 'static) {
        let hook: Arc<dyn Fn() + Send + Sync> = Arc::new(hook);
        match self.hooks.notified.write() {
            Ok(mut guard) => *guard = Some(hook),
            Err(poisoned) => *poisoned.into_inner() = Some(hook),
        }
    }

    /// Closes every connection; waits for those in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) async fn reader(&self) -> Result<db::Reader, StoreError> {
        self.pool.reader().await
    }
}

/// A change in progress. Dropping it without committing rolls everything back.
pub struct WriteTx {
    tx: Tx,
    engine: Engine,
    /// Whether this change wrote notifications, to number at commit.
    notified: bool,
    hooks: Arc<CommitHooks>,
}

impl WriteTx {
    /// Appends `entry` to the audit log and commits the whole change with it.
    pub async fn commit(mut self, entry: AuditEntry) -> Result<AuditRecord, StoreError> {
        let record = self.audit(entry).await?;
        // After the audit append, which holds the chain's lock to the end: see
        // `number_notifications`.
        if self.notified {
            self.number_notifications().await?;
        }
        self.tx.commit().await?;
        if self.notified {
            self.hooks.after_notifications();
        }
        Ok(record)
    }

    /// Appends an audit entry now, inside this change, for changes that record more
    /// than one entry. The change still needs [`WriteTx::commit`].
    pub async fn audit(&mut self, entry: AuditEntry) -> Result<AuditRecord, StoreError> {
        audit::append(&mut self.tx, self.engine, entry).await
    }
}
