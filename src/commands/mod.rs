//! One function per command; `run` dispatches. Results go to stdout, progress to the reporter.

mod fetch;
mod render;
mod setup;

use crate::cli::{Cli, Command, GlobalArgs, InstallArgs};
use crate::paths::Paths;
use crate::report::Reporter;
use crate::settings::{self, ConfigFile, Settings};
use anyhow::Result;

pub struct Context<'a> {
    pub global: &'a GlobalArgs,
    pub reporter: &'a dyn Reporter,
}

pub async fn run(cli: Cli, reporter: &dyn Reporter) -> Result<()> {
    let ctx = Context {
        global: &cli.global,
        reporter,
    };
    match &cli.command {
        Command::Setup {
            install,
            no_selftest,
            dry_run,
            wait,
        } => {
            let mut over = install.overrides(cli.global.root.clone());
            over.no_selftest = *no_selftest;
            over.ready_timeout_secs = *wait;
            let settings = resolve_settings(&ctx, over)?;
            setup::run(&ctx, &settings, *dry_run).await
        }
        Command::Fetch { install } => {
            let settings = install_settings(&ctx, install)?;
            fetch::run(&ctx, &settings).await.map(|_| ())
        }
        Command::Render { install, out } => {
            let settings = install_settings(&ctx, install)?;
            render::run(&ctx, &settings, out)
        }
        other => anyhow::bail!("`{}` is not implemented yet", command_name(other)),
    }
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Setup { .. } => "setup",
        Command::Fetch { .. } => "fetch",
        Command::Render { .. } => "render",
        Command::Start { .. } => "start",
        Command::Stop { .. } => "stop",
        Command::Restart { .. } => "restart",
        Command::Status => "status",
        Command::Probe { .. } => "probe",
        Command::Selftest { .. } => "selftest",
        Command::Logs { .. } => "logs",
        Command::Topic { .. } => "topic",
        Command::Produce { .. } => "produce",
        Command::Consume { .. } => "consume",
        Command::Serve { .. } => "serve",
        Command::Teardown { .. } => "teardown",
    }
}

fn install_settings(ctx: &Context, install: &InstallArgs) -> Result<Settings> {
    resolve_settings(ctx, install.overrides(ctx.global.root.clone()))
}

fn resolve_settings(ctx: &Context, over: settings::Overrides) -> Result<Settings> {
    let file = match &ctx.global.config {
        Some(path) => settings::load_config_file(path)?,
        None => ConfigFile::default(),
    };
    Ok(Settings::resolve(
        over,
        file,
        Paths::default_for_current_user,
    )?)
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
