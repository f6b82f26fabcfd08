//! `kafkup logs SERVICE [-f] [-n N]`: the service's output, from wherever its runner keeps it.

use super::Context;
use crate::environment::Environment;
use crate::error::Problem;
use crate::runner::Runner;
use crate::spec::ServiceName;
use anyhow::Result;
use futures_util::StreamExt;
use std::io::Write;

pub async fn run(ctx: &Context<'_>, service: &str, follow: bool, lines: usize) -> Result<()> {
    let env = Environment::open(&super::paths(ctx)?).await?;
    let Some(name) = ServiceName::parse(service) else {
        return Err(Problem::usage(
            format!("unknown service {service:?}"),
            "the services are zookeeper and kafka",
        )
        .into());
    };
    let mut stream = env.runner()?.logs(name, lines, follow).await?;
    let mut out = std::io::stdout().lock();
    while let Some(chunk) = stream.next().await {
        out.write_all(&chunk?)?;
        out.flush()?;
    }
    Ok(())
}
