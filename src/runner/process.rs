//! The process runner: each service is a detached child (own session, stdin /dev/null, output
//! appended to `<state>/logs/<service>.log`) that outlives kafkup. A pid file
//! `<state>/run/<service>.pid` records pid, start time and main class, so a recycled pid is
//! never mistaken for the service.

use super::{
    LogStream, LogTail, NotRunning, Runner, RunnerContext, RunnerError, RunnerRecord, ServiceState,
    StopOutcome, Tool, ToolOutput,
};
use crate::class_archive::{Archives, Jdk, Starter};
use crate::files;
use crate::java::{Java, JavaError};
use crate::poll::Attempt;
use crate::spec::ServiceSpec;
use crate::vocab::{NodeId, RunnerKind};
use fs_err::os::unix::fs::OpenOptionsExt;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::io::{self, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

const POLL: Duration = Duration::from_millis(50);
/// How long a SIGKILLed process may take to disappear before we call it stuck.
const KILL_WAIT: Duration = Duration::from_secs(5);
const START_MARKER: &str = "---- started by kafkup at";

pub struct ProcessRunner {
    nodes: Vec<NodeId>,
    run_dir: PathBuf,
    logs_dir: PathBuf,
    java_home: Option<PathBuf>,
    class_archives: Option<Archives>,
    /// Children started by this kafkup process: kept so we reap them (no zombies while we run)
    /// and can report their exit status. After kafkup exits, init reaps them.
    children: Mutex<HashMap<NodeId, Child>>,
}

/// What the pid file says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PidRecord {
    pid: u32,
    /// Field 22 of /proc/<pid>/stat (clock ticks after boot).
    start_time: u64,
    /// The main class, which must be an argument of the process.
    marker: String,
}

impl PidRecord {
    /// One value per line, pid first, so `head -1 x.pid` still works for shell users.
    fn render(&self) -> String {
        format!("{}\n{}\n{}\n", self.pid, self.start_time, self.marker)
    }

    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        Some(PidRecord {
            pid: lines.next()?.trim().parse().ok().filter(|&p| p > 0)?,
            start_time: lines.next()?.trim().parse().ok()?,
            marker: lines.next()?.trim().to_string(),
        })
    }
}

/// What we find when we look for a service.
enum Observed {
    NoPidFile,
    /// A pid file we cannot read (another user's, after `sudo kafkup …`): whether the
    /// service runs is unknown, and it is never taken for stopped.
    Unreadable(RunnerError),
    Running(PidRecord),
    /// A pid file whose process is gone (or unreadable); the status if it was our child.
    Gone {
        pid: Option<u32>,
        status: Option<ExitStatus>,
    },
}

impl ProcessRunner {
    pub fn new(ctx: &RunnerContext) -> Self {
        ProcessRunner {
            nodes: ctx.nodes.clone(),
            run_dir: ctx.paths.state.join("run"),
            logs_dir: ctx.paths.logs(),
            java_home: ctx.java_home.clone(),
            class_archives: ctx.class_archives.clone(),
            children: Mutex::new(HashMap::new()),
        }
    }

    pub fn pid_file(&self, name: NodeId) -> PathBuf {
        self.run_dir.join(format!("{name}.pid"))
    }

    pub fn log_file(&self, name: NodeId) -> PathBuf {
        self.logs_dir.join(format!("{name}.log"))
    }

    fn children(&self) -> std::sync::MutexGuard<'_, HashMap<NodeId, Child>> {
        self.children.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The exit status of our child `pid`, reaping it if it has exited.
    fn reap(&self, name: NodeId, pid: u32) -> Option<ExitStatus> {
        let mut children = self.children();
        let child = children.get_mut(&name).filter(|c| c.id() == pid)?;
        child.try_wait().ok().flatten()
    }

    /// Is the process of `record` still the one we started?
    fn is_running(&self, name: NodeId, record: &PidRecord) -> bool {
        if self.reap(name, record.pid).is_some() {
            return false;
        }
        match read_stat(record.pid) {
            Some((state, start_time)) if !matches!(state, 'Z' | 'X') => {
                start_time == record.start_time
                    && read_cmdline(record.pid).is_some_and(|args| args.contains(&record.marker))
            }
            _ => false,
        }
    }

