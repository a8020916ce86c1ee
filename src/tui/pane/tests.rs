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

/// A flood fed in chunks, deferred and skimmed, ends exactly as every byte fed one
/// by one through the plain path: screen, cells' colours, cursor, modes, scrollback,
/// scroll position and replies.
mod skimming {
    use super::*;
    use proptest::prelude::*;

    /// Neither `CSI 2 J`, `CSI 3 J` nor wide characters: a row moved to the compact
    /// scrollback is frozen, while the emulator would still clear it (`CSI 3 J`),
    /// drop the spacer at its end (overwriting a wide character that wrapped from
    /// it), or scroll one more blank row when its own history is empty (`CSI 2 J`),
    /// so those depend on how output is cut into chunks, skimmed or not.
    fn token() -> impl Strategy<Value = Vec<u8>> {
        let fixed: Vec<&'static [u8]> = vec![
            b"\r\n",
            b"\n",
            b"\r",
            b"\t",
            b"\x08",
            b"\x07",
            b"\x1b[0m",
            b"\x1b[m",
            b"\x1b[1;31m",
            b"\x1b[42m",
            b"\x1b[38;5;208m",
            b"\x1b[7m",
            b"\x1b[39;49m",
            b"\x1b[?1049h",
            b"\x1b[?1049l",
            b"\x1b[H",
            b"\x1b[2;3H",
            b"\x1b[A",
            b"\x1b[2B",
            b"\x1b[3C",
            b"\x1b[K",
            b"\x1b]0;title\x07",
            b"\x1b]2;other\x1b\\",
            b"\x1b7",
            b"\x1b8",
            b"\x1b[3b",
            b"\x1b[?25l",
            b"\x1b[?25h",
            b"\x1b[?1h",
            b"\x1b[?2004h",
            b"\x1b(0",
            b"\x1b(B",
            b"\x0e",
            b"\x0f",
            b"\x1b[c",
            b"\x1b[2;3r",
            b"\x1b[r",
            b"\x1bM",
            b"\x1bD",
            b"\x1b]8;;http://x\x07",
            b"\x1b]8;;\x07",
            b"\x1b]4;1;rgb:10/20/30\x07",
            b"\x1b[4h",
            b"\x1b[4l",
            "é".as_bytes(),
            b"\x1b[",
        ];
        prop_oneof![
            4 => "[a-z ]{0,12}".prop_map(String::into_bytes),
            3 => prop::sample::select(fixed).prop_map(<[u8]>::to_vec),
            2 => (0usize..160, prop::bool::ANY).prop_map(|(n, colour)| {
                let mut out = Vec::new();
                for i in 0..n {
                    if colour {
                        out.extend_from_slice(
                            format!("\x1b[2m{i}\x1b[0m \x1b[1;31mERR\x1b[0m line {i}\r\n").as_bytes(),
                        );
                    } else {
                        out.extend_from_slice(format!("line {i} of a flood\r\n").as_bytes());
                    }
                }
                out
            }),
        ]
    }

    /// Everything that can be seen of a pane.
    fn seen(p: &Pane) -> String {
        let size = p.size();
        let mut out = format!(
            "mode {:?} alt {} cursor {:?} history {} offset {}\n",
            p.mode(),
            p.alt_screen(),
            p.cursor(),
            p.history(),
            p.scroll_offset()
        );
        for i in 0..p.history() {
            out += &format!("stored {:?}\n", p.stored_row(i));
        }
        for r in 0..size.rows {
            for c in 0..size.cols {
                out += &format!("{:?}", p.cell_style(r, c));
            }
            out.push('\n');
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn skimmed_floods_end_as_plain_ones(
            tokens in prop::collection::vec(token(), 1..40),
            rows in 2u16..7,
            cols in 4u16..24,
            limit in 0usize..24,
            cuts in prop::collection::vec((1usize..3000, 0u8..8), 1..64),
            scrolled in prop::bool::ANY,
        ) {
            let bytes: Vec<u8> = tokens.concat();
            let mut plain = Pane::new(rows, cols, limit);
            let mut fast = Pane::new(rows, cols, limit);
            if scrolled {
                for p in [&mut plain, &mut fast] {
                    p.feed(b"a\r\nb\r\nc\r\nd\r\ne\r\nf\r\n");
                    p.scroll(1);
                }
            }
            let mut plain_replies = Vec::new();
            for b in &bytes {
                plain_replies.extend(plain.feed(std::slice::from_ref(b)));
            }
            let mut fast_replies = Vec::new();
            let mut rest = &bytes[..];
            for (len, how) in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (chunk, more) = rest.split_at((*len).min(rest.len()));
                rest = more;
                // Mostly a burst, shown on a client or not; now and then the burst ends.
                if *how == 0 {
                    fast_replies.extend(fast.feed(chunk));
                } else {
                    fast_replies.extend(fast.defer(chunk, how % 2 == 1).unwrap_or_default());
                }
            }
            fast_replies.extend(fast.feed(&[]));
            prop_assert_eq!(seen(&fast), seen(&plain));
            prop_assert_eq!(fast_replies, plain_replies);
        }
    }

    #[test]
    fn typing_into_a_live_flooding_pane_leaves_its_backlog_waiting() {
        let mut p = Pane::new(5, 40, 30);
        assert!(p.defer(b"one\r\ntwo\r\n", false).is_none());
        p.scroll_to_bottom();
        assert_eq!(p.row_text(0), "");
        // Scrolled back, it catches up on its way to live.
        p.feed(b"three\r\n".repeat(10).as_slice());
        p.scroll(2);
        assert!(p.defer(b"four\r\n", false).is_none());
        p.scroll_to_bottom();
        assert_eq!(p.scroll_offset(), 0);
        assert_eq!(p.row_text(3), "four");
    }

    #[test]
    fn a_long_flood_is_skimmed_and_ends_the_same() {
        let mut plain = Pane::new(5, 40, 30);
        let mut fast = Pane::new(5, 40, 30);
        let flood: Vec<u8> = (0..5000)
            .flat_map(|i| format!("\x1b[2m{i}\x1b[0m \x1b[31mlog\x1b[0m {i}\r\n").into_bytes())
            .collect();
        for line in flood.split_inclusive(|b| *b == b'\n') {
            plain.feed(line);
        }
        for chunk in flood.chunks(4096) {
            let _ = fast.defer(chunk, false);
        }
        // Most of it was skimmed, never emulated.
        assert!(fast.backlog.skimmed_total > flood.len() / 2);
        fast.feed(&[]);
        assert_eq!(seen(&fast), seen(&plain));
        assert_eq!(fast.row_text(3), "4999 log 4999");
    }
}

