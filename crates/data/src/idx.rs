//! The IDX format of MNIST-style files, checked before anything trusts it.
//!
//! Burn's `MnistDataset` reads the header counts and asserts (panics) when a file is short;
//! every raw file is therefore parsed here first, and a bad one becomes an [`IdxError`] that
//! names what is wrong. Fashion-MNIST, which Burn does not read, is decoded by the same code.

/// Magic number of an IDX file of unsigned bytes with three dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with one dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// What can be wrong with an IDX file's bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdxError {
    #[error("only {len} bytes, shorter than the {header}-byte IDX header")]
    NoHeader { len: usize, header: usize },
    #[error("wrong magic number {found:#010x} (expected {expected:#010x} for {kind})")]
    WrongMagic {
        found: u32,
        expected: u32,
        kind: &'static str,
    },
    #[error("images are {rows}x{cols}, expected {expected}x{expected}")]
    WrongShape {
        rows: usize,
        cols: usize,
        expected: usize,
    },
    #[error(
        "the header declares {declared} items ({needed} bytes after the header) \
         but only {available} bytes follow: the file is truncated"
    )]
    Truncated {
        declared: usize,
        needed: usize,
        available: usize,
    },
    #[error("{extra} unexpected bytes after the {declared} items the header declares")]
    TrailingBytes { declared: usize, extra: usize },
    #[error("label {label} at index {index} is outside 0-{max}")]
    LabelOutOfRange { index: usize, label: u8, max: u8 },
    #[error("{images} images but {labels} labels")]
    CountMismatch { images: usize, labels: usize },
}

/// A parsed images file: its count and side, and the pixel bytes (row-major, image after image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Images<'a> {
    pub count: usize,
    pub side: usize,
    pub pixels: &'a [u8],
}

/// Parses an images file of `side`x`side` images.
pub fn parse_images(bytes: &[u8], side: usize) -> Result<Images<'_>, IdxError> {
    let header = read_header(bytes, IMAGES_MAGIC, "images", 3)?;
    let (count, rows, cols) = (header[0], header[1], header[2]);
    if (rows, cols) != (side, side) {
        return Err(IdxError::WrongShape {
            rows,
            cols,
            expected: side,
        });
    }
    let pixels = payload(bytes, 16, count, side * side)?;
    Ok(Images {
        count,
        side,
        pixels,
    })
}

/// Parses a labels file whose labels must lie in `0..classes`.
pub fn parse_labels(bytes: &[u8], classes: usize) -> Result<&[u8], IdxError> {
    let header = read_header(bytes, LABELS_MAGIC, "labels", 1)?;
    let labels = payload(bytes, 8, header[0], 1)?;
    let max = u8::try_from(classes - 1).unwrap_or(u8::MAX);
    match labels.iter().position(|&label| label > max) {
        Some(index) => Err(IdxError::LabelOutOfRange {
            index,
            label: labels[index],
            max,
        }),
        None => Ok(labels),
    }
}

/// Checks that an images file and a labels file describe the same number of items.
pub fn check_pair(images: usize, labels: usize) -> Result<(), IdxError> {
    if images == labels {
        Ok(())
    } else {
        Err(IdxError::CountMismatch { images, labels })
    }
}

/// Reads the magic number and `dims` big-endian u32 dimensions.
fn read_header(
    bytes: &[u8],
    magic: u32,
    kind: &'static str,
    dims: usize,
) -> Result<Vec<usize>, IdxError> {
    let header = 4 + 4 * dims;
    if bytes.len() < header {
        return Err(IdxError::NoHeader {
            len: bytes.len(),
            header,
        });
    }
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    if word(0) != magic {
        return Err(IdxError::WrongMagic {
            found: word(0),
            expected: magic,
            kind,
        });
    }
    Ok((0..dims).map(|dim| word(4 + 4 * dim) as usize).collect())
}

