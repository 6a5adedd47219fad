//! The native API: what a server's SYSCALL reaches (lstar_abi::native).
//!
//! Every call checks that the caller may touch what it names: a client
//! only while that client awaits the caller's reply, an address space only
//! if the caller created it, a thread only if the caller's endpoint owns it.

use crate::arch::x86_64::FpuState;
use crate::mm::paging::{Flags, MapError};
use crate::mm::user::UserSlice;
use crate::task::{self, Guard, Kernel, State, Switch};
use alloc::vec;
use lstar_abi::errno::Errno;
use lstar_abi::native::{prot, AsId, NativeCall, Personality, UserContext};
use lstar_abi::{ThreadId, PAGE_SIZE};

type NResult = Result<u64, Errno>;

/// What a call does next: return to the caller with a value, or switch.
enum Next {
    Return(u64),
    /// The caller's registers were set already (a message was delivered).
    ReturnAsIs,
    Switch(Switch),
}

pub fn dispatch(mut k: Guard, nr: u64, a: [u64; 6]) {
    let next = match NativeCall::try_from(nr) {
        Ok(call) => match call_one(&mut k, call, a) {
            Ok(n) => n,
            Err(e) => Next::Return(e.to_ret()),
        },
        Err(_) => Next::Return(Errno::ENOSYS.to_ret()),
    };
    k.flush_reply_target();
    match next {
        Next::Return(v) => k.current().regs().rax = v,
        Next::ReturnAsIs => {}
        Next::Switch(sw) => sw.run(k),
    }
}

