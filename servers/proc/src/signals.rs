//! Signals in the process server: rt_sigaction, rt_sigprocmask,
//! rt_sigreturn, kill/tkill/tgkill, sigaltstack, process groups for kill,
//! and delivery.
//!
//! As on Linux, dispositions and the signals sent to a process as a whole
//! belong to the process; the mask, the signals sent to one thread and the
//! alternate stack belong to each thread (see docs/architecture.md,
//! "Signals").
//!
//! A signal is delivered when a thread that does not block it waits on
//! this server: at the reply to one of its syscalls, at a fault, or, for a
//! thread that is running or blocked elsewhere, at the `Interrupted` stop
//! the kernel makes on its next return to user mode (`mem::interrupt`).

use super::*;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use proc_server::signal::{self as sig, Action, Info};

/// How many pending sets are not empty, and how many processes are
/// stopped: while both are 0, no syscall's reply can be due a signal or a
/// stop, and getpid is answered from the message alone (`quiet`).
static NONEMPTY_SETS: AtomicUsize = AtomicUsize::new(0);
static STOPPED_PROCS: AtomicUsize = AtomicUsize::new(0);

/// No signal is pending anywhere and no process is stopped.
pub(crate) fn quiet() -> bool {
    NONEMPTY_SETS.load(Relaxed) == 0 && STOPPED_PROCS.load(Relaxed) == 0
}

/// Signals sent and not yet taken: a process's shared set (kill,
/// sigqueue, SIGCHLD) or one thread's own (tkill, tgkill, faults).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// One bit per signal with an instance in `queue`.
    bits: u64,
    /// What is pending, in the order it was sent: at most one instance of
    /// a standard signal, every instance of a real-time one.
    queue: Vec<Info>,
}

/// Real-time signal instances one pending set may hold at once (Linux
/// counts them against RLIMIT_SIGPENDING; this bounds the memory too).
const MAX_QUEUED: usize = 4096;

impl Clone for Pending {
    fn clone(&self) -> Pending {
        let copy = Pending { bits: 0, queue: self.queue.clone() };
        copy.counted(self.bits)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.set_bits(0);
    }
}

impl Pending {
    /// One bit per signal with an instance pending.
    pub fn bits(&self) -> u64 {
        self.bits
    }

    fn counted(mut self, bits: u64) -> Pending {
        self.set_bits(bits);
        self
    }

    /// Every change of `bits` comes here, to keep NONEMPTY_SETS.
    fn set_bits(&mut self, bits: u64) {
        match (self.bits != 0, bits != 0) {
            (false, true) => NONEMPTY_SETS.fetch_add(1, Relaxed),
            (true, false) => NONEMPTY_SETS.fetch_sub(1, Relaxed),
            _ => 0,
        };
        self.bits = bits;
    }

    /// Makes `info` pending. A standard signal already pending absorbs it
    /// (the first one's siginfo stays); a real-time one queues, up to a
    /// limit, past which it is refused (false).
    pub fn post(&mut self, info: Info) -> bool {
        let bit = sig::bit(info.signo);
        if info.signo < sig::SIGRTMIN && self.bits & bit != 0 {
            return true;
        }
        if info.signo >= sig::SIGRTMIN && self.full() {
            return false;
        }
        self.queue.push(info);
        self.set_bits(self.bits | bit);
        true
    }

    /// Whether a real-time signal would be refused.
    fn full(&self) -> bool {
        self.queue.len() >= MAX_QUEUED
    }

    /// Takes the first pending instance of `signo`.
    pub fn take(&mut self, signo: u8) -> Info {
        let Some(i) = self.queue.iter().position(|q| q.signo == signo) else {
            self.set_bits(self.bits & !sig::bit(signo));
            return Info { signo, ..Info::default() };
        };
        let info = self.queue.remove(i);
        if !self.queue.iter().any(|q| q.signo == signo) {
            self.set_bits(self.bits & !sig::bit(signo));
        }
        info
    }

    /// Forgets every pending instance of the signals in `set`.
    pub fn discard(&mut self, set: u64) {
        self.queue.retain(|q| sig::bit(q.signo) & set == 0);
        self.set_bits(self.bits & !set);
    }

    /// The pending signal in `set` to take first: a fault's, else the
    /// lowest-numbered one.
    pub fn next_in(&self, set: u64) -> Option<u8> {
        let ready = self.bits & set;
        let pick = if ready & sig::SYNCHRONOUS != 0 { ready & sig::SYNCHRONOUS } else { ready };
        (pick != 0).then(|| pick.trailing_zeros() as u8 + 1)
    }
}

/// Takes the signal in `set` a thread with pending set `own` runs next:
/// its own signals first, then the process's, as Linux dequeues them.
fn take_next(own: &mut Pending, shared: &mut Pending, set: u64) -> Option<Info> {
    if let Some(signo) = own.next_in(set) {
        return Some(own.take(signo));
    }
    shared.next_in(set).map(|signo| shared.take(signo))
}

/// Per-process signal state: what each signal does, and what was sent to
/// the process as a whole.
#[derive(Clone, Debug)]
pub(crate) struct SigState {
    pub actions: [Action; sig::NSIG as usize],
    pub shared: Pending,
}

impl Default for SigState {
    fn default() -> Self {
        SigState { actions: [Action::default(); 64], shared: Pending::default() }
    }
}

impl SigState {
    /// What a child inherits at fork: the dispositions, nothing pending.
    pub fn forked(&self) -> SigState {
        SigState { actions: self.actions, ..SigState::default() }
    }

    /// execve: caught signals go back to their default; ignored stay so.
    pub fn exec(&mut self) {
        for a in self.actions.iter_mut() {
            if a.handler != sig::SIG_IGN {
                *a = Action::default();
            }
        }
    }

    fn action(&self, signo: u8) -> Action {
        self.actions[signo as usize - 1]
    }

    /// Whether taking `signo` would only stop the process: SIGSTOP, or a
    /// job-control stop left at its default.
    fn only_stops(&self, signo: u8) -> bool {
        self.action(signo).handler == sig::SIG_DFL && sig::default_action(signo) == sig::Default::Stop
    }

