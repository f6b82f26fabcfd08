//! Snapshots: every node's data of an environment (and its manifest and rendered config, for
//! the record), taken with the services stopped so that the nodes agree, kept below the data
//! directory as `snapshots/NAME/`, and restored exactly. What a snapshot is and when it fits
//! an environment is here (pure); [`copy`] moves the bytes; `commands::snapshot` runs it.

pub mod copy;

use crate::catalog::VersionNumber;
use crate::state::Manifest;
use crate::vocab::{Mode, NodeId};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What `snapshot.json` says of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub name: String,
    /// Unix seconds.
    pub taken_at: u64,
    pub kafkup_version: String,
    pub mode: Mode,
    /// The nodes whose data it holds, by name (`kafka`, `kafka-2`, `zookeeper`).
    pub nodes: Vec<String>,
    pub cluster_id: Option<String>,
    /// The Kafka release the data was written by.
    pub kafka_version: Option<String>,
    /// The nodes that ran when it was taken (started again after a save and a restore).
    pub ran: Vec<String>,
    pub bytes: u64,
}

/// A snapshot the environment cannot take back, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Misfit {
    #[error("snapshot {name} is of another cluster ({theirs}; this environment is {ours})")]
    OtherCluster {
        name: String,
        theirs: String,
        ours: String,
    },
    #[error("snapshot {name} was taken in {theirs} mode; this environment runs in {ours} mode")]
    OtherMode {
        name: String,
        theirs: Mode,
        ours: Mode,
    },
    #[error("snapshot {name} holds the nodes {theirs}; this environment has {ours}")]
    OtherNodes {
        name: String,
        theirs: String,
        ours: String,
    },
    #[error("snapshot {name} was written by Kafka {theirs}, newer than the Kafka {ours} this environment runs")]
    OtherRelease {
        name: String,
        theirs: String,
        ours: String,
    },
}

impl crate::error::Diagnose for Misfit {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::Usage
    }
    fn help(&self) -> Option<String> {
        Some("`kafkup snapshot list` shows each snapshot's cluster, mode, nodes and release; restore one of this environment as it is now, or set the environment up as the snapshot was".into())
    }
}

/// A name usable as a directory: letters, digits, `.`, `_`, `-`, not starting with `.`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// The nodes of an environment, by name, in its order.
pub fn node_names(manifest: &Manifest) -> Vec<String> {
    manifest
        .services
        .iter()
        .map(|s| s.spec.name.name())
        .collect()
}

/// Whether `meta` can be restored into the environment `manifest` describes.
pub fn fits(meta: &Meta, manifest: &Manifest) -> Result<(), Misfit> {
    let name = meta.name.clone();
    if meta.mode != manifest.mode {
        return Err(Misfit::OtherMode {
            name,
            theirs: meta.mode,
            ours: manifest.mode,
        });
    }
    if let (Some(theirs), Some(ours)) = (&meta.cluster_id, &manifest.cluster_id) {
        if theirs != ours {
            return Err(Misfit::OtherCluster {
                name,
                theirs: theirs.clone(),
                ours: ours.clone(),
            });
        }
    }
    let ours = node_names(manifest);
    if meta.nodes != ours {
        return Err(Misfit::OtherNodes {
            name,
            theirs: meta.nodes.join(", "),
            ours: ours.join(", "),
        });
    }
    // Data of an older release is read by a newer one (that is how upgrades work); KRaft
    // data of a newer release carries a metadata.version an older one does not know.
    if let (Some(theirs), Some(ours)) = (&meta.kafka_version, manifest.kafka_version()) {
        if VersionNumber::parse(theirs) > VersionNumber::parse(&ours) {
            return Err(Misfit::OtherRelease {
                name,
                theirs: theirs.clone(),
                ours,
            });
        }
    }
    Ok(())
}

/// `base`, or `base-2`, `base-3`, … : the first name no snapshot of the environment has.
pub fn free_name(paths: &crate::paths::Paths, base: &str) -> String {
    let dir = dir(paths);
    (1..)
        .map(|n| match n {
            1 => base.to_string(),
            n => format!("{base}-{n}"),
        })
        .find(|name| !dir.join(name).exists())
        .expect("a free name")
}

/// Where an environment keeps its snapshots: beside the nodes' data (on its file system, where
/// a copy can be a reflink), under a name no node has.
pub fn dir(paths: &crate::paths::Paths) -> PathBuf {
    paths.data.join("snapshots")
}

/// The data of `node` inside snapshot directory `snapshot`.
pub fn node_dir(snapshot: &std::path::Path, node: NodeId) -> PathBuf {
    snapshot.join("data").join(node.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_directory_names() {
        assert!(valid_name("before-upgrade_1.2"));
        for bad in ["", ".hidden", "a/b", "..", "with space"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
