//! `kafkup migrate --to kraft`: a ZooKeeper-mode environment on Kafka 3.9 moved to KRaft the
//! way KIP-866 lays out, each phase a desired state of its own ([`MigrationPhase`]) that
//! setup carries out one node at a time: controllers beside ZooKeeper, brokers in migration
//! mode (the controllers copy the metadata: kafkup waits until the active controller says
//! so), brokers in KRaft mode, then the controllers finalized and ZooKeeper retired (its data
//! kept). The environment records its phase, so running the command again resumes it. A
//! snapshot first is the way back; the topics, offsets and groups are compared after each
//! phase ([`crate::proof`]).

mod baseline;
mod copied;
mod rollback;

pub use rollback::rollback;

use super::{setup, upgrade, Context};
use crate::error::Problem;
use crate::proof::Inventory;
use crate::settings::Settings;
use crate::state::{self, Manifest};
use crate::vocab::{MigrationPhase, Mode, Role, Security};
use anyhow::Result;
use baseline::{Baseline, SNAPSHOT};
use std::time::Duration;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
    /// Take a snapshot before the first phase.
    pub snapshot: bool,
    /// Dedicated KRaft controllers: 1 or 3 (None: the environment's choice, else 1).
    pub controllers: Option<u8>,
}

pub async fn run(ctx: &Context<'_>, settings: &Settings, options: Options) -> Result<()> {
    let paths = settings.paths();
    let previous = state::require(&paths)?;
    let (begins, phases) = match start_at(&previous, settings) {
        Start::Done => {
            return super::say("this environment runs in KRaft mode already: nothing to migrate")
        }
        Start::Begin => (true, MigrationPhase::ALL.to_vec()),
        Start::Resume(at) => (
            false,
            MigrationPhase::ALL
                .into_iter()
                .filter(|p| *p >= at)
                .collect(),
        ),
        // Past every phase: only the finalization was cut short.
        Start::Finalize => (false, vec![]),
    };
    refuse_what_cannot_migrate(settings)?;
    let mut settings = settings.clone();
    settings.controllers = options.controllers.unwrap_or(settings.controllers).max(1);
    if settings.controllers == 2 {
        return Err(Problem::usage(
            "a KRaft quorum of 2 controllers stops when either does",
            "use --controllers 1 or --controllers 3",
        )
        .into());
    }
    if options.dry_run {
        return super::say(&plan(begins, &phases, &settings, options).join("\n"));
    }
    let _lock = crate::lock::acquire(&paths)?;
    crate::security::connect_as(
        &crate::security::inputs_of(&previous),
        crate::security::ADMIN,
    );
    let timeout = Duration::from_secs(previous.ready_timeout_secs);
    let bootstrap = previous.bootstrap_server();
    let mut base = match begins {
        true => baseline::begin(ctx, &paths, &bootstrap, timeout, options.snapshot).await?,
        false => baseline::resume(&paths, &bootstrap, timeout).await?,
    };
    for phase in phases {
        ctx.reporter
            .step(&format!("migration phase: {}", describe(phase)));
        settings.migration = Some(phase);
        settings.mode = phase.brokers_mode();
        settings.selftest = false;
        if phase == MigrationPhase::Brokers && base.copies_logged_before.is_none() {
            base.copies_logged_before = Some(copied::count(&paths).await?);
            base.save(&paths)?;
        }
        roll(ctx, &settings, base.snapshot.as_deref()).await?;
        if let (MigrationPhase::Brokers, Some(before)) = (phase, base.copies_logged_before) {
            copied::wait(&paths, before, timeout).await?;
        }
        proof(ctx, &base, &bootstrap, timeout).await?;
    }
    ctx.reporter
        .step("migration: the controllers leave ZooKeeper behind (finalized: no way back but the snapshot)");
    settings.migration = None;
    settings.selftest = true;
    roll(ctx, &settings, base.snapshot.as_deref()).await?;
    proof(ctx, &base, &bootstrap, timeout).await?;
    let mut manifest = state::require(&paths)?;
    manifest.metadata_release = manifest.kafka_version();
    state::save(&paths, &manifest)?;
    baseline::forget(&paths)?;
    super::say("migrated: this environment runs in KRaft mode; ZooKeeper's data stays until `kafkup teardown --purge`")
}

