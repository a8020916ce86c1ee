//! Skimming: what a stretch of output leaves behind in a terminal once its text has
//! scrolled away for good (docs/control-room.md, "Floods").
//!
//! The [`Tracker`] follows every byte a pane is given through the same states as the
//! emulator's parser (vte), so it knows where each escape sequence starts and ends.
//! Over a stretch that will be skimmed it also keeps the sequences whose effect
//! outlives the text — colours, modes, charsets, titles, palette, hyperlinks — and
//! refuses ([`Unsafe`]) the few whose effect depends on where the cursor was (saving
//! the cursor, the alternate screen, the scroll region, tab stops, cursor reports).
//! [`settles`] says how much of what follows must be emulated in full before the
//! skimmed stretch can no longer be seen.

/// The parser states of vte, merged where the way out is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Ground,
    Escape,
    EscapeIntermediate,
    /// Every CSI state: each ends at the first byte in 0x40..=0x7E.
    Csi,
    DcsEntry,
    DcsParam,
    DcsIntermediate,
    DcsIgnore,
    DcsPassthrough,
    Osc,
    SosPmApc,
}

/// A sequence whose effect depends on the cursor or the grid was met at this offset:
/// the stretch cannot be skimmed.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsafe(pub usize);

/// What a skimmed stretch leaves behind, to be fed instead of it.
#[derive(Default)]
pub struct Skimmed {
    /// The sequences that change lasting state other than the pen, in order.
    pub controls: Vec<u8>,
    /// Colours and attributes (SGR) and hyperlinks since the last full reset: they
    /// touch only the pen, so they commute with `controls`.
    pub pen: Vec<u8>,
    pen_has_link: bool,
}

impl Skimmed {
    pub fn clear(&mut self) {
        self.controls.clear();
        self.pen.clear();
        self.pen_has_link = false;
    }

    fn sgr(&mut self, seq: &[u8]) {
        if resets_pen(seq) && !self.pen_has_link {
            self.pen.clear();
        }
        self.pen.extend_from_slice(seq);
    }
}

/// Follows a pane's byte stream (see the module doc).
#[derive(Debug, Clone)]
pub struct Tracker {
    state: State,
    /// Where the sequence in progress started in the bytes being skimmed.
    start: usize,
    /// A C0 control was executed inside the sequence in progress.
    embedded: bool,
    /// The CSI in progress has parameters or intermediates.
    csi_args: bool,
    /// No scroll region was set since the last reset (the whole screen scrolls).
    pub region_full: bool,
}

impl Default for Tracker {
    fn default() -> Tracker {
        Tracker {
            state: State::Ground,
            start: 0,
            embedded: false,
            csi_args: false,
            region_full: true,
        }
    }
}

/// How a completed sequence is kept.
enum Keep {
    Drop,
    Controls,
    Pen,
    Refuse,
}

impl Tracker {
    /// Between sequences, as the emulator's parser is.
    pub fn at_ground(&self) -> bool {
        self.state == State::Ground
    }

    /// Follow `bytes` fed in full.
    pub fn follow(&mut self, bytes: &[u8]) {
        let _ = self.run(bytes, None);
    }

    /// Follow `bytes`, which start between sequences, keeping what outlives their text
    /// in `out`; fails at the first sequence that cannot be skimmed (the tracker is
    /// left at that point, `out` partly filled).
    pub fn skim(&mut self, bytes: &[u8], out: &mut Skimmed) -> Result<(), Unsafe> {
        debug_assert!(self.at_ground());
        self.run(bytes, Some(out))
    }

