//! The decision without any I/O: deployments resolved in memory, observations made up.

use super::*;
use crate::deployment::testing::deployment_of;
use crate::state::ServiceRecord;
use crate::vocab::Role;

const ZOOKEEPER: NodeId = NodeId::solo(Role::Zookeeper);
const KAFKA: NodeId = NodeId::solo(Role::Kafka);

struct Case {
    want: Deployment,
}

impl Case {
    fn new(mode: Mode, file: &str) -> Case {
        Case::with_runner(mode, file, RunnerKind::Process)
    }

    fn with_runner(mode: Mode, file: &str, runner: RunnerKind) -> Case {
        let config = format!("mode = \"{mode}\"\n{file}");
        Case {
            want: deployment_of(&config, runner),
        }
    }

    fn desired(&self) -> &Deployment {
        &self.want
    }

    /// What an earlier setup of this very case left: files on disk, services running.
    fn set_up(&self) -> (Manifest, Observed) {
        let want = &self.want;
        let mut m = Manifest::new(want.mode, &want.paths, "127.0.0.1", 9092, 120);
        m.services = want.launches.iter().map(ServiceRecord::from).collect();
        m.cluster_id = Some("cluster-1".into());
        m.selftest_passed_at = Some(1);
        let dirs = crate::deploy::observe::data_dirs(want);
        let seen = Observed {
            files: want
                .files
                .iter()
                .map(|f| (f.target.clone(), Some(f.contents.clone())))
                .collect(),
            services: want.launches.iter().map(|l| (l.id, running(100))).collect(),
            installed_dists: want.dists().iter().map(|d| d.dir.clone()).collect(),
            strays: vec![],
            data: data_of(&dirs, Some("cluster-1"), want.mode),
            topics: Some(BTreeMap::new()),
            security: Default::default(),
        };
        (m, seen)
    }

    /// A fresh root: every node's data directory empty.
    fn nothing_there(&self) -> Observed {
        let dirs = crate::deploy::observe::data_dirs(&self.want);
        Observed {
            data: data_of(&dirs, None, self.want.mode),
            ..Observed::default()
        }
    }

    fn config_dir(&self, id: NodeId) -> PathBuf {
        self.want.topology.node(id).unwrap().config_dir.clone()
    }
}

/// Data directories holding a cluster's data (`cluster`), or nothing.
fn data_of(
    dirs: &[(NodeId, PathBuf)],
    cluster: Option<&str>,
    mode: Mode,
) -> crate::datacheck::DataSeen {
    let version = match mode {
        Mode::Kraft => "version=1\nnode.id=1",
        Mode::Zookeeper => "version=0\nbroker.id=1",
    };
    let mode = |n: &NodeId| match n.role() {
        Role::Zookeeper => String::new(),
        _ => cluster.map_or(String::new(), |c| format!("{version}\ncluster.id={c}\n")),
    };
    let nodes = dirs.iter().map(|(n, d)| {
        let zk = cluster.is_some() && n.role() == Role::Zookeeper;
        crate::datacheck::NodeData::from_files(*n, d, &mode(n), zk)
    });
    crate::datacheck::DataSeen {
        nodes: nodes.collect(),
        orphans: vec![],
    }
}

fn running(pid: u32) -> ServiceState {
    ServiceState::Running {
        pid: Some(pid),
        detail: format!("pid {pid}"),
    }
}

fn lines(d: &Decision) -> Vec<String> {
    d.actions.iter().map(|a| a.to_string()).collect()
}

fn find(d: &Decision, f: impl Fn(&Action) -> bool) -> Vec<&Action> {
    d.actions.iter().filter(|a| f(a)).collect()
}

#[test]
fn a_fresh_environment_gets_everything_in_order() {
    let case = Case::new(Mode::Zookeeper, "");
    let d = decide(None, case.desired(), &case.nothing_there()).unwrap();
    let words: Vec<String> = lines(&d)
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(
        words,
        [
            "fetch", "fetch", "write", "write", "write", "write", "prepare", "start", "start",
            "wait", "selftest"
        ],
        "{:#?}",
        lines(&d)
    );
    assert_eq!(d.starts(), [ZOOKEEPER, KAFKA]);
    assert!(!d.changes_nothing());
    assert_eq!(lines(&d)[7], "start     zookeeper (new)");
}

