//! MNIST for Burn: the raw files provisioned offline where Burn's `MnistDataset` looks for them,
//! read through IDX checks (Fashion-MNIST too), held in memory once, and a batcher that turns
//! them into the flat `[batch, 784]` rows a logistic regression reads.

//!
//! Features: `files` reads the files from disk and provisions missing ones (npm); `loader`
//! feeds Burn's data loaders. Without either (the browser build) a split is made from the
//! bytes of its files, checked against the same digests, and batched the same way.

mod augment;
mod batcher;
mod config;
pub mod deskew;
mod error;
pub mod idx;
mod images;
mod permutation;
pub mod picture;
pub mod preprocess;
#[cfg(feature = "files")]
pub mod provision;
mod raw_files;
#[cfg(feature = "loader")]
mod shuffle;
#[cfg(feature = "loader")]
mod slabs;
mod stroke;

pub use augment::AugmentConfig;
pub use batcher::{Draw, MnistBatch, MnistBatcher, PixelScaling};
pub use config::{DataConfig, InvalidValue};
pub use deskew::deskew;
pub use error::DataError;
#[cfg(feature = "loader")]
pub use images::Indices;
#[cfg(feature = "files")]
pub use images::fashion_dir;
pub use images::{DatasetKind, FASHION_MNIST_DIR, ImageSet, MnistItem, Split};
pub use permutation::permutation;
pub use raw_files::{FileKind, NPM_PACKAGE, RAW_FILES, RawFile};
#[cfg(feature = "loader")]
pub use shuffle::{EpochShuffledLoader, PermutedDataset};
#[cfg(feature = "loader")]
pub use slabs::SlabLoader;

/// Side of a square MNIST image, in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in one flattened image: the model's input width.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;

/// Side of the box MNIST scaled each digit into, inside its 28x28 frame.
const DIGIT_BOX: u32 = 20;
/// Number of digit classes.
pub const NUM_CLASSES: usize = 10;

#[cfg(test)]
mod test_support;
