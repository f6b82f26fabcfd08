//! Thin entry point: parse, set up logging and drawing, run, map errors to exit codes.

mod draw;

use clap::Parser;
use kafkup::cli::Cli;
use kafkup::error::{diagnose, ExitCode};
use std::io::IsTerminal;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose, cli.global.quiet);
    let reporter = draw::TerminalReporter::new(
        !cli.global.quiet && cli.global.verbose == 0 && std::io::stderr().is_terminal(),
        cli.global.quiet,
    );
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(ExitCode::Error as u8);
        }
    };
    let result = runtime.block_on(kafkup::commands::run(cli, &reporter));
    // Best-effort background work (e.g. a coordinator warm-up) must never delay the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            reporter.clear();
            let (code, help) = diagnose(&err);
            eprintln!("error: {err:#}");
            if let Some(help) = help {
                eprintln!("help: {help}");
            }
            std::process::ExitCode::from(code as u8)
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("KAFKUP_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
