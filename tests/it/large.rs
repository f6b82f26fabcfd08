//! Large messages through `serve` and `produce` against a real broker: what fits the
//! broker's limit (Kafka's default `message.max.bytes`, 1 048 588 bytes a record batch) is
//! sent, what does not is refused before it is sent, naming `--chunk-size`; and `serve`
//! answers every error in JSON, malformed and stalled requests included.

use crate::env::{echo, TestEnv};
use crate::messaging::{post, Server};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// One raw HTTP exchange: sends `request`, reads until the server closes the connection.
fn raw_http(url: &str, request: &[u8]) -> (String, Value, Duration) {
    let addr = url.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .expect("the server answers and closes the connection");
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: a JSON body: {answer}"));
    (head.to_string(), body, started.elapsed())
}

fn produce_line(env: &TestEnv, topic: &str, line: &[u8]) -> std::process::Output {
    let mut child = env
        .command(&["produce", topic])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(line).unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    echo(
        &["produce", topic, "<large line>"],
        child.wait_with_output().unwrap(),
    )
}

/// The length of each message on `topic`, read back by kafkup.
fn lengths_on(env: &TestEnv, topic: &str, n: usize) -> Vec<usize> {
    let max = n.to_string();
    let out = env
        .kafkup(&["consume", topic, "--from-beginning", "--max-messages", &max])
        .args(["--timeout", "20", "--reassemble"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
        .split(|&b| b == b'\n')
        .map(<[u8]>::len)
        .filter(|&l| l > 0)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_up_to_the_brokers_limit_are_sent_and_larger_ones_refused_naming_chunk_size() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let client = reqwest::Client::new();
    let json_type = "application/json";
    let server = Server::start(&env, &["--topic", "big"]);

    // Under the default --max-body (1 MiB) and under the broker's limit: sent, whole.
    let body = json!({ "message": "x".repeat(1_040_000) }).to_string();
    let (status, answer) = post(&client, &server.url, json_type, body).await;
    assert_eq!(status, 200, "{answer}");
    // Under --max-body, but one record of it is over the broker's limit: 413 before sending.
    let body = json!({ "message": "y".repeat(1_048_500) }).to_string();
    assert!(body.len() < 1024 * 1024);
    let (status, answer) = post(&client, &server.url, json_type, body).await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["help"].as_str().unwrap().contains("--chunk-size"),
        "{answer}"
    );
    assert_eq!(
        lengths_on(&env, "big", 1),
        [1_040_002],
        "the JSON string, quotes and all"
    );

    // produce: the same line length is sent; a 1.5 MB line is refused at once, naming
    // --chunk-size (not --delivery-timeout), and sent with it.
    let out = produce_line(&env, "lines", &vec![b'a'; 1_040_000]);
    assert!(out.status.success());
    let started = Instant::now();
    let out = produce_line(&env, "lines", &vec![b'b'; 1_500_000]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("--chunk-size") && !said.contains("--delivery-timeout"),
        "{said}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused before any wait"
    );
    let out = env
        .kafkup(&["produce", "lines", "--chunk-size", "100000"])
        .write_stdin([vec![b'c'; 1_500_000], b"\n".to_vec()].concat())
        .output()
        .unwrap();
    assert!(echo(&["produce", "--chunk-size"], out).status.success());
    assert_eq!(lengths_on(&env, "lines", 2), [1_040_000, 1_500_000]);

    // Every error is JSON: a method the endpoint does not take…
    let answer = client
        .get(format!("{}/send_message", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 405);
    let answer: Value = answer.json().await.expect("a JSON body");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("POST /send_message"),
        "{answer}"
    );
    // …a request hyper cannot parse…
    let bad_length = b"POST /send_message HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}";
    let (head, answer, _) = raw_http(&server.url, bad_length);
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(
        answer["error"].as_str().unwrap().contains("Content-Length"),
        "{answer}"
    );
    // …and a body that stalls, dropped after the read timeout (10 s).
    let stalled = b"POST /send_message HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"message\"";
    let (head, answer, waited) = raw_http(&server.url, stalled);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(
        answer["error"].as_str().unwrap().contains("stalled"),
        "{answer}"
    );
    assert!(waited < Duration::from_secs(20), "dropped after {waited:?}");
    // Still serving.
    let body = json!({ "message": "after" }).to_string();
    assert_eq!(post(&client, &server.url, json_type, body).await.0, 200);
}
