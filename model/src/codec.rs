//! The JSON encoding of server functions' answers and errors, decoded from text.
//!
//! The browser reads every other JSON it gets as text (`serde_json::from_str`): islands' props
//! and the stream's events. Server functions' answers are bytes, and `serde_json::from_slice`
//! would compile a second deserializer for every type that also arrives the other way (a job,
//! its progress, a log line…). Decoding them from text too keeps one per type in the wasm.

use serde::{de::DeserializeOwned, Serialize};
use server_fn::codec::Post;
use server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};

/// JSON, decoded from UTF-8 text.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text =
            std::str::from_utf8(&bytes).map_err(<serde_json::Error as serde::de::Error>::custom)?;
        serde_json::from_str(text)
    }
}

/// A server function's answer: JSON in the body of the `POST`'s response.
pub type Json = Post<JsonText>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{AppError, ErrorCode};

    #[test]
    fn values_round_trip_and_bad_bytes_are_an_error() {
        let e = AppError::new(ErrorCode::NotFound, "no such job");
        let bytes = <JsonText as Encodes<AppError>>::encode(&e).unwrap();
        let back: AppError = <JsonText as Decodes<AppError>>::decode(bytes).unwrap();
        assert_eq!(back.message, "no such job");
        let bad = <JsonText as Decodes<AppError>>::decode(Bytes::from_static(b"{\"code\":\xff}"));
        assert!(bad.is_err());
        let truncated = <JsonText as Decodes<AppError>>::decode(Bytes::from_static(b"{\"code\":"));
        assert!(truncated.is_err());
    }
}
