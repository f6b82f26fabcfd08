//! Ctrl-C and SIGTERM as a request to stop cleanly: the first one resolves the future the
//! command waits on; a second one ends the process at once, for a stop that hangs.

use std::future::Future;
use tokio::signal::unix::{signal, SignalKind};

/// Exit code after a second signal: 128 + SIGINT, as shells report an interrupted command.
const FORCED_EXIT: i32 = 130;

/// Resolves on the first SIGINT or SIGTERM. The handlers are installed now, so a signal that
/// comes before the future is first polled is not lost (nor kills the process).
pub fn requested() -> impl Future<Output = ()> + Send + 'static {
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    async move {
        tokio::select! {
            Some(_) = recv(&mut term) => {}
            Some(_) = recv(&mut int) => {}
        }
        tracing::info!("stopping: finishing what is in flight (a second signal stops at once)");
        tokio::spawn(async move {
            tokio::select! {
                Some(_) = recv(&mut term) => {}
                Some(_) = recv(&mut int) => {}
            }
            std::process::exit(FORCED_EXIT);
        });
    }
}

async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}
