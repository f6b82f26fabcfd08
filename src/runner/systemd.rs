//! The systemd runner: each service is a system unit (`kafkup-<service>.service`, rendered
//! from `templates/kafkup.service.j2` and written by setup), run as the dedicated system user
//! `kafkup`, enabled so that it starts at boot, logging to journald. Everything goes through
//! `systemctl` and `journalctl`, read in their machine-readable forms.

use super::{
    LogStream, LogTail, NotRunning, Runner, RunnerContext, RunnerError, RunnerRecord, ServiceState,
    StopOutcome, Tool, ToolOutput,
};
use crate::class_archive::{self, Jdk, Starter};
use crate::java::{Java, JavaError};
use crate::spec::ServiceSpec;
use crate::vocab::{NodeId, RunnerKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// What the manifest keeps of this runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub user: String,
    /// Only a user kafkup created is removed again (on `teardown --purge`).
    pub user_created: bool,
}

pub struct SystemdRunner {
    ctx: RunnerContext,
    record: Mutex<Record>,
    /// Unit files are all written before the first install: one daemon-reload covers them.
    reloaded: AtomicBool,
}

/// What `systemctl show` says about a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitState {
    pub active: String,
    pub sub: String,
    pub main_pid: u32,
    pub restarts: u32,
    pub result: String,
    /// `exited`, `killed` or `dumped` (systemd's name for the CLD_* code), or empty.
    pub exit_code: String,
    pub exit_status: i32,
    pub invocation: String,
    pub since: String,
}

const SHOW: &str = "ActiveState,SubState,MainPID,NRestarts,Result,ExecMainCode,ExecMainStatus,InvocationID,ActiveEnterTimestamp";

impl UnitState {
    /// Parses `systemctl show -p …` output (`Key=Value` lines, order not relied on).
    pub fn parse(text: &str) -> UnitState {
        let fields: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let get = |k: &str| fields.get(k).copied().unwrap_or_default().to_string();
        let num = |k: &str| fields.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        // ExecMainCode is printed as a number by older systemd versions.
        let exit_code = match get("ExecMainCode").as_str() {
            "1" => "exited".to_string(),
            "2" => "killed".to_string(),
            "3" => "dumped".to_string(),
            "0" => String::new(),
            other => other.to_string(),
        };
        UnitState {
            active: get("ActiveState"),
            sub: get("SubState"),
            main_pid: num("MainPID") as u32,
            restarts: num("NRestarts") as u32,
            result: get("Result"),
            exit_code,
            exit_status: num("ExecMainStatus"),
            invocation: get("InvocationID"),
            since: get("ActiveEnterTimestamp"),
        }
    }

    /// How the last run ended, in words.
    pub fn how_it_ended(&self) -> String {
        let end = match (self.exit_code.as_str(), self.exit_status) {
            ("exited", code) => format!("exited with status {code}"),
            ("killed" | "dumped", sig) => match nix::sys::signal::Signal::try_from(sig) {
                Ok(s) => format!("was killed by signal {sig} ({})", s.as_str()),
                Err(_) => format!("was killed by signal {sig}"),
            },
            _ => format!("is {} ({})", self.active, self.result),
        };
        match (self.active.as_str(), self.sub.as_str()) {
            ("activating", "auto-restart") => format!(
                "{end}; systemd is restarting it (restarted {} time(s) before)",
                self.restarts
            ),
            ("failed", _) if self.result == "start-limit-hit" => {
                format!("{end}; systemd gave up restarting it (start limit hit)")
            }
            _ => end,
        }
    }

    pub fn to_service_state(&self, unit: &str) -> ServiceState {
        match (self.active.as_str(), self.sub.as_str()) {
            ("activating", "auto-restart") | ("failed", _) => ServiceState::Failed {
                detail: self.how_it_ended(),
            },
            ("inactive", _) if self.result != "success" && !self.result.is_empty() => {
                ServiceState::Failed {
                    detail: self.how_it_ended(),
                }
            }
            ("inactive", _) | ("", _) => ServiceState::Stopped,
            _ => ServiceState::Running {
                pid: (self.main_pid > 0).then_some(self.main_pid),
                detail: format!(
                    "unit {unit}, pid {}, since {}, {} restart(s)",
                    self.main_pid, self.since, self.restarts
                ),
            },
        }
    }
}

