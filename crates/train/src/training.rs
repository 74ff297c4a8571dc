//! One training run with Burn's `SupervisedTraining` + `Learner`: data loaders, model,
//! optimiser, metrics, checkpoints, and the artifacts a run leaves behind.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, anyhow};
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::module::Module;
use burn::prelude::Device;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::renderer::MetricsRenderer;
use burn::train::renderer::tui::TuiMetricsRendererWrapper;
use burn::train::{Interrupter, Learner, SupervisedTraining};
use mnist_data::provision::Provisioned;
use mnist_data::{MnistSplit, Split, VerifiedMnist};

use crate::artifacts::{self, EpochMetrics};
use crate::backend::BackendKind;
use crate::config::{ConfigError, ExperimentConfig, Location};
use crate::recorder::{EpochMetricLogger, EpochRecorder, History};

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
    /// Overrides the run folder.
    pub out: Option<&'a Path>,
    /// Write into a non-empty `out`.
    pub force: bool,
    pub display: Display,
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_dir: PathBuf,
    pub epochs: Vec<EpochMetrics>,
    pub seconds: f64,
}

/// Trains as `request` says and writes the run folder.
pub fn train(request: &RunRequest) -> anyhow::Result<RunOutcome> {
    let started = Instant::now();
    let started_at = chrono::Local::now().to_rfc3339();
    let config = request.config;
    let device = request.backend.device()?;
    let run_dir = artifacts::choose_run_dir(request.out, request.name, request.force)?;

    let (mnist, provisioned) = VerifiedMnist::ensure()?;
    if let Provisioned::Installed(files) = provisioned {
        eprintln!("Fetched and verified MNIST files: {}", files.join(", "));
    }
    let train_split = mnist.load(Split::Train, config.data.train_limit);
    let test_split = mnist.load(Split::Test, config.data.test_limit);
    check_batch_fits(request, &train_split)?;
    let sizes = SplitSizes {
        train: train_split.len(),
        test: test_split.len(),
    };

    artifacts::create_run_dir(&run_dir)?;
    let write = |file: &str, text: String| {
        let path = run_dir.join(file);
        artifacts::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("{}: cannot write", path.display()))
    };
    write(artifacts::CONFIG_FILE, config.to_toml())?;
    write(
        artifacts::RUN_FILE,
        run_record(request, &started_at, &device, sizes, None),
    )?;

    let show_dashboard = request.display == Display::Auto && std::io::stdout().is_terminal();
    if !show_dashboard {
        println!(
            "Training `{}` on {} ({:?}): {} train / {} test images, {} epochs, batch {}",
            request.name,
            request.backend,
            device,
            sizes.train,
            sizes.test,
            config.epochs,
            config.data.batch_size,
        );
    }

    let history = Arc::new(Mutex::new(History::default()));
    let model = fit(
        config,
        &device,
        train_split,
        test_split,
        &run_dir,
        show_dashboard,
        &history,
    )?;

    let model_path = run_dir.join(artifacts::MODEL_STEM);
    model
        .into_record()
        .save(&model_path)
        .map_err(|error| anyhow!("{}: cannot save the model: {error}", model_path.display()))?;

    let history = std::mem::take(&mut *history.lock().expect("history lock"));
    if let Some(error) = history.write_error {
        anyhow::bail!("cannot write the metrics: {error}");
    }
    let seconds = started.elapsed().as_secs_f64();
    write(
        artifacts::RUN_FILE,
        run_record(
            request,
            &started_at,
            &device,
            sizes,
            Some((seconds, history.epochs.last())),
        ),
    )?;
    Ok(RunOutcome {
        run_dir,
        epochs: history.epochs,
        seconds,
    })
}

/// Items in each split, after any limit.
#[derive(Debug, Clone, Copy)]
struct SplitSizes {
    train: usize,
    test: usize,
}

