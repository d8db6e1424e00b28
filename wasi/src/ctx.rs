//! The per-store WASI state and the builder embedders fill it with.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use crate::fd_table::{Descriptor, FdTable};
use crate::pipe::{MemoryInput, MemoryOutput, MemoryStream};
use crate::types::{Fd, rights};

/// What the guest may do beneath a preopened directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirAccess {
    /// Read, create, change and remove files.
    ReadWrite,
    /// Read only: no right that creates, changes or removes anything is
    /// granted, to the directory or to anything opened through it.
    ReadOnly,
}

const MUTATING_DIR_RIGHTS: u64 = rights::PATH_CREATE_DIRECTORY
    | rights::PATH_CREATE_FILE
    | rights::PATH_LINK_SOURCE
    | rights::PATH_LINK_TARGET
    | rights::PATH_RENAME_SOURCE
    | rights::PATH_RENAME_TARGET
    | rights::PATH_FILESTAT_SET_SIZE
    | rights::PATH_FILESTAT_SET_TIMES
    | rights::PATH_SYMLINK
    | rights::PATH_REMOVE_DIRECTORY
    | rights::PATH_UNLINK_FILE;

const MUTATING_FD_RIGHTS: u64 = rights::FD_DATASYNC
    | rights::FD_WRITE
    | rights::FD_ALLOCATE
    | rights::FD_FILESTAT_SET_SIZE
    | rights::FD_FILESTAT_SET_TIMES;

impl DirAccess {
    fn rights(self) -> (u64, u64) {
        match self {
            DirAccess::ReadWrite => (rights::DIRECTORY, rights::ALL),
            DirAccess::ReadOnly => {
                let strip = MUTATING_DIR_RIGHTS | MUTATING_FD_RIGHTS;
                (rights::DIRECTORY & !strip, rights::ALL & !strip)
            }
        }
    }
}

/// A guest's view of the host: arguments, environment, and descriptors.
/// The default has none of them (not even standard streams: the guest's
/// writes fail with `badf`).
#[derive(Debug, Default)]
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: FdTable,
    /// The status the guest passed to `proc_exit` (or the one a fatal
    /// `proc_raise` stands for).
    pub(crate) exit_code: Option<i32>,
    /// Whether `start` or `initialize` has run an instance with this
    /// context.
    pub(crate) started: bool,
}

impl WasiCtx {
    /// A builder with no arguments, no environment, stdio on `/dev/null`
    /// and no preopens.
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::default()
    }

    /// The descriptor table (for embedders that inspect it).
    pub fn fds(&self) -> &FdTable {
        &self.fds
    }

    /// The status the guest exited with (`proc_exit`, or a fatal
    /// `proc_raise`), if it did. The host process never exits for it.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }
}

/// What a standard descriptor is given.
#[derive(Debug)]
enum Stdio {
    Host(OwnedFd),
    Memory(MemoryStream),
}

#[derive(Debug)]
enum Preopen {
    Dir(OwnedFd, String, DirAccess),
    Socket(OwnedFd),
}

/// Builds a [`WasiCtx`].
#[derive(Debug, Default)]
pub struct WasiCtxBuilder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdio: [Option<Stdio>; 3],
    preopens: Vec<Preopen>,
}

impl WasiCtxBuilder {
    /// Appends one argument (the first is the program name, `argv[0]`).
    pub fn arg(&mut self, arg: impl AsRef<[u8]>) -> &mut Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<[u8]>>(&mut self, args: I) -> &mut Self {
        for a in args {
            self.arg(a);
        }
        self
    }

    /// Sets `key=value` in the guest's environment.
    pub fn env(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let key = key.as_ref();
        self.env
            .retain(|kv| !(kv.starts_with(key) && kv.get(key.len()) == Some(&b'=')));
        let mut kv = key.to_vec();
        kv.push(b'=');
        kv.extend_from_slice(value.as_ref());
        self.env.push(kv);
        self
    }

    /// Copies the host process's whole environment.
    pub fn inherit_env(&mut self) -> &mut Self {
        use std::os::unix::ffi::OsStrExt;
        for (k, v) in std::env::vars_os() {
            self.env(k.as_bytes(), v.as_bytes());
        }
        self
    }