    fn observe(&self, name: NodeId) -> Observed {
        let path = self.pid_file(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Observed::NoPidFile,
            Err(e) => {
                let owner = files::Owner::of(&path).ok();
                let reason = e.to_string();
                return Observed::Unreadable(RunnerError::PidFileUnreadable {
                    name,
                    path,
                    owner,
                    reason,
                });
            }
        };
        let Some(record) = PidRecord::parse(&text) else {
            return Observed::Gone {
                pid: None,
                status: None,
            };
        };
        if self.is_running(name, &record) {
            return Observed::Running(record);
        }
        Observed::Gone {
            pid: Some(record.pid),
            status: self.reap_exiting(name, record.pid),
        }
    }

    /// The exit status of our child `pid`, which is gone or on its way out: a process that
    /// is exiting has lost its command line a moment before the kernel lets us reap it.
    fn reap_exiting(&self, name: NodeId, pid: u32) -> Option<ExitStatus> {
        let deadline = std::time::Instant::now() + Duration::from_millis(500);
        loop {
            let status = self.reap(name, pid);
            let ours = self.children().get(&name).is_some_and(|c| c.id() == pid);
            if status.is_some() || !ours || std::time::Instant::now() >= deadline {
                return status;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn running_state(&self, name: NodeId, pid: u32) -> ServiceState {
        let state = ServiceState::Running {
            pid: Some(pid),
            detail: format!("pid {pid}, log {}", self.log_file(name).display()),
        };
        match super::stopped_by_signal(pid) {
            true => state.paused("SIGSTOP"),
            false => state,
        }
    }

    /// Starts `command` for `spec` unless it already runs (tests run /bin/sh instead of java).
    fn launch(&self, spec: &ServiceSpec, command: &[String]) -> Result<ServiceState, RunnerError> {
        let name = spec.name;
        match self.observe(name) {
            Observed::Running(record) => return Ok(self.running_state(name, record.pid)),
            Observed::Unreadable(e) => return Err(e),
            Observed::NoPidFile | Observed::Gone { .. } => {}
        }
        for dir in spec.data_dirs.iter().chain([&self.run_dir, &self.logs_dir]) {
            files::create_private_dirs(dir)?;
        }
        let mut log = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(self.log_file(name))?;
        let now = humantime::format_rfc3339_seconds(SystemTime::now());
        writeln!(log, "{START_MARKER} {now} ----")?;
        let log = log.into_file();

        let command = self.with_archive(Some((spec.name, Starter::Service)), command);
        let (program, args) = command
            .split_first()
            .expect("a command line is never empty");
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&spec.working_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // SAFETY: umask and setsid are async-signal-safe. A new session (and process group)
        // detaches the service from our terminal and its signals, and lets `stop` signal the
        // whole group. Files the service writes are not for other users (systemd's UMask=0027).
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o027));
                nix::unistd::setsid().map(drop).map_err(io::Error::from)
            });
        }
        let child = cmd.spawn().map_err(|source| RunnerError::Spawn {
            name: name.to_string(),
            program: program.clone(),
            reason: source.to_string(),
        })?;
        let pid = child.id();
        // Our unreaped child always has a stat file, even if it already exited.
        let (_, start_time) = read_stat(pid).ok_or_else(|| {
            io::Error::other(format!(
                "cannot read /proc/{pid}/stat of the new {name} process"
            ))
        })?;
        self.children().insert(name, child);
        let record = PidRecord {
            pid,
            start_time,
            marker: spec.main_class.clone(),
        };
        files::write_atomic(&self.pid_file(name), record.render().as_bytes(), 0o640)?;
        Ok(self.running_state(name, pid))
    }

    /// Polls until the process is gone or `limit` passed; true if it is gone.
    async fn wait_gone(&self, name: NodeId, record: &PidRecord, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        // A killed JVM's main thread can be a zombie while its other threads still close
        // sockets: wait for those too, or the port looks busy to the next start.
        // An exiting process loses its command line before the kernel has ended it, so
        // "not ours any more" is not yet "gone": wait for the zombie (or nothing) as well.
        let gone = || async {
            let ended = has_ended(record);
            match ended && !self.is_running(name, record) && threads_left(record.pid) <= 1 {
                true => Attempt::Ready(()),
                false => Attempt::NotYet(()),
            }
        };
        let waited = crate::poll::until(deadline, POLL, gone).await;
        waited.is_ok() || !self.is_running(name, record)
    }

    fn signal(&self, name: NodeId, pid: u32, signal: Signal) -> Result<(), RunnerError> {
        match killpg(Pid::from_raw(pid as i32), signal) {
            // Exited between our check and the signal: fine.
            Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
            Err(errno) => Err(RunnerError::Signal {
                name,
                pid,
                signal: signal.as_str(),
                errno,
            }),
        }
    }

    /// Why `name` is not running, with its last output.
    fn not_running(&self, name: NodeId, how: String) -> NotRunning {
        let log = self.log_file(name);
        let tail = crate::logtail::last_lines(&log, 2 * NotRunning::TAIL_KEPT)
            .map(|lines| crate::logtail::since_marker(&lines, START_MARKER))
            .unwrap_or_default();
        NotRunning {
            service: name,
            how,
            log_tail: tail[tail.len().saturating_sub(NotRunning::TAIL_KEPT)..].to_vec(),
            log_name: log.display().to_string(),
        }
    }
}

