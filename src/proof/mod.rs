//! Proof that a version change lost nothing: every topic with its partition count, its own
//! configs and each partition's end offset, and every consumer group's committed offsets,
//! taken before and after and compared. Clients may go on writing and committing meanwhile,
//! so an offset may grow, never shrink; the rest must be equal. Pure; [`take`] asks the brokers.

mod take;

pub use take::take;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the cluster holds, as its clients see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub topics: BTreeMap<String, TopicFacts>,
    /// Group → "topic-partition" → committed offset.
    pub groups: BTreeMap<String, BTreeMap<String, i64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicFacts {
    pub partitions: usize,
    /// The configs the topic sets itself (not the brokers' defaults, which a release changes).
    pub configs: BTreeMap<String, String>,
    /// Each partition's end offset, by partition.
    pub end_offsets: Vec<i64>,
}

impl Inventory {
    /// "3 topics, 7 partitions, 1200 messages, 2 groups".
    pub fn summary(&self) -> String {
        let partitions: usize = self.topics.values().map(|t| t.partitions).sum();
        let messages: i64 = self.topics.values().flat_map(|t| &t.end_offsets).sum();
        format!(
            "{} topic(s), {partitions} partition(s), end offsets summing to {messages}, {} consumer group(s) with committed offsets",
            self.topics.len(),
            self.groups.len()
        )
    }
}

/// Every way `after` falls short of `before`, in words; empty when nothing was lost.
pub fn losses(before: &Inventory, after: &Inventory) -> Vec<String> {
    let mut lost = Vec::new();
    for (name, was) in &before.topics {
        match after.topics.get(name) {
            None => lost.push(format!("topic {name} is gone")),
            Some(now) => lost.extend(topic_losses(name, was, now)),
        }
    }
    for (group, was) in &before.groups {
        let now = after.groups.get(group);
        for (partition, offset) in was {
            match now.and_then(|n| n.get(partition)) {
                None => lost.push(format!(
                    "group {group} has no committed offset for {partition} any more (was {offset})"
                )),
                Some(o) if o < offset => lost.push(format!(
                    "group {group}'s committed offset for {partition} went back from {offset} to {o}"
                )),
                Some(_) => {}
            }
        }
    }
    lost
}

fn topic_losses(name: &str, was: &TopicFacts, now: &TopicFacts) -> Vec<String> {
    let mut lost = Vec::new();
    if now.partitions != was.partitions {
        lost.push(format!(
            "topic {name} had {} partition(s), now {}",
            was.partitions, now.partitions
        ));
    }
    for (key, value) in &was.configs {
        match now.configs.get(key) {
            Some(v) if v == value => {}
            other => lost.push(format!(
                "topic {name}'s {key} was {value}, now {}",
                other.map_or("its default", |v| v.as_str())
            )),
        }
    }
    for (partition, offset) in was.end_offsets.iter().enumerate() {
        match now.end_offsets.get(partition) {
            Some(o) if o >= offset => {}
            other => lost.push(format!(
                "topic {name} partition {partition} ended at offset {offset}, now {}",
                other.map_or("nowhere".into(), |o| o.to_string())
            )),
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(end: i64, committed: i64, retention: &str) -> Inventory {
        let topic = TopicFacts {
            partitions: 2,
            configs: [("retention.ms".to_string(), retention.to_string())].into(),
            end_offsets: vec![end, 5],
        };
        Inventory {
            topics: [("orders".to_string(), topic)].into(),
            groups: [(
                "billing".to_string(),
                [("orders-0".to_string(), committed)].into(),
            )]
            .into(),
        }
    }

    #[test]
    fn growth_is_no_loss_and_every_shortfall_is_named() {
        let before = inventory(10, 4, "1000");
        assert!(losses(&before, &inventory(12, 6, "1000")).is_empty());
        let after = inventory(9, 3, "2000");
        assert_eq!(
            losses(&before, &after),
            [
                "topic orders's retention.ms was 1000, now 2000",
                "topic orders partition 0 ended at offset 10, now 9",
                "group billing's committed offset for orders-0 went back from 4 to 3",
            ]
        );
        let mut gone = before.clone();
        gone.topics.clear();
        gone.groups.clear();
        assert_eq!(
            losses(&before, &gone),
            [
                "topic orders is gone",
                "group billing has no committed offset for orders-0 any more (was 4)"
            ]
        );
        assert!(before
            .summary()
            .starts_with("1 topic(s), 2 partition(s), end offsets summing to 15"));
    }
}
