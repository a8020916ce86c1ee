//! Helpers shared by the end-to-end test files.

use std::process::{Child, Output};
use std::time::Duration;

/// Wait for a child with a deadline: past it, kill the child and fail the test
/// (a hung flightdeck must fail, not hang CI).
pub fn wait_with_deadline(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("flightdeck did not finish within {limit:?}");
        }
    }
}
