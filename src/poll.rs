//! Polling until something is so, inside one deadline: the one loop every wait shares
//! (readiness probes, a topic's leaders, a process gone, a topic to appear).

use std::future::Future;
use std::time::Duration;

/// What one attempt found.
#[derive(Debug)]
pub enum Attempt<T, E> {
    Ready(T),
    /// Not yet; try again (the reason is kept for when time runs out).
    NotYet(E),
    /// Never will be: stop now.
    Failed(E),
}

/// Why a poll ended without a result.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop<E> {
    /// An attempt failed; `last` is what the attempt before it said, if any.
    Failed { failure: E, last: Option<E> },
    /// The deadline passed; the last reason, if an attempt gave one.
    TimedOut(Option<E>),
}

/// Tries `attempt` every `interval` until it is ready or failed, or until `deadline` (an
/// attempt always runs at least once, and the last one at the deadline).
pub async fn until<T, E, F, Fut>(
    deadline: tokio::time::Instant,
    interval: Duration,
    mut attempt: F,
) -> Result<T, Stop<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T, E>>,
{
    let mut last = None;
    loop {
        match attempt().await {
            Attempt::Ready(value) => return Ok(value),
            Attempt::Failed(failure) => return Err(Stop::Failed { failure, last }),
            Attempt::NotYet(e) => last = Some(e),
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Stop::TimedOut(last));
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
    }
}

/// [`until`] for a thread that may block (librdkafka's clients, no runtime).
pub fn until_blocking<T, E>(
    deadline: std::time::Instant,
    interval: Duration,
    mut attempt: impl FnMut() -> Attempt<T, E>,
) -> Result<T, Stop<E>> {
    let mut last = None;
    loop {
        match attempt() {
            Attempt::Ready(value) => return Ok(value),
            Attempt::Failed(failure) => return Err(Stop::Failed { failure, last }),
            Attempt::NotYet(e) => last = Some(e),
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            return Err(Stop::TimedOut(last));
        }
        std::thread::sleep(interval.min(deadline - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn polls_until_ready_and_keeps_the_last_reason_on_timeout() {
        let mut n = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let got = until(deadline, Duration::from_millis(1), || {
            n += 1;
            let k = n;
            async move {
                match k {
                    3 => Attempt::Ready(k),
                    _ => Attempt::NotYet("no"),
                }
            }
        })
        .await;
        assert_eq!(got, Ok(3));
        let soon = tokio::time::Instant::now() + Duration::from_millis(30);
        let got: Result<(), _> = until(soon, Duration::from_millis(10), || async {
            Attempt::NotYet("still no")
        })
        .await;
        assert_eq!(got, Err(Stop::TimedOut(Some("still no"))));
    }

    #[test]
    fn a_failed_attempt_stops_at_once() {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let started = std::time::Instant::now();
        let got: Result<(), _> =
            until_blocking(deadline, Duration::from_secs(1), || Attempt::Failed("dead"));
        assert_eq!(
            got,
            Err(Stop::Failed {
                failure: "dead",
                last: None
            })
        );
        assert!(started.elapsed() < Duration::from_millis(500));
    }
}
