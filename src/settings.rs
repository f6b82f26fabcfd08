//! Settings: flags > `KAFKUP_*` environment > TOML config file > defaults, validated once.
//! Clap already merges flags with the environment; this file adds the config file and defaults.

use crate::catalog::{self, Mode};
use crate::defaults;
use crate::error::{Diagnose, ExitCode};
use crate::fetch::SourceChoice;
use crate::paths::Paths;
use crate::runner::Backend;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use url::Url;

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub mode: Mode,
    pub backend: Backend,
    pub kafka_version: String,
    pub zookeeper_version: String,
    pub scala_version: String,
    pub source: SourceChoice,
    pub mirrors: Vec<Url>,
    pub dists: Vec<Url>,
    pub maven_repos: Vec<Url>,
    /// KEYS files for the Maven path when no dist site answers.
    pub keys: Vec<PathBuf>,
    /// Locks that add to the built-in ones.
    pub maven_lock_dir: Option<PathBuf>,
    pub verify_signature: bool,
    pub kafka_port: u16,
    pub zookeeper_port: u16,
    pub controller_port: u16,
    pub selftest: bool,
    pub paths: Paths,
    pub templates: Option<PathBuf>,
    pub kafka_heap: String,
    pub zookeeper_heap: String,
    /// JVM options added after kafkup's own (the last of a repeated option wins).
    pub kafka_jvm_options: Vec<String>,
    pub zookeeper_jvm_options: Vec<String>,
    pub java_home: Option<PathBuf>,
    pub ready_timeout_secs: u64,
    /// May setup install a JRE with apt-get when none is found?
    pub install_java: bool,
    /// The docker runner's JRE image.
    pub image: String,
    /// Start the JVMs with class-data archives (made on the first start).
    pub class_archive: bool,
}

/// The TOML config file: every key optional, unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub root: Option<PathBuf>,
    pub mode: Option<Mode>,
    pub backend: Option<Backend>,
    pub kafka_version: Option<String>,
    pub zookeeper_version: Option<String>,
    pub scala_version: Option<String>,
    pub source: Option<SourceChoice>,
    pub mirrors: Option<Vec<String>>,
    pub dists: Option<Vec<String>>,
    pub maven_repos: Option<Vec<String>>,
    pub keys: Option<Vec<PathBuf>>,
    pub maven_lock_dir: Option<PathBuf>,
    pub verify_signature: Option<bool>,
    pub kafka_port: Option<u16>,
    pub zookeeper_port: Option<u16>,
    pub controller_port: Option<u16>,
    pub selftest: Option<bool>,
    pub templates: Option<PathBuf>,
    pub kafka_heap: Option<String>,
    pub zookeeper_heap: Option<String>,
    pub kafka_jvm_options: Option<Vec<String>>,
    pub zookeeper_jvm_options: Option<Vec<String>>,
    pub java_home: Option<PathBuf>,
    pub ready_timeout_secs: Option<u64>,
    pub image: Option<String>,
    pub class_archive: Option<bool>,
}

