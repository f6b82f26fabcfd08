//! Pure decisions about sources: which URLs may be used, and what to do after a failed request.

use std::net::IpAddr;
use std::time::Duration;
use url::{Host, Url};

/// How many times one source is tried before moving on to the next.
pub const TRIES_PER_SOURCE: u32 = 3;

/// Why a URL may not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("plain http:// is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost)")]
    PlainHttpNotLoopback,
    #[error("the scheme {0:?} is not supported (use https://, file:// or http:// on loopback)")]
    UnsupportedScheme(String),
}

/// `https://` anywhere, `file://` always, `http://` only on this machine: bytes that cross a
/// network in clear text could be swapped, and the signature check may be turned off.
pub fn check_url(url: &Url) -> Result<(), UrlRefused> {
    match url.scheme() {
        "https" | "file" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(UrlRefused::PlainHttpNotLoopback),
        other => Err(UrlRefused::UnsupportedScheme(other.to_string())),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// What a failed request means for the source it was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The source does not have the file: go on to the next source at once.
    NotThere,
    /// The source may answer next time (5xx, dropped or timed-out connection): retry.
    TryAgain,
    /// Retrying will not help (e.g. 403): go on to the next source.
    GiveUp,
}

/// The verdict for an HTTP status that is not a success.
pub fn verdict_for_status(status: u16) -> Verdict {
    match status {
        404 | 410 => Verdict::NotThere,
        408 | 429 | 500..=599 => Verdict::TryAgain,
        _ => Verdict::GiveUp,
    }
}

/// The pause before try number `next_try` (1-based) of the same source, or `None` when the
/// source has had its tries. Short on purpose: a user is waiting, and other sources exist.
pub fn backoff_before(next_try: u32) -> Option<Duration> {
    match next_try {
        0 | 1 => Some(Duration::ZERO),
        n if n <= TRIES_PER_SOURCE => Some(Duration::from_millis(200 * 4u64.pow(n - 2))),
        _ => None,
    }
}

/// How a server answered a request that asked for bytes from `offset` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// The body continues the partial file.
    Continues,
    /// The body is the whole file: start again from zero.
    Restart,
}

/// Decide from the status and `Content-Range` whether a body continues our partial file.
/// A server that ignores Range answers 200 with the whole file; one that answers 206 for a
/// different start than we asked would corrupt the file, so that too restarts.
pub fn range_answer(offset: u64, status: u16, content_range: Option<&str>) -> RangeAnswer {
    if offset == 0 || status != 206 {
        return RangeAnswer::Restart;
    }
    match content_range.and_then(content_range_start) {
        Some(start) if start == offset => RangeAnswer::Continues,
        _ => RangeAnswer::Restart,
    }
}

/// The first byte position of `bytes START-END/TOTAL`.
fn content_range_start(value: &str) -> Option<u64> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (start, _) = rest.split_once('-')?;
    start.trim().parse().ok()
}

/// The full size of the file from `bytes START-END/TOTAL`, when the server knows it.
pub fn content_range_total(value: &str) -> Option<u64> {
    value.rsplit_once('/')?.1.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn https_and_file_are_always_allowed() {
        assert_eq!(check_url(&url("https://dlcdn.apache.org")), Ok(()));
        assert_eq!(check_url(&url("file:///srv/mirror")), Ok(()));
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "http://127.0.0.1:8080/",
            "http://127.1.2.3/",
            "http://[::1]:80/",
            "http://LOCALHOST/x",
        ] {
            assert_eq!(check_url(&url(ok)), Ok(()), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/",
            "http://example.org/",
            "http://localhost.example.org/",
            "http://[::2]/",
        ] {
            assert_eq!(
                check_url(&url(bad)),
                Err(UrlRefused::PlainHttpNotLoopback),
                "{bad}"
            );
        }
        assert!(matches!(
            check_url(&url("ftp://x/")),
            Err(UrlRefused::UnsupportedScheme(_))
        ));
    }

    #[test]
    fn not_found_moves_on_server_errors_retry() {
        assert_eq!(verdict_for_status(404), Verdict::NotThere);
        assert_eq!(verdict_for_status(500), Verdict::TryAgain);
        assert_eq!(verdict_for_status(503), Verdict::TryAgain);
        assert_eq!(verdict_for_status(429), Verdict::TryAgain);
        assert_eq!(verdict_for_status(403), Verdict::GiveUp);
    }

    #[test]
    fn backoff_is_short_and_bounded() {
        assert_eq!(backoff_before(1), Some(Duration::ZERO));
        assert_eq!(backoff_before(2), Some(Duration::from_millis(200)));
        assert_eq!(backoff_before(3), Some(Duration::from_millis(800)));
        assert_eq!(backoff_before(4), None);
    }

    #[test]
    fn range_answers() {
        assert_eq!(
            range_answer(100, 206, Some("bytes 100-199/200")),
            RangeAnswer::Continues
        );
        assert_eq!(
            range_answer(100, 206, Some("bytes 0-199/200")),
            RangeAnswer::Restart
        );
        assert_eq!(range_answer(100, 206, None), RangeAnswer::Restart);
        assert_eq!(range_answer(100, 200, None), RangeAnswer::Restart);
        assert_eq!(range_answer(0, 200, None), RangeAnswer::Restart);
        assert_eq!(content_range_total("bytes 100-199/200"), Some(200));
        assert_eq!(content_range_total("bytes 100-199/*"), None);
    }
}
