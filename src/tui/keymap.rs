//! Every key of the control room in one table: `(mode, key) -> (action, help)`.
//! Dispatch ([`lookup`]), the help overlay and the tests all read [`BINDINGS`]; a new
//! key is one row here and one arm in `App::perform`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the keyboard is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The grid: keys drive the run.
    Normal,
    /// Keys go to the focused session (`Ctrl-a` leaves).
    Input,
    /// The help overlay: any key closes it.
    Help,
    /// The quit dialog.
    Quit,
    /// The panels full screen: typing filters.
    Panels,
    /// The details of one check, gate or session.
    Details,
    /// Typing a search of the focused pane.
    SearchInput,
    /// Moving between the matches of a search.
    Search,
    /// Typing part of a session's name.
    GoTo,
    /// Copy mode in the focused pane.
    Copy,
}

impl Mode {
    /// The title of this mode's section in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Mode::Normal => "control room",
            Mode::Input => "input mode",
            Mode::Help => "help",
            Mode::Quit => "quit dialog",
            Mode::Panels => "panels (p)",
            Mode::Details => "details",
            Mode::SearchInput => "search (/), typing",
            Mode::Search => "search (/), matches",
            Mode::GoTo => "go to (g)",
            Mode::Copy => "copy mode (v)",
        }
    }
}

/// Something a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    NextPane,
    PreviousPane,
    FocusLeft,
    FocusRight,
    FocusUp,
    FocusDown,
    /// Focus the session with the digit's number.
    FocusNumber,
    EnterInput,
    /// Leave input mode (handled before the table: every other key goes to the session).
    LeaveInput,
    Zoom,
    Restart,
    Stop,
    Start,
    Skip,
    MarkDone,
    Approve,
    Recheck,
    ScrollBack,
    ScrollForward,
    Live,
    Help,
    Quit,
    Detach,
    GoTo,
    NextNeedsInput,
    Panels,
    Search,
    Copy,
    CloseHelp,
    QuitConfirm,
    QuitCancel,
    QuitDetach,
    /// Move the selection or cursor.
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    /// Add the typed character to the filter or query.
    Type,
    Erase,
    /// Panels: the selected row's details; go to / search: accept.
    Accept,
    /// Leave the current view.
    Back,
    SearchNext,
    SearchPrevious,
    SelectStart,
    CopySelection,
    CopyLine,
}

/// Which keys a row matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// One key with exactly these modifiers (Shift is ignored for characters).
    Key(KeyCode, KeyModifiers),
    /// `1`–`9`.
    Digits,
    /// Any printable character (typing a filter or a query).
    Text,
    /// Any key at all.
    Any,
    /// Shown in help only (the mouse).
    Mouse,
}

