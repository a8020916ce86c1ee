//! Plain text out of terminal output.
//!
//! [`LineAssembler`] is fed the raw bytes a program wrote to its terminal, in chunks
//! of any size (an escape sequence or a UTF-8 character may be split between chunks),
//! and yields complete lines of plain text: escape sequences (CSI, OSC terminated by
//! BEL or ST, DCS, SOS/PM/APC, ...) removed, control characters dropped, `\n` (also
//! VT and FF) and `\r\n` end a line, a lone `\r` restarts the current line (progress
//! bars), tabs are kept, backspace removes the previous character and invalid UTF-8
//! becomes U+FFFD. It also reports what the session and the headless printer need to
//! know besides text: the bell, the bracketed-paste mode, and terminal queries.
//!
//! Parsing is done by `vte`; the assembler only collects.

use vte::{Params, Parser, Perform};

/// A partial line longer than this (bytes) is emitted as a line of its own, so a
/// program that never writes a newline cannot grow memory without bound.
pub const DEFAULT_LINE_CAP: usize = 64 * 1024;

/// After this many bytes in which the parser called us back for nothing at all, it is
/// stuck inside a string (an unterminated OSC, whose payload vte buffers without
/// limit, or SOS/PM/APC): start over in the ground state.
const STUCK_LIMIT: usize = 1 << 20;

/// Feed the parser at most this much at a time (granularity of the stuck check).
const PIECE: usize = 64 * 1024;

/// A query a program sends to its terminal and then waits for an answer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// `CSI 6 n`: cursor position report (answer `CSI row ; col R`).
    CursorPosition,
    /// `CSI c` / `CSI 0 c`: primary device attributes (answer e.g. `CSI ? 6 c`).
    PrimaryDeviceAttributes,
}

/// Turns terminal output into lines of plain text. See the module documentation.
/// An operating-system command a program sent that flightdeck cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Osc {
    /// A desktop notification (OSC 9, OSC 777 `notify`, OSC 99) with its text.
    Notification(String),
    /// The window title (OSC 0 or 2).
    Title(String),
    /// A progress report (OSC 9;4): not a notification.
    Progress,
}

/// Read one OSC (its parameters as vte split them on `;`). Formats: iTerm2's OSC 9
/// (`9;text`; ConEmu's numbered `9;N;...` commands, 4 being progress, are not
/// notifications), rxvt/Ghostty's `777;notify;title;body`, kitty's `99;meta;payload`
/// (a notification in chunks while `d=0`; `p=?` queries ignored).
fn read_osc(params: &[&[u8]], kitty_pending: &mut String) -> Option<Osc> {
    let text = |from: usize| -> String {
        let parts: Vec<String> = params
            .get(from..)
            .unwrap_or_default()
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        parts.join(";")
    };
    match *params.first()? {
        b"0" | b"2" => Some(Osc::Title(text(1))),
        b"9" => {
            let first = params.get(1).copied().unwrap_or_default();
            if !first.is_empty() && first.iter().all(u8::is_ascii_digit) {
                (first == b"4").then_some(Osc::Progress)
            } else {
                Some(Osc::Notification(text(1)))
            }
        }
        b"777" if params.get(1).copied() == Some(b"notify".as_slice()) => {
            let title = String::from_utf8_lossy(params.get(2).copied().unwrap_or_default());
            let body = text(3);
            Some(Osc::Notification(
                match (title.is_empty(), body.is_empty()) {
                    (_, true) => title.into_owned(),
                    (true, false) => body,
                    (false, false) => format!("{title}: {body}"),
                },
            ))
        }
        b"99" => {
            let meta = String::from_utf8_lossy(params.get(1).copied().unwrap_or_default());
            let keys: Vec<&str> = meta.split(':').collect();
            if keys.contains(&"p=?") {
                return None;
            }
            let payload = text(2);
            if !payload.is_empty() {
                if !kitty_pending.is_empty() {
                    kitty_pending.push_str(": ");
                }
                kitty_pending.push_str(&payload);
            }
            if keys.contains(&"d=0") {
                None
            } else {
                Some(Osc::Notification(std::mem::take(kitty_pending)))
            }
        }
        _ => None,
    }
}

pub struct LineAssembler {
    parser: Parser,
    c: Collector,
    /// Bytes fed since the parser last called us back.
    silent: usize,
    /// The start of a UTF-8 character cut at the end of the last chunk.
    carry: [u8; 4],
    carry_len: usize,
    /// Skip the parser where it would do nothing that matters (off only to test
    /// that the skipping changes nothing).
    shortcuts: bool,
}

