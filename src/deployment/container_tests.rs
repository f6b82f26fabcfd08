//! The docker runner's containers, as data, for a deployment's nodes.

use super::testing::deployment_of;
use crate::paths::Paths;
use crate::runner::docker::container::*;
use crate::spec::ServiceSpec;
use crate::vocab::{NodeId, Role, RunnerKind};
use std::path::{Path, PathBuf};

fn specs() -> (Paths, Vec<ServiceSpec>) {
    let d = deployment_of("", RunnerKind::Docker);
    (
        d.paths.clone(),
        d.launches.iter().map(|l| l.spec.clone()).collect(),
    )
}

#[test]
fn mounts_map_container_paths_back_to_the_host() {
    let (paths, specs) = specs();
    let kafka = &specs[1];
    let d = Definition::new(
        "abc",
        &paths,
        "jre:17",
        kafka,
        &kafka.command(Path::new("/j")),
    );
    assert_eq!(d.name, "kafkup-abc-kafka");
    assert!(d.binds.contains(&(
        PathBuf::from("/srv/k/install/kafka_2.13-3.9.2"),
        PathBuf::from("/opt/kafkup/kafka_2.13-3.9.2")
    )));
    assert!(d.binds.contains(&(
        PathBuf::from("/srv/k/config/kafka"),
        PathBuf::from("/etc/kafkup/kafka")
    )));
    assert_eq!(
        d.volumes,
        [(
            "kafkup-abc-kafka-data".to_string(),
            PathBuf::from("/var/lib/kafkup/data/kafka")
        )]
    );
    let body = d.body(
        "net",
        labels("abc", &paths, Some(NodeId::solo(Role::Kafka))),
    );
    let host = body.host_config.unwrap();
    let published = host.port_bindings.unwrap();
    let binding = published["9092/tcp"].as_ref().unwrap()[0].clone();
    assert_eq!(
        binding.host_ip.as_deref(),
        Some("127.0.0.1"),
        "loopback only"
    );
    assert_eq!(body.entrypoint, Some(vec!["/j".to_string()]));
    assert!(body.labels.unwrap().contains_key(LABEL_DEFINITION));
}

#[test]
fn a_changed_command_is_a_changed_definition() {
    let (paths, specs) = specs();
    let zk = &specs[0];
    let a = Definition::new("abc", &paths, "jre:17", zk, &zk.command(Path::new("/j")));
    let mut b = a.clone();
    assert_eq!(a.digest(), b.digest());
    b.command.push("-Xmx1g".into());
    assert_ne!(a.digest(), b.digest());
    assert_ne!(
        env_id(&paths),
        env_id(&Paths::under_root(Path::new("/srv/other")))
    );
}
