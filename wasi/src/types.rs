//! The preview1 ABI: constants, flag bits and the byte layout of the
//! structures the guest passes by pointer.
//!
//! Source: the WASI preview1 witx (`wasi_snapshot_preview1.witx`); the older
//! `wasi_unstable` differences are marked where they apply.

/// `fd`: a descriptor number in the guest's table.
pub type Fd = u32;

/// `filetype` values.
pub mod filetype {
    /// Unknown or not applicable.
    pub const UNKNOWN: u8 = 0;
    /// A block device.
    pub const BLOCK_DEVICE: u8 = 1;
    /// A character device.
    pub const CHARACTER_DEVICE: u8 = 2;
    /// A directory.
    pub const DIRECTORY: u8 = 3;
    /// A regular file.
    pub const REGULAR_FILE: u8 = 4;
    /// A datagram socket.
    pub const SOCKET_DGRAM: u8 = 5;
    /// A stream socket.
    pub const SOCKET_STREAM: u8 = 6;
    /// A symbolic link.
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// `rights` bits.
pub mod rights {
    #![allow(missing_docs, reason = "the names are the witx names")]
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// Every right.
    pub const ALL: u64 = (1 << 30) - 1;

    /// What a regular file descriptor can do (before its open mode narrows
    /// it).
    pub const REGULAR_FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;

    /// The rights that need the file opened for reading.
    pub const READ_MODE: u64 = FD_READ | FD_READDIR;
    /// The rights that need the file opened for writing.
    pub const WRITE_MODE: u64 = FD_DATASYNC | FD_WRITE | FD_ALLOCATE | FD_FILESTAT_SET_SIZE;

    /// What a directory descriptor can do.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | POLL_FD_READWRITE;

    /// What a terminal, pipe or character device can do.
    pub const STREAM: u64 = FD_READ
        | FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE
        | FD_SYNC
        | FD_DATASYNC
        | FD_ADVISE;

    /// What a socket can do.
    pub const SOCKET: u64 = FD_READ
        | FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE
        | SOCK_SHUTDOWN
        | SOCK_ACCEPT;
}

/// `fdflags` bits.
pub mod fdflags {
    /// Append mode.
    pub const APPEND: u16 = 1 << 0;
    /// Synchronized data writes.
    pub const DSYNC: u16 = 1 << 1;
    /// Non-blocking mode.
    pub const NONBLOCK: u16 = 1 << 2;
    /// Synchronized reads.
    pub const RSYNC: u16 = 1 << 3;
    /// Synchronized writes.
    pub const SYNC: u16 = 1 << 4;
}

/// `oflags` bits.
pub mod oflags {
    /// Create the file if it does not exist.
    pub const CREAT: u16 = 1 << 0;
    /// Fail if not a directory.
    pub const DIRECTORY: u16 = 1 << 1;
    /// Fail if the file exists.
    pub const EXCL: u16 = 1 << 2;
    /// Truncate to size 0.
    pub const TRUNC: u16 = 1 << 3;
}

/// `lookupflags`: follow a symlink in the last component.
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// `fstflags` bits.
pub mod fstflags {
    /// Set the access time to the given value.
    pub const ATIM: u16 = 1 << 0;
    /// Set the access time to now.
    pub const ATIM_NOW: u16 = 1 << 1;
    /// Set the modification time to the given value.
    pub const MTIM: u16 = 1 << 2;
    /// Set the modification time to now.
    pub const MTIM_NOW: u16 = 1 << 3;
}

/// `clockid` values.
pub mod clockid {
    /// Wall-clock time.
    pub const REALTIME: u32 = 0;
    /// Monotonic time.
    pub const MONOTONIC: u32 = 1;
    /// CPU time of the process.
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    /// CPU time of the thread.
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// `advice` values.
pub mod advice {
    /// No advice.
    pub const NORMAL: u8 = 0;
    /// Sequential access.
    pub const SEQUENTIAL: u8 = 1;
    /// Random access.
    pub const RANDOM: u8 = 2;
    /// Will need soon.
    pub const WILLNEED: u8 = 3;
    /// Will not need soon.
    pub const DONTNEED: u8 = 4;
    /// Accessed once.
    pub const NOREUSE: u8 = 5;
}

/// `eventtype` values.
pub mod eventtype {
    /// A clock subscription.
    pub const CLOCK: u8 = 0;
    /// Readiness for reading.
    pub const FD_READ: u8 = 1;
    /// Readiness for writing.
    pub const FD_WRITE: u8 = 2;
}

/// `subclockflags`: the timeout is an absolute time.
pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;
/// `eventrwflags`: the peer hung up.
pub const EVENT_FD_READWRITE_HANGUP: u16 = 1;

/// `preopentype`: a directory.
pub const PREOPENTYPE_DIR: u8 = 0;

/// `riflags` bits.
pub mod riflags {
    /// Peek without consuming.
    pub const RECV_PEEK: u16 = 1 << 0;
    /// Wait for the whole buffer.
    pub const RECV_WAITALL: u16 = 1 << 1;
}

/// `roflags`: the data was truncated.
pub const RECV_DATA_TRUNCATED: u16 = 1;

/// `sdflags` bits.
pub mod sdflags {
    /// Shut the reading side.
    pub const RD: u8 = 1 << 0;
    /// Shut the writing side.
    pub const WR: u8 = 1 << 1;
}

/// The two import modules, which differ in a few layouts and constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    /// `wasi_snapshot_preview1`.
    Preview1,
    /// `wasi_unstable` (preview0): other `whence` numbering, a 32-bit
    /// `nlink` in `filestat`, and an `identifier` field in clock
    /// subscriptions.
    Unstable,
}

impl Abi {
    /// Maps a guest `whence` to `SEEK_*`.
    pub fn whence(self, raw: u32) -> Option<i32> {
        match (self, raw) {
            (Abi::Preview1, 0) | (Abi::Unstable, 2) => Some(libc::SEEK_SET),
            (Abi::Preview1, 1) | (Abi::Unstable, 0) => Some(libc::SEEK_CUR),
            (Abi::Preview1, 2) | (Abi::Unstable, 1) => Some(libc::SEEK_END),
            _ => None,
        }
    }

