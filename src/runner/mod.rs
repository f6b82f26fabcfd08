//! Runners decide *how* a [`ServiceSpec`] runs: as a detached process, a systemd unit or a
//! container. The command line is the spec's; a runner installs, starts, stops and observes it.
//!
//! The trait is async because two of the three runners talk to a daemon (systemd, the Docker
//! Engine) and every wait (a stop's grace period) must not block the runtime. The set of
//! runners is closed, so [`AnyRunner`] dispatches over an enum rather than a trait object.

pub mod detect;
pub mod docker;
pub mod process;
pub mod strays;
pub mod systemd;
pub mod view;

pub use docker::DockerRunner;
pub use process::ProcessRunner;
pub use systemd::SystemdRunner;

use crate::class_archive::Archives;
use crate::datacheck::DataSeen;
use crate::error::Diagnose;
use crate::java::{Java, JavaError};
use crate::paths::Paths;
use crate::report::Reporter;
use crate::spec::ServiceSpec;
use crate::vocab::{NodeId, RunnerKind};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ServiceState {
    /// `pid` is None where the runner cannot tell (e.g. a container seen from outside).
    Running { pid: Option<u32>, detail: String },
    /// Not started, or stopped through kafkup.
    Stopped,
    /// Started by kafkup and not stopped through it, yet not running (crash, kill, reboot).
    Failed { detail: String },
    /// Cannot be told (a pid file another user's kafkup wrote): maybe running, maybe not.
    Unknown { detail: String },
    /// Frozen where it is (`kafkup pause`): its processes exist and hold their ports, but do
    /// nothing until resumed.
    Paused { pid: Option<u32>, detail: String },
}

impl ServiceState {
    /// Running and not paused.
    pub fn is_running(&self) -> bool {
        matches!(self, ServiceState::Running { .. })
    }

    pub fn is_paused(&self) -> bool {
        matches!(self, ServiceState::Paused { .. })
    }

    /// Its processes exist (running or paused): they hold its ports.
    pub fn is_up(&self) -> bool {
        self.is_running() || self.is_paused()
    }

    pub fn pid(&self) -> Option<u32> {
        match self {
            ServiceState::Running { pid, .. } | ServiceState::Paused { pid, .. } => *pid,
            _ => None,
        }
    }

    /// "running, pid 12 (log …)", "stopped", "failed: …", "paused, …".
    pub fn describe(&self) -> String {
        match self {
            ServiceState::Running { detail, .. } => format!("running, {detail}"),
            ServiceState::Stopped => "stopped".into(),
            ServiceState::Failed { detail } => format!("failed: {detail}"),
            ServiceState::Unknown { detail } => format!("unknown: {detail}"),
            ServiceState::Paused { detail, .. } => format!("paused, {detail}"),
        }
    }

    /// The same process seen as paused (what a runner reports once it froze it).
    fn paused(self, how: &str) -> ServiceState {
        match self {
            ServiceState::Running { pid, detail } => ServiceState::Paused {
                pid,
                detail: format!("{detail} ({how})"),
            },
            other => other,
        }
    }
}

/// Whether process `pid` is stopped by a signal (SIGSTOP): state `T` in /proc.
fn stopped_by_signal(pid: u32) -> bool {
    procfs::process::Process::new(pid as i32)
        .and_then(|p| p.stat())
        .is_ok_and(|s| s.state == 'T')
}

/// How long a kill, pause or resume may take to show in a service's state.
const FAULT_WAIT: Duration = Duration::from_secs(10);

/// Waits (at most [`FAULT_WAIT`]) until `runner` sees `name` in a state `done` accepts; `what`
/// the state is, for the error.
async fn settle<R: Runner>(
    runner: &R,
    name: NodeId,
    what: &'static str,
    done: impl Fn(&ServiceState) -> bool,
) -> Result<(), RunnerError> {
    let deadline = tokio::time::Instant::now() + FAULT_WAIT;
    let attempt = || async {
        match runner.state(name).await {
            Ok(state) if done(&state) => crate::poll::Attempt::Ready(()),
            Ok(_) => crate::poll::Attempt::NotYet(None),
            Err(e) => crate::poll::Attempt::Failed(Some(e)),
        }
    };
    match crate::poll::until(deadline, Duration::from_millis(50), attempt).await {
        Ok(()) => Ok(()),
        Err(crate::poll::Stop::Failed {
            failure: Some(e), ..
        }) => Err(e),
        Err(_) => Err(RunnerError::NotSettled {
            name,
            what,
            secs: FAULT_WAIT.as_secs(),
        }),
    }
}

