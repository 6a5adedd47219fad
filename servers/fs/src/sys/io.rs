//! Moving bytes: read, write and their vector and positioned forms, lseek,
//! ioctl and fsync, over regular files, directories and the devices.

use alloc::vec::Vec;
use lstar_abi::errno::Errno;

use crate::files::{FileServer, OfdId, Pid};
use crate::linux::{ioctl as req, o, Termios, Winsize, IOV_MAX, MAX_OFFSET, MAX_RW_COUNT};
use crate::linux::{SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET};
use crate::tmpfs::{touch, Device, Node};
use crate::user::{self, Env};

/// Where a transfer happens: at the description's offset (read, write),
/// which then moves, or at a given position (pread, pwrite).
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Offset,
    Pos(u64),
}

impl FileServer {
    pub(super) fn read(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, buf: u64, count: u64) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        self.read_ofd(env, id, buf, count, At::Offset)
    }

    pub(super) fn write(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, buf: u64, count: u64) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        self.write_ofd(env, id, buf, count, At::Offset)
    }

    pub(super) fn pread(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, buf: u64, count: u64, pos: i64) -> Result<u64, Errno> {
        let (id, pos) = self.positioned(pid, fd, pos)?;
        self.read_ofd(env, id, buf, count, At::Pos(pos))
    }

    pub(super) fn pwrite(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, buf: u64, count: u64, pos: i64) -> Result<u64, Errno> {
        let (id, pos) = self.positioned(pid, fd, pos)?;
        self.write_ofd(env, id, buf, count, At::Pos(pos))
    }

    /// pread/pwrite's checks: a negative position is `EINVAL`, a terminal
    /// cannot be positioned (`ESPIPE`).
    fn positioned(&mut self, pid: Pid, fd: i32, pos: i64) -> Result<(OfdId, u64), Errno> {
        let pos = u64::try_from(pos).map_err(|_| Errno::EINVAL)?;
        let id = self.io_ofd(pid, fd)?;
        if self.is_terminal(id) || self.ofd_pipe(self.ofd(id)).is_some() {
            return Err(Errno::ESPIPE);
        }
        Ok((id, pos))
    }

    fn is_terminal(&self, id: OfdId) -> bool {
        matches!(self.fs.inode(self.ofd(id).ino).node, Node::Device(d) if d.is_terminal())
    }

    /// Hands a terminal's read, write, readv, writev or ioctl to the
    /// console server, which answers the caller itself (the value the
    /// handler then returns is not sent). False without a console server:
    /// the console is served here, output through the kernel and no input.
    fn forward_terminal(&self, env: &mut dyn Env, id: OfdId) -> bool {
        self.is_terminal(id) && env.forward_console(self.ofd(id).flags)
    }

    fn read_ofd(&mut self, env: &mut dyn Env, id: OfdId, buf: u64, count: u64, at: At) -> Result<u64, Errno> {
        let ofd = self.ofd(id);
        if !ofd.readable() {
            return Err(Errno::EBADF);
        }
        user::access_ok(buf, count)?;
        if self.forward_terminal(env, id) {
            return Ok(0);
        }
        let count = count.min(MAX_RW_COUNT);
        let pos = match at {
            At::Offset => ofd.offset,
            At::Pos(p) => p,
        };
        let n = match &self.fs.inode(ofd.ino).node {
            Node::Dir(_) => return Err(Errno::EISDIR),
            Node::File(data) => {
                let len = data.len() as u64;
                let n = if pos >= len || count == 0 {
                    0
                } else {
                    let end = len.min(pos + count);
                    user::copy_out(env, buf, &data[pos as usize..end as usize])?
                };
                // A read is an access, even at the end of the file; a
                // read of nothing is not.
                if count > 0 {
                    self.fs.touch(ofd.ino, touch::READ);
                }
                n
            }
            Node::Device(dev) => return read_device(env, *dev, buf, count),
            Node::Proc(g) => {
                let text = self.proc_read(env, *g)?;
                let len = text.len() as u64;
                if pos >= len || count == 0 {
                    0
                } else {
                    user::copy_out(env, buf, &text[pos as usize..len.min(pos + count) as usize])?
                }
            }
            Node::Symlink(_) => return Err(Errno::EBADF),
            // Never opened (sys::name refuses it).
            Node::Special { .. } => return Err(Errno::ENXIO),
            // read and readv reach a pipe through sys::pipe; pread here.
            Node::Pipe(_) | Node::Fifo(_) => return Err(Errno::ESPIPE),
        };
        if at == At::Offset {
            self.ofd_mut(id).offset = pos + n;
        }
        Ok(n)
    }

    fn write_ofd(&mut self, env: &mut dyn Env, id: OfdId, buf: u64, count: u64, at: At) -> Result<u64, Errno> {
        let ofd = self.ofd(id);
        if !ofd.writable() {
            return Err(Errno::EBADF);
        }
        user::access_ok(buf, count)?;
        if self.forward_terminal(env, id) {
            return Ok(0);
        }
        let count = count.min(MAX_RW_COUNT);
        let (ino, append, offset) = (ofd.ino, ofd.flags & o::APPEND != 0, ofd.offset);
        let len = match &self.fs.inode(ino).node {
            Node::File(data) => data.len(),
            Node::Device(dev) => return write_device(env, *dev, buf, count),
            Node::Dir(_) => return Err(Errno::EISDIR),
            Node::Symlink(_) => return Err(Errno::EBADF),
            Node::Special { .. } => return Err(Errno::ENXIO),
            // Never open for writing (sys::name refuses it).
            Node::Proc(_) => return Err(Errno::EINVAL),
            // write and writev reach a pipe through sys::pipe; pwrite here.
            Node::Pipe(_) | Node::Fifo(_) => return Err(Errno::ESPIPE),
        };
        // O_APPEND writes at the end, pwrite(2) included (a Linux quirk
        // its man page documents).
        let pos = match (append, at) {
            (true, _) => len as u64,
            (false, At::Pos(p)) => p,
            (false, At::Offset) => offset,
        };
        if count == 0 {
            return Ok(0);
        }
        if pos >= MAX_OFFSET {
            return Err(Errno::EFBIG);
        }
        let count = count.min(MAX_OFFSET - pos);
        let end = usize::try_from(pos + count).map_err(|_| Errno::EFBIG)?;
        let pos = usize::try_from(pos).map_err(|_| Errno::EFBIG)?;
        if end > len {
            self.fs.resize_file(ino, end)?;
        }
        let copied = user::copy_in(env, buf, &mut self.fs.file_bytes_mut(ino)?[pos..end]);
        let n = *copied.as_ref().unwrap_or(&0) as usize;
        if pos + n < end && end > len {
            // Take back what was grown for bytes that never came. Linux
            // (6.18, tmpfs and ext4 alike) leaves the file extended to the
            // write position even when not one byte could be copied.
            self.fs.resize_file(ino, len.max(pos + n))?;
        }
        let n = copied?;
        self.fs.touch(ino, touch::MTIME | touch::CTIME);
        if at == At::Offset {
            self.ofd_mut(id).offset = (pos as u64) + n;
        }
        Ok(n)
    }

    pub(super) fn readv(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, iov: u64, count: u64) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        if !self.ofd(id).readable() {
            return Err(Errno::EBADF);
        }
        let vecs = iovecs(env, iov, count)?;
        // The console server reads the iovecs itself.
        if self.forward_terminal(env, id) {
            return Ok(0);
        }
        let mut total = 0;
        for (base, len) in vecs {
            match self.read_ofd(env, id, base, len, At::Offset) {
                Ok(n) => {
                    total += n;
                    if n < len {
                        break;
                    }
                }
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(total)
    }

    pub(super) fn writev(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, iov: u64, count: u64) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        if !self.ofd(id).writable() {
            return Err(Errno::EBADF);
        }
        let vecs = iovecs(env, iov, count)?;
        if self.forward_terminal(env, id) {
            return Ok(0);
        }
        let mut total = 0;
        for (base, len) in vecs {
            match self.write_ofd(env, id, base, len, At::Offset) {
                Ok(n) => {
                    total += n;
                    if n < len {
                        break;
                    }
                }
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(total)
    }

    pub(super) fn lseek(&mut self, pid: Pid, fd: i32, offset: i64, whence: u32) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        if whence > SEEK_HOLE {
            return Err(Errno::EINVAL);
        }
        let cur = self.ofd(id).offset;
        let new = match &self.fs.inode(self.ofd(id).ino).node {
            Node::Device(dev) if dev.is_terminal() => return Err(Errno::ESPIPE),
            Node::Pipe(_) | Node::Fifo(_) => return Err(Errno::ESPIPE),
            // Linux's null and zero devices keep every position at 0.
            Node::Device(_) => 0,
            Node::File(data) => {
                let size = data.len() as i64;
                let cur = cur as i64;
                let target = match whence {
                    SEEK_SET => Some(offset),
                    SEEK_CUR => cur.checked_add(offset),
                    SEEK_END => size.checked_add(offset),
                    // No holes: data runs from 0 to the end of the file.
                    SEEK_DATA | SEEK_HOLE if offset < 0 || offset >= size => return Err(Errno::ENXIO),
                    SEEK_DATA => Some(offset),
                    _ => Some(size),
                };
                u64::try_from(target.ok_or(Errno::EINVAL)?).map_err(|_| Errno::EINVAL)?
            }
            // A /proc file has no size to seek from, as Linux's seq files.
            Node::Dir(_) | Node::Proc(_) => {
                let target = match whence {
                    SEEK_SET => Some(offset),
                    SEEK_CUR => (cur as i64).checked_add(offset),
                    _ => None,
                };
                u64::try_from(target.ok_or(Errno::EINVAL)?).map_err(|_| Errno::EINVAL)?
            }
            Node::Symlink(_) | Node::Special { .. } => return Err(Errno::EBADF),
        };
        self.ofd_mut(id).offset = new;
        Ok(new)
    }

    pub(super) fn ioctl(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, request: u32, arg: u64) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        // Requests every file answers (fs/ioctl.c in Linux).
        match request {
            req::FIOCLEX | req::FIONCLEX => {
                let entry = self.proc(pid).fds.get_mut(fd).expect("checked above");
                entry.cloexec = request == req::FIOCLEX;
                return Ok(0);
            }
            req::FIONBIO => {
                let mut on = [0u8; 4];
                user::read_exact(env, arg, &mut on)?;
                let ofd = self.ofd_mut(id);
                if i32::from_le_bytes(on) != 0 {
                    ofd.flags |= o::NONBLOCK;
                } else {
                    ofd.flags &= !o::NONBLOCK;
                }
                return Ok(0);
            }
            _ => {}
        }
        let ofd = self.ofd(id);
        match &self.fs.inode(ofd.ino).node {
            Node::File(data) if request == req::FIONREAD => {
                // Linux stores the size minus the offset as an int: negative
                // when the offset is past the end.
                let left = data.len() as i64 - ofd.offset as i64;
                let left = left.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
                user::write_exact(env, arg, &left.to_le_bytes()).map(|()| 0)
            }
            Node::Device(dev) if dev.is_terminal() => {
                if self.forward_terminal(env, id) {
                    return Ok(0);
                }
                self.tty_ioctl(env, request, arg)
            }
            node @ (Node::Pipe(_) | Node::Fifo(_)) if request == req::FIONREAD => {
                let p = node.pipe().expect("an open end of a FIFO has a pipe");
                let unread = i32::try_from(self.pipe_unread(p)).unwrap_or(i32::MAX);
                user::write_exact(env, arg, &unread.to_le_bytes()).map(|()| 0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    /// The console's terminal requests when there is no console server
    /// (which otherwise takes them, with its line discipline): settings
    /// are kept and reported back, but do not change how output is
    /// written.
    fn tty_ioctl(&mut self, env: &mut dyn Env, request: u32, arg: u64) -> Result<u64, Errno> {
        match request {
            req::TCGETS => user::write_exact(env, arg, &self.console.termios.0).map(|()| 0),
            req::TCSETS | req::TCSETSW | req::TCSETSF => {
                let mut t = [0u8; Termios::SIZE];
                user::read_exact(env, arg, &mut t)?;
                self.console.termios = Termios(t);
                Ok(0)
            }
            req::TIOCGWINSZ => user::write_exact(env, arg, &self.console.winsize.to_bytes()).map(|()| 0),
            req::TIOCSWINSZ => {
                let mut w = [0u8; Winsize::SIZE];
                user::read_exact(env, arg, &mut w)?;
                self.console.winsize = Winsize::from_bytes(&w);
                Ok(0)
            }
            // No console input is queued (there is none yet).
            req::FIONREAD => user::write_exact(env, arg, &0i32.to_le_bytes()).map(|()| 0),
            _ => Err(Errno::ENOTTY),
        }
    }

    /// fsync and fdatasync: the tmpfs has nothing to flush; character
    /// devices have no fsync at all (`EINVAL`, as in Linux).
    pub(super) fn fsync(&mut self, pid: Pid, fd: i32) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        match self.fs.inode(self.ofd(id).ino).node {
            Node::Device(_) | Node::Special { .. } | Node::Pipe(_) | Node::Fifo(_) => Err(Errno::EINVAL),
            _ => Ok(0),
        }
    }
}

/// The iovec array of readv/writev as (base, len) pairs, checked in
/// Linux's order: more than [`IOV_MAX`] entries (`count` is an unsigned
/// long) is `EINVAL`, an unreadable array `EFAULT`, any length negative
/// as an ssize_t `EINVAL`; then each range must lie in user memory
/// (`EFAULT`, so lengths whose sum overflows fail there). The lengths
/// are cut so that they add up to at most [`MAX_RW_COUNT`].
pub(super) fn iovecs(env: &mut dyn Env, iov: u64, count: u64) -> Result<Vec<(u64, u64)>, Errno> {
    if count > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let mut raw = alloc::vec![0u8; (count * 16) as usize];
    user::read_exact(env, iov, &mut raw)?;
    let vecs: Vec<(u64, u64)> = raw
        .chunks_exact(16)
        .map(|v| (u64::from_le_bytes(v[..8].try_into().expect("8 bytes")), u64::from_le_bytes(v[8..].try_into().expect("8 bytes"))))
        .collect();
    if vecs.iter().any(|&(_, len)| len > i64::MAX as u64) {
        return Err(Errno::EINVAL);
    }
    let mut total: u64 = 0;
    let mut capped = Vec::with_capacity(vecs.len());
    for (base, len) in vecs {
        user::access_ok(base, len)?;
        let len = len.min(MAX_RW_COUNT - total);
        total += len;
        capped.push((base, len));
    }
    Ok(capped)
}

fn read_device(env: &mut dyn Env, dev: Device, buf: u64, count: u64) -> Result<u64, Errno> {
    if count == 0 {
        return Ok(0);
    }
    match dev {
        Device::Null => Ok(0),
        Device::Zero | Device::Full => user::zero_out(env, buf, count),
        Device::Random | Device::Urandom => user::fill_out(env, buf, count, |env, chunk| env.random(chunk)),
        // No console input until a console server exists: end of file.
        Device::Console | Device::Tty => Ok(0),
    }
}

fn write_device(env: &mut dyn Env, dev: Device, buf: u64, count: u64) -> Result<u64, Errno> {
    // /dev/full refuses every write, even of nothing.
    if dev == Device::Full {
        return Err(Errno::ENOSPC);
    }
    if count == 0 {
        return Ok(0);
    }
    match dev {
        // Linux's null and zero devices take any bytes without reading them.
        Device::Null | Device::Zero => Ok(count),
        Device::Full => Err(Errno::ENOSPC),
        // Bytes written to the random devices are read (and would be mixed in).
        Device::Random | Device::Urandom => user::drain_in(env, buf, count, |_, _| Ok(())),
        Device::Console | Device::Tty => user::drain_in(env, buf, count, |env, bytes| env.console_write(bytes)),
    }
}
