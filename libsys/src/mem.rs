//! Address spaces and threads that a server creates and manages (the
//! process server's tools for Linux processes).

use crate::raw::call0;
use lstar_abi::errno::Errno;
use lstar_abi::native::{AsId, NativeCall, Personality};
use lstar_abi::ThreadId;

/// An address space this server created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space(pub AsId);

impl Space {
    /// This server's own address space.
    pub fn current() -> Result<Space, Errno> {
        call0(NativeCall::AsSelf, [0; 6]).map(Space)
    }

    pub fn create() -> Result<Space, Errno> {
        call0(NativeCall::AsCreate, [0; 6]).map(Space)
    }

    /// Maps fresh zeroed pages over `[addr, addr+len)` (page-aligned addr).
    pub fn map(self, addr: u64, len: u64, prot: u64) -> Result<(), Errno> {
        call0(NativeCall::AsMap, [self.0, addr, len, prot, 0, 0]).map(drop)
    }

    /// Maps fresh zeroed pages that stay shared with this space's copies
    /// ([`Space::clone_space`]): MAP_SHARED memory across fork.
    pub fn map_shared(self, addr: u64, len: u64, prot: u64) -> Result<(), Errno> {
        call0(NativeCall::AsMap, [self.0, addr, len, prot, lstar_abi::native::map::SHARED, 0]).map(drop)
    }

    /// Maps the kernel's counters page (lstar_abi::counters) read-only.
    pub fn map_counters(self, addr: u64) -> Result<(), Errno> {
        call0(NativeCall::AsMapCounters, [self.0, addr, 0, 0, 0, 0]).map(drop)
    }

    /// Moves pages from `from` to the free range at `to` (no copy).
    pub fn move_pages(self, from: u64, to: u64, len: u64) -> Result<(), Errno> {
        call0(NativeCall::AsMove, [self.0, from, to, len, 0, 0]).map(drop)
    }

    /// Changes the rights of mapped pages (PROT_* bits).
    pub fn protect(self, addr: u64, len: u64, prot: u64) -> Result<(), Errno> {
        call0(NativeCall::AsProtect, [self.0, addr, len, prot, 0, 0]).map(drop)
    }

    pub fn unmap(self, addr: u64, len: u64) -> Result<(), Errno> {
        call0(NativeCall::AsUnmap, [self.0, addr, len, 0, 0, 0]).map(drop)
    }

    /// Copies `data` to `addr` in the space, whatever the pages' user rights.
    pub fn write(self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        call0(NativeCall::AsWrite, [self.0, addr, data.as_ptr() as u64, data.len() as u64, 0, 0]).map(drop)
    }

    pub fn destroy(self) -> Result<(), Errno> {
        call0(NativeCall::AsDestroy, [self.0, 0, 0, 0, 0, 0]).map(drop)
    }

    /// A copy of this space, every page duplicated (fork) except shared
    /// ones ([`Space::map_shared`]), which the copy maps too.
    pub fn clone_space(self) -> Result<Space, Errno> {
        call0(NativeCall::AsClone, [self.0, 0, 0, 0, 0, 0]).map(Space)
    }

    /// Starts a thread at `rip` with stack `rsp`; this server owns it.
    pub fn spawn(self, rip: u64, rsp: u64, personality: Personality) -> Result<ThreadId, Errno> {
        call0(NativeCall::ThreadCreate, [self.0, rip, rsp, personality as u64, 0, 0])
    }
}

/// Sets the FS base of a thread this server owns.
pub fn set_fs_base(thread: ThreadId, base: u64) -> Result<(), Errno> {
    call0(NativeCall::ThreadSetFsBase, [thread, base, 0, 0, 0, 0]).map(drop)
}

/// Ends a thread this server owns (it must be waiting on this server).
pub fn kill(thread: ThreadId) -> Result<(), Errno> {
    call0(NativeCall::ThreadKill, [thread, 0, 0, 0, 0, 0]).map(drop)
}

/// How long a thread this server owns has run, in ns.
pub fn thread_time(thread: ThreadId) -> Result<u64, Errno> {
    call0(NativeCall::ThreadTime, [thread, 0, 0, 0, 0, 0])
}

/// Writes program output to the console.
pub fn console_write(bytes: &[u8]) -> Result<u64, Errno> {
    call0(NativeCall::ConsoleWrite, [bytes.as_ptr() as u64, bytes.len() as u64, 0, 0, 0, 0])
}

/// Stops the machine, reporting `status` to the host.
pub fn poweroff(status: u8) -> ! {
    let _ = call0(NativeCall::Poweroff, [status as u64, 0, 0, 0, 0, 0]);
    unreachable!("poweroff returned")
}

