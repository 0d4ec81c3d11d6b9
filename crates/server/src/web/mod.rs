//! Server-rendered pages. Forms post with a CSRF token: the session's for signed-in
//! pages, a double-submit cookie for the sign-in form. Pages that need a user send
//! everyone else to the sign-in page.

use crate::api::session::{check_credentials, end_session, start_session};
use crate::auth::{self, Authenticated, Pending, csrf_matches};
use crate::error::{AppError, FieldProblem};
use crate::{AppState, ClientAddress, accounts, sso};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use concordat_domain::people::{NewPassword, User};
use concordat_domain::registry::OrgCode;
use concordat_domain::totp::TotpCode;
use concordat_store::SsoOrganisation;
use serde::Deserialize;
use serde::de::DeserializeOwned;

mod account;
mod admin;
mod catalogue;
mod deconfliction;
mod directions;
mod operations;
mod requests;
mod work;

/// The pages.
pub(crate) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .merge(requests::router())
        .merge(operations::router())
        .merge(directions::router())
        .merge(deconfliction::router())
        .merge(catalogue::router())
        .merge(work::router())
        .merge(account::router())
        .merge(admin::router())
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route(sso::CALLBACK_PATH, get(sso_callback))
        .route(
            "/sign-in/sso/second-factor",
            axum::routing::post(sso_second_factor),
        )
        .route("/sign-in/sso/{code}", get(sso_start))
        .route("/sign-out", axum::routing::post(sign_out))
        .route(
            "/account/password",
            get(password_page).post(change_password),
        )
        .route("/briefing", get(briefing_page))
        .route("/briefing/packs/{id}", get(kept_pack_page))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
}

const SIGN_IN_CSRF_COOKIE: &str = "concordat_sign_in_csrf";

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}

/// One link of the navigation.
pub(crate) struct NavLink {
    pub(crate) label: &'static str,
    pub(crate) href: &'static str,
    /// The page shown is this section's.
    pub(crate) current: bool,
}

/// The sections of the service, each shown to those who may call one of the API
/// routes it is built on (the pages check again, on the server, when they are opened).
const SECTIONS: &[(&str, &str, &[&str])] = &[
    ("My work", "/", &[]),
    ("Requests", "/requests", &["/api/v1/requests"]),
    ("Operations", "/operations", &["/api/v1/operations"]),
    ("Directions", "/directions", &["/api/v1/directions/{id}"]),
    (
        "Deconfliction",
        "/deconfliction",
        &["/api/v1/hits", "/api/v1/activities"],
    ),
    ("Catalogue", "/catalogue", &["/api/v1/capabilities"]),
    ("Briefing", "/briefing", &["/api/v1/briefings/daily"]),
    ("Administration", "/admin", &["/api/v1/users"]),
];

/// What frames every signed-in page: who is signed in, the sections their roles open,
/// and the session's CSRF token for the page's forms.
pub(crate) struct Chrome {
    pub(crate) display_name: String,
    pub(crate) organisation: String,
    pub(crate) csrf_token: String,
    pub(crate) nav: Vec<NavLink>,
}

impl Chrome {
    /// The frame for `who` on a page of the section at `section` (its href).
    pub(crate) fn new(who: &Authenticated, section: &str) -> Self {
        let nav = SECTIONS
            .iter()
            .filter(|(_, _, routes)| {
                routes.is_empty()
                    || routes
                        .iter()
                        .any(|path| crate::authz::may_call(who, "GET", path))
            })
            .map(|(label, href, _)| NavLink {
                label,
                href,
                current: *href == section,
            })
            .collect();
        Self {
            display_name: who.user.display_name.as_str().to_owned(),
            organisation: who.organisation.short_name.clone(),
            csrf_token: who.csrf_token().unwrap_or_default().to_owned(),
            nav,
        }
    }
}

/// One choice of a select or a set of radios.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    /// Said under the label (radios only); may be empty.
    pub(crate) hint: String,
}

impl Choice {
    pub(crate) fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            hint: String::new(),
        }
    }

    pub(crate) fn hinted(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }
}

/// A form as it was posted: every field's value as typed, kept to show again with the
/// errors found in it. Fields may repeat (check boxes).
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub(crate) struct FormState {
    values: Vec<(String, String)>,
    #[serde(skip)]
    pub(crate) errors: Vec<FieldProblem>,
}

