//! `MirrorServer`: an HTTP/1.1 file server on 127.0.0.1 for tests (axum on hyper), serving a
//! directory laid out like an ASF mirror, with switches for the ways real servers misbehave and
//! a log of every request.
//!
//! ```ignore
//! let mirror = MirrorServer::serve(dir).fail_first(2).ignore_range();
//! run_kafkup(&["--mirror", &mirror.url()]);
//! assert!(mirror.requests().iter().all(|r| r.range.is_none()));
//! ```

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Request as HttpRequest, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// How the server misbehaves. Change it between runs with [`MirrorServer::set`].
#[derive(Debug, Clone, Default)]
pub struct Switches {
    /// Answer 404 to every request.
    pub not_found: bool,
    /// Answer 500 to this many of the next requests.
    pub fail_first: u32,
    /// Close the connection after sending this many body bytes (files larger than that only)…
    pub drop_after: Option<u64>,
    /// …this many times.
    pub drop_times: u32,
    /// Answer every Range request with 200 and the whole file.
    pub ignore_range: bool,
    /// Answer requests whose path ends with the suffix with the status (and an empty body).
    pub status_for: Vec<(String, u16)>,
    /// Answer requests whose path ends with the suffix with this file's bytes instead.
    pub serve_instead: Vec<(String, PathBuf)>,
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub status: u16,
    /// The connection was cut short on purpose (see [`Switches::drop_after`]).
    pub dropped: bool,
}

struct Shared {
    dir: PathBuf,
    switches: Mutex<Switches>,
    log: Mutex<Vec<Request>>,
}

pub struct MirrorServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MirrorServer {
    /// Serve `dir` on a free test port of 127.0.0.1 until dropped; listening on return.
    pub fn serve(dir: impl Into<PathBuf>) -> MirrorServer {
        let port = crate::env::free_port();
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind a test port");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            dir: dir.into(),
            switches: Mutex::new(Switches::default()),
            log: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(shared.clone());
        // Its own runtime on its own thread: sync tests and tokio tests can both use it.
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    served = axum::serve(listener, app) => served.unwrap(),
                    _ = stopped => {}
                }
            });
            // Connections still open are dropped with the runtime.
            runtime.shutdown_background();
        });
        MirrorServer {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash), the base URL to pass as a mirror or dist.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The requests whose path ends with `suffix`.
    pub fn requests_for(&self, suffix: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }

    pub fn clear_log(&self) {
        self.shared.log.lock().unwrap().clear();
    }

    /// Change the switches (e.g. between two runs).
    pub fn set(&self, change: impl FnOnce(&mut Switches)) {
        change(&mut self.shared.switches.lock().unwrap());
    }

    pub fn not_found(self) -> Self {
        self.set(|s| s.not_found = true);
        self
    }

    pub fn fail_first(self, requests: u32) -> Self {
        self.set(|s| s.fail_first = requests);
        self
    }

    pub fn drop_after(self, bytes: u64, times: u32) -> Self {
        self.set(|s| {
            s.drop_after = Some(bytes);
            s.drop_times = times;
        });
        self
    }

    pub fn ignore_range(self) -> Self {
        self.set(|s| s.ignore_range = true);
        self
    }

    pub fn status_for(self, suffix: &str, status: u16) -> Self {
        self.set(|s| s.status_for.push((suffix.to_string(), status)));
        self
    }

    /// Serve `file` for every path that ends with `suffix` (a tampered jar, another signature).
    pub fn serve_instead(self, suffix: &str, file: impl Into<PathBuf>) -> Self {
        self.set(|s| s.serve_instead.push((suffix.to_string(), file.into())));
        self
    }
}

impl Drop for MirrorServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What to send back, decided before any byte goes out.
enum Answer {
    Status(u16),
    File {
        path: PathBuf,
        start: u64,
        len: u64,
        total: u64,
        partial: bool,
        drop_after: Option<u64>,
    },
    RangeNotSatisfiable(u64),
}

