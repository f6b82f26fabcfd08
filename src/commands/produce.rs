//! `kafkup produce`: stdin lines (or --value) to a topic.

use super::Context;
use crate::messaging::outgoing::{Shape, ValueFormat};
use crate::messaging::produce::{self, Input, ProduceJob};
use anyhow::{Context as _, Result};
use std::time::Duration;

pub struct ProduceArgs<'a> {
    pub topic: &'a str,
    pub value: Option<&'a str>,
    pub key: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub format: ValueFormat,
    pub chunk_size: Option<u32>,
    pub delivery_timeout: u64,
}

pub async fn run(ctx: &Context<'_>, bootstrap: &str, args: ProduceArgs<'_>) -> Result<()> {
    let job = ProduceJob {
        topic: args.topic.to_string(),
        shape: Shape {
            key: args.key.map(|k| k.as_bytes().to_vec()),
            headers: args.headers.to_vec(),
            chunk_size: args.chunk_size.map(|n| n as usize),
        },
        format: args.format,
        delivery_timeout: Duration::from_secs(args.delivery_timeout),
    };
    let input = match args.value {
        Some(value) => Input::Value(value.as_bytes().to_vec()),
        None => Input::Lines(Box::new(std::io::BufReader::new(std::io::stdin()))),
    };
    let summary = produce::run(bootstrap, &job, input, super::stop::requested())
        .await
        .with_context(|| format!("producing to `{}` at {bootstrap}", args.topic))?;
    if summary.interrupted {
        ctx.reporter
            .warn("stopped by a signal before the input ended; what was sent is acknowledged");
    }
    if ctx.global.json {
        return super::print_json(&summary);
    }
    let segmented = match summary.records == summary.messages {
        true => String::new(),
        false => format!(" in {} segments", summary.records),
    };
    ctx.reporter.step(&format!(
        "{} {} acknowledged{segmented} by {bootstrap} (topic {})",
        summary.messages,
        if summary.messages == 1 {
            "message"
        } else {
            "messages"
        },
        summary.topic
    ));
    Ok(())
}
