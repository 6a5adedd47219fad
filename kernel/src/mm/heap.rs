//! The kernel heap: one contiguous run of frames handed to
//! `linked_list_allocator`, reached through the direct map.

use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

const HEAP_FRAMES: usize = 4096; // 16 MiB

pub fn init() {
    let base = super::frame::alloc_contiguous(HEAP_FRAMES, 1).expect("no memory for the kernel heap");
    // SAFETY: the frames are ours alone from now on and stay mapped by the
    // direct map for the kernel's lifetime.
    unsafe { HEAP.lock().init(base.virt(), HEAP_FRAMES * lstar_abi::PAGE_SIZE as usize) };
}
