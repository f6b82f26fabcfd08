//! Small things said right, through the real binary: a full disk while fetching, a stopped
//! broker while probing, a start that fails with an exception, a second Ctrl-C, a dangling
//! `--root` link, a version without a Maven lock.

use crate::env::{fixtures_dir, port_open, TestEnv};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A small tmpfs mounted for one test (root only), unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "kafkup-it-full",
            ])
            .arg(at)
            .output()
            .unwrap();
        assert!(out.status.success(), "mounting a tmpfs needs root: {out:?}");
        SmallDisk(at.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("--lazy").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_while_fetching_says_so_and_nothing_stays_installed() {
    let env = TestEnv::new();
    let root = env.root().join("small");
    let _disk = SmallDisk::mount(&root, "48m");
    let fixtures = fixtures_dir();
    let repo = format!("file://{}/maven-repo", fixtures.display());
    let locks = fixtures.join("maven-locks");
    let out = env
        .kafkup(&["setup", "--mode", "zookeeper", "--backend", "process"])
        .args([
            "--source",
            "maven",
            "--maven-repo",
            &repo,
            "--maven-lock-dir",
        ])
        .arg(&locks)
        .arg("--root")
        .arg(&root)
        .output()
        .unwrap();
    let out = crate::env::echo(&["setup", "--source", "maven", "<48 MB disk>"], out);
    assert_eq!(out.status.code(), Some(1));
    let said = stderr_of(&out);
    assert!(!said.contains("directory you can write to"), "{said}");
    assert!(said.contains("is full"), "{said}");
    // ZooKeeper's 18 MB fit, Kafka's 46 MB do not: what was said installed was taken out
    // again before setup said it installed nothing.
    let installed: Vec<&str> = said
        .lines()
        .filter(|l| l.contains(": installed in"))
        .collect();
    assert!(!installed.is_empty(), "one distribution fit: {said}");
    for line in installed {
        let dist = line
            .split(':')
            .next()
            .unwrap()
            .trim_start_matches('·')
            .trim();
        let undone = format!("{dist}: taken out of");
        assert!(
            said.contains(&undone),
            "{dist} said installed, never taken out: {said}"
        );
    }
    let install = root.join("install");
    let left: Vec<_> = std::fs::read_dir(&install)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing stays installed: {left:?}");
}

#[test]
fn a_stopped_broker_is_named_and_a_failed_start_shows_its_exception() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    env.ok(&["stop", "kafka"]);
    let started = Instant::now();
    let out = env.run(&["probe", "--wait", "60"]);
    assert_eq!(out.status.code(), Some(4));
    let said = stderr_of(&out);
    assert!(said.contains("kafka is not running"), "{said}");
    assert!(
        !said.contains("gave up waiting for ZooKeeper"),
        "not to blame: {said}"
    );
    assert!(said.contains("kafkup start kafka"), "{said}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a stopped broker is not waited for"
    );

    // A broker that cannot start: the exception that says why is in what start shows,
    // however many stack frames follow it.
    let props = env.root().join("config/kafka/server.properties");
    let mut text = std::fs::read_to_string(&props).unwrap();
    // Its ConfigException is followed by more stack frames than a tail shows.
    text.push_str("\nnum.network.threads=many\n");
    std::fs::write(&props, text).unwrap();
    let out = env.run(&["start", "kafka", "--wait", "60"]);
    assert_eq!(out.status.code(), Some(4));
    let said = stderr_of(&out);
    let shown = said.split("last log lines:").nth(1).expect(&said);
    assert!(
        shown.contains("\tat ") || shown.contains("  at "),
        "frames are shown: {said}"
    );
    assert!(
        shown.contains("ConfigException: Invalid value many"),
        "the exception line is shown too: {said}"
    );
}

/// Reads `child`'s stderr until a line contains `what`; everything read so far.
fn read_until(stderr: &mut impl BufRead, said: &mut String, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !said.lines().any(|l| l.contains(what)) {
        assert!(Instant::now() < deadline, "never said {what:?}: {said}");
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("ended before saying {what:?}: {said}");
        }
        said.push_str(&line);
    }
}

#[test]
fn a_second_ctrl_c_names_only_what_it_left_running() {
    let env = TestEnv::new();
    let mut child = env
        .command(&["setup", "--mode", "zookeeper", "--backend", "process"])
        .arg("--no-selftest")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let int = || nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    read_until(&mut stderr, &mut said, "kafka started");
    int();
    // The broker goes first; interrupted while ZooKeeper stops, setup leaves only it.
    read_until(&mut stderr, &mut said, "kafka stopped");
    int();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    eprintln!("{said}{rest}");
    assert_eq!(status.code(), Some(130));
    assert!(!port_open(env.kafka_port), "kafka was stopped");
    assert!(!rest.contains("kafka left running"), "{rest}");
    if port_open(env.zookeeper_port) {
        assert!(rest.contains("zookeeper left running"), "{rest}");
    }
}

#[test]
fn a_dangling_root_link_is_followed_by_the_dry_run_and_the_real_run_alike() {
    let env = TestEnv::new();
    // Into /tmp, to a directory that does not exist yet: refused, both ways.
    let in_tmp = PathBuf::from(format!("/tmp/kafkup-it-dangling-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&in_tmp);
    let link = env.root().join("link");
    std::os::unix::fs::symlink(&in_tmp, &link).unwrap();
    for dry_run in [true, false] {
        let mut cmd = env.kafkup(&["setup", "--mode", "kraft", "--backend", "process"]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        let out = cmd.arg("--root").arg(&link).output().unwrap();
        let out = crate::env::echo(&["setup", "--root", "<dangling link into /tmp>"], out);
        assert_eq!(out.status.code(), Some(1), "dry run: {dry_run}");
        assert!(
            stderr_of(&out).contains("which the system empties"),
            "dry run: {dry_run}"
        );
        assert!(!in_tmp.exists(), "nothing was made under /tmp");
    }
    // Elsewhere: what the link points to is made, and used.
    let target = env.root().join("made-through-the-link");
    let link = env.root().join("link2");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = env
        .kafkup(&["fetch", "--mode", "kraft"])
        .arg("--root")
        .arg(&link)
        .output()
        .unwrap();
    assert!(
        crate::env::echo(&["fetch", "--root", "<dangling link>"], out)
            .status
            .success()
    );
    assert!(target.join("install").is_dir());
}

#[test]
fn a_version_without_a_maven_lock_fails_the_dry_run_as_the_real_run() {
    let env = TestEnv::new();
    for dry_run in [true, false] {
        let mut args = vec!["setup", "--mode", "kraft", "--backend", "process"];
        args.extend(["--source", "maven", "--kafka-version", "4.2.0"]);
        // Never asked: the lock is missing before any download.
        args.extend(["--maven-repo", "http://127.0.0.1:9/maven2"]);
        if dry_run {
            args.push("--dry-run");
        }
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(2), "dry run: {dry_run}");
        assert!(
            stderr_of(&out).contains("--source apache"),
            "dry run: {dry_run}"
        );
        assert!(!env.root().join("install").exists());
    }
}
