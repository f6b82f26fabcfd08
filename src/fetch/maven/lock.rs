//! Maven locks: for one distribution, every jar of its runtime closure with its SHA-256, size
//! and (for Apache Kafka and ZooKeeper jars) the key that signed it when the lock was made.
//! The built-in locks (`catalog/maven/*.lock`, written by `scripts/lock-maven.sh`) are
//! compiled in: they are the trust anchor of the Maven source. `--maven-lock-dir` may add locks
//! for versions kafkup does not ship, but a lock for a version it does ship must pin exactly
//! what the built-in one pins, so it can never loosen the anchor.

use super::coordinate::Coordinate;
use super::MavenError;
use crate::catalog::{Artifact, Project};
use sha2::{Digest, Sha512};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const HEADER: &str = "kafkup-maven-lock 1";
/// No jar of a broker or ZooKeeper comes near this; a bigger number is a broken lock.
const MAX_JAR_BYTES: u64 = 512 * 1024 * 1024;

/// The locks compiled into kafkup: (file name, content).
const BUILT_IN: &[(&str, &str)] = &[
    (
        "kafka_2.13-3.9.1.lock",
        include_str!("../../../catalog/maven/kafka_2.13-3.9.1.lock"),
    ),
    (
        "kafka_2.13-3.9.2.lock",
        include_str!("../../../catalog/maven/kafka_2.13-3.9.2.lock"),
    ),
    (
        "kafka_2.13-4.3.2.lock",
        include_str!("../../../catalog/maven/kafka_2.13-4.3.2.lock"),
    ),
    (
        "kafka_2.13-4.4.0.lock",
        include_str!("../../../catalog/maven/kafka_2.13-4.4.0.lock"),
    ),
    (
        "zookeeper-3.9.4.lock",
        include_str!("../../../catalog/maven/zookeeper-3.9.4.lock"),
    ),
    (
        "zookeeper-3.9.5.lock",
        include_str!("../../../catalog/maven/zookeeper-3.9.5.lock"),
    ),
];

/// Who signed an Apache jar's `.asc`, as the lock recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// An issuer fingerprint (40 hex) or, when the signature named none, a long key id (16 hex).
    Key(String),
    /// The repository published no signature when the lock was made.
    Unsigned,
}