/// Why a paused service does not answer, for waits that fail early.
fn paused_not_running(name: NodeId) -> NotRunning {
    NotRunning {
        service: name,
        how: format!("is paused (`kafkup resume {name}` continues it)"),
        log_tail: vec![],
        log_name: String::new(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopOutcome {
    /// Nothing was running (a stale pid file, if any, was removed).
    NotRunning,
    /// Exited after SIGTERM within the grace period.
    Terminated,
    /// Still running after the grace period, so it got SIGKILL.
    Killed,
}

impl StopOutcome {
    pub fn describe(self) -> &'static str {
        match self {
            StopOutcome::NotRunning => "was not running",
            StopOutcome::Terminated => "stopped",
            StopOutcome::Killed => "did not stop in time and was killed",
        }
    }
}

/// Why a service that should run does not: what the runner saw, and its last output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service} {how}{}", tail_text(.log_tail, .log_name))]
pub struct NotRunning {
    pub service: NodeId,
    /// "exited with status 1", "was killed by signal 9 (SIGKILL)", "is not running (it was not started)".
    pub how: String,
    /// The service's last output lines of its current run (up to [`NotRunning::TAIL_KEPT`];
    /// the message shows the last few).
    pub log_tail: Vec<String>,
    /// Where the output is ("/var/lib/…/kafka.log", "journal of kafkup-kafka.service").
    pub log_name: String,
}

/// How many of the kept last lines are shown when a service died.
const TAIL_SHOWN: usize = 10;

impl NotRunning {
    /// Enough lines to see why a JVM died, not only how it shut down.
    pub const TAIL_KEPT: usize = 200;
}

fn tail_text(tail: &[String], log_name: &str) -> String {
    let from = tail.len().saturating_sub(TAIL_SHOWN);
    let (before, shown) = tail.split_at(from);
    if shown.is_empty() {
        return if log_name.is_empty() {
            String::new()
        } else {
            format!("; {log_name} has no output")
        };
    }
    let mut lines: Vec<String> = Vec::new();
    let heads = trace_heads(before, shown);
    if !heads.is_empty() {
        lines.extend(heads.iter().map(|l| format!("  {l}")));
        lines.push("  …".into());
    }
    lines.extend(shown.iter().map(|l| format!("  {l}")));
    format!("; last log lines:\n{}", lines.join("\n"))
}

/// A line inside a Java stack trace below its first line: a frame, `... 5 more`, or the
/// start of a cause.
fn continues_trace(line: &str) -> bool {
    let text = line.trim_start();
    let indented = text.len() < line.len();
    (indented && text.starts_with("at "))
        || (text.starts_with("... ") && text.ends_with(" more"))
        || text.starts_with("Caused by: ")
        || text.starts_with("Suppressed: ")
}

/// When the lines shown begin inside a stack trace, that trace's head from the lines
/// before them: its exception line and each `Caused by:` line, which say what went wrong
/// (the frames only say where).
fn trace_heads<'a>(before: &'a [String], shown: &[String]) -> Vec<&'a str> {
    if !shown.first().is_some_and(|l| continues_trace(l)) {
        return vec![];
    }
    let mut heads = Vec::new();
    for line in before.iter().rev() {
        let text = line.trim_start();
        if text.starts_with("Caused by: ") || text.starts_with("Suppressed: ") {
            heads.push(line.as_str());
        } else if !continues_trace(line) {
            heads.push(line.as_str());
            break;
        }
    }
    heads.reverse();
    heads
}

