//! Concordat's HTTP server: the JSON API under `/api/v1` (described by the OpenAPI
//! document at `/api/openapi.json`), the server-rendered web pages, authentication and
//! authorisation, health checks and metrics.
//!
//! The binary calls [`serve`] with a bound listener; tests bind port 0 and call the
//! same function. Handlers are short: extract, turn input into domain types, call the
//! store, render. Every error leaves as an RFC 9457 problem document (see [`error`]).
#![warn(missing_docs)]

pub mod accounts;
mod api;
pub mod auth;
pub mod authz;
pub mod briefing;
pub mod deconfliction;
pub mod directions;
pub mod error;
pub mod events;
pub mod export;
pub mod handling;
mod limits;
pub mod notify;
pub mod reads;
pub mod rules;
pub mod sso;
pub mod tasking;
pub mod telemetry;
mod web;
pub mod webhooks;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use concordat_store::Store;
use error::{AppError, problem_response};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use limits::SignInLimiter;
pub use webhooks::install_tls_provider;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Whether cookies are marked `Secure` (and HSTS sent). Turn off only for plain
    /// HTTP on a host other than localhost, behind no TLS.
    pub secure_cookies: bool,
    /// How long a browser session lasts.
    pub session_ttl: Duration,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How long a request may take before it is answered with 503.
    pub request_timeout: Duration,
    /// How often the background job looks for overdue requests.
    pub deadline_sweep_every: Duration,
    /// How long after its deadline an undecided request expires.
    pub expire_after: Duration,
    /// How long a deconfliction registration is kept, unless renewed.
    pub registration_retention: Duration,
    /// When planned activity clashes, and when an unacknowledged alert escalates.
    pub clash_rules: concordat_domain::events::ClashRules,
    /// The address people reach the server at, from which the single sign-on redirect
    /// URI is made. Without it, single sign-on is not offered.
    pub public_url: Option<sso::PublicUrl>,
    /// Whether identity providers may be reached over plain `http://`: for tests and
    /// local development only. Production needs `https://`.
    pub allow_http_identity_providers: bool,
    /// How often a live notification stream looks in the store for notifications
    /// committed by other nodes (those of this node wake it at once).
    pub notification_poll_every: Duration,
    /// How often a live notification stream sends a keep-alive comment.
    pub notification_keep_alive: Duration,
    /// How often the webhook dispatcher looks for deliveries due (notices committed by
    /// this node wake it at once).
    pub webhook_poll_every: Duration,
    /// The wait after a webhook's first failed attempt; it doubles with each failure
    /// (with jitter), up to six hours.
    pub webhook_backoff_base: Duration,
    /// How many attempts a delivery gets before it fails for good.
    pub webhook_attempts: u32,
    /// How long one attempt may take.
    pub webhook_timeout: Duration,
    /// The Daily Briefing Meeting's time (London): the cut-off of each day's pack, and
    /// when the morning job keeps the day's packs.
    pub briefing_at: chrono::NaiveTime,
    /// Whether this node runs the morning job.
    pub morning_packs: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            session_ttl: Duration::from_secs(12 * 60 * 60),
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            deadline_sweep_every: Duration::from_secs(60),
            expire_after: Duration::from_secs(14 * 24 * 60 * 60),
            registration_retention: Duration::from_secs(730 * 24 * 60 * 60),
            clash_rules: concordat_domain::events::ClashRules::default(),
            public_url: None,
            allow_http_identity_providers: false,
            notification_poll_every: Duration::from_secs(2),
            notification_keep_alive: Duration::from_secs(15),
            webhook_poll_every: Duration::from_secs(5),
            webhook_backoff_base: Duration::from_secs(30),
            webhook_attempts: 10,
            webhook_timeout: Duration::from_secs(10),
            briefing_at: chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default(),
            morning_packs: true,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The configuration.
    pub config: Arc<ServerConfig>,
    /// Sign-in attempt limits.
    pub sign_in_limiter: Arc<SignInLimiter>,
    /// The registry and the policy.
    pub rules: Arc<rules::Rules>,
    /// The in-memory deconfliction index (rebuild it from the store before serving).
    pub deconfliction: Arc<deconfliction::Deconfliction>,
    /// The in-memory index of planned activity (loaded from the store on first use).
    pub events: Arc<events::Events>,
    /// What wakes live streams and the webhook dispatcher, and tells them to stop.
    pub hub: Arc<notify::Hub>,
    /// The last date this node kept the morning packs for.
    pub briefing_done: Arc<std::sync::Mutex<Option<chrono::NaiveDate>>>,
}

