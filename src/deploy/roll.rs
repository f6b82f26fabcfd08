//! A rolling restart (`kafkup upgrade`): setup's decision stops every node that restarts and
//! then starts them all; rolled, each node is stopped, started and ready again — and, when
//! brokers replicate, every partition back in sync — before the next one stops, in start
//! order (ZooKeeper, controllers, brokers). Pure: a decision in, a decision out.

use super::decide::{Action, Decision, StartReason};
use crate::vocab::{NodeId, Role};

/// What a rolling restart cannot carry out one node at a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this change {what}, which is not a change of release: run `kafkup setup` for it first, then upgrade")]
pub struct NotRolling {
    pub what: &'static str,
}

impl crate::error::Diagnose for NotRolling {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::Usage
    }
}

/// `decision` with its stops and starts interleaved node by node. `replicated`: brokers hold
/// copies of each other's partitions, so a restarted broker must catch up before the next stops.
pub fn rolling(
    decision: Decision,
    replicated: bool,
    timeout_secs: u64,
) -> Result<Decision, NotRolling> {
    let actions = decision.actions;
    let is_block = |a: &Action| {
        matches!(
            a,
            Action::Stop { .. }
                | Action::Install { .. }
                | Action::Start { .. }
                | Action::ScramUsers
                | Action::Rename(_)
                | Action::FormatStorage { .. }
        )
    };
    let Some(first) = actions.iter().position(is_block) else {
        return Ok(Decision { actions });
    };
    let end = actions[first..]
        .iter()
        .position(|a| !is_block(a))
        .map_or(actions.len(), |i| first + i);
    let block = &actions[first..end];
    if block.iter().any(|a| matches!(a, Action::Rename(_))) {
        return Err(NotRolling {
            what: "renames nodes",
        });
    }
    let restarted = |node: &NodeId| {
        block.iter().any(|a| {
            matches!(a, Action::Start { service, reason: StartReason::Restart(_) } if service == node)
        })
    };
    if block
        .iter()
        .any(|a| matches!(a, Action::FormatStorage { nodes, .. } if nodes.iter().any(restarted)))
    {
        return Err(NotRolling {
            what: "formats the KRaft storage of a running node",
        });
    }
    let mut rolled: Vec<Action> = actions[..first].to_vec();
    rolled.extend(format_first(block));
    rolled.extend(roll_block(block, replicated, timeout_secs));
    rolled.extend(actions[end..].iter().cloned());
    Ok(Decision { actions: rolled })
}

/// New nodes (controllers joining a migration) formatted before anything restarts: their
/// installs (the format needs the service user), then the format. Running nodes are never
/// formatted.
fn format_first(block: &[Action]) -> Vec<Action> {
    let Some(format) = block
        .iter()
        .find(|a| matches!(a, Action::FormatStorage { .. }))
    else {
        return vec![];
    };
    let Action::FormatStorage { nodes, .. } = format else {
        unreachable!("found as a format");
    };
    let installs = block
        .iter()
        .filter(|a| matches!(a, Action::Install { service, .. } if nodes.contains(service)));
    installs.chain([format]).cloned().collect()
}

