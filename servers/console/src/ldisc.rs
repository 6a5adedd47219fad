//! The line discipline (Linux's N_TTY, as termios(3) documents it): what
//! happens to each byte that arrives from the line (input mapping, the
//! signal characters, canonical line editing, echo) and to each byte a
//! program writes (output processing, OPOST).
//!
//! Input becomes readable in one of two ways. In canonical mode (ICANON)
//! bytes collect in the line being edited until a line terminator (NL,
//! VEOL, VEOL2, or VEOF, which is not stored) hands the line to readers; a
//! read then returns at most one line. Otherwise every byte is readable at
//! once and the VMIN/VTIME rules (in [`crate::tty`]) decide when a read
//! returns.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::termios::{cc::*, iflag::*, lflag::*, oflag::*, Termios};

/// Signals a terminal sends (Linux x86_64 numbers).
pub const SIGINT: u8 = 2;
pub const SIGQUIT: u8 = 3;
pub const SIGWINCH: u8 = 28;
pub const SIGTSTP: u8 = 20;

/// Linux's input buffer: 4096 bytes, of which a canonical line may use all
/// but one (kept for its terminator).
pub const BUF_SIZE: usize = 4096;

/// Which editing character is at work.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Erase {
    /// VERASE: one character.
    Char,
    /// VWERASE: the word before the cursor, and the blanks after it.
    Word,
    /// VKILL: the whole line.
    Line,
}

/// One terminal's input queue, settings and output column.
#[derive(Debug)]
pub struct Ldisc {
    termios: Termios,
    /// Canonical mode: the line being edited, not yet readable.
    line: Vec<u8>,
    /// Bytes a read may take.
    ready: VecDeque<u8>,
    /// Canonical mode: the lengths of the lines in `ready`, oldest first.
    /// A zero is an end of file (VEOF at the start of a line).
    lines: VecDeque<usize>,
    /// The output column, for tab expansion and for erasing tabs.
    column: usize,
    /// The column the line being edited started at.
    canon_column: usize,
    /// VLNEXT came: the next byte is taken literally.
    lnext: bool,
    /// ECHOPRT: inside a `\…/` run of erased characters.
    erasing: bool,
    /// Output suspended by VSTOP (IXON). Kept and cleared as Linux does;
    /// writes are not held back yet.
    pub stopped: bool,
}

impl Default for Ldisc {
    fn default() -> Self {
        Ldisc::new(Termios::console())
    }
}

fn is_ctrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

impl Ldisc {
    pub fn new(termios: Termios) -> Ldisc {
        Ldisc {
            termios,
            line: Vec::new(),
            ready: VecDeque::new(),
            lines: VecDeque::new(),
            column: 0,
            canon_column: 0,
            lnext: false,
            erasing: false,
            stopped: false,
        }
    }

    pub fn termios(&self) -> &Termios {
        &self.termios
    }

    /// New settings (TCSETS). Switching canonical mode off makes the line
    /// being edited readable; switching it on makes whatever is readable
    /// one line, so that no typed byte is lost either way.
    pub fn set_termios(&mut self, new: Termios) {
        let was = self.termios.l(ICANON);
        self.termios = new;
        match (was, new.l(ICANON)) {
            (true, false) => {
                self.ready.extend(self.line.drain(..));
                self.lines.clear();
            }
            (false, true) => {
                self.lines.clear();
                if !self.ready.is_empty() {
                    self.lines.push_back(self.ready.len());
                }
            }
            _ => {}
        }
        if !new.l(ICANON) || !new.l(IEXTEN) {
            self.lnext = false;
        }
        self.erasing = false;
    }

    /// Discards all input, readable or being edited (TCIFLUSH, and the
    /// signal characters unless NOFLSH).
    pub fn flush_input(&mut self) {
        self.line.clear();
        self.ready.clear();
        self.lines.clear();
        self.lnext = false;
        self.erasing = false;
    }

    /// Bytes a read could take now (FIONREAD): in canonical mode, those of
    /// complete lines.
    pub fn available(&self) -> usize {
        if self.termios.l(ICANON) {
            self.lines.iter().sum()
        } else {
            self.ready.len()
        }
    }