/// The length of the UTF-8 sequence that `lead` starts (1 for anything else).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0xc0 == 0x80
}

/// How many bytes at the end of `bytes` are an incomplete UTF-8 character.
fn incomplete_tail(bytes: &[u8]) -> usize {
    for back in 1..=3.min(bytes.len()) {
        let b = bytes[bytes.len() - back];
        if !is_continuation(b) {
            return if utf8_len(b) > back { back } else { 0 };
        }
    }
    0
}

/// How much of `bytes`, parsed from the ground state, is text without a bell and
/// plain CSI sequences (digits, `:` and `;`, then a final byte other than the queries'
/// `n` and `c`): nothing an assembler without lines takes note of. It ends back in
/// the ground state.
fn unremarkable(bytes: &[u8]) -> usize {
    let mut from = 0;
    loop {
        let Some(p) = memchr::memchr2(0x1b, 0x07, &bytes[from..]) else {
            return bytes.len();
        };
        let at = from + p;
        if bytes[at] == 0x07 || bytes.get(at + 1) != Some(&b'[') {
            return at;
        }
        let mut end = at + 2;
        while end < bytes.len() && matches!(bytes[end], b'0'..=b';') {
            end += 1;
        }
        match bytes.get(end) {
            Some(0x40..=0x7e) if !matches!(bytes[end], b'n' | b'c') => from = end + 1,
            _ => return at,
        }
    }
}

struct Collector {
    /// Collect text at all (when false only bells, modes and queries are tracked).
    lines_enabled: bool,
    cap: usize,
    partial: String,
    /// A `\r` was seen: the next printed character restarts the line, unless a `\n`
    /// comes first.
    pending_cr: bool,
    /// Completed lines of the last feed, concatenated; `ends` holds their end offsets.
    done: String,
    ends: Vec<usize>,
    bells: usize,
    bracketed_paste: Option<bool>,
    queries: Vec<Query>,
    oscs: Vec<Osc>,
    /// A kitty notification (OSC 99) still arriving in chunks.
    kitty_pending: String,
    called: bool,
    /// The parser is surely in the ground state: it printed or completed a sequence
    /// since the last ESC it was given (unknown = false).
    grounded: bool,
}

impl Collector {
    #[inline]
    fn push(&mut self, c: char) {
        if self.pending_cr {
            self.partial.clear();
            self.pending_cr = false;
        }
        self.partial.push(c);
        if self.partial.len() >= self.cap {
            self.end_line();
        }
    }

    /// Collect the beginning of `bytes` (parsed from the ground state) that is ASCII
    /// text, C0 controls and plain CSI sequences that do not matter here, as the
    /// parser would but without it; returns its length (it ends in the ground state).
    fn plain(&mut self, bytes: &[u8]) -> usize {
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                0x20..=0x7e => {
                    let run = bytes[i..]
                        .iter()
                        .position(|b| !(0x20..=0x7e).contains(b))
                        .unwrap_or(bytes.len() - i);
                    self.push_ascii(&bytes[i..i + run]);
                    i += run;
                    continue;
                }
                0x1b => {
                    if bytes.get(i + 1) != Some(&b'[') {
                        return i;
                    }
                    let mut end = i + 2;
                    while end < bytes.len() && matches!(bytes[end], b'0'..=b';') {
                        end += 1;
                    }
                    match bytes.get(end) {
                        Some(0x40..=0x7e) if !matches!(bytes[end], b'n' | b'c' | b'C') => {
                            i = end + 1;
                            continue;
                        }
                        _ => return i,
                    }
                }
                0x7f => {}
                b @ 0x00..=0x1f => self.execute(b),
                _ => return i,
            }
            i += 1;
        }
        i
    }

    /// `push` for each character of an ASCII run.
    fn push_ascii(&mut self, mut run: &[u8]) {
        while !run.is_empty() {
            if self.pending_cr {
                self.partial.clear();
                self.pending_cr = false;
            }
            let room = self.cap.saturating_sub(self.partial.len()).max(1);
            let (now, rest) = run.split_at(room.min(run.len()));
            // ASCII is UTF-8.
            self.partial
                .push_str(std::str::from_utf8(now).unwrap_or_default());
            if self.partial.len() >= self.cap {
                self.end_line();
            }
            run = rest;
        }
    }

    fn end_line(&mut self) {
        self.pending_cr = false;
        self.done.push_str(&self.partial);
        self.ends.push(self.done.len());
        self.partial.clear();
    }
}

