//! A cap on OSC strings: vte buffers an OSC string without limit (built with `std`),
//! so a session that opens one and never ends it could grow the parser's buffer
//! forever. The bytes past the cap are dropped before the parser sees them.

/// The longest OSC string passed to the parser; the rest of an overlong one is dropped
/// (vte buffers OSC strings without limit when built with `std`).
const MAX_OSC: usize = 4096;

/// Tracks OSC strings across chunks so an unterminated one cannot grow the parser's
/// buffer without bound.
#[derive(Default)]
pub struct OscCap {
    state: OscState,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum OscState {
    #[default]
    Ground,
    Esc,
    Osc(usize),
}

impl OscCap {
    /// Returns the bytes to pass on: borrowed unless something had to be dropped.
    pub fn filter<'a>(&mut self, bytes: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        let mut out: Option<Vec<u8>> = None;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self.state {
                OscState::Ground => {
                    // Fast path: skip to the next ESC.
                    match memchr::memchr(0x1b, &bytes[i..]) {
                        Some(p) => {
                            if let Some(o) = out.as_mut() {
                                o.extend_from_slice(&bytes[i..i + p + 1]);
                            }
                            i += p + 1;
                            self.state = OscState::Esc;
                            continue;
                        }
                        None => {
                            if let Some(o) = out.as_mut() {
                                o.extend_from_slice(&bytes[i..]);
                            }
                            break;
                        }
                    }
                }
                OscState::Esc => {
                    self.state = match b {
                        b']' => OscState::Osc(0),
                        0x1b => OscState::Esc,
                        _ => OscState::Ground,
                    };
                }
                OscState::Osc(n) => match b {
                    0x07 | 0x18 | 0x1a => self.state = OscState::Ground,
                    0x1b => self.state = OscState::Esc,
                    _ => {
                        if n >= MAX_OSC {
                            // Drop this byte.
                            out.get_or_insert_with(|| bytes[..i].to_vec());
                            i += 1;
                            continue;
                        }
                        self.state = OscState::Osc(n + 1);
                    }
                },
            }
            if let Some(o) = out.as_mut() {
                o.push(b);
            }
            i += 1;
        }
        match out {
            Some(v) => std::borrow::Cow::Owned(v),
            None => std::borrow::Cow::Borrowed(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unterminated_osc_is_capped() {
        let mut p = crate::tui::pane::Pane::new(2, 10, 100);
        let mut cap = OscCap::default();
        let junk = vec![b'x'; 100_000];
        let mut passed = 0;
        passed += cap.filter(b"\x1b]0;").len();
        for _ in 0..10 {
            passed += cap.filter(&junk).len();
        }
        assert!(passed < MAX_OSC + 10, "{passed}");
        // The pane survives a flood too and recovers after the terminator.
        p.feed(b"\x1b]0;");
        for _ in 0..10 {
            p.feed(&junk);
        }
        p.feed(b"\x07after");
        assert_eq!(p.row_text(0), "after");
    }
}
