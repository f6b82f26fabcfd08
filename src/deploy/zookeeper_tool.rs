//! A tool of Kafka's distribution that talks to ZooKeeper (the config tool, ZooKeeper's own
//! client), run the way the services run: the first broker's Java, classpath and logging, on
//! the environment's network.

use crate::deployment::Deployment;
use crate::runner::Tool;
use crate::vocab::Role;
use std::path::Path;

/// The tool `main_class` with the arguments `args` makes of ZooKeeper's address.
pub fn tool(
    want: &Deployment,
    what: String,
    main_class: &str,
    args: impl FnOnce(&str) -> Vec<String>,
) -> Tool {
    let broker = want.of_role(Role::Kafka).next().expect("a broker");
    let connect = broker
        .config
        .kafka
        .as_ref()
        .and_then(|k| k.zookeeper_connect.clone())
        .expect("a ZooKeeper-mode broker knows ZooKeeper");
    let command = crate::spec::kafka_tool_command(
        &broker.spec,
        Path::new(&broker.command[0]),
        main_class,
        &args(&connect),
    );
    Tool {
        what,
        command,
        writes: vec![],
        class_archive: None,
        network: true,
    }
}
