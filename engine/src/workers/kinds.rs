//! The kinds workers on other machines run, and who owns each name. A worker registers the text
//! of its commands file; every server process reads it as the file's own server would
//! ([`crate::commands::file`]), without looking for its programs (they are on the worker's
//! machine), and knows its commands as kinds whose jobs are queued here and never claimed by a
//! server's runner (a [`CommandKind`] without programs). Their forms, checks, limits, retries
//! and tags are the file's.
//!
//! A kind's name belongs to the worker token whose worker declared it first
//! ([`crate::store::WorkerKindRow`]), never to a name of the server's own (its kinds, its
//! workflows, `workflow`, `external`): another token's worker that declares it is refused (409),
//! and only the owner's workers take its jobs. What its jobs are made and run by, its
//! *declaration* (its parameters with their types, the tags it requires), changes only while
//! none of them is queued or running, so that a job is always run as its kind was declared when
//! it was made: a worker whose file declares the kind otherwise is refused, and a registration
//! left from before a change takes none of its jobs.
//!
//! Each process learns the kinds and their owners from the store
//! ([`crate::Jobs::refresh_remote_kinds`]): when a worker registers through it, and at every
//! look for workers that are gone.

use super::WorkToken;
use crate::commands::file::{self, Runs};
use crate::commands::{Command, CommandKind};
use crate::failures::read_failed;
use crate::kinds::ErasedKind;
use crate::store::{RemoteRow, WorkerKindRow};
use crate::{now_ms, Jobs};
use model::workers::{WorkerState, MAX_KINDS_PER_TOKEN};
use model::{AppError, ErrorCode, ParamType};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

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

/// A worker kind's owner and declaration, as this process last read them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Owned {
    pub(crate) token_id: String,
    pub(crate) declaration: String,
    /// Its file parameters, by the declaration.
    pub(crate) files: HashSet<String>,
}

/// Every worker kind's owner, by name.
#[derive(Default)]
pub(crate) struct Owners(RwLock<Arc<HashMap<String, Owned>>>);

impl Owners {
    fn set(&self, rows: Vec<WorkerKindRow>) {
        let owners = rows
            .into_iter()
            .map(|r| {
                let owned = Owned {
                    files: files_of(&r.declaration),
                    token_id: r.token_id,
                    declaration: r.declaration,
                };
                (r.name, owned)
            })
            .collect();
        *self.0.write().unwrap() = Arc::new(owners);
    }

    /// The owner of the kind `name`, if a worker token declared it.
    pub(crate) fn get(&self, name: &str) -> Option<Owned> {
        self.0.read().unwrap().get(name).cloned()
    }

    /// Whether `command`, in a file a worker registered with the token `token_id`, runs its
    /// kind's jobs: the token owns the name and the file declares it as it is declared now.
    pub(crate) fn runs(&self, token_id: &str, command: &Command) -> bool {
        self.0
            .read()
            .unwrap()
            .get(&command.info.name)
            .is_some_and(|o| o.token_id == token_id && o.declaration == declaration(command))
    }
}

/// What the jobs of a worker's `command` are made and run by, as canonical JSON: its
/// parameters by name with their types, and the tags it requires.
pub(crate) fn declaration(command: &Command) -> String {
    let mut params: Vec<(String, ParamType)> = command
        .params
        .iter()
        .map(|p| (p.name().to_string(), p.kind()))
        .collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    let mut requires = command.requires.clone();
    requires.sort();
    serde_json::json!({ "params": params, "requires": requires }).to_string()
}

/// The file parameters a declaration names.
fn files_of(declaration: &str) -> HashSet<String> {
    let Ok(read) = serde_json::from_str::<serde_json::Value>(declaration) else {
        return HashSet::new();
    };
    read["params"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| match (p[0].as_str(), p[1].as_str()) {
            (Some(name), Some("file")) => Some(name.to_string()),
            _ => None,
        })
        .collect()
}

