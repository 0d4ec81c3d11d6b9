//! `concordat serve`: run the server on an initialised store.

use super::{Global, open_store};
use anyhow::Context;
use clap::Args;
use concordat_server::{AppState, ServerConfig};
use concordat_store::Store;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// Run the server.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  concordat serve\n  concordat serve --listen 0.0.0.0:8080 --metrics-listen 127.0.0.1:9090"
)]
pub struct ServeArgs {
    #[command(flatten)]
    pub options: ServeOptions,
    /// Where to listen.
    #[arg(long, env = "CONCORDAT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

/// Options shared by `serve` and `demo`.
#[derive(Debug, Args)]
pub struct ServeOptions {
    /// Where to serve Prometheus metrics (loopback by default; `off` for none).
    #[arg(
        long,
        env = "CONCORDAT_METRICS_LISTEN",
        default_value = "127.0.0.1:9090"
    )]
    metrics_listen: String,
    /// Send cookies without the Secure flag: only for plain HTTP on a host other than
    /// localhost, where browsers would otherwise drop them.
    #[arg(long)]
    insecure_cookies: bool,
    /// The address people reach Concordat at (e.g. https://concordat.example): needed
    /// for single sign-on, whose redirect URI is this followed by /sign-in/sso/callback.
    #[arg(long, env = "CONCORDAT_PUBLIC_URL")]
    public_url: Option<String>,
    /// Accept identity providers at plain http:// addresses: for development only.
    #[arg(long)]
    allow_http_identity_providers: bool,
    /// How long a browser session lasts, in hours.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=168))]
    session_hours: u64,
    /// How long a deconfliction registration is kept unless renewed, in days.
    #[arg(long, default_value_t = 730, value_parser = clap::value_parser!(u64).range(1..=3650))]
    retention_days: u64,
    /// Planned activity of two organisations closer than this, in metres (allowing for
    /// each position's accuracy), can clash.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    clash_distance_m: u32,
    /// How far apart in time, in minutes, two windows may be and still clash.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=1440))]
    clash_margin_minutes: u32,
    /// Activity entered with less notice than this, in minutes, is flagged.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=10_080))]
    advance_notice_minutes: u32,
    /// How long a clash alert may go unacknowledged before it goes to the 24/7 control
    /// rooms, in minutes.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=1440))]
    escalate_after_minutes: u32,
    /// The Daily Briefing Meeting's time in London, HH:MM: each day's pack runs to it,
    /// and the morning job keeps the day's packs once it has passed.
    #[arg(long, default_value = "07:00")]
    briefing_at: String,
    /// Do not run the morning job on this node.
    #[arg(long)]
    no_morning_packs: bool,
}

impl ServeOptions {
    fn config(&self, secure_by_default: bool) -> anyhow::Result<ServerConfig> {
        let public_url = self
            .public_url
            .as_deref()
            .map(concordat_server::sso::PublicUrl::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--public-url: {e}"))?;
        Ok(ServerConfig {
            public_url,
            allow_http_identity_providers: self.allow_http_identity_providers,
            secure_cookies: secure_by_default && !self.insecure_cookies,
            session_ttl: Duration::from_secs(self.session_hours * 3600),
            registration_retention: Duration::from_secs(self.retention_days * 24 * 3600),
            clash_rules: concordat_domain::events::ClashRules {
                distance_m: self.clash_distance_m,
                margin_minutes: self.clash_margin_minutes,
                advance_notice_minutes: self.advance_notice_minutes,
                escalate_after_minutes: self.escalate_after_minutes,
            },
            briefing_at: concordat_domain::briefing::parse_meeting_time(
                "briefing-at",
                &self.briefing_at,
            )
            .map_err(|e| anyhow::anyhow!("--briefing-at: {}", e.message))?,
            morning_packs: !self.no_morning_packs,
            ..ServerConfig::default()
        })
    }
}

pub async fn run(global: &Global, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    if store.organisations().await?.is_empty() {
        anyhow::bail!("the store has no reference data: run `concordat init` first");
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    println!(
        "Concordat is listening on http://{}",
        listener.local_addr()?
    );
    serve_on(global, store, listener, &args.options, true).await?;
    Ok(ExitCode::SUCCESS)
}

/// Serves until Ctrl-C or SIGTERM, then shuts down cleanly.
pub async fn serve_on(
    global: &Global,
    store: Store,
    listener: tokio::net::TcpListener,
    options: &ServeOptions,
    secure_by_default: bool,
) -> anyhow::Result<()> {
    let metrics = if options.metrics_listen == "off" {
        None
    } else {
        let addr: SocketAddr = options.metrics_listen.parse().with_context(|| {
            format!(
                "--metrics-listen: `{}` is not an address or `off`",
                options.metrics_listen
            )
        })?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for metrics on {addr}"))?;
        tracing::info!(address = %addr, "metrics at /metrics");
        Some(listener)
    };
    let rules = super::rules(global)?;
    tracing::info!(version = rules.policy.version(), "policy loaded");
    let state = AppState::new(store.clone(), options.config(secure_by_default)?, rules);
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} registrations in the deconfliction index",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let indexed = state
        .deconfliction
        .rebuild(&store, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await
        .map_err(super::describe)?;
    bar.finish_and_clear();
    tracing::info!(
        registrations = indexed,
        seconds = started.elapsed().as_secs_f64(),
        "deconfliction index rebuilt"
    );
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::new_spinner().with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos} planned activities in the event index",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let planned = state
        .events
        .rebuild(&store, |done| bar.set_position(done))
        .await
        .map_err(super::describe)?;
    bar.finish_and_clear();
    tracing::info!(
        activities = planned,
        seconds = started.elapsed().as_secs_f64(),
        "event index rebuilt"
    );
    concordat_server::serve(state, listener, metrics, shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
