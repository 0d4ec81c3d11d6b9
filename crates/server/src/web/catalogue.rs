//! The catalogue and registry in the browser: the national agency's capabilities by
//! Annex E category, the organisations, the ROCU regions and the tasking and
//! coordination groups, and one organisation's page. Reference data any signed-in user
//! may read, from the same store reads as the API's.

use super::{Chrome, PageUser, shown};
use crate::AppState;
use crate::authz::permit_route;
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use concordat_domain::registry::{
    Capability, CapabilityCategory, GroupDefinition, OrgCode, Organisation, OrganisationKind,
    RocuRegion,
};

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/catalogue", get(catalogue))
        .route("/catalogue/organisations/{code}", get(organisation))
}

/// A capability as the catalogue lists it.
struct CapabilityRow {
    name: String,
    kind: &'static str,
    owner_code: String,
    owner: String,
    description: String,
}

/// One Annex E category and its capabilities.
struct CategoryView {
    slug: &'static str,
    name: &'static str,
    caption: String,
    capabilities: Vec<CapabilityRow>,
}

/// An organisation as a row.
struct OrganisationRow {
    code: String,
    name: String,
    kind: &'static str,
    jurisdictions: String,
    region: String,
}

impl OrganisationRow {
    fn new(o: &Organisation) -> Self {
        Self {
            code: o.code.to_string(),
            name: o.name.clone(),
            kind: o.kind.name(),
            jurisdictions: o
                .jurisdictions
                .iter()
                .map(|j| j.name())
                .collect::<Vec<_>>()
                .join(", "),
            region: o.region.map(|r| r.name().to_owned()).unwrap_or_default(),
        }
    }
}

/// A ROCU region: its unit and its forces.
struct RegionView {
    slug: &'static str,
    name: &'static str,
    rocu: Option<OrganisationRow>,
    forces: Vec<OrganisationRow>,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct CataloguePage {
    chrome: Chrome,
    categories: Vec<CategoryView>,
    organisations: Vec<OrganisationRow>,
    regions: Vec<RegionView>,
    groups: Vec<GroupDefinition>,
}

impl CataloguePage {
    fn group_name(&self, code: &str) -> String {
        self.groups
            .iter()
            .find(|g| g.code == code)
            .map_or_else(|| code.to_owned(), |g| g.name.clone())
    }
}

fn name_of(organisations: &[Organisation], code: &OrgCode) -> String {
    organisations
        .iter()
        .find(|o| o.code == *code)
        .map_or_else(|| code.to_string(), |o| o.name.clone())
}

fn capability_rows<'a>(
    organisations: &[Organisation],
    capabilities: impl Iterator<Item = &'a Capability>,
) -> Vec<CapabilityRow> {
    capabilities
        .map(|c| CapabilityRow {
            name: c.name.clone(),
            kind: c.kind.name(),
            owner_code: c.owner.to_string(),
            owner: name_of(organisations, &c.owner),
            description: c.description.clone(),
        })
        .collect()
}

async fn catalogue(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    let result = async {
        permit_route(&state, &who, "GET", "/api/v1/capabilities", &[]).await?;
        permit_route(&state, &who, "GET", "/api/v1/organisations", &[]).await?;
        permit_route(&state, &who, "GET", "/api/v1/groups", &[]).await?;
        let mut organisations = state.store.organisations().await?;
        organisations.sort_by(|a, b| a.name.cmp(&b.name));
        let capabilities = state.store.capabilities().await?;
        let groups = state.store.tasking_groups().await?;
        let categories = CapabilityCategory::ALL
            .iter()
            .map(|category| CategoryView {
                slug: category.as_str(),
                name: category.name(),
                caption: format!("{} capabilities", category.name()),
                capabilities: capability_rows(
                    &organisations,
                    capabilities.iter().filter(|c| c.category == *category),
                ),
            })
            .filter(|c| !c.capabilities.is_empty())
            .collect();
        let regions = RocuRegion::ALL
            .iter()
            .map(|region| {
                let (rocu, forces): (Vec<&Organisation>, Vec<&Organisation>) = organisations
                    .iter()
                    .filter(|o| o.region == Some(*region))
                    .partition(|o| o.kind == OrganisationKind::Rocu);
                RegionView {
                    slug: region.as_str(),
                    name: region.name(),
                    rocu: rocu.first().map(|o| OrganisationRow::new(o)),
                    forces: forces.into_iter().map(OrganisationRow::new).collect(),
                }
            })
            .collect();
        Ok::<_, AppError>(CataloguePage {
            chrome: Chrome::new(&who, "/catalogue"),
            categories,
            organisations: organisations.iter().map(OrganisationRow::new).collect(),
            regions,
            groups,
        })
    }
    .await;
    shown(result)
}

#[derive(Template)]
#[template(path = "catalogue_organisation.html")]
struct OrganisationPage {
    chrome: Chrome,
    organisation: OrganisationRow,
    short_name: String,
    region_slug: Option<&'static str>,
    engagement: &'static str,
    border_functions: &'static str,
    parent: Option<OrganisationRow>,
    /// A force's regional organised crime unit.
    rocu: Option<OrganisationRow>,
    children: Vec<OrganisationRow>,
    capabilities: Vec<CapabilityRow>,
    capabilities_caption: String,
}

async fn organisation(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Path(code): Path<String>,
) -> Response {
    let result = async {
        permit_route(
            &state,
            &who,
            "GET",
            "/api/v1/organisations/{code}",
            &[("code", &code)],
        )
        .await?;
        let code = OrgCode::parse(&code).map_err(|_| AppError::NotFound)?;
        let organisation = state.store.organisation(&code).await?;
        let organisations = state.store.organisations().await?;
        let capabilities = state.store.capabilities().await?;
        let parent = organisation
            .parent
            .as_ref()
            .and_then(|p| organisations.iter().find(|o| o.code == *p))
            .map(OrganisationRow::new);
        let rocu = organisations
            .iter()
            .find(|o| {
                o.kind == OrganisationKind::Rocu
                    && o.code != code
                    && o.region.is_some()
                    && o.region == organisation.region
            })
            .map(OrganisationRow::new);
        let mut children: Vec<OrganisationRow> = organisations
            .iter()
            .filter(|o| {
                o.parent.as_ref() == Some(&code)
                    || (organisation.kind == OrganisationKind::Rocu
                        && o.code != code
                        && o.region.is_some()
                        && o.region == organisation.region)
            })
            .map(OrganisationRow::new)
            .collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        Ok::<_, AppError>(OrganisationPage {
            chrome: Chrome::new(&who, "/catalogue"),
            short_name: organisation.short_name.clone(),
            region_slug: organisation.region.map(|r| r.as_str()),
            engagement: organisation.engagement.name(),
            border_functions: organisation.border_functions.name(),
            parent,
            rocu,
            children,
            capabilities: capability_rows(
                &organisations,
                capabilities.iter().filter(|c| c.owner == code),
            ),
            capabilities_caption: format!("Capabilities {} provides", organisation.name),
            organisation: OrganisationRow::new(&organisation),
        })
    }
    .await;
    shown(result)
}
