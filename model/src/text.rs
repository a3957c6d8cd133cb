//! What text from users may hold where it is shown to others, and how text goes into a URL.

/// A mark that changes how the text around it is ordered or joined without being seen itself:
/// the bidirectional embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069) and
/// marks (U+200E, U+200F, U+061C). `vsc.exe` after an override (U+202E) reads as `exe.csv`.
pub fn is_format_mark(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
    )
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes of UTF-8 ([`url_encode`]'s, or a file name in a header); `None` if
/// they do not decode.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `s` cut to at most `max` bytes, at a character's boundary.
pub fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A part of a text with names between braces ([`braced`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Braced {
    Text(String),
    /// What was between `{` and `}`.
    Name(String),
}

/// What is wrong with the braces of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BraceError {
    /// A `{` without its `}`.
    Unclosed,
    /// A `}` without its `{`.
    Unopened,
}

/// `text` split into its text and the names between braces, in order, with `{{` and `}}` read
/// as braces; no part is empty. A command's `args` and a workflow step's parameters are written
/// this way.
pub fn braced(text: &str) -> Result<Vec<Braced>, BraceError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(BraceError::Unclosed),
                    }
                }
                if !literal.is_empty() {
                    parts.push(Braced::Text(std::mem::take(&mut literal)));
                }
                parts.push(Braced::Name(name));
            }
            '}' => return Err(BraceError::Unopened),
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(Braced::Text(literal));
    }
    Ok(parts)
}

/// `n` with a comma between thousands (8,412), as Headway's English writes a count.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_to_what_was_encoded() {
        assert_eq!(
            percent_decode("M%C3%A4rz%20data.csv").unwrap(),
            "März data.csv"
        );
        assert_eq!(percent_decode("plain.csv").unwrap(), "plain.csv");
        assert!(percent_decode("%zz").is_none());
        assert!(percent_decode("%C3").is_none(), "half a character");
        let odd = "rows #1?/ü.csv";
        assert_eq!(percent_decode(&url_encode(odd)).unwrap(), odd);
    }

    #[test]
    fn braces_split_a_text_into_its_text_and_names() {
        let text = |s: &str| Braced::Text(s.into());
        let name = |s: &str| Braced::Name(s.into());
        assert_eq!(
            braced("a {b}{c} {{d}} e").unwrap(),
            [text("a "), name("b"), name("c"), text(" {d} e")]
        );
        assert_eq!(braced("").unwrap(), []);
        assert_eq!(braced("x {y"), Err(BraceError::Unclosed));
        assert_eq!(braced("x } y"), Err(BraceError::Unopened));
    }

    #[test]
    fn the_marks_that_reorder_text_are_known_and_letters_are_not() {
        for c in [
            '\u{202e}', '\u{202a}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}',
        ] {
            assert!(is_format_mark(c), "{c:?}");
        }
        for c in ['a', 'é', 'ש', '\u{2070}', ' '] {
            assert!(!is_format_mark(c), "{c:?}");
        }
    }
}
