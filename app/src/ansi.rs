//! The escape sequences programs write into their log lines (ECMA-48), read as a terminal would:
//! the colours and emphasis of SGR (`ESC [ … m`: the 16 colours, foreground and background,
//! bold, faint, italic, underline, reset) become a [`Style`] per run of text, shown with classes
//! of the stylesheet (`ansi-*`); everything else an escape sequence holds (cursor moves, titles,
//! hyperlinks, device queries, control strings) and every other control character is dropped, so
//! that nothing of a sequence reaches the page as text.
//!
//! The reading follows ECMA-48's grammar (and the DEC parser terminals share): a CSI is its
//! parameter bytes (0x30–0x3F), intermediate bytes (0x20–0x2F) and one final byte (0x40–0x7E);
//! OSC, DCS, SOS, PM and APC are control strings that end at ST (`ESC \`, or U+009C) or, for
//! OSC as xterm has it, BEL; any other escape sequence is `ESC`, intermediates, one final byte.
//! C1 controls written as characters (U+0080–U+009F) are read as their 7-bit forms. A sequence
//! broken by a byte it may not hold ends there, and that byte is read afresh; one cut by the end
//! of the line is dropped.

/// The colours and emphasis of a run of text. Colours are 0–7 (black, red, green, yellow,
/// blue, magenta, cyan, white) and 8–15 (their bright forms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub fg: Option<u8>,
    pub bg: Option<u8>,
    pub bold: bool,
    pub faint: bool,
    pub italic: bool,
    pub underline: bool,
}

impl Style {
    /// The stylesheet's classes for this style (`ansi-fg-1 ansi-bold`), empty for none.
    pub fn classes(&self) -> String {
        let mut c = Vec::new();
        if let Some(fg) = self.fg {
            c.push(format!("ansi-fg-{fg}"));
        }
        if let Some(bg) = self.bg {
            c.push(format!("ansi-bg-{bg}"));
        }
        for (on, name) in [
            (self.bold, "ansi-bold"),
            (self.faint, "ansi-faint"),
            (self.italic, "ansi-italic"),
            (self.underline, "ansi-underline"),
        ] {
            if on {
                c.push(name.to_string());
            }
        }
        c.join(" ")
    }

    pub fn is_plain(&self) -> bool {
        *self == Style::default()
    }
}

/// A run of text in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub style: Style,
    pub text: String,
}

const ESC: char = '\u{1b}';
const BEL: char = '\u{07}';
/// C1 controls as characters.
const CSI_8: char = '\u{9b}';
const ST_8: char = '\u{9c}';
const OSC_8: char = '\u{9d}';
const DCS_8: char = '\u{90}';
const SOS_8: char = '\u{98}';
const PM_8: char = '\u{9e}';
const APC_8: char = '\u{9f}';

/// The text of `line` in runs of one style, without escape sequences or control characters
/// (a tab stays: the log shows it).
pub fn parse(line: &str) -> Vec<Span> {
    let mut out = Out::default();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => match chars.peek().copied() {
                Some('[') => {
                    chars.next();
                    csi(&mut chars, &mut out.style);
                }
                Some(c @ (']' | 'P' | 'X' | '^' | '_')) => {
                    chars.next();
                    control_string(&mut chars, c == 'X');
                }
                // nF: intermediates, then a final byte.
                Some('\u{20}'..='\u{2f}') => {
                    while chars
                        .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                        .is_some()
                    {}
                    chars.next_if(|c| ('\u{30}'..='\u{7e}').contains(c));
                }
                // Fp, Fe, Fs: one final byte.
                Some('\u{30}'..='\u{7e}') => {
                    chars.next();
                }
                // A lone ESC, or one before a character no sequence starts with.
                _ => {}
            },
            CSI_8 => csi(&mut chars, &mut out.style),
            OSC_8 | DCS_8 | PM_8 | APC_8 => control_string(&mut chars, false),
            SOS_8 => control_string(&mut chars, true),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.spans
}