/// A service's output as the runner keeps it: past lines, then (following) new ones.
pub type LogStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Which of a service's output `logs` streams: the last `lines` lines, then (with `follow`)
/// each new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTail {
    pub lines: usize,
    pub follow: bool,
}

/// A one-off command run the way the services run (same user, same files): the KRaft
/// storage format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    /// For messages: "KRaft storage format".
    pub what: String,
    pub command: Vec<String>,
    /// The data directories it writes (as the services see them), each a node's, which must
    /// belong to the service user.
    pub writes: Vec<(NodeId, PathBuf)>,
    /// The node whose class-data archive it maps, when there is one (a JVM tool with that
    /// node's classpath); a tool never records an archive.
    pub class_archive: Option<NodeId>,
    /// It talks to the environment's services (in a container: on their network; else none).
    pub network: bool,
}

/// A tool's command line as a log may show it: a `password=…` inside an argument (a SCRAM
/// credential) is masked.
pub fn shown(command: &[String]) -> String {
    command
        .iter()
        .map(|arg| mask_passwords(arg))
        .collect::<Vec<_>>()
        .join(" ")
}

fn mask_passwords(arg: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::new();
    let mut rest = arg;
    while let Some(at) = rest.find(KEY) {
        out.push_str(&rest[..at + KEY.len()]);
        out.push_str("***");
        rest = &rest[at + KEY.len()..];
        let end = rest.find([',', ']']).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub success: bool,
    /// "exit status 1"
    pub status: String,
    pub output: String,
}

impl From<std::process::Output> for ToolOutput {
    fn from(out: std::process::Output) -> ToolOutput {
        ToolOutput {
            success: out.status.success(),
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        }
    }
}

/// The data directories a runner is asked about, each a node's, as the services see them.
pub type DataDirs = [(NodeId, PathBuf)];

/// Runs `program` with `args` (no stdin) and waits for its output, as `user` when given; `what`
/// names it when it cannot be started. It dies with kafkup: a one-off tool (a KRaft format)
/// must not go on writing after the command that ran it was killed.
async fn output_of(
    what: &str,
    program: &str,
    args: &[String],
    user: Option<&nix::unistd::User>,
) -> Result<std::process::Output, RunnerError> {
    let ids = user.map(|u| (u.uid, u.gid));
    let mut command = tokio::process::Command::new(program);
    command.args(args).stdin(std::process::Stdio::null());
    // SAFETY: between fork and exec only async-signal-safe system calls run.
    unsafe {
        command.pre_exec(move || {
            if let Some((uid, gid)) = ids {
                nix::unistd::setgroups(&[gid])?;
                nix::unistd::setgid(gid)?;
                nix::unistd::setuid(uid)?;
            }
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
            Ok(())
        });
    }
    command.output().await.map_err(|e| RunnerError::Spawn {
        name: what.to_string(),
        program: program.to_string(),
        reason: e.to_string(),
    })
}

/// The host's Java for the runners that run it directly: --java-home, JAVA_HOME, then PATH.
async fn host_java(java_home: Option<PathBuf>) -> Result<Java, JavaError> {
    tokio::task::spawn_blocking(move || {
        crate::java::inspect(&crate::java::locate(java_home.as_deref())?)
    })
    .await
    .expect("java inspection panicked")
}

/// Everything a runner needs to be made; what each runner uses of it is its own business.
#[derive(Debug, Clone)]
pub struct RunnerContext {
    pub paths: Paths,
    /// The environment's nodes, in start order.
    pub nodes: Vec<NodeId>,
    /// `--java-home`, for the runners that use the host's Java.
    pub java_home: Option<PathBuf>,
    /// The system user the systemd runner runs services as.
    pub service_user: String,
    /// Where the systemd runner's unit files live.
    pub unit_dir: PathBuf,
    /// The JRE image the docker runner runs services from.
    pub image: String,
    /// The class-data archives; None: no archives (`--no-class-archive`).
    pub class_archives: Option<Archives>,
}

impl RunnerContext {
    pub fn new(paths: &Paths, nodes: Vec<NodeId>, java_home: Option<PathBuf>) -> RunnerContext {
        RunnerContext {
            paths: paths.clone(),
            nodes,
            java_home,
            service_user: crate::defaults::SERVICE_USER.into(),
            unit_dir: PathBuf::from(crate::defaults::SYSTEMD_UNIT_DIR),
            image: crate::defaults::IMAGE.into(),
            class_archives: Some(Archives::of(paths)),
        }
    }
}

/// What a runner created that `teardown` must find again, kept in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RunnerRecord {
    Process,
    Systemd(systemd::Record),
    Docker(docker::Record),
}

