//! Snapshot tests for everything `render` produces, and systemd's own verdict on the units.

use kafkup::deployment::Deployment;
use kafkup::java::Java;
use kafkup::render::RenderedFile;
use kafkup::runner::detect::RunnerChoice;
use kafkup::settings::{parse_config, Settings};
use kafkup::vocab::{Mode, RunnerKind};
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = "/srv/kafkup-golden";
/// Fixed, so the snapshots do not depend on the machine.
const JAVA: &str = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";

/// Each golden case: directory name, mode, Kafka version.
const CASES: &[(&str, Mode, &str)] = &[
    ("zookeeper", Mode::Zookeeper, "3.9.2"),
    ("kraft", Mode::Kraft, "4.1.0"),
    ("kraft-3.9", Mode::Kraft, "3.9.2"),
];

/// The systemd runner's files (it installs every kind: config, logging, units).
fn render(mode: Mode, kafka_version: &str, java: &Path) -> Vec<RenderedFile> {
    let config = format!(
        "mode = \"{mode}\"\nroot = \"{ROOT}\"\nkafka_version = \"{kafka_version}\"\n\
         zookeeper_version = \"3.9.4\"\n"
    );
    let settings =
        Settings::resolve([parse_config(&config).unwrap()]).expect("golden settings are valid");
    let runner = RunnerChoice {
        kind: RunnerKind::Systemd,
        why: "golden files".into(),
    };
    let java = Java {
        path: java.to_path_buf(),
        major: 17,
    };
    Deployment::resolve(&settings, runner, Some(java))
        .expect("built-in templates render")
        .files
}

/// Each file's install target and mode, one line each: snapshotted too.
fn targets_listing(files: &[RenderedFile]) -> String {
    files
        .iter()
        .map(|f| {
            format!(
                "{} -> {} ({:o})\n",
                f.rel.display(),
                f.target.display(),
                f.mode
            )
        })
        .collect()
}

/// Every rendered file of every case is an insta snapshot (`tests/it/snapshots/`);
/// `cargo insta review` (or `INSTA_UPDATE=always`) accepts a deliberate change.
#[test]
fn rendered_files_match_their_snapshots() {
    for &(case, mode, version) in CASES {
        let files = render(mode, version, Path::new(JAVA));
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| {
            insta::assert_snapshot!(format!("{case}.targets"), targets_listing(&files));
            for f in &files {
                let name = format!("{case}__{}", f.rel.display()).replace('/', "__");
                insta::assert_snapshot!(name, &f.contents);
            }
        });
    }
}

/// The units are written with the Java this machine really has, since `verify` checks that
/// the `ExecStart=` binary exists.
fn real_java() -> PathBuf {
    kafkup::java::locate(None).expect("the systemd unit tests need a Java installation")
}

fn systemd_analyze(args: &[&str], units: &[PathBuf]) -> (bool, String) {
    let out = Command::new("systemd-analyze")
        .args(args)
        .args(units)
        .output()
        .expect("systemd-analyze must be installed (Debian: systemd) for the unit tests");
    let text = crate::env::output_text(&out);
    (out.status.success(), text)
}

/// Writes each mode's units into its own directory (both modes have a kafkup-kafka.service).
fn write_units(dir: &Path) -> Vec<(&'static str, Vec<PathBuf>)> {
    let java = real_java();
    CASES
        .iter()
        .map(|&(case, mode, version)| {
            let case_dir = dir.join(case);
            fs_err::create_dir_all(&case_dir).unwrap();
            let units = render(mode, version, &java)
                .into_iter()
                .filter(|f| f.rel.starts_with("systemd"))
                .map(|f| {
                    let path = case_dir.join(f.rel.file_name().unwrap());
                    fs_err::write(&path, &f.contents).unwrap();
                    path
                })
                .collect();
            (case, units)
        })
        .collect()
}

