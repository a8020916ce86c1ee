//! A pane's colours in ratatui's terms: the session's own palette changes (OSC 4/10/11)
//! first, then the 16 named colours; and the colours reported to a query the session
//! did not set itself.

use alacritty_terminal::term::cell::Flags;
use alacritty_terminal::term::color::Colors;
use alacritty_terminal::vte::ansi::{Color as AColor, NamedColor, Rgb};
use ratatui::style::{Color, Modifier, Style};

/// A cell colour as drawn.
pub fn color(colors: &Colors, c: AColor) -> Color {
    match c {
        AColor::Spec(rgb) => Color::Rgb(rgb.r, rgb.g, rgb.b),
        AColor::Indexed(i) => match colors[i as usize] {
            Some(rgb) => Color::Rgb(rgb.r, rgb.g, rgb.b),
            None => Color::Indexed(i),
        },
        AColor::Named(n) => {
            if let Some(rgb) = colors[n] {
                return Color::Rgb(rgb.r, rgb.g, rgb.b);
            }
            named(n)
        }
    }
}

/// The style a cell with these colours and flags is drawn with.
pub fn style_of(colors: &Colors, fg: AColor, bg: AColor, flags: Flags) -> Style {
    let mut fg = color(colors, fg);
    let mut bg = color(colors, bg);
    let mut m = Modifier::empty();
    if flags.contains(Flags::INVERSE) {
        // Resolve inverse here: Reset swapped with Reset would look unchanged.
        if fg == Color::Reset && bg == Color::Reset {
            m |= Modifier::REVERSED;
        } else {
            std::mem::swap(&mut fg, &mut bg);
            if fg == Color::Reset {
                fg = Color::Black;
            }
            if bg == Color::Reset {
                bg = Color::White;
            }
        }
    }
    if flags.contains(Flags::BOLD) {
        m |= Modifier::BOLD;
    }
    if flags.contains(Flags::DIM) {
        m |= Modifier::DIM;
    }
    if flags.contains(Flags::ITALIC) {
        m |= Modifier::ITALIC;
    }
    if flags.intersects(Flags::ALL_UNDERLINES) {
        m |= Modifier::UNDERLINED;
    }
    if flags.contains(Flags::STRIKEOUT) {
        m |= Modifier::CROSSED_OUT;
    }
    if flags.contains(Flags::HIDDEN) {
        m |= Modifier::HIDDEN;
    }
    Style::default().fg(fg).bg(bg).add_modifier(m)
}

fn named(n: NamedColor) -> Color {
    use NamedColor as N;
    match n {
        N::Black | N::DimBlack => Color::Black,
        N::Red | N::DimRed => Color::Red,
        N::Green | N::DimGreen => Color::Green,
        N::Yellow | N::DimYellow => Color::Yellow,
        N::Blue | N::DimBlue => Color::Blue,
        N::Magenta | N::DimMagenta => Color::Magenta,
        N::Cyan | N::DimCyan => Color::Cyan,
        N::White | N::DimWhite => Color::Gray,
        N::BrightBlack => Color::DarkGray,
        N::BrightRed => Color::LightRed,
        N::BrightGreen => Color::LightGreen,
        N::BrightYellow => Color::LightYellow,
        N::BrightBlue => Color::LightBlue,
        N::BrightMagenta => Color::LightMagenta,
        N::BrightCyan => Color::LightCyan,
        N::BrightWhite => Color::White,
        N::Foreground | N::Background | N::Cursor | N::BrightForeground | N::DimForeground => {
            Color::Reset
        }
    }
}

/// The colour reported for an OSC 4/10/11/12 query the session did not set itself.
pub fn default_rgb(index: usize) -> Rgb {
    const BASE: [(u8, u8, u8); 16] = [
        (0x00, 0x00, 0x00),
        (0xcd, 0x00, 0x00),
        (0x00, 0xcd, 0x00),
        (0xcd, 0xcd, 0x00),
        (0x00, 0x00, 0xee),
        (0xcd, 0x00, 0xcd),
        (0x00, 0xcd, 0xcd),
        (0xe5, 0xe5, 0xe5),
        (0x7f, 0x7f, 0x7f),
        (0xff, 0x00, 0x00),
        (0x00, 0xff, 0x00),
        (0xff, 0xff, 0x00),
        (0x5c, 0x5c, 0xff),
        (0xff, 0x00, 0xff),
        (0x00, 0xff, 0xff),
        (0xff, 0xff, 0xff),
    ];
    let (r, g, b) = match index {
        0..=15 => BASE[index],
        16..=231 => {
            let i = index - 16;
            let v = |x: usize| if x == 0 { 0 } else { (x * 40 + 55) as u8 };
            (v(i / 36), v((i / 6) % 6), v(i % 6))
        }
        232..=255 => {
            let g = (8 + (index - 232) * 10) as u8;
            (g, g, g)
        }
        257 => (0x00, 0x00, 0x00), // background
        _ => (0xe5, 0xe5, 0xe5),   // foreground, cursor, others
    };
    Rgb { r, g, b }
}
