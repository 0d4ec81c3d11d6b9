//! Administration in the browser: the users an administrator manages (create, disable
//! or enable, reset a second factor), the organisations they administer (sign-in
//! policy, identity provider, webhooks and their deliveries), and the audit log
//! (search, "who saw this record", verifying the chain). Each page is authorised by
//! the rule of the API route it mirrors and calls the same services, so an
//! organisation's administrator sees only their own organisation, as over the API.

use super::{
    Choice, Chrome, CsrfForm, FormState, PageUser, form_page, london, page, page_error, shown,
    words,
};
use crate::accounts::{self, AccountRequest};
use crate::api::{AdminScope, admin_scope, administered, audit, users};
use crate::auth::Authenticated;
use crate::authz::{may_call, permit_route};
use crate::error::AppError;
use crate::{AppState, ClientAddress, webhooks};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use concordat_domain::audit::AuditRecord;
use concordat_domain::notification::{
    DeliveryState, NoticeKind, NoticeKinds, WebhookId, WebhookUrl,
};
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, FieldError, Role, Roles, User, UserStatus, Username,
};
use concordat_domain::registry::OrgCode;
use concordat_domain::totp::SignInPolicy;
use concordat_store::{AuditFilter, Delivery, UserFilter, Webhook};
use serde::Deserialize;

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin", get(home))
        .route("/admin/users", get(user_list))
        .route("/admin/users/new", get(new_user).post(create_user))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/disable", post(disable_user))
        .route("/admin/users/{id}/enable", post(enable_user))
        .route("/admin/users/{id}/totp-reset", post(reset_totp))
        .route("/admin/organisations", get(organisation_list))
        .route("/admin/organisations/{code}", get(organisation_page))
        .route(
            "/admin/organisations/{code}/sign-in-policy",
            post(set_sign_in_policy),
        )
        .route(
            "/admin/organisations/{code}/webhooks/new",
            get(new_webhook).post(create_webhook),
        )
        .route(
            "/admin/organisations/{code}/webhooks/{id}",
            get(webhook_page),
        )
        .route(
            "/admin/organisations/{code}/webhooks/{id}/remove",
            post(remove_webhook),
        )
        .route("/admin/audit", get(audit_page))
        .route("/admin/audit/verify", post(verify_chain))
        .route("/admin/audit/who-saw", get(who_saw))
}

fn org_name(state: &AppState, code: &OrgCode) -> String {
    state
        .rules
        .registry
        .organisation(code)
        .map_or_else(|| code.to_string(), |o| o.name.clone())
}

// ---------------------------------------------------------------------------------------
// Home
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin.html")]
struct HomePage {
    chrome: Chrome,
    /// "All organisations", or the one organisation administered.
    scope: String,
    users: bool,
    reads_audit: bool,
}

async fn home(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    let scope = match admin_scope(&who) {
        Ok(scope) => scope,
        Err(e) => return page_error(e),
    };
    page(
        StatusCode::OK,
        &HomePage {
            chrome: Chrome::new(&who, "/admin"),
            scope: match &scope {
                AdminScope::All => "every organisation".to_owned(),
                AdminScope::Organisation(code) => org_name(&state, code),
            },
            users: may_call(&who, "GET", "/api/v1/users"),
            reads_audit: audit::may_read(&who).is_ok(),
        },
    )
}

// ---------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------

/// A user as a row of the table.
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    organisation: String,
    roles: String,
    active: bool,
}