fn call_one(k: &mut Guard, call: NativeCall, a: [u64; 6]) -> Result<Next, Errno> {
    let ret = |r: NResult| r.map(Next::Return);
    match call {
        NativeCall::DebugWrite => ret(debug_write(k, a[0], a[1], false)),
        NativeCall::ConsoleWrite => ret(debug_write(k, a[0], a[1], true)),
        NativeCall::Recv => recv(k, a[0] as usize),
        NativeCall::Reply => {
            reply(k, a[0], a[1])?;
            Ok(Next::Return(0))
        }
        NativeCall::ReplyRecv => {
            reply(k, a[1], a[2])?;
            recv(k, a[0] as usize)
        }
        NativeCall::CopyFromClient => ret(copy_client(k, a[0], a[1], a[2], a[3], false)),
        NativeCall::CopyToClient => ret(copy_client(k, a[0], a[1], a[2], a[3], true)),
        NativeCall::AsCreate => {
            let me = my_space(k)?;
            ret(k.new_space(Some(me)).ok_or(Errno::ENOMEM))
        }
        NativeCall::AsMap => ret(as_map(k, a[0], a[1], a[2], a[3], a[4])),
        NativeCall::AsUnmap => ret(as_unmap(k, a[0], a[1], a[2])),
        NativeCall::AsProtect => ret(as_protect(k, a[0], a[1], a[2], a[3])),
        NativeCall::AsMove => ret(as_move(k, a[0], a[1], a[2], a[3])),
        NativeCall::AsSelf => ret(my_space(k)),
        NativeCall::AsGrant => ret(as_grant(k, a)),
        NativeCall::MemInfo => {
            k.current().regs().rdi = crate::mm::frame::total_count() as u64;
            Ok(Next::Return(crate::mm::frame::free_count() as u64))
        }
        NativeCall::AsMapCounters => {
            owned_space(k, a[0])?;
            let frame = crate::mm::PhysAddr(crate::arch::x86_64::cpu::counters_frame());
            let tables = &mut k.spaces.get_mut(&a[0]).unwrap().tables;
            tables.map_shared(a[1], frame, Flags::NO_EXECUTE).map_err(map_errno)?;
            Ok(Next::Return(0))
        }
        NativeCall::AsWrite => ret(as_write(k, a[0], a[1], a[2], a[3])),
        NativeCall::AsDestroy => ret(as_destroy(k, a[0])),
        NativeCall::ThreadCreate => ret(thread_create(k, a[0], a[1], a[2], a[3])),
        NativeCall::ThreadSetFsBase => {
            owned_thread(k, a[0])?.fs_base = a[1];
            Ok(Next::Return(0))
        }
        NativeCall::ThreadSetRegs => {
            // A fresh start, as execve gives: every other register zero,
            // flags just IF, x87/SSE state reset.
            user_rip(a[1])?;
            let t = owned_thread(k, a[0])?;
            let r = t.regs();
            let (cs, ss) = (r.cs, r.ss);
            let flags = 0x202;
            *r = lstar_abi::PtRegs { rip: a[1], rcx: a[1], rsp: a[2], rax: a[3], rflags: flags, r11: flags, cs, ss, ..Default::default() };
            *t.fpu = FpuState::new();
            k.fpu_changed(a[0]);
            Ok(Next::Return(0))
        }
        NativeCall::ThreadKill => thread_kill(k, a[0]),
        NativeCall::ThreadTime => {
            let ep = my_endpoint(k)?;
            match k.threads.get(&a[0]) {
                Some(t) if t.owner == Some(ep) => ret(k.run_time_ns(a[0]).ok_or(Errno::ESRCH)),
                _ => Err(Errno::ESRCH),
            }
        }
        NativeCall::Poweroff => crate::boot::poweroff(a[0] as u8),
        NativeCall::Call => server_call(k, a),
        NativeCall::Lookup => ret(lookup(k, a[0], a[1])),
        NativeCall::ThreadSetTag => {
            owned_thread(k, a[0])?.tag = a[1];
            Ok(Next::Return(0))
        }
        NativeCall::AsClone => ret(as_clone(k, a[0])),
        NativeCall::ThreadClone => ret(thread_clone(k, a[0], a[1], a[2], a[3], a[4])),
        NativeCall::ThreadInterrupt => {
            let quiet = a[1] & lstar_abi::native::INTERRUPT_QUIET != 0;
            let t = owned_thread(k, a[0])?;
            if !t.interrupt {
                t.interrupt = true;
                t.quiet = quiet;
                task::INTERRUPTS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            }
            if !quiet {
                t.quiet = false;
                k.cancel(a[0]);
            }
            Ok(Next::Return(0))
        }
        NativeCall::IrqBind => ret(irq_bind(k, a[0], a[1])),
        NativeCall::TimerSet => {
            let ep = my_endpoint(k)?;
            k.endpoints[ep].timer = (a[0] != 0).then_some((a[0], a[1]));
            Ok(Next::Return(0))
        }
        NativeCall::Clock => ret(match a[0] {
            lstar_abi::native::clock::MONOTONIC => Ok(crate::arch::x86_64::apic::monotonic_ns()),
            lstar_abi::native::clock::REALTIME => Ok(crate::boot::realtime_ns()),
            _ => Err(Errno::EINVAL),
        }),
        NativeCall::IoPorts => {
            let (base, count) = (u16::try_from(a[0]).map_err(|_| Errno::EINVAL)?, u16::try_from(a[1]).map_err(|_| Errno::EINVAL)?);
            crate::arch::x86_64::cpu::allow_ports(base, count);
            k.current().io = true;
            crate::arch::x86_64::cpu::set_io_access(true);
            Ok(Next::Return(0))
        }
        NativeCall::Forward => {
            let ep = usize::try_from(a[1]).ok().filter(|&e| e < k.endpoints.len()).ok_or(Errno::EBADF)?;
            let t = waiting_client(k, a[0])?;
            match &mut t.outgoing {
                Some(out) if out.kind == lstar_abi::MessageKind::Syscall => out.args[5] = a[2],
                _ => return Err(Errno::EINVAL),
            }
            k.forward(a[0], ep);
            Ok(Next::Return(0))
        }
        NativeCall::NotifySend => {
            my_endpoint(k)?;
            let ep = usize::try_from(a[0]).ok().filter(|&e| e < k.endpoints.len()).ok_or(Errno::EBADF)?;
            if a[1] == 0 {
                return Err(Errno::EINVAL);
            }
            k.notify(ep, a[1]);
            Ok(Next::Return(0))
        }
        NativeCall::ThreadGetContext => ret(get_context(k, a[0], a[1])),
        NativeCall::ThreadSetContext => ret(set_context(k, a[0], a[1])),
        NativeCall::ThreadSetSpace => {
            owned_space(k, a[1])?;
            owned_thread(k, a[0])?.space = Some(a[1]);
            Ok(Next::Return(0))
        }
    }
}

