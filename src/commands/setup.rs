//! `kafkup setup`: plan, then act. Choose the runner, resolve the one desired state, look at
//! what is there, decide what to do — print it (`--dry-run`) or carry it out.

use super::Context;
use crate::catalog;
use crate::deploy::decide::StartReason;
use crate::deploy::{self, Action, Decision};
use crate::deployment::Deployment;
use crate::error::{ExitCode, Problem};
use crate::java::{Java, JavaError, JRE_PACKAGE};
use crate::lock;
use crate::runner::detect::{self, HostFacts, RunnerChoice};
use crate::runner::{AnyRunner, Runner, RunnerContext};
use crate::settings::Settings;
use crate::spec::ServiceSpec;
use crate::state::{self, Manifest};
use crate::vocab::{Backend, RunnerKind};
use anyhow::Result;
use std::time::Instant;

/// How setup carries out what it decided.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Print the plan and change nothing.
    pub dry_run: bool,
    /// Install Java with apt-get where none is found, without asking.
    pub install_java: bool,
    /// Restart one node at a time, each ready again before the next (`kafkup upgrade`).
    pub rolling: bool,
}

pub async fn run(ctx: &Context<'_>, settings: &Settings, options: Options) -> Result<()> {
    let paths = settings.paths();
    // Before the lock: taking it would create the state dir where data must not go, and a
    // runner asked for by name that cannot run here is a usage error first.
    crate::deployment::check_early(settings)?;
    let previous = state::load(&paths)?;
    let choice = choose_runner(ctx, settings, previous.as_ref()).await?;
    let lock = (!options.dry_run)
        .then(|| lock::acquire(&paths))
        .transpose()?;
    let setup = Setup {
        ctx,
        settings,
        options,
        previous,
    };
    let result = setup.run(choice).await;
    if let (Err(_), Some(lock)) = (&result, lock) {
        if !paths.manifest().exists() {
            lock.forget();
        }
    }
    result
}

/// [`run`] for a caller that holds the environment's lock already (`kafkup upgrade`).
/// Setup one node at a time, each ready again before the next stops (`upgrade`, `migrate`);
/// the caller holds the lock.
pub async fn run_rolling(ctx: &Context<'_>, settings: &Settings) -> Result<()> {
    let rolling = Options {
        rolling: true,
        ..Default::default()
    };
    run_locked(ctx, settings, rolling).await
}

pub async fn run_locked(ctx: &Context<'_>, settings: &Settings, options: Options) -> Result<()> {
    crate::deployment::check_early(settings)?;
    let previous = state::load(&settings.paths())?;
    let choice = choose_runner(ctx, settings, previous.as_ref()).await?;
    let setup = Setup {
        ctx,
        settings,
        options,
        previous,
    };
    setup.run(choice).await
}

struct Setup<'a> {
    ctx: &'a Context<'a>,
    settings: &'a Settings,
    options: Options,
    previous: Option<Manifest>,
}

