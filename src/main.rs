//! Thin entry point: parse, set up logging and drawing, run, map errors to exit codes.

mod draw;

use clap::Parser;
use kafkup::cli::Cli;
use kafkup::error::{Diagnose, ExitCode};
use std::io::IsTerminal;

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    let json = cli.global.json;
    init_logging(cli.global.verbose, cli.global.quiet);
    let reporter = draw::TerminalReporter::new(
        !cli.global.quiet && cli.global.verbose == 0 && std::io::stderr().is_terminal(),
        cli.global.quiet,
    );
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln_stderr(&format!("error: cannot start the async runtime: {e}"));
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
            let help = help.filter(|h| !h.is_empty());
            let message = format!("{err:#}");
            // A script reading stdout gets an object to read, unless the command already
            // printed its result there (`status --json` when not all is ready).
            if json && !kafkup::commands::result_printed() {
                let _ = print_error_object(&message, help.as_deref(), code as u8);
            }
            // stderr may be closed too; there is nobody left to tell then.
            let _ = writeln_stderr(&format!("error: {message}"));
            if let Some(help) = help {
                let _ = writeln_stderr(&format!("help: {help}"));
            }
            std::process::ExitCode::from(code as u8)
        }
    }
}

/// `{"error", "help", "exit_code"}` on one line of stdout: what `--json` prints on failure.
fn print_error_object(error: &str, help: Option<&str>, exit_code: u8) -> std::io::Result<()> {
    use std::io::Write;
    let object = serde_json::json!({ "error": error, "help": help, "exit_code": exit_code });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{object}")?;
    out.flush()
}

/// A command line clap cannot parse: its message on stderr, as always, and under `--json`
/// the error object on stdout too; `--help` and `--version` print as usual.
fn usage_error(e: clap::Error) -> ! {
    let json = std::env::args_os().skip(1).any(|a| a == "--json");
    if json && e.use_stderr() {
        let rendered = e.render().to_string();
        let mut lines = rendered.lines().filter(|l| !l.trim().is_empty());
        let first = lines.next().unwrap_or("invalid command line");
        let error = first.strip_prefix("error: ").unwrap_or(first);
        let usage = lines.find(|l| l.starts_with("Usage: "));
        let help = usage.map_or("`kafkup --help` lists the commands".into(), |u| {
            u.to_string()
        });
        let _ = print_error_object(error, Some(&help), e.exit_code() as u8);
    }
    e.exit()
}

fn writeln_stderr(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stderr().lock(), "{text}")
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

/// Every error type that implements [`Diagnose`]. A test checks that none is missing.
macro_rules! diagnosed {
    ($($ty:ty),* $(,)?) => {
        /// The exit code and hint of the first error in the chain that knows them.
        fn diagnose(err: &anyhow::Error) -> (ExitCode, Option<String>) {
            for cause in err.chain() {
                $(if let Some(e) = cause.downcast_ref::<$ty>() {
                    return (e.exit_code(), e.help());
                })*
            }
            (ExitCode::Error, None)
        }

        #[cfg(test)]
        const DIAGNOSED: &[&str] = &[$(stringify!($ty)),*];
    };
}

diagnosed!(
    kafkup::error::Problem,
    kafkup::catalog::CatalogError,
    kafkup::settings::SettingsError,
    kafkup::fetch::FetchError,
    kafkup::fetch::MavenError,
    kafkup::state::StateError,
    kafkup::java::JavaError,
    kafkup::render::RenderError,
    kafkup::runner::RunnerError,
    kafkup::preflight::PreflightError,
    kafkup::probe::NotReady,
    kafkup::probe::ProbeError,
    kafkup::lifecycle::NotAllReady,
    kafkup::doctor::Problems,
    kafkup::snapshot::Misfit,
    kafkup::lifecycle::StillServed,
    kafkup::lock::LockError,
    kafkup::selftest::SelftestError,
    kafkup::messaging::admin::AdminError,
    kafkup::messaging::produce::ProduceError,
    kafkup::messaging::consume::ConsumeError,
    kafkup::messaging::http::ServeError,
    kafkup::datacheck::DataProblem,
    kafkup::deploy::decide::Conflict,
    kafkup::deployment::DeploymentError,
    kafkup::paths::DataInTempDir,
    kafkup::topics::Refused,
    kafkup::releases::Refused,
    kafkup::deploy::roll::NotRolling,
    kafkup::export::strimzi::ZookeeperMode,
);

