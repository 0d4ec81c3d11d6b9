//! Single sign-on with OpenID Connect: an organisation's identity provider, and how
//! the claims of a person it vouches for become a Concordat account and roles.
//!
//! What an identity provider may decide is limited on purpose. It says who the person
//! is (issuer and subject) and which of the organisation's groups they are in; the
//! organisation's [`RoleMap`] turns those into roles. It never decides the
//! organisation (that is the organisation whose provider was used), nor vetting
//! (clearance is recorded by an administrator; people made at first sign-in start at
//! BPSS), nor the Director General's delegated authority. This module does no I/O: the
//! server fetches and verifies tokens and passes the verified claims in.

use crate::people::{FieldError, Role, Roles, text_enum};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Which schemes an issuer may use. Production needs HTTPS; plain HTTP is for tests
/// and local development only, and the server must be configured to allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `https://` only.
    HttpsOnly,
    /// `https://` or `http://`.
    AllowHttp,
}

/// An identity provider's issuer identifier: an absolute `https://` URL without a
/// query or fragment, exactly as the provider writes it in its tokens (a trailing
/// slash matters). Discovery is at `{issuer}/.well-known/openid-configuration`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct IssuerUrl(String);

impl IssuerUrl {
    /// The longest issuer accepted.
    pub const MAX_CHARS: usize = 512;

    /// Parses an issuer, allowing `http://` only under [`Transport::AllowHttp`].
    pub fn parse(raw: &str, transport: Transport) -> Result<Self, FieldError> {
        let url = raw.trim();
        let rest = if let Some(rest) = url.strip_prefix("https://") {
            rest
        } else if let Some(rest) = url.strip_prefix("http://") {
            if transport == Transport::HttpsOnly {
                return Err(FieldError::new(
                    "issuer",
                    "must be an https:// address (plain http:// is allowed only on a server started for development)",
                ));
            }
            rest
        } else {
            return Err(FieldError::new(
                "issuer",
                "must be an address starting with https://",
            ));
        };
        if url.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "issuer",
                format!("must be at most {} characters long", Self::MAX_CHARS),
            ));
        }
        if url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || !c.is_ascii())
        {
            return Err(FieldError::new(
                "issuer",
                "must not contain spaces, control or non-ASCII characters",
            ));
        }
        if url.contains(['?', '#']) {
            return Err(FieldError::new(
                "issuer",
                "must not have a query (?) or fragment (#)",
            ));
        }
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') {
            return Err(FieldError::new(
                "issuer",
                "must name a host (and no user name)",
            ));
        }
        Ok(Self(url.to_owned()))
    }

    /// The issuer as stored and as the provider writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the issuer is reached over HTTPS.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// The scheme and authority (`https://idp.example:8443`): the only origin the server
    /// talks to for this provider.
    pub fn origin(&self) -> &str {
        let scheme_end = self.0.find("://").map_or(0, |i| i + 3);
        let end = self.0[scheme_end..]
            .find('/')
            .map_or(self.0.len(), |i| scheme_end + i);
        &self.0[..end]
    }
}

impl From<IssuerUrl> for String {
    fn from(value: IssuerUrl) -> Self {
        value.0
    }
}