impl Runner for ProcessRunner {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Process
    }

    /// The host's Java: --java-home, JAVA_HOME, then PATH.
    async fn java(&self) -> Result<Java, JavaError> {
        super::host_java(self.java_home.clone()).await
    }

    async fn start(
        &self,
        spec: &ServiceSpec,
        command: &[String],
    ) -> Result<ServiceState, RunnerError> {
        if self.state(spec.name).await?.is_paused() {
            self.resume(spec.name).await?;
        }
        self.launch(spec, command)
    }

    async fn stop(&self, name: NodeId, grace: Duration) -> Result<StopOutcome, RunnerError> {
        let record = match self.observe(name) {
            Observed::Running(record) => record,
            Observed::Unreadable(e) => return Err(e),
            Observed::NoPidFile => return Ok(StopOutcome::NotRunning),
            Observed::Gone { .. } => {
                files::remove_file_if_exists(&self.pid_file(name))?;
                return Ok(StopOutcome::NotRunning);
            }
        };
        if super::stopped_by_signal(record.pid) {
            self.signal(name, record.pid, Signal::SIGCONT)?;
        }
        self.signal(name, record.pid, Signal::SIGTERM)?;
        let outcome = if self.wait_gone(name, &record, grace).await {
            StopOutcome::Terminated
        } else {
            self.signal(name, record.pid, Signal::SIGKILL)?;
            if !self.wait_gone(name, &record, KILL_WAIT).await {
                return Err(RunnerError::Unkillable {
                    name,
                    pid: record.pid,
                });
            }
            StopOutcome::Killed
        };
        files::remove_file_if_exists(&self.pid_file(name))?;
        Ok(outcome)
    }

    /// SIGKILL to its process group; the pid file stays, so the service reads as failed
    /// (as after a crash) until `start`.
    async fn kill(&self, name: NodeId) -> Result<(), RunnerError> {
        let Observed::Running(record) = self.observe(name) else {
            return Ok(());
        };
        self.signal(name, record.pid, Signal::SIGKILL)?;
        match self.wait_gone(name, &record, KILL_WAIT).await {
            true => Ok(()),
            false => Err(RunnerError::Unkillable {
                name,
                pid: record.pid,
            }),
        }
    }

    /// SIGSTOP to its process group.
    async fn pause(&self, name: NodeId) -> Result<(), RunnerError> {
        if let Observed::Running(record) = self.observe(name) {
            self.signal(name, record.pid, Signal::SIGSTOP)?;
        }
        super::settle(self, name, "paused", ServiceState::is_paused).await
    }

    /// SIGCONT to its process group.
    async fn resume(&self, name: NodeId) -> Result<(), RunnerError> {
        if let Observed::Running(record) = self.observe(name) {
            self.signal(name, record.pid, Signal::SIGCONT)?;
        }
        super::settle(self, name, "continued", |s| !s.is_paused()).await
    }

    async fn state(&self, name: NodeId) -> Result<ServiceState, RunnerError> {
        Ok(match self.observe(name) {
            Observed::NoPidFile => ServiceState::Stopped,
            Observed::Running(record) => self.running_state(name, record.pid),
            Observed::Unreadable(e) => ServiceState::Unknown {
                detail: e.to_string(),
            },
            Observed::Gone { pid, status } => ServiceState::Failed {
                detail: describe_exit(pid, status),
            },
        })
    }

    async fn alive(&self, name: NodeId) -> Result<(), NotRunning> {
        match self.observe(name) {
            Observed::Running(r) if super::stopped_by_signal(r.pid) => {
                Err(super::paused_not_running(name))
            }
            Observed::Running(_) => Ok(()),
            Observed::Unreadable(e) => Err(NotRunning {
                service: name,
                how: format!("cannot be checked: {e}"),
                log_tail: vec![],
                log_name: String::new(),
            }),
            Observed::NoPidFile => Err(NotRunning {
                service: name,
                how: "is not running (it was stopped, or never started)".into(),
                log_tail: vec![],
                log_name: String::new(),
            }),
            Observed::Gone { pid, status } => {
                Err(self.not_running(name, describe_exit(pid, status)))
            }
        }
    }

    async fn logs(&self, name: NodeId, tail: LogTail) -> Result<LogStream, RunnerError> {
        let LogTail { lines, follow } = tail;
        let path = self.log_file(name);
        crate::logtail::stream_file(&path, lines, follow).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => RunnerError::NoLog {
                name,
                where_: path.display().to_string(),
            },
            _ => RunnerError::Io(e),
        })
    }

    async fn run_tool(&self, tool: &Tool) -> Result<ToolOutput, RunnerError> {
        for (_, dir) in &tool.writes {
            files::create_private_dirs(dir)?;
        }
        let archive = tool.class_archive.map(|node| (node, Starter::Tool));
        let command = self.with_archive(archive, &tool.command);
        tracing::debug!("running the {}: {}", tool.what, super::shown(&command));
        let (program, args) = command.split_first().expect("a tool has a command");
        Ok(super::output_of(&tool.what, program, args, None)
            .await?
            .into())
    }

    /// Pid files (and, with `purge`, logs) of the nodes; refuses while one runs.
    async fn uninstall(&self, purge: bool) -> Result<(), RunnerError> {
        let nodes = &self.nodes;
        for &name in nodes {
            match self.observe(name) {
                Observed::Running(record) => {
                    return Err(RunnerError::StillRunning {
                        name,
                        pid: record.pid,
                    })
                }
                Observed::Unreadable(e) => return Err(e),
                Observed::NoPidFile | Observed::Gone { .. } => {}
            }
        }
        for &name in nodes {
            self.children().remove(&name);
            files::remove_file_if_exists(&self.pid_file(name))?;
            if purge {
                files::remove_file_if_exists(&self.log_file(name))?;
            }
        }
        files::remove_dir_if_empty(&self.run_dir);
        if purge {
            files::remove_dir_if_empty(&self.logs_dir);
        }
        Ok(())
    }

    async fn retire(&self, name: NodeId) -> Result<(), RunnerError> {
        if let Observed::Running(record) = self.observe(name) {
            return Err(RunnerError::StillRunning {
                name,
                pid: record.pid,
            });
        }
        self.children().remove(&name);
        files::remove_file_if_exists(&self.pid_file(name))?;
        Ok(())
    }

    fn record(&self) -> RunnerRecord {
        RunnerRecord::Process
    }
}

