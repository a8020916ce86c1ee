//! Keys and pastes encoded the way a terminal (xterm) sends them to its program.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Bytes a terminal sends for this key; empty when it sends nothing (key release,
/// keys without an encoding). `app_cursor`: the program enabled DECCKM.
pub fn encode_key(key: &KeyEvent, app_cursor: bool) -> Vec<u8> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let m = key.modifiers;
    let ctrl = m.contains(KeyModifiers::CONTROL);
    let alt = m.contains(KeyModifiers::ALT);
    let shift = m.contains(KeyModifiers::SHIFT);
    // xterm's modifier parameter: 1 + shift + 2*alt + 4*ctrl.
    let param = 1 + shift as u8 + 2 * alt as u8 + 4 * ctrl as u8;
    let mut out = Vec::new();
    let esc_prefix = |out: &mut Vec<u8>| {
        if alt {
            out.push(0x1b)
        }
    };
    // CSI/SS3 "cursor-style" keys: arrows, Home, End, F1-F4.
    let cursor_key = |out: &mut Vec<u8>, c: u8, ss3_plain: bool| {
        if param > 1 {
            out.extend_from_slice(format!("\x1b[1;{param}").as_bytes());
            out.push(c);
        } else if ss3_plain {
            out.extend_from_slice(b"\x1bO");
            out.push(c);
        } else {
            out.extend_from_slice(b"\x1b[");
            out.push(c);
        }
    };
    let tilde_key = |out: &mut Vec<u8>, n: u8| {
        if param > 1 {
            out.extend_from_slice(format!("\x1b[{n};{param}~").as_bytes());
        } else {
            out.extend_from_slice(format!("\x1b[{n}~").as_bytes());
        }
    };
    match key.code {
        KeyCode::Char(c) => {
            esc_prefix(&mut out);
            if ctrl {
                match ctrl_byte(c) {
                    Some(b) => out.push(b),
                    None => push_char(&mut out, c),
                }
            } else {
                push_char(&mut out, c);
            }
        }
        KeyCode::Enter => {
            esc_prefix(&mut out);
            out.push(b'\r');
        }
        KeyCode::Tab => {
            esc_prefix(&mut out);
            out.push(b'\t');
        }
        KeyCode::BackTab => out.extend_from_slice(b"\x1b[Z"),
        KeyCode::Backspace => {
            esc_prefix(&mut out);
            out.push(if ctrl { 0x08 } else { 0x7f });
        }
        KeyCode::Esc => {
            esc_prefix(&mut out);
            out.push(0x1b);
        }
        KeyCode::Up => cursor_key(&mut out, b'A', app_cursor),
        KeyCode::Down => cursor_key(&mut out, b'B', app_cursor),
        KeyCode::Right => cursor_key(&mut out, b'C', app_cursor),
        KeyCode::Left => cursor_key(&mut out, b'D', app_cursor),
        KeyCode::Home => cursor_key(&mut out, b'H', app_cursor),
        KeyCode::End => cursor_key(&mut out, b'F', app_cursor),
        KeyCode::Insert => tilde_key(&mut out, 2),
        KeyCode::Delete => tilde_key(&mut out, 3),
        KeyCode::PageUp => tilde_key(&mut out, 5),
        KeyCode::PageDown => tilde_key(&mut out, 6),
        KeyCode::F(n) => match n {
            1..=4 => cursor_key(&mut out, b'P' + (n - 1), true),
            5 => tilde_key(&mut out, 15),
            6..=10 => tilde_key(&mut out, 11 + n),
            11 | 12 => tilde_key(&mut out, 12 + n),
            _ => {}
        },
        _ => {}
    }
    out
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut b = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
}

/// The control byte for Ctrl+c, as xterm maps it.
fn ctrl_byte(c: char) -> Option<u8> {
    Some(match c {
        'a'..='z' => c as u8 - b'a' + 1,
        'A'..='Z' => c as u8 - b'A' + 1,
        '@' | ' ' | '2' => 0,
        '[' | '3' => 0x1b,
        '\\' | '4' => 0x1c,
        ']' | '5' => 0x1d,
        '^' | '6' => 0x1e,
        '_' | '/' | '7' | '-' => 0x1f,
        '8' | '?' => 0x7f,
        _ => return None,
    })
}

/// Pasted text as a terminal sends it: wrapped in bracketed-paste markers when the
/// program asked for them, otherwise with newlines sent as Enter (`\r`).
pub fn encode_paste(text: &str, bracketed: bool) -> Vec<u8> {
    if bracketed {
        // The end marker inside the text would end the paste early.
        let clean = text.replace("\x1b[201~", "");
        let mut out = b"\x1b[200~".to_vec();
        out.extend_from_slice(clean.as_bytes());
        out.extend_from_slice(b"\x1b[201~");
        out
    } else {
        text.replace("\r\n", "\r").replace('\n', "\r").into_bytes()
    }
}

