//! `kafkup fetch`: download, verify and unpack every distribution the plan needs.

use super::Context;
use crate::plan::Plan;
use crate::settings::Settings;
use anyhow::Result;

pub async fn run(ctx: &Context<'_>, settings: &Settings) -> Result<()> {
    let plan = Plan::from_settings(settings);
    if !settings.verify_signature {
        ctx.reporter.warn(crate::fetch::NO_SIGNATURE_WARNING);
    }
    let results = crate::fetch::fetch_all(
        &plan.artifacts(),
        &settings.sources(),
        &plan.paths,
        ctx.reporter,
    )
    .await;
    let installed = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    if ctx.global.json {
        return super::print_json(&installed);
    }
    let dirs: Vec<String> = installed
        .iter()
        .map(|i| i.dir.display().to_string())
        .collect();
    super::say(&dirs.join("\n"))
}