/// What flags and environment said (clap fills it); `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub root: Option<PathBuf>,
    pub mode: Option<Mode>,
    pub backend: Option<Backend>,
    pub kafka_version: Option<String>,
    pub zookeeper_version: Option<String>,
    pub source: Option<SourceChoice>,
    pub mirrors: Vec<String>,
    pub dists: Vec<String>,
    pub maven_repos: Vec<String>,
    pub keys: Vec<PathBuf>,
    pub maven_lock_dir: Option<PathBuf>,
    pub no_verify_signature: bool,
    pub kafka_port: Option<u16>,
    pub zookeeper_port: Option<u16>,
    pub controller_port: Option<u16>,
    pub no_selftest: bool,
    pub templates: Option<PathBuf>,
    pub java_home: Option<PathBuf>,
    pub ready_timeout_secs: Option<u64>,
    pub install_java: bool,
    pub image: Option<String>,
    pub no_class_archive: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config file {path}: {reason}")]
    ConfigUnreadable {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    ConfigInvalid { path: PathBuf, message: String },
    #[error("{what} {value:?} is not a usable URL: {reason}")]
    BadUrl {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("port {port} is used twice ({first} and {second})")]
    PortClash {
        port: u16,
        first: &'static str,
        second: &'static str,
    },
    #[error("{what} must be a port between 1 and 65535, not 0")]
    PortZero { what: &'static str },
    #[error("heap size {value:?} is not a JVM size like 512m or 1g")]
    BadHeap { value: String },
    #[error("{key} entry {value:?} is not a JVM option (one option per entry, starting with -)")]
    BadJvmOption { key: &'static str, value: String },
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
}

impl Diagnose for SettingsError {
    fn exit_code(&self) -> ExitCode {
        match self {
            SettingsError::ConfigUnreadable { .. } => ExitCode::Error,
            _ => ExitCode::Usage,
        }
    }
    fn help(&self) -> Option<String> {
        match self {
            SettingsError::ConfigUnreadable { .. } => Some("check the path given with --config or KAFKUP_CONFIG".into()),
            SettingsError::ConfigInvalid { .. } => Some("fix that key; `kafkup --help` and the README list the keys and their types".into()),
            SettingsError::BadUrl { .. } => Some("use https:// (http:// only for 127.0.0.1/localhost), or file:// for a local directory".into()),
            SettingsError::PortClash { .. } | SettingsError::PortZero { .. } => Some("choose distinct ports with --kafka-port, --zookeeper-port and --controller-port".into()),
            SettingsError::BadHeap { .. } => None,
            SettingsError::BadJvmOption { .. } => Some("for example kafka_jvm_options = [\"-XX:TieredStopAtLevel=4\", \"-Dsome.property=value\"]".into()),
            SettingsError::Catalog(e) => Diagnose::help(e),
        }
    }
}

/// Reads and parses a config file; errors name the file, the line and the key.
pub fn load_config_file(path: &Path) -> Result<ConfigFile, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|reason| SettingsError::ConfigUnreadable {
        path: path.to_path_buf(),
        reason,
    })?;
    parse_config(&text).map_err(|message| SettingsError::ConfigInvalid {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses config text; on error says line, column and key.
pub fn parse_config(text: &str) -> Result<ConfigFile, String> {
    toml::from_str::<ConfigFile>(text).map_err(|e| {
        let location = e.span().map(|span| {
            let line = text[..span.start].matches('\n').count() + 1;
            let whole = text.lines().nth(line - 1).unwrap_or("").trim();
            match whole.strip_prefix('[') {
                // kafkup's keys are all top-level: a table is the mistake itself.
                Some(_) => format!("line {line}, table `{whole}`: "),
                None => match config_key(text, span.start, whole) {
                    Some(key) => format!("line {line}, key `{key}`: "),
                    None => format!("line {line}: "),
                },
            }
        });
        format!("{}{}", location.unwrap_or_default(), e.message())
    })
}

/// The key whose value starts at `at`, or (when the error is about the key itself) the key of
/// the line `whole`.
fn config_key(text: &str, at: usize, whole: &str) -> Option<String> {
    let before = text[..at].rsplit('\n').next().unwrap_or("");
    [before, whole]
        .into_iter()
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .find(|k| !k.is_empty())
        .map(str::to_string)
}

fn parse_url(what: &'static str, value: &str) -> Result<Url, SettingsError> {
    let bad = |reason: String| SettingsError::BadUrl {
        what,
        value: value.to_string(),
        reason,
    };
    let url = Url::parse(value).map_err(|e| bad(e.to_string()))?;
    // The same rule the fetch pipeline enforces on every request and redirect.
    crate::fetch::policy::check_url(&url).map_err(|e| bad(e.to_string()))?;
    Ok(url)
}

/// Flags (or environment) win; else the file's list; else the defaults.
fn pick_urls(
    flags: Vec<String>,
    file: Option<Vec<String>>,
    defaults: &[&str],
    what: &'static str,
) -> Result<Vec<Url>, SettingsError> {
    let chosen = if !flags.is_empty() {
        flags
    } else {
        file.unwrap_or_else(|| defaults.iter().map(|s| s.to_string()).collect())
    };
    chosen
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| parse_url(what, s))
        .collect()
}

/// The three ports: flag, then file, then default; checked against each other.
fn pick_ports(
    mode: Mode,
    over: &Overrides,
    file: &ConfigFile,
) -> Result<(u16, u16, u16), SettingsError> {
    let kafka = over.kafka_port.or(file.kafka_port);
    let zookeeper = over.zookeeper_port.or(file.zookeeper_port);
    let controller = over.controller_port.or(file.controller_port);
    let ports = (
        kafka.unwrap_or(defaults::KAFKA_PORT),
        zookeeper.unwrap_or(defaults::ZOOKEEPER_PORT),
        controller.unwrap_or(defaults::CONTROLLER_PORT),
    );
    check_ports(mode, ports.0, ports.1, ports.2)?;
    Ok(ports)
}

/// The Kafka, ZooKeeper and Scala versions: flag, file or default; checked against the mode.
fn pick_versions(
    mode: Mode,
    over: &mut Overrides,
    file: &mut ConfigFile,
) -> Result<(String, String, String), SettingsError> {
    let kafka_version = over
        .kafka_version
        .take()
        .or(file.kafka_version.take())
        .unwrap_or_else(|| mode.default_kafka_version().to_string());
    let zookeeper_version = over
        .zookeeper_version
        .take()
        .or(file.zookeeper_version.take())
        .unwrap_or_else(|| defaults::ZOOKEEPER_VERSION.to_string());
    let scala_version = file
        .scala_version
        .take()
        .unwrap_or_else(|| defaults::SCALA_VERSION.to_string());
    catalog::check_version("Kafka version", &kafka_version)?;
    catalog::check_version("ZooKeeper version", &zookeeper_version)?;
    catalog::check_version("Scala version", &scala_version)?;
    catalog::check_mode(mode, &kafka_version)?;
    Ok((kafka_version, zookeeper_version, scala_version))
}

/// A heap size from the file, or the default; checked.
fn pick_heap(from_file: Option<String>, default: &str) -> Result<String, SettingsError> {
    let heap = from_file.unwrap_or_else(|| default.into());
    check_heap(&heap)?;
    Ok(heap)
}

/// The ports the mode uses: none 0, none twice.
fn check_ports(
    mode: Mode,
    kafka: u16,
    zookeeper: u16,
    controller: u16,
) -> Result<(), SettingsError> {
    let mut used: Vec<(u16, &'static str)> = vec![(kafka, "--kafka-port")];
    if mode == Mode::Zookeeper {
        used.push((zookeeper, "--zookeeper-port"));
    } else {
        used.push((controller, "--controller-port"));
    }
    for (i, (port, what)) in used.iter().enumerate() {
        if *port == 0 {
            return Err(SettingsError::PortZero { what });
        }
        if let Some((_, first)) = used[..i].iter().find(|(p, _)| p == port) {
            return Err(SettingsError::PortClash {
                port: *port,
                first,
                second: what,
            });
        }
    }
    Ok(())
}

/// Extra JVM options from the file: each one option, so that no entry can smuggle in a main
/// class or a second word.
fn pick_jvm_options(
    from_file: Option<Vec<String>>,
    key: &'static str,
) -> Result<Vec<String>, SettingsError> {
    let options = from_file.unwrap_or_default();
    match options
        .iter()
        .find(|o| !o.starts_with('-') || o.len() < 2 || o.chars().any(char::is_whitespace))
    {
        Some(bad) => Err(SettingsError::BadJvmOption {
            key,
            value: bad.clone(),
        }),
        None => Ok(options),
    }
}

fn check_heap(value: &str) -> Result<(), SettingsError> {
    let digits = value.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
    if !digits.is_empty()
        && digits.len() + 1 >= value.len()
        && digits.chars().all(|c| c.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(SettingsError::BadHeap {
            value: value.to_string(),
        })
    }
}

impl Settings {
    /// Merges overrides (flags and environment) over the config file over defaults.
    pub fn resolve(
        mut over: Overrides,
        mut file: ConfigFile,
        default_paths: impl FnOnce() -> Paths,
    ) -> Result<Settings, SettingsError> {
        let mode = over.mode.or(file.mode).unwrap_or(Mode::Zookeeper);
        let (kafka_port, zookeeper_port, controller_port) = pick_ports(mode, &over, &file)?;
        let (kafka_version, zookeeper_version, scala_version) =
            pick_versions(mode, &mut over, &mut file)?;

        let mirrors = pick_urls(over.mirrors, file.mirrors, defaults::MIRRORS, "mirror")?;
        let dists = pick_urls(over.dists, file.dists, defaults::DISTS, "dist")?;
        let maven_repos = pick_urls(
            over.maven_repos,
            file.maven_repos,
            defaults::MAVEN_REPOS,
            "maven repo",
        )?;
        let keys = match over.keys.is_empty() {
            true => file.keys.unwrap_or_default(),
            false => over.keys,
        };

        let kafka_heap = pick_heap(file.kafka_heap.take(), defaults::KAFKA_HEAP)?;
        let zookeeper_heap = pick_heap(file.zookeeper_heap.take(), defaults::ZOOKEEPER_HEAP)?;
        let kafka_jvm_options =
            pick_jvm_options(file.kafka_jvm_options.take(), "kafka_jvm_options")?;
        let zookeeper_jvm_options =
            pick_jvm_options(file.zookeeper_jvm_options.take(), "zookeeper_jvm_options")?;

        let paths = match over.root.or(file.root) {
            Some(root) => Paths::under_root(&absolute(&root)),
            None => default_paths(),
        };

        Ok(Settings {
            mode,
            backend: over.backend.or(file.backend).unwrap_or_default(),
            kafka_version,
            zookeeper_version,
            scala_version,
            source: over.source.or(file.source).unwrap_or(defaults::SOURCE),
            mirrors,
            dists,
            maven_repos,
            keys: keys.iter().map(|k| absolute(k)).collect(),
            maven_lock_dir: over
                .maven_lock_dir
                .or(file.maven_lock_dir)
                .map(|d| absolute(&d)),
            verify_signature: !over.no_verify_signature && file.verify_signature.unwrap_or(true),
            kafka_port,
            zookeeper_port,
            controller_port,
            selftest: !over.no_selftest && file.selftest.unwrap_or(true),
            paths,
            templates: over.templates.or(file.templates),
            kafka_heap,
            zookeeper_heap,
            kafka_jvm_options,
            zookeeper_jvm_options,
            java_home: over.java_home.or(file.java_home),
            ready_timeout_secs: over
                .ready_timeout_secs
                .or(file.ready_timeout_secs)
                .unwrap_or(defaults::READY_TIMEOUT_SECS),
            install_java: over.install_java,
            image: over
                .image
                .or(file.image)
                .unwrap_or_else(|| defaults::IMAGE.into()),
            class_archive: !over.no_class_archive && file.class_archive.unwrap_or(true),
        })
    }
}

impl Settings {
    /// Where the distributions come from, and how they are proven.
    pub fn sources(&self) -> crate::fetch::Sources {
        crate::fetch::Sources {
            choice: self.source,
            mirrors: self.mirrors.clone(),
            dists: self.dists.clone(),
            verify_signature: self.verify_signature,
            maven: crate::fetch::MavenSources {
                repos: self.maven_repos.clone(),
                keys_files: self.keys.clone(),
                lock_dir: self.maven_lock_dir.clone(),
            },
        }
    }
}

/// Paths are stored in state and units: make them absolute without touching the disk.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(over: Overrides, file: &str) -> Result<Settings, SettingsError> {
        Settings::resolve(over, parse_config(file).unwrap(), || {
            Paths::under_root(Path::new("/d"))
        })
    }

    #[test]
    fn defaults_are_zookeeper_mode_with_kafka_3_9() {
        let s = resolve(Overrides::default(), "").unwrap();
        assert_eq!(s.mode, Mode::Zookeeper);
        assert_eq!(s.kafka_version, "3.9.2");
        assert_eq!(s.mirrors[0].as_str(), "https://dlcdn.apache.org/");
        assert_eq!(s.dists[1].as_str(), "https://archive.apache.org/dist");
        assert!(s.verify_signature && s.selftest);
        assert_eq!(s.source, SourceChoice::Auto);
        assert_eq!(
            s.maven_repos[0].as_str(),
            "https://repo.maven.apache.org/maven2"
        );
        assert!(s.keys.is_empty() && s.maven_lock_dir.is_none());
    }

    #[test]
    fn the_source_and_maven_settings_follow_the_precedence() {
        let file = "source = \"maven\"\nmaven_repos = [\"https://nexus.example/maven2\"]\nkeys = [\"/k/KEYS\"]\nmaven_lock_dir = \"/locks\"\n";
        let s = resolve(Overrides::default(), file).unwrap();
        assert_eq!(s.source, SourceChoice::Maven);
        assert_eq!(s.maven_repos[0].as_str(), "https://nexus.example/maven2");
        assert_eq!(s.keys, vec![PathBuf::from("/k/KEYS")]);
        assert_eq!(s.maven_lock_dir, Some(PathBuf::from("/locks")));
        let over = Overrides {
            source: Some(SourceChoice::Apache),
            maven_repos: vec!["http://127.0.0.1:8081/maven2".into()],
            ..Default::default()
        };
        let s = resolve(over, file).unwrap();
        assert_eq!(s.source, SourceChoice::Apache);
        assert_eq!(s.maven_repos[0].as_str(), "http://127.0.0.1:8081/maven2");
        let over = Overrides {
            maven_repos: vec!["http://nexus.example/maven2".into()],
            ..Default::default()
        };
        assert!(matches!(
            resolve(over, ""),
            Err(SettingsError::BadUrl {
                what: "maven repo",
                ..
            })
        ));
        assert!(parse_config("source = \"ftp\"").is_err());
    }

    #[test]
    fn kraft_mode_defaults_to_kafka_4() {
        let s = resolve(Overrides::default(), "mode = \"kraft\"").unwrap();
        assert_eq!(s.kafka_version, "4.4.0");
    }

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let over = Overrides {
            kafka_port: Some(19092),
            ..Default::default()
        };
        let s = resolve(over, "kafka_port = 29092\nzookeeper_port = 22181\n").unwrap();
        assert_eq!(s.kafka_port, 19092);
        assert_eq!(s.zookeeper_port, 22181);
        assert_eq!(s.controller_port, 9093);
    }

    #[test]
    fn a_bad_key_is_named_with_its_line() {
        let err = parse_config("mode = \"kraft\"\nkafka_port = \"abc\"\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("kafka_port"), "{err}");
        let err = parse_config("\n\nkafak_port = 1\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("kafak_port"), "{err}");
        let err = parse_config("mode = \"kraft\"\n[server]\nport = 1\n").unwrap_err();
        assert!(err.contains("line 2, table `[server]`"), "{err}");
    }

    #[test]
    fn zookeeper_mode_with_kafka_4_names_kraft() {
        let over = Overrides {
            kafka_version: Some("4.0.0".into()),
            ..Default::default()
        };
        let err = resolve(over, "").unwrap_err();
        assert!(err.help().unwrap().contains("--mode kraft"));
    }

    #[test]
    fn plain_http_only_for_loopback() {
        let over = Overrides {
            mirrors: vec!["http://127.0.0.1:8000".into()],
            ..Default::default()
        };
        assert!(resolve(over, "").is_ok());
        let over = Overrides {
            mirrors: vec!["http://mirror.example.org".into()],
            ..Default::default()
        };
        assert!(matches!(
            resolve(over, ""),
            Err(SettingsError::BadUrl { .. })
        ));
        let over = Overrides {
            dists: vec!["file:///srv/mirror".into()],
            ..Default::default()
        };
        assert!(resolve(over, "").is_ok());
    }

    #[test]
    fn clashing_ports_are_refused() {
        let over = Overrides {
            kafka_port: Some(2181),
            ..Default::default()
        };
        assert!(matches!(
            resolve(over, ""),
            Err(SettingsError::PortClash { port: 2181, .. })
        ));
    }

    #[test]
    fn heap_sizes_are_checked() {
        assert!(check_heap("512m").is_ok());
        assert!(check_heap("1g").is_ok());
        assert!(check_heap("1gb").is_err());
        assert!(check_heap("-Xmx1g").is_err());
    }

    #[test]
    fn extra_jvm_options_are_single_options() {
        let ok =
            |o: &[&str]| pick_jvm_options(Some(o.iter().map(|s| s.to_string()).collect()), "k");
        assert_eq!(ok(&[]).unwrap(), Vec::<String>::new());
        assert_eq!(pick_jvm_options(None, "k").unwrap(), Vec::<String>::new());
        assert_eq!(
            ok(&["-XX:TieredStopAtLevel=4", "-Da=b"]).unwrap(),
            ["-XX:TieredStopAtLevel=4", "-Da=b"]
        );
        for bad in ["kafka.Kafka", "-Xmx1g -Xms1g", "-", "", "-Da=\nb"] {
            let err = ok(&["-Dfine=1", bad]).unwrap_err();
            assert!(
                err.to_string().contains("not a JVM option"),
                "{bad:?}: {err}"
            );
        }
    }
}