    /// Gives the guest the host process's stdin, stdout and stderr. A
    /// standard descriptor the host process does not have open is given to
    /// the guest as `/dev/null`.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Gives the guest the host process's stdin (`/dev/null` if it has
    /// none open).
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdio[0] = io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(Stdio::Host);
        self
    }

    /// Gives the guest the host process's stdout (`/dev/null` if it has
    /// none open).
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdio[1] = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(Stdio::Host);
        self
    }

    /// Gives the guest the host process's stderr (`/dev/null` if it has
    /// none open).
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stdio[2] = io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(Stdio::Host);
        self
    }

    /// The guest's stdin reads `bytes`, then end of file.
    pub fn stdin_bytes(&mut self, bytes: impl Into<std::sync::Arc<[u8]>>) -> &mut Self {
        self.stdio[0] = Some(Stdio::Memory(MemoryStream::Input(MemoryInput::new(bytes))));
        self
    }

    /// The guest's stdout goes to `output` (a clone the embedder keeps
    /// reads it), in memory, up to its limit.
    pub fn stdout_capture(&mut self, output: &MemoryOutput) -> &mut Self {
        self.stdio[1] = Some(Stdio::Memory(MemoryStream::Output(output.clone())));
        self
    }

    /// The guest's stderr goes to `output`, as
    /// [`stdout_capture`](WasiCtxBuilder::stdout_capture).
    pub fn stderr_capture(&mut self, output: &MemoryOutput) -> &mut Self {
        self.stdio[2] = Some(Stdio::Memory(MemoryStream::Output(output.clone())));
        self
    }

    /// Uses `fd` as the guest's descriptor `which` (0, 1 or 2).
    ///
    /// # Panics
    ///
    /// If `which` is not 0, 1 or 2.
    pub fn stdio(&mut self, which: usize, fd: OwnedFd) -> &mut Self {
        self.stdio[which] = Some(Stdio::Host(fd));
        self
    }

    /// Preopens the host directory `host` under the guest name `guest`.
    ///
    /// # Errors
    ///
    /// If `host` cannot be opened as a directory.
    pub fn preopened_dir(
        &mut self,
        host: impl AsRef<Path>,
        guest: &str,
        access: DirAccess,
    ) -> io::Result<&mut Self> {
        let host = host.as_ref();
        let dir = std::fs::File::open(host)?;
        if !dir.metadata()?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("`{}` is not a directory", host.display()),
            ));
        }
        self.preopens
            .push(Preopen::Dir(dir.into(), guest.to_string(), access));
        Ok(self)
    }

    /// Preopens a listening socket, for `sock_accept`.
    pub fn preopened_socket(&mut self, socket: OwnedFd) -> &mut Self {
        self.preopens.push(Preopen::Socket(socket));
        self
    }

    /// The finished context: stdio at 0 to 2, then the preopens in the
    /// order they were added.
    ///
    /// # Errors
    ///
    /// If a descriptor cannot be inspected, or `/dev/null` cannot be opened
    /// for a standard descriptor that was not given.
    pub fn build(&mut self) -> io::Result<WasiCtx> {
        let mut fds = FdTable::default();
        for (i, slot) in self.stdio.iter_mut().enumerate() {
            let d = match slot.take() {
                Some(Stdio::Memory(stream)) => Descriptor::memory(stream),
                Some(Stdio::Host(fd)) => Descriptor::new(fd, rights::ALL, 0).map_err(errno_io)?,
                None => {
                    let null = std::fs::OpenOptions::new()
                        .read(i == 0)
                        .write(i != 0)
                        .open("/dev/null")?;
                    Descriptor::new(null.into(), rights::ALL, 0).map_err(errno_io)?
                }
            };
            fds.insert_at(i as Fd, d);
        }
        for p in self.preopens.drain(..) {
            match p {
                Preopen::Dir(fd, name, access) => {
                    let (base, inheriting) = access.rights();
                    let mut d = Descriptor::new(fd, base, inheriting).map_err(errno_io)?;
                    d.preopen = Some(name);
                    fds.insert(d).map_err(errno_io)?;
                }
                Preopen::Socket(fd) => {
                    let d = Descriptor::new(fd, rights::ALL, 0).map_err(errno_io)?;
                    fds.insert(d).map_err(errno_io)?;
                }
            }
        }
        Ok(WasiCtx {
            args: std::mem::take(&mut self.args),
            env: std::mem::take(&mut self.env),
            fds,
            exit_code: None,
            started: false,
        })
    }
}

fn errno_io(e: crate::Errno) -> io::Error {
    io::Error::other(format!("WASI setup failed: {e}"))
}
