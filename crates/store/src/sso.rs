//! Single sign-on: organisations' identity providers, the external identities linked
//! to accounts, and sign-ins in flight.

use crate::db::params;
use crate::{Store, StoreError, TokenHash, WriteTx, corrupt, parse_column, parse_instant};
use concordat_domain::people::{DgAuthority, Role, Roles, UserId};
use concordat_domain::registry::OrgCode;
use concordat_domain::sso::{
    ClaimName, ClientId, ClientSecret, ExternalSubject, IdentityProvider, IssuerUrl, Provisioning,
    RoleMap, Scopes, Transport,
};
use concordat_domain::time::Timestamp;
use std::collections::BTreeMap;

/// An organisation's identity provider as stored.
#[derive(Debug, Clone)]
pub struct StoredIdentityProvider {
    /// The organisation it signs people into.
    pub organisation: OrgCode,
    /// The provider.
    pub provider: IdentityProvider,
    /// When it was last set.
    pub updated_at: Timestamp,
}

/// An organisation people may sign in to with single sign-on, for the sign-in page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SsoOrganisation {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// A sign-in in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingSso {
    /// The person has been sent to `organisation`'s provider, with this nonce and PKCE
    /// verifier to check its answer against.
    Authorise {
        /// Whose provider.
        organisation: OrgCode,
        /// The nonce the ID token must carry.
        nonce: String,
        /// The PKCE code verifier.
        pkce_verifier: String,
    },
    /// The provider vouched for `user`, who must now give their Concordat security code.
    SecondFactor {
        /// Whose provider.
        organisation: OrgCode,
        /// The account.
        user: UserId,
    },
}

#[derive(sqlx::FromRow)]
struct ProviderRow {
    organisation: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: String,
    role_claim: String,
    role_map: String,
    username_claim: String,
    organisation_claim: Option<String>,
    provisioning: String,
    updated_at: i64,
}

impl ProviderRow {
    fn into_domain(self) -> Result<StoredIdentityProvider, StoreError> {
        let field = |e: concordat_domain::people::FieldError| corrupt(e);
        let role_map: BTreeMap<String, Vec<Role>> =
            serde_json::from_str(&self.role_map).map_err(corrupt)?;
        Ok(StoredIdentityProvider {
            organisation: parse_column("organisation", &self.organisation)?,
            provider: IdentityProvider {
                // Whether plain HTTP is allowed is the server's to decide when it uses it.
                issuer: IssuerUrl::parse(&self.issuer, Transport::AllowHttp).map_err(field)?,
                client_id: ClientId::parse(&self.client_id).map_err(field)?,
                client_secret: ClientSecret::parse(&self.client_secret).map_err(field)?,
                scopes: Scopes::parse(self.scopes.split(' ')).map_err(field)?,
                role_claim: ClaimName::parse(&self.role_claim).map_err(field)?,
                role_map: RoleMap::new(role_map).map_err(field)?,
                username_claim: ClaimName::parse(&self.username_claim).map_err(field)?,
                organisation_claim: self
                    .organisation_claim
                    .as_deref()
                    .map(ClaimName::parse)
                    .transpose()
                    .map_err(field)?,
                provisioning: parse_column::<Provisioning>("provisioning", &self.provisioning)?,
            },
            updated_at: parse_instant("updated_at", self.updated_at)?,
        })
    }
}

fn role_map_column(map: &RoleMap) -> Result<String, StoreError> {
    let plain: BTreeMap<&str, Vec<&str>> = map
        .iter()
        .map(|(value, roles)| (value, roles.iter().map(Role::as_str).collect()))
        .collect();
    serde_json::to_string(&plain).map_err(corrupt)
}

impl Store {
    /// `organisation`'s identity provider, if it has one.
    pub async fn identity_provider(
        &self,
        organisation: &OrgCode,
    ) -> Result<Option<StoredIdentityProvider>, StoreError> {
        let row: Option<ProviderRow> = self
            .reader()
            .await?
            .fetch_optional(
                "SELECT organisation, issuer, client_id, client_secret, scopes, role_claim, \
                 role_map, username_claim, organisation_claim, provisioning, updated_at \
                 FROM identity_providers WHERE organisation = $1",
                params![organisation.as_str()],
            )
            .await?;
        row.map(ProviderRow::into_domain).transpose()
    }

