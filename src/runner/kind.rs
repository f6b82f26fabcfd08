//! The closed set of runners, and `--backend`: one of them, or `auto`.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunnerKind {
    Process,
    Systemd,
    Docker,
}

impl RunnerKind {
    pub const ALL: [RunnerKind; 3] = [RunnerKind::Process, RunnerKind::Systemd, RunnerKind::Docker];

    pub fn as_str(self) -> &'static str {
        match self {
            RunnerKind::Process => "process",
            RunnerKind::Systemd => "systemd",
            RunnerKind::Docker => "docker",
        }
    }
}

impl fmt::Display for RunnerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `--backend` (or the config's `backend`) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Detect: systemd when it is PID 1 and we are root, else docker when the daemon answers,
    /// else process.
    #[default]
    Auto,
    Only(RunnerKind),
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Only(kind) => kind.as_str(),
        }
    }

    pub fn parse(text: &str) -> Option<Backend> {
        match text {
            "auto" => Some(Backend::Auto),
            other => RunnerKind::ALL
                .into_iter()
                .find(|k| k.as_str() == other)
                .map(Backend::Only),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl clap::ValueEnum for Backend {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Backend::Auto,
            Backend::Only(RunnerKind::Process),
            Backend::Only(RunnerKind::Systemd),
            Backend::Only(RunnerKind::Docker),
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

impl Serialize for Backend {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Backend {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Backend::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown backend `{text}`, expected one of auto, process, systemd, docker"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_parse_and_print_the_same_words() {
        for b in <Backend as clap::ValueEnum>::value_variants() {
            assert_eq!(Backend::parse(b.as_str()), Some(*b));
        }
        assert_eq!(Backend::parse("podman"), None);
        let b: Backend =
            toml::from_str::<std::collections::BTreeMap<String, Backend>>("b = \"systemd\"")
                .unwrap()["b"];
        assert_eq!(b, Backend::Only(RunnerKind::Systemd));
    }
}