/// A new thread in `space` with a copy of the waiting `thread`'s registers
/// and RAX = 0; `rsp` replaces the stack pointer unless 0; tagged with `tag`
/// before it first runs.
pub fn clone_thread(thread: ThreadId, space: Space, rsp: u64, fs_base: u64, tag: u64) -> Result<ThreadId, Errno> {
    call0(NativeCall::ThreadClone, [thread, space.0, rsp, fs_base, tag, 0])
}

/// Moves a waiting thread to another space (execve), with new registers.
pub fn set_space(thread: ThreadId, space: Space) -> Result<(), Errno> {
    call0(NativeCall::ThreadSetSpace, [thread, space.0, 0, 0, 0, 0]).map(drop)
}

/// Replaces a waiting thread's RIP, RSP and RAX.
pub fn set_regs(thread: ThreadId, rip: u64, rsp: u64, rax: u64) -> Result<(), Errno> {
    call0(NativeCall::ThreadSetRegs, [thread, rip, rsp, rax, 0, 0]).map(drop)
}

/// Labels a thread; its messages carry the tag.
pub fn set_tag(thread: ThreadId, tag: u64) -> Result<(), Errno> {
    call0(NativeCall::ThreadSetTag, [thread, tag, 0, 0, 0, 0]).map(drop)
}

/// Asks a thread this server owns to stop at its next return to user mode
/// and send an `Interrupted` message; a call it waits in at another server
/// is cancelled.
pub fn interrupt(thread: ThreadId) -> Result<(), Errno> {
    call0(NativeCall::ThreadInterrupt, [thread, 0, 0, 0, 0, 0]).map(drop)
}

/// As [`interrupt`], but a call it waits in at another server goes on
/// (lstar_abi::native::INTERRUPT_QUIET).
pub fn interrupt_quiet(thread: ThreadId) -> Result<(), Errno> {
    call0(NativeCall::ThreadInterrupt, [thread, lstar_abi::native::INTERRUPT_QUIET, 0, 0, 0, 0]).map(drop)
}

/// The user context of a thread waiting on this server.
pub fn get_context(thread: ThreadId) -> Result<lstar_abi::native::UserContext, Errno> {
    let mut bytes = [0u8; lstar_abi::native::UserContext::SIZE];
    call0(NativeCall::ThreadGetContext, [thread, bytes.as_mut_ptr() as u64, 0, 0, 0, 0])?;
    Ok(lstar_abi::native::UserContext::from_bytes(&bytes))
}

/// Replaces the user context of a thread waiting on this server.
pub fn set_context(thread: ThreadId, ctx: &lstar_abi::native::UserContext) -> Result<(), Errno> {
    let bytes = ctx.to_bytes();
    call0(NativeCall::ThreadSetContext, [thread, bytes.as_ptr() as u64, 0, 0, 0, 0]).map(drop)
}

/// The time in ns on `clock` (lstar_abi::native::clock), computed from
/// the clock the kernel publishes in its counters page, which it maps in
/// every server (`SERVER_COUNTERS_ADDR`): the kernel's own formula
/// (`ClockData`), without a kernel entry.
#[cfg(target_os = "none")]
pub fn clock(clock: u64) -> Result<u64, Errno> {
    use lstar_abi::native::clock::{MONOTONIC, REALTIME};
    let data = crate::clock::published();
    let tsc = crate::clock::rdtsc();
    match clock {
        MONOTONIC => Ok(data.monotonic_ns(tsc)),
        REALTIME => Ok(data.realtime_ns(tsc)),
        _ => Err(Errno::EINVAL),
    }
}

/// The time in ns on `clock`, from the kernel (a build for the host has
/// no counters page).
#[cfg(not(target_os = "none"))]
pub fn clock(clock: u64) -> Result<u64, Errno> {
    call0(NativeCall::Clock, [clock, 0, 0, 0, 0, 0])
}

/// Notify this server's endpoint with `bit` at monotonic time `deadline`
/// (ns); 0 cancels.
pub fn timer_set(deadline: u64, bit: u64) -> Result<(), Errno> {
    call0(NativeCall::TimerSet, [deadline, bit, 0, 0, 0, 0]).map(drop)
}

/// Lets the calling thread use I/O ports `base..base+count`.
pub fn io_ports(base: u16, count: u16) -> Result<(), Errno> {
    call0(NativeCall::IoPorts, [base as u64, count as u64, 0, 0, 0, 0]).map(drop)
}

/// Delivers ISA interrupt `irq` to this server's endpoint as notification
/// `bit`.
pub fn irq_bind(irq: u8, bit: u64) -> Result<(), Errno> {
    call0(NativeCall::IrqBind, [irq as u64, bit, 0, 0, 0, 0]).map(drop)
}

/// Physical memory in pages: (free, total).
pub fn mem_info() -> Result<(u64, u64), Errno> {
    let r = crate::raw::call(NativeCall::MemInfo, [0; 6]);
    Ok((crate::raw::check(r[0])?, r[1]))
}
