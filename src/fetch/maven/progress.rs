//! Many jars, one progress bar: the jars' downloads are reported as one download of the
//! distribution, and their per-file steps only as debug logs, so a closure of 60 jars does
//! not print 60 lines.

use crate::report::Reporter;

pub struct JarsProgress<'a> {
    inner: &'a dyn Reporter,
    /// The name the one bar goes by.
    name: String,
    bar: bool,
}

impl<'a> JarsProgress<'a> {
    /// Starts the bar for `bytes` (the jars that are not cached yet), unless there are none.
    pub fn start(inner: &'a dyn Reporter, name: String, bytes: u64) -> JarsProgress<'a> {
        let bar = bytes > 0;
        if bar {
            inner.download_started(&name, Some(bytes), 0);
        }
        JarsProgress { inner, name, bar }
    }
}

impl Drop for JarsProgress<'_> {
    fn drop(&mut self) {
        if self.bar {
            self.inner.download_finished(&self.name);
        }
    }
}

impl Reporter for JarsProgress<'_> {
    fn step(&self, message: &str) {
        tracing::debug!("{message}");
    }

    fn warn(&self, message: &str) {
        self.inner.warn(message);
    }

    fn download_started(&self, name: &str, _total: Option<u64>, already: u64) {
        if already > 0 {
            tracing::debug!("{name}: resuming after {already} bytes");
        }
    }

    fn download_progress(&self, _name: &str, bytes: u64) {
        self.inner.download_progress(&self.name, bytes);
    }

    fn download_finished(&self, _name: &str) {}
}
