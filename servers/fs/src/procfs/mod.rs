//! /proc, as proc(5) describes it, for the processes the file server knows.
//!
//! The file server never asks the process server anything: that server
//! calls this one, and two servers calling each other could each end up
//! waiting for the other. So what /proc shows comes from three places:
//! what the process server tells the file server (`lstar_abi::fs`: SPAWN
//! and FORK give a process and its parent, EXEC the program's path and
//! arguments, EXIT its end), the file server's own state (descriptor
//! tables, working directories, umasks) and the kernel through [`Env`]
//! (memory, clocks). What none of them knows is shown as Linux shows a
//! quiet process: CPU times 0, state `S` (`R` for the process reading),
//! process group and session equal to the pid, one thread, memory use 0.
//!
//! /proc is part of the tmpfs tree, its inodes marked `proc`, so that path
//! resolution, stat, open, readlink and getdents work in it as anywhere:
//! - its files are [`Node::Proc`]: their bytes are made from the state of
//!   the moment at each read, so offsets work (`head`, `cat`, pread);
//! - its directories and symbolic links are ordinary inodes, brought up to
//!   date lazily by [`FileServer::proc_sync`]: when a path lookup went
//!   through a directory of /proc ([`Tmpfs::dir`] notes it) the lookup is
//!   made again after an update ([`FileServer::resolving`]), and getdents
//!   of a /proc directory updates first. A program that never looks at
//!   /proc costs nothing more; inode numbers stay as they are while what
//!   they show is unchanged.
//!
//! The tree:
//!
//! ```text
//! /proc/self -> <pid of the caller>      /proc/mounts -> self/mounts
//! /proc/thread-self -> <pid>/task/<pid>
//! /proc/{meminfo,uptime,cpuinfo,loadavg,stat,version,filesystems}
//! /proc/<pid>/{stat,status,cmdline,comm,mounts}
//! /proc/<pid>/exe -> the program   cwd -> working directory   root -> /
//! /proc/<pid>/fd/<n> -> the file's path, pipe:[<inode>], or a path with " (deleted)"
//! /proc/<pid>/task/<pid>/: the same for the process's one thread (the
//!     file server knows processes, not their threads)
//! ```
//!
//! Programs cannot change /proc: opening a file of it for writing or
//! creating one is `EACCES`, other changes `EPERM` (crate::tmpfs), and a
//! link or rename between /proc and the rest is `EXDEV`.

mod text;

#[cfg(test)]
mod tests;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::vec::Vec;
use lstar_abi::errno::Errno;

use crate::files::{FileServer, Ofd, Pid};
use crate::linux::mode::{S_IFDIR, S_IFLNK, S_IFREG};
use crate::path::{self, Last, Links};
use crate::tmpfs::{Ino, Node, Tmpfs, ROOT};
use crate::user::{self, Env};

/// What a file of /proc shows (its bytes are made when it is read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gen {
    Meminfo,
    Uptime,
    Cpuinfo,
    Loadavg,
    Stat,
    Version,
    Filesystems,
    /// /proc/<pid>/stat: the one-line status ps reads.
    PidStat(Pid),
    PidStatus(Pid),
    /// The arguments, each followed by a NUL.
    PidCmdline(Pid),
    /// The program's name, at most 15 bytes, and a newline.
    PidComm(Pid),
    PidMounts(Pid),
}

/// The files of /proc itself.
const TOP_FILES: [(&str, Gen); 7] = [
    ("meminfo", Gen::Meminfo),
    ("uptime", Gen::Uptime),
    ("cpuinfo", Gen::Cpuinfo),
    ("loadavg", Gen::Loadavg),
    ("stat", Gen::Stat),
    ("version", Gen::Version),
    ("filesystems", Gen::Filesystems),
];

/// What a file of /proc/<pid> shows, given the pid.
type PidGen = fn(Pid) -> Gen;

/// The files of /proc/<pid>.
const PID_FILES: [(&str, PidGen); 5] = [
    ("status", Gen::PidStatus),
    ("comm", Gen::PidComm),
    ("cmdline", Gen::PidCmdline),
    ("stat", Gen::PidStat),
    ("mounts", Gen::PidMounts),
];

