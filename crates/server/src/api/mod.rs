//! The JSON API under `/api/v1`, one module per resource. Each handler's
//! `#[utoipa::path]` feeds the OpenAPI document, so the document and the routes come
//! from the same code.

pub(crate) mod audit;
mod briefings;
mod deconfliction;
mod directions;
mod events;
pub(crate) use briefings::which as briefing_which;
mod exports;
#[cfg(test)]
mod fuzz;
mod identity_provider;
mod intelligence;
pub(crate) mod me;
pub(crate) mod notifications;
mod operations;
mod records;
mod registry;
mod requests;
pub(crate) mod session;
mod subjects;
pub(crate) mod tokens;
pub(crate) mod totp;
pub(crate) mod users;
mod webhooks;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{AppError, Problem};
use concordat_domain::people::Role;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Concordat API",
        description = "Multi-agency tasking, coordination and deconfliction. Errors are RFC 9457 problem documents.",
        license(name = "Apache-2.0")
    ),
    components(schemas(Problem)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from POST /api/v1/tokens or `concordat token create`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-concordat_session",
                "The browser session from POST /api/v1/session; changes also need the X-CSRF-Token header.",
            ))),
        );
    }
}

/// Every API route with its documentation.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::router())
        .merge(me::router())
        .merge(totp::router())
        .merge(registry::router())
        .merge(identity_provider::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(audit::router())
        .merge(subjects::router())
        .merge(requests::router())
        .merge(operations::router())
        .merge(notifications::router())
        .merge(directions::router())
        .merge(deconfliction::router())
        .merge(intelligence::router())
        .merge(records::router())
        .merge(exports::router())
        .merge(briefings::router())
        .merge(events::router())
        .merge(webhooks::router())
}

/// Parses an identifier from the path; one that cannot be an identifier names
/// nothing, so it is answered as not found.
pub(crate) fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// Which users an administrator manages: national agency administrators run the
/// platform for every organisation; others manage their own organisation only.
pub(crate) fn admin_scope(who: &Authenticated) -> Result<AdminScope, AppError> {
    who.require(Role::Administrator)?;
    Ok(if who.in_national_agency() {
        AdminScope::All
    } else {
        AdminScope::Organisation(who.user.organisation.clone())
    })
}

/// The organisation in the path, if the caller administers it; any other answers 404.
pub(crate) fn administered(
    who: &Authenticated,
    code: &str,
) -> Result<concordat_domain::registry::OrgCode, AppError> {
    let scope = admin_scope(who)?;
    let code = concordat_domain::registry::OrgCode::parse(code).map_err(|_| AppError::NotFound)?;
    if !scope.covers(&code) {
        return Err(AppError::NotFound);
    }
    Ok(code)
}

/// The organisations an administrator manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AdminScope {
    /// Every organisation.
    All,
    /// Only this one.
    Organisation(concordat_domain::registry::OrgCode),
}

impl AdminScope {
    /// Whether the scope covers `org`.
    pub(crate) fn covers(&self, org: &concordat_domain::registry::OrgCode) -> bool {
        match self {
            Self::All => true,
            Self::Organisation(own) => own == org,
        }
    }
}