impl RunnerRecord {
    pub fn kind(&self) -> RunnerKind {
        match self {
            RunnerRecord::Process => RunnerKind::Process,
            RunnerRecord::Systemd(_) => RunnerKind::Systemd,
            RunnerRecord::Docker(_) => RunnerKind::Docker,
        }
    }
}

pub trait Runner: Send + Sync {
    fn kind(&self) -> RunnerKind;

    /// Gets what the runner needs before anything else (the docker runner: its image).
    fn prepare(
        &self,
        _reporter: &dyn Reporter,
    ) -> impl Future<Output = Result<(), RunnerError>> + Send {
        async { Ok(()) }
    }

    /// What `prepare` would get, said for `setup --dry-run` (None: nothing to get).
    fn to_prepare(&self) -> impl Future<Output = Result<Option<String>, RunnerError>> + Send {
        async { Ok(None) }
    }

    /// The Java the services run on, as this runner sees it (the host's, or the image's).
    fn java(&self) -> impl Future<Output = Result<Java, JavaError>> + Send;

    /// Prepares what `start` needs (unit, container, directories owned by the service user).
    /// Idempotent; nothing for processes.
    fn install(
        &self,
        _spec: &ServiceSpec,
        _command: &[String],
    ) -> impl Future<Output = Result<(), RunnerError>> + Send {
        async { Ok(()) }
    }

    /// Starts the service unless it already runs; a running service is left alone (same pid),
    /// a paused one is continued.
    fn start(
        &self,
        spec: &ServiceSpec,
        command: &[String],
    ) -> impl Future<Output = Result<ServiceState, RunnerError>> + Send;

    /// Kills the service at once, as a crash would: SIGKILL, no clean shutdown (and no
    /// class-data archive written); a paused one too. Returns once its process is gone; what
    /// happens next is the runner's own (systemd restarts it).
    fn kill(&self, name: NodeId) -> impl Future<Output = Result<(), RunnerError>> + Send;

    /// Freezes the running service where it is (a hung node: its ports stay open, nothing
    /// answers); returns once it is frozen.
    fn pause(&self, name: NodeId) -> impl Future<Output = Result<(), RunnerError>> + Send;

    /// Continues a paused service where it stopped.
    fn resume(&self, name: NodeId) -> impl Future<Output = Result<(), RunnerError>> + Send;

    /// Asks the service to stop, waits up to `grace`, then kills it. A paused service is
    /// continued first (frozen, it could not act on SIGTERM).
    fn stop(
        &self,
        name: NodeId,
        grace: Duration,
    ) -> impl Future<Output = Result<StopOutcome, RunnerError>> + Send;

    fn state(&self, name: NodeId)
        -> impl Future<Output = Result<ServiceState, RunnerError>> + Send;

    /// `Err` says why the service is not running, for readiness waits to fail early.
    fn alive(&self, name: NodeId) -> impl Future<Output = Result<(), NotRunning>> + Send;

    /// The service's output, as much as `tail` asks for.
    fn logs(
        &self,
        name: NodeId,
        tail: LogTail,
    ) -> impl Future<Output = Result<LogStream, RunnerError>> + Send;

    /// Runs a one-off tool as the services run, and waits for it.
    fn run_tool(&self, tool: &Tool)
        -> impl Future<Output = Result<ToolOutput, RunnerError>> + Send;

    /// Removes everything this runner created for the environment's nodes (they must be
    /// stopped); with `purge` also what holds data or logs.
    fn uninstall(&self, purge: bool) -> impl Future<Output = Result<(), RunnerError>> + Send;

