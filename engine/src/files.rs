//! The files a job may open, and how it opens them.
//!
//! Parameters name files *relative to a folder*: the data folder for an open server's users,
//! its operators and admins; for a member with `--auth accounts`, their own folder of it,
//! `users/<name>/`, and the shared folder `shared/` (which operators fill) to read, named
//! `shared/...`. Nothing a job reads or writes may lie outside those.
//!
//! Checking a path's text, or resolving it once and opening it later, is not enough: a file
//! checked when the job was validated can be swapped for a link to `/etc/shadow`, or for a pipe
//! whose `open` never returns, before it is read. So every file is opened relative to an open
//! handle on its folder ([`cap_std`]), where the kernel refuses every path, `..` or link that
//! leads out of it; relative links that stay inside are followed (a link by absolute path is
//! refused, wherever it points: where it leads depends on where the folder is). Files are opened without blocking
//! (a pipe does not stall the open) and checked to be regular files *after* they are open, on
//! the file that was opened. All of this is blocking I/O: call it on the blocking pool.
//!
//! The error strings are field messages: they complete a sentence that starts with the field's
//! name ("dir: must not contain `..`").

use cap_fs_ext::{DirExt, OpenOptionsSyncExt};
use cap_std::fs::{Dir, OpenOptions};
use model::words::files;
use model::Words;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// Members' folders are in this folder of the data folder, one per account name.
pub const USERS: &str = "users";
/// The folder every member may read, named `shared/...` in their paths.
pub const SHARED: &str = "shared";

/// What a job may open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    data_root: PathBuf,
    scope: Scope,
}

/// Which part of the data folder a job sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// All of it.
    Whole,
    /// A member's folder (`users/<name>`), and `shared/` to read.
    Own(String),
}

/// A path a job may use: the folder it is relative to, opened, and the path from there.
#[derive(Debug)]
pub struct Located {
    pub base: Dir,
    /// Relative to `base`; empty for `base` itself.
    pub path: PathBuf,
}

impl Files {
    /// The whole data folder at `data_root`.
    pub fn whole(data_root: impl Into<PathBuf>) -> Files {
        Files {
            data_root: data_root.into(),
            scope: Scope::Whole,
        }
    }

    /// A member's part of the data folder at `data_root`.
    pub fn own(data_root: impl Into<PathBuf>, name: &str) -> Files {
        Files {
            data_root: data_root.into(),
            scope: Scope::Own(name.to_string()),
        }
    }

    /// What `caller`'s jobs may open: a signed-in member's (or viewer's) own folder; the whole
    /// data folder for operators and admins, and for an open server's anonymous users.
    pub fn for_caller(data_root: impl Into<PathBuf>, caller: &crate::Caller) -> Files {
        match caller.name() {
            Some(name) if !caller.role().acts_on_all() => Files::own(data_root, name),
            _ => Files::whole(data_root),
        }
    }

