//! The terminal settings as the kernel ABI carries them (`struct termios`,
//! `struct termios2`, `struct winsize`), with the flag and control-character
//! names of termios(3). Values are Linux's x86_64 ones
//! (asm-generic/termbits.h).

/// c_iflag bits.
pub mod iflag {
    pub const IGNBRK: u32 = 0x001;
    pub const BRKINT: u32 = 0x002;
    pub const ISTRIP: u32 = 0x020;
    pub const INLCR: u32 = 0x040;
    pub const IGNCR: u32 = 0x080;
    pub const ICRNL: u32 = 0x100;
    pub const IUCLC: u32 = 0x200;
    pub const IXON: u32 = 0x400;
    pub const IXANY: u32 = 0x800;
    pub const IXOFF: u32 = 0x1000;
    pub const IMAXBEL: u32 = 0x2000;
    pub const IUTF8: u32 = 0x4000;
}

/// c_oflag bits.
pub mod oflag {
    pub const OPOST: u32 = 0x01;
    pub const OLCUC: u32 = 0x02;
    pub const ONLCR: u32 = 0x04;
    pub const OCRNL: u32 = 0x08;
    pub const ONOCR: u32 = 0x10;
    pub const ONLRET: u32 = 0x20;
    pub const TABDLY: u32 = 0x1800;
    /// TAB3: expand tabs to spaces.
    pub const XTABS: u32 = 0x1800;
}

/// c_cflag bits.
pub mod cflag {
    pub const B38400: u32 = 0x0f;
    pub const CS8: u32 = 0x30;
    pub const CREAD: u32 = 0x80;
    pub const HUPCL: u32 = 0x400;
}

/// c_lflag bits.
pub mod lflag {
    pub const ISIG: u32 = 0x00001;
    pub const ICANON: u32 = 0x00002;
    pub const ECHO: u32 = 0x00008;
    pub const ECHOE: u32 = 0x00010;
    pub const ECHOK: u32 = 0x00020;
    pub const ECHONL: u32 = 0x00040;
    pub const NOFLSH: u32 = 0x00080;
    pub const TOSTOP: u32 = 0x00100;
    pub const ECHOCTL: u32 = 0x00200;
    pub const ECHOPRT: u32 = 0x00400;
    pub const ECHOKE: u32 = 0x00800;
    pub const IEXTEN: u32 = 0x08000;
}

/// Indexes into c_cc.
pub mod cc {
    pub const VINTR: usize = 0;
    pub const VQUIT: usize = 1;
    pub const VERASE: usize = 2;
    pub const VKILL: usize = 3;
    pub const VEOF: usize = 4;
    pub const VTIME: usize = 5;
    pub const VMIN: usize = 6;
    pub const VSTART: usize = 8;
    pub const VSTOP: usize = 9;
    pub const VSUSP: usize = 10;
    pub const VEOL: usize = 11;
    pub const VREPRINT: usize = 12;
    pub const VDISCARD: usize = 13;
    pub const VWERASE: usize = 14;
    pub const VLNEXT: usize = 15;
    pub const VEOL2: usize = 16;
    /// Entries in c_cc (NCCS).
    pub const NCCS: usize = 19;
    /// A c_cc entry with this value matches no input (_POSIX_VDISABLE).
    pub const DISABLED: u8 = 0;
}

/// The kernel's `struct termios`: what TCGETS and TCSETS copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    /// The line discipline number; N_TTY (0) is the only one.
    pub line: u8,
    pub cc: [u8; cc::NCCS],
}

impl Termios {
    /// Bytes of `struct termios`.
    pub const SIZE: usize = 36;
    /// Bytes of `struct termios2`: the same, then c_ispeed and c_ospeed.
    pub const SIZE2: usize = 44;
    /// The speed B38400 stands for, reported in termios2's speed fields.
    pub const SPEED: u32 = 38400;

