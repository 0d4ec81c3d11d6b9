//! Threat areas and the 4P strands of the Serious and Organised Crime Strategy (¶14,
//! fn 10, Annex B).

use crate::people::{FieldError, text_enum};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

text_enum! {
    /// A threat area of serious and organised crime, as national and regional strategic
    /// assessments rank them (¶15). Each falls in one of the five main areas of Annex B.
    ThreatArea, "threat_areas" {
        /// Drugs supply and trafficking.
        Drugs = "drugs",
        /// Firearms supply and criminal use.
        Firearms = "firearms",
        /// Organised acquisitive crime: armed robbery, cash and valuables in transit,
        /// metal and vehicle theft.
        OrganisedAcquisitiveCrime = "organised-acquisitive-crime",
        /// Kidnap and extortion.
        KidnapAndExtortion = "kidnap-and-extortion",
        /// Organised immigration crime.
        OrganisedImmigrationCrime = "organised-immigration-crime",
        /// Modern slavery and human trafficking.
        ModernSlavery = "modern-slavery-and-human-trafficking",
        /// Child sexual exploitation and abuse.
        ChildSexualAbuse = "child-sexual-exploitation-and-abuse",
        /// Cyber crime: attacks on computers and networks, malware.
        CyberCrime = "cyber-crime",
        /// Fraud against individuals, industry and the public sector.
        Fraud = "fraud",
        /// Serious or complex fraud, the Serious Fraud Office's remit.
        SeriousOrComplexFraud = "serious-or-complex-fraud",
        /// Bribery and corruption.
        BriberyAndCorruption = "bribery-and-corruption",
        /// Money laundering.
        MoneyLaundering = "money-laundering",
        /// Tax, duty and other revenue offences, HM Revenue and Customs' remit.
        RevenueOffences = "revenue-offences",
        /// Market abuse and regulatory breaches in financial services.
        MarketAbuse = "market-abuse",
        /// Border vulnerabilities exploited to get round border controls (Annex B).
        BorderVulnerabilities = "border-vulnerabilities",
        /// Prison-related organised crime.
        Prisons = "prisons",
    }
}

text_enum! {
    /// The five main areas of the NCA's first strategic priority (Annex B).
    MainArea, "main_area" {
        /// Organised crime.
        OrganisedCrime = "organised-crime",
        /// Cyber crime.
        Cyber = "cyber",
        /// Economic crime.
        EconomicCrime = "economic-crime",
        /// Child sexual exploitation and abuse.
        ChildSexualExploitation = "child-sexual-exploitation",
        /// Serious and organised crime at, and crossing, the borders.
        Borders = "borders",
    }
}

impl ThreatArea {
    /// The Annex B main area the threat falls in.
    pub fn main_area(self) -> MainArea {
        match self {
            Self::Drugs
            | Self::Firearms
            | Self::OrganisedAcquisitiveCrime
            | Self::KidnapAndExtortion
            | Self::ModernSlavery
            | Self::Prisons => MainArea::OrganisedCrime,
            Self::CyberCrime => MainArea::Cyber,
            Self::Fraud
            | Self::SeriousOrComplexFraud
            | Self::BriberyAndCorruption
            | Self::MoneyLaundering
            | Self::RevenueOffences
            | Self::MarketAbuse => MainArea::EconomicCrime,
            Self::ChildSexualAbuse => MainArea::ChildSexualExploitation,
            Self::OrganisedImmigrationCrime | Self::BorderVulnerabilities => MainArea::Borders,
        }
    }
}

/// A non-empty set of threat areas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "Vec<ThreatArea>", into = "Vec<ThreatArea>")]
#[schema(value_type = Vec<ThreatArea>)]
pub struct ThreatAreas(BTreeSet<ThreatArea>);

impl ThreatAreas {
    /// The set of `areas`; at least one is needed.
    pub fn new(areas: impl IntoIterator<Item = ThreatArea>) -> Result<Self, FieldError> {
        let set: BTreeSet<_> = areas.into_iter().collect();
        if set.is_empty() {
            return Err(FieldError::new(
                "threat_areas",
                "name at least one threat area",
            ));
        }
        Ok(Self(set))
    }

    /// Parses a comma-separated list (for the command line and storage).
    pub fn parse_list(raw: &str) -> Result<Self, FieldError> {
        let areas = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(ThreatArea::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(areas)
    }

    /// The areas, in order.
    pub fn iter(&self) -> impl Iterator<Item = ThreatArea> + '_ {
        self.0.iter().copied()
    }

    /// Whether the set holds `area`.
    pub fn contains(&self, area: ThreatArea) -> bool {
        self.0.contains(&area)
    }

    /// The areas as a comma-separated list, as stored.
    pub fn to_list(&self) -> String {
        self.iter()
            .map(ThreatArea::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl TryFrom<Vec<ThreatArea>> for ThreatAreas {
    type Error = FieldError;
    fn try_from(value: Vec<ThreatArea>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ThreatAreas> for Vec<ThreatArea> {
    fn from(value: ThreatAreas) -> Self {
        value.0.into_iter().collect()
    }
}

text_enum! {
    /// A strand of the Serious and Organised Crime Strategy (fn 10).
    Strand, "strands" {
        /// Prosecuting and disrupting people engaged in serious and organised crime.
        Pursue = "pursue",
        /// Preventing people from becoming involved in it.
        Prevent = "prevent",
        /// Increasing protection against it.
        Protect = "protect",
        /// Reducing its impact where it takes place.
        Prepare = "prepare",
    }
}

impl fmt::Display for ThreatAreas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_list())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Annex B: every threat area sits in one of the five main areas.
    #[test]
    fn every_threat_area_falls_in_an_annex_b_main_area() {
        assert_eq!(ThreatArea::CyberCrime.main_area(), MainArea::Cyber);
        assert_eq!(
            ThreatArea::RevenueOffences.main_area(),
            MainArea::EconomicCrime
        );
        assert_eq!(
            ThreatArea::OrganisedImmigrationCrime.main_area(),
            MainArea::Borders
        );
        let covered: BTreeSet<_> = ThreatArea::ALL.iter().map(|a| a.main_area()).collect();
        assert_eq!(covered.len(), MainArea::ALL.len());
    }

    #[test]
    fn threat_area_lists_parse_and_refuse_unknown_areas() {
        let areas = ThreatAreas::parse_list("money-laundering, revenue-offences").expect("valid");
        assert!(areas.contains(ThreatArea::RevenueOffences));
        assert_eq!(areas.to_list(), "money-laundering,revenue-offences");
        let err = ThreatAreas::parse_list("money-laundering,shoplifting").expect_err("unknown");
        assert_eq!(err.field, "threat_areas");
        assert!(err.message.contains("shoplifting"), "{}", err.message);
        assert!(ThreatAreas::parse_list(" , ").is_err());
    }
}