    fn run(&mut self, bytes: &[u8], mut out: Option<&mut Skimmed>) -> Result<(), Unsafe> {
        let mut i = 0;
        while i < bytes.len() {
            if self.state == State::Ground {
                // Only ESC leaves the ground; SI and SO switch charsets.
                let Some(p) = memchr::memchr3(0x1b, 0x0e, 0x0f, &bytes[i..]) else {
                    return Ok(());
                };
                i += p;
                if bytes[i] == 0x1b {
                    self.begin(i, State::Escape);
                } else if let Some(out) = out.as_deref_mut() {
                    out.controls.push(bytes[i]);
                }
                i += 1;
                continue;
            }
            let b = bytes[i];
            match self.step(b) {
                Step::Stay => {}
                Step::Restart => {
                    // A control executed inside the abandoned sequence had its effect.
                    if self.embedded && out.is_some() {
                        return Err(Unsafe(i));
                    }
                    self.begin(i, State::Escape)
                }
                Step::Aborted => {
                    // CAN or SUB: nothing dispatched but the substitute character
                    // (a print) — except an OSC string, which is dispatched.
                    if (self.embedded || self.state == State::Osc) && out.is_some() {
                        return Err(Unsafe(i));
                    }
                    self.state = State::Ground;
                }
                Step::Done { inclusive } => {
                    let end = if inclusive { i + 1 } else { i };
                    let osc_ended_by_esc = !inclusive;
                    let was = self.state;
                    self.state = State::Ground;
                    if was == State::Csi && b == b'r' {
                        self.region_full = !self.csi_args;
                    }
                    if was == State::Escape && b == b'c' {
                        self.region_full = true;
                    }
                    if let Some(out) = out.as_deref_mut() {
                        // A sequence that started before these bytes was checked
                        // when the skim began (it starts between sequences).
                        let seq = &bytes[self.start.min(end)..end];
                        if self.embedded {
                            return Err(Unsafe(i));
                        }
                        match classify(seq) {
                            Keep::Drop => {}
                            Keep::Controls => {
                                out.controls.extend_from_slice(seq);
                                if osc_ended_by_esc {
                                    out.controls.extend_from_slice(b"\x1b\\");
                                }
                            }
                            Keep::Pen => {
                                if seq.get(1) == Some(&b']') {
                                    out.pen_has_link = true;
                                    out.pen.extend_from_slice(seq);
                                    if osc_ended_by_esc {
                                        out.pen.extend_from_slice(b"\x1b\\");
                                    }
                                } else {
                                    out.sgr(seq);
                                }
                            }
                            Keep::Refuse => return Err(Unsafe(i)),
                        }
                    }
                    if !inclusive {
                        // The ESC that ended an OSC string starts the next sequence.
                        self.begin(i, State::Escape);
                    }
                }
            }
            i += 1;
        }
        Ok(())
    }

    fn begin(&mut self, at: usize, state: State) {
        self.state = state;
        self.start = at;
        self.embedded = false;
        self.csi_args = false;
    }

    /// One byte in a sequence, as vte's state machine takes it.
    fn step(&mut self, b: u8) -> Step {
        use State::*;
        let c0 = matches!(b, 0x00..=0x17 | 0x19 | 0x1c..=0x1f);
        match (self.state, b) {
            (Osc, 0x07) => Step::Done { inclusive: true },
            (Osc, 0x1b) => Step::Done { inclusive: false },
            (Osc, 0x18 | 0x1a) => Step::Aborted,
            (Osc, _) => Step::Stay,
            (_, 0x18 | 0x1a) => Step::Aborted,
            (DcsPassthrough, 0x9c) => Step::Done { inclusive: true },
            (DcsPassthrough | DcsIgnore | SosPmApc, 0x1b) => Step::Restart,
            (DcsPassthrough | DcsIgnore | SosPmApc, _) => Step::Stay,
            (_, 0x1b) => Step::Restart,
            (Escape | EscapeIntermediate | Csi, _) if c0 => {
                self.embedded = true;
                Step::Stay
            }
            (DcsEntry | DcsParam | DcsIntermediate, _) if c0 => Step::Stay,
            (_, 0x7f) => Step::Stay,
            (_, 0x80..) => Step::Stay,
            (Escape, 0x20..=0x2f) => {
                self.state = EscapeIntermediate;
                Step::Stay
            }
            (EscapeIntermediate, 0x20..=0x2f) => Step::Stay,
            (Escape, b'P') => {
                self.state = DcsEntry;
                Step::Stay
            }
            (Escape, b'X' | b'^' | b'_') => {
                self.state = SosPmApc;
                Step::Stay
            }
            (Escape, b'[') => {
                self.state = Csi;
                Step::Stay
            }
            (Escape, b']') => {
                self.state = Osc;
                Step::Stay
            }
            (Escape | EscapeIntermediate, _) => Step::Done { inclusive: true },
            (Csi, 0x40..=0x7e) => Step::Done { inclusive: true },
            (Csi, _) => {
                self.csi_args = true;
                Step::Stay
            }
            (DcsEntry, 0x20..=0x2f) | (DcsParam, 0x20..=0x2f) => {
                self.state = DcsIntermediate;
                Step::Stay
            }
            (DcsEntry, 0x30..=0x3f) => {
                self.state = DcsParam;
                Step::Stay
            }
            (DcsParam, 0x3c..=0x3f) | (DcsIntermediate, 0x30..=0x3f) => {
                self.state = DcsIgnore;
                Step::Stay
            }
            (DcsEntry | DcsParam | DcsIntermediate, 0x40..=0x7e) => {
                self.state = DcsPassthrough;
                Step::Stay
            }
            (DcsEntry | DcsParam | DcsIntermediate, _) => Step::Stay,
            (Ground, _) => Step::Stay,
        }
    }
}

