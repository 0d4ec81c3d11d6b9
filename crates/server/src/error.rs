//! The server's one error type, rendered as RFC 9457 problem details.
//!
//! Handlers return [`AppError`]. Clients see a status, a title, a plain-English detail
//! and, for bad input, the fields in error; they never see internals. The full cause
//! of a server-side failure goes to the log with the request id.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use concordat_store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field in error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field, as a path into the request (`roles[1]`, `username`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A condition of the source document that a change does not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Refusal {
    /// Which condition (`authority`, `recipient`, `voluntary-route`, `consent`, ...).
    pub condition: String,
    /// The paragraph of the source document that sets it (`¶9`).
    pub paragraph: String,
    /// What is wrong, in plain English.
    pub message: String,
}

impl From<concordat_domain::direction::DirectionRefusal> for Refusal {
    fn from(r: concordat_domain::direction::DirectionRefusal) -> Self {
        Self {
            condition: r.condition.to_owned(),
            paragraph: r.paragraph.to_owned(),
            message: r.message,
        }
    }
}

/// An RFC 9457 problem details document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (relative to this server's documentation).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// The fields in error, for invalid input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// The conditions of the source document not met, when the rules refuse a change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<Refusal>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request's input is not acceptable; names the fields.
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    /// The input is well formed but the rules of the source document refuse the
    /// change; lists every condition not met.
    #[error("refused: {title}")]
    Refused {
        /// What was refused (`The direction cannot be drafted`); the detail goes on
        /// to count the conditions not met, which `refusals` lists.
        title: String,
        /// Every condition not met.
        refusals: Vec<Refusal>,
    },
    /// The body is not JSON, or not of the expected shape.
    #[error("malformed body: {0}")]
    Malformed(String),
    /// The body is larger than allowed.
    #[error("body too large")]
    TooLarge,
    /// The body's media type is not one this endpoint takes.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// No valid credentials came with the request.
    #[error("unauthenticated")]
    Unauthenticated,
    /// A sign-in with a wrong username or password (which of the two is not said).
    #[error("bad credentials")]
    BadCredentials,
    /// The user may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Nothing is there, or the user may not know it is there.
    #[error("not found")]
    NotFound,
    /// The change conflicts with what is stored.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many attempts; try again after the given number of seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until the next attempt may succeed.
        retry_after_secs: u64,
    },
    /// A sign-in with the right password to an account with two-factor sign-in, but
    /// without its security code (`totp`).
    #[error("second factor required")]
    TotpRequired,
    /// A sign-in whose security code is wrong or was used already.
    #[error("bad second factor")]
    BadTotp,
    /// The user must choose a new password before doing anything else.
    #[error("password change required")]
    PasswordChangeRequired,
    /// The user's organisation requires two-factor sign-in and the user must set it up
    /// before doing anything else.
    #[error("two-factor enrolment required")]
    TotpEnrolmentRequired,
    /// Something failed on the server.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// An invalid-input error for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldProblem {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) | Self::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthenticated | Self::BadCredentials | Self::TotpRequired | Self::BadTotp => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) | Self::PasswordChangeRequired | Self::TotpEnrolmentRequired => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let refusals = match self {
            Self::Refused { refusals, .. } => refusals.clone(),
            _ => vec![],
        };
        let (kind, detail, errors) = match self {
            Self::Invalid(errors) => (
                "invalid-input",
                "The request has fields that are not valid; see `errors`.".to_owned(),
                errors.clone(),
            ),
            Self::Refused { title, refusals } => (
                "refused",
                format!(
                    "{title}: {} condition(s) of the source document not met.",
                    refusals.len()
                ),
                vec![],
            ),
            Self::Malformed(why) => ("malformed-body", why.clone(), field_of(why)),
            Self::TooLarge => (
                "body-too-large",
                "The request body is larger than this server accepts.".to_owned(),
                vec![],
            ),
            Self::UnsupportedMediaType => (
                "unsupported-media-type",
                "Send the body as application/json.".to_owned(),
                vec![],
            ),
            Self::Unauthenticated => (
                "unauthenticated",
                "Sign in, or send a valid API token as `Authorization: Bearer ...`.".to_owned(),
                vec![],
            ),
            Self::BadCredentials => (
                "bad-credentials",
                "The username or password is not right.".to_owned(),
                vec![],
            ),
            Self::Forbidden(why) => ("forbidden", why.clone(), vec![]),
            Self::NotFound => ("not-found", "There is nothing here.".to_owned(), vec![]),
            Self::Conflict(why) => ("conflict", why.clone(), vec![]),
            Self::RateLimited { retry_after_secs } => (
                "rate-limited",
                format!("Too many attempts. Try again in {retry_after_secs} seconds."),
                vec![],
            ),
            Self::TotpRequired => (
                "totp-required",
                "This account signs in with a security code as well as a password: send the \
                 6-digit code from your authenticator app as `totp`."
                    .to_owned(),
                vec![FieldProblem {
                    field: "totp".to_owned(),
                    message: "enter the security code from your authenticator app".to_owned(),
                }],
            ),
            Self::BadTotp => (
                "bad-totp",
                "The security code is not right, or has been used already. Wait for the next \
                 code and try again."
                    .to_owned(),
                vec![FieldProblem {
                    field: "totp".to_owned(),
                    message: "is not the current code, or has been used already".to_owned(),
                }],
            ),
            Self::TotpEnrolmentRequired => (
                "totp-enrolment-required",
                "Your organisation requires two-factor sign-in: set up a security code \
                 (POST /api/v1/me/totp, then POST /api/v1/me/totp/confirm) before going on."
                    .to_owned(),
                vec![],
            ),
            Self::PasswordChangeRequired => (
                "password-change-required",
                "Choose a new password before going on (POST /api/v1/me/password).".to_owned(),
                vec![],
            ),
            Self::Internal(_) => (
                "internal",
                "Something went wrong on the server. It has been logged.".to_owned(),
                vec![],
            ),
        };
        let status = self.status();
        Problem {
            kind: format!("/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
            refusals,
        }
    }
}

