//! `kafkup setup`: plan, then act. Choose the runner, render, look at what is there, decide
//! what to do — print it (`--dry-run`) or carry it out.

use super::Context;
use crate::catalog;
use crate::deploy::decide::StartReason;
use crate::deploy::{self, Action, Decision, Desired};
use crate::error::{ExitCode, Problem};
use crate::java::{Java, JavaError, JRE_PACKAGE};
use crate::plan::Plan;
use crate::preflight;
use crate::render::RenderedFile;
use crate::runner::detect::{self, HostFacts};
use crate::runner::{AnyRunner, Backend, Runner, RunnerContext, RunnerKind};
use crate::settings::Settings;
use crate::spec::{service_specs, ServiceName, ServiceSpec};
use crate::state::{self, Manifest};
use anyhow::Result;
use std::path::PathBuf;
use std::time::Instant;

pub async fn run(ctx: &Context<'_>, settings: &Settings, dry_run: bool) -> Result<()> {
    let started = Instant::now();
    let plan = Plan::from_settings(settings);
    let previous = state::load(&plan.paths)?;
    let (runner, why) = choose_runner(ctx, settings, previous.as_ref()).await?;
    // A dry run changes nothing: it says what would be pulled instead of pulling it.
    let pending = match dry_run {
        true => runner.to_prepare().await?,
        false => None,
    };
    if !dry_run {
        runner.prepare(ctx.reporter).await?;
    }
    // Java first: without it nothing can start, so nothing should be downloaded or changed.
    let java = match pending {
        Some(_) => unknown_java(),
        None => runner_java(ctx, settings, &runner, dry_run).await?,
    };
    let java = match dry_run {
        true => java,
        false => check_java(java, &plan)?,
    };
    let run_plan = plan_for(&plan, &runner);
    let specs = service_specs(&run_plan);
    let services: Vec<(&ServiceSpec, Vec<String>)> =
        specs.iter().map(|s| (s, s.command(&java.path))).collect();
    let files = rendered_files(settings, &plan, &run_plan, &specs, &java, runner.kind())?;
    let plans = (&plan, &run_plan);
    let seen = deploy::observe(&runner, plans, &specs, &files, settings.verify_signature);
    let want = Desired {
        plan: &plan,
        services: services.clone(),
        files: &files,
        runner: runner.kind(),
    };
    let decision = deploy::decide(previous.as_ref(), &want, &seen.await?)?;
    if dry_run {
        let java = (pending.is_none()).then_some(&java);
        let chosen = (&runner, why.as_str(), pending.as_deref());
        return print_decision(ctx, settings, &plan, &decision, chosen, java);
    }
    ctx.reporter
        .step(&format!("runner: {} ({why})", runner.kind()));
    check_ports(&plan, &decision, &specs).await?;
    announce(ctx, &decision);
    let mut manifest = previous.clone().unwrap_or_else(|| {
        let p = &plan;
        Manifest::new(
            p.mode,
            &p.paths,
            &p.host,
            p.kafka.port,
            p.ready_timeout_secs,
        )
    });
    let executor = deploy::Executor {
        runner: &runner,
        plan: &plan,
        run_plan: &run_plan,
        services: &services,
        files: &files,
        sources: &settings.sources(),
        reporter: ctx.reporter,
        first: previous.is_none(),
        started: Default::default(),
    };
    if !settings.verify_signature {
        ctx.reporter.warn(crate::fetch::NO_SIGNATURE_WARNING);
    }
    // Not a setting that restarts anything: the next start that happens anyway follows it.
    manifest.class_archive = settings.class_archive;
    tokio::select! {
        done = deploy::execute(&executor, &decision, &mut manifest) => done?,
        signal = interrupted() => return Err(stop_after_interrupt(&executor, signal?).await),
    }
    print_summary(ctx, &plan, &manifest, started)
}

