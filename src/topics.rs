//! Declared topics: what `setup` makes sure of (`--topic NAME[:PARTITIONS[:REPLICATION]]`,
//! `[[topics]]` in the config file), and what a declaration asks of a cluster whose topics are
//! known: create what is missing, raise partition counts, change configs that differ — never
//! delete, never take away. What Kafka cannot do is refused, all of it at once. Pure.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One declared topic. A count left out is the broker's default (`num.partitions`,
/// `default.replication.factor`) when the topic is created, and is not checked afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDecl {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_factor: Option<u16>,
    /// Topic configs (`cleanup.policy`, `retention.ms`, …); TOML numbers and booleans are
    /// taken as Kafka writes them.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "config_values"
    )]
    pub configs: BTreeMap<String, String>,
}

/// A config value as TOML (or a manifest) writes it.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

fn config_values<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = BTreeMap::<String, Scalar>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Scalar::Text(s) => s,
                Scalar::Integer(i) => i.to_string(),
                Scalar::Float(f) => f.to_string(),
                Scalar::Bool(b) => b.to_string(),
            };
            (k, text)
        })
        .collect())
}

/// `NAME[:PARTITIONS[:REPLICATION]]`, as `--topic` takes it (an empty count: the default).
impl std::str::FromStr for TopicDecl {
    type Err = String;

    fn from_str(text: &str) -> Result<TopicDecl, String> {
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or_default().to_string();
        let count = |what: &str, part: Option<&str>| -> Result<Option<u32>, String> {
            match part.filter(|p| !p.is_empty()) {
                None => Ok(None),
                Some(p) => match p.parse::<u32>() {
                    Ok(n) if n >= 1 => Ok(Some(n)),
                    _ => Err(format!("{what} `{p}` is not a number of at least 1")),
                },
            }
        };
        let partitions = count("the partition count", parts.next())?;
        let replication = count("the replication factor", parts.next())?;
        if parts.next().is_some() {
            return Err(format!(
                "`{text}` has more than NAME:PARTITIONS:REPLICATION"
            ));
        }
        let replication_factor = replication
            .map(|r| u16::try_from(r).map_err(|_| format!("replication factor {r} is too large")))
            .transpose()?;
        let decl = TopicDecl {
            name,
            partitions,
            replication_factor,
            configs: BTreeMap::new(),
        };
        decl.check()?;
        Ok(decl)
    }
}

impl TopicDecl {
    /// What Kafka requires of a topic name and counts; `__` names are Kafka's own.
    pub fn check(&self) -> Result<(), String> {
        let name = &self.name;
        let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if name.is_empty() || name.len() > 249 || name == "." || name == ".." {
            return Err(format!(
                "`{name}` is not a topic name (1 to 249 characters, not . or ..)"
            ));
        }
        if let Some(bad) = name.chars().find(|c| !legal(*c)) {
            return Err(format!(
                "topic name `{name}` has {bad:?}: only letters, digits, '.', '_' and '-' are allowed"
            ));
        }
        if name.starts_with("__") {
            return Err(format!(
                "topic name `{name}`: names starting with __ are Kafka's internal topics"
            ));
        }
        if self.partitions == Some(0) || self.replication_factor == Some(0) {
            return Err(format!(
                "topic `{name}`: partitions and replication factor are at least 1"
            ));
        }
        if let Some(key) = self.configs.keys().find(|k| k.trim().is_empty()) {
            return Err(format!("topic `{name}`: config key {key:?} is empty"));
        }
        Ok(())
    }
}

/// "orders (3 partitions, replication factor 2, cleanup.policy=compact)".
impl fmt::Display for TopicDecl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut details = vec![
            match self.partitions {
                Some(1) => "1 partition".to_string(),
                Some(n) => format!("{n} partitions"),
                None => "the broker's default partitions".to_string(),
            },
            match self.replication_factor {
                Some(r) => format!("replication factor {r}"),
                None => "the broker's default replication factor".to_string(),
            },
        ];
        details.extend(self.configs.iter().map(|(k, v)| format!("{k}={v}")));
        write!(f, "{} ({})", self.name, details.join(", "))
    }
}

