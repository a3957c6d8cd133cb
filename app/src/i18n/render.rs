//! A message's text with its variables in place: the one formatter of the catalogs, the same
//! on the server and in the browser, so that what an island renders in the browser is what the
//! server rendered. It reads the encoding `app/build.rs` writes: text, with `\u{1}N` for
//! variable N and `\u{2}N` … `\u{6}` for a selection on variable N (variants `\u{3}key\u{4}…`,
//! the default one `\u{5}key\u{4}…`).

use super::{Meta, Ordinal, Plural};
use std::borrow::Cow;

/// A message's variable: a number (written with the language's digit groups, and selecting
/// the language's plural form) or a text, borrowed where the caller has one.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Num(i64),
    Text(Cow<'a, str>),
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            #[inline(always)]
            fn from(n: $t) -> Self {
                Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
number_args!(i32, i64, u16, u32, u64, usize);

impl<'a> From<&'a str> for Arg<'a> {
    #[inline(always)]
    fn from(s: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Arg<'_> {
    #[inline(always)]
    fn from(s: String) -> Self {
        Arg::Text(Cow::Owned(s))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    #[inline(always)]
    fn from(s: &'a String) -> Self {
        Arg::Text(Cow::Borrowed(s))
    }
}

/// `text` with `args` in place.
pub fn render(text: &str, args: &[Arg], meta: &Meta) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    pattern(text, args, meta, &mut out);
    out
}

/// Writes the pattern at the start of `text` up to the end of its variant (or of `text`), and
/// says where it stopped.
fn pattern<'a>(mut text: &'a str, args: &[Arg], meta: &Meta, out: &mut String) -> &'a str {
    loop {
        let Some((before, from)) = text
            .find(|c: char| ('\u{1}'..='\u{6}').contains(&c))
            .and_then(|at| text.split_at_checked(at))
        else {
            out.push_str(text);
            return "";
        };
        out.push_str(before);
        let mut chars = from.chars();
        let control = chars.next().unwrap_or_default();
        let rest = chars.as_str();
        match control {
            '\u{1}' => {
                let (arg, rest) = arg_of(rest, args);
                match arg {
                    Some(Arg::Num(n)) => out.push_str(&int(*n, meta)),
                    Some(Arg::Text(s)) => out.push_str(s),
                    None => {}
                }
                text = rest;
            }
            '\u{2}' => {
                let (arg, rest) = arg_of(rest, args);
                text = select(rest, arg, args, meta, out);
            }
            // The end of a variant: its selection goes on.
            _ => return from,
        }
    }
}

/// The variable a control character names (one digit after it), and the text after that.
fn arg_of<'a, 'b, 'c>(text: &'a str, args: &'b [Arg<'c>]) -> (Option<&'b Arg<'c>>, &'a str) {
    let index = text
        .bytes()
        .next()
        .map(|b| usize::from(b.wrapping_sub(b'0')));
    (index.and_then(|i| args.get(i)), text.get(1..).unwrap_or(""))
}

/// Writes the variant of a selection that `arg` picks (a number's exact value, then its plural
/// category; a text's value; else the default), and returns the text after the selection.
fn select<'a>(
    mut text: &'a str,
    arg: Option<&Arg>,
    args: &[Arg],
    meta: &Meta,
    out: &mut String,
) -> &'a str {
    // The variants' keys and where their patterns start.
    let mut variants: Vec<(&str, bool, &str)> = Vec::new();
    loop {
        let mut chars = text.chars();
        match chars.next() {
            Some(c @ ('\u{3}' | '\u{5}')) => {
                let body = chars.as_str();
                let Some((key, start)) = body.split_once('\u{4}') else {
                    return "";
                };
                variants.push((key, c == '\u{5}', start));
                // Skip this variant's pattern (nested selections included) without writing it.
                text = pattern(start, args, meta, &mut String::new());
            }
            Some('\u{6}') => {
                text = chars.as_str();
                break;
            }
            _ => return "",
        }
    }
    let exact = |key: &str| match arg {
        Some(Arg::Num(n)) => key.parse::<i64>().ok() == Some(*n),
        Some(Arg::Text(s)) => key == s.as_ref(),
        None => false,
    };
    let (category, ordinal) = match arg {
        Some(Arg::Num(n)) => (
            Some(category(*n, meta.plural)),
            Some(ordinal(*n, meta.ordinal)),
        ),
        _ => (None, None),
    };
    let chosen = variants
        .iter()
        .find(|v| exact(v.0))
        .or_else(|| variants.iter().find(|v| Some(v.0) == category))
        .or_else(|| variants.iter().find(|v| Some(v.0) == ordinal))
        .or_else(|| variants.iter().find(|v| v.1));
    if let Some((_, _, start)) = chosen {
        pattern(start, args, meta, out);
    }
    text
}

/// CLDR's plural category of a whole number.
pub(super) fn category(n: i64, rule: Plural) -> &'static str {
    let n = n.unsigned_abs();
    let (n10, n100) = (n % 10, n % 100);
    match rule {
        Plural::Other => "other",
        Plural::OneOther => match n {
            1 => "one",
            _ => "other",
        },
        Plural::OneZeroOne => match n {
            0 | 1 => "one",
            _ => "other",
        },
        Plural::EastSlavic => match (n10, n100) {
            (1, n100) if n100 != 11 => "one",
            (2..=4, n100) if !(12..=14).contains(&n100) => "few",
            _ => "many",
        },
        Plural::Polish => match (n, n10, n100) {
            (1, _, _) => "one",
            (_, 2..=4, n100) if !(12..=14).contains(&n100) => "few",
            _ => "many",
        },
        Plural::Arabic => match (n, n100) {
            (0, _) => "zero",
            (1, _) => "one",
            (2, _) => "two",
            (_, 3..=10) => "few",
            (_, 11..=99) => "many",
            _ => "other",
        },
    }
}

