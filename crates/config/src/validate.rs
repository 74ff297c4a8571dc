//! Checks on values, alone and against each other, so that every config that loads can
//! train: nothing is left for Burn to panic on after the run folder exists.

use mnist_data::{IMAGE_PIXELS, InvalidValue, NUM_CLASSES};

use super::{ExperimentConfig, LrSchedule, OptimizerConfig, OptimizerKind};

/// Training images in both MNIST and Fashion-MNIST.
const TRAIN_ITEMS: usize = 60_000;
/// More devices than one machine holds.
const MAX_DEVICES: usize = 16;
/// More passes than any use of this model needs; keeps step counts far from overflow.
const MAX_EPOCHS: usize = 100_000;

impl OptimizerConfig {
    pub(super) fn validate(&self) -> Result<(), InvalidValue> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(InvalidValue::new("lr", "must be a finite number above 0"));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(InvalidValue::new(
                "momentum",
                "must be at least 0 and below 1",
            ));
        }
        if self.name == OptimizerKind::Adam && self.momentum > 0.0 {
            return Err(InvalidValue::new("momentum", "applies to `sgd` only"));
        }
        if self.nesterov && self.momentum == 0.0 {
            return Err(InvalidValue::new("nesterov", "needs a momentum above 0"));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(InvalidValue::new(
                "weight_decay",
                "must be a finite number, 0 or above",
            ));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0 && self.min_lr <= self.lr) {
            return Err(InvalidValue::new("min_lr", "must be between 0 and `lr`"));
        }
        if self.schedule == LrSchedule::Cosine && self.lr > 1.0 {
            return Err(InvalidValue::new(
                "lr",
                "must be at most 1 with the cosine schedule",
            ));
        }
        Ok(())
    }
}

impl ExperimentConfig {
    /// Checks every value, then the values that constrain each other; returns the full key of
    /// the first bad one and why.
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let section = |name: &str| {
            let name = name.to_string();
            move |invalid: InvalidValue| (format!("{name}.{}", invalid.key), invalid.reason)
        };
        if self.epochs == 0 {
            return Err(("epochs".into(), "must be at least 1".into()));
        }
        if let Some(early_stopping) = &self.early_stopping {
            early_stopping.validate(self.data.validation)?;
        }
        if let Some((key, bound)) = self.augment.as_ref().and_then(|a| a.out_of_bounds()) {
            return Err((
                format!("augment.{key}"),
                format!("must be a number from 0 to {bound}"),
            ));
        }
        // TOML integers are signed 64-bit: a larger seed could not be written to config.toml.
        if self.seed > i64::MAX as u64 {
            return Err(("seed".into(), format!("must be at most {}", i64::MAX)));
        }
        if !(1..=MAX_DEVICES).contains(&self.devices) {
            return Err((
                "devices".into(),
                format!("must be between 1 and {MAX_DEVICES}"),
            ));
        }
        if self.epochs > MAX_EPOCHS {
            return Err(("epochs".into(), format!("must be at most {MAX_EPOCHS}")));
        }
        self.model.validate().map_err(section("model"))?;
        self.data.validate().map_err(section("data"))?;
        self.optimizer.validate().map_err(section("optimizer"))?;
        self.check_against_dataset()
    }

    /// The model against the data it will read, and the batch against the slice of the
    /// training split it is cut from.
    fn check_against_dataset(&self) -> Result<(), (String, String)> {
        let dataset = self.data.dataset.name();
        if self.model.n_inputs != IMAGE_PIXELS {
            return Err((
                "model.n_inputs".into(),
                format!(
                    "is {}, but {dataset} images have {IMAGE_PIXELS} pixels (28x28); \
                     use {IMAGE_PIXELS}",
                    self.model.n_inputs
                ),
            ));
        }
        // Exactly one output per class: fewer cannot learn the labels, and a spare output
        // would be a class that eval, predict and the plots have no name for.
        if self.model.n_outputs != NUM_CLASSES {
            return Err((
                "model.n_outputs".into(),
                format!(
                    "is {}, but {dataset} has {NUM_CLASSES} classes (labels 0-9); use \
                     {NUM_CLASSES}",
                    self.model.n_outputs
                ),
            ));
        }
        let train_items = self
            .data
            .train_limit
            .map_or(TRAIN_ITEMS, |limit| limit.min(TRAIN_ITEMS));
        if self.data.validation >= train_items {
            return Err((
                "data.validation".into(),
                format!(
                    "is {}, but there are only {train_items} training images to hold it out                      from; keep most of them for training (5000 is usual)",
                    self.data.validation
                ),
            ));
        }
        let train_items = train_items - self.data.validation;
        if self.data.batch_size * self.devices > train_items {
            let slice = match self.data.train_limit {
                Some(limit) if limit < TRAIN_ITEMS => format!("`data.train_limit` ({limit})"),
                _ => format!("the {TRAIN_ITEMS} training images"),
            };
            let slice = match self.devices {
                1 => slice,
                devices => format!("the share of each of the {devices} devices of {slice}"),
            };
            return Err((
                "data.batch_size".into(),
                format!(
                    "is {}, larger than {slice}: not one batch could be filled",
                    self.data.batch_size
                ),
            ));
        }
        Ok(())
    }
}