#[test]
fn an_unchanged_environment_changes_nothing() {
    let case = Case::new(Mode::Zookeeper, "");
    let (m, seen) = case.set_up();
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert!(d.changes_nothing(), "{:#?}", lines(&d));
    assert!(d.starts().is_empty());
    assert!(!d.actions.contains(&Action::SelfTest), "it passed before");
    assert!(lines(&d)[0].starts_with("use       zookeeper 3.9.5"));
}

#[test]
fn a_changed_config_file_restarts_only_its_service() {
    let case = Case::new(Mode::Zookeeper, "");
    let (m, mut seen) = case.set_up();
    let props = case.config_dir(KAFKA).join("server.properties");
    seen.files
        .insert(props.clone(), Some("edited by hand\n".into()));
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert_eq!(d.starts(), [KAFKA]);
    assert!(d.actions.contains(&Action::WriteFile {
        path: props,
        change: FileChange::Changed
    }));
    assert!(d.actions.contains(&Action::Stop {
        service: KAFKA,
        reason: "server.properties changed".into()
    }));
    assert!(lines(&d).contains(&"restart   kafka: server.properties changed".to_string()));
    assert!(d.actions.contains(&Action::SelfTest));
}

#[test]
fn a_changed_heap_names_the_changed_arguments() {
    let case = Case::new(Mode::Zookeeper, "");
    let (m, seen) = case.set_up();
    let bigger = Case::new(Mode::Zookeeper, "kafka_heap = \"768m\"");
    let d = decide(Some(&m), bigger.desired(), &seen).unwrap();
    assert_eq!(d.starts(), [KAFKA]);
    let restart = lines(&d)
        .into_iter()
        .find(|l| l.starts_with("restart"))
        .unwrap();
    assert_eq!(
        restart,
        "restart   kafka: its command line changed: -Xms1g -Xmx1g → -Xms768m -Xmx768m"
    );
}

#[test]
fn under_systemd_a_zookeeper_restart_restarts_the_broker_too() {
    let case = Case::new(Mode::Zookeeper, "");
    let (m, mut seen) = case.set_up();
    let zoo = case.config_dir(ZOOKEEPER).join("zoo.cfg");
    seen.files.insert(zoo, Some("tickTime=1\n".into()));
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert_eq!(d.starts(), [ZOOKEEPER], "processes: only ZooKeeper");

    let case = Case::with_runner(Mode::Zookeeper, "", RunnerKind::Systemd);
    let (_, mut units_seen) = case.set_up();
    units_seen.files.extend(seen.files);
    let d = decide(Some(&m), case.desired(), &units_seen).unwrap();
    assert_eq!(d.starts(), [ZOOKEEPER, KAFKA]);
    assert!(
        lines(&d).contains(&"restart   kafka: zookeeper, which it requires, restarts".to_string())
    );
    // Stopped broker first, started after ZooKeeper; each gets the runner's install step.
    let stops = find(&d, |a| matches!(a, Action::Stop { .. }));
    assert!(matches!(stops[0], Action::Stop { service: KAFKA, .. }));
    assert_eq!(find(&d, |a| matches!(a, Action::Install { .. })).len(), 2);
}

#[test]
fn a_crashed_broker_is_started_not_stopped() {
    let case = Case::new(Mode::Kraft, "");
    let (m, mut seen) = case.set_up();
    seen.services.insert(
        KAFKA,
        ServiceState::Failed {
            detail: "was killed by signal 9 (SIGKILL)".into(),
        },
    );
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert!(find(&d, |a| matches!(a, Action::Stop { .. })).is_empty());
    assert!(lines(&d)
        .contains(&"start     kafka (failed: was killed by signal 9 (SIGKILL))".to_string()));
    assert!(find(&d, |a| matches!(a, Action::FormatStorage { .. })).is_empty());
}

