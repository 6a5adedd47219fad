//! pipe(2) and pipe2(2), and moving bytes through a pipe with read,
//! write, readv and writev, as pipe(7) describes: a read of an empty pipe
//! waits for a writer (or returns 0 once there is none), a write to a
//! full pipe waits for a reader (or fails with EPIPE, raising SIGPIPE,
//! once there is none), and O_NONBLOCK turns each wait into EAGAIN.
//! Waiting calls are held (`sys::held`) and tried again after a message
//! that changed their pipe.

use alloc::vec::Vec;
use core::ops::Deref;
use lstar_abi::errno::Errno;
use lstar_abi::ThreadId;
use libsys::nr;

use super::held::Waiting;
use crate::files::{FileServer, Ofd, OfdId, Pid};
use crate::host::{Effect, Host, SIGPIPE};
use crate::linux::{mode::S_IFIFO, o, MAX_RW_COUNT};
use crate::pipe::{PipeId, MAX_SLOTS, PAGE};
use crate::tmpfs::{Ino, Node};
use crate::user::{self, Env};

/// What an open leads to.
pub(crate) enum Opened {
    /// The new descriptor.
    Fd(i32),
    /// An end of a FIFO that waits for the other end: the call is held.
    Wait(FifoOpen),
}

/// An open of a FIFO's end, kept while it waits for the other end, as
/// fifo(7) says: a reader for a writer, a writer for a reader.
pub(crate) struct FifoOpen {
    /// The description made for it, which already counts as an open end
    /// (so that the other end's open need not wait for it).
    pub ofd: OfdId,
    pub pipe: PipeId,
    pub cloexec: bool,
    /// It waits for a writer; else for a reader.
    pub for_writer: bool,
    /// How many times the other end had been opened when the wait began.
    pub since: u64,
}

/// The caller's buffers of a read or write on a pipe, (address, length)
/// in order: one for read and write (kept inline, so that the common call
/// allocates nothing), the iovecs for readv and writev.
pub(crate) enum Segs {
    One([(u64, u64); 1]),
    Many(Vec<(u64, u64)>),
}

impl Deref for Segs {
    type Target = [(u64, u64)];

    fn deref(&self) -> &[(u64, u64)] {
        match self {
            Segs::One(one) => one,
            Segs::Many(v) => v,
        }
    }
}

/// A read or write on a pipe, kept while it waits.
pub(crate) struct PipeIo {
    /// The end it uses, held open while the call waits (another thread
    /// of the process may close the descriptor meanwhile).
    pub ofd: OfdId,
    pub pipe: PipeId,
    pub segs: Segs,
    pub total: u64,
    /// Bytes already moved: a large write goes on after a wait.
    pub done: u64,
}

impl FileServer {
    /// pipe2(2) (and pipe(2), with no flags): a read end and a write end,
    /// at the two lowest free descriptors.
    pub(super) fn pipe2(&mut self, env: &mut dyn Env, pid: Pid, fds: u64, flags: u32) -> Result<u64, Errno> {
        // O_DIRECT (packet mode) is not supported: refused rather than
        // given byte-stream semantics the program did not ask for.
        if flags & !(o::CLOEXEC | o::NONBLOCK) != 0 {
            return Err(Errno::EINVAL);
        }
        let p = self.proc(pid);
        let rfd = p.free_fd(0)?;
        // Every descriptor below `rfd` is taken, so the next free one is
        // past it.
        let wfd = p.free_fd(rfd + 1)?;
        let mut pair = [0u8; 8];
        pair[..4].copy_from_slice(&rfd.to_le_bytes());
        pair[4..].copy_from_slice(&wfd.to_le_bytes());
        // Linux copies the pair out before it installs either descriptor.
        user::write_exact(env, fds, &pair)?;
        let ino = self.fs.anon(S_IFIFO | 0o600, Node::Pipe(self.pipes.create()));
        let status = flags & o::NONBLOCK;
        let r = self.open_ofd(ino, o::RDONLY | status);
        let w = self.open_ofd(ino, o::WRONLY | status);
        let cloexec = flags & o::CLOEXEC != 0;
        self.install(pid, rfd, r, cloexec);
        self.install(pid, wfd, w, cloexec);
        Ok(0)
    }

