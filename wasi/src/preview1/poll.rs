//! `poll_oneoff`: clock and descriptor-readiness subscriptions, waited on
//! with one real `ppoll(2)`.
//!
//! Clock subscriptions become the poll timeout (the earliest deadline);
//! relative ones count from the call, absolute ones are compared with their
//! own clock. Descriptor subscriptions become `pollfd`s; regular files are
//! always ready, as POSIX says. Subscriptions that fail on their own (a bad
//! descriptor, a missing right, an unknown clock) come back as events with
//! an error, and the call does not wait when there is one.

use super::Call;
use super::clock::host_clock;
use crate::errno::{Errno, WasiResult};
use crate::sys;
use crate::types::{
    Abi, EVENT_FD_READWRITE_HANGUP, SUBSCRIPTION_CLOCK_ABSTIME, eventtype, filetype, rights,
};

struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

enum Sub {
    /// Fires when `CLOCK_MONOTONIC` reaches this many nanoseconds.
    Clock { deadline: u64 },
    Fd {
        pollfd: usize,
        kind: u8,
        file_bytes: Option<u64>,
    },
}

pub(crate) fn poll_oneoff(
    c: &mut Call<'_, '_>,
    subs: u32,
    events: u32,
    nsubs: u32,
    out: u32,
) -> WasiResult<()> {
    if nsubs == 0 {
        return Err(Errno::Inval);
    }
    let size = c.abi.subscription_size();
    let total = nsubs.checked_mul(size).ok_or(Errno::Fault)?;
    c.mem.slice(subs, total)?;
    c.mem
        .slice(events, nsubs.checked_mul(32).ok_or(Errno::Fault)?)?;
    c.mem.read::<u32>(out)?;

    let start = sys::clock_gettime(libc::CLOCK_MONOTONIC)?;
    let mut ready: Vec<Event> = Vec::new();
    let mut pending: Vec<(u64, Sub)> = Vec::new();
    let mut pollfds: Vec<libc::pollfd> = Vec::new();
    for i in 0..nsubs {
        let at = subs + i * size;
        let userdata: u64 = c.mem.read(at)?;
        let tag: u8 = c.mem.read(at + 8)?;
        let fail = |error| Event {
            userdata,
            error,
            kind: tag,
            nbytes: 0,
            flags: 0,
        };
        match tag {
            eventtype::CLOCK => {
                let body = match c.abi {
                    Abi::Preview1 => at + 16,
                    Abi::Unstable => at + 24,
                };
                let id: u32 = c.mem.read(body)?;
                let timeout: u64 = c.mem.read(body + 8)?;
                let flags: u16 = c.mem.read(body + 24)?;
                let clock = match host_clock(id) {
                    Ok(clock) => clock,
                    Err(e) => {
                        ready.push(fail(e));
                        continue;
                    }
                };
                let wait = if flags & SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                    timeout.saturating_sub(sys::clock_gettime(clock)?)
                } else {
                    timeout
                };
                pending.push((
                    userdata,
                    Sub::Clock {
                        deadline: start.saturating_add(wait),
                    },
                ));
            }
            eventtype::FD_READ | eventtype::FD_WRITE => {
                let fd: u32 = c.mem.read(at + 16)?;
                let d = match c.cx.fds.get(fd) {
                    Ok(d) => d,
                    Err(e) => {
                        ready.push(fail(e));
                        continue;
                    }
                };
                let right = if tag == eventtype::FD_READ {
                    rights::FD_READ
                } else {
                    rights::FD_WRITE
                };
                if d.check(rights::POLL_FD_READWRITE).is_err() && d.check(right).is_err() {
                    ready.push(fail(Errno::Notcapable));
                    continue;
                }
                // In-memory streams are always ready: input with what is
                // left (hung up at its end), output with room to write.
                if let Some((nbytes, at_end)) = d.memory_readiness() {
                    ready.push(Event {
                        userdata,
                        error: Errno::Success,
                        kind: tag,
                        nbytes: if tag == eventtype::FD_READ { nbytes } else { 0 },
                        flags: if tag == eventtype::FD_READ && at_end {
                            EVENT_FD_READWRITE_HANGUP
                        } else {
                            0
                        },
                    });
                    continue;
                }
                let host = d.host()?;
                let file_bytes = (d.filetype == filetype::REGULAR_FILE).then(|| {
                    if tag == eventtype::FD_READ {
                        let size = sys::fstat(host).map_or(0, |st| st.st_size as u64);
                        let pos = sys::lseek(host, 0, libc::SEEK_CUR).unwrap_or(0);
                        size.saturating_sub(pos)
                    } else {
                        0
                    }
                });
                pollfds.push(libc::pollfd {
                    fd: std::os::fd::AsRawFd::as_raw_fd(&host),
                    events: if tag == eventtype::FD_READ {
                        libc::POLLIN
                    } else {
                        libc::POLLOUT
                    },
                    revents: 0,
                });
                pending.push((
                    userdata,
                    Sub::Fd {
                        pollfd: pollfds.len() - 1,
                        kind: tag,
                        file_bytes,
                    },
                ));
            }
            _ => ready.push(fail(Errno::Inval)),
        }
    }

    if ready.is_empty() {
        let earliest = pending
            .iter()
            .filter_map(|(_, s)| match s {
                Sub::Clock { deadline } => Some(*deadline),
                Sub::Fd { .. } => None,
            })
            .min();
        // The wait needs only the raw descriptors: the other threads of a
        // threaded program may make calls meanwhile (one that closes a
        // polled descriptor races as it would natively).
        c.cx.unlocked(|| -> WasiResult<()> {
            loop {
                let now = sys::clock_gettime(libc::CLOCK_MONOTONIC)?;
                let timeout = earliest.map(|d| d.saturating_sub(now));
                match sys::poll(&mut pollfds, timeout) {
                    Ok(_) => return Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        })?;
        let now = sys::clock_gettime(libc::CLOCK_MONOTONIC)?;
        for (userdata, sub) in &pending {
            match *sub {
                Sub::Clock { deadline } => {
                    if now >= deadline {
                        ready.push(Event {
                            userdata: *userdata,
                            error: Errno::Success,
                            kind: eventtype::CLOCK,
                            nbytes: 0,
                            flags: 0,
                        });
                    }
                }
                Sub::Fd {
                    pollfd,
                    kind,
                    file_bytes,
                } => {
                    let rev = pollfds[pollfd].revents;
                    if rev == 0 {
                        continue;
                    }
                    let (error, flags) = if rev & libc::POLLNVAL != 0 {
                        (Errno::Badf, 0)
                    } else if rev & libc::POLLERR != 0 && rev & (libc::POLLIN | libc::POLLOUT) == 0
                    {
                        (Errno::Io, 0)
                    } else if rev & libc::POLLHUP != 0 {
                        (Errno::Success, EVENT_FD_READWRITE_HANGUP)
                    } else {
                        (Errno::Success, 0)
                    };
                    let nbytes = match file_bytes {
                        Some(n) => n,
                        None if kind == eventtype::FD_READ => {
                            let fd = pollfds[pollfd].fd;
                            c.cx.fds
                                .iter()
                                .filter_map(|(_, d)| d.host().ok())
                                .find(|host| std::os::fd::AsRawFd::as_raw_fd(host) == fd)
                                .and_then(sys::bytes_readable)
                                .unwrap_or(0)
                        }
                        None => 0,
                    };
                    ready.push(Event {
                        userdata: *userdata,
                        error,
                        kind,
                        nbytes,
                        flags,
                    });
                }
            }
        }
    }

    for (i, e) in ready.iter().enumerate() {
        let at = events + i as u32 * 32;
        c.mem.copy_from(at, &[0; 32])?;
        c.mem.write(at, e.userdata)?;
        c.mem.write(at + 8, e.error.raw())?;
        c.mem.write(at + 10, e.kind)?;
        c.mem.write(at + 16, e.nbytes)?;
        c.mem.write(at + 24, e.flags)?;
    }
    c.mem.write(out, ready.len() as u32)?;
    Ok(())
}
