//! The process runner: each service is a detached child (own session, stdin /dev/null, output
//! appended to `<state>/logs/<service>.log`) that outlives kafkup. A pid file
//! `<state>/run/<service>.pid` records pid, start time and main class, so a recycled pid is
//! never mistaken for the service.

use super::{LogSource, Runner, RunnerError, RunnerKind, ServiceState, StopOutcome};
use crate::paths::Paths;
use crate::spec::{ServiceName, ServiceSpec};
use fs_err::os::unix::fs::OpenOptionsExt;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const POLL: Duration = Duration::from_millis(50);
/// How long a SIGKILLed process may take to disappear before we call it stuck.
const KILL_WAIT: Duration = Duration::from_secs(5);
const START_MARKER: &str = "---- started by kafkup at";
const TAIL_LINES: usize = 10;

pub struct ProcessRunner {
    run_dir: PathBuf,
    logs_dir: PathBuf,
    /// Children started by this kafkup process: kept so we reap them (no zombies while we run)
    /// and can report their exit status. After kafkup exits, init reaps them.
    children: Mutex<HashMap<ServiceName, Child>>,
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
    Running(PidRecord),
    /// A pid file whose process is gone (or unreadable); the status if it was our child.
    Gone {
        pid: Option<u32>,
        status: Option<ExitStatus>,
    },
}

impl ProcessRunner {
    pub fn new(paths: &Paths) -> Self {
        ProcessRunner {
            run_dir: paths.state.join("run"),
            logs_dir: paths.logs(),
            children: Mutex::new(HashMap::new()),
        }
    }

    pub fn pid_file(&self, name: ServiceName) -> PathBuf {
        self.run_dir.join(format!("{name}.pid"))
    }

    pub fn log_file(&self, name: ServiceName) -> PathBuf {
        self.logs_dir.join(format!("{name}.log"))
    }

    fn children(&self) -> std::sync::MutexGuard<'_, HashMap<ServiceName, Child>> {
        self.children.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The exit status of our child `pid`, reaping it if it has exited.
    fn reap(&self, name: ServiceName, pid: u32) -> Option<ExitStatus> {
        let mut children = self.children();
        let child = children.get_mut(&name).filter(|c| c.id() == pid)?;
        child.try_wait().ok().flatten()
    }

    /// Is the process of `record` still the one we started?
    fn is_running(&self, name: ServiceName, record: &PidRecord) -> bool {
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

    fn observe(&self, name: ServiceName) -> Observed {
        let text = match fs_err::read_to_string(self.pid_file(name)) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Observed::NoPidFile,
            Err(_) => {
                return Observed::Gone {
                    pid: None,
                    status: None,
                }
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
            status: self.reap(name, record.pid),
        }
    }

    fn running_state(&self, name: ServiceName, pid: u32) -> ServiceState {
        ServiceState::Running {
            pid: Some(pid),
            detail: format!("pid {pid}, log {}", self.log_file(name).display()),
        }
    }

    /// `start` with an explicit command line (tests run /bin/sh instead of java).
    fn launch(&self, spec: &ServiceSpec, command: &[String]) -> Result<ServiceState, RunnerError> {
        let name = spec.name;
        if let Observed::Running(record) = self.observe(name) {
            return Ok(self.running_state(name, record.pid));
        }
        for dir in &spec.data_dirs {
            create_dir(dir)?;
        }
        create_dir(&self.run_dir)?;
        create_dir(&self.logs_dir)?;

        let mut log = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(self.log_file(name))?;
        writeln!(
            log,
            "{START_MARKER} {} ----",
            utc_timestamp(SystemTime::now())
        )?;
        let log = log.into_file();

        let (program, args) = command
            .split_first()
            .expect("a command line is never empty");
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&spec.working_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // SAFETY: setsid is async-signal-safe. A new session (and process group) detaches the
        // service from our terminal and its signals, and lets `stop` signal the whole group.
        unsafe {
            cmd.pre_exec(|| {
                // Files the service writes (segments, snapshots) are not for other users,
                // as under systemd's UMask=0027.
                nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o027));
                nix::unistd::setsid().map(drop).map_err(io::Error::from)
            });
        }
        let child = cmd.spawn().map_err(|source| RunnerError::Spawn {
            name,
            program: program.clone(),
            source,
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
        write_atomically(&self.pid_file(name), &record.render())?;
        Ok(self.running_state(name, pid))
    }

    /// Polls until the process is gone or `limit` passed; true if it is gone.
    fn wait_gone(&self, name: ServiceName, record: &PidRecord, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            // A killed JVM's main thread can be a zombie while its other threads still close
            // sockets: wait for those too, or the port looks busy to the next start.
            if !self.is_running(name, record) && threads_left(record.pid) <= 1 {
                return true;
            }
            if Instant::now() >= deadline {
                return !self.is_running(name, record);
            }
            std::thread::sleep(POLL);
        }
    }

