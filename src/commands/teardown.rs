//! `kafkup teardown [--purge]`: stop and remove exactly what the manifest lists.
//! Without --purge, data (and the manifest, which remembers the cluster id) stay.

use super::Context;
use crate::environment::Environment;
use crate::files;
use crate::lifecycle;
use crate::paths::Paths;
use crate::report::Reporter;
use crate::runner::Runner;
use crate::spec::ServiceSpec;
use crate::state::{self, Manifest};
use crate::vocab::NodeId;
use anyhow::Result;
use serde_json::json;
use std::path::PathBuf;

pub async fn run(ctx: &Context<'_>, paths: &Paths, purge: bool) -> Result<()> {
    // Asking about a root that does not exist must not create it (the lock would).
    if !paths.state.is_dir() {
        return nothing_here(ctx, paths);
    }
    let _lock = crate::lock::acquire(paths)?;
    if state::load(paths)?.is_none() {
        stop_strays(paths, ctx.reporter).await?;
        // Only our own lock was created by asking.
        let _ = files::remove_file_if_exists(&crate::lock::lock_file(paths));
        files::remove_dir_if_empty(&paths.state);
        return nothing_here(ctx, paths);
    }
    let env = Environment::open(paths).await?;
    let reporter = ctx.reporter;
    let mut manifest = env.manifest.clone();
    if let Some(runner) = &env.runner {
        let specs: Vec<&ServiceSpec> = env.manifest.services.iter().map(|s| &s.spec).collect();
        lifecycle::stop_all(runner, &specs, reporter).await?;
        runner.uninstall(purge).await?;
        // Kept: what the runner made that outlives a teardown (the systemd user), for --purge.
        manifest.runner = Some(runner.record());
    }
    stop_strays(paths, reporter).await?;
    remove_installed(&mut manifest, reporter)?;
    let cache = manifest.paths.cache.display().to_string();
    if purge {
        purge_everything(&manifest, reporter)?;
        if ctx.global.json {
            return super::print_json(&json!({
                "torn_down": true, "purged": true, "data_kept": null, "cache_kept": cache,
            }));
        }
        if ctx.global.quiet {
            return Ok(());
        }
        return super::say(&format!(
            "torn down and purged (the download cache in {cache} is kept)"
        ));
    }
    state::save(&manifest.paths, &manifest)?;
    let kept = match manifest.runner_kind() {
        Some(crate::vocab::RunnerKind::Docker) => "its Docker volumes".to_string(),
        _ => manifest.paths.data.display().to_string(),
    };
    if ctx.global.json {
        return super::print_json(&json!({
            "torn_down": true, "purged": false, "data_kept": kept, "cache_kept": cache,
        }));
    }
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&format!(
        "torn down; data kept in {kept} (`kafkup setup` reuses it, `kafkup teardown --purge` deletes it)"
    ))
}

/// The data directories of the environment's nodes: those below the data directory named
/// like a node (`kafka`, `zookeeper`, `kafka-2`, …), whatever nodes it has now.
fn node_data_dirs(paths: &Paths) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(&paths.data) else {
        return vec![];
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| e.file_name().to_str().and_then(NodeId::parse).is_some())
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

/// JVMs of this environment that nothing records any more (their command lines name its
/// config directory) are stopped too: a teardown leaves none of its processes behind.
async fn stop_strays(paths: &Paths, reporter: &dyn Reporter) -> Result<()> {
    let strays = crate::runner::strays::under(&paths.config, &[]);
    if strays.is_empty() {
        return Ok(());
    }
    for s in &strays {
        reporter.step(&format!(
            "stopping {s}, a process of this environment nothing recorded"
        ));
    }
    let grace = crate::defaults::KAFKA_STOP_GRACE;
    crate::runner::strays::stop(&strays, grace)
        .await
        .map_err(|left| {
            let pids: Vec<String> = left.iter().map(|s| s.pid.to_string()).collect();
            crate::error::Problem::new(
                format!(
                    "processes of this environment would not stop: {}",
                    pids.join(", ")
                ),
                "they run as another user or are stuck; stop them as root (`sudo kill -9 PID`)",
            )
            .into()
        })
}

