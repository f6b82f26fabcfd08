//! Is the data still the data kafkup set up? The manifest remembers the cluster id; a data
//! directory that vanished, belongs to another cluster, was written in the other mode or
//! belongs to a node the setup would not run is said in plain words before any service starts
//! on it, and nothing is re-created or wiped to "fix" it.

use crate::error::Diagnose;
use crate::vocab::{Mode, NodeId};
use std::path::{Path, PathBuf};

/// What the data directories hold now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataSeen {
    pub kafka_dir: PathBuf,
    /// `cluster.id` of the broker's `meta.properties`, if there is one.
    pub kafka_cluster_id: Option<String>,
    /// The mode that wrote the broker's data, if there is any.
    pub kafka_mode: Option<Mode>,
    /// ZooKeeper mode: the data directory, and whether it holds ZooKeeper's `version-2`.
    pub zookeeper: Option<(PathBuf, bool)>,
    /// Data directories of nodes this setup would not run, each with its node.
    pub orphans: Vec<(NodeId, PathBuf)>,
}

impl DataSeen {
    /// Looks at the data directories of `kafka_dir` and (ZooKeeper mode) `zookeeper_dir`.
    pub fn observe(kafka_dir: &Path, zookeeper_dir: Option<&Path>) -> DataSeen {
        let meta = std::fs::read_to_string(kafka_dir.join("meta.properties")).unwrap_or_default();
        DataSeen {
            kafka_dir: kafka_dir.to_path_buf(),
            kafka_cluster_id: cluster_id_in(&meta),
            kafka_mode: mode_of(&meta),
            zookeeper: zookeeper_dir.map(|d| (d.to_path_buf(), holds_zookeeper_data(d))),
            orphans: vec![],
        }
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
/// ZooKeeper mode, version 1 with a `node.id` in KRaft mode.
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

/// Kafka's `meta.properties` `cluster.id`, if the data dir has been used.
pub fn read_cluster_id(kafka_data: &Path) -> Option<String> {
    let text = std::fs::read_to_string(kafka_data.join("meta.properties")).ok()?;
    cluster_id_in(&text)
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

/// Checks `seen` against `mode` and the cluster id an earlier setup recorded (if it did).
pub fn check(recorded: Option<&str>, mode: Mode, seen: &DataSeen) -> Result<(), DataProblem> {
    if let Some(found) = seen.kafka_mode.filter(|m| *m != mode) {
        return Err(DataProblem::OtherMode {
            dir: seen.kafka_dir.clone(),
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
    match &seen.kafka_cluster_id {
        Some(found) if *found != recorded => {
            return Err(DataProblem::ForeignData {
                dir: seen.kafka_dir.clone(),
                found: found.clone(),
                recorded,
            })
        }
        Some(_) => {}
        None => {
            return Err(DataProblem::KafkaDataLost {
                dir: seen.kafka_dir.clone(),
                cluster_id: recorded,
            })
        }
    }
    if let (Mode::Zookeeper, Some((dir, false))) = (mode, &seen.zookeeper) {
        return Err(DataProblem::ZookeeperDataLost {
            dir: dir.clone(),
            cluster_id: recorded,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(kafka: Option<&str>, zookeeper: bool) -> DataSeen {
        DataSeen {
            kafka_dir: "/r/data/kafka".into(),
            kafka_cluster_id: kafka.map(String::from),
            zookeeper: Some(("/r/data/zookeeper".into(), zookeeper)),
            ..DataSeen::default()
        }
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
        let mut zk_data = seen(Some("abc"), true);
        zk_data.kafka_mode = Some(Mode::Zookeeper);
        let err = check(None, Mode::Kraft, &zk_data).unwrap_err();
        assert!(matches!(err, DataProblem::OtherMode { .. }), "{err}");
        let help = err.help().unwrap();
        assert!(
            help.contains("--mode zookeeper") && !help.contains("purge"),
            "{help}"
        );
        assert_eq!(check(None, Mode::Zookeeper, &zk_data), Ok(()));
    }

    #[test]
    fn nothing_recorded_means_nothing_to_check() {
        assert_eq!(check(None, Mode::Zookeeper, &seen(None, false)), Ok(()));
    }

    #[test]
    fn the_recorded_cluster_must_still_be_there() {
        let m = "abc";
        assert_eq!(
            check(Some(m), Mode::Zookeeper, &seen(Some("abc"), true)),
            Ok(())
        );
        assert!(matches!(
            check(Some(m), Mode::Zookeeper, &seen(Some("abc"), false)),
            Err(DataProblem::ZookeeperDataLost { .. })
        ));
        assert!(matches!(
            check(Some(m), Mode::Zookeeper, &seen(None, true)),
            Err(DataProblem::KafkaDataLost { .. })
        ));
        let err = check(Some(m), Mode::Kraft, &seen(Some("xyz"), false)).unwrap_err();
        assert!(matches!(err, DataProblem::ForeignData { .. }));
        assert!(err.help().unwrap().contains("teardown --purge"));
        // KRaft mode has no ZooKeeper data to lose.
        assert_eq!(
            check(Some(m), Mode::Kraft, &seen(Some("abc"), false)),
            Ok(())
        );
    }

    #[test]
    fn cluster_id_is_read_from_meta_properties() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("meta.properties"),
            "#\nversion=1\ncluster.id=abcDEF123\nnode.id=1\n",
        )
        .unwrap();
        assert_eq!(read_cluster_id(dir.path()).as_deref(), Some("abcDEF123"));
        assert_eq!(read_cluster_id(&dir.path().join("nope")), None);
    }
}
