//! One function per command; `run` dispatches. Results go to stdout, progress to the reporter.

mod consume;
mod credentials;
mod doctor;
mod export;
mod fault;
mod fetch;
mod logs;
mod migrate;
mod produce;
mod render;
mod serve;
mod service;
mod setup;
mod snapshot;
mod status;
mod stop;
mod teardown;
mod topic;
mod upgrade;

use crate::cli::{Cli, ClientArgs, Command, GlobalArgs};
use crate::defaults;
use crate::lock;
use crate::paths::Paths;
use crate::report::Reporter;
use crate::settings::{self, Layer, Settings};
use anyhow::Result;
use std::io::Write;
use std::time::Duration;

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
            settings,
            dry_run,
            install_java,
        } => {
            let settings = resolve_settings(&ctx, settings)?;
            let options = setup::Options {
                dry_run: *dry_run,
                install_java: *install_java,
                rolling: false,
            };
            setup::run(&ctx, &settings, options).await
        }
        Command::Upgrade { settings, .. } => {
            let settings = resolve_settings(&ctx, settings)?;
            upgrade::run(&ctx, &settings, upgrade_options(&cli.command)).await
        }
        Command::Migrate { .. } => migrate_command(&ctx, &cli.command).await,
        Command::Export { target } => export_command(&ctx, target).await,
        Command::Fetch { settings } => {
            let settings = resolve_settings(&ctx, settings)?;
            let _lock = lock::acquire(&settings.paths())?;
            fetch::run(&ctx, &settings).await
        }
        Command::Render { settings, out } => {
            render::run(&ctx, &resolve_settings(&ctx, settings)?, out).await
        }
        Command::Start { service, wait } => {
            let _lock = lock::acquire(&paths(&ctx)?)?;
            service::start(&ctx, service.as_deref(), *wait).await
        }
        Command::Stop { service } => {
            let _lock = lock::acquire(&paths(&ctx)?)?;
            service::stop(&ctx, service.as_deref()).await
        }
        Command::Restart { service, wait } => {
            let _lock = lock::acquire(&paths(&ctx)?)?;
            service::restart(&ctx, service.as_deref(), *wait).await
        }
        Command::Kill { node } | Command::Pause { node } | Command::Resume { node } => {
            let _lock = lock::acquire(&paths(&ctx)?)?;
            let fault = match &cli.command {
                Command::Kill { .. } => fault::Fault::Kill,
                Command::Pause { .. } => fault::Fault::Pause,
                _ => fault::Fault::Resume,
            };
            fault::run(&ctx, fault, node).await
        }
        Command::Status => status::run(&ctx).await,
        Command::ClientConfig { format, user } => credentials::client_config(&ctx, *format, user),
        Command::Credentials => credentials::show(&ctx),
        Command::Snapshot { action } => snapshot_command(&ctx, action).await,
        Command::Doctor {
            client,
            min_free_mib,
        } => doctor::run(&ctx, client, *min_free_mib).await,
        Command::Probe { wait } => service::probe(&ctx, *wait).await,
        Command::Logs {
            service,
            follow,
            lines,
        } => logs::run(&ctx, service, *follow, *lines).await,
        Command::Teardown { purge } => {
            let paths = paths(&ctx)?;
            teardown::run(&ctx, &paths, *purge).await
        }
        Command::Selftest { client, messages } => selftest(&ctx, client, *messages).await,
        Command::Topic { .. }
        | Command::Produce { .. }
        | Command::Consume { .. }
        | Command::Serve { .. } => messaging(&ctx, &cli.command, cli.global.json).await,
    }
}

async fn migrate_command(ctx: &Context<'_>, command: &Command) -> Result<()> {
    let Command::Migrate {
        rollback,
        controllers,
        dry_run,
        no_snapshot,
        ..
    } = command
    else {
        unreachable!("asked for migrate only")
    };
    let settings = resolve_settings(ctx, &settings::Layer::default())?;
    if *rollback {
        return migrate::rollback(ctx, &settings, *dry_run).await;
    }
    let options = migrate::Options {
        dry_run: *dry_run,
        snapshot: !*no_snapshot,
        controllers: *controllers,
    };
    migrate::run(ctx, &settings, options).await
}