#[test]
fn kraft_storage_is_formatted_once_with_the_known_id() {
    let case = Case::new(Mode::Kraft, "");
    let d = decide(None, case.desired(), &case.nothing_there()).unwrap();
    assert_eq!(
        find(&d, |a| matches!(a, Action::FormatStorage { .. })),
        [&Action::FormatStorage {
            cluster_id: None,
            nodes: vec![KAFKA]
        }]
    );
    let (mut m, mut seen) = case.set_up();
    m.cluster_id = None;
    seen.data = case.nothing_there().data;
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert_eq!(
        find(&d, |a| matches!(a, Action::FormatStorage { .. })).len(),
        1
    );
}

#[test]
fn lost_data_and_a_mode_switch_are_refused() {
    let case = Case::new(Mode::Zookeeper, "");
    let (m, mut seen) = case.set_up();
    seen.data.nodes[0].zookeeper_data = false;
    let err = decide(Some(&m), case.desired(), &seen).unwrap_err();
    assert!(matches!(err, Conflict::Data(_)), "{err}");

    let kraft = Case::new(Mode::Kraft, "");
    let (_, seen) = case.set_up();
    let err = decide(Some(&m), kraft.desired(), &seen).unwrap_err();
    assert!(matches!(err, Conflict::ModeChange { .. }), "{err}");
}

#[test]
fn a_new_version_retires_the_old_distribution() {
    let case = Case::new(Mode::Kraft, "");
    let (mut m, seen) = case.set_up();
    m.dists.push(crate::state::InstalledDist {
        artifact: crate::catalog::Artifact::kafka("4.3.1", "2.13"),
        dir: "/srv/k/install/kafka_2.13-4.3.1".into(),
        sha512: "00".into(),
        source: Default::default(),
    });
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert!(d.actions.contains(&Action::RemoveDist {
        dir: "/srv/k/install/kafka_2.13-4.3.1".into()
    }));
}

#[test]
fn a_selftest_that_never_passed_is_run_even_when_nothing_changes() {
    let case = Case::new(Mode::Kraft, "");
    let (mut m, seen) = case.set_up();
    m.selftest_passed_at = None;
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert!(d.changes_nothing());
    assert_eq!(d.actions.last(), Some(&Action::SelfTest));
}

#[test]
fn a_changed_setting_is_named_first() {
    let case = Case::new(Mode::Kraft, "kafka_port = 22094");
    let (mut m, seen) = case.set_up();
    m.settings = Some(case.want.kept.clone());
    let moved = Case::new(Mode::Kraft, "kafka_port = 9092");
    let d = decide(Some(&m), moved.desired(), &seen).unwrap();
    assert_eq!(lines(&d)[0], "change    kafka port 22094 → 9092");
    assert!(!d.changes_nothing());
}

#[test]
fn jvms_nothing_records_are_refused_with_their_pids() {
    let case = Case::new(Mode::Zookeeper, "");
    let (m, mut seen) = case.set_up();
    seen.strays = vec![crate::runner::strays::Stray {
        pid: 4242,
        command: "java … zoo.cfg".into(),
    }];
    let err = decide(Some(&m), case.desired(), &seen).unwrap_err();
    assert!(err.to_string().contains("pid 4242"), "{err}");
    assert!(crate::error::Diagnose::help(&err)
        .unwrap()
        .contains("kill 4242"));
}

const ORDERS: &str =
    "[[topics]]\nname = \"orders\"\npartitions = 3\nconfigs = { \"retention.ms\" = 1000 }\n";

fn topic(partitions: u32, retention: &str) -> crate::topics::TopicSeen {
    crate::topics::TopicSeen {
        partitions,
        replication_factor: 1,
        configs: BTreeMap::from([("retention.ms".to_string(), retention.to_string())]),
    }
}

