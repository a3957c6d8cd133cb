//! The client side of an event stream, without allocating per event: an HTTP/1.1 chunked
//! transfer decoder and an incremental Server-Sent Events parser.

/// Decodes a `Transfer-Encoding: chunked` body as it arrives, in pieces of any size.
#[derive(Debug, Default)]
pub struct Chunked {
    state: ChunkState,
    size: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading the hexadecimal size.
    #[default]
    Size,
    /// Skipping a chunk extension up to the end of the size line.
    SizeRest,
    /// Inside a chunk's data; `size` bytes are left.
    Data,
    /// After a chunk's data: its CRLF.
    DataEnd,
    /// After the last chunk: at the start of a trailer line.
    TrailerStart,
    /// Inside a trailer line.
    TrailerLine,
    /// The body is complete.
    Done,
}

impl Chunked {
    /// Feeds raw body bytes and hands every decoded piece to `out`. Returns `Ok(true)` once the
    /// last chunk (and its trailer) has been read; bytes after it are ignored.
    pub fn feed(
        &mut self,
        input: &[u8],
        out: &mut impl FnMut(&[u8]),
    ) -> Result<bool, &'static str> {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match self.state {
                ChunkState::Size => {
                    i += 1;
                    match b {
                        b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                            let digit = (b as char).to_digit(16).unwrap() as usize;
                            self.size = self
                                .size
                                .checked_mul(16)
                                .and_then(|s| s.checked_add(digit))
                                .ok_or("chunk size overflows")?;
                        }
                        b'\n' => self.end_of_size_line(),
                        b'\r' | b';' | b' ' | b'\t' => self.state = ChunkState::SizeRest,
                        _ => return Err("invalid chunk size"),
                    }
                }
                ChunkState::SizeRest => {
                    i += 1;
                    if b == b'\n' {
                        self.end_of_size_line();
                    }
                }
                ChunkState::Data => {
                    let n = self.size.min(input.len() - i);
                    out(&input[i..i + n]);
                    i += n;
                    self.size -= n;
                    if self.size == 0 {
                        self.state = ChunkState::DataEnd;
                    }
                }
                ChunkState::DataEnd => {
                    i += 1;
                    match b {
                        b'\r' => {}
                        b'\n' => {
                            self.state = ChunkState::Size;
                            self.size = 0;
                        }
                        _ => return Err("chunk data is not followed by CRLF"),
                    }
                }
                ChunkState::TrailerStart => {
                    i += 1;
                    match b {
                        b'\r' => {}
                        b'\n' => self.state = ChunkState::Done,
                        _ => self.state = ChunkState::TrailerLine,
                    }
                }
                ChunkState::TrailerLine => {
                    i += 1;
                    if b == b'\n' {
                        self.state = ChunkState::TrailerStart;
                    }
                }
                ChunkState::Done => return Ok(true),
            }
        }
        Ok(self.state == ChunkState::Done)
    }

    fn end_of_size_line(&mut self) {
        self.state = if self.size == 0 {
            ChunkState::TrailerStart
        } else {
            ChunkState::Data
        };
    }
}

/// One dispatched event. `kind` is `message` when the event had no `event:` field; `id` is the
/// stream's last event id (it carries over events without an `id:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    pub kind: &'a str,
    pub data: &'a str,
    pub id: &'a str,
}

