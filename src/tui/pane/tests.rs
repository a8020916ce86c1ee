use super::*;
use ratatui::style::Color;

fn pane(rows: u16, cols: u16) -> Pane {
    Pane::new(rows, cols, 100)
}

#[test]
fn plain_text_and_cursor() {
    let mut p = pane(5, 20);
    p.feed(b"hello\r\nworld");
    assert_eq!(p.row_text(0), "hello");
    assert_eq!(p.row_text(1), "world");
    assert_eq!(p.cursor(), Some((1, 5)));
    p.feed(b"\x1b[?25l");
    assert_eq!(p.cursor(), None);
}

#[test]
fn colours_16_256_truecolor() {
    let mut p = pane(3, 20);
    p.feed(b"\x1b[31mR\x1b[0m\x1b[38;5;208mO\x1b[0m\x1b[38;2;1;2;3;48;2;4;5;6mT\x1b[0m\x1b[1;4;7mB\x1b[0m\x1b[92mG");
    assert_eq!(p.cell_style(0, 0).1.fg, Some(Color::Red));
    assert_eq!(p.cell_style(0, 1).1.fg, Some(Color::Indexed(208)));
    let t = p.cell_style(0, 2).1;
    assert_eq!(t.fg, Some(Color::Rgb(1, 2, 3)));
    assert_eq!(t.bg, Some(Color::Rgb(4, 5, 6)));
    let b = p.cell_style(0, 3).1;
    assert!(b.add_modifier.contains(Modifier::BOLD));
    assert!(b.add_modifier.contains(Modifier::UNDERLINED));
    assert!(b.add_modifier.contains(Modifier::REVERSED));
    assert_eq!(p.cell_style(0, 4).1.fg, Some(Color::LightGreen));
}

#[test]
fn alternate_screen_restores_primary() {
    let mut p = pane(4, 20);
    p.feed(b"primary");
    p.feed(b"\x1b[?1049h\x1b[H\x1b[2Jfull screen app");
    assert!(p.alt_screen());
    assert_eq!(p.row_text(0), "full screen app");
    p.feed(b"\x1b[?1049l");
    assert!(!p.alt_screen());
    assert_eq!(p.row_text(0), "primary");
}

#[test]
fn wide_characters_take_two_cells() {
    let mut p = pane(2, 10);
    p.feed("中文x🙂".as_bytes());
    assert_eq!(p.row_text(0), "中文x🙂");
    assert_eq!(p.cursor(), Some((0, 7)));
    let mut buf = Buffer::empty(Rect::new(0, 0, 10, 2));
    p.render(Rect::new(0, 0, 10, 2), &mut buf, false);
    assert_eq!(buf[(0, 0)].symbol(), "中");
    assert_eq!(buf[(2, 0)].symbol(), "文");
    assert_eq!(buf[(4, 0)].symbol(), "x");
    assert_eq!(buf[(5, 0)].symbol(), "🙂");
}

#[test]
fn scrolling_region() {
    let mut p = pane(5, 10);
    p.feed(b"top\r\n1\r\n2\r\n3\r\nbottom");
    // Region rows 2..4 (1-based), scroll it up once from its bottom line.
    p.feed(b"\x1b[2;4r\x1b[4;1H\n");
    assert_eq!(p.row_text(0), "top");
    assert_eq!(p.row_text(1), "2");
    assert_eq!(p.row_text(2), "3");
    assert_eq!(p.row_text(3), "");
    assert_eq!(p.row_text(4), "bottom");
}

#[test]
fn answers_terminal_queries() {
    let mut p = pane(10, 40);
    p.feed(b"\x1b[3;7H");
    assert_eq!(p.feed(b"\x1b[6n"), b"\x1b[3;7R");
    assert_eq!(p.feed(b"\x1b[c"), b"\x1b[?6c");
    // DECRQM for bracketed paste (off then on).
    assert_eq!(p.feed(b"\x1b[?2004$p"), b"\x1b[?2004;2$y");
    p.feed(b"\x1b[?2004h");
    assert!(p.bracketed_paste());
    assert_eq!(p.feed(b"\x1b[?2004$p"), b"\x1b[?2004;1$y");
    // Background colour query gets an answer.
    let r = p.feed(b"\x1b]11;?\x07");
    assert!(
        r.starts_with(b"\x1b]11;rgb:"),
        "{:?}",
        String::from_utf8_lossy(&r)
    );
}

#[test]
fn titles_clipboard_and_dcs_stay_inside() {
    let mut p = pane(3, 30);
    let r = p.feed(b"\x1b]0;evil title\x07\x1b]2;t2\x1b\\\x1b]52;c;aGVsbG8=\x07\x1b]8;;http://x\x07link\x1b]8;;\x07\x1bP1$qm\x1b\\ok");
    assert!(r.is_empty(), "no reply expected: {r:?}");
    assert_eq!(p.row_text(0), "linkok");
    // Clipboard read request: nothing comes back either.
    assert!(p.feed(b"\x1b]52;c;?\x07").is_empty());
}

#[test]
fn rendered_cells_never_hold_control_characters() {
    let mut p = pane(2, 10);
    p.feed("a\u{9b}2Jb".as_bytes());
    let mut buf = Buffer::empty(Rect::new(0, 0, 10, 2));
    p.render(Rect::new(0, 0, 10, 2), &mut buf, false);
    for x in 0..10 {
        assert!(!buf[(x, 0)].symbol().chars().any(|c| c.is_control()));
    }
}

#[test]
fn scrollback_is_capped_and_scrollable() {
    let mut p = Pane::new(3, 10, 50);
    for i in 0..200 {
        p.feed(format!("{i}\r\n").as_bytes());
    }
    assert_eq!(p.history(), 50);
    p.scroll(10);
    assert_eq!(p.scroll_offset(), 10);
    // New output does not move a scrolled-back view.
    let before = p.row_text(0);
    p.feed(b"more\r\n");
    assert_eq!(p.row_text(0), before);
    p.scroll_to_bottom();
    assert_eq!(p.scroll_offset(), 0);
}

#[test]
fn resize_changes_grid() {
    let mut p = pane(3, 10);
    p.resize(5, 20);
    assert_eq!(p.size(), Size { rows: 5, cols: 20 });
    assert_eq!(p.feed(b"\x1b[18t"), b"\x1b[8;5;20t");
}

#[test]
fn app_cursor_mode_is_tracked() {
    let mut p = pane(3, 10);
    assert!(!p.app_cursor());
    p.feed(b"\x1b[?1h");
    assert!(p.app_cursor());
}

#[test]
fn synchronized_output_is_held_until_end() {
    let mut p = pane(3, 20);
    p.feed(b"\x1b[?2026hpartial");
    assert_eq!(p.row_text(0), "");
    p.feed(b"\x1b[?2026l");
    assert_eq!(p.row_text(0), "partial");
    p.feed(b"\x1b[?2026hmore");
    assert!(p.sync_deadline().is_some());
    assert!(p.expire_sync(Instant::now() + std::time::Duration::from_secs(1)));
    assert_eq!(p.row_text(0), "partialmore");
}