#[test]
fn a_taller_pane_takes_its_newest_stored_rows_back() {
    let out = "one\r\n\x1b[31mtwo \x1b[44m中\x1b[0m\r\nthree\r\nfour\r\nfive".as_bytes();
    let mut grown = pane(3, 20);
    grown.feed(out);
    assert_eq!(grown.history(), 2);
    grown.resize(5, 20);
    // As if it had been 5 rows tall all along: rows, colours, cursor.
    let mut tall = pane(5, 20);
    tall.feed(out);
    assert_eq!(grown.history(), 0);
    for r in 0..5 {
        assert_eq!(grown.row_text(r), tall.row_text(r), "row {r}");
        for c in 0..20 {
            assert_eq!(
                grown.cell_style(r, c),
                tall.cell_style(r, c),
                "cell {r},{c}"
            );
        }
    }
    assert_eq!(grown.cursor(), tall.cursor());
    grown.feed(b"!\r\nsix");
    assert_eq!(grown.row_text(3), "five!");
    // Taller than all it has: the rest stays blank below; shorter again stores them.
    grown.resize(9, 20);
    assert_eq!(grown.row_text(0), "one");
    assert_eq!(grown.row_text(5), "six");
    assert_eq!(grown.row_text(6), "");
    grown.resize(3, 20);
    assert_eq!(grown.history(), 3);
    assert_eq!(grown.row_text(0), "four");
}