enum Step {
    Stay,
    /// An ESC that abandons the sequence in progress and starts another.
    Restart,
    /// CAN or SUB ended the sequence.
    Aborted,
    /// The sequence is complete; `inclusive`: with this byte (else an ESC ended an
    /// OSC string and starts the next sequence).
    Done {
        inclusive: bool,
    },
}

/// How a complete sequence (ESC first, no embedded controls) outlives the text.
fn classify(seq: &[u8]) -> Keep {
    let Some(&kind) = seq.get(1) else {
        return Keep::Drop;
    };
    let last = seq[seq.len() - 1];
    match kind {
        b'[' => {
            let body = &seq[2..seq.len() - 1];
            let digits = body.iter().all(|b| b.is_ascii_digit() || *b == b';');
            match last {
                b'm' if body.iter().all(|b| b.is_ascii_digit() || b":;".contains(b)) => Keep::Pen,
                // Cursor moves, erasing, inserting, scrolling, repeating: grid only.
                b'@'
                | b'A'..=b'H'
                | b'I'
                | b'J'
                | b'K'
                | b'L'
                | b'M'
                | b'P'
                | b'S'
                | b'T'
                | b'X'
                | b'Z'
                | b'`'
                | b'a'
                | b'b'
                | b'd'
                | b'e'
                | b'f'
                    if digits =>
                {
                    Keep::Drop
                }
                // Cursor reports, scroll region, saving the cursor, tab stops, resets.
                b'n' | b'r' | b's' | b'u' | b'g' | b'p' => Keep::Refuse,
                b'h' | b'l' if body.first() == Some(&b'?') => {
                    let modes = body[1..].split(|b| *b == b';');
                    let cursor_bound = modes
                        .map(parse_number)
                        .any(|m| matches!(m, Some(3 | 47 | 1047 | 1048 | 1049 | 2026) | None));
                    if cursor_bound {
                        Keep::Refuse
                    } else {
                        Keep::Controls
                    }
                }
                _ => Keep::Controls,
            }
        }
        b']' => {
            if seq[2..].starts_with(b"8;") {
                Keep::Pen
            } else {
                Keep::Controls
            }
        }
        // DCS, SOS, PM and APC strings do nothing in the emulator.
        b'P' | b'X' | b'^' | b'_' => Keep::Drop,
        // Save/restore cursor, tab stop, full reset.
        b'7' | b'8' | b'H' | b'c' if seq.len() == 2 => Keep::Refuse,
        // Index, next line, reverse index, string terminator: grid only.
        b'D' | b'E' | b'M' | b'\\' if seq.len() == 2 => Keep::Drop,
        // Screen alignment test: grid only.
        b'#' if last == b'8' && seq.len() == 3 => Keep::Drop,
        _ => Keep::Controls,
    }
}

fn parse_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// An SGR that resets the pen first (`CSI m`, `CSI 0 m`, `CSI 0;… m`), with so few
/// parameters that the parser cannot have ignored it.
fn resets_pen(seq: &[u8]) -> bool {
    let body = &seq[2..seq.len() - 1];
    let separators = body.iter().filter(|b| b";:".contains(b)).count();
    separators < 16 && (body.is_empty() || body == b"0" || body.starts_with(b"0;"))
}

