//! Is the data still the data kafkup set up? The manifest remembers the cluster id; a data
//! directory that vanished, belongs to another cluster, was written in the other mode or
//! belongs to a node the setup would not run is said in plain words before any service starts
//! on it, and nothing is re-created or wiped to "fix" it.

use crate::error::Diagnose;
use crate::vocab::{Mode, NodeId, Role};
use std::path::{Path, PathBuf};

/// What one node's data directory holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeData {
    pub node: NodeId,
    /// As the node's service sees it (in a container: its mount point).
    pub dir: PathBuf,
    /// A Kafka node: the `cluster.id` of its `meta.properties`, if there is one.
    pub cluster_id: Option<String>,
    /// A Kafka node: the mode that wrote its data, if there is any.
    pub mode: Option<Mode>,
    /// A ZooKeeper node: whether it holds ZooKeeper's `version-2`.
    pub zookeeper_data: bool,
    /// A KRaft voter: the quorum's leader as it last knew it, with that leader's epoch.
    pub quorum_leader: Option<(i32, i64)>,
}

/// Where a KRaft voter keeps what it knows of the quorum's election, below its data directory.
pub const QUORUM_STATE: &str = "__cluster_metadata-0/quorum-state";

impl NodeData {
    /// From the contents of its `meta.properties` and `quorum-state` (empty: none) and whether
    /// `version-2` is there.
    pub fn from_files(node: NodeId, dir: &Path, meta: &str, version_2: bool) -> NodeData {
        NodeData {
            node,
            dir: dir.to_path_buf(),
            cluster_id: cluster_id_in(meta),
            mode: mode_of(meta),
            zookeeper_data: version_2,
            quorum_leader: None,
        }
    }

    /// With the quorum's leader read from a `quorum-state` text.
    pub fn with_quorum_state(mut self, text: &str) -> NodeData {
        let state: Option<serde_json::Value> = serde_json::from_str(text).ok();
        let number = |key: &str| state.as_ref()?.get(key)?.as_i64();
        self.quorum_leader = match (number("leaderId"), number("leaderEpoch")) {
            (Some(id), Some(epoch)) if id >= 0 => Some((id as i32, epoch)),
            _ => None,
        };
        self
    }
}

/// What the data directories hold now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataSeen {
    pub nodes: Vec<NodeData>,
    /// Data directories of nodes this setup would not run, each with its node.
    pub orphans: Vec<(NodeId, PathBuf)>,
}

impl DataSeen {
    /// Looks at the data directories `dirs` (each a node's, on this host).
    pub fn observe(dirs: &[(NodeId, PathBuf)]) -> DataSeen {
        let nodes = dirs.iter().map(|(node, dir)| {
            let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap_or_default();
            NodeData::from_files(
                *node,
                dir,
                &read("meta.properties"),
                holds_zookeeper_data(dir),
            )
            .with_quorum_state(&read(QUORUM_STATE))
        });
        DataSeen {
            nodes: nodes.collect(),
            orphans: vec![],
        }
    }

    fn kafka_nodes(&self) -> impl Iterator<Item = &NodeData> {
        self.nodes
            .iter()
            .filter(|n| n.node.role() != Role::Zookeeper)
    }

    /// The cluster id the Kafka data holds (the first node's that has one).
    pub fn cluster_id(&self) -> Option<String> {
        self.kafka_nodes().find_map(|n| n.cluster_id.clone())
    }

    /// The node id of the KRaft quorum's leader, as the voter with the newest epoch knows it.
    pub fn quorum_leader(&self) -> Option<i32> {
        let known = self.nodes.iter().filter_map(|n| n.quorum_leader);
        known.max_by_key(|(_, epoch)| *epoch).map(|(id, _)| id)
    }

    /// Kafka nodes whose storage holds no cluster yet (KRaft: to be formatted).
    pub fn unformatted(&self) -> Vec<NodeId> {
        let fresh = self.kafka_nodes().filter(|n| n.cluster_id.is_none());
        fresh.map(|n| n.node).collect()
    }
}

/// Whether `dir` holds what a ZooKeeper server writes.
pub fn holds_zookeeper_data(dir: &Path) -> bool {
    dir.join("version-2").is_dir()
}

/// Whether `dir` holds what a Kafka node writes.
pub fn holds_kafka_data(dir: &Path) -> bool {
    dir.join("meta.properties").is_file()
}

