//! `kafkup status`: each service's runner state and probe result, plus what depends on what.

use super::Context;
use crate::lifecycle::describe_state;
use crate::runner::ServiceState;
use crate::state;
use anyhow::Result;
use serde::Serialize;

#[derive(Serialize)]
struct ServiceStatus {
    name: String,
    runner: String,
    state: ServiceState,
    ports: Vec<u16>,
    ready: bool,
    probe: String,
    /// Problems that are not this service's own (e.g. its ZooKeeper is down).
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct Status {
    root: String,
    mode: String,
    bootstrap_server: String,
    cluster_id: Option<String>,
    all_ready: bool,
    services: Vec<ServiceStatus>,
}

/// Exit code 0 when every service is ready, 4 (not ready) otherwise, so scripts can ask.
pub async fn run(ctx: &Context<'_>) -> Result<()> {
    let manifest = state::require(&super::paths(ctx)?)?;
    let runner = super::service::runner_of(&manifest)?;
    let mut services = Vec::new();
    for record in &manifest.services {
        let spec = &record.spec;
        let state = runner.state(spec.name);
        let mut ready = state.is_running();
        let mut probe = String::from("not probed: not running");
        if ready {
            match look(&spec.probes).await {
                Ok(said) => probe = said.join("; "),
                Err(why) => {
                    ready = false;
                    probe = why;
                }
            }
        }
        services.push(ServiceStatus {
            name: spec.name.to_string(),
            runner: record.runner.to_string(),
            state,
            ports: spec.ports.clone(),
            ready,
            probe,
            warnings: vec![],
        });
    }
    // A broker whose ZooKeeper is down may still answer metadata, but it cannot change anything.
    let down: Vec<String> = services
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.clone())
        .collect();
    for (record, status) in manifest.services.iter().zip(services.iter_mut()) {
        if let Some(dep) = record.spec.requires {
            if down.contains(&dep.to_string()) {
                status
                    .warnings
                    .push(format!("{dep}, which it requires, is not ready"));
                status.ready = false;
            }
        }
    }
    let all_ready = !services.is_empty() && services.iter().all(|s| s.ready);
    let status = Status {
        root: manifest.paths.state.display().to_string(),
        mode: manifest.mode.to_string(),
        bootstrap_server: manifest.bootstrap_server(),
        cluster_id: manifest.cluster_id.clone(),
        all_ready,
        services,
    };
    if ctx.global.json {
        super::print_json(&status)?;
    } else {
        println!(
            "{} mode, bootstrap server {} (advertised to clients as is: use it from this host)",
            status.mode, status.bootstrap_server
        );
        if let Some(id) = &status.cluster_id {
            println!("cluster id {id}");
        }
        if status.services.is_empty() {
            println!("no services: torn down (data kept); run `kafkup setup` to bring them back");
        }
        for s in &status.services {
            let mark = if s.ready { "ready" } else { "NOT READY" };
            println!(
                "{:<10} {:<9} {} ({} runner), ports {}",
                s.name,
                mark,
                describe_state(&s.state),
                s.runner,
                s.ports
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("{:<10} probe: {}", "", s.probe);
            for w in &s.warnings {
                println!("{:<10} warning: {w}", "");
            }
        }
    }
    if !status.all_ready {
        return Err(crate::lifecycle::NotAllReady.into());
    }
    Ok(())
}

/// Runs the probes once, in order, stopping at the first failure. Read-only: a missing health
/// topic is reported, not created (`start` and `probe` create it).
async fn look(probes: &[crate::spec::ProbeSpec]) -> Result<Vec<String>, String> {
    use crate::probe::{self, ProbeError};
    use crate::spec::ProbeSpec;
    let limit = std::time::Duration::from_secs(5);
    let mut said = Vec::new();
    for p in probes {
        let outcome = match p {
            ProbeSpec::KafkaTopicReady { bootstrap, topic } => {
                match probe::topic_ready(bootstrap, topic, limit).await {
                    Ok(d) => Ok(format!(
                        "topic {topic}: {} partition(s), all led",
                        d.partitions.len()
                    )),
                    Err(ProbeError::TopicMissing { .. }) => {
                        Ok(format!("topic {topic} not created yet"))
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            other => match tokio::time::timeout(limit, probe::check(other)).await {
                Ok(Ok(o)) => Ok(o.description),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("probe timed out after 5 s".into()),
            },
        };
        said.push(outcome?);
    }
    Ok(said)
}