/// The most of EXEC's description of a program that is kept.
const MAX_INFO: u64 = 128 << 10;
/// The longest `comm` (TASK_COMM_LEN less its NUL).
const COMM_MAX: usize = 15;

/// What the process server told of one process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Task {
    pub ppid: Pid,
    /// The program's absolute path, for /proc/<pid>/exe (empty: unknown).
    pub exe: Vec<u8>,
    /// The arguments, each followed by a NUL.
    pub cmdline: Vec<u8>,
    pub comm: Vec<u8>,
    /// The monotonic clock when the process was made, in ns.
    pub start: u64,
    /// Made by SPAWN and not yet running a program: the first EXEC runs
    /// the initrd's program (its path is in `lstar/exec`).
    pub spawned: bool,
}

/// /proc's own state in the file server.
#[derive(Debug, Default)]
pub struct ProcFs {
    /// The /proc directory, once mounted.
    root: Option<Ino>,
    tasks: BTreeMap<Pid, Task>,
    /// Where the files descriptors name were last found in the tree
    /// (a file knows no name of its own): inode → (directory, name).
    found: BTreeMap<Ino, (Ino, Vec<u8>)>,
    /// The pid most recently made (loadavg).
    last_pid: Pid,
    /// Processes made since start (/proc/stat).
    forks: u64,
    /// The process whose syscall is being handled: its own state reads R.
    pub(crate) caller: Pid,
}

impl FileServer {
    /// Makes /proc. An empty /proc directory from the initrd gives way to
    /// it; anything else there is `EEXIST`.
    pub fn mount_proc(&mut self) -> Result<(), Errno> {
        if let Some(old) = self.fs.lookup(ROOT, b"proc")? {
            if !self.fs.inode(old).is_dir() || !self.fs.dir(old)?.is_empty() {
                return Err(Errno::EEXIST);
            }
            self.fs.rmdir(ROOT, b"proc")?;
        }
        let root = self.fs.proc_add(ROOT, b"proc", S_IFDIR | 0o555, Node::dir());
        for (name, gen) in TOP_FILES {
            self.fs.proc_add(root, name.as_bytes(), S_IFREG | 0o444, Node::Proc(gen));
        }
        self.fs.proc_add(root, b"self", S_IFLNK | 0o777, Node::Symlink(b"1".to_vec()));
        self.fs.proc_add(root, b"thread-self", S_IFLNK | 0o777, Node::Symlink(b"1/task/1".to_vec()));
        self.fs.proc_add(root, b"mounts", S_IFLNK | 0o777, Node::Symlink(b"self/mounts".to_vec()));
        self.procfs.root = Some(root);
        Ok(())
    }

    /// Runs path lookup `look`. If it went through /proc, /proc is brought
    /// up to date for caller `pid` and the lookup made again.
    pub(crate) fn resolving<T>(&mut self, pid: Pid, look: impl Fn(&Tmpfs) -> T) -> T {
        self.fs.take_proc_seen();
        let first = look(&self.fs);
        if !self.fs.take_proc_seen() {
            return first;
        }
        self.proc_sync(pid);
        look(&self.fs)
    }

    /// SPAWN: the first process, which no FORK announces.
    pub(crate) fn proc_spawn(&mut self, env: &mut dyn Env, pid: Pid, ppid: Pid) {
        self.proc(pid);
        let start = env.clock(lstar_abi::native::clock::MONOTONIC);
        self.procfs.tasks.insert(pid, Task { ppid, start, spawned: true, ..Task::default() });
        self.procfs.last_pid = pid;
        self.procfs.forks += 1;
    }

    /// FORK: the child runs its parent's program.
    pub(crate) fn proc_fork(&mut self, env: &mut dyn Env, parent: Pid, child: Pid) {
        let mut task = self.procfs.tasks.get(&parent).cloned().unwrap_or_default();
        task.ppid = parent;
        task.start = env.clock(lstar_abi::native::clock::MONOTONIC);
        self.procfs.tasks.insert(child, task);
        self.procfs.last_pid = child;
        self.procfs.forks += 1;
    }

    /// EXIT: the process is gone; its children pass to pid 1, as the
    /// process server does.
    pub(crate) fn proc_exit(&mut self, pid: Pid) {
        self.procfs.tasks.remove(&pid);
        for t in self.procfs.tasks.values_mut().filter(|t| t.ppid == pid) {
            t.ppid = 1;
        }
    }

