//! 64-bit hashes of values and a flat set of them: key sets, distinct counts and
//! duplicate counts store hashes, never the values.

/// Values are hashed to 64 bits once; sets store the hashes (no per-row allocation).
/// With 64-bit hashes a collision among a few million keys has a probability around
/// 1e-7, which we accept for key and duplicate checks.
pub fn hash_bytes(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = (b.len() as u64).wrapping_mul(K) ^ 0x2545_F491_4F6C_DD1D;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes(c.try_into().unwrap());
        h = (h ^ v).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    fmix(h)
}

pub(super) fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A set of 64-bit hashes: open addressing with linear probing in one flat array
/// (one cache line per lookup, and lookups can be prefetched). 0 marks an empty slot;
/// the hash 0 itself is kept in a flag.
#[derive(Debug, Clone, Default)]
pub struct HashSet64 {
    slots: Vec<u64>,
    len: usize,
    has_zero: bool,
}

impl HashSet64 {
    pub fn len(&self) -> usize {
        self.len + self.has_zero as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// Add `h`; true when it was not there.
    #[inline]
    pub fn insert(&mut self, h: u64) -> bool {
        if h == 0 {
            let new = !self.has_zero;
            self.has_zero = true;
            return new;
        }
        // Keep the load at most 1/2: short probe sequences.
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                self.slots[i] = h;
                self.len += 1;
                return true;
            }
            if s == h {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    pub fn contains(&self, h: &u64) -> bool {
        let h = *h;
        if h == 0 {
            return self.has_zero;
        }
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == h {
                return true;
            }
            if s == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /// Ask the CPU to fetch the slot of `h` (for a lookup a few rows later).
    #[inline]
    pub fn prefetch(&self, h: u64) {
        #[cfg(target_arch = "x86_64")]
        if !self.slots.is_empty() {
            let i = h as usize & self.mask();
            // SAFETY: a prefetch of an address inside the slot array; it never faults.
            unsafe {
                use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                _mm_prefetch::<_MM_HINT_T0>(self.slots.as_ptr().add(i) as *const i8);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = h;
    }

    fn grow(&mut self) {
        self.reserve((self.slots.len()).max(8));
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots
            .iter()
            .copied()
            .filter(|h| *h != 0)
            .chain(self.has_zero.then_some(0))
    }

    /// Add every member of `other`.
    pub fn extend(&mut self, other: &HashSet64) {
        self.reserve(self.len + other.len());
        for h in other.iter() {
            self.insert(h);
        }
    }

    /// Make room for `n` members without growing again.
    pub fn reserve(&mut self, n: usize) {
        let want = (n * 2).next_power_of_two();
        if want > self.slots.len() {
            let old = std::mem::replace(&mut self.slots, vec![0; want]);
            self.len = 0;
            for h in old {
                if h != 0 {
                    self.insert(h);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_differ() {
        let a = hash_bytes(b"DLR001");
        assert_ne!(a, hash_bytes(b"DLR002"));
        assert_ne!(hash_bytes(b""), hash_bytes(b"\0"));
        assert_ne!(hash_bytes(b"abcdefgh"), hash_bytes(b"abcdefgh\0"));
    }
}
