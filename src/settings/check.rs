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

/// The value if a layer gave one; no default.
pub fn given<T>() -> impl Resolve<T, Option<T>> {
    move |_, value| Ok(value)
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

/// A JVM heap size like `512m` or `1g`, if one was given (its default depends on the shape).
pub fn some_heap() -> impl Resolve<String, Option<String>> {
    |_, value| match value {
        Some(heap) if !is_heap(&heap) => Err(SettingsError::BadHeap { value: heap }),
        other => Ok(other),
    }
}

fn is_heap(heap: &str) -> bool {
    let digits = heap.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
    !digits.is_empty()
        && digits.len() + 1 >= heap.len()
        && digits.chars().all(|c| c.is_ascii_digit())
}

/// A count between `min` and `max`, else `default`.
pub fn count(default: u8, min: u8, max: u8) -> impl Resolve<u8, u8> {
    move |key, value| count_given(min, max)(key, value).map(|v| v.unwrap_or(default))
}

/// A count between `min` and `max`, if one was given.
pub fn count_given(min: u8, max: u8) -> impl Resolve<u8, Option<u8>> {
    move |key, value| match value {
        Some(n) if n < min || n > max => Err(SettingsError::Invalid {
            what: format!("{} must be between {min} and {max}, not {n}", flag(key)),
            help: format!("give {} a number from {min} to {max}", flag(key)),
        }),
        other => Ok(other),
    }
}

/// One of `allowed`, else `default`.
pub fn one_of(default: u8, allowed: &'static [u8]) -> impl Resolve<u8, u8> {
    move |key, value| match value.unwrap_or(default) {
        n if allowed.contains(&n) => Ok(n),
        n => Err(SettingsError::Invalid {
            what: format!("{} cannot be {n}", flag(key)),
            help: format!("give {} one of {allowed:?}", flag(key)),
        }),
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
        let h = |v: &str| some_heap()("kafka_heap", Some(v.to_string()));
        assert!(h("512m").is_ok() && h("1g").is_ok());
        assert!(h("1gb").is_err() && h("-Xmx1g").is_err());
        assert_eq!(some_heap()("kafka_heap", None).unwrap(), None);
    }

    #[test]
    fn counts_are_checked() {
        assert_eq!(count(1, 1, 9)("brokers", None).unwrap(), 1);
        assert_eq!(count(1, 1, 9)("brokers", Some(3)).unwrap(), 3);
        let err = count(1, 1, 9)("brokers", Some(10)).unwrap_err();
        assert!(
            err.to_string()
                .contains("--brokers must be between 1 and 9"),
            "{err}"
        );
        assert!(one_of(0, &[0, 1, 3])("controllers", Some(2)).is_err());
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