/// A topic as the cluster has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicSeen {
    pub partitions: u32,
    /// Replicas of its partitions (the most any partition has).
    pub replication_factor: u16,
    /// Its configuration as the broker describes it (every key it knows).
    pub configs: BTreeMap<String, String>,
}

/// One config a change sets: its value now (None: the broker does not list it) and to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigChange {
    pub key: String,
    pub was: Option<String>,
    pub now: String,
}

/// What setup does about declared topics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum TopicChange {
    Create(TopicDecl),
    AddPartitions {
        name: String,
        from: u32,
        to: u32,
    },
    SetConfigs {
        name: String,
        changes: Vec<ConfigChange>,
    },
    /// The topics could not be looked at (no broker answers yet): looked at once the brokers
    /// are ready, then created, raised or configured as above (or refused).
    Ensure(Vec<TopicDecl>),
}

impl fmt::Display for TopicChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicChange::Create(decl) => write!(f, "create    topic {decl}"),
            TopicChange::AddPartitions { name, from, to } => {
                write!(f, "raise     topic {name} from {from} to {to} partitions")
            }
            TopicChange::SetConfigs { name, changes } => {
                let said: Vec<String> = changes
                    .iter()
                    .map(|c| match &c.was {
                        Some(was) => format!("{} {was} → {}", c.key, c.now),
                        None => format!("{} → {}", c.key, c.now),
                    })
                    .collect();
                write!(f, "configure topic {name}: {}", said.join(", "))
            }
            TopicChange::Ensure(decls) => {
                let names: Vec<&str> = decls.iter().map(|d| d.name.as_str()).collect();
                write!(
                    f,
                    "ensure    topics {} once the brokers are ready (created where missing, \
                     partitions raised, configs set; nothing deleted)",
                    names.join(", ")
                )
            }
        }
    }
}

/// What Kafka cannot do (or kafkup does not do) to an existing topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    FewerPartitions {
        name: String,
        have: u32,
        want: u32,
    },
    ReplicationAboveBrokers {
        name: String,
        want: u16,
        brokers: usize,
    },
    ReplicationChange {
        name: String,
        have: u16,
        want: u16,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::FewerPartitions { name, have, want } => write!(
                f,
                "topic {name} has {have} partitions; Kafka cannot take partitions away (declared: {want})"
            ),
            Refusal::ReplicationAboveBrokers {
                name,
                want,
                brokers,
            } => write!(
                f,
                "topic {name}: replication factor {want} needs {want} brokers; this environment has {brokers}"
            ),
            Refusal::ReplicationChange { name, have, want } => write!(
                f,
                "topic {name} has replication factor {have}; changing it to {want} means moving replicas, which setup does not do"
            ),
        }
    }
}

/// Every declared topic setup cannot make as declared; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setup cannot make the declared topics so (nothing was changed):\n  {}", list(.0))]
pub struct Refused(pub Vec<Refusal>);

fn list(refusals: &[Refusal]) -> String {
    let lines: Vec<String> = refusals.iter().map(|r| r.to_string()).collect();
    lines.join("\n  ")
}

impl crate::error::Diagnose for Refused {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::Usage
    }
    fn help(&self) -> Option<String> {
        let mut help = Vec::new();
        for r in &self.0 {
            let line = match r {
                Refusal::FewerPartitions { name, have, .. } => format!(
                    "declare {name} with at least {have} partitions (or delete it with `kafkup topic delete {name}`, its messages with it, and let setup create it anew)"
                ),
                Refusal::ReplicationAboveBrokers { name, brokers, .. } => format!(
                    "declare {name} with a replication factor of at most {brokers}, or set up more brokers"
                ),
                Refusal::ReplicationChange { name, have, .. } => format!(
                    "declare {name} with replication factor {have}, or reassign its replicas with kafka-reassign-partitions.sh (see the README)"
                ),
            };
            if !help.contains(&line) {
                help.push(line);
            }
        }
        Some(help.join("; "))
    }
}