    /// EXEC: `pid` runs the program `info` (in the calling server's
    /// memory) describes: its path, a NUL, then each argument and a NUL.
    /// An unreadable description leaves what was known.
    pub(crate) fn proc_exec(&mut self, env: &mut dyn Env, pid: Pid, info: u64, len: u64) {
        if len == 0 {
            return;
        }
        let mut raw = alloc::vec![0u8; len.min(MAX_INFO) as usize];
        if user::read_exact(env, info, &mut raw).is_err() {
            return;
        }
        let (path, argv) = match raw.iter().position(|&b| b == 0) {
            Some(nul) => (&raw[..nul], &raw[nul + 1..]),
            None => (&raw[..], &[][..]),
        };
        // The process server names the first program by its argv[0] (which
        // may be a bare applet name, as for busybox's shell): that is its
        // name, but the file it loaded is the one the initrd names.
        let first = self.procfs.tasks.get_mut(&pid).is_some_and(|t| core::mem::take(&mut t.spawned));
        let initrd_exec = match first.then(|| self.fs.walk_plain("lstar/exec")).flatten().map(|ino| &self.fs.inode(ino).node) {
            Some(Node::File(data)) if !data.is_empty() => Some(join(b"/", data)),
            _ => None,
        };
        let exe = self.exe_path(pid, initrd_exec.as_deref().unwrap_or(path), argv.split(|&b| b == 0).next());
        let task = self.procfs.tasks.entry(pid).or_default();
        task.exe = exe;
        task.cmdline = argv.to_vec();
        task.comm = text::comm_of(path);
    }

    /// /proc/<pid>/exe for a program run as `path` from the process's
    /// working directory: the file's absolute path, symbolic links
    /// resolved. For a `#!` script, the interpreter, which the process
    /// server puts first in the arguments. `path` as given if it cannot be
    /// found.
    fn exe_path(&mut self, pid: Pid, path: &[u8], argv0: Option<&[u8]>) -> Vec<u8> {
        let (cwd, root) = (self.proc(pid).cwd, self.proc(pid).root);
        let Ok((ino, text)) = self.resolving(pid, |fs| canonical(fs, root, cwd, path)) else { return path.to_vec() };
        let script = matches!(&self.fs.inode(ino).node, Node::File(data) if data.starts_with(b"#!"));
        match argv0.filter(|a| script && !a.is_empty()) {
            Some(interp) => self.resolving(pid, |fs| canonical(fs, root, cwd, interp)).map_or(text, |(_, t)| t),
            None => text,
        }
    }

    /// Brings /proc's directories and links up to date for a lookup by
    /// `caller`: /proc/self, a directory per live process and none for the
    /// others, and each one's exe, cwd and fd/ entries.
    pub(crate) fn proc_sync(&mut self, caller: Pid) {
        let Some(root) = self.procfs.root else { return };
        set_link(&mut self.fs, root, b"self", Some(pid_name(caller)), S_IFLNK | 0o777);
        let thread = format!("{caller}/task/{caller}").into_bytes();
        set_link(&mut self.fs, root, b"thread-self", Some(thread), S_IFLNK | 0o777);
        let gone: Vec<Vec<u8>> = self
            .fs
            .dir(root)
            .map(|d| d.entries_from(0).filter(|(_, name, _)| parse_pid(name).is_some_and(|p| !self.procs.contains_key(&p))).map(|(_, name, _)| name.to_vec()).collect())
            .unwrap_or_default();
        for name in gone {
            remove_tree(&mut self.fs, root, &name);
        }
        let paths = self.fd_paths();
        let pids: Vec<Pid> = self.procs.keys().copied().collect();
        for pid in pids {
            self.sync_pid(root, pid, &paths);
        }
    }