impl FormState {
    /// An empty form with these starting values.
    pub(crate) fn with(values: &[(&str, &str)]) -> Self {
        Self {
            values: values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            errors: vec![],
        }
    }

    /// The value of field `name` as typed (the first, if it repeats), or empty.
    pub(crate) fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The value of field `name`, trimmed, or `None` if it is blank.
    pub(crate) fn given(&self, name: &str) -> Option<&str> {
        Some(self.value(name).trim()).filter(|v| !v.is_empty())
    }

    /// Every value of field `name`.
    pub(crate) fn values(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether `value` is chosen for field `name` (a radio, option or check box).
    pub(crate) fn chosen(&self, name: &str, value: &str) -> bool {
        self.values.iter().any(|(k, v)| k == name && v == value)
    }

    /// The message for field `name`, if it is in error.
    pub(crate) fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    /// Adds an error for field `name`.
    pub(crate) fn fail(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldProblem {
            field: name.to_owned(),
            message: message.into(),
        });
    }

    /// Field `name` parsed by `parse`: `None`, with the field in error, when it is blank
    /// (`missing` says what to do) or `parse` refuses it (`label` starts the message).
    pub(crate) fn required<T>(
        &mut self,
        name: &str,
        label: &str,
        missing: &str,
        parse: impl FnOnce(&str) -> Result<T, concordat_domain::people::FieldError>,
    ) -> Option<T> {
        let Some(raw) = self.given(name).map(str::to_owned) else {
            self.fail(name, missing);
            return None;
        };
        self.parsed(name, label, &raw, parse)
    }

    /// Field `name` parsed by `parse` if it is given: `Some(None)` when blank, `None`
    /// (with the field in error) when `parse` refuses it.
    pub(crate) fn optional<T>(
        &mut self,
        name: &str,
        label: &str,
        parse: impl FnOnce(&str) -> Result<T, concordat_domain::people::FieldError>,
    ) -> Option<Option<T>> {
        match self.given(name).map(str::to_owned) {
            None => Some(None),
            Some(raw) => self.parsed(name, label, &raw, parse).map(Some),
        }
    }

    fn parsed<T>(
        &mut self,
        name: &str,
        label: &str,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, concordat_domain::people::FieldError>,
    ) -> Option<T> {
        match parse(raw) {
            Ok(value) => Some(value),
            Err(e) => {
                self.fail(name, format!("{label} {}", e.message));
                None
            }
        }
    }

    /// Whether any field is in error.
    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Takes the problems of a refused change: the fields in error, each shown at its
    /// field (the service's names that this form calls otherwise mapped by `names`, as
    /// `("roles", "lead")`), or what the rules refused, shown in the summary against
    /// `field`. Anything else is not the form's to show, and is given back.
    pub(crate) fn take(
        &mut self,
        error: AppError,
        names: &[(&str, &str)],
        field: &str,
    ) -> Result<(), AppError> {
        match error {
            AppError::Invalid(problems) => {
                for mut p in problems {
                    let message = sentence(&p.field, &p.message);
                    if let Some((_, ours)) = names.iter().find(|(theirs, _)| *theirs == p.field) {
                        p.field = (*ours).to_owned();
                    }
                    // A field this form does not show (a nested path) is shown against
                    // the field the page names.
                    let at = if self.values.iter().any(|(k, _)| *k == p.field) {
                        p.field
                    } else {
                        field.to_owned()
                    };
                    self.fail(&at, message);
                }
                Ok(())
            }
            AppError::Refused { title, refusals } => {
                for r in refusals {
                    self.fail(field, format!("{title}: {} ({})", r.message, r.paragraph));
                }
                Ok(())
            }
            AppError::Conflict(message) => {
                self.fail(field, capitalise(&message));
                Ok(())
            }
            other => Err(other),
        }
    }
}

/// A stable text (`organised-acquisitive-crime`) as words (`Organised acquisitive crime`).
pub(crate) fn words(text: &str) -> String {
    capitalise(&text.replace('-', " "))
}

/// A moment as London reads it (`Wed 2 Dec 14:30`).
pub(crate) fn london(at: concordat_domain::time::Timestamp) -> String {
    concordat_domain::briefing::london_text(at)
}

/// "The receiver must be ...": a field's name and what is wrong with it, as a sentence.
fn sentence(field: &str, message: &str) -> String {
    capitalise(&format!("{} {message}", field.replace(['_', '.'], " ")))
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A page as a response with `status`.
pub(crate) fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => AppError::Internal(e.into()).into_response(),
    }
}

