//! What became of a change, typed by the change: each [`Change`](crate::Change) carries the
//! [`Answer`] its sender waits on, and the batch that applies it fills it with a value of that
//! change's own type (a claim's jobs, a move's job, whether a log line was taken). The writer
//! sends it once the batch has committed, or the batch's error if it did not: a sender never
//! learns of a change that is not in the store, and never has to ask what kind of answer came.

use crate::StoreError;
use std::fmt;
use tokio::sync::oneshot;

/// The answer a change carries: where its sender waits (`None`: nobody waits, as for progress
/// samples and log lines), and the value the batch gave it, kept until the commit. Boxed, so
/// that a change (and the writer's queue of them) is no larger for the job an answer may hold.
pub struct Answer<T> {
    value: Option<Box<Result<T, StoreError>>>,
    reply: Option<oneshot::Sender<Result<T, StoreError>>>,
}

/// Where a change's sender waits for its [`Answer`].
#[derive(Debug)]
pub struct Answered<T>(oneshot::Receiver<Result<T, StoreError>>);

impl<T> Answer<T> {
    /// An answer someone waits for, and where they wait.
    pub fn new() -> (Answer<T>, Answered<T>) {
        let (reply, rx) = oneshot::channel();
        let answer = Answer {
            value: None,
            reply: Some(reply),
        };
        (answer, Answered(rx))
    }

    /// An answer nobody waits for: the batch keeps no value for it.
    pub fn none() -> Answer<T> {
        Answer {
            value: None,
            reply: None,
        }
    }

    /// What the batch made of the change (replacing what an earlier attempt of the same batch
    /// made of it).
    pub(crate) fn set(&mut self, value: T) {
        if self.reply.is_some() {
            self.value = Some(Box::new(Ok(value)));
        }
    }
}

impl<T> Answered<T> {
    /// Waits for the answer: the change's value once its batch committed, or why it did not.
    pub async fn get(self) -> Result<T, StoreError> {
        self.0
            .await
            .map_err(|_| StoreError::msg("the store's writer stopped before it answered"))?
    }

    /// The answer, if it came already (once the batch is applied, it has).
    pub fn now(mut self) -> Result<T, StoreError> {
        self.0
            .try_recv()
            .map_err(|_| StoreError::msg("the change has not been answered"))?
    }
}

impl<T> fmt::Debug for Answer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.reply {
            Some(_) => "Answer(awaited)",
            None => "Answer(none)",
        })
    }
}

/// An [`Answer`] whatever its type: what the writer does with every change's once the batch
/// is done.
pub(crate) trait Settle {
    /// Whether someone waits for the answer.
    fn awaited(&self) -> bool;
    /// The change failed alone and was undone: its answer is `error`, whatever the batch does.
    fn fail(&mut self, error: &StoreError);
    /// Sends the answer: the value the batch gave it, unless the batch (`Err`) or the change
    /// itself failed.
    fn send(&mut self, batch: Result<(), &StoreError>);
}

impl<T> Settle for Answer<T> {
    fn awaited(&self) -> bool {
        self.reply.is_some()
    }

    fn fail(&mut self, error: &StoreError) {
        if self.reply.is_some() {
            self.value = Some(Box::new(Err(error.clone())));
        }
    }

    fn send(&mut self, batch: Result<(), &StoreError>) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let answer = match (batch, self.value.take()) {
            (Err(e), _) => Err(e.clone()),
            (Ok(()), Some(value)) => *value,
            (Ok(()), None) => Err(StoreError::msg("the batch gave the change no answer")),
        };
        let _ = reply.send(answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_sent_only_once_its_batch_is_done_and_says_what_failed() {
        let (mut a, answered) = Answer::new();
        a.set(5);
        a.send(Ok(()));
        assert_eq!(answered.now().unwrap(), 5);

        let (mut a, answered) = Answer::<u8>::new();
        a.set(5);
        a.send(Err(&StoreError::msg("disk full")));
        assert_eq!(answered.now().unwrap_err().to_string(), "disk full");

        let (mut a, answered) = Answer::<u8>::new();
        a.set(5);
        a.fail(&StoreError::msg("constraint"));
        a.send(Ok(()));
        assert_eq!(answered.now().unwrap_err().to_string(), "constraint");

        let (mut a, answered) = Answer::<u8>::new();
        a.send(Ok(()));
        assert!(
            answered.now().is_err(),
            "a change the batch never answered is an error"
        );

        let (a, answered) = Answer::<u8>::new();
        assert!(answered.now().is_err(), "not sent yet");
        drop(a);
    }

    #[test]
    fn an_answer_is_a_few_pointers_whatever_it_holds() {
        let small = std::mem::size_of::<Answer<bool>>();
        assert!(small <= 3 * std::mem::size_of::<usize>(), "{small} bytes");
        assert_eq!(std::mem::size_of::<Answer<Option<model::Job>>>(), small);
        assert_eq!(std::mem::size_of::<Answer<crate::Created>>(), small);
    }

    #[test]
    fn an_answer_nobody_waits_for_keeps_nothing() {
        let mut a = Answer::none();
        a.set(vec![0u8; 1024]);
        assert!(a.value.is_none() && !a.awaited());
        a.send(Ok(()));
        let (a, _answered) = Answer::<u8>::new();
        assert!(a.awaited());
    }
}
