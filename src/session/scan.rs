//! The output scanner: what a session's output says besides its text — the bell,
//! the bracketed-paste mode, desktop notifications and titles (OSC), the
//! `done_when.output` pattern, and prompts that wait for an answer (the session's
//! `attention` pattern and its agent profile's built-in prompts) among the last lines.

use crate::ansi::{LineAssembler, Osc};
use regex::Regex;
use std::collections::VecDeque;

/// What one chunk of output revealed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Found {
    pub bell: bool,
    pub done: bool,
    /// A prompt appeared (with its line) or is no longer on screen (None).
    pub prompt: Option<Option<PromptSeen>>,
    pub bracketed_paste: Option<bool>,
    pub notifications: Vec<String>,
    pub title: Option<String>,
}

/// A prompt on screen: the line that matched, and whether it is one of the agent
/// profile's built-in prompts (debounced by the engine) or the user's `attention`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptSeen {
    pub line: String,
    pub builtin: bool,
}

pub(crate) struct Scanner {
    asm: LineAssembler,
    done: Option<Regex>,
    attention: Option<Regex>,
    builtin: Vec<Regex>,
    prompt_on: Option<PromptSeen>,
    /// The last few completed lines: a prompt sits above its options.
    recent: VecDeque<String>,
    /// The line being written when the user typed (the prompt they answered, then
    /// their echoed answer) does not count.
    skip_line: bool,
}

/// How many of the last lines of output count as "on screen" for the `attention`
/// pattern, and for the built-in prompts (an agent's dialog is taller: Codex puts its
/// question seven lines above its footer).
const PROMPT_LINES: usize = 6;
const BUILTIN_LINES: usize = 12;

/// Lines longer than this are not prompts (and are not kept whole).
const PROMPT_LINE_MAX: usize = 400;

impl Scanner {
    pub fn new(done: Option<Regex>, attention: Option<Regex>, builtin: Vec<Regex>) -> Self {
        // Text is only assembled when a pattern needs it.
        let asm = if done.is_some() || attention.is_some() || !builtin.is_empty() {
            LineAssembler::new()
        } else {
            LineAssembler::without_lines()
        };
        Scanner {
            asm,
            done,
            attention,
            builtin,
            prompt_on: None,
            recent: VecDeque::with_capacity(BUILTIN_LINES + 1),
            skip_line: false,
        }
    }

    fn watches_prompts(&self) -> bool {
        self.attention.is_some() || !self.builtin.is_empty()
    }

    /// The first prompt on screen (the recent lines and `partial`): the user's
    /// pattern first, then the built-ins in their order (the question before its
    /// options).
    fn prompt_in(&self, partial: Option<&str>) -> Option<PromptSeen> {
        let last = |n: usize| {
            let skip = self.recent.len().saturating_sub(n);
            self.recent
                .iter()
                .skip(skip)
                .map(String::as_str)
                .chain(partial)
        };
        let seen = |re: &Regex, n: usize, builtin: bool| {
            last(n).find(|l| re.is_match(l)).map(|l| PromptSeen {
                line: tidy(l),
                builtin,
            })
        };
        self.attention
            .iter()
            .find_map(|re| seen(re, PROMPT_LINES, false))
            .or_else(|| {
                self.builtin
                    .iter()
                    .find_map(|re| seen(re, BUILTIN_LINES, true))
            })
    }

    pub fn scan(&mut self, chunk: &[u8]) -> Found {
        self.asm.feed(chunk);
        let mut found = Found {
            bell: self.asm.bells() > 0,
            bracketed_paste: self.asm.bracketed_paste(),
            ..Found::default()
        };
        for osc in self.asm.oscs() {
            match osc {
                Osc::Notification(text) => found.notifications.push(text.clone()),
                Osc::Title(title) => found.title = Some(title.clone()),
                Osc::Progress => {}
            }
        }
        if let Some(re) = &self.done
            && (self.asm.lines().any(|l| re.is_match(l)) || re.is_match(self.asm.partial()))
        {
            found.done = true;
            self.done = None; // reported once
        }
        if self.watches_prompts() {
            for l in self.asm.lines() {
                if std::mem::take(&mut self.skip_line) {
                    continue;
                }
                if self.recent.len() == BUILTIN_LINES {
                    self.recent.pop_front();
                }
                let l = if l.len() > PROMPT_LINE_MAX {
                    &l[..l.floor_char_boundary(PROMPT_LINE_MAX)]
                } else {
                    l
                };
                self.recent.push_back(l.to_string());
            }
            let partial = (!self.skip_line).then(|| self.asm.partial());
            let now = self.prompt_in(partial);
            if now.is_some() != self.prompt_on.is_some() {
                found.prompt = Some(now.clone());
            }
            self.prompt_on = now;
        }
        found
    }

    /// Forget the recent lines (the user answered what they asked).
    pub fn forget_recent(&mut self) {
        self.recent.clear();
        self.skip_line = !self.asm.partial().is_empty();
    }
}