async fn export_command(ctx: &Context<'_>, target: &crate::cli::ExportTarget) -> Result<()> {
    let (settings, out, name, namespace) = match target {
        crate::cli::ExportTarget::Properties { settings, out } => {
            let settings = resolve_settings(ctx, settings)?;
            return export::properties(ctx, &settings, out).await;
        }
        crate::cli::ExportTarget::Strimzi {
            settings,
            out,
            name,
            namespace,
        } => (settings, out, name, namespace),
    };
    let settings = resolve_settings(ctx, settings)?;
    let to = export::Target {
        out,
        name,
        namespace: namespace.as_deref(),
    };
    export::strimzi(ctx, &settings, to).await
}

fn upgrade_options(command: &Command) -> upgrade::Options {
    let Command::Upgrade {
        dry_run,
        finalize,
        no_finalize,
        no_snapshot,
        ..
    } = command
    else {
        unreachable!("asked for upgrade only")
    };
    upgrade::Options {
        dry_run: *dry_run,
        finalize: (*finalize || *no_finalize).then_some(*finalize),
        snapshot: !*no_snapshot,
    }
}

async fn snapshot_command(ctx: &Context<'_>, action: &crate::cli::SnapshotAction) -> Result<()> {
    use crate::cli::SnapshotAction;
    if let SnapshotAction::List = action {
        return snapshot::list(ctx).await;
    }
    let _lock = lock::acquire(&paths(ctx)?)?;
    match action {
        SnapshotAction::Save { name } => snapshot::save(ctx, name).await,
        SnapshotAction::Restore { name } => snapshot::restore(ctx, name).await,
        SnapshotAction::Delete { name } => snapshot::delete(ctx, name).await,
        SnapshotAction::List => unreachable!("answered above"),
    }
}

/// The commands that talk to the broker as a client.
async fn messaging(ctx: &Context<'_>, command: &Command, json: bool) -> Result<()> {
    match command {
        Command::Topic { action } => {
            let bootstrap = bootstrap_server(ctx, action.client())?;
            topic::run(action, &bootstrap, json).await
        }
        Command::Produce {
            client,
            topic,
            value,
            key,
            headers,
            value_format,
            chunk,
            delivery_timeout,
        } => {
            let bootstrap = bootstrap_server(ctx, client)?;
            let args = produce::ProduceArgs {
                topic: topic.name(),
                value: value.as_deref(),
                key: key.as_deref(),
                headers,
                format: *value_format,
                chunk_size: chunk.chunk_size,
                delivery_timeout: *delivery_timeout,
            };
            produce::run(ctx, &bootstrap, args).await
        }
        Command::Consume {
            client,
            topic,
            from_beginning,
            group,
            max_messages,
            timeout,
            reassemble,
        } => {
            let bootstrap = bootstrap_server(ctx, client)?;
            let args = consume::ConsumeArgs {
                topic: topic.name(),
                from_beginning: *from_beginning,
                group: group.as_deref(),
                max_messages: *max_messages,
                timeout: *timeout,
                reassemble: *reassemble,
            };
            consume::run(ctx, &bootstrap, args).await
        }
        Command::Serve {
            client,
            topic,
            bind,
            value_format,
            chunk,
            max_body,
            delivery_timeout,
        } => {
            let bootstrap = bootstrap_server(ctx, client)?;
            let options = crate::messaging::http::ServeOptions {
                topic: topic.name().to_string(),
                chunk_size: chunk.chunk_size.map(|n| n as usize),
                format: *value_format,
                max_body: *max_body,
                delivery_timeout: Duration::from_secs(*delivery_timeout),
            };
            serve::run(ctx, &bootstrap, bind, options).await
        }
        _ => unreachable!("{command:?} is not a messaging command"),
    }
}

