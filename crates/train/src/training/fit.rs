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
use mnist_data::{EpochShuffledLoader, ImageSet, Indices, MnistBatcher};
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
use crate::training::selection;
use crate::training::tensorboard::RunLog;
use mnist_runs::METRICS_FILE;

/// The splits evaluated after every epoch.
pub(super) struct Evaluated {
    /// Held out of the training split (`data.validation`), when the config asks for it.
    pub validation: Option<ImageSet>,
    pub test: ImageSet,
}

/// Builds the loaders, model and optimiser and runs Burn's `Learner` over them.
pub(super) fn fit(
    request: &RunRequest,
    device: &Device,
    train_split: ImageSet,
    evaluated: Evaluated,
    run_dir: &Path,
    show_dashboard: bool,
    history: &Arc<Mutex<History>>,
) -> LearningResult<LogisticRegression> {
    let config = request.config;
    let completed = request.completed.len();
    // With several devices each takes its share of the split, and a step is one batch each.
    let steps_per_epoch = (train_split.len() / config.devices).div_ceil(config.data.batch_size);
    let batcher = |images: ImageSet| MnistBatcher::new(Arc::new(images), config.data.scaling());
    let train_indices = Indices(train_split.len());
    let train_batcher = batcher(train_split).augmented(config.augment, config.seed);
    let train_loader = EpochShuffledLoader::build(
        train_indices,
        config.seed,
        config.data.shuffle,
        completed + 1,
        |permuted| {
            DataLoaderBuilder::new(train_batcher)
                .batch_size(config.data.batch_size)
                .num_workers(config.data.num_workers)
                .set_device(device.clone())
                .build(permuted)
        },
    );
    // Evaluation batches are built where they are used: a worker thread would queue up to 100
    // of them ahead (Burn's MultiThreadDataLoader), that is the whole test split again in
    // memory (31 MiB as 1,000-image batches), for no gain in time.
    let evaluation_loader = |images: ImageSet| {
        let indices = Indices(images.len());
        DataLoaderBuilder::new(batcher(images))
            .batch_size(config.data.test_batch_size)
            .set_device(device.clone())
            .build(indices)
    };
    let validation_items = evaluated.validation.as_ref().map_or(0, ImageSet::len);
    let test_loader = evaluation_loader(evaluated.test);
    let valid_loader: Arc<dyn DataLoader<_>> = match evaluated.validation {
        Some(validation) => Arc::new(Chained {
            validation: evaluation_loader(validation),
            test: test_loader,
        }),
        None => test_loader,
    };

    let interrupter = request.interrupter.clone();
    let progress: Box<dyn Progress> = if show_dashboard {
        let dashboard = TuiMetricsRendererWrapper::new(
            interrupter.clone(),
            (completed > 0).then_some(completed),
        );
        crate::training::signals::signal_keys_under_dashboard();
        Box::new(dashboard)
    } else {
        Box::new(PlainLines)
    };
    let syncs = Arc::new(SyncCounter::default());
    let tensorboard = Arc::new(Mutex::new(RunLog::create(run_dir, steps_per_epoch)));
    let recorder = EpochRecorder::new(
        progress,
        run_dir.join(METRICS_FILE),
        history.clone(),
        interrupter.clone(),
        request.debug_syncs.then(|| syncs.clone()),
        tensorboard.clone(),
        config.data.batch_size,
    );
    let policy = match request.sync_every {
        Some(steps) => SyncPolicy::every(steps),
        None => SyncPolicy::for_device(request.backend.is_device()),
    };
    let watch = StepWatch {
        history: history.clone(),
        interrupter: interrupter.clone(),
        log: tensorboard,
    };
    let train_window = SharedWindow::new(policy, syncs.clone(), Some(watch));
    let test_window = SharedWindow::new(policy, syncs.clone(), None);

    let mut training = SupervisedTraining::new(run_dir, train_loader, valid_loader)
        .metric_train_numeric(DeviceMetric::accuracy(train_window.clone()))
        .metric_train_numeric(DeviceMetric::loss(train_window))
        .metric_train_numeric(LearningRateMetric::new());
    // Burn's "Loss" and "Accuracy" of the evaluation pass (what its checkpointer selects by)
    // are the validation split's when there is one; the test split then has its own.
    training = match validation_items {
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
    };
    let mut training = training
        .with_metric_logger(EpochMetricLogger::with_epochs(&request.completed))
        .renderer(Box::new(recorder))
        .with_interrupter(interrupter)
        .with_application_logger(None)
        .with_default_checkpointers()
        .num_epochs(config.epochs);
    if let Some(stopping) = &config.early_stopping {
        let (stop, keep) = selection::strategies(stopping);
        training = training
            .early_stopping(stop)
            .with_checkpointing_strategy(keep);
    }
    if completed > 0 {
        training = training.checkpoint(completed);
    }
    // One device trains with this project's strategy (Burn's loop, its metrics handed over
    // several steps at a time); several with Burn's own.
    training = match (config.devices, request.training_loop) {
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
    };

    let model = config
        .model
        .init(&device.clone().autodiff())
        .load_record(config.model.initial_weights(config.seed))
        .averaging_gradients_over(config.devices);
    let learner = Learner::new(
        model,
        config.optimizer.optimizer(),
        config.optimizer.scheduler(config.epochs * steps_per_epoch),
    );
    training.launch(learner)
}
