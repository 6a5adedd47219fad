//! Threads, address spaces, endpoints and the scheduler: the kernel's
//! objects and the one lock that guards them.
//!
//! The kernel runs on one CPU with interrupts off, so the lock is never
//! contended; it exists so that Rust sees one owner at a time. It must not
//! be held across a context switch: operations that switch return a
//! [`Switch`] that the caller performs after dropping the guard
//! (`try_lock` turns a violation into a panic instead of a hang).

use crate::arch::x86_64::{self as arch, cpu};
use crate::arch::x86_64::{FpuState, KernelStack};
use crate::mm::paging::AddressSpace;
use alloc::boxed::Box;
use crate::slab::Slab;
use alloc::collections::VecDeque;
use lstar_abi::native::{AsId, Personality};
use lstar_abi::{Message, MessageKind, PtRegs, ThreadId};
use spin::{Mutex, MutexGuard};

mod fastpath;

/// Index of an endpoint; endpoint `i` belongs to server `ServerId` `i`.
pub type EndpointId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Ready,
    Running,
    /// A server waiting in Recv on an endpoint.
    Receiving(EndpointId),
    /// Queued on an endpoint with a message (a forwarded syscall or a fault).
    Sending(EndpointId),
    /// Delivered; waiting for `server` to reply.
    AwaitingReply { server: ThreadId },
    Dead,
}

/// What a thread is sending while `Sending`/`AwaitingReply`.
#[derive(Clone, Copy, Debug)]
pub struct Outgoing {
    pub kind: MessageKind,
    pub nr: u64,
    pub args: [u64; 6],
}

impl Outgoing {
    /// Whether the reply is the call's result, stored in the sender's RAX
    /// (a syscall or a server's call); a fault or an interrupted return
    /// resumes with the registers its owner left.
    pub fn answered_in_rax(&self) -> bool {
        matches!(self.kind, MessageKind::Syscall | MessageKind::Call)
    }
}

pub struct Thread {
    pub id: ThreadId,
    pub personality: Personality,
    pub state: State,
    pub space: Option<AsId>,
    /// Receives this thread's faults and owns its life.
    pub owner: Option<EndpointId>,
    pub outgoing: Option<Outgoing>,
    pub fs_base: u64,
    /// Set by the owner; carried by every message this thread sends.
    pub tag: u64,
    /// The owner asked for an Interrupted message at the next exit.
    pub interrupt: bool,
    /// ... without cancelling a call another server holds
    /// (INTERRUPT_QUIET): a call sent while it is set goes on.
    pub quiet: bool,
    /// May use the I/O ports opened with NativeCall::IoPorts.
    pub io: bool,
    /// TSC ticks this thread has run for, in user and kernel mode
    /// (NativeCall::ThreadTime; getrusage and the CPU-time clocks).
    pub run_tsc: u64,
    kstack: KernelStack,
    saved_rsp: u64,
    /// Blocked where its result arrives in its registers (a forwarded
    /// call, a Recv), with nothing on its kernel stack but its PtRegs: it
    /// resumes by returning to user mode from them, directly by a
    /// hand-off of the IPC fast path (task::fastpath), or through the
    /// frame `load` lays out for a scheduler switch.
    pub parked: bool,
    pub fpu: Box<FpuState>,
}

impl Thread {
    /// Whether this thread's code uses x87/SSE state (Linux programs do;
    /// the servers and the kernel are built without SSE).
    pub fn uses_fpu(&self) -> bool {
        self.personality == Personality::Linux
    }

    /// This thread's saved user registers.
    pub fn regs(&mut self) -> &mut PtRegs {
        self.kstack.regs()
    }
}

pub struct Space {
    pub tables: AddressSpace,
    /// The address space of the server that created it (may edit it).
    pub owner: Option<AsId>,
}