async fn selftest(ctx: &Context<'_>, client: &ClientArgs, messages: u32) -> Result<()> {
    let bootstrap = bootstrap_server(ctx, client)?;
    let timeout = Duration::from_secs(defaults::SELFTEST_TIMEOUT_SECS);
    let report = crate::selftest::run(&bootstrap, messages, timeout, ctx.reporter).await?;
    if ctx.global.json {
        print_json(&report)
    } else {
        say(&format!("self-test passed: {}", report.summary()))
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

/// `--bootstrap-server` (with `--client-config`'s properties, whose `bootstrap.servers` serves
/// without it), else the brokers of the environment under --root, as its admin.
pub fn bootstrap_server(ctx: &Context, client: &ClientArgs) -> Result<String> {
    if let Some(file) = &client.client_config {
        let mut properties = crate::security::clients::read_properties(file)?;
        let listed = properties
            .iter()
            .position(|(k, _)| k == "bootstrap.servers");
        let listed = listed.map(|at| properties.remove(at).1);
        crate::messaging::connect_with(properties);
        if let Some(b) = client.bootstrap_server.clone().or(listed) {
            return Ok(b);
        }
    }
    if let Some(b) = &client.bootstrap_server {
        return Ok(b.clone());
    }
    let manifest = crate::state::require(&paths(ctx)?)?;
    crate::security::connect_as(
        &crate::security::inputs_of(&manifest),
        crate::security::ADMIN,
    );
    Ok(manifest.bootstrap_server())
}

/// The settings of flags and environment (with the global `--root`) over the config file,
/// over what the environment under that root was set up with.
fn resolve_settings(ctx: &Context, flags: &Layer) -> Result<Settings> {
    let mut flags = flags.clone();
    flags.root = ctx.global.root.clone();
    let file = match &ctx.global.config {
        Some(path) => settings::load_config_file(path)?,
        None => Layer::default(),
    };
    let recorded = crate::state::load(&paths(ctx)?)?.and_then(|m| m.settings);
    let recorded = recorded
        .unwrap_or_default()
        .for_mode(flags.mode.or(file.mode));
    Ok(Settings::resolve([flags, file, recorded])?)
}

/// Prints text and a newline on stdout. A write error (a closed pipe, a full disk) comes back
/// as an error, never a panic; `main` treats a broken pipe as a quiet success.
pub fn say(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// Asks a yes/no question on a terminal; without one (or with no answer) the answer is no.
pub fn confirm(question: &str) -> bool {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return false;
    }
    let mut err = std::io::stderr().lock();
    if write!(err, "{question} [y/N] ")
        .and_then(|_| err.flush())
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

/// Whether a command printed its JSON result: then a failure after it (`status` when not all
/// is ready) adds no error object to stdout, which holds one document.
static RESULT_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    RESULT_PRINTED.store(true, std::sync::atomic::Ordering::SeqCst);
    say(&serde_json::to_string_pretty(value)?)
}

/// See [`RESULT_PRINTED`].
pub fn result_printed() -> bool {
    RESULT_PRINTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// `kafkup` with `--root` when the environment is not at the default place, quoted for a shell.
pub fn kafkup_command(paths: &Paths) -> String {
    let default = Paths::default_for_current_user();
    match paths.root().filter(|_| *paths != default) {
        Some(root) => {
            let root = root.to_string_lossy();
            let quoted =
                shlex::try_quote(&root).map_or_else(|_| root.to_string(), |q| q.into_owned());
            format!("kafkup --root {quoted}")
        }
        _ => "kafkup".into(),
    }
}

/// The commands `setup` suggests at the end: a produce and consume round trip that runs as
/// printed (a test runs it), on a topic the broker creates on first use.
pub fn try_next(paths: &Paths) -> String {
    let k = kafkup_command(paths);
    format!(
        "{k} produce demo --value 'hello, Kafka' && \
         {k} consume demo --from-beginning --max-messages 1"
    )
}