/// A request to another server: queued like a forwarded syscall; the
/// callee's reply becomes this call's result.
fn server_call(k: &mut Kernel, a: [u64; 6]) -> Result<Next, Errno> {
    let ep = usize::try_from(a[0]).map_err(|_| Errno::EBADF)?;
    let mine = my_endpoint(k).ok();
    if ep >= k.endpoints.len() || Some(ep) == mine {
        return Err(if ep >= k.endpoints.len() { Errno::EBADF } else { Errno::EINVAL });
    }
    let out = task::Outgoing { kind: lstar_abi::MessageKind::Call, nr: a[1], args: [a[2], a[3], a[4], a[5], 0, 0] };
    Ok(match k.send_current(ep, out) {
        Some(sw) => Next::Switch(sw),
        None => Next::ReturnAsIs,
    })
}

fn lookup(k: &mut Kernel, ptr: u64, len: u64) -> NResult {
    if len > 64 {
        return Err(Errno::ENAMETOOLONG);
    }
    let space = my_space(k)?;
    let mut name = [0u8; 64];
    let name = &mut name[..len as usize];
    UserSlice::new(ptr, len).and_then(|s| s.read(&k.spaces[&space].tables, name)).map_err(|_| Errno::EFAULT)?;
    k.endpoints.iter().position(|e| e.name.as_bytes() == name).map(|i| i as u64).ok_or(Errno::ENOENT)
}

fn as_clone(k: &mut Kernel, id: AsId) -> NResult {
    owned_space(k, id)?;
    let me = my_space(k)?;
    // The caller's own space is loaded: the write protection copy-on-write
    // gives its pages would not reach the TLB entries it runs on (D24).
    if id == me {
        return Err(Errno::EINVAL);
    }
    let copy = k.spaces[&id].tables.clone_user().ok_or(Errno::ENOMEM)?;
    Ok(k.add_space(copy, Some(me)))
}

fn thread_clone(k: &mut Kernel, id: ThreadId, space: AsId, rsp: u64, fs_base: u64, tag: u64) -> NResult {
    owned_space(k, space)?;
    let ep = my_endpoint(k)?;
    owned_thread(k, id)?;
    k.fpu_sync(id);
    let (regs, personality, fpu) = {
        let t = owned_thread(k, id)?;
        let mut fpu = FpuState::new();
        fpu.copy_from(&t.fpu);
        (*t.regs(), t.personality, fpu)
    };
    let child = k
        .spawn_user(personality, space, Some(ep), regs.rip, regs.rsp, |r| {
            *r = regs;
            r.rax = 0;
            if rsp != 0 {
                r.rsp = rsp;
            }
        })
        .ok_or(Errno::ENOMEM)?;
    let t = k.thread(child).expect("just created");
    t.fs_base = fs_base;
    // Tagged before it can run: its first syscall must already carry it.
    t.tag = tag;
    *t.fpu = fpu;
    Ok(child)
}

fn my_space(k: &mut Kernel) -> Result<AsId, Errno> {
    k.current().space.ok_or(Errno::EPERM)
}

fn my_endpoint(k: &mut Kernel) -> Result<usize, Errno> {
    let space = my_space(k)?;
    k.endpoint_of_space(space).ok_or(Errno::EPERM)
}

/// A space the caller created.
/// A space the caller created, or its own (a server growing its heap).
fn owned_space(k: &mut Kernel, id: AsId) -> Result<(), Errno> {
    let me = my_space(k)?;
    match k.spaces.get(&id) {
        Some(s) if s.owner == Some(me) || id == me => Ok(()),
        _ => Err(Errno::ESRCH),
    }
}

/// A thread owned by the caller's endpoint and not running.
fn owned_thread(k: &mut Kernel, id: ThreadId) -> Result<&mut task::Thread, Errno> {
    let ep = my_endpoint(k)?;
    match k.thread(id) {
        Some(t) if t.owner == Some(ep) && t.state != State::Running => Ok(t),
        _ => Err(Errno::ESRCH),
    }
}