    /// Whether `signo`'s disposition would do anything if it were
    /// delivered now (so it is worth interrupting a thread for).
    fn matters(&self, signo: u8) -> bool {
        let a = self.action(signo);
        if signo == sig::SIGKILL {
            return true;
        }
        if a.handler == sig::SIG_IGN {
            return false;
        }
        // SIGCONT's continuing is done when it is sent (`send`).
        a.handler != sig::SIG_DFL || !matches!(sig::default_action(signo), sig::Default::Ignore | sig::Default::Continue)
    }
}

/// Per-thread signal state, as Linux keeps it per task: the mask, the
/// signals sent to this thread alone, and the alternate stack.
#[derive(Clone, Debug, Default)]
pub(crate) struct ThreadSig {
    pub blocked: u64,
    pub pending: Pending,
    /// sigaltstack's stack (size 0: none).
    pub altstack: sig::AltStack,
    /// rt_sigsuspend's caller mask, restored when the handler returns.
    pub saved_mask: Option<u64>,
}

impl ThreadSig {
    /// A thread that clone starts: its creator's mask, no alternate stack.
    pub fn cloned(&self) -> ThreadSig {
        ThreadSig { blocked: self.blocked, ..ThreadSig::default() }
    }

    /// The one thread of a forked child: the caller's mask and alternate
    /// stack, nothing pending.
    pub fn forked(&self) -> ThreadSig {
        ThreadSig { blocked: self.blocked, altstack: self.altstack, ..ThreadSig::default() }
    }
}

impl Process {
    /// Forgets the pending instances of `set`, the process's and every
    /// thread's.
    fn discard_everywhere(&mut self, set: u64) {
        self.sig.shared.discard(set);
        for t in self.threads.values_mut() {
            t.sig.pending.discard(set);
        }
    }

    /// The signals pending for `thread`: its own and the process's.
    fn pending_for(&self, thread: ThreadId) -> u64 {
        self.sig.shared.bits() | self.threads.get(&thread).map_or(0, |t| t.sig.pending.bits())
    }
}

