//! The single pass over a download's bytes: as they arrive they are appended to the cache file,
//! fed to the hash (SHA-512 for tarballs, SHA-256 for Maven jars), and, for a tarball, handed to
//! an unpacker thread (gunzip + untar into a temporary directory).
//!
//! Threads: the async side receives bytes and sends them to the sink thread (write + hash),
//! which forwards each chunk to the unpacker thread first so both work at once. Bounded
//! channels keep memory flat whatever the speed of the network or the disk.

use super::unpack::{self, Staged, UnpackError};
use bytes::Bytes;
use sha2::{Digest, Sha512};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Chunks in flight per channel (each at most a few hundred KiB).
const CHANNEL_CHUNKS: usize = 16;
/// Read size when replaying a file already on disk.
const REPLAY_CHUNK: usize = 256 * 1024;

/// Where and how to unpack while the bytes go by.
#[derive(Debug, Clone)]
pub struct UnpackTo {
    pub top_dir: String,
    /// The temporary directory is made here: the install directory, for a same-filesystem rename.
    pub parent: PathBuf,
}

/// The hash a pass computes.
pub trait PassHash: Digest + Clone + Send + 'static {}
impl<H: Digest + Clone + Send + 'static> PassHash for H {}

/// What the pass produced.
#[derive(Debug)]
pub struct Digested<H = Sha512> {
    pub len: u64,
    /// The hash state after all bytes, not finished (a signature check may continue it).
    pub hash: H,
    pub unpacked: Option<Result<Staged, UnpackError>>,
}

impl<H: PassHash> Digested<H> {
    /// The digest in lowercase hex.
    pub fn hex(&self) -> String {
        hex::encode(self.hash.clone().finalize())
    }
}

enum Msg {
    Data(Bytes),
    Restart,
}

/// The sink thread is gone (its error comes from [`Sink::finish`]).
#[derive(Debug)]
pub struct SinkGone;

pub struct Sink<H = Sha512> {
    tx: tokio::sync::mpsc::Sender<Msg>,
    thread: JoinHandle<io::Result<Digested<H>>>,
    len: u64,
}

impl<H: PassHash> Sink<H> {
    /// Start a pass over `file`: its current content is replayed first (a partial download,
    /// or a cached tarball); with `append`, data written later is added to it.
    pub fn start(file: &Path, append: bool, unpack_to: Option<UnpackTo>) -> io::Result<Sink<H>> {
        let handle = if append {
            OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .open(file)
        } else {
            File::open(file)
        }
        .map_err(|e| with_path(e, file))?;
        let len = handle.metadata().map_err(|e| with_path(e, file))?.len();
        let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_CHUNKS);
        let path = file.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("kafkup-sink".into())
            .spawn(move || run(handle, &path, unpack_to, rx))?;
        Ok(Sink { tx, thread, len })
    }

    /// Bytes in the file so far: where a resumed download starts.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub async fn write(&mut self, data: Bytes) -> Result<(), SinkGone> {
        let n = data.len() as u64;
        self.tx.send(Msg::Data(data)).await.map_err(|_| SinkGone)?;
        self.len += n;
        Ok(())
    }

    /// Forget everything: empty the file, reset the hash, start unpacking anew.
    pub async fn restart(&mut self) -> Result<(), SinkGone> {
        self.tx.send(Msg::Restart).await.map_err(|_| SinkGone)?;
        self.len = 0;
        Ok(())
    }

    /// End the pass: wait for the file, the hash and the unpacker.
    pub async fn finish(self) -> io::Result<Digested<H>> {
        drop(self.tx);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(io::Error::other)?
            .map_err(|_| io::Error::other("the sink thread panicked"))?
    }
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn run<H: PassHash>(
    mut file: File,
    path: &Path,
    unpack_to: Option<UnpackTo>,
    mut rx: tokio::sync::mpsc::Receiver<Msg>,
) -> io::Result<Digested<H>> {
    let mut pass = Pass::<H>::new(unpack_to)?;
    let mut buf = vec![0; REPLAY_CHUNK];
    loop {
        let n = file.read(&mut buf).map_err(|e| with_path(e, path))?;
        if n == 0 {
            break;
        }
        pass.take(Bytes::copy_from_slice(&buf[..n]));
    }
    drop(buf);
    let mut out = BufWriter::with_capacity(REPLAY_CHUNK, file);
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Data(data) => {
                pass.forward(&data);
                out.write_all(&data).map_err(|e| with_path(e, path))?;
                pass.hash(&data);
            }
            Msg::Restart => {
                out.flush().map_err(|e| with_path(e, path))?;
                let file = out.get_mut();
                file.set_len(0).map_err(|e| with_path(e, path))?;
                file.rewind()?;
                let unpack_to = pass.unpack_to.take();
                drop(pass);
                pass = Pass::<H>::new(unpack_to)?;
            }
        }
    }
    out.flush().map_err(|e| with_path(e, path))?;
    Ok(pass.finish())
}

/// Hash and unpacker state of one pass from byte 0.
struct Pass<H> {
    len: u64,
    hash: H,
    unpack_to: Option<UnpackTo>,
    unpacker: Option<Unpacker>,
}

impl<H: PassHash> Pass<H> {
    fn new(unpack_to: Option<UnpackTo>) -> io::Result<Pass<H>> {
        let unpacker = unpack_to.as_ref().map(Unpacker::spawn).transpose()?;
        Ok(Pass {
            len: 0,
            hash: H::new(),
            unpack_to,
            unpacker,
        })
    }