/// `Ctrl-a`, the key that leaves input mode.
pub fn is_prefix(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('a') | KeyCode::Char('A'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }
    fn enc(code: KeyCode, m: KeyModifiers) -> Vec<u8> {
        encode_key(&k(code, m), false)
    }
    const N: KeyModifiers = KeyModifiers::NONE;
    const C: KeyModifiers = KeyModifiers::CONTROL;
    const A: KeyModifiers = KeyModifiers::ALT;
    const S: KeyModifiers = KeyModifiers::SHIFT;

    #[test]
    fn characters() {
        assert_eq!(enc(KeyCode::Char('a'), N), b"a");
        assert_eq!(enc(KeyCode::Char('A'), S), b"A");
        assert_eq!(enc(KeyCode::Char('é'), N), "é".as_bytes());
        assert_eq!(enc(KeyCode::Char('中'), N), "中".as_bytes());
    }

    #[test]
    fn control_and_alt() {
        assert_eq!(enc(KeyCode::Char('c'), C), b"\x03");
        assert_eq!(enc(KeyCode::Char('a'), C), b"\x01");
        assert_eq!(enc(KeyCode::Char('z'), C), b"\x1a");
        assert_eq!(enc(KeyCode::Char(' '), C), b"\x00");
        assert_eq!(enc(KeyCode::Char('['), C), b"\x1b");
        assert_eq!(enc(KeyCode::Char('\\'), C), b"\x1c");
        assert_eq!(enc(KeyCode::Char('_'), C), b"\x1f");
        assert_eq!(enc(KeyCode::Char('x'), A), b"\x1bx");
        assert_eq!(enc(KeyCode::Char('x'), A | C), b"\x1b\x18");
        assert_eq!(enc(KeyCode::Enter, A), b"\x1b\r");
    }

    #[test]
    fn editing_keys() {
        assert_eq!(enc(KeyCode::Enter, N), b"\r");
        assert_eq!(enc(KeyCode::Tab, N), b"\t");
        assert_eq!(enc(KeyCode::BackTab, S), b"\x1b[Z");
        assert_eq!(enc(KeyCode::Backspace, N), b"\x7f");
        assert_eq!(enc(KeyCode::Backspace, C), b"\x08");
        assert_eq!(enc(KeyCode::Esc, N), b"\x1b");
        assert_eq!(enc(KeyCode::Insert, N), b"\x1b[2~");
        assert_eq!(enc(KeyCode::Delete, N), b"\x1b[3~");
        assert_eq!(enc(KeyCode::PageUp, N), b"\x1b[5~");
        assert_eq!(enc(KeyCode::PageDown, N), b"\x1b[6~");
        assert_eq!(enc(KeyCode::Delete, C), b"\x1b[3;5~");
    }

    #[test]
    fn arrows_honour_application_cursor_mode() {
        assert_eq!(enc(KeyCode::Up, N), b"\x1b[A");
        assert_eq!(enc(KeyCode::Down, N), b"\x1b[B");
        assert_eq!(enc(KeyCode::Right, N), b"\x1b[C");
        assert_eq!(enc(KeyCode::Left, N), b"\x1b[D");
        assert_eq!(enc(KeyCode::Home, N), b"\x1b[H");
        assert_eq!(enc(KeyCode::End, N), b"\x1b[F");
        let app = |c| encode_key(&k(c, N), true);
        assert_eq!(app(KeyCode::Up), b"\x1bOA");
        assert_eq!(app(KeyCode::Left), b"\x1bOD");
        assert_eq!(app(KeyCode::Home), b"\x1bOH");
        // Modified arrows are the same in both modes.
        assert_eq!(enc(KeyCode::Up, C), b"\x1b[1;5A");
        assert_eq!(encode_key(&k(KeyCode::Up, C), true), b"\x1b[1;5A");
        assert_eq!(enc(KeyCode::Right, S), b"\x1b[1;2C");
        assert_eq!(enc(KeyCode::Left, A), b"\x1b[1;3D");
    }

    #[test]
    fn function_keys() {
        assert_eq!(enc(KeyCode::F(1), N), b"\x1bOP");
        assert_eq!(enc(KeyCode::F(4), N), b"\x1bOS");
        assert_eq!(enc(KeyCode::F(5), N), b"\x1b[15~");
        assert_eq!(enc(KeyCode::F(6), N), b"\x1b[17~");
        assert_eq!(enc(KeyCode::F(10), N), b"\x1b[21~");
        assert_eq!(enc(KeyCode::F(11), N), b"\x1b[23~");
        assert_eq!(enc(KeyCode::F(12), N), b"\x1b[24~");
        assert_eq!(enc(KeyCode::F(1), S), b"\x1b[1;2P");
        assert_eq!(enc(KeyCode::F(5), C), b"\x1b[15;5~");
    }

    #[test]
    fn releases_send_nothing() {
        let mut e = k(KeyCode::Char('a'), N);
        e.kind = KeyEventKind::Release;
        assert!(encode_key(&e, false).is_empty());
    }

    #[test]
    fn pastes() {
        assert_eq!(encode_paste("a\nb\r\nc", false), b"a\rb\rc");
        assert_eq!(
            encode_paste("x\ny", true),
            b"\x1b[200~x\ny\x1b[201~".to_vec()
        );
        assert_eq!(
            encode_paste("a\x1b[201~b", true),
            b"\x1b[200~ab\x1b[201~".to_vec()
        );
    }

    #[test]
    fn prefix_key() {
        assert!(is_prefix(&k(KeyCode::Char('a'), C)));
        assert!(!is_prefix(&k(KeyCode::Char('a'), N)));
    }
}