/// The plan as the services see it: in containers, their own paths and interfaces.
fn plan_for(plan: &Plan, runner: &AnyRunner) -> Plan {
    match runner {
        AnyRunner::Docker(d) => plan.in_containers(&d.container_name(ServiceName::Zookeeper)),
        _ => plan.clone(),
    }
}

/// Rendered from the services' view of the plan, written where the host keeps them; only the
/// files the runner installs.
fn rendered_files(
    settings: &Settings,
    host: &Plan,
    run: &Plan,
    specs: &[ServiceSpec],
    java: &Java,
    kind: RunnerKind,
) -> Result<Vec<RenderedFile>> {
    let files = crate::render::render_all(run, specs, &java.path, settings.templates.as_deref())?;
    Ok(files
        .into_iter()
        .filter(|f| installs_with(f, kind))
        .map(|mut f| {
            if kind == RunnerKind::Docker {
                let host_path = crate::runner::docker::container::host_path(&f.target, &host.paths);
                f.target = host_path.expect("container config paths map to the host");
            }
            f
        })
        .collect())
}

/// What is about to change, before it does.
fn announce(ctx: &Context<'_>, decision: &Decision) {
    if decision.changes_nothing() {
        ctx.reporter
            .step("everything is already set up: nothing to change");
    }
    for action in &decision.actions {
        if let Action::Start {
            service,
            reason: StartReason::Restart(why),
        } = action
        {
            ctx.reporter
                .step(&format!("{service} will be restarted: {}", why.join(", ")));
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn interrupted() -> std::io::Result<&'static str> {
    Ok(listen_for_interrupt()?.await)
}

/// A future that resolves on the next Ctrl-C or SIGTERM, listening from the moment this
/// returns: a signal sent before the future is first polled is not lost.
fn listen_for_interrupt() -> std::io::Result<impl std::future::Future<Output = &'static str>> {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut int, mut term) = (
        signal(SignalKind::interrupt())?,
        signal(SignalKind::terminate())?,
    );
    Ok(async move {
        tokio::select! {
            _ = int.recv() => "Ctrl-C",
            _ = term.recv() => "SIGTERM",
        }
    })
}

/// Setup was interrupted: stop what it started (a second signal leaves them running), and
/// say what is left.
async fn stop_after_interrupt(ex: &deploy::Executor<'_>, signal: &str) -> anyhow::Error {
    let names = ex.started();
    let stopped = format!("setup was interrupted ({signal})");
    if names.is_empty() {
        let help = "nothing was started; run `kafkup setup` again to finish (downloads resume)";
        return Problem::new(stopped, help)
            .with_code(ExitCode::Interrupted)
            .into();
    }
    let listed = names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    // Listening before saying so: a second signal sent as soon as the line appears must count.
    let again = listen_for_interrupt();
    ex.reporter.warn(&format!(
        "interrupted: stopping what this setup started ({listed}); interrupt again to leave them running"
    ));
    let specs: Vec<&ServiceSpec> = ex
        .services
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| names.contains(&s.name))
        .collect();
    let help = tokio::select! {
        r = crate::lifecycle::stop_all(ex.runner, &specs, ex.reporter) => match r {
            Ok(()) => format!("{listed} stopped again; run `kafkup setup` again to finish"),
            Err(e) => format!("stopping them failed ({e:#}); `kafkup teardown` stops them"),
        },
        _ = async { match again { Ok(again) => again.await, Err(_) => std::future::pending().await } } => format!("{listed} left running; `kafkup status` shows them, `kafkup teardown` stops them"),
    };
    Problem::new(stopped, help)
        .with_code(ExitCode::Interrupted)
        .into()
}

