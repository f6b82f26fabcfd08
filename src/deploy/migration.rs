//! The one step of a migration's way back that is not a desired state (KIP-866's rollback):
//! once the KRaft controllers are gone, ZooKeeper's `/migration` znode is deleted (a later
//! migration would otherwise take the stale state for its own and reconcile ZooKeeper to an
//! empty KRaft log — deleting every topic) and so is `/controller`, the KRaft controller's
//! claim, so that a ZooKeeper-mode broker can become the controller again. Done with
//! ZooKeeper's own command-line client, run as the runner runs tools.

use crate::deployment::Deployment;
use crate::error::Problem;
use crate::runner::{AnyRunner, Runner};
use anyhow::Result;

/// What ZooKeeper's client says when the znode is gone already (a resumed rollback).
const NO_NODE: &str = "Node does not exist";

pub async fn release_controller(runner: &AnyRunner, want: &Deployment) -> Result<()> {
    for znode in ["/migration", "/controller"] {
        delete(runner, want, znode).await?;
    }
    Ok(())
}

async fn delete(runner: &AnyRunner, want: &Deployment, znode: &str) -> Result<()> {
    let what = format!("ZooKeeper's {znode} deleted");
    let args = |connect: &str| {
        ["-server", connect, "delete", znode]
            .map(str::to_string)
            .to_vec()
    };
    let tool = super::zookeeper_tool::tool(want, what, "org.apache.zookeeper.ZooKeeperMain", args);
    let out = runner.run_tool(&tool).await?;
    if out.success || out.output.contains(NO_NODE) {
        return Ok(());
    }
    Err(Problem::new(
        format!(
            "deleting ZooKeeper's {znode} znode failed ({}):\n{}",
            out.status,
            crate::logtail::the_error(&out.output)
        ),
        "is ZooKeeper running? `kafkup status` and `kafkup logs zookeeper` say; `kafkup migrate --rollback` again resumes",
    )
    .into())
}
