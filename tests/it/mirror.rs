//! `MirrorServer`: a small HTTP/1.1 file server on 127.0.0.1 for tests, serving a directory
//! laid out like an ASF mirror, with switches for the ways real servers misbehave and a log of
//! every request.
//!
//! ```ignore
//! let mirror = MirrorServer::serve(dir).fail_first(2).ignore_range();
//! run_kafkup(&["--mirror", &mirror.url()]);
//! assert!(mirror.requests().iter().all(|r| r.range.is_none()));
//! ```

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

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
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MirrorServer {
    /// Serve `dir` on a free port of 127.0.0.1 until dropped.
    pub fn serve(dir: impl Into<PathBuf>) -> MirrorServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            dir: dir.into(),
            switches: Mutex::new(Switches::default()),
            log: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = shared.clone();
                    std::thread::spawn(move || {
                        let _ = handle(stream, &shared);
                    });
                }
            })
        };
        MirrorServer {
            addr,
            shared,
            stop,
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
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
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

fn handle(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }
    let path = target.split('?').next().unwrap_or_default().to_string();
    let answer = decide(shared, &method, &path, range.as_deref());
    // Logged before answering, so the log is complete once the client has its answer.
    let (status, dropped) = answer.summary();
    shared.log.lock().unwrap().push(Request {
        method: method.clone(),
        path,
        range,
        status,
        dropped,
    });
    send(&mut stream, &method, answer)
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

fn decide(shared: &Shared, method: &str, path: &str, range: Option<&str>) -> Answer {
    let mut switches = shared.switches.lock().unwrap();
    if method != "GET" && method != "HEAD" {
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

fn send(stream: &mut TcpStream, method: &str, answer: Answer) -> std::io::Result<()> {
    match answer {
        Answer::Status(status) => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                reason(status)
            );
            stream.write_all(head.as_bytes())
        }
        Answer::RangeNotSatisfiable(total) => {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes())
        }
        Answer::File {
            path,
            start,
            len,
            total,
            partial,
            drop_after,
        } => {
            let status = if partial { 206 } else { 200 };
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n",
                reason(status)
            );
            if partial {
                head.push_str(&format!(
                    "Content-Range: bytes {start}-{}/{total}\r\n",
                    total - 1
                ));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes())?;
            if method == "HEAD" {
                return Ok(());
            }
            let mut file = std::fs::File::open(path)?;
            file.seek(SeekFrom::Start(start))?;
            let limit = drop_after.unwrap_or(len);
            std::io::copy(&mut file.take(limit), stream)?;
            if drop_after.is_some() {
                stream.flush()?;
                let _ = stream.shutdown(Shutdown::Both);
            }
            Ok(())
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str, path: &str, range: Option<&str>) -> (String, Vec<u8>) {
        let addr = url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        let range = range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{range}\r\n").unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (
            String::from_utf8_lossy(&response[..split]).into_owned(),
            response[split + 4..].to_vec(),
        )
    }

    #[test]
    fn serves_files_ranges_and_switches() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("kafka/1.0")).unwrap();
        std::fs::write(dir.path().join("kafka/1.0/f.tgz"), b"0123456789").unwrap();
        let mirror = MirrorServer::serve(dir.path());

        let (head, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", None);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, b"0123456789");

        let (head, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", Some("bytes=4-"));
        assert!(
            head.starts_with("HTTP/1.1 206") && head.contains("Content-Range: bytes 4-9/10"),
            "{head}"
        );
        assert_eq!(body, b"456789");

        let (head, _) = get(&mirror.url(), "/kafka/1.0/f.tgz", Some("bytes=10-"));
        assert!(head.starts_with("HTTP/1.1 416"), "{head}");
        let (head, _) = get(&mirror.url(), "/kafka/../etc/passwd", None);
        assert!(head.starts_with("HTTP/1.1 404"), "{head}");

        mirror.set(|s| s.ignore_range = true);
        let (head, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", Some("bytes=4-"));
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, b"0123456789");

        mirror.set(|s| {
            s.drop_after = Some(3);
            s.drop_times = 1;
        });
        let (_, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", None);
        assert_eq!(body, b"012");
        let (_, body) = get(&mirror.url(), "/kafka/1.0/f.tgz", None);
        assert_eq!(body, b"0123456789");

        mirror.set(|s| s.fail_first = 1);
        assert!(get(&mirror.url(), "/kafka/1.0/f.tgz", None)
            .0
            .starts_with("HTTP/1.1 500"));
        assert!(get(&mirror.url(), "/kafka/1.0/f.tgz", None)
            .0
            .starts_with("HTTP/1.1 200"));

        let log = mirror.requests();
        assert_eq!(log.len(), 9);
        assert_eq!(log[1].range.as_deref(), Some("bytes=4-"));
        assert!(log[5].dropped);
    }
}