    /// A freshly opened Linux console, as termios(3) and tty_ioctl(4)
    /// describe it: ICRNL IXON; OPOST ONLCR; B38400 CS8 CREAD HUPCL; ISIG
    /// ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN; ^C ^\ DEL ^U ^D,
    /// VTIME 0, VMIN 1, ^Q ^S ^Z, ^R ^O ^W ^V.
    pub const fn console() -> Termios {
        use cc::*;
        let mut c = [0u8; NCCS];
        c[VINTR] = 0x03;
        c[VQUIT] = 0x1c;
        c[VERASE] = 0x7f;
        c[VKILL] = 0x15;
        c[VEOF] = 0x04;
        c[VTIME] = 0;
        c[VMIN] = 1;
        c[VSTART] = 0x11;
        c[VSTOP] = 0x13;
        c[VSUSP] = 0x1a;
        c[VREPRINT] = 0x12;
        c[VDISCARD] = 0x0f;
        c[VWERASE] = 0x17;
        c[VLNEXT] = 0x16;
        Termios {
            iflag: iflag::ICRNL | iflag::IXON,
            oflag: oflag::OPOST | oflag::ONLCR,
            cflag: cflag::B38400 | cflag::CS8 | cflag::CREAD | cflag::HUPCL,
            lflag: lflag::ISIG
                | lflag::ICANON
                | lflag::ECHO
                | lflag::ECHOE
                | lflag::ECHOK
                | lflag::ECHOCTL
                | lflag::ECHOKE
                | lflag::IEXTEN,
            line: 0,
            cc: c,
        }
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        for (i, f) in [self.iflag, self.oflag, self.cflag, self.lflag].iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&f.to_le_bytes());
        }
        b[16] = self.line;
        b[17..].copy_from_slice(&self.cc);
        b
    }

    /// Reads the first [`Termios::SIZE`] bytes of `b` (a termios or a
    /// termios2).
    pub fn from_bytes(b: &[u8]) -> Termios {
        let word = |i: usize| u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
        let mut cc = [0u8; cc::NCCS];
        cc.copy_from_slice(&b[17..Self::SIZE]);
        Termios { iflag: word(0), oflag: word(1), cflag: word(2), lflag: word(3), line: b[16], cc }
    }

    /// The `struct termios2` form (TCGETS2): both speeds are the fixed
    /// line speed.
    pub fn to_bytes2(&self) -> [u8; Self::SIZE2] {
        let mut b = [0u8; Self::SIZE2];
        b[..Self::SIZE].copy_from_slice(&self.to_bytes());
        b[36..40].copy_from_slice(&Self::SPEED.to_le_bytes());
        b[40..44].copy_from_slice(&Self::SPEED.to_le_bytes());
        b
    }

    pub fn i(&self, bit: u32) -> bool {
        self.iflag & bit != 0
    }

    pub fn o(&self, bit: u32) -> bool {
        self.oflag & bit != 0
    }

    pub fn l(&self, bit: u32) -> bool {
        self.lflag & bit != 0
    }

    /// Whether input byte `c` is the enabled control character `index`.
    pub fn is(&self, index: usize, c: u8) -> bool {
        self.cc[index] != cc::DISABLED && self.cc[index] == c
    }
}

/// `struct winsize` (TIOCGWINSZ): ws_row, ws_col, ws_xpixel, ws_ypixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Winsize(pub [u16; 4]);

impl Winsize {
    pub const SIZE: usize = 8;
    /// What the console reports until someone sets it: 24 rows, 80 columns.
    pub const DEFAULT: Winsize = Winsize([24, 80, 0, 0]);

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        for (i, v) in self.0.iter().enumerate() {
            b[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Winsize {
        let half = |i: usize| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
        Winsize([half(0), half(1), half(2), half(3)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_defaults_match_linux() {
        let t = Termios::console();
        let b = t.to_bytes();
        // c_iflag 0o2400, c_oflag 0o5, c_cflag 0o2277, c_lflag 0o105073: the
        // octal values `stty -g` prints on a fresh Linux console.
        assert_eq!(&b[..16], &[0x00, 0x05, 0, 0, 0x05, 0, 0, 0, 0xbf, 0x04, 0, 0, 0x3b, 0x8a, 0, 0]);
        assert_eq!(b[16], 0);
        assert_eq!(&b[17..], &[3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0]);
        assert_eq!(Termios::from_bytes(&b), t);
        let b2 = t.to_bytes2();
        assert_eq!(Termios::from_bytes(&b2), t);
        assert_eq!(u32::from_le_bytes(b2[40..].try_into().unwrap()), 38400);
    }

    #[test]
    fn disabled_characters_match_nothing() {
        let mut t = Termios::console();
        assert!(t.is(cc::VINTR, 3));
        t.cc[cc::VINTR] = cc::DISABLED;
        assert!(!t.is(cc::VINTR, 0));
        assert!(!t.is(cc::VEOL, 0), "VEOL is unset by default");
    }

    #[test]
    fn winsize_round_trips() {
        let w = Winsize([50, 132, 1, 2]);
        assert_eq!(Winsize::from_bytes(&w.to_bytes()), w);
    }
}
