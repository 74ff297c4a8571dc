//! Burn's `SupervisedTraining` + `Learner` over the loaders, model and optimiser a config
//! describes, with the project's metrics, dashboard and batched strategy plugged in.

use std::path::Path;
use std::sync::{Arc, Mutex};

use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::module::Module;
use burn::prelude::Device;
use burn::train::metric::LearningRateMetric;
use burn::train::renderer::tui::TuiMetricsRendererWrapper;
use burn::train::{
    ExecutionStrategy, Learner, LearningResult, MultiDeviceOptim, SupervisedTraining,
};
use mnist_data::{EpochShuffledLoader, ImageSet, Indices, MnistBatch, MnistBatcher, SlabLoader};
use mnist_model::LogisticRegression;

use crate::training::batched::BatchedSingleDevice;
use crate::training::device_metrics::{
    DeviceMetric, SharedWindow, StepWatch, SyncCounter, SyncPolicy,
};
use crate::training::history::History;
use crate::training::holdout::Chained;
use crate::training::progress::{PlainLines, Progress};
use crate::training::recorder::{EpochMetricLogger, EpochRecorder};
use crate::training::request::{RunRequest, TrainingLoop};
use crate::training::selection::{self, Stopping};
use crate::training::tensorboard::RunLog;
use mnist_runs::METRICS_FILE;

/// The splits evaluated after every epoch.
pub(super) struct Evaluated {
    /// Held out of the training split (`data.validation`), when the config asks for it.
    pub validation: Option<ImageSet>,
    pub test: ImageSet,
}

/// Where a run trains: besides the request, what `train` has read and claimed.
pub(super) struct Fit<'a> {
    pub device: &'a Device,
    pub train_split: ImageSet,
    pub evaluated: Evaluated,
    pub run_dir: &'a Path,
    pub show_dashboard: bool,
    /// Filled in by the recorder as epochs finish; read by the caller at the end.
    pub history: &'a Arc<Mutex<History>>,
}

/// Builds the loaders, the recorder, the metrics, the stopping rules, the strategy and the
/// learner, and runs Burn's `Learner` over them.
pub(super) fn fit(request: &RunRequest, fit: Fit) -> LearningResult<LogisticRegression> {
    let config = request.config;
    let loaders = Loaders::build(request, fit.device, fit.train_split, fit.evaluated);
    let syncs = Arc::new(SyncCounter::default());
    let tensorboard = Arc::new(Mutex::new(RunLog::create(
        fit.run_dir,
        loaders.steps_per_epoch,
    )));
    let recorder = EpochRecorder::new(
        progress(request, fit.show_dashboard),
        fit.run_dir.join(METRICS_FILE),
        fit.history.clone(),
        request.interrupter.clone(),
        request.debug_syncs.then(|| syncs.clone()),
        tensorboard.clone(),
        config.data.batch_size,
    );
    let watch = StepWatch {
        history: fit.history.clone(),
        interrupter: request.interrupter.clone(),
        log: tensorboard,
    };
    let training = SupervisedTraining::new(fit.run_dir, loaders.train, loaders.valid);
    let training = with_metrics(training, request, syncs, watch, loaders.validation_items)
        .with_metric_logger(EpochMetricLogger::with_epochs(&request.completed))
        .renderer(Box::new(recorder))
        .with_interrupter(request.interrupter.clone())
        .with_application_logger(None)
        .with_default_checkpointers()
        .num_epochs(config.epochs);
    let training = match request.completed.len() {
        0 => training,
        completed => training.checkpoint(completed),
    };
    let training = with_stopping(training, request, fit.history);
    let training = with_strategy(training, request, fit.device);
    training.launch(learner(request, fit.device, loaders.steps_per_epoch))
}

/// The training loader (shuffled anew each epoch, from the epoch a resumed run is at) and the
/// evaluation loader (the validation split chained before the test split, when there is one).
struct Loaders {
    train: Arc<dyn DataLoader<MnistBatch>>,
    valid: Arc<dyn DataLoader<MnistBatch>>,
    steps_per_epoch: usize,
    validation_items: usize,
}

impl Loaders {
    fn build(
        request: &RunRequest,
        device: &Device,
        train_split: ImageSet,
        evaluated: Evaluated,
    ) -> Self {
        let config = request.config;
        // With several devices each takes its share of the split, and a step is one batch each.
        let steps_per_epoch = (train_split.len() / config.devices).div_ceil(config.data.batch_size);
        let batcher = |images: ImageSet| MnistBatcher::new(Arc::new(images), config.data.scaling());
        let train_indices = Indices(train_split.len());
        let train_batcher = batcher(train_split).augmented(config.augment, config.seed);
        let train = EpochShuffledLoader::build(
            train_indices,
            config.seed,
            config.data.shuffle,
            request.completed.len() + 1,
            |permuted| {
                let builder = DataLoaderBuilder::new(train_batcher)
                    .batch_size(config.data.batch_size)
                    .set_device(device.clone());
                // One worker: the same batches in the same order, handed over in slabs.
                match config.data.num_workers {
                    0 => builder.build(permuted),
                    1 => SlabLoader::around(builder.build(permuted), config.data.batch_size),
                    workers => builder.num_workers(workers).build(permuted),
                }
            },
        );
        // Evaluation batches are built by a worker too when training's are and the backend
        // lets a second thread compute beside it, a slab ahead (not Burn's
        // MultiThreadDataLoader, which would queue up to 100 of them: the whole test split
        // again in memory as 1,000-image batches).
        let ahead = config.data.num_workers > 0 && request.backend.shares_the_cpu_with_a_worker();
        let evaluation_loader = |images: ImageSet| {
            let indices = Indices(images.len());
            let loader = DataLoaderBuilder::new(batcher(images))
                .batch_size(config.data.test_batch_size)
                .set_device(device.clone())
                .build(indices);
            if ahead {
                SlabLoader::around(loader, config.data.test_batch_size)
            } else {
                loader
            }
        };
        let validation_items = evaluated.validation.as_ref().map_or(0, ImageSet::len);
        let test = evaluation_loader(evaluated.test);
        let valid: Arc<dyn DataLoader<_>> = match evaluated.validation {
            Some(validation) => Arc::new(Chained {
                validation: evaluation_loader(validation),
                test,
            }),
            None => test,
        };
        Self {
            train,
            valid,
            steps_per_epoch,
            validation_items,
        }
    }
}

