//! What the data crate's unit tests share with the end-to-end suite, which includes this file
//! by path (`tests/support/mod.rs`): one copy, no dependency between the two.

use std::io::Write;

/// Whether this is CI (`CI=true`, as CI services set it), which installs everything the tests
/// need: there a test that would skip fails instead.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// Prints why a test is skipped, and adds it to the list `just test` shows at the end
/// (`MNIST_BURN_SKIPS`); in CI the test fails instead, naming what is missing.
pub fn report_skip(test: &str, reason: &str) {
    assert!(
        !in_ci(),
        "{test} cannot run: {reason} (CI installs everything the tests need)"
    );
    let line = format!("SKIPPED {test}: {reason}");
    println!("{line}");
    if let Some(log) = std::env::var_os("MNIST_BURN_SKIPS") {
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(log)
            .expect("skip log");
        // One write, so that lines from tests running at once never interleave.
        log.write_all(format!("{line}\n").as_bytes())
            .expect("skip log");
    }
}

/// A little-endian EXIF block holding only an orientation tag.
pub fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"II*\0".to_vec();
    exif.extend(8u32.to_le_bytes());
    exif.extend(1u16.to_le_bytes());
    exif.extend(0x0112u16.to_le_bytes());
    exif.extend(3u16.to_le_bytes());
    exif.extend(1u32.to_le_bytes());
    exif.extend(value.to_le_bytes());
    exif.extend([0, 0]);
    exif.extend(0u32.to_le_bytes());
    exif
}
