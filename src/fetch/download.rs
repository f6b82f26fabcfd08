//! Getting bytes from sources: HTTP(S) with retries and resume, or local `file://` paths.
//! Decisions (what a status means, how long to wait) live in `policy`; this file does the I/O.

use super::cache::CachedFile;
use super::policy::{self, RangeAnswer, Verdict};
use super::stream::{Digested, PassHash, Sink};
use crate::report::Reporter;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, RANGE};
use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;
use url::Url;

/// The most a checksum, signature or KEYS file may weigh.
const SMALL_FILE_LIMIT: usize = 8 * 1024 * 1024;
const FILE_CHUNK: usize = 256 * 1024;

/// Why one source could not deliver, after its tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFailure {
    pub url: Url,
    pub not_found: bool,
    /// The source never answered usefully: no connection, a timeout, a dropped connection or
    /// server errors on every try (as opposed to an answer such as 404 or 403).
    pub unreachable: bool,
    pub reason: String,
}

impl fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.url, self.reason)
    }
}

/// Every source said it does not have the file (as opposed to not answering).
pub fn all_not_found(failures: &[SourceFailure]) -> bool {
    failures.iter().all(|f| f.not_found)
}

/// No source answered at all (no connection, timeouts, server errors): the network or the
/// sites are down, which is different from a site that answered "no".
pub fn all_unreachable(failures: &[SourceFailure]) -> bool {
    !failures.is_empty() && failures.iter().all(|f| f.unreachable)
}

/// One failed try.
#[derive(Debug)]
struct TryFailed {
    verdict: Verdict,
    reason: String,
    /// The source had begun sending the file: it answers, however badly.
    mid_body: bool,
}

impl TryFailed {
    fn new(verdict: Verdict, reason: impl Into<String>) -> Self {
        TryFailed {
            verdict,
            reason: reason.into(),
            mid_body: false,
        }
    }

    /// The connection failed after the body had begun.
    fn mid_body(reason: impl Into<String>) -> Self {
        TryFailed {
            mid_body: true,
            ..TryFailed::new(Verdict::TryAgain, reason)
        }
    }
}

/// An answer whose body is being received.
struct Body {
    continues: RangeAnswer,
    total: Option<u64>,
    stream: BoxStream<'static, Result<Bytes, String>>,
}

#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
}

