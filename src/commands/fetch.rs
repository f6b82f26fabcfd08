//! `kafkup fetch`: download, verify and unpack every distribution the plan needs.

use super::Context;
use crate::fetch::{self, Installed, Sources};
use crate::plan::Plan;
use crate::settings::Settings;
use anyhow::Result;

pub async fn run(ctx: &Context<'_>, settings: &Settings) -> Result<Vec<Installed>> {
    let plan = Plan::from_settings(settings);
    let installed = fetch_all(ctx, settings, &plan).await?;
    if ctx.global.json {
        super::print_json(&installed)?;
    } else {
        for i in &installed {
            println!("{}", i.dir.display());
        }
    }
    Ok(installed)
}

pub async fn fetch_all(
    ctx: &Context<'_>,
    settings: &Settings,
    plan: &Plan,
) -> Result<Vec<Installed>> {
    let sources = Sources {
        mirrors: settings.mirrors.clone(),
        dists: settings.dists.clone(),
        verify_signature: settings.verify_signature,
    };
    if !sources.verify_signature {
        ctx.reporter.warn(
            "OpenPGP signature checking is OFF (--no-verify-signature): only the SHA-512 checksum protects these downloads",
        );
    }
    fetch::sweep_stale_staging(&plan.paths.install);
    // Both distributions at once (network and the two cores overlap); each runs to its end, so
    // a failure of one never cancels the other half-way, then the first error is reported.
    let results = futures_util::future::join_all(
        plan.artifacts()
            .into_iter()
            .map(|artifact| fetch::fetch(artifact, &sources, &plan.paths, ctx.reporter)),
    )
    .await;
    Ok(results.into_iter().collect::<Result<Vec<_>, _>>()?)
}