#[test]
fn declared_topics_are_made_after_readiness_and_before_the_selftest() {
    let case = Case::new(Mode::Kraft, ORDERS);
    let d = decide(None, case.desired(), &Observed::default()).unwrap();
    let all = lines(&d);
    let wait = all.iter().position(|l| l.starts_with("wait")).unwrap();
    assert!(
        all[wait + 1].starts_with("ensure    topics orders once the brokers are ready"),
        "{all:#?}"
    );
    assert_eq!(
        all.last().unwrap().split_whitespace().next(),
        Some("selftest")
    );
    let (m, mut seen) = case.set_up();
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert_eq!(
        lines(&d).last().unwrap(),
        "create    topic orders (3 partitions, the broker's default replication factor, retention.ms=1000)"
    );
    assert!(!d.changes_nothing(), "a topic to create is a change");
    seen.topics = Some(BTreeMap::from([("orders".into(), topic(2, "5"))]));
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    let topics: Vec<String> = lines(&d)
        .into_iter()
        .filter(|l| l.contains("topic "))
        .collect();
    assert_eq!(
        topics,
        [
            "raise     topic orders from 2 to 3 partitions",
            "configure topic orders: retention.ms 5 → 1000"
        ]
    );
    seen.topics = Some(BTreeMap::from([("orders".into(), topic(3, "1000"))]));
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert!(d.changes_nothing(), "{:#?}", lines(&d));
}

#[test]
fn topics_kafka_cannot_make_are_refused_before_anything() {
    let case = Case::new(
        Mode::Kraft,
        "[[topics]]\nname = \"wide\"\nreplication_factor = 2\n",
    );
    let err = decide(None, case.desired(), &Observed::default()).unwrap_err();
    assert!(matches!(err, Conflict::Topics(_)), "{err}");
    assert!(err
        .to_string()
        .contains("replication factor 2 needs 2 brokers; this environment has 1"));
    let case = Case::new(Mode::Kraft, ORDERS);
    let (m, mut seen) = case.set_up();
    seen.topics = Some(BTreeMap::from([("orders".into(), topic(5, "1000"))]));
    let err = decide(Some(&m), case.desired(), &seen).unwrap_err();
    assert!(
        err.to_string().contains("topic orders has 5 partitions"),
        "{err}"
    );
    assert_eq!(
        crate::error::Diagnose::exit_code(&err),
        crate::error::ExitCode::Usage
    );
}

#[test]
fn a_paused_node_is_resumed_or_stopped_to_restart_never_started_twice() {
    let case = Case::new(Mode::Zookeeper, "");
    let (m, mut seen) = case.set_up();
    let paused = ServiceState::Paused {
        pid: Some(101),
        detail: "pid 101 (SIGSTOP)".into(),
    };
    seen.services.insert(KAFKA, paused);
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert!(
        lines(&d).contains(&"resume    kafka (paused)".to_string()),
        "{:#?}",
        lines(&d)
    );
    assert!(find(&d, |a| matches!(a, Action::Stop { .. })).is_empty());
    // Changed under it: stopped (a stop continues it first), then started anew.
    let props = case.config_dir(KAFKA).join("server.properties");
    seen.files.insert(props, Some("edited by hand\n".into()));
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert_eq!(
        find(
            &d,
            |a| matches!(a, Action::Stop { service, .. } if *service == KAFKA)
        )
        .len(),
        1
    );
    assert!(lines(&d)
        .iter()
        .any(|l| l.starts_with("restart   kafka: server.properties changed")));
}

#[test]
fn a_grown_environment_renames_its_only_broker_before_anything_starts() {
    let one = Case::new(Mode::Kraft, "");
    let (m, _) = one.set_up();
    let three = Case::new(Mode::Kraft, "brokers = 3");
    let d = decide(Some(&m), three.desired(), &three.nothing_there()).unwrap();
    let at = |f: &dyn Fn(&Action) -> bool| d.actions.iter().position(f).unwrap();
    let rename = at(&|a| matches!(a, Action::Rename(r) if r.from == KAFKA));
    assert!(
        rename < at(&|a| matches!(a, Action::Start { .. })),
        "{:?}",
        lines(&d)
    );
    assert!(rename < at(&|a| matches!(a, Action::FormatStorage { .. })));
    let Action::Rename(r) = &d.actions[rename] else {
        unreachable!()
    };
    assert_eq!(r.to.name(), "kafka-1");
    assert!(r.data.0.ends_with("data/kafka") && r.data.1.ends_with("data/kafka-1"));
}

