//! `kafkup status`: each service's runner state and probe result, plus what depends on what.
//! Read-only: it creates nothing, not even a missing health topic.

mod cluster;

use super::Context;
use crate::environment::Environment;
use crate::probe::{self, TopicAccess};
use crate::runner::{Runner, ServiceState};
use crate::state::{self, StateError};
use crate::vocab::{NodeId, Role};
use anyhow::Result;
use serde::Serialize;

/// How long each probe may take.
const PROBE_LIMIT: std::time::Duration = crate::probe::DEFAULT_TIMEOUT;

#[derive(Serialize)]
struct ServiceStatus {
    name: NodeId,
    role: Role,
    runner: String,
    state: ServiceState,
    ports: Vec<u16>,
    ready: bool,
    probe: String,
    /// Problems that are not this service's own (e.g. its ZooKeeper is down).
    warnings: Vec<String>,
    /// A broker: how many partitions it leads (when the cluster answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    leads: Option<usize>,
    /// The cluster's active controller: ZooKeeper's elected broker, or the KRaft quorum's
    /// leader.
    active_controller: bool,
}

/// An installed distribution and where it came from.
#[derive(Serialize)]
struct DistStatus {
    name: String,
    dir: String,
    source: crate::fetch::DistSource,
    /// `source` in words.
    from: String,
}

#[derive(Serialize)]
struct Status {
    environment: bool,
    /// The `--root` directory, when everything lives below one.
    root: Option<String>,
    state_dir: String,
    mode: Option<String>,
    bootstrap_server: Option<String>,
    /// What the client listener speaks (plaintext, tls, mtls, scram).
    security: Option<crate::vocab::Security>,
    cluster_id: Option<String>,
    /// The node that is the active controller, when one answered.
    controller: Option<NodeId>,
    /// What is wrong with the data directories, if anything.
    data_problem: Option<String>,
    all_ready: bool,
    services: Vec<ServiceStatus>,
    dists: Vec<DistStatus>,
}

/// Exit code 0 when every service is ready, 4 (not ready) otherwise, so scripts can ask.
pub async fn run(ctx: &Context<'_>) -> Result<()> {
    let paths = super::paths(ctx)?;
    if state::load(&paths)?.is_none() {
        return no_environment(ctx, &paths);
    }
    let env = Environment::open(&paths).await?;
    let m = &env.manifest;
    let data_problem = env.check_data().await.err();
    let mut services = Vec::new();
    for record in &m.services {
        services.push(look(&env, record, data_problem.is_some()).await?);
    }
    flag_dependencies(&env, &mut services);
    let facts = cluster::facts(&env).await;
    for s in services.iter_mut() {
        s.leads = facts.leads.get(&s.name).copied();
        s.active_controller = facts.controller == Some(s.name);
    }
    let status = Status {
        controller: facts.controller,
        environment: true,
        root: paths.root().map(|r| r.display().to_string()),
        state_dir: paths.state.display().to_string(),
        mode: Some(m.mode.to_string()),
        bootstrap_server: Some(m.bootstrap_server()),
        security: Some(crate::security::of_manifest(m)),
        cluster_id: m.cluster_id.clone(),
        data_problem: data_problem.as_ref().map(|p| p.to_string()),
        all_ready: !services.is_empty()
            && services.iter().all(|s| s.ready)
            && data_problem.is_none(),
        services,
        dists: m
            .dists
            .iter()
            .map(|d| DistStatus {
                name: d.artifact.top_dir.clone(),
                dir: d.dir.display().to_string(),
                source: d.source.clone(),
                from: d.source.describe(),
            })
            .collect(),
    };
    print(ctx, &status)?;
    match (data_problem, status.all_ready) {
        (Some(problem), _) => Err(problem.into()),
        (None, false) => Err(crate::lifecycle::NotAllReady.into()),
        (None, true) => Ok(()),
    }
}

