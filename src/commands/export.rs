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
    let mut source = source(settings, &to)?;
    add_live_topics(ctx, settings, &mut source.topics).await;
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

/// The topics the running environment holds beyond the declared ones (made with `kafkup topic
/// create` or by clients), as the brokers describe them; internal topics and kafkup's own are
/// left out. An environment that does not answer leaves the declared topics alone, with a warning.
async fn add_live_topics(ctx: &Context<'_>, settings: &Settings, topics: &mut Vec<Topic>) {
    // ZooKeeper mode is refused by the export itself: no need to ask its brokers.
    if settings.mode != crate::vocab::Mode::Kraft {
        return;
    }
    let Ok(Some(manifest)) = crate::state::load(&settings.paths()) else {
        return;
    };
    match live_topics(&manifest).await {
        Ok(live) => {
            let declared: Vec<String> = topics.iter().map(|t| t.name.clone()).collect();
            topics.extend(live.into_iter().filter(|t| !declared.contains(&t.name)));
        }
        Err(e) => ctx.reporter.warn(&format!(
            "only the declared topics are exported: the environment did not answer ({e:#}); \
             `kafkup start` and export again to include the topics it holds"
        )),
    }
}

async fn live_topics(manifest: &crate::state::Manifest) -> Result<Vec<Topic>> {
    use crate::security;
    security::connect_as(&security::inputs_of(manifest), security::ADMIN);
    let timeout = std::time::Duration::from_secs(5);
    let admin = crate::messaging::admin::Admin::new(&manifest.bootstrap_server(), timeout)?;
    let described = admin.describe_all().await?;
    let mut topics = Vec::new();
    for topic in described
        .into_iter()
        .filter(|t| !crate::spec::is_internal_or_kafkups(&t.name))
    {
        let replicas = topic.partitions.iter().map(|p| p.replicas.len());
        topics.push(Topic {
            configs: admin.own_configs(&topic.name).await?,
            partitions: topic.partitions.len() as u32,
            replicas: replicas.max().unwrap_or(1) as u16,
            name: topic.name,
        });
    }
    admin.close().await;
    Ok(topics)
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

/// `kafkup export properties --out DIR`: each node's server.properties (and zoo.cfg) and the
/// clients' properties, with what is true only of this machine marked `# CHANGE:`.
pub async fn properties(ctx: &Context<'_>, settings: &Settings, out: &Path) -> Result<()> {
    let process = RunnerChoice {
        kind: RunnerKind::Process,
        why: "export".into(),
    };
    let want = Deployment::resolve(settings, process, None)?;
    let paths = settings.paths();
    let host_paths = [
        paths.install.clone(),
        paths.data.clone(),
        paths.config.clone(),
        paths.state.clone(),
    ];
    let mut files: Vec<(std::path::PathBuf, String)> = want
        .files
        .iter()
        .filter(|f| f.rel.ends_with("server.properties") || f.rel.ends_with("zoo.cfg"))
        .map(|f| (f.rel.clone(), f.contents.clone()))
        .collect();
    files.extend(client_files(&want, &paths)?);
    let mut changes = 0;
    let mut written = Vec::new();
    for (rel, contents) in &files {
        let (text, count) = crate::export::properties::annotate(contents, &host_paths);
        let path = out.join(rel);
        fs_err::create_dir_all(path.parent().expect("below DIR"))?;
        crate::files::write_atomic(&path, text.as_bytes(), 0o600)
            .with_context(|| format!("cannot write {}", path.display()))?;
        changes += count;
        written.push(path.display().to_string());
    }
    ctx.reporter.warn(&format!(
        "{changes} line(s) hold this machine's paths or loopback addresses: each is marked `# CHANGE:` above it"
    ));
    super::say(&written.join("\n"))
}

/// Each user's client.properties of a secured environment (they name its CA and keys), or
/// one plaintext client.properties.
fn client_files(
    want: &Deployment,
    paths: &crate::paths::Paths,
) -> Result<Vec<(std::path::PathBuf, String)>> {
    let rel = |user: &str| Path::new("clients").join(user).join("client.properties");
    let mut files = Vec::new();
    let secured = want.security != crate::vocab::Security::Plaintext;
    for user in crate::security::USERS.iter().filter(|_| secured) {
        let file = crate::security::client_dir(paths, user).join("client.properties");
        if let Ok(text) = fs_err::read_to_string(&file) {
            files.push((rel(user), text));
        }
    }
    if files.is_empty() {
        let mut text = format!(
            "bootstrap.servers={}\nsecurity.protocol={}\n",
            want.bootstrap_server(),
            want.security.client_protocol()
        );
        if secured {
            text.push_str(
                "# The CA, keys and passwords come with `kafkup setup`: export again after it.\n",
            );
        }
        files.push((Path::new("clients").join("client.properties"), text));
    }
    Ok(files)
}