/// The mode a broker's `meta.properties` was written in: version 0 with a `broker.id` in
/// ZooKeeper mode, version 1 with a `node.id` in KRaft mode; None when it cannot tell (or the
/// data serves both).
pub fn mode_of(meta_properties: &str) -> Option<Mode> {
    let value = |key: &str| {
        meta_properties
            .lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
    };
    match (value("version").as_deref(), value("node.id")) {
        (Some("1"), _) | (_, Some(_)) => Some(Mode::Kraft),
        // A broker migrated to KRaft keeps version 0 and adds its directory's id: its data
        // serves either mode (KIP-866's way back depends on it).
        (Some("0"), None) if value("directory.id").is_some() => None,
        (Some("0"), None) => Some(Mode::Zookeeper),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataProblem {
    #[error("Kafka's data in {} is gone: it held cluster {cluster_id}, which this environment was set up with", dir.display())]
    KafkaDataLost { dir: PathBuf, cluster_id: String },
    #[error("ZooKeeper's data in {} is gone, but the broker's data belongs to cluster {cluster_id}, which lived in it", dir.display())]
    ZookeeperDataLost { dir: PathBuf, cluster_id: String },
    #[error("the Kafka data in {} belongs to cluster {found}, but this environment was set up with cluster {recorded}", dir.display())]
    ForeignData {
        dir: PathBuf,
        found: String,
        recorded: String,
    },
    #[error("the Kafka data in {} was written in {found} mode; setting up {wanted} mode on it would hide its topics", dir.display())]
    OtherMode {
        dir: PathBuf,
        found: Mode,
        wanted: Mode,
    },
    #[error("{} holds the data of {node}, which this setup would not run", dir.display())]
    Orphaned { dir: PathBuf, node: NodeId },
}

impl Diagnose for DataProblem {
    fn help(&self) -> Option<String> {
        let dir = match self {
            DataProblem::OtherMode { found, dir, .. } => {
                return Some(format!(
                    "`kafkup setup --mode {found}` uses it, with its data; to start over in the other mode, move {} aside first (or use another --root)",
                    dir.display()
                ))
            }
            DataProblem::Orphaned { dir, .. } => {
                return Some(format!(
                    "set up with the settings that made it (`kafkup status` and the manifest say which), or move {} aside first",
                    dir.display()
                ))
            }
            DataProblem::KafkaDataLost { dir, .. }
            | DataProblem::ZookeeperDataLost { dir, .. }
            | DataProblem::ForeignData { dir, .. } => dir,
        };
        Some(format!(
            "kafkup changed nothing: restore {} (e.g. from a backup), or start over with `kafkup teardown --purge` (it deletes the data of both services)",
            dir.display()
        ))
    }
}

/// The `cluster.id` of a `meta.properties` text.
pub fn cluster_id_in(meta_properties: &str) -> Option<String> {
    meta_properties
        .lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == "cluster.id")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Checks `seen` against `mode` and the cluster id an earlier setup recorded (if it did);
/// `known` are the nodes that setup made, whose data must still be there.
pub fn check(
    recorded: Option<&str>,
    mode: Option<Mode>,
    seen: &DataSeen,
    known: &[NodeId],
) -> Result<(), DataProblem> {
    if let Some((n, mode)) = mode.and_then(|mode| {
        let other = seen
            .kafka_nodes()
            .find(|n| n.mode.is_some_and(|m| m != mode));
        other.map(|n| (n, mode))
    }) {
        let found = n.mode.expect("found by its mode");
        let dir = n.dir.clone();
        return Err(DataProblem::OtherMode {
            dir,
            found,
            wanted: mode,
        });
    }
    if let Some((node, dir)) = seen.orphans.first() {
        return Err(DataProblem::Orphaned {
            dir: dir.clone(),
            node: *node,
        });
    }
    let Some(recorded) = recorded.map(str::to_string) else {
        return Ok(());
    };
    for n in seen.kafka_nodes() {
        match &n.cluster_id {
            Some(found) if *found != recorded => {
                let (dir, found) = (n.dir.clone(), found.clone());
                return Err(DataProblem::ForeignData {
                    dir,
                    found,
                    recorded,
                });
            }
            None if known.contains(&n.node) => {
                let (dir, cluster_id) = (n.dir.clone(), recorded);
                return Err(DataProblem::KafkaDataLost { dir, cluster_id });
            }
            _ => {}
        }
    }
    let zookeepers = seen
        .nodes
        .iter()
        .filter(|n| n.node.role() == Role::Zookeeper);
    for n in zookeepers.filter(|n| mode == Some(Mode::Zookeeper) && known.contains(&n.node)) {
        if !n.zookeeper_data {
            let (dir, cluster_id) = (n.dir.clone(), recorded);
            return Err(DataProblem::ZookeeperDataLost { dir, cluster_id });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KAFKA: NodeId = NodeId::solo(Role::Kafka);
    const ZOOKEEPER: NodeId = NodeId::solo(Role::Zookeeper);

    fn seen(kafka: Option<&str>, zookeeper: bool) -> DataSeen {
        let meta = kafka.map(|id| format!("version=0\nbroker.id=1\ncluster.id={id}\n"));
        DataSeen {
            nodes: vec![
                NodeData::from_files(
                    KAFKA,
                    Path::new("/r/data/kafka"),
                    &meta.unwrap_or_default(),
                    false,
                ),
                NodeData::from_files(ZOOKEEPER, Path::new("/r/data/zookeeper"), "", zookeeper),
            ],
            orphans: vec![],
        }
    }

    const BOTH: &[NodeId] = &[ZOOKEEPER, KAFKA];

    #[test]
    fn nothing_recorded_means_nothing_to_check() {
        assert_eq!(
            check(None, Some(Mode::Zookeeper), &seen(None, false), BOTH),
            Ok(())
        );
    }

    #[test]
    fn the_recorded_cluster_must_still_be_there() {
        let m = Some("abc");
        assert_eq!(
            check(m, Some(Mode::Zookeeper), &seen(Some("abc"), true), BOTH),
            Ok(())
        );
        assert!(matches!(
            check(m, Some(Mode::Zookeeper), &seen(Some("abc"), false), BOTH),
            Err(DataProblem::ZookeeperDataLost { .. })
        ));
        assert!(matches!(
            check(m, Some(Mode::Zookeeper), &seen(None, true), BOTH),
            Err(DataProblem::KafkaDataLost { .. })
        ));
        // A node the earlier setup did not have (a broker added now) has no data yet.
        assert_eq!(
            check(m, Some(Mode::Zookeeper), &seen(None, true), &[ZOOKEEPER]),
            Ok(())
        );
        let err = check(m, Some(Mode::Zookeeper), &seen(Some("xyz"), true), BOTH).unwrap_err();
        assert!(matches!(err, DataProblem::ForeignData { .. }));
        assert!(err.help().unwrap().contains("teardown --purge"));
    }

    #[test]
    fn data_says_which_mode_wrote_it() {
        assert_eq!(
            mode_of("version=0\nbroker.id=1\ncluster.id=x\n"),
            Some(Mode::Zookeeper)
        );
        assert_eq!(
            mode_of("version=1\nnode.id=1\ncluster.id=x\n"),
            Some(Mode::Kraft)
        );
        assert_eq!(mode_of(""), None);
        let migrated = "version=0\nbroker.id=1\ndirectory.id=abc\ncluster.id=x\n";
        assert_eq!(
            mode_of(migrated),
            None,
            "a migrated broker's data serves both"
        );
        let zk_data = seen(Some("abc"), true);
        let err = check(None, Some(Mode::Kraft), &zk_data, &[]).unwrap_err();
        assert!(matches!(err, DataProblem::OtherMode { .. }), "{err}");
        let help = err.help().unwrap();
        assert!(
            help.contains("--mode zookeeper") && !help.contains("purge"),
            "{help}"
        );
        assert_eq!(check(None, Some(Mode::Zookeeper), &zk_data, &[]), Ok(()));
    }

    #[test]
    fn cluster_id_is_read_from_meta_properties() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("meta.properties"),
            "#\nversion=1\ncluster.id=abcDEF123\nnode.id=1\n",
        )
        .unwrap();
        let seen = DataSeen::observe(&[(KAFKA, dir.path().to_path_buf())]);
        assert_eq!(seen.cluster_id().as_deref(), Some("abcDEF123"));
        assert!(seen.unformatted().is_empty());
    }
}
