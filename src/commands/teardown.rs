//! `kafkup teardown [--purge]`: stop and remove exactly what the manifest lists.
//! Without --purge, data (and the manifest, which remembers the cluster id) stay.

use super::Context;
use crate::spec::ServiceName;
use crate::state;
use anyhow::Result;
use std::path::Path;

pub fn run(ctx: &Context<'_>, purge: bool) -> Result<()> {
    let paths = super::paths(ctx)?;
    let Some(mut manifest) = state::load(&paths)? else {
        if !ctx.global.quiet {
            println!("nothing to tear down under {}", paths.state.display());
        }
        // Only our own lock was created by asking.
        let _ = std::fs::remove_file(crate::lock::lock_file(&paths));
        let _ = std::fs::remove_dir(&paths.state);
        return Ok(());
    };
    let reporter = ctx.reporter;
    if !manifest.services.is_empty() {
        let runner = super::service::runner_of(&manifest)?;
        let names: Vec<ServiceName> = manifest.services.iter().map(|s| s.spec.name).collect();
        crate::lifecycle::stop_all(runner.as_ref(), &names, reporter)?;
        for name in &names {
            runner.uninstall(*name, purge)?;
        }
    }
    for file in &manifest.files {
        remove_file(file)?;
    }
    // Distributions go back to the cache, verified and unpacked, for the next setup.
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

    if purge {
        // ZooKeeper and Kafka data go together: a half-wiped cluster id cannot survive.
        purge_data(&manifest.paths, reporter)?;
        let logs = manifest.paths.logs();
        if logs.is_dir() {
            fs_err::remove_dir_all(&logs)?;
        }
        state::remove(&manifest.paths)?;
        // The runner's own directory (pid files) goes once it is empty, and the lock we hold
        // goes last (unlinking a held lock is fine: it is released when we exit).
        let _ = std::fs::remove_dir(manifest.paths.state.join("run"));
        let _ = std::fs::remove_file(crate::lock::lock_file(&manifest.paths));
        // Created directories, deepest first, only where now empty; the cache is kept.
        for dir in manifest.dirs.iter().rev() {
            if !dir.starts_with(&manifest.paths.cache) {
                let _ = std::fs::remove_dir(dir);
            }
        }
        for dir in [
            &manifest.paths.state,
            &manifest.paths.install,
            &manifest.paths.config,
            &manifest.paths.data,
        ] {
            let _ = std::fs::remove_dir(dir);
        }
        if !ctx.global.quiet {
            println!(
                "torn down and purged (the download cache in {} is kept)",
                manifest.paths.cache.display()
            );
        }
    } else {
        state::save(&manifest.paths, &manifest)?;
        if !ctx.global.quiet {
            println!(
                "torn down; data kept in {} (`kafkup setup` reuses it, `kafkup teardown --purge` deletes it)",
                manifest.paths.data.display()
            );
        }
    }
    Ok(())
}

/// Moves both data directories aside first (renames on one filesystem, undone if the second
/// fails), forgets the manifest, then deletes them: an interrupted purge never leaves one
/// service's data without the other's.
fn purge_data(paths: &crate::paths::Paths, reporter: &dyn crate::report::Reporter) -> Result<()> {
    let present: Vec<std::path::PathBuf> = [paths.zookeeper_data(), paths.kafka_data()]
        .into_iter()
        .filter(|d| d.is_dir())
        .collect();
    if present.is_empty() {
        return Ok(());
    }
    let trash = paths
        .data
        .join(format!(".kafkup-purge-{}", std::process::id()));
    fs_err::create_dir_all(&trash)?;
    let mut moved: Vec<(std::path::PathBuf, std::path::PathBuf)> = Vec::new();
    for dir in &present {
        let to = trash.join(dir.file_name().expect("data dirs have names"));
        if let Err(e) = fs_err::rename(dir, &to) {
            for (from, to) in moved.iter().rev() {
                let _ = std::fs::rename(to, from);
            }
            let _ = std::fs::remove_dir(&trash);
            return Err(
                anyhow::Error::new(e).context("could not purge the data; nothing was deleted")
            );
        }
        moved.push((dir.clone(), to));
    }
    crate::state::remove(paths)?;
    fs_err::remove_dir_all(&trash)?;
    for dir in &present {
        reporter.step(&format!("removed data {}", dir.display()));
    }
    Ok(())
}

fn remove_file(path: &Path) -> Result<()> {
    match fs_err::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}
