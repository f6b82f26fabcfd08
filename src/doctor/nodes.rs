//! Each node as its runner and this host see it: running as recorded (systemd's restarts and
//! start limit), its ports held by it and not by something else; its Java.

use super::report::Check;
use crate::environment::Environment;
use crate::runner::{Runner, ServiceState};
use crate::state::ServiceRecord;
use crate::vocab::RunnerKind;
use std::path::Path;

/// The Java the services start with, and whether setup would pick another now.
pub fn java(env: &Environment) -> Check {
    if env.manifest.runner_kind() == Some(RunnerKind::Docker) {
        return Check::ok("java", "the services run the Java of their image");
    }
    let Some(recorded) = env.manifest.services.first().map(|s| s.command[0].clone()) else {
        return Check::warning("java", "no services recorded", "`kafkup setup`");
    };
    let home = env
        .manifest
        .settings
        .as_ref()
        .and_then(|s| s.java_home.clone());
    let now = crate::java::locate(home.as_deref()).ok();
    match crate::java::inspect(Path::new(&recorded)) {
        Ok(java) => match now.filter(|n| !same_file(n, &java.path)) {
            Some(other) => Check::warning(
                "java",
                format!("the services start with {recorded} (Java {}); a setup now would use {}", java.major, other.display()),
                "that is what JAVA_HOME or PATH say now; `kafkup setup --java-home DIR` keeps the one you want",
            ),
            None => Check::ok("java", format!("{recorded} (Java {}), as set up", java.major)),
        },
        Err(e) => Check::problem(
            "java",
            format!("the services start with {recorded}, which is gone: {e}"),
            "install that JDK again, or run `kafkup setup` (with --java-home DIR) to use the Java there is",
        ),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    real(a) == real(b)
}

/// Each node's state as its runner sees it.
pub async fn states(env: &Environment) -> Vec<(ServiceRecord, ServiceState)> {
    let mut states = Vec::new();
    let Ok(runner) = env.runner() else {
        return states;
    };
    for record in &env.manifest.services {
        let state =
            runner
                .state(record.spec.name)
                .await
                .unwrap_or_else(|e| ServiceState::Unknown {
                    detail: e.to_string(),
                });
        states.push((record.clone(), state));
    }
    states
}

pub fn node(env: &Environment, record: &ServiceRecord, state: &ServiceState) -> Check {
    let node = record.spec.name;
    let name = format!("node {node}");
    let systemd =
        (env.manifest.runner_kind() == Some(RunnerKind::Systemd)).then(|| unit_facts(node));
    match state {
        ServiceState::Running { detail, .. } => match systemd.filter(|f| f.restarts > 0) {
            Some(f) => Check::warning(name, format!("running ({detail}); systemd restarted it {} time(s)", f.restarts), format!("it died before: `kafkup logs {node}` says why")),
            None => Check::ok(name, format!("running ({detail})")),
        },
        ServiceState::Paused { .. } => Check::warning(name, "paused: its ports are open and nothing answers", format!("`kafkup resume {node}`")),
        ServiceState::Stopped => Check::warning(name, "stopped", format!("`kafkup start {node}`")),
        ServiceState::Unknown { detail } => Check::warning(name, format!("cannot be told: {detail}"), "run doctor as the environment's owner"),
        ServiceState::Failed { detail } => match systemd.filter(|f| f.result == "start-limit-hit") {
            Some(_) => Check::problem(name, "failed, and systemd gave up: five starts within a minute (its start limit)", format!("`kafkup logs {node}` says why it dies; `kafkup start {node}` clears the limit and tries again")),
            None => Check::problem(name, format!("not running: {detail}"), format!("`kafkup logs {node}` says why; `kafkup start {node}` starts it")),
        },
    }
}

struct UnitFacts {
    restarts: u32,
    result: String,
}

/// What systemd counts of a node's unit (`systemctl show`).
fn unit_facts(node: crate::vocab::NodeId) -> UnitFacts {
    let unit = format!("{}.service", node.unit_name());
    let out = std::process::Command::new("systemctl")
        .args(["show", "-p", "NRestarts", "-p", "Result", &unit])
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_default()
            .to_string()
    };
    UnitFacts {
        restarts: value("NRestarts").parse().unwrap_or(0),
        result: value("Result"),
    }
}

/// Each port of a node: held by the node when it runs, free for it when it does not.
pub fn ports(env: &Environment, record: &ServiceRecord, state: &ServiceState) -> Vec<Check> {
    let node = record.spec.name;
    let docker = env.manifest.runner_kind() == Some(RunnerKind::Docker);
    record
        .spec
        .ports
        .iter()
        .map(|&port| {
            let name = format!("port {port} of {node}");
            let holder = crate::preflight::port_holder_pid(port);
            let open = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
            match (state.is_up(), holder, state.pid()) {
                (true, _, _) if !open => Check::problem(name, format!("{node} runs, but nothing listens on it"), format!("`kafkup logs {node}`: it may still be starting, or failed to bind")),
                (true, Some((pid, who)), Some(own)) if !docker && pid != own => Check::problem(name, format!("held by {who}, not by {node} (pid {own})"), "stop that process; then `kafkup restart` the node"),
                (true, _, _) => Check::ok(name, format!("held by {node}")),
                (false, Some((_, who)), _) => Check::problem(name, format!("taken by {who}: {node} cannot start"), "stop that process, or give the node another port (`kafkup setup --kafka-port …`)"),
                (false, None, _) if open => Check::problem(name, format!("taken by a process this user cannot see: {node} cannot start"), "`sudo ss -ltnp` names it; stop it or move the node's port"),
                (false, None, _) => Check::ok(name, format!("free for {node}")),
            }
        })
        .collect()
}