pub struct Binding {
    pub mode: Mode,
    pub keys: Keys,
    /// How help writes the key.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

const fn key(
    mode: Mode,
    code: KeyCode,
    label: &'static str,
    action: Action,
    help: &'static str,
) -> Binding {
    Binding {
        mode,
        keys: Keys::Key(code, NONE),
        label,
        action,
        help,
    }
}

const fn ch(
    mode: Mode,
    c: char,
    label: &'static str,
    action: Action,
    help: &'static str,
) -> Binding {
    key(mode, KeyCode::Char(c), label, action, help)
}

use Action as A;
use KeyCode as K;
use Mode as M;

/// Every binding, in the order help shows them. Rows for the same key in the same
/// mode: the first wins (a label such as `arrows` may stand for four rows).
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    key(M::Normal, K::Tab, "Tab / Shift-Tab", A::NextPane, "next / previous pane"),
    key(M::Normal, K::BackTab, "", A::PreviousPane, ""),
    key(M::Normal, K::Left, "arrows", A::FocusLeft, "move focus to the pane in that direction"),
    key(M::Normal, K::Right, "", A::FocusRight, ""),
    key(M::Normal, K::Up, "", A::FocusUp, ""),
    key(M::Normal, K::Down, "", A::FocusDown, ""),
    Binding { mode: M::Normal, keys: Keys::Digits, label: "1-9", action: A::FocusNumber, help: "focus the session with that number" },
    ch(M::Normal, 'g', "g", A::GoTo, "go to a session by typing part of its name"),
    ch(M::Normal, '!', "!", A::NextNeedsInput, "focus the next session that needs input"),
    key(M::Normal, K::Enter, "Enter", A::EnterInput, "input mode: keys go to the focused session"),
    Binding { mode: M::Normal, keys: Keys::Key(K::Char('a'), CTRL), label: "Ctrl-a", action: A::LeaveInput, help: "leave input mode (Ctrl-a Ctrl-a sends Ctrl-a)" },
    ch(M::Normal, 'z', "z", A::Zoom, "zoom / unzoom the focused pane"),
    ch(M::Normal, 'r', "r", A::Restart, "restart the focused session"),
    ch(M::Normal, 'x', "x", A::Stop, "stop the focused session"),
    ch(M::Normal, 's', "s", A::Start, "start the focused pending session now"),
    ch(M::Normal, 'S', "S", A::Skip, "skip the focused pending session"),
    ch(M::Normal, 'd', "d", A::MarkDone, "mark the focused session done"),
    ch(M::Normal, 'a', "a", A::Approve, "approve the gate awaiting approval"),
    ch(M::Normal, 'c', "c", A::Recheck, "evaluate all checks now"),
    ch(M::Normal, 'p', "p", A::Panels, "panels full screen: sessions, checks, gates, files"),
    ch(M::Normal, '/', "/", A::Search, "search the focused pane (earlier attempts too)"),
    ch(M::Normal, 'n', "n / N", A::SearchNext, "next / previous match of the last search"),
    ch(M::Normal, 'N', "", A::SearchPrevious, ""),
    ch(M::Normal, 'v', "v", A::Copy, "copy mode in the focused pane"),
    key(M::Normal, K::PageUp, "PgUp / PgDn", A::ScrollBack, "scroll back / forward in the focused pane"),
    key(M::Normal, K::PageDown, "", A::ScrollForward, ""),
    key(M::Normal, K::Esc, "Esc", A::Live, "back to live output"),
    Binding { mode: M::Normal, keys: Keys::Mouse, label: "mouse", action: A::Live, help: "click focuses, wheel scrolls, drag selects and copies" },
    ch(M::Normal, '?', "?", A::Help, "this help (any key closes it)"),
    ch(M::Normal, 'q', "q", A::Quit, "quit (asks first while sessions run)"),
    Binding { mode: M::Normal, keys: Keys::Key(K::Char('c'), CTRL), label: "", action: A::Quit, help: "" },
    ch(M::Normal, 'D', "D", A::Detach, "detach: the run goes on (flightdeck attach)"),
    Binding { mode: M::Input, keys: Keys::Key(K::Char('a'), CTRL), label: "Ctrl-a", action: A::LeaveInput, help: "leave input mode; every other key goes to the session" },
    key(M::Help, K::Up, "Up / Down", A::Up, "scroll this help"),
    key(M::Help, K::Down, "", A::Down, ""),
    Binding { mode: M::Help, keys: Keys::Any, label: "any key", action: A::CloseHelp, help: "close this help" },
    ch(M::Quit, 'y', "y", A::QuitConfirm, "stop every session, write the record, leave"),
    ch(M::Quit, 'Y', "", A::QuitConfirm, ""),
    ch(M::Quit, 'd', "d", A::QuitDetach, "detach: the run goes on"),
    ch(M::Quit, 'n', "n / Esc", A::QuitCancel, "keep running"),
    ch(M::Quit, 'N', "", A::QuitCancel, ""),
    key(M::Quit, K::Esc, "", A::QuitCancel, ""),
    ch(M::Quit, 'q', "", A::QuitCancel, ""),
    key(M::Panels, K::Up, "Up / Down", A::Up, "select a row"),
    key(M::Panels, K::Down, "", A::Down, ""),
    key(M::Panels, K::PageUp, "PgUp / PgDn", A::PageUp, "a page up / down"),
    key(M::Panels, K::PageDown, "", A::PageDown, ""),
    key(M::Panels, K::Enter, "Enter", A::Accept, "details of the selected check, gate or session"),
    key(M::Panels, K::Backspace, "Backspace", A::Erase, "erase from the filter"),
    key(M::Panels, K::Esc, "Esc", A::Back, "clear the filter, then back to the grid"),
    Binding { mode: M::Panels, keys: Keys::Text, label: "typing", action: A::Type, help: "filter the rows" },
    key(M::Details, K::Up, "Up / Down", A::Up, "scroll"),
    key(M::Details, K::Down, "", A::Down, ""),
    key(M::Details, K::Esc, "Esc / Enter", A::Back, "back to the panels"),
    key(M::Details, K::Enter, "", A::Back, ""),
    ch(M::Details, 'q', "", A::Back, ""),
    key(M::SearchInput, K::Enter, "Enter", A::Accept, "keep the search (then n / N)"),
    key(M::SearchInput, K::Backspace, "Backspace", A::Erase, "erase from the query"),
    key(M::SearchInput, K::Esc, "Esc", A::Back, "leave the search"),
    Binding { mode: M::SearchInput, keys: Keys::Text, label: "typing", action: A::Type, help: "search as you type" },
    ch(M::Search, 'n', "n / N", A::SearchNext, "next / previous match"),
    ch(M::Search, 'N', "", A::SearchPrevious, ""),
    ch(M::Search, '/', "/", A::Search, "a new search"),
    key(M::Search, K::Up, "Up / Down", A::Up, "scroll"),
    key(M::Search, K::Down, "", A::Down, ""),
    key(M::Search, K::PageUp, "PgUp / PgDn", A::PageUp, "a page up / down"),
    key(M::Search, K::PageDown, "", A::PageDown, ""),
    key(M::Search, K::Esc, "Esc", A::Back, "leave the search"),
    ch(M::Search, 'q', "", A::Back, ""),
    key(M::GoTo, K::Enter, "Enter", A::Accept, "focus the first matching session"),
    key(M::GoTo, K::Tab, "Tab", A::Down, "the next matching session"),
    key(M::GoTo, K::Backspace, "Backspace", A::Erase, "erase"),
    key(M::GoTo, K::Esc, "Esc", A::Back, "cancel"),
    Binding { mode: M::GoTo, keys: Keys::Text, label: "typing", action: A::Type, help: "part of a session's name" },
    key(M::Copy, K::Up, "arrows", A::Up, "move the cursor"),
    key(M::Copy, K::Down, "", A::Down, ""),
    key(M::Copy, K::Left, "", A::Left, ""),
    key(M::Copy, K::Right, "", A::Right, ""),
    key(M::Copy, K::PageUp, "PgUp / PgDn", A::PageUp, "a page up / down"),
    key(M::Copy, K::PageDown, "", A::PageDown, ""),
    ch(M::Copy, ' ', "Space", A::SelectStart, "start a selection"),
    ch(M::Copy, 'y', "y / Enter", A::CopySelection, "copy the selection to your clipboard"),
    key(M::Copy, K::Enter, "", A::CopySelection, ""),
    ch(M::Copy, 'Y', "Y", A::CopyLine, "copy the cursor's line"),
    key(M::Copy, K::Esc, "Esc", A::Back, "leave copy mode"),
    ch(M::Copy, 'q', "", A::Back, ""),
];

