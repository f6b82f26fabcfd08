//! `kafkup upgrade`: another Kafka (or ZooKeeper) release under the same data. The new
//! release is fetched and verified before anything stops; a snapshot is the way back; the
//! nodes restart one at a time (setup's decision, rolled: [`crate::deploy::roll`]); the
//! topics, offsets and groups are compared before and after ([`crate::proof`]); KRaft's
//! metadata.version is raised only when asked ([`crate::features`]).

use super::{setup, Context};
use crate::error::Problem;
use crate::features::{self, METADATA_VERSION};
use crate::lock;
use crate::proof::{self, Inventory};
use crate::releases::{self, Move, Releases};
use crate::settings::Settings;
use crate::state::{self, Manifest};
use crate::vocab::{Mode, Security};
use anyhow::{Context as _, Result};
use std::time::Duration;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
    /// Raise metadata.version afterwards: yes, no, or None to ask on a terminal.
    pub finalize: Option<bool>,
    /// Take a snapshot before the first node stops.
    pub snapshot: bool,
}

pub async fn run(ctx: &Context<'_>, settings: &Settings, options: Options) -> Result<()> {
    let paths = settings.paths();
    let previous = state::load(&paths)?.ok_or_else(|| {
        Problem::new(
            format!(
                "there is no environment to upgrade under {}",
                paths.state.display()
            ),
            "`kafkup setup` makes one (with --kafka-version for a release of your choice)",
        )
    })?;
    let releases = releases_of(&previous, settings);
    releases::check(previous.mode, &releases)?;
    let mut settings = settings.clone();
    let brokers = previous.services.iter();
    let brokers = brokers.filter(|s| s.spec.name.role() == crate::vocab::Role::Kafka);
    if let Some(hold) = releases::protocol_hold(previous.mode, brokers.count(), &releases) {
        // An earlier hold, not lifted yet, stays: some broker may still speak only that.
        settings.inter_broker_protocol.get_or_insert(hold);
    }
    if options.dry_run {
        return dry_run(ctx, &settings, &previous, &releases, options).await;
    }
    let _lock = lock::acquire(&paths)?;
    crate::security::connect_as(
        &crate::security::inputs_of(&previous),
        crate::security::ADMIN,
    );
    let timeout = Duration::from_secs(previous.ready_timeout_secs);
    let bootstrap = previous.bootstrap_server();
    if releases.changes() {
        roll_release(ctx, &settings, &previous, &releases, options).await?;
    } else {
        ctx.reporter.step(&format!(
            "already on {}: nothing to roll",
            releases.describe()
        ));
    }
    if previous.mode == Mode::Zookeeper {
        return lift_protocol_hold(ctx, &settings, options.finalize).await;
    }
    let security = previous.settings.as_ref().and_then(|s| s.security);
    let raised = finalize(ctx, security, &bootstrap, options.finalize, timeout).await?;
    if raised {
        // From now on the older release cannot start on this data: setup refuses it.
        let mut manifest = state::require(&paths)?;
        manifest.metadata_release = manifest.kafka_version();
        state::save(&paths, &manifest)?;
    }
    Ok(())
}

/// The new release fetched and verified before anything stops (a bad download leaves the
/// environment as it was), the snapshot, then the nodes one at a time, proven.
async fn roll_release(
    ctx: &Context<'_>,
    settings: &Settings,
    previous: &Manifest,
    releases: &Releases,
    options: Options,
) -> Result<()> {
    ctx.reporter
        .step(&format!("upgrade: {}", releases.describe()));
    if let Some(held) = &settings.inter_broker_protocol {
        ctx.reporter.step(&format!(
            "inter.broker.protocol.version held at {held} while old and new releases run side by side"
        ));
    }
    super::fetch::fetch_verified(ctx, settings).await?;
    let snapshot = take_snapshot(ctx, previous, releases, options).await?;
    let timeout = Duration::from_secs(previous.ready_timeout_secs);
    let bootstrap = previous.bootstrap_server();
    let before = inventory(&bootstrap, timeout).await?;
    setup::run_rolling(ctx, settings)
        .await
        .map_err(|e| way_back(e, snapshot.as_deref()))?;
    let after = inventory(&bootstrap, timeout).await?;
    compare(ctx, &before, &after, snapshot.as_deref())
}