impl Setup<'_> {
    async fn run(self, choice: RunnerChoice) -> Result<()> {
        let started = Instant::now();
        let (ctx, previous) = (self.ctx, self.previous.as_ref());
        let runner = self.open_runner(choice.kind, previous).await?;
        // A dry run changes nothing: it says what would be pulled instead of pulling it.
        let pending = match self.options.dry_run {
            true => runner.to_prepare().await?,
            false => None,
        };
        if !self.options.dry_run {
            runner.prepare(ctx.reporter).await?;
        }
        // Java first: without it nothing can start, so nothing should be downloaded or changed.
        let java = match pending {
            Some(_) => None,
            None => self.runner_java(&runner).await?,
        };
        let want = Deployment::resolve(self.settings, choice, java)?;
        if let (false, Some(java)) = (self.options.dry_run, &want.java) {
            want.check_java(java)?;
        }
        deploy::secure::connect_as_admin(&want)?;
        let seen = deploy::observe(&runner, &want, previous).await?;
        let mut decision = deploy::decide(previous, &want, &seen)?;
        if self.options.rolling {
            let replicated = want.brokers() > 1;
            decision = deploy::roll::rolling(decision, replicated, want.ready_timeout_secs)?;
        }
        if self.options.dry_run {
            print_decision(ctx, &want, &decision, pending.as_deref())?;
            // A dry run ends where setup would: before anything changes.
            return check_ports(&want, &decision, previous).await;
        }
        ctx.reporter.step(&format!(
            "runner: {} ({})",
            want.runner.kind, want.runner.why
        ));
        check_ports(&want, &decision, previous).await?;
        announce(ctx, &decision);
        let manifest = self.act(&runner, &want, &decision).await?;
        print_summary(ctx, &want, &manifest, started)?;
        print_security(ctx, &want, &decision)
    }

    /// Carries the decision out; Ctrl-C or SIGTERM stop what this run started.
    async fn act(
        &self,
        runner: &AnyRunner,
        want: &Deployment,
        decision: &Decision,
    ) -> Result<Manifest> {
        let mut manifest = self.previous.clone().unwrap_or_else(|| {
            let port = want
                .topology
                .nodes
                .iter()
                .find_map(|n| n.ports.client)
                .unwrap_or_default();
            Manifest::new(
                want.mode,
                &want.paths,
                &want.topology.host,
                port,
                want.ready_timeout_secs,
            )
        });
        let executor = deploy::Executor {
            runner,
            want,
            reporter: self.ctx.reporter,
            first: self.previous.is_none(),
            started: Default::default(),
        };
        if !want.sources.verify_signature {
            self.ctx.reporter.warn(crate::fetch::NO_SIGNATURE_WARNING);
        }
        // Not a setting that restarts anything: the next start that happens anyway follows it.
        manifest.class_archive = want.class_archive;
        tokio::select! {
            done = deploy::execute(&executor, decision, &mut manifest) => done?,
            signal = interrupted() => return Err(stop_after_interrupt(&executor, signal?).await),
        }
        Ok(manifest)
    }

    /// The runner of an existing environment (with what it recorded), or a new one.
    async fn open_runner(
        &self,
        kind: RunnerKind,
        previous: Option<&Manifest>,
    ) -> Result<AnyRunner> {
        let record = previous.and_then(|p| p.runner.as_ref());
        // A torn-down environment's record still says what its runner made (the systemd user).
        let record = record.filter(|r| r.kind() == kind);
        let ctx = runner_context(self.settings)?;
        Ok(AnyRunner::open(kind, &ctx, record).await?)
    }

    /// The runner's Java; where there is none and apt is at hand, installed with the user's
    /// consent (`--install-java`, or a yes on a terminal) — never silently. A dry run only
    /// says (and goes on without one).
    async fn runner_java(&self, runner: &AnyRunner) -> Result<Option<Java>> {
        let missing = match runner.java().await {
            Ok(java) => return Ok(Some(java)),
            Err(e) if self.options.dry_run => e,
            Err(e @ JavaError::NotFound { .. }) => e,
            Err(e) => return Err(e.into()),
        };
        if self.options.dry_run {
            self.ctx
                .reporter
                .warn(&format!("setup would stop here: {missing}"));
            return Ok(None);
        }
        let question = format!("no Java runtime found; install {JRE_PACKAGE} with apt-get now?");
        let agreed = self.options.install_java || super::confirm(&question);
        if runner.kind() == RunnerKind::Docker || !crate::java::apt_can_install() || !agreed {
            return Err(missing.into());
        }
        self.ctx
            .reporter
            .step(&format!("installing {JRE_PACKAGE} with apt-get"));
        crate::java::install_with_apt().await?;
        Ok(Some(runner.java().await?))
    }
}

/// The runner's context before the deployment exists: the nodes of the shape, the settings'
/// Java home, image and archives.
fn runner_context(settings: &Settings) -> Result<RunnerContext> {
    let topology = crate::topology::Topology::plan(settings)?;
    let nodes = topology.nodes.iter().map(|n| n.id).collect();
    let mut ctx = RunnerContext::new(&settings.paths(), nodes, settings.java_home.clone());
    ctx.image = settings.image.clone();
    if !settings.class_archive {
        ctx.class_archives = None;
    }
    Ok(ctx)
}