    /// Whether poll(2) reports POLLIN: a complete line (or end of file) in
    /// canonical mode; otherwise VMIN bytes when VTIME is 0 (a read would
    /// not block), else one.
    pub fn poll_readable(&self) -> bool {
        if self.termios.l(ICANON) {
            return !self.lines.is_empty();
        }
        let (min, time) = (self.termios.cc[VMIN] as usize, self.termios.cc[VTIME]);
        let want = if time == 0 && min > 0 { min } else { 1 };
        self.ready.len() >= want
    }

    /// Canonical mode: up to `max` bytes of the oldest complete line, or
    /// `None` when no line is complete. An empty vector is an end of file.
    /// What does not fit stays for the next read.
    pub fn read_line(&mut self, max: usize) -> Option<Vec<u8>> {
        let len = *self.lines.front()?;
        let n = len.min(max);
        let data = self.ready.drain(..n).collect();
        if n == len {
            self.lines.pop_front();
        } else {
            self.lines[0] -= n;
        }
        Some(data)
    }

    /// Non-canonical mode: up to `max` readable bytes.
    pub fn take(&mut self, max: usize) -> Vec<u8> {
        let n = max.min(self.ready.len());
        self.ready.drain(..n).collect()
    }

    /// Processes one byte from the line. Echo goes to `echo` (already
    /// through output processing); a signal character returns its signal,
    /// for the foreground process group.
    pub fn receive(&mut self, byte: u8, echo: &mut Vec<u8>) -> Option<u8> {
        let t = self.termios;
        let mut c = byte;
        if t.i(ISTRIP) {
            c &= 0x7f;
        }
        if t.i(IUCLC) && t.l(IEXTEN) {
            c = c.to_ascii_lowercase();
        }
        if self.lnext {
            self.lnext = false;
            self.put(c, echo);
            return None;
        }
        if t.i(IXON) {
            if t.is(VSTART, c) {
                self.stopped = false;
                return None;
            }
            if t.is(VSTOP, c) {
                self.stopped = true;
                return None;
            }
            if t.i(IXANY) {
                self.stopped = false;
            }
        }
        if t.l(ISIG) {
            let signal = if t.is(VINTR, c) {
                Some(SIGINT)
            } else if t.is(VQUIT, c) {
                Some(SIGQUIT)
            } else if t.is(VSUSP, c) {
                Some(SIGTSTP)
            } else {
                None
            };
            if let Some(signal) = signal {
                if !t.l(NOFLSH) {
                    self.flush_input();
                }
                self.stopped = false;
                if t.l(ECHO) {
                    self.finish_erasing(echo);
                    self.echo_char(c, echo);
                }
                return Some(signal);
            }
        }
        if c == b'\r' {
            if t.i(IGNCR) {
                return None;
            }
            if t.i(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && t.i(INLCR) {
            c = b'\r';
        }
        if t.l(ICANON) && self.canonical(c, echo) {
            return None;
        }
        self.put(c, echo);
        None
    }

    /// The canonical-mode characters; false for an ordinary byte.
    fn canonical(&mut self, c: u8, echo: &mut Vec<u8>) -> bool {
        let t = self.termios;
        let ext = t.l(IEXTEN);
        if t.is(VERASE, c) {
            self.erase(Erase::Char, echo);
        } else if t.is(VKILL, c) {
            self.erase(Erase::Line, echo);
        } else if ext && t.is(VWERASE, c) {
            self.erase(Erase::Word, echo);
        } else if ext && t.is(VLNEXT, c) {
            self.lnext = true;
            if t.l(ECHO) && t.l(ECHOCTL) {
                // A caret under the cursor until the quoted byte replaces it.
                self.finish_erasing(echo);
                self.emit(b'^', echo);
                self.emit(0x08, echo);
            }
        } else if ext && t.l(ECHO) && t.is(VREPRINT, c) {
            self.reprint(echo);
        } else if c == b'\n' {
            if t.l(ECHO) || t.l(ECHONL) {
                self.finish_erasing(echo);
                self.emit(b'\n', echo);
            }
            self.line.push(c);
            self.end_line();
        } else if t.is(VEOF, c) {
            // Ends the line without being stored or echoed.
            self.finish_erasing(echo);
            self.end_line();
        } else if t.is(VEOL, c) || (ext && t.is(VEOL2, c)) {
            if t.l(ECHO) {
                self.finish_erasing(echo);
                self.echo_char(c, echo);
            }
            self.line.push(c);
            self.end_line();
        } else {
            return false;
        }
        true
    }

    /// An ordinary byte: stored and echoed, if there is room.
    fn put(&mut self, c: u8, echo: &mut Vec<u8>) {
        let t = self.termios;
        let canon = t.l(ICANON);
        let full = if canon { self.line.len() >= BUF_SIZE - 1 } else { self.ready.len() >= BUF_SIZE };
        if full {
            if canon && t.i(IMAXBEL) && t.l(ECHO) {
                self.emit(0x07, echo);
            }
            return;
        }
        if t.l(ECHO) {
            self.finish_erasing(echo);
            if canon && self.line.is_empty() {
                self.canon_column = self.column;
            }
            if c == b'\n' {
                self.emit(b'\n', echo);
            } else {
                self.echo_char(c, echo);
            }
        } else if canon && c == b'\n' && t.l(ECHONL) {
            self.emit(b'\n', echo);
        }
        if canon {
            self.line.push(c);
        } else {
            self.ready.push_back(c);
        }
    }

    fn end_line(&mut self) {
        self.lines.push_back(self.line.len());
        self.ready.extend(self.line.drain(..));
    }

    /// VERASE, VWERASE and VKILL.
    fn erase(&mut self, kind: Erase, echo: &mut Vec<u8>) {
        let t = self.termios;
        if self.line.is_empty() {
            return;
        }
        if kind == Erase::Line {
            if !t.l(ECHO) {
                self.line.clear();
                return;
            }
            if !(t.l(ECHOKE) && (t.l(ECHOE) || t.l(ECHOPRT))) {
                // The KILL character itself, then a newline with ECHOK.
                self.line.clear();
                self.finish_erasing(echo);
                self.echo_char(t.cc[VKILL], echo);
                if t.l(ECHOK) {
                    self.emit(b'\n', echo);
                }
                return;
            }
        }
        let mut seen_word = false;
        while !self.line.is_empty() {
            // The last character: with IUTF8, a lead byte and its
            // continuation bytes go together.
            let mut start = self.line.len() - 1;
            if t.i(IUTF8) {
                while start > 0 && self.line[start] & 0xc0 == 0x80 {
                    start -= 1;
                }
            }
            let c = self.line[start];
            if kind == Erase::Word {
                // As Linux (BSD's ALTWERASE): blanks and punctuation after
                // the word go, then the letters, digits and underscores.
                if c.is_ascii_alphanumeric() || c == b'_' {
                    seen_word = true;
                } else if seen_word {
                    break;
                }
            }
            let erased: Vec<u8> = self.line.drain(start..).collect();
            if t.l(ECHO) {
                self.echo_erase(kind, c, &erased, echo);
            }
            if kind == Erase::Char {
                break;
            }
        }
        if self.line.is_empty() {
            self.finish_erasing(echo);
        }
    }

    /// How erasing `erased` (one character, first byte `c`) shows.
    fn echo_erase(&mut self, kind: Erase, c: u8, erased: &[u8], echo: &mut Vec<u8>) {
        let t = self.termios;
        if t.l(ECHOPRT) {
            // Printing erase: the erased characters between \ and /.
            if !self.erasing {
                self.emit(b'\\', echo);
                self.erasing = true;
            }
            for &b in erased {
                self.echo_char(b, echo);
            }
        } else if kind == Erase::Char && !t.l(ECHOE) {
            self.echo_char(t.cc[VERASE], echo);
        } else if c == b'\t' {
            // Back to where the tab started: the column after replaying the
            // rest of the line from where it began.
            let to = self.line_end_column();
            while self.column > to {
                self.emit(0x08, echo);
            }
        } else {
            let width = if !is_ctrl(c) {
                1
            } else if t.l(ECHOCTL) {
                2
            } else {
                0
            };
            for _ in 0..width {
                for b in [0x08, b' ', 0x08] {
                    self.emit(b, echo);
                }
            }
        }
    }

    /// The column after echoing the line being edited from its start.
    fn line_end_column(&self) -> usize {
        let mut col = self.canon_column;
        for &c in &self.line {
            if c == b'\t' {
                col = (col | 7) + 1;
            } else if is_ctrl(c) {
                if self.termios.l(ECHOCTL) {
                    col += 2;
                }
            } else if !self.continuation(c) {
                col += 1;
            }
        }
        col
    }

    /// VREPRINT: the character, a newline, and the line so far.
    fn reprint(&mut self, echo: &mut Vec<u8>) {
        self.finish_erasing(echo);
        self.echo_char(self.termios.cc[VREPRINT], echo);
        self.emit(b'\n', echo);
        self.canon_column = self.column;
        for c in self.line.clone() {
            self.echo_char(c, echo);
        }
    }

    fn finish_erasing(&mut self, echo: &mut Vec<u8>) {
        if self.erasing {
            self.emit(b'/', echo);
            self.erasing = false;
        }
    }

    /// Echoes an input byte; with ECHOCTL, control characters other than
    /// TAB, NL, START and STOP show as `^X` (DEL as `^?`).
    fn echo_char(&mut self, c: u8, echo: &mut Vec<u8>) {
        let t = self.termios;
        let plain = c == b'\t' || c == b'\n' || t.is(VSTART, c) || t.is(VSTOP, c);
        if t.l(ECHOCTL) && is_ctrl(c) && !plain {
            self.emit(b'^', echo);
            self.emit(c ^ 0x40, echo);
        } else {
            self.emit(c, echo);
        }
    }

    /// A UTF-8 continuation byte under IUTF8: takes no column.
    fn continuation(&self, c: u8) -> bool {
        self.termios.i(IUTF8) && c & 0xc0 == 0x80
    }

    /// Output processing of what a program writes.
    pub fn output(&mut self, data: &[u8], out: &mut Vec<u8>) {
        for &c in data {
            self.emit(c, out);
        }
    }

    /// One byte out, through OPOST processing, keeping the column.
    fn emit(&mut self, c: u8, out: &mut Vec<u8>) {
        let t = self.termios;
        if !t.o(OPOST) {
            out.push(c);
            return;
        }
        match c {
            b'\n' => {
                if t.o(ONLRET) {
                    self.column = 0;
                }
                if t.o(ONLCR) {
                    out.extend_from_slice(b"\r\n");
                    self.column = 0;
                } else {
                    out.push(b'\n');
                }
            }
            b'\r' => {
                if t.o(ONOCR) && self.column == 0 {
                    return;
                }
                if t.o(OCRNL) {
                    out.push(b'\n');
                    if t.o(ONLRET) {
                        self.column = 0;
                    }
                } else {
                    out.push(b'\r');
                    self.column = 0;
                }
            }
            b'\t' => {
                let next = (self.column | 7) + 1;
                if t.oflag & TABDLY == XTABS {
                    out.resize(out.len() + (next - self.column), b' ');
                } else {
                    out.push(b'\t');
                }
                self.column = next;
            }
            0x08 => {
                self.column = self.column.saturating_sub(1);
                out.push(c);
            }
            _ => {
                let c = if t.o(OLCUC) { c.to_ascii_uppercase() } else { c };
                if !is_ctrl(c) && !self.continuation(c) {
                    self.column += 1;
                }
                out.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Types `input` into a console-default line discipline (or `termios`),
    /// returning the echo and the signals.
    fn typed(l: &mut Ldisc, input: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut echo = Vec::new();
        let mut signals = Vec::new();
        for &b in input {
            if let Some(s) = l.receive(b, &mut echo) {
                signals.push(s);
            }
        }
        (echo, signals)
    }

    fn lines(l: &mut Ldisc) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(line) = l.read_line(usize::MAX) {
            out.push(line);
        }
        out
    }

    fn raw() -> Termios {
        let mut t = Termios::console();
        t.lflag &= !(ICANON | ECHO);
        t
    }

    #[test]
    fn a_line_with_echo_and_icrnl() {
        let mut l = Ldisc::default();
        let (echo, sig) = typed(&mut l, b"hello\r");
        assert_eq!(echo, b"hello\r\n", "CR becomes NL, echoed as CR NL");
        assert!(sig.is_empty());
        assert_eq!(l.available(), 6);
        assert!(l.poll_readable());
        assert_eq!(lines(&mut l), [b"hello\n".to_vec()]);
        assert!(!l.poll_readable());
    }

    #[test]
    fn a_line_is_not_readable_until_it_ends() {
        let mut l = Ldisc::default();
        typed(&mut l, b"abc");
        assert_eq!(l.read_line(10), None);
        assert_eq!(l.available(), 0);
        typed(&mut l, b"\n");
        assert_eq!(l.read_line(2), Some(b"ab".to_vec()), "a short read leaves the rest of the line");
        assert_eq!(l.read_line(10), Some(b"c\n".to_vec()));
        assert_eq!(l.read_line(10), None);
    }

    #[test]
    fn erase_echoes_backspace_space_backspace() {
        let mut l = Ldisc::default();
        let (echo, _) = typed(&mut l, b"ab\x7fc\n");
        assert_eq!(echo, b"ab\x08 \x08c\r\n");
        assert_eq!(lines(&mut l), [b"ac\n".to_vec()]);
    }

    #[test]
    fn erase_at_the_start_of_a_line_does_nothing() {
        let mut l = Ldisc::default();
        let (echo, _) = typed(&mut l, b"\x7f\x7fx\n");
        assert_eq!(echo, b"x\r\n");
        assert_eq!(lines(&mut l), [b"x\n".to_vec()]);
    }

    #[test]
    fn erasing_a_control_character_takes_two_columns() {
        let mut l = Ldisc::default();
        let (echo, _) = typed(&mut l, b"a\x01\x7f");
        assert_eq!(echo, b"a^A\x08 \x08\x08 \x08");
    }

    #[test]
    fn erasing_a_tab_backs_up_to_its_start() {
        let mut l = Ldisc::default();
        let mut out = Vec::new();
        l.output(b"$ ", &mut out); // a prompt: the line starts at column 2
        let (echo, _) = typed(&mut l, b"ab\t\x7f");
        assert_eq!(echo, b"ab\t\x08\x08\x08\x08");
        let (echo, _) = typed(&mut l, b"\x7f");
        assert_eq!(echo, b"\x08 \x08");
    }

    #[test]
    fn erase_without_echoe_echoes_the_character() {
        let mut t = Termios::console();
        t.lflag &= !ECHOE;
        let mut l = Ldisc::new(t);
        let (echo, _) = typed(&mut l, b"ab\x7f\n");
        assert_eq!(echo, b"ab^?\r\n");
        assert_eq!(lines(&mut l), [b"a\n".to_vec()]);
    }

    #[test]
    fn echoprt_shows_what_is_erased() {
        let mut t = Termios::console();
        t.lflag |= ECHOPRT;
        t.lflag &= !ECHOE;
        let mut l = Ldisc::new(t);
        let (echo, _) = typed(&mut l, b"abc\x7f\x7fd\n");
        assert_eq!(echo, b"abc\\cb/d\r\n");
        assert_eq!(lines(&mut l), [b"ad\n".to_vec()]);
    }

    #[test]
    fn utf8_erase_takes_the_whole_character() {
        let mut t = Termios::console();
        t.iflag |= IUTF8;
        let mut l = Ldisc::new(t);
        let (echo, _) = typed(&mut l, "aé\x7f\n".as_bytes());
        assert_eq!(echo, "aé\x08 \x08\r\n".as_bytes());
        assert_eq!(lines(&mut l), [b"a\n".to_vec()]);
    }

    #[test]
    fn kill_erases_the_line_visually_with_echoke() {
        let mut l = Ldisc::default();
        let (echo, _) = typed(&mut l, b"abc\x15xy\n");
        assert_eq!(echo, b"abc\x08 \x08\x08 \x08\x08 \x08xy\r\n");
        assert_eq!(lines(&mut l), [b"xy\n".to_vec()]);
    }

    #[test]
    fn kill_without_echoke_echoes_it_and_a_newline() {
        let mut t = Termios::console();
        t.lflag &= !ECHOKE;
        let mut l = Ldisc::new(t);
        let (echo, _) = typed(&mut l, b"abc\x15x\n");
        assert_eq!(echo, b"abc^U\r\nx\r\n");
        assert_eq!(lines(&mut l), [b"x\n".to_vec()]);
    }

    #[test]
    fn werase_takes_the_last_word_and_trailing_blanks() {
        let mut l = Ldisc::default();
        typed(&mut l, b"one two  \x17\n");
        assert_eq!(lines(&mut l), [b"one \n".to_vec()]);
        typed(&mut l, b"path/to/file\x17\x17\n");
        assert_eq!(lines(&mut l), [b"path/\n".to_vec()]);
        let mut t = Termios::console();
        t.lflag &= !IEXTEN;
        let mut l = Ldisc::new(t);
        typed(&mut l, b"a\x17\n");
        assert_eq!(lines(&mut l), [b"a\x17\n".to_vec()], "VWERASE needs IEXTEN");
    }

    #[test]
    fn eof_at_line_start_reads_as_zero_bytes() {
        let mut l = Ldisc::default();
        let (echo, _) = typed(&mut l, b"\x04");
        assert!(echo.is_empty(), "VEOF is not echoed");
        assert!(l.poll_readable());
        assert_eq!(l.read_line(10), Some(Vec::new()));
        assert_eq!(l.read_line(10), None);
    }

    #[test]
    fn eof_after_text_pushes_it_without_a_newline() {
        let mut l = Ldisc::default();
        let (echo, _) = typed(&mut l, b"abc\x04\x04");
        assert_eq!(echo, b"abc");
        assert_eq!(lines(&mut l), [b"abc".to_vec(), Vec::new()]);
    }

    #[test]
    fn lnext_quotes_the_next_character() {
        let mut l = Ldisc::default();
        let (echo, sig) = typed(&mut l, b"\x16\x03\x16\x7f\n");
        assert!(sig.is_empty(), "a quoted ^C is data");
        assert_eq!(echo, b"^\x08^C^\x08^?\r\n");
        assert_eq!(lines(&mut l), [b"\x03\x7f\n".to_vec()]);
    }

    #[test]
    fn reprint_shows_the_line_again() {
        let mut l = Ldisc::default();
        let (echo, _) = typed(&mut l, b"ab\x12");
        assert_eq!(echo, b"ab^R\r\nab");
    }

    #[test]
    fn signal_characters_flush_and_echo() {
        let mut l = Ldisc::default();
        let (echo, sig) = typed(&mut l, b"partial\x03");
        assert_eq!(sig, [SIGINT]);
        assert_eq!(echo, b"partial^C");
        typed(&mut l, b"\n");
        assert_eq!(lines(&mut l), [b"\n".to_vec()], "the partial line was flushed");
        let (echo, sig) = typed(&mut l, b"\x1c\x1a");
        assert_eq!(sig, [SIGQUIT, SIGTSTP]);
        assert_eq!(echo, b"^\\^Z");
    }

    #[test]
    fn noflsh_keeps_input_and_isig_off_makes_them_data() {
        let mut t = Termios::console();
        t.lflag |= NOFLSH;
        let mut l = Ldisc::new(t);
        typed(&mut l, b"ab\n");
        let (_, sig) = typed(&mut l, b"\x03");
        assert_eq!(sig, [SIGINT]);
        assert_eq!(lines(&mut l), [b"ab\n".to_vec()]);
        t.lflag &= !ISIG;
        let mut l = Ldisc::new(t);
        let (echo, sig) = typed(&mut l, b"\x03\n");
        assert!(sig.is_empty());
        assert_eq!(echo, b"^C\r\n");
        assert_eq!(lines(&mut l), [b"\x03\n".to_vec()]);
    }

    #[test]
    fn a_disabled_signal_character_is_data() {
        let mut t = Termios::console();
        t.cc[VINTR] = 0;
        let mut l = Ldisc::new(t);
        let (_, sig) = typed(&mut l, b"\x03\x00\n");
        assert!(sig.is_empty());
        assert_eq!(lines(&mut l), [b"\x03\x00\n".to_vec()]);
    }

    #[test]
    fn input_mappings() {
        let mut t = Termios::console();
        t.iflag = IGNCR;
        let mut l = Ldisc::new(t);
        typed(&mut l, b"a\rb\n");
        assert_eq!(lines(&mut l), [b"ab\n".to_vec()]);
        t.iflag = INLCR;
        t.lflag &= !ICANON;
        let mut l = Ldisc::new(t);
        typed(&mut l, b"\n");
        assert_eq!(l.take(10), b"\r");
        t.iflag = ISTRIP;
        let mut l = Ldisc::new(t);
        typed(&mut l, &[0xe1]);
        assert_eq!(l.take(10), b"a");
        t.iflag = 0;
        let mut l = Ldisc::new(t);
        typed(&mut l, b"\r");
        assert_eq!(l.take(10), b"\r", "without ICRNL a CR stays a CR");
    }

    #[test]
    fn ixon_start_and_stop_are_not_input() {
        let mut l = Ldisc::default();
        typed(&mut l, b"\x13");
        assert!(l.stopped);
        typed(&mut l, b"a\x11\n");
        assert!(!l.stopped);
        assert_eq!(lines(&mut l), [b"a\n".to_vec()]);
    }

    #[test]
    fn echonl_echoes_newlines_only() {
        let mut t = Termios::console();
        t.lflag &= !ECHO;
        t.lflag |= ECHONL;
        let mut l = Ldisc::new(t);
        let (echo, _) = typed(&mut l, b"secret\n");
        assert_eq!(echo, b"\r\n");
        let mut l = Ldisc::new(raw());
        let (echo, _) = typed(&mut l, b"x\n");
        assert!(echo.is_empty());
    }

    #[test]
    fn raw_mode_takes_every_byte_at_once() {
        let mut l = Ldisc::new(raw());
        let (echo, sig) = typed(&mut l, b"a\x7f\x15\x04\r");
        assert!(echo.is_empty());
        assert!(sig.is_empty());
        assert_eq!(l.available(), 5);
        assert!(l.poll_readable());
        assert_eq!(l.take(3), b"a\x7f\x15");
        assert_eq!(l.take(10), b"\x04\n", "ICRNL still maps");
        assert_eq!(l.read_line(10), None);
    }

    #[test]
    fn raw_mode_with_echo_shows_control_characters() {
        let mut t = raw();
        t.lflag |= ECHO;
        let mut l = Ldisc::new(t);
        let (echo, _) = typed(&mut l, b"a\x01\r");
        assert_eq!(echo, b"a^A\r\n");
    }

    #[test]
    fn poll_in_raw_mode_waits_for_vmin_when_vtime_is_zero() {
        let mut t = raw();
        t.cc[VMIN] = 3;
        let mut l = Ldisc::new(t);
        typed(&mut l, b"ab");
        assert!(!l.poll_readable());
        typed(&mut l, b"c");
        assert!(l.poll_readable());
        t.cc[VTIME] = 5;
        let mut l = Ldisc::new(t);
        typed(&mut l, b"a");
        assert!(l.poll_readable());
    }

    #[test]
    fn switching_modes_keeps_typed_input() {
        let mut l = Ldisc::default();
        typed(&mut l, b"line\npart");
        l.set_termios(raw());
        assert_eq!(l.available(), 9);
        assert_eq!(l.take(100), b"line\npart");
        typed(&mut l, b"xy");
        l.set_termios(Termios::console());
        assert_eq!(lines(&mut l), [b"xy".to_vec()]);
    }

    #[test]
    fn a_full_line_drops_bytes_but_takes_its_newline() {
        let mut l = Ldisc::default();
        let long = vec![b'x'; BUF_SIZE + 10];
        typed(&mut l, &long);
        typed(&mut l, b"\n");
        let line = l.read_line(usize::MAX).unwrap();
        assert_eq!(line.len(), BUF_SIZE);
        assert_eq!(line.last(), Some(&b'\n'));
    }

    #[test]
    fn output_processing() {
        let mut l = Ldisc::default();
        let mut out = Vec::new();
        l.output(b"a\nb\r\n", &mut out);
        assert_eq!(out, b"a\r\nb\r\r\n", "ONLCR adds a CR before every NL");
        let mut t = Termios::console();
        t.oflag = OPOST | OCRNL | ONOCR | OLCUC | XTABS;
        let mut l = Ldisc::new(t);
        let mut out = Vec::new();
        l.output(b"\rab\r\tc\n", &mut out);
        assert_eq!(out, b"AB\n      C\n");
        t.oflag = ONLCR; // without OPOST nothing is processed
        let mut l = Ldisc::new(t);
        let mut out = Vec::new();
        l.output(b"a\n", &mut out);
        assert_eq!(out, b"a\n");
    }
}
