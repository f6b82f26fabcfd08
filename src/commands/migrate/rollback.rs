//! `kafkup migrate --rollback`: a migration to KRaft undone before it is finalized.

use super::baseline::{self, SNAPSHOT};
use super::{proof, roll, Context};
use crate::error::Problem;
use crate::settings::Settings;
use crate::state;
use crate::vocab::{MigrationPhase, Mode, Role};
use anyhow::Result;
use std::time::Duration;

/// `kafkup migrate --rollback`: back to ZooKeeper mode from the phase the environment is in
/// (KIP-866's way back): brokers in KRaft mode first return to migration mode; then the
/// controllers stop, ZooKeeper's `/controller` is released and the brokers roll back to
/// ZooKeeper mode; the controllers' data (made by the migration, useless without it) goes.
pub async fn rollback(ctx: &Context<'_>, settings: &Settings, dry_run: bool) -> Result<()> {
    let paths = settings.paths();
    let previous = state::require(&paths)?;
    let Some(phase) = settings.migration else {
        return match previous.mode {
            Mode::Zookeeper => crate::commands::say("no migration is under way: nothing to roll back"),
            Mode::Kraft => Err(Problem::usage(
                "this environment's migration to KRaft is finalized: Kafka has no way back from there",
                format!("the snapshot taken before it (`kafkup snapshot list`: {SNAPSHOT}…) brings back the ZooKeeper-mode environment as it was; `kafkup snapshot restore NAME`"),
            )
            .into()),
        };
    };
    let mut steps = Vec::new();
    if phase == MigrationPhase::Kraft {
        steps.push("roll      brokers back into migration mode (ZooKeeper mode, registered with the controllers)");
    }
    steps.push("retire    the controllers; release ZooKeeper's /controller");
    steps.push("roll      brokers back into ZooKeeper mode");
    steps.push("remove    the controllers' data (the migration made it)");
    if dry_run {
        return crate::commands::say(&format!(
            "rollback  from phase {phase}\n{}",
            steps.join("\n")
        ));
    }
    let _lock = crate::lock::acquire(&paths)?;
    let timeout = Duration::from_secs(previous.ready_timeout_secs);
    crate::security::connect_as(
        &crate::security::inputs_of(&previous),
        crate::security::ADMIN,
    );
    let bootstrap = previous.bootstrap_server();
    // The way back must not depend on the brokers answering now.
    let before = baseline::resume(&paths, &bootstrap, timeout)
        .await
        .inspect_err(|e| {
            ctx.reporter
                .warn(&format!("no proof of what the cluster held: {e:#}"))
        })
        .ok();
    let snapshot = before.as_ref().and_then(|b| b.snapshot.as_deref());
    let mut settings = settings.clone();
    settings.selftest = false;
    if phase == MigrationPhase::Kraft {
        ctx.reporter
            .step("rollback: brokers back into migration mode");
        settings.migration = Some(MigrationPhase::Brokers);
        settings.mode = Mode::Zookeeper;
        roll(ctx, &settings, snapshot).await?;
    }
    ctx.reporter
        .step("rollback: controllers out, brokers back into ZooKeeper mode");
    settings.migration = None;
    settings.mode = Mode::Zookeeper;
    settings.controllers = 0;
    settings.selftest = true;
    roll(ctx, &settings, snapshot).await?;
    remove_controller_data(ctx, &paths).await?;
    if let Some(before) = &before {
        proof(ctx, before, &bootstrap, timeout).await?;
    }
    baseline::forget(&paths)?;
    crate::commands::say(
        "rolled back: this environment runs in ZooKeeper mode, as before the migration",
    )
}

/// The retired controllers' data (made by the migration, of no use without it), and their
/// record.
async fn remove_controller_data(ctx: &Context<'_>, paths: &crate::paths::Paths) -> Result<()> {
    use crate::runner::Runner;
    let env = crate::environment::Environment::open(paths).await?;
    let runner = env.runner()?;
    let controllers: Vec<_> = env
        .manifest
        .retired
        .iter()
        .copied()
        .filter(|n| n.role() == Role::Controller)
        .collect();
    for node in &controllers {
        let dir = paths.node_data(*node);
        runner.remove_data(*node, &dir).await?;
        ctx.reporter
            .step(&format!("removed {node}'s data (the migration made it)"));
    }
    let mut manifest = env.manifest.clone();
    manifest.retired.retain(|n| !controllers.contains(n));
    state::save(paths, &manifest)?;
    Ok(())
}
