//! Reading directories: getdents64(2) and the older getdents(2).
//!
//! A directory description's offset is a position: 0 is `.`, 1 is `..`,
//! and each entry keeps the position it was given when made (see
//! crate::tmpfs::Dir), which is what `d_off` reports and lseek takes.

use alloc::vec::Vec;
use lstar_abi::errno::Errno;

use crate::files::{FileServer, Pid};
use crate::linux::{dt, Dirent};
use crate::tmpfs::{touch, Dir, Ino, Node, Tmpfs};
use crate::user::{self, Env};

impl FileServer {
    pub(super) fn getdents(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, buf: u64, count: u32, wide: bool) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        let (ino, pos) = (self.ofd(id).ino, self.ofd(id).offset);
        if self.fs.inode(ino).proc {
            self.proc_sync(pid);
        }
        let Node::Dir(dir) = &self.fs.inode(ino).node else { return Err(Errno::ENOTDIR) };
        if self.fs.is_removed(ino) {
            return Err(Errno::ENOENT);
        }
        let count = count as usize;
        let mut out = Vec::new();
        let mut next = pos;
        let mut entries = dots(&self.fs, ino, dir, pos).chain(dir.entries_from(pos.max(Dir::FIRST)).map(|(p, name, child)| {
            let child = self.fs.inode(child);
            (p, Dirent { ino: child.number, next: p + 1, kind: dt::of_mode(child.mode), name })
        }));
        for (p, entry) in &mut entries {
            let size = if wide { entry.size64() } else { entry.size_old() };
            if out.len() + size > count {
                if out.is_empty() {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            if wide {
                entry.push64(&mut out);
            } else {
                entry.push_old(&mut out);
            }
            next = p + 1;
        }
        drop(entries);
        // Reading a directory is an access, even at its end.
        self.fs.touch(ino, touch::READ);
        if out.is_empty() {
            return Ok(0);
        }
        user::write_exact(env, buf, &out)?;
        self.ofd_mut(id).offset = next;
        Ok(out.len() as u64)
    }
}

/// `.` and `..`, those of them at or after `pos`.
fn dots<'a>(fs: &Tmpfs, ino: Ino, dir: &'a Dir, pos: u64) -> impl Iterator<Item = (u64, Dirent<'a>)> + use<'a> {
    let dot = Dirent { ino: fs.number(ino), next: 1, kind: dt::DIR, name: b"." };
    let dotdot = Dirent { ino: fs.number(dir.parent), next: 2, kind: dt::DIR, name: b".." };
    [(0, dot), (1, dotdot)].into_iter().filter(move |(p, _)| *p >= pos)
}
