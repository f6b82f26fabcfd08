//! `kafkup consume`: a topic's messages to stdout.

use super::Context;
use crate::defaults;
use crate::messaging::consume::{self, ConsumeJob};
use crate::messaging::segment::Limits;
use anyhow::{Context as _, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct ConsumeArgs<'a> {
    pub topic: &'a str,
    pub from_beginning: bool,
    pub group: Option<&'a str>,
    pub max_messages: Option<u64>,
    pub timeout: Option<f64>,
    pub reassemble: bool,
}

pub async fn run(ctx: &Context<'_>, bootstrap: &str, args: ConsumeArgs<'_>) -> Result<()> {
    let idle_timeout = args
        .timeout
        .map(|secs| {
            Duration::try_from_secs_f64(secs).map_err(|_| {
                crate::error::Problem::usage(
                    format!("--timeout {secs} is not a number of seconds"),
                    "give a positive number, like --timeout 5",
                )
            })
        })
        .transpose()?;
    let job = ConsumeJob {
        topic: args.topic.to_string(),
        from_beginning: args.from_beginning,
        group: args.group.map(str::to_string),
        max_messages: args.max_messages,
        idle_timeout,
        json: ctx.global.json,
        reassemble: args.reassemble.then_some(Limits {
            max_pending_bytes: defaults::REASSEMBLE_MAX_PENDING_BYTES,
            max_age: Duration::from_secs(defaults::REASSEMBLE_MAX_AGE_SECS),
        }),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let signalled = super::stop::requested();
    let flag = stop.clone();
    let watcher = tokio::spawn(async move {
        signalled.await;
        flag.store(true, Ordering::Relaxed);
    });
    // librdkafka's poll blocks: this thread leaves the runtime to the signal watcher.
    let result = tokio::task::block_in_place(|| {
        let warn = |text: &str| ctx.reporter.warn(text);
        consume::run(bootstrap, &job, std::io::stdout().lock(), &stop, &warn)
    });
    watcher.abort();
    result.with_context(|| format!("consuming `{}` at {bootstrap}", args.topic))?;
    Ok(())
}