pub struct Endpoint {
    /// The server address space whose threads may receive here.
    pub server_space: AsId,
    pub name: &'static str,
    pub receiver: Option<ThreadId>,
    pub senders: VecDeque<ThreadId>,
    /// Notification bits not yet received (interrupts, timers).
    pub notify: u64,
    /// A one-shot timer: (deadline in monotonic ns, bit).
    pub timer: Option<(u64, u64)>,
    /// Clients whose calls the server is asked to cancel.
    pub cancels: VecDeque<ThreadId>,
}

/// Boot options that change paths, not builds.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub kpti: bool,
    pub trace: bool,
    /// Direct switch between caller and server (IPC fast path).
    pub fastpath: bool,
    /// Process-context identifiers: CR3 writes keep TLB entries.
    pub pcid: bool,
    pub kpti_audit: bool,
    /// The preemption tick, per second (`tick=HZ`).
    pub tick_hz: u32,
}

pub struct Kernel {
    pub threads: Slab<Box<Thread>>,
    pub spaces: Slab<Space>,
    pub endpoints: alloc::vec::Vec<Endpoint>,
    run_queue: VecDeque<ThreadId>,
    pub current: ThreadId,
    idle: ThreadId,
    /// Dead threads whose kernel stacks can be freed once not running.
    #[allow(clippy::vec_box)] // a pending Switch points into the box: it must not move
    graveyard: alloc::vec::Vec<Box<Thread>>,
    pub options: Options,
    pub ticks: u64,
    /// The client a ReplyRecv just answered, for the Recv half to switch to.
    reply_target: Option<ThreadId>,
    /// The TSC when the current thread was switched to: what it has run
    /// since is charged to it at the next switch.
    switched_tsc: u64,
    /// The thread whose x87/SSE state is in the registers (0: nobody's);
    /// its `fpu` box may be stale. Only Linux threads use that state (the
    /// kernel and the servers are built without SSE), so it stays in the
    /// registers across a switch to a server and back (`load_fpu`).
    fpu_owner: ThreadId,
}

/// The kernel's objects; empty until `init`.
static KERNEL: Mutex<Kernel> = Mutex::new(Kernel {
    threads: Slab::new(),
    spaces: Slab::new(),
    endpoints: alloc::vec::Vec::new(),
    run_queue: VecDeque::new(),
    current: 0,
    idle: 0,
    graveyard: alloc::vec::Vec::new(),
    options: Options { kpti: true, trace: false, fastpath: true, pcid: false, kpti_audit: false, tick_hz: 100 },
    ticks: 0,
    reply_target: None,
    switched_tsc: 0,
    fpu_owner: 0,
});

pub struct Guard(MutexGuard<'static, Kernel>);

impl core::ops::Deref for Guard {
    type Target = Kernel;
    fn deref(&self) -> &Kernel {
        &self.0
    }
}

impl core::ops::DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Kernel {
        &mut self.0
    }
}

/// Takes the kernel lock (see the module doc).
pub fn lock() -> Guard {
    Guard(KERNEL.try_lock().expect("kernel lock held across a switch"))
}

/// A pending context switch, performed by [`Switch::run`] once the lock is
/// dropped.
#[must_use]
pub struct Switch {
    prev: *mut u64,
    next: u64,
}

impl Switch {
    pub fn run(self, guard: Guard) {
        drop(guard);
        cpu::probe(lstar_abi::counters::ProbePoint::Switch);
        // SAFETY: `prev` points into a boxed Thread that is freed only from
        // the graveyard while another thread runs; `next` was saved by a
        // switch or prepared for a new thread.
        #[allow(unsafe_code)]
        unsafe {
            arch::switch_context(self.prev, self.next)
        }
    }
}

pub fn init(options: Options) {
    let mut k = KERNEL.lock();
    k.options = options;
    let idle = k.new_thread(Personality::Native, None, None).expect("no memory for the idle thread");
    let t = k.threads.get_mut(&idle).unwrap();
    t.saved_rsp = t.kstack.prepare_kernel(idle_loop);
    k.idle = idle;
    k.current = idle;
}

