//! `kafkup fetch`: download, verify and unpack every distribution setup would need.

use super::Context;
use crate::fetch::Installed;
use crate::settings::Settings;
use crate::topology::Topology;
use anyhow::Result;

pub async fn run(ctx: &Context<'_>, settings: &Settings) -> Result<()> {
    let installed = fetch_verified(ctx, settings).await?;
    if ctx.global.json {
        return super::print_json(&installed);
    }
    let dirs: Vec<String> = installed
        .iter()
        .map(|i| i.dir.display().to_string())
        .collect();
    super::say(&dirs.join("\n"))
}

/// Every distribution of `settings` downloaded, verified and unpacked (or found in place).
pub async fn fetch_verified(ctx: &Context<'_>, settings: &Settings) -> Result<Vec<Installed>> {
    let topology = Topology::plan(settings)?;
    let sources = settings.sources();
    if !sources.verify_signature {
        ctx.reporter.warn(crate::fetch::NO_SIGNATURE_WARNING);
    }
    let artifacts: Vec<_> = topology.dists().into_iter().map(|d| &d.artifact).collect();
    let paths = settings.paths();
    let results = crate::fetch::fetch_all(&artifacts, &sources, &paths, ctx.reporter).await;
    Ok(results.into_iter().collect::<Result<Vec<_>, _>>()?)
}
