//! What `kafkup upgrade` changes — the Kafka and ZooKeeper releases, from and to — and the
//! jumps it refuses because Kafka cannot make them in a rolling restart. Pure.

use crate::catalog::VersionNumber;
use crate::error::{Diagnose, ExitCode};
use crate::vocab::Mode;

/// A release before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub from: String,
    pub to: String,
}

impl Move {
    pub fn changes(&self) -> bool {
        self.from != self.to
    }

    fn older(&self) -> bool {
        VersionNumber::parse(&self.to) < VersionNumber::parse(&self.from)
    }

    /// Major and minor differ (3.8.1 → 3.9.0), not only the patch release.
    fn crosses_minor(&self) -> bool {
        let (a, b) = (
            VersionNumber::parse(&self.from),
            VersionNumber::parse(&self.to),
        );
        (a.0, a.1) != (b.0, b.1)
    }
}

/// The releases of one upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Releases {
    pub kafka: Move,
    /// ZooKeeper mode only.
    pub zookeeper: Option<Move>,
}

impl Releases {
    pub fn changes(&self) -> bool {
        self.kafka.changes() || self.zookeeper.as_ref().is_some_and(Move::changes)
    }

    /// "Kafka 4.3.2 → 4.4.0", "ZooKeeper 3.9.4 → 3.9.5", or both.
    pub fn describe(&self) -> String {
        let moves = [
            ("Kafka", Some(&self.kafka)),
            ("ZooKeeper", self.zookeeper.as_ref()),
        ];
        let said: Vec<String> = moves
            .iter()
            .filter_map(|(name, m)| m.filter(|m| m.changes()).map(|m| (name, m)))
            .map(|(name, m)| format!("{name} {} → {}", m.from, m.to))
            .collect();
        match said.is_empty() {
            true => format!("Kafka {} (no release changes)", self.kafka.from),
            false => said.join(", "),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "{project} {to} is older than the {from} this environment runs; upgrade moves forward only"
    )]
    Older {
        project: &'static str,
        from: String,
        to: String,
    },
    #[error("Kafka {to} cannot start on KRaft metadata of {from}: Kafka 4 needs a KRaft cluster of 3.3 or later")]
    TooOldForKafka4 { from: String, to: String },
}

impl Diagnose for Refused {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Usage
    }
    fn help(&self) -> Option<String> {
        Some(match self {
            Refused::Older { .. } => "to go back, restore the snapshot taken before the upgrade (`kafkup snapshot list`, `kafkup snapshot restore NAME`)".into(),
            Refused::TooOldForKafka4 { .. } => "upgrade to 3.9 first (`kafkup upgrade --kafka-version 3.9.2 --finalize`), then to 4".into(),
        })
    }
}

/// The jumps Kafka cannot make as a rolling upgrade of this environment.
pub fn check(mode: Mode, releases: &Releases) -> Result<(), Refused> {
    let moves = [
        ("Kafka", Some(&releases.kafka)),
        ("ZooKeeper", releases.zookeeper.as_ref()),
    ];
    for (project, m) in moves.iter().filter_map(|(p, m)| m.map(|m| (*p, m))) {
        if m.older() {
            return Err(Refused::Older {
                project,
                from: m.from.clone(),
                to: m.to.clone(),
            });
        }
    }
    let kafka = &releases.kafka;
    let (from, to) = (
        VersionNumber::parse(&kafka.from),
        VersionNumber::parse(&kafka.to),
    );
    if mode == Mode::Kraft && to.0 >= 4 && (from.0, from.1) < (3, 3) {
        return Err(Refused::TooOldForKafka4 {
            from: kafka.from.clone(),
            to: kafka.to.clone(),
        });
    }
    Ok(())
}

/// ZooKeeper mode, several brokers, a new minor release: the inter-broker protocol the brokers
/// must keep speaking while old and new releases run side by side ("3.8"), until finalized.
pub fn protocol_hold(mode: Mode, brokers: usize, releases: &Releases) -> Option<String> {
    let kafka = &releases.kafka;
    let from = VersionNumber::parse(&kafka.from);
    (mode == Mode::Zookeeper && brokers > 1 && kafka.crosses_minor())
        .then(|| format!("{}.{}", from.0, from.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka(from: &str, to: &str) -> Releases {
        Releases {
            kafka: Move {
                from: from.into(),
                to: to.into(),
            },
            zookeeper: None,
        }
    }

    #[test]
    fn forward_moves_pass_and_the_jumps_kafka_cannot_make_are_refused() {
        assert!(check(Mode::Kraft, &kafka("4.3.2", "4.4.0")).is_ok());
        assert!(check(Mode::Zookeeper, &kafka("3.9.1", "3.9.2")).is_ok());
        assert!(check(Mode::Zookeeper, &kafka("3.8.1", "3.9.2")).is_ok());
        assert!(matches!(
            check(Mode::Kraft, &kafka("4.4.0", "4.3.2")),
            Err(Refused::Older { .. })
        ));
        assert!(matches!(
            check(Mode::Kraft, &kafka("3.2.3", "4.0.0")),
            Err(Refused::TooOldForKafka4 { .. })
        ));
        let mut zk = kafka("3.9.2", "3.9.2");
        zk.zookeeper = Some(Move {
            from: "3.9.5".into(),
            to: "3.9.4".into(),
        });
        let refused = check(Mode::Zookeeper, &zk).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "ZooKeeper 3.9.4 is older than the 3.9.5 this environment runs; upgrade moves forward only"
        );
    }

    #[test]
    fn a_new_minor_release_on_several_zookeeper_mode_brokers_holds_the_old_protocol() {
        let hold = |mode, brokers, from, to| protocol_hold(mode, brokers, &kafka(from, to));
        assert_eq!(
            hold(Mode::Zookeeper, 3, "3.8.1", "3.9.2").as_deref(),
            Some("3.8")
        );
        assert_eq!(
            hold(Mode::Zookeeper, 1, "3.8.1", "3.9.2"),
            None,
            "no mixed releases"
        );
        assert_eq!(
            hold(Mode::Zookeeper, 3, "3.9.1", "3.9.2"),
            None,
            "a patch release"
        );
        assert_eq!(
            hold(Mode::Kraft, 3, "4.3.2", "4.4.0"),
            None,
            "KRaft has metadata.version"
        );
    }

    #[test]
    fn the_description_names_what_changes() {
        let mut r = kafka("4.3.2", "4.4.0");
        assert_eq!(r.describe(), "Kafka 4.3.2 → 4.4.0");
        r.zookeeper = Some(Move {
            from: "3.9.4".into(),
            to: "3.9.5".into(),
        });
        assert_eq!(r.describe(), "Kafka 4.3.2 → 4.4.0, ZooKeeper 3.9.4 → 3.9.5");
        assert!(!kafka("4.4.0", "4.4.0").changes());
        assert_eq!(
            kafka("4.4.0", "4.4.0").describe(),
            "Kafka 4.4.0 (no release changes)"
        );
    }
}
