//! WASI errno values and the one table that maps host errors onto them.
//!
//! Every host failure reaches the guest through [`Errno::from_raw_os`]; an
//! error number the table does not know becomes [`Errno::Io`], never the raw
//! host number (which would mean something else to the guest).

use std::fmt;

use cljit_runtime::GuestError;

macro_rules! errnos {
    ($($variant:ident = $code:literal, $name:literal, $libc:ident;)*) => {
        /// A WASI preview1 `errno` value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Errno {
            /// No error occurred.
            Success = 0,
            $(
                #[doc = concat!("`", $name, "`")]
                $variant = $code,
            )*
            /// Extension: capabilities insufficient.
            Notcapable = 76,
        }

        impl Errno {
            /// The errno for a host `errno` value (Linux numbering).
            pub fn from_raw_os(raw: i32) -> Errno {
                $(if raw == libc::$libc { return Errno::$variant; })*
                Errno::Io
            }

            /// The errno's name in the WASI specification.
            pub fn name(self) -> &'static str {
                match self {
                    Errno::Success => "success",
                    $(Errno::$variant => $name,)*
                    Errno::Notcapable => "notcapable",
                }
            }
        }
    };
}

errnos! {
    TooBig = 1, "2big", E2BIG;
    Acces = 2, "acces", EACCES;
    Addrinuse = 3, "addrinuse", EADDRINUSE;
    Addrnotavail = 4, "addrnotavail", EADDRNOTAVAIL;
    Afnosupport = 5, "afnosupport", EAFNOSUPPORT;
    Again = 6, "again", EAGAIN;
    Already = 7, "already", EALREADY;
    Badf = 8, "badf", EBADF;
    Badmsg = 9, "badmsg", EBADMSG;
    Busy = 10, "busy", EBUSY;
    Canceled = 11, "canceled", ECANCELED;
    Child = 12, "child", ECHILD;
    Connaborted = 13, "connaborted", ECONNABORTED;
    Connrefused = 14, "connrefused", ECONNREFUSED;
    Connreset = 15, "connreset", ECONNRESET;
    Deadlk = 16, "deadlk", EDEADLK;
    Destaddrreq = 17, "destaddrreq", EDESTADDRREQ;
    Dom = 18, "dom", EDOM;
    Dquot = 19, "dquot", EDQUOT;
    Exist = 20, "exist", EEXIST;
    Fault = 21, "fault", EFAULT;
    Fbig = 22, "fbig", EFBIG;
    Hostunreach = 23, "hostunreach", EHOSTUNREACH;
    Idrm = 24, "idrm", EIDRM;
    Ilseq = 25, "ilseq", EILSEQ;
    Inprogress = 26, "inprogress", EINPROGRESS;
    Intr = 27, "intr", EINTR;
    Inval = 28, "inval", EINVAL;
    Io = 29, "io", EIO;
    Isconn = 30, "isconn", EISCONN;
    Isdir = 31, "isdir", EISDIR;
    Loop = 32, "loop", ELOOP;
    Mfile = 33, "mfile", EMFILE;
    Mlink = 34, "mlink", EMLINK;
    Msgsize = 35, "msgsize", EMSGSIZE;
    Multihop = 36, "multihop", EMULTIHOP;
    Nametoolong = 37, "nametoolong", ENAMETOOLONG;
    Netdown = 38, "netdown", ENETDOWN;
    Netreset = 39, "netreset", ENETRESET;
    Netunreach = 40, "netunreach", ENETUNREACH;
    Nfile = 41, "nfile", ENFILE;
    Nobufs = 42, "nobufs", ENOBUFS;
    Nodev = 43, "nodev", ENODEV;
    Noent = 44, "noent", ENOENT;
    Noexec = 45, "noexec", ENOEXEC;
    Nolck = 46, "nolck", ENOLCK;
    Nolink = 47, "nolink", ENOLINK;
    Nomem = 48, "nomem", ENOMEM;
    Nomsg = 49, "nomsg", ENOMSG;
    Noprotoopt = 50, "noprotoopt", ENOPROTOOPT;
    Nospc = 51, "nospc", ENOSPC;
    Nosys = 52, "nosys", ENOSYS;
    Notconn = 53, "notconn", ENOTCONN;
    Notdir = 54, "notdir", ENOTDIR;
    Notempty = 55, "notempty", ENOTEMPTY;
    Notrecoverable = 56, "notrecoverable", ENOTRECOVERABLE;
    Notsock = 57, "notsock", ENOTSOCK;
    Notsup = 58, "notsup", EOPNOTSUPP;
    Notty = 59, "notty", ENOTTY;
    Nxio = 60, "nxio", ENXIO;
    Overflow = 61, "overflow", EOVERFLOW;
    Ownerdead = 62, "ownerdead", EOWNERDEAD;
    Perm = 63, "perm", EPERM;
    Pipe = 64, "pipe", EPIPE;
    Proto = 65, "proto", EPROTO;
    Protonosupport = 66, "protonosupport", EPROTONOSUPPORT;
    Prototype = 67, "prototype", EPROTOTYPE;
    Range = 68, "range", ERANGE;
    Rofs = 69, "rofs", EROFS;
    Spipe = 70, "spipe", ESPIPE;
    Srch = 71, "srch", ESRCH;
    Stale = 72, "stale", ESTALE;
    Timedout = 73, "timedout", ETIMEDOUT;
    Txtbsy = 74, "txtbsy", ETXTBSY;
    Xdev = 75, "xdev", EXDEV;
}

