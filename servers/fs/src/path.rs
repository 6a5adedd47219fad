//! Path resolution, as path_resolution(7) describes it: components are
//! looked up one by one from the root (absolute paths) or a starting
//! directory; `.` and `..` are the directory and its parent (the root's
//! parent is the root). The root is the process's own (chroot(2)), which
//! `..` never leaves. A symbolic link met on the way is replaced by its
//! target, at most [`MAXSYMLINKS`] times per lookup; a trailing slash asks
//! for a directory. The last component is left to the caller, because
//! whether to follow it, create it or remove it depends on the call.
//!
//! Every process runs as root, so search permission never fails.

use alloc::vec::Vec;
use lstar_abi::errno::Errno;

use crate::linux::{MAXSYMLINKS, NAME_MAX};
use crate::tmpfs::{Ino, Tmpfs, ROOT};

/// The last component of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Last<'p> {
    Name(&'p [u8]),
    Dot,
    DotDot,
    /// The path was only slashes.
    Root,
}

/// A path resolved up to its last component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parent<'p> {
    /// The directory holding the last component.
    pub dir: Ino,
    pub last: Last<'p>,
    /// The path ends in a slash.
    pub slash: bool,
}

/// The state of one lookup: the root it resolves under and the symbolic
/// links it has followed.
#[derive(Debug)]
pub struct Links {
    root: Ino,
    followed: u32,
}

impl Default for Links {
    fn default() -> Links {
        Links::new()
    }
}

impl Links {
    /// A lookup under the file system's root.
    pub fn new() -> Links {
        Links::under(ROOT)
    }

    /// A lookup by a process whose root directory is `root`.
    pub fn under(root: Ino) -> Links {
        Links { root, followed: 0 }
    }

    pub(crate) fn follow(&mut self) -> Result<(), Errno> {
        if self.followed >= MAXSYMLINKS {
            return Err(Errno::ELOOP);
        }
        self.followed += 1;
        Ok(())
    }

    /// `dir`'s parent, except at the root, whose parent is itself.
    fn up(&self, fs: &Tmpfs, dir: Ino) -> Result<Ino, Errno> {
        if dir == self.root {
            fs.dir(dir)?;
            return Ok(dir);
        }
        fs.parent(dir)
    }
}

/// `ENAMETOOLONG` for a component longer than [`NAME_MAX`].
pub fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

/// Resolves every component of `path` but the last, starting at `start`
/// for a relative path. `ENOENT` for an empty path.
pub fn parent<'p>(fs: &Tmpfs, start: Ino, path: &'p [u8], links: &mut Links) -> Result<Parent<'p>, Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let mut dir = if path[0] == b'/' { links.root } else { start };
    let mut parts = path.split(|&c| c == b'/').filter(|p| !p.is_empty()).peekable();
    let mut last = Last::Root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            last = match part {
                b"." => Last::Dot,
                b".." => Last::DotDot,
                name => Last::Name(name),
            };
            break;
        }
        dir = step(fs, dir, part, links)?;
    }
    fs.dir(dir)?;
    Ok(Parent { dir, last, slash: path.ends_with(b"/") })
}

/// One component looked up in `dir`, a symbolic link followed.
fn step(fs: &Tmpfs, dir: Ino, part: &[u8], links: &mut Links) -> Result<Ino, Errno> {
    let d = fs.dir(dir)?;
    match part {
        b"." => Ok(dir),
        b".." => links.up(fs, dir),
        name => {
            check_name(name)?;
            let ino = d.get(name).ok_or(Errno::ENOENT)?;
            follow(fs, dir, ino, links)
        }
    }
}

/// `ino`, or what it leads to if it is a symbolic link found in `dir`.
fn follow(fs: &Tmpfs, dir: Ino, ino: Ino, links: &mut Links) -> Result<Ino, Errno> {
    match fs.symlink_target(ino) {
        Some(target) => {
            links.follow()?;
            resolve(fs, dir, target, true, links)
        }
        None => Ok(ino),
    }
}

