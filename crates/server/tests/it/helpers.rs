//! Starting a server and talking to it as the different people in the stories.

use concordat_domain::audit::Actor;
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, NewPassword, Role, Roles, Username,
};
use concordat_domain::registry::{OrgCode, ReferenceData};
use concordat_server::{AppState, ServerConfig};
use concordat_store::testing::TestStore;
use concordat_store::{NewUser, Store};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;

/// The password every story user starts with.
pub const PASSWORD: &str = "story password 1234";

/// A running server and its store.
pub struct TestApp {
    pub address: SocketAddr,
    pub store: Store,
    pub client: reqwest::Client,
    pub config: ServerConfig,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    test_store: Option<TestStore>,
}

/// The people in the stories: (username, organisation, roles).
pub const PEOPLE: &[(&str, &str, &[Role])] = &[
    ("nca.admin", "nca", &[Role::Administrator]),
    ("mps.admin", "mps", &[Role::Administrator]),
    ("mps.tasking", "mps", &[Role::TaskingOfficer]),
    ("gmp.case", "greater-manchester", &[Role::CaseOfficer]),
    ("nca.tasking", "nca", &[Role::TaskingOfficer]),
    ("nca.viewer", "nca", &[Role::Viewer]),
    ("nca.director", "nca", &[Role::SeniorDecisionMaker]),
    (
        "nccu.tasking",
        "nca-nccu",
        &[Role::TaskingOfficer, Role::Analyst],
    ),
    ("wmp.tasking", "west-midlands", &[Role::TaskingOfficer]),
    ("wmp.analyst", "west-midlands", &[Role::Analyst]),
    ("wmp.case", "west-midlands", &[Role::CaseOfficer]),
    ("serocu.tasking", "serocu", &[Role::TaskingOfficer]),
    (
        "lancs.tasking",
        "lancashire",
        &[Role::TaskingOfficer, Role::Analyst],
    ),
    ("mps.analyst", "mps", &[Role::Analyst]),
    ("jersey.tasking", "jersey-police", &[Role::TaskingOfficer]),
    ("hmrc.tasking", "hmrc", &[Role::TaskingOfficer]),
    ("kent.tasking", "kent", &[Role::TaskingOfficer]),
];

/// The story people who hold the Director General's delegated authority (¶9).
pub const DG_DELEGATES: &[&str] = &["nca.director"];

impl TestApp {
    /// Starts a server over `test_store` with the story people.
    pub async fn start(test_store: TestStore) -> Self {
        Self::start_with(test_store, test_config()).await
    }

    /// Starts a server with `config` over `test_store` with the story people.
    pub async fn start_with(test_store: TestStore, config: ServerConfig) -> Self {
        let store = test_store.store.clone();
        let data = ReferenceData::builtin().expect("reference data");
        let mut tx = store.write().await.expect("begin");
        tx.load_reference_data(&data).await.expect("load");
        tx.commit(concordat_domain::audit::AuditEntry::new(
            Actor::System,
            "reference-data.load",
        ))
        .await
        .expect("commit");
        // One hash for everyone: hashing is deliberately slow, and the stories start
        // many servers.
        static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
        let hash = HASH
            .get_or_init(|| async {
                let password = NewPassword::parse(PASSWORD).expect("valid");
                concordat_server::auth::hash_password(&password)
                    .await
                    .expect("hash")
            })
            .await;
        let mut tx = store.write().await.expect("begin");
        for (username, org, roles) in PEOPLE {
            let roles = Roles::new(roles.iter().copied()).expect("valid");
            let dg_authority = if DG_DELEGATES.contains(username) {
                DgAuthority::Delegated
            } else {
                DgAuthority::None
            };
            tx.insert_user(&NewUser {
                username: Username::parse(username).expect("valid"),
                display_name: DisplayName::parse(username).expect("valid"),
                organisation: OrgCode::parse(org).expect("valid"),
                roles,
                clearance: Clearance::Sc,
                dg_authority,
                password_hash: hash.clone(),
                must_change_password: false,
            })
            .await
            .expect("story user");
        }
        tx.commit(concordat_domain::audit::AuditEntry::new(
            Actor::System,
            "story.people",
        ))
        .await
        .expect("commit");
        Self::launch(store, config, Some(test_store)).await
    }

