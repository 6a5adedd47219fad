//! The IPC fast path: a forwarded Linux call handed straight to the server
//! thread waiting for it, and that server's ReplyRecv handed straight back
//! to the caller, each in one pass through the kernel with no scheduler
//! and no kernel-stack switch.
//!
//! Both halves work on parked threads (`Thread::parked`): a thread blocked
//! in a call whose result arrives in its registers keeps nothing on its
//! kernel stack but its PtRegs, so resuming it is returning to user mode
//! from them. A hand-off returns the next thread's PtRegs to the entry
//! assembly, which moves RSP there and takes the ordinary exit; a thread
//! the scheduler resumes goes through the frame `Kernel::load` lays out.
//!
//! Anything unusual takes the general path (syscall::forward and
//! syscall::native), which handles every case: the fast path off, a
//! thread asked to stop for its owner, something else queued for the
//! server, a peer that is not parked. For the common case each half does
//! what the general path does, step for step: `call_fast` is
//! Kernel::send_current with Kernel::deliver, `reply_recv_fast` is
//! native's reply then recv. docs/architecture.md ("The IPC fast path")
//! has more.

use super::{write_message, Kernel, Outgoing, Space, State, Thread};
use crate::arch::x86_64::cpu;
use crate::slab::Slab;
use lstar_abi::{Message, MessageKind, PtRegs};

impl Kernel {
    /// Whether a hand-off may happen now: the fast path is on and no
    /// thread waits to be buried. (Whether a thread must stop for its
    /// owner is asked of the two threads involved.)
    #[inline(always)]
    fn fast_ok(&self) -> bool {
        self.options.fastpath && self.graveyard.is_empty()
    }

    /// Sends the current thread's syscall (`number`, with the arguments in
    /// its registers) to endpoint `ep` if a server thread is parked in
    /// Recv there: the message goes into that thread's registers and it
    /// runs. Some(its PtRegs); None, nothing done.
    #[inline(always)]
    pub fn call_fast(&mut self, ep: usize, number: u64) -> Option<*mut PtRegs> {
        if !self.fast_ok() {
            return None;
        }
        let (me, e) = (self.current, &mut self.endpoints[ep]);
        let r = e.receiver?;
        let (client, server) = self.threads.pair_mut(&me, &r)?;
        // A caller its owner asked to stop (a signal) needs the Cancel
        // Kernel::deliver sends behind its call; a quiet request needs none.
        if !server.parked || server.uses_fpu() || (client.interrupt && !client.quiet) {
            return None;
        }
        // Kernel::deliver, for a sender with no interrupt pending.
        let args = client.regs().args();
        write_message(server.regs(), &Message { kind: MessageKind::Syscall, client: me, nr: number, args, tag: client.tag });
        client.outgoing = Some(Outgoing { kind: MessageKind::Syscall, nr: number, args });
        client.state = State::AwaitingReply { server: r };
        e.receiver = None;
        cpu::count(|c| c.ipc_messages += 1);
        let regs = hand_off(client, server, &self.spaces, &self.options, &mut self.switched_tsc);
        self.current = r;
        Some(regs)
    }

    /// ReplyRecv(ep, client, value) that completes a parked client's call
    /// while nothing waits on `ep`: the server parks in Recv and the
    /// client resumes with `value`.
    #[inline(always)]
    pub fn reply_recv_fast(&mut self) -> Option<*mut PtRegs> {
        if !self.fast_ok() || self.reply_target.is_some() {
            return None;
        }
        let me = self.current;
        let t = self.threads.get_mut(&me)?;
        let (space, r) = (t.space, t.regs());
        let (ep, client, value) = (r.rdi as usize, r.rsi, r.rdx);
        let e = self.endpoints.get_mut(ep)?;
        let idle = e.receiver.is_none() && e.notify == 0 && e.cancels.is_empty() && e.senders.is_empty();
        if !idle || space != Some(e.server_space) {
            return None;
        }
        let fpu_owner = self.fpu_owner;
        let (server, c) = self.threads.pair_mut(&me, &client)?;
        let answers = c.outgoing.is_some_and(|o| o.answered_in_rax());
        // A client that must stop for its owner on its way back takes the
        // general path, whose resumption runs that exit work.
        if c.state != (State::AwaitingReply { server: me }) || !c.parked || !answers || c.interrupt {
            return None;
        }
        // A Linux client's x87/SSE state must still be in the registers
        // (its call went straight to this server and back); else
        // Kernel::load_fpu's save and restore, on the general path.
        if c.uses_fpu() && client != fpu_owner {
            return None;
        }
        c.regs().rax = value;
        if self.options.trace {
            trace_reply(c, value, e.name);
        }
        c.outgoing = None;
        server.state = State::Receiving(ep);
        e.receiver = Some(me);
        cpu::count(|c| c.ipc_messages += 1);
        cpu::probe(lstar_abi::counters::ProbePoint::Reply);
        let regs = hand_off(server, c, &self.spaces, &self.options, &mut self.switched_tsc);
        self.current = client;
        Some(regs)
    }
}

/// native::reply's trace line, for the fast path.
#[cold]
fn trace_reply(client: &Thread, value: u64, handler: &str) {
    if let Some(out) = client.outgoing.filter(|o| o.kind == MessageKind::Syscall) {
        crate::syscall::trace::reply(client.id, out.nr, &out.args, value, handler);
    }
}

/// Parks `prev` (the current thread, its state already saying why it
/// stops) and makes `next` (parked) run: Kernel::switch_to and
/// Kernel::load without the kernel-stack switch. The caller makes `next`
/// current. Returns `next`'s PtRegs.
#[inline(always)]
fn hand_off(prev: &mut Thread, next: &mut Thread, spaces: &Slab<Space>, options: &super::Options, switched_tsc: &mut u64) -> *mut PtRegs {
    prev.run_tsc += super::charge(switched_tsc);
    prev.parked = true;
    next.parked = false;
    next.state = State::Running;
    enter(spaces, next, options.kpti, options.pcid);
    cpu::count(|c| c.switches += 1);
    cpu::probe(lstar_abi::counters::ProbePoint::Switch);
    next.regs()
}

/// Loads what `t` runs with: its I/O access, kernel stack, address space
/// and FS base (the part of a switch both paths share; its x87/SSE state
/// is `Kernel::load_fpu`'s).
#[inline(always)]
pub(super) fn enter(spaces: &Slab<Space>, t: &mut Thread, kpti: bool, pcid: bool) {
    cpu::set_io_access(t.io);
    if let Some(space) = t.space {
        cpu::enter_space(t.kstack.top(), spaces[&space].tables.user_mode_cr3(kpti, pcid));
        cpu::set_fs_base(t.fs_base);
    }
}