    fn sync_pid(&mut self, root: Ino, pid: Pid, paths: &BTreeMap<Ino, Vec<u8>>) {
        let name = pid_name(pid);
        let dir = match self.fs.lookup(root, &name) {
            Ok(Some(d)) => d,
            _ => {
                let dir = make_pid_dir(&mut self.fs, root, &name, pid);
                let task = self.fs.proc_add(dir, b"task", S_IFDIR | 0o555, Node::dir());
                make_pid_dir(&mut self.fs, task, &name, pid);
                dir
            }
        };
        self.sync_pid_dir(dir, pid, paths);
        if let Ok(Some(task)) = self.fs.lookup(dir, b"task") {
            if let Ok(Some(thread)) = self.fs.lookup(task, &name) {
                self.sync_pid_dir(thread, pid, paths);
            }
        }
    }

    /// The links of /proc/<pid> (or of its task/<pid>): exe, cwd, fd/.
    fn sync_pid_dir(&mut self, dir: Ino, pid: Pid, paths: &BTreeMap<Ino, Vec<u8>>) {
        let exe = self.procfs.tasks.get(&pid).map(|t| t.exe.clone()).filter(|e| !e.is_empty());
        set_link(&mut self.fs, dir, b"exe", exe, S_IFLNK | 0o777);
        let cwd = dir_path(&self.fs, self.procs[&pid].cwd);
        set_link(&mut self.fs, dir, b"cwd", Some(cwd), S_IFLNK | 0o777);
        let Ok(Some(fd_dir)) = self.fs.lookup(dir, b"fd") else { return };
        let want: BTreeMap<Vec<u8>, (Vec<u8>, u32)> = self.procs[&pid]
            .fds
            .iter()
            .map(|(fd, entry)| {
                let ofd = self.ofd(entry.ofd);
                (pid_name(fd as u64), (self.fd_target(ofd, paths), link_mode(ofd)))
            })
            .collect();
        let stale: Vec<Vec<u8>> = self
            .fs
            .dir(fd_dir)
            .map(|d| d.entries_from(0).filter(|(_, n, _)| !want.contains_key(*n)).map(|(_, n, _)| n.to_vec()).collect())
            .unwrap_or_default();
        for n in stale {
            self.fs.proc_remove(fd_dir, &n);
        }
        for (n, (target, mode)) in want {
            set_link(&mut self.fs, fd_dir, &n, Some(target), mode);
        }
    }

    /// What /proc/<pid>/fd/<n> shows for description `ofd`.
    fn fd_target(&self, ofd: &Ofd, paths: &BTreeMap<Ino, Vec<u8>>) -> Vec<u8> {
        match &self.fs.inode(ofd.ino).node {
            Node::Pipe(_) => format!("pipe:[{}]", self.fs.number(ofd.ino)).into_bytes(),
            Node::Dir(_) => dir_path(&self.fs, ofd.ino),
            _ => paths.get(&ofd.ino).cloned().unwrap_or_else(|| b"(deleted)".to_vec()),
        }
    }

    /// The path of every file (not a directory or pipe) a descriptor
    /// names: where it was found before if it is still there, else
    /// looked for in the whole tree (once for all of them); a file no
    /// longer in the tree shows where it was, with " (deleted)".
    fn fd_paths(&mut self) -> BTreeMap<Ino, Vec<u8>> {
        let mut wanted = BTreeSet::new();
        for p in self.procs.values() {
            for (_, entry) in p.fds.iter() {
                let ino = self.ofd(entry.ofd).ino;
                if !matches!(self.fs.inode(ino).node, Node::Dir(_) | Node::Pipe(_)) {
                    wanted.insert(ino);
                }
            }
        }
        let fs = &self.fs;
        let found = &mut self.procfs.found;
        found.retain(|ino, _| wanted.contains(ino));
        let mut missing: BTreeSet<Ino> = wanted.iter().copied().filter(|&ino| fs.inode(ino).nlink > 0 && !found.get(&ino).is_some_and(|(d, n)| still_there(fs, *d, n, ino))).collect();
        // One walk over the tree for every file not where it was.
        let mut stack = alloc::vec![ROOT];
        while let Some(at) = stack.pop() {
            if missing.is_empty() {
                break;
            }
            let Node::Dir(d) = &fs.inode(at).node else { continue };
            for (_, name, child) in d.entries_from(0) {
                if missing.remove(&child) {
                    found.insert(child, (at, name.to_vec()));
                }
                if fs.inode(child).is_dir() {
                    stack.push(child);
                }
            }
        }
        wanted
            .into_iter()
            .map(|ino| {
                let text = match found.get(&ino) {
                    Some((d, n)) => {
                        let mut t = join(&dir_path(fs, *d), n);
                        if !still_there(fs, *d, n, ino) {
                            t.extend_from_slice(b" (deleted)");
                        }
                        t
                    }
                    None => b"(deleted)".to_vec(),
                };
                (ino, text)
            })
            .collect()
    }

