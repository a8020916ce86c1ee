//! The one rule for a running session's activity (docs/attention.md).
//!
//! Signals, strongest first: `notify` (the `flightdeck notify` command and agent
//! hooks), `osc` (a desktop notification the session printed), `pattern` (a prompt on
//! screen: the `attention` regex, or the agent profile's built-in prompts once they
//! have stayed up for [`PROMPT_DEBOUNCE`]), `bell`, then `output` / `quiet`.
//! A needs-input signal holds until the user types, the agent reports working or
//! idle, or the signal itself goes (the prompt leaves the screen; output continues a
//! second after a bell). A weaker signal never replaces the message of a stronger
//! one that still holds.

use crate::engine::Activity;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Where an activity came from (`session_activity.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Notify,
    Osc,
    Pattern,
    Bell,
    Output,
    Quiet,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Notify => "notify",
            Source::Osc => "osc",
            Source::Pattern => "pattern",
            Source::Bell => "bell",
            Source::Output => "output",
            Source::Quiet => "quiet",
        }
    }

    fn strength(self) -> u8 {
        match self {
            Source::Notify => 4,
            Source::Osc => 3,
            Source::Pattern => 2,
            Source::Bell => 1,
            Source::Output | Source::Quiet => 0,
        }
    }
}

/// A built-in prompt counts once it has been on screen this long (screens redraw).
pub const PROMPT_DEBOUNCE: Duration = Duration::from_millis(300);

/// A bell counts until output goes on this long after it.
const BELL_HOLD: Duration = Duration::from_secs(1);

/// What the session shows: its activity, why, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub activity: Activity,
    pub source: Source,
    pub message: Option<String>,
}

/// When a session's activity must be looked at again ([`Tracker::next_change`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// At this moment (unless a signal comes first).
    At(Instant),
    /// Now and then: only new output changes it, and output is not a signal.
    Often,
}

/// Signals of one attempt, and what was last shown.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The needs-input signal that holds, with its message.
    needs: Option<(Source, Option<String>)>,
    /// The agent said it finished its turn (with its message).
    idle: Option<Option<String>>,
    /// The agent said it is working (shown with source `notify`).
    working_said: bool,
    /// A prompt on screen: its line, built-in or not, since when.
    prompt: Option<(String, bool, Instant)>,
    bell_at: Option<Instant>,
    shown: Option<Shown>,
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// A needs-input signal: replaces the one that holds unless that is stronger.
    fn needs_input(&mut self, source: Source, message: Option<String>) {
        if self
            .needs
            .as_ref()
            .is_none_or(|(held, _)| held.strength() <= source.strength())
        {
            self.needs = Some((source, message));
        }
        self.idle = None;
        self.working_said = false;
    }

    /// `flightdeck notify` or a hook (`Done` is the engine's business, not shown).
    pub fn notify(&mut self, state: crate::agent::NotifyState, message: Option<String>) {
        use crate::agent::NotifyState;
        match state {
            NotifyState::NeedsInput => self.needs_input(Source::Notify, message),
            NotifyState::Working => {
                self.clear();
                self.working_said = true;
            }
            NotifyState::Idle => {
                self.clear();
                self.idle = Some(message);
            }
            NotifyState::Done => {}
        }
    }

    /// A desktop notification the session printed.
    pub fn notification(&mut self, text: String) {
        let message = (!text.trim().is_empty()).then_some(text);
        self.needs_input(Source::Osc, message);
    }

    /// A prompt came on screen (`Some(line, builtin)`) or left it (`None`).
    pub fn prompt(&mut self, seen: Option<(String, bool)>, now: Instant) {
        match seen {
            Some((line, builtin)) => {
                if !builtin {
                    self.needs_input(Source::Pattern, Some(line.clone()));
                }
                self.prompt = Some((line, builtin, now));
            }
            None => {
                self.prompt = None;
                if matches!(self.needs, Some((Source::Pattern, _))) {
                    self.needs = None;
                }
            }
        }
    }

    pub fn bell(&mut self, now: Instant) {
        self.bell_at = Some(now);
        self.needs_input(Source::Bell, None);
    }

    /// The user typed into the session: what it asked is answered.
    pub fn typed(&mut self) {
        self.clear();
    }

    fn clear(&mut self) {
        self.needs = None;
        self.idle = None;
        self.working_said = false;
        self.bell_at = None;
        self.prompt = None;
    }

    /// What to show now; `Some` only when it changed since the last call.
    pub fn update(
        &mut self,
        now: Instant,
        last_output: Instant,
        quiet_after: Duration,
    ) -> Option<Shown> {
        if let Some((line, true, since)) = &self.prompt
            && now.saturating_duration_since(*since) >= PROMPT_DEBOUNCE
            && !matches!(self.needs, Some((Source::Pattern, _)))
        {
            let line = line.clone();
            self.needs_input(Source::Pattern, Some(line));
        }
        if let Some(bell) = self.bell_at
            && last_output > bell + BELL_HOLD
        {
            self.bell_at = None;
            if matches!(self.needs, Some((Source::Bell, _))) {
                self.needs = None;
            }
        }
        let quiet = now.saturating_duration_since(last_output) >= quiet_after;
        let shown = if let Some((source, message)) = &self.needs {
            Shown {
                activity: Activity::NeedsInput,
                source: *source,
                message: message.clone(),
            }
        } else if let Some(message) = &self.idle {
            Shown {
                activity: Activity::Idle,
                source: Source::Notify,
                message: message.clone(),
            }
        } else if quiet {
            Shown {
                activity: Activity::Quiet,
                source: Source::Quiet,
                message: None,
            }
        } else {
            Shown {
                activity: Activity::Working,
                source: if self.working_said {
                    Source::Notify
                } else {
                    Source::Output
                },
                message: None,
            }
        };
        if self.shown.as_ref() == Some(&shown) {
            return None;
        }
        self.shown = Some(shown.clone());
        Some(shown)
    }

    /// When [`update`](Self::update) may answer differently though no new signal
    /// came: the moment the session turns quiet or a shown prompt counts, or
    /// [`Look::Often`] when that hangs on output the engine only sees by looking
    /// (the session is quiet, or a bell holds).
    pub fn next_change(&self, last_output: Instant, quiet_after: Duration) -> Look {
        let quiet = self
            .shown
            .as_ref()
            .is_some_and(|s| s.activity == Activity::Quiet);
        if quiet || self.bell_at.is_some() {
            return Look::Often;
        }
        let mut at = last_output + quiet_after;
        if let Some((_, true, since)) = &self.prompt
            && !matches!(self.needs, Some((Source::Pattern, _)))
        {
            at = at.min(*since + PROMPT_DEBOUNCE);
        }
        Look::At(at)
    }

    /// What was last shown.
    pub fn shown(&self) -> Option<&Shown> {
        self.shown.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::NotifyState;

    const QUIET: u64 = 60_000;

    /// Milliseconds after a fixed start.
    fn at(ms: u64) -> Instant {
        thread_local!(static START: Instant = Instant::now());
        START.with(|s| *s + Duration::from_millis(ms))
    }

    fn shown(t: &mut Tracker, now: u64, last: u64) -> (Activity, Source, Option<String>) {
        t.update(at(now), at(last), Duration::from_millis(QUIET));
        let s = t.shown().unwrap();
        (s.activity, s.source, s.message.clone())
    }

    #[test]
    fn strongest_signal_wins_and_holds_its_message() {
        let mut t = Tracker::new();
        assert_eq!(shown(&mut t, 0, 0).0, Activity::Working);
        t.bell(at(10));
        assert_eq!(
            shown(&mut t, 10, 0),
            (Activity::NeedsInput, Source::Bell, None)
        );
        t.notification("Build needs approval".into());
        let osc = (
            Activity::NeedsInput,
            Source::Osc,
            Some("Build needs approval".to_string()),
        );
        assert_eq!(shown(&mut t, 20, 0), osc);
        t.bell(at(30));
        assert_eq!(shown(&mut t, 30, 0), osc, "a bell does not replace an OSC");
        t.notify(NotifyState::NeedsInput, Some("Allow Bash?".into()));
        assert_eq!(
            shown(&mut t, 40, 0),
            (
                Activity::NeedsInput,
                Source::Notify,
                Some("Allow Bash?".into())
            )
        );
        t.notify(NotifyState::Working, None);
        assert_eq!(
            shown(&mut t, 50, 50),
            (Activity::Working, Source::Notify, None)
        );
        t.notify(NotifyState::Idle, Some("done with the task".into()));
        assert_eq!(
            shown(&mut t, 60, 60),
            (
                Activity::Idle,
                Source::Notify,
                Some("done with the task".into())
            )
        );
        t.typed();
        assert_eq!(
            shown(&mut t, 70, 70),
            (Activity::Working, Source::Output, None)
        );
        assert_eq!(shown(&mut t, 70 + QUIET, 70).0, Activity::Quiet);
    }

    #[test]
    fn builtin_prompts_are_debounced_and_leave_with_the_screen() {
        let mut t = Tracker::new();
        t.prompt(Some(("Do you want to proceed?".into(), true)), at(100));
        assert_eq!(shown(&mut t, 200, 200).0, Activity::Working, "not yet");
        assert_eq!(
            shown(&mut t, 100 + PROMPT_DEBOUNCE.as_millis() as u64, 200),
            (
                Activity::NeedsInput,
                Source::Pattern,
                Some("Do you want to proceed?".into())
            )
        );
        t.prompt(None, at(500));
        assert_eq!(shown(&mut t, 500, 500).0, Activity::Working);
        // A redraw that takes the prompt away at once never counts.
        t.prompt(Some(("Do you want to proceed?".into(), true)), at(600));
        t.prompt(None, at(650));
        assert_eq!(shown(&mut t, 1000, 1000).0, Activity::Working);
        // The user's own pattern counts at once.
        t.prompt(Some(("Continue? [y/N]".into(), false)), at(1100));
        assert_eq!(shown(&mut t, 1100, 1100).1, Source::Pattern);
    }

    #[test]
    fn a_bell_clears_once_output_goes_on() {
        let mut t = Tracker::new();
        t.bell(at(1000));
        assert_eq!(shown(&mut t, 1500, 1000).0, Activity::NeedsInput);
        assert_eq!(shown(&mut t, 2500, 2001).0, Activity::Working);
    }
}