impl Transport {
    pub fn new() -> reqwest::Result<Transport> {
        // Every hop of a redirect obeys the same URL policy as the URL we were given.
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 10 {
                attempt.error("too many redirects")
            } else if let Err(refused) = policy::check_url(attempt.url()) {
                let reason = format!("redirected to {}: {refused}", attempt.url());
                attempt.error(reason)
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!("kafkup/", env!("CARGO_PKG_VERSION")))
            .redirect(redirects)
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Transport { client })
    }

    /// Fetch a small file from the first of `urls` that has it.
    pub async fn get_small(&self, urls: &[Url]) -> Result<(Url, Vec<u8>), Vec<SourceFailure>> {
        let mut failures = Vec::new();
        for url in urls {
            let mut tries = Tries::new(url);
            loop {
                match self.get_small_once(url).await {
                    Ok(content) => return Ok((url.clone(), content)),
                    Err(failed) => match tries.after(failed).await {
                        Ok(()) => continue,
                        Err(failure) => {
                            failures.push(failure);
                            break;
                        }
                    },
                }
            }
        }
        Err(failures)
    }

    /// Whether any of `urls` is there (HEAD, no body): `Some(false)` only when every one
    /// answered "not found", `None` when a source could not tell (network trouble).
    pub async fn any_exists(&self, urls: &[Url]) -> Option<bool> {
        let mut all_missing = true;
        for url in urls {
            let verdict = if url.scheme() == "file" {
                let path = url.to_file_path().ok()?;
                match std::fs::metadata(path) {
                    Ok(_) => return Some(true),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Verdict::NotThere,
                    Err(_) => Verdict::GiveUp,
                }
            } else {
                match self.client.head(url.clone()).send().await {
                    Ok(r) if r.status().is_success() => return Some(true),
                    Ok(r) => policy::verdict_for_status(r.status().as_u16()),
                    Err(e) => verdict_for(&e),
                }
            };
            all_missing &= verdict == Verdict::NotThere;
        }
        all_missing.then_some(false)
    }

    async fn get_small_once(&self, url: &Url) -> Result<Vec<u8>, TryFailed> {
        let mut body = self.open(url, 0).await?;
        let mut content = Vec::new();
        while let Some(chunk) = body.stream.next().await {
            let chunk = chunk.map_err(TryFailed::mid_body)?;
            if content.len() + chunk.len() > SMALL_FILE_LIMIT {
                return Err(TryFailed::new(
                    Verdict::GiveUp,
                    format!("larger than {SMALL_FILE_LIMIT} bytes"),
                ));
            }
            content.extend_from_slice(&chunk);
        }
        check_complete(content.len() as u64, body.total)?;
        Ok(content)
    }

    /// Download the tarball into `sink` from the first of `urls` that delivers it whole,
    /// resuming from what the sink already holds. Returns the URL that finished it.
    pub async fn download<H: PassHash>(
        &self,
        urls: &[Url],
        sink: &mut Sink<H>,
        name: &str,
        reporter: &dyn Reporter,
    ) -> Result<Url, DownloadFailed> {
        let mut failures = Vec::new();
        for url in urls {
            reporter.step(&format!("downloading {name} from {url}"));
            let mut tries = Tries::new(url);
            loop {
                let outcome = self.download_once(url, sink, name, reporter).await;
                reporter.download_finished(name);
                match outcome {
                    Ok(()) => return Ok(url.clone()),
                    Err(Interrupted::SinkGone) => return Err(DownloadFailed::Sink),
                    Err(Interrupted::Try(failed)) => match tries.after(failed).await {
                        Ok(()) => continue,
                        Err(failure) => {
                            failures.push(failure);
                            break;
                        }
                    },
                }
            }
        }
        Err(DownloadFailed::Sources(failures))
    }

    async fn download_once<H: PassHash>(
        &self,
        url: &Url,
        sink: &mut Sink<H>,
        name: &str,
        reporter: &dyn Reporter,
    ) -> Result<(), Interrupted> {
        let mut body = self.open(url, sink.len()).await?;
        if body.continues == RangeAnswer::Restart && !sink.is_empty() {
            tracing::info!("{url} sent the whole file instead of the rest: starting again from 0");
            sink.restart().await.map_err(|_| Interrupted::SinkGone)?;
        }
        reporter.download_started(name, body.total, sink.len());
        while let Some(chunk) = body.stream.next().await {
            let chunk = chunk.map_err(TryFailed::mid_body)?;
            let n = chunk.len() as u64;
            sink.write(chunk).await.map_err(|_| Interrupted::SinkGone)?;
            reporter.download_progress(name, n);
        }
        Ok(check_complete(sink.len(), body.total)?)
    }

    /// Start receiving `url` from byte `offset`.
    async fn open(&self, url: &Url, offset: u64) -> Result<Body, TryFailed> {
        if url.scheme() == "file" {
            return open_file(url, offset);
        }
        let mut request = self.client.get(url.clone());
        if offset > 0 {
            request = request.header(RANGE, format!("bytes={offset}-"));
        }
        let response = request
            .send()
            .await
            .map_err(|e| TryFailed::new(verdict_for(&e), describe(&e)))?;
        let status = response.status().as_u16();
        if status == 416 && offset > 0 {
            // Our partial file is no prefix of what the server has: fetch it all.
            return Box::pin(self.open(url, 0)).await;
        }
        if status != 200 && status != 206 {
            let reason = format!("HTTP {}", response.status());
            return Err(TryFailed::new(policy::verdict_for_status(status), reason));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_range = header(CONTENT_RANGE);
        let length = header(CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        let continues = policy::range_answer(offset, status, content_range.as_deref());
        let total = match continues {
            RangeAnswer::Continues => content_range
                .as_deref()
                .and_then(policy::content_range_total),
            RangeAnswer::Restart => length,
        };
        let stream = response
            .bytes_stream()
            .map(|r| r.map_err(|e| describe(&e)))
            .boxed();
        Ok(Body {
            continues,
            total,
            stream,
        })
    }
}

/// Why a download did not finish.
pub enum DownloadFailed {
    /// Every source failed.
    Sources(Vec<SourceFailure>),
    /// The sink thread stopped; its own error says why.
    Sink,
}

/// How a download into a cached file ended, once its sink finished.
pub enum Settled<T, H> {
    /// Every byte arrived: what the download said, and the digest of the bytes.
    Done(T, Digested<H>),
    /// Writing the file failed; the partial download is gone.
    Unwritable(std::io::Error),
    /// Every source failed. What arrived is kept for the next run to resume (`partial`, with
    /// its length), if anything did.
    Failed {
        failures: Vec<SourceFailure>,
        partial: Option<(std::path::PathBuf, u64)>,
    },
}

/// Sorts out a download's end (`downloaded`, and the sink's `digested`) for `slot`.
pub fn settle<T, H>(
    downloaded: Result<T, DownloadFailed>,
    digested: std::io::Result<Digested<H>>,
    slot: &CachedFile,
) -> Settled<T, H> {
    match (downloaded, digested) {
        (_, Err(source)) => {
            slot.discard_partial();
            Settled::Unwritable(source)
        }
        (Err(DownloadFailed::Sink), Ok(_)) => {
            unreachable!("the sink thread stopped without an error")
        }
        (Err(DownloadFailed::Sources(failures)), Ok(digested)) => {
            // A network failure: keep what arrived, the next run resumes it.
            let partial = (digested.len > 0).then(|| (slot.partial.clone(), digested.len));
            if partial.is_none() {
                slot.discard_partial();
            }
            Settled::Failed { failures, partial }
        }
        (Ok(said), Ok(digested)) => Settled::Done(said, digested),
    }
}

enum Interrupted {
    Try(TryFailed),
    SinkGone,
}

impl From<TryFailed> for Interrupted {
    fn from(failed: TryFailed) -> Self {
        Interrupted::Try(failed)
    }
}

/// Counts the tries of one source and pauses between them.
struct Tries<'a> {
    url: &'a Url,
    done: u32,
    /// Some try got as far as a body.
    answered: bool,
}

