//! Who is asking: passwords, secrets, sessions, API tokens and the extractors that
//! turn a request's credentials into a [`Principal`].
//!
//! A request is authenticated by exactly one of an `Authorization: Bearer` API token
//! or the session cookie. Cookie-authenticated API calls that change state must also
//! carry the session's CSRF token in `X-CSRF-Token` (web forms carry it as a field;
//! see `web::CsrfForm`). An account with something [`Pending`] — a password to change,
//! or a second factor its organisation requires and it has not set up — can do
//! nothing else until it is done: [`Authenticated`] lets it in, [`Principal`] does not.

use crate::AppState;
use crate::error::AppError;
use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum_extra::extract::CookieJar;
use concordat_domain::people::{NewPassword, Role, User};
use concordat_domain::registry::Organisation;
use concordat_domain::totp::SignInPolicy;
use concordat_store::TokenHash;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of every API token, so that leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "cct_";
/// The header a cookie-authenticated API call carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A new random secret: 32 bytes from the operating system's generator, as hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> TokenHash {
    let digest = Sha256::digest(secret.as_bytes());
    // A SHA-256 digest is always 64 hex digits.
    TokenHash::from_hex(&hex::encode(digest)).unwrap_or_else(|| unreachable!())
}

/// A password that the policy accepts, generated for one-time use.
pub fn one_time_password() -> NewPassword {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let text: String = (0..20)
        .map(|i| {
            if i > 0 && i % 5 == 0 {
                '-'
            } else {
                let index = (rng.next_u32() as usize) % ALPHABET.len();
                char::from(ALPHABET[index])
            }
        })
        .collect();
    // Twenty characters from a 54-letter alphabet always satisfy the policy.
    NewPassword::parse(&text).unwrap_or_else(|_| unreachable!())
}

/// Hashes a password with Argon2id and a random salt, off the async threads.
pub async fn hash_password(password: &NewPassword) -> Result<String, AppError> {
    let password = password.expose().to_owned();
    let hash = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
    })
    .await
    .context("the hashing task failed")??;
    Ok(hash)
}

/// The hash checked when an account does not exist, so that a sign-in takes as long
/// whether or not the name is known. Made once, from a random password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(new_secret().as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Whether `password` matches `hash` (or, with no hash, spends the same time and fails).
pub async fn verify_password(password: &str, hash: Option<&str>) -> Result<bool, AppError> {
    let password = password.to_owned();
    let hash = hash.map(str::to_owned);
    let matches = tokio::task::spawn_blocking(move || {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        ok && real
    })
    .await
    .context("the verifying task failed")?;
    Ok(matches)
}

/// How a request proved who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// The session cookie, with the session's CSRF token.
    Session {
        /// The hash of the cookie's secret.
        token_hash: TokenHash,
        /// The token forms must carry back.
        csrf_token: String,
    },
    /// An API token.
    Bearer {
        /// The token's identifier.
        token_id: uuid::Uuid,
    },
    /// The command line, run by someone with access to the store, acting as a user
    /// (`--as`); the same rules apply as over HTTP.
    Command,
}

/// A signed-in user, their organisation and how they signed in, whether or not they
/// have something [`Pending`].
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user, as stored now.
    pub user: User,
    /// Their organisation.
    pub organisation: Organisation,
    /// How their organisation's people must sign in.
    pub sign_in_policy: SignInPolicy,
    /// The credential the request carried.
    pub credential: Credential,
}

/// What a signed-in user must do before they may do anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Choose a new password (a one-time password, or one reset by an administrator).
    PasswordChange,
    /// Set up a second factor, which their organisation requires.
    TotpEnrolment,
}

impl From<Pending> for AppError {
    fn from(pending: Pending) -> Self {
        match pending {
            Pending::PasswordChange => AppError::PasswordChangeRequired,
            Pending::TotpEnrolment => AppError::TotpEnrolmentRequired,
        }
    }
}

/// A signed-in user who may use the system (see [`Authenticated`] for one who may not yet).
#[derive(Debug, Clone)]
pub struct Principal(pub Authenticated);

impl std::ops::Deref for Principal {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.0
    }
}

impl Authenticated {
    /// Looks up `user`'s organisation and its sign-in policy.
    pub(crate) async fn load(
        state: &AppState,
        user: User,
        credential: Credential,
    ) -> Result<Self, AppError> {
        let organisation = state.store.organisation(&user.organisation).await?;
        let sign_in_policy = state.store.sign_in_policy(&user.organisation).await?;
        Ok(Self {
            user,
            organisation,
            sign_in_policy,
            credential,
        })
    }

    /// What the user must do first, if anything: change their password, then set up
    /// the second factor their organisation requires.
    pub fn pending(&self) -> Option<Pending> {
        if self.user.must_change_password {
            Some(Pending::PasswordChange)
        } else if self.sign_in_policy.require_totp && !self.user.totp_enabled {
            Some(Pending::TotpEnrolment)
        } else {
            None
        }
    }

    /// Refuses unless the user holds `role`.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.user.has_role(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this needs the {} role",
                role.as_str().replace('-', " ")
            )))
        }
    }

    /// The user as the audit log records them.
    pub fn actor(&self) -> concordat_domain::audit::Actor {
        actor_of(&self.user)
    }

    /// Whether the user belongs to the national agency or one of its commands or units,
    /// whose administrators run the platform for every organisation.
    pub fn in_national_agency(&self) -> bool {
        self.organisation.kind.is_national_agency_body()
    }

    /// The CSRF token of the session, if the request came with the session cookie.
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { csrf_token, .. } => Some(csrf_token),
            Credential::Bearer { .. } | Credential::Command => None,
        }
    }
}

