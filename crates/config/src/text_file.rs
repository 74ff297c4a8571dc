//! Reading a small text file (a config, a sweep file, a run's records) without trusting its
//! size: anything larger than a person would write is refused before it is read into memory.

use std::io::{self, Read};
use std::path::Path;

/// The largest text file read: far more than any config or record, far less than memory.
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024;

/// The text of `path`, refused (`InvalidData`) beyond [`MAX_TEXT_BYTES`] or when not UTF-8.
pub fn read_text(path: &Path) -> io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    // One byte more than allowed tells a file at the limit from one beyond it, whatever the
    // file claims its length is (a pipe, /dev/zero).
    file.take(MAX_TEXT_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_TEXT_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "larger than {} KiB, too large for a config or a record",
                MAX_TEXT_BYTES / 1024
            ),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_is_refused_after_the_limit() {
        let error = read_text(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
    }

    #[test]
    fn a_file_at_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, "#".repeat(MAX_TEXT_BYTES as usize)).unwrap();
        assert_eq!(read_text(&path).unwrap().len() as u64, MAX_TEXT_BYTES);
        std::fs::write(&path, "#".repeat(MAX_TEXT_BYTES as usize + 1)).unwrap();
        assert!(read_text(&path).is_err());
    }
}