impl<'a> Tries<'a> {
    fn new(url: &'a Url) -> Self {
        Tries {
            url,
            done: 1,
            answered: false,
        }
    }

    /// After a failed try: `Ok` to try again (after a pause), or the source's final failure.
    async fn after(&mut self, failed: TryFailed) -> Result<(), SourceFailure> {
        self.done += 1;
        self.answered |= failed.mid_body;
        let pause = match failed.verdict {
            Verdict::TryAgain => policy::backoff_before(self.done),
            Verdict::NotThere | Verdict::GiveUp => None,
        };
        match pause {
            Some(pause) => {
                // A detail (-v): the failure that ends the tries is what the user is told.
                tracing::info!("{}: {}; trying again", self.url, failed.reason);
                tokio::time::sleep(pause).await;
                Ok(())
            }
            None => Err(SourceFailure {
                url: self.url.clone(),
                not_found: failed.verdict == Verdict::NotThere,
                unreachable: failed.verdict == Verdict::TryAgain && !self.answered,
                reason: failed.reason,
            }),
        }
    }
}

fn check_complete(received: u64, total: Option<u64>) -> Result<(), TryFailed> {
    match total {
        Some(total) if received < total => Err(TryFailed::mid_body(format!(
            "the connection closed after {received} of {total} bytes"
        ))),
        _ => Ok(()),
    }
}

fn verdict_for(e: &reqwest::Error) -> Verdict {
    if e.is_redirect() || e.is_builder() {
        Verdict::GiveUp
    } else {
        Verdict::TryAgain
    }
}

/// An error with its causes, which is where reqwest keeps the useful part.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A local file as a body: reads happen on the blocking pool, chunk by chunk.
fn open_file(url: &Url, offset: u64) -> Result<Body, TryFailed> {
    let path = url
        .to_file_path()
        .map_err(|_| TryFailed::new(Verdict::GiveUp, "not a local file path"))?;
    let mut file = std::fs::File::open(&path).map_err(|e| {
        let verdict = if e.kind() == std::io::ErrorKind::NotFound {
            Verdict::NotThere
        } else {
            Verdict::GiveUp
        };
        TryFailed::new(verdict, e.to_string())
    })?;
    let len = file
        .metadata()
        .map_err(|e| TryFailed::new(Verdict::GiveUp, e.to_string()))?
        .len();
    let (start, continues) = if offset > 0 && offset <= len {
        (offset, RangeAnswer::Continues)
    } else {
        (0, RangeAnswer::Restart)
    };
    file.seek(SeekFrom::Start(start))
        .map_err(|e| TryFailed::new(Verdict::GiveUp, e.to_string()))?;
    let total = Some(len);
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0; FILE_CHUNK];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e.to_string()), None)),
            Err(e) => Some((Err(e.to_string()), None)),
        }
    })
    .boxed();
    Ok(Body {
        continues,
        total,
        stream,
    })
}