/// ZooKeeper mode: the inter-broker protocol an upgrade held, lifted when asked (a second
/// roll, each broker restarted without the hold).
async fn lift_protocol_hold(
    ctx: &Context<'_>,
    settings: &Settings,
    choice: Option<bool>,
) -> Result<()> {
    let Some(held) = settings.inter_broker_protocol.clone() else {
        return Ok(());
    };
    let question = format!(
        "lift inter.broker.protocol.version {held} (each broker restarts once more)? The older release cannot join the brokers afterwards (a snapshot can bring it back)"
    );
    let lift = choice.unwrap_or_else(|| super::confirm(&question));
    if !lift {
        ctx.reporter.step(&format!(
            "inter.broker.protocol.version stays at {held}; `kafkup upgrade --finalize` lifts it"
        ));
        return Ok(());
    }
    let mut lifted = settings.clone();
    lifted.inter_broker_protocol = None;
    setup::run_rolling(ctx, &lifted).await?;
    ctx.reporter.step(&format!(
        "inter.broker.protocol.version {held} lifted: the brokers speak Kafka {}'s protocol",
        settings.chosen_kafka_version()
    ));
    Ok(())
}

/// The releases the environment runs, and those `settings` ask for.
fn releases_of(previous: &Manifest, settings: &Settings) -> Releases {
    let kafka_to = settings.chosen_kafka_version();
    let kafka_from = previous.kafka_version().unwrap_or_else(|| kafka_to.clone());
    let zookeeper = (previous.mode == Mode::Zookeeper).then(|| Move {
        from: previous
            .zookeeper_version()
            .unwrap_or_else(|| settings.zookeeper_version.clone()),
        to: settings.zookeeper_version.clone(),
    });
    Releases {
        kafka: Move {
            from: kafka_from,
            to: kafka_to,
        },
        zookeeper,
    }
}

async fn dry_run(
    ctx: &Context<'_>,
    settings: &Settings,
    previous: &Manifest,
    releases: &Releases,
    options: Options,
) -> Result<()> {
    let mut steps = vec![format!("upgrade   {}", releases.describe())];
    if releases.changes() {
        steps.push("fetch     the new release, verified, before anything stops".into());
        steps.push(match snapshot_refusal(options) {
            Some(why) => format!("snapshot  none: {why}"),
            None => format!(
                "snapshot  {} (every node stopped for the copy, then started again)",
                snapshot_name(previous, releases)
            ),
        });
        steps.push("proof     topics, partitions, configs, end offsets and committed offsets, before and after".into());
        steps.push("roll      one node at a time, as below".into());
    }
    if let Some(held) = &settings.inter_broker_protocol {
        steps.push(format!(
            "hold      inter.broker.protocol.version at {held} during the roll"
        ));
        steps.push(match options.finalize {
            Some(true) => "finalize  lift it: each broker restarts once more".into(),
            Some(false) => format!("finalize  no: it stays at {held}"),
            None => "finalize  ask whether to lift it (no on a non-terminal)".into(),
        });
    }
    if previous.mode == Mode::Kraft {
        steps.push(match options.finalize {
            Some(true) => "finalize  raise metadata.version to the new release's".into(),
            Some(false) => "finalize  no: metadata.version stays where it is".into(),
            None => "finalize  ask whether to raise metadata.version (no on a non-terminal)".into(),
        });
    }
    super::say(&steps.join("\n"))?;
    if !releases.changes() {
        return Ok(());
    }
    let plan = setup::Options {
        dry_run: true,
        rolling: true,
        ..Default::default()
    };
    setup::run(ctx, settings, plan).await
}

/// Why no snapshot is taken, if none is.
fn snapshot_refusal(options: Options) -> Option<&'static str> {
    (!options.snapshot).then_some("--no-snapshot")
}

/// "before-kafka-4.4.0", or with a number when that name is taken.
fn snapshot_name(previous: &Manifest, releases: &Releases) -> String {
    let base = format!("before-kafka-{}", releases.kafka.to);
    crate::snapshot::free_name(&previous.paths, &base)
}

pub(super) async fn take_snapshot_named(ctx: &Context<'_>, name: &str) -> Result<()> {
    super::snapshot::save(ctx, name)
        .await
        .context("the snapshot before the change (--no-snapshot goes without one)")
}

async fn take_snapshot(
    ctx: &Context<'_>,
    previous: &Manifest,
    releases: &Releases,
    options: Options,
) -> Result<Option<String>> {
    if let Some(why) = snapshot_refusal(options) {
        ctx.reporter
            .warn(&format!("no snapshot before the upgrade: {why}"));
        return Ok(None);
    }
    let name = snapshot_name(previous, releases);
    take_snapshot_named(ctx, &name).await?;
    Ok(Some(name))
}

pub(super) async fn inventory(bootstrap: &str, timeout: Duration) -> Result<Inventory> {
    proof::take(bootstrap, timeout)
        .await
        .context("taking the inventory of topics, offsets and groups")
}