#[test]
fn units_pass_systemd_analyze_verify() {
    let tmp = tempfile::tempdir().unwrap();
    for (case, units) in write_units(tmp.path()) {
        let (ok, output) = systemd_analyze(&["verify", "--man=no"], &units);
        // verify exits 0 even for unknown or unparsable settings, but prints them as
        // `<unit file>:<line>: ...`: any line naming one of our units is a failure.
        let complaints: Vec<_> = output.lines().filter(|l| l.contains("kafkup-")).collect();
        assert!(
            ok && complaints.is_empty(),
            "{case}: systemd-analyze verify failed:\n{output}"
        );
        if !output.trim().is_empty() {
            eprintln!("{case}: systemd-analyze verify (about the host, not our units):\n{output}");
        }
    }
}

/// `systemd-analyze security` scores the sandbox from 0 (locked down) to 10. The JVM needs
/// the network and writable+executable memory, so about 1 is what is reachable; above 1.5
/// ("OK" ends there) means hardening went missing.
#[test]
fn units_are_well_sandboxed() {
    let (_, help) = systemd_analyze(&["security", "--help"], &[]);
    assert!(
        help.contains("--offline"),
        "this systemd-analyze has no `security --offline` (systemd >= 250 has): {help}"
    );
    let tmp = tempfile::tempdir().unwrap();
    for (case, units) in write_units(tmp.path()) {
        for unit in units {
            let (ok, output) = systemd_analyze(
                &["security", "--offline=true", "--no-pager"],
                std::slice::from_ref(&unit),
            );
            let score = output
                .lines()
                .find_map(|l| {
                    l.split_once("Overall exposure level for ")?
                        .1
                        .split_once(": ")?
                        .1
                        .split_whitespace()
                        .next()?
                        .parse::<f64>()
                        .ok()
                })
                .unwrap_or_else(|| panic!("{case}: no exposure level in:\n{output}"));
            eprintln!(
                "{case}: {} exposure {score}",
                unit.file_name().unwrap().to_string_lossy()
            );
            assert!(
                ok && score <= 1.5,
                "{case}: {} exposure {score}:\n{output}",
                unit.display()
            );
        }
    }
}

/// Every rendered config file parses with the parser its service uses, and says what kafkup
/// meant (paths and values survive the format's escaping).
#[test]
fn rendered_files_parse_with_the_services_own_parsers() {
    let tmp = tempfile::tempdir().unwrap();
    let parser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/java/ParseConfigs.java");
    for &(case, mode, version) in CASES {
        let files: Vec<PathBuf> = render(mode, version, Path::new(JAVA))
            .into_iter()
            .filter(|f| !f.rel.starts_with("systemd"))
            .map(|f| {
                let path = tmp.path().join(case).join(&f.rel);
                fs_err::create_dir_all(path.parent().unwrap()).unwrap();
                fs_err::write(&path, &f.contents).unwrap();
                path
            })
            .collect();
        let out = Command::new(real_java())
            .arg(&parser)
            .args(&files)
            .output()
            .expect("java runs the parser");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{case}: a rendered file does not parse:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let value = |file: &str, key: &str| {
            said.lines()
                .filter_map(|l| l.split_once('\t'))
                .filter(|(f, _)| f.ends_with(file))
                .find_map(|(_, kv)| kv.strip_prefix(&format!("{key}\t")))
                .map(str::to_string)
        };
        let data = format!("{ROOT}/data/kafka");
        assert_eq!(value("server.properties", "log.dirs"), Some(data), "{case}");
        if mode == Mode::Zookeeper {
            let data = format!("{ROOT}/data/zookeeper");
            assert_eq!(value("zoo.cfg", "dataDir"), Some(data), "{case}");
            assert_eq!(
                value("zoo.cfg", "4lw.commands.whitelist").as_deref(),
                Some("srvr,ruok,mntr")
            );
            assert!(
                said.contains("logback.xml\t<configuration>"),
                "{case}: {said}"
            );
        }
    }
}
