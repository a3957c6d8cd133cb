//! What a start keeps beside its job. Some parameters are not stored with the job: a command's
//! secrets are kept in a file only Headway's user reads, and the uploads a file parameter names
//! are kept as long as a job uses them. The features that own them hook into every start here
//! ([`AroundStart`]), so that the start path ([`crate::Engine`]'s `insert_and_start_for`) names
//! none of them: it calls [`AroundStarts::before`] with the job about to be stored, and
//! [`AroundStarts::after`] once it knows whether it was.

use futures::future::BoxFuture;
use model::{AppError, Job, JobId};
use std::sync::Arc;

/// A feature's part in every start.
pub trait AroundStart: Send + Sync {
    /// Before `job` is stored: takes out of it, and keeps, what is not stored with it. An error
    /// refuses the start.
    fn before<'a>(&'a self, job: &'a mut Job) -> BoxFuture<'a, Result<(), AppError>>;

    /// After the start of `job`, of `kind`: `stored` is `false` when it was not stored
    /// (refused, or an earlier start with the same key answered instead), and what
    /// [`AroundStart::before`] kept for it goes.
    fn after<'a>(&'a self, job: &'a JobId, kind: &'a str, stored: bool) -> BoxFuture<'a, ()>;
}

/// Every feature's part, in the order they were added.
#[derive(Clone, Default)]
pub struct AroundStarts(Vec<Arc<dyn AroundStart>>);

impl AroundStarts {
    /// These and `hook`, after them.
    pub fn with(mut self, hook: Arc<dyn AroundStart>) -> AroundStarts {
        self.0.push(hook);
        self
    }

    /// Each hook's [`AroundStart::before`], in order; if one refuses, those before it are
    /// told that the job was not stored.
    pub async fn before(&self, job: &mut Job) -> Result<(), AppError> {
        for (i, hook) in self.0.iter().enumerate() {
            if let Err(e) = hook.before(job).await {
                for done in &self.0[..i] {
                    done.after(&job.id, &job.kind, false).await;
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Each hook's [`AroundStart::after`].
    pub async fn after(&self, job: &JobId, kind: &str, stored: bool) {
        for hook in &self.0 {
            hook.after(job, kind, stored).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records what it is told; refuses every start when `refuses`.
    struct Probe {
        name: &'static str,
        refuses: bool,
        said: Arc<Mutex<Vec<String>>>,
    }

    impl AroundStart for Probe {
        fn before<'a>(&'a self, job: &'a mut Job) -> BoxFuture<'a, Result<(), AppError>> {
            Box::pin(async move {
                self.said
                    .lock()
                    .unwrap()
                    .push(format!("{} before", self.name));
                if let Some(map) = job.params.as_object_mut() {
                    map.remove(self.name);
                }
                match self.refuses {
                    true => Err(AppError::bad_request("refused")),
                    false => Ok(()),
                }
            })
        }

        fn after<'a>(&'a self, _: &'a JobId, _: &'a str, stored: bool) -> BoxFuture<'a, ()> {
            Box::pin(async move {
                let line = format!("{} after {stored}", self.name);
                self.said.lock().unwrap().push(line);
            })
        }
    }

    fn hooks(refusing: Option<&'static str>) -> (AroundStarts, Arc<Mutex<Vec<String>>>) {
        let said = Arc::new(Mutex::new(Vec::new()));
        let hooks = ["a", "b", "c"]
            .into_iter()
            .fold(AroundStarts::default(), |hooks, name| {
                hooks.with(Arc::new(Probe {
                    name,
                    refuses: refusing == Some(name),
                    said: Arc::clone(&said),
                }))
            });
        (hooks, said)
    }

    fn job() -> Job {
        Job::queued(
            JobId::random(),
            "demo",
            serde_json::json!({"a": 1, "b": 2, "keep": 3}),
            0,
        )
    }

    #[tokio::test]
    async fn every_hook_takes_its_part_before_and_hears_the_end_after() {
        let (hooks, said) = hooks(None);
        let mut job = job();
        hooks.before(&mut job).await.unwrap();
        assert_eq!(job.params, serde_json::json!({"keep": 3}));
        hooks.after(&job.id, &job.kind, true).await;
        assert_eq!(
            *said.lock().unwrap(),
            [
                "a before",
                "b before",
                "c before",
                "a after true",
                "b after true",
                "c after true"
            ]
        );
    }

    #[tokio::test]
    async fn a_refusal_undoes_the_hooks_before_it_and_asks_none_after_it() {
        let (hooks, said) = hooks(Some("b"));
        let mut job = job();
        let refused = hooks.before(&mut job).await.unwrap_err();
        assert_eq!(refused.message, "refused");
        assert_eq!(
            *said.lock().unwrap(),
            ["a before", "b before", "a after false"]
        );
    }
}
