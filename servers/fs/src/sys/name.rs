//! Calls about names: open and creat, mkdir, unlink and rmdir, rename,
//! link, symlink, readlink, chdir, chroot and getcwd. Each checks in the order
//! Linux does, so that a path with two things wrong gives Linux's error.

use crate::tmpfs::Data;
use alloc::vec::Vec;
use lstar_abi::errno::Errno;

use super::pipe::Opened;
use crate::files::{FileServer, Pid};
use crate::linux::mode::{PERMS, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISVTX};
use crate::linux::{o, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT};
use crate::path::{self, Found, Last, Links, Parent};
use crate::tmpfs::{touch, Device, Ino, Node};
use crate::user::{self, Env};

impl FileServer {
    /// Where a path given with `dirfd` starts: the process's root for an
    /// absolute path, else the working directory (AT_FDCWD) or the
    /// directory `dirfd` names.
    pub(super) fn start(&mut self, pid: Pid, dirfd: i32, path: &[u8]) -> Result<Ino, Errno> {
        if path.first() == Some(&b'/') {
            return Ok(self.proc(pid).root);
        }
        if dirfd == AT_FDCWD {
            return Ok(self.proc(pid).cwd);
        }
        let id = self.any_ofd(pid, dirfd)?;
        let ino = self.ofd(id).ino;
        if !self.fs.inode(ino).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(ino)
    }

    /// The file `dirfd` itself (an empty path with AT_EMPTY_PATH).
    pub(super) fn empty_path(&mut self, pid: Pid, dirfd: i32) -> Result<Ino, Errno> {
        if dirfd == AT_FDCWD {
            return Ok(self.proc(pid).cwd);
        }
        let id = self.any_ofd(pid, dirfd)?;
        Ok(self.ofd(id).ino)
    }

    /// Reads the path at `addr` and resolves it from `dirfd`. An empty
    /// path is `ENOENT` unless `empty` allows it (AT_EMPTY_PATH).
    pub(super) fn lookup_at(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, follow: bool, empty: bool) -> Result<Ino, Errno> {
        let path = user::read_path(env, addr)?;
        if path.is_empty() {
            return if empty { self.empty_path(pid, dirfd) } else { Err(Errno::ENOENT) };
        }
        let start = self.start(pid, dirfd, &path)?;
        let root = self.proc(pid).root;
        self.resolving(pid, |fs| path::resolve(fs, start, &path, follow, &mut Links::under(root)))
    }

    /// Reads a path that a call creates or removes, resolved up to its
    /// last component, and hands it to `then`.
    fn with_parent<T>(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, then: impl FnOnce(&mut Self, Parent) -> Result<T, Errno>) -> Result<T, Errno> {
        let path = user::read_path(env, addr)?;
        let p = self.parent_of(pid, dirfd, &path)?;
        then(self, p)
    }

