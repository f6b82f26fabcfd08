//! What `setup` must do, decided without touching anything: from what an earlier setup
//! recorded (the manifest), what this one wants (plan, specs, rendered files) and what is
//! there now (files on disk, running services, data directories). `--dry-run` prints the
//! result; [`super::execute`] carries it out.

use crate::catalog::{Artifact, Mode};
use crate::plan::Plan;
use crate::render::RenderedFile;
use crate::runner::{RunnerKind, ServiceState};
use crate::spec::{ServiceName, ServiceSpec};
use crate::state::Manifest;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// What this setup wants.
pub struct Desired<'a> {
    pub plan: &'a Plan,
    /// In start order, each with the command line its runner will run.
    pub services: Vec<(&'a ServiceSpec, Vec<String>)>,
    /// The files the chosen runner installs.
    pub files: &'a [RenderedFile],
    pub runner: RunnerKind,
}

/// What is there now (read-only observations; see [`super::observe`]).
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Current contents of each rendered file's target (`None`: missing or unreadable).
    pub files: BTreeMap<PathBuf, Option<String>>,
    pub services: BTreeMap<ServiceName, ServiceState>,
    /// Distribution directories that hold a verified install.
    pub installed_dists: BTreeSet<PathBuf>,
    pub data: crate::datacheck::DataSeen,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    New,
    Changed,
}

/// Why a service (re)starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartReason {
    /// It is not running: never started, stopped, or died ("failed: …").
    NotRunning(String),
    /// It runs, but what it runs changed.
    Restart(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Fetch {
        artifact: Artifact,
        dir: PathBuf,
        installed: bool,
    },
    WriteFile {
        path: PathBuf,
        change: FileChange,
    },
    /// Directories the services write, made for the user they run as.
    PrepareData {
        dirs: Vec<PathBuf>,
    },
    /// KRaft storage formatted once, with the recorded cluster id or a new one.
    FormatStorage {
        cluster_id: Option<String>,
    },
    Stop {
        service: ServiceName,
        reason: String,
    },
    /// The runner's own install step (unit enabled, container created); not for processes.
    Install {
        service: ServiceName,
        runner: RunnerKind,
    },
    Start {
        service: ServiceName,
        reason: StartReason,
    },
    WaitReady {
        timeout_secs: u64,
    },
    /// A distribution of a version no longer used, removed once the new one runs.
    RemoveDist {
        dir: PathBuf,
    },
    SelfTest,
}

/// Things a second setup must not silently change under existing data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("this environment ({state}) runs in {was} mode; switching to {wanted} mode would orphan its data")]
    ModeChange {
        state: PathBuf,
        was: Mode,
        wanted: Mode,
    },
    #[error(transparent)]
    Data(#[from] crate::datacheck::DataProblem),
}

impl crate::error::Diagnose for Conflict {
    fn exit_code(&self) -> crate::error::ExitCode {
        match self {
            Conflict::ModeChange { .. } => crate::error::ExitCode::Usage,
            Conflict::Data(e) => e.exit_code(),
        }
    }
    fn help(&self) -> Option<String> {
        match self {
            Conflict::ModeChange { .. } => Some(
                "run `kafkup teardown --purge` first (it deletes the data), or use another --root"
                    .into(),
            ),
            Conflict::Data(e) => e.help(),
        }
    }
}

/// The actions, in the order they are carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub actions: Vec<Action>,
}

impl Decision {
    /// True when nothing is written, stopped or started: only checks remain.
    pub fn changes_nothing(&self) -> bool {
        self.actions.iter().all(|a| {
            matches!(
                a,
                Action::Fetch {
                    installed: true,
                    ..
                } | Action::WaitReady { .. }
                    | Action::SelfTest
            )
        })
    }

    pub fn starts(&self) -> Vec<ServiceName> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Start { service, .. } => Some(*service),
                _ => None,
            })
            .collect()
    }
}

