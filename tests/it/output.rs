//! The output contract, through the real binary: `--json` gives every command with output a
//! JSON result on stdout, and every failure an error object there (stderr keeps the human
//! message); a broker that does not answer is said to within seconds.

use crate::env::{echo, free_port, TestEnv};
use serde_json::Value;
use std::process::Output;
use std::time::{Duration, Instant};

/// How long a command may take against a broker that is not there: kafkup's connect timeout
/// (5 s, README) and a little slack for a loaded machine.
const DOWN_BROKER_LIMIT: Duration = Duration::from_secs(9);

/// stdout as one JSON document.
fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {:?}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A failure under `--json`: the error object on stdout, the same message on stderr.
fn assert_error_object(out: &Output, code: i32) -> Value {
    assert_eq!(out.status.code(), Some(code));
    let object = json_of(out);
    assert_eq!(object["exit_code"], code, "{object}");
    let error = object["error"].as_str().expect("an error message");
    assert!(!error.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(error), "stderr says it too: {stderr}");
    object
}

#[test]
fn a_broker_that_is_not_there_is_said_to_within_seconds_with_an_error_object() {
    let env = TestEnv::new();
    let nobody = format!("127.0.0.1:{}", free_port());
    let b = ["--bootstrap-server", nobody.as_str()];
    // The self-test's own exit code says that it failed (5).
    let commands: Vec<(Vec<&str>, i32)> = vec![
        (vec!["produce", "t", "--value", "x"], 1),
        (vec!["consume", "t", "--timeout", "30"], 1),
        (vec!["topic", "list"], 1),
        (vec!["topic", "create", "t"], 1),
        (vec!["topic", "describe", "t"], 1),
        (vec!["selftest"], 5),
    ];
    for (command, code) in commands {
        let mut args = vec!["--json"];
        args.extend(&command);
        args.extend(b);
        let started = Instant::now();
        let out = env.run(&args);
        let took = started.elapsed();
        let object = assert_error_object(&out, code);
        assert!(
            took < DOWN_BROKER_LIMIT,
            "{command:?} took {took:?} against a broker that is not there"
        );
        assert!(object["help"].is_string(), "{command:?}: {object}");
    }
}

#[test]
fn usage_errors_and_missing_environments_give_an_error_object_too() {
    let env = TestEnv::new();
    let out = env.run(&["--json", "setup", "--mode", "nonsense"]);
    let object = assert_error_object(&out, 2);
    assert!(
        object["error"].as_str().unwrap().contains("nonsense"),
        "{object}"
    );
    // No environment here: start, stop, restart and teardown answer in JSON too.
    for command in ["start", "stop", "restart", "probe"] {
        let out = env.run(&["--json", command]);
        assert_error_object(&out, 1);
    }
    let out = env.run(&["--json", "teardown"]);
    assert!(out.status.success());
    assert_eq!(json_of(&out)["torn_down"], false);
    // --help is not an error, and not JSON.
    let out = env.run(&["--json", "--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
}

#[test]
fn start_stop_restart_and_teardown_answer_in_json() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);

    let out = env.run(&["--json", "stop"]);
    assert!(out.status.success());
    let stopped = json_of(&out);
    assert_eq!(stopped["stopped"][0]["service"], "kafka", "{stopped}");
    assert_eq!(stopped["stopped"][0]["outcome"], "terminated", "{stopped}");

    // `status --json` that is not all ready prints its status, and nothing more.
    let (code, status) = env.status_json();
    assert_eq!(code, 4);
    assert_eq!(status["all_ready"], false);

    let out = env.run(&["--json", "start"]);
    assert!(out.status.success());
    let started = json_of(&out);
    assert_eq!(started["ready"], serde_json::json!(["kafka"]), "{started}");
    assert!(started["probes"].as_array().is_some_and(|p| !p.is_empty()));

    let out = env.run(&["--json", "restart"]);
    assert!(out.status.success());
    let restarted = json_of(&out);
    assert_eq!(restarted["stopped"][0]["outcome"], "terminated");
    assert_eq!(restarted["ready"], serde_json::json!(["kafka"]));

    // A failure after the environment exists: an unknown service is a usage error.
    let out = env.run(&["--json", "stop", "nosuch"]);
    assert_error_object(&out, 2);

    let out = env.run(&["--json", "teardown"]);
    assert!(out.status.success());
    let torn = json_of(&out);
    assert_eq!(torn["torn_down"], true, "{torn}");
    assert_eq!(torn["purged"], false);
    assert!(torn["data_kept"].as_str().is_some());
    let out = echo(
        &["--json", "teardown", "--purge"],
        env.kafkup(&["--json", "teardown", "--purge"])
            .output()
            .unwrap(),
    );
    assert!(out.status.success());
    assert_eq!(json_of(&out)["purged"], true);
}