    /// Removes what this runner made for one stopped node the environment no longer has under
    /// that name (a one-broker `kafka` that becomes `kafka-1`); its data stays.
    fn retire(&self, name: NodeId) -> impl Future<Output = Result<(), RunnerError>> + Send;

    /// What to keep in the manifest so that a later command finds it all again.
    fn record(&self) -> RunnerRecord;

    /// What the services' data directories hold now. The host's own by default.
    fn data_seen(
        &self,
        dirs: &DataDirs,
    ) -> impl Future<Output = Result<DataSeen, RunnerError>> + Send {
        let seen = DataSeen::observe(dirs);
        async { Ok(seen) }
    }

    /// Where on the host this user reaches the services' data directories (a snapshot copies
    /// them there): the directories themselves by default; None where it cannot.
    fn data_on_host(
        &self,
        dirs: &DataDirs,
    ) -> impl Future<Output = Result<Option<Vec<(NodeId, PathBuf)>>, RunnerError>> + Send {
        let dirs = dirs.to_vec();
        async { Ok(Some(dirs)) }
    }

    /// Deletes the data of a retired node (`dir`, as its service saw it): a migration rolled
    /// back takes its controllers' data with it. The host directory by default.
    fn remove_data(
        &self,
        _name: NodeId,
        dir: &Path,
    ) -> impl Future<Output = Result<(), RunnerError>> + Send {
        let removed = crate::files::remove_dir_all_if_exists(dir).map_err(RunnerError::Io);
        async { removed }
    }
}

/// One of the runners; each method goes to the runner inside.
pub enum AnyRunner {
    Process(ProcessRunner),
    Systemd(SystemdRunner),
    Docker(DockerRunner),
}

macro_rules! dispatch {
    ($self:ident, $r:ident => $call:expr) => {
        match $self {
            AnyRunner::Process($r) => $call,
            AnyRunner::Systemd($r) => $call,
            AnyRunner::Docker($r) => $call,
        }
    };
}

impl AnyRunner {
    /// Makes the runner of `kind` (connecting to its daemon, if it has one). `record` is what
    /// an earlier run kept in the manifest.
    pub async fn open(
        kind: RunnerKind,
        ctx: &RunnerContext,
        record: Option<&RunnerRecord>,
    ) -> Result<AnyRunner, RunnerError> {
        match (kind, record) {
            (RunnerKind::Process, _) => Ok(AnyRunner::Process(ProcessRunner::new(ctx))),
            (RunnerKind::Systemd, Some(RunnerRecord::Systemd(r))) => {
                Ok(AnyRunner::Systemd(SystemdRunner::new(ctx, Some(r))?))
            }
            (RunnerKind::Systemd, _) => Ok(AnyRunner::Systemd(SystemdRunner::new(ctx, None)?)),
            (RunnerKind::Docker, Some(RunnerRecord::Docker(r))) => Ok(AnyRunner::Docker(
                DockerRunner::connect(ctx, Some(r)).await?,
            )),
            (RunnerKind::Docker, _) => {
                Ok(AnyRunner::Docker(DockerRunner::connect(ctx, None).await?))
            }
        }
    }
}

