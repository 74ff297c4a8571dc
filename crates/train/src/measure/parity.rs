//! Cross-backend parity: the same initial weights (one record, loaded into each backend) and
//! the same batches must give the same losses and the same trained weights as ndarray, within
//! float tolerance.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::train::TrainStep;
use mnist_data::{MnistBatcher, Split};
use mnist_model::LogisticRegression;
use serde::Serialize;

use crate::backend::BackendKind;
use mnist_config::ExperimentConfig;

/// Largest accepted |difference| from the reference, for losses and for parameters, unless
/// told otherwise. Backends sum in different orders (and GPUs fuse multiply-adds), so a few
/// ulps per step accumulate; real bugs (a wrong gradient, a missed update) show up orders of
/// magnitude above this.
pub const TOLERANCE: f64 = 1e-4;

/// What a backend produced: the loss of every step and the final parameters (written as
/// `<backend>.json` by `parity --out`, so a check need not trust the verdict).
#[derive(Debug, Clone, Serialize)]
pub struct Trajectory {
    pub backend: &'static str,
    pub device: String,
    pub losses: Vec<f64>,
    /// `[784, 10]`, row-major.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

/// How far one backend drifted from the reference over the same steps.
#[derive(Debug, Clone)]
pub struct ParityReport {
    pub backend: &'static str,
    pub device: String,
    pub max_loss_diff: f64,
    pub max_parameter_diff: f64,
}

impl ParityReport {
    /// `wgpu  <device>  max |loss diff| 1.2e-7  max |parameter diff| 3.0e-8  ok`.
    pub fn line(&self, tolerance: f64) -> String {
        format!(
            "{:<9} {:<40} max |loss diff| {:.3e}  max |parameter diff| {:.3e}  {}",
            self.backend,
            self.device,
            self.max_loss_diff,
            self.max_parameter_diff,
            if self.agrees(tolerance) {
                "ok"
            } else {
                "DIFFERS"
            }
        )
    }

    /// The largest differences of `actual` from `reference`.
    pub fn between(reference: &Trajectory, actual: &Trajectory) -> Self {
        let parameters = |t: &Trajectory| -> Vec<f64> {
            t.weights
                .iter()
                .chain(&t.bias)
                .map(|&p| f64::from(p))
                .collect()
        };
        Self {
            backend: actual.backend,
            device: actual.device.clone(),
            max_loss_diff: max_abs_diff(&reference.losses, &actual.losses),
            max_parameter_diff: max_abs_diff(&parameters(reference), &parameters(actual)),
        }
    }

    /// Whether both differences are within `tolerance`.
    pub fn agrees(&self, tolerance: f64) -> bool {
        self.max_loss_diff <= tolerance && self.max_parameter_diff <= tolerance
    }
}

/// Trains `steps` optimiser steps of `config` on each of `backends`, from one shared initial
/// record and the same batches.
pub fn trajectories(
    config: &ExperimentConfig,
    backends: &[BackendKind],
    steps: usize,
) -> anyhow::Result<Vec<Trajectory>> {
    let batch_size = config.data.batch_size;
    let train = config
        .data
        .images(Split::Train)?
        .truncated(Some(steps * batch_size));
    let indices: Vec<usize> = (0..train.len()).collect();
    let batches: Vec<Vec<usize>> = indices.chunks(batch_size).map(<[_]>::to_vec).collect();
    let batcher = MnistBatcher::new(Arc::new(train), config.data.scaling());

    let initial = config.model.initial_weights(config.seed);

    let run = |backend: BackendKind| -> anyhow::Result<Trajectory> {
        let device = backend.device()?.autodiff();
        let mut model: LogisticRegression = config.model.init(&device).load_record(initial.clone());
        let mut optimizer = config.optimizer.optimizer();
        let mut losses = Vec::with_capacity(batches.len());
        for indices in &batches {
            let output = TrainStep::step(&model, batcher.batch(indices.clone(), &device));
            losses.push(f64::from(
                output.item.into_first().loss.into_scalar::<f32>(),
            ));
            model = optimizer.step(config.optimizer.lr, model, output.grads);
        }
        Ok(Trajectory {
            backend: backend.name(),
            device: format!("{:?}", backend.device()?),
            losses,
            weights: model.weight_values(),
            bias: model.bias_values(),
        })
    };
    backends.iter().map(|&backend| run(backend)).collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "trajectories of equal length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