    /// What the jobs of `owner` (a user id) may open when they run, as [`Files::for_caller`]
    /// decides for the account's role now: an owner without an account (an open server's
    /// anonymous user, the operator token) sees the whole data folder.
    pub async fn for_owner(
        data_root: impl Into<PathBuf>,
        store: &crate::store::Store,
        owner: &model::UserId,
    ) -> Result<Files, crate::store::StoreError> {
        let data_root = data_root.into();
        Ok(match store.user_by_id(owner).await? {
            Some(user) => {
                let role = model::Role::parse(&user.role).unwrap_or(model::Role::Viewer);
                match role.acts_on_all() {
                    true => Files::whole(data_root),
                    false => Files::own(data_root, &user.name),
                }
            }
            None => Files::whole(data_root),
        })
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The data folder itself (for messages and for tests; never open files by it).
    pub fn data_root(&self) -> &Path {
        &self.data_root
    }

    /// Where `relative` lies, to read. Refused: an empty path, an absolute path, any `..`.
    pub fn locate(&self, relative: &str) -> Result<Located, Words> {
        self.place(relative, false)
    }

    /// Where `relative` lies, to write: never in the shared folder for a member.
    pub fn locate_for_writing(&self, relative: &str) -> Result<Located, Words> {
        self.place(relative, true)
    }

    /// The folder `relative` names: it exists and is a folder (`.` for the whole scope).
    pub fn folder(&self, relative: &str) -> Result<Located, Words> {
        let located = self.locate(relative)?;
        let meta = match located.path.as_os_str().is_empty() {
            true => located.base.dir_metadata(),
            false => located.base.metadata(&located.path),
        };
        match meta {
            Ok(m) if m.is_dir() => Ok(located),
            Ok(_) => Err(files::not_a_directory()),
            Err(e) => Err(self.explain(&located, e)),
        }
    }

    /// Opens the regular file `relative` names, to read.
    pub fn open_file(&self, relative: &str) -> Result<std::fs::File, Words> {
        let located = self.locate(relative)?;
        if located.path.as_os_str().is_empty() {
            return Err(files::not_a_file());
        }
        open_regular(&located.base, &located.path).map_err(|e| self.explain(&located, e))
    }

    /// The SQLite file `relative` names, to write (created when missing): its folder is checked
    /// to lie inside, and the file, if there, to be a regular file and not a link. Returns the
    /// path that reaches it now, for SQLite, which opens files by path.
    pub fn database(&self, relative: &str) -> Result<PathBuf, Words> {
        let located = self.locate_for_writing(relative)?;
        let Some(name) = located.path.file_name().map(|n| n.to_owned()) else {
            return Err(files::name_a_file());
        };
        let parent = located.path.parent().unwrap_or(Path::new(""));
        let folder = match parent.as_os_str().is_empty() {
            true => located
                .base
                .try_clone()
                .map_err(|e| self.explain(&located, e))?,
            false => located.base.open_dir(parent).map_err(|e| match e.kind() {
                ErrorKind::NotFound => files::folder_missing(),
                ErrorKind::NotADirectory => files::inside_not_folder(),
                _ => self.explain(&located, e),
            })?,
        };
        match folder.symlink_metadata(&name) {
            Ok(m) if m.is_symlink() => return Err(files::database_link()),
            Ok(m) if m.is_dir() => return Err(files::database_folder()),
            Ok(m) if !m.is_file() => return Err(files::not_regular()),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(self.explain(&located, e)),
        }
        Ok(path_of(&folder).map_err(files::cannot_open)?.join(name))
    }

    /// The folder `relative` is relative to, opened, and the rest of it.
    fn place(&self, relative: &str, write: bool) -> Result<Located, Words> {
        let path = check_text(relative)?;
        let root = Dir::open_ambient_dir(&self.data_root, cap_std::ambient_authority())
            .map_err(|e| files::data_folder_unusable(self.data_root.display(), e))?;
        let Scope::Own(name) = &self.scope else {
            return Ok(Located {
                base: root,
                path: normal(path),
            });
        };
        let path = normal(path);
        let mut parts = path.components();
        if parts.next() == Some(Component::Normal(SHARED.as_ref())) {
            if write {
                return Err(files::shared_read_only(SHARED));
            }
            let shared =
                open_or_make(&root, Path::new(SHARED)).map_err(files::shared_folder_unusable)?;
            return Ok(Located {
                base: shared,
                path: parts.as_path().to_path_buf(),
            });
        }
        let own = open_or_make(&root, &Path::new(USERS).join(name))
            .map_err(files::own_folder_unusable)?;
        Ok(Located { base: own, path })
    }

    /// A field message for `e`, met while opening something of `located`.
    fn explain(&self, located: &Located, e: std::io::Error) -> Words {
        let outside = match &self.scope {
            Scope::Whole => files::outside_data_folder(),
            Scope::Own(_) => files::outside_own_folder(),
        };
        match e.kind() {
            ErrorKind::NotFound if is_link(&located.base, &located.path) => files::dangling_link(),
            ErrorKind::NotFound => files::does_not_exist(),
            ErrorKind::NotADirectory => files::inside_not_folder(),
            // What [`open_regular`] refuses, in its own words.
            ErrorKind::InvalidInput => match e.get_ref().and_then(|w| w.downcast_ref::<Words>()) {
                Some(words) => words.clone(),
                None => files::cannot_open(e),
            },
            ErrorKind::CrossesDevices => outside,
            ErrorKind::PermissionDenied if e.to_string().contains("outside") => outside,
            ErrorKind::PermissionDenied => files::permission_denied(),
            _ => files::cannot_open(e),
        }
    }
}

/// Opens `path` (relative to `base`, never out of it) to read, without waiting on a pipe or a
/// device, and checks that what was opened is a regular file.
pub fn open_regular(base: &Dir, path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = OpenOptions::new();
    options.read(true).nonblock(true);
    let file = base.open_with(path, &options)?.into_std();
    let meta = file.metadata()?;
    let refused = match () {
        _ if meta.is_file() => return Ok(file),
        _ if meta.is_dir() => files::not_a_file(),
        _ => files::not_regular(),
    };
    Err(std::io::Error::new(ErrorKind::InvalidInput, refused))
}

/// The folder `path` of `root`, made (readable by this user only) if missing; not through a
/// link.
fn open_or_make(root: &Dir, path: &Path) -> std::io::Result<Dir> {
    match root.open_dir_nofollow(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let mut builder = cap_std::fs::DirBuilder::new();
            {
                use cap_std::fs::DirBuilderExt;
                builder.recursive(true).mode(0o700);
            }
            root.create_dir_with(path, &builder)?;
            root.open_dir_nofollow(path)
        }
        other => other,
    }
}

