//! Signals in the process server: rt_sigaction, rt_sigprocmask,
//! rt_sigreturn, kill/tkill/tgkill, sigaltstack, process groups for kill,
//! and delivery.
//!
//! A signal is delivered when its target's thread waits on this server: at
//! the reply to one of its syscalls, at a fault, or, for a thread that is
//! running or blocked elsewhere, at the `Interrupted` stop the kernel makes
//! on its next return to user mode (`mem::interrupt`).

use super::*;
use proc_server::signal::{self as sig, Action, Info};

/// Per-process signal state.
#[derive(Clone, Debug)]
pub(crate) struct SigState {
    pub actions: [Action; sig::NSIG as usize],
    pub blocked: u64,
    pub pending: u64,
    pub info: [Info; sig::NSIG as usize],
    /// sigaltstack: (ss_sp, ss_size), when set and enabled.
    pub altstack: Option<(u64, u64)>,
    /// rt_sigsuspend's caller mask, restored when the handler returns.
    pub saved_mask: Option<u64>,
}

impl Default for SigState {
    fn default() -> Self {
        SigState { actions: [Action::default(); 64], blocked: 0, pending: 0, info: [Info::default(); 64], altstack: None, saved_mask: None }
    }
}

impl SigState {
    /// What a child inherits at fork: dispositions and mask, nothing pending.
    pub fn forked(&self) -> SigState {
        SigState { actions: self.actions, blocked: self.blocked, altstack: self.altstack, ..SigState::default() }
    }

    /// execve: caught signals go back to their default; ignored stay so.
    pub fn exec(&mut self) {
        for a in self.actions.iter_mut() {
            if a.handler != sig::SIG_IGN {
                *a = Action::default();
            }
        }
        self.altstack = None;
    }

    fn action(&self, signo: u8) -> Action {
        self.actions[signo as usize - 1]
    }

    /// Whether `signo` would do anything if delivered now (so it is worth
    /// interrupting its target for).
    fn matters(&self, signo: u8) -> bool {
        let a = self.action(signo);
        if signo == sig::SIGKILL {
            return true;
        }
        if a.handler == sig::SIG_IGN || self.blocked & sig::bit(signo) != 0 {
            return false;
        }
        // SIGCONT's continuing is done when it is sent (`send`).
        a.handler != sig::SIG_DFL || !matches!(sig::default_action(signo), sig::Default::Ignore | sig::Default::Continue)
    }
}

const SIGSET_SIZE: u64 = 8;

impl Procs {
    pub(crate) fn rt_sigaction(&mut self, client: Client, pid: u32, a: [u64; 6]) -> Result<u64, Errno> {
        let (signo, act, oact, size) = (a[0], a[1], a[2], a[3]);
        if size != SIGSET_SIZE || signo == 0 || signo > sig::NSIG as u64 {
            return Err(Errno::EINVAL);
        }
        let signo = signo as u8;
        let new = if act != 0 {
            if signo == sig::SIGKILL || signo == sig::SIGSTOP {
                return Err(Errno::EINVAL);
            }
            let mut b = [0u8; Action::SIZE];
            client.read(act, &mut b)?;
            Some(Action::from_bytes(&b))
        } else {
            None
        };
        let p = self.procs.get_mut(&pid).expect("caller exists");
        if oact != 0 {
            client.write(oact, &p.sig.action(signo).to_bytes())?;
        }
        if let Some(mut new) = new {
            new.mask &= !sig::UNBLOCKABLE;
            p.sig.actions[signo as usize - 1] = new;
            // Setting SIG_IGN discards what is pending (POSIX).
            if new.handler == sig::SIG_IGN {
                p.sig.pending &= !sig::bit(signo);
            }
        }
        Ok(0)
    }

