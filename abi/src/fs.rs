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
    fn exec_read_round_trips() {
        let r = ExecRead { pid: 7, path: 0x1000, path_len: 9, buf: 0x2000, buf_len: 4096 };
        assert_eq!(ExecRead::from_bytes(&r.to_bytes()), r);
    }
}
