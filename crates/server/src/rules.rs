//! The rules a deployment runs on: the partner registry and the Commitment-test policy.

use concordat_domain::policy::Policy;
use concordat_domain::registry::ReferenceData;
use std::path::Path;

/// The partner registry and the policy, loaded once at start-up.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The partner registry built into this release.
    pub registry: ReferenceData,
    /// The policy that recommends a response to each request.
    pub policy: Policy,
}

impl Rules {
    /// The built-in registry with the built-in policy, or with the policy in `file`.
    /// A policy with an error is refused with its path, line and column.
    pub fn load(policy_file: Option<&Path>) -> Result<Self, String> {
        let registry = ReferenceData::builtin()
            .map_err(|e| format!("the built-in reference data is invalid: {e}"))?;
        let policy = match policy_file {
            None => Policy::builtin(&registry),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                Policy::parse(&text, &registry).map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        Ok(Self { registry, policy })
    }
}
