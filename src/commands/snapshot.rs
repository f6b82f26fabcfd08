//! `kafkup snapshot save|restore|list|delete NAME`: the environment's data, taken and put back
//! with its services stopped (and started again if they ran); see [`crate::snapshot`].

use super::Context;
use crate::environment::Environment;
use crate::error::Problem;
use crate::lifecycle::{self, Launch};
use crate::runner::Runner;
use crate::snapshot::{self, copy, Meta};
use crate::vocab::NodeId;
use anyhow::{Context as _, Result};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The snapshot directory of `name`, refused when the name is not a plain directory name.
fn dir_of(env: &Environment, name: &str) -> Result<PathBuf> {
    if !snapshot::valid_name(name) {
        return Err(Problem::new(
            format!("{name:?} is not a snapshot name"),
            "use letters, digits, '.', '_' and '-' (not first '.')",
        )
        .into());
    }
    Ok(snapshot::dir(&env.manifest.paths).join(name))
}

/// The environment and where this user reaches every node's data on the host (under docker:
/// the volumes where the Engine keeps them), refused where it cannot.
async fn open(ctx: &Context<'_>) -> Result<(Environment, Vec<(NodeId, PathBuf)>)> {
    let env = Environment::open(&super::paths(ctx)?).await?;
    let dirs = env.data_dirs().unwrap_or_default();
    let on_host = env.runner()?.data_on_host(&dirs).await?;
    let Some(on_host) = on_host else {
        return Err(Problem::new(
            "the Docker volumes of this environment are not readable here (the Engine keeps them where only root reads, or on another host)",
            "run the snapshot command as root on the Engine's host; `docker run --rm -v VOLUME:/d -v $PWD:/b IMAGE tar -C /d -cf /b/VOLUME.tar .` copies a stopped node's volume",
        )
        .into());
    };
    Ok((env, on_host))
}

/// The nodes that run now (they are started again afterwards).
async fn running(env: &Environment) -> Result<Vec<NodeId>> {
    let runner = env.runner()?;
    let mut up = Vec::new();
    for record in &env.manifest.services {
        if runner.state(record.spec.name).await?.is_up() {
            up.push(record.spec.name);
        }
    }
    Ok(up)
}

async fn stop(ctx: &Context<'_>, env: &Environment) -> Result<()> {
    let specs: Vec<_> = env.manifest.services.iter().map(|s| &s.spec).collect();
    lifecycle::stop_all(env.runner()?, &specs, ctx.reporter).await?;
    Ok(())
}

/// Starts `nodes` again and waits until they are ready.
async fn start(ctx: &Context<'_>, env: &Environment, nodes: &[NodeId]) -> Result<()> {
    let launches: Vec<Launch> = env
        .manifest
        .services
        .iter()
        .filter(|s| nodes.contains(&s.spec.name))
        .map(|s| (&s.spec, s.command.as_slice()))
        .collect();
    if launches.is_empty() {
        return Ok(());
    }
    let runner = env.runner()?;
    lifecycle::start_all(runner, &launches, ctx.reporter).await?;
    let timeout = Duration::from_secs(env.manifest.ready_timeout_secs);
    lifecycle::wait_ready(runner, &launches, timeout, ctx.reporter, |_| true).await?;
    Ok(())
}

pub async fn save(ctx: &Context<'_>, name: &str) -> Result<()> {
    let (env, data) = open(ctx).await?;
    let dir = dir_of(&env, name)?;
    if dir.exists() {
        return Err(Problem::new(
            format!("snapshot {name} exists ({})", dir.display()),
            format!("choose another name, or `kafkup snapshot delete {name}` first"),
        )
        .into());
    }
    env.check_data().await?;
    let ran = running(&env).await?;
    stop(ctx, &env).await?;
    let partial = dir.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let taken = take(&env, &data, &partial, name, &ran).and_then(|meta| {
        fs_err::rename(&partial, &dir)?;
        Ok(meta)
    });
    if taken.is_err() {
        let _ = fs_err::remove_dir_all(&partial);
    }
    start(ctx, &env, &ran).await?;
    let meta = taken?;
    say_done(
        ctx,
        &json!({ "saved": meta }),
        &format!("saved snapshot {name}: {}", describe(&meta)),
    )
}