fn debug_write(k: &mut Kernel, ptr: u64, len: u64, console: bool) -> NResult {
    let len = len.min(64 * 1024);
    let space = my_space(k)?;
    let mut buf = vec![0u8; len as usize];
    UserSlice::new(ptr, len).and_then(|s| s.read(&k.spaces[&space].tables, &mut buf)).map_err(|_| Errno::EFAULT)?;
    if console {
        crate::console::serial_write(&buf);
    } else {
        crate::console::debug_bytes(&buf);
    }
    Ok(len)
}

fn recv(k: &mut Kernel, ep: usize) -> Result<Next, Errno> {
    let me = k.current;
    let kernel = &mut *k;
    let t = kernel.threads.get_mut(&me).expect("current thread exists");
    let e = match kernel.endpoints.get_mut(ep) {
        Some(e) if t.space == Some(e.server_space) => e,
        _ => return Err(Errno::EBADF),
    };
    // What is already waiting, in order: notifications, cancels, senders.
    if e.notify != 0 {
        let bits = core::mem::take(&mut e.notify);
        let msg = lstar_abi::Message { kind: lstar_abi::MessageKind::Notify, client: 0, nr: 0, args: [bits, 0, 0, 0, 0, 0], tag: 0 };
        task::write_message(t.regs(), &msg);
        return Ok(Next::ReturnAsIs);
    }
    if let Some(client) = e.cancels.pop_front() {
        let msg = lstar_abi::Message { kind: lstar_abi::MessageKind::Cancel, client, nr: 0, args: [0; 6], tag: 0 };
        task::write_message(t.regs(), &msg);
        return Ok(Next::ReturnAsIs);
    }
    if let Some(sender) = e.senders.pop_front() {
        k.deliver(me, sender);
        return Ok(Next::ReturnAsIs);
    }
    e.receiver = Some(me);
    t.state = State::Receiving(ep);
    // Nothing of this call is left to do when a message arrives (it is
    // written into the registers): with the fast path on, the thread
    // waits parked, for a sender's hand-off (crate::fastpath).
    t.parked = kernel.options.fastpath;
    let sw = match k.take_reply_target() {
        // ReplyRecv's direct switch: straight back to the client just answered.
        Some(client) if k.options.fastpath => k.switch_to(client),
        Some(client) => {
            k.make_ready(client);
            k.schedule()
        }
        None => k.schedule(),
    };
    Ok(match sw {
        Some(sw) => Next::Switch(sw),
        None => {
            k.current().parked = false;
            Next::ReturnAsIs
        }
    })
}

/// Completes `client`'s forwarded call with `value`. The client becomes
/// runnable: ready at once for a plain Reply, or the direct-switch target
/// of the Recv that follows in ReplyRecv.
fn reply(k: &mut Kernel, client: ThreadId, value: u64) -> Result<(), Errno> {
    let me = k.current;
    let t = k.thread(client).ok_or(Errno::ESRCH)?;
    if t.state != (State::AwaitingReply { server: me }) {
        return Err(Errno::ESRCH);
    }
    // A syscall or call gets its result; a fault or an interrupted return
    // resumes with the registers its owner left.
    let out = t.outgoing.take();
    if out.is_some_and(|o| o.answered_in_rax()) {
        t.regs().rax = value;
    }
    t.state = State::Ready;
    if let Some(o) = out.filter(|o| o.kind == lstar_abi::MessageKind::Syscall && k.options.trace) {
        let handler = my_endpoint(k).map_or("?", |ep| k.endpoints[ep].name);
        crate::syscall::trace::reply(client, o.nr, &o.args, value, handler);
    }
    crate::arch::x86_64::cpu::count(|c| c.ipc_messages += 1);
    crate::arch::x86_64::cpu::probe(lstar_abi::counters::ProbePoint::Reply);
    k.set_reply_target(client);
    Ok(())
}