impl AppState {
    /// State over `store` with `config` and `rules`.
    pub fn new(store: Store, config: ServerConfig, rules: rules::Rules) -> Self {
        let hub = Arc::new(notify::Hub::default());
        let woken = Arc::downgrade(&hub);
        store.on_notifications_committed(move || {
            if let Some(hub) = woken.upgrade() {
                hub.committed();
            }
        });
        Self {
            hub,
            store,
            config: Arc::new(config),
            sign_in_limiter: Arc::new(SignInLimiter::default()),
            rules: Arc::new(rules),
            deconfliction: Arc::new(deconfliction::Deconfliction::new(
                concordat_matching::EngineConfig::default(),
            )),
            events: Arc::new(events::Events::default()),
            briefing_done: Arc::default(),
        }
    }
}

/// The OpenAPI document describing the JSON API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().into_openapi()
}

/// The whole application: API, pages, health checks, with every middleware.
pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    let request_id = HeaderName::from_static("x-request-id");
    let config = state.config.clone();

    let api_router = api_router.route_layer(middleware::from_fn_with_state(
        state.clone(),
        authz::authorise,
    ));
    let mut router = Router::new()
        .merge(api_router)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let openapi = openapi.clone();
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .merge(web::router())
        .fallback(not_found)
        .route_layer(middleware::from_fn(telemetry::track))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(middleware::from_fn(problem_for_bare_errors));
    for (name, value) in security_headers(config.secure_cookies) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = %id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
        }))
        .with_state(state)
}

fn security_headers(secure: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    if secure {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    headers
}

/// Gives error responses that left without a body (a timeout, a method the route does
/// not take, a rejected body) a problem document, so every API error has one shape.
async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if (status.is_client_error() || status.is_server_error())
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        let problem = error::Problem {
            kind: format!("/problems/http-{}", status.as_u16()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: match status {
                StatusCode::METHOD_NOT_ALLOWED => "This address does not take that method.".into(),
                StatusCode::SERVICE_UNAVAILABLE => "The request took too long.".into(),
                StatusCode::PAYLOAD_TOO_LARGE => {
                    "The request body is larger than this server accepts.".into()
                }
                _ => "The request could not be served.".into(),
            },
            errors: vec![],
            refusals: vec![],
        };
        let mut fixed = problem_response(status, &problem);
        for (name, value) in response.headers() {
            fixed.headers_mut().entry(name).or_insert(value.clone());
        }
        return fixed;
    }
    response
}

async fn not_found(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        AppError::NotFound.into_response()
    } else {
        web::not_found_page()
    }
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers too.
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<&'static str, AppError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("the store is not ready")))?;
    Ok("ready")
}

/// Serves the application on `listener` (and metrics on `metrics`, if given) until
/// `shutdown` completes; then stops taking connections and lets requests in flight
/// finish.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    metrics: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    telemetry::prometheus();
    install_tls_provider();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let sweeper = {
        let limiter = state.sign_in_limiter.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(60)) => limiter.sweep(),
                    _ = stop.changed() => break,
                }
            }
        })
    };
    let deadlines = {
        let state = state.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tasking::run_deadline_sweeps(state) => {},
                _ = stop.changed() => {},
            }
        })
    };
    let dispatcher = tokio::spawn(webhooks::run_dispatcher(state.clone(), stop_rx.clone()));
    let metrics_task = metrics.map(|listener| {
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            axum::serve(listener, telemetry::metrics_router())
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await
        })
    });
    let hub = state.hub.clone();
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing requests in flight");
            // Live streams end, so that their connections can close.
            hub.stop();
        })
        .await;
    let _ = stop_tx.send(());
    let _ = sweeper.await;
    let _ = deadlines.await;
    let _ = dispatcher.await;
    if let Some(task) = metrics_task {
        task.await??;
    }
    result?;
    Ok(())
}

/// The client's address, as seen on the connection: the "from where" of the audit log.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default(),
        ))
    }
}
