//! `--backend auto`: which runner fits this host, and why — decided in one place.
//! [`HostFacts::observe`] looks at the host; [`choose`] is pure.

use super::{Backend, RunnerError, RunnerKind};

/// What the choice depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// The name of PID 1 (`systemd`, `init`, `process_api`, …).
    pub pid1: String,
    pub root: bool,
    /// `Ok` when a Docker Engine answered, else why not.
    pub docker: Result<(), String>,
}

/// The runner to use and the reason, said to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub kind: RunnerKind,
    pub why: String,
}

/// Runners this build can run services with.
pub fn built(kind: RunnerKind) -> bool {
    matches!(kind, RunnerKind::Process | RunnerKind::Systemd)
}

/// What to do when the systemd runner cannot be used.
pub const SYSTEMD_HELP: &str =
    "system units need root on a host whose PID 1 is systemd: run `sudo kafkup setup`, or use `--backend process` (no root needed)";

impl HostFacts {
    pub async fn observe() -> HostFacts {
        HostFacts::observe_sync()
    }

    /// PID 1 and our user (the Docker Engine is asked only by [`HostFacts::observe`]).
    pub fn observe_sync() -> HostFacts {
        let pid1 = std::fs::read_to_string("/proc/1/comm")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        HostFacts {
            pid1,
            root: nix::unistd::geteuid().is_root(),
            docker: Err("the docker runner is not part of this build yet".into()),
        }
    }
}

/// The runner for `requested` on this host; an explicit request for a runner this build does
/// not have is a usage error.
pub fn choose(requested: Backend, host: &HostFacts) -> Result<Choice, RunnerError> {
    match requested {
        Backend::Only(RunnerKind::Systemd) => match systemd_usable(host) {
            Ok(()) => Ok(Choice {
                kind: RunnerKind::Systemd,
                why: "requested with --backend systemd".into(),
            }),
            Err(reason) => Err(RunnerError::Unavailable {
                kind: RunnerKind::Systemd,
                reason,
                help: SYSTEMD_HELP.into(),
            }),
        },
        Backend::Only(kind) if built(kind) => Ok(Choice {
            kind,
            why: format!("requested with --backend {kind}"),
        }),
        Backend::Only(kind) => Err(RunnerError::Unavailable {
            kind,
            reason: "it is not part of this build yet".into(),
            help: "choose another with --backend (process works everywhere)".into(),
        }),
        Backend::Auto => Ok(auto(host)),
    }
}

fn auto(host: &HostFacts) -> Choice {
    let mut passed_over = Vec::new();
    match systemd_usable(host) {
        Ok(()) if built(RunnerKind::Systemd) => {
            return Choice {
                kind: RunnerKind::Systemd,
                why: "auto: systemd is PID 1 and we are root".into(),
            }
        }
        Ok(()) => passed_over.push("the systemd runner is not part of this build yet".into()),
        Err(why) => passed_over.push(why),
    }
    match &host.docker {
        Ok(()) if built(RunnerKind::Docker) => {
            passed_over.push("the Docker Engine answers".into());
            return Choice {
                kind: RunnerKind::Docker,
                why: format!("auto: {}", passed_over.join("; ")),
            };
        }
        Ok(()) => passed_over.push("the docker runner is not part of this build yet".into()),
        Err(why) => passed_over.push(why.clone()),
    }
    Choice {
        kind: RunnerKind::Process,
        why: format!("auto: {}", passed_over.join("; ")),
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
            docker: Err("no Docker Engine answers at /var/run/docker.sock".into()),
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
        for kind in RunnerKind::ALL.into_iter().filter(|k| !built(*k)) {
            let err = choose(Backend::Only(kind), &host("systemd", true)).unwrap_err();
            assert!(matches!(err, RunnerError::Unavailable { .. }), "{err}");
        }
        let c = choose(Backend::Only(RunnerKind::Systemd), &host("systemd", true)).unwrap();
        assert_eq!(c.kind, RunnerKind::Systemd);
    }
}
