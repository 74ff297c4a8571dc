//! Cross-backend parity: the same initial weights (one record, loaded into each backend) and
//! the same batches must give the same losses and the same trained weights as ndarray, within
//! float tolerance.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::train::TrainStep;
use mnist_data::{ImageSet, MnistBatcher, Split};
use mnist_model::LogisticRegression;

use crate::backend::BackendKind;
use crate::config::ExperimentConfig;
use crate::training::initial_weights;

/// Largest accepted |difference| from the reference, for losses and for weights. Backends sum
/// in different orders (and GPUs fuse multiply-adds), so a few ulps per step accumulate; real
/// bugs (a wrong gradient, a missed update) show up orders of magnitude above this.
pub const TOLERANCE: f64 = 1e-4;

/// How far one backend drifted from the reference over the same steps.
#[derive(Debug, Clone)]
pub struct ParityReport {
    pub backend: BackendKind,
    pub device: String,
    pub steps: usize,
    pub max_loss_diff: f64,
    pub max_weight_diff: f64,
}

impl ParityReport {
    /// Whether both differences are within [`TOLERANCE`].
    pub fn agrees(&self) -> bool {
        self.max_loss_diff <= TOLERANCE && self.max_weight_diff <= TOLERANCE
    }
}

/// What a backend produced: the loss of every step and the final weights.
struct Trajectory {
    losses: Vec<f64>,
    weights: Vec<f32>,
}

/// Trains `steps` optimiser steps of `config` on `reference` and on each of `backends`, from
/// one shared initial record, and reports the largest differences from the reference.
pub fn compare(
    config: &ExperimentConfig,
    reference: BackendKind,
    backends: &[BackendKind],
    steps: usize,
) -> anyhow::Result<Vec<ParityReport>> {
    let batch_size = config.data.batch_size;
    let train =
        ImageSet::load(config.data.dataset, Split::Train)?.truncated(Some(steps * batch_size));
    let indices: Vec<usize> = (0..train.len()).collect();
    let batches: Vec<Vec<usize>> = indices.chunks(batch_size).map(<[_]>::to_vec).collect();
    let batcher = MnistBatcher::new(Arc::new(train), config.data.scaling());

    let initial = initial_weights(config);

    let run = |backend: BackendKind| -> anyhow::Result<Trajectory> {
        let device = backend.device()?.autodiff();
        let mut model: LogisticRegression = config.model.init(&device).load_record(initial.clone());
        let mut optimizer = config.optimizer.optimizer();
        let mut losses = Vec::with_capacity(batches.len());
        for indices in &batches {
            let output = TrainStep::step(&model, batcher.batch(indices.clone(), &device));
            losses.push(f64::from(output.item.loss.into_scalar::<f32>()));
            model = optimizer.step(config.optimizer.lr, model, output.grads);
        }
        let weights = model.weights().into_data().convert::<f32>().try_to_vec()?;
        Ok(Trajectory { losses, weights })
    };

    let expected = run(reference)?;
    backends
        .iter()
        .map(|&backend| {
            let actual = run(backend)?;
            Ok(ParityReport {
                backend,
                device: format!("{:?}", backend.device()?),
                steps: actual.losses.len(),
                max_loss_diff: max_abs_diff(&expected.losses, &actual.losses),
                max_weight_diff: max_abs_diff(
                    &expected
                        .weights
                        .iter()
                        .map(|&w| f64::from(w))
                        .collect::<Vec<_>>(),
                    &actual
                        .weights
                        .iter()
                        .map(|&w| f64::from(w))
                        .collect::<Vec<_>>(),
                ),
            })
        })
        .collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "trajectories of equal length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
