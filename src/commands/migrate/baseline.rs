//! What a migration began with, kept in the state directory so that a resumed migration (or
//! its rollback) is proven against it and names its way back: the snapshot, the inventory,
//! and how often the controllers had logged a finished copy before the brokers' phase.

use super::super::{upgrade, Context};
use crate::paths::Paths;
use crate::proof::Inventory;
use crate::state;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// The snapshot taken before the first phase (or the first free name after it).
pub const SNAPSHOT: &str = "before-kraft-migration";

#[derive(Debug, Serialize, Deserialize)]
pub struct Baseline {
    pub snapshot: Option<String>,
    pub inventory: Inventory,
    /// The controllers' "completed migration" lines before the brokers' phase began: only
    /// a later one says that this migration's copy is done.
    #[serde(default)]
    pub copies_logged_before: Option<usize>,
}

impl Baseline {
    /// Kept, and named in the manifest so that teardown removes it.
    pub fn save(&self, paths: &Paths) -> Result<()> {
        let file = file(paths);
        crate::files::write_atomic(&file, &serde_json::to_vec_pretty(self)?, 0o600)?;
        let mut manifest = state::require(paths)?;
        manifest.remember_file(&file);
        state::save(paths, &manifest)?;
        Ok(())
    }
}

fn file(paths: &Paths) -> PathBuf {
    paths.state.join("migration-baseline.json")
}

/// Once the migration is over, either way.
pub fn forget(paths: &Paths) -> Result<()> {
    Ok(crate::files::remove_file_if_exists(&file(paths))?)
}

/// A migration begins: the snapshot (under a free name), then the inventory, both kept.
pub async fn begin(
    ctx: &Context<'_>,
    paths: &Paths,
    bootstrap: &str,
    timeout: Duration,
    snapshot: bool,
) -> Result<Baseline> {
    let snapshot = snapshot.then(|| crate::snapshot::free_name(paths, SNAPSHOT));
    if let Some(name) = &snapshot {
        upgrade::take_snapshot_named(ctx, name).await?;
    }
    let base = Baseline {
        snapshot,
        inventory: upgrade::inventory(bootstrap, timeout).await?,
        copies_logged_before: None,
    };
    base.save(paths)?;
    Ok(base)
}

/// A migration resumes (or rolls back): what it began with, or, if that is gone, the
/// inventory now and no snapshot.
pub async fn resume(paths: &Paths, bootstrap: &str, timeout: Duration) -> Result<Baseline> {
    if let Ok(text) = fs_err::read_to_string(file(paths)) {
        return Ok(serde_json::from_str(&text)?);
    }
    Ok(Baseline {
        snapshot: None,
        inventory: upgrade::inventory(bootstrap, timeout).await?,
        copies_logged_before: None,
    })
}
