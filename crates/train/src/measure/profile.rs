//! Where a training step's time goes (`mnist-burn profile`). Burn 0.22 has no profiler for
//! it: the step the `Learner` runs is taken apart here into its phases, each timed on the same
//! batches and, on a GPU backend, closed by a device sync so that its kernels are counted in
//! it; then the same steps run without the syncs, and through Burn's `Learner` itself, so the
//! Learner's own share (loader thread, metric events, bookkeeping) is what is left.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::{Device, Tensor};
use burn::train::Interrupter;
use mnist_data::{MnistBatcher, Split};
use mnist_model::{LogisticRegression, correct_predictions};

use crate::backend::BackendKind;
use crate::training::{self, ProgressView, RunDir, RunRequest, TrainingLoop};
use mnist_config::ExperimentConfig;
use mnist_runs::EpochMetrics;

/// One part of a training step, in the order a step runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Gathering the batch's pixels and labels and scaling them on the host.
    Batch,
    /// Copying the batch into tensors on the device.
    Upload,
    /// The linear layer, the activation and the cross-entropy.
    Forward,
    /// Backpropagation through the autodiff graph.
    Backward,
    /// Gradients to parameters, and the optimiser's update.
    Optimizer,
    /// The step's loss and count of correct predictions, read back to the host.
    Metrics,
}

impl Phase {
    pub const ALL: [Self; 6] = [
        Self::Batch,
        Self::Upload,
        Self::Forward,
        Self::Backward,
        Self::Optimizer,
        Self::Metrics,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Batch => "batch (host)",
            Self::Upload => "host to device",
            Self::Forward => "forward",
            Self::Backward => "backward",
            Self::Optimizer => "optimizer step",
            Self::Metrics => "metrics read",
        }
    }
}

/// The measured time per step of each phase and of whole steps.
#[derive(Debug, Clone)]
pub struct StepProfile {
    pub backend: BackendKind,
    pub device: String,
    pub steps: usize,
    pub batch_size: usize,
    /// Mean time per step of each phase, syncs between phases included.
    pub phases: Vec<(Phase, Duration)>,
    /// Mean time of the same steps with no sync between phases.
    pub unbracketed: Duration,
    /// Mean time of a training step in Burn's `Learner` on the same number of batches, with
    /// this program's loop (several steps a hand-off to the metrics).
    pub learner: Duration,
    /// The same with Burn's own single-device loop (a hand-off a step).
    pub burn_learner: Duration,
}

impl StepProfile {
    /// The phases' times added up.
    pub fn phases_total(&self) -> Duration {
        self.phases.iter().map(|(_, time)| *time).sum()
    }
}

/// Times `steps` steps of `config` on `backend`, after `warmup` untimed ones (kernel
/// compilation and autotuning on GPU backends); `overrides` are the caller's config keys.
pub fn profile(
    config_path: &Path,
    overrides: &[String],
    backend: BackendKind,
    steps: usize,
    warmup: usize,
) -> anyhow::Result<StepProfile> {
    let config = ExperimentConfig::load(config_path, overrides)?;
    let batch_size = config.data.batch_size;
    let device = backend.usable_device()?;
    let train = config.data.images(Split::Train)?;
    let batches = train.len() / batch_size;
    anyhow::ensure!(
        batches > 0,
        "the training split has {} images, fewer than one batch of {batch_size}",
        train.len()
    );
    let batcher = MnistBatcher::new(Arc::new(train), config.data.scaling());
    let indices = |step: usize| -> Vec<usize> {
        let first = (step % batches) * batch_size;
        (first..first + batch_size).collect()
    };

    let mut stepper = Stepper::new(&config, &device, &batcher);
    // Both ways of stepping warm up: with syncs between phases a fusing backend compiles
    // other kernels than without.
    let mut untimed = [Duration::ZERO; Phase::ALL.len()];
    for step in 0..warmup {
        stepper.step(&indices(step), Some(&mut untimed));
        stepper.step(&indices(step), None);
    }
    let mut phases = [Duration::ZERO; Phase::ALL.len()];
    for step in warmup..warmup + steps {
        stepper.step(&indices(step), Some(&mut phases));
    }
    let started = Instant::now();
    for step in warmup + steps..warmup + 2 * steps {
        stepper.step(&indices(step), None);
    }
    sync(&device)?;
    let unbracketed = started.elapsed() / steps as u32;

    let learner_step = |training_loop| {
        learner_step(
            config_path,
            overrides,
            backend,
            steps * batch_size,
            training_loop,
        )
    };
    let learner = learner_step(TrainingLoop::Batched)?;
    let burn_learner = learner_step(TrainingLoop::Burn)?;
    Ok(StepProfile {
        backend,
        device: format!("{device:?}"),
        steps,
        batch_size,
        phases: Phase::ALL
            .into_iter()
            .zip(phases.map(|total| total / steps as u32))
            .collect(),
        unbracketed,
        learner,
        burn_learner,
    })
}