impl Errno {
    /// The value the guest receives.
    pub fn raw(self) -> u16 {
        self as u16
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for Errno {}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        match e.raw_os_error() {
            Some(raw) => Errno::from_raw_os(raw),
            None => match e.kind() {
                std::io::ErrorKind::NotFound => Errno::Noent,
                std::io::ErrorKind::PermissionDenied => Errno::Perm,
                std::io::ErrorKind::AlreadyExists => Errno::Exist,
                std::io::ErrorKind::InvalidInput => Errno::Inval,
                std::io::ErrorKind::WouldBlock => Errno::Again,
                std::io::ErrorKind::Interrupted => Errno::Intr,
                std::io::ErrorKind::OutOfMemory => Errno::Nomem,
                _ => Errno::Io,
            },
        }
    }
}

impl From<GuestError> for Errno {
    /// A bad pointer or length is `fault`; a misaligned one `inval` and a
    /// string that is not UTF-8 `ilseq` (as wasmtime reports them).
    fn from(e: GuestError) -> Errno {
        match e {
            GuestError::OutOfBounds { .. } => Errno::Fault,
            GuestError::Misaligned { .. } => Errno::Inval,
            GuestError::InvalidUtf8 { .. } => Errno::Ilseq,
        }
    }
}

/// The result of a WASI call.
pub type WasiResult<T> = Result<T, Errno>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_maps_host_errors() {
        assert_eq!(Errno::from_raw_os(libc::ENOENT), Errno::Noent);
        assert_eq!(Errno::from_raw_os(libc::ENOTEMPTY), Errno::Notempty);
        assert_eq!(Errno::from_raw_os(libc::EWOULDBLOCK), Errno::Again);
        assert_eq!(Errno::from_raw_os(libc::ENOTSUP), Errno::Notsup);
        // A host number the table does not know is `io`, never passed through.
        assert_eq!(Errno::from_raw_os(100_000), Errno::Io);
        assert_eq!(
            Errno::from(std::io::Error::from_raw_os_error(libc::EXDEV)),
            Errno::Xdev
        );
        assert_eq!(Errno::Notcapable.raw(), 76);
        assert_eq!(Errno::TooBig.name(), "2big");
    }

    #[test]
    fn guest_errors_map_to_fault() {
        let e = GuestError::OutOfBounds { ptr: 1, len: 2 };
        assert_eq!(Errno::from(e), Errno::Fault);
    }
}