/// An incremental parser of `text/event-stream` (the WHATWG algorithm): lines end with LF, CRLF
/// or CR; `:` lines are comments; an empty line dispatches the event being built.
#[derive(Debug, Default)]
pub struct Parser {
    /// A line split across two reads.
    partial: Vec<u8>,
    /// The previous read ended with CR: a leading LF belongs to that line end.
    after_cr: bool,
    kind: String,
    data: String,
    has_data: bool,
    last_id: String,
    /// The last `retry:` value.
    pub retry: Option<u64>,
    /// Comment lines seen (keep-alives).
    pub comments: u64,
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Feeds decoded body bytes; calls `on_event` for every complete event.
    pub fn feed(&mut self, mut input: &[u8], on_event: &mut impl FnMut(Event<'_>)) {
        if self.after_cr {
            self.after_cr = false;
            if input.first() == Some(&b'\n') {
                input = &input[1..];
            }
        }
        while !input.is_empty() {
            match input.iter().position(|&b| b == b'\n' || b == b'\r') {
                None => {
                    self.partial.extend_from_slice(input);
                    return;
                }
                Some(end) => {
                    let ending = input[end];
                    if self.partial.is_empty() {
                        self.line(&input[..end], on_event);
                    } else {
                        self.partial.extend_from_slice(&input[..end]);
                        let line = std::mem::take(&mut self.partial);
                        self.line(&line, on_event);
                        self.partial = line;
                        self.partial.clear();
                    }
                    input = &input[end + 1..];
                    if ending == b'\r' {
                        match input.first() {
                            Some(b'\n') => input = &input[1..],
                            Some(_) => {}
                            None => self.after_cr = true,
                        }
                    }
                }
            }
        }
    }

    fn line(&mut self, line: &[u8], on_event: &mut impl FnMut(Event<'_>)) {
        if line.is_empty() {
            if self.has_data {
                if self.data.ends_with('\n') {
                    self.data.pop();
                }
                let kind = if self.kind.is_empty() {
                    "message"
                } else {
                    self.kind.as_str()
                };
                on_event(Event {
                    kind,
                    data: &self.data,
                    id: &self.last_id,
                });
            }
            self.kind.clear();
            self.data.clear();
            self.has_data = false;
            return;
        }
        if line[0] == b':' {
            self.comments += 1;
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let v = &line[colon + 1..];
                (&line[..colon], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"event" => {
                self.kind.clear();
                self.kind.push_str(&value);
            }
            b"data" => {
                self.data.push_str(&value);
                self.data.push('\n');
                self.has_data = true;
            }
            b"id" if !value.contains('\0') => {
                self.last_id.clear();
                self.last_id.push_str(&value);
            }
            b"retry" => {
                if let Ok(ms) = value.parse() {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
    }
}

/// The integer value of the top-level key `key` in one line of compact JSON, found without
/// parsing the whole object. A key cannot be mistaken for text inside a string value: every
/// quote inside a JSON string is escaped.
pub fn json_int_field(json: &str, key: &str) -> Option<i64> {
    let bytes = json.as_bytes();
    let mut from = 0;
    while let Some(pos) = json[from..].find(key) {
        let start = from + pos;
        let end = start + key.len();
        from = end;
        let quoted = start > 0 && bytes[start - 1] == b'"' && bytes.get(end) == Some(&b'"');
        if !quoted {
            continue;
        }
        let rest = json[end + 1..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let rest = rest.trim_start();
        let digits = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'-')
            .count();
        return rest[..digits].parse().ok();
    }
    None
}

/// The string value of the top-level key `key` (no unescaping; for ids and status names).
pub fn json_str_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\":\"");
    let start = json.find(&needle)? + needle.len();
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(pieces: &[&[u8]]) -> (Vec<(String, String, String)>, Parser) {
        let mut p = Parser::new();
        let mut got = Vec::new();
        for piece in pieces {
            p.feed(piece, &mut |e: Event<'_>| {
                got.push((e.kind.to_string(), e.data.to_string(), e.id.to_string()))
            });
        }
        (got, p)
    }

    #[test]
    fn parses_events_comments_and_retry() {
        let stream =
            b"retry: 2000\nid: 41\nevent: snapshot\ndata: {\"jobs\":[]}\n\n: keep-alive\n\n\
                       id: 42\nevent: progress\ndata: {\"at\":5}\n\ndata: a\ndata: b\n\n";
        let (got, p) = parse_all(&[stream]);
        assert_eq!(
            got,
            [
                ("snapshot".into(), "{\"jobs\":[]}".into(), "41".into()),
                ("progress".into(), "{\"at\":5}".into(), "42".into()),
                ("message".into(), "a\nb".into(), "42".into()),
            ]
        );
        assert_eq!(p.retry, Some(2000));
        assert_eq!(p.comments, 1);
    }

    #[test]
    fn events_split_anywhere_and_any_line_ending_give_the_same_result() {
        let lf = b"event: job\ndata: {\"x\":1}\n\nevent: done\ndata:{\"y\":2}\n\n".to_vec();
        let crlf: Vec<u8> = String::from_utf8(lf.clone())
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes();
        let cr: Vec<u8> = String::from_utf8(lf.clone())
            .unwrap()
            .replace('\n', "\r")
            .into_bytes();
        let (expected, _) = parse_all(&[&lf]);
        assert_eq!(expected.len(), 2);
        for stream in [&lf, &crlf, &cr] {
            for split in 0..stream.len() {
                let (a, b) = stream.split_at(split);
                let (got, _) = parse_all(&[a, b]);
                assert_eq!(got, expected, "split at {split}");
            }
        }
        let bytes: Vec<&[u8]> = crlf.chunks(1).collect();
        assert_eq!(parse_all(&bytes).0, expected);
    }

    #[test]
    fn an_event_without_data_is_not_dispatched() {
        let (got, _) = parse_all(&[b"event: nothing\n\nid: 3\n\n"]);
        assert!(got.is_empty());
    }

    #[test]
    fn chunked_bodies_decode_across_any_split() {
        let body = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";
        for split in 0..body.len() {
            let mut c = Chunked::default();
            let mut out = Vec::new();
            let (a, b) = body.split_at(split);
            let done_a = c.feed(a, &mut |d: &[u8]| out.extend_from_slice(d)).unwrap();
            let done_b = c.feed(b, &mut |d: &[u8]| out.extend_from_slice(d)).unwrap();
            assert!(done_b || (done_a && b.is_empty()), "split at {split}");
            assert_eq!(out, b"hello, world");
        }
        let mut c = Chunked::default();
        assert!(c.feed(b"zz\r\n", &mut |_: &[u8]| {}).is_err());
    }

    #[test]
    fn json_fields_are_found_by_key_only() {
        let data = r#"{"job_id":"a1","current":7,"message":"\"at\":9 is text","total":null,"at":1763730000123}"#;
        assert_eq!(json_int_field(data, "at"), Some(1763730000123));
        assert_eq!(json_int_field(data, "current"), Some(7));
        assert_eq!(json_int_field(data, "total"), None);
        assert_eq!(json_int_field(r#"{"status":"x"}"#, "at"), None);
        assert_eq!(
            json_str_field(r#"{"job_id":"j","status":"succeeded"}"#, "status"),
            Some("succeeded")
        );
    }
}
