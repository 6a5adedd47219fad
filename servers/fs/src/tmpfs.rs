//! The one file system: a tree of inodes in memory, like Linux's tmpfs,
//! filled at start from the initrd. A file's bytes that came from the
//! initrd stay in the initrd (mapped read-only for the server's whole life)
//! until the file is first written, so a large initrd costs no heap.
//!
//! Link counts and sizes follow tmpfs: a directory has 2 + its
//! subdirectories links and a size of 20 bytes per entry plus 40; a
//! removed directory or file lives on, with no links, while an open file
//! description or a working directory holds it.
//!
//! So do the times. A change marks what it moves ([`Tmpfs::touch`]); the
//! file server reads the clock once at the end of the call and stamps the
//! marks with it ([`Tmpfs::stamp`]), so a call that changes nothing costs
//! no clock reading, and every time one call sets is the same.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::Cell;
use core::ops::Deref;
use libsys::shared::SharedMem;
use lstar_abi::errno::Errno;

use crate::linux::{makedev, mode::*, Stat, Timespec};
use crate::slab::Slab;

/// An inode's handle in the server: its key in the table of inodes
/// ([`Slab`]), kept by directories, open file descriptions and working
/// directories. Programs see another number, [`Inode::number`].
pub type Ino = crate::slab::Key;

/// The root directory: the first inode made.
pub const ROOT: Ino = 1;

/// `st_dev` of every file: one anonymous file system.
pub const DEV: u64 = makedev(0, 0x10);

/// `st_dev` of /proc and everything in it (crate::procfs), another one.
pub const PROC_DEV: u64 = makedev(0, 0x11);

/// tmpfs's nominal size of one directory entry (BOGO_DIRENT_SIZE).
const DIRENT_SIZE: i64 = 20;

/// What a change moves to now ([`Tmpfs::touch`]); bits may be combined.
pub mod touch {
    /// The last access, unconditionally (a new inode).
    pub const ATIME: u8 = 1;
    /// The contents: data written, entries added or removed.
    pub const MTIME: u8 = 2;
    /// The inode: any change, of contents or of attributes.
    pub const CTIME: u8 = 4;
    /// A read: atime moves as Linux's default `relatime` moves it, only
    /// if it is not after mtime or ctime, or is a day old.
    pub const READ: u8 = 8;
    /// A new inode: all three.
    pub const NEW: u8 = ATIME | MTIME | CTIME;
}

pub struct Inode {
    /// The inode number programs see (`st_ino`, `d_ino`): as in Linux's
    /// tmpfs, counted up from 1 and never given twice.
    pub number: u64,
    /// File type and permissions, as `st_mode`.
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    /// Open file descriptions and working directories holding the inode.
    refs: u32,
    /// Part of /proc (crate::procfs): its own file system, which programs
    /// may read but not change.
    pub proc: bool,
    /// Times to move to now at the next [`Tmpfs::stamp`] (`touch` bits).
    touched: u8,
    pub node: Node,
}

impl Inode {
    fn new(number: u64, mode: u32, nlink: u32, proc: bool, node: Node) -> Inode {
        let t = Timespec::default();
        Inode { number, mode, nlink, uid: 0, gid: 0, atime: t, mtime: t, ctime: t, refs: 0, proc, touched: 0, node }
    }

    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }

    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }

    pub fn is_regular(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
}

/// What an inode holds.
pub enum Node {
    /// A regular file's bytes: the initrd's until first written.
    File(Data),
    Dir(Dir),
    /// A symbolic link's target.
    Symlink(Vec<u8>),
    Device(Device),
    /// A device node mknod(2) made for a device Lstar does not have, or a
    /// socket's name: stat shows it (`rdev`), opening it is `ENXIO`.
    Special { rdev: u64 },
    /// A pipe made by pipe(2) (crate::pipe holds its buffer). Pipes live
    /// in no directory.
    Pipe(crate::pipe::PipeId),
    /// A named pipe (FIFO) that mknod(2) made: its pipe (buffer and ends,
    /// in crate::pipe) exists while it is open.
    Fifo(Option<crate::pipe::PipeId>),
    /// A file of /proc, whose bytes are made when it is read.
    Proc(crate::procfs::Gen),
}

impl Node {
    /// A new, empty directory for [`Tmpfs::mknod`], which gives it its
    /// place in the tree.
    pub fn dir() -> Node {
        Node::Dir(Dir::new(ROOT, b""))
    }

    /// The pipe behind a pipe or a FIFO.
    pub fn pipe(&self) -> Option<crate::pipe::PipeId> {
        match self {
            Node::Pipe(p) => Some(*p),
            Node::Fifo(p) => *p,
            _ => None,
        }
    }
}

/// A regular file's bytes, in one of three homes.
pub enum Data {
    /// Still in the initrd (or none at all): nothing to free.
    Borrowed(&'static [u8]),
    /// On the heap: the common case for a file written since boot.
    Owned(Vec<u8>),
    /// In shared pages of the server's space, from the first time the file
    /// is mapped MAP_SHARED on: the same frames back every such mapping,
    /// so read and write here and loads and stores there see one file
    /// (D23 in docs/decisions.md).
    Shared(SharedMem),
}

impl Deref for Data {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Data::Borrowed(b) => b,
            Data::Owned(v) => v,
            Data::Shared(m) => m.bytes(),
        }
    }
}

impl Data {
    /// Bytes of the data budget it takes (see `Tmpfs::data_limit`).
    fn held(&self) -> usize {
        match self {
            Data::Borrowed(_) => 0,
            Data::Owned(v) => v.capacity(),
            Data::Shared(m) => m.capacity(),
        }
    }
}

/// The character devices of /dev.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Null,
    Zero,
    /// Reads as zeros, and every write fails with ENOSPC (for testing
    /// how programs take a full disk).
    Full,
    Random,
    Urandom,
    /// /dev/console: program output goes to the serial console.
    Console,
    /// /dev/tty: the controlling terminal, which is always the console.
    Tty,
}

