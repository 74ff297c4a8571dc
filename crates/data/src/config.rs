use burn::prelude::*;

use crate::{DatasetKind, IMAGE_PIXELS, ImageSet, PixelScaling, Split};

/// How the data reaches the model: which dataset, slicing, pixel scaling and the data loaders.
#[derive(Config, Debug, PartialEq)]
pub struct DataConfig {
    /// `mnist` or `fashion-mnist`.
    #[config(default = "DatasetKind::Mnist")]
    pub dataset: DatasetKind,
    /// Items per training batch (the optimiser steps once per batch).
    #[config(default = 32)]
    pub batch_size: usize,
    /// Items per evaluation batch: only speed depends on it, not the results (up to float
    /// rounding in the averaged loss).
    #[config(default = 1000)]
    pub test_batch_size: usize,
    /// Reshuffle the training split every epoch (with the experiment's seed).
    #[config(default = true)]
    pub shuffle: bool,
    /// Background threads that build batches: 1 overlaps batching with training; 0 builds
    /// them on the training thread; more than 1 makes the batch order depend on thread timing
    /// (runs are then no longer reproducible).
    #[config(default = 1)]
    pub num_workers: usize,
    /// Subtracted from pixels after scaling to 0..1 (0 keeps `ToTensor()` scaling).
    #[config(default = 0.0)]
    pub mean: f32,
    /// Pixels are divided by this after subtracting `mean` (1 keeps `ToTensor()` scaling).
    #[config(default = 1.0)]
    pub std: f32,
    /// Deskew every image before the model sees it ([`crate::deskew`]): training, evaluation
    /// and every picture a trained model is asked about.
    #[config(default = false)]
    pub deskew: bool,
    /// Training images held out (chosen by the seed) to validate on: every selection (best
    /// epoch, sweep ranking) then uses them, never the test split. 0: none, as the tutorial.
    #[config(default = 0)]
    pub validation: usize,
    /// Train on only the first N training items (quick runs, tests).
    pub train_limit: Option<usize>,
    /// Evaluate on only the first N test items (quick runs, tests).
    pub test_limit: Option<usize>,
}

/// More batch-building threads than any machine this runs on can use.
const MAX_WORKERS: usize = 64;

/// A value a config cannot take: the key (relative to its section) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    /// Key within the section, e.g. `batch_size`.
    pub key: &'static str,
    /// What is wrong, for a person.
    pub reason: String,
}

impl InvalidValue {
    /// An invalid value of `key`, for `reason`.
    pub fn new(key: &'static str, reason: impl Into<String>) -> Self {
        Self {
            key,
            reason: reason.into(),
        }
    }
}

impl DataConfig {
    /// Checks every value; the first bad one is returned.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        for (key, size) in [
            ("batch_size", self.batch_size),
            ("test_batch_size", self.test_batch_size),
        ] {
            if size == 0 {
                return Err(InvalidValue::new(key, "must be at least 1"));
            }
        }
        // Pixels end up in (0 - mean) / std ..= (1 - mean) / std: outside these bounds they
        // overflow f32 arithmetic in the first steps instead of training.
        if !(self.mean.is_finite() && self.mean.abs() <= 1e3) {
            return Err(InvalidValue::new(
                "mean",
                "must be a number between -1000 and 1000",
            ));
        }
        if !(self.std.is_finite() && self.std > 0.0) {
            return Err(InvalidValue::new("std", "must be a finite number above 0"));
        }
        if self.std < 1e-3 {
            return Err(InvalidValue::new("std", "must be at least 0.001"));
        }
        if self.num_workers > MAX_WORKERS {
            return Err(InvalidValue::new(
                "num_workers",
                format!("must be at most {MAX_WORKERS}"),
            ));
        }
        for (key, limit) in [
            ("train_limit", self.train_limit),
            ("test_limit", self.test_limit),
        ] {
            if limit == Some(0) {
                return Err(InvalidValue::new(key, "must be at least 1 when given"));
            }
        }
        Ok(())
    }

    /// `split` of the dataset as the model sees it, read from its files.
    #[cfg(feature = "files")]
    pub fn images(&self, split: Split) -> Result<ImageSet, crate::DataError> {
        Ok(self.prepared(ImageSet::load(self.dataset, split)?))
    }

    /// The training split as the model sees it, read from its files, without its validation
    /// images, and those (`None` when `validation` is 0).
    #[cfg(feature = "files")]
    pub fn training_images(
        &self,
        seed: u64,
    ) -> Result<(ImageSet, Option<ImageSet>), crate::DataError> {
        Ok(self.without_validation(self.images(Split::Train)?, seed))
    }

    /// A split as the model sees it: cut to its limit, deskewed if asked.
    pub fn prepared(&self, images: ImageSet) -> ImageSet {
        let limit = match images.split() {
            Split::Train => self.train_limit,
            Split::Test => self.test_limit,
        };
        let images = images.truncated(limit);
        if self.deskew {
            images.deskewed()
        } else {
            images
        }
    }

    /// The prepared training split without its validation images, and those (`None` when
    /// `validation` is 0), held out by `seed`.
    pub fn without_validation(&self, train: ImageSet, seed: u64) -> (ImageSet, Option<ImageSet>) {
        match self.validation {
            0 => (train, None),
            count => {
                let (train, validation) = train.hold_out(count, seed);
                (train, Some(validation))
            }
        }
    }

    /// One picture (784 pixels, MNIST's way) as the model sees it.
    pub fn prepare(&self, pixels: &[u8]) -> [u8; IMAGE_PIXELS] {
        if self.deskew {
            crate::deskew(pixels)
        } else {
            pixels[..IMAGE_PIXELS]
                .try_into()
                .expect("a picture has 784 pixels")
        }
    }

    /// The pixel scaling these settings describe.
    pub fn scaling(&self) -> PixelScaling {
        PixelScaling::new(self.mean, self.std)
    }
}