impl Jobs {
    /// Why the kind name `name` is not a worker's to take, if it is not: a name of the server's
    /// own.
    fn reserved(&self, name: &str) -> Option<&'static str> {
        if name == model::workflows::WORKFLOW_KIND || name == model::EXTERNAL_KIND {
            return Some("is the server's own, for its runs and external jobs");
        }
        if self.inner.kinds.is_local(name) {
            return Some("is a kind this server runs itself");
        }
        if self.inner.workflows.get(name).is_some() {
            return Some("is a workflow of this server");
        }
        None
    }

    /// Gives the token `token` the names of the kinds of `commands` it does not own yet, and
    /// their declarations: 409 for a name of the server's, one another token owns, or one the
    /// token declared otherwise while its jobs are queued or running; 429 past the kinds one
    /// token may own. Nothing is changed unless every name may be.
    pub(crate) async fn declare_worker_kinds(
        &self,
        token: &WorkToken,
        commands: &[Arc<Command>],
    ) -> Result<(), AppError> {
        let store = &self.inner.store;
        let conflict = |message: String| AppError::new(ErrorCode::Conflict, message);
        let rows = store.worker_kinds().await.map_err(read_failed)?;
        let owned: HashMap<&str, &WorkerKindRow> =
            rows.iter().map(|r| (r.name.as_str(), r)).collect();
        let mut new = Vec::new();
        let mut changed = Vec::new();
        for command in commands {
            let name = command.info.name.as_str();
            if let Some(why) = self.reserved(name) {
                return Err(conflict(format!(
                    "the command {name:?} {why}: give it another name"
                )));
            }
            let declared = declaration(command);
            match owned.get(name) {
                None => new.push(WorkerKindRow {
                    name: name.to_string(),
                    token_id: token.id.clone(),
                    declaration: declared,
                    declared_at: now_ms(),
                }),
                Some(row) if row.token_id != token.id => {
                    return Err(self.taken(name, &row.token_id).await)
                }
                Some(row) if row.declaration != declared => {
                    let active = self.active_jobs_of(name).await?;
                    if active > 0 {
                        return Err(conflict(format!(
                            "the command {name:?} declares its parameters or tags otherwise than \
                             the kind's {active} jobs queued or running were made with: let them \
                             end (or cancel them) before changing them, or give the new command \
                             another name"
                        )));
                    }
                    changed.push((row.declaration.clone(), declared, name));
                }
                Some(_) => {}
            }
        }
        let mine = rows.iter().filter(|r| r.token_id == token.id).count();
        if mine + new.len() > MAX_KINDS_PER_TOKEN {
            return Err(AppError::too_many(
                format!(
                    "this worker token owns {mine} kinds, and at most {MAX_KINDS_PER_TOKEN} may be \
                     one token's: these commands would add {}; make another worker token for them",
                    new.len()
                ),
                60,
            ));
        }
        for row in new {
            let now = store.claim_worker_kind(&row).await.map_err(read_failed)?;
            if now.token_id != token.id {
                // Another token's worker declared it meanwhile.
                return Err(self.taken(&row.name, &now.token_id).await);
            }
        }
        for (before, declared, name) in changed {
            if !store
                .redeclare_worker_kind(name, &token.id, &before, &declared, now_ms())
                .await
                .map_err(read_failed)?
            {
                return Err(conflict(format!(
                    "the kind {name:?} was declared again by another of this token's workers \
                     meanwhile: register again"
                )));
            }
        }
        Ok(())
    }

    /// 409 for the kind `name`, which the token `owner` owns.
    async fn taken(&self, name: &str, owner: &str) -> AppError {
        let owner_name = match self.inner.store.worker_tokens().await {
            Ok(tokens) => tokens
                .into_iter()
                .find(|t| t.id == owner)
                .map_or_else(|| owner.to_string(), |t| t.name),
            Err(e) => return read_failed(e),
        };
        AppError::new(
            ErrorCode::Conflict,
            format!(
                "the kind {name:?} belongs to the worker token {owner_name:?}, whose workers \
                 declared it first: give this command another name, or have an admin revoke \
                 that token to free the name"
            ),
        )
    }

    /// How many jobs of `kind` are queued or running, anyone's.
    async fn active_jobs_of(&self, kind: &str) -> Result<u64, AppError> {
        let counts = self
            .inner
            .store
            .status_counts(None, Some(kind))
            .await
            .map_err(read_failed)?;
        Ok(counts
            .iter()
            .filter(|c| c.status.is_active())
            .map(|c| c.n)
            .sum())
    }

    /// Makes this process's kinds those the registered workers run, each as its owner's workers
    /// declare it now (a disabled worker's left out, and a registration from before its kind's
    /// declaration changed).
    pub(crate) fn install_remote_kinds(&self, workers: &[RemoteRow]) {
        let owners = &self.inner.remotes.owners;
        let mut kinds: BTreeMap<String, Arc<dyn ErasedKind>> = BTreeMap::new();
        for w in workers {
            if WorkerState::parse(&w.state) == Some(WorkerState::Disabled) {
                continue;
            }
            // Read when it registered; a file this build cannot read is left out.
            let Ok(commands) = self.inner.remotes.parsed.read(&w.commands) else {
                continue;
            };
            for command in commands.iter().filter(|c| owners.runs(&w.token_id, c)) {
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

    /// Reads the registered workers and the kinds' owners, and makes their kinds this
    /// process's.
    pub async fn refresh_remote_kinds(&self) -> Result<(), crate::store::StoreError> {
        let owners = self.inner.store.worker_kinds().await?;
        let workers = self.inner.store.remotes().await?;
        self.inner.remotes.owners.set(owners);
        self.install_remote_kinds(&workers);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declaration_names_the_parameters_their_types_and_the_tags_whatever_their_order() {
        let parsed = Parsed::new(vec!["en".into()]);
        let read = |text: &str| parsed.read(text).unwrap()[0].clone();
        let a = read(
            "[[command]]\nname = \"w\"\nprogram = \"x\"\nrequires = [\"gpu\", \"arm\"]\n\
             [command.params.b]\ntype = \"file\"\n[command.params.a]\ntype = \"string\"\n",
        );
        let b = read(
            "[[command]]\nname = \"w\"\ntitle = \"Another title\"\nprogram = \"y\"\n\
             requires = [\"arm\", \"gpu\"]\n\
             [command.params.a]\ntype = \"string\"\n[command.params.b]\ntype = \"file\"\n",
        );
        assert_eq!(declaration(&a), declaration(&b));
        assert_eq!(files_of(&declaration(&a)), HashSet::from(["b".to_string()]));
        let string = read(
            "[[command]]\nname = \"w\"\nprogram = \"x\"\nrequires = [\"gpu\", \"arm\"]\n\
             [command.params.b]\ntype = \"string\"\n[command.params.a]\ntype = \"string\"\n",
        );
        assert_ne!(declaration(&a), declaration(&string));
        assert!(files_of(&declaration(&string)).is_empty());
        let fewer_tags = read(
            "[[command]]\nname = \"w\"\nprogram = \"x\"\nrequires = [\"gpu\"]\n\
             [command.params.b]\ntype = \"file\"\n[command.params.a]\ntype = \"string\"\n",
        );
        assert_ne!(declaration(&a), declaration(&fewer_tags));
    }
}