/// CopyToClient (`to_client`) and CopyFromClient: `len` bytes between the
/// caller's `local` and its waiting client's `client_addr`.
pub fn copy_client(k: &mut Kernel, client: ThreadId, client_addr: u64, local: u64, len: u64, to_client: bool) -> NResult {
    let me = k.current;
    let my = my_space(k)?;
    let cspace = match k.thread(client) {
        Some(t) if t.state == (State::AwaitingReply { server: me }) => t.space.ok_or(Errno::ESRCH)?,
        _ => return Err(Errno::ESRCH),
    };
    let (src, dst) = if to_client { ((my, local), (cspace, client_addr)) } else { ((cspace, client_addr), (my, local)) };
    copy_between(k, src, dst, len, false)
}

/// Copies `len` bytes between two address spaces, page to page through
/// the direct map (mm::user::copy). Any bad page in either range:
/// `-EFAULT`, and nothing copied.
fn copy_between(k: &Kernel, src: (AsId, u64), dst: (AsId, u64), len: u64, fill: bool) -> NResult {
    let s = &k.spaces.get(&src.0).ok_or(Errno::ESRCH)?.tables;
    let d = &k.spaces.get(&dst.0).ok_or(Errno::ESRCH)?.tables;
    let n = UserSlice::new(src.1, len).and(UserSlice::new(dst.1, len)).map_err(|_| Errno::EFAULT)?.len;
    crate::mm::user::copy(s, src.1, d, dst.1, n, fill).map_err(|_| Errno::EFAULT)?;
    Ok(len)
}

fn page_range(addr: u64, len: u64) -> Result<core::ops::Range<u64>, Errno> {
    if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
        return Err(Errno::EINVAL);
    }
    let end = addr.checked_add(len).and_then(crate::mm::page_ceil).ok_or(Errno::EINVAL)?;
    if end > crate::mm::paging::USER_END {
        return Err(Errno::EINVAL);
    }
    Ok(addr..end)
}

/// The errno a failed mapping gives the server that asked for it.
fn map_errno(e: MapError) -> Errno {
    match e {
        MapError::NoMemory => Errno::ENOMEM,
        MapError::Exists => Errno::EEXIST,
        MapError::BadAddress => Errno::EINVAL,
    }
}

/// Page rights for Linux PROT_* bits: user-accessible unless PROT_NONE.
fn prot_flags(prot_bits: u64) -> Flags {
    let mut flags = Flags::empty();
    if prot_bits & (prot::READ | prot::WRITE | prot::EXEC) != 0 {
        flags |= Flags::USER_ACCESSIBLE;
    }
    if prot_bits & prot::WRITE != 0 {
        flags |= Flags::WRITABLE;
    }
    if prot_bits & prot::EXEC == 0 {
        flags |= Flags::NO_EXECUTE;
    }
    flags
}

fn as_map(k: &mut Kernel, id: AsId, addr: u64, len: u64, prot_bits: u64, map_flags: u64) -> NResult {
    owned_space(k, id)?;
    if map_flags & !lstar_abi::native::map::SHARED != 0 {
        return Err(Errno::EINVAL);
    }
    let shared = map_flags & lstar_abi::native::map::SHARED != 0;
    let range = page_range(addr, len)?;
    let flags = prot_flags(prot_bits);
    let tables = &mut k.spaces.get_mut(&id).unwrap().tables;
    for va in range.step_by(PAGE_SIZE as usize) {
        if shared {
            tables.map_zeroed_shared(va, flags).map_err(map_errno)?;
            if !flags.contains(Flags::USER_ACCESSIBLE) {
                tables.protect(va, flags);
            }
        } else {
            // Private memory is only reserved: its first use maps a zeroed
            // frame (D25), so memory a program never touches costs none.
            tables.reserve_zeroed(va, flags).map_err(map_errno)?;
        }
    }
    Ok(0)
}

