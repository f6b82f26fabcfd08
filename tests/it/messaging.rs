//! produce, consume and serve against a real broker (KRaft, process runner), with real peers:
//! kcat, and kafka-python running the guide's own consumer.

use crate::env::{echo, free_port, kcat_consume_all, port_open, signal, wait_exit, Lines, TestEnv};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The guide's own text, Cyrillic (2 bytes a letter).
const GUIDE: &str = "Партиции — это фундаментальный механизм хранения данных в Apache Kafka. \
    Каждый топик в Kafka разделен на одну или несколько партиций. Каждая партиция — это \
    упорядоченная и неизменяемая последовательность сообщений, которая хранит данные.";

/// The first `chars` characters of the guide's text.
fn guide(chars: usize) -> String {
    GUIDE.chars().take(chars).collect()
}

pub fn python() -> PathBuf {
    let python = std::env::var_os("KAFKUP_TEST_PYTHON")
        .map(PathBuf::from)
        .expect(
            "KAFKUP_TEST_PYTHON names the venv python with kafka-python \
         (scripts/test.sh sets it up with scripts/python-env.sh)",
        );
    assert!(python.exists(), "{} is missing", python.display());
    python
}

/// The guide's consumer, in kafka-python, checks `topic` against json.dumps of `expected`.
pub fn guide_consumer_agrees(bootstrap: &str, topic: &str, mode: &str, expected: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("expected.txt");
    std::fs::write(&file, expected.join("\n") + "\n").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/guide_consumer.py");
    let out = Command::new(python())
        .arg(script)
        .args([bootstrap, topic, mode])
        .arg(&file)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the guide's consumer disagrees: {said}"
    );
    assert!(said.contains("byte for byte"), "{said}");
}

fn produce(env: &TestEnv, args: &[&str], stdin: &[u8]) -> Output {
    let mut full = vec!["produce"];
    full.extend_from_slice(args);
    echo(
        &full,
        env.kafkup(&full).write_stdin(stdin).output().unwrap(),
    )
}

