//! Nodes whose name changes with the size of their role: the only broker is `kafka`, the first
//! of three is `kafka-1`. Growing an environment renames the node; its data goes with it.

use crate::deployment::Deployment;
use crate::state::Manifest;
use crate::vocab::NodeId;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub from: NodeId,
    pub to: NodeId,
    /// Its data directory before and after (host runners; a container's volume stays).
    pub data: (PathBuf, PathBuf),
}

/// The recorded nodes that the deployment has under another name.
pub fn renames(previous: Option<&Manifest>, want: &Deployment) -> Vec<Rename> {
    let Some(previous) = previous else {
        return vec![];
    };
    let was: Vec<NodeId> = previous.services.iter().map(|s| s.spec.name).collect();
    let wanted = want.launches.iter().map(|l| l.id);
    wanted
        .filter(|to| !was.contains(to))
        .filter_map(|to| {
            let same_node = |n: &&NodeId| n.role() == to.role() && n.index() == to.index();
            let from = *was.iter().find(same_node)?;
            let paths = &want.paths;
            let data = (paths.node_data(from), paths.node_data(to));
            Some(Rename { from, to, data })
        })
        .collect()
}

/// The directory that holds a renamed node's data now: the old one until it has moved.
pub fn data_now(rename: &Rename) -> &Path {
    let (from, to) = &rename.data;
    match from.exists() {
        true => from,
        false => to,
    }
}

/// Moves the node's data to its new name (once: a second run finds it moved). An empty
/// directory in the way, made for the new node, is removed first.
pub fn move_data(rename: &Rename) -> std::io::Result<bool> {
    let (from, to) = &rename.data;
    if !from.exists() {
        return Ok(false);
    }
    if to.exists() {
        std::fs::remove_dir(to)?;
    }
    std::fs::rename(from, to)?;
    Ok(true)
}
