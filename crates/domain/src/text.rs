//! Free text with limits: names, titles and narratives that people type.

/// Declares a trimmed, length-limited text type. `multiline` allows line breaks and
/// tabs (a narrative); otherwise every control character is refused (a name or title).
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $field:literal, $max:literal, $multiline:literal, $example:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(value_type = String, example = $example)]
        pub struct $name(String);

        impl $name {
            /// The field this text fills, as the API names it.
            pub const FIELD: &'static str = $field;

            /// Parses the text: trimmed, 1 to the limit in characters.
            pub fn parse(raw: &str) -> Result<Self, $crate::people::FieldError> {
                let text = raw.trim();
                let len = text.chars().count();
                if len == 0 {
                    return Err($crate::people::FieldError::new($field, "must not be empty"));
                }
                if len > $max {
                    return Err($crate::people::FieldError::new(
                        $field,
                        format!("must be at most {} characters long", $max),
                    ));
                }
                let allowed = |c: char| $multiline && matches!(c, '\n' | '\r' | '\t');
                if text.chars().any(|c| c.is_control() && !allowed(c)) {
                    return Err($crate::people::FieldError::new(
                        $field,
                        "must not contain control characters",
                    ));
                }
                Ok(Self(text.to_owned()))
            }

            /// The text as stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::people::FieldError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use bounded_text;

/// Declares a UUID (version 7) identifier type.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $field:literal) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize,
            serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = String, format = "uuid")]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new, unique identifier; identifiers sort by creation.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::people::FieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| $crate::people::FieldError::new($field, "is not a UUID"))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
pub(crate) use uuid_id;
