//! One kafkup command at a time per environment: commands that change things hold an
//! exclusive lock, so two setups cannot both spawn a broker or race on the manifest.

use crate::error::Diagnose;
use crate::paths::Paths;
use nix::fcntl::{Flock, FlockArg};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

/// Held for as long as it lives; released on drop (and by the kernel if kafkup dies).
pub struct EnvironmentLock {
    _lock: Flock<std::fs::File>,
    path: PathBuf,
    /// The directories taking the lock created (the state directory, its parents).
    created: Vec<PathBuf>,
}

impl EnvironmentLock {
    /// For a command that failed before it made anything: the lock file and the directories
    /// taking it created go again, so a failed first setup leaves no trace.
    pub fn forget(self) {
        let _ = crate::files::remove_file_if_exists(&self.path);
        for dir in self.created.iter().rev() {
            crate::files::remove_dir_if_empty(dir);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another kafkup command{} is working on this environment ({})", holder.as_ref().map(|p| format!(" (pid {p})")).unwrap_or_default(), path.display())]
    Busy {
        path: PathBuf,
        holder: Option<String>,
    },
    /// kafkup changes an environment only as the user it belongs to: as anyone else it
    /// would leave files (pid files, logs, the manifest) and services the owner cannot touch.
    #[error("the environment under {} belongs to {}; kafkup changes it only as its owner", state.display(), owner.name)]
    NotOwner {
        state: PathBuf,
        owner: crate::files::Owner,
    },
    #[error("cannot lock {}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Diagnose for LockError {
    fn exit_code(&self) -> crate::error::ExitCode {
        match self {
            LockError::NotOwner { .. } => crate::error::ExitCode::Usage,
            _ => crate::error::ExitCode::Error,
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            LockError::NotOwner { owner, .. } => Some(format!(
                "run it as {}: `{}`",
                owner.name,
                owner.run_this_as()
            )),
            LockError::Busy { .. } => {
                Some("wait for it to finish, then run this command again".into())
            }
            LockError::Io { .. } => {
                Some("check that the state directory is writable (or pass --root DIR)".into())
            }
        }
    }
}

/// The lock file, in the state directory (`teardown --purge` removes it last).
pub fn lock_file(paths: &Paths) -> PathBuf {
    paths.state.join("lock")
}

/// Takes the environment's lock, or says who holds it (or whose environment it is).
pub fn acquire(paths: &Paths) -> Result<EnvironmentLock, LockError> {
    // An environment that exists is its owner's (a new one becomes whoever makes it).
    if let Ok(owner) = crate::files::Owner::of(&paths.state) {
        if !owner.is_current_user() {
            let state = paths.state.clone();
            return Err(LockError::NotOwner { state, owner });
        }
    }
    let path = lock_file(paths);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    let created = crate::files::create_private_dirs(&paths.state).map_err(io)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut lock) => {
            // Who holds it, for the message another command prints.
            let _ = lock.set_len(0);
            let _ = lock.rewind();
            let _ = write!(lock, "{}", std::process::id());
            Ok(EnvironmentLock {
                _lock: lock,
                path,
                created,
            })
        }
        Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = Some(holder.trim().to_string()).filter(|h| !h.is_empty());
            Err(LockError::Busy { path, holder })
        }
        Err((_, errno)) => Err(io(std::io::Error::from(errno))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under_root(root.path());
        let first = acquire(&paths).unwrap();
        match acquire(&paths) {
            Err(LockError::Busy { holder, .. }) => {
                assert_eq!(holder, Some(std::process::id().to_string()))
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("locked twice"),
        }
        drop(first);
        assert!(acquire(&paths).is_ok());
    }
}
