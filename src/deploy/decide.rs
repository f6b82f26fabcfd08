//! What `setup` must do, decided without touching anything: from what an earlier setup
//! recorded (the manifest), what this one wants (the [`Deployment`]) and what is there now
//! (files on disk, running services, data directories). `--dry-run` prints the result;
//! [`super::execute`] carries it out.

use crate::catalog::Artifact;
use crate::deployment::Deployment;
use crate::render::RenderedFile;
use crate::runner::ServiceState;
use crate::state::Manifest;
use crate::topics::{TopicChange, TopicSeen};
use crate::vocab::{Mode, NodeId, Role, RunnerKind, Security};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// What is there now (read-only observations; see [`super::observe`]).
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Current contents of each rendered file's target (`None`: missing or unreadable).
    pub files: BTreeMap<PathBuf, Option<String>>,
    pub services: BTreeMap<NodeId, ServiceState>,
    /// Distribution directories that hold a verified install.
    pub installed_dists: BTreeSet<PathBuf>,
    pub data: crate::datacheck::DataSeen,
    /// JVMs of this environment that no runner accounts for.
    pub strays: Vec<crate::runner::strays::Stray>,
    /// The declared topics as the cluster has them (those that exist); None where they could
    /// not be looked at (no broker running, or none answered).
    pub topics: Option<BTreeMap<String, TopicSeen>>,
    /// The security files that are missing, changed or due for renewal.
    pub security: crate::security::store::Plan,
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
    /// It was paused (`kafkup pause`): continued where it stopped, not started anew.
    Paused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A setting the environment recorded takes a new value (what follows is why).
    Setting(crate::settings::Change),
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
    /// KRaft storage of these nodes formatted once, with the cluster's id or a new one.
    FormatStorage {
        cluster_id: Option<String>,
        nodes: Vec<NodeId>,
    },
    Stop {
        service: NodeId,
        reason: String,
    },
    /// A node that takes another name now that its role has several (`kafka` → `kafka-1`):
    /// stopped, its runner's traces removed, its data moved.
    Rename(super::renames::Rename),
    /// The runner's own install step (unit enabled, container created); not for processes.
    Install {
        service: NodeId,
        runner: RunnerKind,
    },
    Start {
        service: NodeId,
        reason: StartReason,
    },
    WaitReady {
        timeout_secs: u64,
    },
    /// A rolling restart: this node's readiness probes pass before the next node stops.
    WaitNode {
        service: NodeId,
        timeout_secs: u64,
    },
    /// A rolling restart: every partition's replicas are in sync again (a restarted broker
    /// caught up) before the next broker stops.
    InSync {
        timeout_secs: u64,
    },
    /// The CA, certificates, passwords and client configurations made or renewed.
    Secure(crate::security::store::Plan),
    /// ZooKeeper mode, scram: the users' SCRAM credentials written to ZooKeeper before the
    /// brokers need them (KRaft writes them when it formats the storage).
    ScramUsers,
    /// mtls, scram: the developer user's ACLs, once the brokers are ready.
    GrantAcls,
    /// A declared topic created, raised or configured once the brokers are ready.
    Topic(TopicChange),
    /// A service of a role the environment no longer has, stopped and its runner's traces
    /// removed (its data stays until `teardown --purge`).
    Retire {
        service: NodeId,
    },
    /// A migration's way back: the migration's state and the KRaft controller's claim deleted
    /// from ZooKeeper (`/migration`, `/controller`), so that a ZooKeeper-mode broker can take
    /// over and a later migration starts afresh.
    ReleaseController,
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
    #[error("processes of this environment run that kafkup does not account for: {}", list(.0))]
    Strays(Vec<crate::runner::strays::Stray>),
    #[error("this environment has {was} {role} node(s); kafkup does not remove nodes, so {wanted} cannot be set up here")]
    Shrink {
        role: Role,
        was: usize,
        wanted: usize,
    },
    #[error("{from} would become {to}, but a container's data volume cannot be renamed")]
    VolumeRename { from: NodeId, to: NodeId },
    #[error(transparent)]
    Topics(#[from] crate::topics::Refused),
    #[error("this KRaft environment's storage is formatted without SCRAM users, and KRaft adds them only when it formats")]
    ScramAfterFormat,
    #[error("this KRaft environment's metadata was written by Kafka {was}; Kafka {wanted} cannot read it (its metadata.version is newer than {wanted} knows)")]
    Downgrade { was: String, wanted: String },
}