/// The key of a whole number's ordinal category (`ord-one` …).
pub(super) fn ordinal(n: i64, rule: Ordinal) -> &'static str {
    let n = n.unsigned_abs();
    match (rule, n % 10, n % 100) {
        (Ordinal::English, 1, n100) if n100 != 11 => "ord-one",
        (Ordinal::English, 2, n100) if n100 != 12 => "ord-two",
        (Ordinal::English, 3, n100) if n100 != 13 => "ord-few",
        _ => "ord-other",
    }
}

/// A whole number with the language's digit groups.
pub(super) fn int(n: i64, meta: &Meta) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * meta.group.len() + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(meta.group);
        }
        out.push(c);
    }
    out
}

/// A number rounded to `places` decimals, with the language's digit groups and decimal sign.
pub(super) fn decimal(x: f64, places: usize, meta: &Meta) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let fixed = format!("{:.*}", places, x.abs());
    let (whole, fraction) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let mut out = String::new();
    // A value that rounds to zero has no sign.
    if x < 0.0 && fixed.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    out.push_str(&int(whole.parse().unwrap_or(0), meta));
    if !fraction.is_empty() {
        out.push_str(meta.decimal);
        out.push_str(fraction);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn en() -> &'static Meta {
        Lang::En.meta()
    }

    #[test]
    fn variables_are_put_in_place_and_numbers_grouped() {
        let text = "\u{1}0 of \u{1}1 done";
        assert_eq!(
            render(text, &[Arg::from(1234), Arg::from("many")], en()),
            "1,234 of many done"
        );
        // A variable the caller did not give writes nothing.
        assert_eq!(render(text, &[Arg::from(3)], en()), "3 of  done");
    }

    #[test]
    fn a_selection_takes_the_exact_value_then_the_plural_category_then_the_default() {
        let text = "\u{2}0\u{3}0\u{4}no jobs\u{3}one\u{4}one job\u{5}other\u{4}\u{1}0 jobs\u{6}!";
        let say = |n: i64| render(text, &[Arg::Num(n)], en());
        assert_eq!(say(0), "no jobs!");
        assert_eq!(say(1), "one job!");
        assert_eq!(say(2), "2 jobs!");
        assert_eq!(say(1_000), "1,000 jobs!");
        // Chinese has no plural forms: every number takes the default.
        assert_eq!(render(text, &[Arg::Num(1)], Lang::ZhCn.meta()), "1 jobs!");
        // On a text, its value or the default.
        let by_status = "\u{2}0\u{3}failed\u{4}✖\u{5}other\u{4}·\u{6}";
        assert_eq!(render(by_status, &[Arg::from("failed")], en()), "✖");
        assert_eq!(render(by_status, &[Arg::from("queued")], en()), "·");
    }

    #[test]
    fn selections_nest() {
        let text = "\u{2}0\u{3}one\u{4}a \u{2}1\u{3}x\u{4}X\u{5}y\u{4}Y\u{6}\u{5}other\u{4}b\u{6}.";
        assert_eq!(render(text, &[Arg::Num(1), Arg::from("x")], en()), "a X.");
        assert_eq!(render(text, &[Arg::Num(1), Arg::from("z")], en()), "a Y.");
        assert_eq!(render(text, &[Arg::Num(7), Arg::from("x")], en()), "b.");
    }

    #[test]
    fn english_ordinals() {
        let text = "\u{2}0\u{3}ord-one\u{4}\u{1}0st\u{3}ord-two\u{4}\u{1}0nd\u{3}ord-few\u{4}\u{1}0rd\u{5}ord-other\u{4}\u{1}0th\u{6}";
        let say = |n: i64| render(text, &[Arg::Num(n)], en());
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(say).to_vec();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }

    #[test]
    fn plural_categories_follow_cldr() {
        let cats = |rule, ns: &[i64]| ns.iter().map(|n| category(*n, rule)).collect::<Vec<_>>();
        assert_eq!(
            cats(Plural::OneOther, &[0, 1, 2, 11, 21]),
            ["other", "one", "other", "other", "other"]
        );
        assert_eq!(cats(Plural::Other, &[0, 1, 2]), ["other"; 3]);
        assert_eq!(
            cats(Plural::OneZeroOne, &[0, 1, 2]),
            ["one", "one", "other"]
        );
        assert_eq!(
            cats(Plural::EastSlavic, &[1, 2, 5, 11, 12, 21, 22, 25, 111]),
            ["one", "few", "many", "many", "many", "one", "few", "many", "many"]
        );
        assert_eq!(
            cats(Plural::Polish, &[1, 2, 5, 12, 21, 22]),
            ["one", "few", "many", "many", "many", "few"]
        );
        assert_eq!(
            cats(Plural::Arabic, &[0, 1, 2, 3, 10, 11, 99, 100, 102]),
            ["zero", "one", "two", "few", "few", "many", "many", "other", "other"]
        );
    }

    #[test]
    fn numbers_are_written_as_the_language_writes_them() {
        assert_eq!(int(0, en()), "0");
        assert_eq!(int(999, en()), "999");
        assert_eq!(int(1000, en()), "1,000");
        assert_eq!(int(-1_234_567, en()), "-1,234,567");
        assert_eq!(decimal(2.26, 1, en()), "2.3");
        assert_eq!(decimal(1234.5, 2, en()), "1,234.50");
        assert_eq!(decimal(-0.01, 1, en()), "0.0");
        assert_eq!(decimal(f64::NAN, 1, en()), "–");
        assert_eq!(int(12_345, Lang::ZhCn.meta()), "12,345");
    }
}
