//! The native kernel API: what a server's SYSCALL reaches.
//!
//! A thread's personality decides which API its SYSCALL enters: a Linux
//! thread reaches the Linux dispatcher, a server thread reaches this one.
//!
//! Register convention. In: RAX = [`NativeCall`], arguments in RDI, RSI,
//! RDX, R10, R8, R9 (as Linux). Out: RAX = result (`-errno` on failure).
//! The receiving calls ([`NativeCall::Recv`], [`NativeCall::ReplyRecv`])
//! also return a [`Message`] in RDI (kind), RSI (client), RDX (nr),
//! R10, R8, R9, R12, R13, R14 (the six arguments) and R15 (the sender's
//! tag).

/// Identifies a thread to the kernel and to servers (the Linux caller of a
/// forwarded syscall, or the thread a fault came from).
pub type ThreadId = u64;

/// Identifies an address space created with [`NativeCall::AsCreate`].
pub type AsId = u64;

macro_rules! native_calls {
    ($($(#[$doc:meta])* $name:ident = $value:expr,)*) => {
        /// Native kernel calls, numbered for RAX.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u64)]
        pub enum NativeCall { $($(#[$doc])* $name = $value,)* }

        impl TryFrom<u64> for NativeCall {
            type Error = u64;
            fn try_from(nr: u64) -> Result<Self, u64> {
                match nr { $($value => Ok(NativeCall::$name),)* other => Err(other) }
            }
        }
    };
}

native_calls! {
    /// (ptr, len): write bytes to the kernel log.
    DebugWrite = 0,
    /// (endpoint): wait for the next message on an endpoint.
    Recv = 1,
    /// (client, value): make `value` the RAX of `client`'s forwarded syscall.
    Reply = 2,
    /// (endpoint, client, value): reply, then wait for the next message.
    ReplyRecv = 3,
    /// (client, client_addr, local_addr, len): copy from the caller being served.
    CopyFromClient = 4,
    /// (client, client_addr, local_addr, len): copy to the caller being served.
    CopyToClient = 5,
    /// (): create an empty user address space; returns its id.
    AsCreate = 6,
    /// (as, addr, len, prot, flags): map zeroed pages. Private pages are
    /// only reserved: the first access to one gets it a fresh zeroed frame,
    /// in the kernel, with no message (demand zero, D25). With
    /// [`map::SHARED`] in `flags` the frames are allocated at once and
    /// shared: [`NativeCall::AsClone`] maps the same frames into the copy
    /// instead of copying them, and a frame is freed when its last mapping
    /// goes (MAP_SHARED memory).
    AsMap = 7,
    /// (as, addr, len): unmap pages and free their frames.
    AsUnmap = 8,
    /// (as, addr, local_addr, len): copy bytes into an address space.
    AsWrite = 9,
    /// (as, rip, rsp, personality): create a thread owned by the caller's
    /// endpoint (it receives the thread's faults); returns its id.
    ThreadCreate = 10,
    /// (thread, fs_base): set a thread's FS base (arch_prctl ARCH_SET_FS).
    ThreadSetFsBase = 11,
    /// (thread): end a thread that is waiting on the caller (or the caller
    /// itself when thread is 0).
    ThreadKill = 12,
    /// (as): destroy an address space with no threads left.
    AsDestroy = 13,
    /// (status): stop the machine, reporting the status to the host.
    Poweroff = 14,
    /// (thread, rip, rsp, rax): restart a waiting client as execve does:
    /// new RIP, RSP and RAX, every other register zero, RFLAGS = IF, fresh
    /// x87/SSE state.
    ThreadSetRegs = 15,
    /// (ptr, len): write program output to the serial console. Until the
    /// console server owns the UART, the kernel writes it.
    ConsoleWrite = 16,
    /// (endpoint, nr, a0, a1, a2, a3): send a [`MessageKind::Call`] to
    /// another server and wait for its reply (returned in RAX). While it
    /// waits, the callee may copy to and from the caller's memory.
    Call = 17,
    /// (name_ptr, name_len): the endpoint of the server with that name
    /// (as routes.tbl spells it).
    Lookup = 18,
    /// (thread, tag): label a thread this server owns; every message the
    /// thread sends carries the tag (the process server uses the pid).
    ThreadSetTag = 19,
    /// (as): a new address space with a copy of every page of `as` (a
    /// space the caller created, not its own: `EINVAL`). Private pages are
    /// copied when first written (copy-on-write), shared ones stay shared.
    AsClone = 20,
    /// (thread, as, rsp, fs_base, tag): a new thread in `as` with a copy of
    /// the waiting `thread`'s registers, RAX = 0 (fork's child); RSP
    /// replaced when `rsp` is not 0, FS base set to `fs_base`, tagged with
    /// `tag` before it first runs. Returns its id.
    ThreadClone = 21,
    /// (thread, as): move a waiting thread to another address space this
    /// server created (execve).
    ThreadSetSpace = 22,
    /// (thread, flags): ask a thread this server owns to stop at its next
    /// return to user mode and send a [`MessageKind::Interrupted`] message
    /// (signal delivery to a thread that is not waiting on the owner). If
    /// the thread is blocked in another server's call, that server gets a
    /// [`MessageKind::Cancel`] for it, unless `flags` has
    /// [`INTERRUPT_QUIET`]: then the thread only stops at its return (the
    /// process server restoring a ppoll's signal mask), until a later
    /// interrupt without the flag asks for the Cancel too.
    ThreadInterrupt = 23,
    /// (thread, ptr): copy the [`UserContext`] of a thread waiting on the
    /// caller into the caller's memory.
    ThreadGetContext = 24,
    /// (thread, ptr): replace the user context of a thread waiting on the
    /// caller (CS, SS and reserved RFLAGS bits are kept sane by the kernel).
    ThreadSetContext = 25,
    /// (irq, bit): deliver ISA interrupt `irq` to the caller's endpoint as
    /// notification bit `bit` (a [`MessageKind::Notify`] message).
    IrqBind = 26,
    /// (deadline, bit): notify the caller's endpoint with `bit` once the
    /// monotonic clock reaches `deadline` ns; one timer per endpoint, a new
    /// one replaces the old, 0 cancels.
    TimerSet = 27,
    /// (clock): the time in ns: [`clock::MONOTONIC`] since boot, or
    /// [`clock::REALTIME`] since the Unix epoch.
    Clock = 28,
    /// (base, count): let the calling thread use I/O ports
    /// `base..base+count` (device servers only).
    IoPorts = 29,
    /// (client, endpoint, word): hand a syscall the caller is serving to
    /// another server, as if the client had sent it there; the message's
    /// `args[5]` becomes `word`. The caller goes on at once.
    Forward = 30,
    /// (endpoint, bits): raise notification bits on another server's
    /// endpoint (it receives a [`MessageKind::Notify`]). Never blocks, so
    /// two servers can signal each other without the deadlock two Calls
    /// could make.
    NotifySend = 31,
    /// (as, addr, len, prot): change the rights of mapped pages (PROT_*
    /// bits; PROT_NONE keeps the pages but denies user access). Pages of
    /// the range that are not mapped stay unmapped.
    AsProtect = 32,
    /// (as, from, to, len): move the pages of `[from, from+len)` to `to`
    /// (frames and rights, no copy; mremap). `to..to+len` must be free;
    /// holes in the source stay holes.
    AsMove = 33,
    /// (as, addr): map the kernel's counters page (lstar_abi::counters)
    /// read-only at `addr`.
    AsMapCounters = 34,
    /// (): physical memory in pages: RAX = free pages, RDI = total pages
    /// (for /proc/meminfo and sysinfo).
    MemInfo = 35,
    /// (): the caller's own address space, which it may map into (a
    /// server growing its heap).
    AsSelf = 36,
    /// (thread): how long a thread the caller owns has run, in ns (user
    /// and kernel mode together; getrusage, times and the CPU clocks).
    ThreadTime = 37,
    /// (client, as, addr, local_addr, len, prot): map the caller's own
    /// [`map::SHARED`] pages at `[local_addr, local_addr+len)` into `as` at
    /// `addr` with `prot`, as more counted mappings of the same frames
    /// (MAP_SHARED of a file whose bytes the caller keeps in such pages).
    /// `as` must be a space created by the space of `client`, a server
    /// thread awaiting the caller's reply: that server asked for the
    /// mapping. Checked before anything is mapped: `-EINVAL` for an
    /// unaligned range or a source page that is not shared, `-EEXIST` if
    /// a target page is mapped, `-ESRCH` for a wrong client or space.
    AsGrant = 38,
}

/// Flags for [`NativeCall::AsMap`].
pub mod map {
    /// The frames stay shared with the copies [`super::NativeCall::AsClone`]
    /// makes (MAP_SHARED).
    pub const SHARED: u64 = 1;
}

/// Added to a page fault's error code ([`MessageKind::Fault`]) when the
/// fault was on a demand-zero page and no frame was left for it: the
/// program is out of memory, not at a bad address.
pub const FAULT_NO_MEMORY: u64 = 1 << 32;

/// Clocks for [`NativeCall::Clock`].
pub mod clock {
    pub const MONOTONIC: u64 = 0;
    pub const REALTIME: u64 = 1;
}

/// The x87/SSE state after FNINIT with SSE exceptions masked, in the
/// FXSAVE layout (FCW 0x37f, MXCSR 0x1f80, all else zero): what a new
/// Linux thread and a signal handler start with.
pub const FPU_INIT: [u8; 512] = {
    let mut s = [0u8; 512];
    s[0] = 0x7f;
    s[1] = 0x03;
    s[24] = 0x80;
    s[25] = 0x1f;
    s
};

/// A thread's user-mode state: its registers and its x87/SSE state in the
/// FXSAVE layout. What a signal frame saves and sigreturn restores.
#[derive(Clone, Copy, Debug)]
pub struct UserContext {
    pub regs: crate::PtRegs,
    pub fs_base: u64,
    pub fpu: [u8; 512],
}

impl UserContext {
    /// Bytes in the wire form: the 21 PtRegs words, the FS base, the FXSAVE
    /// area, all little-endian.
    pub const SIZE: usize = 21 * 8 + 8 + 512;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        for (i, w) in self.regs.to_words().iter().enumerate() {
            out[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
        }
        out[168..176].copy_from_slice(&self.fs_base.to_le_bytes());
        out[176..].copy_from_slice(&self.fpu);
        out
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> UserContext {
        let word = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        let mut words = [0u64; 21];
        for (i, w) in words.iter_mut().enumerate() {
            *w = word(i);
        }
        let mut fpu = [0u8; 512];
        fpu.copy_from_slice(&b[176..]);
        UserContext { regs: crate::PtRegs::from_words(&words), fs_base: word(21), fpu }
    }
}

impl Default for UserContext {
    fn default() -> Self {
        UserContext { regs: crate::PtRegs::default(), fs_base: 0, fpu: [0; 512] }
    }
}

/// Protection bits for [`NativeCall::AsMap`], the values of Linux PROT_*.
pub mod prot {
    pub const READ: u64 = 1;
    pub const WRITE: u64 = 2;
    pub const EXEC: u64 = 4;
}

/// Personalities for [`NativeCall::ThreadCreate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Personality {
    /// SYSCALL reaches the Linux dispatcher.
    Linux = 0,
    /// SYSCALL reaches the native API.
    Native = 1,
}

impl TryFrom<u64> for Personality {
    type Error = u64;
    fn try_from(v: u64) -> Result<Self, u64> {
        match v {
            0 => Ok(Personality::Linux),
            1 => Ok(Personality::Native),
            other => Err(other),
        }
    }
}

/// What a received message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum MessageKind {
    /// A forwarded Linux syscall: `nr` is its number in the table that
    /// routed it, with [`crate::X32_SYSCALL_BIT`] set for the x32 table;
    /// `args` as the caller passed them.
    Syscall = 0,
    /// A fault in a thread the server owns: `nr` is the vector, `args` are
    /// [error code, faulting address (CR2), rip, rsp, 0, 0]. The error
    /// code is the CPU's, with [`FAULT_NO_MEMORY`] added when the kernel
    /// could not give a demand-zero page a frame; an access a reserved
    /// page's rights forbid comes with the present bit set, as the fault
    /// on a mapped page would.
    Fault = 1,
    /// A request from another server ([`NativeCall::Call`]): `nr` and
    /// `args` are the callee's protocol.
    Call = 2,
    /// A thread stopped on its way back to user mode because its owner
    /// asked ([`NativeCall::ThreadInterrupt`]). The reply resumes it and,
    /// like the reply to a Fault, leaves its registers alone.
    Interrupted = 3,
    /// Notifications (interrupts, timers): `args[0]` holds the bits that
    /// fired since the last Notify; `client` is 0 and nothing is replied.
    Notify = 4,
    /// The kernel asks the server to end `client`'s call early: its owner
    /// has a signal for it (NativeCall::ThreadInterrupt). A server that
    /// holds the call blocked (a read waiting for input) replies `-EINTR`;
    /// otherwise it ignores this. Nothing is replied to the message itself.
    Cancel = 5,
}

impl TryFrom<u64> for MessageKind {
    type Error = u64;
    fn try_from(v: u64) -> Result<Self, u64> {
        match v {
            0 => Ok(MessageKind::Syscall),
            1 => Ok(MessageKind::Fault),
            2 => Ok(MessageKind::Call),
            3 => Ok(MessageKind::Interrupted),
            4 => Ok(MessageKind::Notify),
            5 => Ok(MessageKind::Cancel),
            other => Err(other),
        }
    }
}

impl Message {
    /// The syscall number without the x32 bit.
    pub fn syscall_nr(&self) -> u64 {
        self.nr & !crate::X32_SYSCALL_BIT
    }

    /// Whether the caller used the x32 table.
    pub fn is_x32(&self) -> bool {
        self.nr & crate::X32_SYSCALL_BIT != 0
    }
}

/// A message as a server receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    pub kind: MessageKind,
    /// The thread that sent it; the only thread whose memory the server may
    /// copy from and to while handling it.
    pub client: ThreadId,
    pub nr: u64,
    pub args: [u64; 6],
    /// The sender's tag ([`NativeCall::ThreadSetTag`]); 0 if never set.
    pub tag: u64,
}

/// [`NativeCall::ThreadInterrupt`]'s flag: stop at the return to user mode,
/// without ending a call another server holds.
pub const INTERRUPT_QUIET: u64 = 1;

/// Where the kernel maps the initrd (read-only) in every server.
pub const SERVER_INITRD_BASE: u64 = 0x10_0000_0000;
/// Where the kernel maps its counters page (read-only) in every server:
/// the published clock (`counters::ClockData`), read without a kernel
/// entry, and the event counters.
pub const SERVER_COUNTERS_ADDR: u64 = 0x0f_ffff_f000;
/// Top of a server's initial stack.
pub const SERVER_STACK_TOP: u64 = 0x7fff_0000_0000;
/// Size of a server's initial stack.
pub const SERVER_STACK_SIZE: u64 = 256 * 1024;

/// Start-up registers of a server: RDI = its endpoint, RSI = initrd base,
/// RDX = initrd length, R10 = boot flags ([`boot_flags`]).
pub mod boot_flags {
    /// The kernel was booted with `trace`.
    pub const TRACE: u64 = 1 << 0;
}
