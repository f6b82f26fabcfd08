//! `kafkup setup`: plan, fetch, render, start, wait, self-test.

use super::Context;
use crate::plan::Plan;
use crate::settings::Settings;
use crate::spec::service_specs;
use anyhow::Result;

pub async fn run(ctx: &Context<'_>, settings: &Settings, dry_run: bool) -> Result<()> {
    let plan = Plan::from_settings(settings);
    if dry_run {
        return print_plan(ctx, settings, &plan);
    }
    super::fetch::fetch_all(ctx, settings, &plan).await?;
    anyhow::bail!(
        "starting services is not implemented yet (the distributions are fetched and verified)"
    )
}

fn print_plan(ctx: &Context<'_>, settings: &Settings, plan: &Plan) -> Result<()> {
    let specs = service_specs(plan);
    let files = super::render::render_plan(settings)?;
    if ctx.global.json {
        let value = serde_json::json!({
            "plan": plan,
            "downloads": plan.artifacts().iter().map(|a| serde_json::json!({
                "artifact": a.file_name,
                "mirrors": settings.mirrors.iter().map(|m| a.tarball_url(m)).collect::<Vec<_>>(),
                "sha512": settings.dists.iter().map(|d| a.sha512_url(d)).collect::<Vec<_>>(),
                "signature": settings.verify_signature.then(|| settings.dists.iter().map(|d| a.signature_url(d)).collect::<Vec<_>>()),
            })).collect::<Vec<_>>(),
            "services": specs,
            "files": files.iter().map(|f| &f.target).collect::<Vec<_>>(),
        });
        return super::print_json(&value);
    }
    println!("kafkup setup would (dry run, nothing changed):");
    println!(
        "  mode      {} ({} backend requested)",
        plan.mode,
        format!("{:?}", plan.backend).to_lowercase()
    );
    for a in plan.artifacts() {
        println!("  fetch     {} {}", a.project, a.version);
        for m in &settings.mirrors {
            println!("              from {}", a.tarball_url(m));
        }
        let proof = if settings.verify_signature {
            "SHA-512 + OpenPGP signature"
        } else {
            "SHA-512 only (signature check OFF)"
        };
        println!(
            "              verify {proof} from {}",
            settings
                .dists
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "              unpack to {}",
            plan.paths.install.join(&a.top_dir).display()
        );
    }
    for f in &files {
        println!("  render    {}", f.target.display());
    }
    for s in &specs {
        println!(
            "  start     {} on 127.0.0.1:{}",
            s.name,
            s.ports
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "              data in {}",
            s.data_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!(
        "  wait      up to {} s for readiness probes",
        plan.ready_timeout_secs
    );
    if plan.selftest {
        println!("  selftest  produce and consume on a temporary topic");
    }
    Ok(())
}
