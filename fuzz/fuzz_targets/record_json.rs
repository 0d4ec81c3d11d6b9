//! A deconfliction record from any bytes, as `POST /api/v1/registrations` reads it, then
//! through the engine: insert, check, remove.
#![no_main]

use concordat_matching::{Engine, EngineConfig, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(record) = serde_json::from_slice::<Record>(bytes) else {
        return;
    };
    let mut engine = Engine::new(EngineConfig::default());
    engine.insert(1, &record);
    let _ = engine.check(&record, &|_| false);
    assert!(engine.remove(1));
});
