//! The Linux ABI as a file-using program sees it: flag values, file modes,
//! and the byte layouts of the structures the file syscalls fill in
//! (`struct stat`, `struct linux_dirent64`, `struct termios`, …). Values are
//! those of the x86_64 uapi headers and man pages; every layout has a test.

use alloc::vec::Vec;

/// Flags of open(2) and fcntl(F_GETFL), x86_64 values.
pub mod o {
    pub const RDONLY: u32 = 0;
    pub const WRONLY: u32 = 0o1;
    pub const RDWR: u32 = 0o2;
    pub const ACCMODE: u32 = 0o3;
    pub const CREAT: u32 = 0o100;
    pub const EXCL: u32 = 0o200;
    pub const NOCTTY: u32 = 0o400;
    pub const TRUNC: u32 = 0o1000;
    pub const APPEND: u32 = 0o2000;
    pub const NONBLOCK: u32 = 0o4000;
    pub const DSYNC: u32 = 0o10000;
    pub const ASYNC: u32 = 0o20000;
    pub const DIRECT: u32 = 0o40000;
    pub const LARGEFILE: u32 = 0o100000;
    pub const DIRECTORY: u32 = 0o200000;
    pub const NOFOLLOW: u32 = 0o400000;
    pub const NOATIME: u32 = 0o1000000;
    pub const CLOEXEC: u32 = 0o2000000;
    pub const SYNC_BIT: u32 = 0o4000000;
    pub const PATH: u32 = 0o10000000;
    pub const TMPFILE_BIT: u32 = 0o20000000;

    /// The bits open(2) knows; the rest are dropped silently, as Linux does.
    pub const VALID: u32 = ACCMODE
        | CREAT
        | EXCL
        | NOCTTY
        | TRUNC
        | APPEND
        | NONBLOCK
        | DSYNC
        | ASYNC
        | DIRECT
        | LARGEFILE
        | DIRECTORY
        | NOFOLLOW
        | NOATIME
        | CLOEXEC
        | SYNC_BIT
        | PATH
        | TMPFILE_BIT;
    /// Flags that only matter while opening; an open file description
    /// does not keep them (F_GETFL never shows them).
    pub const OPEN_ONLY: u32 = CREAT | EXCL | NOCTTY | TRUNC | CLOEXEC;
    /// What F_SETFL may change.
    pub const SETFL: u32 = APPEND | NONBLOCK | ASYNC | DIRECT | NOATIME;
    /// What an O_PATH open keeps: everything else is ignored.
    pub const PATH_KEEPS: u32 = PATH | DIRECTORY | NOFOLLOW | CLOEXEC;
}

/// `dirfd` meaning "the working directory".
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_REMOVEDIR: u32 = 0x200;
pub const AT_EACCESS: u32 = 0x200;
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
pub const AT_EMPTY_PATH: u32 = 0x1000;
/// statx(2)'s sync-type bits: FORCE_SYNC (0x2000) and DONT_SYNC (0x4000);
/// both at once is EINVAL.
pub const AT_STATX_SYNC_TYPE: u32 = 0x6000;

/// renameat2(2) flags.
pub const RENAME_NOREPLACE: u32 = 1;
pub const RENAME_EXCHANGE: u32 = 2;
pub const RENAME_WHITEOUT: u32 = 4;

/// File type and permission bits of `st_mode`.
pub mod mode {
    pub const S_IFMT: u32 = 0o170000;
    pub const S_IFSOCK: u32 = 0o140000;
    pub const S_IFLNK: u32 = 0o120000;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFBLK: u32 = 0o060000;
    pub const S_IFDIR: u32 = 0o040000;
    pub const S_IFCHR: u32 = 0o020000;
    pub const S_IFIFO: u32 = 0o010000;
    pub const S_ISUID: u32 = 0o4000;
    pub const S_ISGID: u32 = 0o2000;
    pub const S_ISVTX: u32 = 0o1000;
    pub const S_IXGRP: u32 = 0o010;
    /// Every permission bit, setuid, setgid and sticky included.
    pub const PERMS: u32 = 0o7777;
    /// Any execute bit.
    pub const EXEC_ANY: u32 = 0o111;
}

/// access(2) modes.
pub const F_OK: u32 = 0;
pub const X_OK: u32 = 1;
pub const W_OK: u32 = 2;
pub const R_OK: u32 = 4;