pub fn decide(
    previous: Option<&Manifest>,
    want: &Desired,
    seen: &Observed,
) -> Result<Decision, Conflict> {
    if let Some(prev) = previous {
        if prev.mode != want.plan.mode {
            return Err(Conflict::ModeChange {
                state: want.plan.paths.state.clone(),
                was: prev.mode,
                wanted: want.plan.mode,
            });
        }
    }
    crate::datacheck::check(previous, want.plan.mode, &seen.data)?;

    let mut actions = fetches(want, seen);
    let changed = changed_files(want.files, seen);
    actions.extend(changed.iter().map(|(path, change)| Action::WriteFile {
        path: path.clone(),
        change: change.clone(),
    }));
    let restarts = restart_reasons(previous, want, seen, &changed);
    let starting: Vec<ServiceName> = want
        .services
        .iter()
        .map(|(spec, _)| spec.name)
        .filter(|n| !running(seen, *n) || restarts.contains_key(n))
        .collect();

    if !starting.is_empty() {
        let dirs = want
            .services
            .iter()
            .flat_map(|(spec, _)| spec.data_dirs.iter().cloned())
            .collect();
        actions.push(Action::PrepareData { dirs });
    }
    let format =
        (want.plan.mode == Mode::Kraft && seen.data.kafka_cluster_id.is_none()).then(|| {
            Action::FormatStorage {
                cluster_id: previous.and_then(|p| p.cluster_id.clone()),
            }
        });
    actions.extend(stops_and_starts(
        previous, want, seen, &restarts, &starting, format,
    ));
    actions.push(Action::WaitReady {
        timeout_secs: want.plan.ready_timeout_secs,
    });
    actions.extend(retired_dists(previous, want));
    let selftest_due = !starting.is_empty()
        || !changed.is_empty()
        || previous.is_none_or(|p| p.selftest_passed_at.is_none());
    if want.plan.selftest && selftest_due {
        actions.push(Action::SelfTest);
    }
    Ok(Decision { actions })
}

/// Stops in reverse start order (of the running services that restart); the runner's install
/// steps (the storage format needs the service user and its rights); then starts in order.
fn stops_and_starts(
    previous: Option<&Manifest>,
    want: &Desired,
    seen: &Observed,
    restarts: &BTreeMap<ServiceName, Vec<String>>,
    starting: &[ServiceName],
    format: Option<Action>,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for (spec, _) in want.services.iter().rev() {
        if let (true, Some(why)) = (running(seen, spec.name), restarts.get(&spec.name)) {
            actions.push(Action::Stop {
                service: spec.name,
                reason: why.join(", "),
            });
        }
    }
    if want.runner != RunnerKind::Process {
        actions.extend(starting.iter().map(|name| Action::Install {
            service: *name,
            runner: want.runner,
        }));
    }
    actions.extend(format);
    for name in starting {
        let known = previous.and_then(|p| p.service(*name)).is_some();
        let reason = match restarts.get(name) {
            Some(why) if running(seen, *name) => StartReason::Restart(why.clone()),
            _ if !known => StartReason::NotRunning("new".into()),
            _ => StartReason::NotRunning(state_words(seen, *name)),
        };
        actions.push(Action::Start {
            service: *name,
            reason,
        });
    }
    actions
}

fn running(seen: &Observed, name: ServiceName) -> bool {
    seen.services
        .get(&name)
        .is_some_and(ServiceState::is_running)
}

fn state_words(seen: &Observed, name: ServiceName) -> String {
    seen.services
        .get(&name)
        .map_or_else(|| "state unknown".into(), ServiceState::describe)
}

fn fetches(want: &Desired, seen: &Observed) -> Vec<Action> {
    let plan = want.plan;
    let dirs = plan
        .zookeeper
        .iter()
        .map(|z| (&z.artifact, &z.dist_dir))
        .chain([(&plan.kafka.artifact, &plan.kafka.dist_dir)]);
    dirs.map(|(artifact, dir)| Action::Fetch {
        artifact: artifact.clone(),
        dir: dir.clone(),
        installed: seen.installed_dists.contains(dir),
    })
    .collect()
}

/// Rendered files whose target is missing or differs, in render order.
fn changed_files(files: &[RenderedFile], seen: &Observed) -> Vec<(PathBuf, FileChange)> {
    files
        .iter()
        .filter_map(|f| match seen.files.get(&f.target).cloned().flatten() {
            None => Some((f.target.clone(), FileChange::New)),
            Some(on_disk) if on_disk != f.contents => Some((f.target.clone(), FileChange::Changed)),
            Some(_) => None,
        })
        .collect()
}

/// For each running service that must restart, why.
fn restart_reasons(
    previous: Option<&Manifest>,
    want: &Desired,
    seen: &Observed,
    changed: &[(PathBuf, FileChange)],
) -> BTreeMap<ServiceName, Vec<String>> {
    let mut reasons: BTreeMap<ServiceName, Vec<String>> = BTreeMap::new();
    for (spec, command) in &want.services {
        let mut why: Vec<String> = changed
            .iter()
            .filter(|(path, _)| owner_of(path, want.plan) == Some(spec.name))
            .map(|(path, _)| format!("{} changed", file_label(path)))
            .collect();
        match previous.and_then(|p| p.service(spec.name)) {
            Some(record) if record.command != *command => {
                why.push(command_change(&record.command, command))
            }
            None if running(seen, spec.name) => {
                why.push("it was not started by this configuration".into())
            }
            _ => {}
        }
        // A unit that requires a restarted one is restarted with it (systemd's Requires=).
        if let Some(dep) = spec.requires {
            if want.runner == RunnerKind::Systemd
                && running(seen, dep)
                && reasons.contains_key(&dep)
            {
                why.push(format!("{dep}, which it requires, restarts"));
            }
        }
        if !why.is_empty() {
            reasons.insert(spec.name, why);
        }
    }
    reasons
}

