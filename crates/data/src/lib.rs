//! MNIST for Burn: the raw files provisioned offline, Burn's own `MnistDataset` over them, and a
//! batcher that turns items into the flat `[batch, 784]` rows a logistic regression reads.

mod batcher;
mod config;
mod dataset;
mod error;
pub mod idx;
pub mod provision;
mod shuffle;

pub use batcher::{MnistBatch, MnistBatcher};
pub use config::{DataConfig, InvalidValue};
pub use dataset::{MnistSplit, Split, VerifiedMnist};
pub use error::DataError;
pub use shuffle::{EpochShuffledLoader, PermutedDataset, permutation};

/// Side of a square MNIST image, in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in one flattened image: the model's input width.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Number of digit classes.
pub const NUM_CLASSES: usize = 10;