    fn signal(&self, name: ServiceName, pid: u32, signal: Signal) -> Result<(), RunnerError> {
        match killpg(Pid::from_raw(pid as i32), signal) {
            // Exited between our check and the signal: fine.
            Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
            Err(source) => Err(RunnerError::Signal {
                name,
                pid,
                signal: signal.as_str(),
                source,
            }),
        }
    }

    fn remove_pid_file(&self, name: ServiceName) -> io::Result<()> {
        remove_if_exists(&self.pid_file(name))
    }
}

impl Runner for ProcessRunner {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Process
    }

    /// Nothing to install: `start` creates directories, log and pid file.
    fn install(&self, _spec: &ServiceSpec, _java: &Path) -> Result<(), RunnerError> {
        Ok(())
    }

    fn start(&self, spec: &ServiceSpec, java: &Path) -> Result<ServiceState, RunnerError> {
        self.launch(spec, &spec.command(java))
    }

    fn stop(&self, name: ServiceName, grace: Duration) -> Result<StopOutcome, RunnerError> {
        let record = match self.observe(name) {
            Observed::Running(record) => record,
            Observed::NoPidFile => return Ok(StopOutcome::NotRunning),
            Observed::Gone { .. } => {
                self.remove_pid_file(name)?;
                return Ok(StopOutcome::NotRunning);
            }
        };
        self.signal(name, record.pid, Signal::SIGTERM)?;
        let outcome = if self.wait_gone(name, &record, grace) {
            StopOutcome::Terminated
        } else {
            self.signal(name, record.pid, Signal::SIGKILL)?;
            if !self.wait_gone(name, &record, KILL_WAIT) {
                return Err(RunnerError::Unkillable {
                    name,
                    pid: record.pid,
                });
            }
            StopOutcome::Killed
        };
        self.remove_pid_file(name)?;
        Ok(outcome)
    }

    fn state(&self, name: ServiceName) -> ServiceState {
        match self.observe(name) {
            Observed::NoPidFile => ServiceState::Stopped,
            Observed::Running(record) => self.running_state(name, record.pid),
            Observed::Gone { pid, status } => ServiceState::Failed {
                detail: describe_exit(pid, status),
            },
        }
    }

    fn alive(&self, name: ServiceName) -> Result<(), String> {
        match self.observe(name) {
            Observed::Running(_) => Ok(()),
            Observed::NoPidFile => Err(format!("{name} is not running (it was not started)")),
            Observed::Gone { pid, status } => {
                let log = self.log_file(name);
                let tail = read_tail(&log)
                    .map(|text| last_lines(&text, TAIL_LINES))
                    .unwrap_or_default();
                let tail = if tail.is_empty() {
                    format!("{} has no output", log.display())
                } else {
                    let indented: Vec<String> = tail.iter().map(|l| format!("  {l}")).collect();
                    format!("last log lines:\n{}", indented.join("\n"))
                };
                Err(format!("{name} {}; {tail}", describe_exit(pid, status)))
            }
        }
    }

    fn log_source(&self, name: ServiceName) -> LogSource {
        LogSource::File {
            path: self.log_file(name),
        }
    }

    fn uninstall(&self, name: ServiceName, purge: bool) -> Result<(), RunnerError> {
        if let Observed::Running(record) = self.observe(name) {
            return Err(RunnerError::StillRunning {
                name,
                pid: record.pid,
            });
        }
        self.children().remove(&name);
        self.remove_pid_file(name)?;
        if purge {
            remove_if_exists(&self.log_file(name))?;
        }
        Ok(())
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
        (None, None) => "is not running (its pid file is unreadable)".into(),
    }
}

/// (state, start time) from /proc/<pid>/stat.
/// Threads of `pid` still alive (0 once it is gone or reaped).
fn threads_left(pid: u32) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

fn read_stat(pid: u32) -> Option<(char, u64)> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The command name (field 2) is in parentheses and may contain spaces and parentheses itself,
/// so fields are counted after the last `)`: state is field 3, start time field 22.
fn parse_stat(text: &str) -> Option<(char, u64)> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let start_time = fields.get(22 - 3)?.parse().ok()?;
    Some((state, start_time))
}