impl UserRow {
    fn new(state: &AppState, user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            organisation: org_name(state, &user.organisation),
            roles: user
                .roles
                .iter()
                .map(|r| words(r.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            active: user.is_active(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct UserQuery {
    #[serde(default)]
    organisation: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    form: FormState,
    /// The organisations to filter by (national agency administrators only).
    organisations: Vec<Choice>,
    rows: Vec<UserRow>,
}

/// Every organisation, by name, as choices.
fn organisation_choices(state: &AppState) -> Vec<Choice> {
    let mut list: Vec<Choice> = state
        .rules
        .registry
        .organisations
        .iter()
        .map(|o| Choice::new(o.code.as_str(), &o.name))
        .collect();
    list.sort_by(|a, b| a.label.cmp(&b.label));
    list
}

async fn user_list(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Query(query): Query<UserQuery>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "GET", "/api/v1/users", &[]).await?;
        let scope = admin_scope(&who)?;
        let mut form = FormState::with(&[("organisation", &query.organisation)]);
        let asked = form
            .optional("organisation", "The organisation", |raw| {
                OrgCode::parse(raw).map_err(|e| FieldError::new("organisation", e.to_string()))
            })
            .flatten();
        let organisation = users::listed_organisation(&scope, asked)?;
        let mut list = state.store.users(&UserFilter { organisation }).await?;
        list.sort_by(|a, b| a.username.as_str().cmp(b.username.as_str()));
        Ok::<_, AppError>(UsersPage {
            chrome: Chrome::new(&who, "/admin"),
            organisations: match scope {
                AdminScope::All => organisation_choices(&state),
                AdminScope::Organisation(_) => vec![],
            },
            rows: list.iter().map(|u| UserRow::new(&state, u)).collect(),
            form,
        })
    }
    .await;
    match result {
        Ok(page_) => form_page(&page_.form, &page_),
        Err(e) => page_error(e),
    }
}

#[derive(Template)]
#[template(path = "admin_user_new.html")]
struct NewUserPage {
    chrome: Chrome,
    form: FormState,
    /// The organisations the administrator may create accounts in.
    organisations: Vec<Choice>,
    roles: Vec<Choice>,
    clearances: Vec<Choice>,
    dg: Vec<Choice>,
}

fn new_user_page(
    state: &AppState,
    who: &Authenticated,
    form: FormState,
) -> Result<NewUserPage, AppError> {
    let scope = admin_scope(who)?;
    Ok(NewUserPage {
        chrome: Chrome::new(who, "/admin"),
        organisations: match scope {
            AdminScope::All => organisation_choices(state),
            AdminScope::Organisation(own) => {
                vec![Choice::new(own.as_str(), org_name(state, &own))]
            }
        },
        roles: Role::ALL
            .iter()
            .map(|r| Choice::new(r.as_str(), words(r.as_str())))
            .collect(),
        clearances: vec![
            Choice::new("bpss", "BPSS").hinted("Baseline: OFFICIAL records only"),
            Choice::new("ctc", "CTC").hinted("Counter-Terrorist Check: OFFICIAL records only"),
            Choice::new("sc", "SC").hinted("Security Check: up to SECRET"),
            Choice::new("dv", "DV").hinted("Developed Vetting: up to TOP SECRET"),
        ],
        dg: vec![
            Choice::new("none", "No"),
            Choice::new("delegated", "Yes")
                .hinted("Senior decision-makers of the national agency only (¶9)"),
        ],
        form,
    })
}

async fn new_user(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    if let Err(e) = permit_route(&state, &who, "POST", "/api/v1/users", &[]).await {
        return page_error(e);
    }
    let own = who.user.organisation.to_string();
    let form = FormState::with(&[("organisation", &own), ("dg_authority", "none")]);
    match new_user_page(&state, &who, form) {
        Ok(page_) => page(StatusCode::OK, &page_),
        Err(e) => page_error(e),
    }
}

/// The account the form describes, or the form with its errors.
fn read_account(form: &mut FormState) -> Option<AccountRequest> {
    let username = form.required(
        "username",
        "The username",
        "Enter a username",
        Username::parse,
    );
    let display_name = form.required(
        "display_name",
        "The name",
        "Enter the person's name",
        DisplayName::parse,
    );
    let organisation = form.required(
        "organisation",
        "The organisation",
        "Choose the organisation",
        |raw| OrgCode::parse(raw).map_err(|e| FieldError::new("organisation", e.to_string())),
    );
    let roles: Vec<Role> = form
        .values("roles")
        .into_iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let roles = match Roles::new(roles) {
        Ok(roles) => Some(roles),
        Err(_) => {
            form.fail("roles", "Choose at least one role");
            None
        }
    };
    let clearance = form.required(
        "clearance",
        "The vetting level",
        "Choose the person's vetting level",
        |raw| raw.parse::<Clearance>(),
    );
    let dg_authority = if form.given("dg_authority").is_none() {
        Some(DgAuthority::None)
    } else {
        form.required("dg_authority", "The authority", "", |raw| {
            raw.parse::<DgAuthority>()
        })
    };
    if form.has_errors() {
        return None;
    }
    Some(AccountRequest {
        username: username?,
        display_name: display_name?,
        organisation: organisation?,
        roles: roles?,
        clearance: clearance?,
        dg_authority: dg_authority?,
    })
}

async fn create_user(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    if let Err(e) = permit_route(&state, &who, "POST", "/api/v1/users", &[]).await {
        return page_error(e);
    }
    if let Some(request) = read_account(&mut form) {
        match users::create(&state, &who, &source, request).await {
            Ok((user, password)) => {
                return match user_view(&state, &who, user, Some(password.expose().to_owned())) {
                    Ok(page_) => page(StatusCode::OK, &page_),
                    Err(e) => page_error(e),
                };
            }
            Err(AppError::Forbidden(message)) => {
                form.fail("organisation", super::capitalise(&message));
            }
            Err(e) => {
                if let Err(other) = form.take(
                    e,
                    &[("roles", "roles"), ("dg_authority", "dg_authority")],
                    "username",
                ) {
                    return page_error(other);
                }
            }
        }
    }
    match new_user_page(&state, &who, form) {
        Ok(page_) => form_page(&page_.form, &page_),
        Err(e) => page_error(e),
    }
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    chrome: Chrome,
    user: User,
    organisation: String,
    roles: Vec<String>,
    clearance: String,
    created_at: String,
    /// A new account's one-time password, shown only now.
    one_time_password: Option<String>,
    /// The administrator is looking at their own account.
    is_self: bool,
    /// The user holds the Director General's delegated authority.
    delegated: bool,
}

fn user_view(
    state: &AppState,
    who: &Authenticated,
    user: User,
    one_time_password: Option<String>,
) -> Result<UserPage, AppError> {
    Ok(UserPage {
        chrome: Chrome::new(who, "/admin"),
        organisation: org_name(state, &user.organisation),
        roles: user.roles.iter().map(|r| words(r.as_str())).collect(),
        clearance: user.clearance.as_str().to_uppercase(),
        created_at: london(user.created_at),
        one_time_password,
        is_self: user.id == who.user.id,
        delegated: user.dg_authority == DgAuthority::Delegated,
        user,
    })
}

async fn user_page(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "GET", "/api/v1/users/{id}", &[("id", &id)]).await?;
        let scope = admin_scope(&who)?;
        let user = users::managed_user(&state, &scope, &id).await?;
        user_view(&state, &who, user, None)
    }
    .await;
    shown(result)
}

async fn change_status(
    state: AppState,
    who: Authenticated,
    source: String,
    id: String,
    status: UserStatus,
) -> Response {
    let path = match status {
        UserStatus::Active => "/api/v1/users/{id}/enable",
        UserStatus::Disabled => "/api/v1/users/{id}/disable",
    };
    let result = async {
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        users::set_status(&state, &source, &who, &id, status).await
    }
    .await;
    match result {
        Ok(user) => Redirect::to(&format!("/admin/users/{}", user.id)).into_response(),
        Err(e) => page_error(e),
    }
}

async fn disable_user(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    change_status(state, who, source, id, UserStatus::Disabled).await
}

async fn enable_user(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    change_status(state, who, source, id, UserStatus::Active).await
}

async fn reset_totp(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        permit_route(
            &state,
            &who,
            "DELETE",
            "/api/v1/users/{id}/totp",
            &[("id", &id)],
        )
        .await?;
        let scope = admin_scope(&who)?;
        let user = users::managed_user(&state, &scope, &id).await?;
        accounts::reset_totp(&state.store, who.actor(), &source, user.id).await
    }
    .await;
    match result {
        Ok(user) => Redirect::to(&format!("/admin/users/{}", user.id)).into_response(),
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------------------------------
// Organisations
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_organisations.html")]
struct OrganisationsPage {
    chrome: Chrome,
    /// (code, name, kind) of each organisation administered.
    rows: Vec<(String, String, String)>,
}

async fn organisation_list(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    let scope = match admin_scope(&who) {
        Ok(scope) => scope,
        Err(e) => return page_error(e),
    };
    let mut rows: Vec<(String, String, String)> = state
        .rules
        .registry
        .organisations
        .iter()
        .filter(|o| scope.covers(&o.code))
        .map(|o| (o.code.to_string(), o.name.clone(), o.kind.name().to_owned()))
        .collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    page(
        StatusCode::OK,
        &OrganisationsPage {
            chrome: Chrome::new(&who, "/admin"),
            rows,
        },
    )
}

/// A webhook as a row of the organisation's table: its deliveries counted by state.
struct WebhookRow {
    webhook: Webhook,
    kinds: String,
    pending: usize,
    delivered: usize,
    failed: usize,
}

/// What the organisation page shows of its identity provider (never the secret).
struct ProviderView {
    issuer: String,
    client_id: String,
    role_claim: String,
    username_claim: String,
    provisioning: String,
    sign_in_path: String,
    updated_at: String,
}

#[derive(Template)]
#[template(path = "admin_organisation.html")]
struct OrganisationPage {
    chrome: Chrome,
    code: String,
    name: String,
    policy: SignInPolicy,
    provider: Option<ProviderView>,
    webhooks: Vec<WebhookRow>,
}

fn kinds_text(kinds: &NoticeKinds) -> String {
    kinds
        .iter()
        .map(|k| words(k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn organisation_page(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Path(code): Path<String>,
) -> Response {
    let result = async {
        let path = "/api/v1/organisations/{code}/webhooks";
        permit_route(&state, &who, "GET", path, &[("code", &code)]).await?;
        let code = administered(&who, &code)?;
        let policy = state.store.sign_in_policy(&code).await?;
        let provider = state
            .store
            .identity_provider(&code)
            .await?
            .map(|stored| ProviderView {
                issuer: stored.provider.issuer.to_string(),
                client_id: stored.provider.client_id.to_string(),
                role_claim: stored.provider.role_claim.to_string(),
                username_claim: stored.provider.username_claim.to_string(),
                provisioning: words(&stored.provider.provisioning.to_string()),
                sign_in_path: format!("/sign-in/sso/{}", stored.organisation),
                updated_at: london(stored.updated_at),
            });
        let mut rows = vec![];
        for webhook in state.store.webhooks(&code).await? {
            let deliveries = webhooks::deliveries(&state.store, &code, webhook.id).await?;
            let count = |s: DeliveryState| deliveries.iter().filter(|d| d.state == s).count();
            rows.push(WebhookRow {
                kinds: kinds_text(&webhook.kinds),
                pending: count(DeliveryState::Pending),
                delivered: count(DeliveryState::Delivered),
                failed: count(DeliveryState::Failed),
                webhook,
            });
        }
        Ok::<_, AppError>(OrganisationPage {
            chrome: Chrome::new(&who, "/admin"),
            name: org_name(&state, &code),
            code: code.to_string(),
            policy,
            provider,
            webhooks: rows,
        })
    }
    .await;
    shown(result)
}

async fn set_sign_in_policy(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(code): Path<String>,
    CsrfForm(PageUser(who), form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        let path = "/api/v1/organisations/{code}/sign-in-policy";
        permit_route(&state, &who, "PUT", path, &[("code", &code)]).await?;
        let code = administered(&who, &code)?;
        let policy = SignInPolicy {
            require_totp: form.chosen("require_totp", "yes"),
        };
        accounts::set_sign_in_policy(&state.store, who.actor(), &source, &code, policy).await?;
        Ok::<_, AppError>(code)
    }
    .await;
    match result {
        Ok(code) => Redirect::to(&format!("/admin/organisations/{code}")).into_response(),
        Err(e) => page_error(e),
    }
}

#[derive(Template)]
#[template(path = "admin_webhook_new.html")]
struct NewWebhookPage {
    chrome: Chrome,
    code: String,
    name: String,
    form: FormState,
    kinds: Vec<Choice>,
}

fn new_webhook_page(
    state: &AppState,
    who: &Authenticated,
    code: &OrgCode,
    form: FormState,
) -> NewWebhookPage {
    NewWebhookPage {
        chrome: Chrome::new(who, "/admin"),
        code: code.to_string(),
        name: org_name(state, code),
        form,
        kinds: NoticeKind::ALL
            .iter()
            .map(|k| Choice::new(k.as_str(), words(k.as_str())))
            .collect(),
    }
}

async fn new_webhook(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Path(code): Path<String>,
) -> Response {
    let result = async {
        let path = "/api/v1/organisations/{code}/webhooks";
        permit_route(&state, &who, "POST", path, &[("code", &code)]).await?;
        administered(&who, &code)
    }
    .await;
    match result {
        Ok(code) => page(
            StatusCode::OK,
            &new_webhook_page(&state, &who, &code, FormState::default()),
        ),
        Err(e) => page_error(e),
    }
}

async fn create_webhook(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(code): Path<String>,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        let path = "/api/v1/organisations/{code}/webhooks";
        permit_route(&state, &who, "POST", path, &[("code", &code)]).await?;
        let code = administered(&who, &code)?;
        let url = form.required(
            "url",
            "The address",
            "Enter the address to deliver to",
            WebhookUrl::parse,
        );
        let kinds: Vec<NoticeKind> = form
            .values("kinds")
            .into_iter()
            .filter_map(|v| v.parse().ok())
            .collect();
        let kinds = match NoticeKinds::new(kinds) {
            Ok(kinds) => Some(kinds),
            Err(_) => {
                form.fail("kinds", "Choose at least one kind of notice");
                None
            }
        };
        if let (Some(url), Some(kinds)) = (url, kinds) {
            match webhooks::create(&state.store, who.actor(), &source, &code, url, kinds).await {
                Ok((webhook, secret)) => {
                    let page_ = webhook_view(
                        &state,
                        &who,
                        &code,
                        webhook.id,
                        Some(secret.expose().to_owned()),
                    )
                    .await?;
                    return Ok(page(StatusCode::OK, &page_));
                }
                Err(e) => form.take(e, &[], "url")?,
            }
        }
        let page_ = new_webhook_page(&state, &who, &code, form);
        Ok(form_page(&page_.form, &page_))
    }
    .await;
    result.unwrap_or_else(page_error)
}

/// A delivery as a row of the table.
struct DeliveryRow {
    kind: String,
    record: String,
    state: DeliveryState,
    tag: &'static str,
    attempts: i64,
    created_at: String,
    outcome: String,
}

impl DeliveryRow {
    fn new(d: Delivery) -> Self {
        let outcome = match (d.state, d.delivered_at, d.next_attempt_at) {
            (DeliveryState::Delivered, Some(at), _) => format!("Delivered {}", london(at)),
            (DeliveryState::Pending, _, Some(next)) => format!("Next attempt {}", london(next)),
            _ => String::new(),
        };
        let last = match (d.last_status, d.last_error) {
            (Some(status), _) => format!("; last answer HTTP {status}"),
            (None, Some(error)) => format!("; last error: {error}"),
            (None, None) => String::new(),
        };
        Self {
            kind: words(d.kind.as_str()),
            record: d.record,
            tag: delivery_tag(d.state),
            state: d.state,
            attempts: d.attempts,
            created_at: london(d.created_at),
            outcome: format!("{outcome}{last}")
                .trim_start_matches("; ")
                .to_owned(),
        }
    }
}

fn delivery_tag(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "tag-yellow",
        DeliveryState::Delivered => "tag-green",
        DeliveryState::Failed => "tag-red",
    }
}

#[derive(Template)]
#[template(path = "admin_webhook.html")]
struct WebhookPage {
    chrome: Chrome,
    code: String,
    name: String,
    webhook: Webhook,
    kinds: String,
    created_at: String,
    removed_at: Option<String>,
    deliveries: Vec<DeliveryRow>,
    /// A new webhook's signing secret, shown only now.
    secret: Option<String>,
}

async fn webhook_view(
    state: &AppState,
    who: &Authenticated,
    code: &OrgCode,
    id: WebhookId,
    secret: Option<String>,
) -> Result<WebhookPage, AppError> {
    let deliveries = webhooks::deliveries(&state.store, code, id).await?;
    let webhook = state.store.webhook(code, id).await?;
    Ok(WebhookPage {
        chrome: Chrome::new(who, "/admin"),
        code: code.to_string(),
        name: org_name(state, code),
        kinds: kinds_text(&webhook.kinds),
        created_at: london(webhook.created_at),
        removed_at: webhook.disabled_at.map(london),
        deliveries: deliveries.into_iter().map(DeliveryRow::new).collect(),
        webhook,
        secret,
    })
}

async fn webhook_page(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Path((code, id)): Path<(String, String)>,
) -> Response {
    let result = async {
        let path = "/api/v1/organisations/{code}/webhooks/{id}/deliveries";
        permit_route(&state, &who, "GET", path, &[("code", &code), ("id", &id)]).await?;
        let code = administered(&who, &code)?;
        let id: WebhookId = crate::api::path_id(&id)?;
        webhook_view(&state, &who, &code, id, None).await
    }
    .await;
    shown(result)
}

async fn remove_webhook(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path((code, id)): Path<(String, String)>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        let path = "/api/v1/organisations/{code}/webhooks/{id}";
        permit_route(
            &state,
            &who,
            "DELETE",
            path,
            &[("code", &code), ("id", &id)],
        )
        .await?;
        let code = administered(&who, &code)?;
        let id: WebhookId = crate::api::path_id(&id)?;
        webhooks::remove(&state.store, who.actor(), &source, &code, id).await?;
        Ok::<_, AppError>(format!("/admin/organisations/{code}/webhooks/{id}"))
    }
    .await;
    match result {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------

/// An audit entry as a row of the table.
struct EntryRow {
    seq: i64,
    at: String,
    who: String,
    action: String,
    record_kind: String,
    record_id: String,
    source: String,
    /// What a read showed (`view` in its detail), if it was a read.
    view: String,
    /// The "who saw" page of the record, if there is a record.
    who_saw: Option<String>,
}

impl EntryRow {
    fn new(e: AuditRecord) -> Self {
        let view = serde_json::from_str::<serde_json::Value>(&e.detail)
            .ok()
            .and_then(|d| d["view"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let who_saw = (!e.record_kind.is_empty())
            .then(|| {
                serde_urlencoded::to_string([("kind", &e.record_kind), ("id", &e.record_id)]).ok()
            })
            .flatten()
            .map(|q| format!("/admin/audit/who-saw?{q}"));
        Self {
            who_saw,
            seq: e.seq,
            at: london(e.at),
            who: if e.actor_name.is_empty() {
                e.actor_kind
            } else {
                e.actor_name
            },
            action: e.action,
            record_kind: e.record_kind,
            record_id: e.record_id,
            source: e.source,
            view,
        }
    }
}

/// The result of walking the chain, as the page says it.
struct VerifyView {
    intact: bool,
    checked: i64,
    head: String,
    first_break: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    who: String,
    #[serde(default)]
    record_kind: String,
    #[serde(default)]
    record_id: String,
    before: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    chrome: Chrome,
    form: FormState,
    /// The administrator may read entries (the national agency's only).
    reads: bool,
    rows: Vec<EntryRow>,
    /// The address of the next, older page, if there may be one.
    older: Option<String>,
    verified: Option<VerifyView>,
}

/// The page size of the audit search.
const AUDIT_PAGE: u32 = 50;

async fn audit_view(
    state: &AppState,
    who: &Authenticated,
    query: AuditQuery,
    verified: Option<VerifyView>,
) -> Result<AuditPage, AppError> {
    admin_scope(who)?;
    let mut form = FormState::with(&[
        ("who", &query.who),
        ("record_kind", &query.record_kind),
        ("record_id", &query.record_id),
    ]);
    let reads = audit::may_read(who).is_ok();
    let mut rows = vec![];
    let mut older = None;
    if reads {
        let actor_id = match form.given("who").map(str::to_owned) {
            None => Some(None),
            Some(raw) => match Username::parse(&raw) {
                Ok(name) => match state.store.user_by_username(&name).await? {
                    Some(found) => Some(Some(found.user.id.to_string())),
                    None => {
                        form.fail("who", "No user has that username");
                        None
                    }
                },
                Err(e) => {
                    form.fail("who", format!("The username {}", e.message));
                    None
                }
            },
        };
        let record_id = form.given("record_id").map(str::to_owned);
        let record_kind = form.given("record_kind").map(str::to_owned);
        if record_id.is_some() && record_kind.is_none() {
            form.fail(
                "record_kind",
                "Enter the kind of record as well as its identifier",
            );
        }
        if let (Some(actor_id), false) = (actor_id, form.has_errors()) {
            let filter = AuditFilter {
                record_kind,
                record_id,
                actor_id,
                before_seq: query.before,
                limit: AUDIT_PAGE,
            };
            let entries = audit::entries(state, who, filter).await?;
            let full = u32::try_from(entries.len()).is_ok_and(|n| n == AUDIT_PAGE);
            if let Some(last) = entries.last().filter(|_| full) {
                let next: Vec<(&str, String)> = vec![
                    ("who", query.who.clone()),
                    ("record_kind", query.record_kind.clone()),
                    ("record_id", query.record_id.clone()),
                    ("before", last.seq.to_string()),
                ];
                older = serde_urlencoded::to_string(next)
                    .ok()
                    .map(|q| format!("/admin/audit?{q}"));
            }
            rows = entries.into_iter().map(EntryRow::new).collect();
        }
    }
    Ok(AuditPage {
        chrome: Chrome::new(who, "/admin"),
        form,
        reads,
        rows,
        older,
        verified,
    })
}

async fn audit_page(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Query(query): Query<AuditQuery>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "GET", "/api/v1/audit/verify", &[]).await?;
        audit_view(&state, &who, query, None).await
    }
    .await;
    match result {
        Ok(page_) => form_page(&page_.form, &page_),
        Err(e) => page_error(e),
    }
}

async fn verify_chain(
    State(state): State<AppState>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "GET", "/api/v1/audit/verify", &[]).await?;
        let v = audit::verification(&state, &who).await?;
        let verified = VerifyView {
            intact: v.intact,
            checked: v.checked,
            head: v.head,
            first_break: v
                .first_break_seq
                .map(|seq| format!("entry {seq}: {}", v.first_break_reason.unwrap_or_default())),
        };
        audit_view(&state, &who, AuditQuery::default(), Some(verified)).await
    }
    .await;
    shown(result)
}

#[derive(Debug, Default, Deserialize)]
struct WhoSawQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    id: String,
}

#[derive(Template)]
#[template(path = "admin_who_saw.html")]
struct WhoSawPage {
    chrome: Chrome,
    form: FormState,
    /// Whether a record was asked about (and found valid).
    asked: bool,
    readers: Vec<String>,
    rows: Vec<EntryRow>,
}

/// At most this many entries about one record are shown.
const WHO_SAW_MAX: usize = 2_000;

async fn who_saw(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Query(query): Query<WhoSawQuery>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "GET", "/api/v1/audit", &[]).await?;
        audit::may_read(&who)?;
        let mut form = FormState::with(&[("kind", &query.kind), ("id", &query.id)]);
        let mut rows: Vec<AuditRecord> = vec![];
        let asked = !query.kind.trim().is_empty() || !query.id.trim().is_empty();
        if asked {
            let kind = form.given("kind").map(str::to_owned);
            let id = form.given("id").map(str::to_owned);
            if kind.is_none() {
                form.fail("kind", "Enter the kind of record, for example request");
            }
            if id.is_none() {
                form.fail("id", "Enter the record's identifier");
            }
            if let (Some(kind), Some(id)) = (kind, id) {
                let mut before = None;
                while rows.len() < WHO_SAW_MAX {
                    let filter = AuditFilter {
                        record_kind: Some(kind.clone()),
                        record_id: Some(id.clone()),
                        actor_id: None,
                        before_seq: before,
                        limit: 500,
                    };
                    let batch = audit::entries(&state, &who, filter).await?;
                    let Some(last) = batch.last() else { break };
                    before = Some(last.seq);
                    rows.extend(batch);
                }
            }
        }
        rows.sort_by_key(|e| e.seq);
        let mut readers: Vec<String> = rows
            .iter()
            .filter(|e| e.action == "record.read" && !e.actor_name.is_empty())
            .map(|e| e.actor_name.clone())
            .collect();
        readers.sort();
        readers.dedup();
        Ok::<_, AppError>(WhoSawPage {
            chrome: Chrome::new(&who, "/admin"),
            asked: asked && !form.has_errors(),
            form,
            readers,
            rows: rows.into_iter().map(EntryRow::new).collect(),
        })
    }
    .await;
    match result {
        Ok(page_) => form_page(&page_.form, &page_),
        Err(e) => page_error(e),
    }
}
