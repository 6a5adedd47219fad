//! Receiving messages and replying to them, and reaching into the memory of
//! the client being served (only while serving it).

use crate::raw::{self, call0};
use lstar_abi::errno::Errno;
use lstar_abi::native::NativeCall;
use lstar_abi::{Message, MessageKind, ThreadId};

#[inline(always)]
fn message(r: raw::Regs) -> Message {
    Message {
        kind: MessageKind::try_from(r[1]).expect("kernel sent a known message kind"),
        client: r[2],
        nr: r[3],
        args: [r[4], r[5], r[6], r[7], r[8], r[9]],
        tag: r[10],
    }
}

/// Waits for the next message on `endpoint`.
pub fn recv(endpoint: u64) -> Message {
    loop {
        let r = raw::call(NativeCall::Recv, [endpoint, 0, 0, 0, 0, 0]);
        if !raw::failed(r[0]) {
            return message(r);
        }
    }
}

/// Completes `client`'s call with `value` (a result or `-errno`), then
/// waits for the next message: one kernel entry for both, and a direct
/// switch back to the client when nothing else is queued.
pub fn reply_recv(endpoint: u64, client: ThreadId, value: u64) -> Message {
    let r = raw::call(NativeCall::ReplyRecv, [endpoint, client, value, 0, 0, 0]);
    if raw::failed(r[0]) {
        return recv(endpoint);
    }
    message(r)
}

/// Completes `client`'s call with `value` without waiting.
pub fn reply(client: ThreadId, value: u64) -> Result<(), Errno> {
    call0(NativeCall::Reply, [client, value, 0, 0, 0, 0]).map(drop)
}

/// The caller of the message being handled: the only thread whose memory
/// the server may read and write, and only until it replies.
#[derive(Clone, Copy, Debug)]
pub struct Client(pub ThreadId);

impl Client {
    /// Copies `buf.len()` bytes from the client's `addr`. `EFAULT` when any
    /// of it is not readable user memory.
    pub fn read(self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        call0(NativeCall::CopyFromClient, [self.0, addr, buf.as_mut_ptr() as u64, buf.len() as u64, 0, 0]).map(drop)
    }

    /// Copies `data` to the client's `addr`. `EFAULT` when any of it is not
    /// writable user memory.
    pub fn write(self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        call0(NativeCall::CopyToClient, [self.0, addr, data.as_ptr() as u64, data.len() as u64, 0, 0]).map(drop)
    }
}

/// Sends request `nr` to another server and waits for its reply.
pub fn call(endpoint: u64, nr: u64, args: [u64; 4]) -> Result<u64, Errno> {
    call0(NativeCall::Call, [endpoint, nr, args[0], args[1], args[2], args[3]])
}

/// The endpoint of the server named `name` in routes.tbl.
pub fn lookup(name: &str) -> Result<u64, Errno> {
    call0(NativeCall::Lookup, [name.as_ptr() as u64, name.len() as u64, 0, 0, 0, 0])
}

/// Raises notification `bits` on another server's endpoint; never blocks.
pub fn notify(endpoint: u64, bits: u64) -> Result<(), Errno> {
    call0(NativeCall::NotifySend, [endpoint, bits, 0, 0, 0, 0]).map(drop)
}

/// Hands the syscall being served for `client` to another server, as if
/// the client had sent it there; its `args[5]` becomes `word`.
pub fn forward(client: ThreadId, endpoint: u64, word: u64) -> Result<(), Errno> {
    call0(NativeCall::Forward, [client, endpoint, word, 0, 0, 0]).map(drop)
}
