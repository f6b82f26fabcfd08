//! The library reports what it does through this trait; the binary decides how to draw it
//! (progress bars on a terminal, plain lines otherwise, nothing with `--quiet`).

pub trait Reporter: Send + Sync {
    /// A step of a longer job: "verifying signature of kafka_2.13-3.9.2.tgz".
    fn step(&self, message: &str);
    /// Something the user should notice but that does not stop the job.
    fn warn(&self, message: &str);
    /// A download begins; `total` is the full size when known, `already` the bytes resumed.
    fn download_started(&self, name: &str, total: Option<u64>, already: u64);
    /// `bytes` more bytes of `name` arrived.
    fn download_progress(&self, name: &str, bytes: u64);
    /// The download of `name` ended (successfully or not).
    fn download_finished(&self, name: &str);
}

/// Reports nothing: for tests and library callers that do not care.
pub struct Silent;

impl Reporter for Silent {
    fn step(&self, _: &str) {}
    fn warn(&self, _: &str) {}
    fn download_started(&self, _: &str, _: Option<u64>, _: u64) {}
    fn download_progress(&self, _: &str, _: u64) {}
    fn download_finished(&self, _: &str) {}
}