/// A batch larger than the (possibly sliced) training split can never be filled.
fn check_batch_fits(request: &RunRequest, train_split: &MnistSplit) -> Result<(), ConfigError> {
    let batch_size = request.config.data.batch_size;
    if batch_size <= train_split.len() {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        path: Location {
            file: request.config_path.to_path_buf(),
            line: None,
        },
        key: "data.batch_size".into(),
        reason: format!(
            "is {batch_size}, larger than the {} training images",
            train_split.len()
        ),
    })
}

/// Builds the loaders, model and optimiser and runs Burn's `Learner` over them.
fn fit(
    config: &ExperimentConfig,
    device: &Device,
    train_split: MnistSplit,
    test_split: MnistSplit,
    run_dir: &Path,
    show_dashboard: bool,
    history: &Arc<Mutex<History>>,
) -> anyhow::Result<mnist_model::LogisticRegression> {
    device.seed(config.seed);
    let batcher = config.data.batcher();
    let steps_per_epoch = train_split.len().div_ceil(config.data.batch_size);
    let mut train_loader = DataLoaderBuilder::new(batcher.clone())
        .batch_size(config.data.batch_size)
        .num_workers(config.data.num_workers)
        .set_device(device.clone());
    if config.data.shuffle {
        train_loader = train_loader.shuffle(config.seed);
    }
    let test_loader = DataLoaderBuilder::new(batcher)
        .batch_size(config.data.batch_size)
        .num_workers(config.data.num_workers)
        .set_device(device.clone());

    let interrupter = Interrupter::new();
    let dashboard = show_dashboard.then(|| {
        Box::new(TuiMetricsRendererWrapper::new(interrupter.clone(), None))
            as Box<dyn MetricsRenderer>
    });
    let recorder = EpochRecorder::new(
        dashboard,
        run_dir.join(artifacts::METRICS_FILE),
        history.clone(),
    );

    let training = SupervisedTraining::new(
        run_dir,
        train_loader.build(train_split),
        test_loader.build(test_split),
    )
    .metrics((AccuracyMetric::new(), LossMetric::new()))
    .with_metric_logger(EpochMetricLogger::default())
    .renderer(Box::new(recorder))
    .with_interrupter(interrupter)
    .with_application_logger(None)
    .with_default_checkpointers()
    .num_epochs(config.epochs);

    let model = config.model.init(&device.clone().autodiff());
    let learner = Learner::new(
        model,
        config.optimizer.optimizer(),
        config.optimizer.scheduler(config.epochs * steps_per_epoch),
    );
    let result = training.launch(learner);
    if let Some(error) = result.error {
        anyhow::bail!("training failed: {error}");
    }
    if let Some(interruption) = result.interrupted {
        anyhow::bail!(
            "training stopped early: {}",
            interruption.reason.as_deref().unwrap_or("interrupted")
        );
    }
    Ok(result.model)
}

/// `run.toml`: what ran, on what, and (once finished) how it ended.
fn run_record(
    request: &RunRequest,
    started_at: &str,
    device: &Device,
    sizes: SplitSizes,
    finished: Option<(f64, Option<&EpochMetrics>)>,
) -> String {
    let mut record = toml::Table::new();
    let mut put = |key: &str, value: toml::Value| {
        record.insert(key.to_string(), value);
    };
    put("name", request.name.into());
    put(
        "config_file",
        request.config_path.display().to_string().into(),
    );
    put("backend", request.backend.name().into());
    put("device", format!("{device:?}").into());
    put("train_items", (sizes.train as i64).into());
    put("test_items", (sizes.test as i64).into());
    put("started", started_at.into());
    if let Some((seconds, last)) = finished {
        put("wall_seconds", seconds.into());
        if let Some(last) = last {
            put("epochs_completed", (last.epoch as i64).into());
            put("final_test_accuracy", last.test_acc.into());
            put("final_test_loss", last.test_loss.into());
        }
    }
    toml::to_string_pretty(&record).expect("a table serialises")
}
