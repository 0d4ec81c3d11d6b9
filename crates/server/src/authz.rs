//! The one authorisation layer: who may call each route, and who may see each record.
//!
//! Every API route has an entry in [`ROUTES`] saying which roles may call it and, when
//! its path names a record, which kind of record. The [`authorise`] middleware runs
//! before any handler or body parsing: a route with no entry is refused (fail closed),
//! a caller without one of the route's roles gets 403, and a record the caller may not
//! see gets 404, exactly as if it did not exist. What "may see" means is decided in one
//! place, [`concordat_domain::handling::access`]: clearance covers the marking, the
//! organisation is a party or holds a share in force, and a role reads casework. The
//! service functions used by the command line call [`require`] too, and every list
//! passes through [`retain_visible`], so lists, counts and searches obey the same rule.
//!
//! The authorisation matrix test (tests/it/matrix.rs) walks the OpenAPI document and
//! fails for a route without an entry here.

use crate::AppState;
use crate::auth::{self, Authenticated};
use crate::error::AppError;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concordat_domain::handling::{
    Access, CASEWORK_ROLES, Marking, Protection, Reader, RecordKind, access,
};
use concordat_domain::people::Role;
use concordat_domain::registry::OrgCode;
use concordat_domain::tasking::RequestState;
use concordat_domain::time::Timestamp;
use std::collections::BTreeSet;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    /// Anyone, signed in or not (signing in).
    Anyone,
    /// Any signed-in user (their own account, the public registry).
    SignedIn,
    /// Users holding one of these roles.
    Roles(&'static [Role]),
}

/// What the route's `{id}` names, and so what the caller must be able to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Nothing: a collection, or the caller's own account.
    None,
    /// A record of this kind: the caller must see it by [`require`], or gets 404.
    Record(RecordKind),
    /// A record whose kind is the path's `{kind}`: as [`Target::Record`].
    AnyRecord,
    /// A deconfliction hit: only the two sides' organisations know of it, and only a
    /// reader who may see their own side's registration.
    Hit,
    /// An organisation's own settings (`{code}`): its administrators', or the national
    /// agency's; any other organisation's answers 404.
    Administered,
    /// A thing that belongs to people rather than organisations (a user account, an API
    /// token, a notification, a deconfliction hit's side): its service decides, by
    /// owner or administrative scope, and answers 404 for anyone else.
    Owned(&'static str),
}

/// One route's authorisation.
#[derive(Debug, Clone, Copy)]
pub struct RouteRule {
    /// The method.
    pub method: &'static str,
    /// The path as the router writes it.
    pub path: &'static str,
    /// Who may call it.
    pub callers: Callers,
    /// What its path names.
    pub target: Target,
}

const ADMIN: &[Role] = &[Role::Administrator];
const READERS: &[Role] = CASEWORK_ROLES;
const RAISERS: &[Role] = &[Role::TaskingOfficer, Role::CaseOfficer];
const TASKING: &[Role] = &[Role::TaskingOfficer];
const RECORDERS: &[Role] = &[Role::Analyst, Role::TaskingOfficer, Role::CaseOfficer];
const ANALYSTS: &[Role] = &[Role::Analyst];
const OFFICERS: &[Role] = &[Role::CaseOfficer, Role::TaskingOfficer, Role::Analyst];
const REGISTRANTS: &[Role] = &[Role::CaseOfficer, Role::TaskingOfficer];
const DIRECTING: &[Role] = &[Role::SeniorDecisionMaker, Role::TaskingOfficer];
use crate::events::{PLANNERS, READERS as ACTIVITY_READERS};
const WATCH: &[Role] = &[Role::ControlRoom];
pub(crate) const MARKERS: &[Role] = &[
    Role::Analyst,
    Role::TaskingOfficer,
    Role::CaseOfficer,
    Role::SeniorDecisionMaker,
];