fn consume(env: &TestEnv, args: &[&str]) -> Output {
    let mut full = vec!["consume"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--timeout", "3"]);
    env.run(&full)
}

fn lines_of(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn kcat(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new("timeout")
        .arg("60")
        .arg("kcat")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcat is installed");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kcat {args:?}: {out:?}");
    out
}

fn sigterm(child: &Child) {
    signal(child.id(), nix::sys::signal::Signal::SIGTERM);
}

#[test]
fn round_trips_with_kcat_and_the_guides_python_consumer() {
    let env = TestEnv::new();
    let setup = env.setup("kraft", &["--no-selftest"]);
    let b = env.bootstrap();

    // setup's hint runs as printed, --root and all, and the broker creates its topic.
    let hint = setup
        .lines()
        .find_map(|l| l.strip_prefix("Try: "))
        .unwrap_or_else(|| panic!("setup prints a hint: {setup}"));
    let bin_dir = assert_cmd::cargo::cargo_bin("kafkup")
        .parent()
        .unwrap()
        .to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut sh = Command::new("sh");
    sh.args(["-c", hint]).env("PATH", path);
    crate::env::scrub(&mut sh, std::env::vars_os());
    let out = sh.output().unwrap();
    assert!(out.status.success(), "{hint}: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello, Kafka\n");

    // kafkup → kcat: keys and headers intact; the topic did not exist before.
    let sent = produce(
        &env,
        &[
            "to-kcat",
            "--key",
            "ключ",
            "--header",
            "trace=абв",
            "--header",
            "n=1",
        ],
        format!("{GUIDE}\nsecond line 🚀\n").as_bytes(),
    );
    assert!(sent.status.success());
    let out = kcat(
        &[
            "-b",
            &b,
            "-C",
            "-t",
            "to-kcat",
            "-o",
            "beginning",
            "-e",
            "-q",
            "-f",
            "%k|%h|%s\n",
        ],
        b"",
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("ключ|trace=абв,n=1|{GUIDE}\nключ|trace=абв,n=1|second line 🚀\n")
    );

    // kcat → kafkup: key, headers, value in --json.
    kcat(
        &[
            "-b",
            &b,
            "-P",
            "-t",
            "from-kcat",
            "-K",
            ":",
            "-H",
            "h=значение",
            "-X",
            "acks=all",
        ],
        "k1:один\nk2:два\n".as_bytes(),
    );
    let out = consume(&env, &["from-kcat", "--from-beginning", "--json"]);
    assert!(out.status.success());
    let got: Vec<Value> = lines_of(&out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["key"], "k1");
    assert_eq!(got[0]["value"], "один");
    assert_eq!(got[1]["value"], "два");
    assert_eq!(got[1]["offset"], 1);
    assert_eq!(got[0]["partition"], 0);
    assert_eq!(got[0]["headers"][0]["key"], "h");
    assert_eq!(got[0]["headers"][0]["value"], "значение");
    assert!(got[0]["timestamp"].as_i64().unwrap() > 1_600_000_000_000);

    // --value-format json: the guide's consumer (kafka-python) sees json.dumps' own bytes.
    let texts: Vec<String> = [
        GUIDE,
        "emoji 🚀🎉 and ü",
        "quotes \" and \\ backslash / slash",
        "\ttab \u{1} control \u{7f} del",
        "",
        "   ",
        "{\"already\": \"json\"}",
    ]
    .map(str::to_string)
    .to_vec();
    let stdin = texts.join("\n") + "\n";
    let out = produce(
        &env,
        &["--topic", "as-json", "--value-format", "json"],
        stdin.as_bytes(),
    );
    assert!(out.status.success());
    guide_consumer_agrees(&b, "as-json", "lines", &texts);
}

/// A message of `count` segments sent by hand with kcat, as another producer would.
fn kcat_segments(bootstrap: &str, topic: &str, id: &str, parts: &[(u32, &str)], count: u32) {
    for (index, part) in parts {
        let (seg, segs) = (
            format!("kafkup-seg={index}"),
            format!("kafkup-segs={count}"),
        );
        let msg_id = format!("kafkup-msg-id={id}");
        let args = [
            "-b", bootstrap, "-P", "-t", topic, "-k", id, "-H", &msg_id, "-H", &seg, "-H", &segs,
            "-D", "\u{1}",
        ];
        kcat(&args, part.as_bytes());
    }
}

#[test]
fn segmented_messages_come_back_byte_for_byte() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let b = env.bootstrap();

    // Chunk sizes whose boundaries fall inside 2- and 4-byte characters.
    let long = GUIDE.repeat(300); // about 90 KB
    let messages = [
        GUIDE.to_string(),
        "🚀🎉🚀 эмодзи 🎉".to_string(),
        "     ".to_string(),
        " \t  leading and trailing  \t ".to_string(),
        long,
    ];
    let stdin = messages.join("\n") + "\n";
    for chunk in ["5", "7", "100"] {
        let topic = format!("seg-{chunk}");
        let out = produce(&env, &[&topic, "--chunk-size", chunk], stdin.as_bytes());
        assert!(out.status.success());
        let raw = kcat_consume_all(&b, &topic);
        assert!(
            raw.len() > messages.len(),
            "segments on the topic: {}",
            raw.len()
        );
        let out = consume(&env, &[&topic, "--from-beginning", "--reassemble"]);
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            stdin,
            "chunk size {chunk}"
        );
    }

    // Two producers at once, interleaving on one topic: every message whole, none mixed.
    let spawn = |tag: &str| {
        let lines: String = (0..200)
            .map(|i| format!("{tag} {i} {}\n", guide(60)))
            .collect();
        let mut child = env
            .command(&["produce", "mixed", "--chunk-size", "9", "-q"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(lines.as_bytes())
            .unwrap();
        (child, lines)
    };
    let (mut a, a_lines) = spawn("первый");
    let (mut c, c_lines) = spawn("второй");
    assert!(wait_exit(&mut a, Duration::from_secs(60)).success());
    assert!(wait_exit(&mut c, Duration::from_secs(60)).success());
    let out = consume(&env, &["mixed", "--from-beginning", "--reassemble"]);
    let mut got = lines_of(&out);
    let mut want: Vec<String> = a_lines
        .lines()
        .chain(c_lines.lines())
        .map(String::from)
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // A duplicated segment is dropped; a message missing a segment is reported, not printed;
    // plain messages pass through.
    let t = "by-hand";
    kcat_segments(&b, t, "dup", &[(0, "При"), (1, "вет"), (1, "вет")], 3);
    kcat(&["-b", &b, "-P", "-t", t], b"plain\n");
    kcat_segments(&b, t, "gap", &[(0, "a"), (2, "c")], 3);
    kcat_segments(&b, t, "dup", &[(2, ", мир")], 3);
    let out = consume(&env, &[t, "--from-beginning", "--reassemble"]);
    assert!(out.status.success());
    assert_eq!(lines_of(&out), ["plain", "Привет, мир"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("message gap is incomplete (2 of 3 segments)"),
        "{err}"
    );
    assert!(!err.contains("dup"), "{err}");
}

#[test]
fn consume_positions_groups_signals_and_pipes() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let lines: Vec<String> = (0..10).map(|i| format!("сообщение {i}")).collect();
    let stdin = lines.join("\n") + "\n";
    assert!(produce(&env, &["pos"], stdin.as_bytes()).status.success());

    // From the end by default: only what comes after it started.
    let mut tail = env
        .command(&["consume", "pos", "--max-messages", "1", "--timeout", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    for i in 0..100 {
        produce(&env, &["pos", "--value", &format!("new {i}"), "-q"], b"");
        if let Some(s) = tail.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(status.expect("consume ended").success());
    let mut printed = Lines::new(tail.stdout.take().unwrap());
    let first = printed.rest(Duration::from_secs(5));
    assert!(first.starts_with("new "), "from the end: {first:?}");

    // A group commits what it wrote, and the next run goes on from there.
    let out = consume(
        &env,
        &[
            "pos",
            "--group",
            "g",
            "--from-beginning",
            "--max-messages",
            "4",
        ],
    );
    assert_eq!(lines_of(&out), lines[..4]);
    let out = consume(
        &env,
        &[
            "pos",
            "--group",
            "g",
            "--from-beginning",
            "--max-messages",
            "6",
        ],
    );
    assert_eq!(lines_of(&out), lines[4..]);
    // Without a group nothing is committed: from the beginning is the beginning again.
    let out = consume(&env, &["pos", "--from-beginning", "--max-messages", "2"]);
    assert_eq!(lines_of(&out), lines[..2]);

    // SIGTERM: exit 0, output flushed, offsets committed.
    let mut reader = env
        .command(&["consume", "pos", "--group", "g"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = Lines::new(reader.stdout.take().unwrap());
    let mut seen = Vec::new();
    for i in 0..3 {
        let value = format!("after-term-{i}");
        assert!(produce(&env, &["pos", "--value", &value, "-q"], b"")
            .status
            .success());
        seen.push(stdout.wait_for("after-term", Duration::from_secs(30)));
    }
    assert_eq!(seen, ["after-term-0", "after-term-1", "after-term-2"]);
    sigterm(&reader);
    assert!(wait_exit(&mut reader, Duration::from_secs(15)).success());
    assert!(produce(&env, &["pos", "--value", "last", "-q"], b"")
        .status
        .success());
    let out = consume(&env, &["pos", "--group", "g"]);
    assert_eq!(
        lines_of(&out),
        ["last"],
        "the group resumed after what it printed"
    );

    // A closed pipe is not an error.
    let big: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    assert!(produce(&env, &["pipe", "-q"], big.as_bytes())
        .status
        .success());
    let bin = assert_cmd::cargo::cargo_bin("kafkup");
    let script = format!(
        "{} --root {} consume pipe --from-beginning --timeout 10 | head -n 3; \
         echo \"exit ${{PIPESTATUS[0]}}\"",
        bin.display(),
        env.root().display()
    );
    let mut bash = Command::new("bash");
    bash.args(["-c", &script]);
    crate::env::scrub(&mut bash, std::env::vars_os());
    let out = bash.output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(said, "line 0\nline 1\nline 2\nexit 0\n", "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_input_and_missing_brokers_are_clear_errors() {
    let env = TestEnv::new();
    let nobody = format!("127.0.0.1:{}", free_port());
    let out = env.run(&[
        "produce",
        "t",
        "--key",
        "k",
        "--chunk-size",
        "10",
        "--value",
        "x",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--key with --chunk-size is a usage error"
    );
    let out = env.run(&["produce", "t", "--chunk-size", "3", "--value", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.run(&["produce", "--value", "x"]);
    assert_eq!(out.status.code(), Some(2), "a topic is required");

    let started = Instant::now();
    let args = [
        "produce",
        "t",
        "--bootstrap-server",
        &nobody,
        "--value",
        "x",
        "--delivery-timeout",
        "3",
    ];
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("did not answer") && err.contains("help:"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    let out = env.run(&[
        "consume",
        "t",
        "--bootstrap-server",
        &nobody,
        "--timeout",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not answer"));
}

/// `kafkup serve` on a free port, killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start(env: &TestEnv, extra: &[&str]) -> Server {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--bind", &bind];
        args.extend_from_slice(extra);
        let child = env.command(&args).stdout(Stdio::null()).spawn().unwrap();
        let until = Instant::now() + Duration::from_secs(30);
        while !port_open(port) {
            assert!(Instant::now() < until, "serve did not listen on {bind}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            child,
            url: format!("http://{bind}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn post(
    client: &reqwest::Client,
    url: &str,
    content_type: &str,
    body: String,
) -> (u16, Value) {
    let response = client
        .post(format!("{url}/send_message"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Messages on `topic` so far; none while the topic does not exist yet (the first message
/// creates it, and a loaded machine may take a while to send one).
fn count_on(bootstrap: &str, topic: &str) -> usize {
    let out = std::process::Command::new("timeout")
        .args(["60", "kcat", "-b", bootstrap, "-C", "-t", topic])
        .args(["-o", "beginning", "-e", "-q"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("Unknown topic or partition") {
        return 0;
    }
    assert!(out.status.success(), "kcat consume failed: {stderr}");
    out.stdout.iter().filter(|&&b| b == b'\n').count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_each_status_and_loses_nothing_under_concurrency() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let b = env.bootstrap();
    let server = Server::start(&env, &["--topic", "api", "--max-body", "4096"]);
    let client = reqwest::Client::new();
    let url = &server.url;
    let json = "application/json";

    let bodies: Vec<String> = [
        r#"{"message": "Привет, Kafka! 🚀"}"#,
        r#"{"message": {"user": "иван", "items": [1, 2.5, true, null], "nested": {}}}"#,
        r#"{"message": 0}"#,
        r#"{"message": "   "}"#,
    ]
    .map(str::to_string)
    .to_vec();
    for body in &bodies {
        let (status, answer) = post(&client, url, json, body.clone()).await;
        assert_eq!(status, 200, "{body}: {answer}");
        assert_eq!(answer["status"], "message sent");
    }
    // The guide's consumer reads json.dumps' bytes of each message.
    guide_consumer_agrees(&b, "api", "bodies", &bodies);

    for (content_type, body, want) in [
        (json, r#"{"other": 1}"#.to_string(), 400),
        (json, r#"{"message": null}"#.into(), 400),
        (json, r#"{"message": ""}"#.into(), 400),
        (json, r#"{"message": []}"#.into(), 400),
        (json, r#"{"message": {}}"#.into(), 400),
        (json, r#"{}"#.into(), 400),
        (json, r#"{"message": "x""#.into(), 400),
        (json, r#"["message"]"#.into(), 400),
        (
            json,
            format!(r#"{{"message": "{}"}}"#, "x".repeat(5000)),
            413,
        ),
        ("text/plain", r#"{"message": "x"}"#.into(), 415),
    ] {
        let (status, answer) = post(&client, url, content_type, body.clone()).await;
        assert_eq!(
            status,
            want,
            "{content_type} {}",
            &body[..body.len().min(40)]
        );
        assert!(answer["error"].is_string(), "{answer}");
    }
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(count_on(&b, "api"), bodies.len(), "errors sent nothing");

    // --value-format raw: a string as it is, other JSON values still as JSON.
    let raw = Server::start(&env, &["--topic", "raw", "--value-format", "raw"]);
    for body in [
        r#"{"message": "Привет, \"мир\""}"#,
        r#"{"message": {"a": [1, "б"]}}"#,
    ] {
        assert_eq!(
            post(&client, &raw.url, json, body.into()).await.0,
            200,
            "{body}"
        );
    }
    assert_eq!(
        kcat_consume_all(&b, "raw"),
        ["Привет, \"мир\"", r#"{"a": [1, "\u0431"]}"#],
        "raw strings as they are, other values as json.dumps writes them"
    );
    drop(raw);

    // 413 naming --chunk-size: a message over the broker's 1 MB limit, under ours
    // (tests/it/large.rs has the cases at the edge).
    let big = Server::start(&env, &["--topic", "big", "--max-body", "3000000"]);
    let huge = serde_json::json!({ "message": "ы".repeat(700_000) }).to_string();
    let (status, answer) = post(&client, &big.url, json, huge).await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["help"].as_str().unwrap().contains("--chunk-size"),
        "{answer}"
    );
    drop(big);
    // A topic the broker refuses stops serve before it listens.
    let out = env.run(&[
        "serve",
        "--topic",
        "bad topic!",
        "--bind",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Invalid topic"));
    assert!(out.stdout.is_empty(), "not announced");

    // 1000 concurrent requests, every one answered 200 and on the topic.
    let started = Instant::now();
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let body = format!(r#"{{"message": "concurrent {i} {}"}}"#, guide(100));
                post(&client, &url, "application/json", body).await.0
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    eprintln!("1000 concurrent requests in {:?}", started.elapsed());
    assert_eq!(count_on(&b, "api"), bodies.len() + 1000);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_cleanly_under_load_and_outlives_its_broker() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let b = env.bootstrap();
    let client = reqwest::Client::new();

    // SIGTERM under load: exit 0, and every message answered 200 is on the topic.
    let mut server = Server::start(&env, &["--topic", "load", "--chunk-size", "50"]);
    let url = server.url.clone();
    let answered_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..20)
        .map(|w| {
            let (client, url) = (client.clone(), url.clone());
            let answered_so_far = answered_so_far.clone();
            tokio::spawn(async move {
                let mut ok = Vec::new();
                for i in 0..500 {
                    let text = format!("w{w} m{i} {}", guide(80));
                    let body = serde_json::json!({ "message": text }).to_string();
                    let sent = client
                        .post(format!("{url}/send_message"))
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 200 => {
                            ok.push(text);
                            answered_so_far.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        _ => break, // refused or cut off: the server is stopping
                    }
                }
                ok
            })
        })
        .collect();
    // SIGTERM once 200 messages were answered (and so are on the topic) and more are in flight.
    let until = Instant::now() + Duration::from_secs(60);
    while answered_so_far.load(std::sync::atomic::Ordering::SeqCst) < 200 {
        assert!(Instant::now() < until, "no load was answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        count_on(&b, "load") > 0,
        "answered messages are on the topic"
    );
    sigterm(&server.child);
    assert!(wait_exit(&mut server.child, Duration::from_secs(40)).success());
    let mut answered = Vec::new();
    for worker in workers {
        answered.extend(worker.await.unwrap());
    }
    let out = consume(
        &env,
        &["load", "--from-beginning", "--reassemble", "--json"],
    );
    let on_topic: std::collections::HashSet<String> = lines_of(&out)
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            serde_json::from_str::<String>(v["value"].as_str().unwrap()).unwrap()
        })
        .collect();
    assert!(answered.len() >= 200, "{}", answered.len());
    let lost: Vec<&String> = answered.iter().filter(|m| !on_topic.contains(*m)).collect();
    assert!(
        lost.is_empty(),
        "answered 200 but not on the topic: {lost:?}"
    );

    // The broker stops under serve: 503 within the delivery timeout; back when it is.
    let server = Server::start(&env, &["--topic", "outage", "--delivery-timeout", "3"]);
    let body = || r#"{"message": "до и после"}"#.to_string();
    assert_eq!(
        post(&client, &server.url, "application/json", body())
            .await
            .0,
        200
    );
    env.ok(&["stop", "kafka"]);
    let started = Instant::now();
    let (status, answer) = post(&client, &server.url, "application/json", body()).await;
    assert_eq!(status, 503, "a delivery timeout is 503, not 500: {answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(error.contains("did not acknowledge within 3 s"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let health = client
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 503);
    env.ok(&["start"]);
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, _) = post(&client, &server.url, "application/json", body()).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < until, "serve did not recover: {status}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(count_on(&b, "outage") >= 2);
}

/// A process stopped with SIGSTOP until dropped (also when the test fails half-way).
struct Paused(u32);

impl Paused {
    fn new(pid: u32) -> Paused {
        signal(pid, nix::sys::signal::Signal::SIGSTOP);
        Paused(pid)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        // Not `signal`, which panics: a panic while a failed test unwinds aborts every test.
        let pid = nix::unistd::Pid::from_raw(self.0 as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT);
    }
}

/// SIGTERM with requests in flight: every one of them is answered 200 and on the topic, new
/// connections are refused, and serve exits 0. The broker is paused (SIGSTOP) so that the
/// requests are surely still waiting for their acknowledgements when the signal arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_drains_the_requests_in_flight_on_sigterm() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let b = env.bootstrap();
    let args = [
        "--topic",
        "drain",
        "--delivery-timeout",
        "120",
        "--value-format",
        "raw",
    ];
    let mut server = Server::start(&env, &args);
    let client = reqwest::Client::new();
    let json = "application/json";
    assert_eq!(
        post(&client, &server.url, json, r#"{"message": "warm"}"#.into())
            .await
            .0,
        200
    );

    let broker = crate::env::pid_of(&env, "kafka");
    let paused = Paused::new(broker);
    let in_flight: Vec<_> = (0..20)
        .map(|i| {
            let (client, url) = (client.clone(), server.url.clone());
            tokio::spawn(async move {
                let body = format!(r#"{{"message": "в полёте {i}"}}"#);
                post(&client, &url, "application/json", body).await.0
            })
        })
        .collect();
    // Let every request reach serve; one that had not would be refused below and fail.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        in_flight.iter().all(|t| !t.is_finished()),
        "no answer while the broker is paused"
    );
    sigterm(&server.child);
    let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while port_open(port) {
        assert!(
            Instant::now() < until,
            "serve still accepts connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "serve waits for its requests"
    );
    drop(paused);
    for task in in_flight {
        assert_eq!(
            task.await.unwrap(),
            200,
            "a request in flight was answered 200"
        );
    }
    let status = wait_exit(&mut server.child, Duration::from_secs(30));
    assert!(status.success(), "serve exits 0: {status}");
    let mut on_topic = kcat_consume_all(&b, "drain");
    on_topic.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("в полёте {i}")).collect();
    want.push("warm".into());
    want.sort();
    assert_eq!(
        on_topic, want,
        "every message answered 200 is on the topic, once"
    );
}
