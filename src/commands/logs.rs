//! `kafkup logs SERVICE [-f] [-n N]`: the service's output, wherever its runner keeps it.

use super::Context;
use crate::runner::LogSource;
use crate::spec::ServiceName;
use crate::state;
use anyhow::{bail, Context as _, Result};
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

pub async fn run(ctx: &Context<'_>, service: &str, follow: bool, lines: usize) -> Result<()> {
    let manifest = state::require(&super::paths(ctx)?)?;
    let Some(name) = ServiceName::parse(service) else {
        bail!("unknown service {service:?}: use zookeeper or kafka");
    };
    let runner = super::service::runner_of(&manifest)?;
    match runner.log_source(name) {
        LogSource::File { path } => tail_file(&path, lines, follow).await,
        LogSource::Journal { unit } => {
            let mut cmd = std::process::Command::new("journalctl");
            cmd.args(["-u", &unit, "-n", &lines.to_string(), "--no-pager"]);
            if follow {
                cmd.arg("-f");
            }
            let status = cmd.status().context("cannot run journalctl")?;
            if !status.success() {
                bail!("journalctl failed ({status})");
            }
            Ok(())
        }
        LogSource::Container { name } => {
            bail!("container logs for {name} are not available in this build")
        }
    }
}

/// The last `lines` lines, then (with `follow`) new output as it is written.
async fn tail_file(path: &std::path::Path, lines: usize, follow: bool) -> Result<()> {
    let mut file = fs_err::File::open(path).context("the service has not written a log yet")?;
    let len = file.metadata()?.len();
    let start = last_lines_offset(&mut file, len, lines)?;
    file.seek(SeekFrom::Start(start))?;
    let mut stdout = std::io::stdout().lock();
    let mut pos = start + std::io::copy(&mut file, &mut stdout)?;
    stdout.flush()?;
    if !follow {
        return Ok(());
    }
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let len = fs_err::metadata(path)?.len();
        if len < pos {
            pos = 0; // truncated or replaced: start over
        }
        if len > pos {
            file.seek(SeekFrom::Start(pos))?;
            pos += std::io::copy(&mut (&mut file).take(len - pos), &mut stdout)?;
            stdout.flush()?;
        }
    }
}

/// Where the last `lines` lines start, reading backwards in blocks (logs can be large).
fn last_lines_offset(
    file: &mut (impl Read + Seek),
    len: u64,
    lines: usize,
) -> std::io::Result<u64> {
    if lines == 0 {
        return Ok(len);
    }
    let mut newlines = 0;
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    // A trailing newline ends the last line; it does not start a new one.
    let mut skip_trailing = true;
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        for (i, b) in chunk.iter().enumerate().rev() {
            if *b == b'\n' {
                if skip_trailing && start + i as u64 == len - 1 {
                    continue;
                }
                newlines += 1;
                if newlines == lines {
                    return Ok(start + i as u64 + 1);
                }
            }
        }
        skip_trailing = false;
        end = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn finds_the_start_of_the_last_lines() {
        let text = b"a\nb\nc\nd\n";
        let mut c = Cursor::new(&text[..]);
        assert_eq!(last_lines_offset(&mut c, 8, 2).unwrap(), 4);
        assert_eq!(last_lines_offset(&mut c, 8, 10).unwrap(), 0);
        assert_eq!(last_lines_offset(&mut c, 8, 0).unwrap(), 8);
        let mut c = Cursor::new(&b"a\nb\nc"[..]);
        assert_eq!(last_lines_offset(&mut c, 5, 1).unwrap(), 4);
    }
}