/// AsGrant: `a` = (client, as, addr, local_addr, len, prot). The
/// caller's shared pages become shared pages of a space belonging to the
/// server that asked for them (see lstar_abi::native::NativeCall::AsGrant).
fn as_grant(k: &mut Kernel, a: [u64; 6]) -> NResult {
    let [client, id, addr, local, len, prot_bits] = a;
    let me = k.current;
    let my = my_space(k)?;
    let asker = match k.thread(client) {
        Some(t) if t.state == (State::AwaitingReply { server: me }) => t.space.ok_or(Errno::ESRCH)?,
        _ => return Err(Errno::ESRCH),
    };
    match k.spaces.get(&id) {
        Some(s) if s.owner == Some(asker) && id != my => {}
        _ => return Err(Errno::ESRCH),
    }
    let dst = page_range(addr, len)?;
    let src = page_range(local, len)?;
    let mut frames = vec![];
    for va in src.step_by(PAGE_SIZE as usize) {
        frames.push(k.spaces[&my].tables.shared_frame(va).ok_or(Errno::EINVAL)?);
    }
    let tables = &mut k.spaces.get_mut(&id).unwrap().tables;
    if !dst.clone().step_by(PAGE_SIZE as usize).all(|va| tables.is_free(va)) {
        return Err(Errno::EEXIST);
    }
    let flags = prot_flags(prot_bits);
    for (i, (va, pa)) in dst.clone().step_by(PAGE_SIZE as usize).zip(frames).enumerate() {
        if let Err(e) = tables.map_shared_frame(va, pa, flags) {
            // Out of page-table memory: take back what was granted.
            for done in dst.clone().step_by(PAGE_SIZE as usize).take(i) {
                tables.unmap(done);
            }
            return Err(map_errno(e));
        }
    }
    Ok(0)
}

fn as_move(k: &mut Kernel, id: AsId, from: u64, to: u64, len: u64) -> NResult {
    owned_space(k, id)?;
    let src = page_range(from, len)?;
    let dst = page_range(to, len)?;
    if src.start < dst.end && dst.start < src.end {
        return Err(Errno::EINVAL);
    }
    let tables = &mut k.spaces.get_mut(&id).unwrap().tables;
    if !dst.clone().step_by(PAGE_SIZE as usize).all(|va| tables.is_free(va)) {
        return Err(Errno::EEXIST);
    }
    for off in (0..src.end - src.start).step_by(PAGE_SIZE as usize) {
        tables.move_page(src.start + off, dst.start + off).map_err(|_| Errno::ENOMEM)?;
    }
    Ok(0)
}

fn as_protect(k: &mut Kernel, id: AsId, addr: u64, len: u64, prot_bits: u64) -> NResult {
    owned_space(k, id)?;
    let range = page_range(addr, len)?;
    let tables = &mut k.spaces.get_mut(&id).unwrap().tables;
    // Holes stay holes: a file mapping leaves the pages past the file's
    // end unmapped (an access there is SIGBUS), and the process server
    // has checked the range against its own record.
    let flags = prot_flags(prot_bits);
    for va in range.step_by(PAGE_SIZE as usize) {
        tables.protect(va, flags);
    }
    Ok(0)
}

fn as_unmap(k: &mut Kernel, id: AsId, addr: u64, len: u64) -> NResult {
    owned_space(k, id)?;
    let range = page_range(addr, len)?;
    let tables = &mut k.spaces.get_mut(&id).unwrap().tables;
    for va in range.step_by(PAGE_SIZE as usize) {
        tables.unmap(va);
    }
    Ok(0)
}

fn as_write(k: &mut Kernel, id: AsId, dst: u64, local: u64, len: u64) -> NResult {
    owned_space(k, id)?;
    let me = my_space(k)?;
    copy_between(k, (me, local), (id, dst), len, true)
}

fn as_destroy(k: &mut Kernel, id: AsId) -> NResult {
    owned_space(k, id)?;
    if k.threads.values().any(|t| t.space == Some(id)) {
        return Err(Errno::EBUSY);
    }
    let space = k.spaces.remove(&id).unwrap();
    crate::arch::x86_64::leave_tables(space.tables.kernel_cr3());
    drop(space);
    Ok(0)
}

fn thread_create(k: &mut Kernel, id: AsId, rip: u64, rsp: u64, personality: u64) -> NResult {
    owned_space(k, id)?;
    user_rip(rip)?;
    let personality = Personality::try_from(personality).map_err(|_| Errno::EINVAL)?;
    let ep = my_endpoint(k)?;
    k.spawn_user(personality, id, Some(ep), rip, rsp, |_| {}).ok_or(Errno::ENOMEM)
}

