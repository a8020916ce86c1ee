//! The control room screen (SPEC §5).

pub mod pane;
