//! An organisation's identity provider for single sign-on: read, set and remove. For
//! the organisation's administrators and national agency administrators; the
//! authorisation layer answers any other organisation's as if it did not exist. The
//! client secret is taken, kept and never sent back.

use super::administered;
use crate::auth::Principal;
use crate::error::{ApiJson, AppError, FieldProblem, Problem};
use crate::sso::{self, transport};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use concordat_domain::people::{FieldError, Role};
use concordat_domain::sso::{
    ClaimName, ClientId, ClientSecret, IdentityProvider, IssuerUrl, Provisioning, RoleMap, Scopes,
};
use concordat_domain::time::Timestamp;
use concordat_store::StoredIdentityProvider;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_provider, put_provider, delete_provider))
}

/// An organisation's identity provider as the API shows it: everything but the secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IdentityProviderView {
    /// The organisation people sign in to.
    organisation: String,
    /// The issuer.
    issuer: String,
    /// Concordat's client identifier at the provider.
    client_id: String,
    /// Whether a client secret is stored (it is never shown).
    client_secret_set: bool,
    /// The scopes asked for (always including `openid`).
    scopes: Vec<String>,
    /// The claim whose values give roles.
    role_claim: String,
    /// Which claim values give which roles.
    role_map: BTreeMap<String, Vec<Role>>,
    /// The claim holding the Concordat username.
    username_claim: String,
    /// A claim that must equal the organisation's code, if set.
    organisation_claim: Option<String>,
    /// Whether accounts are made at first sign-in.
    provisioning: Provisioning,
    /// The redirect URI to register at the provider (absent when the server has no
    /// public address configured).
    redirect_uri: Option<String>,
    /// Where people start signing in.
    sign_in_path: String,
    /// When it was last set.
    updated_at: Timestamp,
}

impl IdentityProviderView {
    fn new(state: &AppState, stored: StoredIdentityProvider) -> Self {
        let p = stored.provider;
        Self {
            sign_in_path: format!("/sign-in/sso/{}", stored.organisation),
            organisation: stored.organisation.to_string(),
            issuer: p.issuer.to_string(),
            client_id: p.client_id.to_string(),
            client_secret_set: true,
            scopes: p.scopes.into(),
            role_claim: p.role_claim.to_string(),
            role_map: p
                .role_map
                .iter()
                .map(|(v, roles)| (v.to_owned(), roles.iter().collect()))
                .collect(),
            username_claim: p.username_claim.to_string(),
            organisation_claim: p.organisation_claim.map(|c| c.to_string()),
            provisioning: p.provisioning,
            redirect_uri: state.config.public_url.as_ref().map(|u| u.redirect_uri()),
            updated_at: stored.updated_at,
        }
    }
}

/// An identity provider to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentityProviderInput {
    /// The issuer: `https://` (plain `http://` only on a server started for development).
    issuer: String,
    /// Concordat's client identifier at the provider.
    client_id: String,
    /// The client secret. Required the first time; leave it out to keep the stored one.
    #[serde(default)]
    client_secret: Option<String>,
    /// Scopes besides `openid` (default `profile`).
    #[serde(default)]
    scopes: Option<Vec<String>>,
    /// The claim whose values give roles, e.g. `roles` or `groups`.
    role_claim: String,
    /// Which claim values give which roles, e.g. `{"ccu-officers": ["tasking-officer"]}`.
    role_map: BTreeMap<String, Vec<Role>>,
    /// The claim holding the Concordat username (default `preferred_username`).
    #[serde(default)]
    username_claim: Option<String>,
    /// A claim that must equal the organisation's code, for a provider shared by several
    /// organisations.
    #[serde(default)]
    organisation_claim: Option<String>,
    /// `just-in-time` (accounts made at first sign-in, with BPSS vetting) or
    /// `existing-only` (default).
    #[serde(default)]
    provisioning: Option<Provisioning>,
}

