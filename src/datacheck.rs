//! Is the data still the data kafkup set up? The manifest remembers the cluster id; a data
//! directory that vanished or belongs to another cluster is said in plain words before any
//! service starts on it, and nothing is re-created or wiped to "fix" it.

use crate::catalog::Mode;
use crate::error::Diagnose;
use crate::state::Manifest;
use std::path::{Path, PathBuf};

/// What the data directories hold now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataSeen {
    pub kafka_dir: PathBuf,
    /// `cluster.id` of the broker's `meta.properties`, if there is one.
    pub kafka_cluster_id: Option<String>,
    /// ZooKeeper mode: the data directory, and whether it holds ZooKeeper's `version-2`.
    pub zookeeper: Option<(PathBuf, bool)>,
}

impl DataSeen {
    /// Looks at the data directories of `kafka_dir` and (ZooKeeper mode) `zookeeper_dir`.
    pub fn observe(kafka_dir: &Path, zookeeper_dir: Option<&Path>) -> DataSeen {
        DataSeen {
            kafka_dir: kafka_dir.to_path_buf(),
            kafka_cluster_id: crate::state::read_cluster_id(kafka_dir),
            zookeeper: zookeeper_dir.map(|d| (d.to_path_buf(), d.join("version-2").is_dir())),
        }
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
}

impl Diagnose for DataProblem {
    fn help(&self) -> Option<String> {
        let dir = match self {
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

/// Checks `seen` against the cluster id `previous` recorded (nothing to check before that).
pub fn check(previous: Option<&Manifest>, mode: Mode, seen: &DataSeen) -> Result<(), DataProblem> {
    let Some(recorded) = previous.and_then(|p| p.cluster_id.clone()) else {
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
    use crate::paths::Paths;

    fn manifest(cluster_id: Option<&str>) -> Manifest {
        let mut m = Manifest::new(
            Mode::Zookeeper,
            &Paths::under_root(Path::new("/r")),
            "127.0.0.1",
            9092,
            120,
        );
        m.cluster_id = cluster_id.map(String::from);
        m
    }

    fn seen(kafka: Option<&str>, zookeeper: bool) -> DataSeen {
        DataSeen {
            kafka_dir: "/r/data/kafka".into(),
            kafka_cluster_id: kafka.map(String::from),
            zookeeper: Some(("/r/data/zookeeper".into(), zookeeper)),
        }
    }

    #[test]
    fn nothing_recorded_means_nothing_to_check() {
        assert_eq!(check(None, Mode::Zookeeper, &seen(None, false)), Ok(()));
        let m = manifest(None);
        assert_eq!(check(Some(&m), Mode::Zookeeper, &seen(None, false)), Ok(()));
    }

    #[test]
    fn the_recorded_cluster_must_still_be_there() {
        let m = manifest(Some("abc"));
        assert_eq!(
            check(Some(&m), Mode::Zookeeper, &seen(Some("abc"), true)),
            Ok(())
        );
        assert!(matches!(
            check(Some(&m), Mode::Zookeeper, &seen(Some("abc"), false)),
            Err(DataProblem::ZookeeperDataLost { .. })
        ));
        assert!(matches!(
            check(Some(&m), Mode::Zookeeper, &seen(None, true)),
            Err(DataProblem::KafkaDataLost { .. })
        ));
        let err = check(Some(&m), Mode::Kraft, &seen(Some("xyz"), false)).unwrap_err();
        assert!(matches!(err, DataProblem::ForeignData { .. }));
        assert!(err.help().unwrap().contains("teardown --purge"));
        // KRaft mode has no ZooKeeper data to lose.
        assert_eq!(
            check(Some(&m), Mode::Kraft, &seen(Some("abc"), false)),
            Ok(())
        );
    }
}
