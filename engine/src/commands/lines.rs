//! A program's output split into lines: invalid UTF-8 replaced, a line longer than
//! [`MAX_LINE`] cut (its rest dropped up to the next line, with a note), nothing else lost. The
//! reader waits for its consumer: a program that writes faster than its lines are stored is
//! held back by its pipe, never dropped.

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

/// The longest line kept whole, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stdout,
    Stderr,
    Fd3,
}

/// One line of a program's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub source: Source,
    pub text: String,
    /// How many bytes were cut off its end.
    pub cut: u64,
}

/// Reads `from` to its end, sending each line to `to`; with `carriage`, a `\r` ends a line too
/// (a bar redrawn in place). Returns when `from` ends or `to` is gone.
pub async fn read(
    mut from: impl AsyncRead + Unpin,
    source: Source,
    carriage: bool,
    to: mpsc::Sender<Line>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    let mut cut: u64 = 0;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            let ends = b == b'\n' || (carriage && b == b'\r');
            if ends {
                if b == b'\n' && line.last() == Some(&b'\r') {
                    line.pop();
                }
                if carriage && line.is_empty() && cut == 0 {
                    // `\r\n`, or a bar cleared: nothing to tell.
                    continue;
                }
                if send(&to, source, &mut line, &mut cut).await.is_err() {
                    return;
                }
            } else if line.len() < MAX_LINE {
                line.push(b);
            } else {
                cut += 1;
            }
        }
    }
    if !line.is_empty() || cut > 0 {
        // The consumer may be gone already: nothing is left to tell it then.
        let _ = send(&to, source, &mut line, &mut cut).await;
    }
}

async fn send(
    to: &mpsc::Sender<Line>,
    source: Source,
    line: &mut Vec<u8>,
    cut: &mut u64,
) -> Result<(), ()> {
    let text = String::from_utf8_lossy(line).into_owned();
    let out = Line {
        source,
        text,
        cut: *cut,
    };
    line.clear();
    *cut = 0;
    to.send(out).await.map_err(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines_of(input: &[u8], carriage: bool) -> Vec<Line> {
        let (tx, mut rx) = mpsc::channel(4);
        let input = input.to_vec();
        let reader =
            tokio::spawn(async move { read(&input[..], Source::Stdout, carriage, tx).await });
        let mut out = Vec::new();
        while let Some(l) = rx.recv().await {
            out.push(l);
        }
        reader.await.unwrap();
        out
    }

    #[tokio::test]
    async fn lines_are_split_cut_and_repaired() {
        let mut input = b"one\r\ntwo\n\xffbad\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        input.extend(b"\nlast");
        let lines = lines_of(&input, false).await;
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts[..3], ["one", "two", "\u{fffd}bad"]);
        assert_eq!(lines[3].text.len(), MAX_LINE);
        assert_eq!(lines[3].cut, 10);
        assert_eq!(lines[4].text, "last");
        assert_eq!(lines.len(), 5);
    }

    #[tokio::test]
    async fn a_carriage_return_ends_a_drawing() {
        let lines = lines_of(b" 1/3\r 2/3\r 3/3\r\nnext\n", true).await;
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, [" 1/3", " 2/3", " 3/3", "next"]);
    }
}
