//! One function per command; `run` dispatches. Results go to stdout, progress to the reporter.

mod fetch;
mod logs;
mod render;
mod service;
mod setup;
mod status;
mod teardown;
mod topic;

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
            let _lock = (!*dry_run)
                .then(|| crate::lock::acquire(&settings.paths))
                .transpose()?;
            setup::run(&ctx, &settings, *dry_run).await
        }
        Command::Fetch { install } => {
            let settings = install_settings(&ctx, install)?;
            let _lock = crate::lock::acquire(&settings.paths)?;
            fetch::run(&ctx, &settings).await.map(|_| ())
        }
        Command::Render { install, out } => {
            let settings = install_settings(&ctx, install)?;
            render::run(&ctx, &settings, out)
        }
        Command::Start { service } => {
            let _lock = crate::lock::acquire(&paths(&ctx)?)?;
            service::start(&ctx, service.as_deref()).await
        }
        Command::Stop { service } => {
            let _lock = crate::lock::acquire(&paths(&ctx)?)?;
            service::stop(&ctx, service.as_deref())
        }
        Command::Restart { service } => {
            let _lock = crate::lock::acquire(&paths(&ctx)?)?;
            service::restart(&ctx, service.as_deref()).await
        }
        Command::Status => status::run(&ctx).await,
        Command::Probe { wait } => service::probe(&ctx, *wait).await,
        Command::Logs {
            service,
            follow,
            lines,
        } => logs::run(&ctx, service, *follow, *lines).await,
        Command::Teardown { purge } => {
            let _lock = crate::lock::acquire(&paths(&ctx)?)?;
            teardown::run(&ctx, *purge)
        }
        Command::Selftest { client, messages } => {
            let bootstrap = bootstrap_server(&ctx, client)?;
            let report = crate::selftest::run(
                &bootstrap,
                *messages,
                std::time::Duration::from_secs(60),
                reporter,
            )
            .await?;
            if cli.global.json {
                print_json(&report)
            } else {
                println!("self-test passed: {}", report.summary());
                Ok(())
            }
        }
        Command::Topic { action } => {
            let client = match action {
                crate::cli::TopicAction::Create { client, .. }
                | crate::cli::TopicAction::List { client }
                | crate::cli::TopicAction::Describe { client, .. }
                | crate::cli::TopicAction::Delete { client, .. } => client,
            };
            let bootstrap = bootstrap_server(&ctx, client)?;
            topic::run(action, &bootstrap, cli.global.json).await
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

/// The paths of the environment commands act on: --root / KAFKUP_ROOT, the config file's
/// `root`, or the default layout.
pub fn paths(ctx: &Context) -> Result<Paths> {
    if let Some(root) = &ctx.global.root {
        return Ok(Paths::under_root(&settings::absolute(root)));
    }
    if let Some(path) = &ctx.global.config {
        if let Some(root) = settings::load_config_file(path)?.root {
            return Ok(Paths::under_root(&settings::absolute(&root)));
        }
    }
    Ok(Paths::default_for_current_user())
}

/// `--bootstrap-server`, else the broker of the environment under --root.
pub fn bootstrap_server(ctx: &Context, client: &crate::cli::ClientArgs) -> Result<String> {
    if let Some(b) = &client.bootstrap_server {
        return Ok(b.clone());
    }
    Ok(crate::state::require(&paths(ctx)?)?.bootstrap_server())
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