impl ProcessRunner {
    /// A JVM's command with the options of its class-data archive (when archives are on).
    fn with_archive(&self, archive: Option<(NodeId, Starter)>, command: &[String]) -> Vec<String> {
        match (&self.class_archives, archive) {
            (Some(archives), Some((node, starter))) => {
                let options = archives.options(node, starter, command, Jdk::Host);
                crate::class_archive::with_options(command, &options)
            }
            _ => command.to_vec(),
        }
    }
}

fn describe_exit(pid: Option<u32>, status: Option<ExitStatus>) -> String {
    match (status, pid) {
        (Some(status), _) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exited with status {code}"),
            (_, Some(sig)) => match Signal::try_from(sig) {
                Ok(s) => format!("was killed by signal {sig} ({})", s.as_str()),
                Err(_) => format!("was killed by signal {sig}"),
            },
            _ => format!("exited ({status})"),
        },
        (None, Some(pid)) => format!("is no longer running (pid {pid} has exited)"),
        (None, None) => "is not running (its pid file is not one kafkup wrote)".into(),
    }
}

/// Threads of `pid` still alive (0 once it is gone or reaped).
fn threads_left(pid: u32) -> u64 {
    procfs::process::Process::new(pid as i32)
        .and_then(|p| p.status())
        .map_or(0, |s| s.threads)
}

