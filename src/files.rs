//! The few file operations kafkup does everywhere, each written once: atomic replacement,
//! private directories, and removal that does not mind what is already gone.

use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Data, logs, state and config are the user's business alone: 0750, whatever the umask says.
pub const PRIVATE_DIR_MODE: u32 = 0o750;

/// Writes `contents` to a temporary file beside `path`, flushes it to disk, sets `mode` and
/// renames it over `path`: a reader (or a crash) never sees half a file. The parent directory
/// must exist.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".kafkup-write-")
        .tempfile_in(dir)
        .map_err(|e| with_path(e, "cannot create a temporary file in", dir))?;
    tmp.write_all(contents)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| with_path(e.error, "cannot replace", path))?;
    Ok(())
}

/// Creates `dir` and any missing parents with [`PRIVATE_DIR_MODE`]; returns the directories
/// it created, outermost first (so that callers can record and later remove exactly those).
pub fn create_private_dirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut through_link = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur.filter(|d| !d.as_os_str().is_empty()) {
        if d.is_dir() {
            break;
        }
        if d.is_symlink() {
            // A link to a directory that is not there yet: make where it points.
            let target = resolve_existing_prefix(d);
            if target == d {
                let e = io::Error::other("a symbolic link that leads nowhere (a loop?)");
                return Err(with_path(e, "cannot create directory", d));
            }
            through_link = create_private_dirs(&target)?;
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    missing.reverse();
    for d in &missing {
        match std::fs::DirBuilder::new().mode(PRIVATE_DIR_MODE).create(d) {
            Err(e) if !(e.kind() == io::ErrorKind::AlreadyExists && d.is_dir()) => {
                return Err(with_path(e, "cannot create directory", d));
            }
            _ => {}
        }
    }
    through_link.extend(missing);
    Ok(through_link)
}

/// Removes a file; one that is not there is fine.
pub fn remove_file_if_exists(path: &Path) -> io::Result<()> {
    match fs_err::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes a directory and what it holds; one that is not there is fine.
pub fn remove_dir_all_if_exists(dir: &Path) -> io::Result<()> {
    match fs_err::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes a directory if it is empty (and exists); true if it is gone now.
pub fn remove_dir_if_empty(dir: &Path) -> bool {
    match std::fs::remove_dir(dir) {
        Ok(()) => true,
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

/// The nearest ancestor of `path` (or `path` itself) that exists, with symlinks resolved, and
/// the rest of `path` appended: where `path` really is, or will be once created.
pub fn resolve_existing_prefix(path: &Path) -> PathBuf {
    resolve_within(path, MAX_LINKS)
}

/// Symbolic links followed at most while resolving one path (Linux's own limit).
const MAX_LINKS: u32 = 40;

fn resolve_within(path: &Path, links: u32) -> PathBuf {
    let mut rest = Vec::new();
    let mut cur = path;
    loop {
        let dangling = || std::fs::read_link(cur).ok().filter(|_| links > 0);
        let real = match std::fs::canonicalize(cur) {
            Ok(real) => Some(real),
            // A link whose target is missing counts where it points, not where it is.
            Err(_) => dangling().map(|target| {
                let target = cur.parent().unwrap_or(Path::new("/")).join(target);
                resolve_within(&target, links - 1)
            }),
        };
        if let Some(real) = real {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// The user a file or directory belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    /// The user's name, or the uid as text when it has none.
    pub name: String,
}

impl Owner {
    pub fn of(path: &Path) -> io::Result<Owner> {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata(path)?.uid();
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid));
        let name = match user {
            Ok(Some(user)) => user.name,
            _ => uid.to_string(),
        };
        Ok(Owner { uid, name })
    }

    /// Is this who kafkup runs as?
    pub fn is_current_user(&self) -> bool {
        nix::unistd::geteuid().as_raw() == self.uid
    }

    /// This very command line, run as the owner: `sudo -u alice kafkup --root … stop`.
    pub fn run_this_as(&self) -> String {
        let sudo = match self.uid {
            0 => "sudo".to_string(),
            _ => format!("sudo -u {}", self.name),
        };
        let args: Vec<String> = std::env::args_os()
            .map(|a| {
                let a = a.to_string_lossy().into_owned();
                shlex::try_quote(&a).map_or(a.clone(), |q| q.into_owned())
            })
            .collect();
        format!("{sudo} {}", args.join(" "))
    }
}

fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_with_the_given_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_atomic(&path, b"one", 0o600).unwrap();
        write_atomic(&path, b"two", 0o644).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn private_dirs_report_what_they_created() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        let made = create_private_dirs(&deep).unwrap();
        assert_eq!(
            made,
            vec![dir.path().join("a"), dir.path().join("a/b"), deep.clone()]
        );
        let mode = std::fs::metadata(&deep).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, PRIVATE_DIR_MODE);
        assert!(create_private_dirs(&deep).unwrap().is_empty());
    }

    #[test]
    fn removal_does_not_mind_what_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        remove_file_if_exists(&dir.path().join("nope")).unwrap();
        assert!(remove_dir_if_empty(&dir.path().join("nope")));
        std::fs::write(dir.path().join("x"), "").unwrap();
        assert!(!remove_dir_if_empty(dir.path()));
    }

    #[test]
    fn existing_prefix_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let resolved = resolve_existing_prefix(&link.join("not/yet"));
        assert_eq!(
            resolved,
            std::fs::canonicalize(&real).unwrap().join("not/yet")
        );
    }
}
