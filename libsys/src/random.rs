//! Random bytes for AT_RANDOM and getrandom: RDRAND where the CPU has it,
//! else the TSC stirred through a mixer (not cryptographic).

/// Sixteen random bytes.
pub fn bytes() -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&word(i as u64).to_le_bytes());
    }
    out
}

fn word(salt: u64) -> u64 {
    if core::arch::x86_64::__cpuid(1).ecx & (1 << 30) != 0 {
        let mut v = 0u64;
        for _ in 0..10 {
            // SAFETY: CPUID says RDRAND exists.
            if unsafe { rdrand(&mut v) } {
                return v;
            }
        }
    }
    // SAFETY: RDTSC has no side effects.
    let t = unsafe { core::arch::x86_64::_rdtsc() };
    mix(t ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

#[target_feature(enable = "rdrand")]
unsafe fn rdrand(v: &mut u64) -> bool {
    core::arch::x86_64::_rdrand64_step(v) == 1
}

/// splitmix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