impl SystemdRunner {
    /// The units of `nodes` stopped, disabled and removed, with their environment files.
    async fn remove_units(&self, nodes: &[NodeId]) -> Result<(), RunnerError> {
        let units: Vec<String> = nodes.iter().map(|n| self.unit(*n)).collect();
        let present: Vec<&String> = nodes
            .iter()
            .zip(&units)
            .filter(|(n, _)| self.unit_file(**n).exists())
            .map(|(_, u)| u)
            .collect();
        for unit in &present {
            command("systemctl", &["disable", "--now", "--quiet", unit.as_str()]).await?;
        }
        for &name in nodes {
            crate::files::remove_file_if_exists(&self.unit_file(name))?;
            let env = class_archive::unit_env_file(&self.ctx.paths, name);
            crate::files::remove_file_if_exists(&env)?;
        }
        command("systemctl", &["daemon-reload"]).await?;
        for unit in &units {
            let _ = command("systemctl", &["reset-failed", unit]).await;
        }
        Ok(())
    }
    /// Refuses a host where systemd cannot run system units for us.
    pub fn new(ctx: &RunnerContext, record: Option<&Record>) -> Result<Self, RunnerError> {
        let facts = super::detect::HostFacts::observe_sync();
        super::detect::systemd_usable(&facts).map_err(|reason| RunnerError::Unavailable {
            kind: RunnerKind::Systemd,
            reason,
            help: super::detect::SYSTEMD_HELP.into(),
        })?;
        let runner = SystemdRunner {
            ctx: ctx.clone(),
            record: Mutex::new(record.cloned().unwrap_or(Record {
                user: ctx.service_user.clone(),
                user_created: false,
            })),
            reloaded: AtomicBool::new(false),
        };
        runner.refuse_foreign_units()?;
        Ok(runner)
    }

    fn unit(&self, name: NodeId) -> String {
        format!("{}.service", name.unit_name())
    }

    fn unit_file(&self, name: NodeId) -> PathBuf {
        self.ctx.unit_dir.join(self.unit(name))
    }

    fn user(&self) -> String {
        self.record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .user
            .clone()
    }

    /// Units of the same names that belong to another kafkup environment are refused: a unit
    /// file of ours names this environment's config directory in its command line.
    fn refuse_foreign_units(&self) -> Result<(), RunnerError> {
        let config = self.ctx.paths.config.display().to_string();
        for &name in &self.ctx.nodes {
            let path = self.unit_file(name);
            if let Ok(text) = std::fs::read_to_string(&path) {
                if !text.contains(&config) {
                    return Err(RunnerError::Conflict {
                        what: format!(
                            "{} belongs to another kafkup environment (not to {})",
                            path.display(),
                            config
                        ),
                        help: "run `kafkup teardown` with that environment's --root first; system units are one environment per host".into(),
                    });
                }
            }
        }
        Ok(())
    }

    async fn show(&self, name: NodeId) -> Result<UnitState, RunnerError> {
        let out = command("systemctl", &["show", &self.unit(name), "-p", SHOW]).await?;
        Ok(UnitState::parse(&out))
    }

    /// The system user, created (with its own group, no home, no login) if missing.
    async fn ensure_user(&self) -> Result<(), RunnerError> {
        let user = self.user();
        if nix::unistd::User::from_name(&user).ok().flatten().is_some() {
            return Ok(());
        }
        command(
            "useradd",
            &[
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "kafkup services (ZooKeeper, Kafka)",
                &user,
            ],
        )
        .await?;
        self.record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .user_created = true;
        Ok(())
    }

    /// Data directories belong to the service user. The directories kafkup made to hold them
    /// and the config let its group through (0750), and every directory above them must let
    /// anybody through, or the unit could not reach its files: that is an error, not a chmod.
    /// The unit's archive options for this start: the service user records into (and reads
    /// from) the archive directory, which it owns.
    fn write_archive_env(&self, spec: &ServiceSpec, command: &[String]) -> Result<(), RunnerError> {
        let mut options = Vec::new();
        if let Some(archives) = &self.ctx.class_archives {
            self.own_archive_dir(archives.dir(), &self.service_user()?)?;
            options = archives.options(spec.name, Starter::Service, command, Jdk::Host);
        }
        // systemd splits the value at whitespace: a path with a space cannot pass that way.
        if options.iter().any(|o| o.contains(char::is_whitespace)) {
            options.clear();
        }
        let line = format!(
            "{}=\"{}\"\n",
            class_archive::UNIT_VARIABLE,
            options.join(" ")
        );
        let file = class_archive::unit_env_file(&self.ctx.paths, spec.name);
        crate::files::write_atomic(&file, line.as_bytes(), 0o644)?;
        Ok(())
    }