/// The runner of an existing environment stays; a new one gets what `--backend` asks for
/// (one asked for by name that cannot run here is refused).
async fn choose_runner(
    ctx: &Context<'_>,
    settings: &Settings,
    previous: Option<&Manifest>,
) -> Result<RunnerChoice> {
    let record = previous.and_then(|p| p.runner.as_ref());
    let running = previous.is_some_and(|p| !p.services.is_empty());
    let same = |r: &crate::runner::RunnerRecord| settings.backend == Backend::Only(r.kind());
    match record {
        Some(record) if !running && same(record) => Ok(RunnerChoice {
            kind: record.kind(),
            why: "as set up before".into(),
        }),
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
            Ok(RunnerChoice {
                kind,
                why: "as set up before".into(),
            })
        }
        _ => Ok(detect::choose(
            settings.backend,
            &HostFacts::observe().await,
        )?),
    }
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
        .map(|n| n.name())
        .collect::<Vec<_>>()
        .join(", ");
    // Listening before saying so: a second signal sent as soon as the line appears must count.
    let again = listen_for_interrupt();
    ex.reporter.warn(&format!(
        "interrupted: stopping what this setup started ({listed}); interrupt again to leave them running"
    ));
    let specs: Vec<&ServiceSpec> = ex
        .want
        .launches
        .iter()
        .map(|l| &l.spec)
        .filter(|s| names.contains(&s.name))
        .collect();
    let help = tokio::select! {
        r = crate::lifecycle::stop_all(ex.runner, &specs, ex.reporter) => match r {
            Ok(_) => format!("{listed} stopped again; run `kafkup setup` again to finish"),
            Err(e) => format!("stopping them failed ({e:#}); `kafkup teardown` stops them"),
        },
        _ = async { match again { Ok(again) => again.await, Err(_) => std::future::pending().await } } => {
            match still_running(ex.runner, &specs).await {
                left if left.is_empty() => format!("{listed} stopped again; run `kafkup setup` again to finish"),
                left => format!("{left} left running; `kafkup status` shows them, `kafkup teardown` stops them"),
            }
        }
    };
    Problem::new(stopped, help)
        .with_code(ExitCode::Interrupted)
        .into()
}

/// Those of `specs` that run now (a stop cut short by a second signal may have stopped some).
async fn still_running(runner: &AnyRunner, specs: &[&ServiceSpec]) -> String {
    let mut left = Vec::new();
    for spec in specs {
        if !matches!(runner.state(spec.name).await, Ok(s) if !s.is_running()) {
            left.push(spec.name.name());
        }
    }
    left.join(", ")
}

/// The ports of every node about to start that is not running now must be free, before
/// anything is downloaded or stopped: a restart half-done would be worse than none. A port a
/// container publishes is named by its container.
async fn check_ports(
    want: &Deployment,
    decision: &Decision,
    previous: Option<&Manifest>,
) -> Result<()> {
    let restarting: Vec<_> = decision
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Stop { service, .. } => Some(*service),
            _ => None,
        })
        .collect();
    // A node that restarts frees the ports it holds now; any other port it will need must be
    // free already, or the working node would be stopped for nothing. (A running node the
    // manifest does not know may hold any of its ports.)
    let held_now = |node, port| {
        restarting.contains(&node)
            && previous
                .and_then(|p| p.service(node))
                .is_none_or(|r| r.spec.ports.contains(&port))
    };
    // A renamed node frees the ports its old name holds.
    let held_before_rename = |node, port| {
        decision.actions.iter().any(|a| match a {
            Action::Rename(r) if r.to == node => previous
                .and_then(|p| p.service(r.from))
                .is_some_and(|s| s.spec.ports.contains(&port)),
            _ => false,
        })
    };
    // A paused node is continued: it holds its ports.
    let resumed = |node| {
        decision.actions.iter().any(|a| {
            matches!(a, Action::Start { service, reason: StartReason::Paused } if *service == node)
        })
    };
    let starting: Vec<_> = decision
        .starts()
        .into_iter()
        .filter(|n| !resumed(*n))
        .collect();
    let ports: Vec<(u16, String)> = want
        .ports()
        .into_iter()
        .filter(|p| starting.contains(&p.node) && !held_now(p.node, p.port))
        .filter(|p| !held_before_rename(p.node, p.port))
        .map(|p| (p.port, p.what))
        .collect();
    match crate::preflight::check_ports(&ports) {
        Err(crate::preflight::PreflightError::PortBusy { port, what, holder })
            if holder
                .as_deref()
                .is_some_and(|h| h.contains("docker-proxy")) =>
        {
            let containers = crate::runner::DockerRunner::publishers_of(port).await;
            let holder = containers
                .map(|c| format!("Docker container {c}"))
                .or(holder);
            Err(crate::preflight::PreflightError::PortBusy { port, what, holder }.into())
        }
        other => Ok(other?),
    }
}