impl Perform for Collector {
    #[inline]
    fn print(&mut self, c: char) {
        self.called = true;
        self.grounded = true;
        // DEL arrives as a printable character.
        if self.lines_enabled && c != '\u{7f}' {
            self.push(c);
        }
    }

    fn execute(&mut self, byte: u8) {
        self.called = true;
        match byte {
            // CAN and SUB abort a sequence (and are nothing in the ground state).
            0x18 | 0x1a => self.grounded = true,
            0x07 => self.bells += 1,
            _ if !self.lines_enabled => {}
            b'\n' | 0x0b | 0x0c => self.end_line(),
            b'\r' => self.pending_cr = true,
            b'\t' => self.push('\t'),
            0x08 => {
                self.partial.pop();
            }
            _ => {}
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], _ignore: bool, action: char) {
        self.called = true;
        self.grounded = true;
        let first = params.iter().next().map(|p| p[0]).unwrap_or(0);
        match (intermediates, action) {
            (b"?", 'h' | 'l') if params.iter().any(|p| p[0] == 2004) => {
                self.bracketed_paste = Some(action == 'h');
            }
            (b"", 'n') if first == 6 => self.queries.push(Query::CursorPosition),
            (b"", 'c') if first == 0 => self.queries.push(Query::PrimaryDeviceAttributes),
            // Cursor forward: programs use it instead of spaces.
            (b"", 'C') if self.lines_enabled => {
                for _ in 0..first.clamp(1, 256) {
                    self.push(' ');
                }
            }
            _ => {}
        }
    }

    fn osc_dispatch(&mut self, params: &[&[u8]], bell_terminated: bool) {
        self.called = true;
        // Ended by an ESC, the parser is in that escape sequence.
        self.grounded = bell_terminated;
        if let Some(osc) = read_osc(params, &mut self.kitty_pending) {
            self.oscs.push(osc);
        }
    }

    fn esc_dispatch(&mut self, _intermediates: &[u8], _ignore: bool, _byte: u8) {
        self.called = true;
        self.grounded = true;
    }

    fn hook(&mut self, _params: &Params, _intermediates: &[u8], _ignore: bool, _action: char) {
        self.called = true;
    }

    fn put(&mut self, _byte: u8) {
        self.called = true;
    }

    fn unhook(&mut self) {
        self.called = true;
        // Usually ended by an ESC, whose sequence has only begun.
        self.grounded = false;
    }
}

impl Default for LineAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl LineAssembler {
    /// An assembler that collects lines, capped at [`DEFAULT_LINE_CAP`].
    pub fn new() -> Self {
        Self::with_cap(DEFAULT_LINE_CAP)
    }

    /// An assembler whose partial line is emitted once it reaches `cap` bytes.
    pub fn with_cap(cap: usize) -> Self {
        LineAssembler {
            parser: Parser::new(),
            c: Collector {
                lines_enabled: true,
                cap: cap.max(1),
                partial: String::new(),
                pending_cr: false,
                done: String::new(),
                ends: Vec::new(),
                bells: 0,
                bracketed_paste: None,
                queries: Vec::new(),
                oscs: Vec::new(),
                kitty_pending: String::new(),
                called: false,
                grounded: true,
            },
            silent: 0,
            carry: [0; 4],
            carry_len: 0,
            shortcuts: true,
        }
    }

    /// An assembler that does not collect text: it only tracks bells, the
    /// bracketed-paste mode and queries (cheaper).
    pub fn without_lines() -> Self {
        let mut a = Self::new();
        a.c.lines_enabled = false;
        a
    }

