//! `TestEnv`: a temporary kafkup root, free ports and the fixture mirror, driving the real binary.

use assert_cmd::Command;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The fixture tarballs built by `fixtures/build.sh` (see scripts/test.sh).
pub fn fixtures_dir() -> PathBuf {
    let dir = std::env::var_os("KAFKUP_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/out"));
    assert!(
        dir.join("mirror/kafka/KEYS").is_file(),
        "fixtures missing in {}: run ./fixtures/build.sh (scripts/test.sh does)",
        dir.display()
    );
    dir
}

/// Held by a test that runs a ZooKeeper ensemble: its quorum and election ports (2888/3888 and
/// up) are the same for every ensemble on this host, so two such tests never run at once.
pub fn one_ensemble_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ENSEMBLE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ENSEMBLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The first of `n` consecutive ports [`free_port`] gave out together.
pub fn free_ports(n: u16) -> u16 {
    loop {
        let first = free_port();
        if (1..n).all(|i| free_port() == first + i) {
            return first;
        }
    }
}

/// A port nobody uses right now, below the ephemeral range (32768+) so that client
/// connections of parallel tests can never take it between the pick and the service's bind.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = 20000 + (std::process::id() % 400) as u16 * 25;
    let _ = NEXT.compare_exchange(0, start, Ordering::SeqCst, Ordering::SeqCst);
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(port < 32000, "no free test port left");
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("0.0.0.0", port)).is_ok()
        {
            return port;
        }
    }
}

pub struct TestEnv {
    pub root: tempfile::TempDir,
    pub mirror: String,
    pub kafka_port: u16,
    pub zookeeper_port: u16,
    pub controller_port: u16,
}

impl TestEnv {
    pub fn new() -> Self {
        let mirror = format!("file://{}/mirror", fixtures_dir().display());
        TestEnv {
            // Not under /tmp: kafkup refuses to keep data where the system empties it.
            root: tempfile::Builder::new()
                .prefix("kafkup-it-")
                .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
                .unwrap(),
            mirror,
            kafka_port: free_port(),
            zookeeper_port: free_port(),
            controller_port: free_port(),
        }
    }

    /// An environment for a cluster of up to 4 brokers: its brokers' and controllers' ports
    /// are consecutive blocks nobody uses.
    pub fn cluster() -> Self {
        let mut env = TestEnv::new();
        let base = free_ports(12);
        env.kafka_port = base;
        env.controller_port = base + 4;
        env.zookeeper_port = base + 8;
        env
    }

    /// The bootstrap list of a cluster of `brokers` brokers.
    pub fn brokers(&self, brokers: u16) -> Vec<String> {
        (0..brokers)
            .map(|i| format!("127.0.0.1:{}", self.kafka_port + i))
            .collect()
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.kafka_port)
    }

    /// `kafkup --root <root> ARGS` with the fixture mirror and this env's ports, as a plain
    /// process (for tests that need its pipes or signals).
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("kafkup"));
        cmd.arg("--root")
            .arg(self.root())
            .args(args)
            .env("KAFKUP_MIRROR", &self.mirror)
            .env("KAFKUP_DIST", &self.mirror)
            .env("KAFKUP_KAFKA_PORT", self.kafka_port.to_string())
            .env("KAFKUP_ZOOKEEPER_PORT", self.zookeeper_port.to_string())
            .env("KAFKUP_CONTROLLER_PORT", self.controller_port.to_string());
        scrub(&mut cmd, std::env::vars_os());
        cmd
    }

    /// [`TestEnv::command`] with a timeout, so that no test hangs.
    pub fn kafkup(&self, args: &[&str]) -> Command {
        let mut cmd = Command::from_std(self.command(args));
        cmd.timeout(std::time::Duration::from_secs(300));
        cmd
    }

    /// Runs kafkup and returns its output, printing it on failure for the test log.
    pub fn run(&self, args: &[&str]) -> Output {
        echo(args, self.kafkup(args).output().unwrap())
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "kafkup {} failed", args.join(" "));
        String::from_utf8(out.stdout).unwrap()
    }

    /// `kafkup setup --mode MODE --backend process EXTRA…`, which must succeed.
    pub fn setup(&self, mode: &str, extra: &[&str]) -> String {
        let mut args = vec!["setup", "--mode", mode, "--backend", "process"];
        args.extend_from_slice(extra);
        self.ok(&args)
    }

    /// `render --backend BACKEND` beside this environment's install (see
    /// [`assert_render_is_the_install`]); `extra` are the setup flags it was made with.
    pub fn assert_render_is_the_install(&self, backend: &str, extra: &[&str]) {
        let out = self.root().join("rendered");
        let mut args = vec![
            "--json",
            "render",
            "--backend",
            backend,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let rendered: serde_json::Value = serde_json::from_str(&self.ok(&args)).unwrap();
        let manifest = std::fs::read_to_string(self.root().join("state/manifest.json")).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_render_is_the_install(&rendered, &manifest, &read);
        std::fs::remove_dir_all(out).unwrap();
    }

    pub fn status_json(&self) -> (i32, serde_json::Value) {
        let out = self.run(&["status", "--json"]);
        let value = serde_json::from_slice(&out.stdout).expect("status --json prints JSON");
        (out.status.code().unwrap(), value)
    }
}

