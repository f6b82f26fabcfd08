//! STUB until the render module lands.
use crate::plan::Plan;
use crate::spec::ServiceSpec;
use std::path::{Path, PathBuf};

pub struct RenderedFile {
    pub rel: PathBuf,
    pub target: PathBuf,
    pub contents: String,
    pub mode: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("render stub")]
pub struct RenderError;

pub fn render_all(
    _: &Plan,
    _: &[ServiceSpec],
    _: &Path,
    _: Option<&Path>,
) -> Result<Vec<RenderedFile>, RenderError> {
    Err(RenderError)
}