    /// Parse the next chunk. Afterwards [`lines`](Self::lines), [`bells`](Self::bells),
    /// [`bracketed_paste`](Self::bracketed_paste) and [`queries`](Self::queries)
    /// describe this chunk; [`partial`](Self::partial) is the unfinished line.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.c.done.clear();
        self.c.ends.clear();
        self.c.bells = 0;
        self.c.bracketed_paste = None;
        self.c.queries.clear();
        self.c.oscs.clear();
        // Never hand vte a UTF-8 character cut at the end of a chunk: its handling of
        // such a character loses the next one when invalid bytes follow. Complete the
        // character carried over from the last chunk here, carry over the new tail.
        let mut bytes = bytes;
        // Without lines, text in the ground state and colours are of no interest:
        // skip straight to the first bell or other sequence (a flood of coloured text
        // costs a memchr per sequence, not a parse).
        if !self.c.lines_enabled && self.c.grounded && self.shortcuts {
            match unremarkable(bytes) {
                n if n == bytes.len() => {
                    self.carry_len = 0;
                    self.silent = 0;
                    return;
                }
                0 => {}
                n => {
                    self.carry_len = 0;
                    bytes = &bytes[n..];
                }
            }
        }
        if self.carry_len > 0 {
            let want = utf8_len(self.carry[0]).saturating_sub(self.carry_len);
            let mut take = 0;
            while take < want && take < bytes.len() && is_continuation(bytes[take]) {
                take += 1;
            }
            let (head, rest) = bytes.split_at(take);
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(head);
            self.carry_len += take;
            bytes = rest;
            if take == want || !bytes.is_empty() {
                let carried = self.carry;
                let n = self.carry_len;
                self.carry_len = 0;
                self.advance(&carried[..n]);
                if take < want {
                    // The parser holds the cut character: the next bytes decide it.
                    self.c.grounded = false;
                }
            } else {
                return; // still incomplete, and nothing else in this chunk
            }
        }
        let cut = incomplete_tail(bytes);
        let (body, tail) = bytes.split_at(bytes.len() - cut);
        self.carry[..cut].copy_from_slice(tail);
        self.carry_len = cut;
        self.advance(body);
    }

    fn advance(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        if self.c.lines_enabled && self.c.grounded && self.shortcuts {
            let n = self.c.plain(bytes);
            if n > 0 {
                self.silent = 0;
            }
            bytes = &bytes[n..];
        }
        for piece in bytes.chunks(PIECE) {
            self.c.called = false;
            // Whether the parser is back in the ground state is only known from what
            // it called after the last ESC.
            match memchr::memrchr(0x1b, piece) {
                Some(k) => {
                    self.parser.advance(&mut self.c, &piece[..k]);
                    self.c.grounded = false;
                    self.parser.advance(&mut self.c, &piece[k..]);
                }
                None => self.parser.advance(&mut self.c, piece),
            }
            if self.c.called {
                self.silent = 0;
            } else {
                self.silent += piece.len();
                if self.silent > STUCK_LIMIT {
                    self.parser = Parser::new();
                    self.c.grounded = true;
                    self.silent = 0;
                }
            }
        }
    }

    /// The lines completed by the last [`feed`](Self::feed), without their line ends.
    pub fn lines(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0;
        self.c.ends.iter().map(move |&end| {
            let line = &self.c.done[start..end];
            start = end;
            line
        })
    }

    /// How many lines the last feed completed.
    pub fn line_count(&self) -> usize {
        self.c.ends.len()
    }

    /// The last line the last feed completed, if any.
    pub fn last_line(&self) -> Option<&str> {
        let n = self.c.ends.len();
        match n {
            0 => None,
            1 => Some(&self.c.done[..self.c.ends[0]]),
            _ => Some(&self.c.done[self.c.ends[n - 2]..self.c.ends[n - 1]]),
        }
    }

    /// The current unfinished line (after a lone `\r`, still the text before it until
    /// something new is printed).
    pub fn partial(&self) -> &str {
        &self.c.partial
    }

    /// Take the unfinished line (if not empty), leaving none.
    pub fn take_partial(&mut self) -> Option<String> {
        self.c.pending_cr = false;
        if self.c.partial.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.c.partial))
        }
    }

    /// How many times the bell rang (BEL outside escape sequences) in the last feed.
    pub fn bells(&self) -> usize {
        self.c.bells
    }

    /// The last change of the bracketed-paste mode (`CSI ? 2004 h` / `l`) in the last
    /// feed, if any.
    pub fn bracketed_paste(&self) -> Option<bool> {
        self.c.bracketed_paste
    }

    /// The terminal queries of the last feed, in order.
    pub fn queries(&self) -> &[Query] {
        &self.c.queries
    }

    /// The notifications, titles and progress reports of the last feed, in order.
    pub fn oscs(&self) -> &[Osc] {
        &self.c.oscs
    }

    /// Forget everything (a new attempt starts with a fresh terminal).
    pub fn reset(&mut self) {
        let lines = self.c.lines_enabled;
        let cap = self.c.cap;
        *self = Self::with_cap(cap);
        self.c.lines_enabled = lines;
    }
}

#[cfg(test)]
mod tests;