    fn take(&mut self, data: Bytes) {
        self.forward(&data);
        self.hash(&data);
    }

    fn forward(&mut self, data: &Bytes) {
        if let Some(unpacker) = &mut self.unpacker {
            unpacker.send(data.clone());
        }
    }

    fn hash(&mut self, data: &[u8]) {
        Digest::update(&mut self.hash, data);
        self.len += data.len() as u64;
    }

    fn finish(self) -> Digested<H> {
        Digested {
            len: self.len,
            hash: self.hash,
            unpacked: self.unpacker.map(Unpacker::finish),
        }
    }
}

/// The unpacker thread. Dropping it waits for the thread, so an abandoned unpack has removed
/// its temporary directory before anything else happens.
struct Unpacker {
    tx: Option<SyncSender<Bytes>>,
    thread: Option<JoinHandle<Result<Staged, UnpackError>>>,
}

impl Unpacker {
    fn spawn(to: &UnpackTo) -> io::Result<Unpacker> {
        let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
        let to = to.clone();
        let thread = std::thread::Builder::new()
            .name("kafkup-unpack".into())
            .spawn(move || unpack::unpack(ChannelReader::new(rx), &to.top_dir, &to.parent))?;
        Ok(Unpacker {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    fn send(&mut self, data: Bytes) {
        // A send fails once the unpacker has stopped (done or refused the archive): it needs no
        // more bytes, and its result comes from `finish`.
        if let Some(tx) = &self.tx {
            if tx.send(data).is_err() {
                self.tx = None;
            }
        }
    }

    fn finish(mut self) -> Result<Staged, UnpackError> {
        self.tx = None;
        let thread = self.thread.take().expect("joined only once");
        thread
            .join()
            .unwrap_or_else(|_| Err(UnpackError::Damaged("the unpacker thread panicked".into())))
    }
}

impl Drop for Unpacker {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads the chunks of a channel as one stream; the end of the channel is the end of the data.
pub struct ChannelReader {
    rx: Receiver<Bytes>,
    chunk: Bytes,
}

impl ChannelReader {
    pub fn new(rx: Receiver<Bytes>) -> ChannelReader {
        ChannelReader {
            rx,
            chunk: Bytes::new(),
        }
    }
}

impl BufRead for ChannelReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.chunk.is_empty() {
            match self.rx.recv() {
                Ok(chunk) => self.chunk = chunk,
                Err(_) => break,
            }
        }
        Ok(&self.chunk)
    }

    fn consume(&mut self, n: usize) {
        let _ = self.chunk.split_to(n);
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;

    fn tarball(top: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder =
            tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        for (name, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, format!("{top}/{name}"), *data)
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn unpack_to(dir: &Path) -> Option<UnpackTo> {
        Some(UnpackTo {
            top_dir: "t-1".into(),
            parent: dir.to_path_buf(),
        })
    }

    #[tokio::test]
    async fn replays_the_partial_then_appends_hashes_and_unpacks() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let gz = tarball("t-1", &[("a", b"hello"), ("big", &big)]);
        let partial = dir.path().join("x.partial");
        fs_err::write(&partial, &gz[..1000]).unwrap();

        let mut sink = Sink::<Sha512>::start(&partial, true, unpack_to(dir.path())).unwrap();
        assert_eq!(sink.len(), 1000);
        for chunk in gz[1000..].chunks(4096) {
            sink.write(Bytes::copy_from_slice(chunk)).await.unwrap();
        }
        let done = sink.finish().await.unwrap();
        assert_eq!(done.len, gz.len() as u64);
        assert_eq!(
            done.hex(),
            super::super::checksum::sha512_of(&gz[..]).unwrap()
        );
        assert_eq!(fs_err::read(&partial).unwrap(), gz);
        let staged = done.unpacked.unwrap().unwrap();
        assert_eq!(fs_err::read(staged.path().join("big")).unwrap(), big);
    }

    #[tokio::test]
    async fn restart_forgets_what_came_before() {
        let dir = tempfile::tempdir().unwrap();
        let gz = tarball("t-1", &[("a", b"hello")]);
        let partial = dir.path().join("x.partial");
        fs_err::write(&partial, b"garbage that is not the start of the file").unwrap();

        let mut sink = Sink::<Sha512>::start(&partial, true, unpack_to(dir.path())).unwrap();
        sink.restart().await.unwrap();
        sink.write(Bytes::from(gz.clone())).await.unwrap();
        let done = sink.finish().await.unwrap();
        assert_eq!(fs_err::read(&partial).unwrap(), gz);
        assert_eq!(
            done.hex(),
            super::super::checksum::sha512_of(&gz[..]).unwrap()
        );
        let staged = done.unpacked.unwrap().unwrap();
        assert_eq!(fs_err::read(staged.path().join("a")).unwrap(), b"hello");
        drop(staged);
        // Only the partial is left: the abandoned unpack removed its temporary directory.
        assert_eq!(fs_err::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn a_refused_archive_does_not_block_the_stream() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![1u8; 4_000_000];
        let gz = tarball("wrong-top", &[("big", &big), ("more", &big)]);
        let file = dir.path().join("x.tgz");
        fs_err::write(&file, &gz).unwrap();
        let done = Sink::<Sha512>::start(&file, false, unpack_to(dir.path()))
            .unwrap()
            .finish()
            .await
            .unwrap();
        assert_eq!(done.len, gz.len() as u64);
        assert!(matches!(
            done.unpacked,
            Some(Err(UnpackError::Unsafe { .. }))
        ));
    }
}