impl fmt::Display for IssuerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a short token of visible ASCII (no spaces), 1 to `$max` characters.
macro_rules! visible_token {
    ($(#[$meta:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses the token: trimmed, 1 to the limit in characters, visible ASCII only.
            pub fn parse(raw: &str) -> Result<Self, FieldError> {
                let text = raw.trim();
                if text.is_empty() || text.len() > $max {
                    return Err(FieldError::new(
                        $field,
                        format!("must be 1 to {} characters long", $max),
                    ));
                }
                if !text.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(FieldError::new(
                        $field,
                        "may contain only visible ASCII characters, no spaces",
                    ));
                }
                Ok(Self(text.to_owned()))
            }

            /// The token as stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

visible_token! {
    /// The client identifier Concordat is registered under at the identity provider.
    ClientId, "client_id", 255
}

visible_token! {
    /// The name of a claim in an ID token (`roles`, `groups`, `preferred_username`, or a
    /// URI such as `http://schemas.microsoft.com/ws/2008/06/identity/claims/role`).
    ClaimName, "claim", 256
}

visible_token! {
    /// The subject identifier (`sub`) the provider gives a person: stable and never
    /// reassigned by that issuer (OpenID Connect Core §2 allows at most 255 ASCII characters).
    ExternalSubject, "sub", 255
}

impl ClaimName {
    /// The same name reported against another field (`role_claim`, `username_claim`).
    pub fn parse_field(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        Self::parse(raw).map_err(|e| FieldError::new(field, e.message))
    }
}

/// The client secret shared with the identity provider. Its `Debug` never shows it,
/// and it is never sent back by the API.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Parses a secret: 1 to 2,048 characters with no control characters (a trailing
    /// newline from a file is dropped).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let secret = raw.trim_end_matches(['\n', '\r']);
        if secret.is_empty() || secret.chars().count() > 2048 {
            return Err(FieldError::new(
                "client_secret",
                "must be 1 to 2048 characters long",
            ));
        }
        if secret.chars().any(char::is_control) {
            return Err(FieldError::new(
                "client_secret",
                "must not contain control characters",
            ));
        }
        Ok(Self(secret.to_owned()))
    }

    /// The secret, to send to the token endpoint or to store.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// The scopes asked for: always `openid`, plus whatever the provider needs to put the
/// role and username claims in the ID token (`profile`, `groups`, ...). At most 20.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "Vec<String>")]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// `openid` and `profile`, what most providers need for `preferred_username`.
    pub fn standard() -> Self {
        Self(
            ["openid", "profile"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Parses scope tokens (RFC 6749 §3.3: visible ASCII except `"` and `\`), adding
    /// `openid`.
    pub fn parse<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Self, FieldError> {
        let mut set = BTreeSet::from(["openid".to_owned()]);
        for scope in raw.into_iter().flat_map(str::split_whitespace) {
            if scope.len() > 64
                || !scope
                    .chars()
                    .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
            {
                return Err(FieldError::new(
                    "scopes",
                    format!(
                        "`{}` is not a scope name",
                        scope.chars().take(64).collect::<String>()
                    ),
                ));
            }
            set.insert(scope.to_owned());
        }
        if set.len() > 20 {
            return Err(FieldError::new("scopes", "at most 20 scopes"));
        }
        Ok(Self(set))
    }

    /// The scopes, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The scopes as one space-separated string, as stored.
    pub fn to_stored(&self) -> String {
        self.0.iter().cloned().collect::<Vec<_>>().join(" ")
    }
}

impl From<Scopes> for Vec<String> {
    fn from(value: Scopes) -> Self {
        value.0.into_iter().collect()
    }
}

/// Which claim values give which Concordat roles: `ccu-officers` gives
/// `tasking-officer`, say. At least one entry; values are 1 to 256 characters without
/// control characters, compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(value_type = BTreeMap<String, Vec<Role>>, example = json!({"ccu-officers": ["tasking-officer"]}))]
pub struct RoleMap(BTreeMap<String, Roles>);

impl RoleMap {
    /// The most entries accepted.
    pub const MAX_ENTRIES: usize = 200;

    /// A map from claim values to the roles each gives.
    pub fn new(entries: BTreeMap<String, Vec<Role>>) -> Result<Self, FieldError> {
        if entries.is_empty() {
            return Err(FieldError::new(
                "role_map",
                "must map at least one claim value to a role",
            ));
        }
        if entries.len() > Self::MAX_ENTRIES {
            return Err(FieldError::new(
                "role_map",
                format!("must have at most {} entries", Self::MAX_ENTRIES),
            ));
        }
        let mut map = BTreeMap::new();
        for (value, roles) in entries {
            if value.is_empty()
                || value.chars().count() > 256
                || value.chars().any(char::is_control)
            {
                return Err(FieldError::new(
                    "role_map",
                    "each claim value must be 1 to 256 characters with no control characters",
                ));
            }
            let roles = Roles::new(roles).map_err(|_| {
                FieldError::new("role_map", format!("`{value}` must give at least one role"))
            })?;
            map.insert(value, roles);
        }
        Ok(Self(map))
    }

    /// Parses `VALUE=ROLE` pairs, as the command line takes them; a value given twice
    /// gives each role named.
    pub fn parse_pairs<'a>(pairs: impl IntoIterator<Item = &'a str>) -> Result<Self, FieldError> {
        let mut entries: BTreeMap<String, Vec<Role>> = BTreeMap::new();
        for pair in pairs {
            let Some((value, role)) = pair.rsplit_once('=') else {
                return Err(FieldError::new(
                    "role_map",
                    format!("`{pair}` is not VALUE=ROLE"),
                ));
            };
            let role =
                Role::from_str(role.trim()).map_err(|e| FieldError::new("role_map", e.message))?;
            entries.entry(value.to_owned()).or_default().push(role);
        }
        Self::new(entries)
    }

    /// The roles the claim values `held` give, or `None` when they give none (such a
    /// person may not sign in).
    pub fn roles_for<'a>(&self, held: impl IntoIterator<Item = &'a str>) -> Option<Roles> {
        let roles: Vec<Role> = held
            .into_iter()
            .filter_map(|value| self.0.get(value))
            .flat_map(Roles::iter)
            .collect();
        Roles::new(roles).ok()
    }

    /// The entries, by claim value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Roles)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

text_enum! {
    /// Whether people without an account are given one at their first sign-in.
    Provisioning, "provisioning" {
        /// An account is made at first sign-in, with the mapped roles and BPSS vetting.
        JustInTime = "just-in-time",
        /// Only people who already have an account may sign in: linked by issuer and
        /// subject, or at first by their username.
        ExistingOnly = "existing-only",
    }
}

/// An organisation's identity provider, as configured by its administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// The issuer.
    pub issuer: IssuerUrl,
    /// Concordat's client identifier there.
    pub client_id: ClientId,
    /// The client secret.
    pub client_secret: ClientSecret,
    /// The scopes asked for.
    pub scopes: Scopes,
    /// The claim whose values give roles (`roles`, `groups`).
    pub role_claim: ClaimName,
    /// Which values give which roles.
    pub role_map: RoleMap,
    /// The claim holding the Concordat username (`preferred_username`): the name of
    /// an account made at first sign-in, and how an existing account is first found.
    pub username_claim: ClaimName,
    /// A claim that, when configured, must equal the organisation's code; a token
    /// without it, or naming another organisation, is refused.
    pub organisation_claim: Option<ClaimName>,
    /// Whether accounts are made at first sign-in.
    pub provisioning: Provisioning,
}

/// The string values of a claim: a string, or the strings in an array (other
/// members are ignored). Anything else has none.
pub fn claim_strings(value: Option<&serde_json::Value>) -> Vec<&str> {
    match value {
        Some(serde_json::Value::String(s)) => vec![s.as_str()],
        Some(serde_json::Value::Array(items)) => {
            items.iter().filter_map(serde_json::Value::as_str).collect()
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_need_https_unless_allowed() {
        let ok = IssuerUrl::parse(
            "https://idp.example.police.uk/realms/mps",
            Transport::HttpsOnly,
        )
        .expect("valid");
        assert_eq!(ok.origin(), "https://idp.example.police.uk");
        assert!(ok.is_https());
        let port = IssuerUrl::parse("https://idp:8443", Transport::HttpsOnly).expect("valid");
        assert_eq!(port.origin(), "https://idp:8443");
        assert!(IssuerUrl::parse("http://127.0.0.1:9000", Transport::HttpsOnly).is_err());
        let dev = IssuerUrl::parse("http://127.0.0.1:9000/", Transport::AllowHttp).expect("dev");
        assert_eq!(dev.origin(), "http://127.0.0.1:9000");
        for bad in [
            "",
            "idp.example",
            "ftp://idp.example",
            "https://",
            "https:///path",
            "https://user@idp.example",
            "https://idp.example/?x=1",
            "https://idp.example/#frag",
            "https://idp example",
        ] {
            let err = IssuerUrl::parse(bad, Transport::AllowHttp).expect_err(bad);
            assert_eq!(err.field, "issuer", "{bad}");
        }
    }

    #[test]
    fn role_maps_give_roles_for_claim_values() {
        let map = RoleMap::parse_pairs([
            "ccu-officers=tasking-officer",
            "ccu-officers=analyst",
            "admins=administrator",
        ])
        .expect("valid");
        let roles = map.roles_for(["ccu-officers", "other"]).expect("some");
        assert!(roles.contains(Role::TaskingOfficer) && roles.contains(Role::Analyst));
        assert!(!roles.contains(Role::Administrator));
        assert_eq!(map.roles_for(["other"]), None);
        assert_eq!(map.roles_for([]), None);
        assert_eq!(
            RoleMap::parse_pairs(["no-equals"]).expect_err("bad").field,
            "role_map"
        );
        assert!(RoleMap::parse_pairs(["x=wizard"]).is_err());
        assert!(RoleMap::parse_pairs([]).is_err());
        // A value may itself contain `=`: the role is after the last one.
        let eq = RoleMap::parse_pairs(["cn=ops,ou=x=viewer"]).expect("valid");
        assert!(eq.roles_for(["cn=ops,ou=x"]).is_some());
    }

    #[test]
    fn scopes_always_include_openid() {
        let scopes = Scopes::parse(["profile groups"]).expect("valid");
        assert_eq!(scopes.to_stored(), "groups openid profile");
        assert!(Scopes::parse(["bad\"scope"]).is_err());
        assert_eq!(Scopes::parse([]).expect("valid").to_stored(), "openid");
    }

    #[test]
    fn secrets_never_print() {
        let secret = ClientSecret::parse("s3cret\n").expect("valid");
        assert_eq!(secret.expose(), "s3cret");
        assert_eq!(format!("{secret:?}"), "ClientSecret(<redacted>)");
        assert!(ClientSecret::parse("").is_err());
        assert!(ClientSecret::parse("a\u{0}b").is_err());
    }

    #[test]
    fn claims_are_strings_or_arrays_of_strings() {
        let v = serde_json::json!(["a", 1, "b"]);
        assert_eq!(claim_strings(Some(&v)), vec!["a", "b"]);
        let s = serde_json::json!("a");
        assert_eq!(claim_strings(Some(&s)), vec!["a"]);
        assert!(claim_strings(Some(&serde_json::json!({"a": 1}))).is_empty());
        assert!(claim_strings(None).is_empty());
    }
}