    pub(crate) fn rt_sigprocmask(&mut self, client: Client, pid: u32, a: [u64; 6]) -> Result<u64, Errno> {
        const SIG_BLOCK: u64 = 0;
        const SIG_UNBLOCK: u64 = 1;
        const SIG_SETMASK: u64 = 2;
        let (how, set, oset, size) = (a[0], a[1], a[2], a[3]);
        if size != SIGSET_SIZE {
            return Err(Errno::EINVAL);
        }
        let old = self.procs[&pid].sig.blocked;
        let new = if set != 0 {
            let mut b = [0u8; 8];
            client.read(set, &mut b)?;
            let set = u64::from_le_bytes(b);
            Some(match how {
                SIG_BLOCK => old | set,
                SIG_UNBLOCK => old & !set,
                SIG_SETMASK => set,
                _ => return Err(Errno::EINVAL),
            })
        } else {
            None
        };
        if oset != 0 {
            client.write(oset, &old.to_le_bytes())?;
        }
        if let Some(new) = new {
            self.procs.get_mut(&pid).expect("caller exists").sig.blocked = new & !sig::UNBLOCKABLE;
        }
        Ok(0)
    }

    pub(crate) fn rt_sigpending(&mut self, client: Client, pid: u32, set: u64, size: u64) -> Result<u64, Errno> {
        if size != SIGSET_SIZE {
            return Err(Errno::EINVAL);
        }
        let s = &self.procs[&pid].sig;
        client.write(set, &(s.pending & s.blocked).to_le_bytes())?;
        Ok(0)
    }

