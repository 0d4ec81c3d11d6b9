//! Exports: the records of one kind that a user may see, as JSON or CSV, for their own
//! records management or analysis tools.
//!
//! An export is made from the same lists the API serves, so it holds exactly what the
//! user may see (organisation, role, clearance, need-to-know; see [`crate::authz`]), and
//! nothing else. It carries the banner of the highest marking it holds (aggregation
//! neither raises nor lowers a tier: [`aggregate_marking`]), each row carries its own, and
//! every record in it is entered in the audit log as read through an export, so that
//! `concordat audit who-saw` names whoever exported it.

use crate::AppState;
use crate::auth::{Authenticated, Principal};
use crate::error::AppError;
use concordat_domain::audit::AuditEntry;
use concordat_domain::handling::{Marking, RecordKind, aggregate_marking};
use concordat_domain::people::FieldError;
use concordat_domain::time::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One JSON document: the banner, who exported it and when, and the records.
    Json,
    /// One row a record, one column a top-level field; nested values as JSON text.
    Csv,
}

impl std::str::FromStr for ExportFormat {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s {
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            other => Err(FieldError::new(
                "format",
                format!("`{other}` is not one of: json, csv"),
            )),
        }
    }
}

/// An export, before it is written out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Export {
    /// The banner of the collection: its highest tier and every caveat its records
    /// carry (OFFICIAL when empty).
    pub banner: String,
    /// What kind of records it holds.
    pub kind: RecordKind,
    /// When it was made.
    pub exported_at: Timestamp,
    /// Who made it (username).
    pub exported_by: String,
    /// How many records it holds.
    pub count: usize,
    /// The records, each as the API shows it, with its own `banner` (its marking as
    /// printed) where the API does not show one already.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<Value>,
}

impl Export {
    /// The export as CSV: a header row of every top-level field, in order of first
    /// appearance (`banner` first), then a row a record. Text and numbers are written
    /// as they are; lists and objects as compact JSON.
    pub fn to_csv(&self) -> Result<Vec<u8>, AppError> {
        let mut columns: Vec<String> = vec!["banner".to_owned()];
        for record in &self.records {
            if let Value::Object(fields) = record {
                for key in fields.keys() {
                    if !columns.contains(key) {
                        columns.push(key.clone());
                    }
                }
            }
        }
        let mut out = csv::Writer::from_writer(vec![]);
        let internal = |e: csv::Error| AppError::Internal(anyhow::Error::new(e));
        out.write_record(&columns).map_err(internal)?;
        for record in &self.records {
            let row = columns.iter().map(|c| match record.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            });
            out.write_record(row).map_err(internal)?;
        }
        out.into_inner()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the export: {e}")))
    }
}

/// Makes an export of the `kind` records `who` may see, and audits it: one read per
/// record (view `export`) and one `export` entry for the whole.
pub async fn export(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    kind: RecordKind,
    format: ExportFormat,
) -> Result<Export, AppError> {
    let items: Vec<(String, Value)> = match kind {
        RecordKind::Subject => rows(crate::tasking::subjects(state, who).await?, |s| s.id),
        RecordKind::Request => rows(
            crate::tasking::requests(state, who, concordat_store::RequestBox::All, None).await?,
            |r| r.id,
        ),
        RecordKind::Operation => rows(crate::tasking::operations(state, who).await?, |o| o.id),
        RecordKind::Direction => rows(
            crate::directions::list(state, &Principal(who.clone())).await?,
            |d| d.id,
        ),
        RecordKind::Registration => rows(
            crate::deconfliction::registrations(state, who).await?,
            |r| r.id,
        ),
        RecordKind::Intelligence => {
            rows(crate::handling::intelligence_list(state, who).await?, |i| {
                i.intelligence.id
            })
        }
    };
    let markings = state.store.markings_of(kind).await?;
    let official = Marking::default();
    let marking_of = |id: &str| markings.get(id).unwrap_or(&official);
    let banner = aggregate_marking(items.iter().map(|(id, _)| marking_of(id))).banner();
    let records: Vec<Value> = items
        .iter()
        .map(|(id, value)| {
            let mut value = value.clone();
            if let Value::Object(fields) = &mut value {
                fields
                    .entry("banner")
                    .or_insert_with(|| json!(marking_of(id).banner()));
            }
            value
        })
        .collect();
    let export = Export {
        banner,
        kind,
        exported_at: Timestamp::now(),
        exported_by: who.user.username.to_string(),
        count: records.len(),
        records,
    };

    let mut tx = state.store.write().await?;
    for (id, _) in &items {
        tx.audit(crate::reads::read_entry(
            who,
            source,
            kind.as_str(),
            id,
            "export",
        ))
        .await?;
    }
    tx.commit(
        AuditEntry::new(who.actor(), "export")
            .source(source)
            .detail(json!({
                "kind": kind,
                "format": format,
                "count": export.count,
                "banner": export.banner,
            })),
    )
    .await?;
    Ok(export)
}

/// Each item with its identifier, as the API shows it.
fn rows<T: Serialize, I: std::fmt::Display>(
    items: Vec<T>,
    id: impl Fn(&T) -> I,
) -> Vec<(String, Value)> {
    items
        .into_iter()
        .map(|item| {
            let key = id(&item).to_string();
            (key, serde_json::to_value(item).unwrap_or(Value::Null))
        })
        .collect()
}