    /// Starts a server over `store`, as it is.
    async fn launch(store: Store, mut config: ServerConfig, test_store: Option<TestStore>) -> Self {
        concordat_server::install_tls_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        if config.public_url.is_none() {
            config.public_url = Some(
                concordat_server::sso::PublicUrl::parse(&format!("http://{address}"))
                    .expect("public URL"),
            );
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(store.clone(), config.clone(), rules());
        let server = tokio::spawn(concordat_server::serve(state, listener, None, async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            address,
            store,
            client,
            config,
            shutdown: Some(tx),
            server: Some(server),
            test_store,
        }
    }

    /// Stops the server cleanly and starts a new one over the same store, as after a
    /// restart (or on another node): nothing in memory survives, the store does.
    pub async fn restart(mut self) -> Self {
        self.stop_server().await;
        let test_store = self.test_store.take();
        Self::launch(self.store.clone(), self.config.clone(), test_store).await
    }

    async fn stop_server(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    /// Sends a GET with credentials and extra headers, and returns the response
    /// unread: for streams.
    pub async fn open(&self, path: &str, who: &Who, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(path)).headers(who.headers());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("the server answers")
    }

    /// The full address of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Sends a request with optional credentials and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        who: &Who,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .headers(who.headers());
        if let Some(body) = body {
            request = request.json(&body);
        }
        Response::from_reqwest(request.send().await.expect("the server answers")).await
    }

    /// Sends a raw body with its own content type, as a client that gets things wrong would.
    pub async fn send_raw(
        &self,
        path: &str,
        who: &Who,
        content_type: &str,
        body: String,
    ) -> Response {
        let request = self
            .client
            .post(self.url(path))
            .headers(who.headers())
            .header("content-type", content_type)
            .body(body);
        Response::from_reqwest(request.send().await.expect("the server answers")).await
    }

    /// Posts a page's form as the browser would: the session's cookie, and its CSRF
    /// token as a field (none for a session without one). Fields may repeat.
    pub async fn post_form(&self, path: &str, who: &Who, fields: &[(&str, &str)]) -> Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        let (cookie, csrf) = match who {
            Who::Session { cookie, csrf } => (cookie.as_str(), csrf.as_str()),
            Who::SessionWithoutCsrf { cookie } => (cookie.as_str(), ""),
            Who::Nobody | Who::Bearer(_) => ("", ""),
        };
        if !csrf.is_empty() {
            form.push(("csrf_token", csrf));
        }
        let request = self
            .client
            .post(self.url(path))
            .header("cookie", cookie)
            .form(&form);
        Response::from_reqwest(request.send().await.expect("the server answers")).await
    }

    /// GET with credentials.
    pub async fn get(&self, path: &str, who: &Who) -> Response {
        self.call(Method::GET, path, who, None).await
    }

    /// Signs in over the API and returns the session.
    pub async fn sign_in(&self, username: &str, password: &str) -> Who {
        let response = self
            .call(
                Method::POST,
                "/api/v1/session",
                &Who::Nobody,
                Some(serde_json::json!({ "username": username, "password": password })),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let cookie = response.session_cookie().expect("a session cookie");
        Who::Session {
            cookie,
            csrf: response.json["csrf_token"]
                .as_str()
                .expect("csrf")
                .to_owned(),
        }
    }

    /// Adds a person with `roles` and `clearance` in `org`, with an API token made in
    /// the store (no sign-in, so that stories with many people stay quick), and returns
    /// them as that token.
    pub async fn person(
        &self,
        username: &str,
        org: &str,
        roles: &[Role],
        clearance: Clearance,
    ) -> Who {
        let mut tx = self.store.write().await.expect("begin");
        let user = tx
            .insert_user(&NewUser {
                username: Username::parse(username).expect("valid"),
                display_name: DisplayName::parse(username).expect("valid"),
                organisation: OrgCode::parse(org).expect("valid"),
                roles: Roles::new(roles.iter().copied()).expect("valid"),
                clearance,
                dg_authority: DgAuthority::None,
                password_hash: "$argon2id$not-used".to_owned(),
                must_change_password: false,
            })
            .await
            .expect("person");
        let secret = format!(
            "{}{}",
            concordat_server::auth::TOKEN_PREFIX,
            concordat_server::auth::new_secret()
        );
        tx.insert_api_token(&concordat_store::NewApiToken {
            user_id: user.id,
            name: "story".to_owned(),
            token_hash: concordat_server::auth::hash_secret(&secret),
            expires_at: None,
        })
        .await
        .expect("token");
        tx.commit(concordat_domain::audit::AuditEntry::new(
            Actor::System,
            "story.person",
        ))
        .await
        .expect("commit");
        Who::Bearer(secret)
    }

    /// Signs in as one of the story people.
    pub async fn as_user(&self, username: &str) -> Who {
        self.sign_in(username, PASSWORD).await
    }

    /// Stops the server, checks it stopped cleanly, and removes the store.
    pub async fn stop(mut self) {
        self.stop_server().await;
        if let Some(t) = self.test_store.take() {
            t.cleanup().await;
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Who {
    /// No credentials.
    Nobody,
    /// A browser session: the cookie (`name=value`) and its CSRF token.
    Session { cookie: String, csrf: String },
    /// A browser session whose changes forget the CSRF header.
    SessionWithoutCsrf { cookie: String },
    /// An API token.
    Bearer(String),
}

impl Who {
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            headers.insert(name, HeaderValue::from_str(value).expect("header value"));
        };
        match self {
            Who::Nobody => {}
            Who::Session { cookie, csrf } => {
                put("cookie", cookie);
                put("x-csrf-token", csrf);
            }
            Who::SessionWithoutCsrf { cookie } => put("cookie", cookie),
            Who::Bearer(token) => put("authorization", &format!("Bearer {token}")),
        }
        headers
    }

    /// The same session, forgetting its CSRF token.
    pub fn without_csrf(&self) -> Who {
        match self {
            Who::Session { cookie, .. } => Who::SessionWithoutCsrf {
                cookie: cookie.clone(),
            },
            other => other.clone(),
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Response {
    /// Reads a response whole.
    pub async fn from_reqwest(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            json,
        }
    }

    /// The `Set-Cookie` headers.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The session cookie this response sets, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.contains("concordat_session="))
            .and_then(|c| c.split(';').next().map(str::to_owned))
    }

    /// Asserts this is a problem document with `status`, and returns it.
    pub fn problem(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.json["status"], status.as_u16(), "{}", self.text);
        assert!(self.json["type"].is_string() && self.json["title"].is_string());
        &self.json
    }

    /// The field names a problem document says are in error.
    pub fn problem_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Runs each named `async fn(&TestApp)` as `NAME::sqlite` and `NAME::postgres`, on a
/// server with the story configuration or, after `with CONFIG;`, the one the parent
/// module's `fn CONFIG() -> ServerConfig` gives.
#[macro_export]
macro_rules! stories {
    (with $config:ident; $($name:ident),* $(,)?) => {
        $crate::stories!(@config super::$config(); $($name),*);
    };
    ($($name:ident),* $(,)?) => {
        $crate::stories!(@config $crate::helpers::test_config(); $($name),*);
    };
    (@config $config:expr; $($name:ident),*) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let store = concordat_store::testing::TestStore::sqlite().await;
                let app = $crate::helpers::TestApp::start_with(store, $config).await;
                super::$name(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(store) = concordat_store::testing::TestStore::postgres().await else { return };
                let app = $crate::helpers::TestApp::start_with(store, $config).await;
                super::$name(&app).await;
                app.stop().await;
            }
        }
    )*};
}

