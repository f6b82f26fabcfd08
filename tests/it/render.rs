//! Golden tests for everything `render` produces, and systemd's own verdict on the units.
//! `KAFKUP_BLESS=1 cargo test --test it render` rewrites `tests/golden/` from the templates.

use kafkup::catalog::Mode;
use kafkup::paths::Paths;
use kafkup::plan::Plan;
use kafkup::render::{render_all, RenderedFile};
use kafkup::settings::{ConfigFile, Overrides, Settings};
use kafkup::spec::service_specs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = "/srv/kafkup-golden";
/// Fixed, so the goldens do not depend on the machine.
const JAVA: &str = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";

/// Each golden case: directory name, mode, Kafka version.
const CASES: &[(&str, Mode, &str)] = &[
    ("zookeeper", Mode::Zookeeper, "3.9.2"),
    ("kraft", Mode::Kraft, "4.1.0"),
    ("kraft-3.9", Mode::Kraft, "3.9.2"),
];

fn plan(mode: Mode, kafka_version: &str) -> Plan {
    let over = Overrides {
        mode: Some(mode),
        root: Some(ROOT.into()),
        kafka_version: Some(kafka_version.into()),
        zookeeper_version: Some("3.9.4".into()),
        ..Default::default()
    };
    let settings = Settings::resolve(over, ConfigFile::default(), || {
        Paths::under_root(Path::new(ROOT))
    })
    .expect("golden settings are valid");
    Plan::from_settings(&settings)
}

fn render(mode: Mode, kafka_version: &str, java: &Path) -> Vec<RenderedFile> {
    let plan = plan(mode, kafka_version);
    render_all(&plan, &service_specs(&plan), java, None).expect("built-in templates render")
}

/// Each file's install target and mode, one line each: part of the golden output too.
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

fn read_tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().to_path_buf();
                out.insert(rel, fs_err::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.is_dir() {
        walk(dir, dir, &mut out);
    }
    out
}

/// Where two texts first differ, as a short report.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
    let n = (0..e.len().max(a.len()))
        .find(|&i| e.get(i) != a.get(i))
        .unwrap_or(0);
    format!(
        "first difference at line {}:\n  golden:   {:?}\n  rendered: {:?}",
        n + 1,
        e.get(n).copied().unwrap_or("<end of file>"),
        a.get(n).copied().unwrap_or("<end of file>"),
    )
}

#[test]
fn rendered_trees_match_the_goldens() {
    let bless = std::env::var_os("KAFKUP_BLESS").is_some_and(|v| v == "1");
    let golden_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut problems = Vec::new();
    for &(case, mode, version) in CASES {
        let files = render(mode, version, Path::new(JAVA));
        let dir = golden_root.join(case);
        let targets = golden_root.join(format!("{case}.targets"));
        let rendered: BTreeMap<PathBuf, String> = files
            .iter()
            .map(|f| (f.rel.clone(), f.contents.clone()))
            .collect();

        if bless {
            if dir.exists() {
                fs_err::remove_dir_all(&dir).unwrap();
            }
            for (rel, contents) in &rendered {
                let path = dir.join(rel);
                fs_err::create_dir_all(path.parent().unwrap()).unwrap();
                fs_err::write(&path, contents).unwrap();
            }
            fs_err::write(&targets, targets_listing(&files)).unwrap();
            continue;
        }

        let golden = read_tree(&dir);
        for rel in golden.keys().filter(|r| !rendered.contains_key(*r)) {
            problems.push(format!(
                "{case}/{}: in the goldens but not rendered",
                rel.display()
            ));
        }
        for (rel, contents) in &rendered {
            match golden.get(rel) {
                None => problems.push(format!(
                    "{case}/{}: rendered but has no golden",
                    rel.display()
                )),
                Some(expected) if expected != contents => problems.push(format!(
                    "{case}/{}: {}",
                    rel.display(),
                    first_difference(expected, contents)
                )),
                Some(_) => {}
            }
        }
        let expected_targets = fs_err::read_to_string(&targets).unwrap_or_default();
        if expected_targets != targets_listing(&files) {
            problems.push(format!(
                "{case}.targets: {}",
                first_difference(&expected_targets, &targets_listing(&files))
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "rendered output differs from tests/golden (rerun with KAFKUP_BLESS=1 to accept):\n{}",
        problems.join("\n")
    );
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
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
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
/// the network and writable+executable memory, so about 1 is what is reachable; above 2
/// means hardening went missing.
#[test]
fn units_are_well_sandboxed() {
    let (_, help) = systemd_analyze(&["security", "--help"], &[]);
    if !help.contains("--offline") {
        eprintln!("this systemd-analyze has no `security --offline`; exposure not measured");
        return;
    }
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
                ok && score <= 2.0,
                "{case}: {} exposure {score}:\n{output}",
                unit.display()
            );
        }
    }
}
