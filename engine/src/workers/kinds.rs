//! The kinds workers on other machines run. A worker registers the text of its commands file;
//! every server process reads it as the file's own server would ([`crate::commands::file`]),
//! without looking for its programs (they are on the worker's machine), and knows its commands
//! as kinds whose jobs are queued here and never claimed by a server's runner (a
//! [`CommandKind`] without programs). Their forms, checks, limits, retries and tags are the
//! file's.
//!
//! Each process learns them from the registry ([`crate::Jobs::refresh_remote_kinds`]): when a
//! worker registers through it, and at every look for workers that are gone. Workers that
//! register one name give it the definition of the one that registered last.

use crate::commands::file::{self, Runs};
use crate::commands::{Command, CommandKind};
use crate::kinds::ErasedKind;
use crate::store::RemoteRow;
use model::workers::WorkerState;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Commands files read before, by their text: a file is read once, however many workers
/// register it and however often the registry is looked at.
pub(crate) struct Parsed {
    languages: Vec<String>,
    files: Mutex<HashMap<String, Arc<Vec<Arc<Command>>>>>,
}

impl Parsed {
    pub(crate) fn new(languages: Vec<String>) -> Parsed {
        Parsed {
            languages,
            files: Mutex::default(),
        }
    }

    /// The commands of the file `text`, or why it cannot be read (naming the line).
    pub(crate) fn read(&self, text: &str) -> Result<Arc<Vec<Arc<Command>>>, String> {
        if let Some(found) = self.files.lock().unwrap().get(text) {
            return Ok(Arc::clone(found));
        }
        let languages: Vec<&str> = self.languages.iter().map(String::as_str).collect();
        let commands = file::parse_for(
            Path::new("commands.toml"),
            text,
            &languages,
            Runs::Elsewhere,
        )
        .map_err(|e| e.to_string())?;
        let commands = Arc::new(commands.into_iter().map(Arc::new).collect::<Vec<_>>());
        let mut files = self.files.lock().unwrap();
        // Only the files of workers registered now are kept: a few, however long it runs.
        if files.len() >= 64 {
            files.clear();
        }
        files.insert(text.to_string(), Arc::clone(&commands));
        Ok(commands)
    }
}

impl crate::Jobs {
    /// Makes this process's kinds those the registered workers run (a disabled worker's
    /// left out).
    pub(crate) fn install_remote_kinds(&self, workers: &[RemoteRow]) {
        let mut kinds: BTreeMap<String, Arc<dyn ErasedKind>> = BTreeMap::new();
        for w in workers {
            if WorkerState::parse(&w.state) == Some(WorkerState::Disabled) {
                continue;
            }
            // Read when it registered; a file this build cannot read is left out.
            let Ok(commands) = self.inner.remotes.parsed.read(&w.commands) else {
                continue;
            };
            for command in commands.iter() {
                kinds.insert(
                    command.info.name.clone(),
                    Arc::new(CommandKind {
                        command: Arc::clone(command),
                        programs: None,
                    }),
                );
            }
        }
        let clashes = self.inner.kinds.set_remote(kinds.into_values().collect());
        if !clashes.is_empty() {
            tracing::warn!(kinds = ?clashes, "workers run kinds of names this server has already; theirs are left out");
        }
    }

    /// Reads the registered workers and makes their kinds this process's.
    pub async fn refresh_remote_kinds(&self) -> Result<(), crate::store::StoreError> {
        let workers = self.inner.store.remotes().await?;
        self.install_remote_kinds(&workers);
        Ok(())
    }
}