/// A prompt's line as a message: without box drawing and surrounding blanks.
fn tidy(line: &str) -> String {
    let t =
        line.trim_matches(|c: char| c.is_whitespace() || ('\u{2500}'..='\u{257f}').contains(&c));
    let mut s: String = t.chars().take(200).collect();
    if t.chars().count() > 200 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(found: &Found) -> Option<Option<&str>> {
        found
            .prompt
            .as_ref()
            .map(|p| p.as_ref().map(|p| p.line.as_str()))
    }

    #[test]
    fn reports_done_once_and_prompt_transitions() {
        let mut s = Scanner::new(
            Some(Regex::new("ALL DONE").unwrap()),
            Some(Regex::new(r"\[y/N\]").unwrap()),
            Vec::new(),
        );
        assert_eq!(s.scan(b"working\n"), Found::default());
        assert_eq!(prompt(&s.scan(b"Continue? [y/")), None);
        assert_eq!(prompt(&s.scan(b"N] ")), Some(Some("Continue? [y/N]")));
        assert_eq!(prompt(&s.scan(b"y")), None, "same line, still matching");
        assert_eq!(prompt(&s.scan(b"\n")), None, "last line still the prompt");
        // A prompt sits above its options: it counts while it is among the last lines.
        assert_eq!(prompt(&s.scan(b" 1. Yes\n 2. No\n")), None);
        assert_eq!(
            prompt(&s.scan(b"a\nb\nc\nd\n")),
            Some(None),
            "scrolled away"
        );
        // Once answered (the user typed), only what comes after counts.
        assert!(matches!(
            prompt(&s.scan(b"Proceed? [y/N]\n")),
            Some(Some(_))
        ));
        s.forget_recent();
        assert_eq!(prompt(&s.scan(b"ok, proceeding\n")), Some(None));
        // A prompt on an unfinished line, answered: the echo ends that line.
        assert!(matches!(
            prompt(&s.scan(b"Overwrite? [y/N] ")),
            Some(Some(_))
        ));
        s.forget_recent();
        assert_eq!(prompt(&s.scan(b"y\r\n")), Some(None));
        assert_eq!(prompt(&s.scan(b"overwritten\n")), None);
        assert!(!s.scan(b"\x1b[1mALL ").done);
        assert!(s.scan(b"DONE\x1b[0m").done, "partial line matches");
        assert!(!s.scan(b"\nALL DONE\n").done, "reported once");
        let f = s.scan(b"\x07\x1b[?2004h");
        assert!(f.bell);
        assert_eq!(f.bracketed_paste, Some(true));
    }

    #[test]
    fn without_patterns_still_sees_bell_modes_and_oscs() {
        let mut s = Scanner::new(None, None, Vec::new());
        let f = s.scan(b"\x1b]0;my title\x07text\x1b[?2004l");
        assert!(!f.bell);
        assert_eq!(f.bracketed_paste, Some(false));
        assert_eq!(f.title.as_deref(), Some("my title"));
        assert!(s.scan(b"\x07").bell);
    }

    #[test]
    fn desktop_notifications() {
        let mut s = Scanner::new(None, None, Vec::new());
        let f = s.scan(b"\x1b]9;Build finished\x07");
        assert_eq!(f.notifications, ["Build finished"]);
        assert!(!f.bell, "the BEL that ends an OSC is no bell");
        let f = s.scan(b"\x1b]777;notify;Claude;Needs your permission\x1b\\");
        assert_eq!(f.notifications, ["Claude: Needs your permission"]);
        let f = s.scan(b"\x1b]99;i=1:d=0;Title\x1b\\\x1b]99;i=1:p=body;Body; with semicolon\x1b\\");
        assert_eq!(f.notifications, ["Title: Body; with semicolon"]);
        assert!(
            s.scan(b"\x1b]9;4;1;50\x07").notifications.is_empty(),
            "progress"
        );
        assert!(
            s.scan(b"\x1b]99;i=1:p=?;\x1b\\").notifications.is_empty(),
            "query"
        );
        let f = s.scan(b"\x1b]2;build: 3/4\x1b\\");
        assert_eq!(f.title.as_deref(), Some("build: 3/4"));
    }

    #[test]
    fn a_tall_dialog_in_one_chunk_is_named_by_its_question() {
        let codex = crate::agent::profile::prompts(crate::plan::AgentKind::Codex);
        let mut s = Scanner::new(None, None, codex);
        let screen = "  Would you like to run the following command?\r\n\r\n  $ cargo test\r\n\r\n\
                      › 1. Yes, proceed (y)\r\n  2. No, and tell Codex what to do differently (esc)\r\n\r\n\
                      \x20 Press enter to confirm or esc to cancel\r\n";
        let f = s.scan(screen.as_bytes());
        assert_eq!(
            prompt(&f),
            Some(Some("Would you like to run the following command?"))
        );
    }

    #[test]
    fn builtin_prompts_name_their_line() {
        let re = Regex::new(r"Do you want to proceed\?").unwrap();
        let mut s = Scanner::new(None, None, vec![re]);
        assert_eq!(prompt(&s.scan(b"I will proceed with the plan\n")), None);
        let f = s.scan("│ Do you want to proceed? │\r\n│ ❯ 1. Yes │\r\n".as_bytes());
        assert_eq!(
            f.prompt,
            Some(Some(PromptSeen {
                line: "Do you want to proceed?".into(),
                builtin: true
            }))
        );
    }
}
