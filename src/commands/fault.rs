//! `kafkup kill|pause|resume NODE`: failures on purpose, so that a client's fail-over can be
//! watched — a crash (SIGKILL), a hung node (frozen where it is, its ports open) and its
//! recovery — through the runner the environment runs under.

use super::Context;
use crate::environment::Environment;
use crate::error::Problem;
use crate::runner::{Runner, ServiceState};
use anyhow::Result;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Kill,
    Pause,
    Resume,
}

impl Fault {
    fn word(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Pause => "pause",
            Fault::Resume => "resume",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Fault::Kill => "killed",
            Fault::Pause => "paused",
            Fault::Resume => "resumed",
        }
    }
}

/// Does `fault` to the node named `node`: its state before and after, and whether there was
/// anything to do (killing a stopped node, pausing a paused one or resuming a running one is
/// nothing; pausing or resuming a node that does not run is an error).
pub async fn run(ctx: &Context<'_>, fault: Fault, node: &str) -> Result<()> {
    let env = Environment::open(&super::paths(ctx)?).await?;
    let name = env.select(Some(node))?[0].spec.name;
    let runner = env.runner()?;
    let before = runner.state(name).await?;
    let acts = match (fault, &before) {
        (Fault::Kill, s) => s.is_up(),
        (Fault::Pause, ServiceState::Running { .. }) => true,
        (Fault::Resume, ServiceState::Paused { .. }) => true,
        (Fault::Pause, ServiceState::Paused { .. }) => false,
        (Fault::Resume, ServiceState::Running { .. }) => false,
        (_, other) => {
            return Err(Problem::new(
                format!(
                    "{name} is {}: there is nothing to {}",
                    other.describe(),
                    fault.word()
                ),
                format!("`kafkup start {name}` starts it"),
            )
            .into())
        }
    };
    if acts {
        match fault {
            Fault::Kill => runner.kill(name).await?,
            Fault::Pause => runner.pause(name).await?,
            Fault::Resume => runner.resume(name).await?,
        }
    }
    let after = runner.state(name).await?;
    if ctx.global.json {
        return super::print_json(&json!({
            "node": name,
            "action": fault.word(),
            "done": acts,
            "was": before,
            "state": after,
        }));
    }
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&match acts {
        true => format!("{} {name}: now {}", fault.done(), after.describe()),
        false => format!(
            "nothing to {}: {name} is {}",
            fault.word(),
            before.describe()
        ),
    })
}