impl Device {
    /// Linux's device numbers (Documentation/admin-guide/devices.txt).
    pub fn rdev(self) -> u64 {
        match self {
            Device::Null => makedev(1, 3),
            Device::Zero => makedev(1, 5),
            Device::Full => makedev(1, 7),
            Device::Random => makedev(1, 8),
            Device::Urandom => makedev(1, 9),
            Device::Tty => makedev(5, 0),
            Device::Console => makedev(5, 1),
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Device::Console | Device::Tty)
    }

    /// The character device with number `rdev`, if Lstar has it (what a
    /// node mknod(2) makes with that number opens).
    pub fn from_rdev(rdev: u64) -> Option<Device> {
        [Device::Null, Device::Zero, Device::Full, Device::Random, Device::Urandom, Device::Console, Device::Tty].into_iter().find(|d| d.rdev() == rdev)
    }
}

/// A directory: its entries in name order for lookups, and in the order
/// they were made for reading, each at a position (`d_off`) that never
/// changes, so a program that removes entries while it reads the directory
/// (`rm -r`) neither skips nor repeats any.
pub struct Dir {
    /// `..`; the root's is the root.
    pub parent: Ino,
    /// The name in the parent; empty for the root.
    pub name: Vec<u8>,
    entries: BTreeMap<Vec<u8>, (Ino, u64)>,
    by_position: BTreeMap<u64, Vec<u8>>,
    next_position: u64,
}

impl Dir {
    /// Positions 0 and 1 are `.` and `..`.
    pub const FIRST: u64 = 2;

    fn new(parent: Ino, name: &[u8]) -> Dir {
        Dir {
            parent,
            name: name.to_vec(),
            entries: BTreeMap::new(),
            by_position: BTreeMap::new(),
            next_position: Dir::FIRST,
        }
    }

    pub fn get(&self, name: &[u8]) -> Option<Ino> {
        self.entries.get(name).map(|&(ino, _)| ino)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries at position `pos` or later, as (position, name, inode).
    pub fn entries_from(&self, pos: u64) -> impl Iterator<Item = (u64, &[u8], Ino)> + '_ {
        self.by_position.range(pos..).map(move |(&p, name)| (p, name.as_slice(), self.entries[name].0))
    }

    fn insert(&mut self, name: &[u8], ino: Ino) {
        let pos = self.next_position;
        self.next_position += 1;
        self.entries.insert(name.to_vec(), (ino, pos));
        self.by_position.insert(pos, name.to_vec());
    }

    fn remove(&mut self, name: &[u8]) -> Option<Ino> {
        let (ino, pos) = self.entries.remove(name)?;
        self.by_position.remove(&pos);
        Some(ino)
    }
}

/// What [`Tmpfs::add_initrd`] made of an archive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub files: usize,
    pub dirs: usize,
    pub symlinks: usize,
    /// Entries not taken: device nodes, `..` in a name, a name under a file.
    pub skipped: usize,
}

pub struct Tmpfs {
    inodes: Slab<Inode>,
    /// The number the next inode shows programs.
    next_number: u64,
    /// Heap bytes held by file contents (the capacity of owned buffers).
    data_bytes: usize,
    /// The most `data_bytes` may reach: past it writes fail with `ENOSPC`
    /// while the heap still has room for inodes and tables.
    data_limit: usize,
    /// Set when a directory of /proc is looked in ([`Tmpfs::dir`]), so
    /// that the file server knows a path lookup went through /proc
    /// (crate::procfs brings /proc up to date and looks again).
    proc_seen: Cell<bool>,
    /// The inodes with times to move at the next [`Tmpfs::stamp`] (their
    /// `touched` bits say which), each once.
    touched: Vec<Ino>,
}

impl Default for Tmpfs {
    fn default() -> Self {
        Tmpfs::new()
    }
}

impl Tmpfs {
    /// An empty root directory, mode 0755.
    pub fn new() -> Tmpfs {
        let mut fs = Tmpfs { inodes: Slab::new(), next_number: 1, data_bytes: 0, data_limit: usize::MAX, proc_seen: Cell::new(false), touched: Vec::new() };
        let root = fs.new_inode(S_IFDIR | 0o755, 2, false, Node::dir());
        debug_assert_eq!(root, ROOT);
        fs
    }

    /// Stores a new inode, with a new number, its times to be stamped.
    fn new_inode(&mut self, mode: u32, nlink: u32, proc: bool, node: Node) -> Ino {
        let number = self.next_number;
        self.next_number += 1;
        let ino = self.inodes.insert(Inode::new(number, mode, nlink, proc, node));
        self.touch(ino, touch::NEW);
        ino
    }

    /// Marks times of `ino` to move to now at the next [`Tmpfs::stamp`]
    /// (`what`: [`touch`] bits).
    pub fn touch(&mut self, ino: Ino, what: u8) {
        let inode = self.inodes.get_mut(ino).expect("a held inode number names a live inode");
        if inode.touched == 0 {
            self.touched.push(ino);
        }
        inode.touched |= what;
    }

    /// Whether any time waits for [`Tmpfs::stamp`].
    pub fn has_touched(&self) -> bool {
        !self.touched.is_empty()
    }

    /// Sets every time marked since the last stamp to `now`.
    pub fn stamp(&mut self, now: Timespec) {
        const DAY: i64 = 24 * 60 * 60;
        for ino in self.touched.drain(..) {
            // A marked inode may be gone since (removed and closed).
            let Some(inode) = self.inodes.get_mut(ino) else { continue };
            let what = core::mem::take(&mut inode.touched);
            if what & touch::MTIME != 0 {
                inode.mtime = now;
            }
            if what & touch::CTIME != 0 {
                inode.ctime = now;
            }
            let stale = inode.atime <= inode.mtime || inode.atime <= inode.ctime || now.sec.saturating_sub(inode.atime.sec) >= DAY;
            if what & touch::ATIME != 0 || (what & touch::READ != 0 && stale) {
                inode.atime = now;
            }
        }
    }