/// The `count` items of `item_len` bytes after a `header`-byte header, exactly.
fn payload(bytes: &[u8], header: usize, count: usize, item_len: usize) -> Result<&[u8], IdxError> {
    let available = bytes.len() - header;
    let needed = count.saturating_mul(item_len);
    if needed > available {
        return Err(IdxError::Truncated {
            declared: count,
            needed,
            available,
        });
    }
    if needed < available {
        return Err(IdxError::TrailingBytes {
            declared: count,
            extra: available - needed,
        });
    }
    Ok(&bytes[header..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images_file(count: u32, side: u32, payload: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [IMAGES_MAGIC, count, side, side] {
            bytes.extend(word.to_be_bytes());
        }
        // Distinct bytes, so a parser reading from the wrong offset is caught.
        bytes.extend((0..payload).map(|i| (i % 251) as u8 + 1));
        bytes
    }

    fn labels_file(labels: &[u8]) -> Vec<u8> {
        let mut bytes = LABELS_MAGIC.to_be_bytes().to_vec();
        bytes.extend((labels.len() as u32).to_be_bytes());
        bytes.extend(labels);
        bytes
    }

    #[test]
    fn well_formed_files_parse() {
        let bytes = images_file(2, 3, 18);
        let images = parse_images(&bytes, 3).unwrap();
        assert_eq!((images.count, images.side), (2, 3));
        assert_eq!(images.pixels, (1..=18).collect::<Vec<u8>>());
        assert_eq!(
            parse_labels(&labels_file(&[0, 9, 3]), 10).unwrap(),
            [0, 9, 3]
        );
    }

    #[test]
    fn each_defect_has_its_own_error() {
        assert_eq!(
            parse_images(&[0; 10], 28),
            Err(IdxError::NoHeader {
                len: 10,
                header: 16
            })
        );
        assert!(matches!(
            parse_images(&labels_file(&[1; 20]), 28),
            Err(IdxError::WrongMagic {
                found: LABELS_MAGIC,
                ..
            })
        ));
        assert!(matches!(
            parse_images(&images_file(1, 27, 27 * 27), 28),
            Err(IdxError::WrongShape { rows: 27, .. })
        ));
        assert_eq!(
            parse_images(&images_file(3, 2, 8), 2),
            Err(IdxError::Truncated {
                declared: 3,
                needed: 12,
                available: 8
            })
        );
        assert_eq!(
            parse_images(&images_file(1, 2, 6), 2),
            Err(IdxError::TrailingBytes {
                declared: 1,
                extra: 2
            })
        );
        assert_eq!(
            parse_labels(&labels_file(&[1, 2, 12]), 10),
            Err(IdxError::LabelOutOfRange {
                index: 2,
                label: 12,
                max: 9
            })
        );
        assert_eq!(
            check_pair(3, 2),
            Err(IdxError::CountMismatch {
                images: 3,
                labels: 2
            })
        );
    }

    #[test]
    fn a_huge_declared_count_is_truncation_not_an_allocation() {
        let bytes = images_file(u32::MAX, 28, 100);
        assert!(matches!(
            parse_images(&bytes, 28),
            Err(IdxError::Truncated { declared, .. }) if declared == u32::MAX as usize
        ));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Any bytes at all: an answer, never a panic or a huge allocation.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_images(&bytes, 28);
            let _ = parse_labels(&bytes, 10);
        }

        /// A well-formed header is accepted exactly when the payload length matches it.
        #[test]
        fn headers_are_accepted_exactly_when_consistent(
            count in 0u32..50,
            rows in 0u32..6,
            cols in 0u32..6,
            payload in 0usize..200,
            magic in prop_oneof![Just(IMAGES_MAGIC), Just(LABELS_MAGIC), any::<u32>()],
        ) {
            let mut bytes = Vec::new();
            for word in [magic, count, rows, cols] {
                bytes.extend(word.to_be_bytes());
            }
            bytes.extend((0..payload).map(|i| i as u8));
            let consistent = magic == IMAGES_MAGIC
                && rows == 4
                && cols == 4
                && payload == count as usize * 16;
            let parsed = parse_images(&bytes, 4);
            prop_assert_eq!(parsed.is_ok(), consistent, "{:?}", parsed);
            if let Ok(images) = parsed {
                prop_assert_eq!(images.count, count as usize);
                prop_assert_eq!(images.pixels, &bytes[16..]);
            }
        }

        /// Labels are accepted exactly when all are digits and the count matches.
        #[test]
        fn labels_are_checked_one_by_one(
            labels in proptest::collection::vec(0u8..12, 0..40),
            declared_extra in 0u32..3,
        ) {
            let mut bytes = LABELS_MAGIC.to_be_bytes().to_vec();
            bytes.extend((labels.len() as u32 + declared_extra).to_be_bytes());
            bytes.extend(&labels);
            let parsed = parse_labels(&bytes, 10);
            let expected = declared_extra == 0 && labels.iter().all(|&label| label <= 9);
            prop_assert_eq!(parsed.is_ok(), expected, "{:?}", parsed);
            if let Ok(parsed) = parsed {
                prop_assert_eq!(parsed, &labels[..]);
            }
        }
    }
}
