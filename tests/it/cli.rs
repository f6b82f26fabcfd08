//! The command line through the real binary: help, settings errors, dry run and render.

use crate::env::TestEnv;

/// The words of a help text's section (`Commands:`, `Options:`): each entry's first word.
fn section_words(help: &str, section: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != section)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("          "))
        .filter_map(|l| l.split_whitespace().next())
        .map(|w| w.trim_end_matches(',').to_string())
        .collect()
}

#[test]
fn help_lists_every_command_of_the_contract() {
    let env = TestEnv::new();
    let commands = section_words(&env.ok(&["--help"]), "Commands:");
    for command in [
        "setup", "fetch", "render", "start", "stop", "restart", "status", "probe", "selftest",
        "logs", "topic", "produce", "consume", "serve", "teardown",
    ] {
        assert!(
            commands.iter().any(|c| c == command),
            "--help lists {command}: {commands:?}"
        );
    }
    let setup = env.ok(&["setup", "--help"]);
    let flags: Vec<String> = setup
        .lines()
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == ','))
        .filter(|w| w.starts_with("--"))
        .map(|w| w.split(['=', '<']).next().unwrap().to_string())
        .collect();
    for flag in [
        "--mode",
        "--backend",
        "--kafka-version",
        "--zookeeper-version",
        "--mirror",
        "--dist",
        "--no-verify-signature",
        "--kafka-port",
        "--zookeeper-port",
        "--no-selftest",
        "--dry-run",
    ] {
        assert!(flags.iter().any(|f| f == flag), "setup --help lists {flag}");
    }
    // Help texts name the defaults kafkup really uses.
    assert!(setup.contains(&format!("[default: {}]", kafkup::defaults::KAFKA_PORT)));
    assert!(setup.contains(kafkup::defaults::KAFKA_VERSION_KRAFT_MODE));
}

#[test]
fn a_bad_config_file_names_file_line_and_key() {
    let env = TestEnv::new();
    let config = env.root().join("bad.toml");
    std::fs::write(&config, "mode = \"kraft\"\n\nkafka_port = \"not a port\"\n").unwrap();
    let out = env.run(&["--config", config.to_str().unwrap(), "setup", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(config.to_str().unwrap()), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("kafka_port"), "{err}");
}

#[test]
fn flags_beat_environment_which_beats_the_config_file() {
    let env = TestEnv::new();
    let config = env.root().join("k.toml");
    std::fs::write(
        &config,
        "mode = \"kraft\"\nkafka_port = 1111\ncontroller_port = 1112\n",
    )
    .unwrap();
    let plan = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "--config",
            config.to_str().unwrap(),
            "--json",
            "setup",
            "--dry-run",
        ];
        args.extend_from_slice(extra);
        let out = env
            .kafkup(&args)
            .env_remove("KAFKUP_KAFKA_PORT")
            .env_remove("KAFKUP_CONTROLLER_PORT")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(kafka_port(&plan(&[])), 1111);
    assert_eq!(kafka_port(&plan(&["--kafka-port", "3333"])), 3333);
    let out = env
        .kafkup(&[
            "--config",
            config.to_str().unwrap(),
            "--json",
            "setup",
            "--dry-run",
        ])
        .env("KAFKUP_KAFKA_PORT", "2222")
        .env_remove("KAFKUP_CONTROLLER_PORT")
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(kafka_port(&value), 2222);
}

/// The broker's port in `setup --dry-run --json`'s deployment.
fn kafka_port(dry_run: &serde_json::Value) -> u64 {
    let nodes = dry_run["deployment"]["topology"]["nodes"]
        .as_array()
        .unwrap();
    let kafka = nodes.iter().find(|n| n["id"] == "kafka").unwrap();
    kafka["ports"]["client"].as_u64().unwrap()
}

