//! The signed-in user's own account in the browser: who they are, their second factor
//! (set up, confirm, turn off), signing out everywhere, and their API tokens (the
//! secret shown once). Each page is authorised by the rule of the API route it
//! mirrors, and calls the same services.

use super::{Chrome, CsrfForm, FormState, PageUser, form_page, london, page, page_error, words};
use crate::api::totp::TotpEnrolment;
use crate::api::{me, tokens, totp};
use crate::auth::Authenticated;
use crate::authz::permit_route;
use crate::error::AppError;
use crate::{AppState, ClientAddress, accounts};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use concordat_domain::people::FieldError;
use concordat_domain::time::Timestamp;
use concordat_domain::totp::TotpCode;

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/account", get(account))
        .route("/account/totp", post(start_totp))
        .route("/account/totp/confirm", post(confirm_totp))
        .route("/account/totp/off", post(totp_off))
        .route("/account/sessions/end", post(end_sessions))
        .route("/account/tokens", get(tokens_page).post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    username: String,
    display_name: String,
    organisation: String,
    roles: Vec<String>,
    clearance: String,
    totp_enabled: bool,
    /// The organisation requires a second factor.
    totp_required: bool,
    /// A secret just made, to put in an authenticator app (shown only now).
    enrolment: Option<TotpEnrolment>,
    form: FormState,
}

fn account_page(
    who: &Authenticated,
    enrolment: Option<TotpEnrolment>,
    form: FormState,
) -> AccountPage {
    AccountPage {
        chrome: Chrome::new(who, "/account"),
        username: who.user.username.as_str().to_owned(),
        display_name: who.user.display_name.as_str().to_owned(),
        organisation: who.organisation.name.clone(),
        roles: who.user.roles.iter().map(|r| words(r.as_str())).collect(),
        clearance: who.user.clearance.as_str().to_uppercase(),
        totp_enabled: who.user.totp_enabled,
        totp_required: who.sign_in_policy.require_totp,
        enrolment,
        form,
    }
}

async fn account(PageUser(who): PageUser) -> Response {
    page(
        StatusCode::OK,
        &account_page(&who, None, FormState::default()),
    )
}

/// The code typed in the form's `code` field, or the form with its error.
fn read_code(form: &mut FormState) -> Option<TotpCode> {
    form.required(
        "code",
        "The security code",
        "Enter the 6-digit security code from your authenticator app",
        TotpCode::parse,
    )
}

async fn start_totp(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    if let Err(e) = permit_route(&state, &who, "POST", "/api/v1/me/totp", &[]).await {
        return page_error(e);
    }
    if who.user.totp_enabled {
        return page_error(AppError::Conflict(
            "two-factor sign-in is already set up".to_owned(),
        ));
    }
    match totp::start(&state, &who, &source).await {
        Ok(enrolment) => page(
            StatusCode::OK,
            &account_page(&who, Some(enrolment), FormState::default()),
        ),
        Err(e) => page_error(e),
    }
}

async fn confirm_totp(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    if let Err(e) = permit_route(&state, &who, "POST", "/api/v1/me/totp/confirm", &[]).await {
        return page_error(e);
    }
    if let Some(code) = read_code(&mut form) {
        match totp::confirm(&state, &who, &source, &code).await {
            Ok(_) => return Redirect::to("/account").into_response(),
            Err(e) => {
                if let Err(other) = form.take(e, &[], "code") {
                    return page_error(other);
                }
            }
        }
    }
    // The secret is not shown again: starting again makes a new one.
    let page_ = account_page(&who, None, form);
    form_page(&page_.form, &page_)
}

async fn totp_off(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    if let Err(e) = permit_route(&state, &who, "DELETE", "/api/v1/me/totp", &[]).await {
        return page_error(e);
    }
    if let Some(code) = read_code(&mut form) {
        match totp::off(&state, &who, &source, &code).await {
            Ok(()) => return Redirect::to("/account").into_response(),
            Err(e) => {
                if let Err(other) = form.take(e, &[], "code") {
                    return page_error(other);
                }
            }
        }
    }
    let page_ = account_page(&who, None, form);
    form_page(&page_.form, &page_)
}