/// A page to show, or why it cannot be: what a page handler's work ends in.
pub(crate) fn shown(result: Result<impl Template, AppError>) -> Response {
    match result {
        Ok(template) => page(StatusCode::OK, &template),
        Err(e) => page_error(e),
    }
}

/// A form page: 200 when it is new, 422 when it comes back with errors.
pub(crate) fn form_page(form: &FormState, template: &impl Template) -> Response {
    let status = if form.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(status, template)
}

#[derive(Template, WebTemplate)]
#[template(path = "problem.html")]
struct ProblemPage {
    heading: &'static str,
    detail: String,
}

/// What a page shows when the service refuses: a record the user may not see is the
/// not-found page (as if it did not exist), a change they may not make is refused in
/// plain words, a signed-out user is sent to sign in.
pub(crate) fn page_error(error: AppError) -> Response {
    match error {
        AppError::NotFound => not_found_page(),
        AppError::Unauthenticated => Redirect::to("/sign-in").into_response(),
        AppError::Forbidden(detail) => (
            StatusCode::FORBIDDEN,
            ProblemPage {
                heading: "You cannot do this",
                detail: capitalise(&detail),
            },
        )
            .into_response(),
        AppError::Conflict(detail) => (
            StatusCode::CONFLICT,
            ProblemPage {
                heading: "This has changed",
                detail: capitalise(&detail),
            },
        )
            .into_response(),
        other => other.into_response(),
    }
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "not_found.html")]
struct NotFoundPage;

/// The page for an address that leads nowhere (or to a record the user may not see).
pub(crate) fn not_found_page() -> Response {
    (StatusCode::NOT_FOUND, NotFoundPage).into_response()
}

/// A signed-in user on a page. Anyone else is sent to sign in; a user who must change
/// their password is sent to do so (unless this is that page). A user who must set up
/// a second factor sees only the home page, which says so, and the account page, where
/// they set it up.
struct PageUser(Authenticated);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match auth::authenticate(parts, state).await {
            Ok(Some(who)) => {
                let path = parts.uri.path();
                match who.pending() {
                    Some(Pending::PasswordChange) if path != "/account/password" => {
                        Err(Redirect::to("/account/password").into_response())
                    }
                    Some(Pending::TotpEnrolment)
                        if ![
                            "/",
                            "/sign-out",
                            "/account",
                            "/account/password",
                            "/account/totp",
                            "/account/totp/confirm",
                        ]
                        .contains(&path) =>
                    {
                        Err(Redirect::to("/").into_response())
                    }
                    _ => Ok(Self(who)),
                }
            }
            Ok(None) | Err(AppError::Unauthenticated) => {
                Err(Redirect::to("/sign-in").into_response())
            }
            Err(other) => Err(other.into_response()),
        }
    }
}

/// A form posted by a signed-in user, with the session's CSRF token checked before
/// the form is looked at.
struct CsrfForm<T>(PageUser, T);

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = PageUser::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let field: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            (StatusCode::BAD_REQUEST, "The form could not be read.").into_response()
        })?;
        let expected = user.0.csrf_token().unwrap_or("");
        if expected.is_empty() || !csrf_matches(expected, &field.csrf_token) {
            return Err(AppError::Forbidden(
                "the form's CSRF token is missing or wrong; reload the page and try again".into(),
            )
            .into_response());
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            (StatusCode::BAD_REQUEST, "The form could not be read.").into_response()
        })?;
        Ok(Self(user, form))
    }
}

/// Field errors as the templates show them.
trait Errors {
    fn errors(&self) -> &[FieldProblem];

    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors()
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    csrf_token: String,
    username: String,
    errors: Vec<FieldProblem>,
    /// The organisations whose people may sign in with their own sign-in service.
    sso: Vec<SsoOrganisation>,
}

/// The organisations with single sign-on, for the sign-in page; none if the store
/// cannot say (the password form still works).
async fn sso_links(state: &AppState) -> Vec<SsoOrganisation> {
    if state.config.public_url.is_none() {
        return vec![];
    }
    match state.store.sso_organisations().await {
        Ok(list) => list,
        Err(e) => {
            tracing::error!(error = %e, "listing single sign-on organisations failed");
            vec![]
        }
    }
}