/// The runner of an existing environment stays; a new one gets what `--backend` asks for.
async fn choose_runner(
    ctx: &Context<'_>,
    settings: &Settings,
    previous: Option<&Manifest>,
) -> Result<(AnyRunner, String)> {
    let mut runner_ctx = RunnerContext::new(&settings.paths, settings.java_home.clone());
    runner_ctx.image = settings.image.clone();
    if !settings.class_archive {
        runner_ctx.class_archives = None;
    }
    let record = previous.and_then(|p| p.runner.as_ref());
    let running = previous.is_some_and(|p| !p.services.is_empty());
    let (kind, why) = match record {
        Some(record) if running => {
            let kind = record.kind();
            if !matches!(settings.backend, Backend::Auto) && settings.backend != Backend::Only(kind)
            {
                ctx.reporter.warn(&format!(
                    "ignoring --backend {}: this environment runs under the {kind} runner; \
                     `kafkup teardown` first to switch",
                    settings.backend
                ));
            }
            (kind, "as set up before".to_string())
        }
        _ => {
            let choice = detect::choose(settings.backend, &HostFacts::observe().await)?;
            (choice.kind, choice.why)
        }
    };
    // A torn-down environment's record still says what its runner made (the systemd user).
    let record = record.filter(|r| r.kind() == kind);
    Ok((AnyRunner::open(kind, &runner_ctx, record).await?, why))
}

/// The runner's Java; where there is none and apt is at hand, installed with the user's
/// consent (`--install-java`, or a yes on a terminal) — never silently. A dry run only says.
async fn runner_java(
    ctx: &Context<'_>,
    settings: &Settings,
    runner: &AnyRunner,
    dry_run: bool,
) -> Result<Java> {
    let missing = match runner.java().await {
        Ok(java) => return Ok(java),
        Err(e) if dry_run => e,
        Err(e @ JavaError::NotFound { .. }) => e,
        Err(e) => return Err(e.into()),
    };
    if dry_run {
        ctx.reporter
            .warn(&format!("setup would stop here: {missing}"));
        return Ok(unknown_java());
    }
    let question = format!("no Java runtime found; install {JRE_PACKAGE} with apt-get now?");
    let agreed = settings.install_java || super::confirm(&question);
    if runner.kind() == RunnerKind::Docker || !crate::java::apt_can_install() || !agreed {
        return Err(missing.into());
    }
    ctx.reporter
        .step(&format!("installing {JRE_PACKAGE} with apt-get"));
    crate::java::install_with_apt().await?;
    Ok(runner.java().await?)
}

/// Stands in for a Java a dry run could not look at; the rendered commands still read well.
fn unknown_java() -> Java {
    Java {
        path: PathBuf::from("/usr/bin/java"),
        major: 0,
    }
}

/// The runner's Java must be new enough for both distributions.
fn check_java(java: Java, plan: &Plan) -> Result<Java> {
    for a in plan.artifacts() {
        let needs = format!("{} {}", a.project, a.version);
        crate::java::require(&java, catalog::minimum_java(a.project, &a.version), &needs)?;
    }
    Ok(java)
}

/// Unit files are installed only by the systemd runner.
fn installs_with(file: &RenderedFile, runner: RunnerKind) -> bool {
    runner == RunnerKind::Systemd || !file.rel.starts_with("systemd")
}

/// The ports of every service about to start that is not running now must be free, before
/// anything is downloaded or stopped: a restart half-done would be worse than none. A port a
/// container publishes is named by its container.
async fn check_ports(plan: &Plan, decision: &Decision, specs: &[ServiceSpec]) -> Result<()> {
    let restarting: Vec<_> = decision
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Stop { service, .. } => Some(*service),
            _ => None,
        })
        .collect();
    let starting: Vec<_> = decision
        .starts()
        .into_iter()
        .filter(|n| !restarting.contains(n))
        .collect();
    let ports: Vec<(u16, &str)> = plan
        .ports()
        .into_iter()
        .filter(|(port, _)| {
            specs
                .iter()
                .any(|s| starting.contains(&s.name) && s.ports.contains(port))
        })
        .collect();
    match preflight::check_ports(&ports) {
        Err(preflight::PreflightError::PortBusy { port, what, holder })
            if holder
                .as_deref()
                .is_some_and(|h| h.contains("docker-proxy")) =>
        {
            let containers = crate::runner::DockerRunner::publishers_of(port).await;
            let holder = containers
                .map(|c| format!("Docker container {c}"))
                .or(holder);
            Err(preflight::PreflightError::PortBusy { port, what, holder }.into())
        }
        other => Ok(other?),
    }
}

