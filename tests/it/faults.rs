//! Faults a user runs into, through the real binary on real ZooKeeper and Kafka: crashes,
//! lost data, failed first setups, odd paths, interruptions, closed pipes, and what kafkup
//! says about each. Each scenario is a function of a `TestEnv`, so that other runners can
//! run the same ones.

use crate::env::{
    kcat_consume_all, kcat_produce, kill_and_wait, lines, pid_alive, pid_of, port_open, signal,
    wait_exit, Lines, TestEnv,
};
use nix::sys::signal::Signal;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The broker's registration in ZooKeeper outlives a `kill -9`: the first `start` must wait
/// for it (or retry) instead of giving up, and every acknowledged message is still there.
pub fn start_right_after_a_broker_crash(env: &TestEnv) {
    env.setup("zookeeper", &["--no-selftest"]);
    let sent = lines("before-crash", 100);
    kcat_produce(&env.bootstrap(), "crash", &sent);
    kill_and_wait(pid_of(env, "kafka"), env.kafka_port);
    let log = env.root().join("state/logs/kafka.log");
    let before = std::fs::metadata(&log).unwrap().len() as usize;
    let began = Instant::now();
    let out = env.run(&["start"]);
    assert!(out.status.success(), "the first start after a crash works");
    let said = stderr_of(&out);
    // Whether the new broker met the dead one's registration is in its own log; kafkup must
    // say what it waits for exactly when it did (a broker slower than the 6 s session meets
    // none, and then nothing is waited for).
    let logged = std::fs::read(&log).unwrap();
    let logged = String::from_utf8_lossy(&logged[before.min(logged.len())..]).into_owned();
    let met = logged.contains("NodeExistsException") && logged.contains("/brokers/ids/");
    eprintln!(
        "start after the crash took {:.1} s; the old registration was met: {met}",
        began.elapsed().as_secs_f64()
    );
    let waits = "kafka stopped while starting: waiting for the dead broker's ZooKeeper session";
    assert_eq!(
        said.contains(waits),
        met,
        "says what it waits for, when it waits: {said}"
    );
    assert_eq!(kcat_consume_all(&env.bootstrap(), "crash"), sent);
}

#[test]
fn zookeeper_mode_start_right_after_a_broker_crash() {
    start_right_after_a_broker_crash(&TestEnv::new());
}

