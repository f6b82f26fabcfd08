//! `kafkup logs SERVICE [-f] [-n N]`: the service's output, from wherever its runner keeps it.

use super::Context;
use crate::environment::Environment;
use crate::runner::Runner;
use anyhow::Result;
use futures_util::StreamExt;
use std::io::Write;

pub async fn run(ctx: &Context<'_>, service: &str, follow: bool, lines: usize) -> Result<()> {
    let env = Environment::open(&super::paths(ctx)?).await?;
    let name = env.select(Some(service))?[0].spec.name;
    let tail = crate::runner::LogTail { lines, follow };
    let mut stream = env.runner()?.logs(name, tail).await?;
    let mut out = std::io::stdout().lock();
    while let Some(chunk) = stream.next().await {
        out.write_all(&chunk?)?;
        out.flush()?;
    }
    Ok(())
}