#[test]
fn fewer_brokers_are_refused_and_docker_cannot_rename() {
    let three = Case::new(Mode::Kraft, "brokers = 3");
    let (m, seen) = three.set_up();
    let one = Case::new(Mode::Kraft, "");
    let refused = decide(Some(&m), one.desired(), &seen).unwrap_err();
    assert!(
        matches!(
            refused,
            Conflict::Shrink {
                role: Role::Kafka,
                was: 3,
                wanted: 1
            }
        ),
        "{refused}"
    );

    let (m, _) = Case::with_runner(Mode::Kraft, "", RunnerKind::Docker).set_up();
    let docker = Case::with_runner(Mode::Kraft, "brokers = 3", RunnerKind::Docker);
    let refused = decide(Some(&m), docker.desired(), &docker.nothing_there()).unwrap_err();
    assert!(
        matches!(refused, Conflict::VolumeRename { .. }),
        "{refused}"
    );
}

/// What the security files' check would find on a fresh root: everything to make.
fn all_to_make(case: &Case) -> crate::security::store::Plan {
    crate::security::store::Plan {
        make_ca: true,
        make_passwords: case.want.security == crate::vocab::Security::Scram,
        issue: vec!["kafka".into()],
        files: vec![(case.config_dir(KAFKA).join("tls/node.pem"), Some(KAFKA))],
    }
}

#[test]
fn scram_in_zookeeper_mode_writes_the_users_before_the_broker_and_grants_after_ready() {
    let case = Case::new(Mode::Zookeeper, "security = \"scram\"");
    let mut seen = case.nothing_there();
    seen.security = all_to_make(&case);
    let d = decide(None, case.desired(), &seen).unwrap();
    let words: Vec<String> = lines(&d)
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    let at = |w: &str| {
        words
            .iter()
            .position(|x| x == w)
            .unwrap_or_else(|| panic!("{w}: {words:?}"))
    };
    assert!(at("secure") < at("start"), "{words:?}");
    assert_eq!(
        lines(&d)[at("users") + 1],
        "start     kafka (new)",
        "{words:?}"
    );
    assert!(
        at("wait") < at("grant") && at("grant") < at("selftest"),
        "{words:?}"
    );
}

#[test]
fn tls_needs_no_users_and_no_acls() {
    let case = Case::new(Mode::Kraft, "security = \"tls\"");
    let mut seen = case.nothing_there();
    seen.security = all_to_make(&case);
    let d = decide(None, case.desired(), &seen).unwrap();
    assert!(find(&d, |a| matches!(a, Action::ScramUsers | Action::GrantAcls)).is_empty());
    assert_eq!(find(&d, |a| matches!(a, Action::Secure(_))).len(), 1);
}

#[test]
fn renewed_certificates_restart_their_node() {
    let case = Case::new(Mode::Kraft, "security = \"tls\"");
    let (m, mut seen) = case.set_up();
    seen.security = crate::security::store::Plan {
        issue: vec!["kafka".into()],
        files: vec![(case.config_dir(KAFKA).join("tls/node.pem"), Some(KAFKA))],
        ..Default::default()
    };
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    let said = lines(&d).join("\n");
    assert!(
        said.contains("restart   kafka: its TLS or SASL files changed"),
        "{said}"
    );
}

#[test]
fn a_formatted_kraft_environment_cannot_take_scram() {
    let before = Case::new(Mode::Kraft, "");
    let (m, seen) = before.set_up();
    let after = Case::new(Mode::Kraft, "security = \"scram\"");
    let refused = decide(Some(&m), after.desired(), &seen).unwrap_err();
    assert_eq!(refused, Conflict::ScramAfterFormat);
    // Its first setup formats with the users: nothing to refuse.
    assert!(decide(None, after.desired(), &after.nothing_there()).is_ok());
}