impl Errors for SignInPage {
    fn errors(&self) -> &[FieldProblem] {
        &self.errors
    }
}

impl SignInPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        Errors::error_for(self, field)
    }
}

fn sign_in_csrf_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((SIGN_IN_CSRF_COOKIE, value))
        .path("/sign-in")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Strict)
        .build()
}

async fn sign_in_page(State(state): State<AppState>, jar: CookieJar) -> Response {
    let csrf_token = auth::new_secret();
    let page = SignInPage {
        csrf_token: csrf_token.clone(),
        username: String::new(),
        errors: vec![],
        sso: sso_links(&state).await,
    };
    (jar.add(sign_in_csrf_cookie(&state, csrf_token)), page).into_response()
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
}

async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    jar: CookieJar,
    axum::Form(form): axum::Form<SignInForm>,
) -> Response {
    let expected = jar
        .get(SIGN_IN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let fresh = auth::new_secret();
    let sso = sso_links(&state).await;
    let again = |status: StatusCode, errors: Vec<FieldProblem>| {
        let page = SignInPage {
            csrf_token: fresh.clone(),
            username: form.username.clone(),
            errors,
            sso: sso.clone(),
        };
        (
            status,
            jar.clone().add(sign_in_csrf_cookie(&state, fresh.clone())),
            page,
        )
            .into_response()
    };
    if expected.is_empty() || !csrf_matches(&expected, &form.csrf_token) {
        return again(
            StatusCode::FORBIDDEN,
            vec![problem(
                "username",
                "Your sign-in form had expired. Try again.",
            )],
        );
    }
    let mut errors = vec![];
    if form.username.trim().is_empty() {
        errors.push(problem("username", "Enter your username"));
    }
    if form.password.is_empty() {
        errors.push(problem("password", "Enter your password"));
    }
    let totp = if form.totp.trim().is_empty() {
        None
    } else {
        match TotpCode::parse(&form.totp) {
            Ok(code) => Some(code),
            Err(_) => {
                errors.push(problem(
                    "totp",
                    "Enter the 6-digit security code from your authenticator app",
                ));
                None
            }
        }
    };
    if !errors.is_empty() {
        return again(StatusCode::UNPROCESSABLE_ENTITY, errors);
    }
    let checked = check_credentials(
        &state,
        &source,
        &form.username,
        &form.password,
        totp.as_ref(),
    )
    .await;
    let user = match checked {
        Ok(user) => user,
        Err(AppError::TotpRequired) => {
            return again(
                StatusCode::UNAUTHORIZED,
                vec![problem(
                    "totp",
                    "Enter the security code from your authenticator app",
                )],
            );
        }
        Err(AppError::BadTotp) => {
            return again(
                StatusCode::UNAUTHORIZED,
                vec![problem(
                    "totp",
                    "The security code is not right, or has been used already: wait for the next one",
                )],
            );
        }
        Err(AppError::BadCredentials) => {
            return again(
                StatusCode::UNAUTHORIZED,
                vec![problem("username", "The username or password is not right")],
            );
        }
        Err(AppError::RateLimited { retry_after_secs }) => {
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                vec![problem(
                    "username",
                    &format!("Too many attempts. Try again in {retry_after_secs} seconds."),
                )],
            );
        }
        Err(other) => return other.into_response(),
    };
    match start_session(&state, &source, &user).await {
        Ok((cookie, _, _)) => {
            let to = if user.must_change_password {
                "/account/password"
            } else {
                "/"
            };
            let jar = jar
                .remove(Cookie::build(SIGN_IN_CSRF_COOKIE).path("/sign-in"))
                .add(cookie);
            (jar, Redirect::to(to)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// The cookie that ties a single sign-on in flight to this browser: host-only,
/// HttpOnly, SameSite=Lax (the provider sends the browser back with a cross-site
/// GET, on which a Strict cookie would not come), Secure unless configured otherwise.
/// What it stands for lasts ten minutes in the store and is used once.
fn sso_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((sso_cookie_name(state), value))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .build()
}

fn sso_cookie_name(state: &AppState) -> &'static str {
    if state.config.secure_cookies {
        "__Host-concordat_sso"
    } else {
        "concordat_sso"
    }
}

/// The sign-in page with what went wrong with a single sign-on.
async fn sso_failed(state: &AppState, jar: CookieJar, error: sso::SsoError) -> Response {
    let status = match &error {
        sso::SsoError::Expired => StatusCode::BAD_REQUEST,
        sso::SsoError::NotConfigured | sso::SsoError::NoPublicUrl => StatusCode::NOT_FOUND,
        sso::SsoError::Provider | sso::SsoError::BadCode => StatusCode::UNAUTHORIZED,
        sso::SsoError::Refused(_) => StatusCode::FORBIDDEN,
        sso::SsoError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        sso::SsoError::Internal(_) => {
            let sso::SsoError::Internal(inner) = error else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            return inner.into_response();
        }
    };
    let csrf_token = auth::new_secret();
    let page = SignInPage {
        csrf_token: csrf_token.clone(),
        username: String::new(),
        errors: vec![problem("sso", &error.to_string())],
        sso: sso_links(state).await,
    };
    let jar = jar
        .remove(Cookie::build(sso_cookie_name(state)).path("/"))
        .add(sign_in_csrf_cookie(state, csrf_token));
    (status, jar, page).into_response()
}

async fn sso_start(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    jar: CookieJar,
    Path(code): Path<String>,
) -> Response {
    let Ok(code) = OrgCode::parse(&code) else {
        return not_found_page();
    };
    match sso::begin(&state, &source, &code).await {
        Ok(started) => (
            jar.add(sso_cookie(&state, started.cookie_secret)),
            Redirect::to(&started.redirect_to),
        )
            .into_response(),
        Err(e) => sso_failed(&state, jar, e).await,
    }
}

/// Signs in `user` and sends them on, clearing the single sign-on cookies.
async fn signed_in(state: &AppState, source: &str, jar: CookieJar, user: &User) -> Response {
    match start_session(state, source, user).await {
        Ok((cookie, _, _)) => {
            let to = if user.must_change_password {
                "/account/password"
            } else {
                "/"
            };
            let jar = jar
                .remove(Cookie::build(sso_cookie_name(state)).path("/"))
                .remove(Cookie::build(SIGN_IN_CSRF_COOKIE).path("/sign-in"))
                .add(cookie);
            (jar, Redirect::to(to)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sso_second_factor.html")]
struct SsoSecondFactorPage {
    csrf_token: String,
    errors: Vec<FieldProblem>,
}

impl Errors for SsoSecondFactorPage {
    fn errors(&self) -> &[FieldProblem] {
        &self.errors
    }
}

impl SsoSecondFactorPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        Errors::error_for(self, field)
    }
}

/// Asks for the security code, with the cookies for the next step.
fn ask_for_code(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    cookie_secret: String,
    errors: Vec<FieldProblem>,
) -> Response {
    let csrf_token = auth::new_secret();
    let jar = jar
        .add(sso_cookie(state, cookie_secret))
        .add(sign_in_csrf_cookie(state, csrf_token.clone()));
    (status, jar, SsoSecondFactorPage { csrf_token, errors }).into_response()
}

async fn sso_callback(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    jar: CookieJar,
    query: Result<Query<sso::Callback>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let callback = query.map(|Query(q)| q).unwrap_or_default();
    let cookie = jar
        .get(sso_cookie_name(&state))
        .map(|c| c.value().to_owned());
    match sso::finish(&state, &source, cookie.as_deref(), &callback).await {
        Ok(sso::Finished::SignedIn(user)) => signed_in(&state, &source, jar, &user).await,
        Ok(sso::Finished::SecondFactor { cookie_secret, .. }) => {
            ask_for_code(&state, jar, StatusCode::OK, cookie_secret, vec![])
        }
        Err(e) => sso_failed(&state, jar, e).await,
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    totp: String,
}

async fn sso_second_factor(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    jar: CookieJar,
    axum::Form(form): axum::Form<CodeForm>,
) -> Response {
    let expected = jar
        .get(SIGN_IN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty() || !csrf_matches(&expected, &form.csrf_token) {
        return sso_failed(&state, jar, sso::SsoError::Expired).await;
    }
    let cookie = jar
        .get(sso_cookie_name(&state))
        .map(|c| c.value().to_owned());
    let code = TotpCode::parse(&form.totp).map_err(|_| ());
    match sso::second_factor(&state, &source, cookie.as_deref(), code).await {
        Ok(user) => signed_in(&state, &source, jar, &user).await,
        Err((sso::SsoError::BadCode, Some(again))) => ask_for_code(
            &state,
            jar,
            StatusCode::UNAUTHORIZED,
            again,
            vec![problem(
                "totp",
                "The security code is not right, or has been used already: enter the 6-digit code from your authenticator app",
            )],
        ),
        Err((e, _)) => sso_failed(&state, jar, e).await,
    }
}

fn problem(field: &str, message: &str) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn sign_out(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    jar: CookieJar,
    CsrfForm(PageUser(who), Empty {}): CsrfForm<Empty>,
) -> Response {
    match end_session(&state, &source, &who).await {
        Ok(cookie) => (jar.add(cookie), Redirect::to("/sign-in")).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    must_change_password: bool,
    errors: Vec<FieldProblem>,
}

impl Errors for PasswordPage {
    fn errors(&self) -> &[FieldProblem] {
        &self.errors
    }
}

impl PasswordPage {
    fn new(who: Authenticated, errors: Vec<FieldProblem>) -> Self {
        Self {
            chrome: Chrome::new(&who, "/account"),
            must_change_password: who.user.must_change_password,
            errors,
        }
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        Errors::error_for(self, field)
    }
}

async fn password_page(PageUser(who): PageUser) -> PasswordPage {
    PasswordPage::new(who, vec![])
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), form): CsrfForm<PasswordForm>,
) -> Response {
    let new = match NewPassword::parse(&form.new_password) {
        Ok(p) => p,
        Err(e) => {
            let errors = vec![problem(
                "new_password",
                &format!("The new password {}", e.message),
            )];
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                PasswordPage::new(who, errors),
            )
                .into_response();
        }
    };
    let actor = who.actor();
    match accounts::change_password(
        &state.store,
        actor,
        &source,
        who.user.id,
        &form.current_password,
        &new,
    )
    .await
    {
        Ok(()) => Redirect::to("/").into_response(),
        Err(AppError::Invalid(errors)) => {
            let errors = errors
                .into_iter()
                .map(|e| FieldProblem {
                    message: format!("The {} {}", e.field.replace('_', " "), e.message),
                    field: e.field,
                })
                .collect();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                PasswordPage::new(who, errors),
            )
                .into_response()
        }
        Err(other) => other.into_response(),
    }
}

/// What the briefing page is asked for.
#[derive(Debug, Deserialize)]
struct BriefingQuery {
    date: Option<String>,
    scope: Option<String>,
}

/// The daily management pack as a printable page. A date or scope in error is shown in
/// the error summary, with the value entered, over the default pack.
async fn briefing_page(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    PageUser(who): PageUser,
    Query(query): Query<BriefingQuery>,
) -> Response {
    let principal = auth::Principal(who.clone());
    let mut errors = vec![];
    let (date, scope) = match crate::api::briefing_which(
        &state,
        &principal,
        query.date.as_deref().filter(|d| !d.trim().is_empty()),
        query.scope.as_deref().filter(|s| !s.trim().is_empty()),
    ) {
        Ok(which) => which,
        Err(AppError::Invalid(problems)) => {
            errors = problems;
            match crate::api::briefing_which(&state, &principal, None, None) {
                Ok(which) => which,
                Err(e) => return e.into_response(),
            }
        }
        Err(e) => return e.into_response(),
    };
    let pack = match crate::briefing::read_daily(&state, &who, &source, date, scope).await {
        Ok(pack) => pack,
        Err(e) => return e.into_response(),
    };
    let kept = match crate::briefing::kept(&state, &who).await {
        Ok(kept) => kept,
        Err(e) => return e.into_response(),
    };
    let page = crate::briefing::PackPage {
        pack: &pack,
        kept: &kept,
        errors: &errors,
        date_value: query.date.clone().unwrap_or_else(|| pack.date.to_string()),
        scope_value: query
            .scope
            .clone()
            .unwrap_or_else(|| pack.scope.to_string()),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => AppError::Internal(e.into()).into_response(),
    }
}

/// A pack kept for the signed-in user; anyone else's is the not-found page.
async fn kept_pack_page(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    PageUser(who): PageUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let Ok(id) = id.parse() else {
        return not_found_page();
    };
    match crate::briefing::open_kept(&state, &who, &source, id).await {
        Ok(pack) => match crate::briefing::PackPage::standalone(&pack).render() {
            Ok(html) => axum::response::Html(html).into_response(),
            Err(e) => AppError::Internal(e.into()).into_response(),
        },
        Err(AppError::NotFound) => not_found_page(),
        Err(e) => e.into_response(),
    }
}