    /// Opens FIFO `ino` (pipe `p`) with `flags`: a read end, a write end
    /// or both (O_RDWR, which never waits). Without O_NONBLOCK an end
    /// waits until the other end has been opened; with it a read end
    /// opens at once and a write end with no reader is `ENXIO`.
    pub(super) fn open_fifo(&mut self, pid: Pid, ino: Ino, p: Option<PipeId>, flags: u32, cloexec: bool) -> Result<Opened, Errno> {
        let acc = flags & o::ACCMODE;
        let (reader, writer) = (acc != o::WRONLY, acc != o::RDONLY);
        let nonblock = flags & o::NONBLOCK != 0;
        let readers = p.map_or(0, |p| self.pipes.get(p).readers);
        if acc == o::WRONLY && nonblock && readers == 0 {
            return Err(Errno::ENXIO);
        }
        let ofd = self.open_ofd(ino, flags);
        // The first open end makes the FIFO's pipe.
        let p = p.unwrap_or_else(|| {
            let p = self.pipes.create_fifo();
            self.fs.inode_mut(ino).node = Node::Fifo(Some(p));
            p
        });
        let pipe = self.pipes.open_end(p, reader, writer);
        // A reader that opens with no writer without waiting for one
        // hears of no hang-up until a writer comes.
        let writers_seen = if reader && pipe.writers == 0 { pipe.writer_opens } else { 0 };
        let wait = match (reader, writer) {
            (true, false) if !nonblock && pipe.writers == 0 => Some((true, pipe.writer_opens)),
            (false, true) if !nonblock && pipe.readers == 0 => Some((false, pipe.reader_opens)),
            _ => None,
        };
        self.ofd_mut(ofd).writers_seen = writers_seen;
        match wait {
            Some((for_writer, since)) => Ok(Opened::Wait(FifoOpen { ofd, pipe: p, cloexec, for_writer, since })),
            // The fd was checked free before the file was looked up.
            None => self.install_lowest(pid, ofd, cloexec).map(Opened::Fd),
        }
    }

    /// A held FIFO open: done (the descriptor, or `EMFILE`) once the other
    /// end has been opened since the wait began, or `Ok(None)`.
    pub(super) fn fifo_open_step(&mut self, pid: Pid, w: &FifoOpen) -> Result<Option<u64>, Errno> {
        let pipe = self.pipes.get(w.pipe);
        let came = if w.for_writer { pipe.writers > 0 || pipe.writer_opens != w.since } else { pipe.readers > 0 || pipe.reader_opens != w.since };
        if !came {
            return Ok(None);
        }
        // The held call's own reference keeps the description while it
        // is installed; releasing the call drops that one.
        self.install_lowest(pid, w.ofd, w.cloexec).map(|fd| Some(super::fd_ret(fd)))
    }

    /// The description and pipe behind `fd`, when it is a pipe end.
    pub(crate) fn pipe_of(&self, pid: Pid, fd: i32) -> Option<(OfdId, PipeId)> {
        let entry = self.procs.get(&pid)?.fds.get(fd)?;
        let p = self.fs.inode(self.ofd(entry.ofd).ino).node.pipe()?;
        Some((entry.ofd, p))
    }

    /// The pipe an open description is an end of (of a pipe or a FIFO;
    /// not of an O_PATH handle on a FIFO, which opens no end).
    pub(crate) fn ofd_pipe(&self, ofd: &Ofd) -> Option<PipeId> {
        if ofd.is_path() {
            return None;
        }
        self.fs.inode(ofd.ino).node.pipe()
    }

    /// An open description is gone: if it was a pipe end, the pipe has one
    /// reader or writer less (held calls see it when tried again).
    pub(crate) fn ofd_closed(&mut self, ofd: &Ofd) {
        let Some(p) = self.ofd_pipe(ofd) else { return };
        if let Some(slots) = self.pipes.close_end(p, ofd.readable(), ofd.writable()) {
            // The pipe went with its last end; a FIFO makes a new one when
            // it is opened again.
            self.fs.unreserve(slots * PAGE);
            if let Node::Fifo(pipe) = &mut self.fs.inode_mut(ofd.ino).node {
                *pipe = None;
            }
        }
    }

