//! The last lines a program wrote to stderr: what a failed job's message quotes, wherever the
//! program ran (on a server, on a worker, or under `headway run`), so that a job that failed
//! says why in the program's own words rather than by its exit status alone.

use std::collections::VecDeque;

/// How many of the last stderr lines a failed job's message quotes.
const TAIL_LINES: usize = 5;
/// The longest message a failed job gets from stderr, in characters.
const TAIL_CHARS: usize = 1000;

/// The last [`TAIL_LINES`] lines of a program's stderr.
#[derive(Debug, Default)]
pub struct StderrTail(VecDeque<String>);

impl StderrTail {
    /// Keeps `line` (a bar's redrawing is not a line to keep: the caller leaves those out).
    pub fn push(&mut self, line: &str) {
        self.0.push_back(line.to_string());
        if self.0.len() > TAIL_LINES {
            self.0.pop_front();
        }
    }

    /// The error of a program that exited with `code` (`exit_7`): its last stderr lines (their
    /// end, at most [`TAIL_CHARS`] characters, cut at the start and marked `…`), or, when it
    /// wrote nothing there, Headway's words for its status.
    pub fn exit_error(&self, code: i32) -> model::JobError {
        if self.0.is_empty() {
            return model::JobError::words(
                format!("exit_{code}"),
                model::words::jobs::exited(code),
            );
        }
        let joined = self.0.iter().cloned().collect::<Vec<_>>().join("\n");
        let count = joined.chars().count();
        let message = match count > TAIL_CHARS {
            true => format!(
                "…{}",
                joined.chars().skip(count - TAIL_CHARS).collect::<String>()
            ),
            false => joined,
        };
        model::JobError::new(format!("exit_{code}"), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_programs_message_is_its_last_stderr_lines_or_its_status() {
        let mut tail = StderrTail::default();
        let status = tail.exit_error(7);
        assert_eq!(status.code, "exit_7");
        assert_eq!(status.message, "the program exited with status 7");
        assert_eq!(status.said.unwrap().id, "engine-exited");
        for i in 1..=7 {
            tail.push(&format!("line {i}"));
        }
        let own = tail.exit_error(7);
        assert_eq!(own.message, "line 3\nline 4\nline 5\nline 6\nline 7");
        assert_eq!(own.said, None, "the program's own words are not Headway's");
        let mut long = StderrTail::default();
        long.push(&"é".repeat(1500));
        let message = long.exit_error(1).message;
        assert_eq!(message.chars().count(), TAIL_CHARS + 1);
        assert!(message.starts_with('…'));
    }
}
