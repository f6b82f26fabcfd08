//! Class-data archives on the process runner, with real ZooKeeper and Kafka: recorded on the
//! first start, written on a clean stop, mapped by later starts, keyed by JDK and classpath,
//! off with `--no-class-archive`, kept by `teardown --purge`.

use crate::env::{pids, TestEnv};
use std::path::{Path, PathBuf};

/// A JDK other than the default one (scripts/second-jdk.sh finds or installs it).
fn second_java_home() -> String {
    let home = std::env::var("KAFKUP_TEST_SECOND_JAVA_HOME").expect(
        "KAFKUP_TEST_SECOND_JAVA_HOME names a second JDK (scripts/test.sh sets it with \
         scripts/second-jdk.sh)",
    );
    assert!(
        Path::new(&home).join("bin/java").is_file(),
        "KAFKUP_TEST_SECOND_JAVA_HOME={home} holds no bin/java"
    );
    home
}

/// What each running service's JVM was told and whether it mapped an archive.
#[derive(Debug)]
struct Jvm {
    name: String,
    records: bool,
    uses: Option<String>,
    mapped: bool,
}

fn jvms(env: &TestEnv) -> Vec<Jvm> {
    let (_, status) = env.status_json();
    pids(&status)
        .into_iter()
        .map(|(name, pid)| {
            let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
            let args: Vec<&str> = cmdline.split('\0').collect();
            let uses = args
                .iter()
                .find_map(|a| a.strip_prefix("-XX:SharedArchiveFile="))
                .map(str::to_string);
            let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
            Jvm {
                records: args
                    .iter()
                    .any(|a| a.starts_with("-XX:ArchiveClassesAtExit=")),
                mapped: uses.as_ref().is_some_and(|u| maps.contains(u.as_str())),
                uses,
                name,
            }
        })
        .collect()
}

fn archive_dir(env: &TestEnv) -> PathBuf {
    env.root().join("cache/class-archives")
}

fn archives(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn assert_all(env: &TestEnv, what: &str, check: impl Fn(&Jvm) -> bool) {
    let jvms = jvms(env);
    assert_eq!(jvms.len(), 2, "{jvms:?}");
    assert!(jvms.iter().all(check), "{what}: {jvms:?}");
}

/// No "[warning][cds]" line: a correctly keyed archive is never refused.
fn assert_no_cds_warning(env: &TestEnv) {
    for name in ["zookeeper", "kafka"] {
        let log = std::fs::read_to_string(env.root().join(format!("state/logs/{name}.log")));
        let log = log.unwrap();
        assert!(
            !log.contains("[cds]"),
            "{name}'s log has CDS messages:\n{log}"
        );
    }
}

#[test]
fn archives_are_recorded_used_rekeyed_and_optional() {
    let env = TestEnv::new();
    let dir = archive_dir(&env);
    env.setup("zookeeper", &[]);
    assert_all(&env, "the first start records", |j| {
        j.records && j.uses.is_none()
    });
    let (_, before) = env.status_json();
    env.setup("zookeeper", &[]);
    let (_, after) = env.status_json();
    assert_eq!(
        pids(&before),
        pids(&after),
        "a second setup restarts nothing"
    );

    // A clean stop writes the recordings; the next start maps them.
    env.ok(&["stop"]);
    let written = archives(&dir);
    assert_eq!(written.len(), 2, "one recording per service: {written:?}");
    env.ok(&["start"]);
    assert_all(&env, "later starts map the archive", |j| {
        !j.records && j.mapped && j.uses.as_ref().is_some_and(|u| u.contains(&j.name))
    });
    assert_no_cds_warning(&env);
    env.ok(&["produce", "after-archive", "--value", "still a broker"]);
    let used: Vec<String> = jvms(&env).into_iter().filter_map(|j| j.uses).collect();

    // Another JDK gets archives of its own; the old ones stay for the old JDK.
    env.setup("zookeeper", &["--java-home", &second_java_home()]);
    assert_all(&env, "a new JDK records anew", |j| {
        j.records && j.uses.is_none()
    });
    env.ok(&["stop"]);
    assert_eq!(archives(&dir).len(), 4, "{:?}", archives(&dir));

    // A changed jar changes the key too.
    let zk_lib = std::fs::read_dir(env.root().join("install"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("zookeeper"))
        .unwrap()
        .join("lib");
    let jar = std::fs::read_dir(&zk_lib)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let file = std::fs::File::options().append(true).open(&jar).unwrap();
    file.set_modified(std::time::SystemTime::now()).unwrap();
    env.ok(&["start"]);
    let zk = jvms(&env)
        .into_iter()
        .find(|j| j.name == "zookeeper")
        .unwrap();
    assert!(
        zk.records && zk.uses.is_none(),
        "a touched jar is a new classpath: {zk:?}"
    );

    // Off: neither recorded nor used, and nothing restarts for it.
    env.ok(&["teardown"]);
    env.setup("zookeeper", &["--no-class-archive"]);
    assert_all(&env, "--no-class-archive", |j| {
        !j.records && j.uses.is_none()
    });
    env.ok(&["teardown", "--purge"]);
    for archive in &used {
        let on_host = dir.join(Path::new(archive).file_name().unwrap());
        assert!(on_host.is_file(), "--purge keeps the cache: {on_host:?}");
    }
}

/// `setup --mode kraft -vv` on the process runner, which must succeed; its stderr.
fn kraft_setup_debug_log(env: &TestEnv) -> String {
    let args = [
        "setup",
        "--mode",
        "kraft",
        "--backend",
        "process",
        "--no-selftest",
        "-vv",
    ];
    let out = env.run(&args);
    assert!(out.status.success(), "kafkup {} failed", args.join(" "));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `-vv` line that shows the KRaft storage format's command.
fn format_command(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| l.contains("running the KRaft storage format"))
        .unwrap_or_else(|| panic!("no format command in:\n{stderr}"))
        .to_string()
}

#[test]
fn the_kraft_format_maps_the_brokers_archive_and_records_none() {
    let env = TestEnv::new();
    let dir = archive_dir(&env);
    let format = format_command(&kraft_setup_debug_log(&env));
    assert!(
        !format.contains("-XX:SharedArchiveFile") && !format.contains("-XX:ArchiveClassesAtExit"),
        "no archive yet, and the tool records none: {format}"
    );
    env.ok(&["teardown", "--purge"]);
    let written = archives(&dir);
    assert_eq!(written.len(), 1, "only the broker's: {written:?}");

    // A new environment formats again, now mapping the broker's archive (same classpath).
    let second = kraft_setup_debug_log(&env);
    let format = format_command(&second);
    let stem = written[0].split('.').next().unwrap();
    assert!(
        format.contains(&format!(
            "-XX:SharedArchiveFile={}/{stem}.jsa",
            dir.display()
        )),
        "{format}"
    );
    let jvms = jvms(&env);
    assert!(
        jvms.len() == 1 && jvms[0].mapped,
        "the broker maps it too: {jvms:?}"
    );
    assert_eq!(archives(&dir), [format!("{stem}.jsa")]);
    assert!(!second.contains("[cds]"));
    env.ok(&["teardown", "--purge"]);
}