/// A thread in rt_sigtimedwait: answered with the first signal of `set`
/// to arrive, with EAGAIN at `deadline` (monotonic ns), or with EINTR when
/// a handler runs for another signal.
pub(crate) struct SigWaiter {
    pub pid: u32,
    pub thread: ThreadId,
    pub set: u64,
    pub info_ptr: u64,
    pub deadline: Option<u64>,
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
            // A disposition that ignores the signal discards what is
            // pending of it, blocked or not (SIG_DFL too, for a signal
            // whose default is to do nothing).
            if sig::ignored_by(new.handler, signo) {
                p.discard_everywhere(sig::bit(signo));
            }
        }
        Ok(0)
    }

    /// rt_sigprocmask(2): the calling thread's mask only.
    pub(crate) fn rt_sigprocmask(&mut self, client: Client, pid: u32, a: [u64; 6]) -> Result<u64, Errno> {
        const SIG_BLOCK: u64 = 0;
        const SIG_UNBLOCK: u64 = 1;
        const SIG_SETMASK: u64 = 2;
        let (how, set, oset, size) = (a[0], a[1], a[2], a[3]);
        if size != SIGSET_SIZE {
            return Err(Errno::EINVAL);
        }
        let thread = client.0;
        let old = self.procs[&pid].threads[&thread].sig.blocked;
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
            let new = new & !sig::UNBLOCKABLE;
            let p = self.procs.get_mut(&pid).expect("caller exists");
            p.threads.get_mut(&thread).expect("caller's thread").sig.blocked = new;
            // What the process was sent and this thread now blocks goes
            // to a thread that takes it, as Linux passes it on.
            let passed = p.sig.shared.bits() & new & !old;
            self.retarget(pid, passed, thread);
        }
        Ok(0)
    }

    /// rt_sigpending: what is pending for the calling thread (its own and
    /// the process's) and blocked; a size up to the kernel's own is accepted, and that
    /// many bytes of the set are written.
    pub(crate) fn rt_sigpending(&mut self, client: Client, pid: u32, set: u64, size: u64) -> Result<u64, Errno> {
        if size > SIGSET_SIZE {
            return Err(Errno::EINVAL);
        }
        let p = &self.procs[&pid];
        let blocked = p.threads[&client.0].sig.blocked;
        client.write(set, &(p.pending_for(client.0) & blocked).to_le_bytes()[..size as usize])?;
        Ok(0)
    }

    /// sigaltstack(2), the calling thread's: the old stack is reported
    /// only if the call succeeds; SS_ONSTACK says the caller runs on it.
    pub(crate) fn sigaltstack(&mut self, client: Client, pid: u32, ss: u64, old: u64) -> Result<u64, Errno> {
        let new = if ss != 0 {
            let mut b = [0u8; 24];
            client.read(ss, &mut b)?;
            Some(sig::AltStack::parse(&b))
        } else {
            None
        };
        let rsp = mem::get_context(client.0)?.regs.rsp;
        let t = self.procs.get_mut(&pid).expect("caller exists").threads.get_mut(&client.0).expect("caller's thread");
        let cur = t.sig.altstack;
        if let Some((sp, flags, size)) = new {
            t.sig.altstack = cur.change(rsp, sp, flags, size)?;
        }
        if old != 0 {
            client.write(old, &cur.to_bytes(rsp))?;
        }
        Ok(0)
    }

    /// rt_sigsuspend (and pause, with `mask` None): the calling thread
    /// waits with a temporary mask until a signal runs a handler or ends the process; returns
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
            let t = self.procs.get_mut(&pid).expect("caller exists").threads.get_mut(&thread).expect("caller's thread");
            t.sig.saved_mask = Some(t.sig.blocked);
            t.sig.blocked = u64::from_le_bytes(b) & !sig::UNBLOCKABLE;
        }
        let p = &self.procs[&pid];
        let ready = p.pending_for(thread) & !p.threads[&thread].sig.blocked;
        let ready: Vec<u8> = signals_in(ready).filter(|&s| p.sig.matters(s)).collect();
        if ready.iter().any(|&s| !p.sig.only_stops(s)) {
            return self.finish_interrupted(pid, thread, false);
        }
        // Nothing ready, or a stop only: the wait goes on, across the stop
        // (as `wake` does for a stop that comes during it).
        self.suspended.push((pid, thread));
        if let Some(&signo) = ready.first() {
            self.stop_waiting(pid, thread, signo);
        }
        Outcome::NoReply
    }

    /// A write the file server forwarded because it met a pipe with no
    /// reader: SIGPIPE for the writing thread, then `answer` (the count
    /// written, or -EPIPE), the signal taken at that answer.
    pub(crate) fn sigpipe(&mut self, pid: u32, thread: ThreadId, answer: u64) -> Outcome {
        self.send_thread(pid, thread, Info::sent(sig::SIGPIPE, sig::SI_KERNEL, 0), Some(thread));
        Outcome::Reply(answer)
    }

    /// ppoll and pselect6 come here first, for their signal mask, then go
    /// on to the file server, which waits for the descriptors. The mask is
    /// the caller's while the call waits, as rt_sigsuspend's is: the
    /// caller's own is put aside, and the thread is asked to stop on its
    /// way back (quietly: the wait goes on), where `poll_mask_ends` and
    /// `poll_mask_left` give it back. A signal the new mask lets through
    /// ends the wait (a Cancel to the file server) unless a descriptor is
    /// ready at once, as on Linux.
    pub(crate) fn masked_poll(&mut self, thread: ThreadId, pid: u32, nr: u64, a: [u64; 6]) -> Outcome {
        let Some(fs) = self.fs else { return Outcome::Reply(Errno::ENOSYS.to_ret()) };
        let mask = match poll_mask(Client(thread), nr, a) {
            Ok(mask) => mask,
            Err(e) => return Outcome::Reply(e.to_ret()),
        };
        let mut wakes = false;
        if let Some(mask) = mask {
            let t = self.procs.get_mut(&pid).and_then(|p| p.threads.get_mut(&thread)).expect("the caller's thread");
            let old = t.sig.blocked;
            t.sig.saved_mask.get_or_insert(old);
            t.sig.blocked = mask & !sig::UNBLOCKABLE;
            wakes = self.mask_changed(pid, thread, old);
            if let Err(e) = mem::interrupt_quiet(thread) {
                println!("proc: cannot ask thread {thread} to stop after ppoll: {}", e.text());
            }
        }
        // The call goes on as it is: the file server checks the mask's
        // size and address again and leaves the mask alone.
        if let Err(e) = libsys::forward(thread, fs, a[5]) {
            self.poll_mask_left(pid, thread);
            return Outcome::Reply(e.to_ret());
        }
        if wakes {
            if let Err(e) = mem::interrupt(thread) {
                println!("proc: cannot interrupt thread {thread} of pid {pid}: {}", e.text());
            }
        }
        Outcome::NoReply
    }

    /// `thread` changed its mask from `old`: what the process was sent and
    /// it now blocks goes to another thread. Whether a signal it now lets
    /// through is pending for it.
    fn mask_changed(&mut self, pid: u32, thread: ThreadId, old: u64) -> bool {
        let p = &self.procs[&pid];
        let new = p.threads[&thread].sig.blocked;
        let passed = p.sig.shared.bits() & new & !old;
        let ready = p.pending_for(thread) & !new;
        let wakes = (1..=sig::NSIG).any(|s| ready & sig::bit(s) != 0 && p.sig.matters(s));
        self.retarget(pid, passed, thread);
        wakes
    }

    /// At a thread's Interrupted stop, first: a ppoll or pselect6 that
    /// waited with its own mask and was not ended by a signal gives the
    /// caller's own mask back before anything is delivered (Linux restores
    /// it at once then; after EINTR the handler runs with the call's mask
    /// and its frame holds the caller's).
    pub(crate) fn poll_mask_ends(&mut self, pid: u32, thread: ThreadId) {
        let waited = self.procs.get(&pid).and_then(|p| p.threads.get(&thread)).is_some_and(|t| t.sig.saved_mask.is_some());
        if !waited {
            return;
        }
        let interrupted = mem::get_context(thread).is_ok_and(|c| {
            let rax = c.regs.rax;
            rax == Errno::EINTR.to_ret() || rax == lstar_abi::errno::RESTARTNOHAND_RET || rax == lstar_abi::errno::RESTARTSYS_RET
        });
        if !interrupted {
            self.poll_mask_left(pid, thread);
        }
    }

    /// The caller's own mask, if a ppoll or pselect6 still has it put
    /// aside (no handler's frame took it), is the thread's again.
    pub(crate) fn poll_mask_left(&mut self, pid: u32, thread: ThreadId) {
        let Some(t) = self.procs.get_mut(&pid).and_then(|p| p.threads.get_mut(&thread)) else { return };
        let Some(saved) = t.sig.saved_mask.take() else { return };
        let old = core::mem::replace(&mut t.sig.blocked, saved);
        let _ = self.mask_changed(pid, thread, old);
    }

    /// rt_sigreturn: restore what the frame at RSP saved.
    pub(crate) fn rt_sigreturn(&mut self, client: Client, pid: u32) -> Outcome {
        let thread = client.0;
        let r = (|| -> Result<u64, Errno> {
            let mut ctx = mem::get_context(thread)?;
            let mut uc = [0u8; 304];
            client.read(ctx.regs.rsp, &mut uc)?;
            let mask = sig::restore(&mut ctx, &uc);
            // A frame without x87/SSE state leaves the initial one, as on
            // Linux.
            match sig::fpstate(&uc) {
                0 => ctx.fpu = lstar_abi::native::FPU_INIT,
                fp => client.read(fp, &mut ctx.fpu)?,
            }
            mem::set_context(thread, &ctx)?;
            let t = self.procs.get_mut(&pid).expect("caller exists").threads.get_mut(&thread).ok_or(Errno::ESRCH)?;
            t.sig.blocked = mask & !sig::UNBLOCKABLE;
            // The alternate stack as the interrupted code had it (this
            // re-arms an SS_AUTODISARM one); a refused change is ignored.
            let (sp, flags, size) = sig::AltStack::parse(&sig::uc_stack(&uc));
            if let Ok(stack) = t.sig.altstack.change(ctx.regs.rsp, sp, flags, size) {
                t.sig.altstack = stack;
            }
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

    /// kill(2) from `thread` of process `from`: pid > 0 one process, 0 the
    /// caller's group, -1 every process but pid 1 and the caller, < -1 the
    /// group -pid. As on Linux, the processes are found before the signal
    /// number is checked.
    pub(crate) fn kill(&mut self, thread: ThreadId, from: u32, target: i32, signo: u64) -> Result<u64, Errno> {
        if target == i32::MIN {
            return Err(Errno::ESRCH); // -INT_MIN names no group
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
        let signo = valid_signal(signo)?;
        if let Some(signo) = signo {
            for pid in targets {
                self.send(pid, Info::sent(signo, sig::SI_USER, from), Some(thread));
            }
        }
        Ok(0)
    }

    /// tkill(2) (`tgid` None) and tgkill(2) from `thread` of process
    /// `from`: ids must be positive; the thread must exist (in thread group
    /// `tgid`) before the signal is checked. The signal is that thread's.
    pub(crate) fn tgkill(&mut self, thread: ThreadId, from: u32, tgid: Option<i32>, tid: i32, signo: u64) -> Result<u64, Errno> {
        if tid <= 0 || tgid.is_some_and(|g| g <= 0) {
            return Err(Errno::EINVAL);
        }
        let pid = self.thread_group(tid as u32).ok_or(Errno::ESRCH)?;
        if tgid.is_some_and(|g| g as u32 != pid) {
            return Err(Errno::ESRCH);
        }
        if let Some(signo) = valid_signal(signo)? {
            // A process that ended but is not reaped has no threads left.
            if let Some(to) = self.thread_of(pid, tid as u32) {
                self.send_thread(pid, to, Info::sent(signo, sig::SI_TKILL, from), Some(thread));
            }
        }
        Ok(0)
    }

    /// The thread of `pid` whose Linux id is `tid`.
    fn thread_of(&self, pid: u32, tid: u32) -> Option<ThreadId> {
        self.procs.get(&pid)?.threads.iter().find(|(_, t)| t.tid == tid).map(|(&id, _)| id)
    }

    /// The process whose thread has Linux id `tid` (a process that ended
    /// but is not reaped still answers to its own pid, as on Linux).
    fn thread_group(&self, tid: u32) -> Option<u32> {
        if self.procs.contains_key(&tid) {
            return Some(tid);
        }
        self.procs.values().find(|p| p.threads.values().any(|t| t.tid == tid)).map(|p| p.pid)
    }

    /// rt_sigqueueinfo(2) (`tid` None) and rt_tgsigqueueinfo(2): a signal
    /// with a siginfo of the caller's making. Only the calling thread may
    /// claim to be kill or the kernel (si_code >= 0 or SI_TKILL), and only
    /// to an id equal to its own thread id, as Linux compares them.
    pub(crate) fn sigqueueinfo(&mut self, client: Client, from: u32, tgid: i32, tid: Option<i32>, signo: u64, uinfo: u64) -> Result<u64, Errno> {
        let mut b = [0u8; 128];
        client.read(uinfo, &mut b)?;
        let info = Info::from_user(signo as u8, &b);
        let my_tid = self.procs[&from].threads.get(&client.0).map_or(from, |t| t.tid) as i32;
        let impersonates = info.code >= 0 || info.code == sig::SI_TKILL;
        let (pid, to) = match tid {
            Some(tid) => {
                if tgid <= 0 || tid <= 0 {
                    return Err(Errno::EINVAL);
                }
                if impersonates && tid != my_tid {
                    return Err(Errno::EPERM);
                }
                match self.thread_group(tid as u32) {
                    Some(pid) if pid == tgid as u32 => (pid, self.thread_of(pid, tid as u32)),
                    _ => return Err(Errno::ESRCH),
                }
            }
            None => {
                if impersonates && tgid != my_tid {
                    return Err(Errno::EPERM);
                }
                match u32::try_from(tgid) {
                    Ok(pid) if self.procs.contains_key(&pid) => (pid, None),
                    _ => return Err(Errno::ESRCH),
                }
            }
        };
        let Some(signo) = valid_signal(signo)? else { return Ok(0) };
        let info = Info { signo, ..info };
        let p = self.procs.get(&pid).expect("found above");
        let queue = match to {
            Some(t) => p.threads.get(&t).map(|t| &t.sig.pending),
            None => Some(&p.sig.shared),
        };
        // A real-time signal that cannot be queued is refused, not lost.
        if signo >= sig::SIGRTMIN && p.ended.is_none() && queue.is_some_and(|q| q.full()) {
            return Err(Errno::EAGAIN);
        }
        match to {
            Some(to) => self.send_thread(pid, to, info, Some(client.0)),
            None if tid.is_none() => self.send(pid, info, Some(client.0)),
            // A thread of a process that ended but is not reaped.
            None => {}
        }
        Ok(0)
    }

    /// rt_sigtimedwait(2): takes a pending signal of the set without
    /// running its handler, or waits for one until the timeout (EAGAIN).
    pub(crate) fn sigtimedwait(&mut self, thread: ThreadId, pid: u32, a: [u64; 6]) -> Outcome {
        let (set_ptr, info_ptr, ts_ptr, size) = (a[0], a[1], a[2], a[3]);
        let client = Client(thread);
        let r = (|| -> Result<(u64, Option<u64>), Errno> {
            if size != SIGSET_SIZE {
                return Err(Errno::EINVAL);
            }
            let mut b = [0u8; 8];
            client.read(set_ptr, &mut b)?;
            let set = u64::from_le_bytes(b) & !sig::UNBLOCKABLE;
            let timeout = if ts_ptr != 0 { Some(time::read_timespec(client, ts_ptr)?) } else { None };
            Ok((set, timeout))
        })();
        let (set, timeout) = match r {
            Ok(v) => v,
            Err(e) => return Outcome::Reply(e.to_ret()),
        };
        let Some(p) = self.procs.get_mut(&pid) else { return Outcome::NoReply };
        let Some(t) = p.threads.get_mut(&thread) else { return Outcome::NoReply };
        if let Some(info) = take_next(&mut t.sig.pending, &mut p.sig.shared, set) {
            return Outcome::Reply(give_siginfo(client, info_ptr, info));
        }
        let deadline = match timeout {
            Some(0) => return Outcome::Reply(Errno::EAGAIN.to_ret()),
            Some(ns) => match mem::clock(lstar_abi::native::clock::MONOTONIC) {
                Ok(now) => Some(now.saturating_add(ns)),
                Err(e) => return Outcome::Reply(e.to_ret()),
            },
            None => None,
        };
        self.sigwaiters.push(SigWaiter { pid, thread, set, info_ptr, deadline });
        if deadline.is_some() {
            self.arm_timer();
        }
        Outcome::NoReply
    }

    /// The earliest rt_sigtimedwait deadline, for the server's one timer.
    pub(crate) fn next_sigwait_deadline(&self) -> Option<u64> {
        self.sigwaiters.iter().filter_map(|w| w.deadline).min()
    }

    /// The timer fired: rt_sigtimedwait calls past their deadline end with
    /// EAGAIN.
    pub(crate) fn expire_sigwaiters(&mut self) {
        let Ok(now) = mem::clock(lstar_abi::native::clock::MONOTONIC) else { return };
        let (due, rest): (Vec<SigWaiter>, Vec<SigWaiter>) = core::mem::take(&mut self.sigwaiters).into_iter().partition(|w| w.deadline.is_some_and(|d| d <= now));
        self.sigwaiters = rest;
        for w in due {
            let out = self.finish(w.pid, w.thread, Some(Errno::EAGAIN.to_ret()));
            reply_to(w.thread, out);
        }
        self.arm_timer();
    }

    /// The set `thread` waits for in rt_sigtimedwait (0 if it does not).
    /// Linux unblocks it for the wait, so a signal sent to the process
    /// can be routed to the waiting thread.
    fn sigwait_set(&self, thread: ThreadId) -> u64 {
        self.sigwaiters.iter().find(|w| w.thread == thread).map_or(0, |w| w.set)
    }

    /// `signo` was just made pending for `thread` (or its process): if the
    /// thread waits for it in rt_sigtimedwait, it takes it there (true).
    fn answer_sigwaiter(&mut self, pid: u32, thread: ThreadId, signo: u8) -> bool {
        let Some(i) = self.sigwaiters.iter().position(|w| w.thread == thread && w.set & sig::bit(signo) != 0) else { return false };
        let w = self.sigwaiters.remove(i);
        if w.deadline.is_some() {
            self.arm_timer();
        }
        let Some(p) = self.procs.get_mut(&pid) else { return true };
        let Some(t) = p.threads.get_mut(&thread) else { return true };
        let Some(info) = take_next(&mut t.sig.pending, &mut p.sig.shared, sig::bit(signo)) else { return false };
        let value = give_siginfo(Client(w.thread), w.info_ptr, info);
        let out = self.finish(pid, w.thread, Some(value));
        reply_to(w.thread, out);
        true
    }

    /// A handled signal ends `thread`'s rt_sigtimedwait, if it is in one.
    fn interrupt_sigwait(&mut self, thread: ThreadId) -> bool {
        let Some(i) = self.sigwaiters.iter().position(|w| w.thread == thread) else { return false };
        let w = self.sigwaiters.remove(i);
        if w.deadline.is_some() {
            self.arm_timer();
        }
        true
    }

    /// A signal for process `pid` as a whole (kill, sigqueue, SIGCHLD, the
    /// terminal's): any of its threads that does not block it may take it.
    /// `caller` is the thread whose syscall is being handled, if any (it
    /// takes its signals at the reply).
    pub(crate) fn send(&mut self, pid: u32, info: Info, caller: Option<ThreadId>) {
        self.post_signal(pid, None, info, caller);
    }

    /// A signal for one thread of `pid` (tkill, tgkill,
    /// rt_tgsigqueueinfo): only that thread takes it.
    pub(crate) fn send_thread(&mut self, pid: u32, thread: ThreadId, info: Info, caller: Option<ThreadId>) {
        self.post_signal(pid, Some(thread), info, caller);
    }

    /// Marks a signal pending, for thread `to` or the whole process, and
    /// makes sure a thread stops to take it.
    fn post_signal(&mut self, pid: u32, to: Option<ThreadId>, info: Info, caller: Option<ThreadId>) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        if p.ended.is_some() {
            return;
        }
        let bit = sig::bit(info.signo);
        const STOPS: u64 = sig::bit(sig::SIGSTOP) | sig::bit(sig::SIGTSTP) | sig::bit(sig::SIGTTIN) | sig::bit(sig::SIGTTOU);
        // SIGCONT continues a stopped process whatever its disposition, and
        // cancels pending stops; a stop signal cancels a pending SIGCONT.
        if info.signo == sig::SIGCONT {
            p.discard_everywhere(STOPS);
            if p.stopped.get().is_some() {
                self.resume(pid);
            }
        } else if bit & STOPS != 0 {
            p.discard_everywhere(sig::bit(sig::SIGCONT));
        }
        let Some(p) = self.procs.get_mut(&pid) else { return };
        // A stopped process takes nothing but SIGCONT and SIGKILL, and
        // SIGKILL ends it at once (its threads are held here, not running).
        if p.stopped.get().is_some() && info.signo == sig::SIGKILL {
            self.end(pid, Termination::Signaled(sig::SIGKILL));
            return;
        }
        // An ignored signal is discarded when sent, unless its target
        // blocks it (the disposition may change before it is unblocked),
        // as on Linux; for a process, the target is its main thread.
        let ignored = sig::ignored_by(p.sig.action(info.signo).handler, info.signo);
        let target = to.unwrap_or(p.main);
        let Some(t) = p.threads.get_mut(&target) else { return };
        if ignored && t.sig.blocked & bit == 0 {
            return;
        }
        let queued = match to {
            Some(_) => t.sig.pending.post(info),
            None => p.sig.shared.post(info),
        };
        if queued {
            self.wake(pid, to, info.signo, caller);
        }
    }

    /// `signo` is pending for thread `to` (None: for process `pid`): a
    /// thread waiting for it in rt_sigtimedwait takes it; else the thread
    /// that should run it is made to stop and take it, unless that is
    /// `caller`, which takes it at its reply.
    fn wake(&mut self, pid: u32, to: Option<ThreadId>, signo: u8, caller: Option<ThreadId>) {
        let Some(target) = to.or_else(|| self.pick_thread(pid, signo, caller)) else { return };
        if self.answer_sigwaiter(pid, target, signo) {
            return;
        }
        let Some(p) = self.procs.get(&pid) else { return };
        let Some(t) = p.threads.get(&target) else { return };
        if t.sig.blocked & sig::bit(signo) != 0 || !p.sig.matters(signo) || Some(target) == caller {
            return;
        }
        // A stopped process takes its signals when continued (resume
        // wakes its threads again).
        if p.stopped.get().is_some() {
            return;
        }
        // A stop for a thread waiting here: the wait goes on across the
        // stop, as on Linux, where the call restarts after SIGCONT (a
        // sleep keeps its end, wait4 its child, sigsuspend its mask).
        if p.sig.only_stops(signo) && self.waits_here(target) {
            self.stop_waiting(pid, target, signo);
            return;
        }
        self.interrupt_thread(pid, target);
    }

    /// `thread`, waiting in a call held here, takes stop signal `signo`
    /// (pending for it): the process stops (unless the stop is dropped)
    /// and the wait goes on across the stop.
    fn stop_waiting(&mut self, pid: u32, thread: ThreadId, signo: u8) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        let Some(t) = p.threads.get_mut(&thread) else { return };
        if take_next(&mut t.sig.pending, &mut p.sig.shared, sig::bit(signo)).is_some() && !self.stop_discarded(pid, signo) {
            self.stop(pid, signo, None);
        }
    }

    /// A job-control stop (SIGTSTP, SIGTTIN, SIGTTOU at their default)
    /// for a process in an orphaned group is discarded, as on Linux: no
    /// shell could ever continue it. SIGSTOP always stops.
    fn stop_discarded(&self, pid: u32, signo: u8) -> bool {
        signo != sig::SIGSTOP && self.procs.get(&pid).is_some_and(|p| self.orphaned(p.pgid))
    }

    /// Whether `thread` waits in a call held here (sleep, futex, wait4,
    /// rt_sigsuspend, rt_sigtimedwait).
    fn waits_here(&self, thread: ThreadId) -> bool {
        self.suspended.iter().any(|&(_, t)| t == thread)
            || self.sleepers.iter().any(|s| s.thread == thread)
            || self.futexes.iter().any(|w| w.thread == thread)
            || self.sigwaiters.iter().any(|w| w.thread == thread)
            || self.waiters.values().any(|w| w.thread == thread)
    }

    /// The thread that takes a signal sent to process `pid`, as Linux
    /// chooses: the main thread if it does not block it, else the calling
    /// thread, else the first that does not (None: all block it; it waits
    /// in the process's set until one unblocks it).
    fn pick_thread(&self, pid: u32, signo: u8, caller: Option<ThreadId>) -> Option<ThreadId> {
        let p = self.procs.get(&pid)?;
        let bit = sig::bit(signo);
        let open = |id: ThreadId| p.threads.get(&id).is_some_and(|t| t.sig.blocked & !self.sigwait_set(id) & bit == 0);
        if open(p.main) {
            return Some(p.main);
        }
        if let Some(c) = caller.filter(|&c| open(c)) {
            return Some(c);
        }
        p.threads.keys().copied().find(|&id| open(id))
    }

    /// Signals of `set` pending for process `pid` that thread `from` no
    /// longer takes (it blocked them, or ended) go to another thread.
    pub(crate) fn retarget(&mut self, pid: u32, set: u64, from: ThreadId) {
        for signo in 1..=sig::NSIG {
            if set & sig::bit(signo) != 0 {
                self.wake(pid, None, signo, Some(from));
            }
        }
    }

    /// Ends the wait of `thread` (held here) for a signal: EINTR, or a
    /// restart under SA_RESTART for the waits Linux restarts (wait4 and
    /// an untimed futex wait; a sleep, a timed futex wait, sigsuspend and
    /// sigtimedwait never are). A thread not held here is interrupted on
    /// its way back to user mode.
    fn interrupt_thread(&mut self, pid: u32, thread: ThreadId) {
        let restartable = if let Some(i) = self.suspended.iter().position(|&(_, t)| t == thread) {
            self.suspended.remove(i);
            Some(false)
        } else if self.interrupt_sleep(thread) {
            Some(false)
        } else if let Some(timed) = self.interrupt_futex(thread) {
            Some(!timed)
        } else if self.interrupt_sigwait(thread) {
            Some(false)
        } else if self.waiters.get(&pid).is_some_and(|w| w.thread == thread) {
            self.waiters.remove(&pid);
            Some(true)
        } else {
            None
        };
        if let Some(restartable) = restartable {
            let out = self.finish_interrupted(pid, thread, restartable);
            reply_to(thread, out);
        } else if let Err(e) = mem::interrupt(thread) {
            println!("proc: cannot interrupt thread {thread} of pid {pid}: {}", e.text());
        }
    }

    /// Forgets whatever wait `thread` was in here (it is ending).
    pub(crate) fn forget_waits(&mut self, thread: ThreadId) {
        self.suspended.retain(|&(_, t)| t != thread);
        self.sigwaiters.retain(|w| w.thread != thread);
        self.futexes.retain(|w| w.thread != thread);
        self.remove_sleeper(thread);
    }

    /// Whether SIGKILL is pending for `pid` (it ends even a stopped process).
    pub(crate) fn kill_pending(&self, pid: u32) -> bool {
        let kill = sig::bit(sig::SIGKILL);
        self.procs.get(&pid).is_some_and(|p| p.sig.shared.bits() & kill != 0 || p.threads.values().any(|t| t.sig.pending.bits() & kill != 0))
    }

    /// A stop signal's default action: the process stops. `taker`, the
    /// thread that took the signal on its way out of this server, is held
    /// with its reply and restart flag (finish_with's arguments); None
    /// when the taker stays in a wait here. The other threads are held as
    /// they arrive, and the parent hears of it once all are.
    fn stop(&mut self, pid: u32, signo: u8, taker: Option<(ThreadId, Option<u64>, bool)>) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        p.stopped.set(Some(signo));
        if let Some(held) = taker {
            p.held.push(held);
        }
        // The others stop on their way to user mode (finish_with holds
        // them); those waiting here stay in their waits. The parent hears
        // of the stop once all have stopped.
        let others: Vec<ThreadId> = p.threads.keys().copied().filter(|&t| Some(t) != taker.map(|(t, _, _)| t)).collect();
        let running: Vec<ThreadId> = others.into_iter().filter(|&t| !self.waits_here(t)).collect();
        for &t in &running {
            let _ = mem::interrupt(t);
        }
        let p = self.procs.get_mut(&pid).expect("looked up above");
        p.stopping = running;
        if p.stopping.is_empty() {
            self.report_stop(pid);
        }
    }

    /// Thread `thread` of `pid` is held for its process's stop, or ends:
    /// the stop is reported when it was the last one it waited for.
    pub(crate) fn stop_arrived(&mut self, pid: u32, thread: ThreadId) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        let Some(i) = p.stopping.iter().position(|&t| t == thread) else { return };
        p.stopping.remove(i);
        if p.stopping.is_empty() && p.stopped.get().is_some() {
            self.report_stop(pid);
        }
    }

    /// Every thread of `pid` has stopped: its parent hears of it (wait4's
    /// WUNTRACED, and SIGCHLD unless SA_NOCLDSTOP).
    fn report_stop(&mut self, pid: u32) {
        let Some(p) = self.procs.get(&pid) else { return };
        let (Some(signo), ppid) = (p.stopped.get(), p.ppid) else { return };
        self.job_event(pid, super::JobEvent::Stopped(signo));
        if !self.nocldstop(ppid) {
            let info = Info::child(sig::CLD_STOPPED, pid, signo as i32);
            self.send(ppid, info, None);
        }
    }

    /// SIGCONT on a stopped process: its held threads go on.
    fn resume(&mut self, pid: u32) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        p.stopped.set(None);
        p.stopping.clear();
        let held = core::mem::take(&mut p.held);
        let ppid = p.ppid;
        // The parent hears of the continue before anything its threads
        // then do (a signal taken now may end the process), as on Linux.
        self.job_event(pid, super::JobEvent::Continued);
        if !self.nocldstop(ppid) {
            let info = Info::child(sig::CLD_CONTINUED, pid, sig::SIGCONT as i32);
            self.send(ppid, info, None);
        }
        for (thread, value, restartable) in held {
            let out = self.finish_with(pid, thread, value, restartable);
            // A thread stopped on its way back from another server's
            // cut-short call restarts that call, as after any stop, and
            // a ppoll's own mask comes back (as at an `Interrupted` stop).
            if value.is_none() && matches!(out, Outcome::Reply(_)) {
                self.settle_restart(thread);
                self.poll_mask_left(pid, thread);
            }
            reply_to(thread, out);
        }
        // Threads still waiting here take what came while stopped.
        self.wake_pending(pid);
    }

    /// Wakes, for each signal pending in process `pid` (its own or one
    /// of its threads'), the thread that should take it: what a stopped
    /// process was sent is taken when it continues.
    fn wake_pending(&mut self, pid: u32) {
        let Some(p) = self.procs.get(&pid) else { return };
        let shared = p.sig.shared.bits();
        let own: Vec<(ThreadId, u64)> = p.threads.iter().map(|(&t, th)| (t, th.sig.pending.bits())).filter(|&(_, b)| b != 0).collect();
        // Each is looked for again before its wake: an earlier one may
        // have delivered it (and a needless wake cuts an fs call short).
        let still = |procs: &Procs, t: Option<ThreadId>, signo: u8| {
            procs.procs.get(&pid).is_some_and(|p| match t {
                Some(t) => p.threads.get(&t).is_some_and(|th| th.sig.pending.bits() & sig::bit(signo) != 0),
                None => p.sig.shared.bits() & sig::bit(signo) != 0,
            })
        };
        for (t, bits) in own {
            for signo in signals_in(bits) {
                if still(self, Some(t), signo) {
                    self.wake(pid, Some(t), signo, None);
                }
            }
        }
        for signo in signals_in(shared) {
            if still(self, None, signo) {
                self.wake(pid, None, signo, None);
            }
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
        if cut_short(&ctx) {
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

    /// Delivers what is pending for `thread` (its own signals and its
    /// process's) and not blocked by it, then answers it. Each
    /// signal with a handler gets a frame; the next one's frame goes on top
    /// of it (so it runs first), as Linux does before returning to user
    /// mode, until none is left that the handlers' masks let through.
    fn finish_with(&mut self, pid: u32, thread: ThreadId, result: Option<u64>, restartable: bool) -> Outcome {
        if quiet() {
            // Nothing pending anywhere: only whether the thread may still
            // be answered (as the loop's first pass decides).
            let alive = self.procs.get(&pid).is_some_and(|p| p.ended.is_none() && p.threads.contains_key(&thread));
            return if alive { Outcome::Reply(result.unwrap_or(0)) } else { Outcome::NoReply };
        }
        // A stopped process's threads wait here until SIGCONT, whether
        // their call ended or they were on their way to user mode
        // (SIGKILL still ends it).
        if self.procs.get(&pid).is_some_and(|p| p.ended.is_none() && p.stopped.get().is_some()) && !self.kill_pending(pid) {
            self.procs.get_mut(&pid).expect("looked up above").held.push((thread, result, restartable));
            self.stop_arrived(pid, thread);
            return Outcome::NoReply;
        }
        let (mut result, mut restartable, mut framed) = (result, restartable, false);
        loop {
            let Some(p) = self.procs.get_mut(&pid) else { return Outcome::NoReply };
            if p.ended.is_some() {
                return Outcome::NoReply;
            }
            // A thread that ended meanwhile (execve ended the others) gets
            // no reply.
            let Some(t) = p.threads.get_mut(&thread) else { return Outcome::NoReply };
            let Some(info) = take_next(&mut t.sig.pending, &mut p.sig.shared, !t.sig.blocked | sig::UNBLOCKABLE) else {
                // After a frame, the handler starts with RAX = 0.
                return Outcome::Reply(if framed { 0 } else { result.unwrap_or(0) });
            };
            let signo = info.signo;
            let action = p.sig.action(signo);
            if signo == sig::SIGKILL || action.handler == sig::SIG_DFL {
                match sig::default_action(signo) {
                    sig::Default::Terminate | sig::Default::Core => {
                        self.end(pid, Termination::Signaled(signo));
                        return Outcome::NoReply;
                    }
                    sig::Default::Stop if self.stop_discarded(pid, signo) => continue,
                    sig::Default::Stop => {
                        self.stop(pid, signo, Some((thread, if framed { Some(0) } else { result }, restartable)));
                        return Outcome::NoReply;
                    }
                    sig::Default::Ignore | sig::Default::Continue => continue,
                }
            }
            if action.handler == sig::SIG_IGN {
                continue;
            }
            if self.run_handler(pid, thread, signo, action, info, result, restartable).is_err() {
                println!("proc: pid {pid}: cannot build a frame for {}; killed by SIGSEGV", sig::name(signo));
                self.end(pid, Termination::Signaled(sig::SIGSEGV));
                return Outcome::NoReply;
            }
            // The next frame interrupts the handler before its first
            // instruction: its registers stand as they are.
            (result, restartable, framed) = (None, false, true);
        }
    }

    #[allow(clippy::too_many_arguments)] // the delivery's whole context
    fn run_handler(&mut self, pid: u32, thread: ThreadId, signo: u8, action: Action, info: Info, result: Option<u64>, restartable: bool) -> Result<(), Errno> {
        let p = self.procs.get_mut(&pid).expect("checked by the caller");
        let t = &mut p.threads.get_mut(&thread).expect("checked by the caller").sig;
        let mut ctx = mem::get_context(thread)?;
        if let Some(v) = result {
            ctx.regs.rax = v;
            if restartable && v == Errno::EINTR.to_ret() && action.flags & sig::SA_RESTART != 0 {
                ctx.regs.rax = ctx.regs.orig_rax;
                ctx.regs.rip -= 2; // the SYSCALL instruction
            }
        }
        // A call another server held was cut short for this signal.
        if in_syscall(&ctx) && ctx.regs.rax == lstar_abi::errno::RESTARTSYS_RET && action.flags & sig::SA_RESTART != 0 {
            ctx.regs.rax = ctx.regs.orig_rax;
            ctx.regs.rip -= 2;
        } else if cut_short(&ctx) {
            ctx.regs.rax = Errno::EINTR.to_ret();
        }
        // SA_ONSTACK moves to the alternate stack unless already on it
        // (judged below the red zone, as Linux does).
        let alt = t.altstack;
        let on_alt = (action.flags & sig::SA_ONSTACK != 0 && alt.flags_at(ctx.regs.rsp.wrapping_sub(128)) & !sig::SS_AUTODISARM == 0).then_some(alt.sp + alt.size);
        // After rt_sigsuspend, the handler returns to the caller's own mask.
        let restore = t.saved_mask.take().unwrap_or(t.blocked);
        let frame = sig::build_frame(&ctx, &action, info, restore, on_alt, alt.saved_bytes());
        Client(thread).write(frame.addr, &frame.bytes)?;
        mem::set_context(thread, &frame.handler)?;
        if alt.flags & sig::SS_AUTODISARM != 0 {
            t.altstack = sig::AltStack::NONE;
        }
        let mut block = action.mask;
        if action.flags & sig::SA_NODEFER == 0 {
            block |= sig::bit(signo);
        }
        t.blocked = (t.blocked | block) & !sig::UNBLOCKABLE;
        if action.flags & sig::SA_RESETHAND != 0 {
            p.sig.actions[signo as usize - 1] = Action::default();
        }
        Ok(())
    }
}

/// Whether `ctx` is a thread's state on its way back from a syscall,
/// whose RAX may hold a restart code: after an interrupt, an exception or
/// rt_sigreturn, orig_rax is -1 (as on Linux) and RAX is the program's.
fn in_syscall(ctx: &lstar_abi::native::UserContext) -> bool {
    ctx.regs.orig_rax != u64::MAX
}

/// Whether `ctx` is on its way back from a syscall that another server (or
/// this one) cut short for a signal: RAX holds a restart code.
fn cut_short(ctx: &lstar_abi::native::UserContext) -> bool {
    in_syscall(ctx) && (ctx.regs.rax == lstar_abi::errno::RESTARTSYS_RET || ctx.regs.rax == lstar_abi::errno::RESTARTNOHAND_RET)
}

/// The signal numbers in a set, lowest first.
fn signals_in(set: u64) -> impl Iterator<Item = u8> {
    (1..=64u8).filter(move |&signo| set & sig::bit(signo) != 0)
}

/// A signal number from a syscall argument: None for 0 (only checks),
/// EINVAL past 64.
fn valid_signal(signo: u64) -> Result<Option<u8>, Errno> {
    match signo {
        0 => Ok(None),
        s if s <= sig::NSIG as u64 => Ok(Some(s as u8)),
        _ => Err(Errno::EINVAL),
    }
}

/// rt_sigtimedwait's result: the signal number, with its siginfo written
/// at `ptr` if one was given (EFAULT if that fails; the signal is taken
/// either way, as on Linux).
fn give_siginfo(client: Client, ptr: u64, info: Info) -> u64 {
    if ptr != 0 {
        if let Err(e) = client.write(ptr, &info.to_bytes()) {
            return e.to_ret();
        }
    }
    info.signo as u64
}

/// ppoll's or pselect6's signal mask (None for a null pointer), checked in
/// Linux's order: pselect6's argument pack, the timeout (readable, valid),
/// the mask's size, the mask.
fn poll_mask(client: Client, nr: u64, a: [u64; 6]) -> Result<Option<u64>, Errno> {
    let (timeout, mask, size) = if nr == nr::PSELECT6 {
        let (mut ptr, mut size) = (0, 0);
        if a[5] != 0 {
            let mut pack = [0u8; 16];
            client.read(a[5], &mut pack)?;
            ptr = u64::from_le_bytes(pack[..8].try_into().expect("8 bytes"));
            size = u64::from_le_bytes(pack[8..].try_into().expect("8 bytes"));
        }
        (a[4], ptr, size)
    } else {
        (a[2], a[3], a[4])
    };
    if timeout != 0 {
        super::time::read_timespec(client, timeout)?;
    }
    if mask == 0 {
        return Ok(None);
    }
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 8];
    client.read(mask, &mut b)?;
    Ok(Some(u64::from_le_bytes(b)))
}

/// Whether a process is stopped, and by which signal (counted in
/// STOPPED_PROCS while it is).
#[derive(Debug, Default)]
pub(crate) struct Stop(Option<u8>);

impl Stop {
    pub fn get(&self) -> Option<u8> {
        self.0
    }

    pub fn set(&mut self, signo: Option<u8>) {
        match (self.0.is_some(), signo.is_some()) {
            (false, true) => STOPPED_PROCS.fetch_add(1, Relaxed),
            (true, false) => STOPPED_PROCS.fetch_sub(1, Relaxed),
            _ => 0,
        };
        self.0 = signo;
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        self.set(None);
    }
}
