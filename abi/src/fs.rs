//! The file server's protocol for other servers ([`crate::MessageKind::Call`]
//! requests). Linux programs reach the file server through forwarded
//! syscalls instead; these calls keep its per-process state (fd tables,
//! working directory) in step with the process server's processes.
//!
//! Processes are named by pid, the tag the process server puts on every
//! thread it owns (lstar_abi::native::NativeCall::ThreadSetTag).

/// (parent_pid, child_pid): the child gets a copy of the parent's fd table
/// (sharing open file descriptions, as fork does) and working directory.
pub const FORK: u64 = 1;
/// (pid): close every descriptor of `pid` and forget it.
pub const EXIT: u64 = 2;
/// (pid, info_ptr, info_len): close the descriptors of `pid` marked
/// close-on-exec. `info` (in the caller's memory; may be empty) describes
/// the new program for /proc: the path it was run as, a NUL, then its
/// arguments each followed by a NUL (`/proc/<pid>/exe`, `cmdline`, `comm`).
pub const EXEC: u64 = 3;
/// (request_ptr): read a file to execute. The request is an [`ExecRead`]
/// in the caller's memory. Copies `min(size, buf_len)` bytes of the file
/// to `buf` and returns the file's size; `-ENOENT`, `-EACCES` (not a
/// regular file with an execute bit), `-ENOTDIR`, `-ELOOP`, `-EFAULT`.
/// A caller whose buffer was too small calls again with a bigger one.
pub const READ_EXEC: u64 = 4;

/// (pid, ppid): tell the file server about the first process (which no
/// FORK announces), for /proc; its program follows with [`EXEC`].
pub const SPAWN: u64 = 5;

/// (request_ptr): read part of an open file for a private file mapping
/// (mmap of a file). The request is an [`ExecRead`]-shaped [`FdRead`] in the
/// caller's memory. Copies up to `buf_len` bytes from `offset` and returns
/// how many (0 past the end); `-EBADF` (no such fd), `-EACCES` (not open
/// for reading), `-ENODEV` (not a regular file).
pub const READ_FD: u64 = 6;

/// (pid, soft_limit): RLIMIT_NOFILE of `pid` changed. The process server
/// owns every limit; this one is told to the file server, which enforces
/// it (EMFILE from open, dup, pipe…; dup2's and F_DUPFD's bounds; poll's
/// array), on each prlimit64 that sets it. A forked child inherits the
/// parent's limit in both servers, so FORK carries nothing more.
pub const NOFILE: u64 = 7;

/// (pid, fd): how `fd` of `pid` can be mapped, for mmap's checks: a
/// [`map_info`] word (its kind and the descriptor's access mode); `-EBADF`
/// when there is no such descriptor or it is an O_PATH handle.
pub const MAP_INFO: u64 = 8;

/// (request_ptr): map a regular file MAP_SHARED. The request is a
/// [`FdMap`] in the caller's memory. The file's bytes move to shared
/// pages of the file server if they are not there yet, and the pages from
/// `offset` on that hold the file (up to the end of its last page) are
/// granted to `space` at `addr` (lstar_abi::native::NativeCall::AsGrant),
/// at most `len` bytes. Returns how many bytes it mapped (whole pages):
/// the caller leaves the rest unmapped, past the file's end. `-EBADF`,
/// `-EACCES` (not open for reading, or `prot` writes and the descriptor
/// is not open for writing), `-ENODEV` (not a regular file), `-ENOMEM`,
/// `-EEXIST` (a page of the range is mapped).
pub const MAP_SHARED: u64 = 9;

/// The answer of [`MAP_INFO`].
pub mod map_info {
    /// The descriptor is open for reading.
    pub const READ: u64 = 1;
    /// The descriptor is open for writing.
    pub const WRITE: u64 = 2;
    /// What is open, in the bits under this mask: one of the kinds below.
    pub const KIND_MASK: u64 = 0xff00;
    /// Nothing mmap can map (a pipe, a directory, most devices): ENODEV.
    pub const KIND_NONE: u64 = 0;
    /// A regular file: private mappings copy it, shared ones share its
    /// pages ([`super::MAP_SHARED`]).
    pub const KIND_FILE: u64 = 0x100;
    /// /dev/zero: mapped as anonymous memory, shared or private as asked.
    pub const KIND_ZERO: u64 = 0x200;
}

/// The request of [`MAP_SHARED`], in the calling server's memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FdMap {
    pub pid: u64,
    pub fd: u64,
    /// Where in the file, page-aligned.
    pub offset: u64,
    /// The address space (one the caller created) and where in it.
    pub space: u64,
    pub addr: u64,
    /// Page-aligned.
    pub len: u64,
    /// PROT_* bits.
    pub prot: u64,
}

impl FdMap {
    pub const SIZE: usize = 56;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        for (i, v) in [self.pid, self.fd, self.offset, self.space, self.addr, self.len, self.prot].iter().enumerate() {
            out[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> FdMap {
        let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        FdMap { pid: w(0), fd: w(1), offset: w(2), space: w(3), addr: w(4), len: w(5), prot: w(6) }
    }
}

/// The request of [`READ_FD`]: the same five words as [`ExecRead`], with
/// the descriptor and offset where the path is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FdRead {
    pub pid: u64,
    pub fd: u64,
    pub offset: u64,
    pub buf: u64,
    pub buf_len: u64,
}

impl FdRead {
    pub fn to_request(&self) -> ExecRead {
        ExecRead { pid: self.pid, path: self.fd, path_len: self.offset, buf: self.buf, buf_len: self.buf_len }
    }

    pub fn from_request(r: &ExecRead) -> FdRead {
        FdRead { pid: r.pid, fd: r.path, offset: r.path_len, buf: r.buf, buf_len: r.buf_len }
    }
}

/// The request of [`READ_EXEC`], in the calling server's memory.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecRead {
    /// Whose working directory a relative path starts from.
    pub pid: u64,
    /// The path, in the calling server's memory (no NUL needed).
    pub path: u64,
    pub path_len: u64,
    /// Where the file goes, in the calling server's memory.
    pub buf: u64,
    pub buf_len: u64,
}

impl ExecRead {
    pub const SIZE: usize = 40;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        for (i, v) in [self.pid, self.path, self.path_len, self.buf, self.buf_len].iter().enumerate() {
            out[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> ExecRead {
        let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        ExecRead { pid: w(0), path: w(1), path_len: w(2), buf: w(3), buf_len: w(4) }
    }
}

#[cfg(test)]
mod tests {
    use super::ExecRead;

    #[test]
    fn fd_map_round_trips() {
        let r = super::FdMap { pid: 3, fd: 4, offset: 0x2000, space: 9, addr: 0x7000_0000, len: 0x3000, prot: 3 };
        assert_eq!(super::FdMap::from_bytes(&r.to_bytes()), r);
    }

    #[test]
    fn exec_read_round_trips() {
        let r = ExecRead { pid: 7, path: 0x1000, path_len: 9, buf: 0x2000, buf_len: 4096 };
        assert_eq!(ExecRead::from_bytes(&r.to_bytes()), r);
    }
}