/// The runs made so far, and the style the next text takes.
#[derive(Default)]
struct Out {
    spans: Vec<Span>,
    style: Style,
}

impl Out {
    fn push(&mut self, c: char) {
        match self.spans.last_mut() {
            Some(last) if last.style == self.style => last.text.push(c),
            _ => self.spans.push(Span {
                style: self.style,
                text: c.to_string(),
            }),
        }
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// The rest of a CSI after its introducer: applied to `style` if it is an SGR, else dropped.
fn csi(chars: &mut Chars, style: &mut Style) {
    let mut params = String::new();
    let mut intermediates = false;
    loop {
        // Ends with the line: an unfinished sequence is dropped.
        let Some(&c) = chars.peek() else { return };
        match c {
            '\u{30}'..='\u{3f}' if !intermediates => params.push(c),
            '\u{20}'..='\u{2f}' => intermediates = true,
            '\u{40}'..='\u{7e}' => {
                chars.next();
                if c == 'm' && !intermediates {
                    sgr(&params, style);
                }
                return;
            }
            // Not a byte a CSI may hold here: the sequence ends, and it is read afresh.
            _ => return,
        }
        chars.next();
    }
}

/// The rest of a control string (OSC, DCS, PM, APC; SOS with `sos`): dropped, up to and with
/// its terminator, ST or BEL. A command string (all but SOS) may hold no ESC but ST's: another
/// sequence ends it, and is read afresh. A character string (SOS) may hold anything but SOS and
/// ST, escape sequences included.
fn control_string(chars: &mut Chars, sos: bool) {
    while let Some(&c) = chars.peek() {
        match c {
            BEL | ST_8 => {
                chars.next();
                return;
            }
            SOS_8 if sos => return,
            ESC => {
                let mut ahead = chars.clone();
                ahead.next();
                match ahead.peek() {
                    Some('\\') => {
                        chars.next();
                        chars.next();
                        return;
                    }
                    Some('X') => return,
                    _ if !sos => return,
                    _ => {
                        chars.next();
                    }
                }
            }
            _ => {
                chars.next();
            }
        }
    }
}

/// Applies an SGR's parameters (`1;31`, `38;5;9`, `4:3`, empty for a reset).
fn sgr(params: &str, style: &mut Style) {
    // Private parameters (`<`, `=`, `>`, `?` first) are no SGR.
    if params.starts_with(['<', '=', '>', '?']) {
        return;
    }
    let groups: Vec<&str> = params.split(';').collect();
    let mut i = 0;
    while i < groups.len() {
        let sub: Vec<u32> = groups[i].split(':').map(number).collect();
        match sub[0] {
            0 => *style = Style::default(),
            1 => style.bold = true,
            2 => style.faint = true,
            3 => style.italic = true,
            // `4:0` is "no underline"; `4:n` other kinds of underline.
            4 => style.underline = sub.get(1) != Some(&0),
            22 => {
                style.bold = false;
                style.faint = false;
            }
            23 => style.italic = false,
            24 => style.underline = false,
            n @ 30..=37 => style.fg = Some((n - 30) as u8),
            39 => style.fg = None,
            n @ 40..=47 => style.bg = Some((n - 40) as u8),
            49 => style.bg = None,
            n @ 90..=97 => style.fg = Some((n - 90 + 8) as u8),
            n @ 100..=107 => style.bg = Some((n - 100 + 8) as u8),
            n @ (38 | 48 | 58) => {
                // An extended colour, `38:5:n` or `38;5;n` (256 colours), `38:2::r:g:b` or
                // `38;2;r;g;b` (direct): only the 16 colours among them are shown.
                let (colour, used) = if sub.len() > 1 {
                    (extended(&sub[1..]), 0)
                } else {
                    let rest: Vec<u32> = groups[i + 1..].iter().map(|g| number(g)).collect();
                    let used = match rest.first() {
                        Some(5) => 2,
                        Some(2) => 4,
                        _ => 0,
                    };
                    (extended(&rest), used)
                };
                i += used;
                match n {
                    38 => style.fg = colour,
                    48 => style.bg = colour,
                    _ => {}
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// An extended colour's index when it is one of the 16 (`5;n` with n below 16).
fn extended(spec: &[u32]) -> Option<u8> {
    match spec {
        [5, n, ..] if *n < 16 => Some(*n as u8),
        _ => None,
    }
}

/// A parameter's value: empty is 0, and a value too large for any use stays large.
fn number(s: &str) -> u32 {
    s.bytes().filter(u8::is_ascii_digit).fold(0u32, |n, d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    })
}

/// The text of `line` without any escape sequence or control character.
pub fn plain(line: &str) -> String {
    parse(line).into_iter().map(|s| s.text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styled(fg: Option<u8>, bold: bool) -> Style {
        Style {
            fg,
            bold,
            ..Style::default()
        }
    }

    fn runs(line: &str) -> Vec<(String, String)> {
        parse(line)
            .into_iter()
            .map(|s| (s.style.classes(), s.text))
            .collect()
    }

    #[test]
    fn plain_text_is_one_plain_run() {
        assert_eq!(runs("hello world"), [(String::new(), "hello world".into())]);
        assert!(parse("").is_empty());
    }

    #[test]
    fn the_sixteen_colours_bold_and_reset() {
        let spans = parse("\x1b[31mred\x1b[0m plain \x1b[1;92mbright green\x1b[m.");
        assert_eq!(
            spans,
            [
                Span {
                    style: styled(Some(1), false),
                    text: "red".into()
                },
                Span {
                    style: Style::default(),
                    text: " plain ".into()
                },
                Span {
                    style: styled(Some(10), true),
                    text: "bright green".into()
                },
                Span {
                    style: Style::default(),
                    text: ".".into()
                },
            ]
        );
        for n in 0..8u8 {
            let fg = parse(&format!("\x1b[{}mx", 30 + n));
            assert_eq!(fg[0].style.fg, Some(n));
            let bright = parse(&format!("\x1b[{}mx", 90 + n));
            assert_eq!(bright[0].style.fg, Some(n + 8));
            let bg = parse(&format!("\x1b[{}mx", 40 + n));
            assert_eq!(bg[0].style.bg, Some(n));
            let bright_bg = parse(&format!("\x1b[{}mx", 100 + n));
            assert_eq!(bright_bg[0].style.bg, Some(n + 8));
        }
        assert_eq!(
            runs("\x1b[1;4;3;2;33;44mx\x1b[22;23;24;39;49my"),
            [
                (
                    "ansi-fg-3 ansi-bg-4 ansi-bold ansi-faint ansi-italic ansi-underline".into(),
                    "x".into()
                ),
                (String::new(), "y".into())
            ]
        );
    }

    #[test]
    fn extended_colours_keep_the_sixteen_and_consume_their_parameters() {
        assert_eq!(runs("\x1b[38;5;9mx")[0].0, "ansi-fg-9");
        assert_eq!(runs("\x1b[38:5:4mx")[0].0, "ansi-fg-4");
        assert_eq!(runs("\x1b[48;5;2mx")[0].0, "ansi-bg-2");
        // 256 colours past the 16, and direct colours: default, and their numbers are not read
        // as SGRs of their own (1 would be bold, 4 underline).
        assert_eq!(runs("\x1b[38;5;196mx")[0].0, "");
        assert_eq!(runs("\x1b[38;2;1;4;1mx")[0].0, "");
        assert_eq!(runs("\x1b[38;2;1;4;1;1mx")[0].0, "ansi-bold");
        assert_eq!(runs("\x1b[38:2::255:0:0;1mx")[0].0, "ansi-bold");
        // Cut short: nothing more is read.
        assert_eq!(runs("\x1b[38;5mx")[0].0, "");
        assert_eq!(runs("\x1b[38mx")[0].0, "");
    }

    #[test]
    fn other_sequences_leave_nothing_on_the_page() {
        for line in [
            "a\x1b[2Jb",                             // erase the screen
            "a\x1b[10;20Hb",                         // move the cursor
            "a\x1b[?25lb",                           // hide the cursor (private)
            "a\x1b[>0;1mb",                          // private SGR-like: not SGR
            "a\x1b[1 qb",                            // with an intermediate byte
            "a\x1b]0;title\x07b",                    // OSC ended by BEL
            "a\x1b]8;;https://evil.example/\x1b\\b", // hyperlink, ended by ST
            "a\x1bP1$r0m\x1b\\b",                    // DCS
            "a\x1b_apc\x1b\\b",                      // APC
            "a\x1b^pm\u{9c}b",                       // PM ended by the 8-bit ST
            "a\x1bXsos \x1b[31m inside\x1b\\b",      // SOS holding what looks like SGR
            "a\x1b(Bb",                              // nF: designate a character set
            "a\x1b7\x1b8b",                          // Fp: save and restore the cursor
            "a\x1bcb",                               // Fs: reset the terminal
            "a\u{9b}2Kb",                            // 8-bit CSI
            "a\u{9d}0;t\u{9c}b",                     // 8-bit OSC and ST
            "a\rb",
            "a\x08b",
            "a\x00b\x7f",
        ] {
            assert_eq!(plain(line), "ab", "{line:?}");
            assert!(parse(line).iter().all(|s| s.style.is_plain()), "{line:?}");
        }
    }

    #[test]
    fn hostile_input_ends_cleanly() {
        // Unfinished sequences at the end of the line are dropped.
        for line in [
            "a\x1b",
            "a\x1b[",
            "a\x1b[31",
            "a\x1b]0;no end",
            "a\x1bP",
            "a\x1b(",
            "a\u{9b}",
        ] {
            assert_eq!(plain(line), "a", "{line:?}");
        }
        // A CSI broken by a byte it may not hold ends there; the byte is read afresh.
        assert_eq!(plain("\x1b[31\x1b[32mgreen"), "green");
        assert_eq!(parse("\x1b[31\x1b[32mgreen")[0].style.fg, Some(2));
        assert_eq!(plain("\x1b[3é1mx"), "é1mx");
        assert_eq!(plain("\x1b[3\nx"), "x");
        // An OSC cut by another sequence ends there, and that sequence is read.
        assert_eq!(runs("\x1b]0;t\x1b[1mx"), [("ansi-bold".into(), "x".into())]);
        // Huge numbers and endless parameters.
        let long = format!("\x1b[{}mx", "9".repeat(10_000));
        assert_eq!(runs(&long), [(String::new(), "x".into())]);
        let many = format!("\x1b[{}31mx", "1;".repeat(10_000));
        assert_eq!(runs(&many)[0].0, "ansi-fg-1 ansi-bold");
        let semis = format!("\x1b[{}mx", ";".repeat(10_000));
        assert_eq!(plain(&semis), "x");
        assert_eq!(plain("\x1b[38;5;99999999999999999999mx"), "x");
        // Tabs and text in every script stay.
        assert_eq!(plain("a\tb — 日本 \u{1f600}"), "a\tb — 日本 \u{1f600}");
    }

    #[test]
    fn styles_carry_across_sequences_and_merge() {
        assert_eq!(
            runs("\x1b[31ma\x1b[2Jb\x1b[1mc"),
            [
                ("ansi-fg-1".into(), "ab".into()),
                ("ansi-fg-1 ansi-bold".into(), "c".into())
            ]
        );
        assert_eq!(runs("\x1b[4:0mx")[0].0, "");
        assert_eq!(runs("\x1b[4:3mx")[0].0, "ansi-underline");
    }
}
