//! Declared topics (`--topic NAME[:PARTITIONS[:REPLICATION]]`) through the real binary on a
//! real broker, read back with kcat (an independent client): created, raised after a dry run
//! shows it, refused where Kafka cannot, and a topic nobody declared is never deleted.

use crate::env::TestEnv;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// How many partitions kcat sees for `topic`; None when the broker does not list it. All
/// topics are listed: asking for one by name could make the broker create it.
fn partitions(bootstrap: &str, topic: &str) -> Option<u32> {
    let out = std::process::Command::new("timeout")
        .args(["30", "kcat", "-b", bootstrap, "-L"])
        .output()
        .unwrap();
    assert!(out.status.success(), "kcat -L failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let head = format!("topic \"{topic}\" with ");
    let line = text.lines().find(|l| l.trim_start().starts_with(&head))?;
    let rest = &line.trim_start()[head.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

fn setup_with(env: &TestEnv, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["setup", "--mode", "kraft", "--backend", "process"];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[test]
fn declared_topics_are_created_raised_refused_and_never_deleted() {
    let env = TestEnv::new();
    let bootstrap = env.bootstrap();
    env.setup("kraft", &["--no-selftest", "--topic", "demo:3"]);
    assert_eq!(partitions(&bootstrap, "demo"), Some(3), "created");
    env.ok(&["topic", "create", "other", "--partitions", "2"]);

    let dry = setup_with(&env, &["--dry-run", "--topic", "demo:5"]);
    assert!(dry.status.success(), "{}", stderr_of(&dry));
    let plan = String::from_utf8_lossy(&dry.stdout);
    assert!(
        plan.contains("raise     topic demo from 3 to 5 partitions"),
        "{plan}"
    );
    assert_eq!(
        partitions(&bootstrap, "demo"),
        Some(3),
        "a dry run changes nothing"
    );
    let out = setup_with(&env, &["--no-selftest", "--topic", "demo:5"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(partitions(&bootstrap, "demo"), Some(5), "raised");

    let out = setup_with(&env, &["--no-selftest", "--topic", "demo:2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("cannot take partitions away"), "{err}");
    assert!(
        err.contains("at least 5 partitions"),
        "says what to do: {err}"
    );
    assert_eq!(partitions(&bootstrap, "demo"), Some(5), "kept");

    let out = setup_with(&env, &["--no-selftest", "--topic", "wide:1:3"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("replication factor 3 needs 3 brokers"),
        "{err}"
    );
    assert_eq!(partitions(&bootstrap, "wide"), None, "not created");

    // Declared no more, and never declared: both still there.
    let out = setup_with(&env, &["--no-selftest", "--topic", "fresh:1"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(partitions(&bootstrap, "fresh"), Some(1));
    assert_eq!(partitions(&bootstrap, "demo"), Some(5), "not deleted");
    assert_eq!(partitions(&bootstrap, "other"), Some(2), "not deleted");

    // The export to Strimzi carries the topics the environment holds, declared or not,
    // and leaves kafkup's own out.
    let yaml = env.ok(&["export", "strimzi", "--out", "-"]);
    for topic in ["other", "demo", "fresh"] {
        assert!(
            yaml.contains(&format!("  name: {topic}\n")),
            "{topic} in {yaml}"
        );
    }
    assert!(
        yaml.contains("partitions: 2\n"),
        "other's 2 partitions: {yaml}"
    );
    assert!(!yaml.contains("kafkup-health"), "{yaml}");
}
