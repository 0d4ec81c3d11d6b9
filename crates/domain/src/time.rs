//! Instants as stored and exchanged by Concordat.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An instant in UTC with microsecond precision.
///
/// Both stores keep instants as whole microseconds since the Unix epoch in a `BIGINT`
/// column: the value is exact on both engines, sorts as a number, and hashes the same
/// way after a round trip (the audit chain depends on that). On the wire it is an
/// RFC 3339 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current instant, truncated to the microsecond.
    pub fn now() -> Self {
        Self(Utc::now().timestamp_micros())
    }

    /// The instant `micros` microseconds after the Unix epoch, if chrono can represent it.
    pub fn from_micros(micros: i64) -> Option<Self> {
        Utc.timestamp_micros(micros).single().map(|_| Self(micros))
    }

    /// Microseconds since the Unix epoch, as stored.
    pub fn as_micros(self) -> i64 {
        self.0
    }

    /// The instant as a chrono date-time.
    pub fn to_datetime(self) -> DateTime<Utc> {
        // `from_micros` and `From<DateTime<Utc>>` only admit representable values.
        Utc.timestamp_micros(self.0).single().unwrap_or_default()
    }

    /// This instant moved by `delta`, saturating at the ends of the representable range.
    pub fn plus(self, delta: chrono::Duration) -> Self {
        let micros = delta.num_microseconds().unwrap_or(i64::MAX);
        Self::from_micros(self.0.saturating_add(micros)).unwrap_or(self)
    }

    /// The calendar year of the instant, in UTC.
    pub fn year(self) -> i32 {
        chrono::Datelike::year(&self.to_datetime())
    }

    /// The canonical text form: RFC 3339, UTC, always six fractional digits.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value.timestamp_micros())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| Timestamp::from(t.with_timezone(&Utc)))
            .map_err(|e| serde::de::Error::custom(format!("not an RFC 3339 date-time: {e}")))
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_micros_and_text() {
        let now = Timestamp::now();
        assert_eq!(Timestamp::from_micros(now.as_micros()), Some(now));
        let json = serde_json::to_string(&now).expect("serialises");
        let back: Timestamp = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, now);
    }

    #[test]
    fn text_form_has_fixed_precision() {
        let t = Timestamp::from_micros(0).expect("epoch");
        assert_eq!(t.to_rfc3339(), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn rejects_text_that_is_not_a_date_time() {
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }
}
