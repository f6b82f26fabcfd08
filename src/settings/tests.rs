use super::*;
use clap::Parser;
use std::path::PathBuf;

/// The flags a user typed, parsed the way the binary parses them.
#[derive(Debug, Parser)]
struct Flags {
    #[command(flatten)]
    layer: Layer,
}

fn flags(args: &[&str]) -> Layer {
    let mut argv = vec!["kafkup"];
    argv.extend_from_slice(args);
    Flags::try_parse_from(argv).unwrap().layer
}

fn resolve(flags: Layer, file: &str) -> Result<Settings, SettingsError> {
    Settings::resolve([flags, parse_config(file).unwrap()])
}

#[test]
fn defaults_are_zookeeper_mode_with_kafka_3_9() {
    let s = resolve(Layer::default(), "").unwrap();
    assert_eq!(s.mode, Mode::Zookeeper);
    assert_eq!(s.chosen_kafka_version(), "3.9.2");
    assert_eq!(s.mirrors[0].as_str(), "https://dlcdn.apache.org/");
    assert_eq!(s.dists[1].as_str(), "https://archive.apache.org/dist");
    assert!(s.verify_signature && s.selftest && s.class_archive);
    assert_eq!(s.source, SourceChoice::Auto);
    assert_eq!(
        s.maven_repos[0].as_str(),
        "https://repo.maven.apache.org/maven2"
    );
    assert!(s.keys.is_empty() && s.maven_lock_dir.is_none());
}

#[test]
fn the_source_and_maven_settings_follow_the_precedence() {
    let file = "source = \"maven\"\nmaven_repos = [\"https://nexus.example/maven2\"]\nkeys = [\"/k/KEYS\"]\nmaven_lock_dir = \"/locks\"\n";
    let s = resolve(Layer::default(), file).unwrap();
    assert_eq!(s.source, SourceChoice::Maven);
    assert_eq!(s.maven_repos[0].as_str(), "https://nexus.example/maven2");
    assert_eq!(s.keys, vec![PathBuf::from("/k/KEYS")]);
    assert_eq!(s.maven_lock_dir, Some(PathBuf::from("/locks")));
    let over = flags(&[
        "--source",
        "apache",
        "--maven-repo",
        "http://127.0.0.1:8081/maven2",
    ]);
    let s = resolve(over, file).unwrap();
    assert_eq!(s.source, SourceChoice::Apache);
    assert_eq!(s.maven_repos[0].as_str(), "http://127.0.0.1:8081/maven2");
    let over = flags(&["--maven-repo", "http://nexus.example/maven2"]);
    assert!(matches!(
        resolve(over, ""),
        Err(SettingsError::BadUrl {
            what: "maven repo",
            ..
        })
    ));
    assert!(parse_config("source = \"ftp\"").is_err());
}

#[test]
fn kraft_mode_defaults_to_kafka_4() {
    let s = resolve(Layer::default(), "mode = \"kraft\"").unwrap();
    assert_eq!(s.chosen_kafka_version(), "4.4.0");
}

#[test]
fn flags_beat_the_file_which_beats_defaults() {
    let s = resolve(
        flags(&["--kafka-port", "19092"]),
        "kafka_port = 29092\nzookeeper_port = 22181\n",
    )
    .unwrap();
    assert_eq!(s.kafka_port, 19092);
    assert_eq!(s.zookeeper_port, 22181);
    assert_eq!(s.controller_port, None);
}

#[test]
fn a_negative_flag_says_no_and_its_absence_says_nothing() {
    let s = resolve(flags(&["--no-selftest"]), "selftest = true").unwrap();
    assert!(!s.selftest);
    let s = resolve(flags(&[]), "selftest = false\nverify_signature = false").unwrap();
    assert!(!s.selftest && !s.verify_signature);
    let s = resolve(flags(&["--no-verify-signature", "--no-class-archive"]), "").unwrap();
    assert!(!s.verify_signature && !s.class_archive && s.selftest);
}

#[test]
fn a_bad_key_is_named_with_its_line() {
    let err = parse_config("mode = \"kraft\"\nkafka_port = \"abc\"\n").unwrap_err();
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("kafka_port"), "{err}");
    let err = parse_config("\n\nkafak_port = 1\n").unwrap_err();
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("kafak_port"), "{err}");
    let err = parse_config("mode = \"kraft\"\n[server]\nport = 1\n").unwrap_err();
    assert!(err.contains("line 2, table `[server]`"), "{err}");
}

#[test]
fn zookeeper_mode_with_kafka_4_names_kraft() {
    let err = resolve(flags(&["--kafka-version", "4.0.0"]), "").unwrap_err();
    assert!(err.help().unwrap().contains("--mode kraft"));
}

#[test]
fn plain_http_only_for_loopback() {
    assert!(resolve(flags(&["--mirror", "http://127.0.0.1:8000"]), "").is_ok());
    assert!(matches!(
        resolve(flags(&["--mirror", "http://mirror.example.org"]), ""),
        Err(SettingsError::BadUrl { .. })
    ));
    assert!(resolve(flags(&["--dist", "file:///srv/mirror"]), "").is_ok());
}

