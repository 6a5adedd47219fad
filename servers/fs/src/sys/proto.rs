//! The process server's requests (lstar_abi::fs): keeping descriptor
//! tables in step with fork, exit and execve, and reading the file execve
//! loads.

use lstar_abi::errno::Errno;
use lstar_abi::fs::{self as proto, map_info, ExecRead};

use crate::files::{FileServer, Pid};
use crate::linux::{mode::EXEC_ANY, NR_OPEN, PATH_MAX};
use crate::path::{self, Links};
use crate::tmpfs::{Device, Node};
use crate::user::{self, Env};

impl FileServer {
    /// Handles request `nr` from another server; `env` reaches the calling
    /// server's memory.
    pub fn call(&mut self, env: &mut dyn Env, nr: u64, a: [u64; 6]) -> Result<u64, Errno> {
        match nr {
            proto::FORK => {
                self.fork(a[0], a[1]);
                self.proc_fork(env, a[0], a[1]);
                Ok(0)
            }
            proto::EXIT => {
                self.forget_held(a[0]);
                self.exit(a[0]);
                self.proc_exit(a[0]);
                Ok(0)
            }
            proto::EXEC => {
                // The process's other threads end with execve: none of
                // them can wait here any more.
                self.forget_held(a[0]);
                self.exec(a[0]);
                self.proc_exec(env, a[0], a[1], a[2]);
                Ok(0)
            }
            proto::SPAWN => {
                self.proc_spawn(env, a[0], a[1]);
                Ok(0)
            }
            proto::READ_EXEC => self.read_exec(env, a[0]),
            proto::READ_FD => self.read_fd(env, a[0]),
            proto::MAP_INFO => self.map_info(a[0], a[1]),
            proto::MAP_SHARED => self.map_shared(env, a[0]),
            proto::NOFILE => {
                // The process server keeps the soft limit at or below the
                // hard one, which is at most NR_OPEN; clamping keeps a
                // descriptor an i32 whatever it sends.
                self.proc(a[0]).nofile = u32::try_from(a[1]).unwrap_or(u32::MAX).min(NR_OPEN);
                Ok(0)
            }
            _ => Err(Errno::ENOSYS),
        }
    }

    /// READ_FD: part of an open regular file, for a private file mapping.
    fn read_fd(&mut self, env: &mut dyn Env, request: u64) -> Result<u64, Errno> {
        let mut raw = [0u8; ExecRead::SIZE];
        user::read_exact(env, request, &mut raw)?;
        let req = proto::FdRead::from_request(&ExecRead::from_bytes(&raw));
        let pid: Pid = if req.pid == 0 { 1 } else { req.pid };
        let fd = i32::try_from(req.fd).map_err(|_| Errno::EBADF)?;
        let id = self.io_ofd(pid, fd)?;
        if !self.ofd(id).readable() {
            return Err(Errno::EACCES);
        }
        let ino = self.ofd(id).ino;
        let Node::File(data) = &self.fs.inode(ino).node else { return Err(Errno::ENODEV) };
        let start = usize::try_from(req.offset).unwrap_or(usize::MAX).min(data.len());
        let n = (data.len() - start).min(usize::try_from(req.buf_len).unwrap_or(usize::MAX));
        if n > 0 {
            user::write_exact(env, req.buf, &data[start..start + n])?;
        }
        Ok(n as u64)
    }

    /// MAP_INFO: what mmap may make of a descriptor, and its access mode.
    fn map_info(&mut self, pid: Pid, fd: u64) -> Result<u64, Errno> {
        let pid: Pid = if pid == 0 { 1 } else { pid };
        let fd = i32::try_from(fd).map_err(|_| Errno::EBADF)?;
        let id = self.io_ofd(pid, fd)?;
        let ofd = self.ofd(id);
        let mut info = 0;
        if ofd.readable() {
            info |= map_info::READ;
        }
        if ofd.writable() {
            info |= map_info::WRITE;
        }
        let inode = self.fs.inode(ofd.ino);
        info |= match &inode.node {
            // /proc's files are made when read: nothing to map.
            Node::File(_) if !inode.proc => map_info::KIND_FILE,
            Node::Device(Device::Zero) => map_info::KIND_ZERO,
            _ => map_info::KIND_NONE,
        };
        Ok(info)
    }

    /// MAP_SHARED: grants the pages of a regular file to a mapping.
    fn map_shared(&mut self, env: &mut dyn Env, request: u64) -> Result<u64, Errno> {
        let mut raw = [0u8; proto::FdMap::SIZE];
        user::read_exact(env, request, &mut raw)?;
        let req = proto::FdMap::from_bytes(&raw);
        let pid: Pid = if req.pid == 0 { 1 } else { req.pid };
        let fd = i32::try_from(req.fd).map_err(|_| Errno::EBADF)?;
        let id = self.io_ofd(pid, fd)?;
        let ofd = self.ofd(id);
        if !ofd.readable() || (req.prot & lstar_abi::native::prot::WRITE != 0 && !ofd.writable()) {
            return Err(Errno::EACCES);
        }
        let ino = ofd.ino;
        if !matches!(self.fs.inode(ino).node, Node::File(_)) || self.fs.inode(ino).proc {
            return Err(Errno::ENODEV);
        }
        let offset = usize::try_from(req.offset).map_err(|_| Errno::EINVAL)?;
        let want = usize::try_from(req.len).map_err(|_| Errno::EINVAL)?;
        let mem = self.fs.share_file(ino)?;
        // The pages that hold the file from `offset`: past them the
        // mapping stays empty (SIGBUS, as past a file's end on Linux).
        let len = mem.capacity().saturating_sub(offset).min(want);
        env.grant(mem, req.space, req.addr, offset, len, req.prot)?;
        Ok(len as u64)
    }

    /// READ_EXEC: copies the file to execute into the caller's buffer and
    /// returns its size.
    fn read_exec(&mut self, env: &mut dyn Env, request: u64) -> Result<u64, Errno> {
        let mut raw = [0u8; ExecRead::SIZE];
        user::read_exact(env, request, &mut raw)?;
        let req = ExecRead::from_bytes(&raw);
        if req.path_len >= PATH_MAX as u64 {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut path = alloc::vec![0u8; req.path_len as usize];
        user::read_exact(env, req.path, &mut path)?;
        if let Some(nul) = path.iter().position(|&b| b == 0) {
            path.truncate(nul);
        }
        let pid: Pid = if req.pid == 0 { 1 } else { req.pid };
        let (cwd, root) = (self.proc(pid).cwd, self.proc(pid).root);
        let start = if path.first() == Some(&b'/') { root } else { cwd };
        let ino = self.resolving(pid, |fs| path::resolve(fs, start, &path, true, &mut Links::under(root)))?;
        let inode = self.fs.inode(ino);
        let Node::File(data) = &inode.node else { return Err(Errno::EACCES) };
        if inode.mode & EXEC_ANY == 0 {
            return Err(Errno::EACCES);
        }
        let n = data.len().min(usize::try_from(req.buf_len).unwrap_or(usize::MAX));
        if n > 0 {
            user::write_exact(env, req.buf, &data[..n])?;
        }
        Ok(data.len() as u64)
    }
}
