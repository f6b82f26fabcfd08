//! Versions, modes and the ASF's artifact layout. Pure data: no I/O.

use crate::defaults;
use crate::error::{Diagnose, ExitCode};
use crate::vocab::Mode;
use serde::{Deserialize, Serialize};
use std::fmt;
use url::Url;

/// The Kafka release a mode gets when none is asked for.
pub fn default_kafka_version(mode: Mode) -> &'static str {
    match mode {
        Mode::Zookeeper => defaults::KAFKA_VERSION_ZOOKEEPER_MODE,
        Mode::Kraft => defaults::KAFKA_VERSION_KRAFT_MODE,
    }
}

/// The two lines of Kafka kafkup knows, told apart in one place: 4.0 removed ZooKeeper mode,
/// moved logging to log4j2, needs Java 17 and added the share coordinator's topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KafkaLine {
    /// 3.x: ZooKeeper or KRaft mode, reload4j logging.
    Three,
    /// 4.x and later: KRaft only, log4j2 logging.
    Four,
}

impl KafkaLine {
    pub fn of(version: &str) -> KafkaLine {
        match VersionNumber::parse(version) >= VersionNumber(4, 0, 0) {
            true => KafkaLine::Four,
            false => KafkaLine::Three,
        }
    }

    pub fn has_zookeeper_mode(self) -> bool {
        self == KafkaLine::Three
    }

    /// The oldest Java its brokers run on (3.x runs on 8; we ask for 11, the oldest tested).
    pub fn minimum_java(self) -> u32 {
        match self {
            KafkaLine::Three => 11,
            KafkaLine::Four => 17,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Project {
    Kafka,
    Zookeeper,
}

impl Project {
    /// The ASF directory name: `<base>/<dir>/…`, also where its KEYS live.
    pub fn dir(self) -> &'static str {
        match self {
            Project::Kafka => "kafka",
            Project::Zookeeper => "zookeeper",
        }
    }
}

impl Project {
    /// The project's KEYS file below a dist base: `<base>/<dir>/KEYS`.
    pub fn keys_url(self, base: &Url) -> Url {
        join(base, &format!("{}/KEYS", self.dir()))
    }

    /// The project's name as people write it.
    pub fn title(self) -> &'static str {
        match self {
            Project::Kafka => "Kafka",
            Project::Zookeeper => "ZooKeeper",
        }
    }
}

impl fmt::Display for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir())
    }
}

/// A release version split into numbers, for compatibility checks only.
/// Any version string is accepted; unparsable parts count as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionNumber(pub u32, pub u32, pub u32);

impl VersionNumber {
    pub fn parse(version: &str) -> Self {
        let mut parts = version
            .split(['.', '-'])
            .map(|p| p.parse::<u32>().unwrap_or(0));
        VersionNumber(
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("Kafka {kafka_version} has no ZooKeeper mode (Kafka 4.0 removed it)")]
    ZookeeperModeUnsupported { kafka_version: String },
    #[error("{what} {value:?} is not a valid version (use digits, dots and dashes, e.g. 3.9.2)")]
    BadVersion { what: &'static str, value: String },
}

impl Diagnose for CatalogError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Usage
    }
    fn help(&self) -> Option<String> {
        match self {
            CatalogError::ZookeeperModeUnsupported { .. } => Some(format!(
                "use `--mode kraft` for Kafka 4.x, or `--kafka-version {}` to keep ZooKeeper",
                defaults::KAFKA_VERSION_ZOOKEEPER_MODE
            )),
            CatalogError::BadVersion { .. } => None,
        }
    }
}

/// Version strings end up in URLs and paths: allow only a safe alphabet.
pub fn check_version(what: &'static str, value: &str) -> Result<(), CatalogError> {
    let ok = !value.is_empty()
        && value.len() <= 40
        && value.starts_with(|c: char| c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(CatalogError::BadVersion {
            what,
            value: value.to_string(),
        })
    }
}

pub fn check_mode(mode: Mode, kafka_version: &str) -> Result<(), CatalogError> {
    if mode == Mode::Zookeeper && !KafkaLine::of(kafka_version).has_zookeeper_mode() {
        return Err(CatalogError::ZookeeperModeUnsupported {
            kafka_version: kafka_version.to_string(),
        });
    }
    Ok(())
}

/// The oldest Java a release runs on.
pub fn minimum_java(project: Project, version: &str) -> u32 {
    match project {
        Project::Kafka => KafkaLine::of(version).minimum_java(),
        Project::Zookeeper => 11,
    }
}