impl Runner for AnyRunner {
    fn kind(&self) -> RunnerKind {
        dispatch!(self, r => r.kind())
    }
    async fn prepare(&self, reporter: &dyn Reporter) -> Result<(), RunnerError> {
        dispatch!(self, r => r.prepare(reporter).await)
    }
    async fn to_prepare(&self) -> Result<Option<String>, RunnerError> {
        dispatch!(self, r => r.to_prepare().await)
    }
    async fn data_seen(&self, dirs: &DataDirs) -> Result<DataSeen, RunnerError> {
        dispatch!(self, r => r.data_seen(dirs).await)
    }
    async fn data_on_host(
        &self,
        dirs: &DataDirs,
    ) -> Result<Option<Vec<(NodeId, PathBuf)>>, RunnerError> {
        dispatch!(self, r => r.data_on_host(dirs).await)
    }
    async fn remove_data(&self, name: NodeId, dir: &Path) -> Result<(), RunnerError> {
        dispatch!(self, r => r.remove_data(name, dir).await)
    }
    async fn java(&self) -> Result<Java, JavaError> {
        dispatch!(self, r => r.java().await)
    }
    async fn install(&self, spec: &ServiceSpec, command: &[String]) -> Result<(), RunnerError> {
        dispatch!(self, r => r.install(spec, command).await)
    }
    async fn start(
        &self,
        spec: &ServiceSpec,
        command: &[String],
    ) -> Result<ServiceState, RunnerError> {
        dispatch!(self, r => r.start(spec, command).await)
    }
    async fn stop(&self, name: NodeId, grace: Duration) -> Result<StopOutcome, RunnerError> {
        dispatch!(self, r => r.stop(name, grace).await)
    }
    async fn kill(&self, name: NodeId) -> Result<(), RunnerError> {
        dispatch!(self, r => r.kill(name).await)
    }
    async fn pause(&self, name: NodeId) -> Result<(), RunnerError> {
        dispatch!(self, r => r.pause(name).await)
    }
    async fn resume(&self, name: NodeId) -> Result<(), RunnerError> {
        dispatch!(self, r => r.resume(name).await)
    }
    async fn state(&self, name: NodeId) -> Result<ServiceState, RunnerError> {
        dispatch!(self, r => r.state(name).await)
    }
    async fn alive(&self, name: NodeId) -> Result<(), NotRunning> {
        dispatch!(self, r => r.alive(name).await)
    }
    async fn logs(&self, name: NodeId, tail: LogTail) -> Result<LogStream, RunnerError> {
        dispatch!(self, r => r.logs(name, tail).await)
    }
    async fn run_tool(&self, tool: &Tool) -> Result<ToolOutput, RunnerError> {
        dispatch!(self, r => r.run_tool(tool).await)
    }
    async fn uninstall(&self, purge: bool) -> Result<(), RunnerError> {
        dispatch!(self, r => r.uninstall(purge).await)
    }
    async fn retire(&self, name: NodeId) -> Result<(), RunnerError> {
        dispatch!(self, r => r.retire(name).await)
    }
    fn record(&self) -> RunnerRecord {
        dispatch!(self, r => r.record())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("the {kind} runner cannot be used: {reason}")]
    Unavailable {
        kind: RunnerKind,
        reason: String,
        help: String,
    },
    #[error("{what}")]
    Conflict { what: String, help: String },
    #[error("`{command}` failed ({status}){}", if said.is_empty() { String::new() } else { format!(": {said}") })]
    Command {
        command: String,
        status: String,
        said: String,
    },
    #[error("could not start {name} ({program}): {reason}")]
    Spawn {
        name: String,
        program: String,
        reason: String,
    },
    #[error("could not send {signal} to {name} (pid {pid}): {errno}")]
    Signal {
        name: NodeId,
        pid: u32,
        signal: &'static str,
        errno: nix::errno::Errno,
    },
    #[error("{name} (pid {pid}) did not exit even after SIGKILL")]
    Unkillable { name: NodeId, pid: u32 },
    #[error("{name} is still running (pid {pid})")]
    StillRunning { name: NodeId, pid: u32 },
    #[error("cannot tell whether {name} runs: its pid file {} is unreadable ({reason})", path.display())]
    PidFileUnreadable {
        name: NodeId,
        path: PathBuf,
        owner: Option<crate::files::Owner>,
        reason: String,
    },
    #[error("{name} was not {what} {secs} s later")]
    NotSettled {
        name: NodeId,
        what: &'static str,
        secs: u64,
    },
    #[error("cannot {action}: {reason}")]
    Engine { action: String, reason: String },
    #[error("the image {image} is not here and could not be pulled: {reason}")]
    ImageMissing { image: String, reason: String },
    #[error("{name} has no log yet ({where_})")]
    NoLog { name: NodeId, where_: String },
    /// File errors come from fs-err and name their path.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Diagnose for RunnerError {
    fn exit_code(&self) -> crate::error::ExitCode {
        match self {
            RunnerError::Unavailable { .. } => crate::error::ExitCode::Usage,
            _ => crate::error::ExitCode::Error,
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            RunnerError::Unavailable { help, .. } | RunnerError::Conflict { help, .. } => {
                Some(help.clone())
            }
            RunnerError::Command { .. } => {
                Some("the message above is the tool's own; `kafkup status` shows the services".into())
            }
            RunnerError::Spawn { .. } => {
                Some("check that Java is installed and that the path above exists".into())
            }
            RunnerError::Signal { .. } => Some(
                "it runs as another user: stop it as that user or as root (e.g. `sudo kafkup stop`)"
                    .into(),
            ),
            RunnerError::Unkillable { .. } => Some(
                "the process is stuck in the kernel (D state); check `ps -o stat,wchan -p PID`"
                    .into(),
            ),
            RunnerError::StillRunning { .. } => Some("run `kafkup stop` first".into()),
            RunnerError::PidFileUnreadable {
                owner: Some(owner),
                ..
            } if !owner.is_current_user() => Some(format!(
                "it belongs to {0}: kafkup ran as {0} on this environment (with sudo?) and its services may run as {0}; act on them as {0}: `{1}`",
                owner.name,
                owner.run_this_as()
            )),
            RunnerError::PidFileUnreadable { path, .. } => Some(format!(
                "check the permissions of {}; nothing was stopped or removed",
                path.display()
            )),
            RunnerError::NotSettled { name, .. } => Some(format!(
                "`kafkup status` shows what {name} is now; `kafkup logs {name}` what it said"
            )),
            RunnerError::Engine { .. } => Some(
                "the Docker Engine said so above; `docker info` shows the daemon's state".into(),
            ),
            RunnerError::ImageMissing { .. } => Some(
                "choose another JRE 17+ image with --image (KAFKUP_IMAGE, config key `image`), pull it where a registry answers, or build one locally (scripts/test-images.sh shows how)".into(),
            ),
            RunnerError::NoLog { .. } => {
                Some("start it first (`kafkup start`); `kafkup status` shows its state".into())
            }
            RunnerError::Io(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_tool_command_shows_no_password() {
        assert_eq!(
            mask_passwords("SCRAM-SHA-512=[name=admin,password=s3cret],SCRAM-SHA-512=[password=x]"),
            "SCRAM-SHA-512=[name=admin,password=***],SCRAM-SHA-512=[password=***]"
        );
    }

    #[test]
    fn a_tail_inside_a_stack_trace_shows_the_exception_line_too() {
        let mut tail: Vec<String> = vec![
            "[2026-12-01] INFO starting".into(),
            "[2026-12-01] ERROR Exiting Kafka due to fatal exception".into(),
            "org.apache.kafka.common.config.ConfigException: Invalid value abc".into(),
        ];
        tail.extend((0..12).map(|i| format!("\tat kafka.Frame{i}.run(Frame.java:{i})")));
        tail.push("Caused by: java.lang.NumberFormatException: abc".into());
        tail.extend((0..12).map(|i| format!("\tat java.Frame{i}.parse(Frame.java:{i})")));
        tail.push("\t... 7 more".into());
        let text = tail_text(&tail, "kafka.log");
        let exception = text
            .find("ConfigException: Invalid value abc")
            .expect(&text);
        let cause = text
            .find("Caused by: java.lang.NumberFormatException")
            .expect(&text);
        let last = text.find("... 7 more").expect(&text);
        assert!(exception < cause && cause < last, "{text}");
        assert!(!text.contains("Frame0.run"), "frames stay cut: {text}");

        // A tail that shows its trace from the top gets nothing more.
        let short: Vec<String> = tail[..6].to_vec();
        assert_eq!(
            tail_text(&short, "kafka.log")
                .matches("ConfigException")
                .count(),
            1
        );
        assert!(trace_heads(&[], &["plain line".to_string()]).is_empty());
    }
}
