//! People: accounts, roles, passwords.

use crate::db::{Reader, params};
use crate::{Store, StoreError, WriteTx, parse_column, parse_instant};
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, Role, Roles, User, UserId, UserStatus, Username,
};
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use concordat_domain::totp::{TotpSecret, TotpStep};
use std::collections::HashMap;

/// An account to create. The password arrives already hashed: the store never sees
/// a password.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name.
    pub username: Username,
    /// Name shown to others.
    pub display_name: DisplayName,
    /// The organisation the person belongs to.
    pub organisation: OrgCode,
    /// What they may do.
    pub roles: Roles,
    /// Their vetting level.
    pub clearance: Clearance,
    /// Whether they hold the Director General's delegated authority.
    pub dg_authority: DgAuthority,
    /// The PHC string of their password's hash.
    pub password_hash: String,
    /// Whether they must choose a new password at first sign-in.
    pub must_change_password: bool,
}

/// A user with their password hash, for checking a sign-in.
#[derive(Debug, Clone)]
pub struct UserWithSecret {
    /// The user.
    pub user: User,
    /// The PHC string of their password's hash.
    pub password_hash: String,
    /// Consecutive failed sign-ins since the last success.
    pub failed_sign_ins: u32,
    /// Until when sign-in is locked after too many failures.
    pub locked_until: Option<Timestamp>,
    /// Their second factor, confirmed or still being set up.
    pub totp: Option<StoredTotp>,
}

/// A user's TOTP secret as stored.
#[derive(Debug, Clone)]
pub struct StoredTotp {
    /// The shared secret.
    pub secret: TotpSecret,
    /// When the user proved their authenticator has it; until then sign-in does not
    /// ask for a code.
    pub confirmed_at: Option<Timestamp>,
    /// The time step of the last code accepted; only later steps are accepted.
    pub last_step: Option<TotpStep>,
}

impl StoredTotp {
    /// Whether sign-in asks for a code.
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// Which users to list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Only the users of this organisation.
    pub organisation: Option<OrgCode>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    organisation: String,
    clearance: String,
    dg_authority: String,
    status: String,
    password_hash: String,
    must_change_password: i64,
    created_at: i64,
    failed_sign_ins: i64,
    locked_until: Option<i64>,
    totp_secret: Option<String>,
    totp_confirmed_at: Option<i64>,
    totp_last_step: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    user_id: String,
    role: String,
}