/// lseek(2) whence.
pub const SEEK_SET: u32 = 0;
pub const SEEK_CUR: u32 = 1;
pub const SEEK_END: u32 = 2;
pub const SEEK_DATA: u32 = 3;
pub const SEEK_HOLE: u32 = 4;

/// fcntl(2) commands.
pub const F_DUPFD: u32 = 0;
pub const F_GETFD: u32 = 1;
pub const F_SETFD: u32 = 2;
pub const F_GETFL: u32 = 3;
pub const F_SETFL: u32 = 4;
pub const F_GETLK: u32 = 5;
pub const F_SETLK: u32 = 6;
pub const F_SETLKW: u32 = 7;
pub const F_DUPFD_CLOEXEC: u32 = 1030;
pub const F_SETPIPE_SZ: u32 = 1031;
pub const F_GETPIPE_SZ: u32 = 1032;
pub const FD_CLOEXEC: u64 = 1;
/// `l_type` of struct flock meaning "no lock".
pub const F_UNLCK: u16 = 2;

/// ioctl(2) requests the file server knows.
pub mod ioctl {
    pub const TCGETS: u32 = 0x5401;
    pub const TCSETS: u32 = 0x5402;
    pub const TCSETSW: u32 = 0x5403;
    pub const TCSETSF: u32 = 0x5404;
    pub const TIOCGWINSZ: u32 = 0x5413;
    pub const TIOCSWINSZ: u32 = 0x5414;
    pub const FIONREAD: u32 = 0x541b;
    pub const FIONBIO: u32 = 0x5421;
    pub const FIONCLEX: u32 = 0x5450;
    pub const FIOCLEX: u32 = 0x5451;
}

/// RLIMIT_NOFILE's soft limit until the process server says otherwise
/// (lstar_abi::fs::NOFILE): the highest descriptor plus one.
pub const NOFILE: u32 = 1024;
/// The most RLIMIT_NOFILE may be raised to (fs.nr_open's default).
pub const NR_OPEN: u32 = 1 << 20;
/// The most a single read or write moves (Linux's MAX_RW_COUNT).
pub const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// readv/writev's limit on iovec entries (UIO_MAXIOV).
pub const IOV_MAX: u64 = 1024;
/// Longest path, NUL included.
pub const PATH_MAX: usize = 4096;
/// Longest path component.
pub const NAME_MAX: usize = 255;
/// Symbolic links one lookup may follow.
pub const MAXSYMLINKS: u32 = 40;
/// The largest file offset (MAX_LFS_FILESIZE).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// A device number as `st_rdev` carries it (new_encode_dev).
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// A time as `struct timespec` holds it: seconds since the epoch (may be
/// negative, as utimensat(2) may set) and nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: u32,
}

impl Timespec {
    /// A clock reading in ns since the epoch.
    pub fn from_ns(ns: u64) -> Timespec {
        // u64 ns run out in 2554, long before i64 seconds do.
        Timespec { sec: (ns / 1_000_000_000) as i64, nsec: (ns % 1_000_000_000) as u32 }
    }
}

/// A `dev_t` as Linux encodes it, split into major and minor.
pub fn split_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xffff_f000);
    let minor = (dev & 0xff) | ((dev >> 12) & 0xffff_ff00);
    (major as u32, minor as u32)
}

/// x86_64 `struct stat` as stat(2) fills it: 144 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

/// statx(2): the fields Lstar fills (STATX_BASIC_STATS), and the bit no
/// caller may ask for.
pub const STATX_BASIC_STATS: u32 = 0x7ff;
pub const STATX_RESERVED: u32 = 0x8000_0000;

impl Stat {
    pub const SIZE: usize = 144;
    pub const STATX_SIZE: usize = 256;

