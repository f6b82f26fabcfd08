//! The connections under `serve`'s HTTP server. hyper answers a request it cannot parse
//! (a bad `Content-Length`, a header line too long) itself, with an empty body, before the
//! router ever sees it; here that answer gets a JSON body like every other error of `serve`.

use serde_json::json;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections are [`JsonErrors`].
pub struct Listener(pub TcpListener);

impl axum::serve::Listener for Listener {
    type Io = JsonErrors<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        let io = JsonErrors {
            inner: io,
            pending: Vec::new(),
        };
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection that rewrites hyper's own error answers (see the module doc); every other
/// byte passes as it is.
pub struct JsonErrors<S> {
    inner: S,
    /// A rewritten answer not yet written.
    pending: Vec<u8>,
}

impl<S: AsyncWrite + Unpin> JsonErrors<S> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrors<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrors<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        match with_json_body(buf) {
            Some(answer) => {
                this.pending = answer;
                // Written here or by the flush that follows.
                if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// hyper's automatic answer — a 4xx status line, `content-length: 0` and nothing after the
/// head (every answer of kafkup's own has a body) — with a JSON body instead; None for any
/// other write.
fn with_json_body(written: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(written)
        .ok()?
        .strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut words = status_line.splitn(3, ' ');
    let (version, status) = (words.next()?, words.next()?);
    if !version.starts_with("HTTP/1.") || !status.starts_with('4') {
        return None;
    }
    let headers: Vec<&str> = lines.collect();
    let named = |h: &str, name: &str| h.to_ascii_lowercase().starts_with(name);
    let is_length = |h: &&str| named(h, "content-length:");
    let empty = headers
        .iter()
        .any(|h| is_length(h) && h.split(':').nth(1).map(str::trim) == Some("0"));
    if !empty {
        return None;
    }
    let reason = words.next().unwrap_or("Bad Request");
    let body = json!({
        "error": format!(
            "the request is not valid HTTP ({status} {reason}): check its request line and headers, such as Content-Length"
        ),
    })
    .to_string();
    let mut answer = format!("{status_line}\r\n");
    // hyper says `connection: close` itself (it closes after this answer): said once, below.
    for h in headers
        .iter()
        .filter(|h| !is_length(h) && !named(h, "connection:"))
    {
        answer.push_str(h);
        answer.push_str("\r\n");
    }
    answer.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    Some(answer.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_empty_error_answers_get_a_json_body() {
        let hyper =
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let answer = String::from_utf8(with_json_body(hyper).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains("date: x"), "{head}");
        assert_eq!(head.matches("connection: close").count(), 1, "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(body["error"].as_str().unwrap().contains("Content-Length"));

        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n{\"error\":1}";
        assert_eq!(with_json_body(ours), None);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(with_json_body(ok), None);
        assert_eq!(with_json_body(b"{\"a\": 1}"), None);
    }
}
