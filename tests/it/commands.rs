//! The README's commands on a running environment, each through the real binary against a real
//! broker (process runner): probe, selftest, topic, restart, logs -f, the waits of setup, start
//! and probe, `--templates`, `--controller-port`, and setup's exit codes 4 and 5.

use crate::env::{kcat_consume_all, pid_of, port_open, wait_exit, Lines, TestEnv};
use serde_json::Value;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A copy of kafkup's templates with `extra` appended to server.properties.j2.
fn templates_with(env: &TestEnv, name: &str, extra: &str) -> PathBuf {
    let dir = env.root().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let ours = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for entry in std::fs::read_dir(ours).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let server = dir.join("server.properties.j2");
    let mut text = std::fs::read_to_string(&server).unwrap();
    text.push_str(&format!("\n# added by the test\n{extra}\n"));
    std::fs::write(&server, text).unwrap();
    dir
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// `kafkup --json ARGS`, which must succeed; its JSON.
fn json_ok(env: &TestEnv, args: &[&str]) -> Value {
    let args = [&["--json"][..], args].concat();
    let out = env.run(&args);
    assert!(out.status.success(), "kafkup {} failed", args.join(" "));
    json_of(&out)
}

/// `kafkup logs SERVICE -f` on `env` shows a line the service writes after it started (the
/// broker's own lines about a topic `trigger` creates), and Ctrl-C — SIGINT to its process
/// group, as a terminal sends it — ends it, leaving no process of its group behind.
pub fn logs_follow_sees_new_lines(env: &TestEnv, create_topic: impl FnOnce(&str)) {
    let mut command = env.command(&["logs", "kafka", "-f", "-n", "3"]);
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    // As on a terminal: Ctrl-C's default action, even where the suite itself was started in
    // the background of a shell (which ignores SIGINT for its background jobs).
    unsafe {
        command.pre_exec(|| {
            use nix::sys::signal::{signal, SigHandler, Signal};
            signal(Signal::SIGINT, SigHandler::SigDfl)
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    let mut child = command.spawn().unwrap();
    let mut out = Lines::new(child.stdout.take().unwrap());
    // The last lines come first: from then on it follows.
    out.wait_for("", Duration::from_secs(30));
    let topic = format!("follow-{}", std::process::id());
    create_topic(&topic);
    out.wait_for(&topic, Duration::from_secs(60));
    let group = nix::unistd::Pid::from_raw(-(child.id() as i32));
    nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(
        status.code() == Some(130) || status.signal() == Some(libc_sigint()),
        "Ctrl-C ended it: {status:?}"
    );
    let left = nix::sys::signal::kill(group, None).is_ok();
    assert!(!left, "a process of `logs -f` outlived Ctrl-C");
}

fn libc_sigint() -> i32 {
    nix::sys::signal::Signal::SIGINT as i32
}

/// One KRaft environment, every command on it: `--controller-port` and `--templates` at setup,
/// then probe, selftest, topic, logs -f, restart, stop, and `start --wait` with `probe --wait`.
#[test]
fn every_command_on_a_running_kraft_environment() {
    let env = TestEnv::new();
    let controller = crate::env::free_port();
    // A broker default whose effect is visible: topics it creates on first use get 3 partitions.
    let templates = templates_with(&env, "templates", "num.partitions=3");
    let (controller_flag, templates_flag) = (controller.to_string(), templates.to_str().unwrap());
    env.setup(
        "kraft",
        &[
            "--controller-port",
            &controller_flag,
            "--templates",
            templates_flag,
            "--wait",
            "120",
        ],
    );
    // The flag beats KAFKUP_CONTROLLER_PORT (the env's own port), and the controller is there.
    let props = std::fs::read_to_string(env.root().join("config/kafka/server.properties")).unwrap();
    assert!(
        props.contains(&format!("CONTROLLER://127.0.0.1:{controller}")),
        "{props}"
    );
    assert!(
        props.contains("\nnum.partitions=3\n"),
        "the override was rendered: {props}"
    );
    assert!(
        port_open(controller),
        "the controller listens on --controller-port"
    );
    assert!(!port_open(env.controller_port));

    let probe = env.run(&["probe"]);
    assert_eq!(probe.status.code(), Some(0));
    let said = String::from_utf8_lossy(&probe.stdout);
    assert!(
        said.contains("ok  ") && said.contains("broker 1 listed"),
        "{said}"
    );
    let selftest = env.ok(&["selftest", "--messages", "30"]);
    assert!(
        selftest.contains("30 messages") && selftest.contains("round-tripped"),
        "{selftest}"
    );

    topic_admin_through_the_cli(&env);
    env.ok(&["produce", "made-on-first-use", "--value", "первое"]);
    let described = json_ok(&env, &["topic", "describe", "made-on-first-use"]);
    assert_eq!(
        described["partitions"].as_array().unwrap().len(),
        3,
        "{described:#}"
    );

    logs_follow_sees_new_lines(&env, |topic| {
        env.ok(&["topic", "create", topic]);
    });

    let before = pid_of(&env, "kafka");
    env.ok(&["restart", "kafka"]);
    assert_ne!(
        pid_of(&env, "kafka"),
        before,
        "restart started a new broker"
    );
    assert_eq!(env.run(&["probe"]).status.code(), Some(0));
    assert_eq!(
        kcat_consume_all(&env.bootstrap(), "made-on-first-use"),
        ["первое"]
    );

    env.ok(&["stop"]);
    let out = env.run(&["probe"]);
    assert_eq!(out.status.code(), Some(4), "a stopped service: not ready");
    probe_waits_for_a_starting_broker(&env);
}

/// `start --wait 0` returns (4) while the broker is still starting; a `probe --wait` begun
/// then returns 0 once it is ready: it waited.
fn probe_waits_for_a_starting_broker(env: &TestEnv) {
    let out = env.run(&["start", "--wait", "0"]);
    assert_eq!(out.status.code(), Some(4), "not ready within 0 s");
    assert!(!port_open(env.kafka_port), "the broker is still starting");
    let began = Instant::now();
    let out = env.run(&["probe", "--wait", "120"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "probe --wait returns once ready"
    );
    eprintln!("probe --wait waited {:.1} s", began.elapsed().as_secs_f64());
    assert!(port_open(env.kafka_port));
    let out = env.run(&["start", "--wait", "60"]);
    assert!(out.status.success(), "start --wait on a ready broker");
}

/// `topic create|list|describe|delete`, with `--json`, through the CLI.
fn topic_admin_through_the_cli(env: &TestEnv) {
    let created = json_ok(env, &["topic", "create", "orders", "--partitions", "2"]);
    assert_eq!(created["created"], "orders", "{created}");
    assert_eq!(created["partitions"], 2, "{created}");
    let again = env.run(&["topic", "create", "orders"]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing topic is an error"
    );
    let listed = json_ok(env, &["topic", "list"]);
    assert!(
        listed.as_array().unwrap().iter().any(|t| t == "orders"),
        "{listed}"
    );
    let described = json_ok(env, &["topic", "describe", "orders"]);
    let partitions = described["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 2, "{described:#}");
    for p in partitions {
        assert_eq!(p["leader"], 1, "{described:#}");
    }
    let human = env.ok(&["topic", "describe", "orders"]);
    assert!(human.starts_with("Topic: orders\tPartitions: 2"), "{human}");
    let deleted = json_ok(env, &["topic", "delete", "orders"]);
    assert_eq!(deleted["deleted"], "orders", "{deleted}");
    let listed = json_ok(env, &["topic", "list"]);
    assert!(
        !listed.as_array().unwrap().iter().any(|t| t == "orders"),
        "{listed}"
    );
    let gone = env.run(&["topic", "delete", "orders"]);
    assert_eq!(
        gone.status.code(),
        Some(1),
        "deleting a missing topic is an error"
    );
}

/// `setup --wait` shorter than the start: exit 4; a broker that refuses every message (from a
/// template override): exit 5; the plain setup then: 0.
#[test]
fn setup_exits_4_when_not_ready_and_5_when_the_self_test_fails() {
    let env = TestEnv::new();
    let args = ["setup", "--mode", "kraft", "--backend", "process"];
    let out = env.run(&[&args[..], &["--wait", "1"]].concat());
    assert_eq!(out.status.code(), Some(4), "not ready within 1 s");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("help:"), "{err}");

    let refusing = templates_with(&env, "refusing", "message.max.bytes=1");
    let out = env.run(&[&args[..], &["--templates", refusing.to_str().unwrap()]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "the self-test failed: {err}");
    // The self-test's first message is refused: the broker's own words.
    assert!(
        err.contains("message 0 of 100 was not acknowledged"),
        "{err}"
    );
    assert!(err.contains("Message size too large"), "{err}");

    // Templates are a setting the environment keeps: a plain setup would
    // reuse the refusing ones, so the fix is another templates directory.
    let fixed = templates_with(&env, "fixed", "# nothing refused");
    env.setup("kraft", &["--templates", fixed.to_str().unwrap()]);
}
