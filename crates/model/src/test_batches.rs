//! Real MNIST batches for the tests.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::prelude::Device;
use mnist_data::{DatasetKind, ImageSet, MnistBatch, MnistBatcher, PixelScaling, Split};

/// The first `n` training images, standardised as the configs do, on `device`.
pub(crate) fn real_batch(n: usize, device: &Device) -> MnistBatch {
    let train = ImageSet::load(DatasetKind::Mnist, Split::Train).expect("MNIST available");
    MnistBatcher::new(Arc::new(train), PixelScaling::new(0.1307, 0.3081))
        .batch((0..n).collect(), device)
}
