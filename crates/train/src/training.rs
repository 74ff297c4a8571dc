//! One training run with Burn's `SupervisedTraining` + `Learner`: data loaders, model,
//! optimiser, metrics, checkpoints, and the artifacts a run leaves behind.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::anyhow;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::module::Module;
use burn::prelude::Device;
use burn::train::metric::LearningRateMetric;
use burn::train::renderer::tui::TuiMetricsRendererWrapper;
use burn::train::{
    ExecutionStrategy, Interrupter, Learner, LearningResult, MultiDeviceOptim, SupervisedTraining,
};
use mnist_data::{EpochShuffledLoader, ImageSet, Indices, MnistBatcher, Split};
use mnist_model::LogisticRegression;

use crate::artifacts::{self, EpochMetrics};
use crate::backend::BackendKind;
use crate::batched::BatchedSingleDevice;
use crate::device_metrics::{DeviceMetric, SharedWindow, StepWatch, SyncCounter, SyncPolicy};
use crate::ending;
pub use crate::ending::RunEnd;
use crate::folder_lock::FolderLock;
use crate::history::History;
use crate::holdout::Chained;
use crate::manifest::Environment;
use crate::plots;
use crate::progress::{PlainLines, Progress};
use crate::recorder::{EpochMetricLogger, EpochRecorder};
use crate::run_folder::{
    METRICS_FILE, MODEL_STEM, RunFolder, RunRecord, RunStatus, WEIGHTS_FILE, claim_run_dir,
};
use crate::selection;
use crate::tensorboard::RunLog;
use crate::trained::TrainedModel;
use mnist_config::ExperimentConfig;

/// How progress is shown while training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// Burn's terminal dashboard when stdout is a terminal, plain lines otherwise.
    Auto,
    /// One line per epoch, even in a terminal.
    Plain,
}

/// What to train and where to put it.
pub struct RunRequest<'a> {
    pub config: &'a ExperimentConfig,
    /// The config file, named in errors about values that only the data can refute.
    pub config_path: &'a Path,
    /// Names the run folder: `runs/<name>-<timestamp>`.
    pub name: &'a str,
    pub backend: BackendKind,
    pub run_dir: RunDir<'a>,
    pub display: Display,
    /// The epochs an interrupted run already completed, when resuming it in `out`.
    pub completed: Vec<EpochMetrics>,
    /// Stops training at the end of the current step (signals call it).
    pub interrupter: Interrupter,
    /// Read the running metrics back from the device every this many steps (default: by
    /// backend, see [`SyncPolicy`]).
    pub sync_every: Option<usize>,
    /// Print the number of device reads of each epoch.
    pub debug_syncs: bool,
    /// Whose loop trains on one device.
    pub training_loop: TrainingLoop,
}

/// The loop that trains on one device (several devices train with Burn's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrainingLoop {
    /// Burn's loop, its metrics handed over several steps at a time (`batched`).
    #[default]
    Batched,
    /// Burn's single-device loop as it is: one hand-off to its metric thread a step.
    Burn,
}