#[test]
fn an_unavailable_backend_is_a_usage_error() {
    let env = TestEnv::new();
    let dead = env.root().join("no-engine.sock");
    let out = env
        .kafkup(&["setup", "--dry-run", "--backend", "docker"])
        .env("DOCKER_HOST", format!("unix://{}", dead.display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit 2 for a backend that cannot run here"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("docker runner"), "{err}");
    assert!(err.contains("help:"), "{err}");
}

#[test]
fn zookeeper_mode_with_kafka_4_points_at_kraft() {
    let env = TestEnv::new();
    let out = env.run(&["setup", "--dry-run", "--kafka-version", "4.0.0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mode kraft"));
}

#[test]
fn dry_run_prints_the_plan_and_touches_nothing() {
    let env = TestEnv::new();
    let out = env.ok(&["setup", "--dry-run"]);
    assert!(out.contains("kafka_2.13-3.9.2.tgz"), "{out}");
    assert!(out.contains("apache-zookeeper-3.9.5-bin.tar.gz"), "{out}");
    assert!(out.contains("zoo.cfg"), "{out}");
    for step in [
        "fetch     zookeeper",
        "start     zookeeper (new)",
        "start     kafka (new)",
        "selftest  ",
    ] {
        assert!(out.contains(step), "the dry run lists `{step}`: {out}");
    }
    assert!(!out.contains("nothing to change"), "{out}");
    assert_eq!(
        std::fs::read_dir(env.root()).unwrap().count(),
        0,
        "dry run created nothing"
    );
}

#[test]
fn render_writes_every_file_setup_would_install() {
    let env = TestEnv::new();
    let out_dir = env.root().join("rendered");
    env.ok(&[
        "render",
        "--mode",
        "zookeeper",
        "--backend",
        "systemd",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    for rel in [
        "zookeeper/zoo.cfg",
        "zookeeper/logback.xml",
        "kafka/server.properties",
        "kafka/log4j.properties",
        "systemd/kafkup-zookeeper.service",
        "systemd/kafkup-kafka.service",
    ] {
        assert!(out_dir.join(rel).is_file(), "{rel} rendered");
    }
    let zoo = std::fs::read_to_string(out_dir.join("zookeeper/zoo.cfg")).unwrap();
    assert!(zoo.contains("admin.enableServer=false"));
    assert!(zoo.contains("4lw.commands.whitelist=srvr,ruok,mntr"));
    assert!(zoo.contains(&format!("clientPort={}", env.zookeeper_port)));
}

#[test]
fn a_second_command_on_the_same_environment_is_refused_while_one_works() {
    let env = TestEnv::new();
    let state = env.root().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let mut holder = std::process::Command::new("flock")
        .arg(state.join("lock"))
        .args(["sleep", "30"])
        .spawn()
        .expect("flock (util-linux) is installed");
    // Wait (bounded) until flock holds it: `flock -n` then fails.
    let lock = state.join("lock");
    let held = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        !std::process::Command::new("flock")
            .arg("-n")
            .arg(&lock)
            .arg("true")
            .status()
            .unwrap()
            .success()
    });
    assert!(held, "flock took the lock");
    let out = env.run(&["teardown"]);
    let refused =
        (out.status.code() == Some(1)).then(|| String::from_utf8_lossy(&out.stderr).into_owned());
    let _ = holder.kill();
    let _ = holder.wait();
    let err = refused.expect("teardown was refused while the lock was held");
    assert!(err.contains("another kafkup command"), "{err}");
    assert!(err.contains("help:"), "{err}");
}

/// Every variable kafkup reads (as its help names them, plus its log filter and Docker's) is
/// kept from a developer's shell: each is removed, or set by the test itself.
#[test]
fn no_variable_of_the_developers_shell_reaches_kafkup() {
    let env = TestEnv::new();
    let mut names = vec!["KAFKUP_LOG".to_string(), "DOCKER_HOST".to_string()];
    for command in [&["--help"][..], &["setup", "--help"], &["serve", "--help"]] {
        let help = env.ok(command);
        for (_, rest) in help
            .match_indices("[env: ")
            .map(|(i, m)| help.split_at(i + m.len()))
        {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    assert!(
        names.len() > 15,
        "the help names kafkup's variables: {names:?}"
    );
    let leaked: Vec<(std::ffi::OsString, std::ffi::OsString)> = names
        .iter()
        .map(|n| (n.into(), "leaked-from-the-shell".into()))
        .collect();
    let mut cmd = env.command(&["status"]);
    crate::env::scrub(&mut cmd, leaked);
    let envs: Vec<(String, Option<String>)> = cmd
        .get_envs()
        .map(|(k, v)| {
            let text = |s: &std::ffi::OsStr| s.to_string_lossy().into_owned();
            (text(k), v.map(text))
        })
        .collect();
    for name in &names {
        let value = envs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        assert!(
            matches!(value, Some(None))
                || matches!(value, Some(Some(v)) if v != "leaked-from-the-shell"),
            "{name} would reach kafkup from the shell: {value:?}"
        );
    }
}
