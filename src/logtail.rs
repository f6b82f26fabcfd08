//! Reading the end of a log file: the last lines (for `kafkup logs -n` and for the lines shown
//! when a service died), and following it as it grows (`kafkup logs -f`).

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often a followed file is looked at again.
const FOLLOW_POLL: Duration = Duration::from_millis(200);
/// How much of a file is read at a time.
const BLOCK: usize = 64 * 1024;

/// The last `n` lines of the file (at most the last 64 KiB are read).
pub fn last_lines(path: &Path, n: usize) -> io::Result<Vec<String>> {
    let mut file = fs_err::File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(BLOCK as u64)))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect())
}

/// Of `lines`, those after the last one starting with `marker` (or all, without one).
pub fn since_marker(lines: &[String], marker: &str) -> Vec<String> {
    let since = lines
        .iter()
        .rposition(|l| l.starts_with(marker))
        .map_or(0, |i| i + 1);
    lines[since..].to_vec()
}

/// The file's last `lines` lines, then (with `follow`) whatever is appended, until the
/// stream is dropped. A file that is truncated or replaced is read again from its start.
pub fn stream_file(
    path: &Path,
    lines: usize,
    follow: bool,
) -> io::Result<BoxStream<'static, io::Result<Bytes>>> {
    let mut file = fs_err::File::open(path)?.into_parts().0;
    let len = file.metadata()?.len();
    let pos = last_lines_offset(&mut file, len, lines)?;
    let state = Follow {
        path: path.to_path_buf(),
        file,
        pos,
        follow,
        done: false,
    };
    Ok(stream::unfold(state, |mut s| async move {
        match s.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), s)),
            Ok(None) => None,
            Err(e) => Some((Err(e), s.stop())),
        }
    })
    .boxed())
}

struct Follow {
    path: PathBuf,
    file: std::fs::File,
    pos: u64,
    follow: bool,
    done: bool,
}

impl Follow {
    /// The next bytes past `pos`; when there are none, `None` (or, following, wait for some).
    async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        while !self.done {
            let len = std::fs::metadata(&self.path)?.len();
            if len < self.pos {
                self.pos = 0;
            }
            if len > self.pos {
                self.file.seek(SeekFrom::Start(self.pos))?;
                let mut buf = vec![0; ((len - self.pos) as usize).min(BLOCK)];
                let n = self.file.read(&mut buf)?;
                buf.truncate(n);
                self.pos += n as u64;
                return Ok(Some(Bytes::from(buf)));
            }
            if !self.follow {
                return Ok(None);
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
        Ok(None)
    }

    /// After an error the stream ends.
    fn stop(mut self) -> Self {
        self.done = true;
        self
    }
}

/// Where the last `lines` lines start, reading backwards in blocks (logs can be large).
fn last_lines_offset(file: &mut (impl Read + Seek), len: u64, lines: usize) -> io::Result<u64> {
    if lines == 0 {
        return Ok(len);
    }
    let mut newlines = 0;
    let mut end = len;
    let mut buf = vec![0u8; BLOCK];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        for (i, b) in chunk.iter().enumerate().rev() {
            // A trailing newline ends the last line; it does not start a new one.
            if *b == b'\n' && start + i as u64 != len - 1 {
                newlines += 1;
                if newlines == lines {
                    return Ok(start + i as u64 + 1);
                }
            }
        }
        end = start;
    }
    Ok(0)
}

/// The lines of a tool's output that say what went wrong (the exception and its causes, error
/// lines) and its last lines, in order, at most [`ERROR_LINES`]: a JVM tool's whole output is a
/// config dump of hundreds of lines around one error.
pub fn the_error(output: &str) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = lines.len().saturating_sub(3);
    let telling = |(i, l): &(usize, &&str)| {
        *i >= last
            || l.contains("Exception")
            || l.contains("ERROR")
            || l.contains("Error:")
            || l.trim_start().starts_with("Caused by")
    };
    let kept: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(telling)
        .map(|(_, l)| *l)
        .collect();
    let shown = &kept[kept.len().saturating_sub(ERROR_LINES)..];
    shown.join("\n")
}

/// How many lines [`the_error`] keeps at most.
pub const ERROR_LINES: usize = 12;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tools_error_is_kept_and_its_config_dump_dropped() {
        let mut out: Vec<String> = (0..390)
            .map(|i| format!("\tsome.config.key{i} = value"))
            .collect();
        out.insert(
            200,
            "java.lang.RuntimeException: Invalid cluster.id in meta.properties".into(),
        );
        out.insert(
            201,
            "\tat kafka.tools.StorageTool.main(StorageTool.scala:52)".into(),
        );
        out.push("Caused by: something deeper".into());
        let said = the_error(&out.join("\n"));
        assert!(
            said.contains("RuntimeException: Invalid cluster.id"),
            "{said}"
        );
        assert!(said.contains("Caused by: something deeper"), "{said}");
        assert!(said.lines().count() <= ERROR_LINES, "{said}");
        assert!(!said.contains("key100 "), "{said}");
    }
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

    #[test]
    fn only_lines_after_the_last_marker_count() {
        let lines: Vec<String> = ["old", "---- start", "a", "b"].map(String::from).into();
        assert_eq!(since_marker(&lines, "---- start"), vec!["a", "b"]);
        assert_eq!(since_marker(&lines[2..], "---- start"), vec!["a", "b"]);
    }

    #[tokio::test]
    async fn streams_the_tail_then_what_is_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "1\n2\n3\n").unwrap();
        let all: Vec<Bytes> = stream_file(&path, 2, false)
            .unwrap()
            .map(|c| c.unwrap())
            .collect()
            .await;
        assert_eq!(all.concat(), b"2\n3\n");

        let mut follow = stream_file(&path, 1, true).unwrap();
        assert_eq!(&follow.next().await.unwrap().unwrap()[..], b"3\n");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"4\n"))
            .unwrap();
        let next = tokio::time::timeout(Duration::from_secs(5), follow.next())
            .await
            .unwrap();
        assert_eq!(&next.unwrap().unwrap()[..], b"4\n");
    }

    #[test]
    fn last_lines_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "x\ny\nz\n").unwrap();
        assert_eq!(last_lines(&path, 2).unwrap(), vec!["y", "z"]);
    }
}