/// Where a run writes.
pub enum RunDir<'a> {
    /// A new run folder: `out` (written into even when not empty with `force`), or
    /// `runs/<name>-<timestamp>`; claimed once the data has loaded.
    New { out: Option<&'a Path>, force: bool },
    /// A folder this process has locked already: the run it resumes.
    Locked(&'a FolderLock),
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_dir: PathBuf,
    pub epochs: Vec<EpochMetrics>,
    pub seconds: f64,
    pub end: RunEnd,
    /// The epoch whose weights `model.bpk` holds.
    pub selected: usize,
    /// Why it ended before its last epoch (early stopping).
    pub stop_reason: Option<String>,
}

/// Trains as `request` says and writes the run folder.
pub fn train(request: &RunRequest) -> anyhow::Result<RunOutcome> {
    let started = Instant::now();
    let config = request.config;
    let device = request.backend.usable_device()?;

    // The two splits are read, checked and (if configured) deskewed side by side.
    let (training, test_split) = std::thread::scope(|scope| {
        let test = scope.spawn(|| config.data.images(Split::Test));
        let training = config.data.training_images(config.seed);
        (
            training,
            test.join().expect("the test split's loader panicked"),
        )
    });
    let ((train_split, validation_split), test_split) = (training?, test_split?);
    // Kept to choose the confidence threshold on once the model is final (4 MB by default).
    let held_out = validation_split.clone();

    let claimed;
    let lock = match request.run_dir {
        RunDir::New { out, force } => {
            claimed = claim_run_dir(out, request.name, force)?;
            &claimed
        }
        RunDir::Locked(lock) => lock,
    };
    let folder = RunFolder::create(lock, config)?;
    let run_dir = folder.path();
    let mut record = RunRecord {
        train_items: train_split.len(),
        validation_items: validation_split.as_ref().map_or(0, ImageSet::len),
        test_items: test_split.len(),
        epochs_completed: request.completed.len(),
        environment: Some(Environment::of(
            config,
            request.backend,
            format!("{device:?}"),
        )),
        ..RunRecord::begun(
            request.name.to_string(),
            request.config_path.to_path_buf(),
            request.backend.name().to_string(),
            format!("{device:?}"),
        )
    };
    folder.write_record(&record)?;

    let show_dashboard = request.display == Display::Auto && std::io::stdout().is_terminal();
    if !show_dashboard {
        let devices = match config.devices {
            1 => String::new(),
            devices => format!(" on each of {devices} devices"),
        };
        let resuming = match request.completed.len() {
            0 => String::new(),
            done => format!(", resuming after epoch {done}"),
        };
        let validation = match record.validation_items {
            0 => String::new(),
            items => format!("{items} validation / "),
        };
        say!(
            "Training `{}` on {} ({:?}): {} train / {validation}{} test images, {} epochs, batch {}{devices}{resuming}",
            request.name,
            request.backend,
            device,
            record.train_items,
            record.test_items,
            config.epochs,
            config.data.batch_size,
        );
    }

    let history = Arc::new(Mutex::new(History {
        epochs: request.completed.clone(),
        ..History::default()
    }));
    let result = fit(
        request,
        &device,
        train_split,
        Evaluated {
            validation: validation_split,
            test: test_split,
        },
        run_dir,
        show_dashboard,
        &history,
    );
    let history = std::mem::take(&mut *history.lock().expect("history lock"));

    record.epochs_completed = history.epochs.len();
    record.wall_seconds = Some(started.elapsed().as_secs_f64());
    record.peak_rss_mib = artifacts::peak_rss_mib();
    let end = match ending::judge(&result, &history, config, run_dir) {
        Ok(end) => end,
        Err(error) => {
            record.status = match error.is::<ending::Diverged>() {
                true => RunStatus::Diverged,
                false => RunStatus::Failed,
            };
            // Best effort: the error being reported matters more than this record.
            let _ = folder.write_record(&record);
            return Err(error);
        }
    };
    record.status = match end {
        RunEnd::Finished => RunStatus::Finished,
        RunEnd::Interrupted => RunStatus::Interrupted,
    };
    let stopping = config
        .early_stopping
        .as_ref()
        .filter(|_| end == RunEnd::Finished);
    let (model, selected) = selection::keep(
        result.model,
        stopping,
        config.epochs,
        &history.epochs,
        run_dir,
        &mut record,
    )?;

    if let Some(validation) = held_out.filter(|_| end == RunEnd::Finished) {
        let trained = TrainedModel::of_run(config, model.clone(), run_dir);
        record.confidence = trained.confidence_on(&validation, &device);
    }
    let weights = model.weights().into_data().convert::<f32>().try_to_vec()?;
    let model_path = folder.file(MODEL_STEM);
    model
        .into_record()
        .save(&model_path)
        .map_err(|error| anyhow!("{}: cannot save the model: {error}", model_path.display()))?;
    let label = format!("{} on {}", request.name, request.backend);
    if !history.epochs.is_empty() {
        plots::learning_curves(run_dir, &[(label, history.epochs.clone())])?;
    }
    plots::weight_templates(
        &folder.file(WEIGHTS_FILE),
        &weights,
        config.data.dataset.class_names(),
    )?;
    folder.write_record(&record)?;
    Ok(RunOutcome {
        run_dir: folder.into_path(),
        epochs: history.epochs,
        seconds: started.elapsed().as_secs_f64(),
        end,
        selected,
        stop_reason: record.stop_reason,
    })
}

/// The splits evaluated after every epoch.
struct Evaluated {
    /// Held out of the training split (`data.validation`), when the config asks for it.
    validation: Option<ImageSet>,
    test: ImageSet,
}

/// Builds the loaders, model and optimiser and runs Burn's `Learner` over them.
fn fit(
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
    let progress: Box<dyn Progress> = match show_dashboard {
        true => {
            let dashboard = TuiMetricsRendererWrapper::new(
                interrupter.clone(),
                (completed > 0).then_some(completed),
            );
            crate::signals::signal_keys_under_dashboard();
            Box::new(dashboard)
        }
        false => Box::new(PlainLines),
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