impl Answer {
    fn summary(&self) -> (u16, bool) {
        match self {
            Answer::Status(status) => (*status, false),
            Answer::RangeNotSatisfiable(_) => (416, false),
            Answer::File {
                partial,
                drop_after,
                ..
            } => (if *partial { 206 } else { 200 }, drop_after.is_some()),
        }
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: HttpRequest) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let decided = decide(&shared, &method, &path, range.as_deref());
    // Logged before answering, so the log is complete once the client has its answer.
    let (status, dropped) = decided.summary();
    shared.log.lock().unwrap().push(Request {
        method: method.to_string(),
        path,
        range,
        status,
        dropped,
    });
    respond(decided).await
}

fn decide(shared: &Shared, method: &Method, path: &str, range: Option<&str>) -> Answer {
    let mut switches = shared.switches.lock().unwrap();
    if method != Method::GET && method != Method::HEAD {
        return Answer::Status(405);
    }
    if switches.not_found {
        return Answer::Status(404);
    }
    if switches.fail_first > 0 {
        switches.fail_first -= 1;
        return Answer::Status(500);
    }
    if let Some((_, status)) = switches
        .status_for
        .iter()
        .find(|(suffix, _)| path.ends_with(suffix.as_str()))
    {
        return Answer::Status(*status);
    }
    let substitute = switches
        .serve_instead
        .iter()
        .find(|(suffix, _)| path.ends_with(suffix.as_str()))
        .map(|(_, file)| file.clone());
    let Some(file) = substitute
        .or_else(|| local_path(&shared.dir, path))
        .filter(|p| p.is_file())
    else {
        return Answer::Status(404);
    };
    let total = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let start = match range
        .filter(|_| !switches.ignore_range)
        .map(parse_range_start)
    {
        Some(Some(start)) if start >= total => return Answer::RangeNotSatisfiable(total),
        Some(Some(start)) => Some(start),
        _ => None,
    };
    let len = total - start.unwrap_or(0);
    let drop_after = match switches.drop_after {
        Some(limit) if switches.drop_times > 0 && len > limit => {
            switches.drop_times -= 1;
            Some(limit)
        }
        _ => None,
    };
    Answer::File {
        path: file,
        start: start.unwrap_or(0),
        len,
        total,
        partial: start.is_some(),
        drop_after,
    }
}

/// `bytes=N-` (the only form kafkup sends).
fn parse_range_start(value: &str) -> Option<u64> {
    value
        .strip_prefix("bytes=")?
        .strip_suffix('-')?
        .parse()
        .ok()
}

/// The file below `dir` for a URL path, refusing anything but plain names.
fn local_path(dir: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = Path::new(url_path.trim_start_matches('/'));
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| dir.join(relative))
}

fn empty(status: u16, headers: HeaderMap) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    *response.headers_mut() = headers;
    response
}