/// The training step of `mnist_model`'s `TrainStep`, phase by phase, with its optimiser.
struct Stepper<'a> {
    config: &'a ExperimentConfig,
    device: Device,
    batcher: &'a MnistBatcher,
    model: Option<LogisticRegression>,
    optimizer: ModuleOptimizer,
}

impl<'a> Stepper<'a> {
    fn new(config: &'a ExperimentConfig, device: &Device, batcher: &'a MnistBatcher) -> Self {
        let device = device.clone().autodiff();
        let model = config
            .model
            .init(&device)
            .load_record(config.model.initial_weights(config.seed));
        Self {
            config,
            device,
            batcher,
            model: Some(model),
            optimizer: config.optimizer.optimizer(),
        }
    }

    /// One step; with `phases`, each phase is closed by a device sync and its time added.
    fn step(&mut self, indices: &[usize], mut phases: Option<&mut [Duration; Phase::ALL.len()]>) {
        let device = &self.device;
        let mut clock = Instant::now();
        let mut lap = |phase: Phase| {
            if let Some(phases) = phases.as_deref_mut() {
                sync(device).expect("the device syncs");
                let now = Instant::now();
                phases[phase as usize] += now - clock;
                clock = now;
            }
        };
        let (images, labels) = self.batcher.host_batch(indices);
        lap(Phase::Batch);
        let batch = MnistBatcher::upload(images, labels, &self.device);
        lap(Phase::Upload);
        let model = self.model.take().expect("a model between steps");
        let (item, tally) = model.training_classification(batch.images, batch.targets);
        lap(Phase::Forward);
        let gradients = model.loss_to_backpropagate(item.loss.clone()).backward();
        lap(Phase::Backward);
        let gradients = GradientsParams::from_grads(gradients, &model);
        self.model = Some(
            self.optimizer
                .step(self.config.optimizer.lr, model, gradients),
        );
        lap(Phase::Optimizer);
        // As the metrics do: nothing to compute or read where the step tallied on the host.
        if tally.is_none() {
            let matches = correct_predictions(item.output, item.targets);
            let read = Tensor::cat(vec![item.loss.mean(), matches], 0)
                .try_into_vec_as::<f64>()
                .expect("the step's metrics read back");
            debug_assert_eq!(read.len(), 2);
        }
        lap(Phase::Metrics);
    }
}

/// Waits for everything queued on `device` (nothing to wait for on the CPU backends).
fn sync(device: &Device) -> anyhow::Result<()> {
    device
        .sync()
        .map_err(|error| anyhow!("{device:?}: cannot sync: {error:?}"))
}

/// Seconds per step of an epoch of Burn's `Learner` on `train_items` images of the config,
/// trained by `training_loop`: the second of two, since the first also pays for starting the
/// loader's worker and the first allocations, which swung the figure threefold between runs.
fn learner_step(
    config_path: &Path,
    overrides: &[String],
    backend: BackendKind,
    train_items: usize,
    training_loop: TrainingLoop,
) -> anyhow::Result<Duration> {
    let mut overrides = overrides.to_vec();
    overrides.extend([
        "epochs=2".to_string(),
        format!("data.train_limit={train_items}"),
    ]);
    let config = ExperimentConfig::load(config_path, &overrides)?;
    let epochs = scratch_run(&config, config_path, backend, training_loop)?;
    let steps = train_items.div_ceil(config.data.batch_size);
    let second = epochs
        .last()
        .expect("scratch_run trains at least one epoch");
    Ok(Duration::from_secs_f64(second.train_seconds / steps as f64))
}

/// Trains `config` through Burn's `Learner` in a throw-away run folder, printing nothing;
/// returns its epochs' metrics and timings (at least one).
pub fn scratch_run(
    config: &ExperimentConfig,
    config_path: &Path,
    backend: BackendKind,
    training_loop: TrainingLoop,
) -> anyhow::Result<Vec<EpochMetrics>> {
    let scratch = tempfile::tempdir()?;
    let outcome = mnist_output::quietly(|| {
        training::train(&RunRequest {
            config,
            config_path,
            name: "measure",
            backend,
            run_dir: RunDir::New {
                out: Some(scratch.path()),
                force: true,
            },
            progress: ProgressView::Plain,
            completed: Vec::new(),
            interrupter: Interrupter::new(),
            sync_every: None,
            debug_syncs: false,
            training_loop,
            epoch_gate: None,
        })
    })?;
    anyhow::ensure!(
        !outcome.epochs.is_empty(),
        "the measuring run trained no epoch"
    );
    Ok(outcome.epochs)
}
