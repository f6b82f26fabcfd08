//! The resolvers of the settings table: each takes the setting's key and what the layers said,
//! applies the default and checks the value. Pure.

use super::SettingsError;
use crate::topics::TopicDecl;
use std::path::{Path, PathBuf};
use url::Url;

/// A resolver: `(key, value the layers gave) -> resolved value`.
pub trait Resolve<I, O>: FnOnce(&'static str, Option<I>) -> Result<O, SettingsError> {}
impl<I, O, F: FnOnce(&'static str, Option<I>) -> Result<O, SettingsError>> Resolve<I, O> for F {}

/// The value, else `default`.
pub fn or<T>(default: T) -> impl Resolve<T, T> {
    move |_, value| Ok(value.unwrap_or(default))
}

/// A string setting whose default is a constant.
pub fn or_str(default: &'static str) -> impl Resolve<String, String> {
    move |_, value| Ok(value.unwrap_or_else(|| default.to_string()))
}

/// A TCP port (not 0), else `default`.
pub fn port(default: u16) -> impl Resolve<u16, u16> {
    move |key, value| match value.unwrap_or(default) {
        0 => Err(SettingsError::PortZero { what: flag(key) }),
        port => Ok(port),
    }
}

/// A TCP port (not 0) whose default depends on other settings (decided later).
pub fn some_port() -> impl Resolve<u16, Option<u16>> {
    |key, value| match value {
        Some(0) => Err(SettingsError::PortZero { what: flag(key) }),
        other => Ok(other),
    }
}

/// A release version in kafkup's safe alphabet, else `default`.
pub fn version(what: &'static str, default: &'static str) -> impl Resolve<String, String> {
    move |_, value| {
        let version = value.unwrap_or_else(|| default.to_string());
        crate::catalog::check_version(what, &version)?;
        Ok(version)
    }
}

/// A version whose default depends on other settings (decided later).
pub fn maybe_version(what: &'static str) -> impl Resolve<String, Option<String>> {
    move |_, value| {
        if let Some(v) = &value {
            crate::catalog::check_version(what, v)?;
        }
        Ok(value)
    }
}

/// Base URLs, else `defaults`; each must pass kafkup's URL rule (https, or http on loopback,
/// or file). Empty entries (a trailing comma in a variable) are dropped.
pub fn urls(
    what: &'static str,
    defaults: &'static [&'static str],
) -> impl Resolve<Vec<String>, Vec<Url>> {
    move |_, value| {
        let chosen = value.unwrap_or_else(|| defaults.iter().map(|s| s.to_string()).collect());
        chosen
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| parse_url(what, s))
            .collect()
    }
}

fn parse_url(what: &'static str, value: &str) -> Result<Url, SettingsError> {
    let bad = |reason: String| SettingsError::BadUrl {
        what,
        value: value.to_string(),
        reason,
    };
    let url = Url::parse(value).map_err(|e| bad(e.to_string()))?;
    crate::fetch::policy::check_url(&url).map_err(|e| bad(e.to_string()))?;
    Ok(url)
}

/// A JVM heap size like `512m` or `1g`, else `default`.
pub fn heap(default: &'static str) -> impl Resolve<String, String> {
    move |_, value| {
        let heap = value.unwrap_or_else(|| default.to_string());
        let digits = heap.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
        let well_formed = !digits.is_empty()
            && digits.len() + 1 >= heap.len()
            && digits.chars().all(|c| c.is_ascii_digit());
        match well_formed {
            true => Ok(heap),
            false => Err(SettingsError::BadHeap { value: heap }),
        }
    }
}

/// Extra JVM options: each one option, so that no entry can smuggle in a main class or a
/// second word.
pub fn jvm_options() -> impl Resolve<Vec<String>, Vec<String>> {
    |key, value| {
        let options = value.unwrap_or_default();
        let bad = options
            .iter()
            .find(|o| !o.starts_with('-') || o.len() < 2 || o.chars().any(char::is_whitespace));
        match bad {
            Some(bad) => Err(SettingsError::BadJvmOption {
                key,
                value: bad.clone(),
            }),
            None => Ok(options),
        }
    }
}

/// Declared topics, each checked (a table from the config file was not parsed by `--topic`'s
/// rules), and each name once.
pub fn topics() -> impl Resolve<Vec<TopicDecl>, Vec<TopicDecl>> {
    |_, value| {
        let topics = value.unwrap_or_default();
        for (i, topic) in topics.iter().enumerate() {
            topic.check().map_err(SettingsError::BadTopic)?;
            if topics[..i].iter().any(|t| t.name == topic.name) {
                return Err(SettingsError::BadTopic(format!(
                    "topic `{}` is declared twice",
                    topic.name
                )));
            }
        }
        Ok(topics)
    }
}

/// A path, made absolute (paths end up in the manifest and in units).
pub fn path() -> impl Resolve<PathBuf, Option<PathBuf>> {
    |_, value| Ok(value.map(|p| absolute(&p)))
}

/// Paths, made absolute; none when no layer gave any.
pub fn paths() -> impl Resolve<Vec<PathBuf>, Vec<PathBuf>> {
    |_, value| {
        Ok(value
            .unwrap_or_default()
            .iter()
            .map(|p| absolute(p))
            .collect())
    }
}

/// The flag a setting key has: `kafka_port` → `--kafka-port`.
pub fn flag(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
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

    #[test]
    fn heap_sizes_are_checked() {
        let h = |v: &str| heap("1g")("kafka_heap", Some(v.to_string()));
        assert!(h("512m").is_ok() && h("1g").is_ok());
        assert!(h("1gb").is_err() && h("-Xmx1g").is_err());
        assert_eq!(heap("1g")("kafka_heap", None).unwrap(), "1g");
    }

    #[test]
    fn extra_jvm_options_are_single_options() {
        let ok = |o: &[&str]| jvm_options()("k", Some(o.iter().map(|s| s.to_string()).collect()));
        assert_eq!(ok(&[]).unwrap(), Vec::<String>::new());
        assert_eq!(jvm_options()("k", None).unwrap(), Vec::<String>::new());
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

    #[test]
    fn port_zero_names_the_flag() {
        let err = port(9092)("kafka_port", Some(0)).unwrap_err();
        assert!(err.to_string().starts_with("--kafka-port must be"), "{err}");
    }
}