    /// The service user records archives into it; root and others may read them.
    fn own_archive_dir(&self, dir: &Path, user: &nix::unistd::User) -> Result<(), RunnerError> {
        fs_err::create_dir_all(dir)?;
        std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))?;
        fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
        Ok(())
    }

    fn service_user(&self) -> Result<nix::unistd::User, RunnerError> {
        nix::unistd::User::from_name(&self.user())
            .ok()
            .flatten()
            .ok_or_else(|| RunnerError::Io(std::io::Error::other("the service user vanished")))
    }

    fn grant(&self, spec: &ServiceSpec) -> Result<(), RunnerError> {
        let user = self.service_user()?;
        for dir in &spec.data_dirs {
            chown_tree(dir, user.uid, user.gid)?;
        }
        // Its key and JAAS file (0640): readable by its group, the service user's, alone.
        let tls = crate::security::names::node_tls_dir(&self.ctx.paths.node_config(spec.name));
        if tls.is_dir() {
            let group = |p: &Path| nix::unistd::chown(p, None, Some(user.gid)).map_err(io_err);
            group(&tls)?;
            for entry in fs_err::read_dir(&tls)? {
                group(&entry?.path())?;
            }
        }
        let paths = &self.ctx.paths;
        let mut walls = vec![paths.data.clone(), paths.config.clone()];
        walls.extend(
            spec.read_only_dirs
                .iter()
                .filter(|d| d.starts_with(&paths.config))
                .cloned(),
        );
        // The directory holding data and state: /var/lib/kafkup, or the --root directory.
        let base = paths.data.parent().filter(|b| paths.state.starts_with(b));
        walls.extend(base.map(Path::to_path_buf));
        for dir in walls.iter().filter(|d| d.is_dir()) {
            let mode = fs_err::metadata(dir)?.permissions().mode();
            if mode & 0o001 == 0 {
                nix::unistd::chown(dir, None, Some(user.gid)).map_err(io_err)?;
                fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o750))?;
            }
        }
        let highest = walls
            .iter()
            .filter_map(|w| w.parent())
            .filter(|p| !walls.iter().any(|w| w == p));
        for dir in highest {
            refuse_closed_ancestors(dir)?;
        }
        Ok(())
    }

    /// The journal of one run of the unit (its InvocationID), or the unit's latest lines.
    async fn journal_tail(&self, name: NodeId, invocation: &str) -> Vec<String> {
        let lines = NotRunning::TAIL_KEPT.to_string();
        let matcher = format!("_SYSTEMD_INVOCATION_ID={invocation}");
        let unit = self.unit(name);
        let args: Vec<&str> = if invocation.is_empty() {
            vec!["-u", &unit, "-n", &lines, "-o", "cat", "--no-pager"]
        } else {
            vec![&matcher, "-n", &lines, "-o", "cat", "--no-pager"]
        };
        command("journalctl", &args)
            .await
            .map(|text| text.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }
}