macro_rules! rules {
    ($($method:literal $path:literal => $callers:expr, $target:expr;)+) => {
        /// Every API route's authorisation.
        pub const ROUTES: &[RouteRule] = &[
            $(RouteRule { method: $method, path: $path, callers: $callers, target: $target }),+
        ];
    };
}

use Callers::{Anyone, Roles, SignedIn};
use RecordKind as K;
use Target::{AnyRecord, None as Collection, Owned, Record};

rules! {
    "POST" "/api/v1/session" => Anyone, Collection;
    "DELETE" "/api/v1/session" => SignedIn, Collection;
    "GET" "/api/v1/me" => SignedIn, Collection;
    "POST" "/api/v1/me/password" => SignedIn, Collection;
    "DELETE" "/api/v1/me/sessions" => SignedIn, Collection;
    "POST" "/api/v1/me/totp" => SignedIn, Collection;
    "POST" "/api/v1/me/totp/confirm" => SignedIn, Collection;
    "DELETE" "/api/v1/me/totp" => SignedIn, Collection;
    "PUT" "/api/v1/organisations/{code}/sign-in-policy" => Roles(ADMIN), Target::Administered;
    "GET" "/api/v1/organisations/{code}/identity-provider" => Roles(ADMIN), Target::Administered;
    "PUT" "/api/v1/organisations/{code}/identity-provider" => Roles(ADMIN), Target::Administered;
    "DELETE" "/api/v1/organisations/{code}/identity-provider" => Roles(ADMIN), Target::Administered;
    "GET" "/api/v1/organisations/{code}/webhooks" => Roles(ADMIN), Target::Administered;
    "POST" "/api/v1/organisations/{code}/webhooks" => Roles(ADMIN), Target::Administered;
    "DELETE" "/api/v1/organisations/{code}/webhooks/{id}" => Roles(ADMIN), Target::Administered;
    "GET" "/api/v1/organisations/{code}/webhooks/{id}/deliveries" => Roles(ADMIN), Target::Administered;
    "DELETE" "/api/v1/users/{id}/totp" => Roles(ADMIN), Owned("user: administrators of the user's organisation or the national agency");
    "GET" "/api/v1/organisations" => SignedIn, Collection;
    "GET" "/api/v1/organisations/{code}" => SignedIn, Collection;
    "GET" "/api/v1/capabilities" => SignedIn, Collection;
    "GET" "/api/v1/groups" => SignedIn, Collection;
    "GET" "/api/v1/users" => Roles(ADMIN), Collection;
    "POST" "/api/v1/users" => Roles(ADMIN), Collection;
    "GET" "/api/v1/users/{id}" => Roles(ADMIN), Owned("user: administrators of the user's organisation or the national agency");
    "POST" "/api/v1/users/{id}/disable" => Roles(ADMIN), Owned("user: administrators of the user's organisation or the national agency");
    "POST" "/api/v1/users/{id}/enable" => Roles(ADMIN), Owned("user: administrators of the user's organisation or the national agency");
    "GET" "/api/v1/tokens" => SignedIn, Collection;
    "POST" "/api/v1/tokens" => SignedIn, Collection;
    "DELETE" "/api/v1/tokens/{id}" => SignedIn, Owned("token: its owner, or an administrator over the owner");
    "GET" "/api/v1/audit" => Roles(ADMIN), Collection;
    "GET" "/api/v1/audit/verify" => Roles(ADMIN), Collection;
    "GET" "/api/v1/subjects" => Roles(READERS), Collection;
    "POST" "/api/v1/subjects" => Roles(RECORDERS), Collection;
    "GET" "/api/v1/subjects/{id}" => Roles(READERS), Record(K::Subject);
    "POST" "/api/v1/subjects/{id}/designations" => Roles(ANALYSTS), Record(K::Subject);
    "GET" "/api/v1/requests" => Roles(READERS), Collection;
    "POST" "/api/v1/requests" => Roles(RAISERS), Collection;
    "GET" "/api/v1/requests/{id}" => Roles(READERS), Record(K::Request);
    "POST" "/api/v1/requests/{id}/submit" => Roles(TASKING), Record(K::Request);
    "POST" "/api/v1/requests/{id}/assessment" => Roles(TASKING), Record(K::Request);
    "POST" "/api/v1/requests/{id}/withdraw" => Roles(TASKING), Record(K::Request);
    "GET" "/api/v1/requests/{id}/recommendation" => Roles(READERS), Record(K::Request);
    "POST" "/api/v1/requests/{id}/decisions" => Roles(TASKING), Record(K::Request);
    "POST" "/api/v1/requests/{id}/charging" => Roles(TASKING), Record(K::Request);
    "POST" "/api/v1/requests/{id}/charging/agreement" => Roles(TASKING), Record(K::Request);
    "GET" "/api/v1/operations" => Roles(READERS), Collection;
    "POST" "/api/v1/operations" => Roles(TASKING), Collection;
    "GET" "/api/v1/operations/{id}" => Roles(READERS), Record(K::Operation);
    "GET" "/api/v1/operations/{id}/roles" => Roles(READERS), Record(K::Operation);
    "POST" "/api/v1/operations/{id}/roles" => Roles(TASKING), Record(K::Operation);
    "POST" "/api/v1/operations/{id}/outcomes" => Roles(OFFICERS), Record(K::Operation);
    "GET" "/api/v1/notifications" => SignedIn, Collection;
    "GET" "/api/v1/notifications/unread-count" => SignedIn, Collection;
    "GET" "/api/v1/notifications/stream" => SignedIn, Collection;
    "POST" "/api/v1/notifications/read-all" => SignedIn, Collection;
    "POST" "/api/v1/notifications/{id}/read" => SignedIn, Owned("notification: its recipient");
    "GET" "/api/v1/directions" => SignedIn, Collection;
    "POST" "/api/v1/directions" => Roles(DIRECTING), Collection;
    "GET" "/api/v1/directions/{id}" => Roles(READERS), Record(K::Direction);
    "POST" "/api/v1/directions/{id}/consent-request" => Roles(DIRECTING), Record(K::Direction);
    "POST" "/api/v1/directions/{id}/consent" => Roles(DIRECTING), Record(K::Direction);
    "POST" "/api/v1/directions/{id}/issue" => Roles(DIRECTING), Record(K::Direction);
    "POST" "/api/v1/directions/{id}/acknowledgement" => Roles(READERS), Record(K::Direction);
    "POST" "/api/v1/directions/{id}/compliance" => Roles(DIRECTING), Record(K::Direction);
    "GET" "/api/v1/border-protocol" => Roles(READERS), Collection;
    "POST" "/api/v1/border-protocol" => Roles(DIRECTING), Collection;
    "GET" "/api/v1/registrations" => Roles(READERS), Collection;
    "POST" "/api/v1/registrations" => Roles(OFFICERS), Collection;
    "GET" "/api/v1/registrations/{id}" => Roles(READERS), Record(K::Registration);
    "POST" "/api/v1/registrations/{id}/renewal" => Roles(REGISTRANTS), Record(K::Registration);
    "POST" "/api/v1/registrations/{id}/withdrawal" => Roles(REGISTRANTS), Record(K::Registration);
    "GET" "/api/v1/hits" => Roles(READERS), Collection;
    "POST" "/api/v1/hits/{id}/acknowledgement" => Roles(REGISTRANTS), Target::Hit;
    "POST" "/api/v1/hits/{id}/resolution" => Roles(REGISTRANTS), Target::Hit;
    "GET" "/api/v1/intelligence" => Roles(READERS), Collection;
    "POST" "/api/v1/intelligence" => Roles(RECORDERS), Collection;
    "GET" "/api/v1/intelligence/{id}" => Roles(READERS), Record(K::Intelligence);
    "GET" "/api/v1/exports/{kind}" => Roles(READERS), Collection;
    "GET" "/api/v1/briefings/daily" => Roles(READERS), Collection;
    "GET" "/api/v1/briefings" => Roles(READERS), Collection;
    "GET" "/api/v1/briefings/{id}" => Roles(READERS), Owned("pack: the user it was kept for");
    "GET" "/api/v1/activities" => Roles(ACTIVITY_READERS), Collection;
    "POST" "/api/v1/activities" => Roles(PLANNERS), Collection;
    "GET" "/api/v1/activities/{id}" => Roles(ACTIVITY_READERS), Owned("activity: its organisation, or the national 24/7 watch");
    "PUT" "/api/v1/activities/{id}" => Roles(PLANNERS), Owned("activity: its organisation, or the national 24/7 watch");
    "POST" "/api/v1/activities/{id}/cancellation" => Roles(PLANNERS), Owned("activity: its organisation, or the national 24/7 watch");
    "GET" "/api/v1/clashes" => Roles(ACTIVITY_READERS), Collection;
    "POST" "/api/v1/clashes/{id}/acknowledgement" => Roles(PLANNERS), Owned("clash: the organisations whose activity clashed");
    "GET" "/api/v1/watch/clashes" => Roles(WATCH), Owned("the national 24/7 watch: control rooms of the national agency");
    "POST" "/api/v1/watch/clashes/{id}/ownership" => Roles(WATCH), Owned("the national 24/7 watch: control rooms of the national agency");
    "POST" "/api/v1/watch/clashes/{id}/resolution" => Roles(WATCH), Owned("the national 24/7 watch: control rooms of the national agency");
    "GET" "/api/v1/records/{kind}/{id}/marking" => Roles(READERS), AnyRecord;
    "PUT" "/api/v1/records/{kind}/{id}/marking" => Roles(MARKERS), AnyRecord;
    "GET" "/api/v1/records/{kind}/{id}/shares" => Roles(READERS), AnyRecord;
    "POST" "/api/v1/records/{kind}/{id}/shares" => Roles(MARKERS), AnyRecord;
    "DELETE" "/api/v1/shares/{id}" => Roles(MARKERS), Owned("share: the organisation that made it");
}