extern "C" fn idle_loop() -> ! {
    loop {
        let mut k = lock();
        match k.pick_next() {
            Some(sw) => sw.run(k),
            None => {
                drop(k);
                arch::wait_for_interrupt();
            }
        }
    }
}

/// Starts scheduling: the boot context becomes nothing, the first ready
/// thread (or idle) runs.
pub fn start() -> ! {
    let k = lock();
    let idle = k.idle;
    let mut scratch = 0u64;
    let next = k.threads[&idle].saved_rsp;
    Switch { prev: &mut scratch, next }.run(k);
    unreachable!("the boot context is never resumed");
}

impl Kernel {
    /// Creates a thread (not yet runnable).
    pub fn new_thread(&mut self, personality: Personality, space: Option<AsId>, owner: Option<EndpointId>) -> Option<ThreadId> {
        let kstack = KernelStack::new()?;
        let fpu = Box::new(FpuState::new());
        Some(self.threads.insert_with(|id| Box::new(Thread { id, personality, state: State::Ready, space, owner, outgoing: None, fs_base: 0, tag: 0, interrupt: false, quiet: false, io: false, run_tsc: 0, kstack, saved_rsp: 0, parked: false, fpu })))
    }

    /// Creates a user thread that starts at `rip` with stack `rsp` and the
    /// given extra registers, and makes it ready.
    pub fn spawn_user(&mut self, personality: Personality, space: AsId, owner: Option<EndpointId>, rip: u64, rsp: u64, init: impl FnOnce(&mut PtRegs)) -> Option<ThreadId> {
        let id = self.new_thread(personality, Some(space), owner)?;
        let t = self.threads.get_mut(&id).unwrap();
        let flags = 0x202; // IF
        let mut regs = PtRegs { rip, rcx: rip, rsp, rflags: flags, r11: flags, cs: cpu::USER_CS as u64, ss: cpu::USER_DS as u64, ..PtRegs::default() };
        init(&mut regs);
        t.saved_rsp = t.kstack.prepare_user(&regs);
        self.run_queue.push_back(id);
        Some(id)
    }

    pub fn thread(&mut self, id: ThreadId) -> Option<&mut Thread> {
        self.threads.get_mut(&id).map(|b| &mut **b)
    }

    /// How long thread `id` has run, in ns, counting the current stretch
    /// if it is the one running.
    pub fn run_time_ns(&self, id: ThreadId) -> Option<u64> {
        let t = self.threads.get(&id)?;
        let running = if id == self.current { arch::rdtsc().saturating_sub(self.switched_tsc) } else { 0 };
        Some(arch::apic::tsc_to_ns(t.run_tsc + running))
    }

    pub fn current(&mut self) -> &mut Thread {
        let id = self.current;
        self.thread(id).expect("current thread exists")
    }

    pub fn make_ready(&mut self, id: ThreadId) {
        if let Some(t) = self.thread(id) {
            t.state = State::Ready;
            self.run_queue.push_back(id);
        }
    }

    /// Switches to `next` now (a direct switch, or the scheduler's pick).
    /// The current thread's state must already say why it stops running.
    pub fn switch_to(&mut self, next: ThreadId) -> Option<Switch> {
        let prev = self.current;
        if prev == next {
            self.current().state = State::Running;
            return None;
        }
        if !self.graveyard.is_empty() {
            self.reap();
        }
        let ran = charge(&mut self.switched_tsc);
        let prev_slot: *mut u64 = match self.threads.get_mut(&prev) {
            Some(t) => {
                t.run_tsc += ran;
                &mut t.saved_rsp
            }
            None => self.graveyard.iter_mut().find(|t| t.id == prev).map(|t| &mut t.saved_rsp as *mut u64).expect("previous thread is live or buried"),
        };
        let next_rsp = self.load(next);
        Some(Switch { prev: prev_slot, next: next_rsp })
    }

