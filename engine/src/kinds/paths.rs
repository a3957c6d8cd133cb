//! Paths that people give to file-based kinds, resolved inside the data root.
//!
//! Parameters name files *relative to the data root*, and nothing a job reads or writes may lie
//! outside it. Checking the text of a path is not enough (`docs/link` may be a symbolic link to
//! `/etc`), so every path is also canonicalized and compared with the canonical root. Kinds
//! check their paths in `validate` (a bad path is a 4xx with a field message) and resolve them
//! again when they run, because the files may have changed in between.
//!
//! The error strings are field messages: they complete a sentence that starts with the field's
//! name ("dir: must not contain `..`").

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// Resolves `relative` inside `root` and returns its canonical path, which exists and lies
/// inside the canonical root (the root itself for `.`).
///
/// Refused: an empty path, an absolute path, any `..` component, a path that does not exist,
/// and a path that leaves the root through a symbolic link.
pub fn resolve_inside(root: &Path, relative: &str) -> Result<PathBuf, String> {
    let root = canonical_root(root)?;
    let joined = root.join(check_text(relative)?);
    let resolved = joined.canonicalize().map_err(|e| match e.kind() {
        ErrorKind::NotFound if is_link(&joined) => "is a symbolic link to nothing".to_string(),
        ErrorKind::NotFound => "does not exist".to_string(),
        ErrorKind::PermissionDenied => "cannot be read (permission denied)".to_string(),
        _ => format!("cannot be opened: {e}"),
    })?;
    if !resolved.starts_with(&root) {
        return Err(OUTSIDE_BY_LINK.into());
    }
    Ok(resolved)
}

/// Like [`resolve_inside`] for a file that a job creates when it is missing (an output
/// database, say): the file need not exist, but its folder must, and if the file exists (even
/// as a dangling symbolic link, which would create a file wherever it points) it must resolve
/// inside the root too. Returns the canonical folder joined with the file's name.
pub fn resolve_new_inside(root: &Path, relative: &str) -> Result<PathBuf, String> {
    let root = canonical_root(root)?;
    let path = check_text(relative)?;
    if path.file_name().is_none() {
        return Err("must name a file, not a folder".into());
    }
    let joined = root.join(path);
    if joined.symlink_metadata().is_ok() {
        return resolve_inside(&root, relative);
    }
    let name = joined
        .file_name()
        .expect("a checked path ends with a name")
        .to_owned();
    let folder = joined.parent().expect("a joined path has a parent");
    let folder = folder.canonicalize().map_err(|e| match e.kind() {
        ErrorKind::NotFound => "is in a folder that does not exist".to_string(),
        _ => format!("is in a folder that cannot be opened: {e}"),
    })?;
    if !folder.starts_with(&root) {
        return Err(OUTSIDE_BY_LINK.into());
    }
    if !folder.is_dir() {
        return Err("is inside something that is not a folder".into());
    }
    Ok(folder.join(name))
}

const OUTSIDE_BY_LINK: &str = "leads outside the data folder through a symbolic link";

/// The checks that need only the text: relative, no `..`, not empty.
fn check_text(relative: &str) -> Result<&Path, String> {
    if relative.trim().is_empty() {
        return Err("must not be empty (use . for the data folder itself)".into());
    }
    if relative.contains('\0') {
        return Err("must not contain a NUL character".into());
    }
    let path = Path::new(relative);
    for component in path.components() {
        match component {
            Component::RootDir | Component::Prefix(_) => {
                return Err("must be relative to the data folder, not an absolute path".into())
            }
            Component::ParentDir => return Err("must not contain `..`".into()),
            Component::CurDir | Component::Normal(_) => {}
        }
    }
    Ok(path)
}

fn canonical_root(root: &Path) -> Result<PathBuf, String> {
    // A server without its data folder is misconfigured; say so rather than blame the field.
    root.canonicalize().map_err(|e| {
        format!(
            "cannot be checked: the data folder {} is unusable ({e})",
            root.display()
        )
    })
}