/// Burn's dashboard in a terminal, one line per epoch otherwise.
fn progress(request: &RunRequest, show_dashboard: bool) -> Box<dyn Progress> {
    if !show_dashboard {
        return Box::new(PlainLines);
    }
    let completed = request.completed.len();
    let dashboard = TuiMetricsRendererWrapper::new(
        request.interrupter.clone(),
        (completed > 0).then_some(completed),
    );
    crate::training::signals::signal_keys_under_dashboard();
    Box::new(dashboard)
}

/// The training metrics, and the evaluation pass's: Burn's "Loss" and "Accuracy" (what its
/// checkpointer and early stopping select by) are the validation split's when there is one;
/// the test split then has its own.
fn with_metrics(
    training: SupervisedTraining<LogisticRegression>,
    request: &RunRequest,
    syncs: Arc<SyncCounter>,
    watch: StepWatch,
    validation_items: usize,
) -> SupervisedTraining<LogisticRegression> {
    let policy = match request.sync_every {
        Some(steps) => SyncPolicy::every(steps),
        None => SyncPolicy::for_device(request.backend.is_device()),
    };
    let train_window = SharedWindow::new(policy, syncs.clone(), Some(watch));
    let test_window = SharedWindow::new(policy, syncs.clone(), None);
    let training = training
        .metric_train_numeric(DeviceMetric::accuracy(train_window.clone()))
        .metric_train_numeric(DeviceMetric::loss(train_window))
        .metric_train_numeric(LearningRateMetric::new());
    match validation_items {
        0 => training
            .metric_valid_numeric(DeviceMetric::accuracy(test_window.clone()))
            .metric_valid_numeric(DeviceMetric::loss(test_window)),
        items => {
            let validation_window = SharedWindow::new(policy, syncs, None);
            training
                .metric_valid_numeric(
                    DeviceMetric::accuracy(validation_window.clone()).validation_part(items),
                )
                .metric_valid_numeric(DeviceMetric::loss(validation_window).validation_part(items))
                .metric_valid_numeric(DeviceMetric::accuracy(test_window.clone()).test_part(items))
                .metric_valid_numeric(DeviceMetric::loss(test_window).test_part(items))
        }
    }
}

/// `[early_stopping]` (and the checkpoints it selects from) and the request's epoch gate, in
/// Burn's one early-stopping hook.
fn with_stopping(
    mut training: SupervisedTraining<LogisticRegression>,
    request: &RunRequest,
    history: &Arc<Mutex<History>>,
) -> SupervisedTraining<LogisticRegression> {
    let mut stopping = Stopping {
        early: None,
        gate: (request.epoch_gate.clone()).map(|gate| (gate, history.clone())),
    };
    if let Some(config) = &request.config.early_stopping {
        let (stop, keep) = selection::strategies(config);
        stopping.early = Some(stop);
        training = training.with_checkpointing_strategy(keep);
    }
    if stopping.early.is_some() || stopping.gate.is_some() {
        training = training.early_stopping(stopping);
    }
    training
}

/// One device trains with this project's strategy (Burn's loop, its metrics handed over
/// several steps at a time); several with Burn's own.
fn with_strategy(
    training: SupervisedTraining<LogisticRegression>,
    request: &RunRequest,
    device: &Device,
) -> SupervisedTraining<LogisticRegression> {
    match (request.config.devices, request.training_loop) {
        (1, TrainingLoop::Batched) => {
            training.with_training_strategy(BatchedSingleDevice::strategy(device))
        }
        (1, TrainingLoop::Burn) => training,
        (count, _) => {
            let devices = request.backend.devices(device, count);
            training.with_training_strategy(
                ExecutionStrategy::multi(devices, MultiDeviceOptim::OptimMainDevice).into(),
            )
        }
    }
}

/// The model, from the config's initial weights, and its optimiser and schedule.
fn learner(
    request: &RunRequest,
    device: &Device,
    steps_per_epoch: usize,
) -> Learner<LogisticRegression> {
    let config = request.config;
    let model = config
        .model
        .init(&device.clone().autodiff())
        .load_record(config.model.initial_weights(config.seed))
        .averaging_gradients_over(config.devices);
    Learner::new(
        model,
        config.optimizer.optimizer(),
        config.optimizer.scheduler(config.epochs * steps_per_epoch),
    )
}
