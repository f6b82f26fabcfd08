//! What the cluster itself says about its nodes: which one is the active controller, and how
//! many partitions each broker leads. Read-only, each question asked once and briefly.

use crate::environment::Environment;
use crate::messaging::admin::Admin;
use crate::runner::Runner;
use crate::vocab::{Mode, NodeId, Role};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long the one metadata request may take.
const ASK_LIMIT: Duration = Duration::from_secs(3);

#[derive(Debug, Default)]
pub struct ClusterFacts {
    /// ZooKeeper mode: the broker ZooKeeper elected controller; KRaft: the quorum's leader.
    pub controller: Option<NodeId>,
    /// Partitions led, by broker; none when no broker answered.
    pub leads: BTreeMap<NodeId, usize>,
}

/// Asks the brokers (and in KRaft mode the voters' election state) what they know.
pub async fn facts(env: &Environment) -> ClusterFacts {
    let nodes: Vec<NodeId> = env.manifest.services.iter().map(|s| s.spec.name).collect();
    // ZooKeeper's myids are numbers of another kind: only Kafka nodes can answer to an id.
    let by_server_id = |id: i32| {
        let kafka_nodes = nodes.iter().filter(|n| n.role() != Role::Zookeeper);
        kafka_nodes
            .copied()
            .find(|n| crate::topology::server_id(*n) as i32 == id)
    };
    let mut facts = ClusterFacts::default();
    let zookeeper_mode = env.manifest.mode == Mode::Zookeeper;
    let (asked, controller) = match Admin::new(&env.manifest.bootstrap_server(), ASK_LIMIT) {
        Ok(admin) => {
            let answer = admin.reach().await.ok();
            let controller = match (zookeeper_mode, &answer) {
                (true, Some(_)) => admin.controller().await,
                _ => None,
            };
            admin.close().await;
            (answer, controller)
        }
        Err(_) => (None, None),
    };
    if let Some(cluster) = asked {
        for n in nodes.iter().filter(|n| n.role() == Role::Kafka) {
            let id = crate::topology::server_id(*n) as i32;
            facts
                .leads
                .insert(*n, cluster.leaders.get(&id).copied().unwrap_or(0));
        }
        facts.controller = controller.and_then(by_server_id);
    }
    if env.manifest.mode == Mode::Kraft {
        facts.controller = quorum_leader(env).await.and_then(by_server_id);
    }
    facts
}

/// The KRaft quorum's leader, as the voter with the newest election knows it.
async fn quorum_leader(env: &Environment) -> Option<i32> {
    let runner = env.runner().ok()?;
    let dirs = env.data_dirs()?;
    runner.data_seen(&dirs).await.ok()?.quorum_leader()
}