impl Signer {
    /// Whether `issuer` (a fingerprint or key id, uppercase hex) names the recorded key.
    pub fn is(&self, issuer: &str) -> bool {
        match self {
            Signer::Key(key) => {
                issuer.len() >= 16 && (key.ends_with(issuer) || issuer.ends_with(key.as_str()))
            }
            Signer::Unsigned => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedJar {
    pub coord: Coordinate,
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
    /// For Apache Kafka and ZooKeeper jars only.
    pub signer: Option<Signer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// The distribution's top directory, e.g. `kafka_2.13-3.9.2`.
    pub dist: String,
    /// Sorted by coordinates.
    pub jars: Vec<LockedJar>,
}

/// Where a lock came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOrigin {
    BuiltIn(&'static str),
    Dir(PathBuf),
}

impl LockOrigin {
    /// "the built-in lock NAME" or "the lock PATH".
    pub fn describe(&self) -> String {
        match self {
            LockOrigin::BuiltIn(name) => format!("the built-in lock {name}"),
            LockOrigin::Dir(path) => format!("the lock {}", path.display()),
        }
    }
}

/// The lock file name for a distribution: `kafka_2.13-3.9.2.lock`, `zookeeper-3.9.5.lock`.
pub fn file_name(artifact: &Artifact) -> String {
    match artifact.project {
        Project::Kafka => format!("{}.lock", artifact.top_dir),
        Project::Zookeeper => format!("zookeeper-{}.lock", artifact.version),
    }
}

/// The names of the built-in locks.
pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(name, _)| *name).collect()
}

/// The lock for `artifact`: from `lock_dir` if it has one (checked against the built-in one,
/// if any), else the built-in one.
pub fn find(
    artifact: &Artifact,
    lock_dir: Option<&Path>,
) -> Result<(Lock, LockOrigin), MavenError> {
    let name = file_name(artifact);
    let built_in = match BUILT_IN.iter().find(|(n, _)| *n == name) {
        Some((n, text)) => Some((
            parse(text, &format!("built-in {n}"))?,
            LockOrigin::BuiltIn(n),
        )),
        None => None,
    };
    let from_dir = match lock_dir.map(|d| d.join(&name)).filter(|p| p.is_file()) {
        Some(path) => Some(read_file(&path)?),
        None => None,
    };
    let found = match (from_dir, built_in) {
        (Some((lock, path)), Some((anchor, _))) => {
            same_pins(&lock, &anchor).map_err(|reason| MavenError::LockDisagrees {
                path: path.clone(),
                reason,
            })?;
            (lock, LockOrigin::Dir(path))
        }
        (Some((lock, path)), None) => (lock, LockOrigin::Dir(path)),
        (None, Some(built_in)) => built_in,
        (None, None) => {
            return Err(MavenError::NoLock {
                dist: artifact.top_dir.clone(),
                lock: name,
                project: artifact.project,
                version: artifact.version.clone(),
                lock_dir: lock_dir.map(Path::to_path_buf),
            })
        }
    };
    if found.0.dist != artifact.top_dir {
        return Err(MavenError::LockInvalid {
            origin: found.1.describe(),
            line: 0,
            reason: format!("it is for {}, not {}", found.0.dist, artifact.top_dir),
        });
    }
    Ok(found)
}

fn read_file(path: &Path) -> Result<(Lock, PathBuf), MavenError> {
    let text = fs_err::read_to_string(path).map_err(|source| MavenError::LockUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((
        parse(&text, &path.display().to_string())?,
        path.to_path_buf(),
    ))
}

impl Lock {
    /// SHA-512 of what the lock pins (coordinates, SHA-256, size): the identity of the tree
    /// assembled from it, and the key of its cache entry.
    pub fn digest(&self) -> String {
        let mut hash = Sha512::new();
        for jar in &self.jars {
            hash.update(format!("{} {} {}\n", jar.coord, jar.sha256, jar.size));
        }
        hex::encode(hash.finalize())
    }

    pub fn total_bytes(&self) -> u64 {
        self.jars.iter().map(|j| j.size).sum()
    }
}

/// Whether two locks pin the same jars to the same bytes (signers may differ).
fn same_pins(lock: &Lock, anchor: &Lock) -> Result<(), String> {
    let pins = |l: &Lock| -> BTreeSet<(String, String, u64)> {
        l.jars
            .iter()
            .map(|j| (j.coord.to_string(), j.sha256.clone(), j.size))
            .collect()
    };
    let (mine, theirs) = (pins(lock), pins(anchor));
    if let Some((coord, sha, _)) = mine.difference(&theirs).next() {
        return Err(format!(
            "it pins {coord} to SHA-256 {sha}, which the built-in lock does not"
        ));
    }
    if let Some((coord, _, _)) = theirs.difference(&mine).next() {
        return Err(format!(
            "it leaves out {coord}, which the built-in lock pins"
        ));
    }
    Ok(())
}

/// Parse a lock's text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Lock, MavenError> {
    let invalid = |line: usize, reason: String| MavenError::LockInvalid {
        origin: origin.to_string(),
        line,
        reason,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    match lines.next() {
        Some((_, HEADER)) => {}
        Some((n, other)) => {
            return Err(invalid(n, format!("expected {HEADER:?}, found {other:?}")))
        }
        None => return Err(invalid(0, "the file is empty".into())),
    }
    let mut dist = None;
    let mut jars: Vec<LockedJar> = Vec::new();
    let mut names = BTreeSet::new();
    for (n, line) in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["dist", name] if dist.is_none() => dist = Some(name.to_string()),
            ["jar", rest @ ..] => {
                let jar = parse_jar(rest).map_err(|reason| invalid(n, reason))?;
                if !names.insert(jar.coord.file_name()) {
                    return Err(invalid(
                        n,
                        format!("{} is listed twice", jar.coord.file_name()),
                    ));
                }
                jars.push(jar);
            }
            _ => return Err(invalid(n, format!("cannot read {line:?}"))),
        }
    }
    let dist = dist.ok_or_else(|| invalid(0, "no `dist` line".into()))?;
    if jars.is_empty() {
        return Err(invalid(0, "it lists no jars".into()));
    }
    jars.sort_by(|a, b| a.coord.cmp(&b.coord));
    Ok(Lock { dist, jars })
}

