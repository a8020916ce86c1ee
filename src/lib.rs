//! flightdeck: a terminal control room for long multi-agent runs.
//!
//! The engine (`engine`) reads a plan (`plan`), runs sessions in PTYs (`session`),
//! watches files (`watch`), evaluates checks (`checks`) and gates (`gates`), and
//! records everything (`record`). It knows nothing of screens: the TUI (`tui`) and
//! the headless printer (`headless`) are two frontends that consume its events and
//! send it commands.

pub mod agent;
pub mod ansi;
pub mod check_command;
pub mod checks;
pub mod client;
pub mod demo;
pub mod duration;
pub mod engine;
pub mod gates;
pub mod headless;
pub mod init;
pub mod plan;
pub mod record;
pub mod schedule;
pub mod server;
pub mod session;
pub mod sim;
pub mod tui;
pub mod watch;
