//! `kafkup setup`: plan, check, fetch, render, start, wait, self-test — and on a second run,
//! change only what differs.

use super::Context;
use crate::catalog::{self, Mode};
use crate::java;
use crate::lifecycle;
use crate::plan::Plan;
use crate::preflight;
use crate::render::RenderedFile;
use crate::runner::RunnerKind;
use crate::settings::Settings;
use crate::spec::{kraft_format_command, service_specs, ProbeSpec, ServiceName, ServiceSpec};
use crate::state::{self, InstalledDist, Manifest, ServiceRecord, MANIFEST_FORMAT};
use anyhow::{bail, Context as _, Result};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub async fn run(ctx: &Context<'_>, settings: &Settings, dry_run: bool) -> Result<()> {
    let plan = Plan::from_settings(settings);
    if dry_run {
        return print_plan(ctx, settings, &plan);
    }
    let started = Instant::now();
    let reporter = ctx.reporter;
    let previous = state::load(&plan.paths)?;
    if let Some(prev) = &previous {
        refuse_incompatible(prev, &plan)?;
    }

    // Java first: without it nothing can start, so nothing should be downloaded or changed.
    let java = java::inspect(&java::locate(settings.java_home.as_deref())?)?;
    for (project, version) in plan
        .artifacts()
        .iter()
        .map(|a| (a.project, a.version.as_str()))
    {
        let needs = format!("{project} {version}");
        java::require(&java, catalog::minimum_java(project, version), &needs)?;
    }

    let (runner_kind, why) = match &previous {
        Some(prev) if !prev.services.is_empty() => {
            let kind = prev.runner_kind();
            let requested = lifecycle::choose_backend(settings.backend)
                .ok()
                .map(|(k, _)| k);
            if settings.backend != crate::settings::Backend::Auto && requested != Some(kind) {
                reporter.warn(&format!(
                    "ignoring --backend {}: this environment runs under the {kind} runner; \
                     `kafkup teardown` first to switch",
                    format!("{:?}", settings.backend).to_lowercase()
                ));
            }
            (kind, "as set up before".to_string())
        }
        _ => lifecycle::choose_backend(settings.backend)?,
    };
    reporter.step(&format!("runner: {runner_kind} ({why})"));
    let runner = lifecycle::runner_for(runner_kind, &plan.paths)?;

    // Ports before anything is downloaded or stopped: a port our own running service holds
    // is fine, any other holder is an error now rather than after a restart half-done.
    let ours: Vec<u16> = previous
        .iter()
        .flat_map(|p| p.services.iter())
        .filter(|r| runner.state(r.spec.name).is_running())
        .flat_map(|r| r.spec.ports.iter().copied())
        .collect();
    let foreign: Vec<(u16, &str)> = plan
        .ports()
        .into_iter()
        .filter(|(p, _)| !ours.contains(p))
        .collect();
    preflight::check_ports(&foreign)?;

    let installed = super::fetch::fetch_all(ctx, settings, &plan).await?;
    let specs = service_specs(&plan);
    let files: Vec<RenderedFile> =
        crate::render::render_all(&plan, &specs, &java.path, settings.templates.as_deref())?
            .into_iter()
            .filter(|f| installs_with(f, Some(runner_kind)))
            .collect();

    let mut manifest = previous.clone().unwrap_or_else(|| Manifest {
        format: MANIFEST_FORMAT,
        kafkup_version: env!("CARGO_PKG_VERSION").into(),
        mode: plan.mode,
        paths: plan.paths.clone(),
        host: plan.host.clone(),
        kafka_port: plan.kafka.port,
        java: java.path.clone(),
        cluster_id: None,
        dists: vec![],
        files: vec![],
        dirs: vec![],
        services: vec![],
        selftest_passed_at: None,
    });

    // What differs from what runs now decides what gets (re)started.
    let changed_files = changed_files(&files);
    let mut to_restart: BTreeSet<ServiceName> = BTreeSet::new();
    for spec in &specs {
        let same_spec = previous
            .as_ref()
            .and_then(|p| p.service(spec.name))
            .is_some_and(|r| r.spec == *spec)
            && previous.as_ref().is_some_and(|p| p.java == java.path);
        let owned: Vec<String> = changed_files
            .iter()
            .filter(|f| owner_of(f, &plan) == Some(spec.name))
            .map(|f| f.display().to_string())
            .collect();
        let running = runner.state(spec.name).is_running();
        if !running || !same_spec || !owned.is_empty() {
            to_restart.insert(spec.name);
        }
        if running && (!same_spec || !owned.is_empty()) {
            let mut what = owned;
            if !same_spec {
                what.push("its command line (version, Java, heap or paths)".into());
            }
            reporter.step(&format!(
                "{} will be restarted: changed {}",
                spec.name,
                what.join(", ")
            ));
        }
    }
    if to_restart.is_empty() {
        return nothing_to_do(ctx, &mut manifest, &plan, runner.as_ref(), &specs, started).await;
    }

    // Stop what must restart (its ports were checked above).
    let restarting_running: Vec<ServiceName> = specs
        .iter()
        .map(|s| s.name)
        .filter(|n| to_restart.contains(n) && runner.state(*n).is_running())
        .collect();
    lifecycle::stop_all(runner.as_ref(), &restarting_running, reporter)?;

    let mut dists: Vec<InstalledDist> = installed
        .iter()
        .map(|i| InstalledDist {
            artifact: i.artifact.clone(),
            dir: i.dir.clone(),
            sha512: i.sha512.clone(),
        })
        .collect();
    // Distributions of an earlier version stay listed (so teardown finds them) until the new
    // ones run; then they are removed.
    let retired: Vec<InstalledDist> = manifest
        .dists
        .iter()
        .filter(|old| !dists.iter().any(|new| new.dir == old.dir))
        .cloned()
        .collect();
    dists.extend(retired.iter().cloned());
    manifest.dists = dists;

    // Files, directories and (KRaft) storage. The manifest names each file and directory
    // before it is written, and is saved again before anything starts, so that teardown can
    // always find what was created, even after an interrupted setup.
    for file in &files {
        create_dirs(
            &mut manifest,
            file.target.parent().expect("rendered files have a parent"),
        )?;
        manifest.remember_file(&file.target);
    }
    state::save(&plan.paths, &manifest)?;
    for file in &files {
        if changed_files.contains(&file.target) {
            super::render::write_file(&file.target, file)?;
            reporter.step(&format!("wrote {}", file.target.display()));
        }
    }
    for spec in &specs {
        for dir in &spec.data_dirs {
            create_dirs(&mut manifest, dir)?;
        }
    }
    create_dirs(&mut manifest, &plan.paths.logs())?;
    manifest.mode = plan.mode;
    manifest.host = plan.host.clone();
    manifest.kafka_port = plan.kafka.port;
    manifest.java = java.path.clone();
    manifest.kafkup_version = env!("CARGO_PKG_VERSION").into();
    manifest.services = specs
        .iter()
        .map(|spec| ServiceRecord {
            spec: spec.clone(),
            runner: runner_kind,
        })
        .collect();
    manifest.selftest_passed_at = None;
    if plan.mode == Mode::Kraft {
        manifest.cluster_id = Some(format_kraft_storage(
            &plan,
            &java.path,
            manifest.cluster_id.clone(),
            reporter,
        )?);
    }
    state::save(&plan.paths, &manifest)?;

    let ordered: Vec<&ServiceSpec> = specs
        .iter()
        .filter(|s| to_restart.contains(&s.name))
        .collect();
    let all: Vec<&ServiceSpec> = specs.iter().collect();
    lifecycle::start_all(runner.as_ref(), &ordered, &java.path, reporter)?;
    let timeout = Duration::from_secs(plan.ready_timeout_secs);
    // While the probes wait, get the broker to create its group coordinator for the self-test.
    let warm_up = plan.selftest.then(|| {
        tokio::spawn(crate::selftest::warm_up_group_coordinator(
            plan.bootstrap_server(),
            timeout,
        ))
    });
    // The self-test creates, leads and uses a topic of its own: the health-topic probe would
    // only repeat that, so it waits for `start` and `status`.
    let probes = |p: &ProbeSpec| !(plan.selftest && matches!(p, ProbeSpec::KafkaTopicReady { .. }));
    let ready = lifecycle::wait_ready_with(runner.as_ref(), &all, timeout, reporter, probes).await;
    if ready.is_err() {
        if let Some(handle) = &warm_up {
            handle.abort();
        }
    }
    if let Err(err) = ready {
        // Leave nothing half-running: stop what this run started; files and data stay for
        // `kafkup logs` and a later setup, and `teardown` removes them.
        let names: Vec<ServiceName> = ordered.iter().map(|s| s.name).collect();
        let _ = lifecycle::stop_all(runner.as_ref(), &names, reporter);
        return Err(err.context(format!(
            "the services did not become ready; those started by this run were stopped (see `kafkup logs kafka`{})",
            if plan.zookeeper.is_some() { " and `kafkup logs zookeeper`" } else { "" }
        )));
    }
    reporter.step(&format!(
        "ready after {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    for old in &retired {
        if old.dir.starts_with(&plan.paths.install) && old.dir.is_dir() {
            fs_err::remove_dir_all(&old.dir)?;
            reporter.step(&format!(
                "removed the replaced distribution {}",
                old.dir.display()
            ));
        }
    }
    manifest.dists.retain(|d| !retired.contains(d));
    if plan.mode == Mode::Zookeeper {
        manifest.cluster_id = state::read_cluster_id(&plan.kafka.data_dir).or(manifest.cluster_id);
    }
    if plan.selftest {
        run_selftest(plan.bootstrap_server(), timeout, &mut manifest, reporter).await?;
    }
    if let Some(handle) = warm_up {
        let _ = handle.await;
    }
    state::save(&plan.paths, &manifest)?;
    print_summary(ctx, &plan, &manifest, started)
}

/// Nothing to change: confirm readiness (fast) and say so; no restart, no re-format.
async fn nothing_to_do(
    ctx: &Context<'_>,
    manifest: &mut Manifest,
    plan: &Plan,
    runner: &dyn crate::runner::Runner,
    specs: &[ServiceSpec],
    started: Instant,
) -> Result<()> {
    let all: Vec<&ServiceSpec> = specs.iter().collect();
    lifecycle::wait_ready(
        runner,
        &all,
        Duration::from_secs(plan.ready_timeout_secs),
        ctx.reporter,
    )
    .await?;
    ctx.reporter
        .step("everything is already set up and ready: nothing changed");
    if plan.selftest && manifest.selftest_passed_at.is_none() {
        let timeout = Duration::from_secs(plan.ready_timeout_secs);
        run_selftest(plan.bootstrap_server(), timeout, manifest, ctx.reporter).await?;
        state::save(&plan.paths, manifest)?;
    }
    print_summary(ctx, plan, manifest, started)
}

/// How many messages setup's self-test sends.
const SELFTEST_MESSAGES: u32 = 100;

/// Runs the self-test and records when it passed.
async fn run_selftest(
    bootstrap: String,
    timeout: Duration,
    manifest: &mut Manifest,
    reporter: &dyn crate::report::Reporter,
) -> Result<()> {
    let report = crate::selftest::run(&bootstrap, SELFTEST_MESSAGES, timeout, reporter).await?;
    reporter.step(&format!("self-test passed: {}", report.summary()));
    manifest.selftest_passed_at = Some(unix_now());
    Ok(())
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
    if !ctx.global.quiet {
        println!(
            "Kafka is ready at {} ({} mode)",
            plan.bootstrap_server(),
            plan.mode
        );
        if let Some(zk) = &plan.zookeeper {
            println!("ZooKeeper is ready at {}:{}", plan.host, zk.client_port);
        }
        println!("Try: kafkup topic create demo && echo hello | kafkup produce --topic demo && kafkup consume --topic demo --from-beginning --max-messages 1");
    }
    Ok(())
}

/// Things a second setup must not silently change under existing data.
fn refuse_incompatible(prev: &Manifest, plan: &Plan) -> Result<()> {
    if prev.mode != plan.mode {
        bail!(
            "this environment ({}) runs in {} mode; switching to {} mode would orphan its data.\n\
             help: run `kafkup teardown --purge` first, or use another --root",
            plan.paths.state.display(),
            prev.mode,
            plan.mode
        );
    }
    Ok(())
}

/// Unit files are installed only by the systemd runner.
fn installs_with(file: &RenderedFile, runner: Option<RunnerKind>) -> bool {
    runner == Some(RunnerKind::Systemd) || !file.rel.starts_with("systemd")
}

/// Targets whose content on disk differs from what was rendered (or that do not exist).
fn changed_files(files: &[RenderedFile]) -> BTreeSet<std::path::PathBuf> {
    files
        .iter()
        .filter(|f| std::fs::read_to_string(&f.target).ok().as_deref() != Some(f.contents.as_str()))
        .map(|f| f.target.clone())
        .collect()
}

fn owner_of(file: &Path, plan: &Plan) -> Option<ServiceName> {
    if plan
        .zookeeper
        .as_ref()
        .is_some_and(|z| file.starts_with(&z.config_dir))
    {
        return Some(ServiceName::Zookeeper);
    }
    if file.starts_with(&plan.kafka.config_dir) {
        return Some(ServiceName::Kafka);
    }
    let name = file.file_name()?.to_str()?;
    [ServiceName::Zookeeper, ServiceName::Kafka]
        .into_iter()
        .find(|s| name.starts_with(&s.unit_name()))
}

/// Creates `dir` and its missing parents, recording each one kafkup created.
fn create_dirs(manifest: &mut Manifest, dir: &Path) -> Result<()> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    for d in missing.iter().rev() {
        create_private_dir(d)?;
        manifest.remember_dir(d);
    }
    Ok(())
}