fn print_summary(
    ctx: &Context<'_>,
    want: &Deployment,
    manifest: &Manifest,
    started: Instant,
) -> Result<()> {
    let zookeeper = zookeeper_address(want);
    if ctx.global.json {
        return super::print_json(&serde_json::json!({
            "ready": true,
            "mode": want.mode,
            "bootstrap_server": want.bootstrap_server(),
            "zookeeper": zookeeper,
            "cluster_id": manifest.cluster_id,
            "seconds": started.elapsed().as_secs_f64(),
        }));
    }
    if ctx.global.quiet {
        return Ok(());
    }
    super::say(&format!(
        "Kafka is ready at {} ({} mode)",
        want.bootstrap_server(),
        want.mode
    ))?;
    if let Some(zk) = zookeeper {
        super::say(&format!("ZooKeeper is ready at {zk}"))?;
    }
    super::say(&format!("Try: {}", super::try_next(&want.paths)))
}

/// Where a secured environment's client configurations are; the passwords, once, when this
/// run made them (`kafkup credentials` shows them again).
fn print_security(ctx: &Context<'_>, want: &Deployment, decision: &Decision) -> Result<()> {
    if ctx.global.json || ctx.global.quiet || want.security == crate::vocab::Security::Plaintext {
        return Ok(());
    }
    let dir = crate::security::client_dir(&want.paths, crate::security::DEVELOPER);
    super::say(&format!(
        "Secured ({}): the developer's client configurations are in {} (`kafkup client-config --format java|librdkafka|python`)",
        want.security,
        dir.display()
    ))?;
    let made = decision
        .actions
        .iter()
        .any(|a| matches!(a, crate::deploy::Action::Secure(plan) if plan.make_passwords));
    if made {
        let passwords = crate::security::users::load(&crate::security::secrets_dir(&want.paths))?;
        for user in crate::security::USERS {
            let password = passwords.of(user).unwrap_or_default();
            super::say(&format!("  SCRAM user {user:<10} password {password}"))?;
        }
        super::say("  (shown once; `kafkup credentials` shows them again)")?;
    }
    Ok(())
}

/// Every ZooKeeper server as a client on the host dials it.
fn zookeeper_address(want: &Deployment) -> Option<String> {
    let servers: Vec<String> = want
        .topology
        .of_role(crate::vocab::Role::Zookeeper)
        .filter_map(|n| n.ports.client)
        .map(|p| format!("{}:{p}", want.topology.host))
        .collect();
    (!servers.is_empty()).then(|| servers.join(","))
}

fn print_decision(
    ctx: &Context<'_>,
    want: &Deployment,
    decision: &Decision,
    pending: Option<&str>,
) -> Result<()> {
    let lines: Vec<String> = decision.actions.iter().map(|a| a.to_string()).collect();
    if ctx.global.json {
        return super::print_json(&serde_json::json!({
            "deployment": want,
            "runner": want.runner,
            "pull": pending,
            "java": want.java,
            "nothing_to_change": decision.changes_nothing(),
            "actions": lines,
        }));
    }
    let mut out = vec![
        "kafkup setup would (dry run, nothing changed):".to_string(),
        format!("  runner    {} ({})", want.runner.kind, want.runner.why),
    ];
    if let Some(pending) = pending {
        out.push(format!("  pull      {pending}"));
    }
    out.push(match (&want.java, pending) {
        (Some(java), _) => format!("  java      {} (Java {})", java.path.display(), java.major),
        (None, Some(_)) => "  java      the image's own, checked once it is pulled".into(),
        (None, None) => "  java      none found (see the warning above)".into(),
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
            out.extend(fetch_details(&want.sources, artifact));
        }
    }
    super::say(&out.join("\n"))
}
/// Where a download would come from and what would prove it.
fn fetch_details(sources: &crate::fetch::Sources, artifact: &catalog::Artifact) -> Vec<String> {
    const INDENT: &str = "              ";
    let mut out = Vec::new();
    if sources.choice.may_use_apache() {
        out.extend(
            sources
                .mirrors
                .iter()
                .map(|m| format!("{INDENT}from {}", artifact.tarball_url(m))),
        );
        let proof = if sources.verify_signature {
            "SHA-512 + OpenPGP signature"
        } else {
            "SHA-512 only (signature check OFF)"
        };
        let dists: Vec<&str> = sources.dists.iter().map(|d| d.as_str()).collect();
        out.push(format!("{INDENT}verify {proof} from {}", dists.join(", ")));
    }
    if sources.choice.may_use_maven() {
        let when = match sources.choice {
            crate::vocab::SourceChoice::Auto => "if Apache's sites do not answer: ",
            _ => "",
        };
        out.push(format!(
            "{INDENT}{when}{}",
            crate::fetch::maven::plan_line(artifact, sources)
        ));
    }
    out
}