/// Where a migration begins or resumes.
enum Start {
    /// ZooKeeper mode, no migration under way.
    Begin,
    /// The recorded phase, and those after it.
    Resume(MigrationPhase),
    /// Every phase done, the finalization cut short: ZooKeeper is still recorded.
    Finalize,
    /// KRaft mode, no ZooKeeper left.
    Done,
}

fn start_at(previous: &Manifest, settings: &Settings) -> Start {
    let zookeeper_left = previous
        .services
        .iter()
        .any(|s| s.spec.name.role() == Role::Zookeeper);
    match (previous.mode, settings.migration) {
        (_, Some(phase)) => Start::Resume(phase),
        (Mode::Zookeeper, None) => Start::Begin,
        (Mode::Kraft, None) if zookeeper_left => Start::Finalize,
        (Mode::Kraft, None) => Start::Done,
    }
}

/// Kafka migrates from 3.9 (the bridge release) here; a secured environment is not yet
/// carried over by kafkup.
fn refuse_what_cannot_migrate(settings: &Settings) -> Result<()> {
    let version = settings.chosen_kafka_version();
    if !version.starts_with("3.9.") {
        return Err(Problem::usage(
            format!("Kafka {version} is not the bridge release: kafkup migrates from 3.9.x"),
            "`kafkup upgrade --kafka-version 3.9.2` first (the data is kept), then migrate",
        )
        .into());
    }
    if let Some(held) = &settings.inter_broker_protocol {
        return Err(Problem::usage(
            format!("the brokers still speak Kafka {held}'s inter-broker protocol (an upgrade's hold); a migration needs {version}'s"),
            "`kafkup upgrade --finalize` lifts it, then migrate",
        )
        .into());
    }
    if settings.security != Security::Plaintext {
        return Err(Problem::usage(
            format!(
                "kafkup does not migrate a {} environment yet",
                settings.security
            ),
            "rehearse the migration on a plaintext environment (`setup --security plaintext` first)",
        )
        .into());
    }
    Ok(())
}

fn describe(phase: MigrationPhase) -> &'static str {
    match phase {
        MigrationPhase::Controllers => {
            "KRaft controllers formatted with the cluster's id and started in migration mode"
        }
        MigrationPhase::Brokers => {
            "brokers rolled into migration mode; the controllers copy the metadata from ZooKeeper"
        }
        MigrationPhase::Kraft => {
            "brokers rolled into KRaft mode; the controllers still write to ZooKeeper"
        }
    }
}

fn plan(
    begins: bool,
    phases: &[MigrationPhase],
    settings: &Settings,
    options: Options,
) -> Vec<String> {
    let mut steps = vec![format!(
        "migrate   ZooKeeper mode to KRaft on Kafka {}, with {} dedicated controller(s)",
        settings.chosen_kafka_version(),
        settings.controllers
    )];
    match (begins, options.snapshot, phases.first()) {
        (true, true, _) => steps.push(format!(
            "snapshot  {} (every node stopped for the copy, then started again)",
            crate::snapshot::free_name(&settings.paths(), SNAPSHOT)
        )),
        (true, false, _) => steps.push("snapshot  none (--no-snapshot)".into()),
        (false, _, Some(phase)) => steps.push(format!("resume    at phase {phase}")),
        (false, _, None) => steps.push("resume    at the finalization".into()),
    }
    for phase in phases {
        steps.push(format!("phase     {phase}: {}", describe(*phase)));
    }
    steps.push("finalize  controllers restarted without ZooKeeper; ZooKeeper stopped and removed, its data kept".into());
    steps.push(
        "proof     topics, partitions, configs, end offsets and committed offsets after each phase"
            .into(),
    );
    steps
}

/// One phase carried out by setup, one node at a time.
async fn roll(ctx: &Context<'_>, settings: &Settings, snapshot: Option<&str>) -> Result<()> {
    setup::run_rolling(ctx, settings)
        .await
        .map_err(|e| upgrade::way_back(e, snapshot))
}

/// Nothing the cluster held when the migration began is missing or went back.
async fn proof(
    ctx: &Context<'_>,
    base: &Baseline,
    bootstrap: &str,
    timeout: Duration,
) -> Result<()> {
    let after: Inventory = upgrade::inventory(bootstrap, timeout).await?;
    upgrade::compare(ctx, &base.inventory, &after, base.snapshot.as_deref())
}
