//! Reaching any session in a run of more than nine: `g` and part of its name, `!`
//! for the next one that needs input.

use super::app::{App, Mode};
use super::keymap::Action;
use crossterm::event::{KeyCode, KeyEvent};
use std::time::Instant;

impl App {
    /// Focus the next session (after the focused one, in plan order) that needs input.
    pub fn next_needing_input(&mut self, now: Instant) {
        let n = self.view.sessions.len();
        let next = (1..=n)
            .map(|k| (self.focus + k) % n)
            .find(|&i| self.view.needs_input(i));
        match next {
            Some(i) => self.focus = i,
            None => self.say("no session needs input", now),
        }
    }

    /// Sessions whose name contains the typed text (any case), in plan order.
    pub fn goto_matches(&self) -> Vec<usize> {
        let q = self.goto.0.to_lowercase();
        self.focusable()
            .into_iter()
            .filter(|&i| self.name(i).to_lowercase().contains(&q))
            .collect()
    }

    pub fn goto_key(&mut self, action: Action, key: &KeyEvent, now: Instant) {
        match action {
            Action::Type => {
                if let KeyCode::Char(c) = key.code {
                    self.goto.0.push(c);
                    self.goto.1 = 0;
                }
            }
            Action::Erase => {
                self.goto.0.pop();
                self.goto.1 = 0;
            }
            Action::Down => self.goto.1 += 1,
            Action::Accept => {
                let m = self.goto_matches();
                if m.is_empty() {
                    let q = self.goto.0.clone();
                    self.say(format!("no session matches \"{q}\""), now);
                    return;
                }
                self.focus = m[self.goto.1 % m.len()];
                self.mode = Mode::Normal;
            }
            _ => self.mode = Mode::Normal,
        }
    }
}
