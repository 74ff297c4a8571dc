//! MNIST for Burn: the raw files provisioned offline and read with Burn's own `MnistDataset`
//! (Fashion-MNIST through the same IDX checks), held in memory once, and a batcher that turns
//! them into the flat `[batch, 784]` rows a logistic regression reads.

mod batcher;
mod config;
mod error;
pub mod idx;
mod images;
pub mod preprocess;
pub mod provision;
mod shuffle;

pub use batcher::{MnistBatch, MnistBatcher, PixelScaling};
pub use config::{DataConfig, InvalidValue};
pub use error::DataError;
pub use images::{DatasetKind, FASHION_MNIST_DIR, ImageSet, Indices, Split};
pub use shuffle::{EpochShuffledLoader, PermutedDataset, permutation};

/// Side of a square MNIST image, in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in one flattened image: the model's input width.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Number of digit classes.
pub const NUM_CLASSES: usize = 10;
