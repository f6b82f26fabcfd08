//! `kafkup doctor [--bootstrap-server HOST:PORT [--client-config FILE]] [--json]`: the checks
//! of [`crate::doctor`], printed; exit 1 when one is a problem.

use super::Context;
use crate::doctor::report::{Report, Verdict};
use crate::environment::Environment;
use anyhow::Result;

pub async fn run(
    ctx: &Context<'_>,
    client: &crate::cli::ClientArgs,
    min_free_mib: u64,
) -> Result<()> {
    let report = match client.bootstrap_server.is_some() || client.client_config.is_some() {
        true => {
            let bootstrap = super::bootstrap_server(ctx, client)?;
            crate::doctor::cluster_at(&bootstrap).await
        }
        false => {
            let env = Environment::open(&super::paths(ctx)?).await?;
            crate::doctor::environment(&env, min_free_mib).await
        }
    };
    print(ctx, &report)?;
    match report.worst() {
        Verdict::Problem => Err(crate::doctor::Problems(report.count(Verdict::Problem)).into()),
        _ => Ok(()),
    }
}

fn print(ctx: &Context<'_>, report: &Report) -> Result<()> {
    if ctx.global.json {
        return super::print_json(report);
    }
    print!("{}", report.text());
    Ok(())
}