/// Data, logs and config are the user's business alone: 0750, whatever the umask says.
fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o750).create(dir) {
        Err(e) if !(e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir()) => {
            Err(anyhow::Error::new(e).context(format!("cannot create {}", dir.display())))
        }
        _ => Ok(()),
    }
}

/// Formats KRaft storage exactly once; an already formatted dir keeps its cluster id.
fn format_kraft_storage(
    plan: &Plan,
    java: &Path,
    known: Option<String>,
    reporter: &dyn crate::report::Reporter,
) -> Result<String> {
    let data = &plan.kafka.data_dir;
    if let Some(existing) = state::read_cluster_id(data) {
        if let Some(known) = &known {
            if known != &existing {
                bail!(
                    "Kafka data in {} belongs to cluster {existing}, but kafkup recorded {known}; refusing to touch it.\n\
                     help: move that data away or run `kafkup teardown --purge` to start afresh",
                    data.display()
                );
            }
        }
        reporter.step(&format!(
            "KRaft storage already formatted (cluster id {existing})"
        ));
        return Ok(existing);
    }
    let cluster_id = known.unwrap_or_else(state::new_cluster_id);
    reporter.step(&format!(
        "formatting KRaft storage in {} (cluster id {cluster_id})",
        data.display()
    ));
    let cmd = kraft_format_command(plan, java, &cluster_id);
    let out = std::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .output()
        .with_context(|| format!("cannot run {}", cmd[0]))?;
    if !out.status.success() {
        bail!(
            "formatting KRaft storage failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(cluster_id)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn print_plan(ctx: &Context<'_>, settings: &Settings, plan: &Plan) -> Result<()> {
    let specs = service_specs(plan);
    let runner_kind = lifecycle::choose_backend(settings.backend)
        .map(|(k, _)| k)
        .ok();
    let files: Vec<RenderedFile> = super::render::render_plan(settings)?
        .into_iter()
        .filter(|f| installs_with(f, runner_kind))
        .collect();
    if ctx.global.json {
        let value = serde_json::json!({
            "plan": plan,
            "downloads": plan.artifacts().iter().map(|a| serde_json::json!({
                "artifact": a.file_name,
                "mirrors": settings.mirrors.iter().map(|m| a.tarball_url(m)).collect::<Vec<_>>(),
                "sha512": settings.dists.iter().map(|d| a.sha512_url(d)).collect::<Vec<_>>(),
                "signature": settings.verify_signature.then(|| settings.dists.iter().map(|d| a.signature_url(d)).collect::<Vec<_>>()),
            })).collect::<Vec<_>>(),
            "services": specs,
            "files": files.iter().map(|f| &f.target).collect::<Vec<_>>(),
        });
        return super::print_json(&value);
    }
    println!("kafkup setup would (dry run, nothing changed):");
    println!(
        "  mode      {} ({} backend requested)",
        plan.mode,
        format!("{:?}", plan.backend).to_lowercase()
    );
    for a in plan.artifacts() {
        println!("  fetch     {} {}", a.project, a.version);
        for m in &settings.mirrors {
            println!("              from {}", a.tarball_url(m));
        }
        let proof = if settings.verify_signature {
            "SHA-512 + OpenPGP signature"
        } else {
            "SHA-512 only (signature check OFF)"
        };
        println!(
            "              verify {proof} from {}",
            settings
                .dists
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "              unpack to {}",
            plan.paths.install.join(&a.top_dir).display()
        );
    }
    for f in &files {
        println!("  render    {}", f.target.display());
    }
    for s in &specs {
        println!(
            "  start     {} on 127.0.0.1:{}",
            s.name,
            s.ports
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "              data in {}",
            s.data_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!(
        "  wait      up to {} s for readiness probes",
        plan.ready_timeout_secs
    );
    if plan.selftest {
        println!("  selftest  produce and consume on a temporary topic");
    }
    Ok(())
}
