//! Errors in the reader's language. The engine says what went wrong in English, as the JSON API
//! does; the server functions the pages call put it into the page's language on its way out
//! (`server_fns::answered`): a message the catalogs know (the `engine-` messages, whose English
//! text is the engine's, with its variable parts) is translated with its values; any other is
//! given the sentence for its error code, the English message after it so that nothing is
//! lost. The error's `code` and its fields' names do not change.

use super::{Lang, Text, KEYS};
use crate::model::{AppError, ErrorCode};

/// What a page shows for an error of `code` when the message itself is not translated.
pub fn code_text(t: Text, code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::BadRequest => t.error_bad_request(),
        ErrorCode::InvalidParams => t.error_invalid_params(),
        ErrorCode::UnknownKind => t.error_unknown_kind(),
        ErrorCode::NotFound => t.error_not_found(),
        ErrorCode::MethodNotAllowed => t.error_method_not_allowed(),
        ErrorCode::Unauthorized => t.error_unauthorized(),
        ErrorCode::Forbidden => t.error_forbidden(),
        ErrorCode::Conflict => t.error_conflict(),
        ErrorCode::PayloadTooLarge => t.error_payload_too_large(),
        ErrorCode::RequestTimeout => t.error_request_timeout(),
        ErrorCode::MisdirectedRequest => t.error_misdirected_request(),
        ErrorCode::TooManyRequests => t.error_too_many_requests(),
        ErrorCode::Unavailable => t.error_unavailable(),
        ErrorCode::Internal => t.error_internal(),
    }
}

/// `error` as a reader of `t`'s language reads it.
pub fn localize(t: Text, mut error: AppError) -> AppError {
    if t.lang == Lang::En {
        return error;
    }
    for field in &mut error.fields {
        field.message = words(t, field.said.as_ref(), &field.message);
    }
    let said = error.said.as_ref().and_then(|s| t.said(s));
    error.message = match (
        said.or_else(|| translate(t, &error.message)),
        error.fields.is_empty(),
    ) {
        (Some(m), _) => m,
        // A validation error's message lists its fields: say it again from the translated ones.
        (None, false) => error
            .fields
            .iter()
            .map(|f| t.field_error(f.field.as_str(), f.message.as_str()))
            .collect::<Vec<_>>()
            .join(t.list_separator()),
        (None, true) => t.error_with_detail(code_text(t, error.code), error.message.as_str()),
    };
    error
}

/// A message of Headway's in the reader's language: from its words ([`crate::model::Said`])
/// when it comes with them; else, for the engine's messages not yet sent as words, from its
/// English; else as it is.
fn words(t: Text, said: Option<&crate::model::Said>, english: &str) -> String {
    said.and_then(|s| t.said(s))
        .or_else(|| translate(t, english))
        .unwrap_or_else(|| english.to_string())
}

/// The translation of an English message of the engine's, if a catalog has it.
pub fn translate(t: Text, english: &str) -> Option<String> {
    let en = Text::of(Lang::En);
    KEYS.iter()
        .filter(|(k, _)| k.starts_with("engine-"))
        .find_map(|(key, id)| {
            let values = matches(en.raw(*id, super::NOT_IN_BROWSER), english)?;
            let args: Vec<super::Arg> = values.into_iter().map(super::Arg::from).collect();
            let _ = key;
            Some(super::render::render(
                t.raw(*id, super::NOT_IN_BROWSER),
                &args,
                t.lang.meta(),
            ))
        })
}