fn is_link(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
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

        fn canonical(&self, rel: &str) -> PathBuf {
            self.root.canonicalize().unwrap().join(rel)
        }
    }

    #[test]
    fn a_plain_relative_path_resolves_to_its_canonical_form() {
        let d = Dirs::new();
        assert_eq!(
            resolve_inside(&d.root, "inside/file.txt"),
            Ok(d.canonical("inside/file.txt"))
        );
        assert_eq!(
            resolve_inside(&d.root, "./inside/./file.txt"),
            Ok(d.canonical("inside/file.txt"))
        );
    }

    #[test]
    fn dot_is_the_root_itself() {
        let d = Dirs::new();
        assert_eq!(
            resolve_inside(&d.root, "."),
            Ok(d.root.canonicalize().unwrap())
        );
    }

    #[test]
    fn absolute_paths_are_refused_even_inside_the_root() {
        let d = Dirs::new();
        let inside = d.root.join("inside/file.txt");
        let err = resolve_inside(&d.root, inside.to_str().unwrap()).unwrap_err();
        assert!(err.contains("absolute"), "{err}");
        assert!(resolve_inside(&d.root, "/etc/passwd")
            .unwrap_err()
            .contains("absolute"));
    }

    #[test]
    fn dot_dot_is_refused_even_when_it_would_come_back_inside() {
        let d = Dirs::new();
        for path in [
            "../outside/secret.txt",
            "inside/../inside/file.txt",
            "inside/..",
        ] {
            let err = resolve_inside(&d.root, path).unwrap_err();
            assert!(err.contains(".."), "{path}: {err}");
        }
    }

    #[test]
    fn a_symbolic_link_out_of_the_root_is_refused() {
        let d = Dirs::new();
        symlink(d.base.join("outside"), d.root.join("escape")).unwrap();
        symlink(d.base.join("outside/secret.txt"), d.root.join("secret.txt")).unwrap();
        for path in ["escape", "escape/secret.txt", "secret.txt"] {
            let err = resolve_inside(&d.root, path).unwrap_err();
            assert!(err.contains("outside the data folder"), "{path}: {err}");
        }
    }

    #[test]
    fn a_symbolic_link_that_stays_inside_is_followed() {
        let d = Dirs::new();
        symlink(d.root.join("inside"), d.root.join("alias")).unwrap();
        assert_eq!(
            resolve_inside(&d.root, "alias/file.txt"),
            Ok(d.canonical("inside/file.txt"))
        );
    }

    #[test]
    fn missing_and_empty_paths_have_their_own_messages() {
        let d = Dirs::new();
        assert_eq!(
            resolve_inside(&d.root, "nope.txt").unwrap_err(),
            "does not exist"
        );
        assert!(resolve_inside(&d.root, "  ")
            .unwrap_err()
            .contains("must not be empty"));
        symlink(d.root.join("gone"), d.root.join("dangling")).unwrap();
        assert_eq!(
            resolve_inside(&d.root, "dangling").unwrap_err(),
            "is a symbolic link to nothing"
        );
    }

    #[test]
    fn a_new_file_may_be_missing_but_its_folder_must_exist_inside() {
        let d = Dirs::new();
        assert_eq!(
            resolve_new_inside(&d.root, "inside/new.db"),
            Ok(d.canonical("inside/new.db"))
        );
        assert_eq!(
            resolve_new_inside(&d.root, "inside/file.txt"),
            Ok(d.canonical("inside/file.txt"))
        );
        assert!(resolve_new_inside(&d.root, "nowhere/new.db")
            .unwrap_err()
            .contains("does not exist"));
        assert!(resolve_new_inside(&d.root, "../new.db")
            .unwrap_err()
            .contains(".."));
        assert!(resolve_new_inside(&d.root, ".")
            .unwrap_err()
            .contains("must name a file"));
    }

    #[test]
    fn a_new_file_cannot_be_created_through_a_link_out_of_the_root() {
        let d = Dirs::new();
        symlink(d.base.join("outside"), d.root.join("escape")).unwrap();
        symlink(d.base.join("outside/new.db"), d.root.join("dangling.db")).unwrap();
        for path in ["escape/new.db", "dangling.db"] {
            let err = resolve_new_inside(&d.root, path).unwrap_err();
            assert!(
                err.contains("outside the data folder") || err.contains("symbolic link"),
                "{path}: {err}"
            );
        }
    }
}