impl UserRow {
    fn into_domain(self, roles: Vec<String>) -> Result<UserWithSecret, StoreError> {
        let totp = self
            .totp_secret
            .as_deref()
            .map(|secret| -> Result<StoredTotp, StoreError> {
                Ok(StoredTotp {
                    secret: TotpSecret::parse_base32(secret)
                        .map_err(|e| StoreError::Corrupt(format!("totp_secret: {}", e.message)))?,
                    confirmed_at: self
                        .totp_confirmed_at
                        .map(|at| parse_instant("totp_confirmed_at", at))
                        .transpose()?,
                    last_step: self.totp_last_step.map(TotpStep::from_stored),
                })
            })
            .transpose()?;
        let roles = roles
            .iter()
            .map(|r| parse_column::<Role>("role", r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(UserWithSecret {
            user: User {
                id: parse_column("id", &self.id)?,
                username: Username::parse(&self.username)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                display_name: DisplayName::parse(&self.display_name)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                organisation: parse_column("organisation", &self.organisation)?,
                roles: Roles::new(roles).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                clearance: parse_column::<Clearance>("clearance", &self.clearance)?,
                dg_authority: parse_column::<DgAuthority>("dg_authority", &self.dg_authority)?,
                status: parse_column::<UserStatus>("status", &self.status)?,
                must_change_password: self.must_change_password != 0,
                totp_enabled: totp.as_ref().is_some_and(StoredTotp::is_confirmed),
                created_at: parse_instant("created_at", self.created_at)?,
            },
            password_hash: self.password_hash,
            failed_sign_ins: u32::try_from(self.failed_sign_ins).unwrap_or(u32::MAX),
            locked_until: self
                .locked_until
                .map(|l| parse_instant("locked_until", l))
                .transpose()?,
            totp,
        })
    }
}

async fn roles_of(reader: &mut Reader, id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<RoleRow> = reader
        .fetch_all(
            "SELECT user_id, role FROM user_roles WHERE user_id = $1 ORDER BY role",
            params![id],
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.role).collect())
}

impl Store {
    /// The user with sign-in name `username`, with their password hash.
    pub async fn user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<UserWithSecret>, StoreError> {
        let mut reader = self.reader().await?;
        let row: Option<UserRow> = reader
            .fetch_optional(
                "SELECT id, username, display_name, organisation, clearance, dg_authority, \
                 status, password_hash, must_change_password, created_at, failed_sign_ins, locked_until, \
                 totp_secret, totp_confirmed_at, totp_last_step FROM users WHERE username = $1",
                params![username.as_str()],
            )
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let roles = roles_of(&mut reader, &row.id).await?;
                row.into_domain(roles).map(Some)
            }
        }
    }

    /// The user with identifier `id`, with their password hash.
    pub async fn user_with_secret(&self, id: UserId) -> Result<UserWithSecret, StoreError> {
        let mut reader = self.reader().await?;
        let id = id.to_string();
        let row: UserRow = reader
            .fetch_one(
                "SELECT id, username, display_name, organisation, clearance, dg_authority, \
                 status, password_hash, must_change_password, created_at, failed_sign_ins, locked_until, \
                 totp_secret, totp_confirmed_at, totp_last_step FROM users WHERE id = $1",
                params![&id],
            )
            .await?;
        let roles = roles_of(&mut reader, &id).await?;
        row.into_domain(roles)
    }

    /// The user with identifier `id`.
    pub async fn user(&self, id: UserId) -> Result<User, StoreError> {
        Ok(self.user_with_secret(id).await?.user)
    }

    /// Users, by sign-in name.
    pub async fn users(&self, filter: &UserFilter) -> Result<Vec<User>, StoreError> {
        let mut reader = self.reader().await?;
        let org = filter.organisation.as_ref().map(OrgCode::as_str);
        let rows: Vec<UserRow> = reader
            .fetch_all(
                "SELECT id, username, display_name, organisation, clearance, dg_authority, \
                 status, password_hash, must_change_password, created_at, failed_sign_ins, locked_until, \
                 totp_secret, totp_confirmed_at, totp_last_step FROM users WHERE ($1 IS NULL OR organisation = $1) ORDER BY username",
                params![org],
            )
            .await?;
        let role_rows: Vec<RoleRow> = reader
            .fetch_all(
                "SELECT r.user_id, r.role FROM user_roles r JOIN users u ON u.id = r.user_id \
                 WHERE ($1 IS NULL OR u.organisation = $1) ORDER BY r.role",
                params![org],
            )
            .await?;
        let mut roles: HashMap<String, Vec<String>> = HashMap::new();
        for r in role_rows {
            roles.entry(r.user_id).or_default().push(r.role);
        }
        rows.into_iter()
            .map(|row| {
                let held = roles.remove(&row.id).unwrap_or_default();
                row.into_domain(held).map(|u| u.user)
            })
            .collect()
    }

    /// How many accounts exist.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Count {
            n: i64,
        }
        let count: Count = self
            .reader()
            .await?
            .fetch_one("SELECT COUNT(*) AS n FROM users", vec![])
            .await?;
        Ok(count.n)
    }
}