    /// `struct statx` with the basic fields (Linux's layout: 256 bytes, the
    /// times as {i64 sec, u32 nsec, i32 pad}, device numbers split into
    /// major and minor).
    pub fn to_statx_bytes(&self) -> [u8; Self::STATX_SIZE] {
        let mut b = [0u8; Self::STATX_SIZE];
        b[0..4].copy_from_slice(&STATX_BASIC_STATS.to_le_bytes());
        b[4..8].copy_from_slice(&(self.blksize as u32).to_le_bytes());
        // 8..16: stx_attributes, none.
        b[16..20].copy_from_slice(&(self.nlink as u32).to_le_bytes());
        b[20..24].copy_from_slice(&self.uid.to_le_bytes());
        b[24..28].copy_from_slice(&self.gid.to_le_bytes());
        b[28..30].copy_from_slice(&(self.mode as u16).to_le_bytes());
        b[32..40].copy_from_slice(&self.ino.to_le_bytes());
        b[40..48].copy_from_slice(&self.size.to_le_bytes());
        b[48..56].copy_from_slice(&self.blocks.to_le_bytes());
        // 56..64: stx_attributes_mask, none supported; 80..96: btime, not
        // kept (its mask bit is not set).
        for (at, t) in [(64, self.atime), (96, self.ctime), (112, self.mtime)] {
            b[at..at + 8].copy_from_slice(&t.sec.to_le_bytes());
            b[at + 8..at + 12].copy_from_slice(&t.nsec.to_le_bytes());
        }
        for (at, dev) in [(128, self.rdev), (136, self.dev)] {
            let (major, minor) = split_dev(dev);
            b[at..at + 4].copy_from_slice(&major.to_le_bytes());
            b[at + 4..at + 8].copy_from_slice(&minor.to_le_bytes());
        }
        b
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16..24].copy_from_slice(&self.nlink.to_le_bytes());
        b[24..28].copy_from_slice(&self.mode.to_le_bytes());
        b[28..32].copy_from_slice(&self.uid.to_le_bytes());
        b[32..36].copy_from_slice(&self.gid.to_le_bytes());
        // 36..40: __pad0.
        b[40..48].copy_from_slice(&self.rdev.to_le_bytes());
        b[48..56].copy_from_slice(&self.size.to_le_bytes());
        b[56..64].copy_from_slice(&self.blksize.to_le_bytes());
        b[64..72].copy_from_slice(&self.blocks.to_le_bytes());
        for (i, t) in [self.atime, self.mtime, self.ctime].iter().enumerate() {
            let at = 72 + 16 * i;
            b[at..at + 8].copy_from_slice(&t.sec.to_le_bytes());
            b[at + 8..at + 16].copy_from_slice(&i64::from(t.nsec).to_le_bytes());
        }
        // 120..144: __unused[3].
        b
    }
}

/// `d_type` values of a directory entry.
pub mod dt {
    pub const UNKNOWN: u8 = 0;
    pub const FIFO: u8 = 1;
    pub const CHR: u8 = 2;
    pub const DIR: u8 = 4;
    pub const BLK: u8 = 6;
    pub const REG: u8 = 8;
    pub const LNK: u8 = 10;
    pub const SOCK: u8 = 12;

    /// The `d_type` of a file with mode `mode`.
    pub fn of_mode(mode: u32) -> u8 {
        use super::mode::*;
        match mode & S_IFMT {
            S_IFIFO => FIFO,
            S_IFCHR => CHR,
            S_IFDIR => DIR,
            S_IFBLK => BLK,
            S_IFREG => REG,
            S_IFLNK => LNK,
            S_IFSOCK => SOCK,
            _ => UNKNOWN,
        }
    }
}

/// One directory entry, for getdents64(2) or getdents(2).
#[derive(Clone, Copy, Debug)]
pub struct Dirent<'a> {
    pub ino: u64,
    /// The position of the entry after this one (what lseek takes).
    pub next: u64,
    pub kind: u8,
    pub name: &'a [u8],
}

impl Dirent<'_> {
    /// `struct linux_dirent64`: d_ino u64, d_off i64, d_reclen u16,
    /// d_type u8, d_name NUL-terminated, padded to 8 bytes.
    pub fn size64(&self) -> usize {
        (19 + self.name.len() + 1).next_multiple_of(8)
    }

    pub fn push64(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let reclen = self.size64();
        out.extend_from_slice(&self.ino.to_le_bytes());
        out.extend_from_slice(&self.next.to_le_bytes());
        out.extend_from_slice(&(reclen as u16).to_le_bytes());
        out.push(self.kind);
        out.extend_from_slice(self.name);
        out.resize(start + reclen, 0);
    }

    /// The old `struct linux_dirent`: d_ino, d_off (unsigned long each),
    /// d_reclen u16, d_name NUL-terminated, padding, then d_type in the
    /// record's last byte.
    pub fn size_old(&self) -> usize {
        (18 + self.name.len() + 2).next_multiple_of(8)
    }

    pub fn push_old(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let reclen = self.size_old();
        out.extend_from_slice(&self.ino.to_le_bytes());
        out.extend_from_slice(&self.next.to_le_bytes());
        out.extend_from_slice(&(reclen as u16).to_le_bytes());
        out.extend_from_slice(self.name);
        out.resize(start + reclen, 0);
        out[start + reclen - 1] = self.kind;
    }
}