impl Runner for SystemdRunner {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Systemd
    }

    /// The host's Java, which the units' ExecStart= names.
    async fn java(&self) -> Result<Java, JavaError> {
        super::host_java(self.ctx.java_home.clone()).await
    }

    /// The user, its directories, the unit known to systemd and enabled for boot.
    async fn install(&self, spec: &ServiceSpec, _command: &[String]) -> Result<(), RunnerError> {
        self.ensure_user().await?;
        self.grant(spec)?;
        if !self.reloaded.swap(true, Ordering::SeqCst) {
            command("systemctl", &["daemon-reload"]).await?;
        }
        command("systemctl", &["enable", "--quiet", &self.unit(spec.name)]).await?;
        Ok(())
    }

    async fn start(
        &self,
        spec: &ServiceSpec,
        java_command: &[String],
    ) -> Result<ServiceState, RunnerError> {
        if self.state(spec.name).await?.is_paused() {
            self.resume(spec.name).await?;
        }
        let unit = self.unit(spec.name);
        // An explicit start also clears a start limit hit earlier.
        let _ = command("systemctl", &["reset-failed", &unit]).await;
        self.write_archive_env(spec, java_command)?;
        command("systemctl", &["start", &unit]).await?;
        Ok(self.show(spec.name).await?.to_service_state(&unit))
    }

    /// `systemctl stop` sends SIGTERM and, after the unit's TimeoutStopSec (the spec's grace),
    /// SIGKILL; it returns when the unit is down.
    async fn stop(&self, name: NodeId, _grace: Duration) -> Result<StopOutcome, RunnerError> {
        if self.state(name).await?.is_paused() {
            self.resume(name).await?;
        }
        let before = self.show(name).await?;
        if !before.to_service_state("").is_running() {
            // A unit that restarts by itself must not come back now.
            command("systemctl", &["stop", &self.unit(name)]).await?;
            return Ok(StopOutcome::NotRunning);
        }
        command("systemctl", &["stop", &self.unit(name)]).await?;
        let after = self.show(name).await?;
        Ok(match after.result.as_str() {
            "timeout" => StopOutcome::Killed,
            _ => StopOutcome::Terminated,
        })
    }

    /// `systemctl kill -s KILL`: every process of the unit; systemd sees a crash and, as the
    /// unit says (Restart=on-failure), starts it again after RestartSec.
    async fn kill(&self, name: NodeId) -> Result<(), RunnerError> {
        let before = self.show(name).await?.main_pid;
        command("systemctl", &["kill", "-s", "KILL", &self.unit(name)]).await?;
        let gone = |s: &ServiceState| s.pid() != Some(before) || before == 0;
        super::settle(self, name, "killed", gone).await
    }

    /// `systemctl kill -s SIGSTOP`: every process of the unit stops where it is.
    async fn pause(&self, name: NodeId) -> Result<(), RunnerError> {
        command("systemctl", &["kill", "-s", "SIGSTOP", &self.unit(name)]).await?;
        super::settle(self, name, "paused", ServiceState::is_paused).await
    }

    async fn resume(&self, name: NodeId) -> Result<(), RunnerError> {
        command("systemctl", &["kill", "-s", "SIGCONT", &self.unit(name)]).await?;
        super::settle(self, name, "continued", |s| !s.is_paused()).await
    }

    /// What systemd says; a running unit whose main process is stopped by a signal is paused.
    async fn state(&self, name: NodeId) -> Result<ServiceState, RunnerError> {
        let state = self.show(name).await?.to_service_state(&self.unit(name));
        match state.pid().is_some_and(super::stopped_by_signal) {
            true => Ok(state.paused("SIGSTOP")),
            false => Ok(state),
        }
    }

    async fn alive(&self, name: NodeId) -> Result<(), NotRunning> {
        let unit = self.unit(name);
        let state = match self.show(name).await {
            Ok(state) => state,
            Err(e) => {
                return Err(NotRunning {
                    service: name,
                    how: format!("cannot be asked about ({e})"),
                    log_tail: vec![],
                    log_name: String::new(),
                })
            }
        };
        // systemd is bringing it back (Restart=on-failure): a wait goes on; a unit that keeps
        // failing hits its start limit and is "failed" soon enough.
        let restarting = state.active == "activating" && state.sub == "auto-restart";
        if state.main_pid > 0 && super::stopped_by_signal(state.main_pid) {
            return Err(super::paused_not_running(name));
        }
        if restarting || state.to_service_state(&unit).is_running() {
            return Ok(());
        }
        Err(NotRunning {
            service: name,
            how: state.how_it_ended(),
            log_tail: self.journal_tail(name, &state.invocation).await,
            log_name: format!("the journal of {unit}"),
        })
    }

    async fn logs(&self, name: NodeId, tail: LogTail) -> Result<LogStream, RunnerError> {
        let LogTail { lines, follow } = tail;
        let unit = self.unit(name);
        let lines = lines.to_string();
        let mut args = vec!["-u", &unit, "-n", &lines, "-o", "cat", "--no-pager"];
        if follow {
            args.push("-f");
        }
        stream_command("journalctl", &args)
    }

    /// As the service user, outside the unit (it runs before the unit ever starts).
    async fn run_tool(&self, tool: &Tool) -> Result<ToolOutput, RunnerError> {
        self.ensure_user().await?;
        let user = self.service_user()?;
        for (_, dir) in &tool.writes {
            crate::files::create_private_dirs(dir)?;
            chown_tree(dir, user.uid, user.gid)?;
        }
        let mut command = tool.command.clone();
        if let (Some(archives), Some(node)) = (&self.ctx.class_archives, tool.class_archive) {
            self.own_archive_dir(archives.dir(), &user)?;
            let options = archives.options(node, Starter::Tool, &command, Jdk::Host);
            command = class_archive::with_options(&command, &options);
        }
        tracing::debug!("running the {}: {}", tool.what, super::shown(&command));
        let (program, args) = command.split_first().expect("a tool has a command");
        let out = super::output_of(&tool.what, program, args, Some(&user)).await?;
        Ok(out.into())
    }

    /// Units stopped, disabled and removed; with `purge`, the user kafkup created.
    async fn uninstall(&self, purge: bool) -> Result<(), RunnerError> {
        self.remove_units(&self.ctx.nodes).await?;
        let record = self
            .record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if purge && record.user_created {
            command("userdel", &[&record.user]).await?;
            self.record
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .user_created = false;
        }
        Ok(())
    }

    async fn retire(&self, name: NodeId) -> Result<(), RunnerError> {
        self.remove_units(&[name]).await
    }

    fn record(&self) -> RunnerRecord {
        RunnerRecord::Systemd(
            self.record
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// Runs a tool and returns its stdout; a failure carries its stderr.
async fn command(program: &str, args: &[&str]) -> Result<String, RunnerError> {
    let owned: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = super::output_of(program, program, &owned, None).await?;
    if !out.status.success() {
        return Err(RunnerError::Command {
            command: format!("{program} {}", args.join(" ")),
            status: out.status.to_string(),
            said: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A tool's stdout as a stream; the tool is killed when the stream is dropped.
fn stream_command(program: &str, args: &[&str]) -> Result<LogStream, RunnerError> {
    use futures_util::StreamExt;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| RunnerError::Spawn {
            name: program.into(),
            program: program.into(),
            reason: e.to_string(),
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stream = tokio_util::io::ReaderStream::new(stdout);
    // The child lives as long as the stream.
    Ok(stream
        .map(move |chunk| {
            let _keep = &child;
            chunk
        })
        .boxed())
}

/// `dir` and everything below it owned by `uid:gid` (skipped where it already is).
fn chown_tree(dir: &Path, uid: nix::unistd::Uid, gid: nix::unistd::Gid) -> Result<(), RunnerError> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs_err::symlink_metadata(dir)?;
    if meta.uid() != uid.as_raw() || meta.gid() != gid.as_raw() {
        std::os::unix::fs::lchown(dir, Some(uid.as_raw()), Some(gid.as_raw())).map_err(|e| {
            RunnerError::Io(std::io::Error::new(
                e.kind(),
                format!("cannot chown {}: {e}", dir.display()),
            ))
        })?;
    }
    if meta.is_dir() {
        for entry in fs_err::read_dir(dir)? {
            chown_tree(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Every directory from `dir` up must be traversable by others (o+x), as /var/lib and /etc are.
fn refuse_closed_ancestors(dir: &Path) -> Result<(), RunnerError> {
    for ancestor in dir.ancestors() {
        let Ok(meta) = std::fs::metadata(ancestor) else {
            continue;
        };
        if meta.permissions().mode() & 0o001 == 0 {
            return Err(RunnerError::Conflict {
                what: format!(
                    "the service user cannot reach its files: {} is closed to other users (mode {:o})",
                    ancestor.display(),
                    meta.permissions().mode() & 0o7777
                ),
                help: "choose a --root outside it (the default /var/lib/kafkup, /etc/kafkup and /opt/kafkup work)".into(),
            });
        }
    }
    Ok(())
}

fn io_err(e: nix::errno::Errno) -> RunnerError {
    RunnerError::Io(std::io::Error::from(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_output_is_read_by_key() {
        let text = "MainPID=4242\nActiveState=active\nSubState=running\nNRestarts=2\n\
                    Result=success\nExecMainCode=0\nExecMainStatus=0\nInvocationID=ab12\n\
                    ActiveEnterTimestamp=Tue 2026-12-01 20:00:00 UTC\n";
        let s = UnitState::parse(text);
        assert_eq!((s.main_pid, s.restarts), (4242, 2));
        let state = s.to_service_state("kafkup-kafka.service");
        assert_eq!(state.pid(), Some(4242));
        assert!(state.describe().contains("2 restart(s)"));
    }

    #[test]
    fn ends_are_said_in_words() {
        let killed = UnitState::parse(
            "ActiveState=activating\nSubState=auto-restart\nResult=signal\nExecMainCode=killed\n\
             ExecMainStatus=9\nNRestarts=1\n",
        );
        assert_eq!(
            killed.how_it_ended(),
            "was killed by signal 9 (SIGKILL); systemd is restarting it (restarted 1 time(s) before)"
        );
        assert!(matches!(
            killed.to_service_state("u"),
            ServiceState::Failed { .. }
        ));
        let limit = UnitState::parse(
            "ActiveState=failed\nSubState=failed\nResult=start-limit-hit\nExecMainCode=1\nExecMainStatus=1\n",
        );
        assert!(limit
            .how_it_ended()
            .starts_with("exited with status 1; systemd gave up"));
        let stopped = UnitState::parse("ActiveState=inactive\nSubState=dead\nResult=success\n");
        assert_eq!(stopped.to_service_state("u"), ServiceState::Stopped);
    }
}
