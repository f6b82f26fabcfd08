//! `kafkup doctor`: the traps of a local Kafka, found and explained — for the environment under
//! `--root` ([`environment`]) or for any cluster through its bootstrap address ([`cluster_at`]).
//! Each check says what it saw and what to do (see [`report`]).

pub mod advertised;
pub mod cluster;
pub mod data;
pub mod dial;
pub mod nodes;
pub mod report;
pub mod services;

use crate::environment::Environment;
use crate::messaging::admin::Admin;
use crate::vocab::Role;
use report::{Check, Report};

/// Some checks found a problem (the report says which): exit 1.
#[derive(Debug, thiserror::Error)]
#[error("doctor found {0} problem(s)")]
pub struct Problems(pub usize);

impl crate::error::Diagnose for Problems {
    fn help(&self) -> Option<String> {
        Some("each problem's help line says what to do".into())
    }
}

/// The free space under which a data directory's disk is a problem, by default.
pub const MIN_FREE_MIB: u64 = 1024;

/// Every check of the environment `env`.
pub async fn environment(env: &Environment, min_free_mib: u64) -> Report {
    let mut checks = vec![nodes::java(env)];
    let states = nodes::states(env).await;
    for (record, state) in &states {
        checks.push(nodes::node(env, record, state));
        checks.extend(nodes::ports(env, record, state));
    }
    checks.extend(data::examine(env, min_free_mib).await);
    for (record, state) in &states {
        if record.spec.name.role() == Role::Zookeeper && state.is_running() {
            checks.extend(services::zookeeper(env, record).await);
        }
    }
    let brokers_up = states
        .iter()
        .any(|(r, s)| r.spec.name.role() == Role::Kafka && s.is_running());
    if brokers_up {
        let bootstrap = env.manifest.bootstrap_server();
        let configured = configured_brokers(env);
        checks.extend(reachable_cluster(&bootstrap, &configured, min_insync(env)).await);
    }
    for (record, _) in &states {
        checks.push(services::log_errors(env, record).await);
    }
    Report {
        subject: env.manifest.paths.state.display().to_string(),
        checks,
    }
}

/// Any cluster: its bootstrap address answers, every broker it lists answers at the address it
/// advertises, and the cluster-level checks.
pub async fn cluster_at(bootstrap: &str) -> Report {
    Report {
        subject: format!("the cluster at {bootstrap}"),
        checks: reachable_cluster(bootstrap, &[], None).await,
    }
}

/// The listeners; then, when clients reach every broker, the cluster's controller and
/// partitions (asked through the brokers, they would only time out otherwise).
async fn reachable_cluster(
    bootstrap: &str,
    configured: &[advertised::Listed],
    min_insync: Option<usize>,
) -> Vec<Check> {
    let mut checks = dial::listeners(bootstrap, configured).await;
    if checks.iter().any(|c| c.verdict != report::Verdict::Ok) {
        checks.push(Check::warning(
            "cluster",
            "not looked at: clients cannot reach every broker",
            "mend the listeners above first",
        ));
        return checks;
    }
    match Admin::new(bootstrap, dial::STEP) {
        Ok(admin) => {
            checks.extend(cluster::examine(&admin, min_insync).await);
            admin.close().await;
        }
        Err(e) => checks.push(Check::problem(
            "cluster",
            e.to_string(),
            "is a broker running?",
        )),
    }
    checks
}

/// Each broker of the environment with the client address its config advertises (the first
/// of `advertised.listeners`).
fn configured_brokers(env: &Environment) -> Vec<advertised::Listed> {
    let brokers = env
        .manifest
        .services
        .iter()
        .filter(|s| s.spec.name.role() == Role::Kafka);
    brokers
        .filter_map(|b| {
            let file = env
                .manifest
                .paths
                .node_config(b.spec.name)
                .join("server.properties");
            advertised::configured(&std::fs::read_to_string(file).ok()?)
        })
        .collect()
}

/// `min.insync.replicas` of the environment's brokers, as their config says (1 by default).
fn min_insync(env: &Environment) -> Option<usize> {
    let broker = env
        .manifest
        .services
        .iter()
        .find(|s| s.spec.name.role() == Role::Kafka)?;
    let file = env
        .manifest
        .paths
        .node_config(broker.spec.name)
        .join("server.properties");
    let text = std::fs::read_to_string(file).ok()?;
    let value = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("min.insync.replicas="))
        .unwrap_or("1");
    value.trim().parse().ok()
}
