//! Experiment configs: one TOML file holds every hyperparameter of a run.
//!
//! The structs are Burn `#[derive(Config)]` types, so their defaults live in one place
//! (this file). A file only needs the keys it changes: it is laid over the defaults
//! ([`load`]), then checked ([`validate`]). Every mistake is reported as one line naming the
//! file, the key and, where it can be found, the line ([`error`]).

mod early_stopping;
mod error;
mod load;
mod suggest;
mod text_file;
mod validate;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use mnist_data::{AugmentConfig, DataConfig};
use mnist_model::ModelConfig;
use serde::{Deserialize, Serialize};

pub use early_stopping::{EarlyStoppingConfig, Keep, StopMetric};
pub use error::{ConfigError, Hint, Location};
pub use text_file::{MAX_TEXT_BYTES, read_text};

/// Everything that defines a training run.
#[derive(Config, Debug, PartialEq)]
pub struct ExperimentConfig {
    /// Seeds weight initialisation and the shuffling of the training split.
    #[config(default = 42)]
    pub seed: u64,
    /// Passes over the training split.
    #[config(default = 10)]
    pub epochs: usize,
    /// Devices training together (Burn's multi-device strategy): each takes its own batch
    /// from its share of the training split, and the step uses their average gradient.
    #[config(default = 1)]
    pub devices: usize,
    /// The model's shape and output activation.
    #[config(default = "ModelConfig::new()")]
    pub model: ModelConfig,
    /// Data loading and pixel scaling.
    #[config(default = "DataConfig::new()")]
    pub data: DataConfig,
    /// Optimiser and learning-rate schedule.
    #[config(default = "OptimizerConfig::new()")]
    pub optimizer: OptimizerConfig,
    /// Stop when the validation split stops improving (`[early_stopping]`; off without it).
    pub early_stopping: Option<EarlyStoppingConfig>,
    /// Draw each training image a little differently every epoch (`[augment]`; off without
    /// it).
    pub augment: Option<AugmentConfig>,
}

/// Which optimiser updates the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent, optionally with momentum (PyTorch semantics: no dampening).
    Sgd,
    /// Adam with the usual betas (0.9, 0.999).
    Adam,
}

/// How the learning rate moves during training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// `lr` for every step.
    Constant,
    /// Cosine annealing from `lr` down to `min_lr` over all steps of the run.
    Cosine,
}

/// Optimiser and learning-rate schedule.
#[derive(Config, Debug, PartialEq)]
pub struct OptimizerConfig {
    /// `sgd` or `adam`.
    #[config(default = "OptimizerKind::Sgd")]
    pub name: OptimizerKind,
    /// Learning rate (the peak one, with a schedule).
    #[config(default = 0.001)]
    pub lr: f64,
    /// SGD momentum; 0 disables it.
    #[config(default = 0.0)]
    pub momentum: f64,
    /// Nesterov momentum (SGD with momentum only).
    #[config(default = false)]
    pub nesterov: bool,
    /// L2 penalty added to the gradients; 0 disables it.
    #[config(default = 0.0)]
    pub weight_decay: f64,
    /// `constant` or `cosine`.
    #[config(default = "LrSchedule::Constant")]
    pub schedule: LrSchedule,
    /// Final learning rate of the cosine schedule.
    #[config(default = 0.0)]
    pub min_lr: f64,
}

impl OptimizerConfig {
    /// The Burn optimiser these settings describe.
    pub fn optimizer(&self) -> ModuleOptimizer {
        let weight_decay =
            (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32));
        match self.name {
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum((self.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(self.momentum)
                        .with_dampening(0.0)
                        .with_nesterov(self.nesterov)
                }))
                .with_weight_decay(weight_decay)
                .init(),
            OptimizerKind::Adam => AdamConfig::new().with_weight_decay(weight_decay).init(),
        }
    }

    /// The learning-rate schedule for a run of `total_steps` optimiser steps.
    pub fn scheduler(&self, total_steps: usize) -> ModuleLrScheduler {
        match self.schedule {
            LrSchedule::Constant => self.lr.into(),
            LrSchedule::Cosine => CosineAnnealingLrSchedulerConfig::new(self.lr, total_steps)
                .with_min_lr(self.min_lr)
                .init()
                .expect("validated: 0 < lr <= 1 and 0 <= min_lr <= lr"),
        }
    }
}

impl ExperimentConfig {
    /// The config as TOML, complete with defaults: what a run folder records.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a config serialises to TOML")
    }

    /// What an exported model's file says of itself (safetensors header metadata, the same from
    /// `mnist-burn export` and the browser's download): how its inputs are made, what its
    /// outputs are, its classes, and `source`, where its weights came from.
    pub fn export_metadata(&self, source: &str) -> Vec<(String, String)> {
        let data = &self.data;
        [
            (
                "activation",
                format!("{:?}", self.model.activation).to_lowercase(),
            ),
            (
                "preprocessing",
                if data.deskew { "deskew" } else { "" }.into(),
            ),
            ("mean", data.mean.to_string()),
            ("std", data.std.to_string()),
            ("classes", data.dataset.class_names().join(",")),
            ("source", source.into()),
        ]
        .into_iter()
        .map(|(key, value)| (format!("mnist_burn.{key}"), value))
        .collect()
    }

    /// The dotted keys whose values differ between `self` and `other`.
    pub fn differing_keys(&self, other: &Self) -> Vec<String> {
        let (mine, theirs) = (self.flat(), other.flat());
        let mut keys: Vec<String> = mine
            .keys()
            .chain(theirs.keys())
            .filter(|key| mine.get(*key) != theirs.get(*key))
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// `key=value` for every key this config sets to something other than its default.
    pub fn changes_from_defaults(&self) -> Vec<String> {
        let defaults = Self::new().flat();
        self.flat()
            .into_iter()
            .filter(|(key, value)| defaults.get(key) != Some(value))
            .map(|(key, value)| format!("{key}={}", as_written(&value)))
            .collect()
    }

    /// Every leaf as `section.key -> value`.
    fn flat(&self) -> std::collections::BTreeMap<String, toml::Value> {
        let mut keys = std::collections::BTreeMap::new();
        let table = toml::Table::try_from(self).expect("a config serialises to TOML");
        flatten("", &table, &mut keys);
        keys
    }
}

/// A value as a person writes it: floats as their shortest decimal (0.1307, not the
/// 0.1307000070810318 of an `f32` field's widening; 1e38, not 38 zeros).
fn as_written(value: &toml::Value) -> String {
    match value {
        toml::Value::Float(float) if f64::from(*float as f32) == *float => {
            format!("{:?}", *float as f32)
        }
        toml::Value::Float(float) => format!("{float:?}"),
        other => other.to_string(),
    }
}

/// `section.key -> value` for every leaf of `table`.
fn flatten(
    prefix: &str,
    table: &toml::Table,
    keys: &mut std::collections::BTreeMap<String, toml::Value>,
) {
    for (name, value) in table {
        let key = match prefix {
            "" => name.clone(),
            prefix => format!("{prefix}.{name}"),
        };
        match value {
            toml::Value::Table(inner) => flatten(&key, inner, keys),
            leaf => {
                keys.insert(key, leaf.clone());
            }
        }
    }
}