/// Removes from `cmd` every variable of `inherited` that could steer kafkup away from what the
/// test set: every `KAFKUP_*` (a developer's `KAFKUP_MAVEN_REPO` would send a test to a public
/// repository) and Docker's own, except the ones `cmd` sets itself.
pub fn scrub(
    cmd: &mut std::process::Command,
    inherited: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) {
    const DOCKER: [&str; 4] = [
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_CONFIG",
        "DOCKER_CERT_PATH",
    ];
    let set: Vec<std::ffi::OsString> = cmd
        .get_envs()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.to_owned())
        .collect();
    for (name, _) in inherited {
        let text = name.to_string_lossy();
        let leaky = text.starts_with("KAFKUP_") || DOCKER.contains(&text.as_ref());
        if leaky && !set.contains(&name) {
            cmd.env_remove(&name);
        }
    }
}

impl Drop for TestEnv {
    /// Never leave services behind, whatever the test did.
    fn drop(&mut self) {
        let _ = self
            .kafkup(&["teardown", "--purge", "-q"])
            .timeout(std::time::Duration::from_secs(90))
            .output();
    }
}

/// `render --backend B --json`'s listing (`[{"file", "installs_to"}]`) against what setup
/// installed with that runner: the same files as the manifest lists, and each with the same
/// contents. `read` gives a file's contents (or a digest of them) wherever it lives.
pub fn assert_render_is_the_install(
    rendered: &serde_json::Value,
    manifest: &serde_json::Value,
    read: &dyn Fn(&str) -> String,
) {
    let pairs: Vec<(&str, &str)> = rendered
        .as_array()
        .expect("render --json lists its files")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["installs_to"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(!pairs.is_empty(), "render wrote nothing");
    let mut targets: Vec<&str> = pairs.iter().map(|(_, target)| *target).collect();
    let mut installed: Vec<&str> = manifest["files"]
        .as_array()
        .expect("the manifest lists its files")
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    targets.sort();
    installed.sort();
    assert_eq!(
        targets, installed,
        "render writes the files setup installed"
    );
    for (file, target) in pairs {
        assert_eq!(
            read(file),
            read(target),
            "{file} is what setup wrote to {target}"
        );
    }
}

/// Prints a kafkup run to the test log (shown when the test fails) and hands it back.
pub fn echo(args: &[&str], out: Output) -> Output {
    eprintln!(
        "$ kafkup {} -> {}\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Produces lines with kcat (an independent client), acks=all.
pub fn kcat_produce(bootstrap: &str, topic: &str, lines: &[String]) {
    use std::io::Write;
    let mut child = std::process::Command::new("kcat")
        .args([
            "-b",
            bootstrap,
            "-P",
            "-t",
            topic,
            "-X",
            "acks=all",
            "-X",
            "enable.idempotence=true",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("kcat is installed (scripts/test.sh installs it)");
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "kcat produce failed");
}

/// Reads a whole topic from the beginning with kcat and returns the values.
pub fn kcat_consume_all(bootstrap: &str, topic: &str) -> Vec<String> {
    let out = std::process::Command::new("timeout")
        .args([
            "60",
            "kcat",
            "-b",
            bootstrap,
            "-C",
            "-t",
            topic,
            "-o",
            "beginning",
            "-e",
            "-q",
        ])
        .output()
        .unwrap();
    kcat_lines(out)
}

/// The values a `kcat -C` printed, one a line; its error when it failed.
pub fn kcat_lines(out: Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "kcat consume failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Whether anything accepts connections on 127.0.0.1:port.
pub fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Alive and not a zombie (PID 1 in these sandboxes may not reap orphans).
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .map(|(_, rest)| !rest.starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Each service's name and pid from `status --json`; a running service must have a pid.
pub fn pids(status: &serde_json::Value) -> Vec<(String, u64)> {
    status["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["state"]["pid"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("a running service has a pid: {s}")),
            )
        })
        .collect()
}

pub fn lines(prefix: &str, n: usize) -> Vec<String> {
    // Cyrillic on purpose: the guide's own text; bytes must survive unchanged.
    (0..n)
        .map(|i| format!("{prefix}-{i} сообщение {i}"))
        .collect()
}

/// The lines of a child's pipe, read on a thread of their own, so that every wait for one has
/// a time limit (a blocking `read_line` would hang the test with the child).
pub struct Lines {
    rx: std::sync::mpsc::Receiver<String>,
    /// Everything read so far, for the failure message and the caller.
    pub seen: String,
}

impl Lines {
    pub fn new(pipe: impl std::io::Read + Send + 'static) -> Lines {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: String::new(),
        }
    }

    /// The next line within `limit`: `Ok(None)` when the pipe closed, `Err` on the deadline.
    fn next_within(&mut self, limit: std::time::Duration) -> Result<Option<String>, ()> {
        use std::sync::mpsc::RecvTimeoutError;
        match self.rx.recv_timeout(limit) {
            Ok(line) => {
                self.seen.push_str(&line);
                self.seen.push('\n');
                Ok(Some(line))
            }
            Err(RecvTimeoutError::Disconnected) => Ok(None),
            Err(RecvTimeoutError::Timeout) => Err(()),
        }
    }

    /// Waits at most `limit` for a line that contains `text` and returns it; fails the test,
    /// with what was read, when the pipe closes first or time runs out.
    pub fn wait_for(&mut self, text: &str, limit: std::time::Duration) -> String {
        let until = std::time::Instant::now() + limit;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match self.next_within(left) {
                Ok(Some(line)) if line.contains(text) => return line,
                Ok(Some(_)) => {}
                Ok(None) => panic!(
                    "the pipe closed before a line with {text:?}:\n{}",
                    self.seen
                ),
                Err(()) => panic!("no line with {text:?} within {limit:?}:\n{}", self.seen),
            }
        }
    }

    /// Everything until the pipe closes; fails the test when it is still open after `limit`.
    pub fn rest(&mut self, limit: std::time::Duration) -> String {
        let until = std::time::Instant::now() + limit;
        let start = self.seen.len();
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match self.next_within(left) {
                Ok(Some(_)) => {}
                Ok(None) => return self.seen[start..].to_string(),
                Err(()) => panic!("the pipe is still open after {limit:?}:\n{}", self.seen),
            }
        }
    }
}

/// Sends `signal` to a process.
pub fn signal(pid: u32, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal).unwrap();
}

/// Waits for a child to exit, at most `limit`; fails the test otherwise.
pub fn wait_exit(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> std::process::ExitStatus {
    let until = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < until,
            "still running after {limit:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// SIGKILLs `pid` and waits (at most 10 s) until it is gone and `port` closed; fails the test
/// otherwise.
pub fn kill_and_wait(pid: u32, port: u16) {
    signal(pid, nix::sys::signal::Signal::SIGKILL);
    for _ in 0..200 {
        if !pid_alive(pid) && !port_open(port) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("pid {pid} did not go away, or port {port} stayed open");
}

/// Each service's pid from `status --json`, by name.
pub fn pid_of(env: &TestEnv, name: &str) -> u32 {
    pids(&env.status_json().1)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} in status"))
        .1 as u32
}

/// What a command said: its stdout, then its stderr.
pub fn output_text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}
