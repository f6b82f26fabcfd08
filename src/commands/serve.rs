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
    let announcement = format!(
        "listening on http://{addr}: POST /send_message -> topic {} at {bootstrap}",
        options.topic
    );
    let listening = serde_json::json!({
        "listening": format!("http://{addr}"),
        "topic": options.topic,
        "bootstrap_server": bootstrap,
    });
    let warn = |text: &str| ctx.reporter.warn(text);
    let stop = super::stop::requested();
    http::serve(bootstrap, options, listener, stop, &warn, || {
        match ctx.global.json {
            true => super::print_json(&listening),
            false => super::say(&announcement),
        }
    })
    .await?;
    ctx.reporter.step("stopped: no request is left in flight");
    Ok(())
}
