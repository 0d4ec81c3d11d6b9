//! The one place that knows there are two engines.
//!
//! Everything else in the store writes its SQL once, with `$1..$N` placeholders and
//! only TEXT and BIGINT values, and runs it through the methods here, which bind the
//! parameters and dispatch to the engine's typed pool or transaction. Rows decode into
//! structs deriving `sqlx::FromRow`, which work for both engines.

use crate::{Engine, StoreError};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Database, Encode, FromRow, Postgres, Sqlite, Transaction, Type};

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}
impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}

/// The parameters of one statement: `params![a, b, c]`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::db::Param::from($value)),*]
    };
}
pub(crate) use params;

fn bind_all<'q, DB: Database>(
    mut query: sqlx::query::Query<'q, DB, <DB as Database>::Arguments>,
    params: Vec<Param>,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments>
where
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    for param in params {
        query = match param {
            Param::Text(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
        };
    }
    query
}

fn bind_all_as<'q, DB: Database, R>(
    mut query: sqlx::query::QueryAs<'q, DB, R, <DB as Database>::Arguments>,
    params: Vec<Param>,
) -> sqlx::query::QueryAs<'q, DB, R, <DB as Database>::Arguments>
where
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    for param in params {
        query = match param {
            Param::Text(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
        };
    }
    query
}

/// A row type both engines can decode.
pub(crate) trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// The connection pool of one engine.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$c` bound to whichever engine's handle `$target` holds.
macro_rules! dispatch {
    ($target:expr, $c:ident => $body:expr) => {
        match $target {
            Handle::Sqlite($c) => $body,
            Handle::Postgres($c) => $body,
        }
    };
}

/// Implements the statement methods over a type whose variants give an executor.
macro_rules! statements {
    ($ty:ty, $handle:ident) => {
        // Readers and transactions get the same methods; not every one is used by both.
        #[allow(dead_code)]
        impl $ty {
            /// Runs a statement; returns the number of rows it changed.
            pub(crate) async fn execute(
                &mut self,
                sql: &'static str,
                params: Vec<Param>,
            ) -> Result<u64, StoreError> {
                Ok(dispatch!(self.$handle(), c => bind_all(sqlx::query(sql), params)
                    .execute(c)
                    .await?
                    .rows_affected()))
            }

            /// Runs a query and decodes every row.
            pub(crate) async fn fetch_all<R: AnyRow>(
                &mut self,
                sql: &'static str,
                params: Vec<Param>,
            ) -> Result<Vec<R>, StoreError> {
                Ok(dispatch!(self.$handle(), c => bind_all_as(sqlx::query_as::<_, R>(sql), params)
                    .fetch_all(c)
                    .await?))
            }

            /// Runs a query and decodes its row, if any.
            pub(crate) async fn fetch_optional<R: AnyRow>(
                &mut self,
                sql: &'static str,
                params: Vec<Param>,
            ) -> Result<Option<R>, StoreError> {
                Ok(dispatch!(self.$handle(), c => bind_all_as(sqlx::query_as::<_, R>(sql), params)
                    .fetch_optional(c)
                    .await?))
            }

            /// Runs a query that must return one row.
            pub(crate) async fn fetch_one<R: AnyRow>(
                &mut self,
                sql: &'static str,
                params: Vec<Param>,
            ) -> Result<R, StoreError> {
                self.fetch_optional(sql, params)
                    .await?
                    .ok_or(StoreError::NotFound)
            }
        }
    };
}

enum Handle<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

/// A connection checked out of the pool for reading.
pub(crate) struct Reader {
    conn: Conn,
}

enum Conn {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl Reader {
    fn handle(&mut self) -> Handle<'_> {
        match &mut self.conn {
            Conn::Sqlite(c) => Handle::Sqlite(&mut *c),
            Conn::Postgres(c) => Handle::Postgres(&mut *c),
        }
    }
}

statements!(Reader, handle);

/// A transaction that writes. It can only be committed together with an audit entry
/// (see `WriteTx::commit` in lib.rs), so no change reaches the store unaudited.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    fn handle(&mut self) -> Handle<'_> {
        match self {
            Tx::Sqlite(t) => Handle::Sqlite(&mut *t),
            Tx::Postgres(t) => Handle::Postgres(&mut *t),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

statements!(Tx, handle);

/// Either a reader's connection or a write transaction, for queries that both reads
/// and writes need (a write that checks what is there before it changes it).
pub(crate) struct Exec<'a>(Handle<'a>);

impl Exec<'_> {
    fn handle(&mut self) -> Handle<'_> {
        match &mut self.0 {
            Handle::Sqlite(c) => Handle::Sqlite(c),
            Handle::Postgres(c) => Handle::Postgres(c),
        }
    }
}

statements!(Exec<'_>, handle);

impl Reader {
    /// The connection, for queries shared with write transactions.
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        Exec(self.handle())
    }
}

impl Tx {
    /// The transaction, for queries shared with readers.
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        Exec(self.handle())
    }
}

impl Pool {
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    pub(crate) async fn reader(&self) -> Result<Reader, StoreError> {
        let conn = match self {
            Pool::Sqlite(p) => Conn::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Conn::Postgres(p.acquire().await?),
        };
        Ok(Reader { conn })
    }

    /// Begins a write. SQLite takes its write lock at once (`BEGIN IMMEDIATE`), so two
    /// writers queue on the busy timeout instead of failing when one upgrades a read
    /// lock; PostgreSQL serialises the parts that need it with row and advisory locks.
    pub(crate) async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// The statement that makes appends to the audit chain one at a time: on PostgreSQL a
/// transaction-scoped advisory lock; on SQLite the write lock is already held.
pub(crate) fn audit_chain_lock(engine: Engine) -> Option<&'static str> {
    match engine {
        Engine::Sqlite => None,
        Engine::Postgres => Some("SELECT pg_advisory_xact_lock(7175826451)"),
    }
}

#[cfg(test)]
mod tests {
    /// Every statement is a `&'static str` with `$N` placeholders and its values bound
    /// (sqlx 0.9 refuses anything else at compile time), except where SQL is built at
    /// run time under `AssertSqlSafe`: only the migrations (text compiled into the
    /// binary) and the test harness (schema names it generates itself). A new use
    /// anywhere else fails here, so user input can never reach SQL as text.
    #[test]
    fn sql_is_only_ever_built_from_constants_and_bound_parameters() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        for entry in std::fs::read_dir(&src).expect("src") {
            let path = entry.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".rs") || matches!(name, "migrations.rs" | "testing.rs" | "db.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            for needle in [
                "AssertSqlSafe",
                "format!(\"SELECT",
                "format!(\"INSERT",
                "format!(\"UPDATE",
                "format!(\"DELETE",
            ] {
                if text.contains(needle) {
                    offenders.push(format!("{name}: {needle}"));
                }
            }
        }
        assert!(offenders.is_empty(), "SQL built from text: {offenders:?}");
    }
}