    /// Bounds the heap that file contents may take (see `data_limit`).
    pub fn set_data_limit(&mut self, bytes: usize) {
        self.data_limit = bytes;
    }

    /// Heap bytes held by file contents.
    pub fn data_bytes(&self) -> usize {
        self.data_bytes
    }

    /// Takes `n` bytes of the data budget for bytes kept outside a file
    /// (a pipe's buffer); false when that would pass the limit.
    pub fn reserve(&mut self, n: usize) -> bool {
        if self.data_bytes + n > self.data_limit {
            return false;
        }
        self.data_bytes += n;
        true
    }

    /// Gives back what [`Tmpfs::reserve`] took.
    pub fn unreserve(&mut self, n: usize) {
        self.data_bytes -= n;
    }

    /// Whether `n` more bytes fit the data budget.
    pub fn has_room(&self, n: usize) -> bool {
        self.data_bytes + n <= self.data_limit
    }

    /// The file system Lstar starts with: every entry of the initrd, then
    /// `/tmp` and `/dev` where the archive has none.
    pub fn boot(initrd: &'static [u8]) -> (Tmpfs, Loaded) {
        let mut fs = Tmpfs::new();
        let loaded = fs.add_initrd(initrd);
        fs.add_standard();
        (fs, loaded)
    }

    /// Adds every entry of a cpio archive, with the directories its names
    /// imply.
    pub fn add_initrd(&mut self, initrd: &'static [u8]) -> Loaded {
        let mut loaded = Loaded::default();
        for entry in cpio_reader::iter_files(initrd) {
            let mode = entry.mode().bits();
            let done = match mode & S_IFMT {
                S_IFREG => self.add_path(entry.name(), mode, Node::File(Data::Borrowed(entry.file()))).map(|_| loaded.files += 1),
                S_IFDIR => self.add_path(entry.name(), mode, Node::dir()).map(|_| loaded.dirs += 1),
                S_IFLNK => self.add_path(entry.name(), mode, Node::Symlink(entry.file().to_vec())).map(|_| loaded.symlinks += 1),
                _ => Err(Errno::EINVAL),
            };
            if done.is_err() {
                loaded.skipped += 1;
            }
        }
        loaded
    }

    /// `/tmp` (1777), `/dev` and its devices, unless the initrd made them.
    pub fn add_standard(&mut self) {
        let _ = self.add_path("tmp", S_IFDIR | 0o1777, Node::dir());
        let devices = [
            ("dev/null", 0o666, Device::Null),
            ("dev/zero", 0o666, Device::Zero),
            ("dev/full", 0o666, Device::Full),
            ("dev/random", 0o666, Device::Random),
            ("dev/urandom", 0o666, Device::Urandom),
            ("dev/console", 0o600, Device::Console),
            ("dev/tty", 0o666, Device::Tty),
        ];
        for (path, perms, dev) in devices {
            if self.walk_plain(path).is_none() {
                let _ = self.add_path(path, S_IFCHR | perms, Node::Device(dev));
            }
        }
    }

