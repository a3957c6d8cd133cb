//! Errors in the reader's language. The engine says what went wrong in English, as the JSON API
//! does, and, for its own messages, in words of Headway's catalogs too (`said`: the `engine-`
//! messages' id and values, [`crate::model::words`]); the server functions the pages call put
//! them into the page's language on their way out (`server_fns::answered`). A message without
//! words (a driver's, a program's) is given the sentence for its error code, the English after
//! it so that nothing is lost. The error's `code` and its fields' names do not change.

use super::{Lang, Text};
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
        field.message = t.said_or(field.said.as_ref(), &field.message);
    }
    error.message = match (
        error.said.as_ref().and_then(|s| t.said(s)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldError;

    fn zh() -> Text {
        Text::of(Lang::ZhCn)
    }

    #[test]
    fn an_error_keeps_its_code_and_fields_and_says_the_rest_in_the_readers_language() {
        let e = AppError::invalid(vec![FieldError::words(
            "steps",
            crate::model::words::at_least(1),
        )]);
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
        // Every `engine-` message of the catalogs is said by one of the engine's words.
        let said: std::collections::BTreeSet<String> = crate::model::words::samples()
            .into_iter()
            .map(|w| w.said.id)
            .collect();
        for (key, _) in crate::i18n::KEYS {
            if key.starts_with("engine-") {
                assert!(said.contains(key), "no words say {key}");
            }
        }
        // A value the message needs that is missing: the English is kept.
        let mut partial = crate::model::words::from_to(1, 9);
        partial.said.values.remove("hi");
        assert_eq!(zh().said(&partial.said), None);
        let e = AppError::invalid(vec![FieldError::words("steps", partial)]);
        assert_eq!(
            localize(zh(), e).field("steps"),
            Some("must be from 1 to 9")
        );
        // English without words is kept as it is, whatever it reads like.
        let e = AppError::invalid(vec![FieldError::new("steps", "must be at least 1")]);
        assert_eq!(localize(zh(), e).field("steps"), Some("must be at least 1"));
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
}