impl WriteTx {
    /// Creates an account. A taken sign-in name is a [`StoreError::Conflict`].
    pub async fn insert_user(&mut self, new: &NewUser) -> Result<User, StoreError> {
        let id = UserId::new();
        let now = Timestamp::now();
        let inserted = self
            .tx
            .execute(
                "INSERT INTO users (id, username, display_name, organisation, clearance, \
                 dg_authority, status, password_hash, must_change_password, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                params![
                    id.to_string(),
                    new.username.as_str(),
                    new.display_name.as_str(),
                    new.organisation.as_str(),
                    new.clearance.as_str(),
                    new.dg_authority.as_str(),
                    UserStatus::Active.as_str(),
                    &new.password_hash,
                    i64::from(new.must_change_password),
                    now.as_micros(),
                ],
            )
            .await;
        if let Err(StoreError::Conflict(_)) = inserted {
            return Err(StoreError::Conflict(format!(
                "the username `{}` is taken, or organisation `{}` does not exist",
                new.username, new.organisation
            )));
        }
        inserted?;
        for role in new.roles.iter() {
            self.tx
                .execute(
                    "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)",
                    params![id.to_string(), role.as_str()],
                )
                .await?;
        }
        Ok(User {
            id,
            username: new.username.clone(),
            display_name: new.display_name.clone(),
            organisation: new.organisation.clone(),
            roles: new.roles.clone(),
            clearance: new.clearance,
            dg_authority: new.dg_authority,
            status: UserStatus::Active,
            must_change_password: new.must_change_password,
            totp_enabled: false,
            created_at: now,
        })
    }

    /// Enables or disables an account. Disabling also ends its sessions.
    pub async fn set_user_status(
        &mut self,
        id: UserId,
        status: UserStatus,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE users SET status = $2, updated_at = $3 WHERE id = $1",
                params![
                    id.to_string(),
                    status.as_str(),
                    Timestamp::now().as_micros()
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        match status {
            UserStatus::Disabled => {
                self.delete_sessions_of(id).await?;
            }
            UserStatus::Active => self.clear_failed_sign_ins(id).await?,
        }
        Ok(())
    }

    /// Counts a failed sign-in to `id` at `now` and locks the account until `lock_for`
    /// has passed, when the policy says so. Returns the failures counted so far.
    pub async fn record_failed_sign_in(
        &mut self,
        id: UserId,
        locked_until: impl Fn(u32) -> Option<Timestamp>,
    ) -> Result<u32, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            failed_sign_ins: i64,
        }
        self.tx
            .execute(
                "UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = $1",
                params![id.to_string()],
            )
            .await?;
        let row: Row = self
            .tx
            .fetch_one(
                "SELECT failed_sign_ins FROM users WHERE id = $1",
                params![id.to_string()],
            )
            .await?;
        let failures = u32::try_from(row.failed_sign_ins).unwrap_or(u32::MAX);
        if let Some(until) = locked_until(failures) {
            self.tx
                .execute(
                    "UPDATE users SET locked_until = $2 WHERE id = $1",
                    params![id.to_string(), until.as_micros()],
                )
                .await?;
        }
        Ok(failures)
    }

    /// Clears an account's failed sign-ins and any lock (a success, or an administrator
    /// enabling the account).
    pub async fn clear_failed_sign_ins(&mut self, id: UserId) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1",
                params![id.to_string()],
            )
            .await?;
        Ok(())
    }

    /// Replaces an account's password hash, and whether it must be changed at next sign-in.
    pub async fn set_password(
        &mut self,
        id: UserId,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = $4 \
                 WHERE id = $1",
                params![
                    id.to_string(),
                    password_hash,
                    i64::from(must_change_password),
                    Timestamp::now().as_micros()
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Starts setting up a second factor for `id`: stores `secret`, unconfirmed,
    /// replacing any unconfirmed one. A confirmed secret stays, and this is a
    /// [`StoreError::Conflict`]: it must be turned off or reset first.
    pub async fn start_totp(&mut self, id: UserId, secret: &TotpSecret) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE users SET totp_secret = $2, totp_confirmed_at = NULL, \
                 totp_last_step = NULL, updated_at = $3 \
                 WHERE id = $1 AND totp_confirmed_at IS NULL",
                params![
                    id.to_string(),
                    secret.to_base32(),
                    Timestamp::now().as_micros()
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "two-factor sign-in is already set up".to_owned(),
            ));
        }
        Ok(())
    }

    /// Confirms `id`'s unconfirmed secret at `at`, with the code of time step `step`
    /// (which is then used). Returns whether there was an unconfirmed secret to confirm.
    pub async fn confirm_totp(
        &mut self,
        id: UserId,
        step: TotpStep,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE users SET totp_confirmed_at = $2, totp_last_step = $3, updated_at = $2 \
                 WHERE id = $1 AND totp_secret IS NOT NULL AND totp_confirmed_at IS NULL",
                params![id.to_string(), at.as_micros(), step.as_i64()],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Uses the code of time step `step` for `id`: succeeds only if the user's second
    /// factor is confirmed and no code of this step or a later one was used before, so
    /// a code is accepted once, even by two requests at the same moment.
    pub async fn use_totp_step(&mut self, id: UserId, step: TotpStep) -> Result<bool, StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE users SET totp_last_step = $2 WHERE id = $1 \
                 AND totp_confirmed_at IS NOT NULL \
                 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                params![id.to_string(), step.as_i64()],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Removes `id`'s second factor, confirmed or not. Returns whether there was one.
    pub async fn clear_totp(&mut self, id: UserId) -> Result<bool, StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE users SET totp_secret = NULL, totp_confirmed_at = NULL, \
                 totp_last_step = NULL, updated_at = $2 \
                 WHERE id = $1 AND totp_secret IS NOT NULL",
                params![id.to_string(), Timestamp::now().as_micros()],
            )
            .await?;
        Ok(changed == 1)
    }
}