/// The proof: nothing the cluster held before is missing or went back.
pub(super) fn compare(
    ctx: &Context<'_>,
    before: &Inventory,
    after: &Inventory,
    snapshot: Option<&str>,
) -> Result<()> {
    let lost = proof::losses(before, after);
    if lost.is_empty() {
        ctx.reporter
            .step(&format!("nothing lost: {}", after.summary()));
        return Ok(());
    }
    let problem = Problem::new(
        format!(
            "the cluster lost what it held before:\n  {}",
            lost.join("\n  ")
        ),
        restore_hint(snapshot),
    );
    Err(problem.into())
}

fn restore_hint(snapshot: Option<&str>) -> String {
    match snapshot {
        Some(name) => {
            format!("`kafkup snapshot restore {name}` brings back the state before it began")
        }
        None => {
            "no snapshot was taken; `kafkup status` and `kafkup logs` say how the nodes are".into()
        }
    }
}

pub(super) fn way_back(error: anyhow::Error, snapshot: Option<&str>) -> anyhow::Error {
    error.context(format!("it stopped half-way; {}", restore_hint(snapshot)))
}

/// KRaft: metadata.version raised to what every broker now supports, when asked; whether
/// it was.
async fn finalize(
    ctx: &Context<'_>,
    security: Option<Security>,
    bootstrap: &str,
    choice: Option<bool>,
    timeout: Duration,
) -> Result<bool> {
    if choice == Some(false) {
        return Ok(false);
    }
    if security.is_some_and(|s| s != Security::Plaintext) {
        let help = format!("Kafka's own tool does it: `kafka-features.sh --bootstrap-server {bootstrap} --command-config <(kafkup client-config --user admin) upgrade --metadata X.Y`");
        match choice {
            Some(true) => return Err(Problem::new("kafkup raises metadata.version over a plaintext listener only, and this one is secured", help).into()),
            _ => {
                ctx.reporter.warn(&format!("metadata.version is not raised over a secured listener by kafkup; {help}"));
                return Ok(false);
            }
        }
    }
    let addresses: Vec<&str> = bootstrap.split(',').collect();
    let levels = read_levels(&addresses, timeout).await?;
    let Some(raise) = features::metadata_raise(&levels) else {
        ctx.reporter
            .step("metadata.version is at the highest level every broker supports");
        return Ok(false);
    };
    let question = format!(
        "raise metadata.version from {} to {}? The older release cannot start on this data afterwards (a snapshot can bring it back)",
        raise.from, raise.to
    );
    if !(choice == Some(true) || super::confirm(&question)) {
        ctx.reporter.step(&format!(
            "metadata.version stays at {} (the older release's); `kafkup upgrade --finalize` raises it to {}",
            raise.from, raise.to
        ));
        return Ok(false);
    }
    features::raise(addresses[0], METADATA_VERSION, raise.to, timeout)
        .await
        .map_err(|said| Problem::new(format!("raising metadata.version to {} was refused: {said}", raise.to), "`kafkup status` says whether every node runs the new release; run `kafkup upgrade --finalize` again once it does"))?;
    wait_raised(&addresses, raise.to, timeout).await?;
    ctx.reporter.step(&format!(
        "metadata.version raised from {} to {}",
        raise.from, raise.to
    ));
    Ok(true)
}

async fn read_levels(addresses: &[&str], timeout: Duration) -> Result<Vec<features::Levels>> {
    let mut levels = Vec::new();
    for address in addresses {
        let read = features::read(address, timeout).await;
        levels.push(
            read.map_err(|said| {
                anyhow::anyhow!("reading the feature levels of {address}: {said}")
            })?,
        );
    }
    Ok(levels)
}

/// Every broker has learnt the raised level (they follow the controllers' metadata log).
async fn wait_raised(addresses: &[&str], level: i16, timeout: Duration) -> Result<()> {
    use crate::poll::Attempt;
    let deadline = tokio::time::Instant::now() + timeout;
    let raised = || async {
        match read_levels(addresses, timeout).await {
            Ok(all)
                if all
                    .iter()
                    .all(|l| l.finalized.get(METADATA_VERSION) >= Some(&level)) =>
            {
                Attempt::Ready(())
            }
            Ok(_) => Attempt::NotYet("a broker still reports the older level".to_string()),
            Err(e) => Attempt::NotYet(e.to_string()),
        }
    };
    crate::poll::until(deadline, Duration::from_millis(200), raised)
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "the brokers did not report metadata.version {level} within {} s",
                timeout.as_secs()
            )
        })
}
