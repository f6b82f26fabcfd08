use super::testing::{deployment, deployment_of, JAVA};
use super::*;
use std::collections::BTreeSet;

fn distinct<T: Ord>(items: impl IntoIterator<Item = T>) -> usize {
    items.into_iter().collect::<BTreeSet<_>>().len()
}

#[test]
fn three_brokers_are_three_nodes_with_their_own_everything() {
    let d = deployment_of("mode = \"kraft\"\nbrokers = 3", RunnerKind::Systemd);
    let names: Vec<String> = d.launches.iter().map(|l| l.id.name()).collect();
    assert_eq!(names, ["kafka-1", "kafka-2", "kafka-3"]);
    let ports: Vec<u16> = d.ports().iter().map(|p| p.port).collect();
    assert_eq!(ports.len(), 6, "a client and a controller port each");
    assert_eq!(distinct(ports), 6);
    assert_eq!(distinct(d.launches.iter().map(|l| &l.view.data_dir)), 3);
    assert_eq!(distinct(d.launches.iter().map(|l| &l.view.config_dir)), 3);
    assert_eq!(distinct(d.launches.iter().map(|l| &l.command)), 3);
    assert_eq!(distinct(d.files.iter().map(|f| &f.target)), d.files.len());
    assert_eq!(
        d.files.len(),
        9,
        "server.properties, logging and a unit per node"
    );
    let units = d.files.iter().filter(|f| f.rel.starts_with("systemd"));
    assert_eq!(units.count(), 3);
    let second = &d.launches[1];
    assert_eq!(second.config.kafka.as_ref().unwrap().node_id, 2);
    let voters = second.config.kafka.as_ref().unwrap().quorum_voters.clone();
    assert_eq!(
        voters.as_deref(),
        Some("1@127.0.0.1:9095,2@127.0.0.1:9096,3@127.0.0.1:9097")
    );
    assert_eq!(
        d.bootstrap_server(),
        "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094"
    );
    let props = d
        .files
        .iter()
        .find(|f| f.rel == std::path::Path::new("kafka-2/server.properties"))
        .unwrap();
    assert!(props
        .contents
        .contains("offsets.topic.replication.factor=3\n"));
    assert!(props.contents.contains("transaction.state.log.min.isr=2\n"));
}

#[test]
fn every_jvm_gets_the_quick_jit_and_the_users_options_come_last() {
    let config = "kafka_jvm_options = [\"-XX:TieredStopAtLevel=4\", \"-Dx=1\"]\n\
                  zookeeper_jvm_options = [\"-Dzk=1\"]\n";
    let d = deployment_of(config, RunnerKind::Process);
    let (zk, kafka) = (
        &d.launches[0].spec.jvm_options,
        &d.launches[1].spec.jvm_options,
    );
    let quick = "-XX:TieredStopAtLevel=1".to_string();
    assert!(zk.contains(&quick));
    assert_eq!(zk.last().unwrap(), "-Dzk=1");
    let jit = kafka.iter().position(|o| *o == quick).unwrap();
    let undone = kafka
        .iter()
        .position(|o| o == "-XX:TieredStopAtLevel=4")
        .unwrap();
    assert!(
        jit < undone,
        "the user's option must come later to win: {kafka:?}"
    );
    assert_eq!(kafka.last().unwrap(), "-Dx=1");
    let plain = deployment(Mode::Zookeeper);
    assert!(!plain.launches[1]
        .spec
        .jvm_options
        .iter()
        .any(|o| o.starts_with("-Dx")));
}

#[test]
fn only_systemd_gets_units_and_docker_sees_its_own_paths() {
    for kind in [RunnerKind::Process, RunnerKind::Docker] {
        let d = deployment_of("", kind);
        assert!(
            d.files.iter().all(|f| !f.rel.starts_with("systemd")),
            "{kind}"
        );
        assert!(
            d.files
                .iter()
                .all(|f| f.target.starts_with("/srv/k/config")),
            "{kind}"
        );
    }
    let d = deployment_of("", RunnerKind::Docker);
    let kafka = &d.launches[1];
    assert_eq!(
        kafka.view.data_dir,
        std::path::Path::new("/var/lib/kafkup/data/kafka")
    );
    let props = &d
        .files
        .iter()
        .find(|f| f.node == kafka.id && f.rel.ends_with("server.properties"))
        .unwrap()
        .contents;
    assert!(
        props.contains("listeners=PLAINTEXT://0.0.0.0:9092,INTERNAL://0.0.0.0:19092\n"),
        "{props}"
    );
    let env = crate::runner::docker::container::env_id(&d.paths);
    let internal = format!("INTERNAL://kafkup-{env}-kafka:19092");
    assert!(
        props.contains(&format!(
            "advertised.listeners=PLAINTEXT://127.0.0.1:9092,{internal}\n"
        )),
        "{props}"
    );
    assert!(props.contains("zookeeper.connect=kafkup-"), "{props}");
    assert!(kafka.command[0] == JAVA);
}

#[test]
fn data_in_a_temporary_directory_is_refused_before_anything() {
    let text = "root = \"/tmp/kafkup\"\n";
    let settings = Settings::resolve([crate::settings::parse_config(text).unwrap()]).unwrap();
    let err = check_early(&settings).unwrap_err();
    assert!(matches!(err, DeploymentError::DataInTempDir(_)), "{err}");
    assert!(err.help().unwrap().contains("--root"));
}
