//! Browser sessions and API tokens, stored by the hash of their secret only.

use crate::db::params;
use crate::{Store, StoreError, WriteTx, parse_column, parse_instant};
use concordat_domain::people::{User, UserId};
use concordat_domain::time::Timestamp;
use serde::Serialize;
use std::fmt;

/// The SHA-256 hash of a session or token secret, as 64 hexadecimal digits. Secrets
/// are long and random, so a fast hash is enough; the store never holds the secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Wraps a hash computed by the caller; it must be 64 lower-case hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        (hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(hex.to_owned()))
    }

    /// The hash as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &self.0[..8])
    }
}

/// A browser session to create.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The hash of the session cookie's secret.
    pub token_hash: TokenHash,
    /// Who signed in.
    pub user_id: UserId,
    /// The token forms must carry back (synchroniser token against CSRF).
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: Timestamp,
    /// Where the sign-in came from.
    pub source: String,
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The signed-in user, as they are now.
    pub user: User,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// An API token to create.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// Whose token it is; it acts with their access.
    pub user_id: UserId,
    /// A name to recognise it by.
    pub name: String,
    /// The hash of its secret.
    pub token_hash: TokenHash,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
}

/// An API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    /// The token's identifier.
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    /// Whose token it is.
    pub user_id: UserId,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Whether the token can be used at `now`.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: String,
    csrf_token: String,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    user_id: String,
    name: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    fn into_domain(self) -> Result<ApiToken, StoreError> {
        Ok(ApiToken {
            id: parse_column("id", &self.id)?,
            user_id: parse_column("user_id", &self.user_id)?,
            name: self.name,
            created_at: parse_instant("created_at", self.created_at)?,
            expires_at: self
                .expires_at
                .map(|t| parse_instant("expires_at", t))
                .transpose()?,
            revoked_at: self
                .revoked_at
                .map(|t| parse_instant("revoked_at", t))
                .transpose()?,
        })
    }
}

impl Store {
    /// The session whose secret hashes to `hash`, if it exists and has not expired.
    pub async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> = self
            .reader()
            .await?
            .fetch_optional(
                "SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1",
                params![hash.as_str()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at = parse_instant("expires_at", row.expires_at)?;
        if expires_at <= Timestamp::now() {
            return Ok(None);
        }
        let user = self.user(parse_column("user_id", &row.user_id)?).await?;
        Ok(Some(SessionRecord {
            user,
            csrf_token: row.csrf_token,
            expires_at,
        }))
    }

    /// The token whose secret hashes to `hash`, with its user, whether usable or not.
    pub async fn api_token(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(ApiToken, User)>, StoreError> {
        let row: Option<TokenRow> = self
            .reader()
            .await?
            .fetch_optional(
                "SELECT id, user_id, name, created_at, expires_at, revoked_at FROM api_tokens \
                 WHERE token_hash = $1",
                params![hash.as_str()],
            )
            .await?;
        let Some(token) = row.map(TokenRow::into_domain).transpose()? else {
            return Ok(None);
        };
        let user = self.user(token.user_id).await?;
        Ok(Some((token, user)))
    }

    /// One token by its identifier.
    pub async fn api_token_by_id(&self, id: uuid::Uuid) -> Result<ApiToken, StoreError> {
        let row: TokenRow = self
            .reader()
            .await?
            .fetch_one(
                "SELECT id, user_id, name, created_at, expires_at, revoked_at FROM api_tokens \
                 WHERE id = $1",
                params![id.to_string()],
            )
            .await?;
        row.into_domain()
    }

    /// A user's tokens, newest first.
    pub async fn api_tokens_of(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT id, user_id, name, created_at, expires_at, revoked_at FROM api_tokens \
                 WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
                params![user.to_string()],
            )
            .await?;
        rows.into_iter().map(TokenRow::into_domain).collect()
    }
}

impl WriteTx {
    /// Starts a session.
    pub async fn insert_session(&mut self, new: &NewSession) -> Result<(), StoreError> {
        let now = Timestamp::now();
        // Expired sessions are swept whenever anyone signs in, so the table stays small.
        self.tx
            .execute(
                "DELETE FROM sessions WHERE expires_at <= $1",
                params![now.as_micros()],
            )
            .await?;
        self.tx
            .execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, \
                 source) VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    new.token_hash.as_str(),
                    new.user_id.to_string(),
                    &new.csrf_token,
                    now.as_micros(),
                    new.expires_at.as_micros(),
                    &new.source,
                ],
            )
            .await?;
        Ok(())
    }

    /// Ends one session; returns whether it existed.
    pub async fn delete_session(&mut self, hash: &TokenHash) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute(
                "DELETE FROM sessions WHERE token_hash = $1",
                params![hash.as_str()],
            )
            .await?;
        Ok(n > 0)
    }

    /// Ends every session of a user.
    pub async fn delete_sessions_of(&mut self, user: UserId) -> Result<u64, StoreError> {
        self.tx
            .execute(
                "DELETE FROM sessions WHERE user_id = $1",
                params![user.to_string()],
            )
            .await
    }

    /// Creates an API token.
    pub async fn insert_api_token(&mut self, new: &NewApiToken) -> Result<ApiToken, StoreError> {
        let token = ApiToken {
            id: uuid::Uuid::now_v7(),
            user_id: new.user_id,
            name: new.name.clone(),
            created_at: Timestamp::now(),
            expires_at: new.expires_at,
            revoked_at: None,
        };
        self.tx
            .execute(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    token.id.to_string(),
                    token.user_id.to_string(),
                    &token.name,
                    new.token_hash.as_str(),
                    token.created_at.as_micros(),
                    token.expires_at.map(Timestamp::as_micros),
                ],
            )
            .await?;
        Ok(token)
    }

    /// Revokes a token; revoking it again changes nothing. Returns whether it was live.
    pub async fn revoke_api_token(&mut self, id: uuid::Uuid) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute(
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                params![id.to_string(), Timestamp::now().as_micros()],
            )
            .await?;
        Ok(n > 0)
    }
}
