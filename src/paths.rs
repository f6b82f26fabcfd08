//! Where kafkup keeps things: install, data, config, cache and state directories.

use crate::defaults;
use crate::vocab::NodeId;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paths {
    /// Unpacked, verified distributions.
    pub install: PathBuf,
    /// ZooKeeper and Kafka data (never under /tmp).
    pub data: PathBuf,
    /// Rendered configuration files.
    pub config: PathBuf,
    /// Downloaded tarballs, keyed by digest.
    pub cache: PathBuf,
    /// The manifest of what kafkup created, pid files and service logs.
    pub state: PathBuf,
}

impl Paths {
    /// Everything below one directory (`--root`).
    pub fn under_root(root: &Path) -> Self {
        Paths {
            install: root.join("install"),
            data: root.join("data"),
            config: root.join("config"),
            cache: root.join("cache"),
            state: root.join("state"),
        }
    }

    /// The system-wide layout used as root.
    pub fn system() -> Self {
        Paths {
            install: PathBuf::from(defaults::SYSTEM_INSTALL),
            data: PathBuf::from(defaults::SYSTEM_DATA),
            config: PathBuf::from(defaults::SYSTEM_CONFIG),
            cache: PathBuf::from(defaults::SYSTEM_CACHE),
            state: PathBuf::from(defaults::SYSTEM_STATE),
        }
    }

    /// The per-user layout (XDG base directories).
    pub fn user(home: &Path, xdg: impl Fn(&str) -> Option<PathBuf>) -> Self {
        let data_home = xdg("XDG_DATA_HOME").unwrap_or_else(|| home.join(".local/share"));
        let config_home = xdg("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"));
        let cache_home = xdg("XDG_CACHE_HOME").unwrap_or_else(|| home.join(".cache"));
        let base = data_home.join("kafkup");
        Paths {
            install: base.join("install"),
            data: base.join("data"),
            config: config_home.join("kafkup"),
            cache: cache_home.join("kafkup"),
            state: base.join("state"),
        }
    }

    /// The default for this process: system-wide as root, per-user otherwise.
    pub fn default_for_current_user() -> Self {
        if nix::unistd::geteuid().is_root() {
            return Self::system();
        }
        // Without HOME, the password database; never a relative path, which would make every
        // directory depend on where kafkup happens to be run.
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_absolute())
            .or_else(|| {
                nix::unistd::User::from_uid(nix::unistd::getuid())
                    .ok()
                    .flatten()
                    .map(|u| u.dir)
            })
            .filter(|h| h.is_absolute())
            .unwrap_or_else(|| PathBuf::from("/"));
        Self::user(&home, |name| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        })
    }

    /// The one directory everything lives below (`--root`), if this layout is one.
    pub fn root(&self) -> Option<PathBuf> {
        let root = self.state.parent()?;
        (Paths::under_root(root) == *self).then(|| root.to_path_buf())
    }

    pub fn manifest(&self) -> PathBuf {
        self.state.join("manifest.json")
    }

    /// A node's data directory: `data/kafka` (the only broker), `data/kafka-2`.
    pub fn node_data(&self, node: NodeId) -> PathBuf {
        self.data.join(node.name())
    }

    /// A node's rendered configuration: `config/zookeeper`, `config/kafka-2`.
    pub fn node_config(&self, node: NodeId) -> PathBuf {
        self.config.join(node.name())
    }

    pub fn logs(&self) -> PathBuf {
        self.state.join("logs")
    }
}

/// A data directory the system empties (on boot or by age): its data would be lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {path} is in {temp_dir}, which the system empties: the data would be lost")]
pub struct DataInTempDir {
    pub what: String,
    pub path: PathBuf,
    pub temp_dir: &'static str,
}

impl crate::error::Diagnose for DataInTempDir {
    fn help(&self) -> Option<String> {
        Some("choose a root outside temporary directories with --root DIR (or KAFKUP_ROOT)".into())
    }
}

/// Refuses a data directory (`what`, for the message) under a directory the system empties,
/// as written and where it really is: a root that is a symlink into /tmp counts.
pub fn refuse_temp_dir(what: &str, path: &Path) -> Result<(), DataInTempDir> {
    let seen = [
        lexically_normal(path),
        crate::files::resolve_existing_prefix(path),
    ];
    let temp_dir = defaults::TEMP_DIRS.iter().find(|t| {
        let real_t = std::fs::canonicalize(t).unwrap_or_else(|_| PathBuf::from(t));
        seen.iter()
            .any(|p| p.starts_with(t) || p.starts_with(&real_t))
    });
    match temp_dir {
        Some(temp_dir) => Err(DataInTempDir {
            what: what.to_string(),
            path: path.to_path_buf(),
            temp_dir,
        }),
        None => Ok(()),
    }
}

/// Resolves `.` and `..` without touching the disk, so `/srv/../tmp/x` is seen as `/tmp/x`.
pub fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_layout_honours_xdg_and_falls_back_to_home() {
        let p = Paths::user(Path::new("/home/a"), |name| {
            (name == "XDG_CACHE_HOME").then(|| PathBuf::from("/c"))
        });
        assert_eq!(p.cache, PathBuf::from("/c/kafkup"));
        assert_eq!(p.data, PathBuf::from("/home/a/.local/share/kafkup/data"));
        assert_eq!(p.config, PathBuf::from("/home/a/.config/kafkup"));
    }

    #[test]
    fn root_layout_keeps_everything_below_root() {
        let p = Paths::under_root(Path::new("/r"));
        for dir in [&p.install, &p.data, &p.config, &p.cache, &p.state] {
            assert!(dir.starts_with("/r"));
        }
        assert_eq!(p.root(), Some(PathBuf::from("/r")));
        assert_eq!(Paths::system().root(), None);
    }
}
