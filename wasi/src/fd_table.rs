//! The guest's descriptor table: what each WASI `fd` number stands for, the
//! rights it carries, and (for preopens) the name the guest sees.
//!
//! Rights follow the preview1 model: every descriptor has a base set (what
//! it may do) and an inheriting set (what descriptors opened through it may
//! get). `fd_fdstat_set_rights` can only remove rights, and every call checks
//! the rights it needs before touching the host.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::errno::{Errno, WasiResult};
use crate::pipe::MemoryStream;
use crate::sys;
use crate::types::{Fd, filetype, rights};

/// What a descriptor stands for.
#[derive(Debug)]
enum Backing {
    /// A host file, directory or socket.
    Host(OwnedFd),
    /// An in-memory stream (captured output, input from bytes).
    Memory(MemoryStream),
}

/// One open descriptor.
#[derive(Debug)]
pub struct Descriptor {
    backing: Backing,
    /// The WASI `filetype` it had when opened.
    pub filetype: u8,
    /// Base rights.
    pub rights_base: u64,
    /// Inheriting rights.
    pub rights_inheriting: u64,
    /// For a preopened directory, the name the guest sees.
    pub preopen: Option<String>,
    /// A cached listing for `fd_readdir`, refreshed when the guest starts
    /// over from cookie 0.
    pub(crate) dir_listing: Option<Vec<sys::DirEntry>>,
}

impl Descriptor {
    /// Wraps a host descriptor, deriving its filetype from the host and its
    /// rights from `base` and `inheriting`, narrowed to what the type allows.
    ///
    /// # Errors
    ///
    /// If the host descriptor cannot be inspected.
    pub fn new(fd: OwnedFd, base: u64, inheriting: u64) -> WasiResult<Descriptor> {
        let st = sys::fstat(fd.as_fd())?;
        let filetype = filetype_of(&st, fd.as_fd());
        let allowed = match filetype {
            filetype::DIRECTORY => rights::DIRECTORY,
            filetype::REGULAR_FILE => rights::REGULAR_FILE,
            filetype::SOCKET_STREAM | filetype::SOCKET_DGRAM => rights::SOCKET,
            _ => rights::STREAM,
        };
        Ok(Descriptor {
            backing: Backing::Host(fd),
            filetype,
            rights_base: base & allowed,
            rights_inheriting: inheriting,
            preopen: None,
            dir_listing: None,
        })
    }

    /// Wraps an in-memory stream. It looks like a pipe (filetype
    /// `unknown`) with the rights of one end: reading, or writing and
    /// syncing; status flags and `fd_filestat_get` work, seeking does not.
    pub fn memory(stream: MemoryStream) -> Descriptor {
        let common =
            rights::FD_FDSTAT_SET_FLAGS | rights::FD_FILESTAT_GET | rights::POLL_FD_READWRITE;
        let direction = match stream {
            MemoryStream::Input(_) => rights::FD_READ,
            MemoryStream::Output(_) => rights::FD_WRITE | rights::FD_SYNC | rights::FD_DATASYNC,
        };
        Descriptor {
            backing: Backing::Memory(stream),
            filetype: filetype::UNKNOWN,
            rights_base: common | direction,
            rights_inheriting: 0,
            preopen: None,
            dir_listing: None,
        }
    }

    /// The host descriptor.
    ///
    /// # Errors
    ///
    /// `spipe` for an in-memory stream, which has none (what a host pipe
    /// answers to the calls that need a file).
    pub fn host(&self) -> WasiResult<BorrowedFd<'_>> {
        match &self.backing {
            Backing::Host(fd) => Ok(fd.as_fd()),
            Backing::Memory(_) => Err(Errno::Spipe),
        }
    }

    /// The in-memory stream, if this is one.
    pub fn memory_stream(&mut self) -> Option<&mut MemoryStream> {
        match &mut self.backing {
            Backing::Memory(stream) => Some(stream),
            Backing::Host(_) => None,
        }
    }

    /// For an in-memory stream (always ready): the bytes left to read (zero
    /// for an output) and whether an input is at its end.
    pub fn memory_readiness(&self) -> Option<(u64, bool)> {
        match &self.backing {
            Backing::Memory(MemoryStream::Input(input)) => {
                let left = input.remaining();
                Some((left as u64, left == 0))
            }
            Backing::Memory(MemoryStream::Output(_)) => Some((0, false)),
            Backing::Host(_) => None,
        }
    }

    /// Whether this is an in-memory stream.
    pub fn is_memory(&self) -> bool {
        matches!(self.backing, Backing::Memory(_))
    }

    /// Checks that the base rights include `needed`.
    ///
    /// # Errors
    ///
    /// `notcapable` if they do not.
    pub fn check(&self, needed: u64) -> WasiResult<()> {
        if self.rights_base & needed == needed {
            Ok(())
        } else {
            Err(Errno::Notcapable)
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.filetype == filetype::DIRECTORY
    }
}