/// The rule for `method` and `path`, if there is one.
pub fn rule_for(method: &Method, path: &str) -> Option<&'static RouteRule> {
    ROUTES
        .iter()
        .find(|r| r.path == path && r.method == method.as_str())
}

/// The middleware that applies [`ROUTES`] to every API call before its handler runs.
/// Routes outside `/api/v1` (pages, health checks, the OpenAPI document) pass through:
/// pages check their user themselves.
pub async fn authorise(
    state: axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match check(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

async fn check(state: &AppState, request: Request) -> Result<Request, AppError> {
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
    else {
        return Ok(request);
    };
    if !path.starts_with("/api/v1/") {
        return Ok(request);
    }
    let Some(rule) = rule_for(request.method(), &path) else {
        if ROUTES.iter().any(|r| r.path == path) {
            // The path exists, the method does not: the router answers 405.
            return Ok(request);
        }
        return Err(AppError::Internal(anyhow::anyhow!(
            "route {} {path} has no authorisation rule",
            request.method()
        )));
    };
    if rule.callers == Callers::Anyone {
        return Ok(request);
    }
    let (mut parts, body) = request.into_parts();
    let who = auth::authenticate(&parts, state)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    // An account that must change its password, or enrol a second factor, is stopped
    // by its extractor with the reason; this layer leaves that answer to it.
    if who.pending().is_none() {
        let params = axum::extract::RawPathParams::from_request_parts(&mut parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let param = |wanted: &str| {
            params
                .iter()
                .find(|(name, _)| *name == wanted)
                .map(|(_, value)| value.to_owned())
        };
        permit(state, &who, rule, &param).await?;
    }
    parts.extensions.insert(who);
    Ok(Request::from_parts(parts, body))
}

use axum::extract::FromRequestParts;

/// Whether `who` holds a role that may call `method path` at all (what the pages'
/// navigation offers; the record itself is checked when it is opened).
pub(crate) fn may_call(who: &Authenticated, method: &str, path: &str) -> bool {
    ROUTES
        .iter()
        .find(|r| r.path == path && r.method == method)
        .is_some_and(|rule| match rule.callers {
            Callers::Anyone | Callers::SignedIn => true,
            Callers::Roles(roles) => roles.iter().any(|r| who.user.has_role(*r)),
        })
}

/// Whether `who` may call the route of `rule` with these path parameters: a record
/// the caller may not see does not exist for them, whatever the route would do to it
/// (404); one they may see but not change is refused (403). The API's middleware and
/// the pages (through [`permit_route`]) both decide here.
pub(crate) async fn permit(
    state: &AppState,
    who: &Authenticated,
    rule: &RouteRule,
    param: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<(), AppError> {
    let param = |wanted: &str| param(wanted).ok_or(AppError::NotFound);
    match rule.target {
        Target::None | Target::Owned(_) => {}
        Target::Administered => {
            let code: OrgCode = param("code")?.parse().map_err(|_| AppError::NotFound)?;
            if !crate::api::admin_scope(who)?.covers(&code) {
                return Err(AppError::NotFound);
            }
        }
        Target::Record(kind) => {
            require(state, who, kind, &param("id")?).await?;
        }
        Target::AnyRecord => {
            let kind = param("kind")?.parse().map_err(|_| AppError::NotFound)?;
            require(state, who, kind, &param("id")?).await?;
        }
        Target::Hit => {
            let id = crate::api::path_id(&param("id")?)?;
            crate::deconfliction::own_hit(state, who, id).await?;
        }
    }
    if let Callers::Roles(roles) = rule.callers {
        crate::tasking::require_any(who, roles)?;
    }
    Ok(())
}

/// Whether `who` may do what the API route `method path` does, with its path
/// parameters `params`: a page that shows or changes what an API route does is
/// authorised by that route's rule, so the two cannot disagree.
pub(crate) async fn permit_route(
    state: &AppState,
    who: &Authenticated,
    method: &'static str,
    path: &'static str,
    params: &[(&str, &str)],
) -> Result<(), AppError> {
    let rule = ROUTES
        .iter()
        .find(|r| r.path == path && r.method == method)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no rule for {method} {path}")))?;
    let param = |wanted: &str| {
        params
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, value)| (*value).to_owned())
    };
    permit(state, who, rule, &param).await
}

/// What protects record `id` of `kind`: its marking, its parties and its shares. A
/// record that does not exist is not found.
pub async fn protection(
    state: &AppState,
    kind: RecordKind,
    id: &str,
) -> Result<Protection, AppError> {
    let parties: Vec<OrgCode> = match kind {
        RecordKind::Request => {
            let request = state
                .store
                .request(crate::api::path_id(id)?, &state.rules.registry)
                .await?;
            let mut parties = vec![request.requester.clone()];
            if request.state != RequestState::Draft {
                parties.push(request.receiver.clone());
                parties.extend(request.route.gateway().cloned());
            }
            parties
        }
        RecordKind::Subject => {
            state
                .store
                .subject_parties(crate::api::path_id(id)?)
                .await?
        }
        RecordKind::Operation => state
            .store
            .operation(crate::api::path_id(id)?)
            .await?
            .roles
            .parties()
            .into_iter()
            .collect(),
        RecordKind::Direction => {
            let direction = state.store.direction(crate::api::path_id(id)?).await?;
            let mut parties: Vec<OrgCode> = state
                .rules
                .registry
                .organisations
                .iter()
                .filter(|o| o.kind.is_national_agency_body())
                .map(|o| o.code.clone())
                .collect();
            if crate::directions::is_given(&direction) {
                parties.push(direction.recipient.clone());
            }
            parties
        }
        RecordKind::Registration => vec![
            state
                .store
                .registration(crate::api::path_id(id)?)
                .await?
                .registration
                .organisation,
        ],
        RecordKind::Intelligence => vec![
            state
                .store
                .intelligence(crate::api::path_id(id)?)
                .await?
                .organisation,
        ],
    };
    let marking = state.store.marking(kind, id).await?;
    let shares = state
        .store
        .shares(kind, id)
        .await?
        .into_iter()
        .map(|s| s.share)
        .collect();
    Ok(Protection {
        marking,
        parties,
        shares,
    })
}

/// The reader `who` is.
pub fn reader(who: &Authenticated) -> Reader<'_> {
    Reader {
        organisation: &who.user.organisation,
        roles: &who.user.roles,
        clearance: who.user.clearance,
    }
}

/// How `who` may see record `id` of `kind`, or not found.
pub async fn require(
    state: &AppState,
    who: &Authenticated,
    kind: RecordKind,
    id: &str,
) -> Result<Access, AppError> {
    let protection = protection(state, kind, id).await?;
    access(reader(who), &protection, Timestamp::now()).ok_or(AppError::NotFound)
}

/// Keeps the records of `kind` in `items` (which the store has already limited to the
/// reader's organisation's parties) that `who` may see, and adds those shared with the
/// organisation: a list, a count or a search never shows a record above the reader's
/// clearance or outside their need to know.
pub async fn retain_visible<T, F, Fut>(
    state: &AppState,
    who: &Authenticated,
    kind: RecordKind,
    items: Vec<T>,
    id_of: impl Fn(&T) -> String,
    fetch_shared: F,
) -> Result<Vec<T>, AppError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    if !CASEWORK_ROLES.iter().any(|r| who.user.has_role(*r)) {
        return Ok(Vec::new());
    }
    let markings = state.store.markings_of(kind).await?;
    let official = Marking::official();
    let permitted = |id: &str| {
        who.user
            .clearance
            .permits(markings.get(id).unwrap_or(&official).classification)
    };
    let mut seen = BTreeSet::new();
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        let id = id_of(&item);
        if permitted(&id) && seen.insert(id) {
            kept.push(item);
        }
    }
    let now = Timestamp::now();
    for id in state
        .store
        .shared_with(&who.user.organisation, kind, now)
        .await?
    {
        if seen.contains(&id) || !permitted(&id) {
            continue;
        }
        if require(state, who, kind, &id).await.is_ok() {
            seen.insert(id.clone());
            kept.push(fetch_shared(id).await?);
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_route_has_exactly_one_rule_and_every_rule_a_route() {
        let openapi = crate::openapi();
        let mut documented = BTreeSet::new();
        for (path, item) in &openapi.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ] {
                if op.is_some() {
                    documented.insert((method.to_owned(), path.clone()));
                }
            }
        }
        let ruled: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned()))
            .collect();
        let missing: Vec<_> = documented.difference(&ruled).collect();
        let stale: Vec<_> = ruled.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "routes without an authorisation rule: {missing:?}"
        );
        assert!(
            stale.is_empty(),
            "rules for routes that do not exist: {stale:?}"
        );
    }

    #[test]
    fn every_rule_is_for_a_distinct_route() {
        let mut seen = BTreeSet::new();
        for rule in ROUTES {
            assert!(
                seen.insert((rule.method, rule.path)),
                "{} {} has two rules",
                rule.method,
                rule.path
            );
            let names_a_record = rule.path.contains("{id}") || rule.path.contains("{code}");
            // A queue only one body keeps (the national watch) is decided by its service.
            let service_decides = matches!(rule.target, Target::Owned(_));
            assert!(
                names_a_record || rule.target == Target::None || service_decides,
                "{} {} names no record but has a target",
                rule.method,
                rule.path
            );
        }
    }
}