    /// Makes `next` the running thread: its FPU state, I/O access, kernel
    /// stack, address space and FS base. Returns the kernel stack pointer
    /// to resume it at (for a parked thread, a frame that returns to user
    /// mode).
    fn load(&mut self, next: ThreadId) -> u64 {
        self.load_fpu(next);
        let (kpti, pcid) = (self.options.kpti, self.options.pcid);
        let t = self.threads.get_mut(&next).expect("switch to a live thread");
        t.state = State::Running;
        if core::mem::take(&mut t.parked) {
            t.saved_rsp = t.kstack.prepare_return();
        }
        fastpath::enter(&self.spaces, t, kpti, pcid);
        self.current = next;
        cpu::count(|c| c.switches += 1);
        t.saved_rsp
    }

    /// Puts `next`'s x87/SSE state in the registers if it uses them and
    /// they hold someone else's, which is saved first.
    fn load_fpu(&mut self, next: ThreadId) {
        let owner = self.fpu_owner;
        if owner == next || self.threads.get(&next).is_none_or(|t| !t.uses_fpu()) {
            return;
        }
        if let Some(o) = self.threads.get_mut(&owner) {
            o.fpu.save();
        }
        self.threads.get_mut(&next).expect("a live thread").fpu.restore();
        self.fpu_owner = next;
    }

    /// Brings thread `id`'s `fpu` box up to date, before it is read.
    pub fn fpu_sync(&mut self, id: ThreadId) {
        if self.fpu_owner == id {
            if let Some(t) = self.threads.get_mut(&id) {
                t.fpu.save();
            }
        }
    }

    /// Thread `id`'s `fpu` box was rewritten: the registers no longer hold
    /// its state, so its next switch in loads the box.
    pub fn fpu_changed(&mut self, id: ThreadId) {
        if self.fpu_owner == id {
            self.fpu_owner = 0;
        }
    }

    /// Picks the next ready thread, or idle; for a thread that just blocked.
    pub fn schedule(&mut self) -> Option<Switch> {
        let next = self.pop_ready().unwrap_or(self.idle);
        self.switch_to(next)
    }

    /// For the idle loop: a ready thread, if any.
    fn pick_next(&mut self) -> Option<Switch> {
        let next = self.pop_ready()?;
        self.switch_to(next)
    }

    fn pop_ready(&mut self) -> Option<ThreadId> {
        while let Some(id) = self.run_queue.pop_front() {
            if matches!(self.threads.get(&id), Some(t) if t.state == State::Ready) {
                return Some(id);
            }
        }
        None
    }

    /// Preemption: the current thread goes to the back of the queue if
    /// another is ready.
    pub fn preempt(&mut self) -> Option<Switch> {
        let cur = self.current;
        if cur == self.idle {
            return None;
        }
        let next = self.pop_ready()?;
        self.current().state = State::Ready;
        self.run_queue.push_back(cur);
        self.switch_to(next)
    }

    /// Ends a thread: out of every queue, buried until it is not running.
    pub fn kill(&mut self, id: ThreadId) {
        let Some(mut t) = self.threads.remove(&id) else { return };
        if let State::Receiving(ep) | State::Sending(ep) = t.state {
            let e = &mut self.endpoints[ep];
            if e.receiver == Some(id) {
                e.receiver = None;
            }
            e.senders.retain(|&s| s != id);
        }
        t.state = State::Dead;
        if t.interrupt {
            t.interrupt = false;
            INTERRUPTS.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
        }
        self.graveyard.push(t);
    }

    fn reap(&mut self) {
        let cur = self.current;
        let (keep, dead): (alloc::vec::Vec<_>, alloc::vec::Vec<_>) = self.graveyard.drain(..).partition(|t| t.id == cur);
        self.graveyard = keep;
        for t in dead {
            t.kstack.free();
        }
    }

