//! The escape-sequence stripper never lets ESC (or a C1 CSI/OSC) through, however the
//! bytes are split into chunks.
#![no_main]

use flightdeck::ansi::LineAssembler;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the chunk size, so splits land everywhere.
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let mut lines = LineAssembler::new();
    for chunk in bytes.chunks(usize::from(split).max(1)) {
        lines.feed(chunk);
    }
    let partial = lines.partial().to_string();
    for line in lines.lines().chain(std::iter::once(partial.as_str())) {
        assert!(
            !line.contains(['\u{1b}', '\u{9b}', '\u{9d}']),
            "escape let through: {line:?}"
        );
    }
});