    /// The bytes of /proc file `g` now, as process `self.procfs.caller`
    /// reads it. `ESRCH` once its process is gone.
    pub(crate) fn proc_read(&self, env: &mut dyn Env, g: Gen) -> Result<Vec<u8>, Errno> {
        use lstar_abi::native::clock::{MONOTONIC, REALTIME};
        let none = Task::default();
        let task = |pid: Pid| -> Result<(&crate::files::Proc, &Task), Errno> {
            let p = self.procs.get(&pid).ok_or(Errno::ESRCH)?;
            Ok((p, self.procfs.tasks.get(&pid).unwrap_or(&none)))
        };
        let state = |pid: Pid| if pid == self.procfs.caller { b'R' } else { b'S' };
        Ok(match g {
            Gen::Meminfo => {
                let (free, total) = env.mem_info().unwrap_or((0, 0));
                text::meminfo(free, total, self.fs.data_bytes() as u64)
            }
            Gen::Uptime => text::uptime(env.clock(MONOTONIC)),
            Gen::Cpuinfo => text::cpuinfo(),
            Gen::Loadavg => text::loadavg(self.procs.len(), self.procfs.last_pid),
            Gen::Stat => {
                let now = env.clock(MONOTONIC);
                let boot = env.clock(REALTIME).saturating_sub(now) / 1_000_000_000;
                text::stat(now, boot, self.procfs.forks)
            }
            Gen::Version => text::VERSION.to_vec(),
            Gen::Filesystems => text::FILESYSTEMS.to_vec(),
            Gen::PidStat(pid) => {
                let (p, t) = task(pid)?;
                text::pid_stat(&text::StatLine {
                    pid,
                    comm: &t.comm,
                    state: state(pid),
                    ppid: t.ppid,
                    tty: self.terminal_of(p),
                    start_ticks: t.start / 10_000_000,
                })
            }
            Gen::PidStatus(pid) => {
                let (p, t) = task(pid)?;
                let fd_size = p.fds.highest().map_or(0, |fd| fd + 1);
                text::pid_status(pid, t.ppid, &t.comm, state(pid), p.umask, fd_size)
            }
            Gen::PidCmdline(pid) => task(pid)?.1.cmdline.clone(),
            Gen::PidComm(pid) => {
                let mut c = task(pid)?.1.comm.clone();
                c.push(b'\n');
                c
            }
            Gen::PidMounts(pid) => {
                task(pid)?;
                text::MOUNTS.to_vec()
            }
        })
    }

    /// The console's device number if one of the process's standard
    /// descriptors is the console (its controlling terminal), else 0.
    fn terminal_of(&self, p: &crate::files::Proc) -> u64 {
        let console = (0..3).filter_map(|fd| p.fds.get(fd)).any(|e| matches!(self.fs.inode(self.ofd(e.ofd).ino).node, Node::Device(d) if d.is_terminal()));
        if console {
            crate::tmpfs::Device::Console.rdev()
        } else {
            0
        }
    }
}

/// The absolute path of the file `path` names from directory `start`
/// by a process whose root is `root`, symbolic links resolved (the last
/// one too), with its inode.
pub fn canonical(fs: &Tmpfs, root: Ino, start: Ino, path: &[u8]) -> Result<(Ino, Vec<u8>), Errno> {
    let mut links = Links::under(root);
    let (mut start, mut path) = (start, path.to_vec());
    loop {
        let p = path::parent(fs, start, &path, &mut links)?;
        let Last::Name(name) = p.last else {
            let ino = path::last(fs, &p, true, &mut links)?;
            return Ok((ino, fs.path_of(ino)?));
        };
        path::check_name(name)?;
        let ino = fs.lookup(p.dir, name)?.ok_or(Errno::ENOENT)?;
        if let Some(target) = fs.symlink_target(ino) {
            links.follow()?;
            (start, path) = (p.dir, target.to_vec());
            continue;
        }
        let inode = fs.inode(ino);
        if p.slash && !inode.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if inode.is_dir() {
            return Ok((ino, fs.path_of(ino)?));
        }
        return Ok((ino, join(&fs.path_of(p.dir)?, name)));
    }
}