/// One service: its runner's view, then (if it runs) its probes, once each.
async fn look(
    env: &Environment,
    record: &crate::state::ServiceRecord,
    data_problem: bool,
) -> Result<ServiceStatus> {
    let spec = &record.spec;
    let runner = env.runner()?;
    let state = runner.state(spec.name).await?;
    // A service kafkup cannot see into may still answer: its probes say so, but kafkup
    // cannot manage it, so it is not ready.
    let unknown = matches!(state, ServiceState::Unknown { .. });
    let (ready, probe) = if state.is_running() || unknown {
        match probe::check_all(&spec.probes, TopicAccess::ReadOnly, PROBE_LIMIT).await {
            Ok(outcomes) => {
                let said: Vec<String> = outcomes.into_iter().map(|o| o.description).collect();
                (!data_problem && !unknown, said.join("; "))
            }
            Err(e) => (false, e.to_string()),
        }
    } else if state.is_paused() {
        let how = format!(
            "not probed: paused (`kafkup resume {}` continues it)",
            spec.name
        );
        (false, how)
    } else {
        (false, "not probed: not running".to_string())
    };
    Ok(ServiceStatus {
        name: spec.name,
        role: spec.name.role(),
        leads: None,
        active_controller: false,
        runner: runner.kind().to_string(),
        state,
        ports: spec.ports.clone(),
        ready,
        probe,
        warnings: vec![],
    })
}

/// A broker whose ZooKeeper is down may still answer metadata, but it cannot change anything.
fn flag_dependencies(env: &Environment, services: &mut [ServiceStatus]) {
    let down: Vec<NodeId> = services
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name)
        .collect();
    for (record, status) in env.manifest.services.iter().zip(services.iter_mut()) {
        for dep in record.spec.requires.iter().filter(|d| down.contains(d)) {
            status
                .warnings
                .push(format!("{dep}, which it requires, is not ready"));
            status.ready = false;
        }
    }
}

fn no_environment(ctx: &Context<'_>, paths: &crate::paths::Paths) -> Result<()> {
    if ctx.global.json {
        super::print_json(&Status {
            environment: false,
            root: paths.root().map(|r| r.display().to_string()),
            state_dir: paths.state.display().to_string(),
            mode: None,
            bootstrap_server: None,
            security: None,
            cluster_id: None,
            controller: None,
            data_problem: None,
            all_ready: false,
            services: vec![],
            dists: vec![],
        })?;
    }
    Err(StateError::Missing(paths.state.clone()).into())
}

/// "leads 4 partition(s); active controller", for a node of a cluster.
fn cluster_line(s: &ServiceStatus) -> Option<String> {
    let mut said = Vec::new();
    said.extend(s.leads.map(|n| format!("leads {n} partition(s)")));
    if s.active_controller {
        said.push("active controller".to_string());
    }
    (!said.is_empty()).then(|| said.join("; "))
}

fn print(ctx: &Context<'_>, status: &Status) -> Result<()> {
    if ctx.global.json {
        return super::print_json(status);
    }
    let containers = status.services.iter().any(|s| s.runner == "docker");
    let how = match containers {
        true => "published on this host's loopback and advertised as such: dial it from this host",
        false => "advertised to clients as is: use it from this host",
    };
    let mut out = vec![format!(
        "{} mode, bootstrap server {} ({how})",
        status.mode.as_deref().unwrap_or("?"),
        status.bootstrap_server.as_deref().unwrap_or("?")
    )];
    if let Some(security) = status.security.filter(|s| s.encrypts()) {
        out.push(format!(
            "security {security}: clients speak {} (`kafkup client-config`, `kafkup credentials`)",
            security.client_protocol()
        ));
    }
    if let Some(id) = &status.cluster_id {
        out.push(format!("cluster id {id}"));
    }
    if let Some(problem) = &status.data_problem {
        out.push(format!("DATA PROBLEM: {problem}"));
    }
    if status.services.is_empty() {
        out.push(
            "no services: torn down (data kept); run `kafkup setup` to bring them back".into(),
        );
    }
    for s in &status.services {
        let mark = if s.ready { "ready" } else { "NOT READY" };
        let ports: Vec<String> = s.ports.iter().map(|p| p.to_string()).collect();
        out.push(format!(
            "{:<10} {:<9} {} ({} runner), ports {}",
            s.name.name(),
            mark,
            s.state.describe(),
            s.runner,
            ports.join(", ")
        ));
        out.push(format!("{:<10} probe: {}", "", s.probe));
        if let Some(cluster) = cluster_line(s) {
            out.push(format!("{:<10} {cluster}", ""));
        }
        out.extend(
            s.warnings
                .iter()
                .map(|w| format!("{:<10} warning: {w}", "")),
        );
    }
    out.extend(
        status
            .dists
            .iter()
            .map(|d| format!("{}: {} ({})", d.name, d.from, d.dir)),
    );
    super::say(&out.join("\n"))
}
