//! `start`, `stop`, `restart` and `probe`: acting on an environment `setup` created.

use super::Context;
use crate::lifecycle;
use crate::spec::{ServiceName, ServiceSpec};
use crate::state::{self, Manifest};
use anyhow::{bail, Result};
use std::time::Duration;

/// The services a command acts on: all (in start order) or the one named.
pub fn select<'m>(manifest: &'m Manifest, service: Option<&str>) -> Result<Vec<&'m ServiceSpec>> {
    let all: Vec<&ServiceSpec> = manifest.services.iter().map(|r| &r.spec).collect();
    if all.is_empty() {
        bail!(
            "the environment under {} has no services (it was torn down); run `kafkup setup`",
            manifest.paths.state.display()
        );
    }
    match service {
        None => Ok(all),
        Some(name) => {
            let wanted = ServiceName::parse(name);
            match all.iter().find(|s| Some(s.name) == wanted) {
                Some(spec) => Ok(vec![*spec]),
                None => bail!(
                    "no service {name:?} here; this environment has: {}",
                    all.iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    }
}

pub fn runner_of(manifest: &Manifest) -> Result<Box<dyn crate::runner::Runner>> {
    lifecycle::runner_for(manifest.runner_kind(), &manifest.paths)
}

pub async fn start(ctx: &Context<'_>, service: Option<&str>) -> Result<()> {
    let manifest = state::require(&super::paths(ctx)?)?;
    let specs = select(&manifest, service)?;
    let runner = runner_of(&manifest)?;
    let not_running: Vec<(u16, &str)> = specs
        .iter()
        .filter(|s| !runner.state(s.name).is_running())
        .flat_map(|s| s.ports.iter().map(|p| (*p, s.name.as_str())))
        .collect();
    crate::preflight::check_ports(&not_running)?;
    let timeout = Duration::from_secs(120);
    lifecycle::start_and_wait(
        runner.as_ref(),
        &specs,
        &manifest.java,
        timeout,
        ctx.reporter,
    )
    .await?;
    if !ctx.global.quiet {
        println!(
            "ready: {}",
            specs
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

pub fn stop(ctx: &Context<'_>, service: Option<&str>) -> Result<()> {
    let manifest = state::require(&super::paths(ctx)?)?;
    let specs = select(&manifest, service)?;
    let runner = runner_of(&manifest)?;
    let names: Vec<ServiceName> = specs.iter().map(|s| s.name).collect();
    lifecycle::stop_all(runner.as_ref(), &names, ctx.reporter)?;
    if !ctx.global.quiet {
        println!(
            "stopped: {}",
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

pub async fn restart(ctx: &Context<'_>, service: Option<&str>) -> Result<()> {
    stop(ctx, service)?;
    start(ctx, service).await
}

pub async fn probe(ctx: &Context<'_>, wait: Option<u64>) -> Result<()> {
    let manifest = state::require(&super::paths(ctx)?)?;
    let specs = select(&manifest, None)?;
    let runner = runner_of(&manifest)?;
    // Without --wait: one look, with a short deadline so a down service fails fast.
    let timeout = Duration::from_secs(wait.unwrap_or(2));
    let outcomes = lifecycle::wait_ready(runner.as_ref(), &specs, timeout, ctx.reporter).await?;
    if ctx.global.json {
        return super::print_json(&outcomes);
    }
    for o in &outcomes {
        println!("ok  {}: {}", o.probe, o.description);
    }
    Ok(())
}