fn list(items: &[impl fmt::Display]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl crate::error::Diagnose for Conflict {
    fn exit_code(&self) -> crate::error::ExitCode {
        match self {
            Conflict::ModeChange { .. } => crate::error::ExitCode::Usage,
            Conflict::Data(e) => e.exit_code(),
            Conflict::Strays(_) => crate::error::ExitCode::Error,
            Conflict::Shrink { .. } | Conflict::VolumeRename { .. } => {
                crate::error::ExitCode::Usage
            }
            Conflict::Topics(e) => e.exit_code(),
            Conflict::ScramAfterFormat | Conflict::Downgrade { .. } => {
                crate::error::ExitCode::Usage
            }
        }
    }
    fn help(&self) -> Option<String> {
        match self {
            Conflict::ModeChange { was, .. } => Some(format!(
                "leave out --mode (or give --mode {was}): the environment keeps its mode and its data; to start over in the other mode, `kafkup teardown --purge` deletes the data, or use another --root"
            )),
            Conflict::Data(e) => e.help(),
            Conflict::Strays(strays) => Some(format!(
                "an earlier run left them (kafkup no longer knows them): stop them (`kill {}`), then run setup again",
                strays.iter().map(|s| s.pid.to_string()).collect::<Vec<_>>().join(" ")
            )),
            Conflict::Shrink { was, .. } => Some(format!(
                "leave out --brokers (or give {was}): partitions live on every broker; to stop using one, move its partitions away with kafka-reassign-partitions.sh and `kafkup stop` it; to start over smaller, `kafkup teardown --purge` deletes the data"
            )),
            Conflict::VolumeRename { .. } => Some(
                "set up the docker environment with its final size from the start, or use the process or systemd runner, which move the data".into()
            ),
            Conflict::Topics(e) => e.help(),
            Conflict::Downgrade { was, .. } => Some(format!(
                "leave out --kafka-version (or give {was}); to go back to an older release, restore a snapshot taken before the upgrade (`kafkup snapshot list`, `kafkup snapshot restore NAME`) and run this setup again, or set up anew (`kafkup teardown --purge` deletes the data)"
            )),
            Conflict::ScramAfterFormat => Some(
                "use --security mtls or tls here, or set up a new environment with --security scram from the start (another --root, or `kafkup teardown --purge` first, which deletes the data)".into()
            ),
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

    pub fn starts(&self) -> Vec<NodeId> {
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
    want: &Deployment,
    seen: &Observed,
) -> Result<Decision, Conflict> {
    refuse_mode_change(previous, want)?;
    let recorded = previous.and_then(|p| p.cluster_id.as_deref());
    let known: Vec<NodeId> = previous
        .map(|p| p.services.iter().map(|s| s.spec.name).collect())
        .unwrap_or_default();
    refuse_shrink(previous, want)?;
    // Mid-migration, nodes of both modes hold data: each is checked against its own.
    let mode = (!migrating(previous, want)).then_some(want.mode);
    crate::datacheck::check(recorded, mode, &seen.data, &known)?;
    if !seen.strays.is_empty() {
        return Err(Conflict::Strays(seen.strays.clone()));
    }
    let renames = super::renames::renames(previous, want);
    if let (RunnerKind::Docker, Some(r)) = (want.runner.kind, renames.first()) {
        let (from, to) = (r.from, r.to);
        return Err(Conflict::VolumeRename { from, to });
    }
    let topics = crate::topics::plan(&want.topics, seen.topics.as_ref(), want.brokers())?;
    refuse_scram_after_format(previous, want, seen)?;
    refuse_kraft_downgrade(previous, want, seen)?;

    let was = previous.and_then(|p| p.settings.as_ref());
    let changes = was.map(|was| was.changes(&want.kept)).unwrap_or_default();
    let mut actions: Vec<Action> = changes.into_iter().map(Action::Setting).collect();
    actions.extend(fetches(want, seen));
    let changed = changed_files(&want.files, seen);
    actions.extend(changed.iter().map(|(file, change)| Action::WriteFile {
        path: file.target.clone(),
        change: change.clone(),
    }));
    actions.extend((!seen.security.is_empty()).then(|| Action::Secure(seen.security.clone())));
    let restarts = restart_reasons(previous, want, seen, &changed);
    let starting: Vec<NodeId> = want
        .launches
        .iter()
        .map(|l| l.id)
        .filter(|n| !running(seen, *n) || restarts.contains_key(n))
        .collect();

    // Containers keep their data in volumes (made by the runner), not in host directories.
    if !starting.is_empty() && want.runner.kind != RunnerKind::Docker {
        let dirs = want
            .launches
            .iter()
            .flat_map(|l| l.spec.data_dirs.iter().cloned())
            .collect();
        actions.push(Action::PrepareData { dirs });
    }
    let format = format_storage(previous, want, seen);
    let mut order = stops_and_starts(previous, want, seen, &restarts, &starting, format);
    // After the stops, before the installs: the new name's unit and data take their place.
    let at = order
        .iter()
        .position(|a| !matches!(a, Action::Stop { .. }))
        .unwrap_or(order.len());
    order.splice(at..at, renames.into_iter().map(Action::Rename));
    let (leave_first, leave_last) = leaving(previous, want);
    actions.extend(leave_first);
    actions.extend(order);
    actions.push(Action::WaitReady {
        timeout_secs: want.ready_timeout_secs,
    });
    add_security_steps(&mut actions, want, &starting);
    actions.extend(topics.into_iter().map(Action::Topic));
    actions.extend(leave_last);
    actions.extend(retired_dists(previous, want));
    let selftest_due = !starting.is_empty()
        || !changed.is_empty()
        || previous.is_none_or(|p| p.selftest_passed_at.is_none());
    if want.selftest && selftest_due {
        actions.push(Action::SelfTest);
    }
    Ok(Decision { actions })
}

/// KRaft storage of the nodes whose data directory holds none yet.
fn format_storage(
    previous: Option<&Manifest>,
    want: &Deployment,
    seen: &Observed,
) -> Option<Action> {
    // Controllers run in KRaft mode, beside ZooKeeper-mode brokers too while migrating.
    let unformatted: Vec<NodeId> = seen
        .data
        .unformatted()
        .into_iter()
        .filter(|n| want.mode == Mode::Kraft || n.role() == Role::Controller)
        .collect();
    (!unformatted.is_empty()).then(|| {
        // Nodes added to a cluster join it: its id, recorded or read from the others' data.
        let known = previous.and_then(|p| p.cluster_id.clone().or(p.formatting.clone()));
        Action::FormatStorage {
            cluster_id: known.or(seen.data.cluster_id()),
            nodes: unformatted,
        }
    })
}

/// A migration from ZooKeeper to KRaft is under way, or was until this setup.
fn migrating(previous: Option<&Manifest>, want: &Deployment) -> bool {
    let was = previous.and_then(|p| p.settings.as_ref()?.migration);
    want.topology.migration.is_some() || was.is_some()
}

/// The data of one mode is not the other's: a mode change would orphan it (a migration
/// carries it over).
fn refuse_mode_change(previous: Option<&Manifest>, want: &Deployment) -> Result<(), Conflict> {
    match previous {
        Some(prev) if prev.mode != want.mode && !migrating(previous, want) => {
            Err(Conflict::ModeChange {
                state: want.paths.state.clone(),
                was: prev.mode,
                wanted: want.mode,
            })
        }
        _ => Ok(()),
    }
}

/// When brokers start: in ZooKeeper mode under scram the SCRAM users go into ZooKeeper first;
/// with ACLs on, the developer's are granted once the brokers are ready.
fn add_security_steps(actions: &mut Vec<Action>, want: &Deployment, starting: &[NodeId]) {
    if !starting.iter().any(|n| n.role() == Role::Kafka) {
        return;
    }
    if want.security == Security::Scram && want.mode == Mode::Zookeeper {
        let first_broker = actions.iter().position(
            |a| matches!(a, Action::Start { service, .. } if service.role() == Role::Kafka),
        );
        actions.insert(first_broker.expect("a broker starts"), Action::ScramUsers);
    }
    if want.security.authorizes() {
        actions.push(Action::GrantAcls);
    }
}

/// KRaft writes SCRAM users only into storage it formats: an environment formatted without
/// them cannot take `scram` (its nodes formatted now get them).
fn refuse_scram_after_format(
    previous: Option<&Manifest>,
    want: &Deployment,
    seen: &Observed,
) -> Result<(), Conflict> {
    let was = previous
        .and_then(|p| p.settings.as_ref())
        .and_then(|s| s.security)
        .unwrap_or(Security::Plaintext);
    let formatted = seen.data.cluster_id().is_some();
    if want.mode == Mode::Kraft
        && want.security == Security::Scram
        && was != Security::Scram
        && formatted
    {
        return Err(Conflict::ScramAfterFormat);
    }
    Ok(())
}

/// KRaft storage carries the metadata.version of the release that formatted (or last raised)
/// it, and an older release refuses to start on it ("No MetadataVersion with feature level
/// …") — after the running broker was stopped. Refused before anything stops.
fn refuse_kraft_downgrade(
    previous: Option<&Manifest>,
    want: &Deployment,
    seen: &Observed,
) -> Result<(), Conflict> {
    let (Some(previous), Some(node)) = (previous, want.topology.of_role(Role::Kafka).next()) else {
        return Ok(());
    };
    let Some(was) = previous.oldest_release_for_data() else {
        return Ok(());
    };
    let wanted = node.dist.artifact.version.clone();
    let older =
        crate::catalog::VersionNumber::parse(&wanted) < crate::catalog::VersionNumber::parse(&was);
    let formatted = seen.data.cluster_id().is_some();
    if want.mode == Mode::Kraft && formatted && older {
        return Err(Conflict::Downgrade { was, wanted });
    }
    Ok(())
}

/// Fewer nodes of a role than the environment has: their partitions (or votes) would go.
fn refuse_shrink(previous: Option<&Manifest>, want: &Deployment) -> Result<(), Conflict> {
    let Some(previous) = previous else {
        return Ok(());
    };
    for role in [Role::Zookeeper, Role::Controller, Role::Kafka] {
        let was = previous
            .services
            .iter()
            .filter(|s| s.spec.name.role() == role);
        let wanted = want.launches.iter().filter(|l| l.id.role() == role);
        let (was, wanted) = (was.count(), wanted.count());
        if wanted < was && wanted > 0 {
            return Err(Conflict::Shrink { role, was, wanted });
        }
    }
    Ok(())
}

/// Stops in reverse start order (of the running services that restart); the runner's install
/// steps (the storage format needs the service user and its rights); then starts in order.
fn stops_and_starts(
    previous: Option<&Manifest>,
    want: &Deployment,
    seen: &Observed,
    restarts: &BTreeMap<NodeId, Vec<String>>,
    starting: &[NodeId],
    format: Option<Action>,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for launch in want.launches.iter().rev() {
        if let (true, Some(why)) = (up(seen, launch.id), restarts.get(&launch.id)) {
            actions.push(Action::Stop {
                service: launch.id,
                reason: why.join(", "),
            });
        }
    }
    if want.runner.kind != RunnerKind::Process {
        actions.extend(starting.iter().map(|name| Action::Install {
            service: *name,
            runner: want.runner.kind,
        }));
    }
    actions.extend(format);
    for name in starting {
        let known = previous.and_then(|p| p.service(*name)).is_some();
        let reason = match restarts.get(name) {
            Some(why) if up(seen, *name) => StartReason::Restart(why.clone()),
            None if up(seen, *name) => StartReason::Paused,
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

fn running(seen: &Observed, name: NodeId) -> bool {
    seen.services
        .get(&name)
        .is_some_and(ServiceState::is_running)
}

/// Running or paused: its processes exist (a paused one is continued, or stopped to restart).
fn up(seen: &Observed, name: NodeId) -> bool {
    seen.services.get(&name).is_some_and(ServiceState::is_up)
}

fn state_words(seen: &Observed, name: NodeId) -> String {
    seen.services
        .get(&name)
        .map_or_else(|| "state unknown".into(), ServiceState::describe)
}

fn fetches(want: &Deployment, seen: &Observed) -> Vec<Action> {
    want.dists()
        .into_iter()
        .map(|dist| Action::Fetch {
            artifact: dist.artifact.clone(),
            dir: dist.dir.clone(),
            installed: seen.installed_dists.contains(&dist.dir),
        })
        .collect()
}

/// Rendered files whose target is missing or differs, in render order.
fn changed_files<'a>(
    files: &'a [RenderedFile],
    seen: &Observed,
) -> Vec<(&'a RenderedFile, FileChange)> {
    files
        .iter()
        .filter_map(|f| match seen.files.get(&f.target).cloned().flatten() {
            None => Some((f, FileChange::New)),
            Some(on_disk) if on_disk != f.contents => Some((f, FileChange::Changed)),
            Some(_) => None,
        })
        .collect()
}

/// For each running service that must restart, why.
fn restart_reasons(
    previous: Option<&Manifest>,
    want: &Deployment,
    seen: &Observed,
    changed: &[(&RenderedFile, FileChange)],
) -> BTreeMap<NodeId, Vec<String>> {
    let mut reasons: BTreeMap<NodeId, Vec<String>> = BTreeMap::new();
    for launch in &want.launches {
        let name = launch.id;
        let mut why: Vec<String> = changed
            .iter()
            .filter(|(file, _)| file.node == name)
            .map(|(file, _)| format!("{} changed", file_label(&file.target)))
            .collect();
        if seen.security.nodes().contains(&name) {
            why.push("its TLS or SASL files changed".into());
        }
        match previous.and_then(|p| p.service(name)) {
            Some(record) if record.command != launch.command => {
                why.push(command_change(&record.command, &launch.command))
            }
            None if up(seen, name) => why.push("it was not started by this configuration".into()),
            _ => {}
        }
        let due = previous.is_some_and(|p| p.restarts_due.contains(&name));
        if due && why.is_empty() {
            why.push("an interrupted setup did not finish restarting it".into());
        }
        // A unit that requires a restarted one is restarted with it (systemd's Requires=).
        for dep in &launch.spec.requires {
            if want.runner.kind == RunnerKind::Systemd
                && up(seen, *dep)
                && reasons.contains_key(dep)
            {
                why.push(format!("{dep}, which it requires, restarts"));
            }
        }
        if !why.is_empty() {
            reasons.insert(name, why);
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
/// The retirements before the stops and starts, and those after. A migration's way back:
/// the KRaft controllers go, and their claim on ZooKeeper, before the brokers return to
/// ZooKeeper mode; ZooKeeper goes once a migration's controllers no longer need it.
fn leaving(previous: Option<&Manifest>, want: &Deployment) -> (Vec<Action>, Vec<Action>) {
    let (mut first, last): (Vec<Action>, Vec<Action>) =
        retired_services(previous, want).into_iter().partition(|a| {
            matches!(a, Action::Retire { service } if service.role() == Role::Controller)
                && want.mode == Mode::Zookeeper
        });
    if !first.is_empty() {
        first.push(Action::ReleaseController);
    }
    (first, last)
}

/// The services of a role the environment no longer has (ZooKeeper, once a migration to KRaft
/// is finalized): stopped and their runner's traces removed, their data kept.
fn retired_services(previous: Option<&Manifest>, want: &Deployment) -> Vec<Action> {
    let Some(previous) = previous else {
        return vec![];
    };
    let gone = previous.services.iter().rev().map(|s| s.spec.name);
    gone.filter(|id| want.launch(*id).is_none())
        .filter(|id| want.topology.of_role(id.role()).next().is_none())
        .map(|service| Action::Retire { service })
        .collect()
}

fn retired_dists(previous: Option<&Manifest>, want: &Deployment) -> Vec<Action> {
    let wanted: Vec<&PathBuf> = want.dists().into_iter().map(|d| &d.dir).collect();
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
            Action::Setting(change) => write!(f, "change    {change}"),
            Action::Fetch {
                artifact,
                dir,
                installed,
            } => f.write_str(&fetch_line(artifact, dir, *installed)),
            Action::Secure(plan) => write!(f, "secure    {}", plan.describe()),
            Action::ScramUsers => write!(
                f,
                "users     SCRAM credentials of admin and developer, into ZooKeeper"
            ),
            Action::GrantAcls => write!(
                f,
                "grant     developer: topics, groups and transactional ids (ACLs)"
            ),
            Action::WriteFile { path, change } => {
                let what = match change {
                    FileChange::New => "new",
                    FileChange::Changed => "changed",
                };
                write!(f, "write     {} ({what})", path.display())
            }
            Action::Rename(r) => write!(
                f,
                "rename    {} to {}: stop it, move its data to {}",
                r.from,
                r.to,
                r.data.1.display()
            ),
            Action::PrepareData { dirs } => write!(
                f,
                "prepare   data in {}",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::FormatStorage { cluster_id, nodes } => {
                f.write_str(&format_line(cluster_id.as_deref(), nodes))
            }
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
            Action::Start {
                service,
                reason: StartReason::Paused,
            } => write!(f, "resume    {service} (paused)"),
            Action::WaitReady { .. } | Action::WaitNode { .. } | Action::InSync { .. } => {
                f.write_str(&wait_line(self))
            }
            Action::Topic(change) => write!(f, "{change}"),
            Action::RemoveDist { dir } => {
                write!(f, "remove    the replaced distribution {}", dir.display())
            }
            Action::ReleaseController => write!(
                f,
                "release   ZooKeeper's /migration and /controller, for a ZooKeeper-mode broker to take over"
            ),
            Action::Retire { service } => write!(
                f,
                "retire    {service}: stopped and removed from the environment, its data kept"
            ),
            Action::SelfTest => write!(
                f,
                "selftest  produce and consume {} messages on a temporary topic",
                crate::defaults::SELFTEST_MESSAGES
            ),
        }
    }
}

/// What a wait waits for.
fn wait_line(action: &Action) -> String {
    match action {
        Action::WaitNode {
            service,
            timeout_secs,
        } => format!("wait      up to {timeout_secs} s for {service} to be ready"),
        Action::InSync { timeout_secs } => {
            format!("wait      up to {timeout_secs} s for every partition's replicas to be in sync")
        }
        Action::WaitReady { timeout_secs } => {
            format!("wait      up to {timeout_secs} s for the readiness probes")
        }
        _ => unreachable!("a wait"),
    }
}

/// "use …" for a distribution that is in place, "fetch …" for one to download.
fn fetch_line(artifact: &Artifact, dir: &Path, installed: bool) -> String {
    let (project, version) = (&artifact.project, &artifact.version);
    match installed {
        true => format!(
            "use       {project} {version}, verified and installed in {}",
            dir.display()
        ),
        false => format!(
            "fetch     {project} {version} ({}), verify it, unpack to {}",
            artifact.file_name,
            dir.display()
        ),
    }
}

fn format_line(cluster_id: Option<&str>, nodes: &[NodeId]) -> String {
    let names: Vec<String> = nodes.iter().map(|n| n.name()).collect();
    let which = names.join(", ");
    match cluster_id {
        None => format!("format    KRaft storage of {which} with a new cluster id"),
        Some(id) => format!("format    KRaft storage of {which} with cluster id {id}"),
    }
}

#[cfg(test)]
mod tests;