/// The values of `pattern`'s variables (`\u{1}N`, in any order) if `text` is that pattern, its
/// variables standing for any text. `text` may be anything (a message already in the reader's
/// language, a cause's own words): it is only split where a literal part of the pattern was
/// found, never at a computed offset, so a multi-byte character is never cut.
fn matches(pattern: &str, text: &str) -> Option<Vec<String>> {
    // Literal parts and the variable after each.
    let mut parts: Vec<(&str, Option<usize>)> = Vec::new();
    let mut rest = pattern;
    while let Some((literal, after)) = rest.split_once('\u{1}') {
        let mut chars = after.chars();
        let index = chars.next()?.to_digit(10)?;
        parts.push((literal, Some(usize::try_from(index).ok()?)));
        rest = chars.as_str();
    }
    parts.push((rest, None));
    if parts
        .iter()
        .any(|(lit, _)| lit.contains(['\u{2}', '\u{3}']))
    {
        return None;
    }
    let mut values = vec![String::new(); parts.iter().filter(|p| p.1.is_some()).count()];
    let mut text = text.strip_prefix(parts[0].0)?;
    for w in 0..parts.len() - 1 {
        let var = parts[w].1?;
        let next = parts[w + 1].0;
        let (value, after) = match (next.is_empty(), w + 2 == parts.len()) {
            // The last variable takes the rest.
            (_, true) => (text.strip_suffix(next)?, ""),
            (true, false) => return None,
            (false, false) => text.split_once(next)?,
        };
        *values.get_mut(var)? = value.to_string();
        text = after;
    }
    text.is_empty().then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldError;

    fn zh() -> Text {
        Text::of(Lang::ZhCn)
    }

    #[test]
    fn the_engines_field_messages_are_translated_with_their_values() {
        assert_eq!(
            translate(zh(), "must be from 1 to 100000").as_deref(),
            Some("必须在 1 到 100000 之间")
        );
        assert_eq!(translate(zh(), "is required").as_deref(), Some("必填"));
        assert_eq!(
            translate(zh(), "must be one of: red, blue").as_deref(),
            Some("必须是以下之一：red, blue")
        );
        assert_eq!(
            translate(zh(), "must be from 1 to 3: demo allows at most 3 attempts").as_deref(),
            Some("必须在 1 到 3 之间：demo 最多允许 3 次尝试")
        );
        assert_eq!(
            translate(zh(), "a limit allows from 1 to 1000000 jobs, not 0").as_deref(),
            Some("限制允许的任务数为 1 到 1000000，不能是 0")
        );
        assert_eq!(
            translate(
                zh(),
                "demo has no parameter \"x\"; its parameters are: steps"
            )
            .as_deref(),
            Some("demo 没有参数 \"x\"；它的参数是：steps")
        );
        assert_eq!(translate(zh(), "something nobody wrote"), None);
    }

    #[test]
    fn an_error_keeps_its_code_and_fields_and_says_the_rest_in_the_readers_language() {
        let e = AppError::invalid(vec![FieldError::new("steps", "must be at least 1")]);
        let shown = localize(zh(), e.clone());
        assert_eq!(shown.code, ErrorCode::InvalidParams);
        assert_eq!(shown.field("steps"), Some("必须至少为 1"));
        assert_eq!(shown.message, "steps：必须至少为 1");
        // English readers read the engine's own words.
        assert_eq!(localize(Text::of(Lang::En), e.clone()), e);
        // An untranslated message gets its code's sentence, and keeps what it said.
        let other = localize(zh(), AppError::new(ErrorCode::Conflict, "the moon is full"));
        assert_eq!(
            other.message,
            "操作与任务当前的状态冲突（the moon is full）"
        );
    }

    #[test]
    fn the_engines_words_are_said_from_their_id_and_values_in_every_language() {
        for words in crate::model::words::samples() {
            for lang in Lang::ALL {
                let said = Text::of(lang).said(&words.said);
                assert!(said.is_some(), "{lang:?} has no {:?}", words.said);
                if lang == Lang::En {
                    // The engine's English and the English catalog's are the same words.
                    assert_eq!(
                        said.as_deref(),
                        Some(words.english.as_str()),
                        "{:?}",
                        words.said
                    );
                }
            }
        }
        // A value the message needs that is missing: the English is kept.
        let mut partial = crate::model::words::from_to(1, 9);
        partial.said.values.remove("hi");
        assert_eq!(zh().said(&partial.said), None);
        let e = AppError::invalid(vec![FieldError::words("steps", partial)]);
        assert_eq!(
            localize(zh(), e).field("steps"),
            Some("必须在 1 到 9 之间"),
            "matched"
        );
    }

    #[test]
    fn a_field_in_words_is_said_from_them_not_from_its_english() {
        // English that matches no message: only the words can say it.
        let mut words = crate::model::words::max_length(10, 12);
        words.english = "too long".into();
        let e = AppError::invalid(vec![FieldError::words("title", words)]);
        let shown = localize(zh(), e);
        assert_eq!(shown.field("title"), Some("最多 10 个字符，而不是 12 个"));
        assert_eq!(shown.message, "title：最多 10 个字符，而不是 12 个");
    }

    #[test]
    fn every_error_code_has_its_sentence_in_every_language() {
        use ErrorCode::*;
        for lang in Lang::ALL {
            for code in [
                BadRequest,
                InvalidParams,
                UnknownKind,
                NotFound,
                MethodNotAllowed,
                Unauthorized,
                Forbidden,
                Conflict,
                PayloadTooLarge,
                RequestTimeout,
                MisdirectedRequest,
                TooManyRequests,
                Unavailable,
                Internal,
            ] {
                assert!(
                    !code_text(Text::of(lang), code).is_empty(),
                    "{lang:?} {code:?}"
                );
            }
        }
    }

    /// Every message of one language as a reader sees it, its variables given `value`.
    fn said(lang: Lang, only_engine: bool, value: &str) -> Vec<String> {
        let args: Vec<crate::i18n::Arg> = (0..10).map(|_| crate::i18n::Arg::from(value)).collect();
        KEYS.iter()
            .filter(|(key, _)| !only_engine || key.starts_with("engine-"))
            .map(|(_, id)| {
                let raw = Text::of(lang).raw(*id, crate::i18n::NOT_IN_BROWSER);
                crate::i18n::render::render(raw, &args, lang.meta())
            })
            .collect()
    }

    /// `text` cut at each of its character boundaries: every (head, tail).
    fn cuts(text: &str) -> impl Iterator<Item = (&str, &str)> {
        text.char_indices()
            .map(|(at, _)| at)
            .chain([text.len()])
            .filter_map(|at| text.split_at_checked(at))
    }

    /// A message already in the reader's language (a page's own refusal put through
    /// `localize` again), or one that holds Chinese where the engine's patterns have their
    /// literal words, is no pattern's: it is given its code's sentence, never a panic. Every
    /// message of both catalogs, whole; then each English sentence of the engine's (its
    /// variables multi-byte) cut at every character boundary, a Chinese sentence of the
    /// engine's put at the cut, and each Chinese one cut likewise with an English one on either
    /// side (the partner taken in turn, so that the test stays quick).
    #[test]
    fn no_message_in_any_language_makes_translating_panic() {
        let translated = |error: AppError, text: &str| {
            let tried = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                localize(zh(), error);
            }));
            assert!(tried.is_ok(), "translating {text:?} panicked");
        };
        for lang in Lang::ALL {
            for value in ["只", ""] {
                for text in said(lang, false, value) {
                    // A field's message, and the error's that names the field before it.
                    translated(AppError::invalid_field("steps", text.as_str()), &text);
                }
            }
        }
        let mut texts: Vec<String> = Vec::new();
        let english = said(Lang::En, true, "只读");
        let chinese = said(Lang::ZhCn, true, "只");
        for (i, e) in english.iter().enumerate() {
            for (j, (head, tail)) in cuts(e).enumerate() {
                let z = &chinese[(i + j) % chinese.len()];
                texts.push(format!("{head}{z}"));
                texts.push(format!("{z}{tail}"));
                texts.push(format!("{head}{z}{tail}"));
            }
        }
        for (i, z) in chinese.iter().enumerate() {
            for (j, (head, tail)) in cuts(z).enumerate() {
                let e = &english[(i + j) % english.len()];
                texts.push(format!("{e}{tail}"));
                texts.push(format!("{head}{e}"));
            }
        }
        for text in &texts {
            translated(AppError::new(ErrorCode::Forbidden, text.as_str()), text);
        }
    }

    #[test]
    fn patterns_match_whole_messages_only() {
        assert_eq!(
            matches("a \u{1}0 b \u{1}1", "a x b y z"),
            Some(vec!["x".into(), "y z".into()])
        );
        assert_eq!(matches("a \u{1}0.", "a x."), Some(vec!["x".into()]));
        assert_eq!(matches("a \u{1}0.", "a x"), None);
        assert_eq!(matches("plain", "plain"), Some(vec![]));
        assert_eq!(matches("plain", "plainer"), None);
    }
}
