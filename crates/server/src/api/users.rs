//! Administering accounts. National agency administrators manage every
//! organisation's users; other administrators only their own organisation's. A user
//! outside an administrator's scope is answered as if it did not exist.

use super::{AdminScope, admin_scope};
use crate::accounts::{self, AccountRequest};
use crate::auth::{Authenticated, Principal};
use crate::error::{ApiJson, AppError, Problem};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, NewPassword, Role, Roles, User, UserId, UserStatus,
    Username,
};
use concordat_domain::registry::OrgCode;
use concordat_store::UserFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(reset_totp))
}

/// An account to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUser {
    /// Sign-in name: 3 to 64 letters, digits, `.`, `_` or `-`.
    username: String,
    /// The name shown to others.
    display_name: String,
    /// The organisation's code; an administrator outside the national agency can only
    /// name their own.
    organisation: String,
    /// One or more roles.
    roles: Vec<Role>,
    /// Vetting level.
    clearance: Clearance,
    /// The Director General's delegated authority (senior decision-makers of the
    /// national agency only).
    #[serde(default = "no_dg_authority")]
    dg_authority: DgAuthority,
}

fn no_dg_authority() -> DgAuthority {
    DgAuthority::None
}

/// A new account and its one-time password.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserCreated {
    /// The account.
    user: User,
    /// The password to pass on to the person; it is shown only now and must be
    /// changed at first sign-in.
    one_time_password: String,
}

/// Filters on the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserQuery {
    /// Only this organisation's users.
    organisation: Option<String>,
}

/// Loads a user the administrator may manage, or answers 404.
pub(crate) async fn managed_user(
    state: &AppState,
    scope: &AdminScope,
    id: &str,
) -> Result<User, AppError> {
    let id: UserId = id.parse().map_err(|_| AppError::NotFound)?;
    let user = state.store.user(id).await?;
    if scope.covers(&user.organisation) {
        Ok(user)
    } else {
        Err(AppError::NotFound)
    }
}

/// Lists the users the administrator manages.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    params(UserQuery),
    responses(
        (status = 200, body = Vec<User>),
        (status = 401, body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    who: Principal,
    query: Result<Query<UserQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Vec<User>>, AppError> {
    let scope = admin_scope(&who)?;
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let asked = query
        .organisation
        .as_deref()
        .map(OrgCode::parse)
        .transpose()
        .map_err(|e| AppError::field("organisation", e.to_string()))?;
    let organisation = listed_organisation(&scope, asked)?;
    Ok(axum::Json(
        state.store.users(&UserFilter { organisation }).await?,
    ))
}

/// Which organisation's users an administrator with `scope` lists when they ask for
/// `asked`: their own unless they administer every organisation.
pub(crate) fn listed_organisation(
    scope: &AdminScope,
    asked: Option<OrgCode>,
) -> Result<Option<OrgCode>, AppError> {
    match (scope, asked) {
        (AdminScope::All, asked) => Ok(asked),
        (AdminScope::Organisation(own), None) => Ok(Some(own.clone())),
        (AdminScope::Organisation(own), Some(asked)) if &asked == own => Ok(Some(asked)),
        (AdminScope::Organisation(_), Some(_)) => Err(AppError::Forbidden(
            "you administer only your own organisation's users".to_owned(),
        )),
    }
}

/// Creates an account with a one-time password, in an organisation `who` administers.
pub(crate) async fn create(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    request: AccountRequest,
) -> Result<(User, NewPassword), AppError> {
    let scope = admin_scope(who)?;
    if !scope.covers(&request.organisation) {
        return Err(AppError::Forbidden(
            "you can create accounts only in your own organisation".to_owned(),
        ));
    }
    accounts::create_user(&state.store, who.actor(), source, request).await
}

/// Creates an account with a one-time password.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, body = UserCreated),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, description = "A field is not valid, or the username is taken", body = Problem),
    )
)]
async fn create_user(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, axum::Json<UserCreated>), AppError> {
    admin_scope(&who)?;
    let organisation = OrgCode::parse(&body.organisation)
        .map_err(|e| AppError::field("organisation", e.to_string()))?;
    let request = AccountRequest {
        username: Username::parse(&body.username)?,
        display_name: DisplayName::parse(&body.display_name)?,
        organisation,
        roles: Roles::new(body.roles)?,
        clearance: body.clearance,
        dg_authority: body.dg_authority,
    };
    let (user, password) = create(&state, &who, &source, request).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(UserCreated {
            user,
            one_time_password: password.expose().to_owned(),
        }),
    ))
}

/// One user.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = String, Path, description = "The user's identifier")),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn get_user(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<User>, AppError> {
    let scope = admin_scope(&who)?;
    Ok(axum::Json(managed_user(&state, &scope, &id).await?))
}

/// Enables or disables user `id`, one the administrator manages; never themselves.
pub(crate) async fn set_status(
    state: &AppState,
    source: &str,
    who: &Authenticated,
    id: &str,
    status: UserStatus,
) -> Result<User, AppError> {
    let scope = admin_scope(who)?;
    let user = managed_user(state, &scope, id).await?;
    if user.id == who.user.id && status == UserStatus::Disabled {
        return Err(AppError::Conflict(
            "you cannot disable your own account".to_owned(),
        ));
    }
    accounts::set_status(&state.store, who.actor(), source, user.id, status).await
}

/// Disables an account: it can no longer sign in, and its sessions and tokens stop working.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/disable",
    tag = "users",
    params(("id" = String, Path, description = "The user's identifier")),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Administrators cannot disable themselves", body = Problem),
    )
)]
async fn disable_user(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<User>, AppError> {
    Ok(axum::Json(
        set_status(&state, &source, &who, &id, UserStatus::Disabled).await?,
    ))
}

/// Enables a disabled account again.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/enable",
    tag = "users",
    params(("id" = String, Path, description = "The user's identifier")),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn enable_user(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<User>, AppError> {
    Ok(axum::Json(
        set_status(&state, &source, &who, &id, UserStatus::Active).await?,
    ))
}

/// Resets a user's two-factor sign-in (a lost authenticator): they sign in with their
/// password alone and can set it up again, as their organisation may require.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/totp",
    tag = "users",
    params(("id" = String, Path, description = "The user's identifier")),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn reset_totp(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<User>, AppError> {
    let scope = admin_scope(&who)?;
    let user = managed_user(&state, &scope, &id).await?;
    Ok(axum::Json(
        accounts::reset_totp(&state.store, who.actor(), &source, user.id).await?,
    ))
}
