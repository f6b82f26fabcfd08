//! `kafkup render --out DIR`: every file setup would install with the chosen runner, written
//! below DIR (their install targets in `--json`).

use super::Context;
use crate::deployment::Deployment;
use crate::runner::detect::{self, HostFacts, RunnerChoice};
use crate::settings::Settings;
use crate::vocab::{Backend, RunnerKind};
use anyhow::{Context as _, Result};
use std::path::Path;

pub async fn run(ctx: &Context<'_>, settings: &Settings, out: &Path) -> Result<()> {
    let runner = runner_for(settings.backend).await?;
    let java = match runner.kind {
        // The image's Java is only in command lines, and no file names it.
        RunnerKind::Docker => None,
        RunnerKind::Process | RunnerKind::Systemd => host_java(settings),
    };
    let want = Deployment::resolve(settings, runner, java)?;
    for file in &want.files {
        let path = out.join(&file.rel);
        let dir = path.parent().expect("rendered files have a parent");
        fs_err::create_dir_all(dir)?;
        crate::files::write_atomic(&path, file.contents.as_bytes(), file.mode)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if ctx.global.json {
        let listed: Vec<_> = want
            .files
            .iter()
            .map(|f| serde_json::json!({"file": out.join(&f.rel), "installs_to": f.target}))
            .collect();
        return super::print_json(&listed);
    }
    let names: Vec<String> = want
        .files
        .iter()
        .map(|f| out.join(&f.rel).display().to_string())
        .collect();
    super::say(&names.join("\n"))
}

/// The runner asked for by name (rendering needs none of it here), else the one setup would
/// choose on this host.
async fn runner_for(backend: Backend) -> Result<RunnerChoice> {
    Ok(match backend {
        Backend::Only(kind) => RunnerChoice {
            kind,
            why: format!("requested with --backend {kind}"),
        },
        Backend::Auto => detect::choose(backend, &HostFacts::observe().await)?,
    })
}

/// The host's Java when there is one (units name it); without one they name the fallback.
fn host_java(settings: &Settings) -> Option<crate::java::Java> {
    let path = crate::java::locate(settings.java_home.as_deref()).ok()?;
    crate::java::inspect(&path).ok()
}