/// Reads an organisation's identity provider, without its secret.
#[utoipa::path(
    get,
    path = "/api/v1/organisations/{code}/identity-provider",
    tag = "registry",
    params(("code" = String, Path, description = "The organisation's code, e.g. `met`")),
    responses(
        (status = 200, body = IdentityProviderView),
        (status = 401, body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such organisation, not yours, or no identity provider set", body = Problem),
    )
)]
async fn get_provider(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<axum::Json<IdentityProviderView>, AppError> {
    let code = administered(&who, &code)?;
    let stored = state
        .store
        .identity_provider(&code)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(axum::Json(IdentityProviderView::new(&state, stored)))
}

/// Sets an organisation's identity provider for single sign-on, replacing any.
#[utoipa::path(
    put,
    path = "/api/v1/organisations/{code}/identity-provider",
    tag = "registry",
    params(("code" = String, Path, description = "The organisation's code, e.g. `met`")),
    request_body = IdentityProviderInput,
    responses(
        (status = 200, body = IdentityProviderView),
        (status = 401, body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, body = Problem),
        (status = 422, description = "A field is not valid; the problem names it", body = Problem),
    )
)]
async fn put_provider(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<IdentityProviderInput>,
) -> Result<axum::Json<IdentityProviderView>, AppError> {
    let code = administered(&who, &code)?;
    let stored = state.store.identity_provider(&code).await?;
    let provider = parse(&state, input, stored.as_ref())?;
    let saved =
        sso::set_identity_provider(&state.store, who.actor(), &source, &code, &provider).await?;
    Ok(axum::Json(IdentityProviderView::new(&state, saved)))
}

/// Removes an organisation's identity provider: its people sign in with passwords
/// again. Removing none succeeds.
#[utoipa::path(
    delete,
    path = "/api/v1/organisations/{code}/identity-provider",
    tag = "registry",
    params(("code" = String, Path, description = "The organisation's code, e.g. `met`")),
    responses(
        (status = 204, description = "Removed, or there was none"),
        (status = 401, body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn delete_provider(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(code): Path<String>,
) -> Result<StatusCode, AppError> {
    let code = administered(&who, &code)?;
    sso::remove_identity_provider(&state.store, who.actor(), &source, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The value, or `None` with its error noted.
fn check<T>(errors: &mut Vec<FieldProblem>, result: Result<T, FieldError>) -> Option<T> {
    result
        .map_err(|e| {
            errors.push(FieldProblem {
                field: e.field.to_owned(),
                message: e.message,
            })
        })
        .ok()
}

/// Turns the input into a provider, naming every field in error.
fn parse(
    state: &AppState,
    input: IdentityProviderInput,
    stored: Option<&StoredIdentityProvider>,
) -> Result<IdentityProvider, AppError> {
    let mut errors: Vec<FieldProblem> = vec![];
    let errs = &mut errors;
    let issuer = check(errs, IssuerUrl::parse(&input.issuer, transport(state)));
    let client_id = check(errs, ClientId::parse(&input.client_id));
    let client_secret = match input.client_secret.as_deref() {
        Some(raw) => check(errs, ClientSecret::parse(raw)),
        None => match stored {
            Some(s) => Some(s.provider.client_secret.clone()),
            None => check(
                errs,
                Err(FieldError::new(
                    "client_secret",
                    "is required for a new identity provider",
                )),
            ),
        },
    };
    let scopes = match &input.scopes {
        Some(list) => check(errs, Scopes::parse(list.iter().map(String::as_str))),
        None => Some(Scopes::standard()),
    };
    let role_claim = check(
        errs,
        ClaimName::parse_field(&input.role_claim, "role_claim"),
    );
    let role_map = check(errs, RoleMap::new(input.role_map));
    let username_claim = check(
        errs,
        ClaimName::parse_field(
            input
                .username_claim
                .as_deref()
                .unwrap_or("preferred_username"),
            "username_claim",
        ),
    );
    let organisation_claim = match input.organisation_claim.as_deref() {
        Some(raw) => check(errs, ClaimName::parse_field(raw, "organisation_claim")).map(Some),
        None => Some(None),
    };
    match (
        issuer,
        client_id,
        client_secret,
        scopes,
        role_claim,
        role_map,
        username_claim,
        organisation_claim,
    ) {
        (
            Some(issuer),
            Some(client_id),
            Some(client_secret),
            Some(scopes),
            Some(role_claim),
            Some(role_map),
            Some(username_claim),
            Some(organisation_claim),
        ) if errors.is_empty() => Ok(IdentityProvider {
            issuer,
            client_id,
            client_secret,
            scopes,
            role_claim,
            role_map,
            username_claim,
            organisation_claim,
            provisioning: input.provisioning.unwrap_or(Provisioning::ExistingOnly),
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}