async fn respond(answer: Answer) -> Response {
    let (path, start, len, total, partial, drop_after) = match answer {
        Answer::Status(status) => return empty(status, HeaderMap::new()),
        Answer::RangeNotSatisfiable(total) => {
            let mut headers = HeaderMap::new();
            let range = HeaderValue::from_str(&format!("bytes */{total}")).unwrap();
            headers.insert(header::CONTENT_RANGE, range);
            return empty(416, headers);
        }
        Answer::File {
            path,
            start,
            len,
            total,
            partial,
            drop_after,
        } => (path, start, len, total, partial, drop_after),
    };
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(_) => return empty(404, HeaderMap::new()),
    };
    file.seek(std::io::SeekFrom::Start(start)).await.unwrap();
    // The whole length is announced; a dropped answer sends less and then fails the body,
    // which makes hyper close the connection mid-body, as a real cut does. The pause before
    // the failure lets hyper flush what was sent (it writes what it buffered when the body
    // has nothing ready; a failing body drops the rest).
    let sent = tokio_util::io::ReaderStream::new(file.take(drop_after.unwrap_or(len)));
    let cut = futures_util::stream::iter(drop_after).then(|_| async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        Err::<Bytes, std::io::Error>(std::io::Error::other("dropped on purpose"))
    });
    let mut response = Response::new(Body::from_stream(sent.chain(cut)));
    *response.status_mut() = if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let headers = response.headers_mut();
    let value = |text: String| HeaderValue::from_str(&text).unwrap();
    headers.insert(header::CONTENT_LENGTH, value(len.to_string()));
    headers.insert(
        header::CONTENT_TYPE,
        value("application/octet-stream".into()),
    );
    headers.insert(header::ACCEPT_RANGES, value("bytes".into()));
    if partial {
        let range = format!("bytes {start}-{}/{total}", total - 1);
        headers.insert(header::CONTENT_RANGE, value(range));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A raw HTTP/1.1 GET (one request, then the server's answer until it closes or a
    /// 5 s read timeout): the head and the body bytes that arrived.
    fn get(url: &str, path: &str, range: Option<&str>) -> (String, Vec<u8>) {
        let addr = url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let range = range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{range}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (
            String::from_utf8_lossy(&response[..split]).to_lowercase(),
            response[split + 4..].to_vec(),
        )
    }

    #[test]
    fn serves_files_ranges_and_switches() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("kafka/1.0")).unwrap();
        std::fs::write(dir.path().join("kafka/1.0/f.tgz"), b"0123456789").unwrap();
        let mirror = MirrorServer::serve(dir.path());
        let port = mirror
            .url()
            .rsplit(':')
            .next()
            .unwrap()
            .parse::<u16>()
            .unwrap();
        assert!((20000..32000).contains(&port), "a test port: {port}");

        let (head, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", None);
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(body, b"0123456789");

        let (head, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", Some("bytes=4-"));
        assert!(
            head.starts_with("http/1.1 206") && head.contains("content-range: bytes 4-9/10"),
            "{head}"
        );
        assert_eq!(body, b"456789");

        let (head, _) = get(&mirror.url(), "/kafka/1.0/f.tgz", Some("bytes=10-"));
        assert!(head.starts_with("http/1.1 416"), "{head}");
        let (head, _) = get(&mirror.url(), "/kafka/../etc/passwd", None);
        assert!(head.starts_with("http/1.1 404"), "{head}");

        mirror.set(|s| s.ignore_range = true);
        let (head, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", Some("bytes=4-"));
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(body, b"0123456789");

        mirror.set(|s| {
            s.drop_after = Some(3);
            s.drop_times = 1;
        });
        let (head, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", None);
        assert!(head.contains("content-length: 10"), "{head}");
        assert_eq!(body, b"012", "cut after 3 of the 10 bytes announced");
        let (_, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", None);
        assert_eq!(body, b"0123456789");

        mirror.set(|s| s.fail_first = 1);
        assert!(get(&mirror.url(), "/kafka/1.0/f.tgz", None)
            .0
            .starts_with("http/1.1 500"));
        assert!(get(&mirror.url(), "/kafka/1.0/f.tgz", None)
            .0
            .starts_with("http/1.1 200"));
        mirror.set(|s| s.status_for.push(("f.tgz".into(), 503)));
        assert!(get(&mirror.url(), "/kafka/1.0/f.tgz", None)
            .0
            .starts_with("http/1.1 503"));
        mirror.set(|s| s.not_found = true);
        assert!(get(&mirror.url(), "/kafka/1.0/f.tgz", None)
            .0
            .starts_with("http/1.1 404"));

        let log = mirror.requests();
        assert_eq!(log.len(), 11);
        assert_eq!(log[1].range.as_deref(), Some("bytes=4-"));
        assert!(log[5].dropped);
        assert_eq!(log[9].status, 503);
    }
}
