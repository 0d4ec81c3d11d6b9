//! Fresh stores for tests, on both engines.
//!
//! Every store test runs on SQLite (a new file in a temporary folder) and on
//! PostgreSQL (a new schema in the database named by `CONCORDAT_TEST_POSTGRES_URL`,
//! dropped afterwards, so concurrent runs never collide). Without that variable, or
//! when the server does not answer, the PostgreSQL half says loudly that it skipped;
//! with `CONCORDAT_REQUIRE_POSTGRES=1` (set by CI) it fails instead.

use crate::{DatabaseUrl, Store};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use std::io::Write;
use std::str::FromStr;
use std::sync::Once;

/// The variable naming the PostgreSQL database tests may create schemas in.
pub const POSTGRES_URL_VAR: &str = "CONCORDAT_TEST_POSTGRES_URL";
/// The variable that makes a missing PostgreSQL a failure.
pub const REQUIRE_POSTGRES_VAR: &str = "CONCORDAT_REQUIRE_POSTGRES";

/// A store made for one test, and what it takes to remove it.
pub struct TestStore {
    /// The store.
    pub store: Store,
    /// Where it is, for tests that open it a second time.
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(#[allow(dead_code)] tempfile::TempDir),
    Schema { admin_url: String, schema: String },
}

fn postgres_required() -> bool {
    std::env::var(REQUIRE_POSTGRES_VAR).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Says, once per test binary and past the test harness's output capture, that the
/// PostgreSQL tests did not run.
fn announce_skip(why: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n**********************************************************************\n\
             * PostgreSQL store tests SKIPPED: {why}\n\
             * Set {POSTGRES_URL_VAR}=postgres://... to run them;\n\
             * CI sets {REQUIRE_POSTGRES_VAR}=1, which turns this into a failure.\n\
             **********************************************************************"
        );
    });
}

impl TestStore {
    /// A migrated store in a new SQLite file.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = DatabaseUrl::Sqlite(dir.path().join("concordat.db"));
        let store = Store::open(&url).await.expect("a new SQLite store opens");
        Self {
            store,
            url,
            cleanup: Cleanup::Folder(dir),
        }
    }

    /// A migrated store in a new PostgreSQL schema, or `None` (announced) when no
    /// PostgreSQL is configured and none is required.
    pub async fn postgres() -> Option<Self> {
        let admin_url = match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                assert!(
                    !postgres_required(),
                    "{REQUIRE_POSTGRES_VAR} is set but {POSTGRES_URL_VAR} is not"
                );
                announce_skip(&format!("{POSTGRES_URL_VAR} is not set"));
                return None;
            }
        };
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(e) => {
                assert!(
                    !postgres_required(),
                    "PostgreSQL is required but unreachable: {e}"
                );
                announce_skip(&format!("PostgreSQL did not answer ({e})"));
                return None;
            }
        };
        let schema = format!("concordat_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .execute(&mut admin)
            .await
            .expect("create a test schema");
        let _ = admin.close().await;
        let options = PgConnectOptions::from_str(&admin_url)
            .expect("a valid PostgreSQL URL")
            .options([("search_path", schema.as_str())]);
        let store = Store::open_postgres(options)
            .await
            .expect("PostgreSQL store opens");
        store.migrate().await.expect("migrations run on PostgreSQL");
        let url = DatabaseUrl::Postgres(format!(
            "{admin_url}{}options=-c%20search_path%3D{schema}",
            if admin_url.contains('?') { "&" } else { "?" }
        ));
        Some(Self {
            store,
            url,
            cleanup: Cleanup::Schema { admin_url, schema },
        })
    }

    /// Closes the store and removes what it was kept in.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Cleanup::Schema { admin_url, schema } = self.cleanup
            && let Ok(mut admin) = PgConnection::connect(&admin_url).await
        {
            let drop = sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"));
            let _ = sqlx::query(drop).execute(&mut admin).await;
            let _ = admin.close().await;
        }
    }
}

/// Runs each named `async fn(&Store)` as two tests, `NAME::sqlite` and
/// `NAME::postgres`, each on a fresh store. The caller needs tokio as a dev-dependency.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let t = $crate::testing::TestStore::sqlite().await;
                super::$name(&t.store).await;
                t.cleanup().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(t) = $crate::testing::TestStore::postgres().await else { return };
                super::$name(&t.store).await;
                t.cleanup().await;
            }
        }
    )*};
}

impl Store {
    /// Runs raw SQL, as someone with direct access to the database could; for tests
    /// that prove the database or the chain catches tampering.
    pub async fn tamper_for_test(&self, sql: &str) -> Result<u64, crate::StoreError> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match &self.pool {
            crate::db::Pool::Sqlite(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
            crate::db::Pool::Postgres(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
        })
    }

    /// Changes who acted in audit entry `seq`, getting past the append-only triggers the
    /// way an intruder with the database owner's rights could.
    pub async fn tamper_audit_entry_for_test(
        &self,
        seq: i64,
        actor_name: &str,
    ) -> Result<(), crate::StoreError> {
        let name = actor_name.replace('\'', "''");
        let update = format!("UPDATE audit_log SET actor_name = '{name}' WHERE seq = {seq}");
        match self.engine() {
            crate::Engine::Sqlite => {
                self.tamper_for_test("DROP TRIGGER audit_log_no_update")
                    .await?;
                self.tamper_for_test(&update).await?;
            }
            crate::Engine::Postgres => {
                self.tamper_for_test("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
                    .await?;
                self.tamper_for_test(&update).await?;
                self.tamper_for_test("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
                    .await?;
            }
        }
        Ok(())
    }

    /// Removes every audit entry after `seq`, as an intruder with the database owner's
    /// rights could to hide what they did last: the chain that is left is sound.
    pub async fn cut_audit_log_for_test(&self, after: i64) -> Result<(), crate::StoreError> {
        let delete = format!("DELETE FROM audit_log WHERE seq > {after}");
        match self.engine() {
            crate::Engine::Sqlite => {
                self.tamper_for_test("DROP TRIGGER audit_log_no_delete")
                    .await?;
                self.tamper_for_test(&delete).await?;
            }
            crate::Engine::Postgres => {
                self.tamper_for_test("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
                    .await?;
                self.tamper_for_test(&delete).await?;
                self.tamper_for_test("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
                    .await?;
            }
        }
        Ok(())
    }
}
