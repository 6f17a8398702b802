//! Fuzzes what the harness reads from files: the YAML limits (size, depth, one document,
//! UTF-8), scenario files with the validation that follows them, target profiles and load
//! profiles. A file the loaders refuse must be refused with a message, never a panic or a
//! hang.
//!
//! RUSTC_BOOTSTRAP=1 cargo fuzz run loaders fuzz/corpus/loaders fuzz/corpus/seeds -- -max_total_time=240
#![no_main]

use std::collections::BTreeSet;
use std::path::Path;

use dcr_harness::scenario::yaml_text;
use dcr_harness::load::LoadProfile;
use dcr_harness::scenario::{parse_file, validate, Profile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.yaml");
    let Ok(text) = yaml_text(path, data.to_vec()) else { return };
    if let Ok(scenarios) = parse_file(path, &text) {
        let identities: BTreeSet<String> = ["qwac", "qseal"].iter().map(|s| s.to_string()).collect();
        let tpps: BTreeSet<String> = ["tpp-a"].iter().map(|s| s.to_string()).collect();
        if let Ok(profile) = serde_norway::from_str::<Profile>("name: fuzz") {
            let _ = validate(&scenarios, &identities, &tpps, &profile);
        }
    }
    let _ = serde_norway::from_str::<Profile>(&text);
    let _ = serde_norway::from_str::<LoadProfile>(&text);
});