/// The configuration stories run with: quick background jobs, so that they wait
/// little.
pub fn test_config() -> ServerConfig {
    ServerConfig {
        body_limit: 64 * 1024,
        notification_poll_every: std::time::Duration::from_millis(100),
        notification_keep_alive: std::time::Duration::from_millis(300),
        webhook_poll_every: std::time::Duration::from_millis(100),
        webhook_backoff_base: std::time::Duration::from_millis(50),
        webhook_attempts: 3,
        webhook_timeout: std::time::Duration::from_secs(2),
        morning_packs: false,
        ..ServerConfig::default()
    }
}

/// The built-in registry and policy.
pub fn rules() -> concordat_server::rules::Rules {
    concordat_server::rules::Rules::load(None).expect("built-in rules")
}

/// The security code `offset` steps from now for `secret`, as an authenticator app
/// would show it. Waits for the next step when this one is about to end, so that the
/// server sees the same step as the code was made for.
pub async fn totp_code(secret: &concordat_domain::totp::TotpSecret, offset: i64) -> String {
    use concordat_domain::time::Timestamp;
    let into_step = Timestamp::now().as_micros().rem_euclid(30_000_000);
    if into_step > 25_000_000 {
        let wait = u64::try_from(30_000_000 - into_step).unwrap_or(0) + 100_000;
        tokio::time::sleep(std::time::Duration::from_micros(wait)).await;
    }
    let at = Timestamp::now().as_micros() + offset * 30_000_000;
    secret
        .code_at(Timestamp::from_micros(at).expect("in range"))
        .as_str()
        .to_owned()
}

/// Gives `username` a confirmed second factor in the store, as if they had set it up
/// long ago (no code used yet), and returns its secret.
pub async fn with_totp(app: &TestApp, username: &str) -> concordat_domain::totp::TotpSecret {
    use concordat_domain::time::Timestamp;
    use concordat_domain::totp::{SECRET_BYTES, TotpSecret, TotpStep};
    let user = app
        .store
        .user_by_username(&Username::parse(username).expect("valid"))
        .await
        .expect("reads")
        .expect("exists")
        .user;
    let mut seed = [0u8; SECRET_BYTES];
    seed[..username.len().min(SECRET_BYTES)]
        .copy_from_slice(&username.as_bytes()[..username.len().min(SECRET_BYTES)]);
    let secret = TotpSecret::from_random(seed);
    let long_ago = Timestamp::from_micros(0).expect("epoch");
    let mut tx = app.store.write().await.expect("begin");
    tx.start_totp(user.id, &secret).await.expect("start");
    tx.confirm_totp(user.id, TotpStep::at(long_ago), long_ago)
        .await
        .expect("confirm");
    tx.commit(concordat_domain::audit::AuditEntry::new(
        Actor::System,
        "story.totp",
    ))
    .await
    .expect("commit");
    secret
}

/// Signs in over the API with a security code and returns the session.
pub async fn sign_in_with_code(app: &TestApp, username: &str, code: &str) -> Who {
    let response = app
        .call(
            Method::POST,
            "/api/v1/session",
            &Who::Nobody,
            Some(serde_json::json!({ "username": username, "password": PASSWORD, "totp": code })),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    Who::Session {
        cookie: response.session_cookie().expect("a session cookie"),
        csrf: response.json["csrf_token"]
            .as_str()
            .expect("csrf")
            .to_owned(),
    }
}