fn nothing_here(ctx: &Context<'_>, paths: &Paths) -> Result<()> {
    if ctx.global.json {
        return super::print_json(&json!({
            "torn_down": false, "nothing_under": paths.state.display().to_string(),
        }));
    }
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&format!(
        "nothing to tear down under {}",
        paths.state.display()
    ))
}

/// Rendered files go; distributions go back to the cache, verified and unpacked, for the
/// next setup. The manifest forgets them, and the services.
fn remove_installed(manifest: &mut Manifest, reporter: &dyn Reporter) -> Result<()> {
    for file in &manifest.files {
        files::remove_file_if_exists(file)?;
    }
    for dist in &manifest.dists {
        if dist.dir.starts_with(&manifest.paths.install) && dist.dir.is_dir() {
            crate::fetch::keep_in_cache(&manifest.paths, &dist.artifact, &dist.sha512, &dist.dir)?;
            reporter.step(&format!("moved {} to the cache", dist.dir.display()));
        }
    }
    manifest.services.clear();
    manifest.files.clear();
    manifest.dists.clear();
    manifest.selftest_passed_at = None;
    Ok(())
}

/// Data of both services, logs, the manifest, the lock and every directory kafkup created
/// that is now empty; the download cache stays.
fn purge_everything(manifest: &Manifest, reporter: &dyn Reporter) -> Result<()> {
    let paths = &manifest.paths;
    purge_data(paths, reporter)?;
    let logs = paths.logs();
    if logs.is_dir() {
        fs_err::remove_dir_all(&logs)?;
    }
    let snapshots = crate::snapshot::dir(paths);
    if snapshots.is_dir() {
        fs_err::remove_dir_all(&snapshots)?;
        reporter.step(&format!("removed the snapshots in {}", snapshots.display()));
    }
    // The local CA and the users' passwords: clients that trusted them must be set up anew.
    let secrets = crate::security::secrets_dir(paths);
    if secrets.is_dir() {
        fs_err::remove_dir_all(&secrets)?;
        reporter.step(&format!(
            "removed the local CA and passwords in {}",
            secrets.display()
        ));
    }
    state::remove(paths)?;
    // The lock we hold goes last (unlinking a held lock is fine: it is released when we exit).
    let _ = files::remove_file_if_exists(&crate::lock::lock_file(paths));
    // Created directories, deepest first, only where now empty; the cache is kept.
    for dir in manifest.dirs.iter().rev() {
        if !dir.starts_with(&paths.cache) {
            files::remove_dir_if_empty(dir);
        }
    }
    for dir in [&paths.state, &paths.install, &paths.config, &paths.data] {
        files::remove_dir_if_empty(dir);
    }
    // The directory holding data and state (/var/lib/kafkup), once it holds nothing more.
    if let Some(base) = paths.data.parent().filter(|b| paths.state.starts_with(b)) {
        files::remove_dir_if_empty(base);
    }
    Ok(())
}

/// Moves every node's data directory aside first (renames on one filesystem, undone if one
/// fails), forgets the manifest, then deletes them: an interrupted purge never leaves one
/// node's data without the others'.
fn purge_data(paths: &Paths, reporter: &dyn Reporter) -> Result<()> {
    let present = node_data_dirs(paths);
    if present.is_empty() {
        return Ok(());
    }
    let trash = paths
        .data
        .join(format!(".kafkup-purge-{}", std::process::id()));
    fs_err::create_dir_all(&trash)?;
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    for dir in &present {
        let to = trash.join(dir.file_name().expect("data dirs have names"));
        if let Err(e) = fs_err::rename(dir, &to) {
            for (from, to) in moved.iter().rev() {
                let _ = std::fs::rename(to, from);
            }
            files::remove_dir_if_empty(&trash);
            return Err(
                anyhow::Error::new(e).context("could not purge the data; nothing was deleted")
            );
        }
        moved.push((dir.clone(), to));
    }
    state::remove(paths)?;
    fs_err::remove_dir_all(&trash)?;
    for dir in &present {
        reporter.step(&format!("removed data {}", dir.display()));
    }
    Ok(())
}