    /// Remembers the client a Reply made runnable (see `take_reply_target`).
    pub fn set_reply_target(&mut self, client: ThreadId) {
        if let Some(old) = self.reply_target.replace(client) {
            self.make_ready(old);
        }
    }

    /// The client answered by the Reply half of a ReplyRecv, which the Recv
    /// half switches to directly; any other caller makes it ready.
    pub fn take_reply_target(&mut self) -> Option<ThreadId> {
        self.reply_target.take()
    }

    /// After a call that may have replied: make the answered client ready.
    pub fn flush_reply_target(&mut self) {
        if let Some(c) = self.reply_target.take() {
            self.make_ready(c);
        }
    }

    pub fn new_space(&mut self, owner: Option<AsId>) -> Option<AsId> {
        let tables = AddressSpace::new()?;
        Some(self.add_space(tables, owner))
    }

    pub fn add_space(&mut self, tables: AddressSpace, owner: Option<AsId>) -> AsId {
        self.spaces.insert_with(|_| Space { tables, owner })
    }

    /// The endpoint of the server whose address space is `space`.
    pub fn endpoint_of_space(&self, space: AsId) -> Option<EndpointId> {
        self.endpoints.iter().position(|e| e.server_space == space)
    }

    /// Writes `sender`'s message into `receiver`'s registers (the Recv
    /// return convention in lstar_abi::native) and marks the sender as
    /// awaiting the receiver's reply.
    pub fn deliver(&mut self, receiver: ThreadId, sender: ThreadId) {
        let (msg, interrupted, owner) = {
            let s = self.thread(sender).expect("sender exists");
            s.state = State::AwaitingReply { server: receiver };
            let out = s.outgoing.expect("a sender has a message");
            (Message { kind: out.kind, client: sender, nr: out.nr, args: out.args, tag: s.tag }, s.interrupt && !s.quiet, s.owner)
        };
        cpu::count(|c| c.ipc_messages += 1);
        let r = self.thread(receiver).expect("receiver exists");
        write_message(r.regs(), &msg);
        // A signal is already pending for the sender (its owner asked to
        // interrupt it before this call reached a server): the server gets
        // a Cancel right behind the call, so a call it holds ends at once.
        if interrupted {
            let ep = r.space.and_then(|s| self.endpoint_of_space(s));
            if let Some(ep) = ep.filter(|&e| Some(e) != owner) {
                self.endpoints[ep].cancels.push_back(sender);
            }
        }
    }

    /// Raises notification `bits` on `ep`: a waiting receiver gets them at
    /// once (and becomes ready), else its next Recv does.
    pub fn notify(&mut self, ep: EndpointId, bits: u64) {
        let e = &mut self.endpoints[ep];
        e.notify |= bits;
        if let Some(r) = e.receiver.take() {
            let bits = core::mem::take(&mut e.notify);
            let msg = Message { kind: MessageKind::Notify, client: 0, nr: 0, args: [bits, 0, 0, 0, 0, 0], tag: 0 };
            write_message(self.thread(r).expect("receiver exists").regs(), &msg);
            self.make_ready(r);
        }
    }

    /// Asks the server holding `client`'s call to end it early (a Cancel
    /// message); nothing if the client is not waiting on a server.
    pub fn cancel(&mut self, client: ThreadId) {
        let Some(State::AwaitingReply { server }) = self.threads.get(&client).map(|t| t.state) else { return };
        let Some(ep) = self.threads.get(&server).and_then(|s| s.space).and_then(|sp| self.endpoint_of_space(sp)) else { return };
        match self.endpoints[ep].receiver.take() {
            Some(r) => {
                let msg = Message { kind: MessageKind::Cancel, client, nr: 0, args: [0; 6], tag: 0 };
                write_message(self.thread(r).expect("receiver exists").regs(), &msg);
                self.make_ready(r);
            }
            None => self.endpoints[ep].cancels.push_back(client),
        }
    }

