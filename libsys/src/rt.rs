//! Start-up and the pieces `no_std` leaves to us: `_start`, the panic
//! handler and the heap.

use crate::Boot;
use core::alloc::{GlobalAlloc, Layout};
use linked_list_allocator::Heap;
use lstar_abi::native::prot;
use spin::Mutex;

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
    if HEAP.grow(HEAP_INITIAL).is_err() {
        crate::println!("server: no memory for a heap");
        crate::mem::poweroff(254);
    }
    // SAFETY: the kernel maps the initrd read-only at `initrd` for
    // `initrd_len` bytes for the server's whole life.
    let initrd = unsafe { core::slice::from_raw_parts(initrd as *const u8, initrd_len as usize) };
    // SAFETY: `server_main!` defines this symbol with this signature.
    unsafe { lstar_server_main(Boot { endpoint, initrd, flags }) }
}

/// Where the heap starts in every server; it grows upwards from there.
const HEAP_BASE: u64 = 0x20_0000_0000;
const HEAP_INITIAL: usize = 1 << 20;
/// The heap grows by at least this much at a time.
const HEAP_STEP: usize = 1 << 20;
/// And no further than this.
const HEAP_MAX: usize = 1 << 30;

/// A heap that maps more of its own address space when it runs out.
struct GrowingHeap {
    heap: Mutex<(Heap, usize)>,
}

impl GrowingHeap {
    /// Maps `by` more bytes at the heap's end and hands them to it.
    fn grow(&self, by: usize) -> Result<(), ()> {
        let mut guard = self.heap.lock();
        let (heap, size) = &mut *guard;
        let by = by.next_multiple_of(HEAP_STEP);
        if *size + by > HEAP_MAX {
            return Err(());
        }
        let space = crate::mem::Space::current().map_err(drop)?;
        space.map(HEAP_BASE + *size as u64, by as u64, prot::READ | prot::WRITE).map_err(drop)?;
        if *size == 0 {
            // SAFETY: the range was just mapped, is used by nothing else and
            // stays mapped for the server's life.
            unsafe { heap.init(HEAP_BASE as *mut u8, by) };
        } else {
            // SAFETY: the new pages follow the heap's end directly.
            unsafe { heap.extend(by) };
        }
        *size += by;
        Ok(())
    }
}

// SAFETY: allocation goes through the locked linked-list heap; growing maps
// fresh pages only after the current ones, under the same lock.
unsafe impl GlobalAlloc for GrowingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        loop {
            if let Ok(p) = self.heap.lock().0.allocate_first_fit(layout) {
                return p.as_ptr();
            }
            if self.grow(layout.size() + layout.align()).is_err() {
                return core::ptr::null_mut();
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = core::ptr::NonNull::new(ptr) {
            // SAFETY: `ptr` came from `alloc` with this layout (the
            // GlobalAlloc contract).
            unsafe { self.heap.lock().0.deallocate(p, layout) };
        }
    }
}

#[global_allocator]
static HEAP: GrowingHeap = GrowingHeap { heap: Mutex::new((Heap::empty(), 0)) };

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::println!("server panic: {info}");
    crate::mem::poweroff(254)
}