/// "zoo.cfg", "kafkup-kafka.service": enough to recognise a file in a message.
fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The service a rendered file belongs to: its config directory, or its unit.
fn owner_of(file: &Path, plan: &Plan) -> Option<ServiceName> {
    if plan
        .zookeeper
        .as_ref()
        .is_some_and(|z| file.starts_with(&z.config_dir))
    {
        return Some(ServiceName::Zookeeper);
    }
    if file.starts_with(&plan.kafka.config_dir) {
        return Some(ServiceName::Kafka);
    }
    let name = file.file_name()?.to_str()?;
    ServiceName::ALL
        .into_iter()
        .find(|s| name == format!("{}.service", s.unit_name()))
}

/// "its command line changed: -Xmx1g → -Xmx768m", naming the first arguments that differ.
fn command_change(old: &[String], new: &[String]) -> String {
    let gone: Vec<&String> = old.iter().filter(|a| !new.contains(a)).collect();
    let added: Vec<&String> = new.iter().filter(|a| !old.contains(a)).collect();
    let show = |args: &[&String]| {
        let mut text: Vec<String> = args.iter().take(2).map(|a| short(a)).collect();
        if args.len() > 2 {
            text.push("…".into());
        }
        text.join(" ")
    };
    match (gone.is_empty(), added.is_empty()) {
        (true, true) => "its command line changed (argument order)".into(),
        (false, true) => format!("its command line changed: {} dropped", show(&gone)),
        (true, false) => format!("its command line changed: {} added", show(&added)),
        (false, false) => format!(
            "its command line changed: {} → {}",
            show(&gone),
            show(&added)
        ),
    }
}

fn short(arg: &str) -> String {
    if arg.chars().count() > 60 {
        format!("{}…", arg.chars().take(59).collect::<String>())
    } else {
        arg.to_string()
    }
}

/// Distributions the previous setup installed that this one no longer uses.
fn retired_dists(previous: Option<&Manifest>, want: &Desired) -> Vec<Action> {
    let plan = want.plan;
    let wanted: Vec<&PathBuf> = plan
        .zookeeper
        .iter()
        .map(|z| &z.dist_dir)
        .chain([&plan.kafka.dist_dir])
        .collect();
    previous
        .map(|p| &p.dists[..])
        .unwrap_or_default()
        .iter()
        .filter(|d| !wanted.contains(&&d.dir))
        .map(|d| Action::RemoveDist { dir: d.dir.clone() })
        .collect()
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Fetch {
                artifact,
                dir,
                installed: true,
            } => write!(
                f,
                "use       {} {}, verified and installed in {}",
                artifact.project,
                artifact.version,
                dir.display()
            ),
            Action::Fetch { artifact, dir, .. } => write!(
                f,
                "fetch     {} {} ({}), verify it, unpack to {}",
                artifact.project,
                artifact.version,
                artifact.file_name,
                dir.display()
            ),
            Action::WriteFile { path, change } => {
                let what = match change {
                    FileChange::New => "new",
                    FileChange::Changed => "changed",
                };
                write!(f, "write     {} ({what})", path.display())
            }
            Action::PrepareData { dirs } => write!(
                f,
                "prepare   data in {}",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::FormatStorage { cluster_id: None } => {
                write!(f, "format    KRaft storage with a new cluster id")
            }
            Action::FormatStorage {
                cluster_id: Some(id),
            } => write!(f, "format    KRaft storage with cluster id {id}"),
            Action::Stop { service, reason } => write!(f, "stop      {service}: {reason}"),
            Action::Install { service, runner } => {
                write!(f, "install   {service} for the {runner} runner")
            }
            Action::Start {
                service,
                reason: StartReason::NotRunning(state),
            } => write!(f, "start     {service} ({state})"),
            Action::Start {
                service,
                reason: StartReason::Restart(why),
            } => write!(f, "restart   {service}: {}", why.join(", ")),
            Action::WaitReady { timeout_secs } => {
                write!(
                    f,
                    "wait      up to {timeout_secs} s for the readiness probes"
                )
            }
            Action::RemoveDist { dir } => {
                write!(f, "remove    the replaced distribution {}", dir.display())
            }
            Action::SelfTest => write!(
                f,
                "selftest  produce and consume {} messages on a temporary topic",
                crate::defaults::SELFTEST_MESSAGES
            ),
        }
    }
}

#[cfg(test)]
mod tests;
