//! The policy file parser on any text: it returns, and an error has a place.
#![no_main]

use concordat_domain::policy::Policy;
use concordat_domain::registry::ReferenceData;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn registry() -> &'static ReferenceData {
    static DATA: OnceLock<ReferenceData> = OnceLock::new();
    DATA.get_or_init(|| ReferenceData::builtin().expect("reference data"))
}

fuzz_target!(|text: &str| {
    if let Err(e) = Policy::parse(text, registry()) {
        assert!(e.line >= 1 && e.column >= 1, "{e}");
        assert!(e.line <= text.split('\n').count(), "{e}");
    }
});
