//! The control room screen. (stub)
