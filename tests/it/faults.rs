//! Faults a user runs into, through the real binary on real ZooKeeper and Kafka: crashes,
//! lost data, failed first setups, odd paths, interruptions, closed pipes, and what kafkup
//! says about each. Each scenario is a function of a `TestEnv`, so that other runners can
//! run the same ones.

use crate::env::{kcat_consume_all, kcat_produce, lines, pid_alive, pids, port_open, TestEnv};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn kill_and_wait(pid: u32, port: u16) {
    let pid_t = nix::unistd::Pid::from_raw(pid as i32);
    nix::sys::signal::kill(pid_t, nix::sys::signal::Signal::SIGKILL).unwrap();
    for _ in 0..200 {
        if !pid_alive(pid) && !port_open(port) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("pid {pid} did not go away");
}

fn pid_of(env: &TestEnv, name: &str) -> u32 {
    pids(&env.status_json().1)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} in status"))
        .1 as u32
}

/// The broker's registration in ZooKeeper outlives a `kill -9`: the first `start` must wait
/// for it (or retry) instead of giving up, and every acknowledged message is still there.
pub fn start_right_after_a_broker_crash(env: &TestEnv) {
    env.setup("zookeeper", &["--no-selftest"]);
    let sent = lines("before-crash", 100);
    kcat_produce(&env.bootstrap(), "crash", &sent);
    kill_and_wait(pid_of(env, "kafka"), env.kafka_port);
    let began = Instant::now();
    let out = env.run(&["start"]);
    assert!(out.status.success(), "the first start after a crash works");
    let said = stderr_of(&out);
    eprintln!(
        "start after the crash took {:.1} s; retried: {}",
        began.elapsed().as_secs_f64(),
        said.contains("stopped while starting")
    );
    assert!(
        said.contains("stopped while starting") || began.elapsed() >= Duration::from_secs(5),
        "a start that did not have to wait for the old session says so, or it waited: {said}"
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

/// Ctrl-C while setup waits for readiness stops what it started, and says so.
#[test]
fn ctrl_c_during_the_readiness_wait_stops_what_setup_started() {
    let env = TestEnv::new();
    let mut child = env
        .command(&[
            "setup",
            "--mode",
            "zookeeper",
            "--backend",
            "process",
            "--no-selftest",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut said = String::new();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(120);
    while !said.contains("waiting for ") {
        assert!(
            Instant::now() < deadline,
            "setup never started waiting: {said}"
        );
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("setup ended before waiting: {said}");
        }
        said.push_str(&line);
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    eprintln!("{said}{rest}");
    assert_eq!(status.code(), Some(130), "interrupted");
    assert!(rest.contains("stopped again"), "{rest}");
    for service in ["zookeeper", "kafka"] {
        let pid_file = env.root().join(format!("state/run/{service}.pid"));
        assert!(!pid_file.exists(), "{service} was stopped");
    }
    assert!(!port_open(env.kafka_port) && !port_open(env.zookeeper_port));
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
    let ran = std::process::Command::new("sh")
        .args(["-c", hint])
        .env("PATH", path)
        .env_remove("KAFKUP_ROOT")
        .output()
        .unwrap();
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