    fn parent_of<'p>(&mut self, pid: Pid, dirfd: i32, path: &'p [u8]) -> Result<Parent<'p>, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let start = self.start(pid, dirfd, path)?;
        let root = self.proc(pid).root;
        self.resolving(pid, |fs| path::parent(fs, start, path, &mut Links::under(root)))
    }

    /// open(2), openat(2) and creat(2): the new descriptor, or the wait
    /// of a FIFO's end for the other end (`sys::held` holds the call).
    pub(super) fn openat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, flags: u32, mode: u32) -> Result<Opened, Errno> {
        let mut flags = flags & o::VALID;
        if flags & o::PATH != 0 {
            flags &= o::PATH_KEEPS;
        }
        if flags & (o::CREAT | o::DIRECTORY) == o::CREAT | o::DIRECTORY {
            return Err(Errno::EINVAL);
        }
        if flags & o::TMPFILE_BIT != 0 {
            // O_TMPFILE (unnamed files) is not supported yet.
            return Err(if flags & o::DIRECTORY == 0 { Errno::EINVAL } else { Errno::EOPNOTSUPP });
        }
        let path = user::read_path(env, addr)?;
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        // A free descriptor is looked for before the file is touched: no
        // file is made by an open that fails with EMFILE.
        self.proc(pid).free_fd(0)?;
        let start = self.start(pid, dirfd, &path)?;
        let root = self.proc(pid).root;
        let mut created = false;
        let ino = if flags & o::CREAT != 0 {
            let follow = flags & (o::EXCL | o::NOFOLLOW) == 0;
            match self.resolving(pid, |fs| path::lookup_create(fs, start, &path, follow, &mut Links::under(root)))? {
                Found::Exists(_) if flags & o::EXCL != 0 => return Err(Errno::EEXIST),
                Found::Exists(ino) => ino,
                Found::Missing { dir, name } => {
                    let perms = mode & PERMS & !self.proc(pid).umask;
                    created = true;
                    self.fs.mknod(dir, &name, S_IFREG | perms, Node::File(Data::Borrowed(&[])))?
                }
            }
        } else {
            self.resolving(pid, |fs| path::resolve(fs, start, &path, flags & o::NOFOLLOW == 0, &mut Links::under(root)))?
        };
        let inode = self.fs.inode(ino);
        if inode.is_dir() && flags & (o::CREAT | o::PATH) == o::CREAT {
            return Err(Errno::EISDIR);
        }
        if flags & o::DIRECTORY != 0 && !inode.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if flags & o::PATH == 0 {
            if inode.is_symlink() {
                // O_NOFOLLOW met a symbolic link.
                return Err(Errno::ELOOP);
            }
            let writes = flags & o::ACCMODE != o::RDONLY || flags & o::TRUNC != 0;
            if inode.is_dir() && writes {
                return Err(Errno::EISDIR);
            }
            if inode.proc && writes {
                // /proc's files are read-only, even to root here.
                return Err(Errno::EACCES);
            }
            if matches!(inode.node, Node::Special { .. }) {
                // A device Lstar does not have, or a socket: nothing opens.
                return Err(Errno::ENXIO);
            }
        }
        if flags & (o::TRUNC | o::PATH) == o::TRUNC && !created && inode.is_regular() {
            self.fs.resize_file(ino, 0)?;
            // Even when it was empty, as ftruncate.
            self.fs.touch(ino, touch::MTIME | touch::CTIME);
        }
        // Linux opens every file with O_LARGEFILE on 64-bit machines.
        let kept = if flags & o::PATH != 0 { flags & !o::CLOEXEC } else { (flags & !o::OPEN_ONLY) | o::LARGEFILE };
        let cloexec = flags & o::CLOEXEC != 0;
        if let (Node::Fifo(p), 0) = (&self.fs.inode(ino).node, flags & o::PATH) {
            return self.open_fifo(pid, ino, *p, kept, cloexec);
        }
        let ofd = self.open_ofd(ino, kept);
        self.install_lowest(pid, ofd, cloexec).map(Opened::Fd)
    }

    pub(super) fn mkdirat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, mode: u32) -> Result<u64, Errno> {
        let umask = self.proc(pid).umask;
        self.with_parent(env, pid, dirfd, addr, |s, p| {
            let Last::Name(name) = p.last else { return Err(Errno::EEXIST) };
            path::check_name(name)?;
            let perms = mode & (0o777 | S_ISVTX) & !umask;
            s.fs.mknod(p.dir, name, S_IFDIR | perms, Node::dir()).map(|_| 0)
        })
    }

    pub(super) fn unlinkat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, flags: u32) -> Result<u64, Errno> {
        if flags & !AT_REMOVEDIR != 0 {
            return Err(Errno::EINVAL);
        }
        self.with_parent(env, pid, dirfd, addr, |s, p| {
            if flags & AT_REMOVEDIR != 0 {
                s.rmdir(p)
            } else {
                s.unlink(p)
            }
        })
    }

    fn rmdir(&mut self, p: Parent) -> Result<u64, Errno> {
        let name = match p.last {
            Last::Name(name) => name,
            Last::Dot => return Err(Errno::EINVAL),
            Last::DotDot => return Err(Errno::ENOTEMPTY),
            Last::Root => return Err(Errno::EBUSY),
        };
        path::check_name(name)?;
        let ino = self.fs.lookup(p.dir, name)?.ok_or(Errno::ENOENT)?;
        if !self.fs.inode(ino).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        self.fs.rmdir(p.dir, name).map(|()| 0)
    }

    fn unlink(&mut self, p: Parent) -> Result<u64, Errno> {
        let Last::Name(name) = p.last else { return Err(Errno::EISDIR) };
        path::check_name(name)?;
        let ino = self.fs.lookup(p.dir, name)?.ok_or(Errno::ENOENT)?;
        if self.fs.inode(ino).is_dir() {
            return Err(Errno::EISDIR);
        }
        if p.slash {
            return Err(Errno::ENOTDIR);
        }
        self.fs.unlink(p.dir, name).map(|()| 0)
    }

    #[allow(clippy::too_many_arguments)] // renameat2's own five, plus the caller
    pub(super) fn renameat2(&mut self, env: &mut dyn Env, pid: Pid, old_dirfd: i32, old: u64, new_dirfd: i32, new: u64, flags: u32) -> Result<u64, Errno> {
        let known = RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT;
        if flags & !known != 0 || flags & (RENAME_NOREPLACE | RENAME_EXCHANGE) == RENAME_NOREPLACE | RENAME_EXCHANGE {
            return Err(Errno::EINVAL);
        }
        if flags & RENAME_WHITEOUT != 0 {
            // Whiteouts are for overlay file systems, which Lstar has not.
            return Err(Errno::EINVAL);
        }
        let old_path = user::read_path(env, old)?;
        let new_path = user::read_path(env, new)?;
        let op = self.parent_of(pid, old_dirfd, &old_path)?;
        let np = self.parent_of(pid, new_dirfd, &new_path)?;
        let Last::Name(old_name) = op.last else { return Err(Errno::EBUSY) };
        let Last::Name(new_name) = np.last else {
            return Err(if flags & RENAME_NOREPLACE != 0 { Errno::EEXIST } else { Errno::EBUSY });
        };
        path::check_name(old_name)?;
        path::check_name(new_name)?;
        if flags & RENAME_EXCHANGE != 0 {
            for (p, name) in [(&op, old_name), (&np, new_name)] {
                let ino = self.fs.lookup(p.dir, name)?.ok_or(Errno::ENOENT)?;
                if p.slash && !self.fs.inode(ino).is_dir() {
                    return Err(Errno::ENOTDIR);
                }
            }
            return self.fs.exchange(op.dir, old_name, np.dir, new_name).map(|()| 0);
        }
        let noreplace = flags & RENAME_NOREPLACE != 0;
        self.fs.rename(op.dir, old_name, np.dir, new_name, noreplace, op.slash || np.slash).map(|()| 0)
    }

    #[allow(clippy::too_many_arguments)] // linkat's own five, plus the caller
    pub(super) fn linkat(&mut self, env: &mut dyn Env, pid: Pid, old_dirfd: i32, old: u64, new_dirfd: i32, new: u64, flags: u32) -> Result<u64, Errno> {
        if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let ino = self.lookup_at(env, pid, old_dirfd, old, flags & AT_SYMLINK_FOLLOW != 0, flags & AT_EMPTY_PATH != 0)?;
        self.with_parent(env, pid, new_dirfd, new, |s, p| {
            let Last::Name(name) = p.last else { return Err(Errno::EEXIST) };
            path::check_name(name)?;
            if s.fs.lookup(p.dir, name)?.is_some() {
                return Err(Errno::EEXIST);
            }
            if p.slash {
                // A trailing slash asks for a directory, which link never makes.
                return Err(Errno::ENOENT);
            }
            s.fs.link(p.dir, name, ino).map(|()| 0)
        })
    }

    pub(super) fn symlinkat(&mut self, env: &mut dyn Env, pid: Pid, target: u64, dirfd: i32, addr: u64) -> Result<u64, Errno> {
        let target = user::read_path(env, target)?;
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        self.with_parent(env, pid, dirfd, addr, |s, p| {
            let Last::Name(name) = p.last else { return Err(Errno::EEXIST) };
            path::check_name(name)?;
            if s.fs.lookup(p.dir, name)?.is_some() {
                return Err(Errno::EEXIST);
            }
            if p.slash {
                return Err(Errno::ENOENT);
            }
            s.fs.mknod(p.dir, name, S_IFLNK | 0o777, Node::Symlink(target)).map(|_| 0)
        })
    }

    /// mknod(2) and mknodat(2): a regular file, a FIFO, a device node or
    /// a socket's name. A character device Lstar has (by number) opens as
    /// that device; any other device node, and a socket, only shows in
    /// stat. `dev` is the kernel's 32-bit encoding, which st_rdev shows
    /// back as it came.
    pub(super) fn mknodat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, mode: u32, dev: u32) -> Result<u64, Errno> {
        // The type is checked before the path is looked at.
        let kind = mode & S_IFMT;
        match kind {
            0 | S_IFREG | S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => {}
            S_IFDIR => return Err(Errno::EPERM),
            _ => return Err(Errno::EINVAL),
        }
        let perms = mode & PERMS & !self.proc(pid).umask;
        self.with_parent(env, pid, dirfd, addr, |s, p| {
            let Last::Name(name) = p.last else { return Err(Errno::EEXIST) };
            path::check_name(name)?;
            if s.fs.lookup(p.dir, name)?.is_some() {
                return Err(Errno::EEXIST);
            }
            if p.slash {
                return Err(Errno::ENOENT);
            }
            let rdev = u64::from(dev);
            let (kind, node) = match kind {
                0 | S_IFREG => (S_IFREG, Node::File(Data::Borrowed(&[]))),
                S_IFIFO => (S_IFIFO, Node::Fifo(None)),
                S_IFCHR => (S_IFCHR, Device::from_rdev(rdev).map_or(Node::Special { rdev }, Node::Device)),
                S_IFBLK => (S_IFBLK, Node::Special { rdev }),
                _ => (S_IFSOCK, Node::Special { rdev: 0 }),
            };
            s.fs.mknod(p.dir, name, kind | perms, node).map(|_| 0)
        })
    }

    pub(super) fn readlinkat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, buf: u64, size: i32) -> Result<u64, Errno> {
        let size = usize::try_from(size).ok().filter(|&s| s > 0).ok_or(Errno::EINVAL)?;
        let path = user::read_path(env, addr)?;
        let ino = if path.is_empty() {
            // An O_PATH handle on a symbolic link reads as the link.
            let ino = self.empty_path(pid, dirfd)?;
            if !self.fs.inode(ino).is_symlink() {
                return Err(Errno::ENOENT);
            }
            ino
        } else {
            let start = self.start(pid, dirfd, &path)?;
            let root = self.proc(pid).root;
            self.resolving(pid, |fs| path::resolve(fs, start, &path, false, &mut Links::under(root)))?
        };
        let target = self.fs.symlink_target(ino).ok_or(Errno::EINVAL)?;
        let n = target.len().min(size);
        user::write_exact(env, buf, &target[..n])?;
        Ok(n as u64)
    }

    pub(super) fn chdir(&mut self, env: &mut dyn Env, pid: Pid, addr: u64) -> Result<u64, Errno> {
        let ino = self.lookup_at(env, pid, AT_FDCWD, addr, true, false)?;
        self.change_dir(pid, ino)
    }

    pub(super) fn fchdir(&mut self, pid: Pid, fd: i32) -> Result<u64, Errno> {
        let id = self.any_ofd(pid, fd)?;
        let ino = self.ofd(id).ino;
        self.change_dir(pid, ino)
    }

    fn change_dir(&mut self, pid: Pid, ino: Ino) -> Result<u64, Errno> {
        if !self.fs.inode(ino).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        self.set_cwd(pid, ino);
        Ok(0)
    }

    /// chroot(2): absolute paths start at the directory `addr` names from
    /// now on, and `..` stops there. The working directory stays. (Every
    /// process runs as root, so there is no EPERM.)
    pub(super) fn chroot(&mut self, env: &mut dyn Env, pid: Pid, addr: u64) -> Result<u64, Errno> {
        let ino = self.lookup_at(env, pid, AT_FDCWD, addr, true, false)?;
        if !self.fs.inode(ino).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        self.set_root(pid, ino);
        Ok(0)
    }

    /// getcwd(2): the length written, NUL included. The path is seen from
    /// the process's root; a working directory outside it (left there by
    /// chroot) reads as "(unreachable)" and its path from the real root,
    /// as Linux gives it.
    pub(super) fn getcwd(&mut self, env: &mut dyn Env, pid: Pid, buf: u64, size: u64) -> Result<u64, Errno> {
        let (cwd, root) = (self.proc(pid).cwd, self.proc(pid).root);
        let mut path: Vec<u8> = match self.fs.path_under(cwd, root)? {
            Some(path) => path,
            None => [&b"(unreachable)"[..], &self.fs.path_of(cwd)?].concat(),
        };
        path.push(0);
        let len = path.len() as u64;
        if size < len {
            return Err(Errno::ERANGE);
        }
        user::write_exact(env, buf, &path)?;
        Ok(len)
    }
}