/// Shift is part of the character (`S`, `!`, `?`), so it is ignored for characters.
fn modifiers(key: &KeyEvent) -> KeyModifiers {
    match key.code {
        KeyCode::Char(_) | KeyCode::BackTab => key.modifiers - KeyModifiers::SHIFT,
        _ => key.modifiers,
    }
}

impl Keys {
    pub fn matches(&self, key: &KeyEvent) -> bool {
        let plain = !modifiers(key).intersects(CTRL | KeyModifiers::ALT);
        match *self {
            Keys::Key(code, mods) => key.code == code && modifiers(key) == mods,
            Keys::Digits => plain && matches!(key.code, KeyCode::Char('1'..='9')),
            Keys::Text => plain && matches!(key.code, KeyCode::Char(c) if !c.is_control()),
            Keys::Any => true,
            Keys::Mouse => false,
        }
    }
}

/// The action of a key in a mode, if it has one.
pub fn lookup(mode: Mode, key: &KeyEvent) -> Option<Action> {
    BINDINGS
        .iter()
        .find(|b| b.mode == mode && b.keys.matches(key))
        .map(|b| b.action)
}

/// The rows help shows for a mode: (label, help), rows without a label left out.
pub fn help_rows(mode: Mode) -> impl Iterator<Item = (&'static str, &'static str)> {
    BINDINGS
        .iter()
        .filter(move |b| b.mode == mode && !b.label.is_empty())
        .map(|b| (b.label, b.help))
}

/// The modes help lists, in order.
pub const HELP_MODES: &[Mode] = &[
    Mode::Normal,
    Mode::Panels,
    Mode::SearchInput,
    Mode::Search,
    Mode::Copy,
    Mode::GoTo,
    Mode::Quit,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, NONE)
    }

    #[test]
    fn the_table_dispatches() {
        assert_eq!(lookup(M::Normal, &k(K::Char('q'))), Some(A::Quit));
        assert_eq!(
            lookup(M::Normal, &KeyEvent::new(K::Char('S'), KeyModifiers::SHIFT)),
            Some(A::Skip)
        );
        assert_eq!(lookup(M::Normal, &k(K::Char('7'))), Some(A::FocusNumber));
        assert_eq!(
            lookup(M::Normal, &KeyEvent::new(K::Char('c'), CTRL)),
            Some(A::Quit)
        );
        assert_eq!(lookup(M::Panels, &k(K::Char('q'))), Some(A::Type));
        assert_eq!(lookup(M::Help, &k(K::F(5))), Some(A::CloseHelp));
        assert_eq!(lookup(M::Normal, &k(K::Char('j'))), None);
    }

    #[test]
    fn every_labelled_row_has_help_and_no_key_is_bound_twice() {
        for (i, b) in BINDINGS.iter().enumerate() {
            assert!(b.label.is_empty() == b.help.is_empty(), "{}", b.label);
            for other in &BINDINGS[..i] {
                assert!(
                    !(other.mode == b.mode && other.keys == b.keys),
                    "{:?} bound twice in {:?}",
                    b.keys,
                    b.mode
                );
            }
        }
    }
}