#[test]
fn every_key_of_the_readme_is_a_setting() {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README has a TOML example");
    let layer = parse_config(block).expect("the README's example config parses");
    assert!(layer.root.is_some() && layer.class_archive.is_some());
}

#[test]
fn an_environment_starts_from_what_it_recorded_and_flags_change_it() {
    let first = resolve(flags(&["--mode", "kraft", "--kafka-port", "22094"]), "").unwrap();
    let recorded = first.kept();
    assert_eq!(recorded.kafka_port, Some(22094));
    assert_eq!(
        recorded.kafka_version.as_deref(),
        Some("4.4.0"),
        "the release it runs"
    );
    assert_eq!(
        recorded.mirrors, None,
        "where downloads come from is not the environment's"
    );
    let again = Settings::resolve([Layer::default(), Layer::default(), recorded.clone()]).unwrap();
    assert_eq!((again.mode, again.kafka_port), (Mode::Kraft, 22094));
    let moved = Settings::resolve([flags(&["--kafka-port", "9092"]), recorded.clone()]).unwrap();
    let changes = recorded.changes(&moved.kept());
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].to_string(), "kafka port 22094 → 9092");
}

#[test]
fn another_mode_asked_for_drops_the_recorded_release() {
    let recorded = resolve(flags(&["--mode", "kraft"]), "").unwrap().kept();
    let asked = flags(&["--mode", "zookeeper"]);
    let s = Settings::resolve([asked.clone(), recorded.clone().for_mode(asked.mode)]).unwrap();
    assert_eq!(s.chosen_kafka_version(), "3.9.2");
    assert!(
        Settings::resolve([asked, recorded]).is_err(),
        "without it: 4.4.0 in ZooKeeper mode"
    );
}

const TOPICS: &str = r#"
[[topics]]
name = "orders"
partitions = 3
replication_factor = 1
configs = { "cleanup.policy" = "compact", "retention.ms" = 86400000 }

[[topics]]
name = "events"
"#;

#[test]
fn topics_come_from_tables_or_flags_and_flags_replace_the_file() {
    let s = resolve(Layer::default(), TOPICS).unwrap();
    let names: Vec<&str> = s.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["orders", "events"]);
    assert_eq!(s.topics[0].partitions, Some(3));
    assert_eq!(s.topics[0].configs["retention.ms"], "86400000");
    assert_eq!(s.topics[1].replication_factor, None);
    let s = resolve(flags(&["--topic", "audit:2:1", "--topic", "logs"]), TOPICS).unwrap();
    let names: Vec<&str> = s.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["audit", "logs"]);
    assert_eq!(s.topics[0].partitions, Some(2));
    assert!(resolve(Layer::default(), "").unwrap().topics.is_empty());
}

#[test]
fn bad_topics_are_refused_with_what_is_wrong() {
    let twice = resolve(flags(&["--topic", "a", "--topic", "a:2"]), "").unwrap_err();
    assert!(
        twice.to_string().contains("`a` is declared twice"),
        "{twice}"
    );
    let named = resolve(Layer::default(), "[[topics]]\nname = \"a b\"\n").unwrap_err();
    assert!(
        named.to_string().contains("only letters, digits"),
        "{named}"
    );
    assert!(named.help().unwrap().contains("--topic NAME[:PARTITIONS"));
    let zero = resolve(
        Layer::default(),
        "[[topics]]\nname = \"a\"\npartitions = 0\n",
    );
    assert!(zero.unwrap_err().to_string().contains("at least 1"));
    let err = parse_config("mode = \"kraft\"\n[[topics]]\nname = \"a\"\npartitions = \"three\"\n")
        .unwrap_err();
    assert!(err.contains("line 4, key `topics.partitions`"), "{err}");
    let err = parse_config("[[topics]]\npartitons = 3\n").unwrap_err();
    assert!(err.contains("line 2, key `topics.partitons`"), "{err}");
    let err = parse_config("[[topics]]\npartitions = 3\n").unwrap_err();
    assert!(err.contains("missing field `name`"), "{err}");
    assert!(err.contains("line 1, table `[[topics]]`"), "{err}");
    assert!(Flags::try_parse_from(["kafkup", "--topic", "a:0"]).is_err());
}

#[test]
fn topics_are_recorded_and_a_changed_list_is_said() {
    let first = resolve(Layer::default(), TOPICS).unwrap();
    let recorded = first.kept();
    let again = Settings::resolve([Layer::default(), recorded.clone()]).unwrap();
    assert_eq!(again.topics, first.topics, "a plain setup keeps them");
    let json = serde_json::to_string(&recorded).unwrap();
    let read: Layer = serde_json::from_str(&json).unwrap();
    assert_eq!(
        read.topics, recorded.topics,
        "the manifest keeps them whole"
    );
    let moved = Settings::resolve([flags(&["--topic", "orders:6"]), recorded.clone()]).unwrap();
    let changes = recorded.changes(&moved.kept());
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].to_string(),
        "topics configs={cleanup.policy=compact retention.ms=86400000} name=orders partitions=3 \
         replication_factor=1; name=events → name=orders partitions=6"
    );
}