    /// Size of `filestat`.
    pub fn filestat_size(self) -> u32 {
        match self {
            Abi::Preview1 => 64,
            Abi::Unstable => 56,
        }
    }

    /// Size of `subscription`.
    pub fn subscription_size(self) -> u32 {
        match self {
            Abi::Preview1 => 48,
            Abi::Unstable => 56,
        }
    }
}

/// A `filestat` before encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filestat {
    /// Device id.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// `filetype`.
    pub filetype: u8,
    /// Hard link count.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Access time, ns.
    pub atim: u64,
    /// Modification time, ns.
    pub mtim: u64,
    /// Status change time, ns.
    pub ctim: u64,
}

impl Filestat {
    /// Encodes for `abi`, into `Abi::filestat_size` bytes.
    pub fn encode(&self, abi: Abi) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&self.dev.to_le_bytes());
        out.extend_from_slice(&self.ino.to_le_bytes());
        match abi {
            Abi::Preview1 => {
                out.push(self.filetype);
                out.extend_from_slice(&[0; 7]);
                out.extend_from_slice(&self.nlink.to_le_bytes());
            }
            Abi::Unstable => {
                out.push(self.filetype);
                out.extend_from_slice(&[0; 3]);
                let nlink = u32::try_from(self.nlink).unwrap_or(u32::MAX);
                out.extend_from_slice(&nlink.to_le_bytes());
            }
        }
        for v in [self.size, self.atim, self.mtim, self.ctim] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filestat_layouts() {
        let st = Filestat {
            nlink: 7,
            size: 9,
            ..Filestat::default()
        };
        let p1 = st.encode(Abi::Preview1);
        assert_eq!(p1.len(), 64);
        assert_eq!(p1[24], 7);
        assert_eq!(p1[32], 9);
        let p0 = st.encode(Abi::Unstable);
        assert_eq!(p0.len(), 56);
        assert_eq!(p0[20], 7);
        assert_eq!(p0[24], 9);
    }

    #[test]
    fn whence_numbering_differs() {
        assert_eq!(Abi::Preview1.whence(0), Some(libc::SEEK_SET));
        assert_eq!(Abi::Unstable.whence(0), Some(libc::SEEK_CUR));
        assert_eq!(Abi::Unstable.whence(2), Some(libc::SEEK_SET));
        assert_eq!(Abi::Preview1.whence(3), None);
    }
}
