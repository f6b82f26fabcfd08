//! `kafkup export strimzi`: the environment under --root (or the settings of a setup that has
//! not run) as Strimzi resources ([`crate::export::strimzi`]), in YAML with the notes on top.

use super::Context;
use crate::deployment::Deployment;
use crate::error::Problem;
use crate::export::strimzi::{self, Source, Topic};
use crate::runner::detect::RunnerChoice;
use crate::settings::Settings;
use crate::vocab::{Role, RunnerKind};
use anyhow::{Context as _, Result};
use std::path::Path;

/// Where the export goes and what it is called.
pub struct Target<'a> {
    pub out: &'a Path,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
}

pub async fn strimzi(ctx: &Context<'_>, settings: &Settings, to: Target<'_>) -> Result<()> {
    check_name(to.name)?;
    let source = source(settings, &to)?;
    let export = strimzi::export(&source)?;
    for note in &export.notes {
        ctx.reporter.warn(note);
    }
    let yaml = to_yaml(&export)?;
    if to.out == Path::new("-") {
        return super::say(yaml.trim_end());
    }
    fs_err::create_dir_all(to.out)?;
    let file = to.out.join(format!("{}.yaml", to.name));
    crate::files::write_atomic(&file, yaml.as_bytes(), 0o644)
        .with_context(|| format!("cannot write {}", file.display()))?;
    super::say(&file.display().to_string())
}

/// A Kubernetes name: what `kubectl` takes for the Kafka resource and its pods.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 52
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    match ok {
        true => Ok(()),
        false => Err(Problem::usage(
            format!("{name:?} is not a name Kubernetes takes for a Kafka cluster"),
            "use lowercase letters, digits and '-', starting with a letter (at most 52)",
        )
        .into()),
    }
}

/// What the export reads: the settings' shape and a broker's rendered server.properties.
fn source(settings: &Settings, to: &Target<'_>) -> Result<Source> {
    let process = RunnerChoice {
        kind: RunnerKind::Process,
        why: "export".into(),
    };
    let want = Deployment::resolve(settings, process, None)?;
    let broker = want.of_role(Role::Kafka).next().expect("a broker");
    let server = want
        .files
        .iter()
        .find(|f| f.node == broker.id && f.rel.ends_with("server.properties"))
        .expect("a broker has a server.properties");
    let broker_config = crate::security::clients::parse_properties(&server.contents)
        .map_err(|said| anyhow::anyhow!("the rendered server.properties: {said}"))?;
    let shape = want.topology.shape;
    let factor = u16::from(want.topology.replication.factor);
    let topics = settings
        .topics
        .iter()
        .map(|t| Topic {
            name: t.name.clone(),
            partitions: t.partitions.unwrap_or(1),
            replicas: t.replication_factor.unwrap_or(factor),
            configs: t.configs.clone(),
        })
        .collect();
    Ok(Source {
        name: to.name.to_string(),
        namespace: to.namespace.map(str::to_string),
        mode: settings.mode,
        kafka_version: want.kafka_version(),
        brokers: shape.brokers,
        controllers: shape.controllers,
        voters: shape.voters,
        security: settings.security,
        broker_config,
        topics,
    })
}

/// The notes as comments, then each document after `---`.
fn to_yaml(export: &strimzi::Export) -> Result<String> {
    let mut yaml = format!(
        "# Strimzi {} resources written by kafkup {}. Apply: kubectl apply -f FILE\n",
        strimzi::STRIMZI,
        env!("CARGO_PKG_VERSION")
    );
    for note in &export.notes {
        yaml.push_str(&format!("# - {note}\n"));
    }
    for document in &export.documents {
        yaml.push_str("---\n");
        yaml.push_str(&yaml_serde::to_string(document)?);
    }
    Ok(yaml)
}
