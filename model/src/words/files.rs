//! The words of a path's refusal: a file or folder a parameter names in the data folder
//! (`engine::files`).

use crate::Words;
use std::fmt::Display;

pub fn not_a_directory() -> Words {
    Words::new("engine-not-a-directory", "is not a directory")
}

pub fn not_a_file() -> Words {
    Words::new("engine-not-a-file", "is not a file")
}

/// A pipe, a device or a socket where a file was expected.
pub fn not_regular() -> Words {
    Words::new(
        "engine-not-regular",
        "is not a regular file (a pipe, a device or a socket)",
    )
}

/// A database's path that names a folder (`out/`).
pub fn name_a_file() -> Words {
    Words::new("engine-name-a-file", "must name a file, not a folder")
}

pub fn folder_missing() -> Words {
    Words::new(
        "engine-folder-missing",
        "is in a folder that does not exist",
    )
}

pub fn inside_not_folder() -> Words {
    Words::new(
        "engine-inside-not-folder",
        "is inside something that is not a folder",
    )
}

pub fn database_link() -> Words {
    Words::new(
        "engine-database-link",
        "is a symbolic link; name the database file itself",
    )
}

pub fn database_folder() -> Words {
    Words::new("engine-database-folder", "is a folder, not a database file")
}

/// What the system said when the path could not be opened, in its own words.
pub fn cannot_open(reason: impl Display) -> Words {
    Words::new("engine-cannot-open", format!("cannot be opened: {reason}")).with("reason", reason)
}

/// What the system said when the file could not be read, in its own words.
pub fn cannot_read(reason: impl Display) -> Words {
    Words::new("engine-cannot-read", format!("cannot be read: {reason}")).with("reason", reason)
}

pub fn data_folder_unusable(folder: impl Display, reason: impl Display) -> Words {
    Words::new(
        "engine-data-folder-unusable",
        format!("cannot be checked: the data folder {folder} is unusable ({reason})"),
    )
    .with("folder", folder)
    .with("reason", reason)
}

pub fn shared_folder_unusable(reason: impl Display) -> Words {
    Words::new(
        "engine-shared-folder-unusable",
        format!("cannot be checked: the shared folder is unusable ({reason})"),
    )
    .with("reason", reason)
}

pub fn own_folder_unusable(reason: impl Display) -> Words {
    Words::new(
        "engine-own-folder-unusable",
        format!("cannot be checked: your folder is unusable ({reason})"),
    )
    .with("reason", reason)
}

/// A member writing into the shared folder (`folder` is its name).
pub fn shared_read_only(folder: impl Display) -> Words {
    Words::new(
        "engine-shared-read-only",
        format!("is in the shared folder ({folder}/), which members may only read"),
    )
    .with("folder", folder)
}

pub fn outside_data_folder() -> Words {
    Words::new(
        "engine-outside-data-folder",
        "leads outside the data folder through a symbolic link",
    )
}

pub fn outside_own_folder() -> Words {
    Words::new(
        "engine-outside-own-folder",
        "leads outside your folder through a symbolic link",
    )
}

pub fn dangling_link() -> Words {
    Words::new("engine-dangling-link", "is a symbolic link to nothing")
}

pub fn does_not_exist() -> Words {
    Words::new("engine-does-not-exist", "does not exist")
}

pub fn permission_denied() -> Words {
    Words::new(
        "engine-permission-denied",
        "cannot be read (permission denied)",
    )
}

pub fn path_empty() -> Words {
    Words::new(
        "engine-path-empty",
        "must not be empty (use . for the whole folder)",
    )
}

pub fn path_absolute() -> Words {
    Words::new(
        "engine-path-absolute",
        "must be relative to the data folder, not an absolute path",
    )
}

pub fn path_dot_dot() -> Words {
    Words::new("engine-path-dot-dot", "must not contain `..`")
}

/// Every function here with sample values.
pub fn samples() -> Vec<Words> {
    vec![
        not_a_directory(),
        not_a_file(),
        not_regular(),
        name_a_file(),
        folder_missing(),
        inside_not_folder(),
        database_link(),
        database_folder(),
        cannot_open("Too many open files (os error 24)"),
        cannot_read("Is a directory (os error 21)"),
        data_folder_unusable(
            "/srv/headway/files",
            "No such file or directory (os error 2)",
        ),
        shared_folder_unusable("Permission denied (os error 13)"),
        own_folder_unusable("Permission denied (os error 13)"),
        shared_read_only("shared"),
        outside_data_folder(),
        outside_own_folder(),
        dangling_link(),
        does_not_exist(),
        permission_denied(),
        path_empty(),
        path_absolute(),
        path_dot_dot(),
    ]
}