fn read_cmdline(pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// The end of the log file (at most 64 KiB), enough for the last lines.
fn read_tail(path: &Path) -> io::Result<String> {
    let mut file = fs_err::File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The last `n` lines written since the last start marker: older runs are not this failure.
fn last_lines(text: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let since = lines
        .iter()
        .rposition(|l| l.starts_with(START_MARKER))
        .map_or(0, |i| i + 1);
    let current = &lines[since..];
    current[current.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// 0750: data and state are the service's business, not everyone's.
fn create_dir(path: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(path)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("failed to create directory `{}`: {e}", path.display()),
            )
        })
}

/// Write to a temp file then rename, so a reader never sees half a pid file.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("pid.tmp");
    fs_err::write(&tmp, text)?;
    fs_err::rename(&tmp, path)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs_err::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// `2025-01-31T12:34:56Z` (UTC), without a date crate.
fn utc_timestamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Days to civil date: Howard Hinnant's `civil_from_days`.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let text = "4242 (we ird) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(parse_stat(text), Some(('S', 98765)));
        assert_eq!(parse_stat("garbage"), None);
    }

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

    #[test]
    fn tail_only_covers_the_latest_run() {
        let text = format!("old\n{START_MARKER} x ----\na\nb\nc\n");
        assert_eq!(last_lines(&text, 2), vec!["b", "c"]);
        assert_eq!(last_lines(&text, 10), vec!["a", "b", "c"]);
        assert_eq!(last_lines("x\ny\n", 1), vec!["y"]);
    }

    #[test]
    fn timestamps_are_utc_rfc3339() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661); // leap day 2000
        assert_eq!(utc_timestamp(t), "2000-02-29T01:01:01Z");
    }

    /// Real processes: /bin/sh stands in for java, the main class is its `$0`, so it is an
    /// argument of the running process as `kafka.Kafka` is for the JVM.
    mod live {
        use super::*;
        use crate::spec::ServiceSpec;

        const MARKER: &str = "kafkup.test.Main";

        struct Env {
            _dir: tempfile::TempDir,
            runner: ProcessRunner,
            spec: ServiceSpec,
        }

        impl Env {
            fn new() -> Self {
                let dir = tempfile::tempdir().unwrap();
                let paths = Paths::under_root(dir.path());
                let data = paths.kafka_data();
                let spec = ServiceSpec {
                    name: ServiceName::Kafka,
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
                    requires: None,
                };
                Env {
                    runner: ProcessRunner::new(&paths),
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

            fn pid(&self) -> u32 {
                match self.runner.state(ServiceName::Kafka) {
                    ServiceState::Running { pid: Some(pid), .. } => pid,
                    other => panic!("not running: {other:?}"),
                }
            }

            fn log(&self) -> String {
                std::fs::read_to_string(self.runner.log_file(ServiceName::Kafka))
                    .unwrap_or_default()
            }

            /// Polls `f` for up to 5 s.
            fn eventually(&self, what: &str, f: impl Fn() -> bool) {
                let deadline = Instant::now() + Duration::from_secs(5);
                while !f() {
                    assert!(Instant::now() < deadline, "timed out waiting for {what}");
                    std::thread::sleep(POLL);
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

        #[test]
        fn starts_detached_with_pid_file_and_log_then_stops_gracefully() {
            let env = Env::new();
            env.launch("echo hi; echo err >&2; sleep 30");
            let pid = env.pid();

            let record = PidRecord::parse(
                &std::fs::read_to_string(env.runner.pid_file(ServiceName::Kafka)).unwrap(),
            )
            .unwrap();
            assert_eq!(record.pid, pid);
            assert_eq!(record.start_time, read_stat(pid).unwrap().1);
            assert_eq!(record.marker, MARKER);
            // Own session: it is the leader of its session and process group.
            let sid = nix::unistd::getsid(Some(Pid::from_raw(pid as i32))).unwrap();
            assert_eq!(sid.as_raw(), pid as i32);
            assert!(env.spec.data_dirs[0].is_dir());
            env.eventually("output in the log", || env.log().contains("err"));
            let log = env.log();
            assert!(log.starts_with(START_MARKER), "{log}");
            assert!(log.contains("hi\n"), "{log}");
            assert_eq!(env.runner.alive(ServiceName::Kafka), Ok(()));

            let outcome = env
                .runner
                .stop(ServiceName::Kafka, Duration::from_secs(5))
                .unwrap();
            assert_eq!(outcome, StopOutcome::Terminated);
            assert_eq!(env.runner.state(ServiceName::Kafka), ServiceState::Stopped);
            assert!(!env.runner.pid_file(ServiceName::Kafka).exists());
            assert_eq!(
                env.runner
                    .stop(ServiceName::Kafka, Duration::from_secs(1))
                    .unwrap(),
                StopOutcome::NotRunning
            );
        }

        #[test]
        fn starting_twice_keeps_the_same_process() {
            let env = Env::new();
            env.launch("sleep 30");
            let pid = env.pid();
            let again = env.launch("sleep 30");
            assert!(matches!(again, ServiceState::Running { pid: Some(p), .. } if p == pid));
            assert_eq!(env.log().matches(START_MARKER).count(), 1);
            env.runner
                .stop(ServiceName::Kafka, Duration::from_secs(5))
                .unwrap();
        }

        #[test]
        fn a_process_that_ignores_sigterm_is_killed_after_the_grace_period() {
            let env = Env::new();
            // `ready` tells us the trap is in place before we signal.
            env.launch("trap '' TERM; echo ready; while :; do sleep 0.1; done");
            env.eventually("the trap", || env.log().contains("ready"));
            let started = Instant::now();
            let outcome = env
                .runner
                .stop(ServiceName::Kafka, Duration::from_millis(300))
                .unwrap();
            assert_eq!(outcome, StopOutcome::Killed);
            assert!(started.elapsed() >= Duration::from_millis(300));
            assert_eq!(env.runner.state(ServiceName::Kafka), ServiceState::Stopped);
        }

        #[test]
        fn a_crash_is_reported_with_exit_status_and_log_tail() {
            let env = Env::new();
            env.launch("echo 'broker exploded' >&2; exit 3");
            env.eventually("the crash", || {
                env.runner.alive(ServiceName::Kafka).is_err()
            });
            let why = env.runner.alive(ServiceName::Kafka).unwrap_err();
            assert!(
                why.starts_with("kafka exited with status 3; last log lines:"),
                "{why}"
            );
            assert!(why.contains("broker exploded"), "{why}");
            assert!(matches!(
                env.runner.state(ServiceName::Kafka),
                ServiceState::Failed { .. }
            ));

            // A restart after the crash is a fresh process; stop then clears everything.
            env.launch("sleep 30");
            assert_eq!(env.runner.alive(ServiceName::Kafka), Ok(()));
            env.runner
                .stop(ServiceName::Kafka, Duration::from_secs(5))
                .unwrap();
            env.runner.uninstall(ServiceName::Kafka, true).unwrap();
            assert!(!env.runner.log_file(ServiceName::Kafka).exists());
        }

        #[test]
        fn a_recycled_pid_is_not_our_service() {
            let env = Env::new();
            env.launch("sleep 30");
            let pid = env.pid();
            // Same pid, different start time: what a pid file looks like after a reboot.
            let forged = PidRecord {
                pid,
                start_time: read_stat(pid).unwrap().1 + 1,
                marker: MARKER.into(),
            };
            let pid_file = env.runner.pid_file(ServiceName::Kafka);
            let real = std::fs::read_to_string(&pid_file).unwrap();
            std::fs::write(&pid_file, forged.render()).unwrap();
            assert!(matches!(
                env.runner.state(ServiceName::Kafka),
                ServiceState::Failed { .. }
            ));
            // Another program under our pid: wrong main class.
            let other = PidRecord {
                marker: "org.other.Main".into(),
                ..PidRecord::parse(&real).unwrap()
            };
            std::fs::write(&pid_file, other.render()).unwrap();
            assert!(!env.runner.state(ServiceName::Kafka).is_running());
            // Stop must not signal a stranger; it only removes the stale pid file.
            assert_eq!(
                env.runner
                    .stop(ServiceName::Kafka, Duration::from_secs(1))
                    .unwrap(),
                StopOutcome::NotRunning
            );
            assert!(!pid_file.exists());
            assert!(
                read_stat(pid).is_some_and(|(s, _)| s != 'Z'),
                "the process was left alone"
            );
        }

        #[test]
        fn uninstall_refuses_a_running_service() {
            let env = Env::new();
            env.launch("sleep 30");
            assert!(matches!(
                env.runner.uninstall(ServiceName::Kafka, false),
                Err(RunnerError::StillRunning { .. })
            ));
            env.runner
                .stop(ServiceName::Kafka, Duration::from_secs(5))
                .unwrap();
            env.runner.uninstall(ServiceName::Kafka, false).unwrap();
            assert!(
                env.runner.log_file(ServiceName::Kafka).exists(),
                "logs stay without purge"
            );
        }
    }
}
