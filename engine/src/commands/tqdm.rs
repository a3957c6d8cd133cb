//! The progress bars tqdm (and tools that copy its look) draw on stderr, read back into
//! numbers: for a command with `progress = "tqdm"`, an existing Python script shows a live bar
//! without a change. A bar is redrawn with `\r`; each drawing is one segment here.
//!
//! ```text
//! Copying:  30%|███       | 30/100 [00:01<00:02, 29.5files/s]
//!  45%|████▌     | 4.50k/10.0k [00:01<00:01, 4.49kB/s]
//! Reading: 30it [00:01, 29.5it/s]
//! ```

use regex::Regex;
use std::sync::OnceLock;

/// One drawing of a bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub current: u64,
    pub total: Option<u64>,
    pub unit: Option<String>,
    /// Its description (`Copying`), if it has one.
    pub message: Option<String>,
}

fn with_total() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^\s*(?:(?P<desc>[^|\[]*?):\s*)?\d{1,3}%\|[^|]*\|\s*(?P<n>[0-9.]+[kMGTPEZY]?)/(?P<total>[0-9.]+[kMGTPEZY]?)\s*\[[^\],]*,\s*(?:[0-9.?]+(?P<unit>[^/\s\],]+)/s|[0-9.?]+s/(?P<unit2>[^\s\],]+))?",
        )
        .expect("the bar pattern")
    })
}

fn without_total() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^\s*(?:(?P<desc>[^|\[]*?):\s*)?(?P<n>[0-9.]+[kMGTPEZY]?)(?P<unit>[A-Za-z_]+)?\s\[\d+:\d+",
        )
        .expect("the counter pattern")
    })
}

/// `30`, `4.50k`, `1.2M` as a whole number.
fn amount(text: &str) -> Option<u64> {
    let (digits, scale) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let power = "kMGTPEZY".find(c)? as i32 + 1;
            (&text[..i], 1000f64.powi(power))
        }
        _ => (text, 1.0),
    };
    let value: f64 = digits.parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| (value * scale).round() as u64)
}

/// The bar a segment of stderr draws, if it is one.
pub fn parse(segment: &str) -> Option<Bar> {
    let message = |desc: Option<regex::Match>| {
        desc.map(|d| d.as_str().trim().to_string())
            .filter(|d| !d.is_empty())
    };
    if let Some(c) = with_total().captures(segment) {
        let scaled = c["n"].ends_with(|ch: char| ch.is_ascii_alphabetic())
            || c["total"].ends_with(|ch: char| ch.is_ascii_alphabetic());
        let unit = c
            .name("unit")
            .or_else(|| c.name("unit2"))
            .map(|u| u.as_str())
            .map(|u| {
                // A scaled rate's unit carries the scale (`kB` for `B`).
                match u.chars().next() {
                    Some(p) if scaled && u.len() > 1 && "kMGTPEZY".contains(p) => &u[1..],
                    _ => u,
                }
            })
            .map(str::to_string);
        return Some(Bar {
            current: amount(&c["n"])?,
            total: Some(amount(&c["total"])?),
            unit,
            message: message(c.name("desc")),
        });
    }
    let c = without_total().captures(segment)?;
    Some(Bar {
        current: amount(&c["n"])?,
        total: None,
        unit: c.name("unit").map(|u| u.as_str().to_string()),
        message: message(c.name("desc")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(current: u64, total: Option<u64>, unit: &str, message: Option<&str>) -> Bar {
        Bar {
            current,
            total,
            unit: Some(unit.to_string()),
            message: message.map(str::to_string),
        }
    }

    #[test]
    fn tqdm_drawings_read_back() {
        assert_eq!(
            parse("Copying:  30%|███       | 30/100 [00:01<00:02, 29.5files/s]"),
            Some(bar(30, Some(100), "files", Some("Copying")))
        );
        assert_eq!(
            parse("  0%|          | 0/100 [00:00<?, ?it/s]"),
            Some(bar(0, Some(100), "it", None))
        );
        assert_eq!(
            parse("100%|██████████| 100/100 [00:10<00:00,  9.98it/s]"),
            Some(bar(100, Some(100), "it", None))
        );
        assert_eq!(
            parse(" 45%|████▌     | 4.50k/10.0k [00:01<00:01, 4.49kB/s]"),
            Some(bar(4500, Some(10000), "B", None))
        );
        assert_eq!(
            parse(" 20%|██        | 1/5 [00:10<00:40, 10.00s/it]"),
            Some(bar(1, Some(5), "it", None))
        );
        assert_eq!(
            parse("Reading: 30it [00:01, 29.5it/s]"),
            Some(bar(30, None, "it", Some("Reading")))
        );
    }

    #[test]
    fn other_lines_are_not_bars() {
        for line in [
            "Traceback (most recent call last):",
            "30% done",
            "error: 3/4 files failed",
            "",
        ] {
            assert_eq!(parse(line), None, "{line:?}");
        }
    }
}