/// Resolves `path` to an inode. A symbolic link as the last component is
/// followed when `follow` is set or the path ends in a slash.
pub fn resolve(fs: &Tmpfs, start: Ino, path: &[u8], follow_last: bool, links: &mut Links) -> Result<Ino, Errno> {
    let p = parent(fs, start, path, links)?;
    last(fs, &p, follow_last, links)
}

/// The inode the last component of `p` names.
pub fn last(fs: &Tmpfs, p: &Parent, follow_last: bool, links: &mut Links) -> Result<Ino, Errno> {
    let ino = match p.last {
        Last::Root => links.root,
        Last::Dot => p.dir,
        Last::DotDot => links.up(fs, p.dir)?,
        Last::Name(name) => {
            check_name(name)?;
            let ino = fs.lookup(p.dir, name)?.ok_or(Errno::ENOENT)?;
            if follow_last || p.slash {
                follow(fs, p.dir, ino, links)?
            } else {
                ino
            }
        }
    };
    if p.slash && !fs.inode(ino).is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(ino)
}

/// What open(2) with O_CREAT finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Exists(Ino),
    /// Nothing there yet: the file would be entry `name` of `dir`.
    Missing { dir: Ino, name: Vec<u8> },
}

/// open(2)'s lookup with O_CREAT. A path ending in a slash, `.`, `..` or
/// `/` cannot name a new regular file: `EISDIR`. With `follow`, a final
/// symbolic link leads to its target, and a dangling one to the place its
/// target names, where the file will be made.
pub fn lookup_create(fs: &Tmpfs, start: Ino, path: &[u8], follow_last: bool, links: &mut Links) -> Result<Found, Errno> {
    let p = parent(fs, start, path, links)?;
    let Last::Name(name) = p.last else { return Err(Errno::EISDIR) };
    if p.slash {
        return Err(Errno::EISDIR);
    }
    check_name(name)?;
    match fs.lookup(p.dir, name)? {
        None => Ok(Found::Missing { dir: p.dir, name: name.to_vec() }),
        Some(ino) => match fs.symlink_target(ino) {
            Some(target) if follow_last => {
                links.follow()?;
                lookup_create(fs, p.dir, target, true, links)
            }
            _ => Ok(Found::Exists(ino)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::mode::*;
    use crate::tmpfs::Node;
    use crate::tmpfs::Data;
    use alloc::format;

    /// /a/b/f (file), /a/up -> .., /a/abs -> /a/b, /a/dangling -> nope,
    /// /a/self -> self, /f -> a/b/f.
    fn tree() -> Tmpfs {
        let mut fs = Tmpfs::new();
        let dir = |fs: &mut Tmpfs, at, name: &[u8]| fs.mknod(at, name, S_IFDIR | 0o755, Node::dir()).unwrap();
        let link = |fs: &mut Tmpfs, at, name: &[u8], to: &[u8]| fs.mknod(at, name, S_IFLNK | 0o777, Node::Symlink(to.to_vec())).unwrap();
        let a = dir(&mut fs, ROOT, b"a");
        let b = dir(&mut fs, a, b"b");
        fs.mknod(b, b"f", S_IFREG | 0o644, Node::File(Data::Borrowed(b"x"))).unwrap();
        link(&mut fs, a, b"up", b"..");
        link(&mut fs, a, b"abs", b"/a/b");
        link(&mut fs, a, b"dangling", b"nope");
        link(&mut fs, a, b"self", b"self");
        link(&mut fs, ROOT, b"f", b"a/b/f");
        fs
    }

    fn at(fs: &Tmpfs, path: &str) -> Ino {
        fs.walk_plain(path).unwrap()
    }

    fn r(fs: &Tmpfs, start: Ino, path: &str, follow: bool) -> Result<Ino, Errno> {
        resolve(fs, start, path.as_bytes(), follow, &mut Links::new())
    }

    #[test]
    fn dots_and_slashes() {
        let fs = tree();
        let (a, b, f) = (at(&fs, "a"), at(&fs, "a/b"), at(&fs, "a/b/f"));
        assert_eq!(r(&fs, ROOT, "/", true), Ok(ROOT));
        assert_eq!(r(&fs, ROOT, "///", true), Ok(ROOT));
        assert_eq!(r(&fs, ROOT, "/..", true), Ok(ROOT), "the root's parent is the root");
        assert_eq!(r(&fs, b, "..", true), Ok(a));
        assert_eq!(r(&fs, b, ".", true), Ok(b));
        assert_eq!(r(&fs, b, "f", true), Ok(f));
        assert_eq!(r(&fs, ROOT, "a//b/./f", true), Ok(f));
        assert_eq!(r(&fs, ROOT, "/a/b/../b/f", true), Ok(f));
        assert_eq!(r(&fs, ROOT, "a/b/", true), Ok(b));
        assert_eq!(r(&fs, ROOT, "", true), Err(Errno::ENOENT));
    }

    #[test]
    fn errors() {
        let fs = tree();
        assert_eq!(r(&fs, ROOT, "a/nope", true), Err(Errno::ENOENT));
        assert_eq!(r(&fs, ROOT, "a/nope/x", true), Err(Errno::ENOENT));
        assert_eq!(r(&fs, ROOT, "a/b/f/", true), Err(Errno::ENOTDIR), "trailing slash on a file");
        assert_eq!(r(&fs, ROOT, "a/b/f/x", true), Err(Errno::ENOTDIR));
        assert_eq!(r(&fs, ROOT, "a/b/f/.", true), Err(Errno::ENOTDIR));
        let long = "x".repeat(256);
        assert_eq!(r(&fs, ROOT, &long, true), Err(Errno::ENAMETOOLONG));
        assert_eq!(r(&fs, ROOT, &format!("{long}/y"), true), Err(Errno::ENAMETOOLONG));
        assert_eq!(r(&fs, ROOT, &"x".repeat(255), true), Err(Errno::ENOENT));
    }

    #[test]
    fn symlinks() {
        let fs = tree();
        let (a, b, f) = (at(&fs, "a"), at(&fs, "a/b"), at(&fs, "a/b/f"));
        assert_eq!(r(&fs, ROOT, "f", true), Ok(f), "relative target, from the link's directory");
        assert_eq!(r(&fs, ROOT, "f", false), Ok(at(&fs, "f")), "not followed");
        assert_eq!(r(&fs, ROOT, "a/up", true), Ok(ROOT));
        assert_eq!(r(&fs, ROOT, "a/up/a/abs/f", true), Ok(f));
        assert_eq!(r(&fs, b, "../abs", true), Ok(b));
        assert_eq!(r(&fs, ROOT, "a/abs", false), Ok(at(&fs, "a/abs")));
        assert_eq!(r(&fs, ROOT, "a/abs/", false), Ok(b), "a trailing slash follows");
        assert_eq!(r(&fs, ROOT, "a/dangling", true), Err(Errno::ENOENT));
        assert_eq!(r(&fs, ROOT, "a/dangling", false), Ok(at(&fs, "a/dangling")));
        assert_eq!(r(&fs, ROOT, "a/self", true), Err(Errno::ELOOP));
        assert_eq!(r(&fs, ROOT, "a/self/x", false), Err(Errno::ELOOP));
        assert_eq!(r(&fs, ROOT, "a/self", false), Ok(at(&fs, "a/self")));
        let _ = a;
    }

    #[test]
    fn under_another_root() {
        let fs = tree();
        let (a, b, f) = (at(&fs, "a"), at(&fs, "a/b"), at(&fs, "a/b/f"));
        let r = |start, path: &str, follow| resolve(&fs, start, path.as_bytes(), follow, &mut Links::under(a));
        assert_eq!(r(ROOT, "/", true), Ok(a), "/ is the process's root");
        assert_eq!(r(ROOT, "/b/f", true), Ok(f));
        assert_eq!(r(b, "../..", true), Ok(a), "the root's parent is itself");
        assert_eq!(r(b, "../../b/./f", true), Ok(f));
        assert_eq!(r(ROOT, "/up", true), Ok(a), "a link to .. at the root");
        assert_eq!(r(ROOT, "/abs", true), Err(Errno::ENOENT), "/a/b is /a/a/b from inside /a");
        // A directory outside the root (a working directory kept from
        // before chroot) still has its own parent.
        assert_eq!(r(a, "..", true), Ok(a));
        assert_eq!(resolve(&fs, a, b"..", true, &mut Links::under(b)), Ok(ROOT));
    }

    #[test]
    fn forty_links_and_no_more() {
        let mut fs = Tmpfs::new();
        fs.mknod(ROOT, b"l0", S_IFREG | 0o644, Node::File(Data::Borrowed(b""))).unwrap();
        for i in 1..=41 {
            let to = format!("l{}", i - 1);
            fs.mknod(ROOT, format!("l{i}").as_bytes(), S_IFLNK | 0o777, Node::Symlink(to.into_bytes())).unwrap();
        }
        let l0 = at(&fs, "l0");
        assert_eq!(r(&fs, ROOT, "l40", true), Ok(l0), "40 links are followed");
        assert_eq!(r(&fs, ROOT, "l41", true), Err(Errno::ELOOP), "the 41st is too many");
    }

    #[test]
    fn parents() {
        let fs = tree();
        let a = at(&fs, "a");
        let p = parent(&fs, ROOT, b"a/new", &mut Links::new()).unwrap();
        assert_eq!(p, Parent { dir: a, last: Last::Name(b"new"), slash: false });
        let p = parent(&fs, ROOT, b"a/abs/new/", &mut Links::new()).unwrap();
        assert_eq!(p, Parent { dir: at(&fs, "a/b"), last: Last::Name(b"new"), slash: true });
        assert_eq!(parent(&fs, ROOT, b"/", &mut Links::new()).unwrap().last, Last::Root);
        assert_eq!(parent(&fs, a, b"..", &mut Links::new()).unwrap().last, Last::DotDot);
        assert_eq!(parent(&fs, a, b"b/.", &mut Links::new()).unwrap().last, Last::Dot);
        assert_eq!(parent(&fs, ROOT, b"a/b/f/new", &mut Links::new()), Err(Errno::ENOTDIR));
    }

    #[test]
    fn create_lookups() {
        let fs = tree();
        let (a, f) = (at(&fs, "a"), at(&fs, "a/b/f"));
        let lc = |path: &str, follow| lookup_create(&fs, ROOT, path.as_bytes(), follow, &mut Links::new());
        assert_eq!(lc("f", true), Ok(Found::Exists(f)));
        assert_eq!(lc("f", false), Ok(Found::Exists(at(&fs, "f"))));
        assert_eq!(lc("a/new", true), Ok(Found::Missing { dir: a, name: b"new".to_vec() }));
        assert_eq!(lc("a/dangling", true), Ok(Found::Missing { dir: a, name: b"nope".to_vec() }));
        assert_eq!(lc("a/new/", true), Err(Errno::EISDIR));
        assert_eq!(lc("a/b/f/", true), Err(Errno::EISDIR));
        assert_eq!(lc("a/.", true), Err(Errno::EISDIR));
        assert_eq!(lc("/", true), Err(Errno::EISDIR));
        assert_eq!(lc("a/self", true), Err(Errno::ELOOP));
        assert_eq!(lc("nope/x", true), Err(Errno::ENOENT));
    }
}