fn print_summary(
    ctx: &Context<'_>,
    plan: &Plan,
    manifest: &Manifest,
    started: Instant,
) -> Result<()> {
    if ctx.global.json {
        return super::print_json(&serde_json::json!({
            "ready": true,
            "mode": plan.mode,
            "bootstrap_server": plan.bootstrap_server(),
            "zookeeper": plan.zookeeper.as_ref().map(|z| format!("{}:{}", plan.host, z.client_port)),
            "cluster_id": manifest.cluster_id,
            "seconds": started.elapsed().as_secs_f64(),
        }));
    }
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&format!(
        "Kafka is ready at {} ({} mode)",
        plan.bootstrap_server(),
        plan.mode
    ))?;
    if let Some(zk) = &plan.zookeeper {
        super::say(&format!(
            "ZooKeeper is ready at {}:{}",
            plan.host, zk.client_port
        ))?;
    }
    super::say(&format!("Try: {}", super::try_next(&plan.paths)))
}

fn print_decision(
    ctx: &Context<'_>,
    settings: &Settings,
    plan: &Plan,
    decision: &Decision,
    (runner, why, pending): (&AnyRunner, &str, Option<&str>),
    java: Option<&Java>,
) -> Result<()> {
    let lines: Vec<String> = decision.actions.iter().map(|a| a.to_string()).collect();
    if ctx.global.json {
        return super::print_json(&serde_json::json!({
            "plan": plan,
            "runner": {"kind": runner.kind(), "why": why},
            "pull": pending,
            "java": java,
            "nothing_to_change": decision.changes_nothing(),
            "actions": lines,
        }));
    }
    let mut out = vec![
        "kafkup setup would (dry run, nothing changed):".to_string(),
        format!("  runner    {} ({why})", runner.kind()),
    ];
    if let Some(pending) = pending {
        out.push(format!("  pull      {pending}"));
    }
    out.push(match java {
        Some(java) => format!("  java      {} (Java {})", java.path.display(), java.major),
        None => "  java      the image's own, checked once it is pulled".into(),
    });
    if decision.changes_nothing() {
        out.push("  nothing to change".into());
    }
    for (action, line) in decision.actions.iter().zip(&lines) {
        out.push(format!("  {line}"));
        if let Action::Fetch {
            artifact,
            installed: false,
            ..
        } = action
        {
            out.extend(fetch_details(settings, artifact));
        }
    }
    super::say(&out.join("\n"))
}

/// Where a download would come from and what would prove it.
fn fetch_details(settings: &Settings, artifact: &catalog::Artifact) -> Vec<String> {
    const INDENT: &str = "              ";
    let sources = settings.sources();
    let mut out = Vec::new();
    if settings.source.may_use_apache() {
        out.extend(
            settings
                .mirrors
                .iter()
                .map(|m| format!("{INDENT}from {}", artifact.tarball_url(m))),
        );
        let proof = if settings.verify_signature {
            "SHA-512 + OpenPGP signature"
        } else {
            "SHA-512 only (signature check OFF)"
        };
        let dists: Vec<&str> = settings.dists.iter().map(|d| d.as_str()).collect();
        out.push(format!("{INDENT}verify {proof} from {}", dists.join(", ")));
    }
    if settings.source.may_use_maven() {
        let when = match settings.source {
            crate::fetch::SourceChoice::Auto => "if Apache's sites do not answer: ",
            _ => "",
        };
        out.push(format!(
            "{INDENT}{when}{}",
            crate::fetch::maven::plan_line(artifact, &sources)
        ));
    }
    out
}