/// The WASI filetype of a host file.
pub(crate) fn filetype_of(st: &libc::stat, fd: BorrowedFd<'_>) -> u8 {
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => filetype::DIRECTORY,
        libc::S_IFREG => filetype::REGULAR_FILE,
        libc::S_IFLNK => filetype::SYMBOLIC_LINK,
        libc::S_IFCHR => filetype::CHARACTER_DEVICE,
        libc::S_IFBLK => filetype::BLOCK_DEVICE,
        libc::S_IFSOCK => match sys::socket_type(fd) {
            Some(libc::SOCK_DGRAM) => filetype::SOCKET_DGRAM,
            _ => filetype::SOCKET_STREAM,
        },
        _ => filetype::UNKNOWN,
    }
}

/// The guest's descriptor numbers.
#[derive(Debug, Default)]
pub struct FdTable {
    entries: BTreeMap<Fd, Descriptor>,
}

impl FdTable {
    /// The descriptor `fd`.
    ///
    /// # Errors
    ///
    /// `badf` if `fd` is not open.
    pub fn get(&self, fd: Fd) -> WasiResult<&Descriptor> {
        self.entries.get(&fd).ok_or(Errno::Badf)
    }

    /// The descriptor `fd`, mutably.
    ///
    /// # Errors
    ///
    /// `badf` if `fd` is not open.
    pub fn get_mut(&mut self, fd: Fd) -> WasiResult<&mut Descriptor> {
        self.entries.get_mut(&fd).ok_or(Errno::Badf)
    }

    /// Stores `d` under the lowest free number.
    ///
    /// # Errors
    ///
    /// `mfile` if the table is full.
    pub fn insert(&mut self, d: Descriptor) -> WasiResult<Fd> {
        let mut n: Fd = 0;
        for &k in self.entries.keys() {
            if k != n {
                break;
            }
            n = n.checked_add(1).ok_or(Errno::Mfile)?;
        }
        self.entries.insert(n, d);
        Ok(n)
    }

    /// Stores `d` under `fd`, replacing what was there.
    pub fn insert_at(&mut self, fd: Fd, d: Descriptor) {
        self.entries.insert(fd, d);
    }

    /// Removes `fd` and returns it (closing it when dropped).
    ///
    /// # Errors
    ///
    /// `badf` if `fd` is not open.
    pub fn remove(&mut self, fd: Fd) -> WasiResult<Descriptor> {
        self.entries.remove(&fd).ok_or(Errno::Badf)
    }

    /// The open descriptor numbers and their entries.
    pub fn iter(&self) -> impl Iterator<Item = (Fd, &Descriptor)> {
        self.entries.iter().map(|(&k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devnull() -> OwnedFd {
        std::fs::File::open("/dev/null").unwrap().into()
    }

    #[test]
    fn lowest_free_number_is_reused() {
        let mut t = FdTable::default();
        for want in 0..3 {
            let d = Descriptor::new(devnull(), rights::ALL, 0).unwrap();
            assert_eq!(t.insert(d).unwrap(), want);
        }
        t.remove(1).unwrap();
        assert_eq!(t.get(1).unwrap_err(), Errno::Badf);
        let d = Descriptor::new(devnull(), rights::ALL, 0).unwrap();
        assert_eq!(t.insert(d).unwrap(), 1);
    }

    #[test]
    fn rights_are_narrowed_by_type_and_checked() {
        let d = Descriptor::new(devnull(), rights::ALL, 0).unwrap();
        assert_eq!(d.filetype, filetype::CHARACTER_DEVICE);
        assert!(d.check(rights::FD_READ | rights::FD_WRITE).is_ok());
        assert_eq!(d.check(rights::PATH_OPEN), Err(Errno::Notcapable));
    }
}