/// What `declared` asks of a cluster of `brokers` brokers whose topics are `seen` (None: not
/// known yet, so looked at later), or every refusal.
pub fn plan(
    declared: &[TopicDecl],
    seen: Option<&BTreeMap<String, TopicSeen>>,
    brokers: usize,
) -> Result<Vec<TopicChange>, Refused> {
    let mut refusals: Vec<Refusal> = declared
        .iter()
        .filter_map(|d| Some((d, d.replication_factor?)))
        .filter(|(_, want)| usize::from(*want) > brokers)
        .map(|(d, want)| Refusal::ReplicationAboveBrokers {
            name: d.name.clone(),
            want,
            brokers,
        })
        .collect();
    let mut changes = Vec::new();
    match seen {
        None if !declared.is_empty() => changes.push(TopicChange::Ensure(declared.to_vec())),
        None => {}
        Some(seen) => {
            for decl in declared {
                match seen.get(&decl.name) {
                    None => changes.push(TopicChange::Create(decl.clone())),
                    Some(have) => changes.extend(alter(decl, have, &mut refusals)),
                }
            }
        }
    }
    match refusals.is_empty() {
        true => Ok(changes),
        false => Err(Refused(refusals)),
    }
}

/// The changes an existing topic needs; what cannot be done goes to `refusals`.
fn alter(decl: &TopicDecl, have: &TopicSeen, refusals: &mut Vec<Refusal>) -> Vec<TopicChange> {
    let name = decl.name.clone();
    let mut changes = Vec::new();
    match decl.partitions {
        Some(want) if want < have.partitions => refusals.push(Refusal::FewerPartitions {
            name: name.clone(),
            have: have.partitions,
            want,
        }),
        Some(want) if want > have.partitions => changes.push(TopicChange::AddPartitions {
            name: name.clone(),
            from: have.partitions,
            to: want,
        }),
        _ => {}
    }
    if let Some(want) = decl.replication_factor {
        if want != have.replication_factor && !refusals.iter().any(|r| is_above(r, &name)) {
            refusals.push(Refusal::ReplicationChange {
                name: name.clone(),
                have: have.replication_factor,
                want,
            });
        }
    }
    let configs: Vec<ConfigChange> = decl
        .configs
        .iter()
        .filter(|(key, value)| have.configs.get(*key) != Some(*value))
        .map(|(key, value)| ConfigChange {
            key: key.clone(),
            was: have.configs.get(key).cloned(),
            now: value.clone(),
        })
        .collect();
    if !configs.is_empty() {
        changes.push(TopicChange::SetConfigs {
            name,
            changes: configs,
        });
    }
    changes
}