/// Ends every session of the user's, this one included, and so signs them out.
async fn end_sessions(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    jar: CookieJar,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    if let Err(e) = permit_route(&state, &who, "DELETE", "/api/v1/me/sessions", &[]).await {
        return page_error(e);
    }
    match me::end_all(&state, &who, &source).await {
        Ok(_) => {
            let name = crate::auth::session_cookie_name(state.config.secure_cookies);
            let mut cookie = Cookie::build((name, "")).path("/").build();
            cookie.make_removal();
            (jar.add(cookie), Redirect::to("/sign-in")).into_response()
        }
        Err(e) => page_error(e),
    }
}

/// A token as a row of the table.
struct TokenRow {
    id: String,
    name: String,
    created_at: String,
    expires_at: String,
    state: &'static str,
    tag: &'static str,
    usable: bool,
}

#[derive(Template)]
#[template(path = "account_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<TokenRow>,
    form: FormState,
    expiries: Vec<super::Choice>,
    /// A token just made: its name and secret, shown only now.
    created: Option<(String, String)>,
}

async fn tokens_view(
    state: &AppState,
    who: &Authenticated,
    form: FormState,
    created: Option<(String, String)>,
) -> Result<TokensPage, AppError> {
    let now = Timestamp::now();
    let mut tokens = state.store.api_tokens_of(who.user.id).await?;
    tokens.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    let rows = tokens
        .into_iter()
        .map(|t| {
            let (state, tag) = if t.revoked_at.is_some() {
                ("revoked", "tag-grey")
            } else if t.is_usable(now) {
                ("active", "tag-green")
            } else {
                ("expired", "tag-orange")
            };
            TokenRow {
                id: t.id.to_string(),
                usable: t.is_usable(now),
                name: t.name,
                created_at: london(t.created_at),
                expires_at: t.expires_at.map_or_else(|| "Never".to_owned(), london),
                state,
                tag,
            }
        })
        .collect();
    Ok(TokensPage {
        chrome: Chrome::new(who, "/account"),
        rows,
        form,
        expiries: EXPIRIES
            .iter()
            .map(|(value, label, _)| super::Choice::new(*value, *label))
            .collect(),
        created,
    })
}

/// How long a new token may last: (value, label, days; none for never).
const EXPIRIES: &[(&str, &str, Option<i64>)] = &[
    ("30", "30 days", Some(30)),
    ("90", "90 days", Some(90)),
    ("365", "One year", Some(365)),
    ("never", "Never", None),
];

async fn tokens_page(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    if let Err(e) = permit_route(&state, &who, "GET", "/api/v1/tokens", &[]).await {
        return page_error(e);
    }
    match tokens_view(&state, &who, FormState::with(&[("expires", "90")]), None).await {
        Ok(page_) => page(StatusCode::OK, &page_),
        Err(e) => page_error(e),
    }
}

async fn create_token(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    if let Err(e) = permit_route(&state, &who, "POST", "/api/v1/tokens", &[]).await {
        return page_error(e);
    }
    let name = form.required("name", "The name", "Enter a name for the token", |raw| {
        accounts::parse_token_name(raw)
            .map_err(|_| FieldError::new("name", "must be 1 to 80 characters"))
    });
    let expires = form.required(
        "expires",
        "The expiry",
        "Choose when the token stops working",
        |raw| {
            EXPIRIES
                .iter()
                .find(|(value, _, _)| *value == raw)
                .map(|(_, _, days)| days.map(|d| Timestamp::now().plus(chrono::Duration::days(d))))
                .ok_or_else(|| FieldError::new("expires", "is not one of the choices"))
        },
    );
    let mut created = None;
    if let (Some(name), Some(expires_at)) = (name, expires) {
        match accounts::create_token(
            &state.store,
            who.actor(),
            &source,
            who.user.id,
            name,
            expires_at,
        )
        .await
        {
            Ok((token, secret)) => {
                created = Some((token.name, secret));
                form = FormState::with(&[("expires", "90")]);
            }
            Err(e) => {
                if let Err(other) = form.take(e, &[("expires_at", "expires")], "name") {
                    return page_error(other);
                }
            }
        }
    }
    // The secret is shown on this answer only: it is not kept, and a reload of the list
    // does not show it.
    let status = if form.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    match tokens_view(&state, &who, form, created).await {
        Ok(page_) => page(status, &page_),
        Err(e) => page_error(e),
    }
}

async fn revoke_token(
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
            "/api/v1/tokens/{id}",
            &[("id", &id)],
        )
        .await?;
        tokens::revoke(&state, &who, &source, &id).await
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/account/tokens").into_response(),
        Err(e) => page_error(e),
    }
}