    /// The organisations with an identity provider, by name.
    pub async fn sso_organisations(&self) -> Result<Vec<SsoOrganisation>, StoreError> {
        self.reader()
            .await?
            .fetch_all(
                "SELECT o.code, o.name FROM identity_providers p \
                 JOIN organisations o ON o.code = p.organisation ORDER BY o.name",
                vec![],
            )
            .await
    }

    /// The account linked to `subject` at `issuer`, and the organisation whose provider
    /// linked it.
    pub async fn external_identity(
        &self,
        issuer: &IssuerUrl,
        subject: &ExternalSubject,
    ) -> Result<Option<(UserId, OrgCode)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: String,
            organisation: String,
        }
        let row: Option<Row> = self
            .reader()
            .await?
            .fetch_optional(
                "SELECT user_id, organisation FROM external_identities \
                 WHERE issuer = $1 AND subject = $2",
                params![issuer.as_str(), subject.as_str()],
            )
            .await?;
        row.map(|r| {
            Ok((
                parse_column("user_id", &r.user_id)?,
                parse_column("organisation", &r.organisation)?,
            ))
        })
        .transpose()
    }

    /// The subject `user` is linked to at `issuer`, if any.
    pub async fn external_identity_of(
        &self,
        user: UserId,
        issuer: &IssuerUrl,
    ) -> Result<Option<ExternalSubject>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            subject: String,
        }
        let row: Option<Row> = self
            .reader()
            .await?
            .fetch_optional(
                "SELECT subject FROM external_identities WHERE user_id = $1 AND issuer = $2",
                params![user.to_string(), issuer.as_str()],
            )
            .await?;
        row.map(|r| ExternalSubject::parse(&r.subject).map_err(corrupt))
            .transpose()
    }
}

impl WriteTx {
    /// Sets `organisation`'s identity provider, replacing any. An unknown organisation
    /// is a [`StoreError::Conflict`].
    pub async fn put_identity_provider(
        &mut self,
        organisation: &OrgCode,
        provider: &IdentityProvider,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        self.tx
            .execute(
                "INSERT INTO identity_providers (organisation, issuer, client_id, client_secret, \
                 scopes, role_claim, role_map, username_claim, organisation_claim, provisioning, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
                 ON CONFLICT (organisation) DO UPDATE SET issuer = excluded.issuer, \
                 client_id = excluded.client_id, client_secret = excluded.client_secret, \
                 scopes = excluded.scopes, role_claim = excluded.role_claim, \
                 role_map = excluded.role_map, username_claim = excluded.username_claim, \
                 organisation_claim = excluded.organisation_claim, \
                 provisioning = excluded.provisioning, updated_at = excluded.updated_at",
                params![
                    organisation.as_str(),
                    provider.issuer.as_str(),
                    provider.client_id.as_str(),
                    provider.client_secret.expose(),
                    provider.scopes.to_stored(),
                    provider.role_claim.as_str(),
                    role_map_column(&provider.role_map)?,
                    provider.username_claim.as_str(),
                    provider.organisation_claim.as_ref().map(ClaimName::as_str),
                    provider.provisioning.as_str(),
                    now,
                ],
            )
            .await?;
        Ok(())
    }

    /// Removes `organisation`'s identity provider, and every sign-in in flight through
    /// it. Returns whether there was one. Linked identities stay, so that setting the
    /// same provider again finds the same accounts.
    pub async fn delete_identity_provider(
        &mut self,
        organisation: &OrgCode,
    ) -> Result<bool, StoreError> {
        self.tx
            .execute(
                "DELETE FROM sso_pending WHERE organisation = $1",
                params![organisation.as_str()],
            )
            .await?;
        let removed = self
            .tx
            .execute(
                "DELETE FROM identity_providers WHERE organisation = $1",
                params![organisation.as_str()],
            )
            .await?;
        Ok(removed > 0)
    }

