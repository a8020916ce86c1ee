//! The control room screen (docs/control-room.md): a grid of live terminal panes, side panels for
//! sessions, checks, gates and files, and the keys that drive the engine.
//!
//! Everything here is a view: [`app::App`] holds one client's state (focus, zoom,
//! mode) and turns keys into engine commands; [`ui`] draws it. The run's server
//! drives one `App` per attached client (`server::room`): the pane emulators
//! ([`screens::Screens`], the engine's `OutputSink`) are shared, the rest is per client.

pub mod app;
pub mod canvas;
pub mod copy;
#[doc(hidden)]
pub mod fixtures;
pub mod goto;
pub mod keymap;
pub mod keys;
pub mod layout;
pub mod model;
pub mod osc;
pub mod palette;
pub mod pane;
pub mod pane_cache;
pub mod panels;
pub mod regions;
pub mod screens;
pub mod scrollback;
pub mod search;
pub mod shorten;
pub mod side;
pub mod status;
pub mod ui;