/// The kernel's `struct termios` (TCGETS/TCSETS), 36 bytes: c_iflag,
/// c_oflag, c_cflag, c_lflag (u32 each), c_line, c_cc[19]. (C libraries'
/// own struct termios is larger; the kernel fills only this prefix.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios(pub [u8; Termios::SIZE]);

impl Termios {
    pub const SIZE: usize = 36;

    /// A freshly opened terminal as termios(3) documents the defaults:
    /// ICRNL IXON; OPOST ONLCR; B38400 CS8 CREAD HUPCL; ISIG ICANON ECHO
    /// ECHOE ECHOK ECHOCTL ECHOKE IEXTEN; ^C ^\ DEL ^U ^D, VMIN 1, ^Q ^S
    /// ^Z ^R ^O ^W ^V.
    pub fn console() -> Termios {
        const ICRNL: u32 = 0o400;
        const IXON: u32 = 0o2000;
        const OPOST: u32 = 0o1;
        const ONLCR: u32 = 0o4;
        const B38400: u32 = 0o17;
        const CS8: u32 = 0o60;
        const CREAD: u32 = 0o200;
        const HUPCL: u32 = 0o2000;
        const ISIG: u32 = 0o1;
        const ICANON: u32 = 0o2;
        const ECHO: u32 = 0o10;
        const ECHOE: u32 = 0o20;
        const ECHOK: u32 = 0o40;
        const ECHOCTL: u32 = 0o1000;
        const ECHOKE: u32 = 0o4000;
        const IEXTEN: u32 = 0o100000;
        // VINTR VQUIT VERASE VKILL VEOF VTIME VMIN VSWTC VSTART VSTOP VSUSP
        // VEOL VREPRINT VDISCARD VWERASE VLNEXT VEOL2, then two unused.
        const CC: [u8; 19] = [3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0];
        let flags = [
            ICRNL | IXON,
            OPOST | ONLCR,
            B38400 | CS8 | CREAD | HUPCL,
            ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
        ];
        let mut b = [0u8; Self::SIZE];
        for (i, f) in flags.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&f.to_le_bytes());
        }
        // b[16] is c_line: N_TTY, 0.
        b[17..].copy_from_slice(&CC);
        Termios(b)
    }

    pub fn flag(&self, i: usize) -> u32 {
        u32::from_le_bytes(self.0[4 * i..4 * i + 4].try_into().expect("4 bytes"))
    }
}

/// `struct winsize` (TIOCGWINSZ): ws_row, ws_col, ws_xpixel, ws_ypixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Winsize(pub [u16; 4]);

