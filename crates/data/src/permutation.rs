//! The order in which an epoch visits the training images: a function of (seed, epoch) alone,
//! so a resumed run, and a run in the browser, see exactly the order an uninterrupted native
//! run saw.

/// The item order of `epoch` (1-based) for `seed`: a Fisher-Yates shuffle driven by
/// SplitMix64, fixed here so the order never changes with a dependency's version.
pub fn permutation(seed: u64, epoch: usize, len: usize) -> Vec<usize> {
    let mut state = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..len).collect();
    for i in (1..len).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}
