//! `start`, `stop`, `restart` and `probe`: acting on an environment `setup` created.

use super::Context;
use crate::environment::Environment;
use crate::lifecycle::{self, Launch};
use crate::runner::Runner;
use crate::spec::ServiceSpec;
use anyhow::Result;
use std::time::Duration;

pub async fn start(ctx: &Context<'_>, service: Option<&str>, wait: Option<u64>) -> Result<()> {
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
    let specs: Vec<&ServiceSpec> = records.iter().map(|r| &r.spec).collect();
    let timeout = Duration::from_secs(wait.unwrap_or(env.manifest.ready_timeout_secs));
    lifecycle::wait_ready(runner, &launches, timeout, ctx.reporter, |_| true).await?;
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&format!("ready: {}", names(&specs)))
}

pub async fn stop(ctx: &Context<'_>, service: Option<&str>) -> Result<()> {
    let env = Environment::open(&super::paths(ctx)?).await?;
    let specs: Vec<&ServiceSpec> = env.select(service)?.iter().map(|r| &r.spec).collect();
    lifecycle::stop_all(env.runner()?, &specs, ctx.reporter).await?;
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&format!("stopped: {}", names(&specs)))
}

pub async fn restart(ctx: &Context<'_>, service: Option<&str>, wait: Option<u64>) -> Result<()> {
    stop(ctx, service).await?;
    start(ctx, service, wait).await
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

fn names(specs: &[&ServiceSpec]) -> String {
    specs
        .iter()
        .map(|s| s.name.name())
        .collect::<Vec<_>>()
        .join(", ")
}
