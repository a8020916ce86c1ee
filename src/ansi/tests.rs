use super::*;

fn feed_all(a: &mut LineAssembler, chunks: &[&[u8]]) -> Vec<String> {
    let mut out = Vec::new();
    for c in chunks {
        a.feed(c);
        out.extend(a.lines().map(str::to_string));
    }
    out
}

#[test]
fn plain_lines_and_partial() {
    let mut a = LineAssembler::new();
    let lines = feed_all(&mut a, &[b"one\ntwo\r\nthr", b"ee\nfour"]);
    assert_eq!(lines, ["one", "two", "three"]);
    assert_eq!(a.partial(), "four");
    assert_eq!(a.take_partial().as_deref(), Some("four"));
    assert_eq!(a.partial(), "");
    assert_eq!(a.take_partial(), None);
}

#[test]
fn csi_removed_even_when_split_byte_by_byte() {
    let input = b"\x1b[1;31mred\x1b[0m plain\x1b[38;2;1;2;3mX\x1b[K\n";
    let mut a = LineAssembler::new();
    let chunks: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(feed_all(&mut a, &chunks), ["red plainX"]);
}

#[test]
fn osc_with_bel_and_st_and_no_bell_reported() {
    let mut a = LineAssembler::new();
    a.feed(b"\x1b]0;title\x07a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b\n");
    assert_eq!(a.lines().collect::<Vec<_>>(), ["alinkb"]);
    assert_eq!(a.bells(), 0, "an OSC terminated by BEL is not a bell");
    // Split inside the OSC and right before its BEL terminator.
    let mut a = LineAssembler::new();
    let lines = feed_all(&mut a, &[b"x\x1b]2;ti", b"tle", b"\x07y\n"]);
    assert_eq!(lines, ["xy"]);
    assert_eq!(a.bells(), 0);
}

#[test]
fn bell_outside_sequences() {
    let mut a = LineAssembler::new();
    a.feed(b"ding\x07dong\n");
    assert_eq!(a.bells(), 1);
    assert_eq!(a.lines().collect::<Vec<_>>(), ["dingdong"]);
    let mut q = LineAssembler::without_lines();
    q.feed(b"\x1b[31m\x07");
    assert_eq!(q.bells(), 1);
    assert_eq!(q.line_count(), 0);
}

#[test]
fn dcs_and_apc_removed() {
    let mut a = LineAssembler::new();
    a.feed(b"a\x1bP1$r0m\x1b\\b\x1b_apc payload\x1b\\c\x1bNd\n");
    assert_eq!(a.lines().collect::<Vec<_>>(), ["abcd"]);
}

#[test]
fn carriage_return_restarts_line() {
    let mut a = LineAssembler::new();
    let lines = feed_all(&mut a, &[b" 10%\r 50%\r", b"100%\r\ndone\n"]);
    assert_eq!(lines, ["100%", "done"]);
    a.feed(b"50%\r");
    assert_eq!(a.partial(), "50%");
    a.feed(b"60%");
    assert_eq!(a.partial(), "60%");
}

#[test]
fn control_characters_dropped_tabs_kept_backspace_erases() {
    let mut a = LineAssembler::new();
    a.feed(b"a\tb\x00\x01c\x7fd\x08e\x0e\n");
    assert_eq!(a.lines().collect::<Vec<_>>(), ["a\tbce"]);
}

#[test]
fn long_line_is_capped() {
    let mut a = LineAssembler::with_cap(10);
    let lines = feed_all(&mut a, &[b"0123456789abcdefghijXYZ"]);
    assert_eq!(lines, ["0123456789", "abcdefghij"]);
    assert_eq!(a.partial(), "XYZ");
    // A 3 MB line with the default cap never holds more than 64 KiB.
    let mut a = LineAssembler::new();
    let big = vec![b'x'; 3_000_000];
    let mut n = 0;
    for c in big.chunks(70_000) {
        a.feed(c);
        for l in a.lines() {
            assert_eq!(l.len(), DEFAULT_LINE_CAP);
            n += l.len();
        }
        assert!(a.partial().len() < DEFAULT_LINE_CAP);
    }
    assert_eq!(n + a.partial().len(), 3_000_000);
}

#[test]
fn invalid_and_split_utf8() {
    let mut a = LineAssembler::new();
    let lines = feed_all(&mut a, &[b"caf\xc3", b"\xa9 \xff\xfe ok\n"]);
    assert_eq!(lines, ["café \u{fffd}\u{fffd} ok"]);
    // A 4-byte character split over three chunks, then a cut one that never completes.
    let lines = feed_all(&mut a, &[b"a\xf0\x9f", b"\x98", b"\x80b\xe2\x82", b"c\n"]);
    assert_eq!(lines, ["a\u{1f600}b\u{fffd}c"]);
}

#[test]
fn bracketed_paste_mode_and_queries() {
    let mut a = LineAssembler::without_lines();
    a.feed(b"\x1b[?1049;2004h");
    assert_eq!(a.bracketed_paste(), Some(true));
    a.feed(b"plain");
    assert_eq!(a.bracketed_paste(), None);
    a.feed(b"\x1b[?20");
    a.feed(b"04l");
    assert_eq!(a.bracketed_paste(), Some(false));
    a.feed(b"\x1b[6n\x1b[c\x1b[0c\x1b[>c\x1b[5n");
    assert_eq!(
        a.queries(),
        [
            Query::CursorPosition,
            Query::PrimaryDeviceAttributes,
            Query::PrimaryDeviceAttributes
        ]
    );
}

