//! The partner registry, the capability catalogue and the tasking and coordination
//! groups, as stored.

use crate::db::params;
use crate::{Store, StoreError, WriteTx, parse_column};
use concordat_domain::registry::{
    Capability, GroupDefinition, Jurisdiction, Jurisdictions, OrgCode, Organisation, ReferenceData,
};
use concordat_domain::totp::SignInPolicy;

#[derive(sqlx::FromRow)]
struct OrgRow {
    code: String,
    name: String,
    short_name: String,
    kind: String,
    jurisdictions: String,
    region: Option<String>,
    parent: Option<String>,
    engagement: String,
    border_functions: String,
}

impl OrgRow {
    fn into_domain(self) -> Result<Organisation, StoreError> {
        let jurisdictions = self
            .jurisdictions
            .split(',')
            .map(|j| parse_column::<Jurisdiction>("jurisdictions", j))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Organisation {
            code: parse_column("code", &self.code)?,
            name: self.name,
            short_name: self.short_name,
            kind: parse_column("kind", &self.kind)?,
            jurisdictions: Jurisdictions::new(jurisdictions)
                .map_err(|e| StoreError::Corrupt(format!("jurisdictions: {e}")))?,
            region: self
                .region
                .as_deref()
                .map(|r| parse_column("region", r))
                .transpose()?,
            parent: self
                .parent
                .as_deref()
                .map(|p| parse_column("parent", p))
                .transpose()?,
            engagement: parse_column("engagement", &self.engagement)?,
            border_functions: parse_column("border_functions", &self.border_functions)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CapabilityRow {
    code: String,
    name: String,
    category: String,
    kind: String,
    owner: String,
    description: String,
}

impl CapabilityRow {
    fn into_domain(self) -> Result<Capability, StoreError> {
        Ok(Capability {
            category: parse_column("category", &self.category)?,
            kind: parse_column("kind", &self.kind)?,
            owner: parse_column("owner", &self.owner)?,
            code: self.code,
            name: self.name,
            description: self.description,
        })
    }
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    code: String,
    name: String,
    acronym: String,
    level: String,
    purpose: String,
    chair: String,
    cadence: String,
    reports_to: Option<String>,
    remit: String,
    source: String,
}

impl GroupRow {
    fn into_domain(self) -> Result<GroupDefinition, StoreError> {
        Ok(GroupDefinition {
            level: parse_column("level", &self.level)?,
            purpose: parse_column("purpose", &self.purpose)?,
            cadence: parse_column("cadence", &self.cadence)?,
            code: self.code,
            name: self.name,
            acronym: self.acronym,
            chair: self.chair,
            reports_to: self.reports_to,
            remit: self.remit,
            source: self.source,
        })
    }
}

fn jurisdictions_column(jurisdictions: &Jurisdictions) -> String {
    jurisdictions
        .iter()
        .map(|j| j.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl WriteTx {
    /// Adds or updates every organisation, capability and group in `data`. Records not
    /// in `data` are left as they are: users and history may refer to them.
    pub async fn load_reference_data(&mut self, data: &ReferenceData) -> Result<(), StoreError> {
        // Parents may come after their children in the data, so the organisations go
        // in first without them and the parents are set once all exist.
        for org in &data.organisations {
            self.tx
                .execute(
                    "INSERT INTO organisations (code, name, short_name, kind, jurisdictions, \
                     region, parent, engagement, border_functions) \
                     VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                     short_name = excluded.short_name, kind = excluded.kind, \
                     jurisdictions = excluded.jurisdictions, region = excluded.region, \
                     engagement = excluded.engagement, \
                     border_functions = excluded.border_functions",
                    params![
                        org.code.as_str(),
                        &org.name,
                        &org.short_name,
                        org.kind.as_str(),
                        jurisdictions_column(&org.jurisdictions),
                        org.region.map(|r| r.as_str()),
                        org.engagement.as_str(),
                        org.border_functions.as_str(),
                    ],
                )
                .await?;
        }
        for org in &data.organisations {
            self.tx
                .execute(
                    "UPDATE organisations SET parent = $2 WHERE code = $1",
                    params![org.code.as_str(), org.parent.as_ref().map(OrgCode::as_str)],
                )
                .await?;
        }
        for cap in &data.capabilities {
            self.tx
                .execute(
                    "INSERT INTO capabilities (code, name, category, kind, owner, description) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                     category = excluded.category, kind = excluded.kind, \
                     owner = excluded.owner, description = excluded.description",
                    params![
                        &cap.code,
                        &cap.name,
                        cap.category.as_str(),
                        cap.kind.as_str(),
                        cap.owner.as_str(),
                        &cap.description,
                    ],
                )
                .await?;
        }
        for group in &data.groups {
            self.tx
                .execute(
                    "INSERT INTO tasking_groups (code, name, acronym, level, purpose, chair, \
                     cadence, reports_to, remit, source) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                     acronym = excluded.acronym, level = excluded.level, \
                     purpose = excluded.purpose, chair = excluded.chair, \
                     cadence = excluded.cadence, reports_to = excluded.reports_to, \
                     remit = excluded.remit, source = excluded.source",
                    params![
                        &group.code,
                        &group.name,
                        &group.acronym,
                        group.level.as_str(),
                        group.purpose.as_str(),
                        &group.chair,
                        group.cadence.as_str(),
                        group.reports_to.clone(),
                        &group.remit,
                        &group.source,
                    ],
                )
                .await?;
        }
        Ok(())
    }

    /// Sets how `code`'s people must sign in. An unknown organisation is
    /// [`StoreError::NotFound`].
    pub async fn set_sign_in_policy(
        &mut self,
        code: &OrgCode,
        policy: SignInPolicy,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE organisations SET require_totp = $2 WHERE code = $1",
                params![code.as_str(), i64::from(policy.require_totp)],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

impl Store {
    /// How `code`'s people must sign in.
    pub async fn sign_in_policy(&self, code: &OrgCode) -> Result<SignInPolicy, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            require_totp: i64,
        }
        let row: Row = self
            .reader()
            .await?
            .fetch_one(
                "SELECT require_totp FROM organisations WHERE code = $1",
                params![code.as_str()],
            )
            .await?;
        Ok(SignInPolicy {
            require_totp: row.require_totp != 0,
        })
    }

    /// Every organisation, by code.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows: Vec<OrgRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT code, name, short_name, kind, jurisdictions, region, parent, engagement, \
                 border_functions FROM organisations ORDER BY code",
                vec![],
            )
            .await?;
        rows.into_iter().map(OrgRow::into_domain).collect()
    }

    /// One organisation.
    pub async fn organisation(&self, code: &OrgCode) -> Result<Organisation, StoreError> {
        let row: OrgRow = self
            .reader()
            .await?
            .fetch_one(
                "SELECT code, name, short_name, kind, jurisdictions, region, parent, engagement, \
                 border_functions FROM organisations WHERE code = $1",
                params![code.as_str()],
            )
            .await?;
        row.into_domain()
    }

    /// Every capability in the catalogue, by category then name.
    pub async fn capabilities(&self) -> Result<Vec<Capability>, StoreError> {
        let rows: Vec<CapabilityRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT code, name, category, kind, owner, description FROM capabilities \
                 ORDER BY category, name",
                vec![],
            )
            .await?;
        rows.into_iter().map(CapabilityRow::into_domain).collect()
    }

    /// Every tasking and coordination group, by code.
    pub async fn tasking_groups(&self) -> Result<Vec<GroupDefinition>, StoreError> {
        let rows: Vec<GroupRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT code, name, acronym, level, purpose, chair, cadence, reports_to, remit, \
                 source FROM tasking_groups ORDER BY code",
                vec![],
            )
            .await?;
        rows.into_iter().map(GroupRow::into_domain).collect()
    }
}
