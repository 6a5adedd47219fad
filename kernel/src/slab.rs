//! A table of kernel objects indexed by their ids in constant time.
//!
//! Threads and address spaces are looked up on every syscall that crosses
//! to a server, several times each; a search tree made those lookups most
//! of the forwarding cost. An id is a slot number in the low 32 bits and
//! the slot's generation above them: a freed slot is reused with the next
//! generation, so a stale id names nothing rather than the slot's new
//! object. Slot 0 is never used, so no id is 0.

use alloc::vec::Vec;

pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Slots free for reuse.
    free: Vec<u32>,
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

fn split(id: u64) -> (usize, u32) {
    (id as u32 as usize, (id >> 32) as u32)
}

impl<T> Slab<T> {
    pub const fn new() -> Self {
        Slab { slots: Vec::new(), free: Vec::new() }
    }

    /// Stores the value `make` builds from its id, and returns the id.
    pub fn insert_with(&mut self, make: impl FnOnce(u64) -> T) -> u64 {
        if self.slots.is_empty() {
            self.slots.push(Slot { generation: 0, value: None });
        }
        let slot = match self.free.pop() {
            Some(slot) => slot as usize,
            None => {
                self.slots.push(Slot { generation: 0, value: None });
                self.slots.len() - 1
            }
        };
        let s = &mut self.slots[slot];
        let id = (s.generation as u64) << 32 | slot as u64;
        s.value = Some(make(id));
        id
    }

    #[inline(always)]
    pub fn get(&self, id: &u64) -> Option<&T> {
        let (slot, generation) = split(*id);
        match self.slots.get(slot) {
            Some(s) if s.generation == generation => s.value.as_ref(),
            _ => None,
        }
    }

    #[inline(always)]
    pub fn get_mut(&mut self, id: &u64) -> Option<&mut T> {
        let (slot, generation) = split(*id);
        match self.slots.get_mut(slot) {
            Some(s) if s.generation == generation => s.value.as_mut(),
            _ => None,
        }
    }

    /// Two different objects at once; None if either id names nothing or
    /// both name the same one.
    #[inline(always)]
    pub fn pair_mut(&mut self, a: &u64, b: &u64) -> Option<(&mut T, &mut T)> {
        let ((sa, ga), (sb, gb)) = (split(*a), split(*b));
        let [x, y] = self.slots.get_disjoint_mut([sa, sb]).ok()?;
        if x.generation != ga || y.generation != gb {
            return None;
        }
        Some((x.value.as_mut()?, y.value.as_mut()?))
    }

    pub fn remove(&mut self, id: &u64) -> Option<T> {
        let (slot, generation) = split(*id);
        let s = self.slots.get_mut(slot).filter(|s| s.generation == generation)?;
        let value = s.value.take()?;
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot as u32);
        Some(value)
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| s.value.as_ref())
    }
}

impl<T> core::ops::Index<&u64> for Slab<T> {
    type Output = T;
    #[inline(always)]
    fn index(&self, id: &u64) -> &T {
        self.get(id).expect("no object with this id")
    }
}