/// Whether the process of `record` has ended: no such process, a zombie, or another process
/// that reuses its pid.
fn has_ended(record: &PidRecord) -> bool {
    match read_stat(record.pid) {
        Some((state, start_time)) => start_time != record.start_time || matches!(state, 'Z' | 'X'),
        None => true,
    }
}

/// (state, start time) from /proc/<pid>/stat.
fn read_stat(pid: u32) -> Option<(char, u64)> {
    let stat = procfs::process::Process::new(pid as i32)
        .ok()?
        .stat()
        .ok()?;
    Some((stat.state, stat.starttime))
}

fn read_cmdline(pid: u32) -> Option<Vec<String>> {
    procfs::process::Process::new(pid as i32)
        .ok()?
        .cmdline()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_record_round_trips_and_rejects_junk() {
        let r = PidRecord {
            pid: 7,
            start_time: 123,
            marker: "kafka.Kafka".into(),
        };
        assert_eq!(PidRecord::parse(&r.render()), Some(r));
        assert_eq!(PidRecord::parse("0\n1\nx\n"), None);
        assert_eq!(PidRecord::parse("12\n"), None);
    }

    /// Real processes: /bin/sh stands in for java, the main class is its `$0`, so it is an
    /// argument of the running process as `kafka.Kafka` is for the JVM.
    mod live {
        use super::*;
        use crate::paths::Paths;
        use crate::spec::ServiceSpec;
        use std::time::Instant;

        const MARKER: &str = "kafkup.test.Main";
        const KAFKA: NodeId = NodeId::solo(crate::vocab::Role::Kafka);

        struct Env {
            _dir: tempfile::TempDir,
            runner: ProcessRunner,
            spec: ServiceSpec,
        }

        impl Env {
            fn new() -> Self {
                let dir = tempfile::tempdir().unwrap();
                let paths = Paths::under_root(dir.path());
                let data = paths.node_data(KAFKA);
                let spec = ServiceSpec {
                    name: KAFKA,
                    description: "test".into(),
                    main_class: MARKER.into(),
                    classpath: vec![],
                    jvm_options: vec![],
                    args: vec![],
                    working_dir: data.clone(),
                    data_dirs: vec![data],
                    read_only_dirs: vec![],
                    ports: vec![],
                    probes: vec![],
                    requires: vec![],
                    stop_grace_secs: 30,
                };
                let ctx = RunnerContext::new(&paths, vec![KAFKA], None);
                Env {
                    runner: ProcessRunner::new(&ctx),
                    spec,
                    _dir: dir,
                }
            }

            fn launch(&self, script: &str) -> ServiceState {
                // The trailing `exit` keeps the shell from exec'ing its last command, which
                // would drop `$0` (our main class) from the command line.
                let script = format!("{script}\nexit $?");
                let cmd = ["/bin/sh", "-c", &script, MARKER].map(String::from);
                self.runner.launch(&self.spec, &cmd).unwrap()
            }

            async fn state(&self) -> ServiceState {
                self.runner.state(KAFKA).await.unwrap()
            }

            async fn pid(&self) -> u32 {
                match self.state().await {
                    ServiceState::Running { pid: Some(pid), .. } => pid,
                    other => panic!("not running: {other:?}"),
                }
            }

            fn log(&self) -> String {
                std::fs::read_to_string(self.runner.log_file(KAFKA)).unwrap_or_default()
            }

            async fn stop(&self, grace: Duration) -> StopOutcome {
                self.runner.stop(KAFKA, grace).await.unwrap()
            }

            /// Polls `f` for up to 5 s.
            async fn eventually<F: std::future::Future<Output = bool>>(
                &self,
                what: &str,
                f: impl Fn() -> F,
            ) {
                let deadline = Instant::now() + Duration::from_secs(5);
                while !f().await {
                    assert!(Instant::now() < deadline, "timed out waiting for {what}");
                    tokio::time::sleep(POLL).await;
                }
            }
        }

        /// Never leave a process behind, whatever the test did.
        impl Drop for Env {
            fn drop(&mut self) {
                for child in self.runner.children().values_mut() {
                    // Only unreaped children: a reaped pid may already be someone else's.
                    if let Ok(None) = child.try_wait() {
                        let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
                        let _ = child.wait();
                    }
                }
            }
        }

        #[tokio::test]
        async fn starts_detached_with_pid_file_and_log_then_stops_gracefully() {
            let env = Env::new();
            env.launch("echo hi; echo err >&2; sleep 30");
            let pid = env.pid().await;

            let record =
                PidRecord::parse(&std::fs::read_to_string(env.runner.pid_file(KAFKA)).unwrap())
                    .unwrap();
            assert_eq!(record.pid, pid);
            assert_eq!(record.start_time, read_stat(pid).unwrap().1);
            assert_eq!(record.marker, MARKER);
            // Own session: it is the leader of its session and process group.
            let sid = nix::unistd::getsid(Some(Pid::from_raw(pid as i32))).unwrap();
            assert_eq!(sid.as_raw(), pid as i32);
            assert!(env.spec.data_dirs[0].is_dir());
            env.eventually("output in the log", || async { env.log().contains("err") })
                .await;
            let log = env.log();
            assert!(log.starts_with(START_MARKER), "{log}");
            assert!(log.contains("hi\n"), "{log}");
            assert_eq!(env.runner.alive(KAFKA).await, Ok(()));

            assert_eq!(
                env.stop(Duration::from_secs(5)).await,
                StopOutcome::Terminated
            );
            assert_eq!(env.state().await, ServiceState::Stopped);
            assert!(!env.runner.pid_file(KAFKA).exists());
            assert_eq!(
                env.stop(Duration::from_secs(1)).await,
                StopOutcome::NotRunning
            );
        }

        #[tokio::test]
        async fn starting_twice_keeps_the_same_process() {
            let env = Env::new();
            env.launch("sleep 30");
            let pid = env.pid().await;
            let again = env.launch("sleep 30");
            assert!(matches!(again, ServiceState::Running { pid: Some(p), .. } if p == pid));
            assert_eq!(env.log().matches(START_MARKER).count(), 1);
            env.stop(Duration::from_secs(5)).await;
        }

        #[tokio::test]
        async fn a_process_that_ignores_sigterm_is_killed_after_the_grace_period() {
            let env = Env::new();
            // `ready` tells us the trap is in place before we signal.
            env.launch("trap '' TERM; echo ready; while :; do sleep 0.1; done");
            env.eventually("the trap", || async { env.log().contains("ready") })
                .await;
            let started = Instant::now();
            let outcome = env.stop(Duration::from_millis(300)).await;
            assert_eq!(outcome, StopOutcome::Killed);
            assert!(started.elapsed() >= Duration::from_millis(300));
            assert_eq!(env.state().await, ServiceState::Stopped);
        }

        #[tokio::test]
        async fn a_crash_is_reported_with_exit_status_and_log_tail() {
            let env = Env::new();
            env.launch("echo 'broker exploded' >&2; exit 3");
            env.eventually("the crash", || async {
                env.runner.alive(KAFKA).await.is_err()
            })
            .await;
            let why = env.runner.alive(KAFKA).await.unwrap_err();
            assert_eq!(why.how, "exited with status 3");
            assert_eq!(why.log_tail, vec!["broker exploded"]);
            assert!(
                why.to_string()
                    .starts_with("kafka exited with status 3; last log lines:"),
                "{why}"
            );
            assert!(matches!(env.state().await, ServiceState::Failed { .. }));

            // A restart after the crash is a fresh process, and its log tail is its own.
            env.launch("sleep 30");
            assert_eq!(env.runner.alive(KAFKA).await, Ok(()));
            env.stop(Duration::from_secs(5)).await;
            env.runner.uninstall(true).await.unwrap();
            assert!(!env.runner.log_file(KAFKA).exists());
        }

        #[tokio::test]
        async fn a_recycled_pid_is_not_our_service() {
            let env = Env::new();
            env.launch("sleep 30");
            let pid = env.pid().await;
            // Same pid, different start time: what a pid file looks like after a reboot.
            let forged = PidRecord {
                pid,
                start_time: read_stat(pid).unwrap().1 + 1,
                marker: MARKER.into(),
            };
            let pid_file = env.runner.pid_file(KAFKA);
            let real = std::fs::read_to_string(&pid_file).unwrap();
            std::fs::write(&pid_file, forged.render()).unwrap();
            assert!(matches!(env.state().await, ServiceState::Failed { .. }));
            // Another program under our pid: wrong main class.
            let other = PidRecord {
                marker: "org.other.Main".into(),
                ..PidRecord::parse(&real).unwrap()
            };
            std::fs::write(&pid_file, other.render()).unwrap();
            assert!(!env.state().await.is_running());
            // Stop must not signal a stranger; it only removes the stale pid file.
            assert_eq!(
                env.stop(Duration::from_secs(1)).await,
                StopOutcome::NotRunning
            );
            assert!(!pid_file.exists());
            assert!(
                read_stat(pid).is_some_and(|(s, _)| s != 'Z'),
                "the process was left alone"
            );
        }

        #[tokio::test]
        async fn a_paused_service_is_frozen_until_resumed_and_a_killed_one_reads_as_failed() {
            let env = Env::new();
            env.launch("sleep 30");
            let pid = env.pid().await;
            // Past its fork: a shell stopped inside vfork() stays in D, never T.
            env.eventually("the shell waiting for sleep", || async {
                read_stat(pid).is_some_and(|(s, _)| s == 'S')
            })
            .await;
            env.runner.pause(KAFKA).await.unwrap();
            let paused = env.state().await;
            assert!(matches!(paused, ServiceState::Paused { pid: Some(p), .. } if p == pid));
            assert_eq!(read_stat(pid).unwrap().0, 'T');
            let why = env.runner.alive(KAFKA).await.unwrap_err();
            assert!(why.how.contains("`kafkup resume kafka`"), "{why}");
            env.runner.resume(KAFKA).await.unwrap();
            assert_eq!(env.pid().await, pid, "the same process goes on");
            assert_eq!(env.runner.alive(KAFKA).await, Ok(()));
            // A stop of a paused service continues it first, so SIGTERM ends it at once.
            env.runner.pause(KAFKA).await.unwrap();
            let started = Instant::now();
            let outcome = env.stop(Duration::from_secs(20)).await;
            assert_eq!(outcome, StopOutcome::Terminated);
            assert!(started.elapsed() < Duration::from_secs(5));
            // A kill is a crash: the pid file stays, the state says the process is gone.
            env.launch("sleep 30");
            let pid = env.pid().await;
            env.runner.kill(KAFKA).await.unwrap();
            assert!(matches!(env.state().await, ServiceState::Failed { .. }));
            assert!(read_stat(pid).is_none_or(|(s, _)| s == 'Z'), "it is gone");
            assert!(env.runner.pid_file(KAFKA).exists());
            env.launch("sleep 30");
            assert!(env.pid().await != pid, "started anew");
            env.stop(Duration::from_secs(5)).await;
        }

        #[tokio::test]
        async fn uninstall_refuses_a_running_service() {
            let env = Env::new();
            env.launch("sleep 30");
            assert!(matches!(
                env.runner.uninstall(false).await,
                Err(RunnerError::StillRunning { .. })
            ));
            env.stop(Duration::from_secs(5)).await;
            env.runner.uninstall(false).await.unwrap();
            assert!(
                env.runner.log_file(KAFKA).exists(),
                "logs stay without purge"
            );
        }

        #[tokio::test]
        async fn logs_stream_the_tail() {
            use futures_util::StreamExt;
            let env = Env::new();
            env.launch("echo one; echo two; echo three; exit 0");
            env.eventually("the exit", || async {
                env.runner.alive(KAFKA).await.is_err()
            })
            .await;
            let chunks: Vec<_> = env
                .runner
                .logs(
                    KAFKA,
                    LogTail {
                        lines: 2,
                        follow: false,
                    },
                )
                .await
                .unwrap()
                .map(|c| c.unwrap())
                .collect()
                .await;
            assert_eq!(chunks.concat(), b"two\nthree\n");
        }
    }
}
