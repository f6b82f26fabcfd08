//! `kafkup render --out DIR`: every file setup would install, written below DIR.

use super::Context;
use crate::plan::Plan;
use crate::render::render_all;
use crate::settings::Settings;
use crate::spec::service_specs;
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};

/// What `ExecStart=` names where no Java is installed, so that rendering still works.
const FALLBACK_JAVA: &str = "/usr/bin/java";

pub fn run(ctx: &Context<'_>, settings: &Settings, out: &Path) -> Result<()> {
    let host = Plan::from_settings(settings);
    // With --backend docker, the files as the docker runner renders them (container view).
    let plan = match settings.backend {
        crate::runner::Backend::Only(crate::runner::RunnerKind::Docker) => {
            let env = crate::runner::docker::container::env_id(&host.paths);
            let zookeeper = crate::runner::docker::container::container_name(
                &env,
                crate::spec::ServiceName::Zookeeper,
            );
            host.in_containers(&zookeeper)
        }
        _ => host,
    };
    let specs = service_specs(&plan);
    let java = crate::java::locate(settings.java_home.as_deref())
        .unwrap_or_else(|_| PathBuf::from(FALLBACK_JAVA));
    let files = render_all(&plan, &specs, &java, settings.templates.as_deref())?;
    for file in &files {
        let path = out.join(&file.rel);
        let dir = path.parent().expect("rendered files have a parent");
        fs_err::create_dir_all(dir)?;
        crate::files::write_atomic(&path, file.contents.as_bytes(), file.mode)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if ctx.global.json {
        let listed: Vec<_> = files
            .iter()
            .map(|f| serde_json::json!({"file": out.join(&f.rel), "installs_to": f.target}))
            .collect();
        return super::print_json(&listed);
    }
    let names: Vec<String> = files
        .iter()
        .map(|f| out.join(&f.rel).display().to_string())
        .collect();
    super::say(&names.join("\n"))
}
