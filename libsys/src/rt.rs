//! Start-up and the pieces `no_std` leaves to us: `_start`, the panic
//! handler and the heap.

use crate::Boot;
use linked_list_allocator::LockedHeap;

extern "Rust" {
    /// Defined by `server_main!`.
    fn lstar_server_main(boot: Boot) -> !;
}

// The kernel starts a server with RDI = endpoint, RSI = initrd base, RDX =
// initrd length, R10 = boot flags, RSP at the top of its stack.
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov rcx, r10",
    "xor ebp, ebp",
    "and rsp, -16", // the call below leaves RSP = 8 mod 16, as the ABI wants
    "call {start}",
    "ud2",
    start = sym start,
);

extern "C" fn start(endpoint: u64, initrd: u64, initrd_len: u64, flags: u64) -> ! {
    // SAFETY: a static array used only as this heap's memory.
    unsafe {
        let heap = &raw mut HEAP_SPACE;
        HEAP.lock().init((*heap).as_mut_ptr(), HEAP_SIZE);
    }
    // SAFETY: the kernel maps the initrd read-only at `initrd` for
    // `initrd_len` bytes for the server's whole life.
    let initrd = unsafe { core::slice::from_raw_parts(initrd as *const u8, initrd_len as usize) };
    // SAFETY: `server_main!` defines this symbol with this signature.
    unsafe { lstar_server_main(Boot { endpoint, initrd, flags }) }
}

const HEAP_SIZE: usize = 4 << 20;
static mut HEAP_SPACE: [u8; HEAP_SIZE] = [0; HEAP_SIZE];

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::println!("server panic: {info}");
    crate::mem::poweroff(254)
}