/// One release tarball as the ASF publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub project: Project,
    pub version: String,
    /// e.g. `kafka_2.13-3.9.2.tgz`
    pub file_name: String,
    /// The single top-level directory inside the tarball, e.g. `kafka_2.13-3.9.2`.
    pub top_dir: String,
    /// Path below a mirror or dist base, e.g. `kafka/3.9.2/kafka_2.13-3.9.2.tgz`.
    pub path: String,
}

impl Artifact {
    pub fn kafka(version: &str, scala: &str) -> Self {
        let top_dir = format!("kafka_{scala}-{version}");
        let file_name = format!("{top_dir}.tgz");
        Artifact {
            project: Project::Kafka,
            version: version.to_string(),
            path: format!("kafka/{version}/{file_name}"),
            file_name,
            top_dir,
        }
    }

    pub fn zookeeper(version: &str) -> Self {
        let top_dir = format!("apache-zookeeper-{version}-bin");
        let file_name = format!("{top_dir}.tar.gz");
        Artifact {
            project: Project::Zookeeper,
            version: version.to_string(),
            path: format!("zookeeper/zookeeper-{version}/{file_name}"),
            file_name,
            top_dir,
        }
    }

    pub fn tarball_url(&self, base: &Url) -> Url {
        join(base, &self.path)
    }

    pub fn sha512_url(&self, base: &Url) -> Url {
        join(base, &format!("{}.sha512", self.path))
    }

    pub fn signature_url(&self, base: &Url) -> Url {
        join(base, &format!("{}.asc", self.path))
    }

    pub fn keys_url(&self, base: &Url) -> Url {
        self.project.keys_url(base)
    }
}

/// Appends a relative path to a base URL whether or not the base ends with `/`.
fn join(base: &Url, rel: &str) -> Url {
    let mut s = base.as_str().trim_end_matches('/').to_string();
    s.push('/');
    s.push_str(rel);
    Url::parse(&s).expect("a valid base joined with a safe relative path is a valid URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_urls_follow_the_asf_layout() {
        let a = Artifact::kafka("3.9.2", "2.13");
        let base = Url::parse("https://dlcdn.apache.org").unwrap();
        assert_eq!(
            a.tarball_url(&base).as_str(),
            "https://dlcdn.apache.org/kafka/3.9.2/kafka_2.13-3.9.2.tgz"
        );
        assert_eq!(
            a.sha512_url(&base).as_str(),
            "https://dlcdn.apache.org/kafka/3.9.2/kafka_2.13-3.9.2.tgz.sha512"
        );
        assert_eq!(
            a.signature_url(&base).as_str(),
            "https://dlcdn.apache.org/kafka/3.9.2/kafka_2.13-3.9.2.tgz.asc"
        );
        assert_eq!(
            a.keys_url(&base).as_str(),
            "https://dlcdn.apache.org/kafka/KEYS"
        );
        assert_eq!(a.top_dir, "kafka_2.13-3.9.2");
    }

    #[test]
    fn zookeeper_urls_follow_the_asf_layout_with_a_dist_subdir() {
        let a = Artifact::zookeeper("3.9.6");
        let base = Url::parse("https://archive.apache.org/dist/").unwrap();
        assert_eq!(
            a.tarball_url(&base).as_str(),
            "https://archive.apache.org/dist/zookeeper/zookeeper-3.9.6/apache-zookeeper-3.9.6-bin.tar.gz"
        );
        assert_eq!(
            a.keys_url(&base).as_str(),
            "https://archive.apache.org/dist/zookeeper/KEYS"
        );
        assert_eq!(a.top_dir, "apache-zookeeper-3.9.6-bin");
    }

    #[test]
    fn zookeeper_mode_is_refused_for_kafka_4() {
        assert!(check_mode(Mode::Zookeeper, "3.9.2").is_ok());
        let err = check_mode(Mode::Zookeeper, "4.0.0").unwrap_err();
        assert!(err.help().unwrap().contains("--mode kraft"));
        assert!(check_mode(Mode::Kraft, "4.4.0").is_ok());
        assert!(check_mode(Mode::Kraft, "3.9.2").is_ok());
    }

    #[test]
    fn versions_are_restricted_to_a_safe_alphabet() {
        assert!(check_version("Kafka version", "3.9.2").is_ok());
        assert!(check_version("Kafka version", "4.1.0-rc1").is_ok());
        assert!(check_version("Kafka version", "../etc").is_err());
        assert!(check_version("Kafka version", "3.9/../../x").is_err());
        assert!(check_version("Kafka version", "").is_err());
    }

    #[test]
    fn version_numbers_compare_numerically() {
        assert!(VersionNumber::parse("3.10.0") > VersionNumber::parse("3.9.2"));
        assert!(VersionNumber::parse("4.0.0-rc1") >= VersionNumber(4, 0, 0));
        assert_eq!(minimum_java(Project::Kafka, "4.4.0"), 17);
    }
}