/// `dir/name`.
fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut t = dir.to_vec();
    if t.last() != Some(&b'/') {
        t.push(b'/');
    }
    t.extend_from_slice(name);
    t
}

/// A directory's path; a removed one shows its last name and " (deleted)".
fn dir_path(fs: &Tmpfs, ino: Ino) -> Vec<u8> {
    fs.path_of(ino).unwrap_or_else(|_| {
        let mut t = match &fs.inode(ino).node {
            Node::Dir(d) => join(b"/", &d.name),
            _ => b"/".to_vec(),
        };
        t.extend_from_slice(b" (deleted)");
        t
    })
}

/// Whether entry `name` of directory `dir` (which may be gone) is `ino`.
fn still_there(fs: &Tmpfs, dir: Ino, name: &[u8], ino: Ino) -> bool {
    fs.get(dir).is_some_and(|i| i.nlink > 0 && matches!(&i.node, Node::Dir(d) if d.get(name) == Some(ino)))
}

/// A pid or descriptor as a name in /proc.
fn pid_name(n: u64) -> Vec<u8> {
    format!("{n}").into_bytes()
}

/// The pid a name of /proc stands for, if it is one.
fn parse_pid(name: &[u8]) -> Option<Pid> {
    if name.is_empty() || name.len() > 19 || !name.iter().all(u8::is_ascii_digit) || (name[0] == b'0' && name.len() > 1) {
        return None;
    }
    core::str::from_utf8(name).ok()?.parse().ok()
}

/// A descriptor's link shows how it was opened, as in Linux: r-x for
/// reading, -wx for writing (owner only), none for O_PATH.
fn link_mode(ofd: &Ofd) -> u32 {
    let mut mode = S_IFLNK;
    if ofd.readable() {
        mode |= 0o500;
    }
    if ofd.writable() {
        mode |= 0o300;
    }
    mode
}

/// Makes link `name` of `dir` point at `target` with `mode` (in place if
/// it is there), or removes it for `None`.
fn set_link(fs: &mut Tmpfs, dir: Ino, name: &[u8], target: Option<Vec<u8>>, mode: u32) {
    match (fs.lookup(dir, name).ok().flatten(), target) {
        (Some(ino), Some(t)) => {
            let inode = fs.inode_mut(ino);
            if !matches!(&inode.node, Node::Symlink(old) if *old == t) {
                inode.node = Node::Symlink(t);
            }
            inode.mode = mode;
        }
        (Some(_), None) => fs.proc_remove(dir, name),
        (None, Some(t)) => {
            fs.proc_add(dir, name, mode, Node::Symlink(t));
        }
        (None, None) => {}
    }
}

/// /proc/<pid> and the entries that never change (exe, cwd and fd/'s
/// entries come with each update).
fn make_pid_dir(fs: &mut Tmpfs, root: Ino, name: &[u8], pid: Pid) -> Ino {
    let dir = fs.proc_add(root, name, S_IFDIR | 0o555, Node::dir());
    // Linux keeps a process's descriptors to its owner: dr-x------.
    fs.proc_add(dir, b"fd", S_IFDIR | 0o500, Node::dir());
    for (file, gen) in PID_FILES {
        fs.proc_add(dir, file.as_bytes(), S_IFREG | 0o444, Node::Proc(gen(pid)));
    }
    fs.proc_add(dir, b"root", S_IFLNK | 0o777, Node::Symlink(b"/".to_vec()));
    dir
}

/// Removes entry `name` of `dir` and, for a directory, everything in it.
fn remove_tree(fs: &mut Tmpfs, dir: Ino, name: &[u8]) {
    let Ok(Some(ino)) = fs.lookup(dir, name) else { return };
    if let Ok(d) = fs.dir(ino) {
        let names: Vec<Vec<u8>> = d.entries_from(0).map(|(_, n, _)| n.to_vec()).collect();
        for n in names {
            remove_tree(fs, ino, &n);
        }
    }
    fs.proc_remove(dir, name);
}