/// A mouse event inside a pane, as the program asked to receive it (xterm
/// protocol; SGR encoding when it enabled mode 1006). `col`/`row` are 0-based in
/// the pane. Returns nothing for events the program did not ask for.
pub fn encode_mouse(
    kind: crossterm::event::MouseEventKind,
    mods: KeyModifiers,
    col: u16,
    row: u16,
    mode: alacritty_terminal::term::TermMode,
) -> Vec<u8> {
    use alacritty_terminal::term::TermMode as M;
    use crossterm::event::{MouseButton, MouseEventKind as K};
    if !mode.intersects(M::MOUSE_MODE) {
        return Vec::new();
    }
    let button = |b: MouseButton| match b {
        MouseButton::Left => 0u8,
        MouseButton::Middle => 1,
        MouseButton::Right => 2,
    };
    let (mut code, release) = match kind {
        K::Down(b) => (button(b), false),
        K::Up(b) => (button(b), true),
        K::Drag(b) if mode.intersects(M::MOUSE_DRAG | M::MOUSE_MOTION) => (button(b) + 32, false),
        K::Moved if mode.contains(M::MOUSE_MOTION) => (3 + 32, false),
        K::ScrollUp => (64, false),
        K::ScrollDown => (65, false),
        _ => return Vec::new(),
    };
    if mods.contains(KeyModifiers::SHIFT) {
        code += 4;
    }
    if mods.contains(KeyModifiers::ALT) {
        code += 8;
    }
    if mods.contains(KeyModifiers::CONTROL) {
        code += 16;
    }
    let (x, y) = (col as u32 + 1, row as u32 + 1);
    if mode.contains(M::SGR_MOUSE) {
        format!("\x1b[<{code};{x};{y}{}", if release { 'm' } else { 'M' }).into_bytes()
    } else {
        // X10/normal encoding: release is button 3; coordinates cap at 223.
        let c = if release { 3 + (code & !3) } else { code };
        let enc = |v: u32| (32 + v.min(223)) as u8;
        vec![0x1b, b'[', b'M', 32 + c, enc(x), enc(y)]
    }
}

#[cfg(test)]
mod mouse_tests {
    use super::*;
    use alacritty_terminal::term::TermMode as M;
    use crossterm::event::{MouseButton, MouseEventKind as K};

    #[test]
    fn nothing_unless_the_program_asked() {
        let e = encode_mouse(
            K::Down(MouseButton::Left),
            KeyModifiers::NONE,
            0,
            0,
            M::empty(),
        );
        assert!(e.is_empty());
    }

    #[test]
    fn sgr_and_normal_encodings() {
        let sgr = M::MOUSE_REPORT_CLICK | M::SGR_MOUSE;
        let n = KeyModifiers::NONE;
        assert_eq!(
            encode_mouse(K::Down(MouseButton::Left), n, 4, 2, sgr),
            b"\x1b[<0;5;3M"
        );
        assert_eq!(
            encode_mouse(K::Up(MouseButton::Left), n, 4, 2, sgr),
            b"\x1b[<0;5;3m"
        );
        assert_eq!(encode_mouse(K::ScrollUp, n, 0, 0, sgr), b"\x1b[<64;1;1M");
        assert!(encode_mouse(K::Drag(MouseButton::Left), n, 0, 0, sgr).is_empty());
        let normal = M::MOUSE_REPORT_CLICK;
        assert_eq!(
            encode_mouse(K::Down(MouseButton::Right), n, 0, 0, normal),
            vec![0x1b, b'[', b'M', 32 + 2, 33, 33]
        );
        assert_eq!(
            encode_mouse(K::Up(MouseButton::Right), n, 0, 0, normal),
            vec![0x1b, b'[', b'M', 32 + 3, 33, 33]
        );
        let drag = M::MOUSE_DRAG | M::SGR_MOUSE;
        assert_eq!(
            encode_mouse(
                K::Drag(MouseButton::Left),
                KeyModifiers::CONTROL,
                1,
                1,
                drag
            ),
            b"\x1b[<48;2;2M"
        );
    }
}