    /// Links `subject` at `issuer` to `user` of `organisation`.
    pub async fn link_external_identity(
        &mut self,
        issuer: &IssuerUrl,
        subject: &ExternalSubject,
        user: UserId,
        organisation: &OrgCode,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO external_identities (issuer, subject, user_id, organisation, \
                 linked_at) VALUES ($1, $2, $3, $4, $5)",
                params![
                    issuer.as_str(),
                    subject.as_str(),
                    user.to_string(),
                    organisation.as_str(),
                    Timestamp::now().as_micros(),
                ],
            )
            .await?;
        Ok(())
    }

    /// Replaces `user`'s roles.
    pub async fn set_roles(&mut self, user: UserId, roles: &Roles) -> Result<(), StoreError> {
        self.tx
            .execute(
                "DELETE FROM user_roles WHERE user_id = $1",
                params![user.to_string()],
            )
            .await?;
        for role in roles.iter() {
            self.tx
                .execute(
                    "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)",
                    params![user.to_string(), role.as_str()],
                )
                .await?;
        }
        self.tx
            .execute(
                "UPDATE users SET updated_at = $2 WHERE id = $1",
                params![user.to_string(), Timestamp::now().as_micros()],
            )
            .await?;
        Ok(())
    }

    /// Sets whether `user` holds the Director General's delegated authority.
    pub async fn set_dg_authority(
        &mut self,
        user: UserId,
        authority: DgAuthority,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE users SET dg_authority = $2 WHERE id = $1",
                params![user.to_string(), authority.as_str()],
            )
            .await?;
        Ok(())
    }

    /// Records a sign-in in flight under the hash of its cookie's secret, until
    /// `expires_at`, and forgets those that have expired.
    pub async fn insert_pending_sso(
        &mut self,
        key: &TokenHash,
        pending: &PendingSso,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        self.tx
            .execute(
                "DELETE FROM sso_pending WHERE expires_at <= $1",
                params![now],
            )
            .await?;
        let (stage, organisation, nonce, verifier, user) = match pending {
            PendingSso::Authorise {
                organisation,
                nonce,
                pkce_verifier,
            } => (
                "authorise",
                organisation,
                Some(nonce.as_str()),
                Some(pkce_verifier.as_str()),
                None,
            ),
            PendingSso::SecondFactor { organisation, user } => (
                "second-factor",
                organisation,
                None,
                None,
                Some(user.to_string()),
            ),
        };
        self.tx
            .execute(
                "INSERT INTO sso_pending (key_hash, stage, organisation, nonce, pkce_verifier, \
                 user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                params![
                    key.as_str(),
                    stage,
                    organisation.as_str(),
                    nonce,
                    verifier,
                    user,
                    now,
                    expires_at.as_micros(),
                ],
            )
            .await?;
        Ok(())
    }

    /// Takes the sign-in in flight under `key`: it is removed whether or not it is
    /// still in time, so it is used at most once, even by two requests at once.
    /// Returns it only if it had not expired by `now`.
    pub async fn take_pending_sso(
        &mut self,
        key: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<PendingSso>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            stage: String,
            organisation: String,
            nonce: Option<String>,
            pkce_verifier: Option<String>,
            user_id: Option<String>,
            expires_at: i64,
        }
        let row: Option<Row> = self
            .tx
            .fetch_optional(
                "SELECT stage, organisation, nonce, pkce_verifier, user_id, expires_at \
                 FROM sso_pending WHERE key_hash = $1",
                params![key.as_str()],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let removed = self
            .tx
            .execute(
                "DELETE FROM sso_pending WHERE key_hash = $1",
                params![key.as_str()],
            )
            .await?;
        if removed == 0 || row.expires_at <= now.as_micros() {
            return Ok(None);
        }
        let organisation = parse_column("organisation", &row.organisation)?;
        let pending = match (
            row.stage.as_str(),
            row.nonce,
            row.pkce_verifier,
            row.user_id,
        ) {
            ("authorise", Some(nonce), Some(pkce_verifier), _) => PendingSso::Authorise {
                organisation,
                nonce,
                pkce_verifier,
            },
            ("second-factor", _, _, Some(user)) => PendingSso::SecondFactor {
                organisation,
                user: parse_column("user_id", &user)?,
            },
            (stage, ..) => return Err(corrupt(format!("sso_pending stage {stage:?}"))),
        };
        Ok(Some(pending))
    }
}
