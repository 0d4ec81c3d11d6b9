//! The browser stories: the real server, on each store, driven by a real headless
//! Chromium through `browser/run.mjs` (playwright-core), with axe-core run on every
//! page a story opens and screenshots of each main page at desktop and mobile widths
//! written to `target/screenshots/<store>/`.
//!
//! Needs Node.js, `npm ci` in `browser/`, and Chromium (`/usr/bin/chromium`, or
//! `CONCORDAT_CHROMIUM`): `.ci/run` installs them. Without them the stories say loudly
//! that they skipped; with `CONCORDAT_REQUIRE_BROWSER=1` (as CI sets) that is a failure.

use crate::helpers::{PASSWORD, TestApp, test_config};
use concordat_store::testing::TestStore;
use std::io::Write;
use std::path::{Path, PathBuf};

const REQUIRE_BROWSER_VAR: &str = "CONCORDAT_REQUIRE_BROWSER";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> PathBuf {
    std::env::var_os("CONCORDAT_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Why the browser stories cannot run here, if they cannot.
fn missing() -> Option<String> {
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("Node.js (`node`) is not on the PATH".into());
    }
    let modules = workspace().join("browser/node_modules/playwright-core");
    if !modules.exists() {
        return Some("`npm ci` has not been run in browser/".into());
    }
    if !chromium().exists() {
        return Some(format!(
            "no Chromium at {} (Debian's `chromium`, or set CONCORDAT_CHROMIUM)",
            chromium().display()
        ));
    }
    None
}

fn required() -> bool {
    std::env::var(REQUIRE_BROWSER_VAR).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Runs every browser story against `app`; `store` names the screenshots' folder.
async fn run_stories(app: &TestApp, store: &str) {
    let screenshots = workspace().join("target/screenshots").join(store);
    std::fs::create_dir_all(&screenshots).expect("the screenshots folder");
    let mut command = std::process::Command::new("node");
    command
        .arg(workspace().join("browser/run.mjs"))
        .env("CONCORDAT_URL", app.url(""))
        .env("CONCORDAT_PASSWORD", PASSWORD)
        .env("CONCORDAT_SCREENSHOTS", &screenshots)
        .env("CONCORDAT_CHROMIUM", chromium());
    // CONCORDAT_STORIES=text runs only the stories whose names contain it.
    if let Ok(only) = std::env::var("CONCORDAT_STORIES") {
        command.arg(only);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the browser stories' process")
        .expect("node runs");
    let _ = std::io::stderr().write_all(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser stories failed on {store}:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn skip_or_fail() -> bool {
    let Some(why) = missing() else { return false };
    assert!(!required(), "{REQUIRE_BROWSER_VAR} is set but {why}");
    let _ = writeln!(
        std::io::stderr(),
        "\n**********************************************************************\n\
         * Browser stories SKIPPED: {why}.\n\
         * `.ci/run` installs Chromium and runs `npm ci` in browser/; CI sets\n\
         * {REQUIRE_BROWSER_VAR}=1, which turns this into a failure.\n\
         **********************************************************************"
    );
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_stories_on_sqlite() {
    if skip_or_fail() {
        return;
    }
    let app = TestApp::start_with(TestStore::sqlite().await, test_config()).await;
    run_stories(&app, "sqlite").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_stories_on_postgres() {
    if skip_or_fail() {
        return;
    }
    let Some(store) = TestStore::postgres().await else {
        return;
    };
    let app = TestApp::start_with(store, test_config()).await;
    run_stories(&app, "postgres").await;
    app.stop().await;
}