/// `COORD SHA256 BYTES [SIGNER]`
fn parse_jar(words: &[&str]) -> Result<LockedJar, String> {
    let (coord, sha256, size, signer) = match words {
        [c, s, b] => (c, s, b, None),
        [c, s, b, signer] => (c, s, b, Some(*signer)),
        _ => return Err("a jar line is `jar COORDINATES SHA-256 BYTES [SIGNER]`".into()),
    };
    let coord = Coordinate::parse(coord)?;
    let hex_of_len = |s: &str, lens: &[usize]| {
        lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
    };
    if !hex_of_len(sha256, &[64]) || sha256.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!("{sha256:?} is not a lowercase hex SHA-256"));
    }
    let size: u64 = size
        .parse()
        .ok()
        .filter(|s| (1..=MAX_JAR_BYTES).contains(s))
        .ok_or_else(|| format!("{size:?} is not a jar size in bytes"))?;
    let signer = match (coord.signing_project(), signer) {
        (Some(_), Some("unsigned")) => Some(Signer::Unsigned),
        (Some(_), Some(key)) if hex_of_len(key, &[16, 40, 64]) => {
            Some(Signer::Key(key.to_ascii_uppercase()))
        }
        (Some(_), Some(other)) => return Err(format!("{other:?} is not a key id or fingerprint")),
        (Some(_), None) => return Err(format!("{coord} is an Apache jar: its signer is missing")),
        (None, Some(_)) => return Err(format!("{coord} is not an Apache jar: it has no signer")),
        (None, None) => None,
    };
    Ok(LockedJar {
        coord,
        sha256: sha256.to_string(),
        size,
        signer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults;

    const SHA: &str = "014b4ef36884478a932641818b080c36a8f8e2e92dc771e800c9d2694f4f83d8";

    fn lock_text(dist: &str, lines: &[String]) -> String {
        format!("# a comment\n{HEADER}\ndist {dist}\n{}\n", lines.join("\n"))
    }

    #[test]
    fn every_built_in_lock_parses_and_names_its_distribution() {
        for (name, text) in BUILT_IN {
            let lock = parse(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(lock.jars.len() > 20, "{name}: {} jars", lock.jars.len());
            let expected = if let Some(v) = name.strip_prefix("zookeeper-") {
                format!("apache-zookeeper-{}-bin", v.trim_end_matches(".lock"))
            } else {
                name.trim_end_matches(".lock").to_string()
            };
            assert_eq!(lock.dist, expected, "{name}");
        }
    }

    #[test]
    fn every_lock_in_the_catalog_is_built_in_and_the_defaults_have_one() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/maven");
        let mut files: Vec<String> = fs_err::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".lock"))
            .collect();
        files.sort();
        assert_eq!(files, built_in_names(), "catalog/maven and BUILT_IN differ");
        for artifact in [
            Artifact::kafka(
                defaults::KAFKA_VERSION_ZOOKEEPER_MODE,
                defaults::SCALA_VERSION,
            ),
            Artifact::kafka(defaults::KAFKA_VERSION_KRAFT_MODE, defaults::SCALA_VERSION),
            Artifact::zookeeper(defaults::ZOOKEEPER_VERSION),
        ] {
            let (lock, origin) = find(&artifact, None).unwrap();
            assert_eq!(lock.dist, artifact.top_dir);
            assert!(matches!(origin, LockOrigin::BuiltIn(_)));
        }
    }

    #[test]
    fn the_kafka_3_9_2_lock_records_its_real_signer() {
        let (lock, _) = find(&Artifact::kafka("3.9.2", "2.13"), None).unwrap();
        let broker = lock
            .jars
            .iter()
            .find(|j| j.coord.to_string() == "org.apache.kafka:kafka_2.13:3.9.2")
            .unwrap();
        // Maven Central's .asc names only the key id of D9472951E133753353DCE20D72E522CC9FCBBAC9.
        let signer = broker.signer.as_ref().unwrap();
        assert!(
            signer.is("D9472951E133753353DCE20D72E522CC9FCBBAC9"),
            "{signer:?}"
        );
    }

    #[test]
    fn apache_jars_need_a_signer_and_others_must_not_have_one() {
        let ok = lock_text(
            "kafka_2.13-9.9.9",
            &[
                format!("jar org.apache.kafka:kafka-clients:9.9.9 {SHA} 10 72E522CC9FCBBAC9"),
                format!("jar org.apache.kafka:kafka_2.13:9.9.9 {SHA} 10 unsigned"),
                format!("jar org.slf4j:slf4j-api:1.7.36 {SHA} 10"),
            ],
        );
        let lock = parse(&ok, "t").unwrap();
        assert_eq!(lock.jars.len(), 3);
        assert_eq!(lock.jars[1].signer, Some(Signer::Unsigned));
        for bad in [
            format!("jar org.apache.kafka:kafka-clients:9.9.9 {SHA} 10"),
            format!("jar org.slf4j:slf4j-api:1.7.36 {SHA} 10 72E522CC9FCBBAC9"),
            format!("jar org.slf4j:slf4j-api:1.7.36 {} 10", SHA.to_uppercase()),
            format!("jar org.slf4j:slf4j-api:1.7.36 {SHA} 0"),
            format!("jar org.slf4j:slf4j-api:1.7.36 {SHA}"),
            format!("jar ../x:y:1 {SHA} 10"),
            "dist other".to_string(),
        ] {
            let text = lock_text("kafka_2.13-9.9.9", std::slice::from_ref(&bad));
            let err = parse(&text, "t").unwrap_err();
            assert!(
                matches!(err, MavenError::LockInvalid { line: 4, .. }),
                "{bad}: {err}"
            );
        }
        assert!(parse("dist x\n", "t").is_err());
        let twice = lock_text(
            "x",
            &[
                format!("jar a.b:c:1 {SHA} 10"),
                format!("jar a.b:c:1 {SHA} 10"),
            ],
        );
        assert!(parse(&twice, "t").is_err());
    }

    #[test]
    fn a_lock_dir_adds_versions_but_cannot_change_a_built_in_pin() {
        let dir = tempfile::tempdir().unwrap();
        let artifact = Artifact::kafka("3.9.2", "2.13");
        let (built_in, _) = find(&artifact, None).unwrap();
        let builtin_text = BUILT_IN
            .iter()
            .find(|(n, _)| *n == "kafka_2.13-3.9.2.lock")
            .unwrap()
            .1;
        // The same pins with other signers: accepted, and used.
        let resigned = builtin_text.replace("72E522CC9FCBBAC9", "0123456789ABCDEF");
        let path = dir.path().join("kafka_2.13-3.9.2.lock");
        fs_err::write(&path, &resigned).unwrap();
        let (lock, origin) = find(&artifact, Some(dir.path())).unwrap();
        assert_eq!(origin, LockOrigin::Dir(path.clone()));
        assert_eq!(lock.digest(), built_in.digest());
        // One SHA-256 changed: refused.
        let first = &built_in.jars[0].sha256;
        fs_err::write(&path, builtin_text.replace(first.as_str(), &"0".repeat(64))).unwrap();
        let err = find(&artifact, Some(dir.path())).unwrap_err();
        assert!(matches!(err, MavenError::LockDisagrees { .. }), "{err}");
        // A version kafkup does not ship: the directory's lock is taken.
        let other = Artifact::kafka("3.9.0", "2.13");
        assert!(matches!(
            find(&other, Some(dir.path())),
            Err(MavenError::NoLock { .. })
        ));
        let text = resigned.replace("3.9.2", "3.9.0");
        fs_err::write(dir.path().join("kafka_2.13-3.9.0.lock"), text).unwrap();
        let (lock, _) = find(&other, Some(dir.path())).unwrap();
        assert_eq!(lock.dist, "kafka_2.13-3.9.0");
    }

    #[test]
    fn signers_match_by_fingerprint_or_key_id() {
        let key = Signer::Key("D9472951E133753353DCE20D72E522CC9FCBBAC9".into());
        assert!(key.is("72E522CC9FCBBAC9"));
        assert!(key.is("D9472951E133753353DCE20D72E522CC9FCBBAC9"));
        assert!(!key.is("0123456789ABCDEF"));
        assert!(
            Signer::Key("72E522CC9FCBBAC9".into()).is("D9472951E133753353DCE20D72E522CC9FCBBAC9")
        );
        assert!(!Signer::Unsigned.is("72E522CC9FCBBAC9"));
    }
}
