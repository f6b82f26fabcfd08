//! `--source maven` and `--source auto` against a Maven-layout repository on 127.0.0.1: the
//! fixture build's real jars (`maven-repo/`, Apache jars signed by the test signer) and locks
//! made for them (`maven-locks/`, passed with `--maven-lock-dir`). Real JVMs where setup must
//! pass its self-test; `fetch`-level runs (no JVM) for the ways it must fail, in both modes.

use crate::env::{fixtures_dir, TestEnv};
use crate::mirror::MirrorServer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The Kafka version of each mode's fixtures (their locks are the built-in ones' twins).
const MODES: [(&str, &str); 2] = [("zookeeper", "3.9.2"), ("kraft", "4.4.0")];
const ZOOKEEPER_VERSION: &str = "3.9.5";

/// One test's repository server (the whole fixture tree: `/maven-repo`, and `/mirror` as the
/// dist site) and a kafkup root.
struct MavenEnv {
    env: TestEnv,
    server: MirrorServer,
}

impl MavenEnv {
    fn new() -> MavenEnv {
        let dir = fixtures_dir();
        assert!(
            dir.join("maven-locks").is_dir(),
            "no Maven fixtures in {}: run ./fixtures/build.sh",
            dir.display()
        );
        MavenEnv {
            env: TestEnv::new(),
            server: MirrorServer::serve(dir),
        }
    }

    fn repo(&self) -> String {
        format!("{}/maven-repo", self.server.url())
    }

    fn dist(&self) -> String {
        format!("{}/mirror", self.server.url())
    }

    fn locks() -> String {
        fixtures_dir().join("maven-locks").display().to_string()
    }

    /// `COMMAND --mode MODE --source maven --maven-repo R --maven-lock-dir L --dist D EXTRA…`
    /// (`--source` and `--maven-repo` only when EXTRA has none)
    fn run(&self, command: &str, mode: &str, extra: &[&str]) -> Output {
        let (repo, dist, locks) = (self.repo(), self.dist(), Self::locks());
        let mut args = vec![command, "--mode", mode];
        if !extra.contains(&"--maven-repo") {
            args.extend(["--maven-repo", &repo]);
        }
        args.extend(["--maven-lock-dir", &locks, "--dist", &dist]);
        if !extra.contains(&"--source") {
            args.extend(["--source", "maven"]);
        }
        if command == "setup" {
            args.extend(["--backend", "process"]);
        }
        args.extend(extra);
        self.env.run(&args)
    }

    fn install(&self) -> PathBuf {
        self.env.root().join("install")
    }

    /// The distributions in the install directory (anything else there fails the test).
    fn installed(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.install()) else {
            return vec![];
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A jar of the fixture repository, by the end of its path.
    fn jar(suffix: &str) -> PathBuf {
        find_file(&fixtures_dir().join("maven-repo"), suffix)
            .unwrap_or_else(|| panic!("no fixture jar ending in {suffix}"))
    }
}

fn find_file(dir: &Path, suffix: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, suffix) {
                return Some(found);
            }
        } else if path.to_string_lossy().ends_with(suffix) {
            return Some(path);
        }
    }
    None
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_exit(out: &Output, code: i32, says: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "exit code; stderr:\n{err}");
    for phrase in says {
        assert!(
            err.contains(phrase),
            "stderr should mention {phrase:?}:\n{err}"
        );
    }
    if code != 0 {
        assert!(
            err.lines().any(|l| l.starts_with("help: ")),
            "no help: line:\n{err}"
        );
    }
}

fn dists_of(status: &Value) -> Vec<Value> {
    status["dists"]
        .as_array()
        .expect("status lists dists")
        .clone()
}

fn expected_dists(mode: &str, kafka: &str) -> Vec<String> {
    let mut names = vec![format!("kafka_2.13-{kafka}")];
    if mode == "zookeeper" {
        names.insert(0, format!("apache-zookeeper-{ZOOKEEPER_VERSION}-bin"));
    }
    names
}