impl Winsize {
    pub const SIZE: usize = 8;

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        for (i, v) in self.0.iter().enumerate() {
            b[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Winsize {
        let w = |i: usize| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
        Winsize([w(0), w(1), w(2), w(3)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statx_layout_matches_linux() {
        let s = Stat {
            dev: makedev(0, 0x1d),
            ino: 0x0304,
            nlink: 5,
            mode: mode::S_IFCHR | 0o666,
            uid: 7,
            gid: 8,
            rdev: makedev(0x123, 0x45678),
            size: 12345,
            blksize: 4096,
            blocks: 32,
            atime: Timespec { sec: 1, nsec: 2 },
            mtime: Timespec { sec: -3, nsec: 4 },
            ctime: Timespec { sec: 5, nsec: 999_999_999 },
        };
        let b = s.to_statx_bytes();
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        assert_eq!(b.len(), 256);
        assert_eq!(u32_at(0), STATX_BASIC_STATS);
        assert_eq!(u32_at(4), 4096);
        assert_eq!((u32_at(16), u32_at(20), u32_at(24)), (5, 7, 8));
        assert_eq!(u16::from_le_bytes([b[28], b[29]]), 0o020666);
        assert_eq!((u64_at(32), u64_at(40), u64_at(48)), (0x0304, 12345, 32));
        assert_eq!((u64_at(64), u32_at(72)), (1, 2), "atime");
        assert_eq!(u64_at(80), 0, "no btime");
        assert_eq!((u64_at(96), u32_at(104)), (5, 999_999_999), "ctime");
        assert_eq!((u64_at(112), u32_at(120)), (-3i64 as u64, 4), "mtime");
        assert_eq!((u32_at(128), u32_at(132)), (0x123, 0x45678), "rdev split back");
        assert_eq!((u32_at(136), u32_at(140)), (0, 0x1d), "dev split back");
    }

    #[test]
    fn stat_layout_matches_x86_64() {
        let s = Stat {
            dev: 0x0102,
            ino: 0x0304,
            nlink: 5,
            mode: mode::S_IFREG | 0o644,
            uid: 7,
            gid: 8,
            rdev: makedev(1, 3),
            size: 12345,
            blksize: 4096,
            blocks: 32,
            atime: Timespec { sec: 1, nsec: 2 },
            mtime: Timespec { sec: -3, nsec: 4 },
            ctime: Timespec { sec: 5, nsec: 999_999_999 },
        };
        let b = s.to_bytes();
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        assert_eq!(b.len(), 144);
        assert_eq!(u64_at(0), 0x0102);
        assert_eq!(u64_at(8), 0x0304);
        assert_eq!(u64_at(16), 5);
        assert_eq!(u32_at(24), 0o100644);
        assert_eq!(u32_at(28), 7);
        assert_eq!(u32_at(32), 8);
        assert_eq!(u32_at(36), 0);
        assert_eq!(u64_at(40), 0x103);
        assert_eq!(u64_at(48), 12345);
        assert_eq!(u64_at(56), 4096);
        let times: Vec<u64> = (0..6).map(|i| u64_at(72 + 8 * i)).collect();
        assert_eq!(times, [1, 2, -3i64 as u64, 4, 5, 999_999_999]);
        assert_eq!(u64_at(64), 32);
        assert!(b[120..].iter().all(|&x| x == 0), "the reserved words are 0");
    }

    #[test]
    fn device_numbers() {
        assert_eq!(makedev(1, 3), 0x103);
        assert_eq!(makedev(5, 1), 0x501);
        assert_eq!(makedev(8, 0x123), 0x10_0823);
    }

    #[test]
    fn dirent64_layout() {
        let mut out = Vec::new();
        let e = Dirent { ino: 9, next: 3, kind: dt::REG, name: b"hello" };
        e.push64(&mut out);
        // 19 + 5 + 1 = 25, rounded up to 32.
        assert_eq!(out.len(), 32);
        assert_eq!(e.size64(), 32);
        assert_eq!(u64::from_le_bytes(out[0..8].try_into().unwrap()), 9);
        assert_eq!(u64::from_le_bytes(out[8..16].try_into().unwrap()), 3);
        assert_eq!(u16::from_le_bytes([out[16], out[17]]), 32);
        assert_eq!(out[18], dt::REG);
        assert_eq!(&out[19..25], b"hello\0");
        // A 4-byte name and its NUL fill 24 bytes exactly; one more byte needs 32.
        assert_eq!(Dirent { ino: 1, next: 1, kind: 0, name: b"abcd" }.size64(), 24);
        assert_eq!(Dirent { ino: 1, next: 1, kind: 0, name: b"abcde" }.size64(), 32);
    }

    #[test]
    fn old_dirent_layout() {
        let mut out = Vec::new();
        let e = Dirent { ino: 9, next: 3, kind: dt::DIR, name: b"ab" };
        e.push_old(&mut out);
        // 18 + 2 + NUL + d_type = 22, rounded up to 24.
        assert_eq!(out.len(), 24);
        assert_eq!(u16::from_le_bytes([out[16], out[17]]), 24);
        assert_eq!(&out[18..21], b"ab\0");
        assert_eq!(out[23], dt::DIR);
    }

    #[test]
    fn termios_defaults() {
        let t = Termios::console();
        assert_eq!(t.flag(0), 0o2400);
        assert_eq!(t.flag(1), 0o5);
        assert_eq!(t.flag(2), 0o2277);
        assert_eq!(t.flag(3), 0o105073);
        assert_eq!(t.0[16], 0, "c_line N_TTY");
        assert_eq!(t.0[17], 3, "VINTR ^C");
        assert_eq!(t.0[17 + 6], 1, "VMIN");
    }

    #[test]
    fn winsize_round_trip() {
        let w = Winsize([24, 80, 0, 0]);
        assert_eq!(w.to_bytes(), [24, 0, 80, 0, 0, 0, 0, 0]);
        assert_eq!(Winsize::from_bytes(&w.to_bytes()), w);
    }
}