/// The stops, installs and starts of one block, node by node in start order.
fn roll_block(block: &[Action], replicated: bool, timeout_secs: u64) -> Vec<Action> {
    let stop_of = |node: NodeId| {
        block
            .iter()
            .find(|a| matches!(a, Action::Stop { service, .. } if *service == node))
    };
    let install_of = |node: NodeId| {
        block
            .iter()
            .find(|a| matches!(a, Action::Install { service, .. } if *service == node))
    };
    let formatted: Vec<NodeId> = block
        .iter()
        .find_map(|a| match a {
            Action::FormatStorage { nodes, .. } => Some(nodes.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let install_of = |node: NodeId| install_of(node).filter(|_| !formatted.contains(&node));
    let mut rolled = Vec::new();
    let mut scram_pending = block.contains(&Action::ScramUsers);
    for action in block {
        let Action::Start { service, reason } = action else {
            continue;
        };
        if scram_pending && service.role() == Role::Kafka {
            rolled.push(Action::ScramUsers);
            scram_pending = false;
        }
        let restarts = matches!(reason, StartReason::Restart(_));
        rolled.extend(stop_of(*service).filter(|_| restarts).cloned());
        rolled.extend(install_of(*service).cloned());
        rolled.push(action.clone());
        if restarts {
            rolled.push(Action::WaitNode {
                service: *service,
                timeout_secs,
            });
            if replicated && service.role() == Role::Kafka {
                rolled.push(Action::InSync { timeout_secs });
            }
        }
    }
    rolled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::RunnerKind;

    fn stop(node: NodeId) -> Action {
        Action::Stop {
            service: node,
            reason: "its command line changed".into(),
        }
    }

    fn restart(node: NodeId) -> Action {
        Action::Start {
            service: node,
            reason: StartReason::Restart(vec!["its command line changed".into()]),
        }
    }

    fn install(node: NodeId) -> Action {
        Action::Install {
            service: node,
            runner: RunnerKind::Systemd,
        }
    }

    #[test]
    fn each_node_is_stopped_started_and_ready_before_the_next_stops() {
        let (c, k1, k2) = (
            NodeId::solo(Role::Controller),
            NodeId::of(Role::Kafka, 1, 2),
            NodeId::of(Role::Kafka, 2, 2),
        );
        let decision = Decision {
            actions: vec![
                Action::PrepareData { dirs: vec![] },
                stop(k2),
                stop(k1),
                stop(c),
                install(c),
                install(k1),
                install(k2),
                restart(c),
                restart(k1),
                restart(k2),
                Action::WaitReady { timeout_secs: 60 },
                Action::SelfTest,
            ],
        };
        let rolled = rolling(decision, true, 60).unwrap().actions;
        let wait = |service| Action::WaitNode {
            service,
            timeout_secs: 60,
        };
        let in_sync = Action::InSync { timeout_secs: 60 };
        assert_eq!(
            rolled,
            vec![
                Action::PrepareData { dirs: vec![] },
                stop(c),
                install(c),
                restart(c),
                wait(c),
                stop(k1),
                install(k1),
                restart(k1),
                wait(k1),
                in_sync.clone(),
                stop(k2),
                install(k2),
                restart(k2),
                wait(k2),
                in_sync,
                Action::WaitReady { timeout_secs: 60 },
                Action::SelfTest,
            ]
        );
    }

    #[test]
    fn a_stopped_node_just_starts_and_one_broker_waits_for_no_replicas() {
        let (zk, k) = (NodeId::solo(Role::Zookeeper), NodeId::solo(Role::Kafka));
        let start_zk = Action::Start {
            service: zk,
            reason: StartReason::NotRunning("stopped".into()),
        };
        let decision = Decision {
            actions: vec![stop(k), start_zk.clone(), Action::ScramUsers, restart(k)],
        };
        let rolled = rolling(decision, false, 9).unwrap().actions;
        assert_eq!(
            rolled,
            vec![
                start_zk,
                Action::ScramUsers,
                stop(k),
                restart(k),
                Action::WaitNode {
                    service: k,
                    timeout_secs: 9
                },
            ]
        );
    }

    #[test]
    fn new_nodes_are_installed_and_formatted_before_anything_restarts() {
        let (c, k) = (NodeId::solo(Role::Controller), NodeId::solo(Role::Kafka));
        let format = Action::FormatStorage {
            cluster_id: Some("abc".into()),
            nodes: vec![c],
        };
        let start_c = Action::Start {
            service: c,
            reason: StartReason::NotRunning("new".into()),
        };
        let decision = Decision {
            actions: vec![
                stop(k),
                install(c),
                install(k),
                format.clone(),
                start_c.clone(),
                restart(k),
            ],
        };
        let rolled = rolling(decision, false, 9).unwrap().actions;
        let wait_k = Action::WaitNode {
            service: k,
            timeout_secs: 9,
        };
        assert_eq!(
            rolled,
            vec![
                install(c),
                format,
                start_c,
                stop(k),
                install(k),
                restart(k),
                wait_k
            ]
        );
    }

    #[test]
    fn a_running_node_is_never_formatted() {
        let k = NodeId::solo(Role::Kafka);
        let decision = Decision {
            actions: vec![
                Action::FormatStorage {
                    cluster_id: None,
                    nodes: vec![k],
                },
                restart(k),
            ],
        };
        let refused = rolling(decision, false, 9).unwrap_err();
        assert_eq!(refused.what, "formats the KRaft storage of a running node");
    }
}