    pub(crate) fn sigaltstack(&mut self, client: Client, pid: u32, ss: u64, old: u64) -> Result<u64, Errno> {
        const SS_DISABLE: u32 = 2;
        const MINSIGSTKSZ: u64 = 2048;
        let cur = self.procs[&pid].sig.altstack;
        if old != 0 {
            // stack_t { void *ss_sp; int ss_flags; size_t ss_size; }
            let mut b = [0u8; 24];
            let (sp, size, flags) = match cur {
                Some((sp, size)) => (sp, size, 0u32),
                None => (0, 0, SS_DISABLE),
            };
            b[0..8].copy_from_slice(&sp.to_le_bytes());
            b[8..12].copy_from_slice(&flags.to_le_bytes());
            b[16..24].copy_from_slice(&size.to_le_bytes());
            client.write(old, &b)?;
        }
        if ss != 0 {
            let mut b = [0u8; 24];
            client.read(ss, &mut b)?;
            let sp = u64::from_le_bytes(b[0..8].try_into().expect("8"));
            let flags = u32::from_le_bytes(b[8..12].try_into().expect("4"));
            let size = u64::from_le_bytes(b[16..24].try_into().expect("8"));
            let p = self.procs.get_mut(&pid).expect("caller exists");
            if flags & !SS_DISABLE != 0 {
                return Err(Errno::EINVAL);
            }
            p.sig.altstack = if flags & SS_DISABLE != 0 {
                None
            } else if size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            } else {
                Some((sp, size))
            };
        }
        Ok(0)
    }

    /// rt_sigsuspend (and pause, with `mask` None): wait with a temporary
    /// mask until a signal runs a handler or ends the process; returns
    /// EINTR, never restarted.
    pub(crate) fn suspend(&mut self, thread: ThreadId, pid: u32, mask: Option<(u64, u64)>) -> Outcome {
        if let Some((ptr, size)) = mask {
            if size != SIGSET_SIZE {
                return Outcome::Reply(Errno::EINVAL.to_ret());
            }
            let mut b = [0u8; 8];
            if let Err(e) = Client(thread).read(ptr, &mut b) {
                return Outcome::Reply(e.to_ret());
            }
            let p = self.procs.get_mut(&pid).expect("caller exists");
            p.sig.saved_mask = Some(p.sig.blocked);
            p.sig.blocked = u64::from_le_bytes(b) & !sig::UNBLOCKABLE;
        }
        let p = &self.procs[&pid];
        let ready = p.sig.pending & !p.sig.blocked;
        if (1..=sig::NSIG).any(|s| ready & sig::bit(s) != 0 && p.sig.matters(s)) {
            return self.finish_interrupted(pid, thread, false);
        }
        self.suspended.push((pid, thread));
        Outcome::NoReply
    }

    /// rt_sigreturn: restore what the frame at RSP saved.
    pub(crate) fn rt_sigreturn(&mut self, client: Client, pid: u32) -> Outcome {
        let thread = client.0;
        let r = (|| -> Result<u64, Errno> {
            let mut ctx = mem::get_context(thread)?;
            let mut uc = [0u8; 304];
            client.read(ctx.regs.rsp, &mut uc)?;
            let mask = sig::restore(&mut ctx, &uc);
            let fp = sig::fpstate(&uc);
            if fp != 0 {
                client.read(fp, &mut ctx.fpu)?;
            }
            mem::set_context(thread, &ctx)?;
            self.procs.get_mut(&pid).expect("caller exists").sig.blocked = mask & !sig::UNBLOCKABLE;
            Ok(ctx.regs.rax)
        })();
        match r {
            // The reply sets RAX to the value the frame saved.
            Ok(rax) => self.finish(pid, thread, Some(rax)),
            Err(_) => {
                println!("proc: pid {pid}: bad signal frame in rt_sigreturn");
                self.end(pid, Termination::Signaled(sig::SIGSEGV));
                Outcome::NoReply
            }
        }
    }

    /// kill(2): pid > 0 one process, 0 the caller's group, -1 every process
    /// but pid 1 and the caller, < -1 the group -pid.
    pub(crate) fn kill(&mut self, from: u32, target: i32, signo: u64) -> Result<u64, Errno> {
        if signo > sig::NSIG as u64 {
            return Err(Errno::EINVAL);
        }
        let caller_pgid = self.procs[&from].pgid;
        let targets: Vec<u32> = self
            .procs
            .values()
            .filter(|p| match target {
                t if t > 0 => p.pid == t as u32,
                0 => p.pgid == caller_pgid,
                -1 => p.pid != 1 && p.pid != from,
                t => p.pgid == t.unsigned_abs(),
            })
            .map(|p| p.pid)
            .collect();
        if targets.is_empty() {
            return Err(Errno::ESRCH);
        }
        if signo != 0 {
            for pid in targets {
                self.send(pid, Info { signo: signo as u8, code: sig::SI_USER, pid_or_addr: from as u64, uid: 0, status: 0 }, from);
            }
        }
        Ok(0)
    }

    /// Marks a signal pending and makes sure its target stops to take it.
    /// `caller` is the process whose syscall is being handled (it takes
    /// its signals at the reply).
    pub(crate) fn send(&mut self, pid: u32, info: Info, caller: u32) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        if p.ended.is_some() {
            return;
        }
        let bit = sig::bit(info.signo);
        // SIGCONT continues a stopped process whatever its disposition, and
        // cancels pending stops; a stop signal cancels a pending SIGCONT.
        if info.signo == sig::SIGCONT {
            p.sig.pending &= !(sig::bit(sig::SIGSTOP) | sig::bit(sig::SIGTSTP) | sig::bit(sig::SIGTTIN) | sig::bit(sig::SIGTTOU));
            if p.stopped.is_some() {
                self.resume(pid);
            }
        } else if matches!(info.signo, sig::SIGSTOP | sig::SIGTSTP | sig::SIGTTIN | sig::SIGTTOU) {
            p.sig.pending &= !sig::bit(sig::SIGCONT);
        }
        let Some(p) = self.procs.get_mut(&pid) else { return };
        // A stopped process takes nothing but SIGCONT and SIGKILL, and
        // SIGKILL ends it at once (its threads are held here, not running).
        if p.stopped.is_some() && info.signo == sig::SIGKILL {
            self.end(pid, Termination::Signaled(sig::SIGKILL));
            return;
        }
        // An ignored signal is discarded when sent, unless blocked (the
        // disposition may change before it is unblocked), as on Linux.
        let action = p.sig.action(info.signo);
        let ignored = action.handler == sig::SIG_IGN || (action.handler == sig::SIG_DFL && sig::default_action(info.signo) == sig::Default::Ignore);
        if ignored && info.signo != sig::SIGKILL && p.sig.blocked & bit == 0 {
            return;
        }
        p.sig.pending |= bit;
        p.sig.info[info.signo as usize - 1] = info;
        if pid == caller || !p.sig.matters(info.signo) {
            return;
        }
        let thread = p.main;
        // A thread held here ends its wait with EINTR (only wait4 restarts
        // under SA_RESTART; a sleep, futex wait or sigsuspend never does).
        let held = if let Some(i) = self.suspended.iter().position(|&(sp, _)| sp == pid) {
            Some((self.suspended.remove(i).1, false))
        } else if let Some(sleeper) = self.interrupt_sleep(pid) {
            Some((sleeper, false))
        } else if let Some(waiter) = self.interrupt_futex(pid) {
            Some((waiter, false))
        } else {
            self.waiters.remove(&pid).map(|w| (w.thread, true))
        };
        if let Some((held, restartable)) = held {
            let out = self.finish_interrupted(pid, held, restartable);
            reply_to(held, out);
        } else if let Err(e) = mem::interrupt(thread) {
            println!("proc: cannot interrupt pid {pid}: {}", e.text());
        }
    }

    /// Whether SIGKILL is pending for `pid` (it ends even a stopped process).
    pub(crate) fn kill_pending(&self, pid: u32) -> bool {
        self.procs.get(&pid).is_some_and(|p| p.sig.pending & sig::bit(sig::SIGKILL) != 0)
    }

    /// A stop signal's default action: the process stops; `thread` (which
    /// waits on this server) is held with `reply`, its other threads are
    /// held as they arrive, and the parent hears of it.
    fn stop(&mut self, pid: u32, signo: u8, thread: ThreadId, reply: Option<u64>) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        p.stopped = Some(signo);
        p.held.push((thread, reply));
        let others: Vec<ThreadId> = p.threads.keys().copied().filter(|&t| t != thread).collect();
        let ppid = p.ppid;
        for t in others {
            let _ = mem::interrupt(t);
        }
        self.job_event(pid, super::JobEvent::Stopped(signo));
        if !self.nocldstop(ppid) {
            let info = Info { signo: sig::SIGCHLD, code: sig::CLD_STOPPED, pid_or_addr: pid as u64, uid: 0, status: signo as i32 };
            self.send(ppid, info, 0);
        }
    }

    /// SIGCONT on a stopped process: its held threads go on.
    fn resume(&mut self, pid: u32) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        p.stopped = None;
        let held = core::mem::take(&mut p.held);
        let ppid = p.ppid;
        for (thread, value) in held {
            let out = self.finish(pid, thread, value);
            // A thread stopped on its way back from another server's
            // cut-short call restarts that call, as after any stop.
            if value.is_none() && matches!(out, Outcome::Reply(_)) {
                self.settle_restart(thread);
            }
            reply_to(thread, out);
        }
        self.job_event(pid, super::JobEvent::Continued);
        if !self.nocldstop(ppid) {
            let info = Info { signo: sig::SIGCHLD, code: sig::CLD_CONTINUED, pid_or_addr: pid as u64, uid: 0, status: sig::SIGCONT as i32 };
            self.send(ppid, info, 0);
        }
    }

    /// SA_NOCLDSTOP on the parent's SIGCHLD: no SIGCHLD for stops and
    /// continues.
    fn nocldstop(&self, ppid: u32) -> bool {
        const SA_NOCLDSTOP: u64 = 1;
        self.procs.get(&ppid).is_some_and(|p| p.sig.actions[sig::SIGCHLD as usize - 1].flags & SA_NOCLDSTOP != 0)
    }

    /// After an Interrupted stop: a call another server cut short (it left
    /// RESTARTSYS in RAX) that no handler took over runs again, as Linux
    /// restarts a call whose signal was ignored.
    pub(crate) fn settle_restart(&mut self, thread: ThreadId) {
        let Ok(mut ctx) = mem::get_context(thread) else { return };
        if ctx.regs.rax == lstar_abi::errno::RESTARTSYS_RET || ctx.regs.rax == lstar_abi::errno::RESTARTNOHAND_RET {
            ctx.regs.rax = ctx.regs.orig_rax;
            ctx.regs.rip -= 2;
            ctx.regs.rcx = ctx.regs.rip;
            let _ = mem::set_context(thread, &ctx);
        }
    }

    /// The reply to a thread waiting on this server, after delivering what
    /// is pending: `result` is the syscall's value (None for a fault or an
    /// interrupted return, whose registers stay as they are).
    pub(crate) fn finish(&mut self, pid: u32, thread: ThreadId, result: Option<u64>) -> Outcome {
        self.finish_with(pid, thread, result, false)
    }

    /// A blocking call ended by a signal: EINTR, unless the handler has
    /// SA_RESTART and the call is `restartable`, in which case it runs again
    /// after the handler returns.
    pub(crate) fn finish_interrupted(&mut self, pid: u32, thread: ThreadId, restartable: bool) -> Outcome {
        self.finish_with(pid, thread, Some(Errno::EINTR.to_ret()), restartable)
    }

    fn finish_with(&mut self, pid: u32, thread: ThreadId, result: Option<u64>, restartable: bool) -> Outcome {
        let reply = Outcome::Reply(result.unwrap_or(0));
        let Some(p) = self.procs.get_mut(&pid) else { return Outcome::NoReply };
        if p.ended.is_some() {
            return Outcome::NoReply;
        }
        let ready = p.sig.pending & (!p.sig.blocked | sig::UNBLOCKABLE);
        if ready == 0 {
            return reply;
        }
        let signo = ready.trailing_zeros() as u8 + 1;
        p.sig.pending &= !sig::bit(signo);
        let action = p.sig.action(signo);
        let info = p.sig.info[signo as usize - 1];
        if signo == sig::SIGKILL || action.handler == sig::SIG_DFL {
            return match sig::default_action(signo) {
                sig::Default::Terminate | sig::Default::Core => {
                    self.end(pid, Termination::Signaled(signo));
                    Outcome::NoReply
                }
                sig::Default::Stop => {
                    self.stop(pid, signo, thread, result);
                    Outcome::NoReply
                }
                sig::Default::Ignore | sig::Default::Continue => self.finish_with(pid, thread, result, restartable),
            };
        }
        if action.handler == sig::SIG_IGN {
            return self.finish_with(pid, thread, result, restartable);
        }
        match self.run_handler(pid, thread, signo, action, info, result, restartable) {
            Ok(()) => Outcome::Reply(0),
            Err(_) => {
                println!("proc: pid {pid}: cannot build a frame for {}; killed by SIGSEGV", sig::name(signo));
                self.end(pid, Termination::Signaled(sig::SIGSEGV));
                Outcome::NoReply
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // the delivery's whole context
    fn run_handler(&mut self, pid: u32, thread: ThreadId, signo: u8, action: Action, info: Info, result: Option<u64>, restartable: bool) -> Result<(), Errno> {
        let p = self.procs.get_mut(&pid).expect("checked by the caller");
        let mut ctx = mem::get_context(thread)?;
        if let Some(v) = result {
            ctx.regs.rax = v;
            if restartable && v == Errno::EINTR.to_ret() && action.flags & sig::SA_RESTART != 0 {
                ctx.regs.rax = ctx.regs.orig_rax;
                ctx.regs.rip -= 2; // the SYSCALL instruction
            }
        }
        // A call another server held was cut short for this signal.
        if ctx.regs.rax == lstar_abi::errno::RESTARTSYS_RET && action.flags & sig::SA_RESTART != 0 {
            ctx.regs.rax = ctx.regs.orig_rax;
            ctx.regs.rip -= 2;
        } else if ctx.regs.rax == lstar_abi::errno::RESTARTSYS_RET || ctx.regs.rax == lstar_abi::errno::RESTARTNOHAND_RET {
            ctx.regs.rax = Errno::EINTR.to_ret();
        }
        let on_alt = match p.sig.altstack {
            Some((sp, size)) if action.flags & sig::SA_ONSTACK != 0 && !(sp..sp + size).contains(&ctx.regs.rsp) => Some(sp + size),
            _ => None,
        };
        // After rt_sigsuspend, the handler returns to the caller's own mask.
        let restore = p.sig.saved_mask.take().unwrap_or(p.sig.blocked);
        let frame = sig::build_frame(&ctx, &action, info, restore, on_alt);
        Client(thread).write(frame.addr, &frame.bytes)?;
        mem::set_context(thread, &frame.handler)?;
        let mut block = action.mask;
        if action.flags & sig::SA_NODEFER == 0 {
            block |= sig::bit(signo);
        }
        p.sig.blocked = (p.sig.blocked | block) & !sig::UNBLOCKABLE;
        if action.flags & sig::SA_RESETHAND != 0 {
            p.sig.actions[signo as usize - 1] = Action::default();
        }
        Ok(())
    }
}