#[test]
fn setup_from_maven_passes_its_self_test_in_both_modes() {
    for (mode, kafka) in MODES {
        let m = MavenEnv::new();
        let out = m.run("setup", mode, &[]);
        assert_exit(
            &out,
            0,
            &["self-test passed", "Apache jar signatures verified"],
        );
        assert!(
            !stderr(&out).contains("warning:"),
            "a clean run warns about nothing"
        );
        assert!(
            m.server.requests_for(".tgz").is_empty() && m.server.requests_for(".tar.gz").is_empty(),
            "no tarball is fetched from Maven"
        );
        let (code, status) = m.env.status_json();
        assert_eq!(code, 0, "{status:#}");
        let dists = dists_of(&status);
        let names: Vec<&str> = dists.iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, expected_dists(mode, kafka), "{status:#}");
        for d in &dists {
            assert_eq!(d["source"]["kind"], "maven", "{d:#}");
            assert_eq!(d["source"]["signers_unknown"], 0, "{d:#}");
            assert!(
                d["from"].as_str().unwrap().contains("assembled from Maven"),
                "{d:#}"
            );
        }
        let kafka_dir = m.install().join(format!("kafka_2.13-{kafka}/libs"));
        assert!(kafka_dir.join(format!("kafka_2.13-{kafka}.jar")).is_file());

        // The same setup again: nothing is fetched, nothing restarts.
        m.server.clear_log();
        let again = m.run("setup", mode, &[]);
        assert_exit(&again, 0, &["nothing to change"]);
        let jars = m.server.requests_for(".jar");
        assert!(jars.is_empty(), "second setup fetched {jars:?}");
    }
}

#[test]
fn auto_falls_back_to_maven_when_apache_does_not_answer() {
    for (mode, kafka) in MODES {
        let m = MavenEnv::new();
        // ZooKeeper mode: nothing listens there. KRaft mode: a site that only answers 503.
        let down = MirrorServer::serve(fixtures_dir()).fail_first(1000);
        let apache = match mode {
            "zookeeper" => format!("http://127.0.0.1:{}", crate::env::free_port()),
            _ => down.url(),
        };
        let (repo, locks) = (m.repo(), MavenEnv::locks());
        // KRaft mode checks signatures with --keys; ZooKeeper mode with the KEYS built into
        // kafkup, which do not hold the test signer: loud warnings, and it still goes on
        // because every jar matched its lock.
        let keys = fixtures_dir()
            .join("mirror/kafka/KEYS")
            .display()
            .to_string();
        let mut args = vec!["setup", "--mode", mode, "--backend", "process"];
        args.extend([
            "--mirror",
            &apache,
            "--dist",
            &apache,
            "--maven-repo",
            &repo,
        ]);
        args.extend(["--maven-lock-dir", &locks]);
        if mode == "kraft" {
            args.extend(["--keys", &keys]);
        }
        let out = m.env.run(&args);
        let err = stderr(&out);
        assert_exit(&out, 0, &["self-test passed"]);
        let said = "Apache's download sites do not answer; assembling the distributions from Maven";
        assert_eq!(err.matches(said).count(), 1, "said once:\n{err}");
        // The news in a line each: the fallback, then one per distribution that rests on the
        // lock alone; no retries, no error chains, no paragraphs (those are -v's).
        let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
        assert!(!err.contains("trying again"), "{err}");
        assert!(!err.contains("could NOT be checked"), "{err}");
        if mode == "kraft" {
            assert_eq!(warnings.len(), 1, "{err}");
        } else {
            assert_eq!(
                warnings.len(),
                3,
                "the fallback and one per distribution:\n{err}"
            );
            for dist in expected_dists(mode, kafka) {
                let line = warnings
                    .iter()
                    .find(|l| l.contains(&format!("warning: {dist}: ")));
                let line = line.unwrap_or_else(|| panic!("a line for {dist}:\n{err}"));
                assert!(
                    line.contains("rest on the SHA-256 in kafkup's lock alone"),
                    "{line}"
                );
                assert!(line.contains("--keys"), "{line}");
            }
            assert!(
                err.contains("(October 2024)"),
                "names the KEYS at hand:\n{err}"
            );
            assert!(err.contains("no ZooKeeper KEYS at hand"), "{err}");
        }
        let (_, status) = m.env.status_json();
        let dists = dists_of(&status);
        assert_eq!(dists.len(), expected_dists(mode, kafka).len());
        assert!(
            dists.iter().all(|d| d["source"]["kind"] == "maven"),
            "{status:#}"
        );
        if mode == "zookeeper" {
            let unknown: u64 = dists
                .iter()
                .map(|d| d["source"]["signers_unknown"].as_u64().unwrap())
                .sum();
            assert!(unknown > 10, "{status:#}");
        }
    }
}