/// A user as the audit log records them: their id and their sign-in name at the time.
pub fn actor_of(user: &User) -> concordat_domain::audit::Actor {
    concordat_domain::audit::Actor::User {
        id: user.id,
        username: user.username.to_string(),
    }
}

/// Whether `given` equals `expected`, in time that does not depend on where they differ.
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// The session cookie's name: with the `__Host-` prefix when cookies are secure, which
/// pins it to this host and path `/` over HTTPS.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-concordat_session"
    } else {
        "concordat_session"
    }
}

/// Reads the request's credentials, if any; an invalid credential is an error, not
/// an anonymous request.
pub async fn authenticate(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<Authenticated>, AppError> {
    if let Some(who) = parts.extensions.get::<Authenticated>() {
        // Already read by the authorisation layer for this request.
        return Ok(Some(who.clone()));
    }
    let now = concordat_domain::time::Timestamp::now();
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AppError::Unauthenticated)?;
        let secret = value
            .strip_prefix("Bearer ")
            .ok_or(AppError::Unauthenticated)?
            .trim();
        let (token, user) = state
            .store
            .api_token(&hash_secret(secret))
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if !token.is_usable(now) || !user.is_active() {
            return Err(AppError::Unauthenticated);
        }
        let who =
            Authenticated::load(state, user, Credential::Bearer { token_id: token.id }).await?;
        return Ok(Some(who));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(session_cookie_name(state.config.secure_cookies)) else {
        return Ok(None);
    };
    let token_hash = hash_secret(cookie.value());
    let Some(session) = state.store.session(&token_hash).await? else {
        return Ok(None);
    };
    if !session.user.is_active() {
        return Ok(None);
    }
    let credential = Credential::Session {
        token_hash,
        csrf_token: session.csrf_token,
    };
    Ok(Some(
        Authenticated::load(state, session.user, credential).await?,
    ))
}

/// Whether the credential `who` came with still works: the session not ended or
/// expired, the token not revoked or expired, the account still active. A response
/// that lasts (a live stream) checks it from time to time, as each request would.
pub async fn still_valid(state: &AppState, who: &Authenticated) -> Result<bool, AppError> {
    let now = concordat_domain::time::Timestamp::now();
    match &who.credential {
        Credential::Bearer { token_id } => {
            let token = match state.store.api_token_by_id(*token_id).await {
                Ok(token) => token,
                Err(concordat_store::StoreError::NotFound) => return Ok(false),
                Err(e) => return Err(e.into()),
            };
            if !token.is_usable(now) {
                return Ok(false);
            }
            match state.store.user(token.user_id).await {
                Ok(user) => Ok(user.is_active()),
                Err(concordat_store::StoreError::NotFound) => Ok(false),
                Err(e) => Err(e.into()),
            }
        }
        Credential::Session { token_hash, .. } => Ok(state
            .store
            .session(token_hash)
            .await?
            .is_some_and(|s| s.user.is_active())),
        Credential::Command => Ok(true),
    }
}

/// The user `username`, for the command line to act as. A disabled account, or one
/// with something [`Pending`], cannot be acted as.
pub async fn acting_as(state: &AppState, username: &str) -> Result<Principal, AppError> {
    let name = concordat_domain::people::Username::parse(username)
        .map_err(|e| AppError::field("as", e.message))?;
    let user = state
        .store
        .user_by_username(&name)
        .await?
        .ok_or_else(|| AppError::field("as", format!("there is no user `{name}`")))?
        .user;
    if !user.is_active() {
        return Err(AppError::field("as", format!("`{name}` is disabled")));
    }
    let who = Authenticated::load(state, user, Credential::Command).await?;
    match who.pending() {
        None => Ok(Principal(who)),
        Some(Pending::PasswordChange) => Err(AppError::field(
            "as",
            format!("`{name}` must change their password before acting"),
        )),
        Some(Pending::TotpEnrolment) => Err(AppError::field(
            "as",
            format!(
                "`{name}` must set up two-factor sign-in, which their organisation requires, before acting"
            ),
        )),
    }
}

/// Refuses a cookie-authenticated API call that changes state without the session's
/// CSRF token in its header.
fn check_api_csrf(parts: &Parts, who: &Authenticated) -> Result<(), AppError> {
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    match who.csrf_token() {
        Some(expected) if !safe => {
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if csrf_matches(expected, given) {
                Ok(())
            } else {
                Err(AppError::Forbidden(format!(
                    "a cookie-authenticated change needs the session's CSRF token in the {CSRF_HEADER} header"
                )))
            }
        }
        _ => Ok(()),
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let who = authenticate(parts, state)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        check_api_csrf(parts, &who)?;
        Ok(who)
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let who = Authenticated::from_request_parts(parts, state).await?;
        match who.pending() {
            Some(pending) => Err(pending.into()),
            None => Ok(Principal(who)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_against_their_own_hash() {
        let password = NewPassword::parse("correct horse battery").expect("valid");
        let hash = hash_password(&password).await.expect("hashes");
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery", Some(&hash))
                .await
                .expect("runs")
        );
        assert!(
            !verify_password("wrong horse battery", Some(&hash))
                .await
                .expect("runs")
        );
        assert!(
            !verify_password("correct horse battery", None)
                .await
                .expect("runs")
        );
    }

    #[test]
    fn secrets_are_random_and_hash_stably() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_ne!(hash_secret(&a), hash_secret(&b));
    }

    #[test]
    fn one_time_passwords_meet_the_policy() {
        let p = one_time_password();
        assert_eq!(p.expose().len(), 20);
        assert!(NewPassword::parse(p.expose()).is_ok());
    }
}