fn is_above(refusal: &Refusal, topic: &str) -> bool {
    matches!(refusal, Refusal::ReplicationAboveBrokers { name, .. } if name == topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(text: &str) -> TopicDecl {
        text.parse().unwrap()
    }

    fn seen(partitions: u32, replication_factor: u16, configs: &[(&str, &str)]) -> TopicSeen {
        TopicSeen {
            partitions,
            replication_factor,
            configs: configs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_flag_form_reads_name_partitions_and_replication() {
        assert_eq!(decl("orders").partitions, None);
        let d = decl("orders:3:2");
        assert_eq!((d.partitions, d.replication_factor), (Some(3), Some(2)));
        let d = decl("orders::2");
        assert_eq!((d.partitions, d.replication_factor), (None, Some(2)));
        for bad in [
            "",
            "a:0",
            "a:x",
            "a:1:0",
            "a:1:2:3",
            "a b",
            "__consumer_offsets",
            "..",
        ] {
            assert!(bad.parse::<TopicDecl>().is_err(), "{bad:?} was accepted");
        }
        let err = "a:x".parse::<TopicDecl>().unwrap_err();
        assert!(err.contains("partition count `x`"), "{err}");
    }

    #[test]
    fn missing_topics_are_created_and_unknown_ones_are_ensured_later() {
        let declared = [decl("orders:3:1"), decl("events")];
        let have = BTreeMap::from([("events".to_string(), seen(1, 1, &[]))]);
        let changes = plan(&declared, Some(&have), 1).unwrap();
        assert_eq!(changes, [TopicChange::Create(declared[0].clone())]);
        assert_eq!(
            changes[0].to_string(),
            "create    topic orders (3 partitions, replication factor 1)"
        );
        let later = plan(&declared, None, 1).unwrap();
        assert_eq!(later, [TopicChange::Ensure(declared.to_vec())]);
        assert!(plan(&[], None, 1).unwrap().is_empty());
    }

    #[test]
    fn partitions_are_raised_and_configs_that_differ_are_set() {
        let mut orders = decl("orders:6");
        orders.configs = BTreeMap::from([
            ("retention.ms".into(), "1000".into()),
            ("cleanup.policy".into(), "delete".into()),
        ]);
        let have = BTreeMap::from([(
            "orders".to_string(),
            seen(
                3,
                1,
                &[("retention.ms", "604800000"), ("cleanup.policy", "delete")],
            ),
        )]);
        let changes = plan(&[orders], Some(&have), 1).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(
            changes[0].to_string(),
            "raise     topic orders from 3 to 6 partitions"
        );
        assert_eq!(
            changes[1].to_string(),
            "configure topic orders: retention.ms 604800000 → 1000"
        );
    }

    #[test]
    fn a_topic_as_declared_needs_nothing_and_undeclared_counts_are_not_checked() {
        let have = BTreeMap::from([("orders".to_string(), seen(4, 3, &[]))]);
        assert!(plan(&[decl("orders:4:3")], Some(&have), 3)
            .unwrap()
            .is_empty());
        assert!(plan(&[decl("orders")], Some(&have), 1).unwrap().is_empty());
    }

    #[test]
    fn what_kafka_cannot_do_is_refused_all_at_once() {
        let have = BTreeMap::from([
            ("orders".to_string(), seen(4, 1, &[])),
            ("events".to_string(), seen(1, 1, &[])),
        ]);
        let declared = [decl("orders:2"), decl("events:1:3"), decl("audit:1:2")];
        let Refused(refusals) = plan(&declared, Some(&have), 1).unwrap_err();
        assert_eq!(refusals.len(), 3, "{refusals:?}");
        let text = Refused(refusals.clone()).to_string();
        assert!(text.contains("topic orders has 4 partitions"), "{text}");
        assert!(
            text.contains("replication factor 3 needs 3 brokers; this environment has 1"),
            "{text}"
        );
        assert!(text.contains("topic audit: replication factor 2"), "{text}");
        // Above the brokers is refused before any topic is looked at.
        let Refused(early) = plan(&[decl("audit:1:2")], None, 1).unwrap_err();
        assert!(matches!(
            early[..],
            [Refusal::ReplicationAboveBrokers { .. }]
        ));
        let Refused(moved) = plan(&[decl("events:1:2")], Some(&have), 3).unwrap_err();
        assert!(matches!(
            moved[..],
            [Refusal::ReplicationChange {
                have: 1,
                want: 2,
                ..
            }]
        ));
    }

    #[test]
    fn config_values_of_any_toml_type_are_text() {
        let decl: TopicDecl = toml::from_str(
            "name = \"t\"\nconfigs = { \"retention.ms\" = 1000, \"preallocate\" = true, \"x\" = \"y\" }",
        )
        .unwrap();
        assert_eq!(decl.configs["retention.ms"], "1000");
        assert_eq!(decl.configs["preallocate"], "true");
        let json = serde_json::to_string(&decl).unwrap();
        assert_eq!(serde_json::from_str::<TopicDecl>(&json).unwrap(), decl);
    }
}
