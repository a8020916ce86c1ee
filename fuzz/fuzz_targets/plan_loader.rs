//! The plan loader never panics, whatever the text: every problem is an error with a place.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::path::Path;

fuzz_target!(|text: &str| {
    let _ = flightdeck::plan::load_str(text, Path::new("/nonexistent/plan.toml"), &BTreeMap::new());
});