/// Given output that starts between sequences with the cursor anywhere on a primary
/// screen whose whole height scrolls: the length of its shortest beginning after
/// which no row written before it can be seen any more, in the screen or in a
/// scrollback of `limit` rows — or None if no such beginning is known.
///
/// It must hold only text, colours, CR, LF, TAB, BS and BEL. After `rows - 1` line
/// feeds the cursor is on the last row whatever it was, and after the next CR it is
/// at its start: from there on the same bytes do the same thing to any screen. Then
/// `rows + limit` line feeds push every row written before out of the scrollback,
/// and one printed character fixes what a later REP repeats.
pub fn settles(bytes: &[u8], rows: usize, limit: usize) -> Option<usize> {
    let (mut feeds, mut synced, mut printed, mut scrolls) = (0usize, false, false, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | 0x0b | 0x0c => {
                if synced {
                    scrolls += 1;
                } else {
                    feeds += 1;
                }
            }
            b'\r' => synced |= feeds + 1 >= rows,
            b'\t' | 0x08 | 0x07 => {}
            0x1b => {
                // Only an SGR: ESC [ digits ; : m.
                let rest = bytes.get(i + 1..)?;
                if rest.first() != Some(&b'[') {
                    return None;
                }
                let len = rest[1..]
                    .iter()
                    .position(|b| !(b.is_ascii_digit() || b";:".contains(b)))?;
                if rest[1 + len] != b'm' {
                    return None;
                }
                i += 2 + len;
            }
            0x00..=0x1f | 0x7f => return None,
            _ => printed |= synced,
        }
        if synced && printed && scrolls >= rows + limit {
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skim(bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Unsafe> {
        let mut t = Tracker::default();
        let mut out = Skimmed::default();
        t.skim(bytes, &mut out)?;
        assert!(t.at_ground());
        Ok((out.controls, out.pen))
    }

    #[test]
    fn keeps_what_outlives_the_text() {
        let (controls, pen) =
            skim(b"a\x1b[31mb\x1b[0mc\x1b[1;32md\x1b[?25l\x0e\x1b]0;t\x07\x1b[2J\x1b[5;3H")
                .unwrap();
        assert_eq!(pen, b"\x1b[0m\x1b[1;32m");
        assert_eq!(controls, b"\x1b[?25l\x0e\x1b]0;t\x07");
        // An OSC string ended by the ESC of the next sequence gets a terminator.
        let (controls, _) = skim(b"\x1b]2;x\x1b[A").unwrap();
        assert_eq!(controls, b"\x1b]2;x\x1b\\");
    }

    #[test]
    fn refuses_what_depends_on_the_cursor() {
        for seq in [
            &b"\x1b7"[..],
            b"\x1b8",
            b"\x1b[s",
            b"\x1b[?1049h",
            b"\x1b[?25;1047l",
            b"\x1b[2;5r",
            b"\x1b[6n",
            b"\x1bH",
            b"\x1bc",
            b"\x1b[3\n1m",
        ] {
            let mut bytes = b"text\r\n".to_vec();
            bytes.extend_from_slice(seq);
            assert!(skim(&bytes).is_err(), "{seq:?}");
        }
    }

    #[test]
    fn follows_sequences_across_calls() {
        let mut t = Tracker::default();
        t.follow(b"x\x1b[3");
        assert!(!t.at_ground());
        t.follow(b"1mab\x1b]0;ti");
        assert!(!t.at_ground());
        t.follow(b"tle\x1b\\");
        assert!(t.at_ground());
        t.follow(b"\x1b[2;3r");
        assert!(!t.region_full);
        t.follow(b"\x1b[r");
        assert!(t.region_full);
        t.follow(b"\x1bP1$qm;x");
        assert!(!t.at_ground());
        t.follow(b"\x1b\\");
        assert!(t.at_ground());
    }

    #[test]
    fn settles_after_the_screen_and_scrollback_turn_over() {
        let line = b"\x1b[32mok\x1b[0m line\r\n";
        let many: Vec<u8> = line.iter().copied().cycle().take(line.len() * 30).collect();
        // 4 rows, 10 of scrollback: 3 feeds to reach the last row, a CR, 14 scrolls.
        let n = settles(&many, 4, 10).unwrap();
        assert_eq!(many[..n].iter().filter(|b| **b == b'\n').count(), 3 + 14);
        assert_eq!(settles(&many[..line.len() * 10], 4, 10), None);
        assert_eq!(settles(b"a\r\n\x1b[Hc\r\n", 2, 0), None);
    }
}