#[test]
fn without_lines_skips_text_but_not_split_sequences() {
    let mut a = LineAssembler::without_lines();
    a.feed(b"text \x1b[?20");
    assert_eq!(a.bracketed_paste(), None);
    a.feed(b"04h more text");
    assert_eq!(a.bracketed_paste(), Some(true));
    // An OSC split over chunks: its BEL terminator is no bell.
    a.feed(b"x\x1b]0;ti");
    a.feed(b"tle continues");
    a.feed(b"\x07");
    assert_eq!(a.bells(), 0);
    a.feed(b"plain\x07");
    assert_eq!(a.bells(), 1);
    // A DCS string with a BEL inside it.
    a.feed(b"\x1bPq");
    a.feed(b"#0\x07;");
    a.feed(b"\x1b\\after\x07");
    assert_eq!(a.bells(), 1);
    // Same results as with lines, over a mixed stream cut everywhere.
    let stream = b"\x1b[1;31ma\x1b[0m\x07b\x1b]2;t\x07c\x1b[2K\x1b[?2004hd\x1bP1$r\x07\x1b\\e\x1b[6n\x07\x1b[38:5:1m";
    for cut in 1..stream.len() {
        let (x, y) = stream.split_at(cut);
        let mut fast = LineAssembler::without_lines();
        let mut full = LineAssembler::new();
        let mut got = (0, None, 0);
        let mut want = (0, None, 0);
        for part in [x, y] {
            fast.feed(part);
            full.feed(part);
            got.0 += fast.bells();
            got.1 = fast.bracketed_paste().or(got.1);
            got.2 += fast.queries().len();
            want.0 += full.bells();
            want.1 = full.bracketed_paste().or(want.1);
            want.2 += full.queries().len();
        }
        assert_eq!(got, want, "cut at {cut}");
        assert_eq!(want, (2, Some(true), 1), "cut at {cut}");
    }
}

#[test]
fn cursor_forward_becomes_spaces() {
    let mut a = LineAssembler::new();
    a.feed(b"a\x1b[3Cb\x1b[Cc\n");
    assert_eq!(a.lines().collect::<Vec<_>>(), ["a   b c"]);
}

#[test]
fn unterminated_osc_does_not_swallow_forever() {
    let mut a = LineAssembler::new();
    a.feed(b"\x1b]0;");
    let junk = vec![b'j'; (STUCK_LIMIT / PIECE + 1) * PIECE];
    a.feed(&junk);
    a.feed(b"after\n");
    assert_eq!(a.lines().collect::<Vec<_>>(), ["after"]);
}

mod shortcuts {
    use super::*;
    use proptest::prelude::*;

    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let tokens: Vec<&'static [u8]> = vec![
            b"text ",
            b"\r\n",
            b"\n",
            b"\r",
            b"\t",
            b"\x08",
            b"\x07",
            b"\x1b[0m",
            b"\x1b[1;31m",
            b"\x1b[38:5:1m",
            b"\x1b[3C",
            b"\x1b[6n",
            b"\x1b[c",
            b"\x1b[?2004h",
            b"\x1b[?2004l",
            b"\x1b]0;title\x07",
            b"\x1b]9;note\x1b\\",
            b"\x1bP1$r\x07\x1b\\",
            b"\x1b(B",
            "é中".as_bytes(),
            b"\xff",
            b"\x7f",
            b"\x1b[",
            b"\x1b",
            b"\x18",
            b"\x0b",
            b"0123456789",
        ];
        prop::collection::vec(prop::sample::select(tokens), 0..60).prop_map(|t| t.concat())
    }

    type Seen = (
        Vec<String>,
        String,
        usize,
        Vec<Option<bool>>,
        Vec<Query>,
        Vec<Osc>,
    );

    fn run(mut a: LineAssembler, bytes: &[u8], cuts: &[usize]) -> Seen {
        let mut seen: Seen = Default::default();
        let mut rest = bytes;
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, more) = rest.split_at((*cut).min(rest.len()));
            rest = more;
            a.feed(chunk);
            seen.0.extend(a.lines().map(str::to_string));
            seen.2 += a.bells();
            seen.3.push(a.bracketed_paste());
            seen.4.extend_from_slice(a.queries());
            seen.5.extend_from_slice(a.oscs());
        }
        seen.1 = a.partial().to_string();
        if !a.c.lines_enabled {
            seen.0.clear();
            seen.1.clear();
        }
        seen
    }

    proptest! {
        #[test]
        fn skipping_the_parser_changes_nothing(
            bytes in stream(),
            cuts in prop::collection::vec(1usize..40, 1..8),
            cap in 3usize..30,
        ) {
            for lines in [true, false] {
                let make = |shortcuts| {
                    let mut a = LineAssembler::with_cap(cap);
                    a.c.lines_enabled = lines;
                    a.shortcuts = shortcuts;
                    a
                };
                prop_assert_eq!(run(make(true), &bytes, &cuts), run(make(false), &bytes, &cuts));
            }
        }
    }
}
