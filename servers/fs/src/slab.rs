//! A table of values under small dense keys, for what the file server
//! looks up on every call: inodes and open file descriptions. A lookup is
//! an index into a vector, where an ordered map of thousands of inodes (the
//! initrd's, busybox's links among them) costs dozens of comparisons.
//!
//! A key names a slot and the slot's generation. A freed slot is taken
//! again by the next insert, so the table does not grow with every file
//! ever made, and its generation moves on, so that a key kept past its
//! value's end (crate::procfs remembers where files were found) finds
//! nothing rather than the slot's new value.

use alloc::vec::Vec;

/// A key: the slot's generation in the high 32 bits, its index plus one
/// in the low 32 (so no key is 0).
pub type Key = u64;

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Indices of empty slots, the most recently freed last.
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab::new()
    }
}

/// The slot index and generation `key` names.
fn split(key: Key) -> (usize, u32) {
    // The low half is the index plus one, the high half the generation:
    // both truncations are the encoding.
    let index = (key as u32).wrapping_sub(1) as usize;
    (index, (key >> 32) as u32)
}

fn join(index: usize, generation: u32) -> Key {
    let low = u32::try_from(index + 1).expect("fewer than 2^32 - 1 slots");
    (u64::from(generation) << 32) | u64::from(low)
}

impl<T> Slab<T> {
    pub const fn new() -> Slab<T> {
        Slab { slots: Vec::new(), free: Vec::new(), len: 0 }
    }

    /// Stores `value` in a free slot, or a new one; returns its key.
    pub fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            debug_assert!(slot.value.is_none());
            slot.value = Some(value);
            return join(index as usize, slot.generation);
        }
        self.slots.push(Slot { generation: 0, value: Some(value) });
        join(self.slots.len() - 1, 0)
    }

    pub fn get(&self, key: Key) -> Option<&T> {
        let (index, generation) = split(key);
        let slot = self.slots.get(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_ref()
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let (index, generation) = split(key);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_mut()
    }

    pub fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// Takes the value out; its key names nothing from now on.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let (index, generation) = split(key);
        let slot = self.slots.get_mut(index).filter(|s| s.generation == generation)?;
        let value = slot.value.take()?;
        // After 2^32 reuses of one slot a very old key could name it again;
        // nothing keeps a dead key that long.
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(u32::try_from(index).expect("indices fit 32 bits"));
        self.len -= 1;
        Some(value)
    }

    /// Values stored.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_dense_and_start_at_one() {
        let mut s = Slab::new();
        assert_eq!(s.insert('a'), 1);
        assert_eq!(s.insert('b'), 2);
        assert_eq!(s.get(1), Some(&'a'));
        assert_eq!(s.get(0), None, "no key is 0");
        assert_eq!(s.get(3), None);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn a_freed_slot_is_reused_under_a_new_key() {
        let mut s = Slab::new();
        let a = s.insert(10);
        let b = s.insert(20);
        assert_eq!(s.remove(a), Some(10));
        assert_eq!(s.remove(a), None);
        let c = s.insert(30);
        assert_ne!(c, a, "a new generation");
        assert_eq!(c as u32, a as u32, "the same slot");
        assert_eq!(s.get(a), None, "the old key finds nothing");
        assert_eq!(s.get_mut(a), None);
        assert_eq!(s.get(c), Some(&30));
        assert_eq!(s.get(b), Some(&20));
        assert_eq!(s.len(), 2);
        assert!(s.contains(b) && !s.contains(a));
    }
}