/// Copies every node's data, the manifest and the config into `into`, with its snapshot.json.
fn take(
    env: &Environment,
    data: &[(NodeId, PathBuf)],
    into: &Path,
    name: &str,
    ran: &[NodeId],
) -> Result<Meta> {
    let m = &env.manifest;
    fs_err::create_dir_all(into.join("data"))?;
    let mut bytes = 0;
    for (node, data) in data {
        if data.exists() {
            bytes += copy::tree(data, &snapshot::node_dir(into, *node))
                .with_context(|| format!("copying the data of {node}"))?;
        }
    }
    copy::tree(&m.paths.config, &into.join("config")).context("copying the config")?;
    fs_err::copy(m.paths.manifest(), into.join("manifest.json"))?;
    let meta = Meta {
        name: name.to_string(),
        taken_at: now(),
        kafkup_version: env!("CARGO_PKG_VERSION").into(),
        mode: m.mode,
        nodes: snapshot::node_names(m),
        cluster_id: m.cluster_id.clone(),
        kafka_version: m.kafka_version(),
        ran: ran.iter().map(|n| n.name()).collect(),
        bytes,
    };
    let text = serde_json::to_string_pretty(&meta)?;
    crate::files::write_atomic(&into.join("snapshot.json"), text.as_bytes(), 0o600)?;
    Ok(meta)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn read_meta(dir: &Path) -> Result<Meta> {
    let text = fs_err::read_to_string(dir.join("snapshot.json"))?;
    Ok(serde_json::from_str(&text)?)
}

fn describe(meta: &Meta) -> String {
    format!(
        "{} MiB of {} (cluster {}, {} mode, Kafka {})",
        meta.bytes / (1024 * 1024),
        meta.nodes.join(", "),
        meta.cluster_id.as_deref().unwrap_or("?"),
        meta.mode,
        meta.kafka_version.as_deref().unwrap_or("?")
    )
}

fn say_done(ctx: &Context<'_>, json: &serde_json::Value, text: &str) -> Result<()> {
    if ctx.global.json {
        return super::print_json(json);
    }
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(text)
}

pub async fn restore(ctx: &Context<'_>, name: &str) -> Result<()> {
    let (env, data) = open(ctx).await?;
    let dir = dir_of(&env, name)?;
    let meta = read_meta(&dir).map_err(|e| {
        Problem::new(
            format!("no snapshot {name}: {e:#}"),
            "`kafkup snapshot list` shows the snapshots",
        )
    })?;
    snapshot::fits(&meta, &env.manifest)?;
    let ran = running(&env).await?;
    stop(ctx, &env).await?;
    let placed = put_back(&data, &dir).and_then(|()| remember_release(&env, &meta));
    start(ctx, &env, &ran).await?;
    placed?;
    say_done(
        ctx,
        &json!({ "restored": meta }),
        &format!("restored snapshot {name}: {}", describe(&meta)),
    )
}

/// Data of an older release carries that release's metadata.version: the way back to it
/// (`setup --kafka-version`) is open again.
fn remember_release(env: &Environment, meta: &Meta) -> Result<()> {
    let mut manifest = env.manifest.clone();
    manifest.metadata_release = meta.kafka_version.clone().or(manifest.metadata_release);
    Ok(crate::state::save(&manifest.paths, &manifest)?)
}

/// Every node's data replaced by the snapshot's: all copied beside first, then swapped in by
/// renames (undone if one fails), then the replaced data deleted.
fn put_back(dirs: &[(NodeId, PathBuf)], snapshot_dir: &Path) -> Result<()> {
    let tag = format!("restore-{}", std::process::id());
    let beside = |data: &Path, what: &str| {
        let file = data
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        data.with_file_name(format!(".{file}.{what}-{tag}"))
    };
    for (node, data) in dirs {
        let copied = copy::tree(
            &snapshot::node_dir(snapshot_dir, *node),
            &beside(data, "new"),
        );
        copied.with_context(|| format!("copying the snapshot's data of {node}"))?;
    }
    let mut swapped: Vec<&PathBuf> = Vec::new();
    for (_, data) in dirs {
        let moved = fs_err::rename(data, beside(data, "old"))
            .and_then(|()| fs_err::rename(beside(data, "new"), data));
        if let Err(e) = moved {
            for done in swapped.iter().rev() {
                let _ = std::fs::remove_dir_all(done);
                let _ = std::fs::rename(beside(done, "old"), done);
            }
            return Err(anyhow::Error::new(e).context("the data was left as it was"));
        }
        swapped.push(data);
    }
    for (_, data) in dirs {
        fs_err::remove_dir_all(beside(data, "old"))?;
    }
    Ok(())
}

pub async fn list(ctx: &Context<'_>) -> Result<()> {
    let paths = super::paths(ctx)?;
    let manifest = crate::state::require(&paths)?;
    let mut metas: Vec<Meta> = std::fs::read_dir(snapshot::dir(&manifest.paths))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| read_meta(&e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    metas.sort_by_key(|m| m.taken_at);
    if ctx.global.json {
        return super::print_json(&json!({ "snapshots": metas }));
    }
    if metas.is_empty() {
        return super::say("no snapshots (`kafkup snapshot save NAME` takes one)");
    }
    let lines: Vec<String> = metas
        .iter()
        .map(|m| format!("{:<20} {}", m.name, describe(m)))
        .collect();
    super::say(&lines.join("\n"))
}

pub async fn delete(ctx: &Context<'_>, name: &str) -> Result<()> {
    let env = Environment::open(&super::paths(ctx)?).await?;
    let dir = dir_of(&env, name)?;
    if !dir.join("snapshot.json").is_file() {
        return Err(Problem::new(
            format!("no snapshot {name}"),
            "`kafkup snapshot list` shows the snapshots",
        )
        .into());
    }
    fs_err::remove_dir_all(&dir)?;
    say_done(
        ctx,
        &json!({ "deleted": name }),
        &format!("deleted snapshot {name}"),
    )
}
