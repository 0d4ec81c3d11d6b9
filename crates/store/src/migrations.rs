//! The schema history, written once and rendered for each engine.

use crate::Engine;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// Every migration, in order: (version, description, SQL with engine blocks).
const HISTORY: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/0001_foundation.sql"),
    ),
    (
        2,
        "border functions",
        include_str!("../migrations/0002_border_functions.sql"),
    ),
    (3, "tasking", include_str!("../migrations/0003_tasking.sql")),
    (
        4,
        "directions",
        include_str!("../migrations/0004_directions.sql"),
    ),
    (
        5,
        "deconfliction",
        include_str!("../migrations/0005_deconfliction.sql"),
    ),
    (
        6,
        "sign-in lockout",
        include_str!("../migrations/0006_sign_in_lockout.sql"),
    ),
    (
        7,
        "intelligence handling",
        include_str!("../migrations/0007_handling.sql"),
    ),
    (
        8,
        "two-factor sign-in",
        include_str!("../migrations/0008_totp.sql"),
    ),
    (
        9,
        "single sign-on",
        include_str!("../migrations/0009_identity_providers.sql"),
    ),
    (
        10,
        "notifications and webhooks",
        include_str!("../migrations/0010_notifications.sql"),
    ),
    (
        11,
        "event deconfliction",
        include_str!("../migrations/0011_events.sql"),
    ),
    (
        12,
        "daily management packs",
        include_str!("../migrations/0012_briefing.sql"),
    ),
];

/// The migrator for `engine`, with each migration rendered for it.
pub(crate) fn migrator(engine: Engine) -> Migrator {
    let migrations = HISTORY
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                (*description).into(),
                MigrationType::Simple,
                sqlx::AssertSqlSafe(render(sql, engine)).into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// Keeps the lines outside `-- engine:` blocks and those inside blocks for `engine`.
/// A block runs from `-- engine: sqlite` or `-- engine: postgres` to the next
/// `-- engine:` line; `-- engine: all` returns to common SQL.
fn render(sql: &str, engine: Engine) -> String {
    let mut keep = true;
    let mut out = String::with_capacity(sql.len());
    for line in sql.lines() {
        if let Some(which) = line.trim().strip_prefix("-- engine:") {
            keep = match which.trim() {
                "all" => true,
                "sqlite" => engine == Engine::Sqlite,
                "postgres" => engine == Engine::Postgres,
                // Unknown names are caught by the test below, never at run time.
                _ => false,
            };
            continue;
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_blocks_are_kept_only_for_their_engine() {
        let sql = "A;\n-- engine: sqlite\nS;\n-- engine: postgres\nP;\n-- engine: all\nB;\n";
        assert_eq!(render(sql, Engine::Sqlite), "A;\nS;\nB;\n");
        assert_eq!(render(sql, Engine::Postgres), "A;\nP;\nB;\n");
    }

    #[test]
    fn every_engine_block_names_a_known_engine() {
        for (_, _, sql) in HISTORY {
            for line in sql.lines() {
                if let Some(which) = line.trim().strip_prefix("-- engine:") {
                    assert!(
                        ["all", "sqlite", "postgres"].contains(&which.trim()),
                        "unknown engine block {which:?}"
                    );
                }
            }
        }
    }
}