#[test]
fn auto_without_a_lock_keeps_the_apache_error() {
    let m = MavenEnv::new();
    let nowhere = format!("http://127.0.0.1:{}", crate::env::free_port());
    let mut args = vec!["fetch", "--mode", "kraft", "--kafka-version", "4.0.0"];
    args.extend(["--mirror", &nowhere, "--dist", &nowhere, "--source", "auto"]);
    let out = m.env.run(&args);
    assert_exit(
        &out,
        1,
        &[
            "could not fetch the SHA-512 checksum",
            "no Maven lock for kafka_2.13-4.0.0",
            "nothing to fall back to",
        ],
    );
    assert!(m.server.requests().is_empty());
}

#[test]
fn a_jar_that_differs_from_its_lock_fails_with_exit_3_and_installs_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    for (mode, kafka) in MODES {
        let m = MavenEnv::new();
        let name = format!("kafka-clients-{kafka}.jar");
        let tampered = scratch.path().join(&name);
        let mut bytes = std::fs::read(MavenEnv::jar(&name)).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        std::fs::write(&tampered, bytes).unwrap();
        let m = MavenEnv {
            server: m.server.serve_instead(&format!("/{name}"), &tampered),
            ..m
        };
        let out = m.run("setup", mode, &[]);
        let coord = format!("org.apache.kafka:kafka-clients:{kafka}");
        assert_exit(&out, 3, &[&coord, "does not match kafkup's lock"]);
        assert_eq!(m.installed(), Vec::<String>::new(), "nothing in place");
        assert!(
            find_file(&m.env.root().join("cache"), &name).is_none(),
            "the tampered jar never enters the cache"
        );
    }
}

#[test]
fn an_apache_jar_with_a_bad_signature_fails_with_exit_3() {
    for (mode, kafka) in MODES {
        let m = MavenEnv::new();
        // A real signature by the test signer, but of another jar.
        let other = MavenEnv::jar(&format!("kafka-clients-{kafka}.jar.asc"));
        let target = format!("/kafka_2.13-{kafka}.jar.asc");
        let m = MavenEnv {
            server: m.server.serve_instead(&target, other),
            ..m
        };
        let out = m.run("setup", mode, &[]);
        assert_exit(
            &out,
            3,
            &[
                &format!("org.apache.kafka:kafka_2.13:{kafka}"),
                "is not valid",
            ],
        );
        assert_eq!(m.installed(), Vec::<String>::new(), "nothing in place");
    }
}

