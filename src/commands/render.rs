//! `kafkup render --out DIR`: every file setup would install, written below DIR.

use super::Context;
use crate::plan::Plan;
use crate::render::{render_all, RenderedFile};
use crate::settings::Settings;
use crate::spec::service_specs;
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};

pub fn run(ctx: &Context<'_>, settings: &Settings, out: &Path) -> Result<()> {
    let files = render_plan(settings)?;
    for file in &files {
        write_file(&out.join(&file.rel), file)?;
    }
    if ctx.global.json {
        let listed: Vec<_> = files
            .iter()
            .map(|f| serde_json::json!({"file": out.join(&f.rel), "installs_to": f.target}))
            .collect();
        super::print_json(&listed)?;
    } else {
        for file in &files {
            println!("{}", out.join(&file.rel).display());
        }
    }
    Ok(())
}

/// Renders with the Java that setup would use (or `/usr/bin/java` when none is installed, so
/// that rendering works on a machine without Java).
pub fn render_plan(settings: &Settings) -> Result<Vec<RenderedFile>> {
    let plan = Plan::from_settings(settings);
    let specs = service_specs(&plan);
    let java = crate::java::locate(settings.java_home.as_deref())
        .unwrap_or_else(|_| PathBuf::from("/usr/bin/java"));
    Ok(render_all(
        &plan,
        &specs,
        &java,
        settings.templates.as_deref(),
    )?)
}

/// The one place rendered files are written: parent dirs created, mode set, atomically replaced.
pub fn write_file(path: &Path, file: &RenderedFile) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .context("rendered file has no parent directory")?;
    fs_err::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(file.contents.as_bytes())?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(file.mode))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