/// Where an open folder is now, as a path (Linux keeps it in `/proc/self/fd`).
pub fn path_of(dir: &Dir) -> std::io::Result<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", dir.as_raw_fd()))
}

/// `path` without its `.` components (`./a/./b` is `a/b`, `.` is empty).
fn normal(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

/// Whether `path` (relative to `base`) is itself a symbolic link.
fn is_link(base: &Dir, path: &Path) -> bool {
    !path.as_os_str().is_empty()
        && base
            .symlink_metadata(path)
            .is_ok_and(|m| m.file_type().is_symlink())
}

/// The checks that need only the text: relative, no `..`, not empty.
fn check_text(relative: &str) -> Result<&Path, Words> {
    if relative.trim().is_empty() {
        return Err(files::path_empty());
    }
    if relative.contains('\0') {
        return Err(model::words::no_nul());
    }
    let path = Path::new(relative);
    for component in path.components() {
        match component {
            Component::RootDir | Component::Prefix(_) => return Err(files::path_absolute()),
            Component::ParentDir => return Err(files::path_dot_dot()),
            Component::CurDir | Component::Normal(_) => {}
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    /// A data root with `inside/file.txt`, and a sibling folder `outside/secret.txt` that
    /// no path may reach.
    struct Dirs {
        _tmp: tempfile::TempDir,
        base: PathBuf,
        root: PathBuf,
    }

    impl Dirs {
        fn new() -> Dirs {
            let tmp = tempfile::tempdir().unwrap();
            let base = tmp.path().to_path_buf();
            let root = base.join("root");
            fs::create_dir_all(root.join("inside")).unwrap();
            fs::write(root.join("inside/file.txt"), "hello").unwrap();
            fs::create_dir_all(base.join("outside")).unwrap();
            fs::write(base.join("outside/secret.txt"), "secret").unwrap();
            Dirs {
                _tmp: tmp,
                base,
                root,
            }
        }

        fn whole(&self) -> Files {
            Files::whole(&self.root)
        }

        fn read(&self, files: &Files, path: &str) -> Result<String, String> {
            let mut text = String::new();
            files
                .open_file(path)?
                .read_to_string(&mut text)
                .map_err(|e| e.to_string())?;
            Ok(text)
        }
    }

    #[test]
    fn a_plain_relative_path_opens_its_file() {
        let d = Dirs::new();
        assert_eq!(d.read(&d.whole(), "inside/file.txt").unwrap(), "hello");
        assert_eq!(d.read(&d.whole(), "./inside/./file.txt").unwrap(), "hello");
        assert!(d.whole().folder(".").is_ok());
        assert!(d.whole().folder("inside").is_ok());
        assert_eq!(
            d.whole().folder("inside/file.txt").unwrap_err().english,
            "is not a directory"
        );
    }

    #[test]
    fn absolute_paths_and_dot_dot_are_refused_even_inside_the_root() {
        let d = Dirs::new();
        let inside = d.root.join("inside/file.txt");
        let err = d
            .whole()
            .open_file(inside.to_str().unwrap())
            .unwrap_err()
            .english;
        assert!(err.contains("absolute"), "{err}");
        for path in ["../outside/secret.txt", "inside/../inside/file.txt"] {
            let err = d.whole().open_file(path).unwrap_err().english;
            assert!(err.contains(".."), "{path}: {err}");
        }
    }

    #[test]
    fn a_symbolic_link_out_of_the_root_is_refused_and_one_inside_followed() {
        let d = Dirs::new();
        symlink(d.base.join("outside"), d.root.join("escape")).unwrap();
        symlink(d.base.join("outside/secret.txt"), d.root.join("secret.txt")).unwrap();
        symlink("../outside/secret.txt", d.root.join("relative.txt")).unwrap();
        for path in ["escape/secret.txt", "secret.txt", "relative.txt"] {
            let err = d.whole().open_file(path).unwrap_err().english;
            assert!(err.contains("outside the data folder"), "{path}: {err}");
        }
        assert!(d
            .whole()
            .folder("escape")
            .unwrap_err()
            .english
            .contains("outside"));
        symlink("inside", d.root.join("alias")).unwrap();
        assert_eq!(d.read(&d.whole(), "alias/file.txt").unwrap(), "hello");
        // A link by absolute path is refused even when it points inside: where it leads
        // depends on where the folder is mounted.
        symlink(d.root.join("inside"), d.root.join("absolute")).unwrap();
        assert!(d
            .whole()
            .open_file("absolute/file.txt")
            .unwrap_err()
            .english
            .contains("outside the data folder"));
    }

    #[test]
    fn a_pipe_is_refused_without_waiting_for_a_writer() {
        let d = Dirs::new();
        let fifo = d.root.join("inside/pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening a pipe to read would wait for a writer forever; this answers at once.
        assert_eq!(
            d.whole().open_file("inside/pipe").unwrap_err().english,
            "is not a regular file (a pipe, a device or a socket)"
        );
        assert_eq!(
            d.whole().open_file("inside").unwrap_err().english,
            "is not a file"
        );
    }

    #[test]
    fn missing_and_empty_paths_have_their_own_messages() {
        let d = Dirs::new();
        assert_eq!(
            d.whole().open_file("nope.txt").unwrap_err().english,
            "does not exist"
        );
        assert!(d
            .whole()
            .open_file("  ")
            .unwrap_err()
            .english
            .contains("must not be empty"));
        symlink("gone", d.root.join("dangling")).unwrap();
        assert_eq!(
            d.whole().open_file("dangling").unwrap_err().english,
            "is a symbolic link to nothing"
        );
    }

    #[test]
    fn a_member_sees_their_own_folder_and_reads_the_shared_one() {
        let d = Dirs::new();
        let ada = Files::own(&d.root, "ada");
        let bob = Files::own(&d.root, "bob");
        // Their folders are made as they are first used.
        assert!(ada.folder(".").is_ok());
        fs::write(d.root.join("users/ada/mine.csv"), "a,b\n").unwrap();
        fs::create_dir_all(d.root.join("shared")).unwrap();
        fs::write(d.root.join("shared/common.csv"), "c,d\n").unwrap();
        assert_eq!(d.read(&ada, "mine.csv").unwrap(), "a,b\n");
        assert_eq!(d.read(&ada, "shared/common.csv").unwrap(), "c,d\n");
        assert_eq!(d.read(&bob, "shared/common.csv").unwrap(), "c,d\n");
        // The data folder's other files, and other members', are out of reach.
        assert_eq!(
            bob.open_file("mine.csv").unwrap_err().english,
            "does not exist"
        );
        assert_eq!(
            ada.open_file("inside/file.txt").unwrap_err().english,
            "does not exist"
        );
        symlink("../bob", d.root.join("users/ada/peek")).unwrap();
        assert!(ada
            .folder("peek")
            .unwrap_err()
            .english
            .contains("outside your folder"));
        // The shared folder is read-only to members; operators write it as the whole folder.
        assert!(ada
            .database("shared/out.db")
            .unwrap_err()
            .english
            .contains("may only read"));
        assert!(d.whole().database("shared/out.db").is_ok());
        assert_eq!(
            ada.database("out.db").unwrap(),
            d.root.canonicalize().unwrap().join("users/ada/out.db")
        );
    }

    #[test]
    fn a_database_may_be_new_but_its_folder_must_exist_inside_and_it_is_no_link() {
        let d = Dirs::new();
        let root = d.root.canonicalize().unwrap();
        assert_eq!(
            d.whole().database("inside/new.db"),
            Ok(root.join("inside/new.db"))
        );
        assert!(d
            .whole()
            .database("nowhere/new.db")
            .unwrap_err()
            .english
            .contains("does not exist"));
        assert!(d
            .whole()
            .database(".")
            .unwrap_err()
            .english
            .contains("must name a file"));
        assert!(d
            .whole()
            .database("inside")
            .unwrap_err()
            .english
            .contains("is a folder"));
        symlink(d.base.join("outside"), d.root.join("escape")).unwrap();
        assert!(d
            .whole()
            .database("escape/new.db")
            .unwrap_err()
            .english
            .contains("outside the data folder"));
        symlink(d.base.join("outside/new.db"), d.root.join("dangling.db")).unwrap();
        assert!(d
            .whole()
            .database("dangling.db")
            .unwrap_err()
            .english
            .contains("symbolic link"));
    }
}