    /// Looks up a slash-separated path from the root without following
    /// symbolic links (for set-up; programs go through crate::path).
    pub fn walk_plain(&self, path: &str) -> Option<Ino> {
        let mut at = ROOT;
        for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
            at = self.dir(at).ok()?.get(part.as_bytes())?;
        }
        Some(at)
    }

    /// Makes `path` (relative to the root) a new inode of `mode` holding
    /// `node`, creating missing directories on the way (0755). An existing
    /// directory takes the new mode; an existing file is replaced.
    fn add_path(&mut self, path: &str, mode: u32, node: Node) -> Result<Ino, Errno> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
        if parts.contains(&"..") {
            return Err(Errno::EINVAL);
        }
        let Some((last, dirs)) = parts.split_last() else {
            // The archive's "." entry: the root itself.
            if mode & S_IFMT == S_IFDIR {
                self.set_perms(ROOT, mode);
                return Ok(ROOT);
            }
            return Err(Errno::EINVAL);
        };
        let mut at = ROOT;
        for part in dirs {
            at = match self.dir(at)?.get(part.as_bytes()) {
                Some(ino) if self.inode(ino).is_dir() => ino,
                Some(_) => return Err(Errno::ENOTDIR),
                None => self.mknod(at, part.as_bytes(), S_IFDIR | 0o755, Node::dir())?,
            };
        }
        let name = last.as_bytes();
        if let Some(old) = self.dir(at)?.get(name) {
            if self.inode(old).is_dir() {
                if mode & S_IFMT != S_IFDIR {
                    return Err(Errno::EISDIR);
                }
                self.set_perms(old, mode);
                return Ok(old);
            }
            self.unlink(at, name)?;
        }
        self.mknod(at, name, mode, node)
    }

    fn set_perms(&mut self, ino: Ino, mode: u32) {
        let inode = self.inode_mut(ino);
        inode.mode = (inode.mode & S_IFMT) | (mode & PERMS);
    }

    /// The inode `ino`. Callers only hold numbers of live inodes.
    pub fn inode(&self, ino: Ino) -> &Inode {
        self.inodes.get(ino).expect("a held inode number names a live inode")
    }

    pub fn inode_mut(&mut self, ino: Ino) -> &mut Inode {
        self.inodes.get_mut(ino).expect("a held inode number names a live inode")
    }

    /// The number programs see for `ino` (`st_ino`).
    pub fn number(&self, ino: Ino) -> u64 {
        self.inode(ino).number
    }

    /// The inode `ino` if it is still alive (for numbers kept without a
    /// hold: crate::procfs remembers where files were found).
    pub fn get(&self, ino: Ino) -> Option<&Inode> {
        self.inodes.get(ino)
    }

    /// The number of inodes (for tests and the start-up log).
    pub fn count(&self) -> usize {
        self.inodes.len()
    }

    pub fn dir(&self, ino: Ino) -> Result<&Dir, Errno> {
        let inode = self.inode(ino);
        if inode.proc {
            self.proc_seen.set(true);
        }
        match &inode.node {
            Node::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn dir_mut(&mut self, ino: Ino) -> Result<&mut Dir, Errno> {
        match &mut self.inode_mut(ino).node {
            Node::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The entry `name` of directory `dir`, if there is one.
    pub fn lookup(&self, dir: Ino, name: &[u8]) -> Result<Option<Ino>, Errno> {
        Ok(self.dir(dir)?.get(name))
    }

    /// `..` of a directory.
    pub fn parent(&self, dir: Ino) -> Result<Ino, Errno> {
        Ok(self.dir(dir)?.parent)
    }

    pub fn symlink_target(&self, ino: Ino) -> Option<&[u8]> {
        match &self.inode(ino).node {
            Node::Symlink(t) => Some(t),
            _ => None,
        }
    }

    /// Whether a directory was removed (it keeps living while held).
    pub fn is_removed(&self, ino: Ino) -> bool {
        self.inode(ino).nlink == 0
    }

    /// Makes a new inode as entry `name` of `dir`. A directory `node` is
    /// given its place in the tree here. In /proc a new file is `EACCES`
    /// (what open(2) with O_CREAT meets there) and anything else `EPERM`.
    pub fn mknod(&mut self, dir: Ino, name: &[u8], mode: u32, node: Node) -> Result<Ino, Errno> {
        if self.lookup(dir, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        if self.is_removed(dir) {
            return Err(Errno::ENOENT);
        }
        if self.inode(dir).proc {
            return Err(if matches!(node, Node::File(_)) { Errno::EACCES } else { Errno::EPERM });
        }
        Ok(self.make(dir, name, mode, node, false))
    }

    fn make(&mut self, dir: Ino, name: &[u8], mode: u32, node: Node, proc: bool) -> Ino {
        let (node, nlink) = match node {
            Node::Dir(_) => (Node::Dir(Dir::new(dir, name)), 2),
            other => (other, 1),
        };
        let ino = self.new_inode(mode, nlink, proc, node);
        self.attach(dir, name, ino);
        ino
    }

    /// Adds entry `name` to `dir` as a new inode of /proc (for
    /// crate::procfs, which alone changes /proc). `name` must be free.
    pub(crate) fn proc_add(&mut self, dir: Ino, name: &[u8], mode: u32, node: Node) -> Ino {
        self.make(dir, name, mode, node, true)
    }

    /// Removes entry `name` of `dir` (an empty directory or anything
    /// else), for crate::procfs. What is still held lives on, removed.
    pub(crate) fn proc_remove(&mut self, dir: Ino, name: &[u8]) {
        let Ok(Some(ino)) = self.lookup(dir, name) else { return };
        self.detach(dir, name);
        let inode = self.inode_mut(ino);
        inode.nlink = if inode.is_dir() { 0 } else { inode.nlink - 1 };
        self.maybe_free(ino);
    }

    /// Whether a lookup went through a directory of /proc since the last
    /// call (see `proc_seen`).
    pub(crate) fn take_proc_seen(&self) -> bool {
        self.proc_seen.replace(false)
    }

    /// What Linux answers a program that changes a name in `dir`: nothing
    /// in /proc may be added, removed or moved (`EPERM`: its directories
    /// have no such operations), nor /proc itself (`EBUSY`: a mount point).
    fn check_change(&self, dir: Ino, victim: Option<Ino>) -> Result<(), Errno> {
        if self.inode(dir).proc {
            return Err(Errno::EPERM);
        }
        if victim.is_some_and(|v| self.inode(v).proc) {
            return Err(Errno::EBUSY);
        }
        Ok(())
    }

    /// A new inode in no directory (a pipe's): it lives while open file
    /// descriptions hold it.
    pub fn anon(&mut self, mode: u32, node: Node) -> Ino {
        self.new_inode(mode, 0, false, node)
    }

    /// Adds a hard link to `ino` as entry `name` of `dir`.
    pub fn link(&mut self, dir: Ino, name: &[u8], ino: Ino) -> Result<(), Errno> {
        if self.lookup(dir, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        if self.inode(dir).proc != self.inode(ino).proc {
            return Err(Errno::EXDEV);
        }
        if self.is_removed(dir) {
            return Err(Errno::ENOENT);
        }
        if self.inode(ino).is_dir() {
            return Err(Errno::EPERM);
        }
        self.check_change(dir, None)?;
        if self.inode(ino).nlink == 0 {
            return Err(Errno::ENOENT);
        }
        self.inode_mut(ino).nlink += 1;
        self.touch(ino, touch::CTIME);
        self.attach(dir, name, ino);
        Ok(())
    }

    /// Removes the entry `name` (not a directory) of `dir`.
    pub fn unlink(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        let ino = self.lookup(dir, name)?.ok_or(Errno::ENOENT)?;
        if self.inode(ino).is_dir() {
            return Err(Errno::EISDIR);
        }
        self.check_change(dir, Some(ino))?;
        self.detach(dir, name);
        self.inode_mut(ino).nlink -= 1;
        self.touch(ino, touch::CTIME);
        self.maybe_free(ino);
        Ok(())
    }

    /// Removes the empty directory `name` of `dir`.
    pub fn rmdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        let ino = self.lookup(dir, name)?.ok_or(Errno::ENOENT)?;
        let empty = self.dir(ino)?.is_empty();
        self.check_change(dir, Some(ino))?;
        if !empty {
            return Err(Errno::ENOTEMPTY);
        }
        self.detach(dir, name);
        self.inode_mut(ino).nlink = 0;
        self.maybe_free(ino);
        Ok(())
    }

    /// rename(2) and renameat2(2) once both names are plain names: moves
    /// `old_name` of `old_dir` to `new_name` of `new_dir`, replacing what
    /// is there. `noreplace` is RENAME_NOREPLACE. The checks and their order
    /// are Linux's; `slash` says whether either path ended in a slash.
    pub fn rename(&mut self, old_dir: Ino, old_name: &[u8], new_dir: Ino, new_name: &[u8], noreplace: bool, slash: bool) -> Result<(), Errno> {
        if self.inode(old_dir).proc != self.inode(new_dir).proc {
            return Err(Errno::EXDEV);
        }
        let src = self.lookup(old_dir, old_name)?.ok_or(Errno::ENOENT)?;
        let dst = self.lookup(new_dir, new_name)?;
        if noreplace && dst.is_some() {
            return Err(Errno::EEXIST);
        }
        self.check_change(old_dir, Some(src))?;
        self.check_change(new_dir, dst)?;
        let src_is_dir = self.inode(src).is_dir();
        if !src_is_dir && slash {
            return Err(Errno::ENOTDIR);
        }
        // A directory cannot move into itself, nor replace one of its own
        // ancestors (which is never empty: it holds the directory).
        if src_is_dir && self.is_ancestor(src, new_dir) {
            return Err(Errno::EINVAL);
        }
        if let Some(d) = dst {
            if self.inode(d).is_dir() && self.is_ancestor(d, old_dir) {
                return Err(Errno::ENOTEMPTY);
            }
        }
        if dst == Some(src) {
            // Two links to one file (or the same name): rename(2) does nothing.
            return Ok(());
        }
        if let Some(d) = dst {
            match (src_is_dir, self.inode(d).is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !self.dir(d)?.is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
        }
        if self.is_removed(new_dir) {
            return Err(Errno::ENOENT);
        }
        if let Some(d) = dst {
            self.detach(new_dir, new_name);
            let inode = self.inode_mut(d);
            inode.nlink = if inode.is_dir() { 0 } else { inode.nlink - 1 };
            self.touch(d, touch::CTIME);
            self.maybe_free(d);
        }
        self.detach(old_dir, old_name);
        self.attach(new_dir, new_name, src);
        self.touch(src, touch::CTIME);
        Ok(())
    }

    /// renameat2(RENAME_EXCHANGE): swaps two existing entries.
    pub fn exchange(&mut self, a_dir: Ino, a_name: &[u8], b_dir: Ino, b_name: &[u8]) -> Result<(), Errno> {
        if self.inode(a_dir).proc != self.inode(b_dir).proc {
            return Err(Errno::EXDEV);
        }
        let a = self.lookup(a_dir, a_name)?.ok_or(Errno::ENOENT)?;
        let b = self.lookup(b_dir, b_name)?.ok_or(Errno::ENOENT)?;
        self.check_change(a_dir, Some(a))?;
        self.check_change(b_dir, Some(b))?;
        if (self.inode(a).is_dir() && self.is_ancestor(a, b_dir)) || (self.inode(b).is_dir() && self.is_ancestor(b, a_dir)) {
            return Err(Errno::EINVAL);
        }
        if a == b {
            return Ok(());
        }
        self.detach(a_dir, a_name);
        self.detach(b_dir, b_name);
        self.attach(a_dir, a_name, b);
        self.attach(b_dir, b_name, a);
        self.touch(a, touch::CTIME);
        self.touch(b, touch::CTIME);
        Ok(())
    }

    /// Whether `a` is directory `b` or one of its ancestors.
    pub fn is_ancestor(&self, a: Ino, b: Ino) -> bool {
        let mut at = b;
        loop {
            if at == a {
                return true;
            }
            match self.dir(at) {
                Ok(d) if at != ROOT => at = d.parent,
                _ => return false,
            }
        }
    }

    /// The absolute path of directory `dir` (getcwd). `ENOENT` if it was
    /// removed.
    pub fn path_of(&self, dir: Ino) -> Result<Vec<u8>, Errno> {
        Ok(self.path_under(dir, ROOT)?.unwrap_or_default())
    }

    /// The path of directory `dir` as seen from directory `root` (a
    /// process's root): `None` if `dir` is not below `root`, `ENOENT` if
    /// it was removed.
    pub fn path_under(&self, dir: Ino, root: Ino) -> Result<Option<Vec<u8>>, Errno> {
        let mut names: Vec<&[u8]> = Vec::new();
        let mut at = dir;
        while at != root {
            if self.is_removed(at) {
                return Err(Errno::ENOENT);
            }
            if at == ROOT {
                return Ok(None);
            }
            let d = self.dir(at)?;
            names.push(&d.name);
            at = d.parent;
        }
        let mut path = Vec::new();
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        Ok(Some(path))
    }

    /// Adds entry `name` → `ino` to `dir`, keeping link counts, sizes and
    /// a directory's place in the tree right.
    fn attach(&mut self, dir: Ino, name: &[u8], ino: Ino) {
        let child_is_dir = self.inode(ino).is_dir();
        if child_is_dir {
            let d = self.dir_mut(ino).expect("a directory");
            d.parent = dir;
            d.name = name.to_vec();
            self.inode_mut(dir).nlink += 1;
        }
        self.dir_mut(dir).expect("attach into a directory").insert(name, ino);
        self.touch(dir, touch::MTIME | touch::CTIME);
    }

    /// Removes entry `name` of `dir`; the child's own link count is the
    /// caller's business.
    fn detach(&mut self, dir: Ino, name: &[u8]) {
        let ino = self.dir_mut(dir).expect("detach from a directory").remove(name).expect("the entry exists");
        if self.inode(ino).is_dir() {
            self.inode_mut(dir).nlink -= 1;
        }
        self.touch(dir, touch::MTIME | touch::CTIME);
    }

    /// An open file description or working directory now refers to `ino`.
    pub fn hold(&mut self, ino: Ino) {
        self.inode_mut(ino).refs += 1;
    }

    /// One of those references went away.
    pub fn release(&mut self, ino: Ino) {
        let inode = self.inode_mut(ino);
        inode.refs -= 1;
        self.maybe_free(ino);
    }

    fn maybe_free(&mut self, ino: Ino) {
        let inode = self.inode(ino);
        if inode.nlink == 0 && inode.refs == 0 {
            if let Node::File(data) = &inode.node {
                self.data_bytes -= data.held();
            }
            // Left in `touched`, where stamp skips it.
            self.inodes.remove(ino);
        }
    }

    /// Makes regular file `ino` `len` bytes long, zero-filling what it
    /// grows by. Bytes still in the initrd are copied out first unless the
    /// file only shrinks; a file cut to nothing gives its memory back
    /// (unless it is in shared pages, which mappings may still show).
    /// `ENOSPC`, as a full tmpfs says, past the data limit or when the
    /// heap cannot hold the bytes.
    pub fn resize_file(&mut self, ino: Ino, len: usize) -> Result<(), Errno> {
        let (budget_used, limit) = (self.data_bytes, self.data_limit);
        let Node::File(data) = &mut self.inode_mut(ino).node else { return Err(Errno::EINVAL) };
        let old_held = data.held();
        let others = budget_used - old_held;
        match data {
            Data::Shared(m) => {
                if others + len.next_multiple_of(4096) > limit {
                    return Err(Errno::ENOSPC);
                }
                m.resize(len).map_err(|_| Errno::ENOSPC)?;
            }
            _ if len == 0 => *data = Data::Borrowed(&[]),
            Data::Borrowed(bytes) if len <= bytes.len() => *data = Data::Borrowed(&bytes[..len]),
            Data::Borrowed(bytes) => {
                if budget_used + len > limit {
                    return Err(Errno::ENOSPC);
                }
                let mut v = Vec::new();
                v.try_reserve_exact(len).map_err(|_| Errno::ENOSPC)?;
                v.extend_from_slice(bytes);
                v.resize(len, 0);
                *data = Data::Owned(v);
            }
            Data::Owned(v) if len > v.capacity() => {
                // Room to grow into, as a Vec would take it, when the limit
                // and the heap allow; else just enough.
                let roomy = len.max(2 * v.capacity());
                let got = others + roomy <= limit && v.try_reserve_exact(roomy - v.len()).is_ok();
                if !got && (others + len > limit || v.try_reserve_exact(len - v.len()).is_err()) {
                    return Err(Errno::ENOSPC);
                }
                v.resize(len, 0);
            }
            Data::Owned(v) => {
                v.resize(len, 0);
                if v.capacity() > 2 * len + 4096 {
                    v.shrink_to_fit();
                }
            }
        }
        let new_held = data.held();
        self.data_bytes = others + new_held;
        Ok(())
    }

    /// The bytes of regular file `ino` for writing in place: copied out of
    /// the initrd first if they are still there (`ENOSPC` as for
    /// [`Tmpfs::resize_file`]).
    pub fn file_bytes_mut(&mut self, ino: Ino) -> Result<&mut [u8], Errno> {
        let inode = self.inodes.get_mut(ino).expect("a held inode number names a live inode");
        let Node::File(data) = &mut inode.node else { return Err(Errno::EINVAL) };
        if let Data::Borrowed(bytes) = *data {
            if self.data_bytes + bytes.len() > self.data_limit {
                return Err(Errno::ENOSPC);
            }
            let mut v = Vec::new();
            v.try_reserve_exact(bytes.len()).map_err(|_| Errno::ENOSPC)?;
            v.extend_from_slice(bytes);
            self.data_bytes += v.capacity();
            *data = Data::Owned(v);
        }
        match data {
            Data::Owned(v) => Ok(v.as_mut_slice()),
            Data::Shared(m) => Ok(m.bytes_mut()),
            Data::Borrowed(_) => unreachable!("made owned above"),
        }
    }

    /// The bytes of regular file `ino` in shared pages, moved there first
    /// if they are not yet (for a MAP_SHARED mapping of it). `ENOMEM` when
    /// the data limit or the memory does not allow it.
    pub fn share_file(&mut self, ino: Ino) -> Result<&SharedMem, Errno> {
        let (budget_used, limit) = (self.data_bytes, self.data_limit);
        let inode = self.inodes.get_mut(ino).expect("a held inode number names a live inode");
        let Node::File(data) = &mut inode.node else { return Err(Errno::ENODEV) };
        if !matches!(data, Data::Shared(_)) {
            let others = budget_used - data.held();
            let mut m = SharedMem::new();
            if others + data.len().next_multiple_of(4096) > limit {
                return Err(Errno::ENOMEM);
            }
            m.resize(data.len())?;
            m.bytes_mut().copy_from_slice(data);
            self.data_bytes = others + m.capacity();
            *data = Data::Shared(m);
        }
        match data {
            Data::Shared(m) => Ok(m),
            _ => unreachable!("made shared above"),
        }
    }

    pub fn stat(&self, ino: Ino) -> Stat {
        let inode = self.inode(ino);
        let (size, blocks, rdev) = match &inode.node {
            Node::File(data) => {
                let len = data.len() as u64;
                (len as i64, (len.div_ceil(4096) * 8) as i64, 0)
            }
            Node::Dir(d) => (2 * DIRENT_SIZE + DIRENT_SIZE * d.len() as i64, 0, 0),
            Node::Symlink(t) => (t.len() as i64, 0, 0),
            Node::Device(dev) => (0, 0, dev.rdev()),
            Node::Special { rdev } => (0, 0, *rdev),
            Node::Pipe(_) | Node::Fifo(_) | Node::Proc(_) => (0, 0, 0),
        };
        // /proc's files are empty until read, and its links and
        // directories show no size either, as in Linux.
        let size = if inode.proc { 0 } else { size };
        Stat {
            dev: if inode.proc { PROC_DEV } else { DEV },
            ino: inode.number,
            // A pipe shows the one link Linux's pipefs gives it, though it
            // is in no directory.
            nlink: if matches!(inode.node, Node::Pipe(_)) { 1 } else { inode.nlink.into() },
            mode: inode.mode,
            uid: inode.uid,
            gid: inode.gid,
            rdev,
            size,
            blksize: if inode.proc { 1024 } else { 4096 },
            blocks,
            atime: inode.atime,
            mtime: inode.mtime,
            ctime: inode.ctime,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A newc archive, written here independently of xtask's writer.
    pub fn cpio(entries: &[(&str, u32, &[u8])]) -> &'static [u8] {
        let mut out = Vec::new();
        let mut push = |name: &str, mode: u32, data: &[u8], ino: u32| {
            let fields = [ino, mode, 0, 0, 1, 0, data.len() as u32, 0, 0, 0, 0, name.len() as u32 + 1, 0];
            out.extend_from_slice(b"070701");
            for f in fields {
                out.extend_from_slice(alloc::format!("{f:08X}").as_bytes());
            }
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            while out.len() % 4 != 0 {
                out.push(0);
            }
            out.extend_from_slice(data);
            while out.len() % 4 != 0 {
                out.push(0);
            }
        };
        for (i, (name, mode, data)) in entries.iter().enumerate() {
            push(name, *mode, data, i as u32 + 1);
        }
        push("TRAILER!!!", 0, b"", 0);
        Vec::leak(out)
    }

    fn names(fs: &Tmpfs, dir: Ino) -> Vec<Vec<u8>> {
        fs.dir(dir).unwrap().entries_from(0).map(|(_, n, _)| n.to_vec()).collect()
    }

    #[test]
    fn boot_from_initrd() {
        let archive = cpio(&[
            ("servers", S_IFDIR | 0o755, b""),
            ("servers/fs", S_IFREG | 0o755, b"\x7fELF"),
            ("bin/hello", S_IFREG | 0o755, b"hi"),
            ("./etc/motd", S_IFREG | 0o644, b"welcome\n"),
            ("etc/link", S_IFLNK | 0o777, b"motd"),
            ("../evil", S_IFREG | 0o644, b""),
            ("dev/sda", S_IFBLK | 0o600, b""),
        ]);
        let (fs, loaded) = Tmpfs::boot(archive);
        assert_eq!(loaded, Loaded { files: 3, dirs: 1, symlinks: 1, skipped: 2 });
        let hello = fs.walk_plain("bin/hello").unwrap();
        assert_eq!(fs.inode(hello).mode, S_IFREG | 0o755);
        assert_eq!(fs.stat(hello).size, 2);
        let bin = fs.walk_plain("bin").unwrap();
        assert_eq!(fs.inode(bin).mode, S_IFDIR | 0o755, "implied directories are 0755");
        assert_eq!(fs.symlink_target(fs.walk_plain("etc/link").unwrap()), Some(&b"motd"[..]));
        let tmp = fs.walk_plain("tmp").unwrap();
        assert_eq!(fs.inode(tmp).mode, S_IFDIR | 0o1777);
        let null = fs.walk_plain("dev/null").unwrap();
        assert_eq!(fs.inode(null).mode, S_IFCHR | 0o666);
        assert_eq!(fs.stat(null).rdev, makedev(1, 3));
        assert_eq!(fs.inode(fs.walk_plain("dev/console").unwrap()).mode, S_IFCHR | 0o600);
        assert!(fs.walk_plain("dev/sda").is_none());
        // Root: ., .., and bin dev etc servers tmp → 2 + 5 subdirectories.
        assert_eq!(fs.inode(ROOT).nlink, 7);
        assert_eq!(names(&fs, ROOT), [&b"servers"[..], b"bin", b"etc", b"tmp", b"dev"]);
    }

    #[test]
    fn link_counts_and_sizes() {
        let mut fs = Tmpfs::new();
        let d = fs.mknod(ROOT, b"d", S_IFDIR | 0o755, Node::dir()).unwrap();
        assert_eq!(fs.inode(ROOT).nlink, 3);
        assert_eq!(fs.stat(d).size, 40);
        let f = fs.mknod(d, b"f", S_IFREG | 0o644, Node::File(Data::Borrowed(b""))).unwrap();
        assert_eq!(fs.stat(d).size, 60);
        fs.link(ROOT, b"g", f).unwrap();
        assert_eq!(fs.inode(f).nlink, 2);
        assert_eq!(fs.link(ROOT, b"g", f), Err(Errno::EEXIST));
        assert_eq!(fs.link(ROOT, b"dd", d), Err(Errno::EPERM));
        assert_eq!(fs.rmdir(ROOT, b"d"), Err(Errno::ENOTEMPTY));
        assert_eq!(fs.unlink(ROOT, b"d"), Err(Errno::EISDIR));
        fs.unlink(d, b"f").unwrap();
        assert_eq!(fs.inode(f).nlink, 1);
        fs.hold(f);
        fs.unlink(ROOT, b"g").unwrap();
        assert_eq!(fs.inode(f).nlink, 0, "held: still alive");
        let before = fs.count();
        fs.release(f);
        assert_eq!(fs.count(), before - 1, "freed with its last reference");
        fs.rmdir(ROOT, b"d").unwrap();
        assert_eq!(fs.inode(ROOT).nlink, 2);
        assert_eq!(fs.mknod(ROOT, b"x", S_IFREG, Node::File(Data::Borrowed(b""))).map(|_| ()), Ok(()));
    }

    #[test]
    fn removed_directory_lives_while_held() {
        let mut fs = Tmpfs::new();
        let d = fs.mknod(ROOT, b"d", S_IFDIR | 0o755, Node::dir()).unwrap();
        fs.hold(d);
        fs.rmdir(ROOT, b"d").unwrap();
        assert!(fs.is_removed(d));
        assert_eq!(fs.path_of(d), Err(Errno::ENOENT));
        assert_eq!(fs.mknod(d, b"x", S_IFREG, Node::File(Data::Borrowed(b""))), Err(Errno::ENOENT));
        fs.release(d);
    }

    #[test]
    fn positions_survive_removal() {
        let mut fs = Tmpfs::new();
        for name in [&b"c"[..], b"a", b"b"] {
            fs.mknod(ROOT, name, S_IFREG | 0o644, Node::File(Data::Borrowed(b""))).unwrap();
        }
        let first: Vec<(u64, Vec<u8>)> = fs.dir(ROOT).unwrap().entries_from(0).map(|(p, n, _)| (p, n.to_vec())).collect();
        assert_eq!(first, [(2, b"c".to_vec()), (3, b"a".to_vec()), (4, b"b".to_vec())]);
        fs.unlink(ROOT, b"c").unwrap();
        fs.unlink(ROOT, b"a").unwrap();
        let rest: Vec<Vec<u8>> = fs.dir(ROOT).unwrap().entries_from(4).map(|(_, n, _)| n.to_vec()).collect();
        assert_eq!(rest, [b"b".to_vec()]);
    }

    #[test]
    fn rename_rules() {
        let mut fs = Tmpfs::new();
        let mk_dir = |fs: &mut Tmpfs, at, name: &[u8]| fs.mknod(at, name, S_IFDIR | 0o755, Node::dir()).unwrap();
        let mk_file = |fs: &mut Tmpfs, at, name: &[u8]| fs.mknod(at, name, S_IFREG | 0o644, Node::File(Data::Borrowed(b""))).unwrap();
        let a = mk_dir(&mut fs, ROOT, b"a");
        let b = mk_dir(&mut fs, a, b"b");
        let f = mk_file(&mut fs, ROOT, b"f");
        mk_file(&mut fs, b, b"g");
        assert_eq!(fs.rename(ROOT, b"a", b, b"x", false, false), Err(Errno::EINVAL), "into itself");
        assert_eq!(fs.rename(ROOT, b"a", a, b"x", false, false), Err(Errno::EINVAL));
        assert_eq!(fs.rename(a, b"b", ROOT, b"a", false, false), Err(Errno::ENOTEMPTY), "over its ancestor");
        assert_eq!(fs.rename(ROOT, b"f", ROOT, b"a", false, false), Err(Errno::EISDIR));
        assert_eq!(fs.rename(ROOT, b"a", ROOT, b"f", false, false), Err(Errno::ENOTDIR));
        assert_eq!(fs.rename(ROOT, b"f", ROOT, b"f2", false, true), Err(Errno::ENOTDIR), "trailing slash on a file");
        assert_eq!(fs.rename(ROOT, b"nope", ROOT, b"x", false, false), Err(Errno::ENOENT));
        assert_eq!(fs.rename(ROOT, b"f", a, b"b", true, false), Err(Errno::EEXIST));
        // A directory moves up: link counts follow it.
        fs.rename(a, b"b", ROOT, b"b", false, false).unwrap();
        assert_eq!(fs.inode(a).nlink, 2);
        assert_eq!(fs.inode(ROOT).nlink, 4);
        assert_eq!(fs.parent(b), Ok(ROOT));
        assert_eq!(fs.path_of(b).unwrap(), b"/b");
        // A directory replaces only an empty one.
        assert_eq!(fs.rename(ROOT, b"a", ROOT, b"b", false, false), Err(Errno::ENOTEMPTY));
        fs.unlink(b, b"g").unwrap();
        fs.rename(ROOT, b"a", ROOT, b"b", false, false).unwrap();
        assert_eq!(fs.lookup(ROOT, b"b"), Ok(Some(a)));
        assert!(!fs.inodes.contains(b), "the replaced directory is gone");
        assert_eq!(fs.inode(ROOT).nlink, 3);
        // A file replaces a file; hard links to one file are left alone.
        let g = mk_file(&mut fs, ROOT, b"g");
        fs.rename(ROOT, b"f", ROOT, b"g", false, false).unwrap();
        assert_eq!(fs.lookup(ROOT, b"g"), Ok(Some(f)));
        assert!(!fs.inodes.contains(g));
        fs.link(ROOT, b"h", f).unwrap();
        fs.rename(ROOT, b"g", ROOT, b"h", false, false).unwrap();
        assert_eq!(fs.lookup(ROOT, b"g"), Ok(Some(f)));
        assert_eq!(fs.inode(f).nlink, 2);
    }

    #[test]
    fn exchange_swaps() {
        let mut fs = Tmpfs::new();
        let d = fs.mknod(ROOT, b"d", S_IFDIR | 0o755, Node::dir()).unwrap();
        let f = fs.mknod(ROOT, b"f", S_IFREG | 0o644, Node::File(Data::Borrowed(b""))).unwrap();
        fs.exchange(ROOT, b"d", ROOT, b"f").unwrap();
        assert_eq!(fs.lookup(ROOT, b"d"), Ok(Some(f)));
        assert_eq!(fs.lookup(ROOT, b"f"), Ok(Some(d)));
        assert_eq!(fs.path_of(d).unwrap(), b"/f");
        assert_eq!(fs.inode(ROOT).nlink, 3);
    }

    #[test]
    fn file_data_copy_on_write_and_the_limit() {
        let mut fs = Tmpfs::new();
        let f = fs.mknod(ROOT, b"f", S_IFREG | 0o644, Node::File(Data::Borrowed(b"abc"))).unwrap();
        let bytes = |fs: &Tmpfs| match &fs.inode(f).node {
            Node::File(d) => d.to_vec(),
            _ => unreachable!(),
        };
        fs.resize_file(f, 2).unwrap();
        assert_eq!(fs.data_bytes(), 0, "shrinking initrd bytes copies nothing");
        fs.file_bytes_mut(f).unwrap()[0] = b'A';
        assert_eq!(bytes(&fs), b"Ab");
        assert_eq!(fs.data_bytes(), 2);
        fs.resize_file(f, 5).unwrap();
        assert_eq!(bytes(&fs), b"Ab\0\0\0");
        fs.set_data_limit(fs.data_bytes() + 100);
        assert_eq!(fs.resize_file(f, 200), Err(Errno::ENOSPC));
        fs.resize_file(f, 50).unwrap();
        assert!(fs.data_bytes() <= 105);
        fs.resize_file(f, 0).unwrap();
        assert_eq!(fs.data_bytes(), 0, "a file cut to nothing gives its memory back");
        fs.resize_file(f, 10).unwrap();
        fs.unlink(ROOT, b"f").unwrap();
        assert_eq!(fs.data_bytes(), 0, "nor does a removed file keep any");
    }
}