    /// Fires the endpoint timers whose deadline has passed.
    pub fn expire_timers(&mut self, now: u64) {
        for ep in 0..self.endpoints.len() {
            if let Some((deadline, bit)) = self.endpoints[ep].timer {
                if now >= deadline {
                    self.endpoints[ep].timer = None;
                    self.notify(ep, bit);
                }
            }
        }
    }

    /// Hands `client`'s pending syscall to `ep` (NativeCall::Forward).
    pub fn forward(&mut self, client: ThreadId, ep: EndpointId) {
        match self.endpoints[ep].receiver.take() {
            Some(r) => {
                self.deliver(r, client);
                self.make_ready(r);
            }
            None => {
                self.thread(client).expect("client exists").state = State::Sending(ep);
                self.endpoints[ep].senders.push_back(client);
            }
        }
    }

    /// Queues the current thread's message on `ep` and switches: straight
    /// to a waiting receiver (fast path), or through the scheduler.
    pub fn send_current(&mut self, ep: EndpointId, out: Outgoing) -> Option<Switch> {
        let me = self.current;
        match self.endpoints[ep].receiver.take() {
            Some(r) => {
                self.current().outgoing = Some(out);
                self.deliver(r, me);
                if self.options.fastpath {
                    self.switch_to(r)
                } else {
                    self.make_ready(r);
                    self.schedule()
                }
            }
            None => {
                let t = self.current();
                t.outgoing = Some(out);
                t.state = State::Sending(ep);
                self.endpoints[ep].senders.push_back(me);
                self.schedule()
            }
        }
    }
}

/// TSC ticks since the last switch (`switched_tsc`), restarting the count.
#[inline(always)]
fn charge(switched_tsc: &mut u64) -> u64 {
    let now = arch::rdtsc();
    now.saturating_sub(core::mem::replace(switched_tsc, now))
}

/// The Recv return convention (lstar_abi::native module doc).
pub fn write_message(r: &mut PtRegs, msg: &Message) {
    r.rax = 0;
    r.rdi = msg.kind as u64;
    r.rsi = msg.client;
    r.rdx = msg.nr;
    r.r10 = msg.args[0];
    r.r8 = msg.args[1];
    r.r9 = msg.args[2];
    r.r12 = msg.args[3];
    r.r13 = msg.args[4];
    r.r14 = msg.args[5];
    r.r15 = msg.tag;
}

/// Step 6, exit work: before the current thread returns to user mode, stop
/// it for its owner if the owner asked (signal delivery). Called at the end
/// of every path back to user mode.
#[inline(always)]
pub fn exit_work() {
    // Most returns have nothing to do: skip the lock unless some thread was
    // asked to stop.
    if INTERRUPTS.load(core::sync::atomic::Ordering::Relaxed) != 0 {
        stop_for_owner();
    }
}

#[cold]
fn stop_for_owner() {
    loop {
        let mut k = lock();
        let t = k.current();
        if !t.interrupt || t.personality != Personality::Linux {
            return;
        }
        t.interrupt = false;
        t.quiet = false;
        INTERRUPTS.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
        let Some(owner) = t.owner else { return };
        let out = Outgoing { kind: MessageKind::Interrupted, nr: 0, args: [0; 6] };
        match k.send_current(owner, out) {
            Some(sw) => sw.run(k),
            None => drop(k),
        }
    }
}

/// How many threads have `interrupt` set (exit_work's fast check).
pub static INTERRUPTS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Set by a kernel syscall handler that wants the caller to yield once its
/// result is stored (sched_yield).
static YIELD: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

pub fn request_yield() {
    YIELD.store(true, core::sync::atomic::Ordering::Relaxed);
}

/// Yields the CPU to the next ready thread if a handler asked for it.
pub fn yield_if_requested() {
    if YIELD.swap(false, core::sync::atomic::Ordering::Relaxed) {
        let mut k = lock();
        match k.preempt() {
            Some(sw) => sw.run(k),
            None => drop(k),
        }
    }
}
