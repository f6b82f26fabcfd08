//! The cluster as its metadata describes it: an active controller, every partition led, and
//! every partition's in-sync replicas — all of them, and at least `min.insync.replicas`.

use super::report::Check;
use crate::messaging::admin::{Admin, TopicDescription};

/// The checks of the cluster `admin` talks to; `min_insync` where it is known.
pub async fn examine(admin: &Admin, min_insync: Option<usize>) -> Vec<Check> {
    let mut checks = vec![match admin.controller().await {
        Some(id) => Check::ok("controller", format!("broker {id} is the active controller")),
        None => Check::problem(
            "controller",
            "no broker names an active controller",
            "the brokers cannot reach ZooKeeper or the KRaft quorum: look at their logs and at the controllers'",
        ),
    }];
    match admin.describe_all().await {
        Ok(topics) => checks.extend(partitions(&topics, min_insync)),
        Err(e) => checks.push(Check::problem(
            "partitions",
            format!("cannot describe the topics: {e}"),
            "is a broker ready? (`kafkup status`)",
        )),
    }
    checks
}

/// Offline, under-replicated and under-min-ISR partitions, named (the first few of each).
pub fn partitions(topics: &[TopicDescription], min_insync: Option<usize>) -> Vec<Check> {
    let mut offline = Vec::new();
    let mut under = Vec::new();
    let mut below_min = Vec::new();
    let mut count = 0;
    for topic in topics {
        for p in &topic.partitions {
            count += 1;
            let name = format!("{}-{}", topic.name, p.id);
            if p.leader.is_none() {
                offline.push(name);
            } else if min_insync.is_some_and(|m| p.isr.len() < m.min(p.replicas.len())) {
                below_min.push(name);
            } else if p.isr.len() < p.replicas.len() {
                under.push(name);
            }
        }
    }
    let list = |names: &[String]| {
        let mut shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
        if names.len() > 5 {
            shown.push("…");
        }
        format!("{} ({})", names.len(), shown.join(", "))
    };
    let mut checks = Vec::new();
    if !offline.is_empty() {
        checks.push(Check::problem("partitions offline", list(&offline), "no replica of them runs: start the brokers that hold them (`kafkup status` says which are down)"));
    }
    if !below_min.is_empty() {
        checks.push(Check::problem("partitions below min.insync.replicas", list(&below_min), "writes with acks=all fail on them until enough replicas catch up: start the brokers that are down"));
    }
    if !under.is_empty() {
        checks.push(Check::warning(
            "partitions under-replicated",
            list(&under),
            "a replica is behind or its broker is down; it catches up once its broker runs",
        ));
    }
    if checks.is_empty() {
        checks.push(Check::ok(
            "partitions",
            format!("all {count} led, every replica in sync"),
        ));
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::report::Verdict;
    use crate::messaging::admin::PartitionDescription;

    fn partition(id: i32, leader: Option<i32>, isr: &[i32]) -> PartitionDescription {
        PartitionDescription {
            id,
            leader,
            replicas: vec![1, 2, 3],
            isr: isr.to_vec(),
            error: None,
        }
    }

    #[test]
    fn offline_below_min_and_behind_are_told_apart() {
        let topic = TopicDescription {
            name: "orders".into(),
            partitions: vec![
                partition(0, None, &[]),
                partition(1, Some(1), &[1]),
                partition(2, Some(1), &[1, 2]),
                partition(3, Some(1), &[1, 2, 3]),
            ],
            error: None,
        };
        let checks = partitions(std::slice::from_ref(&topic), Some(2));
        let verdicts: Vec<(&str, Verdict)> = checks
            .iter()
            .map(|c| (c.name.as_str(), c.verdict))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("partitions offline", Verdict::Problem),
                ("partitions below min.insync.replicas", Verdict::Problem),
                ("partitions under-replicated", Verdict::Warning),
            ]
        );
        assert_eq!(checks[0].saw, "1 (orders-0)");
        let healthy = TopicDescription {
            partitions: vec![partition(3, Some(1), &[1, 2, 3])],
            ..topic
        };
        assert_eq!(partitions(&[healthy], Some(2))[0].verdict, Verdict::Ok);
    }
}
