//! `start`, `stop`, `restart` and `probe`: acting on an environment `setup` created.

use super::Context;
use crate::environment::Environment;
use crate::lifecycle::{self, Launch, Stopped};
use crate::probe::ProbeOutcome;
use crate::runner::Runner;
use crate::spec::ServiceSpec;
use anyhow::Result;
use serde_json::json;
use std::time::Duration;

pub async fn start(ctx: &Context<'_>, service: Option<&str>, wait: Option<u64>) -> Result<()> {
    let (names, probes) = start_and_wait(ctx, service, wait).await?;
    if ctx.global.json {
        return super::print_json(&json!({ "ready": names, "probes": probes }));
    }
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&format!("ready: {}", names.join(", ")))
}

pub async fn stop(ctx: &Context<'_>, service: Option<&str>) -> Result<()> {
    let stopped = stop_only(ctx, service).await?;
    if ctx.global.json {
        return super::print_json(&json!({ "stopped": stopped }));
    }
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&stopped_line(&stopped))
}

pub async fn restart(ctx: &Context<'_>, service: Option<&str>, wait: Option<u64>) -> Result<()> {
    let stopped = stop_only(ctx, service).await?;
    if !ctx.global.json && !ctx.global.quiet {
        super::say(&stopped_line(&stopped))?;
    }
    let (names, probes) = start_and_wait(ctx, service, wait).await?;
    if ctx.global.json {
        return super::print_json(&json!({ "stopped": stopped, "ready": names, "probes": probes }));
    }
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&format!("ready: {}", names.join(", ")))
}

/// "stopped: zookeeper, kafka", in start order.
fn stopped_line(stopped: &[Stopped]) -> String {
    let names: Vec<String> = stopped.iter().rev().map(|s| s.service.name()).collect();
    format!("stopped: {}", names.join(", "))
}

/// Starts the services (all, or the one named) and waits until they are ready: their names,
/// and what the probes said.
async fn start_and_wait(
    ctx: &Context<'_>,
    service: Option<&str>,
    wait: Option<u64>,
) -> Result<(Vec<String>, Vec<ProbeOutcome>)> {
    let env = Environment::open(&super::paths(ctx)?).await?;
    let records = env.select(service)?;
    let runner = env.runner()?;
    env.check_data().await?;
    let mut ports = Vec::new();
    for r in &records {
        // A paused service holds its ports: it is continued, not started anew.
        if !runner.state(r.spec.name).await?.is_up() {
            ports.extend(r.spec.ports.iter().map(|p| (*p, r.spec.name.name())));
        }
    }
    crate::preflight::check_ports(&ports)?;
    let launches: Vec<Launch> = records
        .iter()
        .map(|r| (&r.spec, r.command.as_slice()))
        .collect();
    lifecycle::start_all(runner, &launches, ctx.reporter).await?;
    let timeout = Duration::from_secs(wait.unwrap_or(env.manifest.ready_timeout_secs));
    let probes = lifecycle::wait_ready(runner, &launches, timeout, ctx.reporter, |_| true).await?;
    let names = records.iter().map(|r| r.spec.name.name()).collect();
    Ok((names, probes))
}

/// Stops the services (all, or the one named), last first.
async fn stop_only(ctx: &Context<'_>, service: Option<&str>) -> Result<Vec<Stopped>> {
    let env = Environment::open(&super::paths(ctx)?).await?;
    let specs: Vec<&ServiceSpec> = env.select(service)?.iter().map(|r| &r.spec).collect();
    lifecycle::stop_all(env.runner()?, &specs, ctx.reporter).await
}

pub async fn probe(ctx: &Context<'_>, wait: Option<u64>) -> Result<()> {
    let env = Environment::open(&super::paths(ctx)?).await?;
    let launches: Vec<Launch> = env
        .select(None)?
        .iter()
        .map(|r| (&r.spec, r.command.as_slice()))
        .collect();
    let timeout = Duration::from_secs(wait.unwrap_or(crate::defaults::PROBE_ONCE_SECS));
    let outcomes =
        lifecycle::wait_ready(env.runner()?, &launches, timeout, ctx.reporter, |_| true).await?;
    if ctx.global.json {
        return super::print_json(&outcomes);
    }
    let lines: Vec<String> = outcomes
        .iter()
        .map(|o| format!("ok  {}: {}", o.probe, o.description))
        .collect();
    super::say(&lines.join("\n"))
}