/// Malformed-body messages from the JSON extractor start with the path in error;
/// serde names unknown and missing fields in the message itself.
fn field_of(message: &str) -> Vec<FieldProblem> {
    let Some((path, why)) = message.split_once(": ") else {
        return vec![];
    };
    if path.is_empty() || path.contains(' ') {
        return vec![];
    }
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| why.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    // A domain type read with `try_from` reports which of its own fields is wrong as
    // `field: message` (see `FieldError`).
    let (named, why) = match named {
        Some(name) => (Some(name), why),
        None => match why.split_once(": ") {
            Some((name, rest)) if is_field_name(name) => (Some(name), rest),
            _ => (None, why),
        },
    };
    let field = match (path, named) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => return vec![],
        (path, Some(name)) if path == name || path.ends_with(&format!(".{name}")) => {
            path.to_owned()
        }
        (path, Some(name)) if name.starts_with(&format!("{path}.")) => name.to_owned(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_owned(),
    };
    vec![FieldProblem {
        field,
        message: why.to_owned(),
    }]
}

/// A JSON member name as this API spells them (`snake_case`), or a path of them
/// (`marking.handling`).
fn is_field_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(why) => Self::Conflict(why),
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<concordat_domain::people::FieldError> for AppError {
    fn from(error: concordat_domain::people::FieldError) -> Self {
        Self::field(error.field, error.message)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        let mut response = problem_response(self.status(), &self.problem());
        if let Self::RateLimited { retry_after_secs } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// A problem document as a response.
pub fn problem_response(status: StatusCode, problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
        body,
    )
        .into_response()
}

/// A JSON body, read with the server's size limit and parsed strictly: a malformed
/// document, a wrong type or an unknown field is a 4xx problem naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes =
            axum::body::Bytes::from_request(req, state)
                .await
                .map_err(|e: BytesRejection| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        AppError::TooLarge
                    } else {
                        AppError::Malformed("the request body could not be read".to_owned())
                    }
                })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                AppError::Malformed(format!("the body is not valid JSON: {inner}"))
            } else {
                AppError::Malformed(format!("{path}: {inner}"))
            }
        })?;
        de.end()
            .map_err(|e| AppError::Malformed(format!("the body is not valid JSON: {e}")))?;
        Ok(Self(value))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_messages_name_their_field() {
        let problem = AppError::Malformed("roles[0]: unknown variant `wizard`".into()).problem();
        assert_eq!(problem.errors[0].field, "roles[0]");
        let problem =
            AppError::Malformed(".: unknown field `admin`, expected `name`".into()).problem();
        assert_eq!(problem.errors[0].field, "admin");
        let problem =
            AppError::Malformed("admin: unknown field `admin`, expected `name`".into()).problem();
        assert_eq!(problem.errors[0].field, "admin");
        let problem = AppError::Malformed("the body is not valid JSON: x".into()).problem();
        assert!(problem.errors.is_empty());
    }

    #[test]
    fn a_domain_type_names_its_own_field_in_error() {
        let why = "sensitive: the SENSITIVE caveat applies to OFFICIAL only";
        let problem = AppError::Malformed(format!(".: {why}")).problem();
        assert_eq!(problem.errors[0].field, "sensitive");
        assert_eq!(
            problem.errors[0].message,
            "the SENSITIVE caveat applies to OFFICIAL only"
        );
        let problem = AppError::Malformed(format!("marking: {why}")).problem();
        assert_eq!(problem.errors[0].field, "marking.sensitive");
        let problem = AppError::Malformed("name: name: must not be empty".into()).problem();
        assert_eq!(problem.errors[0].field, "name");
        assert_eq!(problem.errors[0].message, "must not be empty");
        let problem =
            AppError::Malformed("marking.handling: marking.handling: too long".into()).problem();
        assert_eq!(problem.errors[0].field, "marking.handling");
        assert_eq!(problem.errors[0].message, "too long");
        let problem =
            AppError::Malformed("age: invalid type: string, expected u8".into()).problem();
        assert_eq!(problem.errors[0].field, "age");
        assert_eq!(
            problem.errors[0].message,
            "invalid type: string, expected u8"
        );
    }

    #[test]
    fn refusals_are_listed_beside_the_detail() {
        let problem = AppError::Refused {
            title: "The direction cannot be drafted".to_owned(),
            refusals: vec![Refusal {
                condition: "recipient".to_owned(),
                paragraph: "¶9".to_owned(),
                message: "not a force in England and Wales".to_owned(),
            }],
        }
        .problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.kind, "/problems/refused");
        assert!(problem.errors.is_empty());
        assert_eq!(
            problem.detail,
            "The direction cannot be drafted: 1 condition(s) of the source document not met."
        );
        let json = serde_json::to_value(&problem).expect("serialises");
        assert_eq!(json["refusals"][0]["paragraph"], "¶9");
        assert!(json.get("errors").is_none());
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let problem = AppError::Internal(anyhow::anyhow!("password=hunter2")).problem();
        assert!(!problem.detail.contains("hunter2"));
        assert_eq!(problem.status, 500);
    }
}