#[test]
fn a_signer_missing_from_the_keys_at_hand_warns_and_the_lock_decides() {
    for (mode, kafka) in MODES {
        let m = MavenEnv::new();
        let jar = format!("kafka_2.13-{kafka}.jar");
        let stranger = MavenEnv::jar(&format!("{jar}.stranger.asc"));
        let m = MavenEnv {
            server: m
                .server
                .serve_instead(&format!("/{jar}.asc"), stranger)
                .status_for(&format!("/kafka-raft-{kafka}.jar.asc"), 404),
            ..m
        };
        let out = m.run("fetch", mode, &[]);
        assert_exit(
            &out,
            0,
            &[
                &format!("warning: kafka_2.13-{kafka}: "),
                "2 Apache jar(s) rest on the SHA-256 in kafkup's lock alone (1 signed by ",
                "1 without a signature",
                "-v names the jars",
            ],
        );
        assert!(
            !stderr(&out).contains("could NOT be checked"),
            "details only under -v"
        );
        // -v names the jars, the signer and what the lock recorded.
        let m = MavenEnv {
            env: TestEnv::new(),
            ..m
        };
        let out = m.run("fetch", mode, &["-v"]);
        assert_exit(
            &out,
            0,
            &[
                &format!("1 Kafka jar(s) of kafka_2.13-{kafka} ({jar})"),
                "could NOT be checked",
                "matched the SHA-256 pinned in kafkup's lock",
                "(the lock recorded another signer",
                &format!("kafka-raft-{kafka}.jar) have no OpenPGP signature"),
                "the repository no longer serves them",
            ],
        );
        let marker = m
            .install()
            .join(format!("kafka_2.13-{kafka}/.kafkup-verified.json"));
        let marker: Value = serde_json::from_slice(&std::fs::read(marker).unwrap()).unwrap();
        assert_eq!(marker["source"]["signers_unknown"], 1, "{marker:#}");
        assert_eq!(marker["source"]["unsigned"], 1, "{marker:#}");
        assert_eq!(marker["signature_checked"], true, "{marker:#}");
        assert_eq!(m.installed(), expected_dists(mode, kafka));
    }
}

#[test]
fn a_version_without_a_lock_names_source_apache_and_how_to_add_one() {
    let m = MavenEnv::new();
    for (mode, version_flag, version, dist) in [
        ("kraft", "--kafka-version", "4.0.0", "kafka_2.13-4.0.0"),
        (
            "zookeeper",
            "--zookeeper-version",
            "3.8.4",
            "apache-zookeeper-3.8.4-bin",
        ),
    ] {
        let out = m.run("setup", mode, &[version_flag, version]);
        assert_exit(
            &out,
            2,
            &[
                &format!("kafkup has no Maven lock for {dist}"),
                "--source apache",
                "scripts/lock-maven.sh",
                "--maven-lock-dir",
            ],
        );
        assert_eq!(m.installed(), Vec::<String>::new());
    }
    // The missing lock is found before anything is fetched, in either mode (the dry run
    // finds it too: tests/it/small.rs).
    let asked = m.server.requests();
    assert!(asked.is_empty(), "{asked:?}");
}

#[test]
fn a_repository_that_lacks_one_jar_names_it() {
    for (mode, kafka) in MODES {
        let m = MavenEnv::new();
        let missing = format!("kafka-raft-{kafka}.jar");
        let m = MavenEnv {
            server: m.server.status_for(&format!("/{missing}"), 404),
            ..m
        };
        let out = m.run("setup", mode, &[]);
        assert_exit(
            &out,
            1,
            &[
                &format!("no Maven repository has org.apache.kafka:kafka-raft:{kafka}"),
                &format!("{}/org/apache/kafka/kafka-raft/{kafka}/{missing}", m.repo()),
            ],
        );
        assert_eq!(m.installed(), Vec::<String>::new(), "nothing in place");
    }
}

#[test]
fn a_dropped_jar_download_resumes_and_a_second_repository_is_tried() {
    let m = MavenEnv::new();
    let broken = MirrorServer::serve(fixtures_dir()).not_found();
    let m = MavenEnv {
        server: m.server.drop_after(200_000, 2),
        ..m
    };
    let first = format!("{}/maven-repo", broken.url());
    let out = m.run(
        "fetch",
        "kraft",
        &["--maven-repo", &first, "--maven-repo", &m.repo()],
    );
    assert_exit(&out, 0, &[]);
    let resumed: Vec<_> = m
        .server
        .requests()
        .into_iter()
        .filter(|r| r.range.is_some() && r.status == 206)
        .collect();
    assert_eq!(
        resumed.len(),
        2,
        "both cut downloads resumed: {:?}",
        m.server.requests()
    );
    assert!(
        !broken.requests_for(".jar").is_empty(),
        "the first repository is asked first"
    );
    assert_eq!(m.installed(), vec!["kafka_2.13-4.4.0".to_string()]);
}