#[test]
fn an_older_kafka_release_on_kraft_storage_is_refused_before_anything_stops() {
    let case = Case::new(Mode::Kraft, "kafka_version = \"4.4.0\"");
    let (mut m, seen) = case.set_up();
    m.dists = case
        .desired()
        .dists()
        .into_iter()
        .map(|d| crate::state::InstalledDist {
            artifact: d.artifact.clone(),
            dir: d.dir.clone(),
            sha512: String::new(),
            source: Default::default(),
        })
        .collect();
    let older = Case::new(Mode::Kraft, "kafka_version = \"4.3.2\"");
    let refused = decide(Some(&m), older.desired(), &seen).unwrap_err();
    assert_eq!(
        refused,
        Conflict::Downgrade {
            was: "4.4.0".into(),
            wanted: "4.3.2".into()
        }
    );
    let newer = Case::new(Mode::Kraft, "kafka_version = \"4.5.0\"");
    assert!(
        decide(Some(&m), newer.desired(), &seen).is_ok(),
        "an upgrade is planned"
    );
    // A new environment may start with any release.
    assert!(decide(None, older.desired(), &older.nothing_there()).is_ok());
}

#[test]
fn a_restart_an_interrupted_setup_left_is_done_even_if_the_node_runs() {
    let case = Case::new(Mode::Zookeeper, "");
    let (mut m, seen) = case.set_up();
    m.restarts_due = vec![KAFKA];
    let d = decide(Some(&m), case.desired(), &seen).unwrap();
    assert_eq!(d.starts(), [KAFKA]);
    assert!(d.actions.contains(&Action::Stop {
        service: KAFKA,
        reason: "an interrupted setup did not finish restarting it".into()
    }));
}

#[test]
fn a_migrations_way_back_retires_the_controller_and_releases_zookeeper_before_the_brokers_roll() {
    let migrating = Case::new(
        Mode::Zookeeper,
        "migration = \"brokers\"\ncontrollers = 1\n",
    );
    let (mut m, mut seen) = migrating.set_up();
    m.settings = Some(migrating.want.kept.clone());
    let back = Case::new(Mode::Zookeeper, "");
    seen.files = on_disk(&back);
    let props = back.config_dir(KAFKA).join("server.properties");
    seen.files.insert(props, Some("in migration mode\n".into()));
    seen.data = data_of(
        &crate::deploy::observe::data_dirs(&back.want),
        Some("cluster-1"),
        Mode::Zookeeper,
    );
    let d = decide(Some(&m), back.desired(), &seen).unwrap();
    let words: Vec<String> = lines(&d)
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .filter(|w| ["retire", "release", "stop", "restart"].contains(&w.as_str()))
        .collect();
    assert_eq!(
        words,
        ["retire", "release", "stop", "restart"],
        "{:#?}",
        lines(&d)
    );
    assert_eq!(d.starts(), [KAFKA], "ZooKeeper's config is unchanged");
}

#[test]
fn a_finalized_migration_retires_zookeeper_after_the_controllers_restart() {
    let migrating = Case::new(Mode::Kraft, "migration = \"kraft\"\ncontrollers = 1\n");
    let (mut m, mut seen) = migrating.set_up();
    m.settings = Some(migrating.want.kept.clone());
    let done = Case::new(Mode::Kraft, "controllers = 1\n");
    seen.files = on_disk(&done);
    let props = done
        .config_dir(NodeId::solo(Role::Controller))
        .join("server.properties");
    seen.files.insert(props, Some("in migration mode\n".into()));
    let d = decide(Some(&m), done.desired(), &seen).unwrap();
    let last_start = d
        .actions
        .iter()
        .rposition(|a| matches!(a, Action::Start { .. }));
    let retire = d
        .actions
        .iter()
        .position(|a| *a == Action::Retire { service: ZOOKEEPER });
    assert!(retire > last_start, "{:#?}", lines(&d));
    assert!(!d.actions.contains(&Action::ReleaseController));
}

/// Every file of `case` on disk as it renders it.
fn on_disk(case: &Case) -> BTreeMap<PathBuf, Option<String>> {
    let files = case.want.files.iter();
    files
        .map(|f| (f.target.clone(), Some(f.contents.clone())))
        .collect()
}