fn thread_kill(k: &mut Kernel, id: ThreadId) -> Result<Next, Errno> {
    if id == 0 {
        let me = k.current;
        k.kill(me);
        return Ok(k.schedule().map(Next::Switch).unwrap_or(Next::ReturnAsIs));
    }
    let handler = my_endpoint(k).map(|ep| k.endpoints[ep].name)?;
    let t = owned_thread(k, id)?;
    if let (State::AwaitingReply { .. }, Some(out)) = (t.state, t.outgoing) {
        if out.kind == lstar_abi::MessageKind::Syscall && k.options.trace {
            crate::syscall::trace_no_return(id, out.nr, &out.args, handler);
        }
    }
    k.kill(id);
    Ok(Next::Return(0))
}

/// A client of the caller, waiting on it: the only threads whose register
/// state a server may see or change.
fn waiting_client(k: &mut Kernel, id: ThreadId) -> Result<&mut task::Thread, Errno> {
    let me = k.current;
    match k.thread(id) {
        Some(t) if t.state == (State::AwaitingReply { server: me }) => Ok(t),
        _ => Err(Errno::ESRCH),
    }
}

fn get_context(k: &mut Kernel, id: ThreadId, ptr: u64) -> NResult {
    let me = my_space(k)?;
    waiting_client(k, id)?;
    k.fpu_sync(id);
    let t = waiting_client(k, id)?;
    let mut ctx = UserContext { regs: *t.regs(), fs_base: t.fs_base, fpu: [0; 512] };
    ctx.fpu.copy_from_slice(t.fpu.bytes());
    let bytes = ctx.to_bytes();
    UserSlice::new(ptr, bytes.len() as u64).and_then(|s| s.write(&k.spaces[&me].tables, &bytes)).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

fn set_context(k: &mut Kernel, id: ThreadId, ptr: u64) -> NResult {
    let me = my_space(k)?;
    let mut bytes = [0u8; UserContext::SIZE];
    UserSlice::new(ptr, bytes.len() as u64).and_then(|s| s.read(&k.spaces[&me].tables, &mut bytes)).map_err(|_| Errno::EFAULT)?;
    let ctx = UserContext::from_bytes(&bytes);
    user_rip(ctx.regs.rip)?;
    if ctx.fs_base >= crate::mm::paging::USER_END {
        return Err(Errno::EINVAL);
    }
    let t = waiting_client(k, id)?;
    let r = t.regs();
    let (cs, ss) = (r.cs, r.ss);
    *r = ctx.regs;
    r.cs = cs;
    r.ss = ss;
    // User-changeable flags only (CF PF AF ZF SF TF DF OF AC ID and the
    // reserved bit 1), plus IF: a program may not take I/O privilege or
    // run with interrupts off.
    r.rflags = (r.rflags & 0x0025_4dd5) | 0x202;
    t.fs_base = ctx.fs_base;
    t.fpu.set_bytes(&ctx.fpu);
    k.fpu_changed(id);
    Ok(0)
}

/// Routes ISA `irq` to the caller's endpoint as notification `bit`.
fn irq_bind(k: &mut Kernel, irq: u64, bit: u64) -> NResult {
    if irq >= 16 || bit == 0 {
        return Err(Errno::EINVAL);
    }
    let ep = my_endpoint(k)?;
    let mut bindings = IRQ_BINDINGS.lock();
    if bindings[irq as usize].is_some_and(|(e, _)| e != ep) {
        return Err(Errno::EBUSY);
    }
    if !crate::arch::x86_64::ioapic::route(irq as u8) {
        return Err(Errno::ENODEV);
    }
    bindings[irq as usize] = Some((ep, bit));
    Ok(0)
}

/// ISA IRQ -> (endpoint, notification bit).
pub static IRQ_BINDINGS: spin::Mutex<[Option<(usize, u64)>; 16]> = spin::Mutex::new([None; 16]);

/// A RIP a thread may be resumed at: in the user half. (IRETQ to a
/// non-canonical RIP would fault in the kernel, on the user's CR3.)
fn user_rip(rip: u64) -> Result<(), Errno> {
    if rip < crate::mm::paging::USER_END { Ok(()) } else { Err(Errno::EINVAL) }
}
