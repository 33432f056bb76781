//! Inputs shared by the integration tests of the unsorted paths.

/// A deterministic pseudo-random stream (splitmix64), so the inputs do not
/// depend on a random-number crate.
pub fn stream(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Roughly normal values (sum of four uniforms), shifted.
pub fn normalish(n: usize, shift: f64, seed: u64) -> Vec<f64> {
    let mut u = stream(seed);
    (0..n)
        .map(|_| (0..4).map(|_| u()).sum::<f64>() - 2.0 + shift)
        .collect()
}
