//! `--backend auto`: which runner fits this host, and why — decided in one place.
//! [`HostFacts::observe`] looks at the host; [`choose`] is pure.

use super::RunnerError;
use crate::vocab::{Backend, RunnerKind};
use serde::Serialize;

/// What the choice depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// The name of PID 1 (`systemd`, `init`, `process_api`, …).
    pub pid1: String,
    pub root: bool,
    pub docker: Docker,
}

/// Whether a Docker Engine answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Docker {
    /// Not asked: systemd could be used, so nobody waited for a daemon.
    NotAsked,
    Answers,
    /// Why not.
    Silent(String),
}

/// The runner to use and the reason, said to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunnerChoice {
    pub kind: RunnerKind,
    pub why: String,
}

/// What to do when the systemd runner cannot be used.
pub const SYSTEMD_HELP: &str =
    "system units need root on a host whose PID 1 is systemd: run `sudo kafkup setup`, or use `--backend process` (no root needed)";

impl HostFacts {
    /// PID 1, our user, and whether a Docker Engine answers (only when systemd cannot be
    /// used, so that a systemd host never waits for a daemon it does not need).
    pub async fn observe() -> HostFacts {
        let mut facts = HostFacts::observe_sync();
        if systemd_usable(&facts).is_err() {
            facts.docker = match super::docker::engine::Engine::connect().await {
                Ok(_) => Docker::Answers,
                Err(RunnerError::Unavailable { reason, .. }) => Docker::Silent(reason),
                Err(other) => Docker::Silent(other.to_string()),
            };
        }
        facts
    }

    /// PID 1 and our user; the Docker Engine is asked only by [`HostFacts::observe`].
    pub fn observe_sync() -> HostFacts {
        let pid1 = std::fs::read_to_string("/proc/1/comm")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        HostFacts {
            pid1,
            root: nix::unistd::geteuid().is_root(),
            docker: Docker::NotAsked,
        }
    }
}

/// The runner for `requested` on this host; one asked for by name that cannot run here is a
/// usage error that says what to do.
pub fn choose(requested: Backend, host: &HostFacts) -> Result<RunnerChoice, RunnerError> {
    let kind = match requested {
        Backend::Auto => return Ok(auto(host)),
        Backend::Only(kind) => kind,
    };
    let refused = |reason: String, help: &str| RunnerError::Unavailable {
        kind,
        reason,
        help: help.into(),
    };
    match (kind, &host.docker) {
        (RunnerKind::Systemd, _) => systemd_usable(host).map_err(|r| refused(r, SYSTEMD_HELP))?,
        (RunnerKind::Docker, Docker::Silent(reason)) => {
            return Err(refused(reason.clone(), DOCKER_HELP))
        }
        _ => {}
    }
    Ok(RunnerChoice {
        kind,
        why: format!("requested with --backend {kind}"),
    })
}

/// What to do when the docker runner cannot be used.
const DOCKER_HELP: &str = "start the Docker Engine (`sudo systemctl start docker`), point DOCKER_HOST at one that runs, or use --backend process";

fn auto(host: &HostFacts) -> RunnerChoice {
    let choice = |kind, why: String| RunnerChoice {
        kind,
        why: format!("auto: {why}"),
    };
    let systemd_not = match systemd_usable(host) {
        Ok(()) => {
            return choice(
                RunnerKind::Systemd,
                "systemd is PID 1 and we are root".into(),
            )
        }
        Err(why) => why,
    };
    match &host.docker {
        Docker::Answers => choice(
            RunnerKind::Docker,
            format!("{systemd_not}; the Docker Engine answers"),
        ),
        Docker::Silent(why) => choice(RunnerKind::Process, format!("{systemd_not}; {why}")),
        Docker::NotAsked => choice(RunnerKind::Process, systemd_not),
    }
}

/// Whether system units can be run here by us.
pub fn systemd_usable(host: &HostFacts) -> Result<(), String> {
    if host.pid1 != "systemd" {
        return Err(format!("systemd is not PID 1 (PID 1 is {})", host.pid1));
    }
    if !host.root {
        return Err("systemd is PID 1, but system units need root".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(pid1: &str, root: bool) -> HostFacts {
        HostFacts {
            pid1: pid1.into(),
            root,
            docker: Docker::Silent("no Docker Engine answers at /var/run/docker.sock".into()),
        }
    }

    #[test]
    fn auto_says_truthfully_why_it_falls_back_to_process() {
        let c = choose(Backend::Auto, &host("process_api", true)).unwrap();
        assert_eq!(c.kind, RunnerKind::Process);
        assert!(
            c.why
                .contains("systemd is not PID 1 (PID 1 is process_api)"),
            "{}",
            c.why
        );
        assert!(c.why.contains("no Docker Engine answers"), "{}", c.why);
        let c = choose(Backend::Auto, &host("systemd", false)).unwrap();
        assert!(c.why.contains("need root"), "{}", c.why);
    }

    #[test]
    fn auto_picks_docker_where_systemd_cannot_be_used_and_the_engine_answers() {
        let mut h = host("process_api", true);
        h.docker = Docker::Answers;
        let c = choose(Backend::Auto, &h).unwrap();
        assert_eq!(c.kind, RunnerKind::Docker);
        assert!(
            c.why.contains("systemd is not PID 1") && c.why.contains("the Docker Engine answers")
        );
        let err = choose(
            Backend::Only(RunnerKind::Docker),
            &host("process_api", true),
        )
        .unwrap_err();
        assert!(matches!(err, RunnerError::Unavailable { .. }), "{err}");
    }

    #[test]
    fn auto_picks_systemd_as_root_where_it_is_pid_1() {
        let c = choose(Backend::Auto, &host("systemd", true)).unwrap();
        assert_eq!(c.kind, RunnerKind::Systemd);
        assert_eq!(c.why, "auto: systemd is PID 1 and we are root");
    }

    #[test]
    fn systemd_without_root_or_without_systemd_is_refused_with_a_way_out() {
        for h in [host("systemd", false), host("process_api", true)] {
            let err = choose(Backend::Only(RunnerKind::Systemd), &h).unwrap_err();
            assert!(matches!(err, RunnerError::Unavailable { .. }), "{err}");
            let help = crate::error::Diagnose::help(&err).unwrap();
            assert!(
                help.contains("sudo") && help.contains("--backend process"),
                "{help}"
            );
        }
    }

    #[test]
    fn an_explicit_request_is_honoured_or_refused() {
        let c = choose(Backend::Only(RunnerKind::Process), &host("systemd", true)).unwrap();
        assert_eq!(c.kind, RunnerKind::Process);
        assert!(c.why.contains("--backend process"));
        let c = choose(Backend::Only(RunnerKind::Systemd), &host("systemd", true)).unwrap();
        assert_eq!(c.kind, RunnerKind::Systemd);
    }
}
