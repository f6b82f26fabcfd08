//! How each runner's services see their nodes: the host's paths and loopback (process,
//! systemd), or the container's mount points and network (docker, which owns that mapping).

use super::docker::container;
use crate::paths::Paths;
use crate::topology::{NodeView, Topology};
use crate::vocab::RunnerKind;

/// Every node's view, in the topology's order.
pub fn views(kind: RunnerKind, paths: &Paths, topology: &Topology) -> Vec<NodeView> {
    let nodes = topology.nodes.iter();
    match kind {
        RunnerKind::Docker => {
            let env = container::env_id(paths);
            nodes.map(|n| container::view(&env, n)).collect()
        }
        RunnerKind::Process | RunnerKind::Systemd => nodes
            .map(|n| NodeView::on_host(n, &topology.host))
            .collect(),
    }
}