    /// Bytes waiting in pipe `p` (FIONREAD).
    pub(crate) fn pipe_unread(&self, p: PipeId) -> usize {
        self.pipes.get(p).buf.len()
    }

    /// F_GETPIPE_SZ.
    pub(crate) fn pipe_size(&self, p: PipeId) -> u64 {
        self.pipes.get(p).buf.capacity() as u64
    }

    /// F_SETPIPE_SZ: at least `size` bytes, rounded up to a power of two
    /// pages; EBUSY when more is queued than that holds.
    pub(crate) fn set_pipe_size(&mut self, p: PipeId, size: u64) -> Result<u64, Errno> {
        let pages = usize::try_from(size.div_ceil(PAGE as u64)).map_err(|_| Errno::EINVAL)?.max(1);
        let slots = pages.checked_next_power_of_two().filter(|&s| s <= MAX_SLOTS).ok_or(Errno::EPERM)?;
        if !self.pipes.get_mut(p).buf.set_slots(slots) {
            return Err(Errno::EBUSY);
        }
        Ok((slots * PAGE) as u64)
    }

    /// read, readv, write or writev on a pipe end (`pipe_of` the call's
    /// descriptor). `Ok(None)`: held.
    pub(super) fn pipe_io(&mut self, host: &mut dyn Host, pid: Pid, (ofd, pipe): (OfdId, PipeId), nr: u64, a: [u64; 6]) -> Result<Option<u64>, Errno> {
        let reading = matches!(nr, nr::READ | nr::READV);
        let end = self.ofd(ofd);
        if (reading && !end.readable()) || (!reading && !end.writable()) {
            return Err(Errno::EBADF);
        }
        let nonblock = end.flags & o::NONBLOCK != 0;
        let segs = match nr {
            nr::READ | nr::WRITE => {
                user::access_ok(a[1], a[2])?;
                Segs::One([(a[1], a[2])])
            }
            _ => Segs::Many(super::io::iovecs(host, a[1], a[2])?),
        };
        let total = segs.iter().map(|s| s.1).sum::<u64>().min(MAX_RW_COUNT);
        let mut io = PipeIo { ofd, pipe, segs, total, done: 0 };
        let caller = (pid, host.caller());
        let r = if reading { self.pipe_read_step(host, &mut io, nonblock) } else { self.pipe_write_step(host, caller, &mut io, nonblock, true) };
        if let Ok(None) = r {
            self.ref_ofd(ofd);
            let call = if reading { Waiting::PipeRead(io) } else { Waiting::PipeWrite(io) };
            self.hold(host, pid, call);
        }
        r
    }

    /// One try at a read: the bytes waiting (up to the count), or 0 at end
    /// of file, or `Ok(None)` to wait.
    pub(super) fn pipe_read_step(&mut self, env: &mut dyn Env, io: &mut PipeIo, nonblock: bool) -> Result<Option<u64>, Errno> {
        if io.total == 0 {
            return Ok(Some(0));
        }
        let pipe = self.pipes.get(io.pipe);
        if pipe.buf.is_empty() {
            return match (pipe.writers, nonblock) {
                (0, _) => Ok(Some(0)),
                (_, true) => Err(Errno::EAGAIN),
                (_, false) => Ok(None),
            };
        }
        // Straight from the slots to the caller's buffers.
        let mut done = 0;
        for chunk in pipe.buf.unread() {
            let want = chunk.len().min(usize::try_from(io.total).unwrap_or(usize::MAX) - done);
            if want == 0 {
                break;
            }
            let got = scatter(env, &io.segs, done as u64, &chunk[..want]);
            done += got;
            if got < want {
                break;
            }
        }
        if done == 0 {
            return Err(Errno::EFAULT);
        }
        // Bytes that could not be copied stay in the pipe. Only now is the
        // pipe changed (and marked so, for sys::held).
        let freed = self.pipes.get_mut(io.pipe).buf.consume(done);
        self.fs.unreserve(freed * PAGE);
        Ok(Some(done as u64))
    }

