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
    /// The heap, its mapped size, and the small-block lists.
    heap: Mutex<(Heap, usize, FreeLists)>,
}

impl GrowingHeap {
    /// Maps `by` more bytes at the heap's end and hands them to it.
    fn grow(&self, by: usize) -> Result<(), ()> {
        let mut guard = self.heap.lock();
        let (heap, size, _) = &mut *guard;
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

/// Small blocks are kept by size class (powers of two, 16 bytes to a page)
/// on free lists in front of the linked-list heap: a first-fit search over
/// a fragmented hole list cost more than the rest of a pipe round trip.
/// Freed small blocks go back to their class's list, never to the heap.
const MIN_CLASS_SHIFT: u32 = 4;
const MAX_CLASS_SHIFT: u32 = 12;
const CLASSES: usize = (MAX_CLASS_SHIFT - MIN_CLASS_SHIFT + 1) as usize;

/// The size class of `layout`, if it is small enough for one.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS_SHIFT);
    if size > 1 << MAX_CLASS_SHIFT {
        return None;
    }
    Some((size.next_power_of_two().trailing_zeros() - MIN_CLASS_SHIFT) as usize)
}

fn class_size(class: usize) -> usize {
    1 << (class as u32 + MIN_CLASS_SHIFT)
}

/// The first free block of each class; each free block holds the address
/// of the next.
struct FreeLists([*mut u8; CLASSES]);

// SAFETY: the lists are only reached under the heap's lock.
unsafe impl Send for FreeLists {}

impl GrowingHeap {
    /// Takes a block of `class` from its list, carving a page's worth of
    /// new blocks from the heap when the list is empty.
    fn alloc_small(&self, class: usize) -> *mut u8 {
        let size = class_size(class);
        loop {
            {
                let mut guard = self.heap.lock();
                let (heap, _, lists) = &mut *guard;
                let head = lists.0[class];
                if !head.is_null() {
                    // SAFETY: a free block of this class holds the next
                    // free block's address in its first word.
                    lists.0[class] = unsafe { head.cast::<*mut u8>().read() };
                    return head;
                }
                let count = ((1 << MAX_CLASS_SHIFT) / size).max(1);
                let batch = Layout::from_size_align(size * count, size).expect("class layouts are valid");
                if let Ok(p) = heap.allocate_first_fit(batch) {
                    let base = p.as_ptr();
                    // Blocks 1.. go on the list; block 0 is the answer.
                    for i in (1..count).rev() {
                        // SAFETY: block `i` lies inside the batch just
                        // allocated, aligned to its size (at least 16).
                        unsafe {
                            let block = base.add(i * size);
                            block.cast::<*mut u8>().write(lists.0[class]);
                            lists.0[class] = block;
                        }
                    }
                    return base;
                }
            }
            if self.grow(size * 2).is_err() {
                return core::ptr::null_mut();
            }
        }
    }
}

// SAFETY: allocation goes through the locked linked-list heap or the
// locked class lists; growing maps fresh pages only after the current
// ones, under the same lock.
unsafe impl GlobalAlloc for GrowingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(class) = class_of(layout) {
            return self.alloc_small(class);
        }
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
        let Some(p) = core::ptr::NonNull::new(ptr) else { return };
        let mut guard = self.heap.lock();
        match class_of(layout) {
            Some(class) => {
                let lists = &mut guard.2;
                // SAFETY: the block came from `alloc_small` for this class
                // (the GlobalAlloc contract) and is at least 16 bytes.
                unsafe { ptr.cast::<*mut u8>().write(lists.0[class]) };
                lists.0[class] = ptr;
            }
            // SAFETY: `ptr` came from `alloc` with this layout (the
            // GlobalAlloc contract).
            None => unsafe { guard.0.deallocate(p, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Within one class the block already fits.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else { return core::ptr::null_mut() };
        if class_of(layout).is_some() && class_of(new_layout) == class_of(layout) {
            return ptr;
        }
        // SAFETY: the GlobalAlloc contract, passed on.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do
            // not overlap; the old one is freed after the copy.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[global_allocator]
static HEAP: GrowingHeap = GrowingHeap { heap: Mutex::new((Heap::empty(), 0, FreeLists([core::ptr::null_mut(); CLASSES]))) };

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::println!("server panic: {info}");
    crate::mem::poweroff(254)
}
