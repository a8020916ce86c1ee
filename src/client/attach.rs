//! `flightdeck attach`: the control room's client. It only relays (like tmux's
//! client): raw mode and the alternate screen on its own terminal, terminal events to
//! the server, the server's drawing to the terminal. It restores the terminal however
//! it ends and prints the line the server gives it (docs/protocol.md).

use super::{Connection, Run, Usage};
use anyhow::{Context, Result, bail};
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use serde_json::{Value, json};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

fn restore_terminal() {
    let mut out = std::io::stdout();
    let _ = crossterm::execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Puts the terminal back however the client ends.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> Result<TerminalGuard> {
        enable_raw_mode().context("cannot put the terminal in raw mode")?;
        let guard = TerminalGuard;
        crossterm::execute!(
            std::io::stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste,
            crossterm::cursor::Hide
        )
        .context("cannot set up the terminal")?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// What the server sends an attached client.
#[derive(serde::Deserialize)]
struct FromServer {
    out: Option<String>,
    exit: Option<Value>,
}

/// Messages to the server come from two threads (keyboard, signals): one writer.
type Writer = Arc<Mutex<UnixStream>>;

fn send(writer: &Writer, message: &Value) -> bool {
    let mut line = message.to_string();
    line.push('\n');
    let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
    w.write_all(line.as_bytes()).is_ok()
}

/// Attach to `run` on this terminal until the user leaves or detaches. Returns the
/// exit status: 0 when detached, the run's when the user left a finished run.
pub fn attach(run: &Run) -> Result<i32> {
    let (cols, rows) = crossterm::terminal::size().context("cannot read the terminal size")?;
    let info = super::info(run)?;
    let plan_file = info["plan_file"].as_str().unwrap_or("PLAN").to_string();
    let mut conn = Connection::open(run)?;
    // `acks`: each frame is acknowledged once written, so the server never queues
    // frames behind this terminal (docs/protocol.md).
    conn.send(json!({ "req": "attach", "cols": cols, "rows": rows, "acks": true }))?;
    match conn.receive()? {
        Some(v) if v["ok"] == true => {}
        Some(v) => bail!(Usage(
            v["error"]
                .as_str()
                .unwrap_or("the server refused to attach")
                .to_string()
        )),
        None => bail!("the run's server closed the connection"),
    }
    let (writer, mut reader) = conn.into_parts();
    let writer: Writer = Arc::new(Mutex::new(writer));

    let guard = TerminalGuard::enter()?;
    spawn_input(writer.clone());
    spawn_signals(writer.clone());
    let mut out = std::io::stdout();
    let mut line = String::new();
    let ending = loop {
        line.clear();
        match std::io::BufRead::read_line(&mut reader, &mut line) {
            Ok(0) | Err(_) => break None,
            Ok(_) => {}
        }
        let Ok(msg) = serde_json::from_str::<FromServer>(&line) else {
            continue;
        };
        if let Some(text) = msg.out {
            if out
                .write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .is_err()
            {
                // Our terminal is gone: the run goes on without us.
                send(&writer, &json!({ "detach": true }));
                break None;
            }
            send(&writer, &json!({ "ack": true }));
        } else if let Some(exit) = msg.exit {
            break Some(exit);
        }
    };
    drop(guard);
    Ok(match ending {
        Some(exit) => {
            if let Some(l) = exit["line"].as_str() {
                eprintln!("{l}");
            }
            exit["code"].as_i64().map_or(0, |c| c as i32)
        }
        None => {
            eprintln!(
                "flightdeck: the run's server is gone; resume with `flightdeck run {plan_file} \
                 --resume {}`",
                run.id
            );
            1
        }
    })
}

/// The sessions' terminal sizes for the control room on this terminal (so panes
/// start at the right size, before any client has attached).
pub fn initial_sizes(
    plan: &std::sync::Arc<crate::plan::Plan>,
    only: Option<&[String]>,
) -> Vec<(u16, u16)> {
    use crate::tui::{app::App, layout, model::RunView, screens::Screens};
    let Ok((w, h)) = crossterm::terminal::size() else {
        return Vec::new();
    };
    let view = RunView::new(plan.clone(), String::new(), only, std::time::Instant::now());
    let probe = App::new(view, Screens::new(&vec![(24, 80); plan.sessions.len()], 0));
    layout::initial_sizes(
        &probe.layout_input(),
        ratatui::layout::Rect::new(0, 0, w, h),
    )
}

/// Keyboard, mouse, paste and resize events, relayed as they come.
fn spawn_input(writer: Writer) {
    let _ = std::thread::Builder::new()
        .name("attach-input".into())
        .spawn(move || {
            loop {
                match crossterm::event::read() {
                    Ok(ev) => {
                        if !send(&writer, &json!({ "term": ev })) {
                            return;
                        }
                    }
                    Err(_) => {
                        // The terminal is gone.
                        send(&writer, &json!({ "detach": true }));
                        return;
                    }
                }
            }
        });
}

/// SIGHUP (the terminal closed, SSH dropped): detach, the run goes on. SIGTERM and
/// SIGINT: end the run, as closing the control room with `q` `y` does.
fn spawn_signals(writer: Writer) {
    let _ = std::thread::Builder::new()
        .name("attach-signals".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut t), Ok(mut h), Ok(mut i)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::hangup()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return;
                };
                loop {
                    let message = tokio::select! {
                        _ = t.recv() => json!({ "quit": true }),
                        _ = i.recv() => json!({ "quit": true }),
                        _ = h.recv() => json!({ "detach": true }),
                    };
                    if !send(&writer, &message) {
                        return;
                    }
                }
            });
        });
}