    /// One try at a write: as much as fits, in page-sized slots; done
    /// when every byte is in, or `Ok(None)` to wait for room (with
    /// `io.done` bytes in so far). `first` on the call's first try, when
    /// its last partial page may join the newest slot.
    pub(super) fn pipe_write_step(&mut self, env: &mut dyn Env, (pid, thread): (Pid, ThreadId), io: &mut PipeIo, nonblock: bool, first: bool) -> Result<Option<u64>, Errno> {
        // A write of nothing succeeds, even with no reader.
        if io.total == 0 {
            return Ok(Some(0));
        }
        let tail = (io.total % PAGE as u64) as usize;
        let pipe = self.pipes.get(io.pipe);
        if first && pipe.readers > 0 && tail != 0 && !pipe.buf.is_empty() && pipe.buf.can_merge(tail) {
            let buf = &mut self.pipes.get_mut(io.pipe).buf;
            if !buf.merge_with(tail, |room| gather(env, &io.segs, 0, room)) {
                return Err(Errno::EFAULT);
            }
            io.done = tail as u64;
        }
        loop {
            if io.done == io.total {
                return Ok(Some(io.done));
            }
            // Looked at, and changed (marked) only below if it has room.
            let pipe = self.pipes.get(io.pipe);
            if pipe.readers == 0 {
                // The signal goes first: the writer takes it on its way
                // back from this call.
                self.effect(Effect::Signal { pid, thread, signo: SIGPIPE });
                return partial(io.done, Errno::EPIPE);
            }
            // A new slot is a page of the server's heap, from the budget
            // file contents share: when that is spent, the pipe is full.
            if pipe.buf.is_full() || !self.fs.reserve(PAGE) {
                return if nonblock { partial(io.done, Errno::EAGAIN) } else { Ok(None) };
            }
            let n = (io.total - io.done).min(PAGE as u64) as usize;
            // Straight from the caller's buffers into the new slot.
            let got = self.pipes.get_mut(io.pipe).buf.push_with(n, |page| gather(env, &io.segs, io.done, page));
            if got == 0 {
                self.fs.unreserve(PAGE);
            }
            io.done += got as u64;
            if got < n {
                return partial(io.done, Errno::EFAULT);
            }
        }
    }
}

/// The bytes moved so far, or `e` if there are none.
fn partial(done: u64, e: Errno) -> Result<Option<u64>, Errno> {
    if done > 0 {
        Ok(Some(done))
    } else {
        Err(e)
    }
}

/// Copies `data` into the caller's buffers, starting `skip` bytes in;
/// stops at the first byte that cannot be written. Returns the bytes
/// copied.
fn scatter(env: &mut dyn Env, segs: &[(u64, u64)], mut skip: u64, data: &[u8]) -> usize {
    let mut done = 0;
    for &(base, len) in segs {
        if done == data.len() {
            break;
        }
        if skip >= len {
            skip -= len;
            continue;
        }
        let avail = len - skip;
        let n = (data.len() - done).min(usize::try_from(avail).unwrap_or(usize::MAX));
        let got = user::copy_out(env, base + skip, &data[done..done + n]).unwrap_or(0) as usize;
        skip = 0;
        done += got;
        if got < n {
            break;
        }
    }
    done
}

/// Fills `buf` from the caller's buffers, starting `skip` bytes in; stops
/// at the first byte that cannot be read. Returns the bytes filled.
fn gather(env: &mut dyn Env, segs: &[(u64, u64)], mut skip: u64, buf: &mut [u8]) -> usize {
    let mut done = 0;
    for &(base, len) in segs {
        if done == buf.len() {
            break;
        }
        if skip >= len {
            skip -= len;
            continue;
        }
        let avail = len - skip;
        let n = (buf.len() - done).min(usize::try_from(avail).unwrap_or(usize::MAX));
        let got = user::copy_in(env, base + skip, &mut buf[done..done + n]).unwrap_or(0) as usize;
        skip = 0;
        done += got;
        if got < n {
            break;
        }
    }
    done
}

