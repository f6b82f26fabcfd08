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
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another kafkup command{} is working on this environment ({})", holder.as_ref().map(|p| format!(" (pid {p})")).unwrap_or_default(), path.display())]
    Busy {
        path: PathBuf,
        holder: Option<String>,
    },
    #[error("cannot lock {}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Diagnose for LockError {
    fn help(&self) -> Option<String> {
        match self {
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

/// Takes the environment's lock, or says who holds it.
pub fn acquire(paths: &Paths) -> Result<EnvironmentLock, LockError> {
    let path = lock_file(paths);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    crate::files::create_private_dirs(&paths.state).map_err(io)?;
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
            Ok(EnvironmentLock { _lock: lock })
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
