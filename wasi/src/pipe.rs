//! In-memory standard streams: input the guest reads from bytes, and output
//! captured in memory up to a size limit, for embedders that run a guest per
//! request (Node's `WASI` with captured stdio, a FaaS worker).
//!
//! Neither side is a host descriptor: nothing blocks and nothing can
//! deadlock, however much the guest writes. Past its limit, an output takes
//! what fits and then fails writes with `nospc`, and says it was
//! [`truncated`](MemoryOutput::truncated). To the guest both look like a
//! pipe (filetype `unknown`, no seeking).

use std::sync::{Arc, Mutex, MutexGuard};

/// The default limit of a [`MemoryOutput`]: 16 MiB.
pub const DEFAULT_CAPTURE_LIMIT: usize = 16 << 20;

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    limit: usize,
    truncated: bool,
}

/// Output a guest writes, kept in memory. Cheap to clone: clones share the
/// buffer, so the embedder keeps one and gives one to the guest.
#[derive(Debug, Clone)]
pub struct MemoryOutput(Arc<Mutex<Captured>>);

impl Default for MemoryOutput {
    fn default() -> MemoryOutput {
        MemoryOutput::new(DEFAULT_CAPTURE_LIMIT)
    }
}

impl MemoryOutput {
    /// An empty output that keeps at most `limit` bytes.
    pub fn new(limit: usize) -> MemoryOutput {
        MemoryOutput(Arc::new(Mutex::new(Captured {
            bytes: Vec::new(),
            limit,
            truncated: false,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Captured> {
        // A panic while holding the lock cannot leave the buffer
        // inconsistent (each operation is one Vec call).
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of what has been written and not yet taken.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().bytes.clone()
    }

    /// What has been written, leaving the output empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.lock().bytes)
    }

    /// Moves up to `buf.len()` of the oldest bytes into `buf`, returning how
    /// many.
    pub fn read(&self, buf: &mut [u8]) -> usize {
        let mut c = self.lock();
        let n = buf.len().min(c.bytes.len());
        buf[..n].copy_from_slice(&c.bytes[..n]);
        c.bytes.drain(..n);
        n
    }

    /// Bytes waiting to be read.
    pub fn len(&self) -> usize {
        self.lock().bytes.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the guest wrote more than the limit kept.
    pub fn truncated(&self) -> bool {
        self.lock().truncated
    }

    /// Appends what fits of `data`; returns how many bytes were taken, or
    /// `None` when nothing fits any more.
    pub(crate) fn write(&self, data: &[u8]) -> Option<usize> {
        let mut c = self.lock();
        let room = c.limit.saturating_sub(c.bytes.len());
        let n = data.len().min(room);
        if n < data.len() {
            c.truncated = true;
        }
        if n == 0 && !data.is_empty() {
            return None;
        }
        c.bytes.extend_from_slice(&data[..n]);
        Some(n)
    }
}

/// Input a guest reads: fixed bytes, then end of file.
#[derive(Debug, Clone)]
pub struct MemoryInput {
    bytes: Arc<[u8]>,
    pos: usize,
}

impl MemoryInput {
    /// Input that yields `bytes`.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> MemoryInput {
        MemoryInput {
            bytes: bytes.into(),
            pos: 0,
        }
    }

    /// Copies the next bytes into `buf`; zero at the end.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> usize {
        let rest = &self.bytes[self.pos..];
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        n
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

/// An in-memory stream behind a guest descriptor.
#[derive(Debug)]
pub enum MemoryStream {
    /// Read by the guest.
    Input(MemoryInput),
    /// Written by the guest.
    Output(MemoryOutput),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keeps_what_fits_then_refuses() {
        let out = MemoryOutput::new(5);
        assert_eq!(out.write(b"abc"), Some(3));
        assert_eq!(out.write(b"defg"), Some(2));
        assert!(out.truncated());
        assert_eq!(out.write(b"h"), None);
        assert_eq!(out.write(b""), Some(0));
        let mut buf = [0; 2];
        assert_eq!(out.read(&mut buf), 2);
        assert_eq!(&buf, b"ab");
        assert_eq!(out.take(), b"cde");
        assert!(out.is_empty());
    }

    #[test]
    fn input_reads_to_the_end() {
        let mut input = MemoryInput::new(b"hello".to_vec());
        let mut buf = [0; 3];
        assert_eq!(input.read(&mut buf), 3);
        assert_eq!(input.remaining(), 2);
        assert_eq!(input.read(&mut buf), 2);
        assert_eq!(input.read(&mut buf), 0);
    }
}