#[cfg(test)]
mod tests {
    use super::*;
    use kafkup::runner::RunnerError;
    use kafkup::vocab::RunnerKind;
    use std::path::Path;

    /// Every `impl … Diagnose for X` under src/ names a type listed in `diagnosed!`: a type
    /// left off would silently exit 1 without its hint.
    #[test]
    fn every_diagnosed_error_type_is_listed() {
        fn walk(dir: &Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for line in text.lines() {
                        let line = line.trim();
                        if let Some(rest) = line.strip_prefix("impl ") {
                            if let Some((_, ty)) = rest.split_once("Diagnose for ") {
                                let ty = ty.trim_end_matches(" {").trim();
                                found.push(ty.rsplit("::").next().unwrap().to_string());
                            }
                        }
                    }
                }
            }
        }
        let mut implemented = Vec::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut implemented,
        );
        assert!(implemented.len() >= 15, "{implemented:?}");
        let listed: Vec<&str> = DIAGNOSED
            .iter()
            .map(|t| t.rsplit("::").next().unwrap().trim())
            .collect();
        for ty in &implemented {
            assert!(
                listed.contains(&ty.as_str()),
                "{ty} implements Diagnose but is not in diagnosed!()"
            );
        }
    }

    fn code_of(err: impl std::error::Error + Send + Sync + 'static) -> ExitCode {
        // Context on top, as commands add it, must not hide the diagnosis.
        diagnose(&anyhow::Error::new(err).context("while doing something")).0
    }

    #[test]
    fn errors_map_to_their_documented_exit_codes() {
        use kafkup::error::Problem;
        assert_eq!(code_of(Problem::usage("x", "y")), ExitCode::Usage);
        assert_eq!(code_of(Problem::new("x", "y")), ExitCode::Error);
        assert_eq!(
            code_of(kafkup::catalog::CatalogError::ZookeeperModeUnsupported {
                kafka_version: "4.0.0".into()
            }),
            ExitCode::Usage
        );
        assert_eq!(
            code_of(kafkup::settings::SettingsError::PortZero {
                what: "--kafka-port".into()
            }),
            ExitCode::Usage
        );
        assert_eq!(
            code_of(RunnerError::Unavailable {
                kind: RunnerKind::Docker,
                reason: "x".into(),
                help: "y".into(),
            }),
            ExitCode::Usage
        );
        assert_eq!(
            code_of(kafkup::fetch::FetchError::BadSignature {
                file: "f".into(),
                signer: "s".into(),
                reason: "r".into()
            }),
            ExitCode::VerificationFailed
        );
        assert_eq!(code_of(kafkup::lifecycle::NotAllReady), ExitCode::NotReady);
        assert_eq!(
            code_of(kafkup::probe::NotReady {
                probe: "p".into(),
                service: kafkup::vocab::NodeId::solo(kafkup::vocab::Role::Kafka),
                waited: std::time::Duration::from_secs(1),
                last_error: None,
                died: None,
            }),
            ExitCode::NotReady
        );
        assert_eq!(
            code_of(kafkup::selftest::SelftestError::ProduceTimedOut {
                acked: 1,
                expected: 2
            }),
            ExitCode::SelftestFailed
        );
        assert_eq!(
            diagnose(&anyhow::anyhow!("plain")).0,
            ExitCode::Error,
            "an unknown error is a plain failure"
        );
    }
}
