//! `kafkup serve`: the HTTP producer API.

use super::Context;
use crate::messaging::http::{self, ServeOptions};
use anyhow::Result;

pub async fn run(
    ctx: &Context<'_>,
    bootstrap: &str,
    bind: &str,
    options: ServeOptions,
) -> Result<()> {
    let listener = http::bind(bind).await?;
    let addr = listener
        .local_addr()
        .map_or(bind.to_string(), |a| a.to_string());
    super::say(&format!(
        "listening on http://{addr}: POST /send_message -> topic {} at {bootstrap}",
        options.topic
    ))?;
    let warn = |text: &str| ctx.reporter.warn(text);
    http::serve(
        bootstrap,
        options,
        listener,
        super::stop::requested(),
        &warn,
    )
    .await?;
    ctx.reporter
        .step("stopped; every accepted message was delivered");
    Ok(())
}
