//! The check parser never panics, whatever the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(check) = flightdeck::checks::parse(text) {
        let _ = check.references();
        let _ = check.gate_form();
    }
});