/// A data directory deleted under a running environment is named by setup, start and status,
/// and nothing is re-created or wiped.
pub fn a_lost_data_dir_is_named(env: &TestEnv, mode: &str, lost: &str) {
    env.setup(mode, &["--no-selftest"]);
    std::fs::remove_dir_all(env.root().join("data").join(lost)).unwrap();
    let out = env.run(&["setup", "--mode", mode, "--backend", "process"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    let what = if lost == "zookeeper" {
        "ZooKeeper's"
    } else {
        "Kafka's"
    };
    assert!(err.contains(&format!("{what} data in")), "{err}");
    assert!(err.contains("is gone"), "{err}");
    assert!(err.contains("teardown --purge"), "says what to do: {err}");
    let (code, status) = env.status_json();
    assert_ne!(code, 0);
    assert!(
        status["data_problem"]
            .as_str()
            .unwrap_or("")
            .contains("is gone"),
        "{status:#}"
    );
    env.ok(&["stop"]);
    let out = env.run(&["start"]);
    assert_eq!(out.status.code(), Some(1), "start refuses too");
    assert!(stderr_of(&out).contains("is gone"));
    assert!(
        !env.root().join("data").join(lost).exists(),
        "nothing was re-created"
    );
    if lost == "zookeeper" {
        let meta = env.root().join("data/kafka/meta.properties");
        assert!(meta.is_file(), "the broker's data was not touched");
    }
}

#[test]
fn a_lost_zookeeper_data_dir_is_named() {
    a_lost_data_dir_is_named(&TestEnv::new(), "zookeeper", "zookeeper");
}

#[test]
fn a_lost_kraft_data_dir_is_named() {
    a_lost_data_dir_is_named(&TestEnv::new(), "kraft", "kafka");
}

#[test]
fn a_failed_first_setup_leaves_nothing_installed() {
    let env = TestEnv::new();
    let out = env.run(&[
        "setup",
        "--mode",
        "zookeeper",
        "--backend",
        "process",
        "--zookeeper-version",
        "3.1.1",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a missing version is not a verification failure"
    );
    let err = stderr_of(&out);
    assert!(
        err.contains("zookeeper 3.1.1 was not found on any mirror"),
        "{err}"
    );
    assert!(err.contains("before installing anything"), "{err}");
    let installed: Vec<_> = std::fs::read_dir(env.root().join("install"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        installed.is_empty(),
        "nothing stays installed: {installed:?}"
    );
    env.ok(&["teardown", "--purge"]);
    let left: Vec<String> = std::fs::read_dir(env.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        ["cache"],
        "only the cache (with the verified Kafka) remains"
    );
}

#[test]
fn data_under_tmp_through_a_symlink_is_refused() {
    let env = TestEnv::new();
    let in_tmp = tempfile::tempdir_in("/tmp").unwrap();
    let root = env.root().join("link");
    std::os::unix::fs::symlink(in_tmp.path(), &root).unwrap();
    let out = env
        .kafkup(&["setup", "--mode", "kraft", "--backend", "process"])
        .arg("--root")
        .arg(&root)
        .output()
        .unwrap();
    let out = crate::env::echo(&["setup", "--root", "<link into /tmp>"], out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("which the system empties"));
    assert_eq!(
        std::fs::read_dir(in_tmp.path()).unwrap().count(),
        0,
        "nothing was written under /tmp"
    );
}

/// `setup --mode zookeeper --backend process --no-selftest`, its stderr read line by line.
fn spawn_setup(env: &TestEnv) -> (std::process::Child, Lines) {
    let args = [
        "setup",
        "--mode",
        "zookeeper",
        "--backend",
        "process",
        "--no-selftest",
    ];
    let mut child = env
        .command(&args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = Lines::new(child.stderr.take().unwrap());
    (child, stderr)
}

/// Ctrl-C (or SIGTERM) while setup waits for readiness stops what it started, and says so.
fn interrupted_setup_stops_what_it_started(signal_sent: Signal, named: &str) {
    let env = TestEnv::new();
    let (mut child, mut stderr) = spawn_setup(&env);
    stderr.wait_for("waiting for ", Duration::from_secs(120));
    signal(child.id(), signal_sent);
    let rest = stderr.rest(Duration::from_secs(60));
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "interrupted: {}", stderr.seen);
    assert!(
        rest.contains(&format!("setup was interrupted ({named})")),
        "{rest}"
    );
    assert!(rest.contains("stopped again"), "{rest}");
    for service in ["zookeeper", "kafka"] {
        let pid_file = env.root().join(format!("state/run/{service}.pid"));
        assert!(!pid_file.exists(), "{service} was stopped");
    }
    assert!(!port_open(env.kafka_port) && !port_open(env.zookeeper_port));
}

#[test]
fn ctrl_c_during_the_readiness_wait_stops_what_setup_started() {
    interrupted_setup_stops_what_it_started(Signal::SIGINT, "Ctrl-C");
}

#[test]
fn sigterm_during_the_readiness_wait_stops_what_setup_started() {
    interrupted_setup_stops_what_it_started(Signal::SIGTERM, "SIGTERM");
}

/// The pid in a process-runner pid file.
fn pid_in(env: &TestEnv, service: &str) -> u32 {
    let file = env.root().join(format!("state/run/{service}.pid"));
    let text = std::fs::read_to_string(&file).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

/// A second Ctrl-C while setup stops what it started leaves the services running and says so.
/// Once setup says it stops what it started, the broker is kept frozen (SIGSTOP, sent again
/// every millisecond: setup continues a paused node to stop it), so that stopping it surely
/// takes until the second Ctrl-C; ZooKeeper, which setup stops after the broker, was never
/// asked to stop and runs on.
#[test]
fn a_second_ctrl_c_leaves_the_services_running_and_says_so() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = TestEnv::new();
    let (mut child, mut stderr) = spawn_setup(&env);
    stderr.wait_for("waiting for ", Duration::from_secs(120));
    let (kafka, zookeeper) = (pid_in(&env, "kafka"), pid_in(&env, "zookeeper"));
    signal(child.id(), Signal::SIGINT);
    stderr.wait_for(
        "interrupt again to leave them running",
        Duration::from_secs(30),
    );
    let thaw = std::sync::Arc::new(AtomicBool::new(false));
    let freezer = {
        let thaw = thaw.clone();
        std::thread::spawn(move || {
            let pid = nix::unistd::Pid::from_raw(kafka as i32);
            while !thaw.load(Ordering::SeqCst) {
                let _ = nix::sys::signal::kill(pid, Signal::SIGSTOP);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    signal(child.id(), Signal::SIGINT);
    let rest = stderr.rest(Duration::from_secs(60));
    let status = wait_exit(&mut child, Duration::from_secs(10));
    thaw.store(true, Ordering::SeqCst);
    freezer.join().unwrap();
    // (gone already when setup's stop got as far as SIGKILL)
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(kafka as i32), Signal::SIGCONT);
    assert_eq!(status.code(), Some(130), "interrupted: {}", stderr.seen);
    // The broker reads as paused or running, as the freezer left it.
    assert!(
        rest.contains("zookeeper, kafka left running") || rest.contains("zookeeper left running"),
        "says what it left running: {rest}"
    );
    assert!(!rest.contains("stopped again"), "{rest}");
    assert!(pid_alive(zookeeper), "ZooKeeper runs on");
    let (_, status) = env.status_json();
    let zk = status["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "zookeeper")
        .unwrap();
    assert_eq!(zk["state"]["state"], "running", "{status:#}");
}

#[test]
fn a_closed_or_full_stdout_never_panics() {
    let env = TestEnv::new();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = env
        .command(&["setup", "--dry-run"])
        .stdout(writer)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a broken pipe is a quiet success: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = env
        .command(&["setup", "--dry-run"])
        .stdout(full)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// What setup suggests at the end runs as printed, `--root` included.
#[test]
fn the_closing_hint_runs_as_printed() {
    let env = TestEnv::new();
    let out = env.setup("kraft", &["--no-selftest"]);
    let hint = out
        .lines()
        .find_map(|l| l.strip_prefix("Try: "))
        .unwrap_or_else(|| panic!("setup ends with a hint: {out}"));
    assert!(hint.contains("--root"), "{hint}");
    let bin = assert_cmd::cargo::cargo_bin("kafkup");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut sh = std::process::Command::new("sh");
    sh.args(["-c", hint]).env("PATH", path);
    crate::env::scrub(&mut sh, std::env::vars_os());
    let ran = sh.output().unwrap();
    let ran = crate::env::echo(&["(the hint)", hint], ran);
    assert!(ran.status.success(), "the hint failed");
}

/// ZooKeeper logs its normal lines (the logback config it is given is well-formed).
#[test]
fn zookeeper_writes_its_normal_log() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    let log = env.ok(&["logs", "zookeeper", "-n", "400"]);
    assert!(!log.contains("SAXParseException"), "{log}");
    assert!(
        log.contains("binding to port"),
        "ZooKeeper's own start-up lines: {log}"
    );
}

#[test]
fn small_things_are_said_right() {
    let env = TestEnv::new();
    // A table in the config file is named as one.
    let config = env.root().join("k.toml");
    std::fs::write(&config, "mode = \"kraft\"\n[server]\nport = 1\n").unwrap();
    let out = env.run(&["--config", config.to_str().unwrap(), "setup", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("line 2, table `[server]`"));
    // An OS error is said once.
    let out = env.run(&["--config", "/nonexistent/k.toml", "setup", "--dry-run"]);
    assert_eq!(
        stderr_of(&out).matches("(os error 2)").count(),
        1,
        "{}",
        stderr_of(&out)
    );
    // teardown of a root that never existed creates nothing.
    let never = env.root().join("never");
    let out = env
        .kafkup(&["teardown"])
        .arg("--root")
        .arg(&never)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!never.exists(), "teardown created {}", never.display());
    // status --json of an empty root says so in JSON.
    let (code, status) = env.status_json();
    assert_ne!(code, 0);
    assert_eq!(status["environment"], false, "{status:#}");
    assert_eq!(status["root"].as_str(), env.root().to_str());
}

#[test]
fn status_and_start_agree_with_what_setup_did() {
    let env = TestEnv::new();
    env.setup("kraft", &[]);
    let (code, status) = env.status_json();
    assert_eq!(code, 0, "{status:#}");
    assert_eq!(status["root"].as_str(), env.root().to_str());
    let probe = status["services"][0]["probe"].as_str().unwrap();
    assert!(
        probe.contains("topic kafkup-health: 1 partition(s), all led"),
        "readiness includes the health topic right after setup: {probe}"
    );
    let out = env.run(&["start"]);
    assert!(out.status.success());
    let said = stderr_of(&out);
    assert!(said.contains("kafka was already running"), "{said}");
    assert!(!said.contains("kafka started"), "{said}");
}

/// No Java and apt at hand: setup stops and names `--install-java`; with it, setup installs
/// the JRE with apt-get and goes on. apt-get here is a stand-in on PATH that records what it
/// was asked and "installs" by linking the machine's real java (the tests reach no Debian
/// mirror); the real `apt-get` call is the same command line.
#[test]
fn a_missing_java_is_installed_only_when_asked() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "kafkup offers apt-get only to root; run the tests as root"
    );
    let env = TestEnv::new();
    let bin = env.root().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let asked = env.root().join("apt-get.log");
    let java = kafkup::java::locate(None).expect("the machine has Java");
    let fake = format!(
        "#!/bin/sh\necho \"$@\" >> {asked}\nif [ \"$1\" = install ]; then /bin/ln -s {java} {bin}/java; fi\n",
        asked = asked.display(),
        java = java.display(),
        bin = bin.display()
    );
    let apt = bin.join("apt-get");
    std::fs::write(&apt, fake).unwrap();
    std::fs::set_permissions(&apt, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let setup = |extra: &[&str]| {
        let mut args = vec![
            "setup",
            "--mode",
            "kraft",
            "--backend",
            "process",
            "--no-selftest",
        ];
        args.extend_from_slice(extra);
        let out = env
            .kafkup(&args)
            .env("PATH", &bin)
            .env_remove("JAVA_HOME")
            .output()
            .unwrap();
        crate::env::echo(&args, out)
    };
    let out = setup(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("pass --install-java"),
        "{}",
        stderr_of(&out)
    );
    assert!(!asked.exists(), "apt-get is never run without consent");
    let out = setup(&["--install-java"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let log = std::fs::read_to_string(&asked).unwrap();
    assert_eq!(
        log,
        "update -qq\ninstall -y -qq --no-install-recommends openjdk-17-jre-headless\n"
    );
}
