//! The training split's order, epoch by epoch, depending only on (seed, epoch).
//!
//! Burn's `DataLoaderBuilder::shuffle` draws each epoch's order from one random generator that
//! advances with every epoch (and is forked when the `Learner` moves the loader to its
//! device), so epoch 7 of a resumed run would not see the order epoch 7 of an uninterrupted
//! run saw. [`EpochShuffledLoader`] wraps an unshuffled Burn loader over a
//! [`PermutedDataset`] and sets the order for epoch `e` to `permutation(seed, e)` (or the
//! images in their order, without shuffling), so a run resumed at any epoch continues exactly
//! as it would have. Its items are [`Draw`]s: an image and the epoch that draws it, which is
//! what an augmentation of the image is drawn from.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use burn::data::dataloader::{DataLoader, DataLoaderIterator};
use burn::data::dataset::{Dataset, DatasetError};
use burn::prelude::Device;

use crate::{Draw, permutation};

/// An epoch's order of the images.
struct Order {
    epoch: usize,
    images: Vec<usize>,
}

/// A dataset of image indices seen through a shared, replaceable order.
pub struct PermutedDataset<D> {
    dataset: D,
    order: Arc<RwLock<Order>>,
}

impl<D: Dataset<usize>> Dataset<Draw> for PermutedDataset<D> {
    fn get(&self, position: usize) -> Result<Draw, DatasetError> {
        let order = self.order.read().expect("order lock");
        let index = self.dataset.get(order.images[position])?;
        Ok(Draw {
            index,
            epoch: order.epoch,
        })
    }

    fn len(&self) -> usize {
        self.dataset.len()
    }
}

/// A Burn data loader that sets its dataset's order at the start of every epoch: the one
/// [`permutation`] gives for that epoch, or the images in their order without `shuffle`.
pub struct EpochShuffledLoader<O> {
    inner: Arc<dyn DataLoader<O>>,
    order: Arc<RwLock<Order>>,
    seed: u64,
    shuffle: bool,
    next_epoch: Arc<AtomicUsize>,
}

impl<O: 'static> EpochShuffledLoader<O> {
    /// Wraps `build(permuted_dataset)`, an unshuffled Burn loader, so its first iteration is
    /// epoch `first_epoch` (1 for a new run, E + 1 when resuming after epoch E).
    pub fn build<D>(
        dataset: D,
        seed: u64,
        shuffle: bool,
        first_epoch: usize,
        build: impl FnOnce(PermutedDataset<D>) -> Arc<dyn DataLoader<O>>,
    ) -> Arc<dyn DataLoader<O>>
    where
        D: Dataset<usize>,
    {
        let order = Arc::new(RwLock::new(Order {
            epoch: first_epoch,
            images: (0..dataset.len()).collect(),
        }));
        let inner = build(PermutedDataset {
            dataset,
            order: order.clone(),
        });
        Arc::new(Self {
            inner,
            order,
            seed,
            shuffle,
            next_epoch: Arc::new(AtomicUsize::new(first_epoch)),
        })
    }
}

impl<O: 'static> DataLoader<O> for EpochShuffledLoader<O> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<O> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        let mut order = self.order.write().expect("order lock");
        let len = order.images.len();
        order.images = if self.shuffle {
            permutation(self.seed, epoch, len)
        } else {
            (0..len).collect()
        };
        order.epoch = epoch;
        drop(order);
        self.inner.iter()
    }

    fn num_items(&self) -> usize {
        self.inner.num_items()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<O>> {
        Arc::new(Self {
            inner: self.inner.to_device(device),
            order: self.order.clone(),
            seed: self.seed,
            shuffle: self.shuffle,
            next_epoch: self.next_epoch.clone(),
        })
    }

    /// A part of the epoch's order (Burn's multi-device training gives each device one).
    /// Every slice counts its own epochs and writes the same order for an epoch, so the
    /// slices together cover each epoch's order exactly once, whichever starts first.
    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<O>> {
        Arc::new(Self {
            inner: self.inner.slice(start, end),
            order: self.order.clone(),
            seed: self.seed,
            shuffle: self.shuffle,
            next_epoch: Arc::new(AtomicUsize::new(self.next_epoch.load(Ordering::SeqCst))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permutation_is_a_shuffle_fixed_by_seed_and_epoch() {
        let first = permutation(42, 1, 1000);
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        assert_ne!(first, sorted, "shuffled");
        assert_eq!(first, permutation(42, 1, 1000), "reproducible");
        assert_ne!(first, permutation(42, 2, 1000), "a new order each epoch");
        assert_ne!(
            first,
            permutation(43, 1, 1000),
            "a new order for another seed"
        );
    }
}
